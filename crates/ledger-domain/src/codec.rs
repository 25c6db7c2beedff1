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
    let mut bytes = Vec::with_capacity(encoded_len(value)?);
    encode_into(value, &mut bytes)?;
    Ok(bytes)
}

/// Encodes `value` into `buffer` (appending), without a format byte.
pub fn encode_into<T: Serialize>(value: &T, buffer: &mut Vec<u8>) -> Result<(), CodecError> {
    bincode::serde::encode_into_writer(value, AppendTo(buffer), config())
        .map_err(|error| CodecError::Encode(error.to_string()))
}

/// How many bytes [`encode`] makes of `value`: a first pass that only counts, so the bytes are
/// then written once into a vector of the right size. bincode's own `encode_to_vec` for serde
/// types grows its vector from empty, reallocating and copying as it goes (a value of 300 bytes
/// six times over), and the vectors the codec returns are often kept (pending writes, chunks).
fn encoded_len<T: Serialize>(value: &T) -> Result<usize, CodecError> {
    let mut counted = Counted(0);
    bincode::serde::encode_into_writer(value, &mut counted, config())
        .map_err(|error| CodecError::Encode(error.to_string()))?;
    Ok(counted.0)
}

/// A bincode writer that appends to a vector.
struct AppendTo<'a>(&'a mut Vec<u8>);

impl bincode::enc::write::Writer for AppendTo<'_> {
    #[inline(always)]
    fn write(&mut self, bytes: &[u8]) -> Result<(), bincode::error::EncodeError> {
        self.0.extend_from_slice(bytes);
        Ok(())
    }
}

/// A bincode writer that only counts the bytes it is given.
struct Counted(usize);

impl bincode::enc::write::Writer for &mut Counted {
    #[inline(always)]
    fn write(&mut self, bytes: &[u8]) -> Result<(), bincode::error::EncodeError> {
        self.0 += bytes.len();
        Ok(())
    }
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
    let mut bytes = Vec::with_capacity(1 + encoded_len(value)?);
    bytes.push(format);
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
    fn encoding_writes_bincodes_bytes_once_into_a_vector_of_their_size() {
        let sample = Sample {
            position: 300,
            name: "张三".repeat(40),
            tags: (0..50).map(|tag| format!("tag {tag}")).collect(),
        };
        let ours = encode(&sample).unwrap();
        let theirs = bincode::serde::encode_to_vec(&sample, config()).unwrap();
        assert_eq!(ours, theirs, "the bytes are bincode's, whatever the writer");
        assert_eq!(ours.capacity(), ours.len(), "no growth, no slack");
        let versioned = encode_versioned(9, &sample).unwrap();
        assert_eq!(versioned[0], 9);
        assert_eq!(&versioned[1..], theirs.as_slice());
        assert_eq!(versioned.capacity(), versioned.len());
        let mut appended = vec![1, 2, 3];
        encode_into(&sample, &mut appended).unwrap();
        assert_eq!(&appended[..3], &[1, 2, 3]);
        assert_eq!(&appended[3..], theirs.as_slice());
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
