//! The ledger figures 5 to 8 read at the scale (10 M events). It is streamed from
//! `ledger-synth` through the bulk append path, never held in memory, then its read models
//! are built by a first catch-up and copied into a compact database (as `contact-ledger
//! compact` does: the catch-up leaves most of sled's file free, and the server reads all of it
//! at every start). It is kept under the work dir, with a marker file holding
//! what the build measured and the layout version of each read model, and later runs reuse it.
//! A later run whose projections have other layout versions brings the read models up to date
//! first (the stale ones rebuilt, then the copy), so the server the figures measure never
//! starts with a rebuild: that would be its start-up, and its memory, rather than serving.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use ledger_app::Ledger;
use ledger_domain::ids::CustomerId;
use ledger_store::StoreOptions;
use serde_json::json;

use crate::dataset::{self, HotCustomer};
use crate::figures::import;
use crate::machine;
use crate::run::{FREE_BYTES_MIN, LEDGER_BYTES_PER_EVENT_ESTIMATE};
use crate::stats::bytes;

/// Where the scale ledger of `events` lives under the work dir.
pub fn dir(work: &Path, events: u64) -> PathBuf {
    work.join(format!("scale-ledger-{events}"))
}

/// The marker a finished build leaves beside the ledger, with what it measured.
fn marker(dir: &Path) -> PathBuf {
    dir.with_extension("complete")
}

/// A built scale ledger and what its build measured.
#[derive(Debug, Clone)]
pub struct ScaleLedger {
    pub dir: PathBuf,
    /// Events the build appended (figure 7 of each run adds its contacts after).
    pub events: u64,
    pub hot: HotCustomer,
    /// Bytes of the store right after the appends, before any read model was built.
    pub log_bytes: u64,
    /// Canonical record bytes of every appended event (what each hash covers).
    pub raw_bytes: u64,
    /// The bulk append of the build (sealing included).
    pub append: Duration,
    /// The first catch-up of every projection over it.
    pub catch_up: Duration,
    /// The copy of its read models into a compact database after the catch-up (`None` for a
    /// ledger built before the bench compacted it).
    pub compaction: Option<Duration>,
    /// Whether this run built it (otherwise an earlier run did).
    pub built_now: bool,
    /// The layout version of each projection its read models were built with (empty: a
    /// ledger built before the marker recorded them).
    pub read_models: BTreeMap<String, u32>,
}

/// The layout version of each projection the ledger runs, by name.
pub fn read_model_versions() -> Result<BTreeMap<String, u32>, String> {
    Ok(ledger_app::standard_projections()
        .map_err(|error| error.to_string())?
        .iter()
        .map(|projection| (projection.name().to_owned(), projection.version()))
        .collect())
}

impl ScaleLedger {
    fn to_json(&self) -> serde_json::Value {
        let mut value = json!({
            "events": self.events,
            "hot_id": self.hot.id.to_string(),
            "hot_mobile": self.hot.mobile,
            "log_bytes": self.log_bytes,
            "raw_bytes": self.raw_bytes,
            "append_seconds": self.append.as_secs_f64(),
            "catch_up_seconds": self.catch_up.as_secs_f64(),
            "read_models": self.read_models,
        });
        if let Some(compaction) = self.compaction {
            value["compact_seconds"] = json!(compaction.as_secs_f64());
        }
        value
    }

    fn from_json(dir: &Path, value: &serde_json::Value) -> Result<Self, String> {
        let text = |field: &str| {
            value[field]
                .as_str()
                .map(str::to_owned)
                .ok_or_else(|| format!("{field}: missing"))
        };
        let count = |field: &str| {
            value[field]
                .as_u64()
                .ok_or_else(|| format!("{field}: missing"))
        };
        let seconds = |field: &str| {
            value[field]
                .as_f64()
                .filter(|seconds| seconds.is_finite() && *seconds >= 0.0)
                .map(Duration::from_secs_f64)
                .ok_or_else(|| format!("{field}: missing"))
        };
        let id: CustomerId = text("hot_id")?
            .parse()
            .map_err(|error| format!("hot_id: {error}"))?;
        Ok(Self {
            dir: dir.to_owned(),
            events: count("events")?,
            hot: HotCustomer {
                id,
                mobile: text("hot_mobile")?,
            },
            log_bytes: count("log_bytes")?,
            raw_bytes: count("raw_bytes")?,
            append: seconds("append_seconds")?,
            catch_up: seconds("catch_up_seconds")?,
            compaction: if value.get("compact_seconds").is_some() {
                Some(seconds("compact_seconds")?)
            } else {
                None
            },
            built_now: false,
            read_models: match value.get("read_models") {
                None => BTreeMap::new(),
                Some(versions) => serde_json::from_value(versions.clone())
                    .map_err(|error| format!("read_models: {error}"))?,
            },
        })
    }
}

/// The scale ledger of `events` under `work`, if an earlier run finished building it, with
/// its read models brought up to date when a projection's layout version changed since.
pub async fn existing(
    work: &Path,
    events: u64,
    progress: &dyn Fn(&str),
) -> Result<Option<ScaleLedger>, String> {
    let dir = dir(work, events);
    let marker = marker(&dir);
    if !marker.exists() || !dir.exists() {
        return Ok(None);
    }
    let text = std::fs::read_to_string(&marker)
        .map_err(|error| format!("{}: {error}", marker.display()))?;
    let value: serde_json::Value =
        serde_json::from_str(&text).map_err(|error| format!("{}: {error}", marker.display()))?;
    let mut scale = ScaleLedger::from_json(&dir, &value)
        .map_err(|error| format!("{}: {error}", marker.display()))?;
    let versions = read_model_versions()?;
    if scale.read_models != versions {
        progress(&format!(
            "scale ledger: read models built with {:?}, the projections are now {versions:?}: bringing them up to date",
            scale.read_models
        ));
        let (caught_up, compaction) = build_read_models(&scale.dir, progress).await?;
        progress(&format!(
            "scale ledger: read models up to date in {:.1} s and copied in {:.1} s",
            caught_up.as_secs_f64(),
            compaction.as_secs_f64()
        ));
        scale.read_models = versions;
        write_marker(&scale)?;
    }
    Ok(Some(scale))
}

/// Whether the disk under `work` can take a new scale ledger of `events` and keep
/// `FREE_BYTES_MIN` free after it; if not, says why.
pub fn room_for(work: &Path, events: u64) -> Result<(), String> {
    let free = machine::free_bytes(work)?;
    let needed = events * LEDGER_BYTES_PER_EVENT_ESTIMATE;
    if free < needed + FREE_BYTES_MIN {
        return Err(format!(
            "that ledger needs ~{} and {} must stay free after it (FREE_BYTES_MIN), but only {} is free",
            bytes(needed),
            bytes(FREE_BYTES_MIN),
            bytes(free)
        ));
    }
    Ok(())
}

/// Builds the scale ledger of `events` (its busy customer's `hot_entries` contacts last) under
/// `work`, replacing any unfinished one; `progress` hears each step.
pub async fn build(
    work: &Path,
    events: u64,
    hot_entries: usize,
    progress: &dyn Fn(&str),
) -> Result<ScaleLedger, String> {
    let dir = dir(work, events);
    if dir.exists() {
        std::fs::remove_dir_all(&dir).map_err(|error| format!("{}: {error}", dir.display()))?;
    }
    std::fs::create_dir_all(&dir).map_err(|error| format!("{}: {error}", dir.display()))?;
    let synthetic_count = dataset::synthetic_count(events, hot_entries)?;
    let config = dataset::history_config(synthetic_count)?;
    let take = usize::try_from(synthetic_count).map_err(|_| "too many events".to_owned())?;
    progress(&format!(
        "scale ledger: a first pass over {synthetic_count} synthetic events for the busy customer"
    ));
    let facts = dataset::scan(ledger_synth::generate(&config).take(take))?;
    progress(&format!("scale ledger: appending {events} events"));
    let imported = import::append_all(&dir, || {
        Ok(ledger_synth::generate(&config)
            .take(take)
            .map(dataset::planned)
            .chain(dataset::hot_contacts(&facts, config.end, hot_entries)))
    })
    .await?;
    if imported.events != events {
        return Err(format!(
            "the scale ledger holds {} events, not {events}: the synthetic history of {} customers is too short",
            imported.events, config.customers
        ));
    }
    let log_bytes = machine::bytes_under(&dir)?;
    progress(&format!(
        "scale ledger: {events} events appended in {:.1} s; building every read model (first catch-up)",
        imported.elapsed.as_secs_f64()
    ));
    let (catch_up, compaction) = build_read_models(&dir, progress).await?;
    let scale = ScaleLedger {
        dir,
        events,
        hot: facts.hot,
        log_bytes,
        raw_bytes: imported.raw_bytes,
        append: imported.elapsed,
        catch_up,
        compaction: Some(compaction),
        built_now: true,
        read_models: read_model_versions()?,
    };
    write_marker(&scale)?;
    Ok(scale)
}

fn write_marker(scale: &ScaleLedger) -> Result<(), String> {
    let marker = marker(&scale.dir);
    std::fs::write(&marker, format!("{:#}\n", scale.to_json()))
        .map_err(|error| format!("{}: {error}", marker.display()))
}

/// Catches up every read model of the ledger in `dir` (building those never built or of
/// another layout version) and copies them into a compact database; returns how long each
/// step took.
async fn build_read_models(
    dir: &Path,
    progress: &dyn Fn(&str),
) -> Result<(Duration, Duration), String> {
    let ledger = Ledger::open(dir, StoreOptions::default(), crate::bench_keys())
        .map_err(|error| format!("opening {}: {error}", dir.display()))?;
    let started = Instant::now();
    ledger
        .runner()
        .catch_up()
        .map_err(|error| format!("catching up the scale ledger: {error}"))?;
    let catch_up = started.elapsed();
    progress(&format!(
        "scale ledger: caught up in {:.1} s; copying the read models into a compact database",
        catch_up.as_secs_f64()
    ));
    let started = Instant::now();
    ledger
        .log()
        .compact_read_models()
        .map_err(|error| format!("compacting the scale ledger's read models: {error}"))?;
    ledger.close().await.map_err(|error| error.to_string())?;
    drop(ledger);
    ledger_store::replace_read_models(dir)
        .map_err(|error| format!("putting the compacted read models in place: {error}"))?;
    Ok((catch_up, started.elapsed()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_marker_reads_back_what_the_build_measured_and_names_a_missing_field() {
        let work = std::env::temp_dir().join(format!("scale-marker-{}", std::process::id()));
        let scale = ScaleLedger {
            dir: dir(&work, 20_000),
            events: 20_000,
            hot: HotCustomer {
                id: CustomerId::new_v7(),
                mobile: "13800138000".to_owned(),
            },
            log_bytes: 6_000_000,
            raw_bytes: 4_600_000,
            append: Duration::from_millis(1_500),
            catch_up: Duration::from_millis(20_250),
            compaction: Some(Duration::from_millis(3_125)),
            built_now: true,
            read_models: read_model_versions().unwrap(),
        };
        let read = ScaleLedger::from_json(&scale.dir, &scale.to_json()).unwrap();
        assert_eq!(read.hot, scale.hot);
        assert_eq!(
            (read.events, read.log_bytes, read.raw_bytes),
            (20_000, 6_000_000, 4_600_000)
        );
        assert_eq!(
            (read.append, read.catch_up, read.compaction),
            (scale.append, scale.catch_up, scale.compaction)
        );
        assert!(!read.built_now);
        assert_eq!(read.read_models, scale.read_models);
        assert!(read.read_models.contains_key("performance"));
        let quiet = |_: &str| {};
        assert!(existing(&work, 20_000, &quiet).await.unwrap().is_none());

        let mut damaged = scale.to_json();
        damaged["raw_bytes"] = serde_json::Value::Null;
        let error = ScaleLedger::from_json(&scale.dir, &damaged).unwrap_err();
        assert_eq!(error, "raw_bytes: missing");
        damaged = scale.to_json();
        damaged["compact_seconds"] = json!(-1.0);
        let error = ScaleLedger::from_json(&scale.dir, &damaged).unwrap_err();
        assert_eq!(error, "compact_seconds: missing");

        // A ledger built before the bench compacted it has no compaction to report.
        let mut older = scale.to_json();
        older.as_object_mut().unwrap().remove("compact_seconds");
        older.as_object_mut().unwrap().remove("read_models");
        let read = ScaleLedger::from_json(&scale.dir, &older).unwrap();
        assert_eq!(read.compaction, None);
        // Nor versions: its read models count as stale, and the next run rebuilds what changed.
        assert!(read.read_models.is_empty());
    }
}
