//! Reads while the read models catch up after a start: a read model that has not applied the
//! log's head the API started with answers `PROJECTION_LAGGING`, never a partial history
//! presented as whole.

use std::time::Duration;

use async_graphql::{Request, Response};
use ledger_app::Ledger;
use ledger_app::names::{CUSTOMER_DIRECTORY, CUSTOMER_TIMELINE};
use ledger_domain::ids::Position;
use ledger_graphql::{ApiOptions, ConsistentWith, LedgerSchema, Role, build_schema};
use ledger_store::{EventLog, StoreOptions};
use serde_json::Value;

use crate::support::{caller, codes, data, extension, text};

/// How long a read waits for a lagging read model in these tests: long enough to show the
/// wait happens, short enough that the refusal comes quickly.
const LAGGING_WAIT: Duration = Duration::from_millis(200);

/// How long the runner may take to catch a handful of events up.
const CATCH_UP_WAIT: Duration = Duration::from_secs(10);

/// Runs the runner's catch-up (blocking) on a blocking thread.
async fn catch_up(ledger: &Ledger) -> Position {
    let runner = ledger.runner().clone();
    tokio::task::spawn_blocking(move || runner.catch_up())
        .await
        .expect("the catch-up does not panic")
        .expect("the read models catch up")
}

/// Runs a mutation as an agent that must succeed; returns its data.
async fn mutate(schema: &LedgerSchema, document: &str) -> Value {
    let response = schema
        .execute(Request::new(document).data(caller(Role::Agent)))
        .await;
    assert!(
        response.errors.is_empty(),
        "{document}: {:?}",
        response.errors
    );
    data(response)
}

/// Records a two-minute inbound call with `summary`, ended just now.
async fn record_call(schema: &LedgerSchema, customer: &str, summary: &str) {
    let started = jiff::Timestamp::now() - jiff::SignedDuration::from_secs(120);
    let document = format!(
        r#"mutation {{ recordContact(input: {{ customerId: "{customer}", channel: PHONE, direction: INBOUND,
            agent: "agent-0042", startedAt: "{started}", durationSeconds: 120, topic: ENQUIRY,
            summary: "{summary}", outcome: RESOLVED }}) {{ position }} }}"#
    );
    mutate(schema, &document).await;
}

/// The customer's timeline page as an agent, with `consistent_with` when given.
async fn timeline(
    schema: &LedgerSchema,
    customer: &str,
    consistent_with: Option<Position>,
) -> Response {
    let document = format!(
        r#"{{ customer(id: "{customer}") {{ timeline(first: 10) {{ edges {{ node {{ summary }} }} }} }} }}"#
    );
    let mut request = Request::new(document).data(caller(Role::Agent));
    if let Some(position) = consistent_with {
        request = request.data(ConsistentWith(position));
    }
    schema.execute(request).await
}

/// The summaries of a timeline page, newest first (the registration's is the customer's name).
fn summaries(response: Response) -> Vec<String> {
    assert!(response.errors.is_empty(), "{:?}", response.errors);
    data(response)["customer"]["timeline"]["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|edge| text(&edge["node"]["summary"]))
        .collect()
}

/// Asserts that `response` is one `PROJECTION_LAGGING` naming the timeline, what it has applied
/// and `wanted`, and holds no page.
#[track_caller]
fn assert_timeline_lagging(response: Response, applied: Position, wanted: Position) {
    assert_eq!(codes(&response), ["PROJECTION_LAGGING"], "{response:?}");
    let error = &response.errors[0];
    assert_eq!(
        extension(error, "projection").as_deref(),
        Some(CUSTOMER_TIMELINE)
    );
    assert_eq!(extension(error, "applied"), Some(applied.get().to_string()));
    assert_eq!(extension(error, "wanted"), Some(wanted.get().to_string()));
    assert!(
        data(response)["customer"]["timeline"].is_null(),
        "no page is shown"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_timeline_behind_the_head_the_api_started_with_is_lagging_rather_than_a_partial_page() {
    // Given a customer with four calls, of which the timeline has applied the first two (the
    // runner has not run since; the directory has applied all of them).
    let dir = tempfile::tempdir().expect("a temporary directory");
    let ledger = Ledger::open(
        dir.path(),
        StoreOptions::default(),
        ledger_app::KeyOptions::insecure_for_tests(),
    )
    .expect("the ledger opens");
    catch_up(&ledger).await;
    let writer = build_schema(ledger.clone(), ApiOptions::default());
    let registered = mutate(
        &writer,
        r#"mutation { registerCustomer(input: { kind: INDIVIDUAL, name: "张三",
            identifiers: [{ kind: MOBILE, value: "13800138000" }] }) { id } }"#,
    )
    .await;
    let customer = text(&registered["registerCustomer"]["id"]);
    catch_up(&ledger).await;
    record_call(&writer, &customer, "first call").await;
    record_call(&writer, &customer, "second call").await;
    let timeline_applied = catch_up(&ledger).await;
    record_call(&writer, &customer, "third call").await;
    record_call(&writer, &customer, "fourth call").await;
    let head = ledger.log().head().position;
    ledger
        .runner()
        .rebuild_up_to(&[CUSTOMER_DIRECTORY], head, &mut |_| {})
        .expect("the directory catches up");
    assert!(timeline_applied < head);
    // A schema that started before the last two calls is served what the timeline holds: the
    // partial page a schema starting now must not pass off as the whole history.
    assert_eq!(
        summaries(timeline(&writer, &customer, None).await),
        ["second call", "first call", "张三"]
    );

    // When the API starts now and an agent reads the timeline (also asking for a position the
    // timeline has applied: the later of the two is waited for),
    let api = build_schema(
        ledger.clone(),
        ApiOptions {
            consistency_wait: LAGGING_WAIT,
            ..ApiOptions::default()
        },
    );
    assert_eq!(api.start_position(), head);
    let started = std::time::Instant::now();
    let lagging = timeline(&api, &customer, None).await;
    let waited = started.elapsed();
    let lagging_consistent = timeline(&api, &customer, Some(timeline_applied)).await;

    // then each is refused as lagging, naming the timeline, what it applied and the head, once
    // the read has waited for it;
    assert_timeline_lagging(lagging, timeline_applied, head);
    assert_timeline_lagging(lagging_consistent, timeline_applied, head);
    assert!(waited >= LAGGING_WAIT, "the read waited first: {waited:?}");

    // and once the runner has caught up, the same read is the whole history.
    ledger.start();
    ledger
        .runner()
        .wait_for(head, CATCH_UP_WAIT, None)
        .await
        .expect("the runner catches up");
    assert_eq!(
        summaries(timeline(&api, &customer, None).await),
        [
            "fourth call",
            "third call",
            "second call",
            "first call",
            "张三"
        ]
    );
    ledger.close().await.expect("the ledger closes");
}
