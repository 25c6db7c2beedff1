//! Tampering with a closed store: opening refuses it naming the position, and `verify_dir`
//! reports that position.

use ledger_domain::ids::Position;
use ledger_store::testing::{Tamper, tamper};
use ledger_store::{EventLog, ExpectedVersion, OpenError, SledEventLog};

use crate::common::{event, open, options, request};

/// A closed store of 60 events of ~3 KiB (so several chunks), in one directory.
async fn closed_store() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let log = open(dir.path());
    for round in 0..60_u64 {
        log.append(request(
            "customer-a",
            ExpectedVersion::Any,
            vec![event(round, 3000)],
        ))
        .await
        .unwrap();
    }
    log.close().await.unwrap();
    dir
}

/// A closed store of 30 events beside the head mark of a 60-event store: to sled and to the
/// chain, a store that lost records 31..60.
async fn store_that_lost_its_tail() -> tempfile::TempDir {
    let longer = closed_store().await;
    let shorter = tempfile::tempdir().unwrap();
    let log = open(shorter.path());
    for round in 0..30_u64 {
        log.append(request(
            "customer-a",
            ExpectedVersion::Any,
            vec![event(round, 100)],
        ))
        .await
        .unwrap();
    }
    log.close().await.unwrap();
    drop(log);
    let mark = ledger_store::HEAD_MARK_FILE_NAME;
    std::fs::copy(longer.path().join(mark), shorter.path().join(mark)).unwrap();
    shorter
}

fn open_error(dir: &std::path::Path) -> OpenError {
    SledEventLog::open(dir, options()).expect_err("a tampered store must not open")
}

#[tokio::test]
async fn a_flipped_payload_byte_is_named_by_position() {
    let dir = closed_store().await;
    let report = SledEventLog::verify_dir(dir.path()).unwrap();
    assert!(report.ok, "{:?}", report.problems);
    assert_eq!(report.events, 60);

    tamper(
        dir.path(),
        Position(37),
        Tamper::FlipByte { offset_from_end: 5 },
    )
    .unwrap();
    let error = open_error(dir.path());
    assert!(
        matches!(
            error,
            OpenError::Corrupt {
                position: Some(Position(37)),
                ..
            }
        ),
        "{error}"
    );
    assert!(error.to_string().contains("position 37"), "{error}");

    let report = SledEventLog::verify_dir(dir.path()).unwrap();
    assert!(!report.ok);
    assert_eq!(report.problems.len(), 1, "{:?}", report.problems);
    assert_eq!(report.problems[0].position, Some(Position(37)));
    assert_eq!(
        report.events, 60,
        "the altered record still decodes, so the walk goes on past it"
    );
}

#[tokio::test]
async fn a_record_altered_with_its_hash_recomputed_breaks_the_next_link() {
    let dir = closed_store().await;
    tamper(
        dir.path(),
        Position(20),
        Tamper::FlipByteAndRehash { offset_from_end: 0 },
    )
    .unwrap();
    let error = open_error(dir.path());
    assert!(
        matches!(
            error,
            OpenError::Corrupt {
                position: Some(Position(21)),
                ..
            }
        ),
        "{error}"
    );
    let report = SledEventLog::verify_dir(dir.path()).unwrap();
    assert_eq!(
        report.problems.first().and_then(|problem| problem.position),
        Some(Position(21))
    );
}

#[tokio::test]
async fn altering_the_last_record_with_its_hash_breaks_the_head_value() {
    let dir = closed_store().await;
    tamper(
        dir.path(),
        Position(60),
        Tamper::FlipByteAndRehash { offset_from_end: 0 },
    )
    .unwrap();
    let error = open_error(dir.path());
    assert!(
        matches!(
            error,
            OpenError::Corrupt {
                position: Some(Position(60)),
                ..
            }
        ),
        "{error}"
    );
}

#[tokio::test]
async fn verify_on_an_open_store_checks_records_and_indexes() {
    let dir = closed_store().await;
    let log = open(dir.path());
    let report = log.verify();
    assert!(report.ok, "{:?}", report.problems);
    assert_eq!(report.events, 60);
    assert_eq!(report.head, log.head());
}

#[tokio::test]
async fn a_log_that_lost_its_tail_is_refused_naming_the_first_missing_position() {
    // A store that lost records 31..60 looks, to sled and to the chain, like one that never had
    // them; only the head mark written when the longer store was closed tells them apart.
    let shorter = store_that_lost_its_tail().await;

    let error = open_error(shorter.path());
    assert!(
        matches!(
            error,
            OpenError::Corrupt {
                position: Some(Position(31)),
                ..
            }
        ),
        "{error}"
    );
    assert!(
        error.to_string().contains("records 31 to 60 are missing"),
        "{error}"
    );
    let report = SledEventLog::verify_dir(shorter.path()).unwrap();
    assert!(!report.ok);
    assert_eq!(
        report.problems[0].position,
        Some(Position(31)),
        "{:?}",
        report.problems
    );
}

#[tokio::test]
async fn a_deleted_head_mark_is_refused_until_verify_accepts_the_head() {
    // Deleting the mark must not turn off the check it makes: a store that kept one says so.
    let dir = closed_store().await;
    let mark = dir.path().join(ledger_store::HEAD_MARK_FILE_NAME);
    std::fs::remove_file(&mark).unwrap();

    let error = open_error(dir.path());
    assert!(
        matches!(error, OpenError::Corrupt { position: None, .. }),
        "{error}"
    );
    assert!(error.to_string().contains("log-head is missing"), "{error}");
    assert!(
        error.to_string().contains("verify --accept-head"),
        "{error}"
    );
    let report = SledEventLog::verify_dir(dir.path()).unwrap();
    assert!(!report.ok);
    assert!(
        report.problems[0].message.contains("is missing"),
        "{:?}",
        report.problems
    );
    assert!(!mark.exists(), "verify alone writes nothing");

    let accepted = SledEventLog::accept_head(dir.path()).unwrap();
    assert!(accepted.ok, "{:?}", accepted.problems);
    assert_eq!(accepted.events, 60);
    let log = open(dir.path());
    assert_eq!(log.head().position, Position(60));
    log.close().await.unwrap();
    drop(log);
    assert!(SledEventLog::verify_dir(dir.path()).unwrap().ok);
}

#[tokio::test]
async fn accepting_the_head_takes_a_shorter_log_but_not_a_damaged_one() {
    // A log that lost its tail opens again only by an explicit acceptance of the loss.
    let shorter = store_that_lost_its_tail().await;
    let mark = ledger_store::HEAD_MARK_FILE_NAME;
    open_error(shorter.path());
    assert!(SledEventLog::accept_head(shorter.path()).unwrap().ok);
    let log = open(shorter.path());
    assert_eq!(log.head().position, Position(30));
    log.close().await.unwrap();

    // A damaged record is not accepted: the mark stays as it was and the store stays refused.
    let damaged = closed_store().await;
    std::fs::remove_file(damaged.path().join(mark)).unwrap();
    tamper(
        damaged.path(),
        Position(37),
        Tamper::FlipByte { offset_from_end: 5 },
    )
    .unwrap();
    let report = SledEventLog::accept_head(damaged.path()).unwrap();
    assert!(!report.ok);
    assert_eq!(report.problems[0].position, Some(Position(37)));
    assert!(!damaged.path().join(mark).exists());
    open_error(damaged.path());
}

#[tokio::test]
async fn a_log_walked_past_many_cache_evictions_opens_whole_and_names_damage_past_them() {
    use ledger_store::limits::WALK_EVICT_BYTES;

    // Payloads that do not compress, each a chunk of its own: the walk makes sled evict after
    // every chunk, and dozens of times in all.
    let payload_bytes = 150_000_usize;
    let events = WALK_EVICT_BYTES * 64 / payload_bytes as u64;
    let dir = tempfile::tempdir().unwrap();
    let log = open(dir.path());
    for round in 0..events {
        log.append(request(
            &format!("process-{}", round % 3),
            ExpectedVersion::Any,
            vec![crate::common::incompressible_event(round, payload_bytes)],
        ))
        .await
        .unwrap();
    }
    let written = crate::common::read_everything(&log);
    log.close().await.unwrap();
    drop(log);

    let log = open(dir.path());
    assert_eq!(log.head().event_count, events);
    assert_eq!(crate::common::read_everything(&log), written);
    crate::common::assert_verifies(&log);
    log.close().await.unwrap();
    drop(log);

    let damaged = Position(events - 2);
    tamper(
        dir.path(),
        damaged,
        Tamper::FlipByte {
            offset_from_end: 100,
        },
    )
    .unwrap();
    let error = open_error(dir.path());
    assert!(
        matches!(error, OpenError::Corrupt { position: Some(position), .. } if position == damaged),
        "{error}"
    );
}
