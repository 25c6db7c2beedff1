//! `contact-ledger verify`: check the store's hash chain and indexes, or an export file offline.
//!
//! Exit 0 when everything checks, 1 when anything does not; `--json` prints one object:
//! `{"ok", "events", "headPosition", "headHash", "problems"}`, and for an export file also
//! `"firstPosition"` and, when the export is of a range that starts after position 1,
//! `"continuesHeadHash"`: the head hash of the ledger it continues, its first `prevHash`, which
//! the file alone cannot check and is taken on trust.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use ledger_store::{GENESIS_HASH, HEAD_MARK_FILE_NAME, Hash, SledEventLog};
use serde::Serialize;

use super::{PROBLEMS_LISTED_MAX, counted};
use crate::interchange::{Line, parse_line, read_line, skip_byte_order_mark};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Check this export file instead of the store (no store is opened).
    #[arg(long, value_name = "FILE")]
    export: Option<PathBuf>,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
    /// When nothing but the head mark (`DATA_DIR/log-head`) is wrong, write it again for the
    /// head the check found, so the store opens: after the file was lost, or to accept a log
    /// that ends before its mark (its last records lost). Any other problem: nothing written.
    #[arg(long, conflicts_with = "export")]
    accept_head: bool,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Report {
    ok: bool,
    events: u64,
    head_position: u64,
    head_hash: String,
    /// An export's first position.
    #[serde(skip_serializing_if = "Option::is_none")]
    first_position: Option<u64>,
    /// The first `prevHash` of an export that starts after position 1, taken on trust.
    #[serde(skip_serializing_if = "Option::is_none")]
    continues_head_hash: Option<String>,
    /// With `--accept-head`: whether the head mark was written (only when nothing else was
    /// wrong).
    #[serde(skip_serializing_if = "Option::is_none")]
    head_mark_written: Option<bool>,
    problems: Vec<Problem>,
}

#[derive(Debug, Serialize)]
struct Problem {
    #[serde(skip_serializing_if = "Option::is_none")]
    line: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    position: Option<u64>,
    message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(line) = self.line {
            write!(formatter, "line {line}: ")?;
        }
        if let Some(position) = self.position {
            write!(formatter, "position {position}: ")?;
        }
        formatter.write_str(&self.message)
    }
}

impl Args {
    /// Whether this checks the ledger in the data directory (not an export file).
    pub fn reads_the_store(&self) -> bool {
        self.export.is_none()
    }
}

pub async fn run(data: &Path, args: Args) -> anyhow::Result<ExitCode> {
    let report = match &args.export {
        Some(file) => verify_export(file)?,
        None => verify_store(data, args.accept_head).await?,
    };
    if args.json {
        print_out!(
            "{}",
            serde_json::to_string(&report).context("writing the report")?
        )?;
    } else {
        for problem in report.problems.iter().take(PROBLEMS_LISTED_MAX) {
            print_out!("{problem}")?;
        }
        if report.problems.len() > PROBLEMS_LISTED_MAX {
            let more =
                u64::try_from(report.problems.len() - PROBLEMS_LISTED_MAX).unwrap_or(u64::MAX);
            print_out!("... and {} more", counted(more, "problem", "problems"))?;
        }
        let verdict = if report.ok { "ok" } else { "FAILED" };
        let range = match (report.first_position, &report.continues_head_hash) {
            (Some(first), Some(continued)) => format!(
                ", positions {first}–{}, continuing a ledger whose head was {continued} \
                 (taken on trust)",
                report.head_position
            ),
            (Some(first), None) => format!(", positions {first}–{}", report.head_position),
            (None, _) => String::new(),
        };
        print_out!(
            "{verdict}: {}{range}, head position {} hash {}",
            counted(report.events, "event", "events"),
            report.head_position,
            report.head_hash
        )?;
        match report.head_mark_written {
            Some(true) => print_out!(
                "the head mark ({HEAD_MARK_FILE_NAME}) now records position {}: the store opens at this head",
                report.head_position
            )?,
            Some(false) => print_out!(
                "the head mark ({HEAD_MARK_FILE_NAME}) was not written: the log has the problems above"
            )?,
            None => {}
        }
    }
    Ok(if report.ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

async fn verify_store(data: &Path, accept_head: bool) -> anyhow::Result<Report> {
    super::require_ledger(data)?;
    // The offline check walks every record of the closed store and reports every problem,
    // where opening the store for service stops at the first one.
    let verified = if accept_head {
        SledEventLog::accept_head(data)
    } else {
        SledEventLog::verify_dir(data)
    };
    let verified = match verified {
        Ok(verified) => verified,
        // Not a verdict on the ledger: it could not be read at all.
        Err(error @ ledger_store::OpenError::InUse { .. }) => {
            return Err(anyhow::Error::new(error)
                .context(format!("cannot open the ledger in {}", data.display())));
        }
        Err(error) => {
            return Ok(Report {
                ok: false,
                events: 0,
                head_position: 0,
                head_hash: hex::encode(GENESIS_HASH),
                first_position: None,
                continues_head_hash: None,
                head_mark_written: accept_head.then_some(false),
                problems: vec![Problem {
                    line: None,
                    position: None,
                    message: error.to_string(),
                }],
            });
        }
    };
    Ok(Report {
        ok: verified.ok,
        events: verified.events,
        head_position: verified.head.position.get(),
        head_hash: hex::encode(verified.head.hash),
        first_position: None,
        continues_head_hash: None,
        head_mark_written: accept_head.then_some(verified.ok),
        problems: verified
            .problems
            .into_iter()
            .map(|problem| Problem {
                line: None,
                position: problem.position.map(|p| p.get()),
                message: problem.message,
            })
            .collect(),
    })
}

/// Checks an export file without a store: every line parses, positions run on without a gap
/// from the first line's, each `prevHash` is the previous line's `hash`, and every hash
/// recomputes. The first line starts the chain: from position 1 its `prevHash` is the genesis
/// hash; an export of a range (`export --from P`) continues a ledger whose head hash is its
/// first `prevHash`, which only that ledger can confirm, so it is reported and taken on trust.
fn verify_export(file: &Path) -> anyhow::Result<Report> {
    let opened =
        std::fs::File::open(file).with_context(|| format!("cannot read {}", file.display()))?;
    let mut problems = Vec::new();
    let mut events = 0u64;
    let mut previous: Option<(u64, Hash)> = None;
    let mut first: Option<(u64, Hash)> = None;
    let mut reader = std::io::BufReader::new(opened);
    // As `import` reads it: a byte order mark an editor put at the start is no part of line 1.
    skip_byte_order_mark(&mut reader).with_context(|| format!("cannot read {}", file.display()))?;
    let mut number = 0;
    while let Some(line) =
        read_line(&mut reader).with_context(|| format!("cannot read {}", file.display()))?
    {
        number += 1;
        let text = match line.text() {
            Ok(text) => text,
            Err(error) => {
                problems.push(problem(number, None, &error.to_string()));
                continue;
            }
        };
        if text.trim().is_empty() {
            continue;
        }
        let record = match parse_line(&text) {
            Ok(Line::Exported(record)) => record,
            Ok(Line::Integrator(_)) => {
                problems.push(problem(
                    number,
                    None,
                    "not in the export form (no position, prevHash or hash)",
                ));
                continue;
            }
            Err(error) => {
                problems.push(problem(number, None, &error.to_string()));
                continue;
            }
        };
        events += 1;
        let position = record.position.get();
        if let Some((previous_position, previous_hash)) = previous {
            let expected_position = previous_position + 1;
            if position != expected_position {
                problems.push(problem(
                    number,
                    Some(position),
                    &format!("position: expected {expected_position}"),
                ));
            }
            if record.prev_hash != previous_hash {
                problems.push(problem(
                    number,
                    Some(position),
                    "prevHash: is not the previous line's hash",
                ));
            }
        } else {
            first = Some((position, record.prev_hash));
            if position == 1 && record.prev_hash != GENESIS_HASH {
                problems.push(problem(
                    number,
                    Some(position),
                    &format!(
                        "prevHash: position 1 follows the genesis hash {}",
                        hex::encode(GENESIS_HASH)
                    ),
                ));
            }
        }
        if let Err(message) = super::import::check_record_hash(&record) {
            problems.push(problem(number, Some(position), &format!("hash: {message}")));
        }
        previous = Some((position, record.hash));
    }
    let (head_position, head_hash) = previous.unwrap_or((0, GENESIS_HASH));
    Ok(Report {
        ok: problems.is_empty(),
        events,
        head_position,
        head_hash: hex::encode(head_hash),
        first_position: first.map(|(position, _)| position),
        continues_head_hash: first
            .filter(|(position, _)| *position > 1)
            .map(|(_, prev_hash)| hex::encode(prev_hash)),
        head_mark_written: None,
        problems,
    })
}

fn problem(line: usize, position: Option<u64>, message: &str) -> Problem {
    Problem {
        line: Some(line),
        position,
        message: message.to_owned(),
    }
}
