//! Sane figures over a realistic history: three years of 2,000 customers from ledger-synth.

use std::collections::{BTreeMap, BTreeSet};

use ledger_synth::{SynthConfig, generate};

use super::*;
use crate::records::beijing_date;
use crate::{PAGE_SIZE_MAX, StaffFigures, agent_stats, handover_satisfaction, manager_stats};

#[test]
fn a_synthetic_history_gives_every_agent_figures_and_shows_handovers() {
    let config = SynthConfig {
        customers: 2_000,
        years: 3,
        seed: 7,
        ..Default::default()
    };
    let mut state = MemoryState::new();
    // Each contact as last recorded or corrected: whose it is and on which channel.
    let mut contacts: BTreeMap<ContactId, (StaffId, Channel)> = BTreeMap::new();
    let mut corporates: BTreeSet<CustomerId> = BTreeSet::new();
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
        Performance.apply(&envelope, &mut state).unwrap();
        match &synthetic.event {
            Event::ContactRecorded(event) => {
                contacts.insert(event.contact_id, (event.agent.clone(), event.channel));
            }
            Event::ContactCorrected(event) => {
                contacts.insert(event.contact_id, (event.agent.clone(), event.channel));
            }
            Event::AccountManagerAssigned(event) => {
                corporates.insert(event.customer_id);
            }
            _ => {}
        }
    }
    let (from, to) = (beijing_date(config.start()), beijing_date(config.end));
    let mut expected: BTreeMap<StaffId, u64> = BTreeMap::new();
    for (agent, _) in contacts.values() {
        if !agent.as_str().starts_with("system:") {
            *expected.entry(agent.clone()).or_default() += 1;
        }
    }
    let rows = all_rows(|after| agent_stats(&state, from, to, after, PAGE_SIZE_MAX).unwrap());
    let handled: BTreeMap<StaffId, u64> = rows
        .iter()
        .filter(|row| row.figures.contacts() > 0)
        .map(|row| (row.staff.clone(), row.figures.contacts()))
        .collect();
    // Every agent with contacts has exactly their contacts in the figures.
    assert_eq!(handled, expected);
    assert!(expected.len() >= 12, "{} agents", expected.len());
    for row in &rows {
        let figures = &row.figures;
        assert!(
            figures.csat_answers == 0
                || (1..=5).contains(&(figures.csat_sum / figures.csat_answers))
        );
        assert!(figures.converted_contacts <= figures.contacts());
    }
    assert!(rows.iter().any(|row| row.figures.csat_answers > 0));
    assert!(rows.iter().map(|row| row.figures.conversions).sum::<u64>() > 100);
    assert!(rows.iter().any(|row| row.figures.complaints > 0));

    let managers = all_rows(|after| manager_stats(&state, from, to, after, PAGE_SIZE_MAX).unwrap());
    assert!(!managers.is_empty());
    assert!(
        managers
            .iter()
            .any(|row| row.figures.premium_won > Money::ZERO)
    );

    let handovers: Vec<_> = corporates
        .iter()
        .flat_map(|customer| handover_satisfaction(&state, *customer).unwrap())
        .collect();
    assert!(
        !handovers.is_empty(),
        "about 15% of managers leave each year"
    );
    assert!(
        handovers
            .iter()
            .any(|handover| handover.before.answers > 0 && handover.after.answers > 0)
    );
}

fn all_rows(mut page: impl FnMut(Option<&str>) -> crate::Page<StaffFigures>) -> Vec<StaffFigures> {
    let mut rows = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let next = page(after.as_deref());
        after = next.items.last().map(|(cursor, _)| cursor.clone());
        rows.extend(next.items.into_iter().map(|(_, row)| row));
        if !next.has_next_page {
            return rows;
        }
    }
}
