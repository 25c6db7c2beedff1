//! A ledger moved by export and import: its customers' data keys stay in the ledger that
//! exported them, so in the copy their personal data reads as erased (null, `erased: true`),
//! not blank, while the original shows it.

use std::collections::HashSet;
use std::path::Path;

use ledger_server::config::RoleName;
use ledger_tests::{run, stderr};
use serde_json::{Value, json};

use crate::fixture::fixture_path;
use crate::live::{Server, post};

/// What an agent reads of a customer: the record, the timeline and the service history.
const CUSTOMER_QUERY: &str = "query($id: ID!) { customer(id: $id) { name group erased erasedAt \
     identifiers { value } \
     timeline(first: 100) { edges { node { position kind summary erased } } } \
     serviceHistory(first: 50) { edges { node { ... on ServiceCase { id subject resolution } } } } \
     } }";

/// A customer of the fixture with a service case, neither erased nor merged away.
fn customer_with_a_case() -> String {
    let fixture = std::fs::read_to_string(fixture_path()).unwrap();
    let lines: Vec<Value> = fixture
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    let gone: HashSet<&str> = lines
        .iter()
        .filter(|line| line["type"] == "CustomerErased" || line["type"] == "CustomersMerged")
        .filter_map(|line| line["payload"]["customerId"].as_str())
        .collect();
    lines
        .iter()
        .filter(|line| line["type"] == "ServiceCaseOpened")
        .filter_map(|line| line["payload"]["customerId"].as_str())
        .find(|customer| !gone.contains(customer))
        .expect("the fixture has a case of a live customer")
        .to_owned()
}

/// The customer as the agent reads it from the ledger in `data`, served for this one query.
fn customer_read_from(data: &Path, customer: &str) -> Value {
    let server = Server::start(data, &[]);
    assert!(server.wait_ready(), "serve on {} got ready", data.display());
    let (status, answer) = post(
        &server.address,
        &server.token(RoleName::Agent),
        &json!({ "query": CUSTOMER_QUERY, "variables": { "id": customer } }),
    )
    .unwrap();
    server.terminate();
    assert_eq!(status, 200, "{answer}");
    assert!(answer.get("errors").is_none(), "{answer}");
    answer["data"]["customer"].clone()
}

fn timeline(customer: &Value) -> Vec<&Value> {
    customer["timeline"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|edge| &edge["node"])
        .collect()
}

fn cases(customer: &Value) -> Vec<&Value> {
    customer["serviceHistory"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|edge| &edge["node"])
        .filter(|node| node.get("subject").is_some())
        .collect()
}

#[test]
fn a_customer_whose_data_key_stayed_in_the_exporting_ledger_reads_as_erased_not_blank() {
    let scratch = tempfile::tempdir().unwrap();
    let original = scratch.path().join("original");
    let export = scratch.path().join("export.ndjson");
    let copy = scratch.path().join("copy");
    let imported = run(&[
        "import",
        "--data",
        original.to_str().unwrap(),
        fixture_path().to_str().unwrap(),
    ]);
    assert!(imported.status.success(), "{}", stderr(&imported));
    let exported = run(&[
        "export",
        "--data",
        original.to_str().unwrap(),
        "--output",
        export.to_str().unwrap(),
    ]);
    assert!(exported.status.success(), "{}", stderr(&exported));
    let imported = run(&[
        "import",
        "--data",
        copy.to_str().unwrap(),
        export.to_str().unwrap(),
    ]);
    assert!(imported.status.success(), "{}", stderr(&imported));

    let customer = customer_with_a_case();
    let there = customer_read_from(&original, &customer);
    let here = customer_read_from(&copy, &customer);

    // The original reads the customer whole.
    assert!(there["name"].is_string(), "{there}");
    assert_eq!(
        (&there["erased"], &there["erasedAt"]),
        (&json!(false), &Value::Null)
    );
    assert!(
        !there["identifiers"].as_array().unwrap().is_empty(),
        "{there}"
    );
    // The copy cannot open the personal data, and says so: erased, though nothing was erased
    // there (no erasure time).
    assert_eq!(here["name"], Value::Null, "{here}");
    assert_eq!(here["group"], Value::Null, "{here}");
    assert_eq!(
        (&here["erased"], &here["erasedAt"]),
        (&json!(true), &Value::Null)
    );
    assert_eq!(here["identifiers"], json!([]), "{here}");

    // Every timeline entry with personal text in the original is erased in the copy, never a
    // blank summary.
    let (there_entries, here_entries) = (timeline(&there), timeline(&here));
    assert_eq!(there_entries.len(), here_entries.len(), "{here}");
    let mut with_text = 0;
    for (there_entry, here_entry) in there_entries.iter().zip(&here_entries) {
        assert_eq!(there_entry["position"], here_entry["position"]);
        assert_ne!(here_entry["summary"], json!(""), "{here_entry}");
        if there_entry["summary"].is_string() {
            with_text += 1;
            assert_eq!(there_entry["erased"], json!(false), "{there_entry}");
            assert_eq!(
                (&here_entry["summary"], &here_entry["erased"]),
                (&Value::Null, &json!(true)),
                "{here_entry}"
            );
        }
    }
    assert!(
        with_text > 0,
        "the customer's timeline holds personal text: {there}"
    );

    // The service cases keep no subject or resolution in the copy, never blank ones.
    let (there_cases, here_cases) = (cases(&there), cases(&here));
    assert!(!there_cases.is_empty(), "{there}");
    assert_eq!(there_cases.len(), here_cases.len(), "{here}");
    for (there_case, here_case) in there_cases.iter().zip(&here_cases) {
        assert!(there_case["subject"].is_string(), "{there_case}");
        assert_eq!(here_case["subject"], Value::Null, "{here_case}");
        assert_ne!(here_case["resolution"], json!(""), "{here_case}");
    }

    // The copy's read models are what a rebuild writes.
    let checked = run(&["replay", "--data", copy.to_str().unwrap(), "--check"]);
    assert!(checked.status.success(), "{}", stderr(&checked));
}

#[test]
fn erasing_a_survivor_in_the_copy_erases_the_customers_merged_into_it() {
    // The merged customer reads as erased in the copy (its key is elsewhere), but its erasure
    // was never recorded: erasing the survivor must record it, as it would in the original.
    let scratch = tempfile::tempdir().unwrap();
    let (original, copy) = (scratch.path().join("original"), scratch.path().join("copy"));
    let export = scratch.path().join("export.ndjson");
    for arguments in [
        vec![
            "import",
            "--data",
            original.to_str().unwrap(),
            fixture_path().to_str().unwrap(),
        ],
        vec![
            "export",
            "--data",
            original.to_str().unwrap(),
            "--output",
            export.to_str().unwrap(),
        ],
        vec![
            "import",
            "--data",
            copy.to_str().unwrap(),
            export.to_str().unwrap(),
        ],
    ] {
        let output = run(&arguments);
        assert!(
            output.status.success(),
            "{arguments:?}: {}",
            stderr(&output)
        );
    }
    let fixture = std::fs::read_to_string(fixture_path()).unwrap();
    let lines: Vec<Value> = fixture
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    let erased: HashSet<&str> = lines
        .iter()
        .filter(|line| line["type"] == "CustomerErased")
        .filter_map(|line| line["payload"]["customerId"].as_str())
        .collect();
    let (merged, survivor) = lines
        .iter()
        .filter(|line| line["type"] == "CustomersMerged")
        .map(|line| {
            let payload = &line["payload"];
            (
                payload["customerId"].as_str().unwrap(),
                payload["survivorId"].as_str().unwrap(),
            )
        })
        .find(|(merged, survivor)| !erased.contains(merged) && !erased.contains(survivor))
        .expect("the fixture merges two customers it does not erase");

    let output = run(&[
        "erase",
        "--data",
        copy.to_str().unwrap(),
        "--customer",
        survivor,
        "--reason",
        "CUSTOMER_REQUEST",
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    // No key of theirs was here to destroy: said so, with where the key is.
    let said = ledger_tests::stdout(&output);
    assert!(
        said.contains("came sealed from another ledger's export without its key")
            && !said.contains("data key is destroyed"),
        "{said}"
    );
    let after = (lines.len() + 1).to_string();
    let exported = run(&["export", "--data", copy.to_str().unwrap(), "--from", &after]);
    assert!(exported.status.success(), "{}", stderr(&exported));
    let erasures: Vec<String> = ledger_tests::stdout(&exported)
        .lines()
        .map(|line| serde_json::from_str::<Value>(line).unwrap())
        .filter(|line| line["type"] == "CustomerErased")
        .map(|line| line["payload"]["customerId"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        erasures,
        [merged, survivor],
        "merged first, then the survivor"
    );
}
