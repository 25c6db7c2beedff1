//! Reading and writing encoded values in the projection's state, and the batched walk over a
//! prefix. Values go through `ledger_domain::codec`, the one encoding the ledger allows;
//! [`STATE`] is `ledger_domain::projection::storage`'s codec, named for this projection.

use ledger_domain::projection::storage::StateCodec;
pub(crate) use ledger_domain::projection::storage::describe;
use ledger_domain::projection::{Entry, Order, StateError, StateRead, prefix_end};

/// Entries read per step of a walk (a customer's assignments, satisfaction answers, or sales
/// unattributed or credited to a contact). Bounds the memory of one step; a walk takes as many steps as the range
/// has entries.
pub(crate) const WALK_BATCH_ENTRIES: usize = 256;

/// Reads and writes this projection's values, naming it in their errors.
pub(crate) const STATE: StateCodec = StateCodec::new("performance", WALK_BATCH_ENTRIES);

/// Every entry under `prefix`, in key order, read in batches of [`WALK_BATCH_ENTRIES`].
pub(crate) fn walk_prefix<S>(state: &S, prefix: &[u8]) -> Result<Vec<Entry>, StateError>
where
    S: StateRead + ?Sized,
{
    // Every prefix used here ends in `/`, so it has an end.
    let end = prefix_end(prefix).unwrap_or_default();
    walk_range(state, prefix, &end)
}

/// Every entry with a key in `[start, end)`, in key order, read in batches of
/// [`WALK_BATCH_ENTRIES`].
pub(crate) fn walk_range<S>(state: &S, start: &[u8], end: &[u8]) -> Result<Vec<Entry>, StateError>
where
    S: StateRead + ?Sized,
{
    let mut start = start.to_vec();
    let mut entries = Vec::new();
    loop {
        if start.as_slice() >= end {
            return Ok(entries);
        }
        let batch = state.range(&start, end, Order::Ascending, WALK_BATCH_ENTRIES)?;
        let full = batch.len() == WALK_BATCH_ENTRIES;
        if let Some((last, _)) = batch.last() {
            start = last.clone();
            start.push(0);
        }
        entries.extend(batch);
        if !full {
            return Ok(entries);
        }
    }
}
