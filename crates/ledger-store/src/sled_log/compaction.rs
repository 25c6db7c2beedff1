//! Compacting the read models' database: every read-model tree copied, in key order, into a new
//! database in `read-models.next`, which [`super::replace_read_models`] then puts in the live
//! one's place.
//!
//! Why: sled 0.34.7 never shrinks its file, and a rebuild leaves most of it free even when it
//! starts from nothing, because each of its commits rewrites the blocks it touches. At 10 M
//! events a fresh rebuild left 18.7 GB holding 4.2 GB of keys and values; copied in key order,
//! 5.6 GB. At every open sled reads (and zeroes the free segments of) the whole file.

use std::fs;
use std::path::Path;

use super::READ_MODELS_NEXT_DIR_NAME;
use crate::error::StoreFailure;
use crate::faults::{FaultPoint, Faults};
use crate::projection_store::ProjectionStore;

/// The most key and value bytes one sled batch of the copy holds before it is applied (one
/// entry can take it past by itself).
pub const COMPACTION_BATCH_BYTES: usize = 16 * 1024 * 1024;

/// What a compaction copied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Compaction {
    /// Trees copied.
    pub trees: u64,
    /// Keys copied, over every tree.
    pub keys: u64,
    /// Their key and value bytes: what the read models hold, without sled's overhead.
    pub live_bytes: u64,
}

fn failure(operation: &str, error: impl std::fmt::Display) -> StoreFailure {
    StoreFailure::io(operation, error)
}

/// Copies the read models in `source` into a new sled database in
/// `dir/`[`READ_MODELS_NEXT_DIR_NAME`] (removing what an earlier attempt left there) and
/// flushes it. With `only_read_models`, the source is the log's database of a data directory
/// from before the read models had their own, and only their trees are copied. A copy that
/// fails is removed, so that a full disk gets its room back at once (else the next open
/// removes it).
pub(super) fn copy_into_next(
    source: &sled::Db,
    only_read_models: bool,
    dir: &Path,
    cache_bytes: u64,
    faults: &Faults,
) -> Result<Compaction, StoreFailure> {
    let next = dir.join(READ_MODELS_NEXT_DIR_NAME);
    if next.exists() {
        fs::remove_dir_all(&next)
            .map_err(|error| failure(&format!("removing {}", next.display()), error))?;
    }
    let destination = super::sled_config(&next, cache_bytes)
        .open()
        .map_err(|error| failure(&format!("creating {}", next.display()), error))?;
    let copied = copy_trees(source, only_read_models, &destination, faults).and_then(|copied| {
        destination
            .flush()
            .map_err(|error| failure(&format!("flushing {}", next.display()), error))?;
        Ok(copied)
    });
    drop(destination);
    copied.map_err(|error| match fs::remove_dir_all(&next) {
        Ok(()) => error,
        Err(removal) => StoreFailure::Io {
            operation: format!(
                "{error}; then removing the partial copy in {}",
                next.display()
            ),
            message: format!("{removal} (the next open removes it)"),
        },
    })
}

/// Copies every tree of `source` (only the read models' with `only_read_models`) into
/// `destination`, in key order, in batches of [`COMPACTION_BATCH_BYTES`].
fn copy_trees(
    source: &sled::Db,
    only_read_models: bool,
    destination: &sled::Db,
    faults: &Faults,
) -> Result<Compaction, StoreFailure> {
    let mut copied = Compaction {
        trees: 0,
        keys: 0,
        live_bytes: 0,
    };
    for name in source.tree_names() {
        if only_read_models && !ProjectionStore::is_read_model_tree(&name) {
            continue;
        }
        let label = String::from_utf8_lossy(&name).into_owned();
        let from = source
            .open_tree(&name)
            .map_err(|error| failure(&format!("opening tree {label}"), error))?;
        let to = destination
            .open_tree(&name)
            .map_err(|error| failure(&format!("creating tree {label}"), error))?;
        let mut batch = sled::Batch::default();
        let mut batch_bytes = 0;
        for entry in from.iter() {
            let (key, value) =
                entry.map_err(|error| failure(&format!("reading tree {label}"), error))?;
            let bytes = key.len() + value.len();
            copied.keys += 1;
            copied.live_bytes += u64::try_from(bytes).unwrap_or(u64::MAX);
            batch.insert(key, value);
            batch_bytes += bytes;
            if batch_bytes >= COMPACTION_BATCH_BYTES {
                write_batch(&to, std::mem::take(&mut batch), &label, faults)?;
                batch_bytes = 0;
            }
        }
        write_batch(&to, batch, &label, faults)?;
        copied.trees += 1;
    }
    Ok(copied)
}

fn write_batch(
    tree: &sled::Tree,
    batch: sled::Batch,
    label: &str,
    faults: &Faults,
) -> Result<(), StoreFailure> {
    let writing = format!("writing tree {label}");
    faults
        .check(FaultPoint::CompactionWrite)
        .map_err(|error| failure(&writing, error))?;
    tree.apply_batch(batch)
        .map_err(|error| failure(&writing, error))
}
