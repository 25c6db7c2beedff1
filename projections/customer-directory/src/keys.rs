//! The directory's keys (see the crate docs for the layout), its value codec and its cursors.

use ledger_domain::codec;
use ledger_domain::ids::CustomerId;
use ledger_domain::projection::{StateError, StateRead, StateWrite};
use ledger_domain::values::{Identifier, IdentifierKind};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// Customer records: `R` ‖ customer id.
pub const RECORD: u8 = b'R';
/// Identifier → holder and linked customer: `I` ‖ kind tag ‖ value.
pub const IDENTIFIER: u8 = b'I';
/// Customer → identifiers (the reverse index): `O` ‖ customer id ‖ kind tag ‖ value.
pub const OWNED: u8 = b'O';
/// The name index: `N` ‖ lower-cased name ‖ `0x00` ‖ customer id.
pub const NAME: u8 = b'N';
/// Customer → identifiers a later link took from them, which erasing that later customer gives
/// back (the reverse index erasure walks to take the customer out of the identifiers' links):
/// `S` ‖ customer id ‖ kind tag ‖ value.
pub const SUPERSEDED: u8 = b'S';

/// Separates a name from the customer id in a name key; names never contain it.
pub const NAME_SEPARATOR: u8 = 0x00;

/// The length of a customer id in a key.
pub const CUSTOMER_ID_BYTES: usize = 16;

/// The stored tag of each identifier kind. Part of the layout: never renumber a kind, only add.
pub fn kind_tag(kind: IdentifierKind) -> u8 {
    match kind {
        IdentifierKind::Mobile => 1,
        IdentifierKind::Landline => 2,
        IdentifierKind::WeChat => 3,
        IdentifierKind::Email => 4,
        IdentifierKind::IdCard => 5,
        IdentifierKind::SocialCreditCode => 6,
        IdentifierKind::Plate => 7,
        IdentifierKind::Vin => 8,
        IdentifierKind::PolicyNumber => 9,
        IdentifierKind::ClaimNumber => 10,
    }
}

/// `tag` ‖ customer id.
pub fn customer_key(tag: u8, customer: CustomerId) -> Vec<u8> {
    let mut key = Vec::with_capacity(1 + CUSTOMER_ID_BYTES);
    key.push(tag);
    key.extend_from_slice(customer.as_uuid().as_bytes());
    key
}

/// The identifier's part of a key: kind tag ‖ normalised value.
pub fn identifier_suffix(identifier: &Identifier) -> Vec<u8> {
    let mut suffix = Vec::with_capacity(1 + identifier.value().len());
    suffix.push(kind_tag(identifier.kind()));
    suffix.extend_from_slice(identifier.value().as_bytes());
    suffix
}

pub fn record_key(customer: CustomerId) -> Vec<u8> {
    customer_key(RECORD, customer)
}

pub fn identifier_key(identifier: &Identifier) -> Vec<u8> {
    let mut key = vec![IDENTIFIER];
    key.extend_from_slice(&identifier_suffix(identifier));
    key
}

pub fn owned_key(customer: CustomerId, identifier: &Identifier) -> Vec<u8> {
    let mut key = customer_key(OWNED, customer);
    key.extend_from_slice(&identifier_suffix(identifier));
    key
}

pub fn superseded_key(customer: CustomerId, identifier: &Identifier) -> Vec<u8> {
    let mut key = customer_key(SUPERSEDED, customer);
    key.extend_from_slice(&identifier_suffix(identifier));
    key
}

/// How a name is compared in search: trimmed and lower-cased, so `zhang` finds `Zhang Wei`.
/// Chinese characters have no case and pass through unchanged.
pub fn fold_name(name: &str) -> String {
    name.trim().to_lowercase()
}

/// `N` ‖ folded name ‖ `0x00` ‖ customer id.
pub fn name_key(name: &str, customer: CustomerId) -> Vec<u8> {
    let folded = fold_name(name);
    let mut key = Vec::with_capacity(2 + folded.len() + CUSTOMER_ID_BYTES);
    key.push(NAME);
    key.extend_from_slice(folded.as_bytes());
    key.push(NAME_SEPARATOR);
    key.extend_from_slice(customer.as_uuid().as_bytes());
    key
}

/// The customer id at the end of a key.
pub fn trailing_customer(key: &[u8]) -> Result<CustomerId, StateError> {
    key.len()
        .checked_sub(CUSTOMER_ID_BYTES)
        .and_then(|start| customer_from_bytes(&key[start..]))
        .ok_or_else(|| {
            StateError(format!(
                "customer-directory: key {key:02x?} has no customer id"
            ))
        })
}

/// The customer id written as 16 key bytes. The crate does not depend on `uuid`; a customer
/// id parses from its 32 hex digits as well as from the hyphenated form.
pub fn customer_from_bytes(bytes: &[u8]) -> Option<CustomerId> {
    if bytes.len() != CUSTOMER_ID_BYTES {
        return None;
    }
    CustomerId::parse("customerId", &to_hex(bytes)).ok()
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
            "customer-directory: the value at {key:02x?} does not decode: {error}"
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
        .map_err(|error| StateError(format!("customer-directory: cannot encode: {error}")))?;
    state.put(key, bytes);
    Ok(())
}

/// Lower-case hex: the cursor encoding. Cursors are opaque to callers; hex keeps them ASCII.
pub fn to_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut text = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        text.push(char::from(DIGITS[usize::from(byte >> 4)]));
        text.push(char::from(DIGITS[usize::from(byte & 0x0f)]));
    }
    text
}

/// The bytes of a hex string, or `None` if it is not one.
pub fn from_hex(text: &str) -> Option<Vec<u8>> {
    let pairs = text.as_bytes().chunks_exact(2);
    if !pairs.remainder().is_empty() {
        return None;
    }
    let value = |digit: u8| {
        char::from(digit)
            .to_digit(16)
            .and_then(|v| u8::try_from(v).ok())
    };
    pairs
        .map(|pair| Some((value(pair[0])? << 4) | value(pair[1])?))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trips_and_refuses_non_hex() {
        let bytes = [0x00, 0x7f, 0xff, 0x10];
        assert_eq!(to_hex(&bytes), "007fff10");
        assert_eq!(from_hex("007fff10"), Some(bytes.to_vec()));
        assert_eq!(from_hex("007FFF10"), Some(bytes.to_vec()));
        assert_eq!(from_hex("abc"), None);
        assert_eq!(from_hex("zz"), None);
        assert_eq!(from_hex(""), Some(Vec::new()));
    }

    #[test]
    fn customer_ids_round_trip_through_keys() {
        let customer = ledger_domain::samples::individual_customer_id();
        assert_eq!(trailing_customer(&record_key(customer)).unwrap(), customer);
        assert_eq!(
            trailing_customer(&name_key("张三", customer)).unwrap(),
            customer
        );
    }

    #[test]
    fn kind_tags_are_distinct() {
        use ledger_domain::values::IdentifierKind as Kind;
        let kinds = [
            Kind::Mobile,
            Kind::Landline,
            Kind::WeChat,
            Kind::Email,
            Kind::IdCard,
            Kind::SocialCreditCode,
            Kind::Plate,
            Kind::Vin,
            Kind::PolicyNumber,
            Kind::ClaimNumber,
        ];
        let mut tags: Vec<u8> = kinds.iter().map(|kind| kind_tag(*kind)).collect();
        tags.sort_unstable();
        tags.dedup();
        assert_eq!(tags.len(), kinds.len());
    }
}
