//! A call-centre day: register, record, find by phone, read your writes; idempotent retries and
//! version conflicts.

use ledger_graphql::Role;

use crate::support::{Harness, assert_invalid, codes, data, extension, text};

#[tokio::test(flavor = "multi_thread")]
async fn an_agent_finds_a_caller_by_phone_in_another_format_and_sees_every_channel_newest_first() {
    let harness = Harness::start().await;
    let (customer, _) = harness.register("张三", "13800138000").await;
    let mut last = String::new();
    for channel in ["PHONE", "WECHAT", "EMAIL", "WALK_IN"] {
        last = harness
            .record_contact(
                Role::Agent,
                &customer,
                channel,
                "agent-0042",
                "asked about renewal",
            )
            .await;
    }

    let document = r#"{ customerByIdentifier(kind: MOBILE, value: "+86 138-0013-8000") {
        id name identifiers { kind value }
        timeline(first: 10, kinds: ["ContactRecorded"]) { totalCount edges { node { channel agent summary } } }
    } }"#;
    let response = harness.run_consistent(Role::Agent, document, &last).await;
    assert!(response.errors.is_empty(), "{:?}", response.errors);
    let found = &data(response)["customerByIdentifier"];
    assert_eq!(text(&found["id"]), customer);
    assert_eq!(text(&found["name"]), "张三");
    assert_eq!(text(&found["identifiers"][0]["value"]), "13800138000");
    let channels: Vec<String> = found["timeline"]["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|edge| text(&edge["node"]["channel"]))
        .collect();
    assert_eq!(channels, ["WALK_IN", "EMAIL", "WECHAT", "PHONE"]);
    // Four contacts and the registration.
    assert_eq!(found["timeline"]["totalCount"], 5);
    assert_eq!(
        text(&found["timeline"]["edges"][0]["node"]["summary"]),
        "asked about renewal"
    );
    harness.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_mutation_answers_with_the_customer_after_its_write() {
    let harness = Harness::start().await;
    let data = harness
        .mutate(
            Role::Agent,
            r#"mutation { registerCustomer(input: { kind: CORPORATE, name: "长春一汽物流有限公司",
                identifiers: [{ kind: SOCIAL_CREDIT_CODE, value: "91350100m000100y43" }] }) {
                id stream streamVersion eventTypes customer { id name identifiers { kind value } } } }"#,
        )
        .await;
    let recorded = &data["registerCustomer"];
    assert_eq!(recorded["customer"]["id"], recorded["id"]);
    assert_eq!(
        text(&recorded["stream"]),
        format!("customer-{}", text(&recorded["id"]))
    );
    assert_eq!(text(&recorded["streamVersion"]), "1");
    assert_eq!(recorded["eventTypes"][0], "CustomerRegistered");
    assert_eq!(
        text(&recorded["customer"]["identifiers"][0]["value"]),
        "91350100M000100Y43"
    );
    harness.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_retried_mutation_with_the_same_event_id_returns_the_same_position() {
    let harness = Harness::start().await;
    let event_id = "0190a5e2-8c3b-7d4e-9f00-00000000e001";
    let register = format!(
        r#"mutation {{ registerCustomer(input: {{ kind: INDIVIDUAL, name: "李四" }}, eventId: "{event_id}") {{
            id position duplicate }} }}"#
    );
    let first = harness.mutate(Role::Agent, &register).await;
    let retry = harness.mutate(Role::Agent, &register).await;
    assert_eq!(
        first["registerCustomer"]["position"],
        retry["registerCustomer"]["position"]
    );
    // Without a customerId, the id comes from the event id, so the retry names the same customer.
    assert_eq!(
        first["registerCustomer"]["id"],
        retry["registerCustomer"]["id"]
    );
    assert_eq!(first["registerCustomer"]["duplicate"], false);
    assert_eq!(retry["registerCustomer"]["duplicate"], true);

    let customer = text(&first["registerCustomer"]["id"]);
    let contact = format!(
        r#"mutation {{ recordContact(input: {{ customerId: "{customer}", channel: PHONE, direction: INBOUND,
            startedAt: "2025-03-01T08:00:00Z", durationSeconds: 60, topic: COMPLAINT, summary: "late survey",
            outcome: FOLLOW_UP_NEEDED }}, eventId: "0190a5e2-8c3b-7d4e-9f00-00000000e002") {{ id position duplicate }} }}"#
    );
    let once = harness.mutate(Role::Agent, &contact).await;
    let again = harness.mutate(Role::Agent, &contact).await;
    assert_eq!(
        once["recordContact"]["position"],
        again["recordContact"]["position"]
    );
    assert_eq!(once["recordContact"]["id"], again["recordContact"]["id"]);
    assert_eq!(again["recordContact"]["duplicate"], true);
    assert_eq!(harness.event_count().await, "2");
    harness.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stale_expected_version_is_a_conflict() {
    let harness = Harness::start().await;
    let (customer, _) = harness.register("王五", "13900139000").await;
    harness
        .record_contact(Role::Agent, &customer, "PHONE", "agent-0042", "first call")
        .await;
    let stale = format!(
        r#"mutation {{ addIdentifier(input: {{ customerId: "{customer}", identifier: {{ kind: PLATE, value: "吉A·12345" }} }},
            expectedVersion: "1") {{ position }} }}"#
    );
    let response = harness.run(Role::Agent, &stale).await;
    assert_eq!(codes(&response), ["CONFLICT"]);
    let error = &response.errors[0];
    assert_eq!(extension(error, "expected").as_deref(), Some("1"));
    assert_eq!(extension(error, "actual").as_deref(), Some("2"));
    assert_eq!(
        extension(error, "stream"),
        Some(format!("customer-{customer}"))
    );
    let current = stale.replace(r#"expectedVersion: "1""#, r#"expectedVersion: "2""#);
    harness.mutate(Role::Agent, &current).await;
    harness.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_bad_value_is_a_validation_error_naming_the_input_field_and_the_domain_rule() {
    let harness = Harness::start().await;
    let response = harness
        .run(
            Role::Agent,
            r#"mutation { registerCustomer(input: { kind: INDIVIDUAL, name: "赵六",
                identifiers: [{ kind: MOBILE, value: "13800138000" }, { kind: VIN, value: "LSVAM4188C2184847" }] }) { id } }"#,
        )
        .await;
    assert_eq!(codes(&response), ["VALIDATION"]);
    let error = &response.errors[0];
    assert_eq!(
        extension(error, "field").as_deref(),
        Some("input.identifiers[1].value")
    );
    assert_eq!(
        extension(error, "rule").as_deref(),
        Some("the check digit (the 9th character) should be 7")
    );

    let with_variables = harness
        .run_with(
            Role::Agent,
            "mutation Register($input: RegisterCustomerInput!) { registerCustomer(input: $input) { id } }",
            serde_json::json!({ "input": { "kind": "INDIVIDUAL", "name": "赵六", "address": "bell\u{7}" } }),
        )
        .await;
    assert_invalid(&with_variables, "input.address");

    let response = harness
        .run(Role::Agent, r#"{ customer(id: "42") { id } }"#)
        .await;
    assert_eq!(codes(&response), ["VALIDATION"]);
    let response = harness
        .run(
            Role::Agent,
            r#"{ customerByIdentifier(kind: MOBILE, value: "12345") { id } }"#,
        )
        .await;
    assert_invalid(&response, "value");
    harness.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_command_the_state_does_not_allow_is_rejected_or_not_found() {
    let harness = Harness::start().await;
    let (customer, _) = harness.register("孙七", "13600136000").await;
    let again = format!(
        r#"mutation {{ registerCustomer(input: {{ customerId: "{customer}", kind: INDIVIDUAL, name: "孙七" }}) {{ id }} }}"#
    );
    let response = harness.run(Role::Agent, &again).await;
    assert_eq!(codes(&response), ["REJECTED"]);
    assert_eq!(
        extension(&response.errors[0], "reason").as_deref(),
        Some("ALREADY_EXISTS")
    );
    let resolve = r#"mutation { resolveServiceCase(input: { caseId: "0190a5e2-8c3b-7d4e-9f00-0000000000ca", resolution: "done" }) { id } }"#;
    assert_eq!(
        codes(&harness.run(Role::Agent, resolve).await),
        ["NOT_FOUND"]
    );
    harness.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_case_opened_in_a_call_shows_in_the_queue_and_the_customers_history() {
    let harness = Harness::start().await;
    let (customer, _) = harness.register("周八", "13500135000").await;
    harness.issue_policy("PDAA2025220100001", &customer).await;
    let open = format!(
        r#"mutation {{ openServiceCase(input: {{ customerId: "{customer}", kind: COMPLAINT, priority: HIGH,
            subject: "survey delayed", channel: PHONE, deadline: "2030-03-02T08:00:00Z", policyNumber: "PDAA2025220100001" }}) {{
            id position serviceCase {{ id status kind priority breached customer {{ name }} }} }} }}"#
    );
    let data_open = harness.mutate(Role::Agent, &open).await;
    let recorded = &data_open["openServiceCase"];
    assert_eq!(recorded["serviceCase"]["id"], recorded["id"]);
    assert_eq!(recorded["serviceCase"]["status"], "OPEN");
    assert_eq!(recorded["serviceCase"]["breached"], false);
    assert_eq!(recorded["serviceCase"]["customer"]["name"], "周八");
    let position = text(&recorded["position"]);

    let queue = r#"{ serviceCases(status: OPEN, first: 10) { edges { node { id customer { name } policyNumber subject resolution } } } }"#;
    let response = harness
        .run_consistent(Role::Supervisor, queue, &position)
        .await;
    assert!(response.errors.is_empty(), "{:?}", response.errors);
    let edges = data(response)["serviceCases"]["edges"].clone();
    assert_eq!(edges[0]["node"]["id"], recorded["id"]);
    assert_eq!(edges[0]["node"]["policyNumber"], "PDAA2025220100001");
    // A supervisor's queue says what each case is about.
    assert_eq!(edges[0]["node"]["subject"], "survey delayed");
    assert!(edges[0]["node"]["resolution"].is_null());

    let history = format!(
        r#"{{ customer(id: "{customer}") {{ serviceHistory(first: 5) {{ edges {{ node {{ __typename ... on ServiceCase {{ id }} }} }} }} }} }}"#
    );
    let response = harness
        .run_consistent(Role::Agent, &history, &position)
        .await;
    let node = data(response)["customer"]["serviceHistory"]["edges"][0]["node"].clone();
    assert_eq!(node["__typename"], "ServiceCase");
    assert_eq!(node["id"], recorded["id"]);

    let case = text(&recorded["id"]);
    let resolved = harness
        .mutate(
            Role::Agent,
            &format!(
                r#"mutation {{ resolveServiceCase(input: {{ caseId: "{case}", resolution: "已重新安排查勘" }}) {{ position }} }}"#
            ),
        )
        .await;
    let position = text(&resolved["resolveServiceCase"]["position"]);
    let case_text = format!(
        r#"{{ customer(id: "{customer}") {{ serviceHistory(first: 5) {{ edges {{ node {{ ... on ServiceCase {{ subject resolution }} }} }} }} }} }}"#
    );
    let shown = |response: async_graphql::Response| {
        assert!(response.errors.is_empty(), "{:?}", response.errors);
        data(response)["customer"]["serviceHistory"]["edges"][0]["node"].clone()
    };
    let agent = shown(
        harness
            .run_consistent(Role::Agent, &case_text, &position)
            .await,
    );
    assert_eq!(
        agent,
        serde_json::json!({ "subject": "survey delayed", "resolution": "已重新安排查勘" })
    );
    let analyst = shown(
        harness
            .run_consistent(Role::Analyst, &case_text, &position)
            .await,
    );
    assert_eq!(
        analyst,
        serde_json::json!({ "subject": "[masked]", "resolution": "[masked]" })
    );

    // A case opened for a duplicate record, merged since: the queue links to the survivor,
    // who holds the whole history, and still says whom it was opened for.
    let (duplicate, _) = harness.register("周 八", "13500135001").await;
    let opened = harness
        .mutate(
            Role::Agent,
            &format!(
                r#"mutation {{ openServiceCase(input: {{ customerId: "{duplicate}", kind: CONSULTATION, priority: NORMAL,
                subject: "续保咨询", channel: PHONE, deadline: "2030-03-02T08:00:00Z" }}) {{ id }} }}"#
            ),
        )
        .await;
    let duplicate_case = text(&opened["openServiceCase"]["id"]);
    let merged = harness
        .mutate(
            Role::Admin,
            &format!(
                r#"mutation {{ mergeCustomers(input: {{ customerId: "{duplicate}", survivorId: "{customer}" }}) {{ position }} }}"#
            ),
        )
        .await;
    let position = text(&merged["mergeCustomers"]["position"]);
    let linked = r#"{ serviceCases(status: OPEN, first: 10) { edges { node { id customerId customer { id mergedInto } } } } }"#;
    let response = harness
        .run_consistent(Role::Supervisor, linked, &position)
        .await;
    assert!(response.errors.is_empty(), "{:?}", response.errors);
    let edges = data(response)["serviceCases"]["edges"].clone();
    let node = edges
        .as_array()
        .expect("edges")
        .iter()
        .map(|edge| &edge["node"])
        .find(|node| node["id"] == duplicate_case.as_str())
        .expect("the duplicate's case is open")
        .clone();
    assert_eq!(
        node,
        serde_json::json!({ "id": duplicate_case, "customerId": duplicate,
            "customer": { "id": customer, "mergedInto": null } })
    );
    harness.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_contact_entered_after_the_fact_is_dated_when_it_happened() {
    let harness = Harness::start().await;
    let (customer, _) = harness.register("钱八", "13500135000").await;
    // A WeChat chat of 2025-06-01, entered months later (补录).
    let data = harness
        .mutate(
            Role::Agent,
            &format!(
                r#"mutation {{ recordContact(input: {{ customerId: "{customer}", channel: WECHAT, direction: INBOUND,
                    agent: "agent-0042", startedAt: "2025-06-01T10:00:00+08:00", durationSeconds: 60, topic: ENQUIRY,
                    summary: "补录: 六月微信咨询", outcome: RESOLVED }}) {{ position }} }}"#
            ),
        )
        .await;
    let position = text(&data["recordContact"]["position"]);
    let document = format!(
        r#"{{ customer(id: "{customer}") {{
            june: timeline(first: 10, from: "2025-06-01T00:00:00+08:00", to: "2025-06-02T00:00:00+08:00") {{
                edges {{ node {{ kind occurredAt summary contactId }} }} }}
            newest: timeline(first: 1) {{ edges {{ node {{ kind }} }} }} }} }}"#
    );
    let response = harness
        .run_consistent(Role::Agent, &document, &position)
        .await;
    assert!(response.errors.is_empty(), "{:?}", response.errors);
    let found = &self::data(response)["customer"];
    let june = found["june"]["edges"].as_array().expect("edges");
    assert_eq!(june.len(), 1, "{found}");
    // Dated when it ended: start + 60 s.
    assert_eq!(text(&june[0]["node"]["occurredAt"]), "2025-06-01T02:01:00Z");
    // The registration, recorded now, is the newest entry; the old chat sits in June.
    assert_eq!(
        text(&found["newest"]["edges"][0]["node"]["kind"]),
        "CustomerRegistered"
    );

    // The date was mistyped: the chat was on 1 May. Corrected (by a supervisor), it moves to
    // May.
    let contact = text(&june[0]["node"]["contactId"]);
    let data = harness
        .mutate(
            Role::Supervisor,
            &format!(
                r#"mutation {{ correctContact(input: {{ contactId: "{contact}", customerId: "{customer}", channel: WECHAT,
                    direction: INBOUND, agent: "agent-0042", startedAt: "2025-05-01T10:00:00+08:00", durationSeconds: 60,
                    topic: ENQUIRY, summary: "补录: 五月微信咨询", outcome: RESOLVED, reason: "日期录错" }}) {{ position }} }}"#
            ),
        )
        .await;
    let position = text(&data["correctContact"]["position"]);
    let document = document.replace("june:", "may: timeline(first: 10, from: \"2025-05-01T00:00:00+08:00\", to: \"2025-05-02T00:00:00+08:00\") { edges { node { kind occurredAt summary corrected } } } june:");
    let response = harness
        .run_consistent(Role::Agent, &document, &position)
        .await;
    assert!(response.errors.is_empty(), "{:?}", response.errors);
    let found = &self::data(response)["customer"];
    assert_eq!(
        found["june"]["edges"].as_array().map(Vec::len),
        Some(0),
        "{found}"
    );
    let may = &found["may"]["edges"][0]["node"];
    assert_eq!(text(&may["occurredAt"]), "2025-05-01T02:01:00Z", "{found}");
    assert_eq!(may["corrected"], true);
    assert_eq!(text(&may["summary"]), "补录: 五月微信咨询");

    // A contact cannot end in the future: it has not happened yet.
    let started = jiff::Timestamp::now() - jiff::SignedDuration::from_secs(60);
    let response = harness
        .run(
            Role::Agent,
            &format!(
                r#"mutation {{ recordContact(input: {{ customerId: "{customer}", channel: PHONE, direction: INBOUND,
                    agent: "agent-0042", startedAt: "{started}", durationSeconds: 3600, topic: ENQUIRY,
                    summary: "仍在通话", outcome: RESOLVED }}) {{ position }} }}"#
            ),
        )
        .await;
    assert_invalid(&response, "input.durationSeconds");
    harness.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_required_text_is_written_out_not_blank() {
    let harness = Harness::start().await;
    let (customer, _) = harness.register("孙九", "13400134000").await;
    let started = jiff::Timestamp::now() - jiff::SignedDuration::from_secs(120);
    let deadline = jiff::Timestamp::now() + jiff::SignedDuration::from_hours(48);
    for (field, document) in [
        (
            "input.summary",
            format!(
                r#"mutation {{ recordContact(input: {{ customerId: "{customer}", channel: PHONE, direction: INBOUND,
                    agent: "agent-0042", startedAt: "{started}", durationSeconds: 60, topic: ENQUIRY,
                    summary: "  \n ", outcome: RESOLVED }}) {{ position }} }}"#
            ),
        ),
        (
            "input.comment",
            format!(
                r#"mutation {{ recordSatisfaction(input: {{ customerId: "{customer}", csat: 4, comment: " " }}) {{ position }} }}"#
            ),
        ),
        (
            "input.subject",
            format!(
                r#"mutation {{ openServiceCase(input: {{ customerId: "{customer}", kind: COMPLAINT, priority: HIGH,
                    subject: "", channel: PHONE, deadline: "{deadline}" }}) {{ position }} }}"#
            ),
        ),
    ] {
        let response = harness.run(Role::Agent, &document).await;
        assert_invalid(&response, field);
    }
    assert_eq!(harness.event_count().await, "1");
    harness.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_call_back_queue_shows_whom_to_call_and_masks_it_for_analysts() {
    let harness = Harness::start().await;
    let sent = harness
        .mutate(
            Role::Agent,
            r#"mutation { recordEnquiry(input: { channel: WEB, mobile: "13700137000", name: "周十",
                plate: "吉A12345", message: "想问续保价格" }) { position } }"#,
        )
        .await;
    let position = text(&sent["recordEnquiry"]["position"]);
    let document = "{ followUps(first: 10) { edges { node {
        customerId details { name mobile plate message erased } } } } }";
    let details = |response: async_graphql::Response| {
        assert!(response.errors.is_empty(), "{:?}", response.errors);
        data(response)["followUps"]["edges"][0]["node"]["details"].clone()
    };
    let agent = details(
        harness
            .run_consistent(Role::Agent, document, &position)
            .await,
    );
    assert_eq!(
        agent,
        serde_json::json!({ "name": "周十", "mobile": "13700137000", "plate": "吉A12345",
            "message": "想问续保价格", "erased": false })
    );
    let analyst = details(
        harness
            .run_consistent(Role::Analyst, document, &position)
            .await,
    );
    assert_eq!(
        analyst,
        serde_json::json!({ "name": "周*", "mobile": "137****7000", "plate": "吉A***45",
            "message": "[masked]", "erased": false })
    );
    harness.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_event_id_reused_for_another_command_is_refused_not_taken_for_a_retry() {
    let harness = Harness::start().await;
    let (customer, _) = harness.register("吴十一", "13300133000").await;
    let event_id = "0190a5e2-8c3b-7d4e-9f00-00000000e101";
    let started = jiff::Timestamp::now() - jiff::SignedDuration::from_secs(300);
    let contact = |summary: &str| {
        format!(
            r#"mutation {{ recordContact(input: {{ customerId: "{customer}", channel: PHONE, direction: INBOUND,
                agent: "agent-0042", startedAt: "{started}", durationSeconds: 60, topic: ENQUIRY,
                summary: "{summary}", outcome: RESOLVED }}, eventId: "{event_id}") {{ position duplicate }} }}"#
        )
    };
    let first = harness.mutate(Role::Agent, &contact("问续保")).await;
    // The same command again is a retry.
    let retry = harness.mutate(Role::Agent, &contact("问续保")).await;
    assert_eq!(retry["recordContact"]["duplicate"], true);
    assert_eq!(
        retry["recordContact"]["position"],
        first["recordContact"]["position"]
    );
    // Another contact, or another command, under the same id is refused: taking it for a
    // retry would drop it silently.
    let other_contact = harness.run(Role::Agent, &contact("问理赔")).await;
    let withdrawal = harness
        .run(
            Role::Agent,
            &format!(
                r#"mutation {{ changeConsent(input: {{ customerId: "{customer}", channel: WECHAT, granted: false }},
                    eventId: "{event_id}") {{ position duplicate }} }}"#
            ),
        )
        .await;
    // A contact under the id that registered the customer: the stream as it stood before the
    // registration cannot decide it, the stream now yields another type of event.
    let registration = "0190a5e2-8c3b-7d4e-9f00-00000000e102";
    let registered = harness
        .mutate(
            Role::Agent,
            &format!(
                r#"mutation {{ registerCustomer(input: {{ kind: INDIVIDUAL, name: "吴十二" }}, eventId: "{registration}") {{ id }} }}"#
            ),
        )
        .await;
    let newcomer = text(&registered["registerCustomer"]["id"]);
    let under_registration = harness
        .run(
            Role::Agent,
            &format!(
                r#"mutation {{ recordContact(input: {{ customerId: "{newcomer}", channel: PHONE, direction: INBOUND,
                    agent: "agent-0042", startedAt: "{started}", durationSeconds: 60, topic: ENQUIRY,
                    summary: "首次来电", outcome: RESOLVED }}, eventId: "{registration}") {{ position duplicate }} }}"#
            ),
        )
        .await;
    // Once the customer is erased, what is not personal still tells another contact apart.
    harness
        .mutate(
            Role::Admin,
            &format!(
                r#"mutation {{ eraseCustomer(input: {{ customerId: "{customer}", reason: CUSTOMER_REQUEST }}) {{ position }} }}"#
            ),
        )
        .await;
    let after_erasure = harness
        .run(Role::Agent, &contact("问续保").replace("PHONE", "WECHAT"))
        .await;
    for refused in [other_contact, withdrawal, under_registration, after_erasure] {
        assert_invalid(&refused, "eventId");
        assert!(
            refused.errors[0]
                .message
                .contains("already recorded another command"),
            "{:?}",
            refused.errors
        );
    }
    // The same contact after the erasure is still its retry.
    let retry = harness.mutate(Role::Agent, &contact("问续保")).await;
    assert_eq!(retry["recordContact"]["duplicate"], true);
    // The registration and contact, the second registration, the erasure.
    assert_eq!(harness.event_count().await, "4");
    harness.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_agent_sees_the_callers_policies_and_what_they_cover() {
    let harness = Harness::start().await;
    let (customer, _) = harness.register("郑十二", "13200132000").await;
    let today = jiff::Timestamp::now()
        .to_zoned(jiff::tz::TimeZone::fixed(jiff::tz::offset(8)))
        .date();
    let issue = |number: &str, start: jiff::civil::Date, lines: &str, premium: &str| {
        let end = start
            .checked_add(jiff::Span::new().years(1))
            .and_then(|date| date.yesterday())
            .expect("a year on");
        format!(
            r#"mutation {{ issuePolicy(input: {{ policyNumber: "{number}", customerId: "{customer}",
                productLines: [{lines}], plate: "吉A12345", vin: "LSVAM4187C2184847", premium: "{premium}",
                periodStart: "{start}", periodEnd: "{end}", salesChannel: PHONE }}) {{ position }} }}"#
        )
    };
    let started = today
        .checked_sub(jiff::Span::new().days(30))
        .expect("a date");
    let starts = today
        .checked_add(jiff::Span::new().days(20))
        .expect("a date");
    harness
        .mutate(
            Role::Admin,
            &issue(
                "PXA2026220100000077",
                started,
                "COMPULSORY_TRAFFIC, COMMERCIAL_THIRD_PARTY_LIABILITY",
                "365000",
            ),
        )
        .await;
    let last = harness
        .mutate(
            Role::Admin,
            &issue("PXA2026220100000088", starts, "COMPULSORY_TRAFFIC", "95000"),
        )
        .await;
    let position = text(&last["issuePolicy"]["position"]);
    let document = format!(
        r#"{{ customer(id: "{customer}") {{ policies {{ number holderId state periodStart periodEnd
            premium productLines endedOn }} }} }}"#
    );
    let policies = |response: async_graphql::Response| {
        assert!(response.errors.is_empty(), "{:?}", response.errors);
        data(response)["customer"]["policies"].clone()
    };
    let seen = policies(
        harness
            .run_consistent(Role::Agent, &document, &position)
            .await,
    );
    assert_eq!(seen.as_array().map(Vec::len), Some(2), "{seen}");
    assert_eq!(text(&seen[0]["number"]), "PXA2026220100000077");
    assert_eq!(text(&seen[0]["holderId"]), customer);
    assert_eq!(seen[0]["state"], "IN_FORCE");
    assert_eq!(text(&seen[0]["periodStart"]), started.to_string());
    assert_eq!(text(&seen[0]["premium"]), "365000");
    assert_eq!(
        seen[0]["productLines"],
        serde_json::json!(["COMPULSORY_TRAFFIC", "COMMERCIAL_THIRD_PARTY_LIABILITY"])
    );
    assert!(seen[0]["endedOn"].is_null());
    assert_eq!(seen[1]["state"], "NOT_STARTED");
    // Analysts see the cover, not the numbers.
    let masked = policies(
        harness
            .run_consistent(Role::Analyst, &document, &position)
            .await,
    );
    assert_ne!(text(&masked[0]["number"]), "PXA2026220100000077");
    assert!(text(&masked[0]["number"]).ends_with("0077"), "{masked}");
    assert_eq!(masked[0]["premium"], seen[0]["premium"]);
    // Renewed ahead of time: the cover in force still shows, not next year's.
    let next_start = seen[0]["periodEnd"]
        .as_str()
        .unwrap()
        .parse::<jiff::civil::Date>()
        .unwrap()
        .tomorrow()
        .unwrap();
    let next_end = next_start
        .checked_add(jiff::Span::new().years(1))
        .and_then(|date| date.yesterday())
        .unwrap();
    let renewed = harness
        .mutate(
            Role::Admin,
            &format!(
                r#"mutation {{ renewPolicy(input: {{ policyNumber: "PXA2026220100000077", productLines: [COMPULSORY_TRAFFIC],
                    premium: "99000", periodStart: "{next_start}", periodEnd: "{next_end}", salesChannel: PHONE }}) {{ position }} }}"#
            ),
        )
        .await;
    let seen = policies(
        harness
            .run_consistent(
                Role::Agent,
                &document,
                &text(&renewed["renewPolicy"]["position"]),
            )
            .await,
    );
    assert_eq!(seen[0]["state"], "IN_FORCE", "{seen}");
    assert_eq!(text(&seen[0]["periodStart"]), started.to_string());
    assert_eq!(text(&seen[0]["premium"]), "365000");
    // Cancelled today: no longer in force, and the day it ended.
    let cancelled = harness
        .mutate(
            Role::Admin,
            &format!(
                r#"mutation {{ cancelPolicy(input: {{ policyNumber: "PXA2026220100000077", cancelledOn: "{today}",
                    reason: CUSTOMER_REQUEST, refund: "0" }}) {{ position }} }}"#
            ),
        )
        .await;
    let seen = policies(
        harness
            .run_consistent(
                Role::Agent,
                &document,
                &text(&cancelled["cancelPolicy"]["position"]),
            )
            .await,
    );
    assert_eq!(seen[0]["state"], "CANCELLED");
    assert_eq!(text(&seen[0]["endedOn"]), today.to_string());
    harness.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn correcting_a_name_keeps_the_group_and_null_removes_it() {
    let harness = Harness::start().await;
    let registered = harness
        .mutate(
            Role::Agent,
            r#"mutation { registerCustomer(input: { kind: INDIVIDUAL, name: "王小二", group: "中国第一汽车集团有限公司",
                address: "长春市" }) { id } }"#,
        )
        .await;
    let customer = text(&registered["registerCustomer"]["id"]);
    let update = |fields: &str| {
        format!(
            r#"mutation {{ updateProfile(input: {{ customerId: "{customer}", {fields} }}) {{
                customer {{ name group }} }} }}"#
        )
    };
    let renamed = harness
        .mutate(Role::Agent, &update(r#"name: "王晓二""#))
        .await;
    assert_eq!(
        renamed["updateProfile"]["customer"],
        serde_json::json!({ "name": "王晓二", "group": "中国第一汽车集团有限公司" })
    );
    let left_the_group = harness.mutate(Role::Agent, &update("group: null")).await;
    assert_eq!(
        left_the_group["updateProfile"]["customer"],
        serde_json::json!({ "name": "王晓二", "group": null })
    );
    // A customer always has a name: null is refused, not ignored.
    let nameless = harness.run(Role::Agent, &update("name: null")).await;
    assert_invalid(&nameless, "input.name");
    harness.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_held_identifier_that_a_policy_also_names_is_linked_in_both_lists() {
    let harness = Harness::start().await;
    let registered = harness
        .mutate(
            Role::Agent,
            r#"mutation { registerCustomer(input: { kind: INDIVIDUAL, name: "郑九",
                identifiers: [{ kind: PLATE, value: "吉A12345" }, { kind: MOBILE, value: "13500135009" }] }) { id } }"#,
        )
        .await;
    let customer = text(&registered["registerCustomer"]["id"]);
    let position = harness.issue_policy("PDAA2025220100009", &customer).await;
    let document = format!(
        r#"{{ customer(id: "{customer}") {{ identifiers {{ kind value held linked }}
            knownIdentifiers(first: 20) {{ edges {{ node {{ kind value held linked }} }} }} }} }}"#
    );
    let response = harness
        .run_consistent(Role::Agent, &document, &position)
        .await;
    assert!(response.errors.is_empty(), "{:?}", response.errors);
    let found = data(response)["customer"].clone();
    let held = found["identifiers"]
        .as_array()
        .expect("identifiers")
        .clone();
    let known: Vec<serde_json::Value> = found["knownIdentifiers"]["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|edge| edge["node"].clone())
        .collect();
    let plate =
        serde_json::json!({ "kind": "PLATE", "value": "吉A12345", "held": true, "linked": true });
    assert!(held.contains(&plate), "{found}");
    // Every held identifier reads the same in both lists.
    for identifier in &held {
        assert!(known.contains(identifier), "{identifier} in {found}");
    }
    harness.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_deadline_in_working_hours_is_the_business_calendars_everywhere() {
    let harness = Harness::start().await;
    let (customer, _) = harness.register("冯十", "13500135010").await;
    let open = |deadline: &str| {
        format!(
            r#"mutation {{ openServiceCase(input: {{ customerId: "{customer}", kind: COMPLAINT, priority: HIGH,
            subject: "查勘迟到", channel: PHONE, deadlineWorkingHours: 8{deadline} }}) {{
            position serviceCase {{ openedAt deadline deadlineWorkingHours }} }} }}"#
        )
    };
    let opened = harness.mutate(Role::Agent, &open("")).await;
    let case = &opened["openServiceCase"]["serviceCase"];
    let opened_at: jiff::Timestamp = text(&case["openedAt"]).parse().unwrap();
    let calendar = service_history::BusinessCalendar::shipped().unwrap();
    let expected = calendar.add_working_hours(opened_at, 8).unwrap();
    assert_eq!(text(&case["deadline"]), expected.to_string(), "{case}");
    assert_eq!(case["deadlineWorkingHours"], 8);

    // An instant that the calendar does not agree with is refused, naming the calendar's.
    let wrong = jiff::Timestamp::now() + jiff::SignedDuration::from_hours(8 * 24);
    let refused = harness
        .run(Role::Agent, &open(&format!(r#", deadline: "{wrong}""#)))
        .await;
    assert_invalid(&refused, "input.deadline");
    assert!(
        refused.errors[0]
            .message
            .contains("8 working hours from now"),
        "{:?}",
        refused.errors
    );
    harness.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_call_back_of_a_merged_customers_enquiry_leads_to_the_survivor() {
    let harness = Harness::start().await;
    let (survivor, _) = harness.register("卫十一", "13500135011").await;
    let (duplicate, _) = harness.register("卫 十一", "13500135012").await;
    let sent = harness
        .mutate(
            Role::Agent,
            &format!(
                r#"mutation {{ recordEnquiry(input: {{ customerId: "{duplicate}", channel: WEB, mobile: "13500135012",
                message: "想问续保" }}) {{ id }} }}"#
            ),
        )
        .await;
    let enquiry = text(&sent["recordEnquiry"]["id"]);
    let merged = harness
        .mutate(
            Role::Admin,
            &format!(
                r#"mutation {{ mergeCustomers(input: {{ customerId: "{duplicate}", survivorId: "{survivor}" }}) {{ position }} }}"#
            ),
        )
        .await;
    let position = text(&merged["mergeCustomers"]["position"]);
    let queue =
        "{ followUps(first: 10) { edges { node { enquiryId customerId customer { id } } } } }";
    let response = harness
        .run_consistent(Role::Supervisor, queue, &position)
        .await;
    assert!(response.errors.is_empty(), "{:?}", response.errors);
    assert_eq!(
        data(response)["followUps"]["edges"][0]["node"],
        serde_json::json!({ "enquiryId": enquiry, "customerId": duplicate, "customer": { "id": survivor } })
    );
    harness.close().await;
}
