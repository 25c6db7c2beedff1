//! Pending writes over a projection's committed state: what a projection writes while a batch
//! is applied, visible to its own later reads, committed in one atomic batch at the end.
//!
//! A value a fold writes with [`StateWrite::put_typed`] is kept decoded ([`TypedWrites`]) and
//! carried from batch to batch with the rest of a rebuild's pending writes, so a record the fold
//! changes at event after event is decoded once and encoded once a commit, not once an event;
//! [`Pending::settle`] encodes them for the commit. A key is in `writes` or in `typed`, never
//! both.

use std::collections::{BTreeMap, HashMap};
use std::ops::Bound;

use ledger_domain::projection::{Entry, Order, StateError, StateRead, StateWrite, Typed};
use ledger_store::{WriteKey, Writes, write_key};

/// What one pending write is counted as beside its key and value: the map's node share and the
/// two vectors' headers, roughly.
const ENTRY_OVERHEAD_BYTES: usize = 64;

/// Values written decoded, by key, until they are encoded for a commit.
pub type TypedWrites = HashMap<Vec<u8>, Box<dyn Typed>>;

/// A batch in progress over `base`.
#[derive(Debug)]
pub struct Overlay<'a, B: StateRead + ?Sized> {
    base: &'a B,
    writes: Writes,
    typed: TypedWrites,
    /// What `writes` and `typed` hold in memory, roughly (see [`Pending::bytes`]).
    bytes: usize,
}

/// The memory one pending write holds, roughly.
fn held_bytes(key: &[u8], value: Option<&Vec<u8>>) -> usize {
    key.len() + value.map_or(0, Vec::len) + ENTRY_OVERHEAD_BYTES
}

/// The memory one value kept decoded holds, roughly.
fn typed_held_bytes(key: &[u8], value: &dyn Typed) -> usize {
    key.len() + value.held_bytes() + ENTRY_OVERHEAD_BYTES
}

/// Writes gathered by an overlay and not committed yet, carried to the next batch's overlay
/// (a rebuild commits every so many bytes, not every batch).
#[derive(Debug, Default)]
pub struct Pending {
    pub writes: Writes,
    /// Values kept decoded; [`Pending::settle`] moves them into `writes`.
    pub typed: TypedWrites,
    /// What `writes` and `typed` hold in memory, roughly: keys, values and a fixed share a
    /// write.
    pub bytes: usize,
}

impl Pending {
    /// Encodes the values kept decoded into `writes`, which then holds everything to commit.
    pub fn settle(&mut self) -> Result<(), StateError> {
        for (key, value) in self.typed.drain() {
            self.writes.insert(write_key(key), Some(value.encode()?));
        }
        Ok(())
    }
}

impl<'a, B: StateRead + ?Sized> Overlay<'a, B> {
    pub fn new(base: &'a B) -> Self {
        Self::resume(base, Pending::default())
    }

    /// A batch that goes on from `pending`, gathered over `base` earlier.
    pub fn resume(base: &'a B, pending: Pending) -> Self {
        Self {
            base,
            writes: pending.writes,
            typed: pending.typed,
            bytes: pending.bytes,
        }
    }

    pub fn into_pending(self) -> Pending {
        Pending {
            writes: self.writes,
            typed: self.typed,
            bytes: self.bytes,
        }
    }

    fn record(&mut self, key: Vec<u8>, value: Option<Vec<u8>>) {
        self.forget_typed(&key);
        let added = held_bytes(&key, value.as_ref());
        let value_bytes = value.as_ref().map_or(0, Vec::len);
        self.bytes = match self.writes.insert(write_key(key), value) {
            // The key and the share were counted with the value replaced.
            Some(replaced) => {
                (self.bytes + value_bytes).saturating_sub(replaced.as_ref().map_or(0, Vec::len))
            }
            None => self.bytes + added,
        };
    }

    /// Removes `key`'s decoded value, if any, and its share of the bytes.
    fn forget_typed(&mut self, key: &[u8]) -> Option<Box<dyn Typed>> {
        if self.typed.is_empty() {
            return None;
        }
        let value = self.typed.remove(key)?;
        self.bytes = self
            .bytes
            .saturating_sub(typed_held_bytes(key, value.as_ref()));
        Some(value)
    }

    /// How many keys the batch writes or deletes.
    pub fn len(&self) -> usize {
        self.writes.len() + self.typed.len()
    }

    pub fn is_empty(&self) -> bool {
        self.writes.is_empty() && self.typed.is_empty()
    }

    /// Everything the batch wrote, encoded, for a commit.
    pub fn into_writes(self) -> Result<Writes, StateError> {
        let mut pending = self.into_pending();
        pending.settle()?;
        Ok(pending.writes)
    }
}

impl<B: StateRead + ?Sized> StateRead for Overlay<'_, B> {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StateError> {
        if let Some(value) = self.typed.get(key) {
            return value.encode().map(Some);
        }
        layered_get(&self.writes, self.base, key)
    }

    fn range(
        &self,
        start: &[u8],
        end: &[u8],
        order: Order,
        limit: usize,
    ) -> Result<Vec<Entry>, StateError> {
        // Decoded values inside the range, encoded: a scan of them all, since the folds that
        // keep values decoded read them by key, not by range.
        let mut typed = Vec::new();
        for (key, value) in &self.typed {
            if key.as_slice() >= start && (end.is_empty() || key.as_slice() < end) {
                typed.push((key.clone(), value.encode()?));
            }
        }
        if typed.is_empty() {
            return layered_range(&self.writes, self.base, start, end, order, limit);
        }
        // Every decoded key can hide at most one entry beneath, as in `layered_range`.
        let beneath = layered_range(
            &self.writes,
            self.base,
            start,
            end,
            order,
            limit.saturating_add(typed.len()),
        )?;
        let mut merged: BTreeMap<Vec<u8>, Vec<u8>> = beneath.into_iter().collect();
        merged.extend(typed);
        Ok(first_in_order(merged, order, limit))
    }
}

/// Writes being committed on another thread, read over the state they are committed to: what
/// a rebuild reads beneath its new pending writes while its previous commit runs. Until the
/// commit ends, a key it writes may be in sled in its old or its new value, so these writes
/// answer for it; every other key is the same in sled before, during and after the commit.
#[derive(Debug)]
pub struct Layered<'a, B: StateRead + ?Sized> {
    pub writes: &'a Writes,
    pub base: &'a B,
}

impl<B: StateRead + ?Sized> StateRead for Layered<'_, B> {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StateError> {
        layered_get(self.writes, self.base, key)
    }

    fn range(
        &self,
        start: &[u8],
        end: &[u8],
        order: Order,
        limit: usize,
    ) -> Result<Vec<Entry>, StateError> {
        layered_range(self.writes, self.base, start, end, order, limit)
    }
}

/// `key` as `writes` leave it over `base`.
fn layered_get<B: StateRead + ?Sized>(
    writes: &Writes,
    base: &B,
    key: &[u8],
) -> Result<Option<Vec<u8>>, StateError> {
    match writes.get(key) {
        Some(value) => Ok(value.clone()),
        None => base.get(key),
    }
}

/// The entries of `[start, end)` as `writes` leave them over `base`.
fn layered_range<B: StateRead + ?Sized>(
    writes: &Writes,
    base: &B,
    start: &[u8],
    end: &[u8],
    order: Order,
    limit: usize,
) -> Result<Vec<Entry>, StateError> {
    if !end.is_empty() && start >= end {
        // An empty range: `BTreeMap::range` (here and in the base) panics on start > end.
        return Ok(Vec::new());
    }
    let upper = if end.is_empty() {
        Bound::Unbounded
    } else {
        Bound::Excluded(end)
    };
    // Only the writes inside the range, found by the map's own range walk: a scan of every
    // pending write made each read cost O(batch), so a projection that reads a range per event
    // took quadratic time in the batch during catch-up and rebuild.
    let pending: Vec<(&WriteKey, &Option<Vec<u8>>)> = writes
        .range::<[u8], _>((Bound::Included(start), upper))
        .collect();
    // Every written key can hide at most one base entry, so this many base entries always
    // leave `limit` after the writes are applied.
    let base = base.range(start, end, order, limit.saturating_add(pending.len()))?;
    let mut merged: BTreeMap<Vec<u8>, Vec<u8>> = base.into_iter().collect();
    for (key, value) in pending {
        match value {
            Some(value) => merged.insert(key.to_vec(), value.clone()),
            None => merged.remove(key.as_slice()),
        };
    }
    Ok(first_in_order(merged, order, limit))
}

/// The first `limit` entries of `merged` in `order`.
fn first_in_order(merged: BTreeMap<Vec<u8>, Vec<u8>>, order: Order, limit: usize) -> Vec<Entry> {
    match order {
        Order::Ascending => merged.into_iter().take(limit).collect(),
        Order::Descending => merged.into_iter().rev().take(limit).collect(),
    }
}

impl<B: StateRead + ?Sized> StateWrite for Overlay<'_, B> {
    fn put(&mut self, key: Vec<u8>, value: Vec<u8>) {
        self.record(key, Some(value));
    }

    fn delete(&mut self, key: &[u8]) {
        self.record(key.to_vec(), None);
    }

    fn take_typed(&mut self, key: &[u8]) -> Option<Box<dyn Typed>> {
        self.forget_typed(key)
    }

    fn put_typed(&mut self, key: Vec<u8>, value: Box<dyn Typed>) -> Result<(), StateError> {
        self.forget_typed(&key);
        if let Some(replaced) = self.writes.remove(key.as_slice()) {
            self.bytes = self
                .bytes
                .saturating_sub(held_bytes(&key, replaced.as_ref()));
        }
        self.bytes += typed_held_bytes(&key, value.as_ref());
        self.typed.insert(key, value);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use ledger_domain::projection::MemoryState;

    use super::*;

    #[test]
    fn pending_bytes_follow_what_the_writes_hold_across_resumes() {
        let base = MemoryState::new();
        let expected = |pending: &Pending| -> usize {
            pending
                .writes
                .iter()
                .map(|(key, value)| held_bytes(key, value.as_ref()))
                .sum()
        };
        let mut overlay = Overlay::new(&base);
        overlay.put(b"k1".to_vec(), vec![0; 100]);
        overlay.put(b"k2".to_vec(), vec![0; 10]);
        // Replaced by a larger value, then by a deletion.
        overlay.put(b"k1".to_vec(), vec![0; 300]);
        overlay.delete(b"k2");
        let pending = overlay.into_pending();
        assert_eq!(pending.bytes, expected(&pending));
        assert_eq!(pending.bytes, 2 + 300 + 2 + 2 * ENTRY_OVERHEAD_BYTES);
        let mut overlay = Overlay::resume(&base, pending);
        assert_eq!(overlay.get(b"k1").unwrap(), Some(vec![0; 300]));
        overlay.put(b"k3".to_vec(), vec![0; 5]);
        let pending = overlay.into_pending();
        assert_eq!(pending.bytes, expected(&pending));
    }

    /// What a rebuild reads while a commit runs: its pending writes, over the commit's, over
    /// sled; each level hides or replaces what lies below it, for point reads and ranges.
    #[test]
    fn pending_writes_over_a_running_commit_over_the_base_read_as_one_state() {
        let mut base = MemoryState::new();
        for key in [b"k1", b"k2", b"k3", b"k4"] {
            base.put(key.to_vec(), b"base".to_vec());
        }
        let mut committing = Writes::new();
        committing.insert(write_key(b"k1".to_vec()), Some(b"committing".to_vec()));
        committing.insert(write_key(b"k2".to_vec()), None);
        committing.insert(write_key(b"k5".to_vec()), Some(b"committing".to_vec()));
        committing.insert(write_key(b"k6".to_vec()), Some(b"committing".to_vec()));
        let layered = Layered {
            writes: &committing,
            base: &base,
        };
        let mut overlay = Overlay::new(&layered);
        overlay.put(b"k2".to_vec(), b"pending".to_vec());
        overlay.delete(b"k5");
        let value = |key: &[u8]| overlay.get(key).unwrap();
        assert_eq!(value(b"k1"), Some(b"committing".to_vec()));
        assert_eq!(value(b"k2"), Some(b"pending".to_vec()));
        assert_eq!(value(b"k3"), Some(b"base".to_vec()));
        assert_eq!(value(b"k5"), None);
        assert_eq!(value(b"k6"), Some(b"committing".to_vec()));
        assert_eq!(layered.get(b"k2").unwrap(), None);
        let entries = overlay.prefix(b"k", Order::Ascending, 10).unwrap();
        let expected: Vec<Entry> = [
            ("k1", "committing"),
            ("k2", "pending"),
            ("k3", "base"),
            ("k4", "base"),
            ("k6", "committing"),
        ]
        .into_iter()
        .map(|(key, value)| (key.as_bytes().to_vec(), value.as_bytes().to_vec()))
        .collect();
        assert_eq!(entries, expected);
        // A limit counts what is left after every level: two deletions below it hide nothing
        // it returns.
        let last_two = overlay.prefix(b"k", Order::Descending, 2).unwrap();
        assert_eq!(last_two, vec![expected[4].clone(), expected[3].clone()]);
        assert_eq!(
            layered.prefix(b"k", Order::Ascending, 3).unwrap(),
            vec![
                (b"k1".to_vec(), b"committing".to_vec()),
                (b"k3".to_vec(), b"base".to_vec()),
                (b"k4".to_vec(), b"base".to_vec()),
            ]
        );
    }

    #[test]
    fn reads_see_pending_writes_and_ranges_merge_both_ways() {
        let mut base = MemoryState::new();
        for key in [b"k1", b"k2", b"k3", b"k5"] {
            base.put(key.to_vec(), b"base".to_vec());
        }
        let mut overlay = Overlay::new(&base);
        overlay.delete(b"k2");
        overlay.put(b"k4".to_vec(), b"new".to_vec());
        overlay.put(b"k1".to_vec(), b"changed".to_vec());
        assert_eq!(overlay.get(b"k2").unwrap(), None);
        assert_eq!(overlay.get(b"k1").unwrap(), Some(b"changed".to_vec()));
        assert_eq!(overlay.get(b"k3").unwrap(), Some(b"base".to_vec()));
        let keys =
            |entries: Vec<Entry>| entries.into_iter().map(|(key, _)| key).collect::<Vec<_>>();
        assert_eq!(
            keys(overlay.prefix(b"k", Order::Ascending, 3).unwrap()),
            vec![b"k1".to_vec(), b"k3".to_vec(), b"k4".to_vec()]
        );
        assert_eq!(
            keys(overlay.prefix(b"k", Order::Descending, 2).unwrap()),
            vec![b"k5".to_vec(), b"k4".to_vec()]
        );
        assert_eq!(overlay.len(), 3);
        // Bounds are honoured on both sides, and an empty or inverted range is empty.
        assert_eq!(
            keys(overlay.range(b"k2", b"k5", Order::Ascending, 10).unwrap()),
            vec![b"k3".to_vec(), b"k4".to_vec()]
        );
        assert_eq!(
            keys(overlay.range(b"k4", b"", Order::Ascending, 10).unwrap()),
            vec![b"k4".to_vec(), b"k5".to_vec()]
        );
        assert!(
            overlay
                .range(b"k4", b"k4", Order::Ascending, 10)
                .unwrap()
                .is_empty()
        );
        assert!(
            overlay
                .range(b"k5", b"k1", Order::Ascending, 10)
                .unwrap()
                .is_empty()
        );
    }

    /// A value kept decoded: its bytes are the number's big-endian digits, and it says it
    /// holds a kilobyte.
    #[derive(Debug)]
    struct Kept(u32);

    impl Typed for Kept {
        fn encode(&self) -> Result<Vec<u8>, StateError> {
            Ok(self.0.to_be_bytes().to_vec())
        }

        fn held_bytes(&self) -> usize {
            1024
        }
    }

    fn kept(value: u32) -> Box<dyn Typed> {
        Box::new(Kept(value))
    }

    #[test]
    fn values_kept_decoded_read_as_their_bytes_until_replaced_and_settle_for_the_commit() {
        let mut base = MemoryState::new();
        for key in [b"k1", b"k2", b"k3", b"k4"] {
            base.put(key.to_vec(), b"base".to_vec());
        }
        let mut overlay = Overlay::new(&base);
        overlay.put(b"k2".to_vec(), b"pending".to_vec());
        overlay.put_typed(b"k2".to_vec(), kept(2)).unwrap();
        overlay.put_typed(b"k5".to_vec(), kept(5)).unwrap();
        overlay.put_typed(b"k4".to_vec(), kept(4)).unwrap();
        overlay.delete(b"k4");
        assert_eq!(overlay.len(), 2 + 1, "k2 and k5 decoded, k4 deleted");
        assert_eq!(
            overlay.bytes,
            2 * (2 + 1024 + ENTRY_OVERHEAD_BYTES) + held_bytes(b"k4", None)
        );
        assert_eq!(
            overlay.get(b"k2").unwrap(),
            Some(2_u32.to_be_bytes().to_vec())
        );
        assert_eq!(overlay.get(b"k4").unwrap(), None);
        let ascending = overlay.prefix(b"k", Order::Ascending, 10).unwrap();
        assert_eq!(
            ascending,
            vec![
                (b"k1".to_vec(), b"base".to_vec()),
                (b"k2".to_vec(), 2_u32.to_be_bytes().to_vec()),
                (b"k3".to_vec(), b"base".to_vec()),
                (b"k5".to_vec(), 5_u32.to_be_bytes().to_vec()),
            ]
        );
        let newest_two = overlay.prefix(b"k", Order::Descending, 2).unwrap();
        assert_eq!(newest_two, vec![ascending[3].clone(), ascending[2].clone()]);
        assert_eq!(
            overlay.range(b"k2", b"k3", Order::Ascending, 10).unwrap(),
            vec![ascending[1].clone()]
        );

        // Taken, a value leaves what lies beneath it readable (k2's bytes were replaced, so
        // the base's) until it is written again.
        let taken = overlay.take_typed(b"k2").expect("k2 is kept decoded");
        assert_eq!(overlay.get(b"k2").unwrap(), Some(b"base".to_vec()));
        assert!(overlay.take_typed(b"k2").is_none());
        overlay.put_typed(b"k2".to_vec(), taken).unwrap();

        // Carried to the next batch decoded, and encoded only for the commit.
        let pending = overlay.into_pending();
        assert_eq!(pending.typed.len(), 2);
        let mut overlay = Overlay::resume(&base, pending);
        overlay.put(b"k5".to_vec(), b"bytes again".to_vec());
        let writes = overlay.into_writes().unwrap();
        let expected: Writes = [
            (
                write_key(b"k2".to_vec()),
                Some(2_u32.to_be_bytes().to_vec()),
            ),
            (write_key(b"k4".to_vec()), None),
            (write_key(b"k5".to_vec()), Some(b"bytes again".to_vec())),
        ]
        .into_iter()
        .collect();
        assert_eq!(writes, expected);
    }
}
