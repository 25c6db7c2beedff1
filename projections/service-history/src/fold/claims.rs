//! Claim events folded into [`ClaimRecord`]s and the claim queues.
//!
//! The guarantee starts when the documents are complete: its length comes from the claim's
//! own promise, else from the guarantee table by the policy's product lines, and its due time
//! is closing time of that many working days later. A claim is in `claimdue/` while it waits
//! for a decision with documents complete. Once any of its cycles was decided after its due
//! time it is in `claimlate/` while decided, and in `claimlateopen/` while reopened, so the
//! breach outlives a reopening decided on time. Reopening clears the due time: the aggregate
//! lets a reopened claim be settled only after its documents are completed again, and that
//! completion starts a new guarantee.
//!
//! Settling, rejecting and reopening follow the aggregate's rules (a decision only for an
//! undecided claim, a reopening only for a decided one); anything else changes nothing.

use jiff::Timestamp;
use ledger_domain::events::{
    ClaimDocumentsCompleted, ClaimDocumentsRequested, ClaimRejected, ClaimReopened, ClaimReported,
    ClaimSettled, ClaimSurveyed,
};
use ledger_domain::kinds::ProductLine;
use ledger_domain::projection::{StateError, StateWrite};
use ledger_domain::values::{ClaimNumber, Money};

use super::ServiceHistory;
use crate::guarantees::GuaranteeSource;
use crate::keys;
use crate::records::{ClaimRecord, ClaimStatus};
use crate::storage::{STATE, history_owner, reindex};

/// The queue entries a claim belongs in: awaiting a decision with its documents complete, in
/// `claimdue/` by its due time; and once any of its cycles was decided after its guarantee,
/// again in `claimlate/` by when it was decided, or, reopened, in `claimlateopen/` by its due
/// time, so the past-guarantee listing finds a breach a reopening decided on time since (a
/// claim awaiting a decision past its due time now is found by due time in `claimdue/`).
pub(crate) fn queue_keys(record: &ClaimRecord) -> Vec<Vec<u8>> {
    let item = record.number.as_str().as_bytes();
    let mut keys = Vec::new();
    let awaiting = record.status == ClaimStatus::DocumentsCompleted;
    let running_due = record.guarantee_due.filter(|_| awaiting);
    if let Some(due) = running_due {
        keys.push(keys::index(keys::CLAIM_DUE, due, item));
    }
    if record.was_decided_late() {
        if record.status.is_open() {
            // A reopened claim with no guarantee running (awaiting its documents again) has no
            // due time to be listed by; it sorts after every one, as the furthest from overdue.
            let due = running_due.unwrap_or(Timestamp::MAX);
            keys.push(keys::index(keys::CLAIM_LATE_OPEN, due, item));
        } else if let Some(decided_at) = record.decided_at() {
            keys.push(keys::index(keys::CLAIM_LATE, decided_at, item));
        }
    }
    keys
}

impl ServiceHistory {
    pub(super) fn claim_reported(
        &self,
        state: &mut dyn StateWrite,
        reported_at: Timestamp,
        event: &ClaimReported,
    ) -> Result<(), StateError> {
        let record_key = keys::claim(&event.claim_number);
        if state.get(&record_key)?.is_some() {
            // A claim is reported once; the aggregate refuses a second report.
            return Ok(());
        }
        let record = ClaimRecord {
            number: event.claim_number.clone(),
            policy: event.policy_number.clone(),
            customer: event.customer_id,
            status: ClaimStatus::Reported,
            loss_occurred_at: event.loss_occurred_at,
            reported_at,
            surveyed_at: None,
            surveyor: None,
            documents_requested_at: None,
            documents_completed_at: None,
            settled_at: None,
            rejected_at: None,
            rejection_reason: None,
            amount_settled: None,
            total_settled: Money::ZERO,
            promised_working_days: event.time_guarantee_working_days,
            guarantee_working_days: None,
            guarantee_source: None,
            guarantee_due: None,
            decided_late: None,
            late_decisions: 0,
            reopened_count: 0,
            calendar_notes: Vec::new(),
        };
        let owner = history_owner(state, event.customer_id)?;
        let history_key = keys::index(&keys::customer_history(owner), reported_at, &record_key);
        state.put(history_key, record_key.clone());
        reindex(state, &[], &queue_keys(&record), &record_key);
        STATE.write(state, record_key, &record)
    }

    pub(super) fn claim_surveyed(
        &self,
        state: &mut dyn StateWrite,
        at: Timestamp,
        event: &ClaimSurveyed,
    ) -> Result<(), StateError> {
        update_claim(state, &event.claim_number, |record| {
            record.status = ClaimStatus::Surveyed;
            record.surveyed_at = Some(at);
            record.surveyor = Some(event.surveyor.clone());
        })
    }

    pub(super) fn claim_documents_requested(
        &self,
        state: &mut dyn StateWrite,
        at: Timestamp,
        event: &ClaimDocumentsRequested,
    ) -> Result<(), StateError> {
        update_claim(state, &event.claim_number, |record| {
            record.status = ClaimStatus::DocumentsRequested;
            record.documents_requested_at = Some(at);
        })
    }

    pub(super) fn claim_documents_completed(
        &self,
        state: &mut dyn StateWrite,
        completed_at: Timestamp,
        event: &ClaimDocumentsCompleted,
    ) -> Result<(), StateError> {
        let Some(claim) = STATE.read::<ClaimRecord, _>(state, &keys::claim(&event.claim_number))?
        else {
            return Ok(());
        };
        let lines: Vec<ProductLine> = STATE
            .read(state, &keys::policy(&claim.policy))?
            .unwrap_or_default();
        let (days, source) = match claim.promised_working_days {
            Some(days) => (days, GuaranteeSource::Claim),
            None => self.guarantees.for_policy(&lines),
        };
        update_claim(state, &event.claim_number, |record| {
            record.status = ClaimStatus::DocumentsCompleted;
            record.documents_completed_at = Some(completed_at);
            record.guarantee_working_days = Some(days);
            record.guarantee_source = Some(source);
            record.decided_late = None;
            record.guarantee_due = match self
                .calendar
                .add_working_days(completed_at, u32::from(days))
            {
                Ok(due) => Some(due),
                Err(error) => {
                    record.note(format!("guarantee due time: {error}"));
                    None
                }
            };
        })
    }

    pub(super) fn claim_settled(
        &self,
        state: &mut dyn StateWrite,
        settled_at: Timestamp,
        event: &ClaimSettled,
    ) -> Result<(), StateError> {
        update_claim(state, &event.claim_number, |record| {
            if !record.status.is_open() {
                return;
            }
            record.status = ClaimStatus::Settled;
            record.settled_at = Some(settled_at);
            record.amount_settled = Some(event.amount);
            // Overflow needs more than 92 quadrillion yuan paid on one claim; the sum would
            // stop growing rather than wrap.
            record.total_settled = record
                .total_settled
                .checked_add(event.amount)
                .unwrap_or(record.total_settled);
            decided(record, settled_at);
        })
    }

    pub(super) fn claim_rejected(
        &self,
        state: &mut dyn StateWrite,
        rejected_at: Timestamp,
        event: &ClaimRejected,
    ) -> Result<(), StateError> {
        update_claim(state, &event.claim_number, |record| {
            if !record.status.is_open() {
                return;
            }
            record.status = ClaimStatus::Rejected;
            record.rejected_at = Some(rejected_at);
            record.rejection_reason = Some(event.reason);
            decided(record, rejected_at);
        })
    }

    pub(super) fn claim_reopened(
        &self,
        state: &mut dyn StateWrite,
        event: &ClaimReopened,
    ) -> Result<(), StateError> {
        update_claim(state, &event.claim_number, |record| {
            if record.status.is_open() {
                return;
            }
            record.status = ClaimStatus::Reopened;
            record.reopened_count = record.reopened_count.saturating_add(1);
            record.settled_at = None;
            record.rejected_at = None;
            record.rejection_reason = None;
            record.amount_settled = None;
            record.guarantee_working_days = None;
            record.guarantee_source = None;
            record.guarantee_due = None;
            // The cycle's verdict goes with it; `late_decisions` keeps the breach.
            record.decided_late = None;
        })
    }
}

/// Fixes whether the decision at `decided_at` kept the guarantee. A claim decided before its
/// documents were complete (a rejection) had no guarantee running, so has no verdict.
fn decided(record: &mut ClaimRecord, decided_at: Timestamp) {
    record.decided_late = record.guarantee_due.map(|due| decided_at > due);
    if record.decided_late == Some(true) {
        record.late_decisions = record.late_decisions.saturating_add(1);
    }
}

/// Loads claim `number`, applies `change`, and writes the record and its queue entries back.
/// An event for a claim the projection has not seen reported changes nothing.
fn update_claim(
    state: &mut dyn StateWrite,
    number: &ClaimNumber,
    change: impl FnOnce(&mut ClaimRecord),
) -> Result<(), StateError> {
    let record_key = keys::claim(number);
    let Some(mut record) = STATE.read::<ClaimRecord, _>(state, &record_key)? else {
        return Ok(());
    };
    let original = record.clone();
    change(&mut record);
    if record == original {
        return Ok(());
    }
    debug_assert_eq!(&record.number, number, "a change never moves a record");
    reindex(
        state,
        &queue_keys(&original),
        &queue_keys(&record),
        &record_key,
    );
    STATE.write(state, record_key, &record)
}
