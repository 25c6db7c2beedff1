//! Figure 3, the ledger's side, and the durability probe: concurrent clients, each appending
//! single events to its own stream and waiting for each to be acknowledged (durable) before
//! the next.

use std::path::Path;
use std::time::{Duration, Instant};

use ledger_domain::ids::{EventId, StaffId, StreamId};
use ledger_store::{
    AppendRequest, EventLog, ExpectedVersion, NewEvent, SledEventLog, StoreOptions,
};

use crate::stats::Latencies;

/// What a run of concurrent appends did.
#[derive(Debug)]
pub struct Concurrent {
    pub acknowledged: u64,
    pub elapsed: Duration,
    pub latencies: Latencies,
    /// `fdatasync`s of the store's data file, by its own count.
    pub syncs: u64,
}

fn event(payload: &[u8], actor: &StaffId) -> NewEvent {
    NewEvent {
        event_id: EventId::new_v7(),
        event_type: "ContactRecorded".to_owned(),
        schema_version: 1,
        occurred_at: jiff::Timestamp::now(),
        actor: actor.clone(),
        correlation_id: None,
        causation_id: None,
        origin: Some("bench".to_owned()),
        payload: payload.to_vec(),
    }
}

/// `clients` tasks appending to a new store in `dir` for `duration`.
pub async fn run(
    dir: &Path,
    clients: usize,
    duration: Duration,
    payload: &[u8],
) -> Result<Concurrent, String> {
    let log = SledEventLog::open(dir, StoreOptions::default())
        .map_err(|error| format!("opening {}: {error}", dir.display()))?;
    let actor = StaffId::parse("actor", "bench-agent").map_err(|error| error.to_string())?;
    let before = log.stats();
    let started = Instant::now();
    let deadline = started + duration;
    let mut tasks = Vec::with_capacity(clients);
    for client in 0..clients {
        let log = log.clone();
        let payload = payload.to_vec();
        let actor = actor.clone();
        let stream = StreamId::parse("stream", &format!("bench-client-{client}"))
            .map_err(|error| error.to_string())?;
        tasks.push(tokio::spawn(async move {
            let mut latencies = Latencies::new();
            let mut acknowledged = 0_u64;
            while Instant::now() < deadline {
                let request = AppendRequest {
                    stream: stream.clone(),
                    expected: ExpectedVersion::Any,
                    events: vec![event(&payload, &actor)],
                };
                let begun = Instant::now();
                log.append(request)
                    .await
                    .map_err(|error| format!("an append failed: {error}"))?;
                latencies.record(begun.elapsed());
                acknowledged += 1;
            }
            Ok::<_, String>((acknowledged, latencies))
        }));
    }
    let mut acknowledged = 0;
    let mut latencies = Latencies::new();
    for task in tasks {
        let (count, client_latencies) = task
            .await
            .map_err(|error| format!("a client task failed: {error}"))??;
        acknowledged += count;
        latencies.extend(client_latencies);
    }
    let elapsed = started.elapsed();
    let syncs = log.stats().syncs - before.syncs;
    log.close()
        .await
        .map_err(|error| format!("closing the store: {error}"))?;
    Ok(Concurrent {
        acknowledged,
        elapsed,
        latencies,
        syncs,
    })
}
