//! Mutations about contacts with a customer: recording and correcting a contact, a
//! satisfaction answer, and an online enquiry from the web shop (and the erasure of one from
//! someone nobody knew).

use async_graphql::{Context, ID, InputObject, Object};
use ledger_domain::ValidationError;
use ledger_domain::commands::{
    CorrectContact, EraseEnquiry, RecordContact, RecordOnlineEnquiry, RecordSatisfaction,
};
use ledger_domain::ids::{CampaignId, CaseId, ContactId, CustomerId, EnquiryId};
use ledger_domain::values::{ClaimNumber, Csat, Mobile, Nps, PersonName, Plate, PolicyNumber};

use super::{
    Affected, CommandContext, CommandInput, Recorded, optional, optional_id, optional_written, run,
    whole, written,
};
use crate::access::RootAccess;
use crate::errors::ApiResult;
use crate::scalars::{Count, DateTime};
use crate::vocabulary::{
    Channel, ContactOutcome, Direction, ErasureReason, ProductLine, Topic, to_domain,
};

const DURATION_RULE: &str = "a duration is a whole number of seconds, not negative";

/// Records one contact with a customer on any channel.
#[derive(InputObject, Debug)]
pub struct RecordContactInput {
    /// Left out, the ledger makes one (see the mutations' documentation).
    pub contact_id: Option<ID>,
    pub customer_id: ID,
    pub channel: Channel,
    pub direction: Direction,
    /// The agent who handled it; the caller when left out.
    pub agent: Option<String>,
    /// When it started: not in the future (beyond the clocks' drift), nor before 1990-01-01
    /// Beijing time (`CONTACT_STARTED_AT_EARLIEST_SECONDS`: a start before it is a slip).
    pub started_at: DateTime,
    pub duration_seconds: i32,
    pub topic: Topic,
    pub summary: String,
    pub outcome: ContactOutcome,
    /// A policy issued or quoted to the contact's customer or a customer merged with it.
    pub policy_number: Option<String>,
    pub claim_number: Option<String>,
    /// A service case opened for the contact's customer or a customer merged with it.
    pub case_id: Option<ID>,
    /// A launched campaign.
    pub campaign_id: Option<ID>,
    /// The online enquiry this contact called back: one the contact's customer sent, or one
    /// from nobody known.
    pub enquiry_id: Option<ID>,
}

impl CommandInput for RecordContactInput {
    type Command = RecordContact;

    fn into_command(self, context: &CommandContext) -> Result<RecordContact, ValidationError> {
        let contact_id = match &self.contact_id {
            Some(id) => ContactId::parse("input.contactId", id)?,
            None => ContactId::from_uuid(context.new_uuid()),
        };
        Ok(RecordContact {
            contact_id,
            customer_id: CustomerId::parse("input.customerId", &self.customer_id)?,
            channel: self.channel.into(),
            direction: self.direction.into(),
            agent: context.staff_or_caller("input.agent", self.agent)?,
            started_at: self.started_at.0,
            duration_seconds: whole(
                "input.durationSeconds",
                self.duration_seconds,
                DURATION_RULE,
            )?,
            topic: self.topic.into(),
            summary: written("input.summary", &self.summary)?,
            outcome: self.outcome.into(),
            policy_number: optional(
                "input.policyNumber",
                self.policy_number,
                PolicyNumber::parse,
            )?,
            claim_number: optional("input.claimNumber", self.claim_number, ClaimNumber::parse)?,
            case_id: optional_id("input.caseId", self.case_id, CaseId::parse)?,
            campaign_id: optional_id("input.campaignId", self.campaign_id, CampaignId::parse)?,
            enquiry_id: optional_id("input.enquiryId", self.enquiry_id, EnquiryId::parse)?,
        })
    }

    fn affected(command: &RecordContact) -> Affected {
        Affected::customer(command.customer_id).with_id(command.contact_id)
    }
}

/// Corrects a recorded contact: every correctable fact as it should have been, and why. Its
/// links (policy, case, campaign, enquiry) follow the rules of `recordContact`.
#[derive(InputObject, Debug)]
pub struct CorrectContactInput {
    pub contact_id: ID,
    pub customer_id: ID,
    pub channel: Channel,
    pub direction: Direction,
    pub agent: String,
    pub started_at: DateTime,
    pub duration_seconds: i32,
    pub topic: Topic,
    pub summary: String,
    pub outcome: ContactOutcome,
    pub policy_number: Option<String>,
    pub claim_number: Option<String>,
    pub case_id: Option<ID>,
    pub campaign_id: Option<ID>,
    pub enquiry_id: Option<ID>,
    /// Why the record was wrong.
    pub reason: String,
}

impl CommandInput for CorrectContactInput {
    type Command = CorrectContact;

    fn into_command(self, _: &CommandContext) -> Result<CorrectContact, ValidationError> {
        Ok(CorrectContact {
            contact_id: ContactId::parse("input.contactId", &self.contact_id)?,
            customer_id: CustomerId::parse("input.customerId", &self.customer_id)?,
            channel: self.channel.into(),
            direction: self.direction.into(),
            agent: ledger_domain::ids::StaffId::parse("input.agent", &self.agent)?,
            started_at: self.started_at.0,
            duration_seconds: whole(
                "input.durationSeconds",
                self.duration_seconds,
                DURATION_RULE,
            )?,
            topic: self.topic.into(),
            summary: written("input.summary", &self.summary)?,
            outcome: self.outcome.into(),
            policy_number: optional(
                "input.policyNumber",
                self.policy_number,
                PolicyNumber::parse,
            )?,
            claim_number: optional("input.claimNumber", self.claim_number, ClaimNumber::parse)?,
            case_id: optional_id("input.caseId", self.case_id, CaseId::parse)?,
            campaign_id: optional_id("input.campaignId", self.campaign_id, CampaignId::parse)?,
            enquiry_id: optional_id("input.enquiryId", self.enquiry_id, EnquiryId::parse)?,
            reason: written("input.reason", &self.reason)?,
        })
    }

    fn affected(command: &CorrectContact) -> Affected {
        Affected::customer(command.customer_id).with_id(command.contact_id)
    }
}

/// Records a customer's satisfaction answer: CSAT (1–5), NPS (0–10) or both.
#[derive(InputObject, Debug)]
pub struct RecordSatisfactionInput {
    pub customer_id: ID,
    /// The contact rated, if the survey followed one.
    pub contact_id: Option<ID>,
    pub csat: Option<i32>,
    pub nps: Option<i32>,
    pub comment: Option<String>,
}

impl CommandInput for RecordSatisfactionInput {
    type Command = RecordSatisfaction;

    fn into_command(self, _: &CommandContext) -> Result<RecordSatisfaction, ValidationError> {
        Ok(RecordSatisfaction {
            customer_id: CustomerId::parse("input.customerId", &self.customer_id)?,
            contact_id: optional_id("input.contactId", self.contact_id, ContactId::parse)?,
            csat: self
                .csat
                .map(|score| Csat::parse("input.csat", i64::from(score)))
                .transpose()?,
            nps: self
                .nps
                .map(|score| Nps::parse("input.nps", i64::from(score)))
                .transpose()?,
            comment: optional_written("input.comment", self.comment)?,
        })
    }

    fn affected(command: &RecordSatisfaction) -> Affected {
        Affected::customer(command.customer_id)
    }
}

/// Records a lead from the web shop awaiting a call-back, for a known customer or not.
#[derive(InputObject, Debug)]
pub struct RecordEnquiryInput {
    /// Left out, the ledger makes one (see the mutations' documentation).
    pub enquiry_id: Option<ID>,
    pub customer_id: Option<ID>,
    pub campaign_id: Option<ID>,
    pub channel: Channel,
    pub name: Option<String>,
    pub mobile: String,
    pub plate: Option<String>,
    #[graphql(default)]
    pub product_lines: Vec<ProductLine>,
    pub message: Option<String>,
}

impl CommandInput for RecordEnquiryInput {
    type Command = RecordOnlineEnquiry;

    fn into_command(
        self,
        context: &CommandContext,
    ) -> Result<RecordOnlineEnquiry, ValidationError> {
        let enquiry_id = match &self.enquiry_id {
            Some(id) => EnquiryId::parse("input.enquiryId", id)?,
            None => EnquiryId::from_uuid(context.new_uuid()),
        };
        Ok(RecordOnlineEnquiry {
            enquiry_id,
            customer_id: optional_id("input.customerId", self.customer_id, CustomerId::parse)?,
            campaign_id: optional_id("input.campaignId", self.campaign_id, CampaignId::parse)?,
            channel: self.channel.into(),
            name: optional("input.name", self.name, PersonName::parse)?,
            mobile: Mobile::parse("input.mobile", &self.mobile)?,
            plate: optional("input.plate", self.plate, Plate::parse)?,
            product_lines: to_domain(&self.product_lines),
            message: optional_written("input.message", self.message)?,
        })
    }

    fn affected(command: &RecordOnlineEnquiry) -> Affected {
        let affected = Affected::default().with_id(command.enquiry_id);
        match command.customer_id {
            Some(customer) => affected.with_customer(customer),
            None => affected,
        }
    }
}

/// Erases the personal data of an online enquiry from someone the web shop could not
/// identify (crypto-shredding): its own key is destroyed and it leaves the call-back queue.
/// An enquiry from a known customer is erased with the customer (`eraseCustomer`). Cannot be
/// undone.
#[derive(InputObject, Debug)]
pub struct EraseEnquiryInput {
    pub enquiry_id: ID,
    pub reason: ErasureReason,
}

impl CommandInput for EraseEnquiryInput {
    type Command = EraseEnquiry;

    fn into_command(self, _: &CommandContext) -> Result<EraseEnquiry, ValidationError> {
        Ok(EraseEnquiry {
            enquiry_id: EnquiryId::parse("input.enquiryId", &self.enquiry_id)?,
            reason: self.reason.into(),
        })
    }

    fn affected(command: &EraseEnquiry) -> Affected {
        Affected::default().with_id(command.enquiry_id)
    }
}

/// Contacts, satisfaction and enquiries.
#[derive(Debug, Default)]
pub struct ContactMutations;

#[Object(guard = "RootAccess")]
impl ContactMutations {
    /// Records a contact; `Recorded.id` is the contact's id.
    async fn record_contact(
        &self,
        ctx: &Context<'_>,
        input: RecordContactInput,
        event_id: Option<ID>,
        expected_version: Option<Count>,
    ) -> ApiResult<Recorded> {
        run(ctx, input, event_id, expected_version).await
    }

    async fn correct_contact(
        &self,
        ctx: &Context<'_>,
        input: CorrectContactInput,
        event_id: Option<ID>,
        expected_version: Option<Count>,
    ) -> ApiResult<Recorded> {
        run(ctx, input, event_id, expected_version).await
    }

    async fn record_satisfaction(
        &self,
        ctx: &Context<'_>,
        input: RecordSatisfactionInput,
        event_id: Option<ID>,
        expected_version: Option<Count>,
    ) -> ApiResult<Recorded> {
        run(ctx, input, event_id, expected_version).await
    }

    /// Records an online enquiry (`RecordOnlineEnquiry`); `Recorded.id` is the enquiry's id.
    async fn record_enquiry(
        &self,
        ctx: &Context<'_>,
        input: RecordEnquiryInput,
        event_id: Option<ID>,
        expected_version: Option<Count>,
    ) -> ApiResult<Recorded> {
        run(ctx, input, event_id, expected_version).await
    }

    /// Erases an anonymous online enquiry's personal data (`EraseEnquiry`); `Recorded.id` is
    /// the enquiry's id.
    async fn erase_enquiry(
        &self,
        ctx: &Context<'_>,
        input: EraseEnquiryInput,
        event_id: Option<ID>,
        expected_version: Option<Count>,
    ) -> ApiResult<Recorded> {
        run(ctx, input, event_id, expected_version).await
    }
}
