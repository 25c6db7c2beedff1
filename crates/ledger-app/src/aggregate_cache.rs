//! The command handler's folded aggregates, kept between commands.
//!
//! A command folds its stream into the aggregate before it decides (see [`crate::commands`]).
//! Folding reads, opens and decodes every event of the stream, ~4 µs each: a customer with
//! 11,500 contacts took ~50 ms of CPU for every `recordContact`, growing with the history.
//! Events never change once written, so the aggregate folded up to version `v`, plus the
//! events after `v`, is the aggregate folded from the start. The cache keeps the fold of each
//! long stream ([`AGGREGATE_CACHE_STREAM_EVENTS_MIN`] events or more) with its version; a
//! command folds only what came after.
//!
//! Bounded by the events the kept aggregates cover in all ([`AGGREGATE_CACHE_EVENTS_MAX`]),
//! since an aggregate grows with its stream: past it, the least recently used go first.
//!
//! Erasure: an aggregate may hold personal fields opened with a data key. When the key ring
//! destroys a key ([`crate::personal::KeyRing::destroyed`] changes), every kept aggregate is
//! dropped, and folds begun before are not kept, so a fold never reuses fields a fresh one
//! could no longer open.

use std::any::Any;
use std::collections::HashMap;
use std::sync::Mutex;

use ledger_domain::ids::StreamId;

/// Streams shorter than this are folded afresh every time (cheap: ~0.3 ms at 64 events).
pub const AGGREGATE_CACHE_STREAM_EVENTS_MIN: u64 = 64;

/// The most events the kept aggregates may cover in all (the sum of their versions).
pub const AGGREGATE_CACHE_EVENTS_MAX: u64 = 2_000_000;

/// One kept fold.
struct Kept {
    version: u64,
    aggregate: Box<dyn Any + Send>,
    /// When it was last stored or taken, for eviction.
    used: u64,
}

#[derive(Default)]
struct Inner {
    streams: HashMap<StreamId, Kept>,
    /// The sum of the kept versions.
    events: u64,
    /// The key ring's destroyed count the kept aggregates were folded under.
    destroyed: u64,
    clock: u64,
}

impl Inner {
    /// Drops everything when keys were destroyed since the kept aggregates were folded (the
    /// count only moves forward); whether a caller that read `destroyed` may use the cache.
    fn settle(&mut self, destroyed: u64) -> bool {
        if destroyed > self.destroyed {
            self.streams.clear();
            self.events = 0;
            self.destroyed = destroyed;
        }
        destroyed == self.destroyed
    }

    fn tick(&mut self) -> u64 {
        self.clock += 1;
        self.clock
    }

    /// Evicts the least recently used until at most `AGGREGATE_CACHE_EVENTS_MAX` events are
    /// kept after `adding` more; down to three quarters, so eviction is not paid every time.
    fn make_room(&mut self, adding: u64) {
        if self.events + adding <= AGGREGATE_CACHE_EVENTS_MAX {
            return;
        }
        let target = (AGGREGATE_CACHE_EVENTS_MAX / 4 * 3).saturating_sub(adding);
        let mut by_use: Vec<(u64, StreamId)> = self
            .streams
            .iter()
            .map(|(stream, kept)| (kept.used, stream.clone()))
            .collect();
        by_use.sort_unstable_by_key(|(used, _)| *used);
        for (_, stream) in by_use {
            if self.events <= target {
                break;
            }
            if let Some(kept) = self.streams.remove(&stream) {
                self.events -= kept.version;
            }
        }
    }
}

/// The kept folds of one ledger.
#[derive(Default)]
pub struct AggregateCache {
    inner: Mutex<Inner>,
}

impl std::fmt::Debug for AggregateCache {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let inner = self.lock();
        formatter
            .debug_struct("AggregateCache")
            .field("streams", &inner.streams.len())
            .field("events", &inner.events)
            .finish()
    }
}

impl AggregateCache {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The kept fold of `stream` and its version, if there is one of type `A` folded under the
    /// key ring's `destroyed` count.
    pub fn get<A: Clone + 'static>(&self, stream: &StreamId, destroyed: u64) -> Option<(u64, A)> {
        let mut inner = self.lock();
        if !inner.settle(destroyed) {
            return None;
        }
        let used = inner.tick();
        let kept = inner.streams.get_mut(stream)?;
        kept.used = used;
        let aggregate = kept.aggregate.downcast_ref::<A>()?.clone();
        Some((kept.version, aggregate))
    }

    /// Keeps `aggregate`, the fold of `stream` up to `version` begun under the key ring's
    /// `destroyed` count, unless the stream is short, keys were destroyed since, or a fold of
    /// a later version is already kept.
    pub fn put<A: Send + 'static>(
        &self,
        stream: &StreamId,
        version: u64,
        aggregate: A,
        destroyed: u64,
    ) {
        if !(AGGREGATE_CACHE_STREAM_EVENTS_MIN..=AGGREGATE_CACHE_EVENTS_MAX).contains(&version) {
            return;
        }
        let mut inner = self.lock();
        if !inner.settle(destroyed) {
            return;
        }
        if let Some(kept) = inner.streams.get(stream)
            && kept.version >= version
        {
            return;
        }
        let replaced = inner.streams.get(stream).map_or(0, |kept| kept.version);
        inner.make_room(version - replaced);
        let used = inner.tick();
        if let Some(previous) = inner.streams.insert(
            stream.clone(),
            Kept {
                version,
                aggregate: Box::new(aggregate),
                used,
            },
        ) {
            inner.events -= previous.version;
        }
        inner.events += version;
    }

    /// How many streams and events are kept.
    pub fn size(&self) -> (usize, u64) {
        let inner = self.lock();
        (inner.streams.len(), inner.events)
    }
}

#[cfg(test)]
mod tests {
    use ledger_domain::ids::CustomerId;

    use super::*;

    fn stream() -> StreamId {
        StreamId::customer(CustomerId::new_v7())
    }

    #[test]
    fn a_long_fold_is_kept_and_a_short_one_is_not() {
        let cache = AggregateCache::default();
        let (long, short) = (stream(), stream());
        cache.put(&long, 100, vec![1_u8], 0);
        cache.put(&short, AGGREGATE_CACHE_STREAM_EVENTS_MIN - 1, vec![2_u8], 0);
        assert_eq!(cache.get::<Vec<u8>>(&long, 0), Some((100, vec![1])));
        assert_eq!(cache.get::<Vec<u8>>(&short, 0), None);
        // Another type under the same stream is a miss, not a wrong answer.
        assert_eq!(cache.get::<String>(&long, 0), None);
        // An older fold does not replace a newer one.
        cache.put(&long, 90, vec![9_u8], 0);
        assert_eq!(cache.get::<Vec<u8>>(&long, 0), Some((100, vec![1])));
        cache.put(&long, 120, vec![3_u8], 0);
        assert_eq!(cache.get::<Vec<u8>>(&long, 0), Some((120, vec![3])));
        assert_eq!(cache.size(), (1, 120));
    }

    #[test]
    fn a_destroyed_key_drops_every_fold_and_refuses_folds_begun_before() {
        let cache = AggregateCache::default();
        let (first, second) = (stream(), stream());
        cache.put(&first, 100, 1_u32, 0);
        assert_eq!(cache.get::<u32>(&first, 1), None);
        assert_eq!(cache.size(), (0, 0));
        // A fold begun before the key was destroyed, stored or looked up after: not kept, not
        // found.
        cache.put(&second, 100, 2_u32, 0);
        assert_eq!(cache.get::<u32>(&second, 1), None);
        assert_eq!(cache.get::<u32>(&second, 0), None);
        cache.put(&second, 100, 3_u32, 1);
        assert_eq!(cache.get::<u32>(&second, 1), Some((100, 3)));
    }

    #[test]
    fn the_least_recently_used_go_first_once_the_events_bound_is_reached() {
        let cache = AggregateCache::default();
        let each = AGGREGATE_CACHE_EVENTS_MAX / 4;
        let streams: Vec<StreamId> = (0..4).map(|_| stream()).collect();
        for (index, stream) in streams.iter().enumerate() {
            cache.put(stream, each, index, 0);
        }
        assert_eq!(cache.size(), (4, AGGREGATE_CACHE_EVENTS_MAX));
        // The first is used again, so the second is the least recently used.
        assert!(cache.get::<usize>(&streams[0], 0).is_some());
        let fifth = stream();
        cache.put(&fifth, each, 4_usize, 0);
        let (kept, events) = cache.size();
        assert!(events <= AGGREGATE_CACHE_EVENTS_MAX, "{events}");
        assert!(kept < 5, "{kept}");
        assert_eq!(cache.get::<usize>(&streams[1], 0), None);
        assert_eq!(cache.get::<usize>(&streams[0], 0), Some((each, 0)));
        assert_eq!(cache.get::<usize>(&fifth, 0), Some((each, 4)));
    }
}
