//! The team-performance projection (seed 4.2.1 (2), 4.2.2): the account-manager history of
//! each corporate customer (who, from when to when, under which team lead) with the
//! customer's average CSAT in the 90 days before and after each handover; and, per agent and
//! per account manager, for any range of days, the figures an incentive scheme needs:
//! contacts handled by channel, handling time, CSAT, complaints, conversions and premium won,
//! and the cancellations of those sales with the premium they refunded.
//!
//! # Components
//!
//! - [`Performance`] (module `fold`): the [`Projection`](ledger_domain::projection::Projection)
//!   named `performance`, a pure fold over ledger events into the keyspace below. It reads no
//!   clock. It adds each fact to per-day and per-month buckets of the member of staff it is
//!   credited to, so a date range is summed from at most three range reads per member of
//!   staff, never from events.
//! - [`records`]: [`Figures`] (one bucket, or a sum of buckets) with exact averages
//!   ([`CsatAverage`], [`Figures::average_handling_seconds`]), [`ManagerPeriod`], [`Handover`].
//! - [`query`]: the read side over [`StateRead`](ledger_domain::projection::StateRead):
//!   [`agent_stats`], [`manager_stats`] (pages of at most [`PAGE_SIZE_MAX`] staff in staff-id
//!   order), [`agent`], [`manager`], [`account_manager_history`], [`handover_satisfaction`].
//!   Ranges are days, both inclusive, in Beijing time, at most [`DATE_RANGE_DAYS_MAX`].
//!
//! # Key layout
//!
//! Instants are 16 bytes, days 4 and months 3, positions 8, each in an order-preserving
//! encoding (see `keys.rs`). Values are encoded with `ledger_domain::codec`.
//!
//! | key | value | kept |
//! |---|---|---|
//! | `contact/{contact id}` | the contact's facts, the customer's manager when it started, its CSAT answers | from the first event naming the contact |
//! | `agentday/{staff}/{day}`, `agentmonth/{staff}/{month}` | [`Figures`] credited to the staff as an agent | while not all zero |
//! | `managerday/{staff}/{day}`, `managermonth/{staff}/{month}` | [`Figures`] of the customers in the manager's book | while not all zero |
//! | `agent/{staff}`, `manager/{staff}` | empty | from the first fact credited in that role (or the first assignment) |
//! | `assignment/{customer}/{instant}{position}` | the manager, team lead and previous manager | from `AccountManagerAssigned` |
//! | `latestassignment/{customer}` | the instant and manager of the customer's assignment with the greatest key | from the first assignment |
//! | `csat/{customer}/{instant}{position}` | the CSAT score | from `SatisfactionRecorded` with a CSAT |
//! | `salecontact/{customer}/{instant}{contact id}` | agent, start and id of one of the customer's sale-closing contacts, under its start (the contact id as its UUID's 16 bytes) | while the contact, as recorded or last corrected, closes a sale |
//! | `unattributed/{customer}/{instant}{position}` | a sale nobody was credited with (yet), its policy, and its cancellation's refund if one came meanwhile | from the sale, or from a correction that left the contact credited with it no longer able to take it and no other contact that can, until a sale-closing contact takes it |
//! | `creditedsale/{customer}/{instant}{position}` | a sale credited to a sale-closing contact: the sale (premium, policy, its cancellation's refund if credited with it) and the contact's agent, start and id as the contact stands now | from the credit on: a sale-closing contact recorded or corrected any time later (a call entered late, an import of history) that started after the credited one and at or before the sale can still take it, and a correction of the credited contact credits it again; until such a correction leaves no contact to take it (it waits under `unattributed/` again) |
//! | `policycredit/{policy number}` | who was credited with the policy's latest sale (the manager, or the `creditedsale/` key naming the contact's agent, or the `unattributed/` key it waits under) and its premium | from the sale until the policy's cancellation |
//!
//! # Decisions
//!
//! - **Days** are Beijing calendar days (UTC+8). A contact counts on the day it started; a
//!   sale on the day of its policy event; a manager's CSAT answer on the day it was given.
//! - **Contacts handled** are `ContactRecorded` by a person: agents named `system:...`
//!   (self-service) are no one's work and no one's sale. A `ContactCorrected` replaces the
//!   contact's facts: its figures move to the corrected agent, day, channel and duration, and
//!   the sales it closed follow (see Conversions).
//! - **Complaints** are contacts handled whose topic is `COMPLAINT`; **converted contacts**
//!   those whose outcome is `CONVERTED`.
//! - **CSAT for agents**: a `SatisfactionRecorded` naming a contact counts for the contact's
//!   agent, on the contact's day (also when the answer comes first: it waits on the contact's
//!   record). Answers naming no contact count for no agent. NPS is not used.
//! - **Managers** are the account managers of `AccountManagerAssigned`. A manager's figures are
//!   those of the customers in their book at the time of each fact: the contacts handled with
//!   those customers (by whoever handled them), every CSAT answer those customers gave, and
//!   the policies issued or renewed for them. The manager in force at a moment is the latest
//!   assignment at or before it among those folded so far (a back-dated assignment folded
//!   later does not move figures already credited).
//! - **Conversions** are `PolicyIssued` and `PolicyRenewed`, which name no agent. A sale is
//!   credited to (1) the customer's account manager at the time of the sale, when it has one
//!   (corporate customers); else (2) the agent of the customer's latest *sale-closing contact*
//!   — a `RENEWAL` or `QUOTE` contact by a person with outcome `CONVERTED`, in either direction
//!   (an inbound call can close a sale as well as an outbound one) — that started at or before
//!   the sale and at most [`SALE_ATTRIBUTION_DAYS`] before it, among the contacts folded so
//!   far; else (3) nobody, and the sale waits under `unattributed/` for a sale-closing contact
//!   folded later that started within the window before it. Contacts are recorded when they
//!   end, often after the policy system's event: so when a sale-closing contact folded later
//!   started after the one the sale was credited to (and at or before the sale, within the
//!   window), it closed the sale, and the sale moves to its agent — the conversion and premium
//!   on the sale's day, and the refund on its own day if the policy's cancellation was already
//!   credited with it; the policy's credit then names the new agent, so a later cancellation
//!   claws back from them. Of two contacts that started at the same instant the later is the
//!   one with the greater contact id, so the credit does not depend on the order the contacts
//!   and the sale were folded in. A sale credited to a manager (rule 1) never moves.
//!   **Corrections** move the credit as if the contact had been recorded with its corrected
//!   facts: the sales credited to the contact are credited again by rule 2 among the contacts
//!   folded so far — to the corrected agent when the contact still closes a sale and still
//!   started within the window at or before the sale (unless the corrected start now puts
//!   another sale-closing contact after it), else to the latest other sale-closing contact
//!   that can take the sale, else back to waiting under `unattributed/` — each with its
//!   refund, and the policy's credit follows; and a contact corrected into a sale-closing
//!   contact (or to a later start) takes the sales it can take, as a contact folded later
//!   does. A correction that changes neither the agent, the start nor whether the contact
//!   closes a sale moves no sale. A contact (as recorded, and as it was and is at a
//!   correction) reads only the customer's sales within the window after it started, never
//!   all of them.
//! - **Cancellations.** Premium won stays gross: a sale later cancelled stays a conversion on
//!   the day it was made. Its `PolicyCancelled` adds a cancellation and the refund (at most
//!   what the sale won) to the staff credited with the policy's *latest* sale (the manager,
//!   and the seller), on the day of the cancellation: the claw-back an incentive scheme
//!   applies in the month it happens. A sale still waiting for its seller, or credited to a
//!   contact, keeps the refund with it, and the contact that takes the sale takes the refund
//!   too. A repeated cancellation counts once.
//! - **Handovers** are assignments that change the manager or the team lead (the seed: a team
//!   lead's change moves satisfaction too), and a first assignment whose event names a
//!   previous manager. Before is `[at − 90 days, at)`, after `[at, at + 90 days)`, days of
//!   24 hours, over all of the customer's CSAT answers. A recent handover's after-window is
//!   simply not over yet; the caller compares `at + 90 days` with its clock.
//! - **Listings** show every member of staff ever seen in the role, with empty figures for a
//!   range they had nothing in, so a page is never short for lack of activity.
//! - **Not followed**: customer merges (a merged duplicate's answers and periods stay under
//!   its own id; corporate customers, the ones with managers, are not merged in practice) and
//!   erasure (nothing personal is stored: ids, scores, durations and amounts only).

mod fold;
mod keys;
mod page;
pub mod query;
pub mod records;
mod storage;

#[cfg(test)]
mod tests;

pub use fold::{Performance, SALE_ATTRIBUTION_DAYS};
pub use page::{PAGE_SIZE_MAX, Page, QueryError};
pub use query::{
    DATE_RANGE_DAYS_MAX, HANDOVER_WINDOW_DAYS, account_manager_history, agent, agent_stats,
    handover_satisfaction, manager, manager_stats,
};
pub use records::{CsatAverage, Figures, Handover, ManagerPeriod, StaffFigures};
