//! Test support: the shared hand-written history (`ledger_domain::projection::testing`), and
//! ids and values that read well in failures.

use ledger_domain::ids::CustomerId;
use uuid::Uuid;

pub use ledger_domain::projection::testing::{History, apply};

/// A customer id that reads well in failures (`...00010000000n`), apart from the samples' ids.
pub fn customer(n: u128) -> CustomerId {
    CustomerId::from_uuid(Uuid::from_u128(
        0x0190_a5e2_8c3b_7d4e_9f00_0001_0000_0000 | n,
    ))
}
