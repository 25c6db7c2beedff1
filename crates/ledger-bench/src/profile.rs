//! The two sizes of the suite. Every bound of a run is here, named, with its reason.

use std::time::Duration;

/// Concurrent clients of figure 3 (the issue's number).
pub const CLIENTS: usize = 64;

/// Bytes of one record of figure 1 (the issue's number).
pub const RAW_RECORD_BYTES: usize = 300;

/// Records between two `fdatasync`s in figure 1 (the issue's number).
pub const RAW_RECORDS_PER_SYNC: u64 = 1_000;

/// Rows in one PostgreSQL INSERT transaction of figure 2 (the issue's number).
pub const POSTGRES_ROWS_PER_TRANSACTION: usize = 1_000;

/// Timeline page size of figures 5 and 6 (the issue's number).
pub const TIMELINE_PAGE: usize = 50;

/// Entries of the busy customer's timeline in figure 5 (the issue's number).
pub const HOT_ENTRIES: usize = 10_000;

/// Customers figure 5c draws its timeline reads from: the first of the directory, as many as
/// a busy day's callers of a regional call centre, and enough that their pages do not fit in
/// sled's caches (the busy customer's do).
pub const SPREAD_CUSTOMERS: usize = 50_000;

/// The issue's ledger size for figures 5 and 8 (`Profile::scale_events` of `make bench`).
pub const ISSUE_LEDGER_EVENTS: u64 = 10_000_000;

/// The largest ledger of figures 2 and 4, which this harness builds in memory first (the
/// dataset and PostgreSQL's rows: ~1.5 KB per event) and PostgreSQL stores beside it.
pub const LEDGER_EVENTS_MAX: u64 = 4_000_000;

/// The largest scale ledger (figures 5 to 8), streamed to disk: ~2.8 KB per event with its
/// read models, so the issue's 10 M take ~28 GB, built once and reused.
pub const SCALE_EVENTS_MAX: u64 = ISSUE_LEDGER_EVENTS;

/// How a run is sized.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Profile {
    pub name: &'static str,
    /// Records of figure 1.
    pub raw_records: u64,
    /// Events of the bulk import (figure 2) and of the ledger figure 4 rebuilds.
    pub ledger_events: u64,
    /// Events of the scale ledger figures 5 to 8 read; `None`: they read figure 2's ledger.
    pub scale_events: Option<u64>,
    /// How long figure 3 runs on each side.
    pub concurrent: Duration,
    /// How long the durability probe appends under strace.
    pub durability_probe: Duration,
    /// In-process reads timed for figure 5 on each side.
    pub reads: usize,
    /// How long each `wrk` run lasts (figures 5 and 6).
    pub http: Duration,
    /// Contacts recorded for figure 7.
    pub screen_pops: usize,
    /// How long the server is left idle after the load before figure 8a reads its peak: sled's
    /// segment cleaners go on working after the requests stop, and once raised the resident
    /// set that way (MISSES §8a).
    pub idle_after_load: Duration,
}

impl Profile {
    /// `make bench`: the issue's sizes.
    pub const FULL: Self = Self {
        name: "full",
        raw_records: 1_000_000,
        ledger_events: 1_000_000,
        scale_events: Some(ISSUE_LEDGER_EVENTS),
        concurrent: Duration::from_secs(20),
        durability_probe: Duration::from_secs(3),
        reads: 5_000,
        http: Duration::from_secs(10),
        screen_pops: 500,
        idle_after_load: Duration::from_secs(30),
    };

    /// `make bench-quick`: the same suite, small enough for under two minutes.
    pub const QUICK: Self = Self {
        name: "quick",
        raw_records: 100_000,
        ledger_events: 60_000,
        scale_events: None,
        concurrent: Duration::from_secs(3),
        durability_probe: Duration::from_secs(1),
        reads: 1_000,
        http: Duration::from_secs(3),
        screen_pops: 100,
        idle_after_load: Duration::from_secs(3),
    };

    pub fn named(name: &str) -> Result<Self, String> {
        match name {
            "full" => Ok(Self::FULL),
            "quick" => Ok(Self::QUICK),
            other => Err(format!("profile: must be full or quick, not {other:?}")),
        }
    }

    /// This profile with another ledger size, checked against the bounds.
    pub fn with_ledger_events(mut self, events: u64) -> Result<Self, String> {
        self.ledger_events = checked(
            "ledger-events",
            events,
            LEDGER_EVENTS_MAX,
            "LEDGER_EVENTS_MAX",
        )?;
        Ok(self)
    }

    /// This profile with another scale ledger size (0: figures 5 to 8 read figure 2's ledger).
    pub fn with_scale_events(mut self, events: u64) -> Result<Self, String> {
        self.scale_events = match events {
            0 => None,
            events => Some(checked(
                "scale-events",
                events,
                SCALE_EVENTS_MAX,
                "SCALE_EVENTS_MAX",
            )?),
        };
        Ok(self)
    }
}

/// `events` if a ledger of that size holds the busy customer's entries and a history at least
/// as long, and is at most `max` (named `max_name`).
fn checked(field: &str, events: u64, max: u64, max_name: &str) -> Result<u64, String> {
    let least = u64::try_from(HOT_ENTRIES).unwrap_or(u64::MAX) * 2;
    if !(least..=max).contains(&events) {
        return Err(format!(
            "{field}: must be {least} to {max} ({max_name}), not {events}"
        ));
    }
    Ok(events)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profiles_are_named_and_ledger_sizes_bounded() {
        assert_eq!(Profile::named("quick").unwrap(), Profile::QUICK);
        assert!(
            Profile::named("huge")
                .unwrap_err()
                .contains("full or quick")
        );
        assert_eq!(
            Profile::FULL
                .with_ledger_events(2_000_000)
                .unwrap()
                .ledger_events,
            2_000_000
        );
        let error = Profile::FULL.with_ledger_events(10_000_000).unwrap_err();
        assert!(error.contains("LEDGER_EVENTS_MAX"), "{error}");
        assert!(Profile::FULL.with_ledger_events(100).is_err());
        assert_eq!(Profile::FULL.scale_events, Some(ISSUE_LEDGER_EVENTS));
        assert_eq!(
            Profile::FULL.with_scale_events(0).unwrap().scale_events,
            None
        );
        assert_eq!(
            Profile::QUICK
                .with_scale_events(200_000)
                .unwrap()
                .scale_events,
            Some(200_000)
        );
        let error = Profile::FULL.with_scale_events(20_000_000).unwrap_err();
        assert!(error.starts_with("scale-events:"), "{error}");
        assert!(error.contains("SCALE_EVENTS_MAX"), "{error}");
    }
}
