//! Mutations of the campaign aggregate: launch, costs, touches, responses, close.
//! `Recorded.id` is the campaign id.

use async_graphql::{Context, ID, InputObject, Object};
use ledger_domain::ValidationError;
use ledger_domain::commands::{
    CloseCampaign, IncurCampaignCost, LaunchCampaign, RecordCampaignResponse, SendCampaignTouch,
};
use ledger_domain::ids::{CampaignId, ContactId, CustomerId, StaffId};
use ledger_domain::kinds::{SegmentName, Title};
use ledger_domain::values::PolicyNumber;

use super::{
    Affected, CommandContext, CommandInput, Recorded, optional, optional_id, optional_written, run,
    written,
};
use crate::access::RootAccess;
use crate::errors::{ApiError, ApiResult};
use crate::scalars::{Count, Date, Money};
use crate::state::state;
use crate::vocabulary::{CampaignResponse, Channel, CostCategory, to_domain};

fn campaign_id(id: &ID) -> Result<CampaignId, ValidationError> {
    CampaignId::parse("input.campaignId", id)
}

/// Launches a campaign.
#[derive(InputObject, Debug)]
pub struct LaunchCampaignInput {
    /// Left out, the ledger makes one (see the mutations' documentation).
    pub campaign_id: Option<ID>,
    pub name: String,
    pub budget: Money,
    pub channels: Vec<Channel>,
    /// The segment targeted, one the segment rules define: `key-accounts`, `renewal-due-30d` ...
    pub target_segment: String,
    pub period_start: Date,
    pub period_end: Date,
    pub owner: String,
    pub description: Option<String>,
}

impl CommandInput for LaunchCampaignInput {
    type Command = LaunchCampaign;

    fn into_command(self, context: &CommandContext) -> Result<LaunchCampaign, ValidationError> {
        let campaign_id = match &self.campaign_id {
            Some(id) => campaign_id(id)?,
            None => CampaignId::from_uuid(context.new_uuid()),
        };
        Ok(LaunchCampaign {
            campaign_id,
            name: Title::parse("input.name", &self.name)?,
            budget: self.budget.non_negative("input.budget")?,
            channels: to_domain(&self.channels),
            target_segment: SegmentName::parse("input.targetSegment", &self.target_segment)?,
            period_start: self.period_start.0,
            period_end: self.period_end.0,
            owner: StaffId::parse("input.owner", &self.owner)?,
            description: optional_written("input.description", self.description)?,
        })
    }

    fn affected(command: &LaunchCampaign) -> Affected {
        Affected::default().with_id(command.campaign_id)
    }
}

/// Records money spent on a running campaign.
#[derive(InputObject, Debug)]
pub struct IncurCampaignCostInput {
    pub campaign_id: ID,
    pub amount: Money,
    pub category: CostCategory,
    pub description: String,
}

impl CommandInput for IncurCampaignCostInput {
    type Command = IncurCampaignCost;

    fn into_command(self, _: &CommandContext) -> Result<IncurCampaignCost, ValidationError> {
        Ok(IncurCampaignCost {
            campaign_id: campaign_id(&self.campaign_id)?,
            amount: self.amount.non_negative("input.amount")?,
            category: self.category.into(),
            description: written("input.description", &self.description)?,
        })
    }

    fn affected(command: &IncurCampaignCost) -> Affected {
        Affected::default().with_id(command.campaign_id)
    }
}

/// Records that a running campaign reached a customer.
#[derive(InputObject, Debug)]
pub struct SendCampaignTouchInput {
    pub campaign_id: ID,
    pub customer_id: ID,
    pub channel: Channel,
    pub agent: Option<String>,
    pub contact_id: Option<ID>,
}

impl CommandInput for SendCampaignTouchInput {
    type Command = SendCampaignTouch;

    fn into_command(self, _: &CommandContext) -> Result<SendCampaignTouch, ValidationError> {
        Ok(SendCampaignTouch {
            campaign_id: campaign_id(&self.campaign_id)?,
            customer_id: CustomerId::parse("input.customerId", &self.customer_id)?,
            channel: self.channel.into(),
            agent: optional("input.agent", self.agent, StaffId::parse)?,
            contact_id: optional_id("input.contactId", self.contact_id, ContactId::parse)?,
        })
    }

    fn affected(command: &SendCampaignTouch) -> Affected {
        Affected::customer(command.customer_id).with_id(command.campaign_id)
    }
}

/// Records a customer's answer to a campaign.
#[derive(InputObject, Debug)]
pub struct RecordCampaignResponseInput {
    pub campaign_id: ID,
    pub customer_id: ID,
    pub response: CampaignResponse,
    pub channel: Channel,
    /// For a PURCHASED response, the premium of the policy bought (checked against it); for any
    /// other, usually 0.
    pub premium_won: Money,
    /// The responding customer's policy. A PURCHASED response names the policy bought: issued
    /// to them, and won once in a campaign. It wins the policy's current sale (its issue, or
    /// its latest renewal), which is won in one campaign: not one its issue or renewal
    /// credited to another campaign, or another campaign's purchase won first.
    pub policy_number: Option<String>,
}

impl CommandInput for RecordCampaignResponseInput {
    type Command = RecordCampaignResponse;

    fn into_command(self, _: &CommandContext) -> Result<RecordCampaignResponse, ValidationError> {
        Ok(RecordCampaignResponse {
            campaign_id: campaign_id(&self.campaign_id)?,
            customer_id: CustomerId::parse("input.customerId", &self.customer_id)?,
            response: self.response.into(),
            channel: self.channel.into(),
            premium_won: self.premium_won.non_negative("input.premiumWon")?,
            policy_number: optional(
                "input.policyNumber",
                self.policy_number,
                PolicyNumber::parse,
            )?,
        })
    }

    fn affected(command: &RecordCampaignResponse) -> Affected {
        Affected::customer(command.customer_id).with_id(command.campaign_id)
    }
}

/// Closes a running campaign.
#[derive(InputObject, Debug)]
pub struct CloseCampaignInput {
    pub campaign_id: ID,
    pub summary: Option<String>,
}

impl CommandInput for CloseCampaignInput {
    type Command = CloseCampaign;

    fn into_command(self, _: &CommandContext) -> Result<CloseCampaign, ValidationError> {
        Ok(CloseCampaign {
            campaign_id: campaign_id(&self.campaign_id)?,
            summary: optional_written("input.summary", self.summary)?,
        })
    }

    fn affected(command: &CloseCampaign) -> Affected {
        Affected::default().with_id(command.campaign_id)
    }
}

/// The campaign aggregate's mutations.
#[derive(Debug, Default)]
pub struct MarketingMutations;

#[Object(guard = "RootAccess")]
impl MarketingMutations {
    async fn launch_campaign(
        &self,
        ctx: &Context<'_>,
        input: LaunchCampaignInput,
        event_id: Option<ID>,
        expected_version: Option<Count>,
    ) -> ApiResult<Recorded> {
        // A campaign aimed at a segment no rule defines would reach nobody, and its figures
        // could not be read against the segment.
        let segments = state(ctx)?.ledger.segments();
        if segments.rules().get(input.target_segment.trim()).is_none() {
            let known: Vec<&str> = segments
                .rules()
                .rules()
                .iter()
                .map(|rule| rule.name())
                .collect();
            return Err(ApiError::validation(
                "input.targetSegment",
                format!(
                    "a segment the rules define ({}), not {:?}",
                    known.join(", "),
                    input.target_segment
                ),
            ));
        }
        run(ctx, input, event_id, expected_version).await
    }

    async fn incur_campaign_cost(
        &self,
        ctx: &Context<'_>,
        input: IncurCampaignCostInput,
        event_id: Option<ID>,
        expected_version: Option<Count>,
    ) -> ApiResult<Recorded> {
        run(ctx, input, event_id, expected_version).await
    }

    async fn send_campaign_touch(
        &self,
        ctx: &Context<'_>,
        input: SendCampaignTouchInput,
        event_id: Option<ID>,
        expected_version: Option<Count>,
    ) -> ApiResult<Recorded> {
        run(ctx, input, event_id, expected_version).await
    }

    async fn record_campaign_response(
        &self,
        ctx: &Context<'_>,
        input: RecordCampaignResponseInput,
        event_id: Option<ID>,
        expected_version: Option<Count>,
    ) -> ApiResult<Recorded> {
        run(ctx, input, event_id, expected_version).await
    }

    async fn close_campaign(
        &self,
        ctx: &Context<'_>,
        input: CloseCampaignInput,
        event_id: Option<ID>,
        expected_version: Option<Count>,
    ) -> ApiResult<Recorded> {
        run(ctx, input, event_id, expected_version).await
    }
}
