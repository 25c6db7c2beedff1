//! Hostile GraphQL against a real `serve` (the graphql-cop list and more): deep nesting, alias
//! overloading, field duplication, directive overloading, circular fragments, batched arrays,
//! a huge page, huge string arguments, oversized bodies, mutations over GET and introspection
//! when it is off. Each is refused with a clear error, and while eight clients keep sending
//! them, another client's ordinary query is still answered. Every root field without a token
//! or with a wrong one is refused before any GraphQL runs.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use ledger_graphql::access::ACCESS;
use ledger_server::config::RoleName;
use ledger_server::server::{BATCH_OPERATIONS_MAX, BODY_BYTES_MAX};
use serde_json::{Value, json};

use crate::live::{Server, get, post_raw};

/// Abusive clients running at once while another client reads.
const ABUSERS: usize = 8;
/// How long they keep at it.
const ABUSE_FOR: Duration = Duration::from_secs(4);
/// An ordinary query during the abuse must be answered within this. It is not a speed target
/// (the server answers in milliseconds when idle, and the slowest read is printed); it only
/// tells "responsive" from "starved", with room for a loaded 2-core CI machine.
const RESPONSIVE_WITHIN: Duration = Duration::from_secs(10);

/// A customer's service history nested `loops` times through case → customer: 4 levels a loop.
fn deep_query(loops: usize) -> String {
    let open = "serviceHistory(first: 1) { edges { node { ... on ServiceCase { customer { ";
    format!(
        r#"{{ customer(id: "0190a5e2-8c3b-7d4e-9f00-00000000c001") {{ {}id{} }} }}"#,
        open.repeat(loops),
        " } } } } }".repeat(loops)
    )
}

/// One abusive request: a name, the raw body, and what a correct refusal contains.
struct Abuse {
    name: &'static str,
    body: Vec<u8>,
    /// The status it must get, and a piece of the error message.
    status: u16,
    message: &'static str,
}

fn abuses() -> Vec<Abuse> {
    let query = |text: String| json!({ "query": text }).to_string().into_bytes();
    let aliases: String = (0..12_000)
        .map(|index| format!("a{index}: ledger {{ headPosition }} "))
        .collect();
    let duplicates = "headPosition ".repeat(40_000);
    let directives = "@include(if: true) ".repeat(20_000);
    let batch: Vec<Value> = (0..=BATCH_OPERATIONS_MAX)
        .map(|_| json!({ "query": "{ ledger { headPosition } }" }))
        .collect();
    vec![
        Abuse {
            name: "deep nesting",
            body: query(deep_query(5)),
            status: 200,
            message: "nested too deep",
        },
        Abuse {
            name: "deep nesting past the parser's recursion limit",
            body: query(format!(
                "{{ {} }}",
                "ledger { ".repeat(5_000) + &"}".repeat(5_000)
            )),
            status: 200,
            message: "stack limit reached",
        },
        Abuse {
            name: "alias overloading",
            body: query(format!("{{ {aliases} }}")),
            status: 200,
            message: "too complex",
        },
        Abuse {
            name: "field duplication",
            body: query(format!("{{ ledger {{ {duplicates} }} }}")),
            status: 200,
            message: "too complex",
        },
        Abuse {
            name: "directive overloading",
            body: query(format!("{{ ledger {{ headPosition {directives} }} }}")),
            status: 200,
            message: "directive",
        },
        Abuse {
            name: "circular fragments",
            body: query(
                "query { ...A } fragment A on Query { ...B } fragment B on Query { ...A }".into(),
            ),
            status: 200,
            // async-graphql's recursion limit sees the cycle before the validation rule does.
            message: "recursion depth",
        },
        Abuse {
            name: "batched array past the limit",
            body: Value::Array(batch).to_string().into_bytes(),
            status: 400,
            message: "at most",
        },
        Abuse {
            name: "a page of 99999999",
            body: query("{ events(first: 99999999) { edges { cursor } } }".into()),
            status: 200,
            message: "first",
        },
        Abuse {
            name: "a huge string argument",
            body: query(format!(
                r#"{{ customerByIdentifier(kind: MOBILE, value: "{}") {{ id }} }}"#,
                "9".repeat(BODY_BYTES_MAX - 200)
            )),
            status: 200,
            message: "value",
        },
        Abuse {
            name: "an oversized body",
            body: query(format!(
                "{{ ledger {{ headPosition }} }} #{}",
                "x".repeat(BODY_BYTES_MAX)
            )),
            status: 413,
            message: "",
        },
        Abuse {
            name: "malformed JSON",
            body: b"{\"query\": \"{ ledger { headPosition } }\"".to_vec(),
            status: 400,
            message: "",
        },
    ]
}

/// Starts a server with introspection off (as in production).
fn production_server(data: &std::path::Path) -> Server {
    // The first start writes the config; it must be up before it can stop cleanly.
    let server = Server::start(data, &[]);
    assert!(server.wait_ready(), "never ready");
    server.terminate();
    let config = data.join("ledger.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    let text = text.replace("introspection = true", "introspection = false");
    assert!(text.contains("introspection = false"), "{text}");
    std::fs::write(&config, text).unwrap();
    let server = Server::start(data, &[]);
    assert!(server.wait_ready(), "never ready");
    server
}

/// Sends `abuse` and checks the refusal; returns how long the server took and its answer.
fn refuse(server: &Server, token: &str, abuse: &Abuse) -> (Duration, String) {
    let started = Instant::now();
    let (status, body) = post_raw(&server.address, Some(token), &abuse.body)
        .unwrap_or_else(|error| panic!("{}: {error}", abuse.name));
    let elapsed = started.elapsed();
    assert_eq!(
        status,
        abuse.status,
        "{}: {}",
        abuse.name,
        &body[..body.len().min(500)]
    );
    if status == 200 {
        let answer: Value = serde_json::from_str(&body).unwrap();
        assert!(
            answer["data"].is_null() || answer["errors"].is_array(),
            "{}: {body}",
            abuse.name
        );
        let errors = answer["errors"].to_string();
        assert!(
            errors
                .to_lowercase()
                .contains(&abuse.message.to_lowercase()),
            "{}: {} ... {}",
            abuse.name,
            &errors[..errors.len().min(300)],
            &errors[errors.len().saturating_sub(300)..]
        );
        let first = answer["errors"][0]["message"].as_str().unwrap_or_default();
        return (elapsed, first.chars().take(160).collect());
    }
    (elapsed, format!("HTTP {status}"))
}

#[test]
fn hostile_queries_are_refused_and_the_server_stays_responsive() {
    let scratch = tempfile::tempdir().unwrap();
    let server = production_server(&scratch.path().join("data"));
    let token = server.token(RoleName::Admin);
    let abuses = Arc::new(abuses());
    for abuse in abuses.iter() {
        let (elapsed, answer) = refuse(&server, &token, abuse);
        println!("abuse: {} refused in {elapsed:?}: {answer}", abuse.name);
    }

    // Introspection while it is off: refused, and nothing of the schema comes back.
    for document in [
        "{ __schema { types { name fields { name } } } }",
        r#"{ __type(name: "Mutation") { fields { name } } }"#,
    ] {
        let body = json!({ "query": document }).to_string();
        let (status, answer) = post_raw(&server.address, Some(&token), body.as_bytes()).unwrap();
        assert_eq!(status, 200, "{answer}");
        assert!(answer.contains("introspection is off"), "{answer}");
        assert!(answer.contains("FORBIDDEN"), "{answer}");
        assert!(!answer.contains("recordContact"), "{answer}");
        println!("abuse: introspection while off refused: {answer}");
    }

    // Mutation over GET: refused before it runs.
    let (status, body) = get(
        &server.address,
        "/graphql?query=mutation%7BeraseCustomer%7D",
    )
    .unwrap();
    assert!(status == 401 || status == 405, "{status}: {body}");

    let stop = Arc::new(AtomicBool::new(false));
    let sent = Arc::new(AtomicUsize::new(0));
    let abusers: Vec<_> = (0..ABUSERS)
        .map(|index| {
            let (address, token) = (server.address.clone(), token.clone());
            let (abuses, stop, sent) = (Arc::clone(&abuses), Arc::clone(&stop), Arc::clone(&sent));
            std::thread::spawn(move || {
                let mut next = index;
                while !stop.load(Ordering::Relaxed) {
                    let abuse = &abuses[next % abuses.len()];
                    let _ = post_raw(&address, Some(&token), &abuse.body);
                    sent.fetch_add(1, Ordering::Relaxed);
                    next += 1;
                }
            })
        })
        .collect();
    let reader = server.token(RoleName::Auditor);
    let started = Instant::now();
    let mut slowest = Duration::ZERO;
    let mut reads = 0;
    while started.elapsed() < ABUSE_FOR {
        let asked = Instant::now();
        let (status, body) = post_raw(
            &server.address,
            Some(&reader),
            br#"{"query":"{ ledger { headPosition } }"}"#,
        )
        .expect("an ordinary read during the abuse");
        assert_eq!(status, 200, "{body}");
        slowest = slowest.max(asked.elapsed());
        reads += 1;
        std::thread::sleep(Duration::from_millis(20));
    }
    stop.store(true, Ordering::Relaxed);
    for abuser in abusers {
        abuser.join().unwrap();
    }
    println!(
        "abuse: {} hostile requests from {ABUSERS} clients in {ABUSE_FOR:?}; {reads} ordinary reads answered meanwhile, the slowest in {slowest:?}",
        sent.load(Ordering::Relaxed)
    );
    assert!(
        slowest < RESPONSIVE_WITHIN,
        "an ordinary read waited {slowest:?}"
    );
    assert!(matches!(get(&server.address, "/livez"), Ok((200, _))));
    server.terminate();
}

#[test]
fn every_root_field_without_a_token_or_with_a_wrong_one_is_refused() {
    let scratch = tempfile::tempdir().unwrap();
    let server = Server::start(&scratch.path().join("data"), &[]);
    let mut refused = 0;
    for (field, _) in ACCESS {
        let root = field.split('.').next().unwrap_or(field);
        let document = json!({ "query": format!("{{ {root} }}") }).to_string();
        for token in [None, Some("not-a-token-this-server-knows")] {
            let (status, body) = post_raw(&server.address, token, document.as_bytes()).unwrap();
            assert_eq!(status, 401, "{field} with {token:?}: {body}");
            let answer: Value = serde_json::from_str(&body).unwrap();
            assert_eq!(
                answer["errors"][0]["extensions"]["code"], "UNAUTHENTICATED",
                "{body}"
            );
            assert!(answer["data"].is_null(), "{field}: {body}");
            refused += 1;
        }
    }
    println!("authorization: {refused} requests without a valid token refused (401)");
    server.terminate();
}
