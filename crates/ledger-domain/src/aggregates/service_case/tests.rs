//! Given / when / then tests of the service-case aggregate.

use jiff::SignedDuration;
use jiff::civil::date;

use super::*;
use crate::aggregates::testing::given;
use crate::kinds::{Priority, RecommendationStatus, RiskRecommendation};
use crate::samples::{self, staff, text};
use crate::values::Channel;

fn case() -> CaseId {
    samples::case_id()
}

fn customer() -> CustomerId {
    samples::individual_customer_id()
}

fn deadline() -> Timestamp {
    samples::sample_time() + SignedDuration::from_hours(4)
}

fn open(kind: ServiceCaseKind) -> OpenServiceCase {
    OpenServiceCase {
        case_id: case(),
        customer_id: customer(),
        kind,
        priority: Priority::Normal,
        subject: text("咨询"),
        channel: Channel::Phone,
        deadline: Some(deadline()),
        deadline_working_hours: Some(4),
        policy_number: None,
        claim_number: None,
        contact_id: None,
    }
}

fn opened(kind: ServiceCaseKind) -> Event {
    opened_payload(kind).into()
}

fn opened_payload(kind: ServiceCaseKind) -> ServiceCaseOpened {
    ServiceCaseOpened {
        case_id: case(),
        customer_id: customer(),
        kind,
        priority: Priority::Normal,
        subject: text("咨询"),
        channel: Channel::Phone,
        deadline: deadline(),
        deadline_working_hours: Some(4),
        policy_number: None,
        claim_number: None,
        contact_id: None,
    }
}

fn complaint() -> Event {
    opened(ServiceCaseKind::Complaint)
}

fn resolve() -> ResolveServiceCase {
    ResolveServiceCase {
        case_id: case(),
        resolved_by: staff("agent-0042"),
        resolution: text("已解释"),
    }
}

fn resolved(within_deadline: bool) -> Event {
    ServiceCaseResolved {
        case_id: case(),
        customer_id: customer(),
        resolved_by: staff("agent-0042"),
        resolution: text("已解释"),
        within_deadline,
    }
    .into()
}

fn close() -> CloseServiceCase {
    CloseServiceCase {
        case_id: case(),
        closed_by: staff("tl-0002"),
        customer_confirmed: true,
    }
}

fn closed() -> Event {
    ServiceCaseClosed {
        case_id: case(),
        customer_id: customer(),
        closed_by: staff("tl-0002"),
        customer_confirmed: true,
    }
    .into()
}

fn reopen() -> ReopenServiceCase {
    ReopenServiceCase {
        case_id: case(),
        reason: text("客户不满意"),
        deadline: deadline(),
    }
}

fn reopened() -> Event {
    ServiceCaseReopened {
        case_id: case(),
        customer_id: customer(),
        reason: text("客户不满意"),
        deadline: deadline(),
    }
    .into()
}

fn transition(action: &'static str, state: &str) -> DomainError {
    DomainError::InvalidTransition {
        kind: "service case",
        id: case().to_string(),
        action,
        state: state.to_owned(),
    }
}

#[test]
fn a_case_is_opened_once_with_a_future_deadline() {
    given::<ServiceCase>(&[])
        .when(open(ServiceCaseKind::Complaint))
        .then(&[complaint()]);
    given::<ServiceCase>(&[complaint()])
        .when(open(ServiceCaseKind::Complaint))
        .then_error(DomainError::AlreadyExists {
            kind: "service case",
            id: case().to_string(),
        });
    given::<ServiceCase>(&[])
        .at(deadline())
        .when(open(ServiceCaseKind::Complaint))
        .then_invalid("deadline");
    let mut too_long = open(ServiceCaseKind::Rescue24h);
    too_long.deadline_working_hours = Some(0);
    given::<ServiceCase>(&[])
        .when(too_long)
        .then_invalid("deadlineWorkingHours");
}

#[test]
fn a_deadline_in_working_hours_is_the_business_calendars() {
    use crate::aggregates::FixedContext;
    // On the calendar, 4 working hours from now end at `deadline()`.
    let calendar = FixedContext::at(samples::sample_time()).with_working_hours(4, deadline());
    let in_hours = OpenServiceCase {
        deadline: None,
        ..open(ServiceCaseKind::Complaint)
    };
    given::<ServiceCase>(&[])
        .with_context(calendar.clone())
        .when(in_hours.clone())
        .then(&[complaint()]);
    // Sent with its instant, the two agree within the clocks' drift, and the calendar's is
    // the one recorded: what the read models hold the case to ...
    let close_enough = OpenServiceCase {
        deadline: Some(deadline() + SignedDuration::from_secs(240)),
        ..open(ServiceCaseKind::Complaint)
    };
    given::<ServiceCase>(&[])
        .with_context(calendar.clone())
        .when(close_enough)
        .then(&[complaint()]);
    // ... or the instant is refused, naming the calendar's.
    let disagreeing = OpenServiceCase {
        deadline: Some(deadline() + SignedDuration::from_hours(30)),
        ..open(ServiceCaseKind::Complaint)
    };
    let error = given::<ServiceCase>(&[])
        .with_context(calendar)
        .when(disagreeing)
        .error();
    assert!(
        error.to_string().contains(&deadline().to_string()),
        "{error}"
    );
    // Without a calendar, the hours alone cannot make an instant; and a case needs one.
    given::<ServiceCase>(&[])
        .when(in_hours.clone())
        .then_invalid("deadline");
    given::<ServiceCase>(&[])
        .when(OpenServiceCase {
            deadline_working_hours: None,
            ..in_hours
        })
        .then_invalid("deadline");
}

#[test]
fn a_case_names_only_its_customers_policy_claim_and_contact() {
    use crate::aggregates::{ClaimStanding, FixedContext, PolicyStanding};
    let other = samples::corporate_customer_id();
    let context = |holder: CustomerId| {
        FixedContext::at(samples::sample_time())
            .with_policy(samples::policy_number(), PolicyStanding::Quoted { holder })
            .with_claim(
                samples::claim_number(),
                ClaimStanding::Reported { customer: holder },
            )
            .with_contacts(customer(), &[samples::contact_id()])
    };
    let linked = OpenServiceCase {
        policy_number: Some(samples::policy_number()),
        claim_number: Some(samples::claim_number()),
        contact_id: Some(samples::contact_id()),
        ..open(ServiceCaseKind::Complaint)
    };
    given::<ServiceCase>(&[])
        .with_context(context(customer()))
        .when(linked.clone())
        .then(&[ServiceCaseOpened {
            policy_number: Some(samples::policy_number()),
            claim_number: Some(samples::claim_number()),
            contact_id: Some(samples::contact_id()),
            case_id: case(),
            customer_id: customer(),
            kind: ServiceCaseKind::Complaint,
            priority: Priority::Normal,
            subject: text("咨询"),
            channel: Channel::Phone,
            deadline: deadline(),
            deadline_working_hours: Some(4),
        }
        .into()]);
    given::<ServiceCase>(&[])
        .with_context(context(other))
        .when(linked.clone())
        .then_invalid("policyNumber");
    given::<ServiceCase>(&[])
        .with_context(context(other))
        .when(OpenServiceCase {
            policy_number: None,
            ..linked.clone()
        })
        .then_invalid("claimNumber");
    given::<ServiceCase>(&[])
        .with_context(FixedContext::at(samples::sample_time()).with_contacts(customer(), &[]))
        .when(OpenServiceCase {
            policy_number: None,
            claim_number: None,
            ..linked.clone()
        })
        .then_invalid("contactId");
    given::<ServiceCase>(&[])
        .with_context(
            FixedContext::at(samples::sample_time())
                .with_policy(samples::policy_number(), PolicyStanding::Unknown),
        )
        .when(linked)
        .then_error(DomainError::NotFound {
            kind: "policy",
            id: samples::policy_number().to_string(),
        });
}

#[test]
fn assigning_names_the_previous_assignee_and_a_repeat_changes_nothing() {
    let assign = |who: &str| AssignServiceCase {
        case_id: case(),
        assignee: staff(who),
    };
    let first = ServiceCaseAssigned {
        case_id: case(),
        customer_id: customer(),
        assignee: staff("agent-0042"),
        previous_assignee: None,
    };
    given::<ServiceCase>(&[complaint()])
        .when(assign("agent-0042"))
        .then(&[first.clone().into()]);
    given::<ServiceCase>(&[complaint(), first.clone().into()])
        .when(assign("agent-0042"))
        .then_nothing();
    given::<ServiceCase>(&[complaint(), first.into()])
        .when(assign("agent-0043"))
        .then(&[ServiceCaseAssigned {
            case_id: case(),
            customer_id: customer(),
            assignee: staff("agent-0043"),
            previous_assignee: Some(staff("agent-0042")),
        }
        .into()]);
}

#[test]
fn escalations_count_up_and_may_move_the_deadline() {
    let escalate = |deadline| EscalateServiceCase {
        case_id: case(),
        escalated_to: staff("tl-0002"),
        reason: text("客户投诉升级"),
        priority: Priority::Urgent,
        deadline,
    };
    let first = ServiceCaseEscalated {
        case_id: case(),
        customer_id: customer(),
        escalated_to: staff("tl-0002"),
        reason: text("客户投诉升级"),
        priority: Priority::Urgent,
        deadline: deadline(),
        level: 1,
    };
    given::<ServiceCase>(&[complaint()])
        .when(escalate(None))
        .then(&[first.clone().into()]);
    let sooner = samples::sample_time() + SignedDuration::from_hours(1);
    let case = given::<ServiceCase>(&[complaint(), first.clone().into()])
        .when(escalate(Some(sooner)))
        .then(&[ServiceCaseEscalated {
            level: 2,
            deadline: sooner,
            ..first
        }
        .into()]);
    assert_eq!(case.deadline(), Some(sooner));
    given::<ServiceCase>(&[complaint(), resolved(true)])
        .when(escalate(None))
        .then_error(transition("escalate", "resolved"));
}

#[test]
fn an_escalation_keeps_or_raises_the_priority() {
    let escalate = |priority| EscalateServiceCase {
        case_id: case(),
        escalated_to: staff("tl-0002"),
        reason: text("客户投诉升级"),
        priority,
        deadline: None,
    };
    // Opened NORMAL: LOW is a step down.
    given::<ServiceCase>(&[complaint()])
        .when(escalate(Priority::Low))
        .then_error(DomainError::Validation(ValidationError::new(
            "priority",
            "an escalation keeps or raises the priority; the case is NORMAL",
        )));
    let urgent = ServiceCaseEscalated {
        case_id: case(),
        customer_id: customer(),
        escalated_to: staff("tl-0002"),
        reason: text("客户投诉升级"),
        priority: Priority::Urgent,
        deadline: deadline(),
        level: 1,
    };
    given::<ServiceCase>(&[complaint()])
        .when(escalate(Priority::Normal))
        .then(&[ServiceCaseEscalated {
            priority: Priority::Normal,
            ..urgent.clone()
        }
        .into()]);
    // Once URGENT, a second escalation cannot lower it to HIGH.
    given::<ServiceCase>(&[complaint(), urgent.into()])
        .when(escalate(Priority::High))
        .then_invalid("priority");
}

#[test]
fn an_escalation_moves_the_deadline_only_into_the_future() {
    let escalate = |deadline| EscalateServiceCase {
        case_id: case(),
        escalated_to: staff("tl-0002"),
        reason: text("客户投诉升级"),
        priority: Priority::Urgent,
        deadline: Some(deadline),
    };
    let past = samples::sample_time() - SignedDuration::from_hours(1);
    given::<ServiceCase>(&[complaint()])
        .when(escalate(past))
        .then_error(ValidationError::new("deadline", "a deadline lies in the future").into());
    // Now itself is not in the future, as for opening and reopening.
    given::<ServiceCase>(&[complaint()])
        .when(escalate(samples::sample_time()))
        .then_invalid("deadline");
    // Without a new deadline the case keeps its own, even one that has passed: the escalation
    // is then the answer to the breach.
    given::<ServiceCase>(&[complaint()])
        .at(deadline() + SignedDuration::from_hours(1))
        .when(EscalateServiceCase {
            deadline: None,
            ..escalate(past)
        })
        .then(&[ServiceCaseEscalated {
            case_id: case(),
            customer_id: customer(),
            escalated_to: staff("tl-0002"),
            reason: text("客户投诉升级"),
            priority: Priority::Urgent,
            deadline: deadline(),
            level: 1,
        }
        .into()]);
}

#[test]
fn resolution_records_whether_the_deadline_was_kept() {
    given::<ServiceCase>(&[complaint()])
        .when(resolve())
        .then(&[resolved(true)]);
    given::<ServiceCase>(&[complaint()])
        .at(deadline())
        .when(resolve())
        .then(&[resolved(true)]);
    given::<ServiceCase>(&[complaint()])
        .at(deadline() + SignedDuration::from_secs(1))
        .when(resolve())
        .then(&[resolved(false)]);
    given::<ServiceCase>(&[complaint(), resolved(true)])
        .when(resolve())
        .then_error(transition("resolve", "resolved"));
}

#[test]
fn a_case_is_resolved_before_it_is_closed_and_closed_once() {
    given::<ServiceCase>(&[complaint()])
        .when(close())
        .then_error(transition("close", "open"));
    given::<ServiceCase>(&[complaint(), resolved(true)])
        .when(close())
        .then(&[closed()]);
    given::<ServiceCase>(&[complaint(), resolved(true), closed()])
        .when(close())
        .then_error(transition("close", "closed"));
    given::<ServiceCase>(&[])
        .when(close())
        .then_error(DomainError::NotFound {
            kind: "service case",
            id: case().to_string(),
        });
}

#[test]
fn a_resolved_or_closed_case_is_reopened_with_a_new_deadline() {
    given::<ServiceCase>(&[complaint(), resolved(true)])
        .when(reopen())
        .then(&[reopened()]);
    let case = given::<ServiceCase>(&[complaint(), resolved(true), closed()])
        .when(reopen())
        .then(&[reopened()]);
    assert_eq!(case.status(), Some(CaseStatus::Open));
    given::<ServiceCase>(&[complaint()])
        .when(reopen())
        .then_error(transition("reopen", "open"));
    given::<ServiceCase>(&[complaint(), resolved(true)])
        .at(deadline() + SignedDuration::from_hours(1))
        .when(reopen())
        .then_invalid("deadline");
    // Reopened, the case follows the ordinary path again.
    given::<ServiceCase>(&[complaint(), resolved(true), closed(), reopened()])
        .when(resolve())
        .then(&[resolved(true)]);
}

fn recommendations() -> Vec<RiskRecommendation> {
    vec![
        RiskRecommendation {
            number: 1,
            text: text("清理消防通道"),
            due_on: date(2024, 4, 15),
        },
        RiskRecommendation {
            number: 2,
            text: text("更换轮胎"),
            due_on: date(2024, 5, 15),
        },
    ]
}

fn complete_survey() -> CompleteRiskSurvey {
    CompleteRiskSurvey {
        case_id: case(),
        surveyor: staff("risk-0005"),
        findings: text("消防通道被占用"),
        recommendations: recommendations(),
    }
}

fn survey_completed() -> Event {
    RiskSurveyCompleted {
        case_id: case(),
        customer_id: customer(),
        surveyor: staff("risk-0005"),
        findings: text("消防通道被占用"),
        recommendations: recommendations(),
    }
    .into()
}

fn follow_up(recommendation: u16) -> FollowUpRiskRecommendation {
    FollowUpRiskRecommendation {
        case_id: case(),
        recommendation,
        status: RecommendationStatus::Implemented,
        note: text("已整改"),
        followed_up_by: staff("am-0007"),
    }
}

#[test]
fn a_risk_survey_is_completed_once_on_an_open_risk_survey_case() {
    let risk_case = opened(ServiceCaseKind::RiskSurvey);
    given::<ServiceCase>(std::slice::from_ref(&risk_case))
        .when(complete_survey())
        .then(&[survey_completed()]);
    let action = "complete a risk survey on";
    given::<ServiceCase>(&[risk_case.clone(), survey_completed()])
        .when(complete_survey())
        .then_error(transition(action, "already surveyed"));
    given::<ServiceCase>(&[complaint()])
        .when(complete_survey())
        .then_error(transition(action, "not a risk-survey case"));
    given::<ServiceCase>(&[risk_case.clone(), resolved(true)])
        .when(complete_survey())
        .then_error(transition(action, "resolved"));
    let mut duplicate_numbers = complete_survey();
    duplicate_numbers.recommendations[1].number = 1;
    given::<ServiceCase>(&[risk_case])
        .when(duplicate_numbers)
        .then_invalid("recommendations[1].number");
}

#[test]
fn recommendations_are_followed_up_by_number_even_after_closing() {
    let surveyed = [opened(ServiceCaseKind::RiskSurvey), survey_completed()];
    let followed_up = RiskRecommendationFollowedUp {
        case_id: case(),
        customer_id: customer(),
        recommendation: 2,
        status: RecommendationStatus::Implemented,
        note: text("已整改"),
        followed_up_by: staff("am-0007"),
    };
    given::<ServiceCase>(&surveyed)
        .when(follow_up(2))
        .then(&[followed_up.clone().into()]);
    let closed_history = [
        surveyed[0].clone(),
        surveyed[1].clone(),
        resolved(true),
        closed(),
    ];
    given::<ServiceCase>(&closed_history)
        .when(follow_up(2))
        .then(&[followed_up.into()]);
    given::<ServiceCase>(&surveyed)
        .when(follow_up(3))
        .then_error(DomainError::NotFound {
            kind: "risk recommendation",
            id: format!("{} #3", case()),
        });
    given::<ServiceCase>(&[opened(ServiceCaseKind::RiskSurvey)])
        .when(follow_up(1))
        .then_error(transition(
            "follow up a recommendation of",
            "not surveyed yet",
        ));
}

/// A context in which the case's customer was erased.
fn erased() -> crate::aggregates::FixedContext {
    crate::aggregates::FixedContext::at(samples::sample_time())
        .with_standing(customer(), crate::aggregates::CustomerStanding::Erased)
}

/// `text`'s erased value: what a command carries when the text was left out.
fn left_out(text: crate::values::FreeText) -> crate::values::FreeText {
    let mut text = text;
    crate::personal::Erase::erase(&mut text);
    text
}

fn escalate() -> EscalateServiceCase {
    EscalateServiceCase {
        case_id: case(),
        escalated_to: staff("supervisor-07"),
        reason: text("客户投诉升级"),
        priority: Priority::Urgent,
        deadline: None,
    }
}

#[test]
fn an_erased_customers_open_case_is_finished_with_its_texts_left_out() {
    let resolve_blank = ResolveServiceCase {
        resolution: left_out(text("x")),
        ..resolve()
    };
    let resolved_blank: Event = ServiceCaseResolved {
        case_id: case(),
        customer_id: customer(),
        resolved_by: staff("agent-0042"),
        resolution: left_out(text("x")),
        within_deadline: false,
    }
    .into();
    // After the deadline: assigned, escalated and resolved (breached), then closed.
    let late = deadline() + SignedDuration::from_hours(1);
    given::<ServiceCase>(&[complaint()])
        .with_context(erased())
        .at(late)
        .when(AssignServiceCase {
            case_id: case(),
            assignee: staff("supervisor-07"),
        })
        .then(&[ServiceCaseAssigned {
            case_id: case(),
            customer_id: customer(),
            assignee: staff("supervisor-07"),
            previous_assignee: None,
        }
        .into()]);
    given::<ServiceCase>(&[complaint()])
        .with_context(erased())
        .at(late)
        .when(EscalateServiceCase {
            reason: left_out(text("x")),
            ..escalate()
        })
        .then(&[ServiceCaseEscalated {
            case_id: case(),
            customer_id: customer(),
            escalated_to: staff("supervisor-07"),
            reason: left_out(text("x")),
            priority: Priority::Urgent,
            deadline: deadline(),
            level: 1,
        }
        .into()]);
    given::<ServiceCase>(&[complaint()])
        .with_context(erased())
        .at(late)
        .when(resolve_blank)
        .then(std::slice::from_ref(&resolved_blank));
    let case = given::<ServiceCase>(&[complaint(), resolved_blank])
        .with_context(erased())
        .when(close())
        .then(&[closed()]);
    assert_eq!(case.status(), Some(CaseStatus::Closed));
}

#[test]
fn an_erased_customers_case_takes_no_text_and_a_live_ones_needs_it() {
    let error = given::<ServiceCase>(&[complaint()])
        .with_context(erased())
        .when(resolve())
        .error();
    assert_eq!(
        error.to_string(),
        format!(
            "resolution: customer {} was erased: no text can be recorded; send \
             resolveServiceCase without resolution",
            customer()
        )
    );
    given::<ServiceCase>(&[complaint()])
        .with_context(erased())
        .when(escalate())
        .then_invalid("reason");
    given::<ServiceCase>(&[complaint()])
        .when(ResolveServiceCase {
            resolution: left_out(text("x")),
            ..resolve()
        })
        .then_invalid("resolution");
    given::<ServiceCase>(&[complaint()])
        .when(EscalateServiceCase {
            reason: left_out(text("x")),
            ..escalate()
        })
        .then_invalid("reason");
    // Nothing is started again for an erased customer.
    let erased_error = DomainError::CustomerErased {
        customer: customer().to_string(),
    };
    given::<ServiceCase>(&[complaint(), resolved(true)])
        .with_context(erased())
        .when(reopen())
        .then_error(erased_error.clone());
    given::<ServiceCase>(&[opened(ServiceCaseKind::RiskSurvey)])
        .with_context(erased())
        .when(complete_survey())
        .then_error(erased_error.clone());
    given::<ServiceCase>(&[opened(ServiceCaseKind::RiskSurvey), survey_completed()])
        .with_context(erased())
        .when(follow_up(1))
        .then_error(erased_error);
}

#[test]
fn a_recommendation_is_due_on_the_surveys_day_or_later() {
    let risk_case = opened(ServiceCaseKind::RiskSurvey);
    // 2024-04-20 in Beijing: the first recommendation (due 04-15) is already past.
    let late = "2024-04-20T02:00:00Z".parse().unwrap();
    let error = given::<ServiceCase>(std::slice::from_ref(&risk_case))
        .at(late)
        .when(complete_survey())
        .error();
    assert_eq!(
        error.to_string(),
        "recommendations[0].dueOn: a recommendation is due on the survey's day (2024-04-20, \
         Beijing) or later, not 2024-04-15"
    );
    // Due on the survey's own Beijing day is fine (00:30 on 04-15 in Beijing is 04-14 in UTC).
    given::<ServiceCase>(&[risk_case])
        .at("2024-04-14T16:30:00Z".parse().unwrap())
        .when(complete_survey())
        .then(&[survey_completed()]);
}
