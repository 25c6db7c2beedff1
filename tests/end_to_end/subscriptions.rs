//! Subscriptions over a real socket: `ledgerEvents` over `graphql-transport-ws` delivers every
//! position once, in order, across the hand-over from catch-up to live.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use ledger_server::config::RoleName;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use crate::api::{RECORD, REGISTER, contact_input};
use crate::server::TestApp;

/// The longest the test waits for any one message.
const MESSAGE_WAIT: Duration = Duration::from_secs(10);

async fn next_json<S>(socket: &mut S) -> Value
where
    S: futures_util::Stream<Item = Result<Message, tokio_tungstenite::tungstenite::Error>> + Unpin,
{
    loop {
        let message = tokio::time::timeout(MESSAGE_WAIT, socket.next())
            .await
            .expect("a message in time")
            .expect("open")
            .expect("readable");
        if let Message::Text(text) = message {
            return serde_json::from_str(&text).unwrap();
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn ledger_events_arrive_with_no_gap_across_catch_up_and_live() {
    let app = TestApp::new().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(axum::serve(listener, app.router.clone()).into_future());

    // History before the subscription: a customer and two contacts.
    let register = json!({ "query": REGISTER, "variables": { "input": {
        "kind": "INDIVIDUAL", "name": "李雷", "identifiers": [{ "kind": "MOBILE", "value": "13912345678" }] } } });
    let (_, body) = app.graphql(Some(RoleName::Agent), register, &[]).await;
    let customer = body["data"]["registerCustomer"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let record = |minute: u32| json!({ "query": RECORD, "variables": { "input": contact_input(&customer, "WECHAT", &format!("2026-11-20T08:{minute:02}:00Z")) } });
    for minute in 0..2 {
        let (status, body) = app
            .graphql(Some(RoleName::Agent), record(minute), &[])
            .await;
        assert!(
            status.is_success() && body.get("errors").is_none(),
            "{body}"
        );
    }

    let mut request = format!("ws://{address}/graphql/ws")
        .into_client_request()
        .unwrap();
    request.headers_mut().insert(
        "sec-websocket-protocol",
        "graphql-transport-ws".parse().unwrap(),
    );
    let (mut socket, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    let bearer = format!("Bearer {}", app.token(RoleName::Auditor));
    let init = json!({ "type": "connection_init", "payload": { "Authorization": bearer } });
    socket
        .send(Message::Text(init.to_string().into()))
        .await
        .unwrap();
    assert_eq!(next_json(&mut socket).await["type"], "connection_ack");
    let subscribe = json!({ "id": "1", "type": "subscribe", "payload": {
        "query": "subscription { ledgerEvents(afterPosition: \"0\") { position eventType } }" } });
    socket
        .send(Message::Text(subscribe.to_string().into()))
        .await
        .unwrap();

    let mut positions = Vec::new();
    for _ in 0..3 {
        let message = next_json(&mut socket).await;
        assert_eq!(message["type"], "next", "{message}");
        positions.push(
            message["payload"]["data"]["ledgerEvents"]["position"]
                .as_str()
                .unwrap()
                .parse::<u64>()
                .unwrap(),
        );
    }
    // Live: three more contacts while the subscription is open.
    for minute in 2..5 {
        let (status, body) = app
            .graphql(Some(RoleName::Agent), record(minute), &[])
            .await;
        assert!(
            status.is_success() && body.get("errors").is_none(),
            "{body}"
        );
    }
    for _ in 0..3 {
        let message = next_json(&mut socket).await;
        assert_eq!(message["type"], "next", "{message}");
        positions.push(
            message["payload"]["data"]["ledgerEvents"]["position"]
                .as_str()
                .unwrap()
                .parse::<u64>()
                .unwrap(),
        );
    }
    assert_eq!(positions, (1..=6).collect::<Vec<u64>>());

    // Without a token the connection is refused at connection_init.
    let mut request = format!("ws://{address}/graphql/ws")
        .into_client_request()
        .unwrap();
    request.headers_mut().insert(
        "sec-websocket-protocol",
        "graphql-transport-ws".parse().unwrap(),
    );
    let (mut anonymous, _) = tokio_tungstenite::connect_async(request).await.unwrap();
    anonymous
        .send(Message::Text(
            json!({ "type": "connection_init", "payload": {} })
                .to_string()
                .into(),
        ))
        .await
        .unwrap();
    let refused = tokio::time::timeout(MESSAGE_WAIT, anonymous.next())
        .await
        .expect("an answer in time");
    assert!(
        !matches!(&refused, Some(Ok(Message::Text(text))) if text.contains("connection_ack")),
        "an anonymous connection was acknowledged: {refused:?}"
    );
}

/// A websocket whose `connection_init` carries no token, or a wrong one, is closed without an
/// acknowledgement: no subscription can start on it.
#[tokio::test(flavor = "multi_thread")]
async fn a_websocket_without_a_valid_token_is_closed_before_any_subscription() {
    let app = TestApp::new().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(axum::serve(listener, app.router.clone()).into_future());

    let payloads = [
        json!({}),
        json!({ "Authorization": "Bearer not-a-token-of-this-ledger-000000" }),
        json!({ "Authorization": app.token(RoleName::Auditor) }),
    ];
    for payload in payloads {
        let mut request = format!("ws://{address}/graphql/ws")
            .into_client_request()
            .unwrap();
        request.headers_mut().insert(
            "sec-websocket-protocol",
            "graphql-transport-ws".parse().unwrap(),
        );
        let (mut socket, _) = tokio_tungstenite::connect_async(request).await.unwrap();
        let init = json!({ "type": "connection_init", "payload": payload });
        socket
            .send(Message::Text(init.to_string().into()))
            .await
            .unwrap();
        // Subscribing anyway must not deliver anything.
        let subscribe = json!({ "id": "1", "type": "subscribe", "payload": {
            "query": "subscription { ledgerEvents(afterPosition: \"0\") { position } }" } });
        let _ = socket
            .send(Message::Text(subscribe.to_string().into()))
            .await;
        let mut closed = false;
        while let Ok(Some(message)) = tokio::time::timeout(MESSAGE_WAIT, socket.next()).await {
            match message {
                Ok(Message::Text(text)) => {
                    let value: Value = serde_json::from_str(&text).unwrap();
                    assert_ne!(value["type"], "connection_ack", "{payload}: acknowledged");
                    assert_ne!(value["type"], "next", "{payload}: delivered {value}");
                }
                Ok(Message::Close(frame)) => {
                    // 4403 (init refused) or 4401 / 1002 (a subscribe before any ack):
                    // never a normal close.
                    let code = frame.map(|frame| u16::from(frame.code));
                    assert!(
                        matches!(code, Some(4401 | 4403 | 1002)),
                        "{payload}: closed with {code:?}"
                    );
                    closed = true;
                    break;
                }
                Ok(_) => {}
                Err(_) => {
                    closed = true;
                    break;
                }
            }
        }
        assert!(closed, "{payload}: the socket stayed open");
    }
}
