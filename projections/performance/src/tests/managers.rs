//! Account managers: the history of a corporate customer's managers, CSAT around each
//! handover, sales credited to the manager, and the manager's book figures.

use super::*;
use crate::{
    CsatAverage, Figures, Handover, ManagerPeriod, account_manager_history, agent,
    handover_satisfaction, manager, manager_stats,
};

fn fleet() -> Ledger {
    let company = customer(10);
    let mut ledger = Ledger::new();
    ledger
        .at("2024-12-01T09:00:00", rated(company, None, 5))
        .at(
            "2025-01-01T09:00:00",
            assigned(company, "am-01", "tl-01", None),
        )
        .at("2025-01-15T09:00:00", rated(company, None, 3))
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
        // A fleet renewal: credited to the account manager, as agent and for the book.
        .at(
            "2025-03-15T10:00:00",
            renewed(policy_number(1), company, 2_000_000),
        )
        .at(
            "2025-04-01T09:00:00",
            assigned(company, "am-02", "tl-01", Some("am-01")),
        )
        .at("2025-04-10T09:00:00", rated(company, None, 2))
        .at("2025-06-29T09:00:00", rated(company, None, 4))
        .at("2025-07-15T09:00:00", rated(company, None, 5))
        // The same manager again under a new team lead: a handover too.
        .at(
            "2025-08-01T09:00:00",
            assigned(company, "am-02", "tl-02", Some("am-02")),
        )
        // The same manager and lead again: no handover.
        .at(
            "2025-09-01T09:00:00",
            assigned(company, "am-02", "tl-02", Some("am-02")),
        );
    ledger
}

#[test]
fn the_history_lists_each_manager_with_their_period_and_team_lead() {
    let state = fleet().fold();
    let history = account_manager_history(&state, customer(10)).unwrap();
    let period =
        |manager: &str, lead: &str, from: &str, to: Option<&str>, previous: Option<&str>| {
            ManagerPeriod {
                manager: staff(manager),
                team_lead: staff(lead),
                from: beijing(from),
                to: to.map(beijing),
                previous_manager: previous.map(staff),
            }
        };
    assert_eq!(
        history,
        vec![
            period(
                "am-01",
                "tl-01",
                "2025-01-01T09:00:00",
                Some("2025-04-01T09:00:00"),
                None
            ),
            period(
                "am-02",
                "tl-01",
                "2025-04-01T09:00:00",
                Some("2025-08-01T09:00:00"),
                Some("am-01")
            ),
            period(
                "am-02",
                "tl-02",
                "2025-08-01T09:00:00",
                Some("2025-09-01T09:00:00"),
                Some("am-02")
            ),
            period("am-02", "tl-02", "2025-09-01T09:00:00", None, Some("am-02")),
        ]
    );
    assert_eq!(
        account_manager_history(&state, customer(11)).unwrap(),
        vec![]
    );
}

#[test]
fn satisfaction_before_and_after_each_handover_is_exact() {
    let state = fleet().fold();
    let handovers = handover_satisfaction(&state, customer(10)).unwrap();
    assert_eq!(
        handovers,
        vec![
            Handover {
                at: beijing("2025-04-01T09:00:00"),
                from_manager: Some(staff("am-01")),
                from_team_lead: Some(staff("tl-01")),
                to_manager: staff("am-02"),
                to_team_lead: staff("tl-01"),
                // 2025-01-15 (3) and 2025-02-20 (4); 2024-12-01 is more than 90 days before.
                before: CsatAverage { sum: 7, answers: 2 },
                // 2025-04-10 (2) and 2025-06-29 (4); 2025-07-15 is more than 90 days after.
                after: CsatAverage { sum: 6, answers: 2 },
            },
            Handover {
                at: beijing("2025-08-01T09:00:00"),
                from_manager: Some(staff("am-02")),
                from_team_lead: Some(staff("tl-01")),
                to_manager: staff("am-02"),
                to_team_lead: staff("tl-02"),
                // 2025-06-29 (4) and 2025-07-15 (5).
                before: CsatAverage { sum: 9, answers: 2 },
                after: CsatAverage::default(),
            },
        ]
    );
    assert_eq!(handovers[0].before.hundredths(), Some(350));
    assert_eq!(handovers[0].after.hundredths(), Some(300));
    assert_eq!(handovers[1].after.hundredths(), None);
}

#[test]
fn a_manager_is_credited_with_their_book() {
    let state = fleet().fold();
    let book = manager(
        &state,
        &staff("am-01"),
        date("2025-01-01"),
        date("2025-03-31"),
    )
    .unwrap()
    .unwrap()
    .figures;
    assert_eq!(
        book,
        Figures {
            contacts_by_channel: [(Channel::Phone, 1)].into_iter().collect(),
            handling_seconds: 500,
            // Every answer of the customer while in the book: 3 and 4.
            csat_sum: 7,
            csat_answers: 2,
            complaints: 1,
            converted_contacts: 0,
            conversions: 1,
            premium_won: Money::from_fen(2_000_000),
            ..Figures::default()
        }
    );
    // The renewal is the manager's sale as an agent too; the contact is agent-0042's.
    let as_agent = agent(
        &state,
        &staff("am-01"),
        date("2025-03-01"),
        date("2025-03-31"),
    )
    .unwrap()
    .unwrap()
    .figures;
    assert_eq!(
        (as_agent.conversions, as_agent.premium_won),
        (1, Money::from_fen(2_000_000))
    );
    assert_eq!(as_agent.contacts(), 0);

    let page = manager_stats(&state, date("2025-04-01"), date("2025-12-31"), None, 10).unwrap();
    let rows: Vec<_> = page
        .items
        .iter()
        .map(|(_, row)| (row.staff.clone(), row.figures.csat()))
        .collect();
    assert_eq!(
        rows,
        vec![
            (staff("am-01"), CsatAverage::default()),
            (
                staff("am-02"),
                CsatAverage {
                    sum: 11,
                    answers: 3
                }
            ),
        ]
    );
}

#[test]
fn facts_and_assignments_dated_before_the_latest_assignment_find_the_manager_then() {
    let company = customer(11);
    let mut ledger = Ledger::new();
    ledger
        .at(
            "2025-01-01T09:00:00",
            assigned(company, "am-01", "tl-01", None),
        )
        .at(
            "2025-04-01T09:00:00",
            assigned(company, "am-02", "tl-01", Some("am-01")),
        )
        // Folded after am-02's assignment, dated in am-01's time.
        .at("2025-02-01T09:00:00", rated(company, None, 2))
        // A back-dated assignment: am-03 from March, folded after April's.
        .at(
            "2025-03-01T09:00:00",
            assigned(company, "am-03", "tl-01", Some("am-01")),
        )
        .at("2025-03-15T09:00:00", rated(company, None, 3))
        // After every assignment: still am-02, the one dated last.
        .at("2025-05-01T09:00:00", rated(company, None, 5));
    let state = ledger.fold();
    let answers = |manager_id: &str| {
        let figures = manager(
            &state,
            &staff(manager_id),
            date("2025-01-01"),
            date("2025-12-31"),
        )
        .unwrap()
        .unwrap()
        .figures;
        (figures.csat_sum, figures.csat_answers)
    };
    assert_eq!(answers("am-01"), (2, 1));
    assert_eq!(answers("am-03"), (3, 1));
    assert_eq!(answers("am-02"), (5, 1));
}

#[test]
fn a_cancelled_fleet_renewal_shows_its_refund_against_the_manager_it_was_credited_to() {
    let company = customer(10);
    let mut ledger = fleet();
    // Cancelled after the customer moved to am-02: the refund stays with am-01, whose sale it was.
    ledger.at(
        "2025-10-01T10:00:00",
        cancelled(policy_number(1), company, 500_000),
    );
    let state = ledger.fold();
    let (from, to) = (date("2025-10-01"), date("2025-10-31"));
    let book = manager(&state, &staff("am-01"), from, to)
        .unwrap()
        .unwrap()
        .figures;
    let sold = agent(&state, &staff("am-01"), from, to)
        .unwrap()
        .unwrap()
        .figures;
    for figures in [book, sold] {
        assert_eq!(
            (figures.cancellations, figures.premium_refunded),
            (1, Money::from_fen(500_000))
        );
    }
    let successor = manager(&state, &staff("am-02"), from, to)
        .unwrap()
        .unwrap()
        .figures;
    assert_eq!(successor.cancellations, 0);
}
