//! The access matrix: every root query field, mutation and subscription (and every argument the
//! table lists) executed as every role, compared with `access::allowed`.

use std::collections::BTreeSet;
use std::time::Duration;

use async_graphql::Request;
use ledger_graphql::access::{ACCESS, allowed};
use ledger_graphql::{ApiOptions, Role};

use crate::support::{Harness, caller, codes, data, next_within, subject, text};

/// A customer, case, campaign and process that exist once `setup` has run, and a contact id.
const CUSTOMER: &str = "0190a5e2-8c3b-7d4e-9f00-00000000c001";
const SURVIVOR: &str = "0190a5e2-8c3b-7d4e-9f00-00000000c002";
const NOBODY: &str = "0190a5e2-8c3b-7d4e-9f00-00000000c0ff";
const CASE: &str = "0190a5e2-8c3b-7d4e-9f00-00000000ca5e";
const CAMPAIGN: &str = "0190a5e2-8c3b-7d4e-9f00-00000000ca4a";
const PROCESS: &str = "0190a5e2-8c3b-7d4e-9f00-00000000b0c5";
const CONTACT: &str = "0190a5e2-8c3b-7d4e-9f00-00000000c0c0";

/// One minimal operation per table entry. `{subject}` is the caller's own id.
fn operations() -> Vec<(&'static str, String)> {
    let policy = r#"policyNumber: "PDAA2025220100001""#;
    let claim = r#"claimNumber: "RDAA2025220100001""#;
    let contact = r#"channel: PHONE, direction: INBOUND, startedAt: "2025-03-01T08:00:00Z", durationSeconds: 60, topic: ENQUIRY, summary: "s", outcome: RESOLVED"#;
    let vehicle = r#"productLines: [COMPULSORY_TRAFFIC], plate: "吉A12345", vin: "LSVAM4187C2184847", premium: "95000", periodStart: "2025-03-01", periodEnd: "2026-02-28", salesChannel: PHONE"#;
    let query = |field: &'static str, body: &str| (field, format!("query {{ {body} }}"));
    let mutation = |field: &'static str, input: String| {
        (
            field,
            format!("mutation {{ {field}(input: {{ {input} }}) {{ position }} }}"),
        )
    };
    let subscription =
        |field: &'static str, body: &str| (field, format!("subscription {{ {body} }}"));
    vec![
        query("viewer", "viewer { role }"),
        query("customer", &format!(r#"customer(id: "{CUSTOMER}") {{ id }}"#)),
        query("customerByIdentifier", r#"customerByIdentifier(kind: MOBILE, value: "13800138000") { id }"#),
        query("customers", "customers(first: 1) { edges { cursor } }"),
        query("customers.search", r#"customers(search: "张", first: 1) { edges { cursor } }"#),
        query("serviceCases", "serviceCases(first: 1) { edges { cursor } }"),
        query("serviceCases.breachedOnly", "serviceCases(breachedOnly: true, first: 1) { edges { cursor } }"),
        query("claimsPastGuarantee", "claimsPastGuarantee(first: 1) { edges { cursor } }"),
        query("events", "events(first: 1) { edges { cursor } }"),
        query("ledger", "ledger { headPosition }"),
        query("verifyLedger", "verifyLedger { ok }"),
        query("customerAsOf", &format!(r#"customerAsOf(id: "{CUSTOMER}", position: "1") {{ position }}"#)),
        query("inclusionProof", r#"inclusionProof(position: "1") { treeSize }"#),
        query("consistencyProof", r#"consistencyProof(fromSize: "1") { toSize }"#),
        query("signedCheckpoint", "signedCheckpoint { treeSize }"),
        query("accessLog", &format!(r#"accessLog(customerId: "{CUSTOMER}", first: 1) {{ edges {{ cursor }} }}"#)),
        query("segments", "segments { name size }"),
        query("segment", r#"segment(name: "key-accounts") { size }"#),
        query(
            "segmentChanges",
            r#"segmentChanges(name: "at-risk", from: "2026-10-01T00:00:00Z", to: "2026-11-01T00:00:00Z") { entered left }"#,
        ),
        query("customers.segment", r#"customers(segment: "key-accounts", first: 1) { edges { cursor } }"#),
        query("campaigns", "campaigns(first: 1) { edges { cursor } }"),
        query("campaign", &format!(r#"campaign(id: "{CAMPAIGN}") {{ id }}"#)),
        query("followUps", "followUps(first: 1) { edges { cursor } }"),
        query("channelStats", r#"channelStats(from: "2025-01-01T00:00:00Z", to: "2025-02-01T00:00:00Z", bucket: DAY) { contacts }"#),
        query("busiestHours", r#"busiestHours(from: "2025-01-01T00:00:00Z", to: "2025-02-01T00:00:00Z")"#),
        query("agentStats", r#"agentStats(from: "2025-01-01", to: "2025-01-31", first: 1) { edges { cursor } }"#),
        query("managerStats", r#"managerStats(from: "2025-01-01", to: "2025-01-31", first: 1) { edges { cursor } }"#),
        query("processes", "processes(first: 1) { edges { cursor } }"),
        query("process", &format!(r#"process(id: "{PROCESS}") {{ id }}"#)),
        query("processNetwork", "processNetwork { orphans(first: 1) { edges { cursor } } }"),
        mutation("registerCustomer", r#"kind: INDIVIDUAL, name: "测试""#.to_owned()),
        mutation("addIdentifier", format!(r#"customerId: "{CUSTOMER}", identifier: {{ kind: EMAIL, value: "a@example.com" }}"#)),
        mutation("removeIdentifier", format!(r#"customerId: "{CUSTOMER}", identifier: {{ kind: EMAIL, value: "b@example.com" }}"#)),
        mutation("updateProfile", format!(r#"customerId: "{CUSTOMER}", name: "张三""#)),
        mutation("changeConsent", format!(r#"customerId: "{CUSTOMER}", channel: PHONE, granted: true"#)),
        mutation("mergeCustomers", format!(r#"customerId: "{NOBODY}", survivorId: "{SURVIVOR}""#)),
        mutation("assignAccountManager", format!(r#"customerId: "{CUSTOMER}", manager: "am-01", teamLead: "tl-01""#)),
        mutation("eraseCustomer", format!(r#"customerId: "{NOBODY}", reason: CUSTOMER_REQUEST"#)),
        mutation("recordContact", format!(r#"customerId: "{CUSTOMER}", {contact}"#)),
        mutation("correctContact", format!(r#"contactId: "{CONTACT}", customerId: "{CUSTOMER}", agent: "agent-0042", reason: "typo", {contact}"#)),
        mutation("recordSatisfaction", format!(r#"customerId: "{CUSTOMER}", csat: 5"#)),
        mutation("recordEnquiry", r#"channel: WEB, mobile: "13700137000""#.to_owned()),
        mutation("eraseEnquiry", format!(r#"enquiryId: "{NOBODY}", reason: CUSTOMER_REQUEST"#)),
        mutation("quotePolicy", format!(r#"{policy}, customerId: "{CUSTOMER}", {vehicle}, validUntil: "2025-03-15""#)),
        mutation("issuePolicy", format!(r#"{policy}, customerId: "{CUSTOMER}", {vehicle}"#)),
        mutation("renewPolicy", format!(r#"{policy}, productLines: [COMPULSORY_TRAFFIC], premium: "95000", periodStart: "2026-03-01", periodEnd: "2027-02-28", salesChannel: PHONE"#)),
        mutation("endorsePolicy", format!(r#"{policy}, effectiveOn: "2025-04-01", description: "new plate", premiumChange: "0""#)),
        mutation("lapsePolicy", format!(r#"{policy}, lapsedOn: "2026-03-01""#)),
        mutation("cancelPolicy", format!(r#"{policy}, cancelledOn: "2025-05-01", reason: CUSTOMER_REQUEST, refund: "0""#)),
        mutation("reportClaim", format!(r#"{claim}, {policy}, customerId: "{CUSTOMER}", lossOccurredAt: "2025-03-01T08:00:00Z", location: "长春", description: "rear-ended", reportedVia: PHONE, injuries: false"#)),
        mutation("surveyClaim", format!(r#"{claim}, onSite: true, assessedLoss: "120000", findings: "bumper""#)),
        mutation("requestClaimDocuments", format!(r#"{claim}, documents: [CLAIM_FORM], requestedVia: PHONE"#)),
        mutation("completeClaimDocuments", format!(r#"{claim}, documents: [CLAIM_FORM]"#)),
        mutation("settleClaim", format!(r#"{claim}, amount: "120000", payee: {{ kind: INSURED, name: "张三" }}, directPayment: false"#)),
        mutation("rejectClaim", format!(r#"{claim}, reason: NOT_COVERED, explanation: "not covered""#)),
        mutation("reopenClaim", format!(r#"{claim}, reason: "new evidence""#)),
        mutation("openServiceCase", format!(r#"customerId: "{CUSTOMER}", kind: CONSULTATION, priority: NORMAL, subject: "s", channel: PHONE, deadline: "2030-03-02T08:00:00Z""#)),
        mutation("assignServiceCase", format!(r#"caseId: "{CASE}", assignee: "agent-0042""#)),
        mutation("escalateServiceCase", format!(r#"caseId: "{CASE}", escalatedTo: "supervisor-07", reason: "r", priority: HIGH"#)),
        mutation("resolveServiceCase", format!(r#"caseId: "{CASE}", resolution: "r""#)),
        mutation("reopenServiceCase", format!(r#"caseId: "{CASE}", reason: "r", deadline: "2030-03-03T08:00:00Z""#)),
        mutation("closeServiceCase", format!(r#"caseId: "{CASE}", customerConfirmed: true"#)),
        mutation("completeRiskSurvey", format!(r#"caseId: "{CASE}", findings: "f""#)),
        mutation("followUpRiskRecommendation", format!(r#"caseId: "{CASE}", recommendation: 1, status: IN_PROGRESS, note: "n""#)),
        mutation("launchCampaign", r#"name: "续保季", budget: "100000", channels: [PHONE], targetSegment: "renewal-due-30d", periodStart: "2025-03-01", periodEnd: "2025-03-31", owner: "mkt-01""#.to_owned()),
        mutation("incurCampaignCost", format!(r#"campaignId: "{CAMPAIGN}", amount: "100", category: SMS, description: "d""#)),
        mutation("sendCampaignTouch", format!(r#"campaignId: "{CAMPAIGN}", customerId: "{CUSTOMER}", channel: PHONE"#)),
        mutation("recordCampaignResponse", format!(r#"campaignId: "{CAMPAIGN}", customerId: "{CUSTOMER}", response: INTERESTED, channel: PHONE, premiumWon: "0""#)),
        mutation("closeCampaign", format!(r#"campaignId: "{CAMPAIGN}""#)),
        mutation("publishProcess", r#"title: "理赔", department: "客服", version: 1, owner: "ops-01""#.to_owned()),
        mutation("recordProcessTraining", format!(r#"processId: "{PROCESS}", staff: "agent-0042", version: 1"#)),
        subscription("ledgerEvents", r#"ledgerEvents(afterPosition: "0") { position }"#),
        subscription("customerActivity", &format!(r#"customerActivity(customerId: "{CUSTOMER}") {{ position }}"#)),
        subscription("screenPop", "screenPop(agent: \"{subject}\") { position }"),
        subscription("screenPop.anyAgent", r#"screenPop(agent: "agent-9999") { position }"#),
    ]
}

/// Whether running `document` as `role` was refused as FORBIDDEN.
async fn forbidden(harness: &Harness, role: Role, document: &str) -> bool {
    let document = document.replace("{subject}", subject(role));
    if document.starts_with("subscription") {
        let mut stream = harness
            .schema
            .execute_stream(Request::new(document.as_str()).data(caller(role)));
        // A refusal comes at once; an allowed subscription may wait for events that never come.
        return match next_within(&mut stream, Duration::from_millis(500)).await {
            Some(response) => refused(&document, &response),
            None => false,
        };
    }
    refused(&document, &harness.run(role, &document).await)
}

fn refused(document: &str, response: &async_graphql::Response) -> bool {
    let codes = codes(response);
    assert!(
        !codes
            .iter()
            .any(|code| code == "UNAUTHENTICATED" || code.is_empty()),
        "{document}: {:?}",
        response.errors
    );
    codes.iter().any(|code| code == "FORBIDDEN")
}

/// A customer, a survivor, a case, a campaign and a process for the operations to act on.
async fn setup(harness: &Harness) {
    for (id, name) in [(CUSTOMER, "张三"), (SURVIVOR, "李四")] {
        harness.mutate(Role::Admin, &format!(r#"mutation {{ registerCustomer(input: {{ customerId: "{id}", kind: INDIVIDUAL, name: "{name}" }}) {{ id }} }}"#)).await;
    }
    harness
        .mutate(Role::Admin, &format!(r#"mutation {{ openServiceCase(input: {{ caseId: "{CASE}", customerId: "{CUSTOMER}", kind: RISK_SURVEY, priority: NORMAL, subject: "s", channel: PHONE, deadline: "2030-03-02T08:00:00Z" }}) {{ id }} }}"#))
        .await;
    harness
        .mutate(Role::Admin, &format!(r#"mutation {{ launchCampaign(input: {{ campaignId: "{CAMPAIGN}", name: "续保季", budget: "100000", channels: [PHONE], targetSegment: "renewal-due-30d", periodStart: "2025-03-01", periodEnd: "2030-03-31", owner: "mkt-01" }}) {{ id }} }}"#))
        .await;
    harness
        .mutate(Role::Admin, &format!(r#"mutation {{ publishProcess(input: {{ processId: "{PROCESS}", title: "理赔", department: "客服", version: 1, owner: "ops-01" }}) {{ id }} }}"#))
        .await;
}

/// The root fields the schema declares, by operation type.
async fn root_fields() -> BTreeSet<String> {
    let harness = Harness::start_with(ApiOptions {
        introspection: true,
        ..ApiOptions::default()
    })
    .await;
    let response = harness
        .run(Role::Admin, "{ __schema { queryType { fields { name } } mutationType { fields { name } } subscriptionType { fields { name } } } }")
        .await;
    let schema = data(response)["__schema"].clone();
    let mut names = BTreeSet::new();
    for root in ["queryType", "mutationType", "subscriptionType"] {
        for field in schema[root]["fields"].as_array().expect("fields") {
            names.insert(text(&field["name"]));
        }
    }
    harness.close().await;
    names
}

#[tokio::test(flavor = "multi_thread")]
async fn every_root_field_answers_every_role_as_the_access_table_says() {
    let operations = operations();
    let tested: BTreeSet<String> = operations
        .iter()
        .map(|(field, _)| (*field).to_owned())
        .collect();
    let table: BTreeSet<String> = ACCESS
        .iter()
        .map(|(field, _)| (*field).to_owned())
        .collect();
    assert_eq!(
        tested, table,
        "every table entry has an operation here, and nothing else does"
    );
    let roots = root_fields().await;
    let table_roots: BTreeSet<String> = table
        .iter()
        .filter(|field| !field.contains('.'))
        .cloned()
        .collect();
    assert_eq!(
        roots, table_roots,
        "the table lists every root field of the schema"
    );

    let harness = Harness::start().await;
    setup(&harness).await;
    let mut mismatches = Vec::new();
    for (field, document) in &operations {
        for role in Role::ALL {
            let expected = allowed(role, field);
            if forbidden(&harness, role, document).await == expected {
                mismatches.push(format!("{field} as {role:?}: allowed by the table = {expected}, but the schema disagrees"));
            }
        }
    }
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
    harness.close().await;
}
