//! Business calendar for service-case and claim deadlines: which days and hours are working time.
//!
//! The data lives in `calendar.toml` beside this crate's `Cargo.toml` (its header says how
//! to add a year); [`BusinessCalendar::shipped`] loads that file, embedded at compile time.
//! Every answer is in working time: only the working-hour spans of working days count.
//!
//! A day is a working day when the file lists it as a make-up working day (调休上班);
//! otherwise when it is Monday to Friday and not listed as a holiday. For a year the file
//! does not cover, every question fails with [`CalendarError::YearNotCovered`]: a deadline
//! computed from a guessed calendar would look right and be wrong, which is worse than no
//! deadline.
//!
//! Hours are local time in the file's time zone; the conversions to and from
//! [`Timestamp`] go through the IANA rules, so a zone with daylight-saving time would be
//! handled too (China has none since 1991).

use std::collections::{BTreeMap, BTreeSet};
use std::ops::RangeInclusive;

use jiff::civil::{Date, Time, Weekday};
use jiff::tz::{TimeZone, TimeZoneDatabase};
use jiff::{SignedDuration, Timestamp};
use serde::Deserialize;

/// The calendar data shipped with the crate, validated by the test `shipped_calendar_loads`.
pub(crate) const SHIPPED_CALENDAR_TOML: &str = include_str!("../calendar.toml");

/// Where a maintainer adds a year; named in [`CalendarError::YearNotCovered`].
const CALENDAR_FILE_PATH: &str = "projections/service-history/calendar.toml";

/// The most calendar days one computation may walk, day by day.
///
/// The longest deadline the insurer sets is a matter of weeks, and the longest interval
/// measured is a claim's life: the limitation period for non-life insurance claims is two
/// years (保险法 art. 26), plus litigation. Five years covers both with room; a walk longer
/// than that means a caller passed a wrong timestamp, and is reported instead of looping.
pub const WALK_DAYS_MAX: u32 = 5 * 366;

/// The longest break one `holidays` entry may describe. The longest official break so far
/// is 9 days (Spring Festival 2026); anything past two weeks is a typo in a date.
const HOLIDAY_BREAK_DAYS_MAX: i32 = 14;

/// The most working-hour spans a day may have. Two (morning and afternoon) is usual;
/// more than eight would be a data error, not a staffing pattern.
const WORKING_SPANS_MAX: usize = 8;

/// A working day, its working-hour spans and its holidays, as read from `calendar.toml`.
#[derive(Debug, Clone)]
pub struct BusinessCalendar {
    time_zone: TimeZone,
    /// Sorted by start, non-overlapping, at least one.
    working_spans: Vec<WorkingSpan>,
    covered_years: RangeInclusive<i16>,
    provisional_years: Vec<i16>,
    /// Only the dates that differ from the weekday rule's answer, or that the notice names.
    listed_days: BTreeMap<Date, ListedDay>,
}

/// One span of working hours in local time, `start < end`, within a single day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct WorkingSpan {
    start: Time,
    end: Time,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DayKind {
    Holiday,
    MakeupWorkday,
}

/// A date the file lists, with where, so a second listing can name the first.
#[derive(Debug, Clone)]
struct ListedDay {
    kind: DayKind,
    place: String,
}

/// Why a calendar file was rejected, or why a question could not be answered.
#[derive(Debug, thiserror::Error)]
pub enum CalendarError {
    // Rejections of the calendar file, found by `from_toml`.
    #[error("calendar file is not valid: {0}")]
    Toml(#[from] toml::de::Error),
    #[error("time_zone: {name:?} is not a known IANA time zone")]
    UnknownTimeZone { name: String, source: jiff::Error },
    #[error("working_hours.spans: at least one span is required")]
    NoWorkingHours,
    #[error("working_hours.spans: {count} spans, more than the {max} a day may have")]
    TooManyWorkingSpans { count: usize, max: usize },
    #[error("working_hours.spans[{index}].{field}: {value:?} is not a time written as HH:MM")]
    MalformedTime {
        index: usize,
        field: &'static str,
        value: String,
    },
    #[error("working_hours.spans[{index}]: start {start} is not before end {end}")]
    EmptyWorkingSpan {
        index: usize,
        start: Time,
        end: Time,
    },
    #[error("working_hours.spans[{first}] and working_hours.spans[{second}] overlap")]
    OverlappingWorkingSpans { first: usize, second: usize },
    #[error("years: the file covers no year")]
    NoYears,
    #[error("years.{key}: a year is written as four digits, like [years.2025]")]
    MalformedYear { key: String },
    #[error(
        "years: {missing} is missing between {first} and {last}; the covered years must be contiguous"
    )]
    YearsNotContiguous { missing: i16, first: i16, last: i16 },
    #[error("years.{year}.{field}: {value:?} is not a date written as YYYY-MM-DD")]
    MalformedDate {
        year: i16,
        field: String,
        value: String,
    },
    #[error(
        "years.{year}.{field}: {date} is outside {year} (only December of the year before may appear)"
    )]
    DateOutsideYear {
        year: i16,
        field: String,
        date: Date,
    },
    #[error("years.{year}.{field}: last day {last} is before first day {first}")]
    ReversedHoliday {
        year: i16,
        field: String,
        first: Date,
        last: Date,
    },
    #[error(
        "years.{year}.{field}: a break of {days} days is longer than the {max} days one entry may span"
    )]
    HolidayTooLong {
        year: i16,
        field: String,
        days: i32,
        max: i32,
    },
    #[error("years.{year}.{field}: {date} is already listed at {earlier}")]
    DateListedTwice {
        year: i16,
        field: String,
        date: Date,
        earlier: String,
    },
    #[error(
        "years.{year}.{field}: {date} is listed both as a holiday and as a make-up working day (also at {earlier})"
    )]
    HolidayAndMakeupWorkday {
        year: i16,
        field: String,
        date: Date,
        earlier: String,
    },
    #[error(
        "years.{year}.{field}: make-up working day {date} is a {weekday:?}, but make-up days are weekend days"
    )]
    MakeupWorkdayNotOnWeekend {
        year: i16,
        field: String,
        date: Date,
        weekday: Weekday,
    },
    #[error(
        "years.{year}.{field}: make-up working day {date} goes with {holiday:?}, which is not a holiday name of {year}"
    )]
    MakeupWorkdayForUnknownHoliday {
        year: i16,
        field: String,
        date: Date,
        holiday: String,
    },

    // Questions the calendar cannot answer.
    #[error(
        "{year} is not covered by the business calendar (it covers {} to {}): add [years.{year}] to {CALENDAR_FILE_PATH} from the State Council notice on that year's holiday arrangements",
        covered.start(),
        covered.end()
    )]
    YearNotCovered {
        year: i16,
        covered: RangeInclusive<i16>,
    },
    #[error("the computation walked more than {days_max} calendar days without an answer")]
    WalkTooLong { days_max: u32 },
    #[error("the interval ends at {to}, before it starts at {from}")]
    ReversedInterval { from: Timestamp, to: Timestamp },
    #[error("time arithmetic out of range: {0}")]
    TimeArithmetic(#[from] jiff::Error),
}

impl BusinessCalendar {
    /// The calendar shipped in `projections/service-history/calendar.toml`.
    ///
    /// Fails only if the time zone cannot be resolved, which the bundled tz database
    /// rules out, or if the shipped file is invalid, which a test rules out.
    pub fn shipped() -> Result<Self, CalendarError> {
        Self::from_toml(SHIPPED_CALENDAR_TOML)
    }

    /// Reads and validates a calendar in the format documented in `calendar.toml`.
    pub fn from_toml(text: &str) -> Result<Self, CalendarError> {
        let file: CalendarFile = toml::from_str(text)?;
        let time_zone = resolve_time_zone(&file.time_zone)?;
        let working_spans = validate_working_spans(&file.working_hours.spans)?;
        let years = parse_year_keys(&file.years)?;
        let covered_years = contiguous_years(&years)?;

        let mut listed_days = BTreeMap::new();
        for (&year, year_file) in &years {
            list_year(&mut listed_days, year, year_file)?;
        }
        let provisional_years = years
            .iter()
            .filter(|(_, year_file)| year_file.provisional)
            .map(|(&year, _)| year)
            .collect();

        Ok(Self {
            time_zone,
            working_spans,
            covered_years,
            provisional_years,
            listed_days,
        })
    }

    /// The time zone the working hours are in.
    pub fn time_zone(&self) -> &TimeZone {
        &self.time_zone
    }

    /// The years the calendar answers for.
    pub fn covered_years(&self) -> RangeInclusive<i16> {
        self.covered_years.clone()
    }

    /// Covered years whose dates are derived rather than taken from the official notice.
    pub fn provisional_years(&self) -> Vec<i16> {
        self.provisional_years.clone()
    }

    /// Whether `date` is a working day.
    pub fn is_working_day(&self, date: Date) -> Result<bool, CalendarError> {
        self.check_covered(date.year())?;
        let working = match self.listed_days.get(&date).map(|listed| listed.kind) {
            Some(DayKind::MakeupWorkday) => true,
            Some(DayKind::Holiday) => false,
            None => !is_weekend(date.weekday()),
        };
        Ok(working)
    }

    /// The deadline `hours` working hours after `start`.
    ///
    /// Only working time counts; a start outside working hours starts counting at the next
    /// working moment, so with `hours == 0` the answer is that moment. A deadline that
    /// uses up a span exactly is the end of that span (12:00, not 13:00).
    pub fn add_working_hours(
        &self,
        start: Timestamp,
        hours: u32,
    ) -> Result<Timestamp, CalendarError> {
        // u32::MAX hours is about 1.5e13 seconds, far inside i64, so this cannot panic.
        let mut remaining = SignedDuration::from_hours(i64::from(hours));
        let mut date = self.local_date(start);
        for _ in 0..WALK_DAYS_MAX {
            if self.is_working_day(date)? {
                for span in &self.working_spans {
                    let (open, close) = self.span_bounds(date, *span)?;
                    let begin = open.max(start);
                    if begin >= close {
                        continue;
                    }
                    let available = close.duration_since(begin);
                    if remaining <= available {
                        return Ok(begin.checked_add(remaining)?);
                    }
                    remaining -= available;
                }
            }
            date = date.tomorrow()?;
        }
        Err(CalendarError::WalkTooLong {
            days_max: WALK_DAYS_MAX,
        })
    }

    /// The deadline at closing time of the `days`-th working day after `start`'s date.
    ///
    /// `days == 0` means "by close of business today": closing time of `start`'s date, or
    /// of the next working day when that date is not a working day or `start` is past
    /// its closing time.
    pub fn add_working_days(
        &self,
        start: Timestamp,
        days: u32,
    ) -> Result<Timestamp, CalendarError> {
        let start_date = self.local_date(start);
        let mut date = start_date;
        let mut counted_days = 0_u32;
        for _ in 0..WALK_DAYS_MAX {
            if self.is_working_day(date)? {
                let closing = self.closing_time(date)?;
                if days == 0 && closing >= start {
                    return Ok(closing);
                }
                if date > start_date {
                    counted_days += 1;
                    if counted_days == days {
                        return Ok(closing);
                    }
                }
            }
            date = date.tomorrow()?;
        }
        Err(CalendarError::WalkTooLong {
            days_max: WALK_DAYS_MAX,
        })
    }

    /// Working time from `from` to `to`, in whole seconds rounded down: the measure of
    /// "time to first response" or "time to resolution".
    pub fn working_seconds_between(
        &self,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<u64, CalendarError> {
        if to < from {
            return Err(CalendarError::ReversedInterval { from, to });
        }
        let last_date = self.local_date(to);
        let mut date = self.local_date(from);
        let mut total = SignedDuration::ZERO;
        for _ in 0..WALK_DAYS_MAX {
            if self.is_working_day(date)? {
                for span in &self.working_spans {
                    let (open, close) = self.span_bounds(date, *span)?;
                    let begin = open.max(from);
                    let end = close.min(to);
                    if begin < end {
                        // At most WALK_DAYS_MAX days of working time: far from overflow.
                        total += end.duration_since(begin);
                    }
                }
            }
            if date >= last_date {
                // Every added piece has begin < end, so the total is never negative.
                return Ok(u64::try_from(total.as_secs()).unwrap_or(0));
            }
            date = date.tomorrow()?;
        }
        Err(CalendarError::WalkTooLong {
            days_max: WALK_DAYS_MAX,
        })
    }

    fn check_covered(&self, year: i16) -> Result<(), CalendarError> {
        if self.covered_years.contains(&year) {
            Ok(())
        } else {
            Err(CalendarError::YearNotCovered {
                year,
                covered: self.covered_years(),
            })
        }
    }

    fn local_date(&self, timestamp: Timestamp) -> Date {
        self.time_zone.to_datetime(timestamp).date()
    }

    /// The instants a span opens and closes on `date`. A local time that a DST change
    /// skips or repeats resolves as jiff's "compatible" rule does (later for a gap,
    /// earlier for a fold), the same as most calendars.
    fn span_bounds(
        &self,
        date: Date,
        span: WorkingSpan,
    ) -> Result<(Timestamp, Timestamp), CalendarError> {
        let open = self.time_zone.to_timestamp(date.to_datetime(span.start))?;
        let close = self.time_zone.to_timestamp(date.to_datetime(span.end))?;
        Ok((open, close))
    }

    fn closing_time(&self, date: Date) -> Result<Timestamp, CalendarError> {
        // Validation guarantees at least one span, so `last` is always present; the
        // fallback keeps this total without a panic path.
        let closing = self
            .working_spans
            .last()
            .map_or(Time::midnight(), |span| span.end);
        Ok(self.time_zone.to_timestamp(date.to_datetime(closing))?)
    }
}

fn is_weekend(weekday: Weekday) -> bool {
    matches!(weekday, Weekday::Saturday | Weekday::Sunday)
}

// The file's shape. Serialisation stays here, at the edge: the rest of the module works on
// validated values only. Unknown fields are rejected so that a misspelt key
// (`makeup_workday`) is an error, not silently ignored data.

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CalendarFile {
    time_zone: String,
    working_hours: WorkingHoursFile,
    years: BTreeMap<String, YearFile>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct WorkingHoursFile {
    spans: Vec<WorkingSpanFile>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct WorkingSpanFile {
    start: String,
    end: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct YearFile {
    /// Provenance for reviewers; required so that every year says where it came from.
    #[expect(
        dead_code,
        reason = "read by people reviewing the file, not by the code"
    )]
    source: String,
    #[serde(default)]
    provisional: bool,
    #[serde(default)]
    holidays: Vec<HolidayFile>,
    #[serde(default)]
    makeup_workdays: Vec<MakeupWorkdayFile>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct HolidayFile {
    name: String,
    first: String,
    last: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MakeupWorkdayFile {
    date: String,
    holiday: String,
}

/// Resolves through the system tz database when it has the zone, else through the copy
/// bundled into the binary, so a container without tzdata still gets Asia/Shanghai.
fn resolve_time_zone(name: &str) -> Result<TimeZone, CalendarError> {
    TimeZone::get(name)
        .or_else(|_| TimeZoneDatabase::bundled().get(name))
        .map_err(|source| CalendarError::UnknownTimeZone {
            name: name.to_owned(),
            source,
        })
}

fn validate_working_spans(spans: &[WorkingSpanFile]) -> Result<Vec<WorkingSpan>, CalendarError> {
    if spans.is_empty() {
        return Err(CalendarError::NoWorkingHours);
    }
    if spans.len() > WORKING_SPANS_MAX {
        return Err(CalendarError::TooManyWorkingSpans {
            count: spans.len(),
            max: WORKING_SPANS_MAX,
        });
    }
    let mut parsed = Vec::with_capacity(spans.len());
    for (index, span) in spans.iter().enumerate() {
        let start = parse_time(index, "start", &span.start)?;
        let end = parse_time(index, "end", &span.end)?;
        if start >= end {
            return Err(CalendarError::EmptyWorkingSpan { index, start, end });
        }
        parsed.push((index, WorkingSpan { start, end }));
    }
    // Sorted by start before the overlap check, so spans listed afternoon-first are
    // accepted and an overlap names the two spans that really overlap.
    parsed.sort_by_key(|(_, span)| span.start);
    for pair in parsed.windows(2) {
        let [(first, earlier), (second, later)] = pair else {
            continue;
        };
        if later.start < earlier.end {
            return Err(CalendarError::OverlappingWorkingSpans {
                first: *first.min(second),
                second: *first.max(second),
            });
        }
    }
    Ok(parsed.into_iter().map(|(_, span)| span).collect())
}

fn parse_time(index: usize, field: &'static str, value: &str) -> Result<Time, CalendarError> {
    let malformed = || CalendarError::MalformedTime {
        index,
        field,
        value: value.to_owned(),
    };
    let time: Time = value.parse().map_err(|_| malformed())?;
    // The round trip rejects seconds, fractions and other spellings jiff would accept,
    // keeping the file in one readable form.
    if time.strftime("%H:%M").to_string() != value {
        return Err(malformed());
    }
    Ok(time)
}

fn parse_date(year: i16, field: &str, value: &str) -> Result<Date, CalendarError> {
    let malformed = || CalendarError::MalformedDate {
        year,
        field: field.to_owned(),
        value: value.to_owned(),
    };
    let date: Date = value.parse().map_err(|_| malformed())?;
    // As for times: one spelling only, so "2025-1-1" or a date-time is rejected.
    if date.to_string() != value {
        return Err(malformed());
    }
    let in_year = date.year() == year || (date.year() + 1 == year && date.month() == 12);
    if !in_year {
        return Err(CalendarError::DateOutsideYear {
            year,
            field: field.to_owned(),
            date,
        });
    }
    Ok(date)
}

fn parse_year_keys(
    years: &BTreeMap<String, YearFile>,
) -> Result<BTreeMap<i16, &YearFile>, CalendarError> {
    years
        .iter()
        .map(|(key, year_file)| {
            let four_digits = key.len() == 4 && key.bytes().all(|byte| byte.is_ascii_digit());
            let year = four_digits
                .then(|| key.parse::<i16>().ok())
                .flatten()
                .ok_or_else(|| CalendarError::MalformedYear { key: key.clone() })?;
            Ok((year, year_file))
        })
        .collect()
}

fn contiguous_years(
    years: &BTreeMap<i16, &YearFile>,
) -> Result<RangeInclusive<i16>, CalendarError> {
    let (Some(&first), Some(&last)) = (years.keys().next(), years.keys().next_back()) else {
        return Err(CalendarError::NoYears);
    };
    for (&earlier, &later) in years.keys().zip(years.keys().skip(1)) {
        if later != earlier + 1 {
            return Err(CalendarError::YearsNotContiguous {
                missing: earlier + 1,
                first,
                last,
            });
        }
    }
    Ok(first..=last)
}

/// Adds one year's holidays and make-up working days to `listed_days`, checking each
/// against what is already there (from this year or an earlier one).
fn list_year(
    listed_days: &mut BTreeMap<Date, ListedDay>,
    year: i16,
    year_file: &YearFile,
) -> Result<(), CalendarError> {
    let mut holiday_names = BTreeSet::new();
    for (index, holiday) in year_file.holidays.iter().enumerate() {
        let field = format!("holidays[{index}]");
        let first = parse_date(year, &format!("{field}.first"), &holiday.first)?;
        let last = match &holiday.last {
            Some(last) => parse_date(year, &format!("{field}.last"), last)?,
            None => first,
        };
        if last < first {
            return Err(CalendarError::ReversedHoliday {
                year,
                field,
                first,
                last,
            });
        }
        let days = first.until(last)?.get_days() + 1;
        if days > HOLIDAY_BREAK_DAYS_MAX {
            return Err(CalendarError::HolidayTooLong {
                year,
                field,
                days,
                max: HOLIDAY_BREAK_DAYS_MAX,
            });
        }
        let mut date = first;
        while date <= last {
            list_day(listed_days, year, &field, date, DayKind::Holiday)?;
            date = date.tomorrow()?;
        }
        holiday_names.insert(holiday.name.as_str());
    }

    for (index, makeup) in year_file.makeup_workdays.iter().enumerate() {
        let field = format!("makeup_workdays[{index}]");
        let date = parse_date(year, &format!("{field}.date"), &makeup.date)?;
        if !is_weekend(date.weekday()) {
            return Err(CalendarError::MakeupWorkdayNotOnWeekend {
                year,
                field,
                date,
                weekday: date.weekday(),
            });
        }
        if !holiday_names.contains(makeup.holiday.as_str()) {
            return Err(CalendarError::MakeupWorkdayForUnknownHoliday {
                year,
                field,
                date,
                holiday: makeup.holiday.clone(),
            });
        }
        list_day(listed_days, year, &field, date, DayKind::MakeupWorkday)?;
    }
    Ok(())
}

fn list_day(
    listed_days: &mut BTreeMap<Date, ListedDay>,
    year: i16,
    field: &str,
    date: Date,
    kind: DayKind,
) -> Result<(), CalendarError> {
    if let Some(earlier) = listed_days.get(&date) {
        let field = field.to_owned();
        let both_kinds = earlier.kind != kind;
        let earlier = earlier.place.clone();
        return Err(if both_kinds {
            CalendarError::HolidayAndMakeupWorkday {
                year,
                field,
                date,
                earlier,
            }
        } else {
            CalendarError::DateListedTwice {
                year,
                field,
                date,
                earlier,
            }
        });
    }
    let place = format!("years.{year}.{field}");
    listed_days.insert(date, ListedDay { kind, place });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    use proptest::prelude::*;

    fn calendar() -> BusinessCalendar {
        BusinessCalendar::shipped().expect("the shipped calendar is valid")
    }

    /// An instant written in China Standard Time, which has been UTC+8 all year since 1991.
    fn beijing(text: &str) -> Timestamp {
        format!("{text}+08:00")
            .parse()
            .expect("test timestamps are well formed")
    }

    fn date(text: &str) -> Date {
        text.parse().expect("test dates are well formed")
    }

    /// A minimal valid calendar with `years_toml` as its `[years.*]` tables.
    fn calendar_with_years(years_toml: &str) -> Result<BusinessCalendar, CalendarError> {
        BusinessCalendar::from_toml(&format!(
            "time_zone = \"Asia/Shanghai\"\n\
             [working_hours]\n\
             spans = [{{ start = \"08:30\", end = \"12:00\" }}, {{ start = \"13:00\", end = \"17:30\" }}]\n\
             {years_toml}"
        ))
    }

    /// A minimal valid calendar with the given working-hour spans.
    fn calendar_with_spans(spans_toml: &str) -> Result<BusinessCalendar, CalendarError> {
        BusinessCalendar::from_toml(&format!(
            "time_zone = \"Asia/Shanghai\"\n\
             [working_hours]\n\
             spans = [{spans_toml}]\n\
             [years.2025]\n\
             source = \"test\"\n"
        ))
    }

    #[test]
    fn shipped_calendar_loads() {
        let calendar = calendar();
        assert_eq!(calendar.covered_years(), 2023..=2027);
        assert_eq!(calendar.provisional_years(), vec![2027]);
        assert_eq!(calendar.time_zone().iana_name(), Some("Asia/Shanghai"));
    }

    #[test]
    fn the_bundled_tz_database_knows_shanghai() {
        // The fallback when a machine has no system tzdata must really work.
        let time_zone = TimeZoneDatabase::bundled()
            .get("Asia/Shanghai")
            .expect("bundled tzdb has Asia/Shanghai");
        let local = time_zone.to_datetime(beijing("2025-07-01T12:00:00"));
        assert_eq!(local.time(), Time::constant(12, 0, 0, 0));
    }

    #[test]
    fn friday_evening_case_is_due_next_monday_not_saturday() {
        // Given a case opened Friday 17:30, at closing time,
        // when it gets an 8-working-hour deadline,
        // then it is due at Monday's closing time: Monday 08:30 plus 8 working hours.
        let due = calendar()
            .add_working_hours(beijing("2025-03-07T17:30:00"), 8)
            .unwrap();
        assert_eq!(due, beijing("2025-03-10T17:30:00"));
    }

    #[test]
    fn friday_afternoon_case_carries_its_remainder_into_monday() {
        // One hour on Friday, then 3.5 h Monday morning and 3.5 h after lunch.
        let due = calendar()
            .add_working_hours(beijing("2025-03-07T16:30:00"), 8)
            .unwrap();
        assert_eq!(due, beijing("2025-03-10T16:30:00"));
    }

    #[test]
    fn lunch_break_does_not_count() {
        let calendar = calendar();
        let due = calendar
            .add_working_hours(beijing("2025-03-05T11:00:00"), 2)
            .unwrap();
        assert_eq!(due, beijing("2025-03-05T14:00:00"));
        // A deadline that uses the morning up exactly ends at noon, not after lunch.
        let due = calendar
            .add_working_hours(beijing("2025-03-05T09:00:00"), 3)
            .unwrap();
        assert_eq!(due, beijing("2025-03-05T12:00:00"));
    }

    #[test]
    fn case_opened_before_national_day_2025_is_due_after_the_break() {
        // Given a case opened Tuesday 2025-09-30 at 15:00, the last working day before the
        // 8-day National Day and Mid-Autumn break (10-01 to 10-08),
        // when it gets an 8-working-hour deadline,
        // then 2.5 h count on 09-30 and the other 5.5 h on Thursday 10-09.
        let calendar = calendar();
        let due = calendar
            .add_working_hours(beijing("2025-09-30T15:00:00"), 8)
            .unwrap();
        assert_eq!(due, beijing("2025-10-09T15:00:00"));
        let due_in_days = calendar
            .add_working_days(beijing("2025-09-30T15:00:00"), 1)
            .unwrap();
        assert_eq!(due_in_days, beijing("2025-10-09T17:30:00"));
    }

    #[test]
    fn makeup_weekend_days_are_working_days() {
        let calendar = calendar();
        assert!(
            calendar.is_working_day(date("2025-09-28")).unwrap(),
            "Sunday make-up"
        );
        assert!(
            calendar.is_working_day(date("2025-10-11")).unwrap(),
            "Saturday make-up"
        );
        assert!(
            !calendar.is_working_day(date("2025-10-12")).unwrap(),
            "plain Sunday"
        );
        assert!(
            !calendar.is_working_day(date("2025-10-08")).unwrap(),
            "Wednesday holiday"
        );
        assert!(
            calendar.is_working_day(date("2025-10-09")).unwrap(),
            "plain Thursday"
        );

        // A case opened on Saturday 09-27 starts counting on the make-up Sunday.
        let due = calendar
            .add_working_hours(beijing("2025-09-27T10:00:00"), 1)
            .unwrap();
        assert_eq!(due, beijing("2025-09-28T09:30:00"));
    }

    #[test]
    fn spring_festival_2024_runs_from_the_10th_to_the_17th_with_sunday_makeups() {
        let calendar = calendar();
        assert!(
            calendar.is_working_day(date("2024-02-04")).unwrap(),
            "Sunday make-up"
        );
        assert!(
            calendar.is_working_day(date("2024-02-09")).unwrap(),
            "New Year's Eve"
        );
        for day in 10..=17 {
            let holiday = Date::new(2024, 2, day).unwrap();
            assert!(!calendar.is_working_day(holiday).unwrap(), "{holiday}");
        }
        assert!(
            calendar.is_working_day(date("2024-02-18")).unwrap(),
            "Sunday make-up"
        );

        // Given a case opened on New Year's Eve at 17:00, half an hour counts that day
        // and the remaining 7.5 h on the make-up Sunday 02-18.
        let due = calendar
            .add_working_hours(beijing("2024-02-09T17:00:00"), 8)
            .unwrap();
        assert_eq!(due, beijing("2024-02-18T17:00:00"));
    }

    #[test]
    fn the_2026_and_provisional_2027_years_are_loaded() {
        let calendar = calendar();
        assert!(
            !calendar.is_working_day(date("2026-02-23")).unwrap(),
            "Spring Festival"
        );
        assert!(
            calendar.is_working_day(date("2026-02-28")).unwrap(),
            "Saturday make-up"
        );
        assert!(
            calendar.is_working_day(date("2026-01-04")).unwrap(),
            "Sunday make-up"
        );
        assert!(
            !calendar.is_working_day(date("2027-02-08")).unwrap(),
            "Spring Festival"
        );
        assert!(
            !calendar.is_working_day(date("2027-06-09")).unwrap(),
            "Dragon Boat"
        );
    }

    #[test]
    fn add_working_days_ends_at_closing_time() {
        let calendar = calendar();
        let friday_morning = beijing("2025-03-07T10:00:00");
        assert_eq!(
            calendar.add_working_days(friday_morning, 0).unwrap(),
            beijing("2025-03-07T17:30:00")
        );
        assert_eq!(
            calendar.add_working_days(friday_morning, 1).unwrap(),
            beijing("2025-03-10T17:30:00")
        );
        assert_eq!(
            calendar.add_working_days(friday_morning, 5).unwrap(),
            beijing("2025-03-14T17:30:00")
        );
        // Past closing time, "today" is already the next working day.
        assert_eq!(
            calendar
                .add_working_days(beijing("2025-03-07T18:00:00"), 0)
                .unwrap(),
            beijing("2025-03-10T17:30:00")
        );
    }

    #[test]
    fn working_seconds_between_counts_only_working_time() {
        let calendar = calendar();
        // Friday 17:00 to Monday 09:00: half an hour each side of the weekend.
        let seconds = calendar
            .working_seconds_between(
                beijing("2025-03-07T17:00:00"),
                beijing("2025-03-10T09:00:00"),
            )
            .unwrap();
        assert_eq!(seconds, 3600);
        // Entirely inside the lunch break.
        let seconds = calendar
            .working_seconds_between(
                beijing("2025-03-05T12:10:00"),
                beijing("2025-03-05T12:50:00"),
            )
            .unwrap();
        assert_eq!(seconds, 0);
    }

    #[test]
    fn reversed_interval_is_an_error() {
        let result = calendar().working_seconds_between(
            beijing("2025-03-10T09:00:00"),
            beijing("2025-03-07T17:00:00"),
        );
        assert!(matches!(
            result,
            Err(CalendarError::ReversedInterval { .. })
        ));
    }

    #[test]
    fn the_2023_notice_is_in_the_shipped_calendar() {
        // 国办发明电〔2022〕16号: Spring Festival 21–27 January with 28 and 29 January (a
        // weekend) worked; Mid-Autumn and National Day 29 September – 6 October, 7 and 8 October
        // worked. The demo ledger's three years reach back into 2023.
        let calendar = calendar();
        for (day, working) in [
            ("2023-01-20", true),
            ("2023-01-27", false),
            ("2023-01-28", true),
            ("2023-01-29", true),
            ("2023-04-05", false),
            ("2023-04-23", true),
            ("2023-06-23", false),
            ("2023-06-25", true),
            ("2023-10-02", false),
            ("2023-10-07", true),
            ("2023-10-08", true),
            ("2023-12-29", true),
            ("2023-12-30", false),
        ] {
            assert_eq!(
                calendar.is_working_day(date(day)).ok(),
                Some(working),
                "{day}"
            );
        }
    }

    #[test]
    fn years_outside_coverage_are_errors_not_guesses() {
        let calendar = calendar();
        let before = calendar.is_working_day(date("2022-12-29"));
        assert!(
            matches!(before, Err(CalendarError::YearNotCovered { year: 2022, ref covered }) if *covered == (2023..=2027)),
            "{before:?}"
        );
        let after = calendar.is_working_day(date("2028-01-03"));
        let Err(error) = after else {
            panic!("2028 is not covered: {after:?}");
        };
        assert!(matches!(
            error,
            CalendarError::YearNotCovered { year: 2028, .. }
        ));
        let message = error.to_string();
        assert!(message.contains("calendar.toml"), "{message}");
        assert!(message.contains("[years.2028]"), "{message}");

        // A deadline that would run into 2028 fails rather than assuming plain weekdays.
        let running_over = calendar.add_working_hours(beijing("2027-12-31T17:00:00"), 8);
        assert!(matches!(
            running_over,
            Err(CalendarError::YearNotCovered { year: 2028, .. })
        ));
    }

    #[test]
    fn walks_are_bounded() {
        let years: String = (2024..=2030)
            .map(|year| format!("[years.{year}]\nsource = \"test\"\n"))
            .collect();
        let calendar = calendar_with_years(&years).unwrap();
        let result = calendar.add_working_hours(beijing("2024-01-02T09:00:00"), 100_000);
        assert!(matches!(
            result,
            Err(CalendarError::WalkTooLong {
                days_max: WALK_DAYS_MAX
            })
        ));
    }

    #[test]
    fn a_day_both_holiday_and_makeup_is_rejected() {
        let result = calendar_with_years(
            r#"
            [years.2025]
            source = "test"
            holidays = [{ name = "Labour Day", first = "2025-05-01", last = "2025-05-05" }]
            makeup_workdays = [{ date = "2025-05-04", holiday = "Labour Day" }]
            "#,
        );
        let Err(error) = result else {
            panic!("accepted a day both off and on");
        };
        assert!(
            matches!(
                &error,
                CalendarError::HolidayAndMakeupWorkday { year: 2025, field, date: d, earlier }
                    if field == "makeup_workdays[0]"
                        && *d == date("2025-05-04")
                        && earlier == "years.2025.holidays[0]"
            ),
            "{error:?}"
        );
    }

    #[test]
    fn a_makeup_day_on_a_weekday_is_rejected() {
        let result = calendar_with_years(
            r#"
            [years.2025]
            source = "test"
            holidays = [{ name = "Labour Day", first = "2025-05-01", last = "2025-05-05" }]
            makeup_workdays = [{ date = "2025-04-28", holiday = "Labour Day" }]
            "#,
        );
        assert!(
            matches!(
                result,
                Err(CalendarError::MakeupWorkdayNotOnWeekend {
                    year: 2025,
                    weekday: Weekday::Monday,
                    ..
                })
            ),
            "{result:?}"
        );
    }

    #[test]
    fn a_makeup_day_for_an_unknown_holiday_is_rejected() {
        let result = calendar_with_years(
            r#"
            [years.2025]
            source = "test"
            holidays = [{ name = "Labour Day", first = "2025-05-01", last = "2025-05-05" }]
            makeup_workdays = [{ date = "2025-04-27", holiday = "Labor Day" }]
            "#,
        );
        assert!(
            matches!(
                &result,
                Err(CalendarError::MakeupWorkdayForUnknownHoliday { year: 2025, holiday, .. })
                    if holiday == "Labor Day"
            ),
            "{result:?}"
        );
    }

    #[test]
    fn malformed_and_misplaced_dates_are_rejected() {
        let malformed = calendar_with_years(
            r#"
            [years.2025]
            source = "test"
            holidays = [{ name = "New Year", first = "2025-02-30" }]
            "#,
        );
        assert!(
            matches!(
                &malformed,
                Err(CalendarError::MalformedDate { year: 2025, field, value })
                    if field == "holidays[0].first" && value == "2025-02-30"
            ),
            "{malformed:?}"
        );
        let loose_spelling = calendar_with_years(
            r#"
            [years.2025]
            source = "test"
            holidays = [{ name = "New Year", first = "2025-1-1" }]
            "#,
        );
        assert!(matches!(
            loose_spelling,
            Err(CalendarError::MalformedDate { .. })
        ));
        let wrong_year = calendar_with_years(
            r#"
            [years.2025]
            source = "test"
            holidays = [{ name = "National Day", first = "2026-10-01" }]
            "#,
        );
        assert!(matches!(
            wrong_year,
            Err(CalendarError::DateOutsideYear { year: 2025, .. })
        ));
    }

    #[test]
    fn overlapping_holidays_and_reversed_ranges_are_rejected() {
        let twice = calendar_with_years(
            r#"
            [years.2025]
            source = "test"
            holidays = [
                { name = "A", first = "2025-10-01", last = "2025-10-03" },
                { name = "B", first = "2025-10-03" },
            ]
            "#,
        );
        assert!(matches!(
            twice,
            Err(CalendarError::DateListedTwice { year: 2025, .. })
        ));
        let reversed = calendar_with_years(
            r#"
            [years.2025]
            source = "test"
            holidays = [{ name = "A", first = "2025-10-07", last = "2025-10-01" }]
            "#,
        );
        assert!(matches!(
            reversed,
            Err(CalendarError::ReversedHoliday { .. })
        ));
        let too_long = calendar_with_years(
            r#"
            [years.2025]
            source = "test"
            holidays = [{ name = "A", first = "2025-01-01", last = "2025-03-01" }]
            "#,
        );
        assert!(matches!(
            too_long,
            Err(CalendarError::HolidayTooLong { .. })
        ));
    }

    #[test]
    fn year_tables_must_be_well_named_and_contiguous() {
        let gap = calendar_with_years(
            "[years.2024]\nsource = \"test\"\n[years.2026]\nsource = \"test\"\n",
        );
        assert!(matches!(
            gap,
            Err(CalendarError::YearsNotContiguous { missing: 2025, .. })
        ));
        let malformed = calendar_with_years("[years.25]\nsource = \"test\"\n");
        assert!(matches!(
            malformed,
            Err(CalendarError::MalformedYear { .. })
        ));
        let none = calendar_with_years("[years]\n");
        assert!(matches!(none, Err(CalendarError::NoYears)));
        let misspelt_field =
            calendar_with_years("[years.2025]\nsource = \"test\"\nmakeup_workday = []\n");
        assert!(matches!(misspelt_field, Err(CalendarError::Toml(_))));
    }

    #[test]
    fn bad_working_hours_are_rejected() {
        let overlapping = calendar_with_spans(
            r#"{ start = "13:00", end = "17:30" }, { start = "08:30", end = "13:30" }"#,
        );
        assert!(
            matches!(
                overlapping,
                Err(CalendarError::OverlappingWorkingSpans {
                    first: 0,
                    second: 1
                })
            ),
            "{overlapping:?}"
        );
        let empty = calendar_with_spans(r#"{ start = "12:00", end = "12:00" }"#);
        assert!(matches!(
            empty,
            Err(CalendarError::EmptyWorkingSpan { index: 0, .. })
        ));
        let malformed = calendar_with_spans(r#"{ start = "8:30", end = "12:00" }"#);
        assert!(matches!(
            malformed,
            Err(CalendarError::MalformedTime {
                index: 0,
                field: "start",
                ..
            })
        ));
        let none = calendar_with_spans("");
        assert!(matches!(none, Err(CalendarError::NoWorkingHours)));
        // Listed afternoon first, but disjoint: accepted and put in order.
        let reordered = calendar_with_spans(
            r#"{ start = "13:00", end = "17:30" }, { start = "08:30", end = "12:00" }"#,
        )
        .unwrap();
        assert_eq!(
            reordered
                .add_working_days(beijing("2025-03-07T10:00:00"), 0)
                .unwrap(),
            beijing("2025-03-07T17:30:00")
        );
    }

    #[test]
    fn an_unknown_time_zone_is_rejected() {
        let result = BusinessCalendar::from_toml(
            &SHIPPED_CALENDAR_TOML.replace("Asia/Shanghai", "Asia/Atlantis"),
        );
        assert!(
            matches!(&result, Err(CalendarError::UnknownTimeZone { name, .. }) if name == "Asia/Atlantis"),
            "{result:?}"
        );
    }

    /// Starts from 2024-01-01 to 2027-09-30, any second of the day, so that a deadline of
    /// up to 400 working hours (50 working days) stays inside the covered years.
    fn covered_start() -> impl Strategy<Value = Timestamp> {
        let first = beijing("2024-01-01T00:00:00").as_second();
        let last = beijing("2027-09-30T23:59:59").as_second();
        (first..=last).prop_map(|second| Timestamp::from_second(second).expect("in range"))
    }

    proptest! {
        #[test]
        fn working_seconds_between_inverts_add_working_hours(
            start in covered_start(),
            hours in 0_u32..=400,
        ) {
            let calendar = calendar();
            let due = calendar.add_working_hours(start, hours).unwrap();
            prop_assert!(due >= start);
            let seconds = calendar.working_seconds_between(start, due).unwrap();
            prop_assert_eq!(seconds, u64::from(hours) * 3600);
        }

        #[test]
        fn add_working_days_lands_at_closing_time_of_a_working_day(
            start in covered_start(),
            days in 0_u32..=50,
        ) {
            let calendar = calendar();
            let due = calendar.add_working_days(start, days).unwrap();
            prop_assert!(due >= start);
            let local = calendar.time_zone().to_datetime(due);
            prop_assert!(calendar.is_working_day(local.date()).unwrap());
            prop_assert_eq!(local.time(), Time::constant(17, 30, 0, 0));
        }
    }
}
