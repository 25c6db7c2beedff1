//! A block: many projection entries packed in one sled value.
//!
//! Layout: the format byte [`BLOCK_FORMAT`], then each entry as its key's length (LEB128), the
//! key, its value's length (LEB128) and the value, keys strictly ascending. Not bincode: a
//! point read walks the lengths and copies out only the entry it wants.
//!
//! A block holds the entries from its lower bound (its sled key, see the module above) up to
//! the next block's. When a commit leaves a block larger than [`BLOCK_BYTES_TARGET`], it is cut
//! into pieces of at most that size; an entry larger than the target is a block of its own.

use ledger_domain::projection::StateError;

use crate::varint;

/// The format byte of a block value.
pub(super) const BLOCK_FORMAT: u8 = 1;

/// The size a block is cut at. sled's cost is per key, in CPU (~6 µs a key written) and in
/// memory at every open (~60 bytes a key: sled 0.34 rebuilds a page-table entry for every leaf of
/// ~16 keys), so larger blocks write and hold less; but a block is rewritten whole when any of
/// its entries changes, and read whole for one entry. At 4 KiB a timeline page of 50 entries
/// spans ~4 blocks.
pub const BLOCK_BYTES_TARGET: usize = 4096;

/// One entry as it lies in a block.
pub(super) type Slice<'a> = (&'a [u8], &'a [u8]);

/// Walks a block's entries in key order.
pub(super) struct Entries<'a> {
    bytes: &'a [u8],
    at: usize,
}

/// Reads a block's entries; refuses a value that is not a block.
pub(super) fn entries(bytes: &[u8]) -> Result<Entries<'_>, StateError> {
    match bytes.first() {
        Some(&BLOCK_FORMAT) => Ok(Entries { bytes, at: 1 }),
        Some(&found) => Err(StateError(format!(
            "a projection block has format byte {found}, expected {BLOCK_FORMAT}"
        ))),
        None => Err(StateError("a projection block is empty".into())),
    }
}

impl<'a> Entries<'a> {
    fn field(&mut self) -> Option<&'a [u8]> {
        let length = usize::try_from(varint::read(self.bytes, &mut self.at)?).ok()?;
        let end = self.at.checked_add(length)?;
        let field = self.bytes.get(self.at..end)?;
        self.at = end;
        Some(field)
    }
}

impl<'a> Iterator for Entries<'a> {
    type Item = Result<Slice<'a>, StateError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.at >= self.bytes.len() {
            return None;
        }
        let entry = self.field().and_then(|key| Some((key, self.field()?)));
        Some(entry.ok_or_else(|| {
            // Stop after reporting: the rest cannot be found once a length is wrong.
            self.at = self.bytes.len();
            StateError("a projection block ends inside an entry".into())
        }))
    }
}

/// The value stored under `key` in a block.
pub(super) fn find<'a>(bytes: &'a [u8], key: &[u8]) -> Result<Option<&'a [u8]>, StateError> {
    for entry in entries(bytes)? {
        let (found, value) = entry?;
        match found.cmp(key) {
            std::cmp::Ordering::Less => {}
            std::cmp::Ordering::Equal => return Ok(Some(value)),
            std::cmp::Ordering::Greater => return Ok(None),
        }
    }
    Ok(None)
}

/// The encoded size of one entry.
fn entry_bytes((key, value): Slice<'_>) -> usize {
    varint::len(key.len() as u64) + key.len() + varint::len(value.len() as u64) + value.len()
}

/// Encodes sorted `entries` as blocks of at most [`BLOCK_BYTES_TARGET`] (an entry larger than
/// that alone in its block). Each piece is returned with the key of its first entry; the
/// caller stores the first piece under the block's own lower bound.
pub(super) fn pack<'a>(entries: &[Slice<'a>]) -> Vec<(&'a [u8], Vec<u8>)> {
    let mut pieces: Vec<(&'a [u8], Vec<u8>)> = Vec::new();
    for &(key, value) in entries {
        let size = entry_bytes((key, value));
        let fits = pieces
            .last()
            .is_some_and(|(_, bytes)| bytes.len() + size <= BLOCK_BYTES_TARGET);
        if !fits {
            let mut bytes = Vec::with_capacity((1 + size).min(BLOCK_BYTES_TARGET));
            bytes.push(BLOCK_FORMAT);
            pieces.push((key, bytes));
        }
        if let Some((_, bytes)) = pieces.last_mut() {
            varint::write(bytes, key.len() as u64);
            bytes.extend_from_slice(key);
            varint::write(bytes, value.len() as u64);
            bytes.extend_from_slice(value);
        }
    }
    pieces
}

#[cfg(test)]
mod tests {
    use proptest::collection::{btree_map, vec};
    use proptest::prelude::*;

    use super::*;

    fn read_all(pieces: &[(&[u8], Vec<u8>)]) -> Vec<(Vec<u8>, Vec<u8>)> {
        pieces
            .iter()
            .flat_map(|(_, bytes)| entries(bytes).unwrap())
            .map(|entry| {
                let (key, value) = entry.unwrap();
                (key.to_vec(), value.to_vec())
            })
            .collect()
    }

    proptest! {
        #[test]
        fn packed_entries_read_back_in_order_in_pieces_within_the_target(
            map in btree_map(vec(any::<u8>(), 0..40), vec(any::<u8>(), 0..3000), 0..60),
        ) {
            let slices: Vec<Slice<'_>> =
                map.iter().map(|(key, value)| (key.as_slice(), value.as_slice())).collect();
            let pieces = pack(&slices);
            let expected: Vec<(Vec<u8>, Vec<u8>)> = map.clone().into_iter().collect();
            prop_assert_eq!(read_all(&pieces), expected);
            for (first, bytes) in &pieces {
                let mut inside = entries(bytes).unwrap();
                let (key, _) = inside.next().unwrap().unwrap();
                prop_assert_eq!(*first, key);
                // Over the target only when the piece is a single entry.
                prop_assert!(bytes.len() <= BLOCK_BYTES_TARGET || inside.next().is_none());
            }
            for (key, value) in &map {
                let piece = pieces.iter().rev().find(|(first, _)| *first <= key.as_slice());
                let found = piece.and_then(|(_, bytes)| find(bytes, key).unwrap());
                prop_assert_eq!(found, Some(value.as_slice()));
            }
        }
    }

    #[test]
    fn a_missing_key_is_none_and_a_damaged_block_an_error() {
        let pieces = pack(&[(b"b".as_slice(), b"2".as_slice()), (b"d", b"4")]);
        let bytes = &pieces[0].1;
        assert_eq!(find(bytes, b"a").unwrap(), None);
        assert_eq!(find(bytes, b"c").unwrap(), None);
        assert_eq!(find(bytes, b"e").unwrap(), None);
        let cut = &bytes[..bytes.len() - 1];
        let error = find(cut, b"d").unwrap_err();
        assert!(error.0.contains("ends inside an entry"), "{error}");
        let error = find(&[9, 0], b"d").unwrap_err();
        assert!(error.0.contains("format byte 9"), "{error}");
    }
}
