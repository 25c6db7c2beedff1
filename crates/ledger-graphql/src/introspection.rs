//! With introspection off, a query for `__schema` or `__type` is refused with an error.
//!
//! async-graphql's `disable_introspection` answers those fields with `null` and no error, so a
//! client (or a scanner checking that introspection is off) cannot tell "off" from "empty".
//! [`refusal`] looks at the parsed document's root selections (through fragments, each visited
//! once, so a cycle cannot loop) before anything runs, and the request is refused as
//! `FORBIDDEN`, naming the setting. `__typename` stays allowed. `execution.rs` calls it for
//! every request while introspection is off.

use std::collections::HashSet;

use async_graphql::parser::types::{ExecutableDocument, Selection, SelectionSet};
use async_graphql::{ErrorExtensionValues, Pos, Positioned, ServerError};

/// The refusal's message.
pub const INTROSPECTION_OFF: &str = "introspection is off on this server (set [server] introspection = true in ledger.toml to allow it)";

/// The deepest nesting of fragments searched for a root introspection field: async-graphql's
/// own limit on a document's nesting (its default `limit_recursive_depth`), so a document
/// nested deeper, which async-graphql refuses anyway, cannot make the search recurse without
/// bound.
pub const FRAGMENT_NESTING_MAX: usize = 32;

/// The error refusing `document`, when it selects `__schema` or `__type` at the root of an
/// operation.
pub fn refusal(document: &ExecutableDocument) -> Option<ServerError> {
    let position = introspection_field(document)?;
    let mut error = ServerError::new(INTROSPECTION_OFF, Some(position));
    let mut extensions = ErrorExtensionValues::default();
    extensions.set("code", "FORBIDDEN");
    error.extensions = Some(extensions);
    Some(error)
}

/// Where the document selects `__schema` or `__type` at the root of an operation, if it does.
fn introspection_field(document: &ExecutableDocument) -> Option<Pos> {
    let mut visited = HashSet::new();
    document.operations.iter().find_map(|(_, operation)| {
        root_introspection(&operation.node.selection_set, document, &mut visited, 0)
    })
}

fn root_introspection<'a>(
    selections: &'a Positioned<SelectionSet>,
    document: &'a ExecutableDocument,
    visited: &mut HashSet<&'a str>,
    nesting: usize,
) -> Option<Pos> {
    if nesting > FRAGMENT_NESTING_MAX {
        return None;
    }
    selections
        .node
        .items
        .iter()
        .find_map(|selection| match &selection.node {
            Selection::Field(field) => {
                matches!(field.node.name.node.as_str(), "__schema" | "__type").then_some(field.pos)
            }
            Selection::InlineFragment(fragment) => {
                root_introspection(&fragment.node.selection_set, document, visited, nesting + 1)
            }
            Selection::FragmentSpread(spread) => {
                let name = spread.node.fragment_name.node.as_str();
                if !visited.insert(name) {
                    return None;
                }
                let fragment = document.fragments.get(name)?;
                root_introspection(&fragment.node.selection_set, document, visited, nesting + 1)
            }
        })
}
