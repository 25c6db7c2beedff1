//! Tests of the projection, given / when / then: given hand-made events (the real payload
//! structs, in envelopes with increasing positions), the metrics, segment members and errors
//! the queries return; and on the synthetic book, the seed's pyramid.

mod book;
mod determinism;
mod metrics;
mod rule_layout;
mod rule_types;
mod rules;
mod segments;
mod synthetic;

use jiff::Timestamp;
use jiff::civil::Date;
use ledger_domain::events::{
    AccountManagerAssigned, ClaimReported, ClaimSettled, ContactRecorded, CustomerRegistered,
    Event, PolicyIssued, PolicyLapsed, PolicyRenewed, SatisfactionRecorded,
};
use ledger_domain::ids::{ContactId, CustomerId, EventId, Position, StaffId};
use ledger_domain::kinds::{ContactOutcome, CustomerKind, Payee, PayeeKind, ProductLine};
use ledger_domain::projection::{Envelope, MemoryState, Projection};
use ledger_domain::samples::{name, plate, staff, text, vin};
use ledger_domain::values::{
    Channel, ClaimNumber, Csat, Direction, Money, Nps, PolicyNumber, Topic,
};

use crate::Segments;

/// One event as the log hands it to the projection.
#[derive(Debug, Clone)]
pub(crate) struct Recorded {
    pub position: Position,
    pub occurred_at: Timestamp,
    pub actor: StaffId,
    pub event: Event,
}

/// A hand-made log: events in the order recorded, positions from 1.
#[derive(Debug, Clone, Default)]
pub(crate) struct Ledger {
    pub events: Vec<Recorded>,
}

impl Ledger {
    /// Records `event` as having happened at noon Beijing time on `day` (`2025-03-07`).
    pub fn on(&mut self, day: &str, event: impl Into<Event>) -> &mut Self {
        self.at(&format!("{day}T12:00:00"), event)
    }

    /// Records `event` as having happened at `local` Beijing time (`2025-03-07T17:30:00`).
    pub fn at(&mut self, local: &str, event: impl Into<Event>) -> &mut Self {
        let position = Position(u64::try_from(self.events.len()).unwrap() + 1);
        self.events.push(Recorded {
            position,
            occurred_at: beijing(local),
            actor: staff("agent-0001"),
            event: event.into(),
        });
        self
    }
}

/// Applies `events` in order, each in its envelope.
pub(crate) fn apply(state: &mut MemoryState, events: &[Recorded]) {
    for recorded in events {
        let stream = recorded.event.stream();
        let event_id = EventId::parse(
            "eventId",
            &format!("00000000-0000-7000-8000-{:012x}", recorded.position.get()),
        )
        .unwrap();
        let envelope = Envelope {
            position: recorded.position,
            stream: &stream,
            stream_version: recorded.position.get(),
            event_id,
            occurred_at: recorded.occurred_at,
            recorded_at: recorded.occurred_at,
            actor: &recorded.actor,
            event: &recorded.event,
            redacted: false,
        };
        Segments.apply(&envelope, state).unwrap();
    }
}

/// The projection folded over the whole `ledger` into a fresh state.
pub(crate) fn fold(ledger: &Ledger) -> MemoryState {
    let mut state = MemoryState::new();
    apply(&mut state, &ledger.events);
    state
}

/// A Beijing wall-clock time (`2025-03-07T17:30:00`) as an instant.
pub(crate) fn beijing(local: &str) -> Timestamp {
    format!("{local}+08:00").parse().unwrap()
}

/// The end of Beijing day `day` (`2025-06-30`): an as-of instant.
pub(crate) fn end_of(day: &str) -> Timestamp {
    beijing(&format!("{day}T23:59:59"))
}

pub(crate) fn date(text: &str) -> Date {
    text.parse().unwrap()
}

pub(crate) fn customer(n: u16) -> CustomerId {
    CustomerId::parse(
        "customer",
        &format!("0190a5e2-8c3b-7d4e-9f00-1000000{n:05x}"),
    )
    .unwrap()
}

pub(crate) fn contact_id(n: u16) -> ContactId {
    ContactId::parse(
        "contact",
        &format!("0190a5e2-8c3b-7d4e-9f00-3000000{n:05x}"),
    )
    .unwrap()
}

pub(crate) fn policy_number(n: u16) -> PolicyNumber {
    PolicyNumber::parse("policy", &format!("PJLA2025{n:06}")).unwrap()
}

pub(crate) fn claim_number(n: u16) -> ClaimNumber {
    ClaimNumber::parse("claim", &format!("CJLA2025{n:06}")).unwrap()
}

pub(crate) fn registered(customer: CustomerId, group: bool) -> CustomerRegistered {
    CustomerRegistered {
        customer_id: customer,
        kind: CustomerKind::Individual,
        name: name("张三"),
        group: group.then(|| name("一汽集团")),
        address: None,
        identifiers: Vec::new(),
    }
}

/// Policy `n` for `customer`: `premium` yuan for the period `start` to `end` (both
/// inclusive), with `lines`.
pub(crate) fn issued(
    n: u16,
    customer: CustomerId,
    yuan: i64,
    (start, end): (&str, &str),
    lines: &[ProductLine],
) -> PolicyIssued {
    PolicyIssued {
        policy_number: policy_number(n),
        customer_id: customer,
        product_lines: lines.to_vec(),
        plate: plate(),
        vin: vin(),
        premium: Money::from_fen(yuan * 100),
        period_start: date(start),
        period_end: date(end),
        sales_channel: Channel::Phone,
        campaign_id: None,
    }
}

pub(crate) fn renewed(
    n: u16,
    customer: CustomerId,
    yuan: i64,
    (start, end): (&str, &str),
) -> PolicyRenewed {
    PolicyRenewed {
        policy_number: policy_number(n),
        customer_id: customer,
        product_lines: vec![ProductLine::CompulsoryTraffic],
        premium: Money::from_fen(yuan * 100),
        previous_premium: Money::from_fen(yuan * 100),
        period_start: date(start),
        period_end: date(end),
        sales_channel: Channel::Phone,
        campaign_id: None,
    }
}

pub(crate) fn lapsed(n: u16, customer: CustomerId, on: &str) -> PolicyLapsed {
    PolicyLapsed {
        policy_number: policy_number(n),
        customer_id: customer,
        lapsed_on: date(on),
    }
}

/// Contact `n` with `customer` on `channel` about `topic`, at noon on `day`.
pub(crate) fn contact(
    n: u16,
    customer: CustomerId,
    day: &str,
    channel: Channel,
    topic: Topic,
) -> ContactRecorded {
    ContactRecorded {
        contact_id: contact_id(n),
        customer_id: customer,
        channel,
        direction: Direction::Inbound,
        agent: staff("agent-0042"),
        started_at: beijing(&format!("{day}T12:00:00")),
        duration_seconds: 180,
        topic,
        summary: text("咨询"),
        outcome: ContactOutcome::Resolved,
        policy_number: None,
        claim_number: None,
        case_id: None,
        campaign_id: None,
        enquiry_id: None,
    }
}

pub(crate) fn phone(n: u16, customer: CustomerId, day: &str) -> ContactRecorded {
    contact(n, customer, day, Channel::Phone, Topic::Enquiry)
}

pub(crate) fn complaint(n: u16, customer: CustomerId, day: &str) -> ContactRecorded {
    contact(n, customer, day, Channel::Phone, Topic::Complaint)
}

pub(crate) fn answered(
    customer: CustomerId,
    csat: Option<i64>,
    nps: Option<i64>,
) -> SatisfactionRecorded {
    SatisfactionRecorded {
        customer_id: customer,
        contact_id: None,
        csat: csat.map(|score| Csat::parse("csat", score).unwrap()),
        nps: nps.map(|score| Nps::parse("nps", score).unwrap()),
        comment: None,
    }
}

pub(crate) fn manager(customer: CustomerId, manager: &str) -> AccountManagerAssigned {
    AccountManagerAssigned {
        customer_id: customer,
        manager: staff(manager),
        team_lead: staff("lead-0001"),
        previous_manager: None,
    }
}

pub(crate) fn claim_reported(n: u16, policy: u16, customer: CustomerId) -> ClaimReported {
    ClaimReported {
        claim_number: claim_number(n),
        policy_number: policy_number(policy),
        customer_id: customer,
        loss_occurred_at: beijing("2025-01-01T08:00:00"),
        location: text("长春"),
        description: text("追尾"),
        plate: None,
        reported_via: Channel::Phone,
        injuries: false,
        estimated_loss: None,
        time_guarantee_working_days: None,
    }
}

pub(crate) fn claim_settled(n: u16, customer: CustomerId, yuan: i64) -> ClaimSettled {
    ClaimSettled {
        claim_number: claim_number(n),
        customer_id: customer,
        amount: Money::from_fen(yuan * 100),
        payee: Payee {
            kind: PayeeKind::Insured,
            name: name("张三"),
        },
        direct_payment: false,
    }
}

#[test]
fn what_the_api_holds_can_be_shared_between_threads() {
    fn shareable<T: Send + Sync>() {}
    shareable::<crate::SegmentEngine>();
    shareable::<crate::SegmentRules>();
    shareable::<crate::SegmentSnapshot>();
    shareable::<crate::Segments>();
}

/// The names of the customers `ids` as `c{n}`, sorted, for readable assertions.
pub(crate) fn names(ids: impl IntoIterator<Item = CustomerId>) -> Vec<String> {
    let mut names: Vec<String> = ids
        .into_iter()
        .map(|id| {
            (0..100)
                .find(|&n| customer(n) == id)
                .map_or_else(|| id.to_string(), |n| format!("c{n}"))
        })
        .collect();
    names.sort();
    names
}
