//! A customer's timeline: the `TimelineEntry` type and one page of it, read from any state (the
//! live read model, or one rebuilt as of a past position for `customerAsOf`).
//!
//! Masked callers see `summary` as `[masked]` (it holds names, identifiers and free text), and
//! policy and claim numbers through the domain's mask, in their own fields and where the title
//! names them. Titles hold nothing else personal (see the timeline crate).

use std::borrow::Cow;

use async_graphql::indexmap::IndexMap;
use async_graphql::indexmap::map::Entry;
use async_graphql::parser::types::{Field, Selection, SelectionSet};
use async_graphql::registry::Registry;
use async_graphql::{
    ContainerType, Context, ContextSelectionSet, ID, Name, Object, OutputType, Positioned,
    ServerResult, SimpleObject, Value,
};
use customer_timeline::{PageRequest, TIMELINE_PAGE_MAX, TimelineFilter};
use ledger_domain::ids::CustomerId;
use ledger_domain::projection::StateRead;
use ledger_domain::values::{Identifier, IdentifierKind};

use crate::access::MASKED_TEXT;
use crate::connection::{NonNullObject, PageInfo, page_size};
use crate::cursor::shown_cursor;
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

    /// The personal data of the customer it was recorded for was erased, or cannot be opened
    /// in this ledger (the customer's data key stayed in the ledger this one's history was
    /// exported from): `summary` is null.
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
#[derive(Debug)]
pub struct TimelineEdge {
    /// The read model's cursor; the caller gets it through `shown_cursor`.
    pub cursor: String,
    pub node: TimelineEntry,
}

/// One timeline entry and the cursor that pages on from it.
// `serial`, as `TimelineEntry`: its fields never wait. `node` is `{}`, not async-graphql's
// `null`, when its selection picks no field (see `NonNullObject`); [`resolve_plain`] does the
// same on the fast path.
#[Object(serial)]
impl TimelineEdge {
    /// Pass as `after` (or `before`) to read on from this entry (opaque: see `PageInfo`).
    async fn cursor(&self, ctx: &Context<'_>) -> ApiResult<String> {
        shown_cursor(ctx, &self.cursor)
    }

    async fn node(&self) -> NonNullObject<'_, TimelineEntry> {
        NonNullObject(&self.node)
    }
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
///
/// When the edges' and entries' selections are plain fields (no fragment, no directive left
/// after `@skip`/`@include` were applied), which is what the API's screens send, each edge and
/// entry is built here by [`resolve_plain`] rather than by async-graphql's container
/// resolution, which boxes a future per field and inserts each value into a map grown one
/// field at a time with two lookups (a fifth of the server's CPU on a page of 50). Any other
/// selection goes through async-graphql as before. Either way an edge or an entry whose
/// selection picks no field is `{}` (the spec's answer), not `null` in a non-null place.
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
        let plain = plain_fields(&ctx.item.node).is_some_and(|fields| {
            fields
                .filter(|edge_field| edge_field.node.name.node == "node")
                .all(|node| plain_fields(&node.node.selection_set.node).is_some())
        });
        let mut values = Vec::with_capacity(self.0.len());
        for (index, edge) in self.0.iter().enumerate() {
            let ctx_index = ctx.with_index(index);
            let value = if plain {
                resolve_plain(edge, &ctx_index).await
            } else {
                OutputType::resolve(&NonNullObject(edge), &ctx_index, field)
                    .await
                    .map_err(|error| ctx_index.set_error_path(error))?
            };
            values.push(value);
        }
        Ok(Value::List(values))
    }
}

/// The fields of a selection set that holds nothing but fields without directives; `None`
/// when it holds a fragment or a directive.
fn plain_fields(selection_set: &SelectionSet) -> Option<impl Iterator<Item = &Positioned<Field>>> {
    let plain = selection_set.items.iter().all(|selection| {
        matches!(&selection.node, Selection::Field(field) if field.node.directives.is_empty())
    });
    plain.then(|| {
        selection_set
            .items
            .iter()
            .filter_map(|selection| match &selection.node {
                Selection::Field(field) => Some(field),
                _ => None,
            })
    })
}

/// An edge or an entry: an object [`resolve_plain`] builds.
trait PlainObject: ContainerType {
    /// The value of `field` when it is not simply the object's own resolver's (an edge's
    /// `node`, built by [`resolve_plain`] too).
    async fn resolve_own(&self, _ctx: &Context<'_>) -> Option<ServerResult<Option<Value>>> {
        None
    }
}

impl PlainObject for TimelineEntry {}

impl PlainObject for TimelineEdge {
    async fn resolve_own(&self, ctx: &Context<'_>) -> Option<ServerResult<Option<Value>>> {
        if ctx.item.node.name.node != "node" {
            return None;
        }
        let ctx_node = ctx.with_selection_set(&ctx.item.node.selection_set);
        Some(Ok(Some(resolve_plain(&self.node, &ctx_node).await)))
    }
}

/// Resolves `object` for a selection of plain fields (see [`plain_fields`]) exactly as
/// async-graphql's serial container resolution does (`resolve_container_serial`): each field in
/// the selection's order through the object's own resolver (`__typename` by its type name), a
/// field's error added to the response and the field left out, a response key selected twice
/// merged into the first, and `null` for an object none of whose selected fields resolved
/// (an object with nothing selected is `{}`, as the spec has it and async-graphql since 7.1
/// does not, see `NonNullObject`). What it leaves out is the machinery: no boxed future per
/// field, and one map sized once.
async fn resolve_plain<T: PlainObject + Sync>(object: &T, ctx: &ContextSelectionSet<'_>) -> Value {
    let items = &ctx.item.node.items;
    let mut results = IndexMap::with_capacity(items.len());
    for selection in items {
        let Selection::Field(field) = &selection.node else {
            continue;
        };
        let ctx_field = ctx.with_field(field);
        let name = field.node.response_key().node.clone();
        let resolved = if field.node.name.node == "__typename" {
            Ok(Some(Value::String(
                object.introspection_type_name().into_owned(),
            )))
        } else {
            match object.resolve_own(&ctx_field).await {
                Some(resolved) => resolved,
                None => object.resolve_field(&ctx_field).await,
            }
        };
        match resolved {
            Ok(value) => insert_value(&mut results, name, value.unwrap_or_default()),
            Err(error) => ctx.add_error(error),
        }
    }
    if results.is_empty() && !items.is_empty() {
        Value::Null
    } else {
        Value::Object(results)
    }
}

/// async-graphql's `insert_value` (private there): a key resolved twice keeps its first value,
/// with objects (and lists of objects) merged field by field.
fn insert_value(target: &mut IndexMap<Name, Value>, name: Name, value: Value) {
    match target.entry(name) {
        Entry::Vacant(vacant) => {
            vacant.insert(value);
        }
        Entry::Occupied(mut occupied) => match (occupied.get_mut(), value) {
            (Value::Object(target_map), Value::Object(object)) => {
                for (key, value) in object {
                    insert_value(target_map, key, value);
                }
            }
            (Value::List(target_list), Value::List(list)) => {
                for (index, value) in list.into_iter().enumerate() {
                    if let (Some(Value::Object(target_map)), Value::Object(object)) =
                        (target_list.get_mut(index), value)
                    {
                        for (key, value) in object {
                            insert_value(target_map, key, value);
                        }
                    }
                }
            }
            _ => {}
        },
    }
}

/// The rule a timeline request breaks when it pages both ways at once.
pub const MIXED_DIRECTIONS_RULE: &str =
    "page forward with first/after or backward with last/before, not both";

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
            // Name an argument the client sent: the backward one, `last` or else `before`.
            let field = if self.last.is_some() {
                "last"
            } else {
                "before"
            };
            return Err(ApiError::validation(field, MIXED_DIRECTIONS_RULE));
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
