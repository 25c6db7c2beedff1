//! Cursor pages over one index, walked in key order, with this projection's page limit and
//! query error. The paging itself is [`ledger_domain::projection::paging`]'s: a cursor is
//! `{listing}:{hex}`, and one another listing issued is [`QueryError::BadCursor`].

pub use ledger_domain::projection::paging::Page;
/// Why a query could not be answered: every marketing query fails only as a page can.
pub use ledger_domain::projection::paging::PageError as QueryError;

/// The most items one page may ask for. Each item is one index entry and at most one record
/// read; a hundred keeps a page well under a millisecond of reads and matches the API's
/// connection limit.
pub const PAGE_SIZE_MAX: usize = 100;
