//! Mutations of the customer aggregate: registration, identifiers, profile, consent, merges,
//! account managers and erasure.

use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object};
use ledger_domain::ValidationError;
use ledger_domain::commands::{
    AddIdentifier, AssignAccountManager, ChangeConsent, Edit, EraseCustomer, MergeCustomers,
    RegisterCustomer, RemoveIdentifier, UpdateProfile,
};
use ledger_domain::ids::{CustomerId, StaffId};
use ledger_domain::values::{Identifier, PersonName};

use super::{
    Affected, CommandContext, CommandInput, Recorded, optional, optional_written, run, written,
};
use crate::access::RootAccess;
use crate::errors::ApiResult;
use crate::scalars::Count;
use crate::vocabulary::{Channel, CustomerKind, ErasureReason, IdentifierKind};

/// An identifier as typed: its kind and its value in any spelling the domain normalises.
#[derive(InputObject, Debug, Clone)]
pub struct IdentifierInput {
    pub kind: IdentifierKind,
    pub value: String,
}

impl IdentifierInput {
    fn parse(self, field: &str) -> Result<Identifier, ValidationError> {
        Identifier::parse(&format!("{field}.value"), self.kind.into(), &self.value)
    }
}

fn customer_id(field: &str, id: &ID) -> Result<CustomerId, ValidationError> {
    CustomerId::parse(field, id)
}

/// Registers a new customer with the identifiers they can be found by.
#[derive(InputObject, Debug)]
pub struct RegisterCustomerInput {
    /// Left out, the ledger makes one (see the mutations' documentation).
    pub customer_id: Option<ID>,
    pub kind: CustomerKind,
    pub name: String,
    pub group: Option<String>,
    pub address: Option<String>,
    #[graphql(default)]
    pub identifiers: Vec<IdentifierInput>,
}

impl CommandInput for RegisterCustomerInput {
    type Command = RegisterCustomer;

    fn into_command(self, context: &CommandContext) -> Result<RegisterCustomer, ValidationError> {
        let customer_id = match &self.customer_id {
            Some(id) => customer_id("input.customerId", id)?,
            None => CustomerId::from_uuid(context.new_uuid()),
        };
        let identifiers = self
            .identifiers
            .into_iter()
            .enumerate()
            .map(|(index, identifier)| identifier.parse(&format!("input.identifiers[{index}]")))
            .collect::<Result<_, _>>()?;
        Ok(RegisterCustomer {
            customer_id,
            kind: self.kind.into(),
            name: PersonName::parse("input.name", &self.name)?,
            group: optional("input.group", self.group, PersonName::parse)?,
            address: optional_written("input.address", self.address)?,
            identifiers,
        })
    }

    fn affected(command: &RegisterCustomer) -> Affected {
        Affected::customer(command.customer_id).with_id(command.customer_id)
    }
}

/// Lets the customer be found by one more identifier.
#[derive(InputObject, Debug)]
pub struct AddIdentifierInput {
    pub customer_id: ID,
    pub identifier: IdentifierInput,
}

impl CommandInput for AddIdentifierInput {
    type Command = AddIdentifier;

    fn into_command(self, _: &CommandContext) -> Result<AddIdentifier, ValidationError> {
        Ok(AddIdentifier {
            customer_id: customer_id("input.customerId", &self.customer_id)?,
            identifier: self.identifier.parse("input.identifier")?,
        })
    }

    fn affected(command: &AddIdentifier) -> Affected {
        Affected::customer(command.customer_id)
    }
}

/// Stops the customer being found by an identifier.
#[derive(InputObject, Debug)]
pub struct RemoveIdentifierInput {
    pub customer_id: ID,
    pub identifier: IdentifierInput,
}

impl CommandInput for RemoveIdentifierInput {
    type Command = RemoveIdentifier;

    fn into_command(self, _: &CommandContext) -> Result<RemoveIdentifier, ValidationError> {
        Ok(RemoveIdentifier {
            customer_id: customer_id("input.customerId", &self.customer_id)?,
            identifier: self.identifier.parse("input.identifier")?,
        })
    }

    fn affected(command: &RemoveIdentifier) -> Affected {
        Affected::customer(command.customer_id)
    }
}

/// Changes the customer's profile: a field left out stays as it is, `null` removes an optional
/// one, so correcting a name leaves the group and the address alone.
#[derive(InputObject, Debug)]
pub struct UpdateProfileInput {
    pub customer_id: ID,
    /// The new name; left out, the name stays as it is.
    // A customer always has a name: `null` is refused (not ignored).
    pub name: MaybeUndefined<String>,
    /// The company group (集团客户): left out, it stays as it is; `null` removes it.
    pub group: MaybeUndefined<String>,
    /// The address: left out, it stays as it is; `null` removes it.
    pub address: MaybeUndefined<String>,
}

/// What an optional input field asks of a part of a record: left out keeps it, `null` clears it.
fn edit<T>(
    field: &str,
    value: MaybeUndefined<String>,
    parse: impl Fn(&str, &str) -> Result<T, ValidationError>,
) -> Result<Edit<T>, ValidationError> {
    Ok(match value {
        MaybeUndefined::Undefined => Edit::Keep,
        MaybeUndefined::Null => Edit::Clear,
        MaybeUndefined::Value(value) => Edit::Set(parse(field, &value)?),
    })
}

impl CommandInput for UpdateProfileInput {
    type Command = UpdateProfile;

    fn into_command(self, _: &CommandContext) -> Result<UpdateProfile, ValidationError> {
        Ok(UpdateProfile {
            customer_id: customer_id("input.customerId", &self.customer_id)?,
            name: match self.name {
                MaybeUndefined::Undefined => None,
                MaybeUndefined::Null => {
                    return Err(ValidationError::new(
                        "input.name",
                        "a customer always has a name: leave it out to keep it, or give the new one",
                    ));
                }
                MaybeUndefined::Value(name) => Some(PersonName::parse("input.name", &name)?),
            },
            group: edit("input.group", self.group, PersonName::parse)?,
            address: edit("input.address", self.address, written)?,
        })
    }

    fn affected(command: &UpdateProfile) -> Affected {
        Affected::customer(command.customer_id)
    }
}

/// Records that the customer granted or withdrew marketing consent on a channel.
#[derive(InputObject, Debug)]
pub struct ChangeConsentInput {
    pub customer_id: ID,
    pub channel: Channel,
    pub granted: bool,
}

impl CommandInput for ChangeConsentInput {
    type Command = ChangeConsent;

    fn into_command(self, _: &CommandContext) -> Result<ChangeConsent, ValidationError> {
        Ok(ChangeConsent {
            customer_id: customer_id("input.customerId", &self.customer_id)?,
            channel: self.channel.into(),
            granted: self.granted,
        })
    }

    fn affected(command: &ChangeConsent) -> Affected {
        Affected::customer(command.customer_id)
    }
}

/// Merges the duplicate `customerId` into `survivorId`.
#[derive(InputObject, Debug)]
pub struct MergeCustomersInput {
    pub customer_id: ID,
    pub survivor_id: ID,
    pub reason: Option<String>,
}

impl CommandInput for MergeCustomersInput {
    type Command = MergeCustomers;

    fn into_command(self, _: &CommandContext) -> Result<MergeCustomers, ValidationError> {
        Ok(MergeCustomers {
            customer_id: customer_id("input.customerId", &self.customer_id)?,
            survivor_id: customer_id("input.survivorId", &self.survivor_id)?,
            reason: optional_written("input.reason", self.reason)?,
        })
    }

    fn affected(command: &MergeCustomers) -> Affected {
        Affected::customer(command.survivor_id)
    }
}

/// Gives the customer an account manager and team lead.
#[derive(InputObject, Debug)]
pub struct AssignAccountManagerInput {
    pub customer_id: ID,
    pub manager: String,
    pub team_lead: String,
}

impl CommandInput for AssignAccountManagerInput {
    type Command = AssignAccountManager;

    fn into_command(self, _: &CommandContext) -> Result<AssignAccountManager, ValidationError> {
        Ok(AssignAccountManager {
            customer_id: customer_id("input.customerId", &self.customer_id)?,
            manager: StaffId::parse("input.manager", &self.manager)?,
            team_lead: StaffId::parse("input.teamLead", &self.team_lead)?,
        })
    }

    fn affected(command: &AssignAccountManager) -> Affected {
        Affected::customer(command.customer_id)
    }
}

/// Erases the customer's personal data (crypto-shredding). Cannot be undone.
#[derive(InputObject, Debug)]
pub struct EraseCustomerInput {
    pub customer_id: ID,
    pub reason: ErasureReason,
}

impl CommandInput for EraseCustomerInput {
    type Command = EraseCustomer;

    fn into_command(self, _: &CommandContext) -> Result<EraseCustomer, ValidationError> {
        Ok(EraseCustomer {
            customer_id: customer_id("input.customerId", &self.customer_id)?,
            reason: self.reason.into(),
        })
    }

    fn affected(command: &EraseCustomer) -> Affected {
        Affected::customer(command.customer_id)
    }
}

/// The customer aggregate's mutations.
#[derive(Debug, Default)]
pub struct CustomerMutations;

#[Object(guard = "RootAccess")]
impl CustomerMutations {
    /// Registers a customer; `Recorded.id` is the customer's id.
    async fn register_customer(
        &self,
        ctx: &Context<'_>,
        input: RegisterCustomerInput,
        event_id: Option<ID>,
        expected_version: Option<Count>,
    ) -> ApiResult<Recorded> {
        run(ctx, input, event_id, expected_version).await
    }

    async fn add_identifier(
        &self,
        ctx: &Context<'_>,
        input: AddIdentifierInput,
        event_id: Option<ID>,
        expected_version: Option<Count>,
    ) -> ApiResult<Recorded> {
        run(ctx, input, event_id, expected_version).await
    }

    async fn remove_identifier(
        &self,
        ctx: &Context<'_>,
        input: RemoveIdentifierInput,
        event_id: Option<ID>,
        expected_version: Option<Count>,
    ) -> ApiResult<Recorded> {
        run(ctx, input, event_id, expected_version).await
    }

    async fn update_profile(
        &self,
        ctx: &Context<'_>,
        input: UpdateProfileInput,
        event_id: Option<ID>,
        expected_version: Option<Count>,
    ) -> ApiResult<Recorded> {
        run(ctx, input, event_id, expected_version).await
    }

    async fn change_consent(
        &self,
        ctx: &Context<'_>,
        input: ChangeConsentInput,
        event_id: Option<ID>,
        expected_version: Option<Count>,
    ) -> ApiResult<Recorded> {
        run(ctx, input, event_id, expected_version).await
    }

    /// Merges a duplicate into its survivor; `Recorded.customer` is the survivor.
    async fn merge_customers(
        &self,
        ctx: &Context<'_>,
        input: MergeCustomersInput,
        event_id: Option<ID>,
        expected_version: Option<Count>,
    ) -> ApiResult<Recorded> {
        run(ctx, input, event_id, expected_version).await
    }

    async fn assign_account_manager(
        &self,
        ctx: &Context<'_>,
        input: AssignAccountManagerInput,
        event_id: Option<ID>,
        expected_version: Option<Count>,
    ) -> ApiResult<Recorded> {
        run(ctx, input, event_id, expected_version).await
    }

    async fn erase_customer(
        &self,
        ctx: &Context<'_>,
        input: EraseCustomerInput,
        event_id: Option<ID>,
        expected_version: Option<Count>,
    ) -> ApiResult<Recorded> {
        run(ctx, input, event_id, expected_version).await
    }
}
