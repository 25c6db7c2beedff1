//! Failpoints on every IO step of a group commit (and of an access-record batch), so tests can make a write, a flush or a sync
//! fail and check that nothing unacknowledged is served and nothing acknowledged is lost; and
//! one in a read models' compaction, so tests can check that a failed copy leaves nothing behind.
//!
//! A [`Faults`] handle is cheap to clone; the test keeps one and passes a clone in
//! `StoreOptions`. Unarmed, a check is one relaxed atomic load.

use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};

/// A step of the group commit where a fault can be injected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FaultPoint {
    /// Before the group's `apply_batch`.
    BeforeWrite,
    /// After the batch is applied, before sled's `flush`.
    BeforeFlush,
    /// After the flush, before the `fdatasync` of the data file (and blob files).
    BeforeSync,
    /// After the sync succeeded, before the callers are answered.
    AfterSync,
    /// Before the access-record writer commits a batch (`access_log`).
    AccessWrite,
    /// Before a compaction of the read models writes a batch of its copy (`compaction`).
    CompactionWrite,
}

impl FaultPoint {
    pub const ALL: [Self; 6] = [
        Self::BeforeWrite,
        Self::BeforeFlush,
        Self::BeforeSync,
        Self::AfterSync,
        Self::AccessWrite,
        Self::CompactionWrite,
    ];

    fn index(self) -> usize {
        match self {
            Self::BeforeWrite => 0,
            Self::BeforeFlush => 1,
            Self::BeforeSync => 2,
            Self::AfterSync => 3,
            Self::AccessWrite => 4,
            Self::CompactionWrite => 5,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::BeforeWrite => "before_write",
            Self::BeforeFlush => "before_flush",
            Self::BeforeSync => "before_sync",
            Self::AfterSync => "after_sync",
            Self::AccessWrite => "access_write",
            Self::CompactionWrite => "compaction_write",
        }
    }
}

/// How an armed point behaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultMode {
    Off,
    /// Fail the next time the point is reached, then disarm.
    Once,
    /// Fail every time.
    Always,
}

const OFF: u8 = 0;
const ONCE: u8 = 1;
const ALWAYS: u8 = 2;

/// The failpoints of one store.
#[derive(Debug, Clone, Default)]
pub struct Faults {
    inner: Arc<FaultState>,
}

#[derive(Debug, Default)]
struct FaultState {
    modes: [AtomicU8; FaultPoint::ALL.len()],
    fired: [AtomicU64; FaultPoint::ALL.len()],
}

impl Faults {
    /// Faults that never fire (until armed).
    pub fn new() -> Self {
        Self::default()
    }

    pub fn arm(&self, point: FaultPoint, mode: FaultMode) {
        let value = match mode {
            FaultMode::Off => OFF,
            FaultMode::Once => ONCE,
            FaultMode::Always => ALWAYS,
        };
        self.inner.modes[point.index()].store(value, Ordering::SeqCst);
    }

    pub fn disarm_all(&self) {
        for point in FaultPoint::ALL {
            self.arm(point, FaultMode::Off);
        }
    }

    /// How many times `point` has failed an operation.
    pub fn fired(&self, point: FaultPoint) -> u64 {
        self.inner.fired[point.index()].load(Ordering::SeqCst)
    }

    /// Returns the injected error if `point` is armed.
    pub(crate) fn check(&self, point: FaultPoint) -> io::Result<()> {
        let mode = &self.inner.modes[point.index()];
        let fire = match mode.load(Ordering::Relaxed) {
            OFF => false,
            ONCE => mode
                .compare_exchange(ONCE, OFF, Ordering::SeqCst, Ordering::SeqCst)
                .is_ok(),
            _ => true,
        };
        if !fire {
            return Ok(());
        }
        self.inner.fired[point.index()].fetch_add(1, Ordering::SeqCst);
        Err(io::Error::other(format!(
            "injected fault at {}",
            point.name()
        )))
    }
}
