//! The stream index: each stream's positions by version, exact and compact (~45 bytes a stream
//! and ~2.5 bytes an event at the bench's 10 M events, against ~150 bytes a stream and 8 to 16
//! an event for a `HashMap<StreamId, Vec<u64>>`).
//!
//! Every stream is one *blob* in one byte arena:
//!
//! ```text
//! [key length: u8][key][class: u8][count: u32 LE][last position: 40 bits LE]
//! [count − 1 deltas between consecutive positions, LEB128][zero bytes to the class's end]
//! ```
//!
//! A hash table of `u32` slots (hashbrown's `HashTable`, hashing and comparing against the arena)
//! holds where each blob starts, in units of [`BLOB_ALIGN_BYTES`]. The key is the stream id in a
//! reversible-in-principle, injective encoding, so two streams never share a key and a lookup
//! compares whole keys, never hashes alone:
//! - the category (the part before the first `-`) as a code into the index's table of
//!   categories (up to [`CATEGORIES_MAX`]; once full, further categories are spelled inline);
//! - the rest as 16 bytes when it is a canonical lower-case UUID (`customer-…`, `case-…`), or
//!   6 bits a character otherwise (stream ids hold only `-`, digits and ASCII letters: 63
//!   symbols, so 0 pads);
//! - the first byte tells the forms apart: the code, with the top bit set for the UUID form;
//!   `INLINE_CODE` for an id spelled whole in 6 bits, `RAW_CODE` for its raw bytes (a
//!   character outside the 63, which `StreamId` does not allow, would take that form).
//!
//! A blob occupies a *class* of bytes ([`class_bytes`]: multiples of 8 up to 128, then steps of
//! an eighth), so most appends write in place; one that outgrows its class moves the blob to
//! the arena's end and leaves the old bytes as garbage. When garbage passes a quarter of the
//! live bytes (and `COMPACT_GARBAGE_BYTES_MIN`), the live blobs slide down in place, under the
//! indexes' write lock. Measured at the bench's 10 M events (`examples/stream_index_rss.rs`):
//! one compaction in a million appends to random streams, of 133–146 ms.
//!
//! No delta byte is ever 0 (LEB128 continuation bytes have the top bit set, and a delta's
//! last byte holds its top bits, not 0, since positions grow), and a class's spare bytes are
//! kept 0: so a blob's end is found by a binary search over its class, without decoding.
//!
//! Costs: `version` is a lookup and a read, O(1); an append is a lookup, a binary search for
//! the end and a write, O(log n) (plus a move of the blob when it outgrows its class,
//! amortised O(1) an event). Reading decodes the deltas: once to find the first position
//! from the last, once forward, so `positions` is O(n) before its first item, the position at
//! a version and the version of a position O(n). A stream with one event keeps no delta.

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::mem::size_of;

use hashbrown::HashTable;
use ledger_domain::ids::{STREAM_ID_BYTES_MAX, StreamId};

use crate::varint;

/// Blobs start at multiples of this many bytes, and the table counts in these units.
const BLOB_ALIGN_BYTES: usize = 8;

/// The most bytes the arena may hold: the table's `u32` slots count 2^32 units of
/// [`BLOB_ALIGN_BYTES`]. A group that could pass it is refused ([`StreamIndex::check_room`]).
pub const STREAM_INDEX_BYTES_MAX: u64 = 1 << 35;

/// The most events one stream may hold: a blob keeps its count in a `u32`.
pub const STREAM_EVENTS_MAX: u64 = (1 << 32) - 1;

/// Categories given a one-byte code; an index that meets more spells the others inline.
/// Codes use 7 bits, and the last two values are the inline and raw forms.
const CATEGORIES_MAX: usize = 126;

/// The first key byte of an id spelled whole in 6-bit symbols.
const INLINE_CODE: u8 = 126;

/// The first key byte of an id kept as its raw bytes.
const RAW_CODE: u8 = 127;

/// The top bit of the first key byte: the rest of the key is a UUID's 16 bytes.
const UUID_FORM: u8 = 0x80;

/// The longest key: a code and the id's raw bytes.
const KEY_BYTES_MAX: usize = 1 + STREAM_ID_BYTES_MAX;

/// A blob's class, count and last position, after its key.
const HEADER_BYTES: usize = 1 + 4 + 5;

/// The largest position a blob can hold (40 bits, as the event id index).
const BLOB_POSITION_MAX: u64 = (1 << 40) - 1;

/// The most bytes one delta takes (LEB128 of a 40-bit value).
const DELTA_BYTES_MAX: usize = 6;

/// The arena bytes an index reserves up front per event of the log it is rebuilt from: about
/// what the bench's 10 M ledger uses (~7), so the open's walk grows it without copies. Only
/// what is written becomes resident, and the walk's end gives the rest back.
const RESERVE_BYTES_PER_EVENT: u64 = 8;

/// The most an index reserves up front, whatever size the log claims.
const RESERVE_BYTES_MAX: u64 = 1 << 30;

/// Compaction waits for at least this much garbage, so small indexes never compact.
const COMPACT_GARBAGE_BYTES_MIN: usize = 1 << 20;

/// Stream → positions by version. See the module docs for the layout.
#[derive(Debug)]
pub(crate) struct StreamIndex {
    hasher: RandomState,
    /// Where each stream's blob starts, in units of [`BLOB_ALIGN_BYTES`].
    table: HashTable<u32>,
    arena: Vec<u8>,
    /// Category → code (its index here).
    categories: Vec<Box<str>>,
    /// The class bytes of every live blob; the rest of the arena is garbage.
    live_bytes: usize,
    /// Counts the moves of blobs (a blob outgrowing its class, a compaction): a
    /// [`VersionCursors`] place is only good while this is unchanged.
    moves: u64,
    /// The deltas being appended, kept between calls: a fresh vector per record was a
    /// malloc and a free per event of the open's walk (a fifth of its time went to malloc).
    scratch: Vec<u8>,
}

impl Default for StreamIndex {
    fn default() -> Self {
        Self {
            hasher: RandomState::new(),
            table: HashTable::new(),
            arena: Vec::new(),
            categories: Vec::new(),
            live_bytes: 0,
            moves: 0,
            scratch: Vec::new(),
        }
    }
}

/// A stream's key in the arena's encoding.
struct Key {
    bytes: [u8; KEY_BYTES_MAX],
    len: usize,
}

impl Key {
    fn as_slice(&self) -> &[u8] {
        &self.bytes[..self.len]
    }
}

/// Builds keys from `StreamId` text.
struct KeyWriter {
    key: Key,
}

impl KeyWriter {
    fn new(first: u8) -> Self {
        let mut bytes = [0; KEY_BYTES_MAX];
        bytes[0] = first;
        Self {
            key: Key { bytes, len: 1 },
        }
    }

    fn push(&mut self, byte: u8) {
        // Every form fits KEY_BYTES_MAX: 6 bits a character or 16 bytes are shorter than raw.
        self.key.bytes[self.key.len] = byte;
        self.key.len += 1;
    }

    /// `text` in 6-bit symbols, most significant first, the last byte padded with zero bits
    /// (no symbol is 0, so a shorter text never packs like a longer one). `None` when a
    /// character has no symbol.
    fn six_bits(mut self, text: &str) -> Option<Key> {
        let (mut buffer, mut bits) = (0_u32, 0_u32);
        for byte in text.bytes() {
            buffer = (buffer << 6) | u32::from(symbol(byte)?);
            bits += 6;
            if bits >= 8 {
                bits -= 8;
                self.push(low_byte(buffer >> bits));
            }
        }
        if bits > 0 {
            self.push(low_byte(buffer << (8 - bits)));
        }
        Some(self.key)
    }

    fn raw(mut self, text: &str) -> Key {
        text.bytes().for_each(|byte| self.push(byte));
        self.key
    }
}

/// The 6-bit symbol of a stream id character: `-` 1, digits 2–11, `A`–`Z` 12–37, `a`–`z`
/// 38–63.
fn symbol(byte: u8) -> Option<u8> {
    match byte {
        b'-' => Some(1),
        b'0'..=b'9' => Some(byte - b'0' + 2),
        b'A'..=b'Z' => Some(byte - b'A' + 12),
        b'a'..=b'z' => Some(byte - b'a' + 38),
        _ => None,
    }
}

fn low_byte(value: u32) -> u8 {
    value.to_le_bytes()[0]
}

/// The value of each lower-case hex digit; `NOT_HEX` for every other byte.
const HEX_VALUES: [u8; 256] = {
    let mut values = [NOT_HEX; 256];
    let mut digit = 0_u8;
    while digit < 16 {
        values[b"0123456789abcdef"[digit as usize] as usize] = digit;
        digit += 1;
    }
    values
};

const NOT_HEX: u8 = 0xff;

/// The 16 bytes of `text` if it is a UUID as `uuid` prints it: lower-case hex in 8-4-4-4-12.
/// Any other spelling (upper case, no hyphens) is another stream and keeps its 6-bit form.
fn canonical_uuid(text: &str) -> Option<[u8; 16]> {
    let text = text.as_bytes();
    if text.len() != 36 || [8, 13, 18, 23].iter().any(|&at| text[at] != b'-') {
        return None;
    }
    let mut bytes = [0_u8; 16];
    let mut digits = text
        .iter()
        .enumerate()
        .filter(|(at, _)| !matches!(at, 8 | 13 | 18 | 23))
        .map(|(_, &byte)| HEX_VALUES[usize::from(byte)]);
    for byte in &mut bytes {
        let (high, low) = (digits.next()?, digits.next()?);
        if high == NOT_HEX || low == NOT_HEX {
            return None;
        }
        *byte = (high << 4) | low;
    }
    Some(bytes)
}

/// The key of `text` whose category has `code` (`None`: spelled inline).
fn encode(text: &str, code: Option<u8>) -> Key {
    let Some(code) = code else {
        return KeyWriter::new(INLINE_CODE)
            .six_bits(text)
            .unwrap_or_else(|| KeyWriter::new(RAW_CODE).raw(text));
    };
    let rest = text.split_once('-').map_or("", |(_, rest)| rest);
    if let Some(uuid) = canonical_uuid(rest) {
        let mut writer = KeyWriter::new(code | UUID_FORM);
        uuid.iter().for_each(|&byte| writer.push(byte));
        return writer.key;
    }
    KeyWriter::new(code)
        .six_bits(rest)
        .unwrap_or_else(|| KeyWriter::new(RAW_CODE).raw(text))
}

/// The bytes a blob of `len` bytes occupies: multiples of 8 up to 128, then steps of an eighth
/// of the power of two below (at most 12.5% spare).
pub(crate) fn class_bytes(len: usize) -> usize {
    class_size(class_of(len))
}

/// The class (its number, as the blob stores it) that holds `len` bytes: 0–15 for 8 to 128
/// bytes, then 8 a doubling (a `u8` reaches past `STREAM_INDEX_BYTES_MAX`).
fn class_of(len: usize) -> u8 {
    let class = if len <= 128 {
        len.div_ceil(BLOB_ALIGN_BYTES).max(1) - 1
    } else {
        let doubling = (len - 1).ilog2();
        let step = 1_usize << (doubling - 3);
        let doublings = usize::try_from(doubling - 7).unwrap_or(usize::MAX);
        16 + doublings * 8 + (len.div_ceil(step) - 9)
    };
    u8::try_from(class).unwrap_or(u8::MAX)
}

/// The bytes of class `class`.
fn class_size(class: u8) -> usize {
    let class = usize::from(class);
    if class < 16 {
        (class + 1) * BLOB_ALIGN_BYTES
    } else {
        let (doublings, eighths) = ((class - 16) / 8, (class - 16) % 8);
        (eighths + 9) << (doublings + 4)
    }
}

fn start_of(unit: u32) -> usize {
    usize::try_from(unit).unwrap_or(usize::MAX) * BLOB_ALIGN_BYTES
}

/// The key stored in the blob at `unit`.
fn key_at(arena: &[u8], unit: u32) -> &[u8] {
    let start = start_of(unit);
    let len = usize::from(arena[start]);
    &arena[start + 1..start + 1 + len]
}

fn read_u32(bytes: &[u8], at: usize) -> u32 {
    let mut word = [0; 4];
    word.copy_from_slice(&bytes[at..at + 4]);
    u32::from_le_bytes(word)
}

fn read_u40(bytes: &[u8], at: usize) -> u64 {
    let mut word = [0; 8];
    word[..5].copy_from_slice(&bytes[at..at + 5]);
    u64::from_le_bytes(word)
}

/// A blob's parts, read from its start.
#[derive(Debug, Clone, Copy)]
struct Blob {
    start: usize,
    /// Where the class byte is (after the key).
    header: usize,
    class: u8,
    count: u32,
    last: u64,
}

impl Blob {
    fn at(arena: &[u8], unit: u32) -> Self {
        let start = start_of(unit);
        let header = start + 1 + usize::from(arena[start]);
        Self {
            start,
            header,
            class: arena[header],
            count: read_u32(arena, header + 1),
            last: read_u40(arena, header + 5),
        }
    }

    fn deltas_start(self) -> usize {
        self.header + HEADER_BYTES
    }

    /// Where the deltas end: the first 0 byte of the class's spare room.
    fn end(self, arena: &[u8]) -> usize {
        let room = &arena[self.deltas_start()..self.start + class_size(self.class)];
        self.deltas_start() + room.partition_point(|&byte| byte != 0)
    }

    fn positions(self, arena: &[u8]) -> Positions<'_> {
        let mut at = self.deltas_start();
        let mut span = 0_u64;
        for _ in 1..self.count {
            span = span.saturating_add(varint::read(arena, &mut at).unwrap_or(0));
        }
        Positions {
            arena,
            at: self.deltas_start(),
            next: self.last.saturating_sub(span),
            left: self.count,
        }
    }

    /// Writes the class, count and last position.
    fn write_header(arena: &mut [u8], header: usize, class: u8, count: u32, last: u64) {
        arena[header] = class;
        arena[header + 1..header + 5].copy_from_slice(&count.to_le_bytes());
        arena[header + 5..header + 10].copy_from_slice(&last.to_le_bytes()[..5]);
    }
}

/// Streams of at most this many events are read from version 1 by
/// [`StreamIndex::position_in_order`]; longer ones get a cursor.
const CURSOR_STREAM_EVENTS_MIN: u32 = 64;

/// Where a walk is in each long stream (see [`StreamIndex::position_in_order`]).
#[derive(Debug, Default)]
pub(crate) struct VersionCursors {
    /// The index's moves when the places were taken.
    moves: u64,
    /// Blob → the 0-based index of the position `next` and where its following delta is.
    places: HashMap<u32, Place>,
}

#[derive(Debug, Clone, Copy)]
struct Place {
    index: u32,
    at: usize,
    next: u64,
}

/// A stream's positions, lowest (version 1) first.
#[derive(Debug, Clone)]
pub(crate) struct Positions<'a> {
    arena: &'a [u8],
    at: usize,
    next: u64,
    left: u32,
}

impl Positions<'_> {
    fn empty() -> Self {
        Positions {
            arena: &[],
            at: 0,
            next: 0,
            left: 0,
        }
    }
}

impl Iterator for Positions<'_> {
    type Item = u64;

    fn next(&mut self) -> Option<u64> {
        self.left = self.left.checked_sub(1)?;
        let current = self.next;
        if self.left > 0 {
            let delta = varint::read(self.arena, &mut self.at).unwrap_or(0);
            self.next = current.saturating_add(delta);
        }
        Some(current)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = usize::try_from(self.left).unwrap_or(usize::MAX);
        (left, Some(left))
    }
}

impl ExactSizeIterator for Positions<'_> {}

impl StreamIndex {
    /// An empty index with arena room reserved for a log of `events` (see
    /// [`RESERVE_BYTES_PER_EVENT`]); a reservation the system refuses is left out.
    pub fn for_events(events: u64) -> Self {
        let mut index = Self::default();
        let bytes = events
            .saturating_mul(RESERVE_BYTES_PER_EVENT)
            .min(RESERVE_BYTES_MAX);
        // Without the room the arena still grows as it goes: nothing is lost but copies.
        let _ = index
            .arena
            .try_reserve_exact(usize::try_from(bytes).unwrap_or(0));
        index
    }

    /// The key of `stream` if its category has a code or is spelled inline; `None` when the
    /// category was never seen (so the stream was never written).
    fn key_of(&self, stream: &StreamId) -> Option<Key> {
        let category = stream.category();
        match self
            .categories
            .iter()
            .position(|known| **known == *category)
        {
            Some(code) => Some(encode(stream.as_str(), u8::try_from(code).ok())),
            None if self.categories.len() >= CATEGORIES_MAX => Some(encode(stream.as_str(), None)),
            None => None,
        }
    }

    /// The key of `stream`, giving its category a code if there is room.
    fn key_for_insert(&mut self, stream: &StreamId) -> Key {
        if let Some(key) = self.key_of(stream) {
            return key;
        }
        self.categories.push(stream.category().into());
        let code = u8::try_from(self.categories.len() - 1).ok();
        encode(stream.as_str(), code)
    }

    fn find(&self, stream: &StreamId) -> Option<Blob> {
        self.find_unit(stream)
            .map(|unit| Blob::at(&self.arena, unit))
    }

    fn find_unit(&self, stream: &StreamId) -> Option<u32> {
        let key = self.key_of(stream)?;
        let hash = self.hasher.hash_one(key.as_slice());
        self.table
            .find(hash, |&unit| key_at(&self.arena, unit) == key.as_slice())
            .copied()
    }

    /// The position of version `index + 1`, as [`Self::position`], for a walk that asks each
    /// stream's versions in increasing order (`verify`, over the whole log): `cursors` keeps
    /// where the walk is in each long stream, so it reads on from there. Amortised O(1) a
    /// call for such a walk instead of O(n) (Σ n² over a 30 k-event stream is ~10^9 decodes);
    /// a call out of order, or after a blob moved, starts from version 1 again.
    pub fn position_in_order(
        &self,
        stream: &StreamId,
        index: usize,
        cursors: &mut VersionCursors,
    ) -> Option<u64> {
        let unit = self.find_unit(stream)?;
        let blob = Blob::at(&self.arena, unit);
        if blob.count <= CURSOR_STREAM_EVENTS_MIN {
            return blob.positions(&self.arena).nth(index);
        }
        if cursors.moves != self.moves {
            cursors.places.clear();
            cursors.moves = self.moves;
        }
        let index_u32 = u32::try_from(index).ok()?;
        let (mut positions, from) = match cursors.places.get(&unit) {
            Some(place) if place.index <= index_u32 => (
                Positions {
                    arena: &self.arena,
                    at: place.at,
                    next: place.next,
                    left: blob.count.checked_sub(place.index)?,
                },
                place.index,
            ),
            _ => (blob.positions(&self.arena), 0),
        };
        let position = positions.nth(usize::try_from(index_u32 - from).ok()?)?;
        // Past the last position the iterator does not know the next one: keep the old place.
        if positions.left > 0 {
            let (at, next) = (positions.at, positions.next);
            let index = index_u32 + 1;
            cursors.places.insert(unit, Place { index, at, next });
        }
        Some(position)
    }

    /// Streams held.
    pub fn len(&self) -> usize {
        self.table.len()
    }

    /// The stream's version: how many events it holds (0 for a stream never written). O(1).
    pub fn version(&self, stream: &StreamId) -> u64 {
        self.find(stream).map_or(0, |blob| u64::from(blob.count))
    }

    /// The stream's positions, version 1 first.
    pub fn positions(&self, stream: &StreamId) -> Positions<'_> {
        self.find(stream)
            .map_or_else(Positions::empty, |blob| blob.positions(&self.arena))
    }

    /// The position of version `index + 1`. O(n).
    pub fn position(&self, stream: &StreamId, index: usize) -> Option<u64> {
        self.positions(stream).nth(index)
    }

    /// The 0-based index of `position` in the stream. O(n).
    pub fn index_of(&self, stream: &StreamId, position: u64) -> Option<usize> {
        for (index, held) in self.positions(stream).enumerate() {
            if held >= position {
                return (held == position).then_some(index);
            }
        }
        None
    }

    /// Every stream's positions, streams in no particular order.
    pub fn each(&self) -> impl Iterator<Item = Positions<'_>> + '_ {
        self.table
            .iter()
            .map(|&unit| Blob::at(&self.arena, unit).positions(&self.arena))
    }

    /// Whether `events` more events (in new or existing streams) stay within
    /// [`STREAM_INDEX_BYTES_MAX`]. A bound, not exact: each event may start a stream of the
    /// longest id, and a blob that moves takes its size again before the old copy is compacted
    /// away, so the live bytes count twice. (The writer checks [`STREAM_EVENTS_MAX`] itself.)
    pub fn check_room(&self, events: u64) -> Result<(), String> {
        let per_event = class_bytes(1 + KEY_BYTES_MAX + HEADER_BYTES) + DELTA_BYTES_MAX;
        let bound = len_u64(self.arena.len())
            .saturating_add(len_u64(self.live_bytes).saturating_mul(2))
            .saturating_add(events.saturating_mul(len_u64(per_event)));
        if bound > STREAM_INDEX_BYTES_MAX {
            return Err(format!(
                "the stream index can hold STREAM_INDEX_BYTES_MAX = {STREAM_INDEX_BYTES_MAX} bytes; {events} more events could take it to {bound}"
            ));
        }
        Ok(())
    }

    /// Appends `positions` (increasing, after the stream's last) to `stream`; returns the
    /// version it had before (so the open's walk, which checks each record's version, looks
    /// the stream up once).
    pub fn extend(&mut self, stream: &StreamId, positions: &[u64]) -> Result<u64, String> {
        let (Some(&first), Some(&last)) = (positions.first(), positions.last()) else {
            return Ok(self.version(stream));
        };
        if last > BLOB_POSITION_MAX {
            return Err(format!(
                "stream {stream}: position {last} is beyond the index's {BLOB_POSITION_MAX}"
            ));
        }
        let key = self.key_for_insert(stream);
        let hash = self.hasher.hash_one(key.as_slice());
        let found = self
            .table
            .find(hash, |&unit| key_at(&self.arena, unit) == key.as_slice())
            .map(|&unit| (unit, Blob::at(&self.arena, unit)));
        let held = found.map_or(0, |(_, blob)| u64::from(blob.count));
        let total = held.saturating_add(len_u64(positions.len()));
        let count = u32::try_from(total).map_err(|_| {
            format!(
                "stream {stream} would hold {total} events, more than STREAM_EVENTS_MAX = {STREAM_EVENTS_MAX}"
            )
        })?;
        let mut deltas = std::mem::take(&mut self.scratch);
        deltas.clear();
        let mut previous = found.map_or(first, |(_, blob)| blob.last);
        for &position in positions.iter().skip(usize::from(found.is_none())) {
            let delta = position.checked_sub(previous).filter(|&delta| delta > 0);
            let delta = delta.ok_or_else(|| {
                format!("stream {stream}: position {position} does not follow {previous}")
            })?;
            varint::write(&mut deltas, delta);
            previous = position;
        }
        let written = match found {
            None => self.insert(hash, &key, count, last, &deltas),
            Some((unit, blob)) => self.append(hash, unit, blob, count, last, &deltas),
        };
        self.scratch = deltas;
        written?;
        self.compact_if_wasteful();
        Ok(held)
    }

    /// Writes a new blob and gives it a slot.
    fn insert(
        &mut self,
        hash: u64,
        key: &Key,
        count: u32,
        last: u64,
        deltas: &[u8],
    ) -> Result<(), String> {
        let key = key.as_slice();
        let len = 1 + key.len() + HEADER_BYTES + deltas.len();
        let start = self.allocate(len)?;
        let header = start + 1 + key.len();
        self.arena[start] = u8::try_from(key.len()).unwrap_or(u8::MAX);
        self.arena[start + 1..header].copy_from_slice(key);
        Blob::write_header(&mut self.arena, header, class_of(len), count, last);
        let deltas_start = header + HEADER_BYTES;
        self.arena[deltas_start..deltas_start + deltas.len()].copy_from_slice(deltas);
        let unit = unit_of(start)?;
        let (arena, hasher) = (&self.arena, &self.hasher);
        self.table
            .insert_unique(hash, unit, |&unit| hasher.hash_one(key_at(arena, unit)));
        Ok(())
    }

    /// Adds `deltas` at the blob's end, in place if its class has room, else moved to the
    /// arena's end (into zeroed room, as every class's spare bytes must be).
    fn append(
        &mut self,
        hash: u64,
        unit: u32,
        blob: Blob,
        count: u32,
        last: u64,
        deltas: &[u8],
    ) -> Result<(), String> {
        let end = blob.end(&self.arena);
        let old_len = end - blob.start;
        let new_len = old_len + deltas.len();
        let class = class_of(new_len);
        let start = if class == blob.class {
            blob.start
        } else {
            let moved = self.allocate(new_len)?;
            self.arena.copy_within(blob.start..end, moved);
            self.live_bytes -= class_size(blob.class);
            self.moves = self.moves.wrapping_add(1);
            let moved_unit = unit_of(moved)?;
            if let Some(slot) = self.table.find_mut(hash, |&held| held == unit) {
                *slot = moved_unit;
            }
            moved
        };
        let header = start + (blob.header - blob.start);
        let end = start + old_len;
        self.arena[end..end + deltas.len()].copy_from_slice(deltas);
        Blob::write_header(&mut self.arena, header, class, count, last);
        Ok(())
    }

    /// Zeroed room for a blob of `len` bytes at the arena's end; returns its start.
    fn allocate(&mut self, len: usize) -> Result<usize, String> {
        let class = class_bytes(len);
        let start = self.arena.len();
        let end = start + class;
        if len_u64(end) > STREAM_INDEX_BYTES_MAX {
            return Err(format!(
                "the stream index would pass STREAM_INDEX_BYTES_MAX = {STREAM_INDEX_BYTES_MAX} bytes"
            ));
        }
        // Grow by an eighth, not by doubling: the arena is the index's largest part.
        if end > self.arena.capacity() {
            let extra = class.max(self.arena.capacity() / 8);
            self.arena.reserve_exact(extra);
        }
        self.arena.resize(end, 0);
        self.live_bytes += class;
        Ok(start)
    }

    fn compact_if_wasteful(&mut self) {
        let garbage = self.arena.len() - self.live_bytes;
        if garbage > COMPACT_GARBAGE_BYTES_MIN && garbage > self.live_bytes / 4 {
            self.compact();
        }
    }

    /// Slides every live blob down over the garbage, in arena order, zeroes the spare bytes of
    /// its class, and points the slots at the new places.
    pub fn compact(&mut self) {
        let mut units: Vec<u32> = self.table.iter().copied().collect();
        units.sort_unstable();
        let mut moved = Vec::with_capacity(units.len());
        let mut write = 0_usize;
        for &unit in &units {
            let blob = Blob::at(&self.arena, unit);
            let end = blob.end(&self.arena);
            let len = end - blob.start;
            let class = class_size(blob.class);
            self.arena.copy_within(blob.start..end, write);
            self.arena[write + len..write + class].fill(0);
            // `write` is a multiple of BLOB_ALIGN_BYTES at or below the old start: it fits.
            moved.push(u32::try_from(write / BLOB_ALIGN_BYTES).unwrap_or(unit));
            write += class;
        }
        self.arena.truncate(write);
        for slot in self.table.iter_mut() {
            if let Ok(index) = units.binary_search(slot) {
                *slot = moved[index];
            }
        }
        self.live_bytes = write;
        self.moves = self.moves.wrapping_add(1);
    }

    /// Drops the garbage and every spare byte (after an open's rebuild). Spare room is not
    /// kept for the appends to come: the walk wrote to it (garbage before compaction), so it
    /// would stay resident (~8 MiB at 10 M events, measured); the first append that outgrows
    /// the arena grows it by an eighth instead.
    pub fn shrink_to_fit(&mut self) {
        self.compact();
        self.arena.shrink_to_fit();
        let (arena, hasher) = (&self.arena, &self.hasher);
        self.table
            .shrink_to_fit(|&unit| hasher.hash_one(key_at(arena, unit)));
        self.categories.shrink_to_fit();
    }

    /// The heap bytes held: the arena's capacity (its room included, resident or not), the
    /// table's allocation, the categories and the scratch vector.
    pub fn memory_bytes(&self) -> usize {
        let categories: usize = self
            .categories
            .iter()
            .map(|category| category.len() + size_of::<Box<str>>())
            .sum();
        self.arena.capacity() + self.table.allocation_size() + categories + self.scratch.capacity()
    }
}

fn unit_of(start: usize) -> Result<u32, String> {
    u32::try_from(start / BLOB_ALIGN_BYTES).map_err(|_| {
        format!(
            "the stream index would pass STREAM_INDEX_BYTES_MAX = {STREAM_INDEX_BYTES_MAX} bytes"
        )
    })
}

fn len_u64(length: usize) -> u64 {
    u64::try_from(length).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests;
