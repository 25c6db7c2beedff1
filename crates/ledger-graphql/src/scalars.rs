//! The API's custom scalars: `Position` and `Money` travel as decimal strings (a position
//! outgrows a 32-bit `Int`, and an amount in fen outgrows a double's exact integers), `DateTime`
//! is an RFC 3339 instant and `Date` a calendar day. `JSON` (raw event payloads) is
//! async-graphql's own. A value that does not parse is an error with `code: VALIDATION` and the
//! scalar's rule, and its `field` is the argument or the input object's field holding it
//! (`input.startedAt`): each scalar's `is_valid` lets async-graphql's validation find the value
//! and its path, and `execution::complete_errors` adds the scalar's rule ([`broken_rule`]).

use std::borrow::Cow;

use async_graphql::{InputValueError, InputValueResult, Scalar, ScalarType, Value};
use ledger_domain::ids;
use ledger_domain::values;

/// A parse error of scalar `T` that carries the API's `VALIDATION` code and the rule.
fn invalid<T: async_graphql::InputType>(rule: &str) -> InputValueError<T> {
    InputValueError::custom(rule)
        .with_extension("code", "VALIDATION")
        .with_extension("rule", rule)
}

/// The rule `value` breaks as a `type_name`, one of the API's scalars; `None` when it parses
/// or the type is not one of them. async-graphql's validation finds such a value through each
/// scalar's `is_valid` and says only `expected type "DateTime"`; `execution::complete_errors`
/// tells the rule with this.
pub fn broken_rule(type_name: &str, value: &Value) -> Option<String> {
    fn rule_of<T: async_graphql::InputType>(error: InputValueError<T>) -> String {
        let error = error.into_server_error(async_graphql::Pos::default());
        match error
            .extensions
            .as_ref()
            .and_then(|extensions| extensions.get("rule"))
        {
            Some(Value::String(rule)) => rule.clone(),
            _ => error.message,
        }
    }
    let value = value.clone();
    match type_name {
        "Position" => <Position as ScalarType>::parse(value).err().map(rule_of),
        "Money" => <Money as ScalarType>::parse(value).err().map(rule_of),
        "DateTime" => <DateTime as ScalarType>::parse(value).err().map(rule_of),
        "Date" => <Date as ScalarType>::parse(value).err().map(rule_of),
        "Count" => <Count as ScalarType>::parse(value).err().map(rule_of),
        _ => None,
    }
}

/// The text of a string input, or the decimal text of an integer input (clients that send
/// small positions or amounts as numbers are understood too).
fn decimal_text(value: &Value) -> Option<String> {
    match value {
        Value::String(text) => Some(text.trim().to_owned()),
        Value::Number(number) if number.is_i64() || number.is_u64() => Some(number.to_string()),
        _ => None,
    }
}

/// A record's place in the global log, from 1; `"0"` means "before the first record".
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Position(pub ids::Position);

const POSITION_RULE: &str =
    "a position is a decimal string such as \"42\" (0 to 18446744073709551615)";

#[Scalar(name = "Position")]
/// A position in the ledger's log, as a decimal string: `"42"`.
impl ScalarType for Position {
    fn is_valid(value: &Value) -> bool {
        Self::parse(value.clone()).is_ok()
    }

    fn parse(value: Value) -> InputValueResult<Self> {
        let text = decimal_text(&value).ok_or_else(|| invalid(POSITION_RULE))?;
        text.parse::<u64>()
            .map(|position| Self(ids::Position(position)))
            .map_err(|_| invalid(POSITION_RULE))
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.to_string())
    }
}

impl From<ids::Position> for Position {
    fn from(position: ids::Position) -> Self {
        Self(position)
    }
}

/// An amount in integer fen (CNY cents), as a decimal string: `"345600"` is ¥3,456.00.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Money(pub values::Money);

const MONEY_RULE: &str =
    "an amount is a whole number of fen as a decimal string, such as \"345600\" for ¥3,456.00";

const MONEY_RANGE_RULE: &str = "an amount is at most 9223372036854775807 fen in size (a signed \
     64-bit number of fen, about ¥92 quadrillion)";

#[Scalar(name = "Money")]
/// An amount in integer fen (CNY cents) as a decimal string: `"345600"` is ¥3,456.00. An
/// amount a mutation records (a premium, loss, settlement, budget, cost) is at most
/// `"1000000000000"` (¥10,000,000,000, `AMOUNT_FEN_MAX`); totals read back may be larger.
impl ScalarType for Money {
    fn is_valid(value: &Value) -> bool {
        Self::parse(value.clone()).is_ok()
    }

    fn parse(value: Value) -> InputValueResult<Self> {
        let text = decimal_text(&value).ok_or_else(|| invalid(MONEY_RULE))?;
        text.parse::<i64>()
            .map(|fen| Self(values::Money::from_fen(fen)))
            .map_err(|error| match error.kind() {
                // A whole number, only too large for 64 bits: say so.
                std::num::IntErrorKind::PosOverflow | std::num::IntErrorKind::NegOverflow => {
                    invalid(MONEY_RANGE_RULE)
                }
                _ => invalid(MONEY_RULE),
            })
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.fen().to_string())
    }
}

impl From<values::Money> for Money {
    fn from(money: values::Money) -> Self {
        Self(money)
    }
}

impl Money {
    /// The amount, refused when negative (premiums, payments, budgets); `field` names it.
    pub fn non_negative(
        self,
        field: &str,
    ) -> Result<values::Money, ledger_domain::ValidationError> {
        values::Money::non_negative(field, self.0.fen())
    }
}

/// An instant, RFC 3339 with an offset: `"2025-03-01T08:30:00Z"`, `"2025-03-01T16:30:00+08:00"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DateTime(pub jiff::Timestamp);

const DATE_TIME_RULE: &str = "an instant is RFC 3339 with an offset, such as 2025-03-01T08:30:00Z";

const DATE_TIME_OFFSET_RULE: &str = "an instant's offset is Z or ±hh:mm (RFC 3339), hours 00 to 23 \
     and minutes 00 to 59, such as +08:00";

/// The most digits of a second's fraction an instant may carry: nanoseconds, the precision the
/// ledger keeps (RFC 3339 itself sets no bound).
const SECOND_FRACTION_DIGITS_MAX: usize = 9;

const DATE_TIME_FRACTION_RULE: &str = "an instant's fraction of a second has at most \
     SECOND_FRACTION_DIGITS_MAX = 9 digits (nanoseconds)";

const DATE_TIME_CLOCK_RULE: &str = "an instant's time of day is hh:mm:ss with hours 00 to 23, \
     minutes 00 to 59 and seconds 00 to 60";

/// Why the day `YYYY-MM-DD` that `text` starts with (its shape checked: ten bytes, digits and
/// dashes) is not a day of the calendar, or `None` when it is one.
fn missing_day(text: &str) -> Option<String> {
    let number = |range: std::ops::Range<usize>| text.get(range)?.parse::<i16>().ok();
    let (year, month, day) = (number(0..4)?, number(5..7)?, number(8..10)?);
    let exists = i8::try_from(month)
        .ok()
        .zip(i8::try_from(day).ok())
        .is_some_and(|(month, day)| jiff::civil::Date::new(year, month, day).is_ok());
    (!exists).then(|| {
        format!(
            "{} is not a day of the calendar: months are 01 to 12, days 01 to the month's last",
            &text[..10]
        )
    })
}

/// The bytes of `YYYY-MM-DDThh:mm:ss`, the part of an RFC 3339 instant before its fraction of a
/// second and its offset.
const DATE_TIME_SECONDS_BYTES: usize = 19;

/// Why `text` is not an RFC 3339 `date-time`, or `None` when it is one: its shape, a day the
/// calendar has, a time of day a clock shows, an offset RFC 3339 allows (whether the instant
/// is in jiff's range is jiff's to say). jiff's own parser also takes what RFC 3339 does not: an
/// offset of up to ±25:59:59, with seconds, or without its colon (`+0800`), which would be
/// taken at its word as a wrong instant.
fn rfc_3339_problem(text: &str) -> Option<Cow<'static, str>> {
    let bytes = text.as_bytes();
    if bytes.len() < DATE_TIME_SECONDS_BYTES {
        return Some(DATE_TIME_RULE.into());
    }
    let (date_time, mut rest) = bytes.split_at(DATE_TIME_SECONDS_BYTES);
    // `T` separates the day and the time; RFC 3339 also allows `t` and, for readability, a
    // space (its section 5.6).
    let shape_fits = date_time
        .iter()
        .zip(b"dddd-dd-ddTdd:dd:dd")
        .all(|(byte, expected)| match expected {
            b'd' => byte.is_ascii_digit(),
            b'T' => matches!(byte, b'T' | b't' | b' '),
            other => byte == other,
        });
    if !shape_fits {
        return Some(DATE_TIME_RULE.into());
    }
    if let Some(rule) = missing_day(text) {
        return Some(rule.into());
    }
    let two_digits = |at: usize| (bytes[at] - b'0') * 10 + (bytes[at + 1] - b'0');
    if two_digits(11) > 23 || two_digits(14) > 59 || two_digits(17) > 60 {
        return Some(DATE_TIME_CLOCK_RULE.into());
    }
    if let Some(fraction) = rest.strip_prefix(b".") {
        let digits = fraction
            .iter()
            .take_while(|byte| byte.is_ascii_digit())
            .count();
        if digits == 0 {
            return Some(DATE_TIME_RULE.into());
        }
        if digits > SECOND_FRACTION_DIGITS_MAX {
            return Some(DATE_TIME_FRACTION_RULE.into());
        }
        rest = &fraction[digits..];
    }
    match rest {
        b"Z" | b"z" => None,
        [b'+' | b'-', hours @ .., b':', minute_tens, minute_units] if hours.len() == 2 => {
            let two_digits = |tens: u8, units: u8| {
                (tens.is_ascii_digit() && units.is_ascii_digit())
                    .then(|| (tens - b'0') * 10 + (units - b'0'))
            };
            let hours = two_digits(hours[0], hours[1]);
            let minutes = two_digits(*minute_tens, *minute_units);
            match (hours, minutes) {
                (Some(hours), Some(minutes)) if hours <= 23 && minutes <= 59 => None,
                _ => Some(DATE_TIME_OFFSET_RULE.into()),
            }
        }
        [b'+' | b'-', ..] => Some(DATE_TIME_OFFSET_RULE.into()),
        _ => Some(DATE_TIME_RULE.into()),
    }
}

#[Scalar(
    name = "DateTime",
    specified_by_url = "https://datatracker.ietf.org/doc/html/rfc3339"
)]
/// An instant in RFC 3339 with an offset, `Z` or `±hh:mm` (hours 00 to 23, minutes 00 to 59):
/// `"2025-03-01T16:30:00+08:00"`; at most 9 digits of a second's fraction. The API answers in
/// UTC (`Z`).
impl ScalarType for DateTime {
    fn is_valid(value: &Value) -> bool {
        Self::parse(value.clone()).is_ok()
    }

    fn parse(value: Value) -> InputValueResult<Self> {
        match &value {
            Value::String(text) => {
                let text = text.trim();
                if let Some(rule) = rfc_3339_problem(text) {
                    return Err(invalid(&rule));
                }
                text.parse::<jiff::Timestamp>().map(Self).map_err(|_| {
                    invalid(&format!(
                        "an instant is between {} and {}",
                        jiff::Timestamp::MIN,
                        jiff::Timestamp::MAX
                    ))
                })
            }
            _ => Err(invalid(DATE_TIME_RULE)),
        }
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.to_string())
    }
}

impl From<jiff::Timestamp> for DateTime {
    fn from(timestamp: jiff::Timestamp) -> Self {
        Self(timestamp)
    }
}

/// A calendar day, `YYYY-MM-DD`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date(pub jiff::civil::Date);

const DATE_RULE: &str = "a date is YYYY-MM-DD, such as 2025-03-01";

#[Scalar(name = "Date")]
/// A calendar day, `YYYY-MM-DD` (policy periods, due dates).
impl ScalarType for Date {
    fn is_valid(value: &Value) -> bool {
        Self::parse(value.clone()).is_ok()
    }

    fn parse(value: Value) -> InputValueResult<Self> {
        match &value {
            Value::String(text) => {
                let text = text.trim();
                jiff::civil::Date::strptime("%Y-%m-%d", text)
                    .map(Self)
                    .map_err(|_| {
                        let shape_fits = text.len() == 10
                            && text.bytes().zip(b"dddd-dd-dd").all(
                                |(byte, expected)| match expected {
                                    b'd' => byte.is_ascii_digit(),
                                    other => byte == *other,
                                },
                            );
                        match shape_fits.then(|| missing_day(text)).flatten() {
                            Some(rule) => invalid(&rule),
                            None => invalid(DATE_RULE),
                        }
                    })
            }
            _ => Err(invalid(DATE_RULE)),
        }
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.to_string())
    }
}

impl From<jiff::civil::Date> for Date {
    fn from(date: jiff::civil::Date) -> Self {
        Self(date)
    }
}

/// A count that may outgrow a 32-bit `Int` (events in the log, a stream's version), as a
/// decimal string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Count(pub u64);

const COUNT_RULE: &str = "a count is a decimal string such as \"42\"";

#[Scalar(name = "Count")]
/// A count that may outgrow a 32-bit `Int`, as a decimal string: `"1048576"`.
impl ScalarType for Count {
    fn is_valid(value: &Value) -> bool {
        Self::parse(value.clone()).is_ok()
    }

    fn parse(value: Value) -> InputValueResult<Self> {
        let text = decimal_text(&value).ok_or_else(|| invalid(COUNT_RULE))?;
        text.parse::<u64>()
            .map(Self)
            .map_err(|_| invalid(COUNT_RULE))
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.to_string())
    }
}

/// A count or duration the read models keep as `u64`, as a GraphQL `Int`. Values beyond
/// `i32::MAX` (68 years of seconds; two billion events of one kind) saturate rather than wrap.
pub fn int(value: u64) -> i32 {
    i32::try_from(value).unwrap_or(i32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_and_money_round_trip_as_strings() {
        let position =
            <Position as ScalarType>::parse(Value::String("18446744073709551615".into())).unwrap();
        assert_eq!(position.0.get(), u64::MAX);
        assert_eq!(
            position.to_value(),
            Value::String("18446744073709551615".into())
        );
        assert!(<Position as ScalarType>::parse(Value::String("-1".into())).is_err());
        let money = <Money as ScalarType>::parse(Value::String("-12000".into())).unwrap();
        assert_eq!(money.0.fen(), -12_000);
        assert!(money.non_negative("refund").is_err());
        assert!(<Money as ScalarType>::parse(Value::String("12.5".into())).is_err());
        // A whole number too large for the range is told the range, not the format.
        let huge = <Money as ScalarType>::parse(Value::String("99999999999999999999".into()))
            .err()
            .map(|error| {
                error
                    .into_server_error(async_graphql::Pos::default())
                    .message
            })
            .unwrap_or_default();
        assert!(huge.contains("at most 9223372036854775807 fen"), "{huge}");
    }

    #[test]
    fn instants_and_dates_parse_rfc_3339_and_iso_days() {
        let instant =
            <DateTime as ScalarType>::parse(Value::String("2025-03-01T16:30:00+08:00".into()))
                .unwrap();
        assert_eq!(
            instant.to_value(),
            Value::String("2025-03-01T08:30:00Z".into())
        );
        assert!(<DateTime as ScalarType>::parse(Value::String("2025-03-01".into())).is_err());
        let day = <Date as ScalarType>::parse(Value::String("2025-02-28".into())).unwrap();
        assert_eq!(day.to_value(), Value::String("2025-02-28".into()));
        let refusal = |text: &str| {
            <Date as ScalarType>::parse(Value::String(text.into()))
                .err()
                .map(|error| {
                    error
                        .into_server_error(async_graphql::Pos::default())
                        .message
                })
                .unwrap_or_default()
        };
        assert!(
            refusal("2025-02-30").contains("2025-02-30 is not a day of the calendar"),
            "{}",
            refusal("2025-02-30")
        );
        assert!(refusal("2026-02-29").contains("not a day of the calendar"));
        assert!(refusal("01/01/2025").contains(DATE_RULE));
        assert_eq!(int(u64::MAX), i32::MAX);
    }

    /// The rule a `DateTime` input is refused with (its `rule` extension), or `None` when it
    /// parses.
    fn date_time_refusal(text: &str) -> Option<String> {
        let error = <DateTime as ScalarType>::parse(Value::String(text.into()))
            .err()?
            .into_server_error(async_graphql::Pos::default());
        match error.extensions?.get("rule")? {
            Value::String(rule) => Some(rule.clone()),
            other => Some(other.to_string()),
        }
    }

    #[test]
    fn an_instant_has_an_rfc_3339_offset_or_none_at_all() {
        for refused in [
            "2026-11-28T05:00:00+25:00",
            "2026-11-28T05:00:00+24:00",
            "2026-11-28T05:00:00+99:00",
            "2026-11-28T05:00:00+08:60",
            "2026-11-28T05:00:00+08:00:30",
            "2026-11-28T05:00:00+0800",
            "2026-11-28T05:00:00+08",
            "2026-11-28T05:00:00-8:00",
        ] {
            assert_eq!(
                date_time_refusal(refused).as_deref(),
                Some(DATE_TIME_OFFSET_RULE),
                "{refused}"
            );
        }
        for refused in [
            "2026-11-28T05:00+08:00",
            "2026-11-28T05:00:00",
            "2026-11-28T05:00:00.Z",
            "2026-11-28T05:00:00Z[Asia/Shanghai]",
            "2026-11-28T05:00:00 +08:00",
            "20261128T050000Z",
        ] {
            assert_eq!(
                date_time_refusal(refused).as_deref(),
                Some(DATE_TIME_RULE),
                "{refused}"
            );
        }
        assert_eq!(
            date_time_refusal("2026-11-28T05:00:00.1234567891Z").as_deref(),
            Some(DATE_TIME_FRACTION_RULE)
        );
        // A day or time that does not exist has the right shape and is refused for what it
        // is, as is an instant beyond the ledger's range.
        for (refused, rule) in [
            (
                "2026-02-30T05:00:00Z",
                "2026-02-30 is not a day of the calendar",
            ),
            (
                "2025-02-29T05:00:00+08:00",
                "2025-02-29 is not a day of the calendar",
            ),
            (
                "2026-13-01T05:00:00Z",
                "2026-13-01 is not a day of the calendar",
            ),
            ("2026-11-28T24:00:00Z", DATE_TIME_CLOCK_RULE),
            ("2026-11-28T05:60:00Z", DATE_TIME_CLOCK_RULE),
            ("2026-11-28T05:00:61Z", DATE_TIME_CLOCK_RULE),
            ("9999-12-31T00:00:00Z", "an instant is between"),
        ] {
            let refusal = date_time_refusal(refused).unwrap_or_default();
            assert!(refusal.starts_with(rule), "{refused}: {refusal}");
        }
        assert!(date_time_refusal("2024-02-29T05:00:00Z").is_none());
        for (accepted, instant) in [
            ("2026-11-28T05:00:00+23:59", "2026-11-27T05:01:00Z"),
            ("2026-11-28T05:00:00-23:59", "2026-11-29T04:59:00Z"),
            ("2026-11-28T05:00:00-00:00", "2026-11-28T05:00:00Z"),
            ("2026-11-28t05:00:00z", "2026-11-28T05:00:00Z"),
            ("2026-11-28 13:00:00+08:00", "2026-11-28T05:00:00Z"),
            (
                "2026-11-28T05:00:00.123456789Z",
                "2026-11-28T05:00:00.123456789Z",
            ),
            (" 2026-11-28T13:00:00+08:00 ", "2026-11-28T05:00:00Z"),
        ] {
            let parsed = <DateTime as ScalarType>::parse(Value::String(accepted.into()));
            assert_eq!(
                parsed.map(|instant| instant.to_value()).ok(),
                Some(Value::String(instant.into())),
                "{accepted}"
            );
        }
    }
}
