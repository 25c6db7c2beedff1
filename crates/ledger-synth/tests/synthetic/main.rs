//! The generated history, checked from the outside: every event valid and allowed by its
//! aggregate, every identifier valid and owned once, output deterministic, and the book shaped
//! as the requirements describe (seed 4.1.1, 4.2.1, 4.2.3).

mod replay;

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::OnceLock;

use jiff::Timestamp;
use jiff::tz::TimeZone;
use ledger_domain::events::{CATALOGUE, Event};
use ledger_domain::ids::CustomerId;
use ledger_domain::kinds::{ContactOutcome, CustomerKind, ServiceCaseKind};
use ledger_domain::values::{Channel, Identifier, IdentifierKind, Topic};
use ledger_synth::{SynthConfig, SyntheticEvent, fixture_events, generate};

/// The book the shape thresholds are stated for: 2,000 customers, three years, seed 7.
fn book_config() -> SynthConfig {
    SynthConfig {
        customers: 2_000,
        seed: 7,
        ..SynthConfig::default()
    }
}

fn book() -> &'static [SyntheticEvent] {
    static BOOK: OnceLock<Vec<SyntheticEvent>> = OnceLock::new();
    BOOK.get_or_init(|| generate(&book_config()).collect())
}

fn fixture() -> &'static [SyntheticEvent] {
    static FIXTURE: OnceLock<Vec<SyntheticEvent>> = OnceLock::new();
    FIXTURE.get_or_init(fixture_events)
}

/// Small histories of other seeds, so no rule holds by the luck of one seed.
fn small_books() -> &'static [Vec<SyntheticEvent>] {
    static SMALL: OnceLock<Vec<Vec<SyntheticEvent>>> = OnceLock::new();
    SMALL.get_or_init(|| {
        [(11, 300, 3), (12, 120, 2), (13, 60, 1)]
            .into_iter()
            .map(|(seed, customers, years)| {
                generate(&SynthConfig {
                    customers,
                    years,
                    seed,
                    ..SynthConfig::default()
                })
                .collect()
            })
            .collect()
    })
}

fn every_history() -> Vec<&'static [SyntheticEvent]> {
    let mut histories = vec![fixture(), book()];
    histories.extend(small_books().iter().map(Vec::as_slice));
    histories
}

/// An `i64` as the nearest `f64`, without a lossy cast: both 32-bit halves convert exactly.
fn to_f64(value: i64) -> f64 {
    let high = i32::try_from(value >> 32).unwrap();
    let low = u32::try_from(value & 0xFFFF_FFFF).unwrap();
    f64::from(high) * 4_294_967_296.0 + f64::from(low)
}

fn count(length: usize) -> i64 {
    i64::try_from(length).unwrap()
}

fn beijing(at: Timestamp) -> jiff::civil::DateTime {
    at.to_zoned(TimeZone::fixed(jiff::tz::offset(8))).datetime()
}

#[test]
fn the_fixture_holds_every_event_type_and_stays_small() {
    let events = fixture();
    assert!(
        (1_000..3_000).contains(&events.len()),
        "{} events",
        events.len()
    );
    let seen: BTreeSet<&str> = events
        .iter()
        .map(|synthetic| synthetic.event.event_type())
        .collect();
    let missing: Vec<&str> = CATALOGUE
        .iter()
        .map(|entry| entry.name)
        .filter(|name| !seen.contains(name))
        .collect();
    assert!(missing.is_empty(), "the fixture lacks {missing:?}");
    assert_eq!(
        fixture_events(),
        events,
        "the fixture is the same every time"
    );
}

#[test]
fn every_event_round_trips_and_lives_on_its_stream() {
    for history in every_history() {
        for synthetic in history {
            let event = &synthetic.event;
            assert_eq!(synthetic.stream, event.stream(), "{event:?}");
            let json = event.to_json();
            let parsed = Event::from_json(event.event_type(), event.schema_version(), &json);
            assert_eq!(parsed.as_ref().ok(), Some(event), "{parsed:?}");
            let bytes = event.encode_payload();
            let decoded = Event::decode_payload(event.event_type(), event.schema_version(), &bytes);
            assert_eq!(decoded.as_ref().ok(), Some(event));
        }
    }
}

#[test]
fn every_stream_replays_through_its_aggregate() {
    for history in every_history() {
        if let Err(failure) = replay::replay(history) {
            panic!("{failure}");
        }
    }
}

#[test]
fn a_contact_takes_at_most_one_satisfaction_answer() {
    for history in every_history() {
        let mut rated = std::collections::HashSet::new();
        for synthetic in history {
            if let Event::SatisfactionRecorded(answer) = &synthetic.event
                && let Some(contact) = answer.contact_id
            {
                assert!(rated.insert(contact), "contact {contact} rated twice");
            }
        }
        assert!(!rated.is_empty());
    }
}

#[test]
fn events_are_ordered_inside_the_history_with_unique_time_ordered_ids() {
    let config = book_config();
    let (start, end) = (config.start(), config.end);
    let events = book();
    let mut ids = HashSet::new();
    for pair in events.windows(2) {
        assert!(
            pair[0].occurred_at <= pair[1].occurred_at,
            "{:?} before {:?}",
            pair[0],
            pair[1]
        );
    }
    for synthetic in events {
        assert!(
            (start..=end).contains(&synthetic.occurred_at),
            "{synthetic:?}"
        );
        assert!(
            ids.insert(synthetic.event_id),
            "event id {} twice",
            synthetic.event_id
        );
        let uuid = synthetic.event_id.as_uuid();
        assert_eq!(uuid.get_version_num(), 7);
        let (seconds, _) = uuid.get_timestamp().expect("a v7 timestamp").to_unix();
        let occurred = u64::try_from(synthetic.occurred_at.as_second()).unwrap();
        assert_eq!(seconds, occurred, "the id's time is the event's time");
    }
}

#[test]
fn the_same_seed_gives_the_same_bytes_and_another_seed_does_not() {
    let config = SynthConfig {
        customers: 400,
        years: 2,
        seed: 3,
        ..SynthConfig::default()
    };
    let fingerprint = |config: &SynthConfig| -> Vec<(String, String, i64, String, Vec<u8>)> {
        generate(config)
            .map(|synthetic| {
                (
                    synthetic.event_id.to_string(),
                    synthetic.stream.to_string(),
                    synthetic.occurred_at.as_millisecond(),
                    synthetic.actor.to_string(),
                    synthetic.event.encode_payload(),
                )
            })
            .collect()
    };
    let first = fingerprint(&config);
    assert_eq!(first, fingerprint(&config));
    let other = fingerprint(&SynthConfig {
        seed: 4,
        ..config.clone()
    });
    assert_ne!(first, other);
    assert!(first.len() > 10_000, "{} events", first.len());
}

#[test]
fn events_concern_only_registered_customers_until_they_are_merged_or_erased() {
    for history in every_history() {
        let mut registered = HashSet::new();
        let mut gone: HashMap<CustomerId, &'static str> = HashMap::new();
        for synthetic in history {
            let event = &synthetic.event;
            if let Event::CustomerRegistered(registration) = event {
                assert!(
                    registered.insert(registration.customer_id),
                    "registered twice: {event:?}"
                );
                continue;
            }
            for customer in event.customer_ids() {
                assert!(
                    registered.contains(&customer),
                    "{customer} is not registered yet: {event:?}"
                );
                if let Some(why) = gone.get(&customer) {
                    panic!("{customer} was {why} before {event:?}");
                }
            }
            match event {
                Event::CustomersMerged(merged) => {
                    gone.insert(merged.customer_id, "merged");
                }
                Event::CustomerErased(erased) => {
                    gone.insert(erased.customer_id, "erased");
                }
                _ => {}
            }
        }
    }
}

/// GB 11643 MOD 11-2, written from its definition.
fn id_card_is_valid(number: &str) -> bool {
    let digits: Vec<u32> = number[..17]
        .chars()
        .filter_map(|c| c.to_digit(10))
        .collect();
    if digits.len() != 17 {
        return false;
    }
    let sum: u32 = digits
        .iter()
        .enumerate()
        .map(|(i, d)| d * (2_u32.pow(17 - u32::try_from(i).unwrap()) % 11))
        .sum();
    let check = (12 - sum % 11) % 11;
    let expected = if check == 10 {
        'X'
    } else {
        char::from_digit(check, 10).unwrap()
    };
    number.ends_with(expected)
}

/// GB 32100 (mod 31) and the GB 11714 organisation-code check inside it.
fn social_credit_code_is_valid(code: &str) -> bool {
    let alphabet: Vec<char> = "0123456789ABCDEFGHJKLMNPQRTUWXY".chars().collect();
    let values: Vec<usize> = code
        .chars()
        .filter_map(|c| alphabet.iter().position(|a| *a == c))
        .collect();
    if values.len() != 18 {
        return false;
    }
    let mut weight = 1;
    let mut sum = 0;
    for value in &values[..17] {
        sum += value * weight;
        weight = weight * 3 % 31;
    }
    let organisation: Vec<u32> = code[8..16].chars().filter_map(|c| c.to_digit(10)).collect();
    let organisation_sum: u32 = organisation
        .iter()
        .zip([3, 7, 9, 10, 5, 8, 4, 2])
        .map(|(digit, weight)| digit * weight)
        .sum();
    let organisation_check = match 11 - organisation_sum % 11 {
        10 => 'X',
        11 => '0',
        value => char::from_digit(value, 10).unwrap(),
    };
    values[17] == (31 - sum % 31) % 31 && code[16..17].starts_with(organisation_check)
}

/// ISO 3779, written from its definition.
fn vin_is_valid(vin: &str) -> bool {
    let value = |c: char| match c {
        '0'..='9' => c.to_digit(10),
        'A'..='H' => Some(u32::from(c) - u32::from('A') + 1),
        'J'..='N' => Some(u32::from(c) - u32::from('J') + 1),
        'P' => Some(7),
        'R' => Some(9),
        'S'..='Z' => Some(u32::from(c) - u32::from('S') + 2),
        _ => None,
    };
    let weights = [8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2];
    let Some(values) = vin.chars().map(value).collect::<Option<Vec<u32>>>() else {
        return false;
    };
    let sum: u32 = values.iter().zip(weights).map(|(v, w)| v * w).sum();
    let check = if sum % 11 == 10 {
        'X'
    } else {
        char::from_digit(sum % 11, 10).unwrap()
    };
    values.len() == 17 && vin.chars().nth(8) == Some(check)
}

fn identifier_is_valid(identifier: &Identifier) -> bool {
    let value = identifier.value();
    let reparsed = Identifier::parse("value", identifier.kind(), value).ok();
    reparsed.as_ref() == Some(identifier)
        && match identifier.kind() {
            IdentifierKind::IdCard => id_card_is_valid(value),
            IdentifierKind::SocialCreditCode => social_credit_code_is_valid(value),
            IdentifierKind::Vin => vin_is_valid(value),
            IdentifierKind::Mobile => value.len() == 11 && value.starts_with('1'),
            IdentifierKind::WeChat => value.len() == 28 && value.starts_with('o'),
            IdentifierKind::Plate => "吉辽黑蒙".contains(value.chars().next().unwrap()),
            _ => true,
        }
}

#[test]
fn every_identifier_is_valid_and_issued_to_one_customer_only() {
    for history in every_history() {
        let mut issued: HashMap<Identifier, CustomerId> = HashMap::new();
        let mut give = |identifier: &Identifier, customer: CustomerId| {
            assert!(identifier_is_valid(identifier), "{identifier}");
            let first = *issued.entry(identifier.clone()).or_insert(customer);
            assert_eq!(first, customer, "{identifier} given to two customers");
        };
        for synthetic in history {
            match &synthetic.event {
                Event::CustomerRegistered(registered) => {
                    for identifier in &registered.identifiers {
                        give(identifier, registered.customer_id);
                    }
                }
                Event::IdentifierAdded(added) => give(&added.identifier, added.customer_id),
                Event::PolicyIssued(issued_policy) => {
                    assert!(
                        vin_is_valid(issued_policy.vin.as_str()),
                        "{}",
                        issued_policy.vin
                    );
                }
                _ => {}
            }
        }
    }
}

/// Working days (Monday to Friday) after `from`'s day up to and including `to`'s day.
fn working_days_between(from: Timestamp, to: Timestamp) -> i64 {
    let (mut day, last) = (beijing(from).date(), beijing(to).date());
    let mut count = 0;
    while day < last {
        day = day.tomorrow().unwrap();
        if day.weekday().to_monday_zero_offset() < 5 {
            count += 1;
        }
    }
    count
}

#[test]
fn contacts_keep_business_hours_and_the_hotline_runs_all_night() {
    let (mut routine, mut in_hours, mut night_reports) = (0, 0, 0);
    for synthetic in book() {
        let Event::ContactRecorded(contact) = &synthetic.event else {
            continue;
        };
        let local = beijing(contact.started_at);
        let minute = i32::from(local.hour()) * 60 + i32::from(local.minute());
        let business =
            local.date().weekday().to_monday_zero_offset() < 6 && (510..1_050).contains(&minute);
        let by_person = !contact.agent.as_str().starts_with("system:");
        if contact.topic == Topic::ClaimReport {
            night_reports += usize::from(by_person && !(480..1_200).contains(&minute));
        } else if by_person && contact.channel != Channel::WeChat {
            routine += 1;
            in_hours += usize::from(business);
        }
    }
    let share =
        f64::from(u32::try_from(in_hours).unwrap()) / f64::from(u32::try_from(routine).unwrap());
    assert!(
        share > 0.95,
        "{share:.3} of routine contacts in business hours"
    );
    assert!(
        night_reports > 20,
        "{night_reports} claim reports taken at night"
    );
}

#[test]
fn claims_follow_the_seasons_and_renewals_the_anniversaries() {
    let config = book_config();
    let settled_history_from = beijing(config.start())
        .date()
        .checked_add(jiff::Span::new().years(1))
        .unwrap();
    let (mut winter, mut summer) = (0, 0);
    for synthetic in book() {
        match &synthetic.event {
            Event::ClaimReported(claim) => {
                let loss = beijing(claim.loss_occurred_at).date();
                if loss >= settled_history_from {
                    winter += u32::from(matches!(loss.month(), 12 | 1 | 2));
                    summer += u32::from(matches!(loss.month(), 5 | 6 | 9));
                }
            }
            Event::PolicyRenewed(renewed) => {
                let written = beijing(synthetic.occurred_at).date();
                let days_before = written.until(renewed.period_start).unwrap().get_days();
                assert!(
                    (1..=45).contains(&days_before),
                    "renewed {days_before} days before the period"
                );
            }
            _ => {}
        }
    }
    assert!(
        f64::from(winter) > 1.3 * f64::from(summer),
        "winter {winter}, spring and autumn {summer}"
    );
}

#[test]
fn the_book_has_the_shape_the_requirements_describe() {
    let events = book();
    let customers = book_config().customers;
    let mut group: HashMap<CustomerId, bool> = HashMap::new();
    let mut premium: HashMap<CustomerId, i64> = HashMap::new();
    let mut channels: HashMap<Channel, u32> = HashMap::new();
    let mut complaints: HashMap<CustomerId, u32> = HashMap::new();
    let mut csat: HashMap<CustomerId, (u32, u32)> = HashMap::new();
    let mut enquiries = HashSet::new();
    let mut called_back = HashSet::new();
    let mut documents_completed: HashMap<String, Timestamp> = HashMap::new();
    let mut guarantees: HashMap<String, i64> = HashMap::new();
    let (mut settled, mut late, mut merges, mut erasures) = (0_u32, 0_u32, 0, 0);
    let (mut individuals, mut with_wechat, mut plates, mut jilin_plates) =
        (0_u32, 0_u32, 0_u32, 0_u32);
    for synthetic in events {
        match &synthetic.event {
            Event::CustomerRegistered(registered) => {
                group.insert(registered.customer_id, registered.group.is_some());
                if registered.kind == CustomerKind::Individual {
                    individuals += 1;
                    with_wechat += u32::from(
                        registered
                            .identifiers
                            .iter()
                            .any(|id| id.kind() == IdentifierKind::WeChat),
                    );
                }
                for plate in registered
                    .identifiers
                    .iter()
                    .filter(|id| id.kind() == IdentifierKind::Plate)
                {
                    plates += 1;
                    jilin_plates += u32::from(plate.value().starts_with('吉'));
                }
            }
            Event::PolicyIssued(issued) => {
                *premium.entry(issued.customer_id).or_default() += issued.premium.fen()
            }
            Event::PolicyRenewed(renewed) => {
                *premium.entry(renewed.customer_id).or_default() += renewed.premium.fen();
            }
            Event::ContactRecorded(contact) => {
                *channels.entry(contact.channel).or_default() += 1;
                if contact.topic == Topic::Complaint {
                    *complaints.entry(contact.customer_id).or_default() += 1;
                }
                if let Some(enquiry) = contact.enquiry_id {
                    called_back.insert(enquiry);
                }
            }
            Event::SatisfactionRecorded(answer) => {
                if let Some(score) = answer.csat {
                    let entry = csat.entry(answer.customer_id).or_default();
                    entry.0 += u32::from(score.get());
                    entry.1 += 1;
                }
            }
            Event::OnlineEnquiryReceived(enquiry) => {
                enquiries.insert(enquiry.enquiry_id);
            }
            Event::ClaimReported(claim) => {
                let days = i64::from(claim.time_guarantee_working_days.unwrap());
                guarantees.insert(claim.claim_number.to_string(), days);
            }
            Event::ClaimDocumentsCompleted(completed) => {
                documents_completed
                    .insert(completed.claim_number.to_string(), synthetic.occurred_at);
            }
            Event::ClaimSettled(settlement) => {
                let number = settlement.claim_number.to_string();
                settled += 1;
                let waited =
                    working_days_between(documents_completed[&number], synthetic.occurred_at);
                late += u32::from(waited > guarantees[&number]);
            }
            Event::CustomersMerged(_) => merges += 1,
            Event::CustomerErased(_) => erasures += 1,
            _ => {}
        }
    }

    // The customer pyramid: 20% of customers bring about 80% of premium; group customers over 60%.
    let mut premiums: Vec<(i64, bool)> = premium
        .iter()
        .map(|(customer, amount)| (*amount, group[customer]))
        .collect();
    premiums.sort_unstable_by(|a, b| b.cmp(a));
    let total: i64 = premiums.iter().map(|(amount, _)| amount).sum();
    let top: i64 = premiums[..premiums.len() / 5]
        .iter()
        .map(|(amount, _)| amount)
        .sum();
    let group_total: i64 = premiums
        .iter()
        .filter(|(_, group)| *group)
        .map(|(amount, _)| amount)
        .sum();
    let share = |part: i64| to_f64(part) / to_f64(total);
    assert!(
        (0.75..=0.85).contains(&share(top)),
        "top 20% hold {:.3}",
        share(top)
    );
    assert!(
        share(group_total) > 0.6,
        "group customers hold {:.3}",
        share(group_total)
    );

    // Every channel, phone and WeChat most, fax and post rare.
    let contacts: u32 = channels.values().sum();
    let channel_share =
        |channel| f64::from(channels.get(&channel).copied().unwrap_or(0)) / f64::from(contacts);
    for channel in Channel::ALL {
        assert!(
            channels.get(&channel).copied().unwrap_or(0) > 0,
            "no contact on {channel:?}"
        );
    }
    let phone_and_wechat = channel_share(Channel::Phone) + channel_share(Channel::WeChat);
    assert!(
        phone_and_wechat > 0.5,
        "phone and WeChat {phone_and_wechat:.3}"
    );
    let fax_and_post = channel_share(Channel::Fax) + channel_share(Channel::Post);
    assert!(fax_and_post < 0.03, "fax and post {fax_and_post:.3}");

    // Complaints cluster among the dissatisfied.
    let complaint_rate = |low: bool| {
        let members: Vec<&CustomerId> = csat
            .iter()
            .filter(|(_, (sum, count))| {
                let mean = f64::from(*sum) / f64::from(*count);
                if low { mean <= 2.5 } else { mean >= 4.0 }
            })
            .map(|(customer, _)| customer)
            .collect();
        let filed: u32 = members
            .iter()
            .map(|customer| complaints.get(*customer).copied().unwrap_or(0))
            .sum();
        (
            f64::from(filed) / to_f64(count(members.len())),
            members.len(),
        )
    };
    let (low_rate, low_count) = complaint_rate(true);
    let (high_rate, high_count) = complaint_rate(false);
    assert!(
        low_count >= 30 && high_count >= 30,
        "{low_count} dissatisfied, {high_count} satisfied"
    );
    assert!(
        low_rate > 2.0 * high_rate,
        "complaints per customer {low_rate:.2} vs {high_rate:.2}"
    );

    // Web leads nobody called back, a few merges and erasures, some claims paid late.
    let unanswered = enquiries.difference(&called_back).count();
    assert!(
        unanswered > 0 && unanswered * 3 < enquiries.len(),
        "{unanswered} of {} unanswered",
        enquiries.len()
    );
    assert!((3..=customers / 50).contains(&merges), "{merges} merges");
    assert!(
        (1..=customers / 50).contains(&erasures),
        "{erasures} erasures"
    );
    assert!(
        late > 0 && late * 5 < settled,
        "{late} of {settled} settled past the time guarantee"
    );

    // Identity: WeChat for a share of individuals, plates mostly from Jilin.
    let wechat_share = f64::from(with_wechat) / f64::from(individuals);
    assert!(
        (0.4..0.8).contains(&wechat_share),
        "{wechat_share:.3} of individuals on WeChat"
    );
    assert!(
        f64::from(jilin_plates) > 0.8 * f64::from(plates),
        "{jilin_plates} of {plates} plates from Jilin"
    );

    let per_customer = to_f64(count(events.len())) / f64::from(customers);
    assert!(
        (25.0..=90.0).contains(&per_customer),
        "{per_customer:.1} events per customer"
    );
}

#[test]
fn the_book_holds_every_kind_of_case_topic_and_outcome() {
    let mut kinds = HashSet::new();
    let mut topics = HashSet::new();
    let mut outcomes = HashSet::new();
    for synthetic in book() {
        match &synthetic.event {
            Event::ServiceCaseOpened(opened) => {
                kinds.insert(opened.kind);
            }
            Event::ContactRecorded(contact) => {
                topics.insert(contact.topic);
                outcomes.insert(contact.outcome);
            }
            _ => {}
        }
    }
    assert_eq!(
        kinds.len(),
        ServiceCaseKind::ALL.len(),
        "case kinds {kinds:?}"
    );
    assert_eq!(
        outcomes.len(),
        ContactOutcome::ALL.len(),
        "outcomes {outcomes:?}"
    );
    assert_eq!(topics.len(), 9, "topics {topics:?}");
}

#[test]
fn configurations_outside_the_limits_are_refused_with_a_reason() {
    assert!(SynthConfig::default().check().is_ok());
    let no_customers = SynthConfig {
        customers: 0,
        ..SynthConfig::default()
    };
    assert!(
        no_customers
            .check()
            .unwrap_err()
            .to_string()
            .contains("customers")
    );
    let no_years = SynthConfig {
        years: 0,
        ..SynthConfig::default()
    };
    assert!(no_years.check().unwrap_err().to_string().contains("years"));
    let far_future = SynthConfig {
        end: "2200-01-01T00:00:00Z".parse().unwrap(),
        ..SynthConfig::default()
    };
    assert!(far_future.check().unwrap_err().to_string().contains("end"));
    let config = SynthConfig {
        years: 2,
        ..SynthConfig::default()
    };
    assert_eq!(
        config.start(),
        "2024-11-01T00:00:00Z".parse::<Timestamp>().unwrap()
    );
}
