//! Figure 4: every projection from position 0. On a ledger whose read models were never built,
//! this is the first catch-up; otherwise every projection is rebuilt into a fresh generation,
//! in a new read models' database that replaces the old one afterwards (as `replay` does).
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
    Ok(Rebuilt {
        events,
        elapsed: started.elapsed(),
        method: "rebuild of every projection together into fresh generations in a new read models' database, as `replay` does",
    })
}
