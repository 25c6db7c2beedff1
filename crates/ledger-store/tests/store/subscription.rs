//! Subscriptions: catch-up then live, every position exactly once, in order.

use std::time::Duration;

use ledger_domain::ids::Position;
use ledger_store::{EventLog, ExpectedVersion, StoreFailure};

use crate::common::{event, open, request};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_subscriber_sees_every_position_once_across_catch_up_and_live() {
    let dir = tempfile::tempdir().unwrap();
    let log = open(dir.path());
    for round in 0..300_u64 {
        log.append(request(
            "customer-a",
            ExpectedVersion::Any,
            vec![event(round, 30)],
        ))
        .await
        .unwrap();
    }
    let mut from_start = log.subscribe(Position(1));
    let mut from_middle = log.subscribe(Position(250));
    let writers: Vec<_> = (0..8_u64)
        .map(|task| {
            let log = log.clone();
            tokio::spawn(async move {
                for round in 0..100_u64 {
                    let events = (0..1 + round % 3)
                        .map(|i| event(task * 1000 + round * 10 + i, 20))
                        .collect();
                    log.append(request(
                        &format!("customer-w{task}"),
                        ExpectedVersion::Any,
                        events,
                    ))
                    .await
                    .unwrap();
                }
            })
        })
        .collect();
    // 300 before, then 8 writers × (100 rounds of 1–3 events: 34×1 + 33×2 + 33×3 = 199).
    let total = 300 + 8 * 199;
    let mut expected = 1_u64;
    while expected <= total {
        let record = tokio::time::timeout(Duration::from_secs(10), from_start.next())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(record.position, Position(expected));
        expected += 1;
    }
    for writer in writers {
        writer.await.unwrap();
    }
    for position in 250..=total {
        assert_eq!(
            from_middle.next().await.unwrap().position,
            Position(position)
        );
    }
    // Nothing more: the next call waits.
    assert!(
        tokio::time::timeout(Duration::from_millis(100), from_start.next())
            .await
            .is_err()
    );
    // And wakes for the next durable append.
    log.append(request(
        "customer-a",
        ExpectedVersion::Any,
        vec![event(1, 1)],
    ))
    .await
    .unwrap();
    assert_eq!(
        from_start.next().await.unwrap().position,
        Position(total + 1)
    );

    log.close().await.unwrap();
    assert_eq!(from_start.next().await, Err(StoreFailure::Closed));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batches_hold_every_position_once_and_respect_their_size() {
    let dir = tempfile::tempdir().unwrap();
    let log = open(dir.path());
    for round in 0..50_u64 {
        log.append(request(
            "customer-a",
            ExpectedVersion::Any,
            vec![event(round, 10)],
        ))
        .await
        .unwrap();
    }
    let mut subscription = log.subscribe(Position(1));
    let writer = {
        let log = log.clone();
        tokio::spawn(async move {
            for round in 0..150_u64 {
                let events = (0..1 + round % 4)
                    .map(|i| event(round * 10 + i, 10))
                    .collect();
                log.append(request("customer-b", ExpectedVersion::Any, events))
                    .await
                    .unwrap();
            }
        })
    };
    // 50 before, then 150 rounds of 1–4 events: 38×1 + 38×2 + 37×3 + 37×4 = 373.
    let total = 50 + 373;
    let mut next = 1_u64;
    while next <= total {
        let batch = tokio::time::timeout(Duration::from_secs(10), subscription.next_batch(7))
            .await
            .unwrap()
            .unwrap();
        assert!((1..=7).contains(&batch.len()));
        for record in batch {
            assert_eq!(record.position, Position(next));
            next += 1;
        }
    }
    writer.await.unwrap();
    assert!(matches!(
        subscription.next_batch(5000).await,
        Err(StoreFailure::PageTooLarge { .. })
    ));
}
