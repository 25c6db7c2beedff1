//! The ledger's application layer: commands in, read models out.
//!
//! - [`Ledger`]: the store, the projection runner and command handling together; what the
//!   server and the command line open.
//! - [`commands`]: load → decide → append, with retries on a lost race and idempotent retries
//!   by event id.
//! - [`runner`]: feeds every projection the log exactly once (checkpoints committed with state,
//!   catch-up, live, rebuild, point-in-time builds, wait-for-position).
//! - [`overlay`]: a batch's pending writes over committed projection state.
//! - [`segment_service`]: the segment rules, loaded (and checked) at start-up, and the engine
//!   that evaluates them over the `segments` read model for the API.
//! - [`proofs`]: the RFC 9162 Merkle tree over the log (leaf index = position − 1), extended
//!   lazily to the head, and the roots, inclusion and consistency proofs and signed checkpoints
//!   an auditor asks for.
//!
//! A request flows: the GraphQL layer turns a mutation into a [`ledger_domain::commands::Command`]
//! → [`Ledger::execute`] → the event log (durable) → the runner's live task applies it to each
//! read model → queries read the read models (after [`runner::ProjectionRunner::wait_for`] when
//! the caller asked to read its own write).

pub mod aggregate_cache;
pub mod bulk;
pub mod commands;
pub mod erasure;
pub mod overlay;
pub mod personal;
pub mod proofs;
pub mod runner;
pub mod segment_service;
pub mod written_keys;

use std::path::Path;
use std::sync::Arc;

use ledger_domain::aggregates::CustomerStanding;
use ledger_domain::ids::{CustomerId, Position};
use ledger_domain::projection::Projection;
use ledger_domain::values::Identifier;
use ledger_proof::{Hash, SignedCheckpoint, SigningKey};
use ledger_store::{OpenError, SledEventLog, StoreFailure, StoreOptions};

pub use commands::{CommandError, CommandMeta, Executed};
pub use proofs::{
    ConsistencyProof, InclusionProof, ProofRejection, ProofRequestError, TreeFailure, TreeHead,
};
pub use runner::{ProjectionRunner, RunnerError};

/// The names of the standard read models, as the runner and the command line know them.
pub mod names {
    pub const CUSTOMER_DIRECTORY: &str = "customer-directory";
    pub const CUSTOMER_TIMELINE: &str = "customer-timeline";
    pub const SERVICE_HISTORY: &str = "service-history";
    pub const SEGMENTS: &str = "segments";
    pub const ANALYTICS: &str = "analytics";
    pub const MARKETING: &str = "marketing";
    pub const PERFORMANCE: &str = "performance";
    pub const PROCESSES: &str = "processes";
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
    /// A segment rule that does not load (`segments.toml`): its file, segment, line and column.
    /// (Its message is part of this one, so it is not also a `source`: a chain printed whole
    /// would say it twice. The same for `Keys` and `Erasure`.)
    #[error("the segment rules: {0}")]
    SegmentRules(segments::RuleError),
    #[error("cannot read the segment rules {path}: {message}")]
    SegmentRulesFile { path: String, message: String },
    /// The master key is missing or wrong, or a data key does not unwrap.
    #[error("personal data keys: {0}")]
    Keys(personal::KeyError),
    /// An erasure interrupted by a crash could not be finished.
    #[error("finishing an interrupted erasure: {0}")]
    Erasure(erasure::ErasureError),
}

impl From<segments::RuleError> for LedgerOpenError {
    fn from(error: segments::RuleError) -> Self {
        Self::SegmentRules(error)
    }
}

impl From<personal::KeyError> for LedgerOpenError {
    fn from(error: personal::KeyError) -> Self {
        Self::Keys(error)
    }
}

impl From<erasure::ErasureError> for LedgerOpenError {
    fn from(error: erasure::ErasureError) -> Self {
        Self::Erasure(error)
    }
}

/// How the ledger gets at its data keys: the master key (from configuration or
/// [`personal::MASTER_KEY_ENV`]) and where new data keys come from.
#[derive(Debug, Clone)]
pub struct KeyOptions {
    pub master: personal::MasterKey,
    pub source: personal::KeySource,
}

impl KeyOptions {
    /// Random data keys under `master`: every real ledger.
    pub fn new(master: personal::MasterKey) -> Self {
        Self {
            master,
            source: personal::KeySource::Random,
        }
    }

    /// A fixed master key and random data keys, for tests only.
    #[doc(hidden)]
    pub fn insecure_for_tests() -> Self {
        Self::new(personal::MasterKey::insecure_for_tests())
    }
}

/// Every read model the ledger maintains, in the order the runner feeds them.
pub fn standard_projections() -> Result<Vec<Arc<dyn Projection>>, LedgerOpenError> {
    let service_history = service_history::ServiceHistory::shipped()
        .map_err(|error| LedgerOpenError::Calendar(error.to_string()))?;
    Ok(vec![
        Arc::new(customer_directory::CustomerDirectory),
        Arc::new(customer_timeline::CustomerTimeline),
        Arc::new(service_history),
        Arc::new(segments::Segments),
        Arc::new(analytics::Analytics),
        Arc::new(marketing::Marketing),
        Arc::new(performance::Performance),
        Arc::new(processes::Processes),
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
    keys: Arc<personal::KeyRing>,
    runner: ProjectionRunner,
    gates: commands::Gates,
    tree: proofs::LedgerTree,
    segments: segment_service::SegmentService,
    aggregates: aggregate_cache::AggregateCache,
}

impl Ledger {
    /// Opens the ledger in `dir` with the standard projections. The runner is not started:
    /// call [`Ledger::start`] (server) or [`ProjectionRunner::catch_up`] (command line).
    ///
    /// Segment rules come from `DIR/segments.toml` when that file exists (analysts add their
    /// segments there, starting from a copy of `projections/segments/segments.toml`), else the
    /// built-in rules; a bad rule stops the ledger from opening, naming the segment, line and
    /// column.
    ///
    /// The master key in `keys` must open the ledger's data keys (a wrong one is
    /// [`personal::KeyError::WrongMasterKey`]); an erasure a crash interrupted is finished here.
    pub fn open(
        dir: &Path,
        options: StoreOptions,
        keys: KeyOptions,
    ) -> Result<Self, LedgerOpenError> {
        let segments = segment_service::SegmentService::for_data_dir(dir)?;
        let mut leaves = proofs::OpenLeaves::default();
        let log = SledEventLog::open_visiting(dir, options, &mut |record| leaves.visit(record))?;
        Self::assemble(log, standard_projections()?, segments, keys, leaves)
    }

    /// A ledger over an open log with the given projections.
    pub fn with_projections(
        log: SledEventLog,
        projections: Vec<Arc<dyn Projection>>,
        keys: KeyOptions,
    ) -> Result<Self, LedgerOpenError> {
        // Loaded here, at start-up, so that a bad rule stops the ledger from opening.
        Self::assemble(
            log,
            projections,
            segment_service::SegmentService::shipped()?,
            keys,
            proofs::OpenLeaves::default(),
        )
    }

    fn assemble(
        log: SledEventLog,
        projections: Vec<Arc<dyn Projection>>,
        segments: segment_service::SegmentService,
        keys: KeyOptions,
        leaves: proofs::OpenLeaves,
    ) -> Result<Self, LedgerOpenError> {
        let keys = Arc::new(open_keys(&log, keys)?);
        let runner = ProjectionRunner::new(log.clone(), projections, keys.clone())?;
        Ok(Self {
            inner: Arc::new(Inner {
                tree: proofs::LedgerTree::starting_from(log.clone(), leaves),
                log,
                keys,
                runner,
                gates: commands::Gates::default(),
                segments,
                aggregates: aggregate_cache::AggregateCache::default(),
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

    /// The data keys: sealing and opening personal fields (see [`personal`]).
    pub fn keys(&self) -> &Arc<personal::KeyRing> {
        &self.inner.keys
    }

    /// The segment rules loaded at start-up and their snapshot cache (see [`segment_service`]).
    pub fn segments(&self) -> &segment_service::SegmentService {
        &self.inner.segments
    }

    /// The Merkle tree over the log (see [`proofs`]).
    pub fn tree(&self) -> &proofs::LedgerTree {
        &self.inner.tree
    }

    /// The Merkle tree's size and root, caught up with the log's durable head. Reads the store:
    /// the first call after open builds the tree (see [`proofs`]).
    pub fn tree_head(&self) -> Result<TreeHead, TreeFailure> {
        self.inner.tree.head()
    }

    /// How many records the Merkle tree covers, or `None` while it is being extended (the
    /// first build after open reads the whole log: ~16 s at 10 M events).
    pub fn tree_size_now(&self) -> Option<u64> {
        self.inner.tree.size_now()
    }

    /// The Merkle root of the first `size` records.
    pub fn root_at(&self, size: u64) -> Result<Hash, ProofRequestError> {
        self.inner.tree.root_at(size)
    }

    /// The inclusion proof of the record at `position` in the tree of `tree_size` records (the
    /// current head when `None`).
    pub fn inclusion_proof(
        &self,
        position: Position,
        tree_size: Option<u64>,
    ) -> Result<InclusionProof, ProofRequestError> {
        self.inner.tree.inclusion_proof(position, tree_size)
    }

    /// The consistency proof from the tree of `from_size` records to the tree of `to_size`
    /// records (the current head when `None`).
    pub fn consistency_proof(
        &self,
        from_size: u64,
        to_size: Option<u64>,
    ) -> Result<ConsistencyProof, ProofRequestError> {
        self.inner.tree.consistency_proof(from_size, to_size)
    }

    /// The current tree head, signed with `key` as a checkpoint at `now`.
    pub fn signed_checkpoint(
        &self,
        key: &SigningKey,
        now: jiff::Timestamp,
    ) -> Result<SignedCheckpoint, TreeFailure> {
        self.inner.tree.signed_checkpoint(key, now)
    }

    /// The command handler's kept folds (see [`aggregate_cache`]).
    pub fn aggregates(&self) -> &aggregate_cache::AggregateCache {
        &self.inner.aggregates
    }

    pub(crate) fn gates(&self) -> &commands::Gates {
        &self.inner.gates
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

    /// Where `customer` stands according to the customer directory (for rules that span two
    /// customers, such as a merge's survivor).
    pub fn customer_standing(&self, customer: CustomerId) -> Result<CustomerStanding, RunnerError> {
        let directory = self.inner.runner.reader(names::CUSTOMER_DIRECTORY)?;
        let record = customer_directory::customer(&directory, customer).map_err(|source| {
            RunnerError::State {
                projection: names::CUSTOMER_DIRECTORY.into(),
                source,
            }
        })?;
        Ok(match record {
            None => CustomerStanding::Unknown,
            Some(record) if record.erasure_recorded() => CustomerStanding::Erased,
            Some(record) => record
                .merged_into
                .map_or(CustomerStanding::Live, CustomerStanding::MergedInto),
        })
    }

    /// Drains pending appends, syncs, and flushes the read models.
    pub async fn close(&self) -> Result<(), StoreFailure> {
        let closed = self.inner.log.close().await;
        self.inner.log.projections().flush()?;
        closed
    }
}

/// Opens the key ring over the log's keyspace and finishes any erasure a crash interrupted:
/// the key is destroyed when the deciding stream's erasure event (`CustomerErased`, or
/// `EnquiryErased` for an anonymous enquiry) is in the log, and the marker dropped when it is
/// not.
pub fn open_keys(
    log: &SledEventLog,
    keys: KeyOptions,
) -> Result<personal::KeyRing, LedgerOpenError> {
    let store = log.data_keys().map_err(personal::KeyError::from)?;
    let ring = personal::KeyRing::open(store, keys.master, keys.source)?;
    for pending in ring.pending_erasures()? {
        let stream_of = |name: &str| {
            ledger_domain::ids::StreamId::parse("subject", name).map_err(|_| {
                personal::KeyError::DamagedKey {
                    subject: pending.subject.clone(),
                }
            })
        };
        let subject = stream_of(&pending.subject)?;
        let decided_by = stream_of(&pending.decided_by)?;
        tracing::warn!(
            subject = %pending.subject,
            decided_by = %pending.decided_by,
            "finishing an erasure interrupted by a crash"
        );
        if subject == decided_by {
            // A customer's own erasure takes the enquiries their contacts answered with it
            // (a bulk append marks only the customer).
            erasure::finish_recorded(log, &ring, std::slice::from_ref(&subject))?;
        } else {
            let recorded =
                erasure::stream_holds(log, &decided_by, erasure::erasure_event(&decided_by))
                    .map_err(personal::KeyError::from)?;
            ring.finish_erasure(&subject, recorded)?;
        }
    }
    Ok(ring)
}
