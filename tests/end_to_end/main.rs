//! End-to-end tests: the `contact-ledger` binary driven as a user would.

mod api;
mod cli;
mod erasure;
mod fixture;
mod proofs;
mod recovery;
mod server;
mod subscriptions;
