//! The errors: `ProofError` for what a caller or an auditor asked or sent, `TreeError`
//! for that plus a leaf source that failed or disagrees with the tree.
//!
//! The split follows who handles each: a `ProofError` is an expected rejection that the
//! API reports to its caller (a position past the end, a tampered proof), while the
//! other `TreeError` variants mean the store is broken and belong in an operator's log.

use crate::hash::Hash;

/// The ledger position of a leaf index, widened so that no index overflows it.
fn position_of(index: &u64) -> u128 {
    u128::from(*index) + 1
}

/// A request that cannot be answered, or a proof that does not prove what it claims.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    #[error("ledger positions start at 1; position 0 names no record")]
    PositionZero,
    #[error("a tree of size 0 has no leaves, so nothing can be proved included in it")]
    EmptyTree,
    #[error("leaf index {index} (position {}) is outside a tree of size {tree_size}", position_of(.index))]
    IndexOutOfRange { index: u64, tree_size: u64 },
    #[error("tree size {size} is beyond the {tree_size} leaves the tree holds")]
    SizeBeyondTree { size: u64, tree_size: u64 },
    #[error("the old tree size {old_size} is larger than the new tree size {new_size}")]
    SizesOutOfOrder { old_size: u64, new_size: u64 },
    #[error("the proof has {actual} hashes where these sizes call for {expected}")]
    ProofLength { expected: usize, actual: usize },
    #[error("the proof leads to root {computed}, not to the claimed root {expected}")]
    RootMismatch { expected: Hash, computed: Hash },
    #[error("the proof leads to old root {computed}, not to the claimed old root {expected}")]
    OldRootMismatch { expected: Hash, computed: Hash },
}

/// A failure while reading the tree: a bad request, or a leaf source that failed.
///
/// `E` is the leaf source's own error (a storage error in the store; `Infallible`
/// for leaf hashes held in memory).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TreeError<E> {
    #[error(transparent)]
    Request(#[from] ProofError),
    #[error("reading leaf hashes failed: {0}")]
    Source(E),
    #[error("the leaf source returned {returned} leaf hashes for leaves {start}..{end}")]
    SourceLength {
        start: u64,
        end: u64,
        returned: usize,
    },
    #[error(
        "the leaf hashes of leaves {start}..{end} do not hash to the node the tree holds for \
         them: the leaf source and the tree disagree"
    )]
    SourceMismatch { start: u64, end: u64 },
}

/// The tree holds `LEAF_COUNT_MAX` leaves and takes no more.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the Merkle tree is full: it holds at most {leaf_count_max} leaves")]
pub struct TreeFull {
    pub leaf_count_max: u64,
}

/// A cache height above `CACHE_HEIGHT_MAX` was asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a cache height of {cache_height} is above the maximum of {cache_height_max}")]
pub struct CacheHeightTooLarge {
    pub cache_height: u32,
    pub cache_height_max: u32,
}
