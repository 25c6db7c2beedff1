//! How well the log's chunks compress, to choose `CHUNK_BYTES_TARGET` and `CHUNK_ZSTD_LEVEL`:
//! reads every record of a closed store, packs them (record bytes and hash, as a chunk holds
//! them) into chunks of each candidate size, compresses each chunk at each candidate level, and
//! prints compressed bytes against the records' canonical bytes and the compression rate.
//!
//! `cargo run --release -p ledger-store --example chunk_ratio -- DATA_DIR`

use std::time::Instant;

use ledger_domain::ids::Position;
use ledger_store::limits::READ_PAGE_MAX;
use ledger_store::{EventLog, SledEventLog, StoreOptions, encode_record};

const TARGETS: [usize; 4] = [16 * 1024, 32 * 1024, 64 * 1024, 128 * 1024];
const LEVELS: [i32; 5] = [1, 3, 6, 9, 15];

fn main() {
    let dir = std::env::args()
        .nth(1)
        .expect("usage: chunk_ratio DATA_DIR (a closed store)");
    let log = SledEventLog::open(dir.as_ref(), StoreOptions::default()).expect("the store opens");
    let mut records: Vec<Vec<u8>> = Vec::new();
    let mut from = Position(1);
    loop {
        let page = log.read_all(from, READ_PAGE_MAX).expect("the log reads");
        let Some(last) = page.last() else { break };
        from = last.position.next();
        for record in &page {
            let mut bytes = encode_record(record);
            bytes.extend_from_slice(&record.hash);
            records.push(bytes);
        }
    }
    drop(log);
    let raw: usize = records.iter().map(|bytes| bytes.len() - 32).sum();
    println!(
        "{} records, {raw} canonical bytes ({:.0} per record); with hashes {:.0} per record",
        records.len(),
        to_f64(raw) / to_f64(records.len()),
        to_f64(raw + 32 * records.len()) / to_f64(records.len())
    );
    println!("target_bytes level compressed/raw MB/s_in");
    for target in TARGETS {
        let mut chunks: Vec<Vec<u8>> = vec![Vec::new()];
        for bytes in &records {
            let current = chunks.last_mut().expect("one chunk");
            if !current.is_empty() && current.len() + bytes.len() > target {
                chunks.push(bytes.clone());
            } else {
                current.extend_from_slice(bytes);
            }
        }
        for level in LEVELS {
            let mut compressor = zstd::bulk::Compressor::new(level).expect("a compressor");
            let started = Instant::now();
            let compressed: usize = chunks
                .iter()
                .map(|chunk| compressor.compress(chunk).expect("compresses").len())
                .sum();
            let seconds = started.elapsed().as_secs_f64();
            let input: usize = chunks.iter().map(Vec::len).sum();
            println!(
                "{target} {level} {:.3} {:.0}",
                to_f64(compressed) / to_f64(raw),
                to_f64(input) / seconds / 1e6
            );
        }
    }
}

fn to_f64(count: usize) -> f64 {
    // Counts here stay far below 2^32 (a store read whole into memory).
    f64::from(u32::try_from(count).unwrap_or(u32::MAX))
}
