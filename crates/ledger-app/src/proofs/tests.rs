//! The ledger's Merkle tree on a real store: its roots are RFC 9162's over the records' chain
//! hashes, its proofs verify, it keeps up with appends and survives a reopen, and bad requests
//! and a broken leaf source are typed errors.

use std::sync::Arc;

use ledger_domain::ids::{EventId, StaffId, StreamId};
use ledger_proof::{Hash, MerkleTree, empty_root, leaf_hash, verify_consistency, verify_inclusion};
use ledger_store::{
    AppendRequest, EventLog, ExpectedVersion, NewEvent, SledEventLog, StoreOptions,
};

use super::*;

fn event() -> NewEvent {
    NewEvent {
        event_id: EventId::new_v7(),
        event_type: "TestRecorded".to_owned(),
        schema_version: 1,
        occurred_at: jiff::Timestamp::UNIX_EPOCH,
        actor: StaffId::parse("actor", "tester").expect("a staff id"),
        correlation_id: None,
        causation_id: None,
        origin: None,
        payload: b"proof".to_vec(),
    }
}

/// Appends `count` events in requests of at most 1,000 (one group commit each).
async fn append(log: &SledEventLog, count: usize) {
    let stream = StreamId::parse("stream", "test-proofs").expect("a stream id");
    let mut left = count;
    while left > 0 {
        let batch = left.min(1000);
        let request = AppendRequest {
            stream: stream.clone(),
            expected: ExpectedVersion::Any,
            events: (0..batch).map(|_| event()).collect(),
        };
        log.append(request).await.expect("the append is durable");
        left -= batch;
    }
}

async fn log_with(dir: &std::path::Path, count: usize) -> SledEventLog {
    let log = SledEventLog::open(dir, StoreOptions::default()).expect("the log opens");
    append(&log, count).await;
    log
}

/// Every record's leaf hash, computed here from `read_all` without the ledger's tree.
fn independent_leaves(log: &SledEventLog) -> Vec<Hash> {
    let mut leaves = Vec::new();
    loop {
        let next = Position(u64::try_from(leaves.len()).expect("fits") + 1);
        let page = log.read_all(next, READ_PAGE_MAX).expect("the log reads");
        if page.is_empty() {
            return leaves;
        }
        leaves.extend(page.iter().map(|record| leaf_hash(&record.hash)));
    }
}

/// `ledger_proof`'s tree over `leaves`, keeping every node (so it never reads a source).
fn reference_tree(leaves: &[Hash]) -> MerkleTree {
    let mut tree = MerkleTree::with_cache_height(0).expect("height 0 is allowed");
    for leaf in leaves {
        tree.append(*leaf).expect("room in the tree");
    }
    tree
}

fn size_of(leaves: &[Hash]) -> u64 {
    u64::try_from(leaves.len()).expect("fits")
}

/// Sizes worth checking in a tree of `size` leaves: the small ones, chunk edges and the end.
fn interesting_sizes(size: u64) -> Vec<u64> {
    let mut sizes: Vec<u64> = (0..=size.min(20)).collect();
    sizes.extend([255, 256, 257, 511, 512, 513, 700, 1023, 1024, 1025]);
    sizes.extend(size.saturating_sub(3)..=size);
    sizes.retain(|&candidate| candidate <= size);
    sizes.sort_unstable();
    sizes.dedup();
    sizes
}

#[tokio::test]
async fn roots_are_rfc_9162s_over_the_records_chain_hashes() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let log = log_with(dir.path(), 1100).await;
    let tree = LedgerTree::new(log.clone());
    let leaves = independent_leaves(&log);
    assert_eq!(leaves.len(), 1100);
    let reference = reference_tree(&leaves);

    let head = tree.head().expect("the head");
    assert_eq!(head.size, 1100);
    assert_eq!(head.root, reference.root());
    for size in interesting_sizes(head.size) {
        let expected = reference.root_at(size, &leaves).expect("within the tree");
        assert_eq!(tree.root_at(size), Ok(expected), "size {size}");
    }
    assert_eq!(tree.root_at(0), Ok(empty_root()));
    log.close().await.expect("the log closes");
}

#[tokio::test]
async fn inclusion_and_consistency_proofs_verify_against_independent_roots() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let log = log_with(dir.path(), 1030).await;
    let tree = LedgerTree::new(log.clone());
    let leaves = independent_leaves(&log);
    let reference = reference_tree(&leaves);
    let root_at = |size: u64| reference.root_at(size, &leaves).expect("within the tree");
    let sizes = interesting_sizes(size_of(&leaves));

    for &size in sizes.iter().filter(|&&size| size > 0) {
        for position in [1, size / 2 + 1, size] {
            let proof = tree
                .inclusion_proof(Position(position), Some(size))
                .expect("a proof");
            let index = position - 1;
            assert_eq!(proof.position, Position(position));
            assert_eq!(proof.leaf_index, index);
            assert_eq!(proof.tree_size, size);
            assert_eq!(proof.root_hash, root_at(size));
            let leaf = leaves[usize::try_from(index).expect("fits")];
            assert_eq!(proof.leaf_hash, leaf);
            assert_eq!(
                verify_inclusion(&leaf, index, size, &proof.proof, &root_at(size)),
                Ok(())
            );
        }
    }
    for &from_size in &sizes {
        for &to_size in sizes.iter().filter(|&&to_size| to_size >= from_size) {
            let proof = tree
                .consistency_proof(from_size, Some(to_size))
                .expect("a proof");
            assert_eq!((proof.from_size, proof.to_size), (from_size, to_size));
            assert_eq!(proof.from_root, root_at(from_size));
            assert_eq!(proof.to_root, root_at(to_size));
            assert_eq!(
                verify_consistency(
                    from_size,
                    to_size,
                    &root_at(from_size),
                    &root_at(to_size),
                    &proof.proof
                ),
                Ok(()),
                "{from_size} -> {to_size}"
            );
        }
    }
    // Without a size, a proof is against the head.
    let latest = tree.inclusion_proof(Position(7), None).expect("a proof");
    assert_eq!(latest.tree_size, 1030);
    let grown = tree.consistency_proof(1000, None).expect("a proof");
    assert_eq!((grown.to_size, grown.to_root), (1030, reference.root()));
    log.close().await.expect("the log closes");
}

#[tokio::test]
async fn the_tree_keeps_up_with_appends_and_old_roots_stay_provable() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let log = log_with(dir.path(), 0).await;
    let tree = LedgerTree::new(log.clone());
    assert_eq!(
        tree.head(),
        Ok(TreeHead {
            size: 0,
            root: empty_root()
        })
    );
    let mut heads = vec![tree.head().expect("the head")];
    for batch in [1, 2, 300, 1, 700] {
        append(&log, batch).await;
        let head = tree.head().expect("the head");
        assert_eq!(head.size, log.head().position.get());
        heads.push(head);
    }
    let leaves = independent_leaves(&log);
    assert_eq!(
        heads.last().map(|head| head.root),
        Some(reference_tree(&leaves).root())
    );
    for old in &heads {
        assert_eq!(tree.root_at(old.size), Ok(old.root), "size {}", old.size);
        let newest = heads.last().expect("heads");
        let proof = tree
            .consistency_proof(old.size, Some(newest.size))
            .expect("a proof");
        assert_eq!(
            verify_consistency(old.size, newest.size, &old.root, &newest.root, &proof.proof),
            Ok(())
        );
    }
    log.close().await.expect("the log closes");
}

#[tokio::test]
async fn a_reopened_ledger_rebuilds_the_same_tree() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let log = log_with(dir.path(), 600).await;
    let before = LedgerTree::new(log.clone()).head().expect("the head");
    log.close().await.expect("the log closes");
    drop(log);

    let reopened = SledEventLog::open(dir.path(), StoreOptions::default()).expect("reopens");
    let tree = LedgerTree::new(reopened.clone());
    assert_eq!(tree.head(), Ok(before));
    append(&reopened, 10).await;
    let after = tree.head().expect("the head");
    let proof = tree.consistency_proof(before.size, None).expect("a proof");
    assert_eq!(
        verify_consistency(
            before.size,
            after.size,
            &before.root,
            &after.root,
            &proof.proof
        ),
        Ok(())
    );
    reopened.close().await.expect("the log closes");
}

/// A ledger opened over an existing log holds its whole tree from the open's walk, before any
/// request reads the log, and it is the tree a build from the log makes; a record out of order
/// drops the gathered leaves, and the tree is then built from the log as before.
#[tokio::test]
async fn an_opened_ledger_holds_the_tree_of_its_walk() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let log = log_with(dir.path(), 700).await;
    let built = LedgerTree::new(log.clone()).head().expect("the head");
    log.close().await.expect("the log closes");
    drop(log);

    let ledger = crate::Ledger::open(
        dir.path(),
        StoreOptions::default(),
        crate::KeyOptions::insecure_for_tests(),
    )
    .expect("opens");
    assert_eq!(ledger.tree_size_now(), Some(700));
    assert_eq!(ledger.tree_head(), Ok(built));
    let leaves = independent_leaves(ledger.log());
    let proof = ledger
        .inclusion_proof(Position(321), None)
        .expect("a proof");
    assert_eq!(
        verify_inclusion(&leaves[320], 320, 700, &proof.proof, &built.root),
        Ok(())
    );
    let records = ledger
        .log()
        .read_all(Position(1), 3)
        .expect("the first records");

    // Out of order: the second record is skipped.
    let mut leaves = super::OpenLeaves::default();
    leaves.visit(&records[0]);
    leaves.visit(&records[2]);
    let tree = LedgerTree::starting_from(ledger.log().clone(), leaves);
    assert_eq!(tree.size_now(), Some(0));
    assert_eq!(tree.head(), Ok(built));
    ledger.close().await.expect("the ledger closes");
}

#[tokio::test]
async fn memory_stays_bounded_by_the_cached_levels() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let log = log_with(dir.path(), 5000).await;
    let tree = LedgerTree::new(log.clone());
    tree.catch_up().expect("the tree builds");
    // Complete subtrees from height 8 up: about 2 hashes per 256 leaves, plus the frontier.
    let held = tree.hashes_held();
    assert!(
        held <= 5000 / 128 + 64,
        "{held} hashes held for 5,000 leaves"
    );
    log.close().await.expect("the log closes");
}

#[tokio::test]
async fn bad_requests_are_typed_rejections() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let log = log_with(dir.path(), 0).await;
    let tree = LedgerTree::new(log.clone());
    let rejected = |error: ProofRequestError| match error {
        ProofRequestError::Rejected(rejection) => rejection,
        ProofRequestError::Failed(failure) => panic!("a failure, not a rejection: {failure}"),
    };
    // An empty ledger: nothing to include, and only the empty tree to be consistent with.
    assert_eq!(
        tree.inclusion_proof(Position(1), None).map_err(rejected),
        Err(ProofRejection::PositionBeyondHead {
            position: 1,
            head: 0
        })
    );
    let empty = tree.consistency_proof(0, None).expect("the empty tree");
    assert_eq!(
        (empty.from_root, empty.to_root),
        (empty_root(), empty_root())
    );
    assert!(empty.proof.is_empty());

    append(&log, 10).await;
    let cases = [
        (
            tree.inclusion_proof(Position(0), None),
            ProofRejection::PositionZero,
        ),
        (
            tree.inclusion_proof(Position(11), None),
            ProofRejection::PositionBeyondHead {
                position: 11,
                head: 10,
            },
        ),
        (
            tree.inclusion_proof(Position(11), Some(5)),
            ProofRejection::PositionBeyondHead {
                position: 11,
                head: 10,
            },
        ),
        (
            tree.inclusion_proof(Position(6), Some(5)),
            ProofRejection::PositionOutsideTree {
                position: 6,
                tree_size: 5,
            },
        ),
        (
            tree.inclusion_proof(Position(1), Some(0)),
            ProofRejection::PositionOutsideTree {
                position: 1,
                tree_size: 0,
            },
        ),
        (
            tree.inclusion_proof(Position(1), Some(11)),
            ProofRejection::SizeBeyondHead { size: 11, head: 10 },
        ),
    ];
    for (outcome, expected) in cases {
        assert_eq!(outcome.map_err(rejected), Err(expected));
    }
    let consistency_cases = [
        (
            tree.consistency_proof(11, None),
            ProofRejection::SizeBeyondHead { size: 11, head: 10 },
        ),
        (
            tree.consistency_proof(3, Some(12)),
            ProofRejection::SizeBeyondHead { size: 12, head: 10 },
        ),
        (
            tree.consistency_proof(6, Some(5)),
            ProofRejection::SizesOutOfOrder {
                from_size: 6,
                to_size: 5,
            },
        ),
    ];
    for (outcome, expected) in consistency_cases {
        assert_eq!(outcome.map_err(rejected), Err(expected));
    }
    assert_eq!(
        tree.root_at(11).map_err(rejected),
        Err(ProofRejection::SizeBeyondHead { size: 11, head: 10 })
    );
    log.close().await.expect("the log closes");
}

#[tokio::test]
async fn a_signed_checkpoint_signs_the_current_head() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let log = log_with(dir.path(), 42).await;
    let tree = LedgerTree::new(log.clone());
    let key = ledger_proof::parse_signing_key(&"7f".repeat(32)).expect("a seed");
    let now: jiff::Timestamp = "2026-01-01T08:00:00.750Z".parse().expect("an instant");
    let signed = tree.signed_checkpoint(&key, now).expect("a checkpoint");
    let head = tree.head().expect("the head");
    let checkpoint = signed.checkpoint();
    assert_eq!(checkpoint.origin(), ORIGIN_DEFAULT);
    assert_eq!(checkpoint.tree_size(), head.size);
    assert_eq!(checkpoint.root_hash(), head.root);
    assert_eq!(checkpoint.timestamp_unix_seconds(), now.as_second());
    assert_eq!(signed.verify(&key.verifying_key()), Ok(()));
    let other = ledger_proof::parse_signing_key(&"01".repeat(32)).expect("a seed");
    assert!(signed.verify(&other.verifying_key()).is_err());
    log.close().await.expect("the log closes");
}

#[tokio::test]
async fn a_leaf_source_that_disagrees_with_the_tree_is_a_failure_not_a_proof() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let log = log_with(dir.path(), 300).await;
    let tree = LedgerTree::new(log.clone());
    assert_eq!(tree.catch_up(), Ok(300));
    // A tree of the same size over other leaves: the store's leaf hashes no longer match the
    // nodes it keeps, as if the store had been altered under it.
    let mut forged = MerkleTree::new();
    for leaf in 0..300_u64 {
        forged
            .append(leaf_hash(&leaf.to_be_bytes()))
            .expect("room in the tree");
    }
    tree.replace_tree(forged);
    let error = tree
        .inclusion_proof(Position(5), Some(290))
        .expect_err("the chunk does not match");
    assert!(
        matches!(
            error,
            ProofRequestError::Failed(TreeFailure::Tree(TreeError::SourceMismatch { .. }))
        ),
        "{error:?}"
    );
    log.close().await.expect("the log closes");
}

#[tokio::test]
async fn a_poisoned_tree_is_rebuilt_from_the_log() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let log = log_with(dir.path(), 20).await;
    let tree = Arc::new(LedgerTree::new(log.clone()));
    let root = tree.head().expect("the head").root;
    let holder = Arc::clone(&tree);
    let panicked = std::thread::spawn(move || {
        let _tree = holder.tree.write().expect("not yet poisoned");
        panic!("a panic while the tree is being extended");
    })
    .join();
    assert!(panicked.is_err());
    assert!(tree.tree.is_poisoned());
    assert_eq!(tree.head().map(|head| head.root), Ok(root));
    assert!(!tree.tree.is_poisoned());
    log.close().await.expect("the log closes");
}

#[tokio::test]
async fn the_ledger_answers_from_its_tree() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let ledger = crate::Ledger::open(
        dir.path(),
        StoreOptions::default(),
        crate::KeyOptions::insecure_for_tests(),
    )
    .expect("opens");
    append(ledger.log(), 25).await;
    let head = ledger.tree_head().expect("the head");
    assert_eq!(head.size, 25);
    let leaves = independent_leaves(ledger.log());
    assert_eq!(head.root, reference_tree(&leaves).root());
    let proof = ledger.inclusion_proof(Position(25), None).expect("a proof");
    assert_eq!(
        verify_inclusion(&leaves[24], 24, 25, &proof.proof, &head.root),
        Ok(())
    );
    let root_10 = ledger.root_at(10).expect("a root");
    let grown = ledger.consistency_proof(10, Some(25)).expect("a proof");
    assert_eq!(grown.from_root, root_10);
    let key = ledger_proof::parse_signing_key(&"42".repeat(32)).expect("a seed");
    let signed = ledger
        .signed_checkpoint(&key, jiff::Timestamp::UNIX_EPOCH)
        .expect("a checkpoint");
    assert_eq!(signed.checkpoint().root_hash(), head.root);
    ledger.close().await.expect("the ledger closes");
}
