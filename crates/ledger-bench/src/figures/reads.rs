//! Figure 5 in process: the first timeline page of the busy customer, read from the timeline
//! read model as the API reads it (one range read), timed one by one.

use std::time::Instant;

use customer_timeline::{PageRequest, TimelineFilter};
use ledger_app::Ledger;
use ledger_app::names::CUSTOMER_TIMELINE;
use ledger_domain::ids::CustomerId;

use crate::stats::Latencies;

/// Reads before timing starts, on both sides (caches warm, as for a busy customer).
pub const WARM_UP_READS: usize = 100;

pub fn timeline_pages(
    ledger: &Ledger,
    customer: CustomerId,
    page: usize,
    reads: usize,
) -> Result<Latencies, String> {
    let state = ledger
        .runner()
        .reader(CUSTOMER_TIMELINE)
        .map_err(|error| format!("the timeline read model: {error}"))?;
    let request = PageRequest::First {
        first: page,
        after: None,
    };
    let filter = TimelineFilter::default();
    // Untimed warm-up reads: the figure is a hot page, as a busy customer's is.
    for _ in 0..WARM_UP_READS {
        customer_timeline::page(&state, customer, &filter, &request)
            .map_err(|error| format!("a timeline page: {error}"))?;
    }
    let mut latencies = Latencies::new();
    for _ in 0..reads {
        let begun = Instant::now();
        let result = customer_timeline::page(&state, customer, &filter, &request)
            .map_err(|error| format!("a timeline page: {error}"))?;
        latencies.record(begun.elapsed());
        if result.entries.len() != page {
            return Err(format!(
                "the timeline page has {} entries, not {page}",
                result.entries.len()
            ));
        }
    }
    Ok(latencies)
}
