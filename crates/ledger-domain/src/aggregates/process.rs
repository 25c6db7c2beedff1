//! The process aggregate (`process-{id}`): versions of a business process and the training
//! staff received on them (seed 4.2.5).
//!
//! Rules:
//! - The first publication creates the process; each later one must have a strictly higher
//!   version (`InvalidTransition` otherwise). Versions may skip numbers, because departments
//!   number versions in their own office-automation system.
//! - Training is recorded only for a version that was published (`NotFound`).

use std::collections::BTreeSet;

use super::{Aggregate, DecisionContext, emit, invalid_transition, not_found};
use crate::DomainError;
use crate::commands::{ProcessCommand, PublishProcess, RecordProcessTraining};
use crate::events::{Event, ProcessPublished, ProcessTrainingRecorded};
use crate::ids::ProcessId;

const KIND: &str = "process";

/// A process's published versions.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Process {
    state: Option<State>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct State {
    id: ProcessId,
    versions: BTreeSet<u32>,
}

impl Process {
    /// The latest published version.
    pub fn version(&self) -> Option<u32> {
        self.state
            .as_ref()
            .and_then(|state| state.versions.last().copied())
    }

    fn publish(&self, command: &PublishProcess) -> Result<Vec<Event>, DomainError> {
        if let Some(current) = self.version().filter(|current| command.version <= *current) {
            return Err(invalid_transition(
                KIND,
                command.process_id,
                "publish an equal or older version of",
                format!("at version {current}"),
            ));
        }
        emit(ProcessPublished {
            process_id: command.process_id,
            title: command.title.clone(),
            department: command.department.clone(),
            version: command.version,
            parent: command.parent,
            links: command.links.clone(),
            owner: command.owner.clone(),
            summary: command.summary.clone(),
        })
    }

    fn record_training(&self, command: &RecordProcessTraining) -> Result<Vec<Event>, DomainError> {
        let state = self
            .state
            .as_ref()
            .ok_or_else(|| not_found(KIND, command.process_id))?;
        if !state.versions.contains(&command.version) {
            let id = format!("{} v{}", command.process_id, command.version);
            return Err(not_found("process version", id));
        }
        emit(ProcessTrainingRecorded {
            process_id: command.process_id,
            staff: command.staff.clone(),
            version: command.version,
            trainer: command.trainer.clone(),
        })
    }
}

impl Aggregate for Process {
    type Command = ProcessCommand;
    const CATEGORY: &'static str = "process";

    fn apply(&mut self, event: &Event) {
        let Event::ProcessPublished(published) = event else {
            return;
        };
        let state = self.state.get_or_insert_with(|| State {
            id: published.process_id,
            versions: BTreeSet::new(),
        });
        if state.id == published.process_id {
            state.versions.insert(published.version);
        }
    }

    fn handle(
        &self,
        command: &ProcessCommand,
        _context: &dyn DecisionContext,
    ) -> Result<Vec<Event>, DomainError> {
        match command {
            ProcessCommand::PublishProcess(command) => self.publish(command),
            ProcessCommand::RecordProcessTraining(command) => self.record_training(command),
        }
    }
}

#[cfg(test)]
mod tests;
