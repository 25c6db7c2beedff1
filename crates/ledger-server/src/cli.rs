//! The command line: parses arguments and dispatches to one file per subcommand.
//!
//! Every subcommand takes `--data DIR` (default `./data`). Exit codes: 0 success, 1 the work
//! found problems (invalid lines, a failed verification) or failed, 2 the command line itself
//! was wrong.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{ArgMatches, CommandFactory, FromArgMatches, Subcommand};

use crate::commands;

#[derive(Debug, clap::Parser)]
#[command(
    name = "contact-ledger",
    version,
    about = "The system of record for every contact between an insurer and its customers"
)]
struct Cli {
    /// The data directory holding the ledger.
    #[arg(long, global = true, default_value = "data", value_name = "DIR")]
    data: PathBuf,
    #[command(flatten)]
    keys: crate::keys::MasterKeyArgs,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the GraphQL API and GraphiQL over HTTP.
    Serve(commands::serve::Args),
    /// Write a realistic, deterministic demo history into an empty ledger.
    Seed(commands::seed::Args),
    /// Rebuild read models from position 0, or build them as of a past position.
    Replay(commands::replay::Args),
    /// Rewrite the read models' database compactly (sled never shrinks it); server stopped.
    Compact(commands::compact::Args),
    /// Append events from an NDJSON file (integrator or export form), or contacts from CSV
    /// (`--csv`); `-` reads standard input.
    Import(commands::import::Args),
    /// Write the ledger (or a range of it) as NDJSON in the export form.
    Export(commands::export::Args),
    /// Check the hash chain and every index of the store, or of an export file.
    Verify(commands::verify::Args),
    /// Event counts by type and channel, the head, projection checkpoints, the size on disk.
    Stats(commands::stats::Args),
    /// Merkle roots, and inclusion and consistency proofs and signed checkpoints as JSON
    /// documents for `tools/proof_verifier.py json` (a root alone is not one).
    Proof(commands::proof::Args),
    /// Erase a customer's personal data (`CustomerErased`), or an anonymous online enquiry's
    /// (`EnquiryErased`), and destroy the data key.
    Erase(commands::erase::Args),
    /// Make a new master key, or rotate the ledger's data keys to a new one.
    MasterKey(commands::master_key::Args),
}

impl Command {
    /// Whether the command reads a ledger that must already be in the data directory: all but
    /// those that start one (`serve`, `seed`, `import`), `verify --export` and `master-key new`.
    /// Opening the store creates one, so the others are refused before anything opens it.
    fn reads_an_existing_ledger(&self, matches: &ArgMatches) -> bool {
        match self {
            Self::Serve(_) | Self::Seed(_) | Self::Import(_) => false,
            Self::Verify(args) => args.reads_the_store(),
            Self::MasterKey(_) => {
                matches
                    .subcommand()
                    .and_then(|(_, master_key)| master_key.subcommand_name())
                    == Some("rotate")
            }
            Self::Replay(_)
            | Self::Compact(_)
            | Self::Export(_)
            | Self::Stats(_)
            | Self::Proof(_)
            | Self::Erase(_) => true,
        }
    }

    /// Whether the command opens the data directory when it is there: those that read an
    /// existing ledger, and those that start one.
    fn opens_the_data_directory(&self, matches: &ArgMatches) -> bool {
        matches!(self, Self::Serve(_) | Self::Seed(_) | Self::Import(_))
            || self.reads_an_existing_ledger(matches)
    }
}

/// Runs the command line and returns the process's exit code.
pub fn main() -> ExitCode {
    // Before anything is created: every file the binary makes is its owner's only.
    crate::data_directory::mask_group_and_others();
    let matches = Cli::command().get_matches();
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|error| error.exit());
    if cli.command.reads_an_existing_ledger(&matches)
        && let Err(error) = commands::require_ledger(&cli.data)
    {
        eprintln!("error: {}", error_text(&error));
        return ExitCode::FAILURE;
    }
    // Said, not changed: how the data directory is shared is the operator's decision. A
    // command that makes it makes it its owner's only (`data_directory::create`).
    if cli.command.opens_the_data_directory(&matches) {
        crate::data_directory::warn_if_open_to_others(&cli.data);
    }
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        // Colour only for a person at a terminal: a log file or a pipe gets plain text.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    report_a_closed_standard_output_as_an_error();
    let run = std::panic::AssertUnwindSafe(|| {
        runtime.block_on(async {
            match cli.command {
                Command::Serve(args) => commands::serve::run(&cli.data, &cli.keys, args).await,
                Command::Seed(args) => commands::seed::run(&cli.data, &cli.keys, args).await,
                Command::Replay(args) => commands::replay::run(&cli.data, &cli.keys, args).await,
                Command::Compact(args) => commands::compact::run(&cli.data, args).await,
                Command::Import(args) => commands::import::run(&cli.data, &cli.keys, args).await,
                Command::Export(args) => commands::export::run(&cli.data, args).await,
                Command::Verify(args) => commands::verify::run(&cli.data, args).await,
                Command::Stats(args) => commands::stats::run(&cli.data, &cli.keys, args).await,
                Command::Proof(args) => commands::proof::run(&cli.data, args).await,
                Command::Erase(args) => commands::erase::run(&cli.data, &cli.keys, args).await,
                Command::MasterKey(args) => {
                    commands::master_key::run(&cli.data, &cli.keys, args).await
                }
            }
        })
    });
    let outcome = match std::panic::catch_unwind(run) {
        Ok(outcome) => outcome,
        Err(panic) if is_closed_standard_output(panic.as_ref()) => {
            return ExitCode::FAILURE;
        }
        Err(panic) => std::panic::resume_unwind(panic),
    };
    match outcome {
        Ok(code) => code,
        Err(error) => {
            // Not `eprintln!`: standard error may be the closed pipe the error is about.
            let _ = std::io::Write::write_fmt(
                &mut std::io::stderr(),
                format_args!("error: {}\n", error_text(&error)),
            );
            ExitCode::FAILURE
        }
    }
}

/// The start of the message `println!` panics with when standard output cannot be written.
const STDOUT_PANIC_PREFIX: &str = "failed printing to stdout";

/// The commands print through `print_out!`, which returns a failed write as an error; a
/// `println!` left anywhere panics instead when the reader has closed standard output
/// (`seed | head -1`). This says it as `print_out!` does, in place of the panic's report, and
/// [`main`] turns the unwinding (which drops, so closes, what the command held) into exit 1.
fn report_a_closed_standard_output_as_an_error() {
    let default_report = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let message = info.payload_as_str().unwrap_or_default();
        if let Some(why) = message.strip_prefix(STDOUT_PANIC_PREFIX) {
            // Standard error may be the same closed pipe (`2>&1 | head`): nothing to panic on.
            let _ = std::io::Write::write_fmt(
                &mut std::io::stderr(),
                format_args!("error: standard output{why}\n"),
            );
        } else if !message.starts_with(STDERR_PANIC_PREFIX) {
            default_report(info);
        }
    }));
}

/// How std's `eprintln!` panics when standard error is closed: there is nowhere left to say
/// anything, so the command ends with exit 1 and no report.
const STDERR_PANIC_PREFIX: &str = "failed printing to stderr";

fn is_closed_standard_output(panic: &(dyn std::any::Any + Send)) -> bool {
    let message = panic
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| panic.downcast_ref::<&str>().copied());
    message.is_some_and(|message| {
        message.starts_with(STDOUT_PANIC_PREFIX) || message.starts_with(STDERR_PANIC_PREFIX)
    })
}

/// An error and its causes, outermost first, joined by `: ` as anyhow's `{:#}` joins them, but
/// each said once: an error that shows its source in its own message (thiserror's `{0}` beside
/// `#[from]`, as `LedgerOpenError::Keys` does) would otherwise print the source twice.
fn error_text(error: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in error.chain() {
        let message = cause.to_string();
        if text.ends_with(&message) {
            continue;
        }
        if !text.is_empty() {
            text.push_str(": ");
        }
        text.push_str(&message);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::error_text;

    #[derive(Debug, thiserror::Error)]
    #[error("the master key does not open this ledger's data keys")]
    struct WrongKey;

    /// Shows its source in its own message, and names it as its source too.
    #[derive(Debug, thiserror::Error)]
    #[error("personal data keys: {0}")]
    struct Keys(#[from] WrongKey);

    #[test]
    fn a_cause_an_error_already_shows_is_said_once() {
        let error = anyhow::Error::new(Keys(WrongKey)).context("cannot open the ledger in data");
        assert_eq!(
            error_text(&error),
            "cannot open the ledger in data: personal data keys: the master key does not open \
             this ledger's data keys"
        );
        // Causes that add something are all said, as `{:#}` says them.
        let error = anyhow::anyhow!("the disk is full")
            .context("writing the export")
            .context("export");
        assert_eq!(error_text(&error), format!("{error:#}"));
    }
}
