//! Masked fields never leak to an analyst: a customer with distinctive personal data (name,
//! mobile, e-mail, plate, and a contact summary repeating them) is read by an analyst through
//! every path that carries it — the customer, its identifiers and known identifiers, its
//! timeline titles and summaries, the customer list, a subscription to its activity — and
//! through refusals whose arguments carry the data (a lookup, a name search, a mutation the
//! analyst may not make). No answer may contain any of it; the masked forms must be there, so
//! the test cannot pass by reading nothing.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use ledger_server::config::RoleName;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use crate::api::{RECORD, REGISTER, contact_input};
use crate::server::TestApp;

const NAME: &str = "欧阳秘密";
const MOBILE: &str = "13912340000";
const EMAIL: &str = "mimi.secret@example.com";
const PLATE: &str = "吉B54321";
/// Pieces of the data that must not appear in any form an analyst receives.
const SECRETS: [&str; 6] = [NAME, "秘密", MOBILE, "9123400", "mimi.secret", "B5432"];
/// The longest the test waits for a subscription message.
const MESSAGE_WAIT: Duration = Duration::from_secs(10);
/// How long a recorded contact may go undelivered before the test records another.
const RECORD_AGAIN_AFTER: Duration = Duration::from_millis(500);

fn assert_no_secret(what: &str, text: &str) {
    for secret in SECRETS {
        assert!(
            !text.contains(secret),
            "{what} leaks {secret:?} to the analyst: {text}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn no_path_shows_an_analyst_the_personal_data_it_masks() {
    let app = TestApp::new().await;
    let agent = Some(RoleName::Agent);
    let analyst = Some(RoleName::Analyst);
    let register = json!({ "query": REGISTER, "variables": { "input": {
        "kind": "INDIVIDUAL", "name": NAME, "identifiers": [
            { "kind": "MOBILE", "value": MOBILE }, { "kind": "EMAIL", "value": EMAIL },
            { "kind": "PLATE", "value": PLATE } ] } } });
    let (_, body) = app.graphql(agent, register, &[]).await;
    let customer = body["data"]["registerCustomer"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{body}"))
        .to_owned();

    // A subscription to the customer's activity, open before the contact is recorded.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(axum::serve(listener, app.router.clone()).into_future());
    let mut request = format!("ws://{address}/graphql/ws")
        .into_client_request()
        .unwrap();
    request.headers_mut().insert(
        "sec-websocket-protocol",
        "graphql-transport-ws".parse().unwrap(),
    );
    let (mut socket, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    let bearer = format!("Bearer {}", app.token(RoleName::Analyst));
    let init = json!({ "type": "connection_init", "payload": { "Authorization": bearer } });
    socket
        .send(Message::Text(init.to_string().into()))
        .await
        .unwrap();
    let subscribe = json!({ "id": "1", "type": "subscribe", "payload": { "query": format!(
        r#"subscription {{ customerActivity(customerId: "{customer}") {{ position eventId eventType stream actor customerId }} }}"#) } });
    socket
        .send(Message::Text(subscribe.to_string().into()))
        .await
        .unwrap();

    let mut contact = contact_input(&customer, "PHONE", "2026-11-20T05:00:00Z");
    contact["summary"] = json!(format!(
        "{NAME} called from {MOBILE} about {EMAIL} and {PLATE}"
    ));
    // The subscription is "from now on", and nothing says when the server has started it: a
    // contact recorded before then is never delivered. So the contact is recorded again until
    // one is delivered (each carries the same secrets), within MESSAGE_WAIT in all.
    let deadline = tokio::time::Instant::now() + MESSAGE_WAIT;
    let mut position = String::new();
    let mut delivered = false;
    while !delivered {
        let (_, body) = app
            .graphql(
                agent,
                json!({ "query": RECORD, "variables": { "input": contact } }),
                &[],
            )
            .await;
        position = body["data"]["recordContact"]["position"]
            .as_str()
            .unwrap_or_else(|| panic!("{body}"))
            .to_owned();
        let round_ends = (tokio::time::Instant::now() + RECORD_AGAIN_AFTER).min(deadline);
        while !delivered {
            let Ok(message) = tokio::time::timeout_at(round_ends, socket.next()).await else {
                assert!(
                    tokio::time::Instant::now() < deadline,
                    "no subscription message within {MESSAGE_WAIT:?}"
                );
                break;
            };
            if let Message::Text(text) = message.expect("open").expect("readable") {
                assert_no_secret("customerActivity", &text);
                let message: Value = serde_json::from_str(&text).unwrap();
                delivered = message["type"] == "next";
            }
        }
    }

    let consistent = [("x-ledger-consistent-with", position)];
    let reads = [
        format!(
            r#"{{ customer(id: "{customer}") {{ id name group identifiers {{ kind value }}
                knownIdentifiers(first: 20) {{ edges {{ node {{ kind value }} }} }}
                timeline(first: 50) {{ edges {{ node {{ kind title summary agent channel outcome }} }} }}
                serviceHistory(first: 10) {{ edges {{ cursor }} }} segments }} }}"#
        ),
        "{ customers(first: 50) { edges { node { name identifiers { value } } } } }".to_owned(),
    ];
    for document in &reads {
        let (status, body) = app
            .graphql(analyst, json!({ "query": document }), &consistent)
            .await;
        assert_eq!(status, 200, "{body}");
        assert!(body.get("errors").is_none(), "{body}");
        assert_no_secret(document, &body.to_string());
    }
    let (_, body) = app
        .graphql(analyst, json!({ "query": reads[0] }), &consistent)
        .await;
    let masked = &body["data"]["customer"];
    assert_eq!(
        masked["identifiers"].as_array().map(Vec::len),
        Some(3),
        "{body}"
    );
    assert_eq!(
        masked["timeline"]["edges"][0]["node"]["summary"], "[masked]",
        "{body}"
    );
    assert!(
        masked["name"]
            .as_str()
            .is_some_and(|name| name.contains('*')),
        "{body}"
    );

    // Refusals must not echo the personal data their arguments carry.
    let refusals = [
        format!(r#"{{ customerByIdentifier(kind: MOBILE, value: "{MOBILE}") {{ id }} }}"#),
        format!(r#"{{ customers(search: "{NAME}", first: 5) {{ edges {{ cursor }} }} }}"#),
        format!(
            r#"mutation {{ registerCustomer(input: {{ kind: INDIVIDUAL, name: "{NAME}",
                identifiers: [{{ kind: MOBILE, value: "{MOBILE}" }}] }}) {{ position }} }}"#
        ),
        format!(
            r#"mutation {{ updateProfile(input: {{ customerId: "{customer}", name: "{NAME}" }}) {{ position }} }}"#
        ),
    ];
    for document in &refusals {
        let (status, body) = app
            .graphql(analyst, json!({ "query": document }), &[])
            .await;
        assert_eq!(status, 200, "{body}");
        let errors = body["errors"].to_string();
        assert!(
            body["errors"].is_array(),
            "{document} must be refused: {body}"
        );
        assert_no_secret(document, &errors);
        assert_no_secret(document, &body["data"].to_string());
    }
}
