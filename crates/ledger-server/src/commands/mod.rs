//! One file per subcommand, each with its `Args` and an async `run`.

/// `println!` that returns the failure to write (see [`print_out`]) instead of panicking.
macro_rules! print_out {
    ($($argument:tt)*) => {
        $crate::commands::print_out(format_args!($($argument)*))
    };
}

pub mod compact;
pub mod erase;
pub mod export;
pub mod import;
pub mod master_key;
pub mod proof;
pub mod replay;
pub mod seed;
pub mod serve;
pub mod stats;
pub mod verify;

use std::path::Path;

use std::io::Write;

use anyhow::Context;
use ledger_store::{SledEventLog, StoreOptions};

/// The most problems listed one per line before the rest are only counted.
pub const PROBLEMS_LISTED_MAX: usize = 100;

/// Refuses a data directory that does not exist, before anything is created in it: every
/// command but `import`, `seed` and `serve` (which start a ledger) reads one that is there.
pub fn require_ledger(data: &Path) -> anyhow::Result<()> {
    if !data.exists() {
        anyhow::bail!(
            "no ledger in {} (the directory does not exist)",
            data.display()
        )
    }
    if !data.join(ledger_store::LOG_DIR_NAME).is_dir() {
        anyhow::bail!(
            "no ledger in {} (it holds no {}/: a mistyped --data, or a ledger not yet seeded or \
             imported)",
            data.display(),
            ledger_store::LOG_DIR_NAME
        )
    }
    Ok(())
}

/// Opens the store under `data`, naming the directory in any error, and removes what an
/// interrupted import left there.
pub fn open_store(data: &Path) -> anyhow::Result<SledEventLog> {
    let store = SledEventLog::open(data, StoreOptions::default())
        .with_context(|| format!("cannot open the ledger in {}", data.display()))?;
    remove_interrupted_spools(data)?;
    Ok(store)
}

/// Opens the ledger in `data` (its store, read models and keys) as a command does, and removes
/// what an interrupted import left there (see [`remove_interrupted_spools`]).
pub fn open_ledger(
    data: &Path,
    options: StoreOptions,
    keys: ledger_app::KeyOptions,
) -> anyhow::Result<ledger_app::Ledger> {
    let ledger = ledger_app::Ledger::open(data, options, keys)
        .with_context(|| format!("cannot open the ledger in {}", data.display()))?;
    remove_interrupted_spools(data)?;
    Ok(ledger)
}

/// Removes the copies of standard input and the converted CSV lines an import left in the
/// data directory when it was killed (Ctrl-C, SIGKILL) before it could remove them: they hold
/// the input's personal data in the clear, which no erasure reaches. Called with the store
/// open, whose lock means no import is running.
pub fn remove_interrupted_spools(data: &Path) -> anyhow::Result<()> {
    let entries =
        std::fs::read_dir(data).with_context(|| format!("cannot list {}", data.display()))?;
    for entry in entries {
        let entry = entry.with_context(|| format!("cannot list {}", data.display()))?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let spooled = [import::STDIN_SPOOL_PREFIX, import::CSV_SPOOL_PREFIX]
            .iter()
            .any(|prefix| name.starts_with(prefix))
            && name.ends_with(".ndjson");
        if spooled {
            std::fs::remove_file(entry.path())
                .with_context(|| format!("cannot remove {}", entry.path().display()))?;
            tracing::warn!(file = %name, "removed the input an interrupted import left in the data directory");
        }
    }
    Ok(())
}

/// Writes `text` and a line break to standard output. A failed write is an error naming it,
/// where `println!` panics: a reader that stopped reading (`stats | head -1`) closes the pipe,
/// and the rest of the output has nowhere to go.
pub fn print_out(text: std::fmt::Arguments<'_>) -> anyhow::Result<()> {
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{text}")
        .and_then(|()| stdout.flush())
        .map_err(|error| {
            if error.kind() == std::io::ErrorKind::BrokenPipe {
                anyhow::Error::new(ClosedOutput)
            } else {
                anyhow::Error::new(error).context("writing to standard output")
            }
        })
}

/// Standard output's reader closed it: what is left to say has nowhere to go, though the
/// work it reports may be done.
#[derive(Debug, thiserror::Error)]
#[error("standard output: its reader closed it before everything was written")]
pub struct ClosedOutput;

/// Whether `error` is only that standard output was closed.
pub fn is_closed_output(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| cause.is::<ClosedOutput>())
}

/// The refusal of the first option whose position is past `head`: a range beyond the head
/// holds nothing, and clamping it would pass a typo off as an answer.
pub fn past_the_head(
    options: &[(&str, Option<u64>)],
    head: ledger_domain::ids::Position,
) -> Option<String> {
    options.iter().find_map(|(option, position)| {
        position
            .filter(|position| *position > head.get())
            .map(|position| format!("{option}: {position} is past the head, {head}"))
    })
}

/// `count` and its noun, in the singular for one: `1 event`, `2 events`.
pub fn counted(count: impl Into<u64>, one: &str, many: &str) -> String {
    let count = count.into();
    format!("{count} {}", if count == 1 { one } else { many })
}

/// Prints problems as `line N: field: rule`, at most [`PROBLEMS_LISTED_MAX`] of them.
pub fn print_problems(problems: &[String]) {
    for problem in problems.iter().take(PROBLEMS_LISTED_MAX) {
        eprintln!("{problem}");
    }
    if problems.len() > PROBLEMS_LISTED_MAX {
        eprintln!(
            "... and {} more",
            counted(
                u64::try_from(problems.len() - PROBLEMS_LISTED_MAX).unwrap_or(u64::MAX),
                "problem",
                "problems"
            )
        );
    }
}

/// The bytes of every file under `dir` (unreadable entries count as zero).
pub fn directory_bytes(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|entry| match entry.metadata() {
            Ok(metadata) if metadata.is_dir() => directory_bytes(&entry.path()),
            Ok(metadata) => metadata.len(),
            Err(_) => 0,
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::counted;

    #[test]
    fn one_is_said_in_the_singular() {
        assert_eq!(counted(0_u64, "event", "events"), "0 events");
        assert_eq!(counted(1_u64, "event", "events"), "1 event");
        assert_eq!(counted(2_u64, "entry", "entries"), "2 entries");
    }
}
