//! The fold: [`Processes`] turns process publications and training records into process
//! records, the network's edges, orphans, broken links and training sets, and notes every
//! member of staff it sees as the training population.
//!
//! A publication replaces the process's edges with its new ones and then re-derives what
//! those edges decide: the process's own broken links, the broken links of processes that
//! point at it (it may now be published, or in another department), and whether each process
//! at either end of an old or new edge is an orphan.

use std::collections::BTreeSet;

use jiff::Timestamp;
use ledger_domain::events::{Event, ProcessPublished, ProcessTrainingRecorded};
use ledger_domain::ids::{ProcessId, StaffId};
use ledger_domain::projection::{Envelope, Projection, StateError, StateWrite};

use crate::keys::{self, LINK_EDGE, PARENT_EDGE};
use crate::records::{BrokenLink, BrokenReason, Edge, ProcessRecord, Training};
use crate::storage::STATE;

/// The process-network projection: a pure fold over the log, with no configuration.
#[derive(Debug, Clone, Copy, Default)]
pub struct Processes;

impl Processes {
    /// The projection's stable name: its keyspace, its checkpoint, its name on the CLI.
    pub const NAME: &'static str = "processes";

    /// The layout version of what `apply` writes; bump it when the layout or a derivation
    /// changes, so the runner rebuilds.
    pub const VERSION: u32 = 1;
}

impl Projection for Processes {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    fn version(&self) -> u32 {
        Self::VERSION
    }

    fn apply(&self, envelope: &Envelope<'_>, state: &mut dyn StateWrite) -> Result<(), StateError> {
        population(state, envelope.actor)?;
        match envelope.event {
            Event::ProcessPublished(event) => published(state, envelope.occurred_at, event),
            Event::ProcessTrainingRecorded(event) => trained(state, envelope.occurred_at, event),
            Event::ContactRecorded(event) => population(state, &event.agent),
            Event::ContactCorrected(event) => population(state, &event.agent),
            Event::AccountManagerAssigned(event) => {
                population(state, &event.manager)?;
                population(state, &event.team_lead)
            }
            _ => Ok(()),
        }
    }
}

/// Adds a person (not a `system:...` actor) to the training population.
fn population(state: &mut dyn StateWrite, staff: &StaffId) -> Result<(), StateError> {
    if staff.as_str().starts_with("system:") {
        return Ok(());
    }
    let key = keys::staff(staff);
    if state.get(&key)?.is_some() {
        return Ok(());
    }
    state.put(key, Vec::new());
    increment(state, keys::STAFF_COUNT.to_vec())
}

fn increment(state: &mut dyn StateWrite, key: Vec<u8>) -> Result<(), StateError> {
    let count: u64 = STATE.read(state, &key)?.unwrap_or(0);
    STATE.write(state, key, &count.saturating_add(1))
}

fn trained(
    state: &mut dyn StateWrite,
    at: Timestamp,
    event: &ProcessTrainingRecorded,
) -> Result<(), StateError> {
    population(state, &event.staff)?;
    if let Some(trainer) = &event.trainer {
        population(state, trainer)?;
    }
    let key = keys::training(event.process_id, event.version, &event.staff);
    // Trained twice on one version is trained once; the first training is kept.
    if state.get(&key)?.is_some() {
        return Ok(());
    }
    let training = Training {
        at,
        trainer: event.trainer.clone(),
    };
    STATE.write(state, key, &training)?;
    increment(state, keys::trained(event.process_id, event.version))
}

fn published(
    state: &mut dyn StateWrite,
    at: Timestamp,
    event: &ProcessPublished,
) -> Result<(), StateError> {
    population(state, &event.owner)?;
    let id = event.process_id;
    let before: Option<ProcessRecord> = STATE.read(state, &keys::process(id))?;
    // The aggregate only accepts higher versions; an imported log with an older or repeated
    // one keeps the highest.
    if before
        .as_ref()
        .is_some_and(|before| before.version >= event.version)
    {
        return Ok(());
    }
    // Processes whose orphan status this publication may change.
    let mut neighbours: BTreeSet<ProcessId> = BTreeSet::from([id]);
    if let Some(before) = &before {
        for target in &before.links {
            state.delete(&keys::link(*target, id));
            neighbours.insert(*target);
        }
        if let Some(parent) = before.parent {
            state.delete(&keys::child(parent, id));
            neighbours.insert(parent);
        }
        state.delete(&keys::department_member(&before.department, id));
    }
    for (key, _) in STATE.walk_prefix(state, &keys::under(keys::BROKEN, id))? {
        state.delete(&key);
    }
    let record = ProcessRecord {
        id,
        title: event.title.clone(),
        department: event.department.clone(),
        version: event.version,
        parent: event.parent,
        links: event.links.clone(),
        owner: event.owner.clone(),
        published_at: at,
        first_published_at: before
            .as_ref()
            .map_or(at, |before| before.first_published_at),
        publications: before
            .as_ref()
            .map_or(1, |before| before.publications.saturating_add(1)),
    };
    STATE.write(state, keys::process(id), &record)?;
    state.put(keys::department_member(&record.department, id), Vec::new());
    for target in &record.links {
        state.put(keys::link(*target, id), Vec::new());
        neighbours.insert(*target);
        if STATE
            .read::<ProcessRecord, _>(state, &keys::process(*target))?
            .is_none()
        {
            let broken = BrokenLink {
                source: id,
                target: *target,
                edge: Edge::Link,
                reason: BrokenReason::UnknownProcess,
            };
            STATE.write(state, keys::broken(id, *target, LINK_EDGE), &broken)?;
        }
    }
    if let Some(parent) = record.parent {
        state.put(keys::child(parent, id), Vec::new());
        neighbours.insert(parent);
        check_parent(state, &record, parent)?;
    }
    // Now published: links to this process resolve, and children's departments are checked
    // against its (possibly new) department.
    for (key, _) in STATE.walk_prefix(state, &keys::under(keys::LINK, id))? {
        let source = last_id(&key)?;
        state.delete(&keys::broken(source, id, LINK_EDGE));
    }
    for (key, _) in STATE.walk_prefix(state, &keys::under(keys::CHILD, id))? {
        let child = last_id(&key)?;
        if let Some(child) = STATE.read::<ProcessRecord, _>(state, &keys::process(child))? {
            check_parent(state, &child, id)?;
        }
    }
    for process in neighbours {
        refresh_orphan(state, process)?;
    }
    Ok(())
}

/// Records (or clears) a broken parent edge of `child`.
fn check_parent(
    state: &mut dyn StateWrite,
    child: &ProcessRecord,
    parent: ProcessId,
) -> Result<(), StateError> {
    let key = keys::broken(child.id, parent, PARENT_EDGE);
    let reason = match STATE.read::<ProcessRecord, _>(state, &keys::process(parent))? {
        None => Some(BrokenReason::UnknownProcess),
        Some(parent) if parent.department != child.department => {
            Some(BrokenReason::ParentInOtherDepartment)
        }
        Some(_) => None,
    };
    match reason {
        Some(reason) => {
            let broken = BrokenLink {
                source: child.id,
                target: parent,
                edge: Edge::Parent,
                reason,
            };
            STATE.write(state, key, &broken)
        }
        None => {
            state.delete(&key);
            Ok(())
        }
    }
}

/// Whether `process` is an orphan: published, with no parent and no links of its own, and
/// no process naming it as parent or linking to it. Writes or deletes `orphan/{id}`.
fn refresh_orphan(state: &mut dyn StateWrite, process: ProcessId) -> Result<(), StateError> {
    let record: Option<ProcessRecord> = STATE.read(state, &keys::process(process))?;
    let isolated = match record {
        Some(record) if record.parent.is_none() && record.links.is_empty() => {
            let no_incoming = |prefix: &[u8]| -> Result<bool, StateError> {
                Ok(state
                    .prefix(
                        &keys::under(prefix, process),
                        ledger_domain::projection::Order::Ascending,
                        1,
                    )?
                    .is_empty())
            };
            no_incoming(keys::LINK)? && no_incoming(keys::CHILD)?
        }
        _ => false,
    };
    if isolated {
        state.put(keys::orphan(process), Vec::new());
    } else {
        state.delete(&keys::orphan(process));
    }
    Ok(())
}

/// The id after the last `/` of a `link/` or `child/` key.
fn last_id(key: &[u8]) -> Result<ProcessId, StateError> {
    let text = std::str::from_utf8(key).ok();
    text.and_then(|text| text.rsplit_once('/'))
        .and_then(|(_, id)| ProcessId::parse("", id).ok())
        .ok_or_else(|| {
            StateError(format!(
                "processes: {} does not end in a process id",
                crate::storage::describe(key)
            ))
        })
}
