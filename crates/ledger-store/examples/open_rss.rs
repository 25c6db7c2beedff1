//! What opening a store holds in memory: the process's resident set (`VmRSS`) and its peak
//! (`VmHWM`) before and after `SledEventLog::open`, and the indexes' own estimate.
//!
//! `cargo run --release -p ledger-store --example open_rss -- DATA_DIR [CACHE_MIB]`

use std::time::Instant;

use ledger_store::{EventLog, SledEventLog, StoreOptions};

#[path = "support/proc_status.rs"]
mod proc_status;
use proc_status::status_kib;

fn report(when: &str) {
    println!(
        "{when}: VmRSS {} MiB, VmHWM {} MiB",
        status_kib("VmRSS:") / 1024,
        status_kib("VmHWM:") / 1024
    );
}

fn main() {
    let mut args = std::env::args().skip(1);
    let dir = args
        .next()
        .expect("usage: open_rss DATA_DIR [CACHE_MIB] (a closed store)");
    let mut options = StoreOptions::default();
    if let Some(mebibytes) = args.next() {
        options.cache_bytes = mebibytes.parse::<u64>().expect("CACHE_MIB is a number") << 20;
    }
    report("before open");
    let started = Instant::now();
    let log = SledEventLog::open(dir.as_ref(), options).expect("the store opens");
    println!(
        "opened {} events in {:.2} s; indexes ~{} MiB by their own estimate",
        log.head().event_count,
        started.elapsed().as_secs_f64(),
        log.stats().index_bytes >> 20
    );
    report("after open");
}
