//! A corrected contact takes the credit of the sales it closed with it: a correction credits
//! them again as if the contact had been recorded with its corrected facts, to the corrected
//! agent, to the latest other sale-closing contact that can take them, or back to waiting; and
//! a contact corrected into a sale-closing one takes the sales a contact folded later would.

use std::cell::Cell;

use ledger_domain::events::ContactCorrected;

use super::closing::{
    BUYER, CALL_B, Counting, Credit, NOTHING, QUOTE_A, SALE, agent_credit, closing_call, credit_of,
};
use super::*;
use crate::{Figures, SALE_ATTRIBUTION_DAYS, agent, manager};

/// A contact with the buyer by `agent`, started at `local`, as a correction states it.
fn correction(
    number: u16,
    agent: &str,
    local: &str,
    topic: Topic,
    outcome: ContactOutcome,
) -> ContactCorrected {
    contact(
        contact_id(number),
        customer(BUYER),
        agent,
        local,
        Channel::Phone,
        1_800,
        topic,
        outcome,
    )
    .corrected(text("坐席录错"))
}

/// `who`'s figures as an agent over the days `from` to `to` (empty when they have none).
fn agent_figures(state: &MemoryState, who: &str, from: &str, to: &str) -> Figures {
    agent(state, &staff(who), date(from), date(to))
        .unwrap()
        .map_or_else(Figures::default, |row| row.figures)
}

const H_QUOTE: u16 = 30;

#[test]
fn a_quote_corrected_to_declined_gives_up_its_sale() {
    // The tester's first case: agent-0300's converted quote, a policy issued to H, and the
    // quote's outcome corrected to DECLINED.
    let buyer = customer(BUYER);
    let mut ledger = Ledger::new();
    ledger
        .at(
            "2025-03-05T10:30:00",
            closing_call(H_QUOTE, "agent-0300", "2025-03-05T10:00:00", Topic::Quote),
        )
        .at(
            "2025-03-06T10:00:00",
            issued(policy_number(30), buyer, 66_600),
        );
    let before = ledger.fold();
    let figures = agent_figures(&before, "agent-0300", "2025-03-01", "2025-03-31");
    assert_eq!(
        (figures.converted_contacts, figures.conversions),
        (1, 1),
        "before the correction"
    );
    assert_eq!(figures.premium_won.fen(), 66_600);

    ledger.at(
        "2025-03-07T09:00:00",
        correction(
            H_QUOTE,
            "agent-0300",
            "2025-03-05T10:00:00",
            Topic::Quote,
            ContactOutcome::Declined,
        ),
    );
    let state = ledger.fold();
    let figures = agent_figures(&state, "agent-0300", "2025-03-01", "2025-03-31");
    assert_eq!(
        figures.contacts(),
        1,
        "the contact is still agent-0300's work"
    );
    assert_eq!(figures.converted_contacts, 0);
    assert_eq!(
        credit_of(&figures),
        NOTHING,
        "and the sale is no longer theirs"
    );

    // The sale waits for a seller: a call that closed it, entered later, takes it, with the
    // refund of a cancellation that came meanwhile.
    ledger
        .at(
            "2025-03-08T09:00:00",
            cancelled(policy_number(30), buyer, 20_000),
        )
        .at(
            "2025-03-09T09:00:00",
            closing_call(CALL_B, "agent-000b", "2025-03-06T09:40:00", Topic::Renewal),
        );
    let state = ledger.fold();
    assert_eq!(
        agent_credit(&state, "agent-000b", "2025-03-01", "2025-03-31"),
        Credit {
            conversions: 1,
            premium_won_fen: 66_600,
            cancellations: 1,
            premium_refunded_fen: 20_000,
        }
    );
    assert_eq!(
        agent_credit(&state, "agent-0300", "2025-03-01", "2025-03-31"),
        NOTHING
    );
}

#[test]
fn a_contact_corrected_to_the_right_agent_takes_its_sale_to_them() {
    // The tester's second case: the wrong agent was entered on a converted quote.
    let buyer = customer(BUYER);
    let mut ledger = Ledger::new();
    ledger
        .at(
            "2025-03-05T10:30:00",
            closing_call(QUOTE_A, "agent-0100", "2025-03-05T10:00:00", Topic::Quote),
        )
        .at(
            "2025-03-06T10:00:00",
            issued(policy_number(21), buyer, 350_000),
        )
        .at(
            "2025-03-07T09:00:00",
            correction(
                QUOTE_A,
                "agent-0200",
                "2025-03-05T10:00:00",
                Topic::Quote,
                ContactOutcome::Converted,
            ),
        );
    let state = ledger.fold();
    let wrong = agent_figures(&state, "agent-0100", "2025-03-01", "2025-03-31");
    assert!(wrong.is_zero(), "{wrong:?}");
    let right = agent_figures(&state, "agent-0200", "2025-03-01", "2025-03-31");
    assert_eq!((right.contacts(), right.converted_contacts), (1, 1));
    assert_eq!(
        agent_credit(&state, "agent-0200", "2025-03-06", "2025-03-06"),
        Credit {
            conversions: 1,
            premium_won_fen: 350_000,
            ..NOTHING
        },
        "on the sale's day"
    );

    // The policy's credit names the corrected agent: a cancellation claws back from them.
    ledger.at(
        "2025-04-02T09:00:00",
        cancelled(policy_number(21), buyer, 100_000),
    );
    let state = ledger.fold();
    assert_eq!(
        agent_credit(&state, "agent-0200", "2025-04-02", "2025-04-02"),
        Credit {
            cancellations: 1,
            premium_refunded_fen: 100_000,
            ..NOTHING
        }
    );
    assert!(agent_figures(&state, "agent-0100", "2025-03-01", "2025-04-30").is_zero());
}

#[test]
fn a_correction_of_the_agent_moves_a_refund_already_credited_on_its_own_day() {
    let buyer = customer(BUYER);
    let mut ledger = Ledger::new();
    ledger
        .at(
            "2025-03-05T10:30:00",
            closing_call(QUOTE_A, "agent-0100", "2025-03-05T10:00:00", Topic::Quote),
        )
        .at(
            "2025-03-10T10:20:00",
            issued(policy_number(20), buyer, 300_000),
        )
        .at(
            "2025-03-20T09:00:00",
            cancelled(policy_number(20), buyer, 120_000),
        )
        .at(
            "2025-03-25T09:00:00",
            correction(
                QUOTE_A,
                "agent-0200",
                "2025-03-05T10:00:00",
                Topic::Quote,
                ContactOutcome::Converted,
            ),
        );
    let state = ledger.fold();
    assert_eq!(
        agent_credit(&state, "agent-0200", "2025-03-10", "2025-03-10"),
        SALE
    );
    assert_eq!(
        agent_credit(&state, "agent-0200", "2025-03-20", "2025-03-20"),
        Credit {
            cancellations: 1,
            premium_refunded_fen: 120_000,
            ..NOTHING
        }
    );
    assert_eq!(
        agent_credit(&state, "agent-0100", "2025-03-01", "2025-03-31"),
        NOTHING
    );
    // A repeated cancellation still counts once.
    ledger.at(
        "2025-03-26T09:00:00",
        cancelled(policy_number(20), buyer, 120_000),
    );
    assert_eq!(
        agent_credit(&ledger.fold(), "agent-0200", "2025-03-01", "2025-03-31"),
        agent_credit(&state, "agent-0200", "2025-03-01", "2025-03-31"),
    );
}

/// A's converted quote on 1 March, B's renewal call on 10 March at 10:00, during which the
/// policy was issued (10:20): the sale is B's.
fn quote_call_and_sale() -> Ledger {
    let buyer = customer(BUYER);
    let mut ledger = Ledger::new();
    ledger
        .at(
            "2025-03-01T10:30:00",
            closing_call(QUOTE_A, "agent-000a", "2025-03-01T10:00:00", Topic::Quote),
        )
        .at(
            "2025-03-10T10:10:00",
            closing_call(CALL_B, "agent-000b", "2025-03-10T10:00:00", Topic::Renewal),
        )
        .at(
            "2025-03-10T10:20:00",
            issued(policy_number(20), buyer, 300_000),
        );
    ledger
}

#[test]
fn a_call_corrected_to_declined_gives_the_sale_to_an_older_quote_in_the_window() {
    let mut ledger = quote_call_and_sale();
    assert_eq!(
        agent_credit(&ledger.fold(), "agent-000b", "2025-03-10", "2025-03-10"),
        SALE
    );
    ledger.at(
        "2025-03-11T09:00:00",
        correction(
            CALL_B,
            "agent-000b",
            "2025-03-10T10:00:00",
            Topic::Renewal,
            ContactOutcome::Declined,
        ),
    );
    let state = ledger.fold();
    assert_eq!(
        agent_credit(&state, "agent-000a", "2025-03-10", "2025-03-10"),
        SALE
    );
    assert_eq!(
        agent_credit(&state, "agent-000b", "2025-03-01", "2025-03-31"),
        NOTHING
    );
    // The policy's credit names A now.
    ledger.at(
        "2025-03-20T09:00:00",
        cancelled(policy_number(20), customer(BUYER), 50_000),
    );
    assert_eq!(
        agent_credit(&ledger.fold(), "agent-000a", "2025-03-20", "2025-03-20"),
        Credit {
            cancellations: 1,
            premium_refunded_fen: 50_000,
            ..NOTHING
        }
    );
}

#[test]
fn a_call_corrected_to_a_system_agent_or_another_topic_gives_up_its_sale() {
    for (agent, topic) in [
        ("system:web", Topic::Renewal),
        ("agent-000b", Topic::Complaint),
    ] {
        let mut ledger = quote_call_and_sale();
        ledger.at(
            "2025-03-11T09:00:00",
            correction(
                CALL_B,
                agent,
                "2025-03-10T10:00:00",
                topic,
                ContactOutcome::Converted,
            ),
        );
        let state = ledger.fold();
        assert_eq!(
            agent_credit(&state, "agent-000a", "2025-03-10", "2025-03-10"),
            SALE,
            "{agent} {topic:?}"
        );
        assert_eq!(
            agent_credit(&state, "agent-000b", "2025-03-01", "2025-03-31"),
            NOTHING,
            "{agent} {topic:?}"
        );
    }
}

#[test]
fn a_start_corrected_to_after_the_sale_or_out_of_the_window_gives_up_the_sale() {
    // B's call really started after the policy was issued: A's quote closed the sale.
    let mut ledger = quote_call_and_sale();
    ledger.at(
        "2025-03-11T09:00:00",
        correction(
            CALL_B,
            "agent-000b",
            "2025-03-10T10:21:00",
            Topic::Renewal,
            ContactOutcome::Converted,
        ),
    );
    let state = ledger.fold();
    assert_eq!(
        agent_credit(&state, "agent-000a", "2025-03-10", "2025-03-10"),
        SALE
    );
    assert_eq!(
        agent_credit(&state, "agent-000b", "2025-03-01", "2025-03-31"),
        NOTHING
    );

    // The only closing contact's start corrected to after the sale, or to more than the
    // window before it: the sale waits for a seller.
    for started in ["2025-03-10T10:21:00", "2025-02-01T10:00:00"] {
        let buyer = customer(BUYER);
        let mut ledger = Ledger::new();
        ledger
            .at(
                "2025-03-10T10:10:00",
                closing_call(CALL_B, "agent-000b", "2025-03-10T10:00:00", Topic::Renewal),
            )
            .at(
                "2025-03-10T10:20:00",
                issued(policy_number(20), buyer, 300_000),
            )
            .at(
                "2025-03-11T09:00:00",
                correction(
                    CALL_B,
                    "agent-000b",
                    started,
                    Topic::Renewal,
                    ContactOutcome::Converted,
                ),
            );
        let state = ledger.fold();
        assert_eq!(
            agent_credit(&state, "agent-000b", "2025-01-01", "2025-03-31"),
            NOTHING,
            "started {started}"
        );
        // Waiting, it goes to a closing contact entered later.
        ledger.at(
            "2025-03-12T09:00:00",
            closing_call(QUOTE_A, "agent-000a", "2025-03-01T10:00:00", Topic::Quote),
        );
        assert_eq!(
            agent_credit(&ledger.fold(), "agent-000a", "2025-03-10", "2025-03-10"),
            SALE,
            "started {started}"
        );
    }
}

#[test]
fn a_start_corrected_before_another_closing_contact_gives_the_sale_to_that_one() {
    let buyer = customer(BUYER);
    let mut ledger = Ledger::new();
    ledger
        .at(
            "2025-03-05T10:30:00",
            closing_call(QUOTE_A, "agent-000a", "2025-03-05T10:00:00", Topic::Quote),
        )
        .at(
            "2025-03-10T10:10:00",
            closing_call(CALL_B, "agent-000b", "2025-03-10T10:00:00", Topic::Renewal),
        )
        .at(
            "2025-03-10T10:20:00",
            issued(policy_number(20), buyer, 300_000),
        )
        // B's call was on 1 March: A's quote of 5 March is the latest before the sale.
        .at(
            "2025-03-11T09:00:00",
            correction(
                CALL_B,
                "agent-000b",
                "2025-03-01T10:00:00",
                Topic::Renewal,
                ContactOutcome::Converted,
            ),
        );
    let state = ledger.fold();
    assert_eq!(
        agent_credit(&state, "agent-000a", "2025-03-10", "2025-03-10"),
        SALE
    );
    assert_eq!(
        agent_credit(&state, "agent-000b", "2025-03-01", "2025-03-31"),
        NOTHING
    );
}

#[test]
fn a_contact_corrected_into_a_closing_one_takes_the_sales_it_closed() {
    let buyer = customer(BUYER);
    let mut ledger = Ledger::new();
    let unanswered = contact(
        contact_id(CALL_B),
        buyer,
        "agent-000b",
        "2025-03-10T10:00:00",
        Channel::Phone,
        1_800,
        Topic::Renewal,
        ContactOutcome::NoAnswer,
    );
    ledger
        .at(
            "2025-03-01T10:30:00",
            closing_call(QUOTE_A, "agent-000a", "2025-03-01T10:00:00", Topic::Quote),
        )
        .at("2025-03-10T10:30:00", unanswered)
        .at(
            "2025-03-10T10:40:00",
            issued(policy_number(20), buyer, 300_000),
        )
        .at(
            "2025-03-10T10:45:00",
            issued(policy_number(22), customer(BUYER + 1), 90_000),
        )
        // B corrects the call's outcome after the sale: the sale during the call is B's.
        .at(
            "2025-03-10T11:00:00",
            correction(
                CALL_B,
                "agent-000b",
                "2025-03-10T10:00:00",
                Topic::Renewal,
                ContactOutcome::Converted,
            ),
        )
        .at(
            "2025-03-11T10:00:00",
            renewed(policy_number(21), buyer, 200_000),
        );
    let state = ledger.fold();
    assert_eq!(
        agent_credit(&state, "agent-000b", "2025-03-01", "2025-03-31"),
        Credit {
            conversions: 2,
            premium_won_fen: 500_000,
            ..NOTHING
        },
        "the sale during the call and the renewal after the correction"
    );
    assert_eq!(
        agent_credit(&state, "agent-000a", "2025-03-01", "2025-03-31"),
        NOTHING
    );
}

#[test]
fn a_correction_does_not_move_a_sale_credited_to_the_account_manager() {
    let company = customer(BUYER);
    let mut ledger = Ledger::new();
    ledger
        .at(
            "2025-01-01T09:00:00",
            assigned(company, "am-01", "tl-01", None),
        )
        .at(
            "2025-03-10T10:10:00",
            closing_call(CALL_B, "agent-000b", "2025-03-10T10:00:00", Topic::Renewal),
        )
        .at(
            "2025-03-10T10:20:00",
            issued(policy_number(20), company, 300_000),
        )
        .at(
            "2025-03-11T09:00:00",
            correction(
                CALL_B,
                "agent-000c",
                "2025-03-09T10:00:00",
                Topic::Renewal,
                ContactOutcome::Converted,
            ),
        );
    let state = ledger.fold();
    assert_eq!(
        agent_credit(&state, "am-01", "2025-03-10", "2025-03-10"),
        SALE
    );
    let book = manager(
        &state,
        &staff("am-01"),
        date("2025-03-10"),
        date("2025-03-10"),
    )
    .unwrap()
    .unwrap()
    .figures;
    assert_eq!(credit_of(&book), SALE);
    for who in ["agent-000b", "agent-000c"] {
        assert_eq!(
            agent_credit(&state, who, "2025-03-01", "2025-03-31"),
            NOTHING,
            "{who}"
        );
    }
}

/// The figures a state holds (day and month buckets of agents and managers): what a
/// correction and a record of the corrected facts must agree on. Other entries name log
/// positions, which differ between two ledgers, or staff ever seen.
fn buckets(state: &MemoryState) -> Vec<(Vec<u8>, Vec<u8>)> {
    let prefixes: [&[u8]; 4] = [
        b"agentday/",
        b"agentmonth/",
        b"managerday/",
        b"managermonth/",
    ];
    state
        .entries()
        .iter()
        .filter(|(key, _)| prefixes.iter().any(|prefix| key.starts_with(prefix)))
        .map(|(key, value)| (key.clone(), value.clone()))
        .collect()
}

/// Every order of four events in which the third (a correction) comes after the second (the
/// contact it corrects).
fn orders_correcting_after_recording() -> Vec<[usize; 4]> {
    let mut orders = Vec::new();
    for a in 0..4 {
        for b in 0..4 {
            for c in 0..4 {
                for d in 0..4 {
                    let order = [a, b, c, d];
                    let distinct = (0..4).all(|index| order.contains(&index));
                    let place = |event| order.iter().position(|&index| index == event);
                    if distinct && place(1) < place(2) {
                        orders.push(order);
                    }
                }
            }
        }
    }
    orders
}

#[test]
fn a_correction_gives_what_recording_the_corrected_facts_would_in_any_order() {
    let buyer = customer(BUYER);
    let recorded = closing_call(CALL_B, "agent-000b", "2025-03-10T10:00:00", Topic::Renewal);
    let corrections = [
        (
            "declined",
            "agent-000b",
            "2025-03-10T10:00:00",
            ContactOutcome::Declined,
        ),
        (
            "agent",
            "agent-000c",
            "2025-03-10T10:00:00",
            ContactOutcome::Converted,
        ),
        (
            "after",
            "agent-000b",
            "2025-03-10T10:21:00",
            ContactOutcome::Converted,
        ),
        (
            "earlier",
            "agent-000b",
            "2025-03-01T09:00:00",
            ContactOutcome::Converted,
        ),
        (
            "system",
            "system:web",
            "2025-03-10T10:00:00",
            ContactOutcome::Converted,
        ),
    ];
    let quote: Event =
        closing_call(QUOTE_A, "agent-000a", "2025-03-05T10:00:00", Topic::Quote).into();
    let sale: Event = issued(policy_number(20), buyer, 300_000).into();
    for (name, agent, started, outcome) in corrections {
        let corrected = correction(CALL_B, agent, started, Topic::Renewal, outcome);
        let mut as_corrected = recorded.clone();
        (
            as_corrected.agent,
            as_corrected.started_at,
            as_corrected.outcome,
        ) = (staff(agent), beijing(started), outcome);
        let mut expected = Ledger::new();
        expected
            .at("2025-03-05T10:30:00", quote.clone())
            .at("2025-03-10T10:30:00", as_corrected)
            .at("2025-03-10T10:20:00", sale.clone());
        let expected = buckets(&expected.fold());

        let events: [(&str, Event); 4] = [
            ("2025-03-05T10:30:00", quote.clone()),
            ("2025-03-10T10:30:00", recorded.clone().into()),
            ("2025-03-11T09:00:00", corrected.into()),
            ("2025-03-10T10:20:00", sale.clone()),
        ];
        for order in orders_correcting_after_recording() {
            let mut ledger = Ledger::new();
            for index in order {
                let (at, event) = &events[index];
                ledger.at(at, event.clone());
            }
            assert_eq!(
                buckets(&ledger.fold()),
                expected,
                "{name}, folded in order {order:?}"
            );
        }
    }
}

#[test]
fn a_correction_reads_only_the_sales_in_the_windows_of_the_contact() {
    let buyer = customer(BUYER);
    let mut ledger = Ledger::new();
    // A sale every day of a year, each closed by A's quote call that morning.
    let mut day = date("2025-01-01");
    let mut n: u16 = 0;
    while day <= date("2025-12-31") {
        n += 1;
        ledger
            .at(
                &format!("{day}T09:30:00"),
                closing_call(
                    1_000 + n,
                    "agent-000a",
                    &format!("{day}T09:00:00"),
                    Topic::Quote,
                ),
            )
            .at(
                &format!("{day}T10:00:00"),
                issued(policy_number(1_000 + n), buyer, 100_000),
            );
        day = day.tomorrow().unwrap();
    }
    // 30 June's quote was B's, started at 09:00 that day.
    let june_30 = 1_000 + 181;
    let mut later = ledger.clone();
    later.at(
        "2025-12-31T12:00:00",
        correction(
            june_30,
            "agent-000b",
            "2025-06-30T09:00:00",
            Topic::Quote,
            ContactOutcome::Converted,
        ),
    );
    let mut state = Counting {
        state: ledger.fold(),
        entries_read: Cell::new(0),
    };
    apply(&mut state, &later.events[ledger.events.len()..]);
    // The contact's window as it was and as it is, and a candidate per sale it credited.
    let window_sales = usize::try_from(SALE_ATTRIBUTION_DAYS).unwrap() + 1;
    assert!(
        state.entries_read.get() <= 2 * window_sales + 1,
        "{} entries read for {window_sales} sales in the window, of {n}",
        state.entries_read.get()
    );
    assert_eq!(
        agent_credit(&state.state, "agent-000b", "2025-01-01", "2025-12-31"),
        Credit {
            conversions: 1,
            premium_won_fen: 100_000,
            ..NOTHING
        }
    );
    assert_eq!(
        agent_credit(&state.state, "agent-000a", "2025-06-30", "2025-06-30"),
        NOTHING
    );
}
