//! Reading and writing encoded values in a projection's state, and the batched walk over a
//! prefix. Values go through [`crate::codec`], the one encoding the ledger allows.
//!
//! A projection keeps one [`StateCodec`] naming it, so a value that fails to decode says
//! whose state it was found in.

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::{Entry, Order, StateError, StateRead, StateWrite, prefix_end};
use crate::codec;

/// A key as text for an error message: printable ASCII as is, other bytes escaped.
pub fn describe(key: &[u8]) -> String {
    key.escape_ascii().to_string()
}

/// Reads and writes one projection's encoded values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StateCodec {
    /// Begins every error message, to say whose state failed.
    projection: &'static str,
    /// Entries read per step of [`StateCodec::walk_prefix`]: bounds the memory of one step.
    walk_batch_entries: usize,
}

impl StateCodec {
    /// The codec of the projection named `projection`, walking `walk_batch_entries` at a time.
    pub const fn new(projection: &'static str, walk_batch_entries: usize) -> Self {
        // An empty batch would never finish a walk.
        assert!(
            walk_batch_entries > 0,
            "a walk reads at least one entry per batch"
        );
        Self {
            projection,
            walk_batch_entries,
        }
    }

    /// The value at `key`, decoded, or `None` when there is none.
    pub fn read<T, S>(&self, state: &S, key: &[u8]) -> Result<Option<T>, StateError>
    where
        T: DeserializeOwned,
        S: StateRead + ?Sized,
    {
        let Some(bytes) = state.get(key)? else {
            return Ok(None);
        };
        codec::decode(&bytes)
            .map(Some)
            .map_err(|error| self.error(key, error))
    }

    /// Encodes `value` and puts it at `key`.
    pub fn write<T: Serialize>(
        &self,
        state: &mut dyn StateWrite,
        key: Vec<u8>,
        value: &T,
    ) -> Result<(), StateError> {
        let bytes = codec::encode(value).map_err(|error| self.error(&key, error))?;
        state.put(key, bytes);
        Ok(())
    }

    /// Every entry under `prefix`, in key order, read in batches of the codec's walk size.
    pub fn walk_prefix<S>(&self, state: &S, prefix: &[u8]) -> Result<Vec<Entry>, StateError>
    where
        S: StateRead + ?Sized,
    {
        let end = prefix_end(prefix).unwrap_or_default();
        let mut start = prefix.to_vec();
        let mut entries = Vec::new();
        loop {
            let batch = state.range(&start, &end, Order::Ascending, self.walk_batch_entries)?;
            let full = batch.len() == self.walk_batch_entries;
            if let Some((last, _)) = batch.last() {
                // The smallest key after `last`.
                start = last.clone();
                start.push(0);
            }
            entries.extend(batch);
            if !full {
                return Ok(entries);
            }
        }
    }

    fn error(&self, key: &[u8], error: codec::CodecError) -> StateError {
        StateError(format!("{}: {}: {error}", self.projection, describe(key)))
    }
}
