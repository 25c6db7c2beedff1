//! Analysts see personal data masked everywhere; the others see it as written.

use ledger_graphql::Role;

use crate::support::{Harness, caller, codes, data, next_within, text};

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
