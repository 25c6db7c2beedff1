//! `import` of integrator lines keeps the rules the API keeps: into a seeded ledger, a good
//! file imports (and again writes nothing), and each bad file — a customer registered twice, an
//! identifier someone holds, a contact for nobody or twice, a merged or erased customer, an
//! erasure of nobody or twice, an erasure of a customer others were merged into before them, a
//! contact naming a policy nobody issued or another customer's, an event id naming another
//! event, a campaign touch on a channel its customer never consented to, a campaign response
//! naming another customer's policy, a purchase for the wrong premium or bought twice, a blank
//! text (NDJSON or CSV), a line dated in the future or a contact not dated when it ended, a touch
//! on a closed campaign or off its channels, a claim on a policy after its cancellation, a quote
//! past on its own day or issued to another customer or after it expired, an erased customer's
//! work finished with a text or started again, a risk recommendation due before the survey's
//! day, a case assigned, escalated or resolved while not open or closed while open, a risk survey
//! of a case that is not a risk-survey case or a second one, a follow-up of a recommendation the
//! survey did not make, a case's assignment naming another than its assignee as the previous
//! one — exits 1 naming its line, field and rule, with nothing written; an erased customer's
//! open work is finished with its texts left out; a line that changes nothing (an identifier
//! added again, a consent, account manager, profile or case assignee set to what it is) is
//! accepted and records nothing, as the API answers its command, counted and named on standard
//! error, and the file imported again still writes nothing (also when a later line of the file
//! closed the case it assigned to its assignee).

use ledger_tests::{run, run_with_input, stderr, stdout};
use serde_json::Value;

use crate::cli::verify_json;

const ALICE: &str = "0190a5e2-8c3b-7d4e-9f00-00000000a001";
const BOB: &str = "0190a5e2-8c3b-7d4e-9f00-00000000b001";
const CAROL: &str = "0190a5e2-8c3b-7d4e-9f00-00000000c001";
const DAVE: &str = "0190a5e2-8c3b-7d4e-9f00-00000000d001";
const EVE: &str = "0190a5e2-8c3b-7d4e-9f00-00000000e001";
const CONTACT: &str = "0190a5e2-8c3b-7d4e-9f00-0000000c0001";
const ALICE_MOBILE: &str = "13900000001";
/// The event id of the good file's contact line.
const CONTACT_EVENT: &str = "0190a5e2-8c3b-7d4e-9f00-0000000e0005";

fn registered(customer: &str, mobile: &str) -> String {
    format!(
        r#"{{"type":"CustomerRegistered","schemaVersion":1,"stream":"customer-{customer}","occurredAt":"2025-03-07T09:30:00+08:00","actor":"agent-0042","payload":{{"customerId":"{customer}","kind":"INDIVIDUAL","name":"张三","identifiers":[{{"kind":"MOBILE","value":"{mobile}"}}]}}}}"#
    )
}

fn contact(customer: &str, contact: &str, summary: &str, event_id: Option<&str>) -> String {
    let event_id = event_id.map_or(String::new(), |id| format!(r#""eventId":"{id}","#));
    format!(
        r#"{{"type":"ContactRecorded","schemaVersion":1,"stream":"customer-{customer}",{event_id}"occurredAt":"2025-03-08T09:01:00+08:00","actor":"agent-0042","payload":{{"contactId":"{contact}","customerId":"{customer}","channel":"PHONE","direction":"INBOUND","agent":"agent-0042","startedAt":"2025-03-08T09:00:00+08:00","durationSeconds":60,"topic":"RENEWAL","summary":"{summary}","outcome":"RESOLVED"}}}}"#
    )
}

fn merged(customer: &str, survivor: &str, mobile: &str) -> String {
    format!(
        r#"{{"type":"CustomersMerged","schemaVersion":1,"stream":"customer-{customer}","occurredAt":"2025-03-09T09:30:00+08:00","actor":"dq-01","payload":{{"customerId":"{customer}","survivorId":"{survivor}","identifiers":[{{"kind":"MOBILE","value":"{mobile}"}}]}}}}"#
    )
}

fn erased(customer: &str, reason: &str) -> String {
    format!(
        r#"{{"type":"CustomerErased","schemaVersion":1,"stream":"customer-{customer}","occurredAt":"2025-03-10T09:30:00+08:00","actor":"privacy-01","payload":{{"customerId":"{customer}","reason":"{reason}"}}}}"#
    )
}

fn enquiry_erased(enquiry: &str) -> String {
    format!(
        r#"{{"type":"EnquiryErased","schemaVersion":1,"stream":"enquiry-{enquiry}","occurredAt":"2025-03-10T09:30:00+08:00","actor":"privacy-01","payload":{{"enquiryId":"{enquiry}","reason":"CUSTOMER_REQUEST"}}}}"#
    )
}

fn import(scratch: &std::path::Path, data: &str, name: &str, lines: &[String]) -> (i32, String) {
    let file = scratch.join(name);
    std::fs::write(&file, lines.join("\n")).unwrap();
    let output = run(&["import", "--data", data, file.to_str().unwrap()]);
    let code = output.status.code().unwrap_or(-1);
    (code, format!("{}{}", stdout(&output), stderr(&output)))
}

/// A policy number nobody quoted or issued.
const NO_POLICY: &str = "PXA2025220100000999";

/// A contact of `customer` naming `value` as its `field` (policyNumber, claimNumber, ...).
fn contact_naming(customer: &str, field: &str, value: &str) -> String {
    let mut line: Value = serde_json::from_str(&contact(
        customer,
        "0190a5e2-8c3b-7d4e-9f00-0000000c0100",
        "问保单",
        None,
    ))
    .unwrap();
    line["payload"][field] = value.into();
    line.to_string()
}

/// The first policy the seeded ledger issued (to one of its own customers).
fn a_seeded_policy(scratch: &std::path::Path, data: &str) -> String {
    let export = scratch.join("seeded-policies.ndjson");
    let output = run(&[
        "export",
        "--data",
        data,
        "--output",
        export.to_str().unwrap(),
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    let text = std::fs::read_to_string(&export).unwrap();
    text.lines()
        .map(|line| serde_json::from_str::<Value>(line).unwrap())
        .find(|line| line["type"] == "PolicyIssued")
        .and_then(|line| line["payload"]["policyNumber"].as_str().map(str::to_owned))
        .unwrap()
}

/// The first customer the seeded ledger registered.
fn a_seeded_customer(scratch: &std::path::Path, data: &str) -> String {
    let export = scratch.join("seeded.ndjson");
    let output = run(&[
        "export",
        "--data",
        data,
        "--output",
        export.to_str().unwrap(),
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    let text = std::fs::read_to_string(&export).unwrap();
    text.lines()
        .map(|line| serde_json::from_str::<Value>(line).unwrap())
        .find(|line| line["type"] == "CustomerRegistered")
        .and_then(|line| line["payload"]["customerId"].as_str().map(str::to_owned))
        .unwrap()
}

#[test]
fn integrator_lines_the_api_would_refuse_are_refused_by_line_and_write_nothing() {
    let scratch = tempfile::tempdir().unwrap();
    let data = scratch.path().join("data");
    let data = data.to_str().unwrap();
    let seeded = run(&["seed", "--data", data, "--customers", "20"]);
    assert!(seeded.status.success(), "{}", stderr(&seeded));
    let seeded_customer = a_seeded_customer(scratch.path(), data);
    let seeded_policy = a_seeded_policy(scratch.path(), data);
    let events_before = verify_json(data)["events"].as_u64().unwrap();

    // A good file: new customers, a contact for one of them and for a seeded customer, a
    // merge and an erasure.
    let good = [
        registered(ALICE, ALICE_MOBILE),
        registered(BOB, "13900000002"),
        registered(CAROL, "13900000003"),
        contact(seeded_customer.as_str(), CONTACT, "续保咨询", None),
        contact(ALICE, CONTACT, "续保咨询", Some(CONTACT_EVENT)),
        merged(BOB, ALICE, "13900000002"),
        erased(CAROL, "CUSTOMER_REQUEST"),
    ];
    let (code, report) = import(scratch.path(), data, "good.ndjson", &good);
    assert_eq!(code, 0, "{report}");
    assert!(
        report.contains("imported 7 new events (0 already present"),
        "{report}"
    );
    let (code, report) = import(scratch.path(), data, "good.ndjson", &good);
    assert_eq!(code, 0, "{report}");
    assert!(
        report.contains("imported 0 new events (7 already present"),
        "{report}"
    );
    let contact_position = events_before + 5;

    let unknown = "0190a5e2-8c3b-7d4e-9f00-00000000f00d";
    let bad: Vec<(&str, Vec<String>, String)> = vec![
        (
            "registered-twice",
            vec![registered(&seeded_customer, "13900000009")],
            format!("line 1: customerId: customer {seeded_customer} already exists"),
        ),
        (
            "identifier-held",
            vec![registered(DAVE, ALICE_MOBILE)],
            format!(
                "line 1: identifiers[0]: MOBILE {ALICE_MOBILE} already belongs to customer {ALICE}"
            ),
        ),
        (
            "identifier-twice-in-the-file",
            vec![
                registered(DAVE, "13900000004"),
                registered(EVE, "13900000004"),
            ],
            format!(
                "line 2: identifiers[0]: MOBILE 13900000004 already belongs to customer {DAVE}"
            ),
        ),
        (
            "contact-for-nobody",
            vec![contact(DAVE, CONTACT, "问", None)],
            format!("line 1: customerId: customer {DAVE} does not exist"),
        ),
        (
            "contact-twice",
            vec![contact(ALICE, CONTACT, "另一通电话", None)],
            format!("line 1: contactId: contact {CONTACT} already exists"),
        ),
        (
            "merged-away",
            vec![contact(BOB, CONTACT, "问", None)],
            format!("line 1: customerId: customer {BOB} was merged into {ALICE}; use the survivor"),
        ),
        (
            "erased-twice",
            vec![erased(CAROL, "LEGAL_ORDER")],
            format!("line 1: customerId: customer {CAROL} is already erased; nothing new can be recorded for it"),
        ),
        (
            "erased-twice-in-the-file",
            vec![
                registered(DAVE, "13900000004"),
                erased(DAVE, "CUSTOMER_REQUEST"),
                erased(DAVE, "LEGAL_ORDER"),
            ],
            format!("line 3: customerId: customer {DAVE} is already erased; nothing new can be recorded for it"),
        ),
        (
            // Bob was merged into Alice: the API erases him with her, an import first.
            "erasing-a-survivor-before-the-merged",
            vec![erased(ALICE, "CUSTOMER_REQUEST")],
            format!(
                "line 1: customerId: customer {BOB} was merged into this customer and is not \
                 erased; erase it first (an earlier line)"
            ),
        ),
        (
            "contact-naming-no-policy",
            vec![contact_naming(ALICE, "policyNumber", NO_POLICY)],
            format!("line 1: policyNumber: policy {NO_POLICY} does not exist"),
        ),
        (
            "contact-naming-another-customers-policy",
            vec![contact_naming(ALICE, "policyNumber", &seeded_policy)],
            format!(
                "line 1: policyNumber: a policy held by the contact's customer (or by a customer \
                 merged with it); {seeded_policy} is held by another customer"
            ),
        ),
        (
            "erasing-nobody",
            vec![erased(unknown, "CUSTOMER_REQUEST")],
            format!("line 1: customerId: customer {unknown} does not exist"),
        ),
        (
            "erasing-no-enquiry",
            vec![enquiry_erased(unknown)],
            format!("line 1: enquiryId: enquiry {unknown} does not exist"),
        ),
        (
            "event-id-of-a-recorded-event",
            vec![contact(
                ALICE,
                "0190a5e2-8c3b-7d4e-9f00-0000000c0002",
                "另一通电话",
                Some(CONTACT_EVENT),
            )],
            format!(
                "line 1: eventId: {CONTACT_EVENT} is already the id of another event (position {contact_position})"
            ),
        ),
        (
            "event-id-twice-in-the-file",
            vec![
                contact(
                    ALICE,
                    "0190a5e2-8c3b-7d4e-9f00-0000000c0003",
                    "一",
                    Some("0190a5e2-8c3b-7d4e-9f00-0000000e0099"),
                ),
                contact(
                    ALICE,
                    "0190a5e2-8c3b-7d4e-9f00-0000000c0004",
                    "二",
                    Some("0190a5e2-8c3b-7d4e-9f00-0000000e0099"),
                ),
            ],
            "line 2: eventId: 0190a5e2-8c3b-7d4e-9f00-0000000e0099 is already the id of another event (line 1)"
                .to_owned(),
        ),
    ];
    let head = verify_json(data)["headHash"].clone();
    for (name, lines, problem) in &bad {
        let (code, report) = import(scratch.path(), data, &format!("{name}.ndjson"), lines);
        assert_eq!(code, 1, "{name}: {report}");
        assert!(report.contains(problem.as_str()), "{name}: {report}");
        assert!(report.contains("nothing written"), "{name}: {report}");
        assert_eq!(
            verify_json(data)["headHash"],
            head,
            "{name} wrote something"
        );
    }

    // With --skip-invalid the valid lines are written and the refused one is not, and the run
    // exits 1 for the line it skipped.
    let (code, report) = import(
        scratch.path(),
        data,
        "mixed.ndjson",
        &[
            registered(DAVE, ALICE_MOBILE),
            registered(EVE, "13900000005"),
        ],
    );
    assert_eq!(code, 1, "{report}");
    let skipped = scratch.path().join("mixed.ndjson");
    let output = run(&[
        "import",
        "--data",
        data,
        "--skip-invalid",
        skipped.to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(
        stderr(&output)
            .contains("import: 1 invalid line skipped (listed above); the valid lines are written"),
        "{}",
        stderr(&output)
    );
    assert!(
        stdout(&output)
            .contains("imported 1 new event (0 already present, 1 invalid line skipped)"),
        "{}",
        stdout(&output)
    );

    // Once the read models are rebuilt the directory answers who holds an identifier itself.
    let replayed = run(&["replay", "--data", data]);
    assert!(replayed.status.success(), "{}", stderr(&replayed));
    let (code, report) = import(
        scratch.path(),
        data,
        "identifier-held-after-replay.ndjson",
        &[registered(DAVE, "13900000005")],
    );
    assert_eq!(code, 1, "{report}");
    assert!(
        report.contains(&format!(
            "line 1: identifiers[0]: MOBILE 13900000005 already belongs to customer {EVE}"
        )),
        "{report}"
    );
}

/// Problems are listed in line order, however they were found: a line naming a policy is
/// refused only once the whole file is read (a later line could issue it), a line's JSON as
/// soon as it is parsed, a CSV's rows before the rules. A refused import into a data directory
/// that was not there leaves none behind. A CSV row is held to the same rules as a line.
#[test]
fn problems_come_in_line_order_and_a_refused_import_leaves_no_new_ledger() {
    let scratch = tempfile::tempdir().unwrap();
    let data = scratch.path().join("new").join("data");
    let data = data.to_str().unwrap();
    let lines = [
        registered(ALICE, ALICE_MOBILE),
        contact_naming(ALICE, "policyNumber", NO_POLICY),
        "{1:2}".to_owned(),
        registered(BOB, ALICE_MOBILE),
    ];
    let (code, report) = import(scratch.path(), data, "new.ndjson", &lines);
    assert_eq!(code, 1, "{report}");
    let expected = [
        format!("line 2: policyNumber: policy {NO_POLICY} does not exist"),
        "line 3: (json): not a valid event line: key must be a string at column 2".to_owned(),
        format!(
            "line 4: identifiers[0]: MOBILE {ALICE_MOBILE} already belongs to customer {ALICE}"
        ),
    ];
    let found: Vec<usize> = expected
        .iter()
        .map(|problem| {
            report
                .find(problem.as_str())
                .unwrap_or_else(|| panic!("{problem} is not in {report}"))
        })
        .collect();
    assert!(found.is_sorted(), "out of line order: {report}");
    assert!(report.contains("nothing written"), "{report}");
    assert!(
        !scratch.path().join("new").exists(),
        "the refused import left the directory it created"
    );

    // A CSV's row naming a policy nobody issued is refused as a line is.
    let registered_alice = run_with_input(
        &["import", "--data", data, "-"],
        registered(ALICE, ALICE_MOBILE).as_bytes(),
    );
    assert!(
        registered_alice.status.success(),
        "{}",
        stderr(&registered_alice)
    );
    let calls = scratch.path().join("calls.csv");
    std::fs::write(
        &calls,
        format!(
            "customerId,channel,direction,agent,startedAt,durationSeconds,topic,summary,outcome,policyNumber\r\n\
             {ALICE},PHONE,INBOUND,agent-0042,2025-03-08T09:00:00+08:00,60,RENEWAL,续保咨询,RESOLVED,\r\n\
             {ALICE},PHONE,INBOUND,agent-0042,2025-03-08T10:00:00+08:00,60,RENEWAL,续保咨询,RESOLVED,{NO_POLICY}\r\n"
        ),
    )
    .unwrap();
    let output = run(&["import", "--data", data, "--csv", calls.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(
        stderr(&output).contains(&format!(
            "line 3: policyNumber: policy {NO_POLICY} does not exist"
        )),
        "{}",
        stderr(&output)
    );
    assert!(
        scratch.path().join("new").exists(),
        "a ledger that was there stays"
    );
}

/// A campaign the marketing tests launch, on the phone, WeChat and e-mail.
const CAMPAIGN: &str = "0190a5e2-8c3b-7d4e-9f00-0000000ca301";
const ALICE_POLICY: &str = "PXA2025220100000901";
const BOB_POLICY: &str = "PXA2025220100000902";

fn campaign_launched() -> String {
    format!(
        r#"{{"type":"CampaignLaunched","schemaVersion":1,"stream":"campaign-{CAMPAIGN}","occurredAt":"2025-03-01T09:00:00+08:00","actor":"mkt-03","payload":{{"campaignId":"{CAMPAIGN}","name":"2025 春季续保","budget":2000000,"channels":["PHONE","WECHAT","EMAIL"],"targetSegment":"renewal-due","periodStart":"2025-03-01","periodEnd":"2025-04-30","owner":"mkt-03"}}}}"#
    )
}

fn consent(customer: &str, channel: &str) -> String {
    format!(
        r#"{{"type":"ConsentChanged","schemaVersion":1,"stream":"customer-{customer}","occurredAt":"2025-03-07T10:00:00+08:00","actor":"agent-0042","payload":{{"customerId":"{customer}","channel":"{channel}","granted":true}}}}"#
    )
}

fn touch(customer: &str, channel: &str) -> String {
    format!(
        r#"{{"type":"CampaignTouchSent","schemaVersion":1,"stream":"campaign-{CAMPAIGN}","occurredAt":"2025-03-10T10:00:00+08:00","actor":"agent-0042","payload":{{"campaignId":"{CAMPAIGN}","customerId":"{customer}","channel":"{channel}","agent":"agent-0042"}}}}"#
    )
}

/// A policy issued to `customer` for `premium_fen`, for the vehicle `plate` and `vin`.
fn policy_issued(
    number: &str,
    customer: &str,
    premium_fen: i64,
    [plate, vin]: [&str; 2],
) -> String {
    format!(
        r#"{{"type":"PolicyIssued","schemaVersion":1,"stream":"policy-{number}","occurredAt":"2025-03-01T10:00:00+08:00","actor":"system:policy","payload":{{"policyNumber":"{number}","customerId":"{customer}","plate":"{plate}","vin":"{vin}","productLines":["COMPULSORY_TRAFFIC"],"premium":{premium_fen},"periodStart":"2025-03-01","periodEnd":"2026-02-28","salesChannel":"PHONE"}}}}"#
    )
}

/// `customer`'s `response` on `channel` (two responses on different channels differ).
fn responded(
    customer: &str,
    response: &str,
    channel: &str,
    policy: &str,
    premium_fen: i64,
) -> String {
    format!(
        r#"{{"type":"CampaignResponded","schemaVersion":1,"stream":"campaign-{CAMPAIGN}","occurredAt":"2025-03-12T10:00:00+08:00","actor":"system:marketing","payload":{{"campaignId":"{CAMPAIGN}","customerId":"{customer}","response":"{response}","channel":"{channel}","policyNumber":"{policy}","premiumWon":{premium_fen}}}}}"#
    )
}

/// A ledger of Alice and Bob (Alice consented to phone marketing), the campaign, and a policy
/// each (Alice's for 100,000 fen, Bob's for 90,000).
fn marketing_ledger(scratch: &std::path::Path) -> String {
    let data = scratch.join("data").to_str().unwrap().to_owned();
    let lines = [
        registered(ALICE, ALICE_MOBILE),
        registered(BOB, "13900000002"),
        campaign_launched(),
        consent(ALICE, "PHONE"),
        policy_issued(
            ALICE_POLICY,
            ALICE,
            100_000,
            ["吉A8601E", "LFVCTHTU8R1687553"],
        ),
        policy_issued(BOB_POLICY, BOB, 90_000, ["吉ECL045", "LFW8P32D6KN850354"]),
    ];
    let (code, report) = import(scratch, &data, "marketing.ndjson", &lines);
    assert_eq!(code, 0, "{report}");
    data
}

/// Imports `lines` expecting each of `problems` refused, and nothing written.
fn refused(scratch: &std::path::Path, data: &str, name: &str, lines: &[String], problem: &str) {
    let head = verify_json(data)["headHash"].clone();
    let (code, report) = import(scratch, data, &format!("{name}.ndjson"), lines);
    assert_eq!(code, 1, "{name}: {report}");
    assert!(report.contains(problem), "{name}: {report}");
    assert!(report.contains("nothing written"), "{name}: {report}");
    assert_eq!(
        verify_json(data)["headHash"],
        head,
        "{name} wrote something"
    );
}

#[test]
fn a_campaign_touch_goes_only_on_a_channel_its_customer_consented_to() {
    let scratch = tempfile::tempdir().unwrap();
    let data = marketing_ledger(scratch.path());

    refused(
        scratch.path(),
        &data,
        "touch-without-consent",
        &[touch(ALICE, "PHONE"), touch(BOB, "PHONE")],
        &format!(
            "line 2: channel: a touch goes only on a channel the customer consented to marketing \
             on (opt-in: granted with changeConsent); customer {BOB} has not consented to PHONE"
        ),
    );
    // Alice's consent is in the ledger; Bob's is granted on an earlier line of the file.
    let (code, report) = import(
        scratch.path(),
        &data,
        "touches-with-consent.ndjson",
        &[
            touch(ALICE, "PHONE"),
            consent(BOB, "WECHAT"),
            touch(BOB, "WECHAT"),
        ],
    );
    assert_eq!(code, 0, "{report}");
    assert!(
        report.contains("imported 3 new events (0 already present"),
        "{report}"
    );
}

#[test]
fn a_campaign_response_names_its_customers_policy_and_a_purchase_wins_it_once_for_its_premium() {
    let scratch = tempfile::tempdir().unwrap();
    let data = marketing_ledger(scratch.path());

    refused(
        scratch.path(),
        &data,
        "response-with-another-customers-policy",
        &[responded(ALICE, "INTERESTED", "PHONE", BOB_POLICY, 0)],
        &format!(
            "line 1: policyNumber: a policy held by the responding customer (or by a customer \
             merged with it); {BOB_POLICY} is held by another customer"
        ),
    );
    refused(
        scratch.path(),
        &data,
        "purchase-with-a-wrong-premium",
        &[responded(ALICE, "PURCHASED", "PHONE", ALICE_POLICY, 99_000)],
        &format!(
            "line 1: premiumWon: the premium of the policy bought: {ALICE_POLICY} is for 100000 \
             fen"
        ),
    );
    let won_once = |line: usize| {
        format!(
            "line {line}: policyNumber: a policy is won once in a campaign; {ALICE_POLICY} was \
             already recorded as bought"
        )
    };
    refused(
        scratch.path(),
        &data,
        "purchased-twice-in-the-file",
        &[
            responded(ALICE, "PURCHASED", "PHONE", ALICE_POLICY, 100_000),
            responded(ALICE, "PURCHASED", "WECHAT", ALICE_POLICY, 100_000),
        ],
        &won_once(2),
    );
    let (code, report) = import(
        scratch.path(),
        &data,
        "purchased.ndjson",
        &[responded(
            ALICE,
            "PURCHASED",
            "PHONE",
            ALICE_POLICY,
            100_000,
        )],
    );
    assert_eq!(code, 0, "{report}");
    refused(
        scratch.path(),
        &data,
        "purchased-again",
        &[responded(
            ALICE,
            "PURCHASED",
            "WECHAT",
            ALICE_POLICY,
            100_000,
        )],
        &won_once(1),
    );
}

#[test]
fn a_blank_text_is_refused_in_ndjson_and_csv() {
    let scratch = tempfile::tempdir().unwrap();
    let data = marketing_ledger(scratch.path());
    let unwritten = "line 1: summary: is written out: not empty or only spaces";
    for (name, summary) in [("empty-summary", ""), ("spaces-summary", "   ")] {
        refused(
            scratch.path(),
            &data,
            name,
            &[contact(ALICE, CONTACT, summary, None)],
            unwritten,
        );
    }
    let head = verify_json(&data)["headHash"].clone();
    let calls = scratch.path().join("blank-summary.csv");
    std::fs::write(
        &calls,
        format!(
            "customerId,channel,direction,agent,startedAt,durationSeconds,topic,summary,outcome\n\
             {ALICE},PHONE,INBOUND,agent-0042,2025-03-08T09:00:00+08:00,60,RENEWAL,续保咨询,RESOLVED\n\
             {ALICE},PHONE,INBOUND,agent-0042,2025-03-08T10:00:00+08:00,60,RENEWAL,\"   \",RESOLVED\n"
        ),
    )
    .unwrap();
    let output = run(&["import", "--data", &data, "--csv", calls.to_str().unwrap()]);
    let report = format!("{}{}", stdout(&output), stderr(&output));
    assert_eq!(output.status.code(), Some(1), "{report}");
    // The import refuses it as the API does; the CSV reader may refuse a blank cell first.
    assert!(
        report.contains("line 3: summary: is written out: not empty or only spaces")
            || report.contains("line 3: summary: is required"),
        "{report}"
    );
    assert_eq!(
        verify_json(&data)["headHash"],
        head,
        "the CSV wrote something"
    );
}

/// `line` with its `occurredAt` set to `occurred`.
fn dated(line: &str, occurred: &str) -> String {
    let mut line: Value = serde_json::from_str(line).unwrap();
    line["occurredAt"] = occurred.into();
    line.to_string()
}

#[test]
fn an_integrator_line_is_dated_as_the_api_dates_it() {
    let scratch = tempfile::tempdir().unwrap();
    let data = marketing_ledger(scratch.path());
    let mut call: Value = serde_json::from_str(&contact(ALICE, CONTACT, "续保咨询", None)).unwrap();
    call["payload"]["startedAt"] = "2026-11-02T09:00:00+08:00".into();
    let call = call.to_string();
    refused(
        scratch.path(),
        &data,
        "contact-dated-in-the-future",
        &[dated(&call, "2099-01-01T00:00:00Z")],
        "line 1: occurredAt: a contact is dated when it ended, startedAt + durationSeconds \
         (2026-11-02T01:01:00Z), not 2099-01-01T00:00:00Z",
    );
    refused(
        scratch.path(),
        &data,
        "contact-dated-before-it-started",
        &[dated(&call, "2020-01-01T00:00:00Z")],
        "line 1: occurredAt: a contact is dated when it ended, startedAt + durationSeconds \
         (2026-11-02T01:01:00Z), not 2020-01-01T00:00:00Z",
    );
    refused(
        scratch.path(),
        &data,
        "consent-dated-in-the-future",
        &[dated(&consent(ALICE, "WECHAT"), "2099-01-01T00:00:00Z")],
        "line 1: occurredAt: an event is dated when it happened, not in the future: \
         2099-01-01T00:00:00Z is more than 300 s (the clocks' drift) after now",
    );
    let (code, report) = import(
        scratch.path(),
        &data,
        "dated-when-it-ended.ndjson",
        &[dated(&call, "2026-11-02T01:01:00Z")],
    );
    assert_eq!(code, 0, "{report}");
}

fn campaign_closed() -> String {
    format!(
        r#"{{"type":"CampaignClosed","schemaVersion":1,"stream":"campaign-{CAMPAIGN}","occurredAt":"2025-05-01T09:00:00+08:00","actor":"mkt-03","payload":{{"campaignId":"{CAMPAIGN}","budget":2000000,"totalCost":0,"touches":1,"responses":0,"premiumWon":0,"summary":"春季续保活动结束"}}}}"#
    )
}

fn interested(customer: &str) -> String {
    format!(
        r#"{{"type":"CampaignResponded","schemaVersion":1,"stream":"campaign-{CAMPAIGN}","occurredAt":"2025-05-02T10:00:00+08:00","actor":"system:marketing","payload":{{"campaignId":"{CAMPAIGN}","customerId":"{customer}","response":"INTERESTED","channel":"PHONE","premiumWon":0}}}}"#
    )
}

#[test]
fn a_campaign_touch_goes_on_one_of_its_channels_while_it_runs() {
    let scratch = tempfile::tempdir().unwrap();
    let data = marketing_ledger(scratch.path());

    refused(
        scratch.path(),
        &data,
        "touch-off-the-campaigns-channels",
        &[consent(ALICE, "APP"), touch(ALICE, "APP")],
        "line 2: channel: a touch uses one of the campaign's channels",
    );
    // Closed in the ledger, a response after the close: the campaign's stream is read from
    // its end.
    let (code, report) = import(
        scratch.path(),
        &data,
        "closed.ndjson",
        &[touch(ALICE, "PHONE"), campaign_closed(), interested(ALICE)],
    );
    assert_eq!(code, 0, "{report}");
    refused(
        scratch.path(),
        &data,
        "touch-after-the-close",
        &[touch(BOB, "EMAIL")],
        &format!(
            "line 1: campaignId: cannot send a touch for campaign {CAMPAIGN} while it is closed"
        ),
    );
}

fn cancelled_on(day: &str) -> String {
    format!(
        r#"{{"type":"PolicyCancelled","schemaVersion":1,"stream":"policy-{ALICE_POLICY}","occurredAt":"{day}T10:00:00+08:00","actor":"system:policy","payload":{{"policyNumber":"{ALICE_POLICY}","customerId":"{ALICE}","cancelledOn":"{day}","reason":"VEHICLE_SOLD","refund":50000}}}}"#
    )
}

fn claim_on_alices_policy(number: &str, loss: &str) -> String {
    format!(
        r#"{{"type":"ClaimReported","schemaVersion":1,"stream":"claim-{number}","occurredAt":"2025-07-02T10:00:00+08:00","actor":"agent-0001","payload":{{"claimNumber":"{number}","customerId":"{ALICE}","policyNumber":"{ALICE_POLICY}","lossOccurredAt":"{loss}","location":"长春市人民大街与解放大路交汇处","description":"追尾前车，前保险杠受损","estimatedLoss":300000,"injuries":false,"plate":"吉A8601E","reportedVia":"PHONE"}}}}"#
    )
}

#[test]
fn a_claim_on_a_cancelled_policy_is_covered_only_until_the_cancellation() {
    let scratch = tempfile::tempdir().unwrap();
    let data = marketing_ledger(scratch.path());
    let (code, report) = import(
        scratch.path(),
        &data,
        "cancelled.ndjson",
        &[cancelled_on("2025-06-01")],
    );
    assert_eq!(code, 0, "{report}");
    refused(
        scratch.path(),
        &data,
        "claim-after-the-cancellation",
        &[claim_on_alices_policy(
            "CXA2025220100000901",
            "2025-07-01T01:00:00Z",
        )],
        &format!(
            "line 1: lossOccurredAt: within the policy's period, Beijing days inclusive: \
             {ALICE_POLICY} covers 2025-03-01 to 2025-05-31"
        ),
    );
    let (code, report) = import(
        scratch.path(),
        &data,
        "claim-before-the-cancellation.ndjson",
        &[claim_on_alices_policy(
            "CXA2025220100000902",
            "2025-05-01T01:00:00Z",
        )],
    );
    assert_eq!(code, 0, "{report}");
}

/// A policy number quoted in the quote tests.
const QUOTED_POLICY: &str = "PXA2025220100000903";

/// `QUOTED_POLICY` quoted to `customer` on `occurred`, valid until `valid_until`.
fn quoted(customer: &str, occurred: &str, valid_until: &str) -> String {
    format!(
        r#"{{"type":"PolicyQuoted","schemaVersion":1,"stream":"policy-{QUOTED_POLICY}","occurredAt":"{occurred}","actor":"agent-0042","payload":{{"policyNumber":"{QUOTED_POLICY}","customerId":"{customer}","plate":"吉A8601E","vin":"LFVCTHTU8R1687553","productLines":["COMPULSORY_TRAFFIC"],"premium":100000,"periodStart":"2025-04-01","periodEnd":"2026-03-31","salesChannel":"PHONE","validUntil":"{valid_until}"}}}}"#
    )
}

/// `QUOTED_POLICY` issued to `customer` on `occurred`, on the quote's terms.
fn issued_as_quoted(customer: &str, occurred: &str) -> String {
    let issued = policy_issued(
        QUOTED_POLICY,
        customer,
        100_000,
        ["吉A8601E", "LFVCTHTU8R1687553"],
    );
    let mut line: Value = serde_json::from_str(&dated(&issued, occurred)).unwrap();
    line["payload"]["periodStart"] = "2025-04-01".into();
    line["payload"]["periodEnd"] = "2026-03-31".into();
    line.to_string()
}

#[test]
fn a_quote_is_valid_from_its_line_s_day_and_issued_to_its_customer_until_it_expires() {
    let scratch = tempfile::tempdir().unwrap();
    let data = marketing_ledger(scratch.path());
    refused(
        scratch.path(),
        &data,
        "quote-already-past",
        &[quoted(ALICE, "2025-03-20T10:00:00+08:00", "2025-03-19")],
        "line 1: validUntil: a quote is valid until today (2025-03-20, Beijing) or a later day, \
         not 2025-03-19",
    );
    refused(
        scratch.path(),
        &data,
        "issued-to-another-on-a-later-line",
        &[
            quoted(ALICE, "2025-03-20T10:00:00+08:00", "2025-03-31"),
            issued_as_quoted(BOB, "2025-03-21T10:00:00+08:00"),
        ],
        &format!(
            "line 2: customerId: policy {QUOTED_POLICY} was quoted to customer {ALICE}: it is \
             issued to that customer (or a customer merged with it), not to {BOB}"
        ),
    );
    let (code, report) = import(
        scratch.path(),
        &data,
        "quote.ndjson",
        &[quoted(ALICE, "2025-03-20T10:00:00+08:00", "2025-03-31")],
    );
    assert_eq!(code, 0, "{report}");
    refused(
        scratch.path(),
        &data,
        "issued-to-another",
        &[issued_as_quoted(BOB, "2025-03-21T10:00:00+08:00")],
        &format!("line 1: customerId: policy {QUOTED_POLICY} was quoted to customer {ALICE}"),
    );
    // 00:30 on 1 April in Beijing is still 31 March in UTC: the quote's days are Beijing days.
    refused(
        scratch.path(),
        &data,
        "issued-after-the-quote-expired",
        &[issued_as_quoted(ALICE, "2025-04-01T00:30:00+08:00")],
        &format!(
            "line 1: policyNumber: the quote of {QUOTED_POLICY} expired: its validUntil was \
             2025-03-31 and today is 2025-04-01 (Beijing); quote it again under a new policy \
             number"
        ),
    );
    let (code, report) = import(
        scratch.path(),
        &data,
        "issued-on-the-quote-s-last-day.ndjson",
        &[issued_as_quoted(ALICE, "2025-03-31T23:30:00+08:00")],
    );
    assert_eq!(code, 0, "{report}");
}

const CASE: &str = "0190a5e2-8c3b-7d4e-9f00-0000000ca5e1";
const CLAIM: &str = "CXA2025220100000903";

fn case_opened() -> String {
    format!(
        r#"{{"type":"ServiceCaseOpened","schemaVersion":1,"stream":"case-{CASE}","occurredAt":"2025-05-02T10:00:00+08:00","actor":"agent-0001","payload":{{"caseId":"{CASE}","customerId":"{ALICE}","kind":"COMPLAINT","priority":"NORMAL","subject":"理赔进度投诉","channel":"PHONE","deadline":"2025-05-09T10:00:00+08:00","deadlineWorkingHours":null,"policyNumber":null,"claimNumber":null,"contactId":null}}}}"#
    )
}

/// A transition of Alice's case or claim, its `field` text set to `text`.
fn finishing(event_type: &str, field: &str, text: &str) -> String {
    let payload = match event_type {
        "ServiceCaseEscalated" => format!(
            r#""caseId":"{CASE}","customerId":"{ALICE}","escalatedTo":"tl-01","priority":"HIGH","deadline":"2025-05-09T10:00:00+08:00","level":1"#
        ),
        "ServiceCaseResolved" => format!(
            r#""caseId":"{CASE}","customerId":"{ALICE}","resolvedBy":"agent-0001","withinDeadline":true"#
        ),
        "ServiceCaseReopened" => format!(
            r#""caseId":"{CASE}","customerId":"{ALICE}","deadline":"2025-05-20T10:00:00+08:00""#
        ),
        "ClaimSurveyed" => format!(
            r#""claimNumber":"{CLAIM}","customerId":"{ALICE}","surveyor":"claims-002","onSite":true,"assessedLoss":250000"#
        ),
        "ClaimRejected" => {
            format!(r#""claimNumber":"{CLAIM}","customerId":"{ALICE}","reason":"NOT_COVERED""#)
        }
        other => panic!("no payload for {other}"),
    };
    let stream = if event_type.starts_with("Claim") {
        format!("claim-{CLAIM}")
    } else {
        format!("case-{CASE}")
    };
    format!(
        r#"{{"type":"{event_type}","schemaVersion":1,"stream":"{stream}","occurredAt":"2025-05-03T10:00:00+08:00","actor":"claims-002","payload":{{{payload},"{field}":"{text}"}}}}"#
    )
}

#[test]
fn an_erased_customer_s_open_work_is_finished_with_its_texts_left_out() {
    let scratch = tempfile::tempdir().unwrap();
    let data = marketing_ledger(scratch.path());
    let (code, report) = import(
        scratch.path(),
        &data,
        "open-work.ndjson",
        &[
            claim_on_alices_policy(CLAIM, "2025-05-01T01:00:00Z"),
            case_opened(),
        ],
    );
    assert_eq!(code, 0, "{report}");
    // Alice erased on an earlier line: a text written for her could not be sealed.
    let erasure = erased(ALICE, "CUSTOMER_REQUEST");
    refused(
        scratch.path(),
        &data,
        "erased-work-with-a-text",
        &[
            erasure.clone(),
            finishing("ServiceCaseEscalated", "reason", "处理进度滞后"),
        ],
        &format!(
            "line 2: reason: customer {ALICE} was erased: no text can be recorded; send \
             ServiceCaseEscalated without reason (an empty text, \"\")"
        ),
    );
    refused(
        scratch.path(),
        &data,
        "erased-work-started-again",
        &[
            erasure.clone(),
            finishing("ServiceCaseReopened", "reason", "客户再次投诉"),
        ],
        &format!(
            "line 2: customerId: customer {ALICE} is already erased; nothing new can be \
             recorded for it"
        ),
    );
    // A live customer's work texts are written out.
    refused(
        scratch.path(),
        &data,
        "live-work-without-a-text",
        &[finishing("ServiceCaseResolved", "resolution", "")],
        "line 1: resolution: is written out; only an erased customer's work is finished \
         without it",
    );
    // With the texts left out, the erased customer's work is finished: erased on an earlier
    // line, then erased in the ledger before the import runs.
    let (code, report) = import(
        scratch.path(),
        &data,
        "erased-work-escalated.ndjson",
        &[erasure, finishing("ServiceCaseEscalated", "reason", "")],
    );
    assert_eq!(code, 0, "{report}");
    assert!(report.contains("imported 2 new events"), "{report}");
    refused(
        scratch.path(),
        &data,
        "erased-in-the-ledger-work-with-a-text",
        &[finishing("ServiceCaseResolved", "resolution", "已赔付")],
        &format!(
            "line 1: customerId: the personal data of customer-{ALICE} was erased; nothing new \
             can be recorded for it"
        ),
    );
    let (code, report) = import(
        scratch.path(),
        &data,
        "erased-work-finished.ndjson",
        &[
            finishing("ServiceCaseResolved", "resolution", ""),
            finishing("ClaimSurveyed", "findings", ""),
            finishing("ClaimRejected", "explanation", ""),
        ],
    );
    assert_eq!(code, 0, "{report}");
    assert!(report.contains("imported 3 new events"), "{report}");
}

/// Alice's consent to marketing on `channel` withdrawn.
fn withdrawn(channel: &str) -> String {
    let mut line: Value = serde_json::from_str(&consent(ALICE, channel)).unwrap();
    line["payload"]["granted"] = false.into();
    line.to_string()
}

/// Alice's account manager `manager` under `team_lead`, replacing `previous`.
fn manager_assigned(manager: &str, team_lead: &str, previous: Option<&str>) -> String {
    let previous = previous.map_or("null".to_owned(), |previous| format!(r#""{previous}""#));
    format!(
        r#"{{"type":"AccountManagerAssigned","schemaVersion":1,"stream":"customer-{ALICE}","occurredAt":"2025-03-08T10:00:00+08:00","actor":"tl-01","payload":{{"customerId":"{ALICE}","manager":"{manager}","teamLead":"{team_lead}","previousManager":{previous}}}}}"#
    )
}

/// Alice's profile: 张三, in no group, at `address`.
fn profile_updated(address: Option<&str>) -> String {
    let address = address.map_or("null".to_owned(), |address| format!(r#""{address}""#));
    format!(
        r#"{{"type":"ProfileUpdated","schemaVersion":1,"stream":"customer-{ALICE}","occurredAt":"2025-03-08T11:00:00+08:00","actor":"agent-0042","payload":{{"customerId":"{ALICE}","name":"张三","group":null,"address":{address}}}}}"#
    )
}

/// Alice's case assigned to `assignee`, replacing `previous`.
fn case_assigned(assignee: &str, previous: Option<&str>) -> String {
    let previous = previous.map_or("null".to_owned(), |previous| format!(r#""{previous}""#));
    format!(
        r#"{{"type":"ServiceCaseAssigned","schemaVersion":1,"stream":"case-{CASE}","occurredAt":"2025-05-02T11:00:00+08:00","actor":"sup-01","payload":{{"caseId":"{CASE}","customerId":"{ALICE}","assignee":"{assignee}","previousAssignee":{previous}}}}}"#
    )
}

/// Alice's identifier MOBILE `mobile` added.
fn identifier_added(mobile: &str) -> String {
    format!(
        r#"{{"type":"IdentifierAdded","schemaVersion":1,"stream":"customer-{ALICE}","occurredAt":"2025-03-08T12:00:00+08:00","actor":"agent-0042","payload":{{"customerId":"{ALICE}","identifier":{{"kind":"MOBILE","value":"{mobile}"}}}}}}"#
    )
}

/// `line` expecting its stream to hold `version` events.
fn expecting(line: &str, version: u64) -> String {
    let mut line: Value = serde_json::from_str(line).unwrap();
    line["expectedVersion"] = version.into();
    line.to_string()
}

/// The line numbers an import's `report` names as recording nothing (`line N: records
/// nothing: …`), in the order named.
fn recording_nothing(report: &str) -> Vec<usize> {
    report
        .lines()
        .filter_map(|line| {
            line.strip_prefix("line ")?
                .split_once(": records nothing: ")
        })
        .map(|(number, _)| number.parse().unwrap())
        .collect()
}

/// The events of the ledger at `data`: its count and head hash, as `verify` says them.
fn events_and_head(data: &str) -> (u64, Value) {
    let verified = verify_json(data);
    (
        verified["events"].as_u64().unwrap(),
        verified["headHash"].clone(),
    )
}

#[test]
fn a_line_that_changes_nothing_is_accepted_and_records_nothing_as_the_api_does() {
    // Given Alice (registered as 张三, sealed in the ledger, with mobile ALICE_MOBILE)
    // consenting to phone marketing, managed by am-003 under tl-01, with her case assigned to
    // claims-002: her own stream holds 3 events.
    let scratch = tempfile::tempdir().unwrap();
    let data = marketing_ledger(scratch.path());
    let (code, report) = import(
        scratch.path(),
        &data,
        "managed-and-assigned.ndjson",
        &[
            manager_assigned("am-003", "tl-01", None),
            case_opened(),
            case_assigned("claims-002", None),
        ],
    );
    assert_eq!(code, 0, "{report}");
    let no_ops = [
        dated(&consent(ALICE, "PHONE"), "2025-03-09T10:00:00+08:00"),
        withdrawn("EMAIL"),
        manager_assigned("am-003", "tl-01", Some("am-003")),
        profile_updated(None),
        case_assigned("claims-002", Some("claims-002")),
        identifier_added(ALICE_MOBILE),
    ];
    let notices = [
        format!(
            "line 1: records nothing: granted: customer {ALICE} already consents to marketing \
             on PHONE\n"
        ),
        format!(
            "line 2: records nothing: granted: customer {ALICE} never consented to marketing on \
             EMAIL (opt-in: a channel never granted has no consent)\n"
        ),
        format!(
            "line 3: records nothing: manager: am-003 is already customer {ALICE}'s account \
             manager, with team lead tl-01\n"
        ),
        format!(
            "line 4: records nothing: payload: customer {ALICE}'s profile is already this name, \
             group and address\n"
        ),
        format!(
            "line 5: records nothing: assignee: service case {CASE} is already assigned to \
             claims-002\n"
        ),
        format!(
            "line 6: records nothing: identifier: MOBILE {ALICE_MOBILE} is already customer {ALICE}'s\n"
        ),
    ];

    // When a file only sets each to what it is, then it is accepted (exit 0), each line named
    // once as recording nothing, and nothing is written.
    let before = events_and_head(&data);
    let (code, report) = import(scratch.path(), &data, "nothing-changes.ndjson", &no_ops);
    assert_eq!(code, 0, "{report}");
    assert!(
        report.contains(
            "imported 0 new events (0 already present, 6 changed nothing, 0 invalid lines \
             skipped)"
        ),
        "{report}"
    );
    assert_eq!(recording_nothing(&report), [1, 2, 3, 4, 5, 6], "{report}");
    for notice in &notices {
        assert!(report.contains(notice.as_str()), "{notice}{report}");
    }
    assert_eq!(
        events_and_head(&data),
        before,
        "a line that changes nothing wrote"
    );

    // When the same lines come before lines that change something (as the API records them:
    // a withdrawal, a first grant, the manager under a new team lead, a new address, a new
    // assignee, a new mobile), then only those are written. The withdrawal expects Alice's
    // stream to hold the 3 events it held before the file: the lines before it recorded
    // nothing. Line 8 withdraws again what line 7 withdrew.
    let mut lines = no_ops.to_vec();
    lines.extend([
        expecting(&withdrawn("PHONE"), 3),
        dated(&withdrawn("PHONE"), "2025-03-09T10:00:00+08:00"),
        consent(BOB, "EMAIL"),
        manager_assigned("am-003", "tl-02", Some("am-003")),
        profile_updated(Some("吉林省长春市朝阳区人民大街1号")),
        case_assigned("claims-003", Some("claims-002")),
        identifier_added("13900000011"),
    ]);
    let (code, report) = import(scratch.path(), &data, "changes.ndjson", &lines);
    assert_eq!(code, 0, "{report}");
    assert!(
        report.contains(
            "imported 6 new events (0 already present, 7 changed nothing, 0 invalid lines \
             skipped)"
        ),
        "{report}"
    );
    assert_eq!(
        recording_nothing(&report),
        [1, 2, 3, 4, 5, 6, 8],
        "{report}"
    );
    assert!(
        report.contains(&format!(
            "line 8: records nothing: granted: customer {ALICE}'s consent to marketing on PHONE \
             is already withdrawn\n"
        )),
        "{report}"
    );
    let after = events_and_head(&data);
    assert_eq!(after.0, before.0 + 6, "{report}");
    let export = scratch.path().join("changes-export.ndjson");
    let exported = run(&[
        "export",
        "--data",
        &data,
        "--output",
        export.to_str().unwrap(),
    ]);
    assert!(exported.status.success(), "{}", stderr(&exported));
    let written: Vec<String> = std::fs::read_to_string(&export)
        .unwrap()
        .lines()
        .skip(usize::try_from(before.0).unwrap())
        .map(|line| serde_json::from_str::<Value>(line).unwrap()["type"].to_string())
        .collect();
    assert_eq!(
        written,
        [
            "\"ConsentChanged\"",
            "\"ConsentChanged\"",
            "\"AccountManagerAssigned\"",
            "\"ProfileUpdated\"",
            "\"ServiceCaseAssigned\"",
            "\"IdentifierAdded\"",
        ]
    );

    // When the same file is imported again, then it writes nothing: the lines recorded are
    // already present, and those that recorded nothing still do (lines 1, 3, 4 and 5, which
    // would change something now, are superseded by the lines after them that the ledger
    // holds: recorded after them, they would undo them).
    let (code, report) = import(scratch.path(), &data, "changes.ndjson", &lines);
    assert_eq!(code, 0, "{report}");
    assert!(
        report.contains(
            "imported 0 new events (6 already present, 7 changed nothing, 0 invalid lines \
             skipped)"
        ),
        "{report}"
    );
    assert_eq!(
        recording_nothing(&report),
        [1, 2, 3, 4, 5, 6, 8],
        "{report}"
    );
    assert!(
        report.contains(
            "line 3: records nothing: manager: line 10, later in the file, sets the same and is \
             already in the ledger"
        ),
        "{report}"
    );
    assert_eq!(
        events_and_head(&data),
        after,
        "importing the file again wrote"
    );

    // With --skip-invalid, a line that changes nothing is counted apart from the invalid ones.
    let file = scratch.path().join("skipping.ndjson");
    std::fs::write(
        &file,
        [
            withdrawn("EMAIL"),
            consent(ALICE, "NO_SUCH_CHANNEL"),
            consent(ALICE, "EMAIL"),
        ]
        .join("\n"),
    )
    .unwrap();
    let skipped = run(&[
        "import",
        "--data",
        &data,
        "--skip-invalid",
        file.to_str().unwrap(),
    ]);
    assert_eq!(skipped.status.code(), Some(1), "{}", stderr(&skipped));
    assert!(
        stdout(&skipped).contains(
            "imported 1 new event (0 already present, 1 changed nothing, 1 invalid line \
             skipped)"
        ),
        "{}",
        stdout(&skipped)
    );
    assert_eq!(recording_nothing(&stderr(&skipped)), [1]);
    assert_eq!(events_and_head(&data).0, after.0 + 1);

    // The ledger's own history, exported, is a copy and is not decided again: imported into
    // the ledger it came from it is already present, and into an empty one it is all written.
    let export = scratch.path().join("export.ndjson");
    let exported = run(&[
        "export",
        "--data",
        &data,
        "--output",
        export.to_str().unwrap(),
    ]);
    assert!(exported.status.success(), "{}", stderr(&exported));
    let events = verify_json(&data)["events"].as_u64().unwrap();
    let again = run(&["import", "--data", &data, export.to_str().unwrap()]);
    assert!(again.status.success(), "{}", stderr(&again));
    assert!(
        stdout(&again).contains(&format!(
            "imported 0 new events ({events} already present, 0 invalid lines skipped)"
        )),
        "{}",
        stdout(&again)
    );
    let copy = scratch.path().join("copy");
    let copied = run(&[
        "import",
        "--data",
        copy.to_str().unwrap(),
        export.to_str().unwrap(),
    ]);
    assert!(copied.status.success(), "{}", stderr(&copied));
    assert_eq!(
        verify_json(copy.to_str().unwrap())["headHash"],
        verify_json(&data)["headHash"]
    );
}

#[test]
fn lines_that_change_nothing_are_listed_up_to_the_problems_cap_then_counted() {
    // Given Alice, who never consented to EMAIL.
    let scratch = tempfile::tempdir().unwrap();
    let data = marketing_ledger(scratch.path());
    let (events, _) = events_and_head(&data);
    // When a file withdraws it 150 times, then grants it.
    let mut lines: Vec<String> = (0..150)
        .map(|second| {
            dated(
                &withdrawn("EMAIL"),
                &format!("2025-03-09T10:{:02}:{:02}+08:00", second / 60, second % 60),
            )
        })
        .collect();
    lines.push(consent(ALICE, "EMAIL"));
    let (code, report) = import(scratch.path(), &data, "sync.ndjson", &lines);
    // Then the first 100 (PROBLEMS_LISTED_MAX) are named, and the rest counted; the grant is
    // written.
    assert_eq!(code, 0, "{report}");
    assert_eq!(
        recording_nothing(&report),
        (1..=100).collect::<Vec<usize>>(),
        "{report}"
    );
    assert!(
        report.contains("... and 50 more lines that record nothing\n"),
        "{report}"
    );
    assert!(
        report.contains(
            "imported 1 new event (0 already present, 150 changed nothing, 0 invalid lines \
             skipped)"
        ),
        "{report}"
    );
    assert_eq!(events_and_head(&data).0, events + 1);
}

/// Alice's risk-survey case `RISK_CASE`.
const RISK_CASE: &str = "0190a5e2-8c3b-7d4e-9f00-0000000ca5e2";

fn risk_case_opened() -> String {
    format!(
        r#"{{"type":"ServiceCaseOpened","schemaVersion":1,"stream":"case-{RISK_CASE}","occurredAt":"2025-05-02T10:00:00+08:00","actor":"risk-01","payload":{{"caseId":"{RISK_CASE}","customerId":"{ALICE}","kind":"RISK_SURVEY","priority":"NORMAL","subject":"车队风险查勘","channel":"WALK_IN","deadline":"2025-06-30T10:00:00+08:00","deadlineWorkingHours":null,"policyNumber":null,"claimNumber":null,"contactId":null}}}}"#
    )
}

/// The survey of `RISK_CASE` dated `occurred`, its one recommendation due on `due`.
fn surveyed(occurred: &str, due: &str) -> String {
    format!(
        r#"{{"type":"RiskSurveyCompleted","schemaVersion":1,"stream":"case-{RISK_CASE}","occurredAt":"{occurred}","actor":"risk-01","payload":{{"caseId":"{RISK_CASE}","customerId":"{ALICE}","surveyor":"risk-01","findings":"消防通道被占用","recommendations":[{{"number":1,"text":"清理消防通道","dueOn":"{due}"}}]}}}}"#
    )
}

#[test]
fn a_risk_recommendation_due_before_the_survey_s_beijing_day_is_refused() {
    let scratch = tempfile::tempdir().unwrap();
    let data = marketing_ledger(scratch.path());
    let (code, report) = import(
        scratch.path(),
        &data,
        "risk-case.ndjson",
        &[risk_case_opened()],
    );
    assert_eq!(code, 0, "{report}");
    // 00:30 on 20 May in Beijing is still 19 May in UTC: the survey's day is a Beijing day.
    refused(
        scratch.path(),
        &data,
        "recommendation-already-due",
        &[surveyed("2025-05-20T00:30:00+08:00", "2025-05-19")],
        "line 1: recommendations[0].dueOn: a recommendation is due on the survey's day \
         (2025-05-20, Beijing) or later, not 2025-05-19",
    );
    let (code, report) = import(
        scratch.path(),
        &data,
        "recommendation-due-on-the-day.ndjson",
        &[surveyed("2025-05-19T23:30:00+08:00", "2025-05-19")],
    );
    assert_eq!(code, 0, "{report}");
}

/// Alice's case closed by `actor`.
fn case_closed(actor: &str) -> String {
    format!(
        r#"{{"type":"ServiceCaseClosed","schemaVersion":1,"stream":"case-{CASE}","occurredAt":"2025-05-04T10:00:00+08:00","actor":"{actor}","payload":{{"caseId":"{CASE}","customerId":"{ALICE}","closedBy":"{actor}","customerConfirmed":true}}}}"#
    )
}

/// The service-case aggregate's refusal of `action` on `case` while it is `status`, on line
/// `number`'s `caseId`.
fn cannot(number: usize, action: &str, case: &str, status: &str) -> String {
    format!("line {number}: caseId: cannot {action} service case {case} while it is {status}")
}

#[test]
fn a_case_is_assigned_escalated_and_resolved_only_while_open() {
    let scratch = tempfile::tempdir().unwrap();
    let data = marketing_ledger(scratch.path());
    let (code, report) = import(scratch.path(), &data, "case.ndjson", &[case_opened()]);
    assert_eq!(code, 0, "{report}");
    let resolved = |text: &str| finishing("ServiceCaseResolved", "resolution", text);
    // Resolved on an earlier line, it is not assigned, escalated or resolved again; open, it is
    // not closed.
    for (name, line, action) in [
        ("assigned", case_assigned("claims-002", None), "assign"),
        (
            "escalated",
            finishing("ServiceCaseEscalated", "reason", "处理进度滞后"),
            "escalate",
        ),
        ("resolved", resolved("再次处理"), "resolve"),
    ] {
        refused(
            scratch.path(),
            &data,
            &format!("{name}-once-resolved"),
            &[resolved("已处理"), line],
            &cannot(2, action, CASE, "resolved"),
        );
    }
    refused(
        scratch.path(),
        &data,
        "closed-while-open",
        &[case_closed("sup-01")],
        &cannot(1, "close", CASE, "open"),
    );
    // Reopened on a later line, it is assigned.
    let (code, report) = import(
        scratch.path(),
        &data,
        "resolved-reopened-assigned.ndjson",
        &[
            resolved("已处理"),
            finishing("ServiceCaseReopened", "reason", "客户再次来电"),
            case_assigned("claims-002", None),
        ],
    );
    assert_eq!(code, 0, "{report}");
    assert!(report.contains("imported 3 new events"), "{report}");
    // Assigned to claims-002 again (which records nothing), then resolved and closed; imported
    // again, that assignment, of a closed case now, still records nothing: the lines after it,
    // already in the ledger, supersede it.
    let file = [
        case_assigned("claims-002", Some("claims-002")),
        resolved("再次处理完毕"),
        case_closed("sup-01"),
    ];
    let (code, report) = import(scratch.path(), &data, "closed.ndjson", &file);
    assert_eq!(code, 0, "{report}");
    assert_eq!(recording_nothing(&report), [1], "{report}");
    assert!(report.contains("imported 2 new events"), "{report}");
    let (code, report) = import(scratch.path(), &data, "closed.ndjson", &file);
    assert_eq!(code, 0, "{report}");
    assert!(
        report.contains(&format!(
            "line 1: records nothing: assignee: line 2, later in the file, is already in the \
             ledger (position {}); recorded after it, this line would be refused (caseId: \
             cannot assign service case {CASE} while it is closed)",
            events_and_head(&data).0 - 1
        )),
        "{report}"
    );
    assert!(report.contains("imported 0 new events"), "{report}");
    // Closed in the ledger, it is not assigned.
    refused(
        scratch.path(),
        &data,
        "assigned-once-closed",
        &[case_assigned("claims-003", Some("claims-002"))],
        &cannot(1, "assign", CASE, "closed"),
    );
}

/// A follow-up of `RISK_CASE`'s recommendation `number`.
fn followed_up(number: u16) -> String {
    format!(
        r#"{{"type":"RiskRecommendationFollowedUp","schemaVersion":1,"stream":"case-{RISK_CASE}","occurredAt":"2025-06-01T10:00:00+08:00","actor":"am-002","payload":{{"caseId":"{RISK_CASE}","customerId":"{ALICE}","recommendation":{number},"status":"IN_PROGRESS","note":"整改进行中","followedUpBy":"am-002"}}}}"#
    )
}

#[test]
fn a_risk_survey_is_completed_once_on_a_risk_survey_case_and_followed_up_by_its_numbers() {
    let scratch = tempfile::tempdir().unwrap();
    let data = marketing_ledger(scratch.path());
    let (code, report) = import(
        scratch.path(),
        &data,
        "cases.ndjson",
        &[case_opened(), risk_case_opened()],
    );
    assert_eq!(code, 0, "{report}");
    let survey = || surveyed("2025-05-20T10:00:00+08:00", "2025-06-30");
    let action = "complete a risk survey on";
    refused(
        scratch.path(),
        &data,
        "complaint-surveyed",
        &[survey().replace(RISK_CASE, CASE)],
        &cannot(1, action, CASE, "not a risk-survey case"),
    );
    refused(
        scratch.path(),
        &data,
        "surveyed-twice",
        &[
            survey(),
            surveyed("2025-05-21T10:00:00+08:00", "2025-06-30"),
        ],
        &cannot(2, action, RISK_CASE, "already surveyed"),
    );
    refused(
        scratch.path(),
        &data,
        "followed-up-before-the-survey",
        &[followed_up(1)],
        &cannot(
            1,
            "follow up a recommendation of",
            RISK_CASE,
            "not surveyed yet",
        ),
    );
    let no_such = |line: usize, number: u16| {
        format!(
            "line {line}: recommendation: risk recommendation {RISK_CASE} #{number} does not exist"
        )
    };
    refused(
        scratch.path(),
        &data,
        "followed-up-past-the-survey",
        &[survey(), followed_up(2)],
        &no_such(2, 2),
    );
    let (code, report) = import(
        scratch.path(),
        &data,
        "surveyed.ndjson",
        &[survey(), followed_up(1)],
    );
    assert_eq!(code, 0, "{report}");
    assert!(report.contains("imported 2 new events"), "{report}");
    // Surveyed in the ledger: not surveyed again, and followed up by its numbers.
    refused(
        scratch.path(),
        &data,
        "surveyed-again",
        &[surveyed("2025-05-22T10:00:00+08:00", "2025-06-30")],
        &cannot(1, action, RISK_CASE, "already surveyed"),
    );
    refused(
        scratch.path(),
        &data,
        "followed-up-past-the-survey-in-the-ledger",
        &[followed_up(3)],
        &no_such(1, 3),
    );
}

#[test]
fn a_case_s_assignment_names_its_current_assignee_as_the_previous_one() {
    let scratch = tempfile::tempdir().unwrap();
    let data = marketing_ledger(scratch.path());
    let (code, report) = import(
        scratch.path(),
        &data,
        "assigned.ndjson",
        &[case_opened(), case_assigned("claims-002", None)],
    );
    assert_eq!(code, 0, "{report}");
    let previous = |line: usize, current: &str, stated: &str| {
        format!(
            "line {line}: previousAssignee: the case's assignee until this assignment: \
             {current}, not {stated}"
        )
    };
    refused(
        scratch.path(),
        &data,
        "no-previous-assignee",
        &[case_assigned("claims-003", None)],
        &previous(1, "claims-002", "null"),
    );
    refused(
        scratch.path(),
        &data,
        "previous-assignee-before-an-earlier-line",
        &[
            case_assigned("claims-003", Some("claims-002")),
            case_assigned("claims-004", Some("claims-002")),
        ],
        &previous(2, "claims-003", "claims-002"),
    );
    let (code, report) = import(
        scratch.path(),
        &data,
        "reassigned.ndjson",
        &[case_assigned("claims-003", Some("claims-002"))],
    );
    assert_eq!(code, 0, "{report}");
    assert!(report.contains("imported 1 new event"), "{report}");
}
