//! Who a customer is officially: resident ID card numbers (GB 11643-1999) for people and
//! unified social credit codes (GB 32100-2015) for companies, each with its check character.

use super::{IdCardNumber, SocialCreditCode, to_half_width};

/// Both numbers are 18 characters: 17 that carry meaning and a check character.
const CODE_CHARS: usize = 18;

/// ISO 7064 MOD 11-2 weights for the 17 digits of an ID card number: 2^(17-i) mod 11.
const ID_CARD_WEIGHTS: [usize; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];

/// The check character for each remainder of the weighted sum modulo 11.
const ID_CARD_CHECK_CHARACTERS: [u8; 11] = *b"10X98765432";

/// The oldest and newest birth years an ID card number may carry. Parsing cannot consult a
/// clock (replaying the ledger must give the same answer in any year), so the range is fixed
/// and generous.
const ID_CARD_BIRTH_YEAR_MIN: usize = 1900;
const ID_CARD_BIRTH_YEAR_MAX: usize = 2100;

/// The 31 characters of a social credit code, in value order: digits and upper-case letters
/// without I, O, S, V and Z.
const SOCIAL_CREDIT_CODE_ALPHABET: [u8; 31] = *b"0123456789ABCDEFGHJKLMNPQRTUWXY";

/// GB 32100 weights for the 17 characters of a social credit code: 3^i mod 31.
const SOCIAL_CREDIT_CODE_WEIGHTS: [usize; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];

const ID_CARD_CHARACTERS_RULE: &str =
    "a resident ID card number is 17 digits followed by a check digit or X";

const ID_CARD_REGION_RULE: &str = "a resident ID card number starts with a province-level \
     region code (11-15, 21-23, 31-37, 41-46, 50-54, 61-65, 71, 81, 82 or 83), or with 91-96 \
     for a foreigner's permanent residence card";

const ID_CARD_DATE_RULE: &str = "characters 7 to 14 of a resident ID card number are the \
     birth date (YYYYMMDD), a real date from 1900-01-01 to 2100-12-31";

const SOCIAL_CREDIT_CODE_CHARACTERS_RULE: &str = "a unified social credit code is 18 digits \
     and upper-case letters other than I, O, S, V and Z";

/// The code with whitespace removed, full-width characters folded and letters upper-cased.
fn compact_code(text: &str) -> String {
    text.chars()
        .map(|character| to_half_width(character).to_ascii_uppercase())
        .filter(|character| !character.is_whitespace())
        .collect()
}

/// The value of an ASCII digit.
fn digit_value(byte: u8) -> Option<usize> {
    byte.is_ascii_digit().then(|| usize::from(byte - b'0'))
}

/// The MOD 11-2 check character over `digits` (17 ASCII digits), or `None` if they are not.
fn id_card_check_character(digits: &[u8]) -> Option<u8> {
    if digits.len() != ID_CARD_WEIGHTS.len() {
        return None;
    }
    let mut sum = 0;
    for (&byte, weight) in digits.iter().zip(ID_CARD_WEIGHTS) {
        sum += digit_value(byte)? * weight;
    }
    Some(ID_CARD_CHECK_CHARACTERS[sum % 11])
}

/// Region codes in use: provinces, autonomous regions and municipalities (11-65), Taiwan
/// (71), and the residence permits of Hong Kong (81), Macao (82) and Taiwan (83) residents.
fn is_region_code(code: usize) -> bool {
    matches!(code, 11..=15 | 21..=23 | 31..=37 | 41..=46 | 50..=54 | 61..=65 | 71 | 81..=83)
}

/// Whether the number's first two digits name a region: a region code, or 91 to 96 for the
/// 2023 foreigner's permanent residence card, which starts with 9 and then the mainland
/// region code of the issuing office (so its second digit is 1 to 6).
fn has_region(digits: &[u8]) -> bool {
    digits
        .get(..2)
        .and_then(parse_digits)
        .is_some_and(|code| is_region_code(code) || (91..=96).contains(&code))
}

/// The number written by ASCII `digits`, or `None` if one is not a digit.
fn parse_digits(digits: &[u8]) -> Option<usize> {
    digits
        .iter()
        .try_fold(0, |number, &byte| Some(number * 10 + digit_value(byte)?))
}

fn is_leap_year(year: usize) -> bool {
    // Written as a match on remainders rather than with `is_multiple_of`, which is newer
    // than the workspace's minimum Rust version.
    match (year % 4, year % 100, year % 400) {
        (_, _, 0) => true,
        (_, 0, _) => false,
        (remainder, _, _) => remainder == 0,
    }
}

/// Whether `year`-`month`-`day` is a day in the Gregorian calendar.
fn is_real_date(year: usize, month: usize, day: usize) -> bool {
    let days_in_month = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap_year(year) => 29,
        2 => 28,
        _ => return false,
    };
    (1..=days_in_month).contains(&day)
}

/// Whether the eight ASCII digits are a birth date (YYYYMMDD) in the accepted range.
fn is_birth_date(digits: &[u8]) -> bool {
    let field = |range: std::ops::Range<usize>| digits.get(range).and_then(parse_digits);
    let (Some(year), Some(month), Some(day)) = (field(0..4), field(4..6), field(6..8)) else {
        return false;
    };
    (ID_CARD_BIRTH_YEAR_MIN..=ID_CARD_BIRTH_YEAR_MAX).contains(&year)
        && is_real_date(year, month, day)
}

pub(super) fn validate_id_card(text: &str) -> Result<String, String> {
    let number = compact_code(text);
    let length = number.chars().count();
    if length != CODE_CHARS {
        return Err(format!(
            "a resident ID card number is 18 characters (17 digits and a check digit or X); \
             this one has {length}"
        ));
    }
    if !number.is_ascii() {
        return Err(ID_CARD_CHARACTERS_RULE.to_owned());
    }
    // 18 ASCII characters are 18 bytes.
    let (body, check) = number.as_bytes().split_at(CODE_CHARS - 1);
    if !body.iter().all(u8::is_ascii_digit) || !matches!(check, [b'0'..=b'9' | b'X']) {
        return Err(ID_CARD_CHARACTERS_RULE.to_owned());
    }
    if !has_region(body) {
        return Err(ID_CARD_REGION_RULE.to_owned());
    }
    if !is_birth_date(&body[6..14]) {
        return Err(ID_CARD_DATE_RULE.to_owned());
    }
    match id_card_check_character(body) {
        Some(expected) if check == [expected] => Ok(number),
        Some(expected) => Err(format!(
            "the check digit should be {} (GB 11643 MOD 11-2 over the first 17 digits)",
            char::from(expected)
        )),
        None => Err(ID_CARD_CHARACTERS_RULE.to_owned()),
    }
}

/// The value (0 to 30) of a social credit code character, or `None` if it is not one.
fn social_credit_code_value(byte: u8) -> Option<usize> {
    SOCIAL_CREDIT_CODE_ALPHABET
        .iter()
        .position(|&character| character == byte)
}

/// The GB 32100 check character over `body` (17 code characters), or `None` if it is not.
fn social_credit_code_check_character(body: &[u8]) -> Option<u8> {
    if body.len() != SOCIAL_CREDIT_CODE_WEIGHTS.len() {
        return None;
    }
    let mut sum = 0;
    for (&byte, weight) in body.iter().zip(SOCIAL_CREDIT_CODE_WEIGHTS) {
        sum += social_credit_code_value(byte)? * weight;
    }
    // The check value makes the weighted sum of all 18 a multiple of 31; 31 itself is 0.
    Some(SOCIAL_CREDIT_CODE_ALPHABET[(31 - sum % 31) % 31])
}

pub(super) fn validate_social_credit_code(text: &str) -> Result<String, String> {
    let code = compact_code(text);
    let length = code.chars().count();
    if length != CODE_CHARS {
        return Err(format!(
            "a unified social credit code is 18 characters; this one has {length}"
        ));
    }
    let bytes = code.as_bytes();
    if !bytes
        .iter()
        .all(|&byte| social_credit_code_value(byte).is_some())
    {
        return Err(SOCIAL_CREDIT_CODE_CHARACTERS_RULE.to_owned());
    }
    // Every alphabet character is ASCII, so the 18 characters are 18 bytes.
    let (body, check) = bytes.split_at(CODE_CHARS - 1);
    match social_credit_code_check_character(body) {
        Some(expected) if check == [expected] => Ok(code),
        Some(expected) => Err(format!(
            "the check character should be {} (GB 32100 mod 31 over the first 17 characters)",
            char::from(expected)
        )),
        None => Err(SOCIAL_CREDIT_CODE_CHARACTERS_RULE.to_owned()),
    }
}

impl IdCardNumber {
    /// The check character (`0`-`9` or `X`) that completes `first_17_digits`, or `None` if
    /// they are not 17 ASCII digits. For generators of test data and for explaining errors.
    pub fn check_character(first_17_digits: &str) -> Option<char> {
        id_card_check_character(first_17_digits.as_bytes()).map(char::from)
    }
}

impl SocialCreditCode {
    /// The check character that completes `first_17_characters` (digits and upper-case
    /// letters other than I, O, S, V and Z), or `None` if they are not such characters.
    pub fn check_character(first_17_characters: &str) -> Option<char> {
        social_credit_code_check_character(first_17_characters.as_bytes()).map(char::from)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use crate::ValidationError;
    use crate::values::{IdCardNumber, SocialCreditCode};

    fn id_card(text: &str) -> Result<String, ValidationError> {
        IdCardNumber::parse("idCard", text).map(String::from)
    }

    fn credit_code(text: &str) -> Result<String, ValidationError> {
        SocialCreditCode::parse("creditCode", text).map(String::from)
    }

    fn rule(result: Result<String, ValidationError>) -> String {
        result.unwrap_err().rule
    }

    /// ISO 7064 MOD 11-2 written from its definition rather than from the tables above: each
    /// digit weighs 2^(17-i) mod 11, and the check value c (weight 1) makes sum + c ≡ 1 (mod 11).
    fn id_card_check_by_definition(digits: &str) -> char {
        let sum: u32 = digits
            .chars()
            .enumerate()
            .map(|(index, digit)| {
                let power = u32::try_from(17 - index).unwrap();
                digit.to_digit(10).unwrap() * (2_u32.pow(power) % 11)
            })
            .sum();
        let check = (12 - sum % 11) % 11;
        if check == 10 {
            'X'
        } else {
            char::from_digit(check, 10).unwrap()
        }
    }

    /// GB 32100 from its definition: the weight of character i is 3^i mod 31.
    fn credit_code_check_by_definition(body: &str) -> char {
        let alphabet: Vec<char> = "0123456789ABCDEFGHJKLMNPQRTUWXY".chars().collect();
        let mut weight = 1;
        let mut sum = 0;
        for character in body.chars() {
            sum += alphabet
                .iter()
                .position(|&letter| letter == character)
                .unwrap()
                * weight;
            weight = weight * 3 % 31;
        }
        alphabet[(31 - sum % 31) % 31]
    }

    #[test]
    fn known_id_card_numbers_are_valid() {
        // Expected check characters worked out by hand (and with the definition above):
        // 220102 19900307 123: weighted sum 194, 194 mod 11 = 7, "10X98765432"[7] = 5.
        let known = [
            "11010519491231002X", // the GB 11643 sample number
            "220102199003071235", // Changchun, Nanguan district
            "440308199901011234",
            "22010219850610388X",
            "220102200002291231", // 29 February of a year divisible by 400
            "922840199001011232", // a foreigner's permanent residence card issued in Jilin
        ];
        for number in known {
            assert_eq!(id_card(number), Ok(number.to_owned()), "{number}");
            let check = number.chars().last().unwrap();
            assert_eq!(
                id_card_check_by_definition(&number[..17]),
                check,
                "{number}"
            );
            assert_eq!(
                IdCardNumber::check_character(&number[..17]),
                Some(check),
                "{number}"
            );
        }
    }

    #[test]
    fn an_id_card_number_is_trimmed_and_its_x_upper_cased() {
        assert_eq!(
            id_card(" 11010519491231002x "),
            Ok("11010519491231002X".to_owned())
        );
        assert_eq!(
            id_card("110105 19491231 002X"),
            Ok("11010519491231002X".to_owned())
        );
        assert_eq!(
            id_card("１１０１０５１９４９１２３１００２Ｘ"),
            Ok("11010519491231002X".to_owned())
        );
    }

    #[test]
    fn each_broken_id_card_rule_has_its_own_message() {
        let error = IdCardNumber::parse("payload.idCard", "11010519491231002").unwrap_err();
        assert_eq!(error.field, "payload.idCard");
        assert!(error.rule.ends_with("this one has 17"), "{}", error.rule);
        assert!(rule(id_card("110105194912310021X")).ends_with("this one has 19"));
        assert!(rule(id_card("110105491231002")).ends_with("this one has 15"));

        let characters = "a resident ID card number is 17 digits followed by a check digit or X";
        assert_eq!(rule(id_card("1101051949123100AX")), characters);
        assert_eq!(rule(id_card("11010519491231002Y")), characters);
        assert_eq!(rule(id_card("X10105194912310020")), characters);
        assert_eq!(rule(id_card("11010519491231002张")), characters);

        for unknown_region in [
            "00010519491231002X",
            "19010519491231002X",
            "99010519491231002X",
        ] {
            assert!(
                rule(id_card(unknown_region)).contains("region code"),
                "{unknown_region}"
            );
        }

        let bad_dates = [
            "110105194902301234", // 30 February
            "110105190002291234", // 1900 was not a leap year
            "110105189912311234", // before 1900
            "110105210101011234", // after 2100
            "110105194913011234", // month 13
            "110105194900011234", // month 0
            "110105194904311234", // 31 April
            "110105194901001234", // day 0
        ];
        for number in bad_dates {
            assert!(rule(id_card(number)).contains("birth date"), "{number}");
        }

        assert_eq!(
            rule(id_card("110105194912310021")),
            "the check digit should be X (GB 11643 MOD 11-2 over the first 17 digits)"
        );
        assert_eq!(
            rule(id_card("220102199003071234")),
            "the check digit should be 5 (GB 11643 MOD 11-2 over the first 17 digits)"
        );
    }

    #[test]
    fn known_social_credit_codes_are_valid() {
        let known = [
            "91350100M000100Y43",
            "91110000600037341L",
            "9122010WFUYGCJU1F0", // weighted sum a multiple of 31, so the check value 31 is 0
        ];
        for code in known {
            assert_eq!(credit_code(code), Ok(code.to_owned()), "{code}");
            let check = code.chars().last().unwrap();
            assert_eq!(
                credit_code_check_by_definition(&code[..17]),
                check,
                "{code}"
            );
            assert_eq!(
                SocialCreditCode::check_character(&code[..17]),
                Some(check),
                "{code}"
            );
        }
        assert_eq!(
            credit_code(" 91350100m000100y43 "),
            Ok("91350100M000100Y43".to_owned())
        );
    }

    #[test]
    fn each_broken_social_credit_code_rule_has_its_own_message() {
        let error = SocialCreditCode::parse("company.creditCode", "91350100M000100Y4").unwrap_err();
        assert_eq!(error.field, "company.creditCode");
        assert!(error.rule.ends_with("this one has 17"), "{}", error.rule);
        for forbidden in [
            "91350100I000100Y43",
            "91350100O000100Y43",
            "91350100S000100Y43",
        ] {
            assert!(rule(credit_code(forbidden)).contains("other than I, O, S, V and Z"));
        }
        assert!(rule(credit_code("91350100M000100Y4-")).contains("other than I, O, S, V and Z"));
        assert_eq!(
            rule(credit_code("91350100M000100Y44")),
            "the check character should be 3 (GB 32100 mod 31 over the first 17 characters)"
        );
        assert_eq!(
            rule(credit_code("91110000600037341M")),
            "the check character should be L (GB 32100 mod 31 over the first 17 characters)"
        );
    }

    #[test]
    fn check_characters_need_the_right_input() {
        assert_eq!(IdCardNumber::check_character("1101051949123100"), None);
        assert_eq!(IdCardNumber::check_character("1101051949123100A"), None);
        assert_eq!(SocialCreditCode::check_character("91350100M000100Y"), None);
        assert_eq!(SocialCreditCode::check_character("91350100I000100Y4"), None);
    }

    /// The first 17 digits of a plausible ID card number: region, district, birth date (any
    /// day up to the 28th exists in every month), sequence.
    fn id_card_bodies() -> impl Strategy<Value = String> {
        let regions = prop::sample::select(vec![
            "11", "13", "15", "21", "22", "23", "31", "37", "41", "46", "50", "54", "61", "65",
            "71", "81", "82", "83", "91", "96",
        ]);
        (
            regions,
            "[0-9]{4}",
            1900..=2100_u32,
            1..=12_u32,
            1..=28_u32,
            "[0-9]{3}",
        )
            .prop_map(|(region, district, year, month, day, sequence)| {
                format!("{region}{district}{year}{month:02}{day:02}{sequence}")
            })
    }

    proptest! {
        #[test]
        fn generated_id_card_numbers_parse(body in id_card_bodies()) {
            let number = format!("{body}{}", id_card_check_by_definition(&body));
            prop_assert_eq!(id_card(&number), Ok(number.clone()));
            prop_assert_eq!(id_card(&number.to_lowercase()), Ok(number));
        }

        #[test]
        fn a_wrong_id_card_check_digit_names_the_right_one(
            body in id_card_bodies(),
            wrong in "[0-9X]",
        ) {
            let check = id_card_check_by_definition(&body);
            prop_assume!(wrong != check.to_string());
            let expected = format!(
                "the check digit should be {check} (GB 11643 MOD 11-2 over the first 17 digits)"
            );
            prop_assert_eq!(rule(id_card(&format!("{body}{wrong}"))), expected);
        }

        #[test]
        fn generated_social_credit_codes_parse(body in "[0-9A-HJ-NP-RT-UW-Y]{17}") {
            let code = format!("{body}{}", credit_code_check_by_definition(&body));
            prop_assert_eq!(credit_code(&code), Ok(code.clone()));
            prop_assert_eq!(credit_code(&code.to_lowercase()), Ok(code));
        }

        #[test]
        fn identity_parsing_is_idempotent(text in "[0-9Xx ]{15,20}|[0-9A-Za-z ]{16,19}") {
            if let Ok(value) = IdCardNumber::parse("i", &text) {
                prop_assert_eq!(IdCardNumber::parse("i", value.as_str()), Ok(value));
            }
            if let Ok(value) = SocialCreditCode::parse("s", &text) {
                prop_assert_eq!(SocialCreditCode::parse("s", value.as_str()), Ok(value));
            }
        }
    }
}
