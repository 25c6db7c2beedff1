//! Figure 2, the ledger's side: the dataset through the bulk append path (`append_many`, as
//! `import` and `seed` use it) into a fresh store, closed at the end.

use std::path::Path;
use std::time::{Duration, Instant};

use ledger_domain::events::Event;
use ledger_domain::ids::Position;
use ledger_store::limits::READ_PAGE_MAX;
use ledger_store::{AppendRequest, EventLog, SledEventLog, StoreOptions, encode_record};

use ledger_app::bulk::IMPORT_CHUNK_REQUESTS;

/// What one bulk import did.
#[derive(Debug, Clone, Copy)]
pub struct Imported {
    pub events: u64,
    pub elapsed: Duration,
    pub groups: u64,
    pub syncs: u64,
    /// Bytes this process (sled's threads included) wrote to disk during the import, from
    /// `/proc/self/io`: the store's write amplification.
    pub written_bytes: u64,
    /// Canonical record bytes of every event (what each hash covers): the raw event bytes
    /// the footprint is measured against.
    pub raw_bytes: u64,
}

/// Sums the canonical record bytes of every event in the log.
fn raw_event_bytes(log: &SledEventLog) -> Result<u64, String> {
    let mut from = Position(1);
    let mut total = 0;
    loop {
        let page = log
            .read_all(from, READ_PAGE_MAX)
            .map_err(|error| format!("reading the log: {error}"))?;
        let Some(last) = page.last() else {
            return Ok(total);
        };
        from = last.position.next();
        total += page
            .iter()
            .map(|record| u64::try_from(encode_record(record).len()).unwrap_or(u64::MAX))
            .sum::<u64>();
    }
}

/// Each request with the decoded event sealing reads (what `import` hands
/// `ledger_app::bulk::append_sealed`), decoded on every core as `import` parses its lines.
fn planned(requests: Vec<AppendRequest>) -> Result<ledger_app::bulk::Planned, String> {
    let mut planned = Vec::with_capacity(requests.len());
    for part in ledger_app::bulk::split_over_cores(requests, DECODE_PARALLEL_MIN, decode_part) {
        planned.extend(part?);
    }
    Ok(planned)
}

/// Below this many requests the dataset is decoded on one thread.
const DECODE_PARALLEL_MIN: usize = 4_096;

fn decode_part(requests: Vec<AppendRequest>) -> Result<ledger_app::bulk::Planned, String> {
    requests
        .into_iter()
        .map(|request| {
            let [new_event] = request.events.as_slice() else {
                return Err("a dataset request carries more than one event".to_owned());
            };
            let event = Event::decode_payload(
                &new_event.event_type,
                new_event.schema_version,
                &new_event.payload,
            )
            .map_err(|error| format!("a dataset payload does not decode: {error}"))?;
            Ok((request, event))
        })
        .collect()
}

/// Figure 2: the dataset's requests into a fresh store at `dir`.
pub async fn bulk(dir: &Path, requests: Vec<AppendRequest>) -> Result<Imported, String> {
    // Decoding the dataset's payloads is timed too: sealing needs the events, as before.
    append_all(dir, || planned(requests)).await
}

/// Appends what `plan` gives (timed from before `plan` runs) into a fresh store at `dir`
/// through `ledger_app::bulk::append_sealed`, closes it, and reads it back for the raw bytes.
pub async fn append_all<I>(
    dir: &Path,
    plan: impl FnOnce() -> Result<I, String>,
) -> Result<Imported, String>
where
    I: IntoIterator<Item = (AppendRequest, Event)>,
{
    let log = SledEventLog::open(dir, StoreOptions::default())
        .map_err(|error| format!("opening {}: {error}", dir.display()))?;
    if log.head().event_count != 0 {
        return Err(format!("{} is not an empty ledger", dir.display()));
    }
    let written_before = crate::machine::written_bytes("self")?;
    let started = Instant::now();
    let planned = plan()?;
    let ring = ledger_app::open_keys(&log, crate::bench_keys())
        .map_err(|error| format!("opening the data keys: {error}"))?;
    ledger_app::bulk::append_sealed(&log, &ring, planned, IMPORT_CHUNK_REQUESTS, |outcomes| {
        for outcome in outcomes {
            let appended = outcome.map_err(|error| format!("an append was refused: {error}"))?;
            if appended.duplicate {
                return Err("an event of the dataset was a duplicate".to_owned());
            }
        }
        Ok(())
    })
    .await
    .map_err(|error| error.to_string())?;
    drop(ring);
    let stats = log.stats();
    let events = log.head().event_count;
    log.close()
        .await
        .map_err(|error| format!("closing the store: {error}"))?;
    let elapsed = started.elapsed();
    let written_bytes = crate::machine::written_bytes("self")?.saturating_sub(written_before);
    drop(log);
    // Read back (not timed) for the raw bytes, from a reopened store: the close above is part
    // of the import, and reads of a closed store are not served.
    let reopened = SledEventLog::open(dir, StoreOptions::default())
        .map_err(|error| format!("reopening {}: {error}", dir.display()))?;
    let raw_bytes = raw_event_bytes(&reopened)?;
    reopened
        .close()
        .await
        .map_err(|error| format!("closing the store: {error}"))?;
    Ok(Imported {
        events,
        elapsed,
        groups: stats.groups,
        syncs: stats.syncs,
        written_bytes,
        raw_bytes,
    })
}
