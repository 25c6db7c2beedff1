//! Tests of the customer directory: given hand-made events, then exactly this read model.

mod links;
mod redacted;
mod support;

use jiff::Timestamp;
use jiff::civil::date;
use ledger_domain::events::{
    AccountManagerAssigned, ClaimReported, ConsentChanged, CustomerErased, CustomerRegistered,
    CustomersMerged, IdentifierAdded, IdentifierRemoved, PolicyIssued, PolicyRenewed,
    ProfileUpdated,
};
use ledger_domain::ids::CustomerId;
use ledger_domain::kinds::{CustomerKind, ErasureReason, ProductLine};
use ledger_domain::projection::{MemoryState, Projection, StateRead};
use ledger_domain::samples::{self, name, staff, text};
use ledger_domain::values::{
    Channel, ClaimNumber, IdentifierKind, Money, Plate, PolicyNumber, Vin,
};
use proptest::prelude::*;

use self::support::{History, apply, customer, identifier};
use crate::{
    AccountManager, Consent, CustomerDirectory, CustomerRecord, MERGE_HOPS_MAX,
    NAME_SEARCH_PAGE_MAX, OwnedIdentifier, Page, SearchError, customers, identifier_owner,
    identifiers_of, resolve, search_by_name, survivor,
};

const ZHANG: u128 = 1;
const DUPLICATE: u128 = 2;
const FLEET: u128 = 3;

fn mobile(value: &str) -> ledger_domain::values::Identifier {
    identifier(IdentifierKind::Mobile, value)
}

fn registered(id: CustomerId, kind: CustomerKind, full_name: &str) -> CustomerRegistered {
    CustomerRegistered {
        customer_id: id,
        kind,
        name: name(full_name),
        group: None,
        address: None,
        identifiers: Vec::new(),
    }
}

fn policy_issued(id: CustomerId, number: &str, plate: &str) -> PolicyIssued {
    PolicyIssued {
        policy_number: PolicyNumber::parse("policyNumber", number).unwrap(),
        customer_id: id,
        product_lines: vec![ProductLine::CompulsoryTraffic],
        plate: Plate::parse("plate", plate).unwrap(),
        vin: Vin::parse("vin", "LSVAM4187C2184847").unwrap(),
        premium: Money::from_fen(345_600),
        period_start: date(2024, 3, 16),
        period_end: date(2025, 3, 15),
        sales_channel: Channel::Phone,
        campaign_id: None,
    }
}

/// 张三 with a mobile and an ID card, a policy on his car, and a duplicate registration of
/// him holding a second mobile and a policy of its own.
fn zhang_and_duplicate() -> History {
    let mut history = History::new();
    history.record(CustomerRegistered {
        identifiers: vec![
            mobile("13800138000"),
            identifier(IdentifierKind::IdCard, "11010519491231002X"),
        ],
        ..registered(customer(ZHANG), CustomerKind::Individual, "张三")
    });
    history.record(policy_issued(customer(ZHANG), "PJLA2024000123", "吉A12345"));
    history.record(CustomerRegistered {
        identifiers: vec![mobile("13900139000")],
        ..registered(customer(DUPLICATE), CustomerKind::Individual, "张三")
    });
    history.record(policy_issued(
        customer(DUPLICATE),
        "PJLA2024000999",
        "吉B54321",
    ));
    history
}

fn resolved(state: &dyn StateRead, kind: IdentifierKind, value: &str) -> Option<CustomerId> {
    resolve(state, &identifier(kind, value)).unwrap()
}

fn names(page: &Page<CustomerRecord>) -> Vec<String> {
    page.items
        .iter()
        .map(|(_, record)| {
            record
                .name
                .as_ref()
                .map_or("-", |name| name.as_str())
                .to_owned()
        })
        .collect()
}

#[test]
fn every_spelling_of_a_mobile_finds_the_customer() {
    let state = zhang_and_duplicate().fold(&CustomerDirectory);
    for spelling in [
        "+86 138-0013-8000",
        "13800138000",
        "8613800138000",
        "+86 138 0013 8000",
    ] {
        assert_eq!(
            resolved(&state, IdentifierKind::Mobile, spelling),
            Some(customer(ZHANG)),
            "{spelling}"
        );
        assert_eq!(
            identifier_owner(&state, &mobile(spelling)).unwrap(),
            Some(customer(ZHANG))
        );
    }
    assert_eq!(
        resolved(&state, IdentifierKind::Mobile, "13700137000"),
        None
    );
    assert_eq!(
        resolved(&state, IdentifierKind::IdCard, "11010519491231002x"),
        Some(customer(ZHANG))
    );
}

#[test]
fn plates_vins_and_policy_numbers_from_policies_find_the_customer_in_any_case() {
    let state = zhang_and_duplicate().fold(&CustomerDirectory);
    let zhang = Some(customer(ZHANG));
    assert_eq!(resolved(&state, IdentifierKind::Plate, "吉a12345"), zhang);
    assert_eq!(resolved(&state, IdentifierKind::Plate, "吉A·12345"), zhang);
    assert_eq!(
        resolved(&state, IdentifierKind::PolicyNumber, "pjla2024000123"),
        zhang
    );
    // Both policies name the same VIN; the later one (the duplicate's) has it now.
    assert_eq!(
        resolved(&state, IdentifierKind::Vin, "lsvam4187c2184847"),
        Some(customer(DUPLICATE))
    );
    // Linked identifiers have no holder: the ownership rule is about the customer stream.
    let plate = identifier(IdentifierKind::Plate, "吉A12345");
    assert_eq!(identifier_owner(&state, &plate).unwrap(), None);
}

#[test]
fn claim_numbers_find_the_claimant() {
    let mut history = zhang_and_duplicate();
    history.record(ClaimReported {
        claim_number: ClaimNumber::parse("claimNumber", "CJLA2024000456").unwrap(),
        policy_number: PolicyNumber::parse("policyNumber", "PJLA2024000123").unwrap(),
        customer_id: customer(ZHANG),
        loss_occurred_at: samples::sample_time(),
        location: text("长春市人民大街"),
        description: text("追尾"),
        plate: None,
        reported_via: Channel::Phone,
        injuries: false,
        estimated_loss: None,
        time_guarantee_working_days: None,
    });
    let state = history.fold(&CustomerDirectory);
    assert_eq!(
        resolved(&state, IdentifierKind::ClaimNumber, "cjla2024000456"),
        Some(customer(ZHANG))
    );
}

#[test]
fn a_held_identifier_wins_over_a_linked_one_until_it_is_removed() {
    let mut history = History::new();
    let plate = identifier(IdentifierKind::Plate, "吉A12345");
    history.record(CustomerRegistered {
        identifiers: vec![plate.clone()],
        ..registered(customer(1), CustomerKind::Individual, "王五")
    });
    history.record(registered(customer(2), CustomerKind::Individual, "赵六"));
    history.record(policy_issued(customer(2), "PJLA2024000777", "吉A12345"));
    let state = history.fold(&CustomerDirectory);
    assert_eq!(resolve(&state, &plate).unwrap(), Some(customer(1)));
    assert_eq!(identifier_owner(&state, &plate).unwrap(), Some(customer(1)));

    history.record(IdentifierRemoved {
        customer_id: customer(1),
        identifier: plate.clone(),
    });
    let state = history.fold(&CustomerDirectory);
    assert_eq!(resolve(&state, &plate).unwrap(), Some(customer(2)));
    assert_eq!(identifier_owner(&state, &plate).unwrap(), None);
    let record = crate::customer(&state, customer(1)).unwrap().unwrap();
    assert!(record.identifiers.is_empty());
    // Removing an identifier someone else holds changes nothing.
    history.record(IdentifierAdded {
        customer_id: customer(2),
        identifier: plate.clone(),
    });
    history.record(IdentifierRemoved {
        customer_id: customer(1),
        identifier: plate.clone(),
    });
    let state = history.fold(&CustomerDirectory);
    assert_eq!(identifier_owner(&state, &plate).unwrap(), Some(customer(2)));
}

#[test]
fn a_merged_customer_resolves_to_its_survivor() {
    let mut history = zhang_and_duplicate();
    let registered_at = history.recorded[0].occurred_at;
    let duplicate_registered_at = history.recorded[2].occurred_at;
    history.record(CustomersMerged {
        customer_id: customer(DUPLICATE),
        survivor_id: customer(ZHANG),
        identifiers: vec![mobile("13900139000")],
        reason: Some(text("同一身份证号重复建档")),
    });
    let state = history.fold(&CustomerDirectory);

    let zhang = Some(customer(ZHANG));
    assert_eq!(
        resolved(&state, IdentifierKind::Mobile, "+86 139 0013 9000"),
        zhang
    );
    assert_eq!(
        identifier_owner(&state, &mobile("13900139000")).unwrap(),
        zhang
    );
    // The duplicate's policy stays linked to it and reaches the survivor through the merge.
    assert_eq!(
        resolved(&state, IdentifierKind::PolicyNumber, "PJLA2024000999"),
        zhang
    );
    assert_eq!(resolved(&state, IdentifierKind::Plate, "吉b54321"), zhang);
    assert_eq!(
        survivor(&state, customer(DUPLICATE)).unwrap(),
        customer(ZHANG)
    );
    assert_eq!(survivor(&state, customer(ZHANG)).unwrap(), customer(ZHANG));

    assert_eq!(
        crate::customer(&state, customer(ZHANG)).unwrap(),
        Some(CustomerRecord {
            id: customer(ZHANG),
            kind: CustomerKind::Individual,
            name: Some(name("张三")),
            group: None,
            identifiers: vec![
                mobile("13800138000"),
                mobile("13900139000"),
                identifier(IdentifierKind::IdCard, "11010519491231002X"),
            ],
            account_manager: None,
            consents: Vec::new(),
            merged_into: None,
            merged_from: vec![customer(DUPLICATE)],
            erased: false,
            registered_at,
            erased_at: None,
        })
    );
    assert_eq!(
        crate::customer(&state, customer(DUPLICATE)).unwrap(),
        Some(CustomerRecord {
            id: customer(DUPLICATE),
            kind: CustomerKind::Individual,
            name: Some(name("张三")),
            group: None,
            identifiers: Vec::new(),
            account_manager: None,
            consents: Vec::new(),
            merged_into: Some(customer(ZHANG)),
            merged_from: Vec::new(),
            erased: false,
            registered_at: duplicate_registered_at,
            erased_at: None,
        })
    );
    // Only the survivor is found by name.
    let page = search_by_name(&state, "张三", None, 10).unwrap();
    assert_eq!(
        page.items
            .iter()
            .map(|(_, record)| record.id)
            .collect::<Vec<_>>(),
        vec![customer(ZHANG)]
    );
}

#[test]
fn merges_chain_to_the_final_survivor_and_a_cycle_is_ignored() {
    let mut history = History::new();
    for n in 1..=3 {
        history.record(CustomerRegistered {
            identifiers: vec![mobile(&format!("1380013800{n}"))],
            ..registered(customer(n), CustomerKind::Individual, "张三")
        });
    }
    let merge = |merged: u128, survivor: u128, identifiers| CustomersMerged {
        customer_id: customer(merged),
        survivor_id: customer(survivor),
        identifiers,
        reason: None,
    };
    history.record(merge(1, 2, vec![mobile("13800138001")]));
    history.record(merge(2, 3, vec![mobile("13800138002")]));
    // 3 into 1 would close the cycle 1 → 2 → 3 → 1.
    history.record(merge(3, 1, vec![mobile("13800138003")]));
    let state = history.fold(&CustomerDirectory);
    for n in 1..=3 {
        assert_eq!(survivor(&state, customer(n)).unwrap(), customer(3));
        assert_eq!(
            resolved(&state, IdentifierKind::Mobile, &format!("1380013800{n}")),
            Some(customer(3))
        );
    }
    let record = crate::customer(&state, customer(3)).unwrap().unwrap();
    assert_eq!(record.merged_into, None);
    assert_eq!(record.merged_from, vec![customer(2)]);
    // Customer 2's identifiers include the one it received from 1, though the merge event
    // (written from 2's own stream) lists only its own.
    assert_eq!(record.identifiers.len(), 3);
    assert_eq!(
        identifier_owner(&state, &mobile("13800138001")).unwrap(),
        Some(customer(3))
    );
}

#[test]
fn a_merge_chain_longer_than_the_bound_is_an_error_not_a_loop() {
    let mut history = History::new();
    let last = u128::try_from(MERGE_HOPS_MAX).unwrap() + 2;
    for n in 1..=last {
        history.record(registered(customer(n), CustomerKind::Individual, "张三"));
    }
    for n in 1..last {
        history.record(CustomersMerged {
            customer_id: customer(n),
            survivor_id: customer(n + 1),
            identifiers: Vec::new(),
            reason: None,
        });
    }
    let state = history.fold(&CustomerDirectory);
    assert_eq!(survivor(&state, customer(2)).unwrap(), customer(last));
    let error = survivor(&state, customer(1)).unwrap_err();
    assert!(error.0.contains("more than 16 hops"), "{error}");
}

#[test]
fn an_erased_customer_is_found_by_nothing_and_keeps_only_non_personal_facts() {
    let mut history = zhang_and_duplicate();
    let registered_at = history.recorded[0].occurred_at;
    let consent_at = history.record(ConsentChanged {
        customer_id: customer(ZHANG),
        channel: Channel::WeChat,
        granted: true,
    });
    let assigned_at = history.record(AccountManagerAssigned {
        customer_id: customer(ZHANG),
        manager: staff("am-0007"),
        team_lead: staff("tl-0002"),
        previous_manager: None,
    });
    let erased_at = history.record(CustomerErased {
        customer_id: customer(ZHANG),
        reason: ErasureReason::CustomerRequest,
    });
    // The policy system renews after the erasure; nothing personal comes back.
    history.record(PolicyRenewed {
        policy_number: PolicyNumber::parse("policyNumber", "PJLA2024000123").unwrap(),
        customer_id: customer(ZHANG),
        product_lines: vec![ProductLine::CompulsoryTraffic],
        premium: Money::from_fen(345_600),
        previous_premium: Money::from_fen(345_600),
        period_start: date(2025, 3, 16),
        period_end: date(2026, 3, 15),
        sales_channel: Channel::Phone,
        campaign_id: None,
    });
    let state = history.fold(&CustomerDirectory);

    for (kind, value) in [
        (IdentifierKind::Mobile, "13800138000"),
        (IdentifierKind::IdCard, "11010519491231002X"),
        (IdentifierKind::Plate, "吉A12345"),
        (IdentifierKind::PolicyNumber, "PJLA2024000123"),
    ] {
        assert_eq!(resolved(&state, kind, value), None, "{value}");
        assert_eq!(
            identifier_owner(&state, &identifier(kind, value)).unwrap(),
            None
        );
    }
    let page = identifiers_of(&state, customer(ZHANG), None, NAME_SEARCH_PAGE_MAX).unwrap();
    assert_eq!(page.items, Vec::new());
    // The duplicate 张三 is still there; the erased one is not.
    let page = search_by_name(&state, "张", None, 10).unwrap();
    assert_eq!(
        page.items
            .iter()
            .map(|(_, record)| record.id)
            .collect::<Vec<_>>(),
        vec![customer(DUPLICATE)]
    );
    assert_eq!(
        crate::customer(&state, customer(ZHANG)).unwrap(),
        Some(CustomerRecord {
            id: customer(ZHANG),
            kind: CustomerKind::Individual,
            name: None,
            group: None,
            identifiers: Vec::new(),
            account_manager: Some(AccountManager {
                manager: staff("am-0007"),
                team_lead: staff("tl-0002"),
                assigned_at,
            }),
            consents: vec![Consent {
                channel: Channel::WeChat,
                granted: true,
                changed_at: consent_at,
            }],
            merged_into: None,
            merged_from: Vec::new(),
            erased: true,
            registered_at,
            erased_at: Some(erased_at),
        })
    );
    // No personal byte of 张三's survives anywhere in the directory's state.
    let personal: [&[u8]; 4] = [
        "张三".as_bytes(),
        b"13800138000",
        b"11010519491231002X",
        "吉A12345".as_bytes(),
    ];
    let duplicate_key = crate::keys::record_key(customer(DUPLICATE));
    let name_key = crate::keys::name_key("张三", customer(DUPLICATE));
    for (key, value) in state.entries() {
        if *key == duplicate_key || *key == name_key {
            continue;
        }
        for needle in personal {
            assert!(
                !contains(key, needle) && !contains(value, needle),
                "{key:02x?} still holds personal data"
            );
        }
    }

    // Once erased, the number is free for someone else.
    history.record(CustomerRegistered {
        identifiers: vec![mobile("13800138000")],
        ..registered(customer(9), CustomerKind::Individual, "孙七")
    });
    let state = history.fold(&CustomerDirectory);
    assert_eq!(
        resolved(&state, IdentifierKind::Mobile, "13800138000"),
        Some(customer(9))
    );
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle)
}

#[test]
fn identifiers_of_a_merged_customer_stop_resolving_when_its_survivor_is_erased() {
    let mut history = zhang_and_duplicate();
    history.record(CustomersMerged {
        customer_id: customer(DUPLICATE),
        survivor_id: customer(ZHANG),
        identifiers: vec![mobile("13900139000")],
        reason: None,
    });
    history.record(CustomerErased {
        customer_id: customer(ZHANG),
        reason: ErasureReason::LegalOrder,
    });
    let state = history.fold(&CustomerDirectory);
    assert_eq!(
        resolved(&state, IdentifierKind::Mobile, "13900139000"),
        None
    );
    assert_eq!(
        resolved(&state, IdentifierKind::PolicyNumber, "PJLA2024000999"),
        None
    );
}

/// Seven customers whose names interleave: two 张三, 张三丰, 张伟, 张无忌, 李四, Zhang Wei.
fn named_customers() -> MemoryState {
    let mut history = History::new();
    let people = [
        (10, "张无忌"),
        (11, "张三"),
        (12, "李四"),
        (13, "张三丰"),
        (14, "Zhang Wei"),
        (15, "张伟"),
        (16, "张三"),
    ];
    for (n, full_name) in people {
        history.record(registered(customer(n), CustomerKind::Individual, full_name));
    }
    history.fold(&CustomerDirectory)
}

#[test]
fn name_search_matches_prefixes_in_name_order_and_pages_with_cursors() {
    let state = named_customers();
    let first = search_by_name(&state, "张", None, 3).unwrap();
    assert_eq!(names(&first), ["张三", "张三", "张三丰"]);
    assert!(first.has_next_page);
    // Equal names are ordered by id.
    assert_eq!(first.items[0].1.id, customer(11));
    assert_eq!(first.items[1].1.id, customer(16));
    let cursor = first.items.last().map(|(cursor, _)| cursor.as_str());
    let second = search_by_name(&state, "张", cursor, 3).unwrap();
    assert_eq!(names(&second), ["张伟", "张无忌"]);
    assert!(!second.has_next_page);

    // Walking one at a time gives the same list.
    let mut walked = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = search_by_name(&state, "张", after.as_deref(), 1).unwrap();
        walked.extend(names(&page));
        if !page.has_next_page {
            break;
        }
        after = page.items.last().map(|(cursor, _)| cursor.clone());
    }
    assert_eq!(walked, ["张三", "张三", "张三丰", "张伟", "张无忌"]);

    assert_eq!(
        names(&search_by_name(&state, "  张三丰 ", None, 10).unwrap()),
        ["张三丰"]
    );
    assert_eq!(
        names(&search_by_name(&state, "zhang", None, 10).unwrap()),
        ["Zhang Wei"]
    );
    assert_eq!(
        names(&search_by_name(&state, "ZHANG W", None, 10).unwrap()),
        ["Zhang Wei"]
    );
    assert_eq!(
        names(&search_by_name(&state, "王", None, 10).unwrap()),
        Vec::<String>::new()
    );
    assert_eq!(search_by_name(&state, "", None, 10).unwrap().items.len(), 7);

    let empty = search_by_name(&state, "张", None, 0).unwrap();
    assert!(empty.items.is_empty() && empty.has_next_page);
}

#[test]
fn name_search_refuses_large_pages_and_foreign_cursors() {
    let state = named_customers();
    assert_eq!(
        search_by_name(&state, "张", None, NAME_SEARCH_PAGE_MAX + 1),
        Err(SearchError::PageTooLarge {
            requested: NAME_SEARCH_PAGE_MAX + 1,
            max: NAME_SEARCH_PAGE_MAX
        })
    );
    assert!(search_by_name(&state, "张", None, NAME_SEARCH_PAGE_MAX).is_ok());
    for bad in ["not hex", "abc", "00", ""] {
        assert_eq!(
            search_by_name(&state, "张", Some(bad), 2),
            Err(SearchError::BadCursor),
            "{bad}"
        );
    }
    // A cursor from a search for 李 does not continue a search for 张.
    let other = search_by_name(&state, "李", None, 1).unwrap();
    let cursor = other.items[0].0.as_str();
    assert_eq!(
        search_by_name(&state, "张", Some(cursor), 2),
        Err(SearchError::BadCursor)
    );
    assert_eq!(
        customers(&state, Some(cursor), 2),
        Err(SearchError::BadCursor)
    );
}

#[test]
fn a_renamed_customer_is_found_by_the_new_name_only() {
    let mut history = History::new();
    history.record(registered(customer(1), CustomerKind::Corporate, "吉林物流"));
    history.record(ProfileUpdated {
        customer_id: customer(1),
        name: name("吉林一汽物流有限公司"),
        group: Some(name("中国第一汽车集团有限公司")),
        address: None,
    });
    let state = history.fold(&CustomerDirectory);
    assert_eq!(
        names(&search_by_name(&state, "吉林物", None, 10).unwrap()),
        Vec::<String>::new()
    );
    let page = search_by_name(&state, "吉林一汽", None, 10).unwrap();
    assert_eq!(names(&page), ["吉林一汽物流有限公司"]);
    assert_eq!(
        page.items[0].1.group,
        Some(name("中国第一汽车集团有限公司"))
    );
}

#[test]
fn all_customers_are_listed_in_id_order_page_by_page() {
    let state = named_customers();
    let mut walked = Vec::new();
    let mut after: Option<String> = None;
    for _ in 0..10 {
        let page = customers(&state, after.as_deref(), 2).unwrap();
        walked.extend(page.items.iter().map(|(_, record)| record.id));
        if !page.has_next_page {
            break;
        }
        after = page.items.last().map(|(cursor, _)| cursor.clone());
    }
    assert_eq!(walked, (10..=16).map(customer).collect::<Vec<_>>());
}

#[test]
fn identifiers_of_lists_held_and_linked_identifiers() {
    let state = zhang_and_duplicate().fold(&CustomerDirectory);
    let page = identifiers_of(&state, customer(ZHANG), None, 10).unwrap();
    let listed: Vec<OwnedIdentifier> = page.items.into_iter().map(|(_, owned)| owned).collect();
    let owned = |kind, value, held| OwnedIdentifier {
        identifier: identifier(kind, value),
        held,
        linked: !held,
    };
    assert_eq!(
        listed,
        vec![
            owned(IdentifierKind::Mobile, "13800138000", true),
            owned(IdentifierKind::IdCard, "11010519491231002X", true),
            owned(IdentifierKind::Plate, "吉A12345", false),
            owned(IdentifierKind::PolicyNumber, "PJLA2024000123", false),
        ]
    );
    let first = identifiers_of(&state, customer(ZHANG), None, 3).unwrap();
    let rest = identifiers_of(&state, customer(ZHANG), Some(&first.items[2].0), 3).unwrap();
    assert!(first.has_next_page && !rest.has_next_page);
    assert_eq!(rest.items.len(), 1);
}

#[test]
fn every_sample_event_folds() {
    let mut history = History::new();
    for event in samples::sample_events() {
        history.record(event);
    }
    let state = history.fold(&CustomerDirectory);
    let corporate = crate::customer(&state, samples::corporate_customer_id())
        .unwrap()
        .unwrap();
    assert_eq!(corporate.kind, CustomerKind::Corporate);
    assert_eq!(
        corporate.account_manager.map(|manager| manager.manager),
        Some(staff("am-0007"))
    );
    assert_eq!(
        resolved(&state, IdentifierKind::Landline, "0431 8888 6666"),
        Some(samples::corporate_customer_id())
    );
    assert_eq!(CustomerDirectory.name(), "customer-directory");
    assert_eq!(CustomerDirectory.version(), 3);
}

/// A history touching every path of the fold: registrations, additions, removals, renames,
/// consents, managers, policies, claims, merges and an erasure.
fn busy_history() -> History {
    let mut history = zhang_and_duplicate();
    history.record(CustomerRegistered {
        group: Some(name("中国第一汽车集团有限公司")),
        identifiers: vec![identifier(
            IdentifierKind::SocialCreditCode,
            "91350100M000100Y43",
        )],
        ..registered(
            customer(FLEET),
            CustomerKind::Corporate,
            "吉林一汽物流有限公司",
        )
    });
    history.record(AccountManagerAssigned {
        customer_id: customer(FLEET),
        manager: staff("am-0007"),
        team_lead: staff("tl-0002"),
        previous_manager: None,
    });
    history.record(IdentifierAdded {
        customer_id: customer(ZHANG),
        identifier: identifier(IdentifierKind::Email, "Zhang.San@Example.com"),
    });
    history.record(ConsentChanged {
        customer_id: customer(ZHANG),
        channel: Channel::Phone,
        granted: true,
    });
    history.record(policy_issued(customer(FLEET), "PJLA2024000555", "吉A12345"));
    history.record(IdentifierRemoved {
        customer_id: customer(ZHANG),
        identifier: mobile("13800138000"),
    });
    history.record(CustomersMerged {
        customer_id: customer(DUPLICATE),
        survivor_id: customer(ZHANG),
        identifiers: vec![mobile("13900139000")],
        reason: None,
    });
    history.record(ProfileUpdated {
        customer_id: customer(ZHANG),
        name: name("张三三"),
        group: None,
        address: None,
    });
    history.record(CustomerErased {
        customer_id: customer(FLEET),
        reason: ErasureReason::RetentionPeriodEnded,
    });
    for event in samples::sample_events() {
        history.record(event);
    }
    history
}

#[test]
fn the_busy_history_reads_as_expected() {
    let state = busy_history().fold(&CustomerDirectory);
    assert_eq!(
        resolved(&state, IdentifierKind::Mobile, "13800138000"),
        Some(samples::individual_customer_id())
    );
    // The samples register their 张三 with the same e-mail address (the last registration
    // holds it) and then remove it.
    assert_eq!(
        resolved(&state, IdentifierKind::Email, "zhang.san@example.com"),
        None
    );
    // The samples' own merge hands 13900139000 on to their 张三.
    assert_eq!(
        resolved(&state, IdentifierKind::Mobile, "13900139000"),
        Some(samples::individual_customer_id())
    );
    assert_eq!(
        resolved(&state, IdentifierKind::PolicyNumber, "PJLA2024000555"),
        None
    );
    assert_eq!(
        names(&search_by_name(&state, "张三三", None, 5).unwrap()),
        ["张三三"]
    );
}

proptest! {
    /// The fold is deterministic and carries no hidden state: folding a history in one go, or
    /// in two parts with a fresh projection and a copied state in between (a restart), gives
    /// the same bytes.
    #[test]
    fn folding_in_one_go_or_in_two_parts_gives_the_same_state(split in 0_usize..40) {
        let history = busy_history();
        let split = split.min(history.recorded.len());
        let whole = history.fold(&CustomerDirectory);

        let mut first_part = MemoryState::new();
        apply(&CustomerDirectory, &history.recorded[..split], &mut first_part);
        let mut restarted = first_part.clone();
        let projection: Box<dyn Projection> = Box::new(CustomerDirectory);
        apply(projection.as_ref(), &history.recorded[split..], &mut restarted);

        prop_assert_eq!(whole.entries(), restarted.entries());
    }
}

#[test]
fn an_unknown_time_is_never_invented() {
    // The record's times are the envelopes' occurred_at, never a clock read during the fold.
    let mut history = History::new();
    let at: Timestamp = "2019-01-01T00:00:00Z".parse().unwrap();
    history.record_at(
        at,
        registered(customer(1), CustomerKind::Individual, "周八"),
    );
    let state = history.fold(&CustomerDirectory);
    let record = crate::customer(&state, customer(1)).unwrap().unwrap();
    assert_eq!(record.registered_at, at);
}
