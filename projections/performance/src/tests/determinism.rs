//! The fold is deterministic: folding a log in one go, or in two parts with the state carried
//! over (a runner restarting from its checkpoint), writes the same entries, byte for byte.

use super::*;

fn busy_ledger() -> Ledger {
    let (company, someone) = (customer(10), customer(1));
    let mut ledger = Ledger::new();
    ledger
        .at(
            "2025-01-01T09:00:00",
            assigned(company, "am-01", "tl-01", None),
        )
        .at(
            "2025-02-10T10:10:00",
            contact(
                contact_id(1),
                company,
                "agent-0042",
                "2025-02-10T10:00:00",
                Channel::Phone,
                500,
                Topic::Complaint,
                ContactOutcome::FollowUpNeeded,
            ),
        )
        .at(
            "2025-02-20T09:00:00",
            rated(company, Some(contact_id(1)), 4),
        )
        .at(
            "2025-03-10T10:00:00",
            issued(policy_number(3), someone, 300_000),
        )
        .at(
            "2025-03-10T10:05:00",
            contact(
                contact_id(2),
                someone,
                "agent-0007",
                "2025-03-09T16:00:00",
                Channel::Phone,
                400,
                Topic::Quote,
                ContactOutcome::Converted,
            ),
        )
        // The sale agent-0007 was credited with is cancelled, and then the call that closed
        // it is recorded late: the sale and its refund move to agent-0042.
        .at(
            "2025-03-10T10:10:00",
            cancelled(policy_number(3), someone, 100_000),
        )
        .at(
            "2025-03-10T10:20:00",
            contact(
                contact_id(3),
                someone,
                "agent-0042",
                "2025-03-10T09:30:00",
                Channel::Phone,
                1_800,
                Topic::Renewal,
                ContactOutcome::Converted,
            ),
        )
        .at(
            "2025-03-15T10:00:00",
            renewed(policy_number(1), company, 2_000_000),
        )
        .at(
            "2025-04-01T09:00:00",
            assigned(company, "am-02", "tl-01", Some("am-01")),
        )
        .at(
            "2025-04-02T09:00:00",
            contact(
                contact_id(1),
                company,
                "agent-0007",
                "2025-02-10T10:00:00",
                Channel::Phone,
                560,
                Topic::Complaint,
                ContactOutcome::Resolved,
            )
            .corrected(text("坐席记错")),
        )
        // The call that took the sale was agent-0099's: the sale and its refund move again.
        .at(
            "2025-04-03T09:00:00",
            contact(
                contact_id(3),
                someone,
                "agent-0099",
                "2025-03-10T09:30:00",
                Channel::Phone,
                1_800,
                Topic::Renewal,
                ContactOutcome::Converted,
            )
            .corrected(text("坐席记错")),
        )
        // agent-0007's quote was declined after all: a renewal within its window waits.
        .at(
            "2025-04-04T09:00:00",
            contact(
                contact_id(2),
                someone,
                "agent-0007",
                "2025-03-09T16:00:00",
                Channel::Phone,
                400,
                Topic::Quote,
                ContactOutcome::Declined,
            )
            .corrected(text("结果记错")),
        )
        .at("2025-04-10T09:00:00", rated(company, None, 2));
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
