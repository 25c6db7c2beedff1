//! Service cases: deadlines on the business calendar, breaches, the open-case queue, first
//! responses, escalations and risk surveys.

use jiff::civil::date;
use ledger_domain::events::{
    CustomerErased, RiskRecommendationFollowedUp, RiskSurveyCompleted, ServiceCaseEscalated,
};
use ledger_domain::ids::CaseId;
use ledger_domain::kinds::{
    ErasureReason, Priority, RecommendationStatus, RiskRecommendation, ServiceCaseKind,
};
use ledger_domain::projection::{MemoryState, StateRead};
use ledger_domain::samples::{staff, text};
use ledger_domain::values::Direction;

use super::*;
use crate::{
    CaseRecord, CaseStatus, CaseStatusFilter, Page, RecommendationRecord, RiskSurveyRecord,
    breached_cases, case, cases, open_cases_by_deadline,
};

fn record(state: &MemoryState, id: CaseId) -> CaseRecord {
    case(state, id).unwrap().expect("the case is stored")
}

fn ids(page: &Page<CaseRecord>) -> Vec<CaseId> {
    page.items.iter().map(|(_, record)| record.id).collect()
}

/// The record of a consultation just opened at `opened` with the recorded deadline
/// `recorded`, before anything else happened to it.
fn fresh(
    id: CaseId,
    opened: &str,
    deadline: &str,
    recorded: &str,
    hours: Option<u16>,
) -> CaseRecord {
    CaseRecord {
        id,
        customer: customer(1),
        kind: ServiceCaseKind::Consultation,
        priority: Priority::Normal,
        status: CaseStatus::Open,
        owner: None,
        opened_at: beijing(opened),
        deadline: beijing(deadline),
        recorded_deadline: beijing(recorded),
        deadline_working_hours: hours,
        first_response_at: None,
        first_non_contact_response_at: None,
        resolved_at: None,
        closed_at: None,
        reopened_count: 0,
        escalation_level: 0,
        time_to_first_response_seconds: None,
        time_to_resolution_seconds: None,
        resolved_late: None,
        late_resolutions: 0,
        policy_number: None,
        claim_number: None,
        opening_contact: None,
        subject: Some(text("咨询理赔进度")),
        resolution: None,
        risk_survey: None,
        calendar_notes: Vec::new(),
        cycle_opened_at: beijing(opened),
        earlier_cycles_open_seconds: Some(0),
    }
}

#[test]
fn an_evening_case_with_eight_working_hours_is_due_at_close_of_the_next_working_day() {
    // (opened, expected deadline): the recorded deadline is a naive "24 hours later".
    let cases = [
        // Friday evening: due Monday, not Saturday.
        ("2025-03-07T17:30:00", "2025-03-10T17:30:00"),
        // Friday before the Dragon Boat weekend (Sat 05-31 to Mon 06-02 off): due Tuesday.
        ("2025-05-30T17:30:00", "2025-06-03T17:30:00"),
        // Friday before a make-up Saturday (2025-10-11): due that Saturday.
        ("2025-10-10T17:30:00", "2025-10-11T17:30:00"),
        // Friday before a make-up Sunday (2025-09-28): due that Sunday.
        ("2025-09-26T17:30:00", "2025-09-28T17:30:00"),
        // The eve of the National Day week (10-01 to 10-08 off): due Thursday 10-09.
        ("2025-09-30T17:30:00", "2025-10-09T17:30:00"),
    ];
    for (index, (opened_at, due)) in cases.into_iter().enumerate() {
        let id = case_id(u16::try_from(index).unwrap());
        let naive = beijing(opened_at)
            .checked_add(jiff::SignedDuration::from_hours(24))
            .unwrap();
        let recorded = naive
            .to_zoned(jiff::tz::TimeZone::fixed(jiff::tz::offset(8)))
            .datetime()
            .to_string();
        let mut ledger = Ledger::new();
        ledger.at(opened_at, opened(id, customer(1), &recorded, Some(8)));

        let state = fold(&ledger);

        assert_eq!(
            record(&state, id),
            fresh(id, opened_at, due, &recorded, Some(8)),
            "opened {opened_at}"
        );
    }
}

#[test]
fn a_deadline_the_calendar_cannot_compute_falls_back_to_the_recorded_one_with_a_note() {
    let id = case_id(1);
    let mut ledger = Ledger::new();
    ledger
        .at(
            "2030-01-04T17:30:00",
            opened(id, customer(1), "2030-01-07T17:30:00", Some(8)),
        )
        .at("2030-01-07T10:00:00", resolved(id, customer(1)));

    let state = fold(&ledger);

    let record = record(&state, id);
    assert_eq!(record.deadline, beijing("2030-01-07T17:30:00"));
    assert_eq!(record.resolved_late, Some(false));
    assert_eq!(record.time_to_first_response_seconds, None);
    assert_eq!(record.time_to_resolution_seconds, None);
    assert_eq!(
        record.calendar_notes.len(),
        3,
        "{:?}",
        record.calendar_notes
    );
    assert!(
        record.calendar_notes[0].starts_with("deadline: 2030 is not covered"),
        "{:?}",
        record.calendar_notes
    );
    assert!(
        record.calendar_notes[0].ends_with("the recorded deadline 2030-01-07T09:30:00Z is used")
    );
    assert!(record.calendar_notes[1].starts_with("time to first response: 2030"));
    assert!(record.calendar_notes[2].starts_with("time to resolution: 2030"));
}

#[test]
fn a_case_resolved_after_its_deadline_is_breached_and_one_resolved_before_is_not() {
    let (late, on_time) = (case_id(1), case_id(2));
    let mut ledger = Ledger::new();
    ledger
        // Monday 09:00 + 8 working hours: 7.5 h on Monday, 0.5 h on Tuesday, due Tue 09:00.
        .at(
            "2025-03-10T09:00:00",
            opened(late, customer(1), "2025-03-11T09:00:00", Some(8)),
        )
        .at(
            "2025-03-10T09:00:00",
            opened(on_time, customer(1), "2025-03-11T09:00:00", Some(8)),
        )
        .at(
            "2025-03-10T09:30:00",
            assigned(late, customer(1), "agent-0042"),
        )
        .at("2025-03-10T16:00:00", resolved(on_time, customer(1)))
        .at("2025-03-11T09:00:00", closed(on_time, customer(1)))
        .at("2025-03-11T10:00:00", resolved(late, customer(1)));

    let state = fold(&ledger);

    let opened_at = "2025-03-10T09:00:00";
    let due = "2025-03-11T09:00:00";
    assert_eq!(
        record(&state, late),
        CaseRecord {
            status: CaseStatus::Resolved,
            owner: Some(staff("agent-0042")),
            first_response_at: Some(beijing("2025-03-10T09:30:00")),
            first_non_contact_response_at: Some(beijing("2025-03-10T09:30:00")),
            resolved_at: Some(beijing("2025-03-11T10:00:00")),
            time_to_first_response_seconds: Some(30 * 60),
            // 7.5 working hours on Monday and 1.5 on Tuesday morning.
            time_to_resolution_seconds: Some(9 * 3600),
            resolved_late: Some(true),
            late_resolutions: 1,
            resolution: Some(text("已答复客户")),
            ..fresh(late, opened_at, due, due, Some(8))
        }
    );
    assert_eq!(
        record(&state, on_time),
        CaseRecord {
            status: CaseStatus::Closed,
            resolution: Some(text("已答复客户")),
            first_response_at: Some(beijing("2025-03-10T16:00:00")),
            first_non_contact_response_at: Some(beijing("2025-03-10T16:00:00")),
            resolved_at: Some(beijing("2025-03-10T16:00:00")),
            closed_at: Some(beijing("2025-03-11T09:00:00")),
            // 09:00-12:00 and 13:00-16:00: the lunch hour does not count.
            time_to_first_response_seconds: Some(6 * 3600),
            time_to_resolution_seconds: Some(6 * 3600),
            resolved_late: Some(false),
            ..fresh(on_time, opened_at, due, due, Some(8))
        }
    );
    let breached = breached_cases(&state, beijing("2025-03-20T09:00:00"), None, 10).unwrap();
    assert_eq!(ids(&breached), vec![late]);
    assert!(record(&state, late).is_breached(beijing("2025-03-10T09:00:00")));
    assert!(!record(&state, on_time).is_breached(beijing("2025-03-20T09:00:00")));
}

#[test]
fn a_case_resolved_late_then_reopened_and_resolved_on_time_stays_breached() {
    let (fixed, on_time, overdue) = (case_id(1), case_id(2), case_id(3));
    let mut ledger = Ledger::new();
    ledger
        .at(
            "2025-03-10T09:00:00",
            opened(fixed, customer(1), "2025-03-11T09:00:00", None),
        )
        .at(
            "2025-03-10T09:00:00",
            opened(on_time, customer(2), "2025-03-11T09:00:00", None),
        )
        .at(
            "2025-03-10T09:30:00",
            opened(overdue, customer(3), "2025-03-11T12:00:00", None),
        )
        .at("2025-03-10T16:00:00", resolved(on_time, customer(2)))
        // An hour past its deadline: a breach.
        .at("2025-03-11T10:00:00", resolved(fixed, customer(1)))
        .at(
            "2025-03-12T09:00:00",
            reopened(fixed, customer(1), "2025-03-14T17:30:00"),
        )
        .at(
            "2025-03-12T09:00:00",
            reopened(on_time, customer(2), "2025-03-17T17:30:00"),
        );
    let state = fold(&ledger);
    let all_breached = |state: &MemoryState, now: &str| {
        ids(&breached_cases(state, beijing(now), None, 10).unwrap())
    };

    // Reopened and within its new deadline, the late case is still breached (not overdue),
    // after the case open past its deadline: the breached open cases in deadline order.
    let reopened_late = record(&state, fixed);
    assert_eq!(reopened_late.status, CaseStatus::Open);
    assert_eq!(reopened_late.resolved_late, None, "the new cycle is open");
    assert_eq!(reopened_late.late_resolutions, 1);
    assert!(reopened_late.is_breached(beijing("2025-03-12T10:00:00")));
    assert!(!reopened_late.is_overdue(beijing("2025-03-12T10:00:00")));
    assert_eq!(
        all_breached(&state, "2025-03-12T10:00:00"),
        vec![overdue, fixed]
    );
    let open_breached = |after: Option<&str>| {
        cases(
            &state,
            Some(CaseStatusFilter::Open),
            true,
            beijing("2025-03-12T10:00:00"),
            after,
            1,
        )
        .unwrap()
    };
    let first_page = open_breached(None);
    assert_eq!(ids(&first_page), vec![overdue]);
    assert!(first_page.has_next_page);
    let second_page = open_breached(Some(&first_page.items[0].0));
    assert_eq!(ids(&second_page), vec![fixed]);
    assert!(!second_page.has_next_page);
    // Past its new deadline too, it is listed once, by that deadline.
    assert_eq!(
        all_breached(&state, "2025-03-14T18:00:00"),
        vec![overdue, fixed]
    );

    // Resolved on time in its second cycle, it stays breached, among the resolved ones.
    ledger
        .at("2025-03-13T10:00:00", resolved(fixed, customer(1)))
        .at("2025-03-13T11:00:00", resolved(on_time, customer(2)));
    let state = fold(&ledger);
    let now = beijing("2025-03-20T09:00:00");
    let fixed_record = record(&state, fixed);
    assert_eq!(fixed_record.status, CaseStatus::Resolved);
    assert_eq!(fixed_record.resolved_late, Some(false));
    assert_eq!(fixed_record.late_resolutions, 1);
    assert!(fixed_record.is_breached(now));
    assert!(!fixed_record.is_overdue(now));
    let on_time_record = record(&state, on_time);
    assert_eq!(on_time_record.resolved_late, Some(false));
    assert_eq!(on_time_record.late_resolutions, 0);
    assert!(!on_time_record.is_breached(now));
    assert_eq!(
        all_breached(&state, "2025-03-20T09:00:00"),
        vec![overdue, fixed]
    );
    let resolved_breached = cases(
        &state,
        Some(CaseStatusFilter::Resolved),
        true,
        now,
        None,
        10,
    )
    .unwrap();
    assert_eq!(ids(&resolved_breached), vec![fixed]);

    // Closed, likewise; and the listing is exactly the cases `is_breached` names.
    ledger.at("2025-03-14T09:00:00", closed(fixed, customer(1)));
    let state = fold(&ledger);
    let closed_breached =
        cases(&state, Some(CaseStatusFilter::Closed), true, now, None, 10).unwrap();
    assert_eq!(ids(&closed_breached), vec![fixed]);
    let mut listed = all_breached(&state, "2025-03-20T09:00:00");
    listed.sort();
    let mut named: Vec<CaseId> = [fixed, on_time, overdue]
        .into_iter()
        .filter(|id| record(&state, *id).is_breached(now))
        .collect();
    named.sort();
    assert_eq!(listed, named);
}

#[test]
fn the_open_queue_is_ordered_by_deadline_and_follows_resolutions_and_reopenings() {
    let (c1, c2, c3) = (case_id(1), case_id(2), case_id(3));
    let mut ledger = Ledger::new();
    ledger
        .at(
            "2025-03-10T09:00:00",
            opened(c1, customer(1), "2025-03-12T17:30:00", None),
        )
        .at(
            "2025-03-10T09:05:00",
            opened(c2, customer(2), "2025-03-11T12:00:00", None),
        )
        .at(
            "2025-03-10T09:10:00",
            opened(c3, customer(1), "2025-03-13T09:00:00", None),
        );
    let mut state = MemoryState::new();
    let projection = projection();
    apply(&projection, &mut state, &ledger.events);
    let open = |state: &MemoryState| ids(&open_cases_by_deadline(state, None, 10).unwrap());
    let open_entries = |state: &MemoryState| {
        state
            .prefix(b"open/", ledger_domain::projection::Order::Ascending, 100)
            .unwrap()
            .len()
    };

    assert_eq!(open(&state), vec![c2, c1, c3]);

    let mut more = Ledger::new();
    more.events = ledger.events.clone();
    more.at("2025-03-11T10:00:00", resolved(c2, customer(2)));
    apply(&projection, &mut state, &more.events[3..]);
    assert_eq!(open(&state), vec![c1, c3]);
    assert_eq!(open_entries(&state), 2);
    let resolved_page = cases(
        &state,
        Some(CaseStatusFilter::Resolved),
        false,
        beijing("2025-03-11T10:00:00"),
        None,
        10,
    )
    .unwrap();
    assert_eq!(ids(&resolved_page), vec![c2]);
    assert_eq!(
        record(&state, c2).resolution.map(|text| text.to_string()),
        Some("已答复客户".to_owned())
    );

    more.at(
        "2025-03-12T09:00:00",
        reopened(c2, customer(2), "2025-03-14T12:00:00"),
    );
    apply(&projection, &mut state, &more.events[4..]);
    assert_eq!(open(&state), vec![c1, c3, c2]);
    assert_eq!(open_entries(&state), 3);
    let reopened = record(&state, c2);
    assert_eq!(reopened.status, CaseStatus::Open);
    assert_eq!(reopened.reopened_count, 1);
    assert_eq!(reopened.resolved_at, None);
    assert_eq!(
        reopened.resolution, None,
        "an open case has no resolution yet"
    );
    assert_eq!(reopened.deadline, beijing("2025-03-14T12:00:00"));
    // Monday 09:05 to Tuesday 10:00 open: 7h25m + 1h30m.
    assert_eq!(
        reopened.earlier_cycles_open_seconds,
        Some(8 * 3600 + 55 * 60)
    );
    assert!(
        cases(
            &state,
            Some(CaseStatusFilter::Resolved),
            false,
            beijing("2025-03-12T09:00:00"),
            None,
            10
        )
        .unwrap()
        .items
        .is_empty()
    );

    // At Wednesday 18:00 only c1 (due Wednesday 17:30) is overdue.
    let overdue = breached_cases(&state, beijing("2025-03-12T18:00:00"), None, 10).unwrap();
    assert_eq!(ids(&overdue), vec![c1]);
    // Exactly at the deadline is not yet a breach.
    let at_deadline = breached_cases(&state, beijing("2025-03-12T17:30:00"), None, 10).unwrap();
    assert!(at_deadline.items.is_empty());

    // Resolved again on Friday 10:00: the second cycle adds Wednesday from 09:00 (7.5 h),
    // Thursday (8 h) and Friday to 10:00 (1.5 h); the time it spent resolved does not count.
    more.at("2025-03-14T10:00:00", resolved(c2, customer(2)));
    apply(&projection, &mut state, &more.events[5..]);
    let again = record(&state, c2);
    assert_eq!(again.resolved_late, Some(false));
    assert_eq!(
        again.time_to_resolution_seconds,
        Some((8 * 3600 + 55 * 60) + (7 * 3600 + 30 * 60) + 8 * 3600 + 90 * 60)
    );
}

#[test]
fn the_first_response_is_the_earliest_outbound_contact_assignment_or_escalation() {
    let id = case_id(1);
    let opening = contact_id(1);
    let mut ledger = Ledger::new();
    ledger
        .at(
            "2025-03-10T09:00:00",
            ServiceCaseOpened {
                contact_id: Some(opening),
                ..opened(id, customer(1), "2025-03-11T17:30:00", None)
            },
        )
        // The contact the case was opened in is not a response ...
        .at(
            "2025-03-10T09:00:00",
            contact(
                opening,
                customer(1),
                id,
                Direction::Outbound,
                "2025-03-10T08:55:00",
            ),
        )
        // ... nor is the customer calling to chase it.
        .at(
            "2025-03-10T10:00:00",
            contact(
                contact_id(2),
                customer(1),
                id,
                Direction::Inbound,
                "2025-03-10T10:00:00",
            ),
        )
        .at(
            "2025-03-10T11:00:00",
            contact(
                contact_id(3),
                customer(1),
                id,
                Direction::Outbound,
                "2025-03-10T11:00:00",
            ),
        );
    let state = fold(&ledger);
    assert_eq!(
        record(&state, id).first_response_at,
        Some(beijing("2025-03-10T11:00:00"))
    );
    assert_eq!(
        record(&state, id).time_to_first_response_seconds,
        Some(2 * 3600)
    );

    // A call-back recorded late but started earlier is the first response after all; a later
    // assignment is not.
    ledger
        .at(
            "2025-03-10T13:00:00",
            contact(
                contact_id(4),
                customer(1),
                id,
                Direction::Outbound,
                "2025-03-10T10:30:00",
            ),
        )
        .at(
            "2025-03-10T14:00:00",
            assigned(id, customer(1), "agent-0042"),
        );
    let state = fold(&ledger);
    let record = record(&state, id);
    assert_eq!(
        record.first_response_at,
        Some(beijing("2025-03-10T10:30:00"))
    );
    assert_eq!(record.time_to_first_response_seconds, Some(90 * 60));
    assert_eq!(record.owner, Some(staff("agent-0042")));
}

#[test]
fn an_escalation_moves_the_deadline_only_when_it_names_a_new_one() {
    let id = case_id(1);
    let escalation = |level: u16, deadline: &str| ServiceCaseEscalated {
        case_id: id,
        customer_id: customer(1),
        escalated_to: staff(&format!("lead-000{level}")),
        reason: text("客户投诉升级"),
        priority: Priority::High,
        deadline: beijing(deadline),
        level,
    };
    let mut ledger = Ledger::new();
    ledger
        .at(
            "2025-03-07T17:30:00",
            opened(id, customer(1), "2025-03-08T17:30:00", Some(8)),
        )
        // Repeats the recorded deadline: the calendar's Monday 17:30 stays.
        .at("2025-03-10T09:00:00", escalation(1, "2025-03-08T17:30:00"));
    let state = fold(&ledger);
    let first = record(&state, id);
    assert_eq!(first.deadline, beijing("2025-03-10T17:30:00"));
    assert_eq!(first.owner, Some(staff("lead-0001")));
    assert_eq!(first.priority, Priority::High);
    assert_eq!(first.escalation_level, 1);
    assert_eq!(first.deadline_working_hours, Some(8), "still the promise");
    assert_eq!(
        first.first_response_at,
        Some(beijing("2025-03-10T09:00:00"))
    );
    // Friday 17:30 to Monday 09:00: half an hour of Monday morning.
    assert_eq!(first.time_to_first_response_seconds, Some(30 * 60));

    ledger.at("2025-03-10T10:00:00", escalation(2, "2025-03-10T12:00:00"));
    let state = fold(&ledger);
    let second = record(&state, id);
    assert_eq!(second.deadline, beijing("2025-03-10T12:00:00"));
    assert_eq!(second.recorded_deadline, beijing("2025-03-10T12:00:00"));
    assert_eq!(second.escalation_level, 2);
    assert_eq!(
        second.deadline_working_hours, None,
        "a new instant, not 8 hours"
    );
    assert_eq!(
        ids(&open_cases_by_deadline(&state, None, 10).unwrap()),
        vec![id]
    );
    let overdue = breached_cases(&state, beijing("2025-03-10T13:00:00"), None, 10).unwrap();
    assert_eq!(ids(&overdue), vec![id]);
}

#[test]
fn risk_survey_recommendations_carry_their_follow_ups_and_cases_lose_their_text_on_erasure() {
    let (survey_case, other_case) = (case_id(1), case_id(2));
    let recommendation = |number: u16, words: &str| RiskRecommendation {
        number,
        text: text(words),
        due_on: date(2025, 4, 30),
    };
    let follow_up = |number: u16, status: RecommendationStatus| RiskRecommendationFollowedUp {
        case_id: survey_case,
        customer_id: customer(1),
        recommendation: number,
        status,
        note: text("电话回访"),
        followed_up_by: staff("risk-0003"),
    };
    let mut ledger = Ledger::new();
    ledger
        .at(
            "2025-03-10T09:00:00",
            ServiceCaseOpened {
                kind: ServiceCaseKind::RiskSurvey,
                ..opened(survey_case, customer(1), "2025-03-21T17:30:00", None)
            },
        )
        .at(
            "2025-03-10T09:00:00",
            ServiceCaseOpened {
                kind: ServiceCaseKind::RiskSurvey,
                ..opened(other_case, customer(2), "2025-03-21T17:30:00", None)
            },
        )
        .at(
            "2025-03-12T15:00:00",
            RiskSurveyCompleted {
                case_id: survey_case,
                customer_id: customer(1),
                surveyor: staff("risk-0001"),
                findings: text("车队停车场消防设施不足"),
                recommendations: vec![
                    recommendation(1, "增配灭火器"),
                    recommendation(2, "夜间安排巡逻"),
                    recommendation(3, "驾驶员安全培训"),
                ],
            },
        )
        .at(
            "2025-03-12T15:00:00",
            RiskSurveyCompleted {
                case_id: other_case,
                customer_id: customer(2),
                surveyor: staff("risk-0001"),
                findings: text("无重大隐患"),
                recommendations: vec![recommendation(1, "定期检查轮胎")],
            },
        )
        .at(
            "2025-04-01T10:00:00",
            follow_up(1, RecommendationStatus::Implemented),
        )
        .at(
            "2025-04-02T10:00:00",
            follow_up(3, RecommendationStatus::NotStarted),
        )
        .at(
            "2025-04-20T10:00:00",
            follow_up(3, RecommendationStatus::InProgress),
        )
        // No recommendation 9: nothing changes.
        .at(
            "2025-04-21T10:00:00",
            follow_up(9, RecommendationStatus::Declined),
        );

    let state = fold(&ledger);

    let followed = |number: u16, words: &str, status, count: u16, at: &str| RecommendationRecord {
        number,
        text: Some(text(words)),
        due_on: date(2025, 4, 30),
        followed_up: true,
        status: Some(status),
        follow_ups: count,
        last_followed_up_at: Some(beijing(at)),
        last_followed_up_by: Some(staff("risk-0003")),
    };
    let expected = RiskSurveyRecord {
        completed_at: beijing("2025-03-12T15:00:00"),
        surveyor: staff("risk-0001"),
        recommendations: vec![
            followed(
                1,
                "增配灭火器",
                RecommendationStatus::Implemented,
                1,
                "2025-04-01T10:00:00",
            ),
            RecommendationRecord {
                number: 2,
                text: Some(text("夜间安排巡逻")),
                due_on: date(2025, 4, 30),
                followed_up: false,
                status: None,
                follow_ups: 0,
                last_followed_up_at: None,
                last_followed_up_by: None,
            },
            followed(
                3,
                "驾驶员安全培训",
                RecommendationStatus::InProgress,
                2,
                "2025-04-20T10:00:00",
            ),
        ],
    };
    assert_eq!(
        record(&state, survey_case).risk_survey,
        Some(expected.clone())
    );

    ledger.at(
        "2025-05-01T10:00:00",
        CustomerErased {
            customer_id: customer(1),
            reason: ErasureReason::CustomerRequest,
        },
    );
    let state = fold(&ledger);
    // The case's own text goes too; the other customer's stays.
    assert_eq!(record(&state, survey_case).subject, None);
    assert_eq!(
        record(&state, other_case).subject,
        Some(text("咨询理赔进度"))
    );
    let erased = record(&state, survey_case).risk_survey.unwrap();
    assert!(erased.recommendations.iter().all(|r| r.text.is_none()));
    assert_eq!(
        erased.recommendations[2].follow_ups, 2,
        "follow-ups survive erasure"
    );
    let untouched = record(&state, other_case).risk_survey.unwrap();
    assert_eq!(
        untouched.recommendations[0].text,
        Some(text("定期检查轮胎"))
    );
}
