//! Pagination: cursors that continue across pages and segments, the page-size limit, and
//! cursors this listing did not issue.

use ledger_domain::ids::CaseId;
use ledger_domain::projection::MemoryState;

use super::*;
use crate::{
    CaseRecord, HistoryError, PAGE_SIZE_MAX, Page, cases, claims_past_guarantee, customer_history,
    open_cases_by_deadline,
};

fn ids(page: &Page<CaseRecord>) -> Vec<CaseId> {
    page.items.iter().map(|(_, record)| record.id).collect()
}

fn last_cursor<T>(page: &Page<T>) -> String {
    page.items.last().expect("a non-empty page").0.clone()
}

/// Seven open cases due on consecutive days, opened in the opposite order.
fn seven_open_cases() -> (Ledger, Vec<CaseId>) {
    let mut ledger = Ledger::new();
    let mut by_deadline = Vec::new();
    for day in (10..17_u16).rev() {
        let id = case_id(day);
        let deadline = format!("2025-04-{day}T17:30:00");
        ledger.at(
            "2025-03-03T09:00:00",
            opened(id, customer(1), &deadline, None),
        );
        by_deadline.insert(0, id);
    }
    (ledger, by_deadline)
}

#[test]
fn cursors_walk_the_open_queue_page_by_page() {
    let (ledger, by_deadline) = seven_open_cases();
    let state = fold(&ledger);

    let first = open_cases_by_deadline(&state, None, 3).unwrap();
    assert_eq!(ids(&first), by_deadline[..3]);
    assert!(first.has_next_page);
    let second = open_cases_by_deadline(&state, Some(&last_cursor(&first)), 3).unwrap();
    assert_eq!(ids(&second), by_deadline[3..6]);
    assert!(second.has_next_page);
    let third = open_cases_by_deadline(&state, Some(&last_cursor(&second)), 3).unwrap();
    assert_eq!(ids(&third), by_deadline[6..]);
    assert!(!third.has_next_page);

    // Exactly the remaining items: no next page.
    let exact = open_cases_by_deadline(&state, Some(&last_cursor(&second)), 1).unwrap();
    assert_eq!(ids(&exact), by_deadline[6..]);
    assert!(!exact.has_next_page);

    // `first: 0` says whether anything is there without returning it.
    let none = open_cases_by_deadline(&state, None, 0).unwrap();
    assert!(none.items.is_empty());
    assert!(none.has_next_page);
}

#[test]
fn a_cursor_survives_the_removal_of_the_entry_it_points_at() {
    let (mut ledger, by_deadline) = seven_open_cases();
    let state = fold(&ledger);
    let first = open_cases_by_deadline(&state, None, 2).unwrap();

    ledger.at("2025-03-04T09:00:00", resolved(by_deadline[1], customer(1)));
    let state = fold(&ledger);
    let next = open_cases_by_deadline(&state, Some(&last_cursor(&first)), 2).unwrap();
    assert_eq!(ids(&next), by_deadline[2..4]);
}

#[test]
fn pages_continue_from_open_cases_into_resolved_and_closed_ones() {
    let (a, b, c, d) = (case_id(1), case_id(2), case_id(3), case_id(4));
    let mut ledger = Ledger::new();
    ledger
        .at(
            "2025-03-03T09:00:00",
            opened(a, customer(1), "2025-03-20T17:30:00", None),
        )
        .at(
            "2025-03-03T09:00:00",
            opened(b, customer(1), "2025-03-21T17:30:00", None),
        )
        .at(
            "2025-03-03T09:00:00",
            opened(c, customer(1), "2025-03-22T17:30:00", None),
        )
        .at(
            "2025-03-03T09:00:00",
            opened(d, customer(1), "2025-03-23T17:30:00", None),
        )
        .at("2025-03-04T09:00:00", resolved(c, customer(1)))
        .at("2025-03-05T09:00:00", resolved(d, customer(1)))
        .at("2025-03-06T09:00:00", resolved(b, customer(1)))
        .at("2025-03-07T09:00:00", closed(b, customer(1)));
    let state = fold(&ledger);
    let now = beijing("2025-03-08T09:00:00");

    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = cases(&state, None, false, now, after.as_deref(), 2).unwrap();
        seen.extend(ids(&page));
        if !page.has_next_page {
            break;
        }
        after = Some(last_cursor(&page));
    }
    // Open (a), then resolved newest first (d, c), then closed (b).
    assert_eq!(seen, vec![a, d, c, b]);
}

#[test]
fn the_page_size_is_bounded_and_over_asking_is_an_error() {
    let (ledger, _) = seven_open_cases();
    let state = fold(&ledger);
    assert!(open_cases_by_deadline(&state, None, PAGE_SIZE_MAX).is_ok());
    assert_eq!(
        open_cases_by_deadline(&state, None, PAGE_SIZE_MAX + 1),
        Err(HistoryError::PageTooLarge {
            requested: PAGE_SIZE_MAX + 1,
            max: PAGE_SIZE_MAX
        })
    );
    assert_eq!(
        customer_history(&state, customer(1), None, 1000).map(|page| page.items.len()),
        Err(HistoryError::PageTooLarge {
            requested: 1000,
            max: PAGE_SIZE_MAX
        })
    );
}

#[test]
fn cursors_not_issued_by_the_listing_are_rejected() {
    let (ledger, _) = seven_open_cases();
    let state: MemoryState = fold(&ledger);
    let history = customer_history(&state, customer(1), None, 2).unwrap();
    let history_cursor = last_cursor(&history);
    let open_cursor = last_cursor(&open_cases_by_deadline(&state, None, 2).unwrap());
    let now = beijing("2025-03-08T09:00:00");

    let open_with = |cursor: &str| open_cases_by_deadline(&state, Some(cursor), 2).map(|_| ());
    for bad in [
        "",
        "open",
        "open:",
        "open:zz",
        "open:00",
        "nonsense:00",
        history_cursor.as_str(),
        &open_cursor.to_uppercase(),
        &format!("{open_cursor}00"),
    ] {
        assert_eq!(open_with(bad), Err(HistoryError::BadCursor), "{bad:?}");
    }
    assert_eq!(
        claims_past_guarantee(&state, now, Some(&open_cursor), 2).map(|_| ()),
        Err(HistoryError::BadCursor)
    );
    assert_eq!(
        customer_history(&state, customer(1), Some(&open_cursor), 2).map(|_| ()),
        Err(HistoryError::BadCursor)
    );
    // The history's own cursor continues it.
    let rest = customer_history(&state, customer(1), Some(&history_cursor), 10).unwrap();
    assert_eq!(rest.items.len(), 5);
    assert!(!rest.has_next_page);
}

/// Two cases resolved late and reopened, due again on 04-20 and 04-21 at closing time: both
/// breached, neither overdue on 04-15; both overdue on 04-22.
fn two_late_cases_reopened() -> (MemoryState, [CaseId; 2]) {
    let (x, y) = (case_id(1), case_id(2));
    let mut ledger = Ledger::new();
    for (case, reopened_deadline) in [(x, "2025-04-20T17:30:00"), (y, "2025-04-21T17:30:00")] {
        ledger
            .at(
                "2025-04-01T09:00:00",
                opened(case, customer(1), "2025-04-02T09:00:00", None),
            )
            .at("2025-04-03T09:00:00", resolved(case, customer(1)))
            .at(
                "2025-04-04T09:00:00",
                reopened(case, customer(1), reopened_deadline),
            );
    }
    (fold(&ledger), [x, y])
}

#[test]
fn a_breached_list_s_later_pages_keep_the_first_page_s_instant() {
    let (state, [x, y]) = two_late_cases_reopened();
    let breached =
        |now: &str, after: Option<&str>| cases(&state, None, true, beijing(now), after, 1).unwrap();
    let first = breached("2025-04-15T09:00:00", None);
    assert_eq!(ids(&first), [x]);
    assert!(first.has_next_page);
    // A week later both are past their deadlines, so cut at that instant `y` would sit before
    // `x`, behind the cursor: continuing the first page's cut lists it.
    let second = breached("2025-04-22T09:00:00", Some(&last_cursor(&first)));
    assert_eq!(ids(&second), [y]);
    assert!(!second.has_next_page);
    // A listing from the start is cut at its own instant: overdue, the longest first.
    assert_eq!(ids(&breached("2025-04-22T09:00:00", None)), [x]);
    let fresh = breached("2025-04-22T09:00:00", None);
    assert_eq!(
        ids(&breached("2025-04-22T09:00:00", Some(&last_cursor(&fresh)))),
        [y]
    );

    // A cursor without the instant, or with one after now, was not issued by this listing.
    let cursor = last_cursor(&first);
    let (within, _) = cursor.rsplit_once('@').expect("an instant");
    let later = format!(
        "{within}@{}",
        beijing("2025-04-16T09:00:00").as_nanosecond()
    );
    for bad in [
        within,
        later.as_str(),
        &format!("{within}@"),
        &format!("{within}@x"),
    ] {
        assert_eq!(
            cases(
                &state,
                None,
                true,
                beijing("2025-04-15T09:00:00"),
                Some(bad),
                1
            )
            .map(|_| ()),
            Err(HistoryError::BadCursor),
            "{bad:?}"
        );
    }
    // Nor by the unfiltered list.
    assert_eq!(
        cases(
            &state,
            None,
            false,
            beijing("2025-04-15T09:00:00"),
            Some(&cursor),
            1
        )
        .map(|_| ()),
        Err(HistoryError::BadCursor)
    );
}
