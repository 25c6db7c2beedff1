//! `contact-ledger compact`: rewrite the read models' database compactly, with the server
//! stopped.
//!
//! sled 0.34.7 never shrinks its file: every rebuild in place (`replay --projection`, a
//! projection whose layout changed) leaves the old generations' space free, and even a rebuild
//! from nothing leaves most of its file free. At every open sled reads the whole file and
//! writes zeros over the free part. A compaction copies every read model in key order into a
//! new database (`read-models.next`) and swaps it in whole (see
//! `ledger_store::replace_read_models`); `replay` of every projection ends with one. It needs
//! room for both databases until the swap. A crash at any point leaves either the old database
//! or the new one, never a mix (the next open settles it).

use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use ledger_store::{Compaction, READ_MODELS_DIR_NAME, READ_MODELS_NEXT_DIR_NAME, SledEventLog};

use super::{directory_bytes, open_store};

#[derive(Debug, clap::Args)]
pub struct Args {}

pub async fn run(data: &Path, _args: Args) -> anyhow::Result<ExitCode> {
    let log = open_store(data)?;
    let compacted = copy(&log, data)?;
    log.close().await.context("closing the ledger")?;
    // The store must be gone (and sled's handles with it) before its directory moves.
    drop(log);
    put_in_place(data, &compacted)?;
    Ok(ExitCode::SUCCESS)
}

/// A finished copy of the read models, and how long it took.
#[derive(Debug)]
pub struct Copied {
    what: Compaction,
    seconds: f64,
}

/// Copies the read models of the open store `log` (nothing may write them meanwhile) into
/// `data/read-models.next`.
pub fn copy(log: &SledEventLog, data: &Path) -> anyhow::Result<Copied> {
    let started = Instant::now();
    let spinner = crate::progress::spinner("copying the read models into a compact database");
    let what = log.compact_read_models().with_context(|| {
        format!(
            "copying the read models into {}; the live ones are untouched",
            data.join(READ_MODELS_NEXT_DIR_NAME).display()
        )
    })?;
    spinner.finish_and_clear();
    Ok(Copied {
        what,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// Puts the copy in the live read models' place once its store is closed and dropped, and says
/// what it did: the database's size after, and before when there was one.
pub fn put_in_place(data: &Path, copied: &Copied) -> anyhow::Result<()> {
    let live = data.join(READ_MODELS_DIR_NAME);
    let before = live.exists().then(|| directory_bytes(&live));
    ledger_store::replace_read_models(data).with_context(|| {
        format!(
            "putting the read models copied into {} in place: the next open of {} finishes the \
             swap, or keeps the live ones if it had not begun",
            data.join(READ_MODELS_NEXT_DIR_NAME).display(),
            data.display()
        )
    })?;
    let before = before.map_or_else(String::new, |bytes| {
        format!(", against {} before", size_text(bytes))
    });
    print_out!(
        "the read models' database in {} was replaced whole by a compact copy: {}{before} \
         ({} of keys and values in {}, copied in {:.1} s)",
        live.display(),
        size_text(directory_bytes(&live)),
        size_text(copied.what.live_bytes),
        super::counted(copied.what.keys, "key", "keys"),
        copied.seconds,
    )?;
    Ok(())
}

/// Bytes in the largest binary unit that leaves at least one whole unit (KiB for the few
/// kilobytes of an empty database, which read "0.0 MiB" before).
#[allow(clippy::cast_precision_loss, clippy::as_conversions)]
fn size_text(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["bytes", "KiB", "MiB", "GiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        super::counted(bytes, "byte", "bytes")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::size_text;

    #[test]
    fn sizes_read_in_the_largest_unit_with_a_whole_one() {
        assert_eq!(size_text(0), "0 bytes");
        assert_eq!(size_text(1), "1 byte");
        assert_eq!(size_text(1023), "1023 bytes");
        assert_eq!(size_text(1024), "1.0 KiB");
        assert_eq!(size_text(45 * 1024 + 512), "45.5 KiB");
        assert_eq!(size_text(3 * 1024 * 1024), "3.0 MiB");
        assert_eq!(
            size_text(5 * 1024 * 1024 * 1024 + 1024 * 1024 * 1024 / 10),
            "5.1 GiB"
        );
        assert_eq!(size_text(u64::MAX), "17179869184.0 GiB");
    }
}
