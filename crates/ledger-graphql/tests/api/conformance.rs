//! What the GraphQL spec and the README promise of every answer: an object that matches no
//! fragment is `{}`, never `null` in a non-null place; every error, async-graphql's own
//! included, carries `extensions.code` (and a `VALIDATION` error its `field` and `rule`),
//! naming an argument the client sent; the README's examples run.

use async_graphql::{Request, ServerError};
use ledger_graphql::Role;
use ledger_graphql::timeline::MIXED_DIRECTIONS_RULE;
use serde_json::json;

use crate::support::{Harness, caller, data, extension, next_within};

/// The `code`, `field` and `rule` of an error.
fn validation_details(error: &ServerError) -> (String, String, String) {
    let get = |name| extension(error, name).unwrap_or_default();
    (get("code"), get("field"), get("rule"))
}

#[tokio::test(flavor = "multi_thread")]
async fn paging_both_ways_at_once_names_the_arguments_that_were_sent() {
    let harness = Harness::start().await;
    let (customer, position) = harness.register("吴九", "13700137000").await;
    let as_of = format!(r#"customerAsOf(id: "{customer}", position: "{position}")"#);
    for (arguments, field) in [
        (r#"before: "zz", first: 1"#, "before"),
        (r#"after: "zz", before: "yy""#, "before"),
        ("first: 1, last: 1", "last"),
        (r#"after: "zz", last: 2"#, "last"),
    ] {
        for root in [format!(r#"customer(id: "{customer}")"#), as_of.clone()] {
            let document = format!("{{ {root} {{ timeline({arguments}) {{ totalCount }} }} }}");
            let response = harness.run(Role::Auditor, &document).await;
            assert_eq!(
                response.errors.len(),
                1,
                "{document}: {:?}",
                response.errors
            );
            let (code, named, rule) = validation_details(&response.errors[0]);
            assert_eq!(code, "VALIDATION", "{document}");
            assert_eq!(named, field, "{document}");
            assert!(arguments.contains(&named), "{document} names {named}");
            assert_eq!(rule, MIXED_DIRECTIONS_RULE, "{document}");
        }
    }
    harness.close().await;
}

/// The README's example subscription (quickstart, step 5), as the README spells it.
fn readme_subscription() -> String {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md"))
        .expect("the README");
    let start = readme
        .find("`subscription { ledgerEvents")
        .expect("the README's ledgerEvents example");
    let example = &readme[start + 1..];
    example[..example.find('`').expect("the example's closing backtick")].to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_readmes_subscription_example_runs() {
    let harness = Harness::start().await;
    harness.register("郑十", "13800138000").await;
    let document = readme_subscription();
    let request = Request::new(document.as_str()).data(caller(Role::Auditor));
    let mut events = harness.schema.execute_stream(request);
    let first = next_within(&mut events, std::time::Duration::from_secs(10))
        .await
        .expect("the first event");
    assert!(first.errors.is_empty(), "{document}: {:?}", first.errors);
    let event = &data(first)["ledgerEvents"];
    assert_eq!(event["position"], "1", "{event}");
    assert_eq!(event["eventType"], "CustomerRegistered", "{event}");
    harness.close().await;
}

/// Registers a customer with one open service case; returns the customer's id and the position
/// to read at.
async fn customer_with_a_case(harness: &Harness) -> (String, String) {
    let (customer, _) = harness.register("王五", "13900139000").await;
    let open = format!(
        r#"mutation {{ openServiceCase(input: {{ customerId: "{customer}", kind: COMPLAINT, priority: HIGH,
            subject: "survey delayed", channel: PHONE, deadline: "2030-03-02T08:00:00Z" }}) {{ position }} }}"#
    );
    let recorded = harness.mutate(Role::Agent, &open).await;
    let position = recorded["openServiceCase"]["position"]
        .as_str()
        .expect("a position")
        .to_owned();
    (customer, position)
}

#[tokio::test(flavor = "multi_thread")]
async fn an_item_that_matches_no_fragment_is_an_empty_object_not_null() {
    let harness = Harness::start().await;
    let (customer, position) = customer_with_a_case(&harness).await;
    let history = format!(r#"customer(id: "{customer}") {{ serviceHistory(first: 3)"#);
    let timeline = format!(r#"customer(id: "{customer}") {{ timeline"#);
    const HISTORY_NODE: &str = "/customer/serviceHistory/edges/0/node";
    const TIMELINE_EDGE: &str = "/customer/timeline/edges/0";
    const TIMELINE_NODE: &str = "/customer/timeline/edges/0/node";
    // (the document, where its first item is, what that item must be)
    let cases = [
        // A union member no fragment names, inline or spread; and the ones that match.
        (
            format!("{{ {history} {{ edges {{ node {{ ... on Claim {{ number }} }} }} }} }} }}"),
            HISTORY_NODE,
            json!({}),
        ),
        (
            format!(
                "{{ {history} {{ edges {{ node {{ ...claim }} }} }} }} }} fragment claim on Claim {{ number }}"
            ),
            HISTORY_NODE,
            json!({}),
        ),
        (
            format!(
                "{{ {history} {{ edges {{ node {{ ... on ServiceCase {{ kind }} ... on Claim {{ number }} }} }} }} }} }}"
            ),
            HISTORY_NODE,
            json!({ "kind": "COMPLAINT" }),
        ),
        (
            format!(
                "{{ {history} {{ edges {{ node {{ ... on ServiceHistoryItem {{ __typename }} }} }} }} }} }}"
            ),
            HISTORY_NODE,
            json!({ "__typename": "ServiceCase" }),
        ),
        // Everything selected is skipped: on the timeline's fast path, through async-graphql's
        // resolution (a fragment spread), and on an ordinary connection.
        (
            format!("{{ {timeline} {{ edges {{ node {{ ... @skip(if: true) {{ kind }} }} }} }} }} }}"),
            TIMELINE_NODE,
            json!({}),
        ),
        (
            format!("{{ {timeline} {{ edges {{ node {{ kind @skip(if: true) }} }} }} }} }}"),
            TIMELINE_NODE,
            json!({}),
        ),
        (
            format!("{{ {timeline} {{ edges {{ ... @skip(if: true) {{ cursor }} }} }} }} }}"),
            TIMELINE_EDGE,
            json!({}),
        ),
        (
            format!(
                "{{ {timeline} {{ edges {{ ...edge }} }} }} }} fragment edge on TimelineEdge {{ node {{ ... on TimelineEntry @skip(if: true) {{ kind }} }} }}"
            ),
            TIMELINE_EDGE,
            json!({ "node": {} }),
        ),
        (
            "{ serviceCases(status: OPEN, first: 5) { edges { node { ... @include(if: false) { id } } } } }"
                .to_owned(),
            "/serviceCases/edges/0/node",
            json!({}),
        ),
    ];
    for (document, pointer, expected) in cases {
        let response = harness
            .run_consistent(Role::Supervisor, &document, &position)
            .await;
        assert!(
            response.errors.is_empty(),
            "{document}: {:?}",
            response.errors
        );
        let answer = data(response);
        assert_eq!(
            answer.pointer(pointer),
            Some(&expected),
            "{document}: {answer}"
        );
    }
    harness.close().await;
}

/// Asserts that every error of `response` has a code, and each `VALIDATION` error a field and
/// a rule; returns the `(code, field, rule)` of each.
fn complete_details(
    document: &str,
    response: &async_graphql::Response,
) -> Vec<(String, String, String)> {
    assert!(!response.errors.is_empty(), "{document}: no error");
    response
        .errors
        .iter()
        .map(|error| {
            let details = validation_details(error);
            assert!(!details.0.is_empty(), "{document}: no code in {error:?}");
            if details.0 == "VALIDATION" {
                assert!(!details.1.is_empty(), "{document}: no field in {error:?}");
                assert!(!details.2.is_empty(), "{document}: no rule in {error:?}");
            }
            details
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn async_graphqls_own_errors_carry_the_code_the_argument_and_the_rule() {
    let harness = Harness::start().await;
    let (customer, _) = harness.register("冯十一", "13600136001").await;
    let timeline = |arguments: &str| {
        format!(r#"{{ customer(id: "{customer}") {{ timeline({arguments}) {{ totalCount }} }} }}"#)
    };
    // (document, the field every error names, a part of the first error's rule)
    let cases = [
        // A list's item by its index in brackets, as the API's own errors name it.
        (timeline("channels: [TELEPATHY]"), "channels[0]", "TELEPATHY"),
        (
            r#"mutation { completeRiskSurvey(input: { caseId: "0190a5e2-8c3b-7d4e-9f00-0000000000ca",
                findings: "x", recommendations: [{ number: 1, text: "t", dueOn: "2025-02-30" }] })
                { position } }"#
                .to_owned(),
            "input.recommendations[0].dueOn",
            "2025-02-30 is not a day of the calendar",
        ),
        (timeline(r#"first: "abc""#), "first", "Int"),
        (timeline("first: 1.5"), "first", "Int"),
        (timeline("first: 3000000000"), "first", "2147483647"),
        (
            timeline("first: null, last: 3000000000"),
            "last",
            "2147483647",
        ),
        (
            timeline(r#"last: 3000000000, before: "zz""#),
            "last",
            "2147483647",
        ),
        (timeline(r#"from: "yesterday""#), "from", "RFC 3339"),
        (
            timeline(r#"from: "2025-01-01T00:00:00Z", to: "soon""#),
            "to",
            "RFC 3339",
        ),
        (
            r#"{ agentStats(from: "2025-01-01", to: "2025-02-30") { pageInfo { hasNextPage } } }"#
                .to_owned(),
            "to",
            "2025-02-30 is not a day of the calendar",
        ),
        (
            r#"{ agentStats(from: "01/01/2025", to: "2025-02-01") { pageInfo { hasNextPage } } }"#
                .to_owned(),
            "from",
            "YYYY-MM-DD",
        ),
        (
            "query A { viewer { role } } query B { viewer { role } }".to_owned(),
            "operationName",
            "Operation name required",
        ),
        ("{ customer(id: ".to_owned(), "query", "expected"),
        (
            "{ nothingLikeThis }".to_owned(),
            "nothingLikeThis",
            "Unknown field",
        ),
        (
            r#"{ customer(id: "x", bogus: 1) { id } }"#.to_owned(),
            "bogus",
            "Unknown argument",
        ),
    ];
    for (document, field, rule) in cases {
        let response = harness.run(Role::Admin, &document).await;
        let details = complete_details(&document, &response);
        for (code, named, _) in &details {
            assert_eq!(code, "VALIDATION", "{document}: {details:?}");
            assert_eq!(named, field, "{document}: {details:?}");
        }
        assert!(details[0].2.contains(rule), "{document}: {details:?}");
    }

    // Through variables, and in a subscription.
    let document = r#"query($from: DateTime) { customer(id: "CUSTOMER") { timeline(from: $from) { totalCount } } }"#
        .replace("CUSTOMER", &customer);
    let response = harness
        .run_with(Role::Admin, &document, json!({ "from": "yesterday" }))
        .await;
    let details = complete_details(&document, &response);
    assert_eq!(details[0].1, "from", "{details:?}");
    // A scalar inside an input object names the object's field, with the scalar's rule, as a
    // literal and through a variable (async-graphql alone named only `input`).
    let record = |started_at: &str| {
        format!(
            r#"mutation {{ recordContact(input: {{ customerId: "{customer}", channel: PHONE,
                direction: INBOUND, startedAt: {started_at}, durationSeconds: 5,
                topic: CLAIM_REPORT, summary: "x", outcome: RESOLVED }}) {{ position }} }}"#
        )
    };
    for (document, rule) in [
        (
            record(r#""2025-13-01T00:00:00Z""#),
            "2025-13-01 is not a day of the calendar",
        ),
        (record("20250101"), "RFC 3339"),
    ] {
        let response = harness.run(Role::Agent, &document).await;
        let details = complete_details(&document, &response);
        assert_eq!(details.len(), 1, "{details:?}");
        assert_eq!(details[0].1, "input.startedAt", "{details:?}");
        assert!(details[0].2.contains(rule), "{details:?}");
        assert!(
            response.errors[0].message.starts_with("input.startedAt: "),
            "{:?}",
            response.errors[0]
        );
    }
    let document = record("$at").replace("mutation {", "mutation($at: DateTime!) {");
    let response = harness
        .run_with(
            Role::Agent,
            &document,
            json!({ "at": "2025-03-01T08:30:00+25:00" }),
        )
        .await;
    let details = complete_details(&document, &response);
    assert_eq!(details[0].1, "input.startedAt", "{details:?}");
    assert!(details[0].2.contains("offset"), "{details:?}");
    let document =
        "mutation($input: RecordContactInput!) { recordContact(input: $input) { position } }";
    let input = json!({
        "customerId": customer, "channel": "PHONE", "direction": "INBOUND",
        "startedAt": "yesterday", "durationSeconds": 5, "topic": "CLAIM_REPORT",
        "summary": "x", "outcome": "RESOLVED",
    });
    let response = harness
        .run_with(Role::Agent, document, json!({ "input": input }))
        .await;
    let details = complete_details(document, &response);
    assert_eq!(details[0].1, "input.startedAt", "{details:?}");
    assert!(details[0].2.contains("RFC 3339"), "{details:?}");

    let document = "query($first: Int) { customer(id: \"CUSTOMER\") { timeline(first: $first) { totalCount } } }"
        .replace("CUSTOMER", &customer);
    let response = harness
        .run_with(
            Role::Admin,
            &document,
            json!({ "first": 3_000_000_000_u64 }),
        )
        .await;
    let details = complete_details(&document, &response);
    assert!(
        details.iter().all(|(_, field, _)| field == "first"),
        "{details:?}"
    );
    let document = r#"subscription { ledgerEvents(afterPosition: "minus one") { position } }"#;
    let request = Request::new(document).data(caller(Role::Auditor));
    let mut events = harness.schema.execute_stream(request);
    let refused = next_within(&mut events, std::time::Duration::from_secs(10))
        .await
        .expect("the refusal");
    let details = complete_details(document, &refused);
    assert_eq!(details[0].0, "VALIDATION", "{details:?}");
    assert_eq!(details[0].1, "afterPosition", "{details:?}");
    harness.close().await;
}
