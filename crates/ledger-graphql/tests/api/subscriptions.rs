//! Subscriptions: the event feed across catch-up and live, customer activity, screen pops.

use std::time::Duration;

use async_graphql::Request;
use ledger_graphql::Role;

use crate::support::{Harness, assert_invalid, caller, codes, data, next_within, text};

/// Long enough for a write to become durable and reach a subscriber on a busy test machine.
const DELIVERY_WAIT: Duration = Duration::from_secs(10);

/// Short enough to keep the test quick when checking that nothing more arrives.
const SILENCE_WAIT: Duration = Duration::from_millis(500);

#[tokio::test(flavor = "multi_thread")]
async fn ledger_events_deliver_every_record_once_across_catch_up_and_live() {
    let harness = Harness::start().await;
    let (first, _) = harness.register("张三", "13800138000").await;
    harness
        .record_contact(
            Role::Agent,
            &first,
            "PHONE",
            "agent-0042",
            "before subscribing",
        )
        .await;

    let request = Request::new(
        r#"subscription { ledgerEvents(afterPosition: "0") { position eventType stream } }"#,
    )
    .data(caller(Role::Auditor));
    let mut feed = harness.schema.execute_stream(request);
    let mut positions = Vec::new();
    for _ in 0..2 {
        let response = next_within(&mut feed, DELIVERY_WAIT)
            .await
            .expect("a caught-up event");
        assert!(response.errors.is_empty(), "{:?}", response.errors);
        positions.push(text(&data(response)["ledgerEvents"]["position"]));
    }
    // Live: written after the subscription caught up.
    let (second, _) = harness.register("李四", "13900139000").await;
    harness
        .record_contact(
            Role::Agent,
            &second,
            "WECHAT",
            "agent-0042",
            "after subscribing",
        )
        .await;
    for _ in 0..2 {
        let response = next_within(&mut feed, DELIVERY_WAIT)
            .await
            .expect("a live event");
        positions.push(text(&data(response)["ledgerEvents"]["position"]));
    }
    assert_eq!(positions, ["1", "2", "3", "4"]);
    assert!(
        next_within(&mut feed, SILENCE_WAIT).await.is_none(),
        "nothing more was written"
    );

    // A filtered feed from the middle.
    let request = Request::new(r#"subscription { ledgerEvents(afterPosition: "1", types: ["CustomerRegistered"]) { position } }"#)
        .data(caller(Role::Auditor));
    let mut registrations = harness.schema.execute_stream(request);
    let response = next_within(&mut registrations, DELIVERY_WAIT)
        .await
        .expect("the second registration");
    assert_eq!(text(&data(response)["ledgerEvents"]["position"]), "3");

    // A position past the head (a cursor of another ledger) is refused, not a feed that would
    // skip what comes before it; so is a page of events after it.
    let request =
        Request::new(r#"subscription { ledgerEvents(afterPosition: "99") { position } }"#)
            .data(caller(Role::Auditor));
    let mut refused = harness.schema.execute_stream(request);
    let response = next_within(&mut refused, DELIVERY_WAIT)
        .await
        .expect("a refusal");
    assert_invalid(&response, "afterPosition");
    let response = harness
        .run(
            Role::Auditor,
            r#"{ events(after: "99") { edges { cursor } } }"#,
        )
        .await;
    assert_invalid(&response, "after");
    harness.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_screen_pop_reaches_the_agent_who_handles_the_contact_and_nobody_else() {
    let harness = Harness::start().await;
    let (customer, _) = harness.register("张三", "13800138000").await;
    let request = Request::new(
        r#"subscription { screenPop(agent: "agent-0042") { contactId channel customer { id name } recentEntries { kind summary } } }"#,
    )
    .data(caller(Role::Agent));
    let mut pops = harness.schema.execute_stream(request);
    // Let the subscription start before anything is written, so it sees only what follows.
    assert!(next_within(&mut pops, SILENCE_WAIT).await.is_none());

    harness
        .record_contact(
            Role::Supervisor,
            &customer,
            "PHONE",
            "agent-0099",
            "for another agent",
        )
        .await;
    harness
        .record_contact(
            Role::Agent,
            &customer,
            "WECHAT",
            "agent-0042",
            "for this agent",
        )
        .await;
    let response = next_within(&mut pops, DELIVERY_WAIT)
        .await
        .expect("a screen pop");
    assert!(response.errors.is_empty(), "{:?}", response.errors);
    let pop = data(response)["screenPop"].clone();
    assert_eq!(pop["channel"], "WECHAT");
    assert_eq!(text(&pop["customer"]["id"]), customer);
    assert_eq!(pop["customer"]["name"], "张三");
    let entries = pop["recentEntries"].as_array().expect("entries");
    assert_eq!(entries.len(), 3, "the registration and both contacts");
    assert_eq!(entries[0]["summary"], "for this agent");
    assert!(
        next_within(&mut pops, SILENCE_WAIT).await.is_none(),
        "the other agent's contact pops nothing here"
    );

    // An agent may not watch another agent's screen.
    let spying = Request::new(r#"subscription { screenPop(agent: "agent-0099") { contactId } }"#)
        .data(caller(Role::Agent));
    let mut spying = harness.schema.execute_stream(spying);
    let refused = next_within(&mut spying, DELIVERY_WAIT)
        .await
        .expect("a refusal");
    assert_eq!(codes(&refused), ["FORBIDDEN"]);
    harness.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn customer_activity_follows_the_customer_and_those_merged_into_it() {
    let harness = Harness::start().await;
    let (survivor, _) = harness.register("张三", "13800138000").await;
    let (duplicate, _) = harness.register("张 三", "13900139000").await;
    let (stranger, position) = harness.register("李四", "13700137000").await;
    let request = Request::new(format!(r#"subscription {{ customerActivity(customerId: "{survivor}") {{ eventType customerId }} }}"#))
        .data(caller(Role::Analyst))
        .data(ledger_graphql::ConsistentWith(ledger_domain::ids::Position(position.parse().expect("a position"))));
    let mut activity = harness.schema.execute_stream(request);
    assert!(next_within(&mut activity, SILENCE_WAIT).await.is_none());

    let merge = format!(
        r#"mutation {{ mergeCustomers(input: {{ customerId: "{duplicate}", survivorId: "{survivor}" }}) {{ position }} }}"#
    );
    harness.mutate(Role::Admin, &merge).await;
    harness
        .record_contact(
            Role::Agent,
            &stranger,
            "PHONE",
            "agent-0042",
            "someone else",
        )
        .await;
    harness
        .record_contact(
            Role::Agent,
            &survivor,
            "PHONE",
            "agent-0042",
            "the survivor",
        )
        .await;
    let mut seen = Vec::new();
    for _ in 0..2 {
        let response = next_within(&mut activity, DELIVERY_WAIT)
            .await
            .expect("activity");
        assert!(response.errors.is_empty(), "{:?}", response.errors);
        let item = data(response)["customerActivity"].clone();
        seen.push((text(&item["eventType"]), text(&item["customerId"])));
    }
    assert_eq!(
        seen,
        [
            ("CustomersMerged".to_owned(), duplicate),
            ("ContactRecorded".to_owned(), survivor)
        ]
    );
    assert!(next_within(&mut activity, SILENCE_WAIT).await.is_none());
    harness.close().await;
}
