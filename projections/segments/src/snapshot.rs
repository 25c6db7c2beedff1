//! Evaluating the segments: every customer's metrics as of a day, the population-wide figures,
//! and each rule for each customer, into a [`SegmentSnapshot`] that answers summaries, member
//! pages, a customer's segments and membership changes without touching the state again.

use std::cmp::Reverse;
use std::collections::HashMap;

use cel::{Context, Value};
use jiff::Timestamp;
use jiff::civil::Date;
use ledger_domain::ids::{CustomerId, Position};
use ledger_domain::projection::{Order, StateError, StateRead, prefix_end};

use crate::days::{date_of_day, day_of};
use crate::facts::{CustomerFacts, LONGEST_WINDOW_DAYS, RETENTION_DAYS};
use crate::fold::{decode, latest_day};
use crate::keys;
use crate::metrics::{self, CustomerMetrics, to_f64};
use crate::rules::SegmentRules;
use crate::variables;

/// The most members one page may hold. A page is a slice of a computed snapshot, so the bound
/// is about response size: a hundred rows of metrics, like the API's other connections.
pub const MEMBERS_PAGE_MAX: usize = 100;

/// The most customers one list of membership changes may name (entered and left together).
/// A longer list means the dates are far apart or the segment churns; compare nearer dates.
pub const CHANGES_MAX: usize = 10_000;

/// The most customers one evaluation holds in memory (about 300 bytes of metrics each, so
/// 600 MB at this bound). A book beyond it needs evaluation in parts, not a bigger machine.
pub const POPULATION_MAX: usize = 2_000_000;

/// Records read per step of the scan over every customer.
const SCAN_BATCH_ENTRIES: usize = 1_024;

/// Why segments could not be evaluated or read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SegmentError {
    #[error("there is no segment named `{name}`")]
    UnknownSegment { name: String },
    /// `first` is above [`MEMBERS_PAGE_MAX`]; the caller asks again with less.
    #[error("a page holds at most {max} members; {requested} were requested")]
    PageTooLarge { requested: usize, max: usize },
    /// The cursor was not issued by a member listing.
    #[error("the cursor was not issued by a member listing")]
    BadCursor,
    /// Facts before `earliest` may have been pruned, so metrics as of an earlier day would be
    /// wrong (see `RETENTION_DAYS`).
    #[error("metrics can be computed as of {earliest} or later, not {as_of}")]
    AsOfTooEarly { as_of: Date, earliest: Date },
    #[error("the range is reversed: {from} is after {to}")]
    RangeReversed { from: Date, to: Date },
    #[error("{count} customers entered or left; a list holds at most {max}: compare nearer dates")]
    TooManyChanges { count: usize, max: usize },
    #[error("more than {max} customers to evaluate")]
    TooManyCustomers { max: usize },
    #[error(transparent)]
    State(#[from] StateError),
}

/// A segment's figures in a snapshot.
#[derive(Debug, Clone, PartialEq)]
pub struct SegmentSummary {
    pub name: String,
    pub description: String,
    /// The rule's CEL source.
    pub rule: String,
    /// Members.
    pub size: usize,
    /// Members over all customers known on the day and not erased.
    pub share_of_customers: f64,
    /// Members with premium in force over customers with premium in force (the customer
    /// pyramid's "share of customers").
    pub share_of_policyholders: f64,
    /// The members' premium in force over everyone's.
    pub share_of_premium: f64,
    pub premium_in_force_fen: i64,
    /// Customers for whom the rule failed or was not true or false (not members); loading
    /// catches most such rules, so this is normally 0.
    pub evaluation_errors: usize,
    /// The first such failure, for the analyst to fix the rule.
    pub first_error: Option<String>,
}

/// One page of members, each with the cursor that continues after it.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    pub items: Vec<(String, T)>,
    pub has_next_page: bool,
}

/// Who entered and who left a segment between two days, each list by customer id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Changes {
    pub segment: String,
    pub from: Date,
    pub to: Date,
    /// Members on `to` that were not members on `from` (new customers included).
    pub entered: Vec<CustomerId>,
    /// Members on `from` that are not members on `to` (customers merged away or erased
    /// included).
    pub left: Vec<CustomerId>,
}

/// Every customer's metrics and every segment's members as of one Beijing day.
#[derive(Debug, Clone)]
pub struct SegmentSnapshot {
    as_of: Date,
    /// The log position the state had reached, when the evaluator knew it.
    position: Option<Position>,
    /// Member order: premium in force, highest first, then customer id. Erased customers are
    /// here (a customer's metrics can be read) but in no segment and in none of the totals.
    customers: Vec<CustomerMetrics>,
    index: HashMap<CustomerId, usize>,
    /// Customers not erased on the day: the book segments are drawn from.
    book_customers: usize,
    total_premium_fen: i64,
    policyholders: usize,
    segments: Vec<Evaluated>,
}

#[derive(Debug, Clone)]
struct Evaluated {
    name: String,
    description: String,
    rule: String,
    /// Indexes into `customers`, ascending (so in member order).
    members: Vec<usize>,
    premium_fen: i64,
    errors: usize,
    first_error: Option<String>,
}

/// Every customer's metrics as of `as_of`'s Beijing day, ranked (RFM scores and key accounts
/// set), in member order.
pub(crate) fn population(
    state: &dyn StateRead,
    as_of: Timestamp,
) -> Result<(Date, Vec<CustomerMetrics>), SegmentError> {
    let day = day_of(as_of);
    if let Some(latest) = latest_day(state)? {
        let earliest = latest - RETENTION_DAYS + LONGEST_WINDOW_DAYS;
        if day < earliest {
            return Err(SegmentError::AsOfTooEarly {
                as_of: date_of_day(day),
                earliest: date_of_day(earliest),
            });
        }
    }
    let prefix = [keys::CUSTOMER];
    let end = prefix_end(&prefix).unwrap_or_default();
    let mut start = prefix.to_vec();
    let mut customers = Vec::new();
    loop {
        let batch = state.range(&start, &end, Order::Ascending, SCAN_BATCH_ENTRIES)?;
        let full = batch.len() == SCAN_BATCH_ENTRIES;
        if let Some((last, _)) = batch.last() {
            start = last.clone();
            start.push(0);
        }
        for (key, value) in batch {
            let record: CustomerFacts = decode(&key, &value)?;
            // A record holds its customer and the duplicates merged into it, each a customer
            // of its own until the day of its merge.
            for facts in record.into_customers_on(day) {
                customers.extend(metrics::of_customer(&facts, day));
            }
        }
        if customers.len() > POPULATION_MAX {
            return Err(SegmentError::TooManyCustomers {
                max: POPULATION_MAX,
            });
        }
        if !full {
            break;
        }
    }
    metrics::rank(&mut customers);
    Ok((date_of_day(day), customers))
}

/// Evaluates every rule of `rules` for every customer as of `as_of`'s Beijing day.
pub fn evaluate(
    state: &dyn StateRead,
    rules: &SegmentRules,
    as_of: Timestamp,
) -> Result<SegmentSnapshot, SegmentError> {
    let (as_of, customers) = population(state, as_of)?;
    let mut segments: Vec<Evaluated> = rules
        .rules()
        .iter()
        .map(|rule| Evaluated {
            name: rule.name().to_owned(),
            description: rule.description().to_owned(),
            rule: rule.rule().to_owned(),
            members: Vec::new(),
            premium_fen: 0,
            errors: 0,
            first_error: None,
        })
        .collect();
    let root = Context::default();
    for (index, metrics) in customers.iter().enumerate() {
        // An erased customer cannot be contacted (a campaign's touch is refused), so no rule,
        // built-in or an analyst's, makes it a member.
        if metrics.erased {
            continue;
        }
        let mut scope = root.new_inner_scope();
        variables::bind(&mut scope, metrics);
        for (rule, segment) in rules.rules().iter().zip(&mut segments) {
            let failure = match rule.program().execute(&scope) {
                Ok(Value::Bool(true)) => {
                    segment.members.push(index);
                    segment.premium_fen = segment
                        .premium_fen
                        .saturating_add(metrics.premium_in_force_fen);
                    continue;
                }
                Ok(Value::Bool(false)) => continue,
                Ok(other) => format!("gives {other:?}, not true or false"),
                Err(error) => error.to_string(),
            };
            segment.errors += 1;
            segment
                .first_error
                .get_or_insert_with(|| format!("customer {}: {failure}", metrics.customer));
        }
    }
    Ok(SegmentSnapshot::new(as_of, customers, segments))
}

impl SegmentSnapshot {
    fn new(as_of: Date, customers: Vec<CustomerMetrics>, segments: Vec<Evaluated>) -> Self {
        let index = customers
            .iter()
            .enumerate()
            .map(|(index, metrics)| (metrics.customer, index))
            .collect();
        let book = customers.iter().filter(|metrics| !metrics.erased);
        let total_premium_fen = book.clone().fold(0_i64, |sum, metrics| {
            sum.saturating_add(metrics.premium_in_force_fen)
        });
        let policyholders = book
            .clone()
            .filter(|metrics| metrics.premium_in_force_fen > 0)
            .count();
        let book_customers = book.count();
        Self {
            as_of,
            position: None,
            customers,
            index,
            book_customers,
            total_premium_fen,
            policyholders,
            segments,
        }
    }

    /// The snapshot, stamped with the log position its state had reached.
    #[must_use]
    pub fn at_position(mut self, position: Position) -> Self {
        self.position = Some(position);
        self
    }

    /// The log position the state had reached, if known (snapshots from a
    /// [`SegmentEngine`](crate::SegmentEngine) always know it).
    pub fn position(&self) -> Option<Position> {
        self.position
    }

    /// The Beijing day the snapshot is as of.
    pub fn as_of(&self) -> Date {
        self.as_of
    }

    /// Customers known on the day and not erased: the book segments are drawn from, and the
    /// denominator of `share_of_customers`.
    pub fn customer_count(&self) -> usize {
        self.book_customers
    }

    /// Customers not erased with premium in force on the day.
    pub fn policyholder_count(&self) -> usize {
        self.policyholders
    }

    /// The premium in force of the customers not erased on the day, in fen.
    pub fn total_premium_fen(&self) -> i64 {
        self.total_premium_fen
    }

    /// Every segment's figures, in the rules' order.
    pub fn summaries(&self) -> Vec<SegmentSummary> {
        self.segments
            .iter()
            .map(|segment| self.summarise(segment))
            .collect()
    }

    /// The figures of the segment named `name`.
    pub fn summary(&self, name: &str) -> Result<SegmentSummary, SegmentError> {
        Ok(self.summarise(self.segment(name)?))
    }

    /// The customer's metrics, if the customer was known on the day. A customer merged away
    /// by the day has none: ask for its survivor ([`crate::survivor`]); before the day of its
    /// merge it has its own, and the survivor's are its own alone.
    pub fn customer(&self, customer: CustomerId) -> Option<&CustomerMetrics> {
        self.index
            .get(&customer)
            .and_then(|&index| self.customers.get(index))
    }

    /// The names of the segments `customer` is a member of, in the rules' order.
    pub fn customer_segments(&self, customer: CustomerId) -> Vec<String> {
        let Some(&index) = self.index.get(&customer) else {
            return Vec::new();
        };
        self.segments
            .iter()
            .filter(|segment| segment.members.binary_search(&index).is_ok())
            .map(|segment| segment.name.clone())
            .collect()
    }

    /// Up to `first` members of the segment `name` after the cursor `after`, in member order
    /// (premium in force, highest first, then customer id). A cursor is the last member's
    /// premium and id, so it stays meaningful in a later snapshot: the next page continues
    /// after that place in the order.
    pub fn members(
        &self,
        name: &str,
        after: Option<&str>,
        first: usize,
    ) -> Result<Page<CustomerMetrics>, SegmentError> {
        if first > MEMBERS_PAGE_MAX {
            return Err(SegmentError::PageTooLarge {
                requested: first,
                max: MEMBERS_PAGE_MAX,
            });
        }
        let segment = self.segment(name)?;
        let start = match after {
            None => 0,
            Some(cursor) => {
                let place = parse_cursor(cursor)?;
                let next = self
                    .customers
                    .partition_point(|metrics| order_key(metrics) <= place);
                segment.members.partition_point(|&index| index < next)
            }
        };
        let rest = segment.members.get(start..).unwrap_or_default();
        let items = rest
            .iter()
            .take(first)
            .map(|&index| {
                let metrics = &self.customers[index];
                (cursor(metrics), metrics.clone())
            })
            .collect();
        Ok(Page {
            items,
            has_next_page: rest.len() > first,
        })
    }

    /// Who entered and left the segment `name` between `earlier` (this snapshot's day is
    /// "to") and this snapshot.
    pub fn changes_since(
        &self,
        earlier: &SegmentSnapshot,
        name: &str,
    ) -> Result<Changes, SegmentError> {
        if earlier.as_of > self.as_of {
            return Err(SegmentError::RangeReversed {
                from: earlier.as_of,
                to: self.as_of,
            });
        }
        let before = earlier.member_ids(name)?;
        let after = self.member_ids(name)?;
        let entered: Vec<CustomerId> = after
            .iter()
            .filter(|id| before.binary_search(id).is_err())
            .copied()
            .collect();
        let left: Vec<CustomerId> = before
            .iter()
            .filter(|id| after.binary_search(id).is_err())
            .copied()
            .collect();
        let count = entered.len() + left.len();
        if count > CHANGES_MAX {
            return Err(SegmentError::TooManyChanges {
                count,
                max: CHANGES_MAX,
            });
        }
        Ok(Changes {
            segment: name.to_owned(),
            from: earlier.as_of,
            to: self.as_of,
            entered,
            left,
        })
    }

    fn segment(&self, name: &str) -> Result<&Evaluated, SegmentError> {
        self.segments
            .iter()
            .find(|segment| segment.name == name)
            .ok_or_else(|| SegmentError::UnknownSegment {
                name: name.to_owned(),
            })
    }

    /// The segment's members by customer id, sorted.
    fn member_ids(&self, name: &str) -> Result<Vec<CustomerId>, SegmentError> {
        let mut ids: Vec<CustomerId> = self
            .segment(name)?
            .members
            .iter()
            .map(|&index| self.customers[index].customer)
            .collect();
        ids.sort_unstable();
        Ok(ids)
    }

    fn summarise(&self, segment: &Evaluated) -> SegmentSummary {
        let members_with_premium = segment
            .members
            .iter()
            .filter(|&&index| self.customers[index].premium_in_force_fen > 0)
            .count();
        SegmentSummary {
            name: segment.name.clone(),
            description: segment.description.clone(),
            rule: segment.rule.clone(),
            size: segment.members.len(),
            share_of_customers: share(segment.members.len(), self.book_customers),
            share_of_policyholders: share(members_with_premium, self.policyholders),
            share_of_premium: if self.total_premium_fen > 0 {
                to_f64(segment.premium_fen) / to_f64(self.total_premium_fen)
            } else {
                0.0
            },
            premium_in_force_fen: segment.premium_fen,
            evaluation_errors: segment.errors,
            first_error: segment.first_error.clone(),
        }
    }
}

/// `part / whole`, 0 when there is no whole.
fn share(part: usize, whole: usize) -> f64 {
    let count = |value: usize| to_f64(i64::try_from(value).unwrap_or(i64::MAX));
    if whole == 0 {
        0.0
    } else {
        count(part) / count(whole)
    }
}

/// A customer's place in member order.
fn order_key(metrics: &CustomerMetrics) -> (Reverse<i64>, CustomerId) {
    (Reverse(metrics.premium_in_force_fen), metrics.customer)
}

/// `{premium in force}:{customer id}`: a place in member order.
fn cursor(metrics: &CustomerMetrics) -> String {
    format!("{}:{}", metrics.premium_in_force_fen, metrics.customer)
}

fn parse_cursor(cursor: &str) -> Result<(Reverse<i64>, CustomerId), SegmentError> {
    let (premium, customer) = cursor.split_once(':').ok_or(SegmentError::BadCursor)?;
    let premium: i64 = premium.parse().map_err(|_| SegmentError::BadCursor)?;
    let customer = CustomerId::parse("after", customer).map_err(|_| SegmentError::BadCursor)?;
    if format!("{premium}:{customer}") != cursor {
        return Err(SegmentError::BadCursor);
    }
    Ok((Reverse(premium), customer))
}
