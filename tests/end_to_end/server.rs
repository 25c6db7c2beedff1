//! The HTTP front through `app().oneshot` (no socket): authentication, GraphiQL, GET rules,
//! limits, health and metrics. One test also runs the real binary on a socket.

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use ledger_app::Ledger;
use ledger_server::config::{Config, RoleName};
use ledger_server::server::auth::Tokens;
use ledger_server::server::{AppState, BATCH_OPERATIONS_MAX, BODY_BYTES_MAX, app};
use ledger_store::StoreOptions;
use serde_json::{Value, json};
use tower::ServiceExt;

/// A running ledger in a temporary directory with an app over it and one token per role.
pub struct TestApp {
    pub router: Router,
    pub config: Config,
    _dir: tempfile::TempDir,
}

impl TestApp {
    pub async fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let ledger = Ledger::open(
            dir.path(),
            StoreOptions::default(),
            ledger_app::KeyOptions::insecure_for_tests(),
        )
        .unwrap();
        ledger.start();
        let config = Config::generate();
        // As `serve` does: the generated config's checkpoint key signs `signedCheckpoint`.
        let options = ledger_graphql::ApiOptions {
            checkpoint_key: config.checkpoint_key().unwrap(),
            ..ledger_graphql::ApiOptions::default()
        };
        let schema = ledger_graphql::build_schema(ledger.clone(), options);
        let router = app(AppState::new(ledger, schema, Tokens::from_config(&config)));
        Self {
            router,
            config,
            _dir: dir,
        }
    }

    pub fn token(&self, role: RoleName) -> String {
        self.config
            .auth
            .tokens
            .iter()
            .find(|token| token.role == role)
            .unwrap()
            .token
            .clone()
    }

    pub async fn send(
        &self,
        request: Request<Body>,
    ) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let body = response
            .into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .to_vec();
        (status, headers, body)
    }

    /// POSTs a GraphQL operation as `role`, with extra headers; returns the status and JSON.
    pub async fn graphql(
        &self,
        role: Option<RoleName>,
        body: Value,
        headers: &[(&str, String)],
    ) -> (StatusCode, Value) {
        let mut request =
            Request::post("/graphql").header(header::CONTENT_TYPE, "application/json");
        if let Some(role) = role {
            request = request.header(
                header::AUTHORIZATION,
                format!("Bearer {}", self.token(role)),
            );
        }
        for (name, value) in headers {
            request = request.header(*name, value);
        }
        // Real clients send the length; the body limit answers 413 from it before reading.
        let body = body.to_string();
        request = request.header(header::CONTENT_LENGTH, body.len());
        let (status, _, body) = self.send(request.body(Body::from(body)).unwrap()).await;
        (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn requests_without_a_known_bearer_token_are_refused() {
    let app = TestApp::new().await;
    let query = json!({ "query": "{ ledger { headPosition } }" });
    let (status, body) = app.graphql(None, query.clone(), &[]).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["errors"][0]["extensions"]["code"], "UNAUTHENTICATED");
    let wrong = [(
        "authorization",
        "Bearer not-a-token-this-server-knows".to_owned(),
    )];
    let (status, body) = app.graphql(None, query.clone(), &wrong).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("not one this server knows")
    );
    let (status, body) = app.graphql(Some(RoleName::Auditor), query, &[]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["ledger"]["headPosition"], "0");
}

#[tokio::test(flavor = "multi_thread")]
async fn graphiql_and_its_assets_are_served_from_the_binary() {
    let app = TestApp::new().await;
    let (status, headers, body) = app
        .send(Request::get("/").body(Body::empty()).unwrap())
        .await;
    assert_eq!(status, StatusCode::OK);
    let page = String::from_utf8(body).unwrap();
    assert!(page.contains("/assets/graphiql/graphiql.min.js"), "{page}");
    assert!(
        !page.contains("cdn") && !page.contains("https://"),
        "the page must load nothing from outside"
    );
    assert!(
        headers[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .unwrap()
            .contains("script-src 'self'")
    );
    for asset in [
        "graphiql.min.js",
        "graphiql.min.css",
        "react.production.min.js",
        "react-dom.production.min.js",
        "init.js",
    ] {
        let (status, _, body) = app
            .send(
                Request::get(format!("/assets/graphiql/{asset}"))
                    .body(Body::empty())
                    .unwrap(),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{asset}");
        assert!(body.len() > 100, "{asset} is empty");
    }
    let (status, _, _) = app
        .send(
            Request::get("/assets/graphiql/nothing.js")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread")]
async fn get_serves_queries_but_refuses_mutations() {
    let app = TestApp::new().await;
    let bearer = format!("Bearer {}", app.token(RoleName::Admin));
    let query = Request::get("/graphql?query=%7Bledger%7BheadPosition%7D%7D")
        .header(header::AUTHORIZATION, &bearer)
        .body(Body::empty())
        .unwrap();
    let (status, _, body) = app.send(query).await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
    let mutation = Request::get("/graphql?query=mutation%7BeraseCustomer%7D")
        .header(header::AUTHORIZATION, &bearer)
        .body(Body::empty())
        .unwrap();
    let (status, headers, _) = app.send(mutation).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(headers[header::ALLOW], "POST");
}

#[tokio::test(flavor = "multi_thread")]
async fn oversized_bodies_long_batches_and_bad_positions_are_refused() {
    let app = TestApp::new().await;
    let huge = json!({ "query": format!("{{ ledger {{ headPosition }} }} #{}", "x".repeat(BODY_BYTES_MAX)) });
    let (status, _) = app.graphql(Some(RoleName::Auditor), huge, &[]).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);

    let batch: Vec<Value> = (0..=BATCH_OPERATIONS_MAX)
        .map(|_| json!({ "query": "{ ledger { headPosition } }" }))
        .collect();
    let (status, body) = app
        .graphql(Some(RoleName::Auditor), Value::Array(batch), &[])
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains(&format!("at most {BATCH_OPERATIONS_MAX}"))
    );

    let small: Vec<Value> = (0..2)
        .map(|_| json!({ "query": "{ ledger { headPosition } }" }))
        .collect();
    let (status, body) = app
        .graphql(Some(RoleName::Auditor), Value::Array(small), &[])
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body.as_array().map(Vec::len), Some(2), "{body}");

    let bad = [("x-ledger-consistent-with", "soon".to_owned())];
    let (status, body) = app
        .graphql(
            Some(RoleName::Auditor),
            json!({ "query": "{ ledger { headPosition } }" }),
            &bad,
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["errors"][0]["extensions"]["code"], "VALIDATION");
}

#[tokio::test(flavor = "multi_thread")]
async fn health_and_metrics_report_the_ledger() {
    let app = TestApp::new().await;
    let (status, _, body) = app
        .send(Request::get("/livez").body(Body::empty()).unwrap())
        .await;
    assert_eq!(
        (status, body.as_slice()),
        (StatusCode::OK, b"live\n".as_slice())
    );
    // Not ready while the read models are first built; ready once they are (bounded wait).
    let mut last = (StatusCode::SERVICE_UNAVAILABLE, Vec::new());
    for _ in 0..200 {
        let (status, _, body) = app
            .send(Request::get("/readyz").body(Body::empty()).unwrap())
            .await;
        last = (status, body);
        if status == StatusCode::OK {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(
        last.0,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&last.1)
    );

    // A client's operation name is free text (here a caller's number): `/metrics` needs no
    // token, so the request is labelled by the schema field it runs, never by that name.
    let named = json!({
        "query": "query Caller_18733026926 { ledger { headPosition } }",
        "operationName": "Caller_18733026926",
    });
    app.graphql(Some(RoleName::Auditor), named, &[]).await;
    let (status, headers, body) = app
        .send(Request::get("/metrics").body(Body::empty()).unwrap())
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        headers[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    let text = String::from_utf8(body).unwrap();
    for metric in [
        "ledger_graphql_requests_total{operation=\"query:ledger\"",
        "ledger_graphql_request_duration_seconds",
        "ledger_projection_lag_events{projection=\"customer-timeline\"}",
        "ledger_store_bytes",
        "ledger_appends_total",
    ] {
        assert!(text.contains(metric), "{metric} missing from:\n{text}");
    }
    assert!(!text.contains("18733026926"), "{text}");
}

/// `/readyz` of an app over `ledger`, polled until it answers something other than "a read
/// model is being built" (bounded).
async fn readiness_after_read_models(router: &Router) -> (StatusCode, String) {
    let mut last = (StatusCode::SERVICE_UNAVAILABLE, String::new());
    for _ in 0..200 {
        let response = router
            .clone()
            .oneshot(Request::get("/readyz").body(Body::empty()).unwrap())
            .await
            .unwrap();
        let status = response.status();
        let body = response.into_body().collect().await.unwrap().to_bytes();
        last = (status, String::from_utf8_lossy(&body).into_owned());
        if !last.1.contains("read model") && !last.1.contains("projections have applied") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    last
}

/// A router over `ledger` with generated tokens.
fn router_over(ledger: &Ledger) -> Router {
    let config = Config::generate();
    let schema =
        ledger_graphql::build_schema(ledger.clone(), ledger_graphql::ApiOptions::default());
    app(AppState::new(
        ledger.clone(),
        schema,
        Tokens::from_config(&config),
    ))
}

#[tokio::test(flavor = "multi_thread")]
async fn a_server_is_not_ready_until_its_merkle_tree_covers_its_starting_head() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let seeded = ledger_tests::run(&["seed", "--data", data.to_str().unwrap(), "--customers", "5"]);
    assert!(seeded.status.success(), "{}", ledger_tests::stderr(&seeded));
    // A ledger over a log opened on its own starts with an empty tree.
    let ledger = Ledger::with_projections(
        ledger_store::SledEventLog::open(&data, StoreOptions::default()).unwrap(),
        ledger_app::standard_projections().unwrap(),
        ledger_app::KeyOptions::insecure_for_tests(),
    )
    .unwrap();
    let head = ledger_store::EventLog::head(ledger.log()).position.get();
    assert!(head > 0);
    ledger.start();
    let router = router_over(&ledger);
    // Nothing has built the tree (`serve` starts that on a blocking thread): not ready.
    let (status, body) = readiness_after_read_models(&router).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body, "not ready: the Merkle tree is being built\n");
    assert_eq!(ledger.tree_size_now(), Some(0));
    // What `serve`'s build does: then ready.
    ledger.tree_head().unwrap();
    let (status, body) = readiness_after_read_models(&router).await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "ready\n"));
    ledger.close().await.unwrap();
    drop(router);
    drop(ledger);

    // `Ledger::open` (what `serve` does) takes the tree's leaves from the open's walk: the
    // tree covers the head before any build, and the server is ready once the read models are.
    let ledger = Ledger::open(
        &data,
        StoreOptions::default(),
        ledger_app::KeyOptions::insecure_for_tests(),
    )
    .unwrap();
    assert_eq!(ledger.tree_size_now(), Some(head));
    ledger.start();
    let (status, body) = readiness_after_read_models(&router_over(&ledger)).await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "ready\n"));
}
