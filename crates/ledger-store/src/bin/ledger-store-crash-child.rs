//! Test helper for the crash test (not a user tool): appends concurrently to the store in
//! `DIR` until it is killed, printing one line per acknowledged event, flushed at once:
//! `ack POSITION EVENT_ID STREAM VERSION`. The parent kills it at a random moment and checks
//! that every acknowledged event survived.
//!
//! Usage: `ledger-store-crash-child DIR TASKS`. Each task owns the stream `crash-tN` and
//! appends with the exact expected version (read from the store at start), so a lost
//! acknowledged event or a half-visible group shows up as a conflict, printed as `error …`.

use std::io::Write;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use ledger_domain::ids::{EventId, StaffId, StreamId};
use ledger_store::{
    AppendRequest, EventLog, ExpectedVersion, NewEvent, SledEventLog, StoreOptions,
};

fn main() {
    let mut args = std::env::args().skip(1);
    let dir = PathBuf::from(
        args.next()
            .expect("usage: ledger-store-crash-child DIR TASKS"),
    );
    let tasks: usize = args
        .next()
        .and_then(|tasks| tasks.parse().ok())
        .unwrap_or(8);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(run(dir, tasks));
}

async fn run(dir: PathBuf, tasks: usize) {
    let log = match SledEventLog::open(&dir, StoreOptions::default()) {
        Ok(log) => log,
        Err(error) => {
            println!("error open: {error}");
            std::process::exit(2);
        }
    };
    let output = Arc::new(Mutex::new(std::io::stdout()));
    let mut handles = Vec::new();
    for task in 0..tasks {
        let log = log.clone();
        let output = Arc::clone(&output);
        handles.push(tokio::spawn(async move {
            append_forever(log, task, output).await
        }));
    }
    for handle in handles {
        let _ = handle.await;
    }
}

async fn append_forever(log: SledEventLog, task: usize, output: Arc<Mutex<std::io::Stdout>>) {
    let stream = StreamId::parse("stream", &format!("crash-t{task}")).expect("a stream id");
    let actor = StaffId::parse("actor", "system:crash-test").expect("a staff id");
    let mut version = log.stream_version(&stream);
    let mut round = 0_usize;
    loop {
        round += 1;
        // Vary the shape: single events, small batches, and now and then a large payload so
        // groups span several chunks.
        let count = 1 + (round + task) % 3;
        let payload_bytes = if (round + task).is_multiple_of(17) {
            40_000
        } else {
            64 + (round * 31 + task * 7) % 400
        };
        let events: Vec<NewEvent> = (0..count)
            .map(|index| NewEvent {
                event_id: EventId::new_v7(),
                event_type: "CrashTested".into(),
                schema_version: 1,
                occurred_at: jiff::Timestamp::now(),
                actor: actor.clone(),
                correlation_id: None,
                causation_id: None,
                origin: Some("crash-test".into()),
                payload: vec![u8::try_from((round + index) % 251).unwrap_or(0); payload_bytes],
            })
            .collect();
        let ids: Vec<EventId> = events.iter().map(|event| event.event_id).collect();
        let request = AppendRequest {
            stream: stream.clone(),
            expected: ExpectedVersion::Exact(version),
            events,
        };
        match log.append(request).await {
            Ok(appended) => {
                let mut out = output
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                for (offset, id) in (0_u64..).zip(&ids) {
                    let position = appended.first_position.get() + offset;
                    let _ = writeln!(out, "ack {position} {id} {stream} {}", version + offset + 1);
                }
                let _ = out.flush();
                version = appended.stream_version;
            }
            Err(error) => {
                let mut out = output
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                let _ = writeln!(out, "error {stream}: {error}");
                let _ = out.flush();
                return;
            }
        }
    }
}
