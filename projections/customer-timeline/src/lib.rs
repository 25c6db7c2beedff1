//! The customer timeline: everything that concerns a customer, newest first, in one place.
//!
//! A pure fold over the log (see [`ledger_domain::projection`]). Every event that names a
//! customer ([`Event::customer_ids`]) becomes a [`TimelineEntry`] on that customer's timeline:
//! contacts on every channel, satisfaction answers, policies, claims, service cases and risk
//! surveys, campaign touches and responses, online enquiries, account-manager changes, profile
//! and identifier changes, merges and erasure. An entry carries what an agent reads at a
//! glance: when it occurred, channel, direction, kind, agent, a short title, the personal
//! summary, the outcome and the linked policy, claim, case and campaign.
//!
//! [`page`] reads one page with Relay cursors both ways, filtered by channel, kind and time.
//!
//! # Key layout
//!
//! One keyspace, a one-byte tag first; customer and contact ids are their 16 UUID bytes.
//!
//! | key | value |
//! |---|---|
//! | `E` ‖ customer id ‖ occurred_at ‖ position | [`TimelineEntry`] |
//! | `M` ‖ merged customer id | the survivor its merge named |
//! | `C` ‖ contact id | the timeline its entry was first written to, and the entry's slot |
//! | `X` ‖ customer id | empty: the customer was erased |
//! | `N` ‖ customer id | the number of entries on its timeline (`u64`) |
//!
//! `occurred_at` is the envelope's business time as i128 nanoseconds, big-endian with the sign
//! bit flipped, so byte order is time order; the position (u64, big-endian) breaks ties. A
//! customer's entries are therefore contiguous and sorted oldest to newest, and the newest-first
//! page of 50 is one descending range read of 51 keys under `E` ‖ customer id. Time filters
//! narrow the key range itself; channel and kind filters read on through the range, at most
//! [`TIMELINE_SCAN_MAX`] entries per request.
//!
//! # Merges, erasure and corrections
//!
//! - `CustomersMerged` copies the merged customer's entries to the same slots on the (final)
//!   survivor's timeline and records a redirect, so later events for the merged customer land
//!   on the survivor; both timelines get an entry for the merge. The merged customer's own
//!   timeline stays as it was at the merge. A merge that would close a cycle, or whose survivor
//!   is more than [`MERGE_HOPS_MAX`] merges from its final survivor, is ignored.
//! - `CustomerErased` strips the personal text (`summary`) from every entry on the customer's
//!   timeline and from the entries recorded for it on its survivors' timelines, setting
//!   `erased`; kinds, channels, amounts, dates and titles (which never hold personal data)
//!   stay. Entries arriving later for an erased customer are stripped as they are written, so
//!   a rebuild that no longer can read the erased customer's sealed fields writes the same.
//! - An event that reads redacted ([`Envelope::redacted`]: its data subject's key was
//!   destroyed, or stayed in the ledger this one was imported from) gives entries already
//!   stripped (`erased`, no `summary`), and so does a correction that reads redacted. A
//!   rebuild after an erasure reads the erased customer's earlier events so, and writes what
//!   the live fold wrote once it stripped them; a customer whose key is elsewhere shows erased
//!   entries, not blank ones. An entry of an event with nothing personal (a consent change)
//!   arrives whole: nothing of it was erased.
//! - `ContactCorrected` rewrites the contact's entry, wherever merges copied it, with the
//!   corrected facts and `corrected: true`. A contact is dated when it ended, so a corrected
//!   `startedAt` or `durationSeconds` moves the entry (and its copies) to the corrected end,
//!   keeping its position as the tie-break; the contact's `C` key follows it.
//!
//! Values are encoded with [`ledger_domain::codec`]; the layout is version 1.
//!
//! [`Event::customer_ids`]: ledger_domain::events::Event::customer_ids

mod apply;
mod entry;
mod keys;
mod label;
mod query;
mod stored_time;

use ledger_domain::projection::{Envelope, Projection, StateError, StateWrite};

pub use apply::{MERGE_HOPS_MAX, strip_erased_since};
pub use entry::TimelineEntry;
pub use query::{
    PageRequest, TIMELINE_PAGE_MAX, TIMELINE_SCAN_MAX, TimelineError, TimelineFilter, TimelinePage,
    contact_timeline, entry_count, page,
};

/// The customer-timeline projection. Stateless: everything lives in the state it is given.
#[derive(Debug, Clone, Copy, Default)]
pub struct CustomerTimeline;

impl Projection for CustomerTimeline {
    fn name(&self) -> &'static str {
        "customer-timeline"
    }

    /// 2: titles give deadlines in Beijing time, and a deadline in working hours as such.
    /// 3: a correction of a contact's time moves its entry to the corrected time.
    /// 4: "1 document requested", not "1 documents".
    /// 5: an event that reads redacted gives an erased entry, not one with a blank summary.
    fn version(&self) -> u32 {
        5
    }

    fn apply(&self, envelope: &Envelope<'_>, state: &mut dyn StateWrite) -> Result<(), StateError> {
        apply::apply(envelope, state)
    }
}

#[cfg(test)]
mod tests;
