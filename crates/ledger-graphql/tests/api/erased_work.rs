//! An erased customer's open work is finished without recording anything personal: a
//! supervisor assigns, escalates and resolves their case with the text left out, and closes it;
//! surveys, settles or rejects their claim likewise. Text sent for them is refused naming the
//! field; a live customer's work still needs it. Also the claim report's refusals that name
//! a rule: a policy cancelled on its first day, and a time guarantee out of range; and the
//! breached queue keeping a case resolved late, reopened and then resolved on time, as the
//! past-guarantee queue keeps a claim decided late, reopened and then decided on time.

use std::time::Duration;

use async_graphql::Response;
use ledger_app::CommandMeta;
use ledger_domain::commands::{
    Command, CompleteClaimDocuments, ReportClaim, RequestClaimDocuments, SurveyClaim,
};
use ledger_domain::ids::CustomerId;
use ledger_domain::kinds::ClaimDocument;
use ledger_domain::samples::staff;
use ledger_domain::values::{Channel, ClaimNumber, FreeText, Money, PolicyNumber};
use ledger_graphql::Role;
use ledger_store::EventLog;
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

/// How long before now the late claim's first cycle ran: its guarantee of one working day
/// ran out long ago, whatever holidays the month held. A guarantee is counted in working days,
/// so no test waits one out; that cycle goes through the application dated in the past (the
/// business time an import gives a command) instead of waiting on a short deadline.
const LATE_CYCLE_AGO: jiff::SignedDuration = jiff::SignedDuration::from_hours(30 * 24);

/// How long [`documented_at`] waits for the projections to apply its writes.
const APPLIED_WAIT: Duration = Duration::from_secs(10);

fn free_text(value: &str) -> FreeText {
    FreeText::parse("text", value).expect("valid free text")
}

/// Reports `claim` of `customer` on a one-working-day promise, surveys it and completes its
/// documents, every step dated `at`: through the application, as the API has no business time
/// for claims.
async fn documented_at(harness: &Harness, claim: &str, customer: &str, at: jiff::Timestamp) {
    let claim_number = ClaimNumber::parse("claimNumber", claim).expect("a claim number");
    let commands: [Command; 4] = [
        ReportClaim {
            claim_number: claim_number.clone(),
            policy_number: PolicyNumber::parse("policyNumber", POLICY).expect("a policy number"),
            customer_id: CustomerId::parse("customerId", customer).expect("a customer id"),
            loss_occurred_at: "2025-06-01T08:00:00Z".parse().expect("an instant"),
            location: free_text("长春"),
            description: free_text("追尾"),
            plate: None,
            reported_via: Channel::Phone,
            injuries: false,
            estimated_loss: None,
            time_guarantee_working_days: Some(1),
        }
        .into(),
        SurveyClaim {
            claim_number: claim_number.clone(),
            surveyor: staff("surveyor-0011"),
            on_site: false,
            assessed_loss: Money::from_fen(265_000),
            findings: free_text("后保险杠"),
        }
        .into(),
        RequestClaimDocuments {
            claim_number: claim_number.clone(),
            documents: vec![ClaimDocument::ClaimForm],
            requested_via: Channel::Phone,
        }
        .into(),
        CompleteClaimDocuments {
            claim_number,
            documents: vec![ClaimDocument::ClaimForm],
        }
        .into(),
    ];
    for command in commands {
        let meta = CommandMeta {
            occurred_at: Some(at),
            ..CommandMeta::by(staff("claims-0001"))
        };
        harness
            .ledger
            .execute(command, meta)
            .await
            .expect("the claim's first cycle is recorded");
    }
    let head = harness.ledger.log().head().position;
    harness
        .ledger
        .runner()
        .wait_for(head, APPLIED_WAIT, None)
        .await
        .expect("every projection applies the claim's first cycle");
}

/// Reports `claim` of `customer` now on a one-working-day promise, surveys it and completes
/// its documents, through the API: due at closing time of the next working day.
async fn documented_now(harness: &Harness, claim: &str, customer: &str) {
    harness
        .mutate(
            Role::Agent,
            &format!(
                r#"mutation {{ reportClaim(input: {{ claimNumber: "{claim}", policyNumber: "{POLICY}", customerId: "{customer}",
                lossOccurredAt: "2025-06-01T08:00:00Z", location: "长春", description: "追尾", reportedVia: PHONE, injuries: false,
                timeGuaranteeWorkingDays: 1 }}) {{ position }} }}"#
            ),
        )
        .await;
    claim_after(
        harness,
        "surveyClaim",
        &format!(
            r#"claimNumber: "{claim}", onSite: false, assessedLoss: "265000", findings: "后保险杠""#
        ),
    )
    .await;
    documents_again(harness, claim).await;
}

/// Requests and completes `claim`'s documents through the API.
async fn documents_again(harness: &Harness, claim: &str) {
    claim_after(
        harness,
        "requestClaimDocuments",
        &format!(r#"claimNumber: "{claim}", documents: [CLAIM_FORM], requestedVia: PHONE"#),
    )
    .await;
    let completed = claim_after(
        harness,
        "completeClaimDocuments",
        &format!(r#"claimNumber: "{claim}", documents: [CLAIM_FORM]"#),
    )
    .await;
    assert_eq!(completed, "DOCUMENTS_COMPLETED");
}

/// Settles `claim` to the insured through the API.
async fn settle(harness: &Harness, claim: &str) {
    let settled = claim_after(
        harness,
        "settleClaim",
        &format!(
            r#"claimNumber: "{claim}", amount: "265000", payee: {{ kind: INSURED, name: "冯八" }}, directPayment: false"#
        ),
    )
    .await;
    assert_eq!(settled, "SETTLED");
}

/// The claim numbers `claimsPastGuarantee` lists, in order, as a supervisor reads them.
async fn past_guarantee_queue(harness: &Harness) -> Vec<String> {
    let response = harness
        .run(
            Role::Supervisor,
            "{ claimsPastGuarantee(first: 50) { edges { node { number } } } }",
        )
        .await;
    assert!(response.errors.is_empty(), "{:?}", response.errors);
    data(response)["claimsPastGuarantee"]["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|edge| text(&edge["node"]["number"]))
        .collect()
}

/// The guarantee fields of `claim` of `customer` as a supervisor reads them.
async fn guarantee_of(harness: &Harness, customer: &str, claim: &str) -> Value {
    let document = format!(
        r#"{{ customer(id: "{customer}") {{ claims(first: 10) {{ edges {{ node {{
        number status pastGuarantee overdue decidedLate lateDecisions reopenedCount }} }} }} }} }}"#
    );
    let response = harness.run(Role::Supervisor, &document).await;
    assert!(response.errors.is_empty(), "{:?}", response.errors);
    data(response)["customer"]["claims"]["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|edge| edge["node"].clone())
        .find(|node| text(&node["number"]) == claim)
        .expect("the claim is listed")
}

#[tokio::test(flavor = "multi_thread")]
async fn a_claim_decided_late_then_reopened_and_decided_on_time_stays_past_its_guarantee() {
    const LATE: &str = "CLM-LATE-0001";
    const ON_TIME: &str = "CLM-ONTIME-0001";
    let harness = Harness::start().await;
    let (customer, _) = harness.register("冯八", "13700137000").await;
    harness.issue_policy(POLICY, &customer).await;
    documented_at(
        &harness,
        LATE,
        &customer,
        jiff::Timestamp::now() - LATE_CYCLE_AGO,
    )
    .await;
    documented_now(&harness, ON_TIME, &customer).await;

    // Undecided past its due time: overdue, and so past its guarantee.
    let waiting = guarantee_of(&harness, &customer, LATE).await;
    assert_eq!(waiting["pastGuarantee"], true, "{waiting}");
    assert_eq!(waiting["overdue"], true, "{waiting}");
    assert!(waiting["decidedLate"].is_null(), "{waiting}");
    assert_eq!(past_guarantee_queue(&harness).await, [LATE]);

    // Decided late, then reopened: past its guarantee, though not overdue.
    for claim in [LATE, ON_TIME] {
        settle(&harness, claim).await;
        let reopened = claim_after(
            &harness,
            "reopenClaim",
            &format!(r#"claimNumber: "{claim}", reason: "客户补充新证据""#),
        )
        .await;
        assert_eq!(reopened, "REOPENED");
    }
    let reopened = guarantee_of(&harness, &customer, LATE).await;
    assert_eq!(reopened["pastGuarantee"], true, "{reopened}");
    assert_eq!(reopened["overdue"], false, "{reopened}");
    assert!(reopened["decidedLate"].is_null(), "{reopened}");
    assert_eq!(reopened["lateDecisions"], 1, "{reopened}");
    assert_eq!(past_guarantee_queue(&harness).await, [LATE]);

    // Decided on time in its second cycle, the breach stays, in the field and the queue.
    for claim in [LATE, ON_TIME] {
        documents_again(&harness, claim).await;
        settle(&harness, claim).await;
    }
    let fixed = guarantee_of(&harness, &customer, LATE).await;
    assert_eq!(fixed["status"], "SETTLED");
    assert_eq!(fixed["pastGuarantee"], true, "{fixed}");
    assert_eq!(fixed["overdue"], false, "{fixed}");
    assert_eq!(fixed["decidedLate"], false, "{fixed}");
    assert_eq!(fixed["lateDecisions"], 1, "{fixed}");
    assert_eq!(fixed["reopenedCount"], 1, "{fixed}");
    let twice_on_time = guarantee_of(&harness, &customer, ON_TIME).await;
    assert_eq!(twice_on_time["status"], "SETTLED");
    assert_eq!(twice_on_time["pastGuarantee"], false, "{twice_on_time}");
    assert_eq!(twice_on_time["decidedLate"], false, "{twice_on_time}");
    assert_eq!(twice_on_time["lateDecisions"], 0, "{twice_on_time}");
    assert_eq!(twice_on_time["reopenedCount"], 1, "{twice_on_time}");
    assert_eq!(past_guarantee_queue(&harness).await, [LATE]);
    harness.close().await;
}
