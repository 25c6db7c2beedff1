//! What a vehicle is known by: its licence plate (GA 36-2018) and its VIN (GB 16735, the
//! Chinese form of ISO 3779, with the check digit in position 9).

use super::{Vin, to_half_width};

/// The one-character abbreviations of the 31 mainland provinces, autonomous regions and
/// municipalities, the first character of every ordinary plate.
pub const PLATE_PROVINCES: &str = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼";

/// Characters that may end a plate in place of its fifth serial character: trailer, driving
/// school, police, and Guangdong's cross-border plates for Hong Kong and Macao vehicles.
pub const PLATE_SPECIAL_SUFFIXES: &str = "挂学警港澳";

/// An ordinary plate has 5 serial characters after the province and the issuing-office
/// letter; a new-energy plate has 6.
const PLATE_SERIAL_CHARS_ORDINARY: usize = 5;
const PLATE_SERIAL_CHARS_NEW_ENERGY: usize = 6;

const VIN_CHARS: usize = 17;

/// ISO 3779 weights by position; position 9, the check digit itself, weighs nothing.
const VIN_WEIGHTS: [usize; VIN_CHARS] = [8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2];

/// The index of the check digit (position 9).
const VIN_CHECK_INDEX: usize = 8;

const PLATE_RULE: &str = "a licence plate is a province character (such as 吉), a letter \
     other than I and O, and 5 letters or digits without I or O (the last may be 挂, 学, 警, \
     港 or 澳), or 6 for a new-energy plate whose first or last is D or F";

const VIN_CHARACTERS_RULE: &str = "a VIN is 17 digits and upper-case letters other than I, O and Q";

/// Characters written inside a plate for readability: the middle dot after the
/// issuing-office letter (in its several code points), hyphens, dots and spaces.
fn is_plate_separator(character: char) -> bool {
    character.is_whitespace() || matches!(character, '·' | '•' | '・' | '-' | '.')
}

fn is_plate_letter(character: char) -> bool {
    character.is_ascii_uppercase() && character != 'I' && character != 'O'
}

fn is_plate_serial_character(character: char) -> bool {
    character.is_ascii_digit() || is_plate_letter(character)
}

/// D marks a battery-electric vehicle and F any other new-energy vehicle: first of the six
/// on small vehicles, last on large ones.
fn is_new_energy_mark(character: char) -> bool {
    character == 'D' || character == 'F'
}

fn is_plate_serial(serial: &[char]) -> bool {
    match serial {
        [body @ .., suffix] if PLATE_SPECIAL_SUFFIXES.contains(*suffix) => {
            body.len() == PLATE_SERIAL_CHARS_ORDINARY - 1
                && body.iter().copied().all(is_plate_serial_character)
        }
        _ if serial.len() == PLATE_SERIAL_CHARS_ORDINARY => {
            serial.iter().copied().all(is_plate_serial_character)
        }
        [first, .., last] if serial.len() == PLATE_SERIAL_CHARS_NEW_ENERGY => {
            (is_new_energy_mark(*first) || is_new_energy_mark(*last))
                && serial.iter().copied().all(is_plate_serial_character)
        }
        _ => false,
    }
}

pub(super) fn validate_plate(text: &str) -> Result<String, String> {
    let plate: Vec<char> = text
        .chars()
        .map(|character| to_half_width(character).to_ascii_uppercase())
        .filter(|&character| !is_plate_separator(character))
        .collect();
    let is_plate = match plate.as_slice() {
        [province, office, serial @ ..] => {
            PLATE_PROVINCES.contains(*province)
                && is_plate_letter(*office)
                && is_plate_serial(serial)
        }
        _ => false,
    };
    if is_plate {
        Ok(plate.into_iter().collect())
    } else {
        Err(PLATE_RULE.to_owned())
    }
}

/// The ISO 3779 value of a VIN character: digits are themselves, letters run 1-9 from A, from
/// J and from S (starting at 2), skipping I, O and Q, which a VIN never holds.
fn vin_value(byte: u8) -> Option<usize> {
    let value = match byte {
        b'0'..=b'9' => byte - b'0',
        b'A'..=b'H' => byte - b'A' + 1,
        b'J'..=b'N' => byte - b'J' + 1,
        b'P' => 7,
        b'R' => 9,
        b'S'..=b'Z' => byte - b'S' + 2,
        _ => return None,
    };
    Some(usize::from(value))
}

/// The check digit of a 17-character VIN (its own 9th character is ignored), or `None` if
/// `vin` is not 17 VIN characters.
fn vin_check_character(vin: &[u8]) -> Option<u8> {
    if vin.len() != VIN_CHARS {
        return None;
    }
    let mut sum = 0;
    for (&byte, weight) in vin.iter().zip(VIN_WEIGHTS) {
        sum += vin_value(byte)? * weight;
    }
    match sum % 11 {
        10 => Some(b'X'),
        // Below 10, so the digit fits in a byte.
        remainder => u8::try_from(remainder).ok().map(|digit| b'0' + digit),
    }
}

pub(super) fn validate_vin(text: &str) -> Result<String, String> {
    let vin: String = text
        .chars()
        .map(|character| to_half_width(character).to_ascii_uppercase())
        .filter(|character| !character.is_whitespace())
        .collect();
    let length = vin.chars().count();
    if length != VIN_CHARS {
        return Err(format!("a VIN is 17 characters; this one has {length}"));
    }
    if !vin.bytes().all(|byte| vin_value(byte).is_some()) {
        return Err(VIN_CHARACTERS_RULE.to_owned());
    }
    match vin_check_character(vin.as_bytes()) {
        Some(expected) if vin.as_bytes()[VIN_CHECK_INDEX] == expected => Ok(vin),
        Some(expected) => Err(format!(
            "the check digit (the 9th character) should be {}",
            char::from(expected)
        )),
        None => Err(VIN_CHARACTERS_RULE.to_owned()),
    }
}

impl Vin {
    /// The check digit (`0`-`9` or `X`) for position 9 of the 17-character `vin`, whatever
    /// that position holds now; `None` if `vin` is not 17 VIN characters. For generators of
    /// test data and for explaining errors.
    pub fn check_character(vin: &str) -> Option<char> {
        vin_check_character(vin.as_bytes()).map(char::from)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use crate::ValidationError;
    use crate::values::{Plate, Vin};

    fn plate(text: &str) -> Result<String, ValidationError> {
        Plate::parse("plate", text).map(String::from)
    }

    fn vin(text: &str) -> Result<String, ValidationError> {
        Vin::parse("vin", text).map(String::from)
    }

    /// ISO 3779 from its definition rather than the tables above: letters are numbered
    /// 1-9 from A, J and S (S starting at 2); weights fall from 8 to 2 over positions 1-7,
    /// are 10 at 8, 0 at 9, and fall from 9 to 2 over 10-17.
    fn vin_check_by_definition(vin: &str) -> char {
        let sum: u32 = vin
            .chars()
            .zip(1_u32..)
            .map(|(character, position)| {
                let value = match character {
                    '0'..='9' => character.to_digit(10).unwrap(),
                    'A'..='I' => u32::from(character) - u32::from('A') + 1,
                    'J'..='R' => u32::from(character) - u32::from('J') + 1,
                    _ => u32::from(character) - u32::from('S') + 2,
                };
                let weight = match position {
                    1..=7 => 9 - position,
                    8 => 10,
                    9 => 0,
                    _ => 19 - position,
                };
                value * weight
            })
            .sum();
        if sum % 11 == 10 {
            'X'
        } else {
            char::from_digit(sum % 11, 10).unwrap()
        }
    }

    #[test]
    fn plates_are_compacted_and_upper_cased() {
        let spellings = [
            "吉A·12345",
            "吉a12345",
            "吉A 12345",
            "吉A-12345",
            " 吉 a·1 2345 ",
            "吉Ａ１２３４５",
        ];
        for spelling in spellings {
            assert_eq!(plate(spelling), Ok("吉A12345".to_owned()), "{spelling}");
        }
        let valid = [
            ("京N·8A8B8", "京N8A8B8"),
            ("粤B·D12345", "粤BD12345"), // small new-energy, battery electric
            ("沪a·f1b234", "沪AF1B234"), // small new-energy, other
            ("苏E·12345D", "苏E12345D"), // large new-energy
            ("吉A·1234学", "吉A1234学"), // driving school
            ("辽B·1234挂", "辽B1234挂"), // trailer
            ("粤Z·1234港", "粤Z1234港"), // cross-border, Hong Kong
        ];
        for (text, normalised) in valid {
            assert_eq!(plate(text), Ok(normalised.to_owned()), "{text}");
        }
    }

    #[test]
    fn a_plate_follows_the_national_pattern() {
        let invalid = [
            "",
            "吉A",
            "吉A1234",    // too short
            "吉A1234567", // too long
            "A12345",     // no province
            "港A12345",   // not a province
            "吉I12345",   // I as the office letter
            "吉112345",   // digit as the office letter
            "吉A1234O",   // O in the serial
            "吉A123456",  // 6 without a new-energy mark
            "吉AD1234学", // special suffix on a 6-character serial
            "吉A12学45",  // special character in the middle
            "吉A12345!",
        ];
        for text in invalid {
            let error = plate(text).unwrap_err();
            assert_eq!(error.field, "plate", "{text}");
            assert!(
                error
                    .rule
                    .starts_with("a licence plate is a province character"),
                "{text}"
            );
        }
    }

    #[test]
    fn known_vins_are_valid() {
        // LFV3A23C?D3012345 worked by hand: L 3×8 + F 6×7 + V 5×6 + 3×5 + A 1×4 + 2×3 + 3×2
        // + C 3×10 + D 4×9 + 3×8 + 0×7 + 1×6 + 2×5 + 3×4 + 4×3 + 5×2 = 267 = 24×11 + 3.
        let known = [
            "LSVAM4187C2184847",
            "1M8GDM9AXKP042788",
            "LFV3A23C3D3012345",
        ];
        for number in known {
            assert_eq!(vin(number), Ok(number.to_owned()), "{number}");
            let check = number.chars().nth(8).unwrap();
            assert_eq!(vin_check_by_definition(number), check, "{number}");
            assert_eq!(Vin::check_character(number), Some(check), "{number}");
        }
        assert_eq!(
            vin(" lsvam4187c2184847 "),
            Ok("LSVAM4187C2184847".to_owned())
        );
        assert_eq!(
            vin("LSVAM418 7C2184847"),
            Ok("LSVAM4187C2184847".to_owned())
        );
    }

    #[test]
    fn each_broken_vin_rule_has_its_own_message() {
        let error = Vin::parse("vehicle.vin", "LSVAM4187C218484").unwrap_err();
        assert_eq!(error.field, "vehicle.vin");
        assert_eq!(error.rule, "a VIN is 17 characters; this one has 16");
        let characters = "a VIN is 17 digits and upper-case letters other than I, O and Q";
        for text in [
            "LSVAM4187C218484I",
            "LSVAM4187C218484O",
            "LSVAM4187Q2184847",
            "LSVAM4187C218484-",
        ] {
            assert_eq!(vin(text).unwrap_err().rule, characters, "{text}");
        }
        assert_eq!(
            vin("LSVAM4188C2184847").unwrap_err().rule,
            "the check digit (the 9th character) should be 7"
        );
        assert_eq!(
            vin("1M8GDM9A1KP042788").unwrap_err().rule,
            "the check digit (the 9th character) should be X"
        );
        assert_eq!(Vin::check_character("LSVAM4187C218484"), None);
    }

    /// A VIN with any check digit: 8 characters, a placeholder, 8 characters.
    fn vins_without_check() -> impl Strategy<Value = String> {
        ("[0-9A-HJ-NPR-Z]{8}", "[0-9A-HJ-NPR-Z]{8}")
            .prop_map(|(front, back)| format!("{front}0{back}"))
    }

    fn with_check(vin: &str) -> String {
        format!("{}{}{}", &vin[..8], vin_check_by_definition(vin), &vin[9..])
    }

    fn plates() -> impl Strategy<Value = String> {
        let province = prop::sample::select(super::PLATE_PROVINCES.chars().collect::<Vec<_>>());
        let serial = prop_oneof![
            "[0-9A-HJ-NP-Z]{5}",
            "[DF][0-9A-HJ-NP-Z]{5}",
            "[0-9A-HJ-NP-Z]{5}[DF]",
            "[0-9A-HJ-NP-Z]{4}[挂学警港澳]",
        ];
        (province, "[A-HJ-NP-Z]", serial)
            .prop_map(|(province, office, serial)| format!("{province}{office}{serial}"))
    }

    proptest! {
        #[test]
        fn generated_vins_parse(body in vins_without_check()) {
            let number = with_check(&body);
            prop_assert_eq!(vin(&number), Ok(number.clone()));
            prop_assert_eq!(vin(&number.to_lowercase()), Ok(number));
        }

        #[test]
        fn a_wrong_vin_check_digit_names_the_right_one(
            body in vins_without_check(),
            wrong in "[0-9X]",
        ) {
            let check = vin_check_by_definition(&body);
            prop_assume!(wrong != check.to_string());
            let number = format!("{}{wrong}{}", &body[..8], &body[9..]);
            let expected = format!("the check digit (the 9th character) should be {check}");
            prop_assert_eq!(vin(&number).unwrap_err().rule, expected);
        }

        #[test]
        fn generated_plates_parse(generated in plates()) {
            prop_assert_eq!(plate(&generated), Ok(generated.clone()));
            // The same plate as printed: a middle dot after the issuing-office letter.
            let serial_start = generated.char_indices().nth(2).unwrap().0;
            let (province_and_office, serial) = generated.split_at(serial_start);
            let spelled = format!("{province_and_office}·{serial}");
            prop_assert_eq!(plate(&spelled.to_lowercase()), Ok(generated));
        }

        #[test]
        fn vehicle_parsing_is_idempotent(text in "[京吉粤a-zA-Z0-9· \\-]{5,20}") {
            if let Ok(value) = Plate::parse("p", &text) {
                prop_assert_eq!(Plate::parse("p", value.as_str()), Ok(value));
            }
            if let Ok(value) = Vin::parse("v", &text) {
                prop_assert_eq!(Vin::parse("v", value.as_str()), Ok(value));
            }
        }
    }
}
