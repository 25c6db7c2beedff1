//! Figure 2 alone, for profiling: builds the bench's dataset of EVENTS events (as `make bench`
//! does), imports it through `figures::import::bulk` into SCRATCH_DIR/import (deleted first),
//! and prints the rate, the CPU the process used while the import was timed, and each thread's
//! CPU by name (the store's writer is `ledger-store-wr`; the sealing threads are named after
//! the process and end with each chunk, so most of theirs shows only in the process's total).
//!
//! `cargo run --release -p ledger-bench --example import_alone -- SCRATCH_DIR [EVENTS]`

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use ledger_bench::dataset;
use ledger_bench::figures::import;
use ledger_bench::machine::{PROC_TICKS_PER_SECOND, process_ticks, thread_ticks};
use ledger_bench::profile::HOT_ENTRIES;
use ledger_bench::stats::{float, per_second};

#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// How often the sampler reads the threads' CPU times.
const SAMPLE_EVERY: Duration = Duration::from_millis(20);

/// What the sampler saw: each thread's last reading (threads that end keep theirs, up to one
/// sample short), and the process's ticks at each sample.
struct Sampled {
    threads: BTreeMap<u64, (String, u64)>,
    process: Vec<(Duration, u64)>,
}

fn sample(stop: &AtomicBool) -> Sampled {
    let started = Instant::now();
    let mut threads = thread_ticks();
    let mut process = vec![(started.elapsed(), process_ticks().unwrap_or(0))];
    while !stop.load(Ordering::Relaxed) {
        std::thread::sleep(SAMPLE_EVERY);
        threads.extend(thread_ticks());
        process.push((started.elapsed(), process_ticks().unwrap_or(0)));
    }
    Sampled { threads, process }
}

fn core_seconds(ticks: u64) -> f64 {
    float(ticks) / PROC_TICKS_PER_SECOND
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let mut args = std::env::args().skip(1);
    let usage = "usage: import_alone SCRATCH_DIR [EVENTS]";
    let scratch = std::path::PathBuf::from(args.next().expect(usage));
    let events: u64 = args
        .next()
        .map_or(1_000_000, |text| text.parse().expect(usage));
    let dataset = dataset::build(events, HOT_ENTRIES).expect("the dataset builds");
    let dir = scratch.join("import");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("the scratch dir is made");

    let before = thread_ticks();
    let stop = AtomicBool::new(false);
    let (imported, sampled) = std::thread::scope(|scope| {
        let sampler = scope.spawn(|| sample(&stop));
        let imported = tokio::task::block_in_place(|| {
            tokio::runtime::Handle::current().block_on(import::bulk(&dir, dataset.requests))
        });
        stop.store(true, Ordering::Relaxed);
        let sampled = sampler.join().expect("the sampler ends");
        (imported.expect("the import runs"), sampled)
    });

    println!(
        "{} events in {:.2} s: {:.0} events/s, {} groups, {} syncs, {:.2}× the raw bytes written",
        imported.events,
        imported.elapsed.as_secs_f64(),
        per_second(imported.events, imported.elapsed),
        imported.groups,
        imported.syncs,
        float(imported.written_bytes) / float(imported.raw_bytes.max(1))
    );
    // `bulk` reads the store back after the timed part: count only the samples inside it.
    let at_start = sampled.process.first().map_or(0, |(_, ticks)| *ticks);
    let at_end = sampled
        .process
        .iter()
        .rev()
        .find(|(at, _)| *at <= imported.elapsed)
        .map_or(at_start, |(_, ticks)| *ticks);
    let used = core_seconds(at_end.saturating_sub(at_start));
    println!(
        "  while timed: {used:.2} core-s, {:.2} cores busy on average",
        used / imported.elapsed.as_secs_f64()
    );
    let mut by_name: BTreeMap<String, u64> = BTreeMap::new();
    for (tid, (name, ticks)) in sampled.threads {
        let earlier = before.get(&tid).map_or(0, |(_, ticks)| *ticks);
        *by_name.entry(name).or_insert(0) += ticks.saturating_sub(earlier);
    }
    println!("  by thread, the read-back included:");
    for (name, ticks) in by_name.into_iter().filter(|(_, ticks)| *ticks > 0) {
        println!("    {name:<16} {:.2} core-s", core_seconds(ticks));
    }
}
