//! Contact analytics: `channelStats` (contacts per channel per hour, day, week or month, with
//! complaint and first-contact resolution rates and handling time) and `busiestHours`, from
//! the analytics read model's pre-aggregated buckets. Buckets are Beijing time; a range is
//! widened to whole buckets, and each row says what it covers.
//!
//! Nothing here is personal data: the buckets hold counts, not customers.

use ::analytics::{AnalyticsError, BUCKETS_MAX, ChannelBucket as Bucket, RANGE_DAYS_MAX};
use async_graphql::{Context, Enum, Object, SimpleObject};
use ledger_app::names::ANALYTICS;

use crate::access::RootAccess;
use crate::errors::{ApiError, ApiResult};
use crate::scalars::DateTime;
use crate::state::state;
use crate::vocabulary::Channel;

/// A count per channel.
#[derive(SimpleObject, Debug, Clone)]
pub struct ChannelCount {
    pub channel: Channel,
    pub count: i32,
}

/// How long each bucket of a `channelStats` series is (Beijing time; weeks run Monday to
/// Sunday).
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "::analytics::BucketSize")]
pub enum StatsBucket {
    Hour,
    Day,
    Week,
    Month,
}

/// One channel's figures over one bucket; only channels with contacts in the bucket appear.
#[derive(SimpleObject, Debug, Clone)]
pub struct ChannelStats {
    /// When the bucket starts (inclusive) and ends (exclusive).
    pub start: DateTime,
    pub end: DateTime,
    pub channel: Channel,
    pub contacts: i32,
    pub inbound: i32,
    pub outbound: i32,
    /// Contacts whose topic was a complaint.
    pub complaints: i32,
    /// Inbound contacts that were served (not abandoned).
    pub first_contacts: i32,
    /// Of those, the ones resolved there and then, without a service case.
    pub resolved_at_first_contact: i32,
    /// `complaints / contacts`.
    pub complaint_rate: f64,
    /// `resolvedAtFirstContact / firstContacts`; null when no inbound contact was served.
    pub first_contact_resolution_rate: Option<f64>,
    pub average_handling_seconds: f64,
}

impl From<Bucket> for ChannelStats {
    fn from(bucket: Bucket) -> Self {
        let int = crate::scalars::int;
        Self {
            start: bucket.start.into(),
            end: bucket.end.into(),
            channel: bucket.channel.into(),
            contacts: int(bucket.contacts),
            inbound: int(bucket.inbound),
            outbound: int(bucket.outbound),
            complaints: int(bucket.complaints),
            first_contacts: int(bucket.first_contacts),
            resolved_at_first_contact: int(bucket.resolved_at_first_contact),
            complaint_rate: bucket.complaint_rate,
            first_contact_resolution_rate: bucket.first_contact_resolution_rate,
            average_handling_seconds: bucket.average_handling_seconds,
        }
    }
}

/// An analytics error as the client sees it.
fn analytics_error(error: AnalyticsError) -> ApiError {
    match error {
        AnalyticsError::EmptyRange { .. } => {
            ApiError::validation("to", "`to` must be after `from`")
        }
        AnalyticsError::TooManyBuckets { .. } => ApiError::validation(
            "bucket",
            format!(
                "a series holds at most {BUCKETS_MAX} buckets: ask with a coarser bucket or a shorter range"
            ),
        ),
        AnalyticsError::RangeTooLong { .. } => ApiError::validation(
            "from",
            format!("a range covers at most {RANGE_DAYS_MAX} days"),
        ),
        AnalyticsError::State(error) => error.into(),
    }
}

/// The analytics queries.
#[derive(Debug, Default)]
pub struct AnalyticsQueries;

#[Object(guard = "RootAccess")]
impl AnalyticsQueries {
    /// Contacts per channel in each bucket of `[from, to)` (widened to whole buckets), oldest
    /// bucket first, channels in a fixed order within a bucket. The series is sparse: a bucket
    /// with no contact, and a channel with none in its bucket, have no item (read a missing
    /// one as zero). At most 744 buckets (a month of hours) and ten years per call.
    async fn channel_stats(
        &self,
        ctx: &Context<'_>,
        from: DateTime,
        to: DateTime,
        #[graphql(default_with = "StatsBucket::Month")] bucket: StatsBucket,
    ) -> ApiResult<Vec<ChannelStats>> {
        let buckets = state(ctx)?.read_model(ctx, ANALYTICS).await?;
        let rows = ::analytics::channel_stats(&buckets, from.0, to.0, bucket.into())
            .map_err(analytics_error)?;
        Ok(rows.into_iter().map(ChannelStats::from).collect())
    }

    /// Contacts on every channel per Beijing hour of day over `[from, to)`: 24 counts, index 0
    /// being 00:00-01:00. Like `channelStats`, the range is widened to whole hours (a contact
    /// counts in the hour it started).
    async fn busiest_hours(
        &self,
        ctx: &Context<'_>,
        from: DateTime,
        to: DateTime,
    ) -> ApiResult<Vec<i32>> {
        let buckets = state(ctx)?.read_model(ctx, ANALYTICS).await?;
        let hours = ::analytics::busiest_hours(&buckets, from.0, to.0).map_err(analytics_error)?;
        Ok(hours.into_iter().map(crate::scalars::int).collect())
    }
}
