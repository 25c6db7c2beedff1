//! What walking a log's chunks leaves in sled 0.34's cache, with and without the walk's nudges
//! (see `ledger_store::limits::WALK_EVICT_BYTES`): sled alone, no decoding. Opening a sled
//! database writes to it, so point it at a copy of a closed ledger's `log/` directory.
//!
//! `cargo run --release -p ledger-store --example sled_walk_cache -- COPY_OF_LOG_DIR [EVICT_BYTES]`
//!
//! `EVICT_BYTES` is the chunk bytes read between nudges; 0 walks without any. With
//! `CACHE_BYTES=N` in the environment, sled's cache capacity is N (default the store's).

use std::time::Instant;

use ledger_store::limits::{CACHE_BYTES_DEFAULT, SLED_SEGMENT_BYTES, WALK_EVICT_BYTES};

#[path = "support/proc_status.rs"]
mod proc_status;
use proc_status::status_kib;

/// sled's `MAX_QUEUE_ITEMS` + 1, as in the store's walk.
const NUDGE_READS: usize = 65;

fn main() {
    let mut args = std::env::args().skip(1);
    let dir = args
        .next()
        .expect("usage: sled_walk_cache COPY_OF_LOG_DIR [EVICT_BYTES]");
    let evict_bytes: u64 = args.next().map_or(WALK_EVICT_BYTES, |bytes| {
        bytes.parse().expect("EVICT_BYTES")
    });
    let cache_bytes: u64 = std::env::var("CACHE_BYTES").map_or(CACHE_BYTES_DEFAULT, |bytes| {
        bytes.parse().expect("CACHE_BYTES")
    });
    let started = Instant::now();
    let db = sled::Config::new()
        .path(&dir)
        .segment_size(SLED_SEGMENT_BYTES)
        .cache_capacity(cache_bytes)
        .open()
        .expect("sled opens the copy");
    let tree = db.open_tree("log").expect("the log's tree");
    println!(
        "opened in {:.2?}: VmHWM {} MiB",
        started.elapsed(),
        status_kib("VmHWM:") / 1024
    );
    let started = Instant::now();
    let (mut chunks, mut bytes, mut unevicted, mut nudges) = (0_u64, 0_u64, 0_u64, 0_u64);
    for entry in tree.scan_prefix([b'c']) {
        let (key, value) = entry.expect("sled reads the chunk");
        let length = u64::try_from(value.len()).expect("a length");
        chunks += 1;
        bytes += length;
        unevicted += length;
        if evict_bytes > 0 && unevicted >= evict_bytes {
            unevicted = 0;
            nudges += 1;
            for _ in 0..NUDGE_READS {
                std::hint::black_box(tree.get(&key).expect("sled reads the chunk again"));
            }
        }
    }
    println!(
        "walked {chunks} chunks ({} MiB) in {:.2?} with {nudges} nudges: VmRSS {} MiB, VmHWM {} MiB",
        bytes / 1024 / 1024,
        started.elapsed(),
        status_kib("VmRSS:") / 1024,
        status_kib("VmHWM:") / 1024
    );
}
