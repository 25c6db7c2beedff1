//! Power-cut emulation: un-fsynced data must not be relied on. LazyFS cannot be built here, so
//! the test plays the page cache itself: after each acknowledged append (the writer has
//! `fdatasync`ed, then answered) it snapshots the store's files, which is then what a disk
//! holds for certain. A "cut" between acknowledgement `k` and `k + 1` restores snapshot `k`
//! exactly (every later write lost), or a torn variant: each file keeps snapshot `k` except a
//! random prefix of the bytes written after it (the part of the later, unsynced writes that
//! reached the platter). After each cut the store must either open holding every event
//! acknowledged up to `k` and nothing but the written history, or refuse to open with an
//! error naming what is damaged. The counts of each are printed.
//!
//! One approximation: sled's own flusher thread may write between an acknowledgement and the
//! snapshot, so a snapshot can hold a few bytes no sync covered yet. That makes a cut milder,
//! never stricter, than a real one at that instant.
//!
//! `POWER_CUT_ROUNDS` sets the rounds (3 by default, 12 cuts each; `make soak` runs 100) and
//! `POWER_CUT_SEED` replays a run.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

mod support;

use ledger_domain::ids::{Position, StreamId};
use ledger_store::testing::contact_event;
use ledger_store::{AppendRequest, EventLog, ExpectedVersion, Hash, NewEvent, SledEventLog};

use support::{Rng, count_from_env, options, seed_from_env};

const ROUNDS_DEFAULT: usize = 3;
/// Acknowledged appends per round, each followed by a snapshot.
const APPENDS_PER_ROUND: u64 = 24;
/// Cuts tried per round, each at a random acknowledgement, exact and torn.
const CUTS_PER_ROUND: usize = 6;
/// Payloads up to this size: the large ones go to sled's separate blob files.
const PAYLOAD_BYTES_MAX: u64 = 40_000;

fn event(rng: &mut Rng) -> NewEvent {
    let length = usize::try_from(1 + rng.below(PAYLOAD_BYTES_MAX)).expect("small");
    let fill = rng.next_u64();
    NewEvent {
        origin: None,
        ..contact_event(
            (0..length)
                .map(|index| u8::try_from((fill + index as u64) % 251).unwrap_or(0))
                .collect(),
        )
    }
}

/// The store's files at one moment: relative path → bytes.
type Files = BTreeMap<PathBuf, Vec<u8>>;

/// What one round recorded: a snapshot after each acknowledgement, the head position each
/// acknowledgement reached, and every record's hash as written.
struct Round {
    snapshots: Vec<Files>,
    heads: Vec<u64>,
    written: Vec<Hash>,
}

/// Every file under `dir` (relative path → bytes).
fn files(dir: &Path) -> Files {
    fn walk(root: &Path, dir: &Path, into: &mut BTreeMap<PathBuf, Vec<u8>>) {
        for entry in std::fs::read_dir(dir).expect("a directory") {
            let path = entry.expect("an entry").path();
            if path.is_dir() {
                walk(root, &path, into);
            } else {
                let relative = path.strip_prefix(root).expect("under root").to_owned();
                into.insert(relative, std::fs::read(&path).expect("a file reads"));
            }
        }
    }
    let mut into = BTreeMap::new();
    walk(dir, dir, &mut into);
    into
}

fn write_files(dir: &Path, contents: &Files) {
    if dir.exists() {
        std::fs::remove_dir_all(dir).expect("the last cut is removed");
    }
    for (relative, bytes) in contents {
        let path = dir.join(relative);
        std::fs::create_dir_all(path.parent().expect("a parent")).expect("directories");
        std::fs::write(&path, bytes).expect("a file writes");
    }
}

/// Snapshot `synced` with a random prefix of what was written after it, per file.
fn torn(synced: &Files, later: &Files, rng: &mut Rng) -> Files {
    let mut result = synced.clone();
    for (relative, new) in later {
        let old = synced.get(relative).map(Vec::as_slice).unwrap_or_default();
        let first_difference = old
            .iter()
            .zip(new)
            .position(|(a, b)| a != b)
            .unwrap_or(old.len().min(new.len()));
        let end = old.len().max(new.len());
        let cut = first_difference
            + usize::try_from(rng.below(u64::try_from(end - first_difference).expect("small") + 1))
                .expect("small");
        let mut bytes = new[..cut.min(new.len())].to_vec();
        if cut < old.len() {
            bytes.extend_from_slice(&old[cut..]);
        }
        if bytes.is_empty() && old.is_empty() {
            // A file created after the sync whose bytes never reached the disk.
            result.remove(relative);
        } else {
            result.insert(relative.clone(), bytes);
        }
    }
    result
}

/// One round: appends with a snapshot after each acknowledgement; returns the snapshots, the
/// head position after each acknowledgement, and every record's hash as written.
fn record_round(dir: &Path, rng: &mut Rng) -> Round {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(async {
        let log = SledEventLog::open(dir, options()).expect("a new store opens");
        let (mut snapshots, mut heads) = (Vec::new(), Vec::new());
        for round in 0..APPENDS_PER_ROUND {
            let stream =
                StreamId::parse("stream", &format!("customer-{}", round % 3)).expect("a stream");
            let events = (0..1 + rng.below(6)).map(|_| event(rng)).collect();
            let appended = log
                .append(AppendRequest {
                    stream,
                    expected: ExpectedVersion::Any,
                    events,
                })
                .await
                .expect("an append");
            heads.push(appended.last_position.get());
            snapshots.push(files(dir));
        }
        let mut written = Vec::new();
        loop {
            let from = Position(u64::try_from(written.len()).expect("small") + 1);
            let page = log
                .read_all(from, ledger_store::limits::READ_PAGE_MAX)
                .expect("the store reads");
            if page.is_empty() {
                break;
            }
            written.extend(page.into_iter().map(|record| record.hash));
        }
        // The last snapshot is the "later" state every cut tears from; the log is not closed,
        // so nothing more is tidied up than a crash would.
        std::mem::forget(log);
        Round {
            snapshots,
            heads,
            written,
        }
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Verdict {
    /// Opened with every acknowledged event, serving a prefix of the written history.
    Recovered,
    /// Refused to open with an error naming the damage.
    Refused,
}

fn judge(dir: &Path, acknowledged: u64, written: &[Hash], context: &str) -> Verdict {
    let log = match SledEventLog::open(dir, options()) {
        Ok(log) => log,
        Err(error) => {
            let message = error.to_string();
            assert!(
                message.len() > 10,
                "{context}: an unclear refusal: {message:?}"
            );
            return Verdict::Refused;
        }
    };
    let head = log.head().position.get();
    assert!(
        head >= acknowledged,
        "{context}: acknowledged up to {acknowledged}, recovered only {head}"
    );
    let mut served: Vec<Hash> = Vec::new();
    loop {
        let from = Position(u64::try_from(served.len()).expect("small") + 1);
        let page = log
            .read_all(from, ledger_store::limits::READ_PAGE_MAX)
            .expect("an opened store reads");
        if page.is_empty() {
            break;
        }
        served.extend(page.into_iter().map(|record| record.hash));
    }
    assert!(
        served.len() <= written.len() && served[..] == written[..served.len()],
        "{context}: the store serves a different history"
    );
    let report = log.verify();
    assert!(report.ok, "{context}: {:?}", report.problems);
    drop(log);
    Verdict::Recovered
}

#[test]
fn after_a_power_cut_every_acknowledged_event_is_there_or_the_store_refuses() {
    let rounds = count_from_env("POWER_CUT_ROUNDS", ROUNDS_DEFAULT);
    let seed = seed_from_env("POWER_CUT_SEED");
    println!("power-cut emulation: {rounds} rounds, seed {seed}");
    let mut rng = Rng(seed | 1);
    let scratch = tempfile::tempdir().expect("scratch");
    let mut verdicts: BTreeMap<(&str, Verdict), usize> = BTreeMap::new();
    for round in 0..rounds {
        let live = scratch.path().join(format!("live-{round}"));
        let Round {
            snapshots,
            heads,
            written,
        } = record_round(&live, &mut rng);
        let last = snapshots.last().expect("snapshots");
        for cut in 0..CUTS_PER_ROUND {
            let index =
                usize::try_from(rng.below(u64::try_from(snapshots.len() - 1).expect("small")))
                    .expect("small");
            let acknowledged = heads[index];
            let target = scratch.path().join("cut");
            for (kind, contents) in [
                ("exact", snapshots[index].clone()),
                ("torn", torn(&snapshots[index], last, &mut rng)),
            ] {
                write_files(&target, &contents);
                let context = format!(
                    "round {round} cut {cut} ({kind}, after ack of {acknowledged}, seed {seed})"
                );
                let verdict = judge(&target, acknowledged, &written, &context);
                if kind == "exact" {
                    assert_eq!(
                        verdict,
                        Verdict::Recovered,
                        "{context}: a synced state must open"
                    );
                }
                *verdicts.entry((kind, verdict)).or_default() += 1;
            }
        }
        std::fs::remove_dir_all(&live).expect("the round's store is removed");
    }
    println!(
        "power-cut emulation: {rounds} rounds x {CUTS_PER_ROUND} cuts, outcomes {verdicts:?}, 0 acknowledged lost, 0 different histories"
    );
}
