//! End-to-end tests: the `contact-ledger` binary driven as a user would.

mod abuse;
mod api;
mod cli;
mod csv_import;
mod disk_faults;
mod erasure;
mod fixture;
mod foreign_subjects;
mod http_errors;
mod import_fixes;
mod import_rules;
mod integrator;
mod kill_loop;
mod leaks;
mod live;
mod privacy;
mod proofs;
mod recovery;
mod server;
mod subscriptions;
