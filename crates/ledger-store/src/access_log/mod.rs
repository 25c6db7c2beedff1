//! The access records: who read which customer's personal data, through which operation, and
//! when. An append-only keyspace in the log's sled database, written by its own background
//! writer so that recording a read never makes the reader wait for an fsync.
//!
//! # How a record flows
//!
//! 1. [`AccessLog::record`] checks the record against the limits (`Invalid` at once), stamps
//!    `at` from the store's [`Clock`], and puts it in a bounded queue. A full queue makes the
//!    reader wait for room, at most `ACCESS_QUEUE_WAIT_MS`, then fail `Unavailable`: a read that
//!    cannot be recorded is refused, never served unrecorded and never silently dropped.
//! 2. The writer thread takes the first record, sleeps out `ACCESS_FLUSH_INTERVAL_MS` (cut
//!    short by [`AccessLog::sync`] or a close) while more queue up without waking it, takes
//!    them (at most `ACCESS_BATCH_RECORDS_MAX`), gives each a sequence number from sled's id
//!    generator, and commits the batch in one transaction over the three trees, then `flush`
//!    and `fdatasync`.
//! 3. A failed commit poisons the access log: the batch's records are lost (the error log says
//!    how many) and every later `record` is `Unavailable` until the store is reopened, so no
//!    read goes on unrecorded.
//!
//! # Durability
//!
//! A record is durable (fdatasynced) within `ACCESS_FLUSH_INTERVAL_MS` plus one commit after
//! the read it records was answered; a crash loses at most the records of that window.
//! [`AccessLog::close`] (the graceful shutdown) and [`AccessLog::sync`] commit everything
//! queued before they return.
//!
//! # Storage layout
//!
//! Three trees in the log's sled database, every value the whole record (format byte + codec of
//! [`StoredAccess`]), every key ending in the record's stamp: `at` as i128 nanoseconds with the
//! sign bit flipped (so keys sort by time), big-endian, then the u64 sequence number.
//!
//! | tree | key |
//! |---|---|
//! | `access:by-time` | stamp |
//! | `access:by-customer` | customer id (16 bytes) ‖ stamp |
//! | `access:by-subject` | subject length (u16 BE) ‖ subject ‖ stamp |
//!
//! There is no update or delete: this module writes only new keys, and nothing else in the
//! ledger opens these trees.

mod writer;

use std::fmt;
use std::ops::Bound;
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use ledger_domain::codec;
use ledger_domain::ids::CustomerId;
use serde::{Deserialize, Serialize};
use tokio::sync::{Notify, mpsc, oneshot};

use crate::clock::Clock;
use crate::error::StoreFailure;
use crate::faults::Faults;
use crate::limits::{
    ACCESS_OPERATION_BYTES_MAX, ACCESS_PAGE_MAX, ACCESS_QUEUE_RECORDS_MAX, ACCESS_QUEUE_WAIT_MS,
    ACCESS_ROLE_BYTES_MAX, ACCESS_SUBJECT_BYTES_MAX,
};
use crate::sled_log::Durability;

use self::writer::{Message, Writer};

/// The tree of access records by time.
const BY_TIME_TREE: &str = "access:by-time";
/// The tree of access records by customer, then time.
const BY_CUSTOMER_TREE: &str = "access:by-customer";
/// The tree of access records by subject, then time.
const BY_SUBJECT_TREE: &str = "access:by-subject";
/// The format byte of a stored access record.
const RECORD_FORMAT: u8 = 1;
/// Bytes of a stamp: i128 nanoseconds and a u64 sequence number.
const STAMP_BYTES: usize = 24;

/// One read of one customer's personal data, as the reader reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessRead {
    /// The token's subject (staff or system id).
    pub subject: String,
    /// The caller's role name (`agent` ...).
    pub role: String,
    pub customer: CustomerId,
    /// What read it: a root field (`customer`), a nested one (`serviceCase.customer`), or a
    /// subscription delivery (`screenPop`).
    pub operation: String,
}

/// An access record as stored: the read and when it happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessRecord {
    pub at: jiff::Timestamp,
    pub subject: String,
    pub role: String,
    pub customer: CustomerId,
    pub operation: String,
}

/// The stored form (bincode cannot carry a `Uuid` or a `Timestamp` through serde as they are).
#[derive(Debug, Serialize, Deserialize)]
struct StoredAccess {
    at_ns: i128,
    subject: String,
    role: String,
    customer: [u8; 16],
    operation: String,
}

/// Where an access record sorts: its time, then its sequence number. Printed as a cursor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AccessStamp {
    at_ns: i128,
    sequence: u64,
}

impl AccessStamp {
    /// The first stamp at `at`: a bound that includes everything at `at` and after.
    fn first_at(at: jiff::Timestamp) -> Self {
        Self {
            at_ns: at.as_nanosecond(),
            sequence: 0,
        }
    }

    fn bytes(self) -> [u8; STAMP_BYTES] {
        let flipped = u128::from_be_bytes(self.at_ns.to_be_bytes()) ^ (1 << 127);
        let mut bytes = [0; STAMP_BYTES];
        bytes[..16].copy_from_slice(&flipped.to_be_bytes());
        bytes[16..].copy_from_slice(&self.sequence.to_be_bytes());
        bytes
    }

    fn from_bytes(bytes: &[u8]) -> Option<Self> {
        let at: [u8; 16] = bytes.get(..16)?.try_into().ok()?;
        let sequence: [u8; 8] = bytes.get(16..STAMP_BYTES)?.try_into().ok()?;
        if bytes.len() != STAMP_BYTES {
            return None;
        }
        let unflipped = u128::from_be_bytes(at) ^ (1 << 127);
        Some(Self {
            at_ns: i128::from_be_bytes(unflipped.to_be_bytes()),
            sequence: u64::from_be_bytes(sequence),
        })
    }

    /// The cursor text: the stamp's 24 bytes in hex.
    pub fn cursor(self) -> String {
        hex::encode(self.bytes())
    }

    /// A stamp from its cursor text, or `None` when it is not one.
    pub fn parse_cursor(text: &str) -> Option<Self> {
        Self::from_bytes(&hex::decode(text).ok()?)
    }
}

/// Which records a page lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccessFilter {
    /// Every record.
    All,
    /// One customer's.
    Customer(CustomerId),
    /// One subject's.
    Subject(String),
}

/// A page request: newest first, `from` inclusive, `to` exclusive, older than `after`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessQuery {
    pub filter: AccessFilter,
    pub from: Option<jiff::Timestamp>,
    pub to: Option<jiff::Timestamp>,
    pub after: Option<AccessStamp>,
    /// At most `ACCESS_PAGE_MAX`.
    pub first: usize,
}

/// A page of access records, newest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessPage {
    pub items: Vec<(AccessStamp, AccessRecord)>,
    pub has_next_page: bool,
}

/// Why a read could not be recorded or access records not listed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AccessError {
    /// The record or the query breaks a rule or a limit; `field` names it.
    #[error("{field}: {rule}")]
    Invalid { field: &'static str, rule: String },
    /// The access log cannot take or serve records.
    #[error("the access log is unavailable: {0}")]
    Unavailable(StoreFailure),
}

/// The access log of one store. Cheap to clone; every clone is the same log.
#[derive(Clone)]
pub struct AccessLog {
    inner: Arc<Inner>,
}

impl fmt::Debug for AccessLog {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.debug_struct("AccessLog").finish_non_exhaustive()
    }
}

struct Inner {
    trees: Trees,
    clock: Arc<dyn Clock>,
    sender: Mutex<Option<mpsc::Sender<Message>>>,
    writer: Mutex<Option<JoinHandle<()>>>,
    poison: Arc<Mutex<Option<String>>>,
    wake: Arc<Notify>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        drop(lock(&self.sender).take());
        self.wake.notify_one();
        if let Some(writer) = lock(&self.writer).take() {
            // The writer ends once the queue is drained and committed.
            let _ = writer.join();
        }
    }
}

/// The three trees, opened once.
#[derive(Clone)]
pub(crate) struct Trees {
    db: sled::Db,
    by_time: sled::Tree,
    by_customer: sled::Tree,
    by_subject: sled::Tree,
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

fn sled_failure(operation: &str, error: impl fmt::Display) -> StoreFailure {
    StoreFailure::io(operation, error)
}

impl AccessLog {
    /// Opens the access trees in `db` (the log's database, in `db_dir`) and starts the writer.
    pub(crate) fn open(
        db: sled::Db,
        db_dir: &std::path::Path,
        clock: Arc<dyn Clock>,
        faults: Faults,
    ) -> Result<Self, StoreFailure> {
        let open = |name: &str| {
            db.open_tree(name)
                .map_err(|error| sled_failure("opening an access tree", error))
        };
        let trees = Trees {
            by_time: open(BY_TIME_TREE)?,
            by_customer: open(BY_CUSTOMER_TREE)?,
            by_subject: open(BY_SUBJECT_TREE)?,
            db: db.clone(),
        };
        let durability = Durability::open(db_dir)
            .map_err(|error| sled_failure("opening log/db for the access writer", error))?;
        let (sender, receiver) = mpsc::channel(ACCESS_QUEUE_RECORDS_MAX);
        let poison = Arc::new(Mutex::new(None));
        let wake = Arc::new(Notify::new());
        let writer = Writer {
            trees: trees.clone(),
            receiver,
            durability,
            faults,
            poison: Arc::clone(&poison),
            wake: Arc::clone(&wake),
        };
        let thread = std::thread::Builder::new()
            .name("ledger-access-writer".into())
            .spawn(move || writer.run())
            .map_err(|error| sled_failure("starting the access writer", error))?;
        Ok(Self {
            inner: Arc::new(Inner {
                trees,
                clock,
                sender: Mutex::new(Some(sender)),
                writer: Mutex::new(Some(thread)),
                poison,
                wake,
            }),
        })
    }

    /// Why the access log refuses records, if a commit failed since the store was opened.
    pub fn poisoned(&self) -> Option<String> {
        lock(&self.inner.poison).clone()
    }

    fn sender(&self) -> Result<mpsc::Sender<Message>, AccessError> {
        if let Some(cause) = self.poisoned() {
            return Err(AccessError::Unavailable(StoreFailure::Poisoned { cause }));
        }
        lock(&self.inner.sender)
            .clone()
            .ok_or(AccessError::Unavailable(StoreFailure::Closed))
    }

    /// Records `read`, stamped now. Returns once the record is queued (not yet durable: see the
    /// module's durability notes); waits for room when the queue is full, at most
    /// `ACCESS_QUEUE_WAIT_MS`.
    pub async fn record(&self, read: AccessRead) -> Result<(), AccessError> {
        check_read(&read)?;
        let sender = self.sender()?;
        let record = AccessRecord {
            at: self.inner.clock.now(),
            subject: read.subject,
            role: read.role,
            customer: read.customer,
            operation: read.operation,
        };
        let message = match sender.try_send(Message::Record(record)) {
            Ok(()) => return Ok(()),
            Err(mpsc::error::TrySendError::Closed(_)) => {
                return Err(AccessError::Unavailable(StoreFailure::Closed));
            }
            Err(mpsc::error::TrySendError::Full(message)) => message,
        };
        let wait = Duration::from_millis(ACCESS_QUEUE_WAIT_MS);
        match tokio::time::timeout(wait, sender.send(message)).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(_)) => Err(AccessError::Unavailable(StoreFailure::Closed)),
            Err(_) => Err(AccessError::Unavailable(StoreFailure::io(
                "queueing an access record",
                format!("the queue stayed full for ACCESS_QUEUE_WAIT_MS = {ACCESS_QUEUE_WAIT_MS}"),
            ))),
        }
    }

    /// Commits (durably) every record queued before this call.
    pub async fn sync(&self) -> Result<(), AccessError> {
        let sender = self.sender()?;
        let (reply, answer) = oneshot::channel();
        sender
            .send(Message::Sync(reply))
            .await
            .map_err(|_| AccessError::Unavailable(StoreFailure::Closed))?;
        drop(sender);
        self.inner.wake.notify_one();
        answer
            .await
            .map_err(|_| AccessError::Unavailable(StoreFailure::Closed))?
            .map_err(AccessError::Unavailable)
    }

    /// Stops taking records, lets the writer commit everything queued, and waits for it. Fails
    /// if a commit failed since the store was opened.
    pub async fn close(&self) -> Result<(), StoreFailure> {
        drop(lock(&self.inner.sender).take());
        self.inner.wake.notify_one();
        let writer = lock(&self.inner.writer).take();
        if let Some(writer) = writer {
            tokio::task::spawn_blocking(move || writer.join())
                .await
                .map_err(|error| sled_failure("waiting for the access writer", error))?
                .map_err(|_| sled_failure("the access writer", "it panicked"))?;
        }
        match self.poisoned() {
            Some(cause) => Err(StoreFailure::Poisoned { cause }),
            None => Ok(()),
        }
    }

    /// A page of committed records, newest first.
    pub fn page(&self, query: &AccessQuery) -> Result<AccessPage, AccessError> {
        if query.first > ACCESS_PAGE_MAX {
            return Err(AccessError::Invalid {
                field: "first",
                rule: format!("a page holds at most ACCESS_PAGE_MAX = {ACCESS_PAGE_MAX} records"),
            });
        }
        if let (Some(from), Some(to)) = (query.from, query.to)
            && to < from
        {
            return Err(AccessError::Invalid {
                field: "to",
                rule: "the time range must not end before it starts".into(),
            });
        }
        let (tree, prefix) = match &query.filter {
            AccessFilter::All => (&self.inner.trees.by_time, Vec::new()),
            AccessFilter::Customer(customer) => (
                &self.inner.trees.by_customer,
                customer.as_uuid().as_bytes().to_vec(),
            ),
            AccessFilter::Subject(subject) => {
                check_text(
                    "subject",
                    subject,
                    ACCESS_SUBJECT_BYTES_MAX,
                    "ACCESS_SUBJECT_BYTES_MAX",
                )?;
                (&self.inner.trees.by_subject, subject_prefix(subject))
            }
        };
        let key = |stamp: AccessStamp| {
            let mut key = prefix.clone();
            key.extend_from_slice(&stamp.bytes());
            key
        };
        let lower = Bound::Included(key(query.from.map_or(
            AccessStamp {
                at_ns: i128::MIN,
                sequence: 0,
            },
            AccessStamp::first_at,
        )));
        let to_bound = query.to.map(|to| key(AccessStamp::first_at(to)));
        let after_bound = query.after.map(key);
        let upper = match (to_bound, after_bound) {
            (Some(to), Some(after)) => Bound::Excluded(to.min(after)),
            (Some(bound), None) | (None, Some(bound)) => Bound::Excluded(bound),
            (None, None) => Bound::Included(key(AccessStamp {
                at_ns: i128::MAX,
                sequence: u64::MAX,
            })),
        };
        let mut items = Vec::with_capacity(query.first);
        let mut has_next_page = false;
        for entry in tree.range::<Vec<u8>, _>((lower, upper)).rev() {
            let (key, value) = entry.map_err(|error| {
                AccessError::Unavailable(sled_failure("reading access records", error))
            })?;
            if items.len() == query.first {
                has_next_page = true;
                break;
            }
            let stamp = key
                .get(prefix.len()..)
                .and_then(AccessStamp::from_bytes)
                .ok_or_else(|| corrupt("an access key does not end in a stamp"))?;
            let record = decode_record(&value)?;
            // The value must say what its key says: check on the way out as on the way in.
            if record.at.as_nanosecond() != stamp.at_ns {
                return Err(corrupt("an access record's time differs from its key"));
            }
            items.push((stamp, record));
        }
        Ok(AccessPage {
            items,
            has_next_page,
        })
    }
}

fn corrupt(detail: &str) -> AccessError {
    AccessError::Unavailable(sled_failure("reading access records", detail))
}

fn subject_prefix(subject: &str) -> Vec<u8> {
    // `check_text` bounds the subject to ACCESS_SUBJECT_BYTES_MAX, far below u16::MAX.
    let length = u16::try_from(subject.len()).unwrap_or(u16::MAX);
    let mut prefix = Vec::with_capacity(2 + subject.len() + STAMP_BYTES);
    prefix.extend_from_slice(&length.to_be_bytes());
    prefix.extend_from_slice(subject.as_bytes());
    prefix
}

fn check_text(field: &'static str, text: &str, max: usize, limit: &str) -> Result<(), AccessError> {
    if text.is_empty() || text.len() > max {
        return Err(AccessError::Invalid {
            field,
            rule: format!("1 to {limit} = {max} bytes (got {})", text.len()),
        });
    }
    Ok(())
}

fn check_read(read: &AccessRead) -> Result<(), AccessError> {
    check_text(
        "subject",
        &read.subject,
        ACCESS_SUBJECT_BYTES_MAX,
        "ACCESS_SUBJECT_BYTES_MAX",
    )?;
    check_text(
        "role",
        &read.role,
        ACCESS_ROLE_BYTES_MAX,
        "ACCESS_ROLE_BYTES_MAX",
    )?;
    check_text(
        "operation",
        &read.operation,
        ACCESS_OPERATION_BYTES_MAX,
        "ACCESS_OPERATION_BYTES_MAX",
    )
}

fn encode_record(record: &AccessRecord) -> Result<Vec<u8>, StoreFailure> {
    let stored = StoredAccess {
        at_ns: record.at.as_nanosecond(),
        subject: record.subject.clone(),
        role: record.role.clone(),
        customer: *record.customer.as_uuid().as_bytes(),
        operation: record.operation.clone(),
    };
    codec::encode_versioned(RECORD_FORMAT, &stored)
        .map_err(|error| sled_failure("encoding an access record", error))
}

fn decode_record(bytes: &[u8]) -> Result<AccessRecord, AccessError> {
    let stored: StoredAccess = codec::decode_versioned(RECORD_FORMAT, bytes)
        .map_err(|error| corrupt(&format!("an access record does not decode: {error}")))?;
    let at = jiff::Timestamp::from_nanosecond(stored.at_ns)
        .map_err(|_| corrupt("an access record's time is out of range"))?;
    Ok(AccessRecord {
        at,
        subject: stored.subject,
        role: stored.role,
        customer: CustomerId::from_uuid(uuid::Uuid::from_bytes(stored.customer)),
        operation: stored.operation,
    })
}

/// The three keys of one record, for the writer.
fn keys_of(record: &AccessRecord, stamp: AccessStamp) -> [Vec<u8>; 3] {
    let stamp = stamp.bytes();
    let mut by_customer = record.customer.as_uuid().as_bytes().to_vec();
    by_customer.extend_from_slice(&stamp);
    let mut by_subject = subject_prefix(&record.subject);
    by_subject.extend_from_slice(&stamp);
    [stamp.to_vec(), by_customer, by_subject]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamps_sort_by_time_then_sequence_and_round_trip() {
        let stamps = [
            AccessStamp {
                at_ns: i128::MIN,
                sequence: 0,
            },
            AccessStamp {
                at_ns: -5,
                sequence: 9,
            },
            AccessStamp {
                at_ns: 0,
                sequence: 0,
            },
            AccessStamp {
                at_ns: 0,
                sequence: 1,
            },
            AccessStamp {
                at_ns: 1_700_000_000_000_000_000,
                sequence: 0,
            },
            AccessStamp {
                at_ns: i128::MAX,
                sequence: u64::MAX,
            },
        ];
        for pair in stamps.windows(2) {
            assert!(pair[0].bytes() < pair[1].bytes(), "{pair:?}");
        }
        for stamp in stamps {
            assert_eq!(AccessStamp::parse_cursor(&stamp.cursor()), Some(stamp));
        }
        assert_eq!(AccessStamp::parse_cursor("zz"), None);
        assert_eq!(AccessStamp::parse_cursor("00"), None);
    }

    #[test]
    fn a_subject_prefix_never_prefixes_another_subject() {
        let short = subject_prefix("agent-1");
        let long = subject_prefix("agent-12");
        assert!(!long.starts_with(&short));
    }
}
