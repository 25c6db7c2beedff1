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

use cel::common::ast::{CallExpr, EntryExpr, Expr, LiteralValue, SelectExpr, operators};
use cel::{Context, IdedExpr, Program, Value};
use ledger_domain::kinds::SegmentName;
use ledger_domain::values::Channel;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

use crate::variables::{self, CEL_TYPE_NAMES, VARIABLES, Variable, VariableKind, channel_key};

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
        TypeCheck { program: &program }.visit(program.expression(), &mut Vec::new())?;
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

/// A CEL type as far as loading can tell it without a customer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CelType {
    Int,
    Uint,
    Double,
    Bool,
    String,
    Bytes,
    Null,
    List,
    Map,
    Type,
}

impl CelType {
    fn of_literal(literal: &LiteralValue) -> Self {
        match literal {
            LiteralValue::Boolean(_) => Self::Bool,
            LiteralValue::Bytes(_) => Self::Bytes,
            LiteralValue::Double(_) => Self::Double,
            LiteralValue::Int(_) => Self::Int,
            LiteralValue::Null => Self::Null,
            LiteralValue::String(_) => Self::String,
            LiteralValue::UInt(_) => Self::Uint,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Self::Int => "int",
            Self::Uint => "uint",
            Self::Double => "double",
            Self::Bool => "bool",
            Self::String => "string",
            Self::Bytes => "bytes",
            Self::Null => "null",
            Self::List => "list",
            Self::Map => "map",
            Self::Type => "type",
        }
    }

    fn is_number(self) -> bool {
        matches!(self, Self::Int | Self::Uint | Self::Double)
    }

    /// Whether CEL can tell two values of these types equal: the same type, or two numbers.
    fn comparable_with(self, other: Self) -> bool {
        self == other || (self.is_number() && other.is_number())
    }
}

/// What loading knows of an expression in a rule.
#[derive(Debug, Clone)]
struct Known {
    cel_type: CelType,
    /// The expression can be null (a variable documented "or null").
    nullable: bool,
    /// The variable this expression is (`contacts_90d.PHONE` for a channel's count).
    variable: Option<Named>,
    /// The literal this expression is.
    literal: Option<LiteralValue>,
}

/// A variable, or a channel's count in `contacts_90d`, as a rule names it.
#[derive(Debug, Clone)]
struct Named {
    text: String,
    cel_type: &'static str,
    /// The bounds of an int (inclusive), where the metric has them.
    min: Option<i64>,
    max: Option<i64>,
    channel_counts: bool,
}

impl Known {
    fn of(cel_type: CelType) -> Self {
        Self {
            cel_type,
            nullable: false,
            variable: None,
            literal: None,
        }
    }

    fn literal(literal: &LiteralValue) -> Self {
        Self {
            literal: Some(literal.clone()),
            ..Self::of(CelType::of_literal(literal))
        }
    }

    fn variable(variable: &Variable) -> Self {
        let (cel_type, min, max) = match variable.kind {
            VariableKind::Int { min, max } => (CelType::Int, min, max),
            VariableKind::Double => (CelType::Double, None, None),
            VariableKind::Bool => (CelType::Bool, None, None),
            VariableKind::ChannelCounts => (CelType::Map, None, None),
        };
        Self {
            cel_type,
            nullable: variable.nullable,
            variable: Some(Named {
                text: variable.name.to_owned(),
                cel_type: variable.cel_type(),
                min,
                max,
                channel_counts: variable.kind == VariableKind::ChannelCounts,
            }),
            literal: None,
        }
    }

    /// A channel's count in `contacts_90d`, written `text`.
    fn channel_count(text: String) -> Self {
        Self {
            variable: Some(Named {
                text,
                cel_type: "int",
                min: Some(0),
                max: None,
                channel_counts: false,
            }),
            ..Self::of(CelType::Int)
        }
    }

    fn is_channel_counts(&self) -> bool {
        self.variable
            .as_ref()
            .is_some_and(|variable| variable.channel_counts)
    }

    /// The expression for a message: "`corporate` (a bool)", "a string".
    fn described(&self) -> String {
        match &self.variable {
            Some(variable) => format!("`{}` ({})", variable.text, with_article(variable.cel_type)),
            None => with_article(self.cel_type.name()),
        }
    }
}

/// A comparison operator, its CEL spelling, and its mirror (`a < b` is `b > a`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Comparison {
    Equal,
    NotEqual,
    Less,
    LessOrEqual,
    Greater,
    GreaterOrEqual,
}

impl Comparison {
    fn of(function: &str) -> Option<Self> {
        Some(match function {
            operators::EQUALS => Self::Equal,
            operators::NOT_EQUALS => Self::NotEqual,
            operators::LESS => Self::Less,
            operators::LESS_EQUALS => Self::LessOrEqual,
            operators::GREATER => Self::Greater,
            operators::GREATER_EQUALS => Self::GreaterOrEqual,
            _ => return None,
        })
    }

    fn symbol(self) -> &'static str {
        match self {
            Self::Equal => "==",
            Self::NotEqual => "!=",
            Self::Less => "<",
            Self::LessOrEqual => "<=",
            Self::Greater => ">",
            Self::GreaterOrEqual => ">=",
        }
    }

    fn mirrored(self) -> Self {
        match self {
            Self::Less => Self::Greater,
            Self::LessOrEqual => Self::GreaterOrEqual,
            Self::Greater => Self::Less,
            Self::GreaterOrEqual => Self::LessOrEqual,
            same => same,
        }
    }

    fn is_ordering(self) -> bool {
        !matches!(self, Self::Equal | Self::NotEqual)
    }

    /// What a comparison that can never hold is: never true, or (`!=`) always true.
    fn outcome(self) -> &'static str {
        if self == Self::NotEqual {
            "always true"
        } else {
            "never true"
        }
    }
}

/// A refusal: the byte offset in the rule of what is wrong, and why.
type Refusal = (usize, String);

/// Checks every comparison in a rule against the types of what it compares, so that a rule
/// that can never match is refused when it is loaded rather than giving an empty segment
/// forever: a variable compared (`==`, `!=`, `in`) with a value of another type; a boolean,
/// null, map or list ordered (`<`, `>=` ...), or a number ordered against a string; null
/// compared with a variable that is never null; a key of `contacts_90d` that is not a channel;
/// and an int compared with a value outside its bounds (a CSAT answer of 6, a count below 0).
/// What it cannot type (a comprehension's variable, a function's result) it leaves to the
/// probes.
struct TypeCheck<'p> {
    program: &'p Program,
}

impl TypeCheck<'_> {
    /// What is known of `expr`, after checking every comparison inside it.
    fn visit(&self, expr: &IdedExpr, bound: &mut Vec<String>) -> Result<Option<Known>, Refusal> {
        match &expr.expr {
            Expr::Literal(literal) => Ok(Some(Known::literal(literal))),
            Expr::Ident(name) if bound.contains(name) => Ok(None),
            Expr::Ident(name) => Ok(match Variable::named(name) {
                Some(variable) => Some(Known::variable(variable)),
                None if CEL_TYPE_NAMES.contains(&name.as_str()) => Some(Known::of(CelType::Type)),
                None => None,
            }),
            Expr::Select(select) => {
                let operand = self.visit(&select.operand, bound)?;
                self.select(expr, select, operand)
            }
            Expr::Call(call) => {
                if let Some(target) = &call.target {
                    self.visit(target, bound)?;
                }
                let mut arguments = Vec::with_capacity(call.args.len());
                for argument in &call.args {
                    arguments.push(self.visit(argument, bound)?);
                }
                self.call(expr, call, &arguments)
            }
            Expr::List(list) => {
                for element in &list.elements {
                    self.visit(element, bound)?;
                }
                Ok(Some(Known::of(CelType::List)))
            }
            Expr::Map(map) => {
                for entry in &map.entries {
                    self.entry(&entry.expr, bound)?;
                }
                Ok(Some(Known::of(CelType::Map)))
            }
            Expr::Struct(structure) => {
                for entry in &structure.entries {
                    self.entry(&entry.expr, bound)?;
                }
                Ok(None)
            }
            Expr::Comprehension(comprehension) => {
                self.visit(&comprehension.iter_range, bound)?;
                self.visit(&comprehension.accu_init, bound)?;
                let depth = bound.len();
                bound.push(comprehension.iter_var.clone());
                bound.extend(comprehension.iter_var2.clone());
                bound.push(comprehension.accu_var.clone());
                let checked = [
                    &comprehension.loop_cond,
                    &comprehension.loop_step,
                    &comprehension.result,
                ]
                .into_iter()
                .try_for_each(|part| self.visit(part, bound).map(drop));
                bound.truncate(depth);
                checked.map(|()| None)
            }
            Expr::Unspecified => Ok(None),
        }
    }

    fn entry(&self, entry: &EntryExpr, bound: &mut Vec<String>) -> Result<(), Refusal> {
        match entry {
            EntryExpr::MapEntry(entry) => {
                self.visit(&entry.key, bound)?;
                self.visit(&entry.value, bound)?;
            }
            EntryExpr::StructField(field) => {
                self.visit(&field.value, bound)?;
            }
        }
        Ok(())
    }

    /// `operand.field`, or `has(operand.field)`: only `contacts_90d` has fields, its channels.
    fn select(
        &self,
        expr: &IdedExpr,
        select: &SelectExpr,
        operand: Option<Known>,
    ) -> Result<Option<Known>, Refusal> {
        let Some(Known {
            variable: Some(variable),
            ..
        }) = operand
        else {
            return Ok(None);
        };
        let text = format!("{}.{}", variable.text, select.field);
        if !variable.channel_counts {
            return Err((
                self.start(expr),
                format!(
                    "`{text}`: `{}` is {}, which has no fields; only `contacts_90d` has \
                     (its channels: `contacts_90d.PHONE` ...)",
                    variable.text,
                    with_article(variable.cel_type)
                ),
            ));
        }
        self.channel(expr, &select.field, &text)?;
        Ok(Some(if select.test {
            Known::of(CelType::Bool)
        } else {
            Known::channel_count(text)
        }))
    }

    /// Refuses `key` of `contacts_90d` unless it is a channel's key.
    fn channel(&self, expr: &IdedExpr, key: &str, text: &str) -> Result<(), Refusal> {
        let keys = Channel::ALL.map(channel_key);
        if keys.contains(&key) {
            return Ok(());
        }
        let hint = nearest(key, keys.iter().copied())
            .map(|near| format!("; did you mean `{near}`?"))
            .unwrap_or_default();
        Err((
            self.start(expr),
            format!(
                "`{text}`: `{key}` is not a channel, so `contacts_90d` never has it; its keys \
                 are the channels {}{hint}",
                keys.join(", ")
            ),
        ))
    }

    fn call(
        &self,
        expr: &IdedExpr,
        call: &CallExpr,
        arguments: &[Option<Known>],
    ) -> Result<Option<Known>, Refusal> {
        let function = call.func_name.as_str();
        if let (Some(comparison), [left, right]) = (Comparison::of(function), arguments) {
            if let (Some(left), Some(right)) = (left, right) {
                let text = format!(
                    "`{} {} {}`",
                    self.operand_text(&call.args[0]),
                    comparison.symbol(),
                    self.operand_text(&call.args[1])
                );
                self.compare(self.start(expr), &text, comparison, left, right)?;
            }
            return Ok(Some(Known::of(CelType::Bool)));
        }
        let known = match (function, arguments) {
            (operators::IN, [element, container]) => {
                self.membership(expr, call, element.as_ref(), container.as_ref())?;
                Some(Known::of(CelType::Bool))
            }
            (operators::INDEX, [Some(container), key]) => {
                self.index(expr, call, container, key.as_ref())?
            }
            (operators::LOGICAL_AND | operators::LOGICAL_OR | operators::LOGICAL_NOT, _) => {
                Some(Known::of(CelType::Bool))
            }
            (
                operators::ADD
                | operators::SUBSTRACT
                | operators::MULTIPLY
                | operators::DIVIDE
                | operators::MODULO,
                [Some(left), Some(right)],
            ) if left.cel_type == right.cel_type && left.cel_type.is_number() => {
                Some(Known::of(left.cel_type))
            }
            (operators::NEGATE, [Some(operand)]) if operand.cel_type.is_number() => {
                Some(Known::of(operand.cel_type))
            }
            ("size" | "int", _) => Some(Known::of(CelType::Int)),
            ("uint", _) => Some(Known::of(CelType::Uint)),
            ("double", _) => Some(Known::of(CelType::Double)),
            ("string", _) => Some(Known::of(CelType::String)),
            ("type", _) => Some(Known::of(CelType::Type)),
            _ => None,
        };
        Ok(known)
    }

    /// `container[key]`: only `contacts_90d` has keys, its channels.
    fn index(
        &self,
        expr: &IdedExpr,
        call: &CallExpr,
        container: &Known,
        key: Option<&Known>,
    ) -> Result<Option<Known>, Refusal> {
        let Some(variable) = &container.variable else {
            return Ok(None);
        };
        let text = format!("{}[{}]", variable.text, self.text(&call.args[1]));
        if !variable.channel_counts {
            return Err((
                self.start(expr),
                format!(
                    "`{text}`: `{}` is {}, which has no keys; only `contacts_90d` has \
                     (its channels: `contacts_90d[\"PHONE\"]` ...)",
                    variable.text,
                    with_article(variable.cel_type)
                ),
            ));
        }
        match key.and_then(|key| key.literal.as_ref()) {
            Some(LiteralValue::String(channel)) => self.channel(expr, channel.inner(), &text)?,
            Some(other) => {
                return Err((
                    self.start(expr),
                    format!(
                        "`{text}`: the keys of `contacts_90d` are channels, strings such as \
                         \"PHONE\"; this key is {}",
                        with_article(CelType::of_literal(other).name())
                    ),
                ));
            }
            None => {}
        }
        Ok(Some(Known::channel_count(text)))
    }

    /// `element in container`: a list's elements compared as `==` is, a map's keys as its
    /// own.
    fn membership(
        &self,
        expr: &IdedExpr,
        call: &CallExpr,
        element: Option<&Known>,
        container: Option<&Known>,
    ) -> Result<(), Refusal> {
        let whole = format!(
            "{} in {}",
            self.text(&call.args[0]),
            self.text(&call.args[1])
        );
        match (&call.args[1].expr, container) {
            (Expr::List(list), _) => {
                let Some(element) = element else {
                    return Ok(());
                };
                for item in &list.elements {
                    let Expr::Literal(literal) = &item.expr else {
                        continue;
                    };
                    let text = format!("`{whole}`, for its element `{}`,", self.text(item));
                    self.compare(
                        self.start(item),
                        &text,
                        Comparison::Equal,
                        element,
                        &Known::literal(literal),
                    )?;
                }
                Ok(())
            }
            (_, Some(container)) if container.is_channel_counts() => {
                match element.and_then(|element| element.literal.as_ref()) {
                    Some(LiteralValue::String(channel)) => {
                        self.channel(expr, channel.inner(), &whole)
                    }
                    Some(other) => Err((
                        self.start(expr),
                        format!(
                            "`{whole}` is never true: the keys of `contacts_90d` are channels, \
                             strings such as \"PHONE\"; this is {}",
                            with_article(CelType::of_literal(other).name())
                        ),
                    )),
                    None => Ok(()),
                }
            }
            (_, Some(container)) if !matches!(container.cel_type, CelType::List | CelType::Map) => {
                Err((
                    self.start(expr),
                    format!(
                        "`{whole}`: `in` looks in a list or a map, but its right is {}; \
                         e.g. `last_csat in [1, 2]`",
                        container.described()
                    ),
                ))
            }
            _ => Ok(()),
        }
    }

    /// Refuses `left comparison right` (`text` says which, quoted; `offset` is where) when it
    /// can never hold.
    fn compare(
        &self,
        offset: usize,
        text: &str,
        comparison: Comparison,
        left: &Known,
        right: &Known,
    ) -> Result<(), Refusal> {
        let refuse = |why: String| Err((offset, format!("{text} {why}")));
        // The side to advise about: the variable, if either side is one.
        let (subject, other, comparison_from_subject) =
            if left.variable.is_none() && right.variable.is_some() {
                (right, left, comparison.mirrored())
            } else {
                (left, right, comparison)
            };
        if left.cel_type == CelType::Null || right.cel_type == CelType::Null {
            let other_side = if left.cel_type == CelType::Null {
                right
            } else {
                left
            };
            if comparison.is_ordering() {
                return refuse(format!(
                    "orders null, which has no order; test for null first and compare with a \
                     number: e.g. `last_csat != null && last_csat {} 3`",
                    comparison.symbol()
                ));
            }
            if other_side.cel_type != CelType::Null && !other_side.nullable {
                let nullable: Vec<&str> = VARIABLES
                    .iter()
                    .filter(|variable| variable.nullable)
                    .map(|variable| variable.name)
                    .collect();
                return refuse(format!(
                    "is {}: {} is never null; only {} can be null",
                    comparison.outcome(),
                    other_side.described(),
                    nullable.join(", ")
                ));
            }
            return Ok(());
        }
        if !comparison.is_ordering() {
            if !left.cel_type.comparable_with(right.cel_type) {
                return refuse(format!(
                    "compares {} with {}, so it is {}; {}",
                    subject.described(),
                    other.described(),
                    comparison.outcome(),
                    advice(subject, comparison_from_subject, other)
                ));
            }
            return bounds(subject, comparison_from_subject, other).map_or(Ok(()), refuse);
        }
        for side in [subject, other] {
            if side.cel_type == CelType::Bool {
                let name = side
                    .variable
                    .as_ref()
                    .map_or("the condition", |variable| variable.text.as_str());
                return refuse(format!(
                    "orders {}, but true and false have no order to compare; test it as it \
                     is: `{name}`, or `!{name}` for false",
                    side.described()
                ));
            }
            if !side.cel_type.is_number()
                && !matches!(side.cel_type, CelType::String | CelType::Bytes)
            {
                return refuse(format!(
                    "orders {}, which has no order; compare a number, e.g. \
                     `contacts_90d.PHONE > 0`",
                    side.described()
                ));
            }
        }
        if !left.cel_type.comparable_with(right.cel_type) {
            return refuse(format!(
                "orders {} against {}, which CEL cannot do; {}",
                subject.described(),
                other.described(),
                advice(subject, comparison_from_subject, other)
            ));
        }
        bounds(subject, comparison_from_subject, other).map_or(Ok(()), refuse)
    }

    /// The byte offset in the rule where `expr` starts: its leftmost node's.
    fn start(&self, expr: &IdedExpr) -> usize {
        let mut start = self.offsets(expr.id).map_or(usize::MAX, |(start, _)| start);
        visit_children(expr, &mut |child| start = start.min(self.start(child)));
        if start == usize::MAX { 0 } else { start }
    }

    /// The rule's text of `expr`, for messages, as CEL writes it (an operand that is itself
    /// an operation in parentheses).
    fn text(&self, expr: &IdedExpr) -> String {
        let operand = |expr: &IdedExpr| self.operand_text(expr);
        let listed = |items: &[IdedExpr]| {
            items
                .iter()
                .map(|item| self.text(item))
                .collect::<Vec<_>>()
                .join(", ")
        };
        match &expr.expr {
            Expr::Ident(name) => name.clone(),
            Expr::Literal(literal) => literal_text(literal),
            Expr::Select(select) if select.test => {
                format!("has({}.{})", operand(&select.operand), select.field)
            }
            Expr::Select(select) => format!("{}.{}", operand(&select.operand), select.field),
            Expr::List(list) => format!("[{}]", listed(&list.elements)),
            Expr::Call(call) => match (call.func_name.as_str(), &call.target, call.args.as_slice())
            {
                (operators::INDEX, None, [container, key]) => {
                    format!("{}[{}]", operand(container), self.text(key))
                }
                (operators::NEGATE, None, [value]) => format!("-{}", operand(value)),
                (operators::LOGICAL_NOT, None, [value]) => format!("!{}", operand(value)),
                (operators::CONDITIONAL, None, [condition, then, otherwise]) => format!(
                    "{} ? {} : {}",
                    operand(condition),
                    operand(then),
                    operand(otherwise)
                ),
                (function, None, [left, right]) if operator_symbol(function).is_some() => format!(
                    "{} {} {}",
                    operand(left),
                    operator_symbol(function).unwrap_or(function),
                    operand(right)
                ),
                (function, Some(target), arguments) => {
                    format!("{}.{function}({})", operand(target), listed(arguments))
                }
                (function, None, arguments) => format!("{function}({})", listed(arguments)),
            },
            _ => {
                let source = &self.program.source_info().source;
                source
                    .get(self.start(expr)..=self.end(expr))
                    .map_or_else(|| "…".to_owned(), |text| text.trim().to_owned())
            }
        }
    }

    /// The rule's text of `expr` as an operand: in parentheses when it is an operation.
    fn operand_text(&self, expr: &IdedExpr) -> String {
        match &expr.expr {
            Expr::Call(call) if operator_symbol(&call.func_name).is_some() => {
                format!("({})", self.text(expr))
            }
            _ => self.text(expr),
        }
    }

    /// The byte offset of `expr`'s last byte: its rightmost node's.
    fn end(&self, expr: &IdedExpr) -> usize {
        let mut end = self.offsets(expr.id).map_or(0, |(_, end)| end);
        visit_children(expr, &mut |child| end = end.max(self.end(child)));
        end
    }

    /// The node's first and last byte offsets (inclusive).
    fn offsets(&self, id: u64) -> Option<(usize, usize)> {
        let (start, end) = self.program.source_info().offset_for(id)?;
        Some((usize::try_from(start).ok()?, usize::try_from(end).ok()?))
    }
}

/// How CEL writes the binary operator `function` (`_==_` is `==`), if it is one.
fn operator_symbol(function: &str) -> Option<&'static str> {
    if let Some(comparison) = Comparison::of(function) {
        return Some(comparison.symbol());
    }
    Some(match function {
        operators::LOGICAL_AND => "&&",
        operators::LOGICAL_OR => "||",
        operators::ADD => "+",
        operators::SUBSTRACT => "-",
        operators::MULTIPLY => "*",
        operators::DIVIDE => "/",
        operators::MODULO => "%",
        operators::IN => "in",
        _ => return None,
    })
}

/// Calls `each` on every direct child of `expr`.
fn visit_children(expr: &IdedExpr, each: &mut dyn FnMut(&IdedExpr)) {
    match &expr.expr {
        Expr::Call(call) => {
            if let Some(target) = &call.target {
                each(target);
            }
            call.args.iter().for_each(&mut *each);
        }
        Expr::Select(select) => each(&select.operand),
        Expr::List(list) => list.elements.iter().for_each(&mut *each),
        Expr::Map(map) => {
            for entry in &map.entries {
                if let EntryExpr::MapEntry(entry) = &entry.expr {
                    each(&entry.key);
                    each(&entry.value);
                }
            }
        }
        Expr::Comprehension(comprehension) => each(&comprehension.iter_range),
        Expr::Struct(_) | Expr::Ident(_) | Expr::Literal(_) | Expr::Unspecified => {}
    }
}

/// A literal as CEL writes it.
fn literal_text(literal: &LiteralValue) -> String {
    match literal {
        LiteralValue::Boolean(value) => value.inner().to_string(),
        LiteralValue::Bytes(_) => "b\"…\"".to_owned(),
        LiteralValue::Double(value) => format!("{:?}", value.inner()),
        LiteralValue::Int(value) => value.inner().to_string(),
        LiteralValue::Null => "null".to_owned(),
        LiteralValue::String(value) => format!("{:?}", value.inner()),
        LiteralValue::UInt(value) => format!("{}u", value.inner()),
    }
}

/// What would be accepted in place of comparing `subject` with `other`: the same comparison
/// with a value of `subject`'s type (taken from `other` when it spells one).
fn advice(subject: &Known, comparison: Comparison, other: &Known) -> String {
    let Some(variable) = &subject.variable else {
        return "compare values of one type".to_owned();
    };
    if variable.channel_counts {
        return "compare one channel's count: e.g. `contacts_90d.PHONE > 0`".to_owned();
    }
    let spelled = match &other.literal {
        Some(LiteralValue::String(text)) => text.inner().trim().to_lowercase(),
        Some(literal) => literal_text(literal),
        None => String::new(),
    };
    let (kind, value) = match subject.cel_type {
        CelType::Bool => {
            let falsy = ["false", "no", "n", "f", "0", "0.0", "0u"].contains(&spelled.as_str());
            ("a bool", (!falsy).to_string())
        }
        CelType::Int => (
            "a number",
            spelled
                .parse::<i64>()
                .ok()
                .or(variable.min)
                .unwrap_or(1)
                .to_string(),
        ),
        CelType::Double => (
            "a number",
            spelled
                .parse::<f64>()
                .map_or_else(|_| "0.5".to_owned(), |number| format!("{number:?}")),
        ),
        other => {
            return format!(
                "compare `{}` with {}",
                variable.text,
                with_article(other.name())
            );
        }
    };
    format!(
        "compare `{}` with {kind}: e.g. `{} {} {value}`",
        variable.text,
        variable.text,
        comparison.symbol()
    )
}

/// Why `subject comparison other` never holds, when `subject` is a bounded int and `other` a
/// number no value within the bounds satisfies.
fn bounds(subject: &Known, comparison: Comparison, other: &Known) -> Option<String> {
    let variable = subject.variable.as_ref()?;
    if variable.min.is_none() && variable.max.is_none() {
        return None;
    }
    let value = match other.literal.as_ref()? {
        LiteralValue::Int(value) => Number::Whole(i128::from(*value.inner())),
        LiteralValue::UInt(value) => Number::Whole(i128::from(*value.inner())),
        LiteralValue::Double(value) => Number::Fraction(*value.inner()),
        _ => return None,
    };
    let below_min = |strict: bool| variable.min.is_some_and(|min| value.below(min, strict));
    let above_max = |strict: bool| variable.max.is_some_and(|max| value.above(max, strict));
    let equal_impossible = below_min(true) || above_max(true) || !value.is_whole();
    let never = match comparison {
        Comparison::Equal | Comparison::NotEqual => equal_impossible,
        // var < v needs min < v; var <= v needs min <= v.
        Comparison::Less => below_min(false),
        Comparison::LessOrEqual => below_min(true),
        Comparison::Greater => above_max(false),
        Comparison::GreaterOrEqual => above_max(true),
    };
    never.then(|| {
        format!(
            "is {}: `{}` is {}{}",
            comparison.outcome(),
            variable.text,
            bounds_text(variable.min, variable.max),
            if subject.nullable { " (or null)" } else { "" }
        )
    })
}

/// The values an int within `min` and `max` takes, for messages.
fn bounds_text(min: Option<i64>, max: Option<i64>) -> String {
    /// A scale this short is listed value by value.
    const LISTED_VALUES_MAX: i64 = 11;
    match (min, max) {
        (Some(min), Some(max)) if max - min < LISTED_VALUES_MAX => {
            let values: Vec<String> = (min..=max).map(|value| value.to_string()).collect();
            format!("one of {}", values.join(", "))
        }
        (Some(min), Some(max)) => format!("{min} to {max}"),
        (Some(min), None) => format!("{min} or more"),
        (None, Some(max)) => format!("{max} or less"),
        (None, None) => "any int".to_owned(),
    }
}

/// A number literal a bounded int is compared with.
#[derive(Debug, Clone, Copy)]
enum Number {
    Whole(i128),
    Fraction(f64),
}

impl Number {
    fn is_whole(self) -> bool {
        match self {
            Self::Whole(_) => true,
            Self::Fraction(value) => value.fract() == 0.0,
        }
    }

    /// The number is below `bound` (`strict`), or at most it.
    fn below(self, bound: i64, strict: bool) -> bool {
        match self.cmp_bound(bound) {
            Some(std::cmp::Ordering::Less) => true,
            Some(std::cmp::Ordering::Equal) => !strict,
            _ => false,
        }
    }

    /// The number is above `bound` (`strict`), or at least it.
    fn above(self, bound: i64, strict: bool) -> bool {
        match self.cmp_bound(bound) {
            Some(std::cmp::Ordering::Greater) => true,
            Some(std::cmp::Ordering::Equal) => !strict,
            _ => false,
        }
    }

    fn cmp_bound(self, bound: i64) -> Option<std::cmp::Ordering> {
        match self {
            Self::Whole(value) => Some(value.cmp(&i128::from(bound))),
            // Bounds are small (scales and counts): an i32 holds them, and an f64 holds an
            // i32 exactly. A bound past an i32 is not compared.
            Self::Fraction(value) => value.partial_cmp(&f64::from(i32::try_from(bound).ok()?)),
        }
    }
}

/// Collects the identifiers of `expr` that no enclosing comprehension binds, with their node
/// ids (for positions).
fn free_identifiers(expr: &IdedExpr, bound: &mut Vec<String>, free: &mut Vec<(String, u64)>) {
    match &expr.expr {
        Expr::Ident(name) => {
            if !bound.contains(name) {
                free.push((name.clone(), expr.id));
            }
        }
        Expr::Call(call) => {
            if let Some(target) = &call.target {
                free_identifiers(target, bound, free);
            }
            for argument in &call.args {
                free_identifiers(argument, bound, free);
            }
        }
        Expr::Select(select) => free_identifiers(&select.operand, bound, free),
        Expr::List(list) => {
            for element in &list.elements {
                free_identifiers(element, bound, free);
            }
        }
        Expr::Map(map) => {
            for entry in &map.entries {
                entry_identifiers(&entry.expr, bound, free);
            }
        }
        Expr::Struct(structure) => {
            for entry in &structure.entries {
                entry_identifiers(&entry.expr, bound, free);
            }
        }
        Expr::Comprehension(comprehension) => {
            free_identifiers(&comprehension.iter_range, bound, free);
            free_identifiers(&comprehension.accu_init, bound, free);
            let depth = bound.len();
            bound.push(comprehension.iter_var.clone());
            bound.extend(comprehension.iter_var2.clone());
            bound.push(comprehension.accu_var.clone());
            free_identifiers(&comprehension.loop_cond, bound, free);
            free_identifiers(&comprehension.loop_step, bound, free);
            free_identifiers(&comprehension.result, bound, free);
            bound.truncate(depth);
        }
        Expr::Literal(_) | Expr::Unspecified => {}
    }
}

fn entry_identifiers(entry: &EntryExpr, bound: &mut Vec<String>, free: &mut Vec<(String, u64)>) {
    match entry {
        EntryExpr::MapEntry(entry) => {
            free_identifiers(&entry.key, bound, free);
            free_identifiers(&entry.value, bound, free);
        }
        EntryExpr::StructField(field) => free_identifiers(&field.value, bound, free),
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
