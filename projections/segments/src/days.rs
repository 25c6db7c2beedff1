//! Beijing calendar days as integers: what the fold stores and metrics count in.
//!
//! Day `d` is the Beijing (UTC+8) calendar day `d` days after 1970-01-01. China has kept UTC+8
//! all year, without daylight saving, since 1991, so a fixed offset gives the same days as
//! `Asia/Shanghai` and keeps the fold independent of the machine's tz database.

use jiff::Timestamp;
use jiff::civil::{Date, date};

const DAY_SECONDS: i64 = 86_400;

/// Seconds Beijing is ahead of UTC.
const BEIJING_OFFSET_SECONDS: i64 = 8 * 3_600;

/// The Unix epoch as a civil date: day 0.
const EPOCH: Date = date(1970, 1, 1);

/// The Beijing day `at` falls on.
pub(crate) fn day_of(at: Timestamp) -> i64 {
    (at.as_second() + BEIJING_OFFSET_SECONDS).div_euclid(DAY_SECONDS)
}

/// The day number of a civil date (policy periods, lapse and cancellation dates).
pub(crate) fn day_of_date(date: Date) -> i64 {
    date.duration_since(EPOCH).as_secs().div_euclid(DAY_SECONDS)
}

/// The civil date of day `day`. Days come from dates and instants jiff accepted, so they are
/// in its range; `Date::MAX` stands in rather than panicking if one were not.
pub(crate) fn date_of_day(day: i64) -> Date {
    EPOCH
        .checked_add(jiff::Span::new().days(day))
        .unwrap_or(Date::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_are_beijing_calendar_days() {
        let late: Timestamp = "2025-03-07T23:59:59+08:00".parse().unwrap();
        let next: Timestamp = "2025-03-08T00:00:00+08:00".parse().unwrap();
        assert_eq!(day_of(late) + 1, day_of(next));
        assert_eq!(date_of_day(day_of(late)), date(2025, 3, 7));
        assert_eq!(day_of_date(date(2025, 3, 7)), day_of(late));
        assert_eq!(day_of_date(date(1969, 12, 31)), -1);
        assert_eq!(date_of_day(-1), date(1969, 12, 31));
    }
}
