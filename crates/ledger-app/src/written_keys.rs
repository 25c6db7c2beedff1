//! Which keys a fresh projection generation may hold: a Bloom filter of every key committed to
//! it, so a rebuild answers most reads of keys never written without asking sled.
//!
//! A rebuild's folds ask often about keys that do not exist yet (is this customer erased,
//! merged, seen before?), and each such read was a walk of sled's tree. A fresh generation
//! starts empty and only the runner writes it, so a key the filter has never seen is certainly
//! absent; a key it may have seen is read from sled as before. The filter can only answer
//! "absent" wrongly if a key was written without being inserted, which the runner never does.

use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher};

use ledger_domain::projection::{Entry, Order, StateError, StateRead};

/// Keys one block of the filter is sized for; a full block is followed by a new one.
pub const BLOCK_KEYS: usize = 1 << 20;

/// Bits per key in a block: with [`PROBES`] probes, about 0.6% of absent keys are still read.
const BITS_PER_KEY: usize = 12;

/// Bit positions set and tested per key.
const PROBES: usize = 4;

/// The most memory one generation's filter may take. Past it the filter stops answering
/// "absent" (every read goes to sled, as without a filter): correct, only slower.
pub const FILTER_BYTES_MAX: usize = 32 << 20;

const BLOCK_WORDS: usize = BLOCK_KEYS * BITS_PER_KEY / 64;
const BLOCK_BITS: u64 = BLOCK_WORDS as u64 * 64;

/// A growing Bloom filter of written keys.
#[derive(Debug)]
pub struct WrittenKeys {
    blocks: Vec<Vec<u64>>,
    /// The most bytes the blocks may take ([`FILTER_BYTES_MAX`] but in tests).
    bytes_max: usize,
    /// Keys inserted into the last block.
    in_last: usize,
    /// Set once the filter would pass [`FILTER_BYTES_MAX`]: every key may then be present.
    saturated: bool,
}

impl Default for WrittenKeys {
    fn default() -> Self {
        Self::with_limit(FILTER_BYTES_MAX)
    }
}

impl WrittenKeys {
    pub fn new() -> Self {
        Self::default()
    }

    fn with_limit(bytes_max: usize) -> Self {
        Self {
            blocks: Vec::new(),
            bytes_max,
            in_last: 0,
            saturated: false,
        }
    }

    /// Records that `key` was written. A key the filter may hold already is not added again:
    /// a rebuild commits the keys it rewrites (a customer's count, say) at every commit, and
    /// counting each time would fill blocks with repeats and saturate the filter early (at the
    /// bench's 10 M events, about halfway through the first catch-up). Skipping is safe: the
    /// filter already answers "may be present" for that key, and bits are never cleared.
    pub fn insert(&mut self, key: &[u8]) {
        if self.saturated {
            return;
        }
        let hash = hash(key);
        if self.may_contain_hash(hash) {
            return;
        }
        if self.blocks.is_empty() || self.in_last == BLOCK_KEYS {
            if (self.blocks.len() + 1) * BLOCK_WORDS * 8 > self.bytes_max {
                self.saturated = true;
                self.blocks = Vec::new();
                return;
            }
            self.blocks.push(vec![0; BLOCK_WORDS]);
            self.in_last = 0;
        }
        if let Some(block) = self.blocks.last_mut() {
            for bit in probes(hash) {
                block[word(bit)] |= mask(bit);
            }
            self.in_last += 1;
        }
    }

    /// False only when `key` was certainly never inserted.
    pub fn may_contain(&self, key: &[u8]) -> bool {
        self.saturated || self.may_contain_hash(hash(key))
    }

    /// [`Self::may_contain`] for a key of hash `hash`, the filter not saturated.
    fn may_contain_hash(&self, hash: u64) -> bool {
        self.blocks.iter().any(|block| {
            probes(hash)
                .into_iter()
                .all(|bit| block[word(bit)] & mask(bit) != 0)
        })
    }
}

fn hash(key: &[u8]) -> u64 {
    BuildHasherDefault::<DefaultHasher>::default().hash_one(key)
}

/// The bit positions of a key in a block, by double hashing of its two halves.
fn probes(hash: u64) -> [u64; PROBES] {
    let first = hash & 0xffff_ffff;
    let step = (hash >> 32) | 1;
    let mut bits = [0; PROBES];
    let mut bit = first;
    for slot in &mut bits {
        *slot = bit % BLOCK_BITS;
        bit = bit.wrapping_add(step);
    }
    bits
}

#[allow(clippy::cast_possible_truncation)]
fn word(bit: u64) -> usize {
    (bit / 64) as usize
}

fn mask(bit: u64) -> u64 {
    1 << (bit % 64)
}

/// A fresh generation's committed state, read through its filter of written keys.
#[derive(Debug)]
pub struct Filtered<'a, B: StateRead + ?Sized> {
    pub base: &'a B,
    pub written: &'a WrittenKeys,
}

impl<B: StateRead + ?Sized> StateRead for Filtered<'_, B> {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StateError> {
        if self.written.may_contain(key) {
            self.base.get(key)
        } else {
            Ok(None)
        }
    }

    fn range(
        &self,
        start: &[u8],
        end: &[u8],
        order: Order,
        limit: usize,
    ) -> Result<Vec<Entry>, StateError> {
        self.base.range(start, end, order, limit)
    }
}

#[cfg(test)]
mod tests {
    use ledger_domain::projection::{MemoryState, StateWrite};

    use super::*;

    #[test]
    fn every_inserted_key_may_be_present_and_most_absent_keys_are_not() {
        let mut written = WrittenKeys::new();
        for index in 0..50_000u32 {
            written.insert(format!("written:{index}").as_bytes());
        }
        for index in 0..50_000u32 {
            assert!(written.may_contain(format!("written:{index}").as_bytes()));
        }
        let false_positives = (0..50_000u32)
            .filter(|index| written.may_contain(format!("absent:{index}").as_bytes()))
            .count();
        // Sized for 12 bits a key, 4 probes: well under 1% for a block that is not full.
        assert!(false_positives < 500, "{false_positives} false positives");
    }

    #[test]
    fn a_full_block_starts_another_and_both_are_asked() {
        let mut written = WrittenKeys::new();
        // A few of these keys the filter already seems to hold (its false positives), and those
        // are not counted: a tenth more than a block always starts the next.
        let keys = BLOCK_KEYS + BLOCK_KEYS / 10;
        for index in 0..keys {
            written.insert(&index.to_be_bytes());
        }
        assert_eq!(written.blocks.len(), 2);
        assert!(written.may_contain(&0usize.to_be_bytes()));
        assert!(written.may_contain(&(keys - 1).to_be_bytes()));
    }

    #[test]
    fn keys_written_again_do_not_fill_the_filter() {
        // Room for one block: the same keys committed over and over (a rebuild's counts) must
        // not take it past its limit, as counting every insert would.
        let mut written = WrittenKeys::with_limit(BLOCK_WORDS * 8);
        for _ in 0..3 {
            for index in 0..BLOCK_KEYS / 2 {
                written.insert(&index.to_be_bytes());
            }
        }
        assert!(!written.saturated);
        assert!(
            written.in_last <= BLOCK_KEYS / 2,
            "{} counted",
            written.in_last
        );
        assert!(written.may_contain(&7usize.to_be_bytes()));
        let absent = (BLOCK_KEYS..BLOCK_KEYS + 10_000)
            .filter(|index| written.may_contain(&index.to_be_bytes()))
            .count();
        assert!(absent < 100, "{absent} false positives");
    }

    #[test]
    fn past_its_memory_limit_the_filter_says_every_key_may_be_present() {
        let mut written = WrittenKeys::with_limit(2 * BLOCK_WORDS * 8);
        let keys = 3 * BLOCK_KEYS;
        for index in 0..keys {
            written.insert(&index.to_be_bytes());
        }
        assert!(written.saturated);
        assert!(written.blocks.is_empty(), "the blocks are released");
        assert!(written.may_contain(b"never written"));
    }

    #[test]
    fn filtered_reads_hide_only_keys_never_written() {
        let mut base = MemoryState::new();
        base.put(b"a".to_vec(), b"1".to_vec());
        base.put(b"b".to_vec(), b"2".to_vec());
        let mut written = WrittenKeys::new();
        written.insert(b"a");
        let filtered = Filtered {
            base: &base,
            written: &written,
        };
        assert_eq!(filtered.get(b"a").unwrap(), Some(b"1".to_vec()));
        // `b` exists below but was never reported written: the filter's contract is that the
        // runner reports every write, so this shows the filter is what answers.
        assert_eq!(filtered.get(b"b").unwrap(), None);
        assert_eq!(
            filtered
                .range(b"a", b"", Order::Ascending, 10)
                .unwrap()
                .len(),
            2,
            "ranges read the base"
        );
    }
}
