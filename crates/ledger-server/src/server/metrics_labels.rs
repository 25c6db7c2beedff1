//! The `operation` label of the request series at `/metrics`: what the schema runs, never a
//! name the client chose.
//!
//! `/metrics` answers without a token (Prometheus scrapes it), so its labels must hold nothing
//! a client wrote: a request's `operationName` is free text (an analyst named one after a
//! caller's phone number, which every scrape then showed), and ever-new names would add series
//! without end. A request is labelled by its operation's type and the root fields it selects,
//! by their names in the schema (an alias is the client's too), sorted:
//! `query:customerByIdentifier`, `query:ledger,verifyLedger`, `mutation:recordContact`. More
//! than [`ROOT_FIELDS_LABELLED_MAX`] root fields are `query:several`; a document that does not
//! parse, names a root field the schema lacks, or has no operation to run (an unknown
//! `operationName`, several operations and none named) is [`UNKNOWN_OPERATION`]; a batch is
//! `batch[N]`, N at most `BATCH_OPERATIONS_MAX`.
//!
//! Labels are kept by document text, as the schema keeps parsed documents: clients send the
//! same few documents over and over, and parsing one is not free.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::{Mutex, OnceLock, PoisonError};

use async_graphql::parser::types::{
    ExecutableDocument, OperationType, Selection, SelectionSet, TypeKind, TypeSystemDefinition,
};
use async_graphql::{BatchRequest, Request};

/// The most root fields a label names; an operation selecting more is labelled
/// `<type>:several`. Real screens select one or two; naming every combination would let a
/// client multiply the series.
pub const ROOT_FIELDS_LABELLED_MAX: usize = 3;

/// The label of a request whose operation the schema does not run (see the module docs).
pub const UNKNOWN_OPERATION: &str = "unknown";

/// Documents whose labels are kept at most; when full, the kept labels are dropped and
/// computed again, so a client sending ever-new texts costs parsing, not memory.
pub const LABELLED_DOCUMENTS_MAX: usize = 256;

/// The longest document text whose labels are kept (a longer one is parsed for its label on
/// each request): the kept texts take at most `LABELLED_DOCUMENTS_MAX` × 4 KiB = 1 MiB.
pub const LABELLED_DOCUMENT_BYTES_MAX: usize = 4 * 1024;

/// The most fragments followed from an operation's root selection: far more than a document
/// needs, and a bound on a document that spreads fragments into each other.
pub const FRAGMENTS_FOLLOWED_MAX: usize = 64;

/// The `operation` label of `request`.
pub fn label(request: &BatchRequest) -> String {
    match request {
        BatchRequest::Single(request) => label_of(request),
        BatchRequest::Batch(requests) => format!("batch[{}]", requests.len()),
    }
}

/// The root field names of each root type, read once from the schema's SDL.
#[derive(Debug, Default)]
struct RootFields {
    query: HashSet<String>,
    mutation: HashSet<String>,
    subscription: HashSet<String>,
}

impl RootFields {
    fn of(ty: OperationType) -> &'static HashSet<String> {
        static ROOTS: OnceLock<RootFields> = OnceLock::new();
        let roots = ROOTS.get_or_init(RootFields::from_schema);
        match ty {
            OperationType::Query => &roots.query,
            OperationType::Mutation => &roots.mutation,
            OperationType::Subscription => &roots.subscription,
        }
    }

    fn from_schema() -> Self {
        let mut roots = Self::default();
        // The SDL is the schema's own (a test checks it against the committed file); one that
        // did not parse would leave every request labelled unknown, never a client's text.
        let Ok(document) = async_graphql::parser::parse_schema(ledger_graphql::sdl()) else {
            return roots;
        };
        let mut names = (
            "Query".to_owned(),
            "Mutation".to_owned(),
            "Subscription".to_owned(),
        );
        for definition in &document.definitions {
            if let TypeSystemDefinition::Schema(schema) = definition {
                let schema = &schema.node;
                let named = |root: &Option<async_graphql::Positioned<async_graphql::Name>>,
                             default: &String| {
                    root.as_ref()
                        .map_or_else(|| default.clone(), |name| name.node.to_string())
                };
                names = (
                    named(&schema.query, &names.0),
                    named(&schema.mutation, &names.1),
                    named(&schema.subscription, &names.2),
                );
            }
        }
        for definition in &document.definitions {
            let TypeSystemDefinition::Type(definition) = definition else {
                continue;
            };
            let TypeKind::Object(object) = &definition.node.kind else {
                continue;
            };
            let name = definition.node.name.node.as_str();
            let fields = if name == names.0 {
                &mut roots.query
            } else if name == names.1 {
                &mut roots.mutation
            } else if name == names.2 {
                &mut roots.subscription
            } else {
                continue;
            };
            fields.extend(
                object
                    .fields
                    .iter()
                    .map(|field| field.node.name.node.to_string()),
            );
        }
        roots
    }
}

/// The label of each operation of a document, by its name (`None`: the anonymous one).
#[derive(Debug, Clone, Default)]
struct DocumentLabels {
    operations: Vec<(Option<String>, String)>,
}

impl DocumentLabels {
    fn of(query: &str) -> Self {
        let Ok(document) = async_graphql::parser::parse_query(query) else {
            return Self::default();
        };
        let operations = document
            .operations
            .iter()
            .map(|(name, operation)| {
                (
                    name.map(|name| name.to_string()),
                    operation_label(
                        &document,
                        operation.node.ty,
                        &operation.node.selection_set.node,
                    ),
                )
            })
            .collect();
        Self { operations }
    }

    /// The label of the operation async-graphql runs for `operation_name`: the one of that
    /// name, or without a name the document's only operation.
    fn select(&self, operation_name: Option<&str>) -> &str {
        let found = match operation_name {
            Some(wanted) => self
                .operations
                .iter()
                .find(|(name, _)| name.as_deref() == Some(wanted)),
            None if self.operations.len() == 1 => self.operations.first(),
            None => None,
        };
        found.map_or(UNKNOWN_OPERATION, |(_, label)| label.as_str())
    }
}

fn label_of(request: &Request) -> String {
    static KEPT: OnceLock<Mutex<HashMap<String, DocumentLabels>>> = OnceLock::new();
    let operation_name = request.operation_name.as_deref();
    if request.query.len() > LABELLED_DOCUMENT_BYTES_MAX {
        return DocumentLabels::of(&request.query)
            .select(operation_name)
            .to_owned();
    }
    // A panic cannot leave the map half-changed, so a lock poisoned by one is still sound.
    let kept = KEPT.get_or_init(Mutex::default);
    if let Some(labels) = kept
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .get(request.query.as_str())
    {
        return labels.select(operation_name).to_owned();
    }
    // Parsed outside the lock: other requests' labels do not wait for it.
    let labels = DocumentLabels::of(&request.query);
    let label = labels.select(operation_name).to_owned();
    let mut kept = kept.lock().unwrap_or_else(PoisonError::into_inner);
    if kept.len() >= LABELLED_DOCUMENTS_MAX {
        kept.clear();
    }
    kept.insert(request.query.clone(), labels);
    label
}

/// `<type>:<root fields>` for an operation of type `ty` selecting `selection`.
fn operation_label(
    document: &ExecutableDocument,
    ty: OperationType,
    selection: &SelectionSet,
) -> String {
    let mut names = BTreeSet::new();
    let mut followed = HashSet::new();
    if !collect_root_fields(document, selection, &mut names, &mut followed) {
        return UNKNOWN_OPERATION.to_owned();
    }
    let known = RootFields::of(ty);
    let is_known = |name: &str| {
        known.contains(name)
            || name == "__typename"
            || (ty == OperationType::Query && (name == "__schema" || name == "__type"))
    };
    if names.is_empty() || !names.iter().all(|name| is_known(name)) {
        return UNKNOWN_OPERATION.to_owned();
    }
    let ty = match ty {
        OperationType::Query => "query",
        OperationType::Mutation => "mutation",
        OperationType::Subscription => "subscription",
    };
    if names.len() > ROOT_FIELDS_LABELLED_MAX {
        return format!("{ty}:several");
    }
    let names: Vec<&str> = names.into_iter().collect();
    format!("{ty}:{}", names.join(","))
}

/// Adds the names (not aliases) of the fields `selection` selects at its own level, through
/// fragments, to `names`. False when a fragment it spreads is missing or past
/// [`FRAGMENTS_FOLLOWED_MAX`]: the document does not run as it is.
fn collect_root_fields<'document>(
    document: &'document ExecutableDocument,
    selection: &'document SelectionSet,
    names: &mut BTreeSet<&'document str>,
    followed: &mut HashSet<&'document str>,
) -> bool {
    selection.items.iter().all(|item| match &item.node {
        Selection::Field(field) => {
            names.insert(field.node.name.node.as_str());
            true
        }
        Selection::InlineFragment(fragment) => {
            collect_root_fields(document, &fragment.node.selection_set.node, names, followed)
        }
        Selection::FragmentSpread(spread) => {
            let name = spread.node.fragment_name.node.as_str();
            if !followed.insert(name) {
                // Spread before: its fields are in already (or it spreads itself).
                return true;
            }
            if followed.len() > FRAGMENTS_FOLLOWED_MAX {
                return false;
            }
            document.fragments.get(name).is_some_and(|fragment| {
                collect_root_fields(document, &fragment.node.selection_set.node, names, followed)
            })
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn single(query: &str, operation_name: Option<&str>) -> String {
        let mut request = Request::new(query);
        request.operation_name = operation_name.map(str::to_owned);
        label(&BatchRequest::Single(request))
    }

    #[test]
    fn a_request_is_labelled_by_the_schema_fields_it_runs_never_by_its_operation_name() {
        assert_eq!(
            single(
                "query Caller_18733026926 { customerByIdentifier(kind: MOBILE, value: \"1\") { id } }",
                Some("Caller_18733026926")
            ),
            "query:customerByIdentifier"
        );
        // Aliases are the client's words too; the field's own name is the label.
        assert_eq!(
            single(
                "{ b: verifyLedger { ok } a13800138000: ledger { headPosition } }",
                None
            ),
            "query:ledger,verifyLedger"
        );
        assert_eq!(
            single("mutation M { recordContact(input: {}) { position } }", None),
            "mutation:recordContact"
        );
        assert_eq!(
            single(
                "query Q { ...Head } fragment Head on Query { ledger { headPosition } ... on Query { __typename } }",
                Some("Q")
            ),
            "query:__typename,ledger"
        );
    }

    #[test]
    fn what_the_schema_would_not_run_is_labelled_unknown() {
        for (query, operation_name) in [
            ("{ caller13800138000 }", None),
            ("not graphql", None),
            ("query A { ledger { headPosition } }", Some("B")),
            ("{ ledger { headPosition } }", Some("Named")),
            (
                "query A { ledger { headPosition } } query B { viewer { role } }",
                None,
            ),
            ("{ ...Missing }", None),
            ("mutation { ledger { headPosition } }", None),
        ] {
            assert_eq!(
                single(query, operation_name),
                UNKNOWN_OPERATION,
                "{query} {operation_name:?}"
            );
        }
        let many =
            "{ ledger { headPosition } verifyLedger { ok } viewer { role } segments { name } }";
        assert_eq!(single(many, None), "query:several");
    }

    #[test]
    fn the_root_fields_are_the_schemas() {
        assert!(RootFields::of(OperationType::Query).contains("customerByIdentifier"));
        assert!(RootFields::of(OperationType::Mutation).contains("recordContact"));
        assert!(RootFields::of(OperationType::Subscription).contains("ledgerEvents"));
    }
}
