//! The contact ledger's GraphQL API: the schema, its own types, access rules and masking. It
//! knows GraphQL and the ledger, not HTTP: the server mounts [`build_schema`]'s schema on axum
//! and puts the caller ([`Caller`]) and the read-your-writes position ([`ConsistentWith`]) in
//! each request's data (a websocket connection's data for subscriptions).
//!
//! # Components
//!
//! - `access`: roles, the one access table ([`access::ACCESS`]), the guard on every root field,
//!   who sees personal data masked.
//! - `errors`: the one error type and its mapping to `extensions.code`.
//! - `scalars` (`Position`, `Money`, `Count`, `DateTime`, `Date`) and `vocabulary` (the domain's
//!   enums): serialisation lives here, at the edge; the domain's types stay GraphQL-free.
//! - `connection`: Relay connections, page-size checks and the cost of a page.
//! - `state`: what resolvers share (the ledger, the options, the customer loader), and the read
//!   path that honours `ConsistentWith`.
//! - Queries: `customers` (the customer directory), `timeline`, `service` (cases, claims,
//!   queues), `audit` (the raw log, verification, point-in-time timelines), `proofs` (Merkle
//!   inclusion and consistency proofs, signed checkpoints, and the documents the independent
//!   verifier `tools/proof_verifier.py` reads).
//! - Read models of Projections II: `segments` (segments and their members, a customer's
//!   segments and metrics, evaluated by the rules the ledger loaded at start-up), `marketing`
//!   (campaigns, the call-back queue `followUps`), `analytics` (`channelStats`,
//!   `busiestHours`), `performance` (`agentStats`, `managerStats`, account-manager history),
//!   `processes` (processes, the network's orphans, broken links and trees).
//! - `access_records`: every unmasked read of a customer's personal data is recorded in the
//!   store's access log (who, which customer, which operation, when); `accessLog` lists them
//!   for auditors.
//! - `mutations`: one per domain command, one file per aggregate, all returning `Recorded`.
//! - `subscriptions`: `ledgerEvents`, `customerActivity`, `screenPop`.
//!
//! # How a request flows
//!
//! A query's root field passes the access guard (the caller's role against the table), then
//! reads a read model: it first waits (at most [`ApiOptions::consistency_wait`]) until that
//! read model has applied the log's head when the schema was built
//! ([`LedgerSchema::start_position`]) and, when the request carries `ConsistentWith(p)`, `p`,
//! else `PROJECTION_LAGGING`: a read model still catching up after a restart is never shown
//! as if whole. Nested fields convert read-model records into the API's types,
//! masking personal data for analysts. A mutation turns its input into a domain command
//! (values parsed by the domain's parsers), executes it through [`ledger_app::Ledger`] and
//! answers with the position to read it back at.
//!
//! # Limits
//!
//! Query depth ([`DEPTH_MAX`]) and complexity ([`COMPLEXITY_MAX`], a page costing its size
//! times its selection) are checked before anything runs; every page has a maximum (asking for
//! more is a `VALIDATION` error naming the argument, never a shorter page); introspection and
//! field suggestions are off unless [`ApiOptions::introspection`], and while off, a query for
//! `__schema` or `__type` is refused as `FORBIDDEN` (`introspection.rs`) before it runs.
//!
//! # Execution
//!
//! [`LedgerSchema`] (`execution.rs`) runs every request: it keeps parsed documents by their text
//! (bounded, [`execution::CACHED_DOCUMENTS_MAX`]) and refuses introspection while it is off;
//! it gives async-graphql's own errors (parse, validation, argument types) the API's
//! `extensions.code` `VALIDATION` with their `field` and `rule` ([`execution::complete_errors`]).
//! The schema has no async-graphql extension, so resolved fields take async-graphql's direct
//! path rather than its extension chain.

pub mod access;
pub mod access_records;
pub mod analytics;
pub mod audit;
pub mod connection;
pub mod cursor;
pub mod customers;
pub mod errors;
pub mod execution;
pub mod introspection;
pub mod marketing;
pub mod mutations;
pub mod performance;
pub mod processes;
pub mod proofs;
pub mod scalars;
pub mod segments;
pub mod service;
pub mod state;
pub mod subscriptions;
pub mod timeline;
pub mod vocabulary;

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use async_graphql::{MergedObject, Schema};
use ledger_app::Ledger;

pub use access::{Caller, Role};
pub use errors::ApiError;
pub use execution::LedgerSchema;
pub use mutations::MutationRoot;
pub use subscriptions::SubscriptionRoot;

/// The root query type: customers, service and audit queries.
#[derive(MergedObject, Debug, Default)]
#[graphql(name = "Query")]
pub struct QueryRoot(
    customers::CustomerQueries,
    service::ServiceQueries,
    audit::AuditQueries,
    access_records::AccessLogQueries,
    proofs::ProofQueries,
    crate::segments::SegmentQueries,
    crate::marketing::MarketingQueries,
    crate::analytics::AnalyticsQueries,
    crate::performance::PerformanceQueries,
    crate::processes::ProcessQueries,
);

/// The deepest query accepted. The deepest the API's own screens go (a mutation's customer's
/// case's customer's timeline entry) is 11 levels, and a GraphiQL introspection query (type
/// references nested nine `ofType`s deep) about 15; 20 admits both and stops runaway nesting.
pub const DEPTH_MAX: usize = 20;

/// The most complex query accepted, each field costing one and each page its size times its
/// selection. An agent's screen (a customer with 50 timeline entries and 20 cases) costs about
/// 2,000; a hundred customers with 200 timeline entries each would cost about 100,000 and is
/// refused before it reads anything.
pub const COMPLEXITY_MAX: usize = 10_000;

/// How long a read waits for a read model to apply the position in `X-Ledger-Consistent-With`.
/// A healthy runner applies a write within milliseconds; five seconds covers a burst of bulk
/// imports without holding a request for long.
pub const CONSISTENCY_WAIT: Duration = Duration::from_secs(5);

/// How the schema is built.
#[derive(Clone, Debug)]
pub struct ApiOptions {
    /// Allow introspection (and field suggestions in errors): on for GraphiQL in development,
    /// off in production.
    pub introspection: bool,
    pub depth_max: usize,
    pub complexity_max: usize,
    /// The longest a read waits for read-your-writes, or for a read model to apply the head the
    /// schema started with, before `PROJECTION_LAGGING`.
    pub consistency_wait: Duration,
    /// The Ed25519 key `signedCheckpoint` signs with; without one that field is
    /// `NOT_CONFIGURED`. (Its `Debug` shows the public key only.)
    pub checkpoint_key: Option<ledger_proof::SigningKey>,
    /// Record unmasked reads of personal data in the access log (see [`access_records`]).
    /// Always on in service (the server has no setting for it); off only where a benchmark
    /// measures what recording costs (`examples/access_cost.rs`).
    pub record_access: bool,
}

impl Default for ApiOptions {
    fn default() -> Self {
        Self {
            introspection: false,
            depth_max: DEPTH_MAX,
            complexity_max: COMPLEXITY_MAX,
            consistency_wait: CONSISTENCY_WAIT,
            checkpoint_key: None,
            record_access: true,
        }
    }
}

/// The position a request must see (from the `X-Ledger-Consistent-With` header): every read of
/// a read model first waits until that read model has applied it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConsistentWith(pub ledger_domain::ids::Position);

impl FromStr for ConsistentWith {
    type Err = ApiError;

    /// Parses the header's value: a position as a decimal string, as mutations return it.
    fn from_str(text: &str) -> Result<Self, ApiError> {
        text.trim()
            .parse::<u64>()
            .map(|position| Self(ledger_domain::ids::Position(position)))
            .map_err(|_| {
                ApiError::validation(
                    "X-Ledger-Consistent-With",
                    "a position is a decimal string such as \"42\"",
                )
            })
    }
}

/// The schema over `ledger`, starting now: every read of a read model waits for (then refuses
/// as `PROJECTION_LAGGING`) a read model that has not applied the log's head as it is now
/// ([`LedgerSchema::start_position`], what the server's `/readyz` waits for too).
///
/// The head at construction rather than `Position::ZERO` for every schema, not only the
/// server's: whoever builds a schema over a ledger whose runner is still catching up (a test, a
/// tool) is served as the server's clients are. On the fresh ledgers most tests open the head
/// is 0 anyway, so their reads are gated exactly as before.
pub fn build_schema(ledger: Ledger, options: ApiOptions) -> LedgerSchema {
    let start_position = ledger_store::EventLog::head(ledger.log()).position;
    let builder = Schema::build(
        QueryRoot::default(),
        MutationRoot::default(),
        SubscriptionRoot,
    )
    .data(Arc::new(state::ApiState::new(
        ledger,
        options.clone(),
        start_position,
    )))
    .limit_depth(options.depth_max)
    .limit_complexity(options.complexity_max);
    let builder = if options.introspection {
        builder
    } else {
        // The refusal of `__schema` and `__type` is `LedgerSchema`'s (`execution.rs`).
        builder.disable_introspection().disable_suggestions()
    };
    let limits = execution::Limits {
        depth_max: options.depth_max,
        complexity_max: options.complexity_max,
    };
    LedgerSchema::new(
        builder.finish(),
        options.introspection,
        limits,
        start_position,
    )
}

/// The schema's SDL, as committed in `schemas/graphql/schema.graphql`.
pub fn sdl() -> String {
    Schema::build(
        QueryRoot::default(),
        MutationRoot::default(),
        SubscriptionRoot,
    )
    .finish()
    .sdl()
}
