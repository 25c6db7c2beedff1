//! The fold is deterministic: folding a log in one go, or in two parts with the state carried
//! over (a runner restarting from its checkpoint), writes the same entries, byte for byte.

use ledger_domain::events::{ContactCorrected, PolicyCancelled, PolicyRenewed};
use ledger_domain::kinds::CancellationReason;

use super::*;

/// A log touching every kind of event the projection folds.
fn busy_ledger() -> Ledger {
    let c = campaign_id(1);
    let mut ledger = Ledger::new();
    ledger
        .at("2025-03-01T09:00:00", launched(c, 1_000_000, "2025-03-01"))
        .at("2025-03-02T09:00:00", cost(c, 200_000, 200_000))
        .at("2025-03-03T09:00:00", touch(c, customer(1), Channel::Phone))
        .at("2025-03-04T09:00:00", enquiry(enquiry_id(1), None, Some(c)))
        .at(
            "2025-03-04T10:00:00",
            enquiry(enquiry_id(2), Some(customer(2)), Some(c)),
        )
        .at(
            "2025-03-04T11:00:00",
            contact(
                contact_id(1),
                customer(2),
                Some(enquiry_id(2)),
                Direction::Outbound,
                "2025-03-04T10:55:00",
            ),
        )
        .at(
            "2025-03-05T10:00:00",
            issued(policy_number(1), customer(2), 500_000, Some(c)),
        )
        .at(
            "2025-03-05T10:01:00",
            response(
                c,
                customer(2),
                CampaignResponse::Purchased,
                500_000,
                Some(policy_number(1)),
            ),
        )
        // A second campaign's purchase of the same sale (written before the aggregate refused
        // it), a renewal a purchase response wins, and a cancellation.
        .at(
            "2025-03-05T11:00:00",
            launched(campaign_id(2), 1_000_000, "2025-03-01"),
        )
        .at(
            "2025-03-05T11:01:00",
            response(
                campaign_id(2),
                customer(2),
                CampaignResponse::Purchased,
                500_000,
                Some(policy_number(1)),
            ),
        )
        .at(
            "2025-03-05T12:00:00",
            issued(policy_number(2), customer(3), 300_000, None),
        )
        .at(
            "2025-03-05T12:01:00",
            response(
                campaign_id(2),
                customer(3),
                CampaignResponse::Purchased,
                300_000,
                Some(policy_number(2)),
            ),
        )
        .at(
            "2025-03-05T12:02:00",
            PolicyRenewed {
                policy_number: policy_number(2),
                customer_id: customer(3),
                product_lines: vec![ProductLine::CompulsoryTraffic],
                premium: Money::from_fen(310_000),
                previous_premium: Money::from_fen(300_000),
                period_start: date("2026-04-01"),
                period_end: date("2027-03-31"),
                sales_channel: Channel::Phone,
                campaign_id: Some(c),
            },
        )
        .at(
            "2025-03-05T13:00:00",
            PolicyCancelled {
                policy_number: policy_number(1),
                customer_id: customer(2),
                cancelled_on: date("2025-06-01"),
                reason: CancellationReason::CustomerRequest,
                refund: Money::from_fen(100_000),
            },
        )
        .at(
            "2025-03-06T09:00:00",
            ContactCorrected {
                enquiry_id: Some(enquiry_id(1)),
                ..contact(
                    contact_id(1),
                    customer(2),
                    None,
                    Direction::Outbound,
                    "2025-03-04T10:55:00",
                )
                .corrected(text("咨询单号记错"))
            },
        )
        .at(
            "2025-03-07T09:00:00",
            ledger_domain::events::CampaignClosed {
                campaign_id: c,
                budget: Money::from_fen(1_000_000),
                total_cost: Money::from_fen(200_000),
                touches: 1,
                responses: 1,
                premium_won: Money::from_fen(500_000),
                summary: None,
            },
        );
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
