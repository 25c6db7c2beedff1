//! The type check of a segment rule at load: every comparison against what the variable
//! catalogue knows of each variable (its kind, bounds and nullability), so a comparison that can
//! never hold is refused before any customer is evaluated (see the parent module's docs).

use cel::common::ast::{CallExpr, EntryExpr, Expr, LiteralValue, SelectExpr, operators};
use cel::{IdedExpr, Program};
use ledger_domain::values::Channel;

use super::{nearest, with_article};
use crate::variables::{CEL_TYPE_NAMES, VARIABLES, Variable, VariableKind, channel_key};

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
    /// The bounds of a number (inclusive), where the metric has them.
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
            VariableKind::Double { min } => (CelType::Double, min, None),
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

/// Checks every comparison of `program` against the variable catalogue: the byte offset in
/// its source of the first that can never hold, and why.
pub(super) fn check(program: &Program) -> Result<(), Refusal> {
    TypeCheck { program }
        .visit(program.expression(), &mut Vec::new())
        .map(|_| ())
}

/// Checks every comparison in a rule against the types of what it compares, so that a rule
/// that can never match is refused when it is loaded rather than giving an empty segment
/// forever: a variable compared (`==`, `!=`, `in`) with a value of another type; a boolean,
/// null, map or list ordered (`<`, `>=` ...), or a number ordered against a string; null
/// compared with a variable that is never null; a key of `contacts_90d` that is not a channel;
/// and a number compared with a value outside its bounds (a CSAT answer of 6, a count below 0,
/// a negative loss ratio).
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
    // An int never equals a fraction; a double may.
    let fraction_impossible = subject.cel_type == CelType::Int && !value.is_whole();
    let equal_impossible = below_min(true) || above_max(true) || fraction_impossible;
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

/// The values a number within `min` and `max` takes, for messages (an int's scale listed).
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

/// A number literal a bounded variable is compared with.
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
pub(super) fn free_identifiers(
    expr: &IdedExpr,
    bound: &mut Vec<String>,
    free: &mut Vec<(String, u64)>,
) {
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
