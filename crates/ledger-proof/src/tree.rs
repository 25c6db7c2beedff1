//! The incremental Merkle tree: appends in O(1) amortised, answers roots and proofs for
//! any size it has reached, and keeps only the upper part of the tree in memory.
//!
//! # Memory
//!
//! The tree keeps the hash of every *complete* subtree at heights `cache_height` and
//! above, plus the O(log n) frontier. Heights below `cache_height` are recomputed on
//! demand from leaf hashes that a [`LeafHashSource`] supplies: in the store, the
//! records' chain hashes already on disk. With the default cache height of 8 that is
//! 32 B × (1/256 + 1/512 + …) < 32 B × 2/256 = **0.25 B per leaf**: 2.5 MB for 10 M
//! records (up to twice that while a level's `Vec` has spare capacity). In exchange, a
//! past root reads at most one chunk of 256 leaf hashes from the source and a proof at
//! most two (a test holds the tree to that); the current root reads nothing. Cache
//! height 0 keeps every leaf hash and every node (64 B per leaf) and never reads the
//! source.
//!
//! # Rebuilding
//!
//! The tree is not persisted: on start the store appends every record's leaf hash
//! again, about two SHA-256 compressions per record.

use std::convert::Infallible;
use std::ops::Range;

use crate::error::{CacheHeightTooLarge, ProofError, TreeError, TreeFull};
use crate::hash::{Hash, empty_root, node_hash};

/// The cache height `MerkleTree::new` uses: 0.25 B per leaf, and a proof recomputes
/// at most 255 nodes from at most 256 leaf hashes per chunk it touches.
pub const CACHE_HEIGHT_DEFAULT: u32 = 8;

/// The largest cache height allowed. A proof may read a whole chunk of
/// 2^height leaf hashes; at 16 that is 65,536 hashes (2 MiB), which bounds the work
/// and memory of one request.
pub const CACHE_HEIGHT_MAX: u32 = 16;

/// The most leaves a tree takes: 2^48, far beyond any ledger this serves (its cached
/// nodes alone would need 70 TB), and low enough that no size or shift computed from a
/// size can overflow a `u64`.
pub const LEAF_COUNT_MAX: u64 = 1 << 48;

/// Where the tree reads the leaf hashes it does not keep.
///
/// Leaves are numbered from 0 (RFC 9162's leaf index). In the ledger, leaf `i` is the
/// record at position `i + 1`, and its leaf hash is `leaf_hash(&chain_hash)`: the
/// store's implementation does that conversion.
pub trait LeafHashSource {
    /// Why a read failed (a storage error).
    type Error;

    /// Appends the leaf hashes of `leaves` to `into`, in order: exactly
    /// `leaves.end - leaves.start` of them. The tree checks both the count and, against
    /// the nodes it keeps, the hashes themselves.
    fn read_leaf_hashes(&self, leaves: Range<u64>, into: &mut Vec<Hash>)
    -> Result<(), Self::Error>;
}

impl LeafHashSource for [Hash] {
    type Error = Infallible;

    /// Appends nothing for a range the slice does not hold; the tree reports the short
    /// read.
    fn read_leaf_hashes(&self, leaves: Range<u64>, into: &mut Vec<Hash>) -> Result<(), Infallible> {
        let (Ok(start), Ok(end)) = (usize::try_from(leaves.start), usize::try_from(leaves.end))
        else {
            return Ok(());
        };
        if let Some(hashes) = self.get(start..end) {
            into.extend_from_slice(hashes);
        }
        Ok(())
    }
}

impl LeafHashSource for Vec<Hash> {
    type Error = Infallible;

    fn read_leaf_hashes(&self, leaves: Range<u64>, into: &mut Vec<Hash>) -> Result<(), Infallible> {
        self.as_slice().read_leaf_hashes(leaves, into)
    }
}

/// An append-only RFC 9162 Merkle tree over leaf hashes.
///
/// Sizes and indexes are RFC 9162's: a tree of size `n` holds leaves `0..n`. A ledger
/// position `p` is leaf index `p - 1` (see [`crate::leaf_index`]), and the tree size
/// equals the last position.
#[derive(Debug, Clone)]
pub struct MerkleTree {
    size: u64,
    cache_height: u32,
    /// The perfect subtrees whose concatenation is the tree of `size` leaves, largest
    /// (leftmost) first: one for each set bit of `size`.
    frontier: Vec<Hash>,
    /// `levels[j][i]` is the hash of the complete subtree of height
    /// `h = cache_height + j` that covers leaves `i·2^h .. (i+1)·2^h`.
    levels: Vec<Vec<Hash>>,
}

impl Default for MerkleTree {
    fn default() -> Self {
        Self::new()
    }
}

impl MerkleTree {
    /// An empty tree with the default cache height.
    pub fn new() -> Self {
        Self {
            size: 0,
            cache_height: CACHE_HEIGHT_DEFAULT,
            frontier: Vec::new(),
            levels: Vec::new(),
        }
    }

    /// An empty tree that keeps complete subtrees from `cache_height` up. Lower heights
    /// trade memory for reads: each step down doubles the memory and halves the chunk
    /// a proof reads.
    pub fn with_cache_height(cache_height: u32) -> Result<Self, CacheHeightTooLarge> {
        if cache_height > CACHE_HEIGHT_MAX {
            return Err(CacheHeightTooLarge {
                cache_height,
                cache_height_max: CACHE_HEIGHT_MAX,
            });
        }
        Ok(Self {
            cache_height,
            ..Self::new()
        })
    }

    /// How many leaves the tree holds.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// The height from which complete subtrees are kept in memory.
    pub fn cache_height(&self) -> u32 {
        self.cache_height
    }

    /// How many hashes the tree keeps in memory (cached nodes and frontier), for
    /// reporting; multiply by 32 for bytes.
    pub fn hashes_held(&self) -> usize {
        self.frontier.len() + self.levels.iter().map(Vec::len).sum::<usize>()
    }

    /// Appends a leaf hash and returns the new size.
    pub fn append(&mut self, leaf_hash: Hash) -> Result<u64, TreeFull> {
        if self.size >= LEAF_COUNT_MAX {
            return Err(TreeFull {
                leaf_count_max: LEAF_COUNT_MAX,
            });
        }
        let mut hash = leaf_hash;
        let mut height = 0_u32;
        self.cache(height, hash);
        // Each trailing one bit of the old size is a perfect subtree of the same height
        // as the one just completed, sitting to its left: merge them, as in binary
        // addition. `frontier` holds one hash per set bit, so the pop always succeeds.
        while (self.size >> height) & 1 == 1 {
            let Some(left) = self.frontier.pop() else {
                debug_assert!(false, "frontier shorter than the set bits of the size");
                break;
            };
            hash = node_hash(&left, &hash);
            height += 1;
            self.cache(height, hash);
        }
        self.frontier.push(hash);
        self.size += 1;
        debug_assert_eq!(
            u32::try_from(self.frontier.len()).ok(),
            Some(self.size.count_ones())
        );
        Ok(self.size)
    }

    /// The root of the tree as it is now, read from memory alone.
    pub fn root(&self) -> Hash {
        let mut hashes = self.frontier.iter().rev();
        let Some(smallest) = hashes.next() else {
            return empty_root();
        };
        hashes.fold(*smallest, |right, left| node_hash(left, &right))
    }

    /// The root the tree had when it held `size` leaves (RFC 9162 §2.1.1 MTH).
    pub fn root_at<S>(&self, size: u64, leaves: &S) -> Result<Hash, TreeError<S::Error>>
    where
        S: LeafHashSource + ?Sized,
    {
        self.check_size(size)?;
        if size == self.size {
            return Ok(self.root());
        }
        if size == 0 {
            return Ok(empty_root());
        }
        NodeReader::new(self, leaves).subtree_root(0, size)
    }

    /// The inclusion proof (audit path) of leaf `index` in the tree of `size` leaves,
    /// leaf-side first (RFC 9162 §2.1.3.1 PATH).
    pub fn inclusion_proof<S>(
        &self,
        index: u64,
        size: u64,
        leaves: &S,
    ) -> Result<Vec<Hash>, TreeError<S::Error>>
    where
        S: LeafHashSource + ?Sized,
    {
        self.check_size(size)?;
        if size == 0 {
            return Err(ProofError::EmptyTree.into());
        }
        if index >= size {
            return Err(ProofError::IndexOutOfRange {
                index,
                tree_size: size,
            }
            .into());
        }
        let mut reader = NodeReader::new(self, leaves);
        // Walk down from the root, keeping the sibling of each subtree that holds the
        // leaf; PATH lists them from the leaf up, hence the reverse.
        let mut proof = Vec::new();
        let (mut start, mut end) = (0, size);
        while end - start > 1 {
            let split = start + largest_power_of_two_below(end - start);
            if index < split {
                proof.push(reader.subtree_root(split, end)?);
                end = split;
            } else {
                proof.push(reader.subtree_root(start, split)?);
                start = split;
            }
        }
        proof.reverse();
        Ok(proof)
    }

    /// The consistency proof that the tree of `old_size` leaves is a prefix of the tree
    /// of `new_size` leaves (RFC 9162 §2.1.4.1 PROOF). Empty when the sizes are equal or
    /// `old_size` is 0: every tree extends the empty tree.
    pub fn consistency_proof<S>(
        &self,
        old_size: u64,
        new_size: u64,
        leaves: &S,
    ) -> Result<Vec<Hash>, TreeError<S::Error>>
    where
        S: LeafHashSource + ?Sized,
    {
        self.check_size(new_size)?;
        if old_size > new_size {
            return Err(ProofError::SizesOutOfOrder { old_size, new_size }.into());
        }
        if old_size == 0 {
            return Ok(Vec::new());
        }
        let mut reader = NodeReader::new(self, leaves);
        // SUBPROOF(m, D[start..end], whole) unrolled: `whole` is true while the range
        // still starts at leaf 0, where the old root is known to the verifier and needs
        // no hash in the proof.
        let mut proof = Vec::new();
        let (mut start, mut end, mut whole) = (0, new_size, true);
        while old_size != end {
            let split = start + largest_power_of_two_below(end - start);
            if old_size <= split {
                proof.push(reader.subtree_root(split, end)?);
                end = split;
            } else {
                proof.push(reader.subtree_root(start, split)?);
                start = split;
                whole = false;
            }
        }
        if !whole {
            proof.push(reader.subtree_root(start, end)?);
        }
        proof.reverse();
        Ok(proof)
    }

    fn check_size(&self, size: u64) -> Result<(), ProofError> {
        if size > self.size {
            return Err(ProofError::SizeBeyondTree {
                size,
                tree_size: self.size,
            });
        }
        Ok(())
    }

    /// Keeps a just-completed subtree of `height` if it is at or above the cache height.
    fn cache(&mut self, height: u32, hash: Hash) {
        let Some(level) = height
            .checked_sub(self.cache_height)
            .and_then(|level| usize::try_from(level).ok())
        else {
            return;
        };
        if self.levels.len() <= level {
            self.levels.resize_with(level + 1, Vec::new);
        }
        if let Some(hashes) = self.levels.get_mut(level) {
            hashes.push(hash);
        }
    }

    /// The kept hash of the complete subtree of `height` whose leaves start at
    /// `index · 2^height`, if the tree keeps it.
    fn cached(&self, height: u32, index: u64) -> Option<Hash> {
        let level = usize::try_from(height.checked_sub(self.cache_height)?).ok()?;
        let index = usize::try_from(index).ok()?;
        self.levels.get(level)?.get(index).copied()
    }
}

/// Reads subtree hashes for one request: kept nodes from the tree, lower nodes
/// recomputed from one chunk of leaf hashes at a time, each chunk checked against
/// the tree before use.
struct NodeReader<'tree, S: ?Sized> {
    tree: &'tree MerkleTree,
    leaves: &'tree S,
    /// The first leaf of the chunk in `chunk`, when one is loaded.
    chunk_start: Option<u64>,
    chunk: Vec<Hash>,
}

impl<'tree, S> NodeReader<'tree, S>
where
    S: LeafHashSource + ?Sized,
{
    fn new(tree: &'tree MerkleTree, leaves: &'tree S) -> Self {
        Self {
            tree,
            leaves,
            chunk_start: None,
            chunk: Vec::new(),
        }
    }

    /// MTH(D[start..end]) for `start < end <= tree.size`.
    fn subtree_root(&mut self, start: u64, end: u64) -> Result<Hash, TreeError<S::Error>> {
        debug_assert!(start < end && end <= self.tree.size);
        let length = end - start;
        if length.is_power_of_two() && start & (length - 1) == 0 {
            let height = length.trailing_zeros();
            if let Some(hash) = self.tree.cached(height, start >> height) {
                return Ok(hash);
            }
        }
        let chunk_height = self.tree.cache_height;
        if start >> chunk_height == (end - 1) >> chunk_height {
            return self.root_within_chunk(start, end);
        }
        let split = start + largest_power_of_two_below(length);
        let left = self.subtree_root(start, split)?;
        let right = self.subtree_root(split, end)?;
        Ok(node_hash(&left, &right))
    }

    /// MTH(D[start..end]) for a range inside one chunk, from its leaf hashes.
    fn root_within_chunk(&mut self, start: u64, end: u64) -> Result<Hash, TreeError<S::Error>> {
        let chunk_start = self.load_chunk(start >> self.tree.cache_height)?;
        let offset = |leaf: u64| usize::try_from(leaf - chunk_start).ok();
        match (offset(start), offset(end)) {
            (Some(from), Some(to)) if from < to && to <= self.chunk.len() => {
                Ok(root_of_leaf_hashes(&self.chunk[from..to]))
            }
            _ => Err(TreeError::SourceLength {
                start,
                end,
                returned: self.chunk.len(),
            }),
        }
    }

    /// Loads chunk `chunk_index` (clipped to the tree's size) unless it is loaded, and
    /// returns its first leaf.
    fn load_chunk(&mut self, chunk_index: u64) -> Result<u64, TreeError<S::Error>> {
        let chunk_height = self.tree.cache_height;
        let start = chunk_index << chunk_height;
        if self.chunk_start == Some(start) {
            return Ok(start);
        }
        let end = (start + (1 << chunk_height)).min(self.tree.size);
        self.chunk_start = None;
        self.chunk.clear();
        self.leaves
            .read_leaf_hashes(start..end, &mut self.chunk)
            .map_err(TreeError::Source)?;
        if u64::try_from(self.chunk.len()).ok() != Some(end - start) {
            return Err(TreeError::SourceLength {
                start,
                end,
                returned: self.chunk.len(),
            });
        }
        self.check_chunk(chunk_index, start, end)?;
        self.chunk_start = Some(start);
        Ok(start)
    }

    /// Checks freshly read leaf hashes against what the tree keeps: a complete chunk
    /// against its cached node, the last, partial chunk against the frontier. A store
    /// that serves a wrong hash is caught here rather than producing a proof that
    /// fails only at the auditor's.
    fn check_chunk(
        &self,
        chunk_index: u64,
        start: u64,
        end: u64,
    ) -> Result<(), TreeError<S::Error>> {
        let chunk_height = self.tree.cache_height;
        if end - start == 1 << chunk_height {
            let Some(expected) = self.tree.cached(chunk_height, chunk_index) else {
                return Ok(());
            };
            if root_of_leaf_hashes(&self.chunk) != expected {
                return Err(TreeError::SourceMismatch { start, end });
            }
            return Ok(());
        }
        // A partial chunk is the tail of the tree: its perfect subtrees, largest first,
        // are the last frontier entries, one per set bit of its length.
        let tail_length = end - start;
        let subtree_count = usize::try_from(tail_length.count_ones()).unwrap_or(usize::MAX);
        let Some(first) = self.tree.frontier.len().checked_sub(subtree_count) else {
            return Err(TreeError::SourceMismatch { start, end });
        };
        let mut remaining = self.chunk.as_slice();
        for (expected, bit) in self.tree.frontier[first..]
            .iter()
            .zip(set_bits_high_to_low(tail_length))
        {
            let width = usize::try_from(bit).unwrap_or(usize::MAX);
            let Some((subtree, rest)) = remaining.split_at_checked(width) else {
                return Err(TreeError::SourceMismatch { start, end });
            };
            if root_of_leaf_hashes(subtree) != *expected {
                return Err(TreeError::SourceMismatch { start, end });
            }
            remaining = rest;
        }
        Ok(())
    }
}

/// The powers of two that sum to `value`, largest first.
fn set_bits_high_to_low(value: u64) -> impl Iterator<Item = u64> {
    (0..u64::BITS)
        .rev()
        .map(|bit| 1_u64 << bit)
        .filter(move |power| value & power != 0)
}

/// The largest power of two strictly below `length`, for `length >= 2`: RFC 9162's
/// split point `k`.
pub(crate) fn largest_power_of_two_below(length: u64) -> u64 {
    debug_assert!(length >= 2);
    1 << (u64::BITS - 1 - (length - 1).leading_zeros())
}

/// MTH over leaf hashes held in memory, straight from the RFC's recursive definition.
/// Only ever called on at most one chunk (≤ 2^CACHE_HEIGHT_MAX hashes), so the
/// recursion is at most 16 deep.
fn root_of_leaf_hashes(leaf_hashes: &[Hash]) -> Hash {
    match leaf_hashes {
        [] => empty_root(),
        [only] => *only,
        _ => {
            let length = u64::try_from(leaf_hashes.len()).unwrap_or(u64::MAX);
            let split = usize::try_from(largest_power_of_two_below(length)).unwrap_or(usize::MAX);
            let (left, right) = leaf_hashes.split_at(split.min(leaf_hashes.len()));
            node_hash(&root_of_leaf_hashes(left), &root_of_leaf_hashes(right))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_split_is_the_largest_power_of_two_below_the_length() {
        for (length, split) in [(2, 1), (3, 2), (4, 2), (5, 4), (8, 4), (9, 8), (1000, 512)] {
            assert_eq!(largest_power_of_two_below(length), split, "length {length}");
        }
        assert_eq!(
            largest_power_of_two_below(LEAF_COUNT_MAX),
            LEAF_COUNT_MAX / 2
        );
        assert_eq!(largest_power_of_two_below(u64::MAX), 1 << 63);
    }

    #[test]
    fn a_full_tree_refuses_more_leaves() {
        let mut tree = MerkleTree {
            size: LEAF_COUNT_MAX,
            frontier: vec![empty_root()],
            ..MerkleTree::new()
        };
        assert_eq!(
            tree.append(empty_root()),
            Err(TreeFull {
                leaf_count_max: LEAF_COUNT_MAX
            })
        );
        assert_eq!(tree.size(), LEAF_COUNT_MAX);
    }

    #[test]
    fn set_bits_come_largest_first() {
        assert_eq!(set_bits_high_to_low(0b1011).collect::<Vec<_>>(), [8, 2, 1]);
        assert_eq!(set_bits_high_to_low(0).count(), 0);
    }
}
