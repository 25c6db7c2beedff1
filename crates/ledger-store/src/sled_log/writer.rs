//! The single writer, in two stages on two threads that own every append. The first drains
//! the bounded queue into a group, decides each request (idempotency, then expected version),
//! assigns positions, chains hashes and packs the group into compressed chunks; the second
//! ([`io`]) writes those chunks in one `apply_batch`, flushes, syncs, and only then updates the
//! indexes, publishes the new head and answers the callers. A whole group waiting in the queue
//! (a bulk append) is decided while the one before it is written: its decisions see that
//! group's ids, stream versions and head as if they were durable already, and none of its
//! answers is sent before that group has landed, so a failed write refuses both.

mod io;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, SendError, SyncSender, sync_channel};
use std::thread::JoinHandle;

use ledger_domain::ids::{EventId, Position, StreamId};
use tokio::sync::{mpsc, oneshot};

use crate::clock::Clock;
use crate::error::{AppendError, ImportError, StoreFailure};
use crate::limits::{CHUNK_BYTES_TARGET, GROUP_PAYLOAD_BYTES_MAX};
use crate::record::{Chunk, StoredRecord, encode_fields, record_hash};
use crate::sled_log::Shared;
use crate::sled_log::event_ids::INDEXED_POSITION_MAX;
use crate::sled_log::index::{Indexes, len_u64};
use crate::sled_log::streams::STREAM_EVENTS_MAX;
use crate::types::{AppendRequest, Appended, Hash, Head};
use crate::validate::ImportRecord;

pub(crate) use self::io::Io;
use self::io::{Handoff, Landed};

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

/// The first stage's link to the second: the channel groups are handed over on, the one each
/// group's landing is reported on, and the thread.
pub(crate) struct IoStage {
    handoffs: Option<SyncSender<Handoff>>,
    landed: Receiver<Landed>,
    thread: Option<JoinHandle<()>>,
}

impl IoStage {
    /// Starts the second stage on a thread of its own.
    pub fn spawn(io: Io) -> std::io::Result<Self> {
        // One group waits at most: the first stage hands a group over only once the one before
        // it has landed.
        let (handoffs, handed) = sync_channel(1);
        let (reports, landed) = sync_channel(1);
        let thread = std::thread::Builder::new()
            .name("ledger-store-io".into())
            .spawn(move || io.run(handed, reports))?;
        Ok(Self {
            handoffs: Some(handoffs),
            landed,
            thread: Some(thread),
        })
    }

    /// Hangs up and waits for the second stage to make everything durable and end.
    fn stop(&mut self) {
        drop(self.handoffs.take());
        if let Some(thread) = self.thread.take() {
            // A panic there has refused or answered every caller it held already.
            let _ = thread.join();
        }
    }
}

/// The group handed to the second stage and not yet landed: what deciding the next group
/// must see of it.
struct InFlight {
    head: Head,
    first_chunk_start: u64,
    staged: Arc<Staged>,
}

pub(crate) struct Writer {
    shared: Arc<Shared>,
    receiver: mpsc::Receiver<Message>,
    io: IoStage,
    clock: Arc<dyn Clock>,
    group_events_max: usize,
    last_recorded_at: jiff::Timestamp,
    /// Set by the first failed write, flush or sync; from then on every message is refused.
    poisoned: Option<StoreFailure>,
    /// A message taken from the queue that did not fit the group; it starts the next one.
    carried: Option<Message>,
    in_flight: Option<InFlight>,
}

/// Messages taken from the queue to decide together.
struct Group {
    messages: Vec<Message>,
    events: usize,
    payload_bytes: usize,
}

impl Writer {
    /// A writer that hands decided groups to `io`.
    pub fn new(
        shared: Arc<Shared>,
        receiver: mpsc::Receiver<Message>,
        io: IoStage,
        clock: Arc<dyn Clock>,
        group_events_max: usize,
        last_recorded_at: jiff::Timestamp,
    ) -> Self {
        Self {
            shared,
            receiver,
            io,
            clock,
            group_events_max,
            last_recorded_at,
            poisoned: None,
            carried: None,
            in_flight: None,
        }
    }

    /// Runs until every sender is dropped and the queue is drained.
    pub fn run(mut self) {
        while let Some(first) = self
            .carried
            .take()
            .or_else(|| self.receiver.blocking_recv())
        {
            let mut group = Group {
                events: first.events(),
                payload_bytes: first.payload_bytes(),
                messages: vec![first],
            };
            if !self.fill(&mut group) && self.in_flight.is_some() {
                // Not a whole group: wait for the one being written and take what arrives
                // meanwhile, so concurrent single appends still make one group a write rather
                // than two halves. Whole groups (a bulk append) are decided during the write.
                self.land();
                self.fill(&mut group);
            }
            match self.poisoned.clone() {
                Some(failure) => group
                    .messages
                    .into_iter()
                    .for_each(|message| message.refuse(&failure)),
                None => self.commit(group),
            }
        }
        self.land();
    }

    /// Takes what is already queued, up to the group limits. Returns whether the group is
    /// whole (at a limit, or the next message did not fit).
    fn fill(&mut self, group: &mut Group) -> bool {
        while self.carried.is_none() && group.events < self.group_events_max {
            let Ok(message) = self.receiver.try_recv() else {
                return false;
            };
            let fits = group.events.saturating_add(message.events()) <= self.group_events_max
                && group.payload_bytes.saturating_add(message.payload_bytes())
                    <= GROUP_PAYLOAD_BYTES_MAX;
            if !fits {
                self.carried = Some(message);
                break;
            }
            group.events = group.events.saturating_add(message.events());
            group.payload_bytes = group.payload_bytes.saturating_add(message.payload_bytes());
            group.messages.push(message);
        }
        true
    }

    /// Waits for the group in flight, if any, to land; a failure poisons the writer.
    fn land(&mut self) {
        if self.in_flight.take().is_none() {
            return;
        }
        let failure = match self.io.landed.recv() {
            Ok(Ok(())) => return,
            Ok(Err(failure)) => failure,
            Err(_) => self.io_stopped(),
        };
        self.poisoned = Some(failure);
    }

    /// The second stage is gone (it panicked): poisons the store and says so.
    fn io_stopped(&self) -> StoreFailure {
        let cause = "the event log's write thread stopped".to_string();
        self.shared.poison(cause.clone());
        StoreFailure::Poisoned { cause }
    }

    /// Decides one group, then hands it to the second stage once the group before has landed.
    fn commit(&mut self, group: Group) {
        let recorded_at = self.clock.now().max(self.last_recorded_at);
        let mut answers = Vec::with_capacity(group.messages.len());
        let stage = {
            let indexes = self.shared.read_indexes();
            // The head the group chains on is the one in flight's; its ids and streams are
            // looked up with the group's own until the indexes hold them.
            let (head, prior) = match &self.in_flight {
                Some(flight) => {
                    let published = indexes.holds_chunk(flight.first_chunk_start);
                    (
                        flight.head,
                        (!published).then(|| Arc::clone(&flight.staged)),
                    )
                }
                None => (self.shared.head(), None),
            };
            let mut stage = Stage::new(head, recorded_at, group.events, prior);
            for message in group.messages {
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
            stage
        };
        let counts = stage.counts;
        // Sealed before waiting: compressing the chunks is most of what overlaps the write.
        let sealed = (!stage.records.is_empty()).then(|| stage.seal());
        // Every answer may rest on the group in flight (a retry of one of its events, a
        // version it staged), so none is sent before that group has landed.
        self.land();
        if let Some(failure) = &self.poisoned {
            answers
                .into_iter()
                .for_each(|answer| answer.refuse(failure));
            return;
        }
        let Some(sealed) = sealed else {
            self.shared.stats.count_answers(counts);
            answers.into_iter().for_each(Answer::send);
            return;
        };
        self.last_recorded_at = sealed.last_recorded_at;
        let in_flight = InFlight {
            head: sealed.head,
            first_chunk_start: sealed.chunk_starts.first().copied().unwrap_or(u64::MAX),
            staged: Arc::clone(&sealed.staged),
        };
        let handoff = Handoff {
            sealed,
            answers,
            counts,
        };
        let sent = match &self.io.handoffs {
            Some(handoffs) => handoffs.send(handoff),
            None => Err(SendError(handoff)),
        };
        match sent {
            Ok(()) => self.in_flight = Some(in_flight),
            Err(SendError(handoff)) => {
                let failure = self.io_stopped();
                handoff
                    .answers
                    .into_iter()
                    .for_each(|answer| answer.refuse(&failure));
                self.poisoned = Some(failure);
            }
        }
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        // Runs on a normal end and on a panic alike: subscribers and `close` must not wait for
        // a writer that is gone. The second stage is stopped first, so everything it wrote is
        // durable before the store says it closed.
        self.io.stop();
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
    staged: Staged,
    /// The group in flight, while the indexes do not hold it yet.
    prior: Option<Arc<Staged>>,
    counts: OutcomeCounts,
}

/// What a decided group adds to the indexes once it is durable.
#[derive(Debug, Default)]
pub(crate) struct Staged {
    pub event_positions: HashMap<EventId, u64>,
    pub streams: HashMap<StreamId, Vec<u64>>,
}

impl Staged {
    fn stream(&self, stream: &StreamId) -> &[u64] {
        self.streams.get(stream).map_or(&[], Vec::as_slice)
    }
}

/// A decided group, ready to write.
struct Sealed {
    chunks: Vec<(u64, Vec<u8>)>,
    chunk_starts: Vec<u64>,
    head: Head,
    record_count: usize,
    last_recorded_at: jiff::Timestamp,
    staged: Arc<Staged>,
}

impl Stage {
    /// A stage for a group of at most `events` events (sized for them up front: growing the
    /// maps and the record list while deciding a bulk group cost the writer reallocations and
    /// rehashes).
    fn new(
        head: Head,
        recorded_at: jiff::Timestamp,
        events: usize,
        prior: Option<Arc<Staged>>,
    ) -> Self {
        let first_position = head.position.get().saturating_add(1);
        Self {
            start_prev_hash: head.hash,
            first_position,
            next_position: first_position,
            prev_hash: head.hash,
            recorded_at,
            last_recorded_at: recorded_at,
            records: Vec::with_capacity(events),
            staged: Staged {
                event_positions: HashMap::with_capacity(events),
                streams: HashMap::new(),
            },
            prior,
            counts: OutcomeCounts::default(),
        }
    }

    /// The groups staged above the indexes, oldest first: the one in flight, if the indexes do
    /// not hold it yet, and this one.
    fn layers(&self) -> impl Iterator<Item = &Staged> {
        self.prior.as_deref().into_iter().chain([&self.staged])
    }

    /// Where `event_id` was recorded: staged in this group or the one in flight, or durable (a
    /// candidate of the id index confirmed by reading its record from `shared`).
    fn position_of(
        &self,
        indexes: &Indexes,
        shared: &Shared,
        event_id: EventId,
    ) -> Result<Option<u64>, StoreFailure> {
        let staged = self
            .layers()
            .find_map(|layer| layer.event_positions.get(&event_id));
        if let Some(&position) = staged {
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
        let in_flight = self
            .prior
            .as_ref()
            .map_or(0, |prior| prior.event_positions.len());
        let staged = len_u64(
            self.records
                .len()
                .saturating_add(in_flight)
                .saturating_add(events),
        );
        indexes.streams.check_room(staged)?;
        if stream_version.saturating_add(len_u64(events)) > STREAM_EVENTS_MAX {
            return Err(format!(
                "a stream can hold STREAM_EVENTS_MAX = {STREAM_EVENTS_MAX} events; this one holds {stream_version}"
            ));
        }
        Ok(())
    }

    fn stream_version(&self, indexes: &Indexes, stream: &StreamId) -> u64 {
        let staged: usize = self.layers().map(|layer| layer.stream(stream).len()).sum();
        indexes
            .stream_version(stream)
            .saturating_add(len_u64(staged))
    }

    /// The position of `stream`'s version `index + 1`, durable or staged. O(index) for a
    /// durable one (the stream index decodes its deltas from version 1).
    fn stream_position(&self, indexes: &Indexes, stream: &StreamId, index: usize) -> Option<u64> {
        let durable = usize::try_from(indexes.stream_version(stream)).unwrap_or(usize::MAX);
        let Some(mut staged_index) = index.checked_sub(durable) else {
            return indexes.streams.position(stream, index);
        };
        for layer in self.layers() {
            let positions = layer.stream(stream);
            match positions.get(staged_index) {
                Some(&position) => return Some(position),
                None => staged_index = staged_index.saturating_sub(positions.len()),
            }
        }
        None
    }

    /// The 0-based index of `position` in `stream`, durable or staged. O(n) in the durable
    /// stream's length: a scan of its decoded deltas, which stops at the first position not
    /// below `position` (only retries ask).
    fn stream_index(&self, indexes: &Indexes, stream: &StreamId, position: u64) -> Option<usize> {
        if let Some(index) = indexes.streams.index_of(stream, position) {
            return Some(index);
        }
        let mut before = usize::try_from(indexes.stream_version(stream)).unwrap_or(usize::MAX);
        for layer in self.layers() {
            let positions = layer.stream(stream);
            if let Ok(index) = positions.binary_search(&position) {
                return Some(before.saturating_add(index));
            }
            before = before.saturating_add(positions.len());
        }
        None
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
        self.staged.event_positions.insert(event_id, position);
        match self.staged.streams.get_mut(stream) {
            Some(positions) => positions.push(position),
            None => {
                self.staged.streams.insert(stream.clone(), vec![position]);
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
            staged: Arc::new(self.staged),
        }
    }
}

#[cfg(test)]
mod tests;
