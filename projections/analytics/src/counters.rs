//! What the buckets hold: [`Counters`] per hour and channel, [`DayCounters`] per day and
//! channel, and the [`CountedContact`] each contact was counted as, so a correction can take
//! exactly that back out.

use ledger_domain::events::{ContactCorrected, ContactRecorded};
use ledger_domain::kinds::ContactOutcome;
use ledger_domain::values::{Channel, Direction, Topic};
use serde::{Deserialize, Serialize};

use crate::time;

/// Counts of one channel in one bucket.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counters {
    pub contacts: u64,
    pub inbound: u64,
    pub outbound: u64,
    /// Contacts whose topic is `COMPLAINT`.
    pub complaints: u64,
    /// Inbound contacts that were served (every outcome but `ABANDONED`): the denominator of
    /// first-contact resolution.
    pub first_contacts: u64,
    /// Of those, the ones resolved there and then: outcome `RESOLVED` and no service case
    /// linked (a contact that opened or chased a case did not settle the matter by itself).
    pub resolved_at_first_contact: u64,
    /// The contacts' durations added up, in seconds.
    pub duration_seconds: u64,
}

impl Counters {
    /// Adds `other` to these counts. Counts are bounded by the number of contacts in the log
    /// (and durations by a day each), so they never approach `u64::MAX`; saturating keeps the
    /// fold total anyway.
    pub fn add(&mut self, other: &Self) {
        self.contacts = self.contacts.saturating_add(other.contacts);
        self.inbound = self.inbound.saturating_add(other.inbound);
        self.outbound = self.outbound.saturating_add(other.outbound);
        self.complaints = self.complaints.saturating_add(other.complaints);
        self.first_contacts = self.first_contacts.saturating_add(other.first_contacts);
        self.resolved_at_first_contact = self
            .resolved_at_first_contact
            .saturating_add(other.resolved_at_first_contact);
        self.duration_seconds = self.duration_seconds.saturating_add(other.duration_seconds);
    }

    /// Takes `other` back out of these counts, or `None` if it was never in them (state that
    /// disagrees with the contacts recorded: corruption, not a domain outcome).
    pub fn subtract(&self, other: &Self) -> Option<Self> {
        Some(Self {
            contacts: self.contacts.checked_sub(other.contacts)?,
            inbound: self.inbound.checked_sub(other.inbound)?,
            outbound: self.outbound.checked_sub(other.outbound)?,
            complaints: self.complaints.checked_sub(other.complaints)?,
            first_contacts: self.first_contacts.checked_sub(other.first_contacts)?,
            resolved_at_first_contact: self
                .resolved_at_first_contact
                .checked_sub(other.resolved_at_first_contact)?,
            duration_seconds: self.duration_seconds.checked_sub(other.duration_seconds)?,
        })
    }

    pub fn is_zero(&self) -> bool {
        *self == Self::default()
    }
}

/// Counts of one channel on one Beijing day, with the contacts of each hour of the day so
/// "busiest hours" over long ranges reads one key per day and channel.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayCounters {
    pub counters: Counters,
    /// Contacts per Beijing hour of day, 0 to 23.
    pub contacts_by_hour: [u64; 24],
}

/// A contact as it was counted: its bucket and its contribution to the counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CountedContact {
    /// The hour (since the Unix epoch) the contact started in.
    pub hour: i64,
    pub channel: Channel,
    pub counts: Counters,
}

/// The facts of a contact that the counters look at, recorded or corrected alike.
pub(crate) struct ContactFacts {
    pub channel: Channel,
    pub direction: Direction,
    pub started_at: jiff::Timestamp,
    pub duration_seconds: u32,
    pub topic: Topic,
    pub outcome: ContactOutcome,
    pub linked_to_case: bool,
}

impl From<&ContactRecorded> for ContactFacts {
    fn from(event: &ContactRecorded) -> Self {
        Self {
            channel: event.channel,
            direction: event.direction,
            started_at: event.started_at,
            duration_seconds: event.duration_seconds,
            topic: event.topic,
            outcome: event.outcome,
            linked_to_case: event.case_id.is_some(),
        }
    }
}

impl From<&ContactCorrected> for ContactFacts {
    fn from(event: &ContactCorrected) -> Self {
        Self {
            channel: event.channel,
            direction: event.direction,
            started_at: event.started_at,
            duration_seconds: event.duration_seconds,
            topic: event.topic,
            outcome: event.outcome,
            linked_to_case: event.case_id.is_some(),
        }
    }
}

impl ContactFacts {
    /// The bucket this contact falls in and what it adds there.
    pub(crate) fn counted(&self) -> CountedContact {
        let inbound = self.direction == Direction::Inbound;
        let first_contact = inbound && self.outcome != ContactOutcome::Abandoned;
        let resolved =
            first_contact && self.outcome == ContactOutcome::Resolved && !self.linked_to_case;
        CountedContact {
            hour: time::hour_of(self.started_at),
            channel: self.channel,
            counts: Counters {
                contacts: 1,
                inbound: u64::from(inbound),
                outbound: u64::from(!inbound),
                complaints: u64::from(self.topic == Topic::Complaint),
                first_contacts: u64::from(first_contact),
                resolved_at_first_contact: u64::from(resolved),
                duration_seconds: u64::from(self.duration_seconds),
            },
        }
    }
}
