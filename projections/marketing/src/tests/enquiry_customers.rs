//! The customers of an enquiry, read from the enquiry's side: its sender, or the customers
//! whose contacts name a lead from nobody known; moved by corrections, unchanged by erasures,
//! and the same enquiries a customer's erasure takes with it.

use ledger_domain::events::{CustomerErased, EnquiryErased};
use ledger_domain::kinds::ErasureReason;

use super::*;
use crate::{customers_of_enquiry, enquiry as enquiry_record};

fn customers_of(state: &MemoryState, n: u16) -> Vec<CustomerId> {
    customers_of_enquiry(state, enquiry_id(n)).unwrap()
}

fn inbound(n: u16, customer_n: u16, enquiry: Option<EnquiryId>, local: &str) -> ContactRecorded {
    contact(
        contact_id(n),
        customer(customer_n),
        enquiry,
        Direction::Inbound,
        local,
    )
}

/// Enquiry 1 from nobody known, chased by customer 1 and called back through customer 3;
/// enquiry 2 sent by customer 2, whose call customer 1's contact names too; enquiry 3 from
/// nobody known that nobody names.
fn answered_leads() -> Ledger {
    let mut ledger = Ledger::new();
    ledger
        .at("2025-03-07T09:00:00", enquiry(enquiry_id(1), None, None))
        .at(
            "2025-03-07T09:10:00",
            enquiry(enquiry_id(2), Some(customer(2)), None),
        )
        .at("2025-03-07T09:20:00", enquiry(enquiry_id(3), None, None))
        .at(
            "2025-03-07T10:00:00",
            inbound(1, 1, Some(enquiry_id(1)), "2025-03-07T09:58:00"),
        )
        .at(
            "2025-03-07T10:10:00",
            contact(
                contact_id(2),
                customer(3),
                Some(enquiry_id(1)),
                Direction::Outbound,
                "2025-03-07T10:08:00",
            ),
        )
        .at(
            "2025-03-07T10:20:00",
            inbound(3, 1, Some(enquiry_id(2)), "2025-03-07T10:18:00"),
        );
    ledger
}

#[test]
fn an_enquirys_customers_are_its_sender_or_those_whose_contacts_name_a_lead_from_nobody_known() {
    let state = answered_leads().fold();
    assert_eq!(customers_of(&state, 1), vec![customer(1), customer(3)]);
    assert_eq!(
        customers_of(&state, 2),
        vec![customer(2)],
        "a known customer's enquiry is theirs, whoever's contact names it"
    );
    assert_eq!(customers_of(&state, 3), Vec::<CustomerId>::new());
    assert_eq!(
        customers_of(&state, 4),
        Vec::<CustomerId>::new(),
        "never received"
    );
}

#[test]
fn a_contact_folded_before_its_enquiry_counts_once_the_enquiry_arrives() {
    let mut ledger = Ledger::new();
    ledger.at(
        "2025-03-07T10:00:00",
        inbound(1, 1, Some(enquiry_id(1)), "2025-03-07T09:58:00"),
    );
    assert_eq!(customers_of(&ledger.fold(), 1), Vec::<CustomerId>::new());
    ledger.at("2025-03-07T09:00:00", enquiry(enquiry_id(1), None, None));
    assert_eq!(customers_of(&ledger.fold(), 1), vec![customer(1)]);
}

#[test]
fn a_correction_moves_a_contacts_link_and_the_last_tie_unlinks() {
    let mut ledger = answered_leads();
    // Customer 1 chased enquiry 1 twice; the second call was recorded against the wrong lead.
    let second = inbound(4, 1, Some(enquiry_id(1)), "2025-03-07T11:00:00");
    let mut moved = second.corrected(text("记错了咨询单"));
    moved.enquiry_id = Some(enquiry_id(3));
    ledger
        .at("2025-03-07T11:00:00", second)
        .at("2025-03-07T11:05:00", moved);
    let state = ledger.fold();
    assert_eq!(customers_of(&state, 1), vec![customer(1), customer(3)]);
    assert_eq!(customers_of(&state, 3), vec![customer(1)]);

    // The first chase was a mistake too: a correction that names no enquiry unlinks it, and
    // customer 3's call-back moved to enquiry 3.
    let unlinked = inbound(1, 1, None, "2025-03-07T09:58:00").corrected(text("不是这张单"));
    let moved_callback = contact(
        contact_id(2),
        customer(3),
        Some(enquiry_id(3)),
        Direction::Outbound,
        "2025-03-07T10:08:00",
    )
    .corrected(text("回电的是另一张单"));
    ledger
        .at("2025-03-07T11:10:00", unlinked)
        .at("2025-03-07T11:15:00", moved_callback);
    let state = ledger.fold();
    assert_eq!(customers_of(&state, 1), Vec::<CustomerId>::new());
    assert_eq!(customers_of(&state, 3), vec![customer(1), customer(3)]);
}

#[test]
fn erasures_leave_an_enquirys_customers_and_a_customers_erasure_takes_exactly_theirs() {
    let mut ledger = answered_leads();
    ledger
        .at(
            "2025-03-07T12:00:00",
            CustomerErased {
                customer_id: customer(1),
                reason: ErasureReason::CustomerRequest,
            },
        )
        .at(
            "2025-03-07T12:10:00",
            EnquiryErased {
                enquiry_id: enquiry_id(3),
                reason: ErasureReason::CustomerRequest,
            },
        );
    let state = ledger.fold();
    // Customer 1's erasure took enquiry 1 (theirs), not enquiry 2 (customer 2's).
    for (n, erased) in [(1, true), (2, false), (3, true)] {
        let record = enquiry_record(&state, enquiry_id(n)).unwrap().unwrap();
        assert_eq!(record.erased_at.is_some(), erased, "enquiry {n}");
    }
    assert_eq!(
        customers_of(&state, 1),
        vec![customer(1), customer(3)],
        "the lead was still theirs"
    );
    assert_eq!(customers_of(&state, 2), vec![customer(2)]);
    assert_eq!(customers_of(&state, 3), Vec::<CustomerId>::new());

    // Folded in two parts, the mirror is written byte for byte as in one.
    let whole = ledger.fold();
    for split in 0..=ledger.events.len() {
        let (head, tail) = ledger.events.split_at(split);
        let mut resumed = MemoryState::new();
        apply(&mut resumed, head);
        apply(&mut resumed, tail);
        assert_eq!(resumed.entries(), whole.entries(), "split at {split}");
    }
}
