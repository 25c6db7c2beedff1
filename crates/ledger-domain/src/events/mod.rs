//! The v1 event catalogue: one payload type per event, the [`Event`] enum over all of them, and
//! the conversions the rest of the ledger uses (JSON at the edge, bincode in the log).
//!
//! A payload is a versioned contract. Its type name and schema version travel in the envelope,
//! never in the payload bytes, so [`Event::encode_payload`] encodes the inner struct and
//! [`Event::decode_payload`] needs the name and version to know what the bytes are. Changing a
//! payload's shape means a new schema version (a new struct and a new catalogue line), never an
//! edit of the old one: the committed JSON Schemas under `schemas/events/` and the
//! `event_json_schemas_are_committed` test keep that honest.
//!
//! Serde constraints, because bincode carries every payload: no `skip_serializing_if`, no
//! `flatten`, no untagged or internally or adjacently tagged enums, no `serde_json::Value`.
//! `Option` fields take `#[serde(default)]` so JSON may omit them; every struct denies unknown
//! fields so an integrator's typo is an error rather than a silently dropped fact.
//!
//! Streams (see [`Event::stream`]): customer, contact and satisfaction events go to
//! `customer-{id}`; policy events to `policy-{number}`; claim events to `claim-{number}`;
//! service-case events to `case-{id}`; campaign events to `campaign-{id}`; process events to
//! `process-{id}`. `OnlineEnquiryReceived` goes to `customer-{id}` when the customer is known
//! and to `enquiry-{id}` otherwise. It deliberately does not go to the campaign's stream: a
//! campaign's web-shop leads arrive concurrently by the thousand, and putting them on one
//! stream would make every lead contend for that stream's expected version. The campaign link
//! is still on the event, so projections gather leads per campaign from the log.

mod claim;
mod customer;
mod marketing;
mod policy;
mod process;
mod service_case;

use std::fmt;

use schemars::JsonSchema;
use serde::Serialize;
use serde::de::DeserializeOwned;

pub use claim::*;
pub use customer::*;
pub use marketing::*;
pub use policy::*;
pub use process::*;
pub use service_case::*;

use crate::ValidationError;
use crate::codec::{self, CodecError};
use crate::ids::{CustomerId, StreamId};
use crate::values::{ClaimNumber, Money, PolicyNumber};

/// One entry of the catalogue: an event type's name and one of its schema versions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EventType {
    pub name: &'static str,
    pub schema_version: u16,
}

impl EventType {
    /// The schema's file name under `schemas/events/`: `ContactRecorded.v1.json`.
    pub fn schema_file_name(&self) -> String {
        format!("{}.v{}.json", self.name, self.schema_version)
    }
}

impl fmt::Display for EventType {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{} v{}", self.name, self.schema_version)
    }
}

/// Why a payload could not be turned into an [`Event`].
#[derive(Debug, thiserror::Error)]
pub enum PayloadError {
    /// No catalogue entry has this name and schema version.
    #[error("unknown event type {name} v{version}")]
    UnknownType { name: String, version: u16 },
    /// The payload is not a valid instance of its type; `field` is the JSON path inside it.
    #[error(transparent)]
    Invalid(ValidationError),
    /// The stored bytes do not decode as the named type.
    #[error(transparent)]
    Codec(CodecError),
}

/// What every payload type knows about itself: its catalogue entry, its stream, the customers it
/// concerns and its own cross-field rules.
pub trait Payload:
    Serialize + DeserializeOwned + JsonSchema + Clone + fmt::Debug + PartialEq + Into<Event>
{
    const NAME: &'static str;
    const SCHEMA_VERSION: u16;

    /// The stream of the aggregate this event belongs to.
    fn stream(&self) -> StreamId;

    /// The customers this event concerns: whose timeline gathers it and whose key seals it.
    fn customer_ids(&self) -> Vec<CustomerId>;

    /// Rules that span fields or bound lists (a value type checks itself when it is parsed).
    fn validate(&self) -> Result<(), ValidationError>;

    /// The names of the personal fields (see [`crate::personal`]), in declaration order.
    const PERSONAL_FIELDS: &'static [&'static str];

    /// Moves the personal fields out, leaving their erased values: the codec encoding of each
    /// field in [`Payload::PERSONAL_FIELDS`] order, one after another.
    fn take_personal(&mut self) -> Vec<u8>;

    /// Puts back fields taken by [`Payload::take_personal`].
    fn restore_personal(&mut self, bytes: &[u8]) -> Result<(), CodecError>;
}

/// Where a payload type's stream and customers come from; implemented by [`routing!`] in each
/// submodule, next to the types.
trait Routing {
    fn stream(&self) -> StreamId;
    fn customer_ids(&self) -> Vec<CustomerId>;
}

/// A payload type's personal fields; implemented by [`personal!`] in each submodule.
trait PersonalFields {
    const FIELDS: &'static [&'static str];
    fn take(&mut self) -> Vec<u8>;
    fn restore(&mut self, bytes: &[u8]) -> Result<(), CodecError>;
}

/// Declares each payload type's personal fields: `personal!(A { name, address }, B {});`. A type
/// with none says so with empty braces, so no catalogue entry can forget to declare them.
macro_rules! personal {
    ($($payload:ident { $($field:ident),* $(,)? }),+ $(,)?) => {
        $(
            impl super::PersonalFields for $payload {
                const FIELDS: &'static [&'static str] = &[$(stringify!($field)),*];

                #[allow(unused_mut, reason = "a type without personal fields writes nothing")]
                fn take(&mut self) -> Vec<u8> {
                    let mut bytes = Vec::new();
                    $(
                        crate::codec::encode_into(&self.$field, &mut bytes)
                            .expect("a personal field always encodes");
                        crate::personal::Erase::erase(&mut self.$field);
                    )*
                    bytes
                }

                fn restore(&mut self, bytes: &[u8]) -> Result<(), crate::codec::CodecError> {
                    let rest = bytes;
                    $(
                        let (value, rest) = crate::codec::decode_prefix(rest)?;
                        self.$field = value;
                    )*
                    match rest.len() {
                        0 => Ok(()),
                        trailing => Err(crate::codec::CodecError::Trailing(trailing)),
                    }
                }
            }
        )+
    };
}
use personal;

/// A payload type's cross-field rules; the default is "none beyond the value types".
trait Validate {
    fn validate(&self) -> Result<(), ValidationError> {
        Ok(())
    }
}

/// Implements [`Routing`] for payload types that share a rule:
/// `routing!(A, B => |event| stream_expr, customers_expr);`.
macro_rules! routing {
    ($($payload:ident),+ => |$event:ident| $stream:expr, $customers:expr) => {
        $(
            impl super::Routing for $payload {
                fn stream(&self) -> crate::ids::StreamId {
                    let $event = self;
                    $stream
                }
                #[allow(unused_variables, reason = "campaign and process events name no customer")]
                fn customer_ids(&self) -> Vec<crate::ids::CustomerId> {
                    let $event = self;
                    $customers
                }
            }
        )+
    };
}
use routing;

/// Declares the catalogue: one line per event type and schema version. Everything that
/// dispatches on the type ([`Event`], [`CATALOGUE`], JSON and bincode conversions, schemas) is
/// generated from this list, so adding an event is one line here plus its payload type.
macro_rules! catalogue {
    ($($variant:ident($name:literal, $version:literal)),+ $(,)?) => {
        /// Every event the ledger records, one variant per catalogue entry.
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub enum Event {
            $($variant($variant)),+
        }

        /// Every event type and schema version, in a stable order (the order of the design's
        /// catalogue; new entries go at the end of their group's run).
        pub const CATALOGUE: &[EventType] = &[
            $(EventType { name: $name, schema_version: $version }),+
        ];

        $(
            impl Payload for $variant {
                const NAME: &'static str = $name;
                const SCHEMA_VERSION: u16 = $version;

                fn stream(&self) -> StreamId {
                    Routing::stream(self)
                }
                fn customer_ids(&self) -> Vec<CustomerId> {
                    Routing::customer_ids(self)
                }
                fn validate(&self) -> Result<(), ValidationError> {
                    Validate::validate(self)
                }

                const PERSONAL_FIELDS: &'static [&'static str] =
                    <Self as PersonalFields>::FIELDS;

                fn take_personal(&mut self) -> Vec<u8> {
                    PersonalFields::take(self)
                }

                fn restore_personal(&mut self, bytes: &[u8]) -> Result<(), CodecError> {
                    PersonalFields::restore(self, bytes)
                }
            }

            impl From<$variant> for Event {
                fn from(payload: $variant) -> Self {
                    Self::$variant(payload)
                }
            }
        )+

        impl Event {
            /// The event type's name: `ContactRecorded`.
            pub fn event_type(&self) -> &'static str {
                match self {
                    $(Self::$variant(_) => $name),+
                }
            }

            /// The payload's schema version (1 for every v1 type).
            pub fn schema_version(&self) -> u16 {
                match self {
                    $(Self::$variant(_) => $version),+
                }
            }

            /// The customers this event concerns (a merge concerns both customers).
            pub fn customer_ids(&self) -> Vec<CustomerId> {
                match self {
                    $(Self::$variant(payload) => Payload::customer_ids(payload)),+
                }
            }

            /// The stream of the aggregate this event belongs to (see the module docs).
            pub fn stream(&self) -> StreamId {
                match self {
                    $(Self::$variant(payload) => Payload::stream(payload)),+
                }
            }

            /// The names of the payload's personal fields; empty when it has none.
            pub fn personal_fields(&self) -> &'static [&'static str] {
                match self {
                    $(Self::$variant(_) => <$variant as Payload>::PERSONAL_FIELDS),+
                }
            }

            /// Moves the personal fields out (see [`Payload::take_personal`]), leaving the
            /// redacted event; `None`, and the event untouched, when the type has none.
            pub fn take_personal(&mut self) -> Option<Vec<u8>> {
                if self.personal_fields().is_empty() {
                    return None;
                }
                Some(match self {
                    $(Self::$variant(payload) => Payload::take_personal(payload)),+
                })
            }

            /// Puts back the fields [`Event::take_personal`] took.
            pub fn restore_personal(&mut self, bytes: &[u8]) -> Result<(), CodecError> {
                match self {
                    $(Self::$variant(payload) => Payload::restore_personal(payload, bytes)),+
                }
            }

            /// The payload's cross-field rules; value types already checked themselves.
            pub fn validate(&self) -> Result<(), ValidationError> {
                match self {
                    $(Self::$variant(payload) => Payload::validate(payload)),+
                }
            }

            /// Parses a JSON payload of the named type and version and checks its rules. A bad
            /// field is [`PayloadError::Invalid`] whose `field` is the JSON path inside the
            /// payload (`identifiers[1].value`).
            pub fn from_json(
                name: &str,
                schema_version: u16,
                payload: &serde_json::Value,
            ) -> Result<Event, PayloadError> {
                match (name, schema_version) {
                    $(($name, $version) => payload_from_json::<$variant>(payload),)+
                    _ => Err(unknown_type(name, schema_version)),
                }
            }

            /// The payload object alone (the type name travels beside it).
            pub fn to_json(&self) -> serde_json::Value {
                match self {
                    $(Self::$variant(payload) => payload_to_json(payload)),+
                }
            }

            /// The inner payload struct in the codec's encoding behind [`PAYLOAD_PLAIN`] (not the
            /// enum: the type name and version travel in the envelope). Personal fields are in
            /// the clear here; the ledger stores personal events sealed instead (see
            /// `ledger_app::personal`).
            pub fn encode_payload(&self) -> Vec<u8> {
                let mut bytes = vec![PAYLOAD_PLAIN];
                bytes.extend(self.encode_body());
                bytes
            }

            /// The inner payload struct alone, without a format byte: the redacted payload and
            /// the plain payload share this encoding.
            pub fn encode_body(&self) -> Vec<u8> {
                match self {
                    $(Self::$variant(payload) => encode(payload)),+
                }
            }

            /// Decodes bytes written by [`Event::encode_body`]; erased values are accepted (a
            /// redacted payload holds them: see [`crate::personal`]).
            pub fn decode_body(
                name: &str,
                schema_version: u16,
                bytes: &[u8],
            ) -> Result<Event, PayloadError> {
                match (name, schema_version) {
                    $(($name, $version) => decode::<$variant>(bytes),)+
                    _ => Err(unknown_type(name, schema_version)),
                }
            }
        }

        /// The JSON Schema of every catalogue entry, named by its file under `schemas/events/`
        /// (`ContactRecorded.v1.json`), in catalogue order.
        pub fn json_schemas() -> Vec<(String, serde_json::Value)> {
            vec![
                $((
                    EventType { name: $name, schema_version: $version }.schema_file_name(),
                    schema_json(schemars::schema_for!($variant)),
                )),+
            ]
        }
    };
}

catalogue! {
    // Customer.
    CustomerRegistered("CustomerRegistered", 1),
    IdentifierAdded("IdentifierAdded", 1),
    IdentifierRemoved("IdentifierRemoved", 1),
    ProfileUpdated("ProfileUpdated", 1),
    ConsentChanged("ConsentChanged", 1),
    CustomersMerged("CustomersMerged", 1),
    AccountManagerAssigned("AccountManagerAssigned", 1),
    CustomerErased("CustomerErased", 1),
    // Contact.
    ContactRecorded("ContactRecorded", 1),
    ContactCorrected("ContactCorrected", 1),
    SatisfactionRecorded("SatisfactionRecorded", 1),
    // Policy.
    PolicyQuoted("PolicyQuoted", 1),
    PolicyIssued("PolicyIssued", 1),
    PolicyRenewed("PolicyRenewed", 1),
    PolicyEndorsed("PolicyEndorsed", 1),
    PolicyLapsed("PolicyLapsed", 1),
    PolicyCancelled("PolicyCancelled", 1),
    // Claim.
    ClaimReported("ClaimReported", 1),
    ClaimSurveyed("ClaimSurveyed", 1),
    ClaimDocumentsRequested("ClaimDocumentsRequested", 1),
    ClaimDocumentsCompleted("ClaimDocumentsCompleted", 1),
    ClaimSettled("ClaimSettled", 1),
    ClaimRejected("ClaimRejected", 1),
    ClaimReopened("ClaimReopened", 1),
    // Service case.
    ServiceCaseOpened("ServiceCaseOpened", 1),
    ServiceCaseAssigned("ServiceCaseAssigned", 1),
    ServiceCaseEscalated("ServiceCaseEscalated", 1),
    ServiceCaseResolved("ServiceCaseResolved", 1),
    ServiceCaseReopened("ServiceCaseReopened", 1),
    ServiceCaseClosed("ServiceCaseClosed", 1),
    RiskSurveyCompleted("RiskSurveyCompleted", 1),
    RiskRecommendationFollowedUp("RiskRecommendationFollowedUp", 1),
    // Marketing.
    CampaignLaunched("CampaignLaunched", 1),
    CampaignCostIncurred("CampaignCostIncurred", 1),
    CampaignTouchSent("CampaignTouchSent", 1),
    CampaignResponded("CampaignResponded", 1),
    CampaignClosed("CampaignClosed", 1),
    OnlineEnquiryReceived("OnlineEnquiryReceived", 1),
    EnquiryErased("EnquiryErased", 1),
    // Process.
    ProcessPublished("ProcessPublished", 1),
    ProcessTrainingRecorded("ProcessTrainingRecorded", 1),
}

/// Format byte of a stored payload whose fields are all in the clear (an event type with no
/// personal fields, or an event encoded by [`Event::encode_payload`]).
pub const PAYLOAD_PLAIN: u8 = 1;
/// Format byte of a stored payload whose personal fields are sealed: see
/// `ledger_app::personal` for the layout after it.
pub const PAYLOAD_SEALED: u8 = 2;

impl Event {
    /// Decodes bytes written by [`Event::encode_payload`] for the named type and version.
    /// The bytes were checked when they were written, so rules are not re-run here: a rule
    /// tightened later must not make history unreadable. A sealed payload ([`PAYLOAD_SEALED`])
    /// is refused here: opening it needs the data keys (`ledger_app::personal`).
    pub fn decode_payload(
        name: &str,
        schema_version: u16,
        bytes: &[u8],
    ) -> Result<Event, PayloadError> {
        match bytes.split_first() {
            Some((&PAYLOAD_PLAIN, body)) => Self::decode_body(name, schema_version, body),
            Some((&found, _)) => Err(PayloadError::Codec(CodecError::UnknownFormat {
                found,
                expected: PAYLOAD_PLAIN,
            })),
            None => Err(PayloadError::Codec(CodecError::Empty)),
        }
    }

    /// The key that seals this event's personal fields: the stream of the customer they belong
    /// to (the survivor, for a merge), or the event's own stream when it names no customer (a
    /// web enquiry from someone not yet a customer). `None` when it has no personal fields.
    pub fn data_subject(&self) -> Option<StreamId> {
        if self.personal_fields().is_empty() {
            return None;
        }
        Some(match self.customer_ids().last() {
            Some(customer) => StreamId::customer(*customer),
            None => self.stream(),
        })
    }

    /// This event's catalogue entry.
    pub fn catalogue_entry(&self) -> EventType {
        EventType {
            name: self.event_type(),
            schema_version: self.schema_version(),
        }
    }
}

fn unknown_type(name: &str, version: u16) -> PayloadError {
    PayloadError::UnknownType {
        name: name.to_owned(),
        version,
    }
}

fn payload_from_json<P: Payload>(json: &serde_json::Value) -> Result<Event, PayloadError> {
    // serde_json would also read a struct from an array of its fields in order; a payload is
    // an object, so that shape is refused before it can be half-understood.
    if !json.is_object() {
        return Err(PayloadError::Invalid(ValidationError::new(
            "",
            "an event payload is a JSON object",
        )));
    }
    // An integrator's payload: an empty ("erased") value is as invalid as any other.
    let payload: P =
        crate::personal::strict(|| serde_path_to_error::deserialize(json)).map_err(|error| {
            let path = error.path().to_string();
            PayloadError::Invalid(validation_error_at(&path, &error.into_inner().to_string()))
        })?;
    payload.validate().map_err(PayloadError::Invalid)?;
    Ok(payload.into())
}

/// Turns a serde error met at JSON path `path` into a [`ValidationError`] whose `field` is the
/// full path of the bad field.
///
/// Value types report their rule through serde's custom error as `"{field}: {rule}"` (the
/// [`ValidationError`] display), where `field` is empty for plain texts and names the inner field
/// for composite values (`value` inside an identifier). Serde's own messages name a missing or
/// unknown field in backticks. Both are folded into the path so the caller sees
/// `identifiers[1].value`, not `identifiers[1]` and a field name buried in the message.
fn validation_error_at(path: &str, message: &str) -> ValidationError {
    // serde_path_to_error writes the root as "."; the payload itself is the empty field.
    let path = if path == "." { "" } else { path };
    let join = |inner: &str| match (path, inner) {
        ("", inner) => inner.to_owned(),
        (path, "") => path.to_owned(),
        (path, inner) if path == inner || path.ends_with(&format!(".{inner}")) => path.to_owned(),
        (path, inner) => format!("{path}.{inner}"),
    };
    if let Some(rule) = message.strip_prefix(": ") {
        return ValidationError::new(path, rule);
    }
    for (opening, what) in [
        ("missing field `", "is required"),
        ("unknown field `", "is not a field"),
    ] {
        let Some(rest) = message.strip_prefix(opening) else {
            continue;
        };
        let Some((field, after)) = rest.split_once('`') else {
            continue;
        };
        let rule = match after.strip_prefix(", ") {
            Some(expected) => format!("{what}; {expected}"),
            None => what.to_owned(),
        };
        return ValidationError::new(join(field), rule);
    }
    // A value type's `"{field}: {rule}"`: the field is one camelCase word, unlike the first
    // words of serde's, uuid's or jiff's own messages ("invalid type: ...").
    if let Some((field, rule)) = message.split_once(": ") {
        let is_field_name = field.starts_with(|c: char| c.is_ascii_lowercase())
            && field.chars().all(|c| c.is_ascii_alphanumeric());
        if is_field_name {
            return ValidationError::new(join(field), rule);
        }
    }
    ValidationError::new(path, message)
}

fn payload_to_json<P: Payload>(payload: &P) -> serde_json::Value {
    // Payloads are structs of strings, numbers, booleans, lists and enums: nothing serde_json
    // can refuse (no maps with non-string keys, no fallible Serialize impls).
    serde_json::to_value(payload).expect("an event payload always converts to JSON")
}

fn encode<P: Payload>(payload: &P) -> Vec<u8> {
    // bincode refuses only sequences of unknown length and fallible Serialize impls, and
    // payloads have neither; an error here is a programming mistake, not bad input.
    codec::encode(payload).expect("an event payload always encodes")
}

fn decode<P: Payload>(bytes: &[u8]) -> Result<Event, PayloadError> {
    codec::decode::<P>(bytes)
        .map(Into::into)
        .map_err(PayloadError::Codec)
}

fn schema_json(schema: schemars::Schema) -> serde_json::Value {
    schema.to_value()
}

// Shared rules for the payloads' `validate` implementations.

/// An amount that must not be negative (premiums, payments, budgets).
fn non_negative(field: &str, amount: Money) -> Result<(), ValidationError> {
    Money::non_negative(field, amount.fen()).map(|_| ())
}

/// A running total (a campaign's cost, its premium won): never negative, and not held to
/// [`Money::AMOUNT_FEN_MAX`], since it sums amounts that are (a campaign that won more than the
/// maximum can still be closed).
fn non_negative_total(field: &str, total: Money) -> Result<(), ValidationError> {
    if total.fen() < 0 {
        return Err(ValidationError::new(
            field,
            "an amount in fen must not be negative",
        ));
    }
    Ok(())
}

/// An amount that must be more than zero (a settlement, a cost), and at most
/// [`Money::AMOUNT_FEN_MAX`].
fn positive(field: &str, amount: Money) -> Result<(), ValidationError> {
    if amount.fen() <= 0 {
        return Err(ValidationError::new(
            field,
            "an amount in fen must be more than zero",
        ));
    }
    Money::at_most_max(field, amount.fen()).map(|_| ())
}

/// A list with at most `max` entries, at least one unless `may_be_empty`, and no entry twice
/// (a duplicate is reported at its own index: `channels[2]`).
fn distinct_list<T: PartialEq>(
    field: &str,
    items: &[T],
    may_be_empty: bool,
    max: usize,
) -> Result<(), ValidationError> {
    if items.is_empty() && !may_be_empty {
        return Err(ValidationError::new(field, "must list at least one entry"));
    }
    if items.len() > max {
        return Err(ValidationError::new(
            field,
            format!("must list at most {max} entries"),
        ));
    }
    for (index, item) in items.iter().enumerate() {
        if let Some(first) = items[..index].iter().position(|earlier| earlier == item) {
            return Err(ValidationError::new(
                format!("{field}[{index}]"),
                format!("repeats {field}[{first}]"),
            ));
        }
    }
    Ok(())
}

/// A period whose last day is not before its first (both days are inclusive).
fn period(
    end_field: &str,
    start: jiff::civil::Date,
    end: jiff::civil::Date,
) -> Result<(), ValidationError> {
    if end < start {
        return Err(ValidationError::new(
            end_field,
            "the period must not end before it starts",
        ));
    }
    Ok(())
}

/// The stream of a policy: `policy-{number}`.
pub fn policy_stream(number: &PolicyNumber) -> StreamId {
    number_stream("policy", number)
}

/// The stream of a claim: `claim-{number}`.
pub fn claim_stream(number: &ClaimNumber) -> StreamId {
    number_stream("claim", number)
}

/// The stream `{category}-{number}` of a policy or claim number. Policy and claim numbers are
/// 6 to 40 ASCII letters, digits and hyphens, so the stream id is always valid; the unit test
/// `number_streams_are_valid_for_the_longest_numbers` guards that against a change of the rule.
fn number_stream(category: &str, number: &impl fmt::Display) -> StreamId {
    StreamId::of(category, number).expect("policy and claim numbers are valid stream ids")
}

#[cfg(test)]
mod tests;
