//! Events that read redacted: the cases of a customer whose data key stayed in the ledger an
//! export came from keep no text, as an erased customer's, and a rebuild that can no longer
//! open an erased customer's events writes what the live fold wrote.

use jiff::civil::date;
use ledger_domain::events::{CustomerErased, RiskSurveyCompleted};
use ledger_domain::kinds::{ErasureReason, RiskRecommendation, ServiceCaseKind};
use ledger_domain::samples::{staff, text};

use super::determinism::busy_ledger;
use super::*;
use crate::case;

fn survey(case: CaseId, customer: CustomerId) -> RiskSurveyCompleted {
    RiskSurveyCompleted {
        case_id: case,
        customer_id: customer,
        surveyor: staff("risk-0001"),
        findings: text("车队停车场消防设施不足"),
        recommendations: vec![RiskRecommendation {
            number: 1,
            text: text("增配灭火器"),
            due_on: date(2025, 4, 30),
        }],
    }
}

/// Customer 1's case and survey as a ledger that imported them reads them (customer 1's key
/// stayed behind), beside customer 2's, which this ledger can open.
fn imported() -> Ledger {
    let (foreign, known) = (customer(1), customer(2));
    let mut ledger = Ledger::new();
    ledger
        .at_redacted(
            "2025-03-03T09:00:00",
            ServiceCaseOpened {
                kind: ServiceCaseKind::RiskSurvey,
                ..opened(case_id(1), foreign, "2025-03-14T17:30:00", None)
            },
        )
        .at(
            "2025-03-03T10:00:00",
            opened(case_id(2), known, "2025-03-05T17:30:00", None),
        )
        .at_redacted("2025-03-04T09:00:00", survey(case_id(1), foreign))
        .at_redacted("2025-03-05T09:00:00", resolved(case_id(1), foreign))
        .at("2025-03-05T10:00:00", resolved(case_id(2), known));
    ledger
}

#[test]
fn a_case_of_a_customer_whose_key_is_elsewhere_keeps_no_text_not_blank_text() {
    let state = fold(&imported());
    let foreign = case(&state, case_id(1)).unwrap().unwrap();
    assert_eq!(foreign.subject, None);
    assert_eq!(foreign.resolution, None);
    let survey = foreign.risk_survey.unwrap();
    assert_eq!(survey.recommendations.len(), 1);
    assert_eq!(survey.recommendations[0].text, None);
    // Everything not personal is there.
    assert_eq!(foreign.status, crate::CaseStatus::Resolved);
    assert_eq!(foreign.kind, ServiceCaseKind::RiskSurvey);
    let known = case(&state, case_id(2)).unwrap().unwrap();
    assert_eq!(known.subject, Some(text("咨询理赔进度")));
    assert_eq!(known.resolution, Some(text("已答复客户")));
}

/// The live fold read the customer's events whole until the erasure; a rebuild after it reads
/// them redacted. Both write the same state.
#[test]
fn a_rebuild_that_cannot_open_erased_customers_events_writes_what_the_live_fold_wrote() {
    let busy = busy_ledger();
    assert_eq!(
        fold(&busy.with_keys_gone(&[customer(2)])).entries(),
        fold(&busy).entries()
    );

    // The history of `imported` read whole, then customer 1 erased.
    let mut live = Ledger::new();
    live.at(
        "2025-03-03T09:00:00",
        ServiceCaseOpened {
            kind: ServiceCaseKind::RiskSurvey,
            ..opened(case_id(1), customer(1), "2025-03-14T17:30:00", None)
        },
    )
    .at(
        "2025-03-03T10:00:00",
        opened(case_id(2), customer(2), "2025-03-05T17:30:00", None),
    )
    .at("2025-03-04T09:00:00", survey(case_id(1), customer(1)))
    .at("2025-03-05T09:00:00", resolved(case_id(1), customer(1)))
    .at("2025-03-05T10:00:00", resolved(case_id(2), customer(2)))
    .at(
        "2025-03-06T09:00:00",
        CustomerErased {
            customer_id: customer(1),
            reason: ErasureReason::CustomerRequest,
        },
    );
    assert_eq!(
        fold(&live.with_keys_gone(&[customer(1)])).entries(),
        fold(&live).entries()
    );
}
