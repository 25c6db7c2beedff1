//! The contact ledger's domain: what can be said about an insurer's customers and how.
//!
//! - [`ids`]: newtype identifiers (customers, cases, streams, event ids, positions).
//! - [`values`]: validated values (phone numbers, ID cards, plates, VINs, money, scores); a bad
//!   value is a [`ValidationError`] naming the field and the rule.
//! - [`events`]: the v1 event catalogue, each event with a stable type name and schema version.
//! - [`commands`] and [`aggregates`]: decide (`handle`) holds every business rule and returns
//!   events or a [`DomainError`]; evolve (`apply`) only folds state.
//! - [`kinds`]: the enumerations and small structures payloads share (product lines, case
//!   kinds, outcomes ...); [`samples`]: one valid instance of every event type.
//! - [`projection`]: the contract between a read model's fold and the runner that feeds it.
//! - [`personal`]: which payload fields are personal data and their erased values.
//! - [`codec`]: the one place where bytes are encoded and decoded (bincode 2.0.1).
//!
//! This crate does no IO and knows nothing of sled, async runtimes or GraphQL.

pub mod aggregates;
pub mod civil;
pub mod codec;
pub mod commands;
pub mod error;
pub mod events;
pub mod ids;
pub mod kinds;
pub mod personal;
pub mod projection;
pub mod samples;
pub mod values;

pub use error::{DomainError, ValidationError};
