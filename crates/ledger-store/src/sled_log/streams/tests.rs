//! The stream index against a plain `HashMap<StreamId, Vec<u64>>`.

use std::collections::HashMap;

use proptest::prelude::*;

use super::*;

fn stream(text: &str) -> StreamId {
    StreamId::parse("stream", text).unwrap()
}

/// Ids that share categories, prefixes and UUIDs spelled two ways.
fn pool_id(category: usize, kind: usize, number: u32) -> StreamId {
    let category = ["customer", "case", "policy", "c", "cu", "customers"][category % 6];
    let rest = match kind % 5 {
        0 => format!("0190a5e2-8c3b-7d4e-9f00-{number:012x}"),
        1 => format!("0190A5E2-8C3B-7D4E-9F00-{number:012X}"),
        2 => format!(
            "PXA2024{}{number}",
            "0".repeat(usize::try_from(number % 4).unwrap())
        ),
        3 => format!("{number}-"),
        _ => format!("{number}"),
    };
    stream(&format!("{category}-{rest}"))
}

type Model = HashMap<StreamId, Vec<u64>>;

/// Every query of `index` answers as `model` does, for every stream of `pool`.
fn assert_same(index: &StreamIndex, model: &Model, pool: &[StreamId]) {
    assert_eq!(index.len(), model.len());
    for id in pool {
        let expected = model.get(id).map_or(&[][..], Vec::as_slice);
        assert_eq!(index.version(id), len_u64(expected.len()), "{id}");
        assert_eq!(index.positions(id).collect::<Vec<_>>(), expected, "{id}");
        assert_eq!(index.positions(id).len(), expected.len(), "{id}");
        for (offset, &position) in expected.iter().enumerate() {
            assert_eq!(index.position(id, offset), Some(position), "{id} {offset}");
            assert_eq!(
                index.index_of(id, position),
                Some(offset),
                "{id} {position}"
            );
            if !expected.contains(&(position + 1)) {
                assert_eq!(index.index_of(id, position + 1), None, "{id}");
            }
        }
        assert_eq!(index.position(id, expected.len()), None, "{id}");
        assert_eq!(index.index_of(id, 0), None, "{id}");
    }
    let mut listed: Vec<Vec<u64>> = index.each().map(Iterator::collect).collect();
    let mut expected: Vec<Vec<u64>> = model.values().cloned().collect();
    listed.sort();
    expected.sort();
    assert_eq!(listed, expected);
}

/// One committed group: (pool index, position step) per event; or a compaction.
#[derive(Debug, Clone)]
enum Op {
    Group(Vec<(usize, u64)>),
    Compact,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        8 => prop::collection::vec(
            (0..60_usize, prop_oneof![4 => 1..3_u64, 1 => 1..(1_u64 << 28)]),
            1..24,
        )
        .prop_map(Op::Group),
        1 => Just(Op::Compact),
    ]
}

fn pool() -> impl Strategy<Value = Vec<StreamId>> {
    prop::collection::vec((0..6_usize, 0..5_usize, 0..40_u32), 1..60)
        .prop_map(|ids| ids.into_iter().map(|(c, k, n)| pool_id(c, k, n)).collect())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn every_query_answers_as_a_map_of_vectors(pool in pool(), ops in prop::collection::vec(op(), 1..40)) {
        let mut index = StreamIndex::default();
        let mut model = Model::new();
        let mut next = 1_u64;
        for op in ops {
            match op {
                Op::Compact => index.compact(),
                Op::Group(events) => {
                    // As the writer stages a group: positions in order, grouped per stream.
                    let mut staged: Vec<(StreamId, Vec<u64>)> = Vec::new();
                    for (pick, step) in events {
                        let id = pool[pick % pool.len()].clone();
                        match staged.iter_mut().find(|(held, _)| *held == id) {
                            Some((_, positions)) => positions.push(next),
                            None => staged.push((id, vec![next])),
                        }
                        next += step;
                    }
                    for (id, positions) in staged {
                        let before = model.get(&id).map_or(0, Vec::len);
                        prop_assert_eq!(index.extend(&id, &positions).unwrap(), len_u64(before));
                        model.entry(id).or_default().extend(positions);
                    }
                }
            }
        }
        let unknown = [stream("customer-0190a5e2-8c3b-7d4e-9f00-ffffffffffff"), stream("never-1")];
        let everything: Vec<StreamId> = pool.iter().chain(&unknown).cloned().collect();
        assert_same(&index, &model, &everything);
        index.shrink_to_fit();
        assert_same(&index, &model, &everything);
        prop_assert!(index.memory_bytes() > 0 || model.is_empty());
    }
}

#[test]
fn a_uuid_spelled_in_upper_case_is_another_stream() {
    let lower = stream("customer-0190a5e2-8c3b-7d4e-9f00-1234567890ab");
    let upper = stream("customer-0190A5E2-8C3B-7D4E-9F00-1234567890AB");
    let bare = stream("customer-0190a5e28c3b7d4e9f001234567890ab");
    let mut index = StreamIndex::default();
    index.extend(&lower, &[1, 5]).unwrap();
    assert_eq!(index.version(&upper), 0);
    assert_eq!(index.version(&bare), 0);
    index.extend(&upper, &[7]).unwrap();
    index.extend(&bare, &[8]).unwrap();
    assert_eq!(index.positions(&lower).collect::<Vec<_>>(), [1, 5]);
    assert_eq!(index.positions(&upper).collect::<Vec<_>>(), [7]);
    assert_eq!(index.positions(&bare).collect::<Vec<_>>(), [8]);
}

#[test]
fn texts_one_symbol_apart_pack_apart() {
    // "a" packs into 1 byte (6 bits + 2 padding), "aa" and "aaa" into 2 and 3; the padding is
    // zero bits and no symbol is 0, so none of these keys equals another.
    let ids: Vec<StreamId> = [
        "policy-a",
        "policy-aa",
        "policy-aaa",
        "policy-aaaa",
        "policy-a-",
        "policy-A",
    ]
    .iter()
    .map(|text| stream(text))
    .collect();
    let mut index = StreamIndex::default();
    for (offset, id) in ids.iter().enumerate() {
        index.extend(id, &[len_u64(offset) + 1]).unwrap();
    }
    for (offset, id) in ids.iter().enumerate() {
        assert_eq!(
            index.positions(id).collect::<Vec<_>>(),
            [len_u64(offset) + 1],
            "{id}"
        );
    }
}

#[test]
fn categories_past_the_table_are_spelled_inline() {
    let letters = |mut number: usize| {
        let mut text = String::new();
        loop {
            text.push(char::from(b'a' + u8::try_from(number % 26).unwrap()));
            number /= 26;
            if number == 0 {
                return text;
            }
        }
    };
    let ids: Vec<StreamId> = (0..CATEGORIES_MAX * 2)
        .flat_map(|category| {
            let category = letters(category);
            [
                stream(&format!("{category}-0190a5e2-8c3b-7d4e-9f00-1234567890ab")),
                stream(&format!("{category}-7")),
            ]
        })
        .collect();
    let mut index = StreamIndex::default();
    let mut model = Model::new();
    for (offset, id) in ids.iter().enumerate() {
        let position = len_u64(offset) + 1;
        index.extend(id, &[position]).unwrap();
        model.insert(id.clone(), vec![position]);
    }
    assert_eq!(index.categories.len(), CATEGORIES_MAX);
    let mut pool = ids.clone();
    pool.push(stream("zzzz-7"));
    assert_same(&index, &model, &pool);
}

#[test]
fn growth_compacts_and_a_long_stream_stays_exact() {
    let ids: Vec<StreamId> = (0..40_000_u32).map(|n| pool_id(0, 0, n)).collect();
    let hot = stream("customer-hot");
    let mut index = StreamIndex::default();
    let mut model = Model::new();
    let mut position = 0_u64;
    for _ in 0..6 {
        for id in &ids {
            position += 3;
            index.extend(id, &[position]).unwrap();
            model.entry(id.clone()).or_default().push(position);
            if position.is_multiple_of(4) {
                position += 1;
                index.extend(&hot, &[position]).unwrap();
                model.entry(hot.clone()).or_default().push(position);
            }
        }
    }
    // Every blob moved several times as it grew past its class: without compaction the
    // arena would hold that garbage too.
    assert!(
        index.arena.len() - index.live_bytes <= index.live_bytes / 4 + COMPACT_GARBAGE_BYTES_MIN,
        "garbage {} of {}",
        index.arena.len() - index.live_bytes,
        index.live_bytes
    );
    assert!(index.version(&hot) > 10_000);
    index.shrink_to_fit();
    assert_eq!(
        index.arena.len(),
        index.live_bytes,
        "no garbage after the shrink"
    );
    assert!(
        index.arena.capacity() <= index.arena.len() + index.arena.len() / 8 + BLOB_ALIGN_BYTES,
        "an eighth of room at most: {} of {}",
        index.arena.capacity(),
        index.arena.len()
    );
    let mut pool: Vec<StreamId> = ids.iter().step_by(97).cloned().collect();
    pool.push(hot.clone());
    let sample: Model = pool
        .iter()
        .map(|id| (id.clone(), model[id].clone()))
        .collect();
    assert_eq!(index.len(), model.len());
    for id in &pool {
        assert_eq!(index.positions(id).collect::<Vec<_>>(), sample[id], "{id}");
    }
}

#[test]
fn an_index_for_a_log_reserves_its_arena_up_front() {
    let index = StreamIndex::for_events(1_000);
    assert!(
        index.arena.capacity() >= 8_000,
        "{}",
        index.arena.capacity()
    );
    assert_eq!(index.len(), 0);
    assert!(index.memory_bytes() >= 8_000);
}

#[test]
fn positions_must_grow_and_limits_are_named() {
    let id = stream("case-1");
    let mut index = StreamIndex::default();
    index.extend(&id, &[5]).unwrap();
    let error = index.extend(&id, &[5]).unwrap_err();
    assert!(error.contains("does not follow 5"), "{error}");
    let error = index.extend(&id, &[1 << 41]).unwrap_err();
    assert!(error.contains("beyond"), "{error}");
    assert_eq!(index.positions(&id).collect::<Vec<_>>(), [5]);
    let error = index.check_room(STREAM_INDEX_BYTES_MAX / 100).unwrap_err();
    assert!(error.contains("STREAM_INDEX_BYTES_MAX"), "{error}");
    assert!(index.check_room(1_000).is_ok());
}

#[test]
fn classes_leave_at_most_an_eighth_spare() {
    for len in 1..100_000 {
        let class = class_bytes(len);
        assert!(
            class >= len && class.is_multiple_of(BLOB_ALIGN_BYTES),
            "{len} -> {class}"
        );
        assert!(
            class - len < BLOB_ALIGN_BYTES || (class - len) * 8 <= len,
            "{len} -> {class}"
        );
        assert_eq!(class_bytes(class), class, "{len} -> {class}");
    }
}

#[test]
fn a_walk_in_version_order_reads_on_from_its_cursor() {
    let long = stream("campaign-0190a5e2-8c3b-7d4e-9f00-1234567890ab");
    let others: Vec<StreamId> = (0..50).map(|n| pool_id(2, 2, n)).collect();
    let mut index = StreamIndex::default();
    let mut model = Model::new();
    let mut cursors = VersionCursors::default();
    let (mut position, mut asked) = (0_u64, 0_usize);
    for round in 0..3_000_u64 {
        // Deltas of one to three bytes; other streams between; a compaction now and then.
        position += 1 + round % 7 * 300;
        index.extend(&long, &[position]).unwrap();
        model.entry(long.clone()).or_default().push(position);
        if round % 3 == 0 {
            position += 1;
            let other = &others[usize::try_from(round % 50).unwrap()];
            index.extend(other, &[position]).unwrap();
            model.entry(other.clone()).or_default().push(position);
        }
        if round % 500 == 499 {
            index.compact();
        }
        // The walk asks every version written so far but, every other round, the last.
        let held = &model[&long];
        while asked + usize::try_from(round % 2).unwrap() < held.len() {
            let found = index.position_in_order(&long, asked, &mut cursors);
            assert_eq!(found, Some(held[asked]), "version {}", asked + 1);
            asked += 1;
        }
    }
    assert!(!cursors.places.is_empty(), "the long stream got a cursor");
    let held = &model[&long];
    for index_asked in [0, 5, 1_000, 2_999, 64, 65, 2_998] {
        let found = index.position_in_order(&long, index_asked, &mut cursors);
        assert_eq!(
            found,
            Some(held[index_asked]),
            "out of order: {index_asked}"
        );
    }
    assert_eq!(index.position_in_order(&long, 3_000, &mut cursors), None);
    for id in &others {
        for (offset, &position) in model[id].iter().enumerate() {
            assert_eq!(
                index.position_in_order(id, offset, &mut cursors),
                Some(position)
            );
        }
    }
    let never = stream("never-1");
    assert_eq!(index.position_in_order(&never, 0, &mut cursors), None);
}
