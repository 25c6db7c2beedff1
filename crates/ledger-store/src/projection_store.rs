//! Where projections keep their read models: one sled tree per projection generation, in the
//! same database as the log, with the checkpoint inside the tree.
//!
//! A generation's tree holds the projection's own keys behind a `d` prefix and one metadata
//! key `m` (the projection's layout version and the last position applied). A batch of writes
//! and its new metadata go in one `apply_batch`, which sled makes atomic: after a crash the
//! tree holds the state of some batch boundary together with that boundary's checkpoint, never
//! state without its checkpoint or the reverse.
//!
//! Rebuilds write a new generation while readers keep using the active one; [`activate`]
//! switches the pointer (one key in the `projections` tree) and drops the old tree, so readers
//! never see a half-built model.
//!
//! Projection state is not fsynced batch by batch: it can always be rebuilt from the log, and
//! sled's recovery keeps a prefix of batches, so a crash only moves the checkpoint back.
//!
//! [`activate`]: ProjectionStore::activate

use std::collections::BTreeMap;
use std::fmt;

use ledger_domain::codec;
use ledger_domain::ids::Position;
use ledger_domain::projection::{Entry, Order, StateError, StateRead};
use serde::{Deserialize, Serialize};

use crate::error::StoreFailure;

/// The format byte of a generation's metadata value.
const META_FORMAT: u8 = 1;
/// The metadata key of a generation tree; projection keys sort after it behind [`DATA_PREFIX`].
const META_KEY: &[u8] = b"m";
/// The prefix of every projection key inside a generation tree.
const DATA_PREFIX: u8 = b'd';
/// The tree mapping a projection name to its active generation.
const POINTERS_TREE: &str = "projections";
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

/// One generation of one projection's state.
#[derive(Clone)]
pub struct ProjectionSpace {
    name: String,
    generation: u64,
    tree: sled::Tree,
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
    format!("projection:{name}:{generation}")
}

impl ProjectionStore {
    pub(crate) fn new(db: sled::Db) -> Self {
        Self { db }
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
        Ok(ProjectionSpace {
            name: name.to_owned(),
            generation,
            tree,
        })
    }

    /// A fresh, empty generation for `name` (not yet active), numbered after every existing
    /// one. Leftovers of an interrupted rebuild are dropped first.
    pub fn fresh(&self, name: &str) -> Result<ProjectionSpace, StoreFailure> {
        Self::check_name(name)?;
        let active = self.active(name)?.map(|space| space.generation);
        let prefix = format!("projection:{name}:");
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
pub type Writes = BTreeMap<Vec<u8>, Option<Vec<u8>>>;

fn data_key(key: &[u8]) -> Vec<u8> {
    let mut prefixed = Vec::with_capacity(key.len() + 1);
    prefixed.push(DATA_PREFIX);
    prefixed.extend_from_slice(key);
    prefixed
}

impl ProjectionSpace {
    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// The version and checkpoint stored with the state, or `None` for a fresh generation.
    pub fn meta(&self) -> Result<Option<SpaceMeta>, StoreFailure> {
        let Some(bytes) = self
            .tree
            .get(META_KEY)
            .map_err(|error| sled_failure("reading a checkpoint", error))?
        else {
            return Ok(None);
        };
        codec::decode_versioned(META_FORMAT, &bytes)
            .map(Some)
            .map_err(|error| StoreFailure::Io {
                operation: format!("decoding the checkpoint of {}", self.name),
                message: error.to_string(),
            })
    }

    /// Applies `writes` and records `meta` in one atomic batch.
    pub fn commit(&self, writes: &Writes, meta: SpaceMeta) -> Result<(), StoreFailure> {
        let mut batch = sled::Batch::default();
        for (key, value) in writes {
            match value {
                Some(value) => batch.insert(data_key(key), value.as_slice()),
                None => batch.remove(data_key(key)),
            }
        }
        let meta =
            codec::encode_versioned(META_FORMAT, &meta).map_err(|error| StoreFailure::Io {
                operation: "encoding a checkpoint".into(),
                message: error.to_string(),
            })?;
        batch.insert(META_KEY, meta);
        self.tree
            .apply_batch(batch)
            .map_err(|error| sled_failure("committing projection state", error))
    }

    /// Every projection key and value in key order: a canonical dump of the read model.
    pub fn dump(&self) -> Result<Vec<Entry>, StoreFailure> {
        self.tree
            .scan_prefix([DATA_PREFIX])
            .map(|item| {
                item.map(|(key, value)| (key[1..].to_vec(), value.to_vec()))
                    .map_err(|error| sled_failure("reading projection state", error))
            })
            .collect()
    }
}

impl StateRead for ProjectionSpace {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StateError> {
        self.tree
            .get(data_key(key))
            .map(|value| value.map(|value| value.to_vec()))
            .map_err(|error| StateError(error.to_string()))
    }

    fn range(
        &self,
        start: &[u8],
        end: &[u8],
        order: Order,
        limit: usize,
    ) -> Result<Vec<Entry>, StateError> {
        let start = data_key(start);
        let end = if end.is_empty() {
            vec![DATA_PREFIX + 1]
        } else {
            data_key(end)
        };
        let range = self.tree.range(start..end);
        let strip = |item: sled::Result<(sled::IVec, sled::IVec)>| {
            item.map(|(key, value)| (key[1..].to_vec(), value.to_vec()))
                .map_err(|error| StateError(error.to_string()))
        };
        match order {
            Order::Ascending => range.take(limit).map(strip).collect(),
            Order::Descending => range.rev().take(limit).map(strip).collect(),
        }
    }
}
