//! Where projections keep their read models: one sled tree per projection generation, in the
//! same database as the log, with the checkpoint inside the tree.
//!
//! A generation's tree holds the projection's entries packed in blocks (see [`block`]) under
//! a `b` prefix, and one metadata key `m` (the projection's layout version, the last position
//! applied and the hash of the log record there, see [`StoredMeta`]). A block's sled key is `b` followed by its lower bound: every projection
//! key lives in the block with the greatest lower bound not above it, and the first block's
//! lower bound is the empty key. sled's costs are per key, in CPU and in the memory every open
//! takes, so packing ~4 KiB of entries a key writes and holds far less than a key an entry.
//!
//! A batch of writes and its new metadata go in one `apply_batch`, which sled makes atomic:
//! after a crash the tree holds the state of some batch boundary together with that boundary's
//! checkpoint, never state without its checkpoint or the reverse; a reader sees a batch's
//! blocks all before or all after it.
//!
//! Generations written before blocks (metadata format 1) keep one sled key per entry behind a
//! `d` prefix. They are still read, so readers keep their answers while the runner rebuilds
//! them in blocks ([`ProjectionSpace::current`] reports them as stale).
//!
//! Rebuilds write a new generation while readers keep using the active one; [`activate`]
//! switches the pointer (one key in the `projections` tree) and drops the old tree, so readers
//! never see a half-built model.
//!
//! Projection state is not fsynced batch by batch: it can always be rebuilt from the log, and
//! sled's recovery keeps a prefix of batches, so a crash only moves the checkpoint back.
//!
//! [`activate`]: ProjectionStore::activate

mod block;

use std::collections::BTreeMap;
use std::fmt;
use std::ops::Bound;

use ledger_domain::codec;
use ledger_domain::ids::Position;
use ledger_domain::projection::{Entry, Order, StateError, StateRead};
use serde::{Deserialize, Serialize};

use crate::error::StoreFailure;
use crate::types::Hash;

pub use block::BLOCK_BYTES_TARGET;

/// The format byte of a projection pointer, and of the metadata of a generation that keeps a
/// sled key per entry (written before blocks).
const META_FORMAT: u8 = 1;
/// The format byte of the metadata of a generation packed in blocks, as written before the
/// metadata held the hash of the log record at the checkpoint (read as "hash unknown").
const META_FORMAT_PACKED: u8 = 2;
/// The format byte of the metadata of a generation packed in blocks: a [`StoredMeta`].
const META_FORMAT_PACKED_HASHED: u8 = 3;
/// The metadata key of a generation tree.
const META_KEY: &[u8] = b"m";
/// The prefix of every projection key inside a generation tree written before blocks.
const DATA_PREFIX: u8 = b'd';
/// The prefix of every block key inside a packed generation tree.
const BLOCK_PREFIX: u8 = b'b';
/// The tree mapping a projection name to its active generation.
const POINTERS_TREE: &str = "projections";
/// The start of every generation tree's name (`projection:NAME:GENERATION`).
const GENERATION_TREE_PREFIX: &str = "projection:";
/// The longest projection name accepted, in bytes.
pub const PROJECTION_NAME_BYTES_MAX: usize = 64;

/// What a generation's metadata records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpaceMeta {
    /// The projection's layout version the state was built with.
    pub version: u32,
    /// The last position applied to this state (`Position::ZERO`: nothing yet).
    pub checkpoint: Position,
}

/// What a commit records beside the state: its [`SpaceMeta`] and the hash chain's hash of the
/// log record at the checkpoint, which tells on open whether the state was folded from the
/// log it is opened with or from another history reaching the same position (a log restored
/// from a backup that then took other events).
///
/// `checkpoint_hash` is `None` when it is not known: at `Position::ZERO` (nothing folded, so
/// nothing to compare), in metadata written before it was recorded (format 2, read back as
/// `None`), and in a commit given a bare [`SpaceMeta`] (`From<SpaceMeta>`). The runner writes
/// it with every checkpoint it commits; a reader of `None` can only check the position.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredMeta {
    pub meta: SpaceMeta,
    /// The hash of the log record at `meta.checkpoint`.
    pub checkpoint_hash: Option<Hash>,
}

impl From<SpaceMeta> for StoredMeta {
    fn from(meta: SpaceMeta) -> Self {
        Self {
            meta,
            checkpoint_hash: None,
        }
    }
}

/// The projection keyspaces of one database.
#[derive(Clone)]
pub struct ProjectionStore {
    db: sled::Db,
}

impl fmt::Debug for ProjectionStore {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("ProjectionStore")
            .finish_non_exhaustive()
    }
}

/// How a generation's tree lays out the projection's entries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Layout {
    /// Blocks of entries under [`BLOCK_PREFIX`]: every generation written now.
    Packed,
    /// One sled key per entry under [`DATA_PREFIX`]: generations written before blocks.
    Unpacked,
}

/// One generation of one projection's state.
#[derive(Clone)]
pub struct ProjectionSpace {
    name: String,
    generation: u64,
    tree: sled::Tree,
    layout: Layout,
}

impl fmt::Debug for ProjectionSpace {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("ProjectionSpace")
            .field("name", &self.name)
            .field("generation", &self.generation)
            .finish_non_exhaustive()
    }
}

fn sled_failure(operation: &str, error: sled::Error) -> StoreFailure {
    StoreFailure::Io {
        operation: operation.to_owned(),
        message: error.to_string(),
    }
}

fn tree_name(name: &str, generation: u64) -> String {
    format!("{GENERATION_TREE_PREFIX}{name}:{generation}")
}

impl ProjectionStore {
    pub(crate) fn new(db: sled::Db) -> Self {
        Self { db }
    }

    /// Whether `db` holds any projection's generation (without creating anything in it): how
    /// opening tells a data directory whose read models share the log's database.
    pub(crate) fn holds_any(db: &sled::Db) -> Result<bool, StoreFailure> {
        if !db
            .tree_names()
            .iter()
            .any(|name| name.as_ref() == POINTERS_TREE.as_bytes())
        {
            return Ok(false);
        }
        let pointers = Self::new(db.clone()).pointers()?;
        let first = pointers
            .first()
            .map_err(|error| sled_failure("reading the projection pointers", error))?;
        Ok(first.is_some())
    }

    /// Whether the sled tree `name` belongs to the read models: the pointers, or a
    /// projection's generation.
    pub(crate) fn is_read_model_tree(name: &[u8]) -> bool {
        name == POINTERS_TREE.as_bytes() || name.starts_with(GENERATION_TREE_PREFIX.as_bytes())
    }

    fn pointers(&self) -> Result<sled::Tree, StoreFailure> {
        self.db
            .open_tree(POINTERS_TREE)
            .map_err(|error| sled_failure("opening the projection pointers", error))
    }

    fn check_name(name: &str) -> Result<(), StoreFailure> {
        let allowed = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-';
        if name.is_empty() || name.len() > PROJECTION_NAME_BYTES_MAX || !name.chars().all(allowed) {
            return Err(StoreFailure::Io {
                operation: "naming a projection".into(),
                message: format!(
                    "{name:?}: a projection name is 1 to {PROJECTION_NAME_BYTES_MAX} of a-z, 0-9 and -"
                ),
            });
        }
        Ok(())
    }

    /// The generation readers use now, or `None` if the projection was never built.
    pub fn active(&self, name: &str) -> Result<Option<ProjectionSpace>, StoreFailure> {
        Self::check_name(name)?;
        let pointer = self
            .pointers()?
            .get(name)
            .map_err(|error| sled_failure("reading a projection pointer", error))?;
        let Some(bytes) = pointer else {
            return Ok(None);
        };
        let generation: u64 =
            codec::decode_versioned(META_FORMAT, &bytes).map_err(|error| StoreFailure::Io {
                operation: format!("decoding the pointer of {name}"),
                message: error.to_string(),
            })?;
        self.space(name, generation).map(Some)
    }

    fn space(&self, name: &str, generation: u64) -> Result<ProjectionSpace, StoreFailure> {
        let tree = self
            .db
            .open_tree(tree_name(name, generation))
            .map_err(|error| sled_failure("opening a projection tree", error))?;
        let meta = tree
            .get(META_KEY)
            .map_err(|error| sled_failure("reading a checkpoint", error))?;
        let layout = match meta.as_deref().and_then(<[u8]>::first) {
            Some(&META_FORMAT) => Layout::Unpacked,
            _ => Layout::Packed,
        };
        Ok(ProjectionSpace {
            name: name.to_owned(),
            generation,
            tree,
            layout,
        })
    }

    /// A fresh, empty generation for `name` (not yet active), numbered after every existing
    /// one. Leftovers of an interrupted rebuild are dropped first.
    pub fn fresh(&self, name: &str) -> Result<ProjectionSpace, StoreFailure> {
        Self::check_name(name)?;
        let active = self.active(name)?.map(|space| space.generation);
        let prefix = format!("{GENERATION_TREE_PREFIX}{name}:");
        let mut newest = active.unwrap_or(0);
        for existing in self.db.tree_names() {
            let Some(generation) = existing.strip_prefix(prefix.as_bytes()) else {
                continue;
            };
            let Some(generation) = std::str::from_utf8(generation)
                .ok()
                .and_then(|text| text.parse::<u64>().ok())
            else {
                continue;
            };
            newest = newest.max(generation);
            if Some(generation) != active {
                self.db
                    .drop_tree(&existing)
                    .map_err(|error| sled_failure("dropping a stale projection tree", error))?;
            }
        }
        self.space(name, newest.saturating_add(1))
    }

    /// Makes `space` the generation readers use, and drops the one it replaces.
    pub fn activate(&self, space: &ProjectionSpace) -> Result<(), StoreFailure> {
        let previous = self.active(&space.name)?;
        let pointer = codec::encode_versioned(META_FORMAT, &space.generation).map_err(|error| {
            StoreFailure::Io {
                operation: "encoding a projection pointer".into(),
                message: error.to_string(),
            }
        })?;
        self.pointers()?
            .insert(space.name.as_bytes(), pointer)
            .map_err(|error| sled_failure("switching a projection pointer", error))?;
        if let Some(previous) = previous.filter(|previous| previous.generation != space.generation)
        {
            self.db
                .drop_tree(tree_name(&previous.name, previous.generation))
                .map_err(|error| sled_failure("dropping a replaced projection tree", error))?;
        }
        Ok(())
    }

    /// Writes everything sled holds in memory to disk (at shutdown).
    pub fn flush(&self) -> Result<(), StoreFailure> {
        self.db
            .flush()
            .map(|_| ())
            .map_err(|error| sled_failure("flushing projections", error))
    }
}

/// Writes gathered for one atomic commit: `Some(value)` puts, `None` deletes.
pub type Writes = BTreeMap<WriteKey, Option<Vec<u8>>>;

/// The bytes of a key that [`WriteKey`] holds in place (every key of the timeline, the
/// directory's records and most others fit).
pub const WRITE_KEY_INLINE_BYTES: usize = 48;

/// A key of [`Writes`]: its bytes in place up to [`WRITE_KEY_INLINE_BYTES`], on the heap
/// beyond. A rebuild searches its pending writes several times an event; with the keys in the
/// map's nodes, a search of 400 k timeline keys took ~270 ns against ~600 ns with a `Vec` a key
/// (each compare a cache miss). Ordered and borrowed as the bytes themselves, so maps of them
/// are searched and ranged by `&[u8]`.
pub type WriteKey = smallvec::SmallVec<[u8; WRITE_KEY_INLINE_BYTES]>;

/// `key` as a [`WriteKey`]: in place when it fits, else its own buffer, not copied.
pub fn write_key(key: Vec<u8>) -> WriteKey {
    if key.len() <= WRITE_KEY_INLINE_BYTES {
        WriteKey::from_slice(&key)
    } else {
        WriteKey::from_vec(key)
    }
}

/// Where a commit's sled writes go.
enum Sink<'a> {
    /// Into one batch the caller applies atomically (a generation readers see).
    Batch(&'a mut sled::Batch),
    /// Straight into the tree, key by key (a generation only its own rebuild reads). A block cut in
    /// pieces is written from its last piece back to the block it was, so that a read between
    /// two of these writes finds every key it does not change in some block: until the block
    /// itself is rewritten, its old version still holds the keys of the pieces not yet
    /// written, and each piece written covers exactly its own keys (the next is already in).
    Direct(&'a sled::Tree),
}

impl Sink<'_> {
    /// Puts `value` at `key`, or removes `key` for `None`.
    fn put(&mut self, key: Vec<u8>, value: Option<Vec<u8>>) -> Result<(), StateError> {
        match (self, value) {
            (Sink::Batch(batch), Some(value)) => batch.insert(key, value),
            (Sink::Batch(batch), None) => batch.remove(key),
            (Sink::Direct(tree), Some(value)) => {
                tree.insert(key, value)
                    .map_err(|error| StateError(error.to_string()))?;
            }
            (Sink::Direct(tree), None) => {
                tree.remove(key)
                    .map_err(|error| StateError(error.to_string()))?;
            }
        }
        Ok(())
    }
}

/// `key` behind a one-byte `prefix`: the sled key of an entry ([`DATA_PREFIX`]) or of the
/// block whose lower bound is `key` ([`BLOCK_PREFIX`]).
fn prefixed(prefix: u8, key: &[u8]) -> Vec<u8> {
    let mut prefixed = Vec::with_capacity(key.len() + 1);
    prefixed.push(prefix);
    prefixed.extend_from_slice(key);
    prefixed
}

/// The sled key before which the keys behind `prefix` up to `end` lie (an empty `end`: every
/// key behind the prefix).
fn range_end(prefix: u8, end: &[u8]) -> Vec<u8> {
    if end.is_empty() {
        vec![prefix + 1]
    } else {
        prefixed(prefix, end)
    }
}

fn data_key(key: &[u8]) -> Vec<u8> {
    prefixed(DATA_PREFIX, key)
}

fn block_key(key: &[u8]) -> Vec<u8> {
    prefixed(BLOCK_PREFIX, key)
}

impl ProjectionSpace {
    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// This generation written the way generations were before blocks (tests of the upgrade).
    pub(crate) fn unpacked(mut self) -> Self {
        self.layout = Layout::Unpacked;
        self
    }

    /// The version and checkpoint stored with the state, or `None` for a fresh generation.
    pub fn meta(&self) -> Result<Option<SpaceMeta>, StoreFailure> {
        Ok(self.stored_meta()?.map(|stored| stored.meta))
    }

    /// The hash of the log record at the stored checkpoint, when the metadata records one
    /// (see [`StoredMeta`]).
    pub fn checkpoint_hash(&self) -> Result<Option<Hash>, StoreFailure> {
        Ok(self
            .stored_meta()?
            .and_then(|stored| stored.checkpoint_hash))
    }

    /// Everything the metadata key records, or `None` for a fresh generation. Metadata of
    /// formats 1 and 2 (written before the hash was recorded) reads with no hash.
    pub fn stored_meta(&self) -> Result<Option<StoredMeta>, StoreFailure> {
        let Some(bytes) = self
            .tree
            .get(META_KEY)
            .map_err(|error| sled_failure("reading a checkpoint", error))?
        else {
            return Ok(None);
        };
        let decoded = match (self.layout, bytes.first()) {
            (Layout::Packed, Some(&META_FORMAT_PACKED_HASHED)) => {
                codec::decode_versioned(META_FORMAT_PACKED_HASHED, &bytes)
            }
            (Layout::Packed, _) => codec::decode_versioned(META_FORMAT_PACKED, &bytes)
                .map(|meta: SpaceMeta| StoredMeta::from(meta)),
            (Layout::Unpacked, _) => codec::decode_versioned(META_FORMAT, &bytes)
                .map(|meta: SpaceMeta| StoredMeta::from(meta)),
        };
        decoded.map(Some).map_err(|error| StoreFailure::Io {
            operation: format!("decoding the checkpoint of {}", self.name),
            message: error.to_string(),
        })
    }

    /// The stored version and checkpoint when this state can be carried forward by a
    /// projection of layout `version`: built with that version, in blocks. `None` means the
    /// projection must be rebuilt into a fresh generation.
    pub fn current(&self, version: u32) -> Result<Option<SpaceMeta>, StoreFailure> {
        if self.layout != Layout::Packed {
            return Ok(None);
        }
        Ok(self.meta()?.filter(|meta| meta.version == version))
    }

    /// Applies `writes` and records `meta` (with the checkpoint's record hash, when given a
    /// [`StoredMeta`] that has one) in one atomic batch.
    pub fn commit(&self, writes: &Writes, meta: impl Into<StoredMeta>) -> Result<(), StoreFailure> {
        let mut batch = sled::Batch::default();
        let meta = self.write_all(writes, meta.into(), &mut Sink::Batch(&mut batch))?;
        batch.insert(META_KEY, meta);
        self.tree
            .apply_batch(batch)
            .map_err(|error| sled_failure("committing projection state", error))
    }

    /// Applies `writes` and then records `meta`, to a generation no reader sees yet (a
    /// rebuild's, before [`ProjectionStore::activate`]), block by block with sled's single-key
    /// writes rather than one batch:
    /// - sled makes a batch atomic with one lock for the whole process: every read of every
    ///   tree, the log's included, waits while any batch is applied, and a commit into a large
    ///   generation rewrites most of its blocks (seconds at 1 M events, the other rebuilding
    ///   projections stalled meanwhile; one batch also held every block in memory, gigabytes
    ///   at 10 M events);
    /// - the rebuild goes on folding while this runs, and reads the generation for keys
    ///   `writes` does not hold (it answers the others from `writes`): each of those keeps its
    ///   value throughout, because a block cut in pieces is written from its last piece back
    ///   to the block it was (see [`Sink::Direct`]).
    ///
    /// A crash partway leaves a generation that was never activated, which the next
    /// [`ProjectionStore::fresh`] drops: its rebuild starts over.
    pub fn commit_unseen(
        &self,
        writes: &Writes,
        meta: impl Into<StoredMeta>,
    ) -> Result<(), StoreFailure> {
        let meta = self.write_all(writes, meta.into(), &mut Sink::Direct(&self.tree))?;
        self.tree
            .insert(META_KEY, meta)
            .map(|_| ())
            .map_err(|error| sled_failure("recording a checkpoint", error))
    }

    /// Sends `writes` to `sink` in the generation's layout; returns `meta` encoded, for the
    /// caller to record last. A generation written before blocks (only tests still write
    /// one) keeps its format 1, which has no room for the checkpoint's hash.
    fn write_all(
        &self,
        writes: &Writes,
        meta: StoredMeta,
        sink: &mut Sink<'_>,
    ) -> Result<Vec<u8>, StoreFailure> {
        let encoded = match self.layout {
            Layout::Packed => {
                self.pack_writes(writes, sink)
                    .map_err(|error| StoreFailure::Io {
                        operation: format!("packing the state of {}", self.name),
                        message: error.0,
                    })?;
                codec::encode_versioned(META_FORMAT_PACKED_HASHED, &meta)
            }
            Layout::Unpacked => {
                for (key, value) in writes {
                    sink.put(data_key(key), value.clone())
                        .map_err(|error| StoreFailure::Io {
                            operation: format!("writing the state of {}", self.name),
                            message: error.0,
                        })?;
                }
                codec::encode_versioned(META_FORMAT, &meta.meta)
            }
        };
        encoded.map_err(|error| StoreFailure::Io {
            operation: "encoding a checkpoint".into(),
            message: error.to_string(),
        })
    }

    /// Sends to `sink` the blocks `writes` change: each block holding a written key is read
    /// once, merged with every write that falls in it, and written back, cut into pieces when
    /// it outgrew [`BLOCK_BYTES_TARGET`] (a piece after the first starts a block at its first
    /// key), or removed when nothing is left in it. The blocks are visited in key order and a
    /// group's pieces all lie below the next stored block, so what is read later is the same
    /// whether the sink applies each group at once or all of them at the end.
    fn pack_writes(&self, writes: &Writes, sink: &mut Sink<'_>) -> Result<(), StateError> {
        let mut pending = writes.iter().peekable();
        while let Some(&(first, _)) = pending.peek() {
            let (lower, stored) = match self.floor_block(first)? {
                Some((lower, stored)) => (lower, Some(stored)),
                // Before every block (or none yet): a block from the empty key takes it.
                None => (vec![BLOCK_PREFIX], None),
            };
            let upper = self.block_after(&lower, stored.is_some())?;
            let mut group = Vec::new();
            while let Some((key, value)) = pending.next_if(|(key, _)| {
                upper
                    .as_ref()
                    .is_none_or(|upper| key.as_slice() < &upper[1..])
            }) {
                group.push((key.as_slice(), value.as_deref()));
            }
            let old = match &stored {
                Some(bytes) => block::entries(bytes)?.collect::<Result<Vec<_>, _>>()?,
                None => Vec::new(),
            };
            let merged = merge(&old, &group);
            let mut pieces = block::pack(&merged).into_iter();
            let first_piece = pieces.next().map(|(_, bytes)| bytes);
            // Back to front: see `Sink::Direct`.
            for (first_key, bytes) in pieces.rev() {
                sink.put(block_key(first_key), Some(bytes))?;
            }
            match first_piece {
                Some(bytes) => sink.put(lower, Some(bytes))?,
                None if stored.is_some() => sink.put(lower, None)?,
                None => {}
            }
        }
        Ok(())
    }

    /// The block that holds `key` if it is stored: its sled key and value.
    fn floor_block(&self, key: &[u8]) -> Result<Option<(Vec<u8>, sled::IVec)>, StateError> {
        self.last_block(Bound::Included(block_key(key)))
    }

    /// The block with the greatest sled key below `upper`, as it is now though a commit may
    /// run meanwhile.
    ///
    /// sled's iterator keeps a copy of each leaf of its tree as it first reads it, and a
    /// lookup backwards can cross from one leaf to a lower one: it reads the higher leaf as it
    /// was before a commit running meanwhile, and the lower as it is after. A block cut in
    /// pieces would then show cut, with a piece written above it still missing, and the entries
    /// moved into that piece would read as absent. A commit writes the pieces before it cuts
    /// the block they came from (see [`Sink::Direct`]), and a forward walk reads lower leaves
    /// before higher ones, so a forward look from the block found sees every such piece: the
    /// last block it finds is the answer (usually there is none, and it costs one lookup).
    fn last_block(
        &self,
        upper: Bound<Vec<u8>>,
    ) -> Result<Option<(Vec<u8>, sled::IVec)>, StateError> {
        let sled_error = |error: sled::Error| StateError(error.to_string());
        let first = Bound::Included(vec![BLOCK_PREFIX]);
        let mut found = self
            .tree
            .range((first.clone(), upper.clone()))
            .next_back()
            .transpose()
            .map_err(sled_error)?;
        let after = match &found {
            Some((lower, _)) => Bound::Excluded(lower.to_vec()),
            None => first,
        };
        for later in self.tree.range((after, upper)) {
            found = Some(later.map_err(sled_error)?);
        }
        Ok(found.map(|(lower, bytes)| (lower.to_vec(), bytes)))
    }

    /// The sled key of the first block after the one at `lower` (`exists`: whether that block
    /// is stored, or only about to be).
    fn block_after(&self, lower: &[u8], exists: bool) -> Result<Option<sled::IVec>, StateError> {
        let start = if exists {
            Bound::Excluded(lower.to_vec())
        } else {
            Bound::Included(lower.to_vec())
        };
        self.tree
            .range((start, Bound::Excluded(vec![BLOCK_PREFIX + 1])))
            .next()
            .transpose()
            .map(|found| found.map(|(key, _)| key))
            .map_err(|error| StateError(error.to_string()))
    }

    /// Every projection key and value in key order: a canonical dump of the read model.
    pub fn dump(&self) -> Result<Vec<Entry>, StoreFailure> {
        self.range(&[], &[], Order::Ascending, usize::MAX)
            .map_err(|error| StoreFailure::Io {
                operation: format!("reading the state of {}", self.name),
                message: error.0,
            })
    }

    /// Hands `visit` every projection key and value in key order, one block in memory at a
    /// time (what [`Self::dump`] collects), and returns how many entries it saw: an auditor's
    /// digest of a read model larger than memory. Meant for a generation nothing commits to
    /// meanwhile (a closed server's, a finished rebuild's).
    pub fn for_each_entry(&self, mut visit: impl FnMut(&[u8], &[u8])) -> Result<u64, StoreFailure> {
        let failure = |message: String| StoreFailure::Io {
            operation: format!("reading the state of {}", self.name),
            message,
        };
        let mut seen = 0u64;
        match self.layout {
            Layout::Packed => {
                for item in self.tree.range(vec![BLOCK_PREFIX]..vec![BLOCK_PREFIX + 1]) {
                    let (_, bytes) = item.map_err(|error| failure(error.to_string()))?;
                    for entry in block::entries(&bytes).map_err(|error| failure(error.0))? {
                        let (key, value) = entry.map_err(|error| failure(error.0))?;
                        visit(key, value);
                        seen += 1;
                    }
                }
            }
            Layout::Unpacked => {
                for item in self.tree.range(vec![DATA_PREFIX]..vec![DATA_PREFIX + 1]) {
                    let (key, value) = item.map_err(|error| failure(error.to_string()))?;
                    visit(&key[1..], &value);
                    seen += 1;
                }
            }
        }
        Ok(seen)
    }

    fn range_unpacked(
        &self,
        start: &[u8],
        end: &[u8],
        order: Order,
        limit: usize,
    ) -> Result<Vec<Entry>, StateError> {
        let range = self
            .tree
            .range(data_key(start)..range_end(DATA_PREFIX, end));
        let strip = |item: sled::Result<(sled::IVec, sled::IVec)>| {
            item.map(|(key, value)| (key[1..].to_vec(), value.to_vec()))
                .map_err(|error| StateError(error.to_string()))
        };
        match order {
            Order::Ascending => range.take(limit).map(strip).collect(),
            Order::Descending => range.rev().take(limit).map(strip).collect(),
        }
    }

    /// Entries of `[start, end)` from the blocks that may hold them. Blocks are read one by
    /// one, not as of one instant: a block split by a commit between two reads shows entries
    /// already returned again, and they are skipped by key.
    fn range_packed(
        &self,
        start: &[u8],
        end: &[u8],
        order: Order,
        limit: usize,
    ) -> Result<Vec<Entry>, StateError> {
        let in_range = |key: &[u8]| key >= start && (end.is_empty() || key < end);
        let blocks_end = range_end(BLOCK_PREFIX, end);
        let sled_error = |error: sled::Error| StateError(error.to_string());
        let mut found: Vec<Entry> = Vec::new();
        match order {
            Order::Ascending => {
                let first = match self.floor_block(start)? {
                    Some((lower, _)) => lower,
                    None => vec![BLOCK_PREFIX],
                };
                for item in self.tree.range(first..blocks_end) {
                    let (_, bytes) = item.map_err(sled_error)?;
                    for entry in block::entries(&bytes)? {
                        let (key, value) = entry?;
                        let after_last = found.last().is_none_or(|(last, _)| key > last.as_slice());
                        if in_range(key) && after_last {
                            if found.len() == limit {
                                return Ok(found);
                            }
                            found.push((key.to_vec(), value.to_vec()));
                        }
                    }
                }
            }
            Order::Descending => {
                // Each block below the last is looked up anew (see `last_block`), not walked
                // with one reverse iterator: walking down, it would read the higher leaves of
                // sled's tree before a commit that runs meanwhile and the lower ones after
                // it, and miss the entries the commit moved from a lower block into new
                // pieces above it.
                let mut below = blocks_end;
                while let Some((lower, bytes)) = self.last_block(Bound::Excluded(below))? {
                    below = lower.clone();
                    let entries = block::entries(&bytes)?.collect::<Result<Vec<_>, _>>()?;
                    for &(key, value) in entries.iter().rev() {
                        let before_last =
                            found.last().is_none_or(|(last, _)| key < last.as_slice());
                        if in_range(key) && before_last {
                            if found.len() == limit {
                                return Ok(found);
                            }
                            found.push((key.to_vec(), value.to_vec()));
                        }
                    }
                    if &lower[1..] <= start {
                        break;
                    }
                }
            }
        }
        Ok(found)
    }
}

/// A block's entries with sorted `writes` applied (`None` deletes).
fn merge<'a>(
    old: &[block::Slice<'a>],
    writes: &[(&'a [u8], Option<&'a [u8]>)],
) -> Vec<block::Slice<'a>> {
    let mut merged = Vec::with_capacity(old.len() + writes.len());
    let mut old = old.iter().copied().peekable();
    for &(key, value) in writes {
        while let Some(kept) = old.next_if(|(stored, _)| *stored < key) {
            merged.push(kept);
        }
        old.next_if(|(stored, _)| *stored == key);
        if let Some(value) = value {
            merged.push((key, value));
        }
    }
    merged.extend(old);
    merged
}

impl StateRead for ProjectionSpace {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StateError> {
        match self.layout {
            Layout::Packed => match self.floor_block(key)? {
                Some((_, bytes)) => Ok(block::find(&bytes, key)?.map(<[u8]>::to_vec)),
                None => Ok(None),
            },
            Layout::Unpacked => self
                .tree
                .get(data_key(key))
                .map(|value| value.map(|value| value.to_vec()))
                .map_err(|error| StateError(error.to_string())),
        }
    }

    fn range(
        &self,
        start: &[u8],
        end: &[u8],
        order: Order,
        limit: usize,
    ) -> Result<Vec<Entry>, StateError> {
        if limit == 0 || (!end.is_empty() && start >= end) {
            return Ok(Vec::new());
        }
        match self.layout {
            Layout::Packed => self.range_packed(start, end, order, limit),
            Layout::Unpacked => self.range_unpacked(start, end, order, limit),
        }
    }
}

#[cfg(test)]
mod tests;
