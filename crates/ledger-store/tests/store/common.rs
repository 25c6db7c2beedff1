//! Helpers shared by the tests: building events and requests, opening stores.

use std::path::Path;
use std::sync::Arc;

use ledger_domain::ids::StreamId;
use ledger_store::testing::contact_event;
use ledger_store::{
    AppendRequest, EventLog, ExpectedVersion, Faults, NewEvent, RecordedEvent, SledEventLog,
    SteppingClock, StoreOptions,
};

pub fn stream(name: &str) -> StreamId {
    StreamId::parse("stream", name).expect("a valid stream id")
}

/// An event with a fresh id and `payload_bytes` bytes derived from `seed`.
pub fn event(seed: u64, payload_bytes: usize) -> NewEvent {
    contact_event(
        (0..payload_bytes)
            .map(|index| u8::try_from((seed + index as u64) % 251).unwrap_or(0))
            .collect(),
    )
}

/// An event whose payload does not compress (like sealed personal fields, which are
/// ciphertext): bytes of a splitmix64 sequence from `seed`.
pub fn incompressible_event(seed: u64, payload_bytes: usize) -> NewEvent {
    let mut state = seed;
    let mut payload = Vec::with_capacity(payload_bytes + 8);
    while payload.len() < payload_bytes {
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut mixed = state;
        mixed = (mixed ^ (mixed >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        mixed = (mixed ^ (mixed >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        payload.extend_from_slice(&(mixed ^ (mixed >> 31)).to_le_bytes());
    }
    payload.truncate(payload_bytes);
    NewEvent {
        payload,
        ..event(seed, 0)
    }
}

pub fn request(
    stream_name: &str,
    expected: ExpectedVersion,
    events: Vec<NewEvent>,
) -> AppendRequest {
    AppendRequest {
        stream: stream(stream_name),
        expected,
        events,
    }
}

/// Options with a deterministic clock.
pub fn options() -> StoreOptions {
    StoreOptions {
        clock: Arc::new(SteppingClock::new(
            jiff::Timestamp::from_second(1_750_000_000).expect("an instant"),
            jiff::SignedDuration::from_millis(1),
        )),
        ..StoreOptions::default()
    }
}

pub fn open(dir: &Path) -> SledEventLog {
    SledEventLog::open(dir, options()).expect("the store opens")
}

/// Opens the store with `faults` armed by the test.
pub fn open_with_faults(dir: &Path, faults: &Faults) -> SledEventLog {
    SledEventLog::open(
        dir,
        StoreOptions {
            faults: faults.clone(),
            ..options()
        },
    )
    .expect("the store opens")
}

/// Every record of the log, paged.
pub fn read_everything(log: &impl EventLog) -> Vec<RecordedEvent> {
    let mut records = Vec::new();
    loop {
        let from = ledger_domain::ids::Position(records.len() as u64 + 1);
        let page = log
            .read_all(from, ledger_store::limits::READ_PAGE_MAX)
            .expect("the log reads");
        if page.is_empty() {
            return records;
        }
        records.extend(page);
    }
}

/// Asserts that `verify` finds nothing wrong.
pub fn assert_verifies(log: &impl EventLog) {
    let report = log.verify();
    assert!(report.ok, "verify found problems: {:#?}", report.problems);
    assert_eq!(report.head, log.head());
    assert_eq!(report.events, log.head().event_count);
}
