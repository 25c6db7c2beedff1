//! What the marketing projection stores and returns: campaigns with their running figures,
//! online enquiries with their call-back state, and the figures derived from them at query
//! time (status, ROI, cost per conversion, an enquiry's age).
//!
//! Money is integer fen throughout. Nothing stored is a float; the ratios are returned as
//! exact fractions with a rounded integer beside them.

use std::collections::BTreeMap;

use jiff::civil::Date;
use jiff::tz::{self, TimeZone};
use jiff::{SignedDuration, Timestamp};
use ledger_domain::ids::{CampaignId, CustomerId, EnquiryId, Position, StaffId};
use ledger_domain::kinds::{CampaignResponse, ProductLine, SegmentName, Title};
use ledger_domain::values::{Channel, Money};
use serde::{Deserialize, Serialize};

/// Beijing time, UTC+8 all year (China has had no daylight saving time since 1991): the
/// calendar campaign periods are written in.
pub(crate) fn beijing_date(at: Timestamp) -> Date {
    at.to_zoned(TimeZone::fixed(tz::offset(8))).date()
}

/// One campaign: its plan, its closing, and its figures as the log has them so far.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CampaignRecord {
    pub id: CampaignId,
    /// The plan from `CampaignLaunched`; `None` while the log only has facts attributed to a
    /// campaign it never saw launched (a policy naming an unknown campaign, say).
    pub plan: Option<CampaignPlan>,
    /// The feedback stage's closing, from `CampaignClosed`.
    pub closing: Option<CampaignClosing>,
    /// The cost to date, in fen: the running total the last `CampaignCostIncurred` carried.
    pub cost: Money,
    /// How many cost entries were recorded.
    pub cost_entries: u64,
    /// Touches sent (`CampaignTouchSent`), in all and per channel.
    pub touches: u64,
    pub touches_by_channel: BTreeMap<Channel, u64>,
    /// Responses (`CampaignResponded`), in all and per kind of response.
    pub responses: u64,
    pub responses_by_kind: BTreeMap<CampaignResponse, u64>,
    /// Policies issued or renewed attributed to the campaign (see the crate docs for how a
    /// purchase response and a policy event for the same policy count once).
    pub conversions: u64,
    /// The premium of those conversions, in fen: gross, as written, before any refund.
    pub premium_won: Money,
    /// Of those conversions, how many were cancelled later (`PolicyCancelled` of a policy whose
    /// latest sale the campaign is credited with).
    pub cancellations: u64,
    /// The premium those cancellations returned to the customers, in fen (each refund at most
    /// the premium the sale won). `premium_won − premium_refunded` is the premium the campaign
    /// kept, which ROI is computed on.
    pub premium_refunded: Money,
    /// Online enquiries that name the campaign, and how many of them await a call-back.
    pub enquiries: u64,
    pub enquiries_awaiting_callback: u64,
}

/// A campaign's plan, as launched.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CampaignPlan {
    pub name: Title,
    /// In fen.
    pub budget: Money,
    pub channels: Vec<Channel>,
    pub target_segment: SegmentName,
    /// First and last day of the period, both inclusive, in Beijing time.
    pub period_start: Date,
    pub period_end: Date,
    pub owner: StaffId,
    pub launched_at: Timestamp,
}

/// The figures `CampaignClosed` carried, as the campaign aggregate counted them at closing.
/// Kept beside the projection's own figures so the two can be compared; responses (and the
/// premium they win) may still arrive after closing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CampaignClosing {
    pub closed_at: Timestamp,
    pub total_cost: Money,
    pub touches: u64,
    pub responses: u64,
    pub premium_won: Money,
}

/// Where a campaign is in plan → execution → feedback, as seen at a given moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CampaignStatus {
    /// The log has facts attributed to the campaign but not its launch.
    NotLaunched,
    /// Launched, and its period has not started yet (Beijing date before `period_start`).
    Planned,
    /// Launched, its period started, not closed yet (also past `period_end`: a campaign is
    /// executing until its feedback is closed).
    Executing,
    /// Closed: the feedback stage. Late responses still count.
    Closed,
}

/// Return on investment as an exact fraction: `(premium won − premium refunded − cost) /
/// cost`, the premium the campaign kept against what it cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Roi {
    /// Premium kept (won minus refunded) minus cost, in fen. Each term is an `i64` of fen, so
    /// the difference is exact in `i128`.
    pub net_fen: i128,
    /// The cost, in fen; always more than zero.
    pub cost_fen: i64,
}

impl Roi {
    /// The ROI in basis points (1/100 of a percent), rounded down (towards negative
    /// infinity): an ROI of exactly 150% is 15,000. Exact, never saturated: a net of at most
    /// 2^65 fen times 10,000 fits an `i128` with room to spare, and a campaign that cost one
    /// fen can have an ROI far beyond an `i64` of basis points' worth of percent.
    pub fn basis_points(&self) -> i128 {
        let scaled = self.net_fen * 10_000;
        scaled.div_euclid(i128::from(self.cost_fen))
    }
}

impl CampaignRecord {
    pub(crate) fn new(id: CampaignId) -> Self {
        Self {
            id,
            plan: None,
            closing: None,
            cost: Money::ZERO,
            cost_entries: 0,
            touches: 0,
            touches_by_channel: BTreeMap::new(),
            responses: 0,
            responses_by_kind: BTreeMap::new(),
            conversions: 0,
            premium_won: Money::ZERO,
            cancellations: 0,
            premium_refunded: Money::ZERO,
            enquiries: 0,
            enquiries_awaiting_callback: 0,
        }
    }

    /// The campaign's stage at `now`.
    pub fn status(&self, now: Timestamp) -> CampaignStatus {
        match (&self.plan, &self.closing) {
            (_, Some(_)) => CampaignStatus::Closed,
            (None, None) => CampaignStatus::NotLaunched,
            (Some(plan), None) if beijing_date(now) < plan.period_start => CampaignStatus::Planned,
            (Some(_), None) => CampaignStatus::Executing,
        }
    }

    /// The premium the campaign kept: won minus refunded on cancellation, in fen.
    pub fn premium_kept(&self) -> Money {
        Money::from_fen(
            self.premium_won
                .fen()
                .saturating_sub(self.premium_refunded.fen()),
        )
    }

    /// `(premium won − premium refunded − cost) / cost`, or `None` while nothing was spent.
    pub fn roi(&self) -> Option<Roi> {
        (self.cost.fen() > 0).then(|| Roi {
            net_fen: i128::from(self.premium_won.fen())
                - i128::from(self.premium_refunded.fen())
                - i128::from(self.cost.fen()),
            cost_fen: self.cost.fen(),
        })
    }

    /// Cost divided by conversions, in fen rounded down, or `None` before the first
    /// conversion. The exact value is `cost / conversions`.
    pub fn cost_per_conversion(&self) -> Option<Money> {
        let conversions = i64::try_from(self.conversions).ok()?;
        (conversions > 0).then(|| Money::from_fen(self.cost.fen().div_euclid(conversions)))
    }

    /// Budget minus cost, in fen (negative when over budget); `None` before the launch.
    pub fn budget_remaining(&self) -> Option<Money> {
        let plan = self.plan.as_ref()?;
        Some(Money::from_fen(
            plan.budget.fen().saturating_sub(self.cost.fen()),
        ))
    }
}

/// One online enquiry from the web shop, app or WeChat. Personal data the enquiry carried
/// (name, mobile, plate, message) is not copied here: it is sealed under the customer's key in
/// the log, and `received_position` lets a reader fetch it from there, where erasure holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnquiryRecord {
    pub id: EnquiryId,
    pub customer: Option<CustomerId>,
    pub campaign: Option<CampaignId>,
    pub channel: Channel,
    pub product_lines: Vec<ProductLine>,
    pub received_at: Timestamp,
    /// The log position of its `OnlineEnquiryReceived`.
    pub received_position: Position,
    /// Outbound contacts that name the enquiry (call-backs, answered or not).
    pub callbacks: u64,
    /// When the first of them started.
    pub first_callback_at: Option<Timestamp>,
    /// When its personal data was erased (its own `EnquiryErased`, or the `CustomerErased` of
    /// the customer who sent it or whose contact named it): nobody is to call it back.
    pub erased_at: Option<Timestamp>,
}

impl EnquiryRecord {
    /// Whether the enquiry waits for a call-back: nobody has called it back yet and its
    /// personal data is not erased.
    pub fn awaiting_callback(&self) -> bool {
        self.callbacks == 0 && self.erased_at.is_none()
    }
}

/// An enquiry in the call-back queue with how long it has waited at the reader's `now`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuedEnquiry {
    pub enquiry: EnquiryRecord,
    /// `now − received_at`; never negative, since the queue shows only enquiries received at
    /// or before `now`.
    pub age: SignedDuration,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basis_points_round_down_and_never_saturate() {
        let roi = |net_fen, cost_fen| Roi { net_fen, cost_fen }.basis_points();
        assert_eq!(roi(150, 100), 15_000);
        assert_eq!(roi(1, 3), 3_333);
        assert_eq!(roi(-1, 3), -3_334);
        assert_eq!(roi(-100, 100), -10_000);
        // Far beyond i64 basis points, and exact.
        assert_eq!(roi(i128::from(i64::MAX), 1), i128::from(i64::MAX) * 10_000);
    }

    #[test]
    fn roi_is_on_the_premium_kept_after_refunds() {
        let mut record = CampaignRecord::new(
            CampaignId::parse("", "0190a5e2-8c3b-7d4e-9f00-000000000101").unwrap(),
        );
        record.cost = Money::from_fen(100_000);
        record.premium_won = Money::from_fen(500_000);
        record.premium_refunded = Money::from_fen(300_000);
        assert_eq!(record.premium_kept(), Money::from_fen(200_000));
        assert_eq!(record.roi().map(|roi| roi.basis_points()), Some(10_000));
    }
}
