//! The sled implementation of [`EventLog`]: options, opening, the handle callers hold, the
//! trait's implementation and closing. The writer thread is in `writer.rs`, the shared state
//! and reads in `shared.rs`, recovery and verification in `verify.rs`.

mod compaction;
mod durability;
mod event_ids;
mod head_mark;
mod index;
mod replacement;
mod scan;
mod shared;
pub(crate) mod streams;
mod verify;
mod writer;

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::thread::JoinHandle;

use ledger_domain::ids::{EventId, Position, StreamId};
use tokio::sync::{mpsc, oneshot, watch};

use crate::access_log::AccessLog;
use crate::clock::{Clock, SystemClock};
use crate::data_keys::DataKeyStore;
use crate::error::{AppendError, ImportError, OpenError, StoreFailure};
use crate::faults::Faults;
use crate::limits::{
    CACHE_BYTES_DEFAULT, GROUP_EVENTS_DEFAULT, GROUP_EVENTS_MAX, GROUP_PAYLOAD_BYTES_MAX,
    QUEUE_CAPACITY_DEFAULT, QUEUE_CAPACITY_MAX, SLED_SEGMENT_BYTES,
};
use crate::log::EventLog;
use crate::projection_store::ProjectionStore;
use crate::subscription::{LogState, LogStatus, Subscription};
use crate::types::{AppendRequest, Appended, Head, RecordedEvent, StoreStats, VerifyReport};
use crate::validate::{check_append, check_import};

pub(crate) use self::durability::Durability;
pub(crate) use self::shared::Shared;
use self::shared::{Stats, lock};
use self::writer::{Io, IoStage, Message, Writer};

/// A record for the unit tests of the open walk and of `verify`, where only its place, stream
/// and event id matter.
#[cfg(test)]
pub(crate) fn test_record(
    position: u64,
    stream: &StreamId,
    version: u64,
    event_id: EventId,
) -> RecordedEvent {
    let at = jiff::Timestamp::from_second(1_700_000_000).expect("a valid second");
    RecordedEvent {
        position: Position(position),
        stream: stream.clone(),
        stream_version: version,
        recorded_at: at,
        prev_hash: crate::types::GENESIS_HASH,
        hash: crate::types::GENESIS_HASH,
        event: crate::types::NewEvent {
            event_id,
            event_type: "ContactRecorded".into(),
            schema_version: 1,
            occurred_at: at,
            actor: ledger_domain::ids::StaffId::parse("actor", "agent-0042").expect("a staff id"),
            correlation_id: None,
            causation_id: None,
            origin: None,
            payload: vec![1],
        },
    }
}

/// The directory, inside the data directory, that holds the log's sled database (the log, the
/// access records and the wrapped data keys).
pub const LOG_DIR_NAME: &str = "log";

/// The directory, inside the data directory, that holds the read models' sled database.
///
/// The read models are kept out of the log's database because sled 0.34.7, at every open,
/// rebuilds the page table of every tree in the database and writes zeros over every free
/// segment of its file, and read models are rewritten in bulk and their old generations
/// dropped, which leaves many free segments. When the open's walk still reopened the log's
/// database every 32 MiB of chunks, each reopen paid for them again (at 1 M events, 9.2 GB
/// written to open 330 MB of log). Data directories from before this one keep their read
/// models in the log's database.
pub const READ_MODELS_DIR_NAME: &str = "read-models";

/// Where `replay` of every projection builds a new read models' database. It is scratch: the
/// rebuild is then compacted into [`READ_MODELS_NEXT_DIR_NAME`], and removed once that is in
/// place (or at the next open, whatever happened).
pub const READ_MODELS_BUILD_DIR_NAME: &str = "read-models.build";

/// Where a compaction ([`SledEventLog::compact_read_models`]) writes a new read models'
/// database, which then replaces [`READ_MODELS_DIR_NAME`] whole (see [`replace_read_models`]).
pub const READ_MODELS_NEXT_DIR_NAME: &str = "read-models.next";

/// What [`READ_MODELS_DIR_NAME`] is renamed to while its replacement takes its place, and
/// removed after.
pub const READ_MODELS_OLD_DIR_NAME: &str = "read-models.old";

pub use self::compaction::{COMPACTION_BATCH_BYTES, Compaction};
pub use self::head_mark::HEAD_MARK_FILE_NAME;
pub use self::replacement::{discard_scratch_read_models, replace_read_models};

/// Which read models' database a store opens.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ReadModelsDb {
    /// The live one: [`READ_MODELS_DIR_NAME`], or the log's database in a data directory from
    /// before it.
    #[default]
    Live,
    /// A new, empty one in [`READ_MODELS_BUILD_DIR_NAME`], to build every read model into
    /// while the live one stays as it is; [`SledEventLog::compact_read_models`] then copies it
    /// into [`READ_MODELS_NEXT_DIR_NAME`], and [`replace_read_models`] puts that in the live
    /// one's place once the store is closed.
    Replacement,
}

/// The sled tree that holds chunks, the head and the metadata.
const TREE_NAME: &str = "log";

/// How the store is opened.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// Requests (or `append_many` batches) that may wait for the writer before callers wait for
    /// queue space. Default `QUEUE_CAPACITY_DEFAULT`, at most `QUEUE_CAPACITY_MAX`.
    pub queue_capacity: usize,
    /// Events the writer packs into one group commit. Default `GROUP_EVENTS_DEFAULT`, at most
    /// `GROUP_EVENTS_MAX`.
    pub group_events_max: usize,
    /// Where `recorded_at` comes from.
    pub clock: Arc<dyn Clock>,
    /// Failpoints (never armed outside tests).
    pub faults: Faults,
    /// sled's page cache in bytes, for each of the two databases (the log's and the read
    /// models'). Default `CACHE_BYTES_DEFAULT`.
    pub cache_bytes: u64,
    /// Which read models' database to open. Default [`ReadModelsDb::Live`].
    pub read_models: ReadModelsDb,
}

impl Default for StoreOptions {
    fn default() -> Self {
        Self {
            queue_capacity: QUEUE_CAPACITY_DEFAULT,
            group_events_max: GROUP_EVENTS_DEFAULT,
            clock: Arc::new(SystemClock),
            faults: Faults::new(),
            cache_bytes: CACHE_BYTES_DEFAULT,
            read_models: ReadModelsDb::Live,
        }
    }
}

impl StoreOptions {
    fn check(&self) -> Result<(), OpenError> {
        if !(1..=QUEUE_CAPACITY_MAX).contains(&self.queue_capacity) {
            return Err(OpenError::InvalidOptions {
                field: "queue_capacity",
                rule: format!(
                    "1 to QUEUE_CAPACITY_MAX = {QUEUE_CAPACITY_MAX} (got {})",
                    self.queue_capacity
                ),
            });
        }
        if !(1..=GROUP_EVENTS_MAX).contains(&self.group_events_max) {
            return Err(OpenError::InvalidOptions {
                field: "group_events_max",
                rule: format!(
                    "1 to GROUP_EVENTS_MAX = {GROUP_EVENTS_MAX} (got {})",
                    self.group_events_max
                ),
            });
        }
        Ok(())
    }
}

/// The sled configuration of a log database. The segment size is fixed at creation.
pub(crate) fn sled_config(db_dir: &Path, cache_bytes: u64) -> sled::Config {
    sled::Config::new()
        .path(db_dir)
        .segment_size(SLED_SEGMENT_BYTES)
        .cache_capacity(cache_bytes)
}

/// Opens the sled database and the log's tree in `dir/log`.
pub(crate) fn open_sled(
    dir: &Path,
    cache_bytes: u64,
) -> Result<(sled::Db, sled::Tree, PathBuf), OpenError> {
    let db_dir = dir.join(LOG_DIR_NAME);
    let db = open_sled_db(&db_dir, cache_bytes)?;
    let tree = db.open_tree(TREE_NAME).map_err(|error| OpenError::Sled {
        path: db_dir.clone(),
        message: error.to_string(),
    })?;
    Ok((db, tree, db_dir))
}

/// Opens (creating it if needed) the sled database in `db_dir`.
fn open_sled_db(db_dir: &Path, cache_bytes: u64) -> Result<sled::Db, OpenError> {
    let db_dir = db_dir.to_owned();
    std::fs::create_dir_all(&db_dir).map_err(|error| OpenError::Io {
        path: db_dir.clone(),
        message: error.to_string(),
    })?;
    let sled_error = |error: sled::Error| OpenError::Sled {
        path: db_dir.clone(),
        message: error.to_string(),
    };
    let config = sled_config(&db_dir, cache_bytes);
    let started = std::time::Instant::now();
    loop {
        // sled 0.34 panics on some damaged files while it recovers (the corruption sweep hit
        // "tried to serialize Uninitialized"); that is a refusal to open, so it is reported as
        // one instead of taking the process down.
        let opened = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| config.open()))
            .map_err(|panic| OpenError::Sled {
                path: db_dir.clone(),
                message: format!(
                    "sled failed while recovering the database, whose files are damaged: {}",
                    panic_message(panic.as_ref())
                ),
            })?;
        match opened {
            Ok(db) => return Ok(db),
            // sled's IO threads can hold the previous instance's file (and its lock) for a moment
            // after it is dropped, and a child process being spawned holds a copy of it until
            // it execs; so a held lock is retried for a bounded time before it is an error.
            Err(error) if is_lock_error(&error) && started.elapsed() < OPEN_LOCK_WAIT => {
                std::thread::sleep(OPEN_LOCK_RETRY);
            }
            Err(error) if is_lock_error(&error) => {
                return Err(OpenError::InUse { path: db_dir });
            }
            Err(error) => return Err(sled_error(error)),
        }
    }
}

/// Opens the database the read models live in: their own, in `dir/read-models`, or the log's
/// (`log_db`) in a data directory whose read models were written there before they had their
/// own (see [`READ_MODELS_DIR_NAME`]); or, for `which` = [`ReadModelsDb::Replacement`], a new
/// one in `dir/read-models.build`. First settles a replacement a crash interrupted. Returns
/// the database, and whether it is the log's.
fn open_read_models(
    dir: &Path,
    log_db: &sled::Db,
    cache_bytes: u64,
    which: ReadModelsDb,
) -> Result<(sled::Db, bool), OpenError> {
    for done in replacement::settle_replacement(dir)? {
        tracing::warn!(dir = %dir.display(), "{done}, which a crash had interrupted");
    }
    if which == ReadModelsDb::Replacement {
        return Ok((
            open_sled_db(&dir.join(READ_MODELS_BUILD_DIR_NAME), cache_bytes)?,
            false,
        ));
    }
    let own_dir = dir.join(READ_MODELS_DIR_NAME);
    let in_log = !own_dir.exists()
        && ProjectionStore::holds_any(log_db).map_err(|failure| OpenError::Sled {
            path: dir.join(LOG_DIR_NAME),
            message: failure.to_string(),
        })?;
    if in_log {
        tracing::warn!(
            "the read models are in the log's database ({}), as data directories written before \
             `{READ_MODELS_DIR_NAME}` kept them: they are served from there; `contact-ledger \
             compact` (with the server stopped) copies them into a database of their own, \
             served from then on",
            dir.join(LOG_DIR_NAME).display()
        );
        return Ok((log_db.clone(), true));
    }
    Ok((open_sled_db(&own_dir, cache_bytes)?, false))
}

/// The text a panic carried, if any.
fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| panic.downcast_ref::<&str>().map(|text| (*text).to_owned()))
        .unwrap_or_else(|| "no message".to_owned())
}

/// How long `open` waits for another holder of the database's lock to let go.
const OPEN_LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(2);
/// How often `open` tries the lock again meanwhile.
const OPEN_LOCK_RETRY: std::time::Duration = std::time::Duration::from_millis(10);

/// sled 0.34.7 reports a held lock as an `Other` IO error with this text.
fn is_lock_error(error: &sled::Error) -> bool {
    matches!(error, sled::Error::Io(io) if io.to_string().contains("could not acquire lock"))
}

/// The event log on sled. Cheap to clone; every clone is the same store. Dropping the last clone
/// drains the queue, syncs and stops the writer (prefer [`SledEventLog::close`] in async code).
#[derive(Debug, Clone)]
pub struct SledEventLog {
    handle: Arc<Handle>,
}

struct Handle {
    shared: Arc<Shared>,
    access: AccessLog,
    /// The read models' database (see [`READ_MODELS_DIR_NAME`]).
    read_models: sled::Db,
    /// Whether that is the log's database (a data directory from before they had their own).
    read_models_in_log: bool,
    cache_bytes: u64,
    faults: Faults,
    sender: Mutex<Option<mpsc::Sender<Message>>>,
    writer: Mutex<Option<JoinHandle<()>>>,
    group_events_max: usize,
    dir: PathBuf,
}

impl fmt::Debug for Handle {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("Handle")
            .field("dir", &self.dir)
            .field("shared", &self.shared)
            .finish_non_exhaustive()
    }
}

impl Handle {
    /// Closes the queue and waits for the writer thread to end.
    fn stop_writer(&self) {
        drop(lock(&self.sender).take());
        if let Some(writer) = lock(&self.writer).take() {
            // The writer ends once the queue is drained; a panic in it has already been
            // reported to every caller as `Unavailable`.
            let _ = writer.join();
            // The head is final now; a poisoned store's head is still the durable one.
            let head = self.shared.head();
            if let Err(error) = head_mark::write(&self.dir, &head) {
                tracing::warn!(%error, "could not write the head mark");
            }
        }
    }
}

impl Drop for Handle {
    fn drop(&mut self) {
        self.stop_writer();
    }
}

impl SledEventLog {
    /// Opens (or creates) the log in `dir`: the sled database lives in `dir/log/`. Reads every
    /// chunk, recomputing the hash chain and rebuilding the indexes; refuses a log whose records
    /// do not check out, naming the position (~2 µs per record: call it from `spawn_blocking`
    /// in async code when the log is large). Starts the writer thread (no async runtime is
    /// needed to open; appends are async). Waits up to 2 s for another holder of the database's
    /// lock to let go.
    pub fn open(dir: &Path, options: StoreOptions) -> Result<Self, OpenError> {
        Self::open_visiting(dir, options, &mut |_| {})
    }

    /// [`Self::open`], calling `visit` with every record in position order as the open's walk
    /// reads it (its hash recomputed and its link checked), so that what needs every record
    /// (the ledger's Merkle tree) gets it from the walk instead of reading the log again. When
    /// the open fails, what `visit` saw must be dropped: the walk may have found a problem
    /// after it.
    pub fn open_visiting(
        dir: &Path,
        options: StoreOptions,
        visit: &mut dyn FnMut(&RecordedEvent),
    ) -> Result<Self, OpenError> {
        options.check()?;
        let (db, tree, db_dir) = open_sled(dir, options.cache_bytes)?;
        let io_error = |error: std::io::Error| OpenError::Io {
            path: db_dir.clone(),
            message: error.to_string(),
        };
        let mut durability = Durability::open(&db_dir).map_err(io_error)?;
        durability.sync_everything().map_err(io_error)?;
        verify::check_meta(&tree, &db, &db_dir, &mut durability)?;
        let (recovered, db, tree) = verify::recover(
            (db, tree),
            || open_sled(dir, options.cache_bytes).map(|(db, tree, _)| (db, tree)),
            visit,
        )?;
        head_mark::check(dir, &tree, &recovered.head)?;
        head_mark::write(dir, &recovered.head).map_err(io_error)?;
        head_mark::remember_kept(&tree).map_err(|error| OpenError::Sled {
            path: db_dir.clone(),
            message: error.to_string(),
        })?;
        let settling = std::time::Instant::now();
        verify::settle(&tree, &db, &db_dir)?;
        tracing::debug!(elapsed = ?settling.elapsed(), "sled settled after opening");
        // Opened after the walk, whose memory is given back by then.
        let (read_models, read_models_in_log) =
            open_read_models(dir, &db, options.cache_bytes, options.read_models)?;
        tracing::info!(
            head = recovered.head.position.get(),
            streams = recovered.indexes.streams.len(),
            "event log opened"
        );
        let (state, _) = watch::channel(LogState {
            head: recovered.head,
            status: LogStatus::Open,
        });
        let shared = Arc::new(Shared {
            db,
            tree,
            indexes: RwLock::new(recovered.indexes),
            state,
            poison: Mutex::new(None),
            stats: Stats::default(),
        });
        let (sender, receiver) = mpsc::channel(options.queue_capacity);
        let io = IoStage::spawn(Io {
            shared: Arc::clone(&shared),
            durability,
            faults: options.faults.clone(),
        })
        .map_err(io_error)?;
        let writer = Writer::new(
            Arc::clone(&shared),
            receiver,
            io,
            Arc::clone(&options.clock),
            options.group_events_max,
            recovered
                .last_recorded_at
                .unwrap_or(jiff::Timestamp::UNIX_EPOCH),
        );
        let thread = std::thread::Builder::new()
            .name("ledger-store-writer".into())
            .spawn(move || writer.run())
            .map_err(io_error)?;
        let access = AccessLog::open(
            shared.db.clone(),
            &db_dir,
            Arc::clone(&options.clock),
            options.faults.clone(),
        )
        .map_err(|failure| OpenError::Io {
            path: db_dir.clone(),
            message: failure.to_string(),
        })?;
        Ok(Self {
            handle: Arc::new(Handle {
                shared,
                access,
                read_models,
                read_models_in_log,
                cache_bytes: options.cache_bytes,
                faults: options.faults.clone(),
                sender: Mutex::new(Some(sender)),
                writer: Mutex::new(Some(thread)),
                group_events_max: options.group_events_max,
                dir: dir.to_owned(),
            }),
        })
    }

    /// Checks a closed store without starting a writer: walks every record, recomputing the
    /// chain, and reports every problem it finds (where opening stops at the first). For the
    /// offline `verify` command.
    pub fn verify_dir(dir: &Path) -> Result<VerifyReport, OpenError> {
        verify::verify_dir(dir, verify::MarkCheck::Check)
    }

    /// `verify --accept-head`: checks the closed store in `dir` as [`Self::verify_dir`] does,
    /// but for its head mark (`DATA_DIR/log-head`), and when nothing else is wrong writes the
    /// mark again for the head the walk found, so the store opens: after the mark file was
    /// lost, or to accept a log that ends before its mark (its last records lost). The report
    /// says what was found; with any other problem nothing is written.
    pub fn accept_head(dir: &Path) -> Result<VerifyReport, OpenError> {
        verify::verify_dir(dir, verify::MarkCheck::Rewrite)
    }

    /// Stops taking appends, lets the writer drain the queue, flush and sync, and waits for it.
    /// Fails if the store was poisoned (some appends were refused) or the final sync failed.
    /// Subscriptions still hold the database open until they are dropped.
    pub async fn close(&self) -> Result<(), StoreFailure> {
        // Access records first: they share the database, and the last of them must be durable
        // before the store says it closed cleanly.
        let access = self.handle.access.close().await;
        drop(lock(&self.handle.sender).take());
        let mut state = self.handle.shared.state.subscribe();
        // `wait_for` only fails if the sender is gone, and `Shared` holds it.
        let _ = state
            .wait_for(|state| state.status == LogStatus::Closed)
            .await;
        self.handle.stop_writer();
        match self.handle.shared.poisoned() {
            Some(cause) => Err(StoreFailure::Poisoned { cause }),
            None => access,
        }
    }

    /// The record of reads of customers' personal data, in the same database (see
    /// [`crate::access_log`]).
    pub fn access(&self) -> &AccessLog {
        &self.handle.access
    }

    /// The projections' keyspaces, in the read models' own sled database (see
    /// [`READ_MODELS_DIR_NAME`]; the log's database in a data directory from before it).
    /// Holding one keeps that database open.
    pub fn projections(&self) -> ProjectionStore {
        ProjectionStore::new(self.handle.read_models.clone())
    }

    /// Copies every read model, in key order, into a new database in
    /// `DATA/`[`READ_MODELS_NEXT_DIR_NAME`], which [`replace_read_models`] puts in the live one's
    /// place once this store is closed (see `compaction`'s docs for why). Nothing may write
    /// the read models meanwhile. From a data directory whose read models are in the log's
    /// database, only their trees are copied, so that they get a database of their own.
    pub fn compact_read_models(&self) -> Result<Compaction, StoreFailure> {
        compaction::copy_into_next(
            &self.handle.read_models,
            self.handle.read_models_in_log,
            &self.handle.dir,
            self.handle.cache_bytes,
            &self.handle.faults,
        )
    }

    /// The wrapped data keys (see [`DataKeyStore`]), in the same sled database.
    pub fn data_keys(&self) -> Result<DataKeyStore, StoreFailure> {
        DataKeyStore::open(
            self.handle.shared.db.clone(),
            &self.handle.dir.join(LOG_DIR_NAME),
        )
    }

    /// The data directory this store was opened in.
    pub fn dir(&self) -> &Path {
        &self.handle.dir
    }

    /// Counters since the store was opened, and the indexes' memory estimate.
    /// Why the store refuses writes, if a write, flush or sync has failed since it was opened.
    pub fn poisoned(&self) -> Option<String> {
        self.handle.shared.poisoned()
    }

    pub fn stats(&self) -> StoreStats {
        self.handle.shared.stats()
    }

    /// A sender to the writer's queue, or why there is none.
    fn sender(&self) -> Result<mpsc::Sender<Message>, StoreFailure> {
        if let Some(cause) = self.handle.shared.poisoned() {
            return Err(StoreFailure::Poisoned { cause });
        }
        lock(&self.handle.sender)
            .clone()
            .ok_or(StoreFailure::Closed)
    }

    /// Sends one batch of checked requests; the receiver yields their outcomes.
    async fn send_batch(
        sender: &mpsc::Sender<Message>,
        requests: Vec<AppendRequest>,
        events: usize,
        payload_bytes: usize,
    ) -> Result<oneshot::Receiver<Vec<Result<Appended, AppendError>>>, StoreFailure> {
        let (reply, answer) = oneshot::channel();
        sender
            .send(Message::Append {
                requests,
                events,
                payload_bytes,
                reply,
            })
            .await
            .map_err(|_| StoreFailure::Closed)?;
        Ok(answer)
    }
}

/// A batch of `append_many` on its way to the writer.
struct Batch {
    indices: Vec<usize>,
    requests: Vec<AppendRequest>,
    events: usize,
    payload_bytes: usize,
}

impl Batch {
    fn new() -> Self {
        Self {
            indices: Vec::new(),
            requests: Vec::new(),
            events: 0,
            payload_bytes: 0,
        }
    }
}

impl EventLog for SledEventLog {
    async fn append(&self, request: AppendRequest) -> Result<Appended, AppendError> {
        let payload_bytes = check_append(&request)?;
        let sender = self.sender().map_err(AppendError::Unavailable)?;
        let events = request.events.len();
        let answer = Self::send_batch(&sender, vec![request], events, payload_bytes)
            .await
            .map_err(AppendError::Unavailable)?;
        drop(sender);
        let mut outcomes = answer
            .await
            .map_err(|_| AppendError::Unavailable(StoreFailure::Closed))?;
        outcomes
            .pop()
            .unwrap_or(Err(AppendError::Unavailable(StoreFailure::Closed)))
    }

    async fn append_many(
        &self,
        requests: Vec<AppendRequest>,
    ) -> Result<Vec<Result<Appended, AppendError>>, StoreFailure> {
        let sender = self.sender()?;
        let mut outcomes: Vec<Option<Result<Appended, AppendError>>> = vec![None; requests.len()];
        let mut batches = Vec::new();
        let mut batch = Batch::new();
        for (index, request) in requests.into_iter().enumerate() {
            let payload_bytes = match check_append(&request) {
                Ok(payload_bytes) => payload_bytes,
                Err(error) => {
                    outcomes[index] = Some(Err(error));
                    continue;
                }
            };
            let events = request.events.len();
            let overflows = batch.events.saturating_add(events) > self.handle.group_events_max
                || batch.payload_bytes.saturating_add(payload_bytes) > GROUP_PAYLOAD_BYTES_MAX;
            if !batch.requests.is_empty() && overflows {
                let full = std::mem::replace(&mut batch, Batch::new());
                let answer =
                    Self::send_batch(&sender, full.requests, full.events, full.payload_bytes).await;
                batches.push((full.indices, answer));
            }
            batch.indices.push(index);
            batch.requests.push(request);
            batch.events = batch.events.saturating_add(events);
            batch.payload_bytes = batch.payload_bytes.saturating_add(payload_bytes);
        }
        if !batch.requests.is_empty() {
            let answer =
                Self::send_batch(&sender, batch.requests, batch.events, batch.payload_bytes).await;
            batches.push((batch.indices, answer));
        }
        drop(sender);
        for (indices, answer) in batches {
            let answered = match answer {
                Ok(answer) => answer.await.ok(),
                Err(_) => None,
            };
            let mut answered = answered.unwrap_or_default().into_iter();
            for index in indices {
                outcomes[index] = Some(
                    answered
                        .next()
                        .unwrap_or(Err(AppendError::Unavailable(StoreFailure::Closed))),
                );
            }
        }
        Ok(outcomes
            .into_iter()
            .map(|outcome| outcome.unwrap_or(Err(AppendError::Unavailable(StoreFailure::Closed))))
            .collect())
    }

    fn read_stream(
        &self,
        stream: &StreamId,
        from_version: u64,
        max: usize,
    ) -> Result<Vec<RecordedEvent>, StoreFailure> {
        self.handle.shared.read_stream(stream, from_version, max)
    }

    fn read_all(&self, from: Position, max: usize) -> Result<Vec<RecordedEvent>, StoreFailure> {
        self.handle.shared.read_all(from, max)
    }

    fn subscribe(&self, from: Position) -> Subscription {
        let shared = Arc::clone(&self.handle.shared);
        let state = shared.state.subscribe();
        Subscription::new(shared, state, from)
    }

    fn head(&self) -> Head {
        self.handle.shared.head()
    }

    fn stream_version(&self, stream: &StreamId) -> u64 {
        self.handle.shared.read_indexes().stream_version(stream)
    }

    fn position_of(&self, event_id: EventId) -> Option<Position> {
        // A candidate the index gives is confirmed by reading its record; a store that cannot
        // read it is failing, and says so, but the answer is still only what could be read.
        match self.handle.shared.position_of(event_id) {
            Ok(position) => position.map(Position),
            Err(failure) => {
                tracing::error!(%event_id, %failure, "looking up an event id");
                None
            }
        }
    }

    fn verify(&self) -> VerifyReport {
        self.handle.shared.verify()
    }

    async fn import_recorded(&self, records: Vec<RecordedEvent>) -> Result<Head, ImportError> {
        let (records, payload_bytes) = check_import(records)?;
        let sender = self.sender().map_err(ImportError::Unavailable)?;
        let (reply, answer) = oneshot::channel();
        sender
            .send(Message::Import {
                records,
                payload_bytes,
                reply,
            })
            .await
            .map_err(|_| ImportError::Unavailable(StoreFailure::Closed))?;
        drop(sender);
        answer
            .await
            .map_err(|_| ImportError::Unavailable(StoreFailure::Closed))?
    }
}
