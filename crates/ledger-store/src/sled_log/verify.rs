//! Checking the log: the walk that rebuilds the indexes when the store opens (refusing the first
//! problem), `verify` on an open store (records and every index entry), and `verify_dir` on a
//! closed one (every problem listed).

use std::path::Path;

use ledger_domain::ids::Position;

use crate::error::OpenError;
use crate::limits::CACHE_BYTES_DEFAULT;
use crate::record::{
    CHUNK_PREFIX, HEAD_KEY, HeadValue, LAYOUT_VERSION, META_KEY, MetaValue, SETTLE_KEY,
};
use crate::types::{Head, Problem, RecordedEvent, VerifyReport};

use super::durability::Durability;
use super::head_mark::Mark;
use super::index::{Indexes, len_u64};
use super::open_sled;
use super::scan::{Problems, Rebuild, ScanItem, Scanner, event_id_in};
use super::shared::Shared;
use super::streams::VersionCursors;

impl Shared {
    /// Walks the log up to the durable head and checks every record and every index entry.
    pub fn verify(&self) -> VerifyReport {
        let head = self.head();
        let up_to = head.position.get();
        let mut problems = Problems::default();
        let mut scanner = Scanner::new(&self.tree, up_to);
        let mut chunks = 0_usize;
        let mut events = 0_u64;
        let mut cursors = VersionCursors::default();
        for item in &mut scanner {
            match item {
                ScanItem::Problem(problem) => problems.push(problem),
                ScanItem::Chunk(first) => {
                    if self.read_indexes().chunk_starts.get(chunks) != Some(&first) {
                        problems.at(
                            first,
                            "the chunk index does not list the chunk that starts here".into(),
                        );
                    }
                    chunks = chunks.saturating_add(1);
                }
                ScanItem::Record(record) => {
                    events = events.saturating_add(1);
                    check_indexed(&self.read_indexes(), &record, &mut cursors, &mut problems);
                }
            }
        }
        let walked = scanner.head();
        if walked.position != head.position || walked.hash != head.hash {
            problems.push(Problem {
                position: Some(head.position),
                message: format!(
                    "the records end at position {} with hash {}, the published head is position {} with hash {}",
                    walked.position,
                    walked.hash_hex(),
                    head.position,
                    head.hash_hex()
                ),
            });
        }
        check_index_sizes(&self.read_indexes(), up_to, chunks, &mut problems);
        let problems = problems.into_vec();
        VerifyReport {
            ok: problems.is_empty(),
            events,
            head: walked,
            problems,
        }
    }
}

/// Checks that the indexes point at `record` for its event id and its stream version.
fn check_indexed(
    indexes: &Indexes,
    record: &RecordedEvent,
    cursors: &mut VersionCursors,
    problems: &mut Problems,
) {
    let position = record.position.get();
    if !indexes.event_ids.holds(record.event.event_id, position) {
        let indexed: Vec<u64> = indexes
            .event_ids
            .candidates(record.event.event_id)
            .collect();
        problems.at(
            position,
            format!(
                "the event id index maps {} to {indexed:?}, not to this position",
                record.event.event_id
            ),
        );
    }
    let indexed = usize::try_from(record.stream_version)
        .ok()
        .and_then(|version| version.checked_sub(1))
        .and_then(|index| {
            indexes
                .streams
                .position_in_order(&record.stream, index, cursors)
        });
    if indexed != Some(position) {
        problems.at(
            position,
            format!(
                "the stream index maps {} version {} to {indexed:?}, not to this position",
                record.stream, record.stream_version
            ),
        );
    }
}

/// Checks that the indexes hold exactly one entry per record up to `up_to` (entries beyond
/// belong to groups committed while verifying).
fn check_index_sizes(indexes: &Indexes, up_to: u64, chunks: usize, problems: &mut Problems) {
    let mut problem = |message: String| {
        problems.push(Problem {
            position: None,
            message,
        })
    };
    let ids = len_u64(
        indexes
            .event_ids
            .positions()
            .filter(|&position| position <= up_to)
            .count(),
    );
    if ids != up_to {
        problem(format!(
            "the event id index holds {ids} entries up to position {up_to}, the log {up_to} records"
        ));
    }
    let in_streams: usize = indexes
        .streams
        .each()
        .map(|positions| positions.take_while(|&p| p <= up_to).count())
        .sum();
    if len_u64(in_streams) != up_to {
        problem(format!(
            "the stream index holds {in_streams} entries up to position {up_to}, the log {up_to} records"
        ));
    }
    let listed = indexes
        .chunk_starts
        .partition_point(|&start| start <= up_to);
    if listed != chunks {
        problem(format!(
            "the chunk index lists {listed} chunks up to position {up_to}, the log has {chunks}"
        ));
    }
}

/// What opening a store rebuilds from its records.
pub(crate) struct Recovered {
    pub indexes: Indexes,
    pub head: Head,
    pub last_recorded_at: Option<jiff::Timestamp>,
}

/// Walks the whole log, refusing the first problem: a store never serves a history different
/// from the one written. The walk keeps sled's cache near its capacity as it goes (see
/// [`crate::limits::WALK_EVICT_BYTES`]); after it, the database in `sled` is closed and
/// opened again once with `reopen` (nothing has been written since the open's sync), so that
/// what the walk left in sled's cache is given back before the indexes are finished (which
/// copies them once more). Measured on the 10 M-event ledger: the server's start peaked at
/// 391–395 MiB with the reopen, 432–475 MiB without. The reopen's cost is one more of sled's
/// recoveries (writing zeros over the file's free segments, see `WALK_EVICT_BYTES`).
pub(crate) fn recover(
    sled: (sled::Db, sled::Tree),
    reopen: impl Fn() -> Result<(sled::Db, sled::Tree), OpenError>,
    visit: &mut dyn FnMut(&RecordedEvent),
) -> Result<(Recovered, sled::Db, sled::Tree), OpenError> {
    let (mut db, mut tree) = sled;
    let corrupt = |problem: Problem| OpenError::Corrupt {
        position: problem.position,
        detail: problem.message,
    };
    let mut rebuild = Rebuild::for_events(stored_head_position(&tree));
    let mut scanner = Scanner::new(&tree, u64::MAX);
    for item in &mut scanner {
        match item {
            ScanItem::Chunk(first) => rebuild.chunk(first),
            ScanItem::Record(record) => {
                rebuild.record(&record).map_err(corrupt)?;
                visit(&record);
            }
            ScanItem::Problem(problem) => return Err(corrupt(problem)),
        }
    }
    let head = scanner.head();
    drop(scanner);
    // Every handle on the old database goes before it is opened again.
    drop(tree);
    drop(db);
    (db, tree) = reopen()?;
    if let Some(problem) = check_head_value(&tree, &head) {
        return Err(corrupt(problem));
    }
    let chunk_starts = rebuild.indexes.chunk_starts.clone();
    if let Some(problem) = rebuild
        .confirm(|position| event_id_in(&tree, &chunk_starts, position))
        .into_iter()
        .next()
    {
        return Err(corrupt(problem));
    }
    let recovered = Recovered {
        indexes: rebuild.indexes,
        head,
        last_recorded_at: rebuild.last_recorded_at,
    };
    Ok((recovered, db, tree))
}

/// The position the head value names, or 0 when it is missing or does not decode (the walk
/// finds out which): only a size hint for the indexes.
fn stored_head_position(tree: &sled::Tree) -> u64 {
    tree.get(HEAD_KEY)
        .ok()
        .flatten()
        .and_then(|bytes| HeadValue::decode(&bytes).ok())
        .map_or(0, |value| value.position)
}

/// Compares the head value written with the last group to the head the records give.
fn check_head_value(tree: &sled::Tree, head: &Head) -> Option<Problem> {
    let problem = |message: String| {
        Some(Problem {
            position: Some(head.position),
            message,
        })
    };
    let stored = match tree.get(HEAD_KEY) {
        Err(error) => return problem(format!("sled could not read the head value: {error}")),
        Ok(None) if head.position == Position::ZERO => return None,
        Ok(None) => return problem("the log has records but no head value".into()),
        Ok(Some(bytes)) => bytes,
    };
    match HeadValue::decode(&stored) {
        Err(error) => problem(format!("the head value does not decode: {error}")),
        Ok(value) if value == HeadValue::of(head) => None,
        Ok(value) => problem(format!(
            "the head value says position {} with hash {}, the records end at position {} with hash {}",
            value.position,
            hex::encode(value.hash),
            head.position,
            head.hash_hex()
        )),
    }
}

/// Reads the metadata, or writes it into a new, empty store.
pub(crate) fn check_meta(
    tree: &sled::Tree,
    db: &sled::Db,
    db_dir: &Path,
    durability: &mut Durability,
) -> Result<(), OpenError> {
    let sled_error = |error: sled::Error| OpenError::Sled {
        path: db_dir.to_owned(),
        message: error.to_string(),
    };
    match tree.get(META_KEY).map_err(sled_error)? {
        Some(bytes) => {
            let meta = MetaValue::decode(&bytes).map_err(|error| OpenError::Corrupt {
                position: None,
                detail: format!("the metadata does not decode: {error}"),
            })?;
            if meta.layout != LAYOUT_VERSION {
                return Err(OpenError::UnknownLayout {
                    found: meta.layout,
                    expected: LAYOUT_VERSION,
                });
            }
            Ok(())
        }
        None => {
            let has_records = tree.scan_prefix([CHUNK_PREFIX]).next().is_some()
                || tree.get(HEAD_KEY).map_err(sled_error)?.is_some();
            if has_records {
                return Err(OpenError::Corrupt {
                    position: None,
                    detail: "the log has records but no metadata".into(),
                });
            }
            tree.insert(
                META_KEY,
                MetaValue {
                    layout: LAYOUT_VERSION,
                }
                .encode(),
            )
            .map_err(sled_error)?;
            db.flush().map_err(sled_error)?;
            durability.sync().map_err(|failure| OpenError::Io {
                path: db_dir.to_owned(),
                message: failure.to_string(),
            })?;
            Ok(())
        }
    }
}

/// Writes that [`settle`] makes at each open. sled stabilizes up to the point its IO thread
/// published at the write before (an epoch callback publishes it), so the deactivation may
/// come with the second write after recovery rather than the first.
const SETTLE_WRITES: usize = 3;

/// Writes and removes [`SETTLE_KEY`] and flushes, a few times, so that sled's first log
/// writes after an open happen here rather than under the first request that writes (an
/// access record). Nothing stays: the key is absent before and after.
///
/// sled 0.34 recovers without marking its segments stable; the first log write after an open
/// then deactivates every segment of the database at once (`SegmentAccountant::stabilize`, on
/// sled's IO thread, holding its segment lock). On the bench's 10 M-event ledger (28 GB) that
/// is ~0.33 s of a core, during which every flush waits; under the API's load it stalled the
/// access writer and the readers behind it: the first second after a restart answered at a
/// p99 of ~270–350 ms instead of ~9 ms. (Rewriting an existing value with the same bytes does
/// not do: sled skips an insert that changes nothing.)
pub(crate) fn settle(tree: &sled::Tree, db: &sled::Db, db_dir: &Path) -> Result<(), OpenError> {
    let sled_error = |error: sled::Error| OpenError::Sled {
        path: db_dir.to_owned(),
        message: error.to_string(),
    };
    for _ in 0..SETTLE_WRITES {
        tree.insert(SETTLE_KEY, &[]).map_err(sled_error)?;
        tree.remove(SETTLE_KEY).map_err(sled_error)?;
        db.flush().map_err(sled_error)?;
    }
    Ok(())
}

fn problem_without_position(message: String) -> Problem {
    Problem {
        position: None,
        message,
    }
}

/// Checks a closed store without starting a writer: walks every record, recomputing the
/// chain, and reports every problem it finds (where opening stops at the first). For the
/// offline `verify` command.
/// What [`verify_dir`] does with the head mark.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MarkCheck {
    /// Reports what is wrong with it.
    Check,
    /// Leaves it out of the check and, when nothing else is wrong, writes it again for the
    /// head the walk found.
    Rewrite,
}

fn check_mark(dir: &Path, tree: &sled::Tree, head: &Head, problems: &mut Problems) {
    match super::head_mark::read(dir, tree) {
        Mark::Found(mark) => {
            if let Some((position, message)) = super::head_mark::problem(head, &mark) {
                problems.push(Problem {
                    position: Some(position),
                    message,
                });
            }
        }
        Mark::Absent => {}
        Mark::Missing(message) | Mark::Undecodable(message) => {
            problems.push(problem_without_position(message));
        }
        Mark::Unreadable(error) => problems.push(problem_without_position(format!(
            "the head mark ({}) cannot be read: {error}",
            super::head_mark::HEAD_MARK_FILE_NAME
        ))),
    }
}

fn rewrite_mark(dir: &Path, tree: &sled::Tree, head: &Head) -> Result<(), OpenError> {
    super::head_mark::write(dir, head).map_err(|error| OpenError::Io {
        path: dir.join(super::head_mark::HEAD_MARK_FILE_NAME),
        message: error.to_string(),
    })?;
    super::head_mark::remember_kept(tree)
        .and_then(|()| tree.flush().map(|_| ()))
        .map_err(|error| OpenError::Sled {
            path: dir.to_owned(),
            message: error.to_string(),
        })
}

pub(crate) fn verify_dir(dir: &Path, mark_check: MarkCheck) -> Result<VerifyReport, OpenError> {
    let (_db, tree, _) = open_sled(dir, CACHE_BYTES_DEFAULT)?;
    let mut problems = Problems::default();
    match tree.get(META_KEY) {
        Ok(Some(bytes)) => match MetaValue::decode(&bytes) {
            Ok(meta) if meta.layout == LAYOUT_VERSION => {}
            Ok(meta) => {
                return Err(OpenError::UnknownLayout {
                    found: meta.layout,
                    expected: LAYOUT_VERSION,
                });
            }
            Err(error) => problems.push(problem_without_position(format!(
                "the metadata does not decode: {error}"
            ))),
        },
        Ok(None) => problems.push(problem_without_position("the store has no metadata".into())),
        Err(error) => problems.push(problem_without_position(format!(
            "sled could not read the metadata: {error}"
        ))),
    }
    let mut rebuild = Rebuild::for_events(stored_head_position(&tree));
    let mut scanner = Scanner::new(&tree, u64::MAX);
    let mut events = 0_u64;
    for item in &mut scanner {
        match item {
            ScanItem::Chunk(first) => rebuild.chunk(first),
            ScanItem::Record(record) => {
                events = events.saturating_add(1);
                if let Err(problem) = rebuild.record(&record) {
                    problems.push(problem);
                }
            }
            ScanItem::Problem(problem) => problems.push(problem),
        }
    }
    let head = scanner.head();
    drop(scanner);
    let chunk_starts = rebuild.indexes.chunk_starts.clone();
    for problem in rebuild.confirm(|position| event_id_in(&tree, &chunk_starts, position)) {
        problems.push(problem);
    }
    if let Some(problem) = check_head_value(&tree, &head) {
        problems.push(problem);
    }
    let problems = match mark_check {
        MarkCheck::Check => {
            check_mark(dir, &tree, &head, &mut problems);
            problems
        }
        MarkCheck::Rewrite if problems.is_empty() => {
            rewrite_mark(dir, &tree, &head)?;
            problems
        }
        MarkCheck::Rewrite => problems,
    };
    let problems = problems.into_vec();
    Ok(VerifyReport {
        ok: problems.is_empty(),
        events,
        head,
        problems,
    })
}

#[cfg(test)]
mod tests {
    use ledger_domain::ids::{EventId, StreamId};

    use super::*;

    fn record(position: u64, stream: &StreamId, version: u64) -> RecordedEvent {
        super::super::test_record(position, stream, version, EventId::new_v7())
    }

    #[test]
    fn a_record_the_stream_index_misses_or_misplaces_is_named() {
        let stream = StreamId::parse("stream", "policy-PXA2024220100000001").unwrap();
        let other = StreamId::parse("stream", "policy-PXA2024220100000002").unwrap();
        let records = [
            record(1, &stream, 1),
            record(2, &stream, 2),
            record(3, &other, 1),
        ];
        let mut indexes = Indexes::for_events(3);
        indexes.chunk_starts.push(1);
        // Position 2 is indexed under the wrong stream; position 3 not at all.
        for (position, indexed_as) in [(1, &stream), (2, &other)] {
            let record = &records[usize::try_from(position - 1).unwrap()];
            indexes
                .add(position, record.event.event_id, indexed_as)
                .unwrap();
        }
        let mut problems = Problems::default();
        let mut cursors = VersionCursors::default();
        for record in &records {
            check_indexed(&indexes, record, &mut cursors, &mut problems);
        }
        check_index_sizes(&indexes, 3, 1, &mut problems);
        let problems = problems.into_vec();
        let messages: Vec<&str> = problems
            .iter()
            .map(|problem| problem.message.as_str())
            .collect();
        assert!(
            messages.contains(
                &format!("the stream index maps {stream} version 2 to None, not to this position")
                    .as_str()
            ),
            "{messages:?}"
        );
        assert!(
            messages.contains(
                &format!(
                    "the stream index maps {other} version 1 to Some(2), not to this position"
                )
                .as_str()
            ),
            "{messages:?}"
        );
        assert!(
            messages
                .contains(&"the stream index holds 2 entries up to position 3, the log 3 records"),
            "{messages:?}"
        );
        assert_eq!(problems[0].position, Some(Position(2)));
    }
}
