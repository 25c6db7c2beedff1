//! The fold: how each event changes the directory. No rules are decided here; the aggregates
//! decided them before the events were written.

use jiff::Timestamp;
use ledger_domain::events::{CustomerRegistered, CustomersMerged, Event};
use ledger_domain::ids::CustomerId;
use ledger_domain::projection::{Envelope, Order, StateError, StateRead, StateWrite};
use ledger_domain::values::{Identifier, IdentifierKind};
use serde::de::DeserializeOwned;

use crate::keys::{
    self, customer_key, identifier_key, name_key, owned_key, record_key, superseded_key,
};
use crate::query::{final_survivor, read_owners, record_of as read_record};
use crate::record::{AccountManager, Consent, CustomerRecord, IdentifierOwners, OwnedIdentifier};

/// How many reverse-index entries erasure reads at a time. Erasure walks every identifier the
/// customer holds, is linked to or was linked to before a later link (a fleet can have
/// thousands of plates and policies); reading them in chunks keeps each read small without
/// bounding how many there may be.
const ERASURE_CHUNK_ENTRIES: usize = 1_024;

pub fn apply(envelope: &Envelope<'_>, state: &mut dyn StateWrite) -> Result<(), StateError> {
    fold(envelope, state)?;
    if envelope.redacted {
        // The personal fields are sealed under the key of the event's data subject (the last
        // customer it names, as `Event::data_subject` says): that customer reads as erased.
        if let Some(&subject) = envelope.event.customer_ids().last() {
            unreadable(state, subject)?;
        }
    }
    Ok(())
}

fn fold(envelope: &Envelope<'_>, state: &mut dyn StateWrite) -> Result<(), StateError> {
    let at = envelope.occurred_at;
    match envelope.event {
        Event::CustomerRegistered(event) => register(state, event, at, envelope.redacted),
        Event::IdentifierAdded(event) => {
            if erasure_recorded(state, event.customer_id)? {
                return Ok(());
            }
            set_holder(state, &event.identifier, Some(event.customer_id))
        }
        Event::IdentifierRemoved(event) => {
            let owners = read_owners(state, &event.identifier)?;
            if owners.held != Some(event.customer_id) {
                return Ok(());
            }
            set_holder(state, &event.identifier, None)
        }
        Event::ProfileUpdated(event) => update_record(state, event.customer_id, |record| {
            // Personal: never written into a record that reads as erased.
            if !record.erased {
                record.name = Some(event.name.clone());
                record.group = event.group.clone();
            }
        }),
        Event::ConsentChanged(event) => update_live_record(state, event.customer_id, |record| {
            let consent = Consent {
                channel: event.channel,
                granted: event.granted,
                changed_at: at,
            };
            match record
                .consents
                .binary_search_by_key(&event.channel, |consent| consent.channel)
            {
                Ok(index) => record.consents[index] = consent,
                Err(index) => record.consents.insert(index, consent),
            }
        }),
        Event::AccountManagerAssigned(event) => {
            update_live_record(state, event.customer_id, |record| {
                record.account_manager = Some(AccountManager {
                    manager: event.manager.clone(),
                    team_lead: event.team_lead.clone(),
                    assigned_at: at,
                });
            })
        }
        Event::CustomersMerged(event) => merge(state, event),
        Event::CustomerErased(event) => erase(state, event.customer_id, at),
        Event::PolicyQuoted(event) => link_all(
            state,
            event.customer_id,
            &[
                (IdentifierKind::PolicyNumber, event.policy_number.as_str()),
                (IdentifierKind::Plate, event.plate.as_str()),
                (IdentifierKind::Vin, event.vin.as_str()),
            ],
        ),
        Event::PolicyIssued(event) => link_all(
            state,
            event.customer_id,
            &[
                (IdentifierKind::PolicyNumber, event.policy_number.as_str()),
                (IdentifierKind::Plate, event.plate.as_str()),
                (IdentifierKind::Vin, event.vin.as_str()),
            ],
        ),
        Event::PolicyRenewed(event) => link_policy(state, event.customer_id, &event.policy_number),
        Event::PolicyLapsed(event) => link_policy(state, event.customer_id, &event.policy_number),
        Event::PolicyCancelled(event) => {
            link_policy(state, event.customer_id, &event.policy_number)
        }
        Event::PolicyEndorsed(event) => {
            let mut identifiers =
                vec![(IdentifierKind::PolicyNumber, event.policy_number.as_str())];
            if let Some(plate) = &event.plate {
                identifiers.push((IdentifierKind::Plate, plate.as_str()));
            }
            link_all(state, event.customer_id, &identifiers)
        }
        Event::ClaimReported(event) => {
            let mut identifiers = vec![
                (IdentifierKind::ClaimNumber, event.claim_number.as_str()),
                (IdentifierKind::PolicyNumber, event.policy_number.as_str()),
            ];
            if let Some(plate) = &event.plate {
                identifiers.push((IdentifierKind::Plate, plate.as_str()));
            }
            link_all(state, event.customer_id, &identifiers)
        }
        _ => Ok(()),
    }
}

/// Registers the customer. A registration that reads redacted registers a customer that reads
/// as erased from the start: no name, no group, no identifiers (their values are erased).
fn register(
    state: &mut dyn StateWrite,
    event: &CustomerRegistered,
    at: Timestamp,
    redacted: bool,
) -> Result<(), StateError> {
    // The aggregate registers a customer once; a second registration changes nothing here
    // either, so the fold stays total whatever the log holds.
    if read_record(state, event.customer_id)?.is_some() {
        return Ok(());
    }
    let record = CustomerRecord {
        id: event.customer_id,
        kind: event.kind,
        name: (!redacted).then(|| event.name.clone()),
        group: event.group.clone().filter(|_| !redacted),
        identifiers: Vec::new(),
        account_manager: None,
        consents: Vec::new(),
        merged_into: None,
        merged_from: Vec::new(),
        erased: redacted,
        registered_at: at,
        erased_at: None,
    };
    store_record(state, None, &record)?;
    for identifier in &event.identifiers {
        set_holder(state, identifier, Some(event.customer_id))?;
    }
    Ok(())
}

/// `customer_id` merged into `survivor_id`: the merged identifiers now find the final survivor.
fn merge(state: &mut dyn StateWrite, event: &CustomersMerged) -> Result<(), StateError> {
    let merged = event.customer_id;
    // A merge that would close a cycle (or make a chain longer than the hops allowed) is
    // ignored: the domain should never write one, and the fold must stay total.
    let Some(survivor) = final_survivor(state, event.survivor_id, Some(merged))? else {
        return Ok(());
    };
    // The event lists what the merged customer's stream knows it holds; the directory may
    // know more (identifiers it received from earlier merges into it). All of them move on.
    let mut identifiers = event.identifiers.clone();
    if let Some(record) = read_record(state, merged)? {
        identifiers.extend(record.identifiers);
    }
    update_record(state, merged, |record| {
        record.merged_into = Some(event.survivor_id);
    })?;
    for identifier in &identifiers {
        set_holder(state, identifier, Some(survivor))?;
    }
    update_record(state, survivor, |record| {
        if !record.merged_from.contains(&merged) {
            record.merged_from.push(merged);
        }
    })
}

/// Forgets everything personal about `customer`: every identifier entry it holds or is linked
/// to, its place in the links of every identifier (an identifier linked to it goes back to the
/// customer linked before), its name and group, and its place in name search; records when.
fn erase(
    state: &mut dyn StateWrite,
    customer: CustomerId,
    at: Timestamp,
) -> Result<(), StateError> {
    take_all(
        state,
        &customer_key(keys::SUPERSEDED, customer),
        |state, identifier: Identifier| {
            let mut owners = read_owners(state, &identifier)?;
            unlink(state, &identifier, &mut owners, customer)?;
            write_owners(state, &identifier, &owners)
        },
    )?;
    take_all(
        state,
        &customer_key(keys::OWNED, customer),
        |state, owned: OwnedIdentifier| {
            let mut owners = read_owners(state, &owned.identifier)?;
            if owners.held == Some(customer) {
                owners.held = None;
            }
            unlink(state, &owned.identifier, &mut owners, customer)?;
            write_owners(state, &owned.identifier, &owners)
        },
    )?;
    update_record(state, customer, |record| {
        record.name = None;
        record.group = None;
        record.identifiers.clear();
        record.erased = true;
        record.erased_at = Some(at);
    })
}

/// Deletes every entry under `prefix`, handing each value to `take` first.
fn take_all<T: DeserializeOwned>(
    state: &mut dyn StateWrite,
    prefix: &[u8],
    mut take: impl FnMut(&mut dyn StateWrite, T) -> Result<(), StateError>,
) -> Result<(), StateError> {
    // Each round deletes what it read, so the next read starts at the first entry left; the
    // loop ends when none is. `take` writes no key under `prefix` (it changes other customers'
    // entries and the identifiers'), so it cannot keep the loop going.
    loop {
        let entries = state.prefix(prefix, Order::Ascending, ERASURE_CHUNK_ENTRIES)?;
        if entries.is_empty() {
            return Ok(());
        }
        for (key, value) in entries {
            take(state, keys::decode(&key, &value)?)?;
            state.delete(&key);
        }
    }
}

/// Takes `erased` out of the links of `identifier`. If the identifier was linked to them, it
/// goes back to the customer linked before (the last one left), whose superseded link becomes
/// the link again, as a rebuild that cannot read `erased`'s plates and VINs finds it. The
/// caller writes `owners`.
fn unlink(
    state: &mut dyn StateWrite,
    identifier: &Identifier,
    owners: &mut IdentifierOwners,
    erased: CustomerId,
) -> Result<(), StateError> {
    let was_linked = owners.linked() == Some(erased);
    owners.links.retain(|&linked| linked != erased);
    let Some(previous) = owners.linked().filter(|_| was_linked) else {
        return Ok(());
    };
    // Every erasure takes its customer out of every link it is in, and an erased customer's
    // later events link nothing: one left in the links means the state is corrupt.
    if erasure_recorded(state, previous)? {
        return Err(StateError(format!(
            "customer-directory: a {:?} would be linked back to customer {previous}, whose \
             erasure was recorded",
            identifier.kind()
        )));
    }
    state.delete(&superseded_key(previous, identifier));
    update_owned(state, previous, identifier, |owned| owned.linked = true)
}

fn link_policy(
    state: &mut dyn StateWrite,
    customer: CustomerId,
    policy_number: &ledger_domain::values::PolicyNumber,
) -> Result<(), StateError> {
    link_all(
        state,
        customer,
        &[(IdentifierKind::PolicyNumber, policy_number.as_str())],
    )
}

/// Links each `(kind, value)` to `customer`, unless the customer was erased. An erased value
/// (a plate or VIN of an event that reads redacted) is no identifier and is skipped.
fn link_all(
    state: &mut dyn StateWrite,
    customer: CustomerId,
    identifiers: &[(IdentifierKind, &str)],
) -> Result<(), StateError> {
    if erasure_recorded(state, customer)? {
        return Ok(());
    }
    for &(kind, value) in identifiers {
        // The value was validated when its event was written, and a normalised value parses
        // to itself. Should a rule have been tightened since, the identifier cannot be a key
        // any more and is skipped, the same way on every replay.
        if let Ok(identifier) = Identifier::parse("identifier", kind, value) {
            set_linked(state, &identifier, customer)?;
        }
    }
    Ok(())
}

/// Makes `holder` (or nobody) the holder of `identifier`, keeping the reverse index and the
/// records of the previous and the new holder in step. An erased identifier (of an event that
/// reads redacted) changes nothing: its value is gone, and it is nobody's key.
fn set_holder(
    state: &mut dyn StateWrite,
    identifier: &Identifier,
    holder: Option<CustomerId>,
) -> Result<(), StateError> {
    if identifier.is_erased() {
        return Ok(());
    }
    let mut owners = read_owners(state, identifier)?;
    if owners.held == holder {
        return Ok(());
    }
    if let Some(previous) = owners.held {
        update_owned(state, previous, identifier, |owned| owned.held = false)?;
        update_record(state, previous, |record| {
            record.identifiers.retain(|held| held != identifier);
        })?;
    }
    if let Some(holder) = holder {
        update_owned(state, holder, identifier, |owned| owned.held = true)?;
        update_record(state, holder, |record| {
            if let Err(index) = record.identifiers.binary_search(identifier) {
                record.identifiers.insert(index, identifier.clone());
            }
        })?;
    }
    owners.held = holder;
    write_owners(state, identifier, &owners)
}

/// Links `identifier` to `customer`. The customer it was linked to before keeps a superseded
/// link (in the identifier's links and in the reverse index erasure walks), so that erasing
/// `customer` gives the identifier back to them.
fn set_linked(
    state: &mut dyn StateWrite,
    identifier: &Identifier,
    customer: CustomerId,
) -> Result<(), StateError> {
    let mut owners = read_owners(state, identifier)?;
    if owners.linked() == Some(customer) {
        return Ok(());
    }
    if let Some(previous) = owners.linked() {
        update_owned(state, previous, identifier, |owned| owned.linked = false)?;
        keys::write(state, superseded_key(previous, identifier), identifier)?;
    }
    // A customer linking the identifier again moves to the end of its links.
    if let Some(index) = owners.links.iter().position(|&linked| linked == customer) {
        owners.links.remove(index);
        state.delete(&superseded_key(customer, identifier));
    }
    owners.links.push(customer);
    update_owned(state, customer, identifier, |owned| owned.linked = true)?;
    write_owners(state, identifier, &owners)
}

fn write_owners(
    state: &mut dyn StateWrite,
    identifier: &Identifier,
    owners: &IdentifierOwners,
) -> Result<(), StateError> {
    let key = identifier_key(identifier);
    if owners.is_empty() {
        state.delete(&key);
        Ok(())
    } else {
        keys::write(state, key, owners)
    }
}

/// Changes the reverse-index entry of `customer` for `identifier`, deleting it once the
/// customer neither holds nor is linked to the identifier.
fn update_owned(
    state: &mut dyn StateWrite,
    customer: CustomerId,
    identifier: &Identifier,
    change: impl FnOnce(&mut OwnedIdentifier),
) -> Result<(), StateError> {
    let key = owned_key(customer, identifier);
    let mut owned = keys::read(state, &key)?.unwrap_or_else(|| OwnedIdentifier {
        identifier: identifier.clone(),
        held: false,
        linked: false,
    });
    change(&mut owned);
    if owned.held || owned.linked {
        keys::write(state, key, &owned)
    } else {
        state.delete(&key);
        Ok(())
    }
}

/// Whether `customer`'s erasure was recorded (`CustomerErased`): nothing about them is linked
/// or changed any more. A customer that only reads as erased (see [`unreadable`]) still takes
/// non-personal facts, as the live fold took them before the erasure.
fn erasure_recorded<S: StateRead + ?Sized>(
    state: &S,
    customer: CustomerId,
) -> Result<bool, StateError> {
    Ok(read_record(state, customer)?.is_some_and(|record| record.erasure_recorded()))
}

/// `customer`'s personal fields cannot be opened (an event of theirs read redacted): their
/// data key was destroyed, or stayed in the ledger this one was imported from. The record reads
/// as erased, as an erased customer's does (no name, no group, out of name search), without an
/// erasure time, since no erasure was recorded. Their identifiers were never indexed (their
/// values are erased); any indexed before the key went are forgotten by the `CustomerErased`
/// that destroyed it.
fn unreadable(state: &mut dyn StateWrite, customer: CustomerId) -> Result<(), StateError> {
    update_record(state, customer, |record| {
        record.name = None;
        record.group = None;
        record.erased = true;
    })
}

/// Applies `change` to the record of `customer`, if it is registered.
fn update_record(
    state: &mut dyn StateWrite,
    customer: CustomerId,
    change: impl FnOnce(&mut CustomerRecord),
) -> Result<(), StateError> {
    let Some(before) = read_record(state, customer)? else {
        return Ok(());
    };
    let mut after = before.clone();
    change(&mut after);
    if after != before {
        store_record(state, Some(&before), &after)?;
    }
    Ok(())
}

/// Like [`update_record`], but leaves the record of a customer whose erasure was recorded
/// alone, whatever arrives later.
fn update_live_record(
    state: &mut dyn StateWrite,
    customer: CustomerId,
    change: impl FnOnce(&mut CustomerRecord),
) -> Result<(), StateError> {
    update_record(state, customer, |record| {
        if !record.erasure_recorded() {
            change(record);
        }
    })
}

/// Writes `after`, moving its name-index entry if the name or its listing changed.
fn store_record(
    state: &mut dyn StateWrite,
    before: Option<&CustomerRecord>,
    after: &CustomerRecord,
) -> Result<(), StateError> {
    let listing = |record: &CustomerRecord| {
        record
            .name
            .as_ref()
            .filter(|_| record.is_listed())
            .map(|name| name_key(name.as_str(), record.id))
    };
    let old_key = before.and_then(listing);
    let new_key = listing(after);
    if old_key != new_key {
        if let Some(old_key) = old_key {
            state.delete(&old_key);
        }
        if let Some(new_key) = new_key {
            state.put(new_key, Vec::new());
        }
    }
    keys::write(state, record_key(after.id), after)
}
