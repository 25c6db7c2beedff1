//! The per-customer facts the fold keeps: policies with their periods and terms, claims,
//! payments, contacts, satisfaction answers, group membership and account managers, each with
//! the Beijing day it became true. Metrics are computed from these at query time, as of any
//! day (see `metrics.rs`); the fold itself knows no clock.
//!
//! Facts are pruned when their record is written: whatever lies more than
//! [`RETENTION_DAYS`] before the latest day the fold has seen is dropped, except the latest
//! fact of each kind that a "last …" metric needs. So a record stays bounded however long the
//! customer's history grows.
//!
//! A merge moves the duplicate's facts into its survivor's record but keeps them apart, with
//! the merge's day ([`CustomerFacts::take_in`]): as of a day before the merge the duplicate is
//! a customer of its own and the survivor is as it was, and from that day on the survivor's
//! metrics are computed from both ([`CustomerFacts::into_customers_on`]). A merge changes no
//! past day's figures, as a later event never does.

use std::mem::size_of;

use ledger_domain::codec;
use ledger_domain::ids::{ContactId, CustomerId, StaffId};
use ledger_domain::kinds::ProductLine;
use ledger_domain::projection::{StateError, Typed};
use ledger_domain::values::{Channel, PolicyNumber};
use serde::{Deserialize, Serialize};

/// How many days of facts a record keeps before the latest day seen: the longest metric
/// window (365 days) plus 435 days in which metrics can still be asked for exactly, so that
/// membership changes can be compared over a year and a bit. Older facts are pruned.
pub const RETENTION_DAYS: i64 = 800;

/// The longest window a metric looks back over, in days (claims in the last 12 months,
/// contacts in the last 365 days, a lapse in the last 365 days).
pub const LONGEST_WINDOW_DAYS: i64 = 365;

/// Everything the projection knows about one customer (and, kept apart, the duplicates merged
/// into it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct CustomerFacts {
    pub customer: CustomerId,
    /// The day the customer registered, or was first named by an event if it never did.
    pub first_seen_day: i64,
    pub corporate: bool,
    /// Whether the customer belongs to the carmaker group, from each day it changed.
    pub group: Vec<Change<bool>>,
    /// The account manager, from each day one was assigned.
    pub manager: Vec<Change<StaffId>>,
    pub policies: Vec<PolicyFacts>,
    /// Days claims were reported.
    pub claims_reported: Vec<i64>,
    /// Claim payments: the day settled and the amount in fen.
    pub claim_payments: Vec<(i64, i64)>,
    /// Contacts in the order recorded.
    pub contacts: Vec<ContactFact>,
    /// The latest day of a contact pruned from `contacts`, for "days since last contact".
    pub pruned_contact_day: Option<i64>,
    /// Satisfaction answers in the order recorded.
    pub answers: Vec<Answer>,
    /// The day the customer's personal data was erased, if it was: identifiers (policy
    /// numbers) are gone, and from that day the customer cannot be contacted, so it is in no
    /// segment.
    pub erased_day: Option<i64>,
    /// For a duplicate's facts kept in its survivor's record: when and into whom it was
    /// merged. `None` for the customer a record is stored under.
    pub merged_away: Option<Merge>,
    /// The facts of the customers merged into this one, directly or into one merged here,
    /// in the order merged, each as its own customer's with its [`Merge`]. Flat: a
    /// duplicate's own list is empty, and its merge names whom it was merged into.
    pub merged: Vec<CustomerFacts>,
}

/// A customer merged away: from `day` on, its facts are `survivor`'s.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Merge {
    /// The Beijing day of the `CustomersMerged`.
    pub day: i64,
    /// The customer whose record it was merged into (the merge's survivor, or the customer
    /// that survivor had itself been merged into by then).
    pub survivor: CustomerId,
}

/// A value that holds from `day` on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Change<T> {
    pub day: i64,
    pub value: T,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct PolicyFacts {
    /// `None` once the holder's personal data is erased: later events can no longer find the
    /// policy, and the number is not kept.
    pub number: Option<PolicyNumber>,
    /// The customer the policy events name (a duplicate merged into this record keeps its own).
    pub holder: CustomerId,
    /// Periods in the order issued or renewed.
    pub periods: Vec<Period>,
}

/// One period of a policy: issued or renewed on `recorded_day`, covering `start_day` to
/// `end_day` (both inclusive).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Period {
    pub recorded_day: i64,
    pub start_day: i64,
    pub end_day: i64,
    /// The premium and product lines, as issued and after each endorsement, in recording order.
    pub terms: Vec<Terms>,
    /// Lapsed or cancelled, if it was.
    pub ended: Option<Ended>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Terms {
    pub recorded_day: i64,
    pub effective_day: i64,
    pub premium_fen: i64,
    /// A bit per product line, by its index in [`ProductLine::ALL`].
    pub lines: u16,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Ended {
    pub recorded_day: i64,
    /// The first day the policy is no longer in force.
    pub on_day: i64,
    /// Lapsed (not renewed) rather than cancelled.
    pub lapsed: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct ContactFact {
    pub id: ContactId,
    /// The Beijing day the contact started.
    pub day: i64,
    pub channel: Channel,
    pub complaint: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Answer {
    pub day: i64,
    pub csat: Option<u8>,
    pub nps: Option<u8>,
}

/// The bit set of `lines`.
pub(crate) fn line_bits(lines: &[ProductLine]) -> u16 {
    lines.iter().fold(0, |bits, line| {
        let index = ProductLine::ALL
            .iter()
            .position(|known| known == line)
            .expect("ProductLine::ALL lists every product line");
        // 14 product lines: every index fits a u16 bit.
        bits | 1_u16
            .checked_shl(u32::try_from(index).unwrap_or(u32::MAX))
            .unwrap_or(0)
    })
}

impl CustomerFacts {
    pub fn new(customer: CustomerId, first_seen_day: i64) -> Self {
        Self {
            customer,
            first_seen_day,
            corporate: false,
            group: Vec::new(),
            manager: Vec::new(),
            policies: Vec::new(),
            claims_reported: Vec::new(),
            claim_payments: Vec::new(),
            contacts: Vec::new(),
            pruned_contact_day: None,
            answers: Vec::new(),
            erased_day: None,
            merged_away: None,
            merged: Vec::new(),
        }
    }

    /// Every policy this record holds, the merged duplicates' included.
    pub fn all_policies(&self) -> impl Iterator<Item = &PolicyFacts> {
        self.policies
            .iter()
            .chain(self.merged.iter().flat_map(|duplicate| &duplicate.policies))
    }

    /// The policy numbered `number`, if this record holds it (among its own policies or a
    /// merged duplicate's: the policy's events still name its holder).
    pub fn policy_mut(&mut self, number: &PolicyNumber) -> Option<&mut PolicyFacts> {
        self.policies
            .iter_mut()
            .chain(
                self.merged
                    .iter_mut()
                    .flat_map(|duplicate| &mut duplicate.policies),
            )
            .find(|policy| policy.number.as_ref() == Some(number))
    }

    /// The contact `id`, if this record holds it (among its own contacts or a merged
    /// duplicate's).
    pub fn contact_mut(&mut self, id: ContactId) -> Option<&mut ContactFact> {
        self.contacts
            .iter_mut()
            .chain(
                self.merged
                    .iter_mut()
                    .flat_map(|duplicate| &mut duplicate.contacts),
            )
            .find(|contact| contact.id == id)
    }

    /// Files `duplicate`'s record (with the duplicates merged into it) in this one, merged
    /// into this customer on `day`.
    pub fn take_in(&mut self, mut duplicate: CustomerFacts, day: i64) {
        let nested = std::mem::take(&mut duplicate.merged);
        duplicate.merged_away = Some(Merge {
            day,
            survivor: self.customer,
        });
        self.merged.push(duplicate);
        self.merged.extend(nested);
    }

    /// The customer whose facts held `customer`'s on `day`: `customer` itself until it was
    /// merged away, then its survivor's holder. A customer this record holds no facts of (it
    /// was merged here before any event named it) is this record's customer.
    pub fn holder_on(&self, customer: CustomerId, day: i64) -> CustomerId {
        let duplicate = |id: CustomerId| self.merged.iter().find(|facts| facts.customer == id);
        if customer != self.customer && duplicate(customer).is_none() {
            return self.customer;
        }
        let mut current = customer;
        // A merge's survivor was not merged away when it was recorded, so the chain names
        // each duplicate at most once; the bound only stops a walk over corrupted state.
        for _ in 0..=self.merged.len() {
            let merge = duplicate(current)
                .and_then(|facts| facts.merged_away.as_ref())
                .filter(|merge| merge.day <= day);
            match merge {
                Some(merge) => current = merge.survivor,
                None => break,
            }
        }
        current
    }

    /// The facts that `customer`'s facts dated `day` are filed with: those of its holder on
    /// that day ([`CustomerFacts::holder_on`]).
    pub fn holder_mut(&mut self, customer: CustomerId, day: i64) -> &mut CustomerFacts {
        let holder = self.holder_on(customer, day);
        match self
            .merged
            .iter()
            .position(|facts| facts.customer == holder)
        {
            Some(index) => &mut self.merged[index],
            None => self,
        }
    }

    /// Marks `customer` erased from `day` on, in its own facts (this record's, or a merged
    /// duplicate's: a duplicate merged into a live survivor leaves the survivor contactable),
    /// and drops the numbers of the policies it holds.
    pub fn erase(&mut self, customer: CustomerId, day: i64) {
        let own = if self.customer == customer {
            Some(&mut *self)
        } else {
            self.merged
                .iter_mut()
                .find(|facts| facts.customer == customer)
        };
        if let Some(facts) = own {
            facts.erased_day = Some(facts.erased_day.map_or(day, |erased| erased.min(day)));
        }
        let duplicates = self.merged.iter_mut().flat_map(|facts| &mut facts.policies);
        for policy in self.policies.iter_mut().chain(duplicates) {
            if policy.holder == customer {
                policy.number = None;
            }
        }
    }

    /// The customers this record holds as of `day`, each with the facts it had then: this
    /// record's customer and every duplicate not merged away by `day`, each joined with the
    /// duplicates merged into it by then, in the order they were merged
    /// ([`CustomerFacts::absorb`]).
    pub fn into_customers_on(mut self, day: i64) -> Vec<CustomerFacts> {
        if self.merged.is_empty() {
            return vec![self];
        }
        let mut duplicates: Vec<Option<CustomerFacts>> = std::mem::take(&mut self.merged)
            .into_iter()
            .map(Some)
            .collect();
        let mut customers = vec![self];
        for slot in &mut duplicates {
            if slot
                .as_ref()
                .is_some_and(|facts| merged_by(facts, day).is_none())
            {
                customers.extend(slot.take());
            }
        }
        for customer in &mut customers {
            join_merged(customer, &mut duplicates, day);
        }
        customers
    }

    /// Drops the facts no metric can need any more: those before `cutoff_day`, except the
    /// latest of each kind that a "last …" metric or an as-of reading inside the retention
    /// window still needs.
    pub fn prune(&mut self, cutoff_day: i64) {
        for duplicate in &mut self.merged {
            duplicate.prune(cutoff_day);
        }
        self.claims_reported.retain(|&day| day >= cutoff_day);
        self.claim_payments.retain(|&(day, _)| day >= cutoff_day);
        let pruned = self
            .contacts
            .iter()
            .filter(|contact| contact.day < cutoff_day)
            .map(|contact| contact.day)
            .max();
        self.pruned_contact_day = self.pruned_contact_day.max(pruned);
        self.contacts.retain(|contact| contact.day >= cutoff_day);
        prune_answers(&mut self.answers, cutoff_day);
        prune_changes(&mut self.group, cutoff_day);
        prune_changes(&mut self.manager, cutoff_day);
        for policy in &mut self.policies {
            // Keep the latest period whatever its age: it says whether the policy lapsed.
            let latest = policy.periods.len().saturating_sub(1);
            let mut index = 0;
            policy.periods.retain(|period| {
                let keep = index == latest || period.end_day >= cutoff_day;
                index += 1;
                keep
            });
        }
        self.policies.retain(|policy| {
            policy
                .periods
                .last()
                .is_some_and(|period| period.end_day >= cutoff_day)
        });
    }

    /// Joins `merged`'s facts (a duplicate merged into this customer) with this customer's,
    /// for a day on or after the merge. Lists are joined in day order, this customer's facts
    /// before the duplicate's on the same day; this customer's own group membership, manager
    /// and erasure stand, the duplicate's fill in where this customer has none.
    pub fn absorb(&mut self, merged: CustomerFacts) {
        self.first_seen_day = self.first_seen_day.min(merged.first_seen_day);
        self.corporate |= merged.corporate;
        if self.group.is_empty() {
            self.group = merged.group;
        }
        if self.manager.is_empty() {
            self.manager = merged.manager;
        }
        self.policies.extend(merged.policies);
        join_by_day(&mut self.claims_reported, merged.claims_reported, |day| {
            *day
        });
        join_by_day(
            &mut self.claim_payments,
            merged.claim_payments,
            |(day, _)| *day,
        );
        join_by_day(&mut self.contacts, merged.contacts, |contact| contact.day);
        join_by_day(&mut self.answers, merged.answers, |answer| answer.day);
        self.pruned_contact_day = self.pruned_contact_day.max(merged.pruned_contact_day);
    }
}

/// The customer `facts` had been merged into by `day`, if it had been.
fn merged_by(facts: &CustomerFacts, day: i64) -> Option<CustomerId> {
    facts
        .merged_away
        .as_ref()
        .filter(|merge| merge.day <= day)
        .map(|merge| merge.survivor)
}

/// Joins into `facts` each duplicate left in `duplicates` that was merged into its customer by
/// `day`, in the order merged, each joined first with those merged into it by then. Each
/// duplicate is taken out as it is joined, so the recursion ends.
fn join_merged(facts: &mut CustomerFacts, duplicates: &mut [Option<CustomerFacts>], day: i64) {
    let into = facts.customer;
    while let Some(mut duplicate) = duplicates
        .iter_mut()
        .find(|slot| {
            slot.as_ref()
                .is_some_and(|duplicate| merged_by(duplicate, day) == Some(into))
        })
        .and_then(Option::take)
    {
        join_merged(&mut duplicate, duplicates, day);
        facts.absorb(duplicate);
    }
}

/// Appends `other` to `list` and sorts by day, stably: on the same day `list`'s entries stay
/// first and each list keeps its own order.
fn join_by_day<T>(list: &mut Vec<T>, other: Vec<T>, day: impl Fn(&T) -> i64) {
    list.extend(other);
    list.sort_by_key(|item| day(item));
}

/// Keeps the changes from `cutoff_day` on and the last one before it (the value in force at
/// the cutoff).
fn prune_changes<T>(changes: &mut Vec<Change<T>>, cutoff_day: i64) {
    let before = changes
        .iter()
        .filter(|change| change.day < cutoff_day)
        .count();
    if before > 1 {
        changes.drain(..before - 1);
    }
}

/// Keeps the answers from `cutoff_day` on and, before it, the last answer with a CSAT and the
/// last with an NPS ("last CSAT" has no window).
fn prune_answers(answers: &mut Vec<Answer>, cutoff_day: i64) {
    let old = |answer: &Answer| answer.day < cutoff_day;
    let last_csat = answers
        .iter()
        .rposition(|answer| old(answer) && answer.csat.is_some());
    let last_nps = answers
        .iter()
        .rposition(|answer| old(answer) && answer.nps.is_some());
    let mut index = 0;
    answers.retain(|answer| {
        let keep = !old(answer) || Some(index) == last_csat || Some(index) == last_nps;
        index += 1;
        keep
    });
}

/// Bytes a text field (a staff id, a policy number) is counted as beside its element: its
/// heap share, roughly.
const TEXT_HELD_BYTES: usize = 32;

impl Typed for CustomerFacts {
    fn encode(&self) -> Result<Vec<u8>, StateError> {
        codec::encode(self).map_err(|error| {
            StateError(format!(
                "segments: the facts of customer {}: {error}",
                self.customer
            ))
        })
    }

    fn held_bytes(&self) -> usize {
        fn vector<T>(items: &Vec<T>) -> usize {
            items.capacity() * size_of::<T>()
        }
        let policies: usize = self
            .policies
            .iter()
            .map(|policy| vector(&policy.periods) + TEXT_HELD_BYTES)
            .sum();
        size_of::<Self>()
            + vector(&self.group)
            + vector(&self.manager)
            + self.manager.len() * TEXT_HELD_BYTES
            + vector(&self.policies)
            + policies
            + vector(&self.claims_reported)
            + vector(&self.claim_payments)
            + vector(&self.contacts)
            + vector(&self.answers)
            + vector(&self.merged)
            + self
                .merged
                .iter()
                .map(|duplicate| duplicate.held_bytes().saturating_sub(size_of::<Self>()))
                .sum::<usize>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pruning_keeps_what_last_values_need() {
        let mut answers = vec![
            Answer {
                day: 1,
                csat: Some(2),
                nps: None,
            },
            Answer {
                day: 2,
                csat: None,
                nps: Some(9),
            },
            Answer {
                day: 3,
                csat: Some(4),
                nps: None,
            },
            Answer {
                day: 10,
                csat: Some(5),
                nps: None,
            },
        ];
        prune_answers(&mut answers, 5);
        let days: Vec<i64> = answers.iter().map(|answer| answer.day).collect();
        assert_eq!(days, vec![2, 3, 10]);

        let mut changes = vec![
            Change {
                day: 1,
                value: true,
            },
            Change {
                day: 3,
                value: false,
            },
            Change {
                day: 8,
                value: true,
            },
        ];
        prune_changes(&mut changes, 5);
        assert_eq!(changes.len(), 2);
        assert_eq!(changes[0].day, 3);
    }

    #[test]
    fn product_lines_are_bits() {
        assert_eq!(line_bits(&[ProductLine::CompulsoryTraffic]), 1);
        assert_eq!(
            line_bits(&[
                ProductLine::CommercialVehicleDamage,
                ProductLine::CompulsoryTraffic
            ])
            .count_ones(),
            2
        );
        assert_eq!(line_bits(ProductLine::ALL).count_ones(), 14);
    }
}
