//! Errors, split by who handles them: a rejected append ([`AppendError::Conflict`],
//! [`AppendError::Invalid`]) is a value the caller matches on; a store that cannot write or read
//! ([`StoreFailure`]) is an operator's problem; [`OpenError`] and [`ImportError`] belong to the
//! commands that open a store and import an export.

use std::path::PathBuf;

use ledger_domain::ids::{Position, StreamId};

use crate::types::ExpectedVersion;

/// Why an append was not acknowledged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AppendError {
    /// The stream does not hold what the caller expected; nothing was written.
    #[error("stream {stream}: expected {expected}, but it holds {actual} events")]
    Conflict {
        stream: StreamId,
        expected: ExpectedVersion,
        actual: u64,
    },
    /// The request breaks a rule or a limit; `field` names where (`events[2].payload`), `rule`
    /// says what it must be, naming the limit constant when one applies.
    #[error("{field}: {rule}")]
    Invalid { field: String, rule: String },
    /// The store cannot take writes: the append is NOT acknowledged and may or may not be in
    /// the log after a reopen (wholly or not at all).
    #[error("the event log is unavailable: {0}")]
    Unavailable(StoreFailure),
}

impl AppendError {
    pub(crate) fn invalid(field: impl Into<String>, rule: impl Into<String>) -> Self {
        Self::Invalid {
            field: field.into(),
            rule: rule.into(),
        }
    }
}

/// The store itself is in trouble (or the caller asked for more than a limit allows on a read).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreFailure {
    /// A write, flush or sync failed. The store is poisoned from then on.
    #[error("{operation} failed: {message}")]
    Io { operation: String, message: String },
    /// An earlier write, flush or sync failed; the store refuses writes until it is reopened,
    /// because a failed fsync may have lost pages and a retry could acknowledge lost data.
    #[error("the store refuses writes since an earlier failure ({cause}); reopen it")]
    Poisoned { cause: String },
    /// The store was closed (or its writer stopped).
    #[error("the event log is closed")]
    Closed,
    /// Stored bytes do not decode or do not match their hash.
    #[error("corrupt record at position {position}: {detail}")]
    Corrupt { position: Position, detail: String },
    /// A read asked for more events than `READ_PAGE_MAX` (a caller bug, not a disk problem; it is
    /// here so that every read has one error type).
    #[error("a page of {requested} events exceeds READ_PAGE_MAX = {limit}")]
    PageTooLarge { requested: usize, limit: usize },
}

impl StoreFailure {
    pub(crate) fn io(operation: impl Into<String>, error: impl std::fmt::Display) -> Self {
        Self::Io {
            operation: operation.into(),
            message: error.to_string(),
        }
    }
}

/// Why a store could not be opened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OpenError {
    /// The directory or a file in it could not be created, opened or synced.
    #[error("{}: {message}", path.display())]
    Io { path: PathBuf, message: String },
    /// sled refused to open the database.
    #[error("sled could not open {}: {message}", path.display())]
    Sled { path: PathBuf, message: String },
    /// Another process holds the database open (a running `serve`, or another command).
    #[error(
        "{} is open in another process (a running `contact-ledger serve`, or another command on \
         the same data directory); stop it first",
        path.display()
    )]
    InUse { path: PathBuf },
    /// The stored log is not what was written. The store refuses to serve it.
    #[error("the log is corrupt at {}: {detail}", describe(*position))]
    Corrupt {
        position: Option<Position>,
        detail: String,
    },
    /// A store written by a newer (or unknown) layout.
    #[error("unknown store layout {found} (this build reads layout {expected})")]
    UnknownLayout { found: u8, expected: u8 },
    /// An option is outside its bounds.
    #[error("StoreOptions.{field}: {rule}")]
    InvalidOptions { field: &'static str, rule: String },
}

fn describe(position: Option<Position>) -> String {
    position.map_or_else(
        || "the store's metadata".to_owned(),
        |position| format!("position {position}"),
    )
}

/// Why exported records could not be imported. Nothing of a rejected call is written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImportError {
    /// The record at `position` cannot follow the log as it is.
    #[error("record at position {position}: {rule}")]
    Rejected { position: Position, rule: String },
    /// The call itself breaks a rule or limit (no records, too many).
    #[error("{field}: {rule}")]
    Invalid { field: String, rule: String },
    #[error("the event log is unavailable: {0}")]
    Unavailable(StoreFailure),
}
