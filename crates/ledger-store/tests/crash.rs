//! The crash test: a child process appends concurrently and prints every acknowledged event;
//! the parent SIGKILLs it at a random moment, reopens the store and checks that every
//! acknowledged event is there at its position, positions are contiguous and `verify` passes.
//! `SOAK_CYCLES` raises the number of cycles (`make soak` runs 1,000).

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use ledger_domain::ids::Position;
use ledger_store::{EventLog, SledEventLog, StoreOptions};

const CYCLES_DEFAULT: usize = 50;
/// Concurrent appending tasks in the child.
const CHILD_TASKS: usize = 8;
/// Soak runs start a fresh directory every this many cycles, so reopening (which reads the
/// whole log) stays quick; `cargo test` runs all its cycles in one directory.
const CYCLES_PER_DIRECTORY: usize = 100;

/// A small deterministic generator (xorshift), seeded per run and printed, for kill delays.
struct Rng(u64);

impl Rng {
    fn below(&mut self, bound: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % bound
    }
}

/// One acknowledged event as the child printed it.
#[derive(Debug)]
struct Ack {
    position: u64,
    event_id: String,
    stream: String,
    version: u64,
}

fn parse(line: &str) -> Option<Ack> {
    let mut parts = line.split(' ');
    (parts.next()? == "ack").then_some(())?;
    Some(Ack {
        position: parts.next()?.parse().ok()?,
        event_id: parts.next()?.to_owned(),
        stream: parts.next()?.to_owned(),
        version: parts.next()?.parse().ok()?,
    })
}

/// Runs the child for `delay`, kills it, and returns the lines it printed.
fn run_child(dir: &Path, delay: Duration) -> Vec<String> {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ledger-store-crash-child"))
        .arg(dir)
        .arg(CHILD_TASKS.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the crash child starts");
    let stdout = child.stdout.take().expect("a piped stdout");
    let reader = std::thread::spawn(move || {
        BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
            .collect::<Vec<_>>()
    });
    std::thread::sleep(delay);
    child.kill().expect("SIGKILL");
    child.wait().expect("the child is reaped");
    reader.join().expect("the reader thread")
}

/// Reopens the store and checks every acknowledgement against it.
fn check_after_crash(dir: &Path, lines: &[String], cycle: usize) -> u64 {
    let errors: Vec<&String> = lines
        .iter()
        .filter(|line| line.starts_with("error"))
        .collect();
    assert!(
        errors.is_empty(),
        "cycle {cycle}: the child reported errors: {errors:?}"
    );
    let acks: Vec<Ack> = lines.iter().filter_map(|line| parse(line)).collect();
    let log = SledEventLog::open(dir, StoreOptions::default()).unwrap_or_else(|error| {
        panic!("cycle {cycle}: the store must reopen after a crash: {error}")
    });
    let head = log.head().position.get();
    for ack in &acks {
        assert!(
            ack.position <= head,
            "cycle {cycle}: acknowledged position {} is past the head {head}",
            ack.position
        );
        let records = log.read_all(Position(ack.position), 1).unwrap();
        let record = &records[0];
        assert_eq!(
            record.event.event_id.to_string(),
            ack.event_id,
            "cycle {cycle}: position {}",
            ack.position
        );
        assert_eq!(record.stream.as_str(), ack.stream);
        assert_eq!(record.stream_version, ack.version);
    }
    let report = log.verify();
    assert!(
        report.ok,
        "cycle {cycle}: verify found problems: {:#?}",
        report.problems
    );
    assert_eq!(report.head, log.head(), "cycle {cycle}");
    acks.len() as u64
}

#[test]
fn every_acknowledged_append_survives_a_sigkill() {
    let cycles = std::env::var("SOAK_CYCLES")
        .ok()
        .and_then(|cycles| cycles.parse().ok())
        .unwrap_or(CYCLES_DEFAULT);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    let seed = (now.as_secs() << 32 ^ u64::from(now.subsec_nanos())) | 1;
    println!("crash test: {cycles} cycles, seed {seed}");
    let mut rng = Rng(seed);
    let base = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let mut acknowledged = 0;
    for cycle in 0..cycles {
        let dir = base
            .path()
            .join(format!("store-{}", cycle / CYCLES_PER_DIRECTORY));
        let delay = Duration::from_millis(20 + rng.below(281));
        let lines = run_child(&dir, delay);
        acknowledged += check_after_crash(&dir, &lines, cycle);
    }
    println!(
        "crash test: {acknowledged} acknowledged events checked in {:?}",
        started.elapsed()
    );
    assert!(
        acknowledged > 0,
        "the child never got an append acknowledged"
    );
}

/// A process killed while sled writes a snapshot leaves a partial `snap.N.generating` beside
/// the log; the store still opens, with every acknowledged append (sled 0.34.7 read that file
/// as the newest snapshot and refused to open: `crates/sled/PATCHED.md`, change 5).
#[test]
fn a_snapshot_cut_off_while_being_written_does_not_stop_the_store_opening() {
    let base = tempfile::tempdir().unwrap();
    let dir = base.path().join("store");
    let lines = run_child(&dir, Duration::from_millis(300));
    // What a kill partway through writing snapshot N leaves: the file's first bytes, not its
    // checksum. Its number sorts after every snapshot written so far.
    std::fs::write(
        dir.join("log").join("snap.FFFFFFFFFFFFFFFF.generating"),
        [0x5a_u8; 64],
    )
    .unwrap();
    let acknowledged = check_after_crash(&dir, &lines, 0);
    assert!(
        acknowledged > 0,
        "the child never got an append acknowledged"
    );
}
