//! What the stream index holds at the bench's 10 M-event scale, without writing a log: fills
//! either the store's index (`new`) or the map it replaced (`old`, a `HashMap<StreamId,
//! Vec<u64>>` filled and shrunk as the open's walk did) with a synthetic history shaped like
//! the bench's (1,453,855 streams of the ledger-synth categories and id shapes, the same
//! spread of events per stream, a few very long ones), events interleaved in random order, and
//! prints the index's own estimate, the process's resident set, and the writer's lookups.
//!
//! `cargo run --release -p ledger-store --example stream_index_rss -- new|old [STREAMS] [EVENTS]`
//!
//! `... -- write DATA_DIR [STREAMS] [EVENTS]` writes the same history (small payloads) into a
//! new store instead, for `examples/open_rss.rs` to open.

use std::collections::HashMap;
use std::hint::black_box;
use std::mem::size_of;
use std::time::Instant;

use ledger_domain::ids::{EventId, StaffId, StreamId};
use ledger_store::testing::StreamIndexProbe;
use ledger_store::{
    AppendRequest, EventLog, ExpectedVersion, NewEvent, SledEventLog, StoreOptions,
};

#[path = "support/proc_status.rs"]
mod proc_status;
use proc_status::status_kib;

/// Streams and events of the bench's 10 M ledger (counted from `ledger-synth`, seed 8).
const STREAMS_DEFAULT: u32 = 1_453_855;
const EVENTS_DEFAULT: u64 = 10_000_000;

/// Streams per event count, as counted at 10 M events: 1, 2–3, 4–7, 8–15, 16–31, 32–63, 64+.
const COUNT_SPREAD: [(u64, u64, u64); 7] = [
    (40_521, 1, 1),
    (407_608, 2, 3),
    (728_342, 4, 7),
    (164_449, 8, 15),
    (90_284, 16, 31),
    (15_723, 32, 63),
    (6_928, 64, 200),
];

/// xorshift64*: deterministic, good enough to shuffle.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, bound: u64) -> u64 {
        self.next() % bound
    }
}

/// The id of stream `number`, in the bench's categories and shapes.
fn stream_id(number: u32) -> StreamId {
    let mut rng = Rng(u64::from(number).wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
    let (a, b) = (rng.next(), rng.next());
    let uuid = format!(
        "{:08x}-{:04x}-7{:03x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xfff,
        b >> 48,
        b & 0xffff_ffff_ffff
    );
    let text = match number % 100 {
        0..24 => format!("customer-{uuid}"),
        24..48 => format!("case-{uuid}"),
        48..79 => format!("policy-PXA{}2201{:08}", 2023 + number % 4, number),
        79..99 => format!("claim-CXA{}2201{:08}", 2023 + number % 4, number),
        _ => format!("enquiry-{uuid}"),
    };
    StreamId::parse("stream", &text).expect("a valid stream id")
}

/// Events per stream: the counted spread, scaled to `streams`, the rest of `events` in a few
/// long streams of ~30 k (as campaigns and the bench's busy customer).
fn counts(streams: u32, events: u64, rng: &mut Rng) -> Vec<u64> {
    let total: u64 = COUNT_SPREAD.iter().map(|(streams, _, _)| streams).sum();
    let mut counts = Vec::with_capacity(usize::try_from(streams).unwrap());
    for &(share, low, high) in &COUNT_SPREAD {
        let many = u64::from(streams) * share / total;
        for _ in 0..many {
            // Leaning to the bucket's low end, as counts of events do.
            let spread = rng.below(high - low + 1);
            counts.push(low + rng.below(spread + 1));
        }
    }
    counts.resize(usize::try_from(streams).unwrap(), 1);
    let mut held: u64 = counts.iter().sum();
    while held > events {
        let at = usize::try_from(rng.below(u64::try_from(counts.len()).unwrap())).unwrap();
        if counts[at] > 1 {
            counts[at] -= 1;
            held -= 1;
        }
    }
    let (mut long, streams) = (0, counts.len());
    while held < events {
        let add = (events - held).min(30_000);
        counts[long * 7919 % streams] += add;
        held += add;
        long += 1;
    }
    counts
}

/// `bytes` in MiB, one decimal.
fn mib(bytes: u64) -> String {
    let tenths = (bytes * 10) >> 20;
    format!("{}.{}", tenths / 10, tenths % 10)
}

/// Nanoseconds per item.
fn per(elapsed: std::time::Duration, items: usize) -> u128 {
    elapsed.as_nanos() / u128::try_from(items.max(1)).unwrap()
}

trait Index {
    fn add(&mut self, stream: &StreamId, position: u64);
    fn finish(&mut self);
    fn version(&self, stream: &StreamId) -> u64;
    fn page(&self, stream: &StreamId, from_version: u64, max: usize) -> Vec<u64>;
    fn memory_bytes(&self) -> usize;
}

impl Index for StreamIndexProbe {
    fn add(&mut self, stream: &StreamId, position: u64) {
        self.extend(stream, &[position]).expect("room");
    }
    fn finish(&mut self) {
        self.shrink_to_fit();
    }
    fn version(&self, stream: &StreamId) -> u64 {
        StreamIndexProbe::version(self, stream)
    }
    fn page(&self, stream: &StreamId, from_version: u64, max: usize) -> Vec<u64> {
        self.positions(stream, from_version, max)
    }
    fn memory_bytes(&self) -> usize {
        StreamIndexProbe::memory_bytes(self)
    }
}

/// The index before: a map of vectors, filled and shrunk as the open's walk did, and its
/// estimate as `Indexes::memory_bytes` computed it.
#[derive(Default)]
struct OldIndex(HashMap<StreamId, Vec<u64>>);

impl Index for OldIndex {
    fn add(&mut self, stream: &StreamId, position: u64) {
        match self.0.get_mut(stream) {
            Some(positions) => positions.push(position),
            None => {
                self.0.insert(stream.clone(), vec![position]);
            }
        }
    }
    fn finish(&mut self) {
        for positions in self.0.values_mut() {
            positions.shrink_to_fit();
        }
        self.0.shrink_to_fit();
    }
    fn version(&self, stream: &StreamId) -> u64 {
        self.0
            .get(stream)
            .map_or(0, |positions| positions.len() as u64)
    }
    fn page(&self, stream: &StreamId, from_version: u64, max: usize) -> Vec<u64> {
        let skip = usize::try_from(from_version.saturating_sub(1)).unwrap();
        self.0
            .get(stream)
            .map_or(&[][..], Vec::as_slice)
            .iter()
            .skip(skip)
            .take(max)
            .copied()
            .collect()
    }
    fn memory_bytes(&self) -> usize {
        let entries = self.0.capacity() * (size_of::<(StreamId, Vec<u64>)>() + 1);
        let contents: usize = self
            .0
            .iter()
            .map(|(stream, positions)| stream.as_str().len() + positions.capacity() * 8)
            .sum();
        entries + contents
    }
}

/// The stream of every event, in log order: each stream's events, shuffled so streams
/// interleave as in the log.
fn event_order(streams: u32, events: u64, rng: &mut Rng) -> Vec<u32> {
    let counts = counts(streams, events, rng);
    let mut order: Vec<u32> = Vec::with_capacity(usize::try_from(events).unwrap());
    for (number, &count) in counts.iter().enumerate() {
        let number = u32::try_from(number).unwrap();
        order.extend(std::iter::repeat_n(number, usize::try_from(count).unwrap()));
    }
    for at in (1..order.len()).rev() {
        let other = usize::try_from(rng.below(at as u64 + 1)).unwrap();
        order.swap(at, other);
    }
    order
}

/// Writes the history into a new store at `dir`, 4,096 single-event appends at a time.
fn write(dir: &std::path::Path, streams: u32, events: u64) {
    let order = event_order(streams, events, &mut Rng(0x5eed));
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    runtime.block_on(async {
        let log = SledEventLog::open(dir, StoreOptions::default()).expect("the store opens");
        let actor = StaffId::parse("actor", "agent-0042").expect("a staff id");
        let at = jiff::Timestamp::from_second(1_700_000_000).expect("an instant");
        for batch in order.chunks(4_096) {
            let requests = batch
                .iter()
                .map(|&number| AppendRequest {
                    stream: stream_id(number),
                    expected: ExpectedVersion::Any,
                    events: vec![NewEvent {
                        event_id: EventId::new_v7(),
                        event_type: "ContactRecorded".into(),
                        schema_version: 1,
                        occurred_at: at,
                        actor: actor.clone(),
                        correlation_id: None,
                        causation_id: None,
                        origin: None,
                        payload: vec![7; 120],
                    }],
                })
                .collect();
            for outcome in log
                .append_many(requests)
                .await
                .expect("the store takes writes")
            {
                outcome.expect("every event is appended");
            }
        }
        println!("wrote {} events", log.head().event_count);
        log.close().await.expect("the store closes");
    });
}

fn run(index: &mut dyn Index, streams: u32, events: u64) {
    let mut rng = Rng(0x5eed);
    let rss_before = status_kib("VmRSS:");
    let order = event_order(streams, events, &mut rng);
    let order_kib = status_kib("VmRSS:") - rss_before;
    let started = Instant::now();
    let mut trace = Vec::new();
    for (offset, &number) in order.iter().enumerate() {
        index.add(&stream_id(number), offset as u64 + 1);
        if (offset + 1) % 1_000_000 == 0 {
            trace.push(format!(
                "{} M: {} MiB",
                (offset + 1) / 1_000_000,
                mib(status_kib("VmRSS:") << 10)
            ));
        }
    }
    let filled = started.elapsed();
    let started = Instant::now();
    index.finish();
    let finished = started.elapsed();
    // The peak so far: the fill's, with the shuffled order (the lookups below hold every id).
    let fill_peak = status_kib("VmHWM:");
    drop(order);
    let rss_after = status_kib("VmRSS:");
    let estimate = index.memory_bytes();
    let ids: Vec<StreamId> = (0..streams).map(stream_id).collect();
    let started = Instant::now();
    let mut held = 0_u64;
    for id in &ids {
        held += index.version(black_box(id));
    }
    let versions = started.elapsed();
    let unknown: Vec<StreamId> = (streams..streams + 200_000).map(stream_id).collect();
    let started = Instant::now();
    for id in &unknown {
        held += index.version(black_box(id));
    }
    let misses = started.elapsed();
    let started = Instant::now();
    let mut paged = 0_usize;
    for id in &ids {
        paged += index.page(black_box(id), 1, 50).len();
    }
    let pages = started.elapsed();
    assert_eq!(held, events, "every event is counted once");
    // After the open: appends to random streams, as the writer makes them. The slowest ones
    // are those that compacted the index (under the write lock, in the store).
    let appended = 1_000_000_usize;
    let mut slow = Vec::new();
    let started = Instant::now();
    for offset in 0..appended {
        let id = &ids[usize::try_from(rng.below(u64::from(streams))).unwrap()];
        let one = Instant::now();
        index.add(id, events + offset as u64 + 1);
        let took = one.elapsed();
        if took.as_millis() >= 10 {
            slow.push(format!("{} ms", took.as_millis()));
        }
    }
    let appending = started.elapsed();
    println!("VmRSS while filling: {}", trace.join(", "));
    println!(
        "{appended} appends after the fill: {} ns each, then an estimate of {} MiB; appends over 10 ms: [{}]",
        per(appending, appended),
        mib(index.memory_bytes() as u64),
        slow.join(", ")
    );
    println!(
        "{} streams, {events} events (shuffle order {} MiB, not counted)",
        ids.len(),
        mib(order_kib << 10)
    );
    println!(
        "estimate {} MiB; resident {} MiB over the baseline (VmRSS {} -> {} MiB); peak while filling {} MiB over the baseline and the order",
        mib(estimate as u64),
        mib((rss_after.saturating_sub(rss_before)) << 10),
        mib(rss_before << 10),
        mib(rss_after << 10),
        mib(fill_peak.saturating_sub(rss_before + order_kib) << 10)
    );
    println!(
        "fill {:.2} s ({} ns an event, with the id's parse), finish {:.2} s",
        filled.as_secs_f64(),
        per(filled, usize::try_from(events).unwrap()),
        finished.as_secs_f64()
    );
    println!(
        "version: {} ns a known stream, {} ns an unknown one; first 50 positions: {} ns a stream ({paged} positions)",
        per(versions, ids.len()),
        per(misses, unknown.len()),
        per(pages, ids.len())
    );
}

fn main() {
    let mut args = std::env::args().skip(1);
    let which = args.next().unwrap_or_default();
    let dir = if which == "write" {
        args.next().map(std::path::PathBuf::from)
    } else {
        None
    };
    let streams = args
        .next()
        .map_or(STREAMS_DEFAULT, |text| text.parse().expect("STREAMS"));
    let events = args
        .next()
        .map_or(EVENTS_DEFAULT, |text| text.parse().expect("EVENTS"));
    match which.as_str() {
        "new" => run(&mut StreamIndexProbe::for_events(events), streams, events),
        "old" => run(&mut OldIndex::default(), streams, events),
        "write" if dir.is_some() => write(&dir.unwrap_or_default(), streams, events),
        _ => eprintln!(
            "usage: stream_index_rss new|old [STREAMS] [EVENTS], or write DATA_DIR [STREAMS] [EVENTS]"
        ),
    }
}
