//! Replacing the read models' database whole: a compaction (`compact`, and `replay` of every
//! projection, which first rebuilds them into a scratch database, `read-models.build`) copies
//! them into a new database beside the live one, and [`replace_read_models`] puts it in the
//! live one's place once the store that wrote it is closed.
//!
//! Why: sled 0.34.7 never shrinks its file and writes zeros over every free segment each time
//! it opens a database. A rebuild in place drops the old generations and leaves their segments
//! free, so every later start pays for them again (at 1 M events, after eight rebuilds, 1.8 GB
//! of zeros at each open, and a 2.9 GB database holding 1.1 GB of live read models). Even a
//! rebuild from nothing leaves most of its file free (see `compaction`); a copy in key order
//! does not.
//!
//! The swap is two renames, `read-models` → `read-models.old` and `read-models.next` →
//! `read-models`, and a removal. Each open settles what a crash left
//! ([`settle_replacement`]): `read-models.old` is only ever made after the replacement is
//! complete and synced, so with it present the replacement wins; a `read-models.next` without
//! it is a copy that never finished, and is removed. `read-models.build` is always removed: it
//! is either unfinished or already copied. Read models are derived from the log, so even losing
//! them costs a rebuild at the next start, never an event.

use std::fs;
use std::io;
use std::path::Path;

use super::durability::{Durability, sync_directory};
use super::{
    READ_MODELS_BUILD_DIR_NAME, READ_MODELS_DIR_NAME, READ_MODELS_NEXT_DIR_NAME,
    READ_MODELS_OLD_DIR_NAME,
};
use crate::error::OpenError;

fn io_failure(path: &Path, action: &str) -> impl FnOnce(io::Error) -> OpenError {
    let path = path.to_owned();
    let action = action.to_owned();
    move |error| OpenError::Io {
        message: format!("{action}: {error}"),
        path,
    }
}

/// Finishes or undoes a replacement a crash interrupted in data directory `dir` (see the module
/// docs). Returns what it did, for the log; empty when there was nothing to settle.
pub(super) fn settle_replacement(dir: &Path) -> Result<Vec<&'static str>, OpenError> {
    let live = dir.join(READ_MODELS_DIR_NAME);
    let next = dir.join(READ_MODELS_NEXT_DIR_NAME);
    let old = dir.join(READ_MODELS_OLD_DIR_NAME);
    let mut done = Vec::new();
    if old.exists() {
        if !live.exists() {
            if next.exists() {
                fs::rename(&next, &live).map_err(io_failure(&next, "renaming the replacement"))?;
            } else {
                fs::rename(&old, &live).map_err(io_failure(&old, "restoring the read models"))?;
            }
            sync_directory(dir).map_err(io_failure(dir, "fsync"))?;
        }
        if old.exists() {
            fs::remove_dir_all(&old).map_err(io_failure(&old, "removing the replaced database"))?;
        }
        done.push("finished replacing the read models' database");
    } else if next.exists() {
        fs::remove_dir_all(&next).map_err(io_failure(&next, "removing an unfinished copy"))?;
        done.push("removed an unfinished copy of the read models");
    }
    if remove_build(dir)? {
        done.push("removed a scratch rebuild of the read models");
    }
    if !done.is_empty() {
        sync_directory(dir).map_err(io_failure(dir, "fsync"))?;
    }
    Ok(done)
}

/// Removes the scratch read models' database (`dir/read-models.build`) of a store now closed
/// and dropped that was opened with [`super::ReadModelsDb::Replacement`] only to read what it
/// built (`replay --check`, `replay --to`); nothing when there is none.
pub fn discard_scratch_read_models(dir: &Path) -> Result<(), OpenError> {
    if remove_build(dir)? {
        sync_directory(dir).map_err(io_failure(dir, "fsync"))?;
    }
    Ok(())
}

/// Removes `dir/read-models.build` if it is there; whether it was.
fn remove_build(dir: &Path) -> Result<bool, OpenError> {
    let build = dir.join(READ_MODELS_BUILD_DIR_NAME);
    if !build.exists() {
        return Ok(false);
    }
    fs::remove_dir_all(&build).map_err(io_failure(&build, "removing the scratch rebuild"))?;
    Ok(true)
}

/// Puts the read models copied into `dir/read-models.next` (by
/// [`super::SledEventLog::compact_read_models`] of a store now closed and dropped) in place of
/// `dir/read-models`, and removes the old database and any scratch rebuild
/// (`dir/read-models.build`). Everything the new database holds is fsynced first. Fails when
/// there is no replacement to put in place.
pub fn replace_read_models(dir: &Path) -> Result<(), OpenError> {
    let live = dir.join(READ_MODELS_DIR_NAME);
    let next = dir.join(READ_MODELS_NEXT_DIR_NAME);
    let old = dir.join(READ_MODELS_OLD_DIR_NAME);
    if !next.join("db").is_file() {
        return Err(OpenError::Io {
            path: next,
            message: "no copied read models to put in place (the directory or its sled \
                      database is missing)"
                .to_owned(),
        });
    }
    Durability::open(&next)
        .and_then(|mut durability| durability.sync_everything())
        .map_err(io_failure(&next, "fsync of the rebuilt read models"))?;
    if live.exists() {
        fs::rename(&live, &old).map_err(io_failure(&live, "setting the old read models aside"))?;
    }
    fs::rename(&next, &live).map_err(io_failure(&next, "renaming the replacement"))?;
    sync_directory(dir).map_err(io_failure(dir, "fsync"))?;
    let removed_old = old.exists();
    if removed_old {
        fs::remove_dir_all(&old).map_err(io_failure(&old, "removing the replaced database"))?;
    }
    if remove_build(dir)? || removed_old {
        sync_directory(dir).map_err(io_failure(dir, "fsync"))?;
    }
    Ok(())
}
