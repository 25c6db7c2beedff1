//! Subscriptions: the raw event feed (`ledgerEvents`), one customer's activity
//! (`customerActivity`), and the agent's screen pop (`screenPop`).
//!
//! Each follows the log through a store subscription, which first catches up from its start
//! position and then waits for new durable records, with no gap and no duplicate at the
//! hand-over. Streams are pulled: a slow client holds back only its own subscription, which
//! buffers at most one store page. A stream ends when the log closes; a store failure is
//! delivered as one `UNAVAILABLE` error and ends it.
//!
//! - `ledgerEvents(afterPosition, types)`: every record after `afterPosition` (default: the
//!   head when subscribing, so only new records), optionally of some types only.
//! - `customerActivity(customerId)`: new records that concern the customer or a customer merged
//!   into it, including merges made while subscribed.
//! - `screenPop(agent)`: when a contact handled by `agent` is recorded for a known customer, the
//!   customer's summary and latest [`SCREEN_POP_ENTRIES`] timeline entries, read once the read
//!   models have applied that contact. Agents may only watch their own screen pops.
//!
//! Each `customerActivity` and `screenPop` delivery is recorded as a read of its customer in
//! the access log before it is delivered (see [`crate::access_records`]); `ledgerEvents`
//! records a read when a delivered event's `payload` is read.

use std::collections::HashSet;
use std::sync::Arc;

use async_graphql::futures_util::Stream;
use async_graphql::futures_util::stream;
use async_graphql::{Context, ID, Object, Subscription};
use ledger_app::names::{CUSTOMER_DIRECTORY, CUSTOMER_TIMELINE};
use ledger_app::personal::KeyRing;
use ledger_domain::events::{ContactRecorded, Event, Payload};
use ledger_domain::ids::{CustomerId, StaffId};
use ledger_store::{
    EventLog, ProjectionSpace, RecordedEvent, StoreFailure, Subscription as LogSubscription,
};

use crate::access::{Caller, RootAccess, caller, masked, require, shown_stream};
use crate::access_records::record_for;
use crate::audit::{LedgerEvent, check_event_types, not_past_head};
use crate::customers::Customer;
use crate::errors::{ApiError, ApiResult};
use crate::scalars::{DateTime, Position};
use crate::state::{ApiState, state};
use crate::timeline::{TimelineEntry, latest_entries};
use crate::vocabulary::{Channel, Direction, Topic};

/// Timeline entries a screen pop carries: what an agent glances at while saying hello.
pub const SCREEN_POP_ENTRIES: usize = 5;

/// Customers one `customerActivity` subscription watches: the customer and those merged into
/// it. Real merge trees are a handful; the bound keeps a corrupt one from growing a set
/// without end.
pub const WATCHED_CUSTOMERS_MAX: usize = 1024;

/// The next record of `subscription`, or `None` when the log closed; a failure is an error.
async fn next_record(subscription: &mut LogSubscription) -> Option<ApiResult<RecordedEvent>> {
    match subscription.next().await {
        Ok(record) => Some(Ok(record)),
        Err(StoreFailure::Closed) => None,
        Err(failure) => Some(Err(ApiError::from(failure))),
    }
}

/// The decoded event of a record (personal fields opened with the ledger's data keys).
fn decoded(keys: &KeyRing, record: &RecordedEvent) -> ApiResult<Event> {
    Ok(ledger_app::runner::decode(keys, record)?)
}

/// A new record that concerns a watched customer.
#[derive(Debug, Clone)]
pub struct CustomerActivity {
    record: RecordedEvent,
    customer: CustomerId,
}

#[Object]
impl CustomerActivity {
    async fn position(&self) -> Position {
        self.record.position.into()
    }

    async fn event_id(&self) -> ID {
        ID(self.record.event.event_id.to_string())
    }

    async fn event_type(&self) -> &str {
        &self.record.event.event_type
    }

    /// The stream the event went to; a policy's or claim's number in it is masked for
    /// analysts.
    async fn stream(&self, ctx: &Context<'_>) -> String {
        shown_stream(&self.record.stream, masked(ctx))
    }

    async fn occurred_at(&self) -> DateTime {
        self.record.event.occurred_at.into()
    }

    async fn recorded_at(&self) -> DateTime {
        self.record.recorded_at.into()
    }

    async fn actor(&self) -> &str {
        self.record.event.actor.as_str()
    }

    /// The watched customer the event names: the one subscribed to, or one merged into it.
    async fn customer_id(&self) -> ID {
        ID(self.customer.to_string())
    }
}

/// What an agent's screen shows when a contact they handle is recorded.
#[derive(Debug, Clone)]
pub struct ScreenPop {
    position: ledger_domain::ids::Position,
    contact: ContactRecorded,
    customer: Customer,
    recent: Vec<TimelineEntry>,
}

#[Object]
impl ScreenPop {
    /// The contact's position: read anything else about it consistently with this.
    async fn position(&self) -> Position {
        self.position.into()
    }

    async fn contact_id(&self) -> ID {
        ID(self.contact.contact_id.to_string())
    }

    async fn channel(&self) -> Channel {
        self.contact.channel.into()
    }

    async fn direction(&self) -> Direction {
        self.contact.direction.into()
    }

    async fn topic(&self) -> Topic {
        self.contact.topic.into()
    }

    async fn started_at(&self) -> DateTime {
        self.contact.started_at.into()
    }

    /// The customer (the survivor, if the contact's customer was merged).
    async fn customer(&self) -> &Customer {
        &self.customer
    }

    /// The customer's latest timeline entries, newest first: the new contact among them, unless
    /// it was entered after the fact and newer entries fill the list.
    async fn recent_entries(&self) -> &[TimelineEntry] {
        &self.recent
    }
}

/// The customer and every customer merged into it, transitively, as `directory` knows them.
fn merge_tree(directory: &ProjectionSpace, root: CustomerId) -> ApiResult<HashSet<CustomerId>> {
    let mut watched = HashSet::from([root]);
    let mut pending = vec![root];
    while let Some(customer) = pending.pop() {
        let Some(record) = customer_directory::customer(directory, customer)? else {
            continue;
        };
        for merged in record.merged_from {
            if watched.len() >= WATCHED_CUSTOMERS_MAX {
                return Err(ApiError::unavailable(
                    "customerActivity",
                    &format!(
                        "customer {root} has more than {WATCHED_CUSTOMERS_MAX} merged customers"
                    ),
                ));
            }
            if watched.insert(merged) {
                pending.push(merged);
            }
        }
    }
    Ok(watched)
}

/// The screen pop for a recorded contact, once the read models have applied it; `None` when
/// the directory does not know the customer.
async fn screen_pop(
    state: &ApiState,
    caller: &Caller,
    record: &RecordedEvent,
    contact: ContactRecorded,
    masked: bool,
) -> ApiResult<Option<ScreenPop>> {
    // Every read model, not only the two read here: the customer's nested fields read others.
    state.wait_for(record.position, None).await?;
    let directory = state
        .read_model_at(CUSTOMER_DIRECTORY, record.position)
        .await?;
    let survivor = customer_directory::survivor(&directory, contact.customer_id)?;
    let Some(customer) = customer_directory::customer(&directory, survivor)? else {
        return Ok(None);
    };
    let timeline = state
        .read_model_at(CUSTOMER_TIMELINE, record.position)
        .await?;
    let recent = latest_entries(&timeline, survivor, SCREEN_POP_ENTRIES, masked)?;
    record_for(state, caller, survivor, "screenPop").await?;
    Ok(Some(ScreenPop {
        position: record.position,
        contact,
        customer: Customer::new(customer),
        recent,
    }))
}

/// The root subscription type.
#[derive(Debug, Default)]
pub struct SubscriptionRoot;

#[Subscription(name = "Subscription", guard = "RootAccess")]
impl SubscriptionRoot {
    /// Every record after `afterPosition` (default: from now on), optionally of some event types
    /// only: catch-up, then live, with no gap.
    async fn ledger_events(
        &self,
        ctx: &Context<'_>,
        after_position: Option<Position>,
        types: Option<Vec<String>>,
    ) -> Result<impl Stream<Item = ApiResult<LedgerEvent>>, ApiError> {
        let state = state(ctx)?;
        let types = types.unwrap_or_default();
        check_event_types("types", &types)?;
        let log = state.ledger.log();
        let after = after_position.map_or_else(|| log.head().position, |after| after.0);
        not_past_head("afterPosition", after, log.head().position)?;
        let subscription = log.subscribe(after.next());
        Ok(stream::unfold(
            Some((subscription, types)),
            |feed| async move {
                let (mut subscription, types) = feed?;
                loop {
                    match next_record(&mut subscription).await? {
                        Ok(record)
                            if types.is_empty() || types.contains(&record.event.event_type) =>
                        {
                            return Some((
                                Ok(LedgerEvent::new(record)),
                                Some((subscription, types)),
                            ));
                        }
                        Ok(_) => {}
                        Err(error) => return Some((Err(error), None)),
                    }
                }
            },
        ))
    }

    /// New records that concern the customer or a customer merged into it, from now on.
    async fn customer_activity(
        &self,
        ctx: &Context<'_>,
        customer_id: ID,
    ) -> Result<impl Stream<Item = ApiResult<CustomerActivity>>, ApiError> {
        let customer = CustomerId::parse("customerId", &customer_id)?;
        let caller = caller(ctx)?.clone();
        let state = Arc::clone(state(ctx)?);
        // The merge tree as of the head, then every record after it: no merge is missed.
        let head = state.ledger.log().head().position;
        let directory = state.read_model_at(CUSTOMER_DIRECTORY, head).await?;
        if customer_directory::customer(&directory, customer)?.is_none() {
            return Err(ApiError::not_found(format!("customer {customer}")));
        }
        let watched = merge_tree(&directory, customer)?;
        let subscription = state.ledger.log().subscribe(head.next());
        Ok(stream::unfold(
            Some((subscription, watched, state, caller)),
            |feed| async move {
                let (mut subscription, mut watched, state, caller) = feed?;
                loop {
                    let record = match next_record(&mut subscription).await? {
                        Ok(record) => record,
                        Err(error) => return Some((Err(error), None)),
                    };
                    let event = match decoded(state.ledger.keys(), &record) {
                        Ok(event) => event,
                        Err(error) => return Some((Err(error), None)),
                    };
                    if let Event::CustomersMerged(merge) = &event
                        && watched.contains(&merge.survivor_id)
                        && watched.len() < WATCHED_CUSTOMERS_MAX
                    {
                        watched.insert(merge.customer_id);
                    }
                    if let Some(named) = event
                        .customer_ids()
                        .into_iter()
                        .find(|id| watched.contains(id))
                    {
                        // Delivered only once recorded; a read that cannot be recorded ends
                        // the feed.
                        if let Err(error) =
                            record_for(&state, &caller, named, "customerActivity").await
                        {
                            return Some((Err(error), None));
                        }
                        return Some((
                            Ok(CustomerActivity {
                                record,
                                customer: named,
                            }),
                            Some((subscription, watched, state, caller)),
                        ));
                    }
                }
            },
        ))
    }

    /// A screen pop whenever a contact handled by `agent` is recorded for a known customer,
    /// from now on. Agents may only watch their own (`agent` = their subject).
    async fn screen_pop(
        &self,
        ctx: &Context<'_>,
        agent: String,
    ) -> Result<impl Stream<Item = ApiResult<ScreenPop>>, ApiError> {
        let caller = caller(ctx)?.clone();
        let agent = StaffId::parse("agent", &agent)?;
        if caller.subject != agent.as_str() {
            require(ctx, "screenPop.anyAgent")?;
        }
        let masked = masked(ctx);
        let state = Arc::clone(state(ctx)?);
        let subscription = state
            .ledger
            .log()
            .subscribe(state.ledger.log().head().position.next());
        Ok(stream::unfold(
            Some((subscription, agent, state, caller)),
            move |feed| async move {
                let (mut subscription, agent, state, caller) = feed?;
                loop {
                    let record = match next_record(&mut subscription).await? {
                        Ok(record) => record,
                        Err(error) => return Some((Err(error), None)),
                    };
                    if record.event.event_type != ContactRecorded::NAME {
                        continue;
                    }
                    let contact = match decoded(state.ledger.keys(), &record) {
                        Ok(Event::ContactRecorded(contact)) => contact,
                        Ok(_) => continue,
                        Err(error) => return Some((Err(error), None)),
                    };
                    if contact.agent != agent {
                        continue;
                    }
                    match screen_pop(&state, &caller, &record, contact, masked).await {
                        Ok(Some(pop)) => {
                            return Some((Ok(pop), Some((subscription, agent, state, caller))));
                        }
                        Ok(None) => {}
                        // A lagging read model (or an access log that cannot record the pop)
                        // fails this pop only; the feed goes on.
                        Err(error) => {
                            return Some((Err(error), Some((subscription, agent, state, caller))));
                        }
                    }
                }
            },
        ))
    }
}
