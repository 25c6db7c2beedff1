//! Deciding a group over the one in flight: what the second group decides must be what it
//! would decide were the first one durable already.

use super::*;
use crate::StoreOptions;
use crate::sled_log::SledEventLog;
use crate::testing::contact_event;
use crate::types::{ExpectedVersion, NewEvent};

fn event() -> NewEvent {
    contact_event(vec![7; 40])
}

fn request(expected: ExpectedVersion, events: &[NewEvent]) -> AppendRequest {
    AppendRequest {
        stream: StreamId::parse("stream", "customer-a").expect("a stream id"),
        expected,
        events: events.to_vec(),
    }
}

/// A retry of the first group's request and the next version of its stream, decided with the
/// first group in flight above the indexes, or (wrongly) forgotten.
fn decide_second(
    sees_in_flight: bool,
) -> (Result<Appended, AppendError>, Result<Appended, AppendError>) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let log = SledEventLog::open(dir.path(), StoreOptions::default()).expect("the store opens");
    let shared = &log.handle.shared;
    let indexes = shared.read_indexes();
    let now = jiff::Timestamp::from_second(1_750_000_000).expect("an instant");
    let first_events = [event(), event()];
    let mut first = Stage::new(shared.head(), now, 2, None);
    let appended = first
        .append(
            &indexes,
            shared,
            request(ExpectedVersion::Exact(0), &first_events),
        )
        .expect("the first group's append");
    assert_eq!(appended.stream_version, 2);
    let sealed = first.seal();
    let staged = Arc::clone(&sealed.staged);
    let mut second = Stage::new(sealed.head, now, 3, sees_in_flight.then_some(staged));
    let retry = second.append(
        &indexes,
        shared,
        request(ExpectedVersion::Exact(0), &first_events),
    );
    let next = second.append(
        &indexes,
        shared,
        request(ExpectedVersion::Exact(2), &[event()]),
    );
    (retry, next)
}

#[test]
fn a_group_decided_over_the_one_in_flight_sees_its_ids_versions_and_head() {
    let (retry, next) = decide_second(true);
    assert_eq!(
        retry.expect("a retry of the group in flight"),
        Appended {
            first_position: Position(1),
            last_position: Position(2),
            stream_version: 2,
            duplicate: true,
        }
    );
    assert_eq!(
        next.expect("the stream's next version"),
        Appended {
            first_position: Position(3),
            last_position: Position(3),
            stream_version: 3,
            duplicate: false,
        }
    );
}

/// Forgetting the group in flight decides the same requests otherwise: the test above depends
/// on it.
#[test]
fn forgetting_the_group_in_flight_would_record_its_retry_twice() {
    let (retry, next) = decide_second(false);
    let retry = retry.expect("appended again");
    assert!(!retry.duplicate);
    assert_eq!(retry.first_position, Position(3));
    assert_eq!(next.expect("appended").first_position, Position(5));
}
