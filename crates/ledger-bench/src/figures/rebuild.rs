//! Figure 4: every projection from position 0. On a ledger whose read models were never built,
//! this is the first catch-up (all projections together); otherwise each projection is rebuilt
//! into a fresh generation in turn. Either way every projection applies every event once.

use std::time::{Duration, Instant};

use ledger_app::Ledger;
use ledger_store::EventLog;

/// How long each projection took (empty for a catch-up, which runs them together).
#[derive(Debug)]
pub struct Rebuilt {
    pub events: u64,
    pub elapsed: Duration,
    pub method: &'static str,
    pub per_projection: Vec<(String, Duration)>,
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
        per_projection: Vec::new(),
    })
}

pub fn every_projection(ledger: &Ledger) -> Result<Rebuilt, String> {
    let events = ledger.log().head().event_count;
    let mut per_projection = Vec::new();
    let started = Instant::now();
    for name in ledger.runner().names() {
        let begun = Instant::now();
        let reached = ledger
            .runner()
            .rebuild(name)
            .map_err(|error| format!("rebuilding {name}: {error}"))?;
        if reached.get() != events {
            return Err(format!(
                "{name} rebuilt to {reached}, not the head {events}"
            ));
        }
        per_projection.push((name.to_owned(), begun.elapsed()));
    }
    Ok(Rebuilt {
        events,
        elapsed: started.elapsed(),
        method: "rebuild of each projection in turn into a fresh generation",
        per_projection,
    })
}
