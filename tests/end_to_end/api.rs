//! The agent's, analyst's and auditor's jobs over HTTP: through `app().oneshot`, and once
//! through the real binary on a socket (started, queried, stopped with SIGTERM).

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, Stdio};

use ledger_server::config::{Config, RoleName};
use serde_json::{Value, json};

use crate::server::TestApp;

pub(crate) const REGISTER: &str = "mutation Register($input: RegisterCustomerInput!) {
  registerCustomer(input: $input) { position id }
}";

pub(crate) const RECORD: &str = "mutation Record($input: RecordContactInput!, $eventId: ID, $expectedVersion: Count) {
  recordContact(input: $input, eventId: $eventId, expectedVersion: $expectedVersion) { position streamVersion duplicate }
}";

const LOOKUP: &str = "query Lookup($value: String!) {
  customerByIdentifier(kind: MOBILE, value: $value) {
    id name
    timeline(first: 10, kinds: [\"ContactRecorded\"]) { edges { node { channel summary occurredAt } } }
  }
}";

pub(crate) fn contact_input(customer: &str, channel: &str, started_at: &str) -> Value {
    json!({
        "customerId": customer, "channel": channel, "direction": "INBOUND", "startedAt": started_at,
        "durationSeconds": 180, "topic": "ENQUIRY", "summary": format!("咨询续保 via {channel}"), "outcome": "RESOLVED"
    })
}

fn ok_data(status: axum::http::StatusCode, body: &Value) -> &Value {
    assert_eq!(status, axum::http::StatusCode::OK, "{body}");
    assert!(body.get("errors").is_none(), "{body}");
    &body["data"]
}

#[tokio::test(flavor = "multi_thread")]
async fn an_agent_records_four_channels_and_finds_them_from_the_phone_in_another_format() {
    let app = TestApp::new().await;
    let agent = Some(RoleName::Agent);
    let register = json!({ "query": REGISTER, "variables": { "input": {
        "kind": "INDIVIDUAL", "name": "张三", "identifiers": [{ "kind": "MOBILE", "value": "13800138000" }]
    }}});
    let (status, body) = app.graphql(agent, register, &[]).await;
    let customer = ok_data(status, &body)["registerCustomer"]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let mut last_position = String::new();
    let channels = ["PHONE", "WECHAT", "WEB", "WALK_IN"];
    for (minute, channel) in channels.iter().enumerate() {
        let input = contact_input(&customer, channel, &format!("2026-11-20T0{minute}:00:00Z"));
        let (status, body) = app
            .graphql(
                agent,
                json!({ "query": RECORD, "variables": { "input": input } }),
                &[],
            )
            .await;
        last_position = ok_data(status, &body)["recordContact"]["position"]
            .as_str()
            .unwrap()
            .to_owned();
    }

    // Read-your-writes: the lookup waits for the read models to apply the last position.
    let consistent = [("x-ledger-consistent-with", last_position.clone())];
    let lookup = json!({ "query": LOOKUP, "variables": { "value": "+86 138-0013-8000" } });
    let (status, body) = app.graphql(agent, lookup, &consistent).await;
    let found = &ok_data(status, &body)["customerByIdentifier"];
    assert_eq!(found["id"], customer);
    assert_eq!(found["name"], "张三");
    let seen: Vec<&str> = found["timeline"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|edge| edge["node"]["channel"].as_str().unwrap())
        .collect();
    assert_eq!(
        seen,
        vec!["WALK_IN", "WEB", "WECHAT", "PHONE"],
        "newest first"
    );

    // A retry with the same eventId answers the same position and writes nothing.
    let event_id = "0193a5e2-8c3b-7d4e-9f00-1234567890ab";
    let retry = json!({ "query": RECORD, "variables": {
        "input": contact_input(&customer, "EMAIL", "2026-11-20T05:00:00Z"), "eventId": event_id } });
    let (status, first) = app.graphql(agent, retry.clone(), &[]).await;
    let first = ok_data(status, &first)["recordContact"].clone();
    let (status, second) = app.graphql(agent, retry, &[]).await;
    let second = ok_data(status, &second)["recordContact"].clone();
    assert_eq!(first["position"], second["position"]);
    assert_eq!(
        (first["duplicate"].as_bool(), second["duplicate"].as_bool()),
        (Some(false), Some(true))
    );

    // A stale expectedVersion is a conflict.
    let stale = json!({ "query": RECORD, "variables": {
        "input": contact_input(&customer, "FAX", "2026-11-20T06:00:00Z"), "expectedVersion": "2" } });
    let (_, body) = app.graphql(agent, stale, &[]).await;
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "CONFLICT",
        "{body}"
    );

    // The analyst sees the number and the name masked.
    let analyst = json!({ "query": "query($id: ID!) { customer(id: $id) { name identifiers { value } } }", "variables": { "id": customer } });
    let (status, body) = app.graphql(Some(RoleName::Analyst), analyst, &[]).await;
    let masked = &ok_data(status, &body)["customer"];
    assert_eq!(masked["name"], "张*");
    assert_eq!(masked["identifiers"][0]["value"], "138****8000");
    assert!(!body.to_string().contains("13800138000"), "{body}");

    // The auditor verifies the ledger.
    let (status, body) = app
        .graphql(
            Some(RoleName::Auditor),
            json!({ "query": "{ verifyLedger { ok } ledger { eventCount } }" }),
            &[],
        )
        .await;
    let audit = ok_data(status, &body);
    assert_eq!(audit["verifyLedger"]["ok"], true);
    assert_eq!(audit["ledger"]["eventCount"], "6");
}

/// Sends one HTTP/1.1 POST over a plain socket and returns the response body.
pub(crate) fn post(address: &str, token: &str, body: &Value) -> String {
    let body = body.to_string();
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    write!(
        stream,
        "POST /graphql HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let (head, payload) = response.split_once("\r\n\r\n").unwrap();
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    payload.to_owned()
}

#[test]
fn the_binary_serves_on_a_socket_and_stops_cleanly_on_sigterm() {
    let scratch = tempfile::tempdir().unwrap();
    let data = scratch.path().join("data");
    let fixture = crate::fixture::fixture_path();
    assert!(
        ledger_tests::run(&[
            "import",
            "--data",
            data.to_str().unwrap(),
            fixture.to_str().unwrap()
        ])
        .status
        .success()
    );
    let mut server = ledger_tests::command()
        .args([
            "serve",
            "--data",
            data.to_str().unwrap(),
            "--listen",
            "127.0.0.1:0",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(server.stdout.take().unwrap()).lines();
    let address = lines
        .by_ref()
        .map(Result::unwrap)
        .find_map(|line| {
            line.split_once(" on http://")
                .map(|(_, rest)| rest.split('/').next().unwrap().to_owned())
        })
        .expect("serve prints its address");
    let config = Config::load(&data.join("ledger.toml")).unwrap();
    let token = |role| {
        config
            .auth
            .tokens
            .iter()
            .find(|token| token.role == role)
            .unwrap()
            .token
            .clone()
    };

    // Wait (bounded) until the read models have caught up with the imported history.
    let ready = (0..100).any(|_| {
        let mut stream = std::net::TcpStream::connect(&address).unwrap();
        write!(
            stream,
            "GET /readyz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).unwrap();
        let ready = response.starts_with("HTTP/1.1 200");
        if !ready {
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        ready
    });
    assert!(ready, "the server never became ready");

    let body: Value = serde_json::from_str(&post(
        &address,
        &token(RoleName::Auditor),
        &json!({ "query": "{ ledger { eventCount headHash } verifyLedger { ok } }" }),
    ))
    .unwrap();
    let lines_in_fixture = std::fs::read_to_string(&fixture)
        .unwrap()
        .lines()
        .count()
        .to_string();
    assert_eq!(
        body["data"]["ledger"]["eventCount"],
        lines_in_fixture.as_str(),
        "{body}"
    );
    assert_eq!(body["data"]["verifyLedger"]["ok"], true);

    // An agent lists customers; SIGTERM follows at once, well inside the access writer's
    // flush interval, so the records are still queued: the shutdown must drain them.
    let listed: Value = serde_json::from_str(&post(
        &address,
        &token(RoleName::Agent),
        &json!({ "query": "{ customers(first: 3) { edges { node { id name } } } }" }),
    ))
    .unwrap();
    let listed: Vec<String> = listed["data"]["customers"]["edges"]
        .as_array()
        .unwrap_or_else(|| panic!("{listed}"))
        .iter()
        .map(|edge| edge["node"]["id"].as_str().unwrap().to_owned())
        .collect();
    assert!(!listed.is_empty());

    let status = Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let exit = server.wait().unwrap();
    assert!(exit.success(), "serve did not stop cleanly: {exit:?}");
    let mut errors = String::new();
    server
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut errors)
        .unwrap();
    assert!(errors.contains("shutting down"), "{errors}");
    // Stopped cleanly: the store verifies and holds everything.
    let verified = ledger_tests::run(&["verify", "--data", data.to_str().unwrap(), "--json"]);
    assert!(
        verified.status.success(),
        "{}",
        ledger_tests::stdout(&verified)
    );
    assert_access_records_drained(&data, &config, &listed);
}

/// After a graceful stop, the store holds one `customers` access record per customer the agent
/// listed, under the agent's subject.
fn assert_access_records_drained(data: &std::path::Path, config: &Config, listed: &[String]) {
    let agent = config
        .auth
        .tokens
        .iter()
        .find(|token| token.role == RoleName::Agent)
        .unwrap()
        .subject
        .clone();
    let log =
        ledger_store::SledEventLog::open(data, ledger_store::StoreOptions::default()).unwrap();
    let page = log
        .access()
        .page(&ledger_store::AccessQuery {
            filter: ledger_store::AccessFilter::Subject(agent),
            from: None,
            to: None,
            after: None,
            first: ledger_store::limits::ACCESS_PAGE_MAX,
        })
        .unwrap();
    let mut recorded: Vec<String> = page
        .items
        .iter()
        .map(|(_, record)| {
            assert_eq!(record.operation, "customers");
            assert_eq!(record.role, "agent");
            record.customer.to_string()
        })
        .collect();
    recorded.sort();
    let mut listed = listed.to_vec();
    listed.sort();
    assert_eq!(recorded, listed);
}
