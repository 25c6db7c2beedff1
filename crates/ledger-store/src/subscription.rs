//! Subscriptions: every record from a position on, first by catching up in pages, then live as
//! the writer publishes new durable heads on a `tokio::sync::watch`.
//!
//! There is no gap and no duplicate at the hand-over because there is no hand-over: the
//! subscription always reads the log from its own cursor, and the watch only says how far the
//! durable log reaches. The watch value is marked seen *before* the log is read, so a head
//! published while reading wakes the next wait.

use std::collections::VecDeque;
use std::fmt;
use std::sync::Arc;

use ledger_domain::ids::Position;
use tokio::sync::watch;

use crate::error::StoreFailure;
use crate::limits::{READ_PAGE_MAX, SUBSCRIPTION_PAGE_EVENTS};
use crate::types::{Head, RecordedEvent};

/// What the writer publishes: the durable head and whether the log still takes writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LogState {
    pub head: Head,
    pub status: LogStatus,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum LogStatus {
    Open,
    /// A write failed: the head will not move again until the store is reopened.
    Poisoned(String),
    /// The writer ended.
    Closed,
}

/// Reads pages of durable records; implemented by each store.
pub(crate) trait PageSource: Send + Sync {
    fn read_page(&self, from: Position, max: usize) -> Result<Vec<RecordedEvent>, StoreFailure>;
}

/// A live feed of records from a position on. Holding one keeps the store's database open.
pub struct Subscription {
    source: Arc<dyn PageSource>,
    state: watch::Receiver<LogState>,
    /// The position of the next record to hand out.
    cursor: Position,
    buffer: VecDeque<RecordedEvent>,
}

impl fmt::Debug for Subscription {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("Subscription")
            .field("cursor", &self.cursor)
            .field("buffered", &self.buffer.len())
            .finish_non_exhaustive()
    }
}

impl Subscription {
    pub(crate) fn new(
        source: Arc<dyn PageSource>,
        state: watch::Receiver<LogState>,
        from: Position,
    ) -> Self {
        Self {
            source,
            state,
            cursor: Position(from.get().max(1)),
            buffer: VecDeque::new(),
        }
    }

    /// The position the next record will have.
    pub fn cursor(&self) -> Position {
        self.cursor
    }

    /// The next record, waiting until it is durable. Fails if the store is closed or poisoned
    /// once every durable record has been handed out, or if a read fails.
    pub async fn next(&mut self) -> Result<RecordedEvent, StoreFailure> {
        loop {
            if let Some(record) = self.buffer.pop_front() {
                return Ok(record);
            }
            let state = self.state.borrow_and_update().clone();
            if state.head.position >= self.cursor {
                let page = self
                    .source
                    .read_page(self.cursor, SUBSCRIPTION_PAGE_EVENTS)?;
                let Some(last) = page.last() else {
                    return Err(StoreFailure::Corrupt {
                        position: self.cursor,
                        detail: "the head is past this position but the log has no record there"
                            .into(),
                    });
                };
                self.cursor = last.position.next();
                self.buffer.extend(page);
                continue;
            }
            match state.status {
                LogStatus::Open => {}
                LogStatus::Poisoned(cause) => return Err(StoreFailure::Poisoned { cause }),
                LogStatus::Closed => return Err(StoreFailure::Closed),
            }
            if self.state.changed().await.is_err() {
                return Err(StoreFailure::Closed);
            }
        }
    }

    /// The next records, at least one and at most `max` (≤ `READ_PAGE_MAX`), in order: waits
    /// for the first like [`Self::next`], then takes whatever else is already durable.
    pub async fn next_batch(&mut self, max: usize) -> Result<Vec<RecordedEvent>, StoreFailure> {
        if max > READ_PAGE_MAX {
            return Err(StoreFailure::PageTooLarge {
                requested: max,
                limit: READ_PAGE_MAX,
            });
        }
        if max == 0 {
            return Ok(Vec::new());
        }
        let mut batch = vec![self.next().await?];
        while batch.len() < max {
            if let Some(record) = self.buffer.pop_front() {
                batch.push(record);
                continue;
            }
            if self.state.borrow().head.position < self.cursor {
                break;
            }
            let page = self.source.read_page(self.cursor, max - batch.len())?;
            let Some(last) = page.last() else { break };
            self.cursor = last.position.next();
            batch.extend(page);
        }
        Ok(batch)
    }
}
