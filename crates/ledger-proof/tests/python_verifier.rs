//! Runs the independent Python verifier (`tools/proof_verifier.py`) on proofs and signed
//! checkpoints made by this crate: genuine ones must pass, tampered ones must fail, and
//! the Rust verifiers must reach the same verdict on every document.
//!
//! Needs `python3` on PATH with the `cryptography` package
//! (`pip install -r tools/requirements.txt`); without them the test fails and says so.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use ledger_proof::{
    Checkpoint, Hash, MerkleTree, ORIGIN_DEFAULT, SignedCheckpoint, SigningKey, VerifyingKey,
    key_id, leaf_hash, parse_signing_key, public_key_text, verify_consistency, verify_inclusion,
};
use serde_json::{Value, json};

/// Spans more than one 256-leaf chunk, so proofs read leaf hashes through the source.
const LEAF_COUNT: u64 = 300;
const SEED_HEX: &str = "4c9f0a2b6d8e1f3a5b7c9d0e2f4a6b8c1d3e5f7a9b0c2d4e6f8a1b3c5d7e9f0a";
const TIMESTAMP: i64 = 1_767_225_600;

fn verifier_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tools/proof_verifier.py")
}

fn require_python_with_cryptography() {
    let output = Command::new("python3")
        .args(["-c", "import cryptography"])
        .output()
        .unwrap_or_else(|error| {
            panic!("python3 is needed on PATH to run tools/proof_verifier.py: {error}")
        });
    assert!(
        output.status.success(),
        "the Python `cryptography` module is missing; run `pip install -r tools/requirements.txt` \
         ({})",
        String::from_utf8_lossy(&output.stderr)
            .lines()
            .last()
            .unwrap_or_default()
    );
}

/// Runs the verifier with `arguments`, feeding `stdin`.
fn run_verifier(arguments: &[&str], stdin: &str) -> Output {
    let mut child = Command::new("python3")
        .arg(verifier_path())
        .args(arguments)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 starts");
    child
        .stdin
        .take()
        .expect("stdin piped")
        .write_all(stdin.as_bytes())
        .expect("stdin written");
    child.wait_with_output().expect("verifier finishes")
}

/// Asserts the verifier's verdict: exit 0 with one `valid:` line, or exit 1 with one
/// `invalid:` line on stderr.
fn assert_verdict(description: &str, output: &Output, valid: bool) {
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let code = output.status.code();
    if valid {
        assert_eq!(code, Some(0), "{description}: expected valid, got {stderr}");
        assert!(
            stdout.starts_with("valid: ") && stdout.lines().count() == 1,
            "{stdout}"
        );
    } else {
        assert_eq!(
            code,
            Some(1),
            "{description}: expected invalid, got {stdout}{stderr}"
        );
        assert!(
            stderr.starts_with("invalid: ") && stderr.lines().count() == 1,
            "{stderr}"
        );
    }
}

fn check_document(description: &str, document: &Value, valid: bool) {
    let output = run_verifier(&["json"], &document.to_string());
    assert_verdict(description, &output, valid);
}

struct Ledger {
    tree: MerkleTree,
    chain_hashes: Vec<[u8; 32]>,
    leaves: Vec<Hash>,
}

impl Ledger {
    /// A tree over stand-in chain hashes, as the store will build it.
    fn new() -> Self {
        let mut tree = MerkleTree::new();
        let mut chain_hashes = Vec::new();
        let mut leaves = Vec::new();
        for position in 1..=LEAF_COUNT {
            let mut chain_hash = [0_u8; 32];
            chain_hash[..8].copy_from_slice(&position.to_be_bytes());
            chain_hash[31] = 0xc1;
            let leaf = leaf_hash(&chain_hash);
            tree.append(leaf).expect("room");
            chain_hashes.push(chain_hash);
            leaves.push(leaf);
        }
        Self {
            tree,
            chain_hashes,
            leaves,
        }
    }

    fn root(&self, size: u64) -> Hash {
        self.tree.root_at(size, &self.leaves).expect("size reached")
    }

    fn leaf(&self, index: u64) -> Hash {
        self.leaves[usize::try_from(index).expect("fits")]
    }
}

fn hex_list(proof: &[Hash]) -> Vec<String> {
    proof.iter().map(Hash::to_hex).collect()
}

fn flip_bit(hash: Hash, bit: usize) -> Hash {
    let mut bytes = *hash.as_bytes();
    bytes[bit / 8] ^= 1 << (bit % 8);
    Hash::from_bytes(bytes)
}

#[derive(Clone)]
struct Inclusion {
    leaf: Hash,
    index: u64,
    size: u64,
    root: Hash,
    proof: Vec<Hash>,
}

impl Inclusion {
    fn genuine(ledger: &Ledger, index: u64, size: u64) -> Self {
        Self {
            leaf: ledger.leaf(index),
            index,
            size,
            root: ledger.root(size),
            proof: ledger
                .tree
                .inclusion_proof(index, size, &ledger.leaves)
                .expect("in range"),
        }
    }

    fn document(&self) -> Value {
        json!({
            "kind": "inclusion",
            "leafHash": self.leaf.to_hex(),
            "index": self.index,
            "position": self.index + 1,
            "treeSize": self.size,
            "rootHash": self.root.to_hex(),
            "proof": hex_list(&self.proof),
        })
    }

    fn check(&self, description: &str, valid: bool) {
        let rust = verify_inclusion(&self.leaf, self.index, self.size, &self.proof, &self.root);
        assert_eq!(
            rust.is_ok(),
            valid,
            "{description}: the Rust verifier said {rust:?}"
        );
        check_document(description, &self.document(), valid);
    }
}

#[derive(Clone)]
struct Consistency {
    old_size: u64,
    new_size: u64,
    old_root: Hash,
    new_root: Hash,
    proof: Vec<Hash>,
}

impl Consistency {
    fn genuine(ledger: &Ledger, old_size: u64, new_size: u64) -> Self {
        Self {
            old_size,
            new_size,
            old_root: ledger.root(old_size),
            new_root: ledger.root(new_size),
            proof: ledger
                .tree
                .consistency_proof(old_size, new_size, &ledger.leaves)
                .expect("ordered"),
        }
    }

    fn document(&self) -> Value {
        json!({
            "kind": "consistency",
            "fromSize": self.old_size,
            "toSize": self.new_size,
            "fromRoot": self.old_root.to_hex(),
            "toRoot": self.new_root.to_hex(),
            "proof": hex_list(&self.proof),
        })
    }

    fn check(&self, description: &str, valid: bool) {
        let rust = verify_consistency(
            self.old_size,
            self.new_size,
            &self.old_root,
            &self.new_root,
            &self.proof,
        );
        assert_eq!(
            rust.is_ok(),
            valid,
            "{description}: the Rust verifier said {rust:?}"
        );
        check_document(description, &self.document(), valid);
    }
}

#[test]
fn the_python_verifier_accepts_genuine_inclusion_proofs_and_rejects_tampered_ones() {
    require_python_with_cryptography();
    let ledger = Ledger::new();
    for (index, size) in [
        (0, 1),
        (0, 8),
        (5, 8),
        (255, 256),
        (256, 257),
        (41, 300),
        (299, 300),
    ] {
        Inclusion::genuine(&ledger, index, size).check(&format!("leaf {index} of {size}"), true);
    }

    let genuine = Inclusion::genuine(&ledger, 41, 299);
    for element in 0..genuine.proof.len() {
        let mut tampered = genuine.clone();
        tampered.proof[element] = flip_bit(tampered.proof[element], element * 37 % 256);
        tampered.check(&format!("bit flipped in proof[{element}]"), false);
    }
    // A wrong size, checked against the root the tree really had at that size: what an
    // auditor holding a signed checkpoint for that size would do.
    for size in [298, 300] {
        let mut tampered = genuine.clone();
        tampered.size = size;
        tampered.root = ledger.root(size);
        tampered.check(&format!("size {size} with its own root"), false);
    }
    // RFC 9162 roots do not commit to the size: the same path and root, claimed for a
    // neighbouring size whose path has the same shape, passes in both languages. No
    // tree of that size has that root, which is why an auditor takes size and root
    // together from a signed checkpoint.
    let mut same_shape = genuine.clone();
    same_shape.size = 300;
    same_shape.check("size 300 with the size-299 root (same path shape)", true);
    let mut other_shape = genuine.clone();
    other_shape.size = 64;
    other_shape.check("size 64 with the size-299 root", false);
    for index in [40, 42] {
        let mut tampered = genuine.clone();
        tampered.index = index;
        tampered.check(&format!("index {index}"), false);
    }
    let mut truncated = genuine.clone();
    truncated.proof.pop();
    truncated.check("truncated path", false);
    let mut extended = genuine.clone();
    extended.proof.push(genuine.root);
    extended.check("extended path", false);
    let mut other_root = genuine.clone();
    other_root.root = ledger.root(300);
    other_root.check("the root of another size", false);
    let mut other_leaf = genuine.clone();
    other_leaf.leaf = ledger.leaf(40);
    other_leaf.check("another leaf", false);
}

#[test]
fn the_python_verifier_accepts_genuine_consistency_proofs_and_rejects_tampered_ones() {
    require_python_with_cryptography();
    let ledger = Ledger::new();
    for (old_size, new_size) in [
        (0, 300),
        (1, 300),
        (37, 300),
        (256, 300),
        (299, 300),
        (300, 300),
    ] {
        Consistency::genuine(&ledger, old_size, new_size)
            .check(&format!("{old_size} to {new_size}"), true);
    }

    let genuine = Consistency::genuine(&ledger, 37, 299);
    for element in 0..genuine.proof.len() {
        let mut tampered = genuine.clone();
        tampered.proof[element] = flip_bit(tampered.proof[element], 255 - element);
        tampered.check(&format!("bit flipped in proof[{element}]"), false);
    }
    // Wrong sizes, with the roots the tree really had at those sizes.
    for (old_size, new_size) in [(36, 299), (38, 299), (37, 298), (37, 300)] {
        let mut tampered = genuine.clone();
        tampered.old_size = old_size;
        tampered.new_size = new_size;
        tampered.old_root = ledger.root(old_size);
        tampered.new_root = ledger.root(new_size);
        tampered.check(&format!("sizes {old_size} to {new_size}"), false);
    }
    let mut truncated = genuine.clone();
    truncated.proof.pop();
    truncated.check("truncated proof", false);
    let mut extended = genuine.clone();
    extended.proof.push(genuine.new_root);
    extended.check("extended proof", false);
    let mut swapped = genuine.clone();
    std::mem::swap(&mut swapped.old_root, &mut swapped.new_root);
    swapped.check("swapped roots", false);
    let mut perfect = Consistency::genuine(&ledger, 256, 300);
    std::mem::swap(&mut perfect.old_root, &mut perfect.new_root);
    perfect.check("swapped roots, perfect old tree", false);
    let mut backwards = genuine.clone();
    std::mem::swap(&mut backwards.old_size, &mut backwards.new_size);
    backwards.check("sizes backwards", false);
}

#[derive(Clone)]
struct SignedDocument {
    checkpoint: Checkpoint,
    signature: [u8; 64],
    public_key: VerifyingKey,
    key_id: [u8; 4],
}

impl SignedDocument {
    fn document(&self) -> Value {
        json!({
            "kind": "checkpoint",
            "checkpoint": {
                "origin": self.checkpoint.origin(),
                "treeSize": self.checkpoint.tree_size(),
                "rootHash": self.checkpoint.root_hash().to_hex(),
                "timestamp": self.checkpoint.timestamp_unix_seconds(),
            },
            "signature": BASE64.encode(self.signature),
            "publicKey": public_key_text(&self.public_key),
            "keyId": hex::encode(self.key_id),
            "body": self.checkpoint.to_text(),
        })
    }

    fn check(&self, description: &str, valid: bool) {
        let signed =
            SignedCheckpoint::from_parts(self.checkpoint.clone(), self.signature, self.key_id);
        let rust = signed.verify(&self.public_key);
        assert_eq!(
            rust.is_ok(),
            valid,
            "{description}: the Rust verifier said {rust:?}"
        );
        check_document(description, &self.document(), valid);
    }

    fn with_checkpoint(&self, size: u64, root: Hash, timestamp: i64) -> Self {
        Self {
            checkpoint: Checkpoint::new(ORIGIN_DEFAULT, size, root, timestamp).expect("valid"),
            ..self.clone()
        }
    }
}

fn signing_key() -> SigningKey {
    parse_signing_key(SEED_HEX).expect("valid seed")
}

#[test]
fn the_python_verifier_accepts_genuine_signed_checkpoints_and_rejects_tampered_ones() {
    require_python_with_cryptography();
    let ledger = Ledger::new();
    let key = signing_key();
    let root = ledger.tree.root();
    let checkpoint = Checkpoint::new(ORIGIN_DEFAULT, LEAF_COUNT, root, TIMESTAMP).expect("valid");
    let signed = checkpoint.sign(&key);
    let genuine = SignedDocument {
        checkpoint,
        signature: *signed.signature(),
        public_key: key.verifying_key(),
        key_id: signed.key_id(),
    };
    genuine.check("genuine checkpoint", true);

    for bit in [0, 255, 511] {
        let mut tampered = genuine.clone();
        tampered.signature[bit / 8] ^= 1 << (bit % 8);
        tampered.check(&format!("signature bit {bit} flipped"), false);
    }
    genuine
        .with_checkpoint(LEAF_COUNT - 1, ledger.root(LEAF_COUNT - 1), TIMESTAMP)
        .check("an older size and root", false);
    genuine
        .with_checkpoint(LEAF_COUNT + 1, root, TIMESTAMP)
        .check("size changed", false);
    genuine
        .with_checkpoint(LEAF_COUNT, flip_bit(root, 3), TIMESTAMP)
        .check("root changed", false);
    genuine
        .with_checkpoint(LEAF_COUNT, root, TIMESTAMP + 1)
        .check("time changed", false);

    let other_key = parse_signing_key(&"5a".repeat(32)).expect("valid seed");
    let mut wrong_key = genuine.clone();
    wrong_key.public_key = other_key.verifying_key();
    wrong_key.check("another public key", false);
    // Signed by another key that names itself honestly: the key ID and the signature
    // agree with each other, but not with the auditor's key.
    let by_other = genuine.checkpoint.sign(&other_key);
    let mut other_signer = genuine.clone();
    other_signer.signature = *by_other.signature();
    other_signer.key_id = key_id(ORIGIN_DEFAULT, &other_key.verifying_key());
    other_signer.check("signed by another key", false);

    let mut body_mismatch = genuine.document();
    body_mismatch["body"] = json!(genuine.checkpoint.to_text().replace("\n300\n", "\n301\n"));
    check_document("body disagrees with the fields", &body_mismatch, false);
}

#[test]
fn the_command_line_form_gives_the_same_verdicts() {
    require_python_with_cryptography();
    let ledger = Ledger::new();
    let index = 41;
    let proof = hex_list(
        &ledger
            .tree
            .inclusion_proof(index, LEAF_COUNT, &ledger.leaves)
            .expect("in range"),
    )
    .join(",");
    let root = ledger.root(LEAF_COUNT).to_hex();
    let chain_hash = hex::encode(ledger.chain_hashes[41]);
    let inclusion = |size: &str, root: &str, proof: &str| {
        run_verifier(
            &[
                "inclusion",
                "--leaf-data",
                &chain_hash,
                "--index",
                "41",
                "--size",
                size,
                "--root",
                root,
                "--proof",
                proof,
            ],
            "",
        )
    };
    let root_299 = ledger.root(299).to_hex();
    assert_verdict(
        "inclusion by leaf data",
        &inclusion("300", &root, &proof),
        true,
    );
    let wrong_size = inclusion("299", &root_299, &proof);
    assert_verdict("inclusion, wrong size", &wrong_size, false);
    let truncated = &proof[..proof.rfind(',').expect("several hashes")];
    let truncated = inclusion("300", &root, truncated);
    assert_verdict("inclusion, truncated", &truncated, false);

    let consistency_proof = hex_list(
        &ledger
            .tree
            .consistency_proof(37, LEAF_COUNT, &ledger.leaves)
            .expect("ordered"),
    )
    .join(",");
    let old_root = ledger.root(37).to_hex();
    let consistency = |from_root: &str, to_root: &str| {
        run_verifier(
            &[
                "consistency",
                "--from-size",
                "37",
                "--to-size",
                "300",
                "--from-root",
                from_root,
                "--to-root",
                to_root,
                "--proof",
                &consistency_proof,
            ],
            "",
        )
    };
    assert_verdict("consistency", &consistency(&old_root, &root), true);
    assert_verdict(
        "consistency, swapped roots",
        &consistency(&root, &old_root),
        false,
    );

    let key = signing_key();
    let checkpoint =
        Checkpoint::new(ORIGIN_DEFAULT, LEAF_COUNT, ledger.tree.root(), TIMESTAMP).expect("valid");
    let signed = checkpoint.sign(&key);
    let public_key = public_key_text(&key.verifying_key());
    let signature = signed.signature_text();
    let checkpoint_with = |timestamp: &str| {
        run_verifier(
            &[
                "checkpoint",
                "--origin",
                ORIGIN_DEFAULT,
                "--size",
                "300",
                "--root",
                &root,
                "--timestamp",
                timestamp,
                "--signature",
                &signature,
                "--public-key",
                &public_key,
                "--key-id",
                &hex::encode(signed.key_id()),
            ],
            "",
        )
    };
    assert_verdict("checkpoint", &checkpoint_with("1767225600"), true);
    assert_verdict(
        "checkpoint, time changed",
        &checkpoint_with("1767225601"),
        false,
    );
}

#[test]
fn the_python_verifier_reports_usage_errors_with_status_2() {
    require_python_with_cryptography();
    for (description, arguments, stdin) in [
        ("no command", vec![], ""),
        ("missing arguments", vec!["inclusion", "--index", "0"], ""),
        ("not JSON", vec!["json"], "not json"),
        ("unknown kind", vec!["json"], r#"{"kind":"receipt"}"#),
        (
            "missing field",
            vec!["json"],
            r#"{"kind":"consistency","fromSize":1}"#,
        ),
        (
            "size of the wrong type",
            vec!["json"],
            r#"{"kind":"consistency","fromSize":"1","toSize":2,"fromRoot":"","toRoot":"","proof":[]}"#,
        ),
    ] {
        let output = run_verifier(&arguments, stdin);
        assert_eq!(
            output.status.code(),
            Some(2),
            "{description}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
}
