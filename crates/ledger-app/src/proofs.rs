//! Auditor proofs over the log: an RFC 9162 Merkle tree whose leaves are the records in
//! position order, the store as its leaf source, and the roots, inclusion and consistency
//! proofs and signed checkpoints an auditor asks for.
//!
//! # Leaves
//!
//! Leaf `i` (RFC 9162's leaf index, from 0) is the record at **position `i + 1`**, and its leaf
//! hash is `leaf_hash(&record.hash)`: SHA-256(0x00 ‖ the record's 32-byte chain hash). The chain
//! hash covers the previous record's hash and the record's bytes, so a leaf commits to its record
//! and, through the chain, to everything before it. A tree size is a record count, which is also
//! the last position the tree holds, so sizes need no conversion.
//!
//! # Keeping up with the log
//!
//! The tree is not persisted. [`crate::Ledger::open`] gathers its leaves from the store's open
//! walk, which reads and checks every record anyway ([`OpenLeaves`]), so a ledger opened from
//! disk starts with the whole tree. Otherwise [`LedgerTree`] starts empty. Either way it is
//! extended lazily: every request
//! first appends, under the tree's write lock, the leaf hashes of the records between the tree's
//! size and the log's durable head, reading the log in pages of [`TREE_PAGE_RECORDS`]; then it
//! answers under the read lock. A tree that starts empty is built whole by the first request
//! (a few microseconds a record: the log's read path re-checks each record's blake3 hash);
//! later ones add only what was appended since. No task follows the log, so the tree cannot
//! fall behind or stop unnoticed; `contact-ledger serve` asks for the head once on start so that
//! the first auditor does not wait for the build.
//!
//! Memory stays bounded: the `MerkleTree` keeps complete subtrees from height 8 up (0.25 B a
//! leaf, see `ledger_proof::tree`) and recomputes lower nodes from leaf hashes that
//! [`StoreLeaves`] reads back from the log, at most two chunks of 256 records per proof. A
//! build holds one page of records at a time.
//!
//! # Checks
//!
//! An extension checks that records arrive at contiguous positions and that the last one it
//! appends is the head it set out to reach (same hash). Every proof is verified with
//! `ledger_proof`'s verifiers, and every checkpoint's signature with the public key, before it is
//! returned: a broken tree or store is reported as a [`TreeFailure`], never handed to an auditor
//! as a proof that fails only at their end.

use std::ops::Range;
use std::sync::{PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use ledger_domain::ids::Position;
use ledger_proof::{
    Checkpoint, CheckpointError, Hash, LeafHashSource, MerkleTree, ORIGIN_DEFAULT, ProofError,
    SignedCheckpoint, SigningKey, TreeError, TreeFull, empty_root, leaf_hash, verify_consistency,
    verify_inclusion,
};
use ledger_store::limits::READ_PAGE_MAX;
use ledger_store::{EventLog, RecordedEvent, SledEventLog, StoreFailure};

/// Records read per page while the tree catches up with the log, and per read of leaf hashes:
/// the log's own page limit (about 4 MiB of records), so a build holds one page at a time.
pub const TREE_PAGE_RECORDS: usize = READ_PAGE_MAX;

/// The tree's size and root at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TreeHead {
    /// Records in the tree: also the last position it holds.
    pub size: u64,
    pub root: Hash,
}

/// That the record at `position` is leaf `leaf_index` of the tree of `tree_size` records whose
/// root is `root_hash` (RFC 9162 §2.1.3): `proof` is the audit path, leaf side first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InclusionProof {
    pub position: Position,
    /// `position - 1`.
    pub leaf_index: u64,
    /// `leaf_hash(&record.hash)` of the record at `position`.
    pub leaf_hash: Hash,
    pub tree_size: u64,
    pub root_hash: Hash,
    pub proof: Vec<Hash>,
}

/// That the tree of `from_size` records (root `from_root`) is a prefix of the tree of `to_size`
/// records (root `to_root`), RFC 9162 §2.1.4: the ledger only grew in between.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsistencyProof {
    pub from_size: u64,
    pub to_size: u64,
    pub from_root: Hash,
    pub to_root: Hash,
    pub proof: Vec<Hash>,
}

/// A request the ledger cannot answer as asked: the caller's to fix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ProofRejection {
    #[error("ledger positions start at 1; position 0 names no record")]
    PositionZero,
    #[error("position {position} is beyond the ledger's head ({head})")]
    PositionBeyondHead { position: u64, head: u64 },
    #[error(
        "position {position} is not in the tree of size {tree_size}; a tree holds positions 1 to its size"
    )]
    PositionOutsideTree { position: u64, tree_size: u64 },
    #[error("there is no tree of size {size} yet: the ledger holds {head} records")]
    SizeBeyondHead { size: u64, head: u64 },
    #[error("the old tree size {from_size} is larger than the new tree size {to_size}")]
    SizesOutOfOrder { from_size: u64, to_size: u64 },
}

/// The tree or the store behind it is broken: an operator's problem, not the caller's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TreeFailure {
    #[error(transparent)]
    Store(#[from] StoreFailure),
    #[error("the Merkle tree: {0}")]
    Tree(TreeError<StoreFailure>),
    #[error(transparent)]
    Full(#[from] TreeFull),
    #[error("the Merkle tree at position {position}: {detail}")]
    Diverged { position: u64, detail: String },
    #[error("a proof the tree produced does not verify ({0}): the tree or the store is broken")]
    SelfCheck(ProofError),
    #[error("the checkpoint: {0}")]
    Checkpoint(#[from] CheckpointError),
}

impl From<TreeError<StoreFailure>> for TreeFailure {
    fn from(error: TreeError<StoreFailure>) -> Self {
        match error {
            TreeError::Source(failure) => Self::Store(failure),
            other => Self::Tree(other),
        }
    }
}

/// Why a proof or past root was not given.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProofRequestError {
    #[error(transparent)]
    Rejected(#[from] ProofRejection),
    #[error(transparent)]
    Failed(#[from] TreeFailure),
}

impl From<TreeError<StoreFailure>> for ProofRequestError {
    fn from(error: TreeError<StoreFailure>) -> Self {
        Self::Failed(error.into())
    }
}

/// The log as the tree's leaf source: leaf `i` is `leaf_hash(&hash)` of the record at position
/// `i + 1`, read with `read_all` (which re-checks each record's chain hash).
#[derive(Debug, Clone, Copy)]
pub struct StoreLeaves<'log> {
    log: &'log SledEventLog,
}

impl<'log> StoreLeaves<'log> {
    pub fn new(log: &'log SledEventLog) -> Self {
        Self { log }
    }
}

impl LeafHashSource for StoreLeaves<'_> {
    type Error = StoreFailure;

    /// Appends what the log holds of `leaves`; a short read (past the head) is left for the
    /// tree to report.
    fn read_leaf_hashes(
        &self,
        leaves: Range<u64>,
        into: &mut Vec<Hash>,
    ) -> Result<(), StoreFailure> {
        let mut next = leaves.start;
        while next < leaves.end {
            let wanted = usize::try_from(leaves.end - next)
                .unwrap_or(usize::MAX)
                .min(TREE_PAGE_RECORDS);
            // Leaf indexes stay below `LEAF_COUNT_MAX` (2^48): `next + 1` cannot overflow.
            let page = self.log.read_all(Position(next + 1), wanted)?;
            if page.is_empty() {
                break;
            }
            for record in &page {
                check_position(record.position, next + 1)?;
                into.push(leaf_hash(&record.hash));
                next += 1;
            }
        }
        Ok(())
    }
}

/// The log serves records at contiguous positions; a gap means its index is broken.
fn check_position(actual: Position, expected: u64) -> Result<(), StoreFailure> {
    if actual.get() == expected {
        return Ok(());
    }
    Err(StoreFailure::Corrupt {
        position: Position(expected),
        detail: format!("the log served position {actual} where {expected} was asked for"),
    })
}

/// The tree's leaves gathered from the open's walk of the log
/// ([`SledEventLog::open_visiting`]), which reads every record anyway: the first request then
/// has nothing to read, and the server does not read the whole log a second time after opening
/// (at 10 M events that was 16 s, and ~100 MiB of sled's cache on top of the open's peak).
#[derive(Debug, Default)]
pub struct OpenLeaves {
    tree: MerkleTree,
    /// Set when a record came out of order or the tree was full: the leaves are then dropped
    /// and the tree is built by reading the log, as without them.
    broken: bool,
}

impl OpenLeaves {
    /// Adds the leaf of `record`, the next one in position order.
    pub fn visit(&mut self, record: &RecordedEvent) {
        if self.broken {
            return;
        }
        let next = self.tree.size() + 1;
        if record.position.get() != next || self.tree.append(leaf_hash(&record.hash)).is_err() {
            self.broken = true;
        }
    }

    /// The tree, or an empty one when the leaves could not all be taken.
    fn into_tree(self) -> MerkleTree {
        if self.broken {
            MerkleTree::new()
        } else {
            self.tree
        }
    }
}

/// The ledger's Merkle tree, extended lazily up to the log's head (see the module docs).
///
/// Every method reads the store synchronously: call it from a blocking thread when the tree
/// may have a large backlog to catch up on (the first request after open).
#[derive(Debug)]
pub struct LedgerTree {
    log: SledEventLog,
    tree: RwLock<MerkleTree>,
}

impl LedgerTree {
    /// An empty tree over `log`; the first request builds it.
    pub fn new(log: SledEventLog) -> Self {
        Self::starting_from(log, OpenLeaves::default())
    }

    /// A tree over `log` holding the leaves gathered while it opened (see [`OpenLeaves`]);
    /// requests extend it from there.
    pub fn starting_from(log: SledEventLog, leaves: OpenLeaves) -> Self {
        Self {
            log,
            tree: RwLock::new(leaves.into_tree()),
        }
    }

    /// Extends the tree to the log's durable head and returns its size (at least that head).
    pub fn catch_up(&self) -> Result<u64, TreeFailure> {
        let head = self.log.head();
        let target = head.position.get();
        if !self.tree.is_poisoned() {
            let size = self.read_tree().size();
            if size >= target {
                return Ok(size);
            }
        }
        let mut tree = self.write_tree();
        while tree.size() < target {
            let first = tree.size() + 1;
            let wanted = usize::try_from(target - tree.size())
                .unwrap_or(usize::MAX)
                .min(TREE_PAGE_RECORDS);
            let page = self.log.read_all(Position(first), wanted)?;
            if page.is_empty() {
                return Err(TreeFailure::Diverged {
                    position: first,
                    detail: format!("the log's head is {target}, but it serves nothing from here"),
                });
            }
            for record in &page {
                check_position(record.position, tree.size() + 1)?;
                tree.append(leaf_hash(&record.hash))?;
                if record.position == head.position && record.hash != head.hash {
                    return Err(TreeFailure::Diverged {
                        position: target,
                        detail: "the record served at the head does not have the head's hash"
                            .to_owned(),
                    });
                }
            }
        }
        Ok(tree.size())
    }

    /// The tree as it is now, caught up with the log.
    pub fn head(&self) -> Result<TreeHead, TreeFailure> {
        self.catch_up()?;
        let tree = self.read_tree();
        Ok(TreeHead {
            size: tree.size(),
            root: tree.root(),
        })
    }

    /// The root the tree had at `size` records (the empty tree's root at 0).
    pub fn root_at(&self, size: u64) -> Result<Hash, ProofRequestError> {
        let head = self.catch_up()?;
        check_size(size, head)?;
        Ok(self
            .read_tree()
            .root_at(size, &StoreLeaves::new(&self.log))?)
    }

    /// The inclusion proof of the record at `position` in the tree of `tree_size` records (the
    /// current head when `None`).
    pub fn inclusion_proof(
        &self,
        position: Position,
        tree_size: Option<u64>,
    ) -> Result<InclusionProof, ProofRequestError> {
        let Some(leaf_index) = position.get().checked_sub(1) else {
            return Err(ProofRejection::PositionZero.into());
        };
        let head = self.catch_up()?;
        let tree_size = tree_size.unwrap_or(head);
        check_size(tree_size, head)?;
        if position.get() > head {
            return Err(ProofRejection::PositionBeyondHead {
                position: position.get(),
                head,
            }
            .into());
        }
        if position.get() > tree_size {
            return Err(ProofRejection::PositionOutsideTree {
                position: position.get(),
                tree_size,
            }
            .into());
        }
        let leaves = StoreLeaves::new(&self.log);
        let tree = self.read_tree();
        let proof = tree.inclusion_proof(leaf_index, tree_size, &leaves)?;
        let root_hash = tree.root_at(tree_size, &leaves)?;
        drop(tree);
        let mut leaf = Vec::with_capacity(1);
        leaves
            .read_leaf_hashes(leaf_index..position.get(), &mut leaf)
            .map_err(TreeFailure::Store)?;
        let [leaf_hash] = leaf[..] else {
            return Err(TreeFailure::Diverged {
                position: position.get(),
                detail: "the log does not serve this record".to_owned(),
            }
            .into());
        };
        verify_inclusion(&leaf_hash, leaf_index, tree_size, &proof, &root_hash)
            .map_err(TreeFailure::SelfCheck)?;
        Ok(InclusionProof {
            position,
            leaf_index,
            leaf_hash,
            tree_size,
            root_hash,
            proof,
        })
    }

    /// The consistency proof from the tree of `from_size` records to the tree of `to_size`
    /// records (the current head when `None`).
    pub fn consistency_proof(
        &self,
        from_size: u64,
        to_size: Option<u64>,
    ) -> Result<ConsistencyProof, ProofRequestError> {
        let head = self.catch_up()?;
        let to_size = to_size.unwrap_or(head);
        check_size(from_size, head)?;
        check_size(to_size, head)?;
        if from_size > to_size {
            return Err(ProofRejection::SizesOutOfOrder { from_size, to_size }.into());
        }
        let leaves = StoreLeaves::new(&self.log);
        let tree = self.read_tree();
        let proof = tree.consistency_proof(from_size, to_size, &leaves)?;
        let from_root = if from_size == 0 {
            empty_root()
        } else {
            tree.root_at(from_size, &leaves)?
        };
        let to_root = tree.root_at(to_size, &leaves)?;
        drop(tree);
        verify_consistency(from_size, to_size, &from_root, &to_root, &proof)
            .map_err(TreeFailure::SelfCheck)?;
        Ok(ConsistencyProof {
            from_size,
            to_size,
            from_root,
            to_root,
            proof,
        })
    }

    /// The current head as a checkpoint under [`ORIGIN_DEFAULT`] at `now` (whole seconds),
    /// signed with `key`.
    pub fn signed_checkpoint(
        &self,
        key: &SigningKey,
        now: jiff::Timestamp,
    ) -> Result<SignedCheckpoint, TreeFailure> {
        let head = self.head()?;
        let checkpoint = Checkpoint::new(ORIGIN_DEFAULT, head.size, head.root, now.as_second())?;
        let signed = checkpoint.sign(key);
        signed.verify(&key.verifying_key())?;
        Ok(signed)
    }

    /// The tree's size, unless a catch-up holds it right now (then `None`, without waiting).
    pub fn size_now(&self) -> Option<u64> {
        self.tree.try_read().ok().map(|tree| tree.size())
    }

    /// How many hashes the tree holds in memory (multiply by 32 for bytes).
    pub fn hashes_held(&self) -> usize {
        self.read_tree().hashes_held()
    }

    fn read_tree(&self) -> RwLockReadGuard<'_, MerkleTree> {
        // Only a writer's panic poisons the lock, and `catch_up` replaces a poisoned tree
        // before anything reads it.
        self.tree.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write_tree(&self) -> RwLockWriteGuard<'_, MerkleTree> {
        match self.tree.write() {
            Ok(tree) => tree,
            Err(poisoned) => {
                // A panic while extending may have left the tree half-updated. Start again from
                // an empty tree: the caller's catch-up rebuilds it from the log.
                let mut tree = poisoned.into_inner();
                *tree = MerkleTree::new();
                self.tree.clear_poison();
                tree
            }
        }
    }

    #[cfg(test)]
    fn replace_tree(&self, tree: MerkleTree) {
        *self.write_tree() = tree;
    }
}

fn check_size(size: u64, head: u64) -> Result<(), ProofRejection> {
    if size > head {
        return Err(ProofRejection::SizeBeyondHead { size, head });
    }
    Ok(())
}

#[cfg(test)]
mod tests;
