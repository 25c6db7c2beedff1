//! The projection runner: feeds every registered projection the log, in order, exactly once.
//!
//! Each projection's state lives in its own keyspace (a [`ProjectionSpace`]) with its checkpoint
//! beside it, and the hash of the log record at the checkpoint, written in the same atomic batch
//! as the state derived from the events up to it. On start, a projection that was never built,
//! or whose layout version changed, is rebuilt from position 0 into a fresh generation that
//! replaces the old one only when complete, so readers never see a half-built model; one folded
//! from another history than the log's (see [`ProjectionRunner::new`]) is not served and is
//! rebuilt too. Then one task follows the log: it catches up in large batches (one commit per
//! [`CATCH_UP_COMMIT_EVENTS`] events) and then applies live records as they become durable.
//! [`ProjectionRunner::wait_for`] resolves when the projections have applied a position;
//! read-your-writes rests on it.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock, mpsc};
use std::time::Duration;

use ledger_domain::events::Event;
use ledger_domain::ids::Position;
use ledger_domain::projection::{Envelope, MemoryState, Projection, StateError, StateWrite};
use ledger_store::limits::READ_PAGE_MAX;
use ledger_store::projection_store::StoredMeta;
use ledger_store::{
    EventLog, Hash, Head, ProjectionSpace, ProjectionStore, RecordedEvent, SledEventLog, SpaceMeta,
    StoreFailure, Writes,
};
use tokio::sync::watch;

use crate::overlay::{Layered, Overlay, Pending};
use crate::personal::{KeyRing, Opened};
use crate::written_keys::{Filtered, WrittenKeys};

/// Events applied between two commits while catching up: large batches make a rebuild fast;
/// the bound keeps the pending writes of one batch in memory within reason. Two batches are in
/// memory at once (one applied, the next decoded), and sled holds each commit's garbage until
/// its epoch ends: a replay of all projections over 105 k events peaked at ~420 MiB with 8,192,
/// ~600 MiB with 16,384 and ~320 MiB with 4,096; 8,192 was as fast as 16,384 there, 4,096
/// about a fifth slower.
pub const CATCH_UP_COMMIT_EVENTS: usize = 8_192;

/// How much the projections being rebuilt together gather in memory, all of them, before the
/// larger ones commit (their pending writes, roughly: keys, values and a share a write). A
/// rebuild is not visible until complete, so it need not commit every batch, and a block
/// rewritten once for many entries is far less work than once for each batch that touches it.
/// The budget is shared because the projections differ tenfold in what they write: with a
/// bound of 64 MiB each (the same memory in all), the timeline committed again and again in a
/// 1 M replay while the small projections never filled theirs. Shared, the 1 M replay of every
/// projection took 10.8-11.4 s instead of 12.8-13.7 s, for a peak RSS of 1.33-1.45 GB instead
/// of 0.8-0.9 GB (256 MiB shared: 12.9 s, 0.77 GB; 1 GiB: 10.4 s, 1.7 GB). Each projection
/// gathers the next writes while its last commit runs, so a rebuild holds up to about twice
/// this in writes.
pub const REBUILD_PENDING_BYTES_MAX: usize = 512 * 1024 * 1024;

/// Decoded batches waiting for one projection during a catch-up or rebuild: the reader runs at
/// most this far ahead of the slowest projection, so at most this many batches and two more
/// (one being applied, one being decoded) are in memory at once.
pub const BATCHES_AHEAD: usize = 2;

/// Live records applied per commit: whatever became durable together, up to this.
pub const LIVE_BATCH_EVENTS: usize = 512;

/// The longest a read-your-writes wait may be asked to last.
pub const WAIT_TIMEOUT_MAX: Duration = Duration::from_secs(30);

/// Why the runner could not do what it was asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RunnerError {
    #[error(transparent)]
    Store(#[from] StoreFailure),
    #[error("projection {projection}: {source}")]
    State {
        projection: String,
        source: StateError,
    },
    #[error("position {position}: the stored {event_type} v{version} does not decode: {detail}")]
    Undecodable {
        position: Position,
        event_type: String,
        version: u16,
        detail: String,
    },
    #[error("no projection is named {0:?}")]
    UnknownProjection(String),
    #[error(
        "projection {projection} has applied position {applied}, not yet {wanted} (waited {waited_ms} ms)"
    )]
    Lagging {
        projection: String,
        applied: Position,
        wanted: Position,
        waited_ms: u128,
    },
    #[error("projection {projection} has stopped: {cause}")]
    Stopped { projection: String, cause: String },
    #[error("projection {0} has not been built yet")]
    NotBuilt(String),
}

/// One projection and the state readers see.
struct Slot {
    projection: Arc<dyn Projection>,
    active: RwLock<Option<ProjectionSpace>>,
    /// The last position applied to the active space (what readers can rely on).
    applied: watch::Sender<Position>,
}

/// Runs projections over a log. Cheap to clone.
#[derive(Clone)]
pub struct ProjectionRunner {
    inner: Arc<Inner>,
}

/// The sizes a catch-up works in: the constants above, smaller in tests so that a small ledger
/// spans many batches and rebuild commits.
#[derive(Debug, Clone, Copy)]
struct Sizes {
    batch_events: usize,
    rebuild_pending_bytes: usize,
}

struct Inner {
    sizes: RwLock<Sizes>,
    log: SledEventLog,
    keys: Arc<KeyRing>,
    store: ProjectionStore,
    slots: Vec<Slot>,
    by_name: HashMap<&'static str, usize>,
    /// Why the live task stopped, when it did.
    failure: Mutex<Option<String>>,
}

impl std::fmt::Debug for ProjectionRunner {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("ProjectionRunner")
            .field("projections", &self.names())
            .finish_non_exhaustive()
    }
}

/// Decodes one stored record's payload; an undecodable record stops the runner, since skipping
/// it would make every read model silently wrong.
///
/// Personal fields come back whole while the subject's data key lives, erased once it was
/// destroyed (see [`crate::personal`]).
pub fn decode(keys: &KeyRing, record: &RecordedEvent) -> Result<Event, RunnerError> {
    open(keys, record).map(|opened| opened.event)
}

/// [`decode`], saying whether the personal fields came back erased ([`Opened::redacted`]): the
/// subject's data key was destroyed, or stayed in the ledger an import came from. The folds
/// learn it from [`Envelope::redacted`].
pub fn open(keys: &KeyRing, record: &RecordedEvent) -> Result<Opened, RunnerError> {
    let event = &record.event;
    keys.open_payload(
        event.event_id,
        &event.event_type,
        event.schema_version,
        &event.payload,
    )
    .map_err(|error| RunnerError::Undecodable {
        position: record.position,
        event_type: event.event_type.clone(),
        version: event.schema_version,
        detail: error.to_string(),
    })
}

/// Folds `records` (with their opened events) into `state` through `projection`.
fn apply_all(
    projection: &dyn Projection,
    batch: &[(RecordedEvent, Opened)],
    state: &mut dyn StateWrite,
) -> Result<(), RunnerError> {
    for (record, opened) in batch {
        let envelope = Envelope {
            position: record.position,
            stream: &record.stream,
            stream_version: record.stream_version,
            event_id: record.event.event_id,
            occurred_at: record.event.occurred_at,
            recorded_at: record.recorded_at,
            actor: &record.event.actor,
            event: &opened.event,
            redacted: opened.redacted,
        };
        projection
            .apply(&envelope, state)
            .map_err(|source| RunnerError::State {
                projection: projection.name().to_owned(),
                source,
            })?;
    }
    Ok(())
}

/// Reads and decodes up to `max` records from `from`, none past `to`.
fn read_decoded(
    log: &SledEventLog,
    keys: &KeyRing,
    from: Position,
    to: Position,
    max: usize,
) -> Result<Vec<(RecordedEvent, Opened)>, RunnerError> {
    let page = log.read_all(from, max.min(READ_PAGE_MAX))?;
    page.into_iter()
        .take_while(|record| record.position <= to)
        .map(|record| open(keys, &record).map(|opened| (record, opened)))
        .collect()
}

/// One projection being brought forward by [`ProjectionRunner::feed_together`].
struct Target<'a> {
    slot: &'a Slot,
    space: ProjectionSpace,
    /// The last position applied to `space`.
    applied: Position,
    /// The hash of the log record at `applied`, when known (see [`StoredMeta`]).
    applied_hash: Option<Hash>,
    /// A fresh generation readers do not see yet (a rebuild), rather than the active one.
    fresh: bool,
    /// For a fresh generation, what its rebuild has gathered.
    building: Option<Building>,
}

/// A rebuild's state between batches.
#[derive(Default)]
struct Building {
    /// Every key committed to the fresh generation so far, or being committed (see
    /// [`crate::written_keys`]).
    written: WrittenKeys,
    /// Writes not committed yet: see [`RebuildBudget`].
    pending: Pending,
    /// The last commit, if it may still be running on its own thread.
    committing: Option<Committing>,
}

/// A rebuild's commit running on a thread of its own, so the projection folds on meanwhile:
/// a commit of 64 MiB of writes into a large generation takes seconds. (Together with commits
/// that no longer stop every reader, see [`ProjectionSpace::commit_unseen`], the 1 M `replay`
/// went from ~17.5 to ~14.2 s.)
struct Committing {
    /// The projection's name, for errors.
    projection: &'static str,
    /// What it writes: the folds read these above sled until it has ended.
    writes: Arc<Writes>,
    thread: std::thread::JoinHandle<Result<(), RunnerError>>,
}

impl Building {
    /// Hands the pending writes, with `meta`, to a thread that commits them, once the previous
    /// commit has ended (so commits apply in order, and at most two sets of writes are held).
    fn commit_behind(
        &mut self,
        projection: &'static str,
        space: &ProjectionSpace,
        meta: StoredMeta,
    ) -> Result<(), RunnerError> {
        self.finish_commit()?;
        let mut pending = std::mem::take(&mut self.pending);
        pending.settle().map_err(|source| RunnerError::State {
            projection: projection.to_owned(),
            source,
        })?;
        // Before the commit starts: from now on, a key it writes may be in sled.
        for (key, value) in &pending.writes {
            if value.is_some() {
                self.written.insert(key);
            }
        }
        let writes = Arc::new(pending.writes);
        let committed = Arc::clone(&writes);
        let target = space.clone();
        let thread = std::thread::Builder::new()
            .name(format!("commit-{projection}"))
            // Key by key, every key it does not write readable throughout.
            .spawn(move || Ok(target.commit_unseen(&committed, meta)?))
            .map_err(|error| RunnerError::Stopped {
                projection: projection.to_owned(),
                cause: format!("starting a commit thread: {error}"),
            })?;
        self.committing = Some(Committing {
            projection,
            writes,
            thread,
        });
        Ok(())
    }

    /// Waits for the last commit, if one may be running, and returns what it returned.
    fn finish_commit(&mut self) -> Result<(), RunnerError> {
        let Some(committing) = self.committing.take() else {
            return Ok(());
        };
        committing.thread.join().unwrap_or_else(|panic| {
            Err(RunnerError::Stopped {
                projection: committing.projection.to_owned(),
                cause: panic_message(panic.as_ref()),
            })
        })
    }

    /// Lets go of the last commit's writes once it has ended, so reads stop looking at them.
    fn collect_finished_commit(&mut self) -> Result<(), RunnerError> {
        match &self.committing {
            Some(committing) if committing.thread.is_finished() => self.finish_commit(),
            _ => Ok(()),
        }
    }

    /// Commits the pending writes with `meta` and waits until everything is committed.
    fn commit(
        &mut self,
        projection: &'static str,
        space: &ProjectionSpace,
        meta: StoredMeta,
    ) -> Result<(), RunnerError> {
        self.commit_behind(projection, space, meta)?;
        self.finish_commit()
    }
}

impl Drop for Building {
    /// A rebuild that stops early (a failure elsewhere) still waits for its commit thread, so
    /// nothing writes the generation once the runner has moved on.
    fn drop(&mut self) {
        if let Err(error) = self.finish_commit() {
            tracing::warn!(%error, "a rebuild's commit failed as the rebuild stopped");
        }
    }
}

/// The pending writes of the projections rebuilt together, against one budget: once they
/// pass it together, each projection holding at least its even share commits at the end of its
/// batch. Passing the budget means some projection holds its share, so the pending writes stay
/// within the budget and a batch each.
#[derive(Debug)]
struct RebuildBudget {
    /// What every rebuilding projection holds pending now, summed.
    pending: AtomicUsize,
    /// [`REBUILD_PENDING_BYTES_MAX`], or a test's size.
    bytes: usize,
    /// The budget over the number of projections being rebuilt.
    share: usize,
}

impl RebuildBudget {
    fn new(bytes: usize, rebuilding: usize) -> Self {
        Self {
            pending: AtomicUsize::new(0),
            bytes,
            share: bytes / rebuilding.max(1),
        }
    }

    /// Records that one projection's pending writes went from `before` to `after` bytes, and
    /// says whether it should commit them now.
    fn gathered(&self, before: usize, after: usize) -> bool {
        let total = if after >= before {
            self.pending.fetch_add(after - before, Ordering::Relaxed) + (after - before)
        } else {
            self.pending
                .fetch_sub(before - after, Ordering::Relaxed)
                .saturating_sub(before - after)
        };
        after >= self.share && total >= self.bytes
    }

    /// Records that one projection committed (or handed to its commit) `bytes` of pending writes.
    fn committed(&self, bytes: usize) {
        self.pending.fetch_sub(bytes, Ordering::Relaxed);
    }
}

impl Target<'_> {
    /// What a commit of the state folded up to `checkpoint` records; `checkpoint_hash` is the
    /// hash of the log record there.
    fn meta(&self, checkpoint: Position, checkpoint_hash: Option<Hash>) -> StoredMeta {
        StoredMeta {
            meta: SpaceMeta {
                version: self.slot.projection.version(),
                checkpoint,
            },
            checkpoint_hash,
        }
    }
}

/// Reads and decodes up to `max` records after `after`, none past `to`, page by page.
fn read_decoded_batch(
    log: &SledEventLog,
    keys: &KeyRing,
    after: Position,
    to: Position,
    max: usize,
) -> Result<Vec<(RecordedEvent, Opened)>, RunnerError> {
    let mut batch: Vec<(RecordedEvent, Opened)> = Vec::new();
    let mut cursor = after;
    while batch.len() < max && cursor < to {
        let page = read_decoded(log, keys, cursor.next(), to, max - batch.len())?;
        let Some((last, _)) = page.last() else { break };
        cursor = last.position;
        batch.extend(page);
    }
    Ok(batch)
}

/// Applies the records of `batch` that `target` has not seen. An in-place target commits them
/// with the batch's last position as checkpoint and tells its readers; a rebuild commits when
/// `budget` says so.
fn apply_batch(
    target: &mut Target<'_>,
    batch: &[(RecordedEvent, Opened)],
    budget: &RebuildBudget,
) -> Result<(), RunnerError> {
    let Some((last, _)) = batch.last() else {
        return Ok(());
    };
    let (last, last_hash) = (last.position, last.hash);
    if target.applied >= last {
        return Ok(());
    }
    let unseen = batch.partition_point(|(record, _)| record.position <= target.applied);
    let unseen = &batch[unseen..];
    let projection = target.slot.projection.as_ref();
    let meta = target.meta(last, Some(last_hash));
    match &mut target.building {
        Some(building) => {
            building.collect_finished_commit()?;
            let Building {
                written,
                pending,
                committing,
            } = building;
            let filtered = Filtered {
                base: &target.space,
                written,
            };
            let none = Writes::new();
            let base = Layered {
                writes: committing
                    .as_ref()
                    .map_or(&none, |committing| &committing.writes),
                base: &filtered,
            };
            let before = pending.bytes;
            let mut overlay = Overlay::resume(&base, std::mem::take(pending));
            apply_all(projection, unseen, &mut overlay)?;
            *pending = overlay.into_pending();
            let after = pending.bytes;
            if budget.gathered(before, after) {
                building.commit_behind(projection.name(), &target.space, meta)?;
                budget.committed(after);
            }
        }
        None => {
            let mut overlay = Overlay::new(&target.space);
            apply_all(projection, unseen, &mut overlay)?;
            let writes = overlay.into_writes().map_err(|source| RunnerError::State {
                projection: projection.name().to_owned(),
                source,
            })?;
            target.space.commit(&writes, meta)?;
        }
    }
    target.applied = last;
    target.applied_hash = Some(last_hash);
    if !target.fresh {
        target.slot.applied.send_replace(last);
    }
    Ok(())
}

/// Sets `stop` if the thread holding it unwinds, so that the others of a catch-up stop too.
struct StopOnPanic<'a>(&'a AtomicBool);

impl Drop for StopOnPanic<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.0.store(true, Ordering::Relaxed);
        }
    }
}

/// What a scoped thread returned; its panic becomes a [`RunnerError::Stopped`].
fn join_scoped<T>(
    thread: std::thread::ScopedJoinHandle<'_, Result<T, RunnerError>>,
) -> Result<T, RunnerError> {
    thread.join().unwrap_or_else(|panic| {
        Err(RunnerError::Stopped {
            projection: "*".into(),
            cause: panic_message(panic.as_ref()),
        })
    })
}

/// The text of a caught panic.
fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|text| (*text).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a projection thread panicked".to_owned())
}

/// Why a read model cannot have been folded from the log it is opened with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ForeignHistory {
    /// Its checkpoint is past the log's head.
    AheadOfHead,
    /// The log's record at its checkpoint is not the one it was folded up to.
    OtherRecord { stored: Hash, logged: Hash },
}

/// Whether the read model in `space`, folded up to `checkpoint`, was folded from another
/// history than `log`'s (whose head is `head`): its checkpoint is past the head, or the hash it
/// stored for the record at its checkpoint is not the log's. A read model that stored no hash
/// (written before the hash was kept) is checked by position only; see
/// [`ProjectionRunner::new`]. Reads the log at most once, not at all at position 0 or at the
/// head.
fn foreign_history(
    log: &SledEventLog,
    head: &Head,
    space: &ProjectionSpace,
    checkpoint: Position,
) -> Result<Option<ForeignHistory>, RunnerError> {
    if checkpoint > head.position {
        return Ok(Some(ForeignHistory::AheadOfHead));
    }
    if checkpoint == Position::ZERO {
        return Ok(None);
    }
    let Some(stored) = space.checkpoint_hash()? else {
        return Ok(None);
    };
    let logged = if checkpoint == head.position {
        head.hash
    } else {
        record_hash_at(log, checkpoint)?
    };
    Ok((stored != logged).then_some(ForeignHistory::OtherRecord { stored, logged }))
}

/// The hash chain's hash of the log record at `position`, which must be at most the head.
fn record_hash_at(log: &SledEventLog, position: Position) -> Result<Hash, RunnerError> {
    let record = log.read_all(position, 1)?.into_iter().next();
    match record {
        Some(record) if record.position == position => Ok(record.hash),
        other => Err(StoreFailure::Corrupt {
            position,
            detail: format!(
                "reading the record at a read model's checkpoint found {}",
                other.map_or_else(
                    || "nothing".to_owned(),
                    |record| format!("position {}", record.position)
                )
            ),
        }
        .into()),
    }
}

/// The first bytes of `hash` in hex: enough to tell two hashes apart in a log line.
fn short_hash(hash: &Hash) -> String {
    hex::encode(&hash[..SHORT_HASH_BYTES])
}

/// The bytes of a hash a warning shows (12 hex digits).
const SHORT_HASH_BYTES: usize = 6;

/// Says in the log that `projection`'s read model, folded up to `checkpoint`, is not served.
fn warn_foreign(projection: &str, checkpoint: Position, head: &Head, foreign: ForeignHistory) {
    match foreign {
        ForeignHistory::AheadOfHead => tracing::warn!(
            projection,
            checkpoint = checkpoint.get(),
            head = head.position.get(),
            "the read model is ahead of the log's head: not served, rebuilding from position 0"
        ),
        ForeignHistory::OtherRecord { stored, logged } => tracing::warn!(
            projection,
            checkpoint = checkpoint.get(),
            stored_hash = short_hash(&stored),
            log_hash = short_hash(&logged),
            "the read model was folded from another history than the log's (another record at its checkpoint): not served, rebuilding from position 0"
        ),
    }
}

impl ProjectionRunner {
    /// Registers `projections` over `log`. Nothing runs until [`ProjectionRunner::catch_up`] or
    /// [`ProjectionRunner::spawn`].
    ///
    /// A read model folded from another history than this log's gets no reader, and the
    /// catch-up builds it again from position 0 ([`Self::checkpoints`] shows it at 0 until
    /// then): one whose checkpoint is past the log's head, or whose stored hash of the record
    /// at its checkpoint differs from the log's (a log restored from an older backup that then
    /// took other events up to or past the checkpoint). Serving it would show events the log
    /// does not hold and hide those it holds at the same positions.
    ///
    /// A read model written before the hash was kept has none: it is checked by its position
    /// alone, as before, and served, and its next commit records the hash. Rebuilding every read
    /// model once instead would take each one's readers away for a whole rebuild at the upgrade
    /// (minutes at 10 M events) to rule out a restore that happened before it, which the
    /// position check has already looked for at every open since; a restore after the upgrade
    /// finds the hash of the last commit.
    pub fn new(
        log: SledEventLog,
        projections: Vec<Arc<dyn Projection>>,
        keys: Arc<KeyRing>,
    ) -> Result<Self, RunnerError> {
        let store = log.projections();
        let head = log.head();
        let mut slots = Vec::with_capacity(projections.len());
        let mut by_name = HashMap::new();
        for projection in projections {
            let mut active = store.active(projection.name())?;
            let mut applied = Position::ZERO;
            let mut foreign = None;
            if let Some(space) = &active
                && let Some(meta) = space.current(projection.version())?
            {
                applied = meta.checkpoint;
                foreign = foreign_history(&log, &head, space, applied)?;
            }
            if let Some(foreign) = foreign {
                warn_foreign(projection.name(), applied, &head, foreign);
                // Nobody reads it; the catch-up builds a fresh generation from position 0.
                active = None;
                applied = Position::ZERO;
            }
            by_name.insert(projection.name(), slots.len());
            slots.push(Slot {
                projection,
                active: RwLock::new(active),
                applied: watch::Sender::new(applied),
            });
        }
        Ok(Self {
            inner: Arc::new(Inner {
                log,
                keys,
                store,
                slots,
                by_name,
                failure: Mutex::new(None),
                sizes: RwLock::new(Sizes {
                    batch_events: CATCH_UP_COMMIT_EVENTS,
                    rebuild_pending_bytes: REBUILD_PENDING_BYTES_MAX,
                }),
            }),
        })
    }

    /// Makes catch-ups and rebuilds work in batches of `batch_events` and give rebuilds a budget
    /// of `rebuild_pending_bytes` ([`RebuildBudget`]), instead of [`CATCH_UP_COMMIT_EVENTS`] and
    /// [`REBUILD_PENDING_BYTES_MAX`]: tests use it so that a small ledger spans many batches.
    #[doc(hidden)]
    pub fn set_batch_sizes(&self, batch_events: usize, rebuild_pending_bytes: usize) {
        *self
            .inner
            .sizes
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Sizes {
            batch_events: batch_events.max(1),
            rebuild_pending_bytes,
        };
    }

    /// The registered projections' names, in registration order.
    pub fn names(&self) -> Vec<&'static str> {
        self.inner
            .slots
            .iter()
            .map(|slot| slot.projection.name())
            .collect()
    }

    fn slot(&self, name: &str) -> Result<&Slot, RunnerError> {
        self.inner
            .by_name
            .get(name)
            .map(|&index| &self.inner.slots[index])
            .ok_or_else(|| RunnerError::UnknownProjection(name.to_owned()))
    }

    /// The state readers use for `name`.
    pub fn reader(&self, name: &str) -> Result<ProjectionSpace, RunnerError> {
        let slot = self.slot(name)?;
        let active = slot
            .active
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        active
            .clone()
            .ok_or_else(|| RunnerError::NotBuilt(name.to_owned()))
    }

    /// The last position each projection has applied, in registration order.
    pub fn checkpoints(&self) -> Vec<(&'static str, Position)> {
        self.inner
            .slots
            .iter()
            .map(|slot| (slot.projection.name(), *slot.applied.borrow()))
            .collect()
    }

    /// The smallest checkpoint: every projection has applied at least this.
    pub fn applied(&self) -> Position {
        self.inner
            .slots
            .iter()
            .map(|slot| *slot.applied.borrow())
            .min()
            .unwrap_or(Position::ZERO)
    }

    /// Why the runner stopped, if it did.
    pub fn failure(&self) -> Option<String> {
        self.inner
            .failure
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Brings every projection up to the log's head now (blocking): rebuilds those never built,
    /// built with another layout version or stored before blocks into fresh generations and
    /// switches readers to them when complete; catches the others up in place. All of them
    /// read the log together: each batch is read and decoded once for all of them. Returns the
    /// position reached.
    pub fn catch_up(&self) -> Result<Position, RunnerError> {
        let head = self.inner.log.head().position;
        let mut targets = Vec::with_capacity(self.inner.slots.len());
        for slot in &self.inner.slots {
            targets.push(self.plan(slot)?);
        }
        self.feed_together(&mut targets, head, &mut |_| {})?;
        self.switch_rebuilt(&targets, head)?;
        Ok(head)
    }

    /// Where `slot` resumes: its active space at its checkpoint, or a fresh generation from
    /// position 0 when it was never built or was built with another layout version.
    fn plan<'a>(&self, slot: &'a Slot) -> Result<Target<'a>, RunnerError> {
        let projection = slot.projection.as_ref();
        let active = slot
            .active
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone();
        let current = match &active {
            Some(space) => space
                .current(projection.version())?
                .map(|meta| (space.clone(), meta)),
            None => None,
        };
        Ok(match current {
            Some((space, meta)) => Target {
                slot,
                applied_hash: space.checkpoint_hash()?,
                space,
                applied: meta.checkpoint,
                fresh: false,
                building: None,
            },
            None => self.fresh_target(slot)?,
        })
    }

    /// A fresh, inactive generation of `slot`'s projection, at position 0.
    fn fresh_target<'a>(&self, slot: &'a Slot) -> Result<Target<'a>, RunnerError> {
        let projection = slot.projection.as_ref();
        let space = self.inner.store.fresh(projection.name())?;
        space.commit(
            &Default::default(),
            SpaceMeta {
                version: projection.version(),
                checkpoint: Position::ZERO,
            },
        )?;
        tracing::info!(
            projection = projection.name(),
            "building projection from position 0"
        );
        Ok(Target {
            slot,
            space,
            applied: Position::ZERO,
            applied_hash: None,
            fresh: true,
            building: Some(Building::default()),
        })
    }

    /// Switches readers to every fresh generation in `targets`, now complete up to `head`.
    fn switch_rebuilt(&self, targets: &[Target<'_>], head: Position) -> Result<(), RunnerError> {
        for target in targets.iter().filter(|target| target.fresh) {
            self.inner.store.activate(&target.space)?;
            *target
                .slot
                .active
                .write()
                .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(target.space.clone());
            target.slot.applied.send_replace(head);
        }
        Ok(())
    }

    /// Applies the records after each target's position up to `to`, reading and decoding each
    /// record once for all of them. One thread reads and decodes batches of
    /// [`CATCH_UP_COMMIT_EVENTS`] events and hands each to every target; each target applies them
    /// on a thread of its own (each writes only its own keyspace), so a slow projection or a
    /// commit holds up no other, and the reader waits only when the slowest has
    /// [`BATCHES_AHEAD`] batches waiting. An in-place target commits its writes with its
    /// checkpoint once a batch and tells its readers; a rebuild's fresh generation commits when
    /// the [`RebuildBudget`] says so, on a thread of its own while the
    /// projection folds on (reading that commit's writes above sled until it ends), and at the
    /// end. `progress` hears each position all targets have reached. A failure anywhere stops
    /// every thread at its next batch, and the first target's failure (or else the reader's)
    /// is returned.
    fn feed_together(
        &self,
        targets: &mut [Target<'_>],
        to: Position,
        progress: &mut dyn FnMut(Position),
    ) -> Result<(), RunnerError> {
        let Some(cursor) = targets.iter().map(|target| target.applied).min() else {
            return Ok(());
        };
        let sizes = *self
            .inner
            .sizes
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut reached: Vec<Position> = targets.iter().map(|target| target.applied).collect();
        let rebuilding = targets
            .iter()
            .filter(|target| target.building.is_some())
            .count();
        let budget = RebuildBudget::new(sizes.rebuild_pending_bytes, rebuilding);
        let budget = &budget;
        let stop = AtomicBool::new(false);
        let stop = &stop;
        std::thread::scope(|scope| {
            let (reached_sender, reached_receiver) = mpsc::channel::<(usize, Position)>();
            let mut feeds = Vec::with_capacity(targets.len());
            let mut workers = Vec::with_capacity(targets.len());
            for (index, target) in targets.iter_mut().enumerate() {
                let (feed, batches) =
                    mpsc::sync_channel::<Arc<Vec<(RecordedEvent, Opened)>>>(BATCHES_AHEAD);
                feeds.push(feed);
                let reached_sender = reached_sender.clone();
                workers.push(scope.spawn(move || -> Result<(), RunnerError> {
                    let _stop_on_panic = StopOnPanic(stop);
                    let applied = (|| {
                        // Ends when the reader is done and has dropped its feeds.
                        for batch in batches {
                            if stop.load(Ordering::Relaxed) {
                                return Ok(());
                            }
                            apply_batch(target, &batch, budget)?;
                            // Nobody listens any more only once the caller has failed.
                            let _ = reached_sender.send((index, target.applied));
                        }
                        if stop.load(Ordering::Relaxed) {
                            return Ok(());
                        }
                        // What the rebuild gathered since its last commit.
                        let meta = target.meta(target.applied, target.applied_hash);
                        match &mut target.building {
                            Some(building) => {
                                let gathered = building.pending.bytes;
                                building.commit(
                                    target.slot.projection.name(),
                                    &target.space,
                                    meta,
                                )?;
                                // The projections still folding have the budget to themselves.
                                budget.committed(gathered);
                                Ok(())
                            }
                            None => Ok(()),
                        }
                    })();
                    if applied.is_err() {
                        stop.store(true, Ordering::Relaxed);
                    }
                    applied
                }));
            }
            drop(reached_sender);
            let inner = &self.inner;
            let reader = scope.spawn(move || -> Result<(), RunnerError> {
                let _stop_on_panic = StopOnPanic(stop);
                let mut after = cursor;
                while after < to && !stop.load(Ordering::Relaxed) {
                    let batch =
                        read_decoded_batch(&inner.log, &inner.keys, after, to, sizes.batch_events)
                            .inspect_err(|_| stop.store(true, Ordering::Relaxed))?;
                    let Some((last, _)) = batch.last() else { break };
                    after = last.position;
                    let batch = Arc::new(batch);
                    for feed in &feeds {
                        // Only a target that failed (and set `stop`) has let go of its feed.
                        let _ = feed.send(Arc::clone(&batch));
                    }
                }
                Ok(())
            });
            let mut reported = cursor;
            for (index, position) in reached_receiver {
                reached[index] = position;
                let least = reached.iter().copied().min().unwrap_or(position);
                if least > reported {
                    reported = least;
                    progress(least);
                }
            }
            let read = join_scoped(reader);
            workers
                .into_iter()
                .map(join_scoped)
                .collect::<Result<Vec<()>, RunnerError>>()?;
            read
        })
    }

    /// Rebuilds one projection from position 0 into a fresh generation and switches readers to
    /// it when complete (`contact-ledger replay --projection NAME`). Returns the position reached.
    pub fn rebuild(&self, name: &str) -> Result<Position, RunnerError> {
        self.rebuild_with_progress(&[name], &mut |_| {})
    }

    /// Rebuilds the projections `names` together (each record read and decoded once for all
    /// of them) into fresh generations, switching readers to each when all are complete;
    /// `progress` hears each position applied on the way. Returns the position reached.
    pub fn rebuild_with_progress(
        &self,
        names: &[&str],
        progress: &mut dyn FnMut(Position),
    ) -> Result<Position, RunnerError> {
        self.rebuild_up_to(names, self.inner.log.head().position, progress)
    }

    /// [`Self::rebuild_with_progress`] up to position `to` (at most the head) instead of the
    /// head: what the read models said then, built into fresh generations like any rebuild
    /// (`replay --to P` and `replay --check` build them so in a scratch database). Readers see
    /// the rebuilt generations as of `to` once all are complete. Returns the position reached.
    pub fn rebuild_up_to(
        &self,
        names: &[&str],
        to: Position,
        progress: &mut dyn FnMut(Position),
    ) -> Result<Position, RunnerError> {
        let head = to.min(self.inner.log.head().position);
        let mut targets: Vec<Target<'_>> = Vec::with_capacity(names.len());
        for name in names {
            let slot = self.slot(name)?;
            // A name given twice is rebuilt once: a second fresh generation would drop the first.
            if targets
                .iter()
                .all(|target| !std::ptr::eq(target.slot, slot))
            {
                targets.push(self.fresh_target(slot)?);
            }
        }
        self.feed_together(&mut targets, head, progress)?;
        self.switch_rebuilt(&targets, head)?;
        Ok(head)
    }

    /// Builds `name` as of position `to` in memory, without touching the live read model: what
    /// the read model said then (`replay --to P`, an auditor's point-in-time view).
    pub fn build_as_of(&self, name: &str, to: Position) -> Result<MemoryState, RunnerError> {
        let projection = self.slot(name)?.projection.as_ref();
        let mut state = MemoryState::new();
        let mut cursor = Position::ZERO;
        let to = to.min(self.inner.log.head().position);
        while cursor < to {
            let batch = read_decoded(
                &self.inner.log,
                &self.inner.keys,
                cursor.next(),
                to,
                READ_PAGE_MAX,
            )?;
            let Some((last, _)) = batch.last() else { break };
            cursor = last.position;
            apply_all(projection, &batch, &mut state)?;
        }
        Ok(state)
    }

    /// Waits until `projection` (or every projection) has applied `position`, at most `timeout`.
    pub async fn wait_for(
        &self,
        position: Position,
        timeout: Duration,
        projection: Option<&str>,
    ) -> Result<(), RunnerError> {
        let timeout = timeout.min(WAIT_TIMEOUT_MAX);
        let slots: Vec<&Slot> = match projection {
            Some(name) => vec![self.slot(name)?],
            None => self.inner.slots.iter().collect(),
        };
        let started = std::time::Instant::now();
        for slot in slots {
            let mut applied = slot.applied.subscribe();
            let waited = tokio::time::timeout(
                timeout.saturating_sub(started.elapsed()),
                applied.wait_for(|applied| *applied >= position),
            )
            .await;
            if waited.is_err() {
                if let Some(cause) = self.failure() {
                    return Err(RunnerError::Stopped {
                        projection: slot.projection.name().to_owned(),
                        cause,
                    });
                }
                return Err(RunnerError::Lagging {
                    projection: slot.projection.name().to_owned(),
                    applied: *slot.applied.borrow(),
                    wanted: position,
                    waited_ms: started.elapsed().as_millis(),
                });
            }
        }
        Ok(())
    }

    /// Starts the task that catches every projection up and then follows the log live. The
    /// task ends when the log closes; a failure stops it and is kept in [`Self::failure`].
    pub fn spawn(&self) -> tokio::task::JoinHandle<()> {
        let runner = self.clone();
        tokio::spawn(async move {
            if let Err(error) = runner.run().await {
                tracing::error!(%error, "projection runner stopped");
                *runner
                    .inner
                    .failure
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(error.to_string());
            }
        })
    }

    async fn run(&self) -> Result<(), RunnerError> {
        let caught_up = {
            let runner = self.clone();
            tokio::task::spawn_blocking(move || runner.catch_up())
                .await
                .map_err(|error| RunnerError::Stopped {
                    projection: "*".into(),
                    cause: error.to_string(),
                })??
        };
        let mut subscription = self.inner.log.subscribe(caught_up.next());
        loop {
            let records = match subscription.next_batch(LIVE_BATCH_EVENTS).await {
                Ok(records) => records,
                Err(StoreFailure::Closed) => return Ok(()),
                Err(error) => return Err(error.into()),
            };
            let runner = self.clone();
            tokio::task::spawn_blocking(move || runner.apply_live(records))
                .await
                .map_err(|error| RunnerError::Stopped {
                    projection: "*".into(),
                    cause: error.to_string(),
                })??;
        }
    }

    /// Applies live records to every projection that has not seen them, one commit each.
    fn apply_live(&self, records: Vec<RecordedEvent>) -> Result<(), RunnerError> {
        let batch: Vec<(RecordedEvent, Opened)> = records
            .into_iter()
            .map(|record| open(&self.inner.keys, &record).map(|opened| (record, opened)))
            .collect::<Result<_, _>>()?;
        let Some((last, _)) = batch.last() else {
            return Ok(());
        };
        let (last, last_hash) = (last.position, last.hash);
        for slot in &self.inner.slots {
            let applied = *slot.applied.borrow();
            let unseen: Vec<(RecordedEvent, Opened)> = batch
                .iter()
                .filter(|(record, _)| record.position > applied)
                .cloned()
                .collect();
            if unseen.is_empty() {
                continue;
            }
            let space = self.reader(slot.projection.name())?;
            let mut overlay = Overlay::new(&space);
            apply_all(slot.projection.as_ref(), &unseen, &mut overlay)?;
            let writes = overlay.into_writes().map_err(|source| RunnerError::State {
                projection: slot.projection.name().to_owned(),
                source,
            })?;
            space.commit(
                &writes,
                StoredMeta {
                    meta: SpaceMeta {
                        version: slot.projection.version(),
                        checkpoint: last,
                    },
                    checkpoint_hash: Some(last_hash),
                },
            )?;
            slot.applied.send_replace(last);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::RebuildBudget;

    #[test]
    fn a_shared_budget_commits_the_projections_holding_their_share_once_it_is_spent() {
        // Four projections share 400 bytes: 100 each.
        let budget = RebuildBudget::new(400, 4);
        assert!(
            !budget.gathered(0, 250),
            "under the budget, even past a share"
        );
        assert!(!budget.gathered(0, 90), "340 in all");
        assert!(
            !budget.gathered(90, 80),
            "a pending write shrank: 330 in all"
        );
        // The budget is spent: the projection past its share commits, the small one does not.
        assert!(!budget.gathered(80, 99), "349: still under");
        assert!(
            !budget.gathered(0, 60),
            "409 in all, but 60 is under the share"
        );
        assert!(
            budget.gathered(250, 260),
            "419 in all, and 260 is past the share"
        );
        budget.committed(260);
        assert_eq!(
            budget.pending.load(std::sync::atomic::Ordering::Relaxed),
            159
        );
        assert!(
            !budget.gathered(99, 120),
            "under the budget again after the commit"
        );
    }

    #[test]
    fn one_projection_rebuilt_alone_has_the_whole_budget() {
        let budget = RebuildBudget::new(400, 1);
        assert!(!budget.gathered(0, 399));
        assert!(budget.gathered(399, 400));
    }
}
