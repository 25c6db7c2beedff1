//! `contact-ledger export`: the ledger (or a range of positions) as NDJSON in the export form.
//!
//! Output to a file is written beside it and renamed into place when complete, so a failed
//! export never leaves a file that looks whole; the file is its owner's only (0600).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use ledger_domain::ids::Position;
use ledger_store::EventLog;

use super::{open_store, past_the_head};
use crate::interchange::export_line;
use crate::progress;

/// Records read from the store per page while exporting.
pub const EXPORT_PAGE_RECORDS: usize = 4096;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The first position to export (default: 1, the beginning).
    #[arg(long, value_name = "P")]
    from: Option<u64>,
    /// The last position to export (default: the head).
    #[arg(long, value_name = "P")]
    to: Option<u64>,
    /// Write to this file instead of standard output (`-` is standard output, as `import -`
    /// reads standard input).
    #[arg(long, value_name = "FILE")]
    output: Option<PathBuf>,
}

pub async fn run(data: &Path, args: Args) -> anyhow::Result<ExitCode> {
    let args = Args {
        output: args.output.filter(|path| path.as_os_str() != "-"),
        ..args
    };
    if let Some(output) = &args.output
        && let Some(refusal) = inside_the_data_directory(output, data)
    {
        eprintln!("error: --output: {refusal}");
        return Ok(ExitCode::from(2));
    }
    let store = open_store(data)?;
    let head = store.head().position;
    let refusal =
        past_the_head(&[("--from", args.from), ("--to", args.to)], head).or_else(|| {
            match (args.from, args.to) {
                (Some(0), _) => Some("--from: positions start at 1".to_owned()),
                (_, Some(0)) => Some("--to: positions start at 1".to_owned()),
                (Some(from), Some(to)) if from > to => {
                    Some(format!("--from {from} is after --to {to}"))
                }
                _ => None,
            }
        });
    if let Some(refusal) = refusal {
        eprintln!("error: {refusal}");
        store.close().await.context("closing the ledger")?;
        return Ok(ExitCode::from(2));
    }
    let from = Position(args.from.unwrap_or(1).max(1));
    let to = Position(args.to.unwrap_or(head.get()));
    let existing = args
        .output
        .as_deref()
        .and_then(|path| std::fs::metadata(path).ok());
    if existing.as_ref().is_some_and(std::fs::Metadata::is_dir) {
        eprintln!(
            "error: --output: {} is a directory; name a file",
            args.output.as_deref().unwrap_or(Path::new("")).display()
        );
        store.close().await.context("closing the ledger")?;
        return Ok(ExitCode::from(2));
    }
    let written = match &args.output {
        // A device or a pipe (`--output /dev/stdout`, a FIFO) is written as it is: renaming a
        // finished file over it would replace the device itself.
        Some(path) if existing.is_some_and(|metadata| !metadata.is_file()) => {
            let file = std::fs::OpenOptions::new()
                .write(true)
                .open(path)
                .with_context(|| {
                    format!("--output: cannot write the export to {}", path.display())
                })?;
            let mut writer = std::io::BufWriter::new(file);
            let written = write_range(&store, from, to, &mut writer)?;
            writer.flush().context("writing the export")?;
            written
        }
        Some(path) => {
            let partial = partial_path(path);
            let file = create_owner_only(&partial).with_context(|| {
                format!(
                    "--output: cannot write the export to {} (written first as {})",
                    path.display(),
                    partial.display()
                )
            })?;
            let mut writer = std::io::BufWriter::new(file);
            let written = write_range(&store, from, to, &mut writer)?;
            let file = writer.into_inner().context("flushing the export")?;
            file.sync_all().context("syncing the export")?;
            std::fs::rename(&partial, path)
                .with_context(|| format!("cannot move the export to {}", path.display()))?;
            written
        }
        None => {
            let stdout = std::io::stdout();
            let mut writer = std::io::BufWriter::new(stdout.lock());
            let written = write_range(&store, from, to, &mut writer)?;
            writer.flush().context("writing to standard output")?;
            written
        }
    };
    store.close().await.context("closing the ledger")?;
    eprintln!(
        "exported {} (positions {from} to {to})",
        super::counted(written, "event", "events")
    );
    Ok(ExitCode::SUCCESS)
}

/// Why `output` may not be written: it lies inside the data directory `data`, whose files are
/// the ledger's own (an export renamed over `log/db` replaced the event log). Both are resolved
/// as the file system will (symbolic links, `..`), `output` through its nearest ancestor that
/// exists, since the file and even its directory may not exist yet.
pub fn inside_the_data_directory(output: &Path, data: &Path) -> Option<String> {
    let data = std::fs::canonicalize(data).ok()?;
    // The path itself when it exists (a link to a file inside), and as its directory and
    // name: the export is written beside it and renamed onto that name.
    let resolved = [std::fs::canonicalize(output).ok(), resolved_path(output)];
    resolved
        .into_iter()
        .flatten()
        .any(|resolved| resolved.starts_with(&data))
        .then(|| {
            format!(
                "{} is (or resolves to) a path inside the data directory {}, which holds the \
                 ledger's own files; write the export outside it",
                output.display(),
                data.display()
            )
        })
}

/// `path` with its nearest existing ancestor resolved canonically and the rest appended.
fn resolved_path(path: &Path) -> Option<PathBuf> {
    let absolute = std::path::absolute(path).ok()?;
    let mut rest = Vec::new();
    let mut existing = absolute.as_path();
    loop {
        if let Ok(resolved) = std::fs::canonicalize(existing) {
            return Some(
                rest.into_iter()
                    .rev()
                    .fold(resolved, |path, part| path.join(part)),
            );
        }
        rest.push(existing.file_name()?);
        existing = existing.parent()?;
    }
}

/// Creates (or empties) the file at `path`, readable and writable by its owner only: an export
/// holds personal data sealed, and every fact around it (who called when, about which policy
/// and claim) in the clear. A file left by an earlier export that failed keeps no wider mode.
fn create_owner_only(path: &Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        options.mode(EXPORT_FILE_MODE);
        let file = options.open(path)?;
        file.set_permissions(std::fs::Permissions::from_mode(EXPORT_FILE_MODE))?;
        Ok(file)
    }
    #[cfg(not(unix))]
    options.open(path)
}

/// The mode of an export written to a file: its owner's only.
pub const EXPORT_FILE_MODE: u32 = 0o600;

/// Where an export to `path` is written until it is complete: beside it, its name and
/// `.partial`.
fn partial_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".partial");
    path.with_file_name(name)
}

fn write_range(
    store: &ledger_store::SledEventLog,
    from: Position,
    to: Position,
    writer: &mut impl Write,
) -> anyhow::Result<u64> {
    let total = to.get().saturating_sub(from.get()).saturating_add(1);
    let bar = progress::bar(if to < from { 0 } else { total }, "exporting");
    let mut next = from;
    let mut written = 0u64;
    while next <= to {
        let page = store
            .read_all(next, EXPORT_PAGE_RECORDS)
            .context("reading the ledger")?;
        if page.is_empty() {
            break;
        }
        for record in page.iter().take_while(|record| record.position <= to) {
            writeln!(writer, "{}", export_line(record)?).context("writing the export")?;
            written += 1;
            next = record.position.next();
        }
        bar.set_position(written);
        if page.last().is_some_and(|record| record.position >= to) {
            break;
        }
    }
    bar.finish_and_clear();
    Ok(written)
}
