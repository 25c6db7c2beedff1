//! The auditor's view: the head, the raw log, verification, and a timeline as of the past.

use ledger_graphql::Role;

use crate::support::{Harness, assert_invalid, codes, data, text};

#[tokio::test(flavor = "multi_thread")]
async fn the_auditor_verifies_the_ledger_and_reads_the_raw_log() {
    let harness = Harness::start().await;
    let (customer, registered) = harness.register("张三", "13800138000").await;
    harness
        .record_contact(Role::Agent, &customer, "PHONE", "agent-0042", "first")
        .await;
    let last = harness
        .record_contact(Role::Agent, &customer, "WECHAT", "agent-0042", "second")
        .await;

    let verified = data(harness.run(Role::Auditor, "{ verifyLedger { ok events headPosition headHash problems { message } } ledger { headPosition headHash eventCount } }").await);
    assert_eq!(verified["verifyLedger"]["ok"], true);
    assert_eq!(text(&verified["verifyLedger"]["events"]), "3");
    assert_eq!(
        verified["verifyLedger"]["headPosition"],
        verified["ledger"]["headPosition"]
    );
    assert_eq!(
        verified["verifyLedger"]["headHash"],
        verified["ledger"]["headHash"]
    );
    assert_eq!(text(&verified["ledger"]["headPosition"]), last);
    assert_eq!(text(&verified["ledger"]["headHash"]).len(), 64);
    // A range past the head is one the ledger does not hold: refused, not cut to the head.
    for range in ["to: \"999999\"", "from: \"999999\""] {
        let past = harness
            .run(
                Role::Auditor,
                &format!("{{ verifyLedger({range}) {{ ok }} }}"),
            )
            .await;
        let field = range.split(':').next().unwrap();
        assert_invalid(&past, field);
        assert!(
            past.errors[0].message.contains("past the ledger's head"),
            "{:?}",
            past.errors
        );
    }

    let page = data(
        harness
            .run(Role::Auditor, r#"{ events(first: 2) { edges { cursor node { position eventType actor payload prevHash hash } } pageInfo { hasNextPage endCursor } } }"#)
            .await,
    );
    let edges = page["events"]["edges"].as_array().expect("edges").clone();
    assert_eq!(edges.len(), 2);
    assert_eq!(edges[0]["node"]["eventType"], "CustomerRegistered");
    assert_eq!(edges[0]["node"]["actor"], "agent-0042");
    assert_eq!(edges[0]["node"]["payload"]["customerId"], customer.as_str());
    assert_eq!(edges[0]["node"]["prevHash"], "0".repeat(64));
    assert_eq!(edges[1]["node"]["prevHash"], edges[0]["node"]["hash"]);
    assert_eq!(page["events"]["pageInfo"]["hasNextPage"], true);
    let after = text(&page["events"]["pageInfo"]["endCursor"]);
    let rest = data(
        harness
            .run(Role::Auditor, &format!(r#"{{ events(after: "{after}", types: ["ContactRecorded"], stream: "customer-{customer}") {{ edges {{ node {{ position payload }} }} pageInfo {{ hasNextPage }} }} }}"#))
            .await,
    );
    let rest_edges = rest["events"]["edges"].as_array().expect("edges").clone();
    assert_eq!(rest_edges.len(), 1);
    assert_eq!(text(&rest_edges[0]["node"]["position"]), last);
    assert_eq!(rest_edges[0]["node"]["payload"]["summary"], "second");
    assert_eq!(rest["events"]["pageInfo"]["hasNextPage"], false);

    let unknown = harness
        .run(
            Role::Auditor,
            r#"{ events(types: ["ContactMade"]) { edges { cursor } } }"#,
        )
        .await;
    assert_invalid(&unknown, "types");

    // The timeline as it stood right after the registration: one entry.
    let as_of = format!(
        r#"{{ customerAsOf(id: "{customer}", position: "{registered}") {{ position timeline {{ totalCount edges {{ node {{ kind }} }} }} }} }}"#
    );
    let past = data(harness.run(Role::Auditor, &as_of).await);
    assert_eq!(past["customerAsOf"]["timeline"]["totalCount"], 1);
    assert_eq!(
        past["customerAsOf"]["timeline"]["edges"][0]["node"]["kind"],
        "CustomerRegistered"
    );
    let beyond = format!(r#"{{ customerAsOf(id: "{customer}", position: "99") {{ position }} }}"#);
    assert_eq!(
        codes(&harness.run(Role::Auditor, &beyond).await),
        ["VALIDATION"]
    );
    harness.close().await;
}
