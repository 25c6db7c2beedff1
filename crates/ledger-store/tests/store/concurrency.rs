//! Many concurrent appenders: positions distinct and gapless, and group commit shares syncs.

use std::collections::BTreeMap;

use ledger_store::{EventLog, ExpectedVersion};

use crate::common::{assert_verifies, event, open, request};

const TASKS: u64 = 64;
const APPENDS_PER_TASK: u64 = 20;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sixty_four_concurrent_appenders_get_gapless_positions_and_share_syncs() {
    let dir = tempfile::tempdir().unwrap();
    let log = open(dir.path());
    let mut tasks = Vec::new();
    for task in 0..TASKS {
        let log = log.clone();
        tasks.push(tokio::spawn(async move {
            let mut acknowledged = Vec::new();
            for round in 0..APPENDS_PER_TASK {
                // Half the tasks share one stream, the others own theirs.
                let name = if task % 2 == 0 {
                    "campaign-shared".to_owned()
                } else {
                    format!("customer-{task}")
                };
                let events = vec![event(task * 1000 + round, 50)];
                let ids: Vec<_> = events.iter().map(|event| event.event_id).collect();
                let appended = log
                    .append(request(&name, ExpectedVersion::Any, events))
                    .await
                    .unwrap();
                acknowledged.push((appended.first_position.get(), ids[0]));
            }
            acknowledged
        }));
    }
    let mut by_position = BTreeMap::new();
    for task in tasks {
        for (position, event_id) in task.await.unwrap() {
            assert!(
                by_position.insert(position, event_id).is_none(),
                "position {position} acknowledged twice"
            );
        }
    }
    let total = TASKS * APPENDS_PER_TASK;
    assert_eq!(
        by_position.keys().copied().collect::<Vec<_>>(),
        (1..=total).collect::<Vec<_>>()
    );
    for (&position, &event_id) in &by_position {
        assert_eq!(log.position_of(event_id).map(|p| p.get()), Some(position));
    }
    let stats = log.stats();
    assert_eq!(stats.appends, total);
    assert!(
        stats.syncs < total,
        "group commit must share syncs: {} syncs for {total} appends",
        stats.syncs
    );
    assert_eq!(stats.syncs, stats.groups);
    assert_verifies(&log);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_small_queue_applies_back_pressure_without_losing_anything() {
    let dir = tempfile::tempdir().unwrap();
    let options = ledger_store::StoreOptions {
        queue_capacity: 2,
        group_events_max: 3,
        ..crate::common::options()
    };
    let log = ledger_store::SledEventLog::open(dir.path(), options).unwrap();
    let mut tasks = Vec::new();
    for task in 0..16_u64 {
        let log = log.clone();
        tasks.push(tokio::spawn(async move {
            for round in 0..10 {
                log.append(request(
                    &format!("customer-{task}"),
                    ExpectedVersion::Exact(round),
                    vec![event(round, 10)],
                ))
                .await
                .unwrap();
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    assert_eq!(log.head().event_count, 160);
    assert!(log.stats().groups >= 160 / 3);
    assert_verifies(&log);
}
