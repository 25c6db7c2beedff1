//! The fold: [`Analytics`] adds each contact to its hour and day buckets, and moves it when a
//! correction changes its facts.

use ledger_domain::codec;
use ledger_domain::events::{ContactCorrected, ContactRecorded, Event, ServiceCaseOpened};
use ledger_domain::ids::ContactId;
use ledger_domain::projection::{Envelope, Projection, StateError, StateRead, StateWrite};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::counters::{ContactFacts, CountedContact, Counters, DayCounters};
use crate::keys;
use crate::time;

/// The analytics projection: contacts per channel in hour and day buckets. Stateless: all it
/// knows lives in the state it is given.
#[derive(Debug, Clone, Copy, Default)]
pub struct Analytics;

impl Analytics {
    /// The projection's stable name: its keyspace, its checkpoint, its name on the CLI.
    pub const NAME: &'static str = "analytics";

    /// The layout version of what `apply` writes; bump it when the layout or a derivation
    /// changes, so the runner rebuilds.
    /// 2: a contact a service case was opened from is not resolved at first contact.
    pub const VERSION: u32 = 2;
}

impl Projection for Analytics {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    fn version(&self) -> u32 {
        Self::VERSION
    }

    fn apply(&self, envelope: &Envelope<'_>, state: &mut dyn StateWrite) -> Result<(), StateError> {
        match envelope.event {
            Event::ContactRecorded(event) => recorded(state, event),
            Event::ContactCorrected(event) => corrected(state, event),
            Event::ServiceCaseOpened(ServiceCaseOpened {
                contact_id: Some(contact),
                ..
            }) => case_opened_from(state, *contact),
            _ => Ok(()),
        }
    }
}

/// Counts a new contact. A contact id already counted is left alone: the aggregate never
/// records one twice, and counting it again would double it.
fn recorded(state: &mut dyn StateWrite, event: &ContactRecorded) -> Result<(), StateError> {
    let key = keys::contact(event.contact_id);
    if state.get(&key)?.is_some() {
        return Ok(());
    }
    let mut facts = ContactFacts::from(event);
    facts.linked_to_case |= opened_a_case(state, event.contact_id)?;
    let counted = facts.counted();
    add(state, &counted)?;
    write(state, key, &counted)
}

/// Moves a corrected contact's counts from its old facts to its new ones (which may be
/// another hour, channel, direction, topic or outcome). A correction of a contact never
/// counted is ignored: the aggregate only corrects contacts it recorded.
fn corrected(state: &mut dyn StateWrite, event: &ContactCorrected) -> Result<(), StateError> {
    let key = keys::contact(event.contact_id);
    let Some(old) = read::<CountedContact>(state, &key)? else {
        return Ok(());
    };
    let mut facts = ContactFacts::from(event);
    facts.linked_to_case |= opened_a_case(state, event.contact_id)?;
    let new = facts.counted();
    if new == old {
        return Ok(());
    }
    subtract(state, &old)?;
    add(state, &new)?;
    write(state, key, &new)
}

/// Whether a service case was opened from `contact`.
fn opened_a_case(state: &dyn StateWrite, contact: ContactId) -> Result<bool, StateError> {
    Ok(state.get(&keys::case_opened(contact))?.is_some())
}

/// A service case opened from `contact`: the contact did not settle the matter by itself, so
/// it no longer counts as resolved at first contact (now, or when it is recorded later).
fn case_opened_from(state: &mut dyn StateWrite, contact: ContactId) -> Result<(), StateError> {
    let marker = keys::case_opened(contact);
    if state.get(&marker)?.is_some() {
        return Ok(());
    }
    state.put(marker, Vec::new());
    let key = keys::contact(contact);
    let Some(old) = read::<CountedContact>(state, &key)? else {
        return Ok(());
    };
    if old.counts.resolved_at_first_contact == 0 {
        return Ok(());
    }
    let mut new = old;
    new.counts.resolved_at_first_contact = 0;
    subtract(state, &old)?;
    add(state, &new)?;
    write(state, key, &new)
}

fn add(state: &mut dyn StateWrite, counted: &CountedContact) -> Result<(), StateError> {
    let hour_key = keys::bucket(keys::HOUR, counted.hour, counted.channel);
    let mut hour = read::<Counters>(state, &hour_key)?.unwrap_or_default();
    hour.add(&counted.counts);
    write(state, hour_key, &hour)?;

    let day_key = keys::bucket(keys::DAY, time::day_of_hour(counted.hour), counted.channel);
    let mut day = read::<DayCounters>(state, &day_key)?.unwrap_or_default();
    day.counters.add(&counted.counts);
    let slot = &mut day.contacts_by_hour[time::hour_of_day(counted.hour)];
    *slot = slot.saturating_add(counted.counts.contacts);
    write(state, day_key, &day)
}

/// Takes a contact's counts back out of its buckets; a bucket left empty is deleted, so the
/// state holds the same keys as if the contact had never been counted there.
fn subtract(state: &mut dyn StateWrite, counted: &CountedContact) -> Result<(), StateError> {
    let missing = |key: &[u8]| {
        StateError(format!(
            "analytics: {} does not hold the contact being corrected",
            key.escape_ascii()
        ))
    };
    let hour_key = keys::bucket(keys::HOUR, counted.hour, counted.channel);
    let hour = read::<Counters>(state, &hour_key)?.unwrap_or_default();
    let hour = hour
        .subtract(&counted.counts)
        .ok_or_else(|| missing(&hour_key))?;
    if hour.is_zero() {
        state.delete(&hour_key);
    } else {
        write(state, hour_key, &hour)?;
    }

    let day_key = keys::bucket(keys::DAY, time::day_of_hour(counted.hour), counted.channel);
    let day = read::<DayCounters>(state, &day_key)?.unwrap_or_default();
    let counters = day
        .counters
        .subtract(&counted.counts)
        .ok_or_else(|| missing(&day_key))?;
    let mut contacts_by_hour = day.contacts_by_hour;
    let slot = &mut contacts_by_hour[time::hour_of_day(counted.hour)];
    *slot = slot
        .checked_sub(counted.counts.contacts)
        .ok_or_else(|| missing(&day_key))?;
    if counters.is_zero() {
        state.delete(&day_key);
    } else {
        write(
            state,
            day_key,
            &DayCounters {
                counters,
                contacts_by_hour,
            },
        )?;
    }
    Ok(())
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
        .map_err(|error| StateError(format!("analytics: {}: {error}", key.escape_ascii())))
}

fn write<T: Serialize>(
    state: &mut dyn StateWrite,
    key: Vec<u8>,
    value: &T,
) -> Result<(), StateError> {
    let bytes = codec::encode(value)
        .map_err(|error| StateError(format!("analytics: {}: {error}", key.escape_ascii())))?;
    state.put(key, bytes);
    Ok(())
}
