//! Customer segments: `segments`, `segment(name)` with its members, `customers(segment:)`, and
//! a customer's `segments` and `metrics`, from the segments read model and the rules the ledger
//! loaded at start-up ([`ledger_app::segment_service`]).
//!
//! Membership is computed at query time: the engine evaluates every rule over every customer as
//! of a Beijing day and caches that snapshot, so paging through a segment and opening customers
//! reuse one evaluation. A request that carries `ConsistentWith(p)` waits until the read model
//! has applied `p` and is answered from a snapshot at least that fresh. Evaluation is CPU work,
//! so it runs on a blocking thread.
//!
//! Members are customers: analysts see their names masked, as everywhere else. Metrics carry no
//! personal data (figures, dates, and the account manager's staff id).

use std::sync::Arc;

use ::segments::{MEMBERS_PAGE_MAX, SegmentError, SegmentSnapshot, SegmentSummary};
use async_graphql::{Context, ID, Object, SimpleObject};
use jiff::Timestamp;
use ledger_app::names::SEGMENTS;
use ledger_app::segment_service::SegmentReadError;
use ledger_domain::ids::CustomerId;
use ledger_domain::values::Channel as DomainChannel;

use crate::access::{RootAccess, masked, require};
use crate::analytics::ChannelCount;
use crate::connection::{connection, cost, page_size};
use crate::cursor::received_cursor;
use crate::customers::{Customer, CustomerConnection, load_customer, shown_name};
use crate::errors::{ApiError, ApiResult, bad_cursor, page_too_large};
use crate::scalars::{Date, DateTime, Money};
use crate::state::state;

/// Segment members per page when `first` is not given.
pub const MEMBERS_PAGE_DEFAULT: usize = 20;

/// A GraphQL `Int` from a count or a number of days, saturating at the ends of `Int`.
pub(crate) fn int_of(value: impl TryInto<i32>, negative: bool) -> i32 {
    value
        .try_into()
        .unwrap_or(if negative { i32::MIN } else { i32::MAX })
}

fn int_u64(value: u64) -> i32 {
    int_of(value, false)
}

fn int_i64(value: i64) -> i32 {
    int_of(value, value < 0)
}

/// A segments error as the client sees it.
/// `as_of_field` names the argument an evaluation day too early came from (`asOf`, or
/// `segmentChanges`' `from`).
fn segment_error(error: SegmentReadError, as_of_field: &str) -> ApiError {
    match error {
        SegmentReadError::Runner(error) => error.into(),
        SegmentReadError::Segment(error) => match error {
            SegmentError::UnknownSegment { name } => ApiError::not_found(format!("segment {name}")),
            SegmentError::PageTooLarge { max, .. } => page_too_large("first", max),
            SegmentError::BadCursor => bad_cursor("after"),
            SegmentError::AsOfTooEarly { as_of, earliest } => ApiError::validation(
                as_of_field,
                format!("metrics can be computed as of {earliest} or later, not {as_of}"),
            ),
            SegmentError::RangeReversed { .. } => {
                ApiError::validation("to", "the range must not end before it starts")
            }
            SegmentError::TooManyChanges { max, .. } => ApiError::validation(
                "to",
                format!("more than {max} customers entered or left; compare nearer dates"),
            ),
            SegmentError::TooManyCustomers { .. } => {
                ApiError::unavailable("segment evaluation", &error)
            }
            SegmentError::State(error) => error.into(),
        },
    }
}

/// The snapshot of every segment as of `as_of` (now when absent), at least as fresh as the head
/// the API started with and the position this request must see.
pub async fn snapshot(
    ctx: &Context<'_>,
    as_of: Option<DateTime>,
) -> ApiResult<Arc<SegmentSnapshot>> {
    let api = state(ctx)?;
    // Also the snapshot's minimum: a snapshot cached from before the read model reached it is
    // not reused.
    let minimum = api.wait_for_request(ctx, SEGMENTS).await?;
    let ledger = api.ledger.clone();
    let as_of = as_of.map_or_else(Timestamp::now, |instant| instant.0);
    not_in_future("asOf", as_of)?;
    tokio::task::spawn_blocking(move || ledger.segments().snapshot(ledger.runner(), as_of, minimum))
        .await
        .map_err(|error| ApiError::unavailable("segment evaluation", &error))?
        .map_err(|error| segment_error(error, "asOf"))
}

/// Refuses an evaluation instant later than now (and the clocks' drift): the facts of a later
/// day are not known yet.
fn not_in_future(field: &str, instant: Timestamp) -> ApiResult<()> {
    let now = Timestamp::now();
    let latest = now
        .checked_add(jiff::SignedDuration::from_secs(
            ledger_domain::aggregates::CLOCK_SKEW_SECONDS_MAX,
        ))
        .unwrap_or(now);
    if instant > latest {
        return Err(ApiError::validation(
            field,
            format!(
                "segments are evaluated as of now or earlier, not {instant}: the facts of a later \
                 day are not known yet"
            ),
        ));
    }
    Ok(())
}

/// The customer whose facts hold `customer`'s (itself, or the survivor of a merge).
async fn survivor(ctx: &Context<'_>, customer: CustomerId) -> ApiResult<CustomerId> {
    let segments_state = state(ctx)?.read_model(ctx, SEGMENTS).await?;
    Ok(::segments::survivor(&segments_state, customer)?)
}

/// A segment's names of `customer` (or its survivor) as of now.
pub async fn customer_segments(ctx: &Context<'_>, customer: CustomerId) -> ApiResult<Vec<String>> {
    let customer = survivor(ctx, customer).await?;
    Ok(snapshot(ctx, None).await?.customer_segments(customer))
}

/// The metrics of `customer` (or its survivor) as of now; null when the read model does not
/// know the customer.
pub async fn customer_metrics(
    ctx: &Context<'_>,
    customer: CustomerId,
) -> ApiResult<Option<CustomerMetrics>> {
    let customer = survivor(ctx, customer).await?;
    Ok(snapshot(ctx, None)
        .await?
        .customer(customer)
        .map(CustomerMetrics::from))
}

/// Where a customer's policy stands today (Beijing date).
#[derive(async_graphql::Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyState {
    /// Its latest period covers today.
    InForce,
    /// Issued or renewed for a period that starts later.
    NotStarted,
    /// Its latest period ended and no renewal, lapse or cancellation is recorded yet.
    Expired,
    /// Not renewed: recorded as lapsed.
    Lapsed,
    /// Cancelled before its period's end.
    Cancelled,
}

/// A customer's policy: the period that matters today and its terms.
#[derive(SimpleObject, Debug, Clone)]
pub struct CustomerPolicy {
    /// The policy number (masked for analysts).
    pub number: String,
    /// The customer the policy was issued to: this customer, or one merged into it.
    pub holder_id: ID,
    pub state: PolicyState,
    /// The period covering today (else the latest begun, else the next to begin), both days
    /// inclusive: a renewal made ahead of time does not hide the cover in force.
    pub period_start: Date,
    pub period_end: Date,
    /// The premium of that period's latest terms (as issued, or after the last endorsement).
    pub premium: Money,
    pub product_lines: Vec<crate::vocabulary::ProductLine>,
    /// The first day not in force, when the policy lapsed or was cancelled.
    pub ended_on: Option<Date>,
}

/// The policies of `customer` (or of its survivor, with those of the customers merged into
/// it), as the segments read model keeps them.
pub async fn customer_policies(
    ctx: &Context<'_>,
    customer: CustomerId,
) -> ApiResult<Vec<CustomerPolicy>> {
    let segments_state = state(ctx)?.read_model(ctx, SEGMENTS).await?;
    let today = ledger_domain::aggregates::policy::business_date(Timestamp::now());
    let policies = ::segments::customer_policies(&segments_state, customer, today)?;
    let masked = masked(ctx);
    Ok(policies
        .into_iter()
        .map(|policy| {
            let state = match policy.ended {
                Some((on, lapsed)) if on <= today => {
                    if lapsed {
                        PolicyState::Lapsed
                    } else {
                        PolicyState::Cancelled
                    }
                }
                _ if today < policy.period_start => PolicyState::NotStarted,
                _ if policy.period_end < today => PolicyState::Expired,
                _ => PolicyState::InForce,
            };
            let number = if masked {
                ledger_domain::values::Identifier::parse(
                    "number",
                    ledger_domain::values::IdentifierKind::PolicyNumber,
                    policy.number.as_str(),
                )
                .map_or_else(
                    |_| crate::access::MASKED_TEXT.to_owned(),
                    |number| number.mask(),
                )
            } else {
                policy.number.to_string()
            };
            CustomerPolicy {
                number,
                holder_id: ID(policy.holder.to_string()),
                state,
                period_start: Date(policy.period_start),
                period_end: Date(policy.period_end),
                premium: Money(policy.premium),
                product_lines: policy.product_lines.into_iter().map(Into::into).collect(),
                ended_on: policy.ended.map(|(on, _)| Date(on)),
            }
        })
        .collect())
}

/// One page of the members of the segment `name` as customers (`customers(segment:)`),
/// premium highest first.
pub async fn segment_customers(
    ctx: &Context<'_>,
    name: &str,
    first: usize,
    after: Option<String>,
) -> ApiResult<CustomerConnection> {
    require(ctx, "customers.segment")?;
    let page = snapshot(ctx, None)
        .await?
        .members(name, after.as_deref(), first)
        .map_err(|error| segment_error(error.into(), "asOf"))?;
    let mut items = Vec::with_capacity(page.items.len());
    for (cursor, metrics) in page.items {
        // A customer the segments read model knows from a policy event before their
        // registration reached the directory has no record yet; the page skips them.
        if let Some(customer) = load_customer(ctx, metrics.customer, "customers").await? {
            items.push((cursor, customer));
        }
    }
    Ok(CustomerConnection::forward(
        items,
        page.has_next_page,
        after.is_some(),
    ))
}

/// RFM scores, each 1 (the worst fifth of customers) to 5 (the best fifth).
#[derive(SimpleObject, Debug, Clone)]
pub struct Rfm {
    /// By days since the last contact.
    pub recency: i32,
    /// By contacts in the last 365 days.
    pub frequency: i32,
    /// By premium in force.
    pub monetary: i32,
}

/// A customer's figures as of a Beijing day: what the segment rules are written over.
#[derive(SimpleObject, Debug, Clone)]
pub struct CustomerMetrics {
    /// The customer (the survivor, for duplicates merged by the day).
    pub customer_id: ID,
    pub as_of: Date,
    pub corporate: bool,
    /// A member of the carmaker group (集团客户).
    pub group: bool,
    /// The account manager's staff id.
    pub account_manager: Option<String>,
    /// Erased by the day: the customer is in no segment and outside the book the others are
    /// ranked in (RFM 1, not a key account).
    pub erased: bool,
    /// Annualised premium of the policies in force.
    pub premium_in_force: Money,
    pub policies_active: i32,
    /// Distinct product lines across the policies in force.
    pub product_lines: i32,
    pub next_renewal: Option<Date>,
    pub days_to_next_renewal: Option<i32>,
    /// A policy lapsed in the last 365 days and was not renewed.
    pub lapsed_not_renewed: bool,
    /// Claims reported in the last 365 days.
    #[graphql(name = "claims12m")]
    pub claims_12m: i32,
    /// Claim payments in the last 365 days.
    #[graphql(name = "claimsPaid12m")]
    pub claims_paid_12m: Money,
    /// Claims paid over premium in force; null without premium in force.
    pub loss_ratio: Option<f64>,
    /// Contacts in the last 90 days per channel (every channel listed).
    #[graphql(name = "contacts90d")]
    pub contacts_90d: Vec<ChannelCount>,
    #[graphql(name = "contacts90dTotal")]
    pub contacts_90d_total: i32,
    #[graphql(name = "contacts365d")]
    pub contacts_365d: i32,
    /// Contacts about a complaint in the last 180 days.
    #[graphql(name = "complaints180d")]
    pub complaints_180d: i32,
    pub last_csat: Option<i32>,
    pub last_nps: Option<i32>,
    pub last_contact: Option<Date>,
    pub days_since_last_contact: Option<i32>,
    pub days_since_registered: i32,
    pub rfm: Rfm,
    /// In the smallest set of customers holding 80% of the premium in force.
    pub in_key_accounts: bool,
}

impl From<&::segments::CustomerMetrics> for CustomerMetrics {
    fn from(metrics: &::segments::CustomerMetrics) -> Self {
        let contacts_90d = DomainChannel::ALL
            .iter()
            .map(|&channel| ChannelCount {
                channel: channel.into(),
                count: int_u64(u64::from(metrics.contacts_90d_on(channel))),
            })
            .collect();
        Self {
            customer_id: ID(metrics.customer.to_string()),
            as_of: metrics.as_of.into(),
            corporate: metrics.corporate,
            group: metrics.group,
            account_manager: metrics.account_manager.as_ref().map(ToString::to_string),
            erased: metrics.erased,
            premium_in_force: ledger_domain::values::Money::from_fen(metrics.premium_in_force_fen)
                .into(),
            policies_active: int_u64(u64::from(metrics.policies_active)),
            product_lines: int_u64(u64::from(metrics.product_lines)),
            next_renewal: metrics.next_renewal.map(Into::into),
            days_to_next_renewal: metrics.days_to_next_renewal.map(int_i64),
            lapsed_not_renewed: metrics.lapsed_not_renewed,
            claims_12m: int_u64(u64::from(metrics.claims_12m)),
            claims_paid_12m: ledger_domain::values::Money::from_fen(metrics.claims_paid_12m_fen)
                .into(),
            loss_ratio: metrics.loss_ratio,
            contacts_90d,
            contacts_90d_total: int_u64(u64::from(metrics.contacts_90d_total)),
            contacts_365d: int_u64(u64::from(metrics.contacts_365d)),
            complaints_180d: int_u64(u64::from(metrics.complaints_180d)),
            last_csat: metrics.last_csat.map(i32::from),
            last_nps: metrics.last_nps.map(i32::from),
            last_contact: metrics.last_contact.map(Into::into),
            days_since_last_contact: metrics.days_since_last_contact.map(int_i64),
            days_since_registered: int_i64(metrics.days_since_registered),
            rfm: Rfm {
                recency: i32::from(metrics.rfm.recency),
                frequency: i32::from(metrics.rfm.frequency),
                monetary: i32::from(metrics.rfm.monetary),
            },
            in_key_accounts: metrics.in_key_accounts,
        }
    }
}

/// One member of a segment: the customer and their figures.
#[derive(Debug, Clone)]
pub struct SegmentMember {
    metrics: ::segments::CustomerMetrics,
}

#[Object]
impl SegmentMember {
    async fn customer_id(&self) -> ID {
        ID(self.metrics.customer.to_string())
    }

    /// The customer's name (masked for analysts); null once erased or when the directory does
    /// not know the customer yet.
    async fn name(&self, ctx: &Context<'_>) -> ApiResult<Option<String>> {
        let masked = masked(ctx);
        let record = state(ctx)?
            .customers
            .load_one(self.metrics.customer)
            .await?;
        let Some(name) = record.and_then(|record| record.name) else {
            return Ok(None);
        };
        crate::access_records::record_read(ctx, self.metrics.customer, "segmentMember.name")
            .await?;
        Ok(Some(shown_name(&name, masked)))
    }

    async fn customer(&self, ctx: &Context<'_>) -> ApiResult<Option<Customer>> {
        load_customer(ctx, self.metrics.customer, "segmentMember.customer").await
    }

    async fn metrics(&self) -> CustomerMetrics {
        CustomerMetrics::from(&self.metrics)
    }
}

connection!(
    /// A page of a segment's members, premium in force highest first.
    SegmentMemberConnection,
    SegmentMemberEdge,
    SegmentMember
);

/// A customer segment as of one Beijing day: its rule and its figures.
#[derive(Debug, Clone)]
pub struct Segment {
    snapshot: Arc<SegmentSnapshot>,
    summary: SegmentSummary,
}

#[Object]
impl Segment {
    async fn name(&self) -> &str {
        &self.summary.name
    }

    async fn description(&self) -> &str {
        &self.summary.description
    }

    /// The rule, a CEL expression over the customer's metrics.
    async fn rule(&self) -> &str {
        &self.summary.rule
    }

    /// The Beijing day the segment was evaluated as of.
    async fn as_of(&self) -> Date {
        self.snapshot.as_of().into()
    }

    /// The log position the evaluated read model had reached.
    async fn position(&self) -> Option<crate::scalars::Position> {
        self.snapshot.position().map(Into::into)
    }

    /// Members.
    async fn size(&self) -> i32 {
        int_of(self.summary.size, false)
    }

    /// Members over all customers known on the day and not erased (an erased customer cannot
    /// be contacted and is in no segment).
    async fn share_of_customers(&self) -> f64 {
        self.summary.share_of_customers
    }

    /// Members with premium in force over customers (not erased) with premium in force.
    async fn share_of_policyholders(&self) -> f64 {
        self.summary.share_of_policyholders
    }

    /// The members' premium in force over everyone's.
    async fn share_of_premium(&self) -> f64 {
        self.summary.share_of_premium
    }

    /// The members' annualised premium in force.
    async fn premium_in_force(&self) -> Money {
        ledger_domain::values::Money::from_fen(self.summary.premium_in_force_fen).into()
    }

    /// Customers for whom the rule failed (not members); normally 0.
    async fn evaluation_errors(&self) -> i32 {
        int_of(self.summary.evaluation_errors, false)
    }

    /// The first such failure, for whoever maintains the rule.
    async fn first_error(&self) -> Option<&str> {
        self.summary.first_error.as_deref()
    }

    /// The members, premium in force highest first (then customer id).
    #[graphql(
        complexity = "cost(first, MEMBERS_PAGE_DEFAULT, MEMBERS_PAGE_MAX) * child_complexity + 1"
    )]
    async fn members(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<SegmentMemberConnection> {
        let after = received_cursor(ctx, "after", after)?;
        let first = page_size("first", first, MEMBERS_PAGE_DEFAULT, MEMBERS_PAGE_MAX)?;
        let page = self
            .snapshot
            .members(&self.summary.name, after.as_deref(), first)
            .map_err(|error| segment_error(error.into(), "asOf"))?;
        let items = page
            .items
            .into_iter()
            .map(|(cursor, metrics)| (cursor, SegmentMember { metrics }))
            .collect();
        Ok(SegmentMemberConnection::forward(
            items,
            page.has_next_page,
            after.is_some(),
        ))
    }
}

/// The segment queries.
#[derive(Debug, Default)]
pub struct SegmentQueries;

#[Object(guard = "RootAccess")]
impl SegmentQueries {
    /// Every segment, in the rules' order, as of `asOf` (now when absent).
    async fn segments(
        &self,
        ctx: &Context<'_>,
        as_of: Option<DateTime>,
    ) -> ApiResult<Vec<Segment>> {
        let snapshot = snapshot(ctx, as_of).await?;
        Ok(snapshot
            .summaries()
            .into_iter()
            .map(|summary| Segment {
                snapshot: Arc::clone(&snapshot),
                summary,
            })
            .collect())
    }

    /// The segment `name` (`key-accounts`, `group-customers`, `at-risk` ...) as of `asOf`
    /// (now when absent); null when no rule has that name.
    async fn segment(
        &self,
        ctx: &Context<'_>,
        name: String,
        as_of: Option<DateTime>,
    ) -> ApiResult<Option<Segment>> {
        ledger_domain::kinds::SegmentName::parse("name", &name)?;
        if state(ctx)?.ledger.segments().rules().get(&name).is_none() {
            return Ok(None);
        }
        let snapshot = snapshot(ctx, as_of).await?;
        let summary = snapshot
            .summary(&name)
            .map_err(|error| segment_error(error.into(), "asOf"))?;
        Ok(Some(Segment { snapshot, summary }))
    }

    /// Who entered and who left segment `name` between the Beijing days of `from` and `to`
    /// (each side evaluated from the facts dated up to its day). At most `CHANGES_MAX`
    /// customers either way; more is a `VALIDATION` error asking for nearer dates.
    async fn segment_changes(
        &self,
        ctx: &Context<'_>,
        name: String,
        from: DateTime,
        to: DateTime,
    ) -> ApiResult<SegmentChanges> {
        let api = state(ctx)?;
        if api.ledger.segments().rules().get(&name).is_none() {
            return Err(ApiError::not_found(format!("segment {name}")));
        }
        not_in_future("from", from.0)?;
        not_in_future("to", to.0)?;
        api.wait_for_request(ctx, SEGMENTS).await?;
        let ledger = api.ledger.clone();
        let changes = tokio::task::spawn_blocking(move || {
            ledger
                .segments()
                .membership_changes(ledger.runner(), &name, from.0, to.0)
        })
        .await
        .map_err(|error| ApiError::unavailable("segment evaluation", &error))?
        .map_err(|error| segment_error(error, "from"))?;
        Ok(SegmentChanges {
            segment: changes.segment,
            from: changes.from.into(),
            to: changes.to.into(),
            entered: changes
                .entered
                .iter()
                .map(|id| ID(id.to_string()))
                .collect(),
            left: changes.left.iter().map(|id| ID(id.to_string())).collect(),
        })
    }
}

/// The customers who entered and left a segment between two days.
#[derive(Debug, SimpleObject)]
pub struct SegmentChanges {
    pub segment: String,
    /// The Beijing day the earlier membership was evaluated for.
    pub from: Date,
    /// The Beijing day the later membership was evaluated for.
    pub to: Date,
    /// Members on `to` that were not members on `from` (new customers included).
    pub entered: Vec<ID>,
    /// Members on `from` that are not members on `to` (customers merged away or erased
    /// included).
    pub left: Vec<ID>,
}
