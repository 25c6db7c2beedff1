//! The data keys' keyspace: one sled tree, `data-keys`, in the log's database, holding each data
//! subject's data key *wrapped* (sealed under the master key by `ledger_app::personal`; this
//! crate never sees a key in the clear), plus the markers of erasures in progress and the
//! master key's check value.
//!
//! | key | value |
//! |---|---|
//! | `k` + subject | a wrapped data key (opaque bytes); empty once destroyed (a tombstone) |
//! | `e` + subject | an erasure in progress: the subject's `CustomerErased` may be in the log |
//! | `check` | the master key's check value (opaque bytes) |
//!
//! Every write here is durable before it returns: a batch, sled's flush, then `fdatasync` of
//! `log/db` (sled's flush alone does not fsync). A key must be durable before the first event it
//! seals is appended, and a destroyed key must stay destroyed after a crash.

use std::fs::File;
use std::path::PathBuf;
use std::sync::Arc;

use crate::error::StoreFailure;

/// The sled tree of the data keys.
const TREE_NAME: &str = "data-keys";
const KEY_PREFIX: u8 = b'k';
const ERASING_PREFIX: u8 = b'e';
const CHECK_KEY: &[u8] = b"check";

/// The longest data subject name, in bytes (a stream id is far shorter).
pub const DATA_SUBJECT_BYTES_MAX: usize = 256;

/// The wrapped data keys. Cheap to clone; holding one keeps the database open.
#[derive(Clone)]
pub struct DataKeyStore {
    tree: sled::Tree,
    db: sled::Db,
    data_file: Arc<PathBuf>,
}

impl std::fmt::Debug for DataKeyStore {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("DataKeyStore")
            .finish_non_exhaustive()
    }
}

fn prefixed(prefix: u8, subject: &str) -> Result<Vec<u8>, StoreFailure> {
    if subject.is_empty() || subject.len() > DATA_SUBJECT_BYTES_MAX {
        return Err(StoreFailure::io(
            "naming a data subject",
            format!("{subject:?}: a data subject is 1 to {DATA_SUBJECT_BYTES_MAX} bytes"),
        ));
    }
    let mut key = Vec::with_capacity(subject.len() + 1);
    key.push(prefix);
    key.extend_from_slice(subject.as_bytes());
    Ok(key)
}

fn subject_of(key: &[u8]) -> Result<String, StoreFailure> {
    String::from_utf8(key.get(1..).unwrap_or_default().to_vec())
        .map_err(|error| StoreFailure::io("reading a data subject", error))
}

fn failure(operation: &str) -> impl Fn(sled::Error) -> StoreFailure + '_ {
    move |error| StoreFailure::io(operation, error)
}

impl DataKeyStore {
    pub(crate) fn open(db: sled::Db, db_dir: &std::path::Path) -> Result<Self, StoreFailure> {
        let tree = db
            .open_tree(TREE_NAME)
            .map_err(failure("opening the data keys"))?;
        Ok(Self {
            tree,
            db,
            data_file: Arc::new(db_dir.join("db")),
        })
    }

    /// The wrapped key of `subject`, if it has one (none yet, or destroyed).
    pub fn get(&self, subject: &str) -> Result<Option<Vec<u8>>, StoreFailure> {
        let value = self
            .tree
            .get(prefixed(KEY_PREFIX, subject)?)
            .map_err(failure("reading a data key"))?;
        Ok(value.map(|value| value.to_vec()))
    }

    /// Stores new wrapped keys, durably, in one batch. A subject that already has a key keeps
    /// it: the caller's key for it is not written, so two racing writers agree on the first.
    /// Returns the subjects whose key was written.
    pub fn insert_new(&self, keys: &[(String, Vec<u8>)]) -> Result<Vec<String>, StoreFailure> {
        let mut batch = sled::Batch::default();
        let mut written = Vec::new();
        for (subject, wrapped) in keys {
            let key = prefixed(KEY_PREFIX, subject)?;
            let present = self
                .tree
                .contains_key(&key)
                .map_err(failure("reading a data key"))?;
            if !present && !written.contains(subject) {
                batch.insert(key, wrapped.as_slice());
                written.push(subject.clone());
            }
        }
        if !written.is_empty() {
            self.tree
                .apply_batch(batch)
                .map_err(failure("writing data keys"))?;
            self.sync()?;
        }
        Ok(written)
    }

    /// Marks an erasure of `subject` as started, durably, before the `CustomerErased` that
    /// decides it is appended to the stream `decided_by` (the subject's own, or for an enquiry
    /// linked to the customer being erased, the customer's): if the process dies before the
    /// key is destroyed, the next open finds the marker and finishes (or forgets) the erasure.
    pub fn mark_erasing(&self, subject: &str, decided_by: &str) -> Result<(), StoreFailure> {
        self.mark_erasing_all(&[(subject, decided_by)])
    }

    /// [`Self::mark_erasing`] for several subjects at once, with one sync (a bulk append's
    /// chunk can hold several erasures).
    pub fn mark_erasing_all(&self, markers: &[(&str, &str)]) -> Result<(), StoreFailure> {
        if markers.is_empty() {
            return Ok(());
        }
        let mut batch = sled::Batch::default();
        for &(subject, decided_by) in markers {
            // A marker of the subject's own erasure holds nothing, as markers always did.
            let value: &[u8] = if decided_by == subject {
                &[]
            } else {
                decided_by.as_bytes()
            };
            batch.insert(prefixed(ERASING_PREFIX, subject)?, value);
        }
        self.tree
            .apply_batch(batch)
            .map_err(failure("marking an erasure"))?;
        self.sync()
    }

    /// The subjects with an erasure in progress, each with the stream whose `CustomerErased`
    /// decides it.
    pub fn erasing(&self) -> Result<Vec<(String, String)>, StoreFailure> {
        self.tree
            .scan_prefix([ERASING_PREFIX])
            .map(|entry| {
                let (key, value) = entry.map_err(failure("reading erasure markers"))?;
                let subject = subject_of(&key)?;
                let decided_by = if value.is_empty() {
                    subject.clone()
                } else {
                    String::from_utf8(value.to_vec())
                        .map_err(|error| StoreFailure::io("reading an erasure marker", error))?
                };
                Ok((subject, decided_by))
            })
            .collect()
    }

    /// Ends an erasure: with `destroy`, overwrites the subject's key with an empty tombstone
    /// (so no new key is ever made for it) and drops the marker, durably in one batch; without,
    /// only drops the marker (the erasure was refused or never recorded).
    pub fn finish_erasing(&self, subject: &str, destroy: bool) -> Result<(), StoreFailure> {
        let mut batch = sled::Batch::default();
        batch.remove(prefixed(ERASING_PREFIX, subject)?);
        if destroy {
            batch.insert(prefixed(KEY_PREFIX, subject)?, &[]);
        }
        self.tree
            .apply_batch(batch)
            .map_err(failure("destroying a data key"))?;
        self.sync()
    }

    /// Every wrapped key, in subject order (for rotating the master key).
    pub fn all(&self) -> Result<Vec<(String, Vec<u8>)>, StoreFailure> {
        self.tree
            .scan_prefix([KEY_PREFIX])
            .map(|entry| {
                let (key, value) = entry.map_err(failure("reading data keys"))?;
                Ok((subject_of(&key)?, value.to_vec()))
            })
            .collect()
    }

    /// The master key's check value, once set.
    pub fn check(&self) -> Result<Option<Vec<u8>>, StoreFailure> {
        let value = self
            .tree
            .get(CHECK_KEY)
            .map_err(failure("reading the master key check"))?;
        Ok(value.map(|value| value.to_vec()))
    }

    /// Replaces the check value and every wrapped key in ONE atomic batch (a master key
    /// rotation): after a crash either all are under the old master key or all under the new.
    /// `keys` must name exactly the subjects [`DataKeyStore::all`] returned.
    pub fn rewrap_all(&self, check: &[u8], keys: &[(String, Vec<u8>)]) -> Result<(), StoreFailure> {
        let mut batch = sled::Batch::default();
        batch.insert(CHECK_KEY, check);
        for (subject, wrapped) in keys {
            batch.insert(prefixed(KEY_PREFIX, subject)?, wrapped.as_slice());
        }
        self.tree
            .apply_batch(batch)
            .map_err(failure("rewrapping data keys"))?;
        self.sync()
    }

    /// Flushes sled and fdatasyncs its data file.
    fn sync(&self) -> Result<(), StoreFailure> {
        self.db.flush().map_err(failure("flushing data keys"))?;
        File::open(self.data_file.as_ref())
            .and_then(|file| file.sync_data())
            .map_err(|error| StoreFailure::io("fdatasync of log/db (data keys)", error))
    }
}
