//! Prometheus metrics at `/metrics`: requests and their latencies by operation, appends,
//! projection lag in events, and the store's size on disk.
//!
//! Counters and histograms are recorded as requests happen; gauges of the ledger's state are
//! sampled when `/metrics` is scraped, so they cost nothing between scrapes.

use std::sync::OnceLock;

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

/// Records one GraphQL request.
pub fn record_request(operation: &str, seconds: f64, ok: bool) {
    let operation = operation.to_owned();
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
