//! The stored chunk formats: a store written before chunks were compressed (format 1) opens,
//! reads and takes appends beside compressed chunks (format 2); a compressed chunk with flipped
//! bytes is refused like any other damage, naming the chunk. Opening leaves no key of its own
//! behind.

use ledger_domain::ids::Position;
use ledger_store::testing::{
    chunk_formats, flip_stored_chunk_byte, leave_settle_key, log_keys_beside_chunks,
    rewrite_chunks_uncompressed,
};
use ledger_store::{EventLog, ExpectedVersion, OpenError, SledEventLog};

use crate::common::{
    assert_verifies, event, incompressible_event, open, options, read_everything, request,
};

/// Format byte of the chunks stores wrote before compression.
const PLAIN: u8 = 1;
/// Format byte of compressed chunks.
const ZSTD: u8 = 2;

/// A closed store of 120 events over 12 streams, some of whose payloads compress and some do
/// not, spread over several chunks.
async fn closed_store(dir: &std::path::Path) {
    let log = open(dir);
    for round in 0..120_u64 {
        let event = if round % 3 == 0 {
            incompressible_event(round, 900)
        } else {
            event(round, 900)
        };
        log.append(request(
            &format!("customer-{}", round % 12),
            ExpectedVersion::Any,
            vec![event],
        ))
        .await
        .unwrap();
    }
    log.close().await.unwrap();
}

#[tokio::test]
async fn a_store_of_uncompressed_chunks_opens_reads_and_grows() {
    let dir = tempfile::tempdir().unwrap();
    closed_store(dir.path()).await;
    let log = open(dir.path());
    let written = read_everything(&log);
    log.close().await.unwrap();
    drop(log);
    let formats = chunk_formats(dir.path()).unwrap();
    assert!(formats.len() > 2, "several chunks: {formats:?}");
    assert!(formats.iter().all(|&format| format == ZSTD), "{formats:?}");

    // Now as the code before compression wrote it.
    let rewritten = rewrite_chunks_uncompressed(dir.path()).unwrap();
    assert_eq!(rewritten, formats.len());
    assert!(
        chunk_formats(dir.path())
            .unwrap()
            .iter()
            .all(|&format| format == PLAIN)
    );
    let report = SledEventLog::verify_dir(dir.path()).unwrap();
    assert!(report.ok, "{:?}", report.problems);
    let log = open(dir.path());
    assert_eq!(read_everything(&log), written);
    assert_eq!(
        log.read_stream(&crate::common::stream("customer-5"), 1, 100)
            .unwrap()
            .len(),
        10
    );
    assert_verifies(&log);

    // New appends go into compressed chunks after the plain ones; both read back after a
    // reopen.
    let appended = log
        .append(request(
            "customer-5",
            ExpectedVersion::Exact(10),
            vec![event(500, 700), incompressible_event(501, 700)],
        ))
        .await
        .unwrap();
    assert_eq!(appended.first_position, Position(121));
    let grown = read_everything(&log);
    log.close().await.unwrap();
    drop(log);
    let formats = chunk_formats(dir.path()).unwrap();
    assert_eq!(formats.last(), Some(&ZSTD), "{formats:?}");
    assert!(formats[..formats.len() - 1].iter().all(|&f| f == PLAIN));
    let log = open(dir.path());
    assert_eq!(read_everything(&log), grown);
    assert_eq!(grown.len(), 122);
    assert_eq!(&grown[..120], &written[..]);
    assert_verifies(&log);
}

#[tokio::test]
async fn a_compressed_chunk_with_a_flipped_byte_is_refused_naming_the_chunk() {
    for offset_from_end in [0, 3, 40, 300] {
        let dir = tempfile::tempdir().unwrap();
        closed_store(dir.path()).await;
        let (first, format) =
            flip_stored_chunk_byte(dir.path(), Position(60), offset_from_end).unwrap();
        assert_eq!(format, ZSTD);
        assert!(first <= Position(60));

        let error = SledEventLog::open(dir.path(), options())
            .expect_err("a store with a damaged compressed chunk must not open");
        assert!(
            matches!(&error, OpenError::Corrupt { position: Some(position), .. } if *position == first),
            "offset {offset_from_end}: {error}"
        );
        let text = error.to_string();
        assert!(
            text.contains(&format!("position {first}")) && text.contains("does not decode"),
            "offset {offset_from_end}: {text}"
        );

        let report = SledEventLog::verify_dir(dir.path()).unwrap();
        assert!(!report.ok);
        assert_eq!(
            report.problems[0].position,
            Some(first),
            "offset {offset_from_end}: {:?}",
            report.problems
        );
        assert!(
            report.problems[0].message.contains("compressed chunk"),
            "offset {offset_from_end}: {:?}",
            report.problems
        );
    }
}

/// Opening writes and removes a key of its own so sled settles before the first request
/// writes (`settle`); at rest the log tree holds chunks, the head and the metadata only, and a
/// key a crash left in between is gone after the next open.
#[tokio::test]
async fn opening_leaves_only_chunks_head_and_metadata_even_after_a_crash_while_settling() {
    let dir = tempfile::tempdir().unwrap();
    closed_store(dir.path()).await;
    let at_rest = vec![b"h".to_vec(), b"m".to_vec()];
    assert_eq!(log_keys_beside_chunks(dir.path()).unwrap(), at_rest);

    leave_settle_key(dir.path()).unwrap();
    assert_eq!(log_keys_beside_chunks(dir.path()).unwrap().len(), 3);
    let log = open(dir.path());
    assert_eq!(read_everything(&log).len(), 120);
    assert_verifies(&log);
    log.close().await.unwrap();
    drop(log);
    assert_eq!(log_keys_beside_chunks(dir.path()).unwrap(), at_rest);
}
