//! The `EventLog` trait: what the rest of the ledger may ask of the log, whatever stores it.

use std::future::Future;

use ledger_domain::ids::{EventId, Position, StreamId};

use crate::error::{AppendError, ImportError, StoreFailure};
use crate::subscription::Subscription;
use crate::types::{AppendRequest, Appended, Head, RecordedEvent, VerifyReport};

/// An append-only, hash-chained log of events in streams.
///
/// Writes are async (they wait for durability and may wait for queue space); reads are
/// synchronous and only ever return durable records. The futures are `Send`, so callers can
/// spawn them; the trait is used generically (`impl EventLog`), not as a trait object.
pub trait EventLog: Send + Sync {
    /// Appends the request's events to its stream, atomically, once they are durable.
    ///
    /// Idempotency comes first: if every event id is already in the log, as the same events of
    /// the same stream in the same order, the answer is the original positions with
    /// `duplicate: true`, whatever the expected version now says. Then the expected version is
    /// checked (`Conflict`). Some ids present and others not is `Invalid`.
    fn append(
        &self,
        request: AppendRequest,
    ) -> impl Future<Output = Result<Appended, AppendError>> + Send;

    /// Appends many requests in order, sharing group commits (the bulk path for import). Each
    /// request gets its own outcome, as if appended alone in that order. The outer error is
    /// only for a store that cannot take writes at all.
    fn append_many(
        &self,
        requests: Vec<AppendRequest>,
    ) -> impl Future<Output = Result<Vec<Result<Appended, AppendError>>, StoreFailure>> + Send;

    /// Events of `stream` from version `from_version` (1-based; 0 reads from the start), at
    /// most `max` of them (`max` ≤ `READ_PAGE_MAX`). An unknown stream reads as empty.
    fn read_stream(
        &self,
        stream: &StreamId,
        from_version: u64,
        max: usize,
    ) -> Result<Vec<RecordedEvent>, StoreFailure>;

    /// Events from position `from` (`Position(1)` — or `ZERO` — is the start), at most `max`
    /// (≤ `READ_PAGE_MAX`); fewer when the log ends first.
    fn read_all(&self, from: Position, max: usize) -> Result<Vec<RecordedEvent>, StoreFailure>;

    /// Every record from `from` on, in order: first those already durable, then live ones as
    /// they become durable, with no gap and no duplicate at the hand-over.
    fn subscribe(&self, from: Position) -> Subscription;

    /// The durable head.
    fn head(&self) -> Head;

    /// Events the stream holds (0 for an unknown stream).
    fn stream_version(&self, stream: &StreamId) -> u64;

    /// Where an event id was recorded, if it was.
    fn position_of(&self, event_id: EventId) -> Option<Position>;

    /// Recomputes every hash from position 1 to the head, checks that positions are contiguous
    /// and that every index entry agrees with the records.
    fn verify(&self) -> VerifyReport;

    /// Appends exported records verbatim (positions, recorded_at and hashes kept), so that
    /// export → import into an empty store reproduces the head hash. Accepted only if the first
    /// record follows the head (position and `prev_hash`), the records chain, every hash
    /// recomputes, and stream versions and event ids agree with the store. All or nothing.
    fn import_recorded(
        &self,
        records: Vec<RecordedEvent>,
    ) -> impl Future<Output = Result<Head, ImportError>> + Send;
}
