//! Mutations of the process aggregate: publishing a process version and recording training.
//! `Recorded.id` is the process id.

use async_graphql::{Context, ID, InputObject, Object};
use ledger_domain::ValidationError;
use ledger_domain::commands::{PublishProcess, RecordProcessTraining};
use ledger_domain::ids::{ProcessId, StaffId};
use ledger_domain::kinds::Title;

use super::{
    Affected, CommandContext, CommandInput, Recorded, optional, optional_id, optional_written, run,
    whole,
};
use crate::access::RootAccess;
use crate::errors::ApiResult;
use crate::scalars::Count;

const VERSION_RULE: &str = "a process version is a whole number, not negative";

/// Publishes a (new version of a) business process.
#[derive(InputObject, Debug)]
pub struct PublishProcessInput {
    /// Left out, the ledger makes one (a new process; see the mutations' documentation).
    pub process_id: Option<ID>,
    pub title: String,
    pub department: String,
    pub version: i32,
    pub parent: Option<ID>,
    #[graphql(default)]
    pub links: Vec<ID>,
    pub owner: String,
    pub summary: Option<String>,
}

impl CommandInput for PublishProcessInput {
    type Command = PublishProcess;

    fn into_command(self, context: &CommandContext) -> Result<PublishProcess, ValidationError> {
        let process_id = match &self.process_id {
            Some(id) => ProcessId::parse("input.processId", id)?,
            None => ProcessId::from_uuid(context.new_uuid()),
        };
        let links = self
            .links
            .iter()
            .enumerate()
            .map(|(index, link)| ProcessId::parse(&format!("input.links[{index}]"), link))
            .collect::<Result<_, _>>()?;
        Ok(PublishProcess {
            process_id,
            title: Title::parse("input.title", &self.title)?,
            department: Title::parse("input.department", &self.department)?,
            version: whole("input.version", self.version, VERSION_RULE)?,
            parent: optional_id("input.parent", self.parent, ProcessId::parse)?,
            links,
            owner: StaffId::parse("input.owner", &self.owner)?,
            summary: optional_written("input.summary", self.summary)?,
        })
    }

    fn affected(command: &PublishProcess) -> Affected {
        Affected::default().with_id(command.process_id)
    }
}

/// Records that a member of staff was trained on a published version of a process.
#[derive(InputObject, Debug)]
pub struct RecordProcessTrainingInput {
    pub process_id: ID,
    pub staff: String,
    pub version: i32,
    pub trainer: Option<String>,
}

impl CommandInput for RecordProcessTrainingInput {
    type Command = RecordProcessTraining;

    fn into_command(self, _: &CommandContext) -> Result<RecordProcessTraining, ValidationError> {
        Ok(RecordProcessTraining {
            process_id: ProcessId::parse("input.processId", &self.process_id)?,
            staff: StaffId::parse("input.staff", &self.staff)?,
            version: whole("input.version", self.version, VERSION_RULE)?,
            trainer: optional("input.trainer", self.trainer, StaffId::parse)?,
        })
    }

    fn affected(command: &RecordProcessTraining) -> Affected {
        Affected::default().with_id(command.process_id)
    }
}

/// The process aggregate's mutations.
#[derive(Debug, Default)]
pub struct ProcessMutations;

#[Object(guard = "RootAccess")]
impl ProcessMutations {
    async fn publish_process(
        &self,
        ctx: &Context<'_>,
        input: PublishProcessInput,
        event_id: Option<ID>,
        expected_version: Option<Count>,
    ) -> ApiResult<Recorded> {
        run(ctx, input, event_id, expected_version).await
    }

    async fn record_process_training(
        &self,
        ctx: &Context<'_>,
        input: RecordProcessTrainingInput,
        event_id: Option<ID>,
        expected_version: Option<Count>,
    ) -> ApiResult<Recorded> {
        run(ctx, input, event_id, expected_version).await
    }
}
