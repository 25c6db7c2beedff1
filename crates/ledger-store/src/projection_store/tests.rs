//! The packed projection layout against a sorted map, block bounds and sizes, generations
//! written before blocks, and damaged blocks.

use std::collections::BTreeMap;

use ledger_domain::ids::Position;
use ledger_domain::projection::{Entry, Order, StateRead};
use proptest::collection::vec;
use proptest::prelude::*;

use super::*;

fn store() -> (tempfile::TempDir, ProjectionStore) {
    let dir = tempfile::tempdir().unwrap();
    let db = sled::Config::new().path(dir.path()).open().unwrap();
    (dir, ProjectionStore::new(db))
}

fn meta(checkpoint: u64) -> SpaceMeta {
    SpaceMeta {
        version: 3,
        checkpoint: Position(checkpoint),
    }
}

/// The model's answer to a range read.
fn model_range(
    model: &BTreeMap<Vec<u8>, Vec<u8>>,
    start: &[u8],
    end: &[u8],
    order: Order,
    limit: usize,
) -> Vec<Entry> {
    let inside = model
        .iter()
        .filter(|(key, _)| key.as_slice() >= start && (end.is_empty() || key.as_slice() < end))
        .map(|(key, value)| (key.clone(), value.clone()));
    match order {
        Order::Ascending => inside.take(limit).collect(),
        Order::Descending => inside.rev().take(limit).collect(),
    }
}

/// Every block's sled key and entry count, checking each against its neighbours: entries lie
/// at or after the block's lower bound and before the next block's, and a block over the
/// target holds a single entry.
fn blocks(space: &ProjectionSpace) -> Vec<(Vec<u8>, usize)> {
    let stored: Vec<(sled::IVec, sled::IVec)> = space
        .tree
        .scan_prefix([BLOCK_PREFIX])
        .map(Result::unwrap)
        .collect();
    let mut found = Vec::new();
    for (index, (lower, bytes)) in stored.iter().enumerate() {
        let keys: Vec<Vec<u8>> = block::entries(bytes)
            .unwrap()
            .map(|entry| entry.unwrap().0.to_vec())
            .collect();
        assert!(!keys.is_empty(), "an empty block is stored at {lower:?}");
        assert!(keys.iter().all(|key| key.as_slice() >= &lower[1..]));
        if let Some((next, _)) = stored.get(index + 1) {
            assert!(keys.iter().all(|key| key.as_slice() < &next[1..]));
        }
        assert!(bytes.len() <= BLOCK_BYTES_TARGET || keys.len() == 1);
        found.push((lower.to_vec(), keys.len()));
    }
    found
}

fn key_strategy() -> impl Strategy<Value = Vec<u8>> {
    // A small alphabet, so commits overwrite and delete keys that exist.
    vec(0_u8..4, 0..5)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Commits of puts and deletes, values from empty to larger than a block: every read
    /// answers as a sorted map would, and the blocks keep their bounds. The same commits
    /// applied key by key (as a rebuild's, `commit_unseen`) leave the very same blocks.
    #[test]
    fn a_packed_generation_reads_like_a_sorted_map(
        commits in vec(
            vec((key_strategy(), prop_oneof![
                3 => (0_usize..300).prop_map(Some),
                1 => Just(Some(5_000)),
                2 => Just(None),
            ]), 0..40),
            1..6,
        ),
        queries in vec((key_strategy(), key_strategy(), any::<bool>(), 0_usize..70), 8),
    ) {
        let (_dir, store) = store();
        let space = store.fresh("model").unwrap();
        let in_pieces = store.fresh("pieces").unwrap();
        let mut model = BTreeMap::new();
        for (round, writes) in commits.iter().enumerate() {
            let mut batch = Writes::new();
            for (key, size) in writes {
                let value = size.map(|size| vec![u8::try_from(round).unwrap(); size]);
                match &value {
                    Some(value) => model.insert(key.clone(), value.clone()),
                    None => model.remove(key),
                };
                batch.insert(write_key(key.clone()), value);
            }
            space.commit(&batch, meta(round as u64)).unwrap();
            in_pieces.commit_unseen(&batch, meta(round as u64)).unwrap();
            let stored: Vec<Entry> = model.clone().into_iter().collect();
            prop_assert_eq!(space.dump().unwrap(), stored.clone());
            let mut walked = Vec::new();
            let seen = space
                .for_each_entry(|key, value| walked.push((key.to_vec(), value.to_vec())))
                .unwrap();
            prop_assert_eq!(seen, stored.len() as u64);
            prop_assert_eq!(walked, stored);
            prop_assert_eq!(blocks(&in_pieces), blocks(&space));
            prop_assert_eq!(in_pieces.meta().unwrap(), Some(meta(round as u64)));
        }
        for key in model.keys().chain(queries.iter().map(|(key, ..)| key)) {
            prop_assert_eq!(space.get(key).unwrap(), model.get(key).cloned());
        }
        for (start, end, descending, limit) in &queries {
            let order = if *descending { Order::Descending } else { Order::Ascending };
            prop_assert_eq!(
                space.range(start, end, order, *limit).unwrap(),
                model_range(&model, start, end, order, *limit),
                "range {:?}..{:?} {:?} limit {}", start, end, order, limit
            );
        }
        prop_assert_eq!(space.meta().unwrap(), Some(meta(commits.len() as u64 - 1)));
        prop_assert_eq!(space.current(3).unwrap(), Some(meta(commits.len() as u64 - 1)));
    }
}

#[test]
fn growing_ranges_are_cut_into_blocks_near_the_target_and_keys_share_them() {
    let (_dir, store) = store();
    let space = store.fresh("timeline").unwrap();
    // 2,000 entries of ~120 bytes appended in order, in 20 commits, as a timeline grows.
    for round in 0..20_u64 {
        let writes: Writes = (0..100_u64)
            .map(|index| {
                let key = format!("entry:{:06}", round * 100 + index).into_bytes();
                (write_key(key), Some(vec![7; 100]))
            })
            .collect();
        space.commit(&writes, meta(round)).unwrap();
    }
    let blocks = blocks(&space);
    let entries: usize = blocks.iter().map(|(_, count)| count).sum();
    assert_eq!(entries, 2_000);
    // An entry takes 114 bytes (a 12-byte key, 100 bytes of value, a length byte each), and
    // in-order growth leaves every block but the last full.
    let per_block = (BLOCK_BYTES_TARGET - 1) / 114;
    assert_eq!(blocks.len(), 2_000_usize.div_ceil(per_block));
    // The first block keeps the empty lower bound.
    assert_eq!(blocks[0].0, vec![BLOCK_PREFIX]);
    // Deleting every entry leaves no block behind.
    let deletes: Writes = (0..2_000_u64)
        .map(|index| (write_key(format!("entry:{index:06}").into_bytes()), None))
        .collect();
    space.commit(&deletes, meta(20)).unwrap();
    assert_eq!(space.tree.scan_prefix([BLOCK_PREFIX]).count(), 0);
    assert_eq!(space.dump().unwrap(), Vec::<Entry>::new());
}

#[test]
fn a_generation_written_before_blocks_is_read_as_it_is_and_reported_stale() {
    let (_dir, store) = store();
    let entries: Writes = (0..50_u8)
        .map(|index| (write_key(vec![b'k', index]), Some(vec![index; 10])))
        .collect();
    crate::testing::store_unpacked_generation(&store, "old", &entries, meta(9)).unwrap();
    let space = store.active("old").unwrap().unwrap();
    assert_eq!(space.layout, Layout::Unpacked);
    // Its entries are one sled key each, and no block is stored.
    assert_eq!(space.tree.scan_prefix([DATA_PREFIX]).count(), 50);
    assert_eq!(space.tree.scan_prefix([BLOCK_PREFIX]).count(), 0);
    assert_eq!(space.get(&[b'k', 7]).unwrap(), Some(vec![7; 10]));
    let last_two = space.prefix(b"k", Order::Descending, 2).unwrap();
    assert_eq!(last_two[0].0, vec![b'k', 49]);
    assert_eq!(last_two[1].0, vec![b'k', 48]);
    assert_eq!(space.dump().unwrap().len(), 50);
    let mut walked = Vec::new();
    let seen = space
        .for_each_entry(|key, value| walked.push((key.to_vec(), value.to_vec())))
        .unwrap();
    assert_eq!(seen, 50);
    assert_eq!(
        walked,
        space.dump().unwrap(),
        "the same entries in the same order"
    );
    // Its checkpoint is read, but it cannot be carried forward: it must be rebuilt.
    assert_eq!(space.meta().unwrap(), Some(meta(9)));
    assert_eq!(space.current(3).unwrap(), None);
    // A fresh generation replacing it is packed.
    let fresh = store.fresh("old").unwrap();
    assert_eq!(fresh.layout, Layout::Packed);
    fresh.commit(&entries, meta(9)).unwrap();
    store.activate(&fresh).unwrap();
    let active = store.active("old").unwrap().unwrap();
    assert_eq!(active.layout, Layout::Packed);
    assert_eq!(active.current(3).unwrap(), Some(meta(9)));
    assert_eq!(active.dump().unwrap().len(), 50);
}

#[test]
fn a_damaged_block_is_an_error_naming_the_projection_not_an_empty_answer() {
    let (_dir, store) = store();
    let space = store.fresh("damaged").unwrap();
    let writes: Writes = [(write_key(b"a".to_vec()), Some(b"1".to_vec()))]
        .into_iter()
        .collect();
    space.commit(&writes, meta(1)).unwrap();
    space
        .tree
        .insert([BLOCK_PREFIX], vec![block::BLOCK_FORMAT, 5, b'a'])
        .unwrap();
    let error = space.get(b"a").unwrap_err();
    assert!(error.0.contains("ends inside an entry"), "{error}");
    let error = space.commit(&writes, meta(2)).unwrap_err();
    assert!(error.to_string().contains("damaged"), "{error}");
}

/// A rebuild reads its generation while its last commit is written (the keys that commit
/// writes it answers itself): every key the commit does not write must read as before at any
/// moment of it, by point and by range, though the commit cuts every block in many pieces.
/// Written front to back, a block's first piece would hide the keys of its later pieces until
/// they were written.
#[test]
fn keys_a_commit_does_not_write_read_the_same_throughout_it() {
    const OLD: u32 = 1_000;
    const STEP: u32 = 50;
    let (_dir, store) = store();
    let space = store.fresh("timeline").unwrap();
    let key = |index: u32| format!("k{index:07}").into_bytes();
    let key_of = key;
    let old: Writes = (0..OLD)
        .map(|index| (write_key(key(index * STEP)), Some(vec![7; 100])))
        .collect();
    space.commit_unseen(&old, meta(1)).unwrap();
    let expected: Vec<Entry> = old
        .iter()
        .map(|(key, value)| (key.to_vec(), value.clone().unwrap()))
        .collect();
    let blocks_before = blocks(&space).len();
    // New keys between the old ones: every block grows to STEP times its size.
    let new: Writes = (0..OLD * STEP)
        .filter(|index| index % STEP != 0)
        .map(|index| (write_key(key(index)), Some(vec![8; 100])))
        .collect();
    let done = std::sync::atomic::AtomicBool::new(false);
    let (reads, mismatches) = std::thread::scope(|scope| {
        let reader = scope.spawn(|| {
            let (mut reads, mut mismatches) = (0_u32, Vec::new());
            let mut random = 0x9e37_79b9_u32;
            // Reads on until the commit has ended, then one range more of its end state.
            loop {
                let finished = done.load(std::sync::atomic::Ordering::Acquire);
                random ^= random << 13;
                random ^= random >> 17;
                random ^= random << 5;
                let probe = key((random % OLD) * STEP);
                if space.get(&probe).unwrap() != Some(vec![7; 100]) {
                    mismatches.push(format!("get {}", String::from_utf8_lossy(&probe)));
                }
                reads += 1;
                // A range over a few blocks from the probe, each way: sled's iterator keeps a
                // copy of each leaf it reads, so a walk down reads its higher leaves before a
                // split and the lower ones after it unless each step looks the block up anew.
                let order = if reads % 2 == 0 {
                    Order::Ascending
                } else {
                    Order::Descending
                };
                let low = (random % OLD).saturating_sub(40) * STEP;
                let high = ((random % OLD) + 40).min(OLD) * STEP;
                let wanted: Vec<&Entry> = expected
                    .iter()
                    .filter(|(key, _)| key.as_slice() >= key_of(low).as_slice())
                    .filter(|(key, _)| key.as_slice() < key_of(high).as_slice())
                    .collect();
                let mut found: Vec<Entry> = space
                    .range(&key_of(low), &key_of(high), order, usize::MAX)
                    .unwrap()
                    .into_iter()
                    .filter(|(key, _)| old.contains_key(key.as_slice()))
                    .collect();
                found.sort();
                if found.iter().collect::<Vec<_>>() != wanted {
                    mismatches.push(format!(
                        "range {order:?} from {low}: {} of {} old keys",
                        found.len(),
                        wanted.len()
                    ));
                }
                if finished {
                    let whole = space
                        .range(b"", b"", Order::Descending, usize::MAX)
                        .unwrap();
                    if whole.len() != usize::try_from(OLD * STEP).unwrap() {
                        mismatches.push(format!("the end state holds {} keys", whole.len()));
                    }
                }
                if finished {
                    break;
                }
            }
            (reads, mismatches)
        });
        space.commit_unseen(&new, meta(2)).unwrap();
        done.store(true, std::sync::atomic::Ordering::Release);
        reader.join().unwrap()
    });
    assert!(
        mismatches.is_empty(),
        "{} of {reads} reads: {:?}",
        mismatches.len(),
        &mismatches[..mismatches.len().min(5)]
    );
    assert!(
        blocks(&space).len() > 10 * blocks_before,
        "the commit cut too few blocks: {} → {}",
        blocks_before,
        blocks(&space).len()
    );
    assert_eq!(space.meta().unwrap(), Some(meta(2)));
    assert_eq!(
        space.dump().unwrap().len(),
        usize::try_from(OLD * STEP).unwrap()
    );
}

/// Keys in place and keys on the heap sort, find and range as their bytes, whichever way a map
/// of them is searched.
#[test]
fn write_keys_order_and_find_as_their_bytes_in_place_or_not() {
    let keys: Vec<Vec<u8>> = vec![
        Vec::new(),
        vec![b'a'; WRITE_KEY_INLINE_BYTES - 1],
        vec![b'a'; WRITE_KEY_INLINE_BYTES],
        [vec![b'a'; WRITE_KEY_INLINE_BYTES], vec![0]].concat(),
        vec![b'a'; WRITE_KEY_INLINE_BYTES + 1],
        vec![b'a'; 200],
        vec![b'b'],
    ];
    assert!(!write_key(keys[2].clone()).spilled());
    assert!(write_key(keys[3].clone()).spilled());
    let writes: Writes = keys
        .iter()
        .rev()
        .map(|key| (write_key(key.clone()), Some(key.clone())))
        .collect();
    let in_order: Vec<Vec<u8>> = writes.keys().map(|key| key.to_vec()).collect();
    assert_eq!(in_order, keys, "the keys above are listed in byte order");
    for key in &keys {
        assert_eq!(writes.get(key.as_slice()), Some(&Some(key.clone())));
    }
    let start = vec![b'a'; WRITE_KEY_INLINE_BYTES];
    let end = vec![b'a'; 100];
    let ranged: Vec<Vec<u8>> = writes
        .range::<[u8], _>((
            std::ops::Bound::Included(start.as_slice()),
            std::ops::Bound::Excluded(end.as_slice()),
        ))
        .map(|(key, _)| key.to_vec())
        .collect();
    assert_eq!(ranged, keys[2..5]);
}

/// The checkpoint's record hash goes in with the checkpoint, in the same metadata value, by
/// either commit; a commit of a bare `SpaceMeta` records none, and metadata written before the
/// hash was recorded (format 2) reads with none, its checkpoint as it was.
#[test]
fn the_checkpoints_record_hash_is_committed_with_it_and_older_metadata_has_none() {
    let (_dir, store) = store();
    let writes: Writes = (0..20u8)
        .map(|key| (write_key(vec![b'k', key]), Some(vec![key; 30])))
        .collect();
    let hashed = |checkpoint: u64, byte: u8| StoredMeta {
        meta: meta(checkpoint),
        checkpoint_hash: Some([byte; 32]),
    };

    let space = store.fresh("hashed").unwrap();
    space.commit(&writes, hashed(7, 0xab)).unwrap();
    assert_eq!(space.stored_meta().unwrap(), Some(hashed(7, 0xab)));
    assert_eq!(space.checkpoint_hash().unwrap(), Some([0xab; 32]));
    assert_eq!(space.meta().unwrap(), Some(meta(7)));
    assert_eq!(space.current(3).unwrap(), Some(meta(7)));
    space
        .commit_unseen(&Writes::new(), hashed(9, 0xcd))
        .unwrap();
    assert_eq!(space.checkpoint_hash().unwrap(), Some([0xcd; 32]));
    space.commit(&Writes::new(), meta(10)).unwrap();
    assert_eq!(
        space.stored_meta().unwrap(),
        Some(StoredMeta::from(meta(10)))
    );

    // As the code before the hash wrote it.
    let older = store.fresh("older").unwrap();
    older.commit(&writes, meta(7)).unwrap();
    older
        .tree
        .insert(
            META_KEY,
            codec::encode_versioned(META_FORMAT_PACKED, &meta(7)).unwrap(),
        )
        .unwrap();
    store.activate(&older).unwrap();
    let older = store.active("older").unwrap().unwrap();
    assert_eq!(older.layout, Layout::Packed);
    assert_eq!(older.current(3).unwrap(), Some(meta(7)));
    assert_eq!(older.checkpoint_hash().unwrap(), None);
    assert_eq!(older.dump().unwrap().len(), 20);
}
