//! Segment rules: a TOML file of `[[segment]]` tables, each a name, a description and a rule
//! written in CEL (the Common Expression Language, <https://github.com/google/cel-spec>) over
//! the metrics in [`VARIABLES`](crate::VARIABLES).
//!
//! Loading checks everything a rule can get wrong before any customer is evaluated, and
//! rejects the file with a [`RuleError`] naming the segment and the line and column in the
//! file: a TOML error, a key a table does not have (naming the table, the key and the keys
//! accepted there), a bad or repeated name, an empty or overlong description or rule, a CEL
//! syntax error, an identifier that is not a variable, a comparison that can never hold (see
//! `TypeCheck`: a variable compared with a value of another type, a boolean or null ordered,
//! a channel that does not exist, a value outside a variable's bounds), and a rule that does
//! not give a boolean (or fails) for either probe customer (see `variables::probes`), which is
//! how a rule comparing a metric that can be null without testing it first is caught.

use std::ops::Range;

use cel::{Context, Program, Value};
use ledger_domain::kinds::SegmentName;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

use crate::variables::{self, CEL_TYPE_NAMES, VARIABLES};

mod types;

use types::free_identifiers;

/// The most segments one file may define. Every segment is evaluated for every customer, so
/// this bounds the cost of an evaluation to 64 rules per customer.
pub const SEGMENTS_MAX: usize = 64;

/// The longest rule accepted, in characters: room for a rule of twenty conditions with
/// comments, and a bound on the work one rule does per customer.
pub const RULE_CHARS_MAX: usize = 2_000;

/// The longest segment description accepted, in characters.
pub const DESCRIPTION_CHARS_MAX: usize = 500;

/// The largest rules file accepted, in bytes (64 segments of the longest rules fit well).
pub const RULES_FILE_BYTES_MAX: usize = 512 * 1024;

/// The rules file shipped with the crate: the built-in segments, written in the same language
/// an analyst uses.
pub const SHIPPED_RULES: &str = include_str!("../segments.toml");

/// The keys the top level of a rules file accepts.
const FILE_KEYS: &[&str] = &["segment"];

/// The keys a `[[segment]]` table accepts, all required.
const SEGMENT_KEYS: &[&str] = &["name", "description", "rule"];

/// A rules file that could not be loaded, and where: `line` and `column` (1-based, columns in
/// characters) are positions in the file. When a rule's text in the file differs from the
/// rule itself (a basic string with escapes), the position is where the rule's string starts
/// and the message gives the position inside the rule; write rules as literal strings
/// (`'…'` or `'''…'''`) to get exact positions.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}:{column}: {}{message}", segment.as_ref().map(|name| format!("segment `{name}`: ")).unwrap_or_default())]
pub struct RuleError {
    /// The file's name as given to [`SegmentRules::from_toml`].
    pub file: String,
    /// The segment at fault; `None` for an error in the file as a whole (TOML syntax, a key of
    /// the top level), or in a `[[segment]]` table whose name is missing or not a string.
    pub segment: Option<String>,
    pub line: usize,
    pub column: usize,
    pub message: String,
}

/// One loaded segment rule.
#[derive(Debug)]
pub struct SegmentRule {
    name: String,
    description: String,
    rule: String,
    program: Program,
}

impl SegmentRule {
    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn description(&self) -> &str {
        &self.description
    }

    /// The rule's CEL source, as written.
    pub fn rule(&self) -> &str {
        &self.rule
    }

    pub(crate) fn program(&self) -> &Program {
        &self.program
    }
}

/// A checked set of segment rules, in file order.
#[derive(Debug)]
pub struct SegmentRules {
    rules: Vec<SegmentRule>,
}

/// One `[[segment]]` table as the file holds it; each span is its string value's, quotes
/// included.
struct SegmentEntry {
    name: Spanned<String>,
    description: Spanned<String>,
    rule: Spanned<String>,
}

/// Why a file's layout is refused: where, the segment when its name is known, and the message.
type LayoutRefusal = (Range<usize>, Option<String>, String);

impl SegmentRules {
    /// The built-in segments of [`SHIPPED_RULES`] (`segments.toml`).
    pub fn shipped() -> Result<Self, RuleError> {
        Self::from_toml("segments.toml", SHIPPED_RULES)
    }

    /// Loads and checks the rules in `text`; `file` names it in errors.
    pub fn from_toml(file: &str, text: &str) -> Result<Self, RuleError> {
        let at = |span: Range<usize>, segment: Option<&str>, message: String| {
            let (line, column) = line_column(text, span.start);
            RuleError {
                file: file.to_owned(),
                segment: segment.map(str::to_owned),
                line,
                column,
                message,
            }
        };
        if text.len() > RULES_FILE_BYTES_MAX {
            return Err(at(
                0..0,
                None,
                format!(
                    "a rules file is at most {RULES_FILE_BYTES_MAX} bytes; this one is {}",
                    text.len()
                ),
            ));
        }
        let segments = read_layout(text)
            .map_err(|(span, segment, message)| at(span, segment.as_deref(), message))?;
        if segments.is_empty() {
            return Err(at(
                0..0,
                None,
                "a rules file defines at least one segment (`[[segment]]`); remove the file to \
                 use the shipped rules"
                    .to_owned(),
            ));
        }
        if segments.len() > SEGMENTS_MAX {
            let extra = segments[SEGMENTS_MAX].name.span();
            return Err(at(
                extra,
                None,
                format!("a rules file defines at most {SEGMENTS_MAX} segments"),
            ));
        }
        let checker = Checker::new();
        let mut rules: Vec<SegmentRule> = Vec::with_capacity(segments.len());
        for entry in segments {
            let name = entry.name.get_ref().clone();
            let name_span = inside_quotes(entry.name.span());
            match SegmentName::parse("name", &name) {
                Ok(parsed) if parsed.as_str() == name => {}
                Ok(_) => {
                    return Err(at(
                        name_span,
                        Some(&name),
                        "a segment name has no surrounding spaces".to_owned(),
                    ));
                }
                Err(error) => return Err(at(name_span, Some(&name), error.rule)),
            }
            if rules.iter().any(|rule| rule.name == name) {
                return Err(at(
                    name_span,
                    Some(&name),
                    "another segment already has this name".to_owned(),
                ));
            }
            let description = entry.description.get_ref();
            if let Some(problem) = bounded_text(description, DESCRIPTION_CHARS_MAX, "description") {
                return Err(at(
                    inside_quotes(entry.description.span()),
                    Some(&name),
                    problem,
                ));
            }
            let source = entry.rule.get_ref();
            let located = Located {
                file: text,
                span: entry.rule.span(),
                rule: source,
            };
            if let Some(problem) = bounded_text(source, RULE_CHARS_MAX, "rule") {
                return Err(at(located.position(0), Some(&name), problem));
            }
            let program = checker.check(source).map_err(|(offset, message)| {
                let (span, message) = located.locate(offset, message);
                at(span, Some(&name), message)
            })?;
            rules.push(SegmentRule {
                name,
                description: description.clone(),
                rule: source.clone(),
                program,
            });
        }
        Ok(Self { rules })
    }

    /// Every rule, in file order.
    pub fn rules(&self) -> &[SegmentRule] {
        &self.rules
    }

    /// The rule named `name`, if there is one.
    pub fn get(&self, name: &str) -> Option<&SegmentRule> {
        self.rules.iter().find(|rule| rule.name == name)
    }
}

/// What is wrong with `text` as a description or rule, if anything.
fn bounded_text(text: &str, max: usize, what: &str) -> Option<String> {
    let chars = text.chars().count();
    if text.trim().is_empty() {
        return Some(format!("the {what} is empty"));
    }
    if chars > max {
        return Some(format!(
            "a {what} is at most {max} characters; this one is {chars}"
        ));
    }
    None
}

/// The span of a string value without its opening quote, so an error points at its text.
fn inside_quotes(span: Range<usize>) -> Range<usize> {
    span.start.saturating_add(1)..span.end
}

/// The `[[segment]]` tables of `text`, in file order, once the file's layout is checked: every
/// key of every table is one that table accepts (else the refusal names the table, the key and
/// the keys accepted there) and every value has its type.
fn read_layout(text: &str) -> Result<Vec<SegmentEntry>, LayoutRefusal> {
    let root = DeTable::parse(text).map_err(|error| {
        (
            error.span().unwrap_or(0..0),
            None,
            error.message().to_owned(),
        )
    })?;
    let mut segments = None;
    for (key, value) in by_position(root.get_ref()) {
        if key.get_ref() != "segment" {
            return Err((
                key.span(),
                None,
                unknown_key(
                    key.get_ref(),
                    "at the top level of the file",
                    FILE_KEYS,
                    " (each segment is a `[[segment]]` table)",
                ),
            ));
        }
        segments = Some((key, value));
    }
    let Some((key, segments)) = segments else {
        return Ok(Vec::new());
    };
    match segments.get_ref() {
        DeValue::Array(tables) => tables
            .iter()
            .enumerate()
            .map(|(index, table)| read_segment(index + 1, table))
            .collect(),
        DeValue::Table(_) => Err((
            key.span(),
            None,
            "`[segment]` is a single table; write each segment as a `[[segment]]` table, with \
             double brackets"
                .to_owned(),
        )),
        other => Err((
            key.span(),
            None,
            format!(
                "`segment` is {}; each segment is a `[[segment]]` table",
                with_article(other.type_str())
            ),
        )),
    }
}

/// The `number`th (from 1) `[[segment]]` table, checked: its keys are [`SEGMENT_KEYS`], each
/// a string.
fn read_segment(number: usize, item: &Spanned<DeValue<'_>>) -> Result<SegmentEntry, LayoutRefusal> {
    let place = format!("`[[segment]]` number {number}");
    let DeValue::Table(table) = item.get_ref() else {
        return Err((
            item.span(),
            None,
            format!(
                "{place} is {}; each segment is a table of {}",
                with_article(item.get_ref().type_str()),
                listed(SEGMENT_KEYS)
            ),
        ));
    };
    let value_of = |wanted: &str| {
        table
            .iter()
            .find(|(key, _)| key.get_ref() == wanted)
            .map(|(_, value)| value)
    };
    let name = value_of("name")
        .and_then(|value| value.get_ref().as_str())
        .map(str::to_owned);
    for (key, value) in by_position(table) {
        if !SEGMENT_KEYS.contains(&key.get_ref().as_ref()) {
            return Err((
                key.span(),
                name,
                unknown_key(key.get_ref(), &format!("in {place}"), SEGMENT_KEYS, ""),
            ));
        }
        if !value.get_ref().is_str() {
            return Err((
                value.span(),
                name,
                format!(
                    "`{}` in {place} is {}; it must be a string",
                    key.get_ref(),
                    with_article(value.get_ref().type_str())
                ),
            ));
        }
    }
    let text_of = |wanted: &str| match value_of(wanted) {
        Some(value) => Ok(Spanned::new(
            value.span(),
            value.get_ref().as_str().unwrap_or_default().to_owned(),
        )),
        None => Err((
            item.span(),
            name.clone(),
            format!(
                "{place} has no `{wanted}`; a segment has {}",
                listed(SEGMENT_KEYS)
            ),
        )),
    };
    Ok(SegmentEntry {
        name: text_of("name")?,
        description: text_of("description")?,
        rule: text_of("rule")?,
    })
}

/// A table's entries in the order the file has them (the parsed table is sorted by key).
fn by_position<'t, 'i>(
    table: &'t DeTable<'i>,
) -> Vec<(
    &'t Spanned<toml::de::DeString<'i>>,
    &'t Spanned<DeValue<'i>>,
)> {
    let mut entries: Vec<_> = table.iter().collect();
    entries.sort_by_key(|(key, _)| key.span().start);
    entries
}

/// The refusal of `key` where it sits (`place`), naming the keys accepted there and the
/// nearest of them when it looks like a slip.
fn unknown_key(key: &str, place: &str, accepted: &[&str], note: &str) -> String {
    let known = match accepted {
        [only] => format!("the only key accepted there is `{only}`{note}"),
        _ => format!("the keys accepted there are {}{note}", listed(accepted)),
    };
    let hint = nearest(key, accepted.iter().copied())
        .map(|near| format!("; did you mean `{near}`?"))
        .unwrap_or_default();
    format!("unknown key `{key}` {place}; {known}{hint}")
}

/// `words` as `` `a`, `b` and `c` ``.
fn listed(words: &[&str]) -> String {
    let quoted: Vec<String> = words.iter().map(|word| format!("`{word}`")).collect();
    match quoted.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} and {last}", rest.join(", ")),
        _ => quoted.concat(),
    }
}

/// `noun` after "a" or "an".
fn with_article(noun: &str) -> String {
    let article = if noun.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    };
    format!("{article} {noun}")
}

/// The candidate `word` is most likely a slip for: one it begins (three characters at
/// least), or one within two edits (a third of the candidate's length), ignoring case.
fn nearest<'c>(word: &str, candidates: impl Iterator<Item = &'c str>) -> Option<&'c str> {
    let word = word.to_lowercase();
    candidates
        .filter_map(|candidate| {
            let lower = candidate.to_lowercase();
            if word.chars().count() >= 3 && lower.starts_with(&word) {
                return Some((0, candidate));
            }
            let distance = edit_distance(&word, &lower);
            (distance <= 2 && distance * 3 <= lower.chars().count())
                .then_some((distance, candidate))
        })
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, candidate)| candidate)
}

/// The edits (insertions, deletions, substitutions and swaps of neighbours) between `a` and
/// `b`: the optimal string alignment distance.
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let width = b.len() + 1;
    let mut distances: Vec<usize> = vec![0; (a.len() + 1) * width];
    for (i, row) in distances.chunks_mut(width).enumerate() {
        row[0] = i;
    }
    for (j, cell) in distances.iter_mut().take(width).enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let substitution = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (distances[(i - 1) * width + j] + 1)
                .min(distances[i * width + j - 1] + 1)
                .min(distances[(i - 1) * width + j - 1] + substitution);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(distances[(i - 2) * width + j - 2] + 1);
            }
            distances[i * width + j] = best;
        }
    }
    distances[a.len() * width + b.len()]
}

/// Checks a rule's CEL source: syntax, identifiers, and a boolean result for the probes.
struct Checker {
    probes: [(&'static str, crate::CustomerMetrics); 2],
}

impl Checker {
    fn new() -> Self {
        Self {
            probes: variables::probes(),
        }
    }

    /// The compiled rule, or the byte offset in `source` of what is wrong and why.
    fn check(&self, source: &str) -> Result<Program, (usize, String)> {
        let program = Program::compile(source).map_err(|errors| {
            // The parser reports follow-on errors too; the first syntax error is the cause.
            let error = errors
                .errors
                .iter()
                .find(|error| error.msg.starts_with("Syntax error"))
                .or_else(|| errors.errors.first());
            match error {
                Some(error) => {
                    let line = usize::try_from(error.pos.0).unwrap_or(1);
                    let column = usize::try_from(error.pos.1).unwrap_or(1);
                    (byte_at(source, line, column), error.msg.clone())
                }
                None => (0, "the rule does not parse".to_owned()),
            }
        })?;
        let mut free = Vec::new();
        free_identifiers(program.expression(), &mut Vec::new(), &mut free);
        for (name, id) in free {
            let known = VARIABLES.iter().any(|variable| variable.name == name)
                || CEL_TYPE_NAMES.contains(&name.as_str());
            if !known {
                let offset = program
                    .source_info()
                    .offset_for(id)
                    .and_then(|(start, _)| usize::try_from(start).ok())
                    .unwrap_or(0);
                let names: Vec<&str> = VARIABLES.iter().map(|variable| variable.name).collect();
                return Err((
                    offset,
                    format!(
                        "`{name}` is not a variable; the variables are {}",
                        names.join(", ")
                    ),
                ));
            }
        }
        types::check(&program)?;
        let root = Context::default();
        // The customer with every metric present is tried first: a rule failing for it fails
        // for another reason than a null, where the hint about nulls would mislead. The hint
        // is for a rule that fails only for the customer whose optional metrics are null (the
        // first probe).
        for (index, (probe, metrics)) in self.probes.iter().enumerate().rev() {
            let mut scope = root.new_inner_scope();
            variables::bind(&mut scope, metrics);
            match program.execute(&scope) {
                Ok(Value::Bool(_)) => {}
                Ok(other) => {
                    return Err((
                        0,
                        format!(
                            "the rule must be true or false, but for {probe} it gives {other:?}"
                        ),
                    ));
                }
                Err(error) => {
                    let hint = if index == 0 {
                        "; a variable that can be null must be tested first, e.g. \
                         `last_csat != null && last_csat <= 3`"
                    } else {
                        ""
                    };
                    return Err((0, format!("the rule fails for {probe}: {error}{hint}")));
                }
            }
        }
        Ok(program)
    }
}

/// A rule's text and where its string value sits in the file.
struct Located<'a> {
    file: &'a str,
    /// The span of the string value, quotes included.
    span: Range<usize>,
    rule: &'a str,
}

impl Located<'_> {
    /// Where the rule's text starts in the file, if the file holds it verbatim (a literal
    /// string, or a basic string without escapes).
    fn verbatim_start(&self) -> Option<usize> {
        let raw = self.file.get(self.span.clone())?;
        let (open, close) = if raw.starts_with("'''") || raw.starts_with("\"\"\"") {
            (3, 3)
        } else {
            (1, 1)
        };
        let mut inner = raw.get(open..raw.len().checked_sub(close)?)?;
        let mut start = self.span.start + open;
        // TOML drops a newline right after the opening of a multi-line string.
        if open == 3 {
            for newline in ["\r\n", "\n"] {
                if let Some(rest) = inner.strip_prefix(newline) {
                    inner = rest;
                    start += newline.len();
                    break;
                }
            }
        }
        (inner == self.rule).then_some(start)
    }

    /// The file span of byte `offset` of the rule (or of the rule's string, when the file
    /// does not hold the rule verbatim).
    fn position(&self, offset: usize) -> Range<usize> {
        match self.verbatim_start() {
            Some(start) => start + offset..start + offset,
            None => self.span.clone(),
        }
    }

    /// The file span for an error at byte `offset` of the rule, and the message, which names
    /// the position inside the rule when the file position cannot be exact.
    fn locate(&self, offset: usize, message: String) -> (Range<usize>, String) {
        if self.verbatim_start().is_some() {
            return (self.position(offset), message);
        }
        let (line, column) = line_column(self.rule, offset);
        (
            self.span.clone(),
            format!("at {line}:{column} of the rule: {message}"),
        )
    }
}

/// The 1-based line and column (in characters) of byte `offset` of `text`.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |newline| newline + 1);
    let column = before
        .get(line_start..)
        .map_or(0, |part| part.chars().count())
        + 1;
    (line, column)
}

/// The byte offset in `text` of 1-based `line` and `column` (in characters), clamped to the
/// text.
fn byte_at(text: &str, line: usize, column: usize) -> usize {
    let mut offset = 0;
    for (index, content) in text.split_inclusive('\n').enumerate() {
        if index + 1 == line {
            let within = content
                .char_indices()
                .nth(column.saturating_sub(1))
                .map_or(content.len(), |(byte, _)| byte);
            return offset + within;
        }
        offset += content.len();
    }
    text.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_convert_both_ways() {
        let text = "ab\n长城 x\n";
        assert_eq!(line_column(text, 0), (1, 1));
        assert_eq!(line_column(text, 3), (2, 1));
        assert_eq!(line_column(text, 10), (2, 4));
        assert_eq!(byte_at(text, 2, 4), 10);
        assert_eq!(byte_at(text, 1, 3), 2);
        assert_eq!(byte_at(text, 9, 1), text.len());
    }
}
