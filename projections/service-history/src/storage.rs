//! Reading and writing encoded values in the projection's state, and the walks over a
//! prefix that merges and erasures need. Values go through `ledger_domain::codec`, the one
//! encoding the ledger allows.

use ledger_domain::ids::CustomerId;
use ledger_domain::projection::storage::StateCodec;
pub(crate) use ledger_domain::projection::storage::describe;
use ledger_domain::projection::{StateError, StateRead, StateWrite};

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

/// Reads and writes this projection's values, naming it in their errors.
pub(crate) const STATE: StateCodec = StateCodec::new("service-history", WALK_BATCH_ENTRIES);

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
        match STATE.read::<CustomerId, _>(state, &keys::merged(current))? {
            Some(survivor) => current = survivor,
            None => return Ok(current),
        }
    }
    Err(StateError(format!(
        "service-history: customer {customer} is merged through more than {MERGE_CHAIN_MAX} customers"
    )))
}
