//! What an agent ran into through the API, reproduced: an issue under another customer's quote,
//! a quote already expired, a merged customer's contact corrected or rated under the wrong id,
//! an instant with an offset RFC 3339 does not allow, and a past timeline of a customer who did
//! not exist then.

use jiff::{SignedDuration, Timestamp, ToSpan};
use ledger_domain::aggregates::policy::business_date;
use ledger_graphql::Role;

use crate::support::{Harness, assert_invalid, codes, data, extension, text};

const POLICY: &str = "PDAA202611280040";

/// `quotePolicy` of `POLICY` to `customer`, valid until `valid_until`.
fn quote(customer: &str, valid_until: &str) -> String {
    format!(
        r#"mutation {{ quotePolicy(input: {{ policyNumber: "{POLICY}", customerId: "{customer}",
        productLines: [COMPULSORY_TRAFFIC], plate: "吉A12345", vin: "LSVAM4187C2184847", premium: "95000",
        periodStart: "2026-12-01", periodEnd: "2027-11-30", salesChannel: PHONE,
        validUntil: "{valid_until}" }}) {{ position }} }}"#
    )
}

/// `issuePolicy` of `POLICY` to `customer`, on the quote's terms.
fn issue(customer: &str) -> String {
    format!(
        r#"mutation {{ issuePolicy(input: {{ policyNumber: "{POLICY}", customerId: "{customer}",
        productLines: [COMPULSORY_TRAFFIC], plate: "吉A12345", vin: "LSVAM4187C2184847", premium: "95000",
        periodStart: "2026-12-01", periodEnd: "2027-11-30", salesChannel: PHONE }}) {{ position }} }}"#
    )
}

/// The `rule` of the response's one error.
fn rule(response: &async_graphql::Response) -> String {
    assert_eq!(response.errors.len(), 1, "{:?}", response.errors);
    extension(&response.errors[0], "rule").unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_quoted_number_is_issued_to_the_quoted_customer_while_the_quote_is_valid() {
    let harness = Harness::start().await;
    let (quoted, _) = harness.register("黄一", "13800138001").await;
    let (another, _) = harness.register("安二", "13800138002").await;
    let today = business_date(Timestamp::now());

    let expired = harness
        .run(
            Role::Admin,
            &quote(&quoted, &today.yesterday().expect("a day").to_string()),
        )
        .await;
    assert_invalid(&expired, "input.validUntil");
    assert!(
        rule(&expired).contains(&today.to_string()),
        "{:?}",
        expired.errors
    );

    let valid_until = today.checked_add(3.days()).expect("a day").to_string();
    harness
        .mutate(Role::Admin, &quote(&quoted, &valid_until))
        .await;
    let refused = harness.run(Role::Admin, &issue(&another)).await;
    assert_invalid(&refused, "input.customerId");
    let why = rule(&refused);
    assert!(why.contains(&quoted) && why.contains(&another), "{why}");

    let issued = harness.mutate(Role::Admin, &issue(&quoted)).await;
    let position = text(&issued["issuePolicy"]["position"]);
    let holder = harness
        .run_consistent(
            Role::Agent,
            &format!(
                r#"{{ customerByIdentifier(kind: POLICY_NUMBER, value: "{POLICY}") {{ id }} }}"#
            ),
            &position,
        )
        .await;
    assert_eq!(data(holder)["customerByIdentifier"]["id"], quoted.as_str());
    harness.close().await;
}

/// Records a contact with id `contact` for `customer`, a call that ended a minute ago.
async fn record_contact(harness: &Harness, customer: &str, contact: &str) {
    let started = Timestamp::now() - SignedDuration::from_secs(180);
    harness
        .mutate(
            Role::Agent,
            &format!(
                r#"mutation {{ recordContact(input: {{ contactId: "{contact}", customerId: "{customer}",
                channel: PHONE, direction: INBOUND, agent: "agent-0042", startedAt: "{started}",
                durationSeconds: 120, topic: ENQUIRY, summary: "咨询", outcome: RESOLVED }}) {{ position }} }}"#
            ),
        )
        .await;
}

fn correct(contact: &str, customer: &str) -> String {
    let started = Timestamp::now() - SignedDuration::from_secs(180);
    format!(
        r#"mutation {{ correctContact(input: {{ contactId: "{contact}", customerId: "{customer}",
        channel: PHONE, direction: OUTBOUND, agent: "agent-0042", startedAt: "{started}",
        durationSeconds: 120, topic: ENQUIRY, summary: "咨询", outcome: RESOLVED,
        reason: "方向录错" }}) {{ position }} }}"#
    )
}

fn rate(contact: &str, customer: &str) -> String {
    format!(
        r#"mutation {{ recordSatisfaction(input: {{ customerId: "{customer}", contactId: "{contact}",
        csat: 4 }}) {{ position }} }}"#
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn a_contact_named_under_another_customers_id_says_whose_it_is() {
    const SURVIVORS: &str = "0190a5e2-8c3b-7d4e-9f00-0000000a0c01";
    const MERGEDS: &str = "0190a5e2-8c3b-7d4e-9f00-0000000b0c01";
    const OTHERS: &str = "0190a5e2-8c3b-7d4e-9f00-0000000c0c01";
    let harness = Harness::start().await;
    let (survivor, _) = harness.register("甲", "13800138011").await;
    let (merged, _) = harness.register("甲(重复)", "13800138012").await;
    let (other, _) = harness.register("庚", "13800138013").await;
    record_contact(&harness, &survivor, SURVIVORS).await;
    record_contact(&harness, &merged, MERGEDS).await;
    record_contact(&harness, &other, OTHERS).await;
    harness
        .mutate(
            Role::Admin,
            &format!(
                r#"mutation {{ mergeCustomers(input: {{ customerId: "{merged}", survivorId: "{survivor}" }}) {{ position }} }}"#
            ),
        )
        .await;

    // The merged customer's contact, on the survivor's timeline, named under the survivor.
    let expected = format!(
        "contact {MERGEDS} is customer {merged}'s contact (merged into {survivor}): correct it on \
         customerId {merged}"
    );
    let refused = harness
        .run(Role::Supervisor, &correct(MERGEDS, &survivor))
        .await;
    assert_invalid(&refused, "input.contactId");
    assert_eq!(rule(&refused), expected);
    let refused = harness.run(Role::Agent, &rate(MERGEDS, &survivor)).await;
    assert_invalid(&refused, "input.contactId");
    assert!(
        rule(&refused).ends_with(&format!("record its answer on customerId {merged}")),
        "{:?}",
        refused.errors
    );
    // The survivor's own contact named under the merged customer: not "use the survivor".
    let refused = harness
        .run(Role::Supervisor, &correct(SURVIVORS, &merged))
        .await;
    assert_invalid(&refused, "input.contactId");
    assert_eq!(
        rule(&refused),
        format!(
            "contact {SURVIVORS} is customer {survivor}'s contact: correct it on customerId \
             {survivor}"
        )
    );
    // A stranger's contact rated under the survivor's id.
    let refused = harness.run(Role::Agent, &rate(OTHERS, &survivor)).await;
    assert_invalid(&refused, "input.contactId");
    assert!(rule(&refused).contains(&format!("customer {other}'s contact")));

    // Each on its own customer's id is accepted, the merged customer's included.
    harness
        .mutate(Role::Supervisor, &correct(MERGEDS, &merged))
        .await;
    harness.mutate(Role::Agent, &rate(MERGEDS, &merged)).await;
    harness
        .mutate(Role::Supervisor, &correct(SURVIVORS, &survivor))
        .await;
    // A contact nobody recorded is still not found.
    let nobody = "0190a5e2-8c3b-7d4e-9f00-0000000d0c01";
    let unknown = harness
        .run(Role::Supervisor, &correct(nobody, &survivor))
        .await;
    assert_eq!(codes(&unknown), ["NOT_FOUND"], "{:?}", unknown.errors);
    harness.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_contact_start_with_an_offset_rfc_3339_does_not_allow_is_refused() {
    let harness = Harness::start().await;
    let (customer, _) = harness.register("丙", "13800138021").await;
    for offset in ["+25:00", "+24:00", "+08:00:30", "+0800", "+99:00"] {
        let response = harness
            .run(
                Role::Agent,
                &format!(
                    r#"mutation {{ recordContact(input: {{ customerId: "{customer}", channel: PHONE,
                    direction: INBOUND, agent: "agent-0042", startedAt: "2026-11-28T05:00:00{offset}",
                    durationSeconds: 60, topic: ENQUIRY, summary: "s", outcome: RESOLVED }}) {{ position }} }}"#
                ),
            )
            .await;
        assert_invalid(&response, "input.startedAt");
        assert!(
            rule(&response).contains("±hh:mm"),
            "{offset}: {:?}",
            response.errors
        );
    }
    harness.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_past_timeline_of_a_customer_who_did_not_exist_then_is_not_found() {
    let harness = Harness::start().await;
    let (first, first_registered) = harness.register("丁", "13800138031").await;
    let (later, later_registered) = harness.register("戊", "13800138032").await;
    let as_of = |customer: &str, position: &str| {
        format!(
            r#"{{ customerAsOf(id: "{customer}", position: "{position}") {{ timeline {{ totalCount }} }} }}"#
        )
    };
    let nobody = "0190a5e2-8c3b-7d4e-9f00-0000000e0c01";
    let response = harness
        .run(Role::Auditor, &as_of(nobody, &later_registered))
        .await;
    assert_eq!(codes(&response), ["NOT_FOUND"], "{:?}", response.errors);
    assert!(response.errors[0].message.contains(nobody));

    let response = harness
        .run(Role::Auditor, &as_of(&later, &first_registered))
        .await;
    assert_eq!(codes(&response), ["NOT_FOUND"], "{:?}", response.errors);
    assert!(
        response.errors[0]
            .message
            .contains(&format!("registered later, at position {later_registered}")),
        "{:?}",
        response.errors
    );

    // Right after its registration, a customer's past timeline holds it.
    for (customer, position) in [(&first, &first_registered), (&later, &later_registered)] {
        let response = harness.run(Role::Auditor, &as_of(customer, position)).await;
        assert_eq!(data(response)["customerAsOf"]["timeline"]["totalCount"], 1);
    }
    harness.close().await;
}
