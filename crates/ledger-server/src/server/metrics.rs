//! Prometheus metrics at `/metrics`: requests and their latencies by operation, appends,
//! projection lag in events, and the store's size on disk.
//!
//! Counters and histograms are recorded as requests happen; gauges of the ledger's state are
//! sampled when `/metrics` is scraped, so they cost nothing between scrapes. Memory stays
//! bounded without scrapes: [`upkeep`] drains recorded latencies, and operation labels beyond
//! [`OPERATION_LABELS_MAX`] share one. A request's label is what the schema runs
//! ([`super::metrics_labels`]), never a name the client sent.

use std::collections::HashSet;
use std::sync::{Mutex, OnceLock, PoisonError};
use std::time::Duration;

use ledger_app::Ledger;
use ledger_store::EventLog;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

/// The process-wide recorder: `metrics` has one global recorder, so every app in a process
/// (tests build many) shares it.
pub fn handle() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new().build_recorder();
            let handle = recorder.handle();
            // Another recorder may already be installed (a test harness); then ours only renders
            // what the gauges sampled at scrape set on it.
            let _ = metrics::set_global_recorder(recorder);
            handle
        })
        .clone()
}

/// How often the recorder folds recorded latencies into their summaries. It keeps every sample
/// (8 bytes per request) until then; with only scrapes doing it, a server nobody scrapes would
/// grow by 8 bytes a request forever. Five seconds is the exporter's own default.
pub const UPKEEP_INTERVAL: Duration = Duration::from_secs(5);

/// Distinct operation labels kept apart; requests of any other are counted under
/// [`OTHER_OPERATIONS`]. Labels are what the schema runs ([`super::metrics_labels`]), so there
/// are finitely many, but a client selecting ever-new combinations of root fields would
/// otherwise add series, and memory, by the thousand.
pub const OPERATION_LABELS_MAX: usize = 128;

/// The label of requests whose operation label is not kept on its own.
pub const OTHER_OPERATIONS: &str = "other";

/// Folds recorded latencies into their summaries every [`UPKEEP_INTERVAL`], for as long as the
/// server runs.
pub async fn upkeep() {
    let handle = handle();
    let mut interval = tokio::time::interval(UPKEEP_INTERVAL);
    loop {
        interval.tick().await;
        handle.run_upkeep();
    }
}

/// The label `operation` is counted under.
fn operation_label(operation: &str) -> String {
    static LABELLED: OnceLock<Mutex<HashSet<String>>> = OnceLock::new();
    // A panic cannot leave the set half-changed, so a lock poisoned by one is still sound.
    let mut labelled = LABELLED
        .get_or_init(Mutex::default)
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    if labelled.contains(operation) {
        return operation.to_owned();
    }
    if labelled.len() >= OPERATION_LABELS_MAX {
        return OTHER_OPERATIONS.to_owned();
    }
    labelled.insert(operation.to_owned());
    operation.to_owned()
}

/// Records one GraphQL request under its `operation` label ([`super::metrics_labels::label`],
/// never a name the client sent: `/metrics` needs no token).
pub fn record_request(operation: &str, seconds: f64, ok: bool) {
    let operation = operation_label(operation);
    let outcome = if ok { "ok" } else { "error" };
    metrics::counter!("ledger_graphql_requests_total", "operation" => operation.clone(), "outcome" => outcome).increment(1);
    metrics::histogram!("ledger_graphql_request_duration_seconds", "operation" => operation)
        .record(seconds);
}

/// Samples the ledger's state into gauges and renders everything in the text format.
pub fn render(ledger: &Ledger, store_bytes: u64) -> String {
    let head = ledger.log().head().position.get();
    let stats = ledger.log().stats();
    metrics::gauge!("ledger_head_position").set(lossy(head));
    metrics::gauge!("ledger_appends_total").set(lossy(stats.appends));
    metrics::gauge!("ledger_events_written_total").set(lossy(stats.events_written));
    metrics::gauge!("ledger_group_commits_total").set(lossy(stats.groups));
    metrics::gauge!("ledger_store_bytes").set(lossy(store_bytes));
    for (projection, applied) in ledger.runner().checkpoints() {
        metrics::gauge!("ledger_projection_lag_events", "projection" => projection)
            .set(lossy(head.saturating_sub(applied.get())));
    }
    handle().render()
}

/// A count as a gauge value. Gauges are `f64`; counts beyond 2^53 lose their last digits, which
/// a dashboard does not notice.
#[allow(clippy::cast_precision_loss, clippy::as_conversions)]
fn lossy(count: u64) -> f64 {
    count as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operation_labels_are_bounded_in_number() {
        let kept = operation_label("AgentScreen");
        for fresh in 0..OPERATION_LABELS_MAX {
            operation_label(&format!("Fresh{fresh}"));
        }
        assert_eq!(operation_label("NeverSeenBefore"), OTHER_OPERATIONS);
        assert_eq!(
            operation_label(&kept),
            kept,
            "a labelled name keeps its label"
        );
    }
}
