//! The ledger's application layer: commands in, read models out.
//!
//! - [`Ledger`]: the store, the projection runner and command handling together; what the
//!   server and the command line open.
//! - [`commands`]: load → decide → append, with retries on a lost race and idempotent retries
//!   by event id.
//! - [`runner`]: feeds every projection the log exactly once (checkpoints committed with state,
//!   catch-up, live, rebuild, point-in-time builds, wait-for-position).
//! - [`overlay`]: a batch's pending writes over committed projection state.
//!
//! A request flows: the GraphQL layer turns a mutation into a [`ledger_domain::commands::Command`]
//! → [`Ledger::execute`] → the event log (durable) → the runner's live task applies it to each
//! read model → queries read the read models (after [`runner::ProjectionRunner::wait_for`] when
//! the caller asked to read its own write).

pub mod commands;
pub mod overlay;
pub mod runner;

use std::path::Path;
use std::sync::Arc;

use ledger_domain::ids::CustomerId;
use ledger_domain::projection::Projection;
use ledger_domain::values::Identifier;
use ledger_store::{OpenError, SledEventLog, StoreFailure, StoreOptions};

pub use commands::{CommandError, CommandMeta, Executed};
pub use runner::{ProjectionRunner, RunnerError};

/// The names of the standard read models, as the runner and the command line know them.
pub mod names {
    pub const CUSTOMER_DIRECTORY: &str = "customer-directory";
    pub const CUSTOMER_TIMELINE: &str = "customer-timeline";
    pub const SERVICE_HISTORY: &str = "service-history";
}

/// Why the ledger could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum LedgerOpenError {
    #[error(transparent)]
    Store(#[from] OpenError),
    #[error(transparent)]
    Runner(#[from] RunnerError),
    #[error("the business calendar: {0}")]
    Calendar(String),
}

/// Every read model the ledger maintains, in the order the runner feeds them.
pub fn standard_projections() -> Result<Vec<Arc<dyn Projection>>, LedgerOpenError> {
    let service_history = service_history::ServiceHistory::shipped()
        .map_err(|error| LedgerOpenError::Calendar(error.to_string()))?;
    Ok(vec![
        Arc::new(customer_directory::CustomerDirectory),
        Arc::new(customer_timeline::CustomerTimeline),
        Arc::new(service_history),
    ])
}

/// An open ledger: the log, its read models and command handling. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Ledger {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    log: SledEventLog,
    runner: ProjectionRunner,
    gate: commands::IdentifierGate,
}

impl Ledger {
    /// Opens the ledger in `dir` with the standard projections. The runner is not started:
    /// call [`Ledger::start`] (server) or [`ProjectionRunner::catch_up`] (command line).
    pub fn open(dir: &Path, options: StoreOptions) -> Result<Self, LedgerOpenError> {
        let log = SledEventLog::open(dir, options)?;
        Self::with_projections(log, standard_projections()?)
    }

    /// A ledger over an open log with the given projections.
    pub fn with_projections(
        log: SledEventLog,
        projections: Vec<Arc<dyn Projection>>,
    ) -> Result<Self, LedgerOpenError> {
        let runner = ProjectionRunner::new(log.clone(), projections)?;
        Ok(Self {
            inner: Arc::new(Inner {
                log,
                runner,
                gate: commands::IdentifierGate::default(),
            }),
        })
    }

    /// Starts the runner's task (catch-up, then live).
    pub fn start(&self) -> tokio::task::JoinHandle<()> {
        self.inner.runner.spawn()
    }

    pub fn log(&self) -> &SledEventLog {
        &self.inner.log
    }

    pub fn runner(&self) -> &ProjectionRunner {
        &self.inner.runner
    }

    pub(crate) fn identifier_gate(&self) -> &commands::IdentifierGate {
        &self.inner.gate
    }

    /// Who holds `identifier` now, according to the customer directory.
    pub fn identifier_owner(
        &self,
        identifier: &Identifier,
    ) -> Result<Option<CustomerId>, RunnerError> {
        let directory = self.inner.runner.reader(names::CUSTOMER_DIRECTORY)?;
        customer_directory::identifier_owner(&directory, identifier).map_err(|source| {
            RunnerError::State {
                projection: names::CUSTOMER_DIRECTORY.into(),
                source,
            }
        })
    }

    /// Drains pending appends, syncs, and flushes the read models.
    pub async fn close(&self) -> Result<(), StoreFailure> {
        let closed = self.inner.log.close().await;
        self.inner.log.projections().flush()?;
        closed
    }
}
