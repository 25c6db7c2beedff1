//! Ed25519 keys as configuration gives them: 32 bytes in hex or standard base64, with
//! errors that say what was expected and never echo the (possibly secret) text.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use ed25519_dalek::{SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

/// Length of an Ed25519 seed (private key) and of a public key.
pub const KEY_BYTES: usize = 32;

/// Length of a C2SP signed-note key ID.
pub const KEY_ID_BYTES: usize = 4;

/// The signed-note signature type byte for Ed25519 (C2SP signed-note).
const ED25519_SIGNATURE_TYPE: u8 = 0x01;

/// Why a key's text is not usable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error(
        "an Ed25519 key is 32 bytes written as 64 hex digits or as standard base64 (44 \
         characters with padding); the text given has {characters} characters and is \
         neither (it is not shown, as it may be a secret)"
    )]
    Encoding { characters: usize },
    #[error("the 32 bytes are not an Ed25519 public key: they are not a point on the curve")]
    NotACurvePoint,
    #[error(
        "the public key is a weak (small-order) Ed25519 key, for which signatures can be forged"
    )]
    WeakKey,
}

/// Reads a signing key from its 32-byte seed, written as 64 hex digits or in standard
/// base64. Surrounding whitespace (a trailing newline in a key file) is ignored.
pub fn parse_signing_key(text: &str) -> Result<SigningKey, KeyError> {
    let seed = decode_key_bytes(text)?;
    Ok(SigningKey::from_bytes(&seed))
}

/// Reads a public key, written as 64 hex digits or in standard base64, refusing bytes
/// that are not a curve point and weak keys.
pub fn parse_verifying_key(text: &str) -> Result<VerifyingKey, KeyError> {
    let bytes = decode_key_bytes(text)?;
    let key = VerifyingKey::from_bytes(&bytes).map_err(|_| KeyError::NotACurvePoint)?;
    if key.is_weak() {
        return Err(KeyError::WeakKey);
    }
    Ok(key)
}

/// The public key in standard base64: what an auditor is given, and what the Python
/// verifier's `publicKey` field holds.
pub fn public_key_text(key: &VerifyingKey) -> String {
    BASE64.encode(key.as_bytes())
}

/// The C2SP signed-note key ID of `key` under `key_name`: the first four bytes of
/// SHA-256(key name ‖ 0x0A ‖ 0x01 ‖ public key). Checkpoints use their origin as the
/// key name.
pub fn key_id(key_name: &str, key: &VerifyingKey) -> [u8; KEY_ID_BYTES] {
    let digest = Sha256::new()
        .chain_update(key_name.as_bytes())
        .chain_update([b'\n', ED25519_SIGNATURE_TYPE])
        .chain_update(key.as_bytes())
        .finalize();
    let mut id = [0_u8; KEY_ID_BYTES];
    id.copy_from_slice(&digest[..KEY_ID_BYTES]);
    id
}

/// Decodes 32 key bytes from hex or base64 into memory that is wiped on drop.
fn decode_key_bytes(text: &str) -> Result<Zeroizing<[u8; KEY_BYTES]>, KeyError> {
    let text = text.trim();
    let encoding_error = KeyError::Encoding {
        characters: text.chars().count(),
    };
    let mut bytes = Zeroizing::new([0_u8; KEY_BYTES]);
    if text.len() == 2 * KEY_BYTES && text.bytes().all(|byte| byte.is_ascii_hexdigit()) {
        hex::decode_to_slice(text, &mut *bytes).map_err(|_| encoding_error)?;
        return Ok(bytes);
    }
    // Room for one more group than a key needs, so that a longer text is reported as
    // the wrong length rather than overflowing.
    let mut decoded = Zeroizing::new([0_u8; KEY_BYTES + 16]);
    match BASE64.decode_slice(text, &mut *decoded) {
        Ok(KEY_BYTES) => {
            bytes.copy_from_slice(&decoded[..KEY_BYTES]);
            Ok(bytes)
        }
        _ => Err(encoding_error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEED_HEX: &str = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
    // RFC 8032 §7.1, test 1: this seed's public key.
    const PUBLIC_HEX: &str = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";

    #[test]
    fn a_seed_in_hex_gives_the_rfc_8032_public_key() {
        let key = parse_signing_key(SEED_HEX).expect("valid seed");
        assert_eq!(hex::encode(key.verifying_key().as_bytes()), PUBLIC_HEX);
    }

    #[test]
    fn hex_and_base64_and_surrounding_whitespace_read_the_same_key() {
        let seed = hex::decode(SEED_HEX).expect("hex");
        let base64_text = format!("  {}\n", BASE64.encode(&seed));
        let upper_hex = format!("{}\n", SEED_HEX.to_uppercase());
        let from_hex = parse_signing_key(SEED_HEX).expect("hex");
        for text in [base64_text.as_str(), upper_hex.as_str()] {
            let key = parse_signing_key(text).expect("valid");
            assert_eq!(key.to_bytes(), from_hex.to_bytes());
        }
    }

    #[test]
    fn the_public_key_text_reads_back() {
        let key = parse_signing_key(SEED_HEX).expect("valid").verifying_key();
        let text = public_key_text(&key);
        assert_eq!(parse_verifying_key(&text), Ok(key));
        assert_eq!(parse_verifying_key(PUBLIC_HEX), Ok(key));
    }

    #[test]
    fn bad_key_text_is_refused_without_echoing_it() {
        let secret_like = &SEED_HEX[..62];
        for (text, characters) in [
            (secret_like, 62),
            ("", 0),
            ("not a key at all", 16),
            (&BASE64.encode([7_u8; 31])[..], 44),
            (&BASE64.encode([7_u8; 33])[..], 44),
            (&"ab".repeat(40)[..], 80),
        ] {
            let error = parse_signing_key(text).expect_err(text);
            assert_eq!(error, KeyError::Encoding { characters });
            if !text.is_empty() {
                assert!(!error.to_string().contains(text));
            }
        }
    }

    #[test]
    fn a_small_order_public_key_is_refused() {
        // The identity point: a valid encoding of a small-order point.
        let mut identity = [0_u8; KEY_BYTES];
        identity[0] = 1;
        assert_eq!(
            parse_verifying_key(&hex::encode(identity)),
            Err(KeyError::WeakKey)
        );
    }

    #[test]
    fn key_ids_depend_on_the_name_and_the_key() {
        let key = parse_signing_key(SEED_HEX).expect("valid").verifying_key();
        let other = parse_signing_key(&"11".repeat(32))
            .expect("valid")
            .verifying_key();
        assert_ne!(
            key_id("contact-ledger", &key),
            key_id("contact-ledger-test", &key)
        );
        assert_ne!(
            key_id("contact-ledger", &key),
            key_id("contact-ledger", &other)
        );
    }
}
