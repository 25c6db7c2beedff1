//! Events of the policy stream (`policy-{number}`): the policy life cycle from quote to issue,
//! renewal, endorsement, lapse and cancellation (seed 4.2.1 ①).
//!
//! A period is two calendar days, both inclusive, as on a Chinese policy ("from 0:00 on the
//! start day to 24:00 on the end day"); a renewal starts after the current period's last day.

use jiff::civil::Date;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{Validate, distinct_list, non_negative, period, personal, policy_stream, routing};
use crate::ValidationError;
use crate::ids::{CampaignId, CustomerId};
use crate::kinds::{CancellationReason, ProductLine};
use crate::values::{Channel, FreeText, Money, Plate, PolicyNumber, Vin};

/// A quote was given. It is recorded under the policy number the policy will have if issued.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PolicyQuoted {
    pub policy_number: PolicyNumber,
    pub customer_id: CustomerId,
    pub product_lines: Vec<ProductLine>,
    pub plate: Plate,
    pub vin: Vin,
    /// The premium quoted, in fen.
    pub premium: Money,
    pub period_start: Date,
    pub period_end: Date,
    pub sales_channel: Channel,
    #[serde(default)]
    pub campaign_id: Option<CampaignId>,
    /// The last day the quote may be accepted.
    pub valid_until: Date,
}

/// A policy was issued and is in force for its period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PolicyIssued {
    pub policy_number: PolicyNumber,
    pub customer_id: CustomerId,
    pub product_lines: Vec<ProductLine>,
    pub plate: Plate,
    pub vin: Vin,
    /// The premium written, in fen.
    pub premium: Money,
    pub period_start: Date,
    pub period_end: Date,
    pub sales_channel: Channel,
    /// The campaign that won the sale, for campaign cost against premium won.
    #[serde(default)]
    pub campaign_id: Option<CampaignId>,
}

/// The policy was renewed (续保) for a new period under the same number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PolicyRenewed {
    pub policy_number: PolicyNumber,
    pub customer_id: CustomerId,
    pub product_lines: Vec<ProductLine>,
    /// The new period's premium, in fen.
    pub premium: Money,
    /// The premium of the period before, so premium change needs no lookup.
    pub previous_premium: Money,
    pub period_start: Date,
    pub period_end: Date,
    pub sales_channel: Channel,
    #[serde(default)]
    pub campaign_id: Option<CampaignId>,
}

/// The policy was changed during its period (批改): a new plate, other product lines, a premium
/// adjustment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PolicyEndorsed {
    pub policy_number: PolicyNumber,
    pub customer_id: CustomerId,
    pub effective_on: Date,
    pub description: FreeText,
    /// The new plate, when the endorsement changed it.
    #[serde(default)]
    pub plate: Option<Plate>,
    /// The new set of product lines, when the endorsement changed them.
    #[serde(default)]
    pub product_lines: Option<Vec<ProductLine>>,
    /// The premium added (positive) or refunded (negative), in fen.
    pub premium_change: Money,
    /// The policy's premium after the endorsement, in fen.
    pub premium: Money,
}

/// The policy's period ended without renewal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PolicyLapsed {
    pub policy_number: PolicyNumber,
    pub customer_id: CustomerId,
    pub lapsed_on: Date,
}

/// The policy was cancelled before the end of its period (退保).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PolicyCancelled {
    pub policy_number: PolicyNumber,
    pub customer_id: CustomerId,
    pub cancelled_on: Date,
    pub reason: CancellationReason,
    /// The premium returned to the customer, in fen.
    pub refund: Money,
}

routing!(
    PolicyQuoted, PolicyIssued, PolicyRenewed, PolicyEndorsed, PolicyLapsed, PolicyCancelled
    => |event| policy_stream(&event.policy_number), vec![event.customer_id]
);

personal!(
    PolicyQuoted { plate, vin },
    PolicyIssued { plate, vin },
    PolicyRenewed {},
    PolicyEndorsed { description, plate },
    PolicyLapsed {},
    PolicyCancelled {},
);

impl Validate for PolicyLapsed {}

impl Validate for PolicyQuoted {
    fn validate(&self) -> Result<(), ValidationError> {
        terms(
            &self.product_lines,
            self.premium,
            self.period_start,
            self.period_end,
        )
    }
}

impl Validate for PolicyIssued {
    fn validate(&self) -> Result<(), ValidationError> {
        terms(
            &self.product_lines,
            self.premium,
            self.period_start,
            self.period_end,
        )
    }
}

impl Validate for PolicyRenewed {
    fn validate(&self) -> Result<(), ValidationError> {
        terms(
            &self.product_lines,
            self.premium,
            self.period_start,
            self.period_end,
        )?;
        non_negative("previousPremium", self.previous_premium)
    }
}

impl Validate for PolicyEndorsed {
    fn validate(&self) -> Result<(), ValidationError> {
        if let Some(lines) = &self.product_lines {
            distinct_list("productLines", lines, false, ProductLine::ALL.len())?;
        }
        // Added or refunded: its size is bounded as any amount is.
        let change = self.premium_change.fen().checked_abs().unwrap_or(i64::MAX);
        Money::at_most_max("premiumChange", change)?;
        non_negative("premium", self.premium)
    }
}

impl Validate for PolicyCancelled {
    fn validate(&self) -> Result<(), ValidationError> {
        non_negative("refund", self.refund)
    }
}

/// The rules every set of policy terms obeys: some product lines, none twice; a premium that
/// is not negative; a period that does not end before it starts.
fn terms(
    product_lines: &[ProductLine],
    premium: Money,
    period_start: Date,
    period_end: Date,
) -> Result<(), ValidationError> {
    distinct_list("productLines", product_lines, false, ProductLine::ALL.len())?;
    non_negative("premium", premium)?;
    period("periodEnd", period_start, period_end)
}
