//! The contact ledger's event log: a durable, hash-chained, group-committed append log on sled.
//! The store is payload-agnostic: payloads are opaque bytes the domain has encoded.
//!
//! # Components
//!
//! - [`EventLog`] (`log.rs`): the trait the rest of the ledger uses.
//! - [`SledEventLog`] (`sled_log/`): its sled implementation.
//!   - `validate.rs`: limits and shape, checked on the caller's task.
//!   - `sled_log/writer.rs`: the single writer thread and its group commit.
//!   - `sled_log/durability.rs`: fdatasync of sled's data file and fsync of its blob files.
//!   - `sled_log/index.rs`: the in-memory indexes; `sled_log/scan.rs`: walking the log to
//!     rebuild them on open and to verify.
//! - `record.rs`: the stored formats, [`encode_record`] and [`record_hash`].
//! - [`Subscription`] (`subscription.rs`): catch-up then live, from any position.
//! - [`ProjectionStore`] (`projection_store/`): the read models' trees in their own sled
//!   database, each batch atomic with its checkpoint (see [`SledEventLog::projections`] and
//!   [`READ_MODELS_DIR_NAME`]); [`replace_read_models`] swaps in a whole new database built
//!   beside it (`sled_log/replacement.rs`).
//! - [`DataKeyStore`] (`data_keys.rs`): the customers' wrapped data keys, in the same database;
//!   every write durable before it returns.
//! - [`AccessLog`] (`access_log/`): the append-only record of who read which customer's
//!   personal data, in its own trees of the same database, committed in batches by its own
//!   writer thread so that a read never waits for an fsync (see the module for its durability).
//! - [`Faults`] (`faults.rs`): failpoints on each IO step; [`Clock`] (`clock.rs`): where
//!   `recorded_at` comes from. All limits are in [`limits`].
//!
//! # How an append flows
//!
//! 1. `append` checks the request against the limits (`Invalid` at once), then waits for room
//!    in the bounded queue (back-pressure) and sends it to the writer thread.
//! 2. The writer takes it with everything else already queued, up to `group_events_max` events.
//!    For each request in order: if every event id is known (durable or earlier in the group) as
//!    the same events of the same stream, the answer is the original positions with
//!    `duplicate: true`; otherwise the expected version is checked (`Conflict` for that request
//!    alone); otherwise the events get the next positions and stream versions, one
//!    `recorded_at` for the group, and are chained: `hash = blake3(prev_hash ‖ record bytes)`.
//! 3. The group is packed into chunks of about `CHUNK_BYTES_TARGET` bytes, each compressed, and written with the
//!    head value in ONE `apply_batch` (atomic in sled), then `flush()`, then made durable: fsync
//!    of new blob files and `log/blobs/`, then `fdatasync` of `log/db`.
//! 4. Only then are the indexes extended, the new head published on a `watch` (subscribers
//!    wake), and every caller answered. If any step fails, no caller of the group is answered
//!    with success: they get `Unavailable`, and the store is poisoned — every later append is
//!    `Unavailable` until it is reopened, since a failed fsync may have lost pages.
//!
//! # Storage layout
//!
//! One sled `Db` in `DATA_DIR/log/` (files `db`, `conf`, `blobs/`, `snap.*`), 2 MiB segments
//! (fixed at creation), and the read models' in `DATA_DIR/read-models/` (the same files and
//! segments; see [`READ_MODELS_DIR_NAME`] for why they are apart, and for data directories
//! that kept them in `log/`). Besides the wrapped data keys and the three `access:` trees of
//! the access records (see [`access_log`]), the log itself is one tree `log` with three kinds
//! of key:
//!
//! | key | value |
//! |---|---|
//! | `c` + first position (u64 big-endian) | a chunk: format byte 2 + one zstd frame of codec(`prev_hash`, [record bytes, hash]…); format byte 1 + the codec bytes as they are in stores written before chunks were compressed (still read) |
//! | `h` | the head: format byte + codec(position, hash), rewritten in every group's batch |
//! | `m` | metadata: format byte + codec(layout version), written when the store is created |
//!
//! A record's bytes are a format byte + codec(position, event id, stream, stream version, event
//! type, schema version, occurred_at and recorded_at as i128 ns, actor, correlation id,
//! causation id, origin, payload); `prev_hash` and `hash` are not in them (see [`encode_record`]).
//! There is no key per event. A chunk holds about `CHUNK_BYTES_TARGET` bytes of records before
//! compression (zstd level `CHUNK_ZSTD_LEVEL`, with the frame's content size and checksum);
//! sealed payloads and the hashes do not compress, so chunks shrink to ~2/3. The indexes (event id → position, stream → positions, chunk
//! starts) live in memory, ~55–60 bytes per event measured (see `sled_log/index.rs`), rebuilt on open by
//! walking every chunk (making sled evict every `WALK_EVICT_BYTES`, since it would keep every
//! page the walk read), which also recomputes the whole hash chain: a store whose records do not
//! check out is refused with [`OpenError::Corrupt`] naming the position, so it never serves a
//! history other than the one written. [`SledEventLog::verify_dir`] reports every problem of a
//! closed store instead. sled itself recovers a damaged data file by dropping everything after
//! the first message it cannot read, which the chain cannot see; so the head as of the last
//! open or close is also kept outside sled, in `DATA_DIR/log-head` (`sled_log/head_mark.rs`),
//! and a log that ends before it is refused naming the first missing position (so is a missing
//! mark, once the store has kept one; `verify --accept-head` writes it again). Opening costs ~2 µs per record (decode, rehash, index): ~2 s per
//! million events. Reads re-check each served record's hash as well.
//!
//! # What durability means here
//!
//! An acknowledged append has been through `fdatasync` of `log/db` (and fsync of any new blob
//! file and of `log/blobs/`); `strace` shows `pwrite64`/`sync_file_range` by sled, then
//! `fdatasync` by the writer, then the answer. sled 0.34's own background maintenance (it moves
//! live pages when it cleans segments) counts data as stable after `sync_file_range`, not
//! fsync; a power loss (not a process crash) in that window is outside what this crate can
//! force. The chain check on open turns any such loss into a refusal naming the position, never
//! into a silently different history.

pub mod access_log;
pub mod clock;
pub mod data_keys;
pub mod error;
pub mod faults;
pub mod limits;
pub mod log;
pub mod projection_store;
mod record;
mod sled_log;
pub mod subscription;
#[doc(hidden)]
pub mod testing;
pub mod types;
mod validate;
mod varint;

pub use access_log::{
    AccessError, AccessFilter, AccessLog, AccessPage, AccessQuery, AccessRead, AccessRecord,
    AccessStamp,
};
pub use clock::{Clock, SteppingClock, SystemClock};
pub use data_keys::{DATA_SUBJECT_BYTES_MAX, DataKeyStore};
pub use error::{AppendError, ImportError, OpenError, StoreFailure};
pub use faults::{FaultMode, FaultPoint, Faults};
pub use log::EventLog;
pub use projection_store::{
    PROJECTION_NAME_BYTES_MAX, ProjectionSpace, ProjectionStore, SpaceMeta, WRITE_KEY_INLINE_BYTES,
    WriteKey, Writes, write_key,
};
pub use record::{encode_record, recompute_hash, record_hash};
pub use sled_log::{
    COMPACTION_BATCH_BYTES, Compaction, HEAD_MARK_FILE_NAME, LOG_DIR_NAME,
    READ_MODELS_BUILD_DIR_NAME, READ_MODELS_DIR_NAME, READ_MODELS_NEXT_DIR_NAME,
    READ_MODELS_OLD_DIR_NAME, ReadModelsDb, SledEventLog, StoreOptions,
    discard_scratch_read_models, replace_read_models,
};
pub use subscription::Subscription;
pub use types::{
    AppendRequest, Appended, ExpectedVersion, GENESIS_HASH, Hash, Head, NewEvent, Problem,
    RecordedEvent, StoreStats, VerifyReport,
};
