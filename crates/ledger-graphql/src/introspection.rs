//! With introspection off, a query for `__schema` or `__type` is refused with an error.
//!
//! async-graphql's `disable_introspection` answers those fields with `null` and no error, so a
//! client (or a scanner checking that introspection is off) cannot tell "off" from "empty".
//! This extension looks at the parsed document's root selections (through fragments, each
//! visited once, so a cycle cannot loop) before anything runs, and refuses the request as
//! `FORBIDDEN`, naming the setting. `__typename` stays allowed.

use std::collections::HashSet;
use std::sync::Arc;

use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextParseQuery};
use async_graphql::parser::types::{ExecutableDocument, Selection, SelectionSet};
use async_graphql::{ErrorExtensionValues, Pos, Positioned, ServerError, ServerResult, Variables};

/// The refusal's message.
pub const INTROSPECTION_OFF: &str = "introspection is off on this server (set [server] introspection = true in ledger.toml to allow it)";

/// The extension: added to the schema when introspection is off.
#[derive(Debug, Clone, Copy, Default)]
pub struct RefuseIntrospection;

impl ExtensionFactory for RefuseIntrospection {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(Self)
    }
}

#[async_trait::async_trait]
impl Extension for RefuseIntrospection {
    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        let document = next.run(ctx, query, variables).await?;
        match introspection_field(&document) {
            Some(position) => {
                let mut error = ServerError::new(INTROSPECTION_OFF, Some(position));
                let mut extensions = ErrorExtensionValues::default();
                extensions.set("code", "FORBIDDEN");
                error.extensions = Some(extensions);
                Err(error)
            }
            None => Ok(document),
        }
    }
}

/// Where the document selects `__schema` or `__type` at the root of an operation, if it does.
fn introspection_field(document: &ExecutableDocument) -> Option<Pos> {
    let mut visited = HashSet::new();
    document.operations.iter().find_map(|(_, operation)| {
        root_introspection(&operation.node.selection_set, document, &mut visited)
    })
}

fn root_introspection<'a>(
    selections: &'a Positioned<SelectionSet>,
    document: &'a ExecutableDocument,
    visited: &mut HashSet<&'a str>,
) -> Option<Pos> {
    selections
        .node
        .items
        .iter()
        .find_map(|selection| match &selection.node {
            Selection::Field(field) => {
                matches!(field.node.name.node.as_str(), "__schema" | "__type").then_some(field.pos)
            }
            Selection::InlineFragment(fragment) => {
                root_introspection(&fragment.node.selection_set, document, visited)
            }
            Selection::FragmentSpread(spread) => {
                let name = spread.node.fragment_name.node.as_str();
                if !visited.insert(name) {
                    return None;
                }
                let fragment = document.fragments.get(name)?;
                root_introspection(&fragment.node.selection_set, document, visited)
            }
        })
}
