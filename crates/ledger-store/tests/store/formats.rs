//! The stored chunk formats: a store written before chunks were compressed (format 1) opens,
//! reads and takes appends beside compressed chunks (format 2); a compressed chunk with flipped
//! bytes is refused like any other damage, naming the chunk. Opening leaves no key of its own
//! behind. The read models live in their own database, and a data directory that kept them in
//! the log's database keeps serving them from there. A replacement database built beside the
//! live one takes its place whole, and an open settles a replacement a crash interrupted. A
//! compaction keeps every entry and gives back the space rebuilds left.

use ledger_domain::ids::Position;
use ledger_store::testing::{
    chunk_formats, flip_stored_chunk_byte, leave_settle_key, log_database_projections,
    log_keys_beside_chunks, rewrite_chunks_uncompressed,
};
use ledger_store::{
    EventLog, ExpectedVersion, FaultMode, FaultPoint, Faults, OpenError, ProjectionStore,
    READ_MODELS_BUILD_DIR_NAME, READ_MODELS_DIR_NAME, READ_MODELS_NEXT_DIR_NAME,
    READ_MODELS_OLD_DIR_NAME, ReadModelsDb, SledEventLog, SpaceMeta, StoreOptions, Writes,
    replace_read_models, write_key,
};

use crate::common::{
    assert_verifies, event, incompressible_event, open, open_with_faults, options, read_everything,
    request,
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
/// writes (`settle`); at rest the log tree holds chunks, the head, the metadata and the note
/// that a head mark is kept (`k`) only, and a key a crash left in between is gone after the
/// next open.
#[tokio::test]
async fn opening_leaves_only_chunks_head_and_metadata_even_after_a_crash_while_settling() {
    let dir = tempfile::tempdir().unwrap();
    closed_store(dir.path()).await;
    let at_rest = vec![b"h".to_vec(), b"k".to_vec(), b"m".to_vec()];
    assert_eq!(log_keys_beside_chunks(dir.path()).unwrap(), at_rest);

    leave_settle_key(dir.path()).unwrap();
    assert_eq!(log_keys_beside_chunks(dir.path()).unwrap().len(), 4);
    let log = open(dir.path());
    assert_eq!(read_everything(&log).len(), 120);
    assert_verifies(&log);
    log.close().await.unwrap();
    drop(log);
    assert_eq!(log_keys_beside_chunks(dir.path()).unwrap(), at_rest);
}

/// Entries `0..count` of a read model, each value naming `round`.
fn read_model_writes(round: u8, count: u8) -> Writes {
    (0..count)
        .map(|key| (write_key(vec![b'k', key]), Some(vec![round; 40])))
        .collect()
}

/// Writes `writes` as a new active generation of `name` in `store`, then flushes it.
fn store_generation(store: &ProjectionStore, name: &str, writes: &Writes, checkpoint: u64) {
    let space = store.fresh(name).unwrap();
    let meta = SpaceMeta {
        version: 1,
        checkpoint: Position(checkpoint),
    };
    space.commit(writes, meta).unwrap();
    store.activate(&space).unwrap();
    store.flush().unwrap();
}

/// The entries of `name`'s active generation in `store`, if it has one.
fn active_entries(store: &ProjectionStore, name: &str) -> Option<Vec<(Vec<u8>, Vec<u8>)>> {
    store
        .active(name)
        .unwrap()
        .map(|space| space.dump().unwrap())
}

/// What `writes` holds once committed.
fn entries_of(writes: &Writes) -> Vec<(Vec<u8>, Vec<u8>)> {
    writes
        .iter()
        .filter_map(|(key, value)| value.clone().map(|value| (key.to_vec(), value)))
        .collect()
}

#[tokio::test]
async fn read_models_are_kept_in_their_own_database() {
    let dir = tempfile::tempdir().unwrap();
    closed_store(dir.path()).await;
    let log = open(dir.path());
    let writes = read_model_writes(1, 30);
    store_generation(&log.projections(), "timeline", &writes, 120);
    log.close().await.unwrap();
    drop(log);

    assert!(dir.path().join(READ_MODELS_DIR_NAME).join("db").is_file());
    let in_log = log_database_projections(dir.path()).unwrap();
    assert_eq!(active_entries(&in_log, "timeline"), None);
    drop(in_log);

    let log = open(dir.path());
    assert_eq!(
        active_entries(&log.projections(), "timeline"),
        Some(entries_of(&writes))
    );
    assert_eq!(read_everything(&log).len(), 120);
}

#[tokio::test]
async fn read_models_written_in_the_log_database_are_still_served_from_there() {
    let dir = tempfile::tempdir().unwrap();
    closed_store(dir.path()).await;
    // A data directory from before the read models had their own database.
    std::fs::remove_dir_all(dir.path().join(READ_MODELS_DIR_NAME)).unwrap();
    let old = read_model_writes(1, 30);
    let in_log = log_database_projections(dir.path()).unwrap();
    store_generation(&in_log, "timeline", &old, 120);
    drop(in_log);

    let log = open(dir.path());
    let store = log.projections();
    assert_eq!(active_entries(&store, "timeline"), Some(entries_of(&old)));
    assert!(!dir.path().join(READ_MODELS_DIR_NAME).exists());
    // New generations go where the old ones are, so the read models stay in one place.
    let new = read_model_writes(2, 12);
    store_generation(&store, "timeline", &new, 120);
    drop(store);
    log.close().await.unwrap();
    drop(log);

    let in_log = log_database_projections(dir.path()).unwrap();
    assert_eq!(active_entries(&in_log, "timeline"), Some(entries_of(&new)));
    assert!(!dir.path().join(READ_MODELS_DIR_NAME).exists());
}

/// How far a replacement got before its store was closed.
#[derive(Clone, Copy, PartialEq)]
enum Replacement {
    /// Built into `read-models.build`, and nothing more.
    Built,
    /// Built, then compacted into `read-models.next`.
    Compacted,
}

/// A closed data directory whose live read models hold `live` as the timeline, and whose
/// replacement, built by a store opened for it, holds `next`.
async fn store_with_a_replacement(
    dir: &std::path::Path,
    live: &Writes,
    next: &Writes,
    reached: Replacement,
) {
    closed_store(dir).await;
    let log = open(dir);
    store_generation(&log.projections(), "timeline", live, 120);
    log.close().await.unwrap();
    drop(log);
    let log = SledEventLog::open(
        dir,
        StoreOptions {
            read_models: ReadModelsDb::Replacement,
            ..options()
        },
    )
    .unwrap();
    // The replacement starts empty: nothing of the live read models is in it.
    assert_eq!(active_entries(&log.projections(), "timeline"), None);
    store_generation(&log.projections(), "timeline", next, 120);
    if reached == Replacement::Compacted {
        let copied = log.compact_read_models().unwrap();
        // sled's default tree, the pointers and the one generation.
        assert_eq!(copied.trees, 3, "{copied:?}");
    }
    log.close().await.unwrap();
    drop(log);
}

/// A read model's entries, in key order.
type Entries = Vec<(Vec<u8>, Vec<u8>)>;

/// The timeline the live read models serve after an open, and which of the replacement's
/// directories are left.
fn served_and_left(dir: &std::path::Path) -> (Option<Entries>, Vec<&'static str>) {
    let log = open(dir);
    let served = active_entries(&log.projections(), "timeline");
    assert_eq!(read_everything(&log).len(), 120);
    let left = [
        READ_MODELS_BUILD_DIR_NAME,
        READ_MODELS_NEXT_DIR_NAME,
        READ_MODELS_OLD_DIR_NAME,
    ]
    .into_iter()
    .filter(|name| dir.join(name).exists())
    .collect();
    (served, left)
}

#[tokio::test]
async fn a_replacement_database_takes_the_live_ones_place_whole() {
    let dir = tempfile::tempdir().unwrap();
    let (live, next) = (read_model_writes(1, 30), read_model_writes(2, 12));
    store_with_a_replacement(dir.path(), &live, &next, Replacement::Compacted).await;
    for built in [READ_MODELS_BUILD_DIR_NAME, READ_MODELS_NEXT_DIR_NAME] {
        assert!(dir.path().join(built).join("db").is_file(), "{built}");
    }
    replace_read_models(dir.path()).unwrap();
    for gone in [READ_MODELS_BUILD_DIR_NAME, READ_MODELS_NEXT_DIR_NAME] {
        assert!(!dir.path().join(gone).exists(), "{gone}");
    }
    assert_eq!(
        served_and_left(dir.path()),
        (Some(entries_of(&next)), Vec::new())
    );
    // Nothing is left to put in place a second time: an error, and the live ones stay.
    let again = replace_read_models(dir.path()).unwrap_err();
    assert!(
        again.to_string().contains("no copied read models"),
        "{again}"
    );
    assert_eq!(served_and_left(dir.path()).0, Some(entries_of(&next)));
}

#[tokio::test]
async fn an_unfinished_replacement_is_removed_and_the_live_read_models_stay() {
    // A crash before the swap began, during the rebuild or during the copy: either may be
    // incomplete.
    for reached in [Replacement::Built, Replacement::Compacted] {
        let dir = tempfile::tempdir().unwrap();
        let (live, next) = (read_model_writes(1, 30), read_model_writes(2, 12));
        store_with_a_replacement(dir.path(), &live, &next, reached).await;
        assert_eq!(
            served_and_left(dir.path()),
            (Some(entries_of(&live)), Vec::new())
        );
    }
}

#[tokio::test]
async fn a_swap_interrupted_between_its_renames_is_finished_at_the_next_open() {
    let dir = tempfile::tempdir().unwrap();
    let (live, next) = (read_model_writes(1, 30), read_model_writes(2, 12));
    store_with_a_replacement(dir.path(), &live, &next, Replacement::Compacted).await;
    // The live database was set aside, and then the process died.
    std::fs::rename(
        dir.path().join(READ_MODELS_DIR_NAME),
        dir.path().join(READ_MODELS_OLD_DIR_NAME),
    )
    .unwrap();
    assert_eq!(
        served_and_left(dir.path()),
        (Some(entries_of(&next)), Vec::new())
    );
}

#[tokio::test]
async fn a_swap_interrupted_before_removing_the_old_database_removes_it_at_the_next_open() {
    let dir = tempfile::tempdir().unwrap();
    let (live, next) = (read_model_writes(1, 30), read_model_writes(2, 12));
    store_with_a_replacement(dir.path(), &live, &next, Replacement::Compacted).await;
    for (from, to) in [
        (READ_MODELS_DIR_NAME, READ_MODELS_OLD_DIR_NAME),
        (READ_MODELS_NEXT_DIR_NAME, READ_MODELS_DIR_NAME),
    ] {
        std::fs::rename(dir.path().join(from), dir.path().join(to)).unwrap();
    }
    assert_eq!(
        served_and_left(dir.path()),
        (Some(entries_of(&next)), Vec::new())
    );
}

#[tokio::test]
async fn a_replacement_gives_read_models_kept_in_the_log_database_their_own() {
    let dir = tempfile::tempdir().unwrap();
    closed_store(dir.path()).await;
    std::fs::remove_dir_all(dir.path().join(READ_MODELS_DIR_NAME)).unwrap();
    let (old, new) = (read_model_writes(1, 30), read_model_writes(2, 12));
    let in_log = log_database_projections(dir.path()).unwrap();
    store_generation(&in_log, "timeline", &old, 120);
    drop(in_log);

    let log = SledEventLog::open(
        dir.path(),
        StoreOptions {
            read_models: ReadModelsDb::Replacement,
            ..options()
        },
    )
    .unwrap();
    store_generation(&log.projections(), "timeline", &new, 120);
    log.compact_read_models().unwrap();
    log.close().await.unwrap();
    drop(log);
    replace_read_models(dir.path()).unwrap();

    assert_eq!(
        served_and_left(dir.path()),
        (Some(entries_of(&new)), Vec::new())
    );
    assert!(dir.path().join(READ_MODELS_DIR_NAME).join("db").is_file());
    // The old generation stays, unused, in the log's database.
    let in_log = log_database_projections(dir.path()).unwrap();
    assert_eq!(active_entries(&in_log, "timeline"), Some(entries_of(&old)));
}

/// `count` entries of a read model, each value `value_bytes` bytes naming `round`.
fn large_read_model_writes(round: u8, count: u32, value_bytes: usize) -> Writes {
    (0..count)
        .map(|key| {
            (
                write_key(key.to_be_bytes().to_vec()),
                Some(vec![round; value_bytes]),
            )
        })
        .collect()
}

/// What `store` serves for each of `names`: the active generation's metadata and entries.
fn served(store: &ProjectionStore, names: &[&str]) -> Vec<(Option<SpaceMeta>, Option<Entries>)> {
    names
        .iter()
        .map(|name| {
            let space = store.active(name).unwrap();
            (
                space.as_ref().and_then(|space| space.meta().unwrap()),
                active_entries(store, name),
            )
        })
        .collect()
}

/// Bytes of every file under `dir`.
fn directory_bytes(dir: &std::path::Path) -> u64 {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| {
            let entry = entry.unwrap();
            let metadata = entry.metadata().unwrap();
            if metadata.is_dir() {
                directory_bytes(&entry.path())
            } else {
                metadata.len()
            }
        })
        .sum()
}

#[tokio::test]
async fn compacting_the_live_read_models_keeps_every_entry_and_gives_back_the_churned_space() {
    let dir = tempfile::tempdir().unwrap();
    closed_store(dir.path()).await;
    let names = ["timeline", "directory"];
    let log = open(dir.path());
    // Every round replaces both read models with a new generation, as rebuilds do, and sled
    // never gives the dropped generations' space back.
    for round in 1..=6 {
        for (name, count) in names.iter().zip([2_000, 700]) {
            let writes = large_read_model_writes(round, count, 900);
            store_generation(&log.projections(), name, &writes, 100 + u64::from(round));
        }
    }
    let before = served(&log.projections(), &names);
    assert!(
        before
            .iter()
            .all(|(meta, entries)| meta.is_some() && entries.is_some())
    );
    let copied = log.compact_read_models().unwrap();
    assert_eq!(
        copied.trees, 4,
        "sled's default tree, the pointers and two generations: {copied:?}"
    );
    assert!(copied.live_bytes > 2_700 * 900, "{copied:?}");
    log.close().await.unwrap();
    drop(log);
    let churned = directory_bytes(&dir.path().join(READ_MODELS_DIR_NAME));

    replace_read_models(dir.path()).unwrap();
    let compacted = directory_bytes(&dir.path().join(READ_MODELS_DIR_NAME));
    assert!(
        compacted * 2 < churned,
        "{compacted} bytes after, {churned} before"
    );
    let log = open(dir.path());
    assert_eq!(served(&log.projections(), &names), before);
    assert_eq!(read_everything(&log).len(), 120);
    // The compacted database takes new generations as the old one did.
    let writes = read_model_writes(9, 20);
    store_generation(&log.projections(), "timeline", &writes, 130);
    assert_eq!(
        active_entries(&log.projections(), "timeline"),
        Some(entries_of(&writes))
    );
}

#[tokio::test]
async fn compacting_read_models_kept_in_the_log_database_copies_only_theirs() {
    let dir = tempfile::tempdir().unwrap();
    closed_store(dir.path()).await;
    std::fs::remove_dir_all(dir.path().join(READ_MODELS_DIR_NAME)).unwrap();
    let writes = read_model_writes(1, 30);
    let in_log = log_database_projections(dir.path()).unwrap();
    store_generation(&in_log, "timeline", &writes, 120);
    drop(in_log);

    let log = open(dir.path());
    let copied = log.compact_read_models().unwrap();
    // The pointers and the generation, and none of the log's own trees.
    assert_eq!((copied.trees, copied.keys), (2, 3), "{copied:?}");
    log.close().await.unwrap();
    drop(log);
    replace_read_models(dir.path()).unwrap();

    assert_eq!(
        served_and_left(dir.path()),
        (Some(entries_of(&writes)), Vec::new())
    );
    assert!(dir.path().join(READ_MODELS_DIR_NAME).join("db").is_file());
}

#[tokio::test]
async fn a_compaction_that_fails_leaves_no_copy_and_the_live_read_models_as_they_were() {
    let dir = tempfile::tempdir().unwrap();
    closed_store(dir.path()).await;
    let writes = read_model_writes(1, 30);
    let faults = Faults::new();
    let log = open_with_faults(dir.path(), &faults);
    store_generation(&log.projections(), "timeline", &writes, 120);
    faults.arm(FaultPoint::CompactionWrite, FaultMode::Always);
    let failed = log.compact_read_models().unwrap_err();
    assert!(
        failed
            .to_string()
            .contains("injected fault at compaction_write"),
        "{failed}"
    );
    assert!(!dir.path().join(READ_MODELS_NEXT_DIR_NAME).exists());
    // Nothing to put in place, and the live read models serve as before.
    assert!(replace_read_models(dir.path()).is_err());
    assert_eq!(
        active_entries(&log.projections(), "timeline"),
        Some(entries_of(&writes))
    );

    // Once the fault is gone, the same store compacts.
    faults.disarm_all();
    assert_eq!(log.compact_read_models().unwrap().keys, 3);
    log.close().await.unwrap();
    drop(log);
    replace_read_models(dir.path()).unwrap();
    assert_eq!(
        served_and_left(dir.path()),
        (Some(entries_of(&writes)), Vec::new())
    );
}
