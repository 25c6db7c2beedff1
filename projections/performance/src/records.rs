//! What the performance projection returns: figures for a member of staff over a date range,
//! account-manager periods, and satisfaction around each handover. Averages are returned as
//! exact sums and counts with a rounded value beside them; nothing stored is a float.

use std::collections::BTreeMap;

use jiff::civil::Date;
use jiff::tz::{self, TimeZone};
use jiff::{SignedDuration, Timestamp};
use ledger_domain::ids::StaffId;
use ledger_domain::values::{Channel, Money};
use serde::{Deserialize, Serialize};

/// Beijing time, UTC+8 all year (China has had no daylight saving time since 1991): the
/// calendar the figures' days are counted in.
pub(crate) fn beijing_date(at: Timestamp) -> Date {
    at.to_zoned(TimeZone::fixed(tz::offset(8))).date()
}

/// `at + duration`, or the end of time it would pass.
pub(crate) fn saturating_add(at: Timestamp, duration: SignedDuration) -> Timestamp {
    at.checked_add(duration)
        .unwrap_or(if duration.is_negative() {
            Timestamp::MIN
        } else {
            Timestamp::MAX
        })
}

/// The figures of one member of staff over some days: what an incentive scheme needs. Stored
/// per day and per month ("buckets"), summed over a date range when read.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Figures {
    /// Contacts handled, per channel (channels with none are absent).
    pub contacts_by_channel: BTreeMap<Channel, u64>,
    /// Seconds spent on those contacts.
    pub handling_seconds: u64,
    /// CSAT answers attributed, and the sum of their scores (1 to 5 each).
    pub csat_sum: u64,
    pub csat_answers: u64,
    /// Contacts handled whose topic was a complaint.
    pub complaints: u64,
    /// Contacts handled whose outcome was `CONVERTED` (a sale or renewal agreed).
    pub converted_contacts: u64,
    /// Policies issued or renewed attributed (see the crate docs for the rule).
    pub conversions: u64,
    /// Their premium, in fen: gross, as written, cancelled later or not.
    pub premium_won: Money,
    /// Policies whose latest sale was credited here and that were cancelled, counted on the
    /// day of the cancellation.
    pub cancellations: u64,
    /// The premium those cancellations returned, in fen (each at most what the sale won), on
    /// the day of the cancellation: the claw-back beside the premium won.
    pub premium_refunded: Money,
}

/// An average CSAT as an exact fraction: `sum / answers`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CsatAverage {
    pub sum: u64,
    pub answers: u64,
}

impl CsatAverage {
    /// The average in hundredths (4.25 is 425), rounded down; `None` without answers.
    pub fn hundredths(&self) -> Option<u64> {
        (self.answers > 0).then(|| self.sum.saturating_mul(100) / self.answers)
    }
}

impl Figures {
    /// Contacts handled on every channel.
    pub fn contacts(&self) -> u64 {
        self.contacts_by_channel
            .values()
            .fold(0, |total, count| total.saturating_add(*count))
    }

    /// Handling seconds per contact, rounded down; `None` without contacts.
    pub fn average_handling_seconds(&self) -> Option<u64> {
        let contacts = self.contacts();
        (contacts > 0).then(|| self.handling_seconds / contacts)
    }

    pub fn csat(&self) -> CsatAverage {
        CsatAverage {
            sum: self.csat_sum,
            answers: self.csat_answers,
        }
    }

    pub(crate) fn is_zero(&self) -> bool {
        *self == Self::default()
    }

    /// Adds `other` in. Counts saturate: no member of staff reaches `u64` contacts.
    pub(crate) fn add(&mut self, other: &Figures) {
        for (channel, count) in &other.contacts_by_channel {
            let entry = self.contacts_by_channel.entry(*channel).or_default();
            *entry = entry.saturating_add(*count);
        }
        self.handling_seconds = self.handling_seconds.saturating_add(other.handling_seconds);
        self.csat_sum = self.csat_sum.saturating_add(other.csat_sum);
        self.csat_answers = self.csat_answers.saturating_add(other.csat_answers);
        self.complaints = self.complaints.saturating_add(other.complaints);
        self.converted_contacts = self
            .converted_contacts
            .saturating_add(other.converted_contacts);
        self.conversions = self.conversions.saturating_add(other.conversions);
        self.premium_won = Money::from_fen(
            self.premium_won
                .fen()
                .saturating_add(other.premium_won.fen()),
        );
        self.cancellations = self.cancellations.saturating_add(other.cancellations);
        self.premium_refunded = Money::from_fen(
            self.premium_refunded
                .fen()
                .saturating_add(other.premium_refunded.fen()),
        );
    }

    /// Takes out `other`, which was added before (a contact corrected, a rating added to a
    /// contact already counted). Channels left with no contacts are dropped, so a bucket that
    /// goes back to nothing is equal to an empty one.
    pub(crate) fn subtract(&mut self, other: &Figures) {
        for (channel, count) in &other.contacts_by_channel {
            if let Some(entry) = self.contacts_by_channel.get_mut(channel) {
                *entry = entry.saturating_sub(*count);
                if *entry == 0 {
                    self.contacts_by_channel.remove(channel);
                }
            }
        }
        self.handling_seconds = self.handling_seconds.saturating_sub(other.handling_seconds);
        self.csat_sum = self.csat_sum.saturating_sub(other.csat_sum);
        self.csat_answers = self.csat_answers.saturating_sub(other.csat_answers);
        self.complaints = self.complaints.saturating_sub(other.complaints);
        self.converted_contacts = self
            .converted_contacts
            .saturating_sub(other.converted_contacts);
        self.conversions = self.conversions.saturating_sub(other.conversions);
        self.premium_won = Money::from_fen(
            self.premium_won
                .fen()
                .saturating_sub(other.premium_won.fen()),
        );
        self.cancellations = self.cancellations.saturating_sub(other.cancellations);
        self.premium_refunded = Money::from_fen(
            self.premium_refunded
                .fen()
                .saturating_sub(other.premium_refunded.fen()),
        );
    }
}

/// A member of staff's figures over a date range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffFigures {
    pub staff: StaffId,
    pub figures: Figures,
}

/// One period of a customer's account management: who, from when to when, under which team
/// lead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManagerPeriod {
    pub manager: StaffId,
    pub team_lead: StaffId,
    /// When the assignment occurred.
    pub from: Timestamp,
    /// When the next assignment replaced it; `None` for the current one.
    pub to: Option<Timestamp>,
    /// The previous manager as the assignment event named it.
    pub previous_manager: Option<StaffId>,
}

/// A handover of a customer to another account manager or team lead, with the customer's
/// CSAT in the windows before and after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Handover {
    pub at: Timestamp,
    /// The manager and team lead before: the previous period's, or for the first period the
    /// previous manager the event named (and no team lead).
    pub from_manager: Option<StaffId>,
    pub from_team_lead: Option<StaffId>,
    pub to_manager: StaffId,
    pub to_team_lead: StaffId,
    /// CSAT answers in `[at − window, at)`.
    pub before: CsatAverage,
    /// CSAT answers in `[at, at + window)`.
    pub after: CsatAverage,
}

/// Stored per satisfaction answer, per customer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct CsatAnswer {
    pub score: u8,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adding_and_subtracting_returns_to_nothing() {
        let mut figures = Figures::default();
        let contact = Figures {
            contacts_by_channel: BTreeMap::from([(Channel::Phone, 1)]),
            handling_seconds: 300,
            complaints: 1,
            ..Figures::default()
        };
        figures.add(&contact);
        figures.add(&contact);
        assert_eq!(figures.contacts(), 2);
        assert_eq!(figures.average_handling_seconds(), Some(300));
        figures.subtract(&contact);
        figures.subtract(&contact);
        assert!(figures.is_zero());
    }

    #[test]
    fn csat_averages_round_down_in_hundredths() {
        let average = |sum, answers| CsatAverage { sum, answers }.hundredths();
        assert_eq!(average(13, 3), Some(433));
        assert_eq!(average(9, 2), Some(450));
        assert_eq!(average(0, 0), None);
    }
}
