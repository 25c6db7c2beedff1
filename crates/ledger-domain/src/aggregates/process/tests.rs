//! Given / when / then tests of the process aggregate.

use super::*;
use crate::aggregates::testing::given;
use crate::samples::{self, staff, title};

fn process() -> ProcessId {
    samples::process_id()
}

fn publish(version: u32) -> PublishProcess {
    PublishProcess {
        process_id: process(),
        title: title("小额案件快速赔付流程"),
        department: title("理赔部"),
        version,
        parent: Some(samples::parent_process_id()),
        links: vec![samples::linked_process_id()],
        owner: staff("claims-lead-01"),
        summary: None,
    }
}

fn published(version: u32) -> Event {
    ProcessPublished {
        process_id: process(),
        title: title("小额案件快速赔付流程"),
        department: title("理赔部"),
        version,
        parent: Some(samples::parent_process_id()),
        links: vec![samples::linked_process_id()],
        owner: staff("claims-lead-01"),
        summary: None,
    }
    .into()
}

fn train(version: u32) -> RecordProcessTraining {
    RecordProcessTraining {
        process_id: process(),
        staff: staff("agent-0042"),
        version,
        trainer: None,
    }
}

fn trained(version: u32) -> Event {
    ProcessTrainingRecorded {
        process_id: process(),
        staff: staff("agent-0042"),
        version,
        trainer: None,
    }
    .into()
}

fn older_version(current: u32) -> DomainError {
    DomainError::InvalidTransition {
        kind: "process",
        id: process().to_string(),
        action: "publish an equal or older version of",
        state: format!("at version {current}"),
    }
}

#[test]
fn versions_increase_strictly() {
    given::<Process>(&[]).when(publish(1)).then(&[published(1)]);
    let process = given::<Process>(&[published(1)])
        .when(publish(3))
        .then(&[published(3)]);
    assert_eq!(process.version(), Some(3));
    given::<Process>(&[published(1)])
        .when(publish(1))
        .then_error(older_version(1));
    given::<Process>(&[published(1), published(3)])
        .when(publish(2))
        .then_error(older_version(3));
    given::<Process>(&[])
        .when(publish(0))
        .then_invalid("version");
}

#[test]
fn a_process_is_neither_its_own_parent_nor_linked_to_itself() {
    let own_parent = PublishProcess {
        parent: Some(process()),
        ..publish(1)
    };
    given::<Process>(&[])
        .when(own_parent)
        .then_invalid("parent");
    let self_link = PublishProcess {
        links: vec![samples::linked_process_id(), process()],
        ..publish(1)
    };
    given::<Process>(&[])
        .when(self_link)
        .then_invalid("links[1]");
    let twice = PublishProcess {
        links: vec![samples::linked_process_id(), samples::linked_process_id()],
        ..publish(1)
    };
    given::<Process>(&[]).when(twice).then_invalid("links[1]");
}

#[test]
fn training_is_recorded_for_published_versions_only() {
    given::<Process>(&[published(1), published(3)])
        .when(train(1))
        .then(&[trained(1)]);
    given::<Process>(&[published(1), published(3)])
        .when(train(3))
        .then(&[trained(3)]);
    given::<Process>(&[published(1), published(3)])
        .when(train(2))
        .then_error(DomainError::NotFound {
            kind: "process version",
            id: format!("{} v2", process()),
        });
    given::<Process>(&[])
        .when(train(1))
        .then_error(DomainError::NotFound {
            kind: "process",
            id: process().to_string(),
        });
}
