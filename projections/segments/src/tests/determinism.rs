//! The fold is deterministic: folding a log in one go, or in two parts with a copied state in
//! between (a runner restarting from its checkpoint), writes the same entries, byte for byte.

use ledger_domain::events::{CustomerErased, CustomersMerged, PolicyEndorsed};
use ledger_domain::kinds::{ErasureReason, ProductLine};
use ledger_domain::projection::{MemoryState, StateWrite};
use ledger_domain::values::Money;

use super::book::book;
use super::*;

/// The book, then a merge, an endorsement, a correction and an erasure.
fn busy_ledger() -> Ledger {
    let mut ledger = book();
    ledger
        .on(
            "2025-07-01",
            CustomersMerged {
                customer_id: customer(8),
                survivor_id: customer(3),
                identifiers: Vec::new(),
                reason: None,
            },
        )
        .on(
            "2025-07-02",
            PolicyEndorsed {
                policy_number: policy_number(1),
                customer_id: customer(1),
                effective_on: date("2025-07-02"),
                description: text("加保"),
                plate: None,
                product_lines: Some(vec![ProductLine::CompulsoryTraffic]),
                premium_change: Money::from_fen(-100_000),
                premium: Money::from_fen(700_000),
            },
        )
        .on(
            "2025-07-03",
            phone(24, customer(2), "2025-06-29").corrected(text("日期记错")),
        )
        .on("2025-07-04", phone(81, customer(8), "2025-07-04"))
        .on(
            "2025-07-05",
            CustomerErased {
                customer_id: customer(6),
                reason: ErasureReason::CustomerRequest,
            },
        );
    ledger
}

#[test]
fn folding_in_one_go_or_in_two_parts_writes_the_same_entries() {
    let ledger = busy_ledger();
    let whole = fold(&ledger);
    assert_eq!(whole, fold(&ledger), "two folds of one log agree");
    // Seven customer records (c8 merged into c3), one merge redirect, the clock.
    assert_eq!(whole.len(), 9);
    for split in 0..=ledger.events.len() {
        let mut first = MemoryState::new();
        apply(&mut first, &ledger.events[..split]);
        let mut second = MemoryState::new();
        for (key, value) in first.entries() {
            second.put(key.clone(), value.clone());
        }
        apply(&mut second, &ledger.events[split..]);
        assert_eq!(
            second.entries(),
            whole.entries(),
            "split after {split} events"
        );
    }
}
