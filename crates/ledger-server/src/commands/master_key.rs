//! `contact-ledger master-key new`: prints a fresh random master key (keep it outside the data
//! directory, e.g. in a secret store; pass it with `--master-key-file` or `LEDGER_MASTER_KEY`).
//!
//! `contact-ledger master-key rotate --new-key-file FILE`: rewraps every data key under the new
//! master key in one atomic batch. No event is touched: the events are sealed under the data
//! keys, which stay the same. Afterwards only the new master key opens the ledger.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;

use super::open_store;
use crate::keys::{MasterKeyArgs, read_key_file};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    action: Action,
}

#[derive(Debug, clap::Subcommand)]
enum Action {
    /// Print a fresh random master key (64 hexadecimal characters).
    New,
    /// Rewrap every data key under the master key in FILE (the current one comes from
    /// --master-key-file or LEDGER_MASTER_KEY).
    Rotate {
        #[arg(long, value_name = "FILE")]
        new_key_file: PathBuf,
    },
}

pub async fn run(data: &Path, keys: &MasterKeyArgs, args: Args) -> anyhow::Result<ExitCode> {
    match args.action {
        Action::New => {
            println!("{}", ledger_app::personal::MasterKey::generate().to_hex());
            Ok(ExitCode::SUCCESS)
        }
        Action::Rotate { new_key_file } => {
            let current = keys.options()?;
            let new = read_key_file(&new_key_file)?;
            let store = open_store(data)?;
            let ring = ledger_app::open_keys(&store, current)
                .context("opening the data keys with the current master key")?;
            let rewrapped = ring.rotate(new).context("rotating the master key")?;
            store.close().await.context("closing the ledger")?;
            println!("rewrapped {rewrapped} data keys under the new master key");
            Ok(ExitCode::SUCCESS)
        }
    }
}
