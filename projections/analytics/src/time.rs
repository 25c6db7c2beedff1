//! Beijing hours and days as integers: the bucket numbering keys and queries share.
//!
//! Buckets are Beijing local time, UTC+8. China has kept UTC+8 all year, without daylight
//! saving, since 1991, so a fixed offset gives the same hours and days as `Asia/Shanghai` for
//! every date the ledger holds, and keeps the fold independent of the machine's tz database.
//! Because the offset is a whole number of hours, a Beijing hour is exactly a UTC hour: hour
//! `h` is the hour starting `h × 3600` seconds after the Unix epoch, its Beijing hour of day is
//! `(h + 8) mod 24`, and Beijing day `d` is hours `24d − 8 .. 24d + 16`.

use jiff::Timestamp;
use jiff::civil::{Date, date};

/// Seconds in an hour.
const HOUR_SECONDS: i64 = 3_600;

/// Hours Beijing is ahead of UTC.
pub(crate) const BEIJING_OFFSET_HOURS: i64 = 8;

/// Hours in a day.
pub(crate) const DAY_HOURS: i64 = 24;

/// The Unix epoch as a civil date: Beijing day 0.
const EPOCH: Date = date(1970, 1, 1);

/// The hour (since the Unix epoch) that contains `at`.
pub(crate) fn hour_of(at: Timestamp) -> i64 {
    at.as_second().div_euclid(HOUR_SECONDS)
}

/// The first hour that starts at or after `at`.
pub(crate) fn hour_at_or_after(at: Timestamp) -> i64 {
    let hour = hour_of(at);
    if hour * HOUR_SECONDS == at.as_second() && at.subsec_nanosecond() == 0 {
        hour
    } else {
        hour + 1
    }
}

/// The Beijing hour of day (0 to 23) of hour `hour`.
pub(crate) fn hour_of_day(hour: i64) -> usize {
    // rem_euclid by 24 is 0..=23, which always fits a usize.
    usize::try_from((hour + BEIJING_OFFSET_HOURS).rem_euclid(DAY_HOURS)).unwrap_or(0)
}

/// The Beijing day that contains hour `hour`.
pub(crate) fn day_of_hour(hour: i64) -> i64 {
    (hour + BEIJING_OFFSET_HOURS).div_euclid(DAY_HOURS)
}

/// The first hour of Beijing day `day`.
pub(crate) fn first_hour_of_day(day: i64) -> i64 {
    day * DAY_HOURS - BEIJING_OFFSET_HOURS
}

/// The instant hour `hour` starts. Hours come from instants jiff accepted, or from days
/// between two of them, so they are always within jiff's range; `Timestamp::MAX` is never
/// reached in practice and stands in rather than panicking.
pub(crate) fn hour_start(hour: i64) -> Timestamp {
    hour.checked_mul(HOUR_SECONDS)
        .and_then(|second| Timestamp::from_second(second).ok())
        .unwrap_or(Timestamp::MAX)
}

/// The Beijing calendar date of day `day`.
pub(crate) fn date_of_day(day: i64) -> Date {
    EPOCH
        .checked_add(jiff::Span::new().days(day))
        .unwrap_or(Date::MAX)
}

/// The Beijing day number of `date`.
pub(crate) fn day_of_date(date: Date) -> i64 {
    date.duration_since(EPOCH)
        .as_secs()
        .div_euclid(DAY_HOURS * HOUR_SECONDS)
}

/// Days since Monday (0 for Monday) of Beijing day `day`. Day 0, 1970-01-01, was a Thursday.
pub(crate) fn days_since_monday(day: i64) -> i64 {
    (day + 3).rem_euclid(7)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn beijing_hours_and_days_follow_utc_plus_8() {
        let at: Timestamp = "2025-03-07T23:30:00+08:00".parse().unwrap();
        let hour = hour_of(at);
        assert_eq!(hour_of_day(hour), 23);
        assert_eq!(date_of_day(day_of_hour(hour)), date(2025, 3, 7));
        let midnight: Timestamp = "2025-03-08T00:00:00+08:00".parse().unwrap();
        assert_eq!(
            hour_start(first_hour_of_day(day_of_hour(hour) + 1)),
            midnight
        );
        assert_eq!(hour_at_or_after(midnight), hour_of(midnight));
        assert_eq!(hour_at_or_after(at), hour + 1);
        assert_eq!(day_of_date(date(2025, 3, 7)), day_of_hour(hour));
        // 2025-03-10 was a Monday.
        assert_eq!(days_since_monday(day_of_date(date(2025, 3, 10))), 0);
        assert_eq!(days_since_monday(day_of_date(date(2025, 3, 16))), 6);
        let before_epoch: Timestamp = "1969-12-31T15:59:59Z".parse().unwrap();
        assert_eq!(
            date_of_day(day_of_hour(hour_of(before_epoch))),
            date(1969, 12, 31)
        );
    }
}
