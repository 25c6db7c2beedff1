//! `eraseCustomer` as an administrator uses it: the customer's data key is destroyed, so their
//! personal fields read as erased everywhere (timeline, directory, the auditor's raw events)
//! while the facts stay, nothing new can be recorded for them, and the chain still verifies.

use ledger_graphql::Role;

use crate::support::{Harness, codes, data, text};

#[tokio::test(flavor = "multi_thread")]
async fn an_erased_customer_reads_as_erased_and_accepts_no_new_personal_data() {
    let harness = Harness::start().await;
    let (customer, _) = harness.register("李四", "13900139000").await;
    let (other, _) = harness.register("王五", "13700137000").await;
    harness
        .record_contact(
            Role::Agent,
            &customer,
            "PHONE",
            "agent-0042",
            "车牌吉A12345 理赔咨询",
        )
        .await;
    let last = harness
        .record_contact(
            Role::Agent,
            &other,
            "PHONE",
            "agent-0042",
            "renewal question",
        )
        .await;

    // Before: the auditor's raw event shows the summary in the clear (auditors see personal
    // data), though the log stores it sealed.
    let events = r#"{ events(first: 20, types: ["ContactRecorded"]) { edges { node { stream payload } } } }"#;
    let response = harness.run_consistent(Role::Auditor, events, &last).await;
    assert!(response.errors.is_empty(), "{:?}", response.errors);
    let before = data(response);
    assert!(before.to_string().contains("理赔咨询"), "{before}");

    let erased = harness
        .mutate(
            Role::Admin,
            &format!(
                r#"mutation {{ eraseCustomer(input: {{ customerId: "{customer}", reason: CUSTOMER_REQUEST }}) {{ position }} }}"#
            ),
        )
        .await;
    let position = text(&erased["eraseCustomer"]["position"]);

    // The directory no longer resolves the phone number; the record says erased.
    let lookup = r#"{ customerByIdentifier(kind: MOBILE, value: "13900139000") { id } }"#;
    let response = harness.run_consistent(Role::Agent, lookup, &position).await;
    assert!(response.errors.is_empty(), "{:?}", response.errors);
    assert!(data(response)["customerByIdentifier"].is_null());
    let document = format!(
        r#"{{ customer(id: "{customer}") {{ erased name timeline(first: 10) {{ edges {{ node {{ kind summary erased }} }} }} }} }}"#
    );
    let response = harness
        .run_consistent(Role::Agent, &document, &position)
        .await;
    assert!(response.errors.is_empty(), "{:?}", response.errors);
    let record = data(response)["customer"].clone();
    assert_eq!(record["erased"], true);
    assert!(record["name"].is_null(), "{record}");
    assert!(!record.to_string().contains("理赔咨询"), "{record}");
    assert!(!record.to_string().contains("李四"), "{record}");

    // The auditor's raw events now show the redacted payload for the erased customer only.
    let response = harness.run(Role::Auditor, events).await;
    assert!(response.errors.is_empty(), "{:?}", response.errors);
    let after = data(response);
    assert!(!after.to_string().contains("理赔咨询"), "{after}");
    assert!(after.to_string().contains("renewal question"), "{after}");

    // Nothing new can be recorded for the erased customer.
    let refused = harness
        .run(
            Role::Agent,
            &format!(
                r#"mutation {{ recordContact(input: {{ customerId: "{customer}", channel: PHONE, direction: INBOUND,
                agent: "agent-0042", startedAt: "2025-03-02T08:00:00Z", durationSeconds: 60, topic: ENQUIRY,
                summary: "again", outcome: RESOLVED }}) {{ position }} }}"#
            ),
        )
        .await;
    assert_eq!(codes(&refused), ["REJECTED"], "{:?}", refused.errors);

    // The chain covers the sealed bytes: it verifies without the destroyed key.
    let response = harness.run(Role::Auditor, "{ verifyLedger { ok } }").await;
    assert!(response.errors.is_empty(), "{:?}", response.errors);
    assert_eq!(data(response)["verifyLedger"]["ok"], true);
    harness.close().await;
}
