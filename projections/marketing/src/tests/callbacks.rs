//! The call-back queue: enquiries wait until an outbound contact names them, oldest first,
//! with their age at the reader's `now`; corrections and contacts folded before their enquiry.

use jiff::SignedDuration;

use super::*;
use crate::{PAGE_SIZE_MAX, QueryError, callback_queue, campaign, enquiry as enquiry_record};

fn queue_of(state: &MemoryState, now: &str) -> Vec<(EnquiryId, SignedDuration)> {
    callback_queue(state, beijing(now), None, PAGE_SIZE_MAX)
        .unwrap()
        .items
        .into_iter()
        .map(|(_, queued)| (queued.enquiry.id, queued.age))
        .collect()
}

fn three_enquiries() -> Ledger {
    let c = campaign_id(1);
    let mut ledger = Ledger::new();
    ledger
        .at("2025-03-07T08:00:00", launched(c, 1_000, "2025-03-01"))
        .at("2025-03-07T09:00:00", enquiry(enquiry_id(1), None, Some(c)))
        .at(
            "2025-03-07T10:00:00",
            enquiry(enquiry_id(2), Some(customer(2)), Some(c)),
        )
        .at("2025-03-07T11:00:00", enquiry(enquiry_id(3), None, None))
        // The customer chasing enquiry 1 is not a call-back.
        .at(
            "2025-03-07T11:30:00",
            contact(
                contact_id(1),
                customer(1),
                Some(enquiry_id(1)),
                Direction::Inbound,
                "2025-03-07T11:25:00",
            ),
        )
        // Enquiry 2 is called back (nobody answered, which still counts).
        .at(
            "2025-03-07T12:00:00",
            contact(
                contact_id(2),
                customer(2),
                Some(enquiry_id(2)),
                Direction::Outbound,
                "2025-03-07T11:58:00",
            ),
        );
    ledger
}

#[test]
fn the_queue_holds_enquiries_without_an_outbound_contact_oldest_first() {
    let state = three_enquiries().fold();
    assert_eq!(
        queue_of(&state, "2025-03-07T12:30:00"),
        vec![
            (enquiry_id(1), SignedDuration::from_secs(3 * 3600 + 1800)),
            (enquiry_id(3), SignedDuration::from_secs(3600 + 1800)),
        ]
    );
    // Seen from before enquiry 3 arrived, only enquiry 1 was waiting.
    assert_eq!(
        queue_of(&state, "2025-03-07T10:59:59"),
        vec![(enquiry_id(1), SignedDuration::from_secs(7199))]
    );
    let called_back = enquiry_record(&state, enquiry_id(2)).unwrap().unwrap();
    assert_eq!(called_back.callbacks, 1);
    assert_eq!(
        called_back.first_callback_at,
        Some(beijing("2025-03-07T11:58:00"))
    );
    assert_eq!(called_back.received_position, Position(3));
    assert!(!called_back.awaiting_callback());
    let record = campaign(&state, campaign_id(1)).unwrap().unwrap();
    assert_eq!(
        (record.enquiries, record.enquiries_awaiting_callback),
        (2, 1)
    );
}

#[test]
fn a_correction_that_drops_the_link_puts_the_enquiry_back_in_its_place() {
    let mut ledger = three_enquiries();
    let mut corrected = contact(
        contact_id(2),
        customer(2),
        None,
        Direction::Outbound,
        "2025-03-07T11:58:00",
    )
    .corrected(text("记错了咨询单"));
    corrected.enquiry_id = None;
    ledger.at("2025-03-07T12:10:00", corrected.clone());
    let state = ledger.fold();
    let ids: Vec<_> = queue_of(&state, "2025-03-07T12:30:00")
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    assert_eq!(ids, vec![enquiry_id(1), enquiry_id(2), enquiry_id(3)]);
    let record = campaign(&state, campaign_id(1)).unwrap().unwrap();
    assert_eq!(record.enquiries_awaiting_callback, 2);

    // Corrected again to call back enquiry 3 instead.
    corrected.enquiry_id = Some(enquiry_id(3));
    ledger.at("2025-03-07T12:20:00", corrected);
    let state = ledger.fold();
    let ids: Vec<_> = queue_of(&state, "2025-03-07T12:30:00")
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    assert_eq!(ids, vec![enquiry_id(1), enquiry_id(2)]);
    assert_eq!(
        enquiry_record(&state, enquiry_id(3))
            .unwrap()
            .unwrap()
            .callbacks,
        1
    );
}

#[test]
fn a_call_back_folded_before_its_enquiry_still_counts() {
    let mut ledger = Ledger::new();
    ledger
        .at(
            "2025-03-07T09:30:00",
            contact(
                contact_id(1),
                customer(1),
                Some(enquiry_id(1)),
                Direction::Outbound,
                "2025-03-07T09:30:00",
            ),
        )
        .at(
            "2025-03-07T09:00:00",
            enquiry(enquiry_id(1), Some(customer(1)), None),
        );
    let state = ledger.fold();
    assert_eq!(queue_of(&state, "2025-03-07T12:00:00"), vec![]);
    assert_eq!(
        enquiry_record(&state, enquiry_id(1))
            .unwrap()
            .unwrap()
            .callbacks,
        1
    );
}

#[test]
fn the_queue_pages_and_refuses_bad_cursors() {
    let state = three_enquiries().fold();
    let now = beijing("2025-03-07T12:30:00");
    let first = callback_queue(&state, now, None, 1).unwrap();
    assert_eq!(first.items.len(), 1);
    assert!(first.has_next_page);
    let rest = callback_queue(&state, now, Some(&first.items[0].0), 1).unwrap();
    assert_eq!(rest.items[0].1.enquiry.id, enquiry_id(3));
    assert!(!rest.has_next_page);
    assert_eq!(
        callback_queue(&state, now, None, PAGE_SIZE_MAX + 1),
        Err(QueryError::PageTooLarge {
            requested: PAGE_SIZE_MAX + 1,
            max: PAGE_SIZE_MAX
        })
    );
    let campaign_cursor = format!("campaign:{}", first.items[0].0.split_once(':').unwrap().1);
    for bad in [
        "callback:",
        "callback:0011",
        campaign_cursor.as_str(),
        "nonsense",
    ] {
        assert_eq!(
            callback_queue(&state, now, Some(bad), 1),
            Err(QueryError::BadCursor),
            "{bad}"
        );
    }
}

fn erased(enquiry: EnquiryId) -> ledger_domain::events::EnquiryErased {
    ledger_domain::events::EnquiryErased {
        enquiry_id: enquiry,
        reason: ledger_domain::kinds::ErasureReason::CustomerRequest,
    }
}

#[test]
fn an_erased_enquiry_leaves_the_queue_for_good() {
    let mut ledger = three_enquiries();
    ledger.at("2025-03-07T12:05:00", erased(enquiry_id(1)));
    let state = ledger.fold();
    let ids: Vec<_> = queue_of(&state, "2025-03-07T12:30:00")
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    assert_eq!(ids, vec![enquiry_id(3)]);
    let record = enquiry_record(&state, enquiry_id(1)).unwrap().unwrap();
    assert_eq!(record.erased_at, Some(beijing("2025-03-07T12:05:00")));
    assert!(!record.awaiting_callback());
    // Still one of the campaign's enquiries, no longer awaiting a call-back.
    let record = campaign(&state, campaign_id(1)).unwrap().unwrap();
    assert_eq!(
        (record.enquiries, record.enquiries_awaiting_callback),
        (2, 0)
    );

    // A call-back naming it later, and a correction taking that back, leave it out; a repeated
    // erasure in an imported log keeps the first.
    let callback = contact(
        contact_id(7),
        customer(1),
        Some(enquiry_id(1)),
        Direction::Outbound,
        "2025-03-07T12:40:00",
    );
    let mut unlinked = callback.clone().corrected(text("记错了咨询单"));
    unlinked.enquiry_id = None;
    ledger
        .at("2025-03-07T12:40:00", callback)
        .at("2025-03-07T12:45:00", unlinked)
        .at("2025-03-07T12:50:00", erased(enquiry_id(1)));
    let state = ledger.fold();
    assert_eq!(
        queue_of(&state, "2025-03-07T13:00:00")
            .into_iter()
            .map(|(id, _)| id)
            .collect::<Vec<_>>(),
        vec![enquiry_id(3)]
    );
    let record = enquiry_record(&state, enquiry_id(1)).unwrap().unwrap();
    assert_eq!(record.erased_at, Some(beijing("2025-03-07T12:05:00")));
    assert_eq!(record.callbacks, 0);
    let record = campaign(&state, campaign_id(1)).unwrap().unwrap();
    assert_eq!(record.enquiries_awaiting_callback, 0);
}

fn customer_erased(customer: CustomerId) -> ledger_domain::events::CustomerErased {
    ledger_domain::events::CustomerErased {
        customer_id: customer,
        reason: ledger_domain::kinds::ErasureReason::CustomerRequest,
    }
}

fn erased_at(state: &MemoryState, n: u16) -> Option<Timestamp> {
    enquiry_record(state, enquiry_id(n))
        .unwrap()
        .unwrap()
        .erased_at
}

fn queued_ids(state: &MemoryState, now: &str) -> Vec<EnquiryId> {
    queue_of(state, now).into_iter().map(|(id, _)| id).collect()
}

#[test]
fn a_customers_erasure_takes_the_enquiries_whose_data_went_with_it_out_of_the_queue() {
    let mut ledger = three_enquiries();
    ledger
        // Customer 4 sent enquiry 4 and nobody called back.
        .at(
            "2025-03-07T12:10:00",
            enquiry(enquiry_id(4), Some(customer(4)), None),
        )
        // Customer 1's contact names enquiry 2, which customer 2 sent: its data is customer 2's.
        .at(
            "2025-03-07T12:15:00",
            contact(
                contact_id(3),
                customer(1),
                Some(enquiry_id(2)),
                Direction::Inbound,
                "2025-03-07T12:14:00",
            ),
        );
    // Customer 5's contact named enquiry 3 by mistake and a correction took the link back.
    let mistaken = contact(
        contact_id(5),
        customer(5),
        Some(enquiry_id(3)),
        Direction::Inbound,
        "2025-03-07T12:20:00",
    );
    let mut unlinked = mistaken.clone().corrected(text("记错了咨询单"));
    unlinked.enquiry_id = None;
    ledger
        .at("2025-03-07T12:20:00", mistaken)
        .at("2025-03-07T12:21:00", unlinked);
    assert_eq!(
        queued_ids(&ledger.fold(), "2025-03-07T12:30:00"),
        vec![enquiry_id(1), enquiry_id(3), enquiry_id(4)]
    );

    ledger
        .at("2025-03-07T12:40:00", customer_erased(customer(1)))
        .at("2025-03-07T12:41:00", customer_erased(customer(4)))
        .at("2025-03-07T12:42:00", customer_erased(customer(5)));
    let state = ledger.fold();
    // Enquiry 1 (from nobody known, named by customer 1's inbound contact) and enquiry 4 left;
    // enquiry 3, whose link was corrected away, stays.
    assert_eq!(
        queued_ids(&state, "2025-03-07T13:00:00"),
        vec![enquiry_id(3)]
    );
    assert_eq!(erased_at(&state, 1), Some(beijing("2025-03-07T12:40:00")));
    assert_eq!(erased_at(&state, 4), Some(beijing("2025-03-07T12:41:00")));
    assert_eq!(
        erased_at(&state, 2),
        None,
        "customer 2's enquiry goes with customer 2"
    );
    assert_eq!(erased_at(&state, 3), None);
    let record = campaign(&state, campaign_id(1)).unwrap().unwrap();
    assert_eq!(
        (record.enquiries, record.enquiries_awaiting_callback),
        (2, 0)
    );

    // The enquiry's own erasure later keeps the first instant; customer 2's erasure takes theirs.
    ledger
        .at("2025-03-07T12:50:00", erased(enquiry_id(1)))
        .at("2025-03-07T12:55:00", customer_erased(customer(2)));
    let state = ledger.fold();
    assert_eq!(erased_at(&state, 1), Some(beijing("2025-03-07T12:40:00")));
    assert_eq!(erased_at(&state, 2), Some(beijing("2025-03-07T12:55:00")));
}
