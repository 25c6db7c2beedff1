//! Events of the customer stream (`customer-{id}`): the customer's identity, profile, consent,
//! merges, account manager and erasure, and the contacts and satisfaction answers recorded for
//! them.

use jiff::Timestamp;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{Validate, distinct_list, personal, routing};
use crate::ValidationError;
use crate::ids::{CampaignId, CaseId, ContactId, CustomerId, EnquiryId, StaffId, StreamId};
use crate::kinds::{ContactOutcome, CustomerKind, ErasureReason};
use crate::values::{
    Channel, ClaimNumber, Csat, Direction, FreeText, Identifier, Nps, PersonName, PolicyNumber,
    Topic,
};

/// The most identifiers one customer may hold (mobiles, plates, VINs, policy numbers ...). A
/// fleet customer has many plates, but a customer with more than this is a merge gone wrong.
pub const IDENTIFIERS_PER_CUSTOMER_MAX: usize = 64;

/// The longest contact accepted, in seconds (a day). A longer one is a clock or import error.
pub const CONTACT_DURATION_SECONDS_MAX: u32 = 86_400;

/// A customer became known to the ledger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CustomerRegistered {
    pub customer_id: CustomerId,
    pub kind: CustomerKind,
    /// The person's or company's name.
    pub name: PersonName,
    /// The group company the customer belongs to (集团客户: members of the carmaker group), if
    /// any. Group customers are a segment of their own.
    #[serde(default)]
    pub group: Option<PersonName>,
    #[serde(default)]
    pub address: Option<FreeText>,
    /// Everything the customer can be found by; each belongs to this customer alone.
    pub identifiers: Vec<Identifier>,
}

/// The customer can now also be found by `identifier`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct IdentifierAdded {
    pub customer_id: CustomerId,
    pub identifier: Identifier,
}

/// The customer is no longer found by `identifier` (a number given up, a car sold).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct IdentifierRemoved {
    pub customer_id: CustomerId,
    pub identifier: Identifier,
}

/// The customer's profile after a change. It carries the whole profile, not a patch, so a
/// projection sets it and an absent group or address means "none" rather than "unchanged".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ProfileUpdated {
    pub customer_id: CustomerId,
    pub name: PersonName,
    #[serde(default)]
    pub group: Option<PersonName>,
    #[serde(default)]
    pub address: Option<FreeText>,
}

/// The customer granted or withdrew consent to marketing on one channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ConsentChanged {
    pub customer_id: CustomerId,
    pub channel: Channel,
    pub granted: bool,
}

/// `customer_id` was a duplicate of `survivor_id` and is merged into it. Written to the merged
/// customer's stream, which accepts nothing further; the survivor's read models gather the
/// merged customer's history and `identifiers` from here. History is never rewritten.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CustomersMerged {
    /// The duplicate, merged away.
    pub customer_id: CustomerId,
    /// The customer that remains.
    pub survivor_id: CustomerId,
    /// The identifiers the merged customer held, which now find the survivor.
    pub identifiers: Vec<Identifier>,
    #[serde(default)]
    pub reason: Option<FreeText>,
}

/// A (corporate) customer has a new account manager and team lead (一对一接触). The previous
/// manager is carried so satisfaction before and after the change can be compared.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AccountManagerAssigned {
    pub customer_id: CustomerId,
    pub manager: StaffId,
    pub team_lead: StaffId,
    #[serde(default)]
    pub previous_manager: Option<StaffId>,
}

/// The customer's personal data is erased: their key is destroyed (crypto-shredding), so every
/// sealed field of their events becomes unreadable while the hash chain still verifies. The
/// customer accepts nothing further.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CustomerErased {
    pub customer_id: CustomerId,
    pub reason: ErasureReason,
}

/// One contact with the customer on any channel: a call, a WeChat conversation, a visit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ContactRecorded {
    pub contact_id: ContactId,
    pub customer_id: CustomerId,
    pub channel: Channel,
    pub direction: Direction,
    /// The agent who handled it, or the system for self-service (`system:web`).
    pub agent: StaffId,
    pub started_at: Timestamp,
    pub duration_seconds: u32,
    pub topic: Topic,
    pub summary: FreeText,
    pub outcome: ContactOutcome,
    #[serde(default)]
    pub policy_number: Option<PolicyNumber>,
    #[serde(default)]
    pub claim_number: Option<ClaimNumber>,
    #[serde(default)]
    pub case_id: Option<CaseId>,
    #[serde(default)]
    pub campaign_id: Option<CampaignId>,
    /// The online enquiry this contact called back: it is no longer awaiting a call-back.
    #[serde(default)]
    pub enquiry_id: Option<EnquiryId>,
}

/// A recorded contact, corrected. It carries every correctable fact of the contact as it
/// should have been recorded (a replacement, not a patch) and why. The customer cannot be
/// corrected: a contact recorded against the wrong customer stays in that customer's stream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ContactCorrected {
    pub contact_id: ContactId,
    pub customer_id: CustomerId,
    pub channel: Channel,
    pub direction: Direction,
    pub agent: StaffId,
    pub started_at: Timestamp,
    pub duration_seconds: u32,
    pub topic: Topic,
    pub summary: FreeText,
    pub outcome: ContactOutcome,
    #[serde(default)]
    pub policy_number: Option<PolicyNumber>,
    #[serde(default)]
    pub claim_number: Option<ClaimNumber>,
    #[serde(default)]
    pub case_id: Option<CaseId>,
    #[serde(default)]
    pub campaign_id: Option<CampaignId>,
    #[serde(default)]
    pub enquiry_id: Option<EnquiryId>,
    /// Why the record was wrong.
    pub reason: FreeText,
}

/// The customer's answer to a satisfaction survey: CSAT, NPS or both, optionally about one
/// contact.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SatisfactionRecorded {
    pub customer_id: CustomerId,
    /// The contact rated, if the survey followed one.
    #[serde(default)]
    pub contact_id: Option<ContactId>,
    /// 1 (very dissatisfied) to 5 (very satisfied).
    #[serde(default)]
    pub csat: Option<Csat>,
    /// 0 to 10: how likely the customer is to recommend the insurer.
    #[serde(default)]
    pub nps: Option<Nps>,
    #[serde(default)]
    pub comment: Option<FreeText>,
}

routing!(
    CustomerRegistered, IdentifierAdded, IdentifierRemoved, ProfileUpdated, ConsentChanged,
    AccountManagerAssigned, CustomerErased, ContactRecorded, ContactCorrected,
    SatisfactionRecorded
    => |event| StreamId::customer(event.customer_id), vec![event.customer_id]
);
routing!(
    CustomersMerged
    => |event| StreamId::customer(event.customer_id), vec![event.customer_id, event.survivor_id]
);

personal!(
    CustomerRegistered {
        name,
        group,
        address,
        identifiers
    },
    IdentifierAdded { identifier },
    IdentifierRemoved { identifier },
    ProfileUpdated {
        name,
        group,
        address
    },
    ConsentChanged {},
    CustomersMerged {
        identifiers,
        reason
    },
    AccountManagerAssigned {},
    CustomerErased {},
    ContactRecorded { summary },
    ContactCorrected { summary, reason },
    SatisfactionRecorded { comment },
);

impl Validate for IdentifierAdded {}
impl Validate for IdentifierRemoved {}
impl Validate for ProfileUpdated {}
impl Validate for ConsentChanged {}
impl Validate for AccountManagerAssigned {}
impl Validate for CustomerErased {}

impl Validate for CustomerRegistered {
    fn validate(&self) -> Result<(), ValidationError> {
        distinct_list(
            "identifiers",
            &self.identifiers,
            true,
            IDENTIFIERS_PER_CUSTOMER_MAX,
        )
    }
}

impl Validate for CustomersMerged {
    fn validate(&self) -> Result<(), ValidationError> {
        if self.survivor_id == self.customer_id {
            return Err(ValidationError::new(
                "survivorId",
                "a customer cannot be merged into itself",
            ));
        }
        distinct_list(
            "identifiers",
            &self.identifiers,
            true,
            IDENTIFIERS_PER_CUSTOMER_MAX,
        )
    }
}

impl Validate for ContactRecorded {
    fn validate(&self) -> Result<(), ValidationError> {
        contact_duration(self.duration_seconds)
    }
}

impl Validate for ContactCorrected {
    fn validate(&self) -> Result<(), ValidationError> {
        contact_duration(self.duration_seconds)
    }
}

impl Validate for SatisfactionRecorded {
    fn validate(&self) -> Result<(), ValidationError> {
        if self.csat.is_none() && self.nps.is_none() {
            return Err(ValidationError::new(
                "csat",
                "a satisfaction answer has a CSAT, an NPS or both",
            ));
        }
        Ok(())
    }
}

fn contact_duration(duration_seconds: u32) -> Result<(), ValidationError> {
    if duration_seconds > CONTACT_DURATION_SECONDS_MAX {
        return Err(ValidationError::new(
            "durationSeconds",
            format!("a contact lasts at most {CONTACT_DURATION_SECONDS_MAX} seconds"),
        ));
    }
    Ok(())
}

/// When a contact that started at `started_at` and lasted `duration_seconds` ended: the time
/// a contact is dated by (its envelope's `occurredAt`, its place on the timeline). `None` past
/// the last representable instant.
pub fn contact_ended_at(started_at: Timestamp, duration_seconds: u32) -> Option<Timestamp> {
    started_at
        .checked_add(jiff::SignedDuration::from_secs(i64::from(duration_seconds)))
        .ok()
}

impl ContactCorrected {
    /// When the corrected contact ended (see [`contact_ended_at`]).
    pub fn ended_at(&self) -> Option<Timestamp> {
        contact_ended_at(self.started_at, self.duration_seconds)
    }
}

impl ContactRecorded {
    /// When the contact ended (see [`contact_ended_at`]).
    pub fn ended_at(&self) -> Option<Timestamp> {
        contact_ended_at(self.started_at, self.duration_seconds)
    }

    /// The correction that replaces this record with `self`'s facts, for `reason`.
    pub fn corrected(&self, reason: FreeText) -> ContactCorrected {
        ContactCorrected {
            contact_id: self.contact_id,
            customer_id: self.customer_id,
            channel: self.channel,
            direction: self.direction,
            agent: self.agent.clone(),
            started_at: self.started_at,
            duration_seconds: self.duration_seconds,
            topic: self.topic,
            summary: self.summary.clone(),
            outcome: self.outcome,
            policy_number: self.policy_number.clone(),
            claim_number: self.claim_number.clone(),
            case_id: self.case_id,
            campaign_id: self.campaign_id,
            enquiry_id: self.enquiry_id,
            reason,
        }
    }
}
