//! `make bench`: the ledger's system-level figures (issue 8), each beside its target and, where
//! the issue asks, beside PostgreSQL measured in the same run.
//!
//! # Components
//!
//! - [`profile`]: the two sizes of the suite (`quick` and `full`) and every bound they set.
//! - [`dataset`]: the synthetic history (`ledger-synth`) plus one busy customer, as append
//!   requests for the ledger and rows for PostgreSQL.
//! - [`scale`]: the 10 M-event ledger of figures 5 to 8, streamed from `ledger-synth` once and
//!   reused by later runs.
//! - [`figures`]: one module per figure or pair of figures; each returns [`report::Figure`]s.
//! - [`postgres_side`]: the PostgreSQL schema and the same workloads over the `postgres` client.
//! - [`server`]: the `contact-ledger serve` child process, a bare HTTP client, and `wrk`.
//! - [`strace`]: the durability proof: parse `strace -c` and check acks against sync calls.
//! - [`report`]: the table printed at the end and `BENCHMARKS.md`.
//! - [`stats`], [`machine`]: latency percentiles; what the machine is.
//!
//! # How a run flows
//!
//! `tools/bench/run.sh` starts a throw-away PostgreSQL when none answers, then runs
//! `ledger-bench run`: the raw disk, the dataset, bulk import (ledger, then PostgreSQL), the
//! durability check (this binary again under `strace`), concurrent appends, rebuild, the
//! scale ledger (built on the first run), the in-process reads on it, then a server on it for the HTTP, subscription and footprint figures; last the
//! table and `BENCHMARKS.md`.

pub mod dataset;
pub mod figures;
pub mod machine;
pub mod postgres_side;
pub mod profile;
pub mod report;
pub mod run;
pub mod scale;
pub mod server;
pub mod stats;
pub mod strace;

/// The master key of every bench ledger (a fixed, public test key: the bench measures the cost
/// of sealing, not the secrecy of synthetic data), in hex for the `serve` child.
pub const BENCH_MASTER_KEY_HEX: &str =
    "0707070707070707070707070707070707070707070707070707070707070707";

/// Key options for bench ledgers: [`BENCH_MASTER_KEY_HEX`] and random data keys.
pub fn bench_keys() -> ledger_app::KeyOptions {
    ledger_app::KeyOptions::insecure_for_tests()
}
