//! The keyspace layout (described in the crate root): key builders for records, indexes and
//! queues, and the checks that tell a real cursor from a forged one.
//!
//! An index key is `{prefix}{instant: 16 bytes}/{item}`. The instant is the nanoseconds since
//! the Unix epoch as a big-endian `i128` with its sign bit flipped, so byte order is time
//! order, before 1970 included. The item (a case id, a claim number, or a record key in a
//! customer's history) breaks ties and makes the key unique. Every index value is the key of
//! the record the entry points at, so a query never rebuilds a key from parts.

use std::str;

use jiff::Timestamp;
use ledger_domain::ids::{CaseId, ContactId, CustomerId};
use ledger_domain::values::{ClaimNumber, PolicyNumber};

/// Bytes of an instant inside an index key.
pub(crate) const INSTANT_BYTES: usize = 16;

pub(crate) const CASE: &[u8] = b"case/";
pub(crate) const CLAIM: &[u8] = b"claim/";
pub(crate) const POLICY: &[u8] = b"policy/";
pub(crate) const MERGED: &[u8] = b"merged/";
pub(crate) const ERASED: &[u8] = b"erased/";
pub(crate) const CUSTOMER: &[u8] = b"cust/";
pub(crate) const OPEN: &[u8] = b"open/";
pub(crate) const RESOLVED: &[u8] = b"resolved/";
pub(crate) const CLOSED: &[u8] = b"closed/";
pub(crate) const LATE_OPEN: &[u8] = b"late/open/";
pub(crate) const LATE_RESOLVED: &[u8] = b"late/resolved/";
pub(crate) const LATE_CLOSED: &[u8] = b"late/closed/";
pub(crate) const CLAIM_DUE: &[u8] = b"claimdue/";
pub(crate) const CLAIM_LATE: &[u8] = b"claimlate/";
/// Not under `claimlate/`, whose walk would otherwise meet these entries too.
pub(crate) const CLAIM_LATE_OPEN: &[u8] = b"claimlateopen/";
pub(crate) const CONTACT: &[u8] = b"contact/";
pub(crate) const RESPONSE: &[u8] = b"response/";

fn join(prefix: &[u8], item: &str) -> Vec<u8> {
    let mut key = Vec::with_capacity(prefix.len() + item.len());
    key.extend_from_slice(prefix);
    key.extend_from_slice(item.as_bytes());
    key
}

/// `case/{id}`: a [`crate::CaseRecord`].
pub(crate) fn case(id: CaseId) -> Vec<u8> {
    join(CASE, &id.to_string())
}

/// `claim/{number}`: a [`crate::ClaimRecord`].
pub(crate) fn claim(number: &ClaimNumber) -> Vec<u8> {
    join(CLAIM, number.as_str())
}

/// `policy/{number}`: the policy's product lines as last issued, renewed or endorsed.
pub(crate) fn policy(number: &PolicyNumber) -> Vec<u8> {
    join(POLICY, number.as_str())
}

/// `contact/{id}`: the case the contact answers and when it started, while it counts as a
/// response.
pub(crate) fn contact(id: ContactId) -> Vec<u8> {
    join(CONTACT, &id.to_string())
}

/// `response/{case}/`: the prefix of the case's responding contacts, earliest first.
pub(crate) fn responses(case: CaseId) -> Vec<u8> {
    let mut key = join(RESPONSE, &case.to_string());
    key.push(b'/');
    key
}

/// `response/{case}/{started at}/{contact}`: one contact answering the case.
pub(crate) fn response(case: CaseId, started_at: Timestamp, contact: ContactId) -> Vec<u8> {
    index(&responses(case), started_at, contact.to_string().as_bytes())
}

/// `merged/{customer}`: the customer this one was merged into.
pub(crate) fn merged(customer: CustomerId) -> Vec<u8> {
    join(MERGED, &customer.to_string())
}

/// `erased/{customer}`: present once the customer's personal data is erased.
pub(crate) fn erased(customer: CustomerId) -> Vec<u8> {
    join(ERASED, &customer.to_string())
}

/// `cust/{customer}/`: the prefix of a customer's history entries.
pub(crate) fn customer_history(customer: CustomerId) -> Vec<u8> {
    let mut key = join(CUSTOMER, &customer.to_string());
    key.push(b'/');
    key
}

/// The instant as 16 bytes whose byte order is time order.
pub(crate) fn instant(at: Timestamp) -> [u8; INSTANT_BYTES] {
    (at.as_nanosecond() ^ i128::MIN).to_be_bytes()
}

/// `{prefix}{instant}/{item}`.
pub(crate) fn index(prefix: &[u8], at: Timestamp, item: &[u8]) -> Vec<u8> {
    let mut key = Vec::with_capacity(prefix.len() + INSTANT_BYTES + 1 + item.len());
    key.extend_from_slice(prefix);
    key.extend_from_slice(&instant(at));
    key.push(b'/');
    key.extend_from_slice(item);
    key
}

/// The instant at the start of `suffix` (an index key without its prefix), if it is one.
pub(crate) fn instant_of(suffix: &[u8]) -> Option<Timestamp> {
    let (instant_bytes, _) = suffix.split_first_chunk::<INSTANT_BYTES>()?;
    let nanoseconds = i128::from_be_bytes(*instant_bytes) ^ i128::MIN;
    Timestamp::from_nanosecond(nanoseconds).ok()
}

/// `{prefix}{instant}`: the first key of `prefix` at `at`, an exclusive bound for "before".
pub(crate) fn instant_bound(prefix: &[u8], at: Timestamp) -> Vec<u8> {
    let mut key = prefix.to_vec();
    key.extend_from_slice(&instant(at));
    key
}

/// What the item part of an index key is, so a cursor can be checked against it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Item {
    CaseId,
    ClaimNumber,
    /// A record key, `case/{id}` or `claim/{number}` (a customer's history).
    RecordKey,
}

/// Whether `suffix` (an index key without its prefix) is `{instant}/{item}` with a real
/// instant and an item of kind `item` in its canonical spelling.
pub(crate) fn is_index_suffix(item: Item, suffix: &[u8]) -> bool {
    if instant_of(suffix).is_none() {
        return false;
    }
    let rest = &suffix[INSTANT_BYTES..];
    let Some((b'/', text)) = rest.split_first() else {
        return false;
    };
    let Ok(text) = str::from_utf8(text) else {
        return false;
    };
    match item {
        Item::CaseId => is_case_id(text),
        Item::ClaimNumber => is_claim_number(text),
        Item::RecordKey => {
            let case = text.strip_prefix("case/").is_some_and(is_case_id);
            let claim = text.strip_prefix("claim/").is_some_and(is_claim_number);
            case || claim
        }
    }
}

fn is_case_id(text: &str) -> bool {
    CaseId::parse("", text).is_ok_and(|id| id.to_string() == text)
}

fn is_claim_number(text: &str) -> bool {
    ClaimNumber::parse("", text).is_ok_and(|number| number.as_str() == text)
}

pub(crate) use ledger_domain::projection::paging::{from_hex, to_hex};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instants_sort_as_bytes_in_time_order() {
        let times = [
            "1969-12-31T23:59:59.999999999Z",
            "1970-01-01T00:00:00Z",
            "2025-03-07T09:30:00Z",
            "2025-03-07T09:30:00.000000001Z",
            "2027-01-01T00:00:00Z",
        ]
        .map(|text| text.parse::<Timestamp>().unwrap());
        for pair in times.windows(2) {
            assert!(instant(pair[0]) < instant(pair[1]), "{pair:?}");
        }
    }

    #[test]
    fn index_suffixes_are_checked_by_kind() {
        let at: Timestamp = "2025-03-07T09:30:00Z".parse().unwrap();
        let id = CaseId::parse("", "0190a5e2-8c3b-7d4e-9f00-000000000201").unwrap();
        let key = index(OPEN, at, id.to_string().as_bytes());
        let suffix = &key[OPEN.len()..];
        assert!(is_index_suffix(Item::CaseId, suffix));
        assert!(!is_index_suffix(Item::ClaimNumber, b"short"));
        assert!(!is_index_suffix(Item::RecordKey, suffix));
        let history = index(CUSTOMER, at, &case(id));
        assert!(is_index_suffix(Item::RecordKey, &history[CUSTOMER.len()..]));
    }
}
