//! The contract between a projection and the runner that feeds it.
//!
//! A projection is a pure fold: given the same events in the same order it writes the same
//! key-value state. It sees each event once, in log order, through [`Projection::apply`], and
//! writes only through [`StateWrite`]; it never knows where the state lives (the runner keeps
//! it in the store, a test keeps it in a [`MemoryState`]). The runner commits the writes of a
//! batch of events together with the projection's checkpoint, atomically, so a crash can never
//! leave state from an event without its checkpoint or the other way round.
//!
//! Values are encoded with [`crate::codec`], like everything else the ledger stores.
//!
//! Two submodules hold what the projections' folds and queries share: [`storage`] reads and
//! writes encoded values and walks a prefix in bounded batches, and [`paging`] answers cursor
//! pages over one index.

use std::collections::BTreeMap;
use std::ops::Bound;

use jiff::Timestamp;

use crate::events::Event;
use crate::ids::{EventId, Position, StaffId, StreamId};

pub mod paging;
pub mod storage;
#[doc(hidden)]
pub mod testing;

/// One recorded event as a projection sees it: the envelope's facts and the decoded payload.
#[derive(Debug, Clone, Copy)]
pub struct Envelope<'a> {
    pub position: Position,
    pub stream: &'a StreamId,
    pub stream_version: u64,
    pub event_id: EventId,
    pub occurred_at: Timestamp,
    pub recorded_at: Timestamp,
    pub actor: &'a StaffId,
    pub event: &'a Event,
    /// The event's personal fields could not be opened, and hold their erased values (see
    /// [`crate::personal`]): its data subject's key was destroyed (the customer was erased), or
    /// is held by the ledger this one's history was exported from. They read as erased: a fold
    /// treats them as it treats an erased customer's, so a rebuild, which no longer can open an
    /// erased customer's earlier events, writes what the live fold wrote once it saw the
    /// erasure, and a customer whose key stayed in another ledger reads as erased, not blank.
    pub redacted: bool,
}

/// The state could not be read or written (a disk error under the runner's store). Not a
/// domain outcome: the runner stops the projection and reports it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("projection state: {0}")]
pub struct StateError(pub String);

/// Which way a range is walked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    Ascending,
    Descending,
}

/// A key-value pair read from a projection's state.
pub type Entry = (Vec<u8>, Vec<u8>);

/// Read access to one projection's keyspace.
pub trait StateRead {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StateError>;

    /// Entries whose keys lie in `[start, end)` (an empty `end` means "to the end of the
    /// keyspace"), walked in `order`, at most `limit` of them.
    fn range(
        &self,
        start: &[u8],
        end: &[u8],
        order: Order,
        limit: usize,
    ) -> Result<Vec<Entry>, StateError>;

    /// Entries whose keys start with `prefix`, in `order`, at most `limit`.
    fn prefix(&self, prefix: &[u8], order: Order, limit: usize) -> Result<Vec<Entry>, StateError> {
        match prefix_end(prefix) {
            Some(end) => self.range(prefix, &end, order, limit),
            None => self.range(prefix, &[], order, limit),
        }
    }
}

/// Write access: what [`Projection::apply`] is given. Reads see the writes made before them.
pub trait StateWrite: StateRead {
    fn put(&mut self, key: Vec<u8>, value: Vec<u8>);
    fn delete(&mut self, key: &[u8]);

    /// Takes the decoded value this state keeps for `key` in place of its bytes, if it keeps
    /// one (see [`Typed`]); `None` otherwise, and always for a state that keeps only bytes. A
    /// value taken must be written again (by [`StateWrite::put_typed`], `put` or `delete`)
    /// before `apply` returns: until then, reads of `key` see what lay beneath it.
    fn take_typed(&mut self, key: &[u8]) -> Option<Box<dyn Typed>> {
        let _ = key;
        None
    }

    /// Writes `value`: a state that keeps decoded values keeps it decoded until it commits
    /// (reads of `key` meanwhile see its encoding); any other stores its bytes now.
    fn put_typed(&mut self, key: Vec<u8>, value: Box<dyn Typed>) -> Result<(), StateError> {
        let bytes = value.encode()?;
        self.put(key, bytes);
        Ok(())
    }
}

/// A value a fold reads, changes and writes again at event after event (a customer's record of
/// facts), which a state may keep decoded between events instead of decoding and encoding it
/// each time: [`StateWrite::take_typed`] gives it back, and it is encoded once, when the state
/// commits. Its encoding must be what the fold would `put`, so a rebuild gives the same bytes
/// either way. The runner's overlay keeps decoded values in a hash map, and a range read scans
/// them all: keep values decoded in a fold that reads them by key, not in one that also reads
/// ranges at each event.
pub trait Typed: std::any::Any + Send + Sync + std::fmt::Debug {
    /// The bytes the value is stored as.
    fn encode(&self) -> Result<Vec<u8>, StateError>;

    /// Roughly the memory the value holds, for the bound on a rebuild's pending writes.
    fn held_bytes(&self) -> usize;
}

/// A read model built by folding the log.
pub trait Projection: Send + Sync {
    /// Stable name: the name of its keyspace, of its checkpoint, and on the command line.
    fn name(&self) -> &'static str;

    /// The layout version of the read model. The runner rebuilds a projection from position 0
    /// when the stored version differs, so changing what `apply` writes means bumping this.
    fn version(&self) -> u32;

    /// Folds one event into the state. Events that do not concern the projection are ignored.
    /// Pure: no clock, no randomness, no IO but `state`.
    fn apply(&self, envelope: &Envelope<'_>, state: &mut dyn StateWrite) -> Result<(), StateError>;
}

/// The first key after every key that starts with `prefix`, or `None` when there is none
/// (the prefix is all `0xff`).
pub fn prefix_end(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < u8::MAX {
            end.push(last + 1);
            return Some(end);
        }
    }
    None
}

/// State kept in memory: for tests, and for building a read model as of a past position.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemoryState {
    entries: BTreeMap<Vec<u8>, Vec<u8>>,
}

impl MemoryState {
    pub fn new() -> Self {
        Self::default()
    }

    /// Every entry in key order: a canonical dump to compare two builds of a read model.
    pub fn entries(&self) -> &BTreeMap<Vec<u8>, Vec<u8>> {
        &self.entries
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// Collects at most `limit` entries of `[start, end)` from a `BTreeMap` in `order`.
pub fn range_of_map(
    map: &BTreeMap<Vec<u8>, Vec<u8>>,
    start: &[u8],
    end: &[u8],
    order: Order,
    limit: usize,
) -> Vec<Entry> {
    let upper = if end.is_empty() {
        Bound::Unbounded
    } else {
        Bound::Excluded(end)
    };
    let range = map.range::<[u8], _>((Bound::Included(start), upper));
    let clone = |(key, value): (&Vec<u8>, &Vec<u8>)| (key.clone(), value.clone());
    match order {
        Order::Ascending => range.take(limit).map(clone).collect(),
        Order::Descending => range.rev().take(limit).map(clone).collect(),
    }
}

impl StateRead for MemoryState {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StateError> {
        Ok(self.entries.get(key).cloned())
    }

    fn range(
        &self,
        start: &[u8],
        end: &[u8],
        order: Order,
        limit: usize,
    ) -> Result<Vec<Entry>, StateError> {
        Ok(range_of_map(&self.entries, start, end, order, limit))
    }
}

impl StateWrite for MemoryState {
    fn put(&mut self, key: Vec<u8>, value: Vec<u8>) {
        self.entries.insert(key, value);
    }

    fn delete(&mut self, key: &[u8]) {
        self.entries.remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_end_skips_trailing_ff() {
        assert_eq!(prefix_end(b"ab"), Some(b"ac".to_vec()));
        assert_eq!(prefix_end(&[1, 0xff]), Some(vec![2]));
        assert_eq!(prefix_end(&[0xff, 0xff]), None);
    }

    #[test]
    fn memory_state_ranges_both_ways_with_limits() {
        let mut state = MemoryState::new();
        for key in [b"a1", b"a2", b"a3", b"b1"] {
            state.put(key.to_vec(), key.to_vec());
        }
        let keys =
            |entries: Vec<Entry>| entries.into_iter().map(|(key, _)| key).collect::<Vec<_>>();
        assert_eq!(
            keys(state.prefix(b"a", Order::Ascending, 10).unwrap()),
            vec![b"a1".to_vec(), b"a2".to_vec(), b"a3".to_vec()]
        );
        assert_eq!(
            keys(state.prefix(b"a", Order::Descending, 2).unwrap()),
            vec![b"a3".to_vec(), b"a2".to_vec()]
        );
        assert_eq!(
            keys(state.range(b"a2", b"", Order::Ascending, 10).unwrap()).len(),
            3
        );
        state.delete(b"a2");
        assert_eq!(state.get(b"a2").unwrap(), None);
        assert_eq!(state.len(), 3);
    }
}
