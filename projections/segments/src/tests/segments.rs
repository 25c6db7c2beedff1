//! Given the hand-made book, each built-in segment has exactly the members it was built for,
//! with the figures, pages and changes the queries report.

use ledger_domain::ids::Position;

use super::book::{AS_OF, book};
use super::*;
use crate::{
    MEMBERS_PAGE_MAX, SegmentEngine, SegmentError, SegmentRules, SegmentSnapshot,
    customer_segments, evaluate, membership_changes, segment_members, segments,
};

fn snapshot_of(ledger: &Ledger, day: &str) -> SegmentSnapshot {
    evaluate(
        &fold(ledger),
        &SegmentRules::shipped().unwrap(),
        end_of(day),
    )
    .unwrap()
}

fn members(snapshot: &SegmentSnapshot, name: &str) -> Vec<String> {
    let page = snapshot.members(name, None, MEMBERS_PAGE_MAX).unwrap();
    assert!(!page.has_next_page);
    names(page.items.into_iter().map(|(_, metrics)| metrics.customer))
}

#[test]
fn each_built_in_segment_has_exactly_its_members() {
    let snapshot = snapshot_of(&book(), AS_OF);
    assert_eq!(snapshot.customer_count(), 8);
    assert_eq!(snapshot.policyholder_count(), 6);
    // 8,000 + 1,000 + 500 + 500 + 600 + 400 yuan.
    assert_eq!(snapshot.total_premium_fen(), 1_100_000);
    assert_eq!(members(&snapshot, "key-accounts"), ["c1", "c2"]);
    assert_eq!(members(&snapshot, "group-customers"), ["c1", "c2"]);
    assert_eq!(members(&snapshot, "at-risk"), ["c3", "c4", "c5", "c6"]);
    // c2 renews on 07-15 (15 days); c6 on 07-30, exactly 30 days; c7 has renewed already.
    assert_eq!(members(&snapshot, "renewal-due-30d"), ["c2", "c6"]);
    assert_eq!(members(&snapshot, "dormant-365d"), ["c7"]);
    assert_eq!(members(&snapshot, "potential-value"), ["c2"]);
}

#[test]
fn summaries_report_size_and_shares() {
    let summaries = segments(
        &fold(&book()),
        &SegmentRules::shipped().unwrap(),
        end_of(AS_OF),
    )
    .unwrap();
    let names: Vec<&str> = summaries
        .iter()
        .map(|summary| summary.name.as_str())
        .collect();
    assert_eq!(
        names,
        [
            "key-accounts",
            "group-customers",
            "at-risk",
            "renewal-due-30d",
            "dormant-365d",
            "potential-value"
        ]
    );
    let key = &summaries[0];
    assert_eq!(key.size, 2);
    assert_eq!(key.share_of_customers, 0.25);
    assert_eq!(key.share_of_policyholders, 2.0 / 6.0);
    assert_eq!(key.premium_in_force_fen, 900_000);
    assert_eq!(key.share_of_premium, 900_000.0 / 1_100_000.0);
    assert_eq!((key.evaluation_errors, key.first_error.clone()), (0, None));
    let at_risk = &summaries[2];
    assert_eq!(at_risk.size, 4);
    // c4 has no premium in force any more.
    assert_eq!(at_risk.share_of_policyholders, 3.0 / 6.0);
    assert_eq!(at_risk.premium_in_force_fen, 160_000);
    assert!(at_risk.description.contains("Barely satisfied"));
}

#[test]
fn rfm_scores_are_quintiles_of_the_book() {
    let snapshot = snapshot_of(&book(), AS_OF);
    let rfm = |n: u16| {
        let rfm = snapshot.customer(customer(n)).unwrap().rfm;
        (rfm.recency, rfm.frequency, rfm.monetary)
    };
    // Recency by days since contact: c2 2, c1 5, c3 29, c5 41, c4 117, c6 135, c7 486,
    // c8 never; each score is 1 + 5 × (customers strictly worse) / 8.
    assert_eq!(rfm(2), (5, 5, 4));
    assert_eq!(rfm(1), (4, 4, 5));
    assert_eq!(rfm(3), (4, 2, 2));
    assert_eq!(rfm(5), (3, 4, 2));
    assert_eq!(rfm(4), (2, 2, 1));
    assert_eq!(rfm(6), (2, 2, 4));
    assert_eq!(rfm(7), (1, 1, 2));
    assert_eq!(rfm(8), (1, 1, 1));
}

#[test]
fn a_customer_s_segments_and_members_pages_follow_premium_order() {
    let state = fold(&book());
    let rules = SegmentRules::shipped().unwrap();
    let as_of = end_of(AS_OF);
    assert_eq!(
        customer_segments(&state, &rules, customer(2), as_of).unwrap(),
        [
            "key-accounts",
            "group-customers",
            "renewal-due-30d",
            "potential-value"
        ]
    );
    assert!(
        customer_segments(&state, &rules, customer(8), as_of)
            .unwrap()
            .is_empty()
    );

    // at-risk in premium order: c6 (600), c3 and c5 (500 each, by id), c4 (none).
    let first = segment_members(&state, &rules, "at-risk", as_of, None, 2).unwrap();
    assert!(first.has_next_page);
    assert_eq!(
        names(first.items.iter().map(|(_, m)| m.customer)),
        ["c3", "c6"]
    );
    assert_eq!(first.items[0].1.customer, customer(6));
    let cursor = first.items[1].0.clone();
    assert_eq!(cursor, format!("50000:{}", customer(3)));
    let second = segment_members(&state, &rules, "at-risk", as_of, Some(&cursor), 2).unwrap();
    assert!(!second.has_next_page);
    let rest: Vec<_> = second.items.iter().map(|(_, m)| m.customer).collect();
    assert_eq!(rest, [customer(5), customer(4)]);

    assert_eq!(
        segment_members(&state, &rules, "at-risk", as_of, None, MEMBERS_PAGE_MAX + 1),
        Err(SegmentError::PageTooLarge {
            requested: MEMBERS_PAGE_MAX + 1,
            max: MEMBERS_PAGE_MAX
        })
    );
    for bad in ["", "50000", "x:y", &format!("050000:{}", customer(3))] {
        assert_eq!(
            segment_members(&state, &rules, "at-risk", as_of, Some(bad), 2),
            Err(SegmentError::BadCursor),
            "{bad}"
        );
    }
    assert_eq!(
        segment_members(&state, &rules, "vip", as_of, None, 2),
        Err(SegmentError::UnknownSegment {
            name: "vip".to_owned()
        })
    );
}

#[test]
fn membership_changes_compare_the_segment_as_of_two_days() {
    let mut ledger = book();
    // c3 is happy again after a call.
    ledger.on("2025-07-10", answered(customer(3), Some(5), None));
    let state = fold(&ledger);
    let rules = SegmentRules::shipped().unwrap();

    // On 01-31 nobody was at risk yet: c3's CSAT, c4's lapse and c5's and c6's complaints came
    // later (and c5 was not yet a customer).
    let changes = membership_changes(
        &state,
        &rules,
        "at-risk",
        end_of("2025-01-31"),
        end_of(AS_OF),
    )
    .unwrap();
    assert_eq!(names(changes.entered), ["c3", "c4", "c5", "c6"]);
    assert!(changes.left.is_empty());
    assert_eq!(
        (changes.from, changes.to),
        (date("2025-01-31"), date(AS_OF))
    );

    let changes = membership_changes(
        &state,
        &rules,
        "at-risk",
        end_of(AS_OF),
        end_of("2025-07-15"),
    )
    .unwrap();
    assert!(changes.entered.is_empty());
    assert_eq!(names(changes.left), ["c3"]);

    // c4's renewal was due on 01-31 (it lapsed instead); c2's and c6's are due on 06-30.
    let changes = membership_changes(
        &state,
        &rules,
        "renewal-due-30d",
        end_of("2025-01-31"),
        end_of(AS_OF),
    )
    .unwrap();
    assert_eq!(names(changes.entered), ["c2", "c6"]);
    assert_eq!(names(changes.left), ["c4"]);

    assert!(matches!(
        membership_changes(
            &state,
            &rules,
            "at-risk",
            end_of(AS_OF),
            end_of("2025-01-31")
        ),
        Err(SegmentError::RangeReversed { .. })
    ));
}

#[test]
fn metrics_before_the_retention_window_are_refused() {
    let state = fold(&book());
    let rules = SegmentRules::shipped().unwrap();
    // The latest day seen is 2025-06-28: exact metrics from 435 days before it.
    assert!(evaluate(&state, &rules, end_of("2024-04-19")).is_ok());
    assert_eq!(
        evaluate(&state, &rules, end_of("2024-04-18")).unwrap_err(),
        SegmentError::AsOfTooEarly {
            as_of: date("2024-04-18"),
            earliest: date("2024-04-19")
        }
    );
}

#[test]
fn the_engine_evaluates_once_per_day_and_position() {
    let state = fold(&book());
    let engine = SegmentEngine::new(SegmentRules::shipped().unwrap());
    let position = Position(37);
    let morning = engine
        .snapshot(&state, position, beijing("2025-06-30T08:00:00"))
        .unwrap();
    let evening = engine
        .snapshot(&state, position, beijing("2025-06-30T20:00:00"))
        .unwrap();
    assert!(std::sync::Arc::ptr_eq(&morning, &evening));
    assert_eq!(engine.cached_snapshots(), 1);
    let later = engine
        .snapshot(&state, Position(38), end_of(AS_OF))
        .unwrap();
    assert!(!std::sync::Arc::ptr_eq(&morning, &later));
    for day in 1..=crate::SNAPSHOT_CACHE_ENTRIES + 2 {
        engine
            .snapshot(&state, position, end_of(&format!("2025-05-{day:02}")))
            .unwrap();
    }
    assert_eq!(engine.cached_snapshots(), crate::SNAPSHOT_CACHE_ENTRIES);
    let changes = engine
        .membership_changes(
            &state,
            position,
            "renewal-due-30d",
            end_of("2025-01-31"),
            end_of(AS_OF),
        )
        .unwrap();
    assert_eq!(names(changes.left), ["c4"]);
    assert_eq!(
        members(&morning, "key-accounts"),
        members(&snapshot_of(&book(), AS_OF), "key-accounts")
    );
}

#[test]
fn an_engine_allowing_staleness_reuses_a_snapshot_unless_asked_for_a_later_write() {
    let state = fold(&book());
    let engine = SegmentEngine::with_max_staleness(
        SegmentRules::shipped().unwrap(),
        std::time::Duration::from_secs(3_600),
    );
    let first = engine
        .snapshot(&state, Position(37), end_of(AS_OF))
        .unwrap();
    assert_eq!(first.position(), Some(Position(37)));
    let again = engine
        .snapshot(&state, Position(40), end_of(AS_OF))
        .unwrap();
    assert!(std::sync::Arc::ptr_eq(&first, &again));
    let mine = engine
        .snapshot_consistent_with(&state, Position(40), end_of(AS_OF), Position(39))
        .unwrap();
    assert_eq!(mine.position(), Some(Position(40)));
    // A snapshot of a later position than the state's is never used for an earlier one.
    let older = engine
        .snapshot(&state, Position(38), end_of(AS_OF))
        .unwrap();
    assert_eq!(older.position(), Some(Position(38)));
}

#[test]
fn an_analyst_defined_rule_selects_exactly_its_customers() {
    let rules = SegmentRules::from_toml(
        "analyst.toml",
        r#"
[[segment]]
name = "wechat-complainers"
description = "Contacted us on WeChat lately, or complained at all."
rule = 'contacts_90d.WECHAT >= 1 || complaints_180d > 0'

[[segment]]
name = "claims-heavy"
description = "Loss ratio above 10%."
rule = 'loss_ratio != null && loss_ratio > 0.1'

[[segment]]
name = "managed"
description = "Customers with an account manager, by type."
rule = 'has_account_manager && corporate && type(premium_in_force_fen) == int'
"#,
    )
    .unwrap();
    let snapshot = evaluate(&fold(&book()), &rules, end_of(AS_OF)).unwrap();
    // c2's WeChat contact on 04-01 is 90 days back: just outside the window.
    assert_eq!(members(&snapshot, "wechat-complainers"), ["c1", "c5", "c6"]);
    assert_eq!(members(&snapshot, "claims-heavy"), ["c1"]);
    assert_eq!(members(&snapshot, "managed"), ["c1"]);
}

#[test]
fn a_rule_failing_for_some_customer_is_counted_not_a_member() {
    // Passes both probes (the one with facts has three product lines, the one without
    // short-cuts), but divides by zero for customers with exactly two product lines.
    let rules = SegmentRules::from_toml(
        "analyst.toml",
        r#"
[[segment]]
name = "premium-per-policy"
description = "Premium per policy above 600 yuan."
rule = 'policies_active == 0 || premium_in_force_fen / (product_lines - 2) > 60000'
"#,
    )
    .unwrap();
    let snapshot = evaluate(&fold(&book()), &rules, end_of(AS_OF)).unwrap();
    let summary = snapshot.summary("premium-per-policy").unwrap();
    // c3, c5 and c6 have two lines; c1 has three (8,000 yuan / 1); c2 and c7 one (a
    // negative quotient); c4 and c8 no policy.
    assert_eq!(summary.evaluation_errors, 3);
    let error = summary.first_error.unwrap().to_lowercase();
    assert!(error.contains("zero"), "{error}");
    assert_eq!(members(&snapshot, "premium-per-policy"), ["c1", "c4", "c8"]);
}

/// The book with c1 (the group company, the largest key account) erased on 2025-06-01.
fn book_with_c1_erased() -> Ledger {
    let mut ledger = book();
    ledger.on(
        "2025-06-01",
        ledger_domain::events::CustomerErased {
            customer_id: customer(1),
            reason: ledger_domain::kinds::ErasureReason::CustomerRequest,
        },
    );
    ledger
}

#[test]
fn an_erased_customer_is_in_no_segment_and_in_no_denominator() {
    let ledger = book_with_c1_erased();
    let everyone = "[[segment]]\nname = \"everyone\"\ndescription = \"d\"\nrule = 'true'\n";
    let analyst = SegmentRules::from_toml("analyst.toml", everyone).unwrap();
    let state = fold(&ledger);

    let snapshot = evaluate(&state, &analyst, end_of(AS_OF)).unwrap();
    // An analyst's rule true for everyone holds every customer but the erased one: the book
    // is seven customers, and they are all of it.
    assert_eq!(snapshot.customer_count(), 7);
    let summary = snapshot.summary("everyone").unwrap();
    assert_eq!((summary.size, summary.share_of_customers), (7, 1.0));
    assert_eq!(summary.share_of_premium, 1.0);
    assert!(!members(&snapshot, "everyone").contains(&"c1".to_owned()));
    // Its figures can still be read; it is ranked with nobody.
    let metrics = snapshot.customer(customer(1)).unwrap();
    assert!(metrics.erased && !metrics.in_key_accounts);
    assert_eq!(
        snapshot.customer_segments(customer(1)),
        Vec::<String>::new()
    );

    // The built-in segments leave it out too, and the key accounts are the rest's 80%.
    let snapshot = snapshot_of(&ledger, AS_OF);
    assert_eq!(
        (snapshot.policyholder_count(), snapshot.total_premium_fen()),
        (5, 300_000)
    );
    assert_eq!(members(&snapshot, "group-customers"), ["c2"]);
    assert_eq!(members(&snapshot, "key-accounts"), ["c2", "c3", "c5", "c6"]);
    let group = snapshot.summary("group-customers").unwrap();
    assert_eq!(group.share_of_customers, 1.0 / 7.0);
}

#[test]
fn an_erased_customer_leaves_its_segments_on_the_day_of_the_erasure() {
    let ledger = book_with_c1_erased();
    let before = snapshot_of(&ledger, "2025-05-31");
    assert_eq!(members(&before, "group-customers"), ["c1", "c2"]);
    let changes = membership_changes(
        &fold(&ledger),
        &SegmentRules::shipped().unwrap(),
        "group-customers",
        end_of("2025-05-31"),
        end_of(AS_OF),
    )
    .unwrap();
    assert_eq!(names(changes.left), ["c1"]);
    assert!(changes.entered.is_empty());
}

/// The book, then c7 (dormant: covered, last contacted on 2024-03-01) merged into c8
/// (registered in 2025, no policy, no contact) on 2025-07-01.
fn book_with_c7_merged_into_c8() -> Ledger {
    let mut ledger = book();
    ledger.on(
        "2025-07-01",
        ledger_domain::events::CustomersMerged {
            customer_id: customer(7),
            survivor_id: customer(8),
            identifiers: Vec::new(),
            reason: None,
        },
    );
    ledger
}

/// What a snapshot answers about every built-in segment: its figures, and its members with
/// their metrics.
fn answers(
    snapshot: &SegmentSnapshot,
) -> (
    usize,
    Vec<crate::SegmentSummary>,
    Vec<crate::Page<crate::CustomerMetrics>>,
) {
    let summaries = snapshot.summaries();
    let pages = summaries
        .iter()
        .map(|summary| {
            snapshot
                .members(&summary.name, None, MEMBERS_PAGE_MAX)
                .unwrap()
        })
        .collect();
    (snapshot.customer_count(), summaries, pages)
}

#[test]
fn a_merge_changes_no_earlier_day_and_the_duplicate_leaves_on_the_day_of_the_merge() {
    let before_merge = book();
    let ledger = book_with_c7_merged_into_c8();
    let rules = SegmentRules::shipped().unwrap();
    let state = fold(&ledger);

    // As of the days before the merge, every segment's members, sizes and shares are what
    // they were before the merge was folded: c7 as it was, c8 as it was.
    for day in ["2025-06-29", "2025-06-30"] {
        let earlier = snapshot_of(&before_merge, day);
        let later = evaluate(&state, &rules, end_of(day)).unwrap();
        assert_eq!(answers(&later), answers(&earlier), "as of {day}");
        assert_eq!(later.customer_count(), 8);
        assert_eq!(members(&later, "dormant-365d"), ["c7"]);
        let survivor = later.customer(customer(8)).unwrap();
        assert_eq!(survivor.policies_active, 0);
        assert_eq!(
            customer_segments(&state, &rules, customer(7), end_of(day)).unwrap(),
            ["dormant-365d"]
        );
    }

    // On the day of the merge c7 is no customer: it leaves, and c8, which now holds its
    // cover, its registration in 2023 and its last contact, enters.
    let changes = membership_changes(
        &state,
        &rules,
        "dormant-365d",
        end_of("2025-06-30"),
        end_of("2025-07-01"),
    )
    .unwrap();
    assert_eq!(names(changes.left), ["c7"]);
    assert_eq!(names(changes.entered), ["c8"]);
    let merged = evaluate(&state, &rules, end_of("2025-07-01")).unwrap();
    assert_eq!(merged.customer_count(), 7);
    assert!(merged.customer(customer(7)).is_none());
    let survivor = merged.customer(customer(8)).unwrap();
    assert_eq!(
        (survivor.policies_active, survivor.premium_in_force_fen),
        (1, 40_000)
    );
    assert_eq!(survivor.last_contact, Some(date("2024-03-01")));
    assert_eq!(
        customer_segments(&state, &rules, customer(7), end_of("2025-07-01")).unwrap(),
        ["dormant-365d"]
    );

    // Folded live (the merge applied to the state built before it), the state is the one a
    // rebuild from the start folds.
    let mut live = fold(&before_merge);
    apply(&mut live, &ledger.events[before_merge.events.len()..]);
    assert_eq!(live, state);
}

#[test]
fn an_event_dated_before_a_merge_but_folded_after_it_is_the_duplicate_s_past() {
    let mut ledger = book_with_c7_merged_into_c8();
    // A survey answer from 2025-06-29, imported after the merge.
    ledger.on("2025-06-29", answered(customer(7), Some(1), None));
    let state = fold(&ledger);
    let rules = SegmentRules::shipped().unwrap();
    let as_of = evaluate(&state, &rules, end_of("2025-06-29")).unwrap();
    assert_eq!(as_of.customer(customer(7)).unwrap().last_csat, Some(1));
    assert_eq!(as_of.customer(customer(8)).unwrap().last_csat, None);
    assert!(members(&as_of, "at-risk").contains(&"c7".to_owned()));
    // From the merge on it is the survivor's.
    let merged = evaluate(&state, &rules, end_of("2025-07-01")).unwrap();
    assert_eq!(merged.customer(customer(8)).unwrap().last_csat, Some(1));
}

#[test]
fn a_chain_of_merges_joins_each_duplicate_from_the_day_of_its_own_merge() {
    let mut ledger = book_with_c7_merged_into_c8();
    ledger
        .on(
            "2025-07-03",
            ledger_domain::events::CustomersMerged {
                customer_id: customer(8),
                survivor_id: customer(3),
                identifiers: Vec::new(),
                reason: None,
            },
        )
        // The duplicate's policy is still found under its number, and its erasure drops it.
        .on(
            "2025-07-04",
            ledger_domain::events::PolicyCancelled {
                policy_number: policy_number(7),
                customer_id: customer(7),
                cancelled_on: date("2025-07-04"),
                reason: ledger_domain::kinds::CancellationReason::VehicleSold,
                refund: ledger_domain::values::Money::from_fen(1_000),
            },
        )
        .on(
            "2025-07-05",
            ledger_domain::events::CustomerErased {
                customer_id: customer(7),
                reason: ledger_domain::kinds::ErasureReason::CustomerRequest,
            },
        );
    let state = fold(&ledger);
    let rules = SegmentRules::shipped().unwrap();
    let policies = |day: &str| {
        let snapshot = evaluate(&state, &rules, end_of(day)).unwrap();
        [3, 7, 8].map(|n| {
            snapshot
                .customer(customer(n))
                .map(|metrics| metrics.policies_active)
        })
    };
    assert_eq!(policies("2025-06-30"), [Some(1), Some(1), Some(0)]);
    assert_eq!(policies("2025-07-02"), [Some(1), None, Some(1)]);
    assert_eq!(policies("2025-07-03"), [Some(2), None, None]);
    let survivor = crate::customer_metrics(&state, customer(7), end_of("2025-07-05"))
        .unwrap()
        .unwrap();
    assert_eq!(survivor.customer, customer(3));
    assert!(
        !survivor.erased,
        "a duplicate's erasure leaves the survivor contactable"
    );
    assert_eq!(survivor.policies_active, 1, "c7's policy was cancelled");
    let stored = state
        .entries()
        .values()
        .any(|value| value.windows(14).any(|window| window == b"PJLA2025000007"));
    assert!(
        !stored,
        "no number of the erased duplicate's policy is stored"
    );
    for split in 0..=ledger.events.len() {
        let mut live = fold(&Ledger {
            events: ledger.events[..split].to_vec(),
        });
        apply(&mut live, &ledger.events[split..]);
        assert_eq!(live, state, "split after {split} events");
    }
}
