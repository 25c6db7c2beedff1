//! The read model's records: one [`CaseRecord`] per service case and one [`ClaimRecord`] per
//! claim, as stored (with the codec) and as the queries return them.
//!
//! A record shows its current cycle: when a case or claim is reopened, the fields of the
//! ended cycle (resolution, closing, settlement, rejection, the cycle's lateness) are cleared,
//! and what must survive the reopening is kept in counters and sums (`reopened_count`,
//! `late_resolutions`, `late_decisions`, `total_settled`, the open time of earlier cycles). A
//! case's breach is one of those: it breached once any cycle was resolved late; so is a
//! claim's being past its guarantee: it is once any cycle was decided late.

use jiff::Timestamp;
use jiff::civil::Date;
use ledger_domain::ids::{CaseId, ContactId, CustomerId, StaffId};
use ledger_domain::kinds::{ClaimRejectionReason, Priority, RecommendationStatus, ServiceCaseKind};
use ledger_domain::values::{ClaimNumber, FreeText, Money, PolicyNumber};
use serde::{Deserialize, Serialize};

use crate::guarantees::GuaranteeSource;

/// The most calendar notes one record keeps. A record meets the calendar a handful of times
/// (deadline, first response, each resolution or decision); past this, further notes say
/// nothing new and are dropped.
pub const CALENDAR_NOTES_MAX: usize = 8;

/// Where a service case is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum CaseStatus {
    Open,
    Resolved,
    Closed,
}

/// One service case as the service history shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseRecord {
    pub id: CaseId,
    /// The customer the case's events name (the merged-away customer after a merge; the
    /// survivor's history still lists the case).
    pub customer: CustomerId,
    pub kind: ServiceCaseKind,
    pub priority: Priority,
    pub status: CaseStatus,
    /// Whoever the case was last handed to: its last assignee or, after an escalation, the
    /// person it was escalated to.
    pub owner: Option<StaffId>,
    pub opened_at: Timestamp,
    /// The deadline in force. For a case opened with a deadline in working hours, the
    /// business calendar's deadline from `opened_at`; otherwise (or when the calendar cannot
    /// answer, see `calendar_notes`) the deadline the event recorded.
    pub deadline: Timestamp,
    /// The deadline as the last event that set it recorded it.
    pub recorded_deadline: Timestamp,
    /// The deadline as promised to the customer, when it was promised in working hours and
    /// is still in force (an escalation's or reopening's new deadline is an instant).
    pub deadline_working_hours: Option<u16>,
    /// See the crate documentation for what counts as a first response: the earliest of
    /// `first_non_contact_response_at` and the case's responding contacts as they stand after
    /// every correction, and never before `opened_at`.
    pub first_response_at: Option<Timestamp>,
    /// The earliest response that was not a contact: an assignment, an escalation or a
    /// resolution. Kept apart from the contacts' because a contact correction can take a
    /// contact's response back, and the first response then falls back to the earliest left.
    pub first_non_contact_response_at: Option<Timestamp>,
    /// When the current cycle was resolved; `None` while open.
    pub resolved_at: Option<Timestamp>,
    /// When the current cycle was closed.
    pub closed_at: Option<Timestamp>,
    pub reopened_count: u16,
    /// 0 until escalated, then the level of the last escalation.
    pub escalation_level: u16,
    /// Working seconds from opening to the first response.
    pub time_to_first_response_seconds: Option<u64>,
    /// Working seconds the case spent open, summed over its cycles, up to the last
    /// resolution; `None` while open or when the calendar could not measure a cycle.
    pub time_to_resolution_seconds: Option<u64>,
    /// Whether the current cycle was resolved after its deadline; `None` while open. This is
    /// one cycle's verdict, not the case's: a case breached when any of its cycles did (see
    /// [`CaseRecord::is_breached`]).
    pub resolved_late: Option<bool>,
    /// Resolutions, over all cycles, that came after their deadline. Never goes down: a
    /// reopening resolved on time does not take an earlier breach back.
    pub late_resolutions: u16,
    pub policy_number: Option<PolicyNumber>,
    pub claim_number: Option<ClaimNumber>,
    /// The contact during which the case was opened; it is not a response.
    pub opening_contact: Option<ContactId>,
    /// What the case is about, as opened; `None` once the customer's personal data is erased.
    pub subject: Option<FreeText>,
    /// How the current cycle was resolved; `None` while open, and once erased.
    pub resolution: Option<FreeText>,
    /// The risk survey of a `RISK_SURVEY` case, once completed.
    pub risk_survey: Option<RiskSurveyRecord>,
    /// Why a calendar-derived field is missing or fell back to the recorded value.
    pub calendar_notes: Vec<String>,
    /// When the current open cycle began (`opened_at`, or the last reopening).
    pub cycle_opened_at: Timestamp,
    /// Working seconds spent open in the cycles before the current one; `None` once one of
    /// them could not be measured.
    pub earlier_cycles_open_seconds: Option<u64>,
}

impl CaseRecord {
    /// Whether the case breached its deadline in any of its cycles, as seen at `now`: one of
    /// its resolutions came after the deadline then in force, or it is open past its deadline
    /// now ([`CaseRecord::is_overdue`]). A supervisor auditing breaches needs every one, so a
    /// reopening resolved on time does not take an earlier breach back. The breached-only
    /// listings ([`crate::cases`], [`crate::breached_cases`]) hold exactly these cases.
    pub fn is_breached(&self, now: Timestamp) -> bool {
        self.was_resolved_late() || self.is_overdue(now)
    }

    /// Whether the current cycle is open past its deadline at `now`: the breach still to act
    /// on. Exactly at the deadline is not yet past it.
    pub fn is_overdue(&self, now: Timestamp) -> bool {
        self.status == CaseStatus::Open && now > self.deadline
    }

    /// Whether any cycle was resolved after its deadline: the part of a breach the fold fixes,
    /// which needs no clock (it decides the `late/` queue entries).
    pub fn was_resolved_late(&self) -> bool {
        self.late_resolutions > 0
    }

    pub(crate) fn note(&mut self, note: String) {
        if self.calendar_notes.len() < CALENDAR_NOTES_MAX {
            self.calendar_notes.push(note);
        }
    }
}

/// A completed risk survey and where its recommendations stand.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RiskSurveyRecord {
    pub completed_at: Timestamp,
    pub surveyor: StaffId,
    pub recommendations: Vec<RecommendationRecord>,
}

/// One recommendation of a risk survey and its follow-up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecommendationRecord {
    pub number: u16,
    /// `None` once the customer's personal data is erased (free text is personal data).
    pub text: Option<FreeText>,
    pub due_on: Date,
    /// Whether anyone has followed the recommendation up with the customer.
    pub followed_up: bool,
    /// The status the last follow-up found.
    pub status: Option<RecommendationStatus>,
    pub follow_ups: u16,
    pub last_followed_up_at: Option<Timestamp>,
    pub last_followed_up_by: Option<StaffId>,
}

/// Where a claim is in its handling.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ClaimStatus {
    Reported,
    Surveyed,
    DocumentsRequested,
    DocumentsCompleted,
    Settled,
    Rejected,
    Reopened,
}

impl ClaimStatus {
    /// Whether the claim still awaits a decision (neither settled nor rejected).
    pub fn is_open(self) -> bool {
        !matches!(self, Self::Settled | Self::Rejected)
    }
}

/// One claim as the service history shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClaimRecord {
    pub number: ClaimNumber,
    pub policy: PolicyNumber,
    pub customer: CustomerId,
    pub status: ClaimStatus,
    pub loss_occurred_at: Timestamp,
    pub reported_at: Timestamp,
    pub surveyed_at: Option<Timestamp>,
    pub surveyor: Option<StaffId>,
    pub documents_requested_at: Option<Timestamp>,
    /// When the documents were last completed; the guarantee runs from here.
    pub documents_completed_at: Option<Timestamp>,
    pub settled_at: Option<Timestamp>,
    pub rejected_at: Option<Timestamp>,
    pub rejection_reason: Option<ClaimRejectionReason>,
    /// The amount of the current cycle's settlement.
    pub amount_settled: Option<Money>,
    /// Every settlement of the claim, over all cycles.
    pub total_settled: Money,
    /// The guarantee the claim carried when reported, if any.
    pub promised_working_days: Option<u16>,
    /// The guarantee applied when the documents were completed, and where it came from.
    pub guarantee_working_days: Option<u16>,
    pub guarantee_source: Option<GuaranteeSource>,
    /// Closing time of the guarantee's last working day; `None` until the documents are
    /// complete, or when the calendar could not answer (see `calendar_notes`).
    pub guarantee_due: Option<Timestamp>,
    /// Whether the current cycle's decision came after `guarantee_due`; `None` until decided,
    /// and for a decision with no guarantee running (a rejection before the documents were
    /// complete). This is one cycle's verdict, not the claim's: a claim is past its guarantee
    /// when any of its cycles was (see [`ClaimRecord::is_past_guarantee`]).
    pub decided_late: Option<bool>,
    /// Decisions, over all cycles, that came after their guarantee. Never goes down: a
    /// reopening decided on time does not take an earlier breach back.
    pub late_decisions: u16,
    pub reopened_count: u16,
    pub calendar_notes: Vec<String>,
}

impl ClaimRecord {
    /// Whether the claim missed its time guarantee in any of its cycles, as seen at `now`: one
    /// of its decisions came after the guarantee then running, or it awaits a decision past its
    /// due time now ([`ClaimRecord::is_overdue`]). A supervisor auditing guarantee breaches
    /// needs every one, so a reopening decided on time does not take an earlier breach back.
    /// [`crate::claims_past_guarantee`] lists exactly these claims.
    pub fn is_past_guarantee(&self, now: Timestamp) -> bool {
        self.was_decided_late() || self.is_overdue(now)
    }

    /// Whether the current cycle awaits a decision past its guarantee's due time at `now`: the
    /// breach still to act on. Only a claim with its documents complete has a guarantee
    /// running; exactly at the due time is not yet past it.
    pub fn is_overdue(&self, now: Timestamp) -> bool {
        self.status == ClaimStatus::DocumentsCompleted
            && self.guarantee_due.is_some_and(|due| now > due)
    }

    /// Whether any cycle was decided after its guarantee: the part of a breach the fold fixes,
    /// which needs no clock (it decides the `claimlate/` and `claimlateopen/` entries).
    pub fn was_decided_late(&self) -> bool {
        self.late_decisions > 0
    }

    /// When the current cycle was decided.
    pub fn decided_at(&self) -> Option<Timestamp> {
        match self.status {
            ClaimStatus::Settled => self.settled_at,
            ClaimStatus::Rejected => self.rejected_at,
            _ => None,
        }
    }

    pub(crate) fn note(&mut self, note: String) {
        if self.calendar_notes.len() < CALENDAR_NOTES_MAX {
            self.calendar_notes.push(note);
        }
    }
}

/// One entry of a customer's service history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HistoryItem {
    Case(CaseRecord),
    Claim(ClaimRecord),
}
