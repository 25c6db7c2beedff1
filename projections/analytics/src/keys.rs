//! The keyspace layout (described in the crate root): one tag byte, then fixed-width parts.
//!
//! Hours and days are `i64` big-endian with the sign bit flipped, so byte order is time order;
//! a channel is its index in [`Channel::ALL`], one byte; a contact id is its 16 UUID bytes.

use ledger_domain::ids::ContactId;
use ledger_domain::values::Channel;

pub(crate) const HOUR: u8 = b'H';
pub(crate) const DAY: u8 = b'D';
pub(crate) const CONTACT: u8 = b'C';
/// Contacts a service case was opened from (`ServiceCaseOpened.contactId`): not resolved at
/// first contact, whichever of the two the log holds first.
pub(crate) const CASE_OPENED: u8 = b'K';

/// Bytes of an hour or day number inside a key.
const NUMBER_BYTES: usize = 8;

/// Bytes of a bucket key: tag, number, channel.
pub(crate) const BUCKET_KEY_BYTES: usize = 1 + NUMBER_BYTES + 1;

fn number(value: i64) -> [u8; NUMBER_BYTES] {
    (value ^ i64::MIN).to_be_bytes()
}

/// `{tag}{number}`: the first key of hour or day `value`, for every channel.
pub(crate) fn bucket_start(tag: u8, value: i64) -> Vec<u8> {
    let mut key = Vec::with_capacity(BUCKET_KEY_BYTES);
    key.push(tag);
    key.extend_from_slice(&number(value));
    key
}

/// `{tag}{number}{channel}`: one channel's counters in hour or day `value`.
pub(crate) fn bucket(tag: u8, value: i64, channel: Channel) -> Vec<u8> {
    let mut key = bucket_start(tag, value);
    key.push(channel_index(channel));
    key
}

/// The hour or day number and channel of a bucket key, or `None` if it is not one.
pub(crate) fn parse_bucket(tag: u8, key: &[u8]) -> Option<(i64, Channel)> {
    let (&found, rest) = key.split_first()?;
    let (number_bytes, rest) = rest.split_first_chunk::<NUMBER_BYTES>()?;
    let [channel] = rest else { return None };
    if found != tag {
        return None;
    }
    let value = i64::from_be_bytes(*number_bytes) ^ i64::MIN;
    let channel = *Channel::ALL.get(usize::from(*channel))?;
    Some((value, channel))
}

/// `C{contact id}`: the facts a contact was counted with.
pub(crate) fn contact(id: ContactId) -> Vec<u8> {
    let mut key = Vec::with_capacity(17);
    key.push(CONTACT);
    key.extend_from_slice(id.as_uuid().as_bytes());
    key
}

/// `K ‖ contact id`: a service case was opened from the contact.
pub(crate) fn case_opened(id: ContactId) -> Vec<u8> {
    let mut key = Vec::with_capacity(17);
    key.push(CASE_OPENED);
    key.extend_from_slice(id.as_uuid().as_bytes());
    key
}

pub(crate) fn channel_index(channel: Channel) -> u8 {
    let index = Channel::ALL
        .iter()
        .position(|known| *known == channel)
        .expect("Channel::ALL lists every channel");
    u8::try_from(index).expect("there are fewer than 256 channels")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_keys_sort_by_time_then_channel_and_parse_back() {
        let keys = [
            bucket(HOUR, -5, Channel::App),
            bucket(HOUR, 0, Channel::Phone),
            bucket(HOUR, 0, Channel::WeChat),
            bucket(HOUR, 480_000, Channel::Phone),
        ];
        for pair in keys.windows(2) {
            assert!(pair[0] < pair[1]);
        }
        assert_eq!(parse_bucket(HOUR, &keys[0]), Some((-5, Channel::App)));
        assert_eq!(parse_bucket(DAY, &keys[0]), None);
        assert_eq!(parse_bucket(HOUR, &keys[0][..5]), None);
        for channel in Channel::ALL {
            assert_eq!(
                parse_bucket(DAY, &bucket(DAY, 7, channel)),
                Some((7, channel))
            );
        }
    }
}
