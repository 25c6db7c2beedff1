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
    let registered = run_with_input(&["import", "--data", data, "-"], registration().as_bytes());
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
    assert_eq!(counted["events"], 3, "{counted}");
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

    // --skip-invalid writes the good row and reports the rest.
    let skipped = run_with_input(
        &["import", "--data", data, "--csv", "--skip-invalid", "-"],
        bad.as_bytes(),
    );
    assert!(skipped.status.success(), "{}", stderr(&skipped));
    assert!(
        stdout(&skipped)
            .contains("imported 1 new events (0 already present, 2 invalid lines skipped)"),
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
