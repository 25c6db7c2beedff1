//! RFC 9162 §2.1 hashing: the 32-byte `Hash`, and the leaf, node and empty-tree hashes.
//!
//! The two prefixes (0x00 before a leaf, 0x01 before a pair of children) keep a leaf
//! from ever being passed off as an interior node, which would otherwise let a forger
//! present two leaves' concatenation as a leaf of its own (a second-preimage attack).

use std::fmt;
use std::str::FromStr;

use sha2::{Digest, Sha256};

/// Length of a SHA-256 digest, the only hash RFC 9162 trees use here.
pub const HASH_BYTES: usize = 32;

/// The byte put before a leaf's data (RFC 9162 §2.1.1).
const LEAF_PREFIX: u8 = 0x00;
/// The byte put before two child hashes (RFC 9162 §2.1.1).
const NODE_PREFIX: u8 = 0x01;

/// A SHA-256 digest: a leaf hash, an interior node hash or a tree root.
///
/// Shown and parsed as 64 lowercase hex digits; the checkpoint text carries it in
/// base64 instead, as C2SP's tlog-checkpoint format requires.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Hash([u8; HASH_BYTES]);

impl Hash {
    /// Wraps 32 bytes that already are a digest (read back from storage, or decoded).
    pub const fn from_bytes(bytes: [u8; HASH_BYTES]) -> Self {
        Self(bytes)
    }

    /// The digest's bytes.
    pub const fn as_bytes(&self) -> &[u8; HASH_BYTES] {
        &self.0
    }

    /// The digest as 64 lowercase hex digits.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// Parses 64 hex digits (either case).
    pub fn from_hex(text: &str) -> Result<Self, HashParseError> {
        let mut bytes = [0_u8; HASH_BYTES];
        if text.len() != 2 * HASH_BYTES {
            return Err(HashParseError::Length { digits: text.len() });
        }
        hex::decode_to_slice(text, &mut bytes).map_err(|_| HashParseError::NotHex)?;
        Ok(Self(bytes))
    }

    /// Wraps a slice that must be exactly 32 bytes long.
    pub fn from_slice(bytes: &[u8]) -> Result<Self, HashParseError> {
        <[u8; HASH_BYTES]>::try_from(bytes)
            .map(Self)
            .map_err(|_| HashParseError::ByteLength { bytes: bytes.len() })
    }
}

impl fmt::Display for Hash {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.to_hex())
    }
}

impl fmt::Debug for Hash {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "Hash({})", self.to_hex())
    }
}

impl FromStr for Hash {
    type Err = HashParseError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::from_hex(text)
    }
}

impl From<[u8; HASH_BYTES]> for Hash {
    fn from(bytes: [u8; HASH_BYTES]) -> Self {
        Self(bytes)
    }
}

/// Why a text or byte string is not a hash.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HashParseError {
    #[error("a hash is 64 hex digits, got {digits} characters")]
    Length { digits: usize },
    #[error("a hash is 64 hex digits, got a character that is not a hex digit")]
    NotHex,
    #[error("a hash is 32 bytes, got {bytes}")]
    ByteLength { bytes: usize },
}

/// The leaf hash of `data`: SHA-256(0x00 ‖ data) (RFC 9162 §2.1.1).
///
/// For the contact ledger the data is a record's 32-byte chain hash, so that the tree
/// commits to the chain and, through it, to every record's content.
pub fn leaf_hash(data: &[u8]) -> Hash {
    let mut hasher = Sha256::new();
    hasher.update([LEAF_PREFIX]);
    hasher.update(data);
    Hash(hasher.finalize().into())
}

/// The hash of an interior node: SHA-256(0x01 ‖ left ‖ right) (RFC 9162 §2.1.1).
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut hasher = Sha256::new();
    hasher.update([NODE_PREFIX]);
    hasher.update(left.0);
    hasher.update(right.0);
    Hash(hasher.finalize().into())
}

/// The root of the empty tree: SHA-256 of the empty string (RFC 9162 §2.1.1).
pub fn empty_root() -> Hash {
    Hash(Sha256::digest([]).into())
}
