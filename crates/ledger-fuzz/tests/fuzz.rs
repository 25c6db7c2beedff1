//! Runs every fuzz target over its committed corpus, then over seeded mutations of it. In
//! `make test` a short burst (`FUZZ_EXECUTIONS` per target, 20,000 by default); `make fuzz`
//! sets `FUZZ_SECONDS` to run each target that long. A panicking input is written to
//! `$CARGO_TARGET_TMPDIR/fuzz-crashes/<target>-<n>` and fails the test, naming the file.
//! `FUZZ_SEED` replays a run (the seed is printed).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use ledger_fuzz::{Rng, TARGETS, Target, mutate, mutate_json, run_one};

const EXECUTIONS_DEFAULT: u64 = 20_000;

fn corpus(target: &Target) -> Vec<Vec<u8>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("corpus")
        .join(target.name);
    if target.name == "record_codec" && std::env::var_os("FUZZ_WRITE_CORPUS").is_some() {
        for (index, seed) in record_codec_seeds().iter().enumerate() {
            std::fs::write(dir.join(format!("{index:03}")), seed).expect("a seed writes");
        }
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|error| panic!("{}: {error}", dir.display()))
        .map(|entry| entry.expect("a corpus entry").path())
        .collect();
    files.sort();
    files
        .iter()
        .map(|file| std::fs::read(file).expect("a corpus file reads"))
        .collect()
}

/// Stored values as the store writes them, made from a few sample records: the record codec's
/// seeds. `FUZZ_WRITE_CORPUS=1` writes them into its committed corpus.
fn record_codec_seeds() -> Vec<Vec<u8>> {
    use ledger_domain::ids::{EventId, Position, StaffId, StreamId};
    use ledger_store::{GENESIS_HASH, NewEvent, RecordedEvent};
    let records: Vec<RecordedEvent> = (1..=3_u64)
        .map(|position| RecordedEvent {
            position: Position(position),
            stream: StreamId::parse("stream", "customer-0190a5e2-8c3b-7d4e-9f00-1234567890ab")
                .expect("a stream"),
            stream_version: position,
            recorded_at: jiff::Timestamp::from_second(1_750_000_000).expect("an instant"),
            prev_hash: GENESIS_HASH,
            hash: GENESIS_HASH,
            event: NewEvent {
                event_id: EventId::parse("eventId", "0190a5e2-8c3b-7d4e-9f00-1234567890ab")
                    .expect("an id"),
                event_type: "ContactRecorded".into(),
                schema_version: 1,
                occurred_at: jiff::Timestamp::from_second(1_700_000_000).expect("an instant"),
                actor: StaffId::parse("actor", "agent-0042").expect("a staff id"),
                correlation_id: None,
                causation_id: None,
                origin: Some("telephony".into()),
                payload: vec![u8::try_from(position).expect("small"); 40],
            },
        })
        .collect();
    let mut seeds = ledger_store::testing::encode_stored_values(&records);
    seeds.extend(ledger_store::testing::encode_stored_values(&records[..1]));
    seeds
}

fn save_crash(target: &Target, index: usize, input: &[u8]) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("fuzz-crashes");
    std::fs::create_dir_all(&dir).expect("the crash directory");
    let file = dir.join(format!("{}-{index}", target.name));
    std::fs::write(&file, input).expect("the crash input is saved");
    file
}

#[test]
fn every_target_survives_its_corpus_and_mutations_of_it() {
    let seconds: Option<u64> = std::env::var("FUZZ_SECONDS")
        .ok()
        .and_then(|seconds| seconds.parse().ok());
    let executions: u64 = std::env::var("FUZZ_EXECUTIONS")
        .ok()
        .and_then(|count| count.parse().ok())
        .unwrap_or(EXECUTIONS_DEFAULT);
    let seed = std::env::var("FUZZ_SEED")
        .ok()
        .and_then(|seed| seed.parse().ok())
        .unwrap_or_else(|| {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .expect("after 1970");
            now.as_secs() << 32 ^ u64::from(now.subsec_nanos())
        });
    println!("fuzz: seed {seed}");
    // Expected panics are caught; keep the default hook from printing each one.
    std::panic::set_hook(Box::new(|_| {}));
    let mut crashes = Vec::new();
    for target in &TARGETS {
        let corpus = corpus(target);
        assert!(!corpus.is_empty(), "{}: an empty corpus", target.name);
        let mut rng = Rng::new(seed ^ target.name.len() as u64);
        let started = Instant::now();
        let mut done = 0_u64;
        for input in &corpus {
            if let Err(message) = run_one(target, input) {
                crashes.push(format!("{}: corpus input panics: {message}", target.name));
            }
            done += 1;
        }
        let keep_going = |done: u64| match seconds {
            Some(seconds) => started.elapsed() < Duration::from_secs(seconds),
            None => done < executions,
        };
        while keep_going(done) {
            let input = &corpus[rng.below(corpus.len())];
            let other = &corpus[rng.below(corpus.len())];
            // Half of the NDJSON target's inputs keep their JSON shape and change one value,
            // so they get past the JSON parser into the field validators.
            let structured = (target.name == "ndjson_line" && rng.below(2) == 0)
                .then(|| mutate_json(input, &mut rng))
                .flatten();
            let mutated = structured.unwrap_or_else(|| mutate(input, other, &mut rng));
            if let Err(message) = run_one(target, &mutated) {
                let file = save_crash(target, crashes.len(), &mutated);
                crashes.push(format!(
                    "{}: {message} (input saved to {})",
                    target.name,
                    file.display()
                ));
            }
            done += 1;
        }
        println!(
            "fuzz {}: {done} executions in {:?}, {} corpus inputs",
            target.name,
            started.elapsed(),
            corpus.len()
        );
    }
    let _ = std::panic::take_hook();
    assert!(crashes.is_empty(), "{}", crashes.join("\n"));
}
