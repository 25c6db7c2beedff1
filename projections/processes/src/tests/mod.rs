//! Tests of the projection, given / when / then: given hand-made events (the real payload
//! structs, in envelopes with increasing positions), the processes, trees, orphans, broken
//! links and training coverage the projection builds; and the synthetic process network.

mod coverage;
mod determinism;
mod network;
mod synthetic;

use jiff::Timestamp;
use ledger_domain::events::{Event, ProcessPublished, ProcessTrainingRecorded};
use ledger_domain::ids::{EventId, Position, ProcessId, StaffId, StreamId};
use ledger_domain::projection::{Envelope, MemoryState, Projection, StateWrite};
use ledger_domain::samples::{staff, title};

use crate::Processes;

/// One event as the log would hand it to the projection.
#[derive(Debug, Clone)]
pub(crate) struct Recorded {
    pub position: Position,
    pub stream: StreamId,
    pub occurred_at: Timestamp,
    pub actor: StaffId,
    pub event: Event,
}

impl Recorded {
    fn envelope(&self) -> Envelope<'_> {
        Envelope {
            position: self.position,
            stream: &self.stream,
            stream_version: self.position.get(),
            event_id: EventId::parse(
                "eventId",
                &format!("00000000-0000-7000-8000-{:012x}", self.position.get()),
            )
            .unwrap(),
            occurred_at: self.occurred_at,
            recorded_at: self.occurred_at,
            actor: &self.actor,
            event: &self.event,
            redacted: false,
        }
    }
}

/// A hand-made log: events in the order they are recorded, positions from 1, recorded by the
/// office-automation system unless told otherwise.
#[derive(Debug, Clone, Default)]
pub(crate) struct Ledger {
    pub events: Vec<Recorded>,
}

impl Ledger {
    pub fn new() -> Self {
        Self::default()
    }

    /// Records `event` by the office-automation system (not a person) at `local` Beijing time.
    pub fn at(&mut self, local: &str, event: impl Into<Event>) -> &mut Self {
        self.by("system:oa", local, event)
    }

    /// Records `event` by `actor` at `local` Beijing time.
    pub fn by(&mut self, actor: &str, local: &str, event: impl Into<Event>) -> &mut Self {
        let event = event.into();
        let position = Position(u64::try_from(self.events.len()).unwrap() + 1);
        self.events.push(Recorded {
            position,
            stream: event.stream(),
            occurred_at: format!("{local}+08:00").parse().unwrap(),
            actor: staff(actor),
            event,
        });
        self
    }

    pub fn fold(&self) -> MemoryState {
        let mut state = MemoryState::new();
        apply(&mut state, &self.events);
        state
    }
}

/// Applies `events` in order, each in its envelope.
pub(crate) fn apply(state: &mut dyn StateWrite, events: &[Recorded]) {
    for recorded in events {
        Processes
            .apply(&recorded.envelope(), state)
            .unwrap_or_else(|error| panic!("position {}: {error}", recorded.position));
    }
}

pub(crate) fn id(n: u16) -> ProcessId {
    ProcessId::parse(
        "process",
        &format!("0190a5e2-8c3b-7d4e-9f00-5000000{n:05x}"),
    )
    .unwrap()
}

pub(crate) const SERVICE: &str = "客户服务部";
pub(crate) const CLAIMS: &str = "理赔部";

/// Version `version` of process `n` in `department`, with its parent and links.
pub(crate) fn published(
    n: u16,
    department: &str,
    version: u32,
    parent: Option<u16>,
    links: &[u16],
) -> ProcessPublished {
    ProcessPublished {
        process_id: id(n),
        title: title(&format!("流程 {n}")),
        department: title(department),
        version,
        parent: parent.map(id),
        links: links.iter().map(|link| id(*link)).collect(),
        owner: staff(if department == SERVICE {
            "head-cs"
        } else {
            "head-claims"
        }),
        summary: None,
    }
}

pub(crate) fn training(
    n: u16,
    version: u32,
    who: &str,
    trainer: Option<&str>,
) -> ProcessTrainingRecorded {
    ProcessTrainingRecorded {
        process_id: id(n),
        staff: staff(who),
        version,
        trainer: trainer.map(staff),
    }
}
