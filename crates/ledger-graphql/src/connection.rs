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

use async_graphql::SimpleObject;

use crate::errors::{ApiError, ApiResult, page_too_large};

/// Where a page sits in its list, and the cursors to page on from it.
#[derive(SimpleObject, Debug, Clone, Default, PartialEq, Eq)]
pub struct PageInfo {
    pub has_next_page: bool,
    pub has_previous_page: bool,
    /// Pass as `before` to read the page before this one.
    pub start_cursor: Option<String>,
    /// Pass as `after` to read the page after this one.
    pub end_cursor: Option<String>,
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
        #[derive(async_graphql::SimpleObject, Debug)]
        pub struct $edge {
            pub cursor: String,
            pub node: $node,
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
