//! Service-case events, risk surveys and the contacts that answer a case, folded into
//! [`CaseRecord`]s and the case queues.
//!
//! Resolving, closing and reopening follow the aggregate's rules (only an open case is
//! resolved, only a resolved case closed, only a resolved or closed case reopened). The
//! aggregate never emits anything else; should such an event reach the fold anyway, it
//! changes nothing, because applying it would corrupt the cycle's working-time accounting.

use jiff::Timestamp;
use ledger_domain::events::{
    RiskRecommendationFollowedUp, RiskSurveyCompleted, ServiceCaseAssigned, ServiceCaseClosed,
    ServiceCaseEscalated, ServiceCaseOpened, ServiceCaseReopened, ServiceCaseResolved,
};
use ledger_domain::ids::{CaseId, ContactId, CustomerId};
use ledger_domain::projection::{Order, StateError, StateWrite};
use ledger_domain::values::Direction;
use serde::{Deserialize, Serialize};

use super::ServiceHistory;
use crate::keys;
use crate::records::{CaseRecord, CaseStatus, RecommendationRecord, RiskSurveyRecord};
use crate::storage::{STATE, describe, history_owner, reindex};

/// The queue entries a case belongs in: open cases by deadline, resolved and closed cases by
/// when that happened; and each again under `late/` once any of its cycles was resolved after
/// its deadline, so the breached-only listings find a breach a reopening resolved on time
/// since (open cases past their deadline now are found by deadline in `open/`).
pub(crate) fn queue_keys(record: &CaseRecord) -> Vec<Vec<u8>> {
    let item = record.id.to_string();
    let item = item.as_bytes();
    // A resolved or closed case always has the time set by the event that made it so; the
    // fallback only keeps this total.
    let resolved_at = record.resolved_at.unwrap_or(record.cycle_opened_at);
    let closed_at = record.closed_at.unwrap_or(resolved_at);
    let (at, all, late) = match record.status {
        CaseStatus::Open => (record.deadline, keys::OPEN, keys::LATE_OPEN),
        CaseStatus::Resolved => (resolved_at, keys::RESOLVED, keys::LATE_RESOLVED),
        CaseStatus::Closed => (closed_at, keys::CLOSED, keys::LATE_CLOSED),
    };
    let mut keys = vec![keys::index(all, at, item)];
    if record.was_resolved_late() {
        keys.push(keys::index(late, at, item));
    }
    keys
}

impl ServiceHistory {
    /// Opens the case; its subject is kept when `text_kept` (the event did not read redacted)
    /// and its customer was not erased.
    pub(super) fn case_opened(
        &self,
        state: &mut dyn StateWrite,
        opened_at: Timestamp,
        event: &ServiceCaseOpened,
        text_kept: bool,
    ) -> Result<(), StateError> {
        let record_key = keys::case(event.case_id);
        if state.get(&record_key)?.is_some() {
            // A case is opened once; the aggregate refuses a second opening.
            return Ok(());
        }
        let mut record = CaseRecord {
            id: event.case_id,
            customer: event.customer_id,
            kind: event.kind,
            priority: event.priority,
            status: CaseStatus::Open,
            owner: None,
            opened_at,
            deadline: event.deadline,
            recorded_deadline: event.deadline,
            deadline_working_hours: event.deadline_working_hours,
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
            policy_number: event.policy_number.clone(),
            claim_number: event.claim_number.clone(),
            opening_contact: event.contact_id,
            subject: (text_kept && !is_erased(state, event.customer_id)?)
                .then(|| event.subject.clone()),
            resolution: None,
            risk_survey: None,
            calendar_notes: Vec::new(),
            cycle_opened_at: opened_at,
            earlier_cycles_open_seconds: Some(0),
        };
        if let Some(hours) = event.deadline_working_hours {
            match self.calendar.add_working_hours(opened_at, u32::from(hours)) {
                Ok(deadline) => record.deadline = deadline,
                Err(error) => record.note(format!(
                    "deadline: {error}; the recorded deadline {} is used",
                    event.deadline
                )),
            }
        }
        let owner = history_owner(state, event.customer_id)?;
        let history_key = keys::index(&keys::customer_history(owner), opened_at, &record_key);
        state.put(history_key, record_key.clone());
        reindex(state, &[], &queue_keys(&record), &record_key);
        STATE.write(state, record_key, &record)
    }

    pub(super) fn case_assigned(
        &self,
        state: &mut dyn StateWrite,
        at: Timestamp,
        event: &ServiceCaseAssigned,
    ) -> Result<(), StateError> {
        update_case(state, event.case_id, |record| {
            record.owner = Some(event.assignee.clone());
            self.responded(record, at);
        })
    }

    pub(super) fn case_escalated(
        &self,
        state: &mut dyn StateWrite,
        at: Timestamp,
        event: &ServiceCaseEscalated,
    ) -> Result<(), StateError> {
        update_case(state, event.case_id, |record| {
            record.owner = Some(event.escalated_to.clone());
            record.priority = event.priority;
            record.escalation_level = event.level;
            // The event repeats the aggregate's deadline when the escalation did not move
            // it; only a different instant is a new deadline. Comparing with the recorded
            // deadline keeps a calendar-derived deadline in force.
            if event.deadline != record.recorded_deadline {
                record.deadline = event.deadline;
                record.recorded_deadline = event.deadline;
                // The new deadline is an instant, no longer the promise in working hours.
                record.deadline_working_hours = None;
            }
            self.responded(record, at);
        })
    }

    /// Resolves an open case; its resolution is kept as [`Self::case_opened`] keeps a subject.
    pub(super) fn case_resolved(
        &self,
        state: &mut dyn StateWrite,
        resolved_at: Timestamp,
        event: &ServiceCaseResolved,
        text_kept: bool,
    ) -> Result<(), StateError> {
        let erased = !text_kept || is_erased(state, event.customer_id)?;
        update_case(state, event.case_id, |record| {
            if record.status != CaseStatus::Open {
                return;
            }
            self.responded(record, resolved_at);
            record.resolution = (!erased).then(|| event.resolution.clone());
            let late = resolved_at > record.deadline;
            record.status = CaseStatus::Resolved;
            record.resolved_at = Some(resolved_at);
            record.resolved_late = Some(late);
            if late {
                record.late_resolutions = record.late_resolutions.saturating_add(1);
            }
            let cycle = self.measure("time to resolution", record.cycle_opened_at, resolved_at);
            record.time_to_resolution_seconds = match (record.earlier_cycles_open_seconds, cycle) {
                (Some(earlier), Ok(cycle)) => Some(earlier.saturating_add(cycle)),
                (None, _) => None,
                (Some(_), Err(note)) => {
                    record.note(note);
                    None
                }
            };
        })
    }

    pub(super) fn case_reopened(
        &self,
        state: &mut dyn StateWrite,
        reopened_at: Timestamp,
        event: &ServiceCaseReopened,
    ) -> Result<(), StateError> {
        update_case(state, event.case_id, |record| {
            if record.status == CaseStatus::Open {
                return;
            }
            record.status = CaseStatus::Open;
            record.reopened_count = record.reopened_count.saturating_add(1);
            record.earlier_cycles_open_seconds = record.time_to_resolution_seconds;
            record.cycle_opened_at = reopened_at;
            record.deadline = event.deadline;
            record.recorded_deadline = event.deadline;
            record.deadline_working_hours = None;
            record.resolved_at = None;
            record.resolution = None;
            record.closed_at = None;
            // The cycle's verdict goes with it; `late_resolutions` keeps the breach.
            record.resolved_late = None;
            record.time_to_resolution_seconds = None;
        })
    }

    pub(super) fn case_closed(
        &self,
        state: &mut dyn StateWrite,
        closed_at: Timestamp,
        event: &ServiceCaseClosed,
    ) -> Result<(), StateError> {
        update_case(state, event.case_id, |record| {
            if record.status != CaseStatus::Resolved {
                return;
            }
            record.status = CaseStatus::Closed;
            record.closed_at = Some(closed_at);
        })
    }

    /// Records the case's risk survey; the recommendations' text is kept as
    /// [`Self::case_opened`] keeps a subject.
    pub(super) fn risk_survey_completed(
        &self,
        state: &mut dyn StateWrite,
        completed_at: Timestamp,
        event: &RiskSurveyCompleted,
        text_kept: bool,
    ) -> Result<(), StateError> {
        let erased = !text_kept || is_erased(state, event.customer_id)?;
        update_case(state, event.case_id, |record| {
            if record.risk_survey.is_some() {
                // A case is surveyed once; the aggregate refuses a second survey.
                return;
            }
            let recommendations = event
                .recommendations
                .iter()
                .map(|recommendation| RecommendationRecord {
                    number: recommendation.number,
                    text: (!erased).then(|| recommendation.text.clone()),
                    due_on: recommendation.due_on,
                    followed_up: false,
                    status: None,
                    follow_ups: 0,
                    last_followed_up_at: None,
                    last_followed_up_by: None,
                })
                .collect();
            record.risk_survey = Some(RiskSurveyRecord {
                completed_at,
                surveyor: event.surveyor.clone(),
                recommendations,
            });
        })
    }

    pub(super) fn risk_recommendation_followed_up(
        &self,
        state: &mut dyn StateWrite,
        at: Timestamp,
        event: &RiskRecommendationFollowedUp,
    ) -> Result<(), StateError> {
        update_case(state, event.case_id, |record| {
            let recommendation = record.risk_survey.as_mut().and_then(|survey| {
                survey
                    .recommendations
                    .iter_mut()
                    .find(|recommendation| recommendation.number == event.recommendation)
            });
            // The aggregate accepts follow-ups of the survey's recommendations only.
            let Some(recommendation) = recommendation else {
                return;
            };
            recommendation.followed_up = true;
            recommendation.status = Some(event.status);
            recommendation.follow_ups = recommendation.follow_ups.saturating_add(1);
            recommendation.last_followed_up_at = Some(at);
            recommendation.last_followed_up_by = Some(event.followed_up_by.clone());
        })
    }

    /// A contact as recorded, or as a correction restates it: an outbound contact about a
    /// case, other than the one it was opened in, is a response. A correction replaces every
    /// fact of the contact (a `caseId` left out means no case), so the contact answers whatever
    /// case the corrected facts say, at the corrected start, or none: its earlier response, if
    /// any, is taken back first.
    pub(super) fn contact(
        &self,
        state: &mut dyn StateWrite,
        contact_id: ContactId,
        case_id: Option<CaseId>,
        direction: Direction,
        started_at: Timestamp,
    ) -> Result<(), StateError> {
        let response = response_of(state, contact_id, case_id, direction)?
            .map(|case| ContactResponse { case, started_at });
        self.contact_stands(state, contact_id, response)
    }

    /// Makes `response` the contact's (`None`: it answers no case), moving its `response/`
    /// entry, and sets the first response of each case that gained or lost it anew.
    fn contact_stands(
        &self,
        state: &mut dyn StateWrite,
        contact: ContactId,
        response: Option<ContactResponse>,
    ) -> Result<(), StateError> {
        let contact_key = keys::contact(contact);
        let before = STATE.read::<ContactResponse, _>(state, &contact_key)?;
        if before == response {
            return Ok(());
        }
        if let Some(before) = before {
            state.delete(&keys::response(before.case, before.started_at, contact));
            state.delete(&contact_key);
        }
        if let Some(after) = response {
            state.put(
                keys::response(after.case, after.started_at, contact),
                keys::case(after.case),
            );
            STATE.write(state, contact_key, &after)?;
        }
        let mut touched: Vec<CaseId> = before
            .iter()
            .chain(&response)
            .map(|link| link.case)
            .collect();
        touched.dedup();
        for case in touched {
            let earliest = earliest_contact_response(state, case)?;
            update_case(state, case, |record| self.first_response(record, earliest))?;
        }
        Ok(())
    }

    /// Records an assignment, escalation or resolution at `at` as a response, the first if
    /// it is earlier than every other.
    fn responded(&self, record: &mut CaseRecord, at: Timestamp) {
        let earliest = match record.first_non_contact_response_at {
            Some(earlier) => earlier.min(at),
            None => at,
        };
        record.first_non_contact_response_at = Some(earliest);
        // The contacts' earliest response is already in `first_response_at`; an action never
        // takes one back, so the first response can only move earlier.
        let first = record
            .first_response_at
            .map_or(earliest, |first| first.min(earliest));
        self.first_response(record, Some(first));
    }

    /// Sets the first response to the earliest of `earliest_contact` and the case's other
    /// responses, measuring it anew when it moved. A response stamped before the opening
    /// counts as at the opening.
    fn first_response(&self, record: &mut CaseRecord, earliest_contact: Option<Timestamp>) {
        let first = [record.first_non_contact_response_at, earliest_contact]
            .into_iter()
            .flatten()
            .min()
            .map(|at| at.max(record.opened_at));
        if first == record.first_response_at {
            return;
        }
        record.first_response_at = first;
        let Some(at) = first else {
            record.time_to_first_response_seconds = None;
            return;
        };
        match self.measure("time to first response", record.opened_at, at) {
            Ok(seconds) => record.time_to_first_response_seconds = Some(seconds),
            Err(note) => {
                record.time_to_first_response_seconds = None;
                record.note(note);
            }
        }
    }
}

/// What the fold remembers of a contact while it counts as a response (`contact/{id}`): the
/// case it answers and its start, so a correction can find its `response/` entry and take it
/// back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
struct ContactResponse {
    case: CaseId,
    started_at: Timestamp,
}

/// The case a contact with these facts answers, if it is a response: an outbound contact
/// about a case the projection has seen opened, other than the contact it was opened in.
/// Inbound contacts are not responses: a customer chasing a case is not one.
fn response_of(
    state: &dyn StateWrite,
    contact: ContactId,
    case: Option<CaseId>,
    direction: Direction,
) -> Result<Option<CaseId>, StateError> {
    let Some(case) = case else {
        return Ok(None);
    };
    if direction != Direction::Outbound {
        return Ok(None);
    }
    let Some(record) = STATE.read::<CaseRecord, _>(state, &keys::case(case))? else {
        return Ok(None);
    };
    Ok((record.opening_contact != Some(contact)).then_some(case))
}

/// The start of the earliest contact answering `case`: the first of its `response/` entries.
fn earliest_contact_response(
    state: &dyn StateWrite,
    case: CaseId,
) -> Result<Option<Timestamp>, StateError> {
    let prefix = keys::responses(case);
    let Some((key, _)) = state.prefix(&prefix, Order::Ascending, 1)?.pop() else {
        return Ok(None);
    };
    keys::instant_of(&key[prefix.len()..])
        .map(Some)
        .ok_or_else(|| {
            StateError(format!(
                "service-history: {} is no response key",
                describe(&key)
            ))
        })
}

/// Loads case `id`, applies `change`, and writes the record and its queue entries back. An
/// event for a case the projection has not seen opened changes nothing.
fn update_case(
    state: &mut dyn StateWrite,
    id: CaseId,
    change: impl FnOnce(&mut CaseRecord),
) -> Result<(), StateError> {
    let record_key = keys::case(id);
    let Some(mut record) = STATE.read::<CaseRecord, _>(state, &record_key)? else {
        return Ok(());
    };
    let original = record.clone();
    change(&mut record);
    if record == original {
        return Ok(());
    }
    debug_assert_eq!(record.id, id, "a change never moves a record");
    reindex(
        state,
        &queue_keys(&original),
        &queue_keys(&record),
        &record_key,
    );
    STATE.write(state, record_key, &record)
}

/// Whether the customer's personal data was erased: the text of their cases is not kept.
fn is_erased(state: &dyn StateWrite, customer: CustomerId) -> Result<bool, StateError> {
    Ok(state.get(&keys::erased(customer))?.is_some())
}
