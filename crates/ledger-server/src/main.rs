//! `contact-ledger`: the command-line front of the ledger (see [`ledger_server::cli`]).

fn main() -> std::process::ExitCode {
    ledger_server::cli::main()
}
