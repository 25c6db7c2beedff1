//! A linked identifier named by one customer and then another: the later link wins, and when
//! the customer holding the link is erased it goes back to the customer before, so the live fold
//! and a rebuild that reads the erased customer's events redacted agree on who it is linked to.

use ledger_domain::events::{ClaimReported, CustomerErased, CustomersMerged};
use ledger_domain::ids::CustomerId;
use ledger_domain::kinds::{CustomerKind, ErasureReason};
use ledger_domain::projection::MemoryState;
use ledger_domain::samples::{self, text};
use ledger_domain::values::{Channel, ClaimNumber, IdentifierKind, PolicyNumber};

use super::support::{History, customer, identifier};
use super::{contains, policy_issued, registered};
use crate::{CustomerDirectory, OwnedIdentifier, identifier_owner, owned_identifier, resolve};

/// The car's first owner, whose policy named its plate.
const SELLER: u128 = 11;
/// Who bought the car and insured it under the same plate.
const BUYER: u128 = 12;
/// A customer the seller was merged into.
const SURVIVOR: u128 = 13;

const PLATE: &str = "吉A12345";
const SELLER_POLICY: &str = "PJLA2024000123";
const BUYER_POLICY: &str = "PJLA2024000999";

/// The seller and the buyer registered, and each one's policy on the same car (plate and VIN).
fn car_sold_on() -> History {
    let mut history = History::new();
    history.record(registered(
        customer(SELLER),
        CustomerKind::Individual,
        "张三",
    ));
    history.record(registered(
        customer(BUYER),
        CustomerKind::Individual,
        "李四",
    ));
    history.record(policy_issued(customer(SELLER), SELLER_POLICY, PLATE));
    history.record(policy_issued(customer(BUYER), BUYER_POLICY, PLATE));
    history
}

fn erased(n: u128) -> CustomerErased {
    CustomerErased {
        customer_id: customer(n),
        reason: ErasureReason::CustomerRequest,
    }
}

/// A claim by `n` on `policy` naming the plate: a linking event later than the policy.
fn claim_naming_the_plate(n: u128, claim: &str, policy: &str) -> ClaimReported {
    ClaimReported {
        claim_number: ClaimNumber::parse("claimNumber", claim).unwrap(),
        policy_number: PolicyNumber::parse("policyNumber", policy).unwrap(),
        customer_id: customer(n),
        loss_occurred_at: samples::sample_time(),
        location: text("长春市人民大街"),
        description: text("追尾"),
        plate: Some(ledger_domain::values::Plate::parse("plate", PLATE).unwrap()),
        reported_via: Channel::Phone,
        injuries: false,
        estimated_loss: None,
        time_guarantee_working_days: None,
    }
}

fn plate_owner(state: &MemoryState) -> Option<CustomerId> {
    resolve(state, &identifier(IdentifierKind::Plate, PLATE)).unwrap()
}

fn vin_owner(state: &MemoryState) -> Option<CustomerId> {
    resolve(state, &identifier(IdentifierKind::Vin, "LSVAM4187C2184847")).unwrap()
}

/// How customer `n` knows the plate, as `knownIdentifiers` lists it.
fn plate_as_known_by(state: &MemoryState, n: u128) -> Option<OwnedIdentifier> {
    owned_identifier(
        state,
        customer(n),
        &identifier(IdentifierKind::Plate, PLATE),
    )
    .unwrap()
}

fn linked_plate() -> Option<OwnedIdentifier> {
    Some(OwnedIdentifier {
        identifier: identifier(IdentifierKind::Plate, PLATE),
        held: false,
        linked: true,
    })
}

/// Folds `history` live, and as a rebuild reads it once the keys of the `keys_gone` customers
/// are gone; both must write the same state, which is returned.
fn live_equals_rebuild(history: &History, keys_gone: &[u128]) -> MemoryState {
    let live = history.fold(&CustomerDirectory);
    let keys_gone: Vec<CustomerId> = keys_gone.iter().copied().map(customer).collect();
    let rebuilt = history.with_keys_gone(&keys_gone).fold(&CustomerDirectory);
    assert_eq!(rebuilt.entries(), live.entries());
    live
}

/// No key or value of the directory holds the plate any more.
fn plate_forgotten(state: &MemoryState) -> bool {
    state
        .entries()
        .iter()
        .all(|(key, value)| !contains(key, PLATE.as_bytes()) && !contains(value, PLATE.as_bytes()))
}

#[test]
fn the_later_policy_takes_the_plate_from_the_earlier() {
    let state = car_sold_on().fold(&CustomerDirectory);
    assert_eq!(plate_owner(&state), Some(customer(BUYER)));
    assert_eq!(plate_as_known_by(&state, BUYER), linked_plate());
    assert_eq!(plate_as_known_by(&state, SELLER), None);
}

/// The bug this pins: live, erasing the buyer unlinked the plate from everyone, while a rebuild
/// (which reads the buyer's policy redacted, so the link never moved) left it with the seller.
#[test]
fn erasing_the_customer_who_took_a_plate_gives_it_back_to_the_one_before() {
    let mut history = car_sold_on();
    history.record(erased(BUYER));
    let state = live_equals_rebuild(&history, &[BUYER]);

    assert_eq!(plate_owner(&state), Some(customer(SELLER)));
    assert_eq!(vin_owner(&state), Some(customer(SELLER)));
    assert_eq!(plate_as_known_by(&state, SELLER), linked_plate());
    assert_eq!(plate_as_known_by(&state, BUYER), None);
    let plate = identifier(IdentifierKind::Plate, PLATE);
    assert_eq!(identifier_owner(&state, &plate).unwrap(), None);
    // The seller's record is what looking the plate up shows.
    let found = crate::customer(&state, plate_owner(&state).unwrap())
        .unwrap()
        .unwrap();
    assert_eq!(found.name.as_ref().map(|name| name.as_str()), Some("张三"));
}

#[test]
fn a_customer_who_relinked_after_the_erased_one_keeps_the_plate() {
    let mut history = car_sold_on();
    history.record(claim_naming_the_plate(
        SELLER,
        "CJLA2024000456",
        SELLER_POLICY,
    ));
    let state = history.fold(&CustomerDirectory);
    assert_eq!(plate_owner(&state), Some(customer(SELLER)));
    assert_eq!(plate_as_known_by(&state, BUYER), None);

    history.record(erased(BUYER));
    let state = live_equals_rebuild(&history, &[BUYER]);
    assert_eq!(plate_owner(&state), Some(customer(SELLER)));
    assert_eq!(plate_as_known_by(&state, SELLER), linked_plate());
    // The VIN was named by the buyer last (the claim names only the plate): back to the seller.
    assert_eq!(vin_owner(&state), Some(customer(SELLER)));

    // Erasing the seller as well leaves nobody: the buyer does not come back.
    history.record(erased(SELLER));
    let state = live_equals_rebuild(&history, &[BUYER, SELLER]);
    assert_eq!(plate_owner(&state), None);
    assert_eq!(vin_owner(&state), None);
    assert!(plate_forgotten(&state));
}

#[test]
fn erasing_the_customer_the_plate_was_taken_from_leaves_it_with_the_taker() {
    let mut history = car_sold_on();
    history.record(erased(SELLER));
    let state = live_equals_rebuild(&history, &[SELLER]);
    assert_eq!(plate_owner(&state), Some(customer(BUYER)));
    assert_eq!(plate_as_known_by(&state, BUYER), linked_plate());
    assert_eq!(plate_as_known_by(&state, SELLER), None);
    // The seller is gone from the plate's past links too: erasing the buyer now does not bring
    // the seller back.
    history.record(erased(BUYER));
    let state = live_equals_rebuild(&history, &[SELLER, BUYER]);
    assert_eq!(plate_owner(&state), None);
    assert_eq!(plate_as_known_by(&state, SELLER), None);
    assert!(plate_forgotten(&state));
}

#[test]
fn erasing_both_customers_in_either_order_links_the_plate_to_nobody() {
    for (first, second) in [(BUYER, SELLER), (SELLER, BUYER)] {
        let mut history = car_sold_on();
        history.record(erased(first));
        let state = live_equals_rebuild(&history, &[first]);
        assert_eq!(
            plate_owner(&state),
            Some(customer(second)),
            "{first} erased"
        );

        history.record(erased(second));
        let state = live_equals_rebuild(&history, &[first, second]);
        assert_eq!(plate_owner(&state), None, "{first}, then {second} erased");
        assert_eq!(vin_owner(&state), None);
        assert_eq!(plate_as_known_by(&state, SELLER), None);
        assert_eq!(plate_as_known_by(&state, BUYER), None);
        assert!(plate_forgotten(&state));
    }
}

/// A link stays with the customer its event named, merged or not, and reaches the survivor
/// through the merge, before the buyer took it and after the buyer's erasure gave it back.
#[test]
fn a_plate_given_back_to_a_merged_customer_finds_its_survivor() {
    let mut history = car_sold_on();
    history.record(registered(
        customer(SURVIVOR),
        CustomerKind::Individual,
        "张三",
    ));
    history.record(CustomersMerged {
        customer_id: customer(SELLER),
        survivor_id: customer(SURVIVOR),
        identifiers: Vec::new(),
        reason: None,
    });
    history.record(erased(BUYER));
    let state = live_equals_rebuild(&history, &[BUYER]);
    assert_eq!(plate_owner(&state), Some(customer(SURVIVOR)));
    assert_eq!(plate_as_known_by(&state, SELLER), linked_plate());

    // Erasing the survivor erases the customers merged into it first (the domain's rule).
    history.record(erased(SELLER));
    history.record(erased(SURVIVOR));
    let state = live_equals_rebuild(&history, &[BUYER, SELLER, SURVIVOR]);
    assert_eq!(plate_owner(&state), None);
    assert!(plate_forgotten(&state));
}

/// A customer whose data key stayed in the ledger an export came from reads its policy's plate
/// as an erased value: it never named the plate, so the plate never goes back to it. Its policy
/// number is not personal, it is found by it (as before anyone else named it), and the number
/// goes back to it like any link.
#[test]
fn a_customer_whose_key_is_elsewhere_gets_back_its_policy_number_but_never_a_plate() {
    let mut history = History::new();
    history.record_redacted(registered(
        customer(SELLER),
        CustomerKind::Individual,
        "张三",
    ));
    history.record_redacted(policy_issued(customer(SELLER), SELLER_POLICY, PLATE));
    history.record(registered(
        customer(BUYER),
        CustomerKind::Individual,
        "李四",
    ));
    // The buyer's policy takes the plate; the buyer's claim names the seller's policy number.
    history.record(policy_issued(customer(BUYER), BUYER_POLICY, PLATE));
    history.record(claim_naming_the_plate(
        BUYER,
        "CJLA2024000456",
        SELLER_POLICY,
    ));
    let seller_policy = identifier(IdentifierKind::PolicyNumber, SELLER_POLICY);
    let state = history.fold(&CustomerDirectory);
    assert_eq!(
        resolve(&state, &seller_policy).unwrap(),
        Some(customer(BUYER))
    );

    history.record(erased(BUYER));
    let state = live_equals_rebuild(&history, &[BUYER]);
    assert_eq!(plate_owner(&state), None);
    assert_eq!(plate_as_known_by(&state, SELLER), None);
    assert_eq!(
        resolve(&state, &seller_policy).unwrap(),
        Some(customer(SELLER))
    );
    let seller = crate::customer(&state, customer(SELLER)).unwrap().unwrap();
    assert_eq!((seller.erased, seller.erased_at), (true, None));
    assert!(plate_forgotten(&state));
}

/// The plate is linked to one customer at a time whatever the order of links and erasures:
/// the last one not erased whose readable event named it.
#[test]
fn a_plate_named_by_many_customers_goes_back_through_them_in_order() {
    let mut history = History::new();
    let owners: Vec<u128> = (21..=25).collect();
    for &n in &owners {
        history.record(registered(customer(n), CustomerKind::Individual, "王五"));
        history.record(policy_issued(
            customer(n),
            &format!("PJLA20240001{n}"),
            PLATE,
        ));
    }
    // 22 names the plate again, after 25: the order is now 21, 23, 24, 25, 22.
    history.record(claim_naming_the_plate(
        22,
        "CJLA2024000456",
        "PJLA2024000122",
    ));
    let mut erased_so_far = Vec::new();
    for (n, expected_after) in [(24, 22), (22, 25), (21, 25), (25, 23), (23, 0)] {
        history.record(erased(n));
        erased_so_far.push(n);
        let state = live_equals_rebuild(&history, &erased_so_far);
        let expected = (expected_after != 0).then(|| customer(expected_after));
        assert_eq!(plate_owner(&state), expected, "after erasing {n}");
        for &other in &owners {
            let linked = (Some(customer(other)) == expected)
                .then(linked_plate)
                .flatten();
            assert_eq!(
                plate_as_known_by(&state, other),
                linked,
                "{other} after {n}"
            );
        }
    }
}
