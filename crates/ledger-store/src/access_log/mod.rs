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
//!    generator, and commits the batch in one transaction over the three trees (each record
//!    under its own key by time; one pack per customer and one per subject of the batch),
//!    then `flush` and `fdatasync`.
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
//! Three trees in the log's sled database, every key ending in a stamp: `at` as i128
//! nanoseconds with the sign bit flipped (so keys sort by time), big-endian, then the u64
//! sequence number.
//!
//! | tree | key | value |
//! |---|---|---|
//! | `access:by-time` | the record's stamp, or a pack's newest | a record, or a pack of records |
//! | `access:by-customer` | customer id (16 bytes) ‖ stamp | a record, or a pack |
//! | `access:by-subject` | subject length (u16 BE) ‖ subject ‖ stamp | a record, or a pack |
//!
//! A record is format 1 (format byte + codec of [`StoredAccess`]). Stores written before packs
//! hold a record under every key of the two indexes (its own stamp); since then the writer puts
//! one pack (format 2, [`StoredPack`]) per customer and per subject of a batch: the stamps of
//! that batch's records of the customer (or subject), oldest first, under the newest one's
//! stamp, spanning at most `ACCESS_PACK_SPAN_MS` of read times (a batch that spans more is cut
//! into several packs). The records themselves are only in `access:by-time`. Every sled insert
//! copies the tree node it lands in, and an index key per record made the writer a seventh of
//! the server's CPU under a read load; a pack is one insert per customer and subject a batch.
//! A record under an index key is exactly a pack of one, so a page reads both the same way.
//!
//! `access:by-time` is packed the same way since session 6 (format 3, [`StoredTimePack`]): a
//! batch's records, oldest first, under the newest one's stamp, at most `ACCESS_PACK_SPAN_MS`
//! and `ACCESS_TIME_PACK_RECORDS_MAX` a pack. sled's memory is per key, and a key per record
//! made this tree the store's largest. Packs never overlap: a record stamped at or before the
//! newest stamp already in the tree (a read whose batch came late) is stored alone under its
//! own stamp, as every record was before. So a record is found in the first pack at or after
//! its stamp, or alone under it.
//!
//! There is no update or delete: this module writes only new keys, and nothing else in the
//! ledger opens these trees.

mod writer;

use std::collections::BTreeMap;
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
    ACCESS_OPERATION_BYTES_MAX, ACCESS_PACK_SPAN_MS, ACCESS_PAGE_MAX, ACCESS_QUEUE_RECORDS_MAX,
    ACCESS_QUEUE_WAIT_MS, ACCESS_ROLE_BYTES_MAX, ACCESS_SUBJECT_BYTES_MAX,
    ACCESS_TIME_PACK_RECORDS_MAX,
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
/// The format byte of a stored pack of stamps.
const PACK_FORMAT: u8 = 2;
/// The format byte of a stored pack of records (`access:by-time`).
const TIME_PACK_FORMAT: u8 = 3;
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

/// The stored form of a pack: the stamps (nanoseconds, sequence number) of one batch's records
/// of one customer or subject, oldest first; its key ends in the last one.
#[derive(Debug, Serialize, Deserialize)]
struct StoredPack {
    stamps: Vec<(i128, u64)>,
}

/// The stored form of a pack of `access:by-time`: records with their sequence numbers, oldest
/// first; its key is the last one's stamp.
#[derive(Debug, Serialize, Deserialize)]
struct StoredTimePack {
    records: Vec<(u64, StoredAccess)>,
}

/// Where an access record sorts: its time, then its sequence number. Printed as a cursor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AccessStamp {
    at_ns: i128,
    sequence: u64,
}

impl AccessStamp {
    /// The earliest stamp there can be.
    const MIN: Self = Self {
        at_ns: i128::MIN,
        sequence: 0,
    };

    /// The latest stamp there can be.
    const MAX: Self = Self {
        at_ns: i128::MAX,
        sequence: u64::MAX,
    };

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
        let newest = match trees.by_time.last() {
            Ok(Some((key, _))) => Some(AccessStamp::from_bytes(&key).ok_or_else(|| {
                sled_failure(
                    "opening the access log",
                    "an access key does not end in a stamp",
                )
            })?),
            Ok(None) => None,
            Err(error) => return Err(sled_failure("reading the newest access record", error)),
        };
        let writer = Writer {
            newest,
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
        // Stamps from `lower` (inclusive) up to `upper` (exclusive; none: every later one).
        let lower = query.from.map_or(AccessStamp::MIN, AccessStamp::first_at);
        let upper = match (query.to.map(AccessStamp::first_at), query.after) {
            (Some(to), Some(after)) => Some(to.min(after)),
            (bound, None) | (None, bound) => bound,
        };
        let range = StampRange { lower, upper };
        let trees = &self.inner.trees;
        match &query.filter {
            AccessFilter::All => page_by_time(&trees.by_time, range, query.first),
            AccessFilter::Customer(customer) => {
                let index = Index {
                    tree: &trees.by_customer,
                    prefix: customer.as_uuid().as_bytes().to_vec(),
                    by_time: &trees.by_time,
                };
                index.page(range, query.first, |record| record.customer == *customer)
            }
            AccessFilter::Subject(subject) => {
                check_text(
                    "subject",
                    subject,
                    ACCESS_SUBJECT_BYTES_MAX,
                    "ACCESS_SUBJECT_BYTES_MAX",
                )?;
                let index = Index {
                    tree: &trees.by_subject,
                    prefix: subject_prefix(subject),
                    by_time: &trees.by_time,
                };
                index.page(range, query.first, |record| record.subject == *subject)
            }
        }
    }
}

/// The stamps a page lists: from `lower` (inclusive) to `upper` (exclusive), or every one
/// from `lower` on.
#[derive(Debug, Clone, Copy)]
struct StampRange {
    lower: AccessStamp,
    upper: Option<AccessStamp>,
}

impl StampRange {
    fn contains(self, stamp: AccessStamp) -> bool {
        stamp >= self.lower && self.upper.is_none_or(|upper| stamp < upper)
    }
}

fn reading_failure(error: sled::Error) -> AccessError {
    AccessError::Unavailable(sled_failure("reading access records", error))
}

/// A page of `access:by-time`, newest first. A pack under key K holds records from K back to
/// `ACCESS_PACK_SPAN_MS` before it, as an index's packs do, so it is read the way an index is.
fn page_by_time(
    tree: &sled::Tree,
    range: StampRange,
    first: usize,
) -> Result<AccessPage, AccessError> {
    let keys_upper = range.upper.map_or(AccessStamp::MAX, |upper| AccessStamp {
        at_ns: upper.at_ns.saturating_add(pack_span_ns()),
        sequence: u64::MAX,
    });
    let keys = (
        Bound::Included(range.lower.bytes().to_vec()),
        Bound::Included(keys_upper.bytes().to_vec()),
    );
    let mut page = PageBuilder::new(first, tree, |_: &AccessRecord| true);
    for entry in tree.range::<Vec<u8>, _>(keys).rev() {
        let (key, value) = entry.map_err(reading_failure)?;
        let key_stamp = AccessStamp::from_bytes(&key)
            .ok_or_else(|| corrupt("an access key does not end in a stamp"))?;
        if page.list_above(Some(key_stamp))? {
            return Ok(page.finish(true));
        }
        for (stamp, record) in time_entries(key_stamp, &value)? {
            if range.contains(stamp) {
                page.found.insert(stamp, Some(record));
            }
        }
    }
    let more = page.list_above(None)?;
    Ok(page.finish(more))
}

/// The records stored under `key_stamp` in `access:by-time`, oldest first: one record, or a
/// pack of them, each checked against its stamp.
fn time_entries(
    key_stamp: AccessStamp,
    value: &[u8],
) -> Result<Vec<(AccessStamp, AccessRecord)>, AccessError> {
    match value.first() {
        Some(&RECORD_FORMAT) => Ok(vec![(key_stamp, record_at(key_stamp, value)?)]),
        Some(&TIME_PACK_FORMAT) => decode_time_pack(key_stamp, value),
        _ => Err(corrupt("an access:by-time value has an unknown format")),
    }
}

/// The record stamped `stamp` in `access:by-time`: alone under its stamp, or in the first pack
/// after it (packs never overlap; records alone in between are late reads, stored alone).
fn find_by_time(
    tree: &sled::Tree,
    stamp: AccessStamp,
) -> Result<Vec<(AccessStamp, AccessRecord)>, AccessError> {
    let missing = || corrupt("an access pack names a record access:by-time does not hold");
    for entry in tree.range(stamp.bytes().to_vec()..) {
        let (key, value) = entry.map_err(reading_failure)?;
        let key_stamp = AccessStamp::from_bytes(&key)
            .ok_or_else(|| corrupt("an access key does not end in a stamp"))?;
        let packed = value.first() == Some(&TIME_PACK_FORMAT);
        if !packed && key_stamp != stamp {
            continue;
        }
        let entries = time_entries(key_stamp, &value)?;
        return if entries.iter().any(|(found, _)| *found == stamp) {
            Ok(entries)
        } else {
            Err(missing())
        };
    }
    Err(missing())
}

/// Decodes the record stored under `stamp`, checking that it says what its key says.
fn record_at(stamp: AccessStamp, value: &[u8]) -> Result<AccessRecord, AccessError> {
    let record = decode_record(value)?;
    // The value must say what its key says: check on the way out as on the way in.
    if record.at.as_nanosecond() != stamp.at_ns {
        return Err(corrupt("an access record's time differs from its key"));
    }
    Ok(record)
}

/// One of the two indexes (by customer, by subject), narrowed to one customer or subject.
struct Index<'a> {
    tree: &'a sled::Tree,
    prefix: Vec<u8>,
    by_time: &'a sled::Tree,
}

impl Index<'_> {
    fn key(&self, stamp: AccessStamp) -> Vec<u8> {
        let mut key = self.prefix.clone();
        key.extend_from_slice(&stamp.bytes());
        key
    }

    /// A page of the records this index lists for its prefix, newest first. `belongs` says
    /// whether a record is one the index may list under the prefix.
    ///
    /// Every value under a key stamped K holds records stamped at most K and at least
    /// `ACCESS_PACK_SPAN_MS` before it (a pack; an older store's record is a pack of one). So
    /// the keys read go from `lower` to a span above `upper`, newest first, and once the key
    /// stamped K is reached, every record still to be found is stamped K or older: the ones
    /// found above K are listed.
    fn page(
        &self,
        range: StampRange,
        first: usize,
        belongs: impl Fn(&AccessRecord) -> bool,
    ) -> Result<AccessPage, AccessError> {
        let keys_upper = range.upper.map_or(AccessStamp::MAX, |upper| AccessStamp {
            at_ns: upper.at_ns.saturating_add(pack_span_ns()),
            sequence: u64::MAX,
        });
        let keys = (
            Bound::Included(self.key(range.lower)),
            Bound::Included(self.key(keys_upper)),
        );
        let mut page = PageBuilder::new(first, self.by_time, belongs);
        for entry in self.tree.range::<Vec<u8>, _>(keys).rev() {
            let (key, value) = entry.map_err(reading_failure)?;
            let key_stamp = key
                .get(self.prefix.len()..)
                .and_then(AccessStamp::from_bytes)
                .ok_or_else(|| corrupt("an access key does not end in a stamp"))?;
            if page.list_above(Some(key_stamp))? {
                return Ok(page.finish(true));
            }
            match value.first() {
                Some(&RECORD_FORMAT) => {
                    let record = record_at(key_stamp, &value)?;
                    if range.contains(key_stamp) {
                        page.found.insert(key_stamp, Some(record));
                    }
                }
                Some(&PACK_FORMAT) => {
                    for stamp in decode_pack(key_stamp, &value)? {
                        if range.contains(stamp) {
                            page.found.insert(stamp, None);
                        }
                    }
                }
                _ => return Err(corrupt("an access index value has an unknown format")),
            }
        }
        let more = page.list_above(None)?;
        Ok(page.finish(more))
    }
}

/// A page being gathered from an index: records found but not yet listed, by stamp (with the
/// record when the index held it), and the records listed so far, newest first.
struct PageBuilder<'a, F> {
    found: BTreeMap<AccessStamp, Option<AccessRecord>>,
    items: Vec<(AccessStamp, AccessRecord)>,
    first: usize,
    by_time: &'a sled::Tree,
    /// The last pack of `access:by-time` read for a record: an index pack's records mostly
    /// come from one batch, so from one pack.
    last_pack: Vec<(AccessStamp, AccessRecord)>,
    belongs: F,
}

impl<'a, F: Fn(&AccessRecord) -> bool> PageBuilder<'a, F> {
    fn new(first: usize, by_time: &'a sled::Tree, belongs: F) -> Self {
        Self {
            found: BTreeMap::new(),
            items: Vec::with_capacity(first),
            first,
            by_time,
            last_pack: Vec::new(),
            belongs,
        }
    }

    /// The record stamped `stamp`, from the last pack read or from `access:by-time`.
    fn record(&mut self, stamp: AccessStamp) -> Result<AccessRecord, AccessError> {
        if let Ok(index) = self
            .last_pack
            .binary_search_by_key(&stamp, |(found, _)| *found)
        {
            return Ok(self.last_pack[index].1.clone());
        }
        self.last_pack = find_by_time(self.by_time, stamp)?;
        self.last_pack
            .iter()
            .find(|(found, _)| *found == stamp)
            .map(|(_, record)| record.clone())
            .ok_or_else(|| corrupt("an access pack names a record access:by-time does not hold"))
    }

    /// Lists the found records stamped above `floor` (every one, without a floor), newest
    /// first; true when the page is full and another record follows it.
    fn list_above(&mut self, floor: Option<AccessStamp>) -> Result<bool, AccessError> {
        while let Some(newest) = self.found.last_entry() {
            if floor.is_some_and(|floor| *newest.key() <= floor) {
                break;
            }
            if self.items.len() == self.first {
                return Ok(true);
            }
            let (stamp, record) = newest.remove_entry();
            let record = match record {
                Some(record) => record,
                None => self.record(stamp)?,
            };
            if !(self.belongs)(&record) {
                return Err(corrupt(
                    "an access index lists a record of another customer or subject",
                ));
            }
            self.items.push((stamp, record));
        }
        Ok(false)
    }

    fn finish(self, has_next_page: bool) -> AccessPage {
        AccessPage {
            items: self.items,
            has_next_page,
        }
    }
}

/// `ACCESS_PACK_SPAN_MS` in a stamp's nanoseconds.
fn pack_span_ns() -> i128 {
    i128::from(ACCESS_PACK_SPAN_MS) * 1_000_000
}

/// The stamps of the pack stored under `key_stamp`, checked against its key as the writer
/// made it: oldest first, the last one the key's, all within `ACCESS_PACK_SPAN_MS` of it.
fn decode_pack(key_stamp: AccessStamp, value: &[u8]) -> Result<Vec<AccessStamp>, AccessError> {
    let pack: StoredPack = codec::decode_versioned(PACK_FORMAT, value)
        .map_err(|error| corrupt(&format!("an access pack does not decode: {error}")))?;
    let stamps: Vec<AccessStamp> = pack
        .stamps
        .into_iter()
        .map(|(at_ns, sequence)| AccessStamp { at_ns, sequence })
        .collect();
    let ordered = stamps.windows(2).all(|pair| pair[0] < pair[1]);
    let keyed = stamps.last() == Some(&key_stamp);
    let spanned = stamps
        .first()
        .is_some_and(|oldest| key_stamp.at_ns.saturating_sub(oldest.at_ns) <= pack_span_ns());
    if !(ordered && keyed && spanned) {
        return Err(corrupt("an access pack does not match its key"));
    }
    Ok(stamps)
}

/// A key and the value written under it.
pub(crate) type KeyValue = (Vec<u8>, Vec<u8>);

/// The packs of a batch for one index: `stamps` by prefix (a customer's or a subject's),
/// each prefix's stamps oldest first, cut where they would span more than
/// `ACCESS_PACK_SPAN_MS`, each pack under its newest stamp.
fn packs_of(
    stamps: impl IntoIterator<Item = (Vec<u8>, Vec<AccessStamp>)>,
) -> Result<Vec<KeyValue>, StoreFailure> {
    let mut packs = Vec::new();
    for (prefix, mut stamps) in stamps {
        stamps.sort_unstable();
        let mut rest = stamps.as_slice();
        while let Some(oldest) = rest.first() {
            let length = rest
                .iter()
                .take_while(|stamp| stamp.at_ns.saturating_sub(oldest.at_ns) <= pack_span_ns())
                .count();
            let (pack, after) = rest.split_at(length);
            rest = after;
            let Some(newest) = pack.last() else {
                break;
            };
            let mut key = prefix.clone();
            key.extend_from_slice(&newest.bytes());
            let stored = StoredPack {
                stamps: pack
                    .iter()
                    .map(|stamp| (stamp.at_ns, stamp.sequence))
                    .collect(),
            };
            let value = codec::encode_versioned(PACK_FORMAT, &stored)
                .map_err(|error| sled_failure("encoding an access pack", error))?;
            packs.push((key, value));
        }
    }
    Ok(packs)
}

/// The packs of `access:by-time` for `records` (stamped, oldest first): cut where they would
/// span more than `ACCESS_PACK_SPAN_MS` or hold more than `ACCESS_TIME_PACK_RECORDS_MAX`, each
/// under its newest stamp.
fn time_packs_of(records: &[(AccessStamp, &AccessRecord)]) -> Result<Vec<KeyValue>, StoreFailure> {
    let mut packs = Vec::new();
    let mut rest = records;
    while let Some((oldest, _)) = rest.first() {
        let length = rest
            .iter()
            .take(ACCESS_TIME_PACK_RECORDS_MAX)
            .take_while(|(stamp, _)| stamp.at_ns.saturating_sub(oldest.at_ns) <= pack_span_ns())
            .count();
        let (pack, after) = rest.split_at(length);
        rest = after;
        let Some((newest, _)) = pack.last() else {
            break;
        };
        let stored = StoredTimePack {
            records: pack
                .iter()
                .map(|(stamp, record)| (stamp.sequence, stored_access(record)))
                .collect(),
        };
        let value = codec::encode_versioned(TIME_PACK_FORMAT, &stored)
            .map_err(|error| sled_failure("encoding an access:by-time pack", error))?;
        packs.push((newest.bytes().to_vec(), value));
    }
    Ok(packs)
}

/// The records of the pack stored under `key_stamp`, checked against its key as the writer
/// made it: oldest first, the last one the key's, all within `ACCESS_PACK_SPAN_MS` of it.
fn decode_time_pack(
    key_stamp: AccessStamp,
    value: &[u8],
) -> Result<Vec<(AccessStamp, AccessRecord)>, AccessError> {
    let pack: StoredTimePack = codec::decode_versioned(TIME_PACK_FORMAT, value)
        .map_err(|error| corrupt(&format!("an access:by-time pack does not decode: {error}")))?;
    let records = pack
        .records
        .into_iter()
        .map(|(sequence, stored)| {
            let stamp = AccessStamp {
                at_ns: stored.at_ns,
                sequence,
            };
            record_of(stored).map(|record| (stamp, record))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let ordered = records.windows(2).all(|pair| pair[0].0 < pair[1].0);
    let keyed = records.last().map(|(stamp, _)| *stamp) == Some(key_stamp);
    let spanned = records
        .first()
        .is_some_and(|(oldest, _)| key_stamp.at_ns.saturating_sub(oldest.at_ns) <= pack_span_ns());
    if !(ordered && keyed && spanned) {
        return Err(corrupt("an access:by-time pack does not match its key"));
    }
    Ok(records)
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
    codec::encode_versioned(RECORD_FORMAT, &stored_access(record))
        .map_err(|error| sled_failure("encoding an access record", error))
}

fn stored_access(record: &AccessRecord) -> StoredAccess {
    StoredAccess {
        at_ns: record.at.as_nanosecond(),
        subject: record.subject.clone(),
        role: record.role.clone(),
        customer: *record.customer.as_uuid().as_bytes(),
        operation: record.operation.clone(),
    }
}

fn decode_record(bytes: &[u8]) -> Result<AccessRecord, AccessError> {
    let stored: StoredAccess = codec::decode_versioned(RECORD_FORMAT, bytes)
        .map_err(|error| corrupt(&format!("an access record does not decode: {error}")))?;
    record_of(stored)
}

fn record_of(stored: StoredAccess) -> Result<AccessRecord, AccessError> {
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

/// Packs against the records they name: a page of either index, walked with cursors and time
/// bounds, lists exactly the records the time index lists for that customer or subject, in
/// its order, whether they were written as packs or, as stores before packs hold them, as a
/// record under every index key, and whatever order the clock gave their times.
#[cfg(test)]
mod pack_tests {
    use proptest::prelude::*;

    use super::*;

    /// A clock the test sets before each read.
    #[derive(Debug)]
    struct SetClock(Mutex<jiff::Timestamp>);

    impl Clock for SetClock {
        fn now(&self) -> jiff::Timestamp {
            *lock(&self.0)
        }
    }

    const START_MILLISECONDS: i64 = 1_750_000_000_000;
    const SUBJECTS: [&str; 3] = ["agent-1", "agent-12", "supervisor-1"];

    fn customer(index: u8) -> CustomerId {
        CustomerId::from_uuid(uuid::Uuid::from_u128(
            0x0190_0000_0000_7000_8000_0000_0000_0000 + u128::from(index),
        ))
    }

    fn time(offset_ms: i64) -> jiff::Timestamp {
        jiff::Timestamp::from_millisecond(START_MILLISECONDS + offset_ms).unwrap()
    }

    /// One read: when (milliseconds after the start), which customer, which subject.
    type Read = (i64, u8, usize);

    /// Writes `reads` as stores did before packs: the whole record under every index key.
    fn write_unpacked(trees: &Trees, reads: &[Read]) {
        for &(offset_ms, customer_index, subject_index) in reads {
            let record = AccessRecord {
                at: time(offset_ms),
                subject: SUBJECTS[subject_index].into(),
                role: "agent".into(),
                customer: customer(customer_index),
                operation: "timeline".into(),
            };
            let stamp = AccessStamp {
                at_ns: record.at.as_nanosecond(),
                sequence: trees.db.generate_id().unwrap(),
            }
            .bytes();
            let value = encode_record(&record).unwrap();
            trees.by_time.insert(stamp, value.as_slice()).unwrap();
            let mut by_customer = record.customer.as_uuid().as_bytes().to_vec();
            by_customer.extend_from_slice(&stamp);
            trees
                .by_customer
                .insert(by_customer, value.as_slice())
                .unwrap();
            let mut by_subject = subject_prefix(&record.subject);
            by_subject.extend_from_slice(&stamp);
            trees.by_subject.insert(by_subject, value).unwrap();
        }
    }

    /// Records `reads` through the writer, as one batch.
    async fn record_packed(log: &AccessLog, clock: &SetClock, reads: &[Read]) {
        for &(offset_ms, customer_index, subject_index) in reads {
            *lock(&clock.0) = time(offset_ms);
            log.record(AccessRead {
                subject: SUBJECTS[subject_index].into(),
                role: "agent".into(),
                customer: customer(customer_index),
                operation: "timeline".into(),
            })
            .await
            .unwrap();
        }
        log.sync().await.unwrap();
    }

    /// Every page of `filter` within `from`..`to`, `first` at a time, walked with cursors.
    fn walk(log: &AccessLog, query: &AccessQuery) -> Vec<(AccessStamp, AccessRecord)> {
        let mut query = query.clone();
        let mut listed = Vec::new();
        loop {
            let page = log.page(&query).unwrap();
            assert!(page.items.len() <= query.first);
            if page.has_next_page {
                assert_eq!(
                    page.items.len(),
                    query.first,
                    "a page short of `first` says more follow"
                );
            }
            listed.extend(page.items.iter().cloned());
            match page.items.last() {
                Some((stamp, _)) if page.has_next_page => query.after = Some(*stamp),
                _ => return listed,
            }
        }
    }

    fn read_strategy() -> impl Strategy<Value = Read> {
        (0_i64..4_000, 0_u8..3, 0_usize..SUBJECTS.len())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(24))]

        #[test]
        fn index_pages_list_what_the_time_index_lists(
            batches in proptest::collection::vec(
                (any::<bool>(), proptest::collection::vec(read_strategy(), 1..12)),
                1..6,
            ),
            bounds in proptest::collection::vec(
                (proptest::option::of(0_i64..4_000), proptest::option::of(0_i64..4_000), 1_usize..5),
                4,
            ),
        ) {
            let dir = tempfile::tempdir().unwrap();
            let db = sled::open(dir.path()).unwrap();
            let clock = Arc::new(SetClock(Mutex::new(time(0))));
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            let log = AccessLog::open(db, dir.path(), clock.clone(), Faults::new()).unwrap();
            runtime.block_on(async {
                for (unpacked, reads) in &batches {
                    if *unpacked {
                        write_unpacked(&log.inner.trees, reads);
                    } else {
                        record_packed(&log, &clock, reads).await;
                    }
                }
            });
            for (from, to, first) in bounds {
                let (from, to) = match (from, to) {
                    (Some(from), Some(to)) if to < from => (Some(to), Some(from)),
                    bounds => bounds,
                };
                let query = |filter| AccessQuery {
                    filter,
                    from: from.map(time),
                    to: to.map(time),
                    after: None,
                    first,
                };
                let everything = walk(&log, &AccessQuery { first: ACCESS_PAGE_MAX, ..query(AccessFilter::All) });
                // The time index lists every record written in the range, newest first (ties
                // in time by the order they were written).
                let mut model: Vec<(usize, &Read)> = batches
                    .iter()
                    .flat_map(|(_, reads)| reads)
                    .enumerate()
                    .filter(|(_, (offset_ms, ..))| {
                        from.is_none_or(|from| *offset_ms >= from) && to.is_none_or(|to| *offset_ms < to)
                    })
                    .collect();
                model.sort_by_key(|&(order, &(offset_ms, ..))| std::cmp::Reverse((offset_ms, order)));
                let listed: Vec<(jiff::Timestamp, CustomerId, String)> = everything
                    .iter()
                    .map(|(_, record)| (record.at, record.customer, record.subject.clone()))
                    .collect();
                let expected: Vec<(jiff::Timestamp, CustomerId, String)> = model
                    .iter()
                    .map(|&(_, &(offset_ms, customer_index, subject_index))| {
                        (time(offset_ms), customer(customer_index), SUBJECTS[subject_index].to_owned())
                    })
                    .collect();
                prop_assert_eq!(listed, expected);
                for index in 0..3 {
                    let expected: Vec<_> = everything
                        .iter()
                        .filter(|(_, record)| record.customer == customer(index))
                        .cloned()
                        .collect();
                    prop_assert_eq!(walk(&log, &query(AccessFilter::Customer(customer(index)))), expected);
                }
                for subject in SUBJECTS {
                    let expected: Vec<_> = everything
                        .iter()
                        .filter(|(_, record)| record.subject == subject)
                        .cloned()
                        .collect();
                    prop_assert_eq!(walk(&log, &query(AccessFilter::Subject(subject.into()))), expected);
                }
            }
            runtime.block_on(log.close()).unwrap();
        }
    }

    /// In-order batches share keys of `access:by-time`; a read older than what the tree holds
    /// is stored alone, also after a reopen, and every record is found from the indexes.
    #[test]
    fn the_time_index_packs_batches_and_stores_late_reads_alone() {
        let dir = tempfile::tempdir().unwrap();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let clock = Arc::new(SetClock(Mutex::new(time(0))));
        let keys = |log: &AccessLog| -> Vec<u8> {
            log.inner
                .trees
                .by_time
                .iter()
                .map(|entry| entry.unwrap().1[0])
                .collect()
        };
        let in_order: Vec<Read> = (0..300).map(|index| (index, 0, 0)).collect();
        let db = sled::open(dir.path()).unwrap();
        let log = AccessLog::open(db.clone(), dir.path(), clock.clone(), Faults::new()).unwrap();
        runtime.block_on(record_packed(&log, &clock, &in_order));
        // 300 records in 300 ms: packs only, at least two (at most ACCESS_TIME_PACK_RECORDS_MAX
        // a pack). Where the writer cuts its batches depends on timing: on a loaded machine it
        // may wake before all 300 are queued, and each batch has packs of its own.
        let packed = keys(&log);
        assert!(packed.len() >= 2, "{packed:?}");
        assert!(
            packed.iter().all(|format| *format == TIME_PACK_FORMAT),
            "{packed:?}"
        );
        runtime.block_on(log.close()).unwrap();
        drop(log);
        let log = AccessLog::open(db, dir.path(), clock.clone(), Faults::new()).unwrap();
        runtime.block_on(record_packed(&log, &clock, &[(150, 1, 1), (5_000, 2, 2)]));
        // The read at 150 ms is older than the tree's newest (299 ms): alone under its stamp,
        // among packs that hold older reads; the read at 5 s is in order, a pack of one.
        let formats = keys(&log);
        let count = |wanted: u8| formats.iter().filter(|format| **format == wanted).count();
        assert_eq!(count(RECORD_FORMAT), 1, "{formats:?}");
        assert_eq!(count(TIME_PACK_FORMAT), packed.len() + 1, "{formats:?}");
        let all = |filter| AccessQuery {
            filter,
            from: None,
            to: None,
            after: None,
            first: ACCESS_PAGE_MAX,
        };
        assert_eq!(walk(&log, &all(AccessFilter::All)).len(), 302);
        let late = walk(&log, &all(AccessFilter::Customer(customer(1))));
        assert_eq!(late.len(), 1);
        assert_eq!(late[0].1.at, time(150));
        let first = walk(&log, &all(AccessFilter::Subject(SUBJECTS[0].into())));
        assert_eq!(first.len(), 300);
        assert_eq!(first.last().unwrap().1.at, time(0));
        runtime.block_on(log.close()).unwrap();
    }

    #[test]
    fn a_batch_spanning_more_than_a_pack_is_cut_into_packs_under_their_newest_stamps() {
        let stamp = |at_ms: i64, sequence| AccessStamp {
            at_ns: time(at_ms).as_nanosecond(),
            sequence,
        };
        let span_ms = i64::try_from(ACCESS_PACK_SPAN_MS).unwrap();
        let stamps = vec![stamp(span_ms + 1, 3), stamp(0, 1), stamp(span_ms, 2)];
        let packs = packs_of([(b"p".to_vec(), stamps)]).unwrap();
        let keys: Vec<Vec<u8>> = packs.iter().map(|(key, _)| key.clone()).collect();
        let key = |stamp: AccessStamp| [b"p".as_slice(), &stamp.bytes()].concat();
        assert_eq!(keys, [key(stamp(span_ms, 2)), key(stamp(span_ms + 1, 3))]);
        assert_eq!(
            decode_pack(stamp(span_ms, 2), &packs[0].1).unwrap(),
            [stamp(0, 1), stamp(span_ms, 2)]
        );
        assert_eq!(
            decode_pack(stamp(span_ms + 1, 3), &packs[1].1).unwrap(),
            [stamp(span_ms + 1, 3)]
        );
        // Read back under another key, a pack is refused rather than misread.
        assert!(decode_pack(stamp(span_ms + 1, 3), &packs[0].1).is_err());
    }
}
