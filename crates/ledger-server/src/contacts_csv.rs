//! `import --csv`: contacts as a call-centre or telephony system exports them, one CSV row a
//! `ContactRecorded`, turned into integrator lines so they take the import's one path (checked
//! whole, all or nothing, sealed on the way in, idempotent).
//!
//! The first row names the columns: the contact's payload fields as the event catalogue spells
//! them ([`REQUIRED_COLUMNS`], [`OPTIONAL_COLUMNS`]), in any order, and three of the envelope
//! ([`ENVELOPE_COLUMNS`]). An empty cell of an optional column leaves the field out. Without a
//! `contactId` the row gets one derived from its content, as a line without `eventId` gets its
//! event id, so importing the same file again writes nothing and two identical rows are one
//! contact. Without `occurredAt` the contact was recorded when it ended (`startedAt` plus
//! `durationSeconds`); without `actor` it was recorded by `system:import`.
//!
//! Each row becomes the integrator line at the row's own line number in a spool file (the lines
//! in between blank, which the import skips), so every problem the import finds names the CSV's
//! line: `line N: field: rule`. A row is refused here when a cell breaks its field's rule or its
//! customer is not in the ledger (a contact needs the customer registered first).

use std::collections::{HashSet, VecDeque};
use std::io::{BufWriter, Read, Write};

use jiff::Timestamp;
use ledger_domain::ValidationError;
use ledger_domain::events::{Event, PayloadError};
use ledger_domain::ids::{ContactId, StreamId};
use ledger_store::EventLog;
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::interchange::{LINE_BYTES_MAX, parse_line};

/// Columns every row fills: the contact's required payload fields.
pub const REQUIRED_COLUMNS: [&str; 9] = [
    "customerId",
    "channel",
    "direction",
    "agent",
    "startedAt",
    "durationSeconds",
    "topic",
    "summary",
    "outcome",
];

/// Payload fields a row may leave empty.
pub const OPTIONAL_COLUMNS: [&str; 6] = [
    "contactId",
    "policyNumber",
    "claimNumber",
    "caseId",
    "campaignId",
    "enquiryId",
];

/// The envelope's fields a row may give; each is optional.
pub const ENVELOPE_COLUMNS: [&str; 3] = ["eventId", "occurredAt", "actor"];

/// Who recorded a row's contact when the row names nobody.
pub const DEFAULT_ACTOR: &str = "system:import";

/// The longest row accepted, in bytes, as for an NDJSON line: far above any real contact (a
/// summary is at most 2,000 characters). A longer row stops the conversion (after it, where the
/// next row starts depends on quotes nobody can trust), and the reader never holds more of it
/// than this and one read-ahead buffer ([`READ_AHEAD_BYTES`]).
pub const ROW_BYTES_MAX: usize = LINE_BYTES_MAX;

/// How far ahead of the row it parses the CSV reader reads (its buffer's capacity).
const READ_AHEAD_BYTES: usize = 64 * 1024;

/// The event a row records.
const EVENT_TYPE: &str = "ContactRecorded";
const SCHEMA_VERSION: u16 = 1;

/// What converting a file found: its rows' problems (`line N: field: rule`) in line order, and
/// how many rows became lines (every row read is one or the other).
#[derive(Debug, Default)]
pub struct Converted {
    pub problems: Vec<String>,
    pub converted: usize,
}

/// Why a file could not be converted at all (its header, or reading it).
#[derive(Debug, thiserror::Error)]
pub enum CsvError {
    #[error("line 1: {0}")]
    Header(ValidationError),
    #[error("line {line}: (row): a row is at most {ROW_BYTES_MAX} bytes; nothing was imported")]
    RowTooLong { line: u64 },
    #[error(
        "line {line}: (csv): a quoted cell opened on this line is never closed; the rows after it cannot be read"
    )]
    UnclosedQuote { line: u64 },
    /// RFC 4180 allows only a separator or a line end after a quoted cell's closing quote. The
    /// csv crate reads on, taking the rest as part of the cell: after a stray opening quote, the
    /// next row's first quote "closes" the cell and the rows between become one summary.
    #[error(
        "line {line}: {column}: text after the closing quote of a quoted cell (character \
         {character}; the cell opened on line {opened_line}): RFC 4180 allows only a separator \
         or a line end there, and a quote inside a quoted cell is doubled (\"\"); a stray \
         quote reads the rows after it into one cell, so nothing was imported"
    )]
    TextAfterClosingQuote {
        line: u64,
        character: u64,
        opened_line: u64,
        column: String,
    },
    #[error("reading the CSV: {0}")]
    Read(#[from] csv::Error),
    #[error("writing the converted lines: {0}")]
    Write(#[from] std::io::Error),
}

/// Reads CSV contacts from `input` and writes their integrator lines to `out`, each at its row's
/// line number. `known` says whether the ledger holds a customer's stream.
///
/// A row's line is the physical line its first cell is on, counted here rather than taken from
/// the csv crate's `Position::line`: that counts `\n` bytes consumed so far, and a row ending in
/// `\r\n` is returned before its `\n` is consumed (and blank lines before a row are skipped
/// after its position is taken), so with CRLF line ends every row read one line early.
pub fn convert(
    input: impl Read,
    out: impl Write,
    mut known: impl FnMut(&StreamId) -> bool,
) -> Result<Converted, CsvError> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(false)
        .buffer_capacity(READ_AHEAD_BYTES)
        .from_reader(Watched::new(input));
    let header = reader.headers().cloned();
    refuse_broken_quoting(&reader, None)?;
    let columns = Columns::of(&header.map_err(|error| refused_read(error, 1))?)?;
    let mut out = BufWriter::new(out);
    let mut written_lines = 0_u64;
    let mut converted = Converted::default();
    let mut record = csv::StringRecord::new();
    loop {
        let start = reader.position().byte();
        reader.get_mut().row_starts_at(start);
        let read = reader.read_record(&mut record);
        // A quote still open at the end swallowed every row after it, and one closed with text
        // after it most likely swallowed the rows up to there: neither leaves rows to trust.
        refuse_broken_quoting(&reader, Some(&columns))?;
        let line = reader.get_ref().line_at(start);
        match read {
            Ok(false) => break,
            Ok(true) => {}
            Err(error) if matches!(error.kind(), csv::ErrorKind::Io(_)) => {
                return Err(refused_read(error, line));
            }
            Err(error) => {
                converted
                    .problems
                    .push(format!("line {line}: {}", read_problem(&error, &columns)));
                continue;
            }
        }
        if reader.position().byte() - start > ROW_BYTES_MAX as u64 {
            return Err(CsvError::RowTooLong { line });
        }
        if record.iter().all(|cell| cell.trim().is_empty()) {
            continue;
        }
        match row_line(&columns, &record, &mut known) {
            Ok(text) => {
                while written_lines + 1 < line {
                    out.write_all(b"\n")?;
                    written_lines += 1;
                }
                out.write_all(text.as_bytes())?;
                out.write_all(b"\n")?;
                written_lines += 1;
                converted.converted += 1;
            }
            Err(problem) => converted.problems.push(format!("line {line}: {problem}")),
        }
    }
    out.flush()?;
    Ok(converted)
}

/// Refuses the file when the input ended inside a quoted cell, naming the line it opened on,
/// or when text followed a quoted cell's closing quote anywhere the reader was handed, naming
/// that line, character and column (`columns`, once the header is read).
fn refuse_broken_quoting<R: Read>(
    reader: &csv::Reader<Watched<R>>,
    columns: Option<&Columns>,
) -> Result<(), CsvError> {
    let watched = reader.get_ref();
    // Before the columns are known only the header's own bytes are judged, so that a row's
    // problem names its column.
    let judged = |at: u64| columns.is_some() || at < reader.position().byte();
    if let Some(malformed) = watched
        .quoting
        .text_after_closing_quote
        .filter(|malformed| judged(malformed.at))
    {
        let column = columns
            .and_then(|columns| columns.names.get(malformed.cell))
            .map_or_else(|| "(csv)".to_owned(), Clone::clone);
        return Err(CsvError::TextAfterClosingQuote {
            line: watched.line_at(malformed.at),
            character: malformed.character,
            opened_line: watched.line_at(malformed.opened_at),
            column,
        });
    }
    match watched.unclosed_quote() {
        Some(opened_at) => Err(CsvError::UnclosedQuote {
            line: watched.line_at(opened_at),
        }),
        None => Ok(()),
    }
}

/// Why reading stopped at the row that starts on `line`: the row's length, or the input's own
/// failure.
fn refused_read(error: csv::Error, line: u64) -> CsvError {
    let too_long = match error.kind() {
        csv::ErrorKind::Io(io) => io.get_ref().is_some_and(|inner| inner.is::<RowTooLong>()),
        _ => false,
    };
    if too_long {
        CsvError::RowTooLong { line }
    } else {
        CsvError::Read(error)
    }
}

/// The input as the CSV reader is handed it: at most [`ROW_BYTES_MAX`] and one read-ahead
/// buffer past the start of the row it parses, so a row without end is refused in bounded
/// memory; with its line breaks and its quoting noted on the way, so a row's physical line and
/// a quoted cell left open at the end are known.
struct Watched<R> {
    input: R,
    handed: u64,
    row_start: u64,
    line_breaks: LineBreaks,
    quoting: Quoting,
    ended: bool,
}

/// The marker of a read refused by [`Watched`].
#[derive(Debug, thiserror::Error)]
#[error("a row is at most {ROW_BYTES_MAX} bytes")]
struct RowTooLong;

impl<R> Watched<R> {
    fn new(input: R) -> Self {
        Self {
            input,
            handed: 0,
            row_start: 0,
            line_breaks: LineBreaks::default(),
            quoting: Quoting::default(),
            ended: false,
        }
    }

    /// The reader starts a row at `byte`: line breaks before it are only counted from now on.
    fn row_starts_at(&mut self, byte: u64) {
        self.row_start = byte;
        self.line_breaks.forget_before(byte);
    }

    /// The physical line (from 1) of the first byte at or after `byte` that is not a line
    /// break: where a row starting at `byte` begins, as the reader skips blank lines.
    fn line_at(&self, byte: u64) -> u64 {
        self.line_breaks.line_at(byte)
    }

    /// Where the quoted cell the input ended inside was opened, once the input has ended.
    fn unclosed_quote(&self) -> Option<u64> {
        if !self.ended {
            return None;
        }
        match self.quoting.state {
            QuoteState::Quoted => Some(self.quoting.opened_at),
            _ => None,
        }
    }
}

impl<R: Read> Read for Watched<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let bound = self.row_start + (ROW_BYTES_MAX + READ_AHEAD_BYTES) as u64;
        let allowed = bound.saturating_sub(self.handed);
        if allowed == 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                RowTooLong,
            ));
        }
        let wanted = buf
            .len()
            .min(usize::try_from(allowed).unwrap_or(usize::MAX));
        let read = self.input.read(&mut buf[..wanted])?;
        if read == 0 && wanted > 0 {
            self.ended = true;
            self.line_breaks.end();
        }
        for &byte in &buf[..read] {
            self.line_breaks.note(self.handed, byte);
            self.quoting.note(self.handed, byte);
            self.handed += 1;
        }
        Ok(read)
    }
}

/// The line breaks handed to the reader since the start of the row it parses, as runs of
/// consecutive `\r` and `\n` bytes (a row's start can fall inside one: the reader ends a row at
/// its `\r`, and skips the blank lines before the next). A break is `\n`, `\r\n` or a lone `\r`,
/// as for the reader. The runs kept are those of one row and its read-ahead, at most half as
/// many as its bytes.
#[derive(Debug, Default)]
struct LineBreaks {
    /// The breaks of the runs forgotten (every one before the current row).
    counted: u64,
    runs: VecDeque<BreakRun>,
    open: Option<BreakRun>,
}

#[derive(Debug, Clone, Copy)]
struct BreakRun {
    start: u64,
    end: u64,
    breaks: u64,
    /// The run's last byte is a `\r`, a break of its own unless a `\n` follows.
    ends_in_cr: bool,
}

impl LineBreaks {
    fn note(&mut self, at: u64, byte: u8) {
        if byte != b'\r' && byte != b'\n' {
            self.end();
            return;
        }
        let run = self.open.get_or_insert(BreakRun {
            start: at,
            end: at,
            breaks: 0,
            ends_in_cr: false,
        });
        if byte == b'\n' || run.ends_in_cr {
            run.breaks += 1;
        }
        run.ends_in_cr = byte == b'\r';
        run.end = at + 1;
    }

    /// The open run ends (a byte that is no line break, or the end of the input).
    fn end(&mut self) {
        if let Some(mut run) = self.open.take() {
            if run.ends_in_cr {
                run.breaks += 1;
                run.ends_in_cr = false;
            }
            self.runs.push_back(run);
        }
    }

    fn forget_before(&mut self, byte: u64) {
        while let Some(run) = self.runs.front().filter(|run| run.end <= byte) {
            self.counted += run.breaks;
            self.runs.pop_front();
        }
    }

    fn line_at(&self, byte: u64) -> u64 {
        let mut breaks = self.counted;
        for run in self.runs.iter().chain(&self.open) {
            if run.start > byte {
                break;
            }
            breaks += run.breaks + u64::from(run.ends_in_cr);
        }
        breaks + 1
    }
}

/// Where the input stands in the CSV's quoting, as the reader sees it: a `"` opens a quoted cell
/// only as a cell's first byte, `""` inside one is a quote, and one `"` closes it; after the
/// closing quote RFC 4180 allows only a separator or a line end (here, spaces too, which the
/// cell's trimming drops), which the reader does not check (it reads the rest into the cell),
/// so the first byte that breaks that is kept here.
#[derive(Debug, Default)]
struct Quoting {
    state: QuoteState,
    /// The byte the last quoted cell opened at.
    opened_at: u64,
    /// The index of the cell the input is in, within its record.
    cell: usize,
    /// The characters read so far of the physical line the input is on.
    character: u64,
    /// The first byte after a closing quote that is neither a separator nor a line end.
    text_after_closing_quote: Option<TextAfterClosingQuote>,
    /// A UTF-8 byte order mark is not part of the first cell.
    past_byte_order_mark: bool,
}

#[derive(Debug, Clone, Copy)]
struct TextAfterClosingQuote {
    at: u64,
    /// Its character on its physical line, from 1.
    character: u64,
    /// The index of the cell it is in.
    cell: usize,
    /// Where that cell's opening quote is.
    opened_at: u64,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum QuoteState {
    #[default]
    CellStart,
    Unquoted,
    Quoted,
    /// A `"` inside a quoted cell: a second one is a quote, anything else closes the cell.
    QuoteInQuoted,
    /// Spaces after a closing quote, which the cell's trimming drops: a separator or a line end
    /// must still come before any other text.
    SpacesAfterClosingQuote,
}

impl Quoting {
    const BYTE_ORDER_MARK: [u8; 3] = [0xef, 0xbb, 0xbf];

    fn note(&mut self, at: u64, byte: u8) {
        if !self.past_byte_order_mark {
            let index = usize::try_from(at).unwrap_or(usize::MAX);
            if Self::BYTE_ORDER_MARK.get(index) == Some(&byte) {
                return;
            }
            self.past_byte_order_mark = true;
        }
        let line_end = matches!(byte, b'\r' | b'\n');
        if line_end {
            self.character = 0;
        } else if byte & 0xc0 != 0x80 {
            // A UTF-8 continuation byte is part of the character before it.
            self.character += 1;
        }
        self.state = match (self.state, byte) {
            (QuoteState::Quoted, b'"') => QuoteState::QuoteInQuoted,
            (QuoteState::Quoted, _) => QuoteState::Quoted,
            (QuoteState::QuoteInQuoted, b'"') => QuoteState::Quoted,
            (QuoteState::CellStart, b'"') => {
                self.opened_at = at;
                QuoteState::Quoted
            }
            (_, b',') => {
                self.cell += 1;
                QuoteState::CellStart
            }
            (_, _) if line_end => {
                self.cell = 0;
                QuoteState::CellStart
            }
            (QuoteState::QuoteInQuoted | QuoteState::SpacesAfterClosingQuote, b' ' | b'\t') => {
                QuoteState::SpacesAfterClosingQuote
            }
            (QuoteState::QuoteInQuoted | QuoteState::SpacesAfterClosingQuote, _) => {
                self.text_after_closing_quote
                    .get_or_insert(TextAfterClosingQuote {
                        at,
                        character: self.character,
                        cell: self.cell,
                        opened_at: self.opened_at,
                    });
                QuoteState::Unquoted
            }
            (_, _) => QuoteState::Unquoted,
        };
    }
}

/// Why a row could not be read, as `field: rule`: a cell that is not UTF-8 text is named by its
/// column, as a cell's other problems are; what is wrong with the row as a whole is `(csv)`'s.
fn read_problem(error: &csv::Error, columns: &Columns) -> String {
    match error.kind() {
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => format!("(csv): a row has as many cells as the header: {expected_len}, not {len}"),
        csv::ErrorKind::Utf8 { err, .. } => {
            // A row has as many cells as the header (checked before its text), so the cell's
            // index names a column; `(csv)` only guards the csv crate's order of checks.
            let column = columns
                .names
                .get(err.field())
                .map_or("(csv)", String::as_str);
            format!(
                "{column}: is not UTF-8 text (the file is read as UTF-8; save one written in GBK \
                 or another encoding as UTF-8 first)"
            )
        }
        _ => format!("(csv): {error}"),
    }
}

/// The header's columns, each at its index.
struct Columns {
    names: Vec<String>,
}

impl Columns {
    fn of(header: &csv::StringRecord) -> Result<Self, CsvError> {
        let refuse =
            |field: &str, rule: String| CsvError::Header(ValidationError::new(field, rule));
        let names: Vec<String> = header
            .iter()
            .enumerate()
            // A spreadsheet's UTF-8 byte order mark sits before the first name.
            .map(|(index, name)| {
                let name = if index == 0 {
                    name.trim_start_matches('\u{feff}')
                } else {
                    name
                };
                name.trim().to_owned()
            })
            .collect();
        let allowed = || {
            REQUIRED_COLUMNS
                .iter()
                .chain(&OPTIONAL_COLUMNS)
                .chain(&ENVELOPE_COLUMNS)
        };
        let mut seen = HashSet::new();
        for name in &names {
            if !allowed().any(|allowed| allowed == name) {
                return Err(refuse(
                    name,
                    format!(
                        "not a contact column; the columns are {}",
                        allowed().copied().collect::<Vec<_>>().join(", ")
                    ),
                ));
            }
            if !seen.insert(name.as_str()) {
                return Err(refuse(name, "a column is named once".to_owned()));
            }
        }
        if let Some(missing) = REQUIRED_COLUMNS.iter().find(|name| !seen.contains(*name)) {
            return Err(refuse(
                missing,
                format!(
                    "a required column (every row fills {})",
                    REQUIRED_COLUMNS.join(", ")
                ),
            ));
        }
        Ok(Self { names })
    }
}

/// The integrator line of one row, or its problem (`field: rule`).
fn row_line(
    columns: &Columns,
    record: &csv::StringRecord,
    known: &mut impl FnMut(&StreamId) -> bool,
) -> Result<String, ValidationError> {
    let mut payload = Map::new();
    let mut envelope = Map::new();
    for (name, cell) in columns.names.iter().zip(record.iter()) {
        // Every cell is read without the spaces around it, as the ledger reads its text and
        // ids: a spreadsheet's padding is no part of a value, in a code or a summary alike.
        let raw = cell;
        let cell = cell.trim();
        if cell.is_empty() {
            // A summary of spaces was written, only blank: the ledger's rule for written text
            // refuses it in its own words, as for an NDJSON line; any other blank cell is left
            // out (a spreadsheet pads empty optional cells).
            if name == "summary" && !raw.is_empty() {
                payload.insert(name.clone(), Value::from(""));
            }
            continue;
        }
        refuse_a_row_inside(columns, name, cell)?;
        let value = if name == "durationSeconds" {
            Value::from(cell.trim().parse::<u32>().map_err(|_| {
                ValidationError::new(name, format!("a whole number of seconds, not {cell:?}"))
            })?)
        } else {
            Value::from(cell)
        };
        if ENVELOPE_COLUMNS.contains(&name.as_str()) {
            envelope.insert(name.clone(), value);
        } else {
            payload.insert(name.clone(), value);
        }
    }
    if !payload.contains_key("contactId") {
        let derived = derived_contact_id(&payload);
        payload.insert("contactId".to_owned(), Value::from(derived.to_string()));
    }
    let payload = Value::Object(payload);
    let event =
        Event::from_json(EVENT_TYPE, SCHEMA_VERSION, &payload).map_err(|error| match error {
            PayloadError::Invalid(invalid) => invalid,
            other => ValidationError::new("(row)", other.to_string()),
        })?;
    let Event::ContactRecorded(contact) = &event else {
        unreachable!("a ContactRecorded payload decodes to a ContactRecorded");
    };
    let stream = event.stream();
    if !known(&stream) {
        return Err(ValidationError::new(
            "customerId",
            format!(
                "no customer {} in the ledger; register the customer before their contacts",
                contact.customer_id
            ),
        ));
    }
    if !envelope.contains_key("occurredAt") {
        let ended = contact.ended_at().unwrap_or(Timestamp::MAX);
        envelope.insert("occurredAt".to_owned(), Value::from(ended.to_string()));
    }
    envelope
        .entry("actor")
        .or_insert_with(|| Value::from(DEFAULT_ACTOR));
    envelope.insert("type".to_owned(), Value::from(EVENT_TYPE));
    envelope.insert("schemaVersion".to_owned(), Value::from(SCHEMA_VERSION));
    envelope.insert("stream".to_owned(), Value::from(stream.to_string()));
    envelope.insert("payload".to_owned(), payload);
    let line = Value::Object(envelope).to_string();
    // The envelope's cells (`eventId`, `occurredAt`, `actor`) are checked as the import will.
    parse_line(&line)?;
    Ok(line)
}

/// Refuses a cell holding a line break followed by a line with as many commas as a whole row
/// has separators: legal RFC 4180, but almost surely a stray quote that read the next rows into
/// this cell and was closed, by chance, right before a separator or a line end.
fn refuse_a_row_inside(columns: &Columns, name: &str, cell: &str) -> Result<(), ValidationError> {
    // Every header names at least the required columns, so a row has at least 8 separators.
    let separators = columns.names.len().saturating_sub(1);
    let row_like = cell
        .lines()
        .skip(1)
        .position(|line| line.bytes().filter(|&byte| byte == b',').count() >= separators);
    match row_like {
        Some(index) => Err(ValidationError::new(
            name,
            format!(
                "the cell's line {} holds {separators} commas or more, as a whole row does: a \
                 stray quote reads the rows after it into one cell, so the row is refused \
                 rather than read as one contact (a text that holds such a line is written \
                 without its commas)",
                index + 2
            ),
        )),
        None => Ok(()),
    }
}

/// A contact id from the row's payload (UUID v8 over the blake3 hash of its canonical JSON,
/// beside a tag so it never equals an event id derived from the same bytes).
fn derived_contact_id(payload: &Map<String, Value>) -> ContactId {
    let mut hasher = blake3::Hasher::new();
    hasher.update(b"contact-ledger csv contact\n");
    hasher.update(Value::Object(payload.clone()).to_string().as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&hasher.finalize().as_bytes()[..16]);
    ContactId::from_uuid(Uuid::new_v8(bytes))
}

/// Whether the store holds `stream` (a customer with at least one event).
pub fn known_in<L: EventLog + ?Sized>(log: &L) -> impl FnMut(&StreamId) -> bool + '_ {
    |stream| log.stream_version(stream) > 0
}

#[cfg(test)]
mod tests;
