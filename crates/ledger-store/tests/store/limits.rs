//! Every limit, exceeded, is an error naming it; nothing is truncated.

use ledger_domain::ids::Position;
use ledger_store::limits::{
    EVENT_TYPE_BYTES_MAX, EVENTS_PER_REQUEST_MAX, GROUP_EVENTS_MAX, IMPORT_RECORDS_MAX,
    ORIGIN_BYTES_MAX, PAYLOAD_BYTES_MAX, QUEUE_CAPACITY_MAX, READ_PAGE_MAX,
    REQUEST_PAYLOAD_BYTES_MAX,
};
use ledger_store::{
    AppendError, EventLog, ExpectedVersion, ImportError, OpenError, SledEventLog, StoreFailure,
    StoreOptions,
};

use crate::common::{event, open, options, read_everything, request};

fn assert_invalid(outcome: Result<ledger_store::Appended, AppendError>, field: &str, limit: &str) {
    match outcome {
        Err(AppendError::Invalid { field: got, rule }) => {
            assert_eq!(got, field, "{rule}");
            assert!(rule.contains(limit), "the rule must name {limit}: {rule}");
        }
        other => panic!("expected Invalid naming {limit}, got {other:?}"),
    }
}

#[tokio::test]
async fn append_limits_are_errors_that_name_the_limit() {
    let dir = tempfile::tempdir().unwrap();
    let log = open(dir.path());

    let empty = log
        .append(request("customer-a", ExpectedVersion::Any, vec![]))
        .await;
    assert_invalid(empty, "events", "at least one event");

    let too_many = (0..=EVENTS_PER_REQUEST_MAX as u64)
        .map(|seed| event(seed, 0))
        .collect();
    assert_invalid(
        log.append(request("customer-a", ExpectedVersion::Any, too_many))
            .await,
        "events",
        "EVENTS_PER_REQUEST_MAX",
    );

    let large = vec![event(1, 1), event(2, PAYLOAD_BYTES_MAX + 1)];
    assert_invalid(
        log.append(request("customer-a", ExpectedVersion::Any, large))
            .await,
        "events[1].payload",
        "PAYLOAD_BYTES_MAX",
    );

    let events_to_pass = REQUEST_PAYLOAD_BYTES_MAX / PAYLOAD_BYTES_MAX + 1;
    let heavy = (0..events_to_pass as u64)
        .map(|seed| event(seed, PAYLOAD_BYTES_MAX))
        .collect();
    assert_invalid(
        log.append(request("customer-a", ExpectedVersion::Any, heavy))
            .await,
        "events",
        "REQUEST_PAYLOAD_BYTES_MAX",
    );

    let mut named = event(1, 1);
    named.event_type = "x".repeat(EVENT_TYPE_BYTES_MAX + 1);
    assert_invalid(
        log.append(request("customer-a", ExpectedVersion::Any, vec![named]))
            .await,
        "events[0].event_type",
        "EVENT_TYPE_BYTES_MAX",
    );
    let mut unnamed = event(1, 1);
    unnamed.event_type.clear();
    assert_invalid(
        log.append(request("customer-a", ExpectedVersion::Any, vec![unnamed]))
            .await,
        "events[0].event_type",
        "EVENT_TYPE_BYTES_MAX",
    );
    let mut far = event(1, 1);
    far.origin = Some("o".repeat(ORIGIN_BYTES_MAX + 1));
    assert_invalid(
        log.append(request("customer-a", ExpectedVersion::Any, vec![far]))
            .await,
        "events[0].origin",
        "ORIGIN_BYTES_MAX",
    );

    let repeated = event(1, 1);
    assert_invalid(
        log.append(request(
            "customer-a",
            ExpectedVersion::Any,
            vec![repeated.clone(), event(2, 1), repeated],
        ))
        .await,
        "events[2].event_id",
        "more than once",
    );

    // At the limits exactly, everything is accepted and kept whole.
    let exact = (0..EVENTS_PER_REQUEST_MAX as u64)
        .map(|seed| event(seed, 1))
        .collect();
    log.append(request("customer-a", ExpectedVersion::Any, exact))
        .await
        .unwrap();
    let full = vec![event(7, PAYLOAD_BYTES_MAX)];
    let appended = log
        .append(request("customer-b", ExpectedVersion::Any, full))
        .await
        .unwrap();
    let stored = log.read_all(appended.first_position, 1).unwrap();
    assert_eq!(stored[0].event.payload.len(), PAYLOAD_BYTES_MAX);
    assert_eq!(
        log.head().position,
        Position(EVENTS_PER_REQUEST_MAX as u64 + 1)
    );
    assert_eq!(log.stats().appends, 2, "nothing invalid reached the writer");

    // append_many answers each invalid request alone; the others are written.
    let outcomes = log
        .append_many(vec![
            request("customer-c", ExpectedVersion::Any, vec![]),
            request("customer-c", ExpectedVersion::Any, vec![event(1, 1)]),
        ])
        .await
        .unwrap();
    assert!(matches!(outcomes[0], Err(AppendError::Invalid { .. })));
    assert!(outcomes[1].is_ok());
}

#[tokio::test]
async fn read_and_import_limits_are_errors_that_name_the_limit() {
    let dir = tempfile::tempdir().unwrap();
    let log = open(dir.path());
    log.append(request(
        "customer-a",
        ExpectedVersion::Any,
        vec![event(1, 1)],
    ))
    .await
    .unwrap();
    assert_eq!(
        log.read_all(Position(1), READ_PAGE_MAX + 1),
        Err(StoreFailure::PageTooLarge {
            requested: READ_PAGE_MAX + 1,
            limit: READ_PAGE_MAX
        })
    );
    let stream = crate::common::stream("customer-a");
    assert!(matches!(
        log.read_stream(&stream, 1, READ_PAGE_MAX + 1),
        Err(StoreFailure::PageTooLarge { .. })
    ));
    assert!(log.read_stream(&stream, 1, 0).unwrap().is_empty());

    let record = read_everything(&log).remove(0);
    let too_many = vec![record; IMPORT_RECORDS_MAX + 1];
    let other_dir = tempfile::tempdir().unwrap();
    let other = open(other_dir.path());
    match other.import_recorded(too_many).await {
        Err(ImportError::Invalid { rule, .. }) => {
            assert!(rule.contains("IMPORT_RECORDS_MAX"), "{rule}")
        }
        outcome => panic!("{outcome:?}"),
    }
    assert!(matches!(
        other.import_recorded(vec![]).await,
        Err(ImportError::Invalid { .. })
    ));
}

#[test]
fn options_out_of_bounds_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let queue = SledEventLog::open(
        dir.path(),
        StoreOptions {
            queue_capacity: QUEUE_CAPACITY_MAX + 1,
            ..options()
        },
    );
    assert!(matches!(
        queue,
        Err(OpenError::InvalidOptions {
            field: "queue_capacity",
            ..
        })
    ));
    let group = SledEventLog::open(
        dir.path(),
        StoreOptions {
            group_events_max: GROUP_EVENTS_MAX + 1,
            ..options()
        },
    );
    assert!(matches!(
        group,
        Err(OpenError::InvalidOptions {
            field: "group_events_max",
            ..
        })
    ));
    let zero = SledEventLog::open(
        dir.path(),
        StoreOptions {
            group_events_max: 0,
            ..options()
        },
    );
    assert!(
        matches!(zero, Err(OpenError::InvalidOptions { rule, .. }) if rule.contains("GROUP_EVENTS_MAX"))
    );
}
