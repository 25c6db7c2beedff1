//! Analysts see personal data masked everywhere; the others see it as written.

use ledger_graphql::{ApiOptions, Role, build_schema};

use crate::support::{Harness, assert_invalid, caller, codes, data, next_within, text};

#[tokio::test(flavor = "multi_thread")]
async fn the_analyst_sees_masked_numbers_names_and_summaries() {
    let harness = Harness::start().await;
    let (customer, _) = harness.register("张三", "13800138000").await;
    let plate = format!(
        r#"mutation {{ addIdentifier(input: {{ customerId: "{customer}", identifier: {{ kind: PLATE, value: "吉A12345" }} }}) {{ position }} }}"#
    );
    harness.mutate(Role::Agent, &plate).await;
    let last = harness
        .record_contact(
            Role::Agent,
            &customer,
            "PHONE",
            "agent-0042",
            "张三 asked about 13800138000",
        )
        .await;

    let document = format!(
        r#"{{ customer(id: "{customer}") {{ name identifiers {{ kind value }}
            timeline(first: 1) {{ edges {{ node {{ kind summary agent }} }} }} }} }}"#
    );
    let masked = data(
        harness
            .run_consistent(Role::Analyst, &document, &last)
            .await,
    )["customer"]
        .clone();
    assert_eq!(text(&masked["name"]), "张*");
    let values: Vec<String> = masked["identifiers"]
        .as_array()
        .expect("identifiers")
        .iter()
        .map(|id| text(&id["value"]))
        .collect();
    assert!(values.contains(&"138****8000".to_owned()), "{values:?}");
    assert!(values.contains(&"吉A***45".to_owned()), "{values:?}");
    let entry = &masked["timeline"]["edges"][0]["node"];
    assert_eq!(entry["kind"], "ContactRecorded");
    assert_eq!(text(&entry["summary"]), "[masked]");
    assert_eq!(text(&entry["agent"]), "agent-0042");

    for role in [Role::Agent, Role::Supervisor, Role::Auditor, Role::Admin] {
        let plain = data(harness.run_consistent(role, &document, &last).await)["customer"].clone();
        assert_eq!(text(&plain["name"]), "张三", "{role:?}");
        assert_eq!(
            text(&plain["timeline"]["edges"][0]["node"]["summary"]),
            "张三 asked about 13800138000"
        );
    }
    let viewer = data(
        harness
            .run(Role::Analyst, "{ viewer { role masked } }")
            .await,
    );
    assert_eq!(viewer["viewer"]["masked"], true);
    harness.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_analyst_cannot_look_customers_up_by_personal_data() {
    let harness = Harness::start().await;
    harness.register("张三", "13800138000").await;
    let by_phone = r#"{ customerByIdentifier(kind: MOBILE, value: "13800138000") { id } }"#;
    assert_eq!(
        codes(&harness.run(Role::Analyst, by_phone).await),
        ["FORBIDDEN"]
    );
    let by_name = r#"{ customers(search: "张", first: 5) { edges { node { id } } } }"#;
    assert_eq!(
        codes(&harness.run(Role::Analyst, by_name).await),
        ["FORBIDDEN"]
    );
    // Listing without a search is allowed, masked.
    let listing = r#"{ customers(first: 5) { edges { node { name } } } }"#;
    let response = harness.run(Role::Analyst, listing).await;
    assert!(response.errors.is_empty(), "{:?}", response.errors);
    harness.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_analyst_sees_a_policys_and_a_claims_stream_with_its_number_masked() {
    let wait = std::time::Duration::from_secs(10);
    let harness = Harness::start().await;
    let (customer, _) = harness.register("张三", "13800138000").await;
    let activity = format!(
        r#"subscription {{ customerActivity(customerId: "{customer}") {{ eventType stream }} }}"#
    );
    let mut analyst = harness
        .schema
        .execute_stream(async_graphql::Request::new(activity.clone()).data(caller(Role::Analyst)));
    let mut agent = harness
        .schema
        .execute_stream(async_graphql::Request::new(activity).data(caller(Role::Agent)));
    // Both subscriptions start (they subscribe when first polled) before anything is written.
    let silence = std::time::Duration::from_millis(500);
    assert!(next_within(&mut analyst, silence).await.is_none());
    assert!(next_within(&mut agent, silence).await.is_none());

    harness.issue_policy("PDAA2025220100001", &customer).await;
    let report = format!(
        r#"mutation {{ reportClaim(input: {{ claimNumber: "RDAA2025220100001",
            policyNumber: "PDAA2025220100001", customerId: "{customer}",
            lossOccurredAt: "2025-06-01T08:00:00Z", location: "长春", description: "追尾",
            reportedVia: PHONE, injuries: false }}) {{ position }} }}"#
    );
    harness.mutate(Role::Agent, &report).await;

    for (feed, streams) in [
        (
            &mut analyst,
            ["policy-*************0001", "claim-*************0001"],
        ),
        (
            &mut agent,
            ["policy-PDAA2025220100001", "claim-RDAA2025220100001"],
        ),
    ] {
        for stream in streams {
            let delivered = next_within(feed, wait).await.expect("a delivery");
            assert!(delivered.errors.is_empty(), "{:?}", delivered.errors);
            assert_eq!(text(&data(delivered)["customerActivity"]["stream"]), stream);
        }
    }
    harness.close().await;
}

/// A customer with every kind of identifier the directory links (mobile, plate, VIN, policy
/// and claim numbers), two claims, a service case and a contact; a campaign and a process.
/// Returns the customer's id.
async fn customer_with_identifiers_and_claims(harness: &Harness) -> String {
    let (customer, _) = harness.register("张三", "13800138000").await;
    let plate = format!(
        r#"mutation {{ addIdentifier(input: {{ customerId: "{customer}", identifier: {{ kind: PLATE, value: "吉A12345" }} }}) {{ position }} }}"#
    );
    harness.mutate(Role::Agent, &plate).await;
    harness.issue_policy("PDAA2025220100001", &customer).await;
    for claim in ["RDAA2025220100007", "RDAA2025220100008"] {
        let report = format!(
            r#"mutation {{ reportClaim(input: {{ claimNumber: "{claim}",
                policyNumber: "PDAA2025220100001", customerId: "{customer}",
                lossOccurredAt: "2025-06-01T08:00:00Z", location: "长春", description: "追尾",
                reportedVia: PHONE, injuries: false }}) {{ position }} }}"#
        );
        harness.mutate(Role::Agent, &report).await;
    }
    let case = format!(
        r#"mutation {{ openServiceCase(input: {{ customerId: "{customer}", kind: CONSULTATION,
            priority: NORMAL, subject: "理赔进度", channel: PHONE, claimNumber: "RDAA2025220100007",
            deadline: "2030-03-02T08:00:00Z" }}) {{ id }} }}"#
    );
    harness.mutate(Role::Agent, &case).await;
    harness
        .record_contact(Role::Agent, &customer, "PHONE", "agent-0042", "理赔进度")
        .await;
    harness
        .mutate(Role::Admin, r#"mutation { launchCampaign(input: { name: "续保季", budget: "100000", channels: [PHONE], targetSegment: "renewal-due-30d", periodStart: "2025-03-01", periodEnd: "2030-03-31", owner: "mkt-01" }) { id } }"#)
        .await;
    harness
        .mutate(Role::Admin, r#"mutation { publishProcess(input: { title: "理赔", department: "客服", version: 1, owner: "ops-01" }) { id } }"#)
        .await;
    customer
}

/// Every run of at least `IDENTIFIER_DIGITS_MIN` digits in the customer's identifiers as an
/// agent reads them: what a masked caller must not be able to learn.
const IDENTIFIER_DIGITS_MIN: usize = 5;

async fn identifier_digit_runs(harness: &Harness, customer: &str) -> Vec<String> {
    let document = format!(
        r#"{{ customer(id: "{customer}") {{ knownIdentifiers(first: 50) {{ edges {{ node {{ value }} }} }} }} }}"#
    );
    let known = data(harness.run(Role::Agent, &document).await);
    let mut runs = Vec::new();
    for edge in known["customer"]["knownIdentifiers"]["edges"]
        .as_array()
        .expect("edges")
    {
        let value = text(&edge["node"]["value"]);
        for run in value.split(|character: char| !character.is_ascii_digit()) {
            if run.len() >= IDENTIFIER_DIGITS_MIN {
                runs.push(run.to_owned());
            }
        }
    }
    runs
}

/// `cursor` and what it reads as when decoded as hex (each run of hex digits on its own, as a
/// `tag:hex` cursor holds them) or as base64 (either alphabet).
fn cursor_readings(cursor: &str) -> Vec<String> {
    use base64::Engine as _;
    let mut readings = vec![cursor.to_owned()];
    for run in cursor.split(|character: char| !character.is_ascii_hexdigit()) {
        if run.len() >= 2 && run.len() % 2 == 0 {
            let bytes: Vec<u8> = (0..run.len())
                .step_by(2)
                .map(|at| u8::from_str_radix(&run[at..at + 2], 16).expect("hex digits"))
                .collect();
            readings.push(String::from_utf8_lossy(&bytes).into_owned());
        }
    }
    for engine in [
        base64::engine::general_purpose::URL_SAFE_NO_PAD,
        base64::engine::general_purpose::STANDARD_NO_PAD,
    ] {
        if let Ok(bytes) = engine.decode(cursor.trim_end_matches('=')) {
            readings.push(String::from_utf8_lossy(&bytes).into_owned());
        }
    }
    readings
}

/// Asserts that no reading of `cursor` holds any of `secrets`.
#[track_caller]
fn assert_reveals_none(listing: &str, cursor: &str, secrets: &[String]) {
    for reading in cursor_readings(cursor) {
        for secret in secrets {
            assert!(
                !reading.contains(secret.as_str()),
                "{listing}: the cursor {cursor:?} reads as {reading:?}, which holds {secret}"
            );
        }
    }
}

/// Every string under a `cursor`, `startCursor` or `endCursor` key in `value`.
fn cursors_in(value: &serde_json::Value, found: &mut Vec<String>) {
    match value {
        serde_json::Value::Object(fields) => {
            for (key, field) in fields {
                if matches!(key.as_str(), "cursor" | "startCursor" | "endCursor")
                    && let Some(cursor) = field.as_str()
                {
                    found.push(cursor.to_owned());
                }
                cursors_in(field, found);
            }
        }
        serde_json::Value::Array(items) => items.iter().for_each(|item| cursors_in(item, found)),
        _ => {}
    }
}

/// The listing's object (the first object under `data` that has `pageInfo` or `endCursor`).
fn listing_in(value: &serde_json::Value) -> Option<&serde_json::Value> {
    let fields = value.as_object()?;
    if fields.contains_key("pageInfo") || fields.contains_key("endCursor") {
        return Some(value);
    }
    fields.values().find_map(listing_in)
}

#[tokio::test(flavor = "multi_thread")]
async fn the_analysts_cursors_reveal_no_identifier_and_page_as_the_others_do() {
    let harness = Harness::start().await;
    let customer = customer_with_identifiers_and_claims(&harness).await;
    let secrets = identifier_digit_runs(&harness, &customer).await;
    for expected in [
        "13800138000",
        "12345",
        "2184847",
        "2025220100001",
        "2025220100007",
    ] {
        assert!(secrets.contains(&expected.to_owned()), "{secrets:?}");
    }
    let process = text(
        &data(
            harness
                .run(
                    Role::Analyst,
                    "{ processes(first: 1) { edges { node { id } } } }",
                )
                .await,
        )["processes"]["edges"][0]["node"]["id"],
    );
    let today = jiff::Zoned::now().date();
    let (from, to) = (
        today.yesterday().expect("a date"),
        today.tomorrow().expect("a date"),
    );
    let page =
        "pageInfo { hasNextPage endCursor startCursor } edges { cursor node { __typename } }";
    // Every connection an analyst reaches (the auditors' `events` and `accessLog` are never
    // masked), with `{after}` where the next page's argument goes; `true` where the setup
    // gives it a second page, which must then be the same page the supervisor reads.
    let listings: Vec<(&str, String, bool)> = vec![
        (
            "knownIdentifiers",
            format!(
                r#"customer(id: "{customer}") {{ knownIdentifiers(first: 1 {{after}}) {{ {page} }} }}"#
            ),
            true,
        ),
        (
            "timeline",
            format!(
                r#"customer(id: "{customer}") {{ timeline(first: 1 {{after}}) {{ {page} }} }}"#
            ),
            true,
        ),
        (
            "serviceHistory",
            format!(
                r#"customer(id: "{customer}") {{ serviceHistory(first: 1 {{after}}) {{ {page} }} }}"#
            ),
            true,
        ),
        (
            "claims",
            format!(r#"customer(id: "{customer}") {{ claims(first: 1 {{after}}) {{ {page} }} }}"#),
            true,
        ),
        (
            "customers",
            format!("customers(first: 1 {{after}}) {{ {page} }}"),
            false,
        ),
        (
            "customers.segment",
            format!(r#"customers(segment: "key-accounts", first: 1 {{after}}) {{ {page} }}"#),
            false,
        ),
        (
            "serviceCases",
            format!("serviceCases(first: 1 {{after}}) {{ {page} }}"),
            false,
        ),
        (
            "claimsPastGuarantee",
            format!("claimsPastGuarantee(first: 1 {{after}}) {{ {page} }}"),
            false,
        ),
        (
            "segment.members",
            format!(
                r#"segment(name: "key-accounts") {{ members(first: 1 {{after}}) {{ {page} }} }}"#
            ),
            false,
        ),
        (
            "campaigns",
            format!("campaigns(first: 1 {{after}}) {{ {page} }}"),
            false,
        ),
        (
            "followUps",
            format!("followUps(first: 1 {{after}}) {{ {page} }}"),
            false,
        ),
        (
            "agentStats",
            format!(r#"agentStats(from: "{from}", to: "{to}", first: 1 {{after}}) {{ {page} }}"#),
            false,
        ),
        (
            "managerStats",
            format!(r#"managerStats(from: "{from}", to: "{to}", first: 1 {{after}}) {{ {page} }}"#),
            false,
        ),
        (
            "processes",
            format!("processes(first: 1 {{after}}) {{ {page} }}"),
            false,
        ),
        (
            "processNetwork.orphans",
            format!("processNetwork {{ orphans(first: 1 {{after}}) {{ {page} }} }}"),
            false,
        ),
        (
            "processNetwork.brokenLinks",
            format!("processNetwork {{ brokenLinks(first: 1 {{after}}) {{ {page} }} }}"),
            false,
        ),
        (
            "process.trainingCoverage",
            format!(
                r#"process(id: "{process}") {{ trainingCoverage(first: 1 {{after}}) {{ endCursor hasNextPage }} }}"#
            ),
            false,
        ),
    ];
    let mut sealed_listings = Vec::new();
    for (listing, selection, paged) in &listings {
        let read = |role: Role, after: Option<&str>| {
            let argument = after
                .map(|cursor| format!(r#", after: "{cursor}""#))
                .unwrap_or_default();
            let document = format!("{{ {} }}", selection.replace("{after}", &argument));
            let harness = &harness;
            async move {
                let response = harness.run(role, &document).await;
                assert!(
                    response.errors.is_empty(),
                    "{listing} as {role:?}: {:?}",
                    response.errors
                );
                data(response)
            }
        };
        let (analyst, supervisor) = (
            read(Role::Analyst, None).await,
            read(Role::Supervisor, None).await,
        );
        let (mut analyst_cursors, mut supervisor_cursors) = (Vec::new(), Vec::new());
        cursors_in(&analyst, &mut analyst_cursors);
        cursors_in(&supervisor, &mut supervisor_cursors);
        assert_eq!(analyst_cursors.len(), supervisor_cursors.len(), "{listing}");
        for cursor in &analyst_cursors {
            assert_reveals_none(listing, cursor, &secrets);
            assert!(
                !supervisor_cursors.contains(cursor),
                "{listing}: {cursor:?} is not sealed"
            );
        }
        if !analyst_cursors.is_empty() {
            sealed_listings.push(*listing);
        }
        let (analyst_page, supervisor_page) = (
            listing_in(&analyst).expect("a page"),
            listing_in(&supervisor).expect("a page"),
        );
        let end = |page: &serde_json::Value| {
            page.get("pageInfo").unwrap_or(page)["endCursor"]
                .as_str()
                .map(str::to_owned)
        };
        assert_eq!(
            *paged,
            analyst_page["pageInfo"]["hasNextPage"] == true,
            "{listing}: {analyst_page}"
        );
        // Each cursor goes back as `after`: the analyst's next page is the supervisor's.
        if let (Some(analyst_end), Some(supervisor_end)) = (end(analyst_page), end(supervisor_page))
        {
            let analyst_next = read(Role::Analyst, Some(&analyst_end)).await;
            let supervisor_next = read(Role::Supervisor, Some(&supervisor_end)).await;
            let shape = |page: &serde_json::Value| {
                let page = listing_in(page).expect("a page").clone();
                (
                    page["edges"].clone().as_array().map(|edges| {
                        edges
                            .iter()
                            .map(|edge| edge["node"].clone())
                            .collect::<Vec<_>>()
                    }),
                    page.get("pageInfo").unwrap_or(&page)["hasNextPage"].clone(),
                )
            };
            assert_eq!(shape(&analyst_next), shape(&supervisor_next), "{listing}");
            let mut next_cursors = Vec::new();
            cursors_in(&analyst_next, &mut next_cursors);
            for cursor in &next_cursors {
                assert_reveals_none(listing, cursor, &secrets);
            }
        }
    }
    for listing in [
        "knownIdentifiers",
        "timeline",
        "serviceHistory",
        "claims",
        "customers",
        "serviceCases",
        "campaigns",
        "agentStats",
        "processes",
    ] {
        assert!(
            sealed_listings.contains(&listing),
            "{listing} gave no cursor to check: {sealed_listings:?}"
        );
    }
    harness.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_analysts_cursors_page_through_identifiers_and_claims_as_an_agents_do() {
    let harness = Harness::start().await;
    let customer = customer_with_identifiers_and_claims(&harness).await;
    let secrets = identifier_digit_runs(&harness, &customer).await;
    // Page by page, one item a page: the masked values end as the agent's do, in the same order.
    for (listing, node) in [
        ("knownIdentifiers", "kind value"),
        ("claims", "number status"),
        (
            "serviceHistory",
            "__typename ... on Claim { number } ... on ServiceCase { id }",
        ),
    ] {
        let mut pages: Vec<Vec<serde_json::Value>> = Vec::new();
        for role in [Role::Analyst, Role::Agent] {
            let mut nodes = Vec::new();
            let mut after = String::new();
            loop {
                let document = format!(
                    r#"{{ customer(id: "{customer}") {{ {listing}(first: 1 {after}) {{
                        pageInfo {{ hasNextPage endCursor }} edges {{ cursor node {{ {node} }} }} }} }} }}"#
                );
                let response = harness.run(role, &document).await;
                assert!(
                    response.errors.is_empty(),
                    "{listing} as {role:?}: {:?}",
                    response.errors
                );
                let page = data(response)["customer"][listing].clone();
                let end = text(&page["pageInfo"]["endCursor"]);
                if role == Role::Analyst {
                    assert_reveals_none(listing, &end, &secrets);
                    assert_reveals_none(listing, &text(&page["edges"][0]["cursor"]), &secrets);
                }
                nodes.push(page["edges"][0]["node"].clone());
                if page["pageInfo"]["hasNextPage"] != true {
                    break;
                }
                after = format!(r#", after: "{end}""#);
                assert!(nodes.len() < 20, "{listing} pages on for ever");
            }
            pages.push(nodes);
        }
        let (analyst, agent) = (&pages[0], &pages[1]);
        assert!(agent.len() >= 2, "{listing}: {agent:?}");
        assert_eq!(
            analyst.len(),
            agent.len(),
            "{listing}: {analyst:?} {agent:?}"
        );
        for (masked, plain) in analyst.iter().zip(agent) {
            for (field, value) in masked.as_object().expect("a node") {
                let (masked, plain) = (text(value), text(&plain[field]));
                let shown = masked.rsplit('*').next().unwrap_or_default();
                assert!(
                    plain.ends_with(shown),
                    "{listing}.{field}: {masked} vs {plain}"
                );
                if field == "value" || field == "number" {
                    assert!(
                        masked.contains('*'),
                        "{listing}.{field}: {masked} is masked"
                    );
                }
            }
        }
    }

    // The timeline pages back with `before` as well.
    let timeline = |arguments: &str| {
        format!(
            r#"{{ customer(id: "{customer}") {{ timeline({arguments}) {{
                pageInfo {{ endCursor startCursor }} edges {{ cursor node {{ kind occurredAt }} }} }} }} }}"#
        )
    };
    let mut entries = Vec::new();
    for role in [Role::Analyst, Role::Agent] {
        let first =
            data(harness.run(role, &timeline("first: 1")).await)["customer"]["timeline"].clone();
        let end = text(&first["pageInfo"]["endCursor"]);
        let second = data(
            harness
                .run(role, &timeline(&format!(r#"first: 1, after: "{end}""#)))
                .await,
        )["customer"]["timeline"]
            .clone();
        let start = text(&second["pageInfo"]["startCursor"]);
        let back = harness
            .run(role, &timeline(&format!(r#"last: 1, before: "{start}""#)))
            .await;
        assert!(back.errors.is_empty(), "{role:?}: {:?}", back.errors);
        let back = data(back)["customer"]["timeline"].clone();
        assert_eq!(
            back["edges"][0]["node"], first["edges"][0]["node"],
            "{role:?}"
        );
        entries.push((
            first["edges"][0]["node"].clone(),
            second["edges"][0]["node"].clone(),
        ));
    }
    assert_eq!(entries[0], entries[1]);
    harness.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_cursor_that_does_not_open_is_refused_naming_its_argument() {
    let harness = Harness::start().await;
    let customer = customer_with_identifiers_and_claims(&harness).await;
    let page = |arguments: &str| {
        format!(
            r#"{{ customer(id: "{customer}") {{ knownIdentifiers({arguments}) {{ pageInfo {{ endCursor }} edges {{ node {{ kind }} }} }}
                timeline: timeline(first: 1) {{ pageInfo {{ endCursor }} }} }} }}"#
        )
    };
    let analyst = data(harness.run(Role::Analyst, &page("first: 1")).await)["customer"].clone();
    let sealed = text(&analyst["knownIdentifiers"]["pageInfo"]["endCursor"]);
    let agent = data(harness.run(Role::Agent, &page("first: 1")).await)["customer"].clone();
    let plain = text(&agent["knownIdentifiers"]["pageInfo"]["endCursor"]);

    // Altered in the middle, or an agent's cursor (the plain key) sent by an analyst.
    let mut altered = sealed.clone().into_bytes();
    let middle = altered.len() / 2;
    altered[middle] = if altered[middle] == b'A' { b'B' } else { b'A' };
    let altered = String::from_utf8(altered).expect("base64url");
    for cursor in [
        altered.as_str(),
        plain.as_str(),
        "6d6f62696c653a3133383030313338303030",
    ] {
        let response = harness
            .run(
                Role::Analyst,
                &page(&format!(r#"first: 1, after: "{cursor}""#)),
            )
            .await;
        assert_invalid(&response, "after");
        let message = &response.errors[0].message;
        assert!(
            message.contains("start again from the first page"),
            "{message}"
        );
    }
    let timeline = format!(
        r#"{{ customer(id: "{customer}") {{ timeline(last: 1, before: "{altered}") {{ edges {{ cursor }} }} }} }}"#
    );
    assert_invalid(&harness.run(Role::Analyst, &timeline).await, "before");

    // An agent's cursors are the read model's, as before: they page on, and a sealed one
    // (an analyst's) is not one the agent's listing returned.
    let next = harness
        .run(
            Role::Agent,
            &page(&format!(r#"first: 1, after: "{plain}""#)),
        )
        .await;
    assert!(next.errors.is_empty(), "{:?}", next.errors);
    assert_invalid(
        &harness
            .run(
                Role::Agent,
                &page(&format!(r#"first: 1, after: "{sealed}""#)),
            )
            .await,
        "after",
    );
    harness.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_signing_key_keeps_the_analysts_cursors_across_schemas_and_a_random_key_does_not() {
    let key = ledger_proof::parse_signing_key(&"11".repeat(32)).expect("a key");
    let options = || ApiOptions {
        checkpoint_key: Some(key.clone()),
        ..ApiOptions::default()
    };
    let harness = Harness::start_with(options()).await;
    let customer = customer_with_identifiers_and_claims(&harness).await;
    let page = |arguments: &str| {
        format!(
            r#"{{ customer(id: "{customer}") {{ knownIdentifiers({arguments}) {{ pageInfo {{ endCursor }} edges {{ node {{ kind }} }} }} }} }}"#
        )
    };
    let first = data(harness.run(Role::Analyst, &page("first: 1")).await);
    let sealed = text(&first["customer"]["knownIdentifiers"]["pageInfo"]["endCursor"]);
    let next = page(&format!(r#"first: 1, after: "{sealed}""#));
    // Another schema over the same ledger, as after a restart: with the same signing key the
    // cursor still opens; with none (a random key) it is refused.
    let restarted = build_schema(harness.ledger.clone(), options());
    let response = restarted
        .execute(async_graphql::Request::new(next.as_str()).data(caller(Role::Analyst)))
        .await;
    assert!(response.errors.is_empty(), "{:?}", response.errors);
    let unkeyed = build_schema(harness.ledger.clone(), ApiOptions::default());
    let response = unkeyed
        .execute(async_graphql::Request::new(next.as_str()).data(caller(Role::Analyst)))
        .await;
    assert_invalid(&response, "after");
    harness.close().await;
}
