//! What every erasure path shares: which event decides an erasure, whether a stream holds it,
//! which anonymous enquiries go with a customer's erasure, and finishing an erasure once its
//! event is durable (the `erase` command, a crash found on open, and bulk appends alike).
//!
//! A bulk append (`import`, `seed`) that carries an erasure event marks the erased subject
//! before the chunk holding the event is appended, and destroys the keys once the whole run is
//! durable ([`finish_recorded`]), so events of the subject later in the same run are still
//! sealed, and a crash in between is finished on the next open like any other.

use std::collections::HashMap;

use ledger_domain::aggregates::{Aggregate, Enquiry};
use ledger_domain::events::{Event, enquiry_stream};
use ledger_domain::ids::{ContactId, EnquiryId, StreamId};
use ledger_store::limits::READ_PAGE_MAX;
use ledger_store::{EventLog, StoreFailure};

use crate::personal::{KeyError, KeyRing};
use crate::runner::{RunnerError, decode};

/// Why an erasure could not be finished.
#[derive(Debug, thiserror::Error)]
pub enum ErasureError {
    #[error(transparent)]
    Store(#[from] StoreFailure),
    #[error(transparent)]
    Keys(#[from] KeyError),
    #[error(transparent)]
    Runner(#[from] RunnerError),
}

/// The event whose presence in `stream` decides an erasure marked with it: `EnquiryErased` on
/// an anonymous enquiry's own stream, `CustomerErased` on a customer's.
pub fn erasure_event(stream: &StreamId) -> &'static str {
    if stream.category() == Enquiry::CATEGORY {
        "EnquiryErased"
    } else {
        "CustomerErased"
    }
}

/// The stream an erasure event erases: the customer's or the anonymous enquiry's own.
pub fn erased_subject(event: &Event) -> Option<StreamId> {
    match event {
        Event::CustomerErased(_) | Event::EnquiryErased(_) => Some(event.stream()),
        _ => None,
    }
}

/// Whether `stream` holds an event of type `event_type` (read from the envelopes; no payload is
/// opened).
pub fn stream_holds<L: EventLog + ?Sized>(
    log: &L,
    stream: &StreamId,
    event_type: &str,
) -> Result<bool, StoreFailure> {
    let mut found = false;
    for_each_page(log, stream, |page| -> Result<bool, StoreFailure> {
        found = page
            .iter()
            .any(|record| record.event.event_type == event_type);
        Ok(!found)
    })?;
    Ok(found)
}

/// The streams of the online enquiries received from nobody known (`enquiry-{id}`) that a
/// contact in the customer's stream `customer` names as last recorded or corrected (a
/// correction that unlinks a wrongly named enquiry leaves that one alone).
pub fn answered_enquiries<L: EventLog + ?Sized>(
    log: &L,
    keys: &KeyRing,
    customer: &StreamId,
) -> Result<Vec<StreamId>, ErasureError> {
    let mut links: HashMap<ContactId, EnquiryId> = HashMap::new();
    for_each_page(log, customer, |page| -> Result<bool, ErasureError> {
        for record in page {
            let (contact, enquiry) = match decode(keys, record)? {
                Event::ContactRecorded(contact) => (contact.contact_id, contact.enquiry_id),
                Event::ContactCorrected(correction) => {
                    (correction.contact_id, correction.enquiry_id)
                }
                _ => continue,
            };
            match enquiry {
                Some(enquiry) => links.insert(contact, enquiry),
                None => links.remove(&contact),
            };
        }
        Ok(true)
    })?;
    let mut found: Vec<StreamId> = links
        .into_values()
        .map(|enquiry| enquiry_stream(enquiry, None))
        .filter(|stream| log.stream_version(stream) > 0)
        .collect();
    found.sort();
    found.dedup();
    Ok(found)
}

/// Calls `visit` with each page of `stream` in order while it returns `Ok(true)`.
fn for_each_page<L: EventLog + ?Sized, E: From<StoreFailure>>(
    log: &L,
    stream: &StreamId,
    mut visit: impl FnMut(&[ledger_store::RecordedEvent]) -> Result<bool, E>,
) -> Result<(), E> {
    let mut version = 0;
    loop {
        let page = log.read_stream(stream, version + 1, READ_PAGE_MAX)?;
        let Some(last) = page.last() else {
            return Ok(());
        };
        version = last.stream_version;
        if !visit(&page)? || page.len() < READ_PAGE_MAX {
            return Ok(());
        }
    }
}

/// Finishes the erasures of `subjects`, each marked by its own erasure: a subject whose erasure
/// event is in the log loses its key (a customer's with the keys of the anonymous enquiries
/// their contacts answered), the others keep theirs and lose the marker. Returns how many keys
/// were destroyed.
pub fn finish_recorded<L: EventLog + ?Sized>(
    log: &L,
    keys: &KeyRing,
    subjects: &[StreamId],
) -> Result<usize, ErasureError> {
    let mut destroyed = 0;
    for subject in subjects {
        let recorded = stream_holds(log, subject, erasure_event(subject))?;
        if recorded && subject.category() != Enquiry::CATEGORY {
            for enquiry in answered_enquiries(log, keys, subject)? {
                keys.begin_erasure_decided_by(&enquiry, subject)?;
                keys.finish_erasure(&enquiry, true)?;
                destroyed += 1;
            }
        }
        keys.finish_erasure(subject, recorded)?;
        destroyed += usize::from(recorded);
    }
    Ok(destroyed)
}
