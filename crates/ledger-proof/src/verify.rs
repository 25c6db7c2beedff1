//! The verifiers an auditor runs: RFC 9162 §2.1.3.2 (inclusion) and §2.1.4.2
//! (consistency), written to need nothing but the proof and the hashes it claims.
//!
//! Each first checks the proof's length against the one the sizes call for, so a
//! truncated or extended proof is named as such, and then recomputes the root(s)
//! exactly as the RFC's steps say.

use crate::error::ProofError;
use crate::hash::{Hash, empty_root, node_hash};

/// How many hashes the inclusion proof of leaf `index` in a tree of `tree_size` leaves
/// has, for `index < tree_size`: the levels below the point where the leaf's path
/// leaves the tree's right edge (`inner`), plus one per left subtree passed above it.
pub fn inclusion_proof_length(index: u64, tree_size: u64) -> usize {
    let inner = u64::BITS - (index ^ (tree_size.saturating_sub(1))).leading_zeros();
    let border = index.checked_shr(inner).unwrap_or(0).count_ones();
    usize::try_from(inner + border).unwrap_or(usize::MAX)
}

/// How many hashes the consistency proof from `old_size` to `new_size` has, for
/// `0 < old_size < new_size`; one fewer when the old tree is a perfect subtree, whose
/// root the verifier already has.
pub fn consistency_proof_length(old_size: u64, new_size: u64) -> usize {
    let last_old = old_size.saturating_sub(1);
    let inner = u64::BITS - (last_old ^ new_size.saturating_sub(1)).leading_zeros();
    let border = last_old.checked_shr(inner).unwrap_or(0).count_ones();
    let shared = old_size.trailing_zeros();
    let seed = u32::from(!old_size.is_power_of_two());
    usize::try_from(seed + inner.saturating_sub(shared) + border).unwrap_or(usize::MAX)
}

/// Checks that `leaf_hash` is leaf `index` of the tree of `tree_size` leaves whose root
/// is `root` (RFC 9162 §2.1.3.2).
pub fn verify_inclusion(
    leaf_hash: &Hash,
    index: u64,
    tree_size: u64,
    proof: &[Hash],
    root: &Hash,
) -> Result<(), ProofError> {
    if tree_size == 0 {
        return Err(ProofError::EmptyTree);
    }
    if index >= tree_size {
        return Err(ProofError::IndexOutOfRange { index, tree_size });
    }
    let expected = inclusion_proof_length(index, tree_size);
    let length_error = ProofError::ProofLength {
        expected,
        actual: proof.len(),
    };
    if proof.len() != expected {
        return Err(length_error);
    }
    let mut node = index;
    let mut last_node = tree_size - 1;
    let mut computed = *leaf_hash;
    for sibling in proof {
        if last_node == 0 {
            return Err(length_error);
        }
        if node & 1 == 1 || node == last_node {
            computed = node_hash(sibling, &computed);
            // On the right edge, skip the levels where the node has no right sibling.
            while node & 1 == 0 && node != 0 {
                node >>= 1;
                last_node >>= 1;
            }
        } else {
            computed = node_hash(&computed, sibling);
        }
        node >>= 1;
        last_node >>= 1;
    }
    if last_node != 0 {
        return Err(length_error);
    }
    check_new_root(root, computed)
}

/// Checks that the tree of `old_size` leaves with root `old_root` is a prefix of the
/// tree of `new_size` leaves with root `new_root` (RFC 9162 §2.1.4.2).
///
/// Equal sizes need an empty proof and equal roots; an old size of 0 needs an empty
/// proof and the empty tree's root, since every tree extends the empty one.
pub fn verify_consistency(
    old_size: u64,
    new_size: u64,
    old_root: &Hash,
    new_root: &Hash,
    proof: &[Hash],
) -> Result<(), ProofError> {
    if old_size > new_size {
        return Err(ProofError::SizesOutOfOrder { old_size, new_size });
    }
    let expected = if old_size == 0 || old_size == new_size {
        0
    } else {
        consistency_proof_length(old_size, new_size)
    };
    let length_error = ProofError::ProofLength {
        expected,
        actual: proof.len(),
    };
    if proof.len() != expected {
        return Err(length_error);
    }
    if old_size == 0 {
        return check_old_root(old_root, empty_root());
    }
    if old_size == new_size {
        return check_new_root(new_root, *old_root);
    }

    // A perfect old tree is itself a node of the new tree: its root starts the walk.
    let (seed, rest) = if old_size.is_power_of_two() {
        (*old_root, proof)
    } else {
        match proof.split_first() {
            Some((first, rest)) => (*first, rest),
            None => return Err(length_error),
        }
    };
    let mut node = old_size - 1;
    let mut last_node = new_size - 1;
    while node & 1 == 1 {
        node >>= 1;
        last_node >>= 1;
    }
    let mut old_computed = seed;
    let mut new_computed = seed;
    for sibling in rest {
        if last_node == 0 {
            return Err(length_error);
        }
        if node & 1 == 1 || node == last_node {
            old_computed = node_hash(sibling, &old_computed);
            new_computed = node_hash(sibling, &new_computed);
            while node & 1 == 0 && node != 0 {
                node >>= 1;
                last_node >>= 1;
            }
        } else {
            new_computed = node_hash(&new_computed, sibling);
        }
        node >>= 1;
        last_node >>= 1;
    }
    if last_node != 0 {
        return Err(length_error);
    }
    check_old_root(old_root, old_computed)?;
    check_new_root(new_root, new_computed)
}

fn check_old_root(claimed: &Hash, computed: Hash) -> Result<(), ProofError> {
    if *claimed != computed {
        return Err(ProofError::OldRootMismatch {
            expected: *claimed,
            computed,
        });
    }
    Ok(())
}

fn check_new_root(claimed: &Hash, computed: Hash) -> Result<(), ProofError> {
    if *claimed != computed {
        return Err(ProofError::RootMismatch {
            expected: *claimed,
            computed,
        });
    }
    Ok(())
}
