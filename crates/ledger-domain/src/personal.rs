//! Personal data in payloads: which fields hold it, the erased value each leaves behind, and the
//! one place where an erased value may be read back.
//!
//! Each event type declares its personal fields (identifiers, names, addresses, plates, VINs,
//! free-text summaries and comments) with `personal!` next to its payload type. The ledger
//! stores those fields sealed under the data key of the customer they belong to (see
//! `ledger_app::personal`), and the rest of the payload in the clear with the personal fields
//! replaced by their erased value: that copy, the *redacted* payload, is what every reader gets
//! once the key is destroyed.
//!
//! An erased value is an empty text (an identifier keeps its kind and loses its value; a payee
//! keeps its kind and loses its name). No validated value can be empty, so an erased value can
//! never be mistaken for, or collide with, a real one. Stored bytes (redacted payloads, read
//! models' state) may hold erased values and decode with them; input from outside — an
//! integrator's JSON payload — is read inside [`strict`], where an empty text is refused like
//! any other invalid value.

use std::cell::Cell;

/// A field type that can give up its personal content in place.
pub trait Erase {
    /// Replaces the personal content with its erased value.
    fn erase(&mut self);
}

impl<T: Erase> Erase for Option<T> {
    fn erase(&mut self) {
        if let Some(value) = self {
            value.erase();
        }
    }
}

impl<T: Erase> Erase for Vec<T> {
    fn erase(&mut self) {
        for value in self {
            value.erase();
        }
    }
}

thread_local! {
    static STRICT: Cell<bool> = const { Cell::new(false) };
}

/// Runs `read` with erased values refused by every validated text's deserializer: for input
/// from outside the ledger (JSON payloads), which must never smuggle in an "erased" value.
pub fn strict<T>(read: impl FnOnce() -> T) -> T {
    struct Reset(bool);
    impl Drop for Reset {
        fn drop(&mut self) {
            STRICT.with(|flag| flag.set(self.0));
        }
    }
    let _reset = Reset(STRICT.with(|flag| flag.replace(true)));
    read()
}

/// Whether an erased (empty) value may be deserialized here: everywhere but inside [`strict`].
pub(crate) fn erased_values_allowed() -> bool {
    !STRICT.with(Cell::get)
}

#[cfg(test)]
mod tests {
    use super::{Erase, strict};
    use crate::values::{FreeText, Identifier, IdentifierKind, Mobile};

    #[test]
    fn an_empty_text_is_refused_only_from_outside_input() {
        let refused = strict(|| serde_json::from_str::<Mobile>("\"\""));
        assert!(
            refused.is_err(),
            "an empty mobile must not parse: {refused:?}"
        );
        let stored = serde_json::from_str::<Mobile>("\"\"");
        assert!(stored.expect("erased in stored bytes").is_erased());
        let refused_again = strict(|| serde_json::from_str::<Mobile>("\"\""));
        assert!(refused_again.is_err(), "strict again after a lenient read");
        assert!(strict(|| serde_json::from_str::<Mobile>("\"13800138000\"")).is_ok());
    }

    #[test]
    fn erasing_keeps_what_is_not_personal() {
        let mut identifier =
            Identifier::parse("value", IdentifierKind::Mobile, "13800138000").expect("valid");
        identifier.erase();
        assert_eq!(identifier.kind(), IdentifierKind::Mobile);
        assert!(identifier.is_erased());
        let mut texts = vec![Some(FreeText::parse("s", "note").expect("valid")), None];
        texts.erase();
        assert!(texts[0].as_ref().expect("kept").is_erased());
        assert!(texts[1].is_none());
    }
}
