//! The access writer: one thread that gathers queued access records into batches and commits
//! each batch in one transaction over the three access trees (the batch's records in packs by
//! time, a late one alone; one pack of stamps per customer and per subject of the batch), then
//! flushes and fdatasyncs.
//!
//! It runs a single-threaded tokio runtime of its own, only to wait on the queue and the flush
//! interval; the sled and file IO it does blocks that thread alone, never a reader's task.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sled::Transactional;
use sled::transaction::ConflictableTransactionError;
use tokio::sync::{Notify, mpsc, oneshot};
use tokio::time::Instant;

use crate::error::StoreFailure;
use crate::faults::{FaultPoint, Faults};
use crate::limits::{ACCESS_BATCH_RECORDS_MAX, ACCESS_FLUSH_INTERVAL_MS};
use crate::sled_log::Durability;

use super::{
    AccessRecord, AccessStamp, KeyValue, Trees, encode_record, lock, packs_of, subject_prefix,
    time_packs_of,
};

/// What the queue carries.
#[derive(Debug)]
pub(crate) enum Message {
    Record(AccessRecord),
    /// Commit everything queued so far now, and answer when it is durable.
    Sync(oneshot::Sender<Result<(), StoreFailure>>),
}

pub(crate) struct Writer {
    /// The newest stamp in `access:by-time` (a record's or a pack's key): a record stamped at
    /// or before it is stored alone, so that packs never overlap.
    pub newest: Option<AccessStamp>,
    pub trees: Trees,
    pub receiver: mpsc::Receiver<Message>,
    pub durability: Durability,
    pub faults: Faults,
    pub poison: Arc<Mutex<Option<String>>>,
    /// Ends the writer's wait for more records early: a `sync` or a close is waiting.
    pub wake: Arc<Notify>,
}

/// One batch on its way to disk.
#[derive(Default)]
struct Batch {
    records: Vec<AccessRecord>,
    waiters: Vec<oneshot::Sender<Result<(), StoreFailure>>>,
}

impl Batch {
    fn take(&mut self, message: Message) {
        match message {
            Message::Record(record) => self.records.push(record),
            Message::Sync(reply) => self.waiters.push(reply),
        }
    }

    /// Full, or someone waits for it: commit now.
    fn ready(&self) -> bool {
        self.full() || !self.waiters.is_empty()
    }

    fn full(&self) -> bool {
        self.records.len() >= ACCESS_BATCH_RECORDS_MAX
    }
}

impl Writer {
    pub fn run(mut self) {
        let runtime = match tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
        {
            Ok(runtime) => runtime,
            Err(error) => {
                let failure = StoreFailure::io("starting the access writer's runtime", error);
                self.poison_with(&failure, 0);
                return;
            }
        };
        runtime.block_on(async {
            let interval = Duration::from_millis(ACCESS_FLUSH_INTERVAL_MS);
            // Ends when every sender is gone and the queue is drained: the graceful close.
            while let Some(first) = self.receiver.recv().await {
                let mut batch = Batch::default();
                batch.take(first);
                if !batch.ready() {
                    // Sleep out the interval rather than wake for each record: while this
                    // thread does not poll the queue, a reader's `try_send` wakes nobody. A
                    // `sync` (or a close) cuts the wait short.
                    tokio::select! {
                        () = tokio::time::sleep_until(Instant::now() + interval) => {}
                        () = self.wake.notified() => {}
                    }
                }
                while !batch.full() {
                    match self.receiver.try_recv() {
                        Ok(message) => batch.take(message),
                        // Empty, or closed (the next `recv` ends the loop).
                        Err(_) => break,
                    }
                }
                self.commit(batch);
            }
        });
    }

    fn commit(&mut self, batch: Batch) {
        let poisoned = lock(&self.poison).clone();
        let outcome = match poisoned {
            Some(cause) => Err(StoreFailure::Poisoned { cause }),
            None => self.write(&batch.records),
        };
        if let Err(failure) = &outcome
            && !matches!(failure, StoreFailure::Poisoned { .. })
        {
            self.poison_with(failure, batch.records.len());
        }
        for waiter in batch.waiters {
            // A waiter that gave up is no one's concern.
            let _ = waiter.send(outcome.clone());
        }
    }

    fn poison_with(&self, failure: &StoreFailure, lost: usize) {
        tracing::error!(%failure, lost_records = lost, "access records could not be written; reads are refused until the store is reopened");
        *lock(&self.poison) = Some(failure.to_string());
    }

    /// Writes `records` in one transaction over the three trees, then makes them durable.
    fn write(&mut self, records: &[AccessRecord]) -> Result<(), StoreFailure> {
        if records.is_empty() {
            return Ok(());
        }
        self.faults
            .check(FaultPoint::AccessWrite)
            .map_err(|error| StoreFailure::io("writing access records", error))?;
        let mut stamped: Vec<(AccessStamp, &AccessRecord)> = Vec::with_capacity(records.len());
        let mut by_customer: HashMap<Vec<u8>, Vec<AccessStamp>> = HashMap::new();
        let mut by_subject: HashMap<Vec<u8>, Vec<AccessStamp>> = HashMap::new();
        for record in records {
            // sled's ids are unique and increase across restarts, so no two records share a
            // stamp and a later record never sorts before an earlier one of the same instant.
            let sequence = self
                .trees
                .db
                .generate_id()
                .map_err(|error| StoreFailure::io("numbering an access record", error))?;
            let stamp = AccessStamp {
                at_ns: record.at.as_nanosecond(),
                sequence,
            };
            stamped.push((stamp, record));
            by_customer
                .entry(record.customer.as_uuid().as_bytes().to_vec())
                .or_default()
                .push(stamp);
            by_subject
                .entry(subject_prefix(&record.subject))
                .or_default()
                .push(stamp);
        }
        stamped.sort_unstable_by_key(|(stamp, _)| *stamp);
        // Records stamped at or before what the tree already holds go alone under their stamp.
        let late = self.newest.map_or(0, |newest| {
            stamped.partition_point(|(stamp, _)| *stamp <= newest)
        });
        let mut by_time = sled::Batch::default();
        for (stamp, record) in &stamped[..late] {
            by_time.insert(stamp.bytes().to_vec(), encode_record(record)?);
        }
        for (key, value) in time_packs_of(&stamped[late..])? {
            by_time.insert(key, value);
        }
        let newest = stamped.last().map(|(stamp, _)| *stamp);
        let by_customer = batch_of(packs_of(by_customer)?);
        let by_subject = batch_of(packs_of(by_subject)?);
        (
            &self.trees.by_time,
            &self.trees.by_customer,
            &self.trees.by_subject,
        )
            .transaction(|(time, customer, subject)| {
                time.apply_batch(&by_time)?;
                customer.apply_batch(&by_customer)?;
                subject.apply_batch(&by_subject)?;
                Ok::<(), ConflictableTransactionError<()>>(())
            })
            .map_err(|error| StoreFailure::io("committing access records", format!("{error:?}")))?;
        self.trees
            .db
            .flush()
            .map_err(|error| StoreFailure::io("flushing access records", error))?;
        self.durability.sync()?;
        self.newest = self.newest.max(newest);
        Ok(())
    }
}

fn batch_of(pairs: Vec<KeyValue>) -> sled::Batch {
    let mut batch = sled::Batch::default();
    for (key, value) in pairs {
        batch.insert(key, value);
    }
    batch
}
