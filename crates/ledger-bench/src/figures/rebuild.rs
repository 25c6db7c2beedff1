//! Figure 4: every projection from position 0. On a ledger whose read models were never built,
//! this is the first catch-up; otherwise every projection is rebuilt into a fresh generation,
//! in a new read models' database, which is then copied into a compact one that replaces the
//! old one (as `replay` does; the figure times the rebuild, the copy is reported beside it).
//! Either way all projections go together (one pass over the log, as `replay` does) and each
//! applies every event once.

use std::time::{Duration, Instant};

use ledger_app::Ledger;
use ledger_store::EventLog;

/// How many events every projection applied, and how long that took.
#[derive(Debug)]
pub struct Rebuilt {
    pub events: u64,
    pub elapsed: Duration,
    pub method: &'static str,
    /// The copy into a compact database that followed, for a rebuild (not a first catch-up).
    pub compaction: Option<Duration>,
}

pub fn first_catch_up(ledger: &Ledger) -> Result<Rebuilt, String> {
    let started = Instant::now();
    let reached = ledger
        .runner()
        .catch_up()
        .map_err(|error| format!("catching up: {error}"))?;
    Ok(Rebuilt {
        events: reached.get(),
        elapsed: started.elapsed(),
        method: "first catch-up of every projection together",
        compaction: None,
    })
}

pub fn every_projection(ledger: &Ledger) -> Result<Rebuilt, String> {
    let events = ledger.log().head().event_count;
    let names = ledger.runner().names();
    let started = Instant::now();
    let reached = ledger
        .runner()
        .rebuild_with_progress(&names, &mut |_| {})
        .map_err(|error| format!("rebuilding every projection: {error}"))?;
    if reached.get() != events {
        return Err(format!(
            "the projections were rebuilt to {reached}, not the head {events}"
        ));
    }
    let elapsed = started.elapsed();
    let started = Instant::now();
    ledger
        .log()
        .compact_read_models()
        .map_err(|error| format!("copying the rebuilt read models: {error}"))?;
    Ok(Rebuilt {
        events,
        elapsed,
        compaction: Some(started.elapsed()),
        method: "rebuild of every projection together into fresh generations in a new read models' database, as `replay` does",
    })
}
