//! Command handling: load the aggregate's stream, decide, append with the version loaded.
//!
//! A command names its stream. The handler folds that stream into the aggregate, asks it to
//! decide (with a context that knows who owns each identifier and where each customer stands,
//! from the customer directory, and what the command names on other streams: a policy, case,
//! campaign or anonymous enquiry folded from its own stream, a known customer's enquiry from
//! the marketing read model), and appends the resulting events expecting the version it loaded. When another writer got
//! there first and the caller did not pin a version, it loads and decides again, at most
//! [`COMMAND_ATTEMPTS_MAX`] times. A caller-supplied `event_id` makes the command idempotent:
//! a retry returns the original outcome without deciding again (deciding again could fail, e.g.
//! "the case is already closed", for a command that in fact succeeded).

use std::time::Duration;

use jiff::Timestamp;
use ledger_domain::aggregates::{
    Aggregate, Campaign, CampaignStanding, CaseStanding, Claim, ClaimStanding, Customer,
    CustomerStanding, DecisionContext, Enquiry, EnquiryStanding, Policy, PolicyStanding, Process,
    ServiceCase,
};
use ledger_domain::commands::{
    CampaignCommand, ClaimCommand, Command, CustomerCommand, EnquiryCommand, EraseCustomer,
    PolicyCommand,
};
use ledger_domain::events::{Event, claim_stream, enquiry_stream, policy_stream};
use ledger_domain::ids::{
    CampaignId, CaseId, ContactId, CorrelationId, CustomerId, EnquiryId, EventId, Position,
    StaffId, StreamId,
};
use ledger_domain::kinds::CampaignResponse;
use ledger_domain::values::{Channel, ClaimNumber, Identifier, PolicyNumber};
use ledger_domain::{DomainError, ValidationError};
use ledger_store::limits::READ_PAGE_MAX;
use ledger_store::{
    AppendError, AppendRequest, EventLog, ExpectedVersion, NewEvent, RecordedEvent, StoreFailure,
};
use tokio::sync::Mutex;
use uuid::Uuid;

use crate::Ledger;
use crate::erasure::{self, ErasureError};
use crate::personal::KeyError;
use crate::runner::{RunnerError, decode};

/// How many times a command is decided again after losing a race for its stream.
pub const COMMAND_ATTEMPTS_MAX: usize = 5;

/// The longest a command waits for the customer directory to catch up before deciding on
/// identifier ownership (and for the marketing read model, before deciding whose an enquiry
/// a contact names is).
pub const DIRECTORY_WAIT: Duration = Duration::from_secs(5);

/// The most events one stream may hold for a command to load it.
pub const STREAM_EVENTS_MAX: u64 = 1_000_000;

/// Who sends a command and how: the envelope facts the events will carry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandMeta {
    pub actor: StaffId,
    /// Makes the command idempotent: the first event gets this id, later ones ids derived from it.
    pub event_id: Option<EventId>,
    /// The number of events the stream must hold; `None` lets the handler retry on a race.
    pub expected_version: Option<u64>,
    pub correlation_id: Option<CorrelationId>,
    pub causation_id: Option<CorrelationId>,
    pub origin: Option<String>,
    /// Business time of the command; `None` means now.
    pub occurred_at: Option<Timestamp>,
}

impl CommandMeta {
    /// A command by `actor`, now, with nothing else pinned.
    pub fn by(actor: StaffId) -> Self {
        Self {
            actor,
            event_id: None,
            expected_version: None,
            correlation_id: None,
            causation_id: None,
            origin: None,
            occurred_at: None,
        }
    }
}

/// What a command did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Executed {
    pub stream: StreamId,
    /// The position of the command's last event (or, when it changed nothing, the stream's
    /// last event, or zero for an empty stream): the position to wait for before reading.
    pub position: Position,
    pub stream_version: u64,
    /// The events appended (empty when the command changed nothing or was a retry).
    pub events: Vec<Event>,
    /// True when the command was a retry of one already recorded.
    pub duplicate: bool,
}

/// Why a command was not recorded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommandError {
    #[error(transparent)]
    Domain(#[from] DomainError),
    #[error("stream {stream} holds {actual} events, not the expected {expected}")]
    Conflict {
        stream: StreamId,
        expected: u64,
        actual: u64,
    },
    /// The caller pinned no version, and other writers changed the stream before each of
    /// [`COMMAND_ATTEMPTS_MAX`] decisions could be appended.
    #[error(
        "stream {stream} kept changing while this command was decided: other writers got there \
         first {attempts} times in a row (it now holds {actual} events); nothing was recorded, \
         send the command again"
    )]
    Contended {
        stream: StreamId,
        attempts: usize,
        actual: u64,
    },
    #[error("{0}")]
    Invalid(ValidationError),
    #[error("the ledger cannot take writes: {0}")]
    Unavailable(StoreFailure),
    #[error(transparent)]
    Runner(#[from] RunnerError),
    /// The data keys could not seal the events (the customer's data was erased, or the key
    /// store failed).
    #[error(transparent)]
    Keys(#[from] KeyError),
}

impl From<ErasureError> for CommandError {
    fn from(error: ErasureError) -> Self {
        match error {
            ErasureError::Store(failure) => Self::Unavailable(failure),
            ErasureError::Keys(error) => Self::Keys(error),
            ErasureError::Runner(error) => Self::Runner(error),
        }
    }
}

impl From<StoreFailure> for CommandError {
    fn from(failure: StoreFailure) -> Self {
        Self::Unavailable(failure)
    }
}

/// Serialises the commands of one kind that a read model must see one after another: those
/// that claim identifiers, so two registrations of the same phone number cannot both pass the
/// ownership check, and purchase responses, so two campaigns cannot both win one sale (one
/// process owns the store; sled locks it).
#[derive(Debug, Default)]
pub struct Gate(Mutex<()>);

/// The gates of [`Gate`]: one per kind of command decided one at a time.
#[derive(Debug, Default)]
pub struct Gates {
    pub identifiers: Gate,
    pub purchases: Gate,
}

/// Whether `command` is a contact naming an enquiry: who sent a known customer's enquiry is
/// known from the marketing read model only, which must have applied the head to tell.
fn names_enquiry(command: &Command) -> bool {
    match command {
        Command::Customer(CustomerCommand::RecordContact(contact)) => contact.enquiry_id.is_some(),
        Command::Customer(CustomerCommand::CorrectContact(contact)) => contact.enquiry_id.is_some(),
        // An erasure of an enquiry a known customer sent is refused naming the customer.
        Command::Enquiry(EnquiryCommand::EraseEnquiry(_)) => true,
        _ => false,
    }
}

/// Whether `command` is a purchase response naming a policy: which campaign an earlier
/// response credited with the policy's sale is known from the marketing read model only, which
/// must have applied the head (every earlier purchase, see [`Gates`]) to tell.
fn names_purchase(command: &Command) -> bool {
    matches!(
        command,
        Command::Campaign(CampaignCommand::RecordCampaignResponse(response))
            if response.response == CampaignResponse::Purchased
                && response.policy_number.is_some()
    )
}

/// Whether `command` gives a customer an identifier (a registered one, or the number of a
/// policy or claim it creates): such commands are decided one at a time, on a directory at
/// the head, so two cannot give one number to two customers.
fn claims_identifiers(command: &Command) -> bool {
    matches!(
        command,
        Command::Customer(
            CustomerCommand::RegisterCustomer(_)
                | CustomerCommand::AddIdentifier(_)
                | CustomerCommand::MergeCustomers(_)
        ) | Command::Policy(PolicyCommand::QuotePolicy(_) | PolicyCommand::IssuePolicy(_))
            | Command::Claim(ClaimCommand::ReportClaim(_))
    )
}

/// The id of a command's `index`-th event: the caller's id for the first, then ids derived
/// from it (UUID v8 over blake3), so a retried command names the same events.
pub fn event_id_for(first: EventId, index: usize) -> EventId {
    if index == 0 {
        return first;
    }
    let mut hasher = blake3::Hasher::new();
    hasher.update(first.as_uuid().as_bytes());
    hasher.update(&u64::try_from(index).unwrap_or(u64::MAX).to_be_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&hasher.finalize().as_bytes()[..16]);
    EventId::from_uuid(Uuid::new_v8(bytes))
}

struct Context<'a> {
    ledger: &'a Ledger,
    now: Timestamp,
}

impl DecisionContext for Context<'_> {
    fn identifier_owner(&self, identifier: &Identifier) -> Option<CustomerId> {
        self.ledger.identifier_owner(identifier).ok().flatten()
    }

    fn now(&self) -> Timestamp {
        self.now
    }

    /// From the customer's own stream, not the directory: a customer registered a moment ago
    /// is known before the read model has applied it.
    fn customer_standing(&self, customer: CustomerId) -> Option<CustomerStanding> {
        let folded: Customer = self.fold(&StreamId::customer(customer))?;
        Some(if folded.id() != Some(customer) {
            CustomerStanding::Unknown
        } else if folded.is_erased() {
            CustomerStanding::Erased
        } else {
            folded
                .merged_into()
                .map_or(CustomerStanding::Live, CustomerStanding::MergedInto)
        })
    }

    /// The shipped business calendar, the one `service-history` measures deadlines on, so a
    /// case's deadline in working hours is the instant the read model holds it to.
    fn working_hours_deadline(
        &self,
        from: Timestamp,
        hours: u16,
    ) -> Option<Result<Timestamp, String>> {
        static CALENDAR: std::sync::OnceLock<Option<service_history::BusinessCalendar>> =
            std::sync::OnceLock::new();
        let calendar = CALENDAR
            .get_or_init(|| service_history::BusinessCalendar::shipped().ok())
            .as_ref()?;
        Some(
            calendar
                .add_working_hours(from, u32::from(hours))
                .map_err(|error| format!("a deadline on the business calendar: {error}")),
        )
    }

    fn marketing_consent(&self, customer: CustomerId, channel: Channel) -> Option<bool> {
        let folded: Customer = self.fold(&StreamId::customer(customer))?;
        Some(folded.has_consent(channel))
    }

    fn recorded_contact(&self, customer: CustomerId, contact: ContactId) -> Option<bool> {
        let folded: Customer = self.fold(&StreamId::customer(customer))?;
        Some(folded.has_contact(contact))
    }

    /// The customer timeline names the customer a contact's entry was first written to; that
    /// customer's own stream confirms it recorded the contact, so a read model that lags says
    /// nothing rather than something wrong (a contact recorded moments ago, before the timeline
    /// applied it, is then not found). Asked only when a command names a contact its
    /// customer's stream did not record.
    fn contact_recorder(&self, contact: ContactId) -> Option<CustomerId> {
        let timeline = self
            .ledger
            .runner()
            .reader(crate::names::CUSTOMER_TIMELINE)
            .ok()?;
        let candidate = customer_timeline::contact_timeline(&timeline, contact)
            .ok()
            .flatten()?;
        let folded: Customer = self.fold(&StreamId::customer(candidate))?;
        folded.has_contact(contact).then_some(candidate)
    }

    fn policy(&self, number: &PolicyNumber) -> Option<PolicyStanding> {
        let policy: Policy = self.fold(&policy_stream(number))?;
        Some(policy.standing())
    }

    fn claim(&self, number: &ClaimNumber) -> Option<ClaimStanding> {
        let folded: Claim = self.fold(&claim_stream(number))?;
        Some(
            folded
                .customer_id()
                .map_or(ClaimStanding::Unknown, |customer| ClaimStanding::Reported {
                    customer,
                }),
        )
    }

    fn service_case(&self, case: CaseId) -> Option<CaseStanding> {
        let folded: ServiceCase = self.fold(&StreamId::case(case))?;
        Some(
            folded
                .customer_id()
                .map_or(CaseStanding::Unknown, |customer| CaseStanding::Opened {
                    customer,
                }),
        )
    }

    fn campaign(&self, campaign: CampaignId) -> Option<CampaignStanding> {
        let folded: Campaign = self.fold(&StreamId::campaign(campaign))?;
        Some(match folded.status() {
            Some(_) => CampaignStanding::Launched,
            None => CampaignStanding::Unknown,
        })
    }

    /// An anonymous enquiry is on its own stream; a known customer's on that customer's, which
    /// only the marketing read model can name (`execute_command` waited for it to apply the
    /// head).
    /// From the marketing read model (`execute_command` waited for it to apply the head, under
    /// the purchases' gate).
    fn sale_credited_to(&self, number: &PolicyNumber) -> Option<CampaignId> {
        let marketing = self.ledger.runner().reader(crate::names::MARKETING).ok()?;
        marketing::sale_credited_to(&marketing, number).ok()?
    }

    fn enquiry(&self, enquiry: EnquiryId) -> Option<EnquiryStanding> {
        let own: Enquiry = self.fold(&enquiry_stream(enquiry, None))?;
        if own.is_received() {
            return Some(EnquiryStanding::Anonymous);
        }
        let record = self
            .ledger
            .runner()
            .reader(crate::names::MARKETING)
            .ok()
            .and_then(|marketing| marketing::enquiry(&marketing, enquiry).ok())?;
        Some(match record {
            None => EnquiryStanding::Unknown,
            Some(record) => record
                .customer
                .map_or(EnquiryStanding::Anonymous, EnquiryStanding::FromCustomer),
        })
    }
}

impl Context<'_> {
    /// Another stream's aggregate, for a rule that names it; `None` (the rule is not checked)
    /// when the stream cannot be read. The append that follows fails the same way, so nothing
    /// is recorded unchecked on a failing store.
    fn fold<A: Aggregate + Clone + Send + 'static>(&self, stream: &StreamId) -> Option<A> {
        match self.ledger.load::<A>(stream) {
            Ok((_, aggregate)) => Some(aggregate),
            Err(error) => {
                tracing::warn!(%stream, %error, "could not read a stream a command names; its rule is not checked");
                None
            }
        }
    }
}

impl Ledger {
    /// Decides and records `command`.
    ///
    /// An erasure (`EraseCustomer`) also destroys the customer's data key once its
    /// `CustomerErased` is in the log: the erasure is marked first, so a crash in between is
    /// finished on the next open (see [`crate::personal`]). Customers merged into the erased one
    /// are erased first, each with its own `CustomerErased` and key. An anonymous enquiry's
    /// erasure (`EraseEnquiry`) destroys the enquiry's own key the same way, once its
    /// `EnquiryErased` is in the log.
    pub async fn execute(
        &self,
        command: Command,
        meta: CommandMeta,
    ) -> Result<Executed, CommandError> {
        if let Command::Enquiry(EnquiryCommand::EraseEnquiry(_)) = &command {
            let subject = command.stream();
            return self.erase_subjects(command, meta, &subject, &[]).await;
        }
        let Command::Customer(CustomerCommand::EraseCustomer(erase)) = &command else {
            return self.execute_command(command, meta).await;
        };
        // Customers merged into this one are the same person: their own records and history
        // are erased first, each with its own `CustomerErased` (a retry then finishes the rest).
        for merged in self.merged_into(erase.customer_id).await? {
            let erase_merged = EraseCustomer {
                customer_id: merged,
                reason: erase.reason,
            };
            let merged_meta = CommandMeta {
                event_id: None,
                expected_version: None,
                ..meta.clone()
            };
            self.erase_one(erase_merged, merged_meta).await?;
        }
        self.erase_one(erase.clone(), meta).await
    }

    /// Waits (at most [`DIRECTORY_WAIT`]) until the customer directory has applied the head.
    async fn directory_at_head(&self) -> Result<(), CommandError> {
        self.runner()
            .wait_for(
                self.log().head().position,
                DIRECTORY_WAIT,
                Some(crate::names::CUSTOMER_DIRECTORY),
            )
            .await?;
        Ok(())
    }

    /// Waits (at most [`DIRECTORY_WAIT`]) until the marketing read model has applied the head.
    async fn marketing_at_head(&self) -> Result<(), CommandError> {
        self.runner()
            .wait_for(
                self.log().head().position,
                DIRECTORY_WAIT,
                Some(crate::names::MARKETING),
            )
            .await?;
        Ok(())
    }

    /// The customers merged into `survivor`, directly or through earlier merges, not yet erased,
    /// as the customer directory knows them once it has applied the head.
    async fn merged_into(&self, survivor: CustomerId) -> Result<Vec<CustomerId>, CommandError> {
        self.directory_at_head().await?;
        let directory = self.runner().reader(crate::names::CUSTOMER_DIRECTORY)?;
        let state_error = |source| RunnerError::State {
            projection: crate::names::CUSTOMER_DIRECTORY.into(),
            source,
        };
        let mut found = Vec::new();
        let mut pending = vec![survivor];
        while let Some(customer) = pending.pop() {
            let Some(record) =
                customer_directory::customer(&directory, customer).map_err(state_error)?
            else {
                continue;
            };
            for merged in record.merged_from {
                if merged != survivor && !found.contains(&merged) {
                    pending.push(merged);
                    found.push(merged);
                }
            }
        }
        let mut live = Vec::with_capacity(found.len());
        for customer in found {
            let record = customer_directory::customer(&directory, customer).map_err(state_error)?;
            if record.is_some_and(|record| !record.erasure_recorded()) {
                live.push(customer);
            }
        }
        Ok(live)
    }

    /// Erases one customer: marks the erasure, records `CustomerErased`, destroys the key, and
    /// with it the keys of the online enquiries the customer's contacts answered that were
    /// received from nobody known (sealed under their own keys, they hold the same person's
    /// name, mobile and plate).
    async fn erase_one(
        &self,
        erase: EraseCustomer,
        meta: CommandMeta,
    ) -> Result<Executed, CommandError> {
        let subject = StreamId::customer(erase.customer_id);
        let enquiries = erasure::answered_enquiries(self.log(), self.keys(), &subject)?;
        let command = Command::Customer(CustomerCommand::EraseCustomer(erase));
        self.erase_subjects(command, meta, &subject, &enquiries)
            .await
    }

    /// Runs an erasure `command` on `subject`'s stream: marks `subject` and the streams going
    /// with it (`along`), records the erasure event, then destroys their keys if the event is
    /// in the log (or forgets the markers if it is not).
    async fn erase_subjects(
        &self,
        command: Command,
        meta: CommandMeta,
        subject: &StreamId,
        along: &[StreamId],
    ) -> Result<Executed, CommandError> {
        self.keys().begin_erasure(subject)?;
        for stream in along {
            self.keys().begin_erasure_decided_by(stream, subject)?;
        }
        let outcome = self.execute_command(command, meta).await;
        let recorded = match &outcome {
            // The store may or may not have made the event durable: the next open decides
            // from the log.
            Err(CommandError::Unavailable(_)) => return outcome,
            Ok(_) => erasure::stream_holds(self.log(), subject, erasure::erasure_event(subject))?,
            Err(_) => false,
        };
        for erased in std::iter::once(subject).chain(along) {
            self.keys().finish_erasure(erased, recorded)?;
        }
        outcome
    }

    async fn execute_command(
        &self,
        command: Command,
        meta: CommandMeta,
    ) -> Result<Executed, CommandError> {
        let stream = command.stream();
        if let Some(first) = meta.event_id
            && let Some(position) = self.log().position_of(first)
        {
            return self.original_outcome(&command, &meta, first, position);
        }
        let _gate = if claims_identifiers(&command) {
            let guard = self.gates().identifiers.0.lock().await;
            // The directory must know every identifier claimed so far before we decide.
            self.directory_at_head().await?;
            Some(guard)
        } else {
            None
        };
        let _purchase_gate = if names_purchase(&command) {
            let guard = self.gates().purchases.0.lock().await;
            // The marketing read model must know every sale credited so far.
            self.marketing_at_head().await?;
            Some(guard)
        } else {
            None
        };
        if names_enquiry(&command) {
            self.marketing_at_head().await?;
        }
        let mut attempt = 0;
        loop {
            attempt += 1;
            // One reading of the clock decides and dates the events, so a retry decided again
            // at the events' time (see `original_outcome`) decides the same.
            let now = meta.occurred_at.unwrap_or_else(Timestamp::now);
            let (version, events) = self.decide(&command, &stream, now, None)?;
            if events.is_empty() {
                // A command that changes nothing still answers for the version it was sent
                // against: a caller who read a stale stream hears so, as when it writes.
                if let Some(expected) = meta.expected_version
                    && expected != version
                {
                    return Err(CommandError::Conflict {
                        stream,
                        expected,
                        actual: version,
                    });
                }
                let position = self.stream_last_position(&stream)?;
                return Ok(Executed {
                    stream,
                    position,
                    stream_version: version,
                    events,
                    duplicate: false,
                });
            }
            let expected = meta.expected_version.unwrap_or(version);
            let request = AppendRequest {
                stream: stream.clone(),
                expected: ExpectedVersion::Exact(expected),
                events: self.seal_events(&events, &meta, command.business_time().unwrap_or(now))?,
            };
            match self.log().append(request).await {
                Ok(appended) => {
                    return Ok(Executed {
                        stream,
                        position: appended.last_position,
                        stream_version: appended.stream_version,
                        duplicate: appended.duplicate,
                        events: if appended.duplicate {
                            Vec::new()
                        } else {
                            events
                        },
                    });
                }
                Err(AppendError::Conflict { actual, .. })
                    if meta.expected_version.is_none() && attempt < COMMAND_ATTEMPTS_MAX =>
                {
                    tracing::debug!(%stream, actual, attempt, "lost a race for the stream; deciding again");
                }
                Err(AppendError::Conflict { actual, .. }) if meta.expected_version.is_none() => {
                    return Err(CommandError::Contended {
                        stream,
                        attempts: attempt,
                        actual,
                    });
                }
                Err(AppendError::Conflict { actual, .. }) => {
                    return Err(CommandError::Conflict {
                        stream,
                        expected,
                        actual,
                    });
                }
                Err(AppendError::Invalid { field, rule }) => {
                    return Err(CommandError::Invalid(ValidationError::new(field, rule)));
                }
                Err(AppendError::Unavailable(failure)) => {
                    return Err(CommandError::Unavailable(failure));
                }
            }
        }
    }

    /// Folds the stream into its aggregate (all of it, or its first `up_to` events) and decides
    /// at `now`; returns the version folded and the events.
    fn decide(
        &self,
        command: &Command,
        stream: &StreamId,
        now: Timestamp,
        up_to: Option<u64>,
    ) -> Result<(u64, Vec<Event>), CommandError> {
        let context = Context { ledger: self, now };
        match command {
            Command::Customer(command) => {
                self.decide_with::<Customer>(stream, command, &context, up_to)
            }
            Command::Policy(command) => {
                self.decide_with::<Policy>(stream, command, &context, up_to)
            }
            Command::Claim(command) => self.decide_with::<Claim>(stream, command, &context, up_to),
            Command::ServiceCase(command) => {
                self.decide_with::<ServiceCase>(stream, command, &context, up_to)
            }
            Command::Campaign(command) => {
                self.decide_with::<Campaign>(stream, command, &context, up_to)
            }
            Command::Process(command) => {
                self.decide_with::<Process>(stream, command, &context, up_to)
            }
            Command::Enquiry(command) => {
                self.decide_with::<Enquiry>(stream, command, &context, up_to)
            }
        }
    }

    fn decide_with<A: Aggregate + Clone + Send + 'static>(
        &self,
        stream: &StreamId,
        command: &A::Command,
        context: &Context<'_>,
        up_to: Option<u64>,
    ) -> Result<(u64, Vec<Event>), CommandError> {
        let (version, aggregate) = match up_to {
            None => self.load::<A>(stream)?,
            Some(version) => (version, self.load_up_to::<A>(stream, version)?),
        };
        let events = aggregate.handle(command, context)?;
        Ok((version, events))
    }

    /// Folds the first `version` events of a stream into its aggregate (the state a command
    /// was decided on, for a retry's check).
    fn load_up_to<A: Aggregate>(&self, stream: &StreamId, version: u64) -> Result<A, CommandError> {
        let mut aggregate = A::default();
        let mut folded = 0;
        while folded < version {
            let page = self.log().read_stream(stream, folded + 1, READ_PAGE_MAX)?;
            if page.is_empty() {
                break;
            }
            for record in page
                .iter()
                .take_while(|record| record.stream_version <= version)
            {
                aggregate.apply(&decode(self.keys(), record)?);
                folded = record.stream_version;
            }
            if page.len() < READ_PAGE_MAX {
                break;
            }
        }
        Ok(aggregate)
    }

    /// Folds a stream into its aggregate; returns the version folded and the state. Starts
    /// from the fold kept by an earlier command, if any (see [`crate::aggregate_cache`]).
    pub fn load<A: Aggregate + Clone + Send + 'static>(
        &self,
        stream: &StreamId,
    ) -> Result<(u64, A), CommandError> {
        let destroyed = self.keys().destroyed();
        let (mut version, mut aggregate) = self
            .aggregates()
            .get::<A>(stream, destroyed)
            .unwrap_or_default();
        let kept = version;
        loop {
            let page = self.log().read_stream(stream, version + 1, READ_PAGE_MAX)?;
            let Some(last) = page.last() else { break };
            version = last.stream_version;
            for record in &page {
                aggregate.apply(&decode(self.keys(), record)?);
            }
            if version > STREAM_EVENTS_MAX {
                return Err(CommandError::Invalid(ValidationError::new(
                    "stream",
                    format!(
                        "{stream} holds more than STREAM_EVENTS_MAX = {STREAM_EVENTS_MAX} events"
                    ),
                )));
            }
            if page.len() < READ_PAGE_MAX {
                break;
            }
        }
        if version > kept {
            self.aggregates()
                .put(stream, version, aggregate.clone(), destroyed);
        }
        Ok((version, aggregate))
    }

    /// The stored form of a command's events: ids derived from the caller's (or a fresh v7),
    /// the envelope from `meta` (`meta.occurred_at` if given, else `occurred_at`: when the
    /// command says its fact happened, or when it was decided), personal fields sealed under
    /// their subject's data key.
    fn seal_events(
        &self,
        events: &[Event],
        meta: &CommandMeta,
        occurred_at: Timestamp,
    ) -> Result<Vec<NewEvent>, KeyError> {
        let first = meta.event_id.unwrap_or_else(EventId::new_v7);
        let occurred_at = meta.occurred_at.unwrap_or(occurred_at);
        let mut new_events = Vec::with_capacity(events.len());
        for (index, event) in events.iter().enumerate() {
            let event_id = event_id_for(first, index);
            new_events.push(NewEvent {
                event_id,
                event_type: event.event_type().to_owned(),
                schema_version: event.schema_version(),
                occurred_at,
                actor: meta.actor.clone(),
                correlation_id: meta.correlation_id,
                causation_id: meta.causation_id,
                origin: meta.origin.clone(),
                payload: self.keys().seal(event_id, event)?,
            });
        }
        Ok(new_events)
    }

    /// The answer to a retried command: where its events were recorded the first time. A
    /// command that is not the one the event id first recorded is refused, so a client reusing
    /// an id by mistake hears of it instead of losing its command (see `is_same_command`).
    fn original_outcome(
        &self,
        command: &Command,
        meta: &CommandMeta,
        first: EventId,
        position: Position,
    ) -> Result<Executed, CommandError> {
        let stream = &command.stream();
        let record = self
            .log()
            .read_all(position, 1)?
            .into_iter()
            .next()
            .ok_or(CommandError::Unavailable(StoreFailure::Closed))?;
        if &record.stream != stream {
            return Err(CommandError::Invalid(ValidationError::new(
                "eventId",
                format!(
                    "{first} was already used for an event of stream {}, not {stream}",
                    record.stream
                ),
            )));
        }
        if !self.is_same_command(command, meta, &record)? {
            return Err(CommandError::Invalid(ValidationError::new(
                "eventId",
                format!(
                    "{first} already recorded another command on this stream (a {} at position \
                     {position}); a retry sends the same command again, a new command needs a \
                     new eventId",
                    record.event.event_type
                ),
            )));
        }
        // The command's later events carry derived ids; the last one is where it ended.
        let mut last = record;
        for index in 1.. {
            let Some(position) = self.log().position_of(event_id_for(first, index)) else {
                break;
            };
            match self.log().read_all(position, 1)?.into_iter().next() {
                Some(next) => last = next,
                None => break,
            }
        }
        Ok(Executed {
            stream: stream.clone(),
            position: last.position,
            stream_version: last.stream_version,
            events: Vec::new(),
            duplicate: true,
        })
    }

    /// Whether `command` is the one that recorded `record` (the first event of the command
    /// its event id names): decided again on the stream as it stood before `record`, at
    /// `record`'s time, it yields `record`'s event (with its personal fields erased, when they
    /// were erased since). When the stream as it stood then cannot decide it (another command
    /// on a stream the id created: a contact under the registration's id, a cancellation
    /// under the issue's), the stream as it stands now must at least yield an event of the
    /// same type. Only when neither can decide is the retry taken on trust: what other streams
    /// hold has moved on (an identifier it claimed is taken — by it).
    fn is_same_command(
        &self,
        command: &Command,
        meta: &CommandMeta,
        record: &RecordedEvent,
    ) -> Result<bool, CommandError> {
        let stored = &record.event;
        let opened = self
            .keys()
            .open_payload(
                stored.event_id,
                &stored.event_type,
                stored.schema_version,
                &stored.payload,
            )
            .map_err(|error| RunnerError::Undecodable {
                position: record.position,
                event_type: stored.event_type.clone(),
                version: stored.schema_version,
                detail: error.to_string(),
            })?;
        let as_stored = |event: &Event| {
            let mut event = event.clone();
            if opened.redacted {
                event.take_personal();
            }
            event
        };
        let now = meta.occurred_at.unwrap_or(stored.occurred_at);
        let before = record.stream_version.saturating_sub(1);
        let undecidable = |error: &CommandError| {
            matches!(error, CommandError::Domain(_) | CommandError::Invalid(_))
        };
        match self.decide(command, &record.stream, now, Some(before)) {
            Ok((_, decided)) => {
                return Ok(decided.first().map(as_stored).as_ref() == Some(&opened.event));
            }
            Err(error) if undecidable(&error) => {}
            Err(other) => return Err(other),
        }
        match self.decide(command, &record.stream, Timestamp::now(), None) {
            Ok((_, decided)) => Ok(decided
                .first()
                .is_none_or(|event| event.event_type() == stored.event_type)),
            Err(error) if undecidable(&error) => Ok(true),
            Err(other) => Err(other),
        }
    }

    fn stream_last_position(&self, stream: &StreamId) -> Result<Position, CommandError> {
        let version = self.log().stream_version(stream);
        if version == 0 {
            return Ok(Position::ZERO);
        }
        let last = self.log().read_stream(stream, version, 1)?;
        Ok(last
            .first()
            .map_or(Position::ZERO, |record| record.position))
    }
}
