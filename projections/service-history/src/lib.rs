//! The service-history projection: every service case and claim, per customer and in the
//! supervisors' queues, with deadlines and time guarantees kept on a business calendar.
//!
//! # Components
//!
//! - [`calendar`]: working hours, weekends, public holidays and make-up working days, from
//!   `calendar.toml`; every deadline and working-time measure goes through it.
//! - [`guarantees`]: claim time guarantees in working days per product line, from
//!   `guarantees.toml`.
//! - [`ServiceHistory`] (module `fold`): the [`Projection`](ledger_domain::projection::Projection)
//!   named `service-history`, a pure fold over ledger events into the keyspace below. It reads
//!   no clock: everything it derives comes from the events and the two files.
//! - [`records`]: [`CaseRecord`] and [`ClaimRecord`], as stored and as returned.
//! - [`query`]: the read side, functions over [`StateRead`](ledger_domain::projection::StateRead)
//!   returning records and cursor pages. Whatever depends on the reader's clock (is an open
//!   case overdue yet? is a claim past its guarantee?) takes `now` here, never in the fold.
//!
//! An event flows through `ServiceHistory::apply`, which loads the record it concerns,
//! changes it, recomputes the record's queue entries from the record before and after, and
//! writes the difference and the record.
//!
//! # Key layout
//!
//! Instants in keys are 16 bytes whose byte order is time order (see `keys.rs`); `/` after
//! an instant is a literal byte. Every index value is the key of the record it points at.
//!
//! | key | value | kept |
//! |---|---|---|
//! | `case/{case id}` | [`CaseRecord`] | from `ServiceCaseOpened` |
//! | `claim/{claim number}` | [`ClaimRecord`] | from `ClaimReported` |
//! | `cust/{customer id}/{opened or reported at}/case/{id}`, `.../claim/{number}` | record key | a customer's history, read newest first; moved to the survivor on a merge |
//! | `open/{deadline}/{case id}` | record key | while the case is open: the deadline queue |
//! | `resolved/{resolved at}/{case id}`, `closed/{closed at}/{case id}` | record key | while resolved, while closed |
//! | `late/open/{deadline}/{case id}`, `late/resolved/{resolved at}/{case id}`, `late/closed/{closed at}/{case id}` | record key | beside `open/`, `resolved/`, `closed/` once any cycle was resolved after its deadline |
//! | `claimdue/{guarantee due}/{claim number}` | record key | documents complete, awaiting a decision |
//! | `claimlate/{decided at}/{claim number}` | record key | settled or rejected, once any cycle was decided after its guarantee |
//! | `claimlateopen/{guarantee due, or the end of time}/{claim number}` | record key | reopened, once an earlier cycle was decided after its guarantee (with no guarantee running, keyed at `Timestamp::MAX`) |
//! | `policy/{policy number}` | product lines | as last issued, renewed or endorsed |
//! | `contact/{contact id}` | the case it answers and its start | while the contact counts as a response to a case (as last recorded or corrected) |
//! | `response/{case id}/{started at}/{contact id}` | record key | beside `contact/`: the case's responding contacts, earliest first |
//! | `merged/{customer id}` | survivor's customer id | from `CustomersMerged` |
//! | `erased/{customer id}` | empty | from `CustomerErased` |
//!
//! Queue entries follow the record on every change: resolving or closing a case moves it
//! from `open/` to `resolved/` or `closed/` (and `late/...` once any cycle was resolved late),
//! reopening moves it back under its new deadline (and to `late/open/`, which keeps the
//! breach); completing a claim's documents puts it in `claimdue/`,
//! settling or rejecting takes it out (into `claimlate/` once any cycle was decided late), and
//! reopening a claim decided late moves it to `claimlateopen/`, which keeps the breach.
//!
//! # Decisions
//!
//! - **Times.** A case opens, is resolved and closed at its events' `occurred_at`; a claim is
//!   reported, surveyed and decided at its events'. A contact answers a case at its
//!   `started_at`.
//! - **Deadlines.** `ServiceCaseOpened` always records a deadline instant. When it also
//!   carries `deadlineWorkingHours`, the deadline in force is the calendar's: that many
//!   working hours after the opening (a case opened on Friday at 17:30 with 8 working hours
//!   is due at closing time of the next working day, which may be a make-up Saturday or a
//!   day after a holiday week). The recorded instant is kept as `recorded_deadline`. When
//!   the calendar cannot answer (a year it does not cover, say), the recorded instant is
//!   used and `calendar_notes` says why; the fold never fails or panics over the calendar.
//!   An escalation's deadline replaces the one in force only when it differs from the one
//!   recorded (the event repeats the old deadline when it did not move it); a reopening's
//!   deadline always replaces it.
//! - **Breach.** A resolution after the deadline in force is a late resolution, fixed when the
//!   case is resolved (`resolved_late` for the current cycle, `late_resolutions` over all of
//!   them); the event's own `withinDeadline` is not used, because it was judged against the
//!   recorded deadline at command time. A case *breached* when any of its cycles missed its
//!   deadline: it has a late resolution, or it is open past its deadline (overdue), which
//!   only a reader can say ([`CaseRecord::is_breached`], [`CaseRecord::is_overdue`]). A
//!   reopening resolved on time does not take a breach back: a supervisor auditing breaches
//!   sees every one, and the breached-only listings hold exactly the breached cases.
//! - **First response**: the first moment someone at the insurer took the case up — it was
//!   assigned or escalated to a named person, an agent contacted the customer about it (an
//!   outbound contact linked to the case, other than the contact it was opened in), or it
//!   was resolved. Inbound contacts do not count: a customer chasing a case is not a
//!   response. A contact correction replaces the contact's facts, so it can take the
//!   contact's response back (the case left out or changed, the direction corrected to
//!   inbound), add one, or move it to the corrected start: the first response is always the
//!   earliest of the case's responses as they stand after every correction, falling back to
//!   the next-earliest (or none) when the first is taken back. Measured in working seconds
//!   from the opening; a response stamped before the opening counts as at the opening.
//! - **Time to resolution**: working seconds the case spent open, summed over its cycles up
//!   to its last resolution (time spent resolved before a reopening does not count).
//! - **Claim guarantee**: runs from the last `ClaimDocumentsCompleted`, for the claim's own
//!   `timeGuaranteeWorkingDays`, else the guarantee table's value for the policy (the
//!   longest of its product lines', see `guarantees.toml`), and is due at closing time of
//!   that many working days later. A decision (settlement or rejection) after the due time
//!   is a late decision, fixed when the claim is decided (`decided_late` for the current
//!   cycle, `late_decisions` over all of them). A claim is *past its guarantee* when any of
//!   its cycles missed it: it has a late decision, or it awaits a decision past its due time
//!   (overdue), which only a reader can say ([`ClaimRecord::is_past_guarantee`],
//!   [`ClaimRecord::is_overdue`]); as with a case's breach, a reopening decided on time does
//!   not take it back, and `claims_past_guarantee` lists exactly these claims. A reopened
//!   claim has no due time until its documents are complete again, which the aggregate
//!   requires before it can be settled.
//! - **Reopening** shows the new cycle: the old cycle's resolution, closing, settlement and
//!   verdicts are cleared; counters keep the history.
//! - **Merges**: the merged customer's history entries move under the survivor, and later
//!   events naming the merged customer are filed under the survivor. Records keep the
//!   customer their events name.
//! - **Erasure**: free text kept on records (subjects, resolutions, risk recommendations) is
//!   personal data sealed under the customer's key, so `CustomerErased` removes it from that
//!   customer's records. An event that reads redacted
//!   ([`Envelope::redacted`](ledger_domain::projection::Envelope::redacted): its customer's key
//!   was destroyed, or stayed in the ledger this one was imported from) keeps no text either,
//!   as if its customer were erased: a rebuild after an erasure writes what the live fold
//!   wrote, and a case of a customer whose key is elsewhere has no subject, not a blank one.
//! - **Configuration**: the calendar and the guarantee table are inputs of the fold. Their
//!   texts are fingerprinted into the projection's version, so a build with new holiday data
//!   rebuilds the read model on start and past deadlines derive from the same data as new ones.

pub mod calendar;
mod fold;
pub mod guarantees;
mod keys;
pub mod query;
pub mod records;
mod storage;

#[cfg(test)]
mod tests;

pub use calendar::{BusinessCalendar, CalendarError};
pub use fold::{ConfigError, ServiceHistory};
pub use guarantees::{ClaimGuarantees, GuaranteeError, GuaranteeSource};
pub use query::{
    CaseStatusFilter, HistoryError, PAGE_SIZE_MAX, Page, breached_cases, case, cases, claim,
    claims_past_guarantee, customer_history, open_cases_by_deadline,
};
pub use records::{
    CALENDAR_NOTES_MAX, CaseRecord, CaseStatus, ClaimRecord, ClaimStatus, HistoryItem,
    RecommendationRecord, RiskSurveyRecord,
};
