//! Events of the service-case stream (`case-{id}`): consultations, complaints, rescue and the
//! value-added services, with deadlines and breach facts, and risk surveys with their
//! recommendations and follow-ups (seed 4.2.1 ③, 4.2.3 2).

use jiff::Timestamp;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{Validate, personal, routing};
use crate::ValidationError;
use crate::ids::{CaseId, ContactId, CustomerId, StaffId, StreamId};
use crate::kinds::{Priority, RecommendationStatus, RiskRecommendation, ServiceCaseKind};
use crate::values::{Channel, ClaimNumber, FreeText, PolicyNumber};

/// The longest deadline accepted in working hours (a month of eight-hour days).
pub const DEADLINE_WORKING_HOURS_MAX: u16 = 176;

/// The most recommendations one risk survey may make.
pub const RISK_RECOMMENDATIONS_MAX: usize = 50;

/// A service case was opened with a deadline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ServiceCaseOpened {
    pub case_id: CaseId,
    pub customer_id: CustomerId,
    pub kind: ServiceCaseKind,
    pub priority: Priority,
    pub subject: FreeText,
    pub channel: Channel,
    /// When the case must be resolved; resolving later is a breach.
    pub deadline: Timestamp,
    /// The deadline as promised to the customer, in working hours, when it was promised that
    /// way (the instant in `deadline` already accounts for the business calendar).
    #[serde(default)]
    pub deadline_working_hours: Option<u16>,
    #[serde(default)]
    pub policy_number: Option<PolicyNumber>,
    #[serde(default)]
    pub claim_number: Option<ClaimNumber>,
    /// The contact during which the case was opened.
    #[serde(default)]
    pub contact_id: Option<ContactId>,
}

/// The case was given to a member of staff.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ServiceCaseAssigned {
    pub case_id: CaseId,
    pub customer_id: CustomerId,
    pub assignee: StaffId,
    #[serde(default)]
    pub previous_assignee: Option<StaffId>,
}

/// The case was escalated: to someone more senior, at a new priority and deadline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ServiceCaseEscalated {
    pub case_id: CaseId,
    pub customer_id: CustomerId,
    pub escalated_to: StaffId,
    pub reason: FreeText,
    pub priority: Priority,
    /// The deadline from now on (unchanged unless the escalation moved it).
    pub deadline: Timestamp,
    /// 1 for the first escalation of the case, 2 for the second ...
    pub level: u16,
}

/// The case was resolved; `within_deadline` records whether the deadline was kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ServiceCaseResolved {
    pub case_id: CaseId,
    pub customer_id: CustomerId,
    pub resolved_by: StaffId,
    pub resolution: FreeText,
    pub within_deadline: bool,
}

/// A resolved or closed case was reopened, with a new deadline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ServiceCaseReopened {
    pub case_id: CaseId,
    pub customer_id: CustomerId,
    pub reason: FreeText,
    pub deadline: Timestamp,
}

/// A resolved case was closed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ServiceCaseClosed {
    pub case_id: CaseId,
    pub customer_id: CustomerId,
    pub closed_by: StaffId,
    /// Whether the customer confirmed the resolution (otherwise it was closed after the
    /// confirmation period ran out).
    pub customer_confirmed: bool,
}

/// A risk survey (风险查勘) was carried out for the case's customer, with findings and numbered
/// recommendations (整改意见).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RiskSurveyCompleted {
    pub case_id: CaseId,
    pub customer_id: CustomerId,
    pub surveyor: StaffId,
    pub findings: FreeText,
    pub recommendations: Vec<RiskRecommendation>,
}

/// A risk recommendation was followed up with the customer (loss prevention).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RiskRecommendationFollowedUp {
    pub case_id: CaseId,
    pub customer_id: CustomerId,
    /// The recommendation's number within the survey.
    pub recommendation: u16,
    pub status: RecommendationStatus,
    pub note: FreeText,
    pub followed_up_by: StaffId,
}

routing!(
    ServiceCaseOpened, ServiceCaseAssigned, ServiceCaseEscalated, ServiceCaseResolved,
    ServiceCaseReopened, ServiceCaseClosed, RiskSurveyCompleted, RiskRecommendationFollowedUp
    => |event| StreamId::case(event.case_id), vec![event.customer_id]
);

personal!(
    ServiceCaseOpened { subject },
    ServiceCaseAssigned {},
    ServiceCaseEscalated { reason },
    ServiceCaseResolved { resolution },
    ServiceCaseReopened { reason },
    ServiceCaseClosed {},
    RiskSurveyCompleted {
        findings,
        recommendations
    },
    RiskRecommendationFollowedUp { note },
);

impl Validate for ServiceCaseAssigned {}
impl Validate for ServiceCaseResolved {}
impl Validate for ServiceCaseReopened {}
impl Validate for ServiceCaseClosed {}
impl Validate for RiskRecommendationFollowedUp {}

impl Validate for ServiceCaseOpened {
    fn validate(&self) -> Result<(), ValidationError> {
        match self.deadline_working_hours {
            Some(hours) if hours == 0 || hours > DEADLINE_WORKING_HOURS_MAX => {
                Err(ValidationError::new(
                    "deadlineWorkingHours",
                    format!("a deadline is 1 to {DEADLINE_WORKING_HOURS_MAX} working hours"),
                ))
            }
            _ => Ok(()),
        }
    }
}

impl Validate for ServiceCaseEscalated {
    fn validate(&self) -> Result<(), ValidationError> {
        if self.level == 0 {
            return Err(ValidationError::new(
                "level",
                "escalation levels start at 1",
            ));
        }
        Ok(())
    }
}

impl Validate for RiskSurveyCompleted {
    fn validate(&self) -> Result<(), ValidationError> {
        if self.recommendations.len() > RISK_RECOMMENDATIONS_MAX {
            return Err(ValidationError::new(
                "recommendations",
                format!("a survey makes at most {RISK_RECOMMENDATIONS_MAX} recommendations"),
            ));
        }
        for (index, recommendation) in self.recommendations.iter().enumerate() {
            let field = format!("recommendations[{index}].number");
            if recommendation.number == 0 {
                return Err(ValidationError::new(
                    field,
                    "recommendations are numbered from 1",
                ));
            }
            let earlier = &self.recommendations[..index];
            if earlier
                .iter()
                .any(|other| other.number == recommendation.number)
            {
                return Err(ValidationError::new(
                    field,
                    "each recommendation has its own number",
                ));
            }
        }
        Ok(())
    }
}

impl RiskSurveyCompleted {
    /// The recommendation numbered `number`, if the survey made one.
    pub fn recommendation(&self, number: u16) -> Option<&RiskRecommendation> {
        self.recommendations
            .iter()
            .find(|recommendation| recommendation.number == number)
    }
}
