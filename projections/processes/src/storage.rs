//! Reading and writing encoded values in the projection's state, and the batched walk over a
//! prefix. Values go through `ledger_domain::codec`, the one encoding the ledger allows;
//! [`STATE`] is `ledger_domain::projection::storage`'s codec, named for this projection.

use ledger_domain::projection::storage::StateCodec;
pub(crate) use ledger_domain::projection::storage::describe;

/// Entries read per step of a walk over a prefix (the processes linking to one, the broken
/// links of one, a department's processes). Bounds the memory of one step; a walk takes as
/// many steps as the prefix has entries.
pub(crate) const WALK_BATCH_ENTRIES: usize = 256;

/// Reads and writes this projection's values, naming it in their errors.
pub(crate) const STATE: StateCodec = StateCodec::new("processes", WALK_BATCH_ENTRIES);
