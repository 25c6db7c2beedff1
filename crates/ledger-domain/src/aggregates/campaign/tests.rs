//! Given / when / then tests of the campaign aggregate.

use jiff::civil::date;

use super::*;
use crate::aggregates::testing::given;
use crate::aggregates::{CustomerStanding, FixedContext, PolicyFacts, PolicyStanding};
use crate::kinds::{CampaignResponse, CostCategory, SegmentName};
use crate::samples::{self, staff, text, title};
use crate::values::Channel;

fn campaign() -> CampaignId {
    samples::campaign_id()
}

fn budget() -> Money {
    Money::from_fen(1_000_000)
}

fn launch() -> LaunchCampaign {
    LaunchCampaign {
        campaign_id: campaign(),
        name: title("春季续保"),
        budget: budget(),
        channels: vec![Channel::Phone, Channel::WeChat],
        target_segment: SegmentName::parse("targetSegment", "renewal-due").expect("valid"),
        period_start: date(2024, 3, 1),
        period_end: date(2024, 4, 30),
        owner: staff("mkt-0001"),
        description: None,
    }
}

fn launched() -> Event {
    CampaignLaunched {
        campaign_id: campaign(),
        name: title("春季续保"),
        budget: budget(),
        channels: vec![Channel::Phone, Channel::WeChat],
        target_segment: SegmentName::parse("targetSegment", "renewal-due").expect("valid"),
        period_start: date(2024, 3, 1),
        period_end: date(2024, 4, 30),
        owner: staff("mkt-0001"),
        description: None,
    }
    .into()
}

fn incur(fen: i64) -> IncurCampaignCost {
    IncurCampaignCost {
        campaign_id: campaign(),
        amount: Money::from_fen(fen),
        category: CostCategory::Sms,
        description: text("短信"),
    }
}

fn incurred(fen: i64, total_fen: i64) -> Event {
    CampaignCostIncurred {
        campaign_id: campaign(),
        amount: Money::from_fen(fen),
        category: CostCategory::Sms,
        description: text("短信"),
        total_cost: Money::from_fen(total_fen),
        over_budget: Money::from_fen(total_fen) > budget(),
    }
    .into()
}

fn touch(channel: Channel) -> SendCampaignTouch {
    SendCampaignTouch {
        campaign_id: campaign(),
        customer_id: samples::individual_customer_id(),
        channel,
        agent: None,
        contact_id: None,
    }
}

fn touched_event() -> CampaignTouchSent {
    CampaignTouchSent {
        campaign_id: campaign(),
        customer_id: samples::individual_customer_id(),
        channel: Channel::WeChat,
        agent: None,
        contact_id: None,
    }
}

fn touched() -> Event {
    touched_event().into()
}

fn respond(fen: i64) -> RecordCampaignResponse {
    RecordCampaignResponse {
        campaign_id: campaign(),
        customer_id: samples::individual_customer_id(),
        response: CampaignResponse::Purchased,
        channel: Channel::Phone,
        premium_won: Money::from_fen(fen),
        policy_number: Some(samples::policy_number()),
    }
}

fn responded(fen: i64) -> Event {
    CampaignResponded {
        campaign_id: campaign(),
        customer_id: samples::individual_customer_id(),
        response: CampaignResponse::Purchased,
        channel: Channel::Phone,
        premium_won: Money::from_fen(fen),
        policy_number: Some(samples::policy_number()),
    }
    .into()
}

fn close() -> CloseCampaign {
    CloseCampaign {
        campaign_id: campaign(),
        summary: None,
    }
}

fn closed_event(total_fen: i64, touches: u64, responses: u64, won_fen: i64) -> Event {
    CampaignClosed {
        campaign_id: campaign(),
        budget: budget(),
        total_cost: Money::from_fen(total_fen),
        touches,
        responses,
        premium_won: Money::from_fen(won_fen),
        summary: None,
    }
    .into()
}

fn transition(action: &'static str, state: &str) -> DomainError {
    DomainError::InvalidTransition {
        kind: "campaign",
        id: campaign().to_string(),
        action,
        state: state.to_owned(),
    }
}

fn not_found() -> DomainError {
    DomainError::NotFound {
        kind: "campaign",
        id: campaign().to_string(),
    }
}

#[test]
fn a_campaign_is_launched_once() {
    given::<Campaign>(&[]).when(launch()).then(&[launched()]);
    given::<Campaign>(&[launched()])
        .when(launch())
        .then_error(DomainError::AlreadyExists {
            kind: "campaign",
            id: campaign().to_string(),
        });
    let no_channels = LaunchCampaign {
        channels: Vec::new(),
        ..launch()
    };
    given::<Campaign>(&[])
        .when(no_channels)
        .then_invalid("channels");
}

#[test]
fn costs_carry_the_running_total_and_the_budget_check() {
    given::<Campaign>(&[launched()])
        .when(incur(600_000))
        .then(&[incurred(600_000, 600_000)]);
    let campaign = given::<Campaign>(&[launched(), incurred(600_000, 600_000)])
        .when(incur(500_000))
        .then(&[incurred(500_000, 1_100_000)]);
    assert_eq!(campaign.total_cost(), Some(Money::from_fen(1_100_000)));
    given::<Campaign>(&[launched()])
        .when(incur(0))
        .then_invalid("amount");
}

#[test]
fn costs_and_touches_only_while_the_campaign_runs() {
    given::<Campaign>(&[])
        .when(incur(100))
        .then_error(not_found());
    given::<Campaign>(&[])
        .when(touch(Channel::WeChat))
        .then_error(not_found());
    let closed_history = [launched(), closed_event(0, 0, 0, 0)];
    given::<Campaign>(&closed_history)
        .when(incur(100))
        .then_error(transition("incur a cost on", "closed"));
    given::<Campaign>(&closed_history)
        .when(touch(Channel::WeChat))
        .then_error(transition("send a touch for", "closed"));
}

#[test]
fn a_touch_uses_one_of_the_campaigns_channels() {
    given::<Campaign>(&[launched()])
        .when(touch(Channel::WeChat))
        .then(&[touched()]);
    given::<Campaign>(&[launched()])
        .when(touch(Channel::Email))
        .then_invalid("channel");
}

#[test]
fn responses_count_from_launch_on_even_after_closing() {
    given::<Campaign>(&[])
        .when(respond(100))
        .then_error(not_found());
    given::<Campaign>(&[launched()])
        .when(respond(486_000))
        .then(&[responded(486_000)]);
    given::<Campaign>(&[launched(), closed_event(0, 0, 0, 0)])
        .when(respond(486_000))
        .then(&[responded(486_000)]);
    let free_premium = RecordCampaignResponse {
        response: CampaignResponse::Interested,
        ..respond(100)
    };
    given::<Campaign>(&[launched()])
        .when(free_premium)
        .then_invalid("premiumWon");
}

#[test]
fn closing_records_the_figures_and_happens_once() {
    let history = [
        launched(),
        incurred(600_000, 600_000),
        touched(),
        touched(),
        responded(486_000),
    ];
    let campaign = given::<Campaign>(&history)
        .when(close())
        .then(&[closed_event(600_000, 2, 1, 486_000)]);
    assert_eq!(campaign.status(), Some(CampaignStatus::Closed));
    given::<Campaign>(&[launched(), closed_event(0, 0, 0, 0)])
        .when(close())
        .then_error(transition("close", "closed"));
    given::<Campaign>(&[]).when(close()).then_error(not_found());
}

fn customer() -> crate::ids::CustomerId {
    samples::individual_customer_id()
}

fn other_customer() -> crate::ids::CustomerId {
    samples::corporate_customer_id()
}

/// A context that knows the sample policy stands as `standing`.
fn knowing_policy(standing: PolicyStanding) -> FixedContext {
    FixedContext::at(samples::sample_time()).with_policy(samples::policy_number(), standing)
}

fn issued_to(holder: crate::ids::CustomerId) -> PolicyStanding {
    PolicyStanding::Issued(PolicyFacts {
        holder,
        periods: Vec::new(),
        premium: None,
        sold_through: None,
    })
}

#[test]
fn a_touch_goes_only_on_a_channel_the_customer_consented_to() {
    let consented =
        FixedContext::at(samples::sample_time()).with_consents(customer(), &[Channel::WeChat]);
    given::<Campaign>(&[launched()])
        .with_context(consented.clone())
        .when(touch(Channel::WeChat))
        .then(&[touched()]);
    // Phone is one of the campaign's channels, but the customer never opted in to it.
    given::<Campaign>(&[launched()])
        .with_context(consented)
        .when(touch(Channel::Phone))
        .then_invalid("channel");
    // Consent is opt-in: a customer known to have granted nothing is touched on no channel,
    // and the refusal says which rule and which channel.
    let none_granted = FixedContext::at(samples::sample_time()).with_consents(customer(), &[]);
    let campaign: Campaign = crate::aggregates::fold(&[launched()]);
    match campaign.handle(&touch(Channel::WeChat).into(), &none_granted) {
        Err(DomainError::Validation(error)) => {
            assert_eq!(error.field, "channel");
            assert!(error.rule.contains("consented"), "{}", error.rule);
            assert!(error.rule.contains("WECHAT"), "{}", error.rule);
        }
        other => panic!("expected a refusal on channel, got {other:?}"),
    }
    // A context that cannot tell the consents does not check.
    given::<Campaign>(&[launched()])
        .when(touch(Channel::Phone))
        .then(&[CampaignTouchSent {
            channel: Channel::Phone,
            ..touched_event()
        }
        .into()]);
}

#[test]
fn a_purchase_names_the_policy_bought() {
    let unnamed = RecordCampaignResponse {
        policy_number: None,
        ..respond(486_000)
    };
    given::<Campaign>(&[launched()])
        .when(unnamed)
        .then_invalid("policyNumber");
    // Other answers need no policy.
    let interested = RecordCampaignResponse {
        response: CampaignResponse::Interested,
        policy_number: None,
        ..respond(0)
    };
    given::<Campaign>(&[launched()])
        .when(interested)
        .then(&[CampaignResponded {
            campaign_id: campaign(),
            customer_id: customer(),
            response: CampaignResponse::Interested,
            channel: Channel::Phone,
            premium_won: Money::ZERO,
            policy_number: None,
        }
        .into()]);
}

#[test]
fn a_response_names_a_policy_of_the_responding_customer() {
    given::<Campaign>(&[launched()])
        .with_context(knowing_policy(issued_to(customer())))
        .when(respond(486_000))
        .then(&[responded(486_000)]);
    given::<Campaign>(&[launched()])
        .with_context(knowing_policy(PolicyStanding::Unknown))
        .when(respond(486_000))
        .then_error(DomainError::NotFound {
            kind: "policy",
            id: samples::policy_number().to_string(),
        });
    given::<Campaign>(&[launched()])
        .with_context(knowing_policy(issued_to(other_customer())))
        .when(respond(486_000))
        .then_invalid("policyNumber");
    // A policy issued to a duplicate merged into the responding customer is theirs.
    let merged = knowing_policy(issued_to(other_customer()))
        .with_standing(other_customer(), CustomerStanding::MergedInto(customer()));
    given::<Campaign>(&[launched()])
        .with_context(merged)
        .when(respond(486_000))
        .then(&[responded(486_000)]);
}

#[test]
fn a_purchase_wins_an_issued_policy_once_and_its_premium() {
    let priced = |fen| {
        knowing_policy(PolicyStanding::Issued(PolicyFacts {
            holder: customer(),
            periods: Vec::new(),
            premium: Some(Money::from_fen(fen)),
            sold_through: None,
        }))
    };
    given::<Campaign>(&[launched()])
        .with_context(priced(486_000))
        .when(respond(486_000))
        .then(&[responded(486_000)]);
    // Another amount than the policy's premium.
    given::<Campaign>(&[launched()])
        .with_context(priced(486_000))
        .when(respond(123))
        .then_invalid("premiumWon");
    // The same policy bought again in this campaign.
    given::<Campaign>(&[launched(), responded(486_000)])
        .with_context(priced(486_000))
        .when(respond(486_000))
        .then_invalid("policyNumber");
    // Only quoted: nothing was bought yet.
    given::<Campaign>(&[launched()])
        .with_context(knowing_policy(PolicyStanding::Quoted {
            holder: customer(),
        }))
        .when(respond(486_000))
        .then_invalid("policyNumber");
}

/// Another campaign than [`campaign`].
fn other_campaign() -> CampaignId {
    CampaignId::parse("campaignId", "0190a5e2-8c3b-7d4e-9f00-0000000ca0ff").expect("valid")
}

/// The policy as its stream stands after `history` (the sample policy, issued to the
/// responding customer).
fn policy_after(history: &[Event]) -> FixedContext {
    let policy: crate::aggregates::Policy = crate::aggregates::fold(history);
    knowing_policy(policy.standing())
}

fn policy_issued(fen: i64, through: Option<CampaignId>) -> Event {
    crate::events::PolicyIssued {
        policy_number: samples::policy_number(),
        customer_id: customer(),
        product_lines: vec![crate::kinds::ProductLine::CompulsoryTraffic],
        plate: samples::plate(),
        vin: samples::vin(),
        premium: Money::from_fen(fen),
        period_start: date(2024, 3, 16),
        period_end: date(2025, 3, 15),
        sales_channel: Channel::Phone,
        campaign_id: through,
    }
    .into()
}

fn policy_renewed(fen: i64, through: Option<CampaignId>) -> Event {
    crate::events::PolicyRenewed {
        policy_number: samples::policy_number(),
        customer_id: customer(),
        product_lines: vec![crate::kinds::ProductLine::CompulsoryTraffic],
        premium: Money::from_fen(fen),
        previous_premium: Money::from_fen(fen),
        period_start: date(2025, 3, 16),
        period_end: date(2026, 3, 15),
        sales_channel: Channel::Phone,
        campaign_id: through,
    }
    .into()
}

#[test]
fn a_purchase_wins_a_sale_in_one_campaign_only() {
    // Issued through another campaign: that sale is the other campaign's.
    let refused = given::<Campaign>(&[launched()])
        .with_context(policy_after(&[policy_issued(
            486_000,
            Some(other_campaign()),
        )]))
        .when(respond(486_000))
        .error();
    let DomainError::Validation(refused) = refused else {
        panic!("expected a refusal on policyNumber, got {refused:?}");
    };
    assert_eq!(refused.field, "policyNumber");
    assert_eq!(
        refused.rule,
        format!(
            "policy {}'s sale is already credited to campaign {}; a sale is won in one campaign",
            samples::policy_number(),
            other_campaign()
        )
    );
    // Issued through this campaign, or through none: the purchase is this campaign's.
    for through in [Some(campaign()), None] {
        given::<Campaign>(&[launched()])
            .with_context(policy_after(&[policy_issued(486_000, through)]))
            .when(respond(486_000))
            .then(&[responded(486_000)]);
    }
    // Issued through none, and another campaign's purchase response won it first.
    given::<Campaign>(&[launched()])
        .with_context(
            policy_after(&[policy_issued(486_000, None)])
                .with_sale_credit(samples::policy_number(), other_campaign()),
        )
        .when(respond(486_000))
        .then_invalid("policyNumber");
    // The renewal is a sale of its own: renewed through this campaign, it is this campaign's
    // whatever the issue named; renewed through another, it is not.
    given::<Campaign>(&[launched()])
        .with_context(policy_after(&[
            policy_issued(486_000, Some(other_campaign())),
            policy_renewed(500_000, Some(campaign())),
        ]))
        .when(respond(500_000))
        .then(&[responded(500_000)]);
    given::<Campaign>(&[launched()])
        .with_context(policy_after(&[
            policy_issued(486_000, Some(campaign())),
            policy_renewed(500_000, Some(other_campaign())),
        ]))
        .when(respond(500_000))
        .then_invalid("policyNumber");
    // The sale's own policy event decides over a purchase response of another campaign (a
    // ledger written before this rule may hold one).
    given::<Campaign>(&[launched()])
        .with_context(
            policy_after(&[policy_issued(486_000, Some(campaign()))])
                .with_sale_credit(samples::policy_number(), other_campaign()),
        )
        .when(respond(486_000))
        .then(&[responded(486_000)]);
}
