//! A real ledger in a temporary directory with the schema over it, and helpers to call it as
//! each role and read the answers.

use std::time::Duration;

use async_graphql::futures_util::StreamExt;
use async_graphql::{Request, Response, Variables};
use ledger_app::Ledger;
use ledger_domain::ids::Position;
use ledger_graphql::{ApiOptions, Caller, ConsistentWith, LedgerSchema, Role, build_schema};
use ledger_store::{EventLog, StoreOptions};
use serde_json::Value;

/// How long [`Harness::mutate`] waits for the projections to apply a write.
const MUTATION_APPLIED_WAIT: Duration = Duration::from_secs(10);

/// A ledger under test and its schema.
pub struct Harness {
    pub ledger: Ledger,
    pub schema: LedgerSchema,
    _dir: tempfile::TempDir,
}

impl Harness {
    /// Opens a fresh ledger, starts its projection runner and builds the schema.
    pub async fn start() -> Self {
        Self::start_with(ApiOptions::default()).await
    }

    pub async fn start_with(options: ApiOptions) -> Self {
        Self::start_with_store(options, StoreOptions::default()).await
    }

    /// As `start_with`, with the store opened with `store` (failpoints, a clock).
    pub async fn start_with_store(options: ApiOptions, store: StoreOptions) -> Self {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let ledger = Ledger::open(
            dir.path(),
            store,
            ledger_app::KeyOptions::insecure_for_tests(),
        )
        .expect("the ledger opens");
        ledger.start();
        wait_until_built(&ledger).await;
        let schema = build_schema(ledger.clone(), options);
        Self {
            ledger,
            schema,
            _dir: dir,
        }
    }

    /// Runs `document` as `role`.
    pub async fn run(&self, role: Role, document: &str) -> Response {
        self.schema
            .execute(Request::new(document).data(caller(role)))
            .await
    }

    /// Runs `document` as `role` with `variables`.
    pub async fn run_with(&self, role: Role, document: &str, variables: Value) -> Response {
        let request = Request::new(document)
            .variables(Variables::from_json(variables))
            .data(caller(role));
        self.schema.execute(request).await
    }

    /// Runs `document` as `role`, reading its writes up to `position`.
    pub async fn run_consistent(&self, role: Role, document: &str, position: &str) -> Response {
        let position = Position(position.parse().expect("a position"));
        let request = Request::new(document)
            .data(caller(role))
            .data(ConsistentWith(position));
        self.schema.execute(request).await
    }

    /// Runs a mutation as `role` that must succeed, waits until every projection has applied
    /// the log up to its write, and returns its data.
    ///
    /// The wait is what a client gets from `X-Ledger-Consistent-With`: a test's next read
    /// (through [`Self::run`], without the header) sees the write. Without it such a read only
    /// raced the projections; the customer loader's 1 ms batching delay used to win that race
    /// for it most of the time.
    pub async fn mutate(&self, role: Role, document: &str) -> Value {
        let response = self.run(role, document).await;
        assert!(
            response.errors.is_empty(),
            "{document}: {:?}",
            response.errors
        );
        let head = self.ledger.log().head().position;
        self.ledger
            .runner()
            .wait_for(head, MUTATION_APPLIED_WAIT, None)
            .await
            .expect("every projection applies the mutation's write");
        data(response)
    }

    /// Registers an individual customer with a mobile number as an agent; returns the id and
    /// the position.
    pub async fn register(&self, name: &str, mobile: &str) -> (String, String) {
        let document = format!(
            r#"mutation {{ registerCustomer(input: {{ kind: INDIVIDUAL, name: "{name}",
                identifiers: [{{ kind: MOBILE, value: "{mobile}" }}] }}) {{ id position }} }}"#
        );
        let data = self.mutate(Role::Agent, &document).await;
        let recorded = &data["registerCustomer"];
        (text(&recorded["id"]), text(&recorded["position"]))
    }

    /// Records an inbound contact handled by `agent` on `channel`, a two-minute call that has
    /// just ended (a contact is dated when it ended); returns the position.
    pub async fn record_contact(
        &self,
        role: Role,
        customer: &str,
        channel: &str,
        agent: &str,
        summary: &str,
    ) -> String {
        let started = jiff::Timestamp::now() - jiff::SignedDuration::from_secs(120);
        let document = format!(
            r#"mutation {{ recordContact(input: {{ customerId: "{customer}", channel: {channel}, direction: INBOUND,
                agent: "{agent}", startedAt: "{started}", durationSeconds: 120, topic: ENQUIRY,
                summary: "{summary}", outcome: RESOLVED }}) {{ position }} }}"#
        );
        text(&self.mutate(role, &document).await["recordContact"]["position"])
    }

    /// Issues the policy `number` to `holder` as an administrator (compulsory traffic cover
    /// of 吉A12345 for 2025-03-01 to 2026-02-28, ¥950); returns the position.
    pub async fn issue_policy(&self, number: &str, holder: &str) -> String {
        let data = self
            .mutate(Role::Admin, &issue_policy(number, holder))
            .await;
        text(&data["issuePolicy"]["position"])
    }

    /// How many events the ledger holds, as the auditor reads it.
    pub async fn event_count(&self) -> String {
        let head = self.run(Role::Auditor, "{ ledger { eventCount } }").await;
        text(&data(head)["ledger"]["eventCount"])
    }

    pub async fn close(self) {
        self.ledger.close().await.expect("the ledger closes");
    }
}

/// Waits until the runner has built every read model (on a fresh ledger, an empty build that
/// takes milliseconds); reads before that are `PROJECTION_LAGGING`.
async fn wait_until_built(ledger: &Ledger) {
    let started = std::time::Instant::now();
    let names = ledger.runner().names();
    while !names
        .iter()
        .all(|name| ledger.runner().reader(name).is_ok())
    {
        assert!(
            started.elapsed() < BUILD_WAIT,
            "the read models were not built within {BUILD_WAIT:?}"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// How long a fresh ledger may take to build its (empty) read models.
const BUILD_WAIT: Duration = Duration::from_secs(10);

/// The caller the tests use for each role.
pub fn caller(role: Role) -> Caller {
    Caller {
        subject: subject(role).to_owned(),
        role,
    }
}

pub fn subject(role: Role) -> &'static str {
    match role {
        Role::Agent => "agent-0042",
        Role::Supervisor => "supervisor-07",
        Role::Analyst => "analyst-03",
        Role::Auditor => "auditor-01",
        Role::Admin => "admin-01",
    }
}

/// The response's data as JSON.
pub fn data(response: Response) -> Value {
    response.data.into_json().expect("data converts to JSON")
}

/// A JSON string's text.
pub fn text(value: &Value) -> String {
    value
        .as_str()
        .unwrap_or_else(|| panic!("{value} is not a string"))
        .to_owned()
}

/// The `extensions.code` of every error in the response.
pub fn codes(response: &Response) -> Vec<String> {
    response
        .errors
        .iter()
        .map(|error| extension(error, "code").unwrap_or_default())
        .collect()
}

/// One extension of an error, as text.
/// Asserts that `response` is one `VALIDATION` error naming `field`.
#[track_caller]
pub fn assert_invalid(response: &Response, field: &str) {
    assert_eq!(codes(response), ["VALIDATION"], "{field}: {response:?}");
    assert_eq!(
        extension(&response.errors[0], "field").as_deref(),
        Some(field),
        "{response:?}"
    );
}

pub fn extension(error: &async_graphql::ServerError, name: &str) -> Option<String> {
    let value = error.extensions.as_ref()?.get(name)?;
    Some(match value {
        async_graphql::Value::String(text) => text.clone(),
        other => other.to_string(),
    })
}

/// The next response of a subscription, or `None` when none came within `wait`.
pub async fn next_within(
    stream: &mut (impl async_graphql::futures_util::Stream<Item = Response> + Unpin),
    wait: Duration,
) -> Option<Response> {
    tokio::time::timeout(wait, stream.next())
        .await
        .ok()
        .flatten()
}

/// The `issuePolicy` mutation of [`Harness::issue_policy`], for a test that expects it refused.
pub fn issue_policy(number: &str, holder: &str) -> String {
    format!(
        r#"mutation {{ issuePolicy(input: {{ policyNumber: "{number}", customerId: "{holder}",
        productLines: [COMPULSORY_TRAFFIC], plate: "吉A12345", vin: "LSVAM4187C2184847", premium: "95000",
        periodStart: "2025-03-01", periodEnd: "2026-02-28", salesChannel: PHONE }}) {{ position }} }}"#
    )
}
