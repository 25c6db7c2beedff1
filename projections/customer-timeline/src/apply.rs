//! The fold: each event becomes an entry on the timeline of every customer it concerns, merges
//! gather histories, erasure strips personal text, and corrections rewrite contacts in place.

use ledger_domain::events::{ContactCorrected, CustomersMerged, Event};
use ledger_domain::ids::CustomerId;
use ledger_domain::projection::{Envelope, Order, StateError, StateRead, StateWrite};

use crate::entry::{TimelineEntry, correction_entry, entry_for};
use crate::keys::{
    self, COUNT, ContactHome, ERASED, REDIRECT, Slot, contact_key, customer_key, entry_key,
    moved_slot, slot, slot_of, timeline_end, timeline_prefix,
};

/// The most merge redirects followed from a customer to the timeline that receives its events.
/// A survivor is rarely merged again, so real chains are one or two hops. A merge that would
/// close a cycle, or whose survivor is already further than this from its final survivor, is
/// ignored (the domain should refuse both); should a chain still grow longer from its far end,
/// events are routed to the customer this many hops along, the same way on every replay.
pub const MERGE_HOPS_MAX: usize = 16;

/// How many entries a merge or an erasure reads at a time while walking a whole timeline. A
/// customer may have tens of thousands of entries; chunks keep each read small without
/// bounding the timeline.
const WALK_CHUNK_ENTRIES: usize = 1_024;

pub fn apply(envelope: &Envelope<'_>, state: &mut dyn StateWrite) -> Result<(), StateError> {
    match envelope.event {
        Event::CustomersMerged(event) => merge(envelope, event, state),
        Event::ContactCorrected(event) => correct(envelope, event, state),
        Event::CustomerErased(event) => {
            erase(state, event.customer_id)?;
            add_entries(envelope, state)
        }
        _ => add_entries(envelope, state),
    }
}

/// Adds the event's entry to the timeline of each customer it concerns, or of the survivor
/// that customer was merged into.
fn add_entries(envelope: &Envelope<'_>, state: &mut dyn StateWrite) -> Result<(), StateError> {
    let slot = slot(envelope.occurred_at, envelope.position);
    let mut targets = Vec::new();
    for recorded_for in envelope.event.customer_ids() {
        let Some(entry) = entry_for(envelope, recorded_for) else {
            continue;
        };
        let target = route(state, recorded_for)?;
        if targets.contains(&target) {
            continue;
        }
        targets.push(target);
        insert(state, target, &slot, entry, SlotUse::Fresh)?;
        if let Event::ContactRecorded(contact) = envelope.event {
            set_contact_home(state, contact.contact_id, target, slot)?;
        }
    }
    Ok(())
}

/// `customer_id` merged into `survivor_id`: the merged history is copied to the survivor's
/// timeline, later events for the merged customer are redirected there, and both timelines
/// record the merge.
fn merge(
    envelope: &Envelope<'_>,
    event: &CustomersMerged,
    state: &mut dyn StateWrite,
) -> Result<(), StateError> {
    let merged = event.customer_id;
    let Some(survivor) = final_survivor(state, event.survivor_id, merged)? else {
        return Ok(());
    };
    copy_timeline(state, merged, survivor)?;
    keys::write(state, customer_key(REDIRECT, merged), &event.survivor_id)?;
    let slot = slot(envelope.occurred_at, envelope.position);
    for (timeline, view) in [(merged, merged), (survivor, event.survivor_id)] {
        if let Some(entry) = entry_for(envelope, view) {
            insert(state, timeline, &slot, entry, SlotUse::Fresh)?;
        }
    }
    Ok(())
}

/// Rewrites a corrected contact wherever its entry was copied; a correction of a contact the
/// timeline never saw becomes an entry of its own.
fn correct(
    envelope: &Envelope<'_>,
    event: &ContactCorrected,
    state: &mut dyn StateWrite,
) -> Result<(), StateError> {
    let home: Option<ContactHome> = keys::read(state, &contact_key(event.contact_id))?;
    let ended = event.ended_at().unwrap_or(envelope.occurred_at);
    let Some(home) = home else {
        let target = route(state, event.customer_id)?;
        let slot = slot(ended, envelope.position);
        insert(
            state,
            target,
            &slot,
            correction_entry(envelope, event, event.customer_id),
            SlotUse::Fresh,
        )?;
        return set_contact_home(state, event.contact_id, target, slot);
    };
    // A corrected start or duration moves the entry (and every copy of it) to its new time;
    // its position still orders it among entries of the same time.
    let moved = moved_slot(&home.slot, ended);
    let mut timelines = vec![home.customer];
    timelines.extend(redirects(state, home.customer)?);
    for customer in timelines {
        let key = entry_key(customer, &home.slot);
        // A merge into an already merged survivor copies to the final survivor only, so the
        // survivors in between may not hold a copy.
        let Some(mut entry) = keys::read::<TimelineEntry, _>(state, &key)? else {
            continue;
        };
        entry.correct(event);
        if envelope.redacted || is_erased(state, customer)? || is_erased(state, entry.recorded_for)?
        {
            entry.erase();
        }
        if moved == home.slot {
            keys::write(state, key, &entry)?;
        } else {
            state.delete(&key);
            keys::write(state, entry_key(customer, &moved), &entry)?;
        }
    }
    if moved != home.slot {
        let home = ContactHome {
            customer: home.customer,
            slot: moved,
        };
        keys::write(state, contact_key(event.contact_id), &home)?;
    }
    Ok(())
}

/// Strips the personal text from every entry on the customer's own timeline, and from the
/// entries recorded for it that merges copied to its survivors, and marks it erased so later
/// entries arrive stripped.
fn erase(state: &mut dyn StateWrite, customer: CustomerId) -> Result<(), StateError> {
    state.put(customer_key(ERASED, customer), Vec::new());
    rewrite_timeline(state, customer, |_| true)?;
    for survivor in redirects(state, customer)? {
        rewrite_timeline(state, survivor, |entry| entry.recorded_for == customer)?;
    }
    Ok(())
}

/// Erases, in place, every entry of `customer`'s timeline that `selected` picks.
fn rewrite_timeline(
    state: &mut dyn StateWrite,
    customer: CustomerId,
    selected: impl Fn(&TimelineEntry) -> bool,
) -> Result<(), StateError> {
    walk_timeline(state, customer, |state, key, value| {
        let mut entry: TimelineEntry = keys::decode(key, value)?;
        if selected(&entry) && !(entry.erased && entry.summary.is_none()) {
            entry.erase();
            keys::write(state, key.to_vec(), &entry)?;
        }
        Ok(())
    })
}

/// Strips, on `customer`'s timeline in `past` (the timeline rebuilt to an earlier position),
/// every entry whose customer the `live` timeline knows as erased: erasure destroyed the
/// personal text since, so a past view cannot show it, and says so (`erased`) instead of
/// showing the blanks the destroyed fields decode to.
pub fn strip_erased_since(
    past: &mut dyn StateWrite,
    live: &dyn StateRead,
    customer: CustomerId,
) -> Result<(), StateError> {
    let owner_erased = is_erased(live, customer)?;
    let mut others = std::collections::HashMap::new();
    walk_timeline(past, customer, |state, key, value| {
        let mut entry: TimelineEntry = keys::decode(key, value)?;
        let erased = owner_erased
            || match others.get(&entry.recorded_for) {
                Some(erased) => *erased,
                None => {
                    let erased = is_erased(live, entry.recorded_for)?;
                    others.insert(entry.recorded_for, erased);
                    erased
                }
            };
        if erased && !(entry.erased && entry.summary.is_none()) {
            entry.erase();
            keys::write(state, key.to_vec(), &entry)?;
        }
        Ok(())
    })
}

/// Copies every entry of `from`'s timeline to the same slots on `to`'s.
fn copy_timeline(
    state: &mut dyn StateWrite,
    from: CustomerId,
    to: CustomerId,
) -> Result<(), StateError> {
    walk_timeline(state, from, |state, key, value| {
        let entry: TimelineEntry = keys::decode(key, value)?;
        insert(state, to, &slot_of(key)?, entry, SlotUse::Copied)
    })
}

/// Calls `visit` with each entry of `customer`'s timeline, oldest first, reading in chunks.
/// `visit` may rewrite the entry it is given, or write to other timelines, but must not add
/// entries to this one.
fn walk_timeline(
    state: &mut dyn StateWrite,
    customer: CustomerId,
    mut visit: impl FnMut(&mut dyn StateWrite, &[u8], &[u8]) -> Result<(), StateError>,
) -> Result<(), StateError> {
    let end = timeline_end(customer);
    let mut start = timeline_prefix(customer);
    // Each round resumes after the last key read, so the loop ends when a chunk comes back
    // short: the timeline has at most as many rounds as it has chunks.
    loop {
        let rows = state.range(&start, &end, Order::Ascending, WALK_CHUNK_ENTRIES)?;
        for (key, value) in &rows {
            visit(state, key, value)?;
        }
        match rows.last() {
            Some((last, _)) if rows.len() == WALK_CHUNK_ENTRIES => {
                start = last.clone();
                start.push(0);
            }
            _ => return Ok(()),
        }
    }
}

/// Whether the slot an entry is written to may hold an entry already.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SlotUse {
    /// A slot of the event being applied: its position is in no earlier entry's slot, and the
    /// event writes each timeline once, so the slot is empty (no read needed to know it).
    Fresh,
    /// A slot a merge copies from another timeline, which an earlier copy may have filled.
    Copied,
}

/// Writes `entry` at `slot` on `customer`'s timeline, stripped if either the customer or the
/// one it was recorded for was erased, and counts it if the slot was empty.
fn insert(
    state: &mut dyn StateWrite,
    customer: CustomerId,
    slot: &Slot,
    mut entry: TimelineEntry,
    slot_use: SlotUse,
) -> Result<(), StateError> {
    let recorded_for = entry.recorded_for;
    if is_erased(state, customer)? || (recorded_for != customer && is_erased(state, recorded_for)?)
    {
        entry.erase();
    }
    let key = entry_key(customer, slot);
    if slot_use == SlotUse::Fresh || state.get(&key)?.is_none() {
        let count_key = customer_key(COUNT, customer);
        let count: u64 = keys::read(state, &count_key)?.unwrap_or(0);
        keys::write(state, count_key, &count.saturating_add(1))?;
    }
    keys::write(state, key, &entry)
}

fn set_contact_home(
    state: &mut dyn StateWrite,
    contact: ledger_domain::ids::ContactId,
    customer: CustomerId,
    slot: Slot,
) -> Result<(), StateError> {
    let key = contact_key(contact);
    // Contact ids are unique; should one repeat, the first entry stays the one corrected.
    if state.get(&key)?.is_some() {
        return Ok(());
    }
    keys::write(state, key, &ContactHome { customer, slot })
}

fn is_erased<S: StateRead + ?Sized>(state: &S, customer: CustomerId) -> Result<bool, StateError> {
    Ok(state.get(&customer_key(ERASED, customer))?.is_some())
}

/// The survivors `customer` was merged into, nearest first, at most [`MERGE_HOPS_MAX`].
pub(crate) fn redirects<S: StateRead + ?Sized>(
    state: &S,
    customer: CustomerId,
) -> Result<Vec<CustomerId>, StateError> {
    Ok(follow_redirects(state, customer)?.0)
}

/// The redirects from `customer`, and whether the chain ended within [`MERGE_HOPS_MAX`] hops.
fn follow_redirects<S: StateRead + ?Sized>(
    state: &S,
    customer: CustomerId,
) -> Result<(Vec<CustomerId>, bool), StateError> {
    let mut chain = Vec::new();
    let mut current = customer;
    loop {
        let next: Option<CustomerId> = keys::read(state, &customer_key(REDIRECT, current))?;
        let Some(next) = next else {
            return Ok((chain, true));
        };
        if chain.len() == MERGE_HOPS_MAX {
            return Ok((chain, false));
        }
        chain.push(next);
        current = next;
    }
}

/// The timeline that receives events for `customer`: its own, or its final survivor's.
fn route<S: StateRead + ?Sized>(state: &S, customer: CustomerId) -> Result<CustomerId, StateError> {
    Ok(redirects(state, customer)?
        .last()
        .copied()
        .unwrap_or(customer))
}

/// The final survivor reached from `start`, or `None` when the chain passes through `merged`
/// (the merge would close a cycle) or is longer than [`MERGE_HOPS_MAX`].
fn final_survivor<S: StateRead + ?Sized>(
    state: &S,
    start: CustomerId,
    merged: CustomerId,
) -> Result<Option<CustomerId>, StateError> {
    let (chain, complete) = follow_redirects(state, start)?;
    let through_merged = start == merged || chain.contains(&merged);
    if through_merged || !complete {
        return Ok(None);
    }
    Ok(Some(chain.last().copied().unwrap_or(start)))
}
