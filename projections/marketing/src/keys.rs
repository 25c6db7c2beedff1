//! The keyspace layout (described in the crate root): key builders and the checks that tell
//! a real cursor suffix from a forged one.
//!
//! Instants in keys are 16 bytes: the nanoseconds since the Unix epoch as a big-endian `i128`
//! with its sign bit flipped, so byte order is time order, before 1970 included.

use std::str;

use jiff::Timestamp;
use ledger_domain::ids::{CampaignId, ContactId, CustomerId, EnquiryId};
use ledger_domain::values::PolicyNumber;

/// Bytes of an instant inside a key.
pub(crate) const INSTANT_BYTES: usize = 16;

pub(crate) const CAMPAIGN: &[u8] = b"campaign/";
pub(crate) const SALE: &[u8] = b"sale/";
pub(crate) const ENQUIRY: &[u8] = b"enquiry/";
pub(crate) const CALLBACK: &[u8] = b"callback/";
pub(crate) const CONTACT: &[u8] = b"contact/";
pub(crate) const QUEUE: &[u8] = b"queue/";
pub(crate) const ASKED: &[u8] = b"asked/";
pub(crate) const ASKERS: &[u8] = b"askers/";

fn join(prefix: &[u8], parts: &[&str]) -> Vec<u8> {
    let mut key = prefix.to_vec();
    for (index, part) in parts.iter().enumerate() {
        if index > 0 {
            key.push(b'/');
        }
        key.extend_from_slice(part.as_bytes());
    }
    key
}

/// `campaign/{id}`: a [`crate::CampaignRecord`].
pub(crate) fn campaign(id: CampaignId) -> Vec<u8> {
    join(CAMPAIGN, &[&id.to_string()])
}

/// `sale/{policy number}`: the policy's latest sale and the campaign it is credited to (see
/// `fold::Sale`).
pub(crate) fn sale(policy: &PolicyNumber) -> Vec<u8> {
    join(SALE, &[policy.as_str()])
}

/// `enquiry/{id}`: an [`crate::EnquiryRecord`].
pub(crate) fn enquiry(id: EnquiryId) -> Vec<u8> {
    join(ENQUIRY, &[&id.to_string()])
}

/// `callback/{enquiry}/`: the prefix of an enquiry's call-back contacts.
pub(crate) fn callbacks(enquiry: EnquiryId) -> Vec<u8> {
    let mut key = join(CALLBACK, &[&enquiry.to_string()]);
    key.push(b'/');
    key
}

/// `callback/{enquiry}/{contact}`: an outbound contact that called the enquiry back.
pub(crate) fn callback(enquiry: EnquiryId, contact: ContactId) -> Vec<u8> {
    let mut key = callbacks(enquiry);
    key.extend_from_slice(contact.to_string().as_bytes());
    key
}

/// `contact/{id}`: the enquiry a contact currently names, its customer and whether it calls
/// the enquiry back (so a correction can undo the link).
pub(crate) fn contact(id: ContactId) -> Vec<u8> {
    join(CONTACT, &[&id.to_string()])
}

/// `asked/{customer}/`: the prefix of the enquiries whose personal data goes with the
/// customer's.
pub(crate) fn asked_by(customer: CustomerId) -> Vec<u8> {
    let mut key = join(ASKED, &[&customer.to_string()]);
    key.push(b'/');
    key
}

/// `asked/{customer}/{enquiry}`: how many ties the customer has to the enquiry: sending it,
/// and each of their contacts that names it.
pub(crate) fn asked(customer: CustomerId, enquiry: EnquiryId) -> Vec<u8> {
    let mut key = asked_by(customer);
    key.extend_from_slice(enquiry.to_string().as_bytes());
    key
}

/// `askers/{enquiry}/`: the prefix of the customers tied to the enquiry (the mirror of
/// `asked/`).
pub(crate) fn askers_of(enquiry: EnquiryId) -> Vec<u8> {
    let mut key = join(ASKERS, &[&enquiry.to_string()]);
    key.push(b'/');
    key
}

/// `askers/{enquiry}/{customer}`: the same count as `asked/{customer}/{enquiry}`, kept beside
/// it so the customers of an enquiry are one prefix read.
pub(crate) fn asker(enquiry: EnquiryId, customer: CustomerId) -> Vec<u8> {
    let mut key = askers_of(enquiry);
    key.extend_from_slice(customer.to_string().as_bytes());
    key
}

/// The instant as 16 bytes whose byte order is time order.
pub(crate) fn instant(at: Timestamp) -> [u8; INSTANT_BYTES] {
    (at.as_nanosecond() ^ i128::MIN).to_be_bytes()
}

/// `queue/{received at}/{enquiry}`: an enquiry awaiting its call-back.
pub(crate) fn queue(received_at: Timestamp, enquiry: EnquiryId) -> Vec<u8> {
    let mut key = QUEUE.to_vec();
    key.extend_from_slice(&instant(received_at));
    key.push(b'/');
    key.extend_from_slice(enquiry.to_string().as_bytes());
    key
}

/// The first key of the queue after every entry received at or before `at`.
pub(crate) fn queue_after(at: Timestamp) -> Vec<u8> {
    let mut key = QUEUE.to_vec();
    key.extend_from_slice(&instant(at));
    // Above the `/` that follows the instant in every entry at `at`.
    key.push(0xff);
    key
}

/// Whether `suffix` is a campaign id in its canonical spelling.
pub(crate) fn is_campaign_suffix(suffix: &[u8]) -> bool {
    str::from_utf8(suffix)
        .is_ok_and(|text| CampaignId::parse("", text).is_ok_and(|id| id.to_string() == text))
}

/// Whether `suffix` is `{instant}/{enquiry id}` with a real instant and a canonical id.
pub(crate) fn is_queue_suffix(suffix: &[u8]) -> bool {
    let Some((instant_bytes, rest)) = suffix.split_first_chunk::<INSTANT_BYTES>() else {
        return false;
    };
    let nanoseconds = i128::from_be_bytes(*instant_bytes) ^ i128::MIN;
    if Timestamp::from_nanosecond(nanoseconds).is_err() {
        return false;
    }
    let Some((b'/', text)) = rest.split_first() else {
        return false;
    };
    str::from_utf8(text)
        .is_ok_and(|text| EnquiryId::parse("", text).is_ok_and(|id| id.to_string() == text))
}

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
        ]
        .map(|text| text.parse::<Timestamp>().unwrap());
        for pair in times.windows(2) {
            assert!(instant(pair[0]) < instant(pair[1]), "{pair:?}");
        }
    }

    #[test]
    fn queue_keys_at_an_instant_sort_before_its_bound() {
        let at: Timestamp = "2025-03-07T09:30:00Z".parse().unwrap();
        let id = EnquiryId::parse("", "0190a5e2-8c3b-7d4e-9f00-000000000201").unwrap();
        let key = queue(at, id);
        assert!(key < queue_after(at));
        assert!(is_queue_suffix(&key[QUEUE.len()..]));
        assert!(!is_queue_suffix(b"short"));
        assert!(!is_campaign_suffix(&key[QUEUE.len()..]));
    }
}
