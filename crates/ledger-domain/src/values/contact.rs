//! Contact points: mainland mobile numbers, landlines, e-mail addresses and WeChat openids.

use super::to_half_width;

/// An e-mail address is at most 254 bytes: RFC 5321 limits a forward path to 256 bytes,
/// and two of those are the angle brackets around the address.
pub const EMAIL_BYTES_MAX: usize = 254;

/// RFC 5321 limits the part before the `@` to 64 bytes.
pub const EMAIL_LOCAL_PART_BYTES_MAX: usize = 64;

/// RFC 1035 limits one label of a domain name (the text between dots) to 63 bytes.
const DOMAIN_LABEL_BYTES_MAX: usize = 63;

/// The shortest WeChat openid accepted. Openids issued to an official account are 28
/// characters, but mini-program openids and unionids come from the same alphabet with other
/// lengths; the ledger only stores and matches the id, so it accepts 20 to 64 characters
/// rather than reject a contact the day Tencent changes the length.
pub const WECHAT_OPENID_CHARS_MIN: usize = 20;

/// The longest WeChat openid accepted; see [`WECHAT_OPENID_CHARS_MIN`].
pub const WECHAT_OPENID_CHARS_MAX: usize = 64;

const MOBILE_RULE: &str = "a mobile number is 11 digits starting with 1 and a second digit 3-9, \
     optionally prefixed by +86, 0086 or 86";

const LANDLINE_RULE: &str = "a landline is an area code (010, 020-029, or 0 and three digits \
     from 0300 up) and a local number not starting with 0 or 1, of 8 digits after a three-digit \
     area code and 7 or 8 after a four-digit one, optionally prefixed by +86; extensions are \
     not accepted";

const EMAIL_RULE: &str = "an e-mail address is local@domain.tld: one @, no spaces or control \
     characters, a domain of at least two dot-separated labels of letters, digits and hyphens, \
     at most 64 bytes before the @ and 254 bytes in all";

const WECHAT_OPENID_RULE: &str =
    "a WeChat openid is 20 to 64 characters of ASCII letters, digits, - and _ (usually 28)";

/// Characters people put inside phone numbers for readability; they carry no meaning.
fn is_phone_separator(character: char) -> bool {
    character.is_whitespace() || matches!(character, '-' | '(' | ')')
}

/// The phone number without separators, full-width digits folded to ASCII.
fn compact_phone_number(text: &str) -> String {
    text.chars()
        .map(to_half_width)
        .filter(|&character| !is_phone_separator(character))
        .collect()
}

/// The rest of `number` after a mainland country prefix (`+86`, `0086` or `86`), or `None`
/// when it has none. A mainland number written domestically starts with 0 or 1, never 86,
/// so a leading 86 is always the country code.
fn without_country_prefix(number: &str) -> Option<&str> {
    ["+86", "0086", "86"]
        .into_iter()
        .find_map(|prefix| number.strip_prefix(prefix))
}

fn is_ascii_digits(text: &str) -> bool {
    text.bytes().all(|byte| byte.is_ascii_digit())
}

pub(super) fn validate_mobile(text: &str) -> Result<String, String> {
    let compact = compact_phone_number(text);
    let national = without_country_prefix(&compact).unwrap_or(&compact);
    let is_mobile = matches!(national.as_bytes(), [b'1', b'3'..=b'9', ..])
        && national.len() == 11
        && is_ascii_digits(national);
    if is_mobile {
        Ok(national.to_owned())
    } else {
        Err(MOBILE_RULE.to_owned())
    }
}

pub(super) fn validate_landline(text: &str) -> Result<String, String> {
    let compact = compact_phone_number(text);
    // After the country code the trunk 0 of the area code is dropped (`+86 431 ...`), though
    // some write it anyway (`+86 (0)431 ...`); either way the domestic form starts with 0.
    let national = match without_country_prefix(&compact) {
        Some(rest) if rest.starts_with('0') => rest.to_owned(),
        Some(rest) => format!("0{rest}"),
        None => compact,
    };
    if !is_ascii_digits(&national) {
        return Err(LANDLINE_RULE.to_owned());
    }
    // Beijing (010) and the big cities on 020-029 have two digits after the 0 and 8-digit
    // local numbers; every other area code has three digits after the 0. No four-digit code
    // starts with 01 or 02, so the digits alone say where the area code ends.
    let (area_code_digits, local_digits) = match national.as_bytes() {
        [b'0', b'1', b'0', ..] | [b'0', b'2', ..] => (3, 8..=8),
        [b'0', b'3'..=b'9', ..] => (4, 7..=8),
        _ => return Err(LANDLINE_RULE.to_owned()),
    };
    // The digits are ASCII, so every byte index is a character boundary.
    let (area_code, local) = national.split_at(area_code_digits.min(national.len()));
    let is_local = local_digits.contains(&local.len()) && !local.starts_with(['0', '1']);
    if is_local {
        Ok(format!("{area_code}-{local}"))
    } else {
        Err(LANDLINE_RULE.to_owned())
    }
}

pub(super) fn validate_email(text: &str) -> Result<String, String> {
    let address: String = text
        .trim()
        .chars()
        .map(to_half_width)
        .collect::<String>()
        .to_lowercase();
    let Some((local_part, domain)) = address.split_once('@') else {
        return Err(EMAIL_RULE.to_owned());
    };
    let is_email = address.len() <= EMAIL_BYTES_MAX
        && is_email_local_part(local_part)
        && is_email_domain(domain);
    if is_email {
        Ok(address)
    } else {
        Err(EMAIL_RULE.to_owned())
    }
}

/// A dot-atom local part (RFC 5322), with letters of any script allowed (RFC 6531). Quoted
/// local parts (`"john doe"@example.com`) are legal but nobody gives one to an insurer.
fn is_email_local_part(local_part: &str) -> bool {
    let allowed =
        |character: char| character.is_alphanumeric() || "!#$%&'*+/=?^_`{|}~-.".contains(character);
    !local_part.is_empty()
        && local_part.len() <= EMAIL_LOCAL_PART_BYTES_MAX
        && local_part.chars().all(allowed)
        && !local_part.starts_with('.')
        && !local_part.ends_with('.')
        && !local_part.contains("..")
}

/// At least two labels; the last one (the top-level domain) is not all digits, which keeps
/// out IP addresses (`user@10.0.0.1`).
fn is_email_domain(domain: &str) -> bool {
    let is_label = |label: &str| {
        !label.is_empty()
            && label.len() <= DOMAIN_LABEL_BYTES_MAX
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label
                .chars()
                .all(|character| character.is_alphanumeric() || character == '-')
    };
    let top_level_domain = domain.rsplit('.').next().unwrap_or_default();
    domain.contains('.')
        && domain.split('.').all(is_label)
        && top_level_domain.chars().count() >= 2
        && !is_ascii_digits(top_level_domain)
}

pub(super) fn validate_wechat_openid(text: &str) -> Result<String, String> {
    let openid = text.trim();
    let allowed =
        |character: char| character.is_ascii_alphanumeric() || character == '-' || character == '_';
    // All allowed characters are ASCII, so the byte length is the character count.
    let is_openid = (WECHAT_OPENID_CHARS_MIN..=WECHAT_OPENID_CHARS_MAX).contains(&openid.len())
        && openid.chars().all(allowed);
    if is_openid {
        Ok(openid.to_owned())
    } else {
        Err(WECHAT_OPENID_RULE.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use crate::ValidationError;
    use crate::values::{Email, Landline, Mobile, WeChatOpenId};

    fn mobile(text: &str) -> Result<String, ValidationError> {
        Mobile::parse("mobile", text).map(String::from)
    }

    fn landline(text: &str) -> Result<String, ValidationError> {
        Landline::parse("landline", text).map(String::from)
    }

    fn email(text: &str) -> Result<String, ValidationError> {
        Email::parse("email", text).map(String::from)
    }

    fn openid(text: &str) -> Result<String, ValidationError> {
        WeChatOpenId::parse("openid", text).map(String::from)
    }

    #[test]
    fn every_spelling_of_a_mobile_number_is_the_same_number() {
        let spellings = [
            "13800138000",
            "+86 138-0013-8000",
            "8613800138000",
            "008613800138000",
            "0086 138 0013 8000",
            "(+86) 138 0013 8000",
            "138 0013 8000",
            "  13800138000\t",
            "１３８００１３８０００",
        ];
        for spelling in spellings {
            assert_eq!(mobile(spelling), Ok("13800138000".to_owned()), "{spelling}");
        }
        assert_eq!(
            Mobile::parse("m", "+86 138-0013-8000"),
            Mobile::parse("m", "8613800138000")
        );
        assert_eq!(
            Mobile::parse("m", "8613800138000"),
            Mobile::parse("m", "13800138000")
        );
    }

    #[test]
    fn a_mobile_number_has_eleven_digits_starting_1_then_3_to_9() {
        for valid in ["13012345678", "14512345678", "16612345678", "19912345678"] {
            assert_eq!(mobile(valid), Ok(valid.to_owned()));
        }
        let invalid = [
            "",
            "12800138000",    // second digit 2
            "10800138000",    // second digit 0
            "23800138000",    // does not start with 1
            "1380013800",     // 10 digits
            "138001380001",   // 12 digits
            "+1 13800138000", // another country
            "+85213800138000",
            "1380013800a",
            "138.0013.8000",
            "8613800138",
            "+86",
        ];
        for text in invalid {
            let error = mobile(text).unwrap_err();
            assert_eq!(error.field, "mobile", "{text}");
            assert!(
                error.rule.starts_with("a mobile number is 11 digits"),
                "{text}: {}",
                error.rule
            );
        }
    }

    #[test]
    fn every_spelling_of_a_landline_is_the_same_number() {
        let spellings = [
            "0431-88886666",
            "(0431) 8888 6666",
            "+86 431 88886666",
            "043188886666",
            "0086-431-8888-6666",
            "86 431 88886666",
            "+86 (0)431 88886666",
            "０４３１－８８８８６６６６",
        ];
        for spelling in spellings {
            assert_eq!(
                landline(spelling),
                Ok("0431-88886666".to_owned()),
                "{spelling}"
            );
        }
    }

    #[test]
    fn a_landline_has_an_area_code_and_a_local_number_of_the_right_length() {
        let valid = [
            ("010-62345678", "010-62345678"),
            ("01062345678", "010-62345678"),
            ("+86 10 6552 9988", "010-65529988"),
            ("021 5888 6666", "021-58886666"),
            ("029-88886666", "029-88886666"),
            ("0431-8888666", "0431-8888666"), // 7-digit local number after a 4-digit code
            ("0755 2345 6789", "0755-23456789"),
        ];
        for (text, normalised) in valid {
            assert_eq!(landline(text), Ok(normalised.to_owned()), "{text}");
        }
        let invalid = [
            "",
            "88886666",            // no area code
            "010-6234567",         // Beijing numbers have 8 digits
            "021-888866666",       // 9 digits
            "0431-888866",         // 6 digits
            "0431-888866661",      // 9 digits
            "013-12345678",        // 01x is only 010
            "0431-08886666",       // local number starting 0
            "0431-18886666",       // local number starting 1
            "0431-88886666-123",   // extension
            "0431-88886666 ext 1", // extension
            "13800138000",         // a mobile
            "+1 431 88886666",
            "0200-1234567",
        ];
        for text in invalid {
            let error = landline(text).unwrap_err();
            assert_eq!(error.field, "landline", "{text}");
            assert!(
                error.rule.starts_with("a landline is an area code"),
                "{text}"
            );
        }
    }

    #[test]
    fn an_email_address_is_trimmed_and_lower_cased() {
        let valid = [
            ("Zhang.San@Example.COM", "zhang.san@example.com"),
            (
                "  li_si+claims@faw-insurance.com.cn ",
                "li_si+claims@faw-insurance.com.cn",
            ),
            ("wang@mail.中国", "wang@mail.中国"),
            ("ｗａｎｇ＠ｑｑ．ｃｏｍ", "wang@qq.com"),
            ("a@b.cn", "a@b.cn"),
        ];
        let longest = format!("a@{}com", format!("{}.", "b".repeat(60)).repeat(4));
        assert_eq!(email(&longest), Ok(longest.clone()));
        for (text, normalised) in valid {
            assert_eq!(email(text), Ok(normalised.to_owned()), "{text}");
        }
    }

    #[test]
    fn an_email_address_follows_the_practical_rule() {
        let too_long = format!("{}@example.com", "a".repeat(65));
        // Five 60-letter labels stay within the label limit but not the 254-byte limit.
        let too_long_overall = format!("a@{}com", format!("{}.", "b".repeat(60)).repeat(5));
        let invalid = [
            "",
            "zhang",
            "zhang@",
            "@example.com",
            "zhang@example",
            "zhang@@example.com",
            "zhang@exa@mple.com",
            "zhang san@example.com",
            "zhang@example..com",
            "zhang@.example.com",
            "zhang@example.com.",
            "zhang@-example.com",
            "zhang@example.c",
            "zhang@10.0.0.1",
            ".zhang@example.com",
            "zhang.@example.com",
            "zh..ang@example.com",
            "zhang@exam_ple.com",
            too_long.as_str(),
            too_long_overall.as_str(),
        ];
        for text in invalid {
            let error = email(text).unwrap_err();
            assert_eq!(error.field, "email", "{text}");
            assert!(
                error
                    .rule
                    .starts_with("an e-mail address is local@domain.tld"),
                "{text}"
            );
        }
    }

    #[test]
    fn a_wechat_openid_keeps_its_case() {
        let openid_28 = "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o";
        assert_eq!(openid(&format!(" {openid_28} ")), Ok(openid_28.to_owned()));
        assert_eq!(openid(&"a".repeat(20)), Ok("a".repeat(20)));
        assert_eq!(openid(&"a-".repeat(32)), Ok("a-".repeat(32)));
        for text in [
            String::new(),
            "a".repeat(19),
            "a".repeat(65),
            "oUpF8uMuAJO M2pxb1Q9zNjWeS6o".to_owned(),
            "oUpF8uMuAJO.M2pxb1Q9zNjWeS6o".to_owned(),
            "微信用户微信用户微信用户微信用户微信用户".to_owned(),
        ] {
            let error = openid(&text).unwrap_err();
            assert_eq!(error.field, "openid", "{text}");
            assert!(
                error
                    .rule
                    .starts_with("a WeChat openid is 20 to 64 characters")
            );
        }
    }

    /// A mainland mobile number written in any of the ways people write one.
    fn mobile_spellings() -> impl Strategy<Value = (String, String)> {
        let prefixes = prop::sample::select(vec!["", "+86", "+86 ", "86", "0086", "(+86) "]);
        let separators = prop::sample::select(vec!["", " ", "-"]);
        ("1[3-9][0-9]{9}", prefixes, separators).prop_map(|(digits, prefix, separator)| {
            let spelled = format!(
                "{prefix}{}{separator}{}{separator}{}",
                &digits[..3],
                &digits[3..7],
                &digits[7..]
            );
            (spelled, digits)
        })
    }

    /// A landline with a three- or four-digit area code, with or without the country code.
    fn landline_spellings() -> impl Strategy<Value = (String, String)> {
        let three_digit = ("0(10|2[0-9])", "[2-9][0-9]{7}");
        let four_digit = ("0[3-9][0-9]{2}", "[2-9][0-9]{6,7}");
        (
            prop_oneof![three_digit, four_digit],
            any::<bool>(),
            any::<bool>(),
        )
            .prop_map(|((area_code, local), international, parenthesised)| {
                let normalised = format!("{area_code}-{local}");
                let spelled = match (international, parenthesised) {
                    (true, _) => format!("+86 {} {local}", &area_code[1..]),
                    (false, true) => format!("({area_code}) {local}"),
                    (false, false) => format!("{area_code}{local}"),
                };
                (spelled, normalised)
            })
    }

    proptest! {
        #[test]
        fn generated_mobile_numbers_parse_to_their_digits((spelled, digits) in mobile_spellings()) {
            prop_assert_eq!(mobile(&spelled), Ok(digits));
        }

        #[test]
        fn generated_landlines_parse_to_the_hyphenated_form(
            (spelled, normalised) in landline_spellings(),
        ) {
            prop_assert_eq!(landline(&spelled), Ok(normalised));
        }

        #[test]
        fn contact_point_parsing_is_idempotent(
            text in "[+()0-9 \\-]{0,20}|[a-zA-Z0-9._@\\-]{0,30}",
        ) {
            if let Ok(value) = Mobile::parse("m", &text) {
                prop_assert_eq!(Mobile::parse("m", value.as_str()), Ok(value));
            }
            if let Ok(value) = Landline::parse("l", &text) {
                prop_assert_eq!(Landline::parse("l", value.as_str()), Ok(value));
            }
            if let Ok(value) = Email::parse("e", &text) {
                prop_assert_eq!(Email::parse("e", value.as_str()), Ok(value));
            }
            if let Ok(value) = WeChatOpenId::parse("w", &text) {
                prop_assert_eq!(WeChatOpenId::parse("w", value.as_str()), Ok(value));
            }
        }

        #[test]
        fn normalised_spellings_parse_to_themselves(
            (spelled, _) in mobile_spellings(),
            (line, _) in landline_spellings(),
        ) {
            let value = Mobile::parse("m", &spelled).unwrap();
            prop_assert_eq!(Mobile::parse("m", value.as_str()), Ok(value));
            let value = Landline::parse("l", &line).unwrap();
            prop_assert_eq!(Landline::parse("l", value.as_str()), Ok(value));
        }
    }
}
