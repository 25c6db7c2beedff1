//! A customer's timeline: the `TimelineEntry` type and one page of it, read from any state (the
//! live read model, or one rebuilt as of a past position for `customerAsOf`).
//!
//! Masked callers see `summary` as `[masked]` (it holds names, identifiers and free text), and
//! policy and claim numbers through the domain's mask, in their own fields and where the title
//! names them. Titles hold nothing else personal (see the timeline crate).

use std::borrow::Cow;

use async_graphql::parser::types::Field;
use async_graphql::registry::Registry;
use async_graphql::{
    ContextSelectionSet, ID, Object, OutputType, Positioned, ServerResult, SimpleObject, Value,
};
use customer_timeline::{PageRequest, TIMELINE_PAGE_MAX, TimelineFilter};
use ledger_domain::ids::CustomerId;
use ledger_domain::projection::StateRead;
use ledger_domain::values::{Identifier, IdentifierKind};

use crate::access::MASKED_TEXT;
use crate::connection::{PageInfo, page_size};
use crate::errors::{ApiError, ApiResult, PageArguments, timeline_error};
use crate::scalars::{DateTime, Money, Position, int};
use crate::vocabulary::{Channel, Direction, Topic, to_domain};

/// Timeline entries per page when neither `first` nor `last` is given: an agent's screenful.
pub const TIMELINE_PAGE_DEFAULT: usize = 20;

/// One event as it appears on a customer's timeline.
#[derive(Debug, Clone)]
pub struct TimelineEntry {
    entry: customer_timeline::TimelineEntry,
    masked: bool,
}

impl TimelineEntry {
    pub fn new(entry: customer_timeline::TimelineEntry, masked: bool) -> Self {
        Self { entry, masked }
    }

    /// An identifier as the caller may see it.
    fn identifier(&self, kind: IdentifierKind, value: &str) -> String {
        if !self.masked {
            return value.to_owned();
        }
        // The read model's numbers were parsed when recorded, so they parse again; should one
        // not (a rule tightened since), nothing of it is shown.
        Identifier::parse("value", kind, value)
            .map_or_else(|_| MASKED_TEXT.to_owned(), |identifier| identifier.mask())
    }
}

// `serial`: an entry's fields are read from memory and never wait, so resolving them one after
// the other gives the same answer (in the selection's order, as before) without the
// `FuturesUnordered` async-graphql builds per object to run fields concurrently: a page of 50
// entries built 100 of them (entries and edges), about a tenth of the server's CPU. (A plain
// comment: a doc comment here would become the type's description in the SDL.)
#[Object(serial)]
impl TimelineEntry {
    async fn position(&self) -> Position {
        self.entry.position.into()
    }

    async fn event_id(&self) -> ID {
        ID(self.entry.event_id.to_string())
    }

    /// Business time: when it happened, not when the ledger heard of it.
    async fn occurred_at(&self) -> DateTime {
        self.entry.occurred_at.into()
    }

    /// The event type (`ContactRecorded`): what the `kinds` filter matches.
    async fn kind(&self) -> &str {
        &self.entry.kind
    }

    /// What an agent reads at a glance: `Inbound PHONE call — CLAIM_REPORT`.
    async fn title(&self) -> String {
        let mut title = self.entry.title.clone();
        if self.masked {
            if let Some(policy) = &self.entry.policy {
                title = title.replace(
                    policy.as_str(),
                    &self.identifier(IdentifierKind::PolicyNumber, policy.as_str()),
                );
            }
            if let Some(claim) = &self.entry.claim {
                title = title.replace(
                    claim.as_str(),
                    &self.identifier(IdentifierKind::ClaimNumber, claim.as_str()),
                );
            }
        }
        title
    }

    async fn channel(&self) -> Option<Channel> {
        self.entry.channel.map(Into::into)
    }

    async fn direction(&self) -> Option<Direction> {
        self.entry.direction.map(Into::into)
    }

    async fn topic(&self) -> Option<Topic> {
        self.entry.topic.map(Into::into)
    }

    /// The member of staff who handled it.
    async fn agent(&self) -> Option<String> {
        self.entry.agent.as_ref().map(ToString::to_string)
    }

    /// Personal free text (a contact summary, a comment, findings): `[masked]` for analysts,
    /// null once erased.
    async fn summary(&self) -> Option<String> {
        let summary = self.entry.summary.as_ref()?;
        Some(if self.masked {
            MASKED_TEXT.to_owned()
        } else {
            summary.clone()
        })
    }

    /// How it ended, as a wire name (`FOLLOW_UP_NEEDED`, `SETTLED`, `WITHIN_DEADLINE` ...).
    async fn outcome(&self) -> Option<&str> {
        self.entry.outcome.as_deref()
    }

    async fn policy_number(&self) -> Option<String> {
        self.entry
            .policy
            .as_ref()
            .map(|policy| self.identifier(IdentifierKind::PolicyNumber, policy.as_str()))
    }

    async fn claim_number(&self) -> Option<String> {
        self.entry
            .claim
            .as_ref()
            .map(|claim| self.identifier(IdentifierKind::ClaimNumber, claim.as_str()))
    }

    async fn case_id(&self) -> Option<ID> {
        self.entry.case.map(|id| ID(id.to_string()))
    }

    async fn campaign_id(&self) -> Option<ID> {
        self.entry.campaign.map(|id| ID(id.to_string()))
    }

    async fn contact_id(&self) -> Option<ID> {
        self.entry.contact.map(|id| ID(id.to_string()))
    }

    /// The amount the event is about (premium, settlement, refund, estimate).
    async fn amount(&self) -> Option<Money> {
        self.entry
            .amount_fen
            .map(|fen| Money(ledger_domain::values::Money::from_fen(fen)))
    }

    async fn duration_seconds(&self) -> Option<i32> {
        self.entry
            .duration_seconds
            .map(|seconds| int(u64::from(seconds)))
    }

    async fn csat(&self) -> Option<i32> {
        self.entry.csat.map(i32::from)
    }

    async fn nps(&self) -> Option<i32> {
        self.entry.nps.map(i32::from)
    }

    /// The customer the event was recorded for (a merged customer, on a survivor's timeline).
    async fn recorded_for(&self) -> ID {
        ID(self.entry.recorded_for.to_string())
    }

    /// A correction replaced this contact's facts.
    async fn corrected(&self) -> bool {
        self.entry.corrected
    }

    /// The personal data of the customer it was recorded for was erased.
    async fn erased(&self) -> bool {
        self.entry.erased
    }
}

/// A page of a customer's timeline, newest first.
#[derive(SimpleObject, Debug)]
pub struct TimelineConnection {
    pub edges: TimelineEdges,
    pub page_info: PageInfo,
    /// Entries on the whole timeline, whatever the filters.
    pub total_count: i32,
}

/// One timeline entry and the cursor that pages on from it.
#[derive(SimpleObject, Debug)]
// `serial`, as `TimelineEntry`: its fields never wait.
#[graphql(serial)]
pub struct TimelineEdge {
    pub cursor: String,
    pub node: TimelineEntry,
}

/// A page's edges: in the schema exactly a `[TimelineEdge!]!`, resolved one edge after the
/// other.
///
/// async-graphql resolves a list's items concurrently (`try_join_all`, a `FuturesOrdered` for
/// more than 30 items), which for a page of 50 entries whose fields never wait was a tenth of
/// the server's CPU spent on polling machinery. An entry's fields are all read from memory
/// (nothing awaits), so resolving the edges in order gives the same answer with none of it.
/// Errors carry the same path (`ctx.with_index`), and the first error in list order is the
/// one reported, as a field of an entry cannot fail. (The type information comes from
/// `Vec<TimelineEdge>`, through async-graphql's doc-hidden `registry`, so the SDL is unchanged;
/// the SDL drift test would show otherwise.)
#[derive(Debug, Default)]
pub struct TimelineEdges(pub Vec<TimelineEdge>);

impl OutputType for TimelineEdges {
    fn type_name() -> Cow<'static, str> {
        <Vec<TimelineEdge> as OutputType>::type_name()
    }

    fn qualified_type_name() -> String {
        <Vec<TimelineEdge> as OutputType>::qualified_type_name()
    }

    fn create_type_info(registry: &mut Registry) -> String {
        <Vec<TimelineEdge> as OutputType>::create_type_info(registry)
    }

    async fn resolve(
        &self,
        ctx: &ContextSelectionSet<'_>,
        field: &Positioned<Field>,
    ) -> ServerResult<Value> {
        let mut values = Vec::with_capacity(self.0.len());
        for (index, edge) in self.0.iter().enumerate() {
            let ctx_index = ctx.with_index(index);
            let value = OutputType::resolve(edge, &ctx_index, field)
                .await
                .map_err(|error| ctx_index.set_error_path(error))?;
            values.push(value);
        }
        Ok(Value::List(values))
    }
}

/// The timeline field's arguments, as the client sent them.
#[derive(Debug, Default)]
pub struct TimelineArguments {
    pub first: Option<i32>,
    pub after: Option<String>,
    pub last: Option<i32>,
    pub before: Option<String>,
    pub channels: Option<Vec<Channel>>,
    pub kinds: Option<Vec<String>>,
    pub from: Option<DateTime>,
    pub to: Option<DateTime>,
}

impl TimelineArguments {
    /// The page to read and the argument names its errors refer to.
    fn request(&self) -> ApiResult<(PageRequest, PageArguments)> {
        let forward = self.first.is_some() || self.after.is_some();
        let backward = self.last.is_some() || self.before.is_some();
        if forward && backward {
            return Err(ApiError::validation(
                "last",
                "page with first/after or with last/before, not both",
            ));
        }
        if backward {
            let last = page_size("last", self.last, TIMELINE_PAGE_DEFAULT, TIMELINE_PAGE_MAX)?;
            return Ok((
                PageRequest::Last {
                    last,
                    before: self.before.clone(),
                },
                PageArguments::BACKWARD,
            ));
        }
        let first = page_size(
            "first",
            self.first,
            TIMELINE_PAGE_DEFAULT,
            TIMELINE_PAGE_MAX,
        )?;
        Ok((
            PageRequest::First {
                first,
                after: self.after.clone(),
            },
            PageArguments::FORWARD,
        ))
    }

    fn filter(&self) -> TimelineFilter {
        TimelineFilter {
            channels: self.channels.as_deref().map(to_domain).unwrap_or_default(),
            kinds: self.kinds.clone().unwrap_or_default(),
            from: self.from.map(|from| from.0),
            to: self.to.map(|to| to.0),
        }
    }
}

/// One page of `customer`'s timeline in `state`.
pub fn timeline_page(
    state: &dyn StateRead,
    customer: CustomerId,
    arguments: TimelineArguments,
    masked: bool,
) -> ApiResult<TimelineConnection> {
    let (request, names) = arguments.request()?;
    let page = customer_timeline::page(state, customer, &arguments.filter(), &request)
        .map_err(|error| timeline_error(error, names))?;
    let total = customer_timeline::entry_count(state, customer)?;
    Ok(TimelineConnection {
        edges: TimelineEdges(
            page.entries
                .into_iter()
                .map(|(cursor, entry)| TimelineEdge {
                    cursor,
                    node: TimelineEntry::new(entry, masked),
                })
                .collect(),
        ),
        page_info: PageInfo {
            has_next_page: page.has_next_page,
            has_previous_page: page.has_previous_page,
            start_cursor: page.start_cursor,
            end_cursor: page.end_cursor,
        },
        total_count: int(total),
    })
}

/// The newest `count` entries of `customer`'s timeline (a screen pop's recent history).
pub fn latest_entries(
    state: &dyn StateRead,
    customer: CustomerId,
    count: usize,
    masked: bool,
) -> ApiResult<Vec<TimelineEntry>> {
    let request = PageRequest::First {
        first: count,
        after: None,
    };
    let page = customer_timeline::page(state, customer, &TimelineFilter::default(), &request)
        .map_err(|error| timeline_error(error, PageArguments::FORWARD))?;
    Ok(page
        .entries
        .into_iter()
        .map(|(_, entry)| TimelineEntry::new(entry, masked))
        .collect())
}
