//! Reading the buckets: contacts per channel per hour, day, week or month, and contacts per
//! hour of day, for any range, from the pre-aggregated keys alone.

use std::collections::BTreeMap;

use jiff::Timestamp;
use ledger_domain::projection::{Order, StateError, StateRead};
use ledger_domain::values::Channel;

use crate::counters::{Counters, DayCounters};
use crate::fold::decode;
use crate::keys;
use crate::time;

/// The most time buckets one [`channel_stats`] call may cover: a month of hours (31 × 24).
/// Each bucket is up to one row per channel, so a call returns at most 9 × 744 rows; a longer
/// series is asked for with a coarser bucket or in several calls.
pub const BUCKETS_MAX: usize = 744;

/// The longest range, in Beijing days, that one call may read: ten years and three leap days
/// (3,653 days, the same as `performance`'s figures). A call reads at most one key per day and
/// channel, so this bounds a call to about 33,000 small reads, a few milliseconds.
pub const RANGE_DAYS_MAX: i64 = 3_653;

/// Keys one bucket holds at most: one per channel.
const CHANNELS: usize = Channel::ALL.len();

/// How long each bucket of a series is. Every bucket is Beijing time (UTC+8): a day runs from
/// 00:00 to 24:00 Beijing time, a week from Monday to Sunday, a month over its calendar month.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BucketSize {
    Hour,
    Day,
    Week,
    Month,
}

/// One channel's figures over one bucket. Only channels with contacts in the bucket appear.
#[derive(Debug, Clone, PartialEq)]
pub struct ChannelBucket {
    /// When the bucket starts (inclusive) and ends (exclusive).
    pub start: Timestamp,
    pub end: Timestamp,
    pub channel: Channel,
    pub contacts: u64,
    pub inbound: u64,
    pub outbound: u64,
    pub complaints: u64,
    /// Inbound contacts that were served (not abandoned).
    pub first_contacts: u64,
    /// Of those, the ones resolved there and then, without a service case.
    pub resolved_at_first_contact: u64,
    /// `complaints / contacts`.
    pub complaint_rate: f64,
    /// `resolved_at_first_contact / first_contacts`; `None` when no inbound contact was served.
    pub first_contact_resolution_rate: Option<f64>,
    /// Total duration over contacts, in seconds.
    pub average_handling_seconds: f64,
}

/// Why figures could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AnalyticsError {
    /// `to` is not after `from`.
    #[error("the range is empty: {to} is not after {from}")]
    EmptyRange { from: Timestamp, to: Timestamp },
    /// The series would have more than [`BUCKETS_MAX`] buckets; ask with a coarser bucket or
    /// a shorter range.
    #[error("a series holds at most {max} buckets; this range needs {requested}")]
    TooManyBuckets { requested: u64, max: usize },
    /// The range is longer than [`RANGE_DAYS_MAX`] days.
    #[error("a range covers at most {max} days; this one covers {days}")]
    RangeTooLong { days: i64, max: i64 },
    #[error(transparent)]
    State(#[from] StateError),
}

/// Contacts per channel in each `bucket` of the range `[from, to)`, oldest bucket first and
/// channels in [`Channel::ALL`] order within a bucket.
///
/// The range is widened to whole buckets: to whole hours for [`BucketSize::Hour`], else to
/// whole Beijing days and then to the whole weeks or months containing them, so every bucket
/// returned is complete and its `start` and `end` say what it covers.
///
/// Cost: one range read of at most 9 keys per hour (hour buckets) or per day (the others);
/// never a scan of events.
pub fn channel_stats(
    state: &dyn StateRead,
    from: Timestamp,
    to: Timestamp,
    bucket: BucketSize,
) -> Result<Vec<ChannelBucket>, AnalyticsError> {
    if to <= from {
        return Err(AnalyticsError::EmptyRange { from, to });
    }
    let first_hour = time::hour_of(from);
    let end_hour = time::hour_at_or_after(to);
    match bucket {
        BucketSize::Hour => hour_series(state, first_hour, end_hour),
        BucketSize::Day | BucketSize::Week | BucketSize::Month => {
            let first_day = time::day_of_hour(first_hour);
            let end_day = time::day_of_hour(end_hour - 1) + 1;
            check_days(end_day - first_day)?;
            let bounds = day_bounds(bucket, first_day, end_day)?;
            day_series(state, &bounds)
        }
    }
}

/// Contacts on every channel per Beijing hour of day (index 0 is 00:00-01:00) over `[from,
/// to)`, widened to whole hours.
///
/// Cost: the whole days inside the range are read from the day buckets (one key per day and
/// channel, each holding its 24 hourly counts); only the hours of a partial first and last day
/// are read from the hour buckets.
pub fn busiest_hours(
    state: &dyn StateRead,
    from: Timestamp,
    to: Timestamp,
) -> Result<[u64; 24], AnalyticsError> {
    if to <= from {
        return Err(AnalyticsError::EmptyRange { from, to });
    }
    let first_hour = time::hour_of(from);
    let end_hour = time::hour_at_or_after(to);
    check_days(time::day_of_hour(end_hour - 1) + 1 - time::day_of_hour(first_hour))?;
    // Whole days: those whose first hour is in the range and whose last hour is too.
    let first_whole_day = time::day_of_hour(first_hour - 1) + 1;
    let end_whole_day = time::day_of_hour(end_hour);
    let mut by_hour = [0_u64; 24];
    if first_whole_day < end_whole_day {
        add_hours(
            state,
            first_hour,
            time::first_hour_of_day(first_whole_day),
            &mut by_hour,
        )?;
        let start = keys::bucket_start(keys::DAY, first_whole_day);
        let end = keys::bucket_start(keys::DAY, end_whole_day);
        let limit = key_limit(end_whole_day - first_whole_day);
        for (key, value) in state.range(&start, &end, Order::Ascending, limit)? {
            let day: DayCounters = decode(&key, &value)?;
            for (total, count) in by_hour.iter_mut().zip(day.contacts_by_hour) {
                *total = total.saturating_add(count);
            }
        }
        add_hours(
            state,
            time::first_hour_of_day(end_whole_day),
            end_hour,
            &mut by_hour,
        )?;
    } else {
        add_hours(state, first_hour, end_hour, &mut by_hour)?;
    }
    Ok(by_hour)
}

fn check_days(days: i64) -> Result<(), AnalyticsError> {
    if days > RANGE_DAYS_MAX {
        return Err(AnalyticsError::RangeTooLong {
            days,
            max: RANGE_DAYS_MAX,
        });
    }
    Ok(())
}

/// The most keys `units` hours or days can hold.
fn key_limit(units: i64) -> usize {
    usize::try_from(units).unwrap_or(0).saturating_mul(CHANNELS)
}

/// Adds the contacts of hours `[first_hour, end_hour)` to `by_hour`.
fn add_hours(
    state: &dyn StateRead,
    first_hour: i64,
    end_hour: i64,
    by_hour: &mut [u64; 24],
) -> Result<(), AnalyticsError> {
    if first_hour >= end_hour {
        return Ok(());
    }
    let start = keys::bucket_start(keys::HOUR, first_hour);
    let end = keys::bucket_start(keys::HOUR, end_hour);
    let limit = key_limit(end_hour - first_hour);
    for (key, value) in state.range(&start, &end, Order::Ascending, limit)? {
        let (hour, _) = parse(keys::HOUR, &key)?;
        let counters: Counters = decode(&key, &value)?;
        let slot = &mut by_hour[time::hour_of_day(hour)];
        *slot = slot.saturating_add(counters.contacts);
    }
    Ok(())
}

fn hour_series(
    state: &dyn StateRead,
    first_hour: i64,
    end_hour: i64,
) -> Result<Vec<ChannelBucket>, AnalyticsError> {
    let hours = end_hour - first_hour;
    if usize::try_from(hours).map_or(true, |hours| hours > BUCKETS_MAX) {
        return Err(AnalyticsError::TooManyBuckets {
            requested: u64::try_from(hours).unwrap_or(u64::MAX),
            max: BUCKETS_MAX,
        });
    }
    let start = keys::bucket_start(keys::HOUR, first_hour);
    let end = keys::bucket_start(keys::HOUR, end_hour);
    state
        .range(&start, &end, Order::Ascending, key_limit(hours))?
        .into_iter()
        .map(|(key, value)| {
            let (hour, channel) = parse(keys::HOUR, &key)?;
            let counters: Counters = decode(&key, &value)?;
            Ok(row(
                time::hour_start(hour),
                time::hour_start(hour + 1),
                channel,
                &counters,
            ))
        })
        .collect()
}

/// The day numbers where the buckets covering `[first_day, end_day)` start, followed by where
/// the last one ends.
fn day_bounds(
    bucket: BucketSize,
    first_day: i64,
    end_day: i64,
) -> Result<Vec<i64>, AnalyticsError> {
    let (mut day, step): (i64, fn(i64) -> i64) = match bucket {
        BucketSize::Week => (first_day - time::days_since_monday(first_day), |day| {
            day + 7
        }),
        BucketSize::Month => {
            let first = time::date_of_day(first_day).first_of_month();
            (time::day_of_date(first), next_month)
        }
        BucketSize::Day | BucketSize::Hour => (first_day, |day| day + 1),
    };
    let mut bounds = vec![day];
    while day < end_day {
        if bounds.len() > BUCKETS_MAX {
            // Count the rest only to report the number; bounded by RANGE_DAYS_MAX steps.
            let mut requested = bounds.len();
            while day < end_day {
                day = step(day);
                requested += 1;
            }
            return Err(AnalyticsError::TooManyBuckets {
                requested: u64::try_from(requested - 1).unwrap_or(u64::MAX),
                max: BUCKETS_MAX,
            });
        }
        day = step(day);
        bounds.push(day);
    }
    Ok(bounds)
}

/// The first day of the month after the one holding `day`.
fn next_month(day: i64) -> i64 {
    let first = time::date_of_day(day).first_of_month();
    let next = first
        .checked_add(jiff::Span::new().months(1))
        .unwrap_or(jiff::civil::Date::MAX);
    time::day_of_date(next)
}

/// The series over the day buckets between `bounds[0]` and the last bound.
fn day_series(state: &dyn StateRead, bounds: &[i64]) -> Result<Vec<ChannelBucket>, AnalyticsError> {
    let (Some(&first_day), Some(&end_day)) = (bounds.first(), bounds.last()) else {
        return Ok(Vec::new());
    };
    let start = keys::bucket_start(keys::DAY, first_day);
    let end = keys::bucket_start(keys::DAY, end_day);
    let mut sums: BTreeMap<(usize, u8), (Channel, Counters)> = BTreeMap::new();
    for (key, value) in state.range(
        &start,
        &end,
        Order::Ascending,
        key_limit(end_day - first_day),
    )? {
        let (day, channel) = parse(keys::DAY, &key)?;
        let counts: DayCounters = decode(&key, &value)?;
        // The bucket whose start is the last bound at or before `day`.
        let index = bounds
            .partition_point(|&bound| bound <= day)
            .saturating_sub(1);
        let entry = sums
            .entry((index, keys::channel_index(channel)))
            .or_insert((channel, Counters::default()));
        entry.1.add(&counts.counters);
    }
    let day_start = |day: i64| time::hour_start(time::first_hour_of_day(day));
    Ok(sums
        .into_iter()
        .map(|((index, _), (channel, counters))| {
            row(
                day_start(bounds[index]),
                day_start(bounds[index + 1]),
                channel,
                &counters,
            )
        })
        .collect())
}

fn parse(tag: u8, key: &[u8]) -> Result<(i64, Channel), StateError> {
    keys::parse_bucket(tag, key).ok_or_else(|| {
        StateError(format!(
            "analytics: {} is not a bucket key",
            key.escape_ascii()
        ))
    })
}

fn row(start: Timestamp, end: Timestamp, channel: Channel, counters: &Counters) -> ChannelBucket {
    ChannelBucket {
        start,
        end,
        channel,
        contacts: counters.contacts,
        inbound: counters.inbound,
        outbound: counters.outbound,
        complaints: counters.complaints,
        first_contacts: counters.first_contacts,
        resolved_at_first_contact: counters.resolved_at_first_contact,
        complaint_rate: ratio(counters.complaints, counters.contacts).unwrap_or(0.0),
        first_contact_resolution_rate: ratio(
            counters.resolved_at_first_contact,
            counters.first_contacts,
        ),
        average_handling_seconds: ratio(counters.duration_seconds, counters.contacts)
            .unwrap_or(0.0),
    }
}

/// `numerator / denominator`, or `None` when the denominator is zero.
fn ratio(numerator: u64, denominator: u64) -> Option<f64> {
    (denominator > 0).then(|| to_f64(numerator) / to_f64(denominator))
}

/// A count as the nearest `f64` (exact below 2^53, far beyond any count here), without a
/// lossy `as`: the high and low 32-bit halves each convert exactly.
fn to_f64(value: u64) -> f64 {
    let high = u32::try_from(value >> 32).expect("a u64 shifted right by 32 fits in u32");
    let low = u32::try_from(value & 0xFFFF_FFFF).expect("masked to 32 bits");
    f64::from(high) * 4_294_967_296.0 + f64::from(low)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_convert_exactly() {
        for value in [0, 1, 4_294_967_295, 4_294_967_296, (1 << 53) - 1] {
            assert_eq!(to_f64(value).to_string(), value.to_string());
        }
        assert_eq!(ratio(1, 4), Some(0.25));
        assert_eq!(ratio(1, 0), None);
    }
}
