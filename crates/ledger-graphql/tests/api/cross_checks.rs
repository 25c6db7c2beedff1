//! What a command names on another stream is checked through the API as the domain checks it:
//! a claim's policy (issued, the customer's, covering the loss), a contact's links (policy,
//! service case, campaign, enquiry), an escalation's deadline, and an erased customer, which
//! answers every command the same way.

use ledger_graphql::Role;
use serde_json::Value;

use crate::support::{self, Harness, codes, data, extension, text};

const POLICY: &str = "PDAA2025220100001";

/// The one error of `response`: its code, and its `field` or `reason` when it has one.
fn refusal(response: &async_graphql::Response) -> (String, Option<String>) {
    assert_eq!(response.errors.len(), 1, "{:?}", response.errors);
    let error = &response.errors[0];
    let detail = extension(error, "field").or_else(|| extension(error, "reason"));
    (codes(response)[0].clone(), detail)
}

fn refused(code: &str, detail: Option<&str>) -> (String, Option<String>) {
    (code.to_owned(), detail.map(str::to_owned))
}

/// Issues `POLICY` to `holder` for 2025-03-01 to 2026-02-28.
async fn issue_policy(harness: &Harness, holder: &str) {
    harness.issue_policy(POLICY, holder).await;
}

fn report_claim(claim: &str, policy: &str, customer: &str, loss: &str) -> String {
    format!(
        r#"mutation {{ reportClaim(input: {{ claimNumber: "{claim}", policyNumber: "{policy}", customerId: "{customer}",
        lossOccurredAt: "{loss}", location: "长春", description: "追尾", reportedVia: PHONE, injuries: false }}) {{ position }} }}"#
    )
}

/// A `recordContact` for `customer` with `links` (`policyNumber: "…", caseId: "…"`).
fn contact_with(customer: &str, links: &str) -> String {
    format!(
        r#"mutation {{ recordContact(input: {{ customerId: "{customer}", channel: PHONE, direction: OUTBOUND,
        agent: "agent-0042", startedAt: "2025-03-02T08:00:00Z", durationSeconds: 60, topic: ENQUIRY,
        summary: "回电", outcome: RESOLVED, {links} }}) {{ position }} }}"#
    )
}

/// Who the directory says holds `POLICY`.
async fn policy_holder(harness: &Harness) -> Value {
    let lookup =
        format!(r#"{{ customerByIdentifier(kind: POLICY_NUMBER, value: "{POLICY}") {{ id }} }}"#);
    let response = harness.run(Role::Agent, &lookup).await;
    assert!(response.errors.is_empty(), "{:?}", response.errors);
    data(response)["customerByIdentifier"]["id"].clone()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_claim_names_an_issued_policy_of_its_customer_that_covers_the_loss() {
    let harness = Harness::start().await;
    let (holder, _) = harness.register("张三", "13800138000").await;
    let (other, _) = harness.register("李四", "13900139000").await;
    let in_period = "2025-06-01T08:00:00Z";

    // Not issued yet: no such policy.
    let response = harness
        .run(
            Role::Agent,
            &report_claim("RDAA2025220100001", POLICY, &holder, in_period),
        )
        .await;
    assert_eq!(refusal(&response).0, "NOT_FOUND");
    assert!(
        response.errors[0].message.contains(POLICY),
        "{:?}",
        response.errors
    );

    issue_policy(&harness, &holder).await;
    assert_eq!(policy_holder(&harness).await, Value::from(holder.clone()));

    // Another customer's policy: refused, and the directory still finds the holder by it.
    let response = harness
        .run(
            Role::Agent,
            &report_claim("RDAA2025220100002", POLICY, &other, in_period),
        )
        .await;
    assert_eq!(
        refusal(&response),
        refused("VALIDATION", Some("input.policyNumber"))
    );
    let rule = extension(&response.errors[0], "rule").unwrap_or_default();
    assert!(
        rule.starts_with("a policy held by the claim's customer"),
        "{rule}"
    );
    assert_eq!(policy_holder(&harness).await, Value::from(holder.clone()));

    // A loss the day before the period starts (23:59:59 on 28 February in Beijing).
    let response = harness
        .run(
            Role::Agent,
            &report_claim("RDAA2025220100003", POLICY, &holder, "2025-02-28T15:59:59Z"),
        )
        .await;
    assert_eq!(
        refusal(&response),
        refused("VALIDATION", Some("input.lossOccurredAt"))
    );
    let rule = extension(&response.errors[0], "rule").unwrap_or_default();
    assert!(
        rule.starts_with("within the policy's period") && rule.contains("2025-03-01 to 2026-02-28"),
        "{rule}"
    );

    // A second later it is 1 March in Beijing: covered.
    harness
        .mutate(
            Role::Agent,
            &report_claim("RDAA2025220100004", POLICY, &holder, "2025-02-28T16:00:00Z"),
        )
        .await;
    assert_eq!(policy_holder(&harness).await, Value::from(holder.clone()));

    // The holder's policy and claim numbers are theirs though nobody registered them as
    // identifiers: another customer cannot take them, so a caller quoting one finds the holder.
    let register = format!(
        r#"mutation {{ registerCustomer(input: {{ kind: INDIVIDUAL, name: "王五",
            identifiers: [{{ kind: POLICY_NUMBER, value: "{POLICY}" }}] }}) {{ id }} }}"#
    );
    let add = format!(
        r#"mutation {{ addIdentifier(input: {{ customerId: "{other}",
            identifier: {{ kind: CLAIM_NUMBER, value: "RDAA2025220100004" }} }}) {{ position }} }}"#
    );
    for document in [register, add] {
        let response = harness.run(Role::Agent, &document).await;
        assert_eq!(
            refusal(&response),
            refused("REJECTED", Some("IDENTIFIER_OWNED")),
            "{document}"
        );
        assert!(
            response.errors[0].message.contains(&holder),
            "{:?}",
            response.errors
        );
    }
    assert_eq!(policy_holder(&harness).await, Value::from(holder));
    harness.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_contact_links_only_to_what_exists_and_is_its_customers() {
    let harness = Harness::start().await;
    let (holder, _) = harness.register("张三", "13800138000").await;
    let (other, _) = harness.register("李四", "13900139000").await;
    issue_policy(&harness, &holder).await;
    let nobody = "0190a5e2-8c3b-7d4e-9f00-00000000c0ff";

    let policy = format!(r#"policyNumber: "{POLICY}""#);
    let response = harness
        .run(Role::Agent, &contact_with(&other, &policy))
        .await;
    assert_eq!(
        refusal(&response),
        refused("VALIDATION", Some("input.policyNumber"))
    );
    let never_issued = r#"policyNumber: "PDAA2025220199999""#;
    let response = harness
        .run(Role::Agent, &contact_with(&holder, never_issued))
        .await;
    assert_eq!(refusal(&response).0, "NOT_FOUND");
    for link in ["caseId", "campaignId", "enquiryId"] {
        let response = harness
            .run(
                Role::Agent,
                &contact_with(&holder, &format!(r#"{link}: "{nobody}""#)),
            )
            .await;
        assert_eq!(refusal(&response).0, "NOT_FOUND", "{link}");
    }

    // A service case of the holder is not the other customer's.
    let opened = harness
        .mutate(
            Role::Agent,
            &format!(
                r#"mutation {{ openServiceCase(input: {{ customerId: "{holder}", kind: CONSULTATION, priority: NORMAL,
                subject: "续保", channel: PHONE, deadline: "2030-03-02T08:00:00Z" }}) {{ id }} }}"#
            ),
        )
        .await;
    let case = format!(r#"caseId: "{}""#, text(&opened["openServiceCase"]["id"]));
    let response = harness.run(Role::Agent, &contact_with(&other, &case)).await;
    assert_eq!(
        refusal(&response),
        refused("VALIDATION", Some("input.caseId"))
    );

    // A claim: one never reported is not found; the holder's is not the other customer's.
    let response = harness
        .run(
            Role::Agent,
            &contact_with(&holder, r#"claimNumber: "CDAA2025220199999""#),
        )
        .await;
    assert_eq!(refusal(&response).0, "NOT_FOUND");
    harness
        .mutate(
            Role::Agent,
            &report_claim(
                "CDAA2025220100077",
                POLICY,
                &holder,
                "2025-06-01T10:00:00+08:00",
            ),
        )
        .await;
    let claim = r#"claimNumber: "CDAA2025220100077""#;
    let response = harness.run(Role::Agent, &contact_with(&other, claim)).await;
    assert_eq!(
        refusal(&response),
        refused("VALIDATION", Some("input.claimNumber"))
    );

    // The holder's own links are accepted.
    harness
        .mutate(
            Role::Agent,
            &contact_with(&holder, &format!("{policy}, {case}, {claim}")),
        )
        .await;
    harness.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_call_back_of_another_customers_enquiry_leaves_it_in_the_queue() {
    let harness = Harness::start().await;
    let (sender, _) = harness.register("张三", "13800138000").await;
    let (other, _) = harness.register("李四", "13900139000").await;
    let enquiry = |customer: &str, mobile: &str| {
        format!(
            r#"mutation {{ recordEnquiry(input: {{ customerId: "{customer}", channel: WEB, mobile: "{mobile}", message: "想问续保" }}) {{ id }} }}"#
        )
    };
    let sent = harness
        .mutate(Role::Agent, &enquiry(&sender, "13800138000"))
        .await;
    let enquiry_id = text(&sent["recordEnquiry"]["id"]);
    let link = format!(r#"enquiryId: "{enquiry_id}""#);

    let response = harness.run(Role::Agent, &contact_with(&other, &link)).await;
    assert_eq!(
        refusal(&response),
        refused("VALIDATION", Some("input.enquiryId"))
    );
    let follow_ups = "{ followUps(first: 100) { edges { node { enquiryId } } } }";
    let response = harness.run(Role::Agent, follow_ups).await;
    assert!(response.errors.is_empty(), "{:?}", response.errors);
    let queued = data(response)["followUps"]["edges"].clone();
    assert_eq!(queued[0]["node"]["enquiryId"], Value::from(enquiry_id));
    assert_eq!(queued.as_array().map(Vec::len), Some(1));

    // The sender's own call-back takes it out of the queue.
    harness
        .mutate(Role::Agent, &contact_with(&sender, &link))
        .await;
    let response = harness.run(Role::Agent, follow_ups).await;
    assert_eq!(
        data(response)["followUps"]["edges"]
            .as_array()
            .map(Vec::len),
        Some(0)
    );
    harness.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_escalation_refuses_a_deadline_in_the_past_as_opening_does() {
    let harness = Harness::start().await;
    let (customer, _) = harness.register("张三", "13800138000").await;
    let open = |deadline: &str| {
        format!(
            r#"mutation {{ openServiceCase(input: {{ customerId: "{customer}", kind: COMPLAINT, priority: NORMAL,
            subject: "投诉", channel: PHONE, deadline: "{deadline}" }}) {{ id }} }}"#
        )
    };
    let response = harness
        .run(Role::Agent, &open("2020-01-01T00:00:00Z"))
        .await;
    assert_eq!(
        refusal(&response),
        refused("VALIDATION", Some("input.deadline"))
    );
    let opening_rule = extension(&response.errors[0], "rule");

    let opened = harness
        .mutate(Role::Agent, &open("2030-03-02T08:00:00Z"))
        .await;
    let case = text(&opened["openServiceCase"]["id"]);
    let escalate = |deadline: &str| {
        format!(
            r#"mutation {{ escalateServiceCase(input: {{ caseId: "{case}", escalatedTo: "supervisor-07", reason: "客户升级",
            priority: HIGH, deadline: "{deadline}" }}) {{ position }} }}"#
        )
    };
    let response = harness
        .run(Role::Supervisor, &escalate("2020-01-01T00:00:00Z"))
        .await;
    assert_eq!(
        refusal(&response),
        refused("VALIDATION", Some("input.deadline"))
    );
    assert_eq!(extension(&response.errors[0], "rule"), opening_rule);
    harness
        .mutate(Role::Supervisor, &escalate("2030-03-01T08:00:00Z"))
        .await;
    harness.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn every_command_for_an_erased_customer_answers_customer_erased() {
    let harness = Harness::start().await;
    let (customer, _) = harness.register("张三", "13800138000").await;
    harness
        .mutate(
            Role::Admin,
            &format!(
                r#"mutation {{ eraseCustomer(input: {{ customerId: "{customer}", reason: CUSTOMER_REQUEST }}) {{ position }} }}"#
            ),
        )
        .await;
    let commands = [
        ("recordContact", contact_with(&customer, "campaignId: null")),
        (
            "recordSatisfaction",
            format!(
                r#"mutation {{ recordSatisfaction(input: {{ customerId: "{customer}", nps: 9 }}) {{ position }} }}"#
            ),
        ),
        (
            "openServiceCase",
            format!(
                r#"mutation {{ openServiceCase(input: {{ customerId: "{customer}", kind: CONSULTATION, priority: NORMAL,
                subject: "s", channel: PHONE, deadline: "2030-03-02T08:00:00Z" }}) {{ id }} }}"#
            ),
        ),
        (
            "updateProfile",
            format!(
                r#"mutation {{ updateProfile(input: {{ customerId: "{customer}", name: "李四" }}) {{ position }} }}"#
            ),
        ),
        (
            "eraseCustomer",
            format!(
                r#"mutation {{ eraseCustomer(input: {{ customerId: "{customer}", reason: CUSTOMER_REQUEST }}) {{ position }} }}"#
            ),
        ),
    ];
    for (name, document) in commands {
        let response = harness.run(Role::Admin, &document).await;
        assert_eq!(
            refusal(&response),
            refused("REJECTED", Some("CUSTOMER_ERASED")),
            "{name}: {:?}",
            response.errors
        );
        let message = &response.errors[0].message;
        assert!(!message.contains("while it is erased"), "{name}: {message}");
    }
    harness.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_number_one_customer_registered_is_not_issued_or_reported_for_another() {
    let harness = Harness::start().await;
    let (holder, _) = harness.register("陈一", "13800138011").await;
    let (other, _) = harness.register("陈二", "13800138012").await;
    // The other customer's number was registered from a legacy system before the policy
    // (and a claim) reached the ledger.
    for (kind, value) in [
        ("POLICY_NUMBER", POLICY),
        ("CLAIM_NUMBER", "RDAA2025220100009"),
    ] {
        harness
            .mutate(
                Role::Agent,
                &format!(
                    r#"mutation {{ addIdentifier(input: {{ customerId: "{other}",
                    identifier: {{ kind: {kind}, value: "{value}" }} }}) {{ position }} }}"#
                ),
            )
            .await;
    }
    let response = harness
        .run(Role::Admin, &support::issue_policy(POLICY, &holder))
        .await;
    assert_eq!(
        refusal(&response),
        refused("REJECTED", Some("IDENTIFIER_OWNED"))
    );
    assert!(
        response.errors[0].message.contains(&other),
        "{:?}",
        response.errors
    );
    // The lookup by the number still finds the one who registered it.
    assert_eq!(policy_holder(&harness).await, Value::from(other.clone()));

    // Issued to that customer, the claim number they registered is theirs to report; for
    // anyone else it is refused.
    issue_policy(&harness, &other).await;
    let response = harness
        .run(
            Role::Agent,
            &report_claim("RDAA2025220100009", POLICY, &holder, "2025-06-01T08:00:00Z"),
        )
        .await;
    assert_eq!(refusal(&response).0, "REJECTED");
    harness
        .mutate(
            Role::Agent,
            &report_claim("RDAA2025220100009", POLICY, &other, "2025-06-01T08:00:00Z"),
        )
        .await;
    harness.close().await;
}
