//! The stored byte formats: a record's canonical bytes and its hash, the packed chunk that holds
//! consecutive records, the head and metadata values, and the sled keys. All encoding goes
//! through `ledger_domain::codec`; every value starts with a format byte.
//!
//! A record's canonical bytes are `RECORD_FORMAT` followed by the codec encoding of, in this
//! order: position, event id (16 bytes), stream, stream version, event type, schema version,
//! occurred_at and recorded_at (i128 nanoseconds since the Unix epoch), actor, correlation id,
//! causation id, origin, payload. They exclude both `prev_hash` and `hash`: the previous hash
//! enters through [`record_hash`], `hash = blake3(prev_hash ‖ record bytes)`.

use ledger_domain::codec::{self, CodecError};
use ledger_domain::ids::{CorrelationId, EventId, Position, StaffId, StreamId};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::types::{Hash, Head, NewEvent, RecordedEvent};

/// Format byte of a record's canonical bytes.
pub(crate) const RECORD_FORMAT: u8 = 1;
/// Format byte of a packed chunk value.
pub(crate) const CHUNK_FORMAT: u8 = 1;
/// Format byte of the head value.
pub(crate) const HEAD_FORMAT: u8 = 1;
/// Format byte of the metadata value.
pub(crate) const META_FORMAT: u8 = 1;
/// The layout of keys and values this build writes and reads.
pub(crate) const LAYOUT_VERSION: u8 = 1;

/// Key prefix of packed chunks: `c` followed by the chunk's first position, big-endian, so
/// sled's key order is log order.
pub(crate) const CHUNK_PREFIX: u8 = b'c';
/// Key of the head value, rewritten by every group commit in the same batch as its chunks.
pub(crate) const HEAD_KEY: &[u8] = b"h";
/// Key of the metadata value, written once when the store is created.
pub(crate) const META_KEY: &[u8] = b"m";

/// The sled key of the chunk whose first record is at `first_position`.
pub(crate) fn chunk_key(first_position: u64) -> [u8; 9] {
    let mut key = [0; 9];
    key[0] = CHUNK_PREFIX;
    key[1..].copy_from_slice(&first_position.to_be_bytes());
    key
}

/// The first position named by a chunk key, if `key` is one.
pub(crate) fn chunk_key_position(key: &[u8]) -> Option<u64> {
    let (&prefix, rest) = key.split_first()?;
    let bytes: [u8; 8] = rest.try_into().ok()?;
    (prefix == CHUNK_PREFIX).then(|| u64::from_be_bytes(bytes))
}

/// `blake3(prev ‖ record_bytes)`: the link of one record in the chain.
pub fn record_hash(prev: &Hash, record_bytes: &[u8]) -> Hash {
    let mut hasher = blake3::Hasher::new();
    hasher.update(prev);
    hasher.update(record_bytes);
    *hasher.finalize().as_bytes()
}

/// A record's canonical bytes (see the module docs): what its hash covers after `prev_hash`.
/// `record.prev_hash` and `record.hash` are not part of them.
pub fn encode_record(record: &RecordedEvent) -> Vec<u8> {
    encode_fields(
        record.position,
        &record.stream,
        record.stream_version,
        record.recorded_at,
        &record.event,
    )
}

/// [`encode_record`] from the parts of a record, for the writer, which has no record yet.
pub(crate) fn encode_fields(
    position: Position,
    stream: &StreamId,
    stream_version: u64,
    recorded_at: jiff::Timestamp,
    event: &NewEvent,
) -> Vec<u8> {
    let body = RecordBodyRef {
        position: position.get(),
        event_id: *event.event_id.as_uuid().as_bytes(),
        stream: stream.as_str(),
        stream_version,
        event_type: &event.event_type,
        schema_version: event.schema_version,
        occurred_at_ns: event.occurred_at.as_nanosecond(),
        recorded_at_ns: recorded_at.as_nanosecond(),
        actor: event.actor.as_str(),
        correlation_id: event.correlation_id.map(|id| *id.as_uuid().as_bytes()),
        causation_id: event.causation_id.map(|id| *id.as_uuid().as_bytes()),
        origin: event.origin.as_deref(),
        payload: &event.payload,
    };
    // Encoding plain fields into a Vec cannot fail: bincode only fails on a failing writer or on
    // serde features these types do not use.
    codec::encode_versioned(RECORD_FORMAT, &body).expect("a record's fields always encode")
}

/// The hash `record` should carry given its `prev_hash`.
pub fn recompute_hash(record: &RecordedEvent) -> Hash {
    record_hash(&record.prev_hash, &encode_record(record))
}

/// Decodes canonical record bytes back into a record, checking every identifier and instant.
/// Arbitrary bytes give an error, never a panic.
pub(crate) fn decode_record(
    bytes: &[u8],
    prev_hash: Hash,
    hash: Hash,
) -> Result<RecordedEvent, String> {
    let body: RecordBody = codec::decode_versioned(RECORD_FORMAT, bytes)
        .map_err(|error| format!("record bytes do not decode: {error}"))?;
    let timestamp = |nanoseconds: i128, what: &str| {
        jiff::Timestamp::from_nanosecond(nanoseconds)
            .map_err(|error| format!("{what} is not an instant: {error}"))
    };
    let stream = StreamId::parse("stream", &body.stream)
        .map_err(|error| format!("bad stream id: {error}"))?;
    let actor =
        StaffId::parse("actor", &body.actor).map_err(|error| format!("bad actor: {error}"))?;
    Ok(RecordedEvent {
        position: Position(body.position),
        stream,
        stream_version: body.stream_version,
        recorded_at: timestamp(body.recorded_at_ns, "recorded_at")?,
        prev_hash,
        hash,
        event: NewEvent {
            event_id: EventId::from_uuid(Uuid::from_bytes(body.event_id)),
            event_type: body.event_type,
            schema_version: body.schema_version,
            occurred_at: timestamp(body.occurred_at_ns, "occurred_at")?,
            actor,
            correlation_id: body
                .correlation_id
                .map(|bytes| CorrelationId::from_uuid(Uuid::from_bytes(bytes))),
            causation_id: body
                .causation_id
                .map(|bytes| CorrelationId::from_uuid(Uuid::from_bytes(bytes))),
            origin: body.origin,
            payload: body.payload,
        },
    })
}

/// The borrowed, encoding side of a record's body. Field order is the format: it must match
/// [`RecordBody`] exactly (a test re-encodes decoded bodies to check).
#[derive(Serialize)]
struct RecordBodyRef<'a> {
    position: u64,
    event_id: [u8; 16],
    stream: &'a str,
    stream_version: u64,
    event_type: &'a str,
    schema_version: u16,
    occurred_at_ns: i128,
    recorded_at_ns: i128,
    actor: &'a str,
    correlation_id: Option<[u8; 16]>,
    causation_id: Option<[u8; 16]>,
    origin: Option<&'a str>,
    #[serde(with = "bytes_field")]
    payload: &'a [u8],
}

/// The owned, decoding side of a record's body.
#[derive(Deserialize)]
struct RecordBody {
    position: u64,
    event_id: [u8; 16],
    stream: String,
    stream_version: u64,
    event_type: String,
    schema_version: u16,
    occurred_at_ns: i128,
    recorded_at_ns: i128,
    actor: String,
    correlation_id: Option<[u8; 16]>,
    causation_id: Option<[u8; 16]>,
    origin: Option<String>,
    #[serde(with = "bytes_field")]
    payload: Vec<u8>,
}

/// One record inside a chunk: its canonical bytes (kept as written, so verification hashes
/// exactly what is stored) and its hash.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct StoredRecord {
    #[serde(with = "bytes_field")]
    pub bytes: Vec<u8>,
    pub hash: Hash,
}

/// A packed value: consecutive records, and the hash of the record before the first of them so
/// that any record in the chunk can be served with its `prev_hash`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Chunk {
    pub prev_hash: Hash,
    pub records: Vec<StoredRecord>,
}

impl Chunk {
    pub fn encode(&self) -> Vec<u8> {
        codec::encode_versioned(CHUNK_FORMAT, self).expect("a chunk always encodes")
    }

    pub fn decode(bytes: &[u8]) -> Result<Self, CodecError> {
        codec::decode_versioned(CHUNK_FORMAT, bytes)
    }

    /// The previous hash of the record at `index`.
    pub fn prev_hash_of(&self, index: usize) -> Hash {
        match index.checked_sub(1) {
            Some(before) => self.records[before].hash,
            None => self.prev_hash,
        }
    }
}

/// The head value: the last position and its hash, written in every group's batch so that
/// opening the store can check that the last chunk read is the last chunk written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct HeadValue {
    pub position: u64,
    pub hash: Hash,
}

impl HeadValue {
    pub fn of(head: &Head) -> Self {
        Self {
            position: head.position.get(),
            hash: head.hash,
        }
    }

    pub fn encode(&self) -> Vec<u8> {
        codec::encode_versioned(HEAD_FORMAT, self).expect("a head always encodes")
    }

    pub fn decode(bytes: &[u8]) -> Result<Self, CodecError> {
        codec::decode_versioned(HEAD_FORMAT, bytes)
    }
}

/// The metadata value: which layout the store was written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct MetaValue {
    pub layout: u8,
}

impl MetaValue {
    pub fn encode(&self) -> Vec<u8> {
        codec::encode_versioned(META_FORMAT, self).expect("metadata always encodes")
    }

    pub fn decode(bytes: &[u8]) -> Result<Self, CodecError> {
        codec::decode_versioned(META_FORMAT, bytes)
    }
}

/// Serialises byte strings as one length-prefixed run instead of one element per byte.
mod bytes_field {
    use std::fmt;

    use serde::de::{SeqAccess, Visitor};
    use serde::{Deserializer, Serializer};

    pub fn serialize<S: Serializer>(
        bytes: &impl AsRef<[u8]>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.serialize_bytes(bytes.as_ref())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<u8>, D::Error> {
        deserializer.deserialize_byte_buf(ByteBufVisitor)
    }

    struct ByteBufVisitor;

    impl<'de> Visitor<'de> for ByteBufVisitor {
        type Value = Vec<u8>;

        fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
            formatter.write_str("a byte string")
        }

        fn visit_bytes<E: serde::de::Error>(self, bytes: &[u8]) -> Result<Vec<u8>, E> {
            Ok(bytes.to_vec())
        }

        fn visit_byte_buf<E: serde::de::Error>(self, bytes: Vec<u8>) -> Result<Vec<u8>, E> {
            Ok(bytes)
        }

        fn visit_seq<A: SeqAccess<'de>>(self, mut sequence: A) -> Result<Vec<u8>, A::Error> {
            let mut bytes = Vec::new();
            while let Some(byte) = sequence.next_element()? {
                bytes.push(byte);
            }
            Ok(bytes)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> RecordedEvent {
        RecordedEvent {
            position: Position(42),
            stream: StreamId::parse("stream", "customer-0190a5e2-8c3b-7d4e-9f00-1234567890ab")
                .unwrap(),
            stream_version: 3,
            recorded_at: jiff::Timestamp::from_nanosecond(1_700_000_000_123_456_789).unwrap(),
            prev_hash: [7; 32],
            hash: [0; 32],
            event: NewEvent {
                event_id: EventId::new_v7(),
                event_type: "ContactRecorded".into(),
                schema_version: 2,
                occurred_at: jiff::Timestamp::from_nanosecond(-5).unwrap(),
                actor: StaffId::parse("actor", "agent-0042").unwrap(),
                correlation_id: Some(CorrelationId::new_v7()),
                causation_id: None,
                origin: Some("telephony".into()),
                payload: vec![0, 1, 2, 255, 254],
            },
        }
    }

    #[test]
    fn records_round_trip_and_re_encode_identically() {
        let mut record = sample();
        record.hash = recompute_hash(&record);
        let bytes = encode_record(&record);
        assert_eq!(bytes[0], RECORD_FORMAT);
        let decoded = decode_record(&bytes, record.prev_hash, record.hash).unwrap();
        assert_eq!(decoded, record);
        assert_eq!(encode_record(&decoded), bytes);
        assert_eq!(record_hash(&record.prev_hash, &bytes), record.hash);
    }

    #[test]
    fn the_hash_covers_every_field_and_the_previous_hash() {
        let record = sample();
        let base = recompute_hash(&record);
        let mut other = record.clone();
        other.prev_hash[0] ^= 1;
        assert_ne!(recompute_hash(&other), base);
        let mut other = record.clone();
        other.recorded_at = other
            .recorded_at
            .checked_add(jiff::SignedDuration::from_nanos(1))
            .unwrap();
        assert_ne!(recompute_hash(&other), base);
        let mut other = record.clone();
        other.event.payload.push(0);
        assert_ne!(recompute_hash(&other), base);
        let mut other = record;
        other.event.causation_id = Some(CorrelationId::new_v7());
        assert_ne!(recompute_hash(&other), base);
    }

    #[test]
    fn arbitrary_bytes_never_panic() {
        let bytes = encode_record(&sample());
        for cut in 0..bytes.len() {
            assert!(decode_record(&bytes[..cut], [0; 32], [0; 32]).is_err());
        }
        for index in 0..bytes.len() {
            let mut flipped = bytes.clone();
            flipped[index] ^= 0xff;
            let _ = decode_record(&flipped, [0; 32], [0; 32]);
            let _ = Chunk::decode(&flipped);
        }
    }

    #[test]
    fn chunk_keys_sort_in_log_order() {
        assert!(chunk_key(255) < chunk_key(256));
        assert_eq!(chunk_key_position(&chunk_key(1 << 40)), Some(1 << 40));
        assert_eq!(chunk_key_position(HEAD_KEY), None);
        assert_eq!(chunk_key_position(META_KEY), None);
    }
}
