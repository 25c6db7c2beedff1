//! Claims: the full flow, the time guarantee on the business calendar, the past-guarantee
//! queue, rejection and reopening.

use jiff::civil::date;
use ledger_domain::events::{ClaimRejected, ClaimReopened, PolicyIssued};
use ledger_domain::kinds::{ClaimRejectionReason, ProductLine};
use ledger_domain::projection::{MemoryState, Order, StateRead};
use ledger_domain::samples::{plate, staff, text, vin};
use ledger_domain::values::{Channel, ClaimNumber, Money};

use super::*;
use crate::{ClaimRecord, ClaimStatus, GuaranteeSource, claim, claims_past_guarantee};

fn record(state: &MemoryState, number: &ClaimNumber) -> ClaimRecord {
    claim(state, number).unwrap().expect("the claim is stored")
}

fn numbers(state: &MemoryState, now: &str) -> Vec<ClaimNumber> {
    claims_past_guarantee(state, beijing(now), None, 10)
        .unwrap()
        .items
        .into_iter()
        .map(|(_, record)| record.number)
        .collect()
}

fn awaiting(state: &MemoryState) -> usize {
    state
        .prefix(b"claimdue/", Order::Ascending, 100)
        .unwrap()
        .len()
}

fn issued(policy: PolicyNumber, customer: CustomerId, lines: Vec<ProductLine>) -> PolicyIssued {
    PolicyIssued {
        policy_number: policy,
        customer_id: customer,
        product_lines: lines,
        plate: plate(),
        vin: vin(),
        premium: Money::from_fen(486_000),
        period_start: date(2025, 1, 1),
        period_end: date(2025, 12, 31),
        sales_channel: Channel::Phone,
        campaign_id: None,
    }
}

#[test]
fn a_claim_settled_after_its_guarantee_is_past_it_and_queued_until_then() {
    let number = claim_number(1);
    let mut ledger = Ledger::new();
    ledger
        .at(
            "2025-01-02T10:00:00",
            issued(
                policy_number(1),
                customer(1),
                vec![ProductLine::CompulsoryTraffic],
            ),
        )
        .at(
            "2025-03-03T09:00:00",
            reported(number.clone(), policy_number(1), customer(1), None),
        )
        .at("2025-03-04T10:00:00", surveyed(number.clone(), customer(1)))
        .at(
            "2025-03-04T11:00:00",
            documents_requested(number.clone(), customer(1)),
        )
        .at(
            "2025-03-05T15:00:00",
            documents_completed(number.clone(), customer(1)),
        );

    let state = fold(&ledger);

    // Five working days (the compulsory-traffic line's guarantee) after Wednesday 03-05:
    // Thu, Fri, Mon, Tue, Wed 03-12, at closing time.
    let waiting = record(&state, &number);
    assert_eq!(waiting.status, ClaimStatus::DocumentsCompleted);
    assert_eq!(waiting.guarantee_due, Some(beijing("2025-03-12T17:30:00")));
    assert_eq!(awaiting(&state), 1);
    assert!(numbers(&state, "2025-03-12T17:30:00").is_empty());
    assert_eq!(numbers(&state, "2025-03-13T09:00:00"), vec![number.clone()]);
    assert!(waiting.is_past_guarantee(beijing("2025-03-13T09:00:00")));
    assert!(!waiting.is_past_guarantee(beijing("2025-03-12T17:00:00")));

    ledger.at(
        "2025-03-13T10:00:00",
        settled(number.clone(), customer(1), 265_000),
    );
    let state = fold(&ledger);

    assert_eq!(
        record(&state, &number),
        ClaimRecord {
            number: number.clone(),
            policy: policy_number(1),
            customer: customer(1),
            status: ClaimStatus::Settled,
            loss_occurred_at: beijing("2025-03-03T08:00:00"),
            reported_at: beijing("2025-03-03T09:00:00"),
            surveyed_at: Some(beijing("2025-03-04T10:00:00")),
            surveyor: Some(staff("surveyor-0011")),
            documents_requested_at: Some(beijing("2025-03-04T11:00:00")),
            documents_completed_at: Some(beijing("2025-03-05T15:00:00")),
            settled_at: Some(beijing("2025-03-13T10:00:00")),
            rejected_at: None,
            rejection_reason: None,
            amount_settled: Some(Money::from_fen(265_000)),
            total_settled: Money::from_fen(265_000),
            promised_working_days: None,
            guarantee_working_days: Some(5),
            guarantee_source: Some(GuaranteeSource::ProductLine(ProductLine::CompulsoryTraffic)),
            guarantee_due: Some(beijing("2025-03-12T17:30:00")),
            past_guarantee: Some(true),
            late_decisions: 1,
            reopened_count: 0,
            calendar_notes: Vec::new(),
        }
    );
    assert_eq!(awaiting(&state), 0, "a settled claim awaits nothing");
    // Still listed, now among the claims decided late.
    assert_eq!(numbers(&state, "2025-03-20T09:00:00"), vec![number]);
}

#[test]
fn the_claims_own_promise_wins_and_a_reopening_restarts_the_guarantee() {
    let number = claim_number(2);
    let mut ledger = Ledger::new();
    ledger
        .at(
            "2025-01-02T10:00:00",
            issued(
                policy_number(2),
                customer(1),
                vec![ProductLine::CompulsoryTraffic, ProductLine::CommercialTheft],
            ),
        )
        .at(
            "2025-04-25T09:00:00",
            reported(number.clone(), policy_number(2), customer(1), Some(3)),
        )
        .at("2025-04-25T10:00:00", surveyed(number.clone(), customer(1)))
        .at(
            "2025-04-25T11:00:00",
            documents_requested(number.clone(), customer(1)),
        )
        .at(
            "2025-04-29T10:00:00",
            documents_completed(number.clone(), customer(1)),
        );
    let state = fold(&ledger);
    // Three working days after Tuesday 04-29 across Labour Day (05-01 to 05-05 off):
    // Wed 04-30, Tue 05-06, Wed 05-07.
    let waiting = record(&state, &number);
    assert_eq!(waiting.guarantee_due, Some(beijing("2025-05-07T17:30:00")));
    assert_eq!(waiting.guarantee_source, Some(GuaranteeSource::Claim));
    assert_eq!(waiting.guarantee_working_days, Some(3));

    ledger
        .at(
            "2025-05-06T10:00:00",
            ClaimRejected {
                claim_number: number.clone(),
                customer_id: customer(1),
                reason: ClaimRejectionReason::NotCovered,
                explanation: text("不属于保险责任"),
            },
        )
        .at(
            "2025-05-08T10:00:00",
            ClaimReopened {
                claim_number: number.clone(),
                customer_id: customer(1),
                reason: text("客户补充新证据"),
            },
        );
    let state = fold(&ledger);
    let reopened = record(&state, &number);
    assert_eq!(reopened.status, ClaimStatus::Reopened);
    assert_eq!(reopened.reopened_count, 1);
    assert_eq!(reopened.rejected_at, None);
    assert_eq!(reopened.guarantee_due, None);
    assert_eq!(reopened.past_guarantee, None);
    assert_eq!(
        reopened.late_decisions, 0,
        "the rejection kept the guarantee"
    );
    assert_eq!(awaiting(&state), 0);

    ledger
        .at(
            "2025-05-08T11:00:00",
            documents_requested(number.clone(), customer(1)),
        )
        .at(
            "2025-05-09T10:00:00",
            documents_completed(number.clone(), customer(1)),
        );
    let state = fold(&ledger);
    let again = record(&state, &number);
    assert_eq!(again.guarantee_due, Some(beijing("2025-05-14T17:30:00")));
    assert_eq!(awaiting(&state), 1);
    assert_eq!(numbers(&state, "2025-05-15T09:00:00"), vec![number]);
}

#[test]
fn a_claim_on_an_unknown_policy_gets_the_default_guarantee() {
    let number = claim_number(3);
    let mut ledger = Ledger::new();
    ledger
        .at(
            "2025-03-03T09:00:00",
            reported(number.clone(), policy_number(9), customer(1), None),
        )
        .at("2025-03-03T10:00:00", surveyed(number.clone(), customer(1)))
        .at(
            "2025-03-03T11:00:00",
            documents_requested(number.clone(), customer(1)),
        )
        .at(
            "2025-03-03T15:00:00",
            documents_completed(number.clone(), customer(1)),
        );
    let state = fold(&ledger);
    let record = record(&state, &number);
    assert_eq!(record.guarantee_working_days, Some(10));
    assert_eq!(record.guarantee_source, Some(GuaranteeSource::Default));
    assert_eq!(record.guarantee_due, Some(beijing("2025-03-17T17:30:00")));
}
