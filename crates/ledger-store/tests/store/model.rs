//! Model-based property test: random appends over a few streams with right and stale expected
//! versions, retried and half-retried event ids, `append_many` batches and reopenings, checked
//! step by step against a simple in-memory model of the log.

use std::collections::HashMap;
use std::path::Path;

use ledger_domain::ids::{EventId, Position};
use ledger_store::{
    AppendError, AppendRequest, Appended, EventLog, ExpectedVersion, NewEvent, SledEventLog,
};
use proptest::prelude::*;

use crate::common::{assert_verifies, event, open, read_everything, stream};

const STREAMS: [&str; 3] = ["customer-a", "customer-b", "policy-c"];

/// How an operation picks its expected version, resolved against the model's current state.
#[derive(Debug, Clone, Copy)]
enum Expect {
    Any,
    Right,
    NoStream,
    /// The right version plus this offset (never the right one).
    Stale(i8),
}

#[derive(Debug, Clone)]
enum Op {
    /// A fresh request of `events` new events.
    Append {
        stream: usize,
        expect: Expect,
        events: usize,
    },
    /// Resend an earlier request (its events and stream) with a new expected version.
    Retry {
        earlier: prop::sample::Index,
        expect: Expect,
    },
    /// An earlier request's first event followed by a new one.
    HalfRetry { earlier: prop::sample::Index },
    /// Several fresh requests (and a retry) through `append_many`.
    Many {
        appends: Vec<(usize, Expect, usize)>,
        retry: Option<prop::sample::Index>,
    },
    /// Close the store and open it again.
    Reopen,
}

fn expect() -> impl Strategy<Value = Expect> {
    prop_oneof![
        2 => Just(Expect::Right),
        1 => Just(Expect::Any),
        1 => Just(Expect::NoStream),
        1 => prop_oneof![Just(-1_i8), Just(1), Just(2)].prop_map(Expect::Stale),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (0..STREAMS.len(), expect(), 1..4_usize).prop_map(|(stream, expect, events)| Op::Append { stream, expect, events }),
        2 => (any::<prop::sample::Index>(), expect()).prop_map(|(earlier, expect)| Op::Retry { earlier, expect }),
        1 => any::<prop::sample::Index>().prop_map(|earlier| Op::HalfRetry { earlier }),
        2 => (prop::collection::vec((0..STREAMS.len(), expect(), 1..3_usize), 1..5), any::<Option<prop::sample::Index>>())
            .prop_map(|(appends, retry)| Op::Many { appends, retry }),
        1 => Just(Op::Reopen),
    ]
}

/// The model: the log as a list of (stream index, event), and what each id maps to.
#[derive(Default)]
struct Model {
    records: Vec<(usize, NewEvent)>,
    positions: HashMap<EventId, u64>,
    streams: [Vec<u64>; 3],
    /// Every request sent so far (stream index, events), for retries.
    sent: Vec<(usize, Vec<NewEvent>)>,
}

/// The outcome the model predicts: an append, a conflict's actual version, or invalid.
#[derive(Debug, PartialEq, Eq)]
enum Predicted {
    Appended(Appended),
    Conflict(u64),
    Invalid,
}

impl Model {
    fn version(&self, stream: usize) -> u64 {
        self.streams[stream].len() as u64
    }

    fn resolve(&self, stream: usize, expect: Expect) -> ExpectedVersion {
        let version = self.version(stream);
        match expect {
            Expect::Any => ExpectedVersion::Any,
            Expect::Right => ExpectedVersion::Exact(version),
            Expect::NoStream => ExpectedVersion::NoStream,
            Expect::Stale(offset) => {
                ExpectedVersion::Exact(version.saturating_add_signed(i64::from(offset)).max(
                    // Never the right version: below zero saturates to 0, so step past it.
                    if version == 0 { 1 } else { 0 },
                ))
            }
        }
    }

    fn apply(
        &mut self,
        stream: usize,
        expected: ExpectedVersion,
        events: &[NewEvent],
    ) -> Predicted {
        self.sent.push((stream, events.to_vec()));
        let known: Vec<Option<u64>> = events
            .iter()
            .map(|event| self.positions.get(&event.event_id).copied())
            .collect();
        if known.iter().all(Option::is_some) {
            let positions: Vec<u64> = known.into_iter().flatten().collect();
            let list = &self.streams[stream];
            let start = list.iter().position(|&position| position == positions[0]);
            return match start {
                Some(start)
                    if list.get(start..start + positions.len()) == Some(positions.as_slice()) =>
                {
                    Predicted::Appended(Appended {
                        first_position: Position(positions[0]),
                        last_position: Position(*positions.last().unwrap()),
                        stream_version: (start + positions.len()) as u64,
                        duplicate: true,
                    })
                }
                _ => Predicted::Invalid,
            };
        }
        if known.iter().any(Option::is_some) {
            return Predicted::Invalid;
        }
        let actual = self.version(stream);
        if !expected.admits(actual) {
            return Predicted::Conflict(actual);
        }
        let first = self.records.len() as u64 + 1;
        for event in events {
            self.records.push((stream, event.clone()));
            let position = self.records.len() as u64;
            self.positions.insert(event.event_id, position);
            self.streams[stream].push(position);
        }
        Predicted::Appended(Appended {
            first_position: Position(first),
            last_position: Position(self.records.len() as u64),
            stream_version: self.version(stream),
            duplicate: false,
        })
    }
}

fn observed(outcome: Result<Appended, AppendError>) -> Predicted {
    match outcome {
        Ok(appended) => Predicted::Appended(appended),
        Err(AppendError::Conflict { actual, .. }) => Predicted::Conflict(actual),
        Err(AppendError::Invalid { .. }) => Predicted::Invalid,
        Err(AppendError::Unavailable(failure)) => panic!("the store failed: {failure}"),
    }
}

fn fresh_events(count: usize, seed: &mut u64) -> Vec<NewEvent> {
    (0..count)
        .map(|_| {
            *seed += 1;
            event(*seed, (usize::try_from(*seed).unwrap() * 37) % 200)
        })
        .collect()
}

fn pick<'a>(model: &'a Model, index: &prop::sample::Index) -> Option<&'a (usize, Vec<NewEvent>)> {
    (!model.sent.is_empty()).then(|| index.get(&model.sent))
}

/// The store's whole content equals the model's.
fn check_contents(log: &SledEventLog, model: &Model) {
    let records = read_everything(log);
    assert_eq!(records.len(), model.records.len());
    for (record, (stream_index, event)) in records.iter().zip(&model.records) {
        assert_eq!(&record.event, event);
        assert_eq!(record.stream, stream(STREAMS[*stream_index]));
    }
    for (index, name) in STREAMS.iter().enumerate() {
        let read = log.read_stream(&stream(name), 1, 1000).unwrap();
        let positions: Vec<u64> = read.iter().map(|record| record.position.get()).collect();
        assert_eq!(positions, model.streams[index]);
        assert!(
            read.iter()
                .zip(1..)
                .all(|(record, version)| record.stream_version == version)
        );
        assert_eq!(log.stream_version(&stream(name)), model.version(index));
    }
    for (&event_id, &position) in &model.positions {
        assert_eq!(log.position_of(event_id), Some(Position(position)));
    }
    assert_eq!(log.head().position, Position(model.records.len() as u64));
    assert_verifies(log);
}

async fn run(dir: &Path, ops: Vec<Op>) {
    let mut log = open(dir);
    let mut model = Model::default();
    let mut seed = 0_u64;
    for op in ops {
        match op {
            Op::Append {
                stream: index,
                expect,
                events,
            } => {
                let events = fresh_events(events, &mut seed);
                let expected = model.resolve(index, expect);
                let predicted = model.apply(index, expected, &events);
                let outcome = log
                    .append(AppendRequest {
                        stream: stream(STREAMS[index]),
                        expected,
                        events,
                    })
                    .await;
                assert_eq!(observed(outcome), predicted);
            }
            Op::Retry { earlier, expect } => {
                let Some((index, events)) = pick(&model, &earlier).cloned() else {
                    continue;
                };
                let expected = model.resolve(index, expect);
                let predicted = model.apply(index, expected, &events);
                let outcome = log
                    .append(AppendRequest {
                        stream: stream(STREAMS[index]),
                        expected,
                        events,
                    })
                    .await;
                assert_eq!(observed(outcome), predicted);
            }
            Op::HalfRetry { earlier } => {
                let Some((index, events)) = pick(&model, &earlier).cloned() else {
                    continue;
                };
                let mut events = events[..1].to_vec();
                events.extend(fresh_events(1, &mut seed));
                let predicted = model.apply(index, ExpectedVersion::Any, &events);
                let outcome = log
                    .append(AppendRequest {
                        stream: stream(STREAMS[index]),
                        expected: ExpectedVersion::Any,
                        events,
                    })
                    .await;
                assert_eq!(observed(outcome), predicted);
            }
            Op::Many { appends, retry } => {
                let mut requests = Vec::new();
                let mut predicted = Vec::new();
                let retried = retry.and_then(|retry| pick(&model, &retry).cloned());
                for (index, expect, count) in appends {
                    let events = fresh_events(count, &mut seed);
                    let expected = model.resolve(index, expect);
                    predicted.push(model.apply(index, expected, &events));
                    requests.push(AppendRequest {
                        stream: stream(STREAMS[index]),
                        expected,
                        events,
                    });
                }
                if let Some((index, events)) = retried {
                    predicted.push(model.apply(index, ExpectedVersion::Any, &events));
                    requests.push(AppendRequest {
                        stream: stream(STREAMS[index]),
                        expected: ExpectedVersion::Any,
                        events,
                    });
                }
                let outcomes = log.append_many(requests).await.unwrap();
                assert_eq!(
                    outcomes.into_iter().map(observed).collect::<Vec<_>>(),
                    predicted
                );
            }
            Op::Reopen => {
                log.close().await.unwrap();
                drop(log);
                log = open(dir);
                check_contents(&log, &model);
            }
        }
    }
    check_contents(&log, &model);
    log.close().await.unwrap();
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn the_store_behaves_like_the_model(ops in prop::collection::vec(op(), 1..40)) {
        let dir = tempfile::tempdir().unwrap();
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(run(dir.path(), ops));
    }
}
