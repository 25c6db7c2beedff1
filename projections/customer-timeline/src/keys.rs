//! The timeline's keys (see the crate docs for the layout), its value codec and its cursors.

use jiff::Timestamp;
use ledger_domain::codec;
use ledger_domain::ids::{ContactId, CustomerId, Position};
use ledger_domain::projection::{StateError, StateRead, StateWrite, prefix_end};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// Timeline entries: `E` ‖ customer id ‖ slot.
pub const ENTRY: u8 = b'E';
/// Merge redirects: `M` ‖ merged customer id → the survivor the merge named.
pub const REDIRECT: u8 = b'M';
/// Where a contact's entry was first written: `C` ‖ contact id → [`ContactHome`].
pub const CONTACT: u8 = b'C';
/// Erased customers: `X` ‖ customer id → empty.
pub const ERASED: u8 = b'X';
/// Entries per customer: `N` ‖ customer id → `u64`.
pub const COUNT: u8 = b'N';

/// A customer id in a key: its 16 UUID bytes.
pub const CUSTOMER_ID_BYTES: usize = 16;

/// An entry's place in time: occurred_at (16 bytes) ‖ position (8 bytes).
pub const SLOT_BYTES: usize = 24;

/// Where an entry sits on a timeline: occurred_at as i128 nanoseconds, big-endian with the sign
/// bit flipped (so byte order is time order, before 1970 included), then the position,
/// big-endian. Equal times are ordered by position, as the design asks.
pub type Slot = [u8; SLOT_BYTES];

pub fn slot(occurred_at: Timestamp, position: Position) -> Slot {
    let mut slot = [0; SLOT_BYTES];
    slot[..16].copy_from_slice(&time_bytes(occurred_at));
    slot[16..].copy_from_slice(&position.get().to_be_bytes());
    slot
}

/// `slot` moved to `occurred_at`, keeping its position (what orders entries of equal time).
pub fn moved_slot(slot: &Slot, occurred_at: Timestamp) -> Slot {
    let mut moved = *slot;
    moved[..16].copy_from_slice(&time_bytes(occurred_at));
    moved
}

/// The first 16 bytes of a slot: every slot at `at` sorts at or after these bytes, and every
/// slot before `at` sorts before them.
pub fn time_bytes(at: Timestamp) -> [u8; 16] {
    let mut bytes = at.as_nanosecond().to_be_bytes();
    bytes[0] ^= 0x80;
    bytes
}

/// `tag` ‖ customer id.
pub fn customer_key(tag: u8, customer: CustomerId) -> Vec<u8> {
    let mut key = Vec::with_capacity(1 + CUSTOMER_ID_BYTES + SLOT_BYTES);
    key.push(tag);
    key.extend_from_slice(customer.as_uuid().as_bytes());
    key
}

/// Every entry of `customer` starts with this.
pub fn timeline_prefix(customer: CustomerId) -> Vec<u8> {
    customer_key(ENTRY, customer)
}

/// The first key after every entry of `customer`.
pub fn timeline_end(customer: CustomerId) -> Vec<u8> {
    // The prefix starts with `E`, so it always has an end; empty would mean "to the end of the
    // keyspace", which would reach other tags.
    prefix_end(&timeline_prefix(customer)).unwrap_or_default()
}

pub fn entry_key(customer: CustomerId, slot: &Slot) -> Vec<u8> {
    let mut key = timeline_prefix(customer);
    key.extend_from_slice(slot);
    key
}

/// The slot at the end of an entry key.
pub fn slot_of(key: &[u8]) -> Result<Slot, StateError> {
    key.len()
        .checked_sub(SLOT_BYTES)
        .and_then(|start| key[start..].try_into().ok())
        .ok_or_else(|| StateError(format!("customer-timeline: key {key:02x?} has no slot")))
}

pub fn contact_key(contact: ContactId) -> Vec<u8> {
    let mut key = vec![CONTACT];
    key.extend_from_slice(contact.as_uuid().as_bytes());
    key
}

/// The timeline a contact's entry was first written to and where on it; copies made by merges
/// sit at the same slot on the survivors' timelines.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ContactHome {
    pub customer: CustomerId,
    pub slot: Slot,
}

/// Reads and decodes the value at `key`.
pub fn read<T: DeserializeOwned, S: StateRead + ?Sized>(
    state: &S,
    key: &[u8],
) -> Result<Option<T>, StateError> {
    state.get(key)?.map(|bytes| decode(key, &bytes)).transpose()
}

/// Decodes a value read from `key`; a failure means the state is corrupt.
pub fn decode<T: DeserializeOwned>(key: &[u8], bytes: &[u8]) -> Result<T, StateError> {
    codec::decode(bytes).map_err(|error| {
        StateError(format!(
            "customer-timeline: the value at {key:02x?} does not decode: {error}"
        ))
    })
}

/// Encodes `value` and writes it at `key`.
pub fn write<T: Serialize>(
    state: &mut dyn StateWrite,
    key: Vec<u8>,
    value: &T,
) -> Result<(), StateError> {
    let bytes = codec::encode(value)
        .map_err(|error| StateError(format!("customer-timeline: cannot encode: {error}")))?;
    state.put(key, bytes);
    Ok(())
}

/// A slot as a cursor: 48 lower-case hex digits. Opaque to callers.
pub fn cursor(slot: &Slot) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut text = String::with_capacity(SLOT_BYTES * 2);
    for byte in slot {
        text.push(char::from(DIGITS[usize::from(byte >> 4)]));
        text.push(char::from(DIGITS[usize::from(byte & 0x0f)]));
    }
    text
}

/// The slot a cursor names, or `None` if it is not one.
pub fn parse_cursor(text: &str) -> Option<Slot> {
    let pairs = text.as_bytes().chunks_exact(2);
    if !pairs.remainder().is_empty() || pairs.len() != SLOT_BYTES {
        return None;
    }
    let value = |digit: u8| {
        char::from(digit)
            .to_digit(16)
            .and_then(|v| u8::try_from(v).ok())
    };
    let bytes: Vec<u8> = pairs
        .map(|pair| Some((value(pair[0])? << 4) | value(pair[1])?))
        .collect::<Option<_>>()?;
    bytes.try_into().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_sort_by_time_then_position_across_the_epoch() {
        let at = |text: &str| text.parse::<Timestamp>().unwrap();
        let slots = [
            slot(at("1969-12-31T23:59:59.999999999Z"), Position(9)),
            slot(at("1970-01-01T00:00:00Z"), Position(1)),
            slot(at("1970-01-01T00:00:00Z"), Position(2)),
            slot(at("1970-01-01T00:00:00.000000001Z"), Position(1)),
            slot(at("2024-03-15T01:30:00Z"), Position(1)),
        ];
        assert!(slots.windows(2).all(|pair| pair[0] < pair[1]));
        let earliest = slot(Timestamp::MIN, Position(u64::MAX));
        let latest = slot(Timestamp::MAX, Position(0));
        assert!(earliest < slots[0] && slots[4] < latest);
    }

    #[test]
    fn cursors_round_trip_and_refuse_anything_else() {
        let slot = slot("2024-03-15T01:30:00Z".parse().unwrap(), Position(42));
        let text = cursor(&slot);
        assert_eq!(text.len(), 48);
        assert_eq!(parse_cursor(&text), Some(slot));
        assert_eq!(parse_cursor(&text.to_uppercase()), Some(slot));
        for bad in [
            "",
            "00",
            &text[..47],
            &format!("{text}00"),
            &text.replace('0', "g"),
        ] {
            assert_eq!(parse_cursor(bad), None, "{bad}");
        }
    }
}
