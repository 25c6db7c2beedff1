//! Customers: the `Customer` type (from the customer directory, with its timeline, service
//! history and claims), the queries that find one, and the loader that batches record reads.
//!
//! A customer is shown as the directory holds it. `customer(id)` of a merged customer shows that
//! customer, with `mergedInto` naming the survivor (and its timeline stopping at the merge);
//! `customerByIdentifier` follows merges to the survivor, as an agent answering a call needs.
//!
//! Masked callers (analysts) see `name` and identifier values through the domain's mask
//! functions; `group` (the company group) is not personal data and stays readable. `policies`
//! are not served until a policy read model exists: the policy numbers linked to a customer
//! are in `knownIdentifiers` (kind `POLICY_NUMBER`).

use std::collections::HashMap;

use async_graphql::dataloader::Loader;
use async_graphql::{Context, ID, Object, SimpleObject};
use customer_directory::{CustomerRecord, NAME_SEARCH_PAGE_MAX, OwnedIdentifier};
use ledger_app::Ledger;
use ledger_app::names::{CUSTOMER_DIRECTORY, CUSTOMER_TIMELINE, SERVICE_HISTORY};
use ledger_domain::ids::CustomerId;
use ledger_domain::values::Identifier;

use crate::access::{RootAccess, masked, require};
use crate::access_records::record_read;
use crate::connection::{connection, cost, cost_either_way, page_size};
use crate::cursor::received_cursor;
use crate::errors::{ApiError, ApiResult, PageArguments, search_error};
use crate::performance::{AccountManagerPeriod, Handover};
use crate::scalars::DateTime;
use crate::segments::CustomerMetrics;
use crate::service::{
    ClaimConnection, HISTORY_PAGE_DEFAULT, ServiceHistoryConnection, customer_claims,
    service_history,
};
use crate::state::state;
use crate::timeline::{
    TIMELINE_PAGE_DEFAULT, TimelineArguments, TimelineConnection, timeline_page,
};
use crate::vocabulary::{Channel, CustomerKind, IdentifierKind};
use customer_timeline::TIMELINE_PAGE_MAX;
use ledger_domain::values::PERSON_NAME_CHARS_MAX;
use service_history::PAGE_SIZE_MAX as HISTORY_PAGE_MAX;

/// Customers per page when `first` is not given.
pub const CUSTOMERS_PAGE_DEFAULT: usize = 20;

/// Identifiers per `knownIdentifiers` page when `first` is not given.
pub const IDENTIFIERS_PAGE_DEFAULT: usize = 20;

/// Batches the customer-record reads of one moment (a page of cases, each naming its customer)
/// into one pass over the directory.
#[derive(Debug)]
pub struct CustomerLoader {
    pub ledger: Ledger,
}

impl Loader<CustomerId> for CustomerLoader {
    type Value = CustomerRecord;
    type Error = ApiError;

    async fn load(
        &self,
        keys: &[CustomerId],
    ) -> Result<HashMap<CustomerId, CustomerRecord>, ApiError> {
        // Not through `ApiState::wait_for`: a batch gathers the keys of many requests, each
        // with its own position to see, so each request passes the gate itself before it asks
        // (`load_customer`, the loader's one caller).
        let directory = self.ledger.runner().reader(CUSTOMER_DIRECTORY)?;
        let mut records = HashMap::with_capacity(keys.len());
        for &id in keys {
            if let Some(record) = customer_directory::customer(&directory, id)? {
                records.insert(id, record);
            }
        }
        Ok(records)
    }
}

/// The customer's record from the directory (waiting for the head the API started with and
/// read-your-writes), through the loader; a customer found is recorded as read through
/// `operation` (see [`crate::access_records`]).
pub async fn load_customer(
    ctx: &Context<'_>,
    id: CustomerId,
    operation: &str,
) -> ApiResult<Option<Customer>> {
    let state = state(ctx)?;
    state.wait_for_request(ctx, CUSTOMER_DIRECTORY).await?;
    let Some(record) = state.customers.load_one(id).await? else {
        return Ok(None);
    };
    record_read(ctx, record.id, operation).await?;
    Ok(Some(Customer::new(record)))
}

/// The customer a record (a case, a claim) names, as they are now: the final survivor when
/// they were merged away, since the survivor holds the whole history and takes new business.
pub async fn load_linked_customer(
    ctx: &Context<'_>,
    id: CustomerId,
    operation: &str,
) -> ApiResult<Option<Customer>> {
    let directory = state(ctx)?.read_model(ctx, CUSTOMER_DIRECTORY).await?;
    let current = customer_directory::survivor(&directory, id)?;
    load_customer(ctx, current, operation).await
}

/// A customer, individual or corporate, as the customer directory knows them.
#[derive(Debug, Clone)]
pub struct Customer {
    record: CustomerRecord,
}

impl Customer {
    pub fn new(record: CustomerRecord) -> Self {
        Self { record }
    }

    /// The customer's id, for Rust callers (the GraphQL field is `id`).
    pub fn customer_id(&self) -> CustomerId {
        self.record.id
    }
}

/// One identifier a customer can be found by.
#[derive(SimpleObject, Debug, Clone)]
pub struct CustomerIdentifier {
    pub kind: IdentifierKind,
    /// The normalised value (`13800138000`), masked for analysts (`138****8000`).
    pub value: String,
    /// The customer's own stream asserts it (registered, added, or received by a merge).
    pub held: bool,
    /// A policy or claim event named it for the customer.
    pub linked: bool,
}

impl CustomerIdentifier {
    fn new(identifier: &Identifier, held: bool, linked: bool, masked: bool) -> Self {
        let value = if masked {
            identifier.mask()
        } else {
            identifier.value().to_owned()
        };
        Self {
            kind: identifier.kind().into(),
            value,
            held,
            linked,
        }
    }
}

/// A corporate customer's account manager and team lead.
#[derive(SimpleObject, Debug, Clone)]
pub struct AccountManager {
    pub manager: String,
    pub team_lead: String,
    pub assigned_at: DateTime,
}

/// Marketing consent on one channel, as last changed.
#[derive(SimpleObject, Debug, Clone)]
pub struct Consent {
    pub channel: Channel,
    pub granted: bool,
    pub changed_at: DateTime,
}

connection!(
    /// A page of customers.
    CustomerConnection,
    CustomerEdge,
    Customer
);
connection!(
    /// A page of a customer's identifiers, held and linked.
    IdentifierConnection,
    IdentifierEdge,
    CustomerIdentifier
);

/// A name as the caller may see it.
pub fn shown_name(name: &ledger_domain::values::PersonName, masked: bool) -> String {
    if masked {
        name.mask()
    } else {
        name.to_string()
    }
}

#[Object]
impl Customer {
    async fn id(&self) -> ID {
        ID(self.record.id.to_string())
    }

    async fn kind(&self) -> CustomerKind {
        self.record.kind.into()
    }

    /// The person's or company's name (masked for analysts); null once erased (`erased`).
    async fn name(&self, ctx: &Context<'_>) -> Option<String> {
        let masked = masked(ctx);
        self.record
            .name
            .as_ref()
            .map(|name| shown_name(name, masked))
    }

    /// The company group the customer belongs to (集团客户), if any.
    async fn group(&self) -> Option<String> {
        self.record.group.as_ref().map(ToString::to_string)
    }

    /// The identifiers the customer holds (at most `IDENTIFIERS_PER_CUSTOMER_MAX`), sorted;
    /// `linked` as `knownIdentifiers` says it.
    async fn identifiers(&self, ctx: &Context<'_>) -> ApiResult<Vec<CustomerIdentifier>> {
        let masked = masked(ctx);
        let directory = state(ctx)?.read_model(ctx, CUSTOMER_DIRECTORY).await?;
        self.record
            .identifiers
            .iter()
            .map(|identifier| {
                let linked =
                    customer_directory::owned_identifier(&directory, self.record.id, identifier)?
                        .is_some_and(|owned| owned.linked);
                Ok(CustomerIdentifier::new(identifier, true, linked, masked))
            })
            .collect()
    }

    /// Every identifier the customer holds or that policy and claim events linked to them
    /// (plates, VINs, policy and claim numbers), by kind and value.
    #[graphql(
        complexity = "cost(first, IDENTIFIERS_PAGE_DEFAULT, NAME_SEARCH_PAGE_MAX) * child_complexity + 1"
    )]
    async fn known_identifiers(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<IdentifierConnection> {
        let after = received_cursor(ctx, "after", after)?;
        let first = page_size(
            "first",
            first,
            IDENTIFIERS_PAGE_DEFAULT,
            NAME_SEARCH_PAGE_MAX,
        )?;
        let directory = state(ctx)?.read_model(ctx, CUSTOMER_DIRECTORY).await?;
        let page =
            customer_directory::identifiers_of(&directory, self.record.id, after.as_deref(), first)
                .map_err(|error| search_error(error, PageArguments::FORWARD))?;
        let masked = masked(ctx);
        let items = page
            .items
            .into_iter()
            .map(
                |(
                    cursor,
                    OwnedIdentifier {
                        identifier,
                        held,
                        linked,
                    },
                )| {
                    (
                        cursor,
                        CustomerIdentifier::new(&identifier, held, linked, masked),
                    )
                },
            )
            .collect();
        Ok(IdentifierConnection::forward(
            items,
            page.has_next_page,
            after.is_some(),
        ))
    }

    async fn account_manager(&self) -> Option<AccountManager> {
        self.record
            .account_manager
            .as_ref()
            .map(|manager| AccountManager {
                manager: manager.manager.to_string(),
                team_lead: manager.team_lead.to_string(),
                assigned_at: manager.assigned_at.into(),
            })
    }

    /// Marketing consent per channel; a channel not listed has none.
    async fn consents(&self) -> Vec<Consent> {
        self.record
            .consents
            .iter()
            .map(|consent| Consent {
                channel: consent.channel.into(),
                granted: consent.granted,
                changed_at: consent.changed_at.into(),
            })
            .collect()
    }

    /// The customer this one was merged into, as the merge named it.
    async fn merged_into(&self) -> Option<ID> {
        self.record.merged_into.map(|id| ID(id.to_string()))
    }

    /// The customers merged into this one, in the order of their merges.
    async fn merged_from(&self) -> Vec<ID> {
        self.record
            .merged_from
            .iter()
            .map(|id| ID(id.to_string()))
            .collect()
    }

    /// The customer's personal data reads as erased: it was erased (`erasedAt` says when), or
    /// it cannot be opened in this ledger, whose history was imported from an export while the
    /// customer's data key stayed in the ledger that exported it (`erasedAt` is null: nothing
    /// was erased here). Either way the name, group and identifiers are gone, and so is the
    /// personal text of the timeline and of service cases.
    async fn erased(&self) -> bool {
        self.record.erased
    }

    async fn registered_at(&self) -> DateTime {
        self.record.registered_at.into()
    }

    /// When the customer was erased; null when not, also when the personal data reads as
    /// erased only because its data key is in the ledger this one was imported from.
    async fn erased_at(&self) -> Option<DateTime> {
        self.record.erased_at.map(Into::into)
    }

    /// Everything that concerns the customer, newest first: contacts on every channel,
    /// satisfaction, policies, claims, cases, campaigns. Filter by channel, event type
    /// (`ContactRecorded` ...) and time (`from` inclusive, `to` exclusive); page with
    /// `first`/`after` (older) or `last`/`before` (newer).
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
        let timeline = state(ctx)?.read_model(ctx, CUSTOMER_TIMELINE).await?;
        let page = timeline_page(&timeline, self.record.id, arguments, masked(ctx))?;
        record_read(ctx, self.record.id, "timeline").await?;
        Ok(page)
    }

    /// The customer's service cases and claims, newest first.
    #[graphql(
        complexity = "cost(first, HISTORY_PAGE_DEFAULT, HISTORY_PAGE_MAX) * child_complexity + 1"
    )]
    async fn service_history(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<ServiceHistoryConnection> {
        let after = received_cursor(ctx, "after", after)?;
        let history = state(ctx)?.read_model(ctx, SERVICE_HISTORY).await?;
        Ok(service_history(&history, self.record.id, first, after)?)
    }

    /// The segments the customer (or the survivor it was merged into) is a member of today,
    /// in the rules' order: `key-accounts`, `at-risk` ...
    async fn segments(&self, ctx: &Context<'_>) -> ApiResult<Vec<String>> {
        crate::segments::customer_segments(ctx, self.record.id).await
    }

    /// The customer's policies (and those of customers merged into it), by number: each with
    /// its latest period, premium, product lines and where it stands today. Those in force, and
    /// those whose latest period ended within the segments' retention (800 days); older ones
    /// are on the timeline. Empty once the customer is erased. Numbers masked for analysts.
    async fn policies(&self, ctx: &Context<'_>) -> ApiResult<Vec<crate::segments::CustomerPolicy>> {
        crate::segments::customer_policies(ctx, self.record.id).await
    }

    /// The customer's figures today (premium in force, contacts, CSAT, RFM ...); null when
    /// the segments read model does not know the customer.
    async fn metrics(&self, ctx: &Context<'_>) -> ApiResult<Option<CustomerMetrics>> {
        crate::segments::customer_metrics(ctx, self.record.id).await
    }

    /// The customer's account managers, oldest first.
    async fn account_manager_history(
        &self,
        ctx: &Context<'_>,
    ) -> ApiResult<Vec<AccountManagerPeriod>> {
        crate::performance::account_manager_history(ctx, self.record.id).await
    }

    /// Each handover to another account manager or team lead, with the customer's CSAT in the
    /// 90 days before and after it, oldest first.
    async fn handovers(&self, ctx: &Context<'_>) -> ApiResult<Vec<Handover>> {
        crate::performance::handovers(ctx, self.record.id).await
    }

    /// The customer's claims, newest first.
    #[graphql(
        complexity = "cost(first, HISTORY_PAGE_DEFAULT, HISTORY_PAGE_MAX) * child_complexity + 1"
    )]
    async fn claims(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<ClaimConnection> {
        let after = received_cursor(ctx, "after", after)?;
        let history = state(ctx)?.read_model(ctx, SERVICE_HISTORY).await?;
        Ok(customer_claims(&history, self.record.id, first, after)?)
    }
}

/// Who the request is from, as the API sees it.
#[derive(SimpleObject, Debug, Clone)]
pub struct Viewer {
    pub subject: String,
    pub role: crate::access::Role,
    /// Whether personal data is shown masked to this caller.
    pub masked: bool,
}

/// The queries that find customers.
#[derive(Debug, Default)]
pub struct CustomerQueries;

#[Object(guard = "RootAccess")]
impl CustomerQueries {
    /// The caller, its role, and whether it sees personal data masked.
    async fn viewer(&self, ctx: &Context<'_>) -> ApiResult<Viewer> {
        let caller = crate::access::caller(ctx)?;
        Ok(Viewer {
            subject: caller.subject.clone(),
            role: caller.role,
            masked: masked(ctx),
        })
    }

    /// The customer with this id; null when there is none.
    async fn customer(&self, ctx: &Context<'_>, id: ID) -> ApiResult<Option<Customer>> {
        let id = CustomerId::parse("id", &id)?;
        Ok(load_customer(ctx, id, "customer").await?)
    }

    /// The customer an identifier finds, in any spelling the domain normalises (`+86 138-0013-8000`
    /// finds `13800138000`); merges are followed to the survivor. Null when nobody has it.
    async fn customer_by_identifier(
        &self,
        ctx: &Context<'_>,
        kind: IdentifierKind,
        value: String,
    ) -> ApiResult<Option<Customer>> {
        let identifier = Identifier::parse("value", kind.into(), &value)?;
        let directory = state(ctx)?.read_model(ctx, CUSTOMER_DIRECTORY).await?;
        let Some(id) = customer_directory::resolve(&directory, &identifier)? else {
            return Ok(None);
        };
        let Some(record) = customer_directory::customer(&directory, id)? else {
            return Ok(None);
        };
        record_read(ctx, record.id, "customerByIdentifier").await?;
        Ok(Some(Customer::new(record)))
    }

    /// Customers whose name starts with `search` (case-insensitive; live customers only); or
    /// the members of `segment` today, premium in force highest first (supervisors, analysts,
    /// auditors); or, with neither, every registered customer in registration order (merged
    /// and erased ones included, their records say so). `search` and `segment` do not combine.
    #[graphql(
        complexity = "cost(first, CUSTOMERS_PAGE_DEFAULT, NAME_SEARCH_PAGE_MAX) * child_complexity + 1"
    )]
    async fn customers(
        &self,
        ctx: &Context<'_>,
        search: Option<String>,
        segment: Option<String>,
        first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<CustomerConnection> {
        let after = received_cursor(ctx, "after", after)?;
        let first = page_size("first", first, CUSTOMERS_PAGE_DEFAULT, NAME_SEARCH_PAGE_MAX)?;
        if let Some(segment) = &segment {
            if search.is_some() {
                return Err(ApiError::validation(
                    "segment",
                    "`search` and `segment` do not combine: ask for one",
                ));
            }
            return crate::segments::segment_customers(ctx, segment, first, after).await;
        }
        if search
            .as_deref()
            .is_some_and(|search| search.trim().is_empty())
        {
            return Err(ApiError::validation(
                "search",
                "a name prefix is not blank; leave search out to list every customer",
            ));
        }
        if let Some(search) = &search
            && search.chars().count() > PERSON_NAME_CHARS_MAX
        {
            return Err(ApiError::validation(
                "search",
                format!(
                    "a name prefix is at most {PERSON_NAME_CHARS_MAX} characters, as a name is; \
                     this has {}",
                    search.chars().count()
                ),
            ));
        }
        let directory = state(ctx)?.read_model(ctx, CUSTOMER_DIRECTORY).await?;
        let page = match &search {
            Some(prefix) => {
                require(ctx, "customers.search")?;
                customer_directory::search_by_name(&directory, prefix, after.as_deref(), first)
            }
            None => customer_directory::customers(&directory, after.as_deref(), first),
        }
        .map_err(|error| search_error(error, PageArguments::FORWARD))?;
        for (_, record) in &page.items {
            record_read(ctx, record.id, "customers").await?;
        }
        let items = page
            .items
            .into_iter()
            .map(|(cursor, record)| (cursor, Customer::new(record)))
            .collect();
        Ok(CustomerConnection::forward(
            items,
            page.has_next_page,
            after.is_some(),
        ))
    }
}
