//! The key ring on a real store: sealing, opening, erasure, rotation, tampering, determinism.

use ledger_domain::events::{Event, PAYLOAD_SEALED};
use ledger_domain::ids::{EventId, StreamId};
use ledger_domain::samples;
use ledger_store::{SledEventLog, StoreOptions};

use super::{KeyError, KeyRing, KeySource, MasterKey, OpenPayloadError};

fn store(dir: &std::path::Path) -> SledEventLog {
    SledEventLog::open(dir, StoreOptions::default()).expect("the store opens")
}

fn ring(log: &SledEventLog, master: MasterKey) -> Result<KeyRing, KeyError> {
    KeyRing::open(log.data_keys()?, master, KeySource::Random)
}

fn contact() -> Event {
    samples::sample_contact().into()
}

/// The event id every test seals with: the nonce is derived from it.
fn id() -> EventId {
    EventId::parse("eventId", "0190a5e2-8c3b-7d4e-9f00-00000000e001").unwrap()
}

fn open(ring: &KeyRing, event: &Event, bytes: &[u8]) -> super::Opened {
    ring.open_payload(id(), event.event_type(), event.schema_version(), bytes)
        .expect("opens")
}

#[test]
fn every_sample_seals_and_opens_whole_and_the_bytes_hide_the_personal_text() {
    let dir = tempfile::tempdir().unwrap();
    let log = store(dir.path());
    let ring = ring(&log, MasterKey::insecure_for_tests()).unwrap();
    for event in samples::sample_events() {
        let bytes = ring.seal(id(), &event).unwrap();
        let opened = open(&ring, &event, &bytes);
        assert_eq!(opened.event, event, "{}", event.event_type());
        assert!(!opened.redacted);
        let sealed = bytes.first() == Some(&PAYLOAD_SEALED);
        assert_eq!(
            sealed,
            !event.personal_fields().is_empty(),
            "{}",
            event.event_type()
        );
    }
    let event = contact();
    let Event::ContactRecorded(recorded) = &event else {
        unreachable!()
    };
    let bytes = ring.seal(id(), &event).unwrap();
    let summary = recorded.summary.as_str().as_bytes();
    assert!(!bytes.windows(summary.len()).any(|window| window == summary));
}

#[test]
fn destroying_a_key_leaves_the_redacted_event_and_refuses_new_personal_data() {
    let dir = tempfile::tempdir().unwrap();
    let log = store(dir.path());
    let ring = ring(&log, MasterKey::insecure_for_tests()).unwrap();
    let event = contact();
    let bytes = ring.seal(id(), &event).unwrap();
    let subject = event.data_subject().unwrap();
    ring.begin_erasure(&subject).unwrap();
    assert_eq!(
        ring.pending_erasures().unwrap(),
        [super::PendingErasure {
            subject: subject.to_string(),
            decided_by: subject.to_string(),
        }]
    );
    ring.finish_erasure(&subject, true).unwrap();
    assert!(ring.pending_erasures().unwrap().is_empty());
    assert!(ring.is_erased(&subject).unwrap());

    let opened = open(&ring, &event, &bytes);
    assert!(opened.redacted);
    let mut expected = event.clone();
    expected.take_personal();
    assert_eq!(opened.event, expected);
    assert!(matches!(
        ring.seal(EventId::new_v7(), &event),
        Err(KeyError::Erased { .. })
    ));
    // A reopened ring agrees: the tombstone is durable.
    drop(ring);
    let again = super::KeyRing::open(
        log.data_keys().unwrap(),
        MasterKey::insecure_for_tests(),
        KeySource::Random,
    )
    .unwrap();
    assert!(open(&again, &event, &bytes).redacted);
}

#[test]
fn an_erased_subjects_event_with_nothing_personal_left_is_stored_redacted() {
    let dir = tempfile::tempdir().unwrap();
    let log = store(dir.path());
    let ring = ring(&log, MasterKey::insecure_for_tests()).unwrap();
    let event = contact();
    let subject = event.data_subject().unwrap();
    let mut blank = event.clone();
    blank.take_personal();
    // Before the erasure, a blank event is sealed like any other.
    let live = ring.seal(id(), &blank).unwrap();
    assert!(!open(&ring, &blank, &live).redacted);
    ring.begin_erasure(&subject).unwrap();
    ring.finish_erasure(&subject, true).unwrap();

    // A supervisor finishing the erased customer's work sends no text: nothing to seal.
    let bytes = ring.seal(id(), &blank).unwrap();
    assert_eq!(bytes.first(), Some(&PAYLOAD_SEALED));
    let body = super::decode_sealed(&bytes).unwrap();
    assert!(body.ciphertext.is_empty());
    let opened = open(&ring, &blank, &bytes);
    assert!(opened.redacted);
    assert_eq!(opened.event, blank);
    assert_eq!(
        super::open_redacted(blank.event_type(), blank.schema_version(), &bytes).unwrap(),
        blank
    );
    // Anything personal is still refused.
    assert!(matches!(
        ring.seal(EventId::new_v7(), &event),
        Err(KeyError::Erased { .. })
    ));
}

#[test]
fn a_forgotten_erasure_keeps_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let log = store(dir.path());
    let ring = ring(&log, MasterKey::insecure_for_tests()).unwrap();
    let event = contact();
    let bytes = ring.seal(id(), &event).unwrap();
    let subject = event.data_subject().unwrap();
    ring.begin_erasure(&subject).unwrap();
    ring.finish_erasure(&subject, false).unwrap();
    assert!(!open(&ring, &event, &bytes).redacted);
    assert!(!ring.is_erased(&subject).unwrap());
}

#[test]
fn a_wrong_master_key_is_refused_and_rotation_moves_every_key() {
    let dir = tempfile::tempdir().unwrap();
    let log = store(dir.path());
    let first = ring(&log, MasterKey::insecure_for_tests()).unwrap();
    let event = contact();
    let bytes = first.seal(id(), &event).unwrap();
    let wrong = ring(&log, MasterKey::generate());
    assert_eq!(wrong.err(), Some(KeyError::WrongMasterKey));

    let new_master = MasterKey::generate();
    assert_eq!(first.rotate(new_master.clone()).unwrap(), 1);
    drop(first);
    assert_eq!(
        ring(&log, MasterKey::insecure_for_tests()).err(),
        Some(KeyError::WrongMasterKey)
    );
    let rotated = ring(&log, new_master).unwrap();
    assert_eq!(open(&rotated, &event, &bytes).event, event);
}

#[test]
fn tampered_ciphertext_or_facts_do_not_open() {
    let dir = tempfile::tempdir().unwrap();
    let log = store(dir.path());
    let ring = ring(&log, MasterKey::insecure_for_tests()).unwrap();
    let event = contact();
    let bytes = ring.seal(id(), &event).unwrap();
    let mut body = super::decode_sealed(&bytes).unwrap();
    body.ciphertext[0] ^= 1;
    let flipped = ledger_domain::codec::encode_versioned(PAYLOAD_SEALED, &body).expect("encodes");
    let refused = ring.open_payload(id(), event.event_type(), 1, &flipped);
    assert!(
        matches!(refused, Err(OpenPayloadError::Sealed { .. })),
        "{refused:?}"
    );
    // The facts are bound to the ciphertext as associated data.
    let mut body = super::decode_sealed(&bytes).unwrap();
    let last = body.redacted.len() - 1;
    body.redacted[last] ^= 1;
    let moved = ledger_domain::codec::encode_versioned(PAYLOAD_SEALED, &body).expect("encodes");
    assert!(
        ring.open_payload(id(), event.event_type(), 1, &moved)
            .is_err()
    );
    // And to the event id: the same bytes under another id do not open.
    let other = EventId::new_v7();
    assert!(
        ring.open_payload(other, event.event_type(), 1, &bytes)
            .is_err()
    );
}

#[test]
fn derived_keys_seal_the_same_bytes_in_two_ledgers() {
    let seal_once = || {
        let dir = tempfile::tempdir().unwrap();
        let log = store(dir.path());
        let ring = KeyRing::open(
            log.data_keys().unwrap(),
            MasterKey::generate(),
            KeySource::derived_from_seed(7),
        )
        .unwrap();
        ring.seal(id(), &contact()).unwrap()
    };
    assert_eq!(seal_once(), seal_once());
    let subject = StreamId::customer(samples::individual_customer_id());
    assert_eq!(contact().data_subject(), Some(subject));
}

#[test]
fn records_sealed_by_another_ledger_read_as_erased_and_no_key_is_made_for_their_subject() {
    // Sealed by one ledger ...
    let origin_dir = tempfile::tempdir().unwrap();
    let origin = store(origin_dir.path());
    let origin_ring = ring(&origin, MasterKey::insecure_for_tests()).unwrap();
    let event = contact();
    let bytes = origin_ring.seal(id(), &event).unwrap();
    let subject = event.data_subject().unwrap();

    // ... imported into another, which marks the subject without a master key: a ring opened
    // later on that store needs no check value for the mark.
    let dir = tempfile::tempdir().unwrap();
    let log = store(dir.path());
    let keys = log.data_keys().unwrap();
    super::mark_foreign(&keys, [&subject]).unwrap();
    assert!(super::foreign_in(&keys, &subject).unwrap());
    let ring = ring(&log, MasterKey::insecure_for_tests()).unwrap();
    assert!(open(&ring, &event, &bytes).redacted);
    assert!(matches!(
        ring.seal(EventId::new_v7(), &event),
        Err(KeyError::Foreign { .. })
    ));
    ring.ensure_keys([&subject]).unwrap();
    assert!(
        super::foreign_in(&keys, &subject).unwrap(),
        "no key was made"
    );
    assert!(open(&ring, &event, &bytes).redacted);
    // A subject with a key of its own keeps it.
    let other = StreamId::customer(samples::corporate_customer_id());
    ring.ensure_keys([&other]).unwrap();
    super::mark_foreign(&keys, [&other]).unwrap();
    assert!(!super::foreign_in(&keys, &other).unwrap());
}
