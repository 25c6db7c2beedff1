//! Every bound the event log enforces, named, with the reason for its number.
//!
//! Exceeding a limit on input is an `Invalid` error (or `StoreFailure::PageTooLarge` for reads)
//! that names the constant; nothing is ever silently truncated.

/// Events in one append request. A command produces a handful of events; importing a stream's
/// history goes through `append_many` with many requests. 1,024 keeps one request well inside
/// one group commit.
pub const EVENTS_PER_REQUEST_MAX: usize = 1024;

/// Payload bytes of one event. Contact summaries, encrypted identifier sets and satisfaction
/// comments are a few KiB; 256 KiB leaves room for long free text while keeping one record a
/// small fraction of a packed chunk and of a group.
pub const PAYLOAD_BYTES_MAX: usize = 256 * 1024;

/// Payload bytes of all events in one append request (or one `import_recorded` call), so that
/// one request cannot monopolise a group commit: 4 MiB is 16 maximal events.
pub const REQUEST_PAYLOAD_BYTES_MAX: usize = 4 * 1024 * 1024;

/// Bytes of an event type name (`ContactRecorded`, `PolicyIssued` …).
pub const EVENT_TYPE_BYTES_MAX: usize = 128;

/// Bytes of an origin system name (`telephony`, `wechat`, `claims` …).
pub const ORIGIN_BYTES_MAX: usize = 64;

/// Records in one `import_recorded` call. Import feeds exported records in pages; 4,096 keeps
/// one page inside one group commit of a few MiB.
pub const IMPORT_RECORDS_MAX: usize = 4096;

/// Default for `StoreOptions::group_events_max`: events the writer packs into one durable group
/// commit. Larger groups amortise the fdatasync further but hold early callers longer; at
/// ~1 KiB per event 2,048 events are a 2 MiB write.
pub const GROUP_EVENTS_DEFAULT: usize = 2048;

/// Upper bound accepted for `StoreOptions::group_events_max`.
pub const GROUP_EVENTS_MAX: usize = 65_536;

/// Payload bytes the writer gathers into one group before it commits (a single request larger
/// than this still commits, alone). Bounds the memory of one group and the size of one write.
pub const GROUP_PAYLOAD_BYTES_MAX: usize = 32 * 1024 * 1024;

/// Default for `StoreOptions::queue_capacity`: requests (or `append_many` batches) waiting for
/// the writer. A full queue makes callers wait (back-pressure) instead of growing memory.
pub const QUEUE_CAPACITY_DEFAULT: usize = 4096;

/// Upper bound accepted for `StoreOptions::queue_capacity`.
pub const QUEUE_CAPACITY_MAX: usize = 1 << 20;

/// Events returned by one `read_all` or `read_stream` call. A page of 4,096 events of ~1 KiB is
/// 4 MiB in memory; callers page with the returned positions.
pub const READ_PAGE_MAX: usize = 4096;

/// Events a subscription reads per catch-up page.
pub const SUBSCRIPTION_PAGE_EVENTS: usize = 512;

/// Target size of one packed value (a chunk of consecutive records) in bytes, counted before
/// compression. sled charges ~10 µs per key written, so records are packed (16 KiB is ~40
/// records of ~400 bytes, 0.25 µs of key cost per record); but a stream read decompresses and
/// decodes the whole chunk that holds each of its records, and a sled leaf holding ~17 chunks
/// must stay under sled's blob threshold (see `SLED_SEGMENT_BYTES`), so chunks stay small. A
/// chunk closes once adding the next record would pass this size; a single larger record gets
/// a chunk of its own. Measured with compression (`examples/chunk_ratio.rs`,
/// `examples/bulk_append.rs` on a 347 k-event seeded ledger): 32 KiB chunks compress ~2% better
/// (0.655 against 0.671) with the same bytes on disk and import rate within this machine's
/// noise (1.23–1.28× against 1.27–1.31× raw; 137–182 k/s against 130–153 k/s); 64 KiB chunks
/// pass the blob threshold (1.55–1.68× raw, 123–126 k/s). So 16 KiB stays: stream reads
/// decode no more than before.
pub const CHUNK_BYTES_TARGET: usize = 16 * 1024;

/// zstd level of a compressed chunk (`CHUNK_FORMAT_ZSTD`). Measured on `ledger-synth`
/// histories with sealed payloads (`examples/chunk_ratio.rs`): compressed / canonical bytes of
/// 16 KiB chunks is 0.671 at level 1 (~400 MB/s), 0.665 at 3 (~240 MB/s), 0.651 at 15
/// (~13 MB/s) — the hashes and the sealed ciphertext do not compress — so the fastest level.
pub const CHUNK_ZSTD_LEVEL: i32 = 1;

/// Bytes a compressed chunk may decompress to; a frame that says more is refused before
/// anything is allocated. A chunk holds at most `CHUNK_BYTES_TARGET` bytes of records, or one
/// larger record: at most `PAYLOAD_BYTES_MAX` of payload and under 1 KiB of other fields (ids,
/// names bounded by their own limits); 64 KiB more covers those fields and the chunk's framing
/// (a length per record, the previous hash). A test builds the largest chunks the writer can.
pub const CHUNK_DECODED_BYTES_MAX: usize = CHUNK_BYTES_TARGET + PAYLOAD_BYTES_MAX + 64 * 1024;

/// Bytes of stored chunks a walk of the log (opening, `verify`, `verify_dir`) reads between two
/// nudges of sled's cache. sled 0.34 records every page access in one of its cache's 256 shards
/// (by page id) and only looks at a shard's accesses, evicting from it, once 64 have queued
/// there; a walk reads each page only a few times, so its shards hardly ever filled and almost
/// every page it read stayed in memory. A nudge reads the last chunk's key 65 more times, which
/// fills that page's shard, so sled evicts from it down to its share of the cache. The nudged
/// pages fall in every shard in turn, so each shard holds little more than its share. Measured
/// (`examples/sled_walk_cache.rs`, sled alone): the 10 M-event log walked in 0.72 s at a peak
/// of 70 MiB with 64 KiB between nudges, against 0.82 s and 1,213 MiB without; the 1 M log,
/// 40 MiB (76 MiB with 256 KiB between nudges, 176 without). The cache's capacity (1 to
/// 32 MiB) changed nothing there: sled keeps at least one page in each shard.
///
/// The walk used to close and reopen the database every 32 MiB of chunks instead, and sled's
/// recovery at every open writes zeros over every free segment of the file: live appends free
/// segments in the log's database, so after ~30 k of them a 10 M-event start wrote 19 GB and
/// was ready after 48–53 s instead of 27–31.
pub const WALK_EVICT_BYTES: u64 = 64 * 1024;

/// Problems `verify` lists before it only counts them, so a badly damaged log does not produce
/// a report of unbounded size.
pub const VERIFY_PROBLEMS_MAX: usize = 1000;

/// sled's segment size in bytes. sled writes any log message larger than a quarter segment
/// minus headers into its own file under `blobs/` (which then needs its own fsync). A B-tree leaf
/// holds up to ~17 values and is rewritten whole when sled consolidates it, so with 16 KiB chunks
/// a leaf is ~280 KiB: 2 MiB segments (512 KiB threshold) keep it inline. Blobs can still occur
/// (a leaf of several maximal records), and the durability step fsyncs them. Measured here:
/// 8 MiB segments halved the rate of small group commits, 512 KiB segments wrote a blob on
/// most bulk commits. Fixed when a store is created: sled refuses another size on reopen.
pub const SLED_SEGMENT_BYTES: usize = 2 * 1024 * 1024;

/// Default for `StoreOptions::cache_bytes`: sled's page cache, for each of the two databases
/// (the log's and the read models'). The log is written once and read mostly at the tail, and
/// the read models are packed ~4 KiB of entries a key, so 16 MiB keeps recent chunks and the
/// blocks in use hot without holding sled's 1 GiB default. sled 0.34 overshoots its capacity
/// while a long read goes on. The server on the 10 M-event ledger, by hand: peak RSS after the
/// timeline load 493 MiB at 32 MiB (with 32 MiB open windows), 509–537 MiB at 64 MiB, with the
/// same 113–136 µs of CPU a timeline page, while both shared one database; with the read models
/// in their own, 396–404 MiB once ready and 450 MiB after the load, 112–113 µs a page.
/// Pages of many customers are another load: sled's cache counts a page by its bytes in the
/// log, and a page in memory takes more (each key and value its own allocation), so the heap
/// grows well past the capacity before eviction holds it. Timelines of 50,000 customers drawn
/// at random for 100 s (wrk, 16 connections) on the 10 M ledger, same build otherwise: at
/// 32 MiB the server leveled off at 485–493 MiB (peak 504); at 16 MiB at 441–460 (peak 466),
/// at the same 8–9.5 k pages/s; the 1 M `replay` took 11.4–11.6 s at either size.
pub const CACHE_BYTES_DEFAULT: u64 = 16 * 1024 * 1024;

/// Access records waiting for the access writer (`access_log`). A record is ~100 bytes, so a
/// full queue is under 1 MiB; at the writer's pace (thousands of records per batch commit) it
/// takes a stalled disk, not a busy call centre, to fill it. A reader who finds it full waits
/// (up to `ACCESS_QUEUE_WAIT_MS`) rather than go unrecorded.
pub const ACCESS_QUEUE_RECORDS_MAX: usize = 8192;

/// Access records the writer commits in one batch (one transaction over the three access trees
/// and one fdatasync). Bounds the memory and the size of one write.
pub const ACCESS_BATCH_RECORDS_MAX: usize = 2048;

/// The widest span of read times (`at`) one pack of the by-customer or by-subject access index
/// covers (`access_log`: a batch's records of one customer, or of one subject, share a key).
/// A page reads the packs up to this much newer than its upper bound, since they may hold older
/// records; a batch spans about `ACCESS_FLUSH_INTERVAL_MS`, so one second keeps a batch's
/// records of one customer in one pack even behind a slow disk, and a page's extra reading to
/// one second of records.
pub const ACCESS_PACK_SPAN_MS: u64 = 1_000;

/// The most access records one pack of `access:by-time` holds (`access_log`: a batch's records
/// share keys, each pack under its newest stamp and spanning at most `ACCESS_PACK_SPAN_MS`).
/// sled 0.34 keeps ~26 bytes of memory per key at every open, and a key per record made the
/// access log the store's largest key count (4.3 M keys after a day of benchmarks on the 10 M
/// ledger, twice its read models' blocks). Reading one record from an index decodes its pack,
/// so packs stay small enough for that: 256 records are ~20 ms of a busy server's reads.
pub const ACCESS_TIME_PACK_RECORDS_MAX: usize = 256;

/// How long the access writer gathers records after the first one of a batch before it
/// commits: an access record is durable at most this long (plus one commit) after the read it
/// records was answered. 5 ms is at most 200 fdatasyncs a second beside the event log's.
///
/// Short, because a commit holds sled's global lock: sled 0.34 makes every read (a `get`, each
/// step of a range) take the read side of one process-wide `RwLock` once any batch or
/// transaction has run, and a batch or transaction holds its write side throughout. A batch of
/// 20 ms of an agent load's records (~400 at 10 k pages/s) held every reader for ~2 ms; a
/// quarter of that holds them a quarter as long. Measured at 10 M events, 16 connections of
/// timeline pages, CPU per page equal (121–128 µs): p99 5.22–5.89 ms at 20 ms, 4.66–4.97 ms at
/// 5 ms.
pub const ACCESS_FLUSH_INTERVAL_MS: u64 = 5;

/// How long a read waits for room in a full access queue before it fails `Unavailable`: a read
/// that cannot be recorded is refused, never served unrecorded; five seconds rides out a slow
/// fsync without holding an agent's call for long.
pub const ACCESS_QUEUE_WAIT_MS: u64 = 5_000;

/// Bytes of the subject (the token's staff or system id) in an access record.
pub const ACCESS_SUBJECT_BYTES_MAX: usize = 128;

/// Bytes of the role name in an access record (`supervisor` is the longest today).
pub const ACCESS_ROLE_BYTES_MAX: usize = 32;

/// Bytes of the operation name in an access record (`customerByIdentifier`,
/// `serviceCase.customer` ...).
pub const ACCESS_OPERATION_BYTES_MAX: usize = 64;

/// Access records returned by one `AccessLog::page` call.
pub const ACCESS_PAGE_MAX: usize = 500;
