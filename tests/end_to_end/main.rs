//! End-to-end tests of the `contact-ledger` binary.
