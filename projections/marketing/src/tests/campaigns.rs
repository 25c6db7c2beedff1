//! Campaign figures: cost, touches by channel, responses, conversions counted once per sale,
//! premium won, ROI and cost per conversion; the status at a reader's `now`; pages.

use ledger_domain::events::{CampaignClosed, PolicyCancelled, PolicyRenewed};
use ledger_domain::kinds::CancellationReason;

use super::*;
use crate::{CampaignStatus, PAGE_SIZE_MAX, QueryError, Roi, campaign, campaigns};

/// Launch, two costs, three touches, four responses (one purchase matched by its policy
/// event, one without a policy), one renewal attributed without a response.
fn busy_campaign() -> Ledger {
    let c = campaign_id(1);
    let mut ledger = Ledger::new();
    ledger
        .at("2025-03-01T09:00:00", launched(c, 1_000_000, "2025-03-01"))
        .at("2025-03-02T09:00:00", cost(c, 200_000, 200_000))
        .at("2025-03-03T09:00:00", touch(c, customer(1), Channel::Phone))
        .at("2025-03-03T09:05:00", touch(c, customer(2), Channel::Phone))
        .at(
            "2025-03-03T09:10:00",
            touch(c, customer(3), Channel::WeChat),
        )
        .at(
            "2025-03-04T10:00:00",
            response(c, customer(1), CampaignResponse::Interested, 0, None),
        )
        .at(
            "2025-03-05T10:00:00",
            issued(policy_number(1), customer(2), 500_000, Some(c)),
        )
        .at(
            "2025-03-05T10:01:00",
            response(
                c,
                customer(2),
                CampaignResponse::Purchased,
                500_000,
                Some(policy_number(1)),
            ),
        )
        .at(
            "2025-03-06T10:00:00",
            PolicyRenewed {
                policy_number: policy_number(2),
                customer_id: customer(3),
                product_lines: vec![ProductLine::CompulsoryTraffic],
                premium: Money::from_fen(400_000),
                previous_premium: Money::from_fen(380_000),
                period_start: date("2025-04-01"),
                period_end: date("2026-03-31"),
                sales_channel: Channel::WeChat,
                campaign_id: Some(c),
            },
        )
        .at(
            "2025-03-07T10:00:00",
            response(c, customer(4), CampaignResponse::Purchased, 100_000, None),
        )
        .at(
            "2025-03-08T10:00:00",
            response(c, customer(5), CampaignResponse::OptedOut, 0, None),
        )
        .at("2025-03-09T09:00:00", cost(c, 100_000, 300_000))
        // A policy sold without the campaign counts for nobody here.
        .at(
            "2025-03-10T10:00:00",
            issued(policy_number(3), customer(6), 999_000, None),
        );
    ledger
}

#[test]
fn a_campaign_adds_up_its_cost_touches_responses_and_premium_won() {
    let state = busy_campaign().fold();
    let record = campaign(&state, campaign_id(1)).unwrap().unwrap();
    assert_eq!(record.cost, Money::from_fen(300_000));
    assert_eq!(record.cost_entries, 2);
    assert_eq!(record.touches, 3);
    assert_eq!(
        record
            .touches_by_channel
            .clone()
            .into_iter()
            .collect::<Vec<_>>(),
        vec![(Channel::Phone, 2), (Channel::WeChat, 1)]
    );
    assert_eq!(record.responses, 4);
    assert_eq!(
        record
            .responses_by_kind
            .clone()
            .into_iter()
            .collect::<Vec<_>>(),
        vec![
            (CampaignResponse::Interested, 1),
            (CampaignResponse::Purchased, 2),
            (CampaignResponse::OptedOut, 1),
        ]
    );
    // Policy 1 (issued and answered: once), policy 2 (renewed), the purchase without policy.
    assert_eq!(record.conversions, 3);
    assert_eq!(record.premium_won, Money::from_fen(1_000_000));
    assert_eq!(record.budget_remaining(), Some(Money::from_fen(700_000)));
}

#[test]
fn roi_is_exact_and_cost_per_conversion_is_in_fen() {
    let state = busy_campaign().fold();
    let record = campaign(&state, campaign_id(1)).unwrap().unwrap();
    // (1,000,000 − 300,000) / 300,000 = 7/3 = 233.33...%.
    assert_eq!(
        record.roi(),
        Some(Roi {
            net_fen: 700_000,
            cost_fen: 300_000
        })
    );
    assert_eq!(record.roi().unwrap().basis_points(), 23_333);
    assert_eq!(record.cost_per_conversion(), Some(Money::from_fen(100_000)));

    // Nothing spent: no ROI; nothing sold: no cost per conversion.
    let mut ledger = Ledger::new();
    ledger.at(
        "2025-03-01T09:00:00",
        launched(campaign_id(2), 50_000, "2025-03-01"),
    );
    let state = ledger.fold();
    let record = campaign(&state, campaign_id(2)).unwrap().unwrap();
    assert_eq!((record.roi(), record.cost_per_conversion()), (None, None));

    // A loss is a negative ROI: 0 won for 30,000 spent is exactly −100%.
    ledger.at("2025-03-02T09:00:00", cost(campaign_id(2), 30_000, 30_000));
    let state = ledger.fold();
    let record = campaign(&state, campaign_id(2)).unwrap().unwrap();
    assert_eq!(record.roi().unwrap().basis_points(), -10_000);
}

#[test]
fn a_sale_counts_once_whichever_of_its_events_comes_first() {
    let c = campaign_id(1);
    let policy_first = [
        Event::from(issued(policy_number(1), customer(1), 480_000, Some(c))),
        response(
            c,
            customer(1),
            CampaignResponse::Purchased,
            480_000,
            Some(policy_number(1)),
        )
        .into(),
    ];
    let mut orders = vec![policy_first.to_vec()];
    orders.push(policy_first.iter().rev().cloned().collect());
    for events in orders {
        let mut ledger = Ledger::new();
        ledger.at("2025-03-01T09:00:00", launched(c, 1_000_000, "2025-03-01"));
        for event in events {
            ledger.at("2025-03-05T10:00:00", event);
        }
        let record = campaign(&ledger.fold(), c).unwrap().unwrap();
        assert_eq!(
            (record.conversions, record.premium_won),
            (1, Money::from_fen(480_000))
        );
    }

    // The policy system's premium wins over the response's when they differ.
    let mut ledger = Ledger::new();
    ledger
        .at(
            "2025-03-05T10:00:00",
            response(
                c,
                customer(1),
                CampaignResponse::Purchased,
                470_000,
                Some(policy_number(1)),
            ),
        )
        .at(
            "2025-03-05T10:01:00",
            issued(policy_number(1), customer(1), 480_000, Some(c)),
        );
    let record = campaign(&ledger.fold(), c).unwrap().unwrap();
    assert_eq!(
        (record.conversions, record.premium_won),
        (1, Money::from_fen(480_000))
    );
    // Known only from attributed facts: not launched.
    assert_eq!(
        record.status(beijing("2025-03-06T00:00:00")),
        CampaignStatus::NotLaunched
    );
}

#[test]
fn status_runs_from_planned_through_executing_to_closed() {
    let c = campaign_id(1);
    let mut ledger = Ledger::new();
    ledger.at("2025-03-20T09:00:00", launched(c, 1_000_000, "2025-04-01"));
    let record = campaign(&ledger.fold(), c).unwrap().unwrap();
    assert_eq!(
        record.status(beijing("2025-03-31T23:59:59")),
        CampaignStatus::Planned
    );
    // 2025-04-01 00:00 in Beijing is still 31 March in UTC: the plan's days are Beijing's.
    assert_eq!(
        record.status(beijing("2025-04-01T00:00:00")),
        CampaignStatus::Executing
    );
    assert_eq!(
        record.status(beijing("2025-07-01T00:00:00")),
        CampaignStatus::Executing
    );
    ledger.at(
        "2025-06-01T09:00:00",
        CampaignClosed {
            campaign_id: c,
            budget: Money::from_fen(1_000_000),
            total_cost: Money::ZERO,
            touches: 0,
            responses: 0,
            premium_won: Money::ZERO,
            summary: None,
        },
    );
    let record = campaign(&ledger.fold(), c).unwrap().unwrap();
    assert_eq!(
        record.status(beijing("2025-06-01T10:00:00")),
        CampaignStatus::Closed
    );
    let closing = record.closing.unwrap();
    assert_eq!(closing.closed_at, beijing("2025-06-01T09:00:00"));
}

#[test]
fn campaigns_page_in_id_order_and_refuse_bad_requests() {
    let mut ledger = Ledger::new();
    for n in [3, 1, 2] {
        ledger.at(
            "2025-03-01T09:00:00",
            launched(campaign_id(n), 1_000, "2025-03-01"),
        );
    }
    let state = ledger.fold();
    let first = campaigns(&state, None, 2).unwrap();
    let ids: Vec<_> = first.items.iter().map(|(_, record)| record.id).collect();
    assert_eq!(ids, vec![campaign_id(1), campaign_id(2)]);
    assert!(first.has_next_page);
    let cursor = first.items[1].0.clone();
    let rest = campaigns(&state, Some(&cursor), 2).unwrap();
    let ids: Vec<_> = rest.items.iter().map(|(_, record)| record.id).collect();
    assert_eq!(ids, vec![campaign_id(3)]);
    assert!(!rest.has_next_page);

    assert_eq!(
        campaigns(&state, None, PAGE_SIZE_MAX + 1),
        Err(QueryError::PageTooLarge {
            requested: PAGE_SIZE_MAX + 1,
            max: PAGE_SIZE_MAX
        })
    );
    for bad in [
        "",
        "campaign",
        "campaign:zz",
        "callback:00",
        "campaign:6162",
    ] {
        assert_eq!(
            campaigns(&state, Some(bad), 1),
            Err(QueryError::BadCursor),
            "{bad}"
        );
    }
    assert!(campaigns(&state, None, PAGE_SIZE_MAX).is_ok());
}

fn cancelled(policy: PolicyNumber, customer: CustomerId, refund_fen: i64) -> PolicyCancelled {
    PolicyCancelled {
        policy_number: policy,
        customer_id: customer,
        cancelled_on: date("2025-06-01"),
        reason: CancellationReason::CustomerRequest,
        refund: Money::from_fen(refund_fen),
    }
}

fn renewed(
    policy: PolicyNumber,
    customer: CustomerId,
    premium_fen: i64,
    campaign: Option<CampaignId>,
) -> PolicyRenewed {
    PolicyRenewed {
        policy_number: policy,
        customer_id: customer,
        product_lines: vec![ProductLine::CompulsoryTraffic],
        premium: Money::from_fen(premium_fen),
        previous_premium: Money::from_fen(premium_fen),
        period_start: date("2026-04-01"),
        period_end: date("2027-03-31"),
        sales_channel: Channel::Phone,
        campaign_id: campaign,
    }
}

#[test]
fn a_cancelled_sale_shows_its_refund_beside_the_premium_won_and_roi_is_on_what_was_kept() {
    let c = campaign_id(1);
    let mut ledger = busy_campaign();
    // Policy 1 (issued through the campaign for 500,000) is cancelled with 300,000 refunded.
    ledger.at(
        "2025-05-01T10:00:00",
        cancelled(policy_number(1), customer(2), 300_000),
    );
    let record = campaign(&ledger.fold(), c).unwrap().unwrap();
    // The conversion and the gross premium stay; the refund stands beside them.
    assert_eq!(
        (record.conversions, record.premium_won),
        (3, Money::from_fen(1_000_000))
    );
    assert_eq!(
        (record.cancellations, record.premium_refunded),
        (1, Money::from_fen(300_000))
    );
    assert_eq!(record.premium_kept(), Money::from_fen(700_000));
    // (700,000 kept − 300,000 cost) / 300,000 = 133.33...%.
    assert_eq!(record.roi().unwrap().basis_points(), 13_333);

    // A second cancellation of the same sale (an imported repeat) is not counted again, and a
    // policy sold without the campaign refunds nothing to it.
    ledger
        .at(
            "2025-05-02T10:00:00",
            cancelled(policy_number(1), customer(2), 300_000),
        )
        .at(
            "2025-05-03T10:00:00",
            cancelled(policy_number(3), customer(6), 999_000),
        );
    let again = campaign(&ledger.fold(), c).unwrap().unwrap();
    assert_eq!(again, record);
}

#[test]
fn a_refund_goes_to_the_campaign_credited_with_the_period_it_takes_back() {
    let (first, second) = (campaign_id(1), campaign_id(2));
    let mut ledger = Ledger::new();
    ledger
        .at(
            "2025-03-01T09:00:00",
            launched(first, 1_000_000, "2025-03-01"),
        )
        .at(
            "2025-03-01T09:00:00",
            launched(second, 1_000_000, "2025-03-01"),
        )
        .at(
            "2025-03-05T10:00:00",
            issued(policy_number(1), customer(1), 400_000, Some(first)),
        )
        .at(
            "2025-03-06T10:00:00",
            issued(policy_number(2), customer(2), 400_000, Some(first)),
        )
        // Policy 1 is renewed through the second campaign, policy 2 with no campaign.
        .at(
            "2026-03-05T10:00:00",
            renewed(policy_number(1), customer(1), 450_000, Some(second)),
        )
        .at(
            "2026-03-06T10:00:00",
            renewed(policy_number(2), customer(2), 450_000, None),
        )
        // A refund larger than the sale's premium (a renewal paid ahead) counts up to it.
        .at(
            "2026-05-01T10:00:00",
            cancelled(policy_number(1), customer(1), 600_000),
        )
        .at(
            "2026-05-02T10:00:00",
            cancelled(policy_number(2), customer(2), 200_000),
        );
    let state = ledger.fold();
    let first_record = campaign(&state, first).unwrap().unwrap();
    let second_record = campaign(&state, second).unwrap().unwrap();
    assert_eq!(
        (first_record.cancellations, first_record.premium_refunded),
        (0, Money::ZERO)
    );
    assert_eq!(
        (second_record.cancellations, second_record.premium_refunded),
        (1, Money::from_fen(450_000))
    );
}

#[test]
fn a_sale_known_only_from_its_purchase_response_is_refunded_too() {
    let c = campaign_id(1);
    let mut ledger = Ledger::new();
    ledger
        .at("2025-03-01T09:00:00", launched(c, 1_000_000, "2025-03-01"))
        // The response names the quote; the policy system issues it naming no campaign.
        .at(
            "2025-03-05T10:00:00",
            response(
                c,
                customer(1),
                CampaignResponse::Purchased,
                300_000,
                Some(policy_number(1)),
            ),
        )
        .at(
            "2025-03-05T10:05:00",
            issued(policy_number(1), customer(1), 300_000, None),
        )
        .at(
            "2025-04-05T10:00:00",
            cancelled(policy_number(1), customer(1), 250_000),
        );
    let record = campaign(&ledger.fold(), c).unwrap().unwrap();
    assert_eq!(
        (record.conversions, record.premium_won),
        (1, Money::from_fen(300_000))
    );
    assert_eq!(
        (record.cancellations, record.premium_refunded),
        (1, Money::from_fen(250_000))
    );
}

#[test]
fn each_year_of_a_policy_is_one_sale_whether_its_event_or_a_purchase_response_names_the_campaign() {
    let c = campaign_id(1);
    let purchase = |customer_n: u16, fen: i64, policy: u16| {
        response(
            c,
            customer(customer_n),
            CampaignResponse::Purchased,
            fen,
            Some(policy_number(policy)),
        )
    };
    let mut ledger = Ledger::new();
    ledger
        .at("2025-03-01T09:00:00", launched(c, 1_000_000, "2025-03-01"))
        // Policy 1 is issued naming no campaign, bought through the campaign's purchase
        // response, and renewed through the campaign: two sales, both premiums.
        .at(
            "2025-03-05T10:00:00",
            issued(policy_number(1), customer(1), 300_000, None),
        )
        .at("2025-03-05T10:05:00", purchase(1, 300_000, 1))
        .at(
            "2026-03-05T10:00:00",
            renewed(policy_number(1), customer(1), 310_000, Some(c)),
        )
        // Policy 2: its issue and its purchase response name the campaign for the same year,
        // one sale; its renewal through the campaign is the second.
        .at(
            "2025-03-06T10:00:00",
            issued(policy_number(2), customer(2), 200_000, Some(c)),
        )
        .at("2025-03-06T10:05:00", purchase(2, 200_000, 2))
        .at(
            "2026-03-06T10:00:00",
            renewed(policy_number(2), customer(2), 210_000, Some(c)),
        )
        // Policy 3: the purchase response comes before the issue naming the campaign, one sale.
        .at("2025-03-07T10:00:00", purchase(3, 150_000, 3))
        .at(
            "2025-03-07T10:05:00",
            issued(policy_number(3), customer(3), 150_000, Some(c)),
        );
    let record = campaign(&ledger.fold(), c).unwrap().unwrap();
    assert_eq!(record.conversions, 5);
    assert_eq!(
        record.premium_won,
        Money::from_fen(300_000 + 310_000 + 200_000 + 210_000 + 150_000)
    );

    // Cancelling policy 1 takes back its renewal, the latest sale.
    ledger.at(
        "2026-05-01T10:00:00",
        cancelled(policy_number(1), customer(1), 400_000),
    );
    let record = campaign(&ledger.fold(), c).unwrap().unwrap();
    assert_eq!(
        (record.cancellations, record.premium_refunded),
        (1, Money::from_fen(310_000))
    );
}

#[test]
fn a_sale_that_two_campaigns_claim_counts_in_one_and_its_refund_goes_there() {
    let (first, second) = (campaign_id(1), campaign_id(2));
    let issue = Event::from(issued(policy_number(1), customer(1), 100_000, Some(first)));
    let purchase = Event::from(response(
        second,
        customer(1),
        CampaignResponse::Purchased,
        100_000,
        Some(policy_number(1)),
    ));
    // A ledger written before the aggregate refused the second campaign's purchase: the sale
    // is the campaign its issue named, whichever of the two was recorded first.
    for pair in [[issue.clone(), purchase.clone()], [purchase, issue]] {
        let mut ledger = Ledger::new();
        ledger
            .at(
                "2025-03-01T09:00:00",
                launched(first, 1_000_000, "2025-03-01"),
            )
            .at(
                "2025-03-01T09:00:00",
                launched(second, 1_000_000, "2025-03-01"),
            );
        for event in pair {
            ledger.at("2025-03-05T10:00:00", event);
        }
        ledger.at(
            "2025-04-05T10:00:00",
            cancelled(policy_number(1), customer(1), 100_000),
        );
        let state = ledger.fold();
        let first_record = campaign(&state, first).unwrap().unwrap();
        let second_record = campaign(&state, second).unwrap().unwrap();
        assert_eq!(
            (
                first_record.conversions,
                first_record.premium_won,
                first_record.cancellations,
                first_record.premium_refunded
            ),
            (1, Money::from_fen(100_000), 1, Money::from_fen(100_000))
        );
        assert_eq!(
            (
                second_record.conversions,
                second_record.premium_won,
                second_record.cancellations,
                second_record.premium_refunded
            ),
            (0, Money::ZERO, 0, Money::ZERO)
        );
        // The second campaign still counts the answer among its responses.
        assert_eq!(second_record.responses, 1);
        assert_eq!(
            crate::sale_credited_to(&state, &policy_number(1)).unwrap(),
            Some(first)
        );
    }

    // Issued naming no campaign, then bought in both: the first purchase wins it.
    let mut ledger = Ledger::new();
    ledger
        .at(
            "2025-03-05T10:00:00",
            issued(policy_number(1), customer(1), 100_000, None),
        )
        .at(
            "2025-03-05T10:05:00",
            response(
                second,
                customer(1),
                CampaignResponse::Purchased,
                100_000,
                Some(policy_number(1)),
            ),
        )
        .at(
            "2025-03-05T10:10:00",
            response(
                first,
                customer(1),
                CampaignResponse::Purchased,
                100_000,
                Some(policy_number(1)),
            ),
        )
        .at(
            "2025-04-05T10:00:00",
            cancelled(policy_number(1), customer(1), 60_000),
        );
    let state = ledger.fold();
    let second_record = campaign(&state, second).unwrap().unwrap();
    let first_record = campaign(&state, first).unwrap().unwrap();
    assert_eq!(
        (
            second_record.conversions,
            second_record.premium_won,
            second_record.premium_refunded
        ),
        (1, Money::from_fen(100_000), Money::from_fen(60_000))
    );
    assert_eq!(
        (
            first_record.conversions,
            first_record.premium_won,
            first_record.premium_refunded
        ),
        (0, Money::ZERO, Money::ZERO)
    );
    // A renewal naming no campaign is a sale nobody's campaign won.
    ledger.at(
        "2026-03-05T10:00:00",
        renewed(policy_number(1), customer(1), 120_000, None),
    );
    assert_eq!(
        crate::sale_credited_to(&ledger.fold(), &policy_number(1)).unwrap(),
        None
    );
}
