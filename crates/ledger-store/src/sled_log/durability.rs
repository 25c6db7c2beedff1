//! Making a flushed group durable. sled's `flush()` only calls `sync_file_range` (it fsyncs from
//! a background thread every 500 ms), and it writes large log messages into separate files
//! under `blobs/` with no fsync at all. So after each flush the writer fsyncs, in this order:
//! every blob file not yet synced and the `blobs/` directory (a log entry must never be durable
//! before the blob it points to), then sled's data file `db` with `fdatasync`.

use std::collections::HashSet;
use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};

use crate::error::StoreFailure;

/// What one sync did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Synced {
    /// Blob files fsynced (plus one for the directory when any was).
    pub blob_syncs: u64,
}

#[derive(Debug)]
pub(crate) struct Durability {
    data_file: File,
    db_dir: PathBuf,
    blobs_dir: PathBuf,
    /// Blob files (named by their log sequence number) already fsynced. A set, not a high-water
    /// mark: sled's background thread can create a blob with a lower number after one with a
    /// higher number appeared.
    synced_blobs: HashSet<u64>,
}

impl Durability {
    /// Opens sled's data file in `db_dir` (sled must have created it already).
    pub fn open(db_dir: &Path) -> io::Result<Self> {
        let data_file = File::open(db_dir.join("db"))?;
        Ok(Self {
            data_file,
            db_dir: db_dir.to_owned(),
            blobs_dir: db_dir.join("blobs"),
            synced_blobs: HashSet::new(),
        })
    }

    /// Fsyncs everything sled has in its directory, and the directories themselves: used once
    /// when the store opens, so that what recovery (or creation) wrote is durable before the
    /// first append builds on it.
    pub fn sync_everything(&mut self) -> io::Result<()> {
        self.sync_new_blobs()?;
        for entry in fs::read_dir(&self.db_dir)? {
            let path = entry?.path();
            if path.is_file() {
                sync_file(&path)?;
            }
        }
        sync_directory(&self.db_dir)?;
        if let Some(parent) = self.db_dir.parent() {
            sync_directory(parent)?;
        }
        Ok(())
    }

    /// Makes everything sled has flushed durable: new blobs, their directory, the data file.
    pub fn sync(&mut self) -> Result<Synced, StoreFailure> {
        let blob_syncs = self
            .sync_new_blobs()
            .map_err(|error| StoreFailure::io("fsync of log/blobs", error))?;
        self.data_file
            .sync_data()
            .map_err(|error| StoreFailure::io("fdatasync of log/db", error))?;
        Ok(Synced { blob_syncs })
    }

    /// Fsyncs blob files not synced before, then the directory if there were any.
    fn sync_new_blobs(&mut self) -> io::Result<u64> {
        let entries = match fs::read_dir(&self.blobs_dir) {
            Ok(entries) => entries,
            Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(0),
            Err(error) => return Err(error),
        };
        let mut present = HashSet::new();
        let mut synced = 0_u64;
        for entry in entries {
            let entry = entry?;
            let Some(number) = entry
                .file_name()
                .to_str()
                .and_then(|name| name.parse::<u64>().ok())
            else {
                continue;
            };
            present.insert(number);
            if self.synced_blobs.contains(&number) {
                continue;
            }
            match sync_file(&entry.path()) {
                Ok(()) => synced = synced.saturating_add(1),
                // sled removed a blob it no longer needs between the listing and the open.
                Err(error) if error.kind() == io::ErrorKind::NotFound => {
                    present.remove(&number);
                }
                Err(error) => return Err(error),
            }
        }
        if synced > 0 {
            sync_directory(&self.blobs_dir)?;
            synced = synced.saturating_add(1);
        }
        // Forget blobs sled deleted, so the set stays as small as the directory.
        self.synced_blobs = present;
        Ok(synced)
    }
}

fn sync_file(path: &Path) -> io::Result<()> {
    File::open(path)?.sync_all()
}

/// Fsyncs a directory so the files created in it survive a power loss.
pub(super) fn sync_directory(path: &Path) -> io::Result<()> {
    File::open(path)?.sync_all()
}
