//! An erased customer's open work is finished without recording anything personal: a
//! supervisor assigns, escalates and resolves their case with the text left out, and closes it;
//! surveys, settles or rejects their claim likewise. Text sent for them is refused naming the
//! field; a live customer's work still needs it. Also the claim report's refusals that name
//! a rule: a policy cancelled on its first day, and a time guarantee out of range; and the
//! breached queue keeping a case resolved late, reopened and then resolved on time.

use std::time::Duration;

use async_graphql::Response;
use ledger_graphql::Role;
use serde_json::Value;

use crate::support::{Harness, assert_invalid, codes, data, extension, text};

const POLICY: &str = "PDAA2025220100077";

/// How far in the future the case's deadline is set: long enough to open the case and erase
/// the customer before it passes, short enough for the test to wait it out.
const DEADLINE_AHEAD: Duration = Duration::from_secs(4);

async fn erase(harness: &Harness, customer: &str) {
    harness
        .mutate(
            Role::Admin,
            &format!(
                r#"mutation {{ eraseCustomer(input: {{ customerId: "{customer}", reason: CUSTOMER_REQUEST }}) {{ position }} }}"#
            ),
        )
        .await;
}

fn report_claim(claim: &str, customer: &str) -> String {
    format!(
        r#"mutation {{ reportClaim(input: {{ claimNumber: "{claim}", policyNumber: "{POLICY}", customerId: "{customer}",
        lossOccurredAt: "2025-06-01T08:00:00Z", location: "长春", description: "追尾", reportedVia: PHONE, injuries: false }}) {{ position }} }}"#
    )
}

/// The one `VALIDATION` error of `response`, on `field`; its message.
#[track_caller]
fn refused_on(response: &Response, field: &str) -> String {
    assert_invalid(response, field);
    response.errors[0].message.clone()
}

/// Sends `mutation` as a supervisor; the service case it names after the write.
async fn case_after(harness: &Harness, name: &str, input: &str) -> Value {
    let document = format!(
        r#"mutation {{ {name}(input: {{ {input} }}) {{ serviceCase {{ status breached resolution subject customer {{ name erased }} }} }} }}"#
    );
    harness.mutate(Role::Supervisor, &document).await[name]["serviceCase"].clone()
}

/// Sends `mutation` as an administrator (claims are decided by the claims department); the
/// claim's status after the write.
async fn claim_after(harness: &Harness, name: &str, input: &str) -> Value {
    let document =
        format!(r#"mutation {{ {name}(input: {{ {input} }}) {{ claim {{ status }} }} }}"#);
    harness.mutate(Role::Admin, &document).await[name]["claim"]["status"].clone()
}

/// The ids of the cases `serviceCases(filter)` lists.
async fn queue(harness: &Harness, filter: &str) -> Vec<String> {
    let document =
        format!(r#"{{ serviceCases({filter}, first: 50) {{ edges {{ node {{ id }} }} }} }}"#);
    let response = harness.run(Role::Supervisor, &document).await;
    assert!(response.errors.is_empty(), "{:?}", response.errors);
    data(response)["serviceCases"]["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|edge| text(&edge["node"]["id"]))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn an_erased_customers_breached_case_is_resolved_and_closed_without_text() {
    let harness = Harness::start().await;
    let (customer, _) = harness.register("赵二", "13600136000").await;
    let deadline = jiff::Timestamp::now() + DEADLINE_AHEAD;
    let opened = harness
        .mutate(
            Role::Agent,
            &format!(
                r#"mutation {{ openServiceCase(input: {{ customerId: "{customer}", kind: RESCUE_24H, priority: HIGH,
                subject: "高速抛锚 吉A12345", channel: PHONE, deadline: "{deadline}" }}) {{ id }} }}"#
            ),
        )
        .await;
    let case = text(&opened["openServiceCase"]["id"]);
    erase(&harness, &customer).await;

    // Work that carries no text goes on as for anyone.
    let assigned = case_after(
        &harness,
        "assignServiceCase",
        &format!(r#"caseId: "{case}", assignee: "supervisor-07""#),
    )
    .await;
    assert_eq!(assigned["status"], "OPEN");
    assert!(assigned["subject"].is_null(), "{assigned}");
    assert!(assigned["customer"]["name"].is_null(), "{assigned}");
    assert_eq!(assigned["customer"]["erased"], true);

    // Text sent for the erased customer is refused by name, saying what to send instead.
    let resolve_with_text = format!(
        r#"mutation {{ resolveServiceCase(input: {{ caseId: "{case}", resolution: "已拖车" }}) {{ position }} }}"#
    );
    let response = harness.run(Role::Supervisor, &resolve_with_text).await;
    let message = refused_on(&response, "input.resolution");
    assert!(
        message.contains(&format!(
            "customer {customer} was erased: no text can be recorded; send resolveServiceCase without resolution"
        )),
        "{message}"
    );
    let escalate_with_text = format!(
        r#"mutation {{ escalateServiceCase(input: {{ caseId: "{case}", escalatedTo: "supervisor-07", reason: "超时", priority: URGENT }}) {{ position }} }}"#
    );
    let response = harness.run(Role::Supervisor, &escalate_with_text).await;
    refused_on(&response, "input.reason");

    let escalated = case_after(
        &harness,
        "escalateServiceCase",
        &format!(r#"caseId: "{case}", escalatedTo: "supervisor-07", priority: URGENT"#),
    )
    .await;
    assert_eq!(escalated["status"], "OPEN");

    // Past the deadline, the case is in the breached queue ...
    let wait =
        deadline.duration_since(jiff::Timestamp::now()) + jiff::SignedDuration::from_millis(500);
    tokio::time::sleep(Duration::try_from(wait).unwrap_or_default()).await;
    let breached = "status: OPEN, breachedOnly: true";
    assert_eq!(queue(&harness, breached).await, std::slice::from_ref(&case));

    // ... until it is resolved without text and closed.
    let resolved = case_after(
        &harness,
        "resolveServiceCase",
        &format!(r#"caseId: "{case}""#),
    )
    .await;
    assert_eq!(resolved["status"], "RESOLVED");
    assert_eq!(resolved["breached"], true);
    assert!(resolved["resolution"].is_null(), "{resolved}");
    let closed = case_after(
        &harness,
        "closeServiceCase",
        &format!(r#"caseId: "{case}", customerConfirmed: false"#),
    )
    .await;
    assert_eq!(closed["status"], "CLOSED");
    assert!(queue(&harness, breached).await.is_empty());
    assert!(queue(&harness, "status: OPEN").await.is_empty());

    // Nothing is started again for the erased customer.
    let reopen = format!(
        r#"mutation {{ reopenServiceCase(input: {{ caseId: "{case}", reason: "再次", deadline: "2030-03-03T08:00:00Z" }}) {{ position }} }}"#
    );
    let response = harness.run(Role::Supervisor, &reopen).await;
    assert_eq!(codes(&response), ["REJECTED"], "{response:?}");
    assert_eq!(
        extension(&response.errors[0], "reason").as_deref(),
        Some("CUSTOMER_ERASED"),
        "{response:?}"
    );

    // The timeline shows the work done, with nothing personal.
    let timeline = format!(
        r#"{{ customer(id: "{customer}") {{ timeline(first: 20) {{ edges {{ node {{ title summary outcome }} }} }} }} }}"#
    );
    let response = harness.run(Role::Supervisor, &timeline).await;
    assert!(response.errors.is_empty(), "{:?}", response.errors);
    let entries = data(response)["customer"]["timeline"]["edges"].clone();
    let shown = entries.to_string();
    assert!(
        shown.contains("Case resolved after its deadline"),
        "{shown}"
    );
    assert!(
        shown.contains("Case closed without the customer's confirmation"),
        "{shown}"
    );
    for edge in entries.as_array().expect("edges") {
        assert!(edge["node"]["summary"].is_null(), "{shown}");
    }
    harness.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_erased_customers_claims_are_settled_or_rejected_without_text() {
    let harness = Harness::start().await;
    let (customer, _) = harness.register("钱三", "13300133000").await;
    harness.issue_policy(POLICY, &customer).await;
    harness
        .mutate(Role::Agent, &report_claim("CLM-ERASED-0001", &customer))
        .await;
    harness
        .mutate(Role::Agent, &report_claim("CLM-ERASED-0002", &customer))
        .await;
    erase(&harness, &customer).await;

    // The first is surveyed, documented and settled to the repairer, no text anywhere.
    let survey_with_text = r#"mutation { surveyClaim(input: { claimNumber: "CLM-ERASED-0001", onSite: false,
        assessedLoss: "265000", findings: "后保险杠" }) { position } }"#;
    let response = harness.run(Role::Admin, survey_with_text).await;
    let message = refused_on(&response, "input.findings");
    assert!(
        message.contains("send surveyClaim without findings"),
        "{message}"
    );
    let surveyed = claim_after(
        &harness,
        "surveyClaim",
        r#"claimNumber: "CLM-ERASED-0001", onSite: false, assessedLoss: "265000""#,
    )
    .await;
    assert_eq!(surveyed, "SURVEYED");
    claim_after(
        &harness,
        "requestClaimDocuments",
        r#"claimNumber: "CLM-ERASED-0001", documents: [CLAIM_FORM], requestedVia: PHONE"#,
    )
    .await;
    claim_after(
        &harness,
        "completeClaimDocuments",
        r#"claimNumber: "CLM-ERASED-0001", documents: [CLAIM_FORM]"#,
    )
    .await;
    let settle_named = r#"mutation { settleClaim(input: { claimNumber: "CLM-ERASED-0001", amount: "265000",
        payee: { kind: REPAIR_SHOP, name: "一汽大众 4S 店" }, directPayment: true }) { position } }"#;
    let response = harness.run(Role::Admin, settle_named).await;
    refused_on(&response, "input.payee.name");
    let settled = claim_after(
        &harness,
        "settleClaim",
        r#"claimNumber: "CLM-ERASED-0001", amount: "265000", payee: { kind: REPAIR_SHOP }, directPayment: true"#,
    )
    .await;
    assert_eq!(settled, "SETTLED");

    // The second is rejected with its reason code and no explanation.
    let reject_with_text = r#"mutation { rejectClaim(input: { claimNumber: "CLM-ERASED-0002", reason: NOT_COVERED,
        explanation: "不在保障范围" }) { position } }"#;
    let response = harness.run(Role::Admin, reject_with_text).await;
    refused_on(&response, "input.explanation");
    let rejected = claim_after(
        &harness,
        "rejectClaim",
        r#"claimNumber: "CLM-ERASED-0002", reason: NOT_COVERED"#,
    )
    .await;
    assert_eq!(rejected, "REJECTED");
    harness.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_live_customers_work_needs_its_text() {
    let harness = Harness::start().await;
    let (customer, _) = harness.register("孙四", "13200132000").await;
    harness.issue_policy(POLICY, &customer).await;
    harness
        .mutate(Role::Agent, &report_claim("CLM-LIVE-0001", &customer))
        .await;
    let opened = harness
        .mutate(
            Role::Agent,
            &format!(
                r#"mutation {{ openServiceCase(input: {{ customerId: "{customer}", kind: COMPLAINT, priority: HIGH,
                subject: "survey delayed", channel: PHONE, deadline: "2030-03-02T08:00:00Z" }}) {{ id }} }}"#
            ),
        )
        .await;
    let case = text(&opened["openServiceCase"]["id"]);
    for (document, field) in [
        (
            format!(r#"mutation {{ resolveServiceCase(input: {{ caseId: "{case}" }}) {{ position }} }}"#),
            "input.resolution",
        ),
        (
            format!(
                r#"mutation {{ escalateServiceCase(input: {{ caseId: "{case}", escalatedTo: "supervisor-07", priority: URGENT }}) {{ position }} }}"#
            ),
            "input.reason",
        ),
        (
            r#"mutation { surveyClaim(input: { claimNumber: "CLM-LIVE-0001", onSite: false, assessedLoss: "1000" }) { position } }"#
                .to_owned(),
            "input.findings",
        ),
        (
            r#"mutation { rejectClaim(input: { claimNumber: "CLM-LIVE-0001", reason: NOT_COVERED }) { position } }"#
                .to_owned(),
            "input.explanation",
        ),
    ] {
        let response = harness.run(Role::Admin, &document).await;
        let message = refused_on(&response, field);
        assert!(
            message.contains("only an erased customer's work is finished without it"),
            "{message}"
        );
    }
    harness.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_claim_on_a_policy_cancelled_on_its_first_day_is_refused_saying_so() {
    let harness = Harness::start().await;
    let (customer, _) = harness.register("周五", "13100131000").await;
    harness.issue_policy(POLICY, &customer).await;
    harness
        .mutate(
            Role::Admin,
            &format!(
                r#"mutation {{ cancelPolicy(input: {{ policyNumber: "{POLICY}", cancelledOn: "2025-03-01",
                reason: CUSTOMER_REQUEST, refund: "95000" }}) {{ position }} }}"#
            ),
        )
        .await;
    let response = harness
        .run(Role::Agent, &report_claim("CLM-CANCELLED-0001", &customer))
        .await;
    let message = refused_on(&response, "input.lossOccurredAt");
    assert!(
        message.ends_with(&format!(
            "{POLICY} was cancelled from its first day and covers no day"
        )),
        "{message}"
    );
    harness.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_time_guarantee_out_of_range_is_refused_with_one_rule() {
    let harness = Harness::start().await;
    let (customer, _) = harness.register("吴六", "13000130000").await;
    harness.issue_policy(POLICY, &customer).await;
    for days in [-1, 0, 61, 70_000] {
        let document = format!(
            r#"mutation {{ reportClaim(input: {{ claimNumber: "CLM-GUARANTEE-0001", policyNumber: "{POLICY}", customerId: "{customer}",
            lossOccurredAt: "2025-06-01T08:00:00Z", location: "长春", description: "追尾", reportedVia: PHONE, injuries: false,
            timeGuaranteeWorkingDays: {days} }}) {{ position }} }}"#
        );
        let response = harness.run(Role::Agent, &document).await;
        assert_invalid(&response, "input.timeGuaranteeWorkingDays");
        assert_eq!(
            extension(&response.errors[0], "rule").as_deref(),
            Some("a time guarantee is 1 to 60 working days"),
            "{days}: {response:?}"
        );
    }
    harness.close().await;
}

/// How far in the future the late case's first deadline is set: long enough to open it before
/// the deadline passes, short enough for the test to wait it out.
const SHORT_DEADLINE_AHEAD: Duration = Duration::from_secs(2);

/// A deadline the test never reaches.
const FAR_DEADLINE: &str = "2030-03-03T08:00:00Z";

/// Opens a complaint for `customer` due at `deadline`; its id.
async fn open_case(harness: &Harness, customer: &str, deadline: &str) -> String {
    let opened = harness
        .mutate(
            Role::Agent,
            &format!(
                r#"mutation {{ openServiceCase(input: {{ customerId: "{customer}", kind: COMPLAINT, priority: HIGH,
                subject: "定损太慢", channel: PHONE, deadline: "{deadline}" }}) {{ id }} }}"#
            ),
        )
        .await;
    text(&opened["openServiceCase"]["id"])
}

/// Resolves `case` (with text, for a live customer) and reopens it, due at [`FAR_DEADLINE`].
async fn resolve_and_reopen(harness: &Harness, case: &str) -> Value {
    case_after(
        harness,
        "resolveServiceCase",
        &format!(r#"caseId: "{case}", resolution: "已答复""#),
    )
    .await;
    case_after(
        harness,
        "reopenServiceCase",
        &format!(r#"caseId: "{case}", reason: "客户不满意", deadline: "{FAR_DEADLINE}""#),
    )
    .await
}

/// The breach fields of `case` as a supervisor reads them in the case list.
async fn breach_of(harness: &Harness, case: &str) -> Value {
    let document = r#"{ serviceCases(first: 50) { edges { node {
        id status breached overdue resolvedLate lateResolutions reopenedCount } } } }"#;
    let response = harness.run(Role::Supervisor, document).await;
    assert!(response.errors.is_empty(), "{:?}", response.errors);
    data(response)["serviceCases"]["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|edge| edge["node"].clone())
        .find(|node| text(&node["id"]) == case)
        .expect("the case is listed")
}

#[tokio::test(flavor = "multi_thread")]
async fn a_case_resolved_late_then_reopened_and_resolved_on_time_stays_in_the_breached_queue() {
    let harness = Harness::start().await;
    let (customer, _) = harness.register("郑七", "13900139000").await;
    let deadline = jiff::Timestamp::now() + SHORT_DEADLINE_AHEAD;
    let late = open_case(&harness, &customer, &deadline.to_string()).await;
    let on_time = open_case(&harness, &customer, FAR_DEADLINE).await;

    // Resolved after its deadline, then reopened: breached, though not overdue.
    let wait =
        deadline.duration_since(jiff::Timestamp::now()) + jiff::SignedDuration::from_millis(500);
    tokio::time::sleep(Duration::try_from(wait).unwrap_or_default()).await;
    resolve_and_reopen(&harness, &late).await;
    resolve_and_reopen(&harness, &on_time).await;
    let reopened = breach_of(&harness, &late).await;
    assert_eq!(reopened["status"], "OPEN");
    assert_eq!(reopened["breached"], true, "{reopened}");
    assert_eq!(reopened["overdue"], false, "{reopened}");
    assert!(reopened["resolvedLate"].is_null(), "{reopened}");
    assert_eq!(
        queue(&harness, "status: OPEN, breachedOnly: true").await,
        std::slice::from_ref(&late)
    );

    // Resolved on time in its second cycle, the breach stays, in the field and the queue.
    for case in [&late, &on_time] {
        case_after(
            &harness,
            "resolveServiceCase",
            &format!(r#"caseId: "{case}", resolution: "已重新定损""#),
        )
        .await;
    }
    let fixed = breach_of(&harness, &late).await;
    assert_eq!(fixed["status"], "RESOLVED");
    assert_eq!(fixed["breached"], true, "{fixed}");
    assert_eq!(fixed["overdue"], false, "{fixed}");
    assert_eq!(fixed["resolvedLate"], false, "{fixed}");
    assert_eq!(fixed["lateResolutions"], 1, "{fixed}");
    assert_eq!(fixed["reopenedCount"], 1, "{fixed}");
    let twice_on_time = breach_of(&harness, &on_time).await;
    assert_eq!(twice_on_time["breached"], false, "{twice_on_time}");
    assert_eq!(twice_on_time["lateResolutions"], 0, "{twice_on_time}");
    assert_eq!(
        queue(&harness, "breachedOnly: true").await,
        std::slice::from_ref(&late)
    );
    assert_eq!(
        queue(&harness, "status: RESOLVED, breachedOnly: true").await,
        std::slice::from_ref(&late)
    );
    harness.close().await;
}
