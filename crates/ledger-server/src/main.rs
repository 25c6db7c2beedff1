//! `contact-ledger`: the command-line front of the ledger (to be written).

fn main() {}
