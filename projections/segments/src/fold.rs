//! The fold: [`Segments`] files each event's facts in the record of the customer it concerns
//! (following merges to the survivor's record, where a merged duplicate's facts are kept apart
//! with the merge's day), pruning the record as it writes it.

use ledger_domain::codec;
use ledger_domain::events::{
    AccountManagerAssigned, ClaimReported, ClaimSettled, ContactCorrected, ContactRecorded,
    CustomerErased, CustomerRegistered, CustomersMerged, Event, PolicyCancelled, PolicyEndorsed,
    PolicyIssued, PolicyLapsed, PolicyRenewed, ProfileUpdated, SatisfactionRecorded,
};
use ledger_domain::ids::CustomerId;
use ledger_domain::kinds::CustomerKind;
use ledger_domain::projection::{Envelope, Projection, StateError, StateRead, StateWrite};
use ledger_domain::values::Topic;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::days::{day_of, day_of_date};
use crate::facts::{
    Answer, Change, ContactFact, CustomerFacts, Ended, Period, PolicyFacts, RETENTION_DAYS, Terms,
    line_bits,
};
use crate::keys;

/// The most merges followed from a customer to its survivor. Merges form chains (A into B,
/// later B into C) and the fold refuses cycles, so a chain is as long as one person's
/// duplicates; 32 is far beyond that and stops a walk over corrupted state.
pub const MERGE_CHAIN_MAX: usize = 32;

/// The segments projection: per-customer facts for metrics and segments. Stateless: all it
/// knows lives in the state it is given.
#[derive(Debug, Clone, Copy, Default)]
pub struct Segments;

impl Segments {
    /// The projection's stable name: its keyspace, its checkpoint, its name on the CLI.
    pub const NAME: &'static str = "segments";

    /// The layout version of what `apply` writes; bump it when the layout or a derivation
    /// changes, so the runner rebuilds.
    pub const VERSION: u32 = 3;
}

impl Projection for Segments {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    fn version(&self) -> u32 {
        Self::VERSION
    }

    fn apply(&self, envelope: &Envelope<'_>, state: &mut dyn StateWrite) -> Result<(), StateError> {
        // A business time in the future of the ledger's own clock is an error of the sender;
        // capping it keeps one bad date from pruning everyone's history.
        let day = day_of(envelope.occurred_at.min(envelope.recorded_at));
        let latest = advance_latest(state, day)?;
        let mut fold = Fold {
            state,
            day,
            cutoff_day: latest - RETENTION_DAYS,
        };
        match envelope.event {
            Event::CustomerRegistered(event) => fold.registered(event),
            Event::ProfileUpdated(event) => fold.profile_updated(event),
            Event::AccountManagerAssigned(event) => fold.manager_assigned(event),
            Event::CustomersMerged(event) => fold.merged(event),
            Event::CustomerErased(event) => fold.erased(event),
            Event::ContactRecorded(event) => fold.contact_recorded(event),
            Event::ContactCorrected(event) => fold.contact_corrected(event),
            Event::SatisfactionRecorded(event) => fold.satisfaction(event),
            Event::PolicyIssued(event) => fold.policy_issued(event),
            Event::PolicyRenewed(event) => fold.policy_renewed(event),
            Event::PolicyEndorsed(event) => fold.policy_endorsed(event),
            Event::PolicyLapsed(event) => fold.policy_lapsed(event),
            Event::PolicyCancelled(event) => fold.policy_cancelled(event),
            Event::ClaimReported(event) => fold.claim_reported(event),
            Event::ClaimSettled(event) => fold.claim_settled(event),
            _ => Ok(()),
        }
    }
}

/// Moves the pruning clock to `day` if it is later; returns the clock.
fn advance_latest(state: &mut dyn StateWrite, day: i64) -> Result<i64, StateError> {
    match read::<i64>(state, keys::LATEST)? {
        Some(latest) if latest >= day => Ok(latest),
        _ => {
            write(state, keys::LATEST.to_vec(), &day)?;
            Ok(day)
        }
    }
}

/// One event being folded: the state, the event's day and the pruning cutoff.
struct Fold<'a> {
    state: &'a mut dyn StateWrite,
    day: i64,
    cutoff_day: i64,
}

impl Fold<'_> {
    /// Loads the record holding `customer`'s facts (the survivor's, if it was merged), or a
    /// new one first seen today; changes the whole record with `change`; prunes and writes it.
    fn update_record(
        &mut self,
        customer: CustomerId,
        change: impl FnOnce(&mut CustomerFacts, i64),
    ) -> Result<(), StateError> {
        let owner = owner(&*self.state, customer)?;
        let key = keys::customer(owner);
        let mut record = self
            .take(&key)?
            .unwrap_or_else(|| CustomerFacts::new(owner, self.day));
        change(&mut record, self.day);
        record.prune(self.cutoff_day);
        self.state.put_typed(key, Box::new(record))
    }

    /// As [`Fold::update_record`], changing the facts the event's facts about `customer` are
    /// filed with: its own until the day it was merged away, its survivor's from then on (an
    /// event dated before a merge but folded after it is still the duplicate's past).
    fn update(
        &mut self,
        customer: CustomerId,
        change: impl FnOnce(&mut CustomerFacts, i64),
    ) -> Result<(), StateError> {
        self.update_record(customer, |record, day| {
            change(record.holder_mut(customer, day), day);
        })
    }

    /// The record stored under `key`, taken out of the state: it must be written again (or
    /// deleted) before the event is done.
    fn take(&mut self, key: &[u8]) -> Result<Option<CustomerFacts>, StateError> {
        // Kept decoded by the state between events when it can (a rebuild's pending writes):
        // decoding and encoding the record at each event was most of this fold's time.
        match self.state.take_typed(key) {
            Some(kept) => {
                let kept: Box<dyn std::any::Any> = kept;
                let facts = kept.downcast::<CustomerFacts>().map_err(|_| {
                    StateError(format!(
                        "segments: {}: the value kept decoded is not a customer's facts",
                        key.escape_ascii()
                    ))
                })?;
                Ok(Some(*facts))
            }
            None => read(&*self.state, key),
        }
    }

    fn registered(&mut self, event: &CustomerRegistered) -> Result<(), StateError> {
        let group = event.group.is_some();
        let corporate = event.kind == CustomerKind::Corporate;
        self.update(event.customer_id, |facts, day| {
            facts.first_seen_day = facts.first_seen_day.min(day);
            facts.corporate = corporate;
            facts.group.push(Change { day, value: group });
        })
    }

    fn profile_updated(&mut self, event: &ProfileUpdated) -> Result<(), StateError> {
        let group = event.group.is_some();
        self.update(event.customer_id, |facts, day| {
            if facts.group.last().map(|change| change.value) != Some(group) {
                facts.group.push(Change { day, value: group });
            }
        })
    }

    fn manager_assigned(&mut self, event: &AccountManagerAssigned) -> Result<(), StateError> {
        let manager = event.manager.clone();
        self.update(event.customer_id, |facts, day| {
            facts.manager.push(Change {
                day,
                value: manager,
            });
        })
    }

    /// Moves the merged customer's record into the survivor's (its final survivor, if the
    /// survivor was merged meanwhile), kept apart with the merge's day, and remembers where it
    /// went. The past stays as it was: as of a day before the merge, the duplicate is its own
    /// customer and the survivor has only its own facts; from that day on, the duplicate is
    /// no customer and its facts are the survivor's. A merge that would close a cycle, or of a
    /// customer already merged away, changes nothing: the aggregate refuses both.
    fn merged(&mut self, event: &CustomersMerged) -> Result<(), StateError> {
        let merged = event.customer_id;
        let survivor = owner(&*self.state, event.survivor_id)?;
        if survivor == merged || self.state.get(&keys::merged(merged))?.is_some() {
            return Ok(());
        }
        let merged_key = keys::customer(merged);
        let duplicate = self.take(&merged_key)?;
        self.state.delete(&merged_key);
        write(self.state, keys::merged(merged), &survivor)?;
        self.update_record(survivor, |record, day| {
            if let Some(duplicate) = duplicate {
                record.take_in(duplicate, day);
            }
        })
    }

    /// Drops the customer's identifiers (its policy numbers) and marks its record erased, on
    /// the day of the erasure, if it is the customer's own (a duplicate merged into a live
    /// survivor leaves the survivor contactable). Numbers stay: premiums, counts and scores
    /// are not personal.
    fn erased(&mut self, event: &CustomerErased) -> Result<(), StateError> {
        let customer = event.customer_id;
        self.update_record(customer, |record, day| record.erase(customer, day))
    }

    fn contact_recorded(&mut self, event: &ContactRecorded) -> Result<(), StateError> {
        let contact = ContactFact {
            id: event.contact_id,
            day: day_of(event.started_at),
            channel: event.channel,
            complaint: event.topic == Topic::Complaint,
        };
        let customer = event.customer_id;
        self.update_record(customer, |record, day| {
            if record.contact_mut(contact.id).is_none() {
                record.holder_mut(customer, day).contacts.push(contact);
            }
        })
    }

    /// Replaces the contact's facts with the corrected ones. A contact already pruned (or
    /// never seen) is left alone: it is outside every window.
    fn contact_corrected(&mut self, event: &ContactCorrected) -> Result<(), StateError> {
        let id = event.contact_id;
        let day = day_of(event.started_at);
        let channel = event.channel;
        let complaint = event.topic == Topic::Complaint;
        self.update_record(event.customer_id, |record, _| {
            if let Some(contact) = record.contact_mut(id) {
                contact.day = day;
                contact.channel = channel;
                contact.complaint = complaint;
            }
        })
    }

    fn satisfaction(&mut self, event: &SatisfactionRecorded) -> Result<(), StateError> {
        let csat = event.csat.map(|score| score.get());
        let nps = event.nps.map(|score| score.get());
        self.update(event.customer_id, |facts, day| {
            // Kept in day order (an import may bring older answers later), so the last answer
            // on or before a day is the latest one.
            let at = facts.answers.partition_point(|answer| answer.day <= day);
            facts.answers.insert(at, Answer { day, csat, nps });
        })
    }

    fn policy_issued(&mut self, event: &PolicyIssued) -> Result<(), StateError> {
        let period = new_period(
            self.day,
            event.period_start,
            event.period_end,
            event.premium.fen(),
            line_bits(&event.product_lines),
        );
        let number = event.policy_number.clone();
        let holder = event.customer_id;
        self.update_record(holder, |record, day| {
            add_period(record, number, holder, day, period);
        })
    }

    fn policy_renewed(&mut self, event: &PolicyRenewed) -> Result<(), StateError> {
        let period = new_period(
            self.day,
            event.period_start,
            event.period_end,
            event.premium.fen(),
            line_bits(&event.product_lines),
        );
        let number = event.policy_number.clone();
        let holder = event.customer_id;
        self.update_record(holder, |record, day| {
            add_period(record, number, holder, day, period);
        })
    }

    /// New terms for the period the endorsement takes effect in (the latest one starting on
    /// or before its effective day, else the latest).
    fn policy_endorsed(&mut self, event: &PolicyEndorsed) -> Result<(), StateError> {
        let effective_day = day_of_date(event.effective_on);
        let premium_fen = event.premium.fen();
        let lines = event.product_lines.as_deref().map(line_bits);
        self.update_record(event.customer_id, |record, day| {
            let Some(policy) = record.policy_mut(&event.policy_number) else {
                return;
            };
            let Some(period) = period_at(&mut policy.periods, effective_day) else {
                return;
            };
            let lines = lines
                .or_else(|| period.terms.last().map(|terms| terms.lines))
                .unwrap_or(0);
            period.terms.push(Terms {
                recorded_day: day,
                effective_day,
                premium_fen,
                lines,
            });
        })
    }

    fn policy_lapsed(&mut self, event: &PolicyLapsed) -> Result<(), StateError> {
        self.end_policy(
            event.customer_id,
            &event.policy_number,
            day_of_date(event.lapsed_on),
            true,
        )
    }

    fn policy_cancelled(&mut self, event: &PolicyCancelled) -> Result<(), StateError> {
        self.end_policy(
            event.customer_id,
            &event.policy_number,
            day_of_date(event.cancelled_on),
            false,
        )
    }

    /// Ends the period in force on `on_day` (else the latest): from `on_day` on the policy is
    /// not in force.
    fn end_policy(
        &mut self,
        customer: CustomerId,
        number: &ledger_domain::values::PolicyNumber,
        on_day: i64,
        lapsed: bool,
    ) -> Result<(), StateError> {
        self.update_record(customer, |record, day| {
            let Some(policy) = record.policy_mut(number) else {
                return;
            };
            // A lapse is dated the day after the period's last day, so look a day earlier.
            let Some(period) = period_at(&mut policy.periods, on_day - i64::from(lapsed)) else {
                return;
            };
            period.ended = Some(Ended {
                recorded_day: day,
                on_day,
                lapsed,
            });
        })
    }

    fn claim_reported(&mut self, event: &ClaimReported) -> Result<(), StateError> {
        self.update(event.customer_id, |facts, day| {
            facts.claims_reported.push(day);
        })
    }

    fn claim_settled(&mut self, event: &ClaimSettled) -> Result<(), StateError> {
        let amount = event.amount.fen();
        self.update(event.customer_id, |facts, day| {
            facts.claim_payments.push((day, amount));
        })
    }
}

fn new_period(
    recorded_day: i64,
    start: jiff::civil::Date,
    end: jiff::civil::Date,
    premium_fen: i64,
    lines: u16,
) -> Period {
    let start_day = day_of_date(start);
    Period {
        recorded_day,
        start_day,
        end_day: day_of_date(end),
        terms: vec![Terms {
            recorded_day,
            effective_day: start_day,
            premium_fen,
            lines,
        }],
        ended: None,
    }
}

/// Adds `period` to the policy numbered `number` in `record`, creating the policy, with the
/// facts `holder`'s facts of `day` are filed with, if this is its first period the fold sees
/// (an issue before the history, or a renewal imported alone).
fn add_period(
    record: &mut CustomerFacts,
    number: ledger_domain::values::PolicyNumber,
    holder: CustomerId,
    day: i64,
    period: Period,
) {
    match record.policy_mut(&number) {
        Some(policy) => policy.periods.push(period),
        None => record.holder_mut(holder, day).policies.push(PolicyFacts {
            number: Some(number),
            holder,
            periods: vec![period],
        }),
    }
}

/// The latest period starting on or before `day`, else the latest period.
fn period_at(periods: &mut [Period], day: i64) -> Option<&mut Period> {
    let index = periods
        .iter()
        .rposition(|period| period.start_day <= day)
        .or_else(|| periods.len().checked_sub(1))?;
    periods.get_mut(index)
}

/// The customer whose record holds `customer`'s facts: `customer` itself, or the survivor it
/// was (transitively) merged into.
pub(crate) fn owner(
    state: &(impl StateRead + ?Sized),
    customer: CustomerId,
) -> Result<CustomerId, StateError> {
    let mut current = customer;
    for _ in 0..MERGE_CHAIN_MAX {
        match read::<CustomerId>(state, &keys::merged(current))? {
            Some(survivor) => current = survivor,
            None => return Ok(current),
        }
    }
    Err(StateError(format!(
        "segments: customer {customer} is merged through more than {MERGE_CHAIN_MAX} customers"
    )))
}

pub(crate) fn read<T: DeserializeOwned>(
    state: &(impl StateRead + ?Sized),
    key: &[u8],
) -> Result<Option<T>, StateError> {
    let Some(bytes) = state.get(key)? else {
        return Ok(None);
    };
    decode(key, &bytes).map(Some)
}

pub(crate) fn decode<T: DeserializeOwned>(key: &[u8], bytes: &[u8]) -> Result<T, StateError> {
    codec::decode(bytes)
        .map_err(|error| StateError(format!("segments: {}: {error}", key.escape_ascii())))
}

fn write<T: Serialize>(
    state: &mut dyn StateWrite,
    key: Vec<u8>,
    value: &T,
) -> Result<(), StateError> {
    let bytes = codec::encode(value)
        .map_err(|error| StateError(format!("segments: {}: {error}", key.escape_ascii())))?;
    state.put(key, bytes);
    Ok(())
}

/// The latest day the fold has seen, if any event was folded.
pub(crate) fn latest_day(state: &(impl StateRead + ?Sized)) -> Result<Option<i64>, StateError> {
    read(state, keys::LATEST)
}
