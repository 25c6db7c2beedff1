//! `import` where it once fell short of what README promises:
//! - an erasure imported into a ledger whose read models are built strips the erased
//!   customer's fields from every read model before the import ends, as `erase` does;
//! - `--skip-invalid` with not one valid line, into a data directory the import created,
//!   removes it, as any refused import does;
//! - an export line already in the ledger must be the stored record: one whose content was
//!   altered since the export is a problem naming its line and `hash`, and nothing is written.

use ledger_tests::{run, stderr, stdout};

use crate::fixture::fixture_path;

/// A customer of the fixture nobody was merged into and who is never erased there.
const CUSTOMER: &str = "0192e5de-b9ad-7517-81e6-11c7c39faa3d";

/// Imports the sample fixture into a new ledger at `data` (its read models built whole).
fn imported_fixture(data: &str) {
    let imported = run(&["import", "--data", data, fixture_path().to_str().unwrap()]);
    assert!(imported.status.success(), "{}", stderr(&imported));
}

fn head_hash(data: &str) -> serde_json::Value {
    crate::cli::verify_json(data)["headHash"].clone()
}

#[test]
fn an_imported_erasure_strips_the_read_models_before_the_import_ends() {
    let scratch = tempfile::tempdir().unwrap();
    let data = scratch.path().join("data");
    let data = data.to_str().unwrap();
    imported_fixture(data);

    let erasure = scratch.path().join("erasure.ndjson");
    std::fs::write(
        &erasure,
        format!(
            r#"{{"type":"CustomerErased","schemaVersion":1,"stream":"customer-{CUSTOMER}","occurredAt":"2026-11-01T02:00:00Z","actor":"privacy-01","payload":{{"customerId":"{CUSTOMER}","reason":"CUSTOMER_REQUEST"}}}}"#
        ) + "\n",
    )
    .unwrap();
    let imported = run(&["import", "--data", data, erasure.to_str().unwrap()]);
    assert!(imported.status.success(), "{}", stderr(&imported));
    // The live read models, which held the customer's fields in the clear, equal a rebuild
    // that sees them erased from the start: none of them shows the customer's data.
    let check = run(&["replay", "--data", data, "--check"]);
    assert!(
        check.status.success(),
        "{}\n{}",
        stdout(&check),
        stderr(&check)
    );

    let report = stdout(&imported);
    assert!(report.contains("imported 1 new event"), "{report}");
    assert!(
        report.contains("every read model is caught up to the head"),
        "{report}"
    );
    assert!(!report.contains("a server applies the rest"), "{report}");
}

#[test]
fn skip_invalid_with_no_valid_line_removes_the_directory_it_created() {
    let scratch = tempfile::tempdir().unwrap();
    let created = scratch.path().join("new");
    let data = created.join("data");
    let file = scratch.path().join("invalid.ndjson");
    std::fs::write(
        &file,
        "{\"type\":\"NoSuchEvent\"}\nnot json\n{\"type\":\"CustomerRegistered\"}\n",
    )
    .unwrap();
    let refused = run(&[
        "import",
        "--data",
        data.to_str().unwrap(),
        "--skip-invalid",
        file.to_str().unwrap(),
    ]);
    assert_eq!(refused.status.code(), Some(1), "{}", stderr(&refused));
    assert!(!created.exists(), "the import left {}", created.display());
    assert!(
        stderr(&refused).contains("3 invalid lines; nothing written (no line is valid)"),
        "{}",
        stderr(&refused)
    );
}

#[test]
fn a_tampered_export_line_already_in_the_ledger_is_refused_naming_its_hash() {
    let scratch = tempfile::tempdir().unwrap();
    let data = scratch.path().join("data");
    let data = data.to_str().unwrap();
    imported_fixture(data);
    let export = scratch.path().join("export.ndjson");
    let exported = run(&[
        "export",
        "--data",
        data,
        "--output",
        export.to_str().unwrap(),
    ]);
    assert!(exported.status.success(), "{}", stderr(&exported));
    let head = head_hash(data);

    // The untampered copy is already present, whole.
    let again = run(&["import", "--data", data, export.to_str().unwrap()]);
    assert!(again.status.success(), "{}", stderr(&again));
    assert!(
        stdout(&again).contains("imported 0 new events"),
        "{}",
        stdout(&again)
    );

    // Line 29's actor altered, its hash left as exported.
    let text = std::fs::read_to_string(&export).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    let mut line: serde_json::Value = serde_json::from_str(&lines[28]).unwrap();
    line["actor"] = serde_json::Value::String("agent-9999".to_owned());
    lines[28] = line.to_string();
    let tampered = scratch.path().join("tampered.ndjson");
    std::fs::write(&tampered, lines.join("\n") + "\n").unwrap();

    let offline = run(&["verify", "--export", tampered.to_str().unwrap()]);
    assert!(!offline.status.success());
    let refused = run(&["import", "--data", data, tampered.to_str().unwrap()]);
    assert_eq!(refused.status.code(), Some(1), "{}", stderr(&refused));
    let problems = stderr(&refused);
    assert!(
        problems.contains("line 29: hash: does not match the line's content"),
        "{problems}"
    );
    assert!(problems.contains("nothing written"), "{problems}");
    assert_eq!(head_hash(data), head);
}
