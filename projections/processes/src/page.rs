//! Cursor pages over one index, walked in key order, with this projection's page limit and
//! query error. The paging itself is [`ledger_domain::projection::paging`]'s: a cursor is
//! `{listing}:{hex}`, and one another listing issued is [`QueryError::BadCursor`].

use ledger_domain::projection::StateError;
use ledger_domain::projection::paging::PageError;

pub use ledger_domain::projection::paging::Page;

/// The most items one page may ask for. Each item is one index entry and at most one record
/// read; a hundred keeps a page well under a millisecond of reads and matches the API's
/// connection limit. Training coverage pages staff by the same limit.
pub const PAGE_SIZE_MAX: usize = 100;

/// Why a query could not be answered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    /// `first` is above [`PAGE_SIZE_MAX`]; the caller asks again with less.
    #[error("a page holds at most {max} items; {requested} were requested")]
    PageTooLarge { requested: usize, max: usize },
    /// The cursor was not issued by this listing.
    #[error("the cursor was not issued by this listing")]
    BadCursor,
    /// The department has more processes than one tree may show.
    #[error("department {department} has more than {max} processes, more than one tree shows")]
    TreeTooLarge { department: String, max: usize },
    #[error(transparent)]
    State(#[from] StateError),
}

impl From<PageError> for QueryError {
    fn from(error: PageError) -> Self {
        match error {
            PageError::PageTooLarge { requested, max } => Self::PageTooLarge { requested, max },
            PageError::BadCursor => Self::BadCursor,
            PageError::State(error) => Self::State(error),
        }
    }
}
