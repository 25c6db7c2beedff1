//! The writer's second stage, on a thread of its own: writes a decided group as packed chunks
//! in one `apply_batch`, flushes, syncs, and only then publishes the group to the indexes and
//! the head and answers its callers. The first stage ([`super::Writer`]) decides and compresses
//! the next group meanwhile, and waits for this one to land before it hands that one over, so
//! at most one group is ever between the two.

use std::sync::Arc;
use std::sync::mpsc::{Receiver, SyncSender};

use super::{Answer, OutcomeCounts, Sealed};
use crate::error::StoreFailure;
use crate::faults::{FaultPoint, Faults};
use crate::record::{HEAD_KEY, HeadValue, chunk_key};
use crate::sled_log::Shared;
use crate::sled_log::durability::Durability;
use crate::sled_log::index::len_u64;

/// A decided group handed to the second stage, with the answers it sends once durable.
pub(super) struct Handoff {
    pub sealed: Sealed,
    pub answers: Vec<Answer>,
    pub counts: OutcomeCounts,
}

/// How a handed-off group ended: durable and published, or the failure that poisoned the
/// store (its callers were refused, or, when only publishing failed, told it is durable).
pub(super) type Landed = Result<(), StoreFailure>;

/// The second stage's state, moved to its thread.
pub(crate) struct Io {
    pub shared: Arc<Shared>,
    pub durability: Durability,
    pub faults: Faults,
}

impl Io {
    /// Lands each group handed over, in order, reporting each, until the first stage hangs
    /// up; then makes sure everything is durable.
    pub(super) fn run(mut self, handoffs: Receiver<Handoff>, landed: SyncSender<Landed>) {
        for handoff in handoffs {
            let outcome = self.land(handoff);
            if landed.send(outcome).is_err() {
                break;
            }
        }
        self.finish();
    }

    /// Writes one group, makes it durable, publishes it and answers its callers.
    fn land(&mut self, handoff: Handoff) -> Landed {
        let Handoff {
            sealed,
            answers,
            counts,
        } = handoff;
        match self.write(&sealed) {
            Ok(blob_syncs) => {
                self.shared
                    .stats
                    .count_group(counts, len_u64(sealed.record_count), blob_syncs);
                let published =
                    self.shared
                        .publish(sealed.head, &sealed.staged, &sealed.chunk_starts);
                let outcome = published.map_err(|error| {
                    // The group is durable, so its callers hear so; but the indexes no longer
                    // hold every record, so nothing more is written until a reopen rebuilds them.
                    let cause = format!("the indexes could not take a durable group: {error}");
                    tracing::error!(%cause, "the event log refuses writes until reopened");
                    self.shared.poison(cause.clone());
                    StoreFailure::Poisoned { cause }
                });
                answers.into_iter().for_each(Answer::send);
                outcome
            }
            Err(failure) => {
                tracing::error!(%failure, "group commit failed; the event log refuses writes until reopened");
                self.shared.poison(failure.to_string());
                answers
                    .into_iter()
                    .for_each(|answer| answer.refuse(&failure));
                Err(StoreFailure::Poisoned {
                    cause: failure.to_string(),
                })
            }
        }
    }

    /// Writes one sealed group and makes it durable. Returns the blob files synced.
    fn write(&mut self, sealed: &Sealed) -> Result<u64, StoreFailure> {
        let mut batch = sled::Batch::default();
        for (first_position, value) in &sealed.chunks {
            batch.insert(&chunk_key(*first_position)[..], value.as_slice());
        }
        batch.insert(HEAD_KEY, HeadValue::of(&sealed.head).encode());
        let step = |point: FaultPoint, operation: &str| {
            self.faults
                .check(point)
                .map_err(|error| StoreFailure::io(operation, error))
        };
        step(FaultPoint::BeforeWrite, "apply_batch")?;
        self.shared
            .tree
            .apply_batch(batch)
            .map_err(|error| StoreFailure::io("apply_batch", error))?;
        step(FaultPoint::BeforeFlush, "flush")?;
        self.shared
            .db
            .flush()
            .map_err(|error| StoreFailure::io("flush", error))?;
        step(FaultPoint::BeforeSync, "fdatasync of log/db")?;
        let synced = self.durability.sync()?;
        step(FaultPoint::AfterSync, "after sync")?;
        Ok(synced.blob_syncs)
    }

    /// The queue is closed and drained: make sure everything is durable and say so.
    fn finish(&mut self) {
        if self.shared.poisoned().is_none() {
            let flushed = self
                .shared
                .db
                .flush()
                .map_err(|error| StoreFailure::io("flush", error));
            if let Err(failure) = flushed.and_then(|_| self.durability.sync()) {
                tracing::error!(%failure, "final flush of the event log failed");
                self.shared.poison(failure.to_string());
            }
        }
    }
}
