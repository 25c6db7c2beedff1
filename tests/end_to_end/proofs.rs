//! Auditor proofs checked by the independent verifier: `contact-ledger proof …` and the API's
//! `verifierDocument`s piped into `python3 tools/proof_verifier.py json` (exit 0), tampered
//! documents refused (exit 1), and a checkpoint kept outside the insurer that a later
//! consistency proof extends: the ledger only grew since.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Command, Output, Stdio};

use ledger_server::config::{Config, RoleName};
use ledger_tests::{run, stderr, stdout};
use serde_json::{Value, json};

use crate::fixture::{fixture_path, fixture_records};
use crate::server::TestApp;

/// The independent verifier, relative to this crate (`tests/`).
const VERIFIER: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../tools/proof_verifier.py");

/// The checkpoint key the CLI tests sign with (RFC 8032's first test seed).
const SEED_HEX: &str = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";

/// Runs `python3 tools/proof_verifier.py json` on `document`.
fn verifier(document: &Value) -> Output {
    let mut child = Command::new("python3")
        .args([VERIFIER, "json"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 can be started");
    child
        .stdin
        .take()
        .expect("stdin is piped")
        .write_all(document.to_string().as_bytes())
        .expect("the verifier reads its input");
    child.wait_with_output().expect("the verifier finishes")
}

/// The verifier's exit code for `document`.
fn verdict(document: &Value) -> i32 {
    let output = verifier(document);
    let code = output.status.code().expect("the verifier exits");
    assert_ne!(code, 2, "a usage error, not a verdict: {}", stderr(&output));
    code
}

fn assert_valid(document: &Value) {
    let output = verifier(document);
    assert!(
        output.status.success(),
        "{document}\n{}{}",
        stdout(&output),
        stderr(&output)
    );
    assert!(
        stdout(&output).starts_with("valid: "),
        "{}",
        stdout(&output)
    );
}

fn assert_invalid(what: &str, document: &Value) {
    assert_eq!(verdict(document), 1, "{what} was accepted: {document}");
}

/// Runs `contact-ledger proof ARGS…` on the ledger in `data`; its stdout must be one JSON line.
fn proof(data: &Path, arguments: &[&str]) -> Value {
    let mut all = vec!["proof"];
    all.extend_from_slice(arguments);
    all.extend(["--data", data.to_str().expect("a UTF-8 path")]);
    let output = run(&all);
    assert!(output.status.success(), "{all:?}: {}", stderr(&output));
    let text = stdout(&output);
    assert_eq!(text.lines().count(), 1, "{text}");
    serde_json::from_str(&text).unwrap_or_else(|error| panic!("not JSON ({error}): {text}"))
}

fn import(data: &Path, file: &Path) {
    let output = run(&[
        "import",
        "--data",
        data.to_str().expect("a UTF-8 path"),
        file.to_str().expect("a UTF-8 path"),
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
}

fn write_key_config(path: &Path) {
    std::fs::write(path, format!("[proofs]\nsigning_key = \"{SEED_HEX}\"\n"))
        .expect("the config is written");
}

/// Flips the lowest bit of the hex digit at `index` of a hash.
fn flip_hex(text: &str, index: usize) -> String {
    let mut characters: Vec<char> = text.chars().collect();
    let digit = characters[index].to_digit(16).expect("a hex digit");
    characters[index] = char::from_digit(digit ^ 1, 16).expect("a hex digit");
    characters.into_iter().collect()
}

/// Flips one bit of a base64 signature's first byte.
fn flip_base64(text: &str) -> String {
    let first = if text.starts_with('A') { 'B' } else { 'A' };
    format!("{first}{}", &text[1..])
}

fn with(document: &Value, pointer: &str, value: Value) -> Value {
    let mut changed = document.clone();
    *changed.pointer_mut(pointer).expect("the field exists") = value;
    changed
}

fn size(value: &Value) -> u64 {
    value.as_u64().expect("a size")
}

#[test]
fn the_cli_proofs_pass_the_independent_verifier_and_tampered_ones_fail_it() {
    let scratch = tempfile::tempdir().expect("a temporary directory");
    let data = scratch.path().join("data");
    let config = scratch.path().join("keys.toml");
    import(&data, &fixture_path());
    write_key_config(&config);
    let records = fixture_records();
    let last = records.to_string();

    let root = proof(&data, &["root"]);
    assert_eq!(size(&root["treeSize"]), records);

    // Inclusion: the first and last records, one in the middle, one in a past tree.
    for arguments in [
        vec!["--position", "1"],
        vec!["--position", "5"],
        vec!["--position", "600"],
        vec!["--position", last.as_str()],
        vec!["--position", "5", "--size", "700"],
    ] {
        let mut all = vec!["inclusion"];
        all.extend(arguments);
        let document = proof(&data, &all);
        assert_valid(&document);
    }
    let inclusion = proof(&data, &["inclusion", "--position", "5"]);
    assert_eq!(inclusion["rootHash"], root["rootHash"]);
    assert_eq!(size(&inclusion["treeSize"]), records);
    let first_element = inclusion["proof"][0].as_str().expect("a hash").to_owned();
    assert_invalid(
        "a proof element with a bit flipped",
        &with(&inclusion, "/proof/0", json!(flip_hex(&first_element, 63))),
    );
    assert_invalid(
        "a leaf hash with a bit flipped",
        &with(
            &inclusion,
            "/leafHash",
            json!(flip_hex(inclusion["leafHash"].as_str().expect("hex"), 0)),
        ),
    );
    // A proof binds a leaf to a root; the size only shapes the path, so a size whose path has
    // the same shape (often the head less one, for leaf 4) passes with the same root. What binds a root to
    // its size is the signed checkpoint, tested below.
    assert_invalid(
        "the wrong tree size",
        &with(&inclusion, "/treeSize", json!(records / 2)),
    );
    assert_invalid(
        "another leaf index",
        &with(&with(&inclusion, "/index", json!(5)), "/position", json!(6)),
    );
    let past_root = proof(&data, &["root", "--size", "700"]);
    assert_invalid(
        "a root of another size",
        &with(&inclusion, "/rootHash", past_root["rootHash"].clone()),
    );

    // Consistency: from the empty tree, a past tree and the whole tree itself.
    for from in ["0", "1", "600", "700", "1024", last.as_str()] {
        let document = proof(&data, &["consistency", "--from", from]);
        assert_valid(&document);
    }
    let consistency = proof(&data, &["consistency", "--from", "700"]);
    assert_eq!(consistency["fromRoot"], past_root["rootHash"]);
    assert_eq!(consistency["toRoot"], root["rootHash"]);
    let swapped = with(
        &with(&consistency, "/fromRoot", consistency["toRoot"].clone()),
        "/toRoot",
        consistency["fromRoot"].clone(),
    );
    assert_invalid("swapped roots", &swapped);
    assert_invalid(
        "the wrong old size",
        &with(&consistency, "/fromSize", json!(699)),
    );
    assert_invalid(
        "the wrong new size",
        &with(&consistency, "/toSize", json!(1024)),
    );
    let element = consistency["proof"][1].as_str().expect("a hash").to_owned();
    assert_invalid(
        "a proof element with a bit flipped",
        &with(&consistency, "/proof/1", json!(flip_hex(&element, 10))),
    );

    // A signed checkpoint of the head.
    let checkpoint = proof(
        &data,
        &["checkpoint", "--config", config.to_str().expect("UTF-8")],
    );
    assert_valid(&checkpoint);
    assert_eq!(checkpoint["checkpoint"]["rootHash"], root["rootHash"]);
    assert_eq!(size(&checkpoint["checkpoint"]["treeSize"]), records);
    let signature = checkpoint["signature"].as_str().expect("base64").to_owned();
    assert_invalid(
        "a signature with a bit flipped",
        &with(&checkpoint, "/signature", json!(flip_base64(&signature))),
    );
    let mut unsigned_body = checkpoint.clone();
    unsigned_body
        .as_object_mut()
        .expect("an object")
        .remove("body");
    assert_invalid(
        "a checkpoint of another size",
        &with(&unsigned_body, "/checkpoint/treeSize", json!(records - 1)),
    );
    assert_invalid(
        "a checkpoint of another root",
        &with(
            &unsigned_body,
            "/checkpoint/rootHash",
            past_root["rootHash"].clone(),
        ),
    );
    assert_invalid(
        "a checkpoint of another time",
        &with(
            &unsigned_body,
            "/checkpoint/timestamp",
            json!(
                checkpoint["checkpoint"]["timestamp"]
                    .as_i64()
                    .expect("seconds")
                    + 1
            ),
        ),
    );
    assert_invalid(
        "a body that does not match the fields",
        &with(&checkpoint, "/checkpoint/treeSize", json!(records - 1)),
    );
}

#[test]
fn bad_positions_and_sizes_and_a_missing_key_have_clear_exit_codes() {
    let scratch = tempfile::tempdir().expect("a temporary directory");
    let data = scratch.path().join("data");
    import(&data, &fixture_path());
    let data_text = data.to_str().expect("UTF-8");
    let head = fixture_records();
    let beyond = (head + 99).to_string();
    let beyond_head = format!("beyond the ledger's head ({head})");
    let no_tree = format!("no tree of size {beyond}");
    for (arguments, code, message) in [
        (
            vec!["inclusion", "--position", "0"],
            2,
            "positions start at 1",
        ),
        (
            vec!["inclusion", "--position", "5000"],
            2,
            beyond_head.as_str(),
        ),
        (
            vec!["inclusion", "--position", "9", "--size", "8"],
            2,
            "not in the tree of --size 8",
        ),
        (
            vec!["consistency", "--from", "9", "--to", "8"],
            2,
            "--from 9 is larger than --to 8",
        ),
        (
            vec!["consistency", "--from", beyond.as_str()],
            2,
            no_tree.as_str(),
        ),
        (vec!["root", "--size", beyond.as_str()], 2, no_tree.as_str()),
        (
            vec!["checkpoint"],
            1,
            "signed checkpoint needs `[proofs] signing_key`",
        ),
        (vec!["inclusion"], 2, "--position"),
    ] {
        let mut all = vec!["proof"];
        all.extend(&arguments);
        all.extend(["--data", data_text]);
        let output = run(&all);
        assert_eq!(
            output.status.code(),
            Some(code),
            "{all:?}: {}",
            stderr(&output)
        );
        assert!(
            stderr(&output).contains(message),
            "{all:?}: {}",
            stderr(&output)
        );
        assert!(stdout(&output).is_empty(), "{all:?}: {}", stdout(&output));
    }
    let keyless = scratch.path().join("keyless.toml");
    std::fs::write(&keyless, "[server]\n").expect("the config is written");
    let output = run(&[
        "proof",
        "checkpoint",
        "--config",
        keyless.to_str().expect("UTF-8"),
        "--data",
        data_text,
    ]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("has no `[proofs] signing_key`"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn a_checkpoint_kept_outside_proves_the_ledger_only_grew_since() {
    let scratch = tempfile::tempdir().expect("a temporary directory");
    let data = scratch.path().join("data");
    let config = scratch.path().join("keys.toml");
    write_key_config(&config);
    let config = config.to_str().expect("UTF-8");
    let fixture = std::fs::read_to_string(fixture_path()).expect("the fixture reads");
    let early: String = fixture
        .lines()
        .take(700)
        .map(|line| format!("{line}\n"))
        .collect();
    let early_file = scratch.path().join("early.ndjson");
    std::fs::write(&early_file, early).expect("the first part is written");

    // The auditor takes a signed checkpoint and keeps it.
    import(&data, &early_file);
    let kept = proof(&data, &["checkpoint", "--config", config]);
    assert_valid(&kept);
    assert_eq!(size(&kept["checkpoint"]["treeSize"]), 700);

    // The insurer goes on recording.
    import(&data, &fixture_path());
    let today = proof(&data, &["checkpoint", "--config", config]);
    assert_valid(&today);
    assert_eq!(size(&today["checkpoint"]["treeSize"]), fixture_records());

    // The proof that today's tree extends the kept one, checked against the kept root (the
    // auditor's own copy, not the one the insurer sends) and today's signed root.
    let grown = proof(&data, &["consistency", "--from", "700"]);
    let audited = json!({
        "kind": "consistency",
        "fromSize": kept["checkpoint"]["treeSize"],
        "fromRoot": kept["checkpoint"]["rootHash"],
        "toSize": today["checkpoint"]["treeSize"],
        "toRoot": today["checkpoint"]["rootHash"],
        "proof": grown["proof"],
    });
    assert_valid(&audited);
    assert_eq!(grown["fromRoot"], kept["checkpoint"]["rootHash"]);

    // Had the first 700 records been rewritten, no proof would lead to the kept root.
    let forged_root = flip_hex(kept["checkpoint"]["rootHash"].as_str().expect("hex"), 5);
    assert_invalid(
        "a kept root the history no longer has",
        &with(&audited, "/fromRoot", json!(forged_root)),
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_api_documents_pass_the_independent_verifier() {
    let app = TestApp::new().await;
    for (name, mobile) in [
        ("张三", "13800138000"),
        ("李四", "13900139000"),
        ("王五", "13700137000"),
    ] {
        let register = json!({
            "query": "mutation($input: RegisterCustomerInput!) { registerCustomer(input: $input) { position } }",
            "variables": { "input": {
                "kind": "INDIVIDUAL", "name": name, "identifiers": [{ "kind": "MOBILE", "value": mobile }]
            }}
        });
        let (_, body) = app.graphql(Some(RoleName::Agent), register, &[]).await;
        assert!(body.get("errors").is_none(), "{body}");
    }
    let query = json!({ "query": r#"{
        inclusionProof(position: "2") { verifierDocument }
        past: inclusionProof(position: "1", treeSize: "2") { verifierDocument }
        consistencyProof(fromSize: "1") { fromRoot verifierDocument }
        signedCheckpoint { publicKey verifierDocument }
        ledger { treeSize rootHash }
    }"# });
    let (_, body) = app.graphql(Some(RoleName::Auditor), query, &[]).await;
    assert!(body.get("errors").is_none(), "{body}");
    let answer = &body["data"];
    for field in [
        "inclusionProof",
        "past",
        "consistencyProof",
        "signedCheckpoint",
    ] {
        assert_valid(&answer[field]["verifierDocument"]);
    }
    assert_eq!(
        answer["signedCheckpoint"]["verifierDocument"]["checkpoint"]["rootHash"],
        answer["ledger"]["rootHash"]
    );
    let key = app
        .config
        .checkpoint_key()
        .unwrap()
        .expect("a generated key");
    assert_eq!(
        answer["signedCheckpoint"]["publicKey"],
        ledger_proof::public_key_text(&key.verifying_key()).as_str()
    );
    // The document from the API, with the signature of another checkpoint, is refused.
    let document = &answer["signedCheckpoint"]["verifierDocument"];
    let signature = document["signature"].as_str().expect("base64");
    assert_invalid(
        "a flipped signature",
        &with(document, "/signature", json!(flip_base64(signature))),
    );
}

#[test]
fn serve_writes_a_signing_key_on_first_start_and_its_checkpoints_verify_with_the_printed_key() {
    let scratch = tempfile::tempdir().expect("a temporary directory");
    let data = scratch.path().join("data");
    import(&data, &fixture_path());
    let mut server = ledger_tests::command()
        .args([
            "serve",
            "--data",
            data.to_str().expect("UTF-8"),
            "--listen",
            "127.0.0.1:0",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("serve starts");
    let mut lines = BufReader::new(server.stdout.take().expect("stdout is piped")).lines();
    let mut address = None;
    let mut public_key = None;
    for line in lines.by_ref() {
        let line = line.expect("serve prints text");
        if let Some((_, rest)) = line.split_once(" on http://") {
            address = rest.split('/').next().map(str::to_owned);
        }
        if let Some((_, key)) = line.split_once("give it to auditors): ") {
            public_key = Some(key.trim().to_owned());
            break;
        }
    }
    let (address, public_key) = (
        address.expect("serve prints its address"),
        public_key.expect("serve prints the checkpoint public key"),
    );
    let config = Config::load(&data.join("ledger.toml")).expect("serve wrote its config");
    let key = config
        .checkpoint_key()
        .unwrap()
        .expect("the written config has a key");
    assert_eq!(
        public_key,
        ledger_proof::public_key_text(&key.verifying_key())
    );
    let auditor = config
        .auth
        .tokens
        .iter()
        .find(|token| token.role == RoleName::Auditor)
        .expect("an auditor token")
        .token
        .clone();

    let body: Value = serde_json::from_str(&crate::api::post(
        &address,
        &auditor,
        &json!({ "query": "{ signedCheckpoint { treeSize verifierDocument } }" }),
    ))
    .expect("JSON");
    assert_eq!(
        body["data"]["signedCheckpoint"]["treeSize"],
        fixture_records().to_string(),
        "{body}"
    );
    // The auditor checks with the key printed at start, not the one in the answer.
    let document = with(
        &body["data"]["signedCheckpoint"]["verifierDocument"],
        "/publicKey",
        json!(public_key),
    );
    assert_valid(&document);

    let status = Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
    assert!(server.wait().expect("serve stops").success());
    let mut errors = String::new();
    server
        .stderr
        .take()
        .expect("stderr is piped")
        .read_to_string(&mut errors)
        .expect("stderr reads");
    assert!(errors.contains("shutting down"), "{errors}");
}
