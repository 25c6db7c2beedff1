//! One file per subcommand, each with its `Args` and an async `run`.

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

use anyhow::Context;
use ledger_store::{SledEventLog, StoreOptions};

/// The most problems listed one per line before the rest are only counted.
pub const PROBLEMS_LISTED_MAX: usize = 100;

/// Refuses a data directory that does not exist, before anything is created in it: every
/// command but `import`, `seed` and `serve` (which start a ledger) reads one that is there.
pub fn require_ledger(data: &Path) -> anyhow::Result<()> {
    if data.exists() {
        Ok(())
    } else {
        anyhow::bail!(
            "no ledger in {} (the directory does not exist)",
            data.display()
        )
    }
}

/// Opens the store under `data`, naming the directory in any error.
pub fn open_store(data: &Path) -> anyhow::Result<SledEventLog> {
    SledEventLog::open(data, StoreOptions::default())
        .with_context(|| format!("cannot open the ledger in {}", data.display()))
}

/// Prints problems as `line N: field: rule`, at most [`PROBLEMS_LISTED_MAX`] of them.
pub fn print_problems(problems: &[String]) {
    for problem in problems.iter().take(PROBLEMS_LISTED_MAX) {
        eprintln!("{problem}");
    }
    if problems.len() > PROBLEMS_LISTED_MAX {
        eprintln!(
            "... and {} more problems",
            problems.len() - PROBLEMS_LISTED_MAX
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
