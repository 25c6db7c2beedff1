//! Validated values. Each is parsed once, at the edge, into a type that cannot hold a bad
//! value; a bad input is a [`ValidationError`] naming the field and the rule.
//!
//! SKELETON: the validators here are placeholders to be completed (see `validate_*`).

use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::ValidationError;

/// Declares a string-backed value that is normalised by `$validate` and (de)serialises as its
/// normalised text, so bincode and JSON both carry the plain string.
macro_rules! validated_text {
    ($(#[$doc:meta])* $name:ident, $validate:path) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// Parses and normalises `text`; `field` names the input in the error.
            pub fn parse(field: &str, text: &str) -> Result<Self, ValidationError> {
                $validate(text).map(Self).map_err(|rule| ValidationError::new(field, rule))
            }

            /// The normalised text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = ValidationError;
            fn try_from(text: String) -> Result<Self, Self::Error> {
                Self::parse("", &text)
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> Self {
                value.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
                formatter.write_str(&self.0)
            }
        }
    };
}

validated_text!(
    /// A mainland China mobile number, normalised to its 11 digits (`13800138000`).
    Mobile, validate_mobile
);
validated_text!(
    /// A landline with its area code, normalised to `0431-88886666`.
    Landline, validate_landline
);
validated_text!(
    /// An e-mail address, normalised to lower case.
    Email, validate_email
);
validated_text!(
    /// A WeChat openid (as issued to the insurer's official account).
    WeChatOpenId, validate_wechat_openid
);
validated_text!(
    /// A resident ID card number: 18 characters with the GB 11643 check digit.
    IdCardNumber, validate_id_card
);
validated_text!(
    /// A unified social credit code: 18 characters with the GB 32100 check character.
    SocialCreditCode, validate_social_credit_code
);
validated_text!(
    /// A licence plate: province character, letter, 5 characters (6 for new-energy plates).
    Plate, validate_plate
);
validated_text!(
    /// A vehicle identification number: 17 characters, no I, O or Q.
    Vin, validate_vin
);
validated_text!(
    /// A policy number as issued by the policy system.
    PolicyNumber, validate_policy_number
);
validated_text!(
    /// A claim number as issued by the claims system.
    ClaimNumber, validate_claim_number
);
validated_text!(
    /// A person's or company's name (1 to 100 characters, trimmed).
    PersonName, validate_name
);
validated_text!(
    /// Free text written by staff or customers: summaries, comments, findings (≤ 2,000 chars).
    FreeText, validate_free_text
);

fn validate_mobile(text: &str) -> Result<String, String> {
    non_empty(text)
}
fn validate_landline(text: &str) -> Result<String, String> {
    non_empty(text)
}
fn validate_email(text: &str) -> Result<String, String> {
    non_empty(text).map(|text| text.to_lowercase())
}
fn validate_wechat_openid(text: &str) -> Result<String, String> {
    non_empty(text)
}
fn validate_id_card(text: &str) -> Result<String, String> {
    non_empty(text).map(|text| text.to_uppercase())
}
fn validate_social_credit_code(text: &str) -> Result<String, String> {
    non_empty(text).map(|text| text.to_uppercase())
}
fn validate_plate(text: &str) -> Result<String, String> {
    non_empty(text).map(|text| text.to_uppercase())
}
fn validate_vin(text: &str) -> Result<String, String> {
    non_empty(text).map(|text| text.to_uppercase())
}
fn validate_policy_number(text: &str) -> Result<String, String> {
    non_empty(text).map(|text| text.to_uppercase())
}
fn validate_claim_number(text: &str) -> Result<String, String> {
    non_empty(text).map(|text| text.to_uppercase())
}
fn validate_name(text: &str) -> Result<String, String> {
    non_empty(text)
}
fn validate_free_text(text: &str) -> Result<String, String> {
    Ok(text.trim().to_owned())
}
fn non_empty(text: &str) -> Result<String, String> {
    let text = text.trim();
    if text.is_empty() { Err("must not be empty".to_owned()) } else { Ok(text.to_owned()) }
}

/// An amount of money in integer fen (CNY cents). Never a float.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize, JsonSchema)]
#[serde(transparent)]
pub struct Money(i64);

impl Money {
    pub const ZERO: Self = Self(0);

    pub const fn from_fen(fen: i64) -> Self {
        Self(fen)
    }

    pub const fn fen(self) -> i64 {
        self.0
    }

    /// A non-negative amount (premiums, payments, budgets); `field` names it in the error.
    pub fn non_negative(field: &str, fen: i64) -> Result<Self, ValidationError> {
        if fen < 0 {
            return Err(ValidationError::new(field, "an amount in fen must not be negative"));
        }
        Ok(Self(fen))
    }

    /// The sum, or `None` on overflow (beyond 92 quadrillion yuan).
    pub fn checked_add(self, other: Self) -> Option<Self> {
        self.0.checked_add(other.0).map(Self)
    }
}

/// Customer satisfaction, 1 (very dissatisfied) to 5 (very satisfied).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(try_from = "u8", into = "u8")]
pub struct Csat(u8);

impl Csat {
    pub fn parse(field: &str, score: i64) -> Result<Self, ValidationError> {
        match u8::try_from(score) {
            Ok(score @ 1..=5) => Ok(Self(score)),
            _ => Err(ValidationError::new(field, "CSAT is a whole number from 1 to 5")),
        }
    }
    pub const fn get(self) -> u8 {
        self.0
    }
}

impl TryFrom<u8> for Csat {
    type Error = ValidationError;
    fn try_from(score: u8) -> Result<Self, Self::Error> {
        Self::parse("csat", i64::from(score))
    }
}

impl From<Csat> for u8 {
    fn from(score: Csat) -> Self {
        score.0
    }
}

/// Net promoter score answer, 0 to 10.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(try_from = "u8", into = "u8")]
pub struct Nps(u8);

impl Nps {
    pub fn parse(field: &str, score: i64) -> Result<Self, ValidationError> {
        match u8::try_from(score) {
            Ok(score @ 0..=10) => Ok(Self(score)),
            _ => Err(ValidationError::new(field, "NPS is a whole number from 0 to 10")),
        }
    }
    pub const fn get(self) -> u8 {
        self.0
    }
}

impl TryFrom<u8> for Nps {
    type Error = ValidationError;
    fn try_from(score: u8) -> Result<Self, Self::Error> {
        Self::parse("nps", i64::from(score))
    }
}

impl From<Nps> for u8 {
    fn from(score: Nps) -> Self {
        score.0
    }
}

/// The channel a contact came through (seed 4.2.1: every channel in one record).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Channel {
    Phone,
    Web,
    #[serde(rename = "WECHAT")]
    WeChat,
    SelfServiceTerminal,
    WalkIn,
    Email,
    Fax,
    Post,
    App,
}

impl Channel {
    pub const ALL: [Self; 9] = [
        Self::Phone,
        Self::Web,
        Self::WeChat,
        Self::SelfServiceTerminal,
        Self::WalkIn,
        Self::Email,
        Self::Fax,
        Self::Post,
        Self::App,
    ];
}

/// Who started a contact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Direction {
    Inbound,
    Outbound,
}

/// What a contact was about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Topic {
    Enquiry,
    Complaint,
    ClaimReport,
    Renewal,
    Quote,
    Payment,
    ServiceRequest,
    Feedback,
    Marketing,
}

/// The kinds of identifier a customer can be known by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum IdentifierKind {
    Mobile,
    Landline,
    #[serde(rename = "WECHAT")]
    WeChat,
    Email,
    IdCard,
    SocialCreditCode,
    Plate,
    Vin,
    PolicyNumber,
    ClaimNumber,
}

/// One identifier of a customer: its kind and its normalised value. Built only through
/// [`Identifier::parse`], so the value always passed its kind's rule.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(try_from = "RawIdentifier")]
pub struct Identifier {
    kind: IdentifierKind,
    value: String,
}

#[derive(Deserialize, JsonSchema)]
struct RawIdentifier {
    kind: IdentifierKind,
    value: String,
}

impl TryFrom<RawIdentifier> for Identifier {
    type Error = ValidationError;
    fn try_from(raw: RawIdentifier) -> Result<Self, Self::Error> {
        Self::parse("value", raw.kind, &raw.value)
    }
}

impl Identifier {
    /// Validates and normalises `value` as an identifier of `kind`.
    pub fn parse(field: &str, kind: IdentifierKind, value: &str) -> Result<Self, ValidationError> {
        let value = match kind {
            IdentifierKind::Mobile => Mobile::parse(field, value)?.0,
            IdentifierKind::Landline => Landline::parse(field, value)?.0,
            IdentifierKind::WeChat => WeChatOpenId::parse(field, value)?.0,
            IdentifierKind::Email => Email::parse(field, value)?.0,
            IdentifierKind::IdCard => IdCardNumber::parse(field, value)?.0,
            IdentifierKind::SocialCreditCode => SocialCreditCode::parse(field, value)?.0,
            IdentifierKind::Plate => Plate::parse(field, value)?.0,
            IdentifierKind::Vin => Vin::parse(field, value)?.0,
            IdentifierKind::PolicyNumber => PolicyNumber::parse(field, value)?.0,
            IdentifierKind::ClaimNumber => ClaimNumber::parse(field, value)?.0,
        };
        Ok(Self { kind, value })
    }

    pub fn kind(&self) -> IdentifierKind {
        self.kind
    }

    /// The normalised value: two spellings of the same number give the same value.
    pub fn value(&self) -> &str {
        &self.value
    }
}

impl fmt::Display for Identifier {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{:?} {}", self.kind, self.value)
    }
}
