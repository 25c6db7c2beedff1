//! Mutations of the service-case aggregate: open, assign, escalate, resolve, reopen, close, and
//! the risk survey with its follow-ups. `Recorded.serviceCase` is the case after the write.
//!
//! An erased customer's open case can be finished: assigned, escalated and resolved with the
//! text (`reason`, `resolution`) left out, since nothing personal can be recorded for them,
//! then closed. A live customer's text is required.

use async_graphql::{Context, ID, InputObject, Object};
use ledger_domain::ValidationError;
use ledger_domain::commands::{
    AssignServiceCase, CloseServiceCase, CompleteRiskSurvey, EscalateServiceCase,
    FollowUpRiskRecommendation, OpenServiceCase, ReopenServiceCase, ResolveServiceCase,
};
use ledger_domain::ids::{CaseId, ContactId, CustomerId, StaffId};
use ledger_domain::kinds::RiskRecommendation;
use ledger_domain::values::{ClaimNumber, FreeText, PolicyNumber};

use super::{
    Affected, CommandContext, CommandInput, Recorded, optional, optional_id, run, whole, written,
};
use crate::access::RootAccess;
use crate::errors::ApiResult;
use crate::scalars::{Count, Date, DateTime};
use crate::vocabulary::{Channel, Priority, RecommendationStatus, ServiceCaseKind};

/// A recommendation's number: the domain numbers them from 1 (`RiskSurveyCompleted`).
const RECOMMENDATION_NUMBER_RULE: &str = "recommendations are numbered from 1 to 65535";

fn case_id(id: &ID) -> Result<CaseId, ValidationError> {
    CaseId::parse("input.caseId", id)
}

/// The free text of a transition of a customer's work: written out when sent; left out, its
/// erased value (the empty text no written one can be), which the domain accepts only for an
/// erased customer's work and refuses, naming the field, for a live customer's.
pub(super) fn work_text(field: &str, text: Option<String>) -> Result<FreeText, ValidationError> {
    match text {
        Some(text) => written(field, &text),
        None => FreeText::parse(field, ""),
    }
}

/// Opens a service case with a deadline.
#[derive(InputObject, Debug)]
pub struct OpenServiceCaseInput {
    /// Left out, the ledger makes one (see the mutations' documentation).
    pub case_id: Option<ID>,
    pub customer_id: ID,
    pub kind: ServiceCaseKind,
    pub priority: Priority,
    pub subject: String,
    pub channel: Channel,
    /// The deadline as an instant. Left out with `deadlineWorkingHours`, it is the end of those
    /// working hours from now on the business calendar (what the case is held to); sent with
    /// them, it must agree with the calendar within 5 minutes, and the calendar's is recorded.
    pub deadline: Option<DateTime>,
    /// The deadline as promised in working hours, when it was: the business calendar (working
    /// hours, public holidays, make-up working days) turns it into the instant.
    pub deadline_working_hours: Option<i32>,
    pub policy_number: Option<String>,
    pub claim_number: Option<String>,
    /// The contact during which the case was opened.
    pub contact_id: Option<ID>,
}

impl CommandInput for OpenServiceCaseInput {
    type Command = OpenServiceCase;

    fn into_command(self, context: &CommandContext) -> Result<OpenServiceCase, ValidationError> {
        let case_id = match &self.case_id {
            Some(id) => case_id(id)?,
            None => CaseId::from_uuid(context.new_uuid()),
        };
        Ok(OpenServiceCase {
            case_id,
            customer_id: CustomerId::parse("input.customerId", &self.customer_id)?,
            kind: self.kind.into(),
            priority: self.priority.into(),
            subject: written("input.subject", &self.subject)?,
            channel: self.channel.into(),
            deadline: self.deadline.map(|deadline| deadline.0),
            deadline_working_hours: self
                .deadline_working_hours
                .map(|hours| {
                    whole(
                        "input.deadlineWorkingHours",
                        hours,
                        &format!(
                            "a deadline is 1 to {} working hours",
                            ledger_domain::events::DEADLINE_WORKING_HOURS_MAX
                        ),
                    )
                })
                .transpose()?,
            policy_number: optional(
                "input.policyNumber",
                self.policy_number,
                PolicyNumber::parse,
            )?,
            claim_number: optional("input.claimNumber", self.claim_number, ClaimNumber::parse)?,
            contact_id: optional_id("input.contactId", self.contact_id, ContactId::parse)?,
        })
    }

    fn affected(command: &OpenServiceCase) -> Affected {
        Affected::case(command.case_id).with_customer(command.customer_id)
    }
}

/// Gives an open case to a member of staff.
#[derive(InputObject, Debug)]
pub struct AssignServiceCaseInput {
    pub case_id: ID,
    pub assignee: String,
}

impl CommandInput for AssignServiceCaseInput {
    type Command = AssignServiceCase;

    fn into_command(self, _: &CommandContext) -> Result<AssignServiceCase, ValidationError> {
        Ok(AssignServiceCase {
            case_id: case_id(&self.case_id)?,
            assignee: StaffId::parse("input.assignee", &self.assignee)?,
        })
    }

    fn affected(command: &AssignServiceCase) -> Affected {
        Affected::case(command.case_id)
    }
}

/// Escalates an open case; `deadline` moves the deadline (to a time in the future), absent
/// keeps it.
#[derive(InputObject, Debug)]
pub struct EscalateServiceCaseInput {
    pub case_id: ID,
    pub escalated_to: String,
    /// Why; required, except for an erased customer's case, where it is left out (nothing
    /// personal can be recorded for them).
    pub reason: Option<String>,
    pub priority: Priority,
    pub deadline: Option<DateTime>,
}

impl CommandInput for EscalateServiceCaseInput {
    type Command = EscalateServiceCase;

    fn into_command(self, _: &CommandContext) -> Result<EscalateServiceCase, ValidationError> {
        Ok(EscalateServiceCase {
            case_id: case_id(&self.case_id)?,
            escalated_to: StaffId::parse("input.escalatedTo", &self.escalated_to)?,
            reason: work_text("input.reason", self.reason)?,
            priority: self.priority.into(),
            deadline: self.deadline.map(|deadline| deadline.0),
        })
    }

    fn affected(command: &EscalateServiceCase) -> Affected {
        Affected::case(command.case_id)
    }
}

/// Resolves an open case now.
#[derive(InputObject, Debug)]
pub struct ResolveServiceCaseInput {
    pub case_id: ID,
    /// Who resolved it; the caller when left out.
    pub resolved_by: Option<String>,
    /// How it was resolved; required, except for an erased customer's case, where it is left
    /// out (nothing personal can be recorded for them).
    pub resolution: Option<String>,
}

impl CommandInput for ResolveServiceCaseInput {
    type Command = ResolveServiceCase;

    fn into_command(self, context: &CommandContext) -> Result<ResolveServiceCase, ValidationError> {
        Ok(ResolveServiceCase {
            case_id: case_id(&self.case_id)?,
            resolved_by: context.staff_or_caller("input.resolvedBy", self.resolved_by)?,
            resolution: work_text("input.resolution", self.resolution)?,
        })
    }

    fn affected(command: &ResolveServiceCase) -> Affected {
        Affected::case(command.case_id)
    }
}

/// Reopens a resolved or closed case with a new deadline.
#[derive(InputObject, Debug)]
pub struct ReopenServiceCaseInput {
    pub case_id: ID,
    pub reason: String,
    pub deadline: DateTime,
}

impl CommandInput for ReopenServiceCaseInput {
    type Command = ReopenServiceCase;

    fn into_command(self, _: &CommandContext) -> Result<ReopenServiceCase, ValidationError> {
        Ok(ReopenServiceCase {
            case_id: case_id(&self.case_id)?,
            reason: written("input.reason", &self.reason)?,
            deadline: self.deadline.0,
        })
    }

    fn affected(command: &ReopenServiceCase) -> Affected {
        Affected::case(command.case_id)
    }
}

/// Closes a resolved case.
#[derive(InputObject, Debug)]
pub struct CloseServiceCaseInput {
    pub case_id: ID,
    /// Who closed it; the caller when left out.
    pub closed_by: Option<String>,
    pub customer_confirmed: bool,
}

impl CommandInput for CloseServiceCaseInput {
    type Command = CloseServiceCase;

    fn into_command(self, context: &CommandContext) -> Result<CloseServiceCase, ValidationError> {
        Ok(CloseServiceCase {
            case_id: case_id(&self.case_id)?,
            closed_by: context.staff_or_caller("input.closedBy", self.closed_by)?,
            customer_confirmed: self.customer_confirmed,
        })
    }

    fn affected(command: &CloseServiceCase) -> Affected {
        Affected::case(command.case_id)
    }
}

/// One rectification recommendation of a risk survey.
#[derive(InputObject, Debug)]
pub struct RiskRecommendationInput {
    /// 1, 2, 3 ... unique within the survey.
    pub number: i32,
    pub text: String,
    pub due_on: Date,
}

/// Records the findings and recommendations of a risk-survey case.
#[derive(InputObject, Debug)]
pub struct CompleteRiskSurveyInput {
    pub case_id: ID,
    /// The surveyor; the caller when left out.
    pub surveyor: Option<String>,
    pub findings: String,
    #[graphql(default)]
    pub recommendations: Vec<RiskRecommendationInput>,
}

impl CommandInput for CompleteRiskSurveyInput {
    type Command = CompleteRiskSurvey;

    fn into_command(self, context: &CommandContext) -> Result<CompleteRiskSurvey, ValidationError> {
        let recommendations = self
            .recommendations
            .into_iter()
            .enumerate()
            .map(|(index, recommendation)| {
                Ok(RiskRecommendation {
                    number: whole(
                        &format!("input.recommendations[{index}].number"),
                        recommendation.number,
                        RECOMMENDATION_NUMBER_RULE,
                    )?,
                    text: written(
                        &format!("input.recommendations[{index}].text"),
                        &recommendation.text,
                    )?,
                    due_on: recommendation.due_on.0,
                })
            })
            .collect::<Result<_, ValidationError>>()?;
        Ok(CompleteRiskSurvey {
            case_id: case_id(&self.case_id)?,
            surveyor: context.staff_or_caller("input.surveyor", self.surveyor)?,
            findings: written("input.findings", &self.findings)?,
            recommendations,
        })
    }

    fn affected(command: &CompleteRiskSurvey) -> Affected {
        Affected::case(command.case_id)
    }
}

/// Records a follow-up of one risk recommendation.
#[derive(InputObject, Debug)]
pub struct FollowUpRiskRecommendationInput {
    pub case_id: ID,
    pub recommendation: i32,
    pub status: RecommendationStatus,
    pub note: String,
    /// Who followed it up; the caller when left out.
    pub followed_up_by: Option<String>,
}

impl CommandInput for FollowUpRiskRecommendationInput {
    type Command = FollowUpRiskRecommendation;

    fn into_command(
        self,
        context: &CommandContext,
    ) -> Result<FollowUpRiskRecommendation, ValidationError> {
        Ok(FollowUpRiskRecommendation {
            case_id: case_id(&self.case_id)?,
            recommendation: whole(
                "input.recommendation",
                self.recommendation,
                RECOMMENDATION_NUMBER_RULE,
            )?,
            status: self.status.into(),
            note: written("input.note", &self.note)?,
            followed_up_by: context.staff_or_caller("input.followedUpBy", self.followed_up_by)?,
        })
    }

    fn affected(command: &FollowUpRiskRecommendation) -> Affected {
        Affected::case(command.case_id)
    }
}

/// The service-case aggregate's mutations; `Recorded.id` is the case id.
#[derive(Debug, Default)]
pub struct ServiceCaseMutations;

#[Object(guard = "RootAccess")]
impl ServiceCaseMutations {
    async fn open_service_case(
        &self,
        ctx: &Context<'_>,
        input: OpenServiceCaseInput,
        event_id: Option<ID>,
        expected_version: Option<Count>,
    ) -> ApiResult<Recorded> {
        run(ctx, input, event_id, expected_version).await
    }

    async fn assign_service_case(
        &self,
        ctx: &Context<'_>,
        input: AssignServiceCaseInput,
        event_id: Option<ID>,
        expected_version: Option<Count>,
    ) -> ApiResult<Recorded> {
        run(ctx, input, event_id, expected_version).await
    }

    async fn escalate_service_case(
        &self,
        ctx: &Context<'_>,
        input: EscalateServiceCaseInput,
        event_id: Option<ID>,
        expected_version: Option<Count>,
    ) -> ApiResult<Recorded> {
        run(ctx, input, event_id, expected_version).await
    }

    async fn resolve_service_case(
        &self,
        ctx: &Context<'_>,
        input: ResolveServiceCaseInput,
        event_id: Option<ID>,
        expected_version: Option<Count>,
    ) -> ApiResult<Recorded> {
        run(ctx, input, event_id, expected_version).await
    }

    async fn reopen_service_case(
        &self,
        ctx: &Context<'_>,
        input: ReopenServiceCaseInput,
        event_id: Option<ID>,
        expected_version: Option<Count>,
    ) -> ApiResult<Recorded> {
        run(ctx, input, event_id, expected_version).await
    }

    async fn close_service_case(
        &self,
        ctx: &Context<'_>,
        input: CloseServiceCaseInput,
        event_id: Option<ID>,
        expected_version: Option<Count>,
    ) -> ApiResult<Recorded> {
        run(ctx, input, event_id, expected_version).await
    }

    async fn complete_risk_survey(
        &self,
        ctx: &Context<'_>,
        input: CompleteRiskSurveyInput,
        event_id: Option<ID>,
        expected_version: Option<Count>,
    ) -> ApiResult<Recorded> {
        run(ctx, input, event_id, expected_version).await
    }

    async fn follow_up_risk_recommendation(
        &self,
        ctx: &Context<'_>,
        input: FollowUpRiskRecommendationInput,
        event_id: Option<ID>,
        expected_version: Option<Count>,
    ) -> ApiResult<Recorded> {
        run(ctx, input, event_id, expected_version).await
    }
}
