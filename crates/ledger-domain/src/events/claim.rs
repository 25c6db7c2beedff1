//! Events of the claim stream (`claim-{number}`): from first notice of loss through survey,
//! documents and settlement or rejection, and reopening (seed 4.2.1 ③).

use jiff::Timestamp;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{Validate, claim_stream, distinct_list, non_negative, personal, positive, routing};
use crate::ValidationError;
use crate::ids::{CustomerId, StaffId};
use crate::kinds::{ClaimDocument, ClaimRejectionReason, Payee};
use crate::values::{Channel, ClaimNumber, FreeText, Money, Plate, PolicyNumber};

/// The longest claim time guarantee (索赔时效保证) accepted, in working days. Guarantees the
/// insurer advertises are days to a few weeks; sixty working days is a quarter of a year.
pub const TIME_GUARANTEE_WORKING_DAYS_MAX: u16 = 60;

/// First notice of loss (报案): the customer reported an accident or loss.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ClaimReported {
    pub claim_number: ClaimNumber,
    pub policy_number: PolicyNumber,
    pub customer_id: CustomerId,
    /// When the loss happened (before the report, sometimes days before).
    pub loss_occurred_at: Timestamp,
    pub location: FreeText,
    pub description: FreeText,
    /// The insured vehicle involved, when known at report time.
    #[serde(default)]
    pub plate: Option<Plate>,
    pub reported_via: Channel,
    /// Whether anyone was injured (injury claims need medical documents and take longer).
    pub injuries: bool,
    /// The customer's or agent's first estimate, in fen.
    #[serde(default)]
    pub estimated_loss: Option<Money>,
    /// The settlement time guaranteed to the customer, in working days from complete documents.
    #[serde(default)]
    pub time_guarantee_working_days: Option<u16>,
}

/// The loss was surveyed and assessed (查勘定损), on site or remotely (免现场).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ClaimSurveyed {
    pub claim_number: ClaimNumber,
    pub customer_id: CustomerId,
    pub surveyor: StaffId,
    pub on_site: bool,
    /// The assessed loss, in fen.
    pub assessed_loss: Money,
    pub findings: FreeText,
}

/// Every document the claim needs was asked for, at once (一次性告知).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ClaimDocumentsRequested {
    pub claim_number: ClaimNumber,
    pub customer_id: CustomerId,
    pub documents: Vec<ClaimDocument>,
    pub requested_via: Channel,
}

/// The claim's documents are complete; the time guarantee runs from here.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ClaimDocumentsCompleted {
    pub claim_number: ClaimNumber,
    pub customer_id: CustomerId,
    /// The documents received.
    pub documents: Vec<ClaimDocument>,
}

/// The claim was settled and paid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ClaimSettled {
    pub claim_number: ClaimNumber,
    pub customer_id: CustomerId,
    /// The amount paid, in fen.
    pub amount: Money,
    pub payee: Payee,
    /// Paid straight to the repairer (直赔) rather than to the customer.
    pub direct_payment: bool,
}

/// The claim was rejected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ClaimRejected {
    pub claim_number: ClaimNumber,
    pub customer_id: CustomerId,
    pub reason: ClaimRejectionReason,
    pub explanation: FreeText,
}

/// A settled or rejected claim was reopened (new damage found, a complaint upheld).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ClaimReopened {
    pub claim_number: ClaimNumber,
    pub customer_id: CustomerId,
    pub reason: FreeText,
}

routing!(
    ClaimReported, ClaimSurveyed, ClaimDocumentsRequested, ClaimDocumentsCompleted, ClaimSettled,
    ClaimRejected, ClaimReopened
    => |event| claim_stream(&event.claim_number), vec![event.customer_id]
);

personal!(
    ClaimReported {
        location,
        description,
        plate
    },
    ClaimSurveyed { findings },
    ClaimDocumentsRequested {},
    ClaimDocumentsCompleted {},
    ClaimSettled { payee },
    ClaimRejected { explanation },
    ClaimReopened { reason },
);

impl Validate for ClaimRejected {}
impl Validate for ClaimReopened {}

impl Validate for ClaimReported {
    fn validate(&self) -> Result<(), ValidationError> {
        if let Some(estimate) = self.estimated_loss {
            non_negative("estimatedLoss", estimate)?;
        }
        match self.time_guarantee_working_days {
            Some(days) if days == 0 || days > TIME_GUARANTEE_WORKING_DAYS_MAX => {
                Err(ValidationError::new(
                    "timeGuaranteeWorkingDays",
                    format!(
                        "a time guarantee is 1 to {TIME_GUARANTEE_WORKING_DAYS_MAX} working days"
                    ),
                ))
            }
            _ => Ok(()),
        }
    }
}

impl Validate for ClaimSurveyed {
    fn validate(&self) -> Result<(), ValidationError> {
        non_negative("assessedLoss", self.assessed_loss)
    }
}

impl Validate for ClaimDocumentsRequested {
    fn validate(&self) -> Result<(), ValidationError> {
        distinct_list(
            "documents",
            &self.documents,
            false,
            ClaimDocument::ALL.len(),
        )
    }
}

impl Validate for ClaimDocumentsCompleted {
    fn validate(&self) -> Result<(), ValidationError> {
        distinct_list(
            "documents",
            &self.documents,
            false,
            ClaimDocument::ALL.len(),
        )
    }
}

impl Validate for ClaimSettled {
    fn validate(&self) -> Result<(), ValidationError> {
        // A claim that pays nothing is rejected, not settled.
        positive("amount", self.amount)
    }
}
