//! The single writer: a dedicated thread that owns every append. It drains the bounded queue
//! into a group, decides each request (idempotency, then expected version), assigns positions,
//! chains hashes, writes the group as packed chunks in one `apply_batch`, flushes, syncs, and
//! only then updates the indexes, publishes the new head and answers the callers.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use ledger_domain::ids::{EventId, Position, StreamId};
use tokio::sync::{mpsc, oneshot};

use crate::clock::Clock;
use crate::error::{AppendError, ImportError, StoreFailure};
use crate::faults::{FaultPoint, Faults};
use crate::limits::{CHUNK_BYTES_TARGET, GROUP_PAYLOAD_BYTES_MAX};
use crate::record::{
    Chunk, HEAD_KEY, HeadValue, StoredRecord, chunk_key, encode_fields, record_hash,
};
use crate::sled_log::Shared;
use crate::sled_log::durability::Durability;
use crate::sled_log::event_ids::INDEXED_POSITION_MAX;
use crate::sled_log::index::{Indexes, len_u64};
use crate::sled_log::streams::STREAM_EVENTS_MAX;
use crate::types::{AppendRequest, Appended, Hash, Head};
use crate::validate::ImportRecord;

/// The outcomes of the requests of one append message, in order.
pub(crate) type AppendOutcomes = Vec<Result<Appended, AppendError>>;

/// What callers put on the queue.
#[derive(Debug)]
pub(crate) enum Message {
    /// One `append`, or one batch of an `append_many`. Already checked against the limits.
    Append {
        requests: Vec<AppendRequest>,
        events: usize,
        payload_bytes: usize,
        reply: oneshot::Sender<AppendOutcomes>,
    },
    /// One `import_recorded` call, already checked on its own.
    Import {
        records: Vec<ImportRecord>,
        payload_bytes: usize,
        reply: oneshot::Sender<Result<Head, ImportError>>,
    },
}

impl Message {
    fn events(&self) -> usize {
        match self {
            Self::Append { events, .. } => *events,
            Self::Import { records, .. } => records.len(),
        }
    }

    fn payload_bytes(&self) -> usize {
        match self {
            Self::Append { payload_bytes, .. } | Self::Import { payload_bytes, .. } => {
                *payload_bytes
            }
        }
    }

    /// Answers every request of the message with the same failure.
    fn refuse(self, failure: &StoreFailure) {
        match self {
            Self::Append {
                requests, reply, ..
            } => {
                let outcomes = requests
                    .iter()
                    .map(|_| Err(AppendError::Unavailable(failure.clone())))
                    .collect();
                // A caller that stopped waiting needs no answer.
                let _ = reply.send(outcomes);
            }
            Self::Import { reply, .. } => {
                let _ = reply.send(Err(ImportError::Unavailable(failure.clone())));
            }
        }
    }
}

/// An answer computed for a message, sent once the group is durable.
enum Answer {
    Append(oneshot::Sender<AppendOutcomes>, AppendOutcomes),
    Import(
        oneshot::Sender<Result<Head, ImportError>>,
        Result<Head, ImportError>,
    ),
}

impl Answer {
    fn send(self) {
        // A caller that stopped waiting needs no answer.
        match self {
            Self::Append(reply, outcomes) => {
                let _ = reply.send(outcomes);
            }
            Self::Import(reply, outcome) => {
                let _ = reply.send(outcome);
            }
        }
    }

    fn refuse(self, failure: &StoreFailure) {
        match self {
            Self::Append(reply, outcomes) => {
                let _ = reply.send(
                    outcomes
                        .iter()
                        .map(|_| Err(AppendError::Unavailable(failure.clone())))
                        .collect(),
                );
            }
            Self::Import(reply, _) => {
                let _ = reply.send(Err(ImportError::Unavailable(failure.clone())));
            }
        }
    }
}

pub(crate) struct Writer {
    pub shared: Arc<Shared>,
    pub receiver: mpsc::Receiver<Message>,
    pub durability: Durability,
    pub faults: Faults,
    pub clock: Arc<dyn Clock>,
    pub group_events_max: usize,
    pub last_recorded_at: jiff::Timestamp,
    /// Set by the first failed write, flush or sync; from then on every message is refused.
    pub poisoned: Option<StoreFailure>,
    /// A message taken from the queue that did not fit the group; it starts the next one.
    pub carried: Option<Message>,
}

impl Writer {
    /// Runs until every sender is dropped and the queue is drained.
    pub fn run(mut self) {
        while let Some(first) = self
            .carried
            .take()
            .or_else(|| self.receiver.blocking_recv())
        {
            let group = self.gather(first);
            match self.poisoned.clone() {
                Some(failure) => group
                    .into_iter()
                    .for_each(|message| message.refuse(&failure)),
                None => self.commit(group),
            }
        }
        self.finish();
    }

    /// Takes what is already queued, up to the group limits. The first message always fits.
    fn gather(&mut self, first: Message) -> Vec<Message> {
        let mut events = first.events();
        let mut payload_bytes = first.payload_bytes();
        let mut group = vec![first];
        while events < self.group_events_max {
            let Ok(message) = self.receiver.try_recv() else {
                break;
            };
            let fits = events.saturating_add(message.events()) <= self.group_events_max
                && payload_bytes.saturating_add(message.payload_bytes()) <= GROUP_PAYLOAD_BYTES_MAX;
            if !fits {
                self.carried = Some(message);
                break;
            }
            events = events.saturating_add(message.events());
            payload_bytes = payload_bytes.saturating_add(message.payload_bytes());
            group.push(message);
        }
        group
    }

    /// Decides, writes and answers one group.
    fn commit(&mut self, group: Vec<Message>) {
        let head = self.shared.head();
        let recorded_at = self.clock.now().max(self.last_recorded_at);
        let events = group.iter().map(Message::events).sum();
        let mut stage = Stage::new(head, recorded_at, events);
        let mut answers = Vec::with_capacity(group.len());
        {
            let indexes = self.shared.read_indexes();
            for message in group {
                answers.push(match message {
                    Message::Append {
                        requests, reply, ..
                    } => {
                        let outcomes = requests
                            .into_iter()
                            .map(|request| stage.append(&indexes, &self.shared, request))
                            .collect();
                        Answer::Append(reply, outcomes)
                    }
                    Message::Import { records, reply, .. } => {
                        let outcome = stage.import(&indexes, &self.shared, records);
                        Answer::Import(reply, outcome)
                    }
                });
            }
        }
        let counts = stage.counts;
        if stage.records.is_empty() {
            self.shared.stats.count_answers(counts);
            answers.into_iter().for_each(Answer::send);
            return;
        }
        let sealed = stage.seal();
        match self.write(&sealed) {
            Ok(blob_syncs) => {
                self.last_recorded_at = sealed.last_recorded_at;
                self.shared
                    .stats
                    .count_group(counts, len_u64(sealed.record_count), blob_syncs);
                let published = self.shared.publish(
                    sealed.head,
                    sealed.event_positions,
                    sealed.streams,
                    &sealed.chunk_starts,
                );
                if let Err(error) = published {
                    // The group is durable, so its callers hear so; but the indexes no longer
                    // hold every record, so nothing more is written until a reopen rebuilds them.
                    let cause = format!("the indexes could not take a durable group: {error}");
                    tracing::error!(%cause, "the event log refuses writes until reopened");
                    self.poisoned = Some(StoreFailure::Poisoned {
                        cause: cause.clone(),
                    });
                    self.shared.poison(cause);
                }
                answers.into_iter().for_each(Answer::send);
            }
            Err(failure) => {
                tracing::error!(%failure, "group commit failed; the event log refuses writes until reopened");
                self.poisoned = Some(StoreFailure::Poisoned {
                    cause: failure.to_string(),
                });
                self.shared.poison(failure.to_string());
                answers
                    .into_iter()
                    .for_each(|answer| answer.refuse(&failure));
            }
        }
    }

    /// Writes one sealed group and makes it durable. Returns the blob files synced.
    fn write(&mut self, sealed: &Sealed) -> Result<u64, StoreFailure> {
        let mut batch = sled::Batch::default();
        for (first_position, value) in &sealed.chunks {
            batch.insert(&chunk_key(*first_position)[..], value.as_slice());
        }
        batch.insert(HEAD_KEY, HeadValue::of(&sealed.head).encode());
        let step = |point: FaultPoint, operation: &str| {
            self.faults
                .check(point)
                .map_err(|error| StoreFailure::io(operation, error))
        };
        step(FaultPoint::BeforeWrite, "apply_batch")?;
        self.shared
            .tree
            .apply_batch(batch)
            .map_err(|error| StoreFailure::io("apply_batch", error))?;
        step(FaultPoint::BeforeFlush, "flush")?;
        self.shared
            .db
            .flush()
            .map_err(|error| StoreFailure::io("flush", error))?;
        step(FaultPoint::BeforeSync, "fdatasync of log/db")?;
        let synced = self.durability.sync()?;
        step(FaultPoint::AfterSync, "after sync")?;
        Ok(synced.blob_syncs)
    }

    /// The queue is closed and drained: make sure everything is durable and say so.
    fn finish(&mut self) {
        if self.poisoned.is_none() {
            let flushed = self
                .shared
                .db
                .flush()
                .map_err(|error| StoreFailure::io("flush", error));
            if let Err(failure) = flushed.and_then(|_| self.durability.sync()) {
                tracing::error!(%failure, "final flush of the event log failed");
                self.shared.poison(failure.to_string());
            }
        }
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        // Runs on a normal end and on a panic alike: subscribers and `close` must not wait for
        // a writer that is gone.
        self.shared.mark_closed();
    }
}

/// Counts of a group's outcomes, for the store's statistics.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct OutcomeCounts {
    pub appends: u64,
    pub duplicates: u64,
    pub conflicts: u64,
}

/// The group being decided: records staged after the durable head, and the indexes they will
/// add once durable. Requests later in the group see the effects of earlier ones.
struct Stage {
    start_prev_hash: Hash,
    first_position: u64,
    next_position: u64,
    prev_hash: Hash,
    recorded_at: jiff::Timestamp,
    last_recorded_at: jiff::Timestamp,
    records: Vec<StoredRecord>,
    event_positions: HashMap<EventId, u64>,
    streams: HashMap<StreamId, Vec<u64>>,
    counts: OutcomeCounts,
}

/// A decided group, ready to write.
struct Sealed {
    chunks: Vec<(u64, Vec<u8>)>,
    chunk_starts: Vec<u64>,
    head: Head,
    record_count: usize,
    last_recorded_at: jiff::Timestamp,
    event_positions: HashMap<EventId, u64>,
    streams: HashMap<StreamId, Vec<u64>>,
}

impl Stage {
    /// A stage for a group of at most `events` events (sized for them up front: growing the
    /// maps and the record list while deciding a bulk group cost the writer reallocations and
    /// rehashes).
    fn new(head: Head, recorded_at: jiff::Timestamp, events: usize) -> Self {
        let first_position = head.position.get().saturating_add(1);
        Self {
            start_prev_hash: head.hash,
            first_position,
            next_position: first_position,
            prev_hash: head.hash,
            recorded_at,
            last_recorded_at: recorded_at,
            records: Vec::with_capacity(events),
            event_positions: HashMap::with_capacity(events),
            streams: HashMap::new(),
            counts: OutcomeCounts::default(),
        }
    }

    /// Where `event_id` was recorded: staged in this group, or durable (a candidate of the id
    /// index confirmed by reading its record from `shared`).
    fn position_of(
        &self,
        indexes: &Indexes,
        shared: &Shared,
        event_id: EventId,
    ) -> Result<Option<u64>, StoreFailure> {
        if let Some(&position) = self.event_positions.get(&event_id) {
            return Ok(Some(position));
        }
        indexes.position_of(event_id, |position| shared.event_id_at(indexes, position))
    }

    /// Refuses a request or an import of `events` events that would stage a record past
    /// [`INDEXED_POSITION_MAX`], the id index's limit, or that the stream index might not hold
    /// with the group staged so far (`stream_version`: the version of the request's stream,
    /// 0 for an import, which checks each stream's version on its own).
    fn check_room(
        &self,
        indexes: &Indexes,
        events: usize,
        stream_version: u64,
    ) -> Result<(), String> {
        let last = self
            .next_position
            .saturating_add(len_u64(events))
            .saturating_sub(1);
        if last > INDEXED_POSITION_MAX {
            return Err(format!(
                "the log can hold records up to position INDEXED_POSITION_MAX = {INDEXED_POSITION_MAX}; these would end at {last}"
            ));
        }
        let staged = len_u64(self.records.len().saturating_add(events));
        indexes.streams.check_room(staged)?;
        if stream_version.saturating_add(len_u64(events)) > STREAM_EVENTS_MAX {
            return Err(format!(
                "a stream can hold STREAM_EVENTS_MAX = {STREAM_EVENTS_MAX} events; this one holds {stream_version}"
            ));
        }
        Ok(())
    }

    fn stream_version(&self, indexes: &Indexes, stream: &StreamId) -> u64 {
        let staged = self.streams.get(stream).map_or(0, Vec::len);
        indexes
            .stream_version(stream)
            .saturating_add(len_u64(staged))
    }

    /// The position of `stream`'s version `index + 1`, durable or staged. O(index) for a
    /// durable one (the stream index decodes its deltas from version 1).
    fn stream_position(&self, indexes: &Indexes, stream: &StreamId, index: usize) -> Option<u64> {
        let durable = usize::try_from(indexes.stream_version(stream)).unwrap_or(usize::MAX);
        match index.checked_sub(durable) {
            None => indexes.streams.position(stream, index),
            Some(staged_index) => self
                .streams
                .get(stream)
                .and_then(|staged| staged.get(staged_index))
                .copied(),
        }
    }

    /// The 0-based index of `position` in `stream`, durable or staged. O(n) in the durable
    /// stream's length: a scan of its decoded deltas, which stops at the first position not
    /// below `position` (only retries ask).
    fn stream_index(&self, indexes: &Indexes, stream: &StreamId, position: u64) -> Option<usize> {
        if let Some(index) = indexes.streams.index_of(stream, position) {
            return Some(index);
        }
        let durable = usize::try_from(indexes.stream_version(stream)).unwrap_or(usize::MAX);
        let staged = self.streams.get(stream)?;
        staged
            .binary_search(&position)
            .ok()
            .map(|index| durable.saturating_add(index))
    }

    /// Decides one append request: idempotency first, then the expected version, then staging.
    fn append(
        &mut self,
        indexes: &Indexes,
        shared: &Shared,
        request: AppendRequest,
    ) -> Result<Appended, AppendError> {
        let known: Vec<Option<u64>> = request
            .events
            .iter()
            .map(|event| self.position_of(indexes, shared, event.event_id))
            .collect::<Result<_, _>>()
            .map_err(AppendError::Unavailable)?;
        if known.iter().all(Option::is_some) {
            let positions: Vec<u64> = known.into_iter().flatten().collect();
            let outcome = self.duplicate(indexes, &request, &positions);
            if outcome.is_ok() {
                self.counts.duplicates = self.counts.duplicates.saturating_add(1);
            }
            return outcome;
        }
        if let Some((index, position)) = known
            .iter()
            .enumerate()
            .find_map(|(index, known)| known.map(|p| (index, p)))
        {
            return Err(AppendError::invalid(
                format!("events[{index}].event_id"),
                format!(
                    "event id {} is already recorded at position {position} while other events of this request \
                     are not: a retry must resend exactly the original request",
                    request.events[index].event_id
                ),
            ));
        }
        let actual = self.stream_version(indexes, &request.stream);
        self.check_room(indexes, request.events.len(), actual)
            .map_err(|rule| AppendError::invalid("events", rule))?;
        if !request.expected.admits(actual) {
            self.counts.conflicts = self.counts.conflicts.saturating_add(1);
            return Err(AppendError::Conflict {
                stream: request.stream,
                expected: request.expected,
                actual,
            });
        }
        let first_position = self.next_position;
        let mut version = actual;
        for event in &request.events {
            version = version.saturating_add(1);
            let bytes = encode_fields(
                Position(self.next_position),
                &request.stream,
                version,
                self.recorded_at,
                event,
            );
            self.push(event.event_id, &request.stream, bytes);
        }
        self.counts.appends = self.counts.appends.saturating_add(1);
        Ok(Appended {
            first_position: Position(first_position),
            last_position: Position(self.next_position.saturating_sub(1)),
            stream_version: version,
            duplicate: false,
        })
    }

    /// Every event id of the request is known: it is a retry if they are this stream's events,
    /// consecutive and in this order, and then the answer is the original one.
    fn duplicate(
        &self,
        indexes: &Indexes,
        request: &AppendRequest,
        positions: &[u64],
    ) -> Result<Appended, AppendError> {
        let stream = &request.stream;
        let start = positions
            .first()
            .and_then(|&first| self.stream_index(indexes, stream, first));
        let mismatch = match start {
            None => Some(0),
            Some(start) => (0..positions.len()).find(|&offset| {
                self.stream_position(indexes, stream, start.saturating_add(offset))
                    != Some(positions[offset])
            }),
        };
        if let (Some(start), None, Some(&first), Some(&last)) =
            (start, mismatch, positions.first(), positions.last())
        {
            return Ok(Appended {
                first_position: Position(first),
                last_position: Position(last),
                stream_version: len_u64(start.saturating_add(positions.len())),
                duplicate: true,
            });
        }
        let index = mismatch.unwrap_or(0);
        Err(AppendError::invalid(
            format!("events[{index}].event_id"),
            format!(
                "event id {} is already recorded at position {}, but not as this request's event in stream \
                 {stream} at this place: a retry must resend exactly the original request",
                request.events[index].event_id, positions[index]
            ),
        ))
    }

    /// Decides one import call: the records must continue the staged chain, stream versions
    /// must follow on, and no event id may be known. All or nothing.
    fn import(
        &mut self,
        indexes: &Indexes,
        shared: &Shared,
        records: Vec<ImportRecord>,
    ) -> Result<Head, ImportError> {
        let Some(first) = records.first() else {
            return Err(ImportError::Invalid {
                field: "records".into(),
                rule: "an import carries at least one record".into(),
            });
        };
        let rejected = |position: Position, rule: String| ImportError::Rejected { position, rule };
        if first.record.position.get() != self.next_position {
            return Err(rejected(
                first.record.position,
                format!(
                    "the log's next position is {}: an import must continue the head",
                    self.next_position
                ),
            ));
        }
        if first.record.prev_hash != self.prev_hash {
            return Err(rejected(
                first.record.position,
                format!(
                    "prev_hash is not the hash of the log's head (position {})",
                    self.next_position.saturating_sub(1)
                ),
            ));
        }
        self.check_room(indexes, records.len(), 0)
            .map_err(|rule| ImportError::Invalid {
                field: "records".into(),
                rule,
            })?;
        let mut versions: HashMap<&StreamId, u64> = HashMap::new();
        let mut ids = HashSet::with_capacity(records.len());
        for ImportRecord { record, .. } in &records {
            let held = match versions.get(&record.stream) {
                Some(&held) => held,
                None => self.stream_version(indexes, &record.stream),
            };
            if record.stream_version != held.saturating_add(1) {
                return Err(rejected(
                    record.position,
                    format!(
                        "stream {} holds {held} events, so its next version is {}, not {}",
                        record.stream,
                        held.saturating_add(1),
                        record.stream_version
                    ),
                ));
            }
            if record.stream_version > STREAM_EVENTS_MAX {
                return Err(rejected(
                    record.position,
                    format!(
                        "a stream can hold STREAM_EVENTS_MAX = {STREAM_EVENTS_MAX} events; this record is version {}",
                        record.stream_version
                    ),
                ));
            }
            versions.insert(&record.stream, record.stream_version);
            let event_id = record.event.event_id;
            if let Some(earlier) = self
                .position_of(indexes, shared, event_id)
                .map_err(ImportError::Unavailable)?
            {
                return Err(rejected(
                    record.position,
                    format!("event id {event_id} is already recorded at position {earlier}"),
                ));
            }
            if !ids.insert(event_id) {
                return Err(rejected(
                    record.position,
                    format!("event id {event_id} appears twice in this import"),
                ));
            }
        }
        for ImportRecord { record, bytes } in records {
            self.recorded_at = self.recorded_at.max(record.recorded_at);
            self.last_recorded_at = self.last_recorded_at.max(record.recorded_at);
            let hash = self.push(record.event.event_id, &record.stream, bytes);
            // The caller checked each hash against its own prev_hash and the chain inside the
            // call; the first record's prev_hash was checked above, so the chain must agree.
            debug_assert_eq!(
                hash, record.hash,
                "an imported record's hash must recompute"
            );
        }
        let position = self.next_position.saturating_sub(1);
        Ok(Head {
            position: Position(position),
            hash: self.prev_hash,
            event_count: position,
        })
    }

    /// Stages one record at the next position; returns its hash.
    fn push(&mut self, event_id: EventId, stream: &StreamId, bytes: Vec<u8>) -> Hash {
        let position = self.next_position;
        let hash = record_hash(&self.prev_hash, &bytes);
        self.records.push(StoredRecord { bytes, hash });
        self.prev_hash = hash;
        self.next_position = position.saturating_add(1);
        self.event_positions.insert(event_id, position);
        match self.streams.get_mut(stream) {
            Some(positions) => positions.push(position),
            None => {
                self.streams.insert(stream.clone(), vec![position]);
            }
        }
        hash
    }

    /// Packs the staged records into chunks of about `CHUNK_BYTES_TARGET` bytes.
    fn seal(self) -> Sealed {
        let record_count = self.records.len();
        let mut chunks = Vec::new();
        let mut chunk_starts = Vec::new();
        let mut current = Chunk {
            prev_hash: self.start_prev_hash,
            records: Vec::new(),
        };
        let mut current_bytes = 0_usize;
        let mut current_start = self.first_position;
        for (offset, record) in self.records.into_iter().enumerate() {
            let position = self.first_position.saturating_add(len_u64(offset));
            let size = record.bytes.len().saturating_add(record.hash.len());
            if !current.records.is_empty()
                && current_bytes.saturating_add(size) > CHUNK_BYTES_TARGET
            {
                let prev_hash = current
                    .records
                    .last()
                    .map_or(current.prev_hash, |last| last.hash);
                let full = std::mem::replace(
                    &mut current,
                    Chunk {
                        prev_hash,
                        records: Vec::new(),
                    },
                );
                chunks.push((current_start, full.encode()));
                chunk_starts.push(current_start);
                current_start = position;
                current_bytes = 0;
            }
            current_bytes = current_bytes.saturating_add(size);
            current.records.push(record);
        }
        if !current.records.is_empty() {
            chunks.push((current_start, current.encode()));
            chunk_starts.push(current_start);
        }
        let position = self.next_position.saturating_sub(1);
        Sealed {
            chunks,
            chunk_starts,
            head: Head {
                position: Position(position),
                hash: self.prev_hash,
                event_count: position,
            },
            record_count,
            last_recorded_at: self.last_recorded_at,
            event_positions: self.event_positions,
            streams: self.streams,
        }
    }
}
