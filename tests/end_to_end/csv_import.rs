//! `import --csv`: a telephony system's CSV of calls becomes contacts on the customers'
//! timelines, all or nothing, with problems named by the CSV's own line and column; importing
//! the same file again writes nothing.

use ledger_tests::{run, run_with_input, stderr, stdout};
use serde_json::Value;

use crate::cli::{assert_no_spooled_input, verify_json};

const CUSTOMER: &str = "0190a5e2-8c3b-7d4e-9f00-1234567890ab";

fn registration() -> String {
    format!(
        r#"{{"type":"CustomerRegistered","schemaVersion":1,"stream":"customer-{CUSTOMER}","occurredAt":"2025-03-07T09:30:00+08:00","actor":"agent-0042","payload":{{"customerId":"{CUSTOMER}","kind":"INDIVIDUAL","name":"张三","group":null,"identifiers":[{{"kind":"MOBILE","value":"13800138000"}}]}}}}"#
    )
}

/// The customer registered and quoted the policy the calls name (a contact names only a
/// policy that exists and is its customer's).
fn registration_and_quote() -> String {
    format!(
        "{}\n{}\n",
        registration(),
        format_args!(
            r#"{{"type":"PolicyQuoted","schemaVersion":1,"stream":"policy-PDAA2025000001","occurredAt":"2025-03-07T10:00:00+08:00","actor":"agent-0043","payload":{{"customerId":"{CUSTOMER}","policyNumber":"PDAA2025000001","productLines":["COMPULSORY_TRAFFIC"],"plate":"吉A12345","vin":"LSVAM4187C2184847","premium":95000,"periodStart":"2025-03-10","periodEnd":"2026-03-09","salesChannel":"PHONE","validUntil":"2025-03-20","campaignId":null}}}}"#
        )
    )
}

fn stats(data: &str) -> Value {
    let output = run(&["stats", "--data", data, "--json"]);
    assert!(output.status.success(), "{}", stderr(&output));
    serde_json::from_str(stdout(&output).trim()).unwrap()
}

fn head_hash(data: &str) -> Value {
    verify_json(data)["headHash"].clone()
}

#[test]
fn a_csv_of_calls_becomes_contacts_once_and_bad_rows_are_named_by_line() {
    let scratch = tempfile::tempdir().unwrap();
    let data = scratch.path().join("data");
    let data = data.to_str().unwrap();
    let registered = run_with_input(
        &["import", "--data", data, "-"],
        registration_and_quote().as_bytes(),
    );
    assert!(registered.status.success(), "{}", stderr(&registered));

    let calls = scratch.path().join("calls.csv");
    std::fs::write(
        &calls,
        format!(
            "customerId,channel,direction,agent,startedAt,durationSeconds,topic,summary,outcome,policyNumber\r\n\
             {CUSTOMER},PHONE,INBOUND,agent-0042,2025-03-08T09:00:00+08:00,185,RENEWAL,\"续保咨询,\r\n客户要求回电\",CALLBACK_SCHEDULED,\r\n\
             {CUSTOMER},WECHAT,OUTBOUND,agent-0043,2025-03-08T10:00:00+08:00,60,QUOTE,报价,CONVERTED,PDAA2025000001\r\n"
        ),
    )
    .unwrap();
    let calls = calls.to_str().unwrap();
    let output = run(&["import", "--data", data, "--csv", calls]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        stdout(&output).contains("imported 2 new events (0 already present"),
        "{}",
        stdout(&output)
    );
    let counted = stats(data);
    assert_eq!(counted["events"], 4, "{counted}");
    assert_eq!(counted["byType"]["ContactRecorded"], 2, "{counted}");
    assert_eq!(counted["contactsByChannel"]["PHONE"], 1, "{counted}");
    assert_eq!(counted["contactsByChannel"]["WECHAT"], 1, "{counted}");

    // The same file again: the same contact and event ids, nothing new.
    let head = head_hash(data);
    let again = run(&["import", "--data", data, "--csv", calls]);
    assert!(again.status.success(), "{}", stderr(&again));
    assert!(
        stdout(&again).contains("imported 0 new events (2 already present"),
        "{}",
        stdout(&again)
    );
    assert_eq!(head_hash(data), head);

    // A file with bad rows, from standard input: every problem by line and column, nothing
    // written, no spooled copy left.
    let bad = format!(
        "customerId,channel,direction,agent,startedAt,durationSeconds,topic,summary,outcome\n\
         {CUSTOMER},PHONE,INBOUND,agent-0042,2025-03-09T09:00:00Z,60,ENQUIRY,好的,RESOLVED\n\
         0190a5e2-8c3b-7d4e-9f00-00000000dead,PHONE,INBOUND,agent-0042,2025-03-09T09:00:00Z,60,ENQUIRY,问,RESOLVED\n\
         {CUSTOMER},PHONE,INBOUND,agent-0042,2025-03-09T09:00:00Z,1m,ENQUIRY,问,RESOLVED\n"
    );
    let refused = run_with_input(&["import", "--data", data, "--csv", "-"], bad.as_bytes());
    assert_eq!(refused.status.code(), Some(1), "{}", stderr(&refused));
    let errors = stderr(&refused);
    assert!(
        errors.contains(
            "line 3: customerId: no customer 0190a5e2-8c3b-7d4e-9f00-00000000dead in the ledger"
        ),
        "{errors}"
    );
    assert!(
        errors.contains("line 4: durationSeconds: a whole number of seconds"),
        "{errors}"
    );
    assert!(
        errors.contains("2 invalid lines; nothing written"),
        "{errors}"
    );
    assert_eq!(head_hash(data), head);
    assert_no_spooled_input(data);

    // --skip-invalid writes the good row, reports the rest, and exits 1 for them.
    let skipped = run_with_input(
        &["import", "--data", data, "--csv", "--skip-invalid", "-"],
        bad.as_bytes(),
    );
    assert_eq!(skipped.status.code(), Some(1), "{}", stderr(&skipped));
    assert!(
        stdout(&skipped)
            .contains("imported 1 new event (0 already present, 2 invalid lines skipped)"),
        "{}",
        stdout(&skipped)
    );
    assert_eq!(stats(data)["byType"]["ContactRecorded"], 3);

    // A header that is not the contacts' columns stops before anything is read.
    let output = run_with_input(
        &["import", "--data", data, "--csv", "-"],
        b"customerId,mood\nx,y\n",
    );
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("line 1: mood: not a contact column"),
        "{}",
        stderr(&output)
    );
    assert_no_spooled_input(data);
}

/// A ledger in `scratch` holding the registration of [`CUSTOMER`].
fn registered_ledger(scratch: &std::path::Path) -> String {
    let data = scratch.join("data").to_str().unwrap().to_owned();
    let registered = run_with_input(&["import", "--data", &data, "-"], registration().as_bytes());
    assert!(registered.status.success(), "{}", stderr(&registered));
    data
}

#[test]
fn a_crlf_csv_names_its_bad_rows_by_their_physical_lines() {
    let scratch = tempfile::tempdir().unwrap();
    let data = registered_ledger(scratch.path());
    let header =
        "customerId,channel,direction,agent,startedAt,durationSeconds,topic,summary,outcome";
    let good = format!(
        "{CUSTOMER},PHONE,INBOUND,agent-0042,2025-03-09T09:00:00Z,60,ENQUIRY,好的,RESOLVED"
    );
    let bad =
        format!("{CUSTOMER},PHONE,INBOUND,agent-0042,2025-03-09T09:00:00Z,1m,ENQUIRY,问,RESOLVED");
    for bom in ["", "\u{feff}"] {
        // The bad rows are physical lines 2 (the first row) and 5.
        let text = [
            format!("{bom}{header}"),
            bad.clone(),
            good.clone(),
            good.clone(),
            bad.clone(),
        ]
        .join("\r\n")
            + "\r\n";
        let refused = run_with_input(&["import", "--data", &data, "--csv", "-"], text.as_bytes());
        assert_eq!(refused.status.code(), Some(1), "{}", stderr(&refused));
        let problems: Vec<String> = stderr(&refused)
            .lines()
            .filter(|line| line.starts_with("line "))
            .map(str::to_owned)
            .collect();
        assert_eq!(problems.len(), 2, "BOM {bom:?}: {problems:?}");
        assert!(
            problems[0].starts_with("line 2: durationSeconds: "),
            "BOM {bom:?}: {problems:?}"
        );
        assert!(
            problems[1].starts_with("line 5: durationSeconds: "),
            "BOM {bom:?}: {problems:?}"
        );
    }
}

#[test]
fn an_unclosed_quote_stops_the_import_even_with_skip_invalid() {
    let scratch = tempfile::tempdir().unwrap();
    let data = registered_ledger(scratch.path());
    let head = head_hash(&data);
    let good = format!(
        "{CUSTOMER},PHONE,INBOUND,agent-0042,2025-03-09T09:00:00Z,60,ENQUIRY,好的,RESOLVED"
    );
    let text = [
        "customerId,channel,direction,agent,startedAt,durationSeconds,topic,summary,outcome".to_owned(),
        format!("{CUSTOMER},PHONE,INBOUND,agent-0042,2025-03-09T09:00:00Z,60,ENQUIRY,\"broken quote,RESOLVED"),
        good.clone(),
        good.replace("好的", "好的。"),
        good.replace("好的", "好的!"),
    ]
    .join("\n")
        + "\n";
    for arguments in [
        &["import", "--data", &data, "--csv", "-"][..],
        &["import", "--data", &data, "--csv", "--skip-invalid", "-"][..],
    ] {
        let refused = run_with_input(arguments, text.as_bytes());
        assert_eq!(refused.status.code(), Some(1), "{}", stderr(&refused));
        assert!(
            stderr(&refused).contains(
                "line 2: (csv): a quoted cell opened on this line is never closed; the rows after \
                 it cannot be read"
            ),
            "{}",
            stderr(&refused)
        );
        assert_eq!(head_hash(&data), head);
        assert_no_spooled_input(&data);
    }
}

#[test]
fn a_cell_that_is_not_utf8_text_is_named_by_its_line_and_column() {
    // A call centre's export saved as GBK: 问 is 0xce 0xca there, in line 3's summary.
    let scratch = tempfile::tempdir().unwrap();
    let data = registered_ledger(scratch.path());
    let head = head_hash(&data);
    let row = |summary: &[u8]| {
        [
            format!("{CUSTOMER},PHONE,INBOUND,agent-0042,2025-03-09T09:00:00Z,60,ENQUIRY,")
                .as_bytes(),
            summary,
            b",RESOLVED\n",
        ]
        .concat()
    };
    let text = [
        b"customerId,channel,direction,agent,startedAt,durationSeconds,topic,summary,outcome\n"
            .to_vec(),
        row("好的".as_bytes()),
        row(&[0xce, 0xca]),
    ]
    .concat();
    let refused = run_with_input(&["import", "--data", &data, "--csv", "-"], &text);
    assert_eq!(refused.status.code(), Some(1), "{}", stderr(&refused));
    assert!(
        stderr(&refused).contains("line 3: summary: is not UTF-8 text"),
        "{}",
        stderr(&refused)
    );
    assert!(
        stderr(&refused).contains("1 invalid line; nothing written"),
        "{}",
        stderr(&refused)
    );
    assert_eq!(head_hash(&data), head);
    assert_no_spooled_input(&data);
}
