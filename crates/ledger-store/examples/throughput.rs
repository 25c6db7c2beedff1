//! A quick throughput check (run in release mode):
//! 1. 100,000 single-event requests through one `append_many` call;
//! 2. 64 concurrent clients appending single events for 5 seconds;
//! 3. reopening the store (index rebuild) and the indexes' memory per event.
//!
//! `cargo run --release -p ledger-store --example throughput -- [DIR]`
//! (`THROUGHPUT_BULK_ONLY=1` stops after the first part, for profiling it.)

use std::time::{Duration, Instant};

use ledger_domain::ids::{EventId, StaffId, StreamId};
use ledger_store::{
    AppendRequest, EventLog, ExpectedVersion, NewEvent, SledEventLog, StoreOptions,
};

const BULK_REQUESTS: u64 = 100_000;
const CLIENTS: u64 = 64;
const CLIENT_SECONDS: u64 = 5;
const PAYLOAD_BYTES: usize = 256;

fn event(seed: u64) -> NewEvent {
    NewEvent {
        event_id: EventId::new_v7(),
        event_type: "ContactRecorded".into(),
        schema_version: 1,
        occurred_at: jiff::Timestamp::now(),
        actor: StaffId::parse("actor", "agent-0042").expect("a staff id"),
        correlation_id: None,
        causation_id: None,
        origin: Some("telephony".into()),
        payload: vec![u8::try_from(seed % 251).unwrap_or(0); PAYLOAD_BYTES],
    }
}

fn stream(index: u64) -> StreamId {
    StreamId::parse("stream", &format!("customer-{index}")).expect("a stream id")
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let temporary = tempfile::tempdir().expect("a temporary directory");
    let dir = std::env::args()
        .nth(1)
        .map_or_else(|| temporary.path().to_owned(), Into::into);
    let log = SledEventLog::open(&dir, StoreOptions::default()).expect("the store opens");

    let requests: Vec<AppendRequest> = (0..BULK_REQUESTS)
        .map(|seed| AppendRequest {
            stream: stream(seed % 10_000),
            expected: ExpectedVersion::Any,
            events: vec![event(seed)],
        })
        .collect();
    let before = log.stats();
    let started = Instant::now();
    let outcomes = log
        .append_many(requests)
        .await
        .expect("the store takes writes");
    let elapsed = started.elapsed();
    assert!(outcomes.iter().all(Result::is_ok));
    let after = log.stats();
    println!(
        "append_many: {BULK_REQUESTS} single-event requests in {elapsed:.2?}: {:.0} events/s, {} group commits ({} syncs, {} blob syncs)",
        per_second(BULK_REQUESTS, elapsed),
        after.groups - before.groups,
        after.syncs - before.syncs,
        after.blob_syncs - before.blob_syncs,
    );

    if std::env::var_os("THROUGHPUT_BULK_ONLY").is_some() {
        return;
    }
    let before = log.stats();
    let deadline = Instant::now() + Duration::from_secs(CLIENT_SECONDS);
    let started = Instant::now();
    let clients: Vec<_> = (0..CLIENTS)
        .map(|client| {
            let log = log.clone();
            tokio::spawn(async move {
                let mut appended = 0_u64;
                while Instant::now() < deadline {
                    let request = AppendRequest {
                        stream: stream(20_000 + client),
                        expected: ExpectedVersion::Any,
                        events: vec![event(appended)],
                    };
                    log.append(request).await.expect("the append is durable");
                    appended += 1;
                }
                appended
            })
        })
        .collect();
    let mut total = 0;
    for client in clients {
        total += client.await.expect("the client finishes");
    }
    let elapsed = started.elapsed();
    let after = log.stats();
    let syncs = after.syncs - before.syncs;
    println!(
        "{CLIENTS} concurrent clients for {elapsed:.2?}: {total} appends, {:.0} events/s, {syncs} syncs ({:.0} syncs/s, {:.1} events per group)",
        per_second(total, elapsed),
        per_second(syncs, elapsed),
        to_f64(total) / to_f64(syncs.max(1)),
    );

    let stats = log.stats();
    let events = log.head().event_count;
    println!(
        "indexes: {events} events in {} streams: ~{} bytes, {:.1} bytes per event",
        10_000 + CLIENTS,
        stats.index_bytes,
        to_f64(stats.index_bytes) / to_f64(events)
    );
    let started = Instant::now();
    let report = log.verify();
    println!(
        "verify: ok={} {} events in {:.2?}",
        report.ok,
        report.events,
        started.elapsed()
    );
    log.close().await.expect("the store closes");
    drop(log);

    let started = Instant::now();
    let reopened = SledEventLog::open(&dir, StoreOptions::default()).expect("the store reopens");
    println!(
        "reopen (walk, rehash, rebuild indexes): {events} events in {:.2?}",
        started.elapsed()
    );
    assert_eq!(reopened.head().event_count, events);
}

fn to_f64(count: u64) -> f64 {
    // Counts here stay far below 2^53, where f64 is exact.
    f64::from(u32::try_from(count).unwrap_or(u32::MAX))
}

fn per_second(count: u64, elapsed: Duration) -> f64 {
    to_f64(count) / elapsed.as_secs_f64()
}
