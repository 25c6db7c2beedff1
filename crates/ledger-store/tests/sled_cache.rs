//! sled's page cache stays near its `cache_capacity` when every page is read once.
//!
//! sled 0.34.7 counts a page against its cache only when that page's shard (one of 256) has
//! queued 64 accesses, so a walk that reads each leaf once (the open's walk, `verify`, the
//! segment cleaner relocating pages, reads of many customers) kept up to 256 × 63 leaves
//! cached and uncounted. The copy in `crates/sled` queues 4 (see its PATCHED.md); this test
//! fails against the release as published.
//!
//! It reads the process's anonymous resident memory, so it is a test binary of its own: no
//! other test runs in this process.

/// Keys written: ~8,000 leaves of ~9 values, ~31 leaves a shard, fewer than 64 accesses each.
const KEYS: u64 = 72_000;
/// Bytes of each value: ~73 MiB in all, each leaf ~9 KiB.
const VALUE_BYTES: usize = 1024;
/// sled's cache for the test: far below what the walk reads.
const CACHE_BYTES: u64 = 1024 * 1024;
/// The most the walk may add to the resident set: 4 accesses a shard leave at most 256 × 3
/// leaves uncounted (~7 MiB here), where 64 left every leaf of this tree (~73 MiB).
const GROWTH_MAX_BYTES: u64 = 24 * 1024 * 1024;

/// `RssAnon` of this process, in bytes: the heap, where sled keeps its cached pages.
fn anonymous_resident_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("reading /proc/self/status");
    let kib: u64 = status
        .lines()
        .find_map(|line| line.strip_prefix("RssAnon:"))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|value| value.parse().ok())
        .expect("an RssAnon line in /proc/self/status");
    kib * 1024
}

/// sled with the test's cache and no flusher thread: a thread pinned in sled's epoch (as the
/// flusher is, each time it runs) holds back the freeing of every page evicted meanwhile, and on
/// a loaded machine it may stay pinned long enough to count here.
fn open(path: &std::path::Path) -> sled::Db {
    sled::Config::new()
        .path(path)
        .cache_capacity(CACHE_BYTES)
        .flush_every_ms(None)
        .open()
        .expect("opening sled")
}

#[test]
fn a_walk_reading_each_leaf_once_keeps_the_cache_near_its_capacity() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    {
        let db = open(dir.path());
        for key in 0..KEYS {
            let value = vec![u8::try_from(key % 251).expect("below 251"); VALUE_BYTES];
            db.insert(key.to_be_bytes(), value).expect("inserting");
        }
        db.flush().expect("flushing");
    }
    // Reopened, so the pages are on disk and none is cached yet.
    let db = open(dir.path());
    let before = anonymous_resident_bytes();
    let mut walked = 0_u64;
    let mut bytes = 0_usize;
    for entry in db.iter() {
        let (_, value) = entry.expect("reading");
        walked += 1;
        bytes += value.len();
    }
    let growth = anonymous_resident_bytes().saturating_sub(before);
    eprintln!("walking {bytes} bytes grew the anonymous resident set by {growth} bytes");
    assert_eq!(walked, KEYS, "the walk read every key");
    assert_eq!(bytes, usize::try_from(KEYS).expect("fits") * VALUE_BYTES);
    assert!(
        growth <= GROWTH_MAX_BYTES,
        "walking {bytes} bytes grew the resident set by {growth} bytes (at most {GROWTH_MAX_BYTES}): sled's cache kept pages beyond its capacity of {CACHE_BYTES}"
    );
}
