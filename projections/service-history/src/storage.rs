//! Reading and writing encoded values in the projection's state, and the walks over a
//! prefix that merges and erasures need. Values go through `ledger_domain::codec`, the one
//! encoding the ledger allows.

use ledger_domain::codec;
use ledger_domain::ids::CustomerId;
use ledger_domain::projection::{Entry, Order, StateError, StateRead, StateWrite, prefix_end};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::keys;

/// Entries read per step of a walk over a prefix (re-indexing a merged customer's history,
/// erasing a customer's texts). Bounds the memory of one step; a walk takes as many steps
/// as the prefix has entries.
pub(crate) const WALK_BATCH_ENTRIES: usize = 256;

/// The most merges followed from a customer to its survivor. Merges form chains (A into B,
/// later B into C) and the fold refuses cycles, so a chain is as long as the number of
/// duplicates of one person; 32 is far beyond any real duplicate count and stops a walk over
/// corrupted state.
pub(crate) const MERGE_CHAIN_MAX: usize = 32;

/// A key as text for an error message: printable ASCII as is, other bytes escaped.
pub(crate) fn describe(key: &[u8]) -> String {
    key.escape_ascii().to_string()
}

pub(crate) fn read<T, S>(state: &S, key: &[u8]) -> Result<Option<T>, StateError>
where
    T: DeserializeOwned,
    S: StateRead + ?Sized,
{
    let Some(bytes) = state.get(key)? else {
        return Ok(None);
    };
    codec::decode(&bytes)
        .map(Some)
        .map_err(|error| StateError(format!("service-history: {}: {error}", describe(key))))
}

pub(crate) fn write<T: Serialize>(
    state: &mut dyn StateWrite,
    key: Vec<u8>,
    value: &T,
) -> Result<(), StateError> {
    let bytes = codec::encode(value)
        .map_err(|error| StateError(format!("service-history: {}: {error}", describe(&key))))?;
    state.put(key, bytes);
    Ok(())
}

/// Replaces the index entries `before` with `after`, each pointing at `record_key`, writing
/// only the difference.
pub(crate) fn reindex(
    state: &mut dyn StateWrite,
    before: &[Vec<u8>],
    after: &[Vec<u8>],
    record_key: &[u8],
) {
    for key in before.iter().filter(|key| !after.contains(key)) {
        state.delete(key);
    }
    for key in after.iter().filter(|key| !before.contains(key)) {
        state.put(key.clone(), record_key.to_vec());
    }
}

/// The customer whose history holds `customer`'s cases and claims: `customer` itself, or the
/// survivor it was (transitively) merged into.
pub(crate) fn history_owner<S>(state: &S, customer: CustomerId) -> Result<CustomerId, StateError>
where
    S: StateRead + ?Sized,
{
    let mut current = customer;
    for _ in 0..MERGE_CHAIN_MAX {
        match read::<CustomerId, _>(state, &keys::merged(current))? {
            Some(survivor) => current = survivor,
            None => return Ok(current),
        }
    }
    Err(StateError(format!(
        "service-history: customer {customer} is merged through more than {MERGE_CHAIN_MAX} customers"
    )))
}

/// Every entry under `prefix`, in key order, read in batches of [`WALK_BATCH_ENTRIES`].
pub(crate) fn walk_prefix<S>(state: &S, prefix: &[u8]) -> Result<Vec<Entry>, StateError>
where
    S: StateRead + ?Sized,
{
    let end = prefix_end(prefix).unwrap_or_default();
    let mut start = prefix.to_vec();
    let mut entries = Vec::new();
    loop {
        let batch = state.range(&start, &end, Order::Ascending, WALK_BATCH_ENTRIES)?;
        let full = batch.len() == WALK_BATCH_ENTRIES;
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
