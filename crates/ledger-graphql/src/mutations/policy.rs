//! Mutations of the policy aggregate: quote, issue, renew, endorse, lapse, cancel.

use async_graphql::{Context, ID, InputObject, Object};
use ledger_domain::ValidationError;
use ledger_domain::commands::{
    CancelPolicy, EndorsePolicy, IssuePolicy, LapsePolicy, QuotePolicy, RenewPolicy,
};
use ledger_domain::ids::{CampaignId, CustomerId};
use ledger_domain::values::{Plate, PolicyNumber, Vin};

use super::{
    Affected, CommandContext, CommandInput, Recorded, optional, optional_id, run, written,
};
use crate::access::RootAccess;
use crate::errors::ApiResult;
use crate::scalars::{Count, Date, Money};
use crate::vocabulary::{CancellationReason, Channel, ProductLine, to_domain};

/// Records a quote under the policy number it will be issued with.
#[derive(InputObject, Debug)]
pub struct QuotePolicyInput {
    pub policy_number: String,
    pub customer_id: ID,
    pub product_lines: Vec<ProductLine>,
    pub plate: String,
    pub vin: String,
    pub premium: Money,
    pub period_start: Date,
    pub period_end: Date,
    pub sales_channel: Channel,
    pub campaign_id: Option<ID>,
    pub valid_until: Date,
}

impl CommandInput for QuotePolicyInput {
    type Command = QuotePolicy;

    fn into_command(self, _: &CommandContext) -> Result<QuotePolicy, ValidationError> {
        Ok(QuotePolicy {
            policy_number: PolicyNumber::parse("input.policyNumber", &self.policy_number)?,
            customer_id: CustomerId::parse("input.customerId", &self.customer_id)?,
            product_lines: to_domain(&self.product_lines),
            plate: Plate::parse("input.plate", &self.plate)?,
            vin: Vin::parse("input.vin", &self.vin)?,
            premium: self.premium.non_negative("input.premium")?,
            period_start: self.period_start.0,
            period_end: self.period_end.0,
            sales_channel: self.sales_channel.into(),
            campaign_id: optional_id("input.campaignId", self.campaign_id, CampaignId::parse)?,
            valid_until: self.valid_until.0,
        })
    }

    fn affected(command: &QuotePolicy) -> Affected {
        Affected::customer(command.customer_id).with_id(&command.policy_number)
    }
}

/// Issues a policy (quoted before or not).
#[derive(InputObject, Debug)]
pub struct IssuePolicyInput {
    pub policy_number: String,
    pub customer_id: ID,
    pub product_lines: Vec<ProductLine>,
    pub plate: String,
    pub vin: String,
    pub premium: Money,
    pub period_start: Date,
    pub period_end: Date,
    pub sales_channel: Channel,
    pub campaign_id: Option<ID>,
}

impl CommandInput for IssuePolicyInput {
    type Command = IssuePolicy;

    fn into_command(self, _: &CommandContext) -> Result<IssuePolicy, ValidationError> {
        Ok(IssuePolicy {
            policy_number: PolicyNumber::parse("input.policyNumber", &self.policy_number)?,
            customer_id: CustomerId::parse("input.customerId", &self.customer_id)?,
            product_lines: to_domain(&self.product_lines),
            plate: Plate::parse("input.plate", &self.plate)?,
            vin: Vin::parse("input.vin", &self.vin)?,
            premium: self.premium.non_negative("input.premium")?,
            period_start: self.period_start.0,
            period_end: self.period_end.0,
            sales_channel: self.sales_channel.into(),
            campaign_id: optional_id("input.campaignId", self.campaign_id, CampaignId::parse)?,
        })
    }

    fn affected(command: &IssuePolicy) -> Affected {
        Affected::customer(command.customer_id).with_id(&command.policy_number)
    }
}

/// Renews a policy for a new period under the same number.
#[derive(InputObject, Debug)]
pub struct RenewPolicyInput {
    pub policy_number: String,
    pub product_lines: Vec<ProductLine>,
    pub premium: Money,
    pub period_start: Date,
    pub period_end: Date,
    pub sales_channel: Channel,
    pub campaign_id: Option<ID>,
}

impl CommandInput for RenewPolicyInput {
    type Command = RenewPolicy;

    fn into_command(self, _: &CommandContext) -> Result<RenewPolicy, ValidationError> {
        Ok(RenewPolicy {
            policy_number: PolicyNumber::parse("input.policyNumber", &self.policy_number)?,
            product_lines: to_domain(&self.product_lines),
            premium: self.premium.non_negative("input.premium")?,
            period_start: self.period_start.0,
            period_end: self.period_end.0,
            sales_channel: self.sales_channel.into(),
            campaign_id: optional_id("input.campaignId", self.campaign_id, CampaignId::parse)?,
        })
    }

    fn affected(command: &RenewPolicy) -> Affected {
        Affected::default().with_id(&command.policy_number)
    }
}

/// Changes a policy in force: plate, product lines, premium.
#[derive(InputObject, Debug)]
pub struct EndorsePolicyInput {
    pub policy_number: String,
    pub effective_on: Date,
    pub description: String,
    pub plate: Option<String>,
    pub product_lines: Option<Vec<ProductLine>>,
    /// Added (positive) or refunded (negative) premium.
    pub premium_change: Money,
}

impl CommandInput for EndorsePolicyInput {
    type Command = EndorsePolicy;

    fn into_command(self, _: &CommandContext) -> Result<EndorsePolicy, ValidationError> {
        Ok(EndorsePolicy {
            policy_number: PolicyNumber::parse("input.policyNumber", &self.policy_number)?,
            effective_on: self.effective_on.0,
            description: written("input.description", &self.description)?,
            plate: optional("input.plate", self.plate, Plate::parse)?,
            product_lines: self.product_lines.as_deref().map(to_domain),
            premium_change: self.premium_change.0,
        })
    }

    fn affected(command: &EndorsePolicy) -> Affected {
        Affected::default().with_id(&command.policy_number)
    }
}

/// Records that a policy's period ended without renewal.
#[derive(InputObject, Debug)]
pub struct LapsePolicyInput {
    pub policy_number: String,
    pub lapsed_on: Date,
}

impl CommandInput for LapsePolicyInput {
    type Command = LapsePolicy;

    fn into_command(self, _: &CommandContext) -> Result<LapsePolicy, ValidationError> {
        Ok(LapsePolicy {
            policy_number: PolicyNumber::parse("input.policyNumber", &self.policy_number)?,
            lapsed_on: self.lapsed_on.0,
        })
    }

    fn affected(command: &LapsePolicy) -> Affected {
        Affected::default().with_id(&command.policy_number)
    }
}

/// Cancels a policy in force.
#[derive(InputObject, Debug)]
pub struct CancelPolicyInput {
    pub policy_number: String,
    pub cancelled_on: Date,
    pub reason: CancellationReason,
    pub refund: Money,
}

impl CommandInput for CancelPolicyInput {
    type Command = CancelPolicy;

    fn into_command(self, _: &CommandContext) -> Result<CancelPolicy, ValidationError> {
        Ok(CancelPolicy {
            policy_number: PolicyNumber::parse("input.policyNumber", &self.policy_number)?,
            cancelled_on: self.cancelled_on.0,
            reason: self.reason.into(),
            refund: self.refund.non_negative("input.refund")?,
        })
    }

    fn affected(command: &CancelPolicy) -> Affected {
        Affected::default().with_id(&command.policy_number)
    }
}

/// The policy aggregate's mutations; `Recorded.id` is the policy number.
#[derive(Debug, Default)]
pub struct PolicyMutations;

#[Object(guard = "RootAccess")]
impl PolicyMutations {
    async fn quote_policy(
        &self,
        ctx: &Context<'_>,
        input: QuotePolicyInput,
        event_id: Option<ID>,
        expected_version: Option<Count>,
    ) -> ApiResult<Recorded> {
        run(ctx, input, event_id, expected_version).await
    }

    async fn issue_policy(
        &self,
        ctx: &Context<'_>,
        input: IssuePolicyInput,
        event_id: Option<ID>,
        expected_version: Option<Count>,
    ) -> ApiResult<Recorded> {
        run(ctx, input, event_id, expected_version).await
    }

    async fn renew_policy(
        &self,
        ctx: &Context<'_>,
        input: RenewPolicyInput,
        event_id: Option<ID>,
        expected_version: Option<Count>,
    ) -> ApiResult<Recorded> {
        run(ctx, input, event_id, expected_version).await
    }

    async fn endorse_policy(
        &self,
        ctx: &Context<'_>,
        input: EndorsePolicyInput,
        event_id: Option<ID>,
        expected_version: Option<Count>,
    ) -> ApiResult<Recorded> {
        run(ctx, input, event_id, expected_version).await
    }

    async fn lapse_policy(
        &self,
        ctx: &Context<'_>,
        input: LapsePolicyInput,
        event_id: Option<ID>,
        expected_version: Option<Count>,
    ) -> ApiResult<Recorded> {
        run(ctx, input, event_id, expected_version).await
    }

    async fn cancel_policy(
        &self,
        ctx: &Context<'_>,
        input: CancelPolicyInput,
        event_id: Option<ID>,
        expected_version: Option<Count>,
    ) -> ApiResult<Recorded> {
        run(ctx, input, event_id, expected_version).await
    }
}
