//! Auditor proofs for the contact ledger: an RFC 9162 Merkle tree over every record in
//! position order, inclusion and consistency proofs, and Ed25519-signed checkpoints.
//!
//! The crate is pure: no IO, no async, no clock. The store feeds it and the API and CLI
//! read from it; an auditor needs none of it, as `tools/proof_verifier.py` checks the
//! same proofs with Python's standard library and `cryptography`.
//!
//! # Components
//!
//! - [`hash`]: RFC 9162 §2.1 hashing with SHA-256: `leaf_hash` = SHA-256(0x00 ‖ data),
//!   `node_hash` = SHA-256(0x01 ‖ left ‖ right), `empty_root` = SHA-256("").
//! - [`tree`]: `MerkleTree`, appended to as records are appended, answering the root
//!   and proofs for any size it has reached. It keeps the upper levels in memory
//!   (0.25 B per leaf by default) and reads the rest through a `LeafHashSource`.
//! - [`verify`]: `verify_inclusion` and `verify_consistency`, the RFC's algorithms.
//! - [`checkpoint`]: `Checkpoint` (origin, size, root, time), its canonical text, and
//!   `SignedCheckpoint` with an Ed25519 signature over that text.
//! - [`keys`]: Ed25519 keys from configuration text (hex or base64).
//!
//! # How a proof request flows
//!
//! The store appends `leaf_hash(&record.chain_hash)` to its `MerkleTree` for each
//! record it commits. For `inclusionProof(position, treeSize)` the API converts the
//! position with [`leaf_index`] and calls `tree.inclusion_proof(index, tree_size,
//! &store)`, the store being the `LeafHashSource`; the auditor checks the answer with
//! `verify_inclusion` (or the Python verifier) against a root it trusts, typically
//! from a signed checkpoint. `consistencyProof(fromSize, toSize)` works the same way
//! and shows that the checkpoint it kept earlier is a prefix of today's tree.
//!
//! # Positions and leaf indexes
//!
//! Ledger positions count records from 1; RFC 9162 leaf indexes count from 0. The whole
//! crate speaks leaf indexes, as the RFC and every other verifier do, and the
//! conversion happens once, at the edge, through [`leaf_index`] and [`position`]. A
//! tree size is a record count, which is also the last position: it needs no
//! conversion.

pub mod checkpoint;
pub mod error;
pub mod hash;
pub mod keys;
pub mod tree;
pub mod verify;

pub use checkpoint::{Checkpoint, CheckpointError, ORIGIN_DEFAULT, SignedCheckpoint};
pub use ed25519_dalek::{SigningKey, VerifyingKey};
pub use error::{CacheHeightTooLarge, ProofError, TreeError, TreeFull};
pub use hash::{Hash, HashParseError, empty_root, leaf_hash, node_hash};
pub use keys::{KeyError, key_id, parse_signing_key, parse_verifying_key, public_key_text};
pub use tree::{LeafHashSource, MerkleTree};
pub use verify::{verify_consistency, verify_inclusion};

/// The RFC 9162 leaf index of the record at ledger `position` (which counts from 1).
pub fn leaf_index(position: u64) -> Result<u64, ProofError> {
    position.checked_sub(1).ok_or(ProofError::PositionZero)
}

/// The ledger position of the record at RFC 9162 leaf `index`; `None` only for
/// `u64::MAX`, which no tree reaches.
pub fn position(leaf_index: u64) -> Option<u64> {
    leaf_index.checked_add(1)
}

#[cfg(test)]
mod reference;
#[cfg(test)]
mod tests;
