//! Tests of the customer timeline: given hand-made events, then exactly these pages.

mod redacted;
mod support;

use std::cell::Cell;

use jiff::{SignedDuration, Timestamp};
use ledger_domain::events::{
    ClaimReported, ContactRecorded, CustomerErased, CustomerRegistered, CustomersMerged, Event,
    PolicyRenewed, SatisfactionRecorded,
};
use ledger_domain::ids::{ContactId, CustomerId, Position};
use ledger_domain::kinds::{ContactOutcome, CustomerKind, ErasureReason, ProductLine};
use ledger_domain::projection::{Entry, MemoryState, Order, Projection, StateError, StateRead};
use ledger_domain::samples::{self, name, staff, text};
use ledger_domain::values::{
    Channel, ClaimNumber, Csat, Direction, Money, Nps, PolicyNumber, Topic,
};
use proptest::prelude::*;
use uuid::Uuid;

use self::support::{History, apply, customer};
use crate::{
    CustomerTimeline, PageRequest, TIMELINE_PAGE_MAX, TIMELINE_SCAN_MAX, TimelineEntry,
    TimelineError, TimelineFilter, TimelinePage, entry_count, page,
};

const ZHANG: u128 = 1;
const DUPLICATE: u128 = 2;
const LI: u128 = 3;

fn contact_id(n: u128) -> ContactId {
    ContactId::from_uuid(Uuid::from_u128(
        0x0190_a5e2_8c3b_7d4e_9f00_0002_0000_0000 | n,
    ))
}

/// A contact with `customer(n)`: summary `summary`, outcome RESOLVED, agent-0042.
fn contact(
    n: u128,
    contact: u128,
    channel: Channel,
    direction: Direction,
    topic: Topic,
    summary: &str,
) -> ContactRecorded {
    ContactRecorded {
        contact_id: contact_id(contact),
        customer_id: customer(n),
        channel,
        direction,
        agent: staff("agent-0042"),
        started_at: samples::sample_time(),
        duration_seconds: 120,
        topic,
        summary: text(summary),
        outcome: ContactOutcome::Resolved,
        policy_number: None,
        claim_number: None,
        case_id: None,
        campaign_id: None,
        enquiry_id: None,
    }
}

fn registered(n: u128, full_name: &str) -> CustomerRegistered {
    CustomerRegistered {
        customer_id: customer(n),
        kind: CustomerKind::Individual,
        name: name(full_name),
        group: None,
        address: None,
        identifiers: Vec::new(),
    }
}

fn all(first: usize) -> PageRequest {
    PageRequest::First { first, after: None }
}

fn read(state: &dyn StateRead, n: u128, filter: &TimelineFilter) -> TimelinePage {
    page(state, customer(n), filter, &all(TIMELINE_PAGE_MAX)).unwrap()
}

fn positions(page: &TimelinePage) -> Vec<u64> {
    page.entries
        .iter()
        .map(|(_, entry)| entry.position.get())
        .collect()
}

fn titles(page: &TimelinePage) -> Vec<&str> {
    page.entries
        .iter()
        .map(|(_, entry)| entry.title.as_str())
        .collect()
}

#[test]
fn a_contact_reads_at_a_glance() {
    let mut history = History::new();
    let contact = samples::sample_contact();
    let at = history.record(contact.clone());
    let state = history.fold(&CustomerTimeline);
    let page = read(&state, 0, &TimelineFilter::default());
    assert!(
        page.entries.is_empty(),
        "customer(0) is not the samples' 张三"
    );

    let page = page_of(&state, samples::individual_customer_id(), &all(10));
    assert_eq!(page.entries.len(), 1);
    assert_eq!(
        page.entries[0].1,
        TimelineEntry {
            position: Position(1),
            event_id: history.recorded[0].event_id,
            occurred_at: at,
            kind: "ContactRecorded".to_owned(),
            title: "Inbound PHONE call — CLAIM_REPORT".to_owned(),
            channel: Some(Channel::Phone),
            direction: Some(Direction::Inbound),
            topic: Some(Topic::ClaimReport),
            agent: Some(staff("agent-0042")),
            summary: Some(contact.summary.to_string()),
            outcome: Some("FOLLOW_UP_NEEDED".to_owned()),
            policy: Some(samples::policy_number()),
            claim: Some(samples::claim_number()),
            case: Some(samples::case_id()),
            campaign: None,
            contact: Some(samples::contact_id()),
            amount_fen: None,
            duration_seconds: Some(312),
            csat: None,
            nps: None,
            recorded_for: samples::individual_customer_id(),
            corrected: false,
            erased: false,
        }
    );
    assert!(!page.has_next_page && !page.has_previous_page);
    assert_eq!(page.start_cursor, page.end_cursor);
    assert_eq!(
        page.start_cursor.as_deref(),
        Some(page.entries[0].0.as_str())
    );
}

fn page_of(state: &dyn StateRead, customer: CustomerId, request: &PageRequest) -> TimelinePage {
    page(state, customer, &TimelineFilter::default(), request).unwrap()
}

#[test]
fn policies_claims_and_surveys_have_titles_with_their_facts() {
    let mut history = History::new();
    history.record(PolicyRenewed {
        policy_number: samples::policy_number(),
        customer_id: customer(ZHANG),
        product_lines: vec![ProductLine::CompulsoryTraffic],
        premium: Money::from_fen(345_600),
        previous_premium: Money::from_fen(360_000),
        period_start: jiff::civil::date(2025, 3, 16),
        period_end: jiff::civil::date(2026, 3, 15),
        sales_channel: Channel::WeChat,
        campaign_id: None,
    });
    history.record(ClaimReported {
        claim_number: ClaimNumber::parse("claimNumber", "CJLA2024000456").unwrap(),
        policy_number: PolicyNumber::parse("policyNumber", "PJLA2024000123").unwrap(),
        customer_id: customer(ZHANG),
        loss_occurred_at: samples::sample_time(),
        location: text("人民大街"),
        description: text("追尾"),
        plate: None,
        reported_via: Channel::App,
        injuries: false,
        estimated_loss: Some(Money::from_fen(300_000)),
        time_guarantee_working_days: Some(5),
    });
    history.record(SatisfactionRecorded {
        customer_id: customer(ZHANG),
        contact_id: None,
        csat: Some(Csat::parse("csat", 2).unwrap()),
        nps: Some(Nps::parse("nps", 3).unwrap()),
        comment: Some(text("等太久了")),
    });
    let state = history.fold(&CustomerTimeline);
    let page = read(&state, ZHANG, &TimelineFilter::default());
    assert_eq!(
        titles(&page),
        [
            "Satisfaction survey: CSAT 2/5, NPS 3/10",
            "Claim CJLA2024000456 reported via APP on policy PJLA2024000123",
            "Policy PJLA2024000123 renewed, premium ¥3,456.00 (was ¥3,600.00)",
        ]
    );
    let (_, survey) = &page.entries[0];
    assert_eq!((survey.csat, survey.nps), (Some(2), Some(3)));
    assert_eq!(survey.summary.as_deref(), Some("等太久了"));
    let (_, claim) = &page.entries[1];
    assert_eq!(claim.amount_fen, Some(300_000));
    assert_eq!(claim.summary.as_deref(), Some("追尾 (人民大街)"));
    assert_eq!(claim.channel, Some(Channel::App));
    assert_eq!(page.entries[2].1.amount_fen, Some(345_600));
}

/// 张三's history: twelve contacts over channels and topics, some imported out of time order,
/// two at the very same instant.
fn zhang_history() -> History {
    let mut history = History::new();
    history.record(registered(ZHANG, "张三"));
    let channels = [
        Channel::Phone,
        Channel::WeChat,
        Channel::Web,
        Channel::Phone,
    ];
    let topics = [Topic::Enquiry, Topic::Complaint, Topic::ClaimReport];
    for n in 0..12_u8 {
        let event = contact(
            ZHANG,
            u128::from(n),
            channels[usize::from(n) % channels.len()],
            Direction::Inbound,
            topics[usize::from(n) % topics.len()],
            &format!("第 {n} 次联系"),
        );
        history.record(event);
    }
    // An import from last year, and two events at one instant.
    let last_year = samples::sample_time() - SignedDuration::from_hours(24 * 365);
    history.record_at(
        last_year,
        contact(
            ZHANG,
            100,
            Channel::Post,
            Direction::Outbound,
            Topic::Renewal,
            "续保通知",
        ),
    );
    let now = samples::sample_time() + SignedDuration::from_hours(24);
    history.record_at(
        now,
        contact(
            ZHANG,
            101,
            Channel::Phone,
            Direction::Outbound,
            Topic::Renewal,
            "同一时刻 A",
        ),
    );
    history.record_at(
        now,
        contact(
            ZHANG,
            102,
            Channel::Phone,
            Direction::Outbound,
            Topic::Renewal,
            "同一时刻 B",
        ),
    );
    history
}

#[test]
fn the_timeline_is_newest_first_by_occurrence_then_position() {
    let history = zhang_history();
    let state = history.fold(&CustomerTimeline);
    let page = read(&state, ZHANG, &TimelineFilter::default());
    let mut expected: Vec<(Timestamp, u64)> = history
        .recorded
        .iter()
        .map(|recorded| (recorded.occurred_at, recorded.position.get()))
        .collect();
    expected.sort_unstable_by(|a, b| b.cmp(a));
    let got: Vec<(Timestamp, u64)> = page
        .entries
        .iter()
        .map(|(_, entry)| (entry.occurred_at, entry.position.get()))
        .collect();
    assert_eq!(got, expected);
    // The two simultaneous events: the later position first. The import is last.
    assert_eq!(&positions(&page)[..2], [16, 15]);
    assert_eq!(positions(&page).last(), Some(&14));
    assert_eq!(entry_count(&state, customer(ZHANG)).unwrap(), 16);
}

#[test]
fn filters_select_channels_kinds_and_a_time_range() {
    let history = zhang_history();
    let state = history.fold(&CustomerTimeline);
    let wechat = TimelineFilter {
        channels: vec![Channel::WeChat],
        ..TimelineFilter::default()
    };
    // Contacts 1, 5 and 9 (positions 3, 7, 11) were on WeChat.
    assert_eq!(positions(&read(&state, ZHANG, &wechat)), [11, 7, 3]);

    let two_channels = TimelineFilter {
        channels: vec![Channel::Post, Channel::Web],
        ..TimelineFilter::default()
    };
    assert_eq!(
        positions(&read(&state, ZHANG, &two_channels)),
        [12, 8, 4, 14]
    );

    let registrations = TimelineFilter {
        kinds: vec!["CustomerRegistered".to_owned()],
        ..TimelineFilter::default()
    };
    assert_eq!(positions(&read(&state, ZHANG, &registrations)), [1]);

    // From the 3rd contact (inclusive) to the 6th (exclusive).
    let at = |position: usize| history.recorded[position - 1].occurred_at;
    let range = TimelineFilter {
        from: Some(at(4)),
        to: Some(at(7)),
        ..TimelineFilter::default()
    };
    assert_eq!(positions(&read(&state, ZHANG, &range)), [6, 5, 4]);
    let range_on_phone = TimelineFilter {
        channels: vec![Channel::Phone],
        ..range.clone()
    };
    assert_eq!(positions(&read(&state, ZHANG, &range_on_phone)), [6, 5]);
    let empty_range = TimelineFilter {
        from: Some(at(4)),
        to: Some(at(4)),
        ..TimelineFilter::default()
    };
    assert!(read(&state, ZHANG, &empty_range).entries.is_empty());
}

/// Walks every page forward with `size`, then every page backward, and checks both against the
/// single full page.
fn check_paging(state: &dyn StateRead, filter: &TimelineFilter, size: usize) {
    let full = page(state, customer(ZHANG), filter, &all(TIMELINE_PAGE_MAX)).unwrap();
    let full = positions(&full);

    let mut forward = Vec::new();
    let mut after = None;
    let mut pages = 0;
    loop {
        let request = PageRequest::First {
            first: size,
            after: after.clone(),
        };
        let got = page(state, customer(ZHANG), filter, &request).unwrap();
        assert_eq!(
            got.has_previous_page,
            pages > 0,
            "size {size}, page {pages}"
        );
        assert!(got.entries.len() <= size);
        forward.extend(positions(&got));
        pages += 1;
        if !got.has_next_page {
            break;
        }
        after = got.end_cursor.clone();
        assert!(pages <= full.len() + 1, "paging forward does not end");
    }
    assert_eq!(forward, full, "forward, size {size}");

    let mut backward: Vec<Vec<u64>> = Vec::new();
    let mut before = None;
    pages = 0;
    loop {
        let request = PageRequest::Last {
            last: size,
            before: before.clone(),
        };
        let got = page(state, customer(ZHANG), filter, &request).unwrap();
        assert_eq!(got.has_next_page, pages > 0, "size {size}, page {pages}");
        // Every page is newest first.
        let got_positions = positions(&got);
        backward.push(got_positions);
        pages += 1;
        if !got.has_previous_page {
            break;
        }
        before = got.start_cursor.clone();
        assert!(pages <= full.len() + 1, "paging backward does not end");
    }
    let backward: Vec<u64> = backward.into_iter().rev().flatten().collect();
    assert_eq!(backward, full, "backward, size {size}");
}

#[test]
fn paging_forward_and_backward_walks_the_same_list() {
    let state = zhang_history().fold(&CustomerTimeline);
    let filters = [
        TimelineFilter::default(),
        TimelineFilter {
            channels: vec![Channel::Phone],
            ..TimelineFilter::default()
        },
        TimelineFilter {
            kinds: vec!["ContactRecorded".to_owned()],
            from: Some(samples::sample_time()),
            ..TimelineFilter::default()
        },
    ];
    for filter in &filters {
        for size in 1..=7 {
            check_paging(&state, filter, size);
        }
    }
}

#[test]
fn a_page_in_the_middle_knows_both_neighbours_and_cursors_work_both_ways() {
    let state = zhang_history().fold(&CustomerTimeline);
    let first = page_of(&state, customer(ZHANG), &all(5));
    let middle = page_of(
        &state,
        customer(ZHANG),
        &PageRequest::First {
            first: 5,
            after: first.end_cursor.clone(),
        },
    );
    assert!(middle.has_next_page && middle.has_previous_page);
    // Going back from the middle page's first entry gives the first page again.
    let back = page_of(
        &state,
        customer(ZHANG),
        &PageRequest::Last {
            last: 5,
            before: middle.start_cursor.clone(),
        },
    );
    assert_eq!(positions(&back), positions(&first));
    assert!(!back.has_previous_page && back.has_next_page);
    // Zero entries is a valid request that still says whether any follow.
    let none = page_of(&state, customer(ZHANG), &all(0));
    assert!(none.entries.is_empty() && none.has_next_page && none.end_cursor.is_none());
}

#[test]
fn bad_requests_are_errors_not_short_pages() {
    let state = zhang_history().fold(&CustomerTimeline);
    let filter = TimelineFilter::default();
    let too_many = PageRequest::First {
        first: TIMELINE_PAGE_MAX + 1,
        after: None,
    };
    assert_eq!(
        page(&state, customer(ZHANG), &filter, &too_many),
        Err(TimelineError::PageTooLarge {
            requested: TIMELINE_PAGE_MAX + 1,
            max: TIMELINE_PAGE_MAX
        })
    );
    let too_many_back = PageRequest::Last {
        last: 1_000,
        before: None,
    };
    assert!(matches!(
        page(&state, customer(ZHANG), &filter, &too_many_back),
        Err(TimelineError::PageTooLarge {
            requested: 1_000,
            ..
        })
    ));
    for bad in ["", "zz", "0123", &"0".repeat(49)] {
        let request = PageRequest::First {
            first: 5,
            after: Some(bad.to_owned()),
        };
        assert_eq!(
            page(&state, customer(ZHANG), &filter, &request),
            Err(TimelineError::BadCursor),
            "{bad:?}"
        );
    }
    let unknown = TimelineFilter {
        kinds: vec!["ContactRecored".to_owned()],
        ..TimelineFilter::default()
    };
    assert_eq!(
        page(&state, customer(ZHANG), &unknown, &all(5)),
        Err(TimelineError::UnknownKind("ContactRecored".to_owned()))
    );
    let now = samples::sample_time();
    let inverted = TimelineFilter {
        from: Some(now),
        to: Some(now - SignedDuration::from_secs(1)),
        ..TimelineFilter::default()
    };
    assert!(matches!(
        page(&state, customer(ZHANG), &inverted, &all(5)),
        Err(TimelineError::InvertedRange { .. })
    ));
}

/// 张三 and his duplicate registration, contacted in turns, then merged.
fn merged_history() -> History {
    let mut history = History::new();
    history.record(registered(ZHANG, "张三"));
    history.record(registered(DUPLICATE, "张三"));
    for n in 0..6 {
        let who = if n % 2 == 0 { ZHANG } else { DUPLICATE };
        history.record(contact(
            who,
            n,
            Channel::Phone,
            Direction::Inbound,
            Topic::Enquiry,
            &format!("contact {n} of {who}"),
        ));
    }
    history.record(CustomersMerged {
        customer_id: customer(DUPLICATE),
        survivor_id: customer(ZHANG),
        identifiers: Vec::new(),
        reason: Some(text("同一身份证号重复建档")),
    });
    // After the merge, an event for the duplicate (a claim system that still knows the old id).
    history.record(contact(
        DUPLICATE,
        50,
        Channel::WeChat,
        Direction::Inbound,
        Topic::Feedback,
        "late",
    ));
    history
}

#[test]
fn the_survivor_s_timeline_holds_both_histories_in_order() {
    let state = merged_history().fold(&CustomerTimeline);
    let survivor = read(&state, ZHANG, &TimelineFilter::default());
    assert_eq!(positions(&survivor), [10, 9, 8, 7, 6, 5, 4, 3, 2, 1]);
    assert_eq!(
        survivor.entries[1].1.title,
        format!("Customer {} merged into this customer", customer(DUPLICATE))
    );
    assert_eq!(
        survivor.entries[1].1.summary.as_deref(),
        Some("同一身份证号重复建档")
    );
    let recorded_for: Vec<u128> = survivor
        .entries
        .iter()
        .map(|(_, entry)| {
            if entry.recorded_for == customer(ZHANG) {
                ZHANG
            } else {
                DUPLICATE
            }
        })
        .collect();
    assert_eq!(recorded_for, [2, 2, 2, 1, 2, 1, 2, 1, 2, 1]);
    assert_eq!(entry_count(&state, customer(ZHANG)).unwrap(), 10);

    // The duplicate's own timeline stops at the merge.
    let duplicate = read(&state, DUPLICATE, &TimelineFilter::default());
    assert_eq!(positions(&duplicate), [9, 8, 6, 4, 2]);
    assert_eq!(
        duplicate.entries[0].1.title,
        format!("Merged into customer {}", customer(ZHANG))
    );
    assert_eq!(entry_count(&state, customer(DUPLICATE)).unwrap(), 5);
}

#[test]
fn merges_chain_and_a_cycle_is_ignored() {
    let mut history = merged_history();
    history.record(registered(LI, "李四"));
    history.record(CustomersMerged {
        customer_id: customer(ZHANG),
        survivor_id: customer(LI),
        identifiers: Vec::new(),
        reason: None,
    });
    // LI into DUPLICATE would close DUPLICATE → ZHANG → LI → DUPLICATE.
    history.record(CustomersMerged {
        customer_id: customer(LI),
        survivor_id: customer(DUPLICATE),
        identifiers: Vec::new(),
        reason: None,
    });
    history.record(contact(
        DUPLICATE,
        60,
        Channel::Fax,
        Direction::Inbound,
        Topic::Enquiry,
        "fax",
    ));
    let state = history.fold(&CustomerTimeline);
    let li = read(&state, LI, &TimelineFilter::default());
    // Everything of ZHANG's (his and the duplicate's history, both merges) and LI's own.
    assert_eq!(positions(&li), [14, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1]);
    assert_eq!(entry_count(&state, customer(LI)).unwrap(), 13);
}

#[test]
fn an_erased_customer_s_timeline_keeps_no_personal_text() {
    let mut history = merged_history();
    // The duplicate is erased after the merge: its entries on the survivor lose their text,
    // the survivor's own entries keep theirs.
    history.record(CustomerErased {
        customer_id: customer(DUPLICATE),
        reason: ErasureReason::CustomerRequest,
    });
    let state = history.fold(&CustomerTimeline);
    let survivor = read(&state, ZHANG, &TimelineFilter::default());
    for (_, entry) in &survivor.entries {
        let from_duplicate = entry.recorded_for == customer(DUPLICATE);
        assert_eq!(entry.erased, from_duplicate, "{}", entry.title);
        assert_eq!(
            entry.summary.is_none(),
            from_duplicate || entry.kind == "CustomerErased"
        );
    }

    // Now 张三 himself is erased; later events for him arrive stripped.
    history.record(CustomerErased {
        customer_id: customer(ZHANG),
        reason: ErasureReason::CustomerRequest,
    });
    history.record(contact(
        ZHANG,
        70,
        Channel::Phone,
        Direction::Outbound,
        Topic::Renewal,
        "again",
    ));
    let state = history.fold(&CustomerTimeline);
    let erased = read(&state, ZHANG, &TimelineFilter::default());
    assert_eq!(erased.entries.len(), 13);
    for (_, entry) in &erased.entries {
        assert!(entry.erased && entry.summary.is_none(), "{entry:?}");
        // Non-personal facts stay.
        if entry.kind == "ContactRecorded" {
            assert!(entry.channel.is_some() && entry.agent.is_some() && entry.outcome.is_some());
        }
    }
    assert_eq!(
        erased.entries[1].1.title,
        "Personal data erased (CUSTOMER_REQUEST)"
    );
    // No personal text of either is left anywhere in the state.
    for (key, value) in state.entries() {
        for needle in ["contact", "同一身份证号", "again", "张三", "late"] {
            assert!(
                !value
                    .windows(needle.len())
                    .any(|window| window == needle.as_bytes()),
                "{key:02x?} still holds {needle}"
            );
        }
    }
}

#[test]
fn a_correction_replaces_the_contact_wherever_it_was_copied() {
    let mut history = merged_history();
    // Contact 1 was the duplicate's, copied to 张三 by the merge.
    let original = contact(
        DUPLICATE,
        1,
        Channel::Phone,
        Direction::Inbound,
        Topic::Enquiry,
        "x",
    );
    let correction = ContactRecorded {
        channel: Channel::WeChat,
        topic: Topic::Complaint,
        summary: text("客户投诉理赔进度慢"),
        outcome: ContactOutcome::FollowUpNeeded,
        ..original
    }
    .corrected(text("录入错误"));
    history.record(correction);
    let state = history.fold(&CustomerTimeline);
    for timeline in [ZHANG, DUPLICATE] {
        let entries = read(&state, timeline, &TimelineFilter::default()).entries;
        let (_, corrected) = entries
            .iter()
            .find(|(_, entry)| entry.contact == Some(contact_id(1)))
            .unwrap();
        assert!(corrected.corrected);
        assert_eq!(
            corrected.position,
            Position(4),
            "the entry keeps its position"
        );
        assert_eq!(corrected.kind, "ContactRecorded");
        assert_eq!(corrected.title, "Inbound WECHAT conversation — COMPLAINT");
        assert_eq!(corrected.summary.as_deref(), Some("客户投诉理赔进度慢"));
        assert_eq!(corrected.outcome.as_deref(), Some("FOLLOW_UP_NEEDED"));
        assert_eq!(corrected.channel, Some(Channel::WeChat));
    }
    assert_eq!(entry_count(&state, customer(ZHANG)).unwrap(), 10);
    assert_eq!(
        read(&state, ZHANG, &TimelineFilter::default())
            .entries
            .len(),
        10
    );
}

#[test]
fn a_correction_of_a_contact_s_time_moves_its_entry_wherever_it_was_copied() {
    let mut history = merged_history();
    // Contact 1 was the duplicate's, copied to 张三 by the merge; it was entered with the
    // wrong date: it took place a month earlier and lasted five minutes.
    let original = contact(
        DUPLICATE,
        1,
        Channel::Phone,
        Direction::Inbound,
        Topic::Enquiry,
        "contact 1",
    );
    let started = samples::sample_time() - SignedDuration::from_hours(24 * 30);
    let ended = started + SignedDuration::from_secs(300);
    history.record(
        ContactRecorded {
            started_at: started,
            duration_seconds: 300,
            ..original.clone()
        }
        .corrected(text("日期录入错误")),
    );
    let around = |at: Timestamp| TimelineFilter {
        from: Some(at),
        to: Some(at + SignedDuration::from_secs(1)),
        ..TimelineFilter::default()
    };
    let state = history.fold(&CustomerTimeline);
    for timeline in [ZHANG, DUPLICATE] {
        let entries = read(&state, timeline, &TimelineFilter::default()).entries;
        let (_, oldest) = entries.last().unwrap();
        assert_eq!(oldest.contact, Some(contact_id(1)), "now the oldest entry");
        assert_eq!(oldest.occurred_at, ended);
        assert_eq!(oldest.position, Position(4));
        let moved = entries
            .iter()
            .filter(|(_, entry)| entry.contact == Some(contact_id(1)))
            .count();
        assert_eq!(moved, 1, "moved, not copied");
        assert_eq!(positions(&read(&state, timeline, &around(ended))), [4]);
    }
    assert_eq!(entry_count(&state, customer(ZHANG)).unwrap(), 10);

    // Corrected again, to when it was first said to end: the entry follows again.
    let first_end = original.ended_at().unwrap();
    history.record(original.corrected(text("改回")));
    let state = history.fold(&CustomerTimeline);
    for timeline in [ZHANG, DUPLICATE] {
        assert!(read(&state, timeline, &around(ended)).entries.is_empty());
        let page = read(&state, timeline, &around(first_end));
        let (_, entry) = page
            .entries
            .iter()
            .find(|(_, entry)| entry.contact == Some(contact_id(1)))
            .unwrap();
        assert_eq!(entry.occurred_at, first_end);
    }
    assert_eq!(entry_count(&state, customer(ZHANG)).unwrap(), 10);
}

#[test]
fn a_past_timeline_shows_as_erased_what_was_erased_since() {
    let history = merged_history();
    let mut past = history.fold(&CustomerTimeline);
    let mut later = history;
    later.record(CustomerErased {
        customer_id: customer(DUPLICATE),
        reason: ErasureReason::CustomerRequest,
    });
    let live = later.fold(&CustomerTimeline);
    crate::strip_erased_since(&mut past, &live, customer(ZHANG)).unwrap();
    let entries = read(&past, ZHANG, &TimelineFilter::default()).entries;
    assert_eq!(entries.len(), 10);
    for (_, entry) in &entries {
        let duplicates = entry.recorded_for == customer(DUPLICATE);
        assert_eq!(entry.erased, duplicates, "{entry:?}");
        assert_eq!(entry.summary.is_none(), duplicates, "{entry:?}");
    }
    // The owner erased: everything on the timeline.
    crate::strip_erased_since(&mut past, &live, customer(DUPLICATE)).unwrap();
    let entries = read(&past, DUPLICATE, &TimelineFilter::default()).entries;
    assert!(!entries.is_empty());
    assert!(
        entries
            .iter()
            .all(|(_, entry)| entry.erased && entry.summary.is_none())
    );
}

/// A state that counts the reads made through it.
struct CountingState<'a> {
    inner: &'a MemoryState,
    gets: Cell<usize>,
    ranges: Cell<usize>,
    rows: Cell<usize>,
}

impl StateRead for CountingState<'_> {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StateError> {
        self.gets.set(self.gets.get() + 1);
        self.inner.get(key)
    }

    fn range(
        &self,
        start: &[u8],
        end: &[u8],
        order: Order,
        limit: usize,
    ) -> Result<Vec<Entry>, StateError> {
        let rows = self.inner.range(start, end, order, limit)?;
        self.ranges.set(self.ranges.get() + 1);
        self.rows.set(self.rows.get() + rows.len());
        Ok(rows)
    }
}

/// `count` phone contacts with 张三, a minute apart, after one WeChat contact.
fn long_history(count: u32) -> History {
    let mut history = History::new();
    history.record(contact(
        ZHANG,
        0,
        Channel::WeChat,
        Direction::Inbound,
        Topic::Enquiry,
        "the one",
    ));
    for n in 1..=count {
        history.record(contact(
            ZHANG,
            u128::from(n),
            Channel::Phone,
            Direction::Inbound,
            Topic::Enquiry,
            "call",
        ));
    }
    history
}

#[test]
fn the_first_page_is_one_short_range_read() {
    let state = long_history(2_000).fold(&CustomerTimeline);
    let counting = CountingState {
        inner: &state,
        gets: Cell::new(0),
        ranges: Cell::new(0),
        rows: Cell::new(0),
    };
    let first = page(
        &counting,
        customer(ZHANG),
        &TimelineFilter::default(),
        &all(50),
    )
    .unwrap();
    assert_eq!(first.entries.len(), 50);
    assert_eq!(
        (
            counting.gets.get(),
            counting.ranges.get(),
            counting.rows.get()
        ),
        (0, 1, 51)
    );
    assert_eq!(first.entries[0].1.position, Position(2_001));
}

#[test]
fn a_selective_filter_stops_at_the_scan_bound_and_paging_resumes_there() {
    let count = u32::try_from(TIMELINE_SCAN_MAX).unwrap() + 10;
    let state = long_history(count).fold(&CustomerTimeline);
    let wechat = TimelineFilter {
        channels: vec![Channel::WeChat],
        ..TimelineFilter::default()
    };
    let first = page(&state, customer(ZHANG), &wechat, &all(50)).unwrap();
    assert!(first.entries.is_empty());
    assert!(first.has_next_page);
    let resume = first.end_cursor.clone();
    assert!(resume.is_some());
    let request = PageRequest::First {
        first: 50,
        after: resume,
    };
    let second = page(&state, customer(ZHANG), &wechat, &request).unwrap();
    assert_eq!(positions(&second), [1]);
    assert!(!second.has_next_page);
    // Going backward from the oldest end finds it at once.
    let oldest = page(
        &state,
        customer(ZHANG),
        &wechat,
        &PageRequest::Last {
            last: 1,
            before: None,
        },
    )
    .unwrap();
    assert_eq!(positions(&oldest), [1]);
    // Unfiltered, the same timeline pages normally.
    let unfiltered = page_of(&state, customer(ZHANG), &all(3));
    assert_eq!(unfiltered.entries.len(), 3);
}

#[test]
fn every_sample_event_folds() {
    let mut history = History::new();
    for event in samples::sample_events() {
        history.record(event);
    }
    let state = history.fold(&CustomerTimeline);
    let zhang = page_of(
        &state,
        samples::individual_customer_id(),
        &all(TIMELINE_PAGE_MAX),
    );
    // Every event naming 张三 (or his merged duplicate) but the correction, which rewrote the
    // contact, is on his timeline.
    let expected = history
        .recorded
        .iter()
        .filter(|recorded| {
            let ids = recorded.event.customer_ids();
            let concerns = ids.contains(&samples::individual_customer_id())
                || ids.contains(&samples::duplicate_customer_id());
            concerns && !matches!(recorded.event, Event::ContactCorrected(_))
        })
        .count();
    assert_eq!(zhang.entries.len(), expected);
    let contact = zhang
        .entries
        .iter()
        .find(|(_, entry)| entry.kind == "ContactRecorded")
        .unwrap();
    assert!(contact.1.corrected);
    assert_eq!(contact.1.duration_seconds, Some(372));
    assert_eq!(CustomerTimeline.name(), "customer-timeline");
    // Deadlines in titles read as the call centre's clocks do.
    let titles: Vec<&str> = zhang
        .entries
        .iter()
        .map(|(_, entry)| entry.title.as_str())
        .filter(|title| title.contains(", due "))
        .collect();
    assert!(!titles.is_empty());
    assert!(
        titles
            .iter()
            .all(|title| title.ends_with(" Beijing time") || title.ends_with(" working hours")),
        "{titles:?}"
    );
    // A count's noun agrees with it.
    let requested = zhang
        .entries
        .iter()
        .find(|(_, entry)| entry.kind == "ClaimDocumentsRequested")
        .map(|(_, entry)| entry.title.as_str())
        .unwrap();
    let count: usize = requested
        .split(": ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|count| count.parse().ok())
        .unwrap();
    let noun = if count == 1 {
        " document requested"
    } else {
        " documents requested"
    };
    assert!(requested.contains(&format!("{count}{noun}")), "{requested}");
    assert_eq!(CustomerTimeline.version(), 5);
}

/// Every path of the fold: contacts, merges, a correction across a merge, erasures.
fn busy_history() -> History {
    let mut history = merged_history();
    let original = contact(
        DUPLICATE,
        3,
        Channel::Phone,
        Direction::Inbound,
        Topic::Enquiry,
        "x",
    );
    history.record(
        ContactRecorded {
            summary: text("更正后的摘要"),
            ..original
        }
        .corrected(text("更正")),
    );
    history.record(registered(LI, "李四"));
    history.record(CustomersMerged {
        customer_id: customer(ZHANG),
        survivor_id: customer(LI),
        identifiers: Vec::new(),
        reason: None,
    });
    history.record(CustomerErased {
        customer_id: customer(DUPLICATE),
        reason: ErasureReason::LegalOrder,
    });
    for event in samples::sample_events() {
        history.record(event);
    }
    history
}

proptest! {
    /// The fold is deterministic and carries no hidden state: folding a history in one go, or
    /// in two parts with a fresh projection and a copied state in between (a restart), gives
    /// the same bytes.
    #[test]
    fn folding_in_one_go_or_in_two_parts_gives_the_same_state(split in 0_usize..60) {
        let history = busy_history();
        let split = split.min(history.recorded.len());
        let whole = history.fold(&CustomerTimeline);

        let mut first_part = MemoryState::new();
        apply(&CustomerTimeline, &history.recorded[..split], &mut first_part);
        let mut restarted = first_part.clone();
        let projection: Box<dyn Projection> = Box::new(CustomerTimeline);
        apply(projection.as_ref(), &history.recorded[split..], &mut restarted);

        prop_assert_eq!(whole.entries(), restarted.entries());
    }
}
