//! Marketing's rules through the API: a campaign response names a policy of the responding
//! customer (and a purchase names the policy bought, a sale won in one campaign), a touch needs
//! the customer's consent on its channel, each year of a policy is one sale, a cancelled sale's
//! refund stands beside the premium won and ROI is on what was kept (exactly, however large),
//! and segments leave erased customers out.

use ledger_graphql::Role;
use serde_json::Value;

use crate::support::{Harness, assert_invalid, codes, data, extension, text};

const CAMPAIGN: &str = "0190a5e2-8c3b-7d4e-9f00-0000000ca001";
const OTHER_CAMPAIGN: &str = "0190a5e2-8c3b-7d4e-9f00-0000000ca002";
const POLICY: &str = "PDAA2025220100077";

/// Launches `CAMPAIGN` on the phone and WeChat, aimed at a segment the shipped rules define.
async fn launch(harness: &Harness) {
    launch_campaign(harness, CAMPAIGN).await;
}

/// Launches `campaign` as [`launch`] does.
async fn launch_campaign(harness: &Harness, campaign: &str) {
    harness
        .mutate(
            Role::Admin,
            &format!(
                r#"mutation {{ launchCampaign(input: {{ campaignId: "{campaign}", name: "春季续保",
                budget: "1000000", channels: [PHONE, WECHAT], targetSegment: "renewal-due-30d",
                periodStart: "2025-03-01", periodEnd: "2025-04-30", owner: "mkt-0001" }}) {{ id }} }}"#
            ),
        )
        .await;
}

/// Issues `POLICY` to `holder` for `premium` fen, through `CAMPAIGN` when `via_campaign`.
async fn issue_policy(harness: &Harness, holder: &str, premium: &str, via_campaign: bool) {
    let campaign = if via_campaign {
        format!(r#", campaignId: "{CAMPAIGN}""#)
    } else {
        String::new()
    };
    harness
        .mutate(
            Role::Admin,
            &format!(
                r#"mutation {{ issuePolicy(input: {{ policyNumber: "{POLICY}", customerId: "{holder}",
                productLines: [COMPULSORY_TRAFFIC], plate: "吉A12345", vin: "LSVAM4187C2184847", premium: "{premium}",
                periodStart: "2025-03-01", periodEnd: "2026-02-28", salesChannel: PHONE{campaign} }}) {{ position }} }}"#
            ),
        )
        .await;
}

fn respond(customer: &str, response: &str, premium: &str, policy: Option<&str>) -> String {
    respond_in(CAMPAIGN, customer, response, premium, policy)
}

fn respond_in(
    campaign: &str,
    customer: &str,
    response: &str,
    premium: &str,
    policy: Option<&str>,
) -> String {
    let policy = policy.map_or_else(String::new, |number| {
        format!(r#", policyNumber: "{number}""#)
    });
    format!(
        r#"mutation {{ recordCampaignResponse(input: {{ campaignId: "{campaign}", customerId: "{customer}",
        response: {response}, channel: PHONE, premiumWon: "{premium}"{policy} }}) {{ position }} }}"#
    )
}

fn touch(customer: &str, channel: &str) -> String {
    format!(
        r#"mutation {{ sendCampaignTouch(input: {{ campaignId: "{CAMPAIGN}", customerId: "{customer}",
        channel: {channel} }}) {{ position }} }}"#
    )
}

fn consent(customer: &str, channel: &str, granted: bool) -> String {
    format!(
        r#"mutation {{ changeConsent(input: {{ customerId: "{customer}", channel: {channel},
        granted: {granted} }}) {{ position }} }}"#
    )
}

/// The campaign's figures, as an analyst reads them.
async fn figures(harness: &Harness) -> Value {
    figures_of(harness, CAMPAIGN).await
}

async fn figures_of(harness: &Harness, campaign: &str) -> Value {
    let response = harness
        .run(
            Role::Analyst,
            &format!(
                r#"{{ campaign(id: "{campaign}") {{ cost conversions premiumWon cancellations
                premiumRefunded premiumKept roiBasisPoints }} }}"#
            ),
        )
        .await;
    assert!(response.errors.is_empty(), "{:?}", response.errors);
    data(response)["campaign"].clone()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_response_names_a_policy_of_the_responding_customer_and_a_purchase_names_one() {
    let harness = Harness::start().await;
    let (holder, _) = harness.register("张三", "13800138000").await;
    let (other, _) = harness.register("李四", "13900139000").await;
    launch(&harness).await;
    issue_policy(&harness, &holder, "480000", false).await;

    // Another customer's policy: its premium is not theirs to win.
    let response = harness
        .run(
            Role::Supervisor,
            &respond(&other, "PURCHASED", "480000", Some(POLICY)),
        )
        .await;
    assert_invalid(&response, "input.policyNumber");
    let rule = extension(&response.errors[0], "rule").unwrap_or_default();
    assert!(
        rule.starts_with("a policy held by the responding customer"),
        "{rule}"
    );

    // A policy nobody issued or quoted.
    let response = harness
        .run(
            Role::Supervisor,
            &respond(&holder, "PURCHASED", "480000", Some("PDAA2025220100099")),
        )
        .await;
    assert_eq!(codes(&response), ["NOT_FOUND"], "{:?}", response.errors);

    // A purchase that names no policy.
    let response = harness
        .run(
            Role::Supervisor,
            &respond(&holder, "PURCHASED", "480000", None),
        )
        .await;
    assert_invalid(&response, "input.policyNumber");

    // Another amount than the policy's premium.
    let response = harness
        .run(
            Role::Supervisor,
            &respond(&holder, "PURCHASED", "123", Some(POLICY)),
        )
        .await;
    assert_invalid(&response, "input.premiumWon");

    // None of those won anything; the holder's own purchase does, and an answer that buys
    // nothing needs no policy.
    assert_eq!(figures(&harness).await["premiumWon"], "0");
    harness
        .mutate(
            Role::Supervisor,
            &respond(&holder, "PURCHASED", "480000", Some(POLICY)),
        )
        .await;
    harness
        .mutate(Role::Supervisor, &respond(&other, "INTERESTED", "0", None))
        .await;
    let campaign = figures(&harness).await;
    assert_eq!(
        (&campaign["conversions"], &campaign["premiumWon"]),
        (&Value::from(1), &Value::from("480000"))
    );
    // A policy is won once in a campaign.
    let response = harness
        .run(
            Role::Supervisor,
            &respond(&holder, "PURCHASED", "480000", Some(POLICY)),
        )
        .await;
    assert_invalid(&response, "input.policyNumber");
    harness.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_sale_is_won_in_one_campaign_and_its_refund_goes_there() {
    let harness = Harness::start().await;
    let (holder, _) = harness.register("张三", "13800138000").await;
    launch(&harness).await;
    launch_campaign(&harness, OTHER_CAMPAIGN).await;
    issue_policy(&harness, &holder, "100000", true).await;

    // Sold through CAMPAIGN: the other campaign's purchase of it is refused, naming the rule.
    let response = harness
        .run(
            Role::Supervisor,
            &respond_in(OTHER_CAMPAIGN, &holder, "PURCHASED", "100000", Some(POLICY)),
        )
        .await;
    assert_invalid(&response, "input.policyNumber");
    assert_eq!(
        extension(&response.errors[0], "rule").as_deref(),
        Some(
            format!(
                "policy {POLICY}'s sale is already credited to campaign {CAMPAIGN}; a sale is \
                 won in one campaign"
            )
            .as_str()
        )
    );
    // CAMPAIGN's own purchase response is the same sale: counted once.
    harness
        .mutate(
            Role::Supervisor,
            &respond(&holder, "PURCHASED", "100000", Some(POLICY)),
        )
        .await;
    harness
        .mutate(
            Role::Admin,
            &format!(
                r#"mutation {{ cancelPolicy(input: {{ policyNumber: "{POLICY}", cancelledOn: "2025-06-01",
                reason: VEHICLE_SOLD, refund: "100000" }}) {{ position }} }}"#
            ),
        )
        .await;
    let won = figures(&harness).await;
    assert_eq!(
        (
            &won["conversions"],
            &won["premiumWon"],
            &won["premiumRefunded"]
        ),
        (
            &Value::from(1),
            &Value::from("100000"),
            &Value::from("100000")
        )
    );
    let other = figures_of(&harness, OTHER_CAMPAIGN).await;
    assert_eq!(
        (
            &other["conversions"],
            &other["premiumWon"],
            &other["premiumRefunded"]
        ),
        (&Value::from(0), &Value::from("0"), &Value::from("0"))
    );
    harness.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_sale_a_purchase_response_won_is_not_won_again_in_another_campaign() {
    let harness = Harness::start().await;
    let (holder, _) = harness.register("张三", "13800138000").await;
    launch(&harness).await;
    launch_campaign(&harness, OTHER_CAMPAIGN).await;
    // Issued through no campaign; CAMPAIGN's purchase response wins the sale.
    issue_policy(&harness, &holder, "100000", false).await;
    harness
        .mutate(
            Role::Supervisor,
            &respond(&holder, "PURCHASED", "100000", Some(POLICY)),
        )
        .await;
    // The other campaign's purchase of the same sale is refused: the response is on
    // CAMPAIGN's stream, which only the marketing read model connects to the policy.
    let response = harness
        .run(
            Role::Supervisor,
            &respond_in(OTHER_CAMPAIGN, &holder, "PURCHASED", "100000", Some(POLICY)),
        )
        .await;
    assert_invalid(&response, "input.policyNumber");
    let rule = extension(&response.errors[0], "rule").unwrap_or_default();
    assert!(
        rule.contains(&format!("already credited to campaign {CAMPAIGN}")),
        "{rule}"
    );
    let other = figures_of(&harness, OTHER_CAMPAIGN).await;
    assert_eq!(other["conversions"], Value::from(0));
    harness.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_renewal_through_the_campaign_adds_its_year_to_the_year_a_purchase_won() {
    let harness = Harness::start().await;
    let (holder, _) = harness.register("张三", "13800138000").await;
    launch(&harness).await;
    issue_policy(&harness, &holder, "300000", false).await;
    harness
        .mutate(
            Role::Supervisor,
            &respond(&holder, "PURCHASED", "300000", Some(POLICY)),
        )
        .await;
    harness
        .mutate(
            Role::Admin,
            &format!(
                r#"mutation {{ renewPolicy(input: {{ policyNumber: "{POLICY}", productLines: [COMPULSORY_TRAFFIC],
                premium: "310000", periodStart: "2026-03-01", periodEnd: "2027-02-28", salesChannel: PHONE,
                campaignId: "{CAMPAIGN}" }}) {{ position }} }}"#
            ),
        )
        .await;
    let campaign = figures(&harness).await;
    assert_eq!(
        (&campaign["conversions"], &campaign["premiumWon"]),
        (&Value::from(2), &Value::from("610000"))
    );
    harness.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_touch_needs_the_customers_consent_on_its_channel() {
    let harness = Harness::start().await;
    let (customer, _) = harness.register("张三", "13800138000").await;
    launch(&harness).await;

    // Never asked: marketing is opt-in, so no channel is open.
    let response = harness
        .run(Role::Supervisor, &touch(&customer, "PHONE"))
        .await;
    assert_invalid(&response, "input.channel");
    let rule = extension(&response.errors[0], "rule").unwrap_or_default();
    assert!(
        rule.starts_with("a touch goes only on a channel the customer consented to")
            && rule.contains("PHONE"),
        "{rule}"
    );

    // Consent on WeChat opens WeChat, not the phone.
    harness
        .mutate(Role::Agent, &consent(&customer, "WECHAT", true))
        .await;
    harness
        .mutate(Role::Supervisor, &touch(&customer, "WECHAT"))
        .await;
    let response = harness
        .run(Role::Supervisor, &touch(&customer, "PHONE"))
        .await;
    assert_invalid(&response, "input.channel");

    // Withdrawn, it is closed again.
    harness
        .mutate(Role::Agent, &consent(&customer, "WECHAT", false))
        .await;
    let response = harness
        .run(Role::Supervisor, &touch(&customer, "WECHAT"))
        .await;
    assert_invalid(&response, "input.channel");
    harness.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_cancelled_sale_shows_its_refund_and_roi_is_on_the_premium_kept() {
    let harness = Harness::start().await;
    let (holder, _) = harness.register("张三", "13800138000").await;
    launch(&harness).await;
    harness
        .mutate(
            Role::Admin,
            &format!(
                r#"mutation {{ incurCampaignCost(input: {{ campaignId: "{CAMPAIGN}", amount: "100000",
                category: SMS, description: "短信" }}) {{ position }} }}"#
            ),
        )
        .await;
    issue_policy(&harness, &holder, "500000", true).await;
    let campaign = figures(&harness).await;
    // (500,000 − 100,000) / 100,000 = 400%.
    assert_eq!(campaign["roiBasisPoints"], "40000");

    harness
        .mutate(
            Role::Admin,
            &format!(
                r#"mutation {{ cancelPolicy(input: {{ policyNumber: "{POLICY}", cancelledOn: "2025-06-01",
                reason: VEHICLE_SOLD, refund: "300000" }}) {{ position }} }}"#
            ),
        )
        .await;
    let campaign = figures(&harness).await;
    assert_eq!(
        campaign,
        serde_json::json!({
            "cost": "100000",
            "conversions": 1,
            "premiumWon": "500000",
            "cancellations": 1,
            "premiumRefunded": "300000",
            "premiumKept": "200000",
            // (200,000 kept − 100,000) / 100,000 = 100%.
            "roiBasisPoints": "10000",
        })
    );
    harness.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn roi_is_exact_beyond_a_32_bit_int() {
    let harness = Harness::start().await;
    let (holder, _) = harness.register("张三", "13800138000").await;
    launch(&harness).await;
    // One fen spent, ¥10,000 won: 99,999,900% is 9,999,990,000 basis points, which an `Int`
    // (at most 2,147,483,647) cannot hold; it used to read as 2147483647.
    harness
        .mutate(
            Role::Admin,
            &format!(
                r#"mutation {{ incurCampaignCost(input: {{ campaignId: "{CAMPAIGN}", amount: "1",
                category: SMS, description: "短信" }}) {{ position }} }}"#
            ),
        )
        .await;
    issue_policy(&harness, &holder, "1000000", true).await;
    let campaign = figures(&harness).await;
    assert_eq!(text(&campaign["roiBasisPoints"]), "9999990000");
    harness.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_erased_customer_is_in_no_segment_and_not_counted_in_its_share() {
    let harness = Harness::start().await;
    let (kept, _) = harness.register("张三", "13800138000").await;
    let (erased, _) = harness.register("李四", "13900139000").await;
    // Both barely satisfied: at risk.
    for customer in [&kept, &erased] {
        harness
            .mutate(
                Role::Agent,
                &format!(
                    r#"mutation {{ recordSatisfaction(input: {{ customerId: "{customer}", csat: 2 }}) {{ position }} }}"#
                ),
            )
            .await;
    }
    harness
        .mutate(
            Role::Admin,
            &format!(
                r#"mutation {{ eraseCustomer(input: {{ customerId: "{erased}", reason: CUSTOMER_REQUEST }}) {{ position }} }}"#
            ),
        )
        .await;
    let response = harness
        .run(
            Role::Analyst,
            r#"{ segment(name: "at-risk") { size shareOfCustomers members { edges { node { customerId } } } } }"#,
        )
        .await;
    assert!(response.errors.is_empty(), "{:?}", response.errors);
    let segment = data(response)["segment"].clone();
    assert_eq!(
        segment,
        serde_json::json!({
            "size": 1,
            "shareOfCustomers": 1.0,
            "members": { "edges": [{ "node": { "customerId": kept } }] },
        })
    );
    harness.close().await;
}
