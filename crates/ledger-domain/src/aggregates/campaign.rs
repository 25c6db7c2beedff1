//! The campaign aggregate (`campaign-{id}`): plan (launch) → execution (costs, touches) →
//! feedback (responses) → close.
//!
//! Rules:
//! - A campaign is launched once (`AlreadyExists`).
//! - Costs and touches are recorded only while the campaign runs (launched, not closed); a
//!   touch uses one of the campaign's channels. Each cost carries the running total and whether
//!   it is now over budget.
//! - A touch goes only on a channel the customer consented to marketing on: consent is opt-in,
//!   so a channel never granted (or withdrawn) is refused (`channel`). A context that cannot
//!   tell the customer's consents does not check.
//! - Responses are accepted from launch on, also after closing: a customer may answer after
//!   the campaign ends, and the premium won still counts towards it.
//! - A `PURCHASED` response names the policy bought (`policyNumber`), since its premium counts
//!   as won; any policy a response names exists and is the responding customer's (or a
//!   customer's merged with it), so premium cannot be won with another customer's policy or a
//!   number nobody issued.
//! - A purchase wins the policy's current sale (its issue, or its latest renewal): issued, for
//!   its premium, once in the campaign, and in one campaign only. A sale its issue or renewal
//!   credited to another campaign (`campaignId`), or that another campaign's earlier purchase
//!   response won, is refused (`policyNumber`): one sale counted in two campaigns would count
//!   its premium twice and its refund once.
//! - A campaign is closed once; the closing event carries the figures as they stand.

use std::collections::BTreeSet;
use std::fmt;

use super::links::{customers_policy, issued_policy, new_business_for};
use super::{Aggregate, DecisionContext, already_exists, emit, invalid_transition, not_found};
use crate::commands::{
    CampaignCommand, CloseCampaign, IncurCampaignCost, LaunchCampaign, RecordCampaignResponse,
    SendCampaignTouch,
};
use crate::events::{
    CampaignClosed, CampaignCostIncurred, CampaignLaunched, CampaignResponded, CampaignTouchSent,
    Event,
};
use crate::ids::{CampaignId, CustomerId};
use crate::kinds::CampaignResponse;
use crate::values::{Channel, Money, PolicyNumber};
use crate::{DomainError, ValidationError};

const KIND: &str = "campaign";

/// Whether a campaign runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CampaignStatus {
    Running,
    Closed,
}

impl fmt::Display for CampaignStatus {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(match self {
            Self::Running => "running",
            Self::Closed => "closed",
        })
    }
}

/// A campaign's state and running figures.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Campaign {
    state: Option<State>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct State {
    id: CampaignId,
    status: CampaignStatus,
    budget: Money,
    channels: Vec<Channel>,
    total_cost: Money,
    touches: u64,
    responses: u64,
    premium_won: Money,
    /// Policies a PURCHASED response named: each is won once.
    purchased: BTreeSet<PolicyNumber>,
}

impl Campaign {
    pub fn status(&self) -> Option<CampaignStatus> {
        self.state.as_ref().map(|state| state.status)
    }

    /// The total cost so far, in fen.
    pub fn total_cost(&self) -> Option<Money> {
        self.state.as_ref().map(|state| state.total_cost)
    }

    /// The premium won so far, in fen.
    pub fn premium_won(&self) -> Option<Money> {
        self.state.as_ref().map(|state| state.premium_won)
    }

    /// The launched campaign `campaign_id`, if it still runs (for `action`).
    fn running(
        &self,
        campaign_id: CampaignId,
        action: &'static str,
    ) -> Result<&State, DomainError> {
        let state = self.launched(campaign_id)?;
        still_running(campaign_id, state.status, action)?;
        Ok(state)
    }

    fn launched(&self, campaign_id: CampaignId) -> Result<&State, DomainError> {
        self.state
            .as_ref()
            .ok_or_else(|| not_found(KIND, campaign_id))
    }

    fn launch(&self, command: &LaunchCampaign) -> Result<Vec<Event>, DomainError> {
        if self.state.is_some() {
            return Err(already_exists(KIND, command.campaign_id));
        }
        emit(CampaignLaunched {
            campaign_id: command.campaign_id,
            name: command.name.clone(),
            budget: command.budget,
            channels: command.channels.clone(),
            target_segment: command.target_segment.clone(),
            period_start: command.period_start,
            period_end: command.period_end,
            owner: command.owner.clone(),
            description: command.description.clone(),
        })
    }

    fn incur_cost(&self, command: &IncurCampaignCost) -> Result<Vec<Event>, DomainError> {
        let state = self.running(command.campaign_id, INCUR_A_COST)?;
        let figures = cost_figures(state.total_cost, command.amount, state.budget)?;
        emit(CampaignCostIncurred {
            campaign_id: command.campaign_id,
            amount: command.amount,
            category: command.category,
            description: command.description.clone(),
            total_cost: figures.total_cost,
            over_budget: figures.over_budget,
        })
    }

    fn send_touch(
        &self,
        command: &SendCampaignTouch,
        context: &dyn DecisionContext,
    ) -> Result<Vec<Event>, DomainError> {
        let state = self.running(command.campaign_id, SEND_A_TOUCH)?;
        on_its_channels(&state.channels, command.channel)?;
        consented_to(command.customer_id, command.channel, context)?;
        emit(CampaignTouchSent {
            campaign_id: command.campaign_id,
            customer_id: command.customer_id,
            channel: command.channel,
            agent: command.agent.clone(),
            contact_id: command.contact_id,
        })
    }

    fn record_response(
        &self,
        command: &RecordCampaignResponse,
        context: &dyn DecisionContext,
    ) -> Result<Vec<Event>, DomainError> {
        let state = self.launched(command.campaign_id)?;
        purchase_names_its_policy(command.response, command.policy_number.as_ref())?;
        match &command.policy_number {
            Some(number) if command.response == CampaignResponse::Purchased => purchase_of(
                command.campaign_id,
                number,
                command.customer_id,
                command.premium_won,
                state.purchased.contains(number),
                context,
            )?,
            Some(number) => {
                customers_policy(number, command.customer_id, RESPONDING_CUSTOMER, context)?;
            }
            None => {}
        }
        emit(CampaignResponded {
            campaign_id: command.campaign_id,
            customer_id: command.customer_id,
            response: command.response,
            channel: command.channel,
            premium_won: command.premium_won,
            policy_number: command.policy_number.clone(),
        })
    }

    fn close(&self, command: &CloseCampaign) -> Result<Vec<Event>, DomainError> {
        let state = self.running(command.campaign_id, CLOSE)?;
        emit(CampaignClosed {
            campaign_id: command.campaign_id,
            budget: state.budget,
            total_cost: state.total_cost,
            touches: state.touches,
            responses: state.responses,
            premium_won: state.premium_won,
            summary: command.summary.clone(),
        })
    }
}

/// A channel as the API and the event schemas spell it (`WECHAT`), for messages.
fn channel_name(channel: Channel) -> String {
    match serde_json::to_value(channel) {
        Ok(serde_json::Value::String(name)) => name,
        _ => format!("{channel:?}"),
    }
}

/// The actions recorded only while a campaign runs, as its refusal names them ("cannot send a
/// touch for campaign … while it is closed").
pub const SEND_A_TOUCH: &str = "send a touch for";
pub const INCUR_A_COST: &str = "incur a cost on";
pub const CLOSE: &str = "close";

/// Costs, touches and the close are recorded only while the campaign runs: `status` is
/// `campaign_id`'s, and `action` one of [`SEND_A_TOUCH`], [`INCUR_A_COST`], [`CLOSE`]. (Also the
/// import's rule, `ledger-server`'s `import_rules`.)
pub fn still_running(
    campaign_id: CampaignId,
    status: CampaignStatus,
    action: &'static str,
) -> Result<(), DomainError> {
    if status != CampaignStatus::Running {
        return Err(invalid_transition(KIND, campaign_id, action, status));
    }
    Ok(())
}

/// A touch uses one of the campaign's `channels`. (Also the import's rule.)
pub fn on_its_channels(channels: &[Channel], channel: Channel) -> Result<(), DomainError> {
    if !channels.contains(&channel) {
        return Err(
            ValidationError::new("channel", "a touch uses one of the campaign's channels").into(),
        );
    }
    Ok(())
}

/// The figures a cost carries, as the campaign records them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CostFigures {
    /// The campaign's total cost with this one, in fen.
    pub total_cost: Money,
    /// Whether that total exceeds the budget.
    pub over_budget: bool,
}

/// The figures of a cost of `amount` on a campaign whose costs so far total `total_cost`
/// against `budget`: the campaign computes them, a caller does not state them. (Also the
/// import's rule on a cost line's `totalCost` and `overBudget`, `ledger-server`'s
/// `import_rules`.)
pub fn cost_figures(
    total_cost: Money,
    amount: Money,
    budget: Money,
) -> Result<CostFigures, DomainError> {
    let Some(total_cost) = total_cost.checked_add(amount) else {
        return Err(
            ValidationError::new("amount", "the campaign's total cost would overflow").into(),
        );
    };
    Ok(CostFigures {
        total_cost,
        over_budget: total_cost > budget,
    })
}

/// Who the rules on a response's policy call its customer.
pub const RESPONDING_CUSTOMER: &str = "the responding customer";

/// A touch goes only on a channel `customer` consented to marketing on: consent is opt-in, so
/// a channel never granted (or withdrawn) is refused. A context that cannot tell does not
/// check. (Also the import's rule for a touch, `ledger-server`'s `import_rules`.)
pub fn consented_to(
    customer: CustomerId,
    channel: Channel,
    context: &dyn DecisionContext,
) -> Result<(), DomainError> {
    if context.marketing_consent(customer, channel) == Some(false) {
        return Err(ValidationError::new(
            "channel",
            format!(
                "a touch goes only on a channel the customer consented to marketing on \
                 (opt-in: granted with changeConsent); customer {customer} has not consented to {}",
                channel_name(channel)
            ),
        )
        .into());
    }
    Ok(())
}

/// A `PURCHASED` response names the policy bought (`policy_number`), since its premium counts
/// as won.
pub fn purchase_names_its_policy(
    response: CampaignResponse,
    policy_number: Option<&PolicyNumber>,
) -> Result<(), DomainError> {
    if response == CampaignResponse::Purchased && policy_number.is_none() {
        return Err(ValidationError::new(
            "policyNumber",
            "a PURCHASED response names the policy bought, whose premium it wins",
        )
        .into());
    }
    Ok(())
}

/// The rules of a PURCHASED response in `campaign` of `customer` naming `number` for
/// `premium_won`: the policy was issued to the responding customer (or a customer merged with
/// them), it is won once in a campaign (`already_bought`: an earlier PURCHASED response of the
/// campaign named it), its current sale is not credited to another campaign (a sale is won in
/// one campaign), and the premium won is its premium, when the context knows it.
pub fn purchase_of(
    campaign: CampaignId,
    number: &PolicyNumber,
    customer: CustomerId,
    premium_won: Money,
    already_bought: bool,
    context: &dyn DecisionContext,
) -> Result<(), DomainError> {
    let policy = issued_policy(number, customer, RESPONDING_CUSTOMER, context)?;
    if already_bought {
        return Err(ValidationError::new(
            "policyNumber",
            format!("a policy is won once in a campaign; {number} was already recorded as bought"),
        )
        .into());
    }
    let sold_through = policy.as_ref().and_then(|policy| policy.sold_through);
    credited_elsewhere(campaign, number, sold_through, context)?;
    if let Some(premium) = policy.and_then(|policy| policy.premium)
        && premium != premium_won
    {
        return Err(ValidationError::new(
            "premiumWon",
            format!(
                "the premium of the policy bought: {number} is for {} fen",
                premium.fen()
            ),
        )
        .into());
    }
    Ok(())
}

/// A sale is won in one campaign: refuses a purchase in `campaign` of the policy `number` whose
/// current sale is another campaign's. The campaign its issue or latest renewal named
/// (`sold_through`) is the sale's, as the marketing read model counts it (the policy system is
/// the record of the sale); when that event named none, the campaign whose PURCHASED response
/// first named the policy since, which the context tells. A purchase in the sale's own
/// campaign is the same sale again and passes (counted once).
fn credited_elsewhere(
    campaign: CampaignId,
    number: &PolicyNumber,
    sold_through: Option<CampaignId>,
    context: &dyn DecisionContext,
) -> Result<(), DomainError> {
    let credited = sold_through.or_else(|| context.sale_credited_to(number));
    match credited {
        Some(credited) if credited != campaign => Err(ValidationError::new(
            "policyNumber",
            format!(
                "policy {number}'s sale is already credited to campaign {credited}; a sale is \
                 won in one campaign"
            ),
        )
        .into()),
        _ => Ok(()),
    }
}

impl Aggregate for Campaign {
    type Command = CampaignCommand;
    const CATEGORY: &'static str = "campaign";

    fn apply(&mut self, event: &Event) {
        if let Event::CampaignLaunched(launched) = event {
            if self
                .state
                .as_ref()
                .is_some_and(|state| state.id != launched.campaign_id)
            {
                return;
            }
            self.state = Some(State {
                id: launched.campaign_id,
                status: CampaignStatus::Running,
                budget: launched.budget,
                channels: launched.channels.clone(),
                total_cost: Money::ZERO,
                touches: 0,
                responses: 0,
                premium_won: Money::ZERO,
                purchased: BTreeSet::new(),
            });
            return;
        }
        let Some(state) = self.state.as_mut() else {
            return;
        };
        match event {
            Event::CampaignCostIncurred(cost) if cost.campaign_id == state.id => {
                state.total_cost = cost.total_cost;
            }
            Event::CampaignTouchSent(touch) if touch.campaign_id == state.id => {
                state.touches = state.touches.saturating_add(1);
            }
            Event::CampaignResponded(response) if response.campaign_id == state.id => {
                state.responses = state.responses.saturating_add(1);
                if response.response == CampaignResponse::Purchased
                    && let Some(number) = &response.policy_number
                {
                    state.purchased.insert(number.clone());
                }
                // Beyond i64 fen (92 quadrillion yuan) no campaign goes; saturate rather than
                // fail, since a fold cannot fail.
                state.premium_won = state
                    .premium_won
                    .checked_add(response.premium_won)
                    .unwrap_or(Money::from_fen(i64::MAX));
            }
            Event::CampaignClosed(closed) if closed.campaign_id == state.id => {
                state.status = CampaignStatus::Closed;
            }
            _ => {}
        }
    }

    fn handle(
        &self,
        command: &CampaignCommand,
        context: &dyn DecisionContext,
    ) -> Result<Vec<Event>, DomainError> {
        match command {
            CampaignCommand::LaunchCampaign(command) => self.launch(command),
            CampaignCommand::IncurCampaignCost(command) => self.incur_cost(command),
            CampaignCommand::SendCampaignTouch(command) => {
                new_business_for(command.customer_id, context)?;
                self.send_touch(command, context)
            }
            CampaignCommand::RecordCampaignResponse(command) => {
                new_business_for(command.customer_id, context)?;
                self.record_response(command, context)
            }
            CampaignCommand::CloseCampaign(command) => self.close(command),
        }
    }
}

#[cfg(test)]
mod tests;
