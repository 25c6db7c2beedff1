//! Validated values. Each is parsed once, at the edge, into a type that cannot hold a bad
//! value; a bad input is a [`ValidationError`] naming the field and the rule.
//!
//! Parsing also normalises, so that two spellings of one phone number, plate or ID card
//! number are one value: `+86 138-0013-8000` and `13800138000` are equal. The rules live in
//! one submodule per family of values:
//!
//! - `contact`: mobile numbers, landlines, e-mail addresses, WeChat openids;
//! - `identity`: resident ID card numbers and unified social credit codes;
//! - `vehicle`: licence plates and VINs;
//! - `text`: policy and claim numbers, names, free text;
//! - `mask`: how analysts see personal data.
//!
//! Parsing is a pure function of its input (no clock, no locale), so replaying the ledger
//! in any year on any machine accepts exactly what was accepted when it was written.

use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::ValidationError;

mod contact;
mod identity;
mod mask;
mod text;
mod vehicle;

pub use contact::{
    EMAIL_BYTES_MAX, EMAIL_LOCAL_PART_BYTES_MAX, WECHAT_OPENID_CHARS_MAX, WECHAT_OPENID_CHARS_MIN,
};
pub use mask::mask_name;
pub use text::{
    FREE_TEXT_CHARS_MAX, ISSUED_NUMBER_CHARS_MAX, ISSUED_NUMBER_CHARS_MIN, PERSON_NAME_CHARS_MAX,
};
pub use vehicle::{PLATE_PROVINCES, PLATE_SPECIAL_SUFFIXES};

/// Folds the full-width forms a Chinese input method types (`１３８`, `Ａ`, `＠`, `－`, the
/// ideographic space) to ASCII, so an identifier typed in full-width mode is the same
/// identifier. Applied to numbers and codes only, never to names or free text.
fn to_half_width(character: char) -> char {
    match character {
        '\u{3000}' => ' ',
        // The full-width block mirrors ASCII 0x21..=0x7E at a fixed offset.
        '\u{FF01}'..='\u{FF5E}' => {
            char::from_u32(u32::from(character) - 0xFEE0).unwrap_or(character)
        }
        _ => character,
    }
}

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
                if text.is_empty() && crate::personal::erased_values_allowed() {
                    return Ok(Self(text));
                }
                Self::parse("", &text)
            }
        }

        impl $name {
            /// Whether this is an erased value (see [`crate::personal`]): never true of a parsed one.
            pub fn is_erased(&self) -> bool {
                self.0.is_empty()
            }
        }

        impl crate::personal::Erase for $name {
            fn erase(&mut self) {
                self.0.clear();
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
    Mobile, contact::validate_mobile
);
validated_text!(
    /// A landline with its area code, normalised to `0431-88886666`.
    Landline, contact::validate_landline
);
validated_text!(
    /// An e-mail address, normalised to lower case.
    Email, contact::validate_email
);
validated_text!(
    /// A WeChat openid (as issued to the insurer's official account).
    WeChatOpenId, contact::validate_wechat_openid
);
validated_text!(
    /// A resident ID card number: 18 characters with the GB 11643 check digit.
    IdCardNumber, identity::validate_id_card
);
validated_text!(
    /// A unified social credit code: 18 characters with the GB 32100 check character.
    SocialCreditCode, identity::validate_social_credit_code
);
validated_text!(
    /// A licence plate: province character, letter, 5 characters (6 for new-energy plates).
    Plate, vehicle::validate_plate
);
validated_text!(
    /// A vehicle identification number: 17 characters, no I, O or Q.
    Vin, vehicle::validate_vin
);
validated_text!(
    /// A policy number as issued by the policy system.
    PolicyNumber, text::validate_policy_number
);
validated_text!(
    /// A claim number as issued by the claims system.
    ClaimNumber, text::validate_claim_number
);
validated_text!(
    /// A person's or company's name (1 to 100 characters, trimmed).
    PersonName, text::validate_name
);
validated_text!(
    /// Free text written by staff or customers: summaries, comments, findings (≤ 2,000 chars).
    FreeText, text::validate_free_text
);

impl PersonName {
    /// The name masked for analysts: `欧阳娜娜` → `欧***` (see [`mask_name`]).
    pub fn mask(&self) -> String {
        mask_name(&self.0)
    }
}

/// The rule of a text written by staff or a customer (see [`FreeText::written`]).
pub const WRITTEN_OUT_RULE: &str = "is written out: not empty or only spaces";

impl FreeText {
    /// A text written by staff or a customer (a summary, a reason, a comment), checked as free
    /// text and not blank: an empty summary or correction reason says nothing to the next
    /// reader, and a blank personal text would be stored as an empty one, which reads as if
    /// erased. (Free text itself may be empty, since an erased field reads as empty.) The API's
    /// rule for every text it takes, and the import's for every such text of a line.
    pub fn written(field: &str, text: &str) -> Result<Self, ValidationError> {
        let text = Self::parse(field, text)?;
        text.written_out(field)?;
        Ok(text)
    }

    /// Refuses a blank text where one is written ([`FreeText::written`]), for a text already
    /// parsed (parsing trims it, so only spaces leave it empty).
    pub fn written_out(&self, field: &str) -> Result<(), ValidationError> {
        if self.0.is_empty() {
            return Err(ValidationError::new(field, WRITTEN_OUT_RULE));
        }
        Ok(())
    }
}

/// An amount of money in integer fen (CNY cents). Never a float.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Default,
    Serialize,
    Deserialize,
    JsonSchema,
)]
#[serde(transparent)]
pub struct Money(i64);

impl Money {
    pub const ZERO: Self = Self(0);

    /// The largest amount one field of an event holds, in fen: ¥10,000,000,000, far above any
    /// premium, loss, settlement, budget or cost an auto insurer books, and small enough that
    /// sums of millions of amounts (a claim's settlements over its cycles, a campaign's
    /// figures, an analyst's totals) stay within an `i64` instead of overflowing.
    pub const AMOUNT_FEN_MAX: i64 = 1_000_000_000_000;

    pub const fn from_fen(fen: i64) -> Self {
        Self(fen)
    }

    pub const fn fen(self) -> i64 {
        self.0
    }

    /// A non-negative amount (premiums, payments, budgets) of at most [`Self::AMOUNT_FEN_MAX`];
    /// `field` names it in the error.
    pub fn non_negative(field: &str, fen: i64) -> Result<Self, ValidationError> {
        if fen < 0 {
            return Err(ValidationError::new(
                field,
                "an amount in fen must not be negative",
            ));
        }
        Self::at_most_max(field, fen)
    }

    /// `fen` unless it is above [`Self::AMOUNT_FEN_MAX`], which `field` is refused for.
    pub fn at_most_max(field: &str, fen: i64) -> Result<Self, ValidationError> {
        if fen > Self::AMOUNT_FEN_MAX {
            return Err(ValidationError::new(
                field,
                format!(
                    "an amount in fen is at most {} (¥10,000,000,000: AMOUNT_FEN_MAX)",
                    Self::AMOUNT_FEN_MAX
                ),
            ));
        }
        Ok(Self(fen))
    }

    /// The sum, or `None` on overflow (beyond 92 quadrillion yuan).
    pub fn checked_add(self, other: Self) -> Option<Self> {
        self.0.checked_add(other.0).map(Self)
    }
}

/// Customer satisfaction, 1 (very dissatisfied) to 5 (very satisfied).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(try_from = "u8", into = "u8")]
pub struct Csat(u8);

impl Csat {
    pub fn parse(field: &str, score: i64) -> Result<Self, ValidationError> {
        match u8::try_from(score) {
            Ok(score @ 1..=5) => Ok(Self(score)),
            _ => Err(ValidationError::new(
                field,
                "CSAT is a whole number from 1 to 5",
            )),
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
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(try_from = "u8", into = "u8")]
pub struct Nps(u8);

impl Nps {
    pub fn parse(field: &str, score: i64) -> Result<Self, ValidationError> {
        match u8::try_from(score) {
            Ok(score @ 0..=10) => Ok(Self(score)),
            _ => Err(ValidationError::new(
                field,
                "NPS is a whole number from 0 to 10",
            )),
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
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
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
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Direction {
    Inbound,
    Outbound,
}

/// What a contact was about.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
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
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
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

impl IdentifierKind {
    /// The kind as the API and the event schemas spell it (`MOBILE`, `ID_CARD` …).
    pub const fn name(self) -> &'static str {
        match self {
            Self::Mobile => "MOBILE",
            Self::Landline => "LANDLINE",
            Self::WeChat => "WECHAT",
            Self::Email => "EMAIL",
            Self::IdCard => "ID_CARD",
            Self::SocialCreditCode => "SOCIAL_CREDIT_CODE",
            Self::Plate => "PLATE",
            Self::Vin => "VIN",
            Self::PolicyNumber => "POLICY_NUMBER",
            Self::ClaimNumber => "CLAIM_NUMBER",
        }
    }
}

/// One identifier of a customer: its kind and its normalised value. Built only through
/// [`Identifier::parse`], so the value always passed its kind's rule.
#[derive(
    Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
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
        if raw.value.is_empty() && crate::personal::erased_values_allowed() {
            return Ok(Self {
                kind: raw.kind,
                value: raw.value,
            });
        }
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

    /// Whether the value was erased (the kind stays): see [`crate::personal`].
    pub fn is_erased(&self) -> bool {
        self.value.is_empty()
    }

    pub fn kind(&self) -> IdentifierKind {
        self.kind
    }

    /// The normalised value: two spellings of the same number give the same value.
    pub fn value(&self) -> &str {
        &self.value
    }

    /// The value masked for analysts: a mobile keeps its first 3 and last 4 digits
    /// (`138****8000`), an ID card number its first 6 and last 4, a plate its province,
    /// letter and last 2 (`吉A***45`), a VIN its last 6, an e-mail address the first character
    /// and the domain (`z***@example.com`), anything else its last 4.
    pub fn mask(&self) -> String {
        mask::mask_identifier(self.kind, &self.value)
    }
}

impl crate::personal::Erase for Identifier {
    fn erase(&mut self) {
        self.value.clear();
    }
}

impl fmt::Display for Identifier {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{} {}", self.kind.name(), self.value)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::{Identifier, IdentifierKind, Mobile, Plate};
    use crate::ValidationError;

    const KINDS: [IdentifierKind; 10] = [
        IdentifierKind::Mobile,
        IdentifierKind::Landline,
        IdentifierKind::WeChat,
        IdentifierKind::Email,
        IdentifierKind::IdCard,
        IdentifierKind::SocialCreditCode,
        IdentifierKind::Plate,
        IdentifierKind::Vin,
        IdentifierKind::PolicyNumber,
        IdentifierKind::ClaimNumber,
    ];

    #[test]
    fn an_identifier_is_normalised_by_its_kind() {
        let spellings = ["+86 138-0013-8000", "8613800138000", "13800138000"];
        let parsed: Vec<Identifier> = spellings
            .iter()
            .map(|spelling| Identifier::parse("value", IdentifierKind::Mobile, spelling).unwrap())
            .collect();
        assert!(
            parsed
                .iter()
                .all(|identifier| identifier.value() == "13800138000")
        );
        assert!(parsed.windows(2).all(|pair| pair[0] == pair[1]));

        let samples = [
            (
                IdentifierKind::Landline,
                "(0431) 8888 6666",
                "0431-88886666",
            ),
            (
                IdentifierKind::WeChat,
                "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o",
                "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o",
            ),
            (
                IdentifierKind::Email,
                "Zhang@Example.com",
                "zhang@example.com",
            ),
            (
                IdentifierKind::IdCard,
                "11010519491231002x",
                "11010519491231002X",
            ),
            (
                IdentifierKind::SocialCreditCode,
                "91350100m000100y43",
                "91350100M000100Y43",
            ),
            (IdentifierKind::Plate, "吉a·12345", "吉A12345"),
            (
                IdentifierKind::Vin,
                "lsvam4187c2184847",
                "LSVAM4187C2184847",
            ),
            (
                IdentifierKind::PolicyNumber,
                "pdaa2025220100001",
                "PDAA2025220100001",
            ),
            (
                IdentifierKind::ClaimNumber,
                "rdaa2025220100001",
                "RDAA2025220100001",
            ),
        ];
        for (kind, text, normalised) in samples {
            let identifier = Identifier::parse("value", kind, text).unwrap();
            assert_eq!((identifier.kind(), identifier.value()), (kind, normalised));
        }
    }

    #[test]
    fn a_rejected_identifier_names_the_field_and_the_rule_of_its_kind() {
        let error = Identifier::parse(
            "identifiers[2].value",
            IdentifierKind::Vin,
            "LSVAM4188C2184847",
        )
        .unwrap_err();
        assert_eq!(
            error,
            ValidationError::new(
                "identifiers[2].value",
                "the check digit (the 9th character) should be 7"
            )
        );
        assert_eq!(
            error.within("payload").field,
            "payload.identifiers[2].value"
        );
        // A valid value of one kind is not a valid value of another.
        assert!(Identifier::parse("value", IdentifierKind::Landline, "13800138000").is_err());
        assert!(Identifier::parse("value", IdentifierKind::Mobile, "0431-88886666").is_err());
    }

    #[test]
    fn values_serialise_as_their_normalised_text_and_deserialise_through_the_rules() {
        let mobile = Mobile::parse("mobile", "+86 138 0013 8000").unwrap();
        assert_eq!(serde_json::to_string(&mobile).unwrap(), r#""13800138000""#);
        let read: Mobile = serde_json::from_str(r#""+86 138-0013-8000""#).unwrap();
        assert_eq!(read, mobile);
        assert!(serde_json::from_str::<Mobile>(r#""12800138000""#).is_err());
        let plate: Plate = serde_json::from_str(r#""吉a·12345""#).unwrap();
        assert_eq!(plate.as_str(), "吉A12345");

        let identifier =
            Identifier::parse("value", IdentifierKind::IdCard, "11010519491231002x").unwrap();
        let json = serde_json::to_string(&identifier).unwrap();
        assert_eq!(json, r#"{"kind":"ID_CARD","value":"11010519491231002X"}"#);
        assert_eq!(
            serde_json::from_str::<Identifier>(&json).unwrap(),
            identifier
        );
        let bad_check = r#"{"kind":"ID_CARD","value":"110105194912310021"}"#;
        let error = serde_json::from_str::<Identifier>(bad_check)
            .unwrap_err()
            .to_string();
        assert!(error.contains("the check digit should be X"), "{error}");

        let bytes = crate::codec::encode(&identifier).unwrap();
        assert_eq!(
            crate::codec::decode::<Identifier>(&bytes).unwrap(),
            identifier
        );
    }

    #[test]
    fn an_identifier_reads_with_its_kind_spelt_as_the_api_spells_it() {
        for kind in KINDS {
            let serde_name = serde_json::to_value(kind).unwrap();
            assert_eq!(serde_name.as_str(), Some(kind.name()), "{kind:?}");
        }
        let identifier =
            Identifier::parse("value", IdentifierKind::IdCard, "11010519491231002x").unwrap();
        assert_eq!(identifier.to_string(), "ID_CARD 11010519491231002X");
    }

    proptest! {
        /// Whatever the input, parsing never panics, and a value that parsed parses again to
        /// itself: normalising twice changes nothing.
        #[test]
        fn identifier_parsing_is_idempotent(
            kind in prop::sample::select(KINDS.to_vec()),
            text in "\\PC{0,40}|[ 0-9A-Za-z@.+()\\-·吉京]{0,24}",
        ) {
            if let Ok(identifier) = Identifier::parse("value", kind, &text) {
                let again = Identifier::parse("value", kind, identifier.value());
                prop_assert_eq!(again, Ok(identifier.clone()));
                prop_assert_eq!(identifier.mask().chars().count() > 0, true);
            }
        }
    }
}
