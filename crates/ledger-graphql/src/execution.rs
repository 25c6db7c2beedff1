//! How the API runs a request: [`LedgerSchema`] is async-graphql's schema behind two steps taken
//! before execution.
//!
//! 1. The parsed document comes from [`DocumentCache`] when the same text was sent before:
//!    clients send the same few documents over and over with other variables (an agent's
//!    screen, a caller lookup), and parsing one cost more than copying its syntax tree (6% of
//!    the server's CPU on a timeline page).
//! 2. While introspection is off, a document selecting `__schema` or `__type` is refused
//!    (`introspection.rs`).
//!
//! After execution, every error async-graphql reported itself (the document does not parse or
//! validate, an argument of the wrong type, no operation named) gets the API's
//! `extensions.code` `VALIDATION`, its `field` and its `rule` ([`complete_errors`]): the API's
//! own errors always carry them, async-graphql's carry none.
//!
//! Neither is an async-graphql extension on purpose: a schema with any extension sends every
//! resolved field through the extension chain (a registry lookup and a boxed future per field),
//! which cost about a third of the throughput of a timeline page with introspection off.
//! Everything that runs a request (the HTTP handlers, the websocket, the tests) goes through
//! [`LedgerSchema`], so no path skips the refusal.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use async_graphql::futures_util::stream::{self, BoxStream, FuturesOrdered, StreamExt};
use async_graphql::parser::types::{ExecutableDocument, Field, Selection, SelectionSet};
use async_graphql::{
    BatchRequest, BatchResponse, Data, Executor, Pos, Request, Response, Schema, ServerError,
    Value as ConstValue, Variables,
};

use crate::{MutationRoot, QueryRoot, SubscriptionRoot, introspection, scalars};

/// Documents kept at most. A deployment's clients send a few dozen distinct documents (their
/// screens); when a client sends ever new texts (hand-written queries, a scanner), the cache
/// is emptied and refilled rather than grown, so it never holds more than this.
pub const CACHED_DOCUMENTS_MAX: usize = 256;

/// The longest document text kept: far above the API's own screens (under 1 KiB), and small
/// enough that the cache holds at most `CACHED_DOCUMENTS_MAX` × 4 KiB = 1 MiB of text besides
/// the trees. A longer document is parsed on each request, as any document was before.
pub const CACHED_DOCUMENT_BYTES_MAX: usize = 4 * 1024;

/// The schema the server serves: async-graphql's schema, with parsed documents cached and
/// introspection refused while it is off.
#[derive(Clone)]
pub struct LedgerSchema {
    schema: Schema<QueryRoot, MutationRoot, SubscriptionRoot>,
    documents: Arc<DocumentCache>,
    introspection: bool,
    limits: Limits,
    /// The log's head when the schema was built: every read of a read model sees at least this.
    start_position: ledger_domain::ids::Position,
}

/// The document limits the schema was built with, for the words of a refusal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub depth_max: usize,
    pub complexity_max: usize,
}

impl std::fmt::Debug for LedgerSchema {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("LedgerSchema")
            .field("documents", &self.documents.len())
            .field("introspection", &self.introspection)
            .field("start_position", &self.start_position)
            .finish_non_exhaustive()
    }
}

impl LedgerSchema {
    pub(crate) fn new(
        schema: Schema<QueryRoot, MutationRoot, SubscriptionRoot>,
        introspection: bool,
        limits: Limits,
        start_position: ledger_domain::ids::Position,
    ) -> Self {
        Self {
            schema,
            documents: Arc::new(DocumentCache::default()),
            introspection,
            limits,
            start_position,
        }
    }

    /// The log's head when the schema was built. Every read of a read model waits for (then
    /// refuses as `PROJECTION_LAGGING`) a read model that has not applied it; a server is ready
    /// once every projection has.
    pub fn start_position(&self) -> ledger_domain::ids::Position {
        self.start_position
    }

    /// Runs a query or mutation.
    pub async fn execute(&self, request: impl Into<Request>) -> Response {
        let mut request = request.into();
        match self.prepare(&mut request) {
            None => {
                // Kept to find the arguments async-graphql's errors point at (see
                // `complete_errors`); a copy of the text and the variables is cheap beside
                // executing them.
                let sent = Sent::of(&request);
                complete_errors(self.schema.execute(request).await, &sent, self.limits)
            }
            Some(refusal) => Response::from_errors(vec![refusal]),
        }
    }

    /// Runs each request of a batch, concurrently as async-graphql does, answering in order.
    pub async fn execute_batch(&self, batch: BatchRequest) -> BatchResponse {
        match batch {
            BatchRequest::Single(request) => BatchResponse::Single(self.execute(request).await),
            BatchRequest::Batch(requests) => BatchResponse::Batch(
                requests
                    .into_iter()
                    .map(|request| self.execute(request))
                    .collect::<FuturesOrdered<_>>()
                    .collect()
                    .await,
            ),
        }
    }

    /// Runs a subscription (or a query or mutation, answered as a one-item stream).
    pub fn execute_stream(&self, request: impl Into<Request>) -> BoxStream<'static, Response> {
        self.stream_with(request.into(), None)
    }

    /// The documents parsed and kept so far.
    pub fn cached_documents(&self) -> usize {
        self.documents.len()
    }

    fn stream_with(
        &self,
        mut request: Request,
        session_data: Option<Arc<Data>>,
    ) -> BoxStream<'static, Response> {
        match self.prepare(&mut request) {
            None => {
                let sent = Sent::of(&request);
                let limits = self.limits;
                Executor::execute_stream(&self.schema, request, session_data)
                    .map(move |response| complete_errors(response, &sent, limits))
                    .boxed()
            }
            Some(refusal) => {
                let response = Response::from_errors(vec![refusal]);
                stream::once(async move { response }).boxed()
            }
        }
    }

    /// Gives the request its parsed document; the error refusing it before anything runs, if
    /// it is refused. A document that does not parse goes on unparsed: async-graphql reports
    /// its error.
    fn prepare(&self, request: &mut Request) -> Option<ServerError> {
        if !self.documents.parse(request) || self.introspection {
            return None;
        }
        introspection::refusal(request.parsed_query().ok()?)
    }
}

/// The `field` of an error about the document as a whole (it does not parse, it is too deep or
/// too complex) rather than one of its arguments.
pub const DOCUMENT_FIELD: &str = "query";

/// The `field` of an error about which operation to run.
pub const OPERATION_NAME_FIELD: &str = "operationName";

/// What a request sent, kept to name what async-graphql's errors are about.
#[derive(Debug, Clone, Default)]
pub struct Sent {
    pub query: String,
    pub variables: Variables,
}

impl Sent {
    pub fn of(request: &Request) -> Self {
        Self {
            query: request.query.clone(),
            variables: request.variables.clone(),
        }
    }
}

/// `response` with every error given what the API promises of each: `extensions.code`, and for
/// a `VALIDATION` error its `field` and `rule`.
///
/// The API's own errors (`ApiError`) carry all three already. The ones without a code are
/// async-graphql's own, all about the request: the document does not parse or validate, an
/// argument has the wrong type or is out of range, no operation is named, a limit is passed.
/// They are `VALIDATION`. Their `field` is the argument they are about, found from the error:
/// the path in `Invalid value for argument "first", …` (`channels.0` for a list's item,
/// `input.startedAt` for an input object's field), or the
/// argument at the error's location (the API's scalars report where the bad value is), or, for
/// an error located at a field whose argument failed to parse (async-graphql's complexity
/// check reads `first` and `last` before anything runs, and names neither), the argument of
/// that field whose value is not of the type named. Otherwise it is the field at the location
/// (`Unknown field "x"`), `operationName`, or `query`, the document as a whole. Their `rule` is
/// the scalar's rule when it has one, else async-graphql's message.
pub fn complete_errors(mut response: Response, sent: &Sent, limits: Limits) -> Response {
    let incomplete = |error: &ServerError| {
        let code = extension_text(error, "code");
        code.is_none()
            || (code.as_deref() == Some("VALIDATION") && extension_text(error, "field").is_none())
    };
    if !response.errors.iter().any(incomplete) {
        return response;
    }
    // Only a response with such an error pays for parsing the document again.
    let document = async_graphql::parser::parse_query(&sent.query).ok();
    let arguments = document.as_ref().map(ArgumentIndex::of).unwrap_or_default();
    for error in response.errors.iter_mut().filter(|error| incomplete(error)) {
        if let Some(limit) = limit_passed(&error.message, limits) {
            error.message = limit;
        }
        let (field, rule) = field_and_rule(error, &arguments, &sent.variables);
        let extensions = error.extensions.get_or_insert_with(Default::default);
        if extensions.get("code").is_none() {
            extensions.set("code", "VALIDATION");
        }
        extensions.set("field", field);
        if extensions.get("rule").is_none() {
            extensions.set("rule", rule);
        }
    }
    response
}

/// async-graphql's words for a document over one of the API's limits, with the limit named:
/// it says only "Query is too complex." or "Query is nested too deep.".
fn limit_passed(message: &str, limits: Limits) -> Option<String> {
    match message {
        "Query is too complex." => Some(format!(
            "the query is too complex: its cost is at most COMPLEXITY_MAX = {} (a page costs \
             its size times what each item selects); ask for smaller pages or fewer fields",
            limits.complexity_max
        )),
        "Query is nested too deep." => Some(format!(
            "the query is nested too deep: at most DEPTH_MAX = {} levels of selections",
            limits.depth_max
        )),
        _ => None,
    }
}

/// An extension of `error` that is a string.
fn extension_text(error: &ServerError, name: &str) -> Option<String> {
    match error.extensions.as_ref()?.get(name)? {
        async_graphql::Value::String(text) => Some(text.clone()),
        _ => None,
    }
}

/// The `field` and `rule` of one of async-graphql's errors (see [`complete_errors`]).
///
/// A value one of the API's scalars refuses is reported by async-graphql's validation as
/// `expected type "DateTime"` (the scalars' `is_valid`, which lets it name the input object's
/// field); the rule is then the scalar's own, found by parsing the value again, and the message
/// says the field and that rule.
fn field_and_rule(
    error: &mut ServerError,
    arguments: &ArgumentIndex<'_>,
    variables: &Variables,
) -> (String, String) {
    let message = error.message.as_str();
    if let Some(rest) = message.strip_prefix("Invalid value for argument \"")
        && let Some((path, rule)) = rest.split_once("\", ")
    {
        let (path, rule) = (path.to_owned(), rule.to_owned());
        let scalar_rule = scalar_of(&rule).and_then(|type_name| {
            let value = error
                .locations
                .iter()
                .find_map(|location| arguments.value_at(*location, &path, variables))?;
            scalars::broken_rule(type_name, &value)
        });
        let shown = with_indexes(&path);
        return match scalar_rule {
            Some(scalar_rule) => {
                error.message = format!("{shown}: {scalar_rule}");
                (shown, scalar_rule)
            }
            None => (shown, rule),
        };
    }
    if message.starts_with("Operation name required")
        || message.starts_with("Unknown operation named")
    {
        return (OPERATION_NAME_FIELD.to_owned(), message.to_owned());
    }
    let field = error
        .locations
        .iter()
        .find_map(|location| arguments.name_at(*location, message))
        .unwrap_or(DOCUMENT_FIELD);
    (field.to_owned(), message.to_owned())
}

/// An argument path as async-graphql writes it (`input.recommendations.0.dueOn`) in the form
/// the API's own errors name fields (`input.recommendations[0].dueOn`): a list's index in
/// brackets.
fn with_indexes(path: &str) -> String {
    let mut shown = String::with_capacity(path.len() + 2);
    for (index, step) in path.split('.').enumerate() {
        if index > 0 && !step.is_empty() && step.bytes().all(|byte| byte.is_ascii_digit()) {
            shown.push('[');
            shown.push_str(step);
            shown.push(']');
        } else {
            if index > 0 {
                shown.push('.');
            }
            shown.push_str(step);
        }
    }
    shown
}

/// The type named by async-graphql's `expected type "T"`.
fn scalar_of(rule: &str) -> Option<&str> {
    rule.strip_prefix("expected type \"")?.strip_suffix('"')
}

/// Where each argument and field of a document is, to name what an error's location points at.
#[derive(Default)]
struct ArgumentIndex<'a> {
    /// Every argument, by the position of its name and of its value.
    arguments: HashMap<Pos, &'a str>,
    /// The field of every argument, by the position of the argument's name.
    argument_fields: HashMap<Pos, &'a Field>,
    /// Every field with arguments or not, by its position.
    fields: HashMap<Pos, &'a Field>,
}

impl<'a> ArgumentIndex<'a> {
    fn of(document: &'a ExecutableDocument) -> Self {
        let mut index = Self::default();
        for (_, operation) in document.operations.iter() {
            index.add(&operation.node.selection_set.node);
        }
        for fragment in document.fragments.values() {
            index.add(&fragment.node.selection_set.node);
        }
        index
    }

    fn add(&mut self, selection_set: &'a SelectionSet) {
        for selection in &selection_set.items {
            match &selection.node {
                Selection::Field(field) => {
                    self.fields.insert(field.pos, &field.node);
                    for (name, value) in &field.node.arguments {
                        self.arguments.insert(name.pos, name.node.as_str());
                        self.argument_fields.insert(name.pos, &field.node);
                        self.arguments.insert(value.pos, name.node.as_str());
                    }
                    self.add(&field.node.selection_set.node);
                }
                Selection::InlineFragment(fragment) => self.add(&fragment.node.selection_set.node),
                Selection::FragmentSpread(_) => {}
            }
        }
    }

    /// The value at `path` (`input.startedAt`, `channels.0`) of the argument named at
    /// `location`, its variables replaced by what the request sent.
    fn value_at(&self, location: Pos, path: &str, variables: &Variables) -> Option<ConstValue> {
        let mut steps = path.split('.');
        if steps.next()? != *self.arguments.get(&location)? {
            return None;
        }
        let (_, value) = self
            .argument_fields
            .get(&location)?
            .arguments
            .iter()
            .find(|(name, _)| name.pos == location)?;
        let argument = value
            .node
            .clone()
            .into_const_with(|name| variables.get(&name).cloned().ok_or(()))
            .ok()?;
        steps.try_fold(argument, |value, step| match value {
            ConstValue::Object(mut fields) => fields.swap_remove(step),
            ConstValue::List(mut items) => {
                let index = step.parse::<usize>().ok()?;
                (index < items.len()).then(|| items.swap_remove(index))
            }
            _ => None,
        })
    }

    /// The argument (or else the field) at `location`, for an error saying `message`.
    fn name_at(&self, location: Pos, message: &str) -> Option<&'a str> {
        if let Some(argument) = self.arguments.get(&location) {
            return Some(argument);
        }
        let field = self.fields.get(&location)?;
        Some(unparsed_argument(field, message).unwrap_or(field.name.node.as_str()))
    }
}

/// The argument of `field` that an input-value error located at the field is about: one whose
/// literal is not an `Int` when the message is about an `Int`, or else one given by a variable.
fn unparsed_argument<'a>(field: &'a Field, message: &str) -> Option<&'a str> {
    let type_name = message
        .strip_prefix("Failed to parse \"")
        .or_else(|| message.strip_prefix("Expected input type \""))?
        .split('"')
        .next()?;
    // Each argument's literal, or `None` for a value holding a variable.
    let literals = || {
        field
            .arguments
            .iter()
            .map(|(name, value)| (name.node.as_str(), value.node.clone().into_const()))
    };
    // What an optional `Int` argument takes: null, or a whole number that fits 32 bits.
    let fits_int = |value: &ConstValue| match value {
        ConstValue::Null => true,
        ConstValue::Number(number) => number
            .as_i64()
            .is_some_and(|number| i32::try_from(number).is_ok()),
        _ => false,
    };
    let not_of_type = literals().find(|(_, literal)| {
        type_name == "Int" && literal.as_ref().is_some_and(|value| !fits_int(value))
    });
    not_of_type
        .or_else(|| literals().find(|(_, literal)| literal.is_none()))
        .map(|(name, _)| name)
}

/// The websocket handler (`async-graphql-axum`) runs requests through this.
impl Executor for LedgerSchema {
    fn execute(&self, request: Request) -> impl Future<Output = Response> + Send {
        LedgerSchema::execute(self, request)
    }

    fn execute_stream(
        &self,
        request: Request,
        session_data: Option<Arc<Data>>,
    ) -> BoxStream<'static, Response> {
        self.stream_with(request, session_data)
    }
}

/// Parsed documents, by their text. Execution changes its copy of a document (`@skip` and
/// `@include` remove selections), so each request gets its own clone of the kept tree.
#[derive(Debug, Default)]
pub struct DocumentCache {
    documents: Mutex<HashMap<Arc<str>, ExecutableDocument>>,
}

impl DocumentCache {
    /// Gives `request` its parsed document, kept from an earlier request with the same text or
    /// parsed now (and kept, if short enough). False when the document does not parse; the
    /// request then stays unparsed.
    pub fn parse(&self, request: &mut Request) -> bool {
        let keep = request.query.len() <= CACHED_DOCUMENT_BYTES_MAX;
        if keep && let Some(document) = self.lock().get(request.query.as_str()) {
            request.set_parsed_query(document.clone());
            return true;
        }
        let Ok(document) = request.parsed_query() else {
            return false;
        };
        if keep {
            let document = document.clone();
            let mut documents = self.lock();
            if documents.len() >= CACHED_DOCUMENTS_MAX {
                documents.clear();
            }
            documents.insert(Arc::from(request.query.as_str()), document);
        }
        true
    }

    /// The documents kept now.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether none is kept.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<Arc<str>, ExecutableDocument>> {
        // A panic cannot leave the map half-changed (an insert or a clear either happened or
        // not), so a lock poisoned by one is still sound to use.
        self.documents
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOCUMENT: &str = "query Screen($id: ID!) { customer(id: $id) { id } }";

    #[test]
    fn a_document_sent_again_comes_from_the_cache() {
        let cache = DocumentCache::default();
        let mut first = Request::new(DOCUMENT);
        assert!(cache.parse(&mut first));
        assert_eq!(cache.len(), 1);
        let mut second = Request::new(DOCUMENT);
        assert!(cache.parse(&mut second));
        assert_eq!(cache.len(), 1);
        let parsed = second.parsed_query().expect("the cached document");
        assert_eq!(parsed.operations.iter().count(), 1);
    }

    #[test]
    fn a_document_that_does_not_parse_is_not_kept() {
        let cache = DocumentCache::default();
        let mut request = Request::new("{ customer(id: ");
        assert!(!cache.parse(&mut request));
        assert!(cache.is_empty());
    }

    #[test]
    fn a_long_document_is_parsed_but_not_kept() {
        let cache = DocumentCache::default();
        let padding = " ".repeat(CACHED_DOCUMENT_BYTES_MAX);
        let mut request = Request::new(format!("{{ viewer {{ role }} }}{padding}"));
        assert!(cache.parse(&mut request));
        assert!(cache.is_empty());
    }

    #[test]
    fn a_full_cache_is_emptied_rather_than_grown() {
        let cache = DocumentCache::default();
        for alias in 0..=CACHED_DOCUMENTS_MAX {
            let mut request = Request::new(format!("{{ a{alias}: viewer {{ role }} }}"));
            assert!(cache.parse(&mut request));
            assert!(cache.len() <= CACHED_DOCUMENTS_MAX);
        }
        assert_eq!(cache.len(), 1);
    }
}
