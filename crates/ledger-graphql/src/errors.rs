//! The API's one error type and its GraphQL mapping: every failure a client can see has an
//! `extensions.code`, and nothing internal (paths, store messages, projection state) leaks.
//!
//! | code | when | extensions |
//! |---|---|---|
//! | `VALIDATION` | a bad argument or input value, a page above its maximum, a cursor this listing never issued | `field`, `rule` |
//! | `CONFLICT` | the stream does not hold `expectedVersion` events | `stream`, `expected`, `actual` |
//! | `REJECTED` | the aggregate's state does not allow the command (already exists, wrong state, identifier owned, customer merged, customer erased, a customer whose data key stayed with the ledger it was exported from: `DATA_KEY_ELSEWHERE`) | `reason` |
//! | `NOT_FOUND` | the thing named does not exist (yet) | `what` |
//! | `UNAUTHENTICATED` | the request carries no caller | |
//! | `FORBIDDEN` | the caller's role may not use this field or argument | `role`, `field` |
//! | `PROJECTION_LAGGING` | a read model had not applied the position the request must see in time | `projection`, `applied`, `wanted` |
//! | `NOT_CONFIGURED` | the server is not set up for this (`signedCheckpoint` without a signing key) | `what` |
//! | `UNAVAILABLE` | the store or a projection failed; the detail goes to the log, not the client | |
//!
//! async-graphql's own errors (a value that does not parse as its type, an unknown enum value,
//! an operation name missing) carry none of these; `execution::complete_errors` gives each a
//! `VALIDATION` code, the argument as `field` where the error says which, and a `rule`.

use async_graphql::ErrorExtensions;
use customer_directory::SearchError;
use customer_timeline::TimelineError;
use ledger_app::personal::KeyError;
use ledger_app::{CommandError, RunnerError};
use ledger_domain::{DomainError, ValidationError};
use ledger_store::StoreFailure;
use service_history::HistoryError;

use crate::access::Role;

/// What went wrong, as a client may be told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiError {
    Validation {
        field: String,
        rule: String,
    },
    Conflict {
        stream: String,
        expected: u64,
        actual: u64,
    },
    /// Lost every race for the stream; code `CONFLICT` like a pinned version that did not hold.
    Contended {
        stream: String,
        attempts: usize,
        actual: u64,
    },
    Rejected {
        reason: &'static str,
        message: String,
    },
    NotFound {
        what: String,
    },
    Unauthenticated,
    Forbidden {
        role: Role,
        field: String,
    },
    ProjectionLagging {
        projection: String,
        applied: u64,
        wanted: u64,
    },
    /// The server lacks a setting this field needs (a checkpoint signing key); asking again
    /// will not help until an operator configures it.
    NotConfigured {
        what: String,
    },
    /// The message is generic; the cause was logged where it happened.
    Unavailable,
}

impl ApiError {
    pub fn validation(field: impl Into<String>, rule: impl Into<String>) -> Self {
        Self::Validation {
            field: field.into(),
            rule: rule.into(),
        }
    }

    pub fn not_found(what: impl Into<String>) -> Self {
        Self::NotFound { what: what.into() }
    }

    /// An infrastructure failure: logged here with its detail, reported as `UNAVAILABLE`.
    pub fn unavailable(context: &str, detail: &dyn std::fmt::Display) -> Self {
        tracing::error!(context, %detail, "GraphQL request failed on the ledger");
        Self::Unavailable
    }

    /// The `extensions.code` of this error.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Validation { .. } => "VALIDATION",
            Self::Conflict { .. } | Self::Contended { .. } => "CONFLICT",
            Self::Rejected { .. } => "REJECTED",
            Self::NotFound { .. } => "NOT_FOUND",
            Self::Unauthenticated => "UNAUTHENTICATED",
            Self::Forbidden { .. } => "FORBIDDEN",
            Self::ProjectionLagging { .. } => "PROJECTION_LAGGING",
            Self::NotConfigured { .. } => "NOT_CONFIGURED",
            Self::Unavailable => "UNAVAILABLE",
        }
    }

    fn message(&self) -> String {
        match self {
            Self::Validation { field, rule } => format!("{field}: {rule}"),
            Self::Conflict {
                stream,
                expected,
                actual,
            } => {
                format!("stream {stream} holds {actual} events, not the expected {expected}")
            }
            Self::Contended {
                stream,
                attempts,
                actual,
            } => format!(
                "stream {stream} kept changing while this command was decided: other writers got there first {attempts} times in a row (it now holds {actual} events); nothing was recorded, send the command again"
            ),
            Self::Rejected { message, .. } => message.clone(),
            Self::NotFound { what } => format!("{what} does not exist"),
            Self::Unauthenticated => "the request carries no caller; sign in".to_owned(),
            Self::Forbidden { role, field } => {
                format!("the {} role may not use {field}", role.name())
            }
            Self::ProjectionLagging {
                projection,
                applied,
                wanted,
            } => format!(
                "the {projection} read model has applied position {applied}, not yet {wanted}; try again shortly"
            ),
            Self::NotConfigured { what } => {
                format!("{what} is not configured on this server; ask its operator")
            }
            Self::Unavailable => "the ledger is unavailable; try again later".to_owned(),
        }
    }
}

impl From<ApiError> for async_graphql::Error {
    fn from(error: ApiError) -> Self {
        let code = error.code();
        async_graphql::Error::new(error.message()).extend_with(|_, extensions| {
            extensions.set("code", code);
            match &error {
                ApiError::Validation { field, rule } => {
                    extensions.set("field", field.as_str());
                    extensions.set("rule", rule.as_str());
                }
                ApiError::Conflict {
                    stream,
                    expected,
                    actual,
                } => {
                    extensions.set("stream", stream.as_str());
                    // Versions are carried as strings, like positions: they may outgrow Int.
                    extensions.set("expected", expected.to_string());
                    extensions.set("actual", actual.to_string());
                }
                ApiError::Contended {
                    stream,
                    attempts,
                    actual,
                } => {
                    extensions.set("stream", stream.as_str());
                    extensions.set("attempts", *attempts);
                    extensions.set("actual", actual.to_string());
                }
                ApiError::Rejected { reason, .. } => extensions.set("reason", *reason),
                ApiError::NotFound { what } | ApiError::NotConfigured { what } => {
                    extensions.set("what", what.as_str());
                }
                ApiError::Forbidden { role, field } => {
                    extensions.set("role", role.name());
                    extensions.set("field", field.as_str());
                }
                ApiError::ProjectionLagging {
                    projection,
                    applied,
                    wanted,
                } => {
                    extensions.set("projection", projection.as_str());
                    extensions.set("applied", applied.to_string());
                    extensions.set("wanted", wanted.to_string());
                }
                ApiError::Unauthenticated | ApiError::Unavailable => {}
            }
        })
    }
}

impl From<ValidationError> for ApiError {
    fn from(error: ValidationError) -> Self {
        Self::Validation {
            field: error.field,
            rule: error.rule,
        }
    }
}

impl From<DomainError> for ApiError {
    fn from(error: DomainError) -> Self {
        let message = error.to_string();
        match error {
            DomainError::Validation(error) => error.into(),
            DomainError::NotFound { kind, id } => Self::not_found(format!("{kind} {id}")),
            DomainError::IdentifierOwned { .. } => Self::Rejected {
                reason: "IDENTIFIER_OWNED",
                message,
            },
            DomainError::CustomerMerged { .. } => Self::Rejected {
                reason: "CUSTOMER_MERGED",
                message,
            },
            DomainError::CustomerErased { .. } => Self::Rejected {
                reason: "CUSTOMER_ERASED",
                message,
            },
            DomainError::AlreadyExists { .. } => Self::Rejected {
                reason: "ALREADY_EXISTS",
                message,
            },
            DomainError::InvalidTransition { .. } => Self::Rejected {
                reason: "INVALID_TRANSITION",
                message,
            },
        }
    }
}

impl From<CommandError> for ApiError {
    fn from(error: CommandError) -> Self {
        match error {
            CommandError::Domain(error) => error.into(),
            CommandError::Conflict {
                stream,
                expected,
                actual,
            } => Self::Conflict {
                stream: stream.to_string(),
                expected,
                actual,
            },
            CommandError::Contended {
                stream,
                attempts,
                actual,
            } => Self::Contended {
                stream: stream.to_string(),
                attempts,
                actual,
            },
            CommandError::Invalid(error) => error.into(),
            CommandError::Unavailable(failure) => Self::unavailable("command", &failure),
            CommandError::Runner(error) => error.into(),
            CommandError::Keys(KeyError::Erased { subject }) => Self::Rejected {
                reason: "CUSTOMER_ERASED",
                message: format!(
                    "the personal data of {subject} was erased; nothing new can be recorded for it"
                ),
            },
            CommandError::Keys(error @ KeyError::Foreign { .. }) => Self::Rejected {
                reason: "DATA_KEY_ELSEWHERE",
                message: error.to_string(),
            },
            CommandError::Keys(error) => Self::unavailable("data keys", &error),
        }
    }
}

impl From<RunnerError> for ApiError {
    fn from(error: RunnerError) -> Self {
        match error {
            RunnerError::Lagging {
                projection,
                applied,
                wanted,
                ..
            } => Self::ProjectionLagging {
                projection,
                applied: applied.get(),
                wanted: wanted.get(),
            },
            // A read model is built on start; until then it is lagging, not broken.
            RunnerError::NotBuilt(projection) => Self::ProjectionLagging {
                projection,
                applied: 0,
                wanted: 0,
            },
            other => Self::unavailable("projection runner", &other),
        }
    }
}

impl From<StoreFailure> for ApiError {
    fn from(failure: StoreFailure) -> Self {
        Self::unavailable("event log", &failure)
    }
}

impl From<ledger_domain::projection::StateError> for ApiError {
    fn from(error: ledger_domain::projection::StateError) -> Self {
        Self::unavailable("read model", &error)
    }
}

/// The argument names a listing's errors refer to.
#[derive(Debug, Clone, Copy)]
pub struct PageArguments {
    pub size: &'static str,
    pub cursor: &'static str,
}

impl PageArguments {
    pub const FORWARD: Self = Self {
        size: "first",
        cursor: "after",
    };
    pub const BACKWARD: Self = Self {
        size: "last",
        cursor: "before",
    };
}

/// A directory listing's error, naming the arguments the caller passed.
pub fn search_error(error: SearchError, arguments: PageArguments) -> ApiError {
    match error {
        SearchError::PageTooLarge { max, .. } => page_too_large(arguments.size, max),
        SearchError::BadCursor => bad_cursor(arguments.cursor),
        SearchError::State(error) => error.into(),
    }
}

/// A service-history listing's error, naming the arguments the caller passed.
pub fn history_error(error: HistoryError, arguments: PageArguments) -> ApiError {
    match error {
        HistoryError::PageTooLarge { max, .. } => page_too_large(arguments.size, max),
        HistoryError::BadCursor => bad_cursor(arguments.cursor),
        HistoryError::State(error) => error.into(),
    }
}

/// A timeline page's error, naming the arguments the caller passed.
pub fn timeline_error(error: TimelineError, arguments: PageArguments) -> ApiError {
    match error {
        TimelineError::PageTooLarge { max, .. } => page_too_large(arguments.size, max),
        TimelineError::BadCursor => bad_cursor(arguments.cursor),
        TimelineError::UnknownKind(kind) => {
            ApiError::validation("kinds", format!("{kind} is not an event type"))
        }
        TimelineError::InvertedRange { .. } => {
            ApiError::validation("to", "the time range must not end before it starts")
        }
        TimelineError::State(error) => error.into(),
    }
}

pub fn page_too_large(argument: &str, max: usize) -> ApiError {
    ApiError::validation(argument, format!("a page holds at most {max} items"))
}

/// A cursor the listing cannot read: altered, from another listing or caller, or (for a masked
/// caller's sealed cursors, without a checkpoint signing key) from before the server restarted.
pub fn bad_cursor(argument: &str) -> ApiError {
    ApiError::validation(
        argument,
        format!(
            "the cursor is not one this listing returned to this caller (or it is from before \
             a restart); start again from the first page, without `{argument}`"
        ),
    )
}

/// Shorthand for resolvers: `Result<T, ApiError>`.
pub type ApiResult<T> = Result<T, ApiError>;

#[cfg(test)]
mod tests {
    use super::*;

    fn extension(error: &async_graphql::Error, name: &str) -> Option<String> {
        error
            .extensions
            .as_ref()?
            .get(name)
            .map(|value| value.to_string().trim_matches('"').to_owned())
    }

    #[test]
    fn every_error_carries_its_code_and_details() {
        let error: async_graphql::Error =
            ApiError::validation("input.mobile", "a mobile number has 11 digits").into();
        assert_eq!(extension(&error, "code").as_deref(), Some("VALIDATION"));
        assert_eq!(extension(&error, "field").as_deref(), Some("input.mobile"));
        let conflict: async_graphql::Error = ApiError::Conflict {
            stream: "customer-x".into(),
            expected: 1,
            actual: 2,
        }
        .into();
        assert_eq!(extension(&conflict, "actual").as_deref(), Some("2"));
    }

    #[test]
    fn a_command_that_lost_every_race_says_so_rather_than_naming_a_version_nobody_asked_for() {
        let contended: async_graphql::Error = ApiError::from(CommandError::Contended {
            stream: ledger_domain::ids::StreamId::parse("stream", "customer-x").unwrap(),
            attempts: 5,
            actual: 9,
        })
        .into();
        assert_eq!(extension(&contended, "code").as_deref(), Some("CONFLICT"));
        assert_eq!(
            extension(&contended, "stream").as_deref(),
            Some("customer-x")
        );
        assert_eq!(extension(&contended, "actual").as_deref(), Some("9"));
        assert!(
            contended.message.contains("5 times in a row"),
            "{}",
            contended.message
        );
        assert!(contended.message.contains("send the command again"));
        assert!(
            !contended.message.contains("expected"),
            "{}",
            contended.message
        );
    }

    #[test]
    fn store_failures_do_not_leak_their_detail() {
        let failure = StoreFailure::Io {
            operation: "fdatasync /secret/path".into(),
            message: "EIO".into(),
        };
        let error: async_graphql::Error = ApiError::from(failure).into();
        assert_eq!(extension(&error, "code").as_deref(), Some("UNAVAILABLE"));
        assert!(!error.message.contains("secret"), "{}", error.message);
    }
}
