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

use crate::limits::{CHUNK_DECODED_BYTES_MAX, CHUNK_ZSTD_LEVEL};
use crate::types::{Hash, Head, NewEvent, RecordedEvent};

/// Format byte of a record's canonical bytes.
pub(crate) const RECORD_FORMAT: u8 = 1;
/// Format byte of a packed chunk value as stores before chunk compression wrote it: the codec
/// bytes of the chunk as they are. Still read, so those stores open.
pub(crate) const CHUNK_FORMAT_PLAIN: u8 = 1;
/// Format byte of a compressed chunk value: one zstd frame (with its content size and a content
/// checksum) of the codec bytes of the chunk. What this build writes.
pub(crate) const CHUNK_FORMAT_ZSTD: u8 = 2;
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
/// Key written and removed again by every open (`sled_log::verify::settle`), so absent at
/// rest; one left by a crash in between is removed by the next open.
pub(crate) const SETTLE_KEY: &[u8] = b"s";
/// Key written (empty) the first time an open has written the head mark beside the store
/// (`sled_log/head_mark.rs`): from then on, a missing mark file is refused, not taken for a
/// store that never had one.
pub(crate) const MARK_KEPT_KEY: &[u8] = b"k";

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
    /// The stored value: `CHUNK_FORMAT_ZSTD`, then the zstd frame of the chunk's codec bytes.
    pub fn encode(&self) -> Vec<u8> {
        let plain = codec::encode(self).expect("a chunk always encodes");
        // The frame goes straight after the format byte, into room for the worst case.
        let mut value = vec![0; zstd::zstd_safe::compress_bound(plain.len()).saturating_add(1)];
        value[0] = CHUNK_FORMAT_ZSTD;
        let written = COMPRESSOR
            .with_borrow_mut(|compressor| compressor.compress_to_buffer(&plain, &mut value[1..]));
        // With `compress_bound` bytes of room, compressing only fails if zstd cannot allocate,
        // an out-of-memory condition like any other allocation's.
        let written = written.expect("zstd compresses a chunk into its bound");
        value.truncate(written.saturating_add(1));
        value
    }

    /// Decodes a stored value of either chunk format. Damaged bytes give an error, never a
    /// panic, and a frame never makes it allocate more than `CHUNK_DECODED_BYTES_MAX`.
    pub fn decode(bytes: &[u8]) -> Result<Self, ChunkError> {
        match bytes.first() {
            None => Err(ChunkError::Codec(CodecError::Empty)),
            Some(&CHUNK_FORMAT_PLAIN) => Ok(codec::decode_versioned(CHUNK_FORMAT_PLAIN, bytes)?),
            Some(&CHUNK_FORMAT_ZSTD) => {
                let plain = decompress(&bytes[1..])?;
                Ok(codec::decode(&plain)?)
            }
            Some(&found) => Err(ChunkError::UnknownFormat { found }),
        }
    }

    /// The previous hash of the record at `index`.
    pub fn prev_hash_of(&self, index: usize) -> Hash {
        match index.checked_sub(1) {
            Some(before) => self.records[before].hash,
            None => self.prev_hash,
        }
    }
}

/// Why a stored chunk value does not decode.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum ChunkError {
    #[error(
        "unknown chunk format byte {found:#04x} (this build reads {CHUNK_FORMAT_PLAIN:#04x} and {CHUNK_FORMAT_ZSTD:#04x})"
    )]
    UnknownFormat { found: u8 },
    #[error("the compressed chunk is damaged: {0}")]
    Compressed(String),
    #[error(
        "the compressed chunk says it holds {found} bytes, more than CHUNK_DECODED_BYTES_MAX = {CHUNK_DECODED_BYTES_MAX}"
    )]
    TooLarge { found: u64 },
    #[error(transparent)]
    Codec(#[from] CodecError),
}

thread_local! {
    /// Each thread's zstd contexts, kept so that a chunk does not pay for setting one up
    /// (a compression context is hundreds of KiB).
    static COMPRESSOR: std::cell::RefCell<zstd::bulk::Compressor<'static>> =
        std::cell::RefCell::new(new_compressor());
    static DECOMPRESSOR: std::cell::RefCell<zstd::bulk::Decompressor<'static>> =
        std::cell::RefCell::new(
            zstd::bulk::Decompressor::new().expect("zstd allocates a decompression context"),
        );
}

/// A compressor at `CHUNK_ZSTD_LEVEL` that writes the content size (so decoding allocates
/// exactly once) and a content checksum (so a damaged frame is named as such).
fn new_compressor() -> zstd::bulk::Compressor<'static> {
    let mut compressor = zstd::bulk::Compressor::new(CHUNK_ZSTD_LEVEL)
        .expect("zstd allocates a compression context");
    compressor
        .set_parameter(zstd::zstd_safe::CParameter::ChecksumFlag(true))
        .and_then(|()| compressor.set_parameter(zstd::zstd_safe::CParameter::ContentSizeFlag(true)))
        .expect("zstd takes the checksum and content-size flags");
    compressor
}

/// Decompresses one chunk frame, refusing a declared size above `CHUNK_DECODED_BYTES_MAX`
/// before allocating anything.
fn decompress(frame: &[u8]) -> Result<Vec<u8>, ChunkError> {
    let size = zstd::zstd_safe::get_frame_content_size(frame)
        .map_err(|error| ChunkError::Compressed(error.to_string()))?
        .ok_or_else(|| ChunkError::Compressed("the frame does not say its size".into()))?;
    let size_bytes = usize::try_from(size)
        .ok()
        .filter(|&bytes| bytes <= CHUNK_DECODED_BYTES_MAX)
        .ok_or(ChunkError::TooLarge { found: size })?;
    let mut plain = Vec::with_capacity(size_bytes);
    let written = DECOMPRESSOR
        .with_borrow_mut(|decompressor| decompressor.decompress_to_buffer(frame, &mut plain))
        .map_err(|error| ChunkError::Compressed(error.to_string()))?;
    if written != size_bytes {
        return Err(ChunkError::Compressed(format!(
            "the frame says {size_bytes} bytes but holds {written}"
        )));
    }
    Ok(plain)
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

    /// Packs records as the writer does (a chunk closes once the next record would pass
    /// `CHUNK_BYTES_TARGET`) and returns the first chunk.
    fn packed(records: &[RecordedEvent]) -> Chunk {
        let mut chunk = Chunk {
            prev_hash: [3; 32],
            records: Vec::new(),
        };
        let mut bytes = 0_usize;
        for record in records {
            let stored = StoredRecord {
                bytes: encode_record(record),
                hash: [9; 32],
            };
            let size = stored.bytes.len() + stored.hash.len();
            if !chunk.records.is_empty() && bytes + size > crate::limits::CHUNK_BYTES_TARGET {
                break;
            }
            bytes += size;
            chunk.records.push(stored);
        }
        chunk
    }

    #[test]
    fn the_largest_chunks_the_writer_makes_decode_within_the_limit() {
        use crate::limits::{
            CHUNK_BYTES_TARGET, CHUNK_DECODED_BYTES_MAX, EVENT_TYPE_BYTES_MAX, ORIGIN_BYTES_MAX,
            PAYLOAD_BYTES_MAX,
        };
        // The most records: the smallest record there is, repeated.
        let mut smallest = sample();
        smallest.event.payload.clear();
        smallest.event.origin = None;
        smallest.event.correlation_id = None;
        smallest.event.event_type = "A".into();
        smallest.stream = StreamId::parse("stream", "a-1").unwrap();
        smallest.event.actor = StaffId::parse("actor", "a").unwrap();
        let many = packed(&vec![smallest; CHUNK_BYTES_TARGET]);
        // One record with every field at its limit.
        let mut largest = sample();
        largest.event.payload = vec![0xa5; PAYLOAD_BYTES_MAX];
        largest.event.event_type = "E".repeat(EVENT_TYPE_BYTES_MAX);
        largest.event.origin = Some("o".repeat(ORIGIN_BYTES_MAX));
        largest.event.causation_id = Some(CorrelationId::new_v7());
        largest.stream = StreamId::parse(
            "stream",
            &format!(
                "a-{}",
                "1".repeat(ledger_domain::ids::STREAM_ID_BYTES_MAX - 2)
            ),
        )
        .unwrap();
        largest.event.actor =
            StaffId::parse("actor", &"s".repeat(ledger_domain::ids::STAFF_ID_BYTES_MAX)).unwrap();
        let one = packed(&[largest]);
        for chunk in [many, one] {
            let plain = codec::encode(&chunk).unwrap();
            assert!(
                plain.len() <= CHUNK_DECODED_BYTES_MAX,
                "{} records: {} bytes",
                chunk.records.len(),
                plain.len()
            );
            let value = chunk.encode();
            assert_eq!(value[0], CHUNK_FORMAT_ZSTD);
            let decoded = Chunk::decode(&value).unwrap();
            assert_eq!(decoded.records.len(), chunk.records.len());
            assert_eq!(codec::encode(&decoded).unwrap(), plain);
        }
    }

    #[test]
    fn chunk_values_of_both_formats_decode_and_others_are_refused() {
        let chunk = packed(&[sample(), sample(), sample()]);
        let plain = codec::encode_versioned(CHUNK_FORMAT_PLAIN, &chunk).unwrap();
        let compressed = chunk.encode();
        for value in [&plain, &compressed] {
            let decoded = Chunk::decode(value).unwrap();
            assert_eq!(decoded.prev_hash, chunk.prev_hash);
            assert_eq!(decoded.records.len(), 3);
            assert_eq!(decoded.records[2].bytes, chunk.records[2].bytes);
        }
        let mut unknown = compressed.clone();
        unknown[0] = 7;
        let error = Chunk::decode(&unknown).unwrap_err();
        assert_eq!(error, ChunkError::UnknownFormat { found: 7 });
        assert!(error.to_string().contains("0x01 and 0x02"), "{error}");
        assert_eq!(
            Chunk::decode(&[]).unwrap_err(),
            ChunkError::Codec(CodecError::Empty)
        );
        // A frame that claims more than the limit is refused before anything is allocated.
        let mut huge = zstd::bulk::Compressor::new(1).unwrap();
        let frame = huge
            .compress(&vec![0; crate::limits::CHUNK_DECODED_BYTES_MAX + 1])
            .unwrap();
        let mut value = vec![CHUNK_FORMAT_ZSTD];
        value.extend_from_slice(&frame);
        assert!(matches!(
            Chunk::decode(&value),
            Err(ChunkError::TooLarge { .. })
        ));
        // Every cut and every flipped byte of a compressed chunk is an error or, where zstd's
        // checks cannot see it, decodes to bytes the hash chain then refuses; never a panic.
        for cut in 1..compressed.len() {
            assert!(Chunk::decode(&compressed[..cut]).is_err(), "cut at {cut}");
        }
        for index in 1..compressed.len() {
            let mut flipped = compressed.clone();
            flipped[index] ^= 0xff;
            if let Ok(decoded) = Chunk::decode(&flipped) {
                assert_ne!(
                    codec::encode(&decoded).unwrap(),
                    codec::encode(&chunk).unwrap(),
                    "flipping byte {index} went unseen"
                );
            }
        }
    }

    #[test]
    fn chunk_keys_sort_in_log_order() {
        assert!(chunk_key(255) < chunk_key(256));
        assert_eq!(chunk_key_position(&chunk_key(1 << 40)), Some(1 << 40));
        assert_eq!(chunk_key_position(HEAD_KEY), None);
        assert_eq!(chunk_key_position(META_KEY), None);
        assert_eq!(chunk_key_position(MARK_KEPT_KEY), None);
    }
}
