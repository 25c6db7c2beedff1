//! Team performance: `agentStats` and `managerStats` (per member of staff, for a range of
//! Beijing days: contacts handled by channel, handling time, CSAT, complaints, conversions and
//! premium won) and a corporate customer's `accountManagerHistory` and `handovers`, from the
//! performance read model.
//!
//! Staff are named by their staff ids; the read model stores no customer's personal data.

use ::performance::{
    CsatAverage, DATE_RANGE_DAYS_MAX, Figures, PAGE_SIZE_MAX, QueryError, StaffFigures,
};
use async_graphql::{Context, Object, SimpleObject};
use ledger_app::names::PERFORMANCE;
use ledger_domain::ids::CustomerId;

use crate::access::RootAccess;
use crate::analytics::ChannelCount;
use crate::connection::{connection, cost, page_size};
use crate::cursor::received_cursor;
use crate::errors::{ApiError, ApiResult, bad_cursor, page_too_large};
use crate::scalars::{Date, DateTime, Money, int};
use crate::state::state;

/// Staff per page when `first` is not given.
pub const STAFF_PAGE_DEFAULT: usize = 20;

/// A performance query's error as the client sees it.
fn performance_error(error: QueryError) -> ApiError {
    match error {
        QueryError::PageTooLarge { max, .. } => page_too_large("first", max),
        QueryError::BadCursor => bad_cursor("after"),
        QueryError::EmptyDateRange { .. } => {
            ApiError::validation("to", "the date range must not end before it starts")
        }
        QueryError::DateRangeTooLong { .. } => ApiError::validation(
            "from",
            format!("a date range covers at most {DATE_RANGE_DAYS_MAX} days"),
        ),
        QueryError::State(error) => error.into(),
    }
}

/// An average CSAT: the answers and their average (1 to 5), null without answers.
#[derive(SimpleObject, Debug, Clone)]
pub struct Csat {
    pub answers: i32,
    /// The average, rounded down to hundredths.
    pub average: Option<f64>,
}

impl From<CsatAverage> for Csat {
    fn from(csat: CsatAverage) -> Self {
        Self {
            answers: int(csat.answers),
            average: csat
                .hundredths()
                .map(|hundredths| f64::from(int(hundredths)) / 100.0),
        }
    }
}

/// One member of staff's figures over a range of days.
#[derive(SimpleObject, Debug, Clone)]
pub struct StaffStats {
    /// The staff id.
    pub staff: String,
    /// Contacts handled, on every channel and per channel (channels with none omitted).
    pub contacts: i32,
    pub contacts_by_channel: Vec<ChannelCount>,
    pub handling_seconds: i32,
    /// Handling seconds per contact, rounded down; null without contacts.
    pub average_handling_seconds: Option<i32>,
    pub csat: Csat,
    /// Contacts handled whose topic was a complaint.
    pub complaints: i32,
    /// Contacts handled whose outcome was `CONVERTED`.
    pub converted_contacts: i32,
    /// Policies issued or renewed credited to the member of staff, on the day of the sale,
    /// cancelled later or not.
    pub conversions: i32,
    /// The premium of those sales, gross: as written, before any refund.
    pub premium_won: Money,
    /// Cancellations, on the day they happened, of policies whose latest sale was credited
    /// to the member of staff (whenever that sale was).
    pub cancellations: i32,
    /// The premium those cancellations refunded (each at most what its sale won): the
    /// claw-back beside `premiumWon`, counted in the range the cancellation falls in.
    pub premium_refunded: Money,
}

impl From<StaffFigures> for StaffStats {
    fn from(StaffFigures { staff, figures }: StaffFigures) -> Self {
        let Figures {
            contacts_by_channel,
            handling_seconds,
            complaints,
            converted_contacts,
            conversions,
            premium_won,
            cancellations,
            premium_refunded,
            ..
        } = &figures;
        Self {
            staff: staff.to_string(),
            contacts: int(figures.contacts()),
            contacts_by_channel: contacts_by_channel
                .iter()
                .map(|(&channel, &count)| ChannelCount {
                    channel: channel.into(),
                    count: int(count),
                })
                .collect(),
            handling_seconds: int(*handling_seconds),
            average_handling_seconds: figures.average_handling_seconds().map(int),
            csat: figures.csat().into(),
            complaints: int(*complaints),
            converted_contacts: int(*converted_contacts),
            conversions: int(*conversions),
            premium_won: (*premium_won).into(),
            cancellations: int(*cancellations),
            premium_refunded: (*premium_refunded).into(),
        }
    }
}

connection!(
    /// A page of staff with their figures, in staff-id order.
    StaffStatsConnection,
    StaffStatsEdge,
    StaffStats
);

/// One period of a corporate customer's account management.
#[derive(SimpleObject, Debug, Clone)]
pub struct AccountManagerPeriod {
    pub manager: String,
    pub team_lead: String,
    pub from: DateTime,
    /// When the next assignment replaced it; null for the current one.
    pub to: Option<DateTime>,
    /// The previous manager as the assignment named it.
    pub previous_manager: Option<String>,
}

/// A handover to another account manager or team lead, with the customer's CSAT in the 90
/// days before and after it.
#[derive(SimpleObject, Debug, Clone)]
pub struct Handover {
    pub at: DateTime,
    pub from_manager: Option<String>,
    pub from_team_lead: Option<String>,
    pub to_manager: String,
    pub to_team_lead: String,
    pub csat_before: Csat,
    /// A recent handover's after-window is not over yet.
    pub csat_after: Csat,
}

/// The customer's account managers, oldest first.
pub async fn account_manager_history(
    ctx: &Context<'_>,
    customer: CustomerId,
) -> ApiResult<Vec<AccountManagerPeriod>> {
    let records = state(ctx)?.read_model(ctx, PERFORMANCE).await?;
    Ok(::performance::account_manager_history(&records, customer)?
        .into_iter()
        .map(|period| AccountManagerPeriod {
            manager: period.manager.to_string(),
            team_lead: period.team_lead.to_string(),
            from: period.from.into(),
            to: period.to.map(Into::into),
            previous_manager: period.previous_manager.as_ref().map(ToString::to_string),
        })
        .collect())
}

/// The customer's handovers with satisfaction around each, oldest first.
pub async fn handovers(ctx: &Context<'_>, customer: CustomerId) -> ApiResult<Vec<Handover>> {
    let records = state(ctx)?.read_model(ctx, PERFORMANCE).await?;
    Ok(::performance::handover_satisfaction(&records, customer)?
        .into_iter()
        .map(|handover| Handover {
            at: handover.at.into(),
            from_manager: handover.from_manager.as_ref().map(ToString::to_string),
            from_team_lead: handover.from_team_lead.as_ref().map(ToString::to_string),
            to_manager: handover.to_manager.to_string(),
            to_team_lead: handover.to_team_lead.to_string(),
            csat_before: handover.before.into(),
            csat_after: handover.after.into(),
        })
        .collect())
}

/// The team-performance queries.
#[derive(Debug, Default)]
pub struct PerformanceQueries;

#[Object(guard = "RootAccess")]
impl PerformanceQueries {
    /// Every agent (anyone who handled a contact or was credited a sale), in staff-id order,
    /// with their figures for the days `from` to `to` (both inclusive, Beijing time); agents
    /// with nothing in the range are listed with empty figures.
    #[graphql(complexity = "cost(first, STAFF_PAGE_DEFAULT, PAGE_SIZE_MAX) * child_complexity + 1")]
    async fn agent_stats(
        &self,
        ctx: &Context<'_>,
        from: Date,
        to: Date,
        first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<StaffStatsConnection> {
        let after = received_cursor(ctx, "after", after)?;
        let first = page_size("first", first, STAFF_PAGE_DEFAULT, PAGE_SIZE_MAX)?;
        let records = state(ctx)?.read_model(ctx, PERFORMANCE).await?;
        let page = ::performance::agent_stats(&records, from.0, to.0, after.as_deref(), first)
            .map_err(performance_error)?;
        Ok(staff_page(page, after.is_some()))
    }

    /// Every account manager, in staff-id order, with the figures of the customers in their
    /// book for the days `from` to `to` (both inclusive, Beijing time).
    #[graphql(complexity = "cost(first, STAFF_PAGE_DEFAULT, PAGE_SIZE_MAX) * child_complexity + 1")]
    async fn manager_stats(
        &self,
        ctx: &Context<'_>,
        from: Date,
        to: Date,
        first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<StaffStatsConnection> {
        let after = received_cursor(ctx, "after", after)?;
        let first = page_size("first", first, STAFF_PAGE_DEFAULT, PAGE_SIZE_MAX)?;
        let records = state(ctx)?.read_model(ctx, PERFORMANCE).await?;
        let page = ::performance::manager_stats(&records, from.0, to.0, after.as_deref(), first)
            .map_err(performance_error)?;
        Ok(staff_page(page, after.is_some()))
    }
}

fn staff_page(
    page: ::performance::Page<StaffFigures>,
    has_previous_page: bool,
) -> StaffStatsConnection {
    let items = page
        .items
        .into_iter()
        .map(|(cursor, figures)| (cursor, StaffStats::from(figures)))
        .collect();
    StaffStatsConnection::forward(items, page.has_next_page, has_previous_page)
}
