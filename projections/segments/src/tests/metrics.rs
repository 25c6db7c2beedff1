//! Given hand-made histories, the exact metrics of a customer as of a day: windows and their
//! edges, policies through issue, endorsement, renewal, lapse and cancellation, merges,
//! erasure, corrections and pruning.

use ledger_domain::events::{
    CustomerErased, CustomersMerged, PolicyCancelled, PolicyEndorsed, ProfileUpdated,
};
use ledger_domain::kinds::{CancellationReason, ErasureReason, ProductLine};
use ledger_domain::values::{Channel, Money, Topic};

use super::book::{AS_OF, book};
use super::*;
use crate::{CustomerMetrics, RETENTION_DAYS, customer_metrics};

fn metrics_of(ledger: &Ledger, n: u16, day: &str) -> CustomerMetrics {
    customer_metrics(&fold(ledger), customer(n), end_of(day))
        .unwrap()
        .unwrap_or_else(|| panic!("c{n} unknown on {day}"))
}

#[test]
fn a_group_company_s_metrics_as_of_a_day() {
    let c1 = metrics_of(&book(), 1, AS_OF);
    assert_eq!(c1.as_of, date(AS_OF));
    assert!(c1.corporate && c1.group && !c1.erased);
    assert_eq!(
        c1.account_manager.as_ref().map(|id| id.as_str()),
        Some("manager-0007")
    );
    assert_eq!(c1.premium_in_force_fen, 800_000);
    assert_eq!((c1.policies_active, c1.product_lines), (1, 3));
    assert_eq!(c1.next_renewal, Some(date("2026-01-01")));
    assert_eq!(c1.days_to_next_renewal, Some(185));
    assert_eq!((c1.claims_12m, c1.claims_paid_12m_fen), (1, 120_000));
    assert_eq!(c1.loss_ratio, Some(0.15));
    assert_eq!(c1.contacts_90d_on(Channel::Phone), 1);
    assert_eq!(c1.contacts_90d_on(Channel::WeChat), 1);
    assert_eq!(c1.contacts_90d_on(Channel::WalkIn), 1);
    assert_eq!(c1.contacts_90d_on(Channel::Email), 0);
    assert_eq!(
        (c1.contacts_90d_total, c1.contacts_365d, c1.complaints_180d),
        (3, 3, 0)
    );
    assert_eq!((c1.last_csat, c1.last_nps), (Some(5), Some(10)));
    assert_eq!(c1.last_contact, Some(date("2025-06-25")));
    assert_eq!(c1.days_since_last_contact, Some(5));
    assert_eq!(c1.days_since_registered, 211);
    assert!(c1.in_key_accounts && !c1.lapsed_not_renewed);
}

#[test]
fn metrics_only_count_what_was_known_on_the_day() {
    // Before its policy started (issued 2024-12-20 for 2025), c1 had no premium in force.
    let before = metrics_of(&book(), 1, "2024-12-31");
    assert_eq!(
        (before.premium_in_force_fen, before.policies_active),
        (0, 0)
    );
    assert_eq!(before.next_renewal, None);
    assert_eq!(
        before.account_manager.as_ref().map(|id| id.as_str()),
        Some("manager-0007")
    );
    assert_eq!(
        (before.last_csat, before.days_since_last_contact),
        (None, None)
    );
    // Not yet registered.
    assert_eq!(
        customer_metrics(&fold(&book()), customer(8), end_of("2025-01-14")).unwrap(),
        None
    );
    // c7 renewed early: on 06-30 the old period (400 yuan) is in force and no renewal is due;
    // on 07-20 the new one (380 yuan) is.
    let c7 = metrics_of(&book(), 7, AS_OF);
    assert_eq!((c7.premium_in_force_fen, c7.next_renewal), (40_000, None));
    let c7 = metrics_of(&book(), 7, "2025-07-20");
    assert_eq!(c7.premium_in_force_fen, 38_000);
    assert_eq!(c7.next_renewal, Some(date("2026-07-20")));
    // c4's policy ran to 02-28 and lapsed on 03-01.
    let c4 = metrics_of(&book(), 4, "2025-02-28");
    assert_eq!(
        (c4.premium_in_force_fen, c4.days_to_next_renewal),
        (70_000, Some(1))
    );
    assert!(!c4.lapsed_not_renewed);
    let c4 = metrics_of(&book(), 4, AS_OF);
    assert_eq!((c4.premium_in_force_fen, c4.policies_active), (0, 0));
    assert!(c4.lapsed_not_renewed);
    assert!(!metrics_of(&book(), 4, "2026-03-01").lapsed_not_renewed);
    assert!(metrics_of(&book(), 4, "2026-02-28").lapsed_not_renewed);
}

#[test]
fn windows_include_the_as_of_day_and_the_days_before_it() {
    let c = customer(1);
    let mut ledger = Ledger::default();
    ledger
        .on("2024-01-01", registered(c, false))
        // 90 days before 2025-06-30 is 2025-04-01: outside; 04-02 is the window's first day.
        .on("2025-04-01", phone(1, c, "2025-04-01"))
        .on(
            "2025-04-02",
            contact(2, c, "2025-04-02", Channel::Email, Topic::Complaint),
        )
        // 180 days before is 2025-01-01: outside; 2025-01-02 inside.
        .on("2025-01-01", complaint(3, c, "2025-01-01"))
        .on("2025-01-02", complaint(4, c, "2025-01-02"))
        // 365 days before is 2024-06-30: outside.
        .on("2024-06-30", phone(5, c, "2024-06-30"))
        .on("2024-07-01", phone(6, c, "2024-07-01"))
        // After the as-of day: not yet known.
        .on("2025-07-01", phone(7, c, "2025-07-01"));
    let metrics = metrics_of(&ledger, 1, AS_OF);
    assert_eq!(metrics.contacts_90d_total, 1);
    assert_eq!(metrics.contacts_90d_on(Channel::Email), 1);
    assert_eq!(metrics.complaints_180d, 2);
    assert_eq!(metrics.contacts_365d, 5);
    assert_eq!(metrics.days_since_last_contact, Some(89));
}

#[test]
fn endorsements_cancellations_and_short_periods_change_premium_in_force() {
    let c = customer(1);
    let mut ledger = Ledger::default();
    ledger
        .on("2025-01-01", registered(c, false))
        .on(
            "2025-01-01",
            issued(
                1,
                c,
                3_650,
                ("2025-01-01", "2025-12-31"),
                &[ProductLine::CompulsoryTraffic],
            ),
        )
        // A 73-day policy of 500 yuan is 2,500 yuan a year.
        .on(
            "2025-01-01",
            issued(
                2,
                c,
                500,
                ("2025-03-01", "2025-05-12"),
                &[ProductLine::CommercialGlass],
            ),
        )
        .on(
            "2025-04-01",
            PolicyEndorsed {
                policy_number: policy_number(1),
                customer_id: c,
                effective_on: date("2025-04-15"),
                description: text("加保车损险"),
                plate: None,
                product_lines: Some(vec![
                    ProductLine::CompulsoryTraffic,
                    ProductLine::CommercialVehicleDamage,
                ]),
                premium_change: Money::from_fen(100_000),
                premium: Money::from_fen(465_000),
            },
        )
        .on(
            "2025-05-01",
            PolicyCancelled {
                policy_number: policy_number(2),
                customer_id: c,
                cancelled_on: date("2025-05-01"),
                reason: CancellationReason::VehicleSold,
                refund: Money::from_fen(10_000),
            },
        );
    let on = |day: &str| {
        let metrics = metrics_of(&ledger, 1, day);
        (
            metrics.premium_in_force_fen,
            metrics.policies_active,
            metrics.product_lines,
        )
    };
    assert_eq!(on("2025-02-01"), (365_000, 1, 1));
    assert_eq!(on("2025-03-01"), (615_000, 2, 2));
    // Recorded on 04-01, effective 04-15.
    assert_eq!(on("2025-04-14"), (615_000, 2, 2));
    assert_eq!(on("2025-04-15"), (715_000, 2, 3));
    // Cancelled on 05-01: not in force from that day.
    assert_eq!(on("2025-04-30"), (715_000, 2, 3));
    assert_eq!(on("2025-05-01"), (465_000, 1, 2));
}

#[test]
fn a_merged_duplicate_s_facts_count_for_the_survivor() {
    let (survivor, duplicate) = (customer(1), customer(2));
    let mut ledger = Ledger::default();
    ledger
        .on("2024-06-01", registered(survivor, false))
        .on("2025-01-01", registered(duplicate, true))
        .on(
            "2025-01-02",
            issued(
                2,
                duplicate,
                1_000,
                ("2025-01-03", "2026-01-02"),
                &[ProductLine::CompulsoryTraffic],
            ),
        )
        .on("2025-02-01", phone(1, duplicate, "2025-02-01"))
        .on("2025-03-01", phone(2, survivor, "2025-03-01"))
        .on("2025-03-02", answered(duplicate, Some(2), None))
        .on(
            "2025-04-01",
            CustomersMerged {
                customer_id: duplicate,
                survivor_id: survivor,
                identifiers: Vec::new(),
                reason: None,
            },
        )
        // Later events naming the duplicate land on the survivor.
        .on("2025-05-01", complaint(3, duplicate, "2025-05-01"))
        .on(
            "2025-05-02",
            renewed(2, duplicate, 900, ("2026-01-03", "2027-01-02")),
        );
    let state = fold(&ledger);
    let metrics = customer_metrics(&state, duplicate, end_of(AS_OF))
        .unwrap()
        .unwrap();
    assert_eq!(metrics.customer, survivor);
    assert_eq!(metrics.premium_in_force_fen, 100_000);
    assert_eq!(metrics.next_renewal, None, "renewed already");
    assert_eq!((metrics.contacts_365d, metrics.complaints_180d), (3, 1));
    assert_eq!(metrics.last_csat, Some(2));
    // The survivor's own registration and (absent) group stand.
    assert!(!metrics.group);
    assert_eq!(metrics.days_since_registered, 394);
    let snapshot = crate::evaluate(
        &state,
        &crate::SegmentRules::shipped().unwrap(),
        end_of(AS_OF),
    )
    .unwrap();
    assert_eq!(snapshot.customer_count(), 1);
    assert!(snapshot.customer(duplicate).is_none());
    // Before the day of the merge each was a customer of its own, with its own facts: the
    // merge changes no earlier day's figures.
    let before = customer_metrics(&state, survivor, end_of("2025-03-31"))
        .unwrap()
        .unwrap();
    assert_eq!(before.customer, survivor);
    assert_eq!(before.premium_in_force_fen, 0);
    assert_eq!((before.contacts_365d, before.last_csat), (1, None));
    let duplicate_before = customer_metrics(&state, duplicate, end_of("2025-03-31"))
        .unwrap()
        .unwrap();
    assert_eq!(duplicate_before.customer, duplicate);
    assert_eq!(duplicate_before.premium_in_force_fen, 100_000);
    assert!(duplicate_before.group);
    assert_eq!(
        (duplicate_before.contacts_365d, duplicate_before.last_csat),
        (1, Some(2))
    );
}

#[test]
fn erasure_drops_identifiers_but_keeps_the_numbers() {
    let c = customer(1);
    let mut ledger = Ledger::default();
    ledger
        .on("2025-01-01", registered(c, true))
        .on(
            "2025-01-02",
            issued(
                1,
                c,
                1_000,
                ("2025-01-03", "2026-01-02"),
                &[ProductLine::CompulsoryTraffic],
            ),
        )
        .on("2025-02-01", phone(1, c, "2025-02-01"))
        .on(
            "2025-03-01",
            CustomerErased {
                customer_id: c,
                reason: ErasureReason::CustomerRequest,
            },
        )
        // The policy number is gone: a later event about it is not filed.
        .on("2025-03-02", lapsed(1, c, "2025-03-02"));
    let state = fold(&ledger);
    let metrics = customer_metrics(&state, c, end_of(AS_OF)).unwrap().unwrap();
    assert!(metrics.erased && metrics.group);
    assert_eq!(
        (metrics.premium_in_force_fen, metrics.contacts_365d),
        (100_000, 1)
    );
    assert!(!metrics.lapsed_not_renewed);
    let stored = state
        .entries()
        .values()
        .any(|value| value.windows(6).any(|window| window == b"PJLA20"));
    assert!(!stored, "no policy number is stored after erasure");
}

#[test]
fn corrections_profile_changes_and_managers_are_followed() {
    let c = customer(1);
    let recorded = phone(1, c, "2025-06-01");
    let mut ledger = Ledger::default();
    ledger
        .on("2025-01-01", registered(c, false))
        .on("2025-06-01", recorded.clone())
        .on(
            "2025-06-02",
            ContactRecorded {
                channel: Channel::WeChat,
                topic: Topic::Complaint,
                ..recorded
            }
            .corrected(text("渠道记错")),
        )
        .on(
            "2025-06-03",
            ProfileUpdated {
                customer_id: c,
                name: name("张三"),
                group: Some(name("一汽集团")),
                address: None,
            },
        )
        .on("2025-06-04", manager(c, "manager-0001"))
        .on("2025-06-20", manager(c, "manager-0002"));
    let metrics = metrics_of(&ledger, 1, AS_OF);
    assert_eq!(metrics.contacts_90d_on(Channel::Phone), 0);
    assert_eq!(metrics.contacts_90d_on(Channel::WeChat), 1);
    assert_eq!(metrics.complaints_180d, 1);
    assert!(metrics.group);
    assert_eq!(
        metrics.account_manager.as_ref().map(|id| id.as_str()),
        Some("manager-0002")
    );
    let earlier = metrics_of(&ledger, 1, "2025-06-10");
    assert_eq!(
        earlier.account_manager.as_ref().map(|id| id.as_str()),
        Some("manager-0001")
    );
    assert!(!metrics_of(&ledger, 1, "2025-06-02").group);
}

#[test]
fn pruning_bounds_a_record_but_keeps_what_last_values_need() {
    let c = customer(1);
    let mut ledger = Ledger::default();
    ledger.on("2020-01-01", registered(c, false));
    // A contact and an answer every 30 days for five years.
    for n in 0..60_u16 {
        let day = jiff::civil::date(2020, 1, 15)
            .checked_add(jiff::Span::new().days(i64::from(n) * 30))
            .unwrap()
            .to_string();
        ledger.on(&day, phone(n + 1, c, &day));
    }
    ledger.on("2021-01-01", answered(c, Some(4), Some(9)));
    let state = fold(&ledger);
    let facts: crate::facts::CustomerFacts = crate::fold::read(&state, &crate::keys::customer(c))
        .unwrap()
        .unwrap();
    // The last contact was on 2024-11-19; the cutoff is 800 days before it.
    let kept = facts.contacts.len();
    assert!(
        kept <= usize::try_from(RETENTION_DAYS / 30 + 1).unwrap(),
        "{kept}"
    );
    assert!(facts.pruned_contact_day.is_some());
    let metrics = metrics_of(&ledger, 1, "2024-11-19");
    assert_eq!((metrics.last_csat, metrics.last_nps), (Some(4), Some(9)));
    assert_eq!(metrics.days_since_last_contact, Some(0));
    assert_eq!(metrics.contacts_365d, 13);
}
