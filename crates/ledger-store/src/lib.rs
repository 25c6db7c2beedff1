//! The event log (to be written).
