//! The in-memory indexes, rebuilt from the packed chunks each time the store opens: event id →
//! position (permanent idempotency), stream → positions by version, and the first position of
//! every chunk (to find the chunk that holds a position without a key per record).
//!
//! Memory: per event, one 8-byte entry of the event id index (`event_ids.rs`: hash bits and
//! position, ~10 bytes with its buckets' room) and a delta in its stream's blob (1 to 4 bytes,
//! `streams.rs`). Per stream, a blob of its packed id, count and last position (~30 bytes) and
//! a table slot (~7 bytes). Per chunk, 8 bytes. [`Indexes::memory_bytes`] gives the current
//! estimate.

use std::mem::size_of;

use ledger_domain::ids::{EventId, StreamId};

use super::event_ids::EventIds;
use super::streams::{Positions, StreamIndex};
use super::writer::Staged;
use crate::error::StoreFailure;

#[derive(Debug, Default)]
pub(crate) struct Indexes {
    /// Where each event id was recorded (as candidates to confirm: see [`Self::position_of`]).
    pub event_ids: EventIds,
    /// Each stream's positions by version, increasing.
    pub streams: StreamIndex,
    /// The first position of every chunk, increasing.
    pub chunk_starts: Vec<u64>,
}

impl Indexes {
    /// Empty indexes sized for a ledger of `events`.
    pub fn for_events(events: u64) -> Self {
        Self {
            event_ids: EventIds::for_events(events),
            streams: StreamIndex::for_events(events),
            ..Self::default()
        }
    }

    /// Where `event_id` was recorded: the candidate whose record `id_at` (the event id at a
    /// position, read from the log) confirms.
    pub fn position_of(
        &self,
        event_id: EventId,
        mut id_at: impl FnMut(u64) -> Result<EventId, StoreFailure>,
    ) -> Result<Option<u64>, StoreFailure> {
        for candidate in self.event_ids.candidates(event_id) {
            if id_at(candidate)? == event_id {
                return Ok(Some(candidate));
            }
        }
        Ok(None)
    }

    pub fn stream_version(&self, stream: &StreamId) -> u64 {
        self.streams.version(stream)
    }

    /// The stream's positions, version 1 first.
    pub fn stream_positions(&self, stream: &StreamId) -> Positions<'_> {
        self.streams.positions(stream)
    }

    /// The first position of the chunk that holds `position`, if any chunk starts at or before
    /// it.
    pub fn chunk_holding(&self, position: u64) -> Option<u64> {
        let after = self
            .chunk_starts
            .partition_point(|&start| start <= position);
        after.checked_sub(1).map(|index| self.chunk_starts[index])
    }

    /// Adds one record (used while rebuilding; the writer extends in bulk) and returns the
    /// stream's version before it. Fails, naming the limit, when the stream index cannot hold
    /// it.
    pub fn add(
        &mut self,
        position: u64,
        event_id: EventId,
        stream: &StreamId,
    ) -> Result<u64, String> {
        self.event_ids.insert(event_id, position);
        self.streams.extend(stream, &[position])
    }

    /// Adds the records of a committed group. The writer checked the stream index's room before
    /// it staged them (`StreamIndex::check_room`), so an error here is a broken invariant: every
    /// other stream of the group is still added, and the first error is returned.
    pub fn extend(&mut self, staged: &Staged, chunk_starts: &[u64]) -> Result<(), String> {
        for (&event_id, &position) in &staged.event_positions {
            self.event_ids.insert(event_id, position);
        }
        let mut first_error = Ok(());
        for (stream, positions) in &staged.streams {
            if let Err(error) = self.streams.extend(stream, positions) {
                first_error = first_error.and(Err(error));
            }
        }
        self.chunk_starts.extend_from_slice(chunk_starts);
        first_error
    }

    /// Whether the chunk starting at `first_position` is indexed (published).
    pub fn holds_chunk(&self, first_position: u64) -> bool {
        self.chunk_starts
            .last()
            .is_some_and(|&last| last >= first_position)
    }

    /// An estimate of the heap bytes held, from capacities.
    pub fn memory_bytes(&self) -> u64 {
        let ids = self.event_ids.memory_bytes();
        let streams = self.streams.memory_bytes();
        let chunks = self.chunk_starts.capacity() * size_of::<u64>();
        len_u64(ids + streams + chunks)
    }
}

/// A length as `u64`; `usize` is at most 64 bits on every target this builds for.
pub(crate) fn len_u64(length: usize) -> u64 {
    u64::try_from(length).unwrap_or(u64::MAX)
}
