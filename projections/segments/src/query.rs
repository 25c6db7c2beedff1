//! The read side as plain functions over the state and the loaded rules. Each call evaluates
//! the whole book (see the crate root for the cost); an API serving many requests holds a
//! [`SegmentEngine`](crate::SegmentEngine) instead, which caches the snapshot these build.

use jiff::Timestamp;
use jiff::civil::Date;
use ledger_domain::ids::CustomerId;
use ledger_domain::kinds::ProductLine;
use ledger_domain::projection::{StateError, StateRead};
use ledger_domain::values::{Money, PolicyNumber};

use crate::days::date_of_day;
use crate::facts::CustomerFacts;
use crate::fold::{owner, read};
use crate::keys;
use crate::metrics::CustomerMetrics;
use crate::rules::SegmentRules;
use crate::snapshot::{self, Changes, Page, SegmentError, SegmentSummary};

/// The customer whose facts hold `customer`'s: itself, or the survivor it was merged into.
pub fn survivor(state: &dyn StateRead, customer: CustomerId) -> Result<CustomerId, StateError> {
    owner(state, customer)
}

/// The customer whose metrics stand for `customer`'s on `as_of`'s Beijing day: itself until the
/// day it was merged away, its survivor (as it was on that day) from then on.
fn holder_on(
    state: &dyn StateRead,
    customer: CustomerId,
    as_of: Timestamp,
) -> Result<CustomerId, StateError> {
    let owner = owner(state, customer)?;
    Ok(
        read::<CustomerFacts>(state, &keys::customer(owner))?.map_or(owner, |record| {
            record.holder_on(customer, crate::days::day_of(as_of))
        }),
    )
}

/// The customer's metrics as of `as_of`'s Beijing day (a customer merged away by then has its
/// survivor's), or `None` if the customer was unknown on that day. RFM scores and key-account
/// membership compare the customer with everyone, so this ranks the whole book.
pub fn customer_metrics(
    state: &dyn StateRead,
    customer: CustomerId,
    as_of: Timestamp,
) -> Result<Option<CustomerMetrics>, SegmentError> {
    let customer = holder_on(state, customer, as_of)?;
    let (_, customers) = snapshot::population(state, as_of)?;
    Ok(customers
        .into_iter()
        .find(|metrics| metrics.customer == customer))
}

/// A customer's policy as the segments' facts keep it: its latest period and terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerPolicy {
    pub number: PolicyNumber,
    /// The customer the policy events name (a duplicate merged into the customer keeps its own).
    pub holder: CustomerId,
    /// The latest period issued or renewed, both days inclusive (Beijing dates).
    pub period_start: Date,
    pub period_end: Date,
    /// The premium and product lines of the latest terms (as issued or last endorsed).
    pub premium: Money,
    pub product_lines: Vec<ProductLine>,
    /// When the latest period ended early or was not renewed: the first day not in force, and
    /// whether it lapsed (rather than being cancelled).
    pub ended: Option<(Date, bool)>,
}

/// The policies of the customer (or its survivor, with those of the customers merged into
/// it), policy number order, as of `today` (a Beijing date): for each, the period covering
/// today (else the latest begun, else the next to begin: a renewal made ahead of time does not
/// hide the cover in force) and its latest terms, and the day it ended early if it lapsed or
/// was cancelled. Those in force and those whose latest period ended within the facts'
/// retention ([`RETENTION_DAYS`](crate::RETENTION_DAYS)); older ones are dropped by the fold
/// and only the timeline still shows them. Empty once the customer is erased (the numbers are
/// personal data and are not kept).
pub fn customer_policies(
    state: &dyn StateRead,
    customer: CustomerId,
    today: Date,
) -> Result<Vec<CustomerPolicy>, StateError> {
    let customer = owner(state, customer)?;
    let Some(facts) = read::<CustomerFacts>(state, &keys::customer(customer))? else {
        return Ok(Vec::new());
    };
    let today = crate::days::day_of_date(today);
    let mut policies: Vec<CustomerPolicy> = facts
        .all_policies()
        .filter_map(|policy| {
            let number = policy.number.clone()?;
            let periods = &policy.periods;
            let period = periods
                .iter()
                .find(|period| period.start_day <= today && today <= period.end_day)
                .or_else(|| {
                    periods
                        .iter()
                        .rev()
                        .find(|period| period.start_day <= today)
                })
                .or_else(|| periods.first())?;
            let ended = periods
                .iter()
                .filter_map(|period| period.ended.as_ref())
                .max_by_key(|ended| ended.recorded_day);
            let terms = period.terms.last();
            Some(CustomerPolicy {
                number,
                holder: policy.holder,
                period_start: date_of_day(period.start_day),
                period_end: date_of_day(period.end_day),
                premium: Money::from_fen(terms.map_or(0, |terms| terms.premium_fen)),
                product_lines: terms.map_or_else(Vec::new, |terms| {
                    ProductLine::ALL
                        .iter()
                        .enumerate()
                        .filter(|(index, _)| terms.lines & (1 << index) != 0)
                        .map(|(_, line)| *line)
                        .collect()
                }),
                ended: ended.map(|ended| (date_of_day(ended.on_day), ended.lapsed)),
            })
        })
        .collect();
    policies.sort_by(|a, b| a.number.as_str().cmp(b.number.as_str()));
    Ok(policies)
}

/// Every segment's name, description, size and shares as of `as_of`'s Beijing day.
pub fn segments(
    state: &dyn StateRead,
    rules: &SegmentRules,
    as_of: Timestamp,
) -> Result<Vec<SegmentSummary>, SegmentError> {
    Ok(snapshot::evaluate(state, rules, as_of)?.summaries())
}

/// Up to `first` (at most [`MEMBERS_PAGE_MAX`](crate::MEMBERS_PAGE_MAX)) members of the
/// segment `name` after the cursor `after`, with their metrics, premium highest first.
pub fn segment_members(
    state: &dyn StateRead,
    rules: &SegmentRules,
    name: &str,
    as_of: Timestamp,
    after: Option<&str>,
    first: usize,
) -> Result<Page<CustomerMetrics>, SegmentError> {
    if rules.get(name).is_none() {
        return Err(SegmentError::UnknownSegment {
            name: name.to_owned(),
        });
    }
    snapshot::evaluate(state, rules, as_of)?.members(name, after, first)
}

/// The segments the customer (or its survivor, once it was merged away) is a member of as of
/// `as_of`'s Beijing day.
pub fn customer_segments(
    state: &dyn StateRead,
    rules: &SegmentRules,
    customer: CustomerId,
    as_of: Timestamp,
) -> Result<Vec<String>, SegmentError> {
    let customer = holder_on(state, customer, as_of)?;
    Ok(snapshot::evaluate(state, rules, as_of)?.customer_segments(customer))
}

/// Who entered and who left the segment `name` between the Beijing days of `from` and `to`:
/// the segment evaluated as of each day, each with only the facts known by then, compared.
pub fn membership_changes(
    state: &dyn StateRead,
    rules: &SegmentRules,
    name: &str,
    from: Timestamp,
    to: Timestamp,
) -> Result<Changes, SegmentError> {
    if rules.get(name).is_none() {
        return Err(SegmentError::UnknownSegment {
            name: name.to_owned(),
        });
    }
    if from > to {
        return Err(SegmentError::RangeReversed {
            from: crate::days::date_of_day(crate::days::day_of(from)),
            to: crate::days::date_of_day(crate::days::day_of(to)),
        });
    }
    let earlier = snapshot::evaluate(state, rules, from)?;
    let later = snapshot::evaluate(state, rules, to)?;
    later.changes_since(&earlier, name)
}
