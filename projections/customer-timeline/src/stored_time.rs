//! Reading an entry's stored `occurred_at` back: the codec stores a `Timestamp` as the text
//! jiff prints (`2025-03-01T08:00:00Z`, `…:00.25Z`), and jiff's general RFC 3339 parser was a
//! tenth of decoding a timeline page. [`parse`] reads the one shape jiff prints for a
//! timestamp (four-digit year, `T`, up to nine fraction digits, `Z`) directly and hands
//! anything else to jiff, so every text means what it meant to jiff.

use std::fmt;

use jiff::Timestamp;
use ledger_domain::civil::days_from_civil;
use serde::Deserializer;
use serde::de::{Error, Visitor};

/// Seconds in a day.
const DAY_SECONDS: i64 = 86_400;

/// The timestamp `text` names, as `text.parse::<Timestamp>()` reads it.
pub fn parse(text: &str) -> Result<Timestamp, jiff::Error> {
    match printed(text.as_bytes()) {
        Some(timestamp) => Ok(timestamp),
        None => text.parse(),
    }
}

/// `#[serde(deserialize_with)]` for a stored `Timestamp`; writing is left to jiff.
pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Timestamp, D::Error> {
    deserializer.deserialize_str(TimestampText)
}

struct TimestampText;

impl Visitor<'_> for TimestampText {
    type Value = Timestamp;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("an RFC 3339 timestamp")
    }

    fn visit_str<E: Error>(self, text: &str) -> Result<Timestamp, E> {
        parse(text).map_err(E::custom)
    }
}

/// `YYYY-MM-DDTHH:MM:SS[.f{1,9}]Z` as jiff prints it, or `None` for any other text (including
/// a leap second, or an instant outside jiff's range), which jiff then reads itself.
fn printed(text: &[u8]) -> Option<Timestamp> {
    let (head, rest) = text.split_at_checked(19)?;
    let separators = [(4, b'-'), (7, b'-'), (10, b'T'), (13, b':'), (16, b':')];
    if separators.iter().any(|&(at, byte)| head[at] != byte) {
        return None;
    }
    let year = digits(&head[0..4])?;
    let month = digits(&head[5..7])?;
    let day = digits(&head[8..10])?;
    let hour = digits(&head[11..13])?;
    let minute = digits(&head[14..16])?;
    let second = digits(&head[17..19])?;
    if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
        return None;
    }
    if hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    let nanoseconds = match rest {
        [b'Z'] => 0,
        [b'.', fraction @ .., b'Z'] if (1..=9).contains(&fraction.len()) => {
            let value = digits(fraction)?;
            let scale = 10_i64.pow(9 - u32::try_from(fraction.len()).ok()?);
            i32::try_from(value * scale).ok()?
        }
        _ => return None,
    };
    let seconds =
        days_from_civil(year, month, day) * DAY_SECONDS + hour * 3_600 + minute * 60 + second;
    Timestamp::new(seconds, nanoseconds).ok()
}

/// The value of ASCII decimal digits (at most nine here), or `None` if any is not one.
fn digits(text: &[u8]) -> Option<i64> {
    text.iter().try_fold(0_i64, |value, &byte| {
        byte.is_ascii_digit()
            .then(|| value * 10 + i64::from(byte - b'0'))
    })
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn same_as_jiff(text: &str) {
        let jiff: Result<Timestamp, _> = text.parse();
        match (parse(text), jiff) {
            (Ok(ours), Ok(theirs)) => assert_eq!(ours, theirs, "{text}"),
            (Err(_), Err(_)) => {}
            (ours, theirs) => panic!("{text}: {ours:?} against jiff's {theirs:?}"),
        }
    }

    #[test]
    fn the_printed_shape_is_read_directly_and_means_what_it_means_to_jiff() {
        for text in [
            "1970-01-01T00:00:00Z",
            "2024-02-29T23:59:59.999999999Z",
            "2025-03-01T08:00:00.25Z",
            "2000-02-29T12:00:00.1Z",
            "1969-12-31T23:59:59.5Z",
            "0001-01-01T00:00:00Z",
            "9999-12-30T22:00:00.999999999Z",
        ] {
            assert!(printed(text.as_bytes()).is_some(), "{text}");
            same_as_jiff(text);
        }
    }

    #[test]
    fn every_other_text_goes_to_jiff() {
        for text in [
            "2023-02-29T00:00:00Z",
            "1900-02-29T00:00:00Z",
            "2024-04-31T00:00:00Z",
            "2024-13-01T00:00:00Z",
            "2024-00-01T00:00:00Z",
            "2024-01-01T24:00:00Z",
            "2024-01-01T23:60:00Z",
            "2016-12-31T23:59:60Z",
            "2024-01-01T00:00:00.Z",
            "2024-01-01T00:00:00.1234567890Z",
            "2024-01-01T00:00:00z",
            "2024-01-01t00:00:00Z",
            "2024-01-01T00:00:00+08:00",
            "2024-01-01 00:00:00Z",
            "-000001-01-01T00:00:00Z",
            "+2024-01-01T00:00:00Z",
            "9999-12-31T23:59:59Z",
            "2024-01-01T00:00:00",
            "2024-1-01T00:00:00Z",
            "",
            "not a time",
        ] {
            assert!(printed(text.as_bytes()).is_none(), "{text}");
            same_as_jiff(text);
        }
    }

    proptest! {
        #[test]
        fn any_timestamp_jiff_prints_reads_back_as_itself(
            seconds in Timestamp::MIN.as_second()..=Timestamp::MAX.as_second(),
            nanoseconds in 0_i32..1_000_000_000,
        ) {
            let Ok(timestamp) = Timestamp::new(seconds, nanoseconds) else {
                return Ok(());
            };
            let text = timestamp.to_string();
            prop_assert_eq!(parse(&text).ok(), Some(timestamp), "{}", text);
        }

        #[test]
        fn near_misses_read_as_jiff_reads_them(
            year in 0_i64..=9999,
            month in 0_i64..=13,
            day in 0_i64..=32,
            hour in 0_i64..=24,
            minute in 0_i64..=60,
            second in 0_i64..=60,
            fraction in proptest::option::of("[0-9]{1,10}"),
        ) {
            let fraction = fraction.map(|digits| format!(".{digits}")).unwrap_or_default();
            same_as_jiff(&format!(
                "{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}{fraction}Z"
            ));
        }
    }
}
