//! Fuzz targets for everything that parses bytes or text from outside: the store's record codec
//! (stored chunks, heads, metadata), the NDJSON import parser, the CSV contacts' conversion,
//! every identifier validator, and the segment-rule parser. Each target takes arbitrary bytes and checks its own properties; a
//! panic is the failure a fuzzer looks for.
//!
//! cargo-fuzz needs libFuzzer and nightly compiler flags, and only stable Rust is installed (no
//! nightly can be fetched), so the engine here is a small mutation fuzzer on stable: it starts
//! from the committed corpus (`corpus/<target>/`), applies seeded random mutations (bit flips,
//! interesting bytes, inserted and deleted runs, splices with other corpus entries, truncation)
//! and runs every input under `catch_unwind`. It has no coverage feedback; it makes up for it
//! with a corpus that reaches every decoder branch the valid inputs reach.

use std::panic::{AssertUnwindSafe, catch_unwind};

use ledger_domain::ids::{CustomerId, EventId, StaffId, StreamId};
use ledger_domain::values::{Identifier, IdentifierKind};

/// The largest input a target is given: past every limit the parsers enforce (a line is at most
/// 1 MiB, a rules file 64 KiB), but larger inputs only slow the run down.
pub const INPUT_BYTES_MAX: usize = 256 * 1024;

/// A fuzz target: its name (the corpus directory) and its function.
#[derive(Debug, Clone, Copy)]
pub struct Target {
    pub name: &'static str,
    pub run: fn(&[u8]),
}

pub const TARGETS: [Target; 5] = [
    Target {
        name: "record_codec",
        run: record_codec,
    },
    Target {
        name: "ndjson_line",
        run: ndjson_line,
    },
    Target {
        name: "contacts_csv",
        run: contacts_csv,
    },
    Target {
        name: "identifiers",
        run: identifiers,
    },
    Target {
        name: "segment_rules",
        run: segment_rules,
    },
];

/// The store's stored values: arbitrary bytes decode to an error, never a panic.
pub fn record_codec(bytes: &[u8]) {
    let _ = ledger_store::testing::decode_stored_value(bytes);
}

/// One NDJSON import line: parsed, or refused naming a field and a rule.
pub fn ndjson_line(bytes: &[u8]) {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return;
    };
    if let Err(error) = ledger_server::interchange::parse_line(text) {
        assert!(
            !error.rule.is_empty(),
            "a refusal without a rule: {error:?}"
        );
    }
}

/// A CSV of contacts (`import --csv`): converted or refused, and every line it writes is an
/// integrator line the import accepts, one for each row it counts as converted, each refused
/// row a problem naming its line.
pub fn contacts_csv(bytes: &[u8]) {
    let mut out = Vec::new();
    let Ok(converted) = ledger_server::contacts_csv::convert(bytes, &mut out, |_| true) else {
        return;
    };
    let text = String::from_utf8(out).expect("converted lines are UTF-8");
    let lines: Vec<&str> = text.lines().filter(|line| !line.is_empty()).collect();
    assert_eq!(lines.len(), converted.converted, "{text}");
    for line in lines {
        if let Err(error) = ledger_server::interchange::parse_line(line) {
            panic!("a converted row is refused by the import: {error}: {line}");
        }
    }
    for problem in &converted.problems {
        assert!(problem.starts_with("line "), "{problem}");
    }
}

const KINDS: [IdentifierKind; 10] = [
    IdentifierKind::Mobile,
    IdentifierKind::Landline,
    IdentifierKind::WeChat,
    IdentifierKind::Email,
    IdentifierKind::IdCard,
    IdentifierKind::SocialCreditCode,
    IdentifierKind::Plate,
    IdentifierKind::Vin,
    IdentifierKind::PolicyNumber,
    IdentifierKind::ClaimNumber,
];

/// Every identifier validator: a value accepted once is accepted again as normalised, to the
/// same value (normalising is idempotent), and masks without panicking; a refusal names the
/// field. The id parsers (UUIDs, stream and staff ids) likewise.
pub fn identifiers(bytes: &[u8]) {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return;
    };
    for kind in KINDS {
        match Identifier::parse("value", kind, text) {
            Ok(identifier) => {
                let again =
                    Identifier::parse("value", kind, identifier.value()).unwrap_or_else(|error| {
                        panic!(
                            "{kind:?}: {text:?} normalised to {:?}, which is refused: {error}",
                            identifier.value()
                        )
                    });
                assert_eq!(again.value(), identifier.value(), "{kind:?}: {text:?}");
                let _ = identifier.mask();
            }
            Err(error) => assert_eq!(error.field, "value"),
        }
    }
    if let Ok(id) = EventId::parse("eventId", text) {
        assert_eq!(EventId::parse("eventId", &id.to_string()).ok(), Some(id));
    }
    let _ = CustomerId::parse("customerId", text);
    if let Ok(stream) = StreamId::parse("stream", text) {
        assert!(
            StreamId::parse("stream", stream.as_str()).is_ok(),
            "{text:?}"
        );
    }
    if let Ok(staff) = StaffId::parse("actor", text) {
        assert!(StaffId::parse("actor", staff.as_str()).is_ok(), "{text:?}");
    }
}

/// An analyst's rules file: loaded, or refused naming a line and column inside the text.
pub fn segment_rules(bytes: &[u8]) {
    let Ok(text) = std::str::from_utf8(bytes) else {
        return;
    };
    if let Err(error) = segments::SegmentRules::from_toml("fuzz.toml", text) {
        assert!(error.line >= 1, "{error:?}");
        assert!(!error.message.is_empty(), "{error:?}");
    }
}

/// A seeded generator (xorshift64*).
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed | 1)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A number below `bound` (0 when `bound` is 0).
    pub fn below(&mut self, bound: usize) -> usize {
        let bound = u64::try_from(bound).unwrap_or(u64::MAX).max(1);
        usize::try_from(self.next_u64() % bound).unwrap_or(0)
    }

    fn byte(&mut self) -> u8 {
        self.next_u64().to_le_bytes()[0]
    }
}

/// Bytes that often sit on a decoder's boundaries: zero, the top of each width, varint
/// markers, the JSON and TOML punctuation the parsers switch on.
const INTERESTING: &[u8] = &[
    0, 1, 0x7f, 0x80, 0xfb, 0xfc, 0xfd, 0xfe, 0xff, b'"', b'\\', b'{', b'}', b'[', b']', b',',
    b':', b'=', b'\n', b'(', b')', b'-', b'0', b'9',
];

/// One random mutation of `input`, possibly splicing in part of `other`.
pub fn mutate(input: &[u8], other: &[u8], rng: &mut Rng) -> Vec<u8> {
    let mut bytes = input.to_vec();
    for _ in 0..1 + rng.below(4) {
        let length = bytes.len();
        match rng.below(7) {
            0 if length > 0 => {
                let at = rng.below(length);
                bytes[at] ^= 1 << rng.below(8);
            }
            1 if length > 0 => {
                let at = rng.below(length);
                bytes[at] = INTERESTING[rng.below(INTERESTING.len())];
            }
            2 => {
                let at = rng.below(length + 1);
                let run: Vec<u8> = (0..1 + rng.below(8)).map(|_| rng.byte()).collect();
                bytes.splice(at..at, run);
            }
            3 if length > 0 => {
                let at = rng.below(length);
                let end = (at + 1 + rng.below(16)).min(length);
                bytes.drain(at..end);
            }
            4 if !other.is_empty() => {
                let from = rng.below(other.len());
                let end = (from + 1 + rng.below(64)).min(other.len());
                let at = rng.below(length + 1);
                bytes.splice(at..at, other[from..end].iter().copied());
            }
            5 if length > 0 => bytes.truncate(rng.below(length)),
            _ => {
                // Repeat a slice: nesting and long runs, where recursion and lengths break.
                if length > 0 {
                    let from = rng.below(length);
                    let end = (from + 1 + rng.below(8)).min(length);
                    let run = bytes[from..end].repeat(1 + rng.below(64));
                    bytes.splice(from..from, run);
                }
            }
        }
    }
    bytes.truncate(INPUT_BYTES_MAX);
    bytes
}

/// Values a JSON-aware mutation puts in place of a leaf: empties, extremes, wrong types, odd
/// text (full-width digits, an emoji, control characters, a string past every field limit).
fn odd_json_value(rng: &mut Rng) -> serde_json::Value {
    use serde_json::json;
    match rng.below(14) {
        0 => json!(null),
        1 => json!(""),
        2 => json!(-1),
        3 => json!(u64::MAX),
        4 => json!(1e308),
        5 => json!(true),
        6 => json!([]),
        7 => json!({}),
        8 => json!("１３８００１３８０００"),
        9 => json!("😀\u{0}\u{7}\u{202e}"),
        10 => json!("9".repeat(3000)),
        11 => json!("2025-02-30T25:61:00+08:00"),
        12 => json!("-0"),
        _ => json!("customer-0190a5e2-8c3b-7d4e-9f00-1234567890ab"),
    }
}

/// Replaces, removes or retypes one value somewhere in `value` (chosen at random).
fn mutate_json_value(value: &mut serde_json::Value, rng: &mut Rng, depth: usize) {
    use serde_json::Value;
    let descend = depth < 8 && rng.below(3) != 0;
    match value {
        Value::Object(map) if !map.is_empty() => {
            let keys: Vec<String> = map.keys().cloned().collect();
            let key = &keys[rng.below(keys.len())];
            if descend {
                if let Some(inner) = map.get_mut(key) {
                    mutate_json_value(inner, rng, depth + 1);
                }
            } else if rng.below(3) == 0 {
                map.remove(key);
            } else {
                map.insert(key.clone(), odd_json_value(rng));
            }
        }
        Value::Array(items) if !items.is_empty() => {
            let index = rng.below(items.len());
            if descend {
                mutate_json_value(&mut items[index], rng, depth + 1);
            } else if rng.below(2) == 0 {
                let copy = items[index].clone();
                items.extend(std::iter::repeat_n(copy, 1 + rng.below(40)));
            } else {
                items[index] = odd_json_value(rng);
            }
        }
        _ => *value = odd_json_value(rng),
    }
}

/// A structure-aware mutation for JSON inputs: `input` parsed, one value changed, written back.
/// `None` when `input` is not JSON (the byte mutations handle that).
pub fn mutate_json(input: &[u8], rng: &mut Rng) -> Option<Vec<u8>> {
    let mut value: serde_json::Value = serde_json::from_slice(input).ok()?;
    for _ in 0..1 + rng.below(3) {
        mutate_json_value(&mut value, rng, 0);
    }
    serde_json::to_vec(&value).ok()
}

/// Runs `target` on `input`; the panic message when it panics.
pub fn run_one(target: &Target, input: &[u8]) -> Result<(), String> {
    catch_unwind(AssertUnwindSafe(|| (target.run)(input))).map_err(|panic| {
        panic
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| panic.downcast_ref::<&str>().map(|text| (*text).to_owned()))
            .unwrap_or_else(|| "a panic without a message".to_owned())
    })
}
