//! Issues every identifier in the synthetic world: mobile numbers, WeChat openids, e-mail
//! addresses, landlines, resident ID card numbers, unified social credit codes, plates, VINs,
//! policy and claim numbers, and the UUIDs of events and aggregates.
//!
//! Each value is built to pass its real rule (check characters computed, not hoped for) and
//! is unique across the whole history: an issued value is remembered and never issued again,
//! so no identifier can belong to two customers. Uniqueness sets are hash sets of compact
//! keys; only membership is asked of them, never iteration order, so hashing cannot leak into
//! the output.

use std::collections::HashSet;

use ledger_domain::values::{
    ClaimNumber, IdCardNumber, Identifier, IdentifierKind, Mobile, Plate, PolicyNumber,
    SocialCreditCode, Vin,
};
use uuid::{Builder, Uuid};

use crate::clock;
use crate::names::Region;
use crate::rng::Rng;

/// Mainland mobile prefixes of the three carriers.
const MOBILE_PREFIXES: &[&str] = &[
    "134", "135", "136", "137", "138", "139", "147", "150", "151", "152", "157", "158", "159",
    "178", "182", "183", "184", "187", "188", "195", "198", "130", "131", "132", "145", "155",
    "156", "166", "175", "176", "185", "186", "196", "133", "149", "153", "173", "177", "180",
    "181", "189", "190", "191", "193", "199",
];

/// Letters a plate serial may hold: A-Z without I and O.
const PLATE_LETTERS: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ";

/// Characters a VIN may hold: digits and A-Z without I, O and Q.
const VIN_CHARACTERS: &[u8] = b"0123456789ABCDEFGHJKLMNPRSTUVWXYZ";

/// Characters of a WeChat openid after its fixed prefix.
const OPENID_CHARACTERS: &[u8] =
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-";

/// Openids issued to one official account share their first characters.
const OPENID_PREFIX: &str = "oXnA5";

/// Model-year codes (position 10 of a VIN) from 2010 on; the cycle repeats every 30 years.
const VIN_YEAR_CODES: &[u8] = b"ABCDEFGHJKLMNPRSTVWXY123456789";

/// World manufacturer identifiers and their share of the insurer's book. The carmaker
/// group's own brands (FAW-Volkswagen and Audi, Hongqi, FAW Toyota, Jiefang trucks) make up
/// the larger part, as befits a captive insurer.
const MANUFACTURERS: &[(&str, f64, bool)] = &[
    ("LFV", 30.0, true), // FAW-Volkswagen (and Audi)
    ("LFP", 10.0, true), // FAW car: Hongqi, Bestune
    ("LFM", 7.0, true),  // FAW Toyota
    ("LFW", 4.0, true),  // FAW Jiefang trucks
    ("LSV", 8.0, false), // SAIC Volkswagen
    ("LSG", 6.0, false), // SAIC-GM
    ("LVS", 4.0, false), // Changan Ford
    ("LHG", 5.0, false), // GAC Honda
    ("LVG", 4.0, false), // GAC Toyota
    ("LGB", 4.0, false), // Dongfeng Nissan
    ("LGX", 8.0, false), // BYD
    ("LRW", 3.0, false), // Tesla Shanghai
    ("LB3", 4.0, false), // Geely
    ("WBA", 1.5, false), // BMW, imported
    ("WDD", 1.5, false), // Mercedes-Benz, imported
];

/// E-mail providers people in China use.
const EMAIL_DOMAINS: &[&str] = &[
    "163.com", "126.com", "sina.com", "sohu.com", "139.com", "qq.com",
];

/// The shape of a new plate's serial.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PlateStyle {
    Ordinary,
    /// New-energy (green) plate: six characters, D or F first.
    NewEnergy,
    /// Driving-school car: four characters and 学.
    DrivingSchool,
}

/// Issues identifiers and remembers them.
#[derive(Debug, Default)]
pub(crate) struct Issuer {
    mobiles: HashSet<u64>,
    openids: HashSet<String>,
    emails: HashSet<String>,
    landlines: HashSet<String>,
    id_cards: HashSet<u64>,
    credit_codes: HashSet<String>,
    plates: HashSet<String>,
    vins: HashSet<String>,
    policy_sequence: u64,
    claim_sequence: u64,
}

/// The identifier of `kind` for a value this module built to its rule.
pub(crate) fn identifier(kind: IdentifierKind, value: &str) -> Identifier {
    Identifier::parse("identifier", kind, value).expect("issued identifiers follow their rule")
}

impl Issuer {
    pub(crate) fn mobile(&mut self, rng: &mut Rng) -> Mobile {
        loop {
            let prefix = rng.pick(MOBILE_PREFIXES);
            let number = format!("{prefix}{:08}", rng.below(100_000_000));
            let key: u64 = number.parse().expect("eleven digits");
            if self.mobiles.insert(key) {
                return Mobile::parse("mobile", &number).expect("issued mobiles follow the rule");
            }
        }
    }

    /// An openid as the insurer's official account issues them: 28 characters.
    pub(crate) fn openid(&mut self, rng: &mut Rng) -> String {
        loop {
            let mut openid = String::with_capacity(28);
            openid.push_str(OPENID_PREFIX);
            while openid.len() < 28 {
                openid.push(char::from(*rng.pick(OPENID_CHARACTERS)));
            }
            if self.openids.insert(openid.clone()) {
                return openid;
            }
        }
    }

    /// A personal e-mail address from the person's pinyin (or a QQ number), or a corporate
    /// one at `work_domain`.
    pub(crate) fn email(
        &mut self,
        rng: &mut Rng,
        pinyin: &str,
        work_domain: Option<&str>,
    ) -> String {
        for attempt in 0..1_000 {
            let address = match work_domain {
                Some(domain) if attempt == 0 => format!("{pinyin}@{domain}"),
                Some(domain) => format!("{pinyin}{attempt}@{domain}"),
                None if rng.chance(0.4) => format!("{}@qq.com", rng.range(10_000, 3_999_999_999)),
                None => {
                    let domain = rng.pick(EMAIL_DOMAINS);
                    let suffix = rng.range(0, 9_999);
                    if suffix < 2_000 {
                        format!("{pinyin}@{domain}")
                    } else {
                        format!("{pinyin}{suffix}@{domain}")
                    }
                }
            };
            if self.emails.insert(address.clone()) {
                return address;
            }
        }
        let fallback = format!("{pinyin}{}@163.com", self.emails.len());
        self.emails.insert(fallback.clone());
        fallback
    }

    /// A landline in the region: its area code and an eight-digit local number.
    pub(crate) fn landline(&mut self, rng: &mut Rng, region: &Region) -> String {
        loop {
            let first = rng.pick(&[5, 6, 8, 8, 8]);
            let number = format!("{}-{first}{:07}", region.area_code, rng.below(10_000_000));
            if self.landlines.insert(number.clone()) {
                return number;
            }
        }
    }

    /// A resident ID card number: district code, birth date, sequence (odd for men, even for
    /// women) and the GB 11643 check character.
    pub(crate) fn id_card(
        &mut self,
        rng: &mut Rng,
        district_code: &str,
        birth_day: i64,
        male: bool,
    ) -> String {
        let (year, month, day_of_month) = clock::civil(birth_day);
        // 500 sequence numbers per sex, district and birthday; far more than any synthetic
        // book uses, but a loop that cannot end is never acceptable.
        for _ in 0..100_000 {
            let mut sequence = rng.range(0, 998);
            if (sequence % 2 == 1) != male {
                sequence += 1;
            }
            let body = format!("{district_code}{year:04}{month:02}{day_of_month:02}{sequence:03}");
            let key: u64 = body.parse().expect("seventeen digits");
            if !self.id_cards.insert(key) {
                continue;
            }
            let check = IdCardNumber::check_character(&body).expect("seventeen digits");
            return format!("{body}{check}");
        }
        panic!(
            "every ID card number for {district_code} born {year}-{month}-{day_of_month} is taken"
        );
    }

    /// A unified social credit code: 9 (registered with market regulation) and 1 (a
    /// company), the division code, a nine-character organisation code with its own GB 11714
    /// check character, and the GB 32100 check character.
    pub(crate) fn social_credit_code(&mut self, rng: &mut Rng, district_code: &str) -> String {
        const WEIGHTS: [u64; 8] = [3, 7, 9, 10, 5, 8, 4, 2];
        loop {
            let digits: Vec<u64> = (0..8).map(|_| rng.below(10)).collect();
            let sum: u64 = digits
                .iter()
                .zip(WEIGHTS)
                .map(|(digit, weight)| digit * weight)
                .sum();
            let organisation_check = match 11 - sum % 11 {
                10 => 'X',
                11 => '0',
                value => char::from_digit(u32::try_from(value).unwrap_or(0), 10).unwrap_or('0'),
            };
            let organisation: String = digits.iter().map(ToString::to_string).collect();
            let body = format!("91{district_code}{organisation}{organisation_check}");
            if !self.credit_codes.insert(body.clone()) {
                continue;
            }
            let check =
                SocialCreditCode::check_character(&body).expect("seventeen code characters");
            return format!("{body}{check}");
        }
    }

    /// A new plate issued by `office` (`吉A`).
    pub(crate) fn plate(&mut self, rng: &mut Rng, office: &str, style: PlateStyle) -> Plate {
        loop {
            let serial = match style {
                PlateStyle::Ordinary => ordinary_serial(rng),
                PlateStyle::NewEnergy => {
                    let mark = if rng.chance(0.7) { 'D' } else { 'F' };
                    let second = if rng.chance(0.3) {
                        char::from(*rng.pick(PLATE_LETTERS))
                    } else {
                        digit(rng)
                    };
                    format!("{mark}{second}{:04}", rng.below(10_000))
                }
                PlateStyle::DrivingSchool => format!("{:04}学", rng.below(10_000)),
            };
            let text = format!("{office}{serial}");
            if self.plates.insert(text.clone()) {
                return Plate::parse("plate", &text).expect("issued plates follow the rule");
            }
        }
    }

    /// A VIN: a manufacturer (the group's brands more often for group customers), a vehicle
    /// descriptor, the ISO 3779 check digit, the model year, a plant and a serial.
    pub(crate) fn vin(&mut self, rng: &mut Rng, model_year: i64, group: bool) -> Vin {
        let manufacturer = rng.weighted_by(MANUFACTURERS, |(_, weight, own_brand)| {
            if group && *own_brand {
                weight * 4.0
            } else {
                *weight
            }
        });
        let year_index = usize::try_from((model_year - 2010).rem_euclid(30)).unwrap_or(0);
        loop {
            let mut vin = Vec::with_capacity(17);
            vin.extend_from_slice(MANUFACTURERS[manufacturer].0.as_bytes());
            for _ in 0..5 {
                vin.push(*rng.pick(VIN_CHARACTERS));
            }
            vin.push(b'0');
            vin.push(VIN_YEAR_CODES[year_index]);
            vin.push(*rng.pick(VIN_CHARACTERS));
            for _ in 0..6 {
                vin.push(b'0' + u8::try_from(rng.below(10)).unwrap_or(0));
            }
            let mut text = String::from_utf8(vin).expect("VIN characters are ASCII");
            let check = Vin::check_character(&text).expect("seventeen VIN characters");
            text.replace_range(8..9, check.encode_utf8(&mut [0; 4]));
            if self.vins.insert(text.clone()) {
                return Vin::parse("vin", &text).expect("issued VINs follow the rule");
            }
        }
    }

    /// A new policy number: `PXA`, the year, the Jilin branch code and a sequence.
    pub(crate) fn policy_number(&mut self, year: i64) -> PolicyNumber {
        self.policy_sequence += 1;
        let text = format!("PXA{year:04}2201{:08}", self.policy_sequence);
        PolicyNumber::parse("policyNumber", &text).expect("policy numbers follow the rule")
    }

    /// A new claim number: `CXA`, the year, the branch code and a sequence.
    pub(crate) fn claim_number(&mut self, year: i64) -> ClaimNumber {
        self.claim_sequence += 1;
        let text = format!("CXA{year:04}2201{:08}", self.claim_sequence);
        ClaimNumber::parse("claimNumber", &text).expect("claim numbers follow the rule")
    }
}

fn digit(rng: &mut Rng) -> char {
    char::from(b'0' + u8::try_from(rng.below(10)).unwrap_or(0))
}

/// Five serial characters with at most two letters, in the shapes plates are issued in.
fn ordinary_serial(rng: &mut Rng) -> String {
    const PATTERNS: [&[u8; 5]; 8] = [
        b"NNNNN", b"LNNNN", b"LNNNN", b"NLNNN", b"NNLNN", b"LLNNN", b"NNNNL", b"LNNNL",
    ];
    let pattern = PATTERNS[rng.index(PATTERNS.len())];
    pattern
        .iter()
        .map(|&slot| {
            if slot == b'L' {
                char::from(*rng.pick(PLATE_LETTERS))
            } else {
                digit(rng)
            }
        })
        .collect()
}

/// A time-ordered (v7) UUID for an instant: the milliseconds of `seconds` plus a random
/// millisecond within it, and 74 random bits, all from the seeded generator.
pub(crate) fn uuid_at(rng: &mut Rng, seconds: i64) -> Uuid {
    let millis = u64::try_from(seconds.max(0)).unwrap_or(0) * 1_000 + rng.below(1_000);
    let bytes = rng.bytes16();
    let mut random = [0; 10];
    random.copy_from_slice(&bytes[..10]);
    Builder::from_unix_timestamp_millis(millis, &random).into_uuid()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::names::REGIONS;

    #[test]
    fn issued_values_are_valid_and_unique() {
        let mut rng = Rng::new(9);
        let mut issuer = Issuer::default();
        let region = &REGIONS[0];
        let mut seen = HashSet::new();
        for index in 0..2_000 {
            let male = index % 2 == 0;
            let birth = clock::day_number(1980, 5, 17) + i64::from(index % 400);
            let card = issuer.id_card(&mut rng, "220104", birth, male);
            assert!(seen.insert(card.clone()));
            IdCardNumber::parse("card", &card).unwrap();
            let sex_digit = card.as_bytes()[16] - b'0';
            assert_eq!(sex_digit % 2 == 1, male, "{card}");
            let code = issuer.social_credit_code(&mut rng, "220104");
            assert!(seen.insert(code.clone()));
            SocialCreditCode::parse("code", &code).unwrap();
            for style in [
                PlateStyle::Ordinary,
                PlateStyle::NewEnergy,
                PlateStyle::DrivingSchool,
            ] {
                let plate = issuer.plate(&mut rng, region.plate, style);
                assert!(seen.insert(plate.to_string()));
            }
            let vin = issuer.vin(&mut rng, 2020, index % 3 == 0);
            assert!(seen.insert(vin.to_string()));
            let mobile = issuer.mobile(&mut rng);
            assert!(seen.insert(mobile.to_string()));
            let openid = issuer.openid(&mut rng);
            identifier(IdentifierKind::WeChat, &openid);
            let email = issuer.email(&mut rng, "zhangsan", None);
            identifier(IdentifierKind::Email, &email);
            identifier(IdentifierKind::Landline, &issuer.landline(&mut rng, region));
        }
    }
}
