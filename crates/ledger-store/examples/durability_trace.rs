//! Shows the durability sequence under `strace`: three appends, each acknowledgement printed to
//! stderr (one `write(2, …)` syscall) right after the append returns, so
//! `strace -f -e trace=fsync,fdatasync,sync_file_range,write` shows the fdatasync before it.
//!
//! `cargo run --release -p ledger-store --example durability_trace -- DIR`

use ledger_domain::ids::{EventId, StaffId, StreamId};
use ledger_store::{
    AppendRequest, EventLog, ExpectedVersion, NewEvent, SledEventLog, StoreOptions,
};

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let dir = std::env::args()
        .nth(1)
        .expect("usage: durability_trace DIR");
    let log = SledEventLog::open(dir.as_ref(), StoreOptions::default()).expect("the store opens");
    let stream = StreamId::parse("stream", "customer-trace").expect("a stream id");
    eprintln!("OPENED");
    for round in 0..3_u64 {
        let event = NewEvent {
            event_id: EventId::new_v7(),
            event_type: "ContactRecorded".into(),
            schema_version: 1,
            occurred_at: jiff::Timestamp::now(),
            actor: StaffId::parse("actor", "agent-1").expect("a staff id"),
            correlation_id: None,
            causation_id: None,
            origin: Some("telephony".into()),
            payload: vec![7; 100],
        };
        let appended = log
            .append(AppendRequest {
                stream: stream.clone(),
                expected: ExpectedVersion::Any,
                events: vec![event],
            })
            .await
            .expect("the append is durable");
        eprintln!("ACK round {round} position {}", appended.first_position);
    }
    log.close().await.expect("the store closes");
}
