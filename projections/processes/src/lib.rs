//! The process-network projection (seed 4.2.5): published business processes with their
//! department, version, parent (the tree inside a department) and links (the network across
//! the company); orphan processes, broken links, and training coverage — which staff have
//! been trained on the current version of each process, and who has not.
//!
//! # Components
//!
//! - [`Processes`] (module `fold`): the [`Projection`](ledger_domain::projection::Projection)
//!   named `processes`, a pure fold over ledger events into the keyspace below. It keeps the
//!   network's edges as index entries in both directions, so orphans and broken links are
//!   maintained as publications arrive rather than searched for when read.
//! - [`records`]: [`ProcessRecord`], [`BrokenLink`], [`DepartmentTree`], [`TrainingCoverage`].
//! - [`query`]: the read side over [`StateRead`](ledger_domain::projection::StateRead):
//!   [`process`], [`processes`] (all, or one department's), [`tree`], [`orphans`],
//!   [`broken_links`], [`training_coverage`]; listings are cursor pages of at most
//!   [`PAGE_SIZE_MAX`] items, a tree at most [`DEPARTMENT_PROCESSES_MAX`] processes.
//!
//! # Key layout
//!
//! Values are encoded with `ledger_domain::codec`; `\0` is a NUL byte ending a department.
//!
//! | key | value | kept |
//! |---|---|---|
//! | `process/{process id}` | [`ProcessRecord`] (the highest version published) | from the first `ProcessPublished` |
//! | `department/{department}\0{process id}` | empty | while the current version is in the department |
//! | `link/{target id}/{source id}` | empty | while the source's current version links to the target (published or not) |
//! | `child/{parent id}/{child id}` | empty | while the child's current version names the parent (published or not) |
//! | `orphan/{process id}` | empty | while the process is an orphan |
//! | `broken/{source id}/{target id}/{link or parent}` | [`BrokenLink`] | while the edge is broken |
//! | `training/{process id}/{version: 4 bytes}/{staff}` | when, and the trainer | from the first training on the version |
//! | `trained/{process id}/{version: 4 bytes}` | how many staff were trained on the version | from the first |
//! | `staff/{staff}` | empty | from the first event naming the person |
//! | `staffcount` | how many `staff/` entries there are | from the first |
//!
//! # Decisions
//!
//! - **Current version** is the highest published; a publication with a version not above it
//!   (which the aggregate refuses; an import could hold one) is ignored. Each publication
//!   carries the whole process, so it replaces the department, parent and links.
//! - **Orphan**: a published process with no parent and no links of its own *and* that no
//!   process names as parent or links to — a node nothing connects, which is what the seed
//!   means by "no node stands alone" (没有哪个节点是孤立存在的). A department's root with
//!   children is not an orphan.
//! - **Broken links**: a link or parent naming a process never published
//!   ([`BrokenReason::UnknownProcess`]; it resolves when that process is published), and a
//!   parent in another department ([`BrokenReason::ParentInOtherDepartment`]: the tree is per
//!   department, links cross departments). `ProcessPublished` has no retirement flag and no
//!   event retires a process, so "a link to a retired process" cannot be told from the log; a
//!   `ProcessRetired` event would add it as a third reason.
//! - **Trees**: a department's roots are its processes without a parent in the department
//!   (none, unknown, or in another department); processes whose parents form a cycle (each
//!   publication is checked only against itself) are listed apart in `in_cycles`.
//! - **Training population**: events carry no staff directory or staff departments, so the
//!   population is every person the log names: the actor of any event and the agent of any
//!   contact, the trainee and trainer of a training, the owner of a process, and the manager
//!   and team lead of an assignment. Ids starting `system:` are systems, not people. Everyone
//!   in it who has no training on the current version is untrained, whatever their
//!   department; training on an older version does not count.

mod fold;
mod keys;
mod page;
pub mod query;
pub mod records;
mod storage;

#[cfg(test)]
mod tests;

pub use fold::Processes;
pub use page::{PAGE_SIZE_MAX, Page, QueryError};
pub use query::{
    DEPARTMENT_PROCESSES_MAX, broken_links, orphans, process, processes, training_coverage, tree,
};
pub use records::{
    BrokenLink, BrokenReason, DepartmentTree, Edge, ProcessRecord, TrainingCoverage, TreeNode,
};
