//! The auditors' queries: the raw log (`events`), its head and Merkle root (`ledger`), a check of
//! the hash chain (`verifyLedger`) and a customer's timeline as it stood at a past position
//! (`customerAsOf`). Auditors see the record as written, unmasked.
//!
//! `verifyLedger` and `customerAsOf` walk up to the whole log on a blocking thread, at most
//! [`HEAVY_READS_CONCURRENT_MAX`](crate::state::HEAVY_READS_CONCURRENT_MAX) at a time.

use std::sync::Arc;

use async_graphql::{ComplexObject, Context, ID, Object, SimpleObject};
use ledger_app::names::CUSTOMER_TIMELINE;
use ledger_domain::events::{CATALOGUE, Event};
use ledger_domain::ids::{CustomerId, StreamId};
use ledger_domain::projection::MemoryState;
use ledger_store::limits::READ_PAGE_MAX;
use ledger_store::{EventLog, RecordedEvent, SledEventLog};

use crate::access::{RootAccess, masked, shown_stream};
use crate::access_records::record_read;
use crate::connection::{connection, cost, cost_either_way, page_size};
use crate::cursor::received_cursor;
use crate::errors::{ApiError, ApiResult};
use crate::marketing::customers_of_enquiry;
use crate::proofs::{on_tree, proof_error};
use crate::scalars::{Count, DateTime, Position, int};
use crate::state::{ApiState, state};
use crate::timeline::{
    TIMELINE_PAGE_DEFAULT, TimelineArguments, TimelineConnection, timeline_page,
};
use crate::vocabulary::Channel;
use customer_timeline::TIMELINE_PAGE_MAX;

/// Events per page when `first` is not given.
pub const EVENTS_PAGE_DEFAULT: usize = 100;

/// The most events one `events` page holds. Payloads are a few hundred bytes to a few KiB as
/// JSON, so 500 keeps a response within a few MiB; an auditor exporting everything uses the
/// command line's `export` instead.
pub const EVENTS_PAGE_MAX: usize = 500;

/// The most records one `events` request reads when `types` is selective. A read decodes each
/// record (about a microsecond), so 100,000 keeps a request near a tenth of a second; past the
/// bound the page ends early with `hasNextPage` and an `endCursor` at the last record read, so
/// paging on skips nothing.
pub const EVENTS_SCAN_MAX: usize = 100_000;

/// The most events `customerAsOf` replays to rebuild a timeline. Replaying is about a
/// microsecond an event in memory, so two million is a couple of seconds and a few hundred MiB
/// of state at worst; a larger ledger's history is rebuilt with `contact-ledger replay --to`.
pub const AS_OF_EVENTS_MAX: u64 = 2_000_000;

/// One record of the log, as written: its envelope, its link in the hash chain and its
/// decoded payload.
#[derive(Debug, Clone)]
pub struct LedgerEvent {
    record: RecordedEvent,
}

impl LedgerEvent {
    pub fn new(record: RecordedEvent) -> Self {
        Self { record }
    }
}

#[Object]
impl LedgerEvent {
    async fn position(&self) -> Position {
        self.record.position.into()
    }

    async fn event_id(&self) -> ID {
        ID(self.record.event.event_id.to_string())
    }

    /// The stream the event went to; a policy's or claim's number in it is masked for a caller
    /// who sees numbers masked, as everywhere else.
    async fn stream(&self, ctx: &Context<'_>) -> String {
        shown_stream(&self.record.stream, masked(ctx))
    }

    /// 1-based index of the event within its stream.
    async fn stream_version(&self) -> Count {
        Count(self.record.stream_version)
    }

    async fn event_type(&self) -> &str {
        &self.record.event.event_type
    }

    async fn schema_version(&self) -> i32 {
        i32::from(self.record.event.schema_version)
    }

    /// Business time.
    async fn occurred_at(&self) -> DateTime {
        self.record.event.occurred_at.into()
    }

    /// Ledger time: when the group holding the record was committed.
    async fn recorded_at(&self) -> DateTime {
        self.record.recorded_at.into()
    }

    /// Who recorded it (a member of staff or a system).
    async fn actor(&self) -> &str {
        self.record.event.actor.as_str()
    }

    async fn correlation_id(&self) -> Option<ID> {
        self.record
            .event
            .correlation_id
            .map(|id| ID(id.to_string()))
    }

    async fn causation_id(&self) -> Option<ID> {
        self.record.event.causation_id.map(|id| ID(id.to_string()))
    }

    /// The channel system the event came from.
    async fn origin(&self) -> Option<&str> {
        self.record.event.origin.as_deref()
    }

    /// The payload as JSON, in the event interchange's shape. Reading it is recorded as a read
    /// of each customer the event concerns (operation `ledgerEvent.payload`); an online
    /// enquiry's concerns its sender, or, from nobody known, each customer whose contact names
    /// it (the lead is erased with them).
    async fn payload(&self, ctx: &Context<'_>) -> ApiResult<serde_json::Value> {
        let event = ledger_app::runner::decode(state(ctx)?.ledger.keys(), &self.record)?;
        for customer in concerned_customers(ctx, &event, self.record.position).await? {
            record_read(ctx, customer, "ledgerEvent.payload").await?;
        }
        Ok(event.to_json())
    }

    /// The hash of the record before (64 zero digits at position 1), lower-case hex.
    async fn prev_hash(&self) -> String {
        hex_string(&self.record.prev_hash)
    }

    /// blake3(prevHash ‖ record bytes), lower-case hex.
    async fn hash(&self) -> String {
        hex_string(&self.record.hash)
    }
}

/// The customers whose personal data the event at `position` holds, each once: those it
/// names, and for an online enquiry the customers it is (see
/// [`crate::marketing::customers_of_enquiry`]), which a lead from nobody known does not name.
async fn concerned_customers(
    ctx: &Context<'_>,
    event: &Event,
    position: ledger_domain::ids::Position,
) -> ApiResult<Vec<CustomerId>> {
    let mut customers = event.customer_ids();
    if let Event::OnlineEnquiryReceived(enquiry) = event {
        for customer in customers_of_enquiry(ctx, enquiry.enquiry_id, position).await? {
            if !customers.contains(&customer) {
                customers.push(customer);
            }
        }
    }
    Ok(customers)
}

fn hex_string(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

connection!(
    /// A page of the log, in position order.
    LedgerEventConnection,
    LedgerEventEdge,
    LedgerEvent
);

/// The durable end of the hash chain, and the Merkle tree over the records up to it.
#[derive(SimpleObject, Debug, Clone)]
#[graphql(complex)]
pub struct LedgerHead {
    /// The last durable position ("0" when the log is empty).
    pub head_position: Position,
    /// The hash of the record at the head, lower-case hex.
    pub head_hash: String,
    pub event_count: Count,
}

#[ComplexObject]
impl LedgerHead {
    /// Records in the Merkle tree this answer describes: always `headPosition`.
    async fn tree_size(&self) -> Position {
        self.head_position
    }

    /// The RFC 9162 Merkle root over the records' chain hashes up to `headPosition` (leaf
    /// `i` is position `i + 1`), lower-case hex: what `inclusionProof` and
    /// `consistencyProof` prove against, and what `signedCheckpoint` signs. Read only when
    /// asked for: the first read after a start may build the tree.
    async fn root_hash(&self, ctx: &Context<'_>) -> ApiResult<String> {
        let size = self.head_position.0.get();
        on_tree(state(ctx)?, move |ledger| {
            ledger
                .root_at(size)
                .map(|root| root.to_hex())
                .map_err(proof_error)
        })
        .await
    }
}

/// What `verifyLedger` found.
#[derive(SimpleObject, Debug, Clone)]
pub struct VerifyReport {
    /// True when the whole log checked out: every hash recomputes, positions are contiguous,
    /// every index agrees with the records.
    pub ok: bool,
    /// Records checked (always the whole log: the chain cannot be checked from the middle).
    pub events: Count,
    /// The head as recomputed from the records.
    pub head_position: Position,
    pub head_hash: String,
    /// The range asked about (`from`..=`to`); problems outside it are only counted.
    pub from: Position,
    pub to: Position,
    /// Problems at positions in the range, and problems that belong to no record.
    pub problems: Vec<VerifyProblem>,
    pub problems_outside_range: i32,
}

/// One thing `verifyLedger` found wrong.
#[derive(SimpleObject, Debug, Clone)]
pub struct VerifyProblem {
    pub position: Option<Position>,
    pub message: String,
}

/// A customer's timeline as it stood right after a past position, rebuilt from the log.
#[derive(Debug, Clone)]
pub struct CustomerAsOf {
    customer: CustomerId,
    position: ledger_domain::ids::Position,
    timeline: Arc<MemoryState>,
}

#[Object]
impl CustomerAsOf {
    async fn customer_id(&self) -> ID {
        ID(self.customer.to_string())
    }

    /// The position the timeline was rebuilt to.
    async fn position(&self) -> Position {
        self.position.into()
    }

    /// The timeline as it stood then, with the same arguments as `Customer.timeline`.
    #[graphql(
        complexity = "cost_either_way(first, last, TIMELINE_PAGE_DEFAULT, TIMELINE_PAGE_MAX) * child_complexity + 1"
    )]
    #[allow(
        clippy::too_many_arguments,
        reason = "one argument per GraphQL argument"
    )]
    async fn timeline(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        channels: Option<Vec<Channel>>,
        kinds: Option<Vec<String>>,
        from: Option<DateTime>,
        to: Option<DateTime>,
    ) -> ApiResult<TimelineConnection> {
        let after = received_cursor(ctx, "after", after)?;
        let before = received_cursor(ctx, "before", before)?;
        let arguments = TimelineArguments {
            first,
            after,
            last,
            before,
            channels,
            kinds,
            from,
            to,
        };
        timeline_page(
            self.timeline.as_ref(),
            self.customer,
            arguments,
            masked(ctx),
        )
    }
}

/// Refuses a position past the ledger's head named by `field`: a cursor of another ledger (or
/// of this one before a restore) would otherwise read as "nothing more", and a feed started
/// there would skip what comes before it.
pub fn not_past_head(
    field: &str,
    position: ledger_domain::ids::Position,
    head: ledger_domain::ids::Position,
) -> ApiResult<()> {
    if position > head {
        return Err(ApiError::validation(
            field,
            format!("position {position} is past the ledger's head ({head})"),
        ));
    }
    Ok(())
}

/// Checks that every name in `types` is an event type.
pub fn check_event_types(field: &str, types: &[String]) -> ApiResult<()> {
    match types
        .iter()
        .find(|name| !CATALOGUE.iter().any(|entry| entry.name == name.as_str()))
    {
        Some(unknown) => Err(ApiError::validation(
            field,
            format!("{unknown} is not an event type"),
        )),
        None => Ok(()),
    }
}

/// Where `events` reads from: the whole log, or one stream.
enum Source<'a> {
    Log,
    Stream(&'a StreamId),
}

impl Source<'_> {
    /// Up to [`READ_PAGE_MAX`] records after `after` (for a stream: from its version `version`).
    fn read(
        &self,
        log: &SledEventLog,
        after: ledger_domain::ids::Position,
        version: u64,
    ) -> ApiResult<Vec<RecordedEvent>> {
        Ok(match self {
            Self::Log => log.read_all(after.next(), READ_PAGE_MAX)?,
            Self::Stream(stream) => log.read_stream(stream, version, READ_PAGE_MAX)?,
        })
    }
}

/// The first version of `stream` recorded after `after`: a binary search over the stream's
/// versions (positions grow with versions), about twenty one-record reads for a million.
fn first_version_after(
    log: &SledEventLog,
    stream: &StreamId,
    after: ledger_domain::ids::Position,
) -> ApiResult<u64> {
    let (mut low, mut high) = (1, log.stream_version(stream).saturating_add(1));
    while low < high {
        let middle = low + (high - low) / 2;
        let position = log
            .read_stream(stream, middle, 1)?
            .first()
            .map(|record| record.position);
        match position {
            Some(position) if position > after => high = middle,
            _ => low = middle + 1,
        }
    }
    Ok(low)
}

/// One page of `events`.
fn events_page(
    log: &SledEventLog,
    after: ledger_domain::ids::Position,
    stream: Option<&StreamId>,
    types: &[String],
    first: usize,
) -> ApiResult<LedgerEventConnection> {
    let source = stream.map_or(Source::Log, Source::Stream);
    let mut version = match stream {
        Some(stream) => first_version_after(log, stream, after)?,
        None => 0,
    };
    let mut cursor = after;
    let mut matches = Vec::new();
    let mut read = 0;
    // One match more than asked tells whether a next page exists.
    while matches.len() <= first {
        if read >= EVENTS_SCAN_MAX {
            matches.truncate(first);
            let mut connection = connection_of(matches, true, after);
            connection.page_info.end_cursor = Some(cursor.to_string());
            return Ok(connection);
        }
        let page = source.read(log, cursor, version)?;
        let Some(last) = page.last() else { break };
        let (last_position, last_version) = (last.position, last.stream_version);
        for record in page {
            read += 1;
            if types.is_empty() || types.contains(&record.event.event_type) {
                matches.push(record);
                if matches.len() > first {
                    break;
                }
            }
        }
        if matches.len() > first {
            break;
        }
        cursor = last_position;
        version = last_version.saturating_add(1);
    }
    let has_next_page = matches.len() > first;
    matches.truncate(first);
    Ok(connection_of(matches, has_next_page, after))
}

fn connection_of(
    records: Vec<RecordedEvent>,
    has_next_page: bool,
    after: ledger_domain::ids::Position,
) -> LedgerEventConnection {
    let items = records
        .into_iter()
        .map(|record| (record.position.to_string(), LedgerEvent::new(record)))
        .collect();
    LedgerEventConnection::forward(
        items,
        has_next_page,
        after > ledger_domain::ids::Position::ZERO,
    )
}

/// The auditors' queries.
#[derive(Debug, Default)]
pub struct AuditQueries;

#[Object(guard = "RootAccess")]
impl AuditQueries {
    /// The log in position order, after `after` (exclusive; cursors are positions), optionally
    /// one stream's events only and only some event types.
    #[graphql(
        complexity = "cost(first, EVENTS_PAGE_DEFAULT, EVENTS_PAGE_MAX) * child_complexity + 1"
    )]
    async fn events(
        &self,
        ctx: &Context<'_>,
        after: Option<Position>,
        stream: Option<String>,
        types: Option<Vec<String>>,
        first: Option<i32>,
    ) -> ApiResult<LedgerEventConnection> {
        let first = page_size("first", first, EVENTS_PAGE_DEFAULT, EVENTS_PAGE_MAX)?;
        let stream = stream
            .map(|stream| StreamId::parse("stream", &stream))
            .transpose()?;
        let types = types.unwrap_or_default();
        check_event_types("types", &types)?;
        let after = after.map_or(ledger_domain::ids::Position::ZERO, |after| after.0);
        not_past_head("after", after, state(ctx)?.ledger.log().head().position)?;
        events_page(
            state(ctx)?.ledger.log(),
            after,
            stream.as_ref(),
            &types,
            first,
        )
    }

    /// The durable head of the hash chain, and the Merkle tree's size and root there.
    async fn ledger(&self, ctx: &Context<'_>) -> ApiResult<LedgerHead> {
        let head = state(ctx)?.ledger.log().head();
        Ok(LedgerHead {
            head_position: head.position.into(),
            head_hash: head.hash_hex(),
            event_count: Count(head.event_count),
        })
    }

    /// Recomputes the whole hash chain and checks every index against the records. `from` and
    /// `to` (inclusive, default the whole log) bound which problems are listed; the check always
    /// covers the whole log, since a chain cannot be checked from its middle. Either past the
    /// head is refused, as a range the ledger does not hold.
    async fn verify_ledger(
        &self,
        ctx: &Context<'_>,
        from: Option<Position>,
        to: Option<Position>,
    ) -> ApiResult<VerifyReport> {
        let state = state(ctx)?;
        let head = state.ledger.log().head().position;
        for (field, position) in [("from", from), ("to", to)] {
            if let Some(position) = position {
                not_past_head(field, position.0, head)?;
            }
        }
        let from = from.map_or(ledger_domain::ids::Position(1), |from| from.0);
        let to = to.map_or(ledger_domain::ids::Position(u64::MAX), |to| to.0);
        if to < from {
            return Err(ApiError::validation(
                "to",
                "the range must not end before it starts",
            ));
        }
        let report = heavy_read(state, |ledger| Ok(ledger.log().verify())).await?;
        let in_range = |problem: &ledger_store::Problem| {
            problem
                .position
                .is_none_or(|position| (from..=to).contains(&position))
        };
        let (listed, outside): (Vec<_>, Vec<_>) = report.problems.into_iter().partition(in_range);
        Ok(VerifyReport {
            ok: report.ok,
            events: Count(report.events),
            head_position: report.head.position.into(),
            head_hash: report.head.hash_hex(),
            from: from.into(),
            to: to.min(report.head.position).into(),
            problems: listed
                .into_iter()
                .map(|problem| VerifyProblem {
                    position: problem.position.map(Into::into),
                    message: problem.message,
                })
                .collect(),
            problems_outside_range: int(u64::try_from(outside.len()).unwrap_or(u64::MAX)),
        })
    }

    /// The customer's timeline as it stood right after `position`, rebuilt from the log without
    /// touching the live read model. Personal text erased since then reads as erased
    /// (`erased: true`, no summary): the erasure destroyed it. Refused past the head, and beyond `AS_OF_EVENTS_MAX`
    /// events to replay. `NOT_FOUND` when the customer did not exist then: never registered, or
    /// registered after `position` (the error names the position it was registered at).
    async fn customer_as_of(
        &self,
        ctx: &Context<'_>,
        id: ID,
        position: Position,
    ) -> ApiResult<CustomerAsOf> {
        let customer = CustomerId::parse("id", &id)?;
        let state = state(ctx)?;
        let head = state.ledger.log().head().position;
        if position.0 > head {
            return Err(ApiError::validation(
                "position",
                format!("position {} is past the ledger's head ({head})", position.0),
            ));
        }
        if position.0.get() > AS_OF_EVENTS_MAX {
            return Err(ApiError::validation(
                "position",
                format!(
                    "rebuilding as of position {} would replay more than AS_OF_EVENTS_MAX = {AS_OF_EVENTS_MAX} events; \
                     use `contact-ledger replay --to` for this",
                    position.0
                ),
            ));
        }
        let at = position.0;
        existed_at(state.ledger.log(), customer, at)?;
        // The live timeline tells which personal text was erased since: one that has not yet
        // applied the head the API started with would miss erasures and show erased text.
        let live = state.read_model(ctx, CUSTOMER_TIMELINE).await?;
        let timeline = heavy_read(state, move |ledger| {
            let mut past = ledger.runner().build_as_of(CUSTOMER_TIMELINE, at)?;
            // Personal text erased since reads as erased, not as the blanks it decodes to.
            customer_timeline::strip_erased_since(&mut past, &live, customer)?;
            Ok(past)
        })
        .await?;
        record_read(ctx, customer, "customerAsOf").await?;
        Ok(CustomerAsOf {
            customer,
            position: at,
            timeline: Arc::new(timeline),
        })
    }
}

/// Refuses a customer that did not exist right after `position`: never registered, or
/// registered later (the first event of its stream, its registration, is past `position`). An
/// empty timeline would not tell an auditor a wrong id from a customer with no history then.
fn existed_at(
    log: &SledEventLog,
    customer: CustomerId,
    position: ledger_domain::ids::Position,
) -> ApiResult<()> {
    let registered = log
        .read_stream(&StreamId::customer(customer), 1, 1)?
        .first()
        .map(|record| record.position);
    match registered {
        None => Err(ApiError::not_found(format!("customer {customer}"))),
        Some(registered) if registered > position => Err(ApiError::not_found(format!(
            "customer {customer} as of position {position} (it was registered later, at \
             position {registered})"
        ))),
        Some(_) => Ok(()),
    }
}

/// Runs `work` on a blocking thread once one of the heavy-read permits is free.
async fn heavy_read<T: Send + 'static>(
    state: &ApiState,
    work: impl FnOnce(&ledger_app::Ledger) -> ApiResult<T> + Send + 'static,
) -> ApiResult<T> {
    let _permit = Arc::clone(&state.heavy_reads)
        .acquire_owned()
        .await
        .map_err(|error| ApiError::unavailable("heavy-read gate", &error))?;
    let ledger = state.ledger.clone();
    tokio::task::spawn_blocking(move || work(&ledger))
        .await
        .map_err(|error| ApiError::unavailable("blocking task", &error))?
}
