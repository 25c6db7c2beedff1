//! Marketing: `campaigns` and `campaign(id)` (budget, cost, touches, responses, conversions,
//! premium won, ROI, and where each stands in plan → execution → feedback), and `followUps`,
//! the call-back queue of online enquiries nobody has called back yet, oldest first with
//! their age — from the marketing read model.
//!
//! A campaign's status and an enquiry's age depend on the clock and are judged at the moment
//! of the request. The read model copies no personal data from enquiries (it is sealed in the
//! log under the customer's or the enquiry's own key); a follow-up's `details` (name, mobile,
//! plate, message) are opened from its event when asked for, masked for analysts like
//! everywhere else, so erasure needs nothing from the read model.

use ::marketing::{CampaignRecord, EnquiryRecord, PAGE_SIZE_MAX, QueryError, QueuedEnquiry};
use async_graphql::{
    Context, Enum, ID, InputValueError, InputValueResult, Object, Scalar, ScalarType, SimpleObject,
    Value,
};
use jiff::Timestamp;
use ledger_app::names::MARKETING;
use ledger_domain::ids::{CampaignId, CustomerId, EnquiryId};
use ledger_domain::values::{Identifier, IdentifierKind};
use ledger_store::EventLog;

use crate::access::{MASKED_TEXT, RootAccess, masked, shown_text};
use crate::access_records::record_read;
use crate::analytics::ChannelCount;
use crate::connection::{connection, cost, page_size};
use crate::cursor::received_cursor;
use crate::customers::{Customer, load_linked_customer, shown_name};
use crate::errors::{ApiError, ApiResult, bad_cursor, page_too_large};
use crate::scalars::{Date, DateTime, Money, Position, int};
use crate::state::state;
use crate::vocabulary::{CampaignResponse, ProductLine};

/// Campaigns or follow-ups per page when `first` is not given.
pub const MARKETING_PAGE_DEFAULT: usize = 20;

/// A marketing listing's error as the client sees it.
fn marketing_error(error: QueryError) -> ApiError {
    match error {
        QueryError::PageTooLarge { max, .. } => page_too_large("first", max),
        QueryError::BadCursor => bad_cursor("after"),
        QueryError::State(error) => error.into(),
    }
}

/// A ratio in basis points (1/100 of a percent) as a decimal string, exact and unbounded:
/// `"15000"` is 150%. An ROI outgrows a 32-bit `Int` as soon as a campaign wins more than
/// about 214,748 times what it cost (a first cost of a few yuan against a sale), and even a
/// 64-bit one for a cost of one fen, so it travels as text like `Money`, never saturated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BasisPoints(pub i128);

const BASIS_POINTS_RULE: &str =
    "basis points are a whole number as a decimal string, such as \"15000\" for 150%";

#[Scalar(name = "BasisPoints")]
/// A ratio in basis points (1/100 of a percent) as a decimal string of any size: `"15000"` is
/// 150%, `"-10000"` is −100%.
impl ScalarType for BasisPoints {
    fn parse(value: Value) -> InputValueResult<Self> {
        let text = match &value {
            Value::String(text) => text.trim().to_owned(),
            Value::Number(number) => number.to_string(),
            _ => return Err(InputValueError::custom(BASIS_POINTS_RULE)),
        };
        text.parse::<i128>()
            .map(Self)
            .map_err(|_| InputValueError::custom(BASIS_POINTS_RULE))
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.to_string())
    }
}

/// Where a campaign stands, at the moment of the request.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "::marketing::CampaignStatus")]
pub enum CampaignStatus {
    /// The log has facts attributed to the campaign but not its launch.
    NotLaunched,
    /// Launched; its period has not started.
    Planned,
    /// Its period started and it is not closed (also past its period's end).
    Executing,
    /// Closed: the feedback stage. Late responses still count.
    Closed,
}

/// Responses of one kind.
#[derive(SimpleObject, Debug, Clone)]
pub struct ResponseCount {
    pub response: CampaignResponse,
    pub count: i32,
}

/// A marketing campaign and its figures so far.
#[derive(Debug, Clone)]
pub struct Campaign {
    record: CampaignRecord,
}

#[Object]
impl Campaign {
    async fn id(&self) -> ID {
        ID(self.record.id.to_string())
    }

    /// Null while the log only knows the campaign from facts attributed to it.
    async fn name(&self) -> Option<&str> {
        self.record.plan.as_ref().map(|plan| plan.name.as_str())
    }

    async fn status(&self) -> CampaignStatus {
        self.record.status(Timestamp::now()).into()
    }

    async fn budget(&self) -> Option<Money> {
        self.record.plan.as_ref().map(|plan| plan.budget.into())
    }

    /// Budget minus cost (negative when over budget).
    async fn budget_remaining(&self) -> Option<Money> {
        self.record.budget_remaining().map(Into::into)
    }

    async fn channels(&self) -> Vec<crate::vocabulary::Channel> {
        self.record
            .plan
            .as_ref()
            .map(|plan| {
                plan.channels
                    .iter()
                    .map(|&channel| channel.into())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The segment the campaign targets, as its launch named it.
    async fn target_segment(&self) -> Option<&str> {
        self.record
            .plan
            .as_ref()
            .map(|plan| plan.target_segment.as_str())
    }

    /// First and last day of the period, both inclusive, Beijing time.
    async fn period_start(&self) -> Option<Date> {
        self.record
            .plan
            .as_ref()
            .map(|plan| plan.period_start.into())
    }

    async fn period_end(&self) -> Option<Date> {
        self.record.plan.as_ref().map(|plan| plan.period_end.into())
    }

    /// The campaign's owner (a staff id).
    async fn owner(&self) -> Option<String> {
        self.record.plan.as_ref().map(|plan| plan.owner.to_string())
    }

    async fn launched_at(&self) -> Option<DateTime> {
        self.record
            .plan
            .as_ref()
            .map(|plan| plan.launched_at.into())
    }

    async fn closed_at(&self) -> Option<DateTime> {
        self.record
            .closing
            .as_ref()
            .map(|closing| closing.closed_at.into())
    }

    /// The cost to date.
    async fn cost(&self) -> Money {
        self.record.cost.into()
    }

    async fn touches(&self) -> i32 {
        int(self.record.touches)
    }

    async fn touches_by_channel(&self) -> Vec<ChannelCount> {
        self.record
            .touches_by_channel
            .iter()
            .map(|(&channel, &count)| ChannelCount {
                channel: channel.into(),
                count: int(count),
            })
            .collect()
    }

    async fn responses(&self) -> i32 {
        int(self.record.responses)
    }

    async fn responses_by_kind(&self) -> Vec<ResponseCount> {
        self.record
            .responses_by_kind
            .iter()
            .map(|(&response, &count)| ResponseCount {
                response: response.into(),
                count: int(count),
            })
            .collect()
    }

    /// Policies issued or renewed attributed to the campaign, cancelled later or not: each
    /// sale (the issue, each renewal) counts once, in one campaign — the one its issue or
    /// renewal names (`campaignId`), else the one whose PURCHASED response named the policy
    /// first.
    async fn conversions(&self) -> i32 {
        int(self.record.conversions)
    }

    /// The premium of those conversions, gross: as written, before any refund. A sale later
    /// cancelled stays in it; what its cancellation returned is `premiumRefunded`, and
    /// `premiumKept` is what remains.
    async fn premium_won(&self) -> Money {
        self.record.premium_won.into()
    }

    /// Conversions cancelled later: policies whose latest sale the campaign is credited with
    /// and that were cancelled since.
    async fn cancellations(&self) -> i32 {
        int(self.record.cancellations)
    }

    /// The premium those cancellations returned to the customers (each at most what its sale
    /// won).
    async fn premium_refunded(&self) -> Money {
        self.record.premium_refunded.into()
    }

    /// `premiumWon − premiumRefunded`: the premium the campaign kept, which ROI is computed on.
    async fn premium_kept(&self) -> Money {
        self.record.premium_kept().into()
    }

    /// Cost per conversion, rounded down to the fen; null before the first conversion.
    async fn cost_per_conversion(&self) -> Option<Money> {
        self.record.cost_per_conversion().map(Into::into)
    }

    /// `(premiumKept − cost) / cost`, the return on the premium kept after refunds, in basis
    /// points (`"15000"` is 150%), rounded down, exact however large; null while nothing was
    /// spent.
    async fn roi_basis_points(&self) -> Option<BasisPoints> {
        self.record.roi().map(|roi| BasisPoints(roi.basis_points()))
    }

    /// Online enquiries that name the campaign, and how many of them await a call-back.
    async fn enquiries(&self) -> i32 {
        int(self.record.enquiries)
    }

    async fn enquiries_awaiting_callback(&self) -> i32 {
        int(self.record.enquiries_awaiting_callback)
    }

    /// The premium won as the campaign's closing counted it, to compare with `premiumWon`
    /// (responses may still arrive after closing).
    async fn closing_premium_won(&self) -> Option<Money> {
        self.record
            .closing
            .as_ref()
            .map(|closing| closing.premium_won.into())
    }
}

/// An online enquiry waiting for a call-back.
#[derive(Debug, Clone)]
pub struct FollowUp {
    enquiry: EnquiryRecord,
    age_seconds: i64,
}

impl From<QueuedEnquiry> for FollowUp {
    fn from(queued: QueuedEnquiry) -> Self {
        Self {
            enquiry: queued.enquiry,
            age_seconds: queued.age.as_secs(),
        }
    }
}

#[Object]
impl FollowUp {
    async fn enquiry_id(&self) -> ID {
        ID(self.enquiry.id.to_string())
    }

    /// The customer the enquiry was matched to, if any.
    async fn customer_id(&self) -> Option<ID> {
        self.enquiry.customer.map(|id| ID(id.to_string()))
    }

    /// The customer as they are now: the survivor when the one who sent it was merged away
    /// (`customerId` keeps that one), so the call-back goes to the record that takes contacts.
    async fn customer(&self, ctx: &Context<'_>) -> ApiResult<Option<Customer>> {
        match self.enquiry.customer {
            Some(id) => load_linked_customer(ctx, id, "followUp.customer").await,
            None => Ok(None),
        }
    }

    async fn campaign_id(&self) -> Option<ID> {
        self.enquiry.campaign.map(|id| ID(id.to_string()))
    }

    async fn channel(&self) -> crate::vocabulary::Channel {
        self.enquiry.channel.into()
    }

    async fn product_lines(&self) -> Vec<ProductLine> {
        self.enquiry
            .product_lines
            .iter()
            .map(|&line| line.into())
            .collect()
    }

    async fn received_at(&self) -> DateTime {
        self.enquiry.received_at.into()
    }

    /// How long the enquiry has waited, in seconds, as of this request.
    async fn age_seconds(&self) -> i32 {
        i32::try_from(self.age_seconds).unwrap_or(i32::MAX)
    }

    /// The log position of the enquiry's event, where its sealed details (name, mobile,
    /// message) are read.
    async fn received_position(&self) -> Position {
        self.enquiry.received_position.into()
    }

    /// What the person left with the web shop, to call them back: read from the enquiry's
    /// sealed event, so an erased enquiry's details read as erased. Masked for analysts. A
    /// caller who sees them unmasked is recorded as reading the personal data of each customer
    /// the enquiry is (`followUp.details`): the matched customer, or for a lead from nobody
    /// known each customer whose contact names it (the lead erased with them); a lead nobody's
    /// contact names has no customer to record it under.
    async fn details(&self, ctx: &Context<'_>) -> ApiResult<EnquiryDetails> {
        let state = state(ctx)?;
        let position = self.enquiry.received_position;
        let record = state
            .ledger
            .log()
            .read_all(position, 1)?
            .into_iter()
            .next()
            .ok_or_else(|| {
                ApiError::unavailable("followUp.details", &"no event at its position")
            })?;
        let opened = state
            .ledger
            .keys()
            .open_payload(
                record.event.event_id,
                &record.event.event_type,
                record.event.schema_version,
                &record.event.payload,
            )
            .map_err(|error| ApiError::unavailable("followUp.details", &error))?;
        let ledger_domain::events::Event::OnlineEnquiryReceived(enquiry) = opened.event else {
            return Err(ApiError::unavailable(
                "followUp.details",
                &format!("position {position} holds a {}", record.event.event_type),
            ));
        };
        if opened.redacted {
            return Ok(EnquiryDetails::redacted());
        }
        let masked = masked(ctx);
        if !masked {
            let customers = customers_of_enquiry(ctx, self.enquiry.id, position).await?;
            for customer in customers {
                record_read(ctx, customer, "followUp.details").await?;
            }
        }
        let shown = |kind: IdentifierKind, value: &str| {
            if masked {
                Identifier::parse("value", kind, value)
                    .map_or_else(|_| MASKED_TEXT.to_owned(), |identifier| identifier.mask())
            } else {
                value.to_owned()
            }
        };
        Ok(EnquiryDetails {
            name: enquiry.name.as_ref().map(|name| shown_name(name, masked)),
            mobile: Some(shown(IdentifierKind::Mobile, enquiry.mobile.as_str())),
            plate: enquiry
                .plate
                .as_ref()
                .map(|plate| shown(IdentifierKind::Plate, plate.as_str())),
            message: shown_text(enquiry.message.as_ref(), masked),
            erased: false,
        })
    }
}

/// The customers whose personal data the online enquiry `enquiry` (received at `position`)
/// holds, a reader of its details reads: its sender, or the customers whose contacts name a
/// lead from nobody known (`marketing::customers_of_enquiry`, the rule its erasure follows).
/// Waits for the read model to have folded the log up to the enquiry (a subscription delivers
/// it as soon as it is written), so that at least the links written before it count.
pub(crate) async fn customers_of_enquiry(
    ctx: &Context<'_>,
    enquiry: EnquiryId,
    position: ledger_domain::ids::Position,
) -> ApiResult<Vec<CustomerId>> {
    let state = state(ctx)?;
    state.wait_for(position, Some(MARKETING)).await?;
    let records = state.read_model(ctx, MARKETING).await?;
    Ok(::marketing::customers_of_enquiry(&records, enquiry)?)
}

/// What a person left with an online enquiry.
#[derive(SimpleObject, Debug, Clone)]
pub struct EnquiryDetails {
    /// The name given, if any.
    pub name: Option<String>,
    /// The mobile number to call back (null once erased).
    pub mobile: Option<String>,
    /// The plate of the car asked about, if any.
    pub plate: Option<String>,
    /// The message left, if any.
    pub message: Option<String>,
    /// The enquiry's personal data was erased: every field above is null.
    pub erased: bool,
}

impl EnquiryDetails {
    fn redacted() -> Self {
        Self {
            name: None,
            mobile: None,
            plate: None,
            message: None,
            erased: true,
        }
    }
}

connection!(
    /// A page of campaigns, in campaign-id order (roughly launch order).
    CampaignConnection,
    CampaignEdge,
    Campaign
);
connection!(
    /// A page of the call-back queue, oldest enquiry first.
    FollowUpConnection,
    FollowUpEdge,
    FollowUp
);

/// The marketing queries.
#[derive(Debug, Default)]
pub struct MarketingQueries;

#[Object(guard = "RootAccess")]
impl MarketingQueries {
    /// Every campaign, in campaign-id order (ids are UUID v7, so roughly launch order).
    #[graphql(
        complexity = "cost(first, MARKETING_PAGE_DEFAULT, PAGE_SIZE_MAX) * child_complexity + 1"
    )]
    async fn campaigns(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<CampaignConnection> {
        let after = received_cursor(ctx, "after", after)?;
        let first = page_size("first", first, MARKETING_PAGE_DEFAULT, PAGE_SIZE_MAX)?;
        let records = state(ctx)?.read_model(ctx, MARKETING).await?;
        let page =
            ::marketing::campaigns(&records, after.as_deref(), first).map_err(marketing_error)?;
        let items = page
            .items
            .into_iter()
            .map(|(cursor, record)| (cursor, Campaign { record }))
            .collect();
        Ok(CampaignConnection::forward(
            items,
            page.has_next_page,
            after.is_some(),
        ))
    }

    /// The campaign with this id; null when the log knows none.
    async fn campaign(&self, ctx: &Context<'_>, id: ID) -> ApiResult<Option<Campaign>> {
        let id = CampaignId::parse("id", &id)?;
        let records = state(ctx)?.read_model(ctx, MARKETING).await?;
        Ok(::marketing::campaign(&records, id)?.map(|record| Campaign { record }))
    }

    /// Online enquiries nobody has called back yet (no outbound contact names them) and not
    /// erased (on their own, or with the customer who sent them or whose contact named them),
    /// oldest first, each with its age as of now.
    #[graphql(
        complexity = "cost(first, MARKETING_PAGE_DEFAULT, PAGE_SIZE_MAX) * child_complexity + 1"
    )]
    async fn follow_ups(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<FollowUpConnection> {
        let after = received_cursor(ctx, "after", after)?;
        let first = page_size("first", first, MARKETING_PAGE_DEFAULT, PAGE_SIZE_MAX)?;
        let records = state(ctx)?.read_model(ctx, MARKETING).await?;
        let page = ::marketing::callback_queue(&records, Timestamp::now(), after.as_deref(), first)
            .map_err(marketing_error)?;
        let items = page
            .items
            .into_iter()
            .map(|(cursor, queued)| (cursor, FollowUp::from(queued)))
            .collect();
        Ok(FollowUpConnection::forward(
            items,
            page.has_next_page,
            after.is_some(),
        ))
    }
}
