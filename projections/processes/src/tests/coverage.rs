//! Training coverage: who has been trained on each process's current version, and who of the
//! staff population has not.

use ledger_domain::events::ContactRecorded;
use ledger_domain::samples;

use super::*;
use crate::{PAGE_SIZE_MAX, QueryError, TrainingCoverage, training_coverage};

fn trained_office() -> Ledger {
    let mut ledger = Ledger::new();
    ledger
        .by(
            "head-cs",
            "2025-01-06T09:00:00",
            published(1, SERVICE, 1, None, &[]),
        )
        .at(
            "2025-01-08T09:00:00",
            training(1, 1, "agent-0001", Some("trainer-01")),
        )
        .at(
            "2025-01-08T09:10:00",
            training(1, 1, "agent-0002", Some("trainer-01")),
        )
        // Trained twice on one version counts once.
        .at("2025-01-09T09:10:00", training(1, 1, "agent-0002", None))
        // An agent known only from the contacts they handle, and a self-service contact.
        .at(
            "2025-01-10T09:00:00",
            ContactRecorded {
                agent: staff("agent-0003"),
                ..samples::sample_contact()
            },
        )
        .at(
            "2025-01-10T10:00:00",
            ContactRecorded {
                agent: staff("system:web"),
                ..samples::sample_contact()
            },
        )
        // The actor of an event counts too.
        .by(
            "quality-01",
            "2025-01-11T09:00:00",
            published(2, SERVICE, 1, Some(1), &[]),
        );
    ledger
}

#[test]
fn coverage_splits_the_population_by_training_on_the_current_version() {
    let state = trained_office().fold();
    let coverage = training_coverage(&state, id(1), None, PAGE_SIZE_MAX)
        .unwrap()
        .unwrap();
    let people = |names: &[&str]| names.iter().map(|name| staff(name)).collect::<Vec<_>>();
    assert_eq!(
        coverage,
        TrainingCoverage {
            process: id(1),
            version: 1,
            population: 6,
            trained_count: 2,
            trained: people(&["agent-0001", "agent-0002"]),
            untrained: people(&["agent-0003", "head-cs", "quality-01", "trainer-01"]),
            end_cursor: coverage.end_cursor.clone(),
            has_next_page: false,
        }
    );

    // A new version: only training on it counts.
    let mut ledger = trained_office();
    ledger
        .by(
            "head-cs",
            "2025-03-03T09:00:00",
            published(1, SERVICE, 2, None, &[]),
        )
        .at("2025-03-05T09:00:00", training(1, 2, "agent-0002", None));
    let state = ledger.fold();
    let coverage = training_coverage(&state, id(1), None, 2).unwrap().unwrap();
    assert_eq!(
        (
            coverage.version,
            coverage.population,
            coverage.trained_count
        ),
        (2, 6, 1)
    );
    assert_eq!(coverage.trained, people(&["agent-0002"]));
    assert_eq!(coverage.untrained, people(&["agent-0001"]));
    assert!(coverage.has_next_page);
    let cursor = coverage.end_cursor.unwrap();
    let rest = training_coverage(&state, id(1), Some(&cursor), 10)
        .unwrap()
        .unwrap();
    assert_eq!(rest.trained, people(&[]));
    assert_eq!(
        rest.untrained,
        people(&["agent-0003", "head-cs", "quality-01", "trainer-01"])
    );
    assert!(!rest.has_next_page);
}

#[test]
fn coverage_of_an_unknown_process_is_none_and_bad_requests_are_refused() {
    let state = trained_office().fold();
    assert_eq!(training_coverage(&state, id(99), None, 10), Ok(None));
    assert_eq!(
        training_coverage(&state, id(1), None, PAGE_SIZE_MAX + 1),
        Err(QueryError::PageTooLarge {
            requested: PAGE_SIZE_MAX + 1,
            max: PAGE_SIZE_MAX
        })
    );
    for bad in ["staff:", "staff:2f2f", "process:6167656e74"] {
        assert_eq!(
            training_coverage(&state, id(1), Some(bad), 10),
            Err(QueryError::BadCursor),
            "{bad}"
        );
    }
}
