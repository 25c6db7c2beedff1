//! The fold is deterministic: folding a log in one go, or in two parts with a fresh
//! projection and a copied state in between (a runner restarting from its checkpoint), writes
//! the same entries, byte for byte.

use jiff::civil::date;
use ledger_domain::events::{
    ClaimReopened, CustomerErased, CustomersMerged, PolicyIssued, RiskRecommendationFollowedUp,
    RiskSurveyCompleted, ServiceCaseEscalated,
};
use ledger_domain::kinds::{ErasureReason, ProductLine, RecommendationStatus, RiskRecommendation};
use ledger_domain::projection::{MemoryState, StateWrite};
use ledger_domain::samples::{plate, vin};

use super::*;

/// A log touching every kind of event the projection folds.
pub(super) fn busy_ledger() -> Ledger {
    let (c1, c2, c3, c4) = (case_id(1), case_id(2), case_id(3), case_id(4));
    let (someone, duplicate) = (customer(1), customer(2));
    let first_call = contact(
        contact_id(1),
        someone,
        c1,
        Direction::Outbound,
        "2025-03-10T09:20:00",
    );
    let call_back = contact(
        contact_id(2),
        duplicate,
        c3,
        Direction::Outbound,
        "2025-03-13T11:35:00",
    );
    let chase = contact(
        contact_id(3),
        duplicate,
        c3,
        Direction::Inbound,
        "2025-03-13T11:45:00",
    );
    let mut ledger = Ledger::new();
    ledger
        .at(
            "2025-01-02T10:00:00",
            PolicyIssued {
                policy_number: policy_number(1),
                customer_id: someone,
                product_lines: vec![ProductLine::CompulsoryTraffic, ProductLine::CommercialGlass],
                plate: plate(),
                vin: vin(),
                premium: Money::from_fen(486_000),
                period_start: date(2025, 1, 1),
                period_end: date(2025, 12, 31),
                sales_channel: Channel::Phone,
                campaign_id: None,
            },
        )
        .at(
            "2025-03-07T17:30:00",
            opened(c1, someone, "2025-03-08T17:30:00", Some(8)),
        )
        .at(
            "2025-03-07T17:40:00",
            ServiceCaseOpened {
                kind: ServiceCaseKind::RiskSurvey,
                ..opened(c2, duplicate, "2025-03-21T17:30:00", None)
            },
        )
        .at("2025-03-10T09:00:00", assigned(c1, someone, "agent-0042"))
        .at("2025-03-10T09:30:00", first_call.clone())
        .at(
            "2025-03-10T10:00:00",
            ServiceCaseEscalated {
                case_id: c1,
                customer_id: someone,
                escalated_to: staff("lead-0001"),
                reason: text("客户投诉"),
                priority: Priority::Urgent,
                deadline: beijing("2025-03-10T15:00:00"),
                level: 1,
            },
        )
        .at(
            "2025-03-11T09:00:00",
            reported(claim_number(1), policy_number(1), someone, None),
        )
        .at(
            "2025-03-11T11:00:00",
            RiskSurveyCompleted {
                case_id: c2,
                customer_id: duplicate,
                surveyor: staff("risk-0001"),
                findings: text("消防设施不足"),
                recommendations: vec![RiskRecommendation {
                    number: 1,
                    text: text("增配灭火器"),
                    due_on: date(2025, 4, 30),
                }],
            },
        )
        .at("2025-03-11T14:00:00", resolved(c1, someone))
        .at("2025-03-11T15:00:00", surveyed(claim_number(1), someone))
        .at(
            "2025-03-11T16:00:00",
            documents_requested(claim_number(1), someone),
        )
        .at(
            "2025-03-12T10:00:00",
            documents_completed(claim_number(1), someone),
        )
        .at(
            "2025-03-12T11:00:00",
            CustomersMerged {
                customer_id: duplicate,
                survivor_id: someone,
                identifiers: Vec::new(),
                reason: None,
            },
        )
        .at(
            "2025-03-13T09:00:00",
            reopened(c1, someone, "2025-03-14T17:30:00"),
        )
        .at(
            "2025-03-13T10:00:00",
            RiskRecommendationFollowedUp {
                case_id: c2,
                customer_id: duplicate,
                recommendation: 1,
                status: RecommendationStatus::Implemented,
                note: text("已整改"),
                followed_up_by: staff("risk-0003"),
            },
        )
        .at(
            "2025-03-13T11:00:00",
            opened(c3, duplicate, "2025-03-15T17:30:00", Some(16)),
        )
        // Corrections: the first call started earlier; a call-back to the duplicate's case
        // was about no case after all; a call thought inbound was the agent's.
        .at(
            "2025-03-13T11:30:00",
            corrected(&first_call, |correction| {
                correction.started_at = beijing("2025-03-10T09:10:00");
            }),
        )
        .at("2025-03-13T11:40:00", call_back.clone())
        .at("2025-03-13T11:50:00", chase.clone())
        .at(
            "2025-03-13T11:55:00",
            corrected(&call_back, |correction| correction.case_id = None),
        )
        .at(
            "2025-03-13T11:58:00",
            corrected(&chase, |correction| {
                correction.direction = Direction::Outbound;
            }),
        )
        // Resolved late, then reopened and left open: breached, under `late/open/`.
        .at(
            "2025-03-13T12:00:00",
            opened(c4, someone, "2025-03-14T09:00:00", None),
        )
        .at("2025-03-14T10:00:00", resolved(c4, someone))
        .at(
            "2025-03-17T09:00:00",
            reopened(c4, someone, "2025-03-28T17:30:00"),
        )
        .at(
            "2025-03-24T10:00:00",
            settled(claim_number(1), someone, 120_000),
        )
        .at("2025-03-24T11:00:00", resolved(c1, someone))
        .at("2025-03-24T12:00:00", closed(c1, someone))
        // The claim settled late, reopened: still past its guarantee, under `claimlateopen/`,
        // first with no guarantee running, then by its new due time.
        .at(
            "2025-03-24T14:00:00",
            ClaimReopened {
                claim_number: claim_number(1),
                customer_id: someone,
                reason: text("客户补充新证据"),
            },
        )
        .at(
            "2025-03-24T15:00:00",
            documents_requested(claim_number(1), someone),
        )
        .at(
            "2025-03-25T09:00:00",
            CustomerErased {
                customer_id: duplicate,
                reason: ErasureReason::CustomerRequest,
            },
        )
        .at(
            "2025-03-25T10:00:00",
            documents_completed(claim_number(1), someone),
        );
    ledger
}

#[test]
fn folding_in_one_go_or_in_two_parts_writes_the_same_entries() {
    let ledger = busy_ledger();
    let whole = fold(&ledger);
    assert_eq!(whole, fold(&ledger), "two folds of one log agree");
    // The log exercised the projection: 4 cases, 1 claim, 1 policy, 5 history entries (all
    // under the survivor), 3 open cases, the reopened one also under `late/open/`, the closed
    // case also under `late/closed/`, the claim settled late and reopened, awaiting a decision
    // under `claimdue/` and `claimlateopen/`, one merge and one erasure, and two contacts
    // answering a case (the corrected first call, and the chase corrected to outbound; the
    // call-back corrected to no case left nothing), each under `contact/` and `response/`.
    assert_eq!(
        whole.len(),
        25,
        "{:?}",
        whole
            .entries()
            .keys()
            .map(|key| key.escape_ascii().to_string())
            .collect::<Vec<_>>()
    );

    assert_folds_alike_in_parts(&ledger);
}

/// Folding `ledger` in two parts, split anywhere, with a fresh projection and a copied state
/// in between, writes what folding it in one go writes.
pub(super) fn assert_folds_alike_in_parts(ledger: &Ledger) {
    let whole = fold(ledger);
    for split in 0..=ledger.events.len() {
        let mut before = MemoryState::new();
        apply(&projection(), &mut before, &ledger.events[..split]);
        // A fresh state holding a copy of the first part's entries, and a fresh projection.
        let mut after = MemoryState::new();
        for (key, value) in before.entries() {
            after.put(key.clone(), value.clone());
        }
        apply(&projection(), &mut after, &ledger.events[split..]);
        assert_eq!(
            after.entries(),
            whole.entries(),
            "split after {split} events"
        );
    }
}
