//! The service-history projection of the contact ledger, and the business calendar it runs on.
//!
//! The projection itself (service cases and claims folded from ledger events) is still to
//! come. For now the crate holds [`calendar`]: working hours, weekends, Chinese public
//! holidays and their make-up working days, loaded from `calendar.toml` beside this crate's
//! `Cargo.toml`, with which case and claim deadlines are computed in working time.

pub mod calendar;
