//! Tests of the projection, given / when / then: given hand-made events (the real payload
//! structs, wrapped in envelopes with increasing positions by [`Ledger`]), the records, queues
//! and pages the projection builds.

mod cases;
mod claims;
mod corrections;
mod customers;
mod determinism;
mod pages;
mod redacted;

use jiff::Timestamp;
use ledger_domain::events::{
    ClaimDocumentsCompleted, ClaimDocumentsRequested, ClaimReported, ClaimSettled, ClaimSurveyed,
    ContactCorrected, ContactRecorded, Event, ServiceCaseAssigned, ServiceCaseClosed,
    ServiceCaseOpened, ServiceCaseReopened, ServiceCaseResolved,
};
use ledger_domain::ids::{CaseId, ContactId, CustomerId, EventId, Position, StaffId, StreamId};
use ledger_domain::kinds::{ContactOutcome, Payee, PayeeKind, Priority, ServiceCaseKind};
use ledger_domain::projection::{Envelope, MemoryState, Projection};
use ledger_domain::samples::{name, staff, text};
use ledger_domain::values::{Channel, ClaimNumber, Direction, Money, PolicyNumber, Topic};

use crate::ServiceHistory;

/// One event as the log would hand it to the projection.
#[derive(Debug, Clone)]
pub(crate) struct Recorded {
    pub position: Position,
    pub occurred_at: Timestamp,
    pub actor: StaffId,
    pub event: Event,
    /// Its personal fields read erased: the runner could not open them (see
    /// [`ledger_domain::projection::Envelope::redacted`]).
    pub redacted: bool,
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
        let position = Position(u64::try_from(self.events.len()).unwrap() + 1);
        self.events.push(Recorded {
            position,
            occurred_at: beijing(local),
            actor: staff("agent-0001"),
            event: event.into(),
            redacted: false,
        });
        self
    }

    /// [`Ledger::at`], the event reading as the runner hands it over when its customer's key
    /// is gone (erased, or left in the ledger it was exported from): its personal fields
    /// erased, and the envelope saying so.
    pub fn at_redacted(&mut self, local: &str, event: impl Into<Event>) -> &mut Self {
        self.at(local, event);
        if let Some(last) = self.events.last_mut() {
            last.event.take_personal();
            last.redacted = true;
        }
        self
    }

    /// This log as a rebuild reads it once the keys of `customers` are gone: every event
    /// sealed under one of them arrives redacted.
    pub fn with_keys_gone(&self, customers: &[CustomerId]) -> Self {
        let mut rebuilt = self.clone();
        for recorded in &mut rebuilt.events {
            let subject = recorded.event.data_subject();
            if customers
                .iter()
                .any(|customer| subject == Some(StreamId::customer(*customer)))
            {
                recorded.event.take_personal();
                recorded.redacted = true;
            }
        }
        rebuilt
    }
}

/// Applies `events` in order, each in its envelope.
pub(crate) fn apply(projection: &ServiceHistory, state: &mut MemoryState, events: &[Recorded]) {
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
            stream_version: 0,
            event_id,
            occurred_at: recorded.occurred_at,
            recorded_at: recorded.occurred_at,
            actor: &recorded.actor,
            event: &recorded.event,
            redacted: recorded.redacted,
        };
        projection.apply(&envelope, state).unwrap();
    }
}

/// The shipped projection, folded over the whole `ledger` into a fresh state.
pub(crate) fn fold(ledger: &Ledger) -> MemoryState {
    let mut state = MemoryState::new();
    apply(&projection(), &mut state, &ledger.events);
    state
}

pub(crate) fn projection() -> ServiceHistory {
    ServiceHistory::shipped().unwrap()
}

/// A Beijing wall-clock time (`2025-03-07T17:30:00`) as an instant.
pub(crate) fn beijing(local: &str) -> Timestamp {
    format!("{local}+08:00").parse().unwrap()
}

pub(crate) fn customer(n: u16) -> CustomerId {
    CustomerId::parse(
        "customer",
        &format!("0190a5e2-8c3b-7d4e-9f00-1000000{n:05x}"),
    )
    .unwrap()
}

pub(crate) fn case_id(n: u16) -> CaseId {
    CaseId::parse("case", &format!("0190a5e2-8c3b-7d4e-9f00-2000000{n:05x}")).unwrap()
}

pub(crate) fn contact_id(n: u16) -> ContactId {
    ContactId::parse(
        "contact",
        &format!("0190a5e2-8c3b-7d4e-9f00-3000000{n:05x}"),
    )
    .unwrap()
}

pub(crate) fn claim_number(n: u16) -> ClaimNumber {
    ClaimNumber::parse("claim", &format!("CJLA2025{n:06}")).unwrap()
}

pub(crate) fn policy_number(n: u16) -> PolicyNumber {
    PolicyNumber::parse("policy", &format!("PJLA2025{n:06}")).unwrap()
}

/// A consultation opened for `customer` with the recorded `deadline` (Beijing time) and,
/// optionally, a deadline in working hours.
pub(crate) fn opened(
    case: CaseId,
    customer: CustomerId,
    deadline: &str,
    working_hours: Option<u16>,
) -> ServiceCaseOpened {
    ServiceCaseOpened {
        case_id: case,
        customer_id: customer,
        kind: ServiceCaseKind::Consultation,
        priority: Priority::Normal,
        subject: text("咨询理赔进度"),
        channel: Channel::Phone,
        deadline: beijing(deadline),
        deadline_working_hours: working_hours,
        policy_number: None,
        claim_number: None,
        contact_id: None,
    }
}

pub(crate) fn assigned(case: CaseId, customer: CustomerId, assignee: &str) -> ServiceCaseAssigned {
    ServiceCaseAssigned {
        case_id: case,
        customer_id: customer,
        assignee: staff(assignee),
        previous_assignee: None,
    }
}

pub(crate) fn resolved(case: CaseId, customer: CustomerId) -> ServiceCaseResolved {
    ServiceCaseResolved {
        case_id: case,
        customer_id: customer,
        resolved_by: staff("agent-0042"),
        resolution: text("已答复客户"),
        within_deadline: true,
    }
}

pub(crate) fn reopened(case: CaseId, customer: CustomerId, deadline: &str) -> ServiceCaseReopened {
    ServiceCaseReopened {
        case_id: case,
        customer_id: customer,
        reason: text("客户不满意答复"),
        deadline: beijing(deadline),
    }
}

pub(crate) fn closed(case: CaseId, customer: CustomerId) -> ServiceCaseClosed {
    ServiceCaseClosed {
        case_id: case,
        customer_id: customer,
        closed_by: staff("agent-0042"),
        customer_confirmed: true,
    }
}

/// A contact with `customer` about `case`, started at `local` Beijing time.
pub(crate) fn contact(
    contact: ContactId,
    customer: CustomerId,
    case: CaseId,
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
        topic: Topic::ServiceRequest,
        summary: text("回访客户"),
        outcome: ContactOutcome::Resolved,
        policy_number: None,
        claim_number: None,
        case_id: Some(case),
        campaign_id: None,
        enquiry_id: None,
    }
}

/// `recorded`, corrected by `change`: every other fact repeated, as the aggregate emits it (a
/// correction replaces the whole record).
pub(crate) fn corrected(
    recorded: &ContactRecorded,
    change: impl FnOnce(&mut ContactCorrected),
) -> ContactCorrected {
    let mut correction = recorded.corrected(text("录入有误"));
    change(&mut correction);
    correction
}

pub(crate) fn reported(
    number: ClaimNumber,
    policy: PolicyNumber,
    customer: CustomerId,
    promise: Option<u16>,
) -> ClaimReported {
    ClaimReported {
        claim_number: number,
        policy_number: policy,
        customer_id: customer,
        loss_occurred_at: beijing("2025-03-03T08:00:00"),
        location: text("长春市人民大街"),
        description: text("追尾"),
        plate: None,
        reported_via: Channel::Phone,
        injuries: false,
        estimated_loss: None,
        time_guarantee_working_days: promise,
    }
}

pub(crate) fn surveyed(number: ClaimNumber, customer: CustomerId) -> ClaimSurveyed {
    ClaimSurveyed {
        claim_number: number,
        customer_id: customer,
        surveyor: staff("surveyor-0011"),
        on_site: false,
        assessed_loss: Money::from_fen(265_000),
        findings: text("后保险杠需更换"),
    }
}

pub(crate) fn documents_requested(
    number: ClaimNumber,
    customer: CustomerId,
) -> ClaimDocumentsRequested {
    ClaimDocumentsRequested {
        claim_number: number,
        customer_id: customer,
        documents: vec![ledger_domain::kinds::ClaimDocument::ClaimForm],
        requested_via: Channel::WeChat,
    }
}

pub(crate) fn documents_completed(
    number: ClaimNumber,
    customer: CustomerId,
) -> ClaimDocumentsCompleted {
    ClaimDocumentsCompleted {
        claim_number: number,
        customer_id: customer,
        documents: vec![ledger_domain::kinds::ClaimDocument::ClaimForm],
    }
}

pub(crate) fn settled(number: ClaimNumber, customer: CustomerId, fen: i64) -> ClaimSettled {
    ClaimSettled {
        claim_number: number,
        customer_id: customer,
        amount: Money::from_fen(fen),
        payee: Payee {
            kind: PayeeKind::Insured,
            name: name("张三"),
        },
        direct_payment: false,
    }
}

#[test]
fn new_calendar_or_guarantee_data_changes_the_version_so_the_runner_rebuilds() {
    use ledger_domain::projection::Projection;

    use crate::calendar::{BusinessCalendar, SHIPPED_CALENDAR_TOML};
    use crate::guarantees::{ClaimGuarantees, SHIPPED_GUARANTEES_TOML};

    let build = |calendar: &str| {
        ServiceHistory::new(
            BusinessCalendar::from_toml(calendar).unwrap(),
            ClaimGuarantees::shipped().unwrap(),
            &[calendar, SHIPPED_GUARANTEES_TOML],
        )
    };
    let shipped = projection().version();
    assert_eq!(
        build(SHIPPED_CALENDAR_TOML).version(),
        shipped,
        "the same data, the same version"
    );
    let edited = format!("{SHIPPED_CALENDAR_TOML}\n# 2027 confirmed by the State Council notice\n");
    assert_ne!(
        build(&edited).version(),
        shipped,
        "edited data must rebuild the read model"
    );
}
