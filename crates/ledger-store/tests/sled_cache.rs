//! sled's memory and disk, against the two patches in `crates/sled` (see its PATCHED.md): its
//! page cache stays near its `cache_capacity` when every page is read once, and a tree of
//! small entries written in random order is kept in few pages.
//!
//! sled 0.34.7 counts a page against its cache only when that page's shard (one of 256) has
//! queued 64 accesses, so a walk that reads each leaf once (the open's walk, `verify`, the
//! segment cleaner relocating pages, reads of many customers) kept up to 256 × 63 leaves
//! cached and uncounted. The copy in `crates/sled` queues 4. And the release split every leaf
//! at 16 entries whatever their size, so an index of small entries was a page (with its
//! memory at every open) for every ~9 of them; the copy fills a leaf to 4 KiB first. Each test
//! fails against the release as published.
//!
//! It reads the process's anonymous resident memory, so it is a test binary of its own, and
//! its tests take turns (`MEASURING`): no other test runs beside one that measures.

/// Keys written: ~8,000 leaves of ~9 values, ~31 leaves a shard, fewer than 64 accesses each.
const KEYS: u64 = 72_000;
/// Bytes of each value: ~73 MiB in all, each leaf ~9 KiB.
const VALUE_BYTES: usize = 1024;
/// sled's cache for the test: far below what the walk reads.
const CACHE_BYTES: u64 = 1024 * 1024;
/// The most the walk may add to the resident set: 4 accesses a shard leave at most 256 × 3
/// leaves uncounted (~7 MiB here), where 64 left every leaf of this tree (~73 MiB).
const GROWTH_MAX_BYTES: u64 = 24 * 1024 * 1024;

/// Small entries written in random key order, a few at a time, as the access writer adds
/// them to its index by customer when reads are spread over many customers: ~70 bytes each.
const SMALL_ENTRIES: u64 = 200_000;
/// Entries between two flushes of the small tree.
const SMALL_FLUSH_EVERY: u64 = 20;
/// The most the small tree's database may take on disk: leaves split at 16 entries, as the
/// release splits them, took 46.7 MB here, leaves of up to 4 KiB of entries 32.0 MB. (What
/// the pages cost in memory is measured at a larger scale by `examples/access_rss.rs`:
/// 1 M access records over 50,000 customers opened at 61 MiB with the release's leaves, at
/// 22 MiB with these.)
const SMALL_DATABASE_MAX_BYTES: u64 = 40_000_000;

/// One test measures at a time.
static MEASURING: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// The calling test's turn to measure, held until the guard drops.
fn take_turn() -> std::sync::MutexGuard<'static, ()> {
    MEASURING
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

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
    let _turn = take_turn();
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

#[test]
fn small_entries_in_random_order_fill_their_leaves() {
    let _turn = take_turn();
    let dir = tempfile::tempdir().expect("a temporary directory");
    let db = open(dir.path());
    let tree = db.open_tree("small").expect("a tree");
    // xorshift: a customer-like 16-byte prefix in random order, then a stamp.
    let mut state = 0x9E37_79B9_7F4A_7C15_u64;
    for stamp in 0..SMALL_ENTRIES {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let mut key = Vec::with_capacity(40);
        key.extend_from_slice(&state.to_be_bytes());
        key.extend_from_slice(&state.rotate_left(29).to_be_bytes());
        key.extend_from_slice(&[0; 8]);
        key.extend_from_slice(&stamp.to_be_bytes());
        key.extend_from_slice(&[0; 8]);
        tree.insert(key, vec![7_u8; 30]).expect("inserting");
        if stamp % SMALL_FLUSH_EVERY == SMALL_FLUSH_EVERY - 1 {
            db.flush().expect("flushing");
        }
    }
    db.flush().expect("flushing");
    let bytes = std::fs::metadata(dir.path().join("db"))
        .expect("sled's file")
        .len();
    eprintln!("{SMALL_ENTRIES} small entries took {bytes} bytes on disk");
    assert_eq!(tree.len(), usize::try_from(SMALL_ENTRIES).expect("fits"));
    assert!(
        bytes <= SMALL_DATABASE_MAX_BYTES,
        "{SMALL_ENTRIES} entries of ~70 bytes took {bytes} bytes on disk (at most {SMALL_DATABASE_MAX_BYTES}): leaves of small entries split as if they were large"
    );
}
