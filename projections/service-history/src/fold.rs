//! The fold: [`ServiceHistory`] turns ledger events into case and claim records, the
//! customers' history indexes and the supervisors' queues.
//!
//! One submodule per family of events: `cases` (service cases, risk surveys and the contacts
//! that answer a case), `claims`, and `customers` (merges, erasure, and the product lines of
//! policies that claim guarantees look up). Every change to a record goes through
//! `update_case` or `update_claim`, which recompute the record's queue entries from the
//! record before and after the change, so a queue can never disagree with its records.

mod cases;
mod claims;
mod customers;

use jiff::Timestamp;
use ledger_domain::events::Event;
use ledger_domain::projection::{Envelope, Projection, StateError, StateWrite};

use crate::calendar::{BusinessCalendar, CalendarError};
use crate::guarantees::{ClaimGuarantees, GuaranteeError};

/// The service-history projection: a pure fold over the log, configured with the business
/// calendar deadlines run on and the claim guarantee table.
///
/// Changing either file changes what the fold derives (deadlines, due times, working-time
/// measures) without a new event, so after such a change the projection must be rebuilt.
#[derive(Debug, Clone)]
pub struct ServiceHistory {
    calendar: BusinessCalendar,
    guarantees: ClaimGuarantees,
    /// Identifies the calendar and guarantee data the fold derives deadlines from; part of
    /// [`Projection::version`], so new holiday data rebuilds the read model by itself.
    pub(crate) data_fingerprint: u32,
}

/// The shipped calendar or guarantee table could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("business calendar: {0}")]
    Calendar(#[from] CalendarError),
    #[error("claim guarantees: {0}")]
    Guarantees(#[from] GuaranteeError),
}

impl ServiceHistory {
    /// The projection's stable name: its keyspace, its checkpoint, its name on the CLI.
    pub const NAME: &'static str = "service-history";

    /// The layout version of what `apply` writes; bump it when the layout or a derivation
    /// changes, so the runner rebuilds.
    /// 3: a reopened case's old resolution is cleared.
    /// 4: a deadline replaced by an escalation or a reopening is no longer "in working hours".
    /// 5: an event that reads redacted keeps no text (a case's subject was kept blank).
    /// 6: a case resolved late in any cycle stays under `late/` (and `late/open/` while
    ///    reopened); only the current cycle's late resolution was.
    /// 7: a claim decided late in any cycle stays under `claimlate/` (and `claimlateopen/`
    ///    while reopened); only the current cycle's late decision was.
    /// 8: a contact correction takes back, adds or moves the contact's response to a case
    ///    (`first_non_contact_response_at`, `contact/` and `response/` keep what it needs).
    pub const VERSION: u32 = 8;

    /// The projection over `calendar` and `guarantees`, whose source texts `data` identify
    /// (a change of data changes [`Projection::version`], so the runner rebuilds).
    pub fn new(calendar: BusinessCalendar, guarantees: ClaimGuarantees, data: &[&str]) -> Self {
        let mut hasher = blake3::Hasher::new();
        for text in data {
            hasher.update(&u64::try_from(text.len()).unwrap_or(u64::MAX).to_be_bytes());
            hasher.update(text.as_bytes());
        }
        let digest = hasher.finalize();
        let mut first = [0u8; 4];
        first.copy_from_slice(&digest.as_bytes()[..4]);
        Self {
            calendar,
            guarantees,
            data_fingerprint: u32::from_be_bytes(first),
        }
    }

    /// The projection with the calendar and guarantee table shipped in this crate.
    pub fn shipped() -> Result<Self, ConfigError> {
        Ok(Self::new(
            BusinessCalendar::shipped()?,
            ClaimGuarantees::shipped()?,
            &[
                crate::calendar::SHIPPED_CALENDAR_TOML,
                crate::guarantees::SHIPPED_GUARANTEES_TOML,
            ],
        ))
    }

    pub fn calendar(&self) -> &BusinessCalendar {
        &self.calendar
    }

    pub fn guarantees(&self) -> &ClaimGuarantees {
        &self.guarantees
    }

    /// Working seconds from `from` to `to`, or the note that says why there are none.
    fn measure(&self, what: &str, from: Timestamp, to: Timestamp) -> Result<u64, String> {
        self.calendar
            .working_seconds_between(from, to)
            .map_err(|error| format!("{what}: {error}"))
    }
}

impl Projection for ServiceHistory {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    /// The layout version combined with the fingerprint of the calendar and guarantee data.
    fn version(&self) -> u32 {
        Self::VERSION.wrapping_mul(0x9E37_79B9) ^ self.data_fingerprint
    }

    fn apply(&self, envelope: &Envelope<'_>, state: &mut dyn StateWrite) -> Result<(), StateError> {
        let at = envelope.occurred_at;
        // An event that reads redacted keeps no text: its personal fields could not be opened
        // (its customer's key was destroyed, or stayed in the ledger this one was imported
        // from), and read as erased, as an erased customer's do.
        let text_kept = !envelope.redacted;
        match envelope.event {
            Event::ServiceCaseOpened(event) => self.case_opened(state, at, event, text_kept),
            Event::ServiceCaseAssigned(event) => self.case_assigned(state, at, event),
            Event::ServiceCaseEscalated(event) => self.case_escalated(state, at, event),
            Event::ServiceCaseResolved(event) => self.case_resolved(state, at, event, text_kept),
            Event::ServiceCaseReopened(event) => self.case_reopened(state, at, event),
            Event::ServiceCaseClosed(event) => self.case_closed(state, at, event),
            Event::RiskSurveyCompleted(event) => {
                self.risk_survey_completed(state, at, event, text_kept)
            }
            Event::RiskRecommendationFollowedUp(event) => {
                self.risk_recommendation_followed_up(state, at, event)
            }
            Event::ContactRecorded(event) => self.contact(
                state,
                event.contact_id,
                event.case_id,
                event.direction,
                event.started_at,
            ),
            Event::ContactCorrected(event) => self.contact(
                state,
                event.contact_id,
                event.case_id,
                event.direction,
                event.started_at,
            ),
            Event::ClaimReported(event) => self.claim_reported(state, at, event),
            Event::ClaimSurveyed(event) => self.claim_surveyed(state, at, event),
            Event::ClaimDocumentsRequested(event) => {
                self.claim_documents_requested(state, at, event)
            }
            Event::ClaimDocumentsCompleted(event) => {
                self.claim_documents_completed(state, at, event)
            }
            Event::ClaimSettled(event) => self.claim_settled(state, at, event),
            Event::ClaimRejected(event) => self.claim_rejected(state, at, event),
            Event::ClaimReopened(event) => self.claim_reopened(state, event),
            Event::PolicyIssued(event) => {
                customers::policy_lines(state, &event.policy_number, &event.product_lines)
            }
            Event::PolicyRenewed(event) => {
                customers::policy_lines(state, &event.policy_number, &event.product_lines)
            }
            Event::PolicyEndorsed(event) => match &event.product_lines {
                Some(lines) => customers::policy_lines(state, &event.policy_number, lines),
                None => Ok(()),
            },
            Event::CustomersMerged(event) => customers::merged(state, event),
            Event::CustomerErased(event) => customers::erased(state, event),
            _ => Ok(()),
        }
    }
}
