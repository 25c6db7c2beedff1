//! The claim aggregate (`claim-{number}`): a state machine from first notice of loss to
//! settlement or rejection.
//!
//! ```text
//! Reported ─► Surveyed ─► DocumentsRequested ─► DocumentsCompleted ─► Settled
//!    │           │                │                     │
//!    └───────────┴────────────────┴─────────────────────┴────────────► Rejected
//! Settled | Rejected ─► Reopened ─► Surveyed | DocumentsRequested | Rejected
//! ```
//!
//! A claim is reported once (`AlreadyExists`); every other command on an unreported claim is
//! `NotFound`, and a command the current state does not allow is `InvalidTransition` (a settled
//! claim is not surveyed again until it is reopened). A loss cannot be reported before it
//! happens.
//!
//! The claim's policy lives on its own stream; as far as the context can tell (see
//! [`super::links`]), it must exist (`NotFound`) and have been issued, not only quoted, to the
//! claim's customer or a customer merged with it (`policyNumber`), and cover the loss: the loss's Beijing day lies
//! within one of the policy's periods (`lossOccurredAt`). A claim on another customer's policy
//! would make the directory find that customer by the policy number.
//!
//! An erased customer's open claim can be finished without recording anything personal, on the
//! service-case rule ([`super::service_case`]): requesting and completing documents carry no
//! personal field and are accepted as for anyone; a survey's `findings`, a settlement's
//! `payee.name` and a rejection's `explanation` are left out for an erased customer (refused,
//! naming the field, when sent) and written out for a live one. A claim of an erased customer
//! is not reopened (`CustomerErased`), as none is reported.

use std::collections::BTreeSet;
use std::fmt;

use super::links::issued_policy;
use super::links::{new_business_for, number_not_held_by_another};
use super::service_case::{WorkText, not_started_again_for_erased, work_text};
use super::{
    Aggregate, DecisionContext, already_exists, emit, invalid_transition, not_found, not_in_future,
};
use crate::commands::{
    ClaimCommand, CompleteClaimDocuments, RejectClaim, ReopenClaim, ReportClaim,
    RequestClaimDocuments, SettleClaim, SurveyClaim,
};
use crate::events::{
    ClaimDocumentsCompleted, ClaimDocumentsRequested, ClaimRejected, ClaimReopened, ClaimReported,
    ClaimSettled, ClaimSurveyed, Event,
};
use crate::ids::CustomerId;
use crate::kinds::ClaimDocument;
use crate::values::{ClaimNumber, Identifier, IdentifierKind, PolicyNumber};
use crate::{DomainError, ValidationError};

const KIND: &str = "claim";

/// Where a claim is in its handling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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
    /// Whether the claim is still being handled (neither settled nor rejected).
    pub fn is_open(self) -> bool {
        !matches!(self, Self::Settled | Self::Rejected)
    }
}

impl fmt::Display for ClaimStatus {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(match self {
            Self::Reported => "reported",
            Self::Surveyed => "surveyed",
            Self::DocumentsRequested => "awaiting documents",
            Self::DocumentsCompleted => "awaiting a decision (documents complete)",
            Self::Settled => "settled",
            Self::Rejected => "rejected",
            Self::Reopened => "reopened",
        })
    }
}

/// A claim's state, as far as decisions need it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Claim {
    state: Option<State>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct State {
    number: ClaimNumber,
    policy_number: PolicyNumber,
    customer_id: CustomerId,
    status: ClaimStatus,
    /// The documents the open request asked for: completing them needs every one.
    requested: BTreeSet<ClaimDocument>,
}

impl Claim {
    pub fn status(&self) -> Option<ClaimStatus> {
        self.state.as_ref().map(|state| state.status)
    }

    pub fn customer_id(&self) -> Option<CustomerId> {
        self.state.as_ref().map(|state| state.customer_id)
    }

    pub fn policy_number(&self) -> Option<&PolicyNumber> {
        self.state.as_ref().map(|state| &state.policy_number)
    }

    /// The reported claim `number`, if its status is one of `allowed` for `action`.
    fn in_status(
        &self,
        number: &ClaimNumber,
        allowed: &[ClaimStatus],
        action: &'static str,
    ) -> Result<&State, DomainError> {
        let state = self.state.as_ref().ok_or_else(|| not_found(KIND, number))?;
        if !allowed.contains(&state.status) {
            return Err(invalid_transition(KIND, number, action, state.status));
        }
        Ok(state)
    }

    fn report(
        &self,
        command: &ReportClaim,
        context: &dyn DecisionContext,
    ) -> Result<Vec<Event>, DomainError> {
        if self.state.is_some() {
            return Err(already_exists(KIND, &command.claim_number));
        }
        new_business_for(command.customer_id, context)?;
        let number = Identifier::parse(
            "claimNumber",
            IdentifierKind::ClaimNumber,
            command.claim_number.as_str(),
        )?;
        number_not_held_by_another(&number, command.customer_id, context)?;
        if !not_in_future(command.loss_occurred_at, context) {
            return Err(ValidationError::new(
                "lossOccurredAt",
                "a loss cannot be reported before it happens",
            )
            .into());
        }
        let policy = issued_policy(
            &command.policy_number,
            command.customer_id,
            "the claim's customer",
            context,
        )?;
        if let Some(policy) = policy.filter(|policy| !policy.covers(command.loss_occurred_at)) {
            let periods: Vec<String> = policy.periods.iter().map(ToString::to_string).collect();
            // A policy cancelled on its first day keeps no period: it never covered a day.
            let cover = if periods.is_empty() {
                "was cancelled from its first day and covers no day".to_owned()
            } else {
                format!("covers {}", periods.join(", "))
            };
            return Err(ValidationError::new(
                "lossOccurredAt",
                format!(
                    "within the policy's period, Beijing days inclusive: {} {cover}",
                    command.policy_number,
                ),
            )
            .into());
        }
        emit(ClaimReported {
            claim_number: command.claim_number.clone(),
            policy_number: command.policy_number.clone(),
            customer_id: command.customer_id,
            loss_occurred_at: command.loss_occurred_at,
            location: command.location.clone(),
            description: command.description.clone(),
            plate: command.plate.clone(),
            reported_via: command.reported_via,
            injuries: command.injuries,
            estimated_loss: command.estimated_loss,
            time_guarantee_working_days: command.time_guarantee_working_days,
        })
    }

    fn survey(
        &self,
        command: &SurveyClaim,
        context: &dyn DecisionContext,
    ) -> Result<Vec<Event>, DomainError> {
        let allowed = [ClaimStatus::Reported, ClaimStatus::Reopened];
        let state = self.in_status(&command.claim_number, &allowed, "survey")?;
        let findings = WorkText {
            field: "findings",
            left_out: command.findings.is_erased(),
            mutation: "surveyClaim",
        };
        work_text(findings, state.customer_id, context)?;
        emit(ClaimSurveyed {
            claim_number: command.claim_number.clone(),
            customer_id: state.customer_id,
            surveyor: command.surveyor.clone(),
            on_site: command.on_site,
            assessed_loss: command.assessed_loss,
            findings: command.findings.clone(),
        })
    }

    fn request_documents(
        &self,
        command: &RequestClaimDocuments,
    ) -> Result<Vec<Event>, DomainError> {
        let allowed = [ClaimStatus::Surveyed, ClaimStatus::Reopened];
        let state = self.in_status(&command.claim_number, &allowed, "request documents for")?;
        emit(ClaimDocumentsRequested {
            claim_number: command.claim_number.clone(),
            customer_id: state.customer_id,
            documents: command.documents.clone(),
            requested_via: command.requested_via,
        })
    }

    fn complete_documents(
        &self,
        command: &CompleteClaimDocuments,
    ) -> Result<Vec<Event>, DomainError> {
        let allowed = [ClaimStatus::DocumentsRequested];
        let state = self.in_status(&command.claim_number, &allowed, "complete the documents of")?;
        let missing: Vec<String> = state
            .requested
            .iter()
            .filter(|document| !command.documents.contains(document))
            .map(|document| document.wire_name())
            .collect();
        if !missing.is_empty() {
            return Err(ValidationError::new(
                "documents",
                format!(
                    "every requested document, received; still missing: {}",
                    missing.join(", ")
                ),
            )
            .into());
        }
        emit(ClaimDocumentsCompleted {
            claim_number: command.claim_number.clone(),
            customer_id: state.customer_id,
            documents: command.documents.clone(),
        })
    }

    fn settle(
        &self,
        command: &SettleClaim,
        context: &dyn DecisionContext,
    ) -> Result<Vec<Event>, DomainError> {
        let allowed = [ClaimStatus::DocumentsCompleted];
        let state = self.in_status(&command.claim_number, &allowed, "settle")?;
        let payee_name = WorkText {
            field: "payee.name",
            left_out: command.payee.name.is_erased(),
            mutation: "settleClaim",
        };
        work_text(payee_name, state.customer_id, context)?;
        emit(ClaimSettled {
            claim_number: command.claim_number.clone(),
            customer_id: state.customer_id,
            amount: command.amount,
            payee: command.payee.clone(),
            direct_payment: command.direct_payment,
        })
    }

    fn reject(
        &self,
        command: &RejectClaim,
        context: &dyn DecisionContext,
    ) -> Result<Vec<Event>, DomainError> {
        let allowed = [
            ClaimStatus::Reported,
            ClaimStatus::Surveyed,
            ClaimStatus::DocumentsRequested,
            ClaimStatus::DocumentsCompleted,
            ClaimStatus::Reopened,
        ];
        let state = self.in_status(&command.claim_number, &allowed, "reject")?;
        let explanation = WorkText {
            field: "explanation",
            left_out: command.explanation.is_erased(),
            mutation: "rejectClaim",
        };
        work_text(explanation, state.customer_id, context)?;
        emit(ClaimRejected {
            claim_number: command.claim_number.clone(),
            customer_id: state.customer_id,
            reason: command.reason,
            explanation: command.explanation.clone(),
        })
    }

    fn reopen(
        &self,
        command: &ReopenClaim,
        context: &dyn DecisionContext,
    ) -> Result<Vec<Event>, DomainError> {
        let allowed = [ClaimStatus::Settled, ClaimStatus::Rejected];
        let state = self.in_status(&command.claim_number, &allowed, "reopen")?;
        not_started_again_for_erased(state.customer_id, context)?;
        emit(ClaimReopened {
            claim_number: command.claim_number.clone(),
            customer_id: state.customer_id,
            reason: command.reason.clone(),
        })
    }
}

impl Aggregate for Claim {
    type Command = ClaimCommand;
    const CATEGORY: &'static str = "claim";

    fn apply(&mut self, event: &Event) {
        if let Event::ClaimReported(reported) = event {
            if self
                .state
                .as_ref()
                .is_some_and(|state| state.number != reported.claim_number)
            {
                return;
            }
            self.state = Some(State {
                number: reported.claim_number.clone(),
                policy_number: reported.policy_number.clone(),
                customer_id: reported.customer_id,
                status: ClaimStatus::Reported,
                requested: BTreeSet::new(),
            });
            return;
        }
        let Some(state) = self.state.as_mut() else {
            return;
        };
        let (number, status) = match event {
            Event::ClaimSurveyed(event) => (&event.claim_number, ClaimStatus::Surveyed),
            Event::ClaimDocumentsRequested(event) => {
                (&event.claim_number, ClaimStatus::DocumentsRequested)
            }
            Event::ClaimDocumentsCompleted(event) => {
                (&event.claim_number, ClaimStatus::DocumentsCompleted)
            }
            Event::ClaimSettled(event) => (&event.claim_number, ClaimStatus::Settled),
            Event::ClaimRejected(event) => (&event.claim_number, ClaimStatus::Rejected),
            Event::ClaimReopened(event) => (&event.claim_number, ClaimStatus::Reopened),
            _ => return,
        };
        if *number == state.number {
            state.status = status;
            state.requested = match event {
                Event::ClaimDocumentsRequested(event) => event.documents.iter().copied().collect(),
                _ => BTreeSet::new(),
            };
        }
    }

    fn handle(
        &self,
        command: &ClaimCommand,
        context: &dyn DecisionContext,
    ) -> Result<Vec<Event>, DomainError> {
        match command {
            ClaimCommand::ReportClaim(command) => self.report(command, context),
            ClaimCommand::SurveyClaim(command) => self.survey(command, context),
            ClaimCommand::RequestClaimDocuments(command) => self.request_documents(command),
            ClaimCommand::CompleteClaimDocuments(command) => self.complete_documents(command),
            ClaimCommand::SettleClaim(command) => self.settle(command, context),
            ClaimCommand::RejectClaim(command) => self.reject(command, context),
            ClaimCommand::ReopenClaim(command) => self.reopen(command, context),
        }
    }
}

#[cfg(test)]
mod tests;
