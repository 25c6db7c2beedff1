//! The read models of Projections II through the API, on a small synthetic book (300 customers
//! over two years): segments and their members, campaigns, the call-back queue, contact
//! statistics and agent statistics, with their access rules, masking and page limits.

use std::time::Duration;

use ledger_graphql::Role;
use ledger_store::{AppendRequest, EventLog, ExpectedVersion, NewEvent};
use ledger_synth::{SynthConfig, SyntheticEvent};
use serde_json::Value;

use crate::support::{Harness, assert_invalid, codes, data, text};

/// How long the runner may take to fold the synthetic book (a few thousand events).
const FOLD_WAIT: Duration = Duration::from_secs(30);

/// Requests per bulk append, as `contact-ledger seed` sends them.
const APPEND_CHUNK_REQUESTS: usize = 4096;

/// The history covers two years ending 2026-11-01; these bounds hold all of it.
const HISTORY_FROM: &str = "2024-01-01T00:00:00Z";
const HISTORY_TO: &str = "2027-01-01T00:00:00Z";

fn request(synthetic: SyntheticEvent) -> AppendRequest {
    let event = NewEvent {
        event_id: synthetic.event_id,
        event_type: synthetic.event.event_type().to_owned(),
        schema_version: synthetic.event.schema_version(),
        occurred_at: synthetic.occurred_at,
        actor: synthetic.actor,
        correlation_id: None,
        causation_id: None,
        origin: Some("synthetic".to_owned()),
        payload: synthetic.event.encode_payload(),
    };
    AppendRequest {
        stream: synthetic.stream,
        expected: ExpectedVersion::Any,
        events: vec![event],
    }
}

/// A ledger holding the synthetic book, every read model caught up; and how many
/// `ContactRecorded` events the book holds.
async fn seeded() -> (Harness, u64) {
    let harness = Harness::start().await;
    let config = SynthConfig {
        customers: 300,
        years: 2,
        seed: 3,
        ..SynthConfig::default()
    };
    let events: Vec<SyntheticEvent> = ledger_synth::generate(&config).collect();
    let contacts = events
        .iter()
        .filter(|synthetic| synthetic.event.event_type() == "ContactRecorded")
        .count();
    let mut requests = events.into_iter().map(request).peekable();
    while requests.peek().is_some() {
        let chunk: Vec<AppendRequest> = requests.by_ref().take(APPEND_CHUNK_REQUESTS).collect();
        for outcome in harness
            .ledger
            .log()
            .append_many(chunk)
            .await
            .expect("the store appends")
        {
            outcome.expect("the store accepts a generated event");
        }
    }
    let head = harness.ledger.log().head().position;
    harness
        .ledger
        .runner()
        .wait_for(head, FOLD_WAIT, None)
        .await
        .expect("the read models fold the book");
    (harness, u64::try_from(contacts).expect("a count"))
}

/// Runs `document` as `role` and returns its data, failing on any error.
async fn query(harness: &Harness, role: Role, document: &str) -> Value {
    let response = harness.run(role, document).await;
    assert!(
        response.errors.is_empty(),
        "{document}: {:?}",
        response.errors
    );
    data(response)
}

fn number(value: &Value) -> f64 {
    value
        .as_f64()
        .unwrap_or_else(|| panic!("{value} is not a number"))
}

fn count(value: &Value) -> u64 {
    value
        .as_u64()
        .unwrap_or_else(|| panic!("{value} is not a count"))
}

#[tokio::test(flavor = "multi_thread")]
async fn segments_cut_the_book_into_key_accounts_and_group_customers() {
    let (harness, _) = seeded().await;

    // Given the book, when an analyst reads the segments, then key accounts hold at least 80%
    // of the premium and the carmaker group more than 60%.
    let segments = query(
        &harness,
        Role::Analyst,
        "{ segments { name description size shareOfCustomers shareOfPremium } }",
    )
    .await;
    let segments = segments["segments"].as_array().expect("a list").clone();
    let find = |name: &str| {
        segments
            .iter()
            .find(|segment| segment["name"] == name)
            .unwrap_or_else(|| panic!("no segment {name}"))
            .clone()
    };
    let key_accounts = find("key-accounts");
    assert!(count(&key_accounts["size"]) > 0, "{key_accounts}");
    assert!(
        number(&key_accounts["shareOfPremium"]) >= 0.8,
        "{key_accounts}"
    );
    let group = find("group-customers");
    assert!(number(&group["shareOfPremium"]) > 0.6, "{group}");

    // The analyst's members are masked; an admin sees the same members by name.
    let document = r#"{ segment(name: "key-accounts") { size shareOfCustomers shareOfPremium
        members(first: 10) { edges { node { customerId name metrics { premiumInForce inKeyAccounts } } } } } }"#;
    let masked = query(&harness, Role::Analyst, document).await;
    let plain = query(&harness, Role::Admin, document).await;
    let masked_members = masked["segment"]["members"]["edges"]
        .as_array()
        .expect("edges")
        .clone();
    let plain_members = plain["segment"]["members"]["edges"]
        .as_array()
        .expect("edges")
        .clone();
    assert!(!masked_members.is_empty());
    assert_eq!(masked_members.len(), plain_members.len());
    let mut named = 0;
    for (masked, plain) in masked_members.iter().zip(&plain_members) {
        let (masked, plain) = (&masked["node"], &plain["node"]);
        assert_eq!(masked["customerId"], plain["customerId"]);
        assert_eq!(masked["metrics"]["inKeyAccounts"], Value::Bool(true));
        if let Some(name) = plain["name"].as_str() {
            named += 1;
            assert_ne!(masked["name"].as_str(), Some(name), "{masked}");
        }
    }
    assert!(named > 0, "some key account has a name");

    // A key account's own screen shows its segments and metrics, to an agent too.
    let member = text(&plain_members[0]["node"]["customerId"]);
    let screen = query(
        &harness,
        Role::Agent,
        &format!(
            r#"{{ customer(id: "{member}") {{ segments metrics {{ inKeyAccounts premiumInForce contacts90d {{ channel count }} rfm {{ recency }} }} }} }}"#
        ),
    )
    .await;
    let customer = &screen["customer"];
    assert!(
        customer["segments"]
            .as_array()
            .expect("names")
            .contains(&Value::String("key-accounts".into())),
        "{customer}"
    );
    assert_eq!(customer["metrics"]["inKeyAccounts"], Value::Bool(true));

    // `customers(segment:)` pages the same members as customers.
    let customers = query(
        &harness,
        Role::Supervisor,
        r#"{ customers(segment: "key-accounts", first: 3) { edges { node { id } } pageInfo { hasNextPage } } }"#,
    )
    .await;
    let first_id = &customers["customers"]["edges"][0]["node"]["id"];
    assert_eq!(first_id, &plain_members[0]["node"]["customerId"]);

    // Agents may not list segments; an unknown segment is null; pages have a maximum.
    let refused = harness.run(Role::Agent, "{ segments { name } }").await;
    assert_eq!(codes(&refused), ["FORBIDDEN"]);
    let unknown = query(
        &harness,
        Role::Analyst,
        r#"{ segment(name: "nobody") { size } }"#,
    )
    .await;
    assert_eq!(unknown["segment"], Value::Null);
    let oversized = harness
        .run(
            Role::Analyst,
            r#"{ segment(name: "key-accounts") { members(first: 101) { edges { cursor } } } }"#,
        )
        .await;
    assert_invalid(&oversized, "first");
    harness.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn campaigns_list_their_touches_and_follow_ups_come_oldest_first() {
    let (harness, _) = seeded().await;

    let campaigns = query(
        &harness,
        Role::Analyst,
        "{ campaigns(first: 50) { edges { node { id name status touches touchesByChannel { channel count } cost premiumWon } } } }",
    )
    .await;
    let edges = campaigns["campaigns"]["edges"]
        .as_array()
        .expect("edges")
        .clone();
    assert!(!edges.is_empty(), "the book runs campaigns");
    assert!(
        edges.iter().any(|edge| count(&edge["node"]["touches"]) > 0),
        "{campaigns}"
    );
    let id = text(&edges[0]["node"]["id"]);
    let one = query(
        &harness,
        Role::Supervisor,
        &format!(r#"{{ campaign(id: "{id}") {{ id budget }} }}"#),
    )
    .await;
    assert_eq!(one["campaign"]["id"], Value::String(id));

    // Agents work the call-back queue: oldest enquiry first, each with its age.
    let queue = query(
        &harness,
        Role::Agent,
        "{ followUps(first: 100) { edges { node { enquiryId receivedAt ageSeconds channel } } } }",
    )
    .await;
    let edges = queue["followUps"]["edges"]
        .as_array()
        .expect("edges")
        .clone();
    assert!(!edges.is_empty(), "some enquiry awaits a call-back");
    let received: Vec<jiff::Timestamp> = edges
        .iter()
        .map(|edge| {
            text(&edge["node"]["receivedAt"])
                .parse()
                .expect("an instant")
        })
        .collect();
    assert!(
        received.windows(2).all(|pair| pair[0] <= pair[1]),
        "{received:?}"
    );
    let ages: Vec<u64> = edges
        .iter()
        .map(|edge| count(&edge["node"]["ageSeconds"]))
        .collect();
    assert!(ages.windows(2).all(|pair| pair[0] >= pair[1]), "{ages:?}");

    let refused = harness
        .run(Role::Agent, "{ campaigns { edges { cursor } } }")
        .await;
    assert_eq!(codes(&refused), ["FORBIDDEN"]);
    let oversized = harness
        .run(
            Role::Agent,
            "{ followUps(first: 101) { edges { cursor } } }",
        )
        .await;
    assert_eq!(codes(&oversized), ["VALIDATION"]);
    harness.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn channel_stats_count_every_contact_and_agent_stats_page() {
    let (harness, contacts) = seeded().await;

    let stats = query(
        &harness,
        Role::Analyst,
        &format!(
            r#"{{ channelStats(from: "{HISTORY_FROM}", to: "{HISTORY_TO}", bucket: MONTH) {{ start end channel contacts complaintRate }} }}"#
        ),
    )
    .await;
    let rows = stats["channelStats"].as_array().expect("rows").clone();
    assert!(!rows.is_empty());
    let counted: u64 = rows.iter().map(|row| count(&row["contacts"])).sum();
    assert_eq!(
        counted, contacts,
        "every ContactRecorded lands in one month bucket"
    );

    let document = |after: &str| {
        format!(
            r#"{{ agentStats(from: "2024-11-01", to: "2026-10-31", first: 2{after}) {{
                edges {{ cursor node {{ staff contacts csat {{ answers average }} premiumWon }} }}
                pageInfo {{ hasNextPage endCursor }} }} }}"#
        )
    };
    let first = query(&harness, Role::Supervisor, &document("")).await;
    let page = &first["agentStats"];
    assert_eq!(page["edges"].as_array().expect("edges").len(), 2);
    assert_eq!(page["pageInfo"]["hasNextPage"], Value::Bool(true));
    let cursor = text(&page["pageInfo"]["endCursor"]);
    let second = query(
        &harness,
        Role::Supervisor,
        &document(&format!(r#", after: "{cursor}""#)),
    )
    .await;
    let next = &second["agentStats"]["edges"][0]["node"]["staff"];
    assert!(
        page["edges"]
            .as_array()
            .expect("edges")
            .iter()
            .all(|edge| &edge["node"]["staff"] != next),
        "the second page continues after the first"
    );
    assert!(
        text(next) > text(&page["edges"][1]["node"]["staff"]),
        "staff-id order"
    );

    let refused = harness
        .run(
            Role::Agent,
            r#"{ agentStats(from: "2025-01-01", to: "2025-01-31") { edges { cursor } } }"#,
        )
        .await;
    assert_eq!(codes(&refused), ["FORBIDDEN"]);
    let oversized = harness
        .run(
            Role::Analyst,
            r#"{ agentStats(from: "2025-01-01", to: "2025-01-31", first: 101) { edges { cursor } } }"#,
        )
        .await;
    assert_eq!(codes(&oversized), ["VALIDATION"]);
    harness.close().await;
}

/// Who entered and left a segment between two dates: exactly the difference of the
/// memberships on those days.
#[tokio::test(flavor = "multi_thread")]
async fn segment_membership_changes_between_two_dates() {
    let (harness, _) = seeded().await;
    let mut memberships = Vec::new();
    for day in ["2026-06-01T00:00:00Z", "2026-09-01T00:00:00Z"] {
        let document = format!(
            r#"{{ segment(name: "renewal-due-30d", asOf: "{day}") {{ members(first: 100) {{ pageInfo {{ hasNextPage }} edges {{ node {{ customerId }} }} }} }} }}"#
        );
        let data = query(&harness, Role::Analyst, &document).await;
        let members = &data["segment"]["members"];
        assert_eq!(
            members["pageInfo"]["hasNextPage"], false,
            "one page holds the segment"
        );
        let ids: std::collections::BTreeSet<String> = members["edges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|edge| edge["node"]["customerId"].as_str().unwrap().to_owned())
            .collect();
        memberships.push(ids);
    }
    let (before, after) = (&memberships[0], &memberships[1]);
    let data = query(
        &harness,
        Role::Analyst,
        r#"{ segmentChanges(name: "renewal-due-30d", from: "2026-06-01T00:00:00Z", to: "2026-09-01T00:00:00Z") { segment entered left } }"#,
    )
    .await;
    let listed = |field: &str| -> std::collections::BTreeSet<String> {
        data["segmentChanges"][field]
            .as_array()
            .unwrap()
            .iter()
            .map(|id| id.as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(
        listed("entered"),
        after.difference(before).cloned().collect()
    );
    assert_eq!(listed("left"), before.difference(after).cloned().collect());
    assert!(
        !listed("entered").is_empty() && !listed("left").is_empty(),
        "renewals move customers in and out"
    );

    // The future is not known yet: a `to` past now is refused, naming `to`; a `from` before
    // the earliest day metrics are kept for names `from`.
    let ask = |from: &str, to: &str| {
        format!(
            r#"{{ segmentChanges(name: "key-accounts", from: "{from}", to: "{to}") {{ left }} }}"#
        )
    };
    let future = jiff::Timestamp::now() + jiff::SignedDuration::from_hours(24 * 365);
    let response = harness
        .run(
            Role::Analyst,
            &ask("2026-06-01T00:00:00Z", &future.to_string()),
        )
        .await;
    assert_invalid(&response, "to");
    let response = harness
        .run(
            Role::Analyst,
            &ask("1990-01-01T00:00:00Z", "2026-06-01T00:00:00Z"),
        )
        .await;
    assert_invalid(&response, "from");
    harness.close().await;
}

/// Every field of a timeline entry, some twice or under an alias, as a page's selection.
const ENTRY_FIELDS: &str = "__typename position eventId occurredAt kind title channel direction
    topic agent summary outcome policyNumber claimNumber caseId campaignId contactId amount
    durationSeconds csat nps recordedFor corrected erased again: title kind";

#[tokio::test(flavor = "multi_thread")]
async fn a_timeline_page_of_plain_fields_answers_as_one_through_fragments_does() {
    // Plain fields take the page's own resolution (`TimelineEdges`); a fragment anywhere in
    // the edge or the entry sends the page through async-graphql's. Both must give the same
    // answer, masked or not.
    let (harness, _) = seeded().await;
    let customers = query(
        &harness,
        Role::Agent,
        "{ customers(first: 20) { edges { node { id timeline(first: 1) { totalCount } } } } }",
    )
    .await;
    let busiest = customers["customers"]["edges"]
        .as_array()
        .expect("customers")
        .iter()
        .max_by_key(|edge| count(&edge["node"]["timeline"]["totalCount"]))
        .map(|edge| text(&edge["node"]["id"]))
        .expect("a customer");
    let page = |edge: &str| {
        format!(
            r#"{{ customer(id: "{busiest}") {{ timeline(first: 50) {{ edges {{ {edge} }} }} }} }}"#
        )
    };
    let plain = page(&format!(
        "__typename cursor node {{ {ENTRY_FIELDS} }} at: cursor"
    ));
    let through_fragments = [
        page(&format!(
            "__typename cursor node {{ ... on TimelineEntry {{ {ENTRY_FIELDS} }} }} at: cursor"
        )),
        format!(
            "{} fragment Edge on TimelineEdge {{ __typename cursor node {{ {ENTRY_FIELDS} }} }}",
            page("...Edge at: cursor")
        ),
    ];
    // An analyst's cursors are sealed with a fresh nonce each time one is resolved, so for
    // the analyst a cursor is compared as present, not by its text.
    let comparable = |role: Role, mut answer: Value| {
        if role == Role::Analyst {
            for edge in answer["customer"]["timeline"]["edges"]
                .as_array_mut()
                .expect("edges")
            {
                for key in ["cursor", "at"] {
                    assert!(edge[key].is_string(), "{edge}");
                    edge[key] = Value::from("sealed");
                }
            }
        }
        answer
    };
    for role in [Role::Agent, Role::Analyst] {
        let expected = comparable(role, query(&harness, role, &plain).await);
        let edges = expected["customer"]["timeline"]["edges"]
            .as_array()
            .expect("edges");
        assert_eq!(edges.len(), 50, "{role:?}");
        let node = &edges[0]["node"];
        assert_eq!(node["__typename"], "TimelineEntry");
        assert_eq!(node["again"], node["title"]);
        assert_eq!(edges[0]["at"], edges[0]["cursor"]);
        for document in &through_fragments {
            assert_eq!(
                comparable(role, query(&harness, role, document).await),
                expected,
                "{role:?}: {document}"
            );
        }
    }
    harness.close().await;
}
