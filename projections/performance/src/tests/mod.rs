//! Tests of the projection, given / when / then: given hand-made events (the real payload
//! structs, in envelopes with increasing positions), the figures, histories and pages the
//! projection builds; and sane figures over a realistic synthetic history.

mod agents;
mod closing;
mod corrections;
mod determinism;
mod managers;
mod synthetic;

use jiff::Timestamp;
use jiff::civil::Date;
use ledger_domain::events::{
    AccountManagerAssigned, ContactRecorded, Event, PolicyCancelled, PolicyIssued, PolicyRenewed,
    SatisfactionRecorded,
};
use ledger_domain::ids::{ContactId, CustomerId, EventId, Position, StaffId, StreamId};
use ledger_domain::kinds::{CancellationReason, ContactOutcome, ProductLine};
use ledger_domain::projection::{Envelope, MemoryState, Projection, StateWrite};
use ledger_domain::samples::{plate, staff, text, vin};
use ledger_domain::values::{Channel, Csat, Direction, Money, PolicyNumber, Topic};

use crate::Performance;

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
        Performance
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

pub(crate) fn contact_id(n: u16) -> ContactId {
    ContactId::parse("contact", &id_text(4, n)).unwrap()
}

pub(crate) fn policy_number(n: u16) -> PolicyNumber {
    PolicyNumber::parse("policy", &format!("PJLA2025{n:06}")).unwrap()
}

pub(crate) fn date(text: &str) -> Date {
    text.parse().unwrap()
}

/// A contact handled by `agent`, started at `local` Beijing time.
#[allow(
    clippy::too_many_arguments,
    reason = "a test builder that reads as a table row"
)]
pub(crate) fn contact(
    contact: ContactId,
    customer: CustomerId,
    agent: &str,
    local: &str,
    channel: Channel,
    seconds: u32,
    topic: Topic,
    outcome: ContactOutcome,
) -> ContactRecorded {
    ContactRecorded {
        contact_id: contact,
        customer_id: customer,
        channel,
        direction: Direction::Inbound,
        agent: staff(agent),
        started_at: beijing(local),
        duration_seconds: seconds,
        topic,
        summary: text("客户来电"),
        outcome,
        policy_number: None,
        claim_number: None,
        case_id: None,
        campaign_id: None,
        enquiry_id: None,
    }
}

pub(crate) fn rated(
    customer: CustomerId,
    contact: Option<ContactId>,
    score: u8,
) -> SatisfactionRecorded {
    SatisfactionRecorded {
        customer_id: customer,
        contact_id: contact,
        csat: Some(Csat::try_from(score).unwrap()),
        nps: None,
        comment: None,
    }
}

pub(crate) fn assigned(
    customer: CustomerId,
    manager: &str,
    team_lead: &str,
    previous: Option<&str>,
) -> AccountManagerAssigned {
    AccountManagerAssigned {
        customer_id: customer,
        manager: staff(manager),
        team_lead: staff(team_lead),
        previous_manager: previous.map(staff),
    }
}

pub(crate) fn issued(policy: PolicyNumber, customer: CustomerId, premium_fen: i64) -> PolicyIssued {
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
        campaign_id: None,
    }
}

pub(crate) fn renewed(
    policy: PolicyNumber,
    customer: CustomerId,
    premium_fen: i64,
) -> PolicyRenewed {
    PolicyRenewed {
        policy_number: policy,
        customer_id: customer,
        product_lines: vec![ProductLine::CompulsoryTraffic],
        premium: Money::from_fen(premium_fen),
        previous_premium: Money::from_fen(premium_fen),
        period_start: date("2025-04-01"),
        period_end: date("2026-03-31"),
        sales_channel: Channel::Phone,
        campaign_id: None,
    }
}

pub(crate) fn cancelled(
    policy: PolicyNumber,
    customer: CustomerId,
    refund_fen: i64,
) -> PolicyCancelled {
    PolicyCancelled {
        policy_number: policy,
        customer_id: customer,
        cancelled_on: date("2025-06-01"),
        reason: CancellationReason::VehicleSold,
        refund: Money::from_fen(refund_fen),
    }
}
