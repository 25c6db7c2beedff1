//! Reading the process network: processes by id, by department and as a department's tree;
//! orphans; broken links; and who has been trained on each process's current version.

use std::collections::{BTreeMap, BTreeSet};

use ledger_domain::ids::ProcessId;
use ledger_domain::kinds::Title;
use ledger_domain::projection::paging::{self, Listing};
use ledger_domain::projection::{Order, StateError, StateRead};

use crate::keys;
use crate::page::{PAGE_SIZE_MAX, Page, QueryError};
use crate::records::{BrokenLink, DepartmentTree, ProcessRecord, TrainingCoverage, TreeNode};
use crate::storage::{STATE, describe};

/// The most processes one department tree shows. A department's processes are tens (the
/// insurer's largest, claims, has about a dozen); a thousand is far beyond any department and
/// keeps a tree one bounded read.
pub const DEPARTMENT_PROCESSES_MAX: usize = 1_000;

/// The process `id` as last published.
pub fn process(state: &dyn StateRead, id: ProcessId) -> Result<Option<ProcessRecord>, StateError> {
    STATE.read(state, &keys::process(id))
}

/// Processes in process-id order: all of them, or those of one department.
pub fn processes(
    state: &dyn StateRead,
    department: Option<&Title>,
    after: Option<&str>,
    first: usize,
) -> Result<Page<ProcessRecord>, QueryError> {
    let (tag, prefix) = match department {
        Some(department) => ("department", keys::department(department)),
        None => ("process", keys::PROCESS.to_vec()),
    };
    let listing = Listing {
        tag,
        prefix,
        end: None,
        is_suffix: &keys::is_process_suffix,
    };
    let page = paging::page(state, &listing, after, first, PAGE_SIZE_MAX)?;
    load_processes(state, page, listing.prefix.len())
}

/// Orphan processes, in process-id order: published, with no parent and no links, and no
/// process naming them as parent or linking to them.
pub fn orphans(
    state: &dyn StateRead,
    after: Option<&str>,
    first: usize,
) -> Result<Page<ProcessRecord>, QueryError> {
    let listing = Listing {
        tag: "orphan",
        prefix: keys::ORPHAN.to_vec(),
        end: None,
        is_suffix: &keys::is_process_suffix,
    };
    let page = paging::page(state, &listing, after, first, PAGE_SIZE_MAX)?;
    load_processes(state, page, keys::ORPHAN.len())
}

/// Broken links and parents of current versions, by source then target process id.
pub fn broken_links(
    state: &dyn StateRead,
    after: Option<&str>,
    first: usize,
) -> Result<Page<BrokenLink>, QueryError> {
    let listing = Listing {
        tag: "broken",
        prefix: keys::BROKEN.to_vec(),
        end: None,
        is_suffix: &keys::is_broken_suffix,
    };
    let page = paging::page(state, &listing, after, first, PAGE_SIZE_MAX)?;
    let items = page
        .items
        .into_iter()
        .map(|(cursor, (key, value))| Ok((cursor, decode(&key, &value)?)))
        .collect::<Result<_, StateError>>()?;
    Ok(Page {
        items,
        has_next_page: page.has_next_page,
    })
}

/// The department's processes as a tree: roots are processes without a parent in the
/// department; processes whose parents form a cycle are listed apart.
pub fn tree(state: &dyn StateRead, department: &Title) -> Result<DepartmentTree, QueryError> {
    let prefix = keys::department(department);
    let members = state.prefix(&prefix, Order::Ascending, DEPARTMENT_PROCESSES_MAX + 1)?;
    if members.len() > DEPARTMENT_PROCESSES_MAX {
        return Err(QueryError::TreeTooLarge {
            department: department.to_string(),
            max: DEPARTMENT_PROCESSES_MAX,
        });
    }
    let mut records: BTreeMap<ProcessId, ProcessRecord> = BTreeMap::new();
    for (key, _) in members {
        let record = load_process(state, &key[prefix.len()..])?;
        records.insert(record.id, record);
    }
    let mut children: BTreeMap<ProcessId, Vec<ProcessId>> = BTreeMap::new();
    let mut roots = Vec::new();
    for record in records.values() {
        match record.parent.filter(|parent| records.contains_key(parent)) {
            Some(parent) => children.entry(parent).or_default().push(record.id),
            None => roots.push(record.id),
        }
    }
    let mut placed = BTreeSet::new();
    let roots = roots
        .into_iter()
        .map(|root| grow(root, &records, &children, &mut placed))
        .collect();
    let in_cycles = records
        .into_values()
        .filter(|record| !placed.contains(&record.id))
        .collect();
    Ok(DepartmentTree {
        department: department.clone(),
        roots,
        in_cycles,
    })
}

/// The subtree under `id`. Each process has one parent, so the walk from the roots meets
/// each process at most once; `placed` records which it met.
fn grow(
    id: ProcessId,
    records: &BTreeMap<ProcessId, ProcessRecord>,
    children: &BTreeMap<ProcessId, Vec<ProcessId>>,
    placed: &mut BTreeSet<ProcessId>,
) -> TreeNode {
    placed.insert(id);
    let below = children.get(&id).map(Vec::as_slice).unwrap_or_default();
    TreeNode {
        process: records[&id].clone(),
        children: below
            .iter()
            .map(|child| grow(*child, records, children, placed))
            .collect(),
    }
}

/// One page of the staff population (in staff-id order) split into those trained on the
/// process's current version and those not; `None` for a process never published.
pub fn training_coverage(
    state: &dyn StateRead,
    process_id: ProcessId,
    after: Option<&str>,
    first: usize,
) -> Result<Option<TrainingCoverage>, QueryError> {
    let Some(record) = process(state, process_id)? else {
        return Ok(None);
    };
    let listing = Listing {
        tag: "staff",
        prefix: keys::STAFF.to_vec(),
        end: None,
        is_suffix: &keys::is_staff_suffix,
    };
    let page = paging::page(state, &listing, after, first, PAGE_SIZE_MAX)?;
    let mut coverage = TrainingCoverage {
        process: process_id,
        version: record.version,
        population: STATE.read(state, keys::STAFF_COUNT)?.unwrap_or(0),
        trained_count: STATE
            .read(state, &keys::trained(process_id, record.version))?
            .unwrap_or(0),
        trained: Vec::new(),
        untrained: Vec::new(),
        end_cursor: page.items.last().map(|(cursor, _)| cursor.clone()),
        has_next_page: page.has_next_page,
    };
    for (_, (key, _)) in page.items {
        let suffix = &key[keys::STAFF.len()..];
        let staff = std::str::from_utf8(suffix)
            .ok()
            .and_then(|text| ledger_domain::ids::StaffId::parse("", text).ok())
            .ok_or_else(|| {
                StateError(format!("processes: {} is not a staff id", describe(&key)))
            })?;
        if state
            .get(&keys::training(process_id, record.version, &staff))?
            .is_some()
        {
            coverage.trained.push(staff);
        } else {
            coverage.untrained.push(staff);
        }
    }
    Ok(Some(coverage))
}

fn decode<T: serde::de::DeserializeOwned>(key: &[u8], value: &[u8]) -> Result<T, StateError> {
    ledger_domain::codec::decode(value)
        .map_err(|error| StateError(format!("processes: {}: {error}", describe(key))))
}

/// The record of the process whose id is `id_bytes` (an index key's suffix).
fn load_process(state: &dyn StateRead, id_bytes: &[u8]) -> Result<ProcessRecord, StateError> {
    let mut key = keys::PROCESS.to_vec();
    key.extend_from_slice(id_bytes);
    STATE.read(state, &key)?.ok_or_else(|| {
        StateError(format!(
            "processes: an index points at {}, which is not stored",
            describe(&key)
        ))
    })
}

fn load_processes(
    state: &dyn StateRead,
    page: Page<(Vec<u8>, Vec<u8>)>,
    prefix_len: usize,
) -> Result<Page<ProcessRecord>, QueryError> {
    let items = page
        .items
        .into_iter()
        .map(|(cursor, (key, _))| Ok((cursor, load_process(state, &key[prefix_len..])?)))
        .collect::<Result<_, StateError>>()?;
    Ok(Page {
        items,
        has_next_page: page.has_next_page,
    })
}
