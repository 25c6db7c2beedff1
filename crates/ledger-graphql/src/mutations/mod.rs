//! Mutations: one per domain command, grouped by aggregate (one file each), all answering with
//! the common [`Recorded`] payload.
//!
//! A mutation takes an input object mirroring its command, with every validated value as a
//! string parsed by the domain's own parser (a bad value is `VALIDATION` naming
//! `input.<field>` and the domain's rule), plus two optional arguments:
//! - `eventId`: makes the mutation idempotent. A retry with the same id returns the original
//!   position with `duplicate: true` and records nothing; the same id with another command (a
//!   different contact, another mutation) is `VALIDATION` on `eventId`. When a command creates something
//!   whose id the client left out (a customer, contact, case, campaign, process, enquiry), the
//!   new id is the event id's UUID when an `eventId` is given, so a retry names the same thing;
//!   otherwise a fresh UUID v7.
//! - `expectedVersion`: the number of events the stream must hold; otherwise `CONFLICT` with
//!   the expected and actual versions. Without it, a lost race is decided again.
//!
//! The actor is the caller's subject. Fields naming the member of staff who did something
//! (`agent`, `resolvedBy`, `closedBy`, `surveyor`, `followedUpBy`) default to the caller.
//!
//! `Recorded.position` is what to send as `X-Ledger-Consistent-With` to read the write back;
//! `Recorded.customer`, `serviceCase` and `claim` resolve after the read models have applied it.

mod claim;
mod contact;
mod customer;
mod marketing;
mod policy;
mod process;
mod service_case;

use async_graphql::{Context, ID, MergedObject, Object};
use ledger_app::names::SERVICE_HISTORY;
use ledger_app::{CommandError, CommandMeta, Executed};
use ledger_domain::commands::Command;
use ledger_domain::ids::{CaseId, CustomerId, EventId, StaffId};
use ledger_domain::values::{ClaimNumber, FreeText};
use ledger_domain::{DomainError, ValidationError};
use ledger_store::ProjectionSpace;
use uuid::Uuid;

use crate::access::{caller, masked, shown_stream};
use crate::access_records::record_read;
use crate::customers::{Customer, load_customer};
use crate::errors::{ApiError, ApiResult};
use crate::scalars::{Count, Position};
use crate::service::{Claim, ServiceCase};
use crate::state::state;

pub use claim::ClaimMutations;
pub use contact::ContactMutations;
pub use customer::CustomerMutations;
pub use marketing::MarketingMutations;
pub use policy::PolicyMutations;
pub use process::ProcessMutations;
pub use service_case::ServiceCaseMutations;

/// The root mutation type: every command, grouped by aggregate.
#[derive(MergedObject, Debug, Default)]
#[graphql(name = "Mutation")]
pub struct MutationRoot(
    CustomerMutations,
    ContactMutations,
    PolicyMutations,
    ClaimMutations,
    ServiceCaseMutations,
    MarketingMutations,
    ProcessMutations,
);

/// Who sends the command and the ids it may need.
#[derive(Debug, Clone)]
pub struct CommandContext {
    /// The caller, as the actor of the events.
    pub actor: StaffId,
    pub event_id: Option<EventId>,
}

impl CommandContext {
    /// The UUID of something the command creates when the client named none: the event id's
    /// (so a retry names the same thing), else a fresh v7.
    pub fn new_uuid(&self) -> Uuid {
        self.event_id
            .map_or_else(Uuid::now_v7, |event_id| *event_id.as_uuid())
    }

    /// The member of staff `field` names, or the caller when it names nobody.
    pub fn staff_or_caller(
        &self,
        field: &str,
        staff: Option<String>,
    ) -> Result<StaffId, ValidationError> {
        staff.map_or_else(
            || Ok(self.actor.clone()),
            |staff| StaffId::parse(field, &staff),
        )
    }
}

/// What a command concerns, for the payload's `id`, `customer`, `serviceCase` and `claim`.
#[derive(Debug, Clone, Default)]
pub struct Affected {
    pub id: Option<String>,
    pub customer: Option<CustomerId>,
    pub case: Option<CaseId>,
    pub claim: Option<ClaimNumber>,
}

impl Affected {
    pub fn customer(customer: CustomerId) -> Self {
        Self {
            customer: Some(customer),
            ..Self::default()
        }
    }

    pub fn case(case: CaseId) -> Self {
        Self {
            id: Some(case.to_string()),
            case: Some(case),
            ..Self::default()
        }
    }

    pub fn claim(claim: ClaimNumber) -> Self {
        Self {
            claim: Some(claim),
            ..Self::default()
        }
    }

    #[must_use]
    pub fn with_id(mut self, id: impl ToString) -> Self {
        self.id = Some(id.to_string());
        self
    }

    #[must_use]
    pub fn with_customer(mut self, customer: CustomerId) -> Self {
        self.customer = Some(customer);
        self
    }
}

/// A mutation's input: how it becomes a command, and what the command concerns.
pub trait CommandInput {
    type Command: Into<Command>;

    fn into_command(self, context: &CommandContext) -> Result<Self::Command, ValidationError>;

    fn affected(command: &Self::Command) -> Affected;
}

/// Parses an optional text field with the domain's parser.
pub fn optional<T>(
    field: &str,
    value: Option<String>,
    parse: impl Fn(&str, &str) -> Result<T, ValidationError>,
) -> Result<Option<T>, ValidationError> {
    value.map(|value| parse(field, &value)).transpose()
}

/// Parses an optional id (or other `ID` input) with the domain's parser.
pub fn optional_id<T>(
    field: &str,
    id: Option<ID>,
    parse: impl Fn(&str, &str) -> Result<T, ValidationError>,
) -> Result<Option<T>, ValidationError> {
    id.map(|id| parse(field, &id)).transpose()
}

/// A required text written by staff (a summary, a reason, a subject …), checked as the domain's
/// free text and not blank: the domain's rule ([`FreeText::written`]), which `import` keeps
/// for the same fields.
pub fn written(field: &str, text: &str) -> Result<FreeText, ValidationError> {
    FreeText::written(field, text)
}

/// An optional text written by staff or a customer (a comment, an address, a message): left
/// out or null for none, and when given, written out — a blank one would be stored as an
/// empty text that reads as if erased.
pub fn optional_written(
    field: &str,
    text: Option<String>,
) -> Result<Option<FreeText>, ValidationError> {
    text.map(|text| written(field, &text)).transpose()
}

/// An `Int` input that must fit `T` (a duration in seconds, a number of working days).
pub fn whole<T: TryFrom<i32>>(field: &str, value: i32, rule: &str) -> Result<T, ValidationError> {
    T::try_from(value).map_err(|_| ValidationError::new(field, rule))
}

/// Runs one mutation: checks the caller, builds the command, records it.
pub async fn run<I: CommandInput>(
    ctx: &Context<'_>,
    input: I,
    event_id: Option<ID>,
    expected_version: Option<Count>,
) -> ApiResult<Recorded> {
    let caller = caller(ctx)?;
    let actor = StaffId::parse("caller.subject", &caller.subject)?;
    let event_id = event_id
        .map(|id| EventId::parse("eventId", &id))
        .transpose()?;
    let context = CommandContext {
        actor: actor.clone(),
        event_id,
    };
    let command = input.into_command(&context)?;
    let affected = I::affected(&command);
    let meta = CommandMeta {
        event_id,
        expected_version: expected_version.map(|version| version.0),
        ..CommandMeta::by(actor)
    };
    let executed = match state(ctx)?.ledger.execute(command.into(), meta).await {
        Ok(executed) => executed,
        Err(error) => {
            record_identifier_owner(ctx, &error).await?;
            return Err(in_the_input(error.into()));
        }
    };
    Ok(Recorded { executed, affected })
}

/// An `IDENTIFIER_OWNED` refusal names the customer who holds the identifier the caller typed:
/// the answer `customerByIdentifier` gives, so it is recorded as that read is, as a read of the
/// holder, through the mutation (`addIdentifier.identifierOwned`). The message stays: agents
/// need the holder to merge a duplicate. A refusal that cannot be recorded is `UNAVAILABLE`.
async fn record_identifier_owner(ctx: &Context<'_>, error: &CommandError) -> ApiResult<()> {
    let CommandError::Domain(DomainError::IdentifierOwned { owner, .. }) = error else {
        return Ok(());
    };
    let owner = CustomerId::parse("owner", owner)
        .map_err(|error| ApiError::unavailable("identifier owner", &error))?;
    let operation = format!("{}.identifierOwned", ctx.item.node.name.node);
    record_read(ctx, owner, &operation).await
}

/// A domain rule's error names the command's field as the domain spells it (`premium`,
/// `identifiers[1]`); the client sent it as a field of `input`, so it is named that way, as the
/// input's own parse errors are. The mutation's own arguments (`eventId`, `expectedVersion`)
/// and the store's (`stream`) keep their names.
fn in_the_input(error: ApiError) -> ApiError {
    match error {
        ApiError::Validation { field, rule }
            if !field.starts_with("input.")
                && !matches!(field.as_str(), "eventId" | "expectedVersion" | "stream") =>
        {
            ApiError::Validation {
                field: format!("input.{field}"),
                rule,
            }
        }
        other => other,
    }
}

/// What a mutation recorded.
#[derive(Debug, Clone)]
pub struct Recorded {
    executed: Executed,
    affected: Affected,
}

impl Recorded {
    /// The service history once it holds this write.
    async fn service_history(&self, ctx: &Context<'_>) -> ApiResult<ProjectionSpace> {
        state(ctx)?
            .read_model_at(SERVICE_HISTORY, self.executed.position)
            .await
    }

    /// The customer the service case or claim the command concerns belongs to, after this
    /// write (only its id: reading the customer is recorded where it is loaded).
    async fn customer_of_case_or_claim(&self, ctx: &Context<'_>) -> ApiResult<Option<CustomerId>> {
        if self.affected.case.is_none() && self.affected.claim.is_none() {
            return Ok(None);
        }
        let history = self.service_history(ctx).await?;
        if let Some(case) = self.affected.case {
            return Ok(service_history::case(&history, case)?.map(|record| record.customer));
        }
        match &self.affected.claim {
            Some(number) => {
                Ok(service_history::claim(&history, number)?.map(|record| record.customer))
            }
            None => Ok(None),
        }
    }
}

#[Object]
impl Recorded {
    /// The position of the command's last event (for a command that changed nothing, the
    /// stream's last event): send it as `X-Ledger-Consistent-With` to read this write back.
    async fn position(&self) -> Position {
        self.executed.position.into()
    }

    /// The number of events the stream holds now: the next `expectedVersion`.
    async fn stream_version(&self) -> Count {
        Count(self.executed.stream_version)
    }

    /// True when this was a retry of a command already recorded (same `eventId`).
    async fn duplicate(&self) -> bool {
        self.executed.duplicate
    }

    /// The stream the events went to: `customer-…`, `claim-…`, `case-…` (a policy's or claim's
    /// number masked for a caller who sees numbers masked).
    async fn stream(&self, ctx: &Context<'_>) -> String {
        shown_stream(&self.executed.stream, masked(ctx))
    }

    /// The event types appended (empty for a retry or a command that changed nothing).
    async fn event_types(&self) -> Vec<&'static str> {
        self.executed
            .events
            .iter()
            .map(|event| event.event_type())
            .collect()
    }

    /// The id of what the command created or names (a new customer's, contact's, case's ...).
    async fn id(&self) -> Option<ID> {
        self.affected.id.clone().map(ID)
    }

    /// The customer the command concerns, as the directory shows it after this write: the one
    /// it names, or the customer of the service case or claim it moves on.
    async fn customer(&self, ctx: &Context<'_>) -> ApiResult<Option<Customer>> {
        let customer = match self.affected.customer {
            Some(customer) => Some(customer),
            None => self.customer_of_case_or_claim(ctx).await?,
        };
        let Some(customer) = customer else {
            return Ok(None);
        };
        state(ctx)?.wait_for(self.executed.position, None).await?;
        load_customer(ctx, customer, "recorded.customer").await
    }

    /// The service case the command concerns, after this write. Its subject, resolution and
    /// numbers are the customer's personal data: reading it is recorded as a read of the
    /// customer the case names (`recorded.serviceCase`), as the queue's items are, also when
    /// the command changed nothing.
    async fn service_case(&self, ctx: &Context<'_>) -> ApiResult<Option<ServiceCase>> {
        let Some(case) = self.affected.case else {
            return Ok(None);
        };
        let history = self.service_history(ctx).await?;
        let Some(record) = service_history::case(&history, case)? else {
            return Ok(None);
        };
        record_read(ctx, record.customer, "recorded.serviceCase").await?;
        Ok(Some(ServiceCase::new(record)))
    }

    /// The claim the command concerns, after this write. Its claim and policy numbers are the
    /// customer's personal data: reading it is recorded as a read of the customer the claim
    /// names (`recorded.claim`), as the queue's items are.
    async fn claim(&self, ctx: &Context<'_>) -> ApiResult<Option<Claim>> {
        let Some(number) = &self.affected.claim else {
            return Ok(None);
        };
        let history = self.service_history(ctx).await?;
        let Some(record) = service_history::claim(&history, number)? else {
            return Ok(None);
        };
        record_read(ctx, record.customer, "recorded.claim").await?;
        Ok(Some(Claim::new(record)))
    }
}
