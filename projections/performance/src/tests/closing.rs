//! Which sale-closing contact a sale is credited to when the contact is recorded after the
//! policy event: the latest one that started at or before the sale, within the window,
//! whatever order the contacts and the sale were folded in; and what a move takes along.

use std::cell::Cell;

use ledger_domain::projection::{Entry, Order, StateError, StateRead};

use super::*;
use crate::{Figures, SALE_ATTRIBUTION_DAYS, agent, manager};

/// What a sale's credit shows in a member of staff's figures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Credit {
    pub conversions: u64,
    pub premium_won_fen: i64,
    pub cancellations: u64,
    pub premium_refunded_fen: i64,
}

pub(super) const NOTHING: Credit = Credit {
    conversions: 0,
    premium_won_fen: 0,
    cancellations: 0,
    premium_refunded_fen: 0,
};

pub(super) const SALE: Credit = Credit {
    conversions: 1,
    premium_won_fen: 300_000,
    ..NOTHING
};

pub(super) fn credit_of(figures: &Figures) -> Credit {
    Credit {
        conversions: figures.conversions,
        premium_won_fen: figures.premium_won.fen(),
        cancellations: figures.cancellations,
        premium_refunded_fen: figures.premium_refunded.fen(),
    }
}

/// `who`'s sales credit as an agent over the days `from` to `to`.
pub(super) fn agent_credit(state: &MemoryState, who: &str, from: &str, to: &str) -> Credit {
    agent(state, &staff(who), date(from), date(to))
        .unwrap()
        .map_or(NOTHING, |row| credit_of(&row.figures))
}

pub(super) const BUYER: u16 = 20;
pub(super) const QUOTE_A: u16 = 21;
pub(super) const CALL_B: u16 = 22;

/// A converted `topic` call with the buyer by `agent`, started at `local`, lasting 30 minutes.
pub(super) fn closing_call(number: u16, agent: &str, local: &str, topic: Topic) -> ContactRecorded {
    contact(
        contact_id(number),
        customer(BUYER),
        agent,
        local,
        Channel::Phone,
        1_800,
        topic,
        ContactOutcome::Converted,
    )
}

/// Agent A's converted quote on 1 March, the policy issued on 10 March at 10:20, during agent
/// B's renewal call that started at `b_started`; B records the call when it ends, after the
/// policy system's event.
fn quote_then_sale_then_late_call(b_started: &str) -> Ledger {
    let buyer = customer(BUYER);
    let mut ledger = Ledger::new();
    ledger
        .at(
            "2025-03-01T10:30:00",
            closing_call(QUOTE_A, "agent-000a", "2025-03-01T10:00:00", Topic::Quote),
        )
        .at(
            "2025-03-10T10:20:00",
            issued(policy_number(20), buyer, 300_000),
        )
        .at(
            "2025-03-10T11:00:00",
            closing_call(CALL_B, "agent-000b", b_started, Topic::Renewal),
        );
    ledger
}

#[test]
fn a_closing_call_recorded_after_the_sale_takes_it_from_an_earlier_quote() {
    let state = quote_then_sale_then_late_call("2025-03-10T10:00:00").fold();
    assert_eq!(
        agent_credit(&state, "agent-000b", "2025-03-10", "2025-03-10"),
        SALE,
        "on the sale's day"
    );
    assert_eq!(
        agent_credit(&state, "agent-000a", "2025-03-01", "2025-03-31"),
        NOTHING
    );
    // Nothing of the sale is left anywhere else in B's figures.
    assert_eq!(
        agent_credit(&state, "agent-000b", "2025-03-01", "2025-03-31"),
        SALE
    );
    // Both calls still count as converted contacts of their own agents.
    for who in ["agent-000a", "agent-000b"] {
        let figures = agent(&state, &staff(who), date("2025-03-01"), date("2025-03-31"))
            .unwrap()
            .unwrap()
            .figures;
        assert_eq!(figures.converted_contacts, 1, "{who}");
    }
}

#[test]
fn a_call_that_started_after_the_sale_does_not_take_it() {
    let state = quote_then_sale_then_late_call("2025-03-10T10:21:00").fold();
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
fn a_call_that_started_before_the_credited_quote_does_not_take_the_sale() {
    // B's call on 28 February, entered late: A's quote of 1 March is the later contact.
    let state = quote_then_sale_then_late_call("2025-02-28T10:00:00").fold();
    assert_eq!(
        agent_credit(&state, "agent-000a", "2025-03-10", "2025-03-10"),
        SALE
    );
    assert_eq!(
        agent_credit(&state, "agent-000b", "2025-02-01", "2025-03-31"),
        NOTHING
    );
}

#[test]
fn a_cancellation_after_the_move_claws_back_from_the_new_seller() {
    let mut ledger = quote_then_sale_then_late_call("2025-03-10T10:00:00");
    ledger.at(
        "2025-05-06T09:00:00",
        cancelled(policy_number(20), customer(BUYER), 120_000),
    );
    let state = ledger.fold();
    assert_eq!(
        agent_credit(&state, "agent-000b", "2025-05-06", "2025-05-06"),
        Credit {
            cancellations: 1,
            premium_refunded_fen: 120_000,
            ..NOTHING
        }
    );
    assert_eq!(
        agent_credit(&state, "agent-000b", "2025-03-10", "2025-03-10"),
        SALE
    );
    assert_eq!(
        agent_credit(&state, "agent-000a", "2025-03-01", "2025-05-31"),
        NOTHING
    );
}

#[test]
fn a_cancellation_credited_before_the_move_moves_with_the_sale() {
    let buyer = customer(BUYER);
    let mut ledger = Ledger::new();
    ledger
        .at(
            "2025-03-01T10:30:00",
            closing_call(QUOTE_A, "agent-000a", "2025-03-01T10:00:00", Topic::Quote),
        )
        .at(
            "2025-03-10T10:20:00",
            issued(policy_number(20), buyer, 300_000),
        )
        .at(
            "2025-03-12T09:00:00",
            cancelled(policy_number(20), buyer, 120_000),
        );
    let before_the_move = ledger.fold();
    assert_eq!(
        agent_credit(&before_the_move, "agent-000a", "2025-03-01", "2025-03-31"),
        Credit {
            cancellations: 1,
            premium_refunded_fen: 120_000,
            ..SALE
        }
    );
    // B's call of 10 March, entered two days late.
    ledger.at(
        "2025-03-12T10:00:00",
        closing_call(CALL_B, "agent-000b", "2025-03-10T10:00:00", Topic::Renewal),
    );
    let state = ledger.fold();
    assert_eq!(
        agent_credit(&state, "agent-000b", "2025-03-10", "2025-03-10"),
        SALE
    );
    assert_eq!(
        agent_credit(&state, "agent-000b", "2025-03-12", "2025-03-12"),
        Credit {
            cancellations: 1,
            premium_refunded_fen: 120_000,
            ..NOTHING
        },
        "the refund on the day of the cancellation"
    );
    assert_eq!(
        agent_credit(&state, "agent-000a", "2025-03-01", "2025-03-31"),
        NOTHING
    );
    // A repeat of the cancellation still counts once, against B.
    ledger.at(
        "2025-03-13T09:00:00",
        cancelled(policy_number(20), buyer, 120_000),
    );
    let repeated = ledger.fold();
    assert_eq!(
        agent_credit(&repeated, "agent-000b", "2025-03-01", "2025-03-31"),
        agent_credit(&state, "agent-000b", "2025-03-01", "2025-03-31"),
    );
}

#[test]
fn a_sale_taken_from_waiting_moves_again_to_a_later_call_recorded_after_it() {
    let buyer = customer(BUYER);
    let mut ledger = Ledger::new();
    ledger
        // Nobody closed a sale with the buyer yet: the sale waits.
        .at(
            "2025-03-10T10:20:00",
            issued(policy_number(20), buyer, 300_000),
        )
        // A's quote of 1 March, entered late, takes it ...
        .at(
            "2025-03-10T10:40:00",
            closing_call(QUOTE_A, "agent-000a", "2025-03-01T10:00:00", Topic::Quote),
        )
        // ... and B's renewal call, during which the policy was issued, takes it from A.
        .at(
            "2025-03-10T11:00:00",
            closing_call(CALL_B, "agent-000b", "2025-03-10T10:00:00", Topic::Renewal),
        )
        .at(
            "2025-04-02T09:00:00",
            cancelled(policy_number(20), buyer, 50_000),
        );
    let state = ledger.fold();
    assert_eq!(
        agent_credit(&state, "agent-000b", "2025-03-01", "2025-04-30"),
        Credit {
            cancellations: 1,
            premium_refunded_fen: 50_000,
            ..SALE
        }
    );
    assert_eq!(
        agent_credit(&state, "agent-000a", "2025-03-01", "2025-04-30"),
        NOTHING
    );
}

/// The six orders of three events.
const ORDERS_OF_THREE: [[usize; 3]; 6] = [
    [0, 1, 2],
    [0, 2, 1],
    [1, 0, 2],
    [1, 2, 0],
    [2, 0, 1],
    [2, 1, 0],
];

#[test]
fn the_credit_is_the_same_whatever_order_the_calls_and_the_sale_are_folded_in() {
    let buyer = customer(BUYER);
    let sale: Event = issued(policy_number(20), buyer, 300_000).into();
    // Distinct starts: B's call is the later. Equal starts: the greater contact id (B's).
    for b_started in ["2025-03-10T10:00:00", "2025-03-01T10:00:00"] {
        let events = [
            (
                "2025-03-01T10:30:00",
                closing_call(QUOTE_A, "agent-000a", "2025-03-01T10:00:00", Topic::Quote).into(),
            ),
            ("2025-03-10T10:20:00", sale.clone()),
            (
                "2025-03-10T11:00:00",
                closing_call(CALL_B, "agent-000b", b_started, Topic::Renewal).into(),
            ),
        ];
        for order in ORDERS_OF_THREE {
            let mut ledger = Ledger::new();
            for index in order {
                let (at, event) = &events[index];
                ledger.at(at, event.clone());
            }
            let state = ledger.fold();
            let folded = order.map(|index| events[index].0);
            assert_eq!(
                agent_credit(&state, "agent-000b", "2025-03-10", "2025-03-10"),
                SALE,
                "B started {b_started}, folded {folded:?}"
            );
            assert_eq!(
                agent_credit(&state, "agent-000a", "2025-03-01", "2025-03-31"),
                NOTHING,
                "B started {b_started}, folded {folded:?}"
            );
        }
    }
}

#[test]
fn a_later_sale_is_credited_to_the_latest_call_that_started_before_it() {
    let buyer = customer(BUYER);
    let mut ledger = Ledger::new();
    ledger
        .at(
            "2025-03-01T10:30:00",
            closing_call(QUOTE_A, "agent-000a", "2025-03-01T10:00:00", Topic::Quote),
        )
        // B's call on 12 March is folded before a sale dated 10 March (the policy system's
        // event came late): the sale is A's, not left waiting for a contact already folded.
        .at(
            "2025-03-12T10:30:00",
            closing_call(CALL_B, "agent-000b", "2025-03-12T10:00:00", Topic::Renewal),
        )
        .at(
            "2025-03-10T10:20:00",
            issued(policy_number(20), buyer, 300_000),
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
fn a_sale_credited_to_the_account_manager_stays_with_them() {
    let company = customer(BUYER);
    let mut ledger = Ledger::new();
    ledger
        .at(
            "2025-01-01T09:00:00",
            assigned(company, "am-01", "tl-01", None),
        )
        .at(
            "2025-03-10T10:20:00",
            issued(policy_number(20), company, 300_000),
        )
        .at(
            "2025-03-10T11:00:00",
            closing_call(CALL_B, "agent-000b", "2025-03-10T10:00:00", Topic::Renewal),
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
    assert_eq!(
        agent_credit(&state, "agent-000b", "2025-03-01", "2025-03-31"),
        NOTHING
    );
}

/// A state that counts the entries its range reads return.
pub(super) struct Counting {
    pub state: MemoryState,
    pub entries_read: Cell<usize>,
}

impl StateRead for Counting {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StateError> {
        self.state.get(key)
    }

    fn range(
        &self,
        start: &[u8],
        end: &[u8],
        order: Order,
        limit: usize,
    ) -> Result<Vec<Entry>, StateError> {
        let entries = self.state.range(start, end, order, limit)?;
        self.entries_read
            .set(self.entries_read.get() + entries.len());
        Ok(entries)
    }
}

impl StateWrite for Counting {
    fn put(&mut self, key: Vec<u8>, value: Vec<u8>) {
        self.state.put(key, value);
    }

    fn delete(&mut self, key: &[u8]) {
        self.state.delete(key);
    }
}

#[test]
fn a_closing_call_reads_only_the_sales_in_its_window() {
    let buyer = customer(BUYER);
    let mut ledger = Ledger::new();
    // A fleet buyer: a sale every day of 2024 and 2025, each closed by A's quote call that
    // morning, so every sale is credited to a contact and kept.
    let mut day = date("2024-01-01");
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
    let mut state = Counting {
        state: ledger.fold(),
        entries_read: Cell::new(0),
    };
    // B's call of 30 June 2025 at 09:30, entered at the end of the year, takes that day's
    // sale only (every later sale has a later quote) and reads no more than the sales in its
    // window.
    let mut later = ledger.clone();
    later.at(
        "2025-12-31T12:00:00",
        closing_call(CALL_B, "agent-000b", "2025-06-30T09:30:00", Topic::Renewal),
    );
    apply(&mut state, &later.events[ledger.events.len()..]);
    let window_sales = usize::try_from(SALE_ATTRIBUTION_DAYS).unwrap() + 1;
    assert!(
        state.entries_read.get() <= window_sales,
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
