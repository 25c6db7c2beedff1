//! The NDJSON event interchange format: one event per line, in two forms.
//!
//! - The **integrator form** is what other systems write: `type`, `schemaVersion`, `stream`,
//!   `eventId` (optional), `expectedVersion` (optional), `occurredAt` (RFC 3339), `actor`,
//!   `correlationId`, `causationId`, `origin` (optional) and `payload`.
//! - The **export form** adds what the ledger assigned: `position`, `streamVersion`,
//!   `recordedAt`, `prevHash` and `hash`. Importing it keeps every one of those, so an export
//!   imported into an empty store reproduces the same head hash.
//!
//! An event with personal fields is stored sealed (see `ledger_app::personal`). Its export line
//! carries `payload` with those fields erased (`""`: the facts anyone may read) and `sealed`: the
//! stored payload bytes in standard base64 — the ciphertext, never the plain values — so an
//! export imported into an empty store reproduces the same bytes and head hash. Only an
//! exported line may carry `sealed`; an integrator writes plain values, sealed on the way in.
//!
//! A line without `eventId` gets one derived from its content (a UUID v8 over the blake3 hash
//! of the line's canonical JSON), so importing the same file twice writes nothing new.

use std::io::BufRead;

use jiff::Timestamp;
use ledger_domain::ValidationError;
use ledger_domain::events::{Event, PayloadError};
use ledger_domain::ids::{CorrelationId, EventId, Position, StaffId, StreamId};
use ledger_store::{Hash, NewEvent, RecordedEvent};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The longest line accepted, in bytes: far above any real event, small enough that a
/// malformed file cannot make one line eat the memory.
pub const LINE_BYTES_MAX: usize = 1024 * 1024;

/// One line as written in a file, before validation. Every field is optional here so that a
/// missing one is reported by name rather than as a parse error.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct RawLine {
    #[serde(rename = "type")]
    event_type: Option<String>,
    schema_version: Option<u16>,
    stream: Option<String>,
    event_id: Option<String>,
    expected_version: Option<u64>,
    occurred_at: Option<String>,
    actor: Option<String>,
    correlation_id: Option<String>,
    causation_id: Option<String>,
    origin: Option<String>,
    payload: Option<serde_json::Value>,
    position: Option<u64>,
    stream_version: Option<u64>,
    recorded_at: Option<String>,
    prev_hash: Option<String>,
    hash: Option<String>,
    sealed: Option<String>,
}

/// A validated line in the integrator form: ready to append.
#[derive(Debug)]
pub struct IntegratorLine {
    pub stream: StreamId,
    pub expected_version: Option<u64>,
    pub event: Event,
    pub new_event: NewEvent,
    /// The digest of its content (`import_rules::content_digest`), taken while the lines are
    /// parsed on every core, for the check that an event id names one event only.
    pub digest: crate::import_rules::Digest,
}

/// A validated line: either form.
#[derive(Debug)]
pub enum Line {
    Integrator(IntegratorLine),
    Exported(RecordedEvent),
}

impl Line {
    /// Whether the line erases a data subject (`CustomerErased`, `EnquiryErased`): imported, it
    /// destroys a data key, and the read models holding the subject's fields must follow.
    pub fn is_erasure(&self) -> bool {
        match self {
            Self::Integrator(line) => ledger_app::erasure::erased_subject(&line.event).is_some(),
            Self::Exported(record) => {
                record.event.event_type == ledger_app::erasure::erasure_event(&record.stream)
            }
        }
    }
}

/// A line of a file as read, before it is known to be text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileLine {
    /// Its bytes without the line break (`\n` or `\r\n`).
    Bytes(Vec<u8>),
    /// Longer than [`LINE_BYTES_MAX`]: read past to its end, never held whole.
    TooLong,
}

impl FileLine {
    /// The line as text, or why it cannot be one (the field is `(line)`).
    pub fn text(self) -> Result<String, ValidationError> {
        match self {
            Self::Bytes(bytes) => String::from_utf8(bytes).map_err(|error| {
                ValidationError::new("(line)", format!("not UTF-8 text: {error}"))
            }),
            Self::TooLong => Err(ValidationError::new(
                "(line)",
                format!("a line is at most {LINE_BYTES_MAX} bytes"),
            )),
        }
    }
}

/// The UTF-8 byte order mark some editors and spreadsheets write at the start of a text file.
pub const BYTE_ORDER_MARK: [u8; 3] = [0xef, 0xbb, 0xbf];

/// Skips a UTF-8 byte order mark at the start of `reader`, before its first line is read: it is
/// no part of that line's JSON. Says whether there was one. (A reader whose first fill holds
/// fewer than its three bytes is taken to have none.)
pub fn skip_byte_order_mark(reader: &mut dyn BufRead) -> std::io::Result<bool> {
    let marked = reader.fill_buf()?.starts_with(&BYTE_ORDER_MARK);
    if marked {
        reader.consume(BYTE_ORDER_MARK.len());
    }
    Ok(marked)
}

/// The next line of `reader`, `None` at the end of the input (what `import` and `verify
/// --export` read files with, instead of `BufRead::lines`). A line longer than
/// [`LINE_BYTES_MAX`] is not held whole, so a file without line breaks cannot fill the memory.
pub fn read_line(reader: &mut dyn BufRead) -> std::io::Result<Option<FileLine>> {
    let mut bytes = Vec::new();
    // A line at the limit with its `\r\n` still fits.
    let window = u64::try_from(LINE_BYTES_MAX + 2).unwrap_or(u64::MAX);
    if std::io::Read::take(&mut *reader, window).read_until(b'\n', &mut bytes)? == 0 {
        return Ok(None);
    }
    if bytes.last() == Some(&b'\n') {
        bytes.pop();
        if bytes.last() == Some(&b'\r') {
            bytes.pop();
        }
    } else if u64::try_from(bytes.len()).unwrap_or(u64::MAX) == window {
        skip_to_line_end(reader)?;
        return Ok(Some(FileLine::TooLong));
    }
    Ok(Some(if bytes.len() <= LINE_BYTES_MAX {
        FileLine::Bytes(bytes)
    } else {
        FileLine::TooLong
    }))
}

/// Reads past the rest of the current line, its line break included.
fn skip_to_line_end(reader: &mut dyn BufRead) -> std::io::Result<()> {
    loop {
        let available = reader.fill_buf()?;
        if available.is_empty() {
            return Ok(());
        }
        if let Some(end) = available.iter().position(|&byte| byte == b'\n') {
            reader.consume(end + 1);
            return Ok(());
        }
        let skipped = available.len();
        reader.consume(skipped);
    }
}

/// A JSON parser's problem as a line's: serde places it `at line 1 column N` of the text it
/// was given, which is one NDJSON line, whose own number the caller leads with.
pub fn within_the_line(problem: &str) -> String {
    let Some((before, column)) = problem.rsplit_once(" at line 1 column ") else {
        return problem.to_owned();
    };
    if column.is_empty() || !column.bytes().all(|byte| byte.is_ascii_digit()) {
        return problem.to_owned();
    }
    format!("{before} at column {column}")
}

/// The envelope of one line as JSON. A value of the wrong type is named by its field
/// (`schemaVersion: invalid type: string "1", expected u16 at column 48`); a line that is not
/// JSON, or not an object, is `(json)`'s problem.
fn raw_line(text: &str) -> Result<RawLine, ValidationError> {
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let refused = |field: String, error: &serde_json::Error| {
        let problem = if error.classify() == serde_json::error::Category::Data
            && !text.trim_start().starts_with('{')
        {
            "a line is one JSON object, an event (`{\"type\": …, \"payload\": {…}}`)".to_owned()
        } else {
            within_the_line(&error.to_string())
        };
        match field.as_str() {
            "" | "." => {
                ValidationError::new("(json)", format!("not a valid event line: {problem}"))
            }
            _ => ValidationError::new(field, problem),
        }
    };
    let raw: RawLine = serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
        let field = if error.inner().classify() == serde_json::error::Category::Data {
            error.path().to_string()
        } else {
            String::new()
        };
        refused(field, error.inner())
    })?;
    deserializer
        .end()
        .map_err(|error| refused(String::new(), &error))?;
    Ok(raw)
}

/// Parses and validates one line. The error names the field (`payload.mobile`, `occurredAt`)
/// and the rule.
pub fn parse_line(text: &str) -> Result<Line, ValidationError> {
    if text.len() > LINE_BYTES_MAX {
        return Err(ValidationError::new(
            "(line)",
            format!("a line is at most {LINE_BYTES_MAX} bytes"),
        ));
    }
    let raw = raw_line(text)?;
    let canonical_id = || derived_event_id(text);
    let exported = raw.hash.is_some() || raw.position.is_some() || raw.prev_hash.is_some();
    if raw.sealed.is_some() && !exported {
        return Err(ValidationError::new(
            "sealed",
            "only an exported line carries sealed fields; an integrator sends plain values",
        ));
    }
    let common = parse_common(&raw, canonical_id)?;
    if !exported {
        let digest = crate::import_rules::content_digest(
            &common.stream,
            &common.new_event,
            &common.new_event.payload,
        );
        return Ok(Line::Integrator(IntegratorLine {
            stream: common.stream,
            expected_version: raw.expected_version,
            event: common.event,
            new_event: common.new_event,
            digest,
        }));
    }
    if raw.event_id.is_none() {
        return Err(ValidationError::new(
            "eventId",
            "an exported line carries the event id it was written with",
        ));
    }
    let record = RecordedEvent {
        position: Position(required(raw.position, "position")?),
        stream: common.stream,
        stream_version: required(raw.stream_version, "streamVersion")?,
        recorded_at: parse_time(
            "recordedAt",
            &required(raw.recorded_at.clone(), "recordedAt")?,
        )?,
        prev_hash: parse_hash("prevHash", &required(raw.prev_hash.clone(), "prevHash")?)?,
        hash: parse_hash("hash", &required(raw.hash.clone(), "hash")?)?,
        event: common.new_event,
    };
    Ok(Line::Exported(record))
}

struct Common {
    stream: StreamId,
    event: Event,
    new_event: NewEvent,
}

fn parse_common(
    raw: &RawLine,
    derived_id: impl FnOnce() -> Result<EventId, ValidationError>,
) -> Result<Common, ValidationError> {
    let event_type = required(raw.event_type.as_deref(), "type")?;
    let schema_version = required(raw.schema_version, "schemaVersion")?;
    let payload = required(raw.payload.as_ref(), "payload")?;
    if let Some(sealed) = &raw.sealed {
        return parse_sealed(raw, event_type, schema_version, payload, sealed, derived_id);
    }
    let stream = StreamId::parse("stream", required(raw.stream.as_deref(), "stream")?)?;
    let event =
        Event::from_json(event_type, schema_version, payload).map_err(|error| match error {
            PayloadError::Invalid(invalid) => invalid.within("payload"),
            PayloadError::UnknownType { name, version } => ValidationError::new(
                "type",
                format!("unknown event type {name} version {version}"),
            ),
            other => ValidationError::new("payload", other.to_string()),
        })?;
    let home = event.stream();
    if home != stream {
        return Err(ValidationError::new(
            "stream",
            format!("a {} belongs in stream {home}", event.event_type()),
        ));
    }
    let payload = event.encode_payload();
    envelope(raw, stream, event, schema_version, payload, derived_id)
}

/// An exported line whose personal fields are sealed: the stored bytes come from `sealed`, and
/// `payload` must be exactly their redacted event.
fn parse_sealed(
    raw: &RawLine,
    event_type: &str,
    schema_version: u16,
    payload: &serde_json::Value,
    sealed: &str,
    derived_id: impl FnOnce() -> Result<EventId, ValidationError>,
) -> Result<Common, ValidationError> {
    use base64::Engine as _;
    let stream = StreamId::parse("stream", required(raw.stream.as_deref(), "stream")?)?;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(sealed)
        .map_err(|_| ValidationError::new("sealed", "sealed fields are standard base64"))?;
    if bytes.first() != Some(&ledger_domain::events::PAYLOAD_SEALED) {
        return Err(ValidationError::new(
            "sealed",
            "sealed fields start with the sealed payload format byte",
        ));
    }
    let event = ledger_app::personal::open_redacted(event_type, schema_version, &bytes)
        .map_err(|error| ValidationError::new("sealed", error.to_string()))?;
    if &event.to_json() != payload {
        return Err(ValidationError::new(
            "payload",
            "must be the sealed event with its personal fields erased",
        ));
    }
    let home = event.stream();
    if home != stream {
        return Err(ValidationError::new(
            "stream",
            format!("a {} belongs in stream {home}", event.event_type()),
        ));
    }
    envelope(raw, stream, event, schema_version, bytes, derived_id)
}

/// The envelope fields common to both forms, around a payload already in its stored form.
fn envelope(
    raw: &RawLine,
    stream: StreamId,
    event: Event,
    schema_version: u16,
    payload: Vec<u8>,
    derived_id: impl FnOnce() -> Result<EventId, ValidationError>,
) -> Result<Common, ValidationError> {
    let event_id = match raw.event_id.as_deref() {
        Some(text) => EventId::parse("eventId", text)?,
        None => derived_id()?,
    };
    let occurred_at = parse_time(
        "occurredAt",
        required(raw.occurred_at.as_deref(), "occurredAt")?,
    )?;
    let actor = StaffId::parse("actor", required(raw.actor.as_deref(), "actor")?)?;
    let correlation_id = raw
        .correlation_id
        .as_deref()
        .map(|text| CorrelationId::parse("correlationId", text))
        .transpose()?;
    let causation_id = raw
        .causation_id
        .as_deref()
        .map(|text| CorrelationId::parse("causationId", text))
        .transpose()?;
    let origin = raw
        .origin
        .clone()
        .map(|origin| parse_origin(&origin))
        .transpose()?;
    let new_event = NewEvent {
        event_id,
        event_type: event.event_type().to_owned(),
        schema_version,
        occurred_at,
        actor,
        correlation_id,
        causation_id,
        origin,
        payload,
    };
    Ok(Common {
        stream,
        event,
        new_event,
    })
}

/// The longest `origin` (the system an event came from), in bytes.
pub const ORIGIN_BYTES_MAX: usize = 64;

fn parse_origin(origin: &str) -> Result<String, ValidationError> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | ':');
    if origin.is_empty() || origin.len() > ORIGIN_BYTES_MAX || !origin.chars().all(allowed) {
        return Err(ValidationError::new(
            "origin",
            format!(
                "an origin system is 1 to {ORIGIN_BYTES_MAX} characters of letters, digits and . _ - :"
            ),
        ));
    }
    Ok(origin.to_owned())
}

fn required<T>(value: Option<T>, field: &str) -> Result<T, ValidationError> {
    value.ok_or_else(|| ValidationError::new(field, "is required"))
}

fn parse_time(field: &str, text: &str) -> Result<Timestamp, ValidationError> {
    text.parse::<Timestamp>().map_err(|_| {
        ValidationError::new(
            field,
            "a time is RFC 3339 with an offset, e.g. 2025-03-07T09:30:00+08:00",
        )
    })
}

fn parse_hash(field: &str, text: &str) -> Result<Hash, ValidationError> {
    let mut hash = [0u8; 32];
    hex::decode_to_slice(text, &mut hash).map_err(|_| {
        ValidationError::new(field, "a hash is 64 lower-case hexadecimal characters")
    })?;
    Ok(hash)
}

/// The id of a line that did not name one: a UUID v8 over the blake3 hash of the line's
/// canonical JSON (keys sorted, no white space), so the same content always gets the same id.
fn derived_event_id(text: &str) -> Result<EventId, ValidationError> {
    let value: serde_json::Value = serde_json::from_str(text)
        .map_err(|error| ValidationError::new("(json)", within_the_line(&error.to_string())))?;
    let canonical = serde_json::to_vec(&value)
        .map_err(|error| ValidationError::new("(json)", error.to_string()))?;
    let digest = blake3::hash(&canonical);
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest.as_bytes()[..16]);
    Ok(EventId::from_uuid(Uuid::new_v8(bytes)))
}

/// One line of the export form, in the order its fields are written.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct ExportLine<'a> {
    position: u64,
    #[serde(rename = "type")]
    event_type: &'a str,
    schema_version: u16,
    stream: &'a str,
    stream_version: u64,
    event_id: String,
    occurred_at: String,
    recorded_at: String,
    actor: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    correlation_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    causation_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    origin: Option<&'a str>,
    payload: serde_json::Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    sealed: Option<String>,
    prev_hash: String,
    hash: String,
}

/// Why a stored record could not be written as an export line.
#[derive(Debug, thiserror::Error)]
#[error("position {position}: cannot decode the stored {event_type} payload: {source}")]
pub struct ExportError {
    position: Position,
    event_type: String,
    source: PayloadError,
}

/// Writes one stored record as an export-form line (without the newline).
pub fn export_line(record: &RecordedEvent) -> Result<String, ExportError> {
    use base64::Engine as _;
    let new_event = &record.event;
    // Sealed personal fields travel as the stored bytes; `payload` shows the rest.
    let event = ledger_app::personal::open_redacted(
        &new_event.event_type,
        new_event.schema_version,
        &new_event.payload,
    )
    .map_err(|source| ExportError {
        position: record.position,
        event_type: new_event.event_type.clone(),
        source,
    })?;
    let line = ExportLine {
        position: record.position.get(),
        event_type: &new_event.event_type,
        schema_version: new_event.schema_version,
        stream: record.stream.as_str(),
        stream_version: record.stream_version,
        event_id: new_event.event_id.to_string(),
        occurred_at: new_event.occurred_at.to_string(),
        recorded_at: record.recorded_at.to_string(),
        actor: new_event.actor.as_str(),
        correlation_id: new_event.correlation_id.map(|id| id.to_string()),
        causation_id: new_event.causation_id.map(|id| id.to_string()),
        origin: new_event.origin.as_deref(),
        payload: event.to_json(),
        sealed: (new_event.payload.first() == Some(&ledger_domain::events::PAYLOAD_SEALED))
            .then(|| base64::engine::general_purpose::STANDARD.encode(&new_event.payload)),
        prev_hash: hex::encode(record.prev_hash),
        hash: hex::encode(record.hash),
    };
    Ok(serde_json::to_string(&line).expect("an export line is plain JSON and always serialises"))
}

#[cfg(test)]
mod tests {
    use super::parse_line;

    /// The problem of a line that is not an event, as `line N: …` will lead it.
    fn problem(text: &str) -> String {
        match parse_line(text) {
            Ok(_) => panic!("{text} parsed"),
            Err(error) => error.to_string(),
        }
    }

    #[test]
    fn a_line_that_is_not_an_event_is_told_so_in_its_own_columns() {
        // A JSON error is placed in the line's columns: the line's number is the caller's.
        let truncated = problem(r#"{"type":"ContactRecorded","payload":{"summary":"cut"#);
        assert!(truncated.contains("at column "), "{truncated}");
        assert!(!truncated.contains("line 1"), "{truncated}");
        // Not an object at all: what a line is, not a parser's type names.
        for text in ["[]", "42", r#""text""#] {
            let said = problem(text);
            assert!(
                said.contains("a line is one JSON object, an event"),
                "{said}"
            );
            assert!(!said.contains("RawLine"), "{said}");
        }
    }

    #[test]
    fn a_field_of_the_wrong_type_is_named() {
        assert_eq!(
            problem(r#"{"type":"ContactRecorded","schemaVersion":"1"}"#),
            r#"schemaVersion: invalid type: string "1", expected u16 at column 45"#
        );
        let negative = problem(r#"{"type":"ContactRecorded","expectedVersion":-1}"#);
        assert!(negative.starts_with("expectedVersion: "), "{negative}");
        let numeric = problem(r#"{"type":"ContactRecorded","occurredAt":20250301}"#);
        assert!(numeric.starts_with("occurredAt: invalid type"), "{numeric}");
        // Text after the object is the line's problem, not a field's.
        let trailing = problem(r#"{"type":"ContactRecorded"} x"#);
        assert!(
            trailing.starts_with("(json): not a valid event line: trailing characters"),
            "{trailing}"
        );
    }
}
