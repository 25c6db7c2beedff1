//! A customer's service history, newest first, and merges moving it to the survivor.

use ledger_domain::events::CustomersMerged;
use ledger_domain::projection::{MemoryState, Order, StateRead};

use super::*;
use crate::{HistoryItem, customer_history};

/// The history of `customer` as `case:{id}` and `claim:{number}` labels, newest first.
fn history(state: &MemoryState, customer: CustomerId) -> Vec<String> {
    customer_history(state, customer, None, 100)
        .unwrap()
        .items
        .into_iter()
        .map(|(_, item)| match item {
            HistoryItem::Case(record) => format!("case:{}", record.id),
            HistoryItem::Claim(record) => format!("claim:{}", record.number),
        })
        .collect()
}

fn case_label(id: CaseId) -> String {
    format!("case:{id}")
}

fn claim_label(number: &ClaimNumber) -> String {
    format!("claim:{number}")
}

fn merge(merged: CustomerId, survivor: CustomerId) -> CustomersMerged {
    CustomersMerged {
        customer_id: merged,
        survivor_id: survivor,
        identifiers: Vec::new(),
        reason: None,
    }
}

/// Customers whose history holds entries.
fn holders(state: &MemoryState) -> Vec<String> {
    let mut holders: Vec<String> = state
        .prefix(b"cust/", Order::Ascending, 1000)
        .unwrap()
        .into_iter()
        .map(|(key, _)| String::from_utf8_lossy(&key[5..41]).into_owned())
        .collect();
    holders.dedup();
    holders
}

#[test]
fn a_merge_moves_the_merged_customers_history_to_the_survivor() {
    let (survivor, duplicate, group) = (customer(1), customer(2), customer(3));
    let mut ledger = Ledger::new();
    ledger
        .at(
            "2025-03-03T09:00:00",
            opened(case_id(1), survivor, "2025-03-05T17:30:00", None),
        )
        .at(
            "2025-03-04T09:00:00",
            opened(case_id(2), duplicate, "2025-03-06T17:30:00", None),
        )
        .at(
            "2025-03-05T09:00:00",
            reported(claim_number(1), policy_number(1), survivor, None),
        )
        .at(
            "2025-03-06T09:00:00",
            reported(claim_number(2), policy_number(2), duplicate, None),
        );
    let state = fold(&ledger);
    assert_eq!(
        history(&state, survivor),
        vec![claim_label(&claim_number(1)), case_label(case_id(1))]
    );
    assert_eq!(
        history(&state, duplicate),
        vec![claim_label(&claim_number(2)), case_label(case_id(2))]
    );

    ledger
        .at("2025-03-07T09:00:00", merge(duplicate, survivor))
        // Events on the duplicate's streams still name the duplicate.
        .at(
            "2025-03-10T09:00:00",
            opened(case_id(3), duplicate, "2025-03-12T17:30:00", None),
        );
    let state = fold(&ledger);
    let joined = vec![
        case_label(case_id(3)),
        claim_label(&claim_number(2)),
        claim_label(&claim_number(1)),
        case_label(case_id(2)),
        case_label(case_id(1)),
    ];
    assert_eq!(history(&state, survivor), joined);
    assert_eq!(
        history(&state, duplicate),
        joined,
        "the survivor's history answers"
    );
    assert_eq!(holders(&state), vec![survivor.to_string()]);
    let moved = crate::case(&state, case_id(2)).unwrap().unwrap();
    assert_eq!(
        moved.customer, duplicate,
        "records keep the customer their events name"
    );

    // The survivor is merged in turn, then a merge back would close a cycle and is ignored.
    ledger
        .at("2025-03-11T09:00:00", merge(survivor, group))
        .at("2025-03-12T09:00:00", merge(group, duplicate));
    let state = fold(&ledger);
    assert_eq!(history(&state, group), joined);
    assert_eq!(history(&state, duplicate), joined);
    assert_eq!(holders(&state), vec![group.to_string()]);
}
