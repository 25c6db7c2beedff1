//! The application layer end to end on a real store: commands decide and append; projections
//! applied incrementally equal projections rebuilt from 0, also after a reopen mid-way.

use std::time::Duration;

use jiff::Timestamp;
use ledger_app::{CommandError, CommandMeta, KeyOptions, Ledger, names};
use ledger_domain::DomainError;
use ledger_domain::commands::{
    AddIdentifier, Command, CustomerCommand, MergeCustomers, RecordContact, RegisterCustomer,
};
use ledger_domain::events::Event;
use ledger_domain::ids::{ContactId, CustomerId, EventId, Position, StaffId};
use ledger_domain::kinds::{ContactOutcome, CustomerKind};
use ledger_domain::projection::Entry;
use ledger_domain::values::{
    Channel, Direction, FreeText, Identifier, IdentifierKind, PersonName, Topic,
};
use std::sync::Arc;

use ledger_domain::projection::Projection;
use ledger_store::{
    AppendRequest, EventLog, ExpectedVersion, NewEvent, SledEventLog, StoreOptions,
};

fn agent() -> StaffId {
    StaffId::parse("actor", "agent-0042").unwrap()
}

fn mobile(text: &str) -> Identifier {
    Identifier::parse("mobile", IdentifierKind::Mobile, text).unwrap()
}

fn register(customer: CustomerId, name: &str, phone: &str) -> Command {
    Command::Customer(CustomerCommand::RegisterCustomer(RegisterCustomer {
        customer_id: customer,
        kind: CustomerKind::Individual,
        name: PersonName::parse("name", name).unwrap(),
        group: None,
        address: None,
        identifiers: vec![mobile(phone)],
    }))
}

fn contact(customer: CustomerId, channel: Channel, minutes: i64) -> Command {
    Command::Customer(CustomerCommand::RecordContact(RecordContact {
        contact_id: ContactId::new_v7(),
        customer_id: customer,
        channel,
        direction: Direction::Inbound,
        agent: agent(),
        started_at: Timestamp::now() - jiff::SignedDuration::from_mins(minutes),
        duration_seconds: 120,
        topic: Topic::Enquiry,
        summary: FreeText::parse("summary", "问续保价格").unwrap(),
        outcome: ContactOutcome::Resolved,
        policy_number: None,
        claim_number: None,
        case_id: None,
        campaign_id: None,
        enquiry_id: None,
    }))
}

async fn open(dir: &std::path::Path) -> Ledger {
    let ledger = Ledger::open(
        dir,
        StoreOptions::default(),
        KeyOptions::insecure_for_tests(),
    )
    .unwrap();
    ledger.start();
    ledger
}

/// Opens a ledger in `dir`, registers `count` customers named `name` (mobiles `phone_prefix`
/// and a 4-digit index), appends every sample event, lets the projections apply it all and
/// closes it. Returns the customers.
async fn write_history(
    dir: &std::path::Path,
    count: usize,
    name: &str,
    phone_prefix: &str,
) -> Vec<CustomerId> {
    let customers: Vec<CustomerId> = (0..count).map(|_| CustomerId::new_v7()).collect();
    let ledger = open(dir).await;
    for (index, customer) in customers.iter().enumerate() {
        let phone = format!("{phone_prefix}{index:04}");
        ledger
            .execute(register(*customer, name, &phone), CommandMeta::by(agent()))
            .await
            .unwrap();
    }
    append_samples(ledger.log()).await;
    settle(&ledger).await;
    ledger.close().await.unwrap();
    customers
}

/// A started ledger in `dir` holding one registered customer.
async fn open_with_customer(
    dir: &std::path::Path,
    name: &str,
    phone: &str,
) -> (Ledger, CustomerId) {
    let ledger = open(dir).await;
    let customer = CustomerId::new_v7();
    ledger
        .execute(register(customer, name, phone), CommandMeta::by(agent()))
        .await
        .unwrap();
    (ledger, customer)
}

async fn settle(ledger: &Ledger) {
    let head = ledger.log().head().position;
    ledger
        .runner()
        .wait_for(head, Duration::from_secs(10), None)
        .await
        .unwrap();
}

fn dumps(ledger: &Ledger) -> Vec<(String, Vec<Entry>)> {
    dumps_of(ledger, &ledger.runner().names())
}

fn dumps_of(ledger: &Ledger, names: &[&str]) -> Vec<(String, Vec<Entry>)> {
    names
        .iter()
        .map(|name| {
            (
                (*name).to_owned(),
                ledger.runner().reader(name).unwrap().dump().unwrap(),
            )
        })
        .collect()
}

/// Appends every sample event (one of each type) straight to the log, each on its own stream.
async fn append_samples(log: &SledEventLog) {
    for event in ledger_domain::samples::sample_events() {
        let new_event = NewEvent {
            event_id: EventId::new_v7(),
            event_type: event.event_type().to_owned(),
            schema_version: event.schema_version(),
            occurred_at: Timestamp::now(),
            actor: agent(),
            correlation_id: None,
            causation_id: None,
            origin: None,
            payload: event.encode_payload(),
        };
        let request = AppendRequest {
            stream: event.stream(),
            expected: ExpectedVersion::Any,
            events: vec![new_event],
        };
        log.append(request).await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn commands_decide_append_and_retry_idempotently() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = open(dir.path()).await;
    let zhang = CustomerId::new_v7();
    let first = ledger
        .execute(
            register(zhang, "张三", "13800138000"),
            CommandMeta::by(agent()),
        )
        .await
        .unwrap();
    assert_eq!(first.stream_version, 1);
    assert!(matches!(
        first.events.as_slice(),
        [Event::CustomerRegistered(_)]
    ));

    // The same number in another spelling belongs to 张三 already.
    let li = CustomerId::new_v7();
    let refused = ledger
        .execute(
            register(li, "李四", "+86 138-0013-8000"),
            CommandMeta::by(agent()),
        )
        .await
        .unwrap_err();
    assert_eq!(
        refused,
        CommandError::Domain(DomainError::IdentifierOwned {
            identifier: mobile("13800138000").to_string(),
            owner: zhang.to_string()
        }),
    );

    // A retried command with the same event id answers the original position, writes nothing.
    let event_id = EventId::new_v7();
    let meta = CommandMeta {
        event_id: Some(event_id),
        ..CommandMeta::by(agent())
    };
    let command = contact(zhang, Channel::Phone, 5);
    let recorded = ledger.execute(command.clone(), meta.clone()).await.unwrap();
    let retried = ledger.execute(command, meta.clone()).await.unwrap();
    assert!(retried.duplicate && !recorded.duplicate);
    assert_eq!(retried.position, recorded.position);
    assert_eq!(ledger.log().head().position, recorded.position);
    // Another contact under the same id is not a retry: refused, not dropped.
    let reused = ledger
        .execute(contact(zhang, Channel::Phone, 5), meta)
        .await
        .unwrap_err();
    assert!(
        matches!(&reused, CommandError::Invalid(error) if error.field == "eventId"),
        "{reused:?}"
    );
    assert_eq!(ledger.log().head().position, recorded.position);

    // A stale expected version is a conflict naming both versions.
    let stale = CommandMeta {
        expected_version: Some(1),
        ..CommandMeta::by(agent())
    };
    let conflict = ledger
        .execute(contact(zhang, Channel::WeChat, 3), stale)
        .await
        .unwrap_err();
    assert!(
        matches!(
            conflict,
            CommandError::Conflict {
                expected: 1,
                actual: 2,
                ..
            }
        ),
        "{conflict:?}"
    );
    // So is one sent with a command that changes nothing (the mobile is the customer's
    // already), where the version it was sent against is the stream's answer.
    let held = Command::Customer(CustomerCommand::AddIdentifier(AddIdentifier {
        customer_id: zhang,
        identifier: mobile("13800138000"),
    }));
    let unchanged_but_stale = ledger
        .execute(
            held.clone(),
            CommandMeta {
                expected_version: Some(1),
                ..CommandMeta::by(agent())
            },
        )
        .await
        .unwrap_err();
    assert!(
        matches!(
            unchanged_but_stale,
            CommandError::Conflict {
                expected: 1,
                actual: 2,
                ..
            }
        ),
        "{unchanged_but_stale:?}"
    );
    let unchanged = ledger
        .execute(
            held,
            CommandMeta {
                expected_version: Some(2),
                ..CommandMeta::by(agent())
            },
        )
        .await
        .unwrap();
    assert!(unchanged.events.is_empty() && unchanged.stream_version == 2);

    // A merged customer accepts nothing more.
    ledger
        .execute(
            register(li, "张三", "13900139000"),
            CommandMeta::by(agent()),
        )
        .await
        .unwrap();
    let merge = Command::Customer(CustomerCommand::MergeCustomers(MergeCustomers {
        customer_id: li,
        survivor_id: zhang,
        reason: None,
    }));
    ledger
        .execute(merge, CommandMeta::by(agent()))
        .await
        .unwrap();
    let refused = ledger
        .execute(contact(li, Channel::Email, 1), CommandMeta::by(agent()))
        .await
        .unwrap_err();
    assert!(
        matches!(
            refused,
            CommandError::Domain(DomainError::CustomerMerged { .. })
        ),
        "{refused:?}"
    );

    // Nobody can be merged into a customer who was merged away: the directory names the survivor.
    let wang = CustomerId::new_v7();
    ledger
        .execute(
            register(wang, "王五", "13600136000"),
            CommandMeta::by(agent()),
        )
        .await
        .unwrap();
    let into_merged = Command::Customer(CustomerCommand::MergeCustomers(MergeCustomers {
        customer_id: wang,
        survivor_id: li,
        reason: None,
    }));
    let refused = ledger
        .execute(into_merged, CommandMeta::by(agent()))
        .await
        .unwrap_err();
    assert_eq!(
        refused,
        CommandError::Domain(DomainError::CustomerMerged {
            customer: li.to_string(),
            survivor: zhang.to_string()
        })
    );
    let into_nobody = Command::Customer(CustomerCommand::MergeCustomers(MergeCustomers {
        customer_id: wang,
        survivor_id: CustomerId::new_v7(),
        reason: None,
    }));
    let refused = ledger
        .execute(into_nobody, CommandMeta::by(agent()))
        .await
        .unwrap_err();
    assert!(
        matches!(
            refused,
            CommandError::Domain(DomainError::NotFound {
                kind: "customer",
                ..
            })
        ),
        "{refused:?}"
    );

    // The directory resolves the merged customer's number to the survivor.
    settle(&ledger).await;
    let directory = ledger.runner().reader(names::CUSTOMER_DIRECTORY).unwrap();
    assert_eq!(
        customer_directory::resolve(&directory, &mobile("13900139000")).unwrap(),
        Some(zhang)
    );
    ledger.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn incremental_projections_equal_a_rebuild_from_zero_across_a_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let customers = write_history(dir.path(), 12, "王五", "1390000").await;
    // Reopen: the projections resume from their checkpoints while more events arrive.
    let ledger = open(dir.path()).await;
    for (index, customer) in customers.iter().enumerate() {
        for channel in [Channel::Phone, Channel::WeChat, Channel::Web] {
            let minutes = i64::try_from(index).unwrap() * 10;
            ledger
                .execute(
                    contact(*customer, channel, minutes),
                    CommandMeta::by(agent()),
                )
                .await
                .unwrap();
        }
    }
    settle(&ledger).await;
    let incremental = dumps(&ledger);
    assert!(
        incremental.iter().all(|(_, entries)| !entries.is_empty()),
        "every projection holds state"
    );
    for name in ledger.runner().names() {
        ledger.runner().rebuild(name).unwrap();
    }
    assert_eq!(
        dumps(&ledger),
        incremental,
        "a rebuild from 0 differs from incremental application"
    );
    // All of them rebuilt together, in one pass over the log, come out the same.
    let head = ledger.log().head().position;
    let mut heard = Vec::new();
    let reached = ledger
        .runner()
        .rebuild_with_progress(&ledger.runner().names(), &mut |position| {
            heard.push(position)
        })
        .unwrap();
    assert_eq!(reached, head);
    assert_eq!(heard.last(), Some(&head), "progress reaches the head");
    assert!(heard.windows(2).all(|pair| pair[0] < pair[1]));
    assert_eq!(dumps(&ledger), incremental, "a joint rebuild differs");
    // A projection named twice is rebuilt once, whole.
    let timeline = [names::CUSTOMER_TIMELINE, names::CUSTOMER_TIMELINE];
    assert_eq!(
        ledger
            .runner()
            .rebuild_with_progress(&timeline, &mut |_| {}),
        Ok(head)
    );
    assert_eq!(dumps(&ledger), incremental, "a rebuild named twice differs");
    // And each equals the same fold into memory, which reads no filter of written keys.
    for (name, dump) in dumps(&ledger) {
        let in_memory: Vec<Entry> = ledger
            .runner()
            .build_as_of(&name, head)
            .unwrap()
            .entries()
            .iter()
            .map(|(key, value)| (key.clone(), value.clone()))
            .collect();
        assert_eq!(
            dump, in_memory,
            "{name}: the rebuild differs from a fold in memory"
        );
    }
    ledger.close().await.unwrap();
}

/// A projection whose layout version is one more than the one it wraps: the runner must
/// rebuild it from position 0.
struct Bumped(Arc<dyn Projection>);

impl Projection for Bumped {
    fn name(&self) -> &'static str {
        self.0.name()
    }

    fn version(&self) -> u32 {
        self.0.version() + 1
    }

    fn apply(
        &self,
        envelope: &ledger_domain::projection::Envelope<'_>,
        state: &mut dyn ledger_domain::projection::StateWrite,
    ) -> Result<(), ledger_domain::projection::StateError> {
        self.0.apply(envelope, state)
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_catch_up_rebuilds_a_changed_projection_while_the_others_resume_in_place() {
    let dir = tempfile::tempdir().unwrap();
    write_history(dir.path(), 3, "陈七", "1380000").await;
    let resumed_from = {
        // More history arrives while no runner follows the log.
        let log = SledEventLog::open(dir.path(), StoreOptions::default()).unwrap();
        let before = log.head().position;
        append_samples(&log).await;
        log.close().await.unwrap();
        before
    };
    let projections: Vec<Arc<dyn Projection>> = ledger_app::standard_projections()
        .unwrap()
        .into_iter()
        .map(|projection| -> Arc<dyn Projection> {
            if projection.name() == names::ANALYTICS {
                Arc::new(Bumped(projection))
            } else {
                projection
            }
        })
        .collect();
    let ledger = Ledger::with_projections(
        SledEventLog::open(dir.path(), StoreOptions::default()).unwrap(),
        projections,
        KeyOptions::insecure_for_tests(),
    )
    .unwrap();
    let head = ledger.log().head().position;
    assert!(resumed_from < head);
    for (name, checkpoint) in ledger.runner().checkpoints() {
        let expected = if name == names::ANALYTICS {
            Position::ZERO
        } else {
            resumed_from
        };
        assert_eq!(checkpoint, expected, "{name} before the catch-up");
    }
    assert_eq!(ledger.runner().catch_up().unwrap(), head);
    assert!(
        ledger
            .runner()
            .checkpoints()
            .iter()
            .all(|(_, checkpoint)| *checkpoint == head)
    );
    let caught_up = dumps(&ledger);
    for name in ledger.runner().names() {
        ledger.runner().rebuild(name).unwrap();
    }
    assert_eq!(
        dumps(&ledger),
        caught_up,
        "a catch-up differs from rebuilds"
    );
    ledger.close().await.unwrap();
}

/// Small batches and rebuild commits every few KiB, so that a small ledger goes through many
/// of both: the read models equal those of one large batch, and of a fold into memory.
#[tokio::test(flavor = "multi_thread")]
async fn many_small_batches_and_rebuild_commits_build_the_same_read_models() {
    let dir = tempfile::tempdir().unwrap();
    write_history(dir.path(), 40, "周九", "1350000").await;
    let ledger = open(dir.path()).await;
    settle(&ledger).await;
    let whole = dumps(&ledger);
    let head = ledger.log().head().position;
    assert!(
        head.get() > 7 * 10,
        "too few events for many batches: {head}"
    );
    ledger.runner().set_batch_sizes(7, 2_048);
    let names = ledger.runner().names();
    assert_eq!(
        ledger
            .runner()
            .rebuild_with_progress(&names, &mut |_| {})
            .unwrap(),
        head
    );
    assert_eq!(dumps(&ledger), whole, "a rebuild in small commits differs");
    for (name, entries) in &whole {
        let folded: Vec<Entry> = ledger
            .runner()
            .build_as_of(name, head)
            .unwrap()
            .entries()
            .iter()
            .map(|(key, value)| (key.clone(), value.clone()))
            .collect();
        assert_eq!(&folded, entries, "{name} differs from a fold into memory");
    }
    ledger.close().await.unwrap();
}

/// A projection that records every position it applies, and fails (or panics) at `at`.
struct Breaks {
    at: Position,
    panics: bool,
}

impl Breaks {
    const NAME: &'static str = "breaks-on-purpose";
}

impl Projection for Breaks {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    fn version(&self) -> u32 {
        1
    }

    fn apply(
        &self,
        envelope: &ledger_domain::projection::Envelope<'_>,
        state: &mut dyn ledger_domain::projection::StateWrite,
    ) -> Result<(), ledger_domain::projection::StateError> {
        if envelope.position == self.at {
            assert!(!self.panics, "breaks on purpose at {}", self.at);
            return Err(ledger_domain::projection::StateError(format!(
                "refused {} on purpose",
                self.at
            )));
        }
        state.put(envelope.position.get().to_be_bytes().to_vec(), Vec::new());
        Ok(())
    }
}

/// Rebuilds every standard projection beside a [`Breaks`] one that gives up halfway through
/// the log, in batches of 7: the rebuild returns the failure (`check`) and switches nothing;
/// every read model answers as before, and no progress was reported at or past the failure.
async fn rebuild_beside_a_broken_projection(
    panics: bool,
    check: impl FnOnce(ledger_app::RunnerError),
) {
    let dir = tempfile::tempdir().unwrap();
    write_history(dir.path(), 20, "吴十", "1340000").await;
    let log = SledEventLog::open(dir.path(), StoreOptions::default()).unwrap();
    let at = Position(log.head().position.get() / 2);
    let mut projections = ledger_app::standard_projections().unwrap();
    projections.push(Arc::new(Breaks { at, panics }));
    let ledger =
        Ledger::with_projections(log, projections, KeyOptions::insecure_for_tests()).unwrap();
    let standard: Vec<&str> = ledger
        .runner()
        .names()
        .into_iter()
        .filter(|name| *name != Breaks::NAME)
        .collect();
    // The standard projections were built as the history was written, the broken one never.
    let before = dumps_of(&ledger, &standard);
    let checkpoints = ledger.runner().checkpoints();
    ledger.runner().set_batch_sizes(7, 2_048);
    let mut reported = Vec::new();
    let error = ledger
        .runner()
        .rebuild_with_progress(&ledger.runner().names(), &mut |position| {
            reported.push(position)
        })
        .unwrap_err();
    check(error);
    assert!(
        reported.iter().all(|position| *position < at),
        "progress past the failure at {at}: {reported:?}"
    );
    assert!(
        reported.windows(2).all(|pair| pair[0] < pair[1]),
        "progress went back: {reported:?}"
    );
    assert_eq!(ledger.runner().checkpoints(), checkpoints);
    assert_eq!(dumps_of(&ledger, &standard), before);
    assert!(matches!(
        ledger.runner().reader(Breaks::NAME),
        Err(ledger_app::RunnerError::NotBuilt(_))
    ));
    ledger.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_projection_that_fails_mid_rebuild_stops_it_and_nothing_is_switched() {
    rebuild_beside_a_broken_projection(false, |error| match error {
        ledger_app::RunnerError::State { projection, source } => {
            assert_eq!(projection, Breaks::NAME);
            assert!(source.0.contains("on purpose"), "{source}");
        }
        other => panic!("not the projection's failure: {other:?}"),
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_projection_that_panics_mid_rebuild_stops_it_and_nothing_is_switched() {
    rebuild_beside_a_broken_projection(true, |error| match error {
        ledger_app::RunnerError::Stopped { cause, .. } => {
            assert!(cause.contains("breaks on purpose"), "{cause}");
        }
        other => panic!("not the projection's panic: {other:?}"),
    })
    .await;
}

/// A ledger whose read models were stored before blocks (one sled key per entry) keeps
/// answering from them until the catch-up has rebuilt every one in blocks, with the same
/// entries.
#[tokio::test(flavor = "multi_thread")]
async fn read_models_stored_before_blocks_are_read_until_rebuilt_in_blocks() {
    let dir = tempfile::tempdir().unwrap();
    write_history(dir.path(), 40, "孙八", "1360000").await;
    let built = {
        let ledger = open(dir.path()).await;
        let built = dumps(&ledger);
        ledger.close().await.unwrap();
        built
    };
    {
        let log = SledEventLog::open(dir.path(), StoreOptions::default()).unwrap();
        let store = log.projections();
        for (name, entries) in &built {
            let meta = store
                .active(name)
                .unwrap()
                .unwrap()
                .meta()
                .unwrap()
                .unwrap();
            let entries = entries
                .iter()
                .map(|(key, value)| (ledger_store::write_key(key.clone()), Some(value.clone())))
                .collect();
            ledger_store::testing::store_unpacked_generation(&store, name, &entries, meta).unwrap();
        }
        log.close().await.unwrap();
    }
    let ledger = Ledger::with_projections(
        SledEventLog::open(dir.path(), StoreOptions::default()).unwrap(),
        ledger_app::standard_projections().unwrap(),
        KeyOptions::insecure_for_tests(),
    )
    .unwrap();
    // Before the catch-up: every projection is due for a rebuild, and readers get the old
    // entries.
    for (name, checkpoint) in ledger.runner().checkpoints() {
        assert_eq!(checkpoint, Position::ZERO, "{name} before the catch-up");
    }
    assert_eq!(dumps(&ledger), built);
    let head = ledger.log().head().position;
    assert_eq!(ledger.runner().catch_up().unwrap(), head);
    assert_eq!(
        dumps(&ledger),
        built,
        "the rebuild in blocks changed an entry"
    );
    for projection in ledger_app::standard_projections().unwrap() {
        let reader = ledger.runner().reader(projection.name()).unwrap();
        let meta = reader.current(projection.version()).unwrap();
        assert_eq!(
            meta.map(|meta| meta.checkpoint),
            Some(head),
            "{} is not carried forward in blocks",
            projection.name()
        );
    }
    ledger.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_read_model_as_of_a_past_position_equals_the_one_built_then() {
    let dir = tempfile::tempdir().unwrap();
    let (ledger, customer) = open_with_customer(dir.path(), "赵六", "13700137000").await;
    ledger
        .execute(
            contact(customer, Channel::Phone, 30),
            CommandMeta::by(agent()),
        )
        .await
        .unwrap();
    settle(&ledger).await;
    let then = ledger.log().head().position;
    let timeline_then = ledger
        .runner()
        .reader(names::CUSTOMER_TIMELINE)
        .unwrap()
        .dump()
        .unwrap();
    ledger
        .execute(
            contact(customer, Channel::Fax, 10),
            CommandMeta::by(agent()),
        )
        .await
        .unwrap();
    settle(&ledger).await;

    let as_of = ledger
        .runner()
        .build_as_of(names::CUSTOMER_TIMELINE, then)
        .unwrap();
    let as_of: Vec<Entry> = as_of
        .entries()
        .iter()
        .map(|(key, value)| (key.clone(), value.clone()))
        .collect();
    assert_eq!(as_of, timeline_then);
    assert_ne!(
        ledger
            .runner()
            .reader(names::CUSTOMER_TIMELINE)
            .unwrap()
            .dump()
            .unwrap(),
        timeline_then
    );
    ledger.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn waiting_for_a_position_not_yet_written_times_out_as_lagging() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = open(dir.path()).await;
    settle(&ledger).await;
    let beyond = Position(ledger.log().head().position.get() + 1);
    let error = ledger
        .runner()
        .wait_for(
            beyond,
            Duration::from_millis(100),
            Some(names::CUSTOMER_TIMELINE),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(error, ledger_app::RunnerError::Lagging { .. }),
        "{error:?}"
    );
    let unknown = ledger
        .runner()
        .wait_for(beyond, Duration::from_millis(10), Some("no-such"))
        .await
        .unwrap_err();
    assert_eq!(
        unknown,
        ledger_app::RunnerError::UnknownProjection("no-such".into())
    );
    ledger.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn analyst_rules_in_the_data_directory_replace_the_built_in_ones_and_bad_ones_stop_the_open()
{
    let dir = tempfile::tempdir().unwrap();
    let shipped = include_str!("../../../projections/segments/segments.toml");
    let own = "\n[[segment]]\nname = \"many-complaints\"\ndescription = \"Three complaints in 180 days.\"\nrule = 'complaints_180d >= 3'\n";
    std::fs::write(dir.path().join("segments.toml"), format!("{shipped}{own}")).unwrap();
    let ledger = Ledger::open(
        dir.path(),
        StoreOptions::default(),
        KeyOptions::insecure_for_tests(),
    )
    .unwrap();
    assert!(ledger.segments().rules().get("many-complaints").is_some());
    assert!(ledger.segments().rules().get("key-accounts").is_some());
    ledger.close().await.unwrap();
    drop(ledger);

    // An unguarded comparison with a value that may be null is refused, naming where.
    let bad =
        "[[segment]]\nname = \"unhappy\"\ndescription = \"Low CSAT.\"\nrule = 'last_csat <= 2'\n";
    std::fs::write(dir.path().join("segments.toml"), bad).unwrap();
    let error = Ledger::open(
        dir.path(),
        StoreOptions::default(),
        KeyOptions::insecure_for_tests(),
    )
    .unwrap_err()
    .to_string();
    assert!(
        error.contains("segments.toml:4:") && error.contains("segment `unhappy`"),
        "{error}"
    );
}

/// A crash between appending `CustomerErased` and destroying the key: the next open finishes
/// the erasure from the log; a marker whose event never made it is forgotten.
#[tokio::test(flavor = "multi_thread")]
async fn an_erasure_interrupted_by_a_crash_is_finished_on_open() {
    use ledger_domain::events::CustomerErased;
    use ledger_domain::ids::StreamId;
    use ledger_domain::kinds::ErasureReason;

    let dir = tempfile::tempdir().unwrap();
    let ledger = open(dir.path()).await;
    let erased = CustomerId::new_v7();
    let kept = CustomerId::new_v7();
    for (customer, phone) in [(erased, "13800138001"), (kept, "13800138002")] {
        ledger
            .execute(register(customer, "赵六", phone), CommandMeta::by(agent()))
            .await
            .unwrap();
    }
    let erased_stream = StreamId::customer(erased);
    let kept_stream = StreamId::customer(kept);
    ledger.keys().begin_erasure(&erased_stream).unwrap();
    ledger.keys().begin_erasure(&kept_stream).unwrap();
    // Two enquiries go with those erasures: one with the customer whose `CustomerErased`
    // made it into the log, one with the customer whose did not.
    let mut enquiries = Vec::new();
    for (phone, decided_by) in [
        ("13800138003", &erased_stream),
        ("13800138004", &kept_stream),
    ] {
        let (enquiry, received) = anonymous_enquiry(phone);
        ledger
            .execute(received, CommandMeta::by(agent()))
            .await
            .unwrap();
        let stream = ledger_domain::events::enquiry_stream(enquiry, None);
        ledger
            .keys()
            .begin_erasure_decided_by(&stream, decided_by)
            .unwrap();
        enquiries.push(stream);
    }
    // A third enquiry, answered by the erased customer's contact but never marked (as a bulk
    // append marks only the customer): finishing the customer's erasure takes it too.
    let (answered, received) = anonymous_enquiry("13800138005");
    ledger
        .execute(received, CommandMeta::by(agent()))
        .await
        .unwrap();
    let Command::Customer(CustomerCommand::RecordContact(mut callback)) =
        contact(erased, Channel::Phone, 3)
    else {
        unreachable!()
    };
    callback.enquiry_id = Some(answered);
    ledger
        .execute(
            Command::Customer(CustomerCommand::RecordContact(callback)),
            CommandMeta::by(agent()),
        )
        .await
        .unwrap();
    let event: Event = CustomerErased {
        customer_id: erased,
        reason: ErasureReason::CustomerRequest,
    }
    .into();
    append_plain(&ledger, &erased_stream, 2, &event).await;
    // "Crash": close without finishing either erasure.
    ledger.close().await.unwrap();
    drop(ledger);

    let reopened = open(dir.path()).await;
    assert!(reopened.keys().pending_erasures().unwrap().is_empty());
    assert!(reopened.keys().is_erased(&erased_stream).unwrap());
    assert!(!reopened.keys().is_erased(&kept_stream).unwrap());
    assert!(reopened.keys().is_erased(&enquiries[0]).unwrap());
    assert!(!reopened.keys().is_erased(&enquiries[1]).unwrap());
    let answered = ledger_domain::events::enquiry_stream(answered, None);
    assert!(reopened.keys().is_erased(&answered).unwrap());
    // The kept customer's personal data still opens.
    let (_, customer) = reopened
        .load::<ledger_domain::aggregates::Customer>(&kept_stream)
        .unwrap();
    assert!(format!("{customer:?}").contains("13800138002"));
    reopened.close().await.unwrap();
}

/// Appends `event` to `stream` behind the command handler's back (its payload plain: erasure
/// events carry no personal fields), as a crash before the handler's next step would leave it.
async fn append_plain(
    ledger: &Ledger,
    stream: &ledger_domain::ids::StreamId,
    version: u64,
    event: &Event,
) {
    let request = AppendRequest {
        stream: stream.clone(),
        expected: ExpectedVersion::Exact(version),
        events: vec![NewEvent {
            event_id: EventId::new_v7(),
            event_type: event.event_type().to_owned(),
            schema_version: 1,
            occurred_at: Timestamp::now(),
            actor: agent(),
            correlation_id: None,
            causation_id: None,
            origin: None,
            payload: event.encode_payload(),
        }],
    };
    ledger.log().append(request).await.unwrap();
}

/// An online enquiry received from nobody known is sealed under its own key.
fn anonymous_enquiry(mobile: &str) -> (ledger_domain::ids::EnquiryId, Command) {
    use ledger_domain::commands::{EnquiryCommand, RecordOnlineEnquiry};
    let enquiry = ledger_domain::ids::EnquiryId::new_v7();
    let command = Command::Enquiry(EnquiryCommand::RecordOnlineEnquiry(RecordOnlineEnquiry {
        enquiry_id: enquiry,
        customer_id: None,
        campaign_id: None,
        channel: Channel::Web,
        name: Some(PersonName::parse("name", "钱九").unwrap()),
        mobile: ledger_domain::values::Mobile::parse("mobile", mobile).unwrap(),
        plate: None,
        product_lines: Vec::new(),
        message: Some(FreeText::parse("message", "想问车险续保").unwrap()),
    }));
    (enquiry, command)
}

/// The enquiry as its stream's first event opens now.
fn opened_enquiry(ledger: &Ledger, enquiry: ledger_domain::ids::EnquiryId) -> String {
    let stream = ledger_domain::events::enquiry_stream(enquiry, None);
    let records = ledger.log().read_stream(&stream, 1, 10).unwrap();
    assert_eq!(records[0].event.event_type, "OnlineEnquiryReceived");
    format!(
        "{:?}",
        ledger_app::runner::decode(ledger.keys(), &records[0]).unwrap()
    )
}

fn erase_enquiry(enquiry: ledger_domain::ids::EnquiryId) -> Command {
    ledger_domain::commands::EraseEnquiry {
        enquiry_id: enquiry,
        reason: ledger_domain::kinds::ErasureReason::CustomerRequest,
    }
    .into()
}

/// A web-shop lead from nobody known, never tied to a customer, is erased on its own: its key
/// is destroyed once `EnquiryErased` is in its stream, other enquiries keep theirs, and an
/// enquiry erased already, or one the ledger does not hold, is refused with no marker left.
#[tokio::test(flavor = "multi_thread")]
async fn an_anonymous_enquiry_is_erased_on_its_own() {
    use ledger_domain::DomainError;

    let dir = tempfile::tempdir().unwrap();
    let ledger = open(dir.path()).await;
    let (erased, received) = anonymous_enquiry("13500135000");
    let (kept, other) = anonymous_enquiry("13500135001");
    for command in [received, other] {
        ledger
            .execute(command, CommandMeta::by(agent()))
            .await
            .unwrap();
    }
    let executed = ledger
        .execute(erase_enquiry(erased), CommandMeta::by(agent()))
        .await
        .unwrap();
    assert_eq!(executed.stream_version, 2);
    assert_eq!(executed.events[0].event_type(), "EnquiryErased");
    let stream = |enquiry| ledger_domain::events::enquiry_stream(enquiry, None);
    assert!(ledger.keys().is_erased(&stream(erased)).unwrap());
    let opened = opened_enquiry(&ledger, erased);
    assert!(!opened.contains("13500135000"), "{opened}");
    assert!(!opened.contains("钱九"), "{opened}");
    assert!(!ledger.keys().is_erased(&stream(kept)).unwrap());
    assert!(opened_enquiry(&ledger, kept).contains("13500135001"));

    let again = ledger
        .execute(erase_enquiry(erased), CommandMeta::by(agent()))
        .await
        .unwrap_err();
    assert!(
        matches!(
            again,
            CommandError::Domain(DomainError::InvalidTransition { .. })
        ),
        "{again:?}"
    );
    let unknown = ledger
        .execute(
            erase_enquiry(ledger_domain::ids::EnquiryId::new_v7()),
            CommandMeta::by(agent()),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(
            unknown,
            CommandError::Domain(DomainError::NotFound {
                kind: "enquiry",
                ..
            })
        ),
        "{unknown:?}"
    );
    assert!(ledger.keys().pending_erasures().unwrap().is_empty());
    // The refused erasures destroyed nothing.
    assert!(opened_enquiry(&ledger, kept).contains("13500135001"));
    ledger.close().await.unwrap();
}

/// A crash between appending `EnquiryErased` and destroying the enquiry's key: the next open
/// finishes the erasure from the enquiry's own stream.
#[tokio::test(flavor = "multi_thread")]
async fn an_enquiry_erasure_interrupted_by_a_crash_is_finished_on_open() {
    use ledger_domain::events::EnquiryErased;
    use ledger_domain::kinds::ErasureReason;

    let dir = tempfile::tempdir().unwrap();
    let ledger = open(dir.path()).await;
    let mut streams = Vec::new();
    for phone in ["13500135010", "13500135011"] {
        let (enquiry, received) = anonymous_enquiry(phone);
        ledger
            .execute(received, CommandMeta::by(agent()))
            .await
            .unwrap();
        let stream = ledger_domain::events::enquiry_stream(enquiry, None);
        ledger.keys().begin_erasure(&stream).unwrap();
        streams.push((enquiry, stream));
    }
    // Only the first erasure's event makes it into the log.
    let (enquiry, stream) = &streams[0];
    let event: Event = EnquiryErased {
        enquiry_id: *enquiry,
        reason: ErasureReason::LegalOrder,
    }
    .into();
    append_plain(&ledger, stream, 1, &event).await;
    ledger.close().await.unwrap();
    drop(ledger);

    let reopened = open(dir.path()).await;
    assert!(reopened.keys().pending_erasures().unwrap().is_empty());
    assert!(reopened.keys().is_erased(&streams[0].1).unwrap());
    assert!(!reopened.keys().is_erased(&streams[1].1).unwrap());
    assert!(opened_enquiry(&reopened, streams[1].0).contains("13500135011"));
    reopened.close().await.unwrap();
}

/// A web-shop lead that a call-back later tied to a customer holds that customer's name and
/// mobile under the enquiry's own key: erasing the customer destroys it too, but not the key
/// of an enquiry no contact of theirs names, nor of one named by mistake and corrected away.
#[tokio::test(flavor = "multi_thread")]
async fn erasing_a_customer_erases_the_enquiries_their_contacts_answered() {
    use ledger_domain::commands::{CorrectContact, EraseCustomer};
    use ledger_domain::ids::StreamId;
    use ledger_domain::kinds::ErasureReason;

    let dir = tempfile::tempdir().unwrap();
    let (ledger, customer) = open_with_customer(dir.path(), "钱九", "13900139000").await;
    let (answered, received) = anonymous_enquiry("13900139000");
    let (unrelated, other) = anonymous_enquiry("13700137000");
    let (mistaken, wrong) = anonymous_enquiry("13600136666");
    for command in [received, other, wrong] {
        ledger
            .execute(command, CommandMeta::by(agent()))
            .await
            .unwrap();
    }
    let link = |enquiry| {
        let Command::Customer(CustomerCommand::RecordContact(mut contact)) =
            contact(customer, Channel::Phone, 5)
        else {
            unreachable!()
        };
        contact.direction = Direction::Outbound;
        contact.enquiry_id = Some(enquiry);
        contact
    };
    let callback = link(answered);
    let misfiled = link(mistaken);
    for contact in [callback, misfiled.clone()] {
        ledger
            .execute(
                Command::Customer(CustomerCommand::RecordContact(contact)),
                CommandMeta::by(agent()),
            )
            .await
            .unwrap();
    }
    let corrected = CorrectContact {
        contact_id: misfiled.contact_id,
        customer_id: customer,
        channel: misfiled.channel,
        direction: misfiled.direction,
        agent: misfiled.agent.clone(),
        started_at: misfiled.started_at,
        duration_seconds: misfiled.duration_seconds,
        topic: misfiled.topic,
        summary: misfiled.summary.clone(),
        outcome: misfiled.outcome,
        policy_number: None,
        claim_number: None,
        case_id: None,
        campaign_id: None,
        enquiry_id: None,
        reason: FreeText::parse("reason", "关联错了询价").unwrap(),
    };
    ledger
        .execute(
            Command::Customer(CustomerCommand::CorrectContact(corrected)),
            CommandMeta::by(agent()),
        )
        .await
        .unwrap();
    assert!(opened_enquiry(&ledger, answered).contains("13900139000"));

    ledger
        .execute(
            Command::Customer(CustomerCommand::EraseCustomer(EraseCustomer {
                customer_id: customer,
                reason: ErasureReason::CustomerRequest,
            })),
            CommandMeta::by(agent()),
        )
        .await
        .unwrap();
    let enquiry_stream = |enquiry| ledger_domain::events::enquiry_stream(enquiry, None);
    assert!(
        ledger
            .keys()
            .is_erased(&StreamId::customer(customer))
            .unwrap()
    );
    assert!(ledger.keys().is_erased(&enquiry_stream(answered)).unwrap());
    let erased = opened_enquiry(&ledger, answered);
    assert!(!erased.contains("13900139000"), "{erased}");
    assert!(!erased.contains("钱九"), "{erased}");
    for kept in [unrelated, mistaken] {
        assert!(!ledger.keys().is_erased(&enquiry_stream(kept)).unwrap());
        assert!(opened_enquiry(&ledger, kept).contains("钱九"));
    }
    // The enquiry erased with the customer still takes its own `EnquiryErased`, so the
    // marketing read model and an auditor see it erased too.
    let executed = ledger
        .execute(erase_enquiry(answered), CommandMeta::by(agent()))
        .await
        .unwrap();
    assert_eq!(executed.events[0].event_type(), "EnquiryErased");
    assert!(ledger.keys().is_erased(&enquiry_stream(answered)).unwrap());
    assert!(ledger.keys().pending_erasures().unwrap().is_empty());
    ledger.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn writers_racing_for_one_stream_are_recorded_or_told_they_lost_every_race() {
    let dir = tempfile::tempdir().unwrap();
    let (ledger, customer) = open_with_customer(dir.path(), "周八", "13600136000").await;
    let before = ledger.log().head().position;
    let writers: Vec<_> = (0..48)
        .map(|index| {
            let ledger = ledger.clone();
            tokio::spawn(async move {
                ledger
                    .execute(
                        contact(customer, Channel::Phone, index),
                        CommandMeta::by(agent()),
                    )
                    .await
            })
        })
        .collect();
    let mut recorded = 0;
    for writer in writers {
        match writer.await.unwrap() {
            Ok(executed) => {
                assert_eq!(executed.events.len(), 1);
                recorded += 1;
            }
            // No version was pinned, so a refusal is never "not the expected N".
            Err(CommandError::Contended { attempts, .. }) => {
                assert_eq!(attempts, ledger_app::commands::COMMAND_ATTEMPTS_MAX);
            }
            Err(other) => panic!("{other:?}"),
        }
    }
    assert_eq!(ledger.log().head().position.get(), before.get() + recorded);
    ledger.close().await.unwrap();
}

/// The customer aggregate folded from the start, without the command handler's kept folds.
fn fresh_fold(ledger: &Ledger, customer: CustomerId) -> (u64, ledger_domain::aggregates::Customer) {
    use ledger_domain::aggregates::Aggregate;
    let stream = ledger_domain::ids::StreamId::customer(customer);
    let mut aggregate = ledger_domain::aggregates::Customer::default();
    let records = ledger.log().read_stream(&stream, 1, 1_000).unwrap();
    for record in &records {
        aggregate.apply(&ledger_app::runner::decode(ledger.keys(), record).unwrap());
    }
    (records.len() as u64, aggregate)
}

#[tokio::test(flavor = "multi_thread")]
async fn commands_on_a_long_stream_fold_only_what_is_new_and_forget_it_all_on_an_erasure() {
    use ledger_app::aggregate_cache::AGGREGATE_CACHE_STREAM_EVENTS_MIN;
    use ledger_domain::commands::EraseCustomer;
    use ledger_domain::ids::StreamId;
    use ledger_domain::kinds::ErasureReason;

    let dir = tempfile::tempdir().unwrap();
    let (ledger, customer) = open_with_customer(dir.path(), "孙七", "13800138077").await;
    let stream = StreamId::customer(customer);
    let contacts = i64::try_from(AGGREGATE_CACHE_STREAM_EVENTS_MIN).unwrap() + 5;
    for minutes in 0..contacts {
        ledger
            .execute(
                contact(customer, Channel::Phone, minutes),
                CommandMeta::by(agent()),
            )
            .await
            .unwrap();
    }
    // Every command past the threshold kept its fold; the next one starts from it.
    let (streams, events) = ledger.aggregates().size();
    assert_eq!(streams, 1);
    assert_eq!(events, u64::try_from(contacts).unwrap());
    let loaded = ledger
        .load::<ledger_domain::aggregates::Customer>(&stream)
        .unwrap();
    assert_eq!(loaded, fresh_fold(&ledger, customer));
    assert!(format!("{:?}", loaded.1).contains("孙七"));

    // What a command appends after its load is folded on top of the kept fold at the next.
    ledger
        .execute(
            contact(customer, Channel::WeChat, 1),
            CommandMeta::by(agent()),
        )
        .await
        .unwrap();
    let loaded = ledger
        .load::<ledger_domain::aggregates::Customer>(&stream)
        .unwrap();
    assert_eq!(loaded, fresh_fold(&ledger, customer));

    let erase = Command::Customer(CustomerCommand::EraseCustomer(EraseCustomer {
        customer_id: customer,
        reason: ErasureReason::CustomerRequest,
    }));
    ledger
        .execute(erase, CommandMeta::by(agent()))
        .await
        .unwrap();
    // The kept fold held the name in the clear; after the key is destroyed, a load equals a
    // fresh fold, whose personal fields no longer open.
    let loaded = ledger
        .load::<ledger_domain::aggregates::Customer>(&stream)
        .unwrap();
    assert_eq!(loaded, fresh_fold(&ledger, customer));
    assert!(!format!("{:?}", loaded.1).contains("孙七"));
    let refused = ledger
        .execute(
            contact(customer, Channel::Phone, 2),
            CommandMeta::by(agent()),
        )
        .await
        .unwrap_err();
    assert!(matches!(refused, CommandError::Domain(_)), "{refused:?}");
    ledger.close().await.unwrap();
}

/// Copies the directory `from` to `to` (which must not exist) with `cp -a`, as an operator's
/// backup or restore would.
fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    let copied = std::process::Command::new("cp")
        .arg("-a")
        .arg(from)
        .arg(to)
        .status()
        .unwrap();
    assert!(copied.success(), "cp -a {from:?} {to:?}");
}

/// Registers a customer named `name` for each of `phones` straight to the log (payloads
/// plain), each on its own stream, as the ledger's writes land while no runner follows the
/// log. Returns the customers, in the order of `phones`.
async fn append_registrations(log: &SledEventLog, name: &str, phones: &[&str]) -> Vec<CustomerId> {
    let mut customers = Vec::with_capacity(phones.len());
    for phone in phones {
        let customer = CustomerId::new_v7();
        let event: Event = ledger_domain::events::CustomerRegistered {
            customer_id: customer,
            kind: CustomerKind::Individual,
            name: PersonName::parse("name", name).unwrap(),
            group: None,
            address: None,
            identifiers: vec![mobile(phone)],
        }
        .into();
        let request = AppendRequest {
            stream: event.stream(),
            expected: ExpectedVersion::NoStream,
            events: vec![NewEvent {
                event_id: EventId::new_v7(),
                event_type: event.event_type().to_owned(),
                schema_version: event.schema_version(),
                occurred_at: Timestamp::now(),
                actor: agent(),
                correlation_id: None,
                causation_id: None,
                origin: None,
                payload: event.encode_payload(),
            }],
        };
        log.append(request).await.unwrap();
        customers.push(customer);
    }
    customers
}

/// A ledger over the store in `dir` whose runner has not caught up yet: what it decided on
/// open is still visible.
fn open_without_catch_up(dir: &std::path::Path) -> Ledger {
    Ledger::with_projections(
        SledEventLog::open(dir, StoreOptions::default()).unwrap(),
        ledger_app::standard_projections().unwrap(),
        KeyOptions::insecure_for_tests(),
    )
    .unwrap()
}

/// The hash chain's hash of the record at `position` of `ledger`'s log.
fn record_hash(ledger: &Ledger, position: Position) -> ledger_store::Hash {
    let record = ledger.log().read_all(position, 1).unwrap().remove(0);
    assert_eq!(record.position, position);
    record.hash
}

#[tokio::test(flavor = "multi_thread")]
async fn read_models_folded_from_another_history_up_to_the_head_are_rebuilt_not_served() {
    // Given read models folded up to position H of one history, beside a log restored from a
    // backup of that history taken earlier, which then took other events up to H: the head is
    // the read models' checkpoint, but the records up to it are not those they folded.
    let scratch = tempfile::tempdir().unwrap();
    let data = scratch.path().join("data");
    let restored = scratch.path().join("restored");
    write_history(&data, 2, "周九", "1350000").await;
    copy_dir(&data, &restored);
    let old_phones = ["13711110000", "13711110001", "13711110002"];
    let head = {
        let ledger = open(&data).await;
        append_registrations(ledger.log(), "吴十", &old_phones).await;
        settle(&ledger).await;
        let head = ledger.log().head().position;
        ledger.close().await.unwrap();
        head
    };
    std::fs::remove_dir_all(restored.join(ledger_store::READ_MODELS_DIR_NAME)).unwrap();
    copy_dir(
        &data.join(ledger_store::READ_MODELS_DIR_NAME),
        &restored.join(ledger_store::READ_MODELS_DIR_NAME),
    );
    let new_phones = ["13722220000", "13722220001", "13722220002"];
    let new_customers = {
        let log = SledEventLog::open(&restored, StoreOptions::default()).unwrap();
        let customers = append_registrations(&log, "郑十一", &new_phones).await;
        assert_eq!(
            log.head().position,
            head,
            "the other history reaches the same head"
        );
        log.close().await.unwrap();
        customers
    };

    // When the ledger opens over them.
    let ledger = open_without_catch_up(&restored);

    // Then no read model is served: each is due for a rebuild from position 0, as one ahead of
    // the head would be.
    for (name, checkpoint) in ledger.runner().checkpoints() {
        assert_eq!(
            checkpoint,
            Position::ZERO,
            "{name} is served from another history"
        );
        assert!(
            matches!(
                ledger.runner().reader(name),
                Err(ledger_app::RunnerError::NotBuilt(_))
            ),
            "{name} has a reader"
        );
    }
    // And once rebuilt they hold the log's events, not the other history's.
    assert_eq!(ledger.runner().catch_up().unwrap(), head);
    let directory = ledger.runner().reader(names::CUSTOMER_DIRECTORY).unwrap();
    for (customer, phone) in new_customers.iter().zip(new_phones) {
        assert_eq!(
            customer_directory::resolve(&directory, &mobile(phone)).unwrap(),
            Some(*customer),
            "{phone}, registered in the log, is not found"
        );
    }
    for phone in old_phones {
        assert_eq!(
            customer_directory::resolve(&directory, &mobile(phone)).unwrap(),
            None,
            "{phone}, registered in the other history only, is found"
        );
    }
    for projection in ledger_app::standard_projections().unwrap() {
        let reader = ledger.runner().reader(projection.name()).unwrap();
        assert_eq!(
            reader.checkpoint_hash().unwrap(),
            Some(ledger.log().head().hash),
            "{} records the head's hash with its checkpoint",
            projection.name()
        );
    }
    let caught_up = dumps(&ledger);
    for name in ledger.runner().names() {
        ledger.runner().rebuild(name).unwrap();
    }
    assert_eq!(
        dumps(&ledger),
        caught_up,
        "the rebuild differs from the log's"
    );
    ledger.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn read_models_whose_checkpoint_hash_is_the_logs_are_served_without_a_rebuild() {
    // Given read models folded up to the head, each with the hash of the record there.
    let dir = tempfile::tempdir().unwrap();
    write_history(dir.path(), 2, "冯十二", "1340000").await;
    let (folded, built) = {
        let ledger = open_without_catch_up(dir.path());
        let folded = ledger.log().head().position;
        for projection in ledger_app::standard_projections().unwrap() {
            let reader = ledger.runner().reader(projection.name()).unwrap();
            assert_eq!(
                reader
                    .current(projection.version())
                    .unwrap()
                    .map(|meta| meta.checkpoint),
                Some(folded)
            );
            assert_eq!(
                reader.checkpoint_hash().unwrap(),
                Some(record_hash(&ledger, folded)),
                "{} does not record the hash of its checkpoint's record",
                projection.name()
            );
        }
        let built = dumps(&ledger);
        ledger.close().await.unwrap();
        (folded, built)
    };
    // When the log goes on while no runner follows it, so the checkpoint is below the head.
    {
        let log = SledEventLog::open(dir.path(), StoreOptions::default()).unwrap();
        append_registrations(&log, "陈十三", &["13733330000", "13733330001"]).await;
        log.close().await.unwrap();
    }
    let ledger = open_without_catch_up(dir.path());
    let head = ledger.log().head().position;
    assert!(folded < head);
    // Then every read model is served as it was, from its checkpoint: nothing is rebuilt.
    for (name, checkpoint) in ledger.runner().checkpoints() {
        assert_eq!(
            checkpoint, folded,
            "{name} is rebuilt though its hash is the log's"
        );
    }
    assert_eq!(dumps(&ledger), built);
    assert_eq!(ledger.runner().catch_up().unwrap(), head);
    for projection in ledger_app::standard_projections().unwrap() {
        let reader = ledger.runner().reader(projection.name()).unwrap();
        assert_eq!(
            reader.checkpoint_hash().unwrap(),
            Some(ledger.log().head().hash),
            "{}'s catch-up did not record the new checkpoint's hash",
            projection.name()
        );
    }
    ledger.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn read_models_stored_without_a_checkpoint_hash_are_served_and_record_it_at_their_next_commit()
 {
    // Given read models whose metadata has no hash, as those written before it was kept.
    let dir = tempfile::tempdir().unwrap();
    write_history(dir.path(), 2, "褚十四", "1330000").await;
    let folded = {
        let log = SledEventLog::open(dir.path(), StoreOptions::default()).unwrap();
        let store = log.projections();
        for projection in ledger_app::standard_projections().unwrap() {
            let space = store.active(projection.name()).unwrap().unwrap();
            let meta = space.meta().unwrap().unwrap();
            space.commit(&ledger_store::Writes::new(), meta).unwrap();
            assert_eq!(space.checkpoint_hash().unwrap(), None);
        }
        let folded = log.head().position;
        append_registrations(&log, "卫十五", &["13744440000"]).await;
        log.close().await.unwrap();
        folded
    };
    // When the ledger opens: they are checked by position alone and served.
    let ledger = open_without_catch_up(dir.path());
    for (name, checkpoint) in ledger.runner().checkpoints() {
        assert_eq!(checkpoint, folded, "{name} is rebuilt for want of a hash");
    }
    // Then their next commit records the hash.
    let head = ledger.log().head().position;
    assert_eq!(ledger.runner().catch_up().unwrap(), head);
    for projection in ledger_app::standard_projections().unwrap() {
        let reader = ledger.runner().reader(projection.name()).unwrap();
        assert_eq!(
            reader.checkpoint_hash().unwrap(),
            Some(record_hash(&ledger, head)),
            "{}'s next commit recorded no hash",
            projection.name()
        );
    }
    ledger.close().await.unwrap();
}
