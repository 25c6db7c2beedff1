//! Events that read redacted: a customer whose data key stayed in the ledger an export came
//! from reads as erased, and a rebuild that can no longer open an erased customer's events
//! writes what the live fold wrote.

use ledger_domain::events::{
    AccountManagerAssigned, ConsentChanged, CustomerErased, CustomerRegistered, CustomersMerged,
    IdentifierAdded, ProfileUpdated,
};
use ledger_domain::kinds::{CustomerKind, ErasureReason};
use ledger_domain::samples::{name, staff, text};
use ledger_domain::values::{Channel, IdentifierKind};

use super::support::{History, customer, identifier};
use super::{
    DUPLICATE, FLEET, ZHANG, busy_history, mobile, policy_issued, registered, resolved,
    zhang_and_duplicate,
};
use crate::{
    Consent, CustomerDirectory, CustomerRecord, NAME_SEARCH_PAGE_MAX, OwnedIdentifier,
    identifiers_of, search_by_name,
};

/// 张三 and his duplicate as a ledger that imported them reads them: their keys stayed in the
/// ledger that exported them, so every event with personal fields arrives redacted.
fn imported_without_keys() -> History {
    let mut history = History::new();
    history.record_redacted(CustomerRegistered {
        group: Some(name("中国第一汽车集团有限公司")),
        identifiers: vec![
            mobile("13800138000"),
            identifier(IdentifierKind::IdCard, "11010519491231002X"),
        ],
        ..registered(customer(ZHANG), CustomerKind::Individual, "张三")
    });
    history.record_redacted(policy_issued(customer(ZHANG), "PJLA2024000123", "吉A12345"));
    history.record_redacted(CustomerRegistered {
        identifiers: vec![mobile("13900139000")],
        ..registered(customer(DUPLICATE), CustomerKind::Individual, "张三")
    });
    history.record_redacted(IdentifierAdded {
        customer_id: customer(DUPLICATE),
        identifier: identifier(IdentifierKind::Email, "zhang.san@example.com"),
    });
    history.record_redacted(ProfileUpdated {
        customer_id: customer(DUPLICATE),
        name: name("张三三"),
        group: None,
        address: Some(text("长春市朝阳区")),
    });
    history
}

#[test]
fn a_customer_whose_key_is_elsewhere_reads_as_erased_with_no_erasure_time() {
    let mut history = imported_without_keys();
    let registered_at = history.recorded[0].occurred_at;
    // Facts with nothing personal still arrive whole, in the ledger it came from or here.
    let consent_at = history.record(ConsentChanged {
        customer_id: customer(ZHANG),
        channel: Channel::Phone,
        granted: true,
    });
    let state = history.fold(&CustomerDirectory);

    assert_eq!(
        crate::customer(&state, customer(ZHANG)).unwrap(),
        Some(CustomerRecord {
            id: customer(ZHANG),
            kind: CustomerKind::Individual,
            name: None,
            group: None,
            identifiers: Vec::new(),
            account_manager: None,
            consents: vec![Consent {
                channel: Channel::Phone,
                granted: true,
                changed_at: consent_at,
            }],
            merged_into: None,
            merged_from: Vec::new(),
            erased: true,
            registered_at,
            erased_at: None,
        })
    );
    let duplicate = crate::customer(&state, customer(DUPLICATE))
        .unwrap()
        .unwrap();
    assert_eq!((duplicate.name, duplicate.erased), (None, true));
    assert!(duplicate.identifiers.is_empty());
    // Nobody is listed under a blank name.
    assert!(
        search_by_name(&state, "", None, 10)
            .unwrap()
            .items
            .is_empty()
    );
    // The erased identifiers are nobody's keys: each customer knows its policy number only,
    // which is not personal, and is found by it.
    assert_eq!(
        identifiers_of(&state, customer(ZHANG), None, NAME_SEARCH_PAGE_MAX)
            .unwrap()
            .items
            .into_iter()
            .map(|(_, owned)| owned)
            .collect::<Vec<_>>(),
        vec![OwnedIdentifier {
            identifier: identifier(IdentifierKind::PolicyNumber, "PJLA2024000123"),
            held: false,
            linked: true,
        }]
    );
    assert!(
        identifiers_of(&state, customer(DUPLICATE), None, NAME_SEARCH_PAGE_MAX)
            .unwrap()
            .items
            .is_empty()
    );
    assert_eq!(
        resolved(&state, IdentifierKind::PolicyNumber, "PJLA2024000123"),
        Some(customer(ZHANG))
    );
    // Erasing such a customer here records when, as for anyone.
    let erased_at = history.record(CustomerErased {
        customer_id: customer(ZHANG),
        reason: ErasureReason::CustomerRequest,
    });
    let state = history.fold(&CustomerDirectory);
    let erased = crate::customer(&state, customer(ZHANG)).unwrap().unwrap();
    assert_eq!((erased.erased, erased.erased_at), (true, Some(erased_at)));
    assert_eq!(
        resolved(&state, IdentifierKind::PolicyNumber, "PJLA2024000123"),
        None
    );
}

#[test]
fn a_redacted_merge_leaves_its_survivor_reading_as_erased() {
    let mut history = imported_without_keys();
    history.record_redacted(CustomersMerged {
        customer_id: customer(DUPLICATE),
        survivor_id: customer(ZHANG),
        identifiers: vec![mobile("13900139000")],
        reason: Some(text("same ID card")),
    });
    let state = history.fold(&CustomerDirectory);
    let survivor = crate::customer(&state, customer(ZHANG)).unwrap().unwrap();
    assert_eq!(survivor.merged_from, vec![customer(DUPLICATE)]);
    assert_eq!((survivor.name, survivor.erased), (None, true));
    assert!(survivor.identifiers.is_empty());
    let merged = crate::customer(&state, customer(DUPLICATE))
        .unwrap()
        .unwrap();
    assert_eq!(merged.merged_into, Some(customer(ZHANG)));
}

/// The live fold read 张三's events whole until his erasure; a rebuild after it reads them
/// redacted. Both write the same state.
#[test]
fn a_rebuild_that_cannot_open_erased_customers_events_writes_what_the_live_fold_wrote() {
    let mut history = zhang_and_duplicate();
    history.record(ConsentChanged {
        customer_id: customer(ZHANG),
        channel: Channel::WeChat,
        granted: true,
    });
    history.record(AccountManagerAssigned {
        customer_id: customer(ZHANG),
        manager: staff("am-0007"),
        team_lead: staff("tl-0002"),
        previous_manager: None,
    });
    history.record(IdentifierAdded {
        customer_id: customer(ZHANG),
        identifier: identifier(IdentifierKind::Email, "zhang.san@example.com"),
    });
    history.record(ProfileUpdated {
        customer_id: customer(ZHANG),
        name: name("张三三"),
        group: Some(name("中国第一汽车集团有限公司")),
        address: None,
    });
    history.record(CustomersMerged {
        customer_id: customer(DUPLICATE),
        survivor_id: customer(ZHANG),
        identifiers: vec![mobile("13900139000")],
        reason: None,
    });
    history.record(CustomerErased {
        customer_id: customer(DUPLICATE),
        reason: ErasureReason::CustomerRequest,
    });
    history.record(CustomerErased {
        customer_id: customer(ZHANG),
        reason: ErasureReason::CustomerRequest,
    });
    let live = history.fold(&CustomerDirectory);
    let rebuilt = history
        .with_keys_gone(&[customer(ZHANG), customer(DUPLICATE)])
        .fold(&CustomerDirectory);
    assert_eq!(rebuilt.entries(), live.entries());

    // And over the busy history, whose corporate customer is erased among everything else.
    let busy = busy_history();
    assert_eq!(
        busy.with_keys_gone(&[customer(FLEET)])
            .fold(&CustomerDirectory)
            .entries(),
        busy.fold(&CustomerDirectory).entries()
    );
}
