//! Contact corrections: a correction replaces every fact of a contact, so it can take the
//! contact's response to a case back, add one, or move it; the case's first response is the
//! earliest of its responses as they stand after every correction.

use ledger_domain::ids::CaseId;
use ledger_domain::projection::{MemoryState, Order, StateRead};
use ledger_domain::values::Direction;

use super::determinism::assert_folds_alike_in_parts;
use super::*;
use crate::{CaseRecord, case};

fn record(state: &MemoryState, id: CaseId) -> CaseRecord {
    case(state, id).unwrap().expect("the case is stored")
}

/// The first response and the working seconds to it.
fn first_response(state: &MemoryState, id: CaseId) -> (Option<Timestamp>, Option<u64>) {
    let record = record(state, id);
    (
        record.first_response_at,
        record.time_to_first_response_seconds,
    )
}

/// How many entries the state holds under `prefix`.
fn entries_under(state: &MemoryState, prefix: &[u8]) -> usize {
    state.prefix(prefix, Order::Ascending, 100).unwrap().len()
}

/// A consultation opened on Monday 2025-03-10 at 09:00 (working hours 09:00-12:00 and
/// 13:00-17:30), answered by an outbound call at 10:00.
fn answered_at_ten() -> (Ledger, ContactRecorded) {
    let call = contact(
        contact_id(1),
        customer(1),
        case_id(1),
        Direction::Outbound,
        "2025-03-10T10:00:00",
    );
    let mut ledger = Ledger::new();
    ledger
        .at(
            "2025-03-10T09:00:00",
            opened(case_id(1), customer(1), "2025-03-11T17:30:00", None),
        )
        .at("2025-03-10T10:05:00", call.clone());
    (ledger, call)
}

#[test]
fn a_correction_that_leaves_the_case_out_takes_the_first_response_back() {
    let (mut ledger, call) = answered_at_ten();
    assert_eq!(
        first_response(&fold(&ledger), case_id(1)),
        (Some(beijing("2025-03-10T10:00:00")), Some(3600))
    );

    ledger.at(
        "2025-03-10T15:00:00",
        corrected(&call, |correction| correction.case_id = None),
    );
    let state = fold(&ledger);
    assert_eq!(first_response(&state, case_id(1)), (None, None));
    assert_eq!(
        record(&state, case_id(1)).first_non_contact_response_at,
        None
    );
    assert_eq!(
        entries_under(&state, b"contact/"),
        0,
        "nothing left to take back"
    );
    assert_eq!(entries_under(&state, b"response/"), 0);
    assert_folds_alike_in_parts(&ledger);
}

#[test]
fn a_first_response_taken_back_falls_back_to_the_next_earliest() {
    let (mut ledger, call) = answered_at_ten();
    let second = contact(
        contact_id(2),
        customer(1),
        case_id(1),
        Direction::Outbound,
        "2025-03-10T11:00:00",
    );
    ledger
        .at("2025-03-10T11:10:00", second.clone())
        .at(
            "2025-03-10T14:00:00",
            assigned(case_id(1), customer(1), "agent-0042"),
        )
        .at(
            "2025-03-10T15:00:00",
            corrected(&call, |correction| correction.case_id = None),
        );
    assert_eq!(
        first_response(&fold(&ledger), case_id(1)),
        (Some(beijing("2025-03-10T11:00:00")), Some(2 * 3600))
    );

    // The second call was the customer calling in: not a response either. The assignment is
    // what is left: 09:00-12:00 and 13:00-14:00, the lunch hour not counted.
    ledger.at(
        "2025-03-10T15:30:00",
        corrected(&second, |correction| {
            correction.direction = Direction::Inbound;
        }),
    );
    let state = fold(&ledger);
    assert_eq!(
        first_response(&state, case_id(1)),
        (Some(beijing("2025-03-10T14:00:00")), Some(4 * 3600))
    );
    assert_eq!(entries_under(&state, b"response/"), 0);
    assert_folds_alike_in_parts(&ledger);
}

#[test]
fn a_correction_that_links_an_outbound_contact_to_a_case_adds_its_response() {
    let unlinked = ContactRecorded {
        case_id: None,
        ..contact(
            contact_id(1),
            customer(1),
            case_id(1),
            Direction::Outbound,
            "2025-03-10T10:30:00",
        )
    };
    let inbound = contact(
        contact_id(2),
        customer(1),
        case_id(1),
        Direction::Inbound,
        "2025-03-10T10:00:00",
    );
    let mut ledger = Ledger::new();
    ledger
        .at(
            "2025-03-10T09:00:00",
            opened(case_id(1), customer(1), "2025-03-11T17:30:00", None),
        )
        .at("2025-03-10T10:35:00", unlinked.clone())
        .at("2025-03-10T10:05:00", inbound.clone())
        .at("2025-03-10T16:00:00", resolved(case_id(1), customer(1)));
    assert_eq!(
        first_response(&fold(&ledger), case_id(1)).0,
        Some(beijing("2025-03-10T16:00:00")),
        "only the resolution answered the case"
    );

    ledger.at(
        "2025-03-10T16:30:00",
        corrected(&unlinked, |correction| {
            correction.case_id = Some(case_id(1));
        }),
    );
    assert_eq!(
        first_response(&fold(&ledger), case_id(1)),
        (Some(beijing("2025-03-10T10:30:00")), Some(90 * 60))
    );

    // The call thought inbound was an agent's call-back, earlier still.
    ledger.at(
        "2025-03-10T17:00:00",
        corrected(&inbound, |correction| {
            correction.direction = Direction::Outbound;
        }),
    );
    assert_eq!(
        first_response(&fold(&ledger), case_id(1)),
        (Some(beijing("2025-03-10T10:00:00")), Some(3600))
    );
    assert_folds_alike_in_parts(&ledger);
}

#[test]
fn a_correction_never_makes_the_contact_a_case_was_opened_in_its_response() {
    let opening = contact(
        contact_id(1),
        customer(1),
        case_id(1),
        Direction::Outbound,
        "2025-03-10T09:00:00",
    );
    let mut ledger = Ledger::new();
    ledger
        .at(
            "2025-03-10T09:00:00",
            ServiceCaseOpened {
                contact_id: Some(contact_id(1)),
                ..opened(case_id(1), customer(1), "2025-03-11T17:30:00", None)
            },
        )
        .at("2025-03-10T09:10:00", opening.clone())
        .at(
            "2025-03-10T11:00:00",
            corrected(&opening, |correction| {
                correction.started_at = beijing("2025-03-10T09:05:00");
            }),
        );
    let state = fold(&ledger);
    assert_eq!(first_response(&state, case_id(1)), (None, None));
    assert_eq!(entries_under(&state, b"contact/"), 0);
}

#[test]
fn a_corrected_start_moves_the_response_earlier_or_later() {
    let (mut ledger, call) = answered_at_ten();
    ledger.at(
        "2025-03-10T15:00:00",
        corrected(&call, |correction| {
            correction.started_at = beijing("2025-03-10T09:30:00");
        }),
    );
    assert_eq!(
        first_response(&fold(&ledger), case_id(1)),
        (Some(beijing("2025-03-10T09:30:00")), Some(30 * 60))
    );

    // Corrected again, to after lunch: every correction replaces the one before.
    ledger.at(
        "2025-03-10T16:00:00",
        corrected(&call, |correction| {
            correction.started_at = beijing("2025-03-10T15:00:00");
        }),
    );
    let state = fold(&ledger);
    assert_eq!(
        first_response(&state, case_id(1)),
        (Some(beijing("2025-03-10T15:00:00")), Some(5 * 3600))
    );
    assert_eq!(
        entries_under(&state, b"response/"),
        1,
        "the old entry moved"
    );

    // Before the opening, it counts as at the opening.
    ledger.at(
        "2025-03-10T16:30:00",
        corrected(&call, |correction| {
            correction.started_at = beijing("2025-03-10T08:00:00");
        }),
    );
    assert_eq!(
        first_response(&fold(&ledger), case_id(1)),
        (Some(beijing("2025-03-10T09:00:00")), Some(0))
    );
    assert_folds_alike_in_parts(&ledger);
}

#[test]
fn a_correction_that_moves_a_contact_to_another_case_moves_its_response() {
    let (mut ledger, call) = answered_at_ten();
    ledger
        .at(
            "2025-03-10T09:30:00",
            opened(case_id(2), customer(1), "2025-03-11T17:30:00", None),
        )
        .at(
            "2025-03-10T15:00:00",
            corrected(&call, |correction| {
                correction.case_id = Some(case_id(2));
            }),
        );
    let state = fold(&ledger);
    assert_eq!(first_response(&state, case_id(1)), (None, None));
    assert_eq!(
        first_response(&state, case_id(2)),
        (Some(beijing("2025-03-10T10:00:00")), Some(30 * 60))
    );
    assert_folds_alike_in_parts(&ledger);
}

#[test]
fn a_reopened_case_follows_corrections_of_its_first_cycles_responses() {
    let (mut ledger, call) = answered_at_ten();
    ledger
        .at("2025-03-10T16:00:00", resolved(case_id(1), customer(1)))
        .at(
            "2025-03-11T09:00:00",
            reopened(case_id(1), customer(1), "2025-03-12T17:30:00"),
        )
        .at(
            "2025-03-11T10:00:00",
            corrected(&call, |correction| correction.case_id = None),
        );
    // The first response is the case's, not the cycle's: the first resolution is left.
    assert_eq!(
        first_response(&fold(&ledger), case_id(1)),
        (Some(beijing("2025-03-10T16:00:00")), Some(6 * 3600))
    );
    assert_folds_alike_in_parts(&ledger);
}

#[test]
fn the_layout_that_did_not_follow_corrections_is_rebuilt() {
    use ledger_domain::projection::Projection;

    let shipped = projection();
    let without_corrections = 7u32.wrapping_mul(0x9E37_79B9) ^ shipped.data_fingerprint;
    assert_ne!(shipped.version(), without_corrections);
}
