//! `eraseCustomer` as an administrator uses it: the customer's data key is destroyed, so their
//! personal fields read as erased everywhere (timeline, directory, the auditor's raw events)
//! while the facts stay, nothing new can be recorded for them, and the chain still verifies.
//! `eraseEnquiry` does the same for a web-shop lead from someone nobody knew.

use ledger_graphql::Role;

use crate::support::{Harness, assert_invalid, codes, data, text};

/// The call-back queue's enquiry ids, oldest first.
const FOLLOW_UPS: &str = "{ followUps(first: 100) { edges { node { enquiryId } } } }";

fn queued(response: async_graphql::Response) -> Vec<String> {
    assert!(response.errors.is_empty(), "{:?}", response.errors);
    data(response)["followUps"]["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|edge| text(&edge["node"]["enquiryId"]))
        .collect()
}

/// Erases `customer` as an administrator; the position of its `CustomerErased`.
async fn erase_customer(harness: &Harness, customer: &str) -> String {
    let erased = harness
        .mutate(
            Role::Admin,
            &format!(
                r#"mutation {{ eraseCustomer(input: {{ customerId: "{customer}", reason: CUSTOMER_REQUEST }}) {{ position }} }}"#
            ),
        )
        .await;
    text(&erased["eraseCustomer"]["position"])
}

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

    let position = erase_customer(&harness, &customer).await;

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

    // The auditor's view as of before the erasure says the text was erased since, rather than
    // showing the blanks the destroyed fields decode to.
    let as_of = format!(
        r#"{{ customerAsOf(id: "{customer}", position: "{last}") {{ timeline(first: 10) {{ edges {{ node {{ kind summary erased }} }} }} }} }}"#
    );
    let response = harness.run(Role::Auditor, &as_of).await;
    assert!(response.errors.is_empty(), "{:?}", response.errors);
    let past = data(response)["customerAsOf"]["timeline"]["edges"].clone();
    let nodes = past.as_array().expect("edges");
    assert_eq!(nodes.len(), 2, "{past}");
    for edge in nodes {
        assert_eq!(edge["node"]["erased"], true, "{past}");
        assert!(edge["node"]["summary"].is_null(), "{past}");
    }

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

/// `eraseEnquiry`: a web-shop lead from someone nobody knew leaves the call-back queue, its
/// name and mobile read as erased in the auditor's raw events, other enquiries are untouched, and
/// a second erasure or an enquiry the ledger does not hold are refused by name.
#[tokio::test(flavor = "multi_thread")]
async fn an_anonymous_enquiry_is_erased_and_leaves_the_call_back_queue() {
    let harness = Harness::start().await;
    let record = |mobile: &str, name: &str| {
        format!(
            r#"mutation {{ recordEnquiry(input: {{ channel: WEB, mobile: "{mobile}", name: "{name}", message: "想问续保" }}) {{ id position }} }}"#
        )
    };
    let erased = harness
        .mutate(Role::Agent, &record("13600136001", "孙七"))
        .await;
    let kept = harness
        .mutate(Role::Agent, &record("13600136002", "周八"))
        .await;
    let erased_id = text(&erased["recordEnquiry"]["id"]);
    let kept_id = text(&kept["recordEnquiry"]["id"]);
    let position = text(&kept["recordEnquiry"]["position"]);
    let before = queued(
        harness
            .run_consistent(Role::Agent, FOLLOW_UPS, &position)
            .await,
    );
    assert_eq!(before, [erased_id.clone(), kept_id.clone()]);

    let erase = |id: &str| {
        format!(
            r#"mutation {{ eraseEnquiry(input: {{ enquiryId: "{id}", reason: CUSTOMER_REQUEST }}) {{ id position streamVersion }} }}"#
        )
    };
    let done = harness.mutate(Role::Admin, &erase(&erased_id)).await;
    assert_eq!(text(&done["eraseEnquiry"]["id"]), erased_id);
    assert_eq!(text(&done["eraseEnquiry"]["streamVersion"]), "2");
    let position = text(&done["eraseEnquiry"]["position"]);
    let after = queued(
        harness
            .run_consistent(Role::Agent, FOLLOW_UPS, &position)
            .await,
    );
    assert_eq!(after, [kept_id]);

    let events = r#"{ events(first: 20, types: ["OnlineEnquiryReceived", "EnquiryErased"]) { edges { node { eventType stream payload } } } }"#;
    let response = harness.run(Role::Auditor, events).await;
    assert!(response.errors.is_empty(), "{:?}", response.errors);
    let raw = data(response).to_string();
    assert!(
        !raw.contains("13600136001") && !raw.contains("孙七"),
        "{raw}"
    );
    assert!(raw.contains("13600136002") && raw.contains("周八"), "{raw}");
    assert!(raw.contains("EnquiryErased"), "{raw}");

    let again = harness.run(Role::Admin, &erase(&erased_id)).await;
    assert_eq!(codes(&again), ["REJECTED"], "{:?}", again.errors);
    let unknown = harness
        .run(Role::Admin, &erase("0190a5e2-8c3b-7d4e-9f00-00000000beef"))
        .await;
    assert_eq!(codes(&unknown), ["NOT_FOUND"], "{:?}", unknown.errors);
    let bad = harness.run(Role::Admin, &erase("not-an-id")).await;
    assert_eq!(codes(&bad), ["VALIDATION"], "{:?}", bad.errors);
    assert!(
        bad.errors[0].message.contains("input.enquiryId"),
        "{:?}",
        bad.errors
    );
    harness.close().await;
}

/// `eraseCustomer` takes out of the call-back queue the enquiries whose personal data went with
/// the customer's: the one the customer sent, and a lead from nobody known that the customer's
/// own (inbound) contact named; another lead stays.
#[tokio::test(flavor = "multi_thread")]
async fn a_customers_erasure_takes_their_enquiries_out_of_the_call_back_queue() {
    let harness = Harness::start().await;
    let (customer, _) = harness.register("李四", "13900139000").await;
    let record = |mobile: &str, customer: Option<&str>| {
        let customer = customer.map_or(String::new(), |id| format!(r#"customerId: "{id}", "#));
        format!(
            r#"mutation {{ recordEnquiry(input: {{ {customer}channel: WEB, mobile: "{mobile}", message: "想问续保" }}) {{ id position }} }}"#
        )
    };
    let named = harness
        .mutate(Role::Agent, &record("13600136003", None))
        .await;
    let sent = harness
        .mutate(Role::Agent, &record("13900139000", Some(&customer)))
        .await;
    let kept = harness
        .mutate(Role::Agent, &record("13600136004", None))
        .await;
    let [named_id, sent_id, kept_id] =
        [&named, &sent, &kept].map(|answer| text(&answer["recordEnquiry"]["id"]));
    // The enquiry the customer sent is theirs: it is not erased on its own, and the refusal
    // says whom to erase.
    let refused = harness
        .run(
            Role::Admin,
            &format!(
                r#"mutation {{ eraseEnquiry(input: {{ enquiryId: "{sent_id}", reason: CUSTOMER_REQUEST }}) {{ position }} }}"#
            ),
        )
        .await;
    assert_invalid(&refused, "input.enquiryId");
    assert!(
        refused.errors[0]
            .message
            .contains(&format!("(erase customer {customer} instead)")),
        "{:?}",
        refused.errors
    );
    // The customer rings about the lead they left before they were known.
    let chased = harness
        .mutate(
            Role::Agent,
            &format!(
                r#"mutation {{ recordContact(input: {{ customerId: "{customer}", channel: PHONE, direction: INBOUND,
                agent: "agent-0042", startedAt: "2025-03-02T08:00:00Z", durationSeconds: 60, topic: ENQUIRY,
                summary: "问咨询进度", outcome: RESOLVED, enquiryId: "{named_id}" }}) {{ position }} }}"#
            ),
        )
        .await;
    let queued = |response| {
        let mut ids = queued(response);
        ids.sort();
        ids
    };
    let position = text(&chased["recordContact"]["position"]);
    let mut all = vec![named_id.clone(), sent_id, kept_id.clone()];
    all.sort();
    assert_eq!(
        queued(
            harness
                .run_consistent(Role::Agent, FOLLOW_UPS, &position)
                .await
        ),
        all
    );

    let position = erase_customer(&harness, &customer).await;
    assert_eq!(
        queued(
            harness
                .run_consistent(Role::Agent, FOLLOW_UPS, &position)
                .await
        ),
        [kept_id]
    );

    // The named lead's mobile is gone from the auditor's raw events too; the kept one is not.
    let events =
        r#"{ events(first: 20, types: ["OnlineEnquiryReceived"]) { edges { node { payload } } } }"#;
    let response = harness.run(Role::Auditor, events).await;
    assert!(response.errors.is_empty(), "{:?}", response.errors);
    let raw = data(response).to_string();
    assert!(!raw.contains("13600136003"), "{raw}");
    assert!(raw.contains("13600136004"), "{raw}");
    harness.close().await;
}
