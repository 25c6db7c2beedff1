//! What the seeded damage tests (`corruption.rs`, `power_cut.rs`) share: a small deterministic
//! generator, the seed and count knobs from the environment, and a store on a stepping clock.

use std::sync::Arc;

use ledger_store::{SteppingClock, StoreOptions};

/// A small deterministic generator (xorshift64*), seeded per run and printed.
pub struct Rng(pub u64);

impl Rng {
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    pub fn below(&mut self, bound: u64) -> u64 {
        self.next_u64() % bound.max(1)
    }
}

/// The count in environment variable `name`, or `default`.
pub fn count_from_env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|count| count.parse().ok())
        .unwrap_or(default)
}

/// The seed in environment variable `name`, or one from the clock (printed by the caller so a
/// failing run can be replayed).
pub fn seed_from_env(name: &str) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|seed| seed.parse().ok())
        .unwrap_or_else(|| {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .expect("after 1970");
            now.as_secs() << 32 ^ u64::from(now.subsec_nanos())
        })
}

/// Store options with a stepping clock, so records are the same bytes on every run.
pub fn options() -> StoreOptions {
    StoreOptions {
        clock: Arc::new(SteppingClock::new(
            jiff::Timestamp::from_second(1_750_000_000).expect("an instant"),
            jiff::SignedDuration::from_millis(1),
        )),
        ..StoreOptions::default()
    }
}
