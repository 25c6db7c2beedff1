//! What recording a read costs an agent: the same timeline read (a customer with its name,
//! identifiers and latest 20 timeline entries, two access records) on two schemas over one
//! ledger, one recording reads and one not, alternated in rounds so both see the same machine.
//! Prints the median and mean latency of each and their ratio. Run it in release mode:
//!
//! `cargo run --release -p ledger-graphql --example access_cost -- [ROUNDS]`

use std::time::{Duration, Instant};

use async_graphql::Request;
use ledger_app::Ledger;
use ledger_graphql::{ApiOptions, Caller, LedgerSchema, Role, build_schema};
use ledger_store::StoreOptions;

/// Contacts on the customer's timeline.
const CONTACTS: usize = 200;
/// Reads per schema per round.
const READS_PER_ROUND: usize = 200;
/// Rounds when none is given.
const ROUNDS_DEFAULT: usize = 20;

fn agent() -> Caller {
    Caller {
        subject: "agent-0042".into(),
        role: Role::Agent,
    }
}

async fn run(schema: &LedgerSchema, document: &str) -> serde_json::Value {
    let response = schema.execute(Request::new(document).data(agent())).await;
    assert!(
        response.errors.is_empty(),
        "{document}: {:?}",
        response.errors
    );
    response.data.into_json().expect("JSON data")
}

/// Latencies of `READS_PER_ROUND` sequential reads.
async fn measure(schema: &LedgerSchema, document: &str, into: &mut Vec<Duration>) {
    for _ in 0..READS_PER_ROUND {
        let started = Instant::now();
        run(schema, document).await;
        into.push(started.elapsed());
    }
}

fn median(samples: &mut [Duration]) -> Duration {
    samples.sort_unstable();
    samples[samples.len() / 2]
}

fn mean(samples: &[Duration]) -> Duration {
    let total: Duration = samples.iter().sum();
    total / u32::try_from(samples.len()).expect("fewer than 2^32 samples")
}

#[tokio::main]
async fn main() {
    let rounds = std::env::args().nth(1).map_or(ROUNDS_DEFAULT, |rounds| {
        rounds.parse().expect("ROUNDS is a number")
    });
    let dir = tempfile::tempdir().expect("a temporary directory");
    let ledger = Ledger::open(
        dir.path(),
        StoreOptions::default(),
        ledger_app::KeyOptions::insecure_for_tests(),
    )
    .expect("the ledger opens");
    ledger.start();
    let recording = build_schema(ledger.clone(), ApiOptions::default());
    let not_recording = build_schema(
        ledger.clone(),
        ApiOptions {
            record_access: false,
            ..ApiOptions::default()
        },
    );

    let registered = run(
        &recording,
        r#"mutation { registerCustomer(input: { kind: INDIVIDUAL, name: "张三",
            identifiers: [{ kind: MOBILE, value: "13800138000" }] }) { id } }"#,
    )
    .await;
    let customer = registered["registerCustomer"]["id"]
        .as_str()
        .expect("an id")
        .to_owned();
    let mut last_position = String::new();
    for index in 0..CONTACTS {
        let recorded = run(
            &recording,
            &format!(
                r#"mutation {{ recordContact(input: {{ customerId: "{customer}", channel: PHONE, direction: INBOUND,
                    agent: "agent-0042", startedAt: "2025-03-01T08:00:00Z", durationSeconds: 120, topic: ENQUIRY,
                    summary: "来电咨询续保 {index}", outcome: RESOLVED }}) {{ position }} }}"#
            ),
        )
        .await;
        last_position = recorded["recordContact"]["position"]
            .as_str()
            .expect("a position")
            .to_owned();
    }
    let position = ledger_domain::ids::Position(last_position.parse().expect("a position"));
    ledger
        .runner()
        .wait_for(position, Duration::from_secs(30), None)
        .await
        .expect("the read models catch up");

    let document = format!(
        r#"{{ customer(id: "{customer}") {{ name identifiers {{ kind value }}
            timeline(first: 20) {{ edges {{ node {{ occurredAt kind title channel summary agent }} }} }} }} }}"#
    );
    // Warm both paths (caches, the loader, the access writer) before measuring.
    let mut warm = Vec::new();
    measure(&recording, &document, &mut warm).await;
    measure(&not_recording, &document, &mut warm).await;

    let mut with = Vec::new();
    let mut without = Vec::new();
    for _ in 0..rounds {
        measure(&not_recording, &document, &mut without).await;
        measure(&recording, &document, &mut with).await;
    }
    let (with_mean, without_mean) = (mean(&with), mean(&without));
    let (with_median, without_median) = (median(&mut with), median(&mut without));
    let ratio = |a: Duration, b: Duration| a.as_secs_f64() / b.as_secs_f64();
    println!(
        "agent timeline read, {} reads each ({rounds} rounds of {READS_PER_ROUND}), {CONTACTS} contacts, 2 access records per read",
        with.len()
    );
    println!(
        "without recording: median {:>8.1} µs  mean {:>8.1} µs",
        without_median.as_secs_f64() * 1e6,
        without_mean.as_secs_f64() * 1e6
    );
    println!(
        "with recording:    median {:>8.1} µs  mean {:>8.1} µs",
        with_median.as_secs_f64() * 1e6,
        with_mean.as_secs_f64() * 1e6
    );
    println!(
        "ratio with/without: median {:.3}  mean {:.3}",
        ratio(with_median, without_median),
        ratio(with_mean, without_mean)
    );
    ledger.log().access().sync().await.expect("records commit");
    ledger.close().await.expect("the ledger closes");
}
