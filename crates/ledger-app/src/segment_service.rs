//! The segment rules the ledger serves and the engine that evaluates them: loaded once when the
//! ledger opens (a bad rule stops start-up with its file, segment, line and column), then held
//! by [`crate::Ledger`] so every request shares one cache of snapshots.
//!
//! The `segments` projection itself only files facts; segment membership is computed at query
//! time from those facts and the rules (see the `segments` crate). This module ties the two
//! together: it reads the projection's state and the position that state has reached from the
//! runner, and asks the [`SegmentEngine`] for the snapshot as of a day.

use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use ledger_domain::ids::Position;
use segments::{Changes, RuleError, SegmentEngine, SegmentError, SegmentRules, SegmentSnapshot};

use crate::names::SEGMENTS;
use crate::runner::{ProjectionRunner, RunnerError};

/// How long a snapshot of the book stays in use after it was computed while the log moves on.
/// Evaluating the book costs about a second per 100,000 customers, and the call centre appends
/// events every second, so an exact snapshot per request would evaluate the book per request.
/// A minute of staleness is invisible in segment sizes; a caller that must see its own write
/// asks with a minimum position and gets a fresh snapshot.
pub const SNAPSHOT_STALENESS: Duration = Duration::from_secs(60);

/// Why a snapshot could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SegmentReadError {
    #[error(transparent)]
    Runner(#[from] RunnerError),
    #[error(transparent)]
    Segment(#[from] SegmentError),
}

/// The file in a data directory that replaces the built-in segment rules.
pub const SEGMENT_RULES_FILE: &str = "segments.toml";

/// The loaded segment rules and their snapshot cache.
#[derive(Debug)]
pub struct SegmentService {
    engine: SegmentEngine,
}

impl SegmentService {
    /// The built-in rules (`projections/segments/segments.toml`), checked.
    pub fn shipped() -> Result<Self, RuleError> {
        Ok(Self::new(SegmentRules::shipped()?))
    }

    /// The rules in `dir/segments.toml` when it exists, else the built-in ones.
    pub fn for_data_dir(dir: &std::path::Path) -> Result<Self, crate::LedgerOpenError> {
        let path = dir.join(SEGMENT_RULES_FILE);
        if !path.exists() {
            return Ok(Self::shipped()?);
        }
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(&path).map_err(|error| {
            crate::LedgerOpenError::SegmentRulesFile {
                path: shown.clone(),
                message: error.to_string(),
            }
        })?;
        Ok(Self::new(SegmentRules::from_toml(&shown, &text)?))
    }

    /// A service over `rules`, reusing snapshots for up to [`SNAPSHOT_STALENESS`].
    pub fn new(rules: SegmentRules) -> Self {
        Self {
            engine: SegmentEngine::with_max_staleness(rules, SNAPSHOT_STALENESS),
        }
    }

    pub fn rules(&self) -> &SegmentRules {
        self.engine.rules()
    }

    pub fn engine(&self) -> &SegmentEngine {
        &self.engine
    }

    /// Every customer's metrics and every segment's members as of `as_of`'s Beijing day, from
    /// a snapshot of the segments read model that has applied at least `minimum` (the caller's
    /// own write; `Position::ZERO` when it has none). Evaluating the book is CPU work of up to
    /// a second or so: async callers run this on a blocking thread.
    pub fn snapshot(
        &self,
        runner: &ProjectionRunner,
        as_of: Timestamp,
        minimum: Position,
    ) -> Result<Arc<SegmentSnapshot>, SegmentReadError> {
        let state = runner.reader(SEGMENTS)?;
        // The checkpoint is read before the state is scanned, so the snapshot is stamped with a
        // position its state has at least reached: a stamp never claims more than it holds.
        let position = state
            .meta()
            .map_err(RunnerError::from)?
            .map_or(Position::ZERO, |meta| meta.checkpoint);
        Ok(self
            .engine
            .snapshot_consistent_with(&state, position, as_of, minimum)?)
    }

    /// Who entered and who left segment `name` between the Beijing days of `from` and `to`,
    /// each side evaluated from the facts dated up to that day.
    pub fn membership_changes(
        &self,
        runner: &ProjectionRunner,
        name: &str,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<Changes, SegmentReadError> {
        let state = runner.reader(SEGMENTS)?;
        let position = state
            .meta()
            .map_err(RunnerError::from)?
            .map_or(Position::ZERO, |meta| meta.checkpoint);
        Ok(self
            .engine
            .membership_changes(&state, position, name, from, to)?)
    }
}
