//! Appends, reads, duplicates and conflicts, idempotency across a restart, export → import.

use ledger_domain::ids::Position;
use ledger_store::{
    AppendError, Appended, EventLog, ExpectedVersion, GENESIS_HASH, Head, ImportError,
    RecordedEvent, SledEventLog, StoreOptions, recompute_hash,
};

use crate::common::{
    assert_verifies, event, incompressible_event, open, options, read_everything, request, stream,
};

#[tokio::test]
async fn appends_read_back_in_order_with_a_chained_hash() {
    let dir = tempfile::tempdir().unwrap();
    let log = open(dir.path());
    assert_eq!(log.head(), Head::EMPTY);

    let first = log
        .append(request(
            "customer-a",
            ExpectedVersion::NoStream,
            vec![event(1, 10), event(2, 10)],
        ))
        .await;
    assert_eq!(
        first,
        Ok(Appended {
            first_position: Position(1),
            last_position: Position(2),
            stream_version: 2,
            duplicate: false
        })
    );
    let second = log
        .append(request(
            "customer-b",
            ExpectedVersion::Any,
            vec![event(3, 0)],
        ))
        .await
        .unwrap();
    assert_eq!(
        (second.first_position, second.stream_version),
        (Position(3), 1)
    );
    let third = log
        .append(request(
            "customer-a",
            ExpectedVersion::Exact(2),
            vec![event(4, 5)],
        ))
        .await
        .unwrap();
    assert_eq!(
        (third.first_position, third.stream_version),
        (Position(4), 3)
    );

    let records = read_everything(&log);
    assert_eq!(records.len(), 4);
    let mut prev = GENESIS_HASH;
    for (record, position) in records.iter().zip(1..) {
        assert_eq!(record.position, Position(position));
        assert_eq!(record.prev_hash, prev);
        assert_eq!(recompute_hash(record), record.hash);
        prev = record.hash;
    }
    assert_eq!(
        log.head(),
        Head {
            position: Position(4),
            hash: prev,
            event_count: 4
        }
    );
    let stream_a = log.read_stream(&stream("customer-a"), 1, 10).unwrap();
    assert_eq!(
        stream_a
            .iter()
            .map(|r| (r.position.get(), r.stream_version))
            .collect::<Vec<_>>(),
        [(1, 1), (2, 2), (4, 3)]
    );
    assert_eq!(
        log.read_stream(&stream("customer-a"), 3, 10).unwrap()[0].position,
        Position(4)
    );
    assert!(
        log.read_stream(&stream("customer-zzz"), 1, 10)
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        log.read_all(Position(3), 1).unwrap()[0].position,
        Position(3)
    );
    assert!(log.read_all(Position(5), 10).unwrap().is_empty());
    assert_eq!(log.stream_version(&stream("customer-a")), 3);
    assert_eq!(
        log.position_of(records[3].event.event_id),
        Some(Position(4))
    );
    assert_verifies(&log);
}

#[tokio::test]
async fn a_stale_expected_version_is_a_conflict_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let log = open(dir.path());
    log.append(request(
        "case-1",
        ExpectedVersion::NoStream,
        vec![event(1, 1)],
    ))
    .await
    .unwrap();
    let conflict = log
        .append(request(
            "case-1",
            ExpectedVersion::NoStream,
            vec![event(2, 1)],
        ))
        .await;
    assert_eq!(
        conflict,
        Err(AppendError::Conflict {
            stream: stream("case-1"),
            expected: ExpectedVersion::NoStream,
            actual: 1
        })
    );
    let conflict = log
        .append(request(
            "case-1",
            ExpectedVersion::Exact(5),
            vec![event(3, 1)],
        ))
        .await;
    assert!(matches!(
        conflict,
        Err(AppendError::Conflict { actual: 1, .. })
    ));
    assert_eq!(log.head().position, Position(1));
    assert_eq!(log.stats().conflicts, 2);
}

#[tokio::test]
async fn a_retried_append_is_a_duplicate_across_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let events = vec![event(1, 8), event(2, 8)];
    let original = {
        let log = open(dir.path());
        log.append(request("claim-7", ExpectedVersion::Any, vec![event(0, 1)]))
            .await
            .unwrap();
        let original = log
            .append(request(
                "claim-7",
                ExpectedVersion::Exact(1),
                events.clone(),
            ))
            .await
            .unwrap();
        log.append(request(
            "claim-7",
            ExpectedVersion::Exact(3),
            vec![event(9, 1)],
        ))
        .await
        .unwrap();
        log.close().await.unwrap();
        original
    };
    let log = open(dir.path());
    let head = log.head();
    // The expected version is stale now (the stream holds 4), but the ids decide first.
    let retry = log
        .append(request(
            "claim-7",
            ExpectedVersion::Exact(1),
            events.clone(),
        ))
        .await
        .unwrap();
    assert_eq!(
        retry,
        Appended {
            duplicate: true,
            ..original
        }
    );
    assert_eq!(log.head(), head, "a duplicate writes nothing");
    assert_eq!(log.stats().syncs, 0, "a duplicate does not even sync");

    // A prefix of the original request is still the same events in the same order.
    let prefix = log
        .append(request(
            "claim-7",
            ExpectedVersion::Any,
            events[..1].to_vec(),
        ))
        .await
        .unwrap();
    assert_eq!(
        (
            prefix.first_position,
            prefix.last_position,
            prefix.duplicate
        ),
        (Position(2), Position(2), true)
    );

    // The same ids in another stream, another order, or mixed with new ones are not retries.
    let elsewhere = log
        .append(request("claim-8", ExpectedVersion::Any, events.clone()))
        .await;
    assert!(
        matches!(elsewhere, Err(AppendError::Invalid { ref field, .. }) if field == "events[0].event_id")
    );
    let reversed = log
        .append(request(
            "claim-7",
            ExpectedVersion::Any,
            vec![events[1].clone(), events[0].clone()],
        ))
        .await;
    assert!(matches!(reversed, Err(AppendError::Invalid { .. })));
    let mixed = log
        .append(request(
            "claim-7",
            ExpectedVersion::Any,
            vec![event(5, 1), events[0].clone()],
        ))
        .await;
    assert!(
        matches!(mixed, Err(AppendError::Invalid { ref field, .. }) if field == "events[1].event_id")
    );
    assert_eq!(log.head(), head);
    assert_verifies(&log);
}

#[tokio::test]
async fn a_retry_inside_the_same_group_is_a_duplicate() {
    let dir = tempfile::tempdir().unwrap();
    let log = open(dir.path());
    let events = vec![event(1, 8)];
    let outcomes = log
        .append_many(vec![
            request("customer-a", ExpectedVersion::NoStream, events.clone()),
            request("customer-a", ExpectedVersion::NoStream, events.clone()),
            request("customer-a", ExpectedVersion::NoStream, vec![event(2, 1)]),
        ])
        .await
        .unwrap();
    let original = outcomes[0].clone().unwrap();
    assert_eq!(
        outcomes[1],
        Ok(Appended {
            duplicate: true,
            ..original
        })
    );
    assert!(matches!(
        outcomes[2],
        Err(AppendError::Conflict { actual: 1, .. })
    ));
    assert_eq!(log.head().position, Position(1));
}

/// Groups of two events: each whole group is decided while the one before it is written, so
/// its retries, versions and positions must follow from a group not yet durable.
#[tokio::test]
async fn later_groups_of_one_append_many_follow_the_groups_written_before_them() {
    let dir = tempfile::tempdir().unwrap();
    let small_groups = StoreOptions {
        group_events_max: 2,
        ..options()
    };
    let log = SledEventLog::open(dir.path(), small_groups.clone()).unwrap();
    let first = vec![event(1, 8)];
    let outcomes = log
        .append_many(vec![
            request("customer-a", ExpectedVersion::NoStream, first.clone()),
            request("customer-a", ExpectedVersion::Exact(1), vec![event(2, 8)]),
            request("customer-a", ExpectedVersion::NoStream, first.clone()),
            request("customer-a", ExpectedVersion::Exact(2), vec![event(3, 8)]),
            request(
                "customer-b",
                ExpectedVersion::Any,
                vec![event(4, 8), event(5, 8)],
            ),
            request("customer-a", ExpectedVersion::Exact(2), vec![event(6, 8)]),
            request("customer-a", ExpectedVersion::Exact(3), vec![event(7, 8)]),
        ])
        .await
        .unwrap();
    let appended = |first: u64, last: u64, stream_version: u64| {
        Ok(Appended {
            first_position: Position(first),
            last_position: Position(last),
            stream_version,
            duplicate: false,
        })
    };
    assert_eq!(outcomes[0], appended(1, 1, 1));
    assert_eq!(outcomes[1], appended(2, 2, 2));
    assert_eq!(
        outcomes[2],
        Ok(Appended {
            duplicate: true,
            ..appended(1, 1, 1).unwrap()
        })
    );
    assert_eq!(outcomes[3], appended(3, 3, 3));
    assert_eq!(outcomes[4], appended(4, 5, 2));
    assert!(matches!(
        outcomes[5],
        Err(AppendError::Conflict { actual: 3, .. })
    ));
    assert_eq!(outcomes[6], appended(6, 6, 4));
    let versions: Vec<(u64, u64)> = read_everything(&log)
        .iter()
        .map(|record| (record.position.get(), record.stream_version))
        .collect();
    assert_eq!(versions, [(1, 1), (2, 2), (3, 3), (4, 1), (5, 2), (6, 4)]);
    log.close().await.unwrap();
    drop(log);
    let reopened = SledEventLog::open(dir.path(), small_groups).unwrap();
    assert_eq!(reopened.head().position, Position(6));
    assert_verifies(&reopened);
}

#[tokio::test]
async fn export_then_import_into_an_empty_store_reproduces_the_head_hash() {
    let source_dir = tempfile::tempdir().unwrap();
    let source = open(source_dir.path());
    for round in 0..30_u64 {
        let name = format!("customer-{}", round % 4);
        let events = (0..1 + round % 3)
            .map(|i| {
                event(
                    round * 10 + i,
                    100 + (usize::try_from(round).unwrap() * 997) % 3000,
                )
            })
            .collect();
        source
            .append(request(&name, ExpectedVersion::Any, events))
            .await
            .unwrap();
    }
    let exported = read_everything(&source);

    let target_dir = tempfile::tempdir().unwrap();
    let target = open(target_dir.path());
    for page in exported.chunks(7) {
        target.import_recorded(page.to_vec()).await.unwrap();
    }
    assert_eq!(target.head(), source.head());
    assert_eq!(read_everything(&target), exported);
    assert_verifies(&target);
    target.close().await.unwrap();
    drop(target);
    let reopened = open(target_dir.path());
    assert_eq!(reopened.head(), source.head());
    assert_eq!(
        reopened.stream_version(&stream("customer-1")),
        source.stream_version(&stream("customer-1"))
    );

    // The imported store goes on taking appends.
    let next = reopened
        .append(request(
            "customer-1",
            ExpectedVersion::Any,
            vec![event(1, 1)],
        ))
        .await
        .unwrap();
    assert_eq!(next.first_position, source.head().position.next());
}

#[tokio::test]
async fn an_import_that_does_not_continue_the_chain_is_rejected_whole() {
    let source_dir = tempfile::tempdir().unwrap();
    let source = open(source_dir.path());
    for round in 0..6_u64 {
        source
            .append(request(
                "customer-a",
                ExpectedVersion::Any,
                vec![event(round, 20)],
            ))
            .await
            .unwrap();
    }
    let exported = read_everything(&source);
    let target_dir = tempfile::tempdir().unwrap();
    let target = open(target_dir.path());

    let skipped = target.import_recorded(exported[1..].to_vec()).await;
    assert!(
        matches!(
            skipped,
            Err(ImportError::Rejected {
                position: Position(2),
                ..
            })
        ),
        "{skipped:?}"
    );

    let mut altered: Vec<RecordedEvent> = exported.clone();
    altered[3].event.payload[0] ^= 1;
    let tampered = target.import_recorded(altered).await;
    assert!(
        matches!(
            tampered,
            Err(ImportError::Rejected {
                position: Position(4),
                ..
            })
        ),
        "{tampered:?}"
    );

    let mut unlinked = exported.clone();
    unlinked[0].prev_hash = [1; 32];
    unlinked[0].hash = recompute_hash(&unlinked[0]);
    let unlinked = target.import_recorded(unlinked[..1].to_vec()).await;
    assert!(
        matches!(
            unlinked,
            Err(ImportError::Rejected {
                position: Position(1),
                ..
            })
        ),
        "{unlinked:?}"
    );
    assert_eq!(
        target.head(),
        Head::EMPTY,
        "nothing of a rejected import is written"
    );

    target
        .import_recorded(exported[..3].to_vec())
        .await
        .unwrap();
    let again = target.import_recorded(exported[..3].to_vec()).await;
    assert!(matches!(
        again,
        Err(ImportError::Rejected {
            position: Position(1),
            ..
        })
    ));
    target
        .import_recorded(exported[3..].to_vec())
        .await
        .unwrap();
    assert_eq!(target.head(), source.head());
}

#[tokio::test]
async fn a_closed_store_refuses_appends_and_another_open_is_refused_while_it_is_open() {
    let dir = tempfile::tempdir().unwrap();
    let log = open(dir.path());
    let second = SledEventLog::open(dir.path(), crate::common::options());
    assert!(second.is_err(), "sled holds a lock on an open store");
    log.append(request(
        "customer-a",
        ExpectedVersion::Any,
        vec![event(1, 1)],
    ))
    .await
    .unwrap();
    log.close().await.unwrap();
    let refused = log
        .append(request(
            "customer-a",
            ExpectedVersion::Any,
            vec![event(2, 1)],
        ))
        .await;
    assert!(
        matches!(refused, Err(AppendError::Unavailable(_))),
        "{refused:?}"
    );
    assert_eq!(
        log.read_all(Position(1), 10).unwrap().len(),
        1,
        "reads still work after close"
    );
}

#[tokio::test]
async fn large_records_that_spill_into_sled_blob_files_are_synced_and_survive() {
    let dir = tempfile::tempdir().unwrap();
    let log = open(dir.path());
    // Each record is a chunk of its own (> CHUNK_BYTES_TARGET) that compression cannot shrink;
    // a sled leaf of ~17 of them is past the blob threshold, so consolidating it writes a file
    // under log/blobs/.
    for round in 0..60_u64 {
        log.append(request(
            "process-manuals",
            ExpectedVersion::Any,
            vec![incompressible_event(round, 200_000)],
        ))
        .await
        .unwrap();
    }
    let stats = log.stats();
    assert!(
        stats.blob_syncs > 0,
        "expected sled to write blobs for leaves of large chunks: {stats:?}"
    );
    let before = read_everything(&log);
    log.close().await.unwrap();
    drop(log);
    let log = open(dir.path());
    assert_eq!(read_everything(&log), before);
    assert_verifies(&log);
}

#[tokio::test]
async fn a_store_open_elsewhere_is_refused_naming_the_likely_holder() {
    let dir = tempfile::tempdir().unwrap();
    let log = open(dir.path());
    let refused = SledEventLog::open(dir.path(), options()).unwrap_err();
    assert!(
        matches!(&refused, ledger_store::OpenError::InUse { path } if path.ends_with("log")),
        "{refused:?}"
    );
    assert!(
        refused.to_string().contains("is open in another process"),
        "{refused}"
    );
    log.close().await.unwrap();
}
