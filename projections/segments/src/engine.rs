//! [`SegmentEngine`]: the loaded rules and a small cache of snapshots, which the API holds so
//! that paging through a segment, opening a customer and showing segment sizes evaluate the
//! book once rather than once per request.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use jiff::Timestamp;
use ledger_domain::ids::Position;
use ledger_domain::projection::StateRead;

use crate::days::day_of;
use crate::rules::SegmentRules;
use crate::snapshot::{Changes, SegmentError, SegmentSnapshot, evaluate};

/// Snapshots kept: today's and a few other days an analyst compares (membership changes need
/// two). A snapshot of 100,000 customers is about 30 MB, so eight stay well within memory.
pub const SNAPSHOT_CACHE_ENTRIES: usize = 8;

/// The segment rules and a cache of snapshots keyed by Beijing day, each stamped with the log
/// position its state had reached and when it was computed.
///
/// A snapshot depends only on the state (which the projection's position identifies) and the
/// as-of day. With no staleness allowed ([`SegmentEngine::new`]) a cached snapshot is reused
/// only at the same position, so it is exact; but while the call centre appends events every
/// second, that means evaluating the book for nearly every request. An engine built with
/// [`SegmentEngine::with_max_staleness`] reuses a snapshot of an earlier position for that
/// long (an analyst paging through a segment sees one consistent list, at most that old); a
/// caller that must see its own write asks with [`SegmentEngine::snapshot_consistent_with`].
/// Evaluation runs outside the lock; two requests missing the cache at once both evaluate,
/// and the later result replaces the earlier.
#[derive(Debug)]
pub struct SegmentEngine {
    rules: SegmentRules,
    max_staleness: Duration,
    cache: Mutex<VecDeque<Cached>>,
}

#[derive(Debug)]
struct Cached {
    day: i64,
    computed: Instant,
    snapshot: Arc<SegmentSnapshot>,
}

impl SegmentEngine {
    /// An engine that reuses a snapshot only at the position it was computed at.
    pub fn new(rules: SegmentRules) -> Self {
        Self::with_max_staleness(rules, Duration::ZERO)
    }

    /// An engine that reuses a snapshot computed at an earlier position for up to
    /// `max_staleness` after it was computed.
    pub fn with_max_staleness(rules: SegmentRules, max_staleness: Duration) -> Self {
        Self {
            rules,
            max_staleness,
            cache: Mutex::new(VecDeque::with_capacity(SNAPSHOT_CACHE_ENTRIES)),
        }
    }

    pub fn rules(&self) -> &SegmentRules {
        &self.rules
    }

    /// The snapshot as of `as_of`'s Beijing day. `state` is the segments projection's state
    /// after applying the log up to `position`.
    pub fn snapshot(
        &self,
        state: &dyn StateRead,
        position: Position,
        as_of: Timestamp,
    ) -> Result<Arc<SegmentSnapshot>, SegmentError> {
        self.snapshot_consistent_with(state, position, as_of, Position::ZERO)
    }

    /// As [`SegmentEngine::snapshot`], never reusing a snapshot computed before `minimum`
    /// (read-your-writes: the position of the caller's own write).
    pub fn snapshot_consistent_with(
        &self,
        state: &dyn StateRead,
        position: Position,
        as_of: Timestamp,
        minimum: Position,
    ) -> Result<Arc<SegmentSnapshot>, SegmentError> {
        let day = day_of(as_of);
        if let Some(snapshot) = self.cached(day, position, minimum) {
            return Ok(snapshot);
        }
        let snapshot = Arc::new(evaluate(state, &self.rules, as_of)?.at_position(position));
        let mut cache = self.cache.lock().unwrap_or_else(PoisonError::into_inner);
        cache.retain(|cached| cached.day != day);
        if cache.len() == SNAPSHOT_CACHE_ENTRIES {
            cache.pop_back();
        }
        cache.push_front(Cached {
            day,
            computed: Instant::now(),
            snapshot: Arc::clone(&snapshot),
        });
        Ok(snapshot)
    }

    /// Who entered and left the segment `name` between the Beijing days of `from` and `to`.
    pub fn membership_changes(
        &self,
        state: &dyn StateRead,
        position: Position,
        name: &str,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<Changes, SegmentError> {
        let earlier = self.snapshot(state, position, from)?;
        let later = self.snapshot(state, position, to)?;
        later.changes_since(&earlier, name)
    }

    /// A usable cached snapshot of `day`, moved to the front (most recently used): one at
    /// `position`, or one at least at `minimum` and no older than the staleness allowed.
    fn cached(
        &self,
        day: i64,
        position: Position,
        minimum: Position,
    ) -> Option<Arc<SegmentSnapshot>> {
        let mut cache = self.cache.lock().unwrap_or_else(PoisonError::into_inner);
        let index = cache.iter().position(|cached| {
            let at = cached.snapshot.position().unwrap_or(Position::ZERO);
            let fresh = at == position
                || (at <= position && cached.computed.elapsed() <= self.max_staleness);
            cached.day == day && at >= minimum && fresh
        })?;
        let cached = cache.remove(index)?;
        let snapshot = Arc::clone(&cached.snapshot);
        cache.push_front(cached);
        Some(snapshot)
    }

    /// Snapshots in the cache (for tests and metrics).
    pub fn cached_snapshots(&self) -> usize {
        self.cache
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }
}
