//! Relay cursor connections: the page-info type every list shares, a macro declaring a
//! connection and its edge for one node type, page-size checks and the complexity of a page.
//!
//! The API declares its own connection types rather than async-graphql's, because a read model
//! may end a page early at a scan bound and then hand back a cursor past the last edge (see the
//! timeline's `TIMELINE_SCAN_MAX`); `pageInfo` must carry that cursor, not the last edge's.
//!
//! A page larger than its maximum is a `VALIDATION` error naming the argument and the maximum,
//! never a shorter page. Complexity counts a page at its requested size (capped at the maximum,
//! so that an oversized request reaches the resolver and gets that clear error).
//!
//! Every cursor reaches the caller through `cursor::shown_cursor` (an edge's `cursor`,
//! `PageInfo`'s), which seals it for a masked caller; resolvers read `after` and `before`
//! through `cursor::received_cursor`.
//!
//! An edge's `node` is non-null, and a node whose selection picks no field for its type (a
//! union member no fragment names, every field under `@skip`) is `{}`, as the spec's
//! `ExecuteSelectionSet` gives; see [`NonNullObject`] for why async-graphql alone answers null.

use std::borrow::Cow;

use async_graphql::parser::types::{Field, Selection, SelectionSet};
use async_graphql::registry::Registry;
use async_graphql::{
    ComplexObject, Context, ContextSelectionSet, OutputType, Positioned, ServerResult,
    SimpleObject, Value,
};

use crate::cursor::shown_cursor_opt;
use crate::errors::{ApiError, ApiResult, page_too_large};

/// Where a page sits in its list, and the cursors to page on from it.
///
/// Cursors are opaque: send them back as they came. Those handed to a caller who sees personal
/// data masked are sealed for that caller's role, and a server without a checkpoint signing key
/// stops opening them when it restarts: a cursor refused as not one the listing returned means
/// starting again from the first page.
#[derive(SimpleObject, Debug, Clone, Default, PartialEq, Eq)]
#[graphql(complex)]
pub struct PageInfo {
    pub has_next_page: bool,
    pub has_previous_page: bool,
    /// The read model's cursor; the caller gets it through [`crate::cursor::shown_cursor`].
    #[graphql(skip)]
    pub start_cursor: Option<String>,
    /// The read model's cursor; the caller gets it through [`crate::cursor::shown_cursor`].
    #[graphql(skip)]
    pub end_cursor: Option<String>,
}

#[ComplexObject]
impl PageInfo {
    /// Pass as `before` to read the page before this one.
    async fn start_cursor(&self, ctx: &Context<'_>) -> ApiResult<Option<String>> {
        shown_cursor_opt(ctx, self.start_cursor.as_deref())
    }

    /// Pass as `after` to read the page after this one.
    async fn end_cursor(&self, ctx: &Context<'_>) -> ApiResult<Option<String>> {
        shown_cursor_opt(ctx, self.end_cursor.as_deref())
    }
}

impl PageInfo {
    /// Page info for a forward page whose cursors are those of its first and last edges.
    pub fn forward(cursors: &[&str], has_next_page: bool, has_previous_page: bool) -> Self {
        Self {
            has_next_page,
            has_previous_page,
            start_cursor: cursors.first().map(|cursor| (*cursor).to_owned()),
            end_cursor: cursors.last().map(|cursor| (*cursor).to_owned()),
        }
    }
}

/// Declares `$connection { edges pageInfo }` and `$edge { cursor node }` for `$node`.
macro_rules! connection {
    ($(#[$doc:meta])* $connection:ident, $edge:ident, $node:ty) => {
        $(#[$doc])*
        #[derive(async_graphql::SimpleObject, Debug)]
        pub struct $connection {
            pub edges: Vec<$edge>,
            pub page_info: $crate::connection::PageInfo,
        }

        /// One item of the list, and the cursor that pages on from it.
        #[derive(Debug)]
        pub struct $edge {
            /// The read model's cursor; the caller gets it through `shown_cursor`.
            pub cursor: String,
            pub node: $node,
        }

        /// One item of the list, and the cursor that pages on from it.
        #[async_graphql::Object]
        impl $edge {
            /// Pass as `after` to read on from this item (opaque: see `PageInfo`).
            async fn cursor(&self, ctx: &async_graphql::Context<'_>) -> $crate::errors::ApiResult<String> {
                $crate::cursor::shown_cursor(ctx, &self.cursor)
            }

            async fn node(&self) -> $crate::connection::NonNullObject<'_, $node> {
                $crate::connection::NonNullObject(&self.node)
            }
        }

        impl $connection {
            /// A forward page of `(cursor, node)` items; `pageInfo`'s cursors are the edges'.
            #[allow(dead_code, reason = "not every connection is built forward-only")]
            pub fn forward(items: Vec<(String, $node)>, has_next_page: bool, has_previous_page: bool) -> Self {
                let cursors: Vec<&str> = items.iter().map(|(cursor, _)| cursor.as_str()).collect();
                let page_info = $crate::connection::PageInfo::forward(&cursors, has_next_page, has_previous_page);
                Self { edges: items.into_iter().map(|(cursor, node)| $edge { cursor, node }).collect(), page_info }
            }
        }
    };
}
pub(crate) use connection;

/// An object in a non-null place (an edge's `node`), answered as `{}` when its selection picks
/// no field for its type, where async-graphql answers `null`.
///
/// Since 7.1 (async-graphql PR #1746, "Don't bail early on first error when resolving
/// containers") async-graphql's `do_resolve_container` answers `null` for an object whose
/// result map is empty, which happens both when every selected field failed and when nothing
/// was selected: a `ServiceHistoryItem` that is a `ServiceCase` under `... on Claim { number }`,
/// or a selection whose every member is under `@skip(if: true)` (async-graphql removes those
/// before execution). The spec answers the second `{}`, and a `null` where the schema promises
/// a non-null object is an answer no client should have to expect. This wrapper tells the two apart by the selection, not by
/// the errors: only when no field applies to the object's type is the `null` made `{}`, so an
/// object whose fields all failed is still async-graphql's (a `null`, with the errors). The
/// schema is unchanged: the wrapper is `T` in the SDL.
#[derive(Debug)]
pub struct NonNullObject<'a, T>(pub &'a T);

impl<T: OutputType> OutputType for NonNullObject<'_, T> {
    fn type_name() -> Cow<'static, str> {
        T::type_name()
    }

    fn qualified_type_name() -> String {
        T::qualified_type_name()
    }

    fn introspection_type_name(&self) -> Cow<'static, str> {
        self.0.introspection_type_name()
    }

    fn create_type_info(registry: &mut Registry) -> String {
        T::create_type_info(registry)
    }

    async fn resolve(
        &self,
        ctx: &ContextSelectionSet<'_>,
        field: &Positioned<Field>,
    ) -> ServerResult<Value> {
        let value = self.0.resolve(ctx, field).await?;
        Ok(empty_selection_as_object(
            value,
            ctx,
            &self.0.introspection_type_name(),
        ))
    }
}

/// `value` (an object of type `object_type` resolved for `ctx`'s selection), with async-graphql's
/// `null` for an object none of whose fields was selected made `{}` (see [`NonNullObject`]).
pub fn empty_selection_as_object(
    value: Value,
    ctx: &ContextSelectionSet<'_>,
    object_type: &str,
) -> Value {
    if value == Value::Null && !selects_any_field(ctx, &ctx.item.node, object_type) {
        Value::Object(Default::default())
    } else {
        value
    }
}

/// Whether `selection_set` picks any field (`__typename` included) of an object of type
/// `object_type`: a field, or a fragment whose type condition the object meets and which picks
/// one. Fragment cycles are refused by validation, so the recursion ends.
fn selects_any_field(
    ctx: &ContextSelectionSet<'_>,
    selection_set: &SelectionSet,
    object_type: &str,
) -> bool {
    let applies = |condition: &str| {
        condition == object_type
            || ctx
                .schema_env
                .registry
                .types
                .get(condition)
                .is_some_and(|abstract_type| abstract_type.is_possible_type(object_type))
    };
    selection_set
        .items
        .iter()
        .any(|selection| match &selection.node {
            Selection::Field(_) => true,
            Selection::InlineFragment(fragment) => {
                fragment
                    .node
                    .type_condition
                    .as_ref()
                    .is_none_or(|condition| applies(&condition.node.on.node))
                    && selects_any_field(ctx, &fragment.node.selection_set.node, object_type)
            }
            Selection::FragmentSpread(spread) => ctx
                .query_env
                .fragments
                .get(&spread.node.fragment_name.node)
                .is_some_and(|fragment| {
                    applies(&fragment.node.type_condition.node.on.node)
                        && selects_any_field(ctx, &fragment.node.selection_set.node, object_type)
                }),
        })
}

/// The size of a page: `requested` (named `argument` in errors), or `default` when absent; more
/// than `max` or less than zero is a `VALIDATION` error.
pub fn page_size(
    argument: &str,
    requested: Option<i32>,
    default: usize,
    max: usize,
) -> ApiResult<usize> {
    let Some(requested) = requested else {
        return Ok(default);
    };
    let size = usize::try_from(requested)
        .map_err(|_| ApiError::validation(argument, "must not be negative"))?;
    if size > max {
        return Err(page_too_large(argument, max));
    }
    Ok(size)
}

/// What a page of `requested` (or `default`) items costs in the complexity budget: its size,
/// capped at `max` so an oversized request fails on its size, with the clearer error.
pub fn cost(requested: Option<i32>, default: usize, max: usize) -> usize {
    requested
        .and_then(|size| usize::try_from(size).ok())
        .unwrap_or(default)
        .min(max)
}

/// What a page costs, for a field paged forward (`first`) or backward (`last`).
pub fn cost_either_way(first: Option<i32>, last: Option<i32>, default: usize, max: usize) -> usize {
    cost(first.or(last), default, max)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oversized_pages_are_refused_by_name_not_truncated() {
        assert_eq!(page_size("first", None, 20, 100).unwrap(), 20);
        assert_eq!(page_size("first", Some(100), 20, 100).unwrap(), 100);
        let error = page_size("last", Some(101), 20, 100).unwrap_err();
        assert_eq!(
            error,
            ApiError::validation("last", "a page holds at most 100 items")
        );
        assert!(page_size("first", Some(-1), 20, 100).is_err());
        assert_eq!(cost(Some(5_000), 20, 100), 100);
        assert_eq!(cost_either_way(None, Some(7), 20, 100), 7);
    }
}
