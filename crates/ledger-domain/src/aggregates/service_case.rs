//! The service-case aggregate (`case-{id}`): open → resolved → closed, reopened from resolved
//! or closed, with a deadline whose breach is recorded when the case is resolved.
//!
//! Rules:
//! - A case is opened once (`AlreadyExists`), with a deadline after the moment it opens (an
//!   instant, or working hours the context's business calendar turns into one; both must
//!   agree within the clocks' drift), for a
//!   live customer; the policy, claim and contact it names exist and are that customer's (a
//!   policy or claim of a customer merged with it counts).
//! - Only an open case is assigned, escalated or resolved. Assigning it to its assignee again
//!   records nothing. An escalation keeps or raises the priority, and its new deadline, like an
//!   opening's, lies after now. Resolution records whether the deadline (at the context's `now`) was kept.
//! - A case is closed only when resolved: closing an open case means resolving it first, and
//!   closing a closed case is `InvalidTransition`. A resolved or closed case can be reopened,
//!   with a new deadline after now.
//! - A risk survey is completed once, on an open `RISK_SURVEY` case. Its recommendations are
//!   followed up by number at any time afterwards, even after the case is closed, because loss
//!   prevention goes on long after the survey.
//! - An erased customer's open work can be finished, and nothing personal is recorded doing
//!   it (their data key is gone, so nothing personal could be sealed): a transition that
//!   carries no free text (assign, close) is accepted as for anyone, and one that does
//!   (escalate's `reason`, resolve's `resolution`) is accepted with the text left out (its
//!   erased value, which leaves nothing to seal) and refused, naming the field, with it. A live
//!   customer's transitions carry their text written out. Nothing is started again for an
//!   erased customer: reopening, completing a risk survey and following up its recommendations
//!   are `CustomerErased`, as opening a case is.

use std::collections::BTreeSet;
use std::fmt;

use jiff::Timestamp;

use super::links::{claim_of, customers_policy, new_business_for};
use super::{Aggregate, DecisionContext, already_exists, emit, invalid_transition, not_found};
use crate::commands::{
    AssignServiceCase, CloseServiceCase, CompleteRiskSurvey, EscalateServiceCase,
    FollowUpRiskRecommendation, OpenServiceCase, ReopenServiceCase, ResolveServiceCase,
    ServiceCaseCommand,
};
use crate::events::{
    Event, RiskRecommendationFollowedUp, RiskSurveyCompleted, ServiceCaseAssigned,
    ServiceCaseClosed, ServiceCaseEscalated, ServiceCaseOpened, ServiceCaseReopened,
    ServiceCaseResolved,
};
use crate::ids::{CaseId, CustomerId, StaffId};
use crate::kinds::{Priority, ServiceCaseKind};
use crate::{DomainError, ValidationError};

use super::CustomerStanding;

const KIND: &str = "service case";

/// Where a service case is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaseStatus {
    Open,
    Resolved,
    Closed,
}

impl fmt::Display for CaseStatus {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(match self {
            Self::Open => "open",
            Self::Resolved => "resolved",
            Self::Closed => "closed",
        })
    }
}

/// A service case's state, as far as decisions need it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServiceCase {
    state: Option<State>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct State {
    id: CaseId,
    customer_id: CustomerId,
    kind: ServiceCaseKind,
    status: CaseStatus,
    priority: Priority,
    deadline: Timestamp,
    assignee: Option<StaffId>,
    escalations: u16,
    /// The numbers of the survey's recommendations, once a risk survey is completed.
    recommendations: Option<BTreeSet<u16>>,
}

impl ServiceCase {
    pub fn status(&self) -> Option<CaseStatus> {
        self.state.as_ref().map(|state| state.status)
    }

    /// The customer the case was opened for.
    pub fn customer_id(&self) -> Option<CustomerId> {
        self.state.as_ref().map(|state| state.customer_id)
    }

    pub fn deadline(&self) -> Option<Timestamp> {
        self.state.as_ref().map(|state| state.deadline)
    }

    pub fn assignee(&self) -> Option<&StaffId> {
        self.state
            .as_ref()
            .and_then(|state| state.assignee.as_ref())
    }

    /// The opened case `case_id`, if its status is one of `allowed` for `action`.
    fn in_status(
        &self,
        case_id: CaseId,
        allowed: &[CaseStatus],
        action: &'static str,
    ) -> Result<&State, DomainError> {
        let state = self
            .state
            .as_ref()
            .ok_or_else(|| not_found(KIND, case_id))?;
        if !allowed.contains(&state.status) {
            return Err(invalid_transition(KIND, case_id, action, state.status));
        }
        Ok(state)
    }

    fn open(
        &self,
        command: &OpenServiceCase,
        context: &dyn DecisionContext,
    ) -> Result<Vec<Event>, DomainError> {
        if self.state.is_some() {
            return Err(already_exists(KIND, command.case_id));
        }
        new_business_for(command.customer_id, context)?;
        let deadline = opening_deadline(command, context)?;
        deadline_after_now(deadline, context)?;
        let whose = "the case's customer";
        if let Some(policy) = &command.policy_number {
            customers_policy(policy, command.customer_id, whose, context)?;
        }
        if let Some(claim) = &command.claim_number {
            claim_of(claim, command.customer_id, whose, context)?;
        }
        if let Some(contact) = command.contact_id
            && context.recorded_contact(command.customer_id, contact) == Some(false)
        {
            return Err(ValidationError::new(
                "contactId",
                format!("a contact recorded for the case's customer; {contact} is not one"),
            )
            .into());
        }
        emit(ServiceCaseOpened {
            case_id: command.case_id,
            customer_id: command.customer_id,
            kind: command.kind,
            priority: command.priority,
            subject: command.subject.clone(),
            channel: command.channel,
            deadline,
            deadline_working_hours: command.deadline_working_hours,
            policy_number: command.policy_number.clone(),
            claim_number: command.claim_number.clone(),
            contact_id: command.contact_id,
        })
    }

    fn assign(&self, command: &AssignServiceCase) -> Result<Vec<Event>, DomainError> {
        let state = self.in_status(command.case_id, &[CaseStatus::Open], "assign")?;
        if state.assignee.as_ref() == Some(&command.assignee) {
            return Ok(Vec::new());
        }
        emit(ServiceCaseAssigned {
            case_id: command.case_id,
            customer_id: state.customer_id,
            assignee: command.assignee.clone(),
            previous_assignee: state.assignee.clone(),
        })
    }

    fn escalate(
        &self,
        command: &EscalateServiceCase,
        context: &dyn DecisionContext,
    ) -> Result<Vec<Event>, DomainError> {
        let state = self.in_status(command.case_id, &[CaseStatus::Open], "escalate")?;
        work_text(
            WorkText {
                field: "reason",
                left_out: command.reason.is_erased(),
                mutation: "escalateServiceCase",
            },
            state.customer_id,
            context,
        )?;
        if let Some(deadline) = command.deadline {
            deadline_after_now(deadline, context)?;
        }
        if command.priority < state.priority {
            return Err(ValidationError::new(
                "priority",
                format!(
                    "an escalation keeps or raises the priority; the case is {}",
                    state.priority.wire_name()
                ),
            )
            .into());
        }
        // u16 escalations of one case is beyond any real case; saturating keeps the fold total.
        let level = state.escalations.saturating_add(1);
        emit(ServiceCaseEscalated {
            case_id: command.case_id,
            customer_id: state.customer_id,
            escalated_to: command.escalated_to.clone(),
            reason: command.reason.clone(),
            priority: command.priority,
            deadline: command.deadline.unwrap_or(state.deadline),
            level,
        })
    }

    fn resolve(
        &self,
        command: &ResolveServiceCase,
        context: &dyn DecisionContext,
    ) -> Result<Vec<Event>, DomainError> {
        let state = self.in_status(command.case_id, &[CaseStatus::Open], "resolve")?;
        work_text(
            WorkText {
                field: "resolution",
                left_out: command.resolution.is_erased(),
                mutation: "resolveServiceCase",
            },
            state.customer_id,
            context,
        )?;
        emit(ServiceCaseResolved {
            case_id: command.case_id,
            customer_id: state.customer_id,
            resolved_by: command.resolved_by.clone(),
            resolution: command.resolution.clone(),
            within_deadline: context.now() <= state.deadline,
        })
    }

    fn reopen(
        &self,
        command: &ReopenServiceCase,
        context: &dyn DecisionContext,
    ) -> Result<Vec<Event>, DomainError> {
        let allowed = [CaseStatus::Resolved, CaseStatus::Closed];
        let state = self.in_status(command.case_id, &allowed, "reopen")?;
        not_started_again_for_erased(state.customer_id, context)?;
        deadline_after_now(command.deadline, context)?;
        emit(ServiceCaseReopened {
            case_id: command.case_id,
            customer_id: state.customer_id,
            reason: command.reason.clone(),
            deadline: command.deadline,
        })
    }

    fn close(&self, command: &CloseServiceCase) -> Result<Vec<Event>, DomainError> {
        let state = self.in_status(command.case_id, &[CaseStatus::Resolved], "close")?;
        emit(ServiceCaseClosed {
            case_id: command.case_id,
            customer_id: state.customer_id,
            closed_by: command.closed_by.clone(),
            customer_confirmed: command.customer_confirmed,
        })
    }

    fn complete_survey(
        &self,
        command: &CompleteRiskSurvey,
        context: &dyn DecisionContext,
    ) -> Result<Vec<Event>, DomainError> {
        let action = "complete a risk survey on";
        let state = self.in_status(command.case_id, &[CaseStatus::Open], action)?;
        not_started_again_for_erased(state.customer_id, context)?;
        if state.kind != ServiceCaseKind::RiskSurvey {
            return Err(invalid_transition(
                KIND,
                command.case_id,
                action,
                "not a risk-survey case",
            ));
        }
        if state.recommendations.is_some() {
            return Err(invalid_transition(
                KIND,
                command.case_id,
                action,
                "already surveyed",
            ));
        }
        // A survey is completed once, so a due day it gets wrong stays: one already past when
        // the survey recommends it is refused.
        let today = super::policy::business_date(context.now());
        if let Some((index, recommendation)) = command
            .recommendations
            .iter()
            .enumerate()
            .find(|(_, recommendation)| recommendation.due_on < today)
        {
            return Err(ValidationError::new(
                format!("recommendations[{index}].dueOn"),
                format!(
                    "a recommendation is due on the survey's day ({today}, Beijing) or later, \
                     not {}",
                    recommendation.due_on
                ),
            )
            .into());
        }
        emit(RiskSurveyCompleted {
            case_id: command.case_id,
            customer_id: state.customer_id,
            surveyor: command.surveyor.clone(),
            findings: command.findings.clone(),
            recommendations: command.recommendations.clone(),
        })
    }

    fn follow_up(
        &self,
        command: &FollowUpRiskRecommendation,
        context: &dyn DecisionContext,
    ) -> Result<Vec<Event>, DomainError> {
        let state = self
            .state
            .as_ref()
            .ok_or_else(|| not_found(KIND, command.case_id))?;
        not_started_again_for_erased(state.customer_id, context)?;
        let Some(recommendations) = &state.recommendations else {
            return Err(invalid_transition(
                KIND,
                command.case_id,
                "follow up a recommendation of",
                "not surveyed yet",
            ));
        };
        if !recommendations.contains(&command.recommendation) {
            let id = format!("{} #{}", command.case_id, command.recommendation);
            return Err(not_found("risk recommendation", id));
        }
        emit(RiskRecommendationFollowedUp {
            case_id: command.case_id,
            customer_id: state.customer_id,
            recommendation: command.recommendation,
            status: command.status,
            note: command.note.clone(),
            followed_up_by: command.followed_up_by.clone(),
        })
    }
}

/// How far a deadline sent with its working hours may lie from the calendar's: the clocks'
/// drift between the caller's reading of now and the ledger's.
const DEADLINE_AGREEMENT_SECONDS_MAX: i64 = super::CLOCK_SKEW_SECONDS_MAX;

/// The deadline a case opens with: the instant sent, or the end of its working hours from now
/// on the business calendar (also when an instant sent with them agrees with it).
fn opening_deadline(
    command: &OpenServiceCase,
    context: &dyn DecisionContext,
) -> Result<Timestamp, DomainError> {
    let calendar = command
        .deadline_working_hours
        .and_then(|hours| Some((hours, context.working_hours_deadline(context.now(), hours)?)));
    let calendar = match calendar {
        Some((_, Err(why))) => {
            return Err(ValidationError::new("deadlineWorkingHours", why).into());
        }
        Some((hours, Ok(deadline))) => Some((hours, deadline)),
        None => None,
    };
    match (command.deadline, calendar) {
        (Some(sent), Some((hours, deadline))) => {
            let apart = sent.duration_since(deadline).as_secs().abs();
            if apart > DEADLINE_AGREEMENT_SECONDS_MAX {
                return Err(ValidationError::new(
                    "deadline",
                    format!(
                        "the deadline of {hours} working hours from now on the business \
                         calendar, {deadline}; leave deadline out to take it, or send it"
                    ),
                )
                .into());
            }
            // The calendar's instant is what the case is held to: the read models and the
            // timeline show it, so the events record it too (the instant sent only checks it).
            Ok(deadline)
        }
        (None, Some((_, deadline))) => Ok(deadline),
        (Some(sent), None) => Ok(sent),
        (None, None) if command.deadline_working_hours.is_some() => Err(ValidationError::new(
            "deadline",
            "an instant, where the business calendar cannot be read",
        )
        .into()),
        (None, None) => Err(ValidationError::new(
            "deadline",
            "a case has a deadline: an instant, or deadlineWorkingHours on the business calendar",
        )
        .into()),
    }
}

/// A transition's free text, as the rule on an erased customer's work sees it.
#[derive(Debug)]
pub struct WorkText {
    /// The command's field, as the API names it within the input (`resolution`, `payee.name`).
    pub field: &'static str,
    /// Whether the text was left out: the command carries its erased value.
    pub left_out: bool,
    /// The mutation to send again without the text (for an import's line, its event type).
    pub mutation: &'static str,
}

/// Whether `customer` was erased, as far as the context can tell (a context that cannot tell
/// takes the customer for live, so the text is required).
fn is_erased(customer: CustomerId, context: &dyn DecisionContext) -> bool {
    context.customer_standing(customer) == Some(CustomerStanding::Erased)
}

/// The rule on the free text of a transition of `customer`'s work: written out for a live
/// customer (an empty text would read as erased); left out for an erased one, whose data key is
/// gone, so the work is finished without recording anything personal.
pub fn work_text(
    text: WorkText,
    customer: CustomerId,
    context: &dyn DecisionContext,
) -> Result<(), DomainError> {
    let WorkText {
        field,
        left_out,
        mutation,
    } = text;
    match (is_erased(customer, context), left_out) {
        (true, false) => Err(ValidationError::new(
            field,
            format!(
                "customer {customer} was erased: no text can be recorded; send {mutation} \
                 without {field}"
            ),
        )
        .into()),
        (false, true) => Err(ValidationError::new(
            field,
            "is written out; only an erased customer's work is finished without it",
        )
        .into()),
        _ => Ok(()),
    }
}

/// Refuses to start work again for an erased customer (a reopening, a survey, a follow-up):
/// their open work can be finished, but nothing new is begun for them.
pub fn not_started_again_for_erased(
    customer: CustomerId,
    context: &dyn DecisionContext,
) -> Result<(), DomainError> {
    if is_erased(customer, context) {
        return Err(DomainError::CustomerErased {
            customer: customer.to_string(),
        });
    }
    Ok(())
}

fn deadline_after_now(
    deadline: Timestamp,
    context: &dyn DecisionContext,
) -> Result<(), DomainError> {
    if deadline <= context.now() {
        return Err(ValidationError::new("deadline", "a deadline lies in the future").into());
    }
    Ok(())
}

impl Aggregate for ServiceCase {
    type Command = ServiceCaseCommand;
    const CATEGORY: &'static str = "case";

    fn apply(&mut self, event: &Event) {
        if let Event::ServiceCaseOpened(opened) = event {
            if self
                .state
                .as_ref()
                .is_some_and(|state| state.id != opened.case_id)
            {
                return;
            }
            self.state = Some(State {
                id: opened.case_id,
                customer_id: opened.customer_id,
                kind: opened.kind,
                status: CaseStatus::Open,
                priority: opened.priority,
                deadline: opened.deadline,
                assignee: None,
                escalations: 0,
                recommendations: None,
            });
            return;
        }
        let Some(state) = self.state.as_mut() else {
            return;
        };
        match event {
            Event::ServiceCaseAssigned(assigned) if assigned.case_id == state.id => {
                state.assignee = Some(assigned.assignee.clone());
            }
            Event::ServiceCaseEscalated(escalated) if escalated.case_id == state.id => {
                state.escalations = escalated.level;
                state.priority = escalated.priority;
                state.deadline = escalated.deadline;
                state.assignee = Some(escalated.escalated_to.clone());
            }
            Event::ServiceCaseResolved(resolved) if resolved.case_id == state.id => {
                state.status = CaseStatus::Resolved;
            }
            Event::ServiceCaseReopened(reopened) if reopened.case_id == state.id => {
                state.status = CaseStatus::Open;
                state.deadline = reopened.deadline;
            }
            Event::ServiceCaseClosed(closed) if closed.case_id == state.id => {
                state.status = CaseStatus::Closed;
            }
            Event::RiskSurveyCompleted(survey) if survey.case_id == state.id => {
                let numbers = survey
                    .recommendations
                    .iter()
                    .map(|recommendation| recommendation.number);
                state.recommendations = Some(numbers.collect());
            }
            _ => {}
        }
    }

    fn handle(
        &self,
        command: &ServiceCaseCommand,
        context: &dyn DecisionContext,
    ) -> Result<Vec<Event>, DomainError> {
        match command {
            ServiceCaseCommand::OpenServiceCase(command) => self.open(command, context),
            ServiceCaseCommand::AssignServiceCase(command) => self.assign(command),
            ServiceCaseCommand::EscalateServiceCase(command) => self.escalate(command, context),
            ServiceCaseCommand::ResolveServiceCase(command) => self.resolve(command, context),
            ServiceCaseCommand::ReopenServiceCase(command) => self.reopen(command, context),
            ServiceCaseCommand::CloseServiceCase(command) => self.close(command),
            ServiceCaseCommand::CompleteRiskSurvey(command) => {
                self.complete_survey(command, context)
            }
            ServiceCaseCommand::FollowUpRiskRecommendation(command) => {
                self.follow_up(command, context)
            }
        }
    }
}

#[cfg(test)]
mod tests;
