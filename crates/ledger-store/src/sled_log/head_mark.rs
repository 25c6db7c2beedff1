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
//!
//! A missing mark is refused too, once the store has kept one: the first open that writes it
//! also writes `MARK_KEPT_KEY` inside sled, so deleting the file cannot turn the check off
//! (a store that never had a mark, new or older than marks, passes and gets one). Where the log
//! is known to be intact, or its loss is accepted, `verify --accept-head`
//! ([`SledEventLog::accept_head`](super::SledEventLog::accept_head)) writes the mark again for
//! the head the walk found, when nothing but the mark is wrong.

use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use ledger_domain::ids::Position;

use crate::error::OpenError;
use crate::record::{HeadValue, MARK_KEPT_KEY};
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

/// Checks the recovered `head` against the mark; a store without a mark passes only when it
/// never kept one (new, or written before marks existed: see [`MARK_KEPT_KEY`]).
pub(crate) fn check(dir: &Path, tree: &sled::Tree, head: &Head) -> Result<(), OpenError> {
    let mark = match read(dir, tree) {
        Mark::Absent => return Ok(()),
        Mark::Missing(detail) | Mark::Undecodable(detail) => {
            return Err(OpenError::Corrupt {
                position: None,
                detail,
            });
        }
        Mark::Unreadable(error) => {
            return Err(OpenError::Io {
                path: path(dir),
                message: error.to_string(),
            });
        }
        Mark::Found(mark) => mark,
    };
    problem(head, &mark).map_or(Ok(()), |(position, detail)| {
        Err(OpenError::Corrupt {
            position: Some(position),
            detail,
        })
    })
}

/// Records inside sled that this store keeps a head mark, once it has written one: from then
/// on a missing mark file is refused. Needs no sync of its own: lost in a crash, it is only
/// written again by the next open.
pub(crate) fn remember_kept(tree: &sled::Tree) -> sled::Result<()> {
    if tree.get(MARK_KEPT_KEY)?.is_none() {
        tree.insert(MARK_KEPT_KEY, &[])?;
    }
    Ok(())
}

/// What is wrong when the log ends before the mark, or at it with another hash.
pub(crate) fn problem(head: &Head, mark: &HeadValue) -> Option<(Position, String)> {
    let position = head.position.get();
    if position < mark.position {
        return Some((
            Position(position + 1),
            format!(
                "the log ends at position {position}, but it held {} records when it was last opened or closed: records {} to {} are missing (damaged files): restore the directory from a copy, or accept the loss with `contact-ledger verify --accept-head`",
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

/// What `dir` holds for a head mark.
pub(crate) enum Mark {
    /// None, and the store never kept one.
    Absent,
    /// None, though the store kept one: why that is refused.
    Missing(String),
    /// A file that does not decode: why that is refused.
    Undecodable(String),
    /// The file could not be read.
    Unreadable(io::Error),
    Found(HeadValue),
}

/// The mark in `dir` (for opening and for `verify_dir`).
pub(crate) fn read(dir: &Path, tree: &sled::Tree) -> Mark {
    let file = path(dir);
    let remedy = "if the log itself is intact, or its loss is accepted, \
                  `contact-ledger verify --accept-head` writes the mark again for the head it finds";
    match std::fs::read(&file) {
        Ok(bytes) => match HeadValue::decode(&bytes) {
            Ok(mark) => Mark::Found(mark),
            Err(error) => Mark::Undecodable(format!(
                "the head mark {} does not decode ({error}); {remedy}",
                file.display()
            )),
        },
        Err(error) if error.kind() == io::ErrorKind::NotFound => {
            // An unreadable key counts as kept: refusing is the safe side.
            if matches!(tree.get(MARK_KEPT_KEY), Ok(None)) {
                Mark::Absent
            } else {
                Mark::Missing(format!(
                    "the head mark {} is missing, though this store has kept one since it was \
                     first opened (it is rewritten at every open and close, so it was removed, \
                     or the directory is an incomplete copy): without it a log that lost its \
                     last records cannot be told from a whole one; restore the file from where \
                     the directory came from, or: {remedy}",
                    file.display()
                ))
            }
        }
        Err(error) => Mark::Unreadable(error),
    }
}
