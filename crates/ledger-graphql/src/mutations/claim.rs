//! Mutations of the claim aggregate: first notice of loss, survey, documents, settlement,
//! rejection, reopening. `Recorded.claim` is the claim after the write.
//!
//! An erased customer's open claim can be finished: surveyed, settled and rejected with the
//! text (`findings`, `payee.name`, `explanation`) left out, since nothing personal can be
//! recorded for them; documents carry none. A live customer's text is required.

use async_graphql::{Context, ID, InputObject, Object};
use ledger_domain::ValidationError;
use ledger_domain::commands::{
    CompleteClaimDocuments, RejectClaim, ReopenClaim, ReportClaim, RequestClaimDocuments,
    SettleClaim, SurveyClaim,
};
use ledger_domain::events::TIME_GUARANTEE_WORKING_DAYS_MAX;
use ledger_domain::ids::CustomerId;
use ledger_domain::kinds::Payee;
use ledger_domain::values::{ClaimNumber, PersonName, Plate, PolicyNumber};

use super::service_case::work_text;
use super::{Affected, CommandContext, CommandInput, Recorded, optional, run, whole, written};
use crate::access::RootAccess;
use crate::errors::ApiResult;
use crate::scalars::{Count, DateTime, Money};
use crate::vocabulary::{Channel, ClaimDocument, ClaimRejectionReason, PayeeKind, to_domain};

fn claim_number(number: &str) -> Result<ClaimNumber, ValidationError> {
    ClaimNumber::parse("input.claimNumber", number)
}

/// Records a first notice of loss.
#[derive(InputObject, Debug)]
pub struct ReportClaimInput {
    pub claim_number: String,
    /// A policy that exists (`NOT_FOUND` otherwise), issued (not only quoted) to the claim's
    /// customer or a customer merged with it.
    pub policy_number: String,
    pub customer_id: ID,
    /// Not in the future, and within one of the policy's periods (Beijing days, both
    /// inclusive).
    pub loss_occurred_at: DateTime,
    pub location: String,
    pub description: String,
    pub plate: Option<String>,
    pub reported_via: Channel,
    pub injuries: bool,
    pub estimated_loss: Option<Money>,
    /// A time guarantee promised to the customer: 1 to 60 working days.
    pub time_guarantee_working_days: Option<i32>,
}

impl CommandInput for ReportClaimInput {
    type Command = ReportClaim;

    fn into_command(self, _: &CommandContext) -> Result<ReportClaim, ValidationError> {
        Ok(ReportClaim {
            claim_number: claim_number(&self.claim_number)?,
            policy_number: PolicyNumber::parse("input.policyNumber", &self.policy_number)?,
            customer_id: CustomerId::parse("input.customerId", &self.customer_id)?,
            loss_occurred_at: self.loss_occurred_at.0,
            location: written("input.location", &self.location)?,
            description: written("input.description", &self.description)?,
            plate: optional("input.plate", self.plate, Plate::parse)?,
            reported_via: self.reported_via.into(),
            injuries: self.injuries,
            estimated_loss: self
                .estimated_loss
                .map(|loss| loss.non_negative("input.estimatedLoss"))
                .transpose()?,
            time_guarantee_working_days: self
                .time_guarantee_working_days
                .map(|days| {
                    whole(
                        "input.timeGuaranteeWorkingDays",
                        days,
                        &format!(
                            "a time guarantee is 1 to {TIME_GUARANTEE_WORKING_DAYS_MAX} working \
                             days"
                        ),
                    )
                })
                .transpose()?,
        })
    }

    fn affected(command: &ReportClaim) -> Affected {
        Affected::claim(command.claim_number.clone())
            .with_customer(command.customer_id)
            .with_id(&command.claim_number)
    }
}

/// Records the survey and loss assessment.
#[derive(InputObject, Debug)]
pub struct SurveyClaimInput {
    pub claim_number: String,
    /// The surveyor; the caller when left out.
    pub surveyor: Option<String>,
    pub on_site: bool,
    pub assessed_loss: Money,
    /// What the survey found; required, except for an erased customer's claim, where it is
    /// left out (nothing personal can be recorded for them).
    pub findings: Option<String>,
}

impl CommandInput for SurveyClaimInput {
    type Command = SurveyClaim;

    fn into_command(self, context: &CommandContext) -> Result<SurveyClaim, ValidationError> {
        Ok(SurveyClaim {
            claim_number: claim_number(&self.claim_number)?,
            surveyor: context.staff_or_caller("input.surveyor", self.surveyor)?,
            on_site: self.on_site,
            assessed_loss: self.assessed_loss.non_negative("input.assessedLoss")?,
            findings: work_text("input.findings", self.findings)?,
        })
    }

    fn affected(command: &SurveyClaim) -> Affected {
        Affected::claim(command.claim_number.clone())
    }
}

/// Asks for every document the claim needs, at once.
#[derive(InputObject, Debug)]
pub struct RequestClaimDocumentsInput {
    pub claim_number: String,
    pub documents: Vec<ClaimDocument>,
    pub requested_via: Channel,
}

impl CommandInput for RequestClaimDocumentsInput {
    type Command = RequestClaimDocuments;

    fn into_command(self, _: &CommandContext) -> Result<RequestClaimDocuments, ValidationError> {
        Ok(RequestClaimDocuments {
            claim_number: claim_number(&self.claim_number)?,
            documents: to_domain(&self.documents),
            requested_via: self.requested_via.into(),
        })
    }

    fn affected(command: &RequestClaimDocuments) -> Affected {
        Affected::claim(command.claim_number.clone())
    }
}

/// Records that the claim's documents are complete.
#[derive(InputObject, Debug)]
pub struct CompleteClaimDocumentsInput {
    pub claim_number: String,
    pub documents: Vec<ClaimDocument>,
}

impl CommandInput for CompleteClaimDocumentsInput {
    type Command = CompleteClaimDocuments;

    fn into_command(self, _: &CommandContext) -> Result<CompleteClaimDocuments, ValidationError> {
        Ok(CompleteClaimDocuments {
            claim_number: claim_number(&self.claim_number)?,
            documents: to_domain(&self.documents),
        })
    }

    fn affected(command: &CompleteClaimDocuments) -> Affected {
        Affected::claim(command.claim_number.clone())
    }
}

/// Who a settlement pays.
#[derive(InputObject, Debug)]
pub struct PayeeInput {
    pub kind: PayeeKind,
    /// Required, except when settling an erased customer's claim, where it is left out
    /// (nothing personal can be recorded for them; the kind stays).
    pub name: Option<String>,
}

/// The payee's name: parsed when sent; left out, its erased value (an empty name, which no
/// parsed one can be), which the domain accepts only for an erased customer's claim.
fn payee_name(name: Option<String>) -> Result<PersonName, ValidationError> {
    match name {
        Some(name) => PersonName::parse("input.payee.name", &name),
        None => PersonName::try_from(String::new()),
    }
}

/// Settles and pays the claim.
#[derive(InputObject, Debug)]
pub struct SettleClaimInput {
    pub claim_number: String,
    pub amount: Money,
    pub payee: PayeeInput,
    pub direct_payment: bool,
}

impl CommandInput for SettleClaimInput {
    type Command = SettleClaim;

    fn into_command(self, _: &CommandContext) -> Result<SettleClaim, ValidationError> {
        Ok(SettleClaim {
            claim_number: claim_number(&self.claim_number)?,
            amount: self.amount.non_negative("input.amount")?,
            payee: Payee {
                kind: self.payee.kind.into(),
                name: payee_name(self.payee.name)?,
            },
            direct_payment: self.direct_payment,
        })
    }

    fn affected(command: &SettleClaim) -> Affected {
        Affected::claim(command.claim_number.clone())
    }
}

/// Rejects the claim.
#[derive(InputObject, Debug)]
pub struct RejectClaimInput {
    pub claim_number: String,
    pub reason: ClaimRejectionReason,
    /// Why, in words; required, except for an erased customer's claim, where it is left out
    /// (nothing personal can be recorded for them; the reason code stays).
    pub explanation: Option<String>,
}

impl CommandInput for RejectClaimInput {
    type Command = RejectClaim;

    fn into_command(self, _: &CommandContext) -> Result<RejectClaim, ValidationError> {
        Ok(RejectClaim {
            claim_number: claim_number(&self.claim_number)?,
            reason: self.reason.into(),
            explanation: work_text("input.explanation", self.explanation)?,
        })
    }

    fn affected(command: &RejectClaim) -> Affected {
        Affected::claim(command.claim_number.clone())
    }
}

/// Reopens a settled or rejected claim.
#[derive(InputObject, Debug)]
pub struct ReopenClaimInput {
    pub claim_number: String,
    pub reason: String,
}

impl CommandInput for ReopenClaimInput {
    type Command = ReopenClaim;

    fn into_command(self, _: &CommandContext) -> Result<ReopenClaim, ValidationError> {
        Ok(ReopenClaim {
            claim_number: claim_number(&self.claim_number)?,
            reason: written("input.reason", &self.reason)?,
        })
    }

    fn affected(command: &ReopenClaim) -> Affected {
        Affected::claim(command.claim_number.clone())
    }
}

/// The claim aggregate's mutations.
#[derive(Debug, Default)]
pub struct ClaimMutations;

#[Object(guard = "RootAccess")]
impl ClaimMutations {
    /// Records a first notice of loss; `Recorded.id` is the claim number.
    async fn report_claim(
        &self,
        ctx: &Context<'_>,
        input: ReportClaimInput,
        event_id: Option<ID>,
        expected_version: Option<Count>,
    ) -> ApiResult<Recorded> {
        run(ctx, input, event_id, expected_version).await
    }

    async fn survey_claim(
        &self,
        ctx: &Context<'_>,
        input: SurveyClaimInput,
        event_id: Option<ID>,
        expected_version: Option<Count>,
    ) -> ApiResult<Recorded> {
        run(ctx, input, event_id, expected_version).await
    }

    async fn request_claim_documents(
        &self,
        ctx: &Context<'_>,
        input: RequestClaimDocumentsInput,
        event_id: Option<ID>,
        expected_version: Option<Count>,
    ) -> ApiResult<Recorded> {
        run(ctx, input, event_id, expected_version).await
    }

    async fn complete_claim_documents(
        &self,
        ctx: &Context<'_>,
        input: CompleteClaimDocumentsInput,
        event_id: Option<ID>,
        expected_version: Option<Count>,
    ) -> ApiResult<Recorded> {
        run(ctx, input, event_id, expected_version).await
    }

    async fn settle_claim(
        &self,
        ctx: &Context<'_>,
        input: SettleClaimInput,
        event_id: Option<ID>,
        expected_version: Option<Count>,
    ) -> ApiResult<Recorded> {
        run(ctx, input, event_id, expected_version).await
    }

    async fn reject_claim(
        &self,
        ctx: &Context<'_>,
        input: RejectClaimInput,
        event_id: Option<ID>,
        expected_version: Option<Count>,
    ) -> ApiResult<Recorded> {
        run(ctx, input, event_id, expected_version).await
    }

    async fn reopen_claim(
        &self,
        ctx: &Context<'_>,
        input: ReopenClaimInput,
        event_id: Option<ID>,
        expected_version: Option<Count>,
    ) -> ApiResult<Recorded> {
        run(ctx, input, event_id, expected_version).await
    }
}
