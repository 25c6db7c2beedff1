//! Aggregates: the consistency boundaries of the ledger, one per stream category. Each folds
//! its stream's events into just enough state to decide (`apply`), and decides whether a
//! command is allowed and which events it produces (`handle`).
//!
//! `apply` has no rules and cannot fail: it must accept every event ever written, including
//! events imported from history and events written under older rules. `handle` holds every
//! rule and returns events (possibly none, when the command changes nothing) or a
//! [`DomainError`]. One command appends to exactly one stream, the one its `stream()` names.
//!
//! | aggregate | stream | module |
//! |---|---|---|
//! | [`Customer`] | `customer-{id}` (also contacts, satisfaction, known customers' enquiries) | [`customer`] |
//! | [`Policy`] | `policy-{number}` | [`policy`] |
//! | [`Claim`] | `claim-{number}` | [`claim`] |
//! | [`ServiceCase`] | `case-{id}` | [`service_case`] |
//! | [`Campaign`] | `campaign-{id}` | [`campaign`] |
//! | [`Process`] | `process-{id}` | [`process`] |
//! | [`Enquiry`] | `enquiry-{id}` (enquiries from people nobody could identify) | [`enquiry`] |
//!
//! What an aggregate cannot see (another stream's state) it asks its [`DecisionContext`] for, and
//! checks what a wrong answer would harm (module [`links`]):
//! - a claim's policy must exist (`NotFound` otherwise), have been issued, not only quoted, to
//!   the claim's customer or a customer merged with it (`policyNumber` invalid otherwise), and
//!   cover the loss: its Beijing date lies within one of the policy's periods
//!   (`lossOccurredAt`);
//! - a contact's links (recorded or corrected): its policy must exist and be the customer's (a
//!   quote will do: a sales call is about one); its claim and its service case must exist and
//!   be the customer's; its campaign must exist; its enquiry must exist and have been sent by
//!   the customer or by nobody known;
//! - a campaign's PURCHASED response: its policy was issued to the responding customer, for the
//!   premium won, and its current sale is not another campaign's already (by its issue's or
//!   latest renewal's `campaignId`, or by another campaign's earlier purchase response);
//! - a merge's survivor must exist, not be merged away and not be erased;
//! - new business (a quote, a policy, a claim, a service case, a campaign's touch or response)
//!   is for a customer registered, not merged away and not erased (`links::new_business_for`).
//!
//! A context that cannot tell (`None`, as synthetic data gives) leaves the rule unchecked:
//! history is imported as events, never through these rules (the import checks its own,
//! `ledger-server`'s `import_rules`). What no rule checks stays visible in the read models,
//! since every fact is in the log.

pub mod campaign;
pub mod claim;
pub mod customer;
pub mod enquiry;
pub mod links;
pub mod policy;
pub mod process;
pub mod service_case;

#[cfg(test)]
mod testing;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use jiff::{SignedDuration, Timestamp};

pub use campaign::Campaign;
pub use claim::Claim;
pub use customer::Customer;
pub use enquiry::Enquiry;
pub use policy::{Policy, PolicyFacts, PolicyPeriod};
pub use process::Process;
pub use service_case::ServiceCase;

use crate::DomainError;
use crate::events::{Event, Payload};
use crate::ids::{CampaignId, CaseId, ContactId, CustomerId, EnquiryId};
use crate::values::{Channel, ClaimNumber, Identifier, PolicyNumber};

/// How far in the future a business time given in a command (a contact's start, a loss) may
/// lie, in seconds: clocks of telephony and web systems drift, but not by more than minutes.
pub const CLOCK_SKEW_SECONDS_MAX: i64 = 300;

/// The earliest start of a contact the ledger takes, in seconds since the Unix epoch:
/// 1990-01-01 00:00 Beijing time. No contact centre's records an insurer migrates are older; a
/// start before it is a slip (`1026` typed for `2026`, or a system's zero date, 1970-01-01) that
/// would put the contact outside every figure and at the far end of the timeline.
pub const CONTACT_STARTED_AT_EARLIEST_SECONDS: i64 = 631_123_200;

/// Why a contact cannot start at `started_at`, when it starts before
/// [`CONTACT_STARTED_AT_EARLIEST_SECONDS`] (the API's `startedAt` rule, which `import` keeps).
pub fn contact_started_too_early(started_at: jiff::Timestamp) -> Option<String> {
    (started_at.as_second() < CONTACT_STARTED_AT_EARLIEST_SECONDS).then(|| {
        format!(
            "a contact starts on 1990-01-01 (Beijing time) or later \
             (CONTACT_STARTED_AT_EARLIEST_SECONDS); {started_at} is before it"
        )
    })
}

/// One aggregate: state folded from its stream, and the rules for its commands.
pub trait Aggregate: Default {
    type Command;
    /// The stream category: `customer`, `policy`, ...
    const CATEGORY: &'static str;

    /// Evolves the state by one event of this aggregate's stream. Folds only: no rules, cannot
    /// fail, ignores events that are not its own.
    fn apply(&mut self, event: &Event);

    /// Decides: every rule lives here. Returns the events to append (possibly none) or why not.
    fn handle(
        &self,
        command: &Self::Command,
        context: &dyn DecisionContext,
    ) -> Result<Vec<Event>, DomainError>;
}

/// What a decision may know beyond the aggregate's own stream.
pub trait DecisionContext {
    /// The customer who holds `identifier` now, according to the customer directory.
    fn identifier_owner(&self, identifier: &Identifier) -> Option<CustomerId>;

    /// The business time the command takes effect: the wall clock for live commands, the
    /// historical time for imported ones (the envelope's `occurred_at`).
    fn now(&self) -> Timestamp;

    /// What the ledger knows of another customer, for the rules that span two customers (a
    /// merge's survivor). `None` when this context cannot tell; the rule is then not checked.
    fn customer_standing(&self, _customer: CustomerId) -> Option<CustomerStanding> {
        None
    }

    /// What the ledger knows of the policy `number`, for a claim or contact that names it.
    /// `None` when this context cannot tell; the rules on the policy are then not checked.
    fn policy(&self, _number: &PolicyNumber) -> Option<PolicyStanding> {
        None
    }

    /// Whose the service case `case` is, for a contact that names it. `None`: cannot tell.
    fn service_case(&self, _case: CaseId) -> Option<CaseStanding> {
        None
    }

    /// Whose the claim `number` is, for a contact that names it. `None`: cannot tell.
    fn claim(&self, _number: &ClaimNumber) -> Option<ClaimStanding> {
        None
    }

    /// Whether the campaign `campaign` was launched, for a contact that names it. `None`:
    /// cannot tell.
    fn campaign(&self, _campaign: CampaignId) -> Option<CampaignStanding> {
        None
    }

    /// Who sent the online enquiry `enquiry`, for a contact that names it. `None`: cannot tell.
    fn enquiry(&self, _enquiry: EnquiryId) -> Option<EnquiryStanding> {
        None
    }

    /// The campaign a PURCHASED response credited with the policy `number`'s current sale (its
    /// issue, or its latest renewal), for a purchase response of another campaign naming it: a
    /// sale is won in one campaign. Asked only when the sale's own policy event named no
    /// campaign ([`PolicyFacts::sold_through`] says which it named); the first response naming
    /// the policy since that sale began, whichever campaign it was in. `None` when none did or
    /// this context cannot tell (the responses are on the campaigns' streams).
    fn sale_credited_to(&self, _number: &PolicyNumber) -> Option<CampaignId> {
        None
    }

    /// Whether `customer` consents to marketing on `channel` (opt-in: never asked is no), for
    /// a campaign's touch. `None`: cannot tell.
    fn marketing_consent(&self, _customer: CustomerId, _channel: Channel) -> Option<bool> {
        None
    }

    /// Whether `customer`'s own stream recorded the contact `contact`, for a record that names
    /// it. `None`: cannot tell.
    fn recorded_contact(&self, _customer: CustomerId, _contact: ContactId) -> Option<bool> {
        None
    }

    /// The customer whose own stream recorded the contact `contact`, for a correction or
    /// rating that names it under another customer's id, to say whose it is. `None` when no
    /// customer recorded it or this context cannot tell (the contact is then not found).
    fn contact_recorder(&self, _contact: ContactId) -> Option<CustomerId> {
        None
    }

    /// When `hours` working hours from `from` end on the business calendar, for a deadline
    /// promised in working hours; `Err` says why the calendar cannot tell (a year it does not
    /// cover). `None`: this context has no calendar.
    fn working_hours_deadline(
        &self,
        _from: Timestamp,
        _hours: u16,
    ) -> Option<Result<Timestamp, String>> {
        None
    }
}

/// Where another customer stands, as the customer directory sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CustomerStanding {
    /// No such customer was ever registered.
    Unknown,
    /// Registered, not merged away, not erased.
    Live,
    /// Merged into this survivor.
    MergedInto(CustomerId),
    /// Erased.
    Erased,
}

/// Where a policy stands, as its own stream (`policy-{number}`) tells.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PolicyStanding {
    /// No such policy number was ever quoted or issued.
    Unknown,
    /// Quoted to this customer, never issued: it covers nothing yet.
    Quoted { holder: CustomerId },
    /// Issued (in force, lapsed or cancelled since) to this holder for these periods.
    Issued(PolicyFacts),
}

/// Where a service case stands, as its own stream (`case-{id}`) tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaseStanding {
    /// No such case was ever opened.
    Unknown,
    /// Opened for this customer.
    Opened { customer: CustomerId },
}

/// Whose a claim is, as its own stream (`claim-{number}`) tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClaimStanding {
    /// No such claim was ever reported.
    Unknown,
    /// Reported for this customer.
    Reported { customer: CustomerId },
}

/// Where a campaign stands, as its own stream (`campaign-{id}`) tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CampaignStanding {
    /// No such campaign was ever launched.
    Unknown,
    /// Launched (running or closed since).
    Launched,
}

/// Who sent an online enquiry: its own stream (`enquiry-{id}`) for someone nobody could
/// identify, the known customer's stream otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EnquiryStanding {
    /// No such enquiry was ever received.
    Unknown,
    /// Received from someone nobody could identify.
    Anonymous,
    /// Received from this known customer.
    FromCustomer(CustomerId),
}

/// The state of an aggregate after `events` (its stream, in order).
pub fn fold<'a, A: Aggregate>(events: impl IntoIterator<Item = &'a Event>) -> A {
    let mut aggregate = A::default();
    for event in events {
        aggregate.apply(event);
    }
    aggregate
}

/// A [`DecisionContext`] with a fixed clock and a fixed set of identifier owners: for tests,
/// synthetic data and imports that check ownership themselves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FixedContext {
    pub now: Timestamp,
    pub owners: BTreeMap<Identifier, CustomerId>,
    /// Customers whose standing is known; the rest are "cannot tell".
    pub standings: BTreeMap<CustomerId, CustomerStanding>,
    /// Policies whose standing is known; the rest are "cannot tell". So for the maps below.
    pub policies: BTreeMap<PolicyNumber, PolicyStanding>,
    pub cases: BTreeMap<CaseId, CaseStanding>,
    pub claims: BTreeMap<ClaimNumber, ClaimStanding>,
    pub campaigns: BTreeMap<CampaignId, CampaignStanding>,
    pub enquiries: BTreeMap<EnquiryId, EnquiryStanding>,
    /// Customers whose marketing consents are known (a channel missing is no consent).
    pub consents: BTreeMap<CustomerId, BTreeMap<Channel, bool>>,
    /// Customers whose recorded contacts are known.
    pub contacts: BTreeMap<CustomerId, BTreeSet<ContactId>>,
    /// Deadlines in working hours from `now`, by the hours, as a calendar would give them.
    pub working_hours: BTreeMap<u16, Timestamp>,
    /// Policies whose current sale a purchase response credited to a campaign.
    pub sale_credits: BTreeMap<PolicyNumber, CampaignId>,
}

impl FixedContext {
    /// A context at `now` in which no identifier is owned.
    pub fn at(now: Timestamp) -> Self {
        Self {
            now,
            owners: BTreeMap::new(),
            standings: BTreeMap::new(),
            policies: BTreeMap::new(),
            cases: BTreeMap::new(),
            claims: BTreeMap::new(),
            campaigns: BTreeMap::new(),
            enquiries: BTreeMap::new(),
            consents: BTreeMap::new(),
            contacts: BTreeMap::new(),
            working_hours: BTreeMap::new(),
            sale_credits: BTreeMap::new(),
        }
    }

    /// The same context, with `identifier` held by `owner`.
    #[must_use]
    pub fn with_owner(mut self, identifier: Identifier, owner: CustomerId) -> Self {
        self.owners.insert(identifier, owner);
        self
    }

    /// The same context, knowing where `customer` stands.
    #[must_use]
    pub fn with_standing(mut self, customer: CustomerId, standing: CustomerStanding) -> Self {
        self.standings.insert(customer, standing);
        self
    }

    /// The same context, knowing where the policy `number` stands.
    #[must_use]
    pub fn with_policy(mut self, number: PolicyNumber, standing: PolicyStanding) -> Self {
        self.policies.insert(number, standing);
        self
    }

    /// The same context, knowing where the service case `case` stands.
    #[must_use]
    pub fn with_case(mut self, case: CaseId, standing: CaseStanding) -> Self {
        self.cases.insert(case, standing);
        self
    }

    /// The same context, knowing whose the claim `number` is.
    #[must_use]
    pub fn with_claim(mut self, number: ClaimNumber, standing: ClaimStanding) -> Self {
        self.claims.insert(number, standing);
        self
    }

    /// The same context, knowing where the campaign `campaign` stands.
    #[must_use]
    pub fn with_campaign(mut self, campaign: CampaignId, standing: CampaignStanding) -> Self {
        self.campaigns.insert(campaign, standing);
        self
    }

    /// The same context, knowing `customer`'s marketing consents (`granted` channels; any
    /// other is no consent).
    #[must_use]
    pub fn with_consents(mut self, customer: CustomerId, granted: &[Channel]) -> Self {
        let consents = granted.iter().map(|channel| (*channel, true)).collect();
        self.consents.insert(customer, consents);
        self
    }

    /// The same context, knowing the contacts `customer`'s stream recorded.
    #[must_use]
    pub fn with_contacts(mut self, customer: CustomerId, contacts: &[ContactId]) -> Self {
        self.contacts
            .insert(customer, contacts.iter().copied().collect());
        self
    }

    /// The same context, with a calendar on which `hours` working hours from `now` end at
    /// `deadline`.
    #[must_use]
    pub fn with_working_hours(mut self, hours: u16, deadline: Timestamp) -> Self {
        self.working_hours.insert(hours, deadline);
        self
    }

    /// The same context, knowing that a purchase response credited the current sale of the
    /// policy `number` to `campaign`.
    #[must_use]
    pub fn with_sale_credit(mut self, number: PolicyNumber, campaign: CampaignId) -> Self {
        self.sale_credits.insert(number, campaign);
        self
    }

    /// The same context, knowing who sent the enquiry `enquiry`.
    #[must_use]
    pub fn with_enquiry(mut self, enquiry: EnquiryId, standing: EnquiryStanding) -> Self {
        self.enquiries.insert(enquiry, standing);
        self
    }
}

impl DecisionContext for FixedContext {
    fn identifier_owner(&self, identifier: &Identifier) -> Option<CustomerId> {
        self.owners.get(identifier).copied()
    }

    fn now(&self) -> Timestamp {
        self.now
    }

    fn customer_standing(&self, customer: CustomerId) -> Option<CustomerStanding> {
        self.standings.get(&customer).copied()
    }

    fn policy(&self, number: &PolicyNumber) -> Option<PolicyStanding> {
        self.policies.get(number).cloned()
    }

    fn service_case(&self, case: CaseId) -> Option<CaseStanding> {
        self.cases.get(&case).copied()
    }

    fn claim(&self, number: &ClaimNumber) -> Option<ClaimStanding> {
        self.claims.get(number).copied()
    }

    fn campaign(&self, campaign: CampaignId) -> Option<CampaignStanding> {
        self.campaigns.get(&campaign).copied()
    }

    fn enquiry(&self, enquiry: EnquiryId) -> Option<EnquiryStanding> {
        self.enquiries.get(&enquiry).copied()
    }

    fn sale_credited_to(&self, number: &PolicyNumber) -> Option<CampaignId> {
        self.sale_credits.get(number).copied()
    }

    fn marketing_consent(&self, customer: CustomerId, channel: Channel) -> Option<bool> {
        let consents = self.consents.get(&customer)?;
        Some(consents.get(&channel).copied().unwrap_or(false))
    }

    fn recorded_contact(&self, customer: CustomerId, contact: ContactId) -> Option<bool> {
        Some(self.contacts.get(&customer)?.contains(&contact))
    }

    /// The first customer (by id) whose known contacts hold `contact`.
    fn contact_recorder(&self, contact: ContactId) -> Option<CustomerId> {
        self.contacts
            .iter()
            .find(|(_, contacts)| contacts.contains(&contact))
            .map(|(customer, _)| *customer)
    }

    /// Knows only deadlines from `now` it was given (a calendar with no such entry cannot
    /// tell).
    fn working_hours_deadline(
        &self,
        from: Timestamp,
        hours: u16,
    ) -> Option<Result<Timestamp, String>> {
        if from != self.now {
            return None;
        }
        self.working_hours.get(&hours).copied().map(Ok)
    }
}

// Helpers the aggregates share.

/// The one event a command produces, after checking the payload's own rules, so an aggregate
/// never emits an event that `Event::from_json` would refuse.
fn emit<P: Payload>(payload: P) -> Result<Vec<Event>, DomainError> {
    payload.validate()?;
    Ok(vec![payload.into()])
}

fn not_found(kind: &'static str, id: impl fmt::Display) -> DomainError {
    DomainError::NotFound {
        kind,
        id: id.to_string(),
    }
}

fn already_exists(kind: &'static str, id: impl fmt::Display) -> DomainError {
    DomainError::AlreadyExists {
        kind,
        id: id.to_string(),
    }
}

fn invalid_transition(
    kind: &'static str,
    id: impl fmt::Display,
    action: &'static str,
    state: impl fmt::Display,
) -> DomainError {
    DomainError::InvalidTransition {
        kind,
        id: id.to_string(),
        action,
        state: state.to_string(),
    }
}

/// Whether `at` is no later than the context's now plus the allowed clock skew.
fn not_in_future(at: Timestamp, context: &dyn DecisionContext) -> bool {
    let allowance = SignedDuration::from_secs(CLOCK_SKEW_SECONDS_MAX);
    context
        .now()
        .checked_add(allowance)
        .is_ok_and(|latest| at <= latest)
}
