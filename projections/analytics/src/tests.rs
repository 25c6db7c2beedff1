//! Tests of the projection, given / when / then: given hand-made contacts (the real payload
//! structs in envelopes with increasing positions), the exact figures the queries return; and
//! on the synthetic book, that the buckets add up to the contacts in the log.

use jiff::Timestamp;
use ledger_domain::events::{ContactRecorded, Event};
use ledger_domain::ids::{CaseId, ContactId, CustomerId, EventId, Position, StaffId};
use ledger_domain::kinds::ContactOutcome;
use ledger_domain::projection::{Envelope, MemoryState, Projection, StateWrite};
use ledger_domain::samples::{staff, text};
use ledger_domain::values::{Channel, Direction, Topic};

use crate::{
    Analytics, AnalyticsError, BUCKETS_MAX, BucketSize, ChannelBucket, RANGE_DAYS_MAX,
    busiest_hours, channel_stats,
};

/// One event as the log hands it to the projection.
struct Recorded {
    position: Position,
    occurred_at: Timestamp,
    actor: StaffId,
    event: Event,
}

/// A hand-made log: events in the order recorded, positions from 1.
#[derive(Default)]
struct Ledger {
    events: Vec<Recorded>,
}

impl Ledger {
    fn record(&mut self, event: impl Into<Event>) -> &mut Self {
        let event = event.into();
        let occurred_at = match &event {
            Event::ContactRecorded(contact) => contact.started_at,
            _ => beijing("2025-03-31T23:00:00"),
        };
        self.events.push(Recorded {
            position: Position(u64::try_from(self.events.len()).unwrap() + 1),
            occurred_at,
            actor: staff("agent-0001"),
            event,
        });
        self
    }
}

fn apply(state: &mut MemoryState, events: &[Recorded]) {
    for recorded in events {
        let stream = recorded.event.stream();
        let event_id = EventId::parse(
            "eventId",
            &format!("00000000-0000-7000-8000-{:012x}", recorded.position.get()),
        )
        .unwrap();
        let envelope = Envelope {
            position: recorded.position,
            stream: &stream,
            stream_version: recorded.position.get(),
            event_id,
            occurred_at: recorded.occurred_at,
            recorded_at: recorded.occurred_at,
            actor: &recorded.actor,
            event: &recorded.event,
            redacted: false,
        };
        Analytics.apply(&envelope, state).unwrap();
    }
}

fn fold(ledger: &Ledger) -> MemoryState {
    let mut state = MemoryState::new();
    apply(&mut state, &ledger.events);
    state
}

/// A Beijing wall-clock time (`2025-03-07T17:30:00`) as an instant.
fn beijing(local: &str) -> Timestamp {
    format!("{local}+08:00").parse().unwrap()
}

fn contact_id(n: u16) -> ContactId {
    ContactId::parse(
        "contact",
        &format!("0190a5e2-8c3b-7d4e-9f00-3000000{n:05x}"),
    )
    .unwrap()
}

fn customer() -> CustomerId {
    CustomerId::parse("customer", "0190a5e2-8c3b-7d4e-9f00-100000000001").unwrap()
}

/// An inbound phone enquiry resolved at `local` Beijing time, lasting `seconds`.
fn contact(n: u16, local: &str, seconds: u32) -> ContactRecorded {
    ContactRecorded {
        contact_id: contact_id(n),
        customer_id: customer(),
        channel: Channel::Phone,
        direction: Direction::Inbound,
        agent: staff("agent-0042"),
        started_at: beijing(local),
        duration_seconds: seconds,
        topic: Topic::Enquiry,
        summary: text("咨询保单"),
        outcome: ContactOutcome::Resolved,
        policy_number: None,
        claim_number: None,
        case_id: None,
        campaign_id: None,
        enquiry_id: None,
    }
}

/// The week of 2025-03-10 (Monday) to 03-16, on phone and WeChat.
fn week() -> Ledger {
    let case = CaseId::parse("case", "0190a5e2-8c3b-7d4e-9f00-200000000001").unwrap();
    let mut ledger = Ledger::default();
    ledger
        // Monday 09:xx: four inbound phone contacts, one a complaint, one abandoned, one
        // linked to a case; two resolved at first contact.
        .record(contact(1, "2025-03-10T09:05:00", 120))
        .record(ContactRecorded {
            topic: Topic::Complaint,
            outcome: ContactOutcome::FollowUpNeeded,
            ..contact(2, "2025-03-10T09:20:00", 600)
        })
        .record(ContactRecorded {
            outcome: ContactOutcome::Abandoned,
            ..contact(3, "2025-03-10T09:40:00", 0)
        })
        .record(ContactRecorded {
            case_id: Some(case),
            ..contact(4, "2025-03-10T09:59:59", 180)
        })
        .record(contact(5, "2025-03-10T09:30:00", 300))
        // Monday 14:xx: an outbound phone call and an inbound WeChat complaint.
        .record(ContactRecorded {
            direction: Direction::Outbound,
            topic: Topic::Renewal,
            outcome: ContactOutcome::Converted,
            ..contact(6, "2025-03-10T14:10:00", 240)
        })
        .record(ContactRecorded {
            channel: Channel::WeChat,
            topic: Topic::Complaint,
            ..contact(7, "2025-03-10T14:50:00", 60)
        })
        // Sunday 23:30 and the next Monday 00:10 (another week).
        .record(contact(8, "2025-03-16T23:30:00", 100))
        .record(contact(9, "2025-03-17T00:10:00", 100));
    ledger
}

fn row<'a>(rows: &'a [ChannelBucket], start: &str, channel: Channel) -> &'a ChannelBucket {
    rows.iter()
        .find(|row| row.start == beijing(start) && row.channel == channel)
        .unwrap_or_else(|| panic!("no {channel:?} bucket at {start}: {rows:#?}"))
}

#[test]
fn hour_buckets_count_contacts_complaints_and_first_contact_resolution() {
    let state = fold(&week());
    let rows = channel_stats(
        &state,
        beijing("2025-03-10T00:00:00"),
        beijing("2025-03-11T00:00:00"),
        BucketSize::Hour,
    )
    .unwrap();
    assert_eq!(rows.len(), 3, "{rows:#?}");
    let nine = row(&rows, "2025-03-10T09:00:00", Channel::Phone);
    assert_eq!(nine.end, beijing("2025-03-10T10:00:00"));
    assert_eq!((nine.contacts, nine.inbound, nine.outbound), (5, 5, 0));
    assert_eq!(nine.complaints, 1);
    assert_eq!(nine.complaint_rate, 0.2);
    // Served inbound: 1, 2, 4, 5 (3 was abandoned); resolved without a case: 1 and 5.
    assert_eq!(
        (nine.first_contacts, nine.resolved_at_first_contact),
        (4, 2)
    );
    assert_eq!(nine.first_contact_resolution_rate, Some(0.5));
    assert_eq!(nine.average_handling_seconds, 240.0);

    let phone = row(&rows, "2025-03-10T14:00:00", Channel::Phone);
    assert_eq!((phone.contacts, phone.outbound), (1, 1));
    assert_eq!(phone.first_contact_resolution_rate, None);
    let wechat = row(&rows, "2025-03-10T14:00:00", Channel::WeChat);
    assert_eq!((wechat.contacts, wechat.complaints), (1, 1));
    assert_eq!(wechat.complaint_rate, 1.0);
    assert_eq!(wechat.first_contact_resolution_rate, Some(1.0));
}

#[test]
fn day_week_and_month_buckets_are_beijing_calendar_sums() {
    let state = fold(&week());
    let days = channel_stats(
        &state,
        beijing("2025-03-10T00:00:00"),
        beijing("2025-03-18T00:00:00"),
        BucketSize::Day,
    )
    .unwrap();
    let monday = row(&days, "2025-03-10T00:00:00", Channel::Phone);
    assert_eq!(
        (monday.contacts, monday.complaints, monday.first_contacts),
        (6, 1, 4)
    );
    assert_eq!(monday.end, beijing("2025-03-11T00:00:00"));
    // 23:30 Beijing on Sunday is Sunday, though it is 15:30 UTC.
    assert_eq!(
        row(&days, "2025-03-16T00:00:00", Channel::Phone).contacts,
        1
    );
    assert_eq!(
        row(&days, "2025-03-17T00:00:00", Channel::Phone).contacts,
        1
    );
    assert_eq!(days.len(), 4, "{days:#?}");

    // A range starting on a Wednesday is widened to the whole week from Monday.
    let weeks = channel_stats(
        &state,
        beijing("2025-03-12T12:00:00"),
        beijing("2025-03-17T00:00:01"),
        BucketSize::Week,
    )
    .unwrap();
    let first = row(&weeks, "2025-03-10T00:00:00", Channel::Phone);
    assert_eq!(
        (first.contacts, first.end),
        (7, beijing("2025-03-17T00:00:00"))
    );
    assert_eq!(
        row(&weeks, "2025-03-10T00:00:00", Channel::WeChat).contacts,
        1
    );
    assert_eq!(
        row(&weeks, "2025-03-17T00:00:00", Channel::Phone).contacts,
        1
    );
    assert_eq!(weeks.len(), 3);

    let months = channel_stats(
        &state,
        beijing("2025-03-15T00:00:00"),
        beijing("2025-03-16T00:00:00"),
        BucketSize::Month,
    )
    .unwrap();
    let march = row(&months, "2025-03-01T00:00:00", Channel::Phone);
    assert_eq!(march.end, beijing("2025-04-01T00:00:00"));
    assert_eq!((march.contacts, march.complaints), (8, 1));
    assert_eq!(march.complaint_rate, 0.125);
    // Served inbound phone contacts: 1, 2, 4, 5, 8, 9; resolved: 1, 5, 8, 9.
    assert_eq!(
        (march.first_contacts, march.resolved_at_first_contact),
        (6, 4)
    );
    assert_eq!(months.len(), 2);
}

#[test]
fn busiest_hours_count_beijing_hours_of_day_over_whole_and_partial_days() {
    let state = fold(&week());
    let whole = busiest_hours(
        &state,
        beijing("2025-03-01T00:00:00"),
        beijing("2025-04-01T00:00:00"),
    )
    .unwrap();
    let mut expected = [0_u64; 24];
    expected[9] = 5;
    expected[14] = 2;
    expected[23] = 1;
    expected[0] = 1;
    assert_eq!(whole, expected);
    // A range from Monday 09:30 to Monday (a week later) 00:30: partial days at both ends,
    // widened to whole hours (09:00 and 01:00).
    let partial = busiest_hours(
        &state,
        beijing("2025-03-10T09:30:00"),
        beijing("2025-03-17T00:30:00"),
    )
    .unwrap();
    assert_eq!(partial, expected);
    let narrow = busiest_hours(
        &state,
        beijing("2025-03-10T10:00:00"),
        beijing("2025-03-16T23:00:00"),
    )
    .unwrap();
    let mut afternoon = [0_u64; 24];
    afternoon[14] = 2;
    assert_eq!(narrow, afternoon);
}

#[test]
fn a_correction_moves_the_contact_as_if_it_had_been_recorded_corrected() {
    let mut ledger = week();
    let original = contact(1, "2025-03-10T09:05:00", 120);
    let fixed = ContactRecorded {
        channel: Channel::WalkIn,
        topic: Topic::Complaint,
        started_at: beijing("2025-03-11T16:45:00"),
        ..original.clone()
    };
    ledger.record(fixed.corrected(text("渠道记错")));
    let corrected = fold(&ledger);

    let mut direct = week();
    direct.events[0].event = fixed.into();
    assert_eq!(corrected.entries(), fold(&direct).entries());

    let rows = channel_stats(
        &corrected,
        beijing("2025-03-10T00:00:00"),
        beijing("2025-03-12T00:00:00"),
        BucketSize::Day,
    )
    .unwrap();
    assert_eq!(
        row(&rows, "2025-03-10T00:00:00", Channel::Phone).contacts,
        5
    );
    let walk_in = row(&rows, "2025-03-11T00:00:00", Channel::WalkIn);
    assert_eq!((walk_in.contacts, walk_in.complaints), (1, 1));

    // Correcting it back leaves exactly the original state: emptied buckets are deleted.
    ledger.record(original.corrected(text("改回")));
    assert_eq!(fold(&ledger).entries(), fold(&week()).entries());
}

#[test]
fn limits_and_empty_ranges_are_errors() {
    let state = fold(&week());
    let from = beijing("2025-03-10T00:00:00");
    assert_eq!(
        channel_stats(&state, from, from, BucketSize::Day),
        Err(AnalyticsError::EmptyRange { from, to: from })
    );
    let hours_max = i64::try_from(BUCKETS_MAX).unwrap();
    let to = from + jiff::SignedDuration::from_hours(hours_max);
    assert!(channel_stats(&state, from, to, BucketSize::Hour).is_ok());
    let second = jiff::SignedDuration::from_secs(1);
    let one_more = to + second;
    assert_eq!(
        channel_stats(&state, from, one_more, BucketSize::Hour),
        Err(AnalyticsError::TooManyBuckets {
            requested: u64::try_from(hours_max).unwrap() + 1,
            max: BUCKETS_MAX
        })
    );
    let days_max = jiff::SignedDuration::from_hours(24 * RANGE_DAYS_MAX);
    assert!(channel_stats(&state, from, from + days_max, BucketSize::Week).is_ok());
    assert_eq!(
        channel_stats(&state, from, from + days_max + second, BucketSize::Month),
        Err(AnalyticsError::RangeTooLong {
            days: RANGE_DAYS_MAX + 1,
            max: RANGE_DAYS_MAX
        })
    );
    assert!(matches!(
        busiest_hours(&state, from, from + days_max + second),
        Err(AnalyticsError::RangeTooLong { .. })
    ));
    // Day buckets over more days than a series may hold.
    let days = jiff::SignedDuration::from_hours(24 * (hours_max + 1));
    assert!(matches!(
        channel_stats(&state, from, from + days, BucketSize::Day),
        Err(AnalyticsError::TooManyBuckets { requested: 745, .. })
    ));
}

#[test]
fn folding_in_one_go_or_in_two_parts_writes_the_same_entries() {
    let mut ledger = week();
    ledger.record(
        ContactRecorded {
            channel: Channel::Email,
            ..contact(8, "2025-03-16T23:30:00", 100)
        }
        .corrected(text("渠道")),
    );
    let whole = fold(&ledger);
    for split in 0..=ledger.events.len() {
        let mut first = MemoryState::new();
        apply(&mut first, &ledger.events[..split]);
        let mut second = MemoryState::new();
        for (key, value) in first.entries() {
            second.put(key.clone(), value.clone());
        }
        apply(&mut second, &ledger.events[split..]);
        assert_eq!(second.entries(), whole.entries(), "split after {split}");
    }
}

#[test]
fn on_the_synthetic_book_the_buckets_add_up_to_the_contacts_in_the_log() {
    let config = ledger_synth::SynthConfig {
        customers: 2_000,
        years: 3,
        seed: 7,
        ..Default::default()
    };
    let mut state = MemoryState::new();
    let started = std::time::Instant::now();
    // Whether each contact is a complaint, as last recorded or corrected.
    let mut complaint_by_contact = std::collections::HashMap::new();
    let (mut first, mut last) = (Timestamp::MAX, Timestamp::MIN);
    for (index, synthetic) in ledger_synth::generate(&config).enumerate() {
        let facts = match &synthetic.event {
            Event::ContactRecorded(contact) => {
                Some((contact.contact_id, contact.topic, contact.started_at))
            }
            Event::ContactCorrected(contact) => {
                Some((contact.contact_id, contact.topic, contact.started_at))
            }
            _ => None,
        };
        if let Some((id, topic, started_at)) = facts {
            complaint_by_contact.insert(id, topic == Topic::Complaint);
            first = first.min(started_at);
            last = last.max(started_at);
        }
        let envelope = Envelope {
            position: Position(u64::try_from(index).unwrap() + 1),
            stream: &synthetic.stream,
            stream_version: 0,
            event_id: synthetic.event_id,
            occurred_at: synthetic.occurred_at,
            recorded_at: synthetic.occurred_at,
            actor: &synthetic.actor,
            event: &synthetic.event,
            redacted: false,
        };
        Analytics.apply(&envelope, &mut state).unwrap();
    }
    let contacts = u64::try_from(complaint_by_contact.len()).unwrap();
    let complaints = complaint_by_contact
        .values()
        .filter(|&&complaint| complaint)
        .count();
    let complaints = u64::try_from(complaints).unwrap();
    assert!(contacts > 500, "{contacts}");
    let fold_time = started.elapsed();
    let to = last + jiff::SignedDuration::from_secs(1);
    let started = std::time::Instant::now();
    let months = channel_stats(&state, first, to, BucketSize::Month).unwrap();
    let months_time = started.elapsed();
    let started = std::time::Instant::now();
    let hours = channel_stats(
        &state,
        to - jiff::SignedDuration::from_hours(743),
        to,
        BucketSize::Hour,
    )
    .unwrap();
    let hours_time = started.elapsed();
    assert_eq!(months.iter().map(|row| row.contacts).sum::<u64>(), contacts);
    assert_eq!(
        months.iter().map(|row| row.complaints).sum::<u64>(),
        complaints
    );
    let started = std::time::Instant::now();
    let by_hour = busiest_hours(&state, first, to).unwrap();
    let busiest_time = started.elapsed();
    eprintln!(
        "timing: {contacts} contacts folded in {fold_time:?} ({} keys); {} month rows over \
         the whole history in {months_time:?}; {} hour rows over the last 743-744 hours in {hours_time:?}; \
         busiest hours over the whole history in {busiest_time:?}",
        state.len(),
        months.len(),
        hours.len()
    );
    assert_eq!(by_hour.iter().sum::<u64>(), contacts);
    // The call centre works 08:30-17:30 Beijing time: its busiest hour is in that window.
    let busiest = (0..24).max_by_key(|&hour| by_hour[hour]).unwrap();
    assert!((8..=17).contains(&busiest), "{by_hour:?}");
    assert!(months.iter().any(|row| row.channel == Channel::WeChat));
}

/// A case opened from contact `n` (its `contactId`), for the sample customer.
fn case_opened_from(n: u16) -> ledger_domain::events::ServiceCaseOpened {
    ledger_domain::events::ServiceCaseOpened {
        case_id: CaseId::parse("case", &format!("0190a5e2-8c3b-7d4e-9f00-2000000{n:05x}")).unwrap(),
        customer_id: customer(),
        kind: ledger_domain::kinds::ServiceCaseKind::Complaint,
        priority: ledger_domain::kinds::Priority::Normal,
        subject: text("投诉"),
        channel: Channel::Phone,
        deadline: beijing("2025-03-12T17:30:00"),
        deadline_working_hours: None,
        policy_number: None,
        claim_number: None,
        contact_id: Some(contact_id(n)),
    }
}

#[test]
fn a_contact_a_case_was_opened_from_is_not_resolved_at_first_contact_in_either_order() {
    let nine = |ledger: &Ledger| {
        let rows = channel_stats(
            &fold(ledger),
            beijing("2025-03-10T09:00:00"),
            beijing("2025-03-10T10:00:00"),
            BucketSize::Hour,
        )
        .unwrap();
        let row = row(&rows, "2025-03-10T09:00:00", Channel::Phone).clone();
        (row.first_contacts, row.resolved_at_first_contact)
    };
    // The week's 09:00 hour: 4 served, 2 resolved (contacts 1 and 5).
    let mut after = week();
    after.record(case_opened_from(1));
    assert_eq!(nine(&after), (4, 1));
    // A correction of the contact keeps it linked to the case.
    after.record(
        ContactRecorded {
            duration_seconds: 150,
            ..contact(1, "2025-03-10T09:05:00", 120)
        }
        .corrected(text("时长")),
    );
    assert_eq!(nine(&after), (4, 1));
    // The case first (an import out of order), then the contact.
    let mut before = Ledger::default();
    before.record(case_opened_from(5));
    for event in week().events {
        before.record(event.event);
    }
    assert_eq!(nine(&before), (4, 1));
}
