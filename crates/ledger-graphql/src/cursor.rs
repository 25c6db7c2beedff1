//! Page cursors as a masked caller sees them: sealed, so that a cursor reveals nothing the
//! caller's masked answers hide.
//!
//! A read model's cursor is its index key in plain text (often hex): a customer's identifiers
//! page by `mobile:13800138000`, service history by `/claim/RDAA2025220100001`. Handed to an
//! analyst beside a masked `value`, it would give the unmasked number back to anyone who
//! decodes it. So every cursor the API hands to a caller who sees personal data masked is the
//! read model's cursor sealed with XChaCha20-Poly1305 under the process's [`CursorKey`] (a
//! random 24-byte nonce, the caller's role as associated data), written in base64url; and
//! every `after`/`before` such a caller sends is opened again before it reaches the read
//! model. A cursor that does not open (altered, issued to another role, or sealed under another
//! key) is the listing's usual `VALIDATION` error naming the argument.
//!
//! Both directions are central: every edge's `cursor` and `PageInfo`'s cursors resolve through
//! [`shown_cursor`], and every resolver that takes `after` or `before` reads it through
//! [`received_cursor`]. Callers who see personal data as written (agents, supervisors, auditors,
//! admins) get and send the read model's cursors unchanged, so the agents' timeline path does
//! no cryptography.
//!
//! The key is derived (blake3 `derive_key`, context [`CURSOR_KEY_CONTEXT`]) from the
//! checkpoint signing key when the server has one, so cursors stay valid across restarts;
//! without one it is random per process, and a masked caller's cursor from before a restart is
//! refused, telling the caller to start again from the first page.

use async_graphql::Context;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as BASE64URL;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};

use crate::access::{caller, masked};
use crate::errors::{ApiResult, bad_cursor};
use crate::state::state;

/// The blake3 `derive_key` context of the cursor key: a key for this purpose alone, which
/// tells nothing of the secret it is derived from.
pub const CURSOR_KEY_CONTEXT: &str = "contact-ledger cursor key v1";

/// Length of an XChaCha20-Poly1305 key.
const KEY_BYTES: usize = 32;

/// Length of an XChaCha20-Poly1305 nonce: random nonces of 24 bytes never repeat in practice.
const NONCE_BYTES: usize = 24;

/// The longest sealed cursor text opened, in characters. The read models' longest cursors
/// (a name search's key, a claim number in a stream name) are well under 400 bytes; sealed,
/// that is under 600 characters. Anything longer is refused before it is decoded.
pub const SEALED_CURSOR_CHARS_MAX: usize = 1_024;

/// The key masked callers' cursors are sealed under. Its `Debug` shows nothing of it.
pub struct CursorKey {
    cipher: XChaCha20Poly1305,
}

impl std::fmt::Debug for CursorKey {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.debug_struct("CursorKey").finish_non_exhaustive()
    }
}

impl CursorKey {
    /// The key derived from `secret` (the checkpoint signing key's seed): the same on every
    /// start with the same configuration.
    pub fn derived_from(secret: &[u8]) -> Self {
        Self::from_bytes(&blake3::derive_key(CURSOR_KEY_CONTEXT, secret))
    }

    /// A fresh random key: cursors sealed under it open only in this process.
    pub fn random() -> Self {
        let mut bytes = [0; KEY_BYTES];
        getrandom::fill(&mut bytes).expect("the operating system's random generator is available");
        Self::from_bytes(&bytes)
    }

    /// The key for a schema with `checkpoint_key` (see the module docs).
    pub fn for_checkpoint_key(checkpoint_key: Option<&ledger_proof::SigningKey>) -> Self {
        match checkpoint_key {
            Some(signing_key) => Self::derived_from(&signing_key.to_bytes()),
            None => Self::random(),
        }
    }

    fn from_bytes(bytes: &[u8; KEY_BYTES]) -> Self {
        Self {
            cipher: XChaCha20Poly1305::new_from_slice(bytes)
                .expect("a 32-byte key is an XChaCha20-Poly1305 key"),
        }
    }

    /// `cursor` sealed for a caller of `role`: base64url of `nonce ‖ ciphertext`.
    pub fn seal(&self, role: &str, cursor: &str) -> String {
        let mut nonce = [0; NONCE_BYTES];
        getrandom::fill(&mut nonce).expect("the operating system's random generator is available");
        let sealed = self
            .cipher
            .encrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: cursor.as_bytes(),
                    aad: role.as_bytes(),
                },
            )
            .expect("XChaCha20-Poly1305 encrypts any message shorter than 256 GiB");
        let mut bytes = nonce.to_vec();
        bytes.extend(sealed);
        BASE64URL.encode(bytes)
    }

    /// The cursor `sealed` holds, when it was sealed under this key for a caller of `role`.
    pub fn open(&self, role: &str, sealed: &str) -> Option<String> {
        if sealed.len() > SEALED_CURSOR_CHARS_MAX {
            return None;
        }
        let bytes = BASE64URL.decode(sealed).ok()?;
        let (nonce, ciphertext) = bytes.split_at_checked(NONCE_BYTES)?;
        let nonce: [u8; NONCE_BYTES] = nonce.try_into().ok()?;
        let cursor = self
            .cipher
            .decrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: ciphertext,
                    aad: role.as_bytes(),
                },
            )
            .ok()?;
        String::from_utf8(cursor).ok()
    }
}

/// `cursor` (a read model's) as this request's caller receives it: sealed when the caller sees
/// personal data masked, else unchanged.
pub fn shown_cursor(ctx: &Context<'_>, cursor: &str) -> ApiResult<String> {
    if !masked(ctx) {
        return Ok(cursor.to_owned());
    }
    let role = caller(ctx)?.role.name();
    Ok(state(ctx)?.cursor_key.seal(role, cursor))
}

/// [`shown_cursor`] of an optional cursor.
pub fn shown_cursor_opt(ctx: &Context<'_>, cursor: Option<&str>) -> ApiResult<Option<String>> {
    cursor.map(|cursor| shown_cursor(ctx, cursor)).transpose()
}

/// The read model's cursor that `cursor`, the argument `argument` (`after` or `before`) as this
/// request's caller sent it, stands for: opened when the caller sees personal data masked,
/// else unchanged. One that does not open is the listing's bad-cursor `VALIDATION` error.
pub fn received_cursor(
    ctx: &Context<'_>,
    argument: &str,
    cursor: Option<String>,
) -> ApiResult<Option<String>> {
    let Some(cursor) = cursor else {
        return Ok(None);
    };
    if !masked(ctx) {
        return Ok(Some(cursor));
    }
    let role = caller(ctx)?.role.name();
    state(ctx)?
        .cursor_key
        .open(role, &cursor)
        .map(Some)
        .ok_or_else(|| bad_cursor(argument))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_cursor_opens_for_its_role_under_its_key_only() {
        let key = CursorKey::derived_from(&[7; 32]);
        let sealed = key.seal("analyst", "mobile:13800138000");
        assert!(!sealed.contains("13800138000"));
        assert_eq!(
            key.open("analyst", &sealed).as_deref(),
            Some("mobile:13800138000")
        );
        // The same key derived again (a restart with the same signing key) opens it.
        let again = CursorKey::derived_from(&[7; 32]);
        assert_eq!(
            again.open("analyst", &sealed).as_deref(),
            Some("mobile:13800138000")
        );
        assert_eq!(key.open("agent", &sealed), None);
        assert_eq!(CursorKey::random().open("analyst", &sealed), None);
        assert_eq!(
            CursorKey::derived_from(&[8; 32]).open("analyst", &sealed),
            None
        );
        // Nonces are random: the same cursor sealed twice reads differently.
        assert_ne!(key.seal("analyst", "mobile:13800138000"), sealed);
    }

    #[test]
    fn an_altered_or_foreign_text_does_not_open() {
        let key = CursorKey::random();
        let sealed = key.seal("analyst", "c:0001");
        let mut altered = sealed.clone().into_bytes();
        // A character inside the ciphertext, not a base64 padding bit.
        let inside = altered.len() / 2;
        altered[inside] = if altered[inside] == b'A' { b'B' } else { b'A' };
        let altered = String::from_utf8(altered).unwrap();
        for text in [
            altered.as_str(),
            "",
            "c:0001",
            "6d6f62696c65",
            "!!!",
            &"A".repeat(SEALED_CURSOR_CHARS_MAX + 4),
        ] {
            assert_eq!(key.open("analyst", text), None, "{text:?}");
        }
    }
}
