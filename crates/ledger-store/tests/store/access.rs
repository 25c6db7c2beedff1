//! The access records' keyspace: appended records come back newest first by customer, by
//! subject and by time, ranges and cursors bound them, they survive a reopen, `close` drains the
//! queue, bad records are refused by field, and a failed commit refuses every later record.

use ledger_domain::ids::CustomerId;
use ledger_store::limits::{ACCESS_PAGE_MAX, ACCESS_SUBJECT_BYTES_MAX};
use ledger_store::{
    AccessError, AccessFilter, AccessLog, AccessQuery, AccessRead, AccessRecord, FaultMode,
    FaultPoint, Faults, StoreFailure,
};

use crate::common::{open, open_with_faults};

/// The stepping clock of `options()`: the first reading and the step.
const START_SECONDS: i64 = 1_750_000_000;

fn at(milliseconds: i64) -> jiff::Timestamp {
    jiff::Timestamp::from_millisecond(START_SECONDS * 1000 + milliseconds).unwrap()
}

fn read(subject: &str, customer: CustomerId, operation: &str) -> AccessRead {
    AccessRead {
        subject: subject.into(),
        role: "agent".into(),
        customer,
        operation: operation.into(),
    }
}

fn query(filter: AccessFilter) -> AccessQuery {
    AccessQuery {
        filter,
        from: None,
        to: None,
        after: None,
        first: ACCESS_PAGE_MAX,
    }
}

fn records(access: &AccessLog, query: &AccessQuery) -> Vec<AccessRecord> {
    access
        .page(query)
        .unwrap()
        .items
        .into_iter()
        .map(|(_, record)| record)
        .collect()
}

fn operations(access: &AccessLog, query: &AccessQuery) -> Vec<String> {
    records(access, query)
        .into_iter()
        .map(|record| record.operation)
        .collect()
}

/// Six reads: agents 1 and 2 reading customers A and B, one stepping-clock millisecond apart.
async fn six_reads(access: &AccessLog, a: CustomerId, b: CustomerId) {
    for (subject, customer, operation) in [
        ("agent-1", a, "read-0"),
        ("agent-2", a, "read-1"),
        ("agent-1", b, "read-2"),
        ("agent-1", a, "read-3"),
        ("agent-2", b, "read-4"),
        ("agent-12", a, "read-5"),
    ] {
        access
            .record(read(subject, customer, operation))
            .await
            .unwrap();
    }
    access.sync().await.unwrap();
}

#[tokio::test]
async fn records_are_listed_newest_first_by_customer_subject_and_time() {
    let dir = tempfile::tempdir().unwrap();
    let log = open(dir.path());
    let access = log.access();
    let (a, b) = (CustomerId::new_v7(), CustomerId::new_v7());
    six_reads(access, a, b).await;

    assert_eq!(
        operations(access, &query(AccessFilter::Customer(a))),
        ["read-5", "read-3", "read-1", "read-0"]
    );
    assert_eq!(
        operations(access, &query(AccessFilter::Customer(b))),
        ["read-4", "read-2"]
    );
    // "agent-1" is not a prefix match for "agent-12".
    assert_eq!(
        operations(access, &query(AccessFilter::Subject("agent-1".into()))),
        ["read-3", "read-2", "read-0"]
    );
    assert_eq!(
        operations(access, &query(AccessFilter::All)),
        ["read-5", "read-4", "read-3", "read-2", "read-1", "read-0"]
    );
    let newest = &records(access, &query(AccessFilter::All))[0];
    assert_eq!(newest.subject, "agent-12");
    assert_eq!(newest.role, "agent");
    assert_eq!(newest.customer, a);
    // Each read is stamped by the store's clock when it is recorded, in order.
    let times: Vec<_> = records(access, &query(AccessFilter::All))
        .into_iter()
        .map(|record| record.at)
        .collect();
    assert!(times.windows(2).all(|pair| pair[0] > pair[1]), "{times:?}");
    assert!(times.iter().all(|&time| time >= at(0)), "{times:?}");
    log.close().await.unwrap();
}

#[tokio::test]
async fn time_ranges_and_cursors_bound_a_page() {
    let dir = tempfile::tempdir().unwrap();
    let log = open(dir.path());
    let access = log.access();
    let (a, b) = (CustomerId::new_v7(), CustomerId::new_v7());
    six_reads(access, a, b).await;
    let all = records(access, &query(AccessFilter::All));
    let time_of = |operation: &str| {
        all.iter()
            .find(|record| record.operation == operation)
            .unwrap()
            .at
    };

    // `from` is inclusive, `to` exclusive.
    let ranged = AccessQuery {
        from: Some(time_of("read-1")),
        to: Some(time_of("read-5")),
        ..query(AccessFilter::Customer(a))
    };
    assert_eq!(operations(access, &ranged), ["read-3", "read-1"]);

    // Pages of two, each continuing after the last cursor, until no next page.
    let mut after = None;
    let mut seen = Vec::new();
    loop {
        let page = access
            .page(&AccessQuery {
                after,
                first: 2,
                ..query(AccessFilter::All)
            })
            .unwrap();
        seen.extend(
            page.items
                .iter()
                .map(|(_, record)| record.operation.clone()),
        );
        if !page.has_next_page {
            break;
        }
        after = page.items.last().map(|(stamp, _)| *stamp);
    }
    assert_eq!(
        seen,
        ["read-5", "read-4", "read-3", "read-2", "read-1", "read-0"]
    );

    let inverted = AccessQuery {
        from: Some(time_of("read-5")),
        to: Some(time_of("read-1")),
        ..query(AccessFilter::All)
    };
    assert!(matches!(
        access.page(&inverted),
        Err(AccessError::Invalid { field: "to", .. })
    ));
    let oversized = AccessQuery {
        first: ACCESS_PAGE_MAX + 1,
        ..query(AccessFilter::All)
    };
    assert!(matches!(
        access.page(&oversized),
        Err(AccessError::Invalid { field: "first", .. })
    ));
    log.close().await.unwrap();
}

#[tokio::test]
async fn records_survive_a_reopen_and_close_drains_the_queue() {
    let dir = tempfile::tempdir().unwrap();
    let customer = CustomerId::new_v7();
    {
        let log = open(dir.path());
        // No sync: `close` alone must commit everything queued.
        for index in 0..1000 {
            log.access()
                .record(read("agent-1", customer, &format!("read-{index}")))
                .await
                .unwrap();
        }
        log.close().await.unwrap();
        assert!(matches!(
            log.access().record(read("agent-1", customer, "late")).await,
            Err(AccessError::Unavailable(StoreFailure::Closed))
        ));
    }
    let log = open(dir.path());
    let page = log
        .access()
        .page(&query(AccessFilter::Customer(customer)))
        .unwrap();
    assert_eq!(page.items.len(), ACCESS_PAGE_MAX);
    assert!(page.has_next_page);
    assert_eq!(page.items[0].1.operation, "read-999");

    // The reopened store's stepping clock starts again, so the next record has the same time as
    // the first one before the reopen: it still sorts after it (sled's ids increase across
    // restarts), and both fall in a range ending one millisecond after the start.
    log.access()
        .record(read("agent-1", customer, "after-reopen"))
        .await
        .unwrap();
    log.access().sync().await.unwrap();
    let first_millisecond = AccessQuery {
        to: Some(at(1)),
        ..query(AccessFilter::Subject("agent-1".into()))
    };
    assert_eq!(
        operations(log.access(), &first_millisecond),
        ["after-reopen", "read-0"]
    );
    log.close().await.unwrap();
}

#[tokio::test]
async fn a_bad_record_is_refused_by_field() {
    let dir = tempfile::tempdir().unwrap();
    let log = open(dir.path());
    let customer = CustomerId::new_v7();
    let long_subject = "a".repeat(ACCESS_SUBJECT_BYTES_MAX + 1);
    for (bad, field) in [
        (read(&long_subject, customer, "customer"), "subject"),
        (read("", customer, "customer"), "subject"),
        (read("agent-1", customer, ""), "operation"),
        (
            AccessRead {
                role: String::new(),
                ..read("agent-1", customer, "customer")
            },
            "role",
        ),
    ] {
        match log.access().record(bad).await {
            Err(AccessError::Invalid { field: named, .. }) => assert_eq!(named, field),
            other => panic!("{field}: {other:?}"),
        }
    }
    log.access().sync().await.unwrap();
    assert!(records(log.access(), &query(AccessFilter::All)).is_empty());
    log.close().await.unwrap();
}

#[tokio::test]
async fn a_failed_commit_refuses_every_later_record() {
    let dir = tempfile::tempdir().unwrap();
    let faults = Faults::new();
    let log = open_with_faults(dir.path(), &faults);
    let customer = CustomerId::new_v7();
    log.access()
        .record(read("agent-1", customer, "kept"))
        .await
        .unwrap();
    log.access().sync().await.unwrap();

    faults.arm(FaultPoint::AccessWrite, FaultMode::Once);
    log.access()
        .record(read("agent-1", customer, "lost"))
        .await
        .unwrap();
    assert!(matches!(
        log.access().sync().await,
        Err(AccessError::Unavailable(StoreFailure::Io { .. }))
    ));
    assert_eq!(faults.fired(FaultPoint::AccessWrite), 1);
    assert!(log.access().poisoned().is_some());
    assert!(matches!(
        log.access()
            .record(read("agent-1", customer, "refused"))
            .await,
        Err(AccessError::Unavailable(StoreFailure::Poisoned { .. }))
    ));
    assert!(
        log.close().await.is_err(),
        "close reports the failed commit"
    );
    drop(log);

    let log = open(dir.path());
    assert_eq!(
        operations(log.access(), &query(AccessFilter::Customer(customer))),
        ["kept"]
    );
    log.close().await.unwrap();
}
