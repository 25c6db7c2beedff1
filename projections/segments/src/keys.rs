//! The keyspace layout (described in the crate root): a one-byte tag, then a customer id's
//! 16 UUID bytes where there is one.

use ledger_domain::ids::CustomerId;

pub(crate) const CUSTOMER: u8 = b'C';
pub(crate) const MERGED: u8 = b'M';

/// `L`: the latest day the fold has seen (the pruning clock).
pub(crate) const LATEST: &[u8] = b"L";

fn tagged(tag: u8, customer: CustomerId) -> Vec<u8> {
    let mut key = Vec::with_capacity(17);
    key.push(tag);
    key.extend_from_slice(customer.as_uuid().as_bytes());
    key
}

/// `C{customer}`: the customer's [`crate::facts::CustomerFacts`].
pub(crate) fn customer(customer: CustomerId) -> Vec<u8> {
    tagged(CUSTOMER, customer)
}

/// `M{customer}`: the survivor the customer was merged into.
pub(crate) fn merged(customer: CustomerId) -> Vec<u8> {
    tagged(MERGED, customer)
}
