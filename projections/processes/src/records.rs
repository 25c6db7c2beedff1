//! What the process projection stores and returns: processes as last published, broken links,
//! department trees and training coverage.

use jiff::Timestamp;
use ledger_domain::ids::{ProcessId, StaffId};
use ledger_domain::kinds::Title;
use serde::{Deserialize, Serialize};

/// A business process as its latest publication describes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcessRecord {
    pub id: ProcessId,
    pub title: Title,
    pub department: Title,
    /// The current (highest published) version.
    pub version: u32,
    /// The process above this one in its department's tree; `None` for a root.
    pub parent: Option<ProcessId>,
    /// Processes this one hands over to or depends on, in any department.
    pub links: Vec<ProcessId>,
    pub owner: StaffId,
    /// When the current version was published, and when the first one was.
    pub published_at: Timestamp,
    pub first_published_at: Timestamp,
    /// How many versions were published.
    pub publications: u32,
}

/// Which edge of the network is broken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Edge {
    /// A link to another process.
    Link,
    /// The parent in the department's tree.
    Parent,
}

/// Why an edge is broken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum BrokenReason {
    /// The target was never published (a typo, or a process not published yet).
    UnknownProcess,
    /// The parent is a process of another department: the tree is per department, links
    /// cross departments.
    ParentInOtherDepartment,
}

/// A link or parent of a process's current version that points nowhere usable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BrokenLink {
    pub source: ProcessId,
    pub target: ProcessId,
    pub edge: Edge,
    pub reason: BrokenReason,
}

/// A department's processes as a tree (a forest: a department may have several roots).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DepartmentTree {
    pub department: Title,
    /// Processes without a parent in the department (no parent, or a broken one), each with
    /// its descendants; in process-id order at every level.
    pub roots: Vec<TreeNode>,
    /// Processes whose parents form a cycle and so hang under no root, in process-id order.
    pub in_cycles: Vec<ProcessRecord>,
}

/// One process of a tree with its children.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeNode {
    pub process: ProcessRecord,
    pub children: Vec<TreeNode>,
}

/// Who has been trained on a process's current version, one page of the staff population.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrainingCoverage {
    pub process: ProcessId,
    /// The current version, the one that counts.
    pub version: u32,
    /// Staff in the population, and how many of them were trained on `version`.
    pub population: u64,
    pub trained_count: u64,
    /// This page's staff, split: trained on `version`, and not (never, or on an older
    /// version only).
    pub trained: Vec<StaffId>,
    pub untrained: Vec<StaffId>,
    /// The cursor after this page's last member of staff, and whether more follow.
    pub end_cursor: Option<String>,
    pub has_next_page: bool,
}

/// One training record, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Training {
    pub at: Timestamp,
    pub trainer: Option<StaffId>,
}
