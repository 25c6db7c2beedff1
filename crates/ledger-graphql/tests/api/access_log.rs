//! Access records through the API: an agent's reads of a customer appear in the auditor's
//! `accessLog` with subject, role and operation, by customer and by subject; an analyst's
//! masked read is not recorded; subscription deliveries are recorded; `accessLog` is for
//! auditors and admins only and checks its arguments by name; no mutation can alter the record;
//! a read that cannot be recorded is refused.

use ledger_graphql::Role;
use serde_json::{Value, json};

use crate::support::{Harness, caller, codes, data, extension, next_within, subject, text};

const ACCESS_LOG: &str = r#"query($customer: ID, $subject: String, $first: Int, $after: String, $from: DateTime, $to: DateTime) {
    accessLog(customerId: $customer, subject: $subject, first: $first, after: $after, from: $from, to: $to) {
        edges { cursor node { at subject role customerId operation } }
        pageInfo { hasNextPage endCursor }
    }
}"#;

/// The auditor's `accessLog` page for `variables`.
async fn access_log(harness: &Harness, variables: Value) -> Value {
    let response = harness.run_with(Role::Auditor, ACCESS_LOG, variables).await;
    assert!(response.errors.is_empty(), "{:?}", response.errors);
    data(response)["accessLog"].clone()
}

/// `(subject, role, operation)` of each entry, newest first.
fn entries(page: &Value) -> Vec<(String, String, String)> {
    page["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|edge| {
            let node = &edge["node"];
            (
                text(&node["subject"]),
                text(&node["role"]),
                text(&node["operation"]),
            )
        })
        .collect()
}

fn entry(role: Role, operation: &str) -> (String, String, String) {
    (
        subject(role).to_owned(),
        format!("{role:?}").to_uppercase(),
        operation.to_owned(),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn an_agents_timeline_read_is_listed_for_the_auditor() {
    let harness = Harness::start().await;
    let (customer, _) = harness.register("张三", "13800138000").await;
    let position = harness
        .record_contact(Role::Agent, &customer, "PHONE", "agent-0042", "想改车牌")
        .await;

    let read = format!(
        r#"{{ customer(id: "{customer}") {{ name timeline(first: 5) {{ edges {{ cursor }} }} }} }}"#
    );
    let response = harness.run_consistent(Role::Agent, &read, &position).await;
    assert!(response.errors.is_empty(), "{:?}", response.errors);
    // An analyst's masked read of the same customer is not recorded.
    let masked = harness
        .run_consistent(Role::Analyst, &read, &position)
        .await;
    assert!(masked.errors.is_empty(), "{:?}", masked.errors);

    let by_customer = access_log(&harness, json!({ "customer": customer })).await;
    assert_eq!(
        entries(&by_customer),
        [
            entry(Role::Agent, "timeline"),
            entry(Role::Agent, "customer")
        ]
    );
    let newest = &by_customer["edges"][0]["node"];
    assert_eq!(text(&newest["customerId"]), customer);
    assert!(newest["at"].is_string(), "{newest}");

    let by_subject = access_log(&harness, json!({ "subject": subject(Role::Agent) })).await;
    assert_eq!(entries(&by_subject), entries(&by_customer));
    let analyst = access_log(&harness, json!({ "subject": subject(Role::Analyst) })).await;
    assert!(entries(&analyst).is_empty(), "{analyst}");

    // A lookup by identifier and a name search are recorded under their own operations.
    harness
        .run(
            Role::Supervisor,
            r#"{ customerByIdentifier(kind: MOBILE, value: "138 0013 8000") { id }
                 customers(search: "张", first: 5) { edges { cursor } } }"#,
        )
        .await;
    let supervisor = access_log(&harness, json!({ "subject": subject(Role::Supervisor) })).await;
    let mut operations: Vec<String> = entries(&supervisor)
        .into_iter()
        .map(|(_, _, operation)| operation)
        .collect();
    operations.sort();
    assert_eq!(operations, ["customerByIdentifier", "customers"]);
    harness.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn access_log_pages_newest_first_within_a_time_range() {
    let harness = Harness::start().await;
    let (customer, position) = harness.register("李四", "13900139000").await;
    let read = format!(r#"{{ customer(id: "{customer}") {{ name }} }}"#);
    for _ in 0..5 {
        let response = harness.run_consistent(Role::Agent, &read, &position).await;
        assert!(response.errors.is_empty(), "{:?}", response.errors);
    }
    let all = access_log(&harness, json!({ "customer": customer })).await;
    let times: Vec<String> = all["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|edge| text(&edge["node"]["at"]))
        .collect();
    assert_eq!(times.len(), 5);

    let first = access_log(&harness, json!({ "customer": customer, "first": 2 })).await;
    assert_eq!(first["pageInfo"]["hasNextPage"], true);
    let rest = access_log(
        &harness,
        json!({ "customer": customer, "first": 10, "after": first["pageInfo"]["endCursor"] }),
    )
    .await;
    assert_eq!(rest["edges"].as_array().map(Vec::len), Some(3));
    assert_eq!(rest["pageInfo"]["hasNextPage"], false);

    // `from` inclusive, `to` exclusive: the middle three of the five reads (newest first).
    let ranged = access_log(
        &harness,
        json!({ "customer": customer, "from": times[3], "to": times[0] }),
    )
    .await;
    let ranged_times: Vec<String> = ranged["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|edge| text(&edge["node"]["at"]))
        .collect();
    assert_eq!(ranged_times, times[1..4]);
    harness.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn access_log_is_for_auditors_and_checks_its_arguments_by_name() {
    let harness = Harness::start().await;
    let document = r#"{ accessLog(subject: "agent-0042") { edges { cursor } } }"#;
    for role in [Role::Agent, Role::Supervisor, Role::Analyst] {
        let response = harness.run(role, document).await;
        assert_eq!(codes(&response), ["FORBIDDEN"], "{role:?}");
    }
    for role in [Role::Auditor, Role::Admin] {
        let response = harness.run(role, document).await;
        assert!(
            response.errors.is_empty(),
            "{role:?}: {:?}",
            response.errors
        );
    }

    let customer = "0190a5e2-8c3b-7d4e-9f00-00000000c001";
    for (variables, field) in [
        (json!({}), "customerId"),
        (
            json!({ "customer": customer, "subject": "agent-0042" }),
            "subject",
        ),
        (json!({ "customer": "42" }), "customerId"),
        (json!({ "customer": customer, "first": 501 }), "first"),
        (
            json!({ "customer": customer, "after": "not-a-cursor" }),
            "after",
        ),
        (
            json!({ "customer": customer, "from": "2026-01-02T00:00:00Z", "to": "2026-01-01T00:00:00Z" }),
            "to",
        ),
        (json!({ "subject": "a".repeat(129) }), "subject"),
    ] {
        let response = harness
            .run_with(Role::Auditor, ACCESS_LOG, variables.clone())
            .await;
        assert_eq!(codes(&response), ["VALIDATION"], "{variables}");
        assert_eq!(
            extension(&response.errors[0], "field").as_deref(),
            Some(field),
            "{variables}"
        );
    }
    harness.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn no_mutation_can_alter_the_access_log() {
    let harness = Harness::start().await;
    let (customer, position) = harness.register("王五", "13700137000").await;
    let read = format!(r#"{{ customer(id: "{customer}") {{ name }} }}"#);
    harness.run_consistent(Role::Agent, &read, &position).await;
    let before = access_log(&harness, json!({ "customer": customer })).await;
    assert_eq!(entries(&before), [entry(Role::Agent, "customer")]);

    // The schema offers no mutation that names access records.
    let sdl = ledger_graphql::sdl();
    let mutation_type = sdl
        .split("type Mutation {")
        .nth(1)
        .and_then(|rest| rest.split("\n}").next())
        .expect("the SDL declares the Mutation type");
    assert!(
        !mutation_type.to_lowercase().contains("access"),
        "{mutation_type}"
    );

    // The admin changes the customer every way it can; the earlier entry stays as it was, and
    // only new reads (the mutation results' customer) are added.
    for mutation in [
        format!(
            r#"mutation {{ updateProfile(input: {{ customerId: "{customer}", name: "王六" }}) {{ position customer {{ name }} }} }}"#
        ),
        format!(
            r#"mutation {{ changeConsent(input: {{ customerId: "{customer}", channel: PHONE, granted: true }}) {{ position }} }}"#
        ),
    ] {
        harness.mutate(Role::Admin, &mutation).await;
    }
    let after = access_log(&harness, json!({ "customer": customer })).await;
    let after_edges = after["edges"].as_array().expect("edges");
    let before_edge = &before["edges"][0];
    assert_eq!(after_edges.last(), Some(before_edge));
    assert_eq!(
        entries(&after),
        [
            entry(Role::Admin, "recorded.customer"),
            entry(Role::Agent, "customer")
        ]
    );
    harness.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_mutations_answer_with_a_case_or_claim_is_a_recorded_read() {
    let harness = Harness::start().await;
    let (customer, _) = harness.register("张娜萍", "18733026926").await;
    let subject_text = "张娜萍咨询 18733026926";
    let open = format!(
        r#"mutation {{ openServiceCase(input: {{ customerId: "{customer}", kind: CONSULTATION,
            priority: NORMAL, subject: "{subject_text}", channel: PHONE,
            deadline: "2030-03-02T08:00:00Z" }}) {{ id }} }}"#
    );
    let case = text(&harness.mutate(Role::Agent, &open).await["openServiceCase"]["id"]);

    // Assigned twice to the same person: the second writes no event, and its answer still
    // shows the case's subject, so it is recorded all the same.
    let assign = format!(
        r#"mutation {{ assignServiceCase(input: {{ caseId: "{case}", assignee: "agent-0098" }}) {{
            eventTypes serviceCase {{ subject }} }} }}"#
    );
    for event_types in [json!(["ServiceCaseAssigned"]), json!([])] {
        let answer = harness.mutate(Role::Supervisor, &assign).await;
        assert_eq!(answer["assignServiceCase"]["eventTypes"], event_types);
        assert_eq!(
            text(&answer["assignServiceCase"]["serviceCase"]["subject"]),
            subject_text
        );
    }
    let resolve = format!(
        r#"mutation {{ resolveServiceCase(input: {{ caseId: "{case}", resolution: "已回电" }}) {{
            serviceCase {{ subject resolution }} }} }}"#
    );
    let resolved = harness.mutate(Role::Agent, &resolve).await;
    assert_eq!(
        text(&resolved["resolveServiceCase"]["serviceCase"]["resolution"]),
        "已回电"
    );

    harness.issue_policy("PDAA2025220100001", &customer).await;
    let report = format!(
        r#"mutation {{ reportClaim(input: {{ claimNumber: "RDAA2025220100001",
            policyNumber: "PDAA2025220100001", customerId: "{customer}",
            lossOccurredAt: "2025-06-01T08:00:00Z", location: "长春", description: "追尾",
            reportedVia: PHONE, injuries: false }}) {{ claim {{ number policyNumber }} }} }}"#
    );
    let reported = harness.mutate(Role::Agent, &report).await;
    assert_eq!(
        text(&reported["reportClaim"]["claim"]["number"]),
        "RDAA2025220100001"
    );

    let page = access_log(&harness, json!({ "customer": customer })).await;
    assert_eq!(
        entries(&page),
        [
            entry(Role::Agent, "recorded.claim"),
            entry(Role::Agent, "recorded.serviceCase"),
            entry(Role::Supervisor, "recorded.serviceCase"),
            entry(Role::Supervisor, "recorded.serviceCase"),
        ]
    );
    harness.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refusal_naming_who_holds_an_identifier_is_a_recorded_read_of_the_holder() {
    let harness = Harness::start().await;
    let (other, _) = harness.register("张三", "13800138000").await;
    let (holder, _) = harness.register("李四", "13900139000").await;
    let id_card = format!(
        r#"mutation {{ addIdentifier(input: {{ customerId: "{holder}",
            identifier: {{ kind: ID_CARD, value: "220112198011208965" }} }}) {{ position }} }}"#
    );
    harness.mutate(Role::Agent, &id_card).await;

    // The agent types the holder's ID card number for another customer, then registers a
    // customer with the holder's mobile: both refusals name the holder, as agents need them
    // to, and each is recorded as a read of the holder's identifier.
    let taken_id_card = id_card.replace(&holder, &other);
    let taken_mobile = r#"mutation { registerCustomer(input: { kind: INDIVIDUAL, name: "王五",
        identifiers: [{ kind: MOBILE, value: "13900139000" }] }) { id } }"#;
    for (mutation, value) in [
        (taken_id_card.as_str(), "220112198011208965"),
        (taken_mobile, "13900139000"),
    ] {
        let refused = harness.run(Role::Agent, mutation).await;
        assert_eq!(codes(&refused), ["REJECTED"], "{:?}", refused.errors);
        assert_eq!(
            extension(&refused.errors[0], "reason").as_deref(),
            Some("IDENTIFIER_OWNED")
        );
        let message = &refused.errors[0].message;
        assert!(
            message.contains(value) && message.contains(&holder),
            "{message}"
        );
    }

    let page = access_log(&harness, json!({ "customer": holder })).await;
    assert_eq!(
        entries(&page),
        [
            entry(Role::Agent, "registerCustomer.identifierOwned"),
            entry(Role::Agent, "addIdentifier.identifierOwned"),
        ]
    );
    let page = access_log(&harness, json!({ "customer": other })).await;
    assert!(entries(&page).is_empty(), "{page}");
    harness.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn subscription_deliveries_are_recorded() {
    let wait = std::time::Duration::from_secs(10);
    let harness = Harness::start().await;
    let (customer, _) = harness.register("赵六", "13600136000").await;
    let pops = async_graphql::Request::new(
        r#"subscription { screenPop(agent: "agent-0042") { contactId customer { id } } }"#,
    )
    .data(caller(Role::Agent));
    let mut pops = harness.schema.execute_stream(pops);
    let activity = async_graphql::Request::new(format!(
        r#"subscription {{ customerActivity(customerId: "{customer}") {{ eventType }} }}"#
    ))
    .data(caller(Role::Supervisor));
    let mut activity = harness.schema.execute_stream(activity);
    // Let both subscriptions start (they subscribe when first polled) before the contact is
    // written.
    let silence = std::time::Duration::from_millis(500);
    assert!(next_within(&mut pops, silence).await.is_none());
    assert!(next_within(&mut activity, silence).await.is_none());

    harness
        .record_contact(Role::Agent, &customer, "PHONE", "agent-0042", "来电")
        .await;
    let pop = next_within(&mut pops, wait).await.expect("a screen pop");
    assert!(pop.errors.is_empty(), "{:?}", pop.errors);
    let delivered = next_within(&mut activity, wait).await.expect("activity");
    assert!(delivered.errors.is_empty(), "{:?}", delivered.errors);

    let page = access_log(&harness, json!({ "customer": customer })).await;
    let mut recorded = entries(&page);
    recorded.sort();
    let mut expected = vec![
        entry(Role::Agent, "screenPop"),
        entry(Role::Supervisor, "customerActivity"),
    ];
    expected.sort();
    assert_eq!(recorded, expected);
    harness.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_read_that_cannot_be_recorded_is_refused() {
    let faults = ledger_store::Faults::new();
    let harness = Harness::start_with_store(
        ledger_graphql::ApiOptions::default(),
        ledger_store::StoreOptions {
            faults: faults.clone(),
            ..ledger_store::StoreOptions::default()
        },
    )
    .await;
    let (customer, position) = harness.register("钱七", "13500135000").await;
    let read = format!(r#"{{ customer(id: "{customer}") {{ name }} }}"#);
    let response = harness.run_consistent(Role::Agent, &read, &position).await;
    assert!(response.errors.is_empty(), "{:?}", response.errors);

    // The next commit of access records fails: the access log refuses every later record.
    faults.arm(
        ledger_store::FaultPoint::AccessWrite,
        ledger_store::FaultMode::Once,
    );
    let failed = harness
        .run_with(Role::Auditor, ACCESS_LOG, json!({ "customer": customer }))
        .await;
    assert_eq!(codes(&failed), ["UNAVAILABLE"]);

    // The agent's read is refused rather than served unrecorded; the analyst's masked read,
    // which is not recorded, is still served.
    let refused = harness.run(Role::Agent, &read).await;
    assert_eq!(codes(&refused), ["UNAVAILABLE"]);
    assert_eq!(data(refused)["customer"], Value::Null);
    let masked = harness.run(Role::Analyst, &read).await;
    assert!(masked.errors.is_empty(), "{:?}", masked.errors);
    assert!(
        harness.ledger.close().await.is_err(),
        "close reports the failed commit"
    );
}

/// A web-shop lead from nobody known that a customer's contact answered is that customer's
/// (erased with them): reading its name and mobile from the raw event (`events`, the
/// `ledgerEvents` feed) or from the call-back queue (`followUp.details`) is a recorded read of
/// the customer. A lead nobody's contact names has no customer to record it under.
#[tokio::test(flavor = "multi_thread")]
async fn reading_a_lead_a_customers_contact_answered_is_a_recorded_read_of_the_customer() {
    let wait = std::time::Duration::from_secs(10);
    let harness = Harness::start().await;
    let (customer, _) = harness.register("孙七", "13900139007").await;
    let lead = |mobile: &str| {
        format!(
            r#"mutation {{ recordEnquiry(input: {{ channel: WEB, mobile: "{mobile}", name: "孙七",
                message: "想问续保" }}) {{ id }} }}"#
        )
    };
    let answered =
        text(&harness.mutate(Role::Agent, &lead("13600136007")).await["recordEnquiry"]["id"]);
    let unanswered =
        text(&harness.mutate(Role::Agent, &lead("13600136008")).await["recordEnquiry"]["id"]);
    // The customer rings about the lead they left before they were known.
    harness
        .mutate(
            Role::Agent,
            &format!(
                r#"mutation {{ recordContact(input: {{ customerId: "{customer}", channel: PHONE,
                direction: INBOUND, agent: "agent-0042", startedAt: "2025-03-02T08:00:00Z",
                durationSeconds: 60, topic: ENQUIRY, summary: "问咨询进度", outcome: RESOLVED,
                enquiryId: "{answered}" }}) {{ position }} }}"#
            ),
        )
        .await;
    assert!(
        entries(&access_log(&harness, json!({ "customer": customer })).await).is_empty(),
        "nothing read yet"
    );

    let events = |enquiry: &str| {
        format!(r#"{{ events(stream: "enquiry-{enquiry}") {{ edges {{ node {{ payload }} }} }} }}"#)
    };
    for (enquiry, mobile) in [(&answered, "13600136007"), (&unanswered, "13600136008")] {
        let response = harness.run(Role::Auditor, &events(enquiry)).await;
        assert!(response.errors.is_empty(), "{:?}", response.errors);
        let payload = &data(response)["events"]["edges"][0]["node"]["payload"];
        assert_eq!(text(&payload["mobile"]), mobile, "{payload}");
        assert_eq!(text(&payload["name"]), "孙七", "{payload}");
    }
    assert_eq!(
        entries(&access_log(&harness, json!({ "customer": customer })).await),
        [entry(Role::Auditor, "ledgerEvent.payload")]
    );

    // The feed delivers both leads; the answered one's payload is recorded again.
    let feed = async_graphql::Request::new(
        r#"subscription { ledgerEvents(afterPosition: "0", types: ["OnlineEnquiryReceived"]) {
            payload } }"#,
    )
    .data(caller(Role::Auditor));
    let mut feed = harness.schema.execute_stream(feed);
    for _ in 0..2 {
        let delivered = next_within(&mut feed, wait).await.expect("a lead");
        assert!(delivered.errors.is_empty(), "{:?}", delivered.errors);
    }
    drop(feed);

    // Both leads await a call-back (the customer's call was inbound); the agent reads both.
    let follow_ups = "{ followUps(first: 10) { edges { node { enquiryId details { mobile } } } } }";
    let response = harness.run(Role::Agent, follow_ups).await;
    assert!(response.errors.is_empty(), "{:?}", response.errors);
    let edges = data(response)["followUps"]["edges"].clone();
    assert_eq!(edges.as_array().map(Vec::len), Some(2), "{edges}");

    assert_eq!(
        entries(&access_log(&harness, json!({ "customer": customer })).await),
        [
            entry(Role::Agent, "followUp.details"),
            entry(Role::Auditor, "ledgerEvent.payload"),
            entry(Role::Auditor, "ledgerEvent.payload"),
        ]
    );
    // Nothing else was recorded for anyone: the unanswered lead has no customer.
    let agent = access_log(&harness, json!({ "subject": subject(Role::Agent) })).await;
    assert_eq!(entries(&agent), [entry(Role::Agent, "followUp.details")]);
    let auditor = access_log(&harness, json!({ "subject": subject(Role::Auditor) })).await;
    assert_eq!(entries(&auditor).len(), 2, "{auditor}");
    harness.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_case_or_claim_transition_answers_with_its_customer_as_a_recorded_read() {
    let harness = Harness::start().await;
    let (customer, _) = harness.register("王晓东", "18733026927").await;
    let open = format!(
        r#"mutation {{ openServiceCase(input: {{ customerId: "{customer}", kind: CONSULTATION,
            priority: NORMAL, subject: "咨询", channel: PHONE,
            deadline: "2030-03-02T08:00:00Z" }}) {{ id }} }}"#
    );
    let case = text(&harness.mutate(Role::Agent, &open).await["openServiceCase"]["id"]);
    // The command names only the case; its answer's customer is the case's.
    let assign = format!(
        r#"mutation {{ assignServiceCase(input: {{ caseId: "{case}", assignee: "agent-0098" }}) {{
            customer {{ id }} }} }}"#
    );
    let assigned = harness.mutate(Role::Supervisor, &assign).await;
    assert_eq!(
        text(&assigned["assignServiceCase"]["customer"]["id"]),
        customer
    );

    harness.issue_policy("PDAA2025220100002", &customer).await;
    let report = format!(
        r#"mutation {{ reportClaim(input: {{ claimNumber: "RDAA2025220100002",
            policyNumber: "PDAA2025220100002", customerId: "{customer}",
            lossOccurredAt: "2025-06-01T08:00:00Z", location: "长春", description: "追尾",
            reportedVia: PHONE, injuries: false }}) {{ id }} }}"#
    );
    harness.mutate(Role::Agent, &report).await;
    let survey = r#"mutation { surveyClaim(input: { claimNumber: "RDAA2025220100002",
        onSite: true, assessedLoss: "120000", findings: "后保险杠" }) { customer { id } } }"#;
    let surveyed = harness.mutate(Role::Admin, survey).await;
    assert_eq!(text(&surveyed["surveyClaim"]["customer"]["id"]), customer);

    let page = access_log(&harness, json!({ "customer": customer })).await;
    assert_eq!(
        entries(&page),
        [
            entry(Role::Admin, "recorded.customer"),
            entry(Role::Supervisor, "recorded.customer"),
        ]
    );
    harness.close().await;
}
