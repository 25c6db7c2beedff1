//! The HTTP front: [`app`] builds the whole axum router, so tests drive it with `oneshot`
//! and no socket.
//!
//! | route | what |
//! |---|---|
//! | `GET /` , `GET /assets/graphiql/{file}` | GraphiQL, built into the binary |
//! | `POST /graphql`, `GET /graphql` | GraphQL (GET for queries only) |
//! | `GET /graphql/ws` | subscriptions over `graphql-transport-ws` |
//! | `GET /livez`, `GET /readyz` | liveness; readiness (projections caught up, Merkle tree built, store healthy) |
//! | `GET /metrics` | Prometheus text format (requests labelled by what the schema runs, [`metrics_labels`]) |
//!
//! Every GraphQL request needs a bearer token; the caller it names goes into the request data,
//! with `X-Ledger-Consistent-With: <position>` as [`ConsistentWith`] for read-your-writes.
//!
//! A request refused before any GraphQL runs is answered in the GraphQL shape, as JSON, with
//! `extensions.code` like every error of the API: no caller is 401 `UNAUTHENTICATED` with
//! `WWW-Authenticate: Bearer`; a bad `X-Ledger-Consistent-With`, a body that is not a GraphQL
//! request ([`BodyRejected`]), one past [`BODY_BYTES_MAX`] (413) or a batch past
//! [`BATCH_OPERATIONS_MAX`] are `VALIDATION` naming the `field` (the header, `(body)`) and the
//! `rule`.

pub mod assets;
pub mod auth;
pub mod metrics;
pub mod metrics_labels;

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_graphql::http::ALL_WEBSOCKET_PROTOCOLS;
use async_graphql::parser::types::OperationType;
use async_graphql::{BatchRequest, Data};
use async_graphql_axum::{
    GraphQLBatchRequest, GraphQLProtocol, GraphQLRequest, GraphQLResponse, GraphQLWebSocket,
};
use axum::extract::{State, WebSocketUpgrade};
use axum::http::{HeaderMap, HeaderName, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use ledger_app::Ledger;
use ledger_domain::ids::Position;
use ledger_graphql::{Caller, ConsistentWith, LedgerSchema, Role};
use tower_http::compression::CompressionLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use self::auth::Tokens;

/// The largest request body accepted: far above any real GraphQL document with variables,
/// small enough that a hostile client cannot make the server buffer much.
pub const BODY_BYTES_MAX: usize = 1024 * 1024;

/// The most operations one batched request may carry.
pub const BATCH_OPERATIONS_MAX: usize = 16;

/// The longest a GraphQL request over HTTP may run (subscriptions are not bound by it). Read-
/// your-writes waits at most 5 s inside this.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// The longest an auditor's or an administrator's GraphQL request may run. `verifyLedger`
/// re-checks the whole chain whatever range it lists, which takes 25–32 s at 10 M events on
/// the bench's 2-core machine, so it outgrows [`REQUEST_TIMEOUT`] with the ledger. Also the
/// bound on reading any request's body (the route's timeout runs before the caller is known).
pub const AUDIT_REQUEST_TIMEOUT: Duration = Duration::from_secs(600);

/// How long a request of a caller in `role` may run.
pub fn request_timeout(role: Role) -> Duration {
    match role {
        Role::Auditor | Role::Admin => AUDIT_REQUEST_TIMEOUT,
        Role::Agent | Role::Supervisor | Role::Analyst => REQUEST_TIMEOUT,
    }
}

/// The header that asks reads to wait until the read models have applied a position.
pub const CONSISTENT_WITH: HeaderName = HeaderName::from_static("x-ledger-consistent-with");

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    pub ledger: Ledger,
    pub schema: LedgerSchema,
    pub tokens: Arc<Tokens>,
    /// The head when the server started: ready once every projection has applied it. The
    /// schema's start position, so `/readyz` and the API's reads wait for the same head.
    pub ready_at: Position,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("AppState")
            .field("ledger", &self.ledger)
            .field("ready_at", &self.ready_at)
            .finish_non_exhaustive()
    }
}

impl AppState {
    pub fn new(ledger: Ledger, schema: LedgerSchema, tokens: Tokens) -> Self {
        // Install the recorder before the first request, so its counters are not lost.
        let _ = metrics::handle();
        // The head the schema started with, below which its reads refuse to answer: ready means
        // they have stopped refusing for that reason.
        let ready_at = schema.start_position();
        Self {
            ledger,
            schema,
            tokens: Arc::new(tokens),
            ready_at,
        }
    }
}

/// The whole application.
pub fn app(state: AppState) -> Router {
    let state = Arc::new(state);
    let graphql = Router::new()
        .route("/graphql", get(graphql_get).post(graphql_post))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            AUDIT_REQUEST_TIMEOUT,
        ));
    Router::new()
        .route("/", get(assets::index))
        .route("/assets/graphiql/{file}", get(assets::asset))
        .route("/graphql/ws", get(graphql_ws))
        .route("/livez", get(livez))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics_text))
        .merge(graphql)
        .layer(RequestBodyLimitLayer::new(BODY_BYTES_MAX))
        .layer(axum::middleware::map_response(body_limit_in_graphql_shape))
        .layer(CompressionLayer::new())
        .layer(TraceLayer::new_for_http())
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        .with_state(state)
}

/// A response in the GraphQL shape carrying one error with a code.
fn error_response(status: StatusCode, code: &str, message: &str) -> Response {
    let body =
        serde_json::json!({ "errors": [{ "message": message, "extensions": { "code": code } }] });
    (status, Json(body)).into_response()
}

/// A `VALIDATION` error in the GraphQL shape, naming what was wrong (`field`: a header, the
/// body) and the rule it broke, as every `VALIDATION` error of the API does.
fn validation_response(status: StatusCode, field: &str, rule: &str, message: &str) -> Response {
    let body = serde_json::json!({ "errors": [{
        "message": message,
        "extensions": { "code": "VALIDATION", "field": field, "rule": rule },
    }] });
    (status, Json(body)).into_response()
}

/// The text of tower-http's error for a body past its limit (`http_body_util::LengthLimitError`).
const BODY_LIMIT_ERROR: &str = "length limit exceeded";

/// The rule a body past [`BODY_BYTES_MAX`] breaks.
fn body_bytes_rule() -> String {
    format!("a request body holds at most {BODY_BYTES_MAX} bytes (BODY_BYTES_MAX)")
}

/// A 413 of the body limit, which answers before any handler when the declared length is too
/// long, in the GraphQL shape as every other refusal (tower-http's own is plain text).
async fn body_limit_in_graphql_shape(response: Response) -> Response {
    let is_json = response
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .is_some_and(|value| value.as_bytes().starts_with(b"application/json"));
    if response.status() != StatusCode::PAYLOAD_TOO_LARGE || is_json {
        return response;
    }
    validation_response(
        StatusCode::PAYLOAD_TOO_LARGE,
        BODY_FIELD,
        &body_bytes_rule(),
        "the request body is too large",
    )
}

/// The `field` of an error about the request body as a whole (not one of its members).
pub const BODY_FIELD: &str = "(body)";

/// Why a body was not taken as a GraphQL request. async-graphql-axum's own rejection answers
/// with a Rust debug dump and no content type; this one answers in the GraphQL shape, keeping
/// its statuses (413 for a body past [`BODY_BYTES_MAX`], 400 otherwise).
#[derive(Debug)]
pub struct BodyRejected(pub async_graphql::ParseRequestError);

impl From<async_graphql::ParseRequestError> for BodyRejected {
    fn from(error: async_graphql::ParseRequestError) -> Self {
        Self(error)
    }
}

impl IntoResponse for BodyRejected {
    fn into_response(self) -> Response {
        use async_graphql::ParseRequestError;
        let (status, rule) = match &self.0 {
            ParseRequestError::PayloadTooLarge => (StatusCode::PAYLOAD_TOO_LARGE, body_bytes_rule()),
            // A body sent without its length meets the limit while it is read, and reaches
            // here as the read's error, by its text only (async-graphql-axum keeps no type).
            ParseRequestError::Io(error) if error.to_string().contains(BODY_LIMIT_ERROR) => {
                (StatusCode::PAYLOAD_TOO_LARGE, body_bytes_rule())
            }
            ParseRequestError::UnsupportedBatch => (
                StatusCode::BAD_REQUEST,
                "send one request object, not a batch".to_owned(),
            ),
            _ => (
                StatusCode::BAD_REQUEST,
                "a JSON object {\"query\": …, \"variables\": …, \"operationName\": …}, or a JSON array of them (at most BATCH_OPERATIONS_MAX); GET takes the same as URL parameters".to_owned(),
            ),
        };
        // The parser's own words say where the body went wrong ("expected value at line 1
        // column 1"); they hold nothing of the server's.
        let message = format!("the request body is not a GraphQL request: {}", self.0);
        validation_response(status, BODY_FIELD, &rule, &message)
    }
}

/// What every operation of a request is given: the caller, and the position to read at.
#[derive(Debug, Clone)]
struct RequestContext {
    caller: Caller,
    consistent_with: Option<ConsistentWith>,
}

/// Why a request was refused before any GraphQL ran.
#[derive(Debug)]
enum Refused {
    /// No caller: 401, with the challenge RFC 6750 (§3) asks of a bearer-token resource.
    Unauthenticated(auth::AuthError),
    /// `X-Ledger-Consistent-With` is not a position.
    BadConsistentWith,
}

/// The rule a `X-Ledger-Consistent-With` value breaks.
pub const CONSISTENT_WITH_RULE: &str =
    "a position is a whole number as a decimal string, such as \"42\", as mutations return it";

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        match self {
            Self::Unauthenticated(error) => {
                let mut response =
                    error_response(StatusCode::UNAUTHORIZED, "UNAUTHENTICATED", error.message());
                response.headers_mut().insert(
                    axum::http::header::WWW_AUTHENTICATE,
                    axum::http::HeaderValue::from_static(auth::BEARER_CHALLENGE),
                );
                response
            }
            Self::BadConsistentWith => validation_response(
                StatusCode::BAD_REQUEST,
                "X-Ledger-Consistent-With",
                CONSISTENT_WITH_RULE,
                &format!("X-Ledger-Consistent-With: {CONSISTENT_WITH_RULE}"),
            ),
        }
    }
}

fn request_data(state: &AppState, headers: &HeaderMap) -> Result<RequestContext, Refused> {
    let caller = state
        .tokens
        .caller(headers)
        .map_err(Refused::Unauthenticated)?;
    let mut context = RequestContext {
        caller,
        consistent_with: None,
    };
    if let Some(value) = headers.get(CONSISTENT_WITH) {
        let position = value
            .to_str()
            .ok()
            .and_then(|text| text.trim().parse::<u64>().ok())
            .ok_or(Refused::BadConsistentWith)?;
        context.consistent_with = Some(ConsistentWith(Position(position)));
    }
    Ok(context)
}

async fn execute(state: &AppState, context: RequestContext, request: BatchRequest) -> Response {
    let label = metrics_labels::label(&request);
    let started = Instant::now();
    let mut request = request;
    for single in request.iter_mut() {
        single.data.insert(context.caller.clone());
        if let Some(position) = context.consistent_with {
            single.data.insert(position);
        }
    }
    let limit = request_timeout(context.caller.role);
    let Ok(response) = tokio::time::timeout(limit, state.schema.execute_batch(request)).await
    else {
        metrics::record_request(&label, started.elapsed().as_secs_f64(), false);
        return error_response(
            StatusCode::REQUEST_TIMEOUT,
            "TIMEOUT",
            &format!(
                "the request ran past its limit of {} s for a {:?} (REQUEST_TIMEOUT, or AUDIT_REQUEST_TIMEOUT for auditors and administrators)",
                limit.as_secs(),
                context.caller.role
            ),
        );
    };
    metrics::record_request(&label, started.elapsed().as_secs_f64(), response.is_ok());
    GraphQLResponse::from(response).into_response()
}

async fn graphql_post(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    request: Result<GraphQLBatchRequest<BodyRejected>, BodyRejected>,
) -> Response {
    let data = match request_data(&state, &headers) {
        Ok(data) => data,
        Err(refused) => return refused.into_response(),
    };
    // The caller is checked first: a client without a token learns nothing, not even that
    // its body does not parse.
    let request = match request {
        Ok(request) => request.into_inner(),
        Err(rejected) => return rejected.into_response(),
    };
    if let BatchRequest::Batch(requests) = &request
        && requests.len() > BATCH_OPERATIONS_MAX
    {
        let rule = format!("a batch carries at most {BATCH_OPERATIONS_MAX} operations");
        return validation_response(
            StatusCode::BAD_REQUEST,
            BODY_FIELD,
            &rule,
            &format!("{rule}, this one {}", requests.len()),
        );
    }
    execute(&state, data, request).await
}

/// GET serves queries only: a mutation over GET is refused before anything runs (a link or an
/// image tag must never change the ledger).
async fn graphql_get(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    request: Result<GraphQLRequest<BodyRejected>, BodyRejected>,
) -> Response {
    let data = match request_data(&state, &headers) {
        Ok(data) => data,
        Err(refused) => return refused.into_response(),
    };
    // The caller is checked first: a client without a token learns nothing, not even that
    // its body does not parse.
    let request = match request {
        Ok(request) => request.into_inner(),
        Err(rejected) => return rejected.into_response(),
    };
    if let Ok(document) = async_graphql::parser::parse_query(&request.query) {
        let selected: Vec<OperationType> = document
            .operations
            .iter()
            .filter(|(name, _)| {
                request.operation_name.is_none()
                    || name.map(|n| n.as_str()) == request.operation_name.as_deref()
            })
            .map(|(_, operation)| operation.node.ty)
            .collect();
        if selected.iter().any(|ty| *ty != OperationType::Query) {
            let mut response = error_response(
                StatusCode::METHOD_NOT_ALLOWED,
                "METHOD_NOT_ALLOWED",
                "GET serves queries only; send mutations and subscriptions with POST or over /graphql/ws",
            );
            response.headers_mut().insert(
                axum::http::header::ALLOW,
                axum::http::HeaderValue::from_static("POST"),
            );
            return response;
        }
    }
    execute(&state, data, BatchRequest::Single(request)).await
}

async fn graphql_ws(
    State(state): State<Arc<AppState>>,
    protocol: GraphQLProtocol,
    upgrade: WebSocketUpgrade,
) -> Response {
    let schema = state.schema.clone();
    let tokens = Arc::clone(&state.tokens);
    upgrade
        .protocols(ALL_WEBSOCKET_PROTOCOLS)
        .on_upgrade(move |stream| {
            GraphQLWebSocket::new(stream, schema, protocol)
                .on_connection_init(move |payload| async move {
                    let caller = tokens
                        .caller_of_init_payload(&payload)
                        .map_err(|error| async_graphql::Error::new(error.message()))?;
                    let mut data = Data::default();
                    data.insert(caller);
                    Ok(data)
                })
                .serve()
        })
        .into_response()
}

async fn livez() -> &'static str {
    "live\n"
}

/// Ready once every projection has applied the head the server started with, the Merkle tree
/// covers that head, the runner has not stopped, and the store still takes writes.
async fn readyz(State(state): State<Arc<AppState>>) -> Response {
    if let Some(cause) = state.ledger.log().poisoned() {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("not ready: the store refuses writes: {cause}\n"),
        )
            .into_response();
    }
    if let Some(cause) = state.ledger.runner().failure() {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("not ready: projections stopped: {cause}\n"),
        )
            .into_response();
    }
    let runner = state.ledger.runner();
    if let Some(name) = runner
        .names()
        .into_iter()
        .find(|name| runner.reader(name).is_err())
    {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("not ready: read model {name} is being built\n"),
        )
            .into_response();
    }
    // The first build of the Merkle tree reads the whole log on a blocking thread; traffic
    // during it met p99s of ~260 ms at 10 M events (against ~10 ms after), so a server is not
    // ready until the tree covers the head it started with.
    match state.ledger.tree_size_now() {
        Some(size) if size >= state.ready_at.get() => {}
        _ => {
            return (
                StatusCode::SERVICE_UNAVAILABLE,
                "not ready: the Merkle tree is being built\n",
            )
                .into_response();
        }
    }
    let applied = runner.applied();
    if applied < state.ready_at {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            format!(
                "not ready: projections have applied {applied} of {}\n",
                state.ready_at
            ),
        )
            .into_response();
    }
    (StatusCode::OK, "ready\n").into_response()
}

async fn metrics_text(State(state): State<Arc<AppState>>) -> Response {
    let bytes = crate::commands::directory_bytes(state.ledger.log().dir());
    let mut response = metrics::render(&state.ledger, bytes).into_response();
    response.headers_mut().insert(
        axum::http::header::CONTENT_TYPE,
        axum::http::HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An auditor's `verifyLedger` walks the whole log (25–32 s at 10 M events here), so the
    /// roles that may call it get the long limit; the call centre and analysts keep the short one.
    #[test]
    fn only_the_roles_that_verify_the_ledger_get_the_long_request_limit() {
        for role in Role::ALL {
            let verifies = matches!(role, Role::Auditor | Role::Admin);
            let limit = request_timeout(role);
            assert_eq!(limit == AUDIT_REQUEST_TIMEOUT, verifies, "{role:?}");
            assert_eq!(limit == REQUEST_TIMEOUT, !verifies, "{role:?}");
        }
        assert!(AUDIT_REQUEST_TIMEOUT >= 10 * Duration::from_secs(30));
    }
}
