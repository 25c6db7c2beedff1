//! `contact-ledger proof`: the auditor's Merkle proofs from the command line, each printed as
//! one line of JSON that the independent verifier checks as it is:
//!
//! ```text
//! contact-ledger proof inclusion --position 5 | python3 tools/proof_verifier.py json
//! ```
//!
//! - `proof root [--size N]`: `{"treeSize", "rootHash"}`, the root of the first N records
//!   (default: all). Not a verifier document: a root alone proves nothing.
//! - `proof inclusion --position P [--size N]`: the record at P is in the tree of N records.
//! - `proof consistency --from N [--to M]`: the tree of N records is a prefix of the tree of M.
//! - `proof checkpoint`: the current root, signed now with `[proofs] signing_key` from
//!   `--config FILE` (default `DIR/ledger.toml`).
//!
//! The documents are the API's `verifierDocument`s (see `ledger_graphql::proofs`). Like every
//! command that opens the store, it needs the server stopped (sled allows one process).
//!
//! Exit codes: 0 with the document on standard output; 2 when the position or sizes cannot be
//! answered (0, past the head, out of order), with the reason on standard error; 1 when there is
//! no ledger or no signing key, or the store fails.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use ledger_app::proofs::LedgerTree;
use ledger_app::{ProofRejection, ProofRequestError, TreeHead};
use ledger_domain::ids::Position;
use ledger_graphql::proofs::{
    checkpoint_document, consistency_document, inclusion_document, root_document,
};
use serde_json::Value;

use super::open_store;
use crate::config::Config;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    proof: Proof,
}

#[derive(Debug, clap::Subcommand)]
enum Proof {
    /// The Merkle root of the first N records (default: all of them).
    Root {
        #[arg(long, value_name = "N")]
        size: Option<u64>,
    },
    /// Prove the record at a position is in the tree of N records (default: all of them).
    Inclusion {
        #[arg(long, value_name = "P")]
        position: u64,
        #[arg(long, value_name = "N")]
        size: Option<u64>,
    },
    /// Prove the tree of N records is a prefix of the tree of M records (default: all of them).
    Consistency {
        #[arg(long, value_name = "N")]
        from: u64,
        #[arg(long, value_name = "M")]
        to: Option<u64>,
    },
    /// Sign the current root with the config's `[proofs] signing_key`.
    Checkpoint {
        /// The config file holding the key (default: DIR/ledger.toml).
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
    },
}

/// What to answer, with the signing key already read for a checkpoint.
enum Request {
    Root(Option<u64>),
    Inclusion(u64, Option<u64>),
    Consistency(u64, Option<u64>),
    Checkpoint(ledger_proof::SigningKey),
}

pub async fn run(data: &Path, args: Args) -> anyhow::Result<ExitCode> {
    // The key is read before the store is opened, so a missing key fails fast.
    let request = match args.proof {
        Proof::Root { size } => Request::Root(size),
        Proof::Inclusion { position, size } => Request::Inclusion(position, size),
        Proof::Consistency { from, to } => Request::Consistency(from, to),
        Proof::Checkpoint { config } => {
            let path = config.unwrap_or_else(|| data.join("ledger.toml"));
            Request::Checkpoint(signing_key(&path)?)
        }
    };
    super::require_ledger(data)?;
    let store = open_store(data)?;
    let outcome = answer_request(&LedgerTree::new(store.clone()), request);
    store.close().await.context("closing the ledger")?;
    answer(outcome)
}

fn answer_request(tree: &LedgerTree, request: Request) -> Result<Value, ProofRequestError> {
    match request {
        Request::Root(None) => Ok(root_document(tree.head()?)),
        Request::Root(Some(size)) => {
            let root = tree.root_at(size)?;
            Ok(root_document(TreeHead { size, root }))
        }
        Request::Inclusion(position, size) => tree
            .inclusion_proof(Position(position), size)
            .map(|proof| inclusion_document(&proof)),
        Request::Consistency(from, to) => tree
            .consistency_proof(from, to)
            .map(|proof| consistency_document(&proof)),
        Request::Checkpoint(key) => {
            let signed = tree.signed_checkpoint(&key, jiff::Timestamp::now())?;
            Ok(checkpoint_document(&signed, &key.verifying_key()))
        }
    }
}

/// Prints the document, or says why there is none.
fn answer(outcome: Result<Value, ProofRequestError>) -> anyhow::Result<ExitCode> {
    match outcome {
        Ok(document) => {
            print_out!(
                "{}",
                serde_json::to_string(&document).context("writing the document")?
            )?;
            Ok(ExitCode::SUCCESS)
        }
        Err(ProofRequestError::Rejected(rejection)) => {
            eprintln!("error: {}", rejection_text(rejection));
            Ok(ExitCode::from(2))
        }
        Err(ProofRequestError::Failed(failure)) => {
            Err(failure).context("the Merkle tree could not answer")
        }
    }
}

/// A rejection in the command line's own words (its flags, not the API's arguments).
fn rejection_text(rejection: ProofRejection) -> String {
    match rejection {
        ProofRejection::PositionZero => "--position: positions start at 1".to_owned(),
        ProofRejection::PositionOutsideTree {
            position,
            tree_size,
        } => format!("--position {position} is not in the tree of --size {tree_size}"),
        ProofRejection::SizesOutOfOrder { from_size, to_size } => {
            format!("--from {from_size} is larger than --to {to_size}")
        }
        other => other.to_string(),
    }
}

/// The signing key from the config at `path`.
fn signing_key(path: &Path) -> anyhow::Result<ledger_proof::SigningKey> {
    if !path.exists() {
        anyhow::bail!(
            "no config at {}: a signed checkpoint needs `[proofs] signing_key` from one (--config FILE)",
            path.display()
        );
    }
    let config = Config::load(path)?;
    config
        .checkpoint_key()
        .with_context(|| format!("{}: proofs.signing_key", path.display()))?
        .with_context(|| {
            format!(
                "{} has no `[proofs] signing_key`: signed checkpoints are not configured",
                path.display()
            )
        })
}
