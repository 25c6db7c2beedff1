//! Cursor pages over one index, walked in key order, with this projection's page limit and
//! query error. The paging itself is [`ledger_domain::projection::paging`]'s: a cursor is
//! `{listing}:{hex}`, and one another listing issued is [`QueryError::BadCursor`].

use ledger_domain::projection::StateError;
use ledger_domain::projection::paging::PageError;

pub use ledger_domain::projection::paging::Page;

/// The most items one page may ask for. An item of a staff listing sums at most
/// [`crate::DATE_RANGE_DAYS_MAX`]'s worth of day and month buckets (under 200 reads), so a
/// hundred keeps a page within some twenty thousand reads; it matches the API's connection
/// limit.
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
    /// The date range ends before it starts.
    #[error("the date range ends ({to}) before it starts ({from})")]
    EmptyDateRange {
        from: jiff::civil::Date,
        to: jiff::civil::Date,
    },
    /// The date range is longer than [`crate::DATE_RANGE_DAYS_MAX`] days.
    #[error("a date range covers at most {max} days; {days} were requested")]
    DateRangeTooLong { days: i64, max: i64 },
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
