//! The event id index in ~10 bytes an event: for each recorded event, 24 bits of a keyed hash
//! of its id and its position (40 bits) packed in one `u64`, kept in one of a fixed number of
//! buckets chosen by 16 to 22 other bits of the same hash.
//!
//! The index does not hold the ids themselves (16 bytes each, and a `HashMap<EventId, u64>`
//! spent ~50 bytes an event: ~420 MiB at 10 M events). A lookup gives the *candidates*: the
//! positions whose entry matches the id's ~40 hash bits. The caller reads each candidate's
//! record to confirm it (see `Indexes::position_of`). A new id meets a false candidate about
//! once in 2^40 / events lookups (once in ~100,000 at 10 M), so confirmation reads happen for
//! retries, almost never otherwise.
//!
//! The hash is SipHash with a key drawn when the index is made, so ids cannot be chosen to
//! collide. The bucket count is fixed when the store opens, from its size then: about
//! `BUCKET_ENTRIES_TARGET` entries a bucket for a ledger up to four times that size. A ledger
//! that grows far past it while open scans longer buckets until it is opened again.

use std::hash::{BuildHasher, RandomState};
use std::mem::size_of;

use ledger_domain::ids::EventId;

/// Bits of an entry that hold the position.
const POSITION_BITS: u32 = 40;

/// The largest position the index can hold (~1.1 × 10^12 events). The writer refuses to stage
/// a record beyond it.
pub const INDEXED_POSITION_MAX: u64 = (1 << POSITION_BITS) - 1;

/// Bits of an entry that hold hash bits (the rest of the `u64`).
const TAG_BITS: u32 = u64::BITS - POSITION_BITS;

/// Entries a bucket holds on average in a ledger four times the size it was opened at.
const BUCKET_ENTRIES_TARGET: u64 = 128;

/// Fewest and most bucket bits: 64 Ki buckets (1.5 MiB of headers) to 4 Mi (96 MiB, for a
/// ledger opened at ~130 M events).
const BUCKET_BITS_MIN: u32 = 16;
const BUCKET_BITS_MAX: u32 = 22;

/// Event id → candidate positions.
#[derive(Debug)]
pub(crate) struct EventIds {
    hasher: RandomState,
    bucket_bits: u32,
    buckets: Vec<Vec<u64>>,
}

impl Default for EventIds {
    fn default() -> Self {
        Self::for_events(0)
    }
}

impl EventIds {
    /// An empty index sized for a ledger of `events` (and up to four times as many).
    pub fn for_events(events: u64) -> Self {
        let wanted = events.saturating_mul(4) / BUCKET_ENTRIES_TARGET;
        let bucket_bits =
            (u64::BITS - wanted.leading_zeros()).clamp(BUCKET_BITS_MIN, BUCKET_BITS_MAX);
        Self {
            hasher: RandomState::new(),
            bucket_bits,
            buckets: vec![Vec::new(); 1 << bucket_bits],
        }
    }

    /// The bucket and the tag (the entry's hash bits, in place) of `id`.
    fn place(&self, id: EventId) -> (usize, u64) {
        let hash = self.hasher.hash_one(id.as_uuid().as_bytes());
        // The bucket from the low bits, the tag from the top 24: no bit serves both.
        let bucket = usize::try_from(hash & ((1 << self.bucket_bits) - 1)).unwrap_or(0);
        let tag = hash & !INDEXED_POSITION_MAX;
        (bucket, tag)
    }

    /// Adds `id` at `position` (at most [`INDEXED_POSITION_MAX`]; the caller checked that the
    /// id is not indexed yet).
    pub fn insert(&mut self, id: EventId, position: u64) {
        debug_assert!(position <= INDEXED_POSITION_MAX);
        let (bucket, tag) = self.place(id);
        self.buckets[bucket].push(tag | (position & INDEXED_POSITION_MAX));
    }

    /// The positions whose entry matches `id`'s hash bits, lowest first: the id's own position,
    /// if it is indexed, is among them.
    pub fn candidates(&self, id: EventId) -> impl Iterator<Item = u64> + '_ {
        let (bucket, tag) = self.place(id);
        self.buckets[bucket]
            .iter()
            .filter(move |&&entry| entry & !INDEXED_POSITION_MAX == tag)
            .map(|&entry| entry & INDEXED_POSITION_MAX)
    }

    /// Whether an entry matching `id` points at `position` (no read needed: the caller knows
    /// which id is there).
    pub fn holds(&self, id: EventId, position: u64) -> bool {
        self.candidates(id).any(|candidate| candidate == position)
    }

    /// Every indexed position, in no particular order.
    pub fn positions(&self) -> impl Iterator<Item = u64> + '_ {
        self.buckets
            .iter()
            .flatten()
            .map(|&entry| entry & INDEXED_POSITION_MAX)
    }

    /// Returns the growth room of the buckets (after an open's rebuild: the walk grew them one
    /// entry at a time).
    pub fn shrink_to_fit(&mut self) {
        for bucket in &mut self.buckets {
            bucket.shrink_to_fit();
        }
    }

    /// An estimate of the heap bytes held, from capacities.
    pub fn memory_bytes(&self) -> usize {
        let entries: usize = self.buckets.iter().map(Vec::capacity).sum();
        self.buckets.capacity() * size_of::<Vec<u64>>() + entries * size_of::<u64>()
    }
}

const _: () = assert!(TAG_BITS + POSITION_BITS == u64::BITS && BUCKET_BITS_MAX <= POSITION_BITS);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_indexed_id_finds_its_position_among_its_candidates() {
        let mut index = EventIds::for_events(1_000);
        let ids: Vec<EventId> = (0..5_000).map(|_| EventId::new_v7()).collect();
        for (offset, &id) in ids.iter().enumerate() {
            index.insert(id, u64::try_from(offset).unwrap() + 1);
        }
        for (offset, &id) in ids.iter().enumerate() {
            let position = u64::try_from(offset).unwrap() + 1;
            assert!(index.holds(id, position), "id {offset}");
            assert!(!index.holds(id, position + 1) || index.candidates(id).count() > 1);
        }
        let mut positions: Vec<u64> = index.positions().collect();
        positions.sort_unstable();
        assert_eq!(positions, (1..=5_000).collect::<Vec<_>>());
    }

    #[test]
    fn an_unknown_id_has_almost_never_a_candidate() {
        let mut index = EventIds::for_events(100_000);
        for position in 1..=100_000 {
            index.insert(EventId::new_v7(), position);
        }
        let false_candidates: usize = (0..100_000)
            .map(|_| index.candidates(EventId::new_v7()).count())
            .sum();
        // 10^10 pairs against ~2^40 hash bits: ~0.01 expected; one in a run is already rare.
        assert!(false_candidates <= 2, "{false_candidates} false candidates");
    }

    #[test]
    fn the_largest_position_round_trips_and_the_buckets_follow_the_size() {
        let mut index = EventIds::default();
        let id = EventId::new_v7();
        index.insert(id, INDEXED_POSITION_MAX);
        assert_eq!(
            index.candidates(id).collect::<Vec<_>>(),
            [INDEXED_POSITION_MAX]
        );
        assert_eq!(EventIds::default().buckets.len(), 1 << BUCKET_BITS_MIN);
        assert_eq!(
            EventIds::for_events(10_000_000).buckets.len(),
            1 << 19,
            "10 M events: 40 M / 128 entries a bucket, rounded up to a power of two"
        );
        assert_eq!(
            EventIds::for_events(u64::MAX).buckets.len(),
            1 << BUCKET_BITS_MAX
        );
    }

    #[test]
    fn entries_sharing_hash_bits_are_all_candidates() {
        // Same id twice stands for two ids whose hash bits collide: both positions come back,
        // and the caller's read of each tells them apart.
        let mut index = EventIds::default();
        let id = EventId::new_v7();
        index.insert(id, 7);
        index.insert(id, 9);
        assert_eq!(index.candidates(id).collect::<Vec<_>>(), [7, 9]);
        let before = index.memory_bytes();
        index.shrink_to_fit();
        assert!(index.memory_bytes() <= before);
    }
}
