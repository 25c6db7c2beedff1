//! `contact-ledger import FILE|-`: append events from NDJSON, all or nothing by default.
//!
//! Every line is validated before anything is written: on any problem the command lists them
//! as `line N: field: rule` and writes nothing. `--skip-invalid` writes the valid lines
//! instead and reports the rest. Lines whose event id is already in the ledger are skipped,
//! so importing the same file again writes nothing.
//!
//! An import into an empty ledger (the history an integrator brings when the ledger starts)
//! then builds every read model as `replay` does, into a database of which only the compact
//! copy is kept, so the server starts ready. A server's catch-up would build them in place,
//! into a database several times their size that sled never shrinks. Without a master key
//! (an export needs none) it says how to build them instead. An import into a ledger that
//! already holds events leaves the new events to the server's catch-up, as it always did.

use std::collections::{HashMap, HashSet};
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use ledger_app::bulk::{BulkError, IMPORT_CHUNK_REQUESTS};
use ledger_app::personal::KeyRing;
use ledger_domain::events::Event;
use ledger_domain::ids::{EventId, StreamId};
use ledger_store::EventLog;
use ledger_store::limits::IMPORT_RECORDS_MAX;
use ledger_store::{
    AppendRequest, ExpectedVersion, GENESIS_HASH, Head, RecordedEvent, SledEventLog,
};

use super::{open_store, print_problems};
use crate::interchange::{IntegratorLine, Line, parse_line, read_line};
use crate::progress;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The NDJSON file to read, or `-` for standard input.
    file: PathBuf,
    /// Write the valid lines and report the invalid ones instead of writing nothing.
    #[arg(long)]
    skip_invalid: bool,
}

pub async fn run(
    data: &Path,
    keys: &crate::keys::MasterKeyArgs,
    args: Args,
) -> anyhow::Result<ExitCode> {
    let store = open_store(data)?;
    let was_empty = store.head().event_count == 0;
    let parsed = read_lines(&args.file)?;
    let mut problems = parsed.problems;
    let form = check_one_form(&parsed.lines, &mut problems);
    let plan = match form {
        Form::Integrator => plan_integrator(&store, parsed.lines, &mut problems),
        Form::Exported => plan_exported(&store, parsed.lines, &mut problems),
    };
    let invalid = problems.len();
    if invalid > 0 {
        print_problems(&problems);
        if !args.skip_invalid {
            eprintln!(
                "import: {invalid} invalid lines; nothing written (use --skip-invalid to write the valid lines)"
            );
            store.close().await.context("closing the ledger")?;
            return Ok(ExitCode::FAILURE);
        }
        if matches!(plan, Plan::Exported { .. }) {
            eprintln!("import: an export must be imported whole; nothing written");
            store.close().await.context("closing the ledger")?;
            return Ok(ExitCode::FAILURE);
        }
    }
    let summary = match plan {
        Plan::Integrator {
            requests,
            duplicates,
        } => {
            // Plain values are sealed on the way in: only this form needs the master key.
            let ring =
                ledger_app::open_keys(&store, keys.options()?).context("opening the data keys")?;
            write_integrator(&store, &ring, requests, duplicates).await?
        }
        Plan::Exported {
            records,
            already_present,
        } => write_exported(&store, records, already_present).await?,
    };
    let head = store.head();
    store.close().await.context("closing the ledger")?;
    println!(
        "imported {} new events ({} already present, {invalid} invalid lines skipped); head position {} hash {}",
        summary.written,
        summary.already_present,
        head.position,
        hex::encode(head.hash)
    );
    // The store must be gone before the rebuild opens the ledger again.
    drop(store);
    if was_empty && summary.written > 0 {
        if keys.is_given() {
            super::replay::rebuild_every_projection(data, keys)
                .await
                .context(
                    "the events are imported, but building the read models failed; \
                     `contact-ledger replay` builds them (a server would, in place, as it starts)",
                )?;
        } else {
            println!(
                "the read models are not built (no master key given): `contact-ledger replay` \
                 builds them compactly before the server starts; a server would build them \
                 in place as it starts"
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Lines that parsed, with their line numbers, and the problems of those that did not.
struct Parsed {
    lines: Vec<(usize, Line)>,
    problems: Vec<String>,
}

fn read_lines(file: &Path) -> anyhow::Result<Parsed> {
    let mut reader: Box<dyn BufRead> = if file == Path::new("-") {
        Box::new(std::io::stdin().lock())
    } else {
        let opened =
            std::fs::File::open(file).with_context(|| format!("cannot read {}", file.display()))?;
        Box::new(std::io::BufReader::new(opened))
    };
    let mut parsed = Parsed {
        lines: Vec::new(),
        problems: Vec::new(),
    };
    let mut block = Vec::with_capacity(PARSE_BLOCK_LINES);
    let mut number = 0;
    while let Some(line) =
        read_line(&mut reader).with_context(|| format!("cannot read {}", file.display()))?
    {
        number += 1;
        let text = line
            .text()
            .map_err(|error| format!("line {number}: {error}"));
        if text.as_ref().is_ok_and(|text| text.trim().is_empty()) {
            continue;
        }
        block.push((number, text));
        if block.len() == PARSE_BLOCK_LINES {
            parse_block(std::mem::take(&mut block), &mut parsed);
        }
    }
    parse_block(block, &mut parsed);
    Ok(parsed)
}

/// Lines read before they are parsed together, split over the cores.
const PARSE_BLOCK_LINES: usize = 16_384;

/// Below this many lines a block is parsed on one thread.
const PARSE_PARALLEL_MIN: usize = 1_024;

/// Parses a block of numbered lines (or their read errors) on every core, keeping line order
/// in both the lines and the problems.
fn parse_block(block: Vec<(usize, Result<String, String>)>, parsed: &mut Parsed) {
    let parts = ledger_app::bulk::split_over_cores(block, PARSE_PARALLEL_MIN, |part| {
        part.into_iter()
            .map(|(number, text)| {
                let line = text.and_then(|text| {
                    parse_line(&text).map_err(|error| format!("line {number}: {error}"))
                });
                (number, line)
            })
            .collect::<Vec<_>>()
    });
    for (number, line) in parts.into_iter().flatten() {
        match line {
            Ok(line) => parsed.lines.push((number, line)),
            Err(problem) => parsed.problems.push(problem),
        }
    }
}

#[derive(Debug, Clone, Copy)]
enum Form {
    Integrator,
    Exported,
}

/// A file is one form or the other: an export continues a chain, an integrator file does not.
fn check_one_form(lines: &[(usize, Line)], problems: &mut Vec<String>) -> Form {
    let form = match lines.first() {
        Some((_, Line::Exported(_))) => Form::Exported,
        _ => Form::Integrator,
    };
    for (number, line) in lines {
        let matches = matches!(
            (form, line),
            (Form::Integrator, Line::Integrator(_)) | (Form::Exported, Line::Exported(_))
        );
        if !matches {
            problems.push(format!(
                "line {number}: (form): a file is all integrator form or all export form, and the first line is {}",
                match form {
                    Form::Integrator => "integrator form",
                    Form::Exported => "export form",
                }
            ));
        }
    }
    form
}

enum Plan {
    Integrator {
        /// Each request with the event it carries, sealed only when written.
        requests: Vec<(AppendRequest, Event)>,
        duplicates: usize,
    },
    Exported {
        records: Vec<RecordedEvent>,
        already_present: usize,
    },
}

/// Checks expected versions against the store and the lines before them, drops lines whose
/// event id is already present (in the store or earlier in the file), and builds one append
/// request per remaining line.
fn plan_integrator(
    store: &SledEventLog,
    lines: Vec<(usize, Line)>,
    problems: &mut Vec<String>,
) -> Plan {
    let mut versions: HashMap<StreamId, u64> = HashMap::new();
    let mut seen: HashSet<EventId> = HashSet::new();
    let mut requests = Vec::with_capacity(lines.len());
    let mut duplicates = 0;
    for (number, line) in lines {
        let Line::Integrator(IntegratorLine {
            stream,
            expected_version,
            new_event,
            event,
        }) = line
        else {
            continue;
        };
        let event_id = new_event.event_id;
        if store.position_of(event_id).is_some() || !seen.insert(event_id) {
            duplicates += 1;
            continue;
        }
        let current = *versions
            .entry(stream.clone())
            .or_insert_with(|| store.stream_version(&stream));
        if let Some(expected) = expected_version
            && expected != current
        {
            problems.push(format!(
                "line {number}: expectedVersion: stream {stream} holds {current} events at this line, not {expected}"
            ));
            continue;
        }
        versions.insert(stream.clone(), current + 1);
        let expected = expected_version.map_or(ExpectedVersion::Any, ExpectedVersion::Exact);
        requests.push((
            AppendRequest {
                stream,
                expected,
                events: vec![new_event],
            },
            event,
        ));
    }
    Plan::Integrator {
        requests,
        duplicates,
    }
}

/// An export continues the store only where its first `prevHash` is the store's head hash, and
/// every line's hash must recompute from its content.
fn plan_exported(
    store: &SledEventLog,
    lines: Vec<(usize, Line)>,
    problems: &mut Vec<String>,
) -> Plan {
    let head = store.head();
    let mut expected_prev = head.hash;
    let mut expected_position = head.position.next();
    let mut records = Vec::with_capacity(lines.len());
    let mut already_present = 0;
    for (number, line) in lines {
        let Line::Exported(record) = line else {
            continue;
        };
        if record.position <= head.position {
            // Already in the store: a re-import. It must be the very same event.
            if store.position_of(record.event.event_id) == Some(record.position) {
                already_present += 1;
            } else {
                problems.push(format!(
                    "line {number}: position: {} is already taken by a different event in this store",
                    record.position
                ));
            }
            expected_prev = record.hash;
            expected_position = record.position.next();
            continue;
        }
        if record.position != expected_position {
            problems.push(format!(
                "line {number}: position: expected {expected_position} (the store's head is {}), found {}",
                head.position, record.position
            ));
        } else if record.prev_hash != expected_prev {
            let what = if expected_prev == GENESIS_HASH && head.position.get() == 0 {
                "the genesis hash (an empty store takes a full export)".to_owned()
            } else {
                hex::encode(expected_prev)
            };
            problems.push(format!("line {number}: prevHash: must equal {what}"));
        } else if let Err(problem) = check_record_hash(&record) {
            problems.push(format!("line {number}: hash: {problem}"));
        }
        expected_prev = record.hash;
        expected_position = record.position.next();
        records.push(record);
    }
    Plan::Exported {
        records,
        already_present,
    }
}

/// Recomputes a record's hash from its content and its `prevHash`.
pub fn check_record_hash(record: &RecordedEvent) -> Result<(), String> {
    let computed =
        ledger_store::record_hash(&record.prev_hash, &ledger_store::encode_record(record));
    if computed == record.hash {
        Ok(())
    } else {
        Err(format!(
            "does not match the line's content (recomputed {})",
            hex::encode(computed)
        ))
    }
}

struct Summary {
    written: u64,
    already_present: u64,
}

async fn write_integrator(
    store: &SledEventLog,
    ring: &KeyRing,
    requests: Vec<(AppendRequest, Event)>,
    duplicates: usize,
) -> anyhow::Result<Summary> {
    let bar = progress::bar(
        u64::try_from(requests.len()).unwrap_or(u64::MAX),
        "importing",
    );
    let mut summary = Summary {
        written: 0,
        already_present: u64::try_from(duplicates).unwrap_or(u64::MAX),
    };
    ledger_app::bulk::append_sealed(store, ring, requests, IMPORT_CHUNK_REQUESTS, |outcomes| {
        bar.inc(u64::try_from(outcomes.len()).unwrap_or(u64::MAX));
        for outcome in outcomes {
            let appended = outcome.context("the store refused an event that passed validation")?;
            if appended.duplicate {
                summary.already_present += 1;
            } else {
                summary.written += 1 + appended.last_position.get() - appended.first_position.get();
            }
        }
        anyhow::Ok(())
    })
    .await
    .map_err(|error| match error {
        BulkError::Caller(error) => error,
        other => anyhow::Error::new(other).context("importing"),
    })?;
    bar.finish_and_clear();
    Ok(summary)
}

/// The export is handed over in chunks; each continues the chain the previous one ended.
async fn write_exported(
    store: &SledEventLog,
    records: Vec<RecordedEvent>,
    already_present: usize,
) -> anyhow::Result<Summary> {
    let bar = progress::bar(
        u64::try_from(records.len()).unwrap_or(u64::MAX),
        "importing",
    );
    let mut written = 0u64;
    let mut pending = records.into_iter().peekable();
    while pending.peek().is_some() {
        let chunk: Vec<RecordedEvent> = pending.by_ref().take(IMPORT_RECORDS_MAX).collect();
        let count = u64::try_from(chunk.len()).unwrap_or(u64::MAX);
        let _: Head = store
            .import_recorded(chunk)
            .await
            .context("the store refused the export")?;
        written += count;
        bar.inc(count);
    }
    bar.finish_and_clear();
    Ok(Summary {
        written,
        already_present: u64::try_from(already_present).unwrap_or(u64::MAX),
    })
}
