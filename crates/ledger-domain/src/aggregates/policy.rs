//! The policy aggregate (`policy-{number}`): quote → in force → lapsed or cancelled, renewed
//! period after period.
//!
//! Rules:
//! - A quote is the first event of its policy number; quoting an existing policy is
//!   `AlreadyExists`. A policy is issued once, quoted first or not; issuing it again is
//!   `AlreadyExists`.
//! - A quote is valid until a day that is not yet past (Beijing days, by the decision's clock).
//!   Issuing under a quoted number issues that quote: to the customer it was quoted to (or one
//!   merged with it), and not after its `validUntil`.
//! - A quote, an issue or a renewal is for a premium above zero and a period of at most a year
//!   ([`POLICY_PERIOD_DAYS_MAX`]).
//! - Only an issued policy that was not cancelled is renewed (in force, or lapsed and won back);
//!   the new period starts after the current period's last day.
//! - Only a policy in force is endorsed, lapsed or cancelled. An endorsement takes effect within
//!   the period and cannot make the premium negative; a lapse is dated after the period's last
//!   day; a refund is at most the premium.
//!
//! What other streams may know of a policy (its holder and the periods it covered, for a claim
//! or contact that names it; its premium and the campaign its current period was sold through,
//! for a campaign's purchase response) is [`Policy::standing`]. A period's days are Beijing days
//! ([`BUSINESS_UTC_OFFSET_HOURS`]), as on a Chinese policy.

use std::fmt;

use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::{self, TimeZone};

use super::links::{new_business_for, number_not_held_by_another, same_customer};
use super::{
    Aggregate, CustomerStanding, DecisionContext, PolicyStanding, already_exists, emit,
    invalid_transition, not_found,
};
use crate::commands::{
    CancelPolicy, EndorsePolicy, IssuePolicy, LapsePolicy, PolicyCommand, QuotePolicy, RenewPolicy,
};
use crate::events::{
    Event, PolicyCancelled, PolicyEndorsed, PolicyIssued, PolicyLapsed, PolicyQuoted, PolicyRenewed,
};
use crate::ids::{CampaignId, CustomerId};
use crate::values::{Identifier, IdentifierKind, Money, PolicyNumber};
use crate::{DomainError, ValidationError};

const KIND: &str = "policy";

/// The business's offset from UTC, in hours: Beijing time, UTC+8 all year (China keeps no
/// daylight saving time). A policy's period runs "from 0:00 on the start day to 24:00 on the
/// end day" of this clock.
pub const BUSINESS_UTC_OFFSET_HOURS: i8 = 8;

/// The business (Beijing) calendar day of an instant.
pub fn business_date(at: Timestamp) -> Date {
    at.to_zoned(TimeZone::fixed(tz::offset(BUSINESS_UTC_OFFSET_HOURS)))
        .date()
}

/// One period of cover, both days inclusive, in business (Beijing) days.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PolicyPeriod {
    pub start: Date,
    pub end: Date,
}

impl PolicyPeriod {
    /// Whether the period covers the instant `at`: its Beijing day is within the period.
    pub fn covers(&self, at: Timestamp) -> bool {
        let day = business_date(at);
        self.start <= day && day <= self.end
    }
}

impl fmt::Display for PolicyPeriod {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{} to {}", self.start, self.end)
    }
}

/// The longest period a motor policy is written for, in days: a year (a leap year's 366).
/// 交强险 and commercial motor cover are annual; a short-term policy is shorter.
pub const POLICY_PERIOD_DAYS_MAX: i32 = 366;

/// The largest premium one policy (one vehicle's cover for a year) is written for: ¥10,000,000,
/// in fen. The costliest private cover is a few hundred thousand yuan; beyond this a number is
/// a typing error (fen for yuan, a digit too many), and one such policy would make its holder
/// the book's only key account.
pub const POLICY_PREMIUM_FEN_MAX: i64 = 1_000_000_000;

/// The terms a quote, an issue or a renewal writes: a premium to pay, for at most a year.
/// (Imported history is taken as recorded: the event's own rules only ask for a premium that is
/// not negative and a period that ends after it starts.)
fn premium_too_large(field: &str) -> ValidationError {
    ValidationError::new(
        field,
        format!(
            "a policy's premium is at most POLICY_PREMIUM_FEN_MAX = {POLICY_PREMIUM_FEN_MAX} fen (¥10,000,000)"
        ),
    )
}

fn written_terms(premium: Money, start: Date, end: Date) -> Result<(), DomainError> {
    if premium.fen() <= 0 {
        return Err(ValidationError::new("premium", "a premium is more than zero").into());
    }
    if premium.fen() > POLICY_PREMIUM_FEN_MAX {
        return Err(premium_too_large("premium").into());
    }
    let days = start
        .until(end)
        .map_or(i32::MAX, |span| span.get_days().saturating_add(1));
    if days > POLICY_PERIOD_DAYS_MAX {
        return Err(ValidationError::new(
            "periodEnd",
            format!(
                "a motor policy covers at most {POLICY_PERIOD_DAYS_MAX} days; {start} to {end} is \
                 {days}"
            ),
        )
        .into());
    }
    Ok(())
}

/// What a claim or contact naming an issued policy may know of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyFacts {
    /// The customer it was issued to.
    pub holder: CustomerId,
    /// Every period it was issued or renewed for, oldest first: a loss in an earlier period is
    /// still covered by that period when it is reported after the renewal.
    pub periods: Vec<PolicyPeriod>,
    /// Its current premium, when the context knows it.
    pub premium: Option<Money>,
    /// The campaign its current period was sold through, as its issue or latest renewal named
    /// it (`campaignId`): that sale is the campaign's, and a PURCHASED response of another
    /// campaign cannot win it. `None` when that event named no campaign.
    pub sold_through: Option<CampaignId>,
}

impl PolicyFacts {
    /// Whether one of the periods covers `at`.
    pub fn covers(&self, at: Timestamp) -> bool {
        self.periods.iter().any(|period| period.covers(at))
    }
}

/// Where a policy is in its life cycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyStatus {
    Quoted,
    InForce,
    Lapsed,
    Cancelled,
}

impl fmt::Display for PolicyStatus {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(match self {
            Self::Quoted => "quoted",
            Self::InForce => "in force",
            Self::Lapsed => "lapsed",
            Self::Cancelled => "cancelled",
        })
    }
}

/// A policy's state, as far as decisions need it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Policy {
    state: Option<State>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct State {
    number: PolicyNumber,
    customer_id: CustomerId,
    status: PolicyStatus,
    premium: Money,
    period_start: Date,
    period_end: Date,
    /// Every period issued or renewed, oldest first (none while only quoted). One a year:
    /// bounded by the policy's life.
    periods: Vec<PolicyPeriod>,
    /// The last day (Beijing) a quote may be issued on; `None` once issued.
    valid_until: Option<Date>,
    /// The campaign the current period was sold through, as its issue or latest renewal named
    /// it (a quote sells nothing yet).
    sold_through: Option<CampaignId>,
}

impl Policy {
    /// What a claim or contact naming this policy may know of it.
    pub fn standing(&self) -> PolicyStanding {
        match &self.state {
            None => PolicyStanding::Unknown,
            Some(state) if state.status == PolicyStatus::Quoted => PolicyStanding::Quoted {
                holder: state.customer_id,
            },
            Some(state) => PolicyStanding::Issued(PolicyFacts {
                holder: state.customer_id,
                periods: state.periods.clone(),
                premium: Some(state.premium),
                sold_through: state.sold_through,
            }),
        }
    }

    pub fn status(&self) -> Option<PolicyStatus> {
        self.state.as_ref().map(|state| state.status)
    }

    pub fn customer_id(&self) -> Option<CustomerId> {
        self.state.as_ref().map(|state| state.customer_id)
    }

    /// The current premium, in fen.
    pub fn premium(&self) -> Option<Money> {
        self.state.as_ref().map(|state| state.premium)
    }

    /// Refuses an issue of this policy to `customer`, at the context's `now`, that does not take
    /// up its quote (see [`quote_stands_for`]); nothing to refuse while it is not only quoted.
    /// `issuePolicy`'s rule on a quoted number, and the import's on a `PolicyIssued` line.
    pub fn issued_as_quoted(
        &self,
        customer: CustomerId,
        context: &dyn DecisionContext,
    ) -> Result<(), DomainError> {
        match &self.state {
            Some(state) if state.status == PolicyStatus::Quoted => {
                quote_stands_for(state, customer, context)
            }
            _ => Ok(()),
        }
    }

    /// The existing policy `number`, if its status is one of `allowed` for `action`.
    fn in_status(
        &self,
        number: &PolicyNumber,
        allowed: &[PolicyStatus],
        action: &'static str,
    ) -> Result<&State, DomainError> {
        let state = self.state.as_ref().ok_or_else(|| not_found(KIND, number))?;
        if !allowed.contains(&state.status) {
            return Err(invalid_transition(KIND, number, action, state.status));
        }
        Ok(state)
    }

    fn quote(
        &self,
        command: &QuotePolicy,
        context: &dyn DecisionContext,
    ) -> Result<Vec<Event>, DomainError> {
        if self.state.is_some() {
            return Err(already_exists(KIND, &command.policy_number));
        }
        quote_valid_until(command.valid_until, context.now())?;
        written_terms(command.premium, command.period_start, command.period_end)?;
        emit(PolicyQuoted {
            policy_number: command.policy_number.clone(),
            customer_id: command.customer_id,
            product_lines: command.product_lines.clone(),
            plate: command.plate.clone(),
            vin: command.vin.clone(),
            premium: command.premium,
            period_start: command.period_start,
            period_end: command.period_end,
            sales_channel: command.sales_channel,
            campaign_id: command.campaign_id,
            valid_until: command.valid_until,
        })
    }

    fn issue(
        &self,
        command: &IssuePolicy,
        context: &dyn DecisionContext,
    ) -> Result<Vec<Event>, DomainError> {
        if let Some(state) = &self.state
            && state.status != PolicyStatus::Quoted
        {
            return Err(already_exists(KIND, &command.policy_number));
        }
        self.issued_as_quoted(command.customer_id, context)?;
        written_terms(command.premium, command.period_start, command.period_end)?;
        emit(PolicyIssued {
            policy_number: command.policy_number.clone(),
            customer_id: command.customer_id,
            product_lines: command.product_lines.clone(),
            plate: command.plate.clone(),
            vin: command.vin.clone(),
            premium: command.premium,
            period_start: command.period_start,
            period_end: command.period_end,
            sales_channel: command.sales_channel,
            campaign_id: command.campaign_id,
        })
    }

    fn renew(&self, command: &RenewPolicy) -> Result<Vec<Event>, DomainError> {
        let allowed = [PolicyStatus::InForce, PolicyStatus::Lapsed];
        let state = self.in_status(&command.policy_number, &allowed, "renew")?;
        if command.period_start <= state.period_end {
            return Err(ValidationError::new(
                "periodStart",
                format!(
                    "a renewal starts after the current period's last day, {}",
                    state.period_end
                ),
            )
            .into());
        }
        written_terms(command.premium, command.period_start, command.period_end)?;
        emit(PolicyRenewed {
            policy_number: command.policy_number.clone(),
            customer_id: state.customer_id,
            product_lines: command.product_lines.clone(),
            premium: command.premium,
            previous_premium: state.premium,
            period_start: command.period_start,
            period_end: command.period_end,
            sales_channel: command.sales_channel,
            campaign_id: command.campaign_id,
        })
    }

    fn endorse(&self, command: &EndorsePolicy) -> Result<Vec<Event>, DomainError> {
        let state = self.in_status(&command.policy_number, &[PolicyStatus::InForce], "endorse")?;
        if command.effective_on < state.period_start || command.effective_on > state.period_end {
            return Err(ValidationError::new(
                "effectiveOn",
                format!(
                    "an endorsement takes effect within the period {} to {}",
                    state.period_start, state.period_end
                ),
            )
            .into());
        }
        let premium = state.premium.checked_add(command.premium_change);
        let Some(premium) = premium.filter(|premium| premium.fen() >= 0) else {
            return Err(ValidationError::new(
                "premiumChange",
                format!(
                    "the change would take the premium of {} fen below zero",
                    state.premium.fen()
                ),
            )
            .into());
        };
        if premium.fen() > POLICY_PREMIUM_FEN_MAX {
            return Err(premium_too_large("premiumChange").into());
        }
        emit(PolicyEndorsed {
            policy_number: command.policy_number.clone(),
            customer_id: state.customer_id,
            effective_on: command.effective_on,
            description: command.description.clone(),
            plate: command.plate.clone(),
            product_lines: command.product_lines.clone(),
            premium_change: command.premium_change,
            premium,
        })
    }

    fn lapse(&self, command: &LapsePolicy) -> Result<Vec<Event>, DomainError> {
        let state = self.in_status(&command.policy_number, &[PolicyStatus::InForce], "lapse")?;
        if command.lapsed_on <= state.period_end {
            return Err(ValidationError::new(
                "lapsedOn",
                format!(
                    "a policy lapses after its period's last day, {}",
                    state.period_end
                ),
            )
            .into());
        }
        emit(PolicyLapsed {
            policy_number: command.policy_number.clone(),
            customer_id: state.customer_id,
            lapsed_on: command.lapsed_on,
        })
    }

    fn cancel(&self, command: &CancelPolicy) -> Result<Vec<Event>, DomainError> {
        let state = self.in_status(&command.policy_number, &[PolicyStatus::InForce], "cancel")?;
        // The first day without cover falls in a period of the policy, or the day after its
        // last: a cancellation dated before the policy began cancels nothing that was.
        let within = state.periods.iter().any(|period| {
            period.start <= command.cancelled_on
                && period
                    .end
                    .tomorrow()
                    .is_ok_and(|after| command.cancelled_on <= after)
        });
        if !within {
            let periods: Vec<String> = state.periods.iter().map(ToString::to_string).collect();
            return Err(ValidationError::new(
                "cancelledOn",
                format!(
                    "a cancellation takes effect within the policy's cover ({}), not on {}",
                    periods.join(", "),
                    command.cancelled_on
                ),
            )
            .into());
        }
        if command.refund > state.premium {
            return Err(ValidationError::new(
                "refund",
                format!(
                    "a refund is at most the premium, {} fen",
                    state.premium.fen()
                ),
            )
            .into());
        }
        emit(PolicyCancelled {
            policy_number: command.policy_number.clone(),
            customer_id: state.customer_id,
            cancelled_on: command.cancelled_on,
            reason: command.reason,
            refund: command.refund,
        })
    }
}

/// Refuses to issue the quote `state` to another customer than the one it was quoted to (or a
/// customer merged with it), or after its last valid day: an issue under a quoted number is
/// that quote taken up, and the number is the quoted customer's to find them by.
fn quote_stands_for(
    state: &State,
    customer: CustomerId,
    context: &dyn DecisionContext,
) -> Result<(), DomainError> {
    let number = &state.number;
    if !same_customer(state.customer_id, customer, context) {
        return Err(ValidationError::new(
            "customerId",
            format!(
                "policy {number} was quoted to customer {}: it is issued to that customer (or a \
                 customer merged with it), not to {customer}",
                state.customer_id
            ),
        )
        .into());
    }
    let today = business_date(context.now());
    if let Some(valid_until) = state.valid_until
        && valid_until < today
    {
        return Err(ValidationError::new(
            "policyNumber",
            format!(
                "the quote of {number} expired: its validUntil was {valid_until} and today is \
                 {today} (Beijing); quote it again under a new policy number"
            ),
        )
        .into());
    }
    Ok(())
}

/// Refuses a quote valid until a day already past at `now` (Beijing days): `quotePolicy`'s
/// rule, and the import's on a `PolicyQuoted` line, dated by its `occurredAt`.
pub fn quote_valid_until(valid_until: Date, now: Timestamp) -> Result<(), DomainError> {
    let today = business_date(now);
    if valid_until < today {
        return Err(ValidationError::new(
            "validUntil",
            format!(
                "a quote is valid until today ({today}, Beijing) or a later day, not {valid_until}"
            ),
        )
        .into());
    }
    Ok(())
}

/// Refuses a policy number another customer holds as a registered identifier (see
/// [`number_not_held_by_another`]).
fn number_is_theirs(
    number: &PolicyNumber,
    customer: CustomerId,
    context: &dyn DecisionContext,
) -> Result<(), DomainError> {
    let identifier = Identifier::parse(
        "policyNumber",
        IdentifierKind::PolicyNumber,
        number.as_str(),
    )?;
    number_not_held_by_another(&identifier, customer, context)
}

impl Aggregate for Policy {
    type Command = PolicyCommand;
    const CATEGORY: &'static str = "policy";

    fn apply(&mut self, event: &Event) {
        let terms = match event {
            Event::PolicyQuoted(quoted) => Some((
                &quoted.policy_number,
                quoted.customer_id,
                PolicyStatus::Quoted,
                quoted.premium,
                quoted.period_start,
                quoted.period_end,
            )),
            Event::PolicyIssued(issued) => Some((
                &issued.policy_number,
                issued.customer_id,
                PolicyStatus::InForce,
                issued.premium,
                issued.period_start,
                issued.period_end,
            )),
            _ => None,
        };
        if let Some((number, customer_id, status, premium, period_start, period_end)) = terms {
            if self
                .state
                .as_ref()
                .is_some_and(|state| state.number != *number)
            {
                return;
            }
            let number = number.clone();
            let periods = if status == PolicyStatus::Quoted {
                Vec::new()
            } else {
                vec![PolicyPeriod {
                    start: period_start,
                    end: period_end,
                }]
            };
            let valid_until = match event {
                Event::PolicyQuoted(quoted) => Some(quoted.valid_until),
                _ => None,
            };
            let sold_through = match event {
                Event::PolicyIssued(issued) => issued.campaign_id,
                _ => None,
            };
            self.state = Some(State {
                number,
                customer_id,
                status,
                premium,
                period_start,
                period_end,
                periods,
                valid_until,
                sold_through,
            });
            return;
        }
        let Some(state) = self.state.as_mut() else {
            return;
        };
        match event {
            Event::PolicyRenewed(renewed) if renewed.policy_number == state.number => {
                state.status = PolicyStatus::InForce;
                state.premium = renewed.premium;
                state.sold_through = renewed.campaign_id;
                state.period_start = renewed.period_start;
                state.period_end = renewed.period_end;
                state.periods.push(PolicyPeriod {
                    start: renewed.period_start,
                    end: renewed.period_end,
                });
            }
            Event::PolicyEndorsed(endorsed) if endorsed.policy_number == state.number => {
                state.premium = endorsed.premium;
            }
            Event::PolicyLapsed(lapsed) if lapsed.policy_number == state.number => {
                state.status = PolicyStatus::Lapsed;
            }
            Event::PolicyCancelled(cancelled) if cancelled.policy_number == state.number => {
                state.status = PolicyStatus::Cancelled;
                // No cover from the cancellation day on: a period it cuts ends the day before,
                // one it precedes (a renewal ahead of time) never begins.
                let ended = cancelled.cancelled_on.yesterday().unwrap_or(Date::MIN);
                state.periods.retain(|period| period.start <= ended);
                for period in &mut state.periods {
                    period.end = period.end.min(ended);
                }
            }
            _ => {}
        }
    }

    fn handle(
        &self,
        command: &PolicyCommand,
        context: &dyn DecisionContext,
    ) -> Result<Vec<Event>, DomainError> {
        match command {
            PolicyCommand::QuotePolicy(command) => {
                new_business_for(command.customer_id, context)?;
                number_is_theirs(&command.policy_number, command.customer_id, context)?;
                self.quote(command, context)
            }
            PolicyCommand::IssuePolicy(command) => {
                new_business_for(command.customer_id, context)?;
                number_is_theirs(&command.policy_number, command.customer_id, context)?;
                self.issue(command, context)
            }
            PolicyCommand::RenewPolicy(command) => {
                // A renewal is new business: not for someone whose data was erased (nobody
                // could be told of it, and nothing personal could be sealed for it).
                if let Some(holder) = self.customer_id()
                    && context.customer_standing(holder) == Some(CustomerStanding::Erased)
                {
                    return Err(DomainError::CustomerErased {
                        customer: holder.to_string(),
                    });
                }
                self.renew(command)
            }
            PolicyCommand::EndorsePolicy(command) => self.endorse(command),
            PolicyCommand::LapsePolicy(command) => self.lapse(command),
            PolicyCommand::CancelPolicy(command) => self.cancel(command),
        }
    }
}

#[cfg(test)]
mod tests;
