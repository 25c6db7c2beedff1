//! Agent figures for a date range: contacts by channel, handling time, CSAT, complaints,
//! converted contacts and credited sales; corrections; pages and refused requests.

use std::collections::BTreeMap;

use super::*;
use crate::{
    DATE_RANGE_DAYS_MAX, Figures, PAGE_SIZE_MAX, QueryError, StaffFigures, agent, agent_stats,
};

fn march() -> Ledger {
    let (someone, renewer, buyer) = (customer(1), customer(2), customer(3));
    let mut ledger = Ledger::new();
    ledger
        .at(
            "2025-03-03T10:05:00",
            contact(
                contact_id(1),
                someone,
                "agent-0042",
                "2025-03-03T10:00:00",
                Channel::Phone,
                300,
                Topic::Complaint,
                ContactOutcome::Resolved,
            ),
        )
        .at(
            "2025-03-03T10:30:00",
            rated(someone, Some(contact_id(1)), 2),
        )
        .at(
            "2025-03-03T11:10:00",
            contact(
                contact_id(2),
                renewer,
                "agent-0042",
                "2025-03-03T11:00:00",
                Channel::WeChat,
                600,
                Topic::Renewal,
                ContactOutcome::Converted,
            ),
        )
        .at(
            "2025-03-03T11:30:00",
            rated(renewer, Some(contact_id(2)), 5),
        )
        // Sold an hour after the converted renewal call: the call's agent is credited.
        .at(
            "2025-03-03T12:00:00",
            renewed(policy_number(2), renewer, 450_000),
        )
        .at(
            "2025-03-04T09:02:00",
            contact(
                contact_id(3),
                someone,
                "agent-0042",
                "2025-03-04T09:00:00",
                Channel::Phone,
                120,
                Topic::Quote,
                ContactOutcome::NoAnswer,
            ),
        )
        // Self-service is nobody's work.
        .at(
            "2025-03-05T20:00:00",
            contact(
                contact_id(5),
                someone,
                "system:web",
                "2025-03-05T19:58:00",
                Channel::Web,
                100,
                Topic::Enquiry,
                ContactOutcome::Resolved,
            ),
        )
        // A rating about no contact is nobody's as an agent.
        .at("2025-03-06T09:00:00", rated(someone, None, 1))
        // A sale with nobody to credit yet ...
        .at(
            "2025-03-10T10:00:00",
            issued(policy_number(3), buyer, 300_000),
        )
        // ... until the quote call that closed it is recorded, late.
        .at(
            "2025-03-10T10:05:00",
            contact(
                contact_id(6),
                buyer,
                "agent-0007",
                "2025-03-09T16:00:00",
                Channel::Phone,
                400,
                Topic::Quote,
                ContactOutcome::Converted,
            ),
        )
        .at(
            "2025-04-02T09:05:00",
            contact(
                contact_id(4),
                someone,
                "agent-0042",
                "2025-04-02T09:00:00",
                Channel::Phone,
                200,
                Topic::Enquiry,
                ContactOutcome::Resolved,
            ),
        )
        // More than 30 days after the renewal call: credited to nobody.
        .at(
            "2025-04-20T10:00:00",
            issued(policy_number(4), renewer, 100_000),
        );
    ledger
}

fn figures_of(state: &MemoryState, who: &str, from: &str, to: &str) -> Figures {
    agent(state, &staff(who), date(from), date(to))
        .unwrap()
        .unwrap()
        .figures
}

fn channels(counts: &[(Channel, u64)]) -> BTreeMap<Channel, u64> {
    counts.iter().copied().collect()
}

#[test]
fn an_agents_month_adds_up_exactly() {
    let state = march().fold();
    let figures = figures_of(&state, "agent-0042", "2025-03-01", "2025-03-31");
    assert_eq!(
        figures,
        Figures {
            contacts_by_channel: channels(&[(Channel::Phone, 2), (Channel::WeChat, 1)]),
            handling_seconds: 1_020,
            csat_sum: 7,
            csat_answers: 2,
            complaints: 1,
            converted_contacts: 1,
            conversions: 1,
            premium_won: Money::from_fen(450_000),
            ..Figures::default()
        }
    );
    assert_eq!(figures.contacts(), 3);
    assert_eq!(figures.average_handling_seconds(), Some(340));
    assert_eq!(figures.csat().hundredths(), Some(350));

    // The late quote call took the earlier sale.
    assert_eq!(
        figures_of(&state, "agent-0007", "2025-03-01", "2025-03-31"),
        Figures {
            contacts_by_channel: channels(&[(Channel::Phone, 1)]),
            handling_seconds: 400,
            converted_contacts: 1,
            conversions: 1,
            premium_won: Money::from_fen(300_000),
            ..Figures::default()
        }
    );
    assert_eq!(
        agent(
            &state,
            &staff("system:web"),
            date("2025-03-01"),
            date("2025-03-31")
        )
        .unwrap(),
        None
    );
}

#[test]
fn any_range_sums_days_and_whole_months_alike() {
    let state = march().fold();
    // Half of February, all of March (a month bucket) and two days of April.
    let figures = figures_of(&state, "agent-0042", "2025-02-15", "2025-04-02");
    assert_eq!(
        figures.contacts_by_channel,
        channels(&[(Channel::Phone, 3), (Channel::WeChat, 1)])
    );
    assert_eq!(figures.handling_seconds, 1_220);
    assert_eq!(figures.average_handling_seconds(), Some(305));
    assert_eq!(figures.premium_won, Money::from_fen(450_000));
    // One day.
    let figures = figures_of(&state, "agent-0042", "2025-03-04", "2025-03-04");
    assert_eq!(
        figures,
        Figures {
            contacts_by_channel: channels(&[(Channel::Phone, 1)]),
            handling_seconds: 120,
            ..Figures::default()
        }
    );
    // Day by day, March adds up to the month.
    let mut by_days = Figures::default();
    let mut day = date("2025-03-01");
    while day <= date("2025-03-31") {
        by_days.add(&figures_of(
            &state,
            "agent-0042",
            &day.to_string(),
            &day.to_string(),
        ));
        day = day.tomorrow().unwrap();
    }
    assert_eq!(
        by_days,
        figures_of(&state, "agent-0042", "2025-03-01", "2025-03-31")
    );
    // Nothing that day: empty figures, not an absent agent.
    assert!(figures_of(&state, "agent-0042", "2025-05-01", "2025-05-31").is_zero());
}

#[test]
fn a_correction_moves_the_contact_and_its_rating_to_the_right_agent() {
    let mut ledger = march();
    let mut corrected = contact(
        contact_id(1),
        customer(1),
        "agent-0007",
        "2025-03-03T10:00:00",
        Channel::Phone,
        360,
        Topic::Complaint,
        ContactOutcome::Resolved,
    )
    .corrected(text("坐席记错"));
    corrected.duration_seconds = 360;
    ledger.at("2025-03-05T09:00:00", corrected);
    let state = ledger.fold();
    assert_eq!(
        figures_of(&state, "agent-0042", "2025-03-01", "2025-03-31"),
        Figures {
            contacts_by_channel: channels(&[(Channel::Phone, 1), (Channel::WeChat, 1)]),
            handling_seconds: 720,
            csat_sum: 5,
            csat_answers: 1,
            converted_contacts: 1,
            conversions: 1,
            premium_won: Money::from_fen(450_000),
            ..Figures::default()
        }
    );
    let figures = figures_of(&state, "agent-0007", "2025-03-01", "2025-03-31");
    assert_eq!(
        figures.contacts_by_channel,
        channels(&[(Channel::Phone, 2)])
    );
    assert_eq!((figures.handling_seconds, figures.complaints), (760, 1));
    assert_eq!(figures.csat(), crate::CsatAverage { sum: 2, answers: 1 });
}

#[test]
fn agent_stats_page_by_staff_id_and_refuse_bad_requests() {
    let state = march().fold();
    let (from, to) = (date("2025-03-01"), date("2025-03-31"));
    let page = agent_stats(&state, from, to, None, 1).unwrap();
    assert_eq!(page.items.len(), 1);
    assert_eq!(page.items[0].1.staff, staff("agent-0007"));
    assert!(page.has_next_page);
    let rest = agent_stats(&state, from, to, Some(&page.items[0].0), 10).unwrap();
    let staff_ids: Vec<_> = rest
        .items
        .iter()
        .map(|(_, StaffFigures { staff, .. })| staff.clone())
        .collect();
    assert_eq!(staff_ids, vec![staff("agent-0042")]);
    assert!(!rest.has_next_page);

    assert_eq!(
        agent_stats(&state, from, to, None, PAGE_SIZE_MAX + 1),
        Err(QueryError::PageTooLarge {
            requested: PAGE_SIZE_MAX + 1,
            max: PAGE_SIZE_MAX
        })
    );
    let manager_cursor = page.items[0].0.replacen("agent", "manager", 1);
    for bad in ["agent:", "agent:2f", "agent:zz", manager_cursor.as_str()] {
        assert_eq!(
            agent_stats(&state, from, to, Some(bad), 1),
            Err(QueryError::BadCursor),
            "{bad}"
        );
    }
    assert_eq!(
        agent_stats(&state, to, from, None, 1),
        Err(QueryError::EmptyDateRange { from: to, to: from })
    );
    assert_eq!(
        agent(
            &state,
            &staff("agent-0042"),
            date("2015-01-01"),
            date("2025-01-01")
        ),
        Err(QueryError::DateRangeTooLong {
            days: 3_654,
            max: DATE_RANGE_DAYS_MAX
        })
    );
    assert!(
        agent(
            &state,
            &staff("agent-0042"),
            date("2015-01-02"),
            date("2025-01-01")
        )
        .is_ok()
    );
}

#[test]
fn a_cancelled_sale_shows_its_refund_against_the_agent_on_the_day_of_the_cancellation() {
    let renewer = customer(2);
    let mut ledger = march();
    // The renewal agent-0042 was credited with (450,000 on 3 March) is cancelled in May.
    ledger.at(
        "2025-05-10T10:00:00",
        cancelled(policy_number(2), renewer, 200_000),
    );
    let state = ledger.fold();
    let march_figures = figures_of(&state, "agent-0042", "2025-03-01", "2025-03-31");
    assert_eq!(
        (march_figures.conversions, march_figures.premium_won),
        (1, Money::from_fen(450_000)),
        "the sale stays where it was made"
    );
    assert_eq!(
        (march_figures.cancellations, march_figures.premium_refunded),
        (0, Money::ZERO)
    );
    let may = figures_of(&state, "agent-0042", "2025-05-01", "2025-05-31");
    assert_eq!(
        (may.cancellations, may.premium_refunded),
        (1, Money::from_fen(200_000))
    );
    let spring = figures_of(&state, "agent-0042", "2025-03-01", "2025-05-31");
    assert_eq!(
        (spring.premium_won, spring.premium_refunded),
        (Money::from_fen(450_000), Money::from_fen(200_000))
    );

    // A repeat of the cancellation counts once; a policy nobody was credited with refunds
    // nothing to anyone.
    ledger
        .at(
            "2025-05-11T10:00:00",
            cancelled(policy_number(2), renewer, 200_000),
        )
        .at(
            "2025-05-12T10:00:00",
            cancelled(policy_number(4), renewer, 50_000),
        );
    let state = ledger.fold();
    assert_eq!(
        figures_of(&state, "agent-0042", "2025-03-01", "2025-05-31"),
        spring
    );
}

#[test]
fn a_refund_counts_at_most_the_premium_of_the_sale() {
    let renewer = customer(2);
    let mut ledger = march();
    ledger.at(
        "2025-05-10T10:00:00",
        cancelled(policy_number(2), renewer, 900_000),
    );
    let may = figures_of(&ledger.fold(), "agent-0042", "2025-05-01", "2025-05-31");
    assert_eq!(may.premium_refunded, Money::from_fen(450_000));
}

#[test]
fn a_sale_cancelled_while_waiting_for_its_seller_takes_its_refund_to_them() {
    let buyer = customer(7);
    let mut ledger = Ledger::new();
    ledger
        // The policy system's event comes first; nobody closed a sale with the buyer yet.
        .at(
            "2025-03-10T10:00:00",
            issued(policy_number(7), buyer, 300_000),
        )
        .at(
            "2025-03-20T10:00:00",
            cancelled(policy_number(7), buyer, 120_000),
        )
        // The converted quote call that made the sale, recorded late.
        .at(
            "2025-03-21T09:00:00",
            contact(
                contact_id(7),
                buyer,
                "agent-0007",
                "2025-03-09T15:00:00",
                Channel::Phone,
                400,
                Topic::Quote,
                ContactOutcome::Converted,
            ),
        );
    let state = ledger.fold();
    let figures = figures_of(&state, "agent-0007", "2025-03-01", "2025-03-31");
    assert_eq!(
        (
            figures.conversions,
            figures.premium_won,
            figures.cancellations,
            figures.premium_refunded
        ),
        (1, Money::from_fen(300_000), 1, Money::from_fen(120_000))
    );

    // Taken by the call before its cancellation, the refund follows the credit as well.
    let mut ledger = Ledger::new();
    ledger
        .at(
            "2025-03-10T10:00:00",
            issued(policy_number(7), buyer, 300_000),
        )
        .at(
            "2025-03-11T09:00:00",
            contact(
                contact_id(7),
                buyer,
                "agent-0007",
                "2025-03-09T15:00:00",
                Channel::Phone,
                400,
                Topic::Quote,
                ContactOutcome::Converted,
            ),
        )
        .at(
            "2025-03-20T10:00:00",
            cancelled(policy_number(7), buyer, 120_000),
        );
    assert_eq!(
        figures_of(&ledger.fold(), "agent-0007", "2025-03-01", "2025-03-31"),
        figures
    );
}
