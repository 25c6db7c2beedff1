//! Masking personal data for analysts: enough of an identifier or name stays visible to tell
//! records apart and recognise one on the phone, not enough to identify a person.

use super::IdentifierKind;

const MASK: char = '*';

/// A name with all but its first character masked, one `*` per hidden character: `张三` →
/// `张*`, `欧阳娜娜` → `欧***`, `Zhang San` → `Z********`. A one-character name is masked
/// whole, since its first character would be all of it.
pub fn mask_name(name: &str) -> String {
    let mut characters = name.chars();
    match (characters.next(), characters.count()) {
        (None, _) => String::new(),
        (Some(_), 0) => MASK.to_string(),
        (Some(first), hidden) => std::iter::once(first)
            .chain(std::iter::repeat_n(MASK, hidden))
            .collect(),
    }
}

/// The normalised `value` of an identifier of `kind`, masked for analysts.
pub(super) fn mask_identifier(kind: IdentifierKind, value: &str) -> String {
    match kind {
        IdentifierKind::Mobile => keep_ends(value, 3, 4),
        IdentifierKind::IdCard => keep_ends(value, 6, 4),
        IdentifierKind::Plate => keep_ends(value, 2, 2),
        IdentifierKind::Vin => keep_ends(value, 0, 6),
        IdentifierKind::Email => mask_email(value),
        IdentifierKind::Landline
        | IdentifierKind::WeChat
        | IdentifierKind::SocialCreditCode
        | IdentifierKind::PolicyNumber
        | IdentifierKind::ClaimNumber => keep_ends(value, 0, 4),
    }
}

/// `value` with all but its first `head` and last `tail` characters masked, one `*` per
/// character. A value too short to hide anything is masked whole.
fn keep_ends(value: &str, head: usize, tail: usize) -> String {
    let length = value.chars().count();
    if length <= head + tail {
        return std::iter::repeat_n(MASK, length).collect();
    }
    value
        .chars()
        .enumerate()
        .map(|(index, character)| {
            if index < head || index >= length - tail {
                character
            } else {
                MASK
            }
        })
        .collect()
}

/// The first character of the local part, a fixed `***` (so the length is not told), and the
/// domain: `z***@example.com`.
fn mask_email(address: &str) -> String {
    match address.split_once('@') {
        Some((local_part, domain)) => {
            let first: String = local_part.chars().take(1).collect();
            format!("{first}***@{domain}")
        }
        None => keep_ends(address, 0, 4),
    }
}

#[cfg(test)]
mod tests {
    use super::mask_name;
    use crate::values::{Identifier, IdentifierKind, PersonName};

    fn masked(kind: IdentifierKind, value: &str) -> String {
        Identifier::parse("value", kind, value).unwrap().mask()
    }

    #[test]
    fn identifiers_are_masked_by_kind() {
        assert_eq!(
            masked(IdentifierKind::Mobile, "+86 138-0013-8000"),
            "138****8000"
        );
        assert_eq!(
            masked(IdentifierKind::IdCard, "11010519491231002x"),
            "110105********002X"
        );
        assert_eq!(
            masked(IdentifierKind::IdCard, "220102199003071235"),
            "220102********1235"
        );
        assert_eq!(masked(IdentifierKind::Plate, "吉A·12345"), "吉A***45");
        assert_eq!(masked(IdentifierKind::Plate, "粤BD12345"), "粤B****45");
        assert_eq!(
            masked(IdentifierKind::Vin, "LSVAM4187C2184847"),
            "***********184847"
        );
        assert_eq!(
            masked(IdentifierKind::Email, "Zhang.San@Example.com"),
            "z***@example.com"
        );
        assert_eq!(
            masked(IdentifierKind::Landline, "0431-88886666"),
            "*********6666"
        );
        assert_eq!(
            masked(IdentifierKind::WeChat, "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"),
            format!("{}eS6o", "*".repeat(24))
        );
        assert_eq!(
            masked(IdentifierKind::SocialCreditCode, "91350100M000100Y43"),
            format!("{}0Y43", "*".repeat(14))
        );
        assert_eq!(
            masked(IdentifierKind::PolicyNumber, "PDAA2025220100001"),
            "*************0001"
        );
        assert_eq!(masked(IdentifierKind::ClaimNumber, "abc123"), "**C123");
    }

    #[test]
    fn names_keep_only_their_first_character() {
        assert_eq!(mask_name("张三"), "张*");
        assert_eq!(mask_name("欧阳娜娜"), "欧***");
        assert_eq!(mask_name("Zhang San"), "Z********");
        assert_eq!(mask_name("张"), "*");
        assert_eq!(mask_name(""), "");
        assert_eq!(
            PersonName::parse("name", " 欧阳娜娜 ").unwrap().mask(),
            "欧***"
        );
    }
}
