//! Tests of the projection, given / when / then: given hand-made events (the real payload
//! structs, in envelopes with increasing positions), the records, figures and pages the
//! projection builds; and sane figures over a realistic synthetic history.

mod callbacks;
mod campaigns;
mod determinism;
mod enquiry_customers;
mod synthetic;

use jiff::Timestamp;
use jiff::civil::Date;
use ledger_domain::events::{
    CampaignCostIncurred, CampaignLaunched, CampaignResponded, CampaignTouchSent, ContactRecorded,
    Event, OnlineEnquiryReceived, PolicyIssued,
};
use ledger_domain::ids::{
    CampaignId, ContactId, CustomerId, EnquiryId, EventId, Position, StaffId, StreamId,
};
use ledger_domain::kinds::{CampaignResponse, ContactOutcome, CostCategory, ProductLine};
use ledger_domain::projection::{Envelope, MemoryState, Projection, StateWrite};
use ledger_domain::samples::{mobile, plate, staff, text, title, vin};
use ledger_domain::values::{Channel, Direction, Money, PolicyNumber, Topic};

use crate::Marketing;

/// One event as the log would hand it to the projection.
#[derive(Debug, Clone)]
pub(crate) struct Recorded {
    pub position: Position,
    pub stream: StreamId,
    pub occurred_at: Timestamp,
    pub actor: StaffId,
    pub event: Event,
}

impl Recorded {
    fn envelope(&self) -> Envelope<'_> {
        Envelope {
            position: self.position,
            stream: &self.stream,
            stream_version: self.position.get(),
            event_id: event_id(self.position.get()),
            occurred_at: self.occurred_at,
            recorded_at: self.occurred_at,
            actor: &self.actor,
            event: &self.event,
            redacted: false,
        }
    }
}

fn event_id(n: u64) -> EventId {
    EventId::parse("eventId", &format!("00000000-0000-7000-8000-{n:012x}")).unwrap()
}

/// A hand-made log: events in the order they are recorded, positions from 1.
#[derive(Debug, Clone, Default)]
pub(crate) struct Ledger {
    pub events: Vec<Recorded>,
}

impl Ledger {
    pub fn new() -> Self {
        Self::default()
    }

    /// Records `event` as having happened at `local` Beijing time (`2025-03-07T17:30:00`).
    pub fn at(&mut self, local: &str, event: impl Into<Event>) -> &mut Self {
        let event = event.into();
        let position = Position(u64::try_from(self.events.len()).unwrap() + 1);
        self.events.push(Recorded {
            position,
            stream: event.stream(),
            occurred_at: beijing(local),
            actor: staff("agent-0001"),
            event,
        });
        self
    }

    pub fn fold(&self) -> MemoryState {
        let mut state = MemoryState::new();
        apply(&mut state, &self.events);
        state
    }
}

/// Applies `events` in order, each in its envelope.
pub(crate) fn apply(state: &mut dyn StateWrite, events: &[Recorded]) {
    for recorded in events {
        Marketing
            .apply(&recorded.envelope(), state)
            .unwrap_or_else(|error| panic!("position {}: {error}", recorded.position));
    }
}

/// A Beijing wall-clock time (`2025-03-07T17:30:00`) as an instant.
pub(crate) fn beijing(local: &str) -> Timestamp {
    format!("{local}+08:00").parse().unwrap()
}

fn id_text(kind: u8, n: u16) -> String {
    format!("0190a5e2-8c3b-7d4e-9f00-{kind}000000{n:05x}")
}

pub(crate) fn customer(n: u16) -> CustomerId {
    CustomerId::parse("customer", &id_text(1, n)).unwrap()
}

pub(crate) fn campaign_id(n: u16) -> CampaignId {
    CampaignId::parse("campaign", &id_text(2, n)).unwrap()
}

pub(crate) fn enquiry_id(n: u16) -> EnquiryId {
    EnquiryId::parse("enquiry", &id_text(3, n)).unwrap()
}

pub(crate) fn contact_id(n: u16) -> ContactId {
    ContactId::parse("contact", &id_text(4, n)).unwrap()
}

pub(crate) fn policy_number(n: u16) -> PolicyNumber {
    PolicyNumber::parse("policy", &format!("PJLA2025{n:06}")).unwrap()
}

pub(crate) fn date(text: &str) -> Date {
    text.parse().unwrap()
}

pub(crate) fn launched(campaign: CampaignId, budget_fen: i64, start: &str) -> CampaignLaunched {
    CampaignLaunched {
        campaign_id: campaign,
        name: title("春季续保关怀"),
        budget: Money::from_fen(budget_fen),
        channels: vec![Channel::Phone, Channel::WeChat],
        target_segment: ledger_domain::kinds::SegmentName::parse("s", "renewal-due").unwrap(),
        period_start: date(start),
        period_end: date("2025-05-31"),
        owner: staff("marketer-0001"),
        description: None,
    }
}

pub(crate) fn cost(campaign: CampaignId, amount_fen: i64, total_fen: i64) -> CampaignCostIncurred {
    CampaignCostIncurred {
        campaign_id: campaign,
        amount: Money::from_fen(amount_fen),
        category: CostCategory::Sms,
        description: text("短信群发"),
        total_cost: Money::from_fen(total_fen),
        over_budget: false,
    }
}

pub(crate) fn touch(
    campaign: CampaignId,
    customer: CustomerId,
    channel: Channel,
) -> CampaignTouchSent {
    CampaignTouchSent {
        campaign_id: campaign,
        customer_id: customer,
        channel,
        agent: None,
        contact_id: None,
    }
}

pub(crate) fn response(
    campaign: CampaignId,
    customer: CustomerId,
    response: CampaignResponse,
    premium_fen: i64,
    policy: Option<PolicyNumber>,
) -> CampaignResponded {
    CampaignResponded {
        campaign_id: campaign,
        customer_id: customer,
        response,
        channel: Channel::Phone,
        premium_won: Money::from_fen(premium_fen),
        policy_number: policy,
    }
}

pub(crate) fn issued(
    policy: PolicyNumber,
    customer: CustomerId,
    premium_fen: i64,
    campaign: Option<CampaignId>,
) -> PolicyIssued {
    PolicyIssued {
        policy_number: policy,
        customer_id: customer,
        product_lines: vec![ProductLine::CompulsoryTraffic],
        plate: plate(),
        vin: vin(),
        premium: Money::from_fen(premium_fen),
        period_start: date("2025-04-01"),
        period_end: date("2026-03-31"),
        sales_channel: Channel::Phone,
        campaign_id: campaign,
    }
}

pub(crate) fn enquiry(
    enquiry: EnquiryId,
    customer: Option<CustomerId>,
    campaign: Option<CampaignId>,
) -> OnlineEnquiryReceived {
    OnlineEnquiryReceived {
        enquiry_id: enquiry,
        customer_id: customer,
        campaign_id: campaign,
        channel: Channel::Web,
        name: None,
        mobile: mobile(),
        plate: None,
        product_lines: vec![ProductLine::CompulsoryTraffic],
        message: Some(text("请尽快回电")),
    }
}

/// A contact with `customer` naming `enquiry`, started at `local` Beijing time.
pub(crate) fn contact(
    contact: ContactId,
    customer: CustomerId,
    enquiry: Option<EnquiryId>,
    direction: Direction,
    local: &str,
) -> ContactRecorded {
    ContactRecorded {
        contact_id: contact,
        customer_id: customer,
        channel: Channel::Phone,
        direction,
        agent: staff("agent-0042"),
        started_at: beijing(local),
        duration_seconds: 180,
        topic: Topic::Quote,
        summary: text("回电报价"),
        outcome: ContactOutcome::NoAnswer,
        policy_number: None,
        claim_number: None,
        case_id: None,
        campaign_id: None,
        enquiry_id: enquiry,
    }
}
