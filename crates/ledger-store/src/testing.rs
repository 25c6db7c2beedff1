//! Test-only tampering: alters a stored record of a CLOSED store directly through sled, so tests
//! can check that opening and `verify_dir` name the altered position. Not part of the API.

use std::path::Path;

use ledger_domain::ids::Position;

use crate::types::{NewEvent, RecordedEvent};

use crate::limits::CACHE_BYTES_DEFAULT;
use crate::record::{
    CHUNK_FORMAT_PLAIN, CHUNK_PREFIX, Chunk, SETTLE_KEY, chunk_key, chunk_key_position, record_hash,
};
use crate::sled_log::open_sled;

/// A `ContactRecorded` event with a fresh id, a fixed business time and actor, from telephony,
/// carrying `payload`: what the store's tests append.
pub fn contact_event(payload: Vec<u8>) -> NewEvent {
    NewEvent {
        event_id: ledger_domain::ids::EventId::new_v7(),
        event_type: "ContactRecorded".into(),
        schema_version: 1,
        occurred_at: jiff::Timestamp::from_second(1_700_000_000).expect("an instant"),
        actor: ledger_domain::ids::StaffId::parse("actor", "agent-0042").expect("a staff id"),
        correlation_id: None,
        causation_id: None,
        origin: Some("telephony".into()),
        payload,
    }
}

/// How to alter the record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tamper {
    /// Flip the bits of one byte, `offset_from_end` bytes before the end of the record's bytes
    /// (the payload is last, so small offsets land in it), leaving the stored hash as it was.
    FlipByte { offset_from_end: usize },
    /// Flip the same byte and store the hash recomputed for it: the next record's link (or the
    /// head value, for the last record) no longer matches.
    FlipByteAndRehash { offset_from_end: usize },
}

/// Alters the record at `position` in the closed store at `dir` (the data directory, as given
/// to `SledEventLog::open`).
pub fn tamper(dir: &Path, position: Position, how: Tamper) -> Result<(), String> {
    let (db, tree, _) = open_sled(dir, CACHE_BYTES_DEFAULT).map_err(|error| error.to_string())?;
    let first = chunk_holding(&tree, position)?;
    let key = chunk_key(first);
    let value = tree
        .get(key)
        .map_err(|error| error.to_string())?
        .ok_or("the chunk vanished")?;
    let mut chunk = Chunk::decode(&value).map_err(|error| error.to_string())?;
    let index = usize::try_from(position.get() - first).map_err(|error| error.to_string())?;
    if index >= chunk.records.len() {
        return Err(format!("no record at position {position}"));
    }
    let prev_hash = chunk.prev_hash_of(index);
    let record = &mut chunk.records[index];
    let offset_from_end = match how {
        Tamper::FlipByte { offset_from_end } | Tamper::FlipByteAndRehash { offset_from_end } => {
            offset_from_end
        }
    };
    let byte = record
        .bytes
        .len()
        .checked_sub(offset_from_end.saturating_add(1))
        .ok_or("the offset is beyond the record's bytes")?;
    record.bytes[byte] ^= 0xff;
    if matches!(how, Tamper::FlipByteAndRehash { .. }) {
        record.hash = record_hash(&prev_hash, &record.bytes);
    }
    tree.insert(key, chunk.encode())
        .map_err(|error| error.to_string())?;
    db.flush().map_err(|error| error.to_string())?;
    Ok(())
}

/// The first position of the chunk that holds `position`.
fn chunk_holding(tree: &sled::Tree, position: Position) -> Result<u64, String> {
    let mut holder = None;
    for entry in tree.scan_prefix([CHUNK_PREFIX]) {
        let (key, _) = entry.map_err(|error| error.to_string())?;
        match chunk_key_position(&key) {
            Some(first) if first <= position.get() => holder = Some(first),
            _ => break,
        }
    }
    holder.ok_or_else(|| format!("no chunk holds position {position}"))
}

/// Flips the bits of one byte of the stored value of the chunk that holds `position` in the
/// closed store at `dir`, `offset_from_end` bytes before its end (inside the compressed frame
/// of a format-2 chunk), without decoding it. Returns the chunk's first position and its
/// format byte.
pub fn flip_stored_chunk_byte(
    dir: &Path,
    position: Position,
    offset_from_end: usize,
) -> Result<(Position, u8), String> {
    let (db, tree, _) = open_sled(dir, CACHE_BYTES_DEFAULT).map_err(|error| error.to_string())?;
    let first = chunk_holding(&tree, position)?;
    let key = chunk_key(first);
    let mut value = tree
        .get(key)
        .map_err(|error| error.to_string())?
        .ok_or("the chunk vanished")?
        .to_vec();
    let byte = value
        .len()
        .checked_sub(offset_from_end.saturating_add(1))
        .filter(|&byte| byte > 0)
        .ok_or("the offset is beyond the chunk's frame")?;
    value[byte] ^= 0xff;
    tree.insert(key, value.as_slice())
        .map_err(|error| error.to_string())?;
    db.flush().map_err(|error| error.to_string())?;
    Ok((Position(first), value[0]))
}

/// The format byte of every chunk of the closed store at `dir`, in log order.
pub fn chunk_formats(dir: &Path) -> Result<Vec<u8>, String> {
    let (_db, tree, _) = open_sled(dir, CACHE_BYTES_DEFAULT).map_err(|error| error.to_string())?;
    tree.scan_prefix([CHUNK_PREFIX])
        .map(|entry| {
            let (_, value) = entry.map_err(|error| error.to_string())?;
            value
                .first()
                .copied()
                .ok_or_else(|| "an empty chunk value".to_owned())
        })
        .collect()
}

/// Rewrites every chunk of the closed store at `dir` as builds before chunk compression wrote
/// it (`CHUNK_FORMAT_PLAIN`: the format byte, then the chunk's codec bytes), so tests can check
/// that such a store still opens. Returns how many chunks it rewrote.
pub fn rewrite_chunks_uncompressed(dir: &Path) -> Result<usize, String> {
    let (db, tree, _) = open_sled(dir, CACHE_BYTES_DEFAULT).map_err(|error| error.to_string())?;
    let mut rewritten = 0;
    for entry in tree.scan_prefix([CHUNK_PREFIX]) {
        let (key, value) = entry.map_err(|error| error.to_string())?;
        let chunk = Chunk::decode(&value).map_err(|error| error.to_string())?;
        let plain = ledger_domain::codec::encode_versioned(CHUNK_FORMAT_PLAIN, &chunk)
            .map_err(|error| error.to_string())?;
        tree.insert(key, plain).map_err(|error| error.to_string())?;
        rewritten += 1;
    }
    db.flush().map_err(|error| error.to_string())?;
    Ok(rewritten)
}

/// The keys of the log tree of the closed store at `dir` that are not chunks, in key order.
pub fn log_keys_beside_chunks(dir: &Path) -> Result<Vec<Vec<u8>>, String> {
    let (_db, tree, _) = open_sled(dir, CACHE_BYTES_DEFAULT).map_err(|error| error.to_string())?;
    tree.iter()
        .keys()
        .filter(|key| {
            key.as_ref()
                .map_or(true, |key| key.first() != Some(&CHUNK_PREFIX))
        })
        .map(|key| {
            key.map(|key| key.to_vec())
                .map_err(|error| error.to_string())
        })
        .collect()
}

/// Leaves the key an open writes and removes again (`SETTLE_KEY`) in the closed store at
/// `dir`, as a crash between the two would.
pub fn leave_settle_key(dir: &Path) -> Result<(), String> {
    let (db, tree, _) = open_sled(dir, CACHE_BYTES_DEFAULT).map_err(|error| error.to_string())?;
    tree.insert(SETTLE_KEY, &[])
        .map_err(|error| error.to_string())?;
    db.flush().map_err(|error| error.to_string())?;
    Ok(())
}

/// Decodes `bytes` as each stored value (a chunk and every record in it, a head, metadata) and
/// returns how many records the chunk held, or why none of them decode. The fuzz targets feed
/// it arbitrary bytes: it must return an error, never panic or allocate without bound.
pub fn decode_stored_value(bytes: &[u8]) -> Result<usize, String> {
    let head = crate::record::HeadValue::decode(bytes).map(|_| 0);
    let meta = crate::record::MetaValue::decode(bytes).map(|_| 0);
    let chunk = Chunk::decode(bytes).map_err(|error| error.to_string());
    match chunk {
        Ok(chunk) => {
            for (index, stored) in chunk.records.iter().enumerate() {
                crate::record::decode_record(
                    &stored.bytes,
                    chunk.prev_hash_of(index),
                    stored.hash,
                )?;
            }
            Ok(chunk.records.len())
        }
        Err(error) => head.or(meta).map_err(|_| error),
    }
}

/// Stored values as the store writes them — a chunk of `records` (with their hashes chained
/// from `GENESIS_HASH`), the head after them, and the metadata — for the fuzz corpus.
pub fn encode_stored_values(records: &[RecordedEvent]) -> Vec<Vec<u8>> {
    let mut prev_hash = crate::types::GENESIS_HASH;
    let mut stored = Vec::new();
    for record in records {
        let bytes = crate::record::encode_record(record);
        let hash = record_hash(&prev_hash, &bytes);
        stored.push(crate::record::StoredRecord { bytes, hash });
        prev_hash = hash;
    }
    let chunk = Chunk {
        prev_hash: crate::types::GENESIS_HASH,
        records: stored,
    };
    let head = crate::record::HeadValue {
        position: u64::try_from(records.len()).unwrap_or(u64::MAX),
        hash: prev_hash,
    };
    let meta = crate::record::MetaValue {
        layout: crate::record::LAYOUT_VERSION,
    };
    vec![chunk.encode(), head.encode(), meta.encode()]
}

/// The store's stream index on its own, for `examples/stream_index_rss.rs` to fill and measure
/// (memory and the writer's lookups) without writing a log. Not part of the API.
#[derive(Debug, Default)]
pub struct StreamIndexProbe(crate::sled_log::streams::StreamIndex);

impl StreamIndexProbe {
    /// An empty index with room reserved for a log of `events`, as an open's walk makes it.
    pub fn for_events(events: u64) -> Self {
        Self(crate::sled_log::streams::StreamIndex::for_events(events))
    }

    /// Appends `positions` (increasing, after the stream's last) to `stream`; returns its
    /// version before.
    pub fn extend(
        &mut self,
        stream: &ledger_domain::ids::StreamId,
        positions: &[u64],
    ) -> Result<u64, String> {
        self.0.extend(stream, positions)
    }

    /// The stream's version (0 for a stream never written).
    pub fn version(&self, stream: &ledger_domain::ids::StreamId) -> u64 {
        self.0.version(stream)
    }

    /// Up to `max` of the stream's positions from version `from_version`, as `read_stream` takes them.
    pub fn positions(
        &self,
        stream: &ledger_domain::ids::StreamId,
        from_version: u64,
        max: usize,
    ) -> Vec<u64> {
        let skip = usize::try_from(from_version.saturating_sub(1)).unwrap_or(usize::MAX);
        self.0.positions(stream).skip(skip).take(max).collect()
    }

    /// Streams held.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether no stream is held.
    pub fn is_empty(&self) -> bool {
        self.0.len() == 0
    }

    /// Drops the garbage and spare room, as an open does after its walk.
    pub fn shrink_to_fit(&mut self) {
        self.0.shrink_to_fit();
    }

    /// The index's own estimate of its heap bytes.
    pub fn memory_bytes(&self) -> usize {
        self.0.memory_bytes()
    }
}

/// Replaces the active generation of projection `name` with one holding `entries` and `meta`
/// in the layout generations had before blocks: one sled key per entry.
pub fn store_unpacked_generation(
    store: &crate::ProjectionStore,
    name: &str,
    entries: &crate::Writes,
    meta: crate::SpaceMeta,
) -> Result<(), crate::StoreFailure> {
    let space = store.fresh(name)?.unpacked();
    space.commit(entries, meta)?;
    store.activate(&space)
}

/// The projection keyspaces of the log's own database in the CLOSED store at `dir`, where data
/// directories kept their read models before [`crate::READ_MODELS_DIR_NAME`]: a test that has
/// removed `read-models` writes a generation there to stand for such a directory, or checks
/// that nothing was written there.
pub fn log_database_projections(dir: &Path) -> Result<crate::ProjectionStore, String> {
    let (db, _, _) = open_sled(dir, CACHE_BYTES_DEFAULT).map_err(|error| error.to_string())?;
    Ok(crate::ProjectionStore::new(db))
}
