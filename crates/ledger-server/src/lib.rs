//! The `contact-ledger` binary's library: the HTTP server ([`server::app`]), its configuration,
//! and the command line's subcommands.
//!
//! - [`cli`]: argument parsing and dispatch; [`commands`]: one file per subcommand.
//! - [`server`]: `app(state) -> Router` (GraphQL, subscriptions, GraphiQL, health, metrics).
//! - [`config`]: `ledger.toml` (listen address, bearer tokens and their roles, the checkpoint
//!   signing key).
//! - [`interchange`]: the NDJSON event format of `import` and `export`.
//! - [`data_directory`]: a new data directory its owner's only; a warning for one others enter.

pub mod cli;
pub mod commands;
pub mod config;
pub mod contacts_csv;
pub mod data_directory;
pub mod import_rules;
pub mod interchange;
pub mod keys;
pub mod progress;
pub mod server;
