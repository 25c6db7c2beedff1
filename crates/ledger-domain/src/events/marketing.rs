//! Marketing events: campaigns on the campaign stream (`campaign-{id}`), plan → execution →
//! feedback (seed 4.2.1 ①, ②), and online enquiries from the web shop awaiting a call-back
//! (`customer-{id}` when the customer is known, `enquiry-{id}` otherwise; see the module docs of
//! [`crate::events`] for why not the campaign's stream).

use jiff::civil::Date;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{
    Validate, distinct_list, non_negative, non_negative_total, period, personal, positive, routing,
};
use crate::ValidationError;
use crate::ids::{CampaignId, ContactId, CustomerId, EnquiryId, StaffId, StreamId};
use crate::kinds::{
    CampaignResponse, CostCategory, ErasureReason, ProductLine, SegmentName, Title,
};
use crate::values::{Channel, FreeText, Mobile, Money, PersonName, Plate, PolicyNumber};

/// A campaign was launched: its budget, channels, target segment and period (the plan).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CampaignLaunched {
    pub campaign_id: CampaignId,
    pub name: Title,
    /// The budget, in fen.
    pub budget: Money,
    /// The channels the campaign may touch customers on.
    pub channels: Vec<Channel>,
    /// The segment the campaign targets (`renewal-due`, `potential-value` ...).
    pub target_segment: SegmentName,
    pub period_start: Date,
    pub period_end: Date,
    pub owner: StaffId,
    #[serde(default)]
    pub description: Option<FreeText>,
}

/// Money was spent on the campaign. The running total and the budget check travel with it, so
/// cost against budget needs no recomputation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CampaignCostIncurred {
    pub campaign_id: CampaignId,
    /// This cost, in fen.
    pub amount: Money,
    pub category: CostCategory,
    pub description: FreeText,
    /// The campaign's total cost including this one, in fen.
    pub total_cost: Money,
    /// Whether the total now exceeds the budget.
    pub over_budget: bool,
}

/// The campaign reached a customer (an SMS, a call, a WeChat message ...).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CampaignTouchSent {
    pub campaign_id: CampaignId,
    pub customer_id: CustomerId,
    pub channel: Channel,
    /// The agent who made the touch, for calls and visits.
    #[serde(default)]
    pub agent: Option<StaffId>,
    /// The contact record of the touch, when it was a conversation.
    #[serde(default)]
    pub contact_id: Option<ContactId>,
}

/// A customer answered the campaign (the feedback). A purchase carries the premium won.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CampaignResponded {
    pub campaign_id: CampaignId,
    pub customer_id: CustomerId,
    pub response: CampaignResponse,
    pub channel: Channel,
    /// The premium won by this response, in fen; zero unless the customer purchased.
    pub premium_won: Money,
    /// The policy bought or renewed, for a purchase.
    #[serde(default)]
    pub policy_number: Option<PolicyNumber>,
}

/// The campaign ended; the figures as they stood at closing travel with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CampaignClosed {
    pub campaign_id: CampaignId,
    /// In fen.
    pub budget: Money,
    /// In fen.
    pub total_cost: Money,
    pub touches: u64,
    pub responses: u64,
    /// In fen.
    pub premium_won: Money,
    #[serde(default)]
    pub summary: Option<FreeText>,
}

/// A lead from the web shop (or app, or WeChat mini-program): someone asked to be called back.
/// It awaits a call-back until a `ContactRecorded` names its `enquiryId`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OnlineEnquiryReceived {
    pub enquiry_id: EnquiryId,
    /// The customer, when the web shop could tell who it was.
    #[serde(default)]
    pub customer_id: Option<CustomerId>,
    /// The campaign the lead came from.
    #[serde(default)]
    pub campaign_id: Option<CampaignId>,
    pub channel: Channel,
    #[serde(default)]
    pub name: Option<PersonName>,
    /// The number to call back.
    pub mobile: Mobile,
    #[serde(default)]
    pub plate: Option<Plate>,
    /// The product lines the person asked about (may be none).
    #[serde(default)]
    pub product_lines: Vec<ProductLine>,
    #[serde(default)]
    pub message: Option<FreeText>,
}

/// The personal data of an enquiry from someone the web shop could not identify is erased: the
/// enquiry's own key is destroyed (crypto-shredding), so the name, mobile, plate and message it
/// carried become unreadable while the hash chain still verifies, and it leaves the call-back
/// queue. Only on the enquiry's own stream (`enquiry-{id}`): an enquiry from a known customer is
/// sealed under the customer's key and erased with the customer (`CustomerErased`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EnquiryErased {
    pub enquiry_id: EnquiryId,
    pub reason: ErasureReason,
}

routing!(
    CampaignLaunched, CampaignCostIncurred, CampaignClosed
    => |event| StreamId::campaign(event.campaign_id), Vec::new()
);
routing!(
    CampaignTouchSent, CampaignResponded
    => |event| StreamId::campaign(event.campaign_id), vec![event.customer_id]
);
routing!(
    OnlineEnquiryReceived
    => |event| event.stream_id(), event.customer_id.into_iter().collect()
);
routing!(
    EnquiryErased
    => |event| enquiry_stream(event.enquiry_id, None), Vec::new()
);

personal!(
    CampaignLaunched {},
    CampaignCostIncurred {},
    CampaignTouchSent {},
    CampaignResponded {},
    CampaignClosed {},
    OnlineEnquiryReceived {
        name,
        mobile,
        plate,
        message
    },
    EnquiryErased {},
);

impl Validate for CampaignTouchSent {}

impl Validate for EnquiryErased {}

impl Validate for CampaignLaunched {
    fn validate(&self) -> Result<(), ValidationError> {
        non_negative("budget", self.budget)?;
        distinct_list("channels", &self.channels, false, Channel::ALL.len())?;
        period("periodEnd", self.period_start, self.period_end)
    }
}

impl Validate for CampaignCostIncurred {
    fn validate(&self) -> Result<(), ValidationError> {
        positive("amount", self.amount)?;
        non_negative_total("totalCost", self.total_cost)
    }
}

impl Validate for CampaignResponded {
    fn validate(&self) -> Result<(), ValidationError> {
        non_negative("premiumWon", self.premium_won)?;
        if self.response != CampaignResponse::Purchased && self.premium_won != Money::ZERO {
            return Err(ValidationError::new(
                "premiumWon",
                "only a PURCHASED response wins premium; it is 0 otherwise",
            ));
        }
        Ok(())
    }
}

impl Validate for CampaignClosed {
    fn validate(&self) -> Result<(), ValidationError> {
        non_negative("budget", self.budget)?;
        non_negative_total("totalCost", self.total_cost)?;
        non_negative_total("premiumWon", self.premium_won)
    }
}

impl Validate for OnlineEnquiryReceived {
    fn validate(&self) -> Result<(), ValidationError> {
        distinct_list(
            "productLines",
            &self.product_lines,
            true,
            ProductLine::ALL.len(),
        )
    }
}

impl OnlineEnquiryReceived {
    /// `customer-{id}` when the customer is known, `enquiry-{id}` otherwise.
    pub fn stream_id(&self) -> StreamId {
        enquiry_stream(self.enquiry_id, self.customer_id)
    }
}

/// The stream an online enquiry goes to: its customer's, or its own when nobody knows who
/// asked. Shared with the command so both always agree.
pub fn enquiry_stream(enquiry_id: EnquiryId, customer_id: Option<CustomerId>) -> StreamId {
    match customer_id {
        Some(customer_id) => StreamId::customer(customer_id),
        None => StreamId::of("enquiry", &enquiry_id)
            .expect("`enquiry-` and a hyphenated UUID make a valid stream id"),
    }
}
