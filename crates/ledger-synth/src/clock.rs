//! Time in the synthetic world: instants are whole seconds since the Unix epoch (UTC), and
//! everything about business hours, seasons and deadlines is reckoned in Beijing time
//! (UTC+8 all year; China has no daylight saving time), with integer arithmetic only.
//!
//! The calendar here is deliberately simpler than the service-history projection's
//! (`projections/service-history/calendar.toml`): working days are Monday to Friday except
//! the Spring Festival week, which is enough to make realistic deadlines and breaches. The
//! facts an event carries (a deadline instant, `within_deadline`) are decided here and never
//! recomputed by readers, so the two calendars need not agree to the day.

use jiff::Timestamp;
use jiff::civil::Date;

use crate::rng::Rng;

pub(crate) const MINUTE: i64 = 60;
pub(crate) const HOUR: i64 = 3_600;
pub(crate) const DAY: i64 = 86_400;

/// Beijing time is UTC+8.
const BEIJING_OFFSET_SECONDS: i64 = 8 * HOUR;

/// The call centre's business hours for routine contacts, 08:30 to 17:30, Monday to Saturday.
pub(crate) const BUSINESS_OPENS: i64 = 8 * HOUR + 30 * MINUTE;
pub(crate) const BUSINESS_CLOSES: i64 = 17 * HOUR + 30 * MINUTE;

/// The claims and service desk works 08:30-12:00 and 13:00-17:30 on working days: deadlines
/// in working hours count only these spans (8 hours a day).
const WORKING_SPANS: [(i64, i64); 2] = [
    (8 * HOUR + 30 * MINUTE, 12 * HOUR),
    (13 * HOUR, 17 * HOUR + 30 * MINUTE),
];

/// The first day (正月初一) of each Spring Festival the generator knows; the week from New
/// Year's Eve is a holiday. Years outside the table simply have no holiday week.
const SPRING_FESTIVALS: [(i64, i64, i64); 21] = [
    (2015, 2, 19),
    (2016, 2, 8),
    (2017, 1, 28),
    (2018, 2, 16),
    (2019, 2, 5),
    (2020, 1, 25),
    (2021, 2, 12),
    (2022, 2, 1),
    (2023, 1, 22),
    (2024, 2, 10),
    (2025, 1, 29),
    (2026, 2, 17),
    (2027, 2, 6),
    (2028, 1, 26),
    (2029, 2, 13),
    (2030, 2, 3),
    (2031, 1, 23),
    (2032, 2, 11),
    (2033, 1, 31),
    (2034, 2, 19),
    (2035, 2, 8),
];

/// Relative claim frequency by month (January first). Jilin's winters are long, snowy and
/// icy, so December to February carry half as many losses again as spring and autumn; July
/// and August add the summer rainstorms (engine water damage).
pub(crate) const CLAIM_SEASON: [f64; 12] = [
    1.55, 1.4, 1.1, 0.9, 0.85, 0.9, 1.05, 1.0, 0.85, 0.9, 1.15, 1.5,
];

/// The largest entry of [`CLAIM_SEASON`], for thinning a Poisson process by it.
pub(crate) const CLAIM_SEASON_MAX: f64 = 1.55;

/// Relative hourly frequency of road losses (00:00 first): rush hours and the evening.
const LOSS_HOURS: [f64; 24] = [
    0.8, 0.5, 0.4, 0.3, 0.3, 0.5, 1.2, 3.0, 4.0, 3.0, 2.4, 2.4, 2.6, 2.4, 2.4, 2.6, 3.2, 4.0, 4.2,
    3.2, 2.4, 2.0, 1.6, 1.2,
];

/// Relative hourly use of self-service channels (web, app, WeChat, terminals): through the
/// day with an evening peak after work.
const SELF_SERVICE_HOURS: [f64; 24] = [
    0.3, 0.15, 0.1, 0.1, 0.1, 0.2, 0.5, 1.2, 2.0, 2.4, 2.4, 2.2, 2.4, 2.2, 2.2, 2.2, 2.2, 2.4, 2.6,
    3.2, 3.6, 3.4, 2.4, 1.0,
];

/// Whole seconds of `timestamp`.
pub(crate) fn seconds(timestamp: Timestamp) -> i64 {
    timestamp.as_second()
}

/// The instant `seconds` after the epoch.
pub(crate) fn timestamp(seconds: i64) -> Timestamp {
    Timestamp::from_second(seconds).expect("synthetic instants stay within jiff's range")
}

/// The Beijing calendar day (days since 1970-01-01) of an instant.
pub(crate) fn local_day(instant: i64) -> i64 {
    (instant + BEIJING_OFFSET_SECONDS).div_euclid(DAY)
}

/// Seconds since Beijing midnight.
pub(crate) fn local_second_of_day(instant: i64) -> i64 {
    (instant + BEIJING_OFFSET_SECONDS).rem_euclid(DAY)
}

/// The instant of `second_of_day` on Beijing day `day`.
pub(crate) fn at_local(day: i64, second_of_day: i64) -> i64 {
    day * DAY + second_of_day - BEIJING_OFFSET_SECONDS
}

/// 0 for Monday ... 6 for Sunday (1970-01-01 was a Thursday).
pub(crate) fn weekday(day: i64) -> i64 {
    (day + 3).rem_euclid(7)
}

/// Year, month (1-12) and day of a day number (H. Hinnant's `civil_from_days`).
pub(crate) fn civil(day: i64) -> (i64, i64, i64) {
    let z = day + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153;
    let day_of_month = day_of_year - (153 * shifted_month + 2) / 5 + 1;
    let month = if shifted_month < 10 {
        shifted_month + 3
    } else {
        shifted_month - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day_of_month)
}

/// The day number of a civil date; a day past the end of its month rolls over into the next.
pub(crate) fn day_number(year: i64, month: i64, day_of_month: i64) -> i64 {
    ledger_domain::civil::days_from_civil(year, month, day_of_month)
}

/// The jiff date of a day number.
pub(crate) fn date(day: i64) -> Date {
    let (year, month, day_of_month) = civil(day);
    let narrow = |value: i64| i8::try_from(value).expect("months and days fit in i8");
    let year = i16::try_from(year).expect("synthetic years fit in i16");
    Date::new(year, narrow(month), narrow(day_of_month)).expect("civil() returns real dates")
}

/// The day number of a jiff date.
#[cfg(test)]
fn day_of(date: Date) -> i64 {
    day_number(
        i64::from(date.year()),
        i64::from(date.month()),
        i64::from(date.day()),
    )
}

/// The month (1-12) of a day number.
pub(crate) fn month(day: i64) -> usize {
    usize::try_from(civil(day).1).unwrap_or(1)
}

/// The last day of the one-year period that starts on `start`: the same date a year later,
/// minus a day (a period starting 29 February ends on 28 February).
pub(crate) fn year_end(start: i64) -> i64 {
    let (year, month, day_of_month) = civil(start);
    day_number(year + 1, month, day_of_month) - 1
}

/// Whether `day` is in the Spring Festival holiday week (New Year's Eve and six days after).
pub(crate) fn is_spring_festival(day: i64) -> bool {
    // The holiday week never reaches further than ten days from 1 January, so the year of
    // `day + 10` is the year of any festival whose week contains `day`.
    let (year, month, _) = civil(day + 10);
    if month > 3 {
        return false;
    }
    SPRING_FESTIVALS
        .iter()
        .filter(|festival| festival.0 == year)
        .any(|&(_, month, day_of_month)| {
            let first = day_number(year, month, day_of_month);
            (first - 1..=first + 6).contains(&day)
        })
}

/// A day the service desk counts towards deadlines: Monday to Friday, not Spring Festival.
pub(crate) fn is_working_day(day: i64) -> bool {
    weekday(day) < 5 && !is_spring_festival(day)
}

/// A day the call centre and service halls are open for routine contacts: Monday to Saturday,
/// not Spring Festival.
pub(crate) fn is_service_day(day: i64) -> bool {
    weekday(day) < 6 && !is_spring_festival(day)
}

/// A random moment in business hours on the first service day from `day` on: most contacts
/// in the late morning and the afternoon, a few at the edges of the day.
pub(crate) fn business_moment_on(rng: &mut Rng, day: i64) -> i64 {
    let mut day = day;
    for _ in 0..16 {
        if is_service_day(day) {
            break;
        }
        day += 1;
    }
    let second = match rng.weighted(&[0.45, 0.4, 0.15]) {
        0 => rng.range(9 * HOUR, 11 * HOUR + 30 * MINUTE),
        1 => rng.range(13 * HOUR + 30 * MINUTE, 17 * HOUR),
        _ => rng.range(BUSINESS_OPENS, BUSINESS_CLOSES - 5 * MINUTE),
    };
    at_local(day, second)
}

/// A business-hours moment at or after `earliest`: later the same day if the day is a
/// service day with time left, otherwise on the next service day.
pub(crate) fn business_moment_after(rng: &mut Rng, earliest: i64) -> i64 {
    let day = local_day(earliest);
    let second = local_second_of_day(earliest);
    if is_service_day(day) && second < BUSINESS_CLOSES - 20 * MINUTE {
        let from = second.max(BUSINESS_OPENS);
        return at_local(day, rng.range(from, BUSINESS_CLOSES - 10 * MINUTE));
    }
    business_moment_on(rng, day + 1)
}

/// Whether an instant is within business hours on a service day.
pub(crate) fn in_business_hours(instant: i64) -> bool {
    let second = local_second_of_day(instant);
    is_service_day(local_day(instant)) && (BUSINESS_OPENS..BUSINESS_CLOSES).contains(&second)
}

/// A random moment on `day` for a self-service contact (web, app, WeChat, terminal).
pub(crate) fn self_service_moment_on(rng: &mut Rng, day: i64) -> i64 {
    let hour = i64::try_from(rng.weighted(&SELF_SERVICE_HOURS)).unwrap_or(12);
    at_local(day, hour * HOUR + rng.range(0, HOUR - 1))
}

/// A random moment on `day` for a road loss.
pub(crate) fn loss_moment_on(rng: &mut Rng, day: i64) -> i64 {
    let hour = i64::try_from(rng.weighted(&LOSS_HOURS)).unwrap_or(12);
    at_local(day, hour * HOUR + rng.range(0, HOUR - 1))
}

/// The instant `hours` working hours after `from` (see [`WORKING_SPANS`]).
pub(crate) fn add_working_hours(from: i64, hours: i64) -> i64 {
    let mut remaining = hours * HOUR;
    let mut day = local_day(from);
    let mut second = local_second_of_day(from);
    // 176 working hours (the longest deadline) span at most about 40 calendar days; the
    // bound only guards against a calendar bug turning into an endless loop.
    for _ in 0..400 {
        if is_working_day(day) {
            for (span_start, span_end) in WORKING_SPANS {
                let begin = second.max(span_start);
                if begin >= span_end {
                    continue;
                }
                let available = span_end - begin;
                if remaining <= available {
                    return at_local(day, begin + remaining);
                }
                remaining -= available;
                second = span_end;
            }
        }
        day += 1;
        second = 0;
    }
    at_local(day, BUSINESS_CLOSES)
}

/// The end (17:30) of the `days`-th working day after the day of `from`: the claim time
/// guarantee's deadline counted from complete documents.
pub(crate) fn add_working_days(from: i64, days: i64) -> i64 {
    let mut day = local_day(from);
    let mut counted = 0;
    while counted < days {
        day += 1;
        if is_working_day(day) {
            counted += 1;
        }
    }
    at_local(day, BUSINESS_CLOSES)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates_round_trip() {
        for day in [-1, 0, 59, 10_957, 19_782, 20_000, 20_513, 60_000] {
            let (year, month, day_of_month) = civil(day);
            assert_eq!(day_number(year, month, day_of_month), day);
            assert_eq!(day_of(date(day)), day);
        }
        assert_eq!(civil(0), (1970, 1, 1));
        assert_eq!(
            weekday(day_number(2026, 11, 1)),
            6,
            "1 November 2026 is a Sunday"
        );
        assert_eq!(year_end(day_number(2024, 2, 29)), day_number(2025, 2, 28));
        assert_eq!(year_end(day_number(2024, 3, 16)), day_number(2025, 3, 15));
    }

    #[test]
    fn beijing_time_is_eight_hours_ahead() {
        let instant = seconds("2024-03-15T01:30:00Z".parse().unwrap());
        assert_eq!(local_second_of_day(instant), 9 * HOUR + 30 * MINUTE);
        assert_eq!(local_day(instant), day_number(2024, 3, 15));
        assert!(in_business_hours(instant));
        assert!(is_spring_festival(day_number(2024, 2, 9)));
        assert!(is_spring_festival(day_number(2024, 2, 16)));
        assert!(!is_spring_festival(day_number(2024, 2, 17)));
    }

    #[test]
    fn working_hours_skip_lunch_nights_and_weekends() {
        // Friday 2024-03-15 16:30 Beijing + 4 working hours = Monday 11:30.
        let friday = at_local(day_number(2024, 3, 15), 16 * HOUR + 30 * MINUTE);
        let expected = at_local(day_number(2024, 3, 18), 11 * HOUR + 30 * MINUTE);
        assert_eq!(add_working_hours(friday, 4), expected);
        // Monday 11:00 + 2 hours = 14:00 (the lunch hour does not count).
        let monday = at_local(day_number(2024, 3, 18), 11 * HOUR);
        assert_eq!(
            add_working_hours(monday, 2),
            at_local(day_number(2024, 3, 18), 14 * HOUR)
        );
        assert_eq!(
            add_working_days(friday, 1),
            at_local(day_number(2024, 3, 18), BUSINESS_CLOSES)
        );
    }

    #[test]
    fn business_moments_are_in_business_hours() {
        let mut rng = Rng::new(3);
        for day in day_number(2024, 1, 1)..day_number(2024, 3, 1) {
            assert!(in_business_hours(business_moment_on(&mut rng, day)));
            let late = at_local(day, 23 * HOUR);
            let next = business_moment_after(&mut rng, late);
            assert!(next > late && in_business_hours(next));
        }
    }
}
