//! The process network: `processes(department)`, `process(id)` (with its training coverage)
//! and `processNetwork` (orphans, broken links, a department's tree), from the processes read
//! model.
//!
//! Staff are named by their staff ids; nothing here is a customer's personal data.

use ::processes::{
    BrokenLink as BrokenRecord, DepartmentTree, PAGE_SIZE_MAX, ProcessRecord, QueryError, TreeNode,
};
use async_graphql::{Context, Enum, ID, Object, SimpleObject};
use ledger_app::names::PROCESSES;
use ledger_domain::ids::ProcessId;
use ledger_domain::kinds::Title;

use crate::access::RootAccess;
use crate::connection::{connection, cost, page_size};
use crate::cursor::{received_cursor, shown_cursor_opt};
use crate::errors::{ApiError, ApiResult, bad_cursor, page_too_large};
use crate::scalars::{DateTime, int};
use crate::state::state;

/// Processes, broken links or staff per page when `first` is not given.
pub const PROCESSES_PAGE_DEFAULT: usize = 20;

/// A processes query's error as the client sees it.
fn processes_error(error: QueryError) -> ApiError {
    match error {
        QueryError::PageTooLarge { max, .. } => page_too_large("first", max),
        QueryError::BadCursor => bad_cursor("after"),
        QueryError::TreeTooLarge { max, .. } => ApiError::validation(
            "department",
            format!("the department has more than {max} processes, more than one tree shows"),
        ),
        QueryError::State(error) => error.into(),
    }
}

/// A published business process, as its latest version describes it.
#[derive(Debug, Clone)]
pub struct Process {
    record: ProcessRecord,
}

#[Object]
impl Process {
    async fn id(&self) -> ID {
        ID(self.record.id.to_string())
    }

    async fn title(&self) -> &str {
        self.record.title.as_str()
    }

    async fn department(&self) -> &str {
        self.record.department.as_str()
    }

    /// The current (highest published) version.
    async fn version(&self) -> i32 {
        int(u64::from(self.record.version))
    }

    /// The process above this one in its department's tree; null for a root.
    async fn parent_id(&self) -> Option<ID> {
        self.record.parent.map(|id| ID(id.to_string()))
    }

    /// Processes this one hands over to or depends on, in any department.
    async fn links(&self) -> Vec<ID> {
        self.record
            .links
            .iter()
            .map(|id| ID(id.to_string()))
            .collect()
    }

    /// The owner's staff id.
    async fn owner(&self) -> String {
        self.record.owner.to_string()
    }

    async fn published_at(&self) -> DateTime {
        self.record.published_at.into()
    }

    async fn first_published_at(&self) -> DateTime {
        self.record.first_published_at.into()
    }

    /// How many versions were published.
    async fn publications(&self) -> i32 {
        int(u64::from(self.record.publications))
    }

    /// Who has been trained on the current version: one page of the staff the log names.
    #[graphql(
        complexity = "cost(first, PROCESSES_PAGE_DEFAULT, PAGE_SIZE_MAX) * child_complexity + 1"
    )]
    async fn training_coverage(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<Option<TrainingCoverage>> {
        let after = received_cursor(ctx, "after", after)?;
        let first = page_size("first", first, PROCESSES_PAGE_DEFAULT, PAGE_SIZE_MAX)?;
        let records = state(ctx)?.read_model(ctx, PROCESSES).await?;
        let coverage =
            ::processes::training_coverage(&records, self.record.id, after.as_deref(), first)
                .map_err(processes_error)?;
        let Some(coverage) = coverage else {
            return Ok(None);
        };
        Ok(Some(TrainingCoverage {
            version: int(u64::from(coverage.version)),
            population: int(coverage.population),
            trained_count: int(coverage.trained_count),
            trained: coverage.trained.iter().map(ToString::to_string).collect(),
            untrained: coverage.untrained.iter().map(ToString::to_string).collect(),
            end_cursor: shown_cursor_opt(ctx, coverage.end_cursor.as_deref())?,
            has_next_page: coverage.has_next_page,
        }))
    }
}

/// Training on a process's current version across the staff population, one page of staff.
#[derive(SimpleObject, Debug, Clone)]
pub struct TrainingCoverage {
    pub version: i32,
    /// Staff the log names (events carry no staff directory), and how many were trained on
    /// `version`.
    pub population: i32,
    pub trained_count: i32,
    /// This page's staff ids, split into trained on `version` and not.
    pub trained: Vec<String>,
    pub untrained: Vec<String>,
    /// Pass as `after` for the next page of staff.
    pub end_cursor: Option<String>,
    pub has_next_page: bool,
}

/// Which edge of the network is broken.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "::processes::Edge")]
pub enum NetworkEdge {
    Link,
    Parent,
}

/// Why an edge is broken.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[graphql(remote = "::processes::BrokenReason")]
pub enum BrokenLinkReason {
    /// The target was never published.
    UnknownProcess,
    /// The parent is in another department (trees are per department).
    ParentInOtherDepartment,
}

/// A link or parent that points nowhere usable.
#[derive(SimpleObject, Debug, Clone)]
pub struct BrokenLink {
    pub source_id: ID,
    pub target_id: ID,
    pub edge: NetworkEdge,
    pub reason: BrokenLinkReason,
}

impl From<BrokenRecord> for BrokenLink {
    fn from(link: BrokenRecord) -> Self {
        Self {
            source_id: ID(link.source.to_string()),
            target_id: ID(link.target.to_string()),
            edge: link.edge.into(),
            reason: link.reason.into(),
        }
    }
}

/// One process of a department's tree, with its children.
#[derive(SimpleObject, Debug, Clone)]
pub struct ProcessTreeNode {
    pub process: Process,
    pub children: Vec<ProcessTreeNode>,
}

impl From<TreeNode> for ProcessTreeNode {
    fn from(node: TreeNode) -> Self {
        Self {
            process: Process {
                record: node.process,
            },
            children: node.children.into_iter().map(Self::from).collect(),
        }
    }
}

/// A department's processes as a forest.
#[derive(SimpleObject, Debug, Clone)]
pub struct ProcessTree {
    pub department: String,
    /// Processes without a parent in the department, each with its descendants.
    pub roots: Vec<ProcessTreeNode>,
    /// Processes whose parents form a cycle, and so hang under no root.
    pub in_cycles: Vec<Process>,
}

impl From<DepartmentTree> for ProcessTree {
    fn from(tree: DepartmentTree) -> Self {
        Self {
            department: tree.department.as_str().to_owned(),
            roots: tree.roots.into_iter().map(ProcessTreeNode::from).collect(),
            in_cycles: tree
                .in_cycles
                .into_iter()
                .map(|record| Process { record })
                .collect(),
        }
    }
}

connection!(
    /// A page of processes, in process-id order.
    ProcessConnection,
    ProcessEdge,
    Process
);
connection!(
    /// A page of broken links.
    BrokenLinkConnection,
    BrokenLinkEdge,
    BrokenLink
);

fn process_page(
    page: ::processes::Page<ProcessRecord>,
    has_previous_page: bool,
) -> ProcessConnection {
    let items = page
        .items
        .into_iter()
        .map(|(cursor, record)| (cursor, Process { record }))
        .collect();
    ProcessConnection::forward(items, page.has_next_page, has_previous_page)
}

/// The network's health: orphans, broken links, and a department's tree.
#[derive(Debug, Clone, Copy, Default)]
pub struct ProcessNetwork;

#[Object]
impl ProcessNetwork {
    /// Published processes nothing connects: no parent, no links, and nothing names them.
    #[graphql(
        complexity = "cost(first, PROCESSES_PAGE_DEFAULT, PAGE_SIZE_MAX) * child_complexity + 1"
    )]
    async fn orphans(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<ProcessConnection> {
        let after = received_cursor(ctx, "after", after)?;
        let first = page_size("first", first, PROCESSES_PAGE_DEFAULT, PAGE_SIZE_MAX)?;
        let records = state(ctx)?.read_model(ctx, PROCESSES).await?;
        let page =
            ::processes::orphans(&records, after.as_deref(), first).map_err(processes_error)?;
        Ok(process_page(page, after.is_some()))
    }

    /// Links and parents naming a process never published, or a parent in another department.
    #[graphql(
        complexity = "cost(first, PROCESSES_PAGE_DEFAULT, PAGE_SIZE_MAX) * child_complexity + 1"
    )]
    async fn broken_links(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<BrokenLinkConnection> {
        let after = received_cursor(ctx, "after", after)?;
        let first = page_size("first", first, PROCESSES_PAGE_DEFAULT, PAGE_SIZE_MAX)?;
        let records = state(ctx)?.read_model(ctx, PROCESSES).await?;
        let page = ::processes::broken_links(&records, after.as_deref(), first)
            .map_err(processes_error)?;
        let items = page
            .items
            .into_iter()
            .map(|(cursor, link)| (cursor, BrokenLink::from(link)))
            .collect();
        Ok(BrokenLinkConnection::forward(
            items,
            page.has_next_page,
            after.is_some(),
        ))
    }

    /// The department's processes as a tree (at most `DEPARTMENT_PROCESSES_MAX`).
    async fn tree(&self, ctx: &Context<'_>, department: String) -> ApiResult<ProcessTree> {
        let department = Title::parse("department", &department)?;
        let records = state(ctx)?.read_model(ctx, PROCESSES).await?;
        let tree = ::processes::tree(&records, &department).map_err(processes_error)?;
        Ok(tree.into())
    }
}

/// The process queries.
#[derive(Debug, Default)]
pub struct ProcessQueries;

#[Object(guard = "RootAccess")]
impl ProcessQueries {
    /// Published processes in process-id order: all, or one department's.
    #[graphql(
        complexity = "cost(first, PROCESSES_PAGE_DEFAULT, PAGE_SIZE_MAX) * child_complexity + 1"
    )]
    async fn processes(
        &self,
        ctx: &Context<'_>,
        department: Option<String>,
        first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<ProcessConnection> {
        let after = received_cursor(ctx, "after", after)?;
        let first = page_size("first", first, PROCESSES_PAGE_DEFAULT, PAGE_SIZE_MAX)?;
        let department = department
            .map(|department| Title::parse("department", &department))
            .transpose()?;
        let records = state(ctx)?.read_model(ctx, PROCESSES).await?;
        let page = ::processes::processes(&records, department.as_ref(), after.as_deref(), first)
            .map_err(processes_error)?;
        Ok(process_page(page, after.is_some()))
    }

    /// The process with this id as last published; null when none was.
    async fn process(&self, ctx: &Context<'_>, id: ID) -> ApiResult<Option<Process>> {
        let id = ProcessId::parse("id", &id)?;
        let records = state(ctx)?.read_model(ctx, PROCESSES).await?;
        Ok(::processes::process(&records, id)?.map(|record| Process { record }))
    }

    /// The network's orphans, broken links and department trees.
    async fn process_network(&self) -> ProcessNetwork {
        ProcessNetwork
    }
}
