//! The fold is deterministic: folding a log in one go, or in two parts with the state carried
//! over (a runner restarting from its checkpoint), writes the same entries, byte for byte.

use super::*;

fn busy_ledger() -> Ledger {
    let mut ledger = Ledger::new();
    ledger
        .by(
            "head-cs",
            "2025-01-06T09:00:00",
            published(1, SERVICE, 1, None, &[]),
        )
        .at(
            "2025-01-06T09:01:00",
            published(5, CLAIMS, 1, Some(3), &[9]),
        )
        .at("2025-01-06T09:02:00", published(6, CLAIMS, 1, Some(1), &[]))
        .at(
            "2025-01-07T09:00:00",
            training(1, 1, "agent-0001", Some("trainer-01")),
        )
        .at("2025-01-08T09:00:00", published(3, CLAIMS, 1, None, &[1]))
        .at("2025-01-08T09:01:00", published(9, CLAIMS, 1, None, &[]))
        .at(
            "2025-01-09T09:00:00",
            published(6, SERVICE, 2, Some(1), &[5]),
        )
        .at("2025-01-10T09:00:00", training(6, 2, "agent-0002", None))
        .at("2025-01-11T09:00:00", published(1, CLAIMS, 2, None, &[]));
    ledger
}

#[test]
fn folding_in_two_parts_writes_the_same_entries_as_in_one() {
    let ledger = busy_ledger();
    let whole = ledger.fold();
    for split in 0..=ledger.events.len() {
        let (head, tail) = ledger.events.split_at(split);
        let mut first = MemoryState::new();
        apply(&mut first, head);
        let mut resumed = first.clone();
        apply(&mut resumed, tail);
        assert_eq!(resumed.entries(), whole.entries(), "split at {split}");
    }
    assert!(!whole.is_empty());
}
