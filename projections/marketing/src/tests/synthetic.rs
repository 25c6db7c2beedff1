//! Sane figures over a realistic history: three years of 2,000 customers from ledger-synth.

use jiff::SignedDuration;
use ledger_domain::projection::Envelope;
use ledger_synth::{SynthConfig, generate};

use super::*;
use crate::{CampaignRecord, PAGE_SIZE_MAX, callback_queue, campaigns};

fn synthetic_state() -> (MemoryState, Timestamp, Timestamp) {
    let config = SynthConfig {
        customers: 2_000,
        years: 3,
        seed: 7,
        ..Default::default()
    };
    let mut state = MemoryState::new();
    for (index, synthetic) in generate(&config).enumerate() {
        let envelope = Envelope {
            position: Position(u64::try_from(index).unwrap() + 1),
            stream: &synthetic.stream,
            stream_version: 0,
            event_id: synthetic.event_id,
            occurred_at: synthetic.occurred_at,
            recorded_at: synthetic.occurred_at,
            actor: &synthetic.actor,
            event: &synthetic.event,
            redacted: false,
        };
        Marketing.apply(&envelope, &mut state).unwrap();
    }
    (state, config.start(), config.end)
}

fn all_campaigns(state: &MemoryState) -> Vec<CampaignRecord> {
    let mut all = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = campaigns(state, after.as_deref(), PAGE_SIZE_MAX).unwrap();
        after = page.items.last().map(|(cursor, _)| cursor.clone());
        all.extend(page.items.into_iter().map(|(_, record)| record));
        if !page.has_next_page {
            return all;
        }
    }
}

#[test]
fn a_synthetic_history_gives_sane_campaign_figures_and_a_call_back_queue() {
    let (state, start, end) = synthetic_state();
    let campaigns = all_campaigns(&state);
    // Six campaigns a year over three years, give or take the ones at the edges.
    assert!((15..=21).contains(&campaigns.len()), "{}", campaigns.len());
    for record in &campaigns {
        assert!(record.plan.is_some(), "{:?}", record.id);
        // The history opens with the existing book registering on its anniversaries, so the
        // first spring's renewal campaign finds nobody due: only a campaign of the first year
        // may have no touches.
        let plan = record.plan.as_ref().unwrap();
        let first_year = plan.launched_at < start + SignedDuration::from_hours(365 * 24);
        assert!(
            first_year || record.touches > 0,
            "{} has no touches",
            plan.name
        );
        assert_eq!(
            record.touches,
            record.touches_by_channel.values().sum::<u64>()
        );
        assert!(record.conversions <= record.responses);
        if let Some(closing) = &record.closing {
            // The aggregate's closing figures and the projection's agree: every purchase was
            // counted once, from its policy event or its response.
            assert_eq!(record.touches, closing.touches, "{:?}", record.id);
            assert_eq!(record.cost, closing.total_cost, "{:?}", record.id);
            assert_eq!(record.premium_won, closing.premium_won, "{:?}", record.id);
        }
    }
    assert!(
        campaigns
            .iter()
            .filter(|record| record.touches == 0)
            .count()
            <= 1
    );
    assert!(campaigns.iter().any(|record| record.conversions > 0));
    assert!(campaigns.iter().any(|record| record.roi().is_some()));

    let queue = callback_queue(&state, end, None, PAGE_SIZE_MAX).unwrap();
    assert!(
        !queue.items.is_empty(),
        "about 15% of leads are never called back"
    );
    let ages: Vec<_> = queue.items.iter().map(|(_, queued)| queued.age).collect();
    assert!(
        ages.windows(2).all(|pair| pair[0] >= pair[1]),
        "oldest first"
    );
    assert!(
        queue
            .items
            .iter()
            .all(|(_, queued)| queued.enquiry.awaiting_callback())
    );
}
