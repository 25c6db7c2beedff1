//! `contact-ledger replay`: rebuild read models from position 0, or build them as of a past
//! position for an auditor.
//!
//! Without `--to`, the selected projections are rebuilt together (one pass over the log) into
//! fresh state that replaces the old one when complete (readers never see a half-built model).
//! Every projection at once is rebuilt into a new read models' database
//! (`read-models.build`), which is then compacted (see `compact`) into the one that replaces
//! `read-models` whole: sled never shrinks a database, and reads its whole file and writes
//! zeros over its free segments at every open, which a rebuild in place would leave behind,
//! and a rebuild from nothing too (see `ledger_store::replace_read_models`).
//!
//! With `--to P`, the selected projections are built as of position `P`, and with `--check`
//! up to each live read model's checkpoint, in one pass over the log into a scratch database
//! (`read-models.build`, removed afterwards) that the live read models never see; each is
//! summarised by its entry count and a blake3 digest of its canonical dump, read a block at a
//! time, so two auditors can compare what the ledger said then, and a read model larger than
//! memory can be checked (built in memory, the 10 M-event timeline alone took 8.5 GB).

use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use ledger_app::Ledger;
use ledger_domain::ids::Position;
use ledger_store::{EventLog, ProjectionSpace, ReadModelsDb, StoreOptions};

use crate::progress;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Only this projection (default: every one).
    #[arg(long, value_name = "NAME")]
    projection: Option<String>,
    /// Build as of this position instead of rebuilding the live read model.
    #[arg(long, value_name = "P", conflicts_with = "check")]
    to: Option<u64>,
    /// Check, without changing anything, that each live read model equals a rebuild from
    /// position 0 up to its checkpoint (exit 1 when one differs).
    #[arg(long)]
    check: bool,
}

/// A read model's canonical summary: its entry count and a blake3 digest of every key and
/// value in key order, each prefixed by its length, so two builds compare by one line.
#[derive(Debug, PartialEq, Eq)]
struct Summary {
    entries: u64,
    digest: String,
}

/// Summarises `space` a block at a time.
fn summarise(space: &ProjectionSpace) -> anyhow::Result<Summary> {
    let mut digest = blake3::Hasher::new();
    let entries = space.for_each_entry(|key, value| {
        for part in [key, value] {
            digest.update(&u64::try_from(part.len()).unwrap_or(u64::MAX).to_be_bytes());
            digest.update(part);
        }
    })?;
    Ok(Summary {
        entries,
        digest: digest.finalize().to_hex().to_string(),
    })
}

/// Builds each of `wanted` (a projection and the position to build it to) from position 0 in
/// a scratch read models' database, those built to the same position in one pass over the log,
/// summarises each, and removes the scratch database. The live read models are not touched.
async fn summarise_rebuilt(
    data: &Path,
    keys: &crate::keys::MasterKeyArgs,
    wanted: &[(String, Position)],
) -> anyhow::Result<Vec<Summary>> {
    let options = StoreOptions {
        read_models: ReadModelsDb::Replacement,
        ..StoreOptions::default()
    };
    let ledger = super::open_ledger(data, options, keys.options()?)?;
    let built = build_and_summarise(&ledger, wanted);
    let closed = ledger.close().await.context("closing the ledger");
    // The store must be gone (and sled's handles with it) before its directory goes; it goes
    // whether or not the rebuild succeeded, so a failed check leaves no scratch behind.
    drop(ledger);
    let discarded =
        ledger_store::discard_scratch_read_models(data).context("removing the scratch read models");
    let summaries = built?;
    closed?;
    discarded?;
    summaries
        .into_iter()
        .map(|summary| summary.context("a projection was not built"))
        .collect()
}

/// The rebuilds of [`summarise_rebuilt`], in `ledger`'s scratch read models, and their
/// summaries in `wanted`'s order.
fn build_and_summarise(
    ledger: &Ledger,
    wanted: &[(String, Position)],
) -> anyhow::Result<Vec<Option<Summary>>> {
    let mut positions: Vec<Position> = wanted.iter().map(|(_, to)| *to).collect();
    positions.sort_unstable();
    positions.dedup();
    let mut summaries: Vec<Option<Summary>> = wanted.iter().map(|_| None).collect();
    for to in positions {
        let names: Vec<&str> = wanted
            .iter()
            .filter(|(_, position)| *position == to)
            .map(|(name, _)| name.as_str())
            .collect();
        let bar = progress::bar(
            to.get(),
            &format!("building {} as of position {to}", names.join(", ")),
        );
        ledger
            .runner()
            .rebuild_up_to(&names, to, &mut |position| bar.set_position(position.get()))?;
        bar.finish_and_clear();
        for ((name, position), summary) in wanted.iter().zip(&mut summaries) {
            if *position == to {
                *summary = Some(summarise(&ledger.runner().reader(name)?)?);
            }
        }
    }
    Ok(summaries)
}

/// Compares each live read model of `ledger` (open on `data`, closed here before the rebuild)
/// with a rebuild from 0 to its checkpoint; true when all agree.
async fn check(
    ledger: Ledger,
    data: &Path,
    keys: &crate::keys::MasterKeyArgs,
    names: &[String],
) -> anyhow::Result<bool> {
    let mut wanted = Vec::new();
    let mut live = Vec::new();
    for (name, checkpoint) in ledger.runner().checkpoints() {
        if names.iter().any(|selected| selected == name) {
            live.push(summarise(&ledger.runner().reader(name)?)?);
            wanted.push((name.to_owned(), checkpoint));
        }
    }
    ledger.close().await.context("closing the ledger")?;
    drop(ledger);
    let rebuilt = summarise_rebuilt(data, keys, &wanted).await?;
    let mut all_equal = true;
    for (((name, checkpoint), live), rebuilt) in wanted.iter().zip(&live).zip(&rebuilt) {
        let verdict = if live == rebuilt {
            "equal"
        } else {
            "DIFFERENT"
        };
        all_equal &= live == rebuilt;
        print_out!(
            "{name} at position {checkpoint}: live {} {}, rebuilt {} {}: {verdict}",
            super::counted(live.entries, "entry", "entries"),
            live.digest,
            super::counted(rebuilt.entries, "entry", "entries"),
            rebuilt.digest
        )?;
    }
    Ok(all_equal)
}

pub async fn run(
    data: &Path,
    keys: &crate::keys::MasterKeyArgs,
    args: Args,
) -> anyhow::Result<ExitCode> {
    if args.projection.is_none() && args.to.is_none() && !args.check {
        rebuild_every_projection(data, keys).await?;
        return Ok(ExitCode::SUCCESS);
    }
    let ledger = super::open_ledger(data, StoreOptions::default(), keys.options()?)?;
    let names: Vec<String> = match &args.projection {
        Some(name) if ledger.runner().names().contains(&name.as_str()) => vec![name.clone()],
        Some(name) => {
            eprintln!(
                "error: no projection is named {name:?}; the projections are: {}",
                ledger.runner().names().join(", ")
            );
            ledger.close().await.context("closing the ledger")?;
            return Ok(ExitCode::from(2));
        }
        None => ledger
            .runner()
            .names()
            .into_iter()
            .map(str::to_owned)
            .collect(),
    };
    if args.check {
        let equal = check(ledger, data, keys, &names).await?;
        return Ok(if equal {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        });
    }
    if let Some(to) = args.to {
        let head = ledger.log().head().position;
        ledger.close().await.context("closing the ledger")?;
        drop(ledger);
        if let Some(refusal) = super::past_the_head(&[("--to", Some(to))], head) {
            eprintln!("error: {refusal}");
            return Ok(ExitCode::from(2));
        }
        let to = Position(to);
        let wanted: Vec<(String, Position)> = names.iter().map(|name| (name.clone(), to)).collect();
        for ((name, _), summary) in wanted
            .iter()
            .zip(summarise_rebuilt(data, keys, &wanted).await?)
        {
            print_out!(
                "{name} as of position {to}: {}, digest {}",
                super::counted(summary.entries, "entry", "entries"),
                summary.digest
            )?;
        }
        return Ok(ExitCode::SUCCESS);
    }
    let rebuilt = rebuild(
        &ledger,
        &names.iter().map(String::as_str).collect::<Vec<_>>(),
    )?;
    ledger.close().await.context("closing the ledger")?;
    print_out!("{rebuilt}")?;
    Ok(ExitCode::SUCCESS)
}

/// Rebuilds every projection from position 0, in one pass over the log, into a new read models'
/// database, and puts its compact copy in the live one's place (see the module docs); prints
/// what it did. `replay` without options, and `seed` after it has written the history. Nothing
/// else may have the ledger open.
pub async fn rebuild_every_projection(
    data: &Path,
    keys: &crate::keys::MasterKeyArgs,
) -> anyhow::Result<()> {
    // The live read models stay as they were until the rebuild is complete.
    let options = StoreOptions {
        read_models: ReadModelsDb::Replacement,
        ..StoreOptions::default()
    };
    let ledger = super::open_ledger(data, options, keys.options()?)?;
    let rebuilt = rebuild(&ledger, &ledger.runner().names())?;
    let copied = super::compact::copy(ledger.log(), data)?;
    ledger.close().await.context("closing the ledger")?;
    // The store must be gone (and sled's handles with it) before its directory moves.
    drop(ledger);
    // Said now, but a closed standard output fails the command only once the rebuilt read
    // models are in place: it cannot leave the work half done.
    let said = print_out!("{rebuilt}");
    super::compact::put_in_place(data, &copied)?;
    said
}

/// Rebuilds the `selected` projections from position 0 in the same pass over the log, with a
/// progress bar; returns what it did and how fast, for the caller to say.
fn rebuild(ledger: &Ledger, selected: &[&str]) -> anyhow::Result<String> {
    let started = Instant::now();
    let head = ledger.log().head().position;
    let bar = progress::bar(head.get(), &format!("rebuilding {}", selected.join(", ")));
    let reached = ledger
        .runner()
        .rebuild_with_progress(selected, &mut |position| bar.set_position(position.get()))?;
    bar.finish_and_clear();
    let seconds = started.elapsed().as_secs_f64();
    let rate = if seconds > 0.0 {
        f64_of(reached.get()) / seconds
    } else {
        0.0
    };
    Ok(format!(
        "rebuilt {} up to position {reached} in {seconds:.2} s ({rate:.0} events/s)",
        selected.join(", ")
    ))
}

/// A count as a float for a rate; exact below 2^53, which any real count is.
#[allow(clippy::cast_precision_loss, clippy::as_conversions)]
fn f64_of(count: u64) -> f64 {
    count as f64
}
