//! The API side of the suite: a `contact-ledger serve` child process with a bench config, a
//! bare HTTP/1.1 client for single requests, and `wrk` for load (with a Lua script for the POST
//! body) whose summary is parsed here.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The agent's bearer token in the bench config (a token must be at least 24 characters).
pub const AGENT_TOKEN: &str = "bench-agent-token-00000000000000000000";

/// The agent's subject: contacts recorded with its token are handled by it.
pub const AGENT: &str = "bench-agent";

/// The bench auditor's bearer token (figure 8 runs `verifyLedger`, an auditor's query).
pub const AUDITOR_TOKEN: &str = "bench-auditor-token-0000000000000000000";

/// How long `verifyLedger` may take: it walks the whole log (~25 s at 10 M events here).
pub const VERIFY_WAIT: Duration = Duration::from_secs(600);

/// How long the server may take to open the ledger and answer `/readyz`.
pub const READY_WAIT: Duration = Duration::from_secs(300);

/// How long a single request may take before the bench gives up on the server.
pub const REQUEST_WAIT: Duration = Duration::from_secs(30);

/// Bytes of a response the bare client reads before it calls the answer broken.
pub const RESPONSE_BYTES_MAX: usize = 16 * 1024 * 1024;

/// `wrk` threads: one per core of the 2-core machine the targets are stated for.
pub const WRK_THREADS: u32 = 2;

/// `wrk` connections: enough to keep both cores busy through the server's awaits, with room to
/// spare. A closed loop's mean latency is its connections over its throughput (32 at 10 k/s:
/// 3.2 ms), so this count also queues requests inside the load generator.
pub const WRK_CONNECTIONS: u32 = 32;

/// `wrk` connections for figure 5b's second run: few enough that the generator's queue stays
/// short, enough to keep both cores busy once no request sleeps on a timer. Measured at 10 M
/// events on a quiet machine: 16 connections 9.76 and 9.81 k/s, p50 1.55 ms, p99 6.0 ms;
/// 32 connections 9.94 and 9.83 k/s, p50 3.0 ms, p99 8.5 ms.
pub const WRK_CONNECTIONS_SHALLOW: u32 = 16;

/// A running `contact-ledger serve`.
#[derive(Debug)]
pub struct Server {
    child: Child,
    pub address: String,
    /// From the spawn to the first `/readyz` that answered 200.
    pub ready_after: Duration,
}

impl Server {
    /// Writes the bench config next to the ledger and starts the server on `address`.
    pub async fn start(binary: &Path, data: &Path, address: &str) -> Result<Self, String> {
        let config = data.with_extension("bench.toml");
        let text = format!(
            "[server]\nlisten = \"{address}\"\n\n[[auth.tokens]]\ntoken = \"{AGENT_TOKEN}\"\nrole = \"agent\"\nsubject = \"{AGENT}\"\n\n[[auth.tokens]]\ntoken = \"{AUDITOR_TOKEN}\"\nrole = \"auditor\"\nsubject = \"bench-auditor\"\n"
        );
        std::fs::write(&config, text)
            .map_err(|error| format!("writing {}: {error}", config.display()))?;
        let child = Command::new(binary)
            .arg("--data")
            .arg(data)
            .arg("serve")
            .arg("--listen")
            .arg(address)
            .arg("--config")
            .arg(&config)
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .env("RUST_LOG", "warn")
            .env("LEDGER_MASTER_KEY", crate::BENCH_MASTER_KEY_HEX)
            .spawn()
            .map_err(|error| format!("starting {}: {error}", binary.display()))?;
        let started = Instant::now();
        let mut server = Self {
            child,
            address: address.to_owned(),
            ready_after: Duration::ZERO,
        };
        loop {
            if let Ok((200, _)) = request(address, "GET", "/readyz", None, None, REQUEST_WAIT).await
            {
                server.ready_after = started.elapsed();
                return Ok(server);
            }
            if let Ok(Some(status)) = server.child.try_wait() {
                return Err(format!("the server exited while starting: {status}"));
            }
            if started.elapsed() > READY_WAIT {
                server.stop();
                return Err(format!("the server was not ready within {READY_WAIT:?}"));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The server's peak resident memory so far (`VmHWM`), in bytes.
    pub fn peak_rss_bytes(&self) -> Result<u64, String> {
        process_status_bytes(self.child.id(), "VmHWM:")
    }

    /// The server's resident memory now (`VmRSS`), in bytes.
    pub fn resident_bytes(&self) -> Result<u64, String> {
        process_status_bytes(self.child.id(), "VmRSS:")
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The bytes the server has caused to be written to storage so far (`/proc/PID/io`).
    pub fn written_bytes(&self) -> Result<u64, String> {
        crate::machine::written_bytes(&self.child.id().to_string())
    }

    /// SIGTERM (a clean shutdown: in-flight appends finish), then waits.
    pub fn stop(&mut self) {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            self.stop();
        }
    }
}

/// `VmHWM` of a `/proc/PID/status` text, in bytes.
pub fn peak_rss(status: &str) -> Option<u64> {
    status_bytes(status, "VmHWM:")
}

/// The `field` line (`VmRSS:`, `RssAnon:` ..., in kB) of process `pid`'s status, in bytes.
pub fn process_status_bytes(pid: u32, field: &str) -> Result<u64, String> {
    let path = format!("/proc/{pid}/status");
    let text = std::fs::read_to_string(&path).map_err(|error| format!("{path}: {error}"))?;
    status_bytes(&text, field).ok_or_else(|| format!("{path}: no {field} line"))
}

/// The `field` line (`VmRSS:`, in kB) of a `/proc/PID/status` text, in bytes.
fn status_bytes(status: &str, field: &str) -> Option<u64> {
    let line = status.lines().find(|line| line.starts_with(field))?;
    let kilobytes: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    kilobytes.checked_mul(1024)
}

/// One HTTP/1.1 request on a fresh connection (`Connection: close`): status and body, or an
/// error when no whole answer came within `wait`.
pub async fn request(
    address: &str,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&str>,
    wait: Duration,
) -> Result<(u16, String), String> {
    let exchange = async {
        let mut stream = tokio::net::TcpStream::connect(address)
            .await
            .map_err(|error| format!("connecting to {address}: {error}"))?;
        stream
            .set_nodelay(true)
            .map_err(|error| error.to_string())?;
        let mut head =
            format!("{method} {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n");
        if let Some(token) = token {
            head.push_str(&format!("Authorization: Bearer {token}\r\n"));
        }
        let body = body.unwrap_or_default();
        if !body.is_empty() {
            head.push_str("Content-Type: application/json\r\n");
        }
        head.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
        stream
            .write_all(head.as_bytes())
            .await
            .map_err(|error| format!("writing the request: {error}"))?;
        let mut response = Vec::new();
        stream
            .take(u64::try_from(RESPONSE_BYTES_MAX).unwrap_or(u64::MAX))
            .read_to_end(&mut response)
            .await
            .map_err(|error| format!("reading the response: {error}"))?;
        parse_response(&response)
    };
    tokio::time::timeout(wait, exchange)
        .await
        .map_err(|_| format!("{method} {path}: no answer within {wait:?}"))?
}

/// Status and body of a whole `Connection: close` response (plain or chunked body).
pub fn parse_response(bytes: &[u8]) -> Result<(u16, String), String> {
    let text = String::from_utf8_lossy(bytes);
    let (head, body) = text
        .split_once("\r\n\r\n")
        .ok_or_else(|| "a response without a blank line after its head".to_owned())?;
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse::<u16>().ok())
        .ok_or_else(|| format!("a response without a status: {head:?}"))?;
    let chunked = head.lines().any(|line| {
        line.to_ascii_lowercase()
            .starts_with("transfer-encoding: chunked")
    });
    if !chunked {
        return Ok((status, body.to_owned()));
    }
    let mut rest = body;
    let mut decoded = String::new();
    loop {
        let (size, after) = rest
            .split_once("\r\n")
            .ok_or_else(|| "a chunk without a size line".to_owned())?;
        let size = usize::from_str_radix(size.trim(), 16)
            .map_err(|_| format!("a bad chunk size {size:?}"))?;
        if size == 0 {
            return Ok((status, decoded));
        }
        let chunk = after
            .get(..size)
            .ok_or_else(|| "a chunk shorter than its size".to_owned())?;
        decoded.push_str(chunk);
        rest = after.get(size + 2..).unwrap_or_default();
    }
}

/// A GraphQL POST by the bench agent; the `data` of a 200 answer without `errors`.
pub async fn graphql(address: &str, body: &serde_json::Value) -> Result<serde_json::Value, String> {
    graphql_as(address, AGENT_TOKEN, body, REQUEST_WAIT).await
}

/// An auditor's `verifyLedger` of the whole log: how long it took and the records it checked.
/// A report that is not `ok` is an error.
pub async fn verify_ledger(address: &str) -> Result<(Duration, u64), String> {
    let body = serde_json::json!({ "query": "{ verifyLedger { ok events problems { position message } } }" });
    let started = Instant::now();
    let data = graphql_as(address, AUDITOR_TOKEN, &body, VERIFY_WAIT).await?;
    let elapsed = started.elapsed();
    let report = &data["verifyLedger"];
    let events = report["events"]
        .as_str()
        .and_then(|count| count.parse().ok())
        .ok_or_else(|| format!("verifyLedger answered no event count: {data}"))?;
    if report["ok"] != serde_json::Value::Bool(true) {
        return Err(format!("verifyLedger found problems: {data}"));
    }
    Ok((elapsed, events))
}

async fn graphql_as(
    address: &str,
    token: &str,
    body: &serde_json::Value,
    wait: Duration,
) -> Result<serde_json::Value, String> {
    let (status, text) = request(
        address,
        "POST",
        "/graphql",
        Some(token),
        Some(&body.to_string()),
        wait,
    )
    .await?;
    let answer: serde_json::Value =
        serde_json::from_str(&text).map_err(|error| format!("HTTP {status}: {error}: {text}"))?;
    if status != 200 || answer.get("errors").is_some() {
        return Err(format!("HTTP {status}: {text}"));
    }
    Ok(answer["data"].clone())
}

/// What `wrk --latency` reports.
#[derive(Debug, Clone, PartialEq)]
pub struct WrkSummary {
    pub requests_per_second: f64,
    pub p50: Duration,
    pub p99: Duration,
    pub requests: u64,
    /// Responses that were not 2xx/3xx, and socket errors; both must be zero.
    pub failures: u64,
}

fn wrk_duration(text: &str) -> Option<Duration> {
    let split = text.find(|character: char| character.is_ascii_alphabetic())?;
    let (number, unit) = text.split_at(split);
    let value: f64 = number.parse().ok()?;
    let seconds = match unit {
        "us" => value / 1e6,
        "ms" => value / 1e3,
        "s" => value,
        "m" => value * 60.0,
        _ => return None,
    };
    Some(Duration::from_secs_f64(seconds))
}

/// Parses `wrk --latency` output.
pub fn parse_wrk(text: &str) -> Result<WrkSummary, String> {
    let mut requests_per_second = None;
    let mut p50 = None;
    let mut p99 = None;
    let mut requests = None;
    let mut failures = 0;
    for line in text.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["Requests/sec:", value] => requests_per_second = value.parse::<f64>().ok(),
            ["50%", value] => p50 = wrk_duration(value),
            ["99%", value] => p99 = wrk_duration(value),
            [count, "requests", "in", ..] => requests = count.parse::<u64>().ok(),
            ["Non-2xx", "or", "3xx", "responses:", count] => {
                failures += count.parse::<u64>().unwrap_or(u64::MAX);
            }
            ["Socket", "errors:", rest @ ..] => {
                for pair in rest.chunks(2) {
                    if let [_, count] = pair {
                        failures += count.trim_end_matches(',').parse::<u64>().unwrap_or(0);
                    }
                }
            }
            _ => {}
        }
    }
    Ok(WrkSummary {
        requests_per_second: requests_per_second
            .ok_or_else(|| format!("wrk: no Requests/sec line in {text:?}"))?,
        p50: p50.ok_or_else(|| "wrk: no 50% latency line (run with --latency)".to_owned())?,
        p99: p99.ok_or_else(|| "wrk: no 99% latency line (run with --latency)".to_owned())?,
        requests: requests.ok_or_else(|| "wrk: no request count line".to_owned())?,
        failures,
    })
}

/// Runs `wrk` with `connections` against `/graphql`, `body` POSTed by the bench agent; fails on
/// any error.
pub fn wrk(
    address: &str,
    body: &serde_json::Value,
    duration: Duration,
    connections: u32,
    scratch: &Path,
) -> Result<WrkSummary, String> {
    let lua = format!(
        "{}wrk.body = {}\n",
        lua_post_headers(),
        lua_string(&body.to_string())?
    );
    run_wrk(address, &lua, duration, connections, scratch)
}

/// Runs `wrk` like [`wrk`], each request for a customer of `ids` drawn at random: `body` is
/// POSTed with its `variables.id` set to the drawn id. Each `wrk` thread draws from its own
/// fixed seed, so two runs ask for the same customers in the same order.
pub fn wrk_spread(
    address: &str,
    body: &serde_json::Value,
    ids: &[String],
    duration: Duration,
    connections: u32,
    scratch: &Path,
) -> Result<WrkSummary, String> {
    if ids.is_empty() {
        return Err("the spread load needs at least one customer id".to_owned());
    }
    let (before, after) = around_id(body)?;
    let ids_file = scratch.join("spread-ids.txt");
    std::fs::write(&ids_file, ids.join("\n") + "\n")
        .map_err(|error| format!("writing {}: {error}", ids_file.display()))?;
    let lua = format!(
        "{}local before, after = {}, {}\n\
         local ids = {{}}\n\
         for line in io.lines({}) do ids[#ids + 1] = line end\n\
         local threads = 0\n\
         function setup(thread) threads = threads + 1; thread:set(\"seed\", threads) end\n\
         function init(args) math.randomseed(seed) end\n\
         function request() return wrk.format(nil, nil, nil, before .. ids[math.random(#ids)] .. after) end\n",
        lua_post_headers(),
        lua_string(&before)?,
        lua_string(&after)?,
        lua_string(&ids_file.display().to_string())?,
    );
    run_wrk(address, &lua, duration, connections, scratch)
}

/// The text of `body` before and after its `variables.id`: the request for a customer is the
/// two with the id (a JSON-safe string: a UUID) between them.
fn around_id(body: &serde_json::Value) -> Result<(String, String), String> {
    const ID: &str = "@customer-id@";
    let mut templated = body.clone();
    templated["variables"]["id"] = serde_json::Value::String(ID.to_owned());
    let templated = templated.to_string();
    let (before, after) = templated
        .split_once(ID)
        .ok_or_else(|| format!("the body {templated} lost its id placeholder"))?;
    Ok((before.to_owned(), after.to_owned()))
}

/// Up to `max` customer ids, in the directory's order: the agent's `customers` pages of
/// `CUSTOMER_IDS_PAGE`.
pub async fn customer_ids(address: &str, max: usize) -> Result<Vec<String>, String> {
    const QUERY: &str = "query Page($first: Int!, $after: String) { customers(first: $first, after: $after) { edges { cursor node { id } } } }";
    let mut ids = Vec::new();
    let mut after: Option<String> = None;
    while ids.len() < max {
        let first = CUSTOMER_IDS_PAGE.min(max - ids.len());
        let body =
            serde_json::json!({ "query": QUERY, "variables": { "first": first, "after": after } });
        let data = graphql(address, &body).await?;
        let edges = data["customers"]["edges"]
            .as_array()
            .ok_or_else(|| format!("customers answered no edges: {data}"))?;
        let Some(last) = edges.last() else {
            break;
        };
        after = Some(
            last["cursor"]
                .as_str()
                .ok_or_else(|| format!("a customers edge has no cursor: {last}"))?
                .to_owned(),
        );
        for edge in edges {
            let id = edge["node"]["id"]
                .as_str()
                .ok_or_else(|| format!("a customers edge has no id: {edge}"))?;
            ids.push(id.to_owned());
        }
    }
    Ok(ids)
}

/// Customers one `customers` page asks for while the bench gathers ids (the API's maximum).
pub const CUSTOMER_IDS_PAGE: usize = 100;

/// The Lua lines every POST of the bench agent starts with.
fn lua_post_headers() -> String {
    format!(
        "wrk.method = \"POST\"\nwrk.headers[\"Content-Type\"] = \"application/json\"\nwrk.headers[\"Authorization\"] = \"Bearer {AGENT_TOKEN}\"\n"
    )
}

/// `text` as a Lua long-bracket string, which holds it verbatim (no escapes), or an error when
/// it contains the closing `]]`.
fn lua_string(text: &str) -> Result<String, String> {
    if text.contains("]]") {
        return Err(format!(
            "{text:?} contains `]]`, which the Lua script cannot quote"
        ));
    }
    Ok(format!("[[{text}]]"))
}

/// Runs `wrk --latency` with the Lua `script` against `/graphql`; fails on any error.
fn run_wrk(
    address: &str,
    lua: &str,
    duration: Duration,
    connections: u32,
    scratch: &Path,
) -> Result<WrkSummary, String> {
    let script: PathBuf = scratch.join("post.lua");
    std::fs::write(&script, lua)
        .map_err(|error| format!("writing {}: {error}", script.display()))?;
    let output = Command::new("wrk")
        .arg(format!("-t{WRK_THREADS}"))
        .arg(format!("-c{connections}"))
        .arg(format!("-d{}s", duration.as_secs().max(1)))
        .arg("--latency")
        .arg("-s")
        .arg(&script)
        .arg(format!("http://{address}/graphql"))
        .output()
        .map_err(|error| format!("running wrk (apt-get install wrk): {error}"))?;
    let text = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        return Err(format!(
            "wrk failed: {text} {}",
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    let summary = parse_wrk(&text)?;
    if summary.failures > 0 {
        return Err(format!(
            "wrk saw {} failed requests:\n{text}",
            summary.failures
        ));
    }
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    const WRK: &str = "\
Running 10s test @ http://127.0.0.1:18080/graphql
  2 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     2.61ms    1.02ms  21.06ms   83.32%
    Req/Sec     6.21k   412.55     7.10k    71.50%
  Latency Distribution
     50%    2.43ms
     75%    2.98ms
     90%    3.72ms
     99%  612.00us
  123672 requests in 10.01s, 310.25MB read
Requests/sec:  12355.44
Transfer/sec:     31.00MB
";

    #[test]
    fn wrk_latency_output_parses_with_its_units() {
        let summary = parse_wrk(WRK).unwrap();
        assert_eq!(summary.requests, 123_672);
        assert!((summary.requests_per_second - 12_355.44).abs() < 1e-6);
        assert_eq!(summary.p50, Duration::from_micros(2_430));
        assert_eq!(summary.p99, Duration::from_micros(612));
        assert_eq!(summary.failures, 0);
    }

    #[test]
    fn a_spread_request_is_the_body_with_the_drawn_id_and_lua_strings_refuse_their_end() {
        let body = serde_json::json!({ "query": "query T($id: ID!) { customer(id: $id) { id } }", "variables": { "id": null } });
        let (before, after) = around_id(&body).unwrap();
        let id = "018b8849-971e-74de-bf03-b21e3de5fcbf";
        let request: serde_json::Value =
            serde_json::from_str(&format!("{before}{id}{after}")).unwrap();
        assert_eq!(request["variables"]["id"], id);
        assert_eq!(request["query"], body["query"]);
        assert_eq!(lua_string("a \"b\"").unwrap(), "[[a \"b\"]]");
        assert!(lua_string("x]]y").unwrap_err().contains("`]]`"));
    }

    #[test]
    fn wrk_failures_are_counted_and_missing_lines_are_errors() {
        let failing = format!(
            "{WRK}  Socket errors: connect 0, read 2, write 0, timeout 3\n  Non-2xx or 3xx responses: 7\n"
        );
        assert_eq!(parse_wrk(&failing).unwrap().failures, 12);
        assert!(
            parse_wrk("Running 10s test")
                .unwrap_err()
                .contains("Requests/sec")
        );
    }

    #[test]
    fn responses_parse_plain_and_chunked() {
        let plain = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}";
        assert_eq!(parse_response(plain).unwrap(), (200, "{}".to_owned()));
        let chunked = b"HTTP/1.1 401 Unauthorized\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n";
        assert_eq!(parse_response(chunked).unwrap(), (401, "abcde".to_owned()));
        assert!(parse_response(b"garbage").is_err());
    }

    #[test]
    fn peak_rss_reads_vm_hwm() {
        let status = "Name:\tcontact-ledger\nVmPeak:\t  900000 kB\nVmHWM:\t  123456 kB\n";
        assert_eq!(peak_rss(status), Some(123_456 * 1024));
        assert_eq!(peak_rss("Name: x\n"), None);
        let status = "VmHWM:\t  123456 kB\nVmRSS:\t  654 kB\n";
        assert_eq!(status_bytes(status, "VmRSS:"), Some(654 * 1024));
        assert_eq!(status_bytes(status, "VmSwap:"), None);
    }
}
