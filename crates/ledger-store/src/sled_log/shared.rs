//! What the store's threads share — the database, the indexes, the published state and the
//! counters — and the read path, which serves only durable records and re-checks each one's
//! hash before it does.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError, RwLock, RwLockReadGuard};

use ledger_domain::ids::{EventId, Position, StreamId};
use tokio::sync::watch;

use crate::error::StoreFailure;
use crate::limits::READ_PAGE_MAX;
use crate::record::{Chunk, chunk_key, decode_record, record_hash};
use crate::subscription::{LogState, LogStatus, PageSource};
use crate::types::{Head, RecordedEvent, StoreStats};

use super::index::{Indexes, len_u64};
use super::writer::{OutcomeCounts, Staged};

/// What the store's threads share: the database, the indexes, the published state, counters.
pub(crate) struct Shared {
    pub db: sled::Db,
    pub tree: sled::Tree,
    pub indexes: RwLock<Indexes>,
    pub state: watch::Sender<LogState>,
    pub poison: Mutex<Option<String>>,
    pub stats: Stats,
}

impl fmt::Debug for Shared {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("Shared")
            .field("state", &*self.state.borrow())
            .finish_non_exhaustive()
    }
}

/// The store's counters.
#[derive(Debug, Default)]
pub(crate) struct Stats {
    appends: AtomicU64,
    duplicates: AtomicU64,
    conflicts: AtomicU64,
    events_written: AtomicU64,
    groups: AtomicU64,
    syncs: AtomicU64,
    blob_syncs: AtomicU64,
}

impl Stats {
    pub fn count_answers(&self, counts: OutcomeCounts) {
        self.appends.fetch_add(counts.appends, Ordering::Relaxed);
        self.duplicates
            .fetch_add(counts.duplicates, Ordering::Relaxed);
        self.conflicts
            .fetch_add(counts.conflicts, Ordering::Relaxed);
    }

    pub fn count_group(&self, counts: OutcomeCounts, events: u64, blob_syncs: u64) {
        self.count_answers(counts);
        self.events_written.fetch_add(events, Ordering::Relaxed);
        self.groups.fetch_add(1, Ordering::Relaxed);
        self.syncs.fetch_add(1, Ordering::Relaxed);
        self.blob_syncs.fetch_add(blob_syncs, Ordering::Relaxed);
    }
}

impl Shared {
    pub fn head(&self) -> Head {
        self.state.borrow().head
    }

    pub fn read_indexes(&self) -> RwLockReadGuard<'_, Indexes> {
        // The writer never panics while holding the lock with the indexes half-updated (it only
        // extends them); if a panic poisoned it anyway, the data is still whole.
        self.indexes.read().unwrap_or_else(PoisonError::into_inner)
    }

    /// Adds a durable group to the indexes, then publishes its head: a reader who sees the new
    /// head finds every index entry up to it. An index that could not take the group (a limit
    /// the writer checks before staging) is returned after the head is published: the group is
    /// durable either way.
    pub fn publish(&self, head: Head, staged: &Staged, chunk_starts: &[u64]) -> Result<(), String> {
        let extended = self
            .indexes
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .extend(staged, chunk_starts);
        self.state.send_modify(|state| state.head = head);
        extended
    }

    pub fn poison(&self, cause: String) {
        *lock(&self.poison) = Some(cause.clone());
        self.state.send_modify(|state| {
            if state.status == LogStatus::Open {
                state.status = LogStatus::Poisoned(cause);
            }
        });
    }

    pub fn mark_closed(&self) {
        self.state
            .send_modify(|state| state.status = LogStatus::Closed);
    }

    pub fn poisoned(&self) -> Option<String> {
        lock(&self.poison).clone()
    }

    /// The event id recorded at `position`, found through `indexes` (which the caller holds:
    /// the writer confirms the id index's candidates with it while it decides a group).
    pub fn event_id_at(&self, indexes: &Indexes, position: u64) -> Result<EventId, StoreFailure> {
        let start = indexes
            .chunk_holding(position)
            .ok_or_else(|| StoreFailure::Corrupt {
                position: Position(position),
                detail: "the event id index points before the first chunk".into(),
            })?;
        let chunk = self.load_chunk(start)?;
        Ok(self.serve(&chunk, start, position)?.event.event_id)
    }

    /// Where `event_id` was recorded, if it was.
    pub fn position_of(&self, event_id: EventId) -> Result<Option<u64>, StoreFailure> {
        let indexes = self.read_indexes();
        indexes.position_of(event_id, |position| self.event_id_at(&indexes, position))
    }

    pub fn load_chunk(&self, first_position: u64) -> Result<Chunk, StoreFailure> {
        let corrupt = |detail: String| StoreFailure::Corrupt {
            position: Position(first_position),
            detail,
        };
        let value = self
            .tree
            .get(chunk_key(first_position))
            .map_err(|error| StoreFailure::io("read of a chunk", error))?
            .ok_or_else(|| corrupt("the chunk starting here is missing".into()))?;
        Chunk::decode(&value)
            .map_err(|error| corrupt(format!("the chunk starting here does not decode: {error}")))
    }

    /// The record at `position`, which is in `chunk` (starting at `first_position`), checked
    /// against its hash before it is served.
    pub fn serve(
        &self,
        chunk: &Chunk,
        first_position: u64,
        position: u64,
    ) -> Result<RecordedEvent, StoreFailure> {
        let corrupt = |detail: String| StoreFailure::Corrupt {
            position: Position(position),
            detail,
        };
        let index = position
            .checked_sub(first_position)
            .and_then(|offset| usize::try_from(offset).ok())
            .filter(|&index| index < chunk.records.len())
            .ok_or_else(|| {
                corrupt(format!(
                    "the chunk starting at {first_position} does not hold this position"
                ))
            })?;
        let stored = &chunk.records[index];
        let prev_hash = chunk.prev_hash_of(index);
        if record_hash(&prev_hash, &stored.bytes) != stored.hash {
            return Err(corrupt(
                "the record's hash does not recompute: the record was altered".into(),
            ));
        }
        let record = decode_record(&stored.bytes, prev_hash, stored.hash).map_err(corrupt)?;
        if record.position.get() != position {
            return Err(corrupt(format!(
                "the record says it is at position {}",
                record.position
            )));
        }
        Ok(record)
    }

    pub fn read_all(&self, from: Position, max: usize) -> Result<Vec<RecordedEvent>, StoreFailure> {
        check_page(max)?;
        let first = from.get().max(1);
        let head = self.head().position.get();
        if max == 0 || first > head {
            return Ok(Vec::new());
        }
        let last = head.min(first.saturating_add(len_u64(max)).saturating_sub(1));
        let starts: Vec<u64> = {
            let indexes = self.read_indexes();
            let from_index = indexes
                .chunk_starts
                .partition_point(|&start| start <= first)
                .saturating_sub(1);
            let to_index = indexes.chunk_starts.partition_point(|&start| start <= last);
            indexes
                .chunk_starts
                .get(from_index..to_index)
                .unwrap_or_default()
                .to_vec()
        };
        let mut records = Vec::with_capacity(usize::try_from(last - first + 1).unwrap_or(0));
        for (index, &start) in starts.iter().enumerate() {
            let end = starts
                .get(index + 1)
                .map_or(last, |&next| next.saturating_sub(1).min(last));
            let chunk = self.load_chunk(start)?;
            for position in first.max(start)..=end {
                records.push(self.serve(&chunk, start, position)?);
            }
        }
        // Positions are served contiguous from `first`: check it on the way out too.
        if records
            .iter()
            .zip(first..)
            .any(|(record, expected)| record.position.get() != expected)
            || len_u64(records.len()) != last - first + 1
        {
            return Err(StoreFailure::Corrupt {
                position: Position(first),
                detail: "the chunk index does not cover the log contiguously".into(),
            });
        }
        Ok(records)
    }

    pub fn read_stream(
        &self,
        stream: &StreamId,
        from_version: u64,
        max: usize,
    ) -> Result<Vec<RecordedEvent>, StoreFailure> {
        check_page(max)?;
        let skip = usize::try_from(from_version.saturating_sub(1)).unwrap_or(usize::MAX);
        let located: Vec<(u64, u64)> = {
            let indexes = self.read_indexes();
            indexes
                .stream_positions(stream)
                .skip(skip)
                .take(max)
                .map(|position| (position, indexes.chunk_holding(position).unwrap_or(0)))
                .collect()
        };
        let mut records = Vec::with_capacity(located.len());
        let mut cached: Option<(u64, Chunk)> = None;
        let mut version = from_version.max(1);
        for (position, start) in located {
            if cached
                .as_ref()
                .is_none_or(|(cached_start, _)| *cached_start != start)
            {
                cached = Some((start, self.load_chunk(start)?));
            }
            if let Some((_, chunk)) = &cached {
                let record = self.serve(chunk, start, position)?;
                if record.stream != *stream || record.stream_version != version {
                    return Err(StoreFailure::Corrupt {
                        position: Position(position),
                        detail: format!(
                            "the stream index says {stream} version {version}, the record says {} version {}",
                            record.stream, record.stream_version
                        ),
                    });
                }
                records.push(record);
            }
            version = version.saturating_add(1);
        }
        Ok(records)
    }

    pub fn stats(&self) -> StoreStats {
        let load = |counter: &AtomicU64| counter.load(Ordering::Relaxed);
        StoreStats {
            appends: load(&self.stats.appends),
            duplicates: load(&self.stats.duplicates),
            conflicts: load(&self.stats.conflicts),
            events_written: load(&self.stats.events_written),
            groups: load(&self.stats.groups),
            syncs: load(&self.stats.syncs),
            blob_syncs: load(&self.stats.blob_syncs),
            index_bytes: self.read_indexes().memory_bytes(),
        }
    }
}

impl PageSource for Shared {
    fn read_page(&self, from: Position, max: usize) -> Result<Vec<RecordedEvent>, StoreFailure> {
        self.read_all(from, max)
    }
}

pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

fn check_page(max: usize) -> Result<(), StoreFailure> {
    if max > READ_PAGE_MAX {
        return Err(StoreFailure::PageTooLarge {
            requested: max,
            limit: READ_PAGE_MAX,
        });
    }
    Ok(())
}
