//! Access records: every read of a customer's personal data through the API is recorded (who,
//! which customer, which operation, when) in the store's append-only access log, and auditors
//! list them with `accessLog`.
//!
//! # What is recorded
//!
//! A read is recorded when the API hands personal data of one customer to a caller who sees it
//! unmasked (every role but analysts; an analyst's masked read is not recorded, since masked
//! values are not the personal data). One record per customer per place that yields it; the
//! operation names the place:
//!
//! | operation | when |
//! |---|---|
//! | `customer`, `customerByIdentifier` | the root field returned the customer |
//! | `registerCustomer.identifierOwned`, `addIdentifier.identifierOwned` … | a mutation was refused because the customer holds an identifier it names (`IDENTIFIER_OWNED`, whose message names the holder) |
//! | `customers` | each customer of a `customers` page (name search, list or segment members) |
//! | `timeline` | a page of `Customer.timeline` (contact summaries, free text) |
//! | `customerAsOf` | an auditor's point-in-time timeline of the customer |
//! | `serviceCases`, `claimsPastGuarantee` | each case or claim of the queue page (policy and claim numbers, survey notes) |
//! | `recorded.serviceCase`, `recorded.claim` | a mutation's answer returned the case or claim (its subject, resolution, numbers), also for a command that changed nothing |
//! | `serviceCase.customer`, `claim.customer`, `followUp.customer`, `segmentMember.customer`, `recorded.customer` | a nested field returned the customer |
//! | `segmentMember.name` | a segment member's name |
//! | `followUp.details` | an enquiry's name, mobile, plate and message: for the customer it was matched to, or, a lead from nobody known, for each customer whose contact names it (`marketing::customers_of_enquiry`, the customers its erasure follows); a lead nobody's contact names records nothing |
//! | `ledgerEvent.payload` | each customer an event concerns, when its payload is read (`events`, `ledgerEvents`); an `OnlineEnquiryReceived` concerns its sender, or, from nobody known, each customer whose contact names it, as for `followUp.details` |
//! | `customerActivity`, `screenPop` | each subscription delivery, for the customer it is about |
//!
//! Recording is part of the read: if the access log cannot take the record (a failed commit, or
//! a queue full for `ACCESS_QUEUE_WAIT_MS`), the field fails `UNAVAILABLE` instead of serving
//! the data unrecorded. Recording only queues the record; the store's access writer commits it
//! within `ACCESS_FLUSH_INTERVAL_MS` (see `ledger_store::access_log`).
//!
//! The access log has no update or delete anywhere: no mutation touches it.

use async_graphql::{Context, ID, Object, SimpleObject};
use ledger_domain::ids::CustomerId;
use ledger_store::limits::ACCESS_PAGE_MAX;
use ledger_store::{AccessError, AccessFilter, AccessQuery, AccessRead, AccessStamp};

use crate::access::{Caller, Role, RootAccess, caller};
use crate::connection::{connection, cost, page_size};
use crate::cursor::received_cursor;
use crate::errors::{ApiError, ApiResult, bad_cursor};
use crate::scalars::DateTime;
use crate::state::{ApiState, state};

/// Access records per `accessLog` page when `first` is not given.
pub const ACCESS_LOG_PAGE_DEFAULT: usize = 50;

/// Records that `caller` read `customer`'s personal data through `operation`, unless the caller
/// sees it masked. Fails `UNAVAILABLE` when the read cannot be recorded.
pub async fn record_for(
    state: &ApiState,
    caller: &Caller,
    customer: CustomerId,
    operation: &str,
) -> ApiResult<()> {
    if !caller.role.sees_personal_data() || !state.options.record_access {
        return Ok(());
    }
    let read = AccessRead {
        subject: caller.subject.clone(),
        role: caller.role.name().to_owned(),
        customer,
        operation: operation.to_owned(),
    };
    state
        .ledger
        .log()
        .access()
        .record(read)
        .await
        .map_err(|error| ApiError::unavailable("access record", &error))
}

/// Records this request's read of `customer`'s personal data through `operation`.
pub async fn record_read(
    ctx: &Context<'_>,
    customer: CustomerId,
    operation: &str,
) -> ApiResult<()> {
    record_for(state(ctx)?, caller(ctx)?, customer, operation).await
}

/// One read of a customer's personal data.
#[derive(SimpleObject, Debug, Clone)]
pub struct AccessEntry {
    /// When the read was recorded (the ledger's clock).
    pub at: DateTime,
    /// The token's subject: the staff or system id.
    pub subject: String,
    pub role: Role,
    pub customer_id: ID,
    /// Where the data was read: a root field (`customer`, `customers`), a nested field
    /// (`timeline`, `serviceCase.customer`), a subscription delivery (`screenPop`) or a
    /// refusal naming who holds an identifier (`addIdentifier.identifierOwned`).
    pub operation: String,
}

connection!(
    /// A page of access records, newest first.
    AccessEntryConnection,
    AccessEntryEdge,
    AccessEntry
);

fn role_named(name: &str) -> ApiResult<Role> {
    Role::ALL
        .into_iter()
        .find(|role| role.name() == name)
        .ok_or_else(|| {
            ApiError::unavailable("access log", &format!("a stored role {name:?} is unknown"))
        })
}

/// The auditors' view of the access records.
#[derive(Debug, Default)]
pub struct AccessLogQueries;

#[Object(guard = "RootAccess")]
impl AccessLogQueries {
    /// Who read a customer's personal data (`customerId`), or whose personal data a staff
    /// member or system read (`subject`): exactly one of the two. Newest first; `from`
    /// inclusive, `to` exclusive. Every read recorded before this query is listed.
    #[graphql(
        complexity = "cost(first, ACCESS_LOG_PAGE_DEFAULT, ACCESS_PAGE_MAX) * child_complexity + 1"
    )]
    #[allow(
        clippy::too_many_arguments,
        reason = "one argument per GraphQL argument"
    )]
    async fn access_log(
        &self,
        ctx: &Context<'_>,
        customer_id: Option<ID>,
        subject: Option<String>,
        from: Option<DateTime>,
        to: Option<DateTime>,
        first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<AccessEntryConnection> {
        let after = received_cursor(ctx, "after", after)?;
        let filter = match (customer_id, subject) {
            (Some(customer), None) => {
                AccessFilter::Customer(CustomerId::parse("customerId", &customer)?)
            }
            (None, Some(subject)) => AccessFilter::Subject(subject),
            (Some(_), Some(_)) => {
                return Err(ApiError::validation(
                    "subject",
                    "give exactly one of customerId and subject, not both",
                ));
            }
            (None, None) => {
                return Err(ApiError::validation(
                    "customerId",
                    "give exactly one of customerId and subject",
                ));
            }
        };
        let first = page_size("first", first, ACCESS_LOG_PAGE_DEFAULT, ACCESS_PAGE_MAX)?;
        let stamp = after
            .as_deref()
            .map(|cursor| AccessStamp::parse_cursor(cursor).ok_or_else(|| bad_cursor("after")))
            .transpose()?;
        let query = AccessQuery {
            filter,
            from: from.map(|from| from.0),
            to: to.map(|to| to.0),
            after: stamp,
            first,
        };
        let access = state(ctx)?.ledger.log().access();
        // Reads recorded before this query are still in the writer's queue for up to
        // ACCESS_FLUSH_INTERVAL_MS: commit them first so the answer includes them.
        access.sync().await.map_err(access_error)?;
        let page = access.page(&query).map_err(access_error)?;
        let items = page
            .items
            .into_iter()
            .map(|(stamp, record)| {
                Ok((
                    stamp.cursor(),
                    AccessEntry {
                        at: record.at.into(),
                        subject: record.subject,
                        role: role_named(&record.role)?,
                        customer_id: ID(record.customer.to_string()),
                        operation: record.operation,
                    },
                ))
            })
            .collect::<ApiResult<Vec<_>>>()?;
        Ok(AccessEntryConnection::forward(
            items,
            page.has_next_page,
            after.is_some(),
        ))
    }
}

fn access_error(error: AccessError) -> ApiError {
    match error {
        AccessError::Invalid { field, rule } => ApiError::validation(field, rule),
        AccessError::Unavailable(failure) => ApiError::unavailable("access log", &failure),
    }
}
