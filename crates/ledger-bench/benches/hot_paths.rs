//! Criterion micro-benchmarks of the hot functions under every append and read: the payload
//! codec (encode and decode of a `ContactRecorded`), blake3 record hashing (the chain), and
//! identifier validation (every caller lookup parses the number it is given).
//!
//! `cargo bench -p ledger-bench --bench hot_paths`

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use ledger_domain::events::Event;
use ledger_domain::values::{Identifier, IdentifierKind};
use ledger_store::{GENESIS_HASH, record_hash};

fn contact() -> Event {
    ledger_synth::fixture_events()
        .into_iter()
        .map(|synthetic| synthetic.event)
        .find(|event| matches!(event, Event::ContactRecorded(_)))
        .expect("the fixture history records contacts")
}

fn codec(criterion: &mut Criterion) {
    let event = contact();
    let bytes = event.encode_payload();
    let mut group = criterion.benchmark_group("codec");
    group.throughput(Throughput::Elements(1));
    group.bench_function("encode ContactRecorded", |bencher| {
        bencher.iter(|| black_box(&event).encode_payload());
    });
    group.bench_function("decode ContactRecorded", |bencher| {
        bencher.iter(|| {
            Event::decode_payload("ContactRecorded", 1, black_box(&bytes)).expect("decodes")
        });
    });
    group.finish();
}

fn hashing(criterion: &mut Criterion) {
    let mut group = criterion.benchmark_group("record hash");
    for size in [300_usize, 1_024] {
        let record = vec![0x5a_u8; size];
        group.throughput(Throughput::Bytes(u64::try_from(size).unwrap_or(u64::MAX)));
        group.bench_function(format!("blake3 of a {size}-byte record"), |bencher| {
            bencher.iter(|| record_hash(black_box(&GENESIS_HASH), black_box(&record)));
        });
    }
    group.finish();
}

fn validation(criterion: &mut Criterion) {
    let mut group = criterion.benchmark_group("identifier");
    group.throughput(Throughput::Elements(1));
    group.bench_function("parse a formatted mobile number", |bencher| {
        bencher.iter(|| {
            Identifier::parse(
                "value",
                IdentifierKind::Mobile,
                black_box("+86 138-0013-8000"),
            )
            .expect("a valid number")
        });
    });
    group.bench_function("reject a short mobile number", |bencher| {
        bencher.iter(|| {
            Identifier::parse("value", IdentifierKind::Mobile, black_box("138-0013")).is_err()
        });
    });
    group.finish();
}

criterion_group!(benches, codec, hashing, validation);
criterion_main!(benches);
