//! The head mark: the durable head as of the last time the store was opened or closed, kept in
//! `DATA_DIR/log-head` outside sled.
//!
//! sled recovers a damaged data file by discarding everything after the first message it cannot
//! read, as it would a torn write at the end of its log. The head value inside sled goes back
//! with it, so the hash chain alone cannot tell a store that lost its tail to damage from one
//! that never had it: the corruption sweep saw about half its damaged copies open silently as a
//! shorter, intact prefix. The mark closes that gap for a store that was closed (or opened)
//! since: opening refuses a log that ends before the mark, naming the first missing position.
//! A crash after appends leaves the mark behind the head, never ahead of it, so it never
//! refuses a store that is merely newer. Writing it costs one small file and an fsync per open
//! and close, nothing per append.

use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use ledger_domain::ids::Position;

use crate::error::OpenError;
use crate::record::HeadValue;
use crate::types::Head;

/// The mark's file name in the data directory.
pub const HEAD_MARK_FILE_NAME: &str = "log-head";

fn path(dir: &Path) -> PathBuf {
    dir.join(HEAD_MARK_FILE_NAME)
}

/// Writes `head` as the mark, atomically (temporary file, fsync, rename, fsync the directory).
pub(crate) fn write(dir: &Path, head: &Head) -> io::Result<()> {
    let target = path(dir);
    let temporary = dir.join(format!("{HEAD_MARK_FILE_NAME}.tmp"));
    let mut file = File::create(&temporary)?;
    file.write_all(&HeadValue::of(head).encode())?;
    file.sync_all()?;
    std::fs::rename(&temporary, &target)?;
    File::open(dir)?.sync_all()
}

/// Checks the recovered `head` against the mark; a store without a mark (new, or written before
/// marks existed) passes.
pub(crate) fn check(dir: &Path, head: &Head) -> Result<(), OpenError> {
    let bytes = match std::fs::read(path(dir)) {
        Ok(bytes) => bytes,
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(error) => {
            return Err(OpenError::Io {
                path: path(dir),
                message: error.to_string(),
            });
        }
    };
    let mark = HeadValue::decode(&bytes).map_err(|error| OpenError::Corrupt {
        position: None,
        detail: format!(
            "{} does not decode ({error}); if the log itself is intact, `verify` shows its head, and removing that file accepts it",
            path(dir).display()
        ),
    })?;
    problem(head, &mark).map_or(Ok(()), |(position, detail)| {
        Err(OpenError::Corrupt {
            position: Some(position),
            detail,
        })
    })
}

/// What is wrong when the log ends before the mark, or at it with another hash.
pub(crate) fn problem(head: &Head, mark: &HeadValue) -> Option<(Position, String)> {
    let position = head.position.get();
    if position < mark.position {
        return Some((
            Position(position + 1),
            format!(
                "the log ends at position {position}, but it held {} records when it was last opened or closed: records {} to {} are missing (damaged files)",
                mark.position,
                position + 1,
                mark.position
            ),
        ));
    }
    (position == mark.position && head.hash != mark.hash).then(|| {
        (
            head.position,
            format!(
                "the record at position {position} has hash {}, not the {} it had when the store was last opened or closed",
                head.hash_hex(),
                hex::encode(mark.hash)
            ),
        )
    })
}

/// The mark in `dir`, if there is one that decodes (for `verify_dir`).
pub(crate) fn read(dir: &Path) -> Option<Result<HeadValue, String>> {
    let bytes = std::fs::read(path(dir)).ok()?;
    Some(HeadValue::decode(&bytes).map_err(|error| error.to_string()))
}
