//! Errors a caller is expected to handle: a rejected value or a rejected command.
//!
//! Broken disks and other infrastructure failures are not here; they belong to the store.

use serde::Serialize;

/// A value that broke a rule. `field` names where it came from (`payload.mobile`,
/// `identifiers[2].value`), `rule` says in words what it must be.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{field}: {rule}")]
pub struct ValidationError {
    pub field: String,
    pub rule: String,
}

impl ValidationError {
    pub fn new(field: impl Into<String>, rule: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            rule: rule.into(),
        }
    }

    /// The same error seen from one level up: `mobile` inside `payload` becomes `payload.mobile`.
    #[must_use]
    pub fn within(self, parent: &str) -> Self {
        let field = if self.field.is_empty() {
            parent.to_owned()
        } else if self.field.starts_with('[') {
            format!("{parent}{}", self.field)
        } else {
            format!("{parent}.{}", self.field)
        };
        Self {
            field,
            rule: self.rule,
        }
    }
}

/// A command the current state does not allow. Each variant is a value the caller matches on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    #[error(transparent)]
    Validation(#[from] ValidationError),
    /// The identifier is already held by another customer.
    #[error("{identifier} already belongs to customer {owner}")]
    IdentifierOwned { identifier: String, owner: String },
    /// The customer was merged into `survivor` and accepts no new events.
    #[error("customer {customer} was merged into {survivor}; use the survivor")]
    CustomerMerged { customer: String, survivor: String },
    /// The customer was erased and accepts nothing more: its personal data is gone, and with
    /// its data key destroyed nothing new could be sealed for it.
    #[error("customer {customer} is already erased; nothing new can be recorded for it")]
    CustomerErased { customer: String },
    /// The aggregate does not exist yet (or any more) for this command.
    #[error("{kind} {id} does not exist")]
    NotFound { kind: &'static str, id: String },
    /// The aggregate already exists and the command would create it again.
    #[error("{kind} {id} already exists")]
    AlreadyExists { kind: &'static str, id: String },
    /// The command is not allowed in the aggregate's current state.
    #[error("cannot {action} {kind} {id} while it is {state}")]
    InvalidTransition {
        kind: &'static str,
        id: String,
        action: &'static str,
        state: String,
    },
}
