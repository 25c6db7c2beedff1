//! Test support for projections: a hand-written history of events, recorded with increasing
//! positions and times, and folded into fresh state. Hidden from the docs; only tests use it.

use jiff::{SignedDuration, Timestamp};
use uuid::Uuid;

use super::{Envelope, MemoryState, Projection, StateWrite};
use crate::events::Event;
use crate::ids::{CustomerId, EventId, Position, StaffId, StreamId};
use crate::samples;

/// One event as the log would hold it.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub position: Position,
    pub stream: StreamId,
    pub event_id: EventId,
    pub occurred_at: Timestamp,
    pub actor: StaffId,
    pub event: Event,
    /// The event reads redacted: its personal fields are erased, as the runner hands over an
    /// event whose data key is gone ([`Envelope::redacted`]).
    pub redacted: bool,
}

impl Recorded {
    pub fn envelope(&self) -> Envelope<'_> {
        Envelope {
            position: self.position,
            stream: &self.stream,
            stream_version: self.position.get(),
            event_id: self.event_id,
            occurred_at: self.occurred_at,
            recorded_at: self.occurred_at,
            actor: &self.actor,
            event: &self.event,
            redacted: self.redacted,
        }
    }
}

/// Events in log order: positions from 1, each event a minute after the one before unless
/// given its own time.
#[derive(Debug, Clone)]
pub struct History {
    pub recorded: Vec<Recorded>,
    clock: Timestamp,
}

impl Default for History {
    fn default() -> Self {
        Self::new()
    }
}

impl History {
    pub fn new() -> Self {
        Self {
            recorded: Vec::new(),
            clock: samples::sample_time(),
        }
    }

    /// Records `event` a minute after the previous one; returns when it occurred.
    pub fn record(&mut self, event: impl Into<Event>) -> Timestamp {
        let at = self.clock + SignedDuration::from_mins(1);
        self.record_at(at, event)
    }

    /// Records `event` as having occurred at `at` (imports may go back in time).
    pub fn record_at(&mut self, at: Timestamp, event: impl Into<Event>) -> Timestamp {
        let event = event.into();
        let position = Position(u64::try_from(self.recorded.len()).unwrap() + 1);
        self.clock = at;
        self.recorded.push(Recorded {
            position,
            stream: event.stream(),
            event_id: EventId::from_uuid(Uuid::from_u128(u128::from(position.get()))),
            occurred_at: at,
            actor: samples::staff("system:test"),
            event,
            redacted: false,
        });
        at
    }

    /// Records `event` a minute after the previous one as the runner hands it over when its
    /// data subject's key is gone (erased, or held by the ledger it was exported from): its
    /// personal fields erased, and the envelope saying so.
    pub fn record_redacted(&mut self, event: impl Into<Event>) -> Timestamp {
        let mut event = event.into();
        event.take_personal();
        let at = self.record(event);
        if let Some(last) = self.recorded.last_mut() {
            last.redacted = true;
        }
        at
    }

    /// This history as a rebuild reads it once the data keys of `subjects` are gone (destroyed
    /// by their erasure, or left in the ledger an export came from): every event whose personal
    /// fields are sealed under one of their keys arrives redacted.
    pub fn with_keys_gone(&self, subjects: &[CustomerId]) -> Self {
        let mut rebuilt = self.clone();
        for recorded in &mut rebuilt.recorded {
            let subject = recorded.event.data_subject();
            if subjects
                .iter()
                .any(|customer| subject.as_ref() == Some(&StreamId::customer(*customer)))
            {
                recorded.event.take_personal();
                recorded.redacted = true;
            }
        }
        rebuilt
    }

    /// Folds every event into a fresh state.
    pub fn fold(&self, projection: &dyn Projection) -> MemoryState {
        let mut state = MemoryState::new();
        apply(projection, &self.recorded, &mut state);
        state
    }
}

/// Applies `recorded` in order; a state error fails the test.
pub fn apply(projection: &dyn Projection, recorded: &[Recorded], state: &mut dyn StateWrite) {
    for recorded in recorded {
        projection
            .apply(&recorded.envelope(), state)
            .unwrap_or_else(|error| panic!("position {}: {error}", recorded.position));
    }
}
