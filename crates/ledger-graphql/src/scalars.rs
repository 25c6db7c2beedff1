//! The API's custom scalars: `Position` and `Money` travel as decimal strings (a position
//! outgrows a 32-bit `Int`, and an amount in fen outgrows a double's exact integers), `DateTime`
//! is an RFC 3339 instant and `Date` a calendar day. `JSON` (raw event payloads) is
//! async-graphql's own. A value that does not parse is an error with `code: VALIDATION` and the
//! scalar's rule; async-graphql gives a scalar no way to know which argument it is parsing, so
//! `LedgerSchema` adds the argument's name as `field` from the error's location
//! (`execution::complete_errors`).

use async_graphql::{InputValueError, InputValueResult, Scalar, ScalarType, Value};
use ledger_domain::ids;
use ledger_domain::values;

/// A parse error of scalar `T` that carries the API's `VALIDATION` code and the rule.
fn invalid<T: async_graphql::InputType>(rule: &str) -> InputValueError<T> {
    InputValueError::custom(rule)
        .with_extension("code", "VALIDATION")
        .with_extension("rule", rule)
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
/// An amount in integer fen (CNY cents) as a decimal string: `"345600"` is ¥3,456.00.
impl ScalarType for Money {
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

#[Scalar(
    name = "DateTime",
    specified_by_url = "https://datatracker.ietf.org/doc/html/rfc3339"
)]
/// An instant in RFC 3339 with an offset; the API answers in UTC (`Z`).
impl ScalarType for DateTime {
    fn parse(value: Value) -> InputValueResult<Self> {
        match &value {
            Value::String(text) => text
                .trim()
                .parse::<jiff::Timestamp>()
                .map(Self)
                .map_err(|_| invalid(DATE_TIME_RULE)),
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
    fn parse(value: Value) -> InputValueResult<Self> {
        match &value {
            Value::String(text) => jiff::civil::Date::strptime("%Y-%m-%d", text.trim())
                .map(Self)
                .map_err(|_| invalid(DATE_RULE)),
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
        assert!(<Date as ScalarType>::parse(Value::String("2025-02-30".into())).is_err());
        assert_eq!(int(u64::MAX), i32::MAX);
    }
}
