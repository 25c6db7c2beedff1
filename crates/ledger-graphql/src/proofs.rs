//! The auditors' proofs: inclusion and consistency proofs over the ledger's RFC 9162 Merkle
//! tree, signed checkpoints, and the JSON documents `tools/proof_verifier.py json` checks.
//!
//! The tree's leaf `i` is the record at position `i + 1` (leaf hash = SHA-256(0x00 ‖ the
//! record's chain hash)); a tree size is a record count, so also the last position it holds.
//! Hashes are 64 lower-case hex digits; signatures and public keys are standard base64, as
//! C2SP signed notes carry them.
//!
//! # The verifier's documents
//!
//! Each answer has a `verifierDocument` field: exactly the JSON document the independent
//! verifier reads (`… | jq .data.inclusionProof.verifierDocument | python3
//! tools/proof_verifier.py json`), the same one `contact-ledger proof` prints. It carries the
//! same values as the other fields, with the verifier's names and sizes as JSON numbers (the
//! tree holds at most 2^48 records, so every size is exact in a double):
//!
//! | GraphQL field | document |
//! |---|---|
//! | `InclusionProof { position leafIndex leafHash treeSize rootHash proof }` | `{"kind": "inclusion", "position", "index", "leafHash", "treeSize", "rootHash", "proof"}` |
//! | `ConsistencyProof { fromSize toSize fromRoot toRoot proof }` | `{"kind": "consistency", "fromSize", "toSize", "fromRoot", "toRoot", "proof"}` |
//! | `SignedCheckpoint { origin treeSize rootHash timestamp signature publicKey keyId note }` | `{"kind": "checkpoint", "checkpoint": {"origin", "treeSize", "rootHash", "timestamp"}, "signature", "publicKey", "keyId", "body", "note"}` |
//!
//! In the checkpoint document `timestamp` is unix seconds (the signed text's spelling; the
//! GraphQL field is the same instant in RFC 3339) and `body` is the exact signed text. The
//! public key in an answer is the server's say-so: an auditor checks signatures with the copy
//! of the key they were given out of band, and compares it with this one once.
//!
//! Every resolver here runs on a blocking thread: the first request after the server starts may
//! build the whole tree from the log (see `ledger_app::proofs`).

use async_graphql::{Context, Object};
use ledger_app::proofs::TreeHead;
use ledger_app::{Ledger, ProofRequestError};
use ledger_proof::{SignedCheckpoint as Signed, VerifyingKey, public_key_text};
use serde_json::{Value, json};

use crate::access::RootAccess;
use crate::errors::{ApiError, ApiResult};
use crate::scalars::{Count, DateTime, Position};
use crate::state::{ApiState, state};

/// What the `signedCheckpoint` error names when the server has no signing key.
pub const SIGNING_KEY_WHAT: &str = "a checkpoint signing key";

/// That the record at `position` is in the tree of `treeSize` records with root `rootHash`.
#[derive(Debug, Clone)]
pub struct InclusionProof(pub ledger_app::InclusionProof);

/// That the record at `position` is leaf `leafIndex` of the tree of `treeSize` records whose
/// root is `rootHash` (RFC 9162 §2.1.3).
#[Object]
impl InclusionProof {
    /// The record's position.
    async fn position(&self) -> Position {
        self.0.position.into()
    }

    /// The record's RFC 9162 leaf index: `position - 1`.
    async fn leaf_index(&self) -> Count {
        Count(self.0.leaf_index)
    }

    /// SHA-256(0x00 ‖ the record's chain hash), hex.
    async fn leaf_hash(&self) -> String {
        self.0.leaf_hash.to_hex()
    }

    /// Records in the tree the proof is for (also its last position).
    async fn tree_size(&self) -> Position {
        ledger_domain::ids::Position(self.0.tree_size).into()
    }

    /// The root of that tree, hex.
    async fn root_hash(&self) -> String {
        self.0.root_hash.to_hex()
    }

    /// The audit path, leaf side first, hex.
    async fn proof(&self) -> Vec<String> {
        hex_list(&self.0.proof)
    }

    /// The proof as the document `tools/proof_verifier.py json` checks.
    async fn verifier_document(&self) -> Value {
        inclusion_document(&self.0)
    }
}

/// That the tree of `fromSize` records is a prefix of the tree of `toSize` records.
#[derive(Debug, Clone)]
pub struct ConsistencyProof(pub ledger_app::ConsistencyProof);

/// That the tree of `fromSize` records is a prefix of the tree of `toSize` records (RFC 9162
/// §2.1.4): the ledger only grew in between.
#[Object]
impl ConsistencyProof {
    async fn from_size(&self) -> Position {
        ledger_domain::ids::Position(self.0.from_size).into()
    }

    async fn to_size(&self) -> Position {
        ledger_domain::ids::Position(self.0.to_size).into()
    }

    /// The root of the older tree, hex: compare it with the root of a checkpoint kept earlier.
    async fn from_root(&self) -> String {
        self.0.from_root.to_hex()
    }

    async fn to_root(&self) -> String {
        self.0.to_root.to_hex()
    }

    /// The RFC 9162 consistency proof, hex; empty when the sizes are equal or `fromSize` is 0.
    async fn proof(&self) -> Vec<String> {
        hex_list(&self.0.proof)
    }

    /// The proof as the document `tools/proof_verifier.py json` checks.
    async fn verifier_document(&self) -> Value {
        consistency_document(&self.0)
    }
}

/// The tree's size and root at a time, signed with the server's Ed25519 key: keep it outside
/// the insurer, and later ask for a consistency proof from its size to show the ledger only grew.
#[derive(Debug, Clone)]
pub struct SignedCheckpoint {
    signed: Signed,
    public_key: VerifyingKey,
}

/// The tree's size and root at a time, signed with the server's Ed25519 key (a C2SP
/// checkpoint). Keep it outside the insurer; a later `consistencyProof(fromSize: treeSize)`
/// whose `fromRoot` equals this `rootHash` shows the ledger only grew since.
#[Object]
impl SignedCheckpoint {
    /// The log's name in the signed text and the signed note.
    async fn origin(&self) -> &str {
        self.signed.checkpoint().origin()
    }

    async fn tree_size(&self) -> Position {
        ledger_domain::ids::Position(self.signed.checkpoint().tree_size()).into()
    }

    async fn root_hash(&self) -> String {
        self.signed.checkpoint().root_hash().to_hex()
    }

    /// When the checkpoint was signed, in whole seconds (signed as unix seconds).
    async fn timestamp(&self) -> ApiResult<DateTime> {
        let seconds = self.signed.checkpoint().timestamp_unix_seconds();
        jiff::Timestamp::from_second(seconds)
            .map(DateTime)
            .map_err(|error| ApiError::unavailable("checkpoint time", &error))
    }

    /// The Ed25519 signature over the checkpoint's text, standard base64.
    async fn signature(&self) -> String {
        self.signed.signature_text()
    }

    /// The server's public key, standard base64. Check signatures with your own copy.
    async fn public_key(&self) -> String {
        public_key_text(&self.public_key)
    }

    /// The C2SP key ID of the signing key under this origin, hex.
    async fn key_id(&self) -> String {
        hex_string(&self.signed.key_id())
    }

    /// The whole checkpoint as a C2SP signed note: the signed text, a blank line and the
    /// signature line.
    async fn note(&self) -> String {
        self.signed.to_note()
    }

    /// The checkpoint as the document `tools/proof_verifier.py json` checks.
    async fn verifier_document(&self) -> Value {
        checkpoint_document(&self.signed, &self.public_key)
    }
}

/// The inclusion proof as the verifier's `inclusion` document.
pub fn inclusion_document(proof: &ledger_app::InclusionProof) -> Value {
    json!({
        "kind": "inclusion",
        "position": proof.position.get(),
        "index": proof.leaf_index,
        "leafHash": proof.leaf_hash.to_hex(),
        "treeSize": proof.tree_size,
        "rootHash": proof.root_hash.to_hex(),
        "proof": hex_list(&proof.proof),
    })
}

/// The consistency proof as the verifier's `consistency` document.
pub fn consistency_document(proof: &ledger_app::ConsistencyProof) -> Value {
    json!({
        "kind": "consistency",
        "fromSize": proof.from_size,
        "toSize": proof.to_size,
        "fromRoot": proof.from_root.to_hex(),
        "toRoot": proof.to_root.to_hex(),
        "proof": hex_list(&proof.proof),
    })
}

/// The signed checkpoint as the verifier's `checkpoint` document, with the signed text (`body`)
/// and the C2SP signed note (`note`, which the verifier ignores) for safekeeping.
pub fn checkpoint_document(signed: &Signed, public_key: &VerifyingKey) -> Value {
    let checkpoint = signed.checkpoint();
    json!({
        "kind": "checkpoint",
        "checkpoint": {
            "origin": checkpoint.origin(),
            "treeSize": checkpoint.tree_size(),
            "rootHash": checkpoint.root_hash().to_hex(),
            "timestamp": checkpoint.timestamp_unix_seconds(),
        },
        "signature": signed.signature_text(),
        "publicKey": public_key_text(public_key),
        "keyId": hex_string(&signed.key_id()),
        "body": checkpoint.to_text(),
        "note": signed.to_note(),
    })
}

/// The tree's size and root (not a verifier document: nothing in it is proved).
pub fn root_document(head: TreeHead) -> Value {
    json!({
        "treeSize": head.size,
        "rootHash": head.root.to_hex(),
    })
}

fn hex_list(hashes: &[ledger_proof::Hash]) -> Vec<String> {
    hashes.iter().map(ledger_proof::Hash::to_hex).collect()
}

fn hex_string(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// Runs `work` against the ledger on a blocking thread: it reads the store, and may first extend
/// the tree to the head.
pub(crate) async fn on_tree<T: Send + 'static>(
    state: &ApiState,
    work: impl FnOnce(&Ledger) -> ApiResult<T> + Send + 'static,
) -> ApiResult<T> {
    let ledger = state.ledger.clone();
    tokio::task::spawn_blocking(move || work(&ledger))
        .await
        .map_err(|error| ApiError::unavailable("blocking task", &error))?
}

/// The auditors' proof queries.
#[derive(Debug, Default)]
pub struct ProofQueries;

#[Object(guard = "RootAccess")]
impl ProofQueries {
    /// The proof that the record at `position` is in the tree of `treeSize` records (default:
    /// the head). NOT_FOUND for a position or size past the head; VALIDATION for position 0 or
    /// a position past `treeSize`.
    async fn inclusion_proof(
        &self,
        ctx: &Context<'_>,
        position: Position,
        tree_size: Option<Position>,
    ) -> ApiResult<InclusionProof> {
        let tree_size = tree_size.map(|size| size.0.get());
        let proof = on_tree(state(ctx)?, move |ledger| {
            ledger
                .inclusion_proof(position.0, tree_size)
                .map_err(proof_error)
        })
        .await?;
        Ok(InclusionProof(proof))
    }

    /// The proof that the tree of `fromSize` records is a prefix of the tree of `toSize` records
    /// (default: the head): the ledger only grew in between. NOT_FOUND for a size past the head;
    /// VALIDATION when `fromSize` is larger than `toSize`.
    async fn consistency_proof(
        &self,
        ctx: &Context<'_>,
        from_size: Position,
        to_size: Option<Position>,
    ) -> ApiResult<ConsistencyProof> {
        let to_size = to_size.map(|size| size.0.get());
        let proof = on_tree(state(ctx)?, move |ledger| {
            ledger
                .consistency_proof(from_size.0.get(), to_size)
                .map_err(proof_error)
        })
        .await?;
        Ok(ConsistencyProof(proof))
    }

    /// The current tree head, signed now with the server's checkpoint key. NOT_CONFIGURED when
    /// the server has no key.
    async fn signed_checkpoint(&self, ctx: &Context<'_>) -> ApiResult<SignedCheckpoint> {
        let state = state(ctx)?;
        let Some(key) = state.options.checkpoint_key.clone() else {
            return Err(ApiError::NotConfigured {
                what: SIGNING_KEY_WHAT.to_owned(),
            });
        };
        let public_key = key.verifying_key();
        let signed = on_tree(state, move |ledger| {
            ledger
                .signed_checkpoint(&key, jiff::Timestamp::now())
                .map_err(|failure| ApiError::unavailable("merkle tree", &failure))
        })
        .await?;
        Ok(SignedCheckpoint { signed, public_key })
    }
}

/// A proof request's error: a rejection names what is wrong, a failure is `UNAVAILABLE`.
pub fn proof_error(error: ProofRequestError) -> ApiError {
    use ledger_app::ProofRejection as Rejection;
    let ProofRequestError::Rejected(rejection) = error else {
        return ApiError::unavailable("merkle tree", &error);
    };
    let rule = rejection.to_string();
    match rejection {
        Rejection::PositionZero | Rejection::PositionOutsideTree { .. } => {
            ApiError::validation("position", rule)
        }
        Rejection::SizesOutOfOrder { .. } => ApiError::validation("fromSize", rule),
        Rejection::PositionBeyondHead { position, head } => ApiError::not_found(format!(
            "the record at position {position} (the ledger's head is {head})"
        )),
        Rejection::SizeBeyondHead { size, head } => ApiError::not_found(format!(
            "a tree of size {size} (the ledger holds {head} records)"
        )),
    }
}
