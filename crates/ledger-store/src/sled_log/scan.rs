//! Reading the whole log back in order, checking as it goes: chunk keys contiguous, every
//! record's hash recomputed from the stored bytes, every record decoded. Opening the store,
//! `verify` and `verify_dir` all walk the log with [`Scanner`].

use std::collections::VecDeque;

use ledger_domain::ids::{EventId, Position};

use crate::limits::WALK_EVICT_BYTES;
use crate::record::{
    CHUNK_PREFIX, Chunk, chunk_key, chunk_key_position, decode_record, record_hash,
};
use crate::sled_log::index::Indexes;
use crate::types::{GENESIS_HASH, Hash, Head, Problem, RecordedEvent};

/// What the walk finds, in log order.
#[derive(Debug)]
pub(crate) enum ScanItem {
    /// A chunk starts at this position.
    Chunk(u64),
    /// A record whose hash recomputes and whose bytes decode.
    Record(Box<RecordedEvent>),
    /// Something is wrong; the walk goes on where it can.
    Problem(Problem),
}

/// sled 0.34's cache looks at a shard's queued accesses once 64 have queued (its
/// `MAX_QUEUE_ITEMS`); one read more than that always makes it look (see
/// [`WALK_EVICT_BYTES`]).
const SLED_LRU_QUEUE_READS: usize = 65;

/// Walks the chunks of a tree from position 1 up to `up_to` (inclusive), nudging sled to evict
/// what it read every [`WALK_EVICT_BYTES`] of chunks.
pub(crate) struct Scanner {
    tree: sled::Tree,
    chunks: sled::Iter,
    /// Bytes of chunk values read since sled was last nudged to evict.
    unevicted_bytes: u64,
    up_to: u64,
    /// The position the next record must have.
    next_position: u64,
    /// The hash the next record must chain from.
    prev_hash: Hash,
    /// After a chunk that could not be decoded, the next chunk is taken as it is (one problem
    /// is reported, not one for every chunk after it).
    resync: bool,
    pending: VecDeque<ScanItem>,
    finished: bool,
}

impl Scanner {
    pub fn new(tree: &sled::Tree, up_to: u64) -> Self {
        Self {
            tree: tree.clone(),
            chunks: tree.scan_prefix([CHUNK_PREFIX]),
            unevicted_bytes: 0,
            up_to,
            next_position: 1,
            prev_hash: GENESIS_HASH,
            resync: false,
            pending: VecDeque::new(),
            finished: false,
        }
    }

    /// The head as walked so far (the whole walk's head once the iterator is exhausted).
    pub fn head(&self) -> Head {
        let position = self.next_position.saturating_sub(1);
        Head {
            position: Position(position),
            hash: self.prev_hash,
            event_count: position,
        }
    }

    /// Makes sled evict from the cache shard of the page that holds `key` (see
    /// [`WALK_EVICT_BYTES`]). What the reads return does not matter: a chunk sled cannot read
    /// is reported by the walk itself.
    fn nudge_cache(&self, key: &[u8]) {
        for _ in 0..SLED_LRU_QUEUE_READS {
            let _ = self.tree.get(key);
        }
    }

    /// Reads the next chunk into `pending`; false when there is none (or it is past `up_to`).
    fn read_chunk(&mut self) -> bool {
        let (key, value) = match self.chunks.next() {
            None => return false,
            Some(Err(error)) => {
                self.problem(None, format!("sled could not read the log: {error}"));
                return false;
            }
            Some(Ok(entry)) => entry,
        };
        self.unevicted_bytes = self
            .unevicted_bytes
            .saturating_add(u64::try_from(value.len()).unwrap_or(u64::MAX));
        if self.unevicted_bytes >= WALK_EVICT_BYTES {
            self.nudge_cache(&key);
            self.unevicted_bytes = 0;
        }
        let Some(first) = chunk_key_position(&key) else {
            self.problem(
                None,
                format!("a key that is not a chunk key: {}", hex::encode(&key)),
            );
            return true;
        };
        if first > self.up_to {
            return false;
        }
        if first != self.next_position && !self.resync {
            self.problem(
                Some(self.next_position),
                format!("positions are not contiguous: the next chunk starts at position {first}"),
            );
        }
        if self.resync {
            self.next_position = first;
        }
        let chunk = match Chunk::decode(&value) {
            Ok(chunk) => chunk,
            Err(error) => {
                self.problem(
                    Some(first),
                    format!("the chunk starting here does not decode: {error}"),
                );
                self.resync = true;
                return true;
            }
        };
        if chunk.records.is_empty() {
            self.problem(Some(first), "an empty chunk".into());
        }
        if chunk.prev_hash != self.prev_hash && !self.resync {
            self.problem(
                Some(first),
                format!(
                    "the chunk's previous hash is not the hash of position {}",
                    first.saturating_sub(1)
                ),
            );
        }
        self.resync = false;
        self.next_position = first;
        self.prev_hash = chunk.prev_hash;
        self.pending.push_back(ScanItem::Chunk(first));
        for stored in chunk.records {
            let position = self.next_position;
            if position > self.up_to {
                break;
            }
            let recomputed = record_hash(&self.prev_hash, &stored.bytes);
            if recomputed != stored.hash {
                self.problem(
                    Some(position),
                    "the record's hash does not recompute from its stored bytes and the previous hash: \
                     the record was altered"
                        .into(),
                );
            }
            // An altered record that still decodes is passed on after its problem, so the
            // checks of the records after it (stream versions) are not thrown off by its absence.
            match decode_record(&stored.bytes, self.prev_hash, stored.hash) {
                Err(detail) => self.problem(Some(position), detail),
                Ok(record) if record.position.get() != position => {
                    self.problem(
                        Some(position),
                        format!("the record says it is at position {}", record.position),
                    );
                }
                Ok(record) => self.pending.push_back(ScanItem::Record(Box::new(record))),
            }
            // The chain goes on from the stored hash, so one altered record is one problem.
            self.prev_hash = stored.hash;
            self.next_position = position.saturating_add(1);
        }
        true
    }

    fn problem(&mut self, position: Option<u64>, message: String) {
        self.pending.push_back(ScanItem::Problem(Problem {
            position: position.map(Position),
            message,
        }));
    }
}

impl Iterator for Scanner {
    type Item = ScanItem;

    fn next(&mut self) -> Option<ScanItem> {
        loop {
            if let Some(item) = self.pending.pop_front() {
                return Some(item);
            }
            if self.finished {
                return None;
            }
            if !self.read_chunk() {
                self.finished = true;
            }
        }
    }
}

/// Collects problems up to `VERIFY_PROBLEMS_MAX`, then only counts them.
#[derive(Debug, Default)]
pub(crate) struct Problems {
    listed: Vec<Problem>,
    unlisted: u64,
}

impl Problems {
    pub fn push(&mut self, problem: Problem) {
        if self.listed.len() < crate::limits::VERIFY_PROBLEMS_MAX {
            self.listed.push(problem);
        } else {
            self.unlisted = self.unlisted.saturating_add(1);
        }
    }

    pub fn at(&mut self, position: u64, message: String) {
        self.push(Problem {
            position: Some(Position(position)),
            message,
        });
    }

    pub fn is_empty(&self) -> bool {
        self.listed.is_empty()
    }

    pub fn into_vec(mut self) -> Vec<Problem> {
        if self.unlisted > 0 {
            self.listed.push(Problem {
                position: None,
                message: format!("and {} more problems", self.unlisted),
            });
        }
        self.listed
    }
}

/// Rebuilds the indexes from scanned records, checking what only the whole history can tell:
/// stream versions follow each other from 1 and no event id is recorded twice.
///
/// The id index holds hash bits, not ids, so a record whose id meets candidates among the
/// earlier records is kept as a suspect; [`Rebuild::confirm`] reads the candidates' ids once
/// the walk is over (a repeated id is found there, a mere hash collision is let go).
#[derive(Debug, Default)]
pub(crate) struct Rebuild {
    pub indexes: Indexes,
    /// The latest `recorded_at` seen, so the writer never goes back in time.
    pub last_recorded_at: Option<jiff::Timestamp>,
    /// Records whose id matched earlier entries: (position, id, the earlier candidates).
    suspects: Vec<(u64, EventId, Vec<u64>)>,
}

impl Rebuild {
    /// A rebuild whose indexes are sized for a log of `events`.
    pub fn for_events(events: u64) -> Self {
        Self {
            indexes: Indexes::for_events(events),
            ..Self::default()
        }
    }

    pub fn chunk(&mut self, first_position: u64) {
        self.indexes.chunk_starts.push(first_position);
    }

    /// Adds a record; a problem names what is inconsistent (the record is still indexed as far
    /// as it can be, so the walk can go on).
    pub fn record(&mut self, record: &RecordedEvent) -> Result<(), Problem> {
        let position = record.position.get();
        let event_id = record.event.event_id;
        let earlier: Vec<u64> = self.indexes.event_ids.candidates(event_id).collect();
        if !earlier.is_empty() {
            self.suspects.push((position, event_id, earlier));
        }
        let problem = match self.indexes.add(position, event_id, &record.stream) {
            Ok(held) if record.stream_version != held.saturating_add(1) => Some(format!(
                "stream {} holds {held} events before this record, which says it is version {}",
                record.stream, record.stream_version
            )),
            Ok(_) => None,
            Err(error) => Some(error),
        };
        self.last_recorded_at = self.last_recorded_at.max(Some(record.recorded_at));
        match problem {
            Some(message) => Err(Problem {
                position: Some(record.position),
                message,
            }),
            None => Ok(()),
        }
    }

    /// Reads the ids of the suspects' candidates with `id_at` (from the walked log): a record
    /// whose id is recorded earlier is a problem at its position. Then gives back the room the
    /// indexes' vectors grew while the walk pushed entries one by one (up to half of them).
    pub fn confirm(
        &mut self,
        mut id_at: impl FnMut(u64) -> Result<EventId, String>,
    ) -> Vec<Problem> {
        let mut problems = Vec::new();
        for (position, event_id, earlier) in std::mem::take(&mut self.suspects) {
            for candidate in earlier {
                let message = match id_at(candidate) {
                    Ok(found) if found == event_id => {
                        format!("event id {event_id} is already recorded at position {candidate}")
                    }
                    Ok(_) => continue,
                    Err(error) => format!(
                        "the record at {candidate}, whose id may repeat this one's, cannot be read: {error}"
                    ),
                };
                problems.push(Problem {
                    position: Some(Position(position)),
                    message,
                });
                break;
            }
        }
        self.indexes.event_ids.shrink_to_fit();
        self.indexes.streams.shrink_to_fit();
        self.indexes.chunk_starts.shrink_to_fit();
        problems
    }
}

/// The event id of the record at `position` in `tree`, whose chunks start at `chunk_starts`
/// (for reads after a walk, before the store is open).
pub(crate) fn event_id_in(
    tree: &sled::Tree,
    chunk_starts: &[u64],
    position: u64,
) -> Result<EventId, String> {
    let start = chunk_starts
        .partition_point(|&start| start <= position)
        .checked_sub(1)
        .map(|index| chunk_starts[index])
        .ok_or_else(|| format!("no chunk holds position {position}"))?;
    let value = tree
        .get(chunk_key(start))
        .map_err(|error| format!("sled could not read the chunk at {start}: {error}"))?
        .ok_or_else(|| format!("the chunk at {start} is missing"))?;
    let chunk = Chunk::decode(&value)
        .map_err(|error| format!("the chunk at {start} does not decode: {error}"))?;
    let index = usize::try_from(position - start)
        .ok()
        .filter(|&index| index < chunk.records.len())
        .ok_or_else(|| format!("the chunk at {start} does not hold position {position}"))?;
    let stored = &chunk.records[index];
    decode_record(&stored.bytes, chunk.prev_hash_of(index), stored.hash)
        .map(|record| record.event.event_id)
}

#[cfg(test)]
mod tests {
    use ledger_domain::ids::StreamId;

    use super::*;

    fn record(position: u64, version: u64, event_id: EventId) -> RecordedEvent {
        let stream =
            StreamId::parse("stream", "customer-0190a5e2-8c3b-7d4e-9f00-1234567890ab").unwrap();
        super::super::test_record(position, &stream, version, event_id)
    }

    #[test]
    fn a_repeated_id_is_confirmed_by_reading_the_earlier_record_and_named_at_the_later() {
        let repeated = EventId::new_v7();
        let ids = [EventId::new_v7(), repeated, EventId::new_v7(), repeated];
        let mut rebuild = Rebuild::for_events(4);
        for (offset, &id) in ids.iter().enumerate() {
            let position = u64::try_from(offset).unwrap() + 1;
            rebuild.record(&record(position, position, id)).unwrap();
        }
        let mut reads = Vec::new();
        let problems = rebuild.confirm(|position| {
            reads.push(position);
            Ok(ids[usize::try_from(position - 1).unwrap()])
        });
        assert_eq!(reads, [2], "only the suspect's candidate is read");
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(problems[0].position, Some(Position(4)));
        assert!(
            problems[0]
                .message
                .contains(&format!("{repeated} is already recorded at position 2")),
            "{}",
            problems[0].message
        );
    }

    #[test]
    fn a_candidate_with_another_id_is_let_go_and_an_unreadable_one_is_a_problem() {
        let id = EventId::new_v7();
        let mut rebuild = Rebuild::for_events(2);
        rebuild.record(&record(1, 1, id)).unwrap();
        rebuild.record(&record(2, 2, id)).unwrap();
        // The read says position 1 holds another id: a hash collision, not a repeat.
        let other = EventId::new_v7();
        assert!(rebuild.confirm(|_| Ok(other)).is_empty());

        let mut rebuild = Rebuild::for_events(2);
        rebuild.record(&record(1, 1, id)).unwrap();
        rebuild.record(&record(2, 2, id)).unwrap();
        let problems = rebuild.confirm(|_| Err("the chunk at 1 is missing".into()));
        assert_eq!(problems.len(), 1);
        assert!(
            problems[0].message.contains("cannot be read"),
            "{problems:?}"
        );
    }
}
