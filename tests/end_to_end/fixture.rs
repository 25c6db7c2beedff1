//! The sample fixture `tests/fixtures/ledger-sample.ndjson`: a small, deterministic history in
//! the integrator form holding every event type, generated from `ledger_synth::fixture_events`.
//! It is committed so integrators can read a real file; this test fails when it drifts from the
//! generator (`make schema` rewrites it).

use std::path::PathBuf;

use ledger_domain::events::CATALOGUE;

pub fn fixture_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/ledger-sample.ndjson")
}

/// How many events the fixture holds: its head position once imported.
pub fn fixture_records() -> u64 {
    let text = std::fs::read_to_string(fixture_path()).expect("the fixture reads");
    u64::try_from(text.lines().count()).expect("fits")
}

/// The fixture's lines, as the generator makes them now.
fn generated() -> String {
    let mut text = String::new();
    for synthetic in ledger_synth::fixture_events() {
        let line = serde_json::json!({
            "type": synthetic.event.event_type(),
            "schemaVersion": synthetic.event.schema_version(),
            "stream": synthetic.stream.as_str(),
            "eventId": synthetic.event_id.to_string(),
            "occurredAt": synthetic.occurred_at.to_string(),
            "actor": synthetic.actor.as_str(),
            "payload": synthetic.event.to_json(),
        });
        text.push_str(&line.to_string());
        text.push('\n');
    }
    text
}

#[test]
fn the_sample_fixture_is_current_and_covers_every_event_type() {
    let generated = generated();
    let path = fixture_path();
    if std::env::var_os("UPDATE_FIXTURES").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "{} differs from the generator: run `make schema`",
        path.display()
    );
    assert!(
        committed.lines().count() >= 1000,
        "the fixture holds at least 1,000 events"
    );
    for entry in CATALOGUE {
        let needle = format!(r#""type":"{}""#, entry.name);
        assert!(
            committed.contains(&needle),
            "the fixture has no {}",
            entry.name
        );
    }
}
