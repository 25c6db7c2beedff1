//! The values that cross the event log's boundary: events going in, records coming out, the
//! outcome of an append, the head of the chain and the verification report.

use std::fmt;

use ledger_domain::ids::{CorrelationId, EventId, Position, StaffId, StreamId};

/// A blake3 digest: each record's hash covers the previous record's hash and the record's bytes.
pub type Hash = [u8; 32];

/// The `prev_hash` of the record at position 1.
pub const GENESIS_HASH: Hash = [0; 32];

/// An event as the domain hands it to the log. The payload is opaque bytes: the domain encodes
/// it (and seals its personal data) before it gets here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEvent {
    pub event_id: EventId,
    pub event_type: String,
    pub schema_version: u16,
    /// Business time; may be in the past for imported history.
    pub occurred_at: jiff::Timestamp,
    pub actor: StaffId,
    pub correlation_id: Option<CorrelationId>,
    pub causation_id: Option<CorrelationId>,
    /// The channel system the event came from (`telephony`, `wechat`, `webshop` …).
    pub origin: Option<String>,
    pub payload: Vec<u8>,
}

/// An event as the log recorded it: its place in the global log and in its stream, the ledger
/// time, and its link in the hash chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedEvent {
    pub position: Position,
    pub stream: StreamId,
    /// 1-based index of the event within its stream.
    pub stream_version: u64,
    /// Ledger time: when the group holding this record was committed. Never decreases along
    /// the log for appended records (imported records keep theirs).
    pub recorded_at: jiff::Timestamp,
    /// The hash of the record at `position - 1` ([`GENESIS_HASH`] at position 1).
    pub prev_hash: Hash,
    /// `record_hash(prev_hash, encode_record(self))`.
    pub hash: Hash,
    pub event: NewEvent,
}

/// What the caller believes about the stream it appends to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ExpectedVersion {
    /// Append whatever the stream holds.
    Any,
    /// The stream must not exist yet (hold no events).
    NoStream,
    /// The stream must currently hold exactly this many events.
    Exact(u64),
}

impl ExpectedVersion {
    /// Whether a stream that holds `actual` events satisfies this expectation.
    pub fn admits(self, actual: u64) -> bool {
        match self {
            Self::Any => true,
            Self::NoStream => actual == 0,
            Self::Exact(expected) => expected == actual,
        }
    }
}

impl fmt::Display for ExpectedVersion {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Any => formatter.write_str("any version"),
            Self::NoStream => formatter.write_str("no stream"),
            Self::Exact(version) => write!(formatter, "version {version}"),
        }
    }
}

/// Events to append to one stream, atomically: all of them or none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppendRequest {
    pub stream: StreamId,
    pub expected: ExpectedVersion,
    pub events: Vec<NewEvent>,
}

/// A durable append (or the original answer to a retried one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Appended {
    pub first_position: Position,
    pub last_position: Position,
    /// The stream's version right after this append (for a duplicate: right after the original).
    pub stream_version: u64,
    /// True when every event id was already in the log: nothing was written and the positions
    /// are the original ones.
    pub duplicate: bool,
}

/// The durable end of the chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Head {
    /// The last durable position (`Position::ZERO` when the log is empty).
    pub position: Position,
    /// The hash of the record at `position` ([`GENESIS_HASH`] when the log is empty).
    pub hash: Hash,
    /// Records in the log; equal to `position` since positions are gapless from 1.
    pub event_count: u64,
}

impl Head {
    /// The head of an empty log.
    pub const EMPTY: Self = Self {
        position: Position::ZERO,
        hash: GENESIS_HASH,
        event_count: 0,
    };

    /// The hash as lower-case hex.
    pub fn hash_hex(&self) -> String {
        hex::encode(self.hash)
    }
}

/// The outcome of checking the whole log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyReport {
    /// True when no problem was found.
    pub ok: bool,
    /// Records checked.
    pub events: u64,
    /// The head as recomputed from the records.
    pub head: Head,
    /// What is wrong, in log order (at most `VERIFY_PROBLEMS_MAX`; a last entry says how many
    /// more there were).
    pub problems: Vec<Problem>,
}

/// One thing `verify` found wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The record concerned, when the problem belongs to one.
    pub position: Option<Position>,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.position {
            Some(position) => write!(formatter, "position {position}: {}", self.message),
            None => formatter.write_str(&self.message),
        }
    }
}

/// Counters of what the store has done since it was opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StoreStats {
    /// Append requests answered with new positions.
    pub appends: u64,
    /// Append requests answered as duplicates.
    pub duplicates: u64,
    /// Append requests answered with a conflict.
    pub conflicts: u64,
    /// Records written (appended or imported).
    pub events_written: u64,
    /// Group commits written (one `apply_batch` each).
    pub groups: u64,
    /// `fdatasync` calls on sled's data file, one per group commit.
    pub syncs: u64,
    /// Blob files (and the blob directory) fsynced.
    pub blob_syncs: u64,
    /// Estimated bytes held by the in-memory indexes.
    pub index_bytes: u64,
}
