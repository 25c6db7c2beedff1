//! Figure 7: from a `recordContact` acknowledgement (its HTTP answer) to the `screenPop`
//! delivery on a `graphql-transport-ws` subscription of the same agent.

use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use crate::dataset::HotCustomer;
use crate::server::{AGENT, AGENT_TOKEN, graphql};
use crate::stats::Latencies;

/// The longest the bench waits for one websocket message.
pub const MESSAGE_WAIT: Duration = Duration::from_secs(30);

const RECORD: &str = "mutation Record($input: RecordContactInput!) {
  recordContact(input: $input) { position }
}";

/// What the figure measured: ack → delivery, and request sent → delivery.
#[derive(Debug)]
pub struct ScreenPops {
    pub after_ack: Latencies,
    pub after_request: Latencies,
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn next_json(socket: &mut Socket) -> Result<Value, String> {
    loop {
        let message = tokio::time::timeout(MESSAGE_WAIT, socket.next())
            .await
            .map_err(|_| format!("no websocket message within {MESSAGE_WAIT:?}"))?
            .ok_or_else(|| "the websocket closed".to_owned())?
            .map_err(|error| format!("the websocket failed: {error}"))?;
        if let Message::Text(text) = message {
            return serde_json::from_str(&text).map_err(|error| format!("{error}: {text}"));
        }
    }
}

async fn send(socket: &mut Socket, message: Value) -> Result<(), String> {
    socket
        .send(Message::Text(message.to_string().into()))
        .await
        .map_err(|error| format!("sending on the websocket: {error}"))
}

async fn subscribe(address: &str) -> Result<Socket, String> {
    let mut request = format!("ws://{address}/graphql/ws")
        .into_client_request()
        .map_err(|error| error.to_string())?;
    request.headers_mut().insert(
        "sec-websocket-protocol",
        "graphql-transport-ws"
            .parse()
            .map_err(|_| "a header value".to_owned())?,
    );
    let (mut socket, _) = tokio_tungstenite::connect_async(request)
        .await
        .map_err(|error| format!("connecting the websocket: {error}"))?;
    let bearer = format!("Bearer {AGENT_TOKEN}");
    send(
        &mut socket,
        json!({ "type": "connection_init", "payload": { "Authorization": bearer } }),
    )
    .await?;
    let ack = next_json(&mut socket).await?;
    if ack["type"] != "connection_ack" {
        return Err(format!("the websocket was not acknowledged: {ack}"));
    }
    let query = format!("subscription {{ screenPop(agent: \"{AGENT}\") {{ position }} }}");
    send(
        &mut socket,
        json!({ "id": "1", "type": "subscribe", "payload": { "query": query } }),
    )
    .await?;
    Ok(socket)
}

/// Records `count` contacts for `hot`, one at a time, each waited for on the subscription.
pub async fn screen_pops(
    address: &str,
    hot: &HotCustomer,
    count: usize,
) -> Result<ScreenPops, String> {
    let mut socket = subscribe(address).await?;
    // The subscription starts at the head when the server handles `subscribe`; a first
    // contact, not timed, proves it is live before timing starts.
    let mut after_ack = Latencies::new();
    let mut after_request = Latencies::new();
    let start = jiff::Timestamp::now();
    for index in 0..=count {
        let minutes = i64::try_from(index).unwrap_or(i64::MAX);
        let started_at = start - jiff::SignedDuration::from_mins(minutes + 1);
        let body = json!({ "query": RECORD, "variables": { "input": {
            "customerId": hot.id.to_string(), "channel": "PHONE", "direction": "INBOUND",
            "startedAt": started_at.to_string(), "durationSeconds": 120, "topic": "ENQUIRY",
            "summary": "来电咨询理赔进度", "outcome": "RESOLVED" } } });
        let sent = Instant::now();
        let data = graphql(address, &body).await?;
        let acknowledged = Instant::now();
        let position = data["recordContact"]["position"].clone();
        let pop = next_json(&mut socket).await?;
        let delivered = Instant::now();
        if pop["type"] != "next" || pop["payload"]["data"]["screenPop"]["position"] != position {
            return Err(format!(
                "expected the screen pop of position {position}, got {pop}"
            ));
        }
        if index > 0 {
            after_ack.record(delivered.saturating_duration_since(acknowledged));
            after_request.record(delivered - sent);
        }
    }
    Ok(ScreenPops {
        after_ack,
        after_request,
    })
}
