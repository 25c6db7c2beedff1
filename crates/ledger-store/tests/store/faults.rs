//! Injected IO faults: the failing group is never acknowledged, the store is poisoned, and after
//! a reopen the failed append is wholly present or wholly absent while everything acknowledged
//! before it is there.

use ledger_domain::ids::Position;
use ledger_store::{
    AppendError, EventLog, ExpectedVersion, FaultMode, FaultPoint, Faults, SledEventLog,
    StoreFailure, StoreOptions,
};

use crate::common::{assert_verifies, event, open_with_faults, options, read_everything, request};

async fn a_fault_at(point: FaultPoint) {
    let dir = tempfile::tempdir().unwrap();
    let faults = Faults::new();
    let log = open_with_faults(dir.path(), &faults);
    for round in 0..5 {
        log.append(request(
            "customer-a",
            ExpectedVersion::Exact(round),
            vec![event(round, 100)],
        ))
        .await
        .unwrap();
    }
    let acknowledged = read_everything(&log);

    faults.arm(point, FaultMode::Once);
    let failing_events = vec![event(100, 100), event(101, 100), event(102, 100)];
    let failing_ids: Vec<_> = failing_events.iter().map(|event| event.event_id).collect();
    let failed = log
        .append(request(
            "customer-a",
            ExpectedVersion::Exact(5),
            failing_events.clone(),
        ))
        .await;
    assert!(
        matches!(
            failed,
            Err(AppendError::Unavailable(StoreFailure::Io { .. }))
        ),
        "{}: {failed:?}",
        point.name()
    );
    assert_eq!(faults.fired(point), 1);
    assert_eq!(
        log.head().position,
        Position(5),
        "{}: nothing unacknowledged is published",
        point.name()
    );
    assert_eq!(
        log.read_all(Position(6), 10).unwrap(),
        vec![],
        "{}: nothing unacknowledged is served",
        point.name()
    );
    assert_eq!(log.position_of(failing_ids[0]), None);

    // Poisoned: the fault fired once, yet later appends fail too, without touching the disk.
    let later = log
        .append(request(
            "customer-b",
            ExpectedVersion::Any,
            vec![event(200, 1)],
        ))
        .await;
    assert!(
        matches!(
            later,
            Err(AppendError::Unavailable(StoreFailure::Poisoned { .. }))
        ),
        "{later:?}"
    );
    let many = log
        .append_many(vec![request(
            "customer-b",
            ExpectedVersion::Any,
            vec![event(201, 1)],
        )])
        .await;
    assert!(
        matches!(many, Err(StoreFailure::Poisoned { .. })),
        "{many:?}"
    );
    assert!(matches!(
        log.close().await,
        Err(StoreFailure::Poisoned { .. })
    ));
    drop(log);

    let log = open_with_faults(dir.path(), &faults);
    let records = read_everything(&log);
    assert_eq!(
        records[..5],
        acknowledged[..],
        "{}: everything acknowledged survives",
        point.name()
    );
    let present: Vec<_> = records[5..]
        .iter()
        .map(|record| record.event.event_id)
        .collect();
    assert!(
        present.is_empty() || present == failing_ids,
        "{}: the failed append must be whole or absent, found {present:?}",
        point.name()
    );
    match point {
        FaultPoint::BeforeWrite => {
            assert!(present.is_empty(), "nothing was written before the write")
        }
        FaultPoint::AfterSync => assert_eq!(
            present, failing_ids,
            "the group was durable before the fault"
        ),
        FaultPoint::BeforeFlush | FaultPoint::BeforeSync => {}
        FaultPoint::AccessWrite | FaultPoint::CompactionWrite => {
            unreachable!("only a group commit's points fail an append")
        }
    }
    assert_verifies(&log);

    // The reopened store takes appends again, and the retried request is a duplicate if present.
    let retried = log
        .append(request(
            "customer-a",
            ExpectedVersion::Exact(5),
            failing_events,
        ))
        .await
        .unwrap();
    assert_eq!(retried.duplicate, !present.is_empty());
    assert_eq!(retried.first_position, Position(6));
    assert_verifies(&log);
}

#[tokio::test]
async fn a_failed_write_is_unavailable_and_poisons() {
    a_fault_at(FaultPoint::BeforeWrite).await;
}

#[tokio::test]
async fn a_failed_flush_is_unavailable_and_poisons() {
    a_fault_at(FaultPoint::BeforeFlush).await;
}

#[tokio::test]
async fn a_failed_sync_is_unavailable_and_poisons() {
    a_fault_at(FaultPoint::BeforeSync).await;
}

#[tokio::test]
async fn a_fault_after_the_sync_is_still_not_acknowledged() {
    a_fault_at(FaultPoint::AfterSync).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_caller_of_a_failing_group_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let faults = Faults::new();
    let log = open_with_faults(dir.path(), &faults);
    faults.arm(FaultPoint::BeforeSync, FaultMode::Always);
    let tasks: Vec<_> = (0..32_u64)
        .map(|task| {
            let log = log.clone();
            tokio::spawn(async move {
                log.append(request(
                    &format!("customer-{task}"),
                    ExpectedVersion::Any,
                    vec![event(task, 10)],
                ))
                .await
            })
        })
        .collect();
    for task in tasks {
        let outcome = task.await.unwrap();
        assert!(
            matches!(outcome, Err(AppendError::Unavailable(_))),
            "{outcome:?}"
        );
    }
    assert_eq!(log.head().position, Position(0));
    assert_eq!(
        faults.fired(FaultPoint::BeforeSync),
        1,
        "after the first failure nothing reaches the disk"
    );
}

/// Groups of two events: the second group of one `append_many` is decided while the first is
/// written; when the first fails, the second is refused too, though nothing failed in it, and
/// never reaches the disk. After a reopen, each group is whole or absent, in order.
#[tokio::test]
async fn a_group_decided_during_a_failing_write_is_refused_with_it() {
    let dir = tempfile::tempdir().unwrap();
    let faults = Faults::new();
    let small_groups = StoreOptions {
        group_events_max: 2,
        faults: faults.clone(),
        ..options()
    };
    let log = SledEventLog::open(dir.path(), small_groups.clone()).unwrap();
    faults.arm(FaultPoint::BeforeSync, FaultMode::Once);
    let requests: Vec<_> = (0..3_u64)
        .map(|group| {
            request(
                &format!("customer-{group}"),
                ExpectedVersion::NoStream,
                vec![event(group * 2, 8), event(group * 2 + 1, 8)],
            )
        })
        .collect();
    let outcomes = log.append_many(requests.clone()).await.unwrap();
    for outcome in &outcomes {
        assert!(
            matches!(outcome, Err(AppendError::Unavailable(_))),
            "{outcome:?}"
        );
    }
    assert_eq!(log.head().position, Position(0));
    assert_eq!(faults.fired(FaultPoint::BeforeSync), 1);
    assert!(log.close().await.is_err());
    drop(log);

    let log = SledEventLog::open(dir.path(), small_groups).unwrap();
    let present: Vec<_> = read_everything(&log)
        .iter()
        .map(|record| record.event.event_id)
        .collect();
    let first_group: Vec<_> = requests[0]
        .events
        .iter()
        .map(|event| event.event_id)
        .collect();
    assert!(
        present.is_empty() || present == first_group,
        "only the failing group may have reached the disk, found {present:?}"
    );
    assert_verifies(&log);
}
