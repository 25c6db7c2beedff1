//! A real `contact-ledger serve` process and a small blocking HTTP/1.1 client for the tests that
//! need a socket: the kill -9 loop, injected disk faults, a full disk and hostile clients.
//!
//! The client opens one connection per request (`Connection: close`), so a request cut off by
//! a kill is an error on that request alone, and reads with a timeout, so a hung server fails
//! the test instead of hanging it.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use ledger_server::config::{Config, RoleName};
use serde_json::Value;

/// How long one request may take before the client gives up on it.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// How long a restarted server may take to have its read models caught up.
pub const READY_TIMEOUT: Duration = Duration::from_secs(60);

/// A running `serve` child, killed when dropped.
pub struct Server {
    pub child: Child,
    pub address: String,
    pub config: Config,
}

impl Server {
    /// Starts `serve --data DATA` on a free port with extra environment variables.
    pub fn start(data: &Path, environment: &[(&str, &str)]) -> Self {
        let mut command = ledger_tests::command();
        command
            .args(["serve", "--data"])
            .arg(data)
            .args(["--listen", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        for (name, value) in environment {
            command.env(name, value);
        }
        let mut child = command.spawn().expect("serve starts");
        let mut lines = BufReader::new(child.stdout.take().expect("piped")).lines();
        let address = lines
            .by_ref()
            .map_while(Result::ok)
            .find_map(|line| {
                line.split_once(" on http://")
                    .map(|(_, rest)| rest.split('/').next().unwrap_or_default().to_owned())
            })
            .expect("serve prints its address");
        // Keep reading what it prints: a closed pipe would fail its later lines.
        std::thread::spawn(move || lines.for_each(drop));
        let config = Config::load(&data.join("ledger.toml")).expect("serve wrote ledger.toml");
        Self {
            child,
            address,
            config,
        }
    }

    pub fn token(&self, role: RoleName) -> String {
        self.config
            .auth
            .tokens
            .iter()
            .find(|token| token.role == role)
            .expect("a token per role")
            .token
            .clone()
    }

    /// Waits until `/readyz` answers 200; false after [`READY_TIMEOUT`].
    pub fn wait_ready(&self) -> bool {
        let started = Instant::now();
        while started.elapsed() < READY_TIMEOUT {
            if matches!(get(&self.address, "/readyz"), Ok((200, _))) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        false
    }

    /// SIGKILL: no shutdown, no flush.
    pub fn kill_9(mut self) {
        self.child.kill().expect("SIGKILL");
        self.child.wait().expect("the server is reaped");
    }

    /// SIGTERM, then waits for a clean exit.
    pub fn terminate(mut self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success());
        let exit = self.child.wait().expect("the server is reaped");
        assert!(exit.success(), "serve exited with {exit} after SIGTERM");
    }

    /// Sends a signal by name (`USR1`) to the server.
    pub fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .args([&format!("-{name}"), &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success());
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // A test that failed half-way must not leave a server behind.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One HTTP exchange: the status and the body.
fn exchange(address: &str, request: &[u8]) -> std::io::Result<(u16, String)> {
    let mut stream = TcpStream::connect(address)?;
    stream.set_read_timeout(Some(REQUEST_TIMEOUT))?;
    stream.set_write_timeout(Some(REQUEST_TIMEOUT))?;
    stream.write_all(request)?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response)?;
    let response = String::from_utf8_lossy(&response).into_owned();
    let (head, body) = response
        .split_once("\r\n\r\n")
        .ok_or_else(|| std::io::Error::other(format!("no HTTP head in {response:?}")))?;
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|status| status.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("no status in {head:?}")))?;
    let body = if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        dechunk(body)
    } else {
        body.to_owned()
    };
    Ok((status, body))
}

/// The payload of a chunked body.
fn dechunk(mut body: &str) -> String {
    let mut payload = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let Ok(size) = usize::from_str_radix(size.trim(), 16) else {
            break;
        };
        if size == 0 || rest.len() < size {
            break;
        }
        payload.push_str(&rest[..size]);
        body = rest[size..].trim_start_matches("\r\n");
    }
    payload
}

/// `GET path`.
pub fn get(address: &str, path: &str) -> std::io::Result<(u16, String)> {
    exchange(
        address,
        format!("GET {path} HTTP/1.1\r\nHost: ledger\r\nConnection: close\r\n\r\n").as_bytes(),
    )
}

/// `POST /graphql` with a bearer token (or none) and raw body bytes.
pub fn post_raw(address: &str, token: Option<&str>, body: &[u8]) -> std::io::Result<(u16, String)> {
    let authorization = token
        .map(|token| format!("Authorization: Bearer {token}\r\n"))
        .unwrap_or_default();
    let mut request = format!(
        "POST /graphql HTTP/1.1\r\nHost: ledger\r\nConnection: close\r\n{authorization}Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    request.extend_from_slice(body);
    exchange(address, &request)
}

/// `POST /graphql` of a JSON document; the status and the JSON answer (Null if it is not JSON).
pub fn post(address: &str, token: &str, body: &Value) -> std::io::Result<(u16, Value)> {
    let (status, text) = post_raw(address, Some(token), body.to_string().as_bytes())?;
    Ok((status, serde_json::from_str(&text).unwrap_or(Value::Null)))
}

/// A small deterministic generator (xorshift64*), seeded per run and printed so a failure can
/// be replayed.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed | 1)
    }

    /// A seed from the clock, or from `name` in the environment when it is set.
    pub fn seed_from_env(name: &str) -> u64 {
        std::env::var(name)
            .ok()
            .and_then(|seed| seed.parse().ok())
            .unwrap_or_else(|| {
                let now = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .expect("after 1970");
                now.as_secs() << 32 ^ u64::from(now.subsec_nanos())
            })
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    pub fn below(&mut self, bound: u64) -> u64 {
        self.next_u64() % bound
    }

    /// A random version-4 UUID, for event ids the client chooses.
    pub fn uuid(&mut self) -> String {
        let high = self.next_u64();
        let low = self.next_u64();
        format!(
            "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
            high >> 32,
            (high >> 16) & 0xffff,
            high & 0x0fff,
            0x8000 | (low >> 48 & 0x3fff),
            low & 0xffff_ffff_ffff
        )
    }
}

/// A number of cycles or iterations from the environment, or `default`.
pub fn count_from_env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|count| count.parse().ok())
        .unwrap_or(default)
}

const REGISTER: &str = "mutation($input: RegisterCustomerInput!, $eventId: ID) {
  registerCustomer(input: $input, eventId: $eventId) { position id }
}";
const RECORD: &str = "mutation($input: RecordContactInput!, $eventId: ID) {
  recordContact(input: $input, eventId: $eventId) { position duplicate }
}";

/// An acknowledged append: the client got its position back.
#[derive(Debug, Clone)]
pub struct Ack {
    pub position: u64,
    pub event_id: String,
}

/// How a mutation sent to the server ended.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// Answered with a position: the event is durable.
    Acknowledged { position: u64, duplicate: bool },
    /// Answered with a GraphQL error (its `extensions.code` and message): not acknowledged.
    Refused { code: String, message: String },
    /// The connection failed or the answer was cut off: the client cannot know.
    Cut,
    /// Anything else (a status other than 200, an answer of an unexpected shape), described.
    Unexpected(String),
}

/// A position as the API writes it (a string) or as the export does (a number).
pub fn position_of(value: &Value) -> Option<u64> {
    value
        .as_u64()
        .or_else(|| value.as_str().and_then(|text| text.parse().ok()))
}

fn outcome(answer: std::io::Result<(u16, Value)>, field: &str) -> Outcome {
    match answer {
        Ok((200, answer)) if answer["errors"].is_null() => {
            let data = &answer["data"][field];
            match (position_of(&data["position"]), data["duplicate"].as_bool()) {
                (Some(position), duplicate) => Outcome::Acknowledged {
                    position,
                    duplicate: duplicate.unwrap_or(false),
                },
                _ => Outcome::Unexpected(answer.to_string()),
            }
        }
        Ok((200, answer)) => Outcome::Refused {
            code: answer["errors"][0]["extensions"]["code"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
            message: answer["errors"][0]["message"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
        },
        Ok((_, Value::Null)) | Err(_) => Outcome::Cut,
        Ok((status, answer)) => Outcome::Unexpected(format!("status {status}: {answer}")),
    }
}

/// Registers `count` customers with mobiles `1380013xxxx` (acknowledged events like any
/// other, added to `acks`); returns their ids.
pub fn register_customers(
    server: &Server,
    count: usize,
    rng: &mut Rng,
    acks: &mut Vec<Ack>,
) -> Vec<String> {
    let token = server.token(RoleName::Agent);
    (0..count)
        .map(|index| {
            let event_id = rng.uuid();
            let input = serde_json::json!({ "kind": "INDIVIDUAL", "name": format!("客户{index}"),
                "identifiers": [{ "kind": "MOBILE", "value": format!("1380013{index:04}") }] });
            let body = serde_json::json!({ "query": REGISTER, "variables": { "input": input, "eventId": event_id } });
            let answer = post(&server.address, &token, &body);
            let id = answer.as_ref().ok().and_then(|(_, answer)| {
                answer["data"]["registerCustomer"]["id"]
                    .as_str()
                    .map(str::to_owned)
            });
            match (outcome(answer, "registerCustomer"), id) {
                (Outcome::Acknowledged { position, .. }, Some(id)) => {
                    acks.push(Ack { position, event_id });
                    id
                }
                (other, _) => panic!("registering customer {index}: {other:?}"),
            }
        })
        .collect()
}

/// Sends one `recordContact` for `customer` with the client's own `event_id`.
pub fn record_contact(address: &str, token: &str, customer: &str, event_id: &str) -> Outcome {
    record_contact_with_summary(address, token, customer, event_id, "咨询续保")
}

/// Like [`record_contact`], with the contact's summary.
pub fn record_contact_with_summary(
    address: &str,
    token: &str,
    customer: &str,
    event_id: &str,
    summary: &str,
) -> Outcome {
    let input = serde_json::json!({ "customerId": customer, "channel": "PHONE", "direction": "INBOUND",
        "startedAt": "2026-11-20T05:00:00Z", "durationSeconds": 60, "topic": "ENQUIRY",
        "summary": summary, "outcome": "RESOLVED" });
    let body = serde_json::json!({ "query": RECORD, "variables": { "input": input, "eventId": event_id } });
    outcome(post(address, token, &body), "recordContact")
}

/// The closed store's history by `contact-ledger export`: each event id's positions, after
/// checking that positions run gaplessly from 1. Returns them and the head position.
pub fn exported_positions(data: &Path) -> (std::collections::HashMap<String, Vec<u64>>, u64) {
    let export = data.with_extension("export.ndjson");
    let exported = ledger_tests::run(&[
        "export",
        "--data",
        data.to_str().expect("a UTF-8 path"),
        "--output",
        export.to_str().expect("a UTF-8 path"),
    ]);
    assert!(
        exported.status.success(),
        "export: {}",
        ledger_tests::stderr(&exported)
    );
    let text = std::fs::read_to_string(&export).expect("the export file");
    std::fs::remove_file(&export).expect("the export file is removed");
    let mut positions_of: std::collections::HashMap<String, Vec<u64>> = Default::default();
    let mut head = 0;
    for line in text.lines() {
        let event: Value = serde_json::from_str(line).expect("an export line is JSON");
        let position = position_of(&event["position"]).expect("an exported position");
        assert_eq!(position, head + 1, "positions have a gap after {head}");
        head = position;
        let event_id = event["eventId"].as_str().expect("an exported eventId");
        positions_of
            .entry(event_id.to_owned())
            .or_default()
            .push(position);
    }
    (positions_of, head)
}

/// Runs `contact-ledger verify` on the closed store; panics with its report when it fails.
pub fn assert_verifies(data: &Path, context: &str) {
    let verified = ledger_tests::run(&["verify", "--data", data.to_str().expect("UTF-8")]);
    assert!(
        verified.status.success(),
        "{context}: verify: {}{}",
        ledger_tests::stdout(&verified),
        ledger_tests::stderr(&verified)
    );
}

/// Runs `contact-ledger replay --check`: every read model equals a rebuild up to its checkpoint.
pub fn assert_read_models_equal_a_rebuild(data: &Path, context: &str) {
    let checked =
        ledger_tests::run(&["replay", "--data", data.to_str().expect("UTF-8"), "--check"]);
    let report = ledger_tests::stdout(&checked);
    assert!(
        checked.status.success(),
        "{context}: replay --check: {report}{}",
        ledger_tests::stderr(&checked)
    );
    assert_eq!(
        report.matches(": equal").count(),
        report.lines().count(),
        "{context}: {report}"
    );
}
