//! `contact-ledger import FILE|-`: append events from NDJSON, all or nothing by default.
//!
//! Every line is validated before anything is written: on any problem the command lists them
//! as `line N: field: rule` and writes nothing. `--skip-invalid` writes the valid lines
//! instead and reports the rest. Lines whose event id is already in the ledger are skipped,
//! so importing the same file again writes nothing. Integrator lines must also keep the rules
//! the ledger's state decides, as the API's commands do (see [`crate::import_rules`]): each
//! sees the ledger and the file's earlier accepted lines. A line whose command changes nothing
//! (a consent withdrawn again, say) is accepted and records nothing, as the API answers such a
//! command: it is counted in the summary and named on standard error, not written.
//!
//! A file of up to [`IMPORT_HELD_BYTES_MAX`] is checked whole and its parsed lines held until
//! they are written. A larger one is read twice, never held whole: the first reading checks
//! every line and keeps a verdict a line, the second parses the lines again and writes those
//! accepted, a chunk at a time, so memory follows the file's event ids and streams, not its
//! bytes: a 1 M-line export (909 MB) peaks at 165–173 MB read twice, against 966 MB when every
//! file was held, and takes 11.2 s instead of 7 (its lines are parsed twice).
//! Standard input is first copied into a file in the data directory, removed afterwards. Each
//! block of lines is digested in the first reading; a file that changed before the second
//! stops the import there (the events before it are written, and importing the same file again
//! finishes it, as after any interruption).
//!
//! An import into an empty ledger (the history an integrator brings when the ledger starts)
//! then builds every read model as `replay` does, into a database of which only the compact
//! copy is kept, so the server starts ready. A server's catch-up would build them in place,
//! into a database several times their size that sled never shrinks. Without a master key
//! (an export needs none) it says how to build them instead. An import into a ledger that
//! already holds events leaves the new events to the server's catch-up, as it always did,
//! unless it erased someone (`CustomerErased`, `EnquiryErased`): the erasure destroyed their
//! data key, and the read models, which hold what they show in the clear, are caught up to the
//! head before the import ends, as `erase` does, so no server serves the erased fields.
//!
//! An export line already in the store is a re-import of this ledger's own history: it must be
//! the stored record, its hash recomputed from its content and equal to the stored one.

use std::collections::HashMap;
use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Arc, Mutex};

use anyhow::Context;
use ledger_app::bulk::{BulkError, IMPORT_CHUNK_REQUESTS};
use ledger_app::personal::KeyRing;
use ledger_domain::events::Event;
use ledger_domain::ids::{Position, StreamId};
use ledger_store::EventLog;
use ledger_store::limits::IMPORT_RECORDS_MAX;
use ledger_store::{
    AppendRequest, DataKeyStore, ExpectedVersion, GENESIS_HASH, Hash, Head, RecordedEvent,
    SledEventLog, StoreOptions,
};

use super::{PROBLEMS_LISTED_MAX, open_store, print_problems};
use crate::contacts_csv;
use crate::import_rules::{Decision, EventIdUse, LedgerRules, StoredLedger};
use crate::interchange::{
    FileLine, IntegratorLine, Line, parse_line, read_line, skip_byte_order_mark,
};
use crate::progress;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The file to read (NDJSON, or CSV with `--csv`), or `-` for standard input.
    file: PathBuf,
    /// Write the valid lines and report the invalid ones instead of writing nothing.
    #[arg(long)]
    skip_invalid: bool,
    /// The file is CSV: one contact a row (`ContactRecorded`) under a header row naming the
    /// columns (customerId, channel, direction, agent, startedAt, durationSeconds, topic,
    /// summary, outcome; optionally contactId, policyNumber, claimNumber, caseId, campaignId,
    /// enquiryId, eventId, occurredAt, actor).
    #[arg(long)]
    csv: bool,
}

/// The names of the files an import copies standard input, or a CSV's converted lines, into
/// (in the data directory, removed when the import ends; see
/// [`super::remove_interrupted_spools`] for an import killed before it could).
pub const STDIN_SPOOL_PREFIX: &str = "import-stdin-";
pub const CSV_SPOOL_PREFIX: &str = "import-csv-";

pub async fn run(
    data: &Path,
    keys: &crate::keys::MasterKeyArgs,
    args: Args,
) -> anyhow::Result<ExitCode> {
    // The outermost directory of `data` that is not there yet: the import creates it.
    let created = data
        .ancestors()
        .take_while(|directory| !directory.as_os_str().is_empty() && !directory.exists())
        .last()
        .map(Path::to_owned);
    let mut wrote = false;
    let imported = import(data, keys, args, &mut wrote).await;
    if let Some(created) = created.filter(|_| !wrote)
        && !matches!(imported, Ok(ExitCode::SUCCESS))
    {
        // A refused import leaves no empty ledger where there was none: a retry with a
        // mistyped --data would otherwise find one and write into it.
        std::fs::remove_dir_all(&created).with_context(|| {
            format!(
                "the import wrote nothing, but removing {} it created failed",
                created.display()
            )
        })?;
    }
    imported
}

/// [`run`], saying in `wrote` whether it began writing events.
async fn import(
    data: &Path,
    keys: &crate::keys::MasterKeyArgs,
    args: Args,
    wrote: &mut bool,
) -> anyhow::Result<ExitCode> {
    crate::data_directory::create(data)?;
    let store = open_store(data)?;
    let mut problems = Problems::default();
    let input = if args.csv {
        let (input, converted) = Input::from_csv(&args.file, data, &store)?;
        for problem in converted.problems {
            problems.push_text(problem);
        }
        input
    } else {
        Input::open(&args.file, data)?
    };
    let open_ring = || -> anyhow::Result<KeyRing> {
        // Plain values are sealed on the way in, and the ledger's identifiers read to check
        // integrator lines: only that form needs the master key.
        ledger_app::open_keys(&store, keys.options()?).context("opening the data keys")
    };
    let mut checked = check(&store, &input, problems.clone(), &open_ring)?;
    // Written lines must keep the rules without the ones not written: a line refused only once
    // the whole file was read, or superseded by a later one already in the ledger, was folded
    // in for the lines after it, so those are decided again without it (each reading refuses
    // or supersedes more, or ends).
    let mut decided = Decided::default();
    let mut readings = 1;
    while (args.skip_invalid && !checked.late.is_empty()) || !checked.superseded.is_empty() {
        if readings == CHECK_READINGS_MAX {
            anyhow::bail!(
                "import: lines refused or superseded once the whole file was read changed how \
                 others are decided in turn, {CHECK_READINGS_MAX} readings over; nothing \
                 written (import without --skip-invalid to list the refused ones)"
            );
        }
        if args.skip_invalid {
            decided.refused.extend(std::mem::take(&mut checked.late));
        }
        decided
            .unchanged
            .extend(std::mem::take(&mut checked.superseded));
        checked = check_deciding(&store, &input, problems.clone(), &open_ring, &decided)?;
        readings += 1;
    }
    let invalid = checked.problems.total;
    if invalid > 0 {
        checked.problems.print();
        let lines = super::counted(invalid as u64, "invalid line", "invalid lines");
        if checked.form == Form::Exported {
            // A ledger's copy holds its chain: a line left out breaks every hash after it.
            eprintln!("import: {lines}; nothing written (an export is imported whole)");
            store.close().await.context("closing the ledger")?;
            return Ok(ExitCode::FAILURE);
        }
        if !args.skip_invalid {
            eprintln!(
                "import: {lines}; nothing written (use --skip-invalid to write the valid lines)"
            );
            store.close().await.context("closing the ledger")?;
            return Ok(ExitCode::FAILURE);
        }
        if checked.to_write == 0 && store.head().event_count == 0 {
            // Not one line to write into an empty ledger: refused as a whole, so that a data
            // directory the import created is removed as after any refused import.
            eprintln!("import: {lines}; nothing written (no line is valid)");
            store.close().await.context("closing the ledger")?;
            return Ok(ExitCode::FAILURE);
        }
    }
    *wrote = checked.to_write > 0;
    // Said once the import goes on to write (a refused one lists only what to fix): an
    // integrator learns which lines recorded nothing, after the refused ones and before the
    // summary that counts them.
    checked
        .unchanged
        .print_then_more(("line that records nothing", "lines that record nothing"));
    let summary = match checked.form {
        Form::Integrator => {
            let ring = match checked.ring.take() {
                Some(ring) => ring,
                None => Arc::new(open_ring()?),
            };
            write_integrator(&store, &ring, &input, &mut checked).await?
        }
        Form::Exported => write_exported(&store, &input, &mut checked).await?,
    };
    let head = store.head();
    let applied = read_models_applied(&store)?;
    store.close().await.context("closing the ledger")?;
    // Counted only when there are any: a file that changes everything it sends is summed up
    // as it always was.
    let unchanged = match checked.unchanged.total {
        0 => String::new(),
        total => format!(", {total} changed nothing"),
    };
    // Said now, but a closed standard output fails the command only once the read models
    // below are built: the events are in the ledger either way.
    let reported = print_out!(
        "imported {} ({} already present{unchanged}, {} skipped); head position {} hash {}",
        super::counted(summary.written as u64, "new event", "new events"),
        summary.already_present,
        super::counted(invalid as u64, "invalid line", "invalid lines"),
        head.position,
        hex::encode(head.hash)
    );
    // The store must be gone before the rebuild opens the ledger again.
    drop(store);
    drop(input);
    match applied {
        // No read model holds anything: an import into an empty ledger, or one whose first
        // build was interrupted (killed while building them, the same file imported again
        // writes nothing new). They are built whole, as `replay` builds them.
        None if head.event_count > 0 => build_read_models(data, keys).await?,
        // The erasures destroyed data keys (an export's, imported without the master key,
        // brings none here): the read models follow at once, as after `erase`, rather than
        // show the erased fields in the clear until a server catches up.
        Some(applied)
            if applied < head.position && !checked.erasure_lines.is_empty() && keys.is_given() =>
        {
            apply_erasures(data, keys).await?;
        }
        Some(applied) if applied < head.position => print_out!(
            "the read models stand at position {applied}, behind the head: a server applies the \
             rest as it starts (`contact-ledger replay` rebuilds them compactly instead)"
        )?,
        _ => {}
    }
    reported?;
    if invalid > 0 {
        // A run that dropped lines is told from a clean one by its exit code, as README's
        // exit codes say: 1, problems found.
        eprintln!(
            "import: {} skipped (listed above); the valid lines are written",
            super::counted(invalid as u64, "invalid line", "invalid lines")
        );
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}

/// How far the read models have applied the log: `None` when none of them holds anything
/// (never built, or a build killed before it was put in place), the least checkpoint
/// otherwise.
fn read_models_applied(store: &SledEventLog) -> anyhow::Result<Option<Position>> {
    let projections = store.projections();
    let mut checkpoints = Vec::new();
    for projection in ledger_app::standard_projections().context("listing the read models")? {
        let name = projection.name();
        let meta = projections
            .active(name)
            .and_then(|space| space.map(|space| space.meta()).transpose())
            .map(Option::flatten)
            .with_context(|| format!("reading the checkpoint of {name}"))?;
        checkpoints.push(meta.map_or(Position::ZERO, |meta| meta.checkpoint));
    }
    if checkpoints
        .iter()
        .all(|checkpoint| *checkpoint == Position::ZERO)
    {
        return Ok(None);
    }
    Ok(checkpoints.into_iter().min())
}

/// Builds every read model as `replay` does, or says how to when there is no master key.
async fn build_read_models(data: &Path, keys: &crate::keys::MasterKeyArgs) -> anyhow::Result<()> {
    if !keys.is_given() {
        return print_out!(
            "the read models are not built (no master key given): `contact-ledger replay` \
             builds them compactly before the server starts; a server would build them \
             in place as it starts"
        );
    }
    match super::replay::rebuild_every_projection(data, keys).await {
        // Built and in place; only saying so failed, as the summary above did.
        Err(error) if super::is_closed_output(&error) => Ok(()),
        built => built.context(
            "the events are imported, but building the read models failed; \
             `contact-ledger replay` builds them (a server would, in place, as it starts)",
        ),
    }
}

/// Catches every read model up to the head, as `erase` does after its erasure, so that none
/// holds the personal fields of a subject an imported erasure erased; says so.
async fn apply_erasures(data: &Path, keys: &crate::keys::MasterKeyArgs) -> anyhow::Result<()> {
    let caught_up = async {
        let ledger = super::open_ledger(data, StoreOptions::default(), keys.options()?)?;
        let reached = ledger
            .runner()
            .catch_up()
            .context("bringing the read models up to date");
        ledger.close().await.context("closing the ledger")?;
        anyhow::Ok(reached?)
    }
    .await
    .context(
        "the events are imported and the erased data keys destroyed, but applying the erasures \
         to the read models failed: run `contact-ledger replay` before the server starts (until \
         then the read models hold the erased data in the clear)",
    )?;
    match print_out!(
        "the import erased personal data: every read model is caught up to the head, position \
         {caught_up}, and holds none of it"
    ) {
        // Applied; only saying so failed, as the summary above did.
        Err(error) if super::is_closed_output(&error) => Ok(()),
        said => said,
    }
}

/// The file to import, which is read twice: the one named, or standard input copied into a file
/// in the data directory that is removed when this is dropped.
struct Input {
    path: PathBuf,
    /// Its size when opened: whether its lines are held (see [`IMPORT_HELD_BYTES_MAX`]).
    bytes: u64,
    _spooled: Option<tempfile::TempPath>,
}

impl Input {
    fn open(file: &Path, data: &Path) -> anyhow::Result<Self> {
        let size = |path: &Path| {
            std::fs::metadata(path)
                .map(|metadata| metadata.len())
                .with_context(|| format!("cannot read {}", path.display()))
        };
        if file != Path::new("-") {
            return Ok(Self {
                path: file.to_owned(),
                bytes: size(file)?,
                _spooled: None,
            });
        }
        let mut spool = tempfile::Builder::new()
            .prefix(STDIN_SPOOL_PREFIX)
            .suffix(".ndjson")
            .tempfile_in(data)
            .with_context(|| {
                format!(
                    "cannot make a file for standard input in {}",
                    data.display()
                )
            })?;
        std::io::copy(&mut std::io::stdin().lock(), spool.as_file_mut())
            .context("copying standard input")?;
        let spooled = spool.into_temp_path();
        Ok(Self {
            path: spooled.to_path_buf(),
            bytes: size(&spooled)?,
            _spooled: Some(spooled),
        })
    }

    /// The integrator lines of CSV contacts read from `file` (`-`: standard input), each at its
    /// row's line, in a file in the data directory removed when this is dropped; with the rows'
    /// problems (see [`crate::contacts_csv`]).
    fn from_csv(
        file: &Path,
        data: &Path,
        store: &SledEventLog,
    ) -> anyhow::Result<(Self, contacts_csv::Converted)> {
        let mut spool = tempfile::Builder::new()
            .prefix(CSV_SPOOL_PREFIX)
            .suffix(".ndjson")
            .tempfile_in(data)
            .with_context(|| {
                format!(
                    "cannot make a file for the CSV's lines in {}",
                    data.display()
                )
            })?;
        let spinner = progress::spinner("reading the CSV's rows");
        let converted = if file == Path::new("-") {
            contacts_csv::convert(
                std::io::stdin().lock(),
                spool.as_file_mut(),
                contacts_csv::known_in(store),
            )
        } else {
            let opened = std::fs::File::open(file)
                .with_context(|| format!("cannot read {}", file.display()))?;
            contacts_csv::convert(opened, spool.as_file_mut(), contacts_csv::known_in(store))
        };
        spinner.finish_and_clear();
        let converted = converted.with_context(|| {
            if file == Path::new("-") {
                "importing standard input".to_owned()
            } else {
                format!("importing {}", file.display())
            }
        })?;
        let spooled = spool.into_temp_path();
        let bytes = std::fs::metadata(&spooled)
            .map(|metadata| metadata.len())
            .context("reading the CSV's lines")?;
        let input = Self {
            path: spooled.to_path_buf(),
            bytes,
            _spooled: Some(spooled),
        };
        Ok((input, converted))
    }

    /// Its lines a block at a time, each block digested when `digest` (for a second reading).
    fn blocks(&self, digest: bool) -> anyhow::Result<Blocks> {
        let opened = std::fs::File::open(&self.path)
            .with_context(|| format!("cannot read {}", self.path.display()))?;
        let mut reader = BufReader::new(opened);
        // An editor's byte order mark before the first line is no part of its JSON.
        skip_byte_order_mark(&mut reader)
            .with_context(|| format!("cannot read {}", self.path.display()))?;
        Ok(Blocks {
            reader,
            path: self.path.clone(),
            number: 0,
            digest,
        })
    }
}

/// The largest input whose parsed lines are held from the check to the write; a larger one is
/// read a second time instead (see the module docs). Held, lines take about their size in
/// memory.
pub const IMPORT_HELD_BYTES_MAX: u64 = 256 * 1024 * 1024;

/// The most readings of a file an import checks, each without the lines the one before refused
/// only once the whole file was read (with `--skip-invalid`) or found superseded by a later line
/// already in the ledger; a chain of lines naming what a refused line would have created ends
/// within a few, and the superseded lines are found in one reading (a re-import's).
const CHECK_READINGS_MAX: usize = 8;

/// Lines read before they are parsed together, split over the cores.
const PARSE_BLOCK_LINES: usize = 16_384;

/// Below this many lines a block is parsed on one thread.
const PARSE_PARALLEL_MIN: usize = 1_024;

/// The input's lines, a block of [`PARSE_BLOCK_LINES`] non-empty lines at a time.
struct Blocks {
    reader: BufReader<std::fs::File>,
    path: PathBuf,
    /// The number of the last line read.
    number: usize,
    /// Whether each block's bytes are digested.
    digest: bool,
}

/// Numbered lines, each parsed or with its problem (`line N: field: rule`), and a digest of
/// every byte read for them when asked for.
struct Block {
    lines: Vec<(usize, Result<Line, String>)>,
    digest: Option<blake3::Hash>,
}

impl Blocks {
    /// The next block, parsed on every core in line order; `None` at the end of the input.
    fn next_block(&mut self) -> anyhow::Result<Option<Block>> {
        let mut digest = blake3::Hasher::new();
        let mut read = Vec::with_capacity(PARSE_BLOCK_LINES);
        while read.len() < PARSE_BLOCK_LINES {
            let Some(line) = read_line(&mut self.reader)
                .with_context(|| format!("cannot read {}", self.path.display()))?
            else {
                break;
            };
            self.number += 1;
            let number = self.number;
            match &line {
                _ if !self.digest => {}
                FileLine::Bytes(bytes) => {
                    digest.update(&u64::try_from(bytes.len()).unwrap_or(u64::MAX).to_be_bytes());
                    digest.update(bytes);
                }
                FileLine::TooLong => {
                    digest.update(&u64::MAX.to_be_bytes());
                }
            }
            let text = line
                .text()
                .map_err(|error| format!("line {number}: {error}"))
                .and_then(|text| match text.strip_prefix('\u{feff}') {
                    // The file's own mark was skipped before its first line was read.
                    Some(_) => Err(format!(
                        "line {number}: (line): starts with a byte order mark (U+FEFF), which \
                         only the file's first line may"
                    )),
                    None => Ok(text),
                });
            if text.as_ref().is_ok_and(|text| text.trim().is_empty()) {
                continue;
            }
            read.push((number, text));
        }
        if read.is_empty() {
            return Ok(None);
        }
        let parts = ledger_app::bulk::split_over_cores(read, PARSE_PARALLEL_MIN, |part| {
            part.into_iter()
                .map(|(number, text)| {
                    let line = text.and_then(|text| {
                        parse_line(&text).map_err(|error| format!("line {number}: {error}"))
                    });
                    (number, line)
                })
                .collect::<Vec<_>>()
        });
        Ok(Some(Block {
            lines: parts.into_iter().flatten().collect(),
            digest: self.digest.then(|| digest.finalize()),
        }))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Form {
    Integrator,
    Exported,
}

impl Form {
    fn of(line: &Line) -> Self {
        match line {
            Line::Integrator(_) => Self::Integrator,
            Line::Exported(_) => Self::Exported,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Self::Integrator => "integrator form",
            Self::Exported => "export form",
        }
    }
}

/// The problems found, each `line N: field: rule`, the [`PROBLEMS_LISTED_MAX`] of the lowest
/// line numbers kept to list in line order: they are found out of it (a CSV's rows before the
/// rules, a line refused once the whole file is read).
#[derive(Default, Clone)]
struct Problems {
    /// The kept problems by line number (and the order found, for one line's several); a
    /// max-heap, so the highest line is dropped first once more than the listed are found.
    kept: std::collections::BinaryHeap<(usize, usize, String)>,
    total: usize,
}

impl Problems {
    /// A problem of line `number`.
    fn push(&mut self, number: usize, problem: String) {
        self.kept.push((number, self.total, problem));
        if self.kept.len() > PROBLEMS_LISTED_MAX {
            self.kept.pop();
        }
        self.total += 1;
    }

    /// A problem as its text says it, `line N: …` (a CSV row's, from its conversion).
    fn push_text(&mut self, problem: String) {
        let number = problem
            .strip_prefix("line ")
            .and_then(|rest| rest.split_once(':'))
            .and_then(|(number, _)| number.parse().ok())
            .unwrap_or(usize::MAX);
        self.push(number, problem);
    }

    /// The kept problems in line order.
    fn listed(&self) -> Vec<String> {
        let mut kept: Vec<&(usize, usize, String)> = self.kept.iter().collect();
        kept.sort();
        kept.into_iter()
            .map(|(_, _, problem)| problem.clone())
            .collect()
    }

    fn print(&self) {
        self.print_then_more(("problem", "problems"));
    }

    /// Prints the kept ones in line order, then how many more there are, named by `(one,
    /// several)`.
    fn print_then_more(&self, (one, several): (&str, &str)) {
        let listed = self.listed();
        print_problems(&listed);
        let more = self.total - listed.len();
        if more > 0 {
            let what = if more == 1 { one } else { several };
            eprintln!("... and {more} more {what}");
        }
    }
}

/// What the first reading found: the file's form, its problems, which lines to write, and a
/// digest of each block for the second reading to compare.
struct Checked {
    form: Form,
    problems: Problems,
    /// Whether line N is written, at index N − 1.
    accepted: Vec<bool>,
    to_write: u64,
    /// Lines skipped because their event is already in the store (or earlier in the file).
    already_present: u64,
    /// The lines that change nothing, valid but not written ([`Verdict::Unchanged`]), each
    /// `line N: records nothing: field: reason`, listed as problems are.
    unchanged: Problems,
    digests: Vec<blake3::Hash>,
    /// The accepted lines, parsed, by line number, when the input is at most
    /// [`IMPORT_HELD_BYTES_MAX`]; the digests of its blocks otherwise.
    held: Option<Vec<(usize, Line)>>,
    /// Lines refused only once the whole file was read (see [`LedgerRules::finish`]), with
    /// their problem (`field: rule`).
    late: HashMap<usize, String>,
    /// Lines accepted but superseded by a later line already in the ledger (see
    /// [`LedgerRules::superseded`]), with their reason (`field: reason`): the file is read
    /// again with them recording nothing.
    superseded: HashMap<usize, String>,
    /// The data keys integrator lines were checked with, to seal them with.
    ring: Option<Arc<KeyRing>>,
    /// The erasure lines (`CustomerErased`, `EnquiryErased`) written or already present, by
    /// line number: the read models must follow the keys they destroy before the import ends.
    erasure_lines: Vec<usize>,
}

impl Checked {
    /// Refuses lines accepted when they were read, now that the whole file is: they are not
    /// written.
    fn refuse_late(&mut self, late: Vec<(usize, String)>) {
        for (number, problem) in late {
            if let Some(accepted) = number
                .checked_sub(1)
                .and_then(|index| self.accepted.get_mut(index))
            {
                *accepted = false;
            }
            self.to_write = self.to_write.saturating_sub(1);
            self.problems
                .push(number, format!("line {number}: {problem}"));
            self.late.insert(number, problem);
        }
        if let Some(held) = &mut self.held {
            held.retain(|(number, _)| !self.late.contains_key(number));
        }
        self.erasure_lines
            .retain(|number| !self.late.contains_key(number));
    }

    fn accepts(&self, number: usize) -> bool {
        number
            .checked_sub(1)
            .and_then(|index| self.accepted.get(index))
            .copied()
            .unwrap_or(false)
    }
}

/// What the first reading decides about one line.
enum Verdict {
    Write,
    AlreadyPresent,
    /// Valid, but its command changes nothing (`field: reason`): as the API answers such a
    /// command, nothing is written for it.
    Unchanged(String),
    Problem(String),
}

/// Integrator lines an earlier reading decided once the whole file was read, each with its
/// `field: rule` or `field: reason`: a later reading takes them as decided, never deciding
/// them nor folding them in for the lines after them.
#[derive(Default)]
struct Decided {
    /// Refused ([`Checked::late`]; for `--skip-invalid`).
    refused: HashMap<usize, String>,
    /// Recording nothing ([`Checked::superseded`]).
    unchanged: HashMap<usize, String>,
}

/// Checks every line of `input` against the store and the lines before it (the first
/// reading): a file is all one form, the first line's; see [`IntegratorCheck`] and
/// [`ExportCheck`]. The data keys are opened (`open_ring`) at the first integrator line.
fn check(
    store: &SledEventLog,
    input: &Input,
    problems: Problems,
    open_ring: &dyn Fn() -> anyhow::Result<KeyRing>,
) -> anyhow::Result<Checked> {
    check_deciding(store, input, problems, open_ring, &Decided::default())
}

/// [`check`], with the lines of `decided` taken as it says: a later reading, when lines were
/// refused ([`Checked::late`], for `--skip-invalid`) or superseded ([`Checked::superseded`])
/// only once the whole file was read.
fn check_deciding(
    store: &SledEventLog,
    input: &Input,
    problems: Problems,
    open_ring: &dyn Fn() -> anyhow::Result<KeyRing>,
    decided: &Decided,
) -> anyhow::Result<Checked> {
    let spinner = progress::spinner("checking every line");
    let mut checked = Checked {
        form: Form::Integrator,
        problems,
        accepted: Vec::new(),
        to_write: 0,
        already_present: 0,
        unchanged: Problems::default(),
        digests: Vec::new(),
        held: (input.bytes <= IMPORT_HELD_BYTES_MAX).then(Vec::new),
        late: HashMap::new(),
        superseded: HashMap::new(),
        ring: None,
        erasure_lines: Vec::new(),
    };
    let mut form = None;
    let mut integrator = None;
    let mut export = ExportCheck::new(store);
    let mut blocks = input.blocks(checked.held.is_none())?;
    while let Some(block) = blocks.next_block()? {
        checked.digests.extend(block.digest);
        for (number, line) in block.lines {
            let line = match line {
                Ok(line) => line,
                Err(problem) => {
                    checked.problems.push(number, problem);
                    continue;
                }
            };
            let first = *form.get_or_insert(Form::of(&line));
            let verdict = match (first, &line) {
                (Form::Integrator, Line::Integrator(_))
                    if decided.refused.contains_key(&number) =>
                {
                    Verdict::Problem(decided.refused[&number].clone())
                }
                (Form::Integrator, Line::Integrator(_))
                    if decided.unchanged.contains_key(&number) =>
                {
                    Verdict::Unchanged(decided.unchanged[&number].clone())
                }
                (Form::Integrator, Line::Integrator(line)) => {
                    let integrator = match &mut integrator {
                        Some(integrator) => integrator,
                        None => {
                            integrator.insert(IntegratorCheck::new(store, Arc::new(open_ring()?))?)
                        }
                    };
                    integrator.check(number, line)?
                }
                (Form::Exported, Line::Exported(record)) => export.check(record)?,
                _ => Verdict::Problem(format!(
                    "(form): a file is all integrator form or all export form, and the first line is {}",
                    first.name()
                )),
            };
            if line.is_erasure() && matches!(verdict, Verdict::Write | Verdict::AlreadyPresent) {
                checked.erasure_lines.push(number);
            }
            match verdict {
                Verdict::Write => {
                    checked.accepted.resize(number, false);
                    checked.accepted[number - 1] = true;
                    checked.to_write += 1;
                    if let Some(held) = &mut checked.held {
                        held.push((number, line));
                    }
                }
                Verdict::AlreadyPresent => checked.already_present += 1,
                Verdict::Unchanged(reason) => checked
                    .unchanged
                    .push(number, format!("line {number}: records nothing: {reason}")),
                Verdict::Problem(problem) => checked
                    .problems
                    .push(number, format!("line {number}: {problem}")),
            }
        }
    }
    if let Some(integrator) = &mut integrator {
        let late = integrator.rules.finish()?;
        checked.refuse_late(late);
        checked.superseded = integrator.rules.superseded().into_iter().collect();
    }
    spinner.finish_and_clear();
    checked.form = form.unwrap_or(Form::Integrator);
    checked.ring = integrator.map(|integrator| Arc::clone(integrator.rules.into_facts().ring()));
    Ok(checked)
}

/// Integrator lines: an event id already in the store or earlier in the file is skipped (the
/// same event again) or refused (another event), an expected version must match the store and
/// the lines before it, no line may carry personal data of someone already erased in the store
/// (it could not be sealed, and the run would stop partway), and every line must keep the
/// rules the ledger's state decides ([`crate::import_rules`]).
struct IntegratorCheck<'a> {
    rules: LedgerRules<StoredLedger<'a>>,
    /// The store's data keys, to tell erased subjects and those whose key stayed with the
    /// ledger they were exported from (none while the store is empty), and what each subject
    /// asked about was found.
    keys: Option<DataKeyStore>,
    erased: HashMap<StreamId, Option<Closed>>,
}

/// Why nothing new can be sealed for a data subject.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Closed {
    /// Its key was destroyed by an erasure.
    Erased,
    /// Its records came from another ledger's export; the key did not.
    Foreign,
}

impl<'a> IntegratorCheck<'a> {
    fn new(store: &'a SledEventLog, ring: Arc<KeyRing>) -> anyhow::Result<Self> {
        let keys = if store.head().event_count == 0 {
            None
        } else {
            Some(store.data_keys().context("reading the data keys")?)
        };
        Ok(Self {
            rules: LedgerRules::new(StoredLedger::new(store, ring)),
            keys,
            erased: HashMap::new(),
        })
    }

    /// The data subject of `event`, when nothing new can be sealed for it here, and why
    /// (never for an event with no personal fields).
    fn closed_subject(&mut self, event: &Event) -> anyhow::Result<Option<(StreamId, Closed)>> {
        let (Some(keys), Some(subject)) = (&self.keys, event.data_subject()) else {
            return Ok(None);
        };
        let closed = match self.erased.get(&subject) {
            Some(closed) => *closed,
            None => {
                let closed = if ledger_app::personal::destroyed_in(keys, &subject)
                    .context("reading the data keys")?
                {
                    Some(Closed::Erased)
                } else if ledger_app::personal::foreign_in(keys, &subject)
                    .context("reading the data keys")?
                {
                    Some(Closed::Foreign)
                } else {
                    None
                };
                self.erased.insert(subject.clone(), closed);
                closed
            }
        };
        // An erased subject still takes an event with nothing personal in it (an erased
        // customer's open work finished without its text); the import's rules decide those.
        let sealable =
            closed == Some(Closed::Erased) && ledger_app::personal::holds_nothing_personal(event);
        Ok(closed.filter(|_| !sealable).map(|closed| (subject, closed)))
    }

    fn check(&mut self, number: usize, line: &IntegratorLine) -> anyhow::Result<Verdict> {
        match self.rules.event_id(number, line)? {
            EventIdUse::New => {}
            EventIdUse::AlreadyPresent => return Ok(Verdict::AlreadyPresent),
            EventIdUse::Reused(problem) => return Ok(Verdict::Problem(problem)),
        }
        if let Some((subject, closed)) = self.closed_subject(&line.event)? {
            let field = if subject.category() == "customer" {
                "customerId"
            } else {
                "enquiryId"
            };
            let why = match closed {
                Closed::Erased => ledger_app::personal::KeyError::Erased {
                    subject: subject.to_string(),
                },
                Closed::Foreign => ledger_app::personal::KeyError::Foreign {
                    subject: subject.to_string(),
                },
            };
            return Ok(Verdict::Problem(format!("{field}: {why}")));
        }
        Ok(match self.rules.decide(number, line)? {
            Decision::Accepted => Verdict::Write,
            Decision::Unchanged(reason) => Verdict::Unchanged(reason),
            Decision::Refused(problem) => Verdict::Problem(problem),
        })
    }
}

/// An export continues the store only where its first `prevHash` is the store's head hash, and
/// every line's hash must recompute from its content.
struct ExportCheck<'a> {
    store: &'a SledEventLog,
    head: Head,
    expected_prev: Hash,
    expected_position: ledger_domain::ids::Position,
}

impl<'a> ExportCheck<'a> {
    fn new(store: &'a SledEventLog) -> Self {
        let head = store.head();
        Self {
            store,
            expected_prev: head.hash,
            expected_position: head.position.next(),
            head,
        }
    }

    fn check(&mut self, record: &RecordedEvent) -> anyhow::Result<Verdict> {
        let expected_prev = std::mem::replace(&mut self.expected_prev, record.hash);
        let expected_position =
            std::mem::replace(&mut self.expected_position, record.position.next());
        if record.position <= self.head.position {
            return self.check_present(record);
        }
        Ok(if record.position != expected_position {
            Verdict::Problem(format!(
                "position: expected {expected_position} (the store's head is {}), found {}",
                self.head.position, record.position
            ))
        } else if record.prev_hash != expected_prev {
            let what = if expected_prev == GENESIS_HASH && self.head.position.get() == 0 {
                "the genesis hash (an empty store takes a full export)".to_owned()
            } else {
                hex::encode(expected_prev)
            };
            Verdict::Problem(format!("prevHash: must equal {what}"))
        } else if let Err(problem) = check_record_hash(record) {
            Verdict::Problem(format!("hash: {problem}"))
        } else {
            Verdict::Write
        })
    }

    /// A line at or below the store's head: a re-import, so it must be the very record stored
    /// there. Its event id and position alone would pass a line whose content was altered
    /// since the export; its hash recomputed from its content, and equal to the stored
    /// record's, covers all of it (the hash is over the content and the `prevHash`).
    fn check_present(&self, record: &RecordedEvent) -> anyhow::Result<Verdict> {
        if self.store.position_of(record.event.event_id) != Some(record.position) {
            return Ok(Verdict::Problem(format!(
                "position: {} is already taken by a different event in this store",
                record.position
            )));
        }
        if let Err(problem) = check_record_hash(record) {
            return Ok(Verdict::Problem(format!("hash: {problem}")));
        }
        let stored = self
            .store
            .read_all(record.position, 1)
            .with_context(|| format!("reading the record at position {}", record.position))?;
        let Some(stored) = stored
            .first()
            .filter(|stored| stored.position == record.position)
        else {
            anyhow::bail!(
                "the store holds no record at position {}, below its head {}",
                record.position,
                self.head.position
            );
        };
        Ok(if stored.hash == record.hash {
            Verdict::AlreadyPresent
        } else {
            Verdict::Problem(format!(
                "hash: differs from the record stored at position {} ({}): the line is not a \
                 copy of this ledger's event",
                record.position,
                hex::encode(stored.hash)
            ))
        })
    }
}

/// The accepted lines of the second reading, in order, a block at a time; the first failure
/// (a read error, or a block that is not what the first reading saw) ends them and is kept.
struct Accepted<'a> {
    blocks: Blocks,
    checked: &'a Checked,
    block: usize,
    pending: std::vec::IntoIter<Line>,
    failure: &'a Mutex<Option<anyhow::Error>>,
}

impl<'a> Accepted<'a> {
    fn new(
        input: &Input,
        checked: &'a Checked,
        failure: &'a Mutex<Option<anyhow::Error>>,
    ) -> anyhow::Result<Self> {
        Ok(Self {
            blocks: input.blocks(true)?,
            checked,
            block: 0,
            pending: Vec::new().into_iter(),
            failure,
        })
    }

    fn next_block(&mut self) -> anyhow::Result<Option<Vec<Line>>> {
        let Some(block) = self.blocks.next_block()? else {
            return Ok(None);
        };
        let first_line = block.lines.first().map_or(0, |(number, _)| *number);
        if self.checked.digests.get(self.block) != block.digest.as_ref() {
            anyhow::bail!(
                "{} changed after it was checked (at line {first_line}): the events before that \
                 line are written; importing the same file again finishes the import",
                self.blocks.path.display()
            );
        }
        self.block += 1;
        Ok(Some(
            block
                .lines
                .into_iter()
                .filter(|(number, _)| self.checked.accepts(*number))
                .filter_map(|(_, line)| line.ok())
                .collect(),
        ))
    }
}

impl Iterator for Accepted<'_> {
    type Item = Line;

    fn next(&mut self) -> Option<Line> {
        loop {
            if let Some(line) = self.pending.next() {
                return Some(line);
            }
            match self.next_block() {
                Ok(Some(lines)) => self.pending = lines.into_iter(),
                Ok(None) => return None,
                Err(failure) => {
                    *self
                        .failure
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(failure);
                    return None;
                }
            }
        }
    }
}

/// The accepted lines in order: those held since the check, or else read a second time (a
/// failure of that reading ends them and is kept in `failure`).
fn accepted_lines<'a>(
    input: &Input,
    checked: &'a mut Checked,
    failure: &'a Mutex<Option<anyhow::Error>>,
) -> anyhow::Result<Box<dyn Iterator<Item = Line> + Send + 'a>> {
    Ok(match checked.held.take() {
        Some(held) => Box::new(held.into_iter().map(|(_, line)| line)),
        None => Box::new(Accepted::new(input, checked, failure)?),
    })
}

/// The failure the second reading kept, if any.
fn reading_failed(failure: Mutex<Option<anyhow::Error>>) -> anyhow::Result<()> {
    match failure
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
    {
        Some(failure) => Err(failure),
        None => Ok(()),
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
    input: &Input,
    checked: &mut Checked,
) -> anyhow::Result<Summary> {
    let bar = progress::bar(checked.to_write, "importing");
    let mut summary = Summary {
        written: 0,
        already_present: checked.already_present,
    };
    let failure = Mutex::new(None);
    let requests = accepted_lines(input, checked, &failure)?.filter_map(|line| match line {
        Line::Integrator(IntegratorLine {
            stream,
            expected_version,
            new_event,
            event,
            digest: _,
        }) => Some((
            AppendRequest {
                stream,
                expected: expected_version.map_or(ExpectedVersion::Any, ExpectedVersion::Exact),
                events: vec![new_event],
            },
            event,
        )),
        Line::Exported(_) => None,
    });
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
    reading_failed(failure)?;
    Ok(summary)
}

/// The export is handed over in chunks; each continues the chain the previous one ended.
async fn write_exported(
    store: &SledEventLog,
    input: &Input,
    checked: &mut Checked,
) -> anyhow::Result<Summary> {
    let bar = progress::bar(checked.to_write, "importing");
    let already_present = checked.already_present;
    let mut written = 0u64;
    let failure = Mutex::new(None);
    let mut records = accepted_lines(input, checked, &failure)?.filter_map(|line| match line {
        Line::Exported(record) => Some(record),
        Line::Integrator(_) => None,
    });
    let keys = store.data_keys().context("reading the data keys")?;
    let mut chunk: Vec<RecordedEvent> = records.by_ref().take(IMPORT_RECORDS_MAX).collect();
    while !chunk.is_empty() {
        let count = u64::try_from(chunk.len()).unwrap_or(u64::MAX);
        // The chunk's sealed records came with no data key: their subjects are marked before
        // the records land, so a key made here later cannot make them unreadable.
        mark_foreign_subjects(&keys, &chunk)?;
        // `biased`: the chunk goes to the store's writer thread first, and the next one is
        // read and parsed on this thread while it is written.
        let (imported, next) = tokio::join!(biased; store.import_recorded(chunk), async {
            records
                .by_ref()
                .take(IMPORT_RECORDS_MAX)
                .collect::<Vec<RecordedEvent>>()
        });
        let _: Head = imported.context("the store refused the export")?;
        written += count;
        bar.inc(count);
        chunk = next;
    }
    drop(records);
    bar.finish_and_clear();
    reading_failed(failure)?;
    Ok(Summary {
        written,
        already_present,
    })
}

/// Marks, durably, the data subjects of `records`' sealed payloads that have no key here (see
/// [`ledger_app::personal::mark_foreign`]).
fn mark_foreign_subjects(keys: &DataKeyStore, records: &[RecordedEvent]) -> anyhow::Result<()> {
    let subjects: std::collections::BTreeSet<StreamId> = records
        .iter()
        .filter(|record| {
            record.event.payload.first() == Some(&ledger_domain::events::PAYLOAD_SEALED)
        })
        .filter_map(|record| {
            ledger_app::personal::open_redacted(
                &record.event.event_type,
                record.event.schema_version,
                &record.event.payload,
            )
            .ok()?
            .data_subject()
        })
        .collect();
    ledger_app::personal::mark_foreign(keys, &subjects)
        .context("marking the imported data subjects")
}

#[cfg(test)]
mod tests {
    use ledger_domain::ids::EventId;
    use ledger_store::StoreOptions;

    use super::*;

    /// Opens the store's data keys for [`check`], as the command does with a master key.
    fn test_keys(store: &SledEventLog) -> impl Fn() -> anyhow::Result<KeyRing> + '_ {
        || {
            Ok(ledger_app::open_keys(
                store,
                ledger_app::KeyOptions::insecure_for_tests(),
            )?)
        }
    }

    /// `input` as a file too large to hold would be: read a second time to be written.
    fn read_twice(mut input: Input) -> Input {
        input.bytes = IMPORT_HELD_BYTES_MAX + 1;
        input
    }

    /// `count` integrator lines, each registering a customer of its own.
    fn registrations(count: usize) -> Vec<String> {
        (0..count)
            .map(|index| {
                let customer = uuid::Uuid::new_v4();
                format!(
                    r#"{{"type":"CustomerRegistered","schemaVersion":1,"stream":"customer-{customer}","occurredAt":"2025-03-07T09:30:00+08:00","actor":"agent-0042","payload":{{"customerId":"{customer}","kind":"INDIVIDUAL","name":"张三","group":null,"identifiers":[{{"kind":"MOBILE","value":"138{index:08}"}}]}}}}"#
                )
            })
            .collect()
    }

    /// The second reading yields the accepted lines of the blocks the first reading saw, and
    /// stops at the first block that changed, saying so.
    #[test]
    fn a_file_changed_between_the_readings_stops_at_the_changed_block() {
        let dir = tempfile::tempdir().unwrap();
        let store = SledEventLog::open(&dir.path().join("data"), StoreOptions::default()).unwrap();
        let file = dir.path().join("lines.ndjson");
        let mut lines = registrations(PARSE_BLOCK_LINES + 100);
        std::fs::write(&file, lines.join("\n")).unwrap();
        let input = read_twice(Input::open(&file, dir.path()).unwrap());
        let checked = check(&store, &input, Problems::default(), &test_keys(&store)).unwrap();
        assert_eq!(checked.problems.total, 0);
        assert_eq!(checked.to_write, u64::try_from(lines.len()).unwrap());
        assert_eq!(checked.digests.len(), 2);

        let failure = Mutex::new(None);
        let read = Accepted::new(&input, &checked, &failure).unwrap().count();
        assert_eq!(read, lines.len());
        assert!(reading_failed(failure).is_ok());

        // One line of the second block is another now.
        lines[PARSE_BLOCK_LINES + 50] = registrations(1).remove(0);
        std::fs::write(&file, lines.join("\n")).unwrap();
        let failure = Mutex::new(None);
        let read = Accepted::new(&input, &checked, &failure).unwrap().count();
        assert_eq!(read, PARSE_BLOCK_LINES, "the first block only");
        let message = reading_failed(failure).unwrap_err().to_string();
        assert!(
            message.contains(&format!(
                "changed after it was checked (at line {})",
                PARSE_BLOCK_LINES + 1
            )),
            "{message}"
        );
    }

    /// Lines refused by the first reading (here: a stale expected version, and an event already
    /// earlier in the file) are not written by the second, in whichever block they are.
    #[test]
    fn the_second_reading_yields_only_what_the_first_accepted() {
        let dir = tempfile::tempdir().unwrap();
        let store = SledEventLog::open(&dir.path().join("data"), StoreOptions::default()).unwrap();
        let file = dir.path().join("lines.ndjson");
        let mut lines = registrations(PARSE_BLOCK_LINES + 10);
        for index in [3, PARSE_BLOCK_LINES + 4] {
            lines[index] = lines[index].replace(r#""actor""#, r#""expectedVersion":7,"actor""#);
        }
        // The same line twice is the same event twice: the second is already present.
        lines.push(lines[0].clone());
        std::fs::write(&file, lines.join("\n")).unwrap();
        let input = read_twice(Input::open(&file, dir.path()).unwrap());
        let checked = check(&store, &input, Problems::default(), &test_keys(&store)).unwrap();
        assert_eq!(checked.problems.total, 2);
        assert!(checked.problems.listed()[0].starts_with("line 4: expectedVersion:"));
        assert!(
            checked.problems.listed()[1]
                .starts_with(&format!("line {}: expectedVersion:", PARSE_BLOCK_LINES + 5))
        );
        assert_eq!(checked.already_present, 1);
        let stream_of = |line: Line| match line {
            Line::Integrator(line) => line.stream,
            Line::Exported(record) => record.stream,
        };
        let failure = Mutex::new(None);
        let written: Vec<StreamId> = Accepted::new(&input, &checked, &failure)
            .unwrap()
            .map(stream_of)
            .collect();
        assert!(reading_failed(failure).is_ok());
        assert_eq!(written.len(), lines.len() - 3);
        for refused in [3, PARSE_BLOCK_LINES + 4] {
            let stream = stream_of(parse_line(&lines[refused]).unwrap());
            assert!(
                !written.contains(&stream),
                "line {} was written",
                refused + 1
            );
        }
    }

    /// An input written from its held lines and one read a second time (as a file larger than
    /// `IMPORT_HELD_BYTES_MAX` is) end in the same log: the same events in the same order.
    #[tokio::test(flavor = "multi_thread")]
    async fn a_file_read_twice_writes_what_a_held_one_writes() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("lines.ndjson");
        let mut lines = registrations(PARSE_BLOCK_LINES + 300);
        lines[7] = lines[7].replace(r#""actor""#, r#""expectedVersion":2,"actor""#);
        lines.push(lines[1].clone());
        std::fs::write(&file, lines.join("\n")).unwrap();
        let mut logs = Vec::new();
        for held in [true, false] {
            let data = dir.path().join(format!("held-{held}"));
            let store = SledEventLog::open(&data, StoreOptions::default()).unwrap();
            let mut input = Input::open(&file, dir.path()).unwrap();
            if !held {
                input = read_twice(input);
            }
            let mut checked =
                check(&store, &input, Problems::default(), &test_keys(&store)).unwrap();
            assert_eq!(checked.held.is_some(), held);
            assert_eq!(checked.digests.is_empty(), held);
            let ring = checked.ring.take().unwrap();
            let summary = write_integrator(&store, &ring, &input, &mut checked)
                .await
                .unwrap();
            assert_eq!(summary.written, u64::try_from(lines.len() - 2).unwrap());
            assert_eq!(summary.already_present, 1);
            let mut written: Vec<(StreamId, EventId)> = Vec::new();
            loop {
                let from = ledger_domain::ids::Position(u64::try_from(written.len()).unwrap() + 1);
                let page = store.read_all(from, 4096).unwrap();
                if page.is_empty() {
                    break;
                }
                written.extend(
                    page.into_iter()
                        .map(|record| (record.stream, record.event.event_id)),
                );
            }
            assert_eq!(written.len(), lines.len() - 2);
            logs.push((written, store.head()));
            if held {
                // The log in the export form, for the test below.
                let mut export = Vec::new();
                let mut from = ledger_domain::ids::Position(1);
                loop {
                    let page = store.read_all(from, 4096).unwrap();
                    let Some(last) = page.last() else { break };
                    from = last.position.next();
                    for record in &page {
                        export.push(crate::interchange::export_line(record).unwrap());
                    }
                }
                std::fs::write(dir.path().join("export.ndjson"), export.join("\n")).unwrap();
            }
            drop(ring);
            store.close().await.unwrap();
        }
        // Recorded instants and data keys differ from store to store, so the hashes do too.
        assert_eq!(logs[0].0, logs[1].0);

        // That log's export, held and read twice, gives the same head hash in an empty store.
        let export = dir.path().join("export.ndjson");
        for held in [true, false] {
            let data = dir.path().join(format!("export-held-{held}"));
            let store = SledEventLog::open(&data, StoreOptions::default()).unwrap();
            let mut input = Input::open(&export, dir.path()).unwrap();
            if !held {
                input = read_twice(input);
            }
            let mut checked =
                check(&store, &input, Problems::default(), &test_keys(&store)).unwrap();
            assert_eq!(checked.form, Form::Exported);
            assert_eq!(checked.problems.total, 0, "{:?}", checked.problems.listed());
            assert_eq!(checked.held.is_some(), held);
            let summary = write_exported(&store, &input, &mut checked).await.unwrap();
            assert_eq!(summary.written, logs[0].1.event_count);
            assert_eq!(store.head(), logs[0].1, "held: {held}");
            store.close().await.unwrap();
        }
    }

    /// A line carrying personal data of someone the store already erased is a problem of its
    /// line, found before anything is written (it could not be sealed); others pass.
    #[tokio::test(flavor = "multi_thread")]
    async fn a_line_for_an_erased_customer_is_refused_before_anything_is_written() {
        let dir = tempfile::tempdir().unwrap();
        let store = SledEventLog::open(&dir.path().join("data"), StoreOptions::default()).unwrap();
        let first = dir.path().join("first.ndjson");
        let lines = registrations(2);
        std::fs::write(&first, lines.join("\n")).unwrap();
        let input = Input::open(&first, dir.path()).unwrap();
        let mut checked = check(&store, &input, Problems::default(), &test_keys(&store)).unwrap();
        let ring = checked.ring.take().unwrap();
        write_integrator(&store, &ring, &input, &mut checked)
            .await
            .unwrap();
        let stream_of = |line: &str| match parse_line(line).unwrap() {
            Line::Integrator(line) => line.stream,
            Line::Exported(record) => record.stream,
        };
        let erased = stream_of(&lines[0]);
        ring.begin_erasure(&erased).unwrap();
        ring.finish_erasure(&erased, true).unwrap();

        // Each customer's profile updated to another name: a new event for each.
        let again: Vec<String> = lines
            .iter()
            .map(|line| {
                let stream = stream_of(line);
                let customer = stream.as_str().trim_start_matches("customer-");
                format!(
                    r#"{{"type":"ProfileUpdated","schemaVersion":1,"stream":"{stream}","occurredAt":"2025-03-08T09:30:00+08:00","actor":"agent-0042","payload":{{"customerId":"{customer}","name":"张三丰"}}}}"#
                )
            })
            .collect();
        let second = dir.path().join("second.ndjson");
        std::fs::write(&second, again.join("\n")).unwrap();
        let input = Input::open(&second, dir.path()).unwrap();
        let checked = check(&store, &input, Problems::default(), &test_keys(&store)).unwrap();
        assert_eq!(checked.problems.total, 1);
        assert_eq!(
            checked.problems.listed()[0],
            format!(
                "line 1: customerId: the personal data of {erased} was erased; nothing new can be recorded for it"
            )
        );
        assert_eq!(checked.to_write, 1);
        drop(ring);
        store.close().await.unwrap();
    }
}
