//! Where the command line gets the master key: `--master-key-file FILE` (64 hexadecimal
//! characters), else the environment variable `LEDGER_MASTER_KEY`. It is never written into
//! the data directory; `make run` keeps the demo's key in `.ledger-master-key` beside the
//! checkout's `data/`, outside it.

use std::path::{Path, PathBuf};

use anyhow::Context;
use ledger_app::KeyOptions;
use ledger_app::personal::{MASTER_KEY_ENV, MasterKey};

/// The global `--master-key-file` option.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct MasterKeyArgs {
    /// A file holding the master key (64 hexadecimal characters) that wraps the customers'
    /// data keys. Without it, the key is read from the environment variable LEDGER_MASTER_KEY.
    #[arg(long, global = true, value_name = "FILE")]
    pub master_key_file: Option<PathBuf>,
}

impl MasterKeyArgs {
    /// The master key, or a clear error naming where it was looked for.
    pub fn load(&self) -> anyhow::Result<MasterKey> {
        if let Some(path) = &self.master_key_file {
            return read_key_file(path);
        }
        // `KeyError::MissingMasterKey` is not used: it speaks of a configuration setting the
        // command line does not have.
        match MasterKey::from_env()? {
            Some(key) => Ok(key),
            None => anyhow::bail!(
                "no master key: pass --master-key-file FILE or set {MASTER_KEY_ENV} (64 \
                 hexadecimal characters)"
            ),
        }
    }

    /// Whether a master key was given at all (a file, or the environment variable), right or
    /// wrong: a command that can do without one asks this before [`Self::load`].
    pub fn is_given(&self) -> bool {
        self.master_key_file.is_some() || std::env::var_os(MASTER_KEY_ENV).is_some()
    }

    /// Key options for opening a ledger: the master key and random data keys.
    pub fn options(&self) -> anyhow::Result<KeyOptions> {
        Ok(KeyOptions::new(self.load()?))
    }
}

/// Reads a key file (surrounding white space ignored).
pub fn read_key_file(path: &Path) -> anyhow::Result<MasterKey> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the master key file {}", path.display()))?;
    Ok(MasterKey::from_hex(&path.display().to_string(), &text)?)
}
