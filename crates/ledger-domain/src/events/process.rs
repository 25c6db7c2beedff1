//! Events of the process stream (`process-{id}`): business processes published in versions,
//! linked into a tree within a department and a network across the company, and the training
//! staff received on them (seed 4.2.5).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{Validate, distinct_list, personal, routing};
use crate::ValidationError;
use crate::ids::{ProcessId, StaffId, StreamId};
use crate::kinds::Title;
use crate::values::FreeText;

/// The most links one process version may have to other processes.
pub const PROCESS_LINKS_MAX: usize = 64;

/// A version of a business process was published. Each publication carries the whole process
/// (not a patch): its title, department, parent in the department's tree and links.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ProcessPublished {
    pub process_id: ProcessId,
    pub title: Title,
    pub department: Title,
    /// 1 for the first publication; each later one is higher.
    pub version: u32,
    /// The process above this one in its department's tree; none for a root.
    #[serde(default)]
    pub parent: Option<ProcessId>,
    /// Processes this one hands over to or depends on, in any department.
    #[serde(default)]
    pub links: Vec<ProcessId>,
    pub owner: StaffId,
    #[serde(default)]
    pub summary: Option<FreeText>,
}

/// A member of staff was trained on a version of a process (宣导 / 培训).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ProcessTrainingRecorded {
    pub process_id: ProcessId,
    pub staff: StaffId,
    /// The process version the training covered.
    pub version: u32,
    #[serde(default)]
    pub trainer: Option<StaffId>,
}

routing!(
    ProcessPublished, ProcessTrainingRecorded
    => |event| StreamId::process(event.process_id), Vec::new()
);

personal!(ProcessPublished {}, ProcessTrainingRecorded {});

impl Validate for ProcessPublished {
    fn validate(&self) -> Result<(), ValidationError> {
        first_version(self.version)?;
        if self.parent == Some(self.process_id) {
            return Err(ValidationError::new(
                "parent",
                "a process cannot be its own parent",
            ));
        }
        distinct_list("links", &self.links, true, PROCESS_LINKS_MAX)?;
        if let Some(index) = self.links.iter().position(|link| *link == self.process_id) {
            return Err(ValidationError::new(
                format!("links[{index}]"),
                "a process cannot link to itself",
            ));
        }
        Ok(())
    }
}

impl Validate for ProcessTrainingRecorded {
    fn validate(&self) -> Result<(), ValidationError> {
        first_version(self.version)
    }
}

fn first_version(version: u32) -> Result<(), ValidationError> {
    if version == 0 {
        return Err(ValidationError::new(
            "version",
            "process versions start at 1",
        ));
    }
    Ok(())
}
