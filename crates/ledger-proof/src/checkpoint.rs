//! Signed checkpoints: a tree size and root, with a time, signed with Ed25519 so that an
//! auditor can keep a copy outside the insurer and later prove the ledger only grew.
//!
//! # The signed text
//!
//! The signature covers the checkpoint body, a C2SP tlog-checkpoint with one extension
//! line, in UTF-8, every line ending in a single `\n`:
//!
//! ```text
//! contact-ledger                                  origin
//! 1234                                            tree size, decimal, no leading zeros
//! XclhvaX...KYDOCCQ=                              root hash, standard base64 with padding
//! 1767225600                                      time, unix seconds, decimal
//! ```
//!
//! (without the annotations on the right). Nothing in it depends on Rust: the Python
//! verifier under `tools/` rebuilds it from the fields. The time is an integer rather
//! than RFC 3339 text because one instant has many RFC 3339 spellings, and a signed
//! text must have exactly one.
//!
//! As a whole, a signed checkpoint is written as a C2SP signed note: the body, a blank
//! line, and `— <origin> <base64(key ID ‖ signature)>`, which existing transparency-log
//! tooling can read.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};

use crate::hash::Hash;
use crate::keys::{KEY_ID_BYTES, key_id};

/// The origin the contact ledger signs its checkpoints with.
pub const ORIGIN_DEFAULT: &str = "contact-ledger";

/// The longest origin accepted. C2SP sets no limit; this keeps a checkpoint small and
/// is ample for a host name and path.
pub const ORIGIN_BYTES_MAX: usize = 256;

/// Length of an Ed25519 signature.
pub const SIGNATURE_BYTES: usize = 64;

/// The longest signed note `SignedCheckpoint::from_note` reads: the body is under 400
/// bytes, and room is left for a few cosignatures.
pub const NOTE_BYTES_MAX: usize = 8 * 1024;

/// Starts a signature line of a signed note: an em dash and a space.
const SIGNATURE_LINE_PREFIX: &str = "\u{2014} ";

/// Why a checkpoint cannot be built, read or trusted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckpointError {
    #[error("a checkpoint origin cannot be empty")]
    OriginEmpty,
    #[error("a checkpoint origin is at most {bytes_max} bytes, got {bytes}")]
    OriginTooLong { bytes: usize, bytes_max: usize },
    #[error("a checkpoint origin cannot contain whitespace, control characters or '+'")]
    OriginCharacter,
    #[error("not a checkpoint: {reason}")]
    Malformed { reason: &'static str },
    #[error(
        "the signature is by key ID {signed_by}, but the verifying key's ID is {verifying_key}"
    )]
    KeyIdMismatch {
        signed_by: String,
        verifying_key: String,
    },
    #[error(
        "the signature does not verify with the given key: the checkpoint or signature was altered, or another key signed it"
    )]
    SignatureInvalid,
}

fn malformed(reason: &'static str) -> CheckpointError {
    CheckpointError::Malformed { reason }
}

/// A tree size and root at a time, under an origin naming the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    origin: String,
    tree_size: u64,
    root_hash: Hash,
    timestamp_unix_seconds: i64,
}

impl Checkpoint {
    /// A checkpoint; the origin must be non-empty, at most `ORIGIN_BYTES_MAX` bytes, and
    /// free of whitespace, control characters and '+' (it is also the signed-note key
    /// name, which C2SP restricts so).
    pub fn new(
        origin: impl Into<String>,
        tree_size: u64,
        root_hash: Hash,
        timestamp_unix_seconds: i64,
    ) -> Result<Self, CheckpointError> {
        let origin = origin.into();
        check_origin(&origin)?;
        Ok(Self {
            origin,
            tree_size,
            root_hash,
            timestamp_unix_seconds,
        })
    }

    pub fn origin(&self) -> &str {
        &self.origin
    }

    pub fn tree_size(&self) -> u64 {
        self.tree_size
    }

    pub fn root_hash(&self) -> Hash {
        self.root_hash
    }

    pub fn timestamp_unix_seconds(&self) -> i64 {
        self.timestamp_unix_seconds
    }

    /// The canonical body: the exact bytes that are signed (see the module docs).
    pub fn to_text(&self) -> String {
        format!(
            "{}\n{}\n{}\n{}\n",
            self.origin,
            self.tree_size,
            BASE64.encode(self.root_hash.as_bytes()),
            self.timestamp_unix_seconds
        )
    }

    /// Reads a body written by `to_text`; any other spelling of the same values (a
    /// leading zero, a '+', a missing final newline) is refused, so that a parsed
    /// checkpoint always re-encodes to the text that was signed.
    pub fn from_text(text: &str) -> Result<Self, CheckpointError> {
        let Some(body) = text.strip_suffix('\n') else {
            return Err(malformed("the text must end with a newline"));
        };
        let lines: Vec<&str> = body.split('\n').collect();
        let [origin, size, root, timestamp] = lines[..] else {
            return Err(malformed(
                "a checkpoint has exactly four lines: origin, size, root hash, time",
            ));
        };
        let tree_size = size
            .parse::<u64>()
            .map_err(|_| malformed("the tree size is not a decimal number"))?;
        let root_bytes = BASE64
            .decode(root)
            .map_err(|_| malformed("the root hash is not standard base64"))?;
        let root_hash = Hash::from_slice(&root_bytes)
            .map_err(|_| malformed("the root hash is not 32 bytes"))?;
        let timestamp_unix_seconds = timestamp
            .parse::<i64>()
            .map_err(|_| malformed("the time is not a decimal number of seconds"))?;
        let checkpoint = Self::new(origin, tree_size, root_hash, timestamp_unix_seconds)?;
        if checkpoint.to_text() != text {
            return Err(malformed(
                "the text is not in canonical form (leading zeros, '+', or unpadded base64)",
            ));
        }
        Ok(checkpoint)
    }

    /// Signs the body with `key`, naming the key by its C2SP key ID under this
    /// checkpoint's origin.
    pub fn sign(&self, key: &SigningKey) -> SignedCheckpoint {
        let signature = key.sign(self.to_text().as_bytes());
        SignedCheckpoint {
            key_id: key_id(&self.origin, &key.verifying_key()),
            checkpoint: self.clone(),
            signature: signature.to_bytes(),
        }
    }
}

fn check_origin(origin: &str) -> Result<(), CheckpointError> {
    if origin.is_empty() {
        return Err(CheckpointError::OriginEmpty);
    }
    if origin.len() > ORIGIN_BYTES_MAX {
        return Err(CheckpointError::OriginTooLong {
            bytes: origin.len(),
            bytes_max: ORIGIN_BYTES_MAX,
        });
    }
    if origin
        .chars()
        .any(|character| character.is_whitespace() || character.is_control() || character == '+')
    {
        return Err(CheckpointError::OriginCharacter);
    }
    Ok(())
}

/// A checkpoint with an Ed25519 signature over its body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedCheckpoint {
    checkpoint: Checkpoint,
    signature: [u8; SIGNATURE_BYTES],
    key_id: [u8; KEY_ID_BYTES],
}

impl SignedCheckpoint {
    /// Reassembles a signed checkpoint from stored parts; nothing is checked until
    /// `verify`.
    pub fn from_parts(
        checkpoint: Checkpoint,
        signature: [u8; SIGNATURE_BYTES],
        key_id: [u8; KEY_ID_BYTES],
    ) -> Self {
        Self {
            checkpoint,
            signature,
            key_id,
        }
    }

    pub fn checkpoint(&self) -> &Checkpoint {
        &self.checkpoint
    }

    pub fn signature(&self) -> &[u8; SIGNATURE_BYTES] {
        &self.signature
    }

    /// The signature in standard base64, as the Python verifier's `signature` field.
    pub fn signature_text(&self) -> String {
        BASE64.encode(self.signature)
    }

    pub fn key_id(&self) -> [u8; KEY_ID_BYTES] {
        self.key_id
    }

    /// Checks the key ID, then the signature (strictly: non-canonical signatures and
    /// weak keys are refused).
    pub fn verify(&self, key: &VerifyingKey) -> Result<(), CheckpointError> {
        let expected_id = key_id(&self.checkpoint.origin, key);
        if expected_id != self.key_id {
            return Err(CheckpointError::KeyIdMismatch {
                signed_by: hex::encode(self.key_id),
                verifying_key: hex::encode(expected_id),
            });
        }
        let signature = Signature::from_bytes(&self.signature);
        key.verify_strict(self.checkpoint.to_text().as_bytes(), &signature)
            .map_err(|_| CheckpointError::SignatureInvalid)
    }

    /// The C2SP signed note: body, blank line, `— <origin> <base64(key ID ‖ signature)>`.
    pub fn to_note(&self) -> String {
        let mut signature_blob = Vec::with_capacity(KEY_ID_BYTES + SIGNATURE_BYTES);
        signature_blob.extend_from_slice(&self.key_id);
        signature_blob.extend_from_slice(&self.signature);
        format!(
            "{}\n{SIGNATURE_LINE_PREFIX}{} {}\n",
            self.checkpoint.to_text(),
            self.checkpoint.origin,
            BASE64.encode(signature_blob)
        )
    }

    /// Reads a signed note written by `to_note`, taking the first signature line whose
    /// key name is the checkpoint's origin; other signers' lines (cosignatures) are
    /// skipped. The signature is not checked here: call `verify`.
    pub fn from_note(text: &str) -> Result<Self, CheckpointError> {
        if text.len() > NOTE_BYTES_MAX {
            return Err(malformed(
                "the note is longer than a checkpoint note can be",
            ));
        }
        let Some((body, signatures)) = text.split_once("\n\n") else {
            return Err(malformed(
                "a signed note has a blank line before its signatures",
            ));
        };
        let checkpoint = Checkpoint::from_text(&format!("{body}\n"))?;
        let Some(signatures) = signatures.strip_suffix('\n') else {
            return Err(malformed("the note must end with a newline"));
        };
        for line in signatures.split('\n') {
            let Some((name, blob)) = line
                .strip_prefix(SIGNATURE_LINE_PREFIX)
                .and_then(|rest| rest.split_once(' '))
            else {
                return Err(malformed("a signature line is '— <name> <base64>'"));
            };
            if name != checkpoint.origin {
                continue;
            }
            let blob = BASE64
                .decode(blob)
                .map_err(|_| malformed("a signature is not standard base64"))?;
            let (Ok(key_id), Ok(signature)) = (
                <[u8; KEY_ID_BYTES]>::try_from(blob.get(..KEY_ID_BYTES).unwrap_or_default()),
                <[u8; SIGNATURE_BYTES]>::try_from(blob.get(KEY_ID_BYTES..).unwrap_or_default()),
            ) else {
                return Err(malformed(
                    "an Ed25519 note signature is a 4-byte key ID and 64 bytes",
                ));
            };
            return Ok(Self::from_parts(checkpoint, signature, key_id));
        }
        Err(malformed("no signature line is by the checkpoint's origin"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::parse_signing_key;

    const SEED_HEX: &str = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
    const ROOT_HEX: &str = "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328";

    fn checkpoint() -> Checkpoint {
        let root = Hash::from_hex(ROOT_HEX).expect("hex");
        Checkpoint::new(ORIGIN_DEFAULT, 8, root, 1_767_225_600).expect("valid origin")
    }

    fn key() -> SigningKey {
        parse_signing_key(SEED_HEX).expect("valid seed")
    }

    #[test]
    fn the_body_is_origin_size_base64_root_and_time_on_four_lines() {
        assert_eq!(
            checkpoint().to_text(),
            "contact-ledger\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n1767225600\n"
        );
        assert_eq!(
            Checkpoint::from_text(&checkpoint().to_text()),
            Ok(checkpoint())
        );
    }

    #[test]
    fn only_the_canonical_body_is_read() {
        let canonical = checkpoint().to_text();
        let root_line = "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=";
        for text in [
            canonical.trim_end().to_owned(),
            canonical.replace("\n8\n", "\n08\n"),
            canonical.replace("\n8\n", "\n+8\n"),
            canonical.replace(root_line, root_line.trim_end_matches('=')),
            canonical.replace(root_line, &root_line[4..]),
            canonical.replace("\n1767225600\n", "\n+1767225600\n"),
            format!("{canonical}extension\n"),
            canonical.replace("1767225600\n", ""),
            canonical.replace('\n', "\r\n"),
        ] {
            assert!(
                matches!(
                    Checkpoint::from_text(&text),
                    Err(CheckpointError::Malformed { .. })
                ),
                "{text:?} was read"
            );
        }
    }

    #[test]
    fn origins_are_single_words_of_bounded_length() {
        let root = checkpoint().root_hash();
        let new = |origin: &str| Checkpoint::new(origin, 1, root, 0).map(|_| ());
        assert_eq!(new(""), Err(CheckpointError::OriginEmpty));
        for origin in [
            "contact ledger",
            "contact-ledger\n",
            "a+b",
            "tab\there",
            "bell\u{7}",
        ] {
            assert_eq!(
                new(origin),
                Err(CheckpointError::OriginCharacter),
                "{origin:?}"
            );
        }
        assert_eq!(
            new(&"a".repeat(ORIGIN_BYTES_MAX + 1)),
            Err(CheckpointError::OriginTooLong {
                bytes: 257,
                bytes_max: 256
            })
        );
        assert_eq!(new(&"a".repeat(ORIGIN_BYTES_MAX)), Ok(()));
        assert_eq!(new("insurer.example/contact-ledger"), Ok(()));
    }

    #[test]
    fn a_signed_checkpoint_verifies_with_its_key_only() {
        let signed = checkpoint().sign(&key());
        assert_eq!(signed.verify(&key().verifying_key()), Ok(()));
        let other = parse_signing_key(&"11".repeat(32)).expect("valid");
        assert!(matches!(
            signed.verify(&other.verifying_key()),
            Err(CheckpointError::KeyIdMismatch { .. })
        ));
    }

    #[test]
    fn any_change_to_a_signed_checkpoint_breaks_it() {
        let signed = checkpoint().sign(&key());
        let public = key().verifying_key();
        let root = checkpoint().root_hash();
        let mut flipped_root = *root.as_bytes();
        flipped_root[31] ^= 1;
        let altered = [
            Checkpoint::new(ORIGIN_DEFAULT, 9, root, 1_767_225_600),
            Checkpoint::new(ORIGIN_DEFAULT, 7, root, 1_767_225_600),
            Checkpoint::new(
                ORIGIN_DEFAULT,
                8,
                Hash::from_bytes(flipped_root),
                1_767_225_600,
            ),
            Checkpoint::new(ORIGIN_DEFAULT, 8, root, 1_767_225_601),
        ];
        for checkpoint in altered {
            let checkpoint = checkpoint.expect("valid");
            let forged =
                SignedCheckpoint::from_parts(checkpoint, *signed.signature(), signed.key_id());
            assert_eq!(
                forged.verify(&public),
                Err(CheckpointError::SignatureInvalid)
            );
        }
        // Another origin is another key name, so another key ID.
        let renamed = Checkpoint::new("other-ledger", 8, root, 1_767_225_600).expect("valid");
        let forged = SignedCheckpoint::from_parts(renamed, *signed.signature(), signed.key_id());
        assert!(matches!(
            forged.verify(&public),
            Err(CheckpointError::KeyIdMismatch { .. })
        ));
        for bit in [0, 100, 511] {
            let mut signature = *signed.signature();
            signature[bit / 8] ^= 1 << (bit % 8);
            let forged = SignedCheckpoint::from_parts(checkpoint(), signature, signed.key_id());
            assert_eq!(
                forged.verify(&public),
                Err(CheckpointError::SignatureInvalid)
            );
        }
    }

    #[test]
    fn the_signed_note_reads_back_and_skips_other_signers() {
        let signed = checkpoint().sign(&key());
        let note = signed.to_note();
        assert!(note.starts_with(&checkpoint().to_text()));
        assert!(note.contains("\n\n\u{2014} contact-ledger "));
        assert_eq!(SignedCheckpoint::from_note(&note), Ok(signed.clone()));

        let cosigned = note.replacen("\n\n", "\n\n\u{2014} witness.example AAAA\n", 1);
        assert_eq!(SignedCheckpoint::from_note(&cosigned), Ok(signed.clone()));

        for broken in [
            note.replacen("\n\n", "\n", 1),
            note.trim_end().to_owned(),
            note.replace("\u{2014} contact-ledger", "\u{2014} someone-else"),
            note.replace("\u{2014} ", "- "),
            "x".repeat(NOTE_BYTES_MAX + 1),
        ] {
            assert!(
                matches!(
                    SignedCheckpoint::from_note(&broken),
                    Err(CheckpointError::Malformed { .. })
                ),
                "{broken:?} was read"
            );
        }
    }
}
