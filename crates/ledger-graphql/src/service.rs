//! Service cases and claims: their types, a customer's service history, and the supervisors'
//! queues (`serviceCases`, `claimsPastGuarantee`), from the service-history read model.
//!
//! Whatever depends on the clock (is an open case overdue, and so breached? is an undecided
//! claim overdue, and so past its guarantee?) is judged at the moment of the request. A case's
//! or claim's `customer` goes through the customer loader, so a page of a hundred cases reads
//! the directory in one batch. Masked callers see policy and claim numbers through the
//! domain's mask and recommendation texts as `[masked]`.

use async_graphql::{Context, Enum, ID, Object, SimpleObject, Union};
use jiff::Timestamp;
use ledger_app::names::SERVICE_HISTORY;
use ledger_domain::ids::CustomerId;
use ledger_domain::projection::StateRead;
use ledger_domain::values::{Identifier, IdentifierKind};
use service_history::{
    CaseRecord, CaseStatusFilter, ClaimRecord, GuaranteeSource as Source, HistoryItem,
    PAGE_SIZE_MAX,
};

use crate::access::{MASKED_TEXT, RootAccess, masked, require, shown_text};
use crate::access_records::record_read;
use crate::connection::{connection, cost, page_size};
use crate::cursor::received_cursor;
use crate::customers::{Customer, load_linked_customer};
use crate::errors::{ApiResult, PageArguments, history_error};
use crate::scalars::{Date, DateTime, Money, int};
use crate::state::state;
use crate::vocabulary::{
    CaseStatus, ClaimRejectionReason, ClaimStatus, GuaranteeSource, Priority, ProductLine,
    RecommendationStatus, ServiceCaseKind,
};

/// Cases, claims or history items per page when `first` is not given.
pub const HISTORY_PAGE_DEFAULT: usize = 20;

/// History pages `claims` reads looking for claims among a customer's cases. A customer with
/// more than ten pages of cases between two claims is unusual; past the bound the page ends
/// early with `hasNextPage` and an `endCursor` that continues the walk, so nothing is skipped.
pub const CLAIMS_SCAN_PAGES_MAX: usize = 10;

/// An identifier as the caller may see it.
fn shown_number(kind: IdentifierKind, value: &str, masked: bool) -> String {
    if !masked {
        return value.to_owned();
    }
    Identifier::parse("value", kind, value)
        .map_or_else(|_| MASKED_TEXT.to_owned(), |identifier| identifier.mask())
}

/// A service case: consultation, complaint, rescue, survey ... with its deadline.
#[derive(Debug, Clone)]
pub struct ServiceCase {
    record: CaseRecord,
}

impl ServiceCase {
    pub fn new(record: CaseRecord) -> Self {
        Self { record }
    }
}

#[Object]
impl ServiceCase {
    async fn id(&self) -> ID {
        ID(self.record.id.to_string())
    }

    /// The customer the case's events name.
    async fn customer_id(&self) -> ID {
        ID(self.record.customer.to_string())
    }

    /// The customer as they are now: the survivor when the one the case was opened for was
    /// merged away (`customerId` keeps that one).
    async fn customer(&self, ctx: &Context<'_>) -> ApiResult<Option<Customer>> {
        load_linked_customer(ctx, self.record.customer, "serviceCase.customer").await
    }

    async fn kind(&self) -> ServiceCaseKind {
        self.record.kind.into()
    }

    async fn priority(&self) -> Priority {
        self.record.priority.into()
    }

    async fn status(&self) -> CaseStatus {
        self.record.status.into()
    }

    /// Whoever the case was last handed to.
    async fn owner(&self) -> Option<String> {
        self.record.owner.as_ref().map(ToString::to_string)
    }

    async fn opened_at(&self) -> DateTime {
        self.record.opened_at.into()
    }

    /// The deadline in force (on the business calendar when promised in working hours).
    async fn deadline(&self) -> DateTime {
        self.record.deadline.into()
    }

    /// The deadline as the last event that set it recorded it.
    async fn recorded_deadline(&self) -> DateTime {
        self.record.recorded_deadline.into()
    }

    async fn deadline_working_hours(&self) -> Option<i32> {
        self.record.deadline_working_hours.map(i32::from)
    }

    /// Whether the case breached its deadline in any of its cycles, as of this request: a
    /// resolution came after the deadline then in force (`lateResolutions` above 0), or the
    /// case is open past its deadline now (`overdue`). Reopening a case and resolving it on
    /// time does not take an earlier breach back. `serviceCases(breachedOnly: true)` lists
    /// exactly the cases for which this is true.
    async fn breached(&self) -> bool {
        self.record.is_breached(Timestamp::now())
    }

    /// Whether the case is open past its deadline in force, as of this request: the current
    /// cycle's breach, still to act on. False once resolved (`resolvedLate` then says whether
    /// that cycle's resolution was late); exactly at the deadline is not yet past it.
    async fn overdue(&self) -> bool {
        self.record.is_overdue(Timestamp::now())
    }

    async fn first_response_at(&self) -> Option<DateTime> {
        self.record.first_response_at.map(Into::into)
    }

    async fn resolved_at(&self) -> Option<DateTime> {
        self.record.resolved_at.map(Into::into)
    }

    /// Whether the current cycle was resolved after its deadline; null while open. One
    /// cycle's verdict: an earlier cycle's late resolution still counts in `lateResolutions`
    /// and `breached`.
    async fn resolved_late(&self) -> Option<bool> {
        self.record.resolved_late
    }

    async fn closed_at(&self) -> Option<DateTime> {
        self.record.closed_at.map(Into::into)
    }

    async fn reopened_count(&self) -> i32 {
        i32::from(self.record.reopened_count)
    }

    async fn escalation_level(&self) -> i32 {
        i32::from(self.record.escalation_level)
    }

    /// Working seconds from opening to the first response.
    async fn time_to_first_response_seconds(&self) -> Option<i32> {
        self.record.time_to_first_response_seconds.map(int)
    }

    /// Working seconds the case spent open, over its cycles, up to the last resolution.
    async fn time_to_resolution_seconds(&self) -> Option<i32> {
        self.record.time_to_resolution_seconds.map(int)
    }

    /// Resolutions, over all cycles, that came after their deadline; above 0, the case is
    /// `breached`.
    async fn late_resolutions(&self) -> i32 {
        i32::from(self.record.late_resolutions)
    }

    async fn policy_number(&self, ctx: &Context<'_>) -> Option<String> {
        let masked = masked(ctx);
        self.record
            .policy_number
            .as_ref()
            .map(|number| shown_number(IdentifierKind::PolicyNumber, number.as_str(), masked))
    }

    async fn claim_number(&self, ctx: &Context<'_>) -> Option<String> {
        let masked = masked(ctx);
        self.record
            .claim_number
            .as_ref()
            .map(|number| shown_number(IdentifierKind::ClaimNumber, number.as_str(), masked))
    }

    /// What the case is about, as opened (masked for analysts); null once the customer's
    /// personal data is erased, or when it cannot be opened in this ledger (the customer's
    /// `erased` says which).
    async fn subject(&self, ctx: &Context<'_>) -> Option<String> {
        shown_text(self.record.subject.as_ref(), masked(ctx))
    }

    /// How the current cycle was resolved (masked for analysts); null while open, and once
    /// erased.
    async fn resolution(&self, ctx: &Context<'_>) -> Option<String> {
        shown_text(self.record.resolution.as_ref(), masked(ctx))
    }

    /// The contact during which the case was opened.
    async fn opening_contact_id(&self) -> Option<ID> {
        self.record.opening_contact.map(|id| ID(id.to_string()))
    }

    /// The risk survey of a `RISK_SURVEY` case, once completed.
    async fn risk_survey(&self, ctx: &Context<'_>) -> Option<RiskSurvey> {
        let masked = masked(ctx);
        self.record.risk_survey.as_ref().map(|survey| RiskSurvey {
            completed_at: survey.completed_at.into(),
            surveyor: survey.surveyor.to_string(),
            recommendations: survey
                .recommendations
                .iter()
                .map(|recommendation| RiskRecommendation {
                    number: i32::from(recommendation.number),
                    text: shown_text(recommendation.text.as_ref(), masked),
                    due_on: recommendation.due_on.into(),
                    followed_up: recommendation.followed_up,
                    status: recommendation.status.map(Into::into),
                    follow_ups: i32::from(recommendation.follow_ups),
                    last_followed_up_at: recommendation.last_followed_up_at.map(Into::into),
                    last_followed_up_by: recommendation
                        .last_followed_up_by
                        .as_ref()
                        .map(ToString::to_string),
                })
                .collect(),
        })
    }

    /// Why a calendar-derived field is missing or fell back to the recorded value.
    async fn calendar_notes(&self) -> &[String] {
        &self.record.calendar_notes
    }
}

/// A completed risk survey and where its recommendations stand.
#[derive(SimpleObject, Debug, Clone)]
pub struct RiskSurvey {
    pub completed_at: DateTime,
    pub surveyor: String,
    pub recommendations: Vec<RiskRecommendation>,
}

/// One recommendation of a risk survey and its follow-up.
#[derive(SimpleObject, Debug, Clone)]
pub struct RiskRecommendation {
    pub number: i32,
    /// `[masked]` for analysts; null once the customer's data was erased.
    pub text: Option<String>,
    pub due_on: Date,
    pub followed_up: bool,
    pub status: Option<RecommendationStatus>,
    pub follow_ups: i32,
    pub last_followed_up_at: Option<DateTime>,
    pub last_followed_up_by: Option<String>,
}

/// A claim, from first notice of loss to settlement or rejection, with its time guarantee.
#[derive(Debug, Clone)]
pub struct Claim {
    record: ClaimRecord,
}

impl Claim {
    pub fn new(record: ClaimRecord) -> Self {
        Self { record }
    }
}

#[Object]
impl Claim {
    async fn number(&self, ctx: &Context<'_>) -> String {
        shown_number(
            IdentifierKind::ClaimNumber,
            self.record.number.as_str(),
            masked(ctx),
        )
    }

    async fn policy_number(&self, ctx: &Context<'_>) -> String {
        shown_number(
            IdentifierKind::PolicyNumber,
            self.record.policy.as_str(),
            masked(ctx),
        )
    }

    async fn customer_id(&self) -> ID {
        ID(self.record.customer.to_string())
    }

    /// The customer as they are now: the survivor when the one the claim was reported for was
    /// merged away (`customerId` keeps that one).
    async fn customer(&self, ctx: &Context<'_>) -> ApiResult<Option<Customer>> {
        load_linked_customer(ctx, self.record.customer, "claim.customer").await
    }

    async fn status(&self) -> ClaimStatus {
        self.record.status.into()
    }

    async fn loss_occurred_at(&self) -> DateTime {
        self.record.loss_occurred_at.into()
    }

    async fn reported_at(&self) -> DateTime {
        self.record.reported_at.into()
    }

    async fn surveyed_at(&self) -> Option<DateTime> {
        self.record.surveyed_at.map(Into::into)
    }

    async fn surveyor(&self) -> Option<String> {
        self.record.surveyor.as_ref().map(ToString::to_string)
    }

    async fn documents_requested_at(&self) -> Option<DateTime> {
        self.record.documents_requested_at.map(Into::into)
    }

    /// When the documents were last completed; the guarantee runs from here.
    async fn documents_completed_at(&self) -> Option<DateTime> {
        self.record.documents_completed_at.map(Into::into)
    }

    async fn settled_at(&self) -> Option<DateTime> {
        self.record.settled_at.map(Into::into)
    }

    async fn rejected_at(&self) -> Option<DateTime> {
        self.record.rejected_at.map(Into::into)
    }

    async fn rejection_reason(&self) -> Option<ClaimRejectionReason> {
        self.record.rejection_reason.map(Into::into)
    }

    /// The current cycle's settlement.
    async fn amount_settled(&self) -> Option<Money> {
        self.record.amount_settled.map(Into::into)
    }

    /// Every settlement of the claim, over all cycles.
    async fn total_settled(&self) -> Money {
        self.record.total_settled.into()
    }

    /// The guarantee promised at the first notice, if any.
    async fn promised_working_days(&self) -> Option<i32> {
        self.record.promised_working_days.map(i32::from)
    }

    /// The guarantee applied when the documents were completed.
    async fn guarantee_working_days(&self) -> Option<i32> {
        self.record.guarantee_working_days.map(i32::from)
    }

    async fn guarantee_source(&self) -> Option<GuaranteeSource> {
        self.record.guarantee_source.map(|source| match source {
            Source::Claim => GuaranteeSource::Claim,
            Source::ProductLine(_) => GuaranteeSource::ProductLine,
            Source::Default => GuaranteeSource::Default,
        })
    }

    /// The product line whose table entry set the guarantee, when one did.
    async fn guarantee_product_line(&self) -> Option<ProductLine> {
        match self.record.guarantee_source {
            Some(Source::ProductLine(line)) => Some(line.into()),
            _ => None,
        }
    }

    /// Closing time of the guarantee's last working day.
    async fn guarantee_due(&self) -> Option<DateTime> {
        self.record.guarantee_due.map(Into::into)
    }

    /// Whether the claim missed its time guarantee in any of its cycles, as of this request: a
    /// decision came after the guarantee then running (`lateDecisions` above 0), or the claim
    /// awaits a decision past its due time now (`overdue`). Reopening a claim and deciding it
    /// on time does not take an earlier breach back. `claimsPastGuarantee` lists exactly the
    /// claims for which this is true.
    async fn past_guarantee(&self) -> bool {
        self.record.is_past_guarantee(Timestamp::now())
    }

    /// Whether the claim awaits a decision past its guarantee's due time, as of this request:
    /// the current cycle's breach, still to act on. False once decided (`decidedLate` then
    /// says whether that cycle's decision was late) and while no guarantee runs (before the
    /// documents are complete); exactly at the due time is not yet past it.
    async fn overdue(&self) -> bool {
        self.record.is_overdue(Timestamp::now())
    }

    /// Whether the current cycle was decided (settled or rejected) after its guarantee; null
    /// while undecided, and for a decision with no guarantee running (a rejection before the
    /// documents were complete). One cycle's verdict: an earlier cycle's late decision still
    /// counts in `lateDecisions` and `pastGuarantee`.
    async fn decided_late(&self) -> Option<bool> {
        self.record.decided_late
    }

    /// Decisions, over all cycles, that came after their guarantee; above 0, the claim is
    /// `pastGuarantee`.
    async fn late_decisions(&self) -> i32 {
        i32::from(self.record.late_decisions)
    }

    async fn reopened_count(&self) -> i32 {
        i32::from(self.record.reopened_count)
    }

    async fn calendar_notes(&self) -> &[String] {
        &self.record.calendar_notes
    }
}

/// One entry of a customer's service history.
#[derive(Union, Debug, Clone)]
pub enum ServiceHistoryItem {
    ServiceCase(ServiceCase),
    Claim(Claim),
}

connection!(
    /// A page of a customer's service history, newest first.
    ServiceHistoryConnection,
    ServiceHistoryEdge,
    ServiceHistoryItem
);
connection!(
    /// A page of service cases.
    ServiceCaseConnection,
    ServiceCaseEdge,
    ServiceCase
);
connection!(
    /// A page of claims.
    ClaimConnection,
    ClaimEdge,
    Claim
);

/// One page of `customer`'s cases and claims, newest first.
pub fn service_history(
    state: &dyn StateRead,
    customer: CustomerId,
    first: Option<i32>,
    after: Option<String>,
) -> ApiResult<ServiceHistoryConnection> {
    let first = page_size("first", first, HISTORY_PAGE_DEFAULT, PAGE_SIZE_MAX)?;
    let page = service_history::customer_history(state, customer, after.as_deref(), first)
        .map_err(|error| history_error(error, PageArguments::FORWARD))?;
    let items = page
        .items
        .into_iter()
        .map(|(cursor, item)| {
            let node = match item {
                HistoryItem::Case(record) => {
                    ServiceHistoryItem::ServiceCase(ServiceCase::new(record))
                }
                HistoryItem::Claim(record) => ServiceHistoryItem::Claim(Claim::new(record)),
            };
            (cursor, node)
        })
        .collect();
    Ok(ServiceHistoryConnection::forward(
        items,
        page.has_next_page,
        after.is_some(),
    ))
}

/// One page of `customer`'s claims, newest first: the history walked page by page, keeping the
/// claims, at most [`CLAIMS_SCAN_PAGES_MAX`] history pages per request. `hasNextPage` says more
/// may follow (the history goes on), not that another claim certainly does.
pub fn customer_claims(
    state: &dyn StateRead,
    customer: CustomerId,
    first: Option<i32>,
    after: Option<String>,
) -> ApiResult<ClaimConnection> {
    let first = page_size("first", first, HISTORY_PAGE_DEFAULT, PAGE_SIZE_MAX)?;
    let mut claims = Vec::new();
    let mut cursor = after.clone();
    let mut pages_read = 0;
    while claims.len() < first {
        if pages_read == CLAIMS_SCAN_PAGES_MAX {
            // The bound ends this page early; the next request continues where the walk stopped.
            let mut connection = ClaimConnection::forward(claims, true, after.is_some());
            connection.page_info.end_cursor = cursor;
            return Ok(connection);
        }
        pages_read += 1;
        let page =
            service_history::customer_history(state, customer, cursor.as_deref(), PAGE_SIZE_MAX)
                .map_err(|error| history_error(error, PageArguments::FORWARD))?;
        let mut items = page.items.into_iter().peekable();
        while let Some((item_cursor, item)) = items.next() {
            cursor = Some(item_cursor.clone());
            if let HistoryItem::Claim(record) = item {
                claims.push((item_cursor, Claim::new(record)));
                if claims.len() == first {
                    let more = items.peek().is_some() || page.has_next_page;
                    return Ok(ClaimConnection::forward(claims, more, after.is_some()));
                }
            }
        }
        if !page.has_next_page {
            break;
        }
    }
    Ok(ClaimConnection::forward(claims, false, after.is_some()))
}

/// Which service cases `serviceCases` lists.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(name = "CaseStatusFilter")]
pub enum CaseStatusFilterInput {
    Open,
    Resolved,
    Closed,
}

/// The supervisors' queues and the case list.
#[derive(Debug, Default)]
pub struct ServiceQueries;

#[Object(guard = "RootAccess")]
impl ServiceQueries {
    /// Service cases by status (all when absent): open ones first, nearest deadline first; then
    /// resolved, most recent first; then closed. `breachedOnly` (supervisors, analysts,
    /// auditors) keeps the cases that breached their deadline in any cycle as of now, exactly
    /// those whose `breached` is true: open cases past their deadline (`overdue`), and every
    /// case with a late resolution (`lateResolutions` above 0), also one reopened and resolved
    /// on time since. Its open cases come in deadline order too: the overdue ones, longest
    /// overdue first, then the reopened ones not yet past their new deadline. Its later pages
    /// (`after`) keep the first page's "now", so a case passing its deadline while you page
    /// through is neither skipped nor listed twice; a listing from the start shows it.
    #[graphql(
        complexity = "cost(first, HISTORY_PAGE_DEFAULT, PAGE_SIZE_MAX) * child_complexity + 1"
    )]
    async fn service_cases(
        &self,
        ctx: &Context<'_>,
        status: Option<CaseStatusFilterInput>,
        #[graphql(default = false)] breached_only: bool,
        first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<ServiceCaseConnection> {
        let after = received_cursor(ctx, "after", after)?;
        if breached_only {
            require(ctx, "serviceCases.breachedOnly")?;
        }
        let first = page_size("first", first, HISTORY_PAGE_DEFAULT, PAGE_SIZE_MAX)?;
        let status = status.map(|status| match status {
            CaseStatusFilterInput::Open => CaseStatusFilter::Open,
            CaseStatusFilterInput::Resolved => CaseStatusFilter::Resolved,
            CaseStatusFilterInput::Closed => CaseStatusFilter::Closed,
        });
        let history = state(ctx)?.read_model(ctx, SERVICE_HISTORY).await?;
        let page = service_history::cases(
            &history,
            status,
            breached_only,
            Timestamp::now(),
            after.as_deref(),
            first,
        )
        .map_err(|error| history_error(error, PageArguments::FORWARD))?;
        for (_, record) in &page.items {
            record_read(ctx, record.customer, "serviceCases").await?;
        }
        let items = page
            .items
            .into_iter()
            .map(|(cursor, record)| (cursor, ServiceCase::new(record)))
            .collect();
        Ok(ServiceCaseConnection::forward(
            items,
            page.has_next_page,
            after.is_some(),
        ))
    }

    /// Claims past their time guarantee in any cycle as of now, exactly those whose
    /// `pastGuarantee` is true: undecided ones first, by due time — those past it (`overdue`),
    /// the longest overdue first, then those decided late in an earlier cycle and reopened,
    /// the nearest due time first and those awaiting their documents again last; then every
    /// decided claim with a late decision (`lateDecisions` above 0), also one reopened and
    /// decided on time since, most recently decided first. Later pages (`after`) keep the
    /// first page's "now", so a claim passing its due time while you page through is neither
    /// skipped nor listed twice; a listing from the start shows it.
    #[graphql(
        complexity = "cost(first, HISTORY_PAGE_DEFAULT, PAGE_SIZE_MAX) * child_complexity + 1"
    )]
    async fn claims_past_guarantee(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<ClaimConnection> {
        let after = received_cursor(ctx, "after", after)?;
        let first = page_size("first", first, HISTORY_PAGE_DEFAULT, PAGE_SIZE_MAX)?;
        let history = state(ctx)?.read_model(ctx, SERVICE_HISTORY).await?;
        let page = service_history::claims_past_guarantee(
            &history,
            Timestamp::now(),
            after.as_deref(),
            first,
        )
        .map_err(|error| history_error(error, PageArguments::FORWARD))?;
        for (_, record) in &page.items {
            record_read(ctx, record.customer, "claimsPastGuarantee").await?;
        }
        let items = page
            .items
            .into_iter()
            .map(|(cursor, record)| (cursor, Claim::new(record)))
            .collect();
        Ok(ClaimConnection::forward(
            items,
            page.has_next_page,
            after.is_some(),
        ))
    }
}
