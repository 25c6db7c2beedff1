//! Reading the performance projection: figures per agent and per account manager for any
//! range of days, summed from day and month buckets; a customer's account-manager history;
//! and the customer's satisfaction around each handover.

use jiff::civil::Date;
use jiff::{SignedDuration, Timestamp};
use ledger_domain::ids::{CustomerId, StaffId};
use ledger_domain::projection::paging::{self, Listing};
use ledger_domain::projection::{StateError, StateRead};

use crate::fold::Assignment;
use crate::keys::{self, Role};
use crate::page::{PAGE_SIZE_MAX, Page, QueryError};
use crate::records::{
    CsatAnswer, CsatAverage, Figures, Handover, ManagerPeriod, StaffFigures, saturating_add,
};
use crate::storage::{describe, walk_prefix, walk_range};

/// The longest date range the figures are summed over, in days: ten years and three leap
/// days. Incentive schemes run on months, quarters and years; ten years of month buckets
/// keeps one member of staff's sum under 200 reads.
pub const DATE_RANGE_DAYS_MAX: i64 = 3_653;

/// The most month buckets one sum reads: every month a range of [`DATE_RANGE_DAYS_MAX`] days
/// can touch.
const RANGE_MONTHS_MAX: usize = 122;

/// The most day buckets one read of a partial month returns.
const MONTH_DAYS_MAX: usize = 31;

/// The window before and after a handover over which CSAT is averaged, in days: 90, about a
/// quarter, long enough for a corporate customer to answer a few surveys.
pub const HANDOVER_WINDOW_DAYS: i64 = 90;

/// Every member of staff with figures as an agent (contacts handled or sales credited),
/// in staff-id order, with their figures for the days `from` to `to` (both inclusive, Beijing
/// time). Staff with nothing in the range are listed with empty figures, so a page always
/// holds `first` staff while there are more.
pub fn agent_stats(
    state: &dyn StateRead,
    from: Date,
    to: Date,
    after: Option<&str>,
    first: usize,
) -> Result<Page<StaffFigures>, QueryError> {
    staff_stats(state, Role::Agent, from, to, after, first)
}

/// Every account manager (anyone a customer was assigned to), in staff-id order, with the
/// figures of the customers in their book for the days `from` to `to` (both inclusive).
pub fn manager_stats(
    state: &dyn StateRead,
    from: Date,
    to: Date,
    after: Option<&str>,
    first: usize,
) -> Result<Page<StaffFigures>, QueryError> {
    staff_stats(state, Role::Manager, from, to, after, first)
}

/// One agent's figures for the days `from` to `to`; `None` for staff never seen as an agent.
pub fn agent(
    state: &dyn StateRead,
    staff: &StaffId,
    from: Date,
    to: Date,
) -> Result<Option<StaffFigures>, QueryError> {
    one_staff(state, Role::Agent, staff, from, to)
}

/// One account manager's book figures for the days `from` to `to`; `None` for staff never
/// assigned a customer.
pub fn manager(
    state: &dyn StateRead,
    staff: &StaffId,
    from: Date,
    to: Date,
) -> Result<Option<StaffFigures>, QueryError> {
    one_staff(state, Role::Manager, staff, from, to)
}

/// The customer's account managers in the order they were assigned, each with the period
/// they held the customer.
pub fn account_manager_history(
    state: &dyn StateRead,
    customer: CustomerId,
) -> Result<Vec<ManagerPeriod>, StateError> {
    let assignments = assignments(state, customer)?;
    let ends = assignments
        .iter()
        .skip(1)
        .map(|next| Some(next.at))
        .chain([None]);
    Ok(assignments
        .iter()
        .zip(ends)
        .map(|(assignment, to)| ManagerPeriod {
            manager: assignment.manager.clone(),
            team_lead: assignment.team_lead.clone(),
            from: assignment.at,
            to,
            previous_manager: assignment.previous_manager.clone(),
        })
        .collect())
}

/// Each handover of the customer (an assignment that changed the manager or the team lead,
/// or a first assignment whose event names a previous manager) with the customer's average
/// CSAT in the [`HANDOVER_WINDOW_DAYS`] before it and after it.
pub fn handover_satisfaction(
    state: &dyn StateRead,
    customer: CustomerId,
) -> Result<Vec<Handover>, StateError> {
    let assignments = assignments(state, customer)?;
    let window = SignedDuration::from_hours(HANDOVER_WINDOW_DAYS * 24);
    let mut handovers = Vec::new();
    for (index, assignment) in assignments.iter().enumerate() {
        let previous = index.checked_sub(1).map(|earlier| &assignments[earlier]);
        let (from_manager, from_team_lead) = match previous {
            Some(previous) => {
                let changed = previous.manager != assignment.manager
                    || previous.team_lead != assignment.team_lead;
                if !changed {
                    continue;
                }
                (
                    Some(previous.manager.clone()),
                    Some(previous.team_lead.clone()),
                )
            }
            None if assignment.previous_manager.is_some() => {
                (assignment.previous_manager.clone(), None)
            }
            None => continue,
        };
        let at = assignment.at;
        handovers.push(Handover {
            at,
            from_manager,
            from_team_lead,
            to_manager: assignment.manager.clone(),
            to_team_lead: assignment.team_lead.clone(),
            before: csat_between(state, customer, saturating_add(at, -window), at)?,
            after: csat_between(state, customer, at, saturating_add(at, window))?,
        });
    }
    Ok(handovers)
}

fn assignments(state: &dyn StateRead, customer: CustomerId) -> Result<Vec<Assignment>, StateError> {
    walk_prefix(state, &keys::customer_entries(keys::ASSIGNMENT, customer))?
        .into_iter()
        .map(|(key, value)| decode(&key, &value))
        .collect()
}

/// The customer's CSAT answers in `[start, end)`.
fn csat_between(
    state: &dyn StateRead,
    customer: CustomerId,
    start: Timestamp,
    end: Timestamp,
) -> Result<CsatAverage, StateError> {
    let start = keys::customer_at(keys::CSAT, customer, start);
    let end = keys::customer_at(keys::CSAT, customer, end);
    let mut average = CsatAverage::default();
    for (key, value) in walk_range(state, &start, &end)? {
        let answer: CsatAnswer = decode(&key, &value)?;
        average.sum = average.sum.saturating_add(u64::from(answer.score));
        average.answers = average.answers.saturating_add(1);
    }
    Ok(average)
}

fn decode<T: serde::de::DeserializeOwned>(key: &[u8], value: &[u8]) -> Result<T, StateError> {
    ledger_domain::codec::decode(value)
        .map_err(|error| StateError(format!("performance: {}: {error}", describe(key))))
}

/// Refuses a range that ends before it starts or is longer than [`DATE_RANGE_DAYS_MAX`].
fn check_range(from: Date, to: Date) -> Result<(), QueryError> {
    if to < from {
        return Err(QueryError::EmptyDateRange { from, to });
    }
    let days = from
        .until(to)
        .map(|span| i64::from(span.get_days()) + 1)
        .unwrap_or(i64::MAX);
    if days > DATE_RANGE_DAYS_MAX {
        return Err(QueryError::DateRangeTooLong {
            days,
            max: DATE_RANGE_DAYS_MAX,
        });
    }
    Ok(())
}

fn staff_stats(
    state: &dyn StateRead,
    role: Role,
    from: Date,
    to: Date,
    after: Option<&str>,
    first: usize,
) -> Result<Page<StaffFigures>, QueryError> {
    check_range(from, to)?;
    let listing = Listing {
        tag: match role {
            Role::Agent => "agent",
            Role::Manager => "manager",
        },
        prefix: role.index().to_vec(),
        end: None,
        is_suffix: &keys::is_staff_suffix,
    };
    let page = paging::page(state, &listing, after, first, PAGE_SIZE_MAX)?;
    let mut items = Vec::with_capacity(page.items.len());
    for (cursor, (key, _)) in page.items {
        let staff = staff_of(&key[role.index().len()..])?;
        let figures = sum_range(state, role, &staff, from, to)?;
        items.push((cursor, StaffFigures { staff, figures }));
    }
    Ok(Page {
        items,
        has_next_page: page.has_next_page,
    })
}

fn staff_of(suffix: &[u8]) -> Result<StaffId, StateError> {
    std::str::from_utf8(suffix)
        .ok()
        .and_then(|text| StaffId::parse("", text).ok())
        .ok_or_else(|| {
            StateError(format!(
                "performance: {} is not a staff id",
                describe(suffix)
            ))
        })
}

fn one_staff(
    state: &dyn StateRead,
    role: Role,
    staff: &StaffId,
    from: Date,
    to: Date,
) -> Result<Option<StaffFigures>, QueryError> {
    check_range(from, to)?;
    if state.get(&keys::staff_index(role, staff))?.is_none() {
        return Ok(None);
    }
    let figures = sum_range(state, role, staff, from, to)?;
    Ok(Some(StaffFigures {
        staff: staff.clone(),
        figures,
    }))
}

/// The sum of `staff`'s buckets for the days `from` to `to`: month buckets for whole months,
/// day buckets for the partial months at either end. At most three range reads.
fn sum_range(
    state: &dyn StateRead,
    role: Role,
    staff: &StaffId,
    from: Date,
    to: Date,
) -> Result<Figures, StateError> {
    let mut total = Figures::default();
    let mut cursor = from;
    while cursor <= to {
        let month_last = cursor.last_of_month();
        let (start, end, limit, last) = if cursor.day() == 1 && month_last <= to {
            // Whole months, up to the last one that ends within the range.
            let last = if to == to.last_of_month() {
                to
            } else {
                to.first_of_month()
                    .yesterday()
                    .map_err(|error| StateError(format!("performance: {error}")))?
            };
            (
                keys::month_bucket(role, staff, cursor),
                keys::month_bucket(role, staff, last),
                RANGE_MONTHS_MAX,
                last,
            )
        } else {
            let last = month_last.min(to);
            (
                keys::day_bucket(role, staff, cursor),
                keys::day_bucket(role, staff, last),
                MONTH_DAYS_MAX,
                last,
            )
        };
        let mut end = end;
        // Inclusive of the last bucket: the first key after it.
        end.push(0);
        for (key, value) in state.range(
            &start,
            &end,
            ledger_domain::projection::Order::Ascending,
            limit,
        )? {
            let figures: Figures = decode(&key, &value)?;
            total.add(&figures);
        }
        match last.tomorrow() {
            Ok(next) => cursor = next,
            Err(_) => break,
        }
    }
    Ok(total)
}
