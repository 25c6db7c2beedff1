//! The import's rules, given a ledger's facts (a map) and the file's earlier lines, when a line
//! comes, then the problem it is (or none). Lines come from the sample fixture, a history that
//! keeps every rule, and from small lines written here.

use std::collections::HashMap;

use super::*;
use crate::interchange::{Line, parse_line};

const SAMPLE: &str = include_str!("../../../../tests/fixtures/ledger-sample.ndjson");

/// A ledger's facts held in maps.
#[derive(Debug, Default)]
struct Facts {
    streams: HashMap<StreamId, StreamFacts>,
    /// Who holds which identifier: the ledger's own fold.
    owners: Owners,
    recorded: HashMap<EventId, Recorded>,
    /// What the ledger's events say across streams.
    across: Across,
    /// Each case as its aggregate folds the ledger's events.
    cases: HashMap<CaseId, ledger_domain::aggregates::ServiceCase>,
}

impl LedgerFacts for Facts {
    fn stream(&mut self, stream: &StreamId) -> anyhow::Result<StreamFacts> {
        Ok(self.streams.get(stream).cloned().unwrap_or_default())
    }

    fn identifier_owner(&mut self, identifier: &Identifier) -> anyhow::Result<Option<CustomerId>> {
        self.owners.held_by(identifier, || Ok(None))
    }

    fn recorded(&mut self, event_id: EventId) -> anyhow::Result<Option<Recorded>> {
        Ok(self.recorded.get(&event_id).cloned())
    }

    fn merged_into(&mut self, survivor: CustomerId) -> anyhow::Result<Vec<CustomerId>> {
        Ok(self
            .across
            .merged_into
            .get(&survivor)
            .cloned()
            .unwrap_or_default())
    }

    fn enquiry_sender(&mut self, enquiry: EnquiryId) -> anyhow::Result<Option<CustomerId>> {
        Ok(self.across.enquiry_senders.get(&enquiry).copied())
    }

    fn purchased(&mut self, campaign: CampaignId) -> anyhow::Result<HashSet<PolicyNumber>> {
        let stream = StreamId::campaign(campaign);
        Ok(self
            .streams
            .get(&stream)
            .map(|facts| facts.purchased.clone())
            .unwrap_or_default())
    }

    fn sale_credit(&mut self, number: &PolicyNumber) -> anyhow::Result<Option<SaleCredit>> {
        Ok(self.across.sale_credits.get(number).copied())
    }

    fn total_cost(&mut self, campaign: CampaignId) -> anyhow::Result<Money> {
        let stream = StreamId::campaign(campaign);
        Ok(self
            .streams
            .get(&stream)
            .map(|facts| facts.total_cost)
            .unwrap_or_default())
    }

    fn profile(&mut self, customer: CustomerId) -> anyhow::Result<Option<Digest>> {
        let stream = StreamId::customer(customer);
        Ok(self.streams.get(&stream).and_then(|facts| facts.profile))
    }

    fn service_case(
        &mut self,
        case: CaseId,
    ) -> anyhow::Result<ledger_domain::aggregates::ServiceCase> {
        Ok(self.cases.get(&case).cloned().unwrap_or_default())
    }
}

/// A ledger that holds `lines` (as if imported earlier), each folded into its stream's facts.
fn ledger_of(lines: &[IntegratorLine]) -> Facts {
    let mut facts = Facts::default();
    for (index, line) in lines.iter().enumerate() {
        facts
            .streams
            .entry(line.stream.clone())
            .or_default()
            .apply(&line.event);
        facts.owners.apply(&line.event, |_| Ok(None)).unwrap();
        facts.across.apply_event(&line.event);
        if let Some(case) = case_of_stream(&line.stream) {
            facts.cases.entry(case).or_default().apply(&line.event);
        }
        facts.recorded.insert(
            line.new_event.event_id,
            Recorded {
                position: Position(u64::try_from(index).unwrap() + 1),
                digest: content_digest(&line.stream, &line.new_event, &line.new_event.payload),
                redacted: false,
            },
        );
    }
    facts
}

fn integrator(text: &str) -> IntegratorLine {
    match parse_line(text).unwrap() {
        Line::Integrator(line) => line,
        Line::Exported(_) => panic!("an integrator line was expected: {text}"),
    }
}

/// The sample's first line of `event_type`.
fn sample(event_type: &str) -> IntegratorLine {
    let tag = format!(r#""type":"{event_type}""#);
    let text = SAMPLE
        .lines()
        .find(|line| line.contains(&tag))
        .unwrap_or_else(|| panic!("the sample has no {event_type}"));
    integrator(text)
}

/// The sample's lines before its first line of `event_type`: a ledger holding what that line
/// names.
fn sample_before(event_type: &str) -> Vec<IntegratorLine> {
    let tag = format!(r#""type":"{event_type}""#);
    SAMPLE
        .lines()
        .take_while(|line| !line.contains(&tag))
        .map(integrator)
        .collect()
}

const ALICE: &str = "0190a5e2-8c3b-7d4e-9f00-1234567890ab";
const BOB: &str = "0190a5e2-8c3b-7d4e-9f00-1234567890ac";
const CONTACT: &str = "0190a5e2-8c3b-7d4e-9f00-00000000c001";

fn registered(customer: &str, mobile: &str) -> IntegratorLine {
    integrator(&format!(
        r#"{{"type":"CustomerRegistered","schemaVersion":1,"stream":"customer-{customer}","occurredAt":"2025-03-07T09:30:00+08:00","actor":"agent-0042","payload":{{"customerId":"{customer}","kind":"INDIVIDUAL","name":"张三","identifiers":[{{"kind":"MOBILE","value":"{mobile}"}}]}}}}"#
    ))
}

fn identifier_event(event_type: &str, customer: &str, mobile: &str) -> IntegratorLine {
    integrator(&format!(
        r#"{{"type":"{event_type}","schemaVersion":1,"stream":"customer-{customer}","occurredAt":"2025-03-07T10:30:00+08:00","actor":"agent-0042","payload":{{"customerId":"{customer}","identifier":{{"kind":"MOBILE","value":"{mobile}"}}}}}}"#
    ))
}

fn contact(customer: &str, contact: &str, summary: &str) -> IntegratorLine {
    contact_started(customer, contact, summary, "2025-03-08T09:00:00+08:00")
}

/// A contact of a minute from `started`, dated when it ended, as the API dates it.
fn contact_started(customer: &str, contact: &str, summary: &str, started: &str) -> IntegratorLine {
    let ended = started
        .parse::<jiff::Timestamp>()
        .unwrap()
        .checked_add(jiff::SignedDuration::from_secs(60))
        .unwrap();
    contact_dated(customer, contact, summary, started, &ended.to_string())
}

/// A contact of a minute from `started`, dated `occurred`.
fn contact_dated(
    customer: &str,
    contact: &str,
    summary: &str,
    started: &str,
    occurred: &str,
) -> IntegratorLine {
    integrator(&format!(
        r#"{{"type":"ContactRecorded","schemaVersion":1,"stream":"customer-{customer}","occurredAt":"{occurred}","actor":"agent-0042","payload":{{"contactId":"{contact}","customerId":"{customer}","channel":"PHONE","direction":"INBOUND","agent":"agent-0042","startedAt":"{started}","durationSeconds":60,"topic":"RENEWAL","summary":"{summary}","outcome":"RESOLVED"}}}}"#
    ))
}

fn merged(customer: &str, survivor: &str) -> IntegratorLine {
    integrator(&format!(
        r#"{{"type":"CustomersMerged","schemaVersion":1,"stream":"customer-{customer}","occurredAt":"2025-03-09T09:30:00+08:00","actor":"dq-01","payload":{{"customerId":"{customer}","survivorId":"{survivor}","identifiers":[]}}}}"#
    ))
}

fn erased(customer: &str) -> IntegratorLine {
    integrator(&format!(
        r#"{{"type":"CustomerErased","schemaVersion":1,"stream":"customer-{customer}","occurredAt":"2025-03-10T09:30:00+08:00","actor":"privacy-01","payload":{{"customerId":"{customer}","reason":"CUSTOMER_REQUEST"}}}}"#
    ))
}

/// Feeds `lines` in order, accepting each line that keeps the rules; the problems by line
/// number (from 1), with the lines that change nothing among them as the import names them
/// (`records nothing: field: reason`), so that no test passes over one.
fn fold(rules: &mut LedgerRules<Facts>, lines: &[IntegratorLine]) -> Vec<(usize, String)> {
    let mut problems = Vec::new();
    for (index, line) in lines.iter().enumerate() {
        let number = index + 1;
        match rules.event_id(number, line).unwrap() {
            EventIdUse::New => {}
            EventIdUse::AlreadyPresent => continue,
            EventIdUse::Reused(problem) => {
                problems.push((number, problem));
                continue;
            }
        }
        match rules.decide(number, line).unwrap() {
            Decision::Accepted => {}
            Decision::Unchanged(reason) => problems.push((number, records_nothing(&reason))),
            Decision::Refused(problem) => problems.push((number, problem)),
        }
    }
    problems.extend(rules.finish().unwrap());
    // (The import decides the lines after a superseded one again without it; here they stand.)
    problems.extend(
        rules
            .superseded()
            .into_iter()
            .map(|(number, reason)| (number, records_nothing(&reason))),
    );
    problems.sort_by_key(|(number, _)| *number);
    problems
}

fn fold_on(ledger: Facts, lines: &[IntegratorLine]) -> Vec<(usize, String)> {
    fold(&mut LedgerRules::new(ledger), lines)
}

/// A line that changes nothing, as [`fold`] lists it: `reason` after `records nothing: `.
fn records_nothing(reason: &str) -> String {
    format!("records nothing: {reason}")
}

#[test]
fn the_sample_history_keeps_every_rule_and_again_is_already_present() {
    let lines: Vec<IntegratorLine> = SAMPLE.lines().map(integrator).collect();
    let mut rules = LedgerRules::new(Facts::default());
    assert_eq!(fold(&mut rules, &lines), Vec::new());
    // The same file again, onto the ledger that holds it: every line is already present.
    let mut again = LedgerRules::new(ledger_of(&lines));
    for line in &lines {
        assert_eq!(again.event_id(1, line).unwrap(), EventIdUse::AlreadyPresent);
    }
}

#[test]
fn registering_a_customer_the_ledger_or_the_file_holds_already_exists() {
    let ledger = ledger_of(&[registered(ALICE, "13800000001")]);
    let again = registered(ALICE, "13800000002");
    assert_eq!(
        fold_on(ledger, std::slice::from_ref(&again)),
        [(1, format!("customerId: customer {ALICE} already exists"))]
    );
    let lines = [
        registered(BOB, "13800000003"),
        registered(BOB, "13800000004"),
    ];
    assert_eq!(
        fold_on(Facts::default(), &lines),
        [(2, format!("customerId: customer {BOB} already exists"))]
    );
}

#[test]
fn an_identifier_another_customer_holds_is_identifier_owned() {
    // Held in the ledger.
    let ledger = ledger_of(&[registered(ALICE, "13800000001")]);
    assert_eq!(
        fold_on(ledger, &[registered(BOB, "13800000001")]),
        [(
            1,
            format!("identifiers[0]: MOBILE 13800000001 already belongs to customer {ALICE}")
        )]
    );
    // Held by an earlier line of the file, and added to another customer.
    let lines = [
        registered(ALICE, "13800000001"),
        registered(BOB, "13800000002"),
        identifier_event("IdentifierAdded", BOB, "13800000001"),
    ];
    assert_eq!(
        fold_on(Facts::default(), &lines),
        [(
            3,
            format!("identifier: MOBILE 13800000001 already belongs to customer {ALICE}")
        )]
    );
}

#[test]
fn an_identifier_is_free_again_once_removed_by_its_holder_or_its_holder_erased() {
    let ledger = ledger_of(&[
        registered(ALICE, "13800000001"),
        registered(BOB, "13800000002"),
    ]);
    let lines = [
        // Someone who does not hold it cannot free it.
        identifier_event("IdentifierRemoved", BOB, "13800000001"),
        identifier_event("IdentifierAdded", BOB, "13800000001"),
        identifier_event("IdentifierRemoved", ALICE, "13800000001"),
        identifier_event("IdentifierAdded", BOB, "13800000001"),
        erased(BOB),
        registered("0190a5e2-8c3b-7d4e-9f00-1234567890ad", "13800000002"),
    ];
    assert_eq!(
        fold_on(ledger, &lines),
        [
            (
                1,
                "identifier: identifier MOBILE 13800000001 does not exist".to_owned()
            ),
            (
                2,
                format!("identifier: MOBILE 13800000001 already belongs to customer {ALICE}")
            ),
        ]
    );
}

#[test]
fn an_identifier_is_removed_only_by_the_customer_holding_it() {
    let ledger = ledger_of(&[
        registered(ALICE, "13800000001"),
        registered(BOB, "13800000002"),
    ]);
    let not_held = |mobile: &str| format!("identifier: identifier MOBILE {mobile} does not exist");
    let lines = [
        // Another customer's mobile, and one nobody holds: the API's removeIdentifier finds
        // neither on the customer.
        identifier_event("IdentifierRemoved", BOB, "13800000001"),
        identifier_event("IdentifierRemoved", BOB, "13800000009"),
        identifier_event("IdentifierRemoved", ALICE, "13800000001"),
        // Removed on an earlier line.
        identifier_event("IdentifierRemoved", ALICE, "13800000001").with_actor("agent-0043"),
        // Held by an earlier line.
        identifier_event("IdentifierAdded", ALICE, "13800000003"),
        identifier_event("IdentifierRemoved", ALICE, "13800000003"),
        // A merge moves an identifier to its survivor for the directory, not onto the
        // survivor's own stream: the survivor's aggregate does not hold it to remove, and
        // adding it records it there.
        merged_moving(BOB, ALICE, "13800000002"),
        identifier_event("IdentifierRemoved", ALICE, "13800000002"),
        identifier_event("IdentifierAdded", ALICE, "13800000002"),
        identifier_event("IdentifierRemoved", ALICE, "13800000002").with_actor("agent-0043"),
    ];
    assert_eq!(
        fold_on(ledger, &lines),
        [
            (1, not_held("13800000001")),
            (2, not_held("13800000009")),
            (4, not_held("13800000001")),
            (8, not_held("13800000002")),
        ]
    );
}

#[test]
fn adding_an_identifier_the_customer_holds_records_nothing() {
    let ledger = ledger_of(&[registered(ALICE, "13800000001")]);
    let already = |mobile: &str| {
        records_nothing(&format!(
            "identifier: MOBILE {mobile} is already customer {ALICE}'s"
        ))
    };
    let lines = [
        // Held in the ledger, since the registration.
        identifier_event("IdentifierAdded", ALICE, "13800000001"),
        identifier_event("IdentifierAdded", ALICE, "13800000003"),
        // Held by an earlier line.
        identifier_event("IdentifierAdded", ALICE, "13800000003").with_actor("agent-0043"),
        // Removed, it is added again: the first line again, whose id nothing was written
        // under, is decided again and recorded now.
        identifier_event("IdentifierRemoved", ALICE, "13800000001"),
        identifier_event("IdentifierAdded", ALICE, "13800000001"),
    ];
    assert_eq!(lines[4].new_event.event_id, lines[0].new_event.event_id);
    let mut rules = LedgerRules::new(ledger);
    assert_eq!(
        fold(&mut rules, &lines),
        [(1, already("13800000001")), (3, already("13800000003"))]
    );
    // Within the file an id still names one event: another event under the id of a line that
    // recorded nothing is refused, as under any other line's.
    let mut other = identifier_event("IdentifierAdded", ALICE, "13800000004");
    other.new_event.event_id = lines[2].new_event.event_id;
    assert_eq!(
        rules.event_id(7, &other).unwrap(),
        EventIdUse::Reused(format!(
            "eventId: {} is already the id of another event (line 3, which records nothing)",
            other.new_event.event_id
        ))
    );
}

/// `line`, expecting its stream to hold `version` events.
fn expecting(line: &IntegratorLine, version: u64) -> IntegratorLine {
    let mut line = line.clone_line();
    line.expected_version = Some(version);
    line
}

#[test]
fn a_line_that_records_nothing_leaves_its_stream_as_it_was() {
    // Given Alice, registered (her stream's first event) and consenting by PHONE (its second).
    let ledger = ledger_of(&[
        registered(ALICE, "13800000001"),
        consent(ALICE, "PHONE", true),
    ]);
    let granted_again = records_nothing(&format!(
        "granted: customer {ALICE} already consents to marketing on PHONE"
    ));
    let lines = [
        // When her consent is granted again, by lines that expect the two events,
        expecting(&consent(ALICE, "PHONE", true).with_actor("agent-0043"), 2),
        expecting(&consent(ALICE, "PHONE", true).with_actor("agent-0044"), 2),
        // (a line that changes nothing is still dated as the API dates it)
        consent_dated("PHONE", "2999-01-01T00:00:00Z"),
        // then withdrawn by a line that expects them too: the grants recorded nothing, so the
        // stream still holds two, and the withdrawal is recorded as its third.
        expecting(&consent(ALICE, "PHONE", false), 2),
        // A line that changes nothing still answers for the version it expects.
        expecting(&consent(ALICE, "PHONE", false).with_actor("agent-0043"), 2),
        expecting(&consent(ALICE, "PHONE", false).with_actor("agent-0044"), 3),
    ];
    let problems = fold_on(ledger, &lines);
    assert_eq!(problems.len(), 5, "{problems:?}");
    assert_eq!(problems[0], (1, granted_again.clone()));
    assert_eq!(problems[1], (2, granted_again));
    assert_eq!(problems[2].0, 3);
    assert!(problems[2].1.starts_with("occurredAt: "), "{problems:?}");
    assert_eq!(
        problems[3],
        (
            5,
            format!("expectedVersion: stream customer-{ALICE} holds 3 events at this line, not 2")
        )
    );
    assert_eq!(
        problems[4],
        (
            6,
            records_nothing(&format!(
                "granted: customer {ALICE}'s consent to marketing on PHONE is already withdrawn"
            ))
        )
    );
}

#[test]
fn a_line_a_later_one_already_in_the_ledger_supersedes_records_nothing() {
    // Given a nightly file granting Alice's PHONE consent again, which changed nothing when it
    // was imported, withdrawing it, which was recorded, and granting EMAIL, also recorded.
    let granted = consent(ALICE, "PHONE", true);
    let file = [
        granted.with_actor("agent-0043"),
        consent(ALICE, "PHONE", false),
        consent(ALICE, "EMAIL", true),
    ];
    let ledger = || {
        ledger_of(&[
            registered(ALICE, "13800000001"),
            granted.clone_line(),
            file[1].clone_line(),
            file[2].clone_line(),
        ])
    };
    // When the same file is imported again, then the grant, a change now, is superseded by
    // the withdrawal after it that the ledger holds: recorded after it, it would undo it.
    assert_eq!(
        fold_on(ledger(), &file),
        [(
            1,
            records_nothing(
                "granted: line 2, later in the file, sets the same and is already in the ledger \
                 (position 3); recorded after it, this line would undo it"
            )
        )]
    );
    // A line in the ledger that sets something else (EMAIL) supersedes nothing.
    assert_eq!(
        fold_on(ledger(), &[file[0].clone_line(), file[2].clone_line()]),
        []
    );
}

/// `customer`'s account manager `manager` (team lead the sample's), replacing `previous`.
fn manager_assigned(customer: &str, manager: &str, previous: Option<&str>) -> IntegratorLine {
    edited(
        "AccountManagerAssigned",
        &[
            ("customerId", customer.into()),
            ("manager", manager.into()),
            ("previousManager", previous.into()),
        ],
    )
}

#[test]
fn an_assignment_names_the_customer_s_current_manager_as_the_previous_one() {
    let ledger = ledger_of(&[
        registered(ALICE, "13800000001"),
        manager_assigned(ALICE, "am-003", None),
    ]);
    let previous = |current: &str, stated: &str| {
        format!(
            "previousManager: the customer's account manager until this assignment: {current}, \
             not {stated}"
        )
    };
    let lines = [
        manager_assigned(ALICE, "am-777", Some("am-999")),
        manager_assigned(ALICE, "am-777", None),
        manager_assigned(ALICE, "am-777", Some("am-003")),
        // The current one is the earlier line's.
        manager_assigned(ALICE, "am-888", Some("am-003")),
        manager_assigned(ALICE, "am-888", Some("am-777")),
        // A customer never assigned one has none.
        registered(BOB, "13800000002"),
        manager_assigned(BOB, "am-001", Some("am-003")),
        manager_assigned(BOB, "am-001", None),
    ];
    assert_eq!(
        fold_on(ledger, &lines),
        [
            (1, previous("am-003", "am-999")),
            (2, previous("am-003", "null")),
            (4, previous("am-777", "am-003")),
            (7, previous("none (null)", "am-003")),
        ]
    );
}

#[test]
fn an_identifier_of_a_merged_customer_belongs_to_the_survivor() {
    let ledger = ledger_of(&[
        registered(ALICE, "13800000001"),
        registered(BOB, "13800000002"),
    ]);
    let lines = [
        merged(ALICE, BOB),
        identifier_event("IdentifierAdded", BOB, "13800000001"),
        registered("0190a5e2-8c3b-7d4e-9f00-1234567890ad", "13800000001"),
    ];
    assert_eq!(
        fold_on(ledger, &lines),
        [(
            3,
            format!("identifiers[0]: MOBILE 13800000001 already belongs to customer {BOB}")
        )]
    );
}

#[test]
fn an_event_for_a_customer_nobody_registered_is_not_found() {
    assert_eq!(
        fold_on(Facts::default(), &[contact(ALICE, CONTACT, "a call")]),
        [(1, format!("customerId: customer {ALICE} does not exist"))]
    );
    // Registered earlier in the file, it is found.
    let lines = [
        registered(ALICE, "13800000001"),
        contact(ALICE, CONTACT, "a call"),
    ];
    assert_eq!(fold_on(Facts::default(), &lines), []);
}

#[test]
fn a_contact_id_is_recorded_once_and_only_recorded_contacts_are_corrected() {
    let ledger = ledger_of(&[
        registered(ALICE, "13800000001"),
        contact(ALICE, CONTACT, "a call"),
    ]);
    let correction = sample("ContactCorrected");
    let Event::ContactCorrected(corrected) = &correction.event else {
        unreachable!()
    };
    let mut ledger_with_customer = ledger;
    ledger_with_customer.streams.insert(
        correction.stream.clone(),
        StreamFacts {
            version: 1,
            ..StreamFacts::default()
        },
    );
    let lines = [
        contact(ALICE, CONTACT, "another call"),
        correction.clone_line(),
    ];
    assert_eq!(
        fold_on(ledger_with_customer, &lines),
        [
            (1, format!("contactId: contact {CONTACT} already exists")),
            (
                2,
                format!("contactId: contact {} does not exist", corrected.contact_id)
            ),
        ]
    );
}

fn rated(customer: &str, contact: Option<&str>, csat: u8) -> IntegratorLine {
    let about = contact.map_or(String::new(), |contact| {
        format!(r#""contactId":"{contact}","#)
    });
    integrator(&format!(
        r#"{{"type":"SatisfactionRecorded","schemaVersion":1,"stream":"customer-{customer}","occurredAt":"2025-03-08T10:30:00+08:00","actor":"system:survey","payload":{{"customerId":"{customer}",{about}"csat":{csat}}}}}"#
    ))
}

#[test]
fn a_contact_takes_one_satisfaction_answer() {
    let lines = [
        registered(ALICE, "13800000001"),
        contact(ALICE, CONTACT, "a call"),
        rated(ALICE, Some(CONTACT), 4),
        rated(ALICE, None, 4),
        // The same answer again is a retry, already present; another one is refused.
        rated(ALICE, Some(CONTACT), 4),
        rated(ALICE, Some(CONTACT), 2),
        rated(ALICE, None, 2),
    ];
    assert_eq!(
        fold_on(Facts::default(), &lines),
        [(
            6,
            format!(
                "contactId: one satisfaction answer a contact; contact {CONTACT} already has one"
            )
        )]
    );
}

#[test]
fn a_merged_customer_s_contacts_are_still_corrected_and_rated() {
    let correction = |customer: &str| {
        integrator(&format!(
            r#"{{"type":"ContactCorrected","schemaVersion":1,"stream":"customer-{customer}","occurredAt":"2025-03-10T09:30:00+08:00","actor":"qa-01","payload":{{"contactId":"{CONTACT}","customerId":"{customer}","channel":"PHONE","direction":"INBOUND","agent":"agent-0042","startedAt":"2025-03-08T09:00:00+08:00","durationSeconds":90,"topic":"RENEWAL","summary":"a call","outcome":"RESOLVED","reason":"时长录错"}}}}"#
        ))
    };
    let lines = [
        registered(ALICE, "13800000001"),
        registered(BOB, "13800000002"),
        contact(ALICE, CONTACT, "a call"),
        merged(ALICE, BOB),
        correction(ALICE),
        rated(ALICE, Some(CONTACT), 4),
        rated(ALICE, None, 4),
    ];
    assert_eq!(
        fold_on(Facts::default(), &lines),
        [(
            7,
            format!("customerId: customer {ALICE} was merged into {BOB}; use the survivor")
        )]
    );
}

#[test]
fn a_merged_customer_accepts_nothing_but_its_erasure() {
    let lines = [
        registered(ALICE, "13800000001"),
        registered(BOB, "13800000002"),
        merged(ALICE, BOB),
        contact(ALICE, CONTACT, "a call"),
        erased(ALICE),
    ];
    assert_eq!(
        fold_on(Facts::default(), &lines),
        [(
            4,
            format!("customerId: customer {ALICE} was merged into {BOB}; use the survivor")
        )]
    );
}

#[test]
fn an_erased_customer_or_enquiry_is_not_erased_again_and_an_unknown_one_not_at_all() {
    let lines = [
        erased(ALICE),
        registered(ALICE, "13800000001"),
        erased(ALICE),
        erased(ALICE).with_actor("privacy-02"),
        contact(ALICE, CONTACT, "a call"),
    ];
    assert_eq!(
        fold_on(Facts::default(), &lines),
        [
            (1, format!("customerId: customer {ALICE} does not exist")),
            (
                4,
                format!(
                    "customerId: customer {ALICE} is already erased; nothing new can be recorded for it"
                )
            ),
            (
                5,
                format!(
                    "customerId: customer {ALICE} is already erased; nothing new can be recorded for it"
                )
            ),
        ]
    );
    let erasure = sample("EnquiryErased");
    let Event::EnquiryErased(enquiry) = &erasure.event else {
        unreachable!()
    };
    assert_eq!(
        fold_on(Facts::default(), &[erasure.clone_line()]),
        [(
            1,
            format!("enquiryId: enquiry {} does not exist", enquiry.enquiry_id)
        )]
    );
    let mut ledger = Facts::default();
    let mut held = StreamFacts::default();
    held.apply(&sample("OnlineEnquiryReceived").event);
    held.apply(&erasure.event);
    ledger.streams.insert(erasure.stream.clone(), held);
    assert_eq!(
        fold_on(ledger, &[erasure.with_actor("privacy-02")]),
        [(
            1,
            format!(
                "enquiryId: cannot erase enquiry {} while it is erased",
                enquiry.enquiry_id
            )
        )]
    );
}

#[test]
fn creation_events_refuse_an_existing_stream_and_the_others_need_one() {
    let reported = sample("ClaimReported");
    let Event::ClaimReported(claim) = &reported.event else {
        unreachable!()
    };
    let number = claim.claim_number.as_str().to_owned();
    let mut settled = sample("ClaimSettled");
    settled = settled.on_stream_of(&reported);
    let lines = [
        settled.clone_line(),
        reported.clone_line(),
        reported.with_actor("agent-0043"),
        settled,
    ];
    // The claim's customer and policy are in the ledger.
    assert_eq!(
        fold_on(ledger_of(&sample_before("ClaimReported")), &lines),
        [
            (1, format!("claimNumber: claim {number} does not exist")),
            (3, format!("claimNumber: claim {number} already exists")),
        ]
    );
    // A policy is issued after its quote, but not issued twice.
    let quoted = sample("PolicyQuoted");
    let issued = sample("PolicyIssued").on_stream_of(&quoted);
    let lines = [
        quoted.clone_line(),
        issued.clone_line(),
        issued.with_actor("agent-0043"),
    ];
    let problems = fold_on(Facts::default(), &lines);
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!(problems[0].0, 3);
    assert!(problems[0].1.ends_with("already exists"), "{problems:?}");
}

#[test]
fn an_event_id_names_one_event_only() {
    let first = contact(ALICE, CONTACT, "a call");
    let mut other = contact(
        ALICE,
        "0190a5e2-8c3b-7d4e-9f00-00000000c002",
        "another call",
    );
    other.new_event.event_id = first.new_event.event_id;
    let id = first.new_event.event_id;
    // Two lines of one file.
    let lines = [
        registered(ALICE, "13800000001"),
        first.clone_line(),
        first.clone_line(),
        other.clone_line(),
    ];
    assert_eq!(
        fold_on(Facts::default(), &lines),
        [(
            4,
            format!("eventId: {id} is already the id of another event (line 2)")
        )]
    );
    // A line and the ledger.
    let ledger = ledger_of(&[registered(ALICE, "13800000001"), first.clone_line()]);
    assert_eq!(
        fold_on(ledger, &[other.clone_line()]),
        [(
            1,
            format!("eventId: {id} is already the id of another event (position 2)")
        )]
    );
    // An envelope field differs: another event too.
    let ledger = ledger_of(&[registered(ALICE, "13800000001"), first.clone_line()]);
    assert_eq!(fold_on(ledger, &[first.with_actor("agent-0043")]).len(), 1);
    // Recorded for a customer erased since: its personal fields are compared erased.
    let mut ledger = ledger_of(&[registered(ALICE, "13800000001")]);
    let mut redacted = first.event.clone();
    redacted.take_personal();
    ledger.recorded.insert(
        id,
        Recorded {
            position: Position(2),
            digest: content_digest(&first.stream, &first.new_event, &redacted.encode_payload()),
            redacted: true,
        },
    );
    let mut rules = LedgerRules::new(ledger);
    assert_eq!(
        rules.event_id(1, &first).unwrap(),
        EventIdUse::AlreadyPresent
    );
    assert!(matches!(
        rules.event_id(7, &other).unwrap(),
        EventIdUse::Reused(_)
    ));
}

/// Ways to make a line from another in these tests.
trait LineEdits {
    fn clone_line(&self) -> IntegratorLine;
    /// The same event by another actor: another event, with an id of its own.
    fn with_actor(&self, actor: &str) -> IntegratorLine;
    /// The same event moved onto `other`'s aggregate (its number or id rewritten).
    fn on_stream_of(&self, other: &IntegratorLine) -> IntegratorLine;
}

impl LineEdits for IntegratorLine {
    fn clone_line(&self) -> IntegratorLine {
        IntegratorLine {
            stream: self.stream.clone(),
            expected_version: self.expected_version,
            event: self.event.clone(),
            new_event: self.new_event.clone(),
            digest: self.digest,
        }
    }

    fn with_actor(&self, actor: &str) -> IntegratorLine {
        let mut line = self.clone_line();
        line.new_event.actor = ledger_domain::ids::StaffId::parse("actor", actor).unwrap();
        line.new_event.event_id = EventId::from_uuid(uuid::Uuid::new_v4());
        line.digest = content_digest(&line.stream, &line.new_event, &line.new_event.payload);
        line
    }

    fn on_stream_of(&self, other: &IntegratorLine) -> IntegratorLine {
        let mut payload = self.event.to_json();
        let other_payload = other.event.to_json();
        for key in ["claimNumber", "policyNumber"] {
            if let (Some(value), true) = (other_payload.get(key), payload.get(key).is_some()) {
                payload[key] = value.clone();
            }
        }
        let event = Event::from_json(self.event.event_type(), 1, &payload).unwrap();
        let mut line = self.clone_line();
        line.stream = event.stream();
        line.new_event.payload = event.encode_payload();
        line.new_event.event_id = EventId::from_uuid(uuid::Uuid::new_v4());
        line.event = event;
        line.digest = content_digest(&line.stream, &line.new_event, &line.new_event.payload);
        line
    }
}

/// A merge of `customer` into `survivor` moving `mobile`.
fn merged_moving(customer: &str, survivor: &str, mobile: &str) -> IntegratorLine {
    integrator(&format!(
        r#"{{"type":"CustomersMerged","schemaVersion":1,"stream":"customer-{customer}","occurredAt":"2025-03-09T09:30:00+08:00","actor":"dq-01","payload":{{"customerId":"{customer}","survivorId":"{survivor}","identifiers":[{{"kind":"MOBILE","value":"{mobile}"}}]}}}}"#
    ))
}

#[test]
fn a_merge_needs_a_live_survivor_and_moves_only_the_merged_customers_identifiers() {
    const CAROL: &str = "0190a5e2-8c3b-7d4e-9f00-1234567890ad";
    const NOBODY: &str = "0190a5e2-8c3b-7d4e-9f00-1234567890ae";
    let ledger = ledger_of(&[
        registered(ALICE, "13800000001"),
        registered(BOB, "13800000002"),
        registered(CAROL, "13800000003"),
    ]);
    let lines = [
        // Bob's mobile is not Alice's to move.
        merged_moving(ALICE, CAROL, "13800000002"),
        // Nobody registered the survivor.
        merged(ALICE, NOBODY),
        // Accepted: Alice into Carol with her own mobile ...
        merged_moving(ALICE, CAROL, "13800000001"),
        // ... after which Alice is no survivor (this would close a cycle).
        merged(CAROL, ALICE),
    ];
    assert_eq!(
        fold_on(ledger, &lines),
        [
            (
                1,
                format!(
                    "identifiers[0]: a merge moves the merged customer's own identifiers; customer {ALICE} does not hold MOBILE 13800000002 (customer {BOB} holds it)"
                )
            ),
            (2, format!("survivorId: customer {NOBODY} does not exist")),
            (
                4,
                format!("survivorId: customer {ALICE} was merged into {CAROL}; use the survivor")
            ),
        ]
    );
}

#[test]
fn a_contact_that_has_not_happened_yet_is_no_history() {
    let ledger = ledger_of(&[registered(ALICE, "13800000001")]);
    let future = contact_started(ALICE, CONTACT, "还没打的电话", "2099-01-01T09:00:00+08:00");
    let problems = fold_on(ledger, &[future]);
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(
        problems[0]
            .1
            .starts_with("startedAt: a contact cannot start in the future"),
        "{problems:?}"
    );
    // Started within the clocks' drift (270 s ahead), its 60 s run past it: the duration's.
    let soon = (jiff::Timestamp::now() + jiff::SignedDuration::from_secs(270)).to_string();
    let ledger = ledger_of(&[registered(ALICE, "13800000001")]);
    let ending = contact_started(ALICE, CONTACT, "快打完的电话", &soon);
    let problems = fold_on(ledger, &[ending]);
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(
        problems[0]
            .1
            .starts_with("durationSeconds: a contact cannot end in the future"),
        "{problems:?}"
    );
}

#[test]
fn a_contact_started_before_1990_is_a_slip() {
    let ledger = ledger_of(&[registered(ALICE, "13800000001")]);
    let slipped = contact_started(ALICE, CONTACT, "上世纪的电话", "1970-01-01T08:00:00+08:00");
    let problems = fold_on(ledger, &[slipped]);
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(
        problems[0]
            .1
            .starts_with("startedAt: a contact starts on 1990-01-01 (Beijing time) or later"),
        "{problems:?}"
    );
}

/// The sample's first line of `event_type` with `payload`'s fields set, on the stream its
/// event names, without an event id (so one is derived from its content).
fn edited(event_type: &str, payload: &[(&str, serde_json::Value)]) -> IntegratorLine {
    let tag = format!(r#""type":"{event_type}""#);
    let text = SAMPLE.lines().find(|line| line.contains(&tag)).unwrap();
    let mut line: serde_json::Value = serde_json::from_str(text).unwrap();
    line.as_object_mut().unwrap().remove("eventId");
    for (key, value) in payload {
        line["payload"][*key] = value.clone();
    }
    let event = Event::from_json(event_type, 1, &line["payload"]).unwrap();
    line["stream"] = event.stream().as_str().into();
    integrator(&line.to_string())
}

const POLICY: &str = "PXA2025220100000901";
const CLAIM: &str = "CXA2025220100000901";
const CASE: &str = "0190a5e2-8c3b-7d4e-9f00-0000000ca5e1";
const CAMPAIGN: &str = "0190a5e2-8c3b-7d4e-9f00-0000000ca301";
const ENQUIRY: &str = "0190a5e2-8c3b-7d4e-9f00-0000000e9001";

fn policy_issued(number: &str, customer: &str) -> IntegratorLine {
    edited(
        "PolicyIssued",
        &[
            ("policyNumber", number.into()),
            ("customerId", customer.into()),
            ("periodStart", "2025-01-01".into()),
            ("periodEnd", "2025-12-31".into()),
        ],
    )
}

fn claim_reported(number: &str, policy: &str, customer: &str, loss: &str) -> IntegratorLine {
    edited(
        "ClaimReported",
        &[
            ("claimNumber", number.into()),
            ("policyNumber", policy.into()),
            ("customerId", customer.into()),
            ("lossOccurredAt", loss.into()),
        ],
    )
}

/// A contact of `customer` naming `field` (policyNumber, claimNumber, caseId, campaignId or
/// enquiryId) as `value`.
fn contact_naming(customer: &str, contact: &str, field: &str, value: &str) -> IntegratorLine {
    let mut line: serde_json::Value =
        serde_json::from_str(&self::contact_text(customer, contact)).unwrap();
    line["payload"][field] = value.into();
    integrator(&line.to_string())
}

fn contact_text(customer: &str, contact: &str) -> String {
    format!(
        r#"{{"type":"ContactRecorded","schemaVersion":1,"stream":"customer-{customer}","occurredAt":"2025-03-08T09:01:00+08:00","actor":"agent-0042","payload":{{"contactId":"{contact}","customerId":"{customer}","channel":"PHONE","direction":"INBOUND","agent":"agent-0042","startedAt":"2025-03-08T09:00:00+08:00","durationSeconds":60,"topic":"RENEWAL","summary":"a call","outcome":"RESOLVED"}}}}"#
    )
}

fn contact_id(index: u32) -> String {
    format!("0190a5e2-8c3b-7d4e-9f00-00000000c{index:03}")
}

#[test]
fn an_erasure_of_a_survivor_waits_for_the_customers_merged_into_it() {
    const CAROL: &str = "0190a5e2-8c3b-7d4e-9f00-1234567890ad";
    // Bob was merged into Alice in the ledger.
    let ledger = || {
        ledger_of(&[
            registered(ALICE, "13800000001"),
            registered(BOB, "13800000002"),
            merged(BOB, ALICE),
        ])
    };
    let refusal = |customer: &str| {
        format!(
            "customerId: customer {customer} was merged into this customer and is not erased; \
             erase it first (an earlier line)"
        )
    };
    assert_eq!(fold_on(ledger(), &[erased(ALICE)]), [(1, refusal(BOB))]);
    // Bob erased first, on an earlier line: Alice's erasure follows.
    assert_eq!(fold_on(ledger(), &[erased(BOB), erased(ALICE)]), []);
    // Bob erased in the ledger already.
    let mut erased_in_ledger = ledger();
    erased_in_ledger
        .streams
        .get_mut(&StreamId::customer(BOB.parse().unwrap()))
        .unwrap()
        .apply(&erased(BOB).event);
    assert_eq!(fold_on(erased_in_ledger, &[erased(ALICE)]), []);
    // Through a merge: Carol into Bob, then Bob into Alice, on the file's lines.
    let lines = [
        registered(ALICE, "13800000001"),
        registered(BOB, "13800000002"),
        registered(CAROL, "13800000003"),
        merged(CAROL, BOB),
        merged(BOB, ALICE),
        erased(BOB),
        erased(ALICE),
        erased(CAROL),
        erased(BOB).with_actor("privacy-02"),
        erased(ALICE).with_actor("privacy-02"),
    ];
    assert_eq!(
        fold_on(Facts::default(), &lines),
        [(6, refusal(CAROL)), (7, refusal(BOB))]
    );
}

#[test]
fn a_contact_names_only_what_exists_and_is_its_customers() {
    let ledger = || {
        ledger_of(&[
            registered(ALICE, "13800000001"),
            registered(BOB, "13800000002"),
            policy_issued(POLICY, BOB),
            claim_reported(CLAIM, POLICY, BOB, "2025-03-01T01:00:00Z"),
        ])
    };
    let nobody = "0190a5e2-8c3b-7d4e-9f00-00000000dead";
    let lines = [
        contact_naming(ALICE, &contact_id(1), "policyNumber", "PXA2025220100000999"),
        contact_naming(ALICE, &contact_id(2), "policyNumber", POLICY),
        contact_naming(ALICE, &contact_id(3), "claimNumber", CLAIM),
        contact_naming(ALICE, &contact_id(4), "caseId", nobody),
        contact_naming(ALICE, &contact_id(5), "campaignId", nobody),
        contact_naming(ALICE, &contact_id(6), "enquiryId", nobody),
        // Bob's own are his.
        contact_naming(BOB, &contact_id(7), "policyNumber", POLICY),
        contact_naming(BOB, &contact_id(8), "claimNumber", CLAIM),
    ];
    assert_eq!(
        fold_on(ledger(), &lines),
        [
            (
                1,
                "policyNumber: policy PXA2025220100000999 does not exist".to_owned()
            ),
            (
                2,
                format!(
                    "policyNumber: a policy held by the contact's customer (or by a customer \
                     merged with it); {POLICY} is held by another customer"
                )
            ),
            (
                3,
                format!(
                    "claimNumber: a claim of the contact's customer (or of a customer merged \
                     with it); {CLAIM} is another customer's"
                )
            ),
            (4, format!("caseId: service case {nobody} does not exist")),
            (5, format!("campaignId: campaign {nobody} does not exist")),
            (6, format!("enquiryId: enquiry {nobody} does not exist")),
        ]
    );
    // Once Bob is merged into Alice, his policy is hers too; a correction is checked the same.
    let correction = |customer: &str, contact: &str, policy: &str| {
        let mut line: serde_json::Value =
            serde_json::from_str(&contact_text(customer, contact)).unwrap();
        line["type"] = "ContactCorrected".into();
        line["payload"]["policyNumber"] = policy.into();
        line["payload"]["reason"] = "录错".into();
        integrator(&line.to_string())
    };
    let lines = [
        merged(BOB, ALICE),
        contact_naming(ALICE, &contact_id(2), "policyNumber", POLICY),
        correction(ALICE, &contact_id(2), "PXA2025220100000999"),
    ];
    assert_eq!(
        fold_on(ledger(), &lines),
        [(
            3,
            "policyNumber: policy PXA2025220100000999 does not exist".to_owned()
        )]
    );
}

#[test]
fn a_contact_may_name_what_a_later_line_creates_for_its_customer() {
    let ledger = ledger_of(&[
        registered(ALICE, "13800000001"),
        registered(BOB, "13800000002"),
    ]);
    // The call comes first, the policy it sold is issued after it: history's order. A policy
    // issued later to someone else is still someone else's.
    let lines = [
        contact_naming(ALICE, &contact_id(1), "policyNumber", POLICY),
        contact_naming(BOB, &contact_id(2), "policyNumber", POLICY),
        policy_issued(POLICY, ALICE),
    ];
    assert_eq!(
        fold_on(ledger, &lines),
        [(
            2,
            format!(
                "policyNumber: a policy held by the contact's customer (or by a customer merged \
                 with it); {POLICY} is held by another customer"
            )
        )]
    );
}

#[test]
fn a_claim_case_touch_and_enquiry_name_what_the_api_would_accept() {
    let ledger = || {
        ledger_of(&[
            registered(ALICE, "13800000001"),
            registered(BOB, "13800000002"),
            policy_issued(POLICY, BOB),
            contact(ALICE, CONTACT, "a call"),
        ])
    };
    let nobody = "0190a5e2-8c3b-7d4e-9f00-00000000dead";
    let case = |policy: Option<&str>, contact: Option<&str>| {
        edited(
            "ServiceCaseOpened",
            &[
                ("caseId", CASE.into()),
                ("customerId", ALICE.into()),
                (
                    "policyNumber",
                    policy.map_or(serde_json::Value::Null, Into::into),
                ),
                ("claimNumber", serde_json::Value::Null),
                (
                    "contactId",
                    contact.map_or(serde_json::Value::Null, Into::into),
                ),
            ],
        )
    };
    let lines = [
        claim_reported(CLAIM, POLICY, ALICE, "2025-03-01T01:00:00Z"),
        claim_reported(CLAIM, POLICY, BOB, "2026-03-01T01:00:00Z"),
        claim_reported(CLAIM, POLICY, nobody, "2025-03-01T01:00:00Z"),
        case(Some(POLICY), None),
        case(None, Some(&contact_id(9))),
        edited(
            "OnlineEnquiryReceived",
            &[
                ("enquiryId", ENQUIRY.into()),
                ("campaignId", CAMPAIGN.into()),
            ],
        ),
        edited("CampaignLaunched", &[("campaignId", CAMPAIGN.into())]),
        edited(
            "CampaignTouchSent",
            &[
                ("campaignId", CAMPAIGN.into()),
                ("customerId", nobody.into()),
            ],
        ),
        case(None, Some(CONTACT)),
    ];
    assert_eq!(
        fold_on(ledger(), &lines),
        [
            (
                1,
                format!(
                    "policyNumber: a policy held by the claim's customer (or by a customer \
                     merged with it); {POLICY} is held by another customer"
                )
            ),
            (
                2,
                format!(
                    "lossOccurredAt: within the policy's period, Beijing days inclusive: \
                     {POLICY} covers 2025-01-01 to 2025-12-31"
                )
            ),
            (3, format!("customerId: customer {nobody} does not exist")),
            (
                4,
                format!(
                    "policyNumber: a policy held by the case's customer (or by a customer merged \
                     with it); {POLICY} is held by another customer"
                )
            ),
            (
                5,
                format!(
                    "contactId: a contact recorded for the case's customer; {} is not one",
                    contact_id(9)
                )
            ),
            (8, format!("customerId: customer {nobody} does not exist")),
        ]
    );
}

#[test]
fn an_erasure_of_a_known_customers_enquiry_names_the_customer_to_erase() {
    const ENQUIRY: &str = "0190a5e2-8c3b-7d4e-9f00-00000000e0e1";
    let sent = integrator(&format!(
        r#"{{"type":"OnlineEnquiryReceived","schemaVersion":1,"stream":"customer-{ALICE}","occurredAt":"2025-03-08T10:00:00+08:00","actor":"system:web","payload":{{"enquiryId":"{ENQUIRY}","customerId":"{ALICE}","channel":"WEB","mobile":"13800000001","productLines":[]}}}}"#
    ));
    let ledger = ledger_of(&[registered(ALICE, "13800000001"), sent]);
    let erasure = integrator(&format!(
        r#"{{"type":"EnquiryErased","schemaVersion":1,"stream":"enquiry-{ENQUIRY}","occurredAt":"2025-03-09T10:00:00+08:00","actor":"privacy-01","payload":{{"enquiryId":"{ENQUIRY}","reason":"CUSTOMER_REQUEST"}}}}"#
    ));
    let problems = fold_on(ledger, &[erasure]);
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(
        problems[0]
            .1
            .starts_with("enquiryId: an enquiry from someone nobody knew")
            && problems[0]
                .1
                .ends_with(&format!("(erase customer {ALICE} instead)")),
        "{problems:?}"
    );
}

fn campaign_launched(campaign: &str) -> IntegratorLine {
    edited("CampaignLaunched", &[("campaignId", campaign.into())])
}

fn consent(customer: &str, channel: &str, granted: bool) -> IntegratorLine {
    edited(
        "ConsentChanged",
        &[
            ("customerId", customer.into()),
            ("channel", channel.into()),
            ("granted", granted.into()),
        ],
    )
}

/// A touch of `customer` on `channel` (one of the sample campaign's channels) in `campaign`.
fn touch(campaign: &str, customer: &str, channel: &str) -> IntegratorLine {
    edited(
        "CampaignTouchSent",
        &[
            ("campaignId", campaign.into()),
            ("customerId", customer.into()),
            ("channel", channel.into()),
        ],
    )
}

fn no_consent(customer: &str, channel: &str) -> String {
    format!(
        "channel: a touch goes only on a channel the customer consented to marketing on (opt-in: \
         granted with changeConsent); customer {customer} has not consented to {channel}"
    )
}

#[test]
fn a_touch_goes_only_on_a_channel_its_customer_consented_to_as_of_its_line() {
    const OTHER_CAMPAIGN: &str = "0190a5e2-8c3b-7d4e-9f00-0000000ca302";
    // Alice granted PHONE in the ledger; Bob never granted anything.
    let ledger = || {
        ledger_of(&[
            registered(ALICE, "13800000001"),
            registered(BOB, "13800000002"),
            campaign_launched(CAMPAIGN),
            consent(ALICE, "PHONE", true),
        ])
    };
    let lines = [
        touch(CAMPAIGN, ALICE, "PHONE"),
        touch(CAMPAIGN, ALICE, "WECHAT"),
        touch(CAMPAIGN, BOB, "PHONE"),
        // Granted on an earlier line: the touch after it goes.
        consent(BOB, "EMAIL", true),
        touch(CAMPAIGN, BOB, "EMAIL"),
        // Withdrawn: no more touches on it.
        consent(ALICE, "PHONE", false),
        campaign_launched(OTHER_CAMPAIGN),
        touch(OTHER_CAMPAIGN, ALICE, "PHONE"),
        // Granted only on a later line: the touch before it went without consent.
        touch(OTHER_CAMPAIGN, BOB, "WECHAT"),
        consent(BOB, "WECHAT", true),
    ];
    assert_eq!(
        fold_on(ledger(), &lines),
        [
            (2, no_consent(ALICE, "WECHAT")),
            (3, no_consent(BOB, "PHONE")),
            (8, no_consent(ALICE, "PHONE")),
            (9, no_consent(BOB, "WECHAT")),
        ]
    );
}

const OTHER_POLICY: &str = "PXA2025220100000902";

fn issued_for(number: &str, customer: &str, premium_fen: i64) -> IntegratorLine {
    edited(
        "PolicyIssued",
        &[
            ("policyNumber", number.into()),
            ("customerId", customer.into()),
            ("periodStart", "2025-01-01".into()),
            ("periodEnd", "2025-12-31".into()),
            ("premium", premium_fen.into()),
        ],
    )
}

fn quoted_for(number: &str, customer: &str) -> IntegratorLine {
    edited(
        "PolicyQuoted",
        &[
            ("policyNumber", number.into()),
            ("customerId", customer.into()),
            ("periodStart", "2025-01-01".into()),
            ("periodEnd", "2025-12-31".into()),
        ],
    )
}

fn endorsed(number: &str, customer: &str, premium_fen: i64) -> IntegratorLine {
    edited(
        "PolicyEndorsed",
        &[
            ("policyNumber", number.into()),
            ("customerId", customer.into()),
            ("premium", premium_fen.into()),
        ],
    )
}

/// `customer`'s response to `campaign` on `channel` (so two responses differ), naming `policy`
/// and winning `premium_fen`.
fn responded(
    campaign: &str,
    customer: &str,
    response: &str,
    channel: &str,
    policy: Option<&str>,
    premium_fen: i64,
) -> IntegratorLine {
    edited(
        "CampaignResponded",
        &[
            ("campaignId", campaign.into()),
            ("customerId", customer.into()),
            ("response", response.into()),
            ("channel", channel.into()),
            (
                "policyNumber",
                policy.map_or(serde_json::Value::Null, Into::into),
            ),
            ("premiumWon", premium_fen.into()),
        ],
    )
}

fn held_by_another(number: &str) -> String {
    format!(
        "policyNumber: a policy held by the responding customer (or by a customer merged with \
         it); {number} is held by another customer"
    )
}

#[test]
fn a_response_names_the_responding_customers_policy_and_a_purchase_wins_it_once_for_its_premium() {
    const OTHER_CAMPAIGN: &str = "0190a5e2-8c3b-7d4e-9f00-0000000ca302";
    const QUOTED: &str = "PXA2025220100000903";
    // Alice bought POLICY (endorsed since to 120,000 fen), Bob holds OTHER_POLICY; Alice's
    // purchase of POLICY is already recorded in CAMPAIGN.
    let ledger = || {
        ledger_of(&[
            registered(ALICE, "13800000001"),
            registered(BOB, "13800000002"),
            campaign_launched(CAMPAIGN),
            campaign_launched(OTHER_CAMPAIGN),
            issued_for(POLICY, ALICE, 100_000),
            endorsed(POLICY, ALICE, 120_000),
            issued_for(OTHER_POLICY, BOB, 90_000),
            quoted_for(QUOTED, ALICE),
            responded(CAMPAIGN, ALICE, "PURCHASED", "PHONE", Some(POLICY), 120_000),
        ])
    };
    let lines = [
        responded(
            CAMPAIGN,
            ALICE,
            "INTERESTED",
            "PHONE",
            Some(OTHER_POLICY),
            0,
        ),
        responded(CAMPAIGN, ALICE, "PURCHASED", "PHONE", None, 0),
        responded(
            CAMPAIGN,
            ALICE,
            "PURCHASED",
            "PHONE",
            Some(OTHER_POLICY),
            90_000,
        ),
        responded(CAMPAIGN, ALICE, "PURCHASED", "PHONE", Some(QUOTED), 100_000),
        responded(
            CAMPAIGN,
            ALICE,
            "PURCHASED",
            "WECHAT",
            Some(POLICY),
            120_000,
        ),
        // Bob's policy for another premium than its own.
        responded(
            OTHER_CAMPAIGN,
            BOB,
            "PURCHASED",
            "EMAIL",
            Some(OTHER_POLICY),
            100_000,
        ),
        // Its premium now, endorsed, but the sale is the campaign's that bought it first.
        responded(
            OTHER_CAMPAIGN,
            ALICE,
            "PURCHASED",
            "WECHAT",
            Some(POLICY),
            120_000,
        ),
        // Bob's own, and his interest in it; won once in the campaign, and in it only.
        responded(
            OTHER_CAMPAIGN,
            BOB,
            "INTERESTED",
            "PHONE",
            Some(OTHER_POLICY),
            0,
        ),
        responded(
            OTHER_CAMPAIGN,
            BOB,
            "PURCHASED",
            "PHONE",
            Some(OTHER_POLICY),
            90_000,
        ),
        responded(
            OTHER_CAMPAIGN,
            BOB,
            "PURCHASED",
            "WECHAT",
            Some(OTHER_POLICY),
            90_000,
        ),
        responded(
            CAMPAIGN,
            BOB,
            "PURCHASED",
            "PHONE",
            Some(OTHER_POLICY),
            90_000,
        ),
    ];
    assert_eq!(
        fold_on(ledger(), &lines),
        [
            (1, held_by_another(OTHER_POLICY)),
            (
                2,
                "policyNumber: a PURCHASED response names the policy bought, whose premium it wins"
                    .to_owned()
            ),
            (3, held_by_another(OTHER_POLICY)),
            (
                4,
                format!(
                    "policyNumber: a policy issued to the responding customer; {QUOTED} was only \
                     quoted"
                )
            ),
            (
                5,
                format!(
                    "policyNumber: a policy is won once in a campaign; {POLICY} was already \
                     recorded as bought"
                )
            ),
            (
                6,
                format!(
                    "premiumWon: the premium of the policy bought: {OTHER_POLICY} is for 90000 fen"
                )
            ),
            (7, credited_to(POLICY, CAMPAIGN)),
            (
                10,
                format!(
                    "policyNumber: a policy is won once in a campaign; {OTHER_POLICY} was already \
                     recorded as bought"
                )
            ),
            (11, credited_to(OTHER_POLICY, OTHER_CAMPAIGN)),
        ]
    );
}

/// The refusal of a purchase of `number`, whose sale `campaign` won.
fn credited_to(number: &str, campaign: &str) -> String {
    format!(
        "policyNumber: policy {number}'s sale is already credited to campaign {campaign}; a sale \
         is won in one campaign"
    )
}

fn renewed_for(number: &str, customer: &str, premium_fen: i64) -> IntegratorLine {
    edited(
        "PolicyRenewed",
        &[
            ("policyNumber", number.into()),
            ("customerId", customer.into()),
            ("periodStart", "2026-01-01".into()),
            ("periodEnd", "2026-12-31".into()),
            ("premium", premium_fen.into()),
            ("previousPremium", premium_fen.into()),
        ],
    )
}

/// `issued_for`, naming `campaign` as the one the policy was sold through.
fn issued_through(
    number: &str,
    customer: &str,
    premium_fen: i64,
    campaign: &str,
) -> IntegratorLine {
    edited(
        "PolicyIssued",
        &[
            ("policyNumber", number.into()),
            ("customerId", customer.into()),
            ("periodStart", "2025-01-01".into()),
            ("periodEnd", "2025-12-31".into()),
            ("premium", premium_fen.into()),
            ("campaignId", campaign.into()),
        ],
    )
}

#[test]
fn a_purchase_wins_a_sale_in_one_campaign_only() {
    const OTHER_CAMPAIGN: &str = "0190a5e2-8c3b-7d4e-9f00-0000000ca302";
    const LATER_POLICY: &str = "PXA2025220100000904";
    // Alice's policy was sold through CAMPAIGN; Bob's through none.
    let ledger = || {
        ledger_of(&[
            registered(ALICE, "13800000001"),
            registered(BOB, "13800000002"),
            campaign_launched(CAMPAIGN),
            campaign_launched(OTHER_CAMPAIGN),
            issued_through(POLICY, ALICE, 100_000, CAMPAIGN),
            issued_for(OTHER_POLICY, BOB, 90_000),
        ])
    };
    let lines = [
        // The issue named CAMPAIGN: the sale is its, not the other campaign's.
        responded(
            OTHER_CAMPAIGN,
            ALICE,
            "PURCHASED",
            "PHONE",
            Some(POLICY),
            100_000,
        ),
        responded(CAMPAIGN, ALICE, "PURCHASED", "PHONE", Some(POLICY), 100_000),
        // Bob's policy, sold through no campaign, bought in CAMPAIGN on a line: its sale.
        responded(
            CAMPAIGN,
            BOB,
            "PURCHASED",
            "PHONE",
            Some(OTHER_POLICY),
            90_000,
        ),
        responded(
            OTHER_CAMPAIGN,
            BOB,
            "PURCHASED",
            "PHONE",
            Some(OTHER_POLICY),
            90_000,
        ),
        // Renewed through no campaign: a new sale, the other campaign's to win.
        renewed_for(OTHER_POLICY, BOB, 95_000),
        responded(
            OTHER_CAMPAIGN,
            BOB,
            "PURCHASED",
            "PHONE",
            Some(OTHER_POLICY),
            95_000,
        ),
        // A purchase of a policy a later line issues through CAMPAIGN.
        responded(
            OTHER_CAMPAIGN,
            ALICE,
            "PURCHASED",
            "WECHAT",
            Some(LATER_POLICY),
            70_000,
        ),
        issued_through(LATER_POLICY, ALICE, 70_000, CAMPAIGN),
    ];
    assert_eq!(
        fold_on(ledger(), &lines),
        [
            (1, credited_to(POLICY, CAMPAIGN)),
            (4, credited_to(OTHER_POLICY, CAMPAIGN)),
            (7, credited_to(LATER_POLICY, CAMPAIGN)),
        ]
    );
}

#[test]
fn a_purchase_may_name_a_policy_a_later_line_issues_and_is_held_to_it_as_issued() {
    let ledger = || {
        ledger_of(&[
            registered(ALICE, "13800000001"),
            registered(BOB, "13800000002"),
            campaign_launched(CAMPAIGN),
        ])
    };
    // The response comes first, the policy it sold is issued after it, and endorsed later:
    // what was bought is the policy as issued.
    let lines = [
        responded(CAMPAIGN, ALICE, "PURCHASED", "PHONE", Some(POLICY), 100_000),
        issued_for(POLICY, ALICE, 100_000),
        endorsed(POLICY, ALICE, 120_000),
    ];
    assert_eq!(fold_on(ledger(), &lines), []);
    // A wrong premium, another customer's policy, a second purchase, or one never issued are
    // refused once the whole file is read.
    let lines = [
        responded(CAMPAIGN, ALICE, "PURCHASED", "PHONE", Some(POLICY), 90_000),
        responded(
            CAMPAIGN,
            BOB,
            "PURCHASED",
            "PHONE",
            Some(OTHER_POLICY),
            80_000,
        ),
        responded(
            CAMPAIGN,
            BOB,
            "PURCHASED",
            "WECHAT",
            Some(OTHER_POLICY),
            80_000,
        ),
        responded(
            CAMPAIGN,
            BOB,
            "PURCHASED",
            "EMAIL",
            Some("PXA2025220100000999"),
            1,
        ),
        issued_for(POLICY, ALICE, 100_000),
        issued_for(OTHER_POLICY, ALICE, 80_000),
    ];
    assert_eq!(
        fold_on(ledger(), &lines),
        [
            (
                1,
                format!("premiumWon: the premium of the policy bought: {POLICY} is for 100000 fen")
            ),
            (2, held_by_another(OTHER_POLICY)),
            (3, held_by_another(OTHER_POLICY)),
            (
                4,
                "policyNumber: policy PXA2025220100000999 does not exist".to_owned()
            ),
        ]
    );
}

/// Every leaf of a payload that is a text or null: its path as the import names a field
/// (`summary`, `recommendations[0].text`, `payee.name`), and its JSON pointer.
fn text_leaves(value: &serde_json::Value, path: &str, leaves: &mut Vec<(String, String)>) {
    match value {
        serde_json::Value::Object(fields) => {
            for (key, field) in fields {
                let name = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                text_leaves(field, &name, leaves);
            }
        }
        serde_json::Value::Array(items) => {
            for (index, item) in items.iter().enumerate() {
                text_leaves(item, &format!("{path}[{index}]"), leaves);
            }
        }
        serde_json::Value::String(_) | serde_json::Value::Null => {
            let pointer = format!("/{}", path.replace(['.', '['], "/").replace(']', ""));
            leaves.push((path.to_owned(), pointer));
        }
        _ => {}
    }
}

/// The free texts of an erased customer's work: written out for a live customer, left out for an
/// erased one ([`erased_work_rules`]), so no blank rule of their own.
const WORK_TEXTS: [&str; 4] = [
    "ClaimRejected.explanation",
    "ClaimSurveyed.findings",
    "ServiceCaseEscalated.reason",
    "ServiceCaseResolved.resolution",
];

#[test]
fn every_text_the_api_takes_written_out_is_refused_blank() {
    // Each text or null field of every sample event, made blank: where the event still parses
    // (as a line's payload is parsed, strictly), the field is free text, which the API takes
    // only written out, so the import refuses it naming the field.
    let mut refused = std::collections::BTreeSet::new();
    for text in SAMPLE.lines() {
        let line: serde_json::Value = serde_json::from_str(text).unwrap();
        let event_type = line["type"].as_str().unwrap();
        let mut leaves = Vec::new();
        text_leaves(&line["payload"], "", &mut leaves);
        for (name, pointer) in leaves {
            for blank in ["", "   "] {
                let mut payload = line["payload"].clone();
                *payload.pointer_mut(&pointer).unwrap() = blank.into();
                let Ok(event) =
                    ledger_domain::personal::strict(|| Event::from_json(event_type, 1, &payload))
                else {
                    continue;
                };
                if WORK_TEXTS.contains(&format!("{event_type}.{name}").as_str()) {
                    // Left out for an erased customer: the customer's standing decides.
                    assert_eq!(unwritten_text(&event), None, "{event_type}.{name}");
                    continue;
                }
                let problem = unwritten_text(&event)
                    .unwrap_or_else(|| panic!("{event_type}.{name} = {blank:?} was accepted"));
                assert_eq!(
                    problem.to_string(),
                    format!("{name}: is written out: not empty or only spaces")
                );
                refused.insert(format!("{event_type}.{name}"));
            }
        }
    }
    // The texts the API takes through `written` (crates/ledger-graphql/src/mutations), but the
    // work texts.
    let expected = [
        "CampaignClosed.summary",
        "CampaignCostIncurred.description",
        "CampaignLaunched.description",
        "ClaimReopened.reason",
        "ClaimReported.description",
        "ClaimReported.location",
        "ContactCorrected.reason",
        "ContactCorrected.summary",
        "ContactRecorded.summary",
        "CustomerRegistered.address",
        "CustomersMerged.reason",
        "OnlineEnquiryReceived.message",
        "PolicyEndorsed.description",
        "ProcessPublished.summary",
        "ProfileUpdated.address",
        "RiskRecommendationFollowedUp.note",
        "RiskSurveyCompleted.findings",
        "RiskSurveyCompleted.recommendations[0].text",
        "SatisfactionRecorded.comment",
        "ServiceCaseOpened.subject",
        "ServiceCaseReopened.reason",
    ];
    let refused: Vec<&str> = refused
        .iter()
        .map(String::as_str)
        .filter(|field| !field.contains("recommendations[") || field.contains("[0]"))
        .collect();
    assert_eq!(refused, expected);
}

#[test]
fn a_blank_text_is_refused_on_its_line_and_a_written_one_taken() {
    let ledger = ledger_of(&[registered(ALICE, "13800000001")]);
    let correction = |summary: &str, reason: &str| {
        let mut line: serde_json::Value =
            serde_json::from_str(&contact_text(ALICE, CONTACT)).unwrap();
        line["type"] = "ContactCorrected".into();
        line["payload"]["summary"] = summary.into();
        line["payload"]["reason"] = reason.into();
        integrator(&line.to_string())
    };
    let unwritten = |field: &str| format!("{field}: is written out: not empty or only spaces");
    let lines = [
        contact(ALICE, CONTACT, ""),
        contact(ALICE, CONTACT, "   "),
        contact(ALICE, CONTACT, " 续保咨询 "),
        correction("续保咨询", " "),
        correction("\t", "时长录错"),
        correction("续保咨询", "时长录错"),
    ];
    assert_eq!(
        fold_on(ledger, &lines),
        [
            (1, unwritten("summary")),
            (2, unwritten("summary")),
            (4, unwritten("reason")),
            (5, unwritten("summary")),
        ]
    );
}

/// Alice's consent to marketing on `channel`, dated `occurred`.
fn consent_dated(channel: &str, occurred: &str) -> IntegratorLine {
    integrator(&format!(
        r#"{{"type":"ConsentChanged","schemaVersion":1,"stream":"customer-{ALICE}","occurredAt":"{occurred}","actor":"agent-0042","payload":{{"customerId":"{ALICE}","channel":"{channel}","granted":true}}}}"#
    ))
}

/// A correction of `CONTACT` to start at `started` for `duration` seconds, dated `occurred`.
fn correction_dated(started: &str, duration: u32, occurred: &str) -> IntegratorLine {
    integrator(&format!(
        r#"{{"type":"ContactCorrected","schemaVersion":1,"stream":"customer-{ALICE}","occurredAt":"{occurred}","actor":"qa-01","payload":{{"contactId":"{CONTACT}","customerId":"{ALICE}","channel":"PHONE","direction":"INBOUND","agent":"agent-0042","startedAt":"{started}","durationSeconds":{duration},"topic":"RENEWAL","summary":"a call","outcome":"RESOLVED","reason":"时长录错"}}}}"#
    ))
}

#[test]
fn a_line_is_dated_as_the_api_dates_it() {
    let ledger = ledger_of(&[
        registered(ALICE, "13800000001"),
        contact(ALICE, CONTACT, "a call"),
    ]);
    let started = "2026-11-02T09:00:00+08:00";
    let lines = [
        // A contact is dated when it ended: not later, not earlier, not before it started.
        contact_dated(
            ALICE,
            &contact_id(11),
            "a call",
            started,
            "2099-01-01T00:00:00Z",
        ),
        contact_dated(
            ALICE,
            &contact_id(12),
            "a call",
            started,
            "2020-01-01T00:00:00Z",
        ),
        contact_dated(
            ALICE,
            &contact_id(13),
            "a call",
            started,
            "2026-11-02T01:01:00Z",
        ),
        // Nothing is dated in the future, beyond the clocks' drift.
        consent_dated("PHONE", "2099-01-01T00:00:00Z"),
        consent_dated("PHONE", "2025-03-07T10:00:00+08:00"),
        // A correction is made after the contact it describes ended (within the drift).
        correction_dated(
            "2025-03-08T09:00:00+08:00",
            600,
            "2025-03-08T09:04:59+08:00",
        ),
        correction_dated("2025-03-09T09:00:00+08:00", 60, "2025-03-08T10:00:00+08:00"),
        correction_dated(
            "2025-03-08T09:00:00+08:00",
            600,
            "2025-03-08T09:06:00+08:00",
        ),
        correction_dated("2025-03-08T09:00:00+08:00", 90, "2099-01-01T00:00:00Z"),
    ];
    let now_drift = format!(
        "is more than {} s (the clocks' drift) after now",
        ledger_domain::aggregates::CLOCK_SKEW_SECONDS_MAX
    );
    assert_eq!(
        fold_on(ledger, &lines),
        [
            (
                1,
                "occurredAt: a contact is dated when it ended, startedAt + durationSeconds \
                 (2026-11-02T01:01:00Z), not 2099-01-01T00:00:00Z"
                    .to_owned()
            ),
            (
                2,
                "occurredAt: a contact is dated when it ended, startedAt + durationSeconds \
                 (2026-11-02T01:01:00Z), not 2020-01-01T00:00:00Z"
                    .to_owned()
            ),
            (
                4,
                format!(
                    "occurredAt: an event is dated when it happened, not in the future: \
                     2099-01-01T00:00:00Z {now_drift}"
                )
            ),
            (
                6,
                "durationSeconds: a contact cannot end after it is corrected: startedAt + \
                 durationSeconds (2025-03-08T01:10:00Z) is more than 300 s (the clocks' drift) \
                 after the correction's occurredAt, 2025-03-08T01:04:59Z"
                    .to_owned()
            ),
            (
                7,
                "startedAt: a contact cannot start after it is corrected: \
                 2025-03-09T01:00:00Z is more than 300 s (the clocks' drift) after the \
                 correction's occurredAt, 2025-03-08T02:00:00Z"
                    .to_owned()
            ),
            (
                9,
                format!(
                    "occurredAt: an event is dated when it happened, not in the future: \
                     2099-01-01T00:00:00Z {now_drift}"
                )
            ),
        ]
    );
}

fn campaign_event(event_type: &str, campaign: &str) -> IntegratorLine {
    edited(event_type, &[("campaignId", campaign.into())])
}

/// A cost of `amount` on `campaign` (launched for the sample's budget, 2,000,000 fen) stating
/// its figures.
fn cost(campaign: &str, amount: i64, total_cost: i64, over_budget: bool) -> IntegratorLine {
    edited(
        "CampaignCostIncurred",
        &[
            ("campaignId", campaign.into()),
            ("amount", amount.into()),
            ("totalCost", total_cost.into()),
            ("overBudget", over_budget.into()),
        ],
    )
}

#[test]
fn a_cost_carries_the_campaign_s_total_cost_with_it_and_whether_that_is_over_budget() {
    const OTHER_CAMPAIGN: &str = "0190a5e2-8c3b-7d4e-9f00-0000000ca302";
    let ledger = ledger_of(&[
        campaign_launched(CAMPAIGN),
        cost(CAMPAIGN, 1_000_000, 1_000_000, false),
        cost(CAMPAIGN, 711_200, 1_711_200, false),
    ]);
    let total = |expected: i64, stated: i64| {
        format!("totalCost: the campaign's total cost with this one: {expected} fen, not {stated}")
    };
    let over = |total_cost: i64, expected: bool| {
        format!(
            "overBudget: whether the campaign's total cost with this one ({total_cost} fen) is \
             over its budget (2000000 fen): {expected}, not {}",
            !expected
        )
    };
    let lines = [
        // The tester's line: the campaign's cost would read 5.
        cost(CAMPAIGN, 1_000, 5, true),
        cost(CAMPAIGN, 1_000, 1_712_200, true),
        cost(CAMPAIGN, 1_000, 1_712_200, false),
        // The total counts the earlier line's cost; this one goes over budget.
        cost(CAMPAIGN, 300_000, 2_012_200, false),
        cost(CAMPAIGN, 300_000, 2_012_200, true),
        cost(CAMPAIGN, 1, 2_012_200, true),
        // A campaign the file launches starts from nothing.
        campaign_launched(OTHER_CAMPAIGN),
        cost(OTHER_CAMPAIGN, 100, 100, false),
        cost(OTHER_CAMPAIGN, 200, 200, false),
        cost(OTHER_CAMPAIGN, 2_000_000, 2_000_100, true),
    ];
    assert_eq!(
        fold_on(ledger, &lines),
        [
            (1, total(1_712_200, 5)),
            (2, over(1_712_200, false)),
            (4, over(2_012_200, true)),
            (6, total(2_012_201, 2_012_200)),
            (9, total(300, 200)),
        ]
    );
}

/// Alice's answer to `campaign`, naming no policy.
fn interested(campaign: &str) -> IntegratorLine {
    edited(
        "CampaignResponded",
        &[
            ("campaignId", campaign.into()),
            ("customerId", ALICE.into()),
            ("response", "INTERESTED".into()),
            ("policyNumber", serde_json::Value::Null),
            ("premiumWon", 0.into()),
        ],
    )
}

#[test]
fn a_touch_goes_on_one_of_a_running_campaigns_channels() {
    const OTHER_CAMPAIGN: &str = "0190a5e2-8c3b-7d4e-9f00-0000000ca302";
    // The sample's campaign runs on the phone, WeChat and e-mail; the other one is closed in
    // the ledger, a response after its close.
    let ledger = ledger_of(&[
        registered(ALICE, "13800000001"),
        consent(ALICE, "PHONE", true),
        consent(ALICE, "APP", true),
        campaign_launched(CAMPAIGN),
        campaign_launched(OTHER_CAMPAIGN),
        campaign_event("CampaignClosed", OTHER_CAMPAIGN),
        interested(OTHER_CAMPAIGN),
    ]);
    let closed = |campaign: &str, action: &str| {
        format!("campaignId: cannot {action} campaign {campaign} while it is closed")
    };
    let lines = [
        touch(CAMPAIGN, ALICE, "PHONE"),
        // Consented to, but not one of the campaign's channels; nor consented to: the
        // campaign's channels are checked first, as the API does.
        touch(CAMPAIGN, ALICE, "APP"),
        touch(CAMPAIGN, ALICE, "FAX"),
        touch(OTHER_CAMPAIGN, ALICE, "PHONE"),
        campaign_event("CampaignCostIncurred", OTHER_CAMPAIGN),
        campaign_event("CampaignClosed", OTHER_CAMPAIGN).with_actor("mkt-04"),
        // Closed on an earlier line: it takes responses, and nothing else.
        campaign_event("CampaignClosed", CAMPAIGN),
        touch(CAMPAIGN, ALICE, "PHONE").with_actor("agent-0043"),
        interested(CAMPAIGN),
    ];
    let off_channels = "channel: a touch uses one of the campaign's channels".to_owned();
    assert_eq!(
        fold_on(ledger, &lines),
        [
            (2, off_channels.clone()),
            (3, off_channels),
            (4, closed(OTHER_CAMPAIGN, "send a touch for")),
            (5, closed(OTHER_CAMPAIGN, "incur a cost on")),
            (6, closed(OTHER_CAMPAIGN, "close")),
            (8, closed(CAMPAIGN, "send a touch for")),
        ]
    );
}

fn cancelled(number: &str, customer: &str, on: &str) -> IntegratorLine {
    edited(
        "PolicyCancelled",
        &[
            ("policyNumber", number.into()),
            ("customerId", customer.into()),
            ("cancelledOn", on.into()),
        ],
    )
}

#[test]
fn a_claim_on_a_cancelled_policy_is_covered_only_until_the_cancellation() {
    const CANCELLED_FIRST_DAY: &str = "PXA2025220100000903";
    let ledger = ledger_of(&[
        registered(ALICE, "13800000001"),
        policy_issued(POLICY, ALICE),
        cancelled(POLICY, ALICE, "2025-06-01"),
        policy_issued(OTHER_POLICY, ALICE),
        policy_issued(CANCELLED_FIRST_DAY, ALICE),
        cancelled(CANCELLED_FIRST_DAY, ALICE, "2025-01-01"),
    ]);
    let claim = |index: u32, policy: &str, loss: &str| {
        claim_reported(&format!("CXA20252201000009{index:02}"), policy, ALICE, loss)
    };
    let lines = [
        // 2025-05-31 and 2025-06-01 in Beijing.
        claim(1, POLICY, "2025-05-31T15:00:00Z"),
        claim(2, POLICY, "2025-05-31T16:00:00Z"),
        claim(3, POLICY, "2025-07-01T01:00:00Z"),
        // Cancelled on an earlier line of the file.
        claim(4, OTHER_POLICY, "2025-07-01T01:00:00Z"),
        cancelled(OTHER_POLICY, ALICE, "2025-07-01"),
        claim(5, OTHER_POLICY, "2025-07-01T01:00:00Z"),
        claim(6, CANCELLED_FIRST_DAY, "2025-01-01T01:00:00Z"),
    ];
    let within = "lossOccurredAt: within the policy's period, Beijing days inclusive:";
    assert_eq!(
        fold_on(ledger, &lines),
        [
            (
                2,
                format!("{within} {POLICY} covers 2025-01-01 to 2025-05-31")
            ),
            (
                3,
                format!("{within} {POLICY} covers 2025-01-01 to 2025-05-31")
            ),
            (
                6,
                format!("{within} {OTHER_POLICY} covers 2025-01-01 to 2025-06-30")
            ),
            (
                7,
                format!(
                    "{within} {CANCELLED_FIRST_DAY} was cancelled from its first day and covers \
                     no day"
                )
            ),
        ]
    );
}

/// The sample's first line of `event_type` with `payload`'s fields set, dated `occurred`.
fn edited_at(
    event_type: &str,
    occurred: &str,
    payload: &[(&str, serde_json::Value)],
) -> IntegratorLine {
    let mut line: serde_json::Value =
        serde_json::from_str(&edited(event_type, payload).to_json_text()).unwrap();
    line["occurredAt"] = occurred.into();
    integrator(&line.to_string())
}

trait LineText {
    /// The line as an integrator writes it, without an event id.
    fn to_json_text(&self) -> String;
}

impl LineText for IntegratorLine {
    fn to_json_text(&self) -> String {
        serde_json::json!({
            "type": self.event.event_type(),
            "schemaVersion": 1,
            "stream": self.stream.as_str(),
            "occurredAt": self.new_event.occurred_at.to_string(),
            "actor": self.new_event.actor.as_str(),
            "payload": self.event.to_json(),
        })
        .to_string()
    }
}

/// `number` quoted to `customer` on `occurred`, valid until `valid_until`.
fn quoted_until(number: &str, customer: &str, occurred: &str, valid_until: &str) -> IntegratorLine {
    edited_at(
        "PolicyQuoted",
        occurred,
        &[
            ("policyNumber", number.into()),
            ("customerId", customer.into()),
            ("periodStart", "2025-04-01".into()),
            ("periodEnd", "2026-03-31".into()),
            ("validUntil", valid_until.into()),
        ],
    )
}

/// `number` issued to `customer` on `occurred`.
fn issued_at(number: &str, customer: &str, occurred: &str) -> IntegratorLine {
    edited_at(
        "PolicyIssued",
        occurred,
        &[
            ("policyNumber", number.into()),
            ("customerId", customer.into()),
            ("periodStart", "2025-04-01".into()),
            ("periodEnd", "2026-03-31".into()),
        ],
    )
}

#[test]
fn a_quote_is_valid_from_its_line_s_day_and_issued_as_quoted_until_it_expires() {
    // Given Alice and Bob, and POLICY quoted to Alice until 15 March (Beijing) in the ledger.
    let ledger = || {
        ledger_of(&[
            registered(ALICE, "13800000001"),
            registered(BOB, "13800000002"),
            quoted_until(POLICY, ALICE, "2025-03-01T10:00:00+08:00", "2025-03-15"),
        ])
    };
    let quoted_to_alice = format!(
        "customerId: policy {POLICY} was quoted to customer {ALICE}: it is issued to that \
         customer (or a customer merged with it), not to {BOB}"
    );
    let expired = |number: &str| {
        format!(
            "policyNumber: the quote of {number} expired: its validUntil was 2025-03-15 and \
             today is 2025-03-16 (Beijing); quote it again under a new policy number"
        )
    };
    // When quotes and issues come, then a quote past on its own day, an issue to another
    // customer and one after the quote's last day (a Beijing day: 00:30 on the 16th is still
    // the 15th in UTC) are refused, in the API's words.
    let lines = [
        quoted_until(OTHER_POLICY, BOB, "2025-03-01T08:30:00+08:00", "2025-02-28"),
        quoted_until(OTHER_POLICY, BOB, "2025-03-01T08:30:00+08:00", "2025-03-01"),
        issued_at(POLICY, BOB, "2025-03-02T09:00:00+08:00"),
        issued_at(POLICY, ALICE, "2025-03-16T00:30:00+08:00"),
        issued_at(OTHER_POLICY, ALICE, "2025-03-01T15:00:00+08:00"),
        issued_at(OTHER_POLICY, BOB, "2025-03-02T09:00:00+08:00"),
        issued_at(POLICY, ALICE, "2025-03-15T23:30:00+08:00"),
    ];
    assert_eq!(
        fold_on(ledger(), &lines),
        [
            (
                1,
                "validUntil: a quote is valid until today (2025-03-01, Beijing) or a later \
                 day, not 2025-02-28"
                    .to_owned()
            ),
            (3, quoted_to_alice),
            (4, expired(POLICY)),
            (
                5,
                format!(
                    "customerId: policy {OTHER_POLICY} was quoted to customer {BOB}: it is issued \
                     to that customer (or a customer merged with it), not to {ALICE}"
                )
            ),
            (
                6,
                format!(
                    "policyNumber: the quote of {OTHER_POLICY} expired: its validUntil was \
                     2025-03-01 and today is 2025-03-02 (Beijing); quote it again under a new \
                     policy number"
                )
            ),
        ]
    );
    // A customer merged with the quoted one takes the quote up: Alice merged into Bob, in the
    // ledger or on an earlier line.
    let lines = [
        merged(ALICE, BOB),
        issued_at(POLICY, BOB, "2025-03-10T09:00:00+08:00"),
    ];
    assert_eq!(fold_on(ledger(), &lines), []);
    let mut merged_in_ledger = vec![
        registered(ALICE, "13800000001"),
        registered(BOB, "13800000002"),
        quoted_until(POLICY, ALICE, "2025-03-01T10:00:00+08:00", "2025-03-15"),
    ];
    merged_in_ledger.push(merged(ALICE, BOB));
    let lines = [issued_at(POLICY, BOB, "2025-03-10T09:00:00+08:00")];
    assert_eq!(fold_on(ledger_of(&merged_in_ledger), &lines), []);
}

/// Alice's case CASE, opened in the ledger.
fn case_opened(customer: &str) -> IntegratorLine {
    edited(
        "ServiceCaseOpened",
        &[
            ("caseId", CASE.into()),
            ("customerId", customer.into()),
            ("policyNumber", serde_json::Value::Null),
            ("claimNumber", serde_json::Value::Null),
            ("contactId", serde_json::Value::Null),
        ],
    )
}

/// A line of `event_type` on `customer`'s case CASE or claim CLAIM, with `payload`'s fields set.
fn work(event_type: &str, customer: &str, payload: &[(&str, serde_json::Value)]) -> IntegratorLine {
    let key = if event_type.starts_with("Claim") {
        ("claimNumber", CLAIM.into())
    } else {
        ("caseId", CASE.into())
    };
    let mut fields = vec![key, ("customerId", customer.into())];
    fields.extend(payload.iter().cloned());
    edited(event_type, &fields)
}

/// Every transition of an erased customer's open work an integrator may send, with its texts
/// left out (`""`) or written (`text`), and the field each leaves out.
fn finishing_work(customer: &str, text: &str) -> Vec<IntegratorLine> {
    vec![
        work("ServiceCaseEscalated", customer, &[("reason", text.into())]),
        work(
            "ServiceCaseResolved",
            customer,
            &[("resolution", text.into())],
        ),
        work("ClaimSurveyed", customer, &[("findings", text.into())]),
        work("ClaimRejected", customer, &[("explanation", text.into())]),
    ]
}

#[test]
fn an_erased_customer_s_work_is_finished_with_its_texts_left_out_and_nothing_started_again() {
    // Given Alice's open case and reported claim, and Alice erased: in the ledger, or on an
    // earlier line of the file.
    let work_of = |customer: &str| {
        vec![
            registered(customer, "13800000001"),
            case_opened(customer),
            claim_reported(CLAIM, POLICY, customer, "2025-03-01T10:00:00+08:00"),
        ]
    };
    let mut erased_in_ledger = work_of(ALICE);
    erased_in_ledger.push(erased(ALICE));
    let erased_on_an_earlier_line = || {
        let mut lines = vec![erased(ALICE)];
        lines.extend(finishing_work(ALICE, ""));
        lines
    };
    // When the work is finished with the texts left out, then every line is taken.
    assert_eq!(
        fold_on(ledger_of(&erased_in_ledger), &finishing_work(ALICE, "")),
        []
    );
    assert_eq!(
        fold_on(ledger_of(&work_of(ALICE)), &erased_on_an_earlier_line()),
        []
    );
    // When a text is written, then it is refused naming the field: nothing personal can be
    // sealed for an erased customer.
    let written = |field: &str, event_type: &str| {
        format!(
            "{field}: customer {ALICE} was erased: no text can be recorded; send {event_type} \
             without {field} (an empty text, \"\")"
        )
    };
    let mut lines = finishing_work(ALICE, "客户要求处理");
    lines.push(work(
        "ClaimSettled",
        ALICE,
        &[(
            "payee",
            serde_json::json!({"kind": "INSURED", "name": "张三"}),
        )],
    ));
    assert_eq!(
        fold_on(ledger_of(&erased_in_ledger), &lines),
        [
            (1, written("reason", "ServiceCaseEscalated")),
            (2, written("resolution", "ServiceCaseResolved")),
            (3, written("findings", "ClaimSurveyed")),
            (4, written("explanation", "ClaimRejected")),
            (
                5,
                format!(
                    "payee.name: customer {ALICE} was erased: no text can be recorded; send \
                     ClaimSettled without payee.name (a line cannot leave a payee's name out: \
                     settle the claim through the API's settleClaim)"
                )
            ),
        ]
    );
    // When work would start again, then it is refused: nothing new is begun for them.
    let lines = [
        work("ServiceCaseReopened", ALICE, &[]),
        work("ClaimReopened", ALICE, &[]),
        work("RiskRecommendationFollowedUp", ALICE, &[]),
    ];
    let erased_customer = format!(
        "customerId: customer {ALICE} is already erased; nothing new can be recorded for it"
    );
    assert_eq!(
        fold_on(ledger_of(&erased_in_ledger), &lines),
        [
            (1, erased_customer.clone()),
            (2, erased_customer.clone()),
            (3, erased_customer),
        ]
    );
    // A live customer's texts are written out; left out, each is refused naming its field.
    let left_out = |field: &str| {
        format!("{field}: is written out; only an erased customer's work is finished without it")
    };
    assert_eq!(
        fold_on(ledger_of(&work_of(BOB)), &finishing_work(BOB, "  ")),
        [
            (1, left_out("reason")),
            (2, left_out("resolution")),
            (3, left_out("findings")),
            (4, left_out("explanation")),
        ]
    );
    assert_eq!(
        fold_on(
            ledger_of(&work_of(BOB)),
            &finishing_work(BOB, "客户要求处理")
        ),
        []
    );
}

/// `lines`' events appended to their streams as they are, in requests the store takes.
async fn appended(store: &SledEventLog, lines: &[IntegratorLine]) {
    let requests = lines
        .chunks(ledger_store::limits::EVENTS_PER_REQUEST_MAX)
        .map(|chunk| ledger_store::AppendRequest {
            stream: chunk[0].stream.clone(),
            expected: ledger_store::ExpectedVersion::Any,
            events: chunk.iter().map(|line| line.new_event.clone()).collect(),
        })
        .collect();
    for outcome in store.append_many(requests).await.unwrap() {
        outcome.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stored_campaign_s_total_cost_is_its_last_cost_s_read_from_the_stream_s_end() {
    const NO_COSTS: &str = "0190a5e2-8c3b-7d4e-9f00-0000000ca302";
    const NEVER_LAUNCHED: &str = "0190a5e2-8c3b-7d4e-9f00-0000000ca303";
    let scratch = tempfile::tempdir().unwrap();
    let store = SledEventLog::open(scratch.path(), ledger_store::StoreOptions::default()).unwrap();
    appended(
        &store,
        &[
            campaign_launched(CAMPAIGN),
            cost(CAMPAIGN, 1_000_000, 1_000_000, false),
            cost(CAMPAIGN, 711_200, 1_711_200, false),
        ],
    )
    .await;
    // More touches after the last cost than one page reads: the cost is on the second page
    // back.
    let touches: Vec<IntegratorLine> = (0..=READ_PAGE_MAX)
        .map(|_| touch(CAMPAIGN, ALICE, "PHONE").with_actor("agent-0043"))
        .collect();
    appended(&store, &touches).await;
    appended(&store, &[campaign_launched(NO_COSTS)]).await;
    let ring = ledger_app::personal::KeyRing::open(
        store.data_keys().unwrap(),
        ledger_app::personal::MasterKey::insecure_for_tests(),
        ledger_app::personal::KeySource::Random,
    )
    .unwrap();
    let mut ledger = StoredLedger::new(&store, Arc::new(ring));
    let campaign = |id: &str| id.parse::<CampaignId>().unwrap();
    assert_eq!(
        ledger.total_cost(campaign(CAMPAIGN)).unwrap(),
        Money::from_fen(1_711_200)
    );
    assert_eq!(ledger.total_cost(campaign(NO_COSTS)).unwrap(), Money::ZERO);
    assert_eq!(
        ledger.total_cost(campaign(NEVER_LAUNCHED)).unwrap(),
        Money::ZERO
    );
    // And the import's rules on it: the next cost's total counts the ledger's.
    let mut rules = LedgerRules::new(ledger);
    assert_eq!(
        rules.decide(1, &cost(CAMPAIGN, 1_000, 5, true)).unwrap(),
        Decision::Refused(
            "totalCost: the campaign's total cost with this one: 1712200 fen, not 5".to_owned()
        )
    );
    assert_eq!(
        rules
            .decide(2, &cost(CAMPAIGN, 1_000, 1_712_200, false))
            .unwrap(),
        Decision::Accepted
    );
}

/// A moment the API decides at, and nothing else it may ask of the ledger: the rules these
/// tests hold the import to read only their aggregate's own stream.
struct ApiAt(jiff::Timestamp);

impl DecisionContext for ApiAt {
    fn identifier_owner(&self, _identifier: &Identifier) -> Option<CustomerId> {
        None
    }

    fn now(&self) -> jiff::Timestamp {
        self.0
    }
}

/// The aggregate of `line`'s stream as `history`'s events on that stream left it.
fn aggregate_of<A: Aggregate>(history: &[&IntegratorLine], line: &IntegratorLine) -> A {
    let mut aggregate = A::default();
    for earlier in history
        .iter()
        .filter(|earlier| earlier.stream == line.stream)
    {
        aggregate.apply(&earlier.event);
    }
    aggregate
}

/// What the API decides for the command that would have recorded `line`'s event, at its
/// `occurredAt`, given `history`: the events it records (none when it changes nothing), or
/// its refusal.
fn api_decides(
    history: &[&IntegratorLine],
    line: &IntegratorLine,
) -> Result<Vec<Event>, DomainError> {
    use ledger_domain::aggregates::{Customer, ServiceCase};
    use ledger_domain::commands::{
        AssignAccountManager, AssignServiceCase, ChangeConsent, CloseServiceCase,
        CompleteRiskSurvey, CustomerCommand, Edit, EscalateServiceCase, FollowUpRiskRecommendation,
        ReopenServiceCase, ResolveServiceCase, ServiceCaseCommand, UpdateProfile,
    };
    let context = ApiAt(line.new_event.occurred_at);
    fn edit<T>(value: Option<T>) -> Edit<T> {
        value.map_or(Edit::Clear, Edit::Set)
    }
    let customer = |command| aggregate_of::<Customer>(history, line).handle(&command, &context);
    let case = |command| aggregate_of::<ServiceCase>(history, line).handle(&command, &context);
    match line.event.clone() {
        Event::ConsentChanged(changed) => customer(CustomerCommand::ChangeConsent(ChangeConsent {
            customer_id: changed.customer_id,
            channel: changed.channel,
            granted: changed.granted,
        })),
        Event::AccountManagerAssigned(assigned) => customer(CustomerCommand::AssignAccountManager(
            AssignAccountManager {
                customer_id: assigned.customer_id,
                manager: assigned.manager,
                team_lead: assigned.team_lead,
            },
        )),
        Event::ProfileUpdated(updated) => customer(CustomerCommand::UpdateProfile(UpdateProfile {
            customer_id: updated.customer_id,
            name: Some(updated.name),
            group: edit(updated.group),
            address: edit(updated.address),
        })),
        Event::ServiceCaseAssigned(assigned) => {
            case(ServiceCaseCommand::AssignServiceCase(AssignServiceCase {
                case_id: assigned.case_id,
                assignee: assigned.assignee,
            }))
        }
        Event::RiskSurveyCompleted(survey) => {
            case(ServiceCaseCommand::CompleteRiskSurvey(CompleteRiskSurvey {
                case_id: survey.case_id,
                surveyor: survey.surveyor,
                findings: survey.findings,
                recommendations: survey.recommendations,
            }))
        }
        Event::ServiceCaseEscalated(escalated) => {
            let before = aggregate_of::<ServiceCase>(history, line).deadline();
            case(ServiceCaseCommand::EscalateServiceCase(
                EscalateServiceCase {
                    case_id: escalated.case_id,
                    escalated_to: escalated.escalated_to,
                    reason: escalated.reason,
                    priority: escalated.priority,
                    // The deadline moved, or else left as it was.
                    deadline: (before != Some(escalated.deadline)).then_some(escalated.deadline),
                },
            ))
        }
        Event::ServiceCaseResolved(resolved) => {
            case(ServiceCaseCommand::ResolveServiceCase(ResolveServiceCase {
                case_id: resolved.case_id,
                resolved_by: resolved.resolved_by,
                resolution: resolved.resolution,
            }))
        }
        Event::ServiceCaseReopened(reopened) => {
            case(ServiceCaseCommand::ReopenServiceCase(ReopenServiceCase {
                case_id: reopened.case_id,
                reason: reopened.reason,
                deadline: reopened.deadline,
            }))
        }
        Event::ServiceCaseClosed(closed) => {
            case(ServiceCaseCommand::CloseServiceCase(CloseServiceCase {
                case_id: closed.case_id,
                closed_by: closed.closed_by,
                customer_confirmed: closed.customer_confirmed,
            }))
        }
        Event::RiskRecommendationFollowedUp(followed) => case(
            ServiceCaseCommand::FollowUpRiskRecommendation(FollowUpRiskRecommendation {
                case_id: followed.case_id,
                recommendation: followed.recommendation,
                status: followed.status,
                note: followed.note,
                followed_up_by: followed.followed_up_by,
            }),
        ),
        other => panic!("no command here records a {}", other.event_type()),
    }
}

/// The sample's first risk survey (on a risk-survey case the sample opened), dated `occurred`,
/// recommending one thing due on each of `due`.
fn survey(occurred: &str, due: &[&str]) -> IntegratorLine {
    let recommendations: Vec<serde_json::Value> = due
        .iter()
        .zip(1..)
        .map(|(due, number)| serde_json::json!({"number": number, "text": "清理消防通道", "dueOn": due}))
        .collect();
    edited_at(
        "RiskSurveyCompleted",
        occurred,
        &[("recommendations", recommendations.into())],
    )
}

#[test]
fn a_recommendation_due_before_the_survey_s_beijing_day_is_refused_as_the_api_refuses_it() {
    // Given the risk-survey case the sample surveys first, opened on 2026-01-01.
    let ledger = sample_before("RiskSurveyCompleted");
    let history: Vec<&IntegratorLine> = ledger.iter().collect();
    // When a survey is dated 00:30 on 15 March in Beijing (still the 14th in UTC), then a
    // recommendation due on the 14th is refused, naming it, in the API's words; one dated
    // 23:30 on the 14th in Beijing may recommend it for that day.
    let late = survey(
        "2026-03-14T16:30:00Z",
        &["2026-03-15", "2026-03-14", "2026-03-01"],
    );
    let on_the_day = survey("2026-03-14T15:30:00Z", &["2026-03-15", "2026-03-14"]);
    let past = "recommendations[1].dueOn: a recommendation is due on the survey's day \
                (2026-03-15, Beijing) or later, not 2026-03-14";
    assert_eq!(
        fold_on(ledger_of(&ledger), std::slice::from_ref(&late)),
        [(1, past.to_owned())]
    );
    assert_eq!(
        fold_on(ledger_of(&ledger), std::slice::from_ref(&on_the_day)),
        []
    );
    // The API's completeRiskSurvey, on the same case at the same moments, decides the same.
    assert_eq!(api_decides(&history, &late).unwrap_err().to_string(), past);
    assert_eq!(api_decides(&history, &on_the_day).unwrap().len(), 1);
}

const ADDRESS: &str = "吉林省长春市朝阳区人民大街1号";

/// `customer`'s profile: `name`, in no group, at `address`.
fn profile_updated(customer: &str, name: &str, address: Option<&str>) -> IntegratorLine {
    edited(
        "ProfileUpdated",
        &[
            ("customerId", customer.into()),
            ("name", name.into()),
            ("group", serde_json::Value::Null),
            ("address", address.into()),
        ],
    )
}

/// `customer`'s account manager `manager` under `team_lead`, replacing `previous`.
fn manager_under(
    customer: &str,
    manager: &str,
    team_lead: &str,
    previous: Option<&str>,
) -> IntegratorLine {
    edited(
        "AccountManagerAssigned",
        &[
            ("customerId", customer.into()),
            ("manager", manager.into()),
            ("teamLead", team_lead.into()),
            ("previousManager", previous.into()),
        ],
    )
}

/// `customer`'s case CASE assigned to `assignee`, replacing `previous`.
fn case_assigned(customer: &str, assignee: &str, previous: Option<&str>) -> IntegratorLine {
    work(
        "ServiceCaseAssigned",
        customer,
        &[
            ("assignee", assignee.into()),
            ("previousAssignee", previous.into()),
        ],
    )
}

#[test]
fn a_line_the_api_would_record_nothing_for_records_nothing_naming_its_field() {
    // Given Alice registered as 张三 (no group, no address), consenting to marketing by PHONE,
    // managed by am-003 under tl-01, with her case CASE assigned to claims-002.
    let ledger = vec![
        registered(ALICE, "13800000001"),
        consent(ALICE, "PHONE", true),
        manager_under(ALICE, "am-003", "tl-01", None),
        case_opened(ALICE),
        case_assigned(ALICE, "claims-002", None),
    ];
    let consents = |channel: &str| {
        records_nothing(&format!(
            "granted: customer {ALICE} already consents to marketing on {channel}"
        ))
    };
    let never_consented = records_nothing(&format!(
        "granted: customer {ALICE} never consented to marketing on EMAIL (opt-in: a channel \
         never granted has no consent)"
    ));
    let withdrawn = records_nothing(&format!(
        "granted: customer {ALICE}'s consent to marketing on PHONE is already withdrawn"
    ));
    let managed = |team_lead: &str| {
        records_nothing(&format!(
            "manager: am-003 is already customer {ALICE}'s account manager, with team lead \
             {team_lead}"
        ))
    };
    let same_profile = records_nothing(&format!(
        "payload: customer {ALICE}'s profile is already this name, group and address"
    ));
    let assigned = |assignee: &str| {
        records_nothing(&format!(
            "assignee: service case {CASE} is already assigned to {assignee}"
        ))
    };
    // When lines change each to what it is, in the ledger or on an earlier line, and lines
    // that change it (as the API records them) come between.
    let lines = [
        // (Another actor: the very line the ledger holds is already present, by its id.)
        consent(ALICE, "PHONE", true).with_actor("agent-0043"),
        consent(ALICE, "EMAIL", false),
        consent(ALICE, "EMAIL", true),
        consent(ALICE, "EMAIL", true).with_actor("agent-0043"),
        consent(ALICE, "PHONE", false),
        consent(ALICE, "PHONE", false).with_actor("agent-0043"),
        manager_under(ALICE, "am-003", "tl-01", Some("am-003")),
        // The same manager under a new team lead is a change, recorded with its previous one.
        manager_under(ALICE, "am-003", "tl-02", Some("am-003")),
        manager_under(ALICE, "am-003", "tl-02", Some("am-003")).with_actor("agent-0043"),
        profile_updated(ALICE, "张三", None),
        profile_updated(ALICE, "张三", Some(ADDRESS)),
        profile_updated(ALICE, "张三", Some(ADDRESS)).with_actor("agent-0043"),
        case_assigned(ALICE, "claims-002", Some("claims-002")),
        case_assigned(ALICE, "claims-003", Some("claims-002")),
        case_assigned(ALICE, "claims-003", Some("claims-003")),
        // An escalation assigns the case to whom it is escalated to.
        work(
            "ServiceCaseEscalated",
            ALICE,
            &[
                ("escalatedTo", "tl-01".into()),
                ("reason", "客户投诉".into()),
            ],
        ),
        case_assigned(ALICE, "tl-01", Some("tl-01")),
    ];
    // Then each records nothing, naming its field and what already is.
    let refused = fold_on(ledger_of(&ledger), &lines);
    assert_eq!(
        refused,
        [
            (1, consents("PHONE")),
            (2, never_consented),
            (4, consents("EMAIL")),
            (6, withdrawn),
            (7, managed("tl-01")),
            (9, managed("tl-02")),
            (10, same_profile.clone()),
            (12, same_profile),
            (13, assigned("claims-002")),
            (15, assigned("claims-003")),
            (17, assigned("tl-01")),
        ]
    );
    // And they are the lines the API's commands, given the same history, record nothing for;
    // the others it records.
    let mut history: Vec<&IntegratorLine> = ledger.iter().collect();
    let mut api_records_nothing = Vec::new();
    for (number, line) in (1..).zip(&lines) {
        // The escalation is history here: its own rules are not these.
        if matches!(line.event, Event::ServiceCaseEscalated(_)) {
            history.push(line);
            continue;
        }
        match api_decides(&history, line).unwrap().as_slice() {
            [] => api_records_nothing.push(number),
            [_] => history.push(line),
            recorded => panic!("line {number} recorded {recorded:?}"),
        }
    }
    let unchanged: Vec<usize> = refused.iter().map(|(number, _)| *number).collect();
    assert_eq!(api_records_nothing, unchanged);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stored_profile_is_the_last_one_read_from_the_stream_s_end_and_a_case_its_whole_stream() {
    const OTHER_CASE: &str = "0190a5e2-8c3b-7d4e-9f00-0000000ca5e2";
    let scratch = tempfile::tempdir().unwrap();
    let store = SledEventLog::open(scratch.path(), ledger_store::StoreOptions::default()).unwrap();
    let updated = profile_updated(ALICE, "张三", Some(ADDRESS));
    appended(&store, &[registered(ALICE, "13800000001")]).await;
    appended(&store, std::slice::from_ref(&updated)).await;
    // More contacts after the update than one page reads: it is on the second page back.
    let contacts: Vec<IntegratorLine> = (0..=READ_PAGE_MAX)
        .map(|index| {
            contact(
                ALICE,
                &format!("0190a5e2-8c3b-7d4e-9f00-{index:012}"),
                "a call",
            )
        })
        .collect();
    appended(&store, &contacts).await;
    appended(&store, &[case_opened(ALICE)]).await;
    appended(
        &store,
        &[
            case_assigned(ALICE, "claims-002", None),
            work(
                "ServiceCaseEscalated",
                ALICE,
                &[
                    ("escalatedTo", "tl-01".into()),
                    ("reason", "客户投诉".into()),
                ],
            ),
        ],
    )
    .await;
    let ring = ledger_app::personal::KeyRing::open(
        store.data_keys().unwrap(),
        ledger_app::personal::MasterKey::insecure_for_tests(),
        ledger_app::personal::KeySource::Random,
    )
    .unwrap();
    let mut ledger = StoredLedger::new(&store, Arc::new(ring));
    let Event::ProfileUpdated(profile) = &updated.event else {
        unreachable!("a profile update");
    };
    let customer = |id: &str| id.parse::<CustomerId>().unwrap();
    let case = |id: &str| id.parse::<CaseId>().unwrap();
    assert_eq!(
        ledger.profile(customer(ALICE)).unwrap(),
        Some(profile_digest(
            &profile.name,
            profile.group.as_ref(),
            profile.address.as_ref()
        ))
    );
    assert_eq!(ledger.profile(customer(BOB)).unwrap(), None);
    let stored = ledger.service_case(case(CASE)).unwrap();
    assert_eq!(
        stored.assignee(),
        Some(&StaffId::parse("assignee", "tl-01").unwrap())
    );
    assert_eq!(
        stored.status(),
        Some(ledger_domain::aggregates::service_case::CaseStatus::Open)
    );
    assert_eq!(
        ledger.service_case(case(OTHER_CASE)).unwrap(),
        ledger_domain::aggregates::ServiceCase::default()
    );
    // And the import's rules on them: the ledger's profile and assignee again record nothing.
    let mut rules = LedgerRules::new(ledger);
    assert_eq!(
        rules.decide(1, &updated.with_actor("agent-0043")).unwrap(),
        Decision::Unchanged(format!(
            "payload: customer {ALICE}'s profile is already this name, group and address"
        ))
    );
    assert_eq!(
        rules
            .decide(2, &profile_updated(ALICE, "张三", None))
            .unwrap(),
        Decision::Accepted
    );
    assert_eq!(
        rules
            .decide(3, &case_assigned(ALICE, "tl-01", Some("tl-01")))
            .unwrap(),
        Decision::Unchanged(format!(
            "assignee: service case {CASE} is already assigned to tl-01"
        ))
    );
    assert_eq!(
        rules
            .decide(4, &case_assigned(ALICE, "claims-002", Some("tl-01")))
            .unwrap(),
        Decision::Accepted
    );
}

/// The sample's risk-survey case (its first surveyed), and the customer it was opened for.
const RISK_CASE: &str = "019b78a7-4583-725f-a523-5b1146070ae9";
const RISK_CUSTOMER: &str = "01975c9a-3d54-7e0c-8da1-6fd1d469fc8a";

/// `lines` decided by the API's commands given `history`, as the import decided them
/// (`refused`): where the import refuses a line, the API refuses its command in the same words
/// (the import also names the field, `caseId` or `recommendation`, where the API names none);
/// where the import takes one, the API records it.
fn api_agrees(history: &[IntegratorLine], lines: &[IntegratorLine], refused: &[(usize, String)]) {
    let mut history: Vec<&IntegratorLine> = history.iter().collect();
    for (number, line) in (1..).zip(lines) {
        let import = refused
            .iter()
            .find(|(refused, _)| *refused == number)
            .map(|(_, problem)| problem.as_str());
        match (api_decides(&history, line), import) {
            (Ok(recorded), None) => {
                assert_eq!(recorded.len(), 1, "line {number}: {recorded:?}");
                history.push(line);
            }
            (Err(refused), Some(problem)) => {
                let api = refused.to_string();
                let rule = problem.split_once(": ").map(|(_, rule)| rule);
                assert!(
                    problem == api || rule == Some(api.as_str()),
                    "line {number}: the API says {api}, the import {problem}"
                );
            }
            (api, import) => panic!("line {number}: the API {api:?}, the import {import:?}"),
        }
    }
}

/// Alice's case CASE moved on by the sample's first line of `event_type`, by `actor` (lines
/// by different actors are different events).
fn case_moved(event_type: &str, actor: &str) -> IntegratorLine {
    work(event_type, ALICE, &[]).with_actor(actor)
}

/// The service case aggregate's refusal of `action` on `case` while it is `status`, on the
/// line's `caseId`.
fn cannot(action: &str, case: &str, status: &str) -> String {
    format!("caseId: cannot {action} service case {case} while it is {status}")
}

#[test]
fn a_case_is_assigned_escalated_and_resolved_only_while_open_as_the_api_decides() {
    // Given Alice's case CASE, opened in the ledger.
    let ledger = || vec![registered(ALICE, "13800000001"), case_opened(ALICE)];
    // When a file resolves it, then assigns, escalates and resolves it; reopens and assigns it;
    // closes it while open; resolves and closes it, then assigns it; and reopens and assigns it.
    let lines = [
        case_moved("ServiceCaseResolved", "claims-002"),
        case_assigned(ALICE, "claims-002", None),
        case_moved("ServiceCaseEscalated", "claims-002"),
        case_moved("ServiceCaseResolved", "claims-003"),
        case_moved("ServiceCaseReopened", "agent-0008"),
        case_assigned(ALICE, "claims-002", None).with_actor("sup-02"),
        case_moved("ServiceCaseClosed", "sup-01"),
        case_moved("ServiceCaseResolved", "claims-004"),
        case_moved("ServiceCaseClosed", "sup-02"),
        case_assigned(ALICE, "claims-003", Some("claims-002")),
        case_moved("ServiceCaseReopened", "agent-0009"),
        case_assigned(ALICE, "claims-003", Some("claims-002")).with_actor("sup-02"),
    ];
    // Then each transition its status does not allow is refused, as the API refuses it.
    let refused = vec![
        (2, cannot("assign", CASE, "resolved")),
        (3, cannot("escalate", CASE, "resolved")),
        (4, cannot("resolve", CASE, "resolved")),
        (7, cannot("close", CASE, "open")),
        (10, cannot("assign", CASE, "closed")),
    ];
    assert_eq!(fold_on(ledger_of(&ledger()), &lines), refused);
    api_agrees(&ledger(), &lines, &refused);
    // A case resolved in the ledger is not assigned; reopened on an earlier line, it is.
    let mut resolved = ledger();
    resolved.push(case_moved("ServiceCaseResolved", "claims-002"));
    assert_eq!(
        fold_on(
            ledger_of(&resolved),
            &[case_assigned(ALICE, "claims-002", None)]
        ),
        [(1, cannot("assign", CASE, "resolved"))]
    );
    assert_eq!(
        fold_on(
            ledger_of(&resolved),
            &[
                case_moved("ServiceCaseReopened", "agent-0008"),
                case_assigned(ALICE, "claims-002", None),
            ]
        ),
        []
    );
}

#[test]
fn a_risk_survey_is_completed_once_on_an_open_risk_survey_case_as_the_api_decides() {
    // Given the sample's risk-survey case before its survey, and Alice's case CASE, a 4S-shop
    // repair.
    let ledger = || {
        let mut ledger = sample_before("RiskSurveyCompleted");
        ledger.extend([registered(ALICE, "13800000001"), case_opened(ALICE)]);
        ledger
    };
    let surveyed = sample("RiskSurveyCompleted");
    let on_alices_case = edited(
        "RiskSurveyCompleted",
        &[("caseId", CASE.into()), ("customerId", ALICE.into())],
    );
    // When Alice's case is surveyed, and the risk-survey case twice, then a survey is refused
    // but on a risk-survey case, and but once, as the API refuses it.
    let lines = [
        on_alices_case,
        surveyed.clone_line(),
        surveyed.with_actor("risk-01"),
    ];
    let action = "complete a risk survey on";
    let refused = vec![
        (1, cannot(action, CASE, "not a risk-survey case")),
        (3, cannot(action, RISK_CASE, "already surveyed")),
    ];
    assert_eq!(fold_on(ledger_of(&ledger()), &lines), refused);
    api_agrees(&ledger(), &lines, &refused);
    // A case surveyed in the ledger is not surveyed again, nor one resolved.
    let mut surveyed_in_ledger = ledger();
    surveyed_in_ledger.push(surveyed.clone_line());
    assert_eq!(
        fold_on(
            ledger_of(&surveyed_in_ledger),
            &[surveyed.with_actor("risk-01")]
        ),
        [(1, cannot(action, RISK_CASE, "already surveyed"))]
    );
    let mut resolved_in_ledger = ledger();
    resolved_in_ledger.push(edited(
        "ServiceCaseResolved",
        &[
            ("caseId", RISK_CASE.into()),
            ("customerId", RISK_CUSTOMER.into()),
        ],
    ));
    assert_eq!(
        fold_on(ledger_of(&resolved_in_ledger), &[surveyed.clone_line()]),
        [(1, cannot(action, RISK_CASE, "resolved"))]
    );
}

#[test]
fn a_follow_up_names_a_recommendation_its_case_s_survey_made_as_the_api_decides() {
    // Given the sample's risk-survey case before its survey, which recommends 1 to 4.
    let unsurveyed = sample_before("RiskSurveyCompleted");
    let surveyed = sample("RiskSurveyCompleted");
    let follow_up = |number: u16| {
        edited(
            "RiskRecommendationFollowedUp",
            &[("recommendation", number.into())],
        )
    };
    let no_such = |number: u16| {
        format!("recommendation: risk recommendation {RISK_CASE} #{number} does not exist")
    };
    // When recommendation 1 is followed up before the survey, and 4 and 5 after it, then the
    // follow-ups of no recommendation the survey made are refused, as the API refuses them.
    let lines = [
        follow_up(1),
        surveyed.clone_line(),
        follow_up(4),
        follow_up(5),
    ];
    let refused = vec![
        (
            1,
            cannot(
                "follow up a recommendation of",
                RISK_CASE,
                "not surveyed yet",
            ),
        ),
        (4, no_such(5)),
    ];
    assert_eq!(fold_on(ledger_of(&unsurveyed), &lines), refused);
    api_agrees(&unsurveyed, &lines, &refused);
    // Surveyed in the ledger, likewise.
    let mut surveyed_in_ledger = sample_before("RiskSurveyCompleted");
    surveyed_in_ledger.push(surveyed.clone_line());
    assert_eq!(
        fold_on(
            ledger_of(&surveyed_in_ledger),
            &[follow_up(9), follow_up(2)]
        ),
        [(1, no_such(9))]
    );
}

#[test]
fn an_assignment_names_the_case_s_current_assignee_as_the_previous_one() {
    // Given Alice's case CASE, assigned to claims-002 in the ledger.
    let ledger = vec![
        registered(ALICE, "13800000001"),
        case_opened(ALICE),
        case_assigned(ALICE, "claims-002", None),
    ];
    let previous = |current: &str, stated: &str| {
        format!(
            "previousAssignee: the case's assignee until this assignment: {current}, not {stated}"
        )
    };
    let lines = [
        case_assigned(ALICE, "claims-003", None),
        case_assigned(ALICE, "claims-003", Some("claims-009")),
        case_assigned(ALICE, "claims-003", Some("claims-002")),
        // The current one is the earlier line's; an escalation assigns the case to whom it is
        // escalated to.
        case_assigned(ALICE, "claims-004", Some("claims-002")),
        work(
            "ServiceCaseEscalated",
            ALICE,
            &[("escalatedTo", "tl-01".into())],
        ),
        case_assigned(ALICE, "claims-004", Some("claims-003")),
        case_assigned(ALICE, "claims-004", Some("tl-01")),
    ];
    let refused = vec![
        (1, previous("claims-002", "null")),
        (2, previous("claims-002", "claims-009")),
        (4, previous("claims-003", "claims-002")),
        (6, previous("tl-01", "claims-003")),
    ];
    assert_eq!(fold_on(ledger_of(&ledger), &lines), refused);
    // And the API's assignServiceCase records the line taken as it is, and as the previous
    // assignee of each line refused the one the refusal names.
    let mut history: Vec<&IntegratorLine> = ledger.iter().collect();
    for (number, line) in (1..).zip(&lines) {
        let recorded = api_decides(&history, line).unwrap();
        match refused.iter().find(|(refused, _)| *refused == number) {
            None => {
                assert_eq!(recorded, std::slice::from_ref(&line.event), "line {number}");
                history.push(line);
            }
            Some((_, problem)) => {
                let [Event::ServiceCaseAssigned(recorded)] = recorded.as_slice() else {
                    panic!("line {number} recorded {recorded:?}");
                };
                let current = recorded.previous_assignee.as_ref().unwrap().to_string();
                assert!(
                    problem.contains(&format!("until this assignment: {current}, not")),
                    "line {number}: {problem}"
                );
            }
        }
    }
    // A case never assigned has no assignee.
    let unassigned = ledger_of(&ledger[..2]);
    assert_eq!(
        fold_on(
            unassigned,
            &[case_assigned(ALICE, "claims-002", Some("claims-001"))]
        ),
        [(1, previous("none (null)", "claims-001"))]
    );
}

#[test]
fn an_assignment_imported_again_after_its_case_moved_on_is_superseded_by_the_later_line() {
    // Given a file that assigned Alice's case to claims-002 again (which recorded nothing when
    // it was imported), then to claims-003, and resolved and closed it (all recorded);
    let file = [
        case_assigned(ALICE, "claims-002", Some("claims-002")),
        case_assigned(ALICE, "claims-003", Some("claims-002")),
        case_moved("ServiceCaseResolved", "claims-003"),
        case_moved("ServiceCaseClosed", "sup-01"),
    ];
    let mut history = vec![
        registered(ALICE, "13800000001"),
        case_opened(ALICE),
        case_assigned(ALICE, "claims-002", None),
    ];
    history.extend(file[1..].iter().map(LineEdits::clone_line));
    // when the same file is imported again, then its first line, an assignment of a closed case
    // now, records nothing: the next line of the case, already in the ledger, supersedes it.
    assert_eq!(
        fold_on(ledger_of(&history), &file),
        [(
            1,
            records_nothing(&format!(
                "assignee: line 2, later in the file, is already in the ledger (position 4); \
                 recorded after it, this line would be refused ({})",
                cannot("assign", CASE, "closed")
            ))
        )]
    );
    // Alone, it is refused.
    assert_eq!(
        fold_on(ledger_of(&history), &file[..1]),
        [(1, cannot("assign", CASE, "closed"))]
    );
    // Likewise an account manager assigned again, then another (both as recorded): imported
    // again, the first names as its previous manager one a later line replaced.
    let file = [
        manager_assigned(ALICE, "am-003", Some("am-003")),
        manager_assigned(ALICE, "am-004", Some("am-003")),
    ];
    let history = [
        registered(ALICE, "13800000001"),
        manager_assigned(ALICE, "am-003", None),
        file[1].clone_line(),
    ];
    assert_eq!(
        fold_on(ledger_of(&history), &file),
        [(
            1,
            records_nothing(
                "manager: line 2, later in the file, is already in the ledger (position 3); \
                 recorded after it, this line would be refused (previousManager: the customer's \
                 account manager until this assignment: am-004, not am-003)"
            )
        )]
    );
}

#[test]
fn an_escalation_keeps_the_priority_and_a_moved_deadline_lies_ahead_as_the_api_decides() {
    // Given Alice's case CASE, open at NORMAL priority, in the ledger.
    let ledger = || vec![registered(ALICE, "13800000001"), case_opened(ALICE)];
    // When it is reopened while open, escalated at LOW priority, and escalated with its
    // deadline moved to before the escalation's occurredAt, then each is refused as the API
    // refuses it; escalated at HIGH, keeping its deadline, it is taken.
    let escalated = |payload: &[(&str, serde_json::Value)]| {
        let mut fields = vec![("escalatedTo", "tl-01".into())];
        fields.extend(payload.iter().cloned());
        work("ServiceCaseEscalated", ALICE, &fields)
    };
    let lines = [
        case_moved("ServiceCaseReopened", "agent-0008"),
        escalated(&[("priority", "LOW".into())]),
        escalated(&[("deadline", "2024-11-01T09:30:00Z".into())]),
        escalated(&[]),
    ];
    let refused = vec![
        (1, cannot("reopen", CASE, "open")),
        (
            2,
            "priority: an escalation keeps or raises the priority; the case is NORMAL".to_owned(),
        ),
        (3, "deadline: a deadline lies in the future".to_owned()),
    ];
    assert_eq!(fold_on(ledger_of(&ledger()), &lines), refused);
    api_agrees(&ledger(), &lines, &refused);
}

#[test]
fn a_case_or_claim_line_names_the_customer_its_work_was_opened_for() {
    // Given Alice's case and claim, in the ledger or on an earlier line, and Bob, another
    // customer.
    let customers = || {
        vec![
            registered(ALICE, "13800000001"),
            registered(BOB, "13800000002"),
        ]
    };
    let work_opened = || {
        vec![
            policy_issued(POLICY, ALICE),
            case_opened(ALICE),
            claim_reported(CLAIM, POLICY, ALICE, "2025-03-01T10:00:00+08:00"),
        ]
    };
    let mut opened = customers();
    opened.extend(work_opened());
    let bobs_work = || {
        vec![
            work(
                "ServiceCaseEscalated",
                BOB,
                &[("reason", "升级处理".into())],
            ),
            work("ClaimSurveyed", BOB, &[("findings", "现场查勘".into())]),
            work(
                "ServiceCaseEscalated",
                ALICE,
                &[("reason", "升级处理".into())],
            ),
        ]
    };
    let refused = vec![
        (
            1,
            format!("customerId: service case {CASE} is customer {ALICE}'s, not {BOB}'s"),
        ),
        (
            2,
            format!("customerId: claim {CLAIM} is customer {ALICE}'s, not {BOB}'s"),
        ),
    ];
    // When a line of it names Bob, then it is refused: the work would land in Bob's history
    // and data-subject list; the same line naming Alice is taken.
    assert_eq!(fold_on(ledger_of(&opened), &bobs_work()), refused);
    let mut in_the_file = work_opened();
    in_the_file.extend(bobs_work());
    let shifted: Vec<(usize, String)> = refused
        .iter()
        .map(|(number, problem)| (number + 3, problem.clone()))
        .collect();
    assert_eq!(fold_on(ledger_of(&customers()), &in_the_file), shifted);
}
