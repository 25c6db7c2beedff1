//! Where `recorded_at` comes from: the system clock in service, a stepping clock when seeding
//! or testing must be reproducible.

use std::fmt;
use std::sync::Mutex;

/// A source of ledger time. The writer reads it once per group commit.
pub trait Clock: Send + Sync + fmt::Debug {
    fn now(&self) -> jiff::Timestamp;
}

/// The operating system's clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> jiff::Timestamp {
        jiff::Timestamp::now()
    }
}

/// A deterministic clock: the first reading is `start`, each later one `step` further.
#[derive(Debug)]
pub struct SteppingClock {
    next: Mutex<jiff::Timestamp>,
    step: jiff::SignedDuration,
}

impl SteppingClock {
    pub fn new(start: jiff::Timestamp, step: jiff::SignedDuration) -> Self {
        Self {
            next: Mutex::new(start),
            step,
        }
    }
}

impl Clock for SteppingClock {
    fn now(&self) -> jiff::Timestamp {
        let mut next = self
            .next
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let now = *next;
        // Saturate at the end of jiff's range rather than wrap: a test clock that runs for
        // ten thousand years has other problems.
        *next = now.checked_add(self.step).unwrap_or(jiff::Timestamp::MAX);
        now
    }
}
