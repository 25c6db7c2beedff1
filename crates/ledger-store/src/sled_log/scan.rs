//! Reading the whole log back in order, checking as it goes: chunk keys contiguous, every
//! record's hash recomputed from the stored bytes, every record decoded. Opening the store,
//! `verify` and `verify_dir` all walk the log with [`Scanner`].

use std::collections::VecDeque;
use std::ops::Bound;

use ledger_domain::ids::Position;

use crate::record::{CHUNK_PREFIX, Chunk, chunk_key_position, decode_record, record_hash};
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

/// Walks the chunks of a tree from position 1 up to `up_to` (inclusive).
pub(crate) struct Scanner {
    /// `None` while detached from the database (see [`Scanner::detach`]).
    chunks: Option<sled::Iter>,
    /// The key of the last chunk read, where a walk resumes on a reopened tree.
    last_key: Option<sled::IVec>,
    /// Bytes of chunk values read so far.
    value_bytes: u64,
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
            chunks: Some(tree.scan_prefix([CHUNK_PREFIX])),
            last_key: None,
            value_bytes: 0,
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

    /// Bytes of chunk values read so far.
    pub fn value_bytes(&self) -> u64 {
        self.value_bytes
    }

    /// Lets go of the database (its iterator holds it open); the walk stops here until
    /// [`Scanner::reattach`].
    pub fn detach(&mut self) {
        self.chunks = None;
    }

    /// Goes on walking in `tree` (the same log in a reopened database) from the chunk after
    /// the last one read, exactly where the walk in the old tree would have gone on.
    pub fn reattach(&mut self, tree: &sled::Tree) {
        let end = Bound::Excluded(sled::IVec::from(&[CHUNK_PREFIX.saturating_add(1)]));
        self.chunks = Some(match self.last_key.clone() {
            Some(last) => tree.range((Bound::Excluded(last), end)),
            None => tree.scan_prefix([CHUNK_PREFIX]),
        });
    }

    /// Reads the next chunk into `pending`; false when there is none (or it is past `up_to`).
    fn read_chunk(&mut self) -> bool {
        let (key, value) = match self.chunks.as_mut().and_then(Iterator::next) {
            None => return false,
            Some(Err(error)) => {
                self.problem(None, format!("sled could not read the log: {error}"));
                return false;
            }
            Some(Ok(entry)) => entry,
        };
        self.last_key = Some(key.clone());
        self.value_bytes = self
            .value_bytes
            .saturating_add(u64::try_from(value.len()).unwrap_or(u64::MAX));
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
#[derive(Debug, Default)]
pub(crate) struct Rebuild {
    pub indexes: Indexes,
    /// The latest `recorded_at` seen, so the writer never goes back in time.
    pub last_recorded_at: Option<jiff::Timestamp>,
}

impl Rebuild {
    pub fn chunk(&mut self, first_position: u64) {
        self.indexes.chunk_starts.push(first_position);
    }

    /// Adds a record; a problem names what is inconsistent (the record is still indexed as far
    /// as it can be, so the walk can go on).
    pub fn record(&mut self, record: &RecordedEvent) -> Result<(), Problem> {
        let position = record.position.get();
        let held = self.indexes.stream_version(&record.stream);
        let mut problem = None;
        if record.stream_version != held.saturating_add(1) {
            problem = Some(format!(
                "stream {} holds {held} events before this record, which says it is version {}",
                record.stream, record.stream_version
            ));
        }
        if let Some(earlier) = self.indexes.event_positions.get(&record.event.event_id) {
            problem = Some(format!(
                "event id {} is already recorded at position {earlier}",
                record.event.event_id
            ));
        } else {
            self.indexes
                .add(position, record.event.event_id, &record.stream);
        }
        self.last_recorded_at = self.last_recorded_at.max(Some(record.recorded_at));
        match problem {
            Some(message) => Err(Problem {
                position: Some(record.position),
                message,
            }),
            None => Ok(()),
        }
    }
}
