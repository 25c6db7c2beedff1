//! Limits: page sizes, depth, complexity, introspection, and requests without a caller.

use async_graphql::futures_util::StreamExt;
use async_graphql::{BatchRequest, BatchResponse, Request};
use ledger_domain::ids::Position;
use ledger_graphql::{ApiOptions, ConsistentWith, Role};

use crate::support::{Harness, assert_invalid, caller, codes, data, extension};

#[tokio::test(flavor = "multi_thread")]
async fn a_page_above_its_maximum_is_a_validation_error_naming_the_argument_and_the_maximum() {
    let harness = Harness::start().await;
    let (customer, _) = harness.register("张三", "13800138000").await;
    let cases = [
        (
            format!(
                r#"{{ customer(id: "{customer}") {{ timeline(first: 201) {{ totalCount }} }} }}"#
            ),
            "first",
            "200",
        ),
        (
            format!(
                r#"{{ customer(id: "{customer}") {{ timeline(last: 201) {{ totalCount }} }} }}"#
            ),
            "last",
            "200",
        ),
        (
            "{ customers(first: 101) { edges { cursor } } }".to_owned(),
            "first",
            "100",
        ),
        (
            "{ serviceCases(first: 101) { edges { cursor } } }".to_owned(),
            "first",
            "100",
        ),
        (
            "{ events(first: 501) { edges { cursor } } }".to_owned(),
            "first",
            "500",
        ),
    ];
    for (document, argument, max) in cases {
        let response = harness.run(Role::Admin, &document).await;
        assert_eq!(codes(&response), ["VALIDATION"], "{document}");
        let error = &response.errors[0];
        assert_eq!(
            extension(error, "field").as_deref(),
            Some(argument),
            "{document}"
        );
        assert!(
            extension(error, "rule").is_some_and(|rule| rule.contains(max)),
            "{document}: {:?}",
            error.message
        );
    }
    harness.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn queries_too_deep_or_too_complex_are_refused_before_they_run() {
    let harness = Harness::start().await;
    let expensive = "{ customers(first: 100) { edges { node { timeline(first: 200) { edges { node { title kind summary } } } } } } }";
    let response = harness.run(Role::Admin, expensive).await;
    assert!(
        response
            .errors
            .iter()
            .any(|error| error.message.contains("COMPLEXITY_MAX = 10000")),
        "{:?}",
        response.errors
    );
    let affordable = "{ customers(first: 10) { edges { node { timeline(first: 20) { edges { node { title kind summary } } } } } } }";
    assert!(harness.run(Role::Admin, affordable).await.errors.is_empty());

    // An agent's screen: the caller, 50 timeline entries and 20 cases or claims, every field.
    let screen = r#"{ customerByIdentifier(kind: MOBILE, value: "13800138000") {
        id kind name group erased registeredAt identifiers { kind value held linked }
        accountManager { manager teamLead assignedAt } consents { channel granted changedAt }
        timeline(first: 50) { totalCount pageInfo { hasNextPage endCursor } edges { cursor node {
            position eventId occurredAt kind title channel direction topic agent summary outcome
            policyNumber claimNumber caseId campaignId contactId amount durationSeconds csat nps corrected erased } } }
        serviceHistory(first: 20) { pageInfo { hasNextPage endCursor } edges { cursor node {
            ... on ServiceCase { id kind priority status owner deadline breached openedAt resolvedAt policyNumber claimNumber }
            ... on Claim { number policyNumber status reportedAt guaranteeDue pastGuarantee amountSettled totalSettled } } } }
    } }"#;
    let response = harness.run(Role::Agent, screen).await;
    assert!(response.errors.is_empty(), "{:?}", response.errors);

    let shallow = Harness::start_with(ApiOptions {
        depth_max: 4,
        ..ApiOptions::default()
    })
    .await;
    let deep = "{ customers { edges { node { timeline { edges { node { title } } } } } } }";
    let response = shallow.run(Role::Admin, deep).await;
    assert!(
        response
            .errors
            .iter()
            .any(|error| error.message.contains("at most DEPTH_MAX = 4 levels")),
        "{:?}",
        response.errors
    );
    shallow.close().await;
    harness.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn introspection_is_off_unless_asked_for() {
    let closed = Harness::start().await;
    let introspection = "{ __schema { queryType { name } } }";
    // With introspection off, `__schema` and `__type` are refused with an error (async-graphql
    // alone would answer null), also behind a fragment; `__typename` still answers.
    for document in [
        introspection,
        r#"{ __type(name: "Query") { name } }"#,
        "{ ...Root } fragment Root on Query { __schema { queryType { name } } }",
    ] {
        let response = closed.run(Role::Admin, document).await;
        assert_eq!(codes(&response), ["FORBIDDEN"], "{document}");
        assert!(
            response.errors[0].message.contains("introspection is off"),
            "{:?}",
            response.errors
        );
    }
    let response = closed.run(Role::Admin, "{ __typename }").await;
    assert_eq!(data(response)["__typename"], "Query");
    // The refusal comes before execution on every path: a batch, and the websocket's stream.
    let batch = BatchRequest::Batch(vec![
        Request::new("{ __typename }").data(caller(Role::Admin)),
        Request::new(introspection).data(caller(Role::Admin)),
    ]);
    let BatchResponse::Batch(answers) = closed.schema.execute_batch(batch).await else {
        panic!("a batch is answered with a batch");
    };
    assert!(answers[0].errors.is_empty(), "{:?}", answers[0].errors);
    assert_eq!(codes(&answers[1]), ["FORBIDDEN"]);
    let mut stream = closed
        .schema
        .execute_stream(Request::new(introspection).data(caller(Role::Admin)));
    let answer = stream.next().await.expect("one answer");
    assert_eq!(codes(&answer), ["FORBIDDEN"]);
    assert!(stream.next().await.is_none(), "the refusal ends the stream");
    drop(stream);
    closed.close().await;

    let open = Harness::start_with(ApiOptions {
        introspection: true,
        ..ApiOptions::default()
    })
    .await;
    let response = open.run(Role::Admin, introspection).await;
    assert_eq!(data(response)["__schema"]["queryType"]["name"], "Query");
    // GraphiQL's introspection query fits the default depth and complexity.
    let response = open.run(Role::Agent, GRAPHIQL_INTROSPECTION).await;
    assert!(response.errors.is_empty(), "{:?}", response.errors);
    open.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn without_a_caller_every_field_is_unauthenticated() {
    let harness = Harness::start().await;
    let response = harness
        .schema
        .execute(Request::new("{ viewer { role } ledger { headPosition } }"))
        .await;
    assert_eq!(codes(&response), ["UNAUTHENTICATED", "UNAUTHENTICATED"]);
    let response = harness
        .schema
        .execute(Request::new(
            r#"mutation { registerCustomer(input: { kind: INDIVIDUAL, name: "张三" }) { id } }"#,
        ))
        .await;
    assert_eq!(codes(&response), ["UNAUTHENTICATED"]);
    harness.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn reading_a_position_past_the_head_is_refused_at_once() {
    let harness = Harness::start().await;
    let request = Request::new("{ customers { edges { cursor } } }")
        .data(caller(Role::Agent))
        .data(ConsistentWith(Position(1_000)));
    let response = harness.schema.execute(request).await;
    assert_invalid(&response, "X-Ledger-Consistent-With");
    harness.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_document_sent_again_is_parsed_once_and_answers_the_same() {
    let harness = Harness::start().await;
    let (customer, position) = harness.register("张三", "13800138000").await;
    // Wait until the directory and the timeline show the customer.
    let seen =
        format!(r#"{{ customer(id: "{customer}") {{ timeline(first: 1) {{ totalCount }} }} }}"#);
    let seen = harness.run_consistent(Role::Agent, &seen, &position).await;
    assert!(seen.errors.is_empty(), "{:?}", seen.errors);
    let document = r#"query Screen($id: ID!, $full: Boolean!) {
        customer(id: $id) { name timeline(first: 5) @include(if: $full) { totalCount } }
    }"#;
    let variables = |full: bool| serde_json::json!({ "id": customer, "full": full });
    let before = harness.schema.cached_documents();
    let full = harness
        .run_with(Role::Agent, document, variables(true))
        .await;
    let short = harness
        .run_with(Role::Agent, document, variables(false))
        .await;
    let again = harness
        .run_with(Role::Agent, document, variables(true))
        .await;
    assert_eq!(harness.schema.cached_documents(), before + 1);
    // `@include` removed the timeline from the second request's copy only.
    let (full, short, again) = (data(full), data(short), data(again));
    assert!(
        full["customer"]["timeline"]["totalCount"].is_number(),
        "{full}"
    );
    assert!(short["customer"].get("timeline").is_none(), "{short}");
    assert_eq!(again, full);
    // A document that does not parse is not kept, and async-graphql's own error answers it.
    let broken = harness.run(Role::Agent, "{ customer(id: ").await;
    assert_eq!(broken.errors.len(), 1, "{:?}", broken.errors);
    assert_eq!(harness.schema.cached_documents(), before + 1);
    harness.close().await;
}

/// graphql-js's `getIntrospectionQuery()`, as GraphiQL sends it.
const GRAPHIQL_INTROSPECTION: &str = r#"
query IntrospectionQuery {
  __schema {
    queryType { name }
    mutationType { name }
    subscriptionType { name }
    types { ...FullType }
    directives { name description locations args { ...InputValue } }
  }
}
fragment FullType on __Type {
  kind name description
  fields(includeDeprecated: true) { name description args { ...InputValue } type { ...TypeRef } isDeprecated deprecationReason }
  inputFields { ...InputValue }
  interfaces { ...TypeRef }
  enumValues(includeDeprecated: true) { name description isDeprecated deprecationReason }
  possibleTypes { ...TypeRef }
}
fragment InputValue on __InputValue { name description type { ...TypeRef } defaultValue }
fragment TypeRef on __Type {
  kind name
  ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name
    ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } } } } }
}
"#;

#[tokio::test(flavor = "multi_thread")]
async fn an_argument_past_what_can_be_known_or_named_is_refused_naming_it() {
    let harness = Harness::start().await;
    let long = "张".repeat(101);
    let future = jiff::Timestamp::now() + jiff::SignedDuration::from_hours(24 * 400);
    let cases = [
        (
            Role::Agent,
            format!(r#"{{ customers(search: "{long}") {{ edges {{ cursor }} }} }}"#),
            "search",
        ),
        (
            Role::Agent,
            r#"{ customers(search: "   ") { edges { cursor } } }"#.to_owned(),
            "search",
        ),
        (
            Role::Analyst,
            format!(r#"{{ segment(name: "{}") {{ size }} }}"#, "a".repeat(65)),
            "name",
        ),
        (
            Role::Analyst,
            format!(r#"{{ segment(name: "at-risk", asOf: "{future}") {{ size }} }}"#),
            "asOf",
        ),
        (
            Role::Admin,
            r#"mutation { launchCampaign(input: { name: "续保季", budget: "100000", channels: [PHONE],
                targetSegment: "no-such-segment", periodStart: "2025-03-01", periodEnd: "2025-03-31",
                owner: "mkt-01" }) { id } }"#
                .to_owned(),
            "input.targetSegment",
        ),
    ];
    for (role, document, field) in cases {
        let response = harness.run(role, &document).await;
        assert_invalid(&response, field);
    }
    // A well-formed name no rule defines is simply no segment.
    let unknown = harness
        .run(
            Role::Analyst,
            r#"{ segment(name: "no-such-segment") { size } }"#,
        )
        .await;
    assert!(unknown.errors.is_empty(), "{:?}", unknown.errors);
    assert!(data(unknown)["segment"].is_null());
    harness.close().await;
}
