//! The projection runner: feeds every registered projection the log, in order, exactly once.
//!
//! Each projection's state lives in its own keyspace (a [`ProjectionSpace`]) with its checkpoint
//! beside it, written in the same atomic batch as the state derived from the events up to it.
//! On start, a projection that was never built, or whose layout version changed, is rebuilt
//! from position 0 into a fresh generation that replaces the old one only when complete, so
//! readers never see a half-built model. Then one task follows the log: it catches up in large
//! batches (one commit per [`CATCH_UP_COMMIT_EVENTS`] events) and then applies live records as
//! they become durable. [`ProjectionRunner::wait_for`] resolves when the projections have
//! applied a position; read-your-writes rests on it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use ledger_domain::events::Event;
use ledger_domain::ids::Position;
use ledger_domain::projection::{Envelope, MemoryState, Projection, StateError, StateWrite};
use ledger_store::limits::READ_PAGE_MAX;
use ledger_store::{
    EventLog, ProjectionSpace, ProjectionStore, RecordedEvent, SledEventLog, SpaceMeta,
    StoreFailure,
};
use tokio::sync::watch;

use crate::overlay::Overlay;
use crate::personal::KeyRing;

/// Events applied between two commits while catching up: large batches make a rebuild fast;
/// the bound keeps the pending writes of one batch in memory within reason.
pub const CATCH_UP_COMMIT_EVENTS: usize = 16_384;

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

struct Inner {
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
    let event = &record.event;
    keys.open_payload(
        event.event_id,
        &event.event_type,
        event.schema_version,
        &event.payload,
    )
    .map(|opened| opened.event)
    .map_err(|error| RunnerError::Undecodable {
        position: record.position,
        event_type: event.event_type.clone(),
        version: event.schema_version,
        detail: error.to_string(),
    })
}

/// Folds `records` (with their decoded events) into `state` through `projection`.
fn apply_all(
    projection: &dyn Projection,
    batch: &[(RecordedEvent, Event)],
    state: &mut dyn StateWrite,
) -> Result<(), RunnerError> {
    for (record, event) in batch {
        let envelope = Envelope {
            position: record.position,
            stream: &record.stream,
            stream_version: record.stream_version,
            event_id: record.event.event_id,
            occurred_at: record.event.occurred_at,
            recorded_at: record.recorded_at,
            actor: &record.event.actor,
            event,
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
) -> Result<Vec<(RecordedEvent, Event)>, RunnerError> {
    let page = log.read_all(from, max.min(READ_PAGE_MAX))?;
    page.into_iter()
        .take_while(|record| record.position <= to)
        .map(|record| decode(keys, &record).map(|event| (record, event)))
        .collect()
}

impl ProjectionRunner {
    /// Registers `projections` over `log`. Nothing runs until [`ProjectionRunner::catch_up`] or
    /// [`ProjectionRunner::spawn`].
    pub fn new(
        log: SledEventLog,
        projections: Vec<Arc<dyn Projection>>,
        keys: Arc<KeyRing>,
    ) -> Result<Self, RunnerError> {
        let store = log.projections();
        let mut slots = Vec::with_capacity(projections.len());
        let mut by_name = HashMap::new();
        for projection in projections {
            let active = store.active(projection.name())?;
            let applied = match &active {
                Some(space) => space
                    .meta()?
                    .filter(|meta| meta.version == projection.version())
                    .map_or(Position::ZERO, |meta| meta.checkpoint),
                None => Position::ZERO,
            };
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
            }),
        })
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

    /// Brings every projection up to the log's head now (blocking): rebuilds those never built or
    /// built with another layout version into fresh generations and switches readers to them
    /// when complete; catches the others up in place. Returns the position reached.
    pub fn catch_up(&self) -> Result<Position, RunnerError> {
        let head = self.inner.log.head().position;
        for slot in &self.inner.slots {
            self.catch_up_slot(slot, head)?;
        }
        Ok(head)
    }

    fn catch_up_slot(&self, slot: &Slot, head: Position) -> Result<(), RunnerError> {
        let projection = slot.projection.as_ref();
        let active = slot
            .active
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone();
        let current = match &active {
            Some(space) => space
                .meta()?
                .filter(|meta| meta.version == projection.version())
                .map(|meta| (space.clone(), meta)),
            None => None,
        };
        match current {
            Some((space, meta)) => {
                self.feed(projection, &space, meta.checkpoint, head, &mut |position| {
                    slot.applied.send_replace(position);
                })?;
            }
            None => {
                let space = self.rebuild_into_fresh(projection, head, &mut |_| {})?;
                self.inner.store.activate(&space)?;
                *slot
                    .active
                    .write()
                    .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(space);
                slot.applied.send_replace(head);
            }
        }
        Ok(())
    }

    /// Builds `projection` from position 0 up to `to` into a fresh, inactive generation;
    /// `progress` hears each committed position.
    fn rebuild_into_fresh(
        &self,
        projection: &dyn Projection,
        to: Position,
        progress: &mut dyn FnMut(Position),
    ) -> Result<ProjectionSpace, RunnerError> {
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
            to = to.get(),
            "building projection from position 0"
        );
        self.feed(projection, &space, Position::ZERO, to, progress)?;
        Ok(space)
    }

    /// Applies the records after `from` up to `to` to `space`, committing every
    /// [`CATCH_UP_COMMIT_EVENTS`] events with the checkpoint; `committed` hears each checkpoint.
    fn feed(
        &self,
        projection: &dyn Projection,
        space: &ProjectionSpace,
        from: Position,
        to: Position,
        committed: &mut dyn FnMut(Position),
    ) -> Result<(), RunnerError> {
        let mut cursor = from;
        while cursor < to {
            let mut overlay = Overlay::new(space);
            let mut applied = 0;
            while applied < CATCH_UP_COMMIT_EVENTS && cursor < to {
                let batch = read_decoded(
                    &self.inner.log,
                    &self.inner.keys,
                    cursor.next(),
                    to,
                    CATCH_UP_COMMIT_EVENTS - applied,
                )?;
                let Some((last, _)) = batch.last() else { break };
                let last = last.position;
                apply_all(projection, &batch, &mut overlay)?;
                applied += batch.len();
                cursor = last;
            }
            space.commit(
                &overlay.into_writes(),
                SpaceMeta {
                    version: projection.version(),
                    checkpoint: cursor,
                },
            )?;
            committed(cursor);
        }
        Ok(())
    }

    /// Rebuilds one projection from position 0 into a fresh generation and switches readers to
    /// it when complete (`contact-ledger replay --projection NAME`). Returns the position reached.
    pub fn rebuild(&self, name: &str) -> Result<Position, RunnerError> {
        self.rebuild_with_progress(name, &mut |_| {})
    }

    /// [`Self::rebuild`], telling `progress` each position committed on the way.
    pub fn rebuild_with_progress(
        &self,
        name: &str,
        progress: &mut dyn FnMut(Position),
    ) -> Result<Position, RunnerError> {
        let slot = self.slot(name)?;
        let head = self.inner.log.head().position;
        let space = self.rebuild_into_fresh(slot.projection.as_ref(), head, progress)?;
        self.inner.store.activate(&space)?;
        *slot
            .active
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(space);
        slot.applied.send_replace(head);
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
        let batch: Vec<(RecordedEvent, Event)> = records
            .into_iter()
            .map(|record| decode(&self.inner.keys, &record).map(|event| (record, event)))
            .collect::<Result<_, _>>()?;
        let Some((last, _)) = batch.last() else {
            return Ok(());
        };
        let last = last.position;
        for slot in &self.inner.slots {
            let applied = *slot.applied.borrow();
            let unseen: Vec<(RecordedEvent, Event)> = batch
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
            space.commit(
                &overlay.into_writes(),
                SpaceMeta {
                    version: slot.projection.version(),
                    checkpoint: last,
                },
            )?;
            slot.applied.send_replace(last);
        }
        Ok(())
    }
}
