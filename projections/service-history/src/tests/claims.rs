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
            decided_late: Some(true),
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
    assert_eq!(reopened.decided_late, None);
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

fn claim_reopened(number: &ClaimNumber, customer: CustomerId) -> ClaimReopened {
    ClaimReopened {
        claim_number: number.clone(),
        customer_id: customer,
        reason: text("客户补充新证据"),
    }
}

/// Reports claim `number` on a one-working-day promise, surveys it and completes its documents
/// at `completed` (due at closing time of the next working day).
fn reported_with_documents(
    ledger: &mut Ledger,
    number: &ClaimNumber,
    customer: CustomerId,
    completed: &str,
) {
    ledger
        .at(
            "2025-03-03T09:00:00",
            reported(number.clone(), policy_number(1), customer, Some(1)),
        )
        .at("2025-03-04T10:00:00", surveyed(number.clone(), customer))
        .at(
            "2025-03-04T11:00:00",
            documents_requested(number.clone(), customer),
        )
        .at(completed, documents_completed(number.clone(), customer));
}

/// Reopens claim `number` at `reopened` and completes its documents again at `completed`.
fn reopened_with_documents(
    ledger: &mut Ledger,
    number: &ClaimNumber,
    customer: CustomerId,
    reopened: &str,
    completed: &str,
) {
    ledger
        .at(reopened, claim_reopened(number, customer))
        .at(reopened, documents_requested(number.clone(), customer))
        .at(completed, documents_completed(number.clone(), customer));
}

#[test]
fn a_claim_decided_late_then_reopened_and_decided_on_time_stays_past_its_guarantee() {
    let (fixed, on_time, overdue) = (claim_number(11), claim_number(12), claim_number(13));
    let mut ledger = Ledger::new();
    // All three are due on Tuesday 03-11 at closing time.
    reported_with_documents(&mut ledger, &fixed, customer(1), "2025-03-10T10:00:00");
    reported_with_documents(&mut ledger, &on_time, customer(2), "2025-03-10T10:00:00");
    reported_with_documents(&mut ledger, &overdue, customer(3), "2025-03-10T11:00:00");
    ledger
        .at(
            "2025-03-11T10:00:00",
            settled(on_time.clone(), customer(2), 50_000),
        )
        // The morning after its due time: a late decision.
        .at(
            "2025-03-12T10:00:00",
            settled(fixed.clone(), customer(1), 80_000),
        )
        .at("2025-03-12T11:00:00", claim_reopened(&on_time, customer(2)))
        .at("2025-03-13T09:00:00", claim_reopened(&fixed, customer(1)));
    let state = fold(&ledger);

    // Reopened and awaiting its documents again, the late claim is still past its guarantee
    // (not overdue: no guarantee runs), after the claim overdue now.
    let now = beijing("2025-03-13T09:30:00");
    let reopened = record(&state, &fixed);
    assert_eq!(reopened.status, ClaimStatus::Reopened);
    assert_eq!(reopened.decided_late, None, "the new cycle is undecided");
    assert_eq!(reopened.late_decisions, 1);
    assert!(reopened.is_past_guarantee(now));
    assert!(!reopened.is_overdue(now));
    assert!(!record(&state, &on_time).is_past_guarantee(now));
    assert_eq!(
        numbers(&state, "2025-03-13T09:30:00"),
        vec![overdue.clone(), fixed.clone()]
    );
    let first_page = claims_past_guarantee(&state, now, None, 1).unwrap();
    assert_eq!(first_page.items[0].1.number, overdue);
    assert!(first_page.has_next_page);
    let second_page = claims_past_guarantee(&state, now, Some(&first_page.items[0].0), 1).unwrap();
    assert_eq!(second_page.items[0].1.number, fixed);
    assert!(!second_page.has_next_page);

    // Its documents complete again (due Friday 03-14 at closing time), it is listed by that due
    // time, still after the overdue claim; and once past it, once, among the overdue claims by
    // due time, as the other reopened claim is then too.
    reopened_with_documents(
        &mut ledger,
        &fixed,
        customer(1),
        "2025-03-13T09:30:00",
        "2025-03-13T11:00:00",
    );
    reopened_with_documents(
        &mut ledger,
        &on_time,
        customer(2),
        "2025-03-13T09:30:00",
        "2025-03-13T11:00:00",
    );
    let state = fold(&ledger);
    assert_eq!(
        record(&state, &fixed).guarantee_due,
        Some(beijing("2025-03-14T17:30:00"))
    );
    assert_eq!(
        numbers(&state, "2025-03-13T12:00:00"),
        vec![overdue.clone(), fixed.clone()]
    );
    assert_eq!(
        numbers(&state, "2025-03-14T18:00:00"),
        vec![overdue.clone(), fixed.clone(), on_time.clone()]
    );

    // Decided on time in its second cycle, the breach stays, in the record and the listing.
    ledger
        .at(
            "2025-03-14T10:00:00",
            settled(fixed.clone(), customer(1), 20_000),
        )
        .at(
            "2025-03-14T11:00:00",
            settled(on_time.clone(), customer(2), 10_000),
        );
    let state = fold(&ledger);
    let now = beijing("2025-03-20T09:00:00");
    let fixed_record = record(&state, &fixed);
    assert_eq!(fixed_record.status, ClaimStatus::Settled);
    assert_eq!(fixed_record.decided_late, Some(false));
    assert_eq!(fixed_record.late_decisions, 1);
    assert_eq!(fixed_record.reopened_count, 1);
    assert!(fixed_record.is_past_guarantee(now));
    assert!(!fixed_record.is_overdue(now));
    let on_time_record = record(&state, &on_time);
    assert_eq!(on_time_record.decided_late, Some(false));
    assert_eq!(on_time_record.late_decisions, 0);
    assert_eq!(on_time_record.reopened_count, 1);
    assert!(!on_time_record.is_past_guarantee(now));
    let listed = numbers(&state, "2025-03-20T09:00:00");
    assert_eq!(listed, vec![overdue.clone(), fixed.clone()]);
    // The listing is exactly the claims `is_past_guarantee` names.
    let named: Vec<ClaimNumber> = [&fixed, &on_time, &overdue]
        .into_iter()
        .filter(|number| record(&state, number).is_past_guarantee(now))
        .cloned()
        .collect();
    let mut listed_sorted = listed;
    listed_sorted.sort();
    let mut named_sorted = named;
    named_sorted.sort();
    assert_eq!(listed_sorted, named_sorted);
}

#[test]
fn later_pages_of_claims_past_their_guarantee_keep_the_first_page_s_instant() {
    let (a, b) = (claim_number(21), claim_number(22));
    let mut ledger = Ledger::new();
    // Both due Tuesday 03-11 at closing time and decided late, then reopened: `a` due again
    // Friday 03-14, `b` Monday 03-17, each at closing time.
    for (number, completed_again) in [(&a, "2025-03-13T11:00:00"), (&b, "2025-03-14T11:00:00")] {
        reported_with_documents(&mut ledger, number, customer(1), "2025-03-10T10:00:00");
        ledger.at(
            "2025-03-12T10:00:00",
            settled(number.clone(), customer(1), 80_000),
        );
        reopened_with_documents(
            &mut ledger,
            number,
            customer(1),
            "2025-03-13T09:30:00",
            completed_again,
        );
    }
    let state = fold(&ledger);
    let page = |now: &str, after: Option<&str>| {
        let page = claims_past_guarantee(&state, beijing(now), after, 1).unwrap();
        let numbers: Vec<ClaimNumber> = page
            .items
            .iter()
            .map(|(_, record)| record.number.clone())
            .collect();
        (numbers, page.items.last().map(|(cursor, _)| cursor.clone()))
    };
    let (first, cursor) = page("2025-03-14T12:00:00", None);
    assert_eq!(first, std::slice::from_ref(&a));
    // On 03-18 both are overdue, and cut then `b` would come before the cursor: the next page
    // keeps the first page's cut and lists it.
    let (second, _) = page("2025-03-18T09:00:00", cursor.as_deref());
    assert_eq!(second, [b]);
    let (fresh, _) = page("2025-03-18T09:00:00", None);
    assert_eq!(fresh, [a], "overdue, the longest first");
}
