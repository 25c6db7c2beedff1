//! The corruption sweep (CORDS-style): a closed store's files are damaged at random places —
//! bytes flipped, a sector zeroed, a file truncated — many times over, from one pristine store.
//! After each, the store must either refuse to open with a clear error, or open and serve
//! exactly the history that was written (the damage hit bytes nothing reads), or `verify` must
//! name the damaged position. It must never serve a record that differs from what was written,
//! nor silently fewer records: sled drops everything after a message it cannot read, and the
//! head mark (`log-head`, see the store's `head_mark.rs`) turns that into a refusal naming the
//! first missing position. sled's own panics while recovering are refusals too (`open` turns
//! them into `OpenError::Sled`); the test fails if one escapes.
//!
//! `CORRUPTION_ITERATIONS` sets the number of iterations (150 by default, `make soak` runs
//! 3,000) and `CORRUPTION_SEED` replays a run (the seed is printed).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

mod support;

use ledger_domain::ids::{Position, StreamId};
use ledger_store::testing::contact_event;
use ledger_store::{AppendRequest, EventLog, ExpectedVersion, Hash, NewEvent, SledEventLog};

use support::{Rng, count_from_env, options, seed_from_env};

const ITERATIONS_DEFAULT: usize = 150;
/// Events in the pristine store, appended in groups of up to `GROUP_EVENTS` so it holds many
/// chunks and sled pages.
const EVENTS: u64 = 600;
const GROUP_EVENTS: u64 = 12;
/// The bytes zeroed by the "lost sector" damage.
const SECTOR_BYTES: u64 = 512;

fn event(seed: u64) -> NewEvent {
    // Payloads of 40 bytes to ~6 KiB: small records share chunks, large ones span sled pages.
    let length = usize::try_from(40 + (seed * 7919) % 6000).expect("small");
    contact_event(
        (0..length)
            .map(|index| u8::try_from((seed + index as u64) % 251).unwrap_or(0))
            .collect(),
    )
}

/// Writes the pristine store and returns each position's hash as written.
fn pristine_store(dir: &Path) -> Vec<Hash> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    runtime.block_on(async {
        let log = SledEventLog::open(dir, options()).expect("a new store opens");
        let mut written = 0;
        while written < EVENTS {
            let group = GROUP_EVENTS.min(EVENTS - written);
            let stream = StreamId::parse("stream", &format!("customer-{}", written % 7))
                .expect("a stream id");
            let events = (written..written + group).map(event).collect();
            log.append(AppendRequest {
                stream,
                expected: ExpectedVersion::Any,
                events,
            })
            .await
            .expect("the pristine store appends");
            written += group;
        }
        let hashes = served_hashes(&log).expect("the pristine store reads");
        log.close().await.expect("the pristine store closes");
        hashes
    })
}

/// Every record's hash the store serves, in position order.
fn served_hashes(log: &SledEventLog) -> Result<Vec<Hash>, String> {
    let mut hashes = Vec::new();
    loop {
        let from = Position(u64::try_from(hashes.len()).expect("small") + 1);
        let page = log
            .read_all(from, ledger_store::limits::READ_PAGE_MAX)
            .map_err(|error| error.to_string())?;
        if page.is_empty() {
            return Ok(hashes);
        }
        for record in page {
            assert_eq!(
                record.position,
                from_index(hashes.len()),
                "positions are gapless"
            );
            hashes.push(record.hash);
        }
    }
}

fn from_index(index: usize) -> Position {
    Position(u64::try_from(index).expect("small") + 1)
}

fn files_under(dir: &Path) -> Vec<(PathBuf, u64)> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).expect("the store's directory") {
        let entry = entry.expect("a directory entry");
        let metadata = entry.metadata().expect("metadata");
        if metadata.is_dir() {
            files.extend(files_under(&entry.path()));
        } else if metadata.len() > 0 {
            files.push((entry.path(), metadata.len()));
        }
    }
    files.sort();
    files
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("a copy directory");
    for entry in std::fs::read_dir(from).expect("a directory") {
        let entry = entry.expect("an entry");
        let target = to.join(entry.file_name());
        if entry.metadata().expect("metadata").is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("a file copies");
        }
    }
}

/// One kind of damage, as applied (for the report and for replaying a failure).
#[derive(Debug)]
enum Damage {
    FlipBytes { file: PathBuf, offsets: Vec<u64> },
    ZeroSector { file: PathBuf, offset: u64 },
    Truncate { file: PathBuf, length: u64 },
}

impl Damage {
    fn describe(&self) -> String {
        match self {
            Self::FlipBytes { file, offsets } => {
                format!("{} bytes {offsets:?} flipped", file.display())
            }
            Self::ZeroSector { file, offset } => format!("{} zeroed from {offset}", file.display()),
            Self::Truncate { file, length } => format!("{} truncated to {length}", file.display()),
        }
    }
}

/// Damages one file of the copy at `dir`, chosen with probability by size (so the data file,
/// where the records are, gets most of the damage; small files some of it).
fn damage(dir: &Path, rng: &mut Rng) -> Damage {
    let files = files_under(dir);
    let total: u64 = files.iter().map(|(_, size)| size.min(&(1 << 20))).sum();
    let mut pick = rng.below(total);
    let (file, size) = files
        .iter()
        .find(|(_, size)| {
            let weight = *size.min(&(1 << 20));
            if pick < weight {
                return true;
            }
            pick -= weight;
            false
        })
        .cloned()
        .unwrap_or_else(|| files[0].clone());
    let mut bytes = std::fs::read(&file).expect("the file reads");
    let damage = match rng.below(3) {
        0 => {
            let offsets: Vec<u64> = (0..1 + rng.below(4)).map(|_| rng.below(size)).collect();
            for offset in &offsets {
                let flip = u8::try_from(1 + rng.below(255)).expect("a byte");
                bytes[usize::try_from(*offset).expect("small")] ^= flip;
            }
            Damage::FlipBytes { file, offsets }
        }
        1 => {
            let offset = rng.below(size);
            let end = (offset + SECTOR_BYTES).min(size);
            for byte in &mut bytes
                [usize::try_from(offset).expect("small")..usize::try_from(end).expect("small")]
            {
                *byte = 0;
            }
            Damage::ZeroSector { file, offset }
        }
        _ => {
            let length = rng.below(size);
            bytes.truncate(usize::try_from(length).expect("small"));
            Damage::Truncate { file, length }
        }
    };
    let path = match &damage {
        Damage::FlipBytes { file, .. }
        | Damage::ZeroSector { file, .. }
        | Damage::Truncate { file, .. } => file,
    };
    std::fs::write(path, bytes).expect("the damaged file writes");
    damage
}

/// What the store did with one damaged copy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Verdict {
    /// `open` returned an error (its message is checked to be non-empty and specific).
    RefusedToOpen,
    /// It opened, and `verify` named the damaged position(s).
    VerifyNamedDamage,
    /// It opened and served exactly the history written (the damage hit unused bytes).
    Identical,
    /// It opened but a read failed with an error (the read re-checks each record's hash).
    ReadRefused,
}

fn judge(dir: &Path, written: &[Hash], damage: &Damage) -> Verdict {
    let what = damage.describe();
    let log = match SledEventLog::open(dir, options()) {
        Ok(log) => log,
        Err(error) => {
            let message = error.to_string();
            assert!(message.len() > 10, "{what}: an unclear error: {message:?}");
            return Verdict::RefusedToOpen;
        }
    };
    let report = log.verify();
    if !report.ok {
        assert!(
            report
                .problems
                .iter()
                .all(|problem| !problem.message.is_empty()),
            "{what}: {:?}",
            report.problems
        );
        return Verdict::VerifyNamedDamage;
    }
    let served = match served_hashes(&log) {
        Ok(served) => served,
        Err(message) => {
            assert!(!message.is_empty(), "{what}");
            return Verdict::ReadRefused;
        }
    };
    // Never a different history: every record it serves is the one written at that position.
    assert!(
        served.len() <= written.len() && served[..] == written[..served.len()],
        "{what}: the damaged store serves a different history ({} records)",
        served.len()
    );
    assert_eq!(
        log.head().position,
        Position(u64::try_from(served.len()).expect("small")),
        "{what}: the head is the last record served"
    );
    assert_eq!(
        served.len(),
        written.len(),
        "{what}: the damaged store opened silently with fewer records"
    );
    Verdict::Identical
}

#[test]
fn a_damaged_store_refuses_or_serves_only_what_was_written() {
    let iterations = count_from_env("CORRUPTION_ITERATIONS", ITERATIONS_DEFAULT);
    let seed = seed_from_env("CORRUPTION_SEED");
    println!("corruption sweep: {iterations} iterations, seed {seed}");
    // sled panics on some damaged files while recovering, and `open` reports that as an error;
    // its panic messages would only bury the report, so they are not printed.
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if !info
            .location()
            .is_some_and(|location| location.file().contains("/sled-0.34"))
        {
            default_hook(info);
        }
    }));
    let mut rng = Rng(seed | 1);
    let scratch = tempfile::tempdir().expect("a scratch directory");
    let pristine = scratch.path().join("pristine");
    let written = pristine_store(&pristine);
    let mut verdicts: BTreeMap<Verdict, usize> = BTreeMap::new();
    let mut by_damage: BTreeMap<&str, usize> = BTreeMap::new();
    for iteration in 0..iterations {
        let copy = scratch.path().join("damaged");
        if copy.exists() {
            std::fs::remove_dir_all(&copy).expect("the last copy is removed");
        }
        copy_tree(&pristine, &copy);
        let damage = damage(&copy, &mut rng);
        let verdict = judge(&copy, &written, &damage);
        *verdicts.entry(verdict).or_default() += 1;
        *by_damage
            .entry(match damage {
                Damage::FlipBytes { .. } => "flipped bytes",
                Damage::ZeroSector { .. } => "zeroed sector",
                Damage::Truncate { .. } => "truncated file",
            })
            .or_default() += 1;
        if std::env::var_os("CORRUPTION_VERBOSE").is_some() {
            println!("{iteration}: {} -> {verdict:?}", damage.describe());
        }
    }
    println!(
        "corruption sweep: {iterations} iterations, damage {by_damage:?}, outcomes {verdicts:?}, 0 served a different history"
    );
    assert!(
        verdicts
            .keys()
            .any(|verdict| *verdict != Verdict::Identical)
            || iterations < 20,
        "no damage was ever noticed: the sweep is not reaching the records"
    );
}
