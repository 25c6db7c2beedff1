//! Crypto-shredding end to end, as an administrator and an auditor would try it on a seeded
//! ledger: erase customers (one of them a merge survivor, which erases the customer merged into
//! it too) and a web-shop lead from someone nobody knew (`erase --enquiry`) with
//! `contact-ledger erase`, then
//! - every read model equals a rebuild from position 0 (`replay --check`), although the rebuild
//!   sees the erased customers' events redacted from the start;
//! - `verify` still passes; the export carries only ciphertext of their personal fields, while
//!   their non-personal facts (claim amounts) stay readable;
//! - export → import into an empty store gives the same head hash;
//! - a wrong or missing master key is a clear start-up error; a rotated key opens the ledger,
//!   and the old one no longer does.

use std::collections::BTreeSet;

use ledger_tests::{run, stderr, stdout};

/// The export's lines as JSON.
fn export(data: &str) -> Vec<serde_json::Value> {
    let exported = run(&["export", "--data", data]);
    assert!(exported.status.success(), "{}", stderr(&exported));
    stdout(&exported)
        .lines()
        .map(|line| serde_json::from_str(line).expect("an export line is JSON"))
        .collect()
}

fn text<'a>(line: &'a serde_json::Value, pointer: &str) -> &'a str {
    line.pointer(pointer)
        .and_then(serde_json::Value::as_str)
        .unwrap_or_default()
}

/// Every non-empty string in a JSON value.
fn strings(value: &serde_json::Value, out: &mut BTreeSet<String>) {
    match value {
        serde_json::Value::String(text) if !text.is_empty() => {
            out.insert(text.clone());
        }
        serde_json::Value::Array(items) => items.iter().for_each(|item| strings(item, out)),
        serde_json::Value::Object(map) => map.values().for_each(|value| strings(value, out)),
        _ => {}
    }
}

#[test]
fn erased_customers_read_as_erased_everywhere_and_the_ledger_still_verifies() {
    let scratch = tempfile::tempdir().unwrap();
    let data = scratch.path().join("data");
    let data = data.to_str().unwrap();
    let seeded = run(&["seed", "--data", data, "--customers", "300", "--years", "2"]);
    assert!(seeded.status.success(), "{}", stderr(&seeded));

    let before = export(data);
    // Sealed lines carry ciphertext beside the redacted payload; plain lines do not.
    assert!(before.iter().any(|line| line.get("sealed").is_some()));
    assert!(
        before
            .iter()
            .filter(|line| text(line, "/type") == "CampaignLaunched")
            .all(|line| line.get("sealed").is_none())
    );
    // Erase a merge survivor and the first customers registered; remember their personal text.
    let merge = before
        .iter()
        .find(|line| text(line, "/type") == "CustomersMerged")
        .expect("the seeded history has merges");
    let merged_away = text(merge, "/payload/customerId").to_owned();
    let mut erased = vec![text(merge, "/payload/survivorId").to_owned()];
    // ... and customers with every kind of personal history: enquiries, claims, cases,
    // policies, satisfaction comments, corrections, identifier changes.
    for kind in [
        "OnlineEnquiryReceived",
        "ClaimReported",
        "ClaimSettled",
        "ServiceCaseOpened",
        "RiskSurveyCompleted",
        "PolicyEndorsed",
        "SatisfactionRecorded",
        "ContactCorrected",
        "IdentifierAdded",
        "ProfileUpdated",
        "CustomerRegistered",
    ] {
        let customer = before
            .iter()
            .filter(|line| text(line, "/type") == kind)
            .map(|line| text(line, "/payload/customerId").to_owned())
            .find(|id| !id.is_empty() && !erased.contains(id));
        erased.extend(customer);
    }
    assert!(erased.len() >= 8, "{erased:?}");
    // Before any erasure the export already hides every name: sealed lines show "".
    for line in before
        .iter()
        .filter(|line| text(line, "/type") == "CustomerRegistered")
    {
        assert_eq!(text(line, "/payload/name"), "", "{line}");
        assert!(line.get("sealed").is_some());
    }

    for customer in &erased {
        let output = run(&[
            "erase",
            "--data",
            data,
            "--customer",
            customer,
            "--reason",
            "CUSTOMER_REQUEST",
        ]);
        assert!(output.status.success(), "{}", stderr(&output));
        assert!(stdout(&output).contains("data key is destroyed"));
        assert!(
            stdout(&output).contains("run `master-key rotate` and destroy the old key file"),
            "{}",
            stdout(&output)
        );
    }
    // Erasing again is refused with the rule, not a crash.
    let again = run(&[
        "erase",
        "--data",
        data,
        "--customer",
        &erased[0],
        "--reason",
        "CUSTOMER_REQUEST",
    ]);
    assert!(!again.status.success());
    assert!(stderr(&again).contains("erase"), "{}", stderr(&again));

    // A web-shop lead from someone nobody knew is erased on its own; one from a known customer
    // is not on a stream of its own, so it is not found there; naming both subjects or neither
    // is refused before anything opens.
    let erased_enquiries = |lines: &[serde_json::Value]| -> BTreeSet<String> {
        lines
            .iter()
            .filter(|line| text(line, "/type") == "EnquiryErased")
            .map(|line| text(line, "/payload/enquiryId").to_owned())
            .collect()
    };
    let seeded_erasures = erased_enquiries(&before);
    let enquiry = |known: bool| {
        before
            .iter()
            .filter(|line| text(line, "/type") == "OnlineEnquiryReceived")
            .filter(|line| !seeded_erasures.contains(text(line, "/payload/enquiryId")))
            .find(|line| text(line, "/payload/customerId").is_empty() != known)
            .map(|line| text(line, "/payload/enquiryId").to_owned())
            .expect("the seed holds enquiries from known and unknown people")
    };
    let erase_enquiry = |id: &str| {
        run(&[
            "erase",
            "--data",
            data,
            "--enquiry",
            id,
            "--reason",
            "LEGAL_ORDER",
        ])
    };
    let anonymous = enquiry(false);
    let output = erase_enquiry(&anonymous);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(stdout(&output).contains(&format!("erased enquiry {anonymous}")));
    let again = erase_enquiry(&anonymous);
    assert!(!again.status.success());
    assert!(
        stderr(&again).contains(&format!(
            "enquiry {anonymous} was already erased, at position"
        )),
        "{}",
        stderr(&again)
    );
    let known = erase_enquiry(&enquiry(true));
    assert!(!known.status.success());
    assert!(
        stderr(&known).contains("so it is on the customer's stream"),
        "{}",
        stderr(&known)
    );
    for flags in [
        &["--customer", &erased[0], "--enquiry", &anonymous][..],
        &[][..],
    ] {
        let mut args = vec!["erase", "--data", data, "--reason", "LEGAL_ORDER"];
        args.extend_from_slice(flags);
        let refused = run(&args);
        assert_eq!(refused.status.code(), Some(2), "{}", stderr(&refused));
    }

    // Live read models (which saw the plain values before the erasure) equal a rebuild that
    // sees the erased customers' events redacted from the start.
    let check = run(&["replay", "--data", data, "--check"]);
    assert!(
        check.status.success(),
        "{}\n{}",
        stdout(&check),
        stderr(&check)
    );
    // The chain covers the sealed bytes: it verifies with the keys destroyed.
    let verified = run(&["verify", "--data", data]);
    assert!(verified.status.success(), "{}", stderr(&verified));

    // The export after erasure: the same sealed bytes as before (events are immutable), and
    // non-personal facts of the erased customers still readable.
    let after = export(data);
    assert_eq!(&after[..before.len()], &before[..]);
    let erased_lines: Vec<&serde_json::Value> = after
        .iter()
        .filter(|line| {
            erased
                .iter()
                .any(|id| text(line, "/payload/customerId") == id)
        })
        .collect();
    assert!(erased_lines.len() > erased.len());
    assert!(
        after
            .iter()
            .filter(|line| text(line, "/type") == "CustomerErased")
            .count()
            >= erased.len()
    );
    let mut expected = seeded_erasures.clone();
    expected.insert(anonymous.clone());
    assert_eq!(erased_enquiries(&after), expected);
    // Erasing the survivor erased the customer merged into it too (the same person).
    let erased_ids: BTreeSet<&str> = after
        .iter()
        .filter(|line| text(line, "/type") == "CustomerErased")
        .map(|line| text(line, "/payload/customerId"))
        .collect();
    assert!(erased_ids.contains(merged_away.as_str()), "{erased_ids:?}");
    let mut shown = BTreeSet::new();
    for line in &erased_lines {
        if line.get("sealed").is_some() {
            strings(&line["payload"], &mut shown);
        }
    }
    // The redacted payloads show ids, kinds, dates and amounts, never a name or a summary.
    for value in &shown {
        let looks_personal = !value.is_ascii() && !value.contains('-');
        assert!(!looks_personal, "a redacted payload shows {value:?}");
    }

    // Export → import into an empty store reproduces the head hash.
    let file = scratch.path().join("export.ndjson");
    let exported = run(&["export", "--data", data, "--output", file.to_str().unwrap()]);
    assert!(exported.status.success(), "{}", stderr(&exported));
    let copy = scratch.path().join("copy");
    let copy = copy.to_str().unwrap();
    let imported = run(&["import", "--data", copy, file.to_str().unwrap()]);
    assert!(imported.status.success(), "{}", stderr(&imported));
    let head = |dir: &str| {
        let stats = run(&["stats", "--data", dir, "--json"]);
        assert!(stats.status.success(), "{}", stderr(&stats));
        let json: serde_json::Value = serde_json::from_str(&stdout(&stats)).unwrap();
        json["headHash"].as_str().unwrap().to_owned()
    };
    assert_eq!(head(data), head(copy));
}

#[test]
fn a_missing_wrong_or_rotated_master_key_is_a_clear_error() {
    let scratch = tempfile::tempdir().unwrap();
    let data = scratch.path().join("data");
    let data = data.to_str().unwrap();
    let seeded = run(&["seed", "--data", data, "--customers", "5", "--years", "1"]);
    assert!(seeded.status.success(), "{}", stderr(&seeded));

    let missing = std::process::Command::new(ledger_tests::binary())
        .args(["stats", "--data", data])
        .env_remove("LEDGER_MASTER_KEY")
        .output()
        .unwrap();
    assert!(!missing.status.success());
    assert!(
        stderr(&missing).contains("no master key"),
        "{}",
        stderr(&missing)
    );

    let wrong = scratch.path().join("wrong.key");
    std::fs::write(&wrong, "11".repeat(32)).unwrap();
    let refused = run(&[
        "stats",
        "--data",
        data,
        "--master-key-file",
        wrong.to_str().unwrap(),
    ]);
    assert!(!refused.status.success());
    assert!(
        stderr(&refused).contains("does not open this ledger"),
        "{}",
        stderr(&refused)
    );

    let malformed = scratch.path().join("malformed.key");
    std::fs::write(&malformed, "not a key").unwrap();
    let refused = run(&[
        "stats",
        "--data",
        data,
        "--master-key-file",
        malformed.to_str().unwrap(),
    ]);
    assert!(
        stderr(&refused).contains("64 hexadecimal characters"),
        "{}",
        stderr(&refused)
    );

    // Rotation: a fresh key from `master-key new`, every data key rewrapped under it.
    let fresh = run(&["master-key", "new"]);
    assert!(fresh.status.success(), "{}", stderr(&fresh));
    let new_key = scratch.path().join("new.key");
    std::fs::write(&new_key, stdout(&fresh)).unwrap();
    let rotated = run(&[
        "master-key",
        "rotate",
        "--data",
        data,
        "--new-key-file",
        new_key.to_str().unwrap(),
    ]);
    assert!(rotated.status.success(), "{}", stderr(&rotated));
    assert!(
        stdout(&rotated).contains("rewrapped"),
        "{}",
        stdout(&rotated)
    );
    let with_new = run(&[
        "replay",
        "--data",
        data,
        "--check",
        "--master-key-file",
        new_key.to_str().unwrap(),
    ]);
    assert!(with_new.status.success(), "{}", stderr(&with_new));
    let with_old = run(&["stats", "--data", data]);
    assert!(
        stderr(&with_old).contains("does not open this ledger"),
        "{}",
        stderr(&with_old)
    );
}
