//! Text that is not an official number: policy and claim numbers issued by our own systems,
//! names, and free text written by staff and customers.

use super::to_half_width;

/// The shortest policy or claim number accepted. The policy and claims systems issue numbers
/// of 15 to 25 characters; 6 leaves room for legacy and partner numbers while rejecting
/// fragments such as a bare sequence number.
pub const ISSUED_NUMBER_CHARS_MIN: usize = 6;

/// The longest policy or claim number accepted: well above any number the systems issue,
/// low enough that an index key stays small.
pub const ISSUED_NUMBER_CHARS_MAX: usize = 40;

/// The longest name accepted, in characters. Registered company names are rarely above 50
/// characters and people's names, transliterated ones included, far shorter; 100 leaves room
/// for a branch or department appended to a company name.
pub const PERSON_NAME_CHARS_MAX: usize = 100;

/// The longest free text accepted, in characters. A contact summary, complaint or survey
/// finding fits in 2,000 characters (a full screen); longer material is a document, not a
/// ledger field. At most 4 bytes a character, this keeps a field under 8 KB in every event.
pub const FREE_TEXT_CHARS_MAX: usize = 2_000;

fn validate_issued_number(what: &str, text: &str) -> Result<String, String> {
    let number: String = text
        .trim()
        .chars()
        .map(|character| to_half_width(character).to_ascii_uppercase())
        .collect();
    let allowed = |character: char| character.is_ascii_alphanumeric() || character == '-';
    // Every allowed character is ASCII, so the byte length is the character count.
    let is_number = (ISSUED_NUMBER_CHARS_MIN..=ISSUED_NUMBER_CHARS_MAX).contains(&number.len())
        && number.chars().all(allowed);
    if is_number {
        Ok(number)
    } else {
        Err(format!(
            "{what} is {ISSUED_NUMBER_CHARS_MIN} to {ISSUED_NUMBER_CHARS_MAX} ASCII letters, \
             digits and hyphens"
        ))
    }
}

pub(super) fn validate_policy_number(text: &str) -> Result<String, String> {
    validate_issued_number("a policy number", text)
}

pub(super) fn validate_claim_number(text: &str) -> Result<String, String> {
    validate_issued_number("a claim number", text)
}

pub(super) fn validate_name(text: &str) -> Result<String, String> {
    let name = text.trim();
    let length = name.chars().count();
    if (1..=PERSON_NAME_CHARS_MAX).contains(&length) && !name.chars().any(char::is_control) {
        Ok(name.to_owned())
    } else {
        Err(format!(
            "a name is 1 to {PERSON_NAME_CHARS_MAX} characters without control characters"
        ))
    }
}

pub(super) fn validate_free_text(text: &str) -> Result<String, String> {
    // Browsers send a text area's line breaks as CR LF and some integrations send a bare CR;
    // all three spellings of a line break are one line break.
    let text = text.replace("\r\n", "\n").replace('\r', "\n");
    let text = text.trim();
    let length = text.chars().count();
    if length > FREE_TEXT_CHARS_MAX {
        return Err(format!(
            "free text is at most {FREE_TEXT_CHARS_MAX} characters; this has {length}"
        ));
    }
    let allowed =
        |character: char| !character.is_control() || character == '\n' || character == '\t';
    if !text.chars().all(allowed) {
        return Err(
            "free text has no control characters other than line breaks and tabs".to_owned(),
        );
    }
    Ok(text.to_owned())
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::{FREE_TEXT_CHARS_MAX, PERSON_NAME_CHARS_MAX};
    use crate::ValidationError;
    use crate::values::{ClaimNumber, FreeText, PersonName, PolicyNumber};

    fn policy(text: &str) -> Result<String, ValidationError> {
        PolicyNumber::parse("policyNumber", text).map(String::from)
    }

    fn claim(text: &str) -> Result<String, ValidationError> {
        ClaimNumber::parse("claimNumber", text).map(String::from)
    }

    fn name(text: &str) -> Result<String, ValidationError> {
        PersonName::parse("name", text).map(String::from)
    }

    fn free_text(text: &str) -> Result<String, ValidationError> {
        FreeText::parse("summary", text).map(String::from)
    }

    #[test]
    fn policy_and_claim_numbers_are_trimmed_and_upper_cased() {
        assert_eq!(
            policy(" pdaa202522010000012345 "),
            Ok("PDAA202522010000012345".to_owned())
        );
        assert_eq!(policy("JL-2025-000123"), Ok("JL-2025-000123".to_owned()));
        assert_eq!(
            claim("rdaa2025220100001"),
            Ok("RDAA2025220100001".to_owned())
        );
        assert_eq!(claim("ABC123"), Ok("ABC123".to_owned()));
        assert_eq!(claim(&"9".repeat(40)), Ok("9".repeat(40)));
    }

    #[test]
    fn policy_and_claim_numbers_have_bounded_length_and_plain_characters() {
        for text in [
            "",
            "ABC12",
            "PDAA 2025",
            "PDAA_2025",
            "PDAA/2025",
            "保单2025000123",
        ] {
            let error = PolicyNumber::parse("payload.policyNumber", text).unwrap_err();
            assert_eq!(error.field, "payload.policyNumber");
            assert_eq!(
                error.rule,
                "a policy number is 6 to 40 ASCII letters, digits and hyphens"
            );
        }
        let error = ClaimNumber::parse("claimNumber", &"9".repeat(41)).unwrap_err();
        assert_eq!(
            error.rule,
            "a claim number is 6 to 40 ASCII letters, digits and hyphens"
        );
    }

    #[test]
    fn names_are_trimmed_and_counted_in_characters() {
        assert_eq!(name("  张三 "), Ok("张三".to_owned()));
        assert_eq!(name("Zhang San"), Ok("Zhang San".to_owned()));
        assert_eq!(
            name("吉林省长春市某某汽车销售服务有限公司"),
            Ok("吉林省长春市某某汽车销售服务有限公司".to_owned())
        );
        // 100 Chinese characters are 300 bytes, still a valid name.
        let longest = "张".repeat(PERSON_NAME_CHARS_MAX);
        assert_eq!(name(&longest), Ok(longest.clone()));
        for text in [
            "",
            "   ",
            "张\u{0}三",
            "张\n三",
            &"张".repeat(PERSON_NAME_CHARS_MAX + 1),
        ] {
            let error = name(text).unwrap_err();
            assert_eq!(error.field, "name");
            assert_eq!(
                error.rule,
                "a name is 1 to 100 characters without control characters"
            );
        }
    }

    #[test]
    fn free_text_keeps_line_breaks_and_tabs_but_no_other_control_characters() {
        assert_eq!(free_text(""), Ok(String::new()));
        assert_eq!(free_text("  \n "), Ok(String::new()));
        assert_eq!(
            free_text(" 客户来电询问续保。\n\t已回复。 "),
            Ok("客户来电询问续保。\n\t已回复。".to_owned())
        );
        assert_eq!(
            free_text("line one\r\nline two\rline three"),
            Ok("line one\nline two\nline three".to_owned())
        );
        let error = free_text("bell\u{7}").unwrap_err();
        assert_eq!(error.field, "summary");
        assert_eq!(
            error.rule,
            "free text has no control characters other than line breaks and tabs"
        );
        assert!(free_text("escape \u{1b}[31m").is_err());
    }

    #[test]
    fn free_text_is_limited_in_characters_not_bytes() {
        let longest = "话".repeat(FREE_TEXT_CHARS_MAX);
        assert_eq!(free_text(&longest), Ok(longest.clone()));
        let error = free_text(&format!("{longest}多")).unwrap_err();
        assert_eq!(
            error.rule,
            "free text is at most 2000 characters; this has 2001"
        );
        // Surrounding whitespace does not count.
        assert!(free_text(&format!("  {longest}\n")).is_ok());
    }

    proptest! {
        #[test]
        fn text_parsing_is_idempotent(text in "\\PC{0,30}|[a-z0-9\\- ]{0,45}|[\\s\\S]{0,20}") {
            if let Ok(value) = PolicyNumber::parse("p", &text) {
                prop_assert_eq!(PolicyNumber::parse("p", value.as_str()), Ok(value));
            }
            if let Ok(value) = ClaimNumber::parse("c", &text) {
                prop_assert_eq!(ClaimNumber::parse("c", value.as_str()), Ok(value));
            }
            if let Ok(value) = PersonName::parse("n", &text) {
                prop_assert_eq!(PersonName::parse("n", value.as_str()), Ok(value));
            }
            if let Ok(value) = FreeText::parse("f", &text) {
                prop_assert_eq!(FreeText::parse("f", value.as_str()), Ok(value));
            }
        }

        #[test]
        fn generated_issued_numbers_parse(number in "[A-Z0-9][A-Z0-9\\-]{4,38}[A-Z0-9]") {
            prop_assert_eq!(policy(&number.to_lowercase()), Ok(number.clone()));
            prop_assert_eq!(claim(&number), Ok(number));
        }
    }
}
