//! The synthetic process network: 31 processes in six departments, two orphans, and
//! training that is never complete.

use ledger_synth::{SynthConfig, generate};

use super::*;
use crate::{
    PAGE_SIZE_MAX, ProcessRecord, broken_links, orphans, processes, training_coverage, tree,
};

#[test]
fn the_synthetic_network_has_its_two_orphans_and_incomplete_training() {
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
        Processes.apply(&envelope, &mut state).unwrap();
    }
    let all: Vec<ProcessRecord> = processes(&state, None, None, PAGE_SIZE_MAX)
        .unwrap()
        .items
        .into_iter()
        .map(|(_, record)| record)
        .collect();
    assert_eq!(all.len(), 31);
    let departments: std::collections::BTreeSet<_> =
        all.iter().map(|record| record.department.clone()).collect();
    assert_eq!(departments.len(), 6);
    assert!(
        all.iter().any(|record| record.version > 1),
        "processes are revised"
    );

    let orphan_titles: Vec<String> = orphans(&state, None, PAGE_SIZE_MAX)
        .unwrap()
        .items
        .into_iter()
        .map(|(_, record)| record.title.to_string())
        .collect();
    let mut sorted = orphan_titles.clone();
    sorted.sort();
    assert_eq!(sorted, vec!["异地理赔服务流程", "晨会宣导管理办法"]);
    assert!(
        broken_links(&state, None, PAGE_SIZE_MAX)
            .unwrap()
            .items
            .is_empty()
    );

    // Every department is one tree or a few, with nobody in a cycle.
    for department in &departments {
        let tree = tree(&state, department).unwrap();
        assert!(!tree.roots.is_empty());
        assert!(tree.in_cycles.is_empty());
    }
    // Training is never complete, and some processes are trained on by someone.
    let mut someone_trained = false;
    for record in &all {
        let coverage = training_coverage(&state, record.id, None, 1)
            .unwrap()
            .unwrap();
        assert!(
            coverage.trained_count < coverage.population,
            "{}",
            record.title
        );
        someone_trained |= coverage.trained_count > 0;
    }
    assert!(someone_trained);
}
