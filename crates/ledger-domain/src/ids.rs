//! Newtype identifiers: the ledger never passes a bare `Uuid`, `u64` or `String` where one of
//! these is meant.

use std::fmt;
use std::str::FromStr;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::ValidationError;

/// Declares a UUID-backed identifier that prints and parses as the plain hyphenated UUID.
macro_rules! uuid_id {
    ($(#[$doc:meta])* $name:ident, $what:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema)]
        #[serde(transparent)]
        pub struct $name(Uuid);

        impl $name {
            /// A fresh, time-ordered (UUID v7) identifier.
            pub fn new_v7() -> Self {
                Self(Uuid::now_v7())
            }

            pub const fn from_uuid(uuid: Uuid) -> Self {
                Self(uuid)
            }

            pub const fn as_uuid(&self) -> &Uuid {
                &self.0
            }

            /// Parses the hyphenated form; `field` names the input in the error.
            pub fn parse(field: &str, text: &str) -> Result<Self, ValidationError> {
                Uuid::parse_str(text.trim())
                    .map(Self)
                    .map_err(|_| ValidationError::new(field, concat!($what, " must be a UUID such as 0190a5e2-8c3b-7d4e-9f00-1234567890ab")))
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.hyphenated().fmt(formatter)
            }
        }

        impl FromStr for $name {
            type Err = ValidationError;
            fn from_str(text: &str) -> Result<Self, Self::Err> {
                Self::parse(stringify!($name), text)
            }
        }
    };
}

uuid_id!(
    /// An event's identity (UUID v7 when the ledger makes one). Appending an event id that is
    /// already in the log returns the original position and writes nothing.
    EventId, "an event id"
);
uuid_id!(
    /// A customer, individual or corporate.
    CustomerId, "a customer id"
);
uuid_id!(
    /// One contact (a call, a WeChat conversation, a visit ...).
    ContactId, "a contact id"
);
uuid_id!(
    /// A service case (consultation, complaint, rescue ...).
    CaseId, "a case id"
);
uuid_id!(
    /// A marketing campaign.
    CampaignId, "a campaign id"
);
uuid_id!(
    /// A published business process.
    ProcessId, "a process id"
);
uuid_id!(
    /// An online enquiry from the web shop, awaiting a call-back.
    EnquiryId, "an enquiry id"
);
uuid_id!(
    /// A correlation or causation id carried in an event's envelope.
    CorrelationId, "a correlation id"
);

/// The longest agent, staff or system id accepted, in bytes.
pub const STAFF_ID_BYTES_MAX: usize = 64;

/// Who did something: an agent, an account manager, a team lead or a system (`system:import`).
/// 1 to 64 characters of ASCII letters, digits and `.`, `_`, `-`, `:`, `@`.
#[derive(
    Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(try_from = "String", into = "String")]
pub struct StaffId(String);

impl StaffId {
    pub fn parse(field: &str, text: &str) -> Result<Self, ValidationError> {
        let text = text.trim();
        let allowed =
            |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | ':' | '@');
        if text.is_empty() || text.len() > STAFF_ID_BYTES_MAX || !text.chars().all(allowed) {
            return Err(ValidationError::new(
                field,
                format!(
                    "a staff or system id is 1 to {STAFF_ID_BYTES_MAX} characters of letters, digits and . _ - : @"
                ),
            ));
        }
        Ok(Self(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for StaffId {
    type Error = ValidationError;
    fn try_from(text: String) -> Result<Self, Self::Error> {
        Self::parse("", &text)
    }
}

impl From<StaffId> for String {
    fn from(id: StaffId) -> Self {
        id.0
    }
}

impl fmt::Display for StaffId {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.0)
    }
}

/// The longest stream id accepted, in bytes.
pub const STREAM_ID_BYTES_MAX: usize = 128;

/// The stream an event belongs to: one per aggregate, `{category}-{id}` (`customer-…`,
/// `policy-…`, `claim-…`, `case-…`, `campaign-…`, `process-…`). The category is lower-case
/// letters; the id is ASCII letters, digits and `-`; at most 128 bytes in all.
#[derive(
    Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(try_from = "String", into = "String")]
pub struct StreamId(String);

impl StreamId {
    pub fn parse(field: &str, text: &str) -> Result<Self, ValidationError> {
        let rule = || {
            ValidationError::new(
                field,
                format!(
                    "a stream id is `category-id` (category in lower-case letters, id in letters, digits and -), at most {STREAM_ID_BYTES_MAX} bytes"
                ),
            )
        };
        if text.len() > STREAM_ID_BYTES_MAX {
            return Err(rule());
        }
        let (category, id) = text.split_once('-').ok_or_else(rule)?;
        let category_ok = !category.is_empty() && category.chars().all(|c| c.is_ascii_lowercase());
        let id_ok = !id.is_empty() && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
        if !(category_ok && id_ok) {
            return Err(rule());
        }
        Ok(Self(text.to_owned()))
    }

    /// Builds `{category}-{id}`; the parts must make a valid stream id.
    pub fn of(category: &str, id: &impl fmt::Display) -> Result<Self, ValidationError> {
        Self::parse("stream", &format!("{category}-{id}"))
    }

    pub fn customer(id: CustomerId) -> Self {
        Self(format!("customer-{id}"))
    }

    pub fn case(id: CaseId) -> Self {
        Self(format!("case-{id}"))
    }

    pub fn campaign(id: CampaignId) -> Self {
        Self(format!("campaign-{id}"))
    }

    pub fn process(id: ProcessId) -> Self {
        Self(format!("process-{id}"))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The part before the first `-`: `customer`, `policy`, `claim` ...
    pub fn category(&self) -> &str {
        self.0
            .split_once('-')
            .map_or(self.0.as_str(), |(category, _)| category)
    }
}

impl TryFrom<String> for StreamId {
    type Error = ValidationError;
    fn try_from(text: String) -> Result<Self, Self::Error> {
        Self::parse("stream", &text)
    }
}

impl From<StreamId> for String {
    fn from(id: StreamId) -> Self {
        id.0
    }
}

impl fmt::Display for StreamId {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.0)
    }
}

/// A record's place in the global log: gapless, from 1.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(transparent)]
pub struct Position(pub u64);

impl Position {
    /// The position before the first record: "nothing yet".
    pub const ZERO: Self = Self(0);

    pub const fn get(self) -> u64 {
        self.0
    }

    /// The next position. Saturates: 2^64 records is beyond any disk.
    #[must_use]
    pub const fn next(self) -> Self {
        Self(self.0.saturating_add(1))
    }
}

impl fmt::Display for Position {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(formatter)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_ids_follow_the_rule() {
        let customer = CustomerId::new_v7();
        let stream = StreamId::customer(customer);
        assert_eq!(stream.category(), "customer");
        assert_eq!(StreamId::parse("s", stream.as_str()).unwrap(), stream);
        assert!(StreamId::parse("s", "policy-JLA2024-0001").is_ok());
        for bad in [
            "",
            "customer",
            "-x",
            "Customer-1",
            "customer-",
            "customer-a b",
            &"a-".repeat(100),
        ] {
            let error = StreamId::parse("stream", bad).unwrap_err();
            assert_eq!(error.field, "stream");
            assert!(error.rule.contains("category-id"), "{bad}: {error}");
        }
    }

    #[test]
    fn staff_ids_are_bounded() {
        assert_eq!(
            StaffId::parse("agent", " agent-0042 ").unwrap().as_str(),
            "agent-0042"
        );
        assert!(StaffId::parse("agent", "").is_err());
        assert!(StaffId::parse("agent", "a b").is_err());
        assert!(StaffId::parse("agent", &"a".repeat(STAFF_ID_BYTES_MAX + 1)).is_err());
    }

    #[test]
    fn uuid_ids_parse_and_name_the_field() {
        let id = CustomerId::new_v7();
        assert_eq!(
            CustomerId::parse("customerId", &id.to_string()).unwrap(),
            id
        );
        let error = CustomerId::parse("customerId", "42").unwrap_err();
        assert_eq!(error.field, "customerId");
    }
}
