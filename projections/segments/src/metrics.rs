//! Per-customer metrics as of a Beijing day, computed from the stored facts at query time,
//! and the population-wide figures (the key-accounts Pareto cut and RFM quintiles) that need
//! every customer at once.

use std::cmp::Reverse;

use jiff::civil::Date;
use ledger_domain::ids::{CustomerId, StaffId};
use ledger_domain::values::Channel;

use crate::days::date_of_day;
use crate::facts::{Change, CustomerFacts, Period, PolicyFacts};

/// "Contacts in the last 90 days": the as-of day and the 89 before it.
pub const CONTACTS_WINDOW_DAYS: i64 = 90;

/// "Complaints in the last 180 days".
pub const COMPLAINTS_WINDOW_DAYS: i64 = 180;

/// "Claims and paid amount in the last 12 months", counted as 365 days.
pub const CLAIMS_WINDOW_DAYS: i64 = 365;

/// The window of the RFM frequency: contacts in the last 365 days.
pub const FREQUENCY_WINDOW_DAYS: i64 = 365;

/// "A lapsed policy not renewed": lapsed within the last 365 days.
pub const LAPSE_WINDOW_DAYS: i64 = 365;

/// The key accounts hold this share of the premium in force, in percent (the seed's 80/20).
pub const KEY_ACCOUNTS_PREMIUM_PERCENT: i128 = 80;

/// RFM scores run from 1 to this (quintiles).
pub const RFM_SCORE_MAX: u8 = 5;

/// The number of channels, the length of [`CustomerMetrics::contacts_90d`].
pub const CHANNELS: usize = Channel::ALL.len();

/// RFM scores, each 1 (the worst fifth of customers) to 5 (the best fifth).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rfm {
    /// By days since the last contact: the most recent score highest; never contacted is worst.
    pub recency: u8,
    /// By contacts in the last 365 days.
    pub frequency: u8,
    /// By annualised premium in force.
    pub monetary: u8,
}

/// One customer's figures as of a Beijing day.
#[derive(Debug, Clone, PartialEq)]
pub struct CustomerMetrics {
    /// The customer (the survivor, for duplicates merged by the day).
    pub customer: CustomerId,
    pub as_of: Date,
    pub corporate: bool,
    /// A member of the carmaker group (集团客户).
    pub group: bool,
    pub account_manager: Option<StaffId>,
    /// The customer's personal data was erased by the day: its figures remain, but it is in
    /// no segment and outside the book the others are ranked in.
    pub erased: bool,
    /// Annualised premium of the policies in force, in fen.
    pub premium_in_force_fen: i64,
    pub policies_active: u32,
    /// Distinct product lines across the policies in force.
    pub product_lines: u32,
    /// The day the first policy in force comes up for renewal (its period's end + 1), among
    /// policies not yet renewed.
    pub next_renewal: Option<Date>,
    pub days_to_next_renewal: Option<i64>,
    /// A policy lapsed in the last 365 days and was not renewed.
    pub lapsed_not_renewed: bool,
    /// Claims reported in the last 365 days.
    pub claims_12m: u32,
    /// Claim payments in the last 365 days, in fen.
    pub claims_paid_12m_fen: i64,
    /// `claims_paid_12m_fen / premium_in_force_fen`; `None` without premium in force.
    pub loss_ratio: Option<f64>,
    /// Contacts in the last 90 days per channel, indexed like [`Channel::ALL`].
    pub contacts_90d: [u32; CHANNELS],
    pub contacts_90d_total: u32,
    pub contacts_365d: u32,
    /// Contacts about a complaint in the last 180 days.
    pub complaints_180d: u32,
    pub last_csat: Option<u8>,
    pub last_nps: Option<u8>,
    pub last_contact: Option<Date>,
    pub days_since_last_contact: Option<i64>,
    /// Days since the customer registered (or first appeared).
    pub days_since_registered: i64,
    pub rfm: Rfm,
    /// In the smallest set of customers holding 80% of the premium in force.
    pub in_key_accounts: bool,
}

impl CustomerMetrics {
    /// Contacts on `channel` in the last 90 days.
    pub fn contacts_90d_on(&self, channel: Channel) -> u32 {
        Channel::ALL
            .iter()
            .position(|known| *known == channel)
            .map_or(0, |index| self.contacts_90d[index])
    }
}

/// The customer's metrics as of `day`, before the population-wide figures (RFM scores are 1
/// and `in_key_accounts` false until [`rank`] sets them), or `None` if the customer was not
/// known yet on that day.
pub(crate) fn of_customer(facts: &CustomerFacts, day: i64) -> Option<CustomerMetrics> {
    if facts.first_seen_day > day {
        return None;
    }
    let in_window = |window: i64, fact_day: i64| fact_day <= day && fact_day > day - window;
    let mut policies = PolicyTotals::default();
    for policy in &facts.policies {
        policies.add(policy, day);
    }
    let mut contacts_90d = [0_u32; CHANNELS];
    let (mut contacts_365d, mut complaints_180d) = (0_u32, 0_u32);
    let mut last_contact_day = facts.pruned_contact_day.filter(|&pruned| pruned <= day);
    for contact in facts.contacts.iter().filter(|contact| contact.day <= day) {
        last_contact_day = last_contact_day.max(Some(contact.day));
        if in_window(CONTACTS_WINDOW_DAYS, contact.day) {
            let index = Channel::ALL
                .iter()
                .position(|known| *known == contact.channel)
                .unwrap_or(0);
            contacts_90d[index] = contacts_90d[index].saturating_add(1);
        }
        if in_window(FREQUENCY_WINDOW_DAYS, contact.day) {
            contacts_365d = contacts_365d.saturating_add(1);
        }
        if contact.complaint && in_window(COMPLAINTS_WINDOW_DAYS, contact.day) {
            complaints_180d = complaints_180d.saturating_add(1);
        }
    }
    let claims_12m = facts
        .claims_reported
        .iter()
        .filter(|&&reported| in_window(CLAIMS_WINDOW_DAYS, reported))
        .count();
    let claims_paid_12m_fen = facts
        .claim_payments
        .iter()
        .filter(|(paid, _)| in_window(CLAIMS_WINDOW_DAYS, *paid))
        .fold(0_i64, |sum, (_, fen)| sum.saturating_add(*fen));
    let answers = facts
        .answers
        .iter()
        .rev()
        .filter(|answer| answer.day <= day);
    let last_csat = answers.clone().find_map(|answer| answer.csat);
    let last_nps = answers.clone().find_map(|answer| answer.nps);
    Some(CustomerMetrics {
        customer: facts.customer,
        as_of: date_of_day(day),
        corporate: facts.corporate,
        group: value_on(&facts.group, day).unwrap_or(false),
        account_manager: value_on(&facts.manager, day),
        erased: facts.erased_day.is_some_and(|erased| erased <= day),
        premium_in_force_fen: policies.premium_fen,
        policies_active: policies.active,
        product_lines: policies.lines.count_ones(),
        next_renewal: policies.renewal_day.map(date_of_day),
        days_to_next_renewal: policies.renewal_day.map(|renewal| renewal - day),
        lapsed_not_renewed: policies.lapsed_not_renewed,
        claims_12m: u32::try_from(claims_12m).unwrap_or(u32::MAX),
        claims_paid_12m_fen,
        loss_ratio: (policies.premium_fen > 0)
            .then(|| to_f64(claims_paid_12m_fen) / to_f64(policies.premium_fen)),
        contacts_90d,
        contacts_90d_total: contacts_90d.iter().fold(0, |sum, n| sum.saturating_add(*n)),
        contacts_365d,
        complaints_180d,
        last_csat,
        last_nps,
        last_contact: last_contact_day.map(date_of_day),
        days_since_last_contact: last_contact_day.map(|contacted| day - contacted),
        days_since_registered: day - facts.first_seen_day,
        rfm: Rfm {
            recency: 1,
            frequency: 1,
            monetary: 1,
        },
        in_key_accounts: false,
    })
}

/// The value of the last change on or before `day`.
fn value_on<T: Clone>(changes: &[Change<T>], day: i64) -> Option<T> {
    changes
        .iter()
        .rev()
        .find(|change| change.day <= day)
        .map(|change| change.value.clone())
}

/// What the customer's policies add up to on a day.
#[derive(Default)]
struct PolicyTotals {
    premium_fen: i64,
    active: u32,
    lines: u16,
    renewal_day: Option<i64>,
    lapsed_not_renewed: bool,
}

impl PolicyTotals {
    /// Adds `policy` as known on `day`: only periods, terms and endings recorded by then
    /// count.
    fn add(&mut self, policy: &PolicyFacts, day: i64) {
        let visible = |period: &&Period| period.recorded_day <= day;
        let ended_by = |period: &Period| {
            period
                .ended
                .as_ref()
                .is_some_and(|ended| ended.recorded_day <= day && ended.on_day <= day)
        };
        let Some(latest) = policy.periods.iter().rfind(visible) else {
            return;
        };
        let in_force =
            policy.periods.iter().filter(visible).rfind(|period| {
                period.start_day <= day && day <= period.end_day && !ended_by(period)
            });
        if let Some(period) = in_force {
            let terms = period
                .terms
                .iter()
                .rfind(|terms| terms.recorded_day <= day && terms.effective_day <= day)
                .or_else(|| period.terms.first());
            if let Some(terms) = terms {
                let annual = annualised(terms.premium_fen, period.end_day - period.start_day + 1);
                self.premium_fen = self.premium_fen.saturating_add(annual);
                self.lines |= terms.lines;
            }
            self.active = self.active.saturating_add(1);
            // Renewal is due only if no later period has been recorded yet.
            if std::ptr::eq(period, latest) {
                let renewal = period.end_day + 1;
                self.renewal_day = Some(self.renewal_day.map_or(renewal, |day| day.min(renewal)));
            }
        }
        let lapsed = latest.ended.as_ref().is_some_and(|ended| {
            ended.lapsed
                && ended.recorded_day <= day
                && ended.on_day <= day
                && ended.on_day > day - LAPSE_WINDOW_DAYS
        });
        self.lapsed_not_renewed |= lapsed;
    }
}

/// A period's premium scaled to a year: as is for a one-year period (365 or 366 days),
/// else `premium × 365 / days`, rounded down.
fn annualised(premium_fen: i64, days: i64) -> i64 {
    if (365..=366).contains(&days) || days <= 0 {
        return premium_fen;
    }
    let annual = i128::from(premium_fen) * 365 / i128::from(days);
    i64::try_from(annual).unwrap_or(i64::MAX)
}

/// Sets the population-wide figures on `customers` (every customer known on the same day)
/// and sorts them in member order: premium in force, highest first, then customer id.
///
/// The book these figures compare with is the customers not erased on the day: an erased
/// customer cannot be contacted, is in no segment, and keeps RFM scores of 1 and no
/// key-account place, so its old figures move nobody else's.
///
/// - `in_key_accounts`: walking that order, the customers up to and including the one at
///   which the running total first reaches 80% of all premium in force: the smallest set that
///   holds 80% (ties broken by customer id).
/// - RFM: each score is `1 + 5 × (customers with a strictly worse value) / customers`, so
///   every score is 1 to 5, equal values score alike, and about a fifth of customers fall on
///   each score when values are spread.
pub(crate) fn rank(customers: &mut [CustomerMetrics]) {
    customers.sort_by_key(|metrics| (Reverse(metrics.premium_in_force_fen), metrics.customer));
    let total: i128 = customers
        .iter()
        .filter(|metrics| !metrics.erased)
        .map(|metrics| i128::from(metrics.premium_in_force_fen.max(0)))
        .sum();
    let mut running = 0_i128;
    for metrics in customers.iter_mut().filter(|metrics| !metrics.erased) {
        if metrics.premium_in_force_fen <= 0
            || running * 100 >= total * KEY_ACCOUNTS_PREMIUM_PERCENT
        {
            break;
        }
        running += i128::from(metrics.premium_in_force_fen);
        metrics.in_key_accounts = true;
    }

    let recency = |metrics: &CustomerMetrics| {
        metrics
            .days_since_last_contact
            .map_or(i64::MIN, |days| days.saturating_neg())
    };
    let frequency = |metrics: &CustomerMetrics| i64::from(metrics.contacts_365d);
    let monetary = |metrics: &CustomerMetrics| metrics.premium_in_force_fen;
    let recency_scores = scores(customers, recency);
    let frequency_scores = scores(customers, frequency);
    let monetary_scores = scores(customers, monetary);
    for (index, metrics) in customers.iter_mut().enumerate() {
        if metrics.erased {
            continue;
        }
        metrics.rfm = Rfm {
            recency: recency_scores[index],
            frequency: frequency_scores[index],
            monetary: monetary_scores[index],
        };
    }
}

/// Each customer's quintile score of `value` (higher values better) among the customers not
/// erased (an erased customer's score is computed the same way, and not used).
fn scores(customers: &[CustomerMetrics], value: impl Fn(&CustomerMetrics) -> i64) -> Vec<u8> {
    let mut sorted: Vec<i64> = customers
        .iter()
        .filter(|metrics| !metrics.erased)
        .map(&value)
        .collect();
    sorted.sort_unstable();
    let count = u64::try_from(sorted.len()).unwrap_or(u64::MAX).max(1);
    customers
        .iter()
        .map(|metrics| {
            let mine = value(metrics);
            let worse = u64::try_from(sorted.partition_point(|&other| other < mine)).unwrap_or(0);
            let score = 1 + u64::from(RFM_SCORE_MAX) * worse / count;
            u8::try_from(score).unwrap_or(RFM_SCORE_MAX)
        })
        .collect()
}

/// An amount or count as the nearest `f64` (exact below 2^53 fen, 90 trillion yuan), without
/// a lossy `as`: the high and low 32-bit halves each convert exactly.
pub(crate) fn to_f64(value: i64) -> f64 {
    let high = i32::try_from(value >> 32).expect("an i64 shifted right by 32 fits in i32");
    let low = u32::try_from(value & 0xFFFF_FFFF).expect("masked to 32 bits");
    f64::from(high) * 4_294_967_296.0 + f64::from(low)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn annualising_scales_short_periods_only() {
        assert_eq!(annualised(365_000, 365), 365_000);
        assert_eq!(annualised(366_000, 366), 366_000);
        assert_eq!(annualised(90_000, 90), 365_000);
    }

    #[test]
    fn amounts_convert_exactly() {
        for value in [0, 1, -1, 4_294_967_296, -4_294_967_297, (1 << 53) - 1] {
            assert_eq!(to_f64(value).to_string(), value.to_string());
        }
    }
}
