//! What the HTTP front answers before any GraphQL runs: every refusal is a JSON body in the
//! GraphQL shape whose error carries `extensions.code` (and, for `VALIDATION`, the `field` and
//! the `rule`), and a 401 names the scheme to authenticate with.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use ledger_server::config::RoleName;
use ledger_server::server::{
    BATCH_OPERATIONS_MAX, BODY_BYTES_MAX, BODY_FIELD, CONSISTENT_WITH_RULE,
};
use serde_json::{Value, json};

use crate::server::TestApp;

/// POSTs `body` as is, as `role`; returns the status, the content type and the JSON answer.
async fn post_raw(
    app: &TestApp,
    role: Option<RoleName>,
    body: &'static str,
) -> (StatusCode, String, Value) {
    let mut request = Request::post("/graphql")
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::CONTENT_LENGTH, body.len());
    if let Some(role) = role {
        request = request.header(header::AUTHORIZATION, format!("Bearer {}", app.token(role)));
    }
    let (status, headers, body) = app.send(request.body(Body::from(body)).unwrap()).await;
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .map(|value| value.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let answer = serde_json::from_slice(&body)
        .unwrap_or_else(|_| panic!("not JSON: {}", String::from_utf8_lossy(&body)));
    (status, content_type, answer)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_body_that_is_not_a_graphql_request_is_a_validation_error_in_the_graphql_shape() {
    let app = TestApp::new().await;
    for body in [
        "not json",
        "{\"query\": \"{ ledger { headPosition } }\"",
        "42",
    ] {
        let (status, content_type, answer) = post_raw(&app, Some(RoleName::Auditor), body).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {answer}");
        assert_eq!(content_type, "application/json", "{body}");
        let error = &answer["errors"][0];
        let message = error["message"].as_str().unwrap();
        assert!(
            message.starts_with("the request body is not a GraphQL request: "),
            "{body}: {answer}"
        );
        assert!(
            !message.contains("InvalidRequest(") && !message.contains("Error(\""),
            "{message}"
        );
        assert_eq!(error["extensions"]["code"], "VALIDATION", "{body}");
        assert_eq!(error["extensions"]["field"], BODY_FIELD, "{body}");
        assert!(
            error["extensions"]["rule"]
                .as_str()
                .unwrap()
                .contains("\"query\""),
            "{answer}"
        );
    }
    // Without a token, the caller is refused first: nothing is said about the body.
    let (status, _, answer) = post_raw(&app, None, "not json").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(answer["errors"][0]["extensions"]["code"], "UNAUTHENTICATED");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_bad_consistent_with_header_names_the_header_and_the_rule() {
    let app = TestApp::new().await;
    let query = json!({ "query": "{ ledger { headPosition } }" });
    for value in ["soon", "-1", "4.5", ""] {
        let bad = [("x-ledger-consistent-with", value.to_owned())];
        let (status, body) = app
            .graphql(Some(RoleName::Auditor), query.clone(), &bad)
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{value:?}: {body}");
        let extensions = &body["errors"][0]["extensions"];
        assert_eq!(extensions["code"], "VALIDATION", "{body}");
        assert_eq!(extensions["field"], "X-Ledger-Consistent-With", "{body}");
        assert_eq!(extensions["rule"], CONSISTENT_WITH_RULE, "{body}");
    }
    let good = [("x-ledger-consistent-with", " 0 ".to_owned())];
    let (status, body) = app.graphql(Some(RoleName::Auditor), query, &good).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_401_challenges_the_client_to_send_a_bearer_token() {
    let app = TestApp::new().await;
    for authorization in [
        None,
        Some("Bearer not-a-token-this-server-knows"),
        Some("Basic YTpi"),
    ] {
        let mut request =
            Request::post("/graphql").header(header::CONTENT_TYPE, "application/json");
        if let Some(value) = authorization {
            request = request.header(header::AUTHORIZATION, value);
        }
        let body = Body::from(r#"{"query":"{ ledger { headPosition } }"}"#);
        let (status, headers, _) = app.send(request.body(body).unwrap()).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{authorization:?}");
        assert_eq!(
            headers[header::WWW_AUTHENTICATE],
            "Bearer",
            "{authorization:?}"
        );
    }
    let get = Request::get("/graphql?query=%7Bledger%7BheadPosition%7D%7D")
        .body(Body::empty())
        .unwrap();
    let (status, headers, _) = app.send(get).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(headers[header::WWW_AUTHENTICATE], "Bearer");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_body_past_the_limit_is_a_413_in_the_graphql_shape_with_or_without_its_length() {
    let app = TestApp::new().await;
    let body = json!({ "query": format!("{{ ledger {{ headPosition }} }} #{}", "x".repeat(BODY_BYTES_MAX)) })
        .to_string();
    for declare_length in [true, false] {
        let mut request = Request::post("/graphql")
            .header(header::CONTENT_TYPE, "application/json")
            .header(
                header::AUTHORIZATION,
                format!("Bearer {}", app.token(RoleName::Auditor)),
            );
        if declare_length {
            request = request.header(header::CONTENT_LENGTH, body.len());
        }
        let (status, headers, answer) = app
            .send(request.body(Body::from(body.clone())).unwrap())
            .await;
        assert_eq!(
            status,
            StatusCode::PAYLOAD_TOO_LARGE,
            "length declared: {declare_length}"
        );
        assert_eq!(
            headers[header::CONTENT_TYPE],
            "application/json",
            "length declared: {declare_length}"
        );
        let answer: Value = serde_json::from_slice(&answer).expect("a JSON answer");
        let extensions = &answer["errors"][0]["extensions"];
        assert_eq!(extensions["code"], "VALIDATION", "{answer}");
        assert_eq!(extensions["field"], BODY_FIELD, "{answer}");
        assert!(
            extensions["rule"]
                .as_str()
                .unwrap()
                .contains(&BODY_BYTES_MAX.to_string()),
            "{answer}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_batch_past_its_limit_names_the_body_and_the_rule() {
    let app = TestApp::new().await;
    let batch: Vec<Value> = (0..=BATCH_OPERATIONS_MAX)
        .map(|_| json!({ "query": "{ ledger { headPosition } }" }))
        .collect();
    let (status, body) = app
        .graphql(Some(RoleName::Auditor), Value::Array(batch), &[])
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let extensions = &body["errors"][0]["extensions"];
    assert_eq!(extensions["code"], "VALIDATION", "{body}");
    assert_eq!(extensions["field"], BODY_FIELD, "{body}");
    assert_eq!(
        extensions["rule"],
        format!("a batch carries at most {BATCH_OPERATIONS_MAX} operations"),
        "{body}"
    );
}
