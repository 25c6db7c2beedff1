//! The store's part of the bulk import (figure 2) and of the log's footprint (figure 8b) on
//! real events, without the caller's work: copies every event of a closed store (e.g. a
//! `ledger-bench` ledger, whose payloads are sealed as imported ones are) into a fresh store
//! through `append_many` in batches of 4,096 single-event requests, as `import` does, and
//! prints the rate, the writer thread's CPU time per event, the group commits, and the new
//! store's bytes on disk against the events' canonical bytes.
//!
//! `cargo run --release -p ledger-store --example bulk_append -- SOURCE_DIR SCRATCH_DIR [RUNS]`
//! (SCRATCH_DIR/copy is deleted and rewritten by every run.)

use std::path::Path;
use std::time::Instant;

use ledger_domain::ids::Position;
use ledger_store::limits::READ_PAGE_MAX;
use ledger_store::{
    AppendRequest, EventLog, ExpectedVersion, SledEventLog, StoreOptions, encode_record,
};

/// Requests per `append_many`, as `import` and `ledger-bench` hand them over.
const BATCH_REQUESTS: usize = 4096;

/// Clock ticks of CPU (user + system) the thread named `name` has used so far.
fn thread_ticks(name: &str) -> u64 {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return 0;
    };
    let mut ticks = 0;
    for task in tasks.flatten() {
        let comm = std::fs::read_to_string(task.path().join("comm")).unwrap_or_default();
        if comm.trim() != name {
            continue;
        }
        let stat = std::fs::read_to_string(task.path().join("stat")).unwrap_or_default();
        // Fields after the parenthesised command: state is field 3, utime 14, stime 15.
        let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
        let fields: Vec<&str> = after.split_whitespace().collect();
        let field = |index: usize| {
            fields
                .get(index)
                .and_then(|text| text.parse::<u64>().ok())
                .unwrap_or(0)
        };
        ticks += field(11) + field(12);
    }
    ticks
}

fn bytes_under(path: &Path) -> u64 {
    let Ok(metadata) = std::fs::symlink_metadata(path) else {
        return 0;
    };
    if !metadata.is_dir() {
        return metadata.len();
    }
    std::fs::read_dir(path)
        .map(|entries| {
            entries
                .flatten()
                .map(|entry| bytes_under(&entry.path()))
                .sum()
        })
        .unwrap_or(0)
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let mut args = std::env::args().skip(1);
    let usage = "usage: bulk_append SOURCE_DIR SCRATCH_DIR [RUNS]";
    let source = args.next().expect(usage);
    let scratch = std::path::PathBuf::from(args.next().expect(usage));
    let runs: usize = args.next().map_or(1, |text| text.parse().expect(usage));

    let log = SledEventLog::open(source.as_ref(), StoreOptions::default()).expect("source opens");
    let mut requests = Vec::new();
    let mut raw_bytes = 0_u64;
    let mut from = Position(1);
    loop {
        let page = log.read_all(from, READ_PAGE_MAX).expect("the source reads");
        let Some(last) = page.last() else { break };
        from = last.position.next();
        for record in page {
            raw_bytes += u64::try_from(encode_record(&record).len()).expect("a length");
            requests.push(AppendRequest {
                stream: record.stream,
                expected: ExpectedVersion::Exact(record.stream_version - 1),
                events: vec![record.event],
            });
        }
    }
    log.close().await.expect("the source closes");
    drop(log);
    let events = u64::try_from(requests.len()).expect("a count");
    println!("{events} events, {raw_bytes} canonical bytes");

    for _ in 0..runs {
        let dir = scratch.join("copy");
        let _ = std::fs::remove_dir_all(&dir);
        let copy = SledEventLog::open(&dir, StoreOptions::default()).expect("the copy opens");
        let batches: Vec<Vec<AppendRequest>> = requests
            .chunks(BATCH_REQUESTS)
            .map(<[AppendRequest]>::to_vec)
            .collect();
        let ticks_before = thread_ticks("ledger-store-wr");
        let started = Instant::now();
        for batch in batches {
            for outcome in copy
                .append_many(batch)
                .await
                .expect("the store takes writes")
            {
                outcome.expect("every event is appended");
            }
        }
        let ticks = thread_ticks("ledger-store-wr") - ticks_before;
        let stats = copy.stats();
        copy.close().await.expect("the copy closes");
        let elapsed = started.elapsed().as_secs_f64();
        drop(copy);
        let disk = bytes_under(&dir);
        let to_f64 = |count: u64| f64::from(u32::try_from(count).unwrap_or(u32::MAX));
        println!(
            "{:.0} events/s ({elapsed:.2} s); writer CPU {:.2} µs/event; {} groups; disk {:.2}× raw ({disk} bytes)",
            to_f64(events) / elapsed,
            to_f64(ticks) * 10_000.0 / to_f64(events),
            stats.groups,
            to_f64(disk) / to_f64(raw_bytes),
        );
    }
}
