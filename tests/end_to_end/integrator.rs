//! What an integrator driving the command line hit, each reproduced end to end: a stray quote
//! in a CSV, an export written over the ledger's own files, read models an interrupted import
//! left unbuilt, the exit code of `--skip-invalid`, a server that printed tokens and never
//! started, and the wording of a few refusals.

use ledger_tests::{command, run, run_with_input, stderr, stdout};
use serde_json::Value;

use crate::cli::{assert_no_spooled_input, verify_json};

const CUSTOMER: &str = "0190a5e2-8c3b-7d4e-9f00-1234567890ab";
const ENQUIRY: &str = "0190a5e2-8c3b-7d4e-9f00-00000000e001";

const HEADER: &str =
    "customerId,channel,direction,agent,startedAt,durationSeconds,topic,summary,outcome";

fn registration() -> String {
    format!(
        r#"{{"type":"CustomerRegistered","schemaVersion":1,"stream":"customer-{CUSTOMER}","occurredAt":"2025-03-07T09:30:00+08:00","actor":"agent-0042","payload":{{"customerId":"{CUSTOMER}","kind":"INDIVIDUAL","name":"张三","group":null,"identifiers":[{{"kind":"MOBILE","value":"13800138000"}}]}}}}"#
    )
}

/// A ledger under `scratch` holding the registration of [`CUSTOMER`].
fn registered_ledger(scratch: &std::path::Path) -> String {
    let data = scratch.join("data").to_str().unwrap().to_owned();
    let registered = run_with_input(&["import", "--data", &data, "-"], registration().as_bytes());
    assert!(registered.status.success(), "{}", stderr(&registered));
    data
}

fn stats(data: &str) -> Value {
    let output = run(&["stats", "--data", data, "--json"]);
    assert!(output.status.success(), "{}", stderr(&output));
    serde_json::from_str(stdout(&output).trim()).unwrap()
}

fn head_hash(data: &str) -> Value {
    verify_json(data)["headHash"].clone()
}

/// A row of [`CUSTOMER`]'s contact at `hour`, with `summary` and `outcome` as written.
fn row(hour: u32, summary: &str, outcome: &str) -> String {
    format!(
        "{CUSTOMER},PHONE,INBOUND,agent-0042,2026-11-02T{hour:02}:00:00+08:00,60,ENQUIRY,{summary},{outcome}"
    )
}

/// A stray opening quote read the next row into a summary and closed on it: the file is
/// refused whole, naming the line and column where text follows the closing quote, with or
/// without `--skip-invalid`, and nothing is written.
#[test]
fn a_stray_quote_that_swallows_the_next_row_stops_the_import() {
    let scratch = tempfile::tempdir().unwrap();
    let data = registered_ledger(scratch.path());
    let head = head_hash(&data);
    let text = [
        HEADER.to_owned(),
        row(9, "\"客户说明天再打", "CALLBACK_SCHEDULED"),
        row(10, "\"回复保单问题\"", "RESOLVED"),
        row(11, "投诉", "RESOLVED"),
    ]
    .join("\n")
        + "\n";
    for arguments in [
        &["import", "--data", &data, "--csv", "-"][..],
        &["import", "--data", &data, "--csv", "--skip-invalid", "-"][..],
    ] {
        let refused = run_with_input(arguments, text.as_bytes());
        assert_eq!(refused.status.code(), Some(1), "{}", stderr(&refused));
        let errors = stderr(&refused);
        assert!(
            errors.contains(
                "line 3: summary: text after the closing quote of a quoted cell (character 101; \
                 the cell opened on line 2): RFC 4180 allows only a separator or a line end there"
            ),
            "{errors}"
        );
        assert!(errors.contains("nothing was imported"), "{errors}");
        assert_eq!(head_hash(&data), head);
        assert_no_spooled_input(&data);
    }
}

/// A stray quote closed, by chance, right at a line's end reads as legal RFC 4180, a summary
/// holding a line break and a whole row: that row is refused, not merged into one contact.
#[test]
fn a_summary_holding_a_whole_row_after_a_line_break_is_refused() {
    let scratch = tempfile::tempdir().unwrap();
    let data = registered_ledger(scratch.path());
    let head = head_hash(&data);
    let text = [
        HEADER.to_owned(),
        row(9, "好的", "\"RESOLVED"),
        row(10, "回复", "RESOLVED\""),
        row(11, "投诉", "RESOLVED"),
    ]
    .join("\n")
        + "\n";
    let refused = run_with_input(&["import", "--data", &data, "--csv", "-"], text.as_bytes());
    assert_eq!(refused.status.code(), Some(1), "{}", stderr(&refused));
    let errors = stderr(&refused);
    assert!(
        errors.contains(
            "line 2: outcome: the cell's line 2 holds 8 commas or more, as a whole row does"
        ),
        "{errors}"
    );
    assert_eq!(head_hash(&data), head);

    // A summary over several lines with a comma or two is a summary.
    let text = format!(
        "{HEADER}\n{}\n",
        row(9, "\"续保咨询,\n客户要求回电,明天,上午\"", "RESOLVED")
    );
    let output = run_with_input(&["import", "--data", &data, "--csv", "-"], text.as_bytes());
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(stats(&data)["byType"]["ContactRecorded"], 1);
}

/// Every cell is read without the spaces around it, codes and timestamps as text and ids are:
/// a padded row is accepted, and is the same contact as the unpadded one.
#[test]
fn every_csv_cell_is_read_without_its_surrounding_spaces() {
    let scratch = tempfile::tempdir().unwrap();
    let data = registered_ledger(scratch.path());
    let padded = format!(
        "{HEADER}\n {CUSTOMER} , PHONE ,\tINBOUND, agent-0042 , 2026-11-02T09:00:00+08:00 , 60 , ENQUIRY , 问 , RESOLVED \n"
    );
    let output = run_with_input(
        &["import", "--data", &data, "--csv", "-"],
        padded.as_bytes(),
    );
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        stdout(&output).contains("imported 1 new event (0 already present"),
        "{}",
        stdout(&output)
    );
    let plain = format!("{HEADER}\n{}\n", row(9, "问", "RESOLVED"));
    let again = run_with_input(&["import", "--data", &data, "--csv", "-"], plain.as_bytes());
    assert!(again.status.success(), "{}", stderr(&again));
    assert!(
        stdout(&again).contains("imported 0 new events (1 already present"),
        "{}",
        stdout(&again)
    );
}

/// `--skip-invalid` writes the valid lines and exits 1 when it skipped any, so a script tells
/// a run that dropped lines from a clean one; a clean run exits 0.
#[test]
fn skip_invalid_exits_1_when_it_skipped_lines() {
    let scratch = tempfile::tempdir().unwrap();
    let data = registered_ledger(scratch.path());
    let text = format!(
        "{HEADER}\n{}\n{}\n",
        row(9, "好的", "RESOLVED"),
        row(10, "问", "NOT_AN_OUTCOME")
    );
    let skipped = run_with_input(
        &["import", "--data", &data, "--csv", "--skip-invalid", "-"],
        text.as_bytes(),
    );
    assert_eq!(skipped.status.code(), Some(1), "{}", stderr(&skipped));
    assert!(
        stdout(&skipped)
            .contains("imported 1 new event (0 already present, 1 invalid line skipped)"),
        "{}",
        stdout(&skipped)
    );
    assert!(
        stderr(&skipped).contains("line 3: outcome:"),
        "{}",
        stderr(&skipped)
    );
    assert!(
        stderr(&skipped)
            .contains("import: 1 invalid line skipped (listed above); the valid lines are written"),
        "{}",
        stderr(&skipped)
    );
    assert_eq!(stats(&data)["byType"]["ContactRecorded"], 1);

    let clean = format!("{HEADER}\n{}\n", row(11, "好", "RESOLVED"));
    let output = run_with_input(
        &["import", "--data", &data, "--csv", "--skip-invalid", "-"],
        clean.as_bytes(),
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
}

/// `export --output` into the data directory is refused before anything is written, whatever
/// the spelling (the sled file itself, a new file, `..`, a directory not there yet, a relative
/// path from inside): an export renamed over `log/db` had replaced the event log.
#[test]
fn an_export_into_the_data_directory_is_refused() {
    let scratch = tempfile::tempdir().unwrap();
    let data = registered_ledger(scratch.path());
    let db = format!("{data}/log/db");
    let before = std::fs::read(&db).unwrap();
    let dotted = format!("{data}/log/../log-head");
    let missing = format!("{data}/not-yet/export.ndjson");
    let new_file = format!("{data}/export.ndjson");
    for output in [&db, &dotted, &missing, &new_file] {
        let refused = run(&["export", "--data", &data, "--to", "1", "--output", output]);
        assert_eq!(refused.status.code(), Some(2), "{}", stderr(&refused));
        assert!(
            stderr(&refused).contains(&format!(
                "error: --output: {output} is (or resolves to) a path inside the data directory"
            )),
            "{}",
            stderr(&refused)
        );
    }
    assert_eq!(std::fs::read(&db).unwrap(), before);
    assert!(!std::path::Path::new(&new_file).exists());
    assert!(!std::path::Path::new(&format!("{data}/log/db.partial")).exists());
    let relative = command()
        .current_dir(&data)
        .args(["export", "--data", ".", "--output", "log/db"])
        .output()
        .unwrap();
    assert_eq!(relative.status.code(), Some(2), "{}", stderr(&relative));
    assert_eq!(verify_json(&data)["ok"], true);

    // Beside the data directory is fine.
    let beside = scratch.path().join("export.ndjson");
    let output = run(&[
        "export",
        "--data",
        &data,
        "--output",
        beside.to_str().unwrap(),
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(std::fs::read_to_string(&beside).unwrap().lines().count(), 1);
}

/// An import that finds read models holding nothing behind a log that holds events (an
/// earlier import killed while building them, or made without the master key) builds them
/// whole, even when it writes nothing new; one into a ledger whose read models lag says so.
#[test]
fn an_import_builds_read_models_an_earlier_one_left_unbuilt() {
    let scratch = tempfile::tempdir().unwrap();
    let source = registered_ledger(scratch.path());
    let export = scratch.path().join("export.ndjson");
    let exported = run(&[
        "export",
        "--data",
        &source,
        "--output",
        export.to_str().unwrap(),
    ]);
    assert!(exported.status.success(), "{}", stderr(&exported));
    let data = scratch.path().join("copy");
    let data = data.to_str().unwrap();
    let export = export.to_str().unwrap();

    // Without the master key the read models are not built (as a kill during the build
    // leaves them: every checkpoint at 0).
    let first = command()
        .env_remove("LEDGER_MASTER_KEY")
        .args(["import", "--data", data, export])
        .output()
        .unwrap();
    assert!(first.status.success(), "{}", stderr(&first));
    assert!(
        stdout(&first).contains("the read models are not built"),
        "{}",
        stdout(&first)
    );
    assert_eq!(
        stats(data)["projectionCheckpoints"]["customer-directory"],
        0
    );

    let again = run(&["import", "--data", data, export]);
    assert!(again.status.success(), "{}", stderr(&again));
    assert!(
        stdout(&again).contains("imported 0 new events (1 already present"),
        "{}",
        stdout(&again)
    );
    assert!(
        stdout(&again).contains("rebuilt customer-directory, customer-timeline"),
        "{}",
        stdout(&again)
    );
    let checkpoints = stats(data)["projectionCheckpoints"].clone();
    for (name, checkpoint) in checkpoints.as_object().unwrap() {
        assert_eq!(checkpoint, 1, "{name}: {checkpoints}");
    }

    // Built read models are left to the server's catch-up, which the import says.
    let another = registration()
        .replace(CUSTOMER, "0190a5e2-8c3b-7d4e-9f00-1234567890ac")
        .replace("13800138000", "13800138001");
    let more = run_with_input(&["import", "--data", data, "-"], another.as_bytes());
    assert!(more.status.success(), "{}", stderr(&more));
    assert!(
        stdout(&more).contains(
            "the read models stand at position 1, behind the head: a server applies the rest as \
             it starts"
        ),
        "{}",
        stdout(&more)
    );
}

/// `serve` on a ledger it cannot open writes no config and prints no tokens; on a healthy one
/// it still writes them at the first start. One that cannot start removes a directory it made.
#[test]
fn serve_on_a_damaged_ledger_writes_no_config_and_prints_no_tokens() {
    let scratch = tempfile::tempdir().unwrap();
    let data = registered_ledger(scratch.path());
    // The head mark is gone: the store refuses to open rather than risk a shorter history.
    std::fs::remove_file(format!("{data}/log-head")).unwrap();
    let output = command()
        .args(["serve", "--data", &data, "--listen", "127.0.0.1:0"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("cannot open the ledger"),
        "{}",
        stderr(&output)
    );
    assert!(
        !stdout(&output).contains("Bearer tokens"),
        "{}",
        stdout(&output)
    );
    assert!(!std::path::Path::new(&format!("{data}/ledger.toml")).exists());
    // The directory it did not make stays, ledger and all.
    assert!(std::path::Path::new(&format!("{data}/log")).exists());

    // A server that does not start leaves no directory it made: here the port is taken.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let listen = taken.local_addr().unwrap().to_string();
    let fresh = scratch.path().join("mistyped");
    let output = command()
        .args([
            "serve",
            "--data",
            fresh.to_str().unwrap(),
            "--listen",
            &listen,
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("cannot listen on"),
        "{}",
        stderr(&output)
    );
    assert!(!fresh.exists(), "serve left {}", fresh.display());
}

/// Erasing an enquiry twice says it was already erased, and where; an NDJSON file may start
/// with a byte order mark, as a CSV may, and one anywhere else is named.
#[test]
fn an_enquiry_erased_twice_is_named_as_already_erased_and_a_byte_order_mark_is_skipped() {
    let scratch = tempfile::tempdir().unwrap();
    let data = scratch.path().join("data");
    let data = data.to_str().unwrap();
    let enquiry = format!(
        r#"{{"type":"OnlineEnquiryReceived","schemaVersion":1,"stream":"enquiry-{ENQUIRY}","occurredAt":"2025-03-07T09:30:00+08:00","actor":"system:web","payload":{{"campaignId":null,"channel":"WEB","customerId":null,"enquiryId":"{ENQUIRY}","message":"车险报价","mobile":"13900139000","name":"李四","plate":null,"productLines":[]}}}}"#
    );
    let mut file = "\u{feff}".as_bytes().to_vec();
    file.extend_from_slice(enquiry.as_bytes());
    file.push(b'\n');
    let imported = run_with_input(&["import", "--data", data, "-"], &file);
    assert!(imported.status.success(), "{}", stderr(&imported));
    assert!(
        stdout(&imported).contains("imported 1 new event"),
        "{}",
        stdout(&imported)
    );

    // A mark on another line is that line's problem, in words.
    let mut file = registration().into_bytes();
    file.extend_from_slice("\n\u{feff}".as_bytes());
    file.extend_from_slice(registration().as_bytes());
    let refused = run_with_input(&["import", "--data", data, "-"], &file);
    assert_eq!(refused.status.code(), Some(1), "{}", stderr(&refused));
    assert!(
        stderr(&refused).contains(
            "line 2: (line): starts with a byte order mark (U+FEFF), which only the file's first \
             line may"
        ),
        "{}",
        stderr(&refused)
    );

    let erase = [
        "erase",
        "--data",
        data,
        "--enquiry",
        ENQUIRY,
        "--reason",
        "CUSTOMER_REQUEST",
    ];
    let erased = run(&erase);
    assert!(erased.status.success(), "{}", stderr(&erased));
    let again = run(&erase);
    assert_eq!(again.status.code(), Some(1), "{}", stderr(&again));
    assert_eq!(
        stderr(&again).trim(),
        format!(
            "erase: refused: enquiry {ENQUIRY} was already erased, at position 2; its data key \
             is destroyed and there is nothing left to erase"
        )
    );
}
