//! The event log's integration tests: access records, basics and idempotency, the model-based property test,
//! concurrency and group commit, subscriptions, injected IO faults, the stored chunk formats,
//! tampering, and limits. The
//! crash test is its own binary (`tests/crash.rs`) so `make soak` can run it alone.

mod access;
mod basics;
mod common;
mod concurrency;
mod faults;
mod formats;
mod limits;
mod model;
mod subscription;
mod tamper;
