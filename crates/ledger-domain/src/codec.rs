//! The one codec module: every byte the ledger stores is encoded and decoded here.
//!
//! bincode is pinned to 2.0.1 (3.0.0 is only a compile error; RUSTSEC-2025-0141). Every stored
//! record starts with a format byte so the encoding can change later without guessing: readers
//! dispatch on it and refuse formats they do not know.
//!
//! Types encoded here must not use serde features bincode cannot carry (`skip_serializing_if`,
//! `flatten`, untagged or internally tagged enums, `serde_json::Value`).

use serde::{Serialize, de::DeserializeOwned};

/// The only bincode configuration the ledger uses: varint integers, little endian, with a
/// decode limit so a corrupted length prefix cannot make us allocate gigabytes.
fn config() -> impl bincode::config::Config {
    bincode::config::standard().with_limit::<DECODE_BYTES_MAX>()
}

/// The largest single value the codec will decode (a packed group of records is the largest
/// thing stored; it stays far below this).
pub const DECODE_BYTES_MAX: usize = 64 * 1024 * 1024;

/// Why bytes could not be decoded. Corruption and unknown formats end up here.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodecError {
    #[error("empty input: expected a format byte")]
    Empty,
    #[error("unknown format byte {found:#04x} (this build reads {expected:#04x})")]
    UnknownFormat { found: u8, expected: u8 },
    #[error("malformed bytes: {0}")]
    Malformed(String),
    #[error("{0} trailing bytes after the value")]
    Trailing(usize),
    #[error("cannot encode: {0}")]
    Encode(String),
}

/// Encodes `value` with bincode, without a format byte (for values nested inside a record).
pub fn encode<T: Serialize>(value: &T) -> Result<Vec<u8>, CodecError> {
    bincode::serde::encode_to_vec(value, config())
        .map_err(|error| CodecError::Encode(error.to_string()))
}

/// Encodes `value` into `buffer` (appending), without a format byte.
pub fn encode_into<T: Serialize>(value: &T, buffer: &mut Vec<u8>) -> Result<(), CodecError> {
    let bytes = encode(value)?;
    buffer.extend_from_slice(&bytes);
    Ok(())
}

/// Decodes a whole value; trailing bytes are an error, since they mean the bytes are not what
/// was written.
pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, CodecError> {
    let (value, used) = bincode::serde::decode_from_slice(bytes, config())
        .map_err(|error| CodecError::Malformed(error.to_string()))?;
    match bytes.len() - used {
        0 => Ok(value),
        trailing => Err(CodecError::Trailing(trailing)),
    }
}

/// Decodes one value from the front of `bytes` and returns the bytes after it, for a sequence
/// of values written one after another by [`encode_into`].
pub fn decode_prefix<T: DeserializeOwned>(bytes: &[u8]) -> Result<(T, &[u8]), CodecError> {
    let (value, used) = bincode::serde::decode_from_slice(bytes, config())
        .map_err(|error| CodecError::Malformed(error.to_string()))?;
    Ok((value, &bytes[used..]))
}

/// Encodes `value` behind the format byte `format`.
pub fn encode_versioned<T: Serialize>(format: u8, value: &T) -> Result<Vec<u8>, CodecError> {
    let mut bytes = vec![format];
    encode_into(value, &mut bytes)?;
    Ok(bytes)
}

/// Decodes bytes written by [`encode_versioned`], refusing any format byte but `format`.
pub fn decode_versioned<T: DeserializeOwned>(format: u8, bytes: &[u8]) -> Result<T, CodecError> {
    let (&found, rest) = bytes.split_first().ok_or(CodecError::Empty)?;
    if found != format {
        return Err(CodecError::UnknownFormat {
            found,
            expected: format,
        });
    }
    decode(rest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq, Serialize, serde::Deserialize)]
    struct Sample {
        position: u64,
        name: String,
        tags: Vec<String>,
    }

    #[test]
    fn versioned_round_trip_and_rejections() {
        let sample = Sample {
            position: 7,
            name: "张三".into(),
            tags: vec!["a".into()],
        };
        let bytes = encode_versioned(1, &sample).unwrap();
        assert_eq!(bytes[0], 1);
        assert_eq!(decode_versioned::<Sample>(1, &bytes).unwrap(), sample);
        assert_eq!(
            decode_versioned::<Sample>(2, &bytes),
            Err(CodecError::UnknownFormat {
                found: 1,
                expected: 2
            })
        );
        assert_eq!(decode_versioned::<Sample>(1, &[]), Err(CodecError::Empty));
        let mut longer = bytes.clone();
        longer.push(0);
        assert_eq!(
            decode_versioned::<Sample>(1, &longer),
            Err(CodecError::Trailing(1))
        );
        assert!(matches!(
            decode_versioned::<Sample>(1, &bytes[..3]),
            Err(CodecError::Malformed(_))
        ));
    }
}
