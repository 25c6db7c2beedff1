//! The tree and verifiers against published RFC 6962/9162 vectors, against the naive
//! reference implementation, and against tampered proofs.

use std::convert::Infallible;
use std::ops::Range;

use proptest::prelude::*;

use crate::reference;
use crate::*;

// --- The certificate-transparency reference tree (RFC 6962 test vectors) -------------

/// The eight leaves of the reference tree.
fn reference_leaf_data() -> Vec<Vec<u8>> {
    [
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    ]
    .iter()
    .map(|text| hex::decode(text).expect("hex"))
    .collect()
}

/// The published root for each size 0..=8 of the reference tree.
const REFERENCE_ROOTS: [&str; 9] = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
];

/// Published inclusion proofs in the reference tree: (leaf index, tree size, path).
const REFERENCE_INCLUSION: [(u64, u64, &[&str]); 5] = [
    (0, 1, &[]),
    (
        0,
        8,
        &[
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        5,
        8,
        &[
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (
        2,
        3,
        &["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"],
    ),
    (
        1,
        5,
        &[
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
];

/// Published consistency proofs in the reference tree: (old size, new size, proof).
const REFERENCE_CONSISTENCY: [(u64, u64, &[&str]); 4] = [
    (1, 1, &[]),
    (
        1,
        8,
        &[
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        6,
        8,
        &[
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (
        2,
        5,
        &[
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
];

fn hashes(texts: &[&str]) -> Vec<Hash> {
    texts
        .iter()
        .map(|text| Hash::from_hex(text).expect("hex hash"))
        .collect()
}

fn u64_of(value: usize) -> u64 {
    u64::try_from(value).expect("fits")
}

fn usize_of(value: u64) -> usize {
    usize::try_from(value).expect("fits")
}

/// A tree of `cache_height` over `data`, and the leaf hashes it reads from.
fn build(data: &[Vec<u8>], cache_height: u32) -> (MerkleTree, Vec<Hash>) {
    let mut tree = MerkleTree::with_cache_height(cache_height).expect("height allowed");
    let leaves: Vec<Hash> = data.iter().map(|leaf| leaf_hash(leaf)).collect();
    for (index, leaf) in leaves.iter().enumerate() {
        assert_eq!(tree.append(*leaf), Ok(u64_of(index + 1)));
    }
    (tree, leaves)
}

/// Every cache height worth covering on small trees: everything kept, a few levels
/// kept, and the default (nothing below 256 leaves kept).
const CACHE_HEIGHTS: [u32; 5] = [0, 1, 2, 3, tree::CACHE_HEIGHT_DEFAULT];

#[test]
fn the_hashes_are_rfc_9162s() {
    assert_eq!(empty_root().to_hex(), REFERENCE_ROOTS[0]);
    assert_eq!(leaf_hash(b"").to_hex(), REFERENCE_ROOTS[1]);
    let data = reference_leaf_data();
    assert_eq!(
        node_hash(&leaf_hash(&data[0]), &leaf_hash(&data[1])).to_hex(),
        REFERENCE_ROOTS[2]
    );
}

#[test]
fn roots_match_the_published_roots_at_every_size_and_cache_height() {
    let data = reference_leaf_data();
    for cache_height in CACHE_HEIGHTS {
        let (tree, leaves) = build(&data, cache_height);
        for (size, expected) in REFERENCE_ROOTS.iter().enumerate() {
            let root = tree.root_at(u64_of(size), &leaves).expect("size reached");
            assert_eq!(
                root.to_hex(),
                *expected,
                "size {size}, cache height {cache_height}"
            );
        }
        // And the root as each leaf is appended, read from memory alone.
        let mut growing = MerkleTree::with_cache_height(cache_height).expect("allowed");
        assert_eq!(growing.root().to_hex(), REFERENCE_ROOTS[0]);
        for (leaf, expected) in leaves.iter().zip(&REFERENCE_ROOTS[1..]) {
            growing.append(*leaf).expect("room");
            assert_eq!(growing.root().to_hex(), *expected);
        }
    }
}

#[test]
fn proofs_match_the_published_proofs_and_verify() {
    let data = reference_leaf_data();
    for cache_height in CACHE_HEIGHTS {
        let (tree, leaves) = build(&data, cache_height);
        for (index, size, path) in REFERENCE_INCLUSION {
            let proof = tree
                .inclusion_proof(index, size, &leaves)
                .expect("in range");
            assert_eq!(proof, hashes(path), "leaf {index} of {size}");
            let root = Hash::from_hex(REFERENCE_ROOTS[usize_of(size)]).expect("hex");
            assert_eq!(
                verify_inclusion(&leaves[usize_of(index)], index, size, &proof, &root),
                Ok(())
            );
        }
        for (old_size, new_size, expected) in REFERENCE_CONSISTENCY {
            let proof = tree
                .consistency_proof(old_size, new_size, &leaves)
                .expect("ordered");
            assert_eq!(proof, hashes(expected), "{old_size} to {new_size}");
            let old_root = Hash::from_hex(REFERENCE_ROOTS[usize_of(old_size)]).expect("hex");
            let new_root = Hash::from_hex(REFERENCE_ROOTS[usize_of(new_size)]).expect("hex");
            assert_eq!(
                verify_consistency(old_size, new_size, &old_root, &new_root, &proof),
                Ok(())
            );
        }
    }
}

fn request<T>(error: ProofError) -> Result<T, TreeError<Infallible>> {
    Err(TreeError::Request(error))
}

#[test]
fn requests_outside_the_tree_are_typed_errors() {
    let (tree, leaves) = build(&reference_leaf_data(), 1);
    assert_eq!(
        tree.root_at(9, &leaves),
        request(ProofError::SizeBeyondTree {
            size: 9,
            tree_size: 8
        })
    );
    assert_eq!(
        tree.inclusion_proof(0, 0, &leaves),
        request(ProofError::EmptyTree)
    );
    assert_eq!(
        tree.inclusion_proof(5, 5, &leaves),
        request(ProofError::IndexOutOfRange {
            index: 5,
            tree_size: 5
        })
    );
    assert_eq!(
        tree.inclusion_proof(0, 9, &leaves),
        request(ProofError::SizeBeyondTree {
            size: 9,
            tree_size: 8
        })
    );
    assert_eq!(
        tree.consistency_proof(5, 4, &leaves),
        request(ProofError::SizesOutOfOrder {
            old_size: 5,
            new_size: 4
        })
    );
    assert_eq!(
        tree.consistency_proof(2, 9, &leaves),
        request(ProofError::SizeBeyondTree {
            size: 9,
            tree_size: 8
        })
    );
    assert_eq!(tree.consistency_proof(0, 8, &leaves), Ok(Vec::new()));
    assert_eq!(tree.consistency_proof(8, 8, &leaves), Ok(Vec::new()));
    assert_eq!(tree.root_at(0, &leaves), Ok(empty_root()));
}

#[test]
fn positions_count_from_one_and_leaf_indexes_from_zero() {
    assert_eq!(leaf_index(1), Ok(0));
    assert_eq!(leaf_index(42), Ok(41));
    assert_eq!(leaf_index(0), Err(ProofError::PositionZero));
    assert_eq!(position(0), Some(1));
    assert_eq!(position(u64::MAX), None);
    let error = ProofError::IndexOutOfRange {
        index: u64::MAX,
        tree_size: 3,
    };
    assert!(error.to_string().contains("position 18446744073709551616"));
}

#[test]
fn the_verifiers_refuse_impossible_sizes() {
    let some = leaf_hash(b"x");
    assert_eq!(
        verify_inclusion(&some, 0, 0, &[], &some),
        Err(ProofError::EmptyTree)
    );
    assert_eq!(
        verify_inclusion(&some, 3, 3, &[], &some),
        Err(ProofError::IndexOutOfRange {
            index: 3,
            tree_size: 3
        })
    );
    assert_eq!(
        verify_consistency(4, 3, &some, &some, &[]),
        Err(ProofError::SizesOutOfOrder {
            old_size: 4,
            new_size: 3
        })
    );
    assert_eq!(
        verify_consistency(2, 3, &some, &some, &[]),
        Err(ProofError::ProofLength {
            expected: 1,
            actual: 0
        })
    );
    // Huge sizes (from an untrusted document) are errors, not overflows.
    assert_eq!(
        verify_inclusion(&some, 0, u64::MAX, &[], &some),
        Err(ProofError::ProofLength {
            expected: 64,
            actual: 0
        })
    );
    assert_eq!(
        verify_inclusion(&some, u64::MAX - 1, u64::MAX, &[some], &some),
        Err(ProofError::ProofLength {
            expected: 63,
            actual: 1
        })
    );
    assert!(verify_consistency(1, u64::MAX, &some, &some, &[some]).is_err());
    assert!(verify_consistency(u64::MAX - 1, u64::MAX, &some, &some, &[some]).is_err());
}

#[test]
fn equal_sizes_and_the_empty_tree_need_empty_proofs_and_matching_roots() {
    let root = leaf_hash(b"x");
    let other = leaf_hash(b"y");
    assert_eq!(verify_consistency(3, 3, &root, &root, &[]), Ok(()));
    assert_eq!(
        verify_consistency(3, 3, &root, &other, &[]),
        Err(ProofError::RootMismatch {
            expected: other,
            computed: root
        })
    );
    assert_eq!(
        verify_consistency(3, 3, &root, &root, &[root]),
        Err(ProofError::ProofLength {
            expected: 0,
            actual: 1
        })
    );
    assert_eq!(verify_consistency(0, 5, &empty_root(), &root, &[]), Ok(()));
    assert_eq!(
        verify_consistency(0, 5, &root, &other, &[]),
        Err(ProofError::OldRootMismatch {
            expected: root,
            computed: empty_root()
        })
    );
    assert_eq!(
        verify_consistency(0, 5, &empty_root(), &root, &[root]),
        Err(ProofError::ProofLength {
            expected: 0,
            actual: 1
        })
    );
}

/// RFC 9162 roots do not commit to the tree size: the proof for leaf 0 in the tree of
/// 3 leaves also verifies as "leaf 0 in a tree of 4 leaves with that same root",
/// because the verifier cannot tell the leaf hash of leaf 2 from the node hash over
/// leaves 2 and 3. No real 4-leaf tree has that root (it would take a SHA-256
/// collision), but the verifier must get the size and the root from one source it
/// trusts, which is what a signed checkpoint is for. Pinned so the limit stays known.
#[test]
fn a_wrong_size_passes_only_with_a_root_that_size_never_had() {
    let data = reference_leaf_data();
    let (tree, leaves) = build(&data, 0);
    let proof = tree.inclusion_proof(0, 3, &leaves).expect("in range");
    let root_3 = tree.root_at(3, &leaves).expect("reached");
    let root_4 = tree.root_at(4, &leaves).expect("reached");
    assert_eq!(verify_inclusion(&leaves[0], 0, 4, &proof, &root_3), Ok(()));
    assert!(matches!(
        verify_inclusion(&leaves[0], 0, 4, &proof, &root_4),
        Err(ProofError::RootMismatch { .. })
    ));
}

// --- Leaf sources that fail or lie --------------------------------------------------

/// A leaf source with a fault: it fails, returns too few hashes, or alters one.
#[derive(Debug)]
enum FaultySource<'leaves> {
    Failing,
    Short(&'leaves [Hash]),
    Altered {
        leaves: &'leaves [Hash],
        index: usize,
    },
}

impl LeafHashSource for FaultySource<'_> {
    type Error = &'static str;

    fn read_leaf_hashes(&self, range: Range<u64>, into: &mut Vec<Hash>) -> Result<(), Self::Error> {
        let (start, end) = (usize_of(range.start), usize_of(range.end));
        match self {
            Self::Failing => Err("disk on fire"),
            Self::Short(leaves) => {
                into.extend_from_slice(&leaves[start..end - 1]);
                Ok(())
            }
            Self::Altered { leaves, index } => {
                for (at, leaf) in leaves[start..end].iter().enumerate() {
                    let mut leaf = *leaf;
                    if start + at == *index {
                        leaf = leaf_hash(b"not the record");
                    }
                    into.push(leaf);
                }
                Ok(())
            }
        }
    }
}

#[test]
fn a_failing_short_or_lying_leaf_source_is_reported_not_proved() {
    let data: Vec<Vec<u8>> = (0..11_u8).map(|byte| vec![byte]).collect();
    let (tree, leaves) = build(&data, 2);
    assert_eq!(
        tree.inclusion_proof(5, 11, &FaultySource::Failing),
        Err(TreeError::Source("disk on fire"))
    );
    assert_eq!(
        tree.inclusion_proof(5, 11, &FaultySource::Short(&leaves)),
        Err(TreeError::SourceLength {
            start: 8,
            end: 11,
            returned: 2
        })
    );
    // A complete chunk is checked against its cached node...
    let altered = FaultySource::Altered {
        leaves: &leaves,
        index: 6,
    };
    assert_eq!(
        tree.inclusion_proof(5, 11, &altered),
        Err(TreeError::SourceMismatch { start: 4, end: 8 })
    );
    // ...and the partial last chunk against the frontier.
    let altered = FaultySource::Altered {
        leaves: &leaves,
        index: 9,
    };
    assert_eq!(
        tree.inclusion_proof(10, 11, &altered),
        Err(TreeError::SourceMismatch { start: 8, end: 11 })
    );
    assert_eq!(
        tree.root_at(10, &altered),
        Err(TreeError::SourceMismatch { start: 8, end: 11 })
    );
    // The slice source reports a short read as such.
    assert_eq!(
        tree.inclusion_proof(9, 11, &leaves[..9]),
        Err(TreeError::SourceLength {
            start: 8,
            end: 11,
            returned: 0
        })
    );
    // Nodes the tree keeps need no reads at all.
    let kept = tree.root_at(8, &leaves).expect("reached");
    assert_eq!(tree.root_at(8, &FaultySource::Failing), Ok(kept));
}

#[test]
fn the_cache_height_is_bounded() {
    assert_eq!(
        MerkleTree::with_cache_height(17).map(|tree| tree.size()),
        Err(CacheHeightTooLarge {
            cache_height: 17,
            cache_height_max: 16
        })
    );
    assert!(MerkleTree::with_cache_height(16).is_ok());
}

#[test]
fn memory_stays_near_a_quarter_byte_per_leaf() {
    let leaf_count = 100_000_u64;
    let mut tree = MerkleTree::new();
    for index in 0..leaf_count {
        tree.append(leaf_hash(&index.to_be_bytes())).expect("room");
    }
    // Complete subtrees of height 8 and up: under 2 per 256 leaves, plus the frontier.
    let bound = usize_of(leaf_count * 2 / 256 + 64);
    assert!(
        tree.hashes_held() <= bound,
        "{} hashes held",
        tree.hashes_held()
    );
}

// --- Properties against the reference, and tampering ---------------------------------

fn leaf_data(leaf_count: usize, salt: u8) -> Vec<Vec<u8>> {
    (0..leaf_count)
        .map(|index| {
            let mut data = format!("record {index}").into_bytes();
            data.resize(index % 7 + data.len(), salt);
            data
        })
        .collect()
}

fn to_hashes(digests: Vec<reference::Digest32>) -> Vec<Hash> {
    digests.into_iter().map(Hash::from_bytes).collect()
}

fn flip_bit(proof: &[Hash], element: usize, bit: usize) -> Vec<Hash> {
    let mut tampered = proof.to_vec();
    let mut bytes = *tampered[element].as_bytes();
    bytes[bit / 8] ^= 1 << (bit % 8);
    tampered[element] = Hash::from_bytes(bytes);
    tampered
}

fn cache_height_strategy() -> impl Strategy<Value = u32> {
    prop_oneof![0_u32..=4, Just(tree::CACHE_HEIGHT_DEFAULT)]
}

/// Tree sizes spanning several 256-leaf chunks, so the default cache height is
/// exercised above and below its chunks too.
const LEAF_COUNT_RANGE: Range<usize> = 1..700;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn roots_equal_the_naive_mth_at_every_past_size(
        leaf_count in LEAF_COUNT_RANGE,
        salt: u8,
        cache_height in cache_height_strategy(),
        size_seed: u64,
    ) {
        let data = leaf_data(leaf_count, salt);
        let (tree, leaves) = build(&data, cache_height);
        prop_assert_eq!(tree.root(), Hash::from_bytes(reference::mth(&data)));
        let size = size_seed % u64_of(leaf_count + 1);
        prop_assert_eq!(
            tree.root_at(size, &leaves),
            Ok(Hash::from_bytes(reference::mth(&data[..usize_of(size)])))
        );
    }

    #[test]
    fn inclusion_proofs_equal_the_reference_verify_and_resist_tampering(
        leaf_count in LEAF_COUNT_RANGE,
        salt: u8,
        cache_height in cache_height_strategy(),
        size_seed: u64,
        index_seed: u64,
        element_seed: usize,
        bit in 0_usize..256,
    ) {
        let data = leaf_data(leaf_count, salt);
        let (tree, leaves) = build(&data, cache_height);
        let size = 1 + size_seed % u64_of(leaf_count);
        let index = index_seed % size;
        let proof = tree.inclusion_proof(index, size, &leaves).expect("in range");
        prop_assert_eq!(
            &proof,
            &to_hashes(reference::path(usize_of(index), &data[..usize_of(size)]))
        );
        let root = tree.root_at(size, &leaves).expect("reached");
        let leaf = leaves[usize_of(index)];
        prop_assert_eq!(verify_inclusion(&leaf, index, size, &proof, &root), Ok(()));

        // A flipped bit anywhere in the proof.
        if !proof.is_empty() {
            let tampered = flip_bit(&proof, element_seed % proof.len(), bit);
            prop_assert!(verify_inclusion(&leaf, index, size, &tampered, &root).is_err());
        }
        // A wrong leaf.
        prop_assert!(verify_inclusion(&leaf_hash(b"forged"), index, size, &proof, &root).is_err());
        // A wrong index, each side.
        for wrong in [index.wrapping_sub(1), index + 1] {
            if wrong < size {
                prop_assert!(verify_inclusion(&leaf, wrong, size, &proof, &root).is_err());
            }
        }
        // A wrong size, each side, checked against the root the tree had at that size
        // (see `a_wrong_size_passes_only_with_a_root_that_size_never_had`).
        for wrong in [size - 1, size + 1] {
            if index < wrong && wrong <= u64_of(leaf_count) {
                let wrong_root = tree.root_at(wrong, &leaves).expect("reached");
                prop_assert!(verify_inclusion(&leaf, index, wrong, &proof, &wrong_root).is_err());
            }
        }
        // A truncated path, and a path with an extra hash at either end.
        if let Some((_, shorter)) = proof.split_last() {
            prop_assert_eq!(
                verify_inclusion(&leaf, index, size, shorter, &root),
                Err(ProofError::ProofLength { expected: proof.len(), actual: proof.len() - 1 })
            );
        }
        let mut longer = proof.clone();
        longer.push(root);
        prop_assert_eq!(
            verify_inclusion(&leaf, index, size, &longer, &root),
            Err(ProofError::ProofLength { expected: proof.len(), actual: proof.len() + 1 })
        );
        longer.rotate_right(1);
        prop_assert!(verify_inclusion(&leaf, index, size, &longer, &root).is_err());
        // A root from another size.
        if size > 1 {
            let other_root = tree.root_at(size - 1, &leaves).expect("reached");
            prop_assert!(verify_inclusion(&leaf, index, size, &proof, &other_root).is_err());
        }
    }

    #[test]
    fn consistency_proofs_equal_the_reference_verify_and_resist_tampering(
        leaf_count in LEAF_COUNT_RANGE,
        salt: u8,
        cache_height in cache_height_strategy(),
        new_seed: u64,
        old_seed: u64,
        element_seed: usize,
        bit in 0_usize..256,
    ) {
        let data = leaf_data(leaf_count, salt);
        let (tree, leaves) = build(&data, cache_height);
        let new_size = new_seed % u64_of(leaf_count + 1);
        let old_size = old_seed % (new_size + 1);
        let proof = tree.consistency_proof(old_size, new_size, &leaves).expect("ordered");
        if old_size > 0 {
            prop_assert_eq!(
                &proof,
                &to_hashes(reference::proof(usize_of(old_size), &data[..usize_of(new_size)]))
            );
        }
        let root_at = |size: u64| tree.root_at(size, &leaves).expect("reached");
        let (old_root, new_root) = (root_at(old_size), root_at(new_size));
        prop_assert_eq!(
            verify_consistency(old_size, new_size, &old_root, &new_root, &proof),
            Ok(())
        );
        if old_size == new_size {
            return Ok(());
        }

        // Swapped roots.
        prop_assert!(verify_consistency(old_size, new_size, &new_root, &old_root, &proof).is_err());
        if proof.is_empty() {
            return Ok(());
        }
        // A flipped bit anywhere in the proof.
        let tampered = flip_bit(&proof, element_seed % proof.len(), bit);
        prop_assert!(verify_consistency(old_size, new_size, &old_root, &new_root, &tampered).is_err());
        // Wrong sizes, each side of each, with the roots the tree had at those sizes.
        let wrong_sizes = [
            (old_size - 1, new_size),
            (old_size + 1, new_size),
            (old_size, new_size - 1),
            (old_size, new_size + 1),
        ];
        for (wrong_old, wrong_new) in wrong_sizes {
            if wrong_old == 0 || wrong_old >= wrong_new || wrong_new > u64_of(leaf_count) {
                continue;
            }
            let (wrong_old_root, wrong_new_root) = (root_at(wrong_old), root_at(wrong_new));
            prop_assert!(
                verify_consistency(wrong_old, wrong_new, &wrong_old_root, &wrong_new_root, &proof)
                    .is_err(),
                "{} to {} passed as {} to {}", old_size, new_size, wrong_old, wrong_new
            );
        }
        // A truncated proof, and one with an extra hash at either end.
        prop_assert_eq!(
            verify_consistency(old_size, new_size, &old_root, &new_root, &proof[1..]),
            Err(ProofError::ProofLength { expected: proof.len(), actual: proof.len() - 1 })
        );
        let mut longer = proof.clone();
        longer.push(new_root);
        prop_assert!(verify_consistency(old_size, new_size, &old_root, &new_root, &longer).is_err());
        longer.rotate_right(1);
        prop_assert!(verify_consistency(old_size, new_size, &old_root, &new_root, &longer).is_err());
    }

    #[test]
    fn proof_lengths_follow_the_closed_forms(leaf_count in 1_usize..300, old_seed: u64, index_seed: u64) {
        let data = leaf_data(leaf_count, 0);
        let size = u64_of(leaf_count);
        let index = index_seed % size;
        prop_assert_eq!(
            verify::inclusion_proof_length(index, size),
            reference::path(usize_of(index), &data).len()
        );
        let old_size = 1 + old_seed % size;
        if old_size < size {
            prop_assert_eq!(
                verify::consistency_proof_length(old_size, size),
                reference::proof(usize_of(old_size), &data).len()
            );
        }
    }
}

/// The same tree read with and without a cache agrees, including after further
/// appends (past sizes stay answerable).
#[test]
fn past_sizes_stay_answerable_as_the_tree_grows() {
    let data = leaf_data(600, 3);
    let (mut tree, _) = build(&data[..300], tree::CACHE_HEIGHT_DEFAULT);
    let leaves: Vec<Hash> = data.iter().map(|leaf| leaf_hash(leaf)).collect();
    let before: Vec<Hash> = (0..=300)
        .map(|size| tree.root_at(size, &leaves).expect("reached"))
        .collect();
    for leaf in &leaves[300..] {
        tree.append(*leaf).expect("room");
    }
    for (size, root) in before.iter().enumerate() {
        assert_eq!(tree.root_at(u64_of(size), &leaves).as_ref(), Ok(root));
    }
    let proof = tree.consistency_proof(300, 600, &leaves).expect("ordered");
    assert_eq!(
        verify_consistency(300, 600, &before[300], &tree.root(), &proof),
        Ok(())
    );
}

#[test]
fn a_slice_source_is_infallible_and_clips_to_what_it_holds() {
    let leaves = vec![leaf_hash(b"a"), leaf_hash(b"b")];
    let mut into = Vec::new();
    let result: Result<(), Infallible> = leaves.read_leaf_hashes(0..2, &mut into);
    assert_eq!((result, into.len()), (Ok(()), 2));
    into.clear();
    let result = leaves.read_leaf_hashes(1..3, &mut into);
    assert_eq!((result, into.len()), (Ok(()), 0));
}

/// A leaf source that counts what it is asked for.
#[derive(Debug)]
struct CountingSource<'leaves> {
    leaves: &'leaves [Hash],
    reads: std::cell::Cell<usize>,
    hashes_read: std::cell::Cell<u64>,
}

impl<'leaves> CountingSource<'leaves> {
    fn new(leaves: &'leaves [Hash]) -> Self {
        Self {
            leaves,
            reads: std::cell::Cell::new(0),
            hashes_read: std::cell::Cell::new(0),
        }
    }

    fn take(&self) -> (usize, u64) {
        (self.reads.replace(0), self.hashes_read.replace(0))
    }
}

impl LeafHashSource for CountingSource<'_> {
    type Error = Infallible;

    fn read_leaf_hashes(&self, range: Range<u64>, into: &mut Vec<Hash>) -> Result<(), Infallible> {
        self.reads.set(self.reads.get() + 1);
        self.hashes_read
            .set(self.hashes_read.get() + (range.end - range.start));
        self.leaves.read_leaf_hashes(range, into)
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// The documented cost: with the default cache height, a root reads at most one
    /// chunk of 256 leaf hashes, and a proof at most two.
    #[test]
    fn requests_read_at_most_two_chunks(
        leaf_count in 1_usize..2_000,
        size_seed: u64,
        other_seed: u64,
    ) {
        let data = leaf_data(leaf_count, 1);
        let (tree, leaves) = build(&data, tree::CACHE_HEIGHT_DEFAULT);
        let source = CountingSource::new(&leaves);
        let size = 1 + size_seed % u64_of(leaf_count);
        let other = other_seed % size;

        tree.root_at(size, &source).expect("reached");
        let (reads, hashes_read) = source.take();
        prop_assert!(reads <= 1 && hashes_read <= 256, "root: {} reads, {} hashes", reads, hashes_read);

        tree.inclusion_proof(other, size, &source).expect("in range");
        let (reads, hashes_read) = source.take();
        prop_assert!(reads <= 2 && hashes_read <= 512, "inclusion: {} reads, {} hashes", reads, hashes_read);

        tree.consistency_proof(other, size, &source).expect("ordered");
        let (reads, hashes_read) = source.take();
        prop_assert!(reads <= 2 && hashes_read <= 512, "consistency: {} reads, {} hashes", reads, hashes_read);
    }
}
