//! The keyspace layout (described in the crate root): key builders and the checks that tell
//! a real cursor suffix from a forged one.
//!
//! Instants in keys are 16 bytes: the nanoseconds since the Unix epoch as a big-endian `i128`
//! with its sign bit flipped, so byte order is time order. Days are 4 bytes (year as a
//! big-endian `i16` with its sign bit flipped, month, day) and months 3, so byte order is
//! calendar order. Log positions are 8 bytes big-endian. Staff ids never hold `/`, so
//! `{staff}/` cannot be the start of another staff id's keys.

use std::str;

use jiff::Timestamp;
use jiff::civil::Date;
use ledger_domain::ids::{ContactId, CustomerId, Position, StaffId};
use ledger_domain::values::PolicyNumber;

pub(crate) const CONTACT: &[u8] = b"contact/";
pub(crate) const AGENT: &[u8] = b"agent/";
pub(crate) const MANAGER: &[u8] = b"manager/";
pub(crate) const ASSIGNMENT: &[u8] = b"assignment/";
pub(crate) const LATEST_ASSIGNMENT: &[u8] = b"latestassignment/";
pub(crate) const CSAT: &[u8] = b"csat/";
pub(crate) const SALE_CANDIDATE: &[u8] = b"salecontact/";
pub(crate) const UNATTRIBUTED: &[u8] = b"unattributed/";
pub(crate) const CREDITED_SALE: &[u8] = b"creditedsale/";
pub(crate) const POLICY_CREDIT: &[u8] = b"policycredit/";

/// Whose figures a bucket holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Role {
    /// A member of staff who handled contacts or made sales.
    Agent,
    /// An account manager, for the corporate customers in their book.
    Manager,
}

impl Role {
    /// `agent/` or `manager/`: the index of staff with this role.
    pub(crate) fn index(self) -> &'static [u8] {
        match self {
            Self::Agent => AGENT,
            Self::Manager => MANAGER,
        }
    }

    fn day_prefix(self) -> &'static [u8] {
        match self {
            Self::Agent => b"agentday/",
            Self::Manager => b"managerday/",
        }
    }

    fn month_prefix(self) -> &'static [u8] {
        match self {
            Self::Agent => b"agentmonth/",
            Self::Manager => b"managermonth/",
        }
    }
}

fn with_id(prefix: &[u8], id: &str) -> Vec<u8> {
    let mut key = prefix.to_vec();
    key.extend_from_slice(id.as_bytes());
    key
}

fn with_id_slash(prefix: &[u8], id: &str) -> Vec<u8> {
    let mut key = with_id(prefix, id);
    key.push(b'/');
    key
}

/// `contact/{id}`: what the projection keeps of a contact (see `fold::ContactRecord`).
pub(crate) fn contact(id: ContactId) -> Vec<u8> {
    with_id(CONTACT, &id.to_string())
}

/// `agent/{staff}` or `manager/{staff}`: the staff member has figures in this role.
pub(crate) fn staff_index(role: Role, staff: &StaffId) -> Vec<u8> {
    with_id(role.index(), staff.as_str())
}

/// The 4 bytes of a day in keys.
fn day_bytes(day: Date) -> [u8; 4] {
    let [high, low] = (day.year() ^ i16::MIN).to_be_bytes();
    let month = day.month().unsigned_abs();
    let day = day.day().unsigned_abs();
    [high, low, month, day]
}

/// `{role}day/{staff}/`: the prefix of a member of staff's day buckets.
pub(crate) fn day_buckets(role: Role, staff: &StaffId) -> Vec<u8> {
    with_id_slash(role.day_prefix(), staff.as_str())
}

/// `{role}day/{staff}/{day}`: the figures of one day.
pub(crate) fn day_bucket(role: Role, staff: &StaffId, day: Date) -> Vec<u8> {
    let mut key = day_buckets(role, staff);
    key.extend_from_slice(&day_bytes(day));
    key
}

/// `{role}month/{staff}/`: the prefix of a member of staff's month buckets.
pub(crate) fn month_buckets(role: Role, staff: &StaffId) -> Vec<u8> {
    with_id_slash(role.month_prefix(), staff.as_str())
}

/// `{role}month/{staff}/{month}`: the figures of the month `day` falls in.
pub(crate) fn month_bucket(role: Role, staff: &StaffId, day: Date) -> Vec<u8> {
    let mut key = month_buckets(role, staff);
    key.extend_from_slice(&day_bytes(day)[..3]);
    key
}

/// The instant as 16 bytes whose byte order is time order.
pub(crate) fn instant(at: Timestamp) -> [u8; 16] {
    (at.as_nanosecond() ^ i128::MIN).to_be_bytes()
}

/// `{prefix}{customer}/`: the prefix of one customer's timed entries.
pub(crate) fn customer_entries(prefix: &[u8], customer: CustomerId) -> Vec<u8> {
    with_id_slash(prefix, &customer.to_string())
}

/// `{prefix}{customer}/{instant}`: where `customer`'s entries at `at` start.
pub(crate) fn customer_at(prefix: &[u8], customer: CustomerId, at: Timestamp) -> Vec<u8> {
    let mut key = customer_entries(prefix, customer);
    key.extend_from_slice(&instant(at));
    key
}

/// `{prefix}{customer}/{instant}{position}`: one timed entry, unique by its log position.
pub(crate) fn customer_entry(
    prefix: &[u8],
    customer: CustomerId,
    at: Timestamp,
    position: Position,
) -> Vec<u8> {
    let mut key = customer_at(prefix, customer, at);
    key.extend_from_slice(&position.get().to_be_bytes());
    key
}

/// `latestassignment/{customer}`: the customer's assignment with the greatest key.
pub(crate) fn latest_assignment(customer: CustomerId) -> Vec<u8> {
    with_id(LATEST_ASSIGNMENT, &customer.to_string())
}

/// `salecontact/{customer}/{instant}{contact id}`: one of the customer's sale-closing
/// contacts, under when it started and then its id (its UUID's 16 bytes, whose byte order is
/// the id's order), so the greatest key at or before an instant is the latest contact by
/// (start, id).
pub(crate) fn sale_candidate(
    customer: CustomerId,
    started_at: Timestamp,
    contact: ContactId,
) -> Vec<u8> {
    let mut key = customer_at(SALE_CANDIDATE, customer, started_at);
    key.extend_from_slice(contact.as_uuid().as_bytes());
    key
}

/// `policycredit/{policy number}`: who was credited with the policy's latest sale, so its
/// cancellation's refund is shown against the same staff (see `fold::PolicyCredit`).
pub(crate) fn policy_credit(policy: &PolicyNumber) -> Vec<u8> {
    with_id(POLICY_CREDIT, policy.as_str())
}

/// Whether `suffix` is a staff id in its canonical spelling.
pub(crate) fn is_staff_suffix(suffix: &[u8]) -> bool {
    str::from_utf8(suffix)
        .is_ok_and(|text| StaffId::parse("", text).is_ok_and(|id| id.as_str() == text))
}

#[cfg(test)]
mod tests {
    use jiff::civil::date;

    use super::*;

    #[test]
    fn days_and_months_sort_as_bytes_in_calendar_order() {
        let days = [
            date(-3, 12, 31),
            date(1999, 12, 31),
            date(2025, 1, 31),
            date(2025, 2, 1),
            date(2025, 10, 1),
            date(2025, 10, 2),
        ];
        let staff = StaffId::parse("", "agent-0001").unwrap();
        for pair in days.windows(2) {
            let (earlier, later) = (pair[0], pair[1]);
            assert!(day_bytes(earlier) < day_bytes(later), "{pair:?}");
            assert!(
                day_bucket(Role::Agent, &staff, earlier) < day_bucket(Role::Agent, &staff, later)
            );
            assert!(
                month_bucket(Role::Agent, &staff, earlier)
                    <= month_bucket(Role::Agent, &staff, later)
            );
        }
    }

    #[test]
    fn sale_candidates_sort_by_start_then_contact_id() {
        let customer = CustomerId::parse("", "0190a5e2-8c3b-7d4e-9f00-100000000001").unwrap();
        let contact = |text: &str| ContactId::parse("", text).unwrap();
        let (low, high) = (
            contact("0190a5e2-8c3b-7d4e-9f00-4000000000ff"),
            contact("0190a5e2-8c3b-7d4e-9f00-400000000100"),
        );
        let (earlier, later): (Timestamp, Timestamp) = (
            "2025-03-10T02:00:00Z".parse().unwrap(),
            "2025-03-10T02:00:00.000000001Z".parse().unwrap(),
        );
        let keys = [
            sale_candidate(customer, earlier, low),
            sale_candidate(customer, earlier, high),
            sale_candidate(customer, later, low),
        ];
        assert!(low < high);
        for pair in keys.windows(2) {
            assert!(pair[0] < pair[1], "{pair:?}");
        }
    }

    #[test]
    fn staff_suffixes_are_canonical_staff_ids() {
        assert!(is_staff_suffix(b"agent-0001"));
        assert!(!is_staff_suffix(b" agent-0001"));
        assert!(!is_staff_suffix(b"a/b"));
        assert!(!is_staff_suffix(&[0xff]));
    }
}
