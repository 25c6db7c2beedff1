//! The ledger's own rules for an import's integrator lines: what the API's aggregates refuse
//! because of the ledger's state (a customer registered twice, a contact for nobody, an
//! identifier another customer holds ...), checked against the ledger folded with the file's
//! earlier accepted lines, so each line sees what the API would have seen had the lines before
//! it been commands.
//!
//! The rules are phrased as the aggregates phrase them (`ledger_domain::aggregates`), with their
//! [`DomainError`] wording, as `field: rule`. A line's own shape was checked when it was
//! parsed; besides what the ledger's state decides, only the API's rules a parsed payload does
//! not keep are checked here: its texts written out ([`unwritten_text`]) and its date
//! ([`dating_rules`]). Where the API decides by its clock (a quote's `validUntil`, an issue
//! after the quote expired, a risk recommendation's `dueOn`), a line is decided at its own
//! `occurredAt` ([`quote_rules`], [`case_rules`]); an erased customer's open work is finished
//! with its texts left out, empty on the line ([`erased_work_rules`]). A service case's own
//! events are decided by its aggregate itself, folded from the ledger's events and the file's
//! earlier lines ([`case_decides`]): what its status allows, a risk survey once on a
//! risk-survey case, a follow-up of a recommendation the survey made. Where the API answers
//! success and records nothing because its command changes nothing (an identifier added again,
//! a consent, account manager, profile or case assignee set to what it is), the line is
//! accepted and records nothing too ([`Decision::Unchanged`], [`unchanged_rules`]): a nightly
//! sync that sends every customer's consent again is not refused for the ones that did not
//! change. Imported again, such a line may change something now (a later line of the file
//! changed it back); it is not recorded after that later line, which it would undo
//! ([`LedgerRules::superseded`]), so the file again writes nothing. For the same reason, such a
//! line refused for what a later line can change (an assignment's previous manager or assignee,
//! a case's status) is refused only once the whole file is read, unless by then a later line of
//! its stream was found in the ledger ([`LedgerRules::deferred`]). Export-form lines are
//! history and are not checked.
//!
//! Where the facts come from ([`LedgerFacts`]): a stream's version and the few facts of it the
//! rules need (merged, erased, its contact and enquiry ids, its marketing consents and account
//! manager, a policy's premium, periods and the campaign its current period was sold through, a
//! campaign's channels, budget and whether it closed) are read from the log the first time a
//! line names the stream, a campaign's purchases the first time a PURCHASED response of it
//! asks, its total cost the first time a cost of it does, a customer's profile (sealed, so read
//! with its key) the first time a `ProfileUpdated` of it does, and a case's events, folded into
//! its aggregate, the first time a line of its stream comes; which
//! campaign's purchase response won a policy's sale, when its issue or renewal named none, is
//! found by the walk of the log that also finds merges ([`StoredLedger`]); who holds an
//! identifier is the
//! customer directory's answer as of its checkpoint, with the log's events after the checkpoint
//! folded over it (the read models lag the log while no server runs: an import into a ledger
//! that held events leaves the new events to the server's catch-up). State per stream, identifier and event id is a few ids and a
//! digest (a case's aggregate state, for a case a line moves on), never the events themselves,
//! so memory follows the file's ids, not its bytes.

use std::cell::RefCell;
use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;

use anyhow::Context;
use ledger_app::bulk::StoredDirectory;
use ledger_app::personal::KeyRing;
use ledger_domain::DomainError;
use ledger_domain::aggregates::campaign::{
    CLOSE, CampaignStatus, INCUR_A_COST, RESPONDING_CUSTOMER, SEND_A_TOUCH, consented_to,
    cost_figures, on_its_channels, purchase_names_its_policy, purchase_of, still_running,
};
use ledger_domain::aggregates::contact_started_too_early;
use ledger_domain::aggregates::links::{
    case_of, claim_of, customers_policy, enquiry_of, issued_policy, launched_campaign,
    new_business_for,
};
use ledger_domain::aggregates::policy::quote_valid_until;
use ledger_domain::aggregates::service_case::{WorkText, not_started_again_for_erased, work_text};
use ledger_domain::aggregates::{
    Aggregate, CLOCK_SKEW_SECONDS_MAX, CampaignStanding, CaseStanding, ClaimStanding,
    CustomerStanding, DecisionContext, EnquiryStanding, Policy, PolicyFacts, PolicyPeriod,
    PolicyStanding, ServiceCase,
};
use ledger_domain::commands::{
    AssignServiceCase, CloseServiceCase, CompleteRiskSurvey, EscalateServiceCase,
    FollowUpRiskRecommendation, ReopenServiceCase, ResolveServiceCase, ServiceCaseCommand,
};
use ledger_domain::events::{Event, claim_stream, enquiry_stream, policy_stream};
use ledger_domain::ids::{
    CampaignId, CaseId, ContactId, CustomerId, EnquiryId, EventId, Position, StaffId, StreamId,
};
use ledger_domain::kinds::CampaignResponse;
use ledger_domain::values::{
    Channel, ClaimNumber, FreeText, Identifier, Money, PersonName, PolicyNumber,
};
use ledger_store::limits::READ_PAGE_MAX;
use ledger_store::{EventLog, NewEvent, RecordedEvent, SledEventLog};

use crate::interchange::IntegratorLine;

/// The most events of the log after the customer directory's checkpoint that an import folds to
/// know who holds each identifier. The fold keeps every identifier those events name (about
/// 100 bytes each, a few per registration), so a million events is of the order of 100 MB; a
/// directory further behind is brought up to date by `replay` first, which is also faster.
pub const DIRECTORY_LAG_EVENTS_MAX: u64 = 1_000_000;

/// The most merges followed from an identifier's holder to its survivor: the directory's own
/// bound (`customer_directory::MERGE_HOPS_MAX`), for the merges an import folds itself.
const MERGE_HOPS_MAX: usize = 16;

/// A digest of an event's content: its stream, its envelope (everything but the id and what the
/// ledger assigns) and its plain payload. Sealing uses a random nonce, so sealed bytes are never
/// compared; their decoded event is.
pub type Digest = [u8; 16];

/// What the rules know of one stream: its version and the facts of it that decide.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StreamFacts {
    /// The events the stream holds.
    pub version: u64,
    /// A policy stream holding only its `PolicyQuoted`: a `PolicyIssued` may still follow.
    pub quoted_only: bool,
    /// A customer merged away, into this survivor.
    pub merged_into: Option<CustomerId>,
    /// A customer or an anonymous enquiry erased.
    pub erased: bool,
    /// A customer's recorded contacts.
    pub contacts: HashSet<ContactId>,
    /// A customer's contacts with a satisfaction answer (one a contact).
    pub rated: HashSet<ContactId>,
    /// A customer's online enquiries.
    pub enquiries: HashSet<EnquiryId>,
    /// The customer a policy was quoted or issued to, a claim reported for, a case opened for:
    /// what a line naming it from another stream is checked against.
    pub customer: Option<CustomerId>,
    /// A policy as the policy aggregate folds it, for its periods of cover: issued or renewed,
    /// oldest first (none while only quoted), and cut short by a cancellation as the API's are.
    pub policy: Policy,
    /// A customer's marketing consents, as its last `ConsentChanged` on each channel left them
    /// (a channel never mentioned is no consent: opt-in).
    pub consents: HashMap<Channel, bool>,
    /// A customer's account manager now (none before its first assignment): the
    /// `previousManager` of its next assignment.
    pub account_manager: Option<StaffId>,
    /// The team lead of a customer's account manager now: assigning the same manager and team
    /// lead again records nothing.
    pub team_lead: Option<StaffId>,
    /// A customer's profile (name, group and address) as its registration or last
    /// `ProfileUpdated` left it, as a [`profile_digest`]: updating it to the same records
    /// nothing. `None` while not known, or where the ledger's could not be read (its key is not
    /// here), which no rule then decides.
    pub profile: Option<Digest>,
    /// Whether `profile` is known: a line of the file set it, or the ledger's was read. Its
    /// fields are sealed, so a stream's read ([`LedgerFacts::stream`]) leaves it out, and it is
    /// read with its key only when a `ProfileUpdated` line asks ([`LedgerFacts::profile`]).
    pub profile_known: bool,
    /// A case as its aggregate folds the ledger's events and the file's earlier lines, which
    /// decides the case's own events ([`case_decides`]). A case's stream is read for its first
    /// event only, so this is `None` until a line of the case comes, which reads the ledger's
    /// ([`LedgerFacts::service_case`]) before any line of the file is folded in. Boxed: most
    /// streams are not cases, and every stream's facts are kept for the whole file.
    pub case: Option<Box<ServiceCase>>,
    /// A policy's premium now: quoted, issued, renewed or endorsed.
    pub premium: Option<Money>,
    /// The premium a policy was issued for: what a PURCHASED response on a line before the
    /// issue is held to (see [`Links::premiums_as_issued`]).
    pub issued_premium: Option<Money>,
    /// The campaign a policy's issue named: whose sale a PURCHASED response on a line before
    /// the issue bought, as [`StreamFacts::issued_premium`] is its premium.
    pub issued_through: Option<CampaignId>,
    /// The policies a campaign's PURCHASED responses named, each won once: the file's accepted
    /// lines', and the ledger's once `ledger_purchases_read`.
    pub purchased: HashSet<PolicyNumber>,
    /// Whether the ledger's PURCHASED responses of a campaign are in `purchased`. A campaign's
    /// stream is mostly touches, so it is read for them only when a PURCHASED line asks
    /// ([`LedgerFacts::purchased`]).
    pub ledger_purchases_read: bool,
    /// A campaign's channels, as launched: a touch uses one of them.
    pub campaign_channels: Vec<Channel>,
    /// A campaign closed: it takes no more costs, touches or close, only responses.
    pub campaign_closed: bool,
    /// A campaign's budget, as launched: what a cost's `overBudget` is decided against.
    pub campaign_budget: Money,
    /// A campaign's total cost, as its last cost records it: the file's accepted lines', and
    /// the ledger's once `ledger_total_cost_read`.
    pub total_cost: Money,
    /// Whether the ledger's total cost of a campaign is in `total_cost`. Like its purchases, a
    /// campaign's stream is read for it only when a cost line asks
    /// ([`LedgerFacts::total_cost`]); the first cost line of a campaign asks before any of the
    /// file's costs is folded in, so the file's costs add to the ledger's.
    pub ledger_total_cost_read: bool,
}

impl StreamFacts {
    /// Folds one more event of the stream (evolve: no rules).
    pub fn apply(&mut self, event: &Event) {
        self.version += 1;
        self.quoted_only = matches!(event, Event::PolicyQuoted(_)) && self.version == 1;
        if StreamFacts::of_a_policy(event) {
            self.policy.apply(event);
        }
        if let Some(case) = self.case.as_deref_mut() {
            case.apply(event);
        }
        match event {
            Event::CustomersMerged(merged) => self.merged_into = Some(merged.survivor_id),
            Event::CustomerErased(_) | Event::EnquiryErased(_) => self.erased = true,
            Event::ContactRecorded(contact) => {
                self.contacts.insert(contact.contact_id);
            }
            Event::SatisfactionRecorded(answer) => {
                self.rated.extend(answer.contact_id);
            }
            Event::OnlineEnquiryReceived(enquiry) => {
                self.enquiries.insert(enquiry.enquiry_id);
            }
            Event::ConsentChanged(changed) => {
                self.consents.insert(changed.channel, changed.granted);
            }
            Event::AccountManagerAssigned(assigned) => {
                self.account_manager = Some(assigned.manager.clone());
                self.team_lead = Some(assigned.team_lead.clone());
            }
            Event::CustomerRegistered(_) | Event::ProfileUpdated(_) => {
                self.profile = recorded_profile(event);
                self.profile_known = true;
            }
            Event::PolicyQuoted(quoted) => {
                self.customer = Some(quoted.customer_id);
                self.premium = Some(quoted.premium);
            }
            Event::PolicyIssued(issued) => {
                self.customer = Some(issued.customer_id);
                self.premium = Some(issued.premium);
                self.issued_premium = Some(issued.premium);
                self.issued_through = issued.campaign_id;
            }
            Event::PolicyRenewed(renewed) => self.premium = Some(renewed.premium),
            Event::PolicyEndorsed(endorsed) => self.premium = Some(endorsed.premium),
            Event::CampaignResponded(response)
                if response.response == CampaignResponse::Purchased =>
            {
                self.purchased
                    .extend(response.policy_number.iter().cloned());
            }
            Event::ClaimReported(reported) => self.customer = Some(reported.customer_id),
            Event::ServiceCaseOpened(opened) => self.customer = Some(opened.customer_id),
            Event::CampaignLaunched(launched) => {
                self.campaign_channels.clone_from(&launched.channels);
                self.campaign_budget = launched.budget;
            }
            Event::CampaignCostIncurred(cost) => self.total_cost = cost.total_cost,
            Event::CampaignClosed(_) => self.campaign_closed = true,
            _ => {}
        }
    }

    /// Whether the policy aggregate folds `event` ([`StreamFacts::policy`]).
    fn of_a_policy(event: &Event) -> bool {
        matches!(
            event,
            Event::PolicyQuoted(_)
                | Event::PolicyIssued(_)
                | Event::PolicyRenewed(_)
                | Event::PolicyEndorsed(_)
                | Event::PolicyLapsed(_)
                | Event::PolicyCancelled(_)
        )
    }

    /// A policy's periods of cover, as the policy aggregate tells a claim naming it, and the
    /// campaign its current period was sold through.
    fn policy_periods(&self) -> (Vec<PolicyPeriod>, Option<CampaignId>) {
        match self.policy.standing() {
            PolicyStanding::Issued(issued) => (issued.periods, issued.sold_through),
            PolicyStanding::Unknown | PolicyStanding::Quoted { .. } => (Vec::new(), None),
        }
    }

    /// Whether [`StreamFacts::apply`] reads anything of an event of this type beyond counting
    /// it, so a stored stream decodes only those. A registration's and a profile update's
    /// profile are sealed, and a case's events after its first, which is all of a case's
    /// stream that is read here, are read when a line of the case comes: those are read on
    /// demand ([`LedgerFacts::profile`], [`LedgerFacts::service_case`]).
    fn decides(event_type: &str) -> bool {
        matches!(
            event_type,
            "PolicyQuoted"
                | "CustomersMerged"
                | "CustomerErased"
                | "EnquiryErased"
                | "ContactRecorded"
                | "SatisfactionRecorded"
                | "OnlineEnquiryReceived"
                | "ConsentChanged"
                | "AccountManagerAssigned"
                | "PolicyIssued"
                | "PolicyRenewed"
                | "PolicyEndorsed"
                | "PolicyLapsed"
                | "PolicyCancelled"
                | "CampaignLaunched"
                | "CampaignCostIncurred"
                | "CampaignClosed"
                | "CampaignResponded"
                | "ClaimReported"
                | "ServiceCaseOpened"
        )
    }
}

/// An event the ledger recorded under an id a line names again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    pub position: Position,
    pub digest: Digest,
    /// Its personal fields could not be read (the subject was erased): compare the line's
    /// content with its personal fields erased.
    pub redacted: bool,
}

/// What the rules ask of the ledger as it is before the import.
pub trait LedgerFacts {
    /// The stream as the log holds it.
    fn stream(&mut self, stream: &StreamId) -> anyhow::Result<StreamFacts>;

    /// The customer holding `identifier` in the ledger, after every merge and erasure in it.
    fn identifier_owner(&mut self, identifier: &Identifier) -> anyhow::Result<Option<CustomerId>>;

    /// The event recorded under `event_id`, if any.
    fn recorded(&mut self, event_id: EventId) -> anyhow::Result<Option<Recorded>>;

    /// The customers the ledger merged directly into `survivor` (each merge's `survivorId`).
    fn merged_into(&mut self, survivor: CustomerId) -> anyhow::Result<Vec<CustomerId>>;

    /// The known customer whose stream received the online enquiry `enquiry`, if any (an
    /// anonymous enquiry is on its own stream, which [`LedgerFacts::stream`] tells).
    fn enquiry_sender(&mut self, enquiry: EnquiryId) -> anyhow::Result<Option<CustomerId>>;

    /// The policies the ledger's PURCHASED responses of `campaign` named.
    fn purchased(&mut self, campaign: CampaignId) -> anyhow::Result<HashSet<PolicyNumber>>;

    /// The total cost of `campaign` in the ledger, as its last cost records it (none: zero).
    fn total_cost(&mut self, campaign: CampaignId) -> anyhow::Result<Money>;

    /// The [`profile_digest`] of `customer`'s profile in the ledger, as its registration or last
    /// `ProfileUpdated` left it; `None` when it has none, or its personal fields cannot be read
    /// here (erased, or its key stayed with the ledger it was exported from).
    fn profile(&mut self, customer: CustomerId) -> anyhow::Result<Option<Digest>>;

    /// `case` as the service-case aggregate folds the ledger's events of it (none: never
    /// opened).
    fn service_case(&mut self, case: CaseId) -> anyhow::Result<ServiceCase>;

    /// Which campaigns the ledger's PURCHASED responses credited with the policy `number`'s
    /// sales ([`SaleCredit`]), if any named it.
    fn sale_credit(&mut self, number: &PolicyNumber) -> anyhow::Result<Option<SaleCredit>>;
}

/// Who holds which identifier, as a fold of identifier events over an older answer (the
/// directory's, or the ledger's): holders set here, merges and erasures since. An identifier is
/// kept as 128 bits of two hashes under this process's random keys, not as its text: 16 bytes
/// and no allocation a registration's identifier, and no collision anyone can aim for.
#[derive(Debug, Default)]
pub struct Owners {
    held: HashMap<u128, Option<CustomerId>>,
    /// The identifiers a merge folded here moved to its survivor, until it adds or removes
    /// them: the survivor holds them for the directory but not for its own aggregate.
    moved: HashSet<u128>,
    merged: HashMap<CustomerId, CustomerId>,
    erased: HashSet<CustomerId>,
    keys: [std::hash::RandomState; 2],
}

impl Owners {
    fn key(&self, identifier: &Identifier) -> u128 {
        use std::hash::BuildHasher as _;
        let [high, low] = &self.keys;
        (u128::from(high.hash_one(identifier)) << 64) | u128::from(low.hash_one(identifier))
    }

    fn hold(&mut self, identifier: &Identifier, holder: Option<CustomerId>) {
        let key = self.key(identifier);
        self.held.insert(key, holder);
        self.moved.remove(&key);
    }

    /// Folds one event (evolve: no rules), as the directory does: a removal frees the
    /// identifier only when the remover holds it, by this fold or else by `older`.
    pub fn apply(
        &mut self,
        event: &Event,
        older: impl FnOnce(&Identifier) -> anyhow::Result<Option<CustomerId>>,
    ) -> anyhow::Result<()> {
        match event {
            Event::CustomerRegistered(registered) => {
                for identifier in &registered.identifiers {
                    self.hold(identifier, Some(registered.customer_id));
                }
            }
            Event::IdentifierAdded(added) => {
                self.hold(&added.identifier, Some(added.customer_id));
            }
            Event::IdentifierRemoved(removed) => {
                let holder = self.held_by(&removed.identifier, || older(&removed.identifier))?;
                if holder == Some(removed.customer_id) {
                    self.hold(&removed.identifier, None);
                }
            }
            Event::CustomersMerged(merged) => {
                self.merged.insert(merged.customer_id, merged.survivor_id);
                for identifier in &merged.identifiers {
                    self.hold(identifier, Some(merged.survivor_id));
                    let key = self.key(identifier);
                    self.moved.insert(key);
                }
            }
            Event::CustomerErased(erased) => {
                self.erased.insert(erased.customer_id);
            }
            _ => {}
        }
        Ok(())
    }

    /// Whether `customer` holds `identifier` itself, as its own aggregate does (registered with
    /// it or added it since, and not removed it): the holder set here, not through a merge,
    /// else `older`'s. The directory's answer (`older`, for the ledger) names a merge's
    /// survivor as the holder of what the merge moved, so an identifier a merge in the ledger
    /// moved reads as the survivor's own.
    fn holds_itself(
        &self,
        identifier: &Identifier,
        customer: CustomerId,
        older: impl FnOnce() -> anyhow::Result<Option<CustomerId>>,
    ) -> anyhow::Result<bool> {
        let key = self.key(identifier);
        let holder = match self.held.get(&key) {
            Some(_) if self.moved.contains(&key) => None,
            Some(holder) => *holder,
            None => older()?,
        };
        Ok(holder == Some(customer))
    }

    /// The holder of `identifier`: the one set here, else `older`'s, followed through the merges
    /// and erasures folded here. `None` from here means "released".
    fn held_by(
        &self,
        identifier: &Identifier,
        older: impl FnOnce() -> anyhow::Result<Option<CustomerId>>,
    ) -> anyhow::Result<Option<CustomerId>> {
        let holder = match self.held.get(&self.key(identifier)) {
            Some(holder) => *holder,
            None => older()?,
        };
        let Some(mut holder) = holder else {
            return Ok(None);
        };
        for _ in 0..MERGE_HOPS_MAX {
            match self.merged.get(&holder) {
                Some(survivor) => holder = *survivor,
                None => break,
            }
        }
        Ok((!self.erased.contains(&holder)).then_some(holder))
    }
}

/// A digest of a customer's profile: its name, group and address, each told apart from none.
pub fn profile_digest(
    name: &PersonName,
    group: Option<&PersonName>,
    address: Option<&FreeText>,
) -> Digest {
    let mut hasher = blake3::Hasher::new();
    for text in [
        Some(name.as_str()),
        group.map(PersonName::as_str),
        address.map(FreeText::as_str),
    ] {
        match text {
            None => hasher.update(&[0]),
            Some(text) => hasher
                .update(&[1])
                .update(&u64::try_from(text.len()).unwrap_or(u64::MAX).to_be_bytes())
                .update(text.as_bytes()),
        };
    }
    let mut digest = [0u8; 16];
    digest.copy_from_slice(&hasher.finalize().as_bytes()[..16]);
    digest
}

/// The [`profile_digest`] of the profile a registration or a profile update records.
fn recorded_profile(event: &Event) -> Option<Digest> {
    match event {
        Event::CustomerRegistered(registered) => Some(profile_digest(
            &registered.name,
            registered.group.as_ref(),
            registered.address.as_ref(),
        )),
        Event::ProfileUpdated(updated) => Some(profile_digest(
            &updated.name,
            updated.group.as_ref(),
            updated.address.as_ref(),
        )),
        _ => None,
    }
}

/// The digest of an event's content (see [`Digest`]) from its envelope and plain payload bytes.
pub fn content_digest(stream: &StreamId, envelope: &NewEvent, plain_payload: &[u8]) -> Digest {
    let mut hasher = blake3::Hasher::new();
    let mut field = |bytes: &[u8]| {
        hasher.update(&u64::try_from(bytes.len()).unwrap_or(u64::MAX).to_be_bytes());
        hasher.update(bytes);
    };
    field(stream.as_str().as_bytes());
    field(envelope.event_type.as_bytes());
    field(&envelope.schema_version.to_be_bytes());
    field(&envelope.occurred_at.as_nanosecond().to_be_bytes());
    field(envelope.actor.as_str().as_bytes());
    let optional = |id: Option<String>| id.unwrap_or_default();
    field(optional(envelope.correlation_id.map(|id| id.to_string())).as_bytes());
    field(optional(envelope.causation_id.map(|id| id.to_string())).as_bytes());
    field(envelope.origin.as_deref().unwrap_or_default().as_bytes());
    field(plain_payload);
    let mut digest = [0u8; 16];
    digest.copy_from_slice(&hasher.finalize().as_bytes()[..16]);
    digest
}

/// What [`LedgerRules::decide`] says of a line whose event id is new.
#[derive(Debug, PartialEq, Eq)]
pub enum Decision {
    /// It keeps every rule and changes the ledger: it is written, and folded in for the lines
    /// after it.
    Accepted,
    /// It keeps every rule, but its command changes nothing, so the API would answer success and
    /// record nothing: nothing is written, nor folded in (the lines after it see the ledger as
    /// if it were absent). Why, as `field: reason`.
    Unchanged(String),
    /// The first rule it breaks, as `field: rule`.
    Refused(String),
}

/// What a line's event id says before its content is checked.
#[derive(Debug, PartialEq, Eq)]
pub enum EventIdUse {
    /// Not recorded, and not on an earlier accepted line.
    New,
    /// The very same event is recorded, or on an earlier line: nothing to write.
    AlreadyPresent,
    /// Another event has this id: `eventId: …`.
    Reused(String),
}

/// The rules folded across one file: the ledger's facts plus the lines accepted so far.
#[derive(Debug)]
pub struct LedgerRules<F> {
    facts: F,
    streams: HashMap<StreamId, StreamFacts>,
    owners: Owners,
    /// Each accepted line's event id, with its line number and content digest.
    events: HashMap<EventId, (usize, Digest)>,
    /// The event id of each line that changed nothing ([`Decision::Unchanged`]), with its line
    /// number and content digest: nothing was written under it, but within one file an id
    /// still names one event, so that the file imported again finds each of its ids used by
    /// one line only.
    unchanged_events: HashMap<EventId, (usize, Digest)>,
    /// The accepted lines of a kind that can change nothing, by what they set, each with its
    /// line number and field: until a later line setting the same is found already in the
    /// ledger ([`LedgerRules::event_id`]), which makes them [`LedgerRules::superseded`].
    settings: HashMap<Setting, Vec<(usize, &'static str)>>,
    /// Lines accepted that a later line setting the same, already in the ledger, supersedes:
    /// `(line number, field: reason)`.
    superseded: Vec<(usize, String)>,
    /// Assignments refused for what their stream holds at their line that a later line can
    /// change (a case's status, the previous manager or assignee), by stream, each as
    /// `(line number, field, field: rule)`, neither folded in nor written. Imported again, a
    /// line that recorded nothing the first time is decided against the ledger as the file's
    /// later lines left it, which it may no longer fit (an assignment of a case a later line
    /// closed, naming as its previous assignee one a later line replaced): a later line of its
    /// stream found already in the ledger ([`LedgerRules::event_id`]) supersedes it, as
    /// `superseded`, and [`LedgerRules::finish`] refuses the others.
    deferred: HashMap<StreamId, Vec<(usize, &'static str, String)>>,
    /// What the accepted lines say across streams (merges, known customers' enquiries).
    across: Across,
    /// What accepted lines named that was nowhere yet, by line number, decided by
    /// [`LedgerRules::finish`].
    forward: Vec<(usize, Named)>,
}

/// What the file's accepted lines say across streams, which no one stream's facts hold: who
/// was merged into whom (for an erasure), which known customer sent an enquiry (for a
/// contact naming it), and which campaign a purchase response credited with a policy's sale
/// (for a purchase of it in another campaign).
#[derive(Debug, Default)]
struct Across {
    /// Survivor → the customers merged directly into it, in line order.
    merged_into: HashMap<CustomerId, Vec<CustomerId>>,
    /// Online enquiry → the known customer whose stream received it.
    enquiry_senders: HashMap<EnquiryId, CustomerId>,
    /// Policy → the campaigns PURCHASED responses credited with its sales.
    sale_credits: HashMap<PolicyNumber, SaleCredit>,
}

/// Which campaigns PURCHASED responses credited with a policy's sales, in the order they came,
/// as the marketing read model credits them: a response credits the policy's latest sale (its
/// issue, or its latest renewal; the issue's when it comes before it, a quote bought) unless an
/// earlier response did. The campaign a sale's own issue or renewal named is the policy
/// stream's to tell ([`PolicyFacts::sold_through`]), and wins over these.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SaleCredit {
    /// The campaign of the first response before any renewal: the issue's sale.
    pub issue: Option<CampaignId>,
    /// The campaign of the first response since the latest renewal (since the issue, when
    /// none): the latest sale's.
    pub latest: Option<CampaignId>,
    /// Whether a renewal came: the latest sale is not the issue's.
    pub renewed: bool,
}

impl SaleCredit {
    /// Folds one event naming the policy (evolve: no rules).
    fn apply(&mut self, event: &Event) {
        match event {
            Event::PolicyRenewed(_) => {
                self.renewed = true;
                self.latest = None;
            }
            Event::CampaignResponded(response) => {
                self.latest.get_or_insert(response.campaign_id);
                if !self.renewed {
                    self.issue.get_or_insert(response.campaign_id);
                }
            }
            _ => {}
        }
    }

    /// The campaign credited with the latest sale, by responses in the ledger (`self`) and
    /// then on the file's lines (`in_file`).
    fn latest_with(ledger: Option<Self>, in_file: Option<Self>) -> Option<CampaignId> {
        match in_file {
            Some(in_file) if in_file.renewed => in_file.latest,
            in_file => ledger
                .and_then(|ledger| ledger.latest)
                .or(in_file.and_then(|in_file| in_file.latest)),
        }
    }
}

impl Across {
    /// Folds one event (evolve: no rules).
    fn apply_event(&mut self, event: &Event) {
        match event {
            Event::CustomersMerged(merged) => self
                .merged_into
                .entry(merged.survivor_id)
                .or_default()
                .push(merged.customer_id),
            Event::OnlineEnquiryReceived(enquiry) => {
                if let Some(customer) = enquiry.customer_id {
                    self.enquiry_senders.insert(enquiry.enquiry_id, customer);
                }
            }
            Event::PolicyRenewed(renewed) => self
                .sale_credits
                .entry(renewed.policy_number.clone())
                .or_default()
                .apply(event),
            Event::CampaignResponded(response)
                if response.response == CampaignResponse::Purchased =>
            {
                if let Some(number) = &response.policy_number {
                    self.sale_credits
                        .entry(number.clone())
                        .or_default()
                        .apply(event);
                }
            }
            _ => {}
        }
    }
}

impl<F: LedgerFacts> LedgerRules<F> {
    pub fn new(facts: F) -> Self {
        Self {
            facts,
            streams: HashMap::new(),
            owners: Owners::default(),
            events: HashMap::new(),
            unchanged_events: HashMap::new(),
            settings: HashMap::new(),
            superseded: Vec::new(),
            deferred: HashMap::new(),
            across: Across::default(),
            forward: Vec::new(),
        }
    }

    /// Once every line was decided: the lines that named something nowhere at their line
    /// (see [`link_rules`]), decided now that the whole file is folded in, and the assignments
    /// deferred that no later line superseded ([`LedgerRules::deferred`]), as
    /// `(line number, field: rule)` in line order. A line refused here for what it named was
    /// folded in for the lines after it (a deferred one was not); writing only what the rest
    /// accepts (`--skip-invalid`) decides the file again without it.
    pub fn finish(&mut self) -> anyhow::Result<Vec<(usize, String)>> {
        let Self {
            facts: ledger,
            streams,
            across,
            forward,
            deferred,
            ..
        } = self;
        let links =
            Links::new(streams, ledger, across, jiff::Timestamp::now()).with_premiums_as_issued();
        let mut problems: Vec<(usize, String)> = forward
            .drain(..)
            .filter_map(|(number, named)| {
                named.decide(&links).err().map(|problem| (number, problem))
            })
            .collect();
        links.finish()?;
        problems.extend(
            deferred
                .drain()
                .flat_map(|(_, lines)| lines)
                .map(|(number, _, problem)| (number, problem)),
        );
        problems.sort_by_key(|(number, _)| *number);
        Ok(problems)
    }

    /// The ledger's facts, handed back.
    pub fn into_facts(self) -> F {
        self.facts
    }

    /// Whether line `number`'s event id is new, the same event again (idempotent), or the id
    /// of another event, in the ledger or on an earlier line. The same event in the ledger
    /// supersedes the earlier accepted lines that set what it sets ([`LedgerRules::superseded`]).
    pub fn event_id(&mut self, number: usize, line: &IntegratorLine) -> anyhow::Result<EventIdUse> {
        let event_id = line.new_event.event_id;
        if let Some((earlier, earlier_digest)) = self.events.get(&event_id) {
            return Ok(if *earlier_digest == line.digest {
                EventIdUse::AlreadyPresent
            } else {
                EventIdUse::Reused(format!(
                    "eventId: {event_id} is already the id of another event (line {earlier})"
                ))
            });
        }
        if let Some((earlier, earlier_digest)) = self.unchanged_events.get(&event_id) {
            // The same event as a line that changed nothing wrote nothing either: it is
            // decided again, as the API decides a retry of a command that recorded nothing.
            return Ok(if *earlier_digest == line.digest {
                EventIdUse::New
            } else {
                EventIdUse::Reused(format!(
                    "eventId: {event_id} is already the id of another event (line {earlier}, \
                     which records nothing)"
                ))
            });
        }
        let Some(recorded) = self.facts.recorded(event_id)? else {
            return Ok(EventIdUse::New);
        };
        let same = if recorded.redacted {
            let mut redacted = line.event.clone();
            redacted.take_personal();
            recorded.digest
                == content_digest(&line.stream, &line.new_event, &redacted.encode_payload())
        } else {
            recorded.digest == line.digest
        };
        if !same {
            return Ok(EventIdUse::Reused(format!(
                "eventId: {event_id} is already the id of another event (position {})",
                recorded.position
            )));
        }
        // An earlier line setting the same, which the ledger did not record, would be recorded
        // after this one and undo it: imported before, this file's line changed nothing then
        // (a consent granted again, say) and would change it back now.
        if let Some(setting) = Setting::of(line)
            && let Some(earlier) = self.settings.remove(&setting)
        {
            self.superseded
                .extend(earlier.into_iter().map(|(earlier, field)| {
                    (
                        earlier,
                        format!(
                            "{field}: line {number}, later in the file, sets the same and is \
                             already in the ledger (position {}); recorded after it, this line \
                             would undo it",
                            recorded.position
                        ),
                    )
                }));
        }
        // An assignment deferred for what its stream held at its line, which this later line of
        // the stream moved on from: imported before, it recorded nothing then.
        if let Some(earlier) = self.deferred.remove(&line.stream) {
            self.superseded
                .extend(earlier.into_iter().map(|(earlier, field, problem)| {
                    (
                        earlier,
                        format!(
                            "{field}: line {number}, later in the file, is already in the ledger \
                             (position {}); recorded after it, this line would be refused \
                             ({problem})",
                            recorded.position
                        ),
                    )
                }));
        }
        Ok(EventIdUse::AlreadyPresent)
    }

    /// The lines accepted so far that a later line, already in the ledger, supersedes, as
    /// `(line number, field: reason)`, taken: they record nothing (a consent granted again
    /// before a withdrawal the ledger holds is not recorded after it). They were folded in for
    /// the lines after them, which the caller decides again without them.
    pub fn superseded(&mut self) -> Vec<(usize, String)> {
        std::mem::take(&mut self.superseded)
    }

    /// Decides line `number` (whose event id is new): the first rule of the ledger's state it
    /// breaks, as `field: rule` — its expected version first — or whether it changes nothing,
    /// or else it is accepted and folded in (evolve: no rules) for the lines after it to see.
    pub fn decide(&mut self, number: usize, line: &IntegratorLine) -> anyhow::Result<Decision> {
        let Self {
            facts: ledger,
            streams,
            owners,
            events,
            unchanged_events,
            settings,
            deferred,
            across,
            forward,
            ..
        } = self;
        let stream = &line.stream;
        // One look-up of the stream a line: a miss reads it from the ledger once.
        if !streams.contains_key(stream) {
            let read = ledger.stream(stream)?;
            streams.insert(stream.clone(), read);
        }
        let facts = streams
            .get_mut(stream)
            .expect("the stream's facts were just read");
        if let Event::CampaignCostIncurred(cost) = &line.event
            && !facts.ledger_total_cost_read
        {
            facts.total_cost = ledger.total_cost(cost.campaign_id)?;
            facts.ledger_total_cost_read = true;
        }
        if let Event::ProfileUpdated(updated) = &line.event
            && !facts.profile_known
        {
            facts.profile = ledger.profile(updated.customer_id)?;
            facts.profile_known = true;
        }
        // Before any line of the file is folded into it: every line of a case comes here first.
        if facts.case.is_none()
            && let Some(case) = case_of_stream(stream)
        {
            facts.case = Some(Box::new(ledger.service_case(case)?));
        }
        // A command that changes nothing still answers for the version it was sent against, as
        // the API's does.
        if let Some(expected) = line.expected_version
            && expected != facts.version
        {
            return Ok(Decision::Refused(format!(
                "expectedVersion: stream {stream} holds {} events at this line, not {expected}",
                facts.version
            )));
        }
        let mut unchanged = match check(facts, owners, ledger, line)? {
            Decision::Accepted => None,
            Decision::Unchanged(reason) => Some(reason),
            refused @ Decision::Refused(_) => return Ok(refused),
        };
        // Decided once the line's stream is known to take it, before the figures it records (an
        // assignment's previous one), as the aggregates decide them; refused only by `finish`.
        let mut deferred_problem = None;
        if unchanged.is_none() {
            match assignment_rules(facts, line) {
                Some(Decision::Unchanged(reason)) => unchanged = Some(reason),
                Some(Decision::Refused(problem)) => deferred_problem = Some(problem),
                Some(Decision::Accepted) | None => {}
            }
        }
        if let Event::CustomersMerged(merged) = &line.event
            && let Some(problem) = merge_rules(merged, streams, owners, ledger)?
        {
            return Ok(Decision::Refused(problem));
        }
        // A line that changes nothing is still a line: dated and written out as any other.
        if let Some(problem) = dating_rules(line, jiff::Timestamp::now()) {
            return Ok(Decision::Refused(problem));
        }
        if let Some(unwritten) = unwritten_text(&line.event) {
            return Ok(Decision::Refused(unwritten.to_string()));
        }
        if let Some(reason) = unchanged {
            // None of the events whose command can change nothing names another stream (what
            // the rules below decide), so it is decided here. Nothing is folded in.
            unchanged_events.insert(line.new_event.event_id, (number, line.digest));
            return Ok(Decision::Unchanged(reason));
        }
        let links = Links::new(streams, ledger, across, line.new_event.occurred_at);
        let decided = quote_rules(&links, line)
            .and_then(|()| erased_work_rules(&links, line))
            .and_then(|()| case_rules(&links, line))
            .and_then(|()| link_rules(&links, line))
            .and_then(|named_forward| erasure_rules(&links, line).map_or(Ok(named_forward), Err));
        links.finish()?;
        let named_forward = match decided {
            Ok(named_forward) => named_forward,
            Err(problem) => return Ok(Decision::Refused(problem)),
        };
        if let Some(problem) = deferred_problem {
            // Taken for now, to be refused or superseded once the whole file is read; until
            // then neither folded in nor written, and its event id, like that of a line that
            // changes nothing, names one event of the file.
            let field = changes_nothing_field(&line.event).unwrap_or("payload");
            unchanged_events.insert(line.new_event.event_id, (number, line.digest));
            deferred
                .entry(stream.clone())
                .or_default()
                .push((number, field, problem));
            return Ok(Decision::Accepted);
        }
        forward.extend(named_forward.into_iter().map(|named| (number, named)));
        let facts = streams
            .get_mut(stream)
            .expect("the stream's facts were read above");
        events.insert(line.new_event.event_id, (number, line.digest));
        if let Some(field) = changes_nothing_field(&line.event)
            && let Some(setting) = Setting::of(line)
        {
            settings.entry(setting).or_default().push((number, field));
        }
        owners.apply(&line.event, |identifier| {
            ledger.identifier_owner(identifier)
        })?;
        facts.apply(&line.event);
        across.apply_event(&line.event);
        Ok(Decision::Accepted)
    }
}

/// The first rule of the ledger's state `line` breaks, given its stream's `facts` and who holds
/// which identifier (`owners` over `ledger`), as `field: rule`; else whether its command changes
/// nothing ([`Decision::Unchanged`]), decided once the stream's existence and standing are, as
/// the aggregates decide it.
fn check(
    facts: &StreamFacts,
    owners: &Owners,
    ledger: &mut impl LedgerFacts,
    line: &IntegratorLine,
) -> anyhow::Result<Decision> {
    let stream = &line.stream;
    let event = &line.event;
    let Some((kind, field)) = kind_of(stream) else {
        return Ok(Decision::Accepted);
    };
    let id = stream
        .as_str()
        .split_once('-')
        .map_or(stream.as_str(), |(_, id)| id);
    let exists = facts.version > 0;
    // An erasure of an enquiry a known customer sent: its stream is the customer's, as the
    // API says in these words.
    if let Event::EnquiryErased(erased) = event
        && !exists
        && let Some(customer) = ledger.enquiry_sender(erased.enquiry_id)?
    {
        let why =
            ledger_domain::aggregates::enquiry::erased_with_its_sender(erased.enquiry_id, customer);
        return Ok(Decision::Refused(format!("{}: {}", why.field, why.rule)));
    }
    let problem = match creation(event, stream) {
        Creation::Creates if exists => Some(already_exists(kind, id)),
        Creation::CreatesAfterQuote if exists && !facts.quoted_only => {
            Some(already_exists(kind, id))
        }
        Creation::Continues if !exists => Some(not_found(kind, id)),
        _ => None,
    };
    if let Some(problem) = problem {
        return Ok(Decision::Refused(format!("{field}: {problem}")));
    }
    if let Some(problem) = other_customers_work(facts, kind, id, event) {
        return Ok(Decision::Refused(problem));
    }
    if facts.erased {
        return Ok(Decision::Refused(match event {
            Event::CustomerErased(_) => format!(
                "{field}: {}",
                DomainError::CustomerErased {
                    customer: id.to_owned(),
                }
            ),
            Event::EnquiryErased(_) => format!(
                "{field}: {}",
                DomainError::InvalidTransition {
                    kind,
                    id: id.to_owned(),
                    action: "erase",
                    state: "erased".to_owned(),
                }
            ),
            _ if kind == "customer" => format!(
                "{field}: {}",
                DomainError::CustomerErased {
                    customer: id.to_owned(),
                }
            ),
            _ => format!(
                "{field}: the personal data of {stream} was erased; nothing new can be recorded for it"
            ),
        }));
    }
    // A merged customer takes its erasure, and corrections and ratings of the contacts it
    // recorded (its history, as the API allows).
    let own_contact =
        |contact: Option<ContactId>| contact.is_some_and(|c| facts.contacts.contains(&c));
    let merged_may_take = match event {
        Event::CustomerErased(_) => true,
        Event::ContactCorrected(corrected) => own_contact(Some(corrected.contact_id)),
        Event::SatisfactionRecorded(answer) => own_contact(answer.contact_id),
        _ => false,
    };
    if let Some(survivor) = facts.merged_into
        && !merged_may_take
    {
        let merged = DomainError::CustomerMerged {
            customer: id.to_owned(),
            survivor: survivor.to_string(),
        };
        return Ok(Decision::Refused(format!("{field}: {merged}")));
    }
    // Decided before the figures an event records (an assignment's `previousManager`), as
    // the aggregates decide it: an event not recorded has none.
    if let Some(reason) = unchanged_rules(facts, owners, ledger, &line.event)? {
        return Ok(Decision::Unchanged(reason));
    }
    if let Err(problem) = campaign_rules(facts, &line.event) {
        return Ok(Decision::Refused(problem));
    }
    Ok(customer_rules(facts, owners, ledger, line)?.map_or(Decision::Accepted, Decision::Refused))
}

/// What a line sets that a line of a kind that can change nothing also sets: a later line
/// setting the same already in the ledger supersedes an accepted earlier one (see
/// [`LedgerRules::event_id`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Setting {
    Consent(StreamId, Channel),
    AccountManager(StreamId),
    Profile(StreamId),
    Assignee(StreamId),
    Identifier(StreamId, Identifier),
}

impl Setting {
    fn of(line: &IntegratorLine) -> Option<Self> {
        let stream = line.stream.clone();
        Some(match &line.event {
            Event::ConsentChanged(changed) => Self::Consent(stream, changed.channel),
            Event::AccountManagerAssigned(_) => Self::AccountManager(stream),
            Event::ProfileUpdated(_) => Self::Profile(stream),
            Event::ServiceCaseAssigned(_) | Event::ServiceCaseEscalated(_) => {
                Self::Assignee(stream)
            }
            Event::IdentifierAdded(ledger_domain::events::IdentifierAdded {
                identifier, ..
            })
            | Event::IdentifierRemoved(ledger_domain::events::IdentifierRemoved {
                identifier,
                ..
            }) => Self::Identifier(stream, identifier.clone()),
            _ => return None,
        })
    }
}

/// The field [`unchanged_rules`] names for an event whose command can change nothing.
fn changes_nothing_field(event: &Event) -> Option<&'static str> {
    Some(match event {
        Event::IdentifierAdded(_) => "identifier",
        Event::ConsentChanged(_) => "granted",
        Event::AccountManagerAssigned(_) => "manager",
        Event::ProfileUpdated(_) => "payload",
        Event::ServiceCaseAssigned(_) => "assignee",
        _ => return None,
    })
}

/// Why a line's command changes nothing, so the API would answer success and record nothing
/// for it, as `field: reason`: an identifier the customer holds added again, a consent changed
/// to what it is (a channel never granted has none), the account manager and team lead
/// assigned again, a profile updated to the same name, group and address (a case assigned to
/// its assignee is decided with the case's status, by [`assignment_rules`]). What the API
/// writes is never one: a first consent granted, a manager with a new team lead. The reason
/// says what already is; the caller says it records nothing.
fn unchanged_rules(
    facts: &StreamFacts,
    owners: &Owners,
    ledger: &mut impl LedgerFacts,
    event: &Event,
) -> anyhow::Result<Option<String>> {
    Ok(match event {
        Event::IdentifierAdded(added) => owners
            .holds_itself(&added.identifier, added.customer_id, || {
                ledger.identifier_owner(&added.identifier)
            })?
            .then(|| {
                format!(
                    "identifier: {} is already customer {}'s",
                    added.identifier, added.customer_id
                )
            }),
        Event::ConsentChanged(changed) => {
            let customer = changed.customer_id;
            let channel = channel_name(changed.channel);
            let consents = facts.consents.get(&changed.channel).copied();
            match (consents.unwrap_or(false), changed.granted) {
                (true, true) => Some(format!(
                    "granted: customer {customer} already consents to marketing on {channel}"
                )),
                (false, false) if consents.is_some() => Some(format!(
                    "granted: customer {customer}'s consent to marketing on {channel} is already \
                     withdrawn"
                )),
                (false, false) => Some(format!(
                    "granted: customer {customer} never consented to marketing on {channel} \
                     (opt-in: a channel never granted has no consent)"
                )),
                _ => None,
            }
        }
        Event::AccountManagerAssigned(assigned)
            if facts.account_manager.as_ref() == Some(&assigned.manager)
                && facts.team_lead.as_ref() == Some(&assigned.team_lead) =>
        {
            Some(format!(
                "manager: {} is already customer {}'s account manager, with team lead {}",
                assigned.manager, assigned.customer_id, assigned.team_lead
            ))
        }
        Event::ProfileUpdated(updated)
            if facts.profile.is_some() && facts.profile == recorded_profile(event) =>
        {
            Some(format!(
                "payload: customer {}'s profile is already this name, group and address",
                updated.customer_id
            ))
        }
        // A case's assignment is its aggregate's to decide ([`assignment_rules`]).
        _ => None,
    })
}

/// An assignment's rules on what its stream holds, which a later line can change, as the
/// aggregates decide them: a case is assigned only while open, and to its assignee again
/// records nothing ([`Decision::Unchanged`]); an account manager's or a case's assignment names
/// whom it replaces as its previous one (`previousManager`, `previousAssignee`), as the API
/// records it. A refusal here is deferred ([`LedgerRules::deferred`]).
fn assignment_rules(facts: &StreamFacts, line: &IntegratorLine) -> Option<Decision> {
    match &line.event {
        Event::AccountManagerAssigned(assigned)
            if assigned.previous_manager != facts.account_manager =>
        {
            Some(Decision::Refused(previous_one(
                "previousManager",
                "the customer's account manager",
                facts.account_manager.as_ref(),
                assigned.previous_manager.as_ref(),
            )))
        }
        Event::ServiceCaseAssigned(assigned) => {
            let case = facts.case.as_deref()?;
            // An assignment asks nothing of other streams: the line's moment is all it is told.
            let decided = case_decides(case, &line.event, &AtLine(line.new_event.occurred_at))?;
            match case_refusal(&line.event, decided).as_deref() {
                Err(problem) => Some(Decision::Refused(problem.to_owned())),
                Ok([]) => Some(Decision::Unchanged(format!(
                    "assignee: service case {} is already assigned to {}",
                    assigned.case_id, assigned.assignee
                ))),
                Ok([Event::ServiceCaseAssigned(recorded)])
                    if recorded.previous_assignee != assigned.previous_assignee =>
                {
                    Some(Decision::Refused(previous_one(
                        "previousAssignee",
                        "the case's assignee",
                        recorded.previous_assignee.as_ref(),
                        assigned.previous_assignee.as_ref(),
                    )))
                }
                Ok(_) => None,
            }
        }
        _ => None,
    }
}

/// An assignment's `field` naming whom it replaces: `whose` one until it, `current` (none:
/// `null`), not `stated`.
fn previous_one(
    field: &str,
    whose: &str,
    current: Option<&StaffId>,
    stated: Option<&StaffId>,
) -> String {
    let current = current.map_or_else(|| "none (null)".to_owned(), ToString::to_string);
    let stated = stated.map_or_else(|| "null".to_owned(), ToString::to_string);
    format!("{field}: {whose} until this assignment: {current}, not {stated}")
}

/// A channel as the event catalogue spells it (`PHONE`, `WECHAT`).
fn channel_name(channel: Channel) -> String {
    match serde_json::to_value(channel) {
        Ok(serde_json::Value::String(name)) => name,
        _ => format!("{channel:?}"),
    }
}

/// The rules of a campaign's own stream, as `Campaign` decides them: costs, touches and the
/// close only while it runs, a touch on one of its channels, and a cost carrying the figures the
/// campaign computes (its total cost with it, and whether that is over budget).
fn campaign_rules(facts: &StreamFacts, event: &Event) -> Result<(), String> {
    let (campaign, action) = match event {
        Event::CampaignTouchSent(touch) => (touch.campaign_id, SEND_A_TOUCH),
        Event::CampaignCostIncurred(cost) => (cost.campaign_id, INCUR_A_COST),
        Event::CampaignClosed(closed) => (closed.campaign_id, CLOSE),
        _ => return Ok(()),
    };
    let status = if facts.campaign_closed {
        CampaignStatus::Closed
    } else {
        CampaignStatus::Running
    };
    in_field("campaignId", still_running(campaign, status, action))?;
    if let Event::CampaignTouchSent(touch) = event {
        in_field(
            "channel",
            on_its_channels(&facts.campaign_channels, touch.channel),
        )?;
    }
    if let Event::CampaignCostIncurred(cost) = event {
        let figures = in_field(
            "amount",
            cost_figures(facts.total_cost, cost.amount, facts.campaign_budget),
        )?;
        if cost.total_cost != figures.total_cost {
            return Err(format!(
                "totalCost: the campaign's total cost with this one: {} fen, not {}",
                figures.total_cost.fen(),
                cost.total_cost.fen()
            ));
        }
        if cost.over_budget != figures.over_budget {
            return Err(format!(
                "overBudget: whether the campaign's total cost with this one ({} fen) is over its \
                 budget ({} fen): {}, not {}",
                figures.total_cost.fen(),
                facts.campaign_budget.fen(),
                figures.over_budget,
                cost.over_budget
            ));
        }
    }
    Ok(())
}

/// A merge's rules beyond the merged customer's own standing, as the API's decide them: the
/// survivor is registered, not merged away (which also refuses a cycle) and not erased, and
/// every identifier the merge moves is one the merged customer holds — a merge that listed
/// another customer's mobile would hand it to the survivor.
fn merge_rules(
    merged: &ledger_domain::events::CustomersMerged,
    streams: &mut HashMap<StreamId, StreamFacts>,
    owners: &Owners,
    ledger: &mut impl LedgerFacts,
) -> anyhow::Result<Option<String>> {
    let survivor = merged.survivor_id;
    let survivor_stream = StreamId::customer(survivor);
    if !streams.contains_key(&survivor_stream) {
        let read = ledger.stream(&survivor_stream)?;
        streams.insert(survivor_stream.clone(), read);
    }
    let facts = &streams[&survivor_stream];
    let refused = if survivor == merged.customer_id || facts.version == 0 {
        Some(not_found("customer", survivor))
    } else if facts.erased {
        Some(DomainError::CustomerErased {
            customer: survivor.to_string(),
        })
    } else {
        facts
            .merged_into
            .map(|further| DomainError::CustomerMerged {
                customer: survivor.to_string(),
                survivor: further.to_string(),
            })
    };
    if let Some(refused) = refused {
        return Ok(Some(format!("survivorId: {refused}")));
    }
    for (index, identifier) in merged.identifiers.iter().enumerate() {
        let holder = owners.held_by(identifier, || ledger.identifier_owner(identifier))?;
        if holder != Some(merged.customer_id) {
            let held = holder.map_or_else(
                || "nobody holds it".to_owned(),
                |holder| format!("customer {holder} holds it"),
            );
            return Ok(Some(format!(
                "identifiers[{index}]: a merge moves the merged customer's own identifiers; \
                 customer {} does not hold {identifier} ({held})",
                merged.customer_id
            )));
        }
    }
    Ok(None)
}

/// The rules of a customer's own stream beyond its existence and standing.
fn customer_rules(
    facts: &StreamFacts,
    owners: &Owners,
    ledger: &mut impl LedgerFacts,
    line: &IntegratorLine,
) -> anyhow::Result<Option<String>> {
    fn owned_by_another(
        owners: &Owners,
        ledger: &mut impl LedgerFacts,
        identifier: &Identifier,
        customer: CustomerId,
    ) -> anyhow::Result<Option<DomainError>> {
        let owner = owners.held_by(identifier, || ledger.identifier_owner(identifier))?;
        Ok(owner
            .filter(|owner| *owner != customer)
            .map(|owner| DomainError::IdentifierOwned {
                identifier: identifier.to_string(),
                owner: owner.to_string(),
            }))
    }
    let contact_unknown =
        |contact: ContactId| (!facts.contacts.contains(&contact)).then_some(contact);
    let problem = match &line.event {
        Event::CustomerRegistered(registered) => {
            for (index, identifier) in registered.identifiers.iter().enumerate() {
                if let Some(owned) =
                    owned_by_another(owners, ledger, identifier, registered.customer_id)?
                {
                    return Ok(Some(format!("identifiers[{index}]: {owned}")));
                }
            }
            None
        }
        // One the customer holds already was decided by `unchanged_rules`.
        Event::IdentifierAdded(added) => {
            owned_by_another(owners, ledger, &added.identifier, added.customer_id)?
                .map(|owned| ("identifier", owned))
        }
        Event::IdentifierRemoved(removed) => {
            (!owners.holds_itself(&removed.identifier, removed.customer_id, || {
                ledger.identifier_owner(&removed.identifier)
            })?)
            .then(|| ("identifier", not_found("identifier", &removed.identifier)))
        }
        Event::ContactRecorded(contact) if facts.contacts.contains(&contact.contact_id) => {
            Some(("contactId", already_exists("contact", contact.contact_id)))
        }
        Event::ContactRecorded(ledger_domain::events::ContactRecorded {
            started_at,
            duration_seconds,
            ..
        })
        | Event::ContactCorrected(ledger_domain::events::ContactCorrected {
            started_at,
            duration_seconds,
            ..
        }) if contact_started_too_early(*started_at).is_some()
            || ends_in_the_future(*started_at, *duration_seconds) =>
        {
            if let Some(rule) = contact_started_too_early(*started_at) {
                return Ok(Some(format!("startedAt: {rule}")));
            }
            // A start in the future is the start's fault, as the API says it.
            if ends_in_the_future(*started_at, 0) {
                return Ok(Some(format!(
                    "startedAt: a contact cannot start in the future (more than {} s, the \
                     clocks' drift, after now)",
                    ledger_domain::aggregates::CLOCK_SKEW_SECONDS_MAX
                )));
            }
            return Ok(Some(format!(
                "durationSeconds: a contact cannot end in the future: startedAt + durationSeconds \
                 is more than {} s (the clocks' drift) after now",
                ledger_domain::aggregates::CLOCK_SKEW_SECONDS_MAX
            )));
        }
        Event::ContactCorrected(corrected) => contact_unknown(corrected.contact_id)
            .map(|contact| ("contactId", not_found("contact", contact))),
        Event::SatisfactionRecorded(rated) => match rated.contact_id {
            Some(contact) if facts.rated.contains(&contact) => {
                return Ok(Some(format!(
                    "contactId: one satisfaction answer a contact; contact {contact} already has one"
                )));
            }
            contact => contact
                .and_then(contact_unknown)
                .map(|contact| ("contactId", not_found("contact", contact))),
        },
        Event::OnlineEnquiryReceived(enquiry)
            if line.stream.category() == "customer"
                && facts.enquiries.contains(&enquiry.enquiry_id) =>
        {
            Some(("enquiryId", already_exists("enquiry", enquiry.enquiry_id)))
        }
        _ => None,
    };
    Ok(problem.map(|(field, problem)| format!("{field}: {problem}")))
}

/// A [`DecisionContext`] over the ledger's facts and the file's accepted lines, so that the
/// aggregates' own rules on what a command names from another stream
/// (`ledger_domain::aggregates::links`) decide a line as they decide the API's command, in
/// their words. A stream a rule asks about is read from the ledger at the first question and
/// kept, as a line's own stream is; a failure to read it is kept for [`Links::finish`] while
/// the rule is told "cannot tell".
struct Links<'a, F> {
    streams: RefCell<&'a mut HashMap<StreamId, StreamFacts>>,
    ledger: RefCell<&'a mut F>,
    across: &'a Across,
    now: jiff::Timestamp,
    /// A policy's premium is the one it was issued for, not its premium now: true once the
    /// whole file is folded in ([`LedgerRules::finish`]), where a PURCHASED response is decided
    /// that named a policy a later line issued. What was bought is the policy as issued; an
    /// endorsement or renewal after it does not change what the response won.
    premiums_as_issued: bool,
    failure: RefCell<Option<anyhow::Error>>,
}

impl<'a, F: LedgerFacts> Links<'a, F> {
    fn new(
        streams: &'a mut HashMap<StreamId, StreamFacts>,
        ledger: &'a mut F,
        across: &'a Across,
        now: jiff::Timestamp,
    ) -> Self {
        Self {
            streams: RefCell::new(streams),
            ledger: RefCell::new(ledger),
            across,
            now,
            premiums_as_issued: false,
            failure: RefCell::new(None),
        }
    }

    /// The same, with each policy's premium the one it was issued for (see
    /// [`Links::premiums_as_issued`]).
    fn with_premiums_as_issued(mut self) -> Self {
        self.premiums_as_issued = true;
        self
    }

    /// The first failure to read the ledger while deciding, if any.
    fn finish(self) -> anyhow::Result<()> {
        match self.failure.into_inner() {
            Some(failure) => Err(failure),
            None => Ok(()),
        }
    }

    fn kept<T>(&self, read: anyhow::Result<T>) -> Option<T> {
        match read {
            Ok(value) => Some(value),
            Err(failure) => {
                self.failure.borrow_mut().get_or_insert(failure);
                None
            }
        }
    }

    /// `read` of `stream`'s facts, the ledger's read at the first question.
    fn stream<T>(&self, stream: &StreamId, read: impl FnOnce(&StreamFacts) -> T) -> Option<T> {
        let mut streams = self.streams.borrow_mut();
        if !streams.contains_key(stream) {
            let facts = self.kept(self.ledger.borrow_mut().stream(stream))?;
            streams.insert(stream.clone(), facts);
        }
        streams.get(stream).map(read)
    }

    /// Whether an earlier PURCHASED response of `campaign`, in the ledger or on an earlier line,
    /// named `number`. The ledger's are read at the first question about the campaign.
    fn bought(&self, campaign: CampaignId, number: &PolicyNumber) -> Option<bool> {
        let stream = StreamId::campaign(campaign);
        if !self.stream(&stream, |facts| facts.ledger_purchases_read)? {
            let in_ledger = self.kept(self.ledger.borrow_mut().purchased(campaign))?;
            let mut streams = self.streams.borrow_mut();
            let facts = streams.get_mut(&stream)?;
            facts.purchased.extend(in_ledger);
            facts.ledger_purchases_read = true;
        }
        self.stream(&stream, |facts| facts.purchased.contains(number))
    }

    /// The customers merged directly into `survivor`: the ledger's, then the file's.
    fn merged_into(&self, survivor: CustomerId) -> Option<Vec<CustomerId>> {
        let mut merged = self.kept(self.ledger.borrow_mut().merged_into(survivor))?;
        let in_file = self.across.merged_into.get(&survivor);
        merged.extend(in_file.into_iter().flatten().copied());
        Some(merged)
    }

    /// The customer a policy, claim or case stream names, by its stream's facts: `Unknown`
    /// when the stream holds nothing.
    fn held<T>(
        &self,
        stream: &StreamId,
        unknown: T,
        known: impl FnOnce(&StreamFacts, CustomerId) -> T,
    ) -> Option<T> {
        self.stream(stream, |facts| match facts.customer {
            _ if facts.version == 0 => Some(unknown),
            Some(customer) => Some(known(facts, customer)),
            // A stream whose first event names no customer: cannot tell.
            None => None,
        })
        .flatten()
    }
}

impl<F: LedgerFacts> DecisionContext for Links<'_, F> {
    /// Not asked by the rules on links: who holds an identifier is [`Owners`]' answer.
    fn identifier_owner(&self, _identifier: &Identifier) -> Option<CustomerId> {
        None
    }

    /// The line's business time.
    fn now(&self) -> jiff::Timestamp {
        self.now
    }

    fn customer_standing(&self, customer: CustomerId) -> Option<CustomerStanding> {
        self.stream(&StreamId::customer(customer), |facts| {
            if facts.version == 0 {
                CustomerStanding::Unknown
            } else if facts.erased {
                CustomerStanding::Erased
            } else {
                facts
                    .merged_into
                    .map_or(CustomerStanding::Live, CustomerStanding::MergedInto)
            }
        })
    }

    fn recorded_contact(&self, customer: CustomerId, contact: ContactId) -> Option<bool> {
        self.stream(&StreamId::customer(customer), |facts| {
            facts.contacts.contains(&contact)
        })
    }

    /// As the customer's stream left it, in the ledger and on the file's earlier lines.
    fn marketing_consent(&self, customer: CustomerId, channel: Channel) -> Option<bool> {
        self.stream(&StreamId::customer(customer), |facts| {
            facts.consents.get(&channel).copied().unwrap_or(false)
        })
    }

    fn policy(&self, number: &PolicyNumber) -> Option<PolicyStanding> {
        self.held(
            &policy_stream(number),
            PolicyStanding::Unknown,
            |facts, holder| {
                if facts.quoted_only {
                    PolicyStanding::Quoted { holder }
                } else {
                    let (periods, sold_through) = facts.policy_periods();
                    PolicyStanding::Issued(PolicyFacts {
                        holder,
                        periods,
                        premium: if self.premiums_as_issued {
                            facts.issued_premium
                        } else {
                            facts.premium
                        },
                        sold_through: if self.premiums_as_issued {
                            facts.issued_through
                        } else {
                            sold_through
                        },
                    })
                }
            },
        )
    }

    /// By the ledger's PURCHASED responses, then the file's earlier lines'. A purchase decided
    /// once the whole file is read named a policy neither held at its line, which a later line
    /// issued: it bought the issue's sale, which only the file's responses can have credited.
    fn sale_credited_to(&self, number: &PolicyNumber) -> Option<CampaignId> {
        let in_file = self.across.sale_credits.get(number).copied();
        if self.premiums_as_issued {
            return in_file.and_then(|credit| credit.issue);
        }
        let ledger = self.kept(self.ledger.borrow_mut().sale_credit(number))?;
        SaleCredit::latest_with(ledger, in_file)
    }

    fn claim(&self, number: &ClaimNumber) -> Option<ClaimStanding> {
        self.held(
            &claim_stream(number),
            ClaimStanding::Unknown,
            |_, customer| ClaimStanding::Reported { customer },
        )
    }

    fn service_case(&self, case: CaseId) -> Option<CaseStanding> {
        self.held(
            &StreamId::case(case),
            CaseStanding::Unknown,
            |_, customer| CaseStanding::Opened { customer },
        )
    }

    fn campaign(&self, campaign: CampaignId) -> Option<CampaignStanding> {
        // A campaign's stream starts with its launch.
        self.stream(&StreamId::campaign(campaign), |facts| {
            if facts.version == 0 {
                CampaignStanding::Unknown
            } else {
                CampaignStanding::Launched
            }
        })
    }

    /// An anonymous enquiry is on its own stream; a known customer's on that customer's, found
    /// among the file's lines or else in the ledger.
    fn enquiry(&self, enquiry: EnquiryId) -> Option<EnquiryStanding> {
        let anonymous = self.stream(&enquiry_stream(enquiry, None), |facts| facts.version > 0)?;
        if anonymous {
            return Some(EnquiryStanding::Anonymous);
        }
        if let Some(sender) = self.across.enquiry_senders.get(&enquiry) {
            return Some(EnquiryStanding::FromCustomer(*sender));
        }
        let sender = self.kept(self.ledger.borrow_mut().enquiry_sender(enquiry))?;
        Some(sender.map_or(EnquiryStanding::Unknown, EnquiryStanding::FromCustomer))
    }
}

/// A link rule's refusal as `field: rule`: a validation error names its field itself.
fn in_field<T>(field: &str, decided: Result<T, DomainError>) -> Result<T, String> {
    decided.map_err(|refused| match refused {
        DomainError::Validation(invalid) => invalid.to_string(),
        refused => format!("{field}: {refused}"),
    })
}

/// Something a line names on another stream, with the rule on it (module
/// `ledger_domain::aggregates::links`), for the customer `customer` ("whose" in the rule's
/// words).
#[derive(Debug, Clone)]
enum Named {
    /// A contact's or case's policy: it exists and is the customer's (a quote will do).
    Policy {
        number: PolicyNumber,
        customer: CustomerId,
        whose: &'static str,
    },
    /// A claim's policy: issued to the customer, and covering the loss.
    ClaimsPolicy {
        number: PolicyNumber,
        customer: CustomerId,
        loss_occurred_at: jiff::Timestamp,
    },
    Claim {
        number: ClaimNumber,
        customer: CustomerId,
        whose: &'static str,
    },
    Case {
        case: CaseId,
        customer: CustomerId,
        whose: &'static str,
    },
    Campaign(CampaignId),
    /// A PURCHASED response's policy: issued to the customer, won once in the campaign
    /// (`already_bought` is decided at the response's line: an earlier PURCHASED response of the
    /// campaign named it) and in one campaign only, for its premium.
    Purchase {
        campaign: CampaignId,
        number: PolicyNumber,
        customer: CustomerId,
        premium_won: Money,
        already_bought: bool,
    },
    Enquiry {
        enquiry: EnquiryId,
        customer: CustomerId,
        whose: &'static str,
    },
    /// A case's contact: one its customer's stream recorded, on an earlier line or in the
    /// ledger (never a later one: the case is opened about a contact already made).
    CaseContact {
        contact: ContactId,
        customer: CustomerId,
    },
}

impl Named {
    /// Whether what it names is nowhere yet, in the ledger or on an earlier line.
    fn absent<F: LedgerFacts>(&self, links: &Links<'_, F>) -> bool {
        match self {
            Self::Policy { number, .. }
            | Self::ClaimsPolicy { number, .. }
            | Self::Purchase { number, .. } => {
                links.policy(number) == Some(PolicyStanding::Unknown)
            }
            Self::Claim { number, .. } => links.claim(number) == Some(ClaimStanding::Unknown),
            Self::Case { case, .. } => links.service_case(*case) == Some(CaseStanding::Unknown),
            Self::Campaign(campaign) => {
                links.campaign(*campaign) == Some(CampaignStanding::Unknown)
            }
            Self::Enquiry { enquiry, .. } => {
                links.enquiry(*enquiry) == Some(EnquiryStanding::Unknown)
            }
            Self::CaseContact { .. } => false,
        }
    }

    /// The rule on it, as `field: rule`.
    fn decide(&self, context: &dyn DecisionContext) -> Result<(), String> {
        match self {
            Self::Policy {
                number,
                customer,
                whose,
            } => in_field(
                "policyNumber",
                customers_policy(number, *customer, whose, context),
            ),
            Self::ClaimsPolicy {
                number,
                customer,
                loss_occurred_at,
            } => {
                let whose = "the claim's customer";
                let policy = in_field(
                    "policyNumber",
                    issued_policy(number, *customer, whose, context),
                )?;
                match policy.filter(|policy| !policy.covers(*loss_occurred_at)) {
                    Some(policy) => {
                        let periods: Vec<String> =
                            policy.periods.iter().map(ToString::to_string).collect();
                        // A policy cancelled on its first day keeps no period: it never
                        // covered a day.
                        let cover = if periods.is_empty() {
                            "was cancelled from its first day and covers no day".to_owned()
                        } else {
                            format!("covers {}", periods.join(", "))
                        };
                        Err(format!(
                            "lossOccurredAt: within the policy's period, Beijing days inclusive: \
                             {number} {cover}"
                        ))
                    }
                    None => Ok(()),
                }
            }
            Self::Claim {
                number,
                customer,
                whose,
            } => in_field("claimNumber", claim_of(number, *customer, whose, context)),
            Self::Case {
                case,
                customer,
                whose,
            } => in_field("caseId", case_of(*case, *customer, whose, context)),
            Self::Campaign(campaign) => {
                in_field("campaignId", launched_campaign(*campaign, context))
            }
            Self::Purchase {
                campaign,
                number,
                customer,
                premium_won,
                already_bought,
            } => in_field(
                "policyNumber",
                purchase_of(
                    *campaign,
                    number,
                    *customer,
                    *premium_won,
                    *already_bought,
                    context,
                ),
            ),
            Self::Enquiry {
                enquiry,
                customer,
                whose,
            } => in_field("enquiryId", enquiry_of(*enquiry, *customer, whose, context)),
            Self::CaseContact { contact, customer } => {
                if context.recorded_contact(*customer, *contact) == Some(false) {
                    Err(format!(
                        "contactId: a contact recorded for the case's customer; {contact} is not one"
                    ))
                } else {
                    Ok(())
                }
            }
        }
    }
}

/// What a contact names on other streams, in the order `ContactLinks::check` checks them.
fn contact_names<F: LedgerFacts>(
    links: &Links<'_, F>,
    line: &IntegratorLine,
    [policy, claim, case, campaign, enquiry]: [Option<Named>; 5],
) -> Vec<Named> {
    // An enquiry on the customer's own stream is theirs: no need to ask.
    let enquiry = enquiry.filter(|named| match named {
        Named::Enquiry { enquiry, .. } => !links
            .stream(&line.stream, |facts| facts.enquiries.contains(enquiry))
            .unwrap_or(false),
        _ => true,
    });
    [policy, claim, case, campaign, enquiry]
        .into_iter()
        .flatten()
        .collect()
}

/// What `line` names on other streams, and the rules its aggregate decides before them (the
/// customer new business is for, a case's contact), as `field: rule` when broken.
fn names_of<F: LedgerFacts>(
    links: &Links<'_, F>,
    line: &IntegratorLine,
) -> Result<Vec<Named>, String> {
    let contact = |customer: CustomerId,
                   policy: Option<&PolicyNumber>,
                   claim: Option<&ClaimNumber>,
                   case: Option<CaseId>,
                   campaign: Option<CampaignId>,
                   enquiry: Option<EnquiryId>| {
        let whose = "the contact's customer";
        contact_names(
            links,
            line,
            [
                policy.map(|number| Named::Policy {
                    number: number.clone(),
                    customer,
                    whose,
                }),
                claim.map(|number| Named::Claim {
                    number: number.clone(),
                    customer,
                    whose,
                }),
                case.map(|case| Named::Case {
                    case,
                    customer,
                    whose,
                }),
                campaign.map(Named::Campaign),
                enquiry.map(|enquiry| Named::Enquiry {
                    enquiry,
                    customer,
                    whose,
                }),
            ],
        )
    };
    Ok(match &line.event {
        Event::ContactRecorded(recorded) => contact(
            recorded.customer_id,
            recorded.policy_number.as_ref(),
            recorded.claim_number.as_ref(),
            recorded.case_id,
            recorded.campaign_id,
            recorded.enquiry_id,
        ),
        Event::ContactCorrected(corrected) => contact(
            corrected.customer_id,
            corrected.policy_number.as_ref(),
            corrected.claim_number.as_ref(),
            corrected.case_id,
            corrected.campaign_id,
            corrected.enquiry_id,
        ),
        Event::ServiceCaseOpened(opened) => {
            let customer = opened.customer_id;
            in_field("customerId", new_business_for(customer, links))?;
            let whose = "the case's customer";
            let policy = opened.policy_number.iter().map(|number| Named::Policy {
                number: number.clone(),
                customer,
                whose,
            });
            let claim = opened.claim_number.iter().map(|number| Named::Claim {
                number: number.clone(),
                customer,
                whose,
            });
            let contact = opened
                .contact_id
                .map(|contact| Named::CaseContact { contact, customer });
            policy.chain(claim).chain(contact).collect()
        }
        Event::ClaimReported(reported) => {
            in_field("customerId", new_business_for(reported.customer_id, links))?;
            vec![Named::ClaimsPolicy {
                number: reported.policy_number.clone(),
                customer: reported.customer_id,
                loss_occurred_at: reported.loss_occurred_at,
            }]
        }
        Event::CampaignTouchSent(touch) => {
            in_field("customerId", new_business_for(touch.customer_id, links))?;
            in_field(
                "channel",
                consented_to(touch.customer_id, touch.channel, links),
            )?;
            Vec::new()
        }
        Event::CampaignResponded(response) => {
            in_field("customerId", new_business_for(response.customer_id, links))?;
            response_names(links, response)?
        }
        Event::OnlineEnquiryReceived(enquiry) => enquiry
            .campaign_id
            .map(Named::Campaign)
            .into_iter()
            .collect(),
        _ => Vec::new(),
    })
}

/// What a campaign response names: the responding customer's policy, or for a PURCHASED one
/// the policy bought, whose campaign's earlier purchases are looked at now, at its line.
fn response_names<F: LedgerFacts>(
    links: &Links<'_, F>,
    response: &ledger_domain::events::CampaignResponded,
) -> Result<Vec<Named>, String> {
    in_field(
        "policyNumber",
        purchase_names_its_policy(response.response, response.policy_number.as_ref()),
    )?;
    let Some(number) = &response.policy_number else {
        return Ok(Vec::new());
    };
    let customer = response.customer_id;
    Ok(vec![if response.response == CampaignResponse::Purchased {
        Named::Purchase {
            campaign: response.campaign_id,
            number: number.clone(),
            customer,
            premium_won: response.premium_won,
            // Cannot tell (the campaign's stream could not be read): the failure ends the
            // import (`Links::finish`).
            already_bought: links.bought(response.campaign_id, number).unwrap_or(false),
        }
    } else {
        Named::Policy {
            number: number.clone(),
            customer,
            whose: RESPONDING_CUSTOMER,
        }
    }])
}

/// The first rule on what `line` names on other streams that it breaks, as `field: rule`, else
/// what it names that is nowhere yet: a later line of the file may create it (history comes in
/// business-time order, and the call that leads to a quote or a claim starts before either is
/// recorded), so it is decided once the whole file is read ([`LedgerRules::finish`]).
fn link_rules<F: LedgerFacts>(
    links: &Links<'_, F>,
    line: &IntegratorLine,
) -> Result<Vec<Named>, String> {
    let mut forward = Vec::new();
    for named in names_of(links, line)? {
        if named.absent(links) {
            forward.push(named);
        } else {
            named.decide(links)?;
        }
    }
    Ok(forward)
}

/// A quote's rules, as `quotePolicy` and `issuePolicy` decide them with the line's `occurredAt`
/// as their moment (the API's is its clock; a line's is the day it happened): a quote is valid
/// until that day or a later one, and an issue under a quoted number takes up that quote — for
/// the customer it was quoted to (or one merged with it), not after its `validUntil`.
fn quote_rules<F: LedgerFacts>(links: &Links<'_, F>, line: &IntegratorLine) -> Result<(), String> {
    match &line.event {
        Event::PolicyQuoted(quoted) => in_field(
            "validUntil",
            quote_valid_until(quoted.valid_until, links.now()),
        ),
        Event::PolicyIssued(issued) => {
            // The policy as its stream holds it: the ledger's, then the file's earlier lines.
            let Some(policy) = links.stream(&line.stream, |facts| facts.policy.clone()) else {
                // Cannot tell (the stream could not be read): the failure ends the import.
                return Ok(());
            };
            in_field(
                "policyNumber",
                policy.issued_as_quoted(issued.customer_id, links),
            )
        }
        _ => Ok(()),
    }
}

/// The rules on an erased customer's open case or claim, as the service-case and claim
/// aggregates decide them (`ledger_domain::aggregates::service_case`): its work is finished
/// without anything personal — an escalation's `reason`, a resolution's `resolution`, a
/// survey's `findings`, a settlement's `payee.name` and a rejection's `explanation` are left
/// out (an empty text, `""`) for an erased customer and written out for a live one — and
/// nothing is started again for them (a reopening, a risk survey, a follow-up). The customer is
/// the one the case or claim was opened for, as the aggregate knows it.
fn erased_work_rules<F: LedgerFacts>(
    links: &Links<'_, F>,
    line: &IntegratorLine,
) -> Result<(), String> {
    let text = |field: &'static str, left_out: bool, customer: CustomerId| {
        let text = WorkText {
            field,
            left_out,
            mutation: line.event.event_type(),
        };
        (text, customer)
    };
    let (text, named) = match &line.event {
        Event::ServiceCaseEscalated(escalated) => text(
            "reason",
            escalated.reason.is_erased(),
            escalated.customer_id,
        ),
        Event::ServiceCaseResolved(resolved) => text(
            "resolution",
            resolved.resolution.is_erased(),
            resolved.customer_id,
        ),
        Event::ClaimSurveyed(surveyed) => text(
            "findings",
            surveyed.findings.is_erased(),
            surveyed.customer_id,
        ),
        Event::ClaimSettled(settled) => text(
            "payee.name",
            settled.payee.name.is_erased(),
            settled.customer_id,
        ),
        Event::ClaimRejected(rejected) => text(
            "explanation",
            rejected.explanation.is_erased(),
            rejected.customer_id,
        ),
        Event::ServiceCaseReopened(ledger_domain::events::ServiceCaseReopened {
            customer_id,
            ..
        })
        | Event::ClaimReopened(ledger_domain::events::ClaimReopened { customer_id, .. })
        | Event::RiskSurveyCompleted(ledger_domain::events::RiskSurveyCompleted {
            customer_id,
            ..
        })
        | Event::RiskRecommendationFollowedUp(
            ledger_domain::events::RiskRecommendationFollowedUp { customer_id, .. },
        ) => {
            let customer = work_customer(links, line, *customer_id);
            return in_field("customerId", not_started_again_for_erased(customer, links));
        }
        _ => return Ok(()),
    };
    let (field, left_out) = (text.field, text.left_out);
    let customer = work_customer(links, line, named);
    work_text(text, customer, links).map_err(|refused| match refused {
        DomainError::Validation(invalid) if left_out => invalid.to_string(),
        // Written out for an erased customer. An integrator leaves a text out by sending it
        // empty; a payee's name cannot be empty on a line (a name is 1 character or more), so
        // that settlement is the API's to record.
        DomainError::Validation(invalid) if field == "payee.name" => format!(
            "{invalid} (a line cannot leave a payee's name out: settle the claim through the \
             API's settleClaim)"
        ),
        DomainError::Validation(invalid) => format!("{invalid} (an empty text, \"\")"),
        refused => format!("customerId: {refused}"),
    })
}

/// A case's own events but its assignments (decided with what changes nothing, by
/// [`assignment_rules`]), as the service-case aggregate decides them ([`case_decides`]) at the
/// line's `occurredAt`, its customer's standing as the ledger and the file's earlier lines tell
/// it: an escalation, resolution, close or reopening only from a status that allows it, an
/// escalation keeping or raising the priority and moving the deadline only to after its moment,
/// a reopening's deadline after it, a risk survey once, on an open risk-survey case, with each
/// recommendation due on the survey's Beijing day or later (`recommendations[0].dueOn`), and a
/// follow-up of a recommendation the survey made. It runs after [`erased_work_rules`], which
/// says in the import's words how an erased customer's work is sent (a text left out as `""`).
fn case_rules<F: LedgerFacts>(links: &Links<'_, F>, line: &IntegratorLine) -> Result<(), String> {
    if matches!(line.event, Event::ServiceCaseAssigned(_)) {
        return Ok(());
    }
    // Cannot tell (the stream could not be read): the failure ends the import.
    let Some(Some(case)) = links.stream(&line.stream, |facts| facts.case.clone()) else {
        return Ok(());
    };
    match case_decides(&case, &line.event, links) {
        Some(decided) => case_refusal(&line.event, decided).map(drop),
        None => Ok(()),
    }
}

/// What the service-case aggregate, as `case`, decides for the command that would have recorded
/// `event`, in `context`: the events it records, or its refusal; `None` for an event no command
/// on an opened case records. The command carries the event's own fields; an escalation's
/// deadline is sent only when it moves the case's, as the event records the case's otherwise.
fn case_decides(
    case: &ServiceCase,
    event: &Event,
    context: &dyn DecisionContext,
) -> Option<Result<Vec<Event>, DomainError>> {
    let command = match event {
        Event::ServiceCaseAssigned(assigned) => {
            ServiceCaseCommand::AssignServiceCase(AssignServiceCase {
                case_id: assigned.case_id,
                assignee: assigned.assignee.clone(),
            })
        }
        Event::ServiceCaseEscalated(escalated) => {
            ServiceCaseCommand::EscalateServiceCase(EscalateServiceCase {
                case_id: escalated.case_id,
                escalated_to: escalated.escalated_to.clone(),
                reason: escalated.reason.clone(),
                priority: escalated.priority,
                deadline: (case.deadline() != Some(escalated.deadline))
                    .then_some(escalated.deadline),
            })
        }
        Event::ServiceCaseResolved(resolved) => {
            ServiceCaseCommand::ResolveServiceCase(ResolveServiceCase {
                case_id: resolved.case_id,
                resolved_by: resolved.resolved_by.clone(),
                resolution: resolved.resolution.clone(),
            })
        }
        Event::ServiceCaseReopened(reopened) => {
            ServiceCaseCommand::ReopenServiceCase(ReopenServiceCase {
                case_id: reopened.case_id,
                reason: reopened.reason.clone(),
                deadline: reopened.deadline,
            })
        }
        Event::ServiceCaseClosed(closed) => {
            ServiceCaseCommand::CloseServiceCase(CloseServiceCase {
                case_id: closed.case_id,
                closed_by: closed.closed_by.clone(),
                customer_confirmed: closed.customer_confirmed,
            })
        }
        Event::RiskSurveyCompleted(survey) => {
            ServiceCaseCommand::CompleteRiskSurvey(CompleteRiskSurvey {
                case_id: survey.case_id,
                surveyor: survey.surveyor.clone(),
                findings: survey.findings.clone(),
                recommendations: survey.recommendations.clone(),
            })
        }
        Event::RiskRecommendationFollowedUp(followed) => {
            ServiceCaseCommand::FollowUpRiskRecommendation(FollowUpRiskRecommendation {
                case_id: followed.case_id,
                recommendation: followed.recommendation,
                status: followed.status,
                note: followed.note.clone(),
                followed_up_by: followed.followed_up_by.clone(),
            })
        }
        _ => return None,
    };
    Some(case.handle(&command, context))
}

/// A case's refusal of `event` as `field: rule`: a validation error names its field itself; the
/// others name none in the API, so the line's field they are about is named: `recommendation`
/// for one the survey did not make, `customerId` for an erased customer, else `caseId`.
fn case_refusal(
    event: &Event,
    decided: Result<Vec<Event>, DomainError>,
) -> Result<Vec<Event>, String> {
    let field = match (&decided, event) {
        (Err(DomainError::NotFound { .. }), Event::RiskRecommendationFollowedUp(_)) => {
            "recommendation"
        }
        (Err(DomainError::CustomerErased { .. }), _) => "customerId",
        _ => "caseId",
    };
    in_field(field, decided)
}

/// The moment a line is decided at, and nothing of other streams: the context of a command whose
/// aggregate asks nothing of them (a case's assignment).
struct AtLine(jiff::Timestamp);

impl DecisionContext for AtLine {
    fn identifier_owner(&self, _identifier: &Identifier) -> Option<CustomerId> {
        None
    }

    fn now(&self) -> jiff::Timestamp {
        self.0
    }
}

/// The case a `case-{id}` stream is of; `None` for another stream.
fn case_of_stream(stream: &StreamId) -> Option<CaseId> {
    stream.as_str().strip_prefix("case-")?.parse().ok()
}

/// The customer a case or claim line's work is for: the one its stream was opened for, as its
/// aggregate decides with it, else (a stream the file opens later) the one the line names.
fn work_customer<F: LedgerFacts>(
    links: &Links<'_, F>,
    line: &IntegratorLine,
    named: CustomerId,
) -> CustomerId {
    links
        .stream(&line.stream, |facts| facts.customer)
        .flatten()
        .unwrap_or(named)
}

/// An erasure of a customer others were merged into. The API's `eraseCustomer` erases each of
/// them first (the same person, whose records hold the same personal data); an imported
/// erasure cannot, so it needs each of them erased already, in the ledger or on an earlier
/// line, and names the first that is not (merges followed through merges).
fn erasure_rules<F: LedgerFacts>(links: &Links<'_, F>, line: &IntegratorLine) -> Option<String> {
    let Event::CustomerErased(erased) = &line.event else {
        return None;
    };
    let mut seen = HashSet::from([erased.customer_id]);
    let mut pending = VecDeque::from([erased.customer_id]);
    while let Some(survivor) = pending.pop_front() {
        for merged in links.merged_into(survivor)? {
            if !seen.insert(merged) {
                continue;
            }
            if !links.stream(&StreamId::customer(merged), |facts| facts.erased)? {
                return Some(format!(
                    "customerId: customer {merged} was merged into this customer and is not \
                     erased; erase it first (an earlier line)"
                ));
            }
            pending.push_back(merged);
        }
    }
    None
}

/// When a line says its event happened (`occurredAt`), as the API dates what it records: never
/// later than `now` and the clocks' drift (the API dates an event when it decides it, or a
/// contact when it ended); a contact exactly when it ended, `startedAt + durationSeconds`; a
/// correction when it is made, which is after the contact it describes ended (the API refuses a
/// corrected contact that ends after the correction's now). The first broken, as `field: rule`.
fn dating_rules(line: &IntegratorLine, now: jiff::Timestamp) -> Option<String> {
    let occurred_at = line.new_event.occurred_at;
    let drift = jiff::SignedDuration::from_secs(CLOCK_SKEW_SECONDS_MAX);
    let latest = |at: jiff::Timestamp| at.checked_add(drift).unwrap_or(jiff::Timestamp::MAX);
    if let Event::ContactRecorded(contact) = &line.event {
        let ended =
            ledger_domain::events::contact_ended_at(contact.started_at, contact.duration_seconds);
        if ended != Some(occurred_at) {
            let ended = ended.map_or_else(
                || "past the last instant the ledger dates".to_owned(),
                |ended| ended.to_string(),
            );
            return Some(format!(
                "occurredAt: a contact is dated when it ended, startedAt + durationSeconds \
                 ({ended}), not {occurred_at}"
            ));
        }
    }
    if occurred_at > latest(now) {
        return Some(format!(
            "occurredAt: an event is dated when it happened, not in the future: {occurred_at} \
             is more than {CLOCK_SKEW_SECONDS_MAX} s (the clocks' drift) after now"
        ));
    }
    if let Event::ContactCorrected(corrected) = &line.event {
        if corrected.started_at > latest(occurred_at) {
            return Some(format!(
                "startedAt: a contact cannot start after it is corrected: {} is more than \
                 {CLOCK_SKEW_SECONDS_MAX} s (the clocks' drift) after the correction's \
                 occurredAt, {occurred_at}",
                corrected.started_at
            ));
        }
        let ended = ledger_domain::events::contact_ended_at(
            corrected.started_at,
            corrected.duration_seconds,
        );
        if ended.is_none_or(|ended| ended > latest(occurred_at)) {
            let ended = ended.map_or_else(
                || "past the last instant the ledger dates".to_owned(),
                |ended| ended.to_string(),
            );
            return Some(format!(
                "durationSeconds: a contact cannot end after it is corrected: startedAt + \
                 durationSeconds ({ended}) is more than {CLOCK_SKEW_SECONDS_MAX} s (the clocks' \
                 drift) after the correction's occurredAt, {occurred_at}"
            ));
        }
    }
    None
}

/// The first text of `event` written by staff or a customer that is blank, as the API refuses
/// it ([`FreeText::written`]): every free text of the catalogue is one the API takes written
/// out (an optional one when given), so every one is checked here, but the texts of an erased
/// customer's work, left out for them ([`erased_work_rules`]). Each event type is named, so
/// that a new one decides its own.
fn unwritten_text(event: &Event) -> Option<ledger_domain::ValidationError> {
    fn first_unwritten(
        texts: &[(&str, Option<&FreeText>)],
    ) -> Option<ledger_domain::ValidationError> {
        texts
            .iter()
            .find_map(|(field, text)| text.and_then(|text| text.written_out(field).err()))
    }
    match event {
        Event::CustomerRegistered(registered) => {
            first_unwritten(&[("address", registered.address.as_ref())])
        }
        Event::ProfileUpdated(updated) => first_unwritten(&[("address", updated.address.as_ref())]),
        Event::CustomersMerged(merged) => first_unwritten(&[("reason", merged.reason.as_ref())]),
        Event::ContactRecorded(contact) => first_unwritten(&[("summary", Some(&contact.summary))]),
        Event::ContactCorrected(corrected) => first_unwritten(&[
            ("summary", Some(&corrected.summary)),
            ("reason", Some(&corrected.reason)),
        ]),
        Event::SatisfactionRecorded(answer) => {
            first_unwritten(&[("comment", answer.comment.as_ref())])
        }
        Event::PolicyEndorsed(endorsed) => {
            first_unwritten(&[("description", Some(&endorsed.description))])
        }
        Event::ClaimReported(reported) => first_unwritten(&[
            ("location", Some(&reported.location)),
            ("description", Some(&reported.description)),
        ]),
        Event::ClaimReopened(reopened) => first_unwritten(&[("reason", Some(&reopened.reason))]),
        Event::ServiceCaseOpened(opened) => first_unwritten(&[("subject", Some(&opened.subject))]),
        Event::ServiceCaseReopened(reopened) => {
            first_unwritten(&[("reason", Some(&reopened.reason))])
        }
        Event::RiskSurveyCompleted(survey) => {
            first_unwritten(&[("findings", Some(&survey.findings))]).or_else(|| {
                survey
                    .recommendations
                    .iter()
                    .enumerate()
                    .find_map(|(index, recommendation)| {
                        let field = format!("recommendations[{index}].text");
                        recommendation.text.written_out(&field).err()
                    })
            })
        }
        Event::RiskRecommendationFollowedUp(followed) => {
            first_unwritten(&[("note", Some(&followed.note))])
        }
        Event::CampaignLaunched(launched) => {
            first_unwritten(&[("description", launched.description.as_ref())])
        }
        Event::CampaignCostIncurred(cost) => {
            first_unwritten(&[("description", Some(&cost.description))])
        }
        Event::CampaignClosed(closed) => first_unwritten(&[("summary", closed.summary.as_ref())]),
        Event::OnlineEnquiryReceived(enquiry) => {
            first_unwritten(&[("message", enquiry.message.as_ref())])
        }
        Event::ProcessPublished(published) => {
            first_unwritten(&[("summary", published.summary.as_ref())])
        }
        // Work texts: left out for an erased customer, written out for a live one, which only
        // the customer's standing decides ([`erased_work_rules`]).
        Event::ServiceCaseEscalated(_)
        | Event::ServiceCaseResolved(_)
        | Event::ClaimSurveyed(_)
        | Event::ClaimRejected(_) => None,
        Event::IdentifierAdded(_)
        | Event::IdentifierRemoved(_)
        | Event::ConsentChanged(_)
        | Event::AccountManagerAssigned(_)
        | Event::CustomerErased(_)
        | Event::PolicyQuoted(_)
        | Event::PolicyIssued(_)
        | Event::PolicyRenewed(_)
        | Event::PolicyLapsed(_)
        | Event::PolicyCancelled(_)
        | Event::ClaimDocumentsRequested(_)
        | Event::ClaimDocumentsCompleted(_)
        | Event::ClaimSettled(_)
        | Event::ServiceCaseAssigned(_)
        | Event::ServiceCaseClosed(_)
        | Event::CampaignTouchSent(_)
        | Event::CampaignResponded(_)
        | Event::EnquiryErased(_)
        | Event::ProcessTrainingRecorded(_) => None,
    }
}

/// Whether a contact started at `started_at` for `duration_seconds` ends later than now and the
/// clocks' drift: history is what happened, and this has not yet.
fn ends_in_the_future(started_at: jiff::Timestamp, duration_seconds: u32) -> bool {
    let latest = jiff::Timestamp::now()
        .checked_add(jiff::SignedDuration::from_secs(
            ledger_domain::aggregates::CLOCK_SKEW_SECONDS_MAX,
        ))
        .unwrap_or(jiff::Timestamp::MAX);
    ledger_domain::events::contact_ended_at(started_at, duration_seconds)
        .is_some_and(|ended| ended > latest)
}

/// How an event stands to its stream's existence, as its aggregate decides.
enum Creation {
    /// Starts the stream: refused on one that exists (`AlreadyExists`).
    Creates,
    /// `PolicyIssued`: starts the stream, or follows its quote.
    CreatesAfterQuote,
    /// `ProcessPublished`: the first version or a later one.
    CreatesOrContinues,
    /// Needs the stream (`NotFound`).
    Continues,
}

fn creation(event: &Event, stream: &StreamId) -> Creation {
    match event {
        Event::CustomerRegistered(_)
        | Event::PolicyQuoted(_)
        | Event::ClaimReported(_)
        | Event::ServiceCaseOpened(_)
        | Event::CampaignLaunched(_) => Creation::Creates,
        Event::OnlineEnquiryReceived(_) if stream.category() == "enquiry" => Creation::Creates,
        Event::PolicyIssued(_) => Creation::CreatesAfterQuote,
        Event::ProcessPublished(_) => Creation::CreatesOrContinues,
        _ => Creation::Continues,
    }
}

/// The aggregate's kind (as its errors name it) and the payload field naming its id, by the
/// stream's category; `None` for a category no aggregate owns.
/// A claim's or service case's later line names the customer it was opened for, as the API
/// records it (its events carry the aggregate's customer): naming another would route the work
/// into that customer's history and data-subject list.
/// `customerId: service case … is customer …'s, not …'s`.
fn other_customers_work(
    facts: &StreamFacts,
    kind: &'static str,
    id: &str,
    event: &Event,
) -> Option<String> {
    if !matches!(kind, "claim" | "service case")
        || !matches!(creation(event, &event.stream()), Creation::Continues)
    {
        return None;
    }
    let owner = facts.customer?;
    let named = event.customer_ids();
    let stranger = named.iter().find(|named| **named != owner)?;
    Some(format!(
        "customerId: {kind} {id} is customer {owner}'s, not {stranger}'s"
    ))
}

fn kind_of(stream: &StreamId) -> Option<(&'static str, &'static str)> {
    Some(match stream.category() {
        "customer" => ("customer", "customerId"),
        "policy" => ("policy", "policyNumber"),
        "claim" => ("claim", "claimNumber"),
        "case" => ("service case", "caseId"),
        "campaign" => ("campaign", "campaignId"),
        "process" => ("process", "processId"),
        "enquiry" => ("enquiry", "enquiryId"),
        _ => return None,
    })
}

fn already_exists(kind: &'static str, id: impl std::fmt::Display) -> DomainError {
    DomainError::AlreadyExists {
        kind,
        id: id.to_string(),
    }
}

fn not_found(kind: &'static str, id: impl std::fmt::Display) -> DomainError {
    DomainError::NotFound {
        kind,
        id: id.to_string(),
    }
}

/// The ledger's facts from a store: streams read from the log, identifier holders from the
/// customer directory with the log's events after its checkpoint folded over it. That fold is
/// made at the first question about an identifier, so a file without any (contacts from a
/// CSV, say) never pays for it.
pub struct StoredLedger<'a> {
    store: &'a SledEventLog,
    ring: Arc<KeyRing>,
    /// The directory and the log's events after its checkpoint, once asked for.
    owners: Option<(Option<StoredDirectory>, Owners)>,
    /// The log's merges and known customers' enquiries, once asked for.
    across: Option<Across>,
}

impl std::fmt::Debug for StoredLedger<'_> {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("StoredLedger")
            .field("owners", &self.owners)
            .finish_non_exhaustive()
    }
}

impl<'a> StoredLedger<'a> {
    pub fn new(store: &'a SledEventLog, ring: Arc<KeyRing>) -> Self {
        Self {
            store,
            ring,
            owners: None,
            across: None,
        }
    }

    /// The key ring the facts were read with, for the import's writes.
    pub fn ring(&self) -> &Arc<KeyRing> {
        &self.ring
    }

    /// Opens the directory and folds the log's events after its checkpoint (at most
    /// [`DIRECTORY_LAG_EVENTS_MAX`] of them).
    fn directory_and_tail(&self) -> anyhow::Result<(Option<StoredDirectory>, Owners)> {
        let store = self.store;
        let head = store.head().position;
        let directory = if head.get() == 0 {
            None
        } else {
            StoredDirectory::open(store).context("opening the customer directory")?
        };
        let from = directory
            .as_ref()
            .map_or(Position(1), |directory| directory.checkpoint().next());
        let lag = (head.get() + 1).saturating_sub(from.get());
        if lag > DIRECTORY_LAG_EVENTS_MAX {
            anyhow::bail!(
                "the customer directory is {lag} events behind the log, more than an import \
                 folds ({DIRECTORY_LAG_EVENTS_MAX}) to check who holds each identifier: \
                 `contact-ledger replay --projection customer-directory` brings it up to date"
            );
        }
        let mut tail = Owners::default();
        let mut next = from;
        while next <= head {
            let page = store
                .read_all(next, READ_PAGE_MAX)
                .context("reading the log after the customer directory's checkpoint")?;
            let Some(last) = page.last() else { break };
            next = last.position.next();
            for record in &page {
                if matches!(
                    record.event.event_type.as_str(),
                    "CustomerRegistered"
                        | "IdentifierAdded"
                        | "IdentifierRemoved"
                        | "CustomersMerged"
                        | "CustomerErased"
                ) {
                    let event = opened(&self.ring, record)?.0;
                    tail.apply(&event, |identifier| {
                        directory_owner(directory.as_ref(), identifier)
                    })?;
                }
            }
        }
        Ok((directory, tail))
    }
}

impl StoredLedger<'_> {
    /// Each record of `stream` from its first up to version `up_to` (at most its version), in
    /// order, read a page at a time.
    fn each_from_start(
        &self,
        stream: &StreamId,
        up_to: u64,
        mut each: impl FnMut(&RecordedEvent) -> anyhow::Result<()>,
    ) -> anyhow::Result<()> {
        let version = self.store.stream_version(stream);
        let up_to = up_to.min(version);
        let mut read = 0;
        while read < up_to {
            let page = self
                .store
                .read_stream(
                    stream,
                    read + 1,
                    READ_PAGE_MAX.min(usize::try_from(up_to - read).unwrap_or(usize::MAX)),
                )
                .with_context(|| format!("reading stream {stream}"))?;
            if page.is_empty() {
                anyhow::bail!("stream {stream} ends before its version {version}");
            }
            for record in &page {
                read += 1;
                each(record)?;
            }
        }
        Ok(())
    }

    /// The last event of `stream` of one of `types`, read from the stream's end a page at a
    /// time: only the types of the events after it are read.
    fn last_of(&self, stream: &StreamId, types: &[&str]) -> anyhow::Result<Option<RecordedEvent>> {
        let version = self.store.stream_version(stream);
        // The versions not yet looked at are 1..=unread.
        let mut unread = version;
        while unread > 0 {
            let count = READ_PAGE_MAX.min(usize::try_from(unread).unwrap_or(usize::MAX));
            let from = unread + 1 - u64::try_from(count).unwrap_or(u64::MAX);
            let page = self
                .store
                .read_stream(stream, from, count)
                .with_context(|| format!("reading stream {stream}"))?;
            if page.len() != count {
                anyhow::bail!("stream {stream} ends before its version {version}");
            }
            if let Some(record) = page
                .into_iter()
                .rev()
                .find(|record| types.contains(&record.event.event_type.as_str()))
            {
                return Ok(Some(record));
            }
            unread = from - 1;
        }
        Ok(None)
    }

    /// Whether the campaign `stream` (of `version` events) was closed, read from its end: only
    /// responses follow a close (costs, touches and a second close need it running), so the
    /// last event that is not a response tells, and only the types of the events after it are
    /// read. A campaign's stream is mostly touches, which this never walks.
    fn campaign_closed(&self, stream: &StreamId, version: u64) -> anyhow::Result<bool> {
        // The versions not yet looked at are 2..=unread (version 1 is the launch).
        let mut unread = version;
        while unread > 1 {
            let count = READ_PAGE_MAX.min(usize::try_from(unread - 1).unwrap_or(usize::MAX));
            let from = unread + 1 - u64::try_from(count).unwrap_or(u64::MAX);
            let page = self
                .store
                .read_stream(stream, from, count)
                .with_context(|| format!("reading stream {stream}"))?;
            if page.len() != count {
                anyhow::bail!("stream {stream} ends before its version {version}");
            }
            for record in page.iter().rev() {
                match record.event.event_type.as_str() {
                    "CampaignResponded" => {}
                    "CampaignClosed" => return Ok(true),
                    _ => return Ok(false),
                }
            }
            unread = from - 1;
        }
        Ok(false)
    }

    /// What the log says across streams ([`Across`]): a walk of the whole log that decodes
    /// only its merges, online enquiries, renewals and campaign responses. Only an erasure of
    /// a customer the ledger holds, a contact naming an enquiry that neither its own stream nor
    /// the file tells, or a purchase of a policy the ledger holds whose current sale named no
    /// campaign asks for it, so an import pays for the walk at most once and most never do.
    /// (The customer directory knows merges too, but this crate reads only its identifiers;
    /// and who sent a known customer's enquiry, or which campaign won a sale, only the
    /// marketing read model knows.)
    fn across(&mut self) -> anyhow::Result<&Across> {
        if self.across.is_none() {
            let mut across = Across::default();
            let head = self.store.head().position;
            let mut next = Position(1);
            while next <= head {
                let page = self
                    .store
                    .read_all(next, READ_PAGE_MAX)
                    .context("reading the log's merges and enquiries")?;
                let Some(last) = page.last() else { break };
                next = last.position.next();
                for record in &page {
                    let stored = &record.event;
                    let decides = match stored.event_type.as_str() {
                        "CustomersMerged" | "CampaignResponded" | "PolicyRenewed" => true,
                        "OnlineEnquiryReceived" => record.stream.category() == "customer",
                        _ => false,
                    };
                    if decides {
                        let event = ledger_app::personal::open_redacted(
                            &stored.event_type,
                            stored.schema_version,
                            &stored.payload,
                        )
                        .with_context(|| {
                            format!("decoding the event at position {}", record.position)
                        })?;
                        // A renewal of a policy no purchase response named yet changes
                        // nothing asked of the ledger (the issue's sale is asked only of a
                        // policy the file issues), so it is not kept.
                        if let Event::PolicyRenewed(renewed) = &event
                            && !across.sale_credits.contains_key(&renewed.policy_number)
                        {
                            continue;
                        }
                        across.apply_event(&event);
                    }
                }
            }
            self.across = Some(across);
        }
        Ok(self.across.as_ref().expect("just walked"))
    }
}

fn directory_owner(
    directory: Option<&StoredDirectory>,
    identifier: &Identifier,
) -> anyhow::Result<Option<CustomerId>> {
    match directory {
        Some(directory) => directory
            .identifier_owner(identifier)
            .context("reading the customer directory"),
        None => Ok(None),
    }
}

/// A stored record's event with its personal fields erased: what a rule reads of it that is
/// not personal, without its key.
fn redacted(record: &RecordedEvent) -> anyhow::Result<Event> {
    let stored = &record.event;
    ledger_app::personal::open_redacted(&stored.event_type, stored.schema_version, &stored.payload)
        .with_context(|| format!("decoding the event at position {}", record.position))
}

/// A stored record's event, personal fields opened while its key lives, and whether they were
/// erased.
fn opened(ring: &KeyRing, record: &RecordedEvent) -> anyhow::Result<(Event, bool)> {
    let stored = &record.event;
    let opened = ring
        .open_payload(
            stored.event_id,
            &stored.event_type,
            stored.schema_version,
            &stored.payload,
        )
        .with_context(|| format!("decoding the event at position {}", record.position))?;
    Ok((opened.event, opened.redacted))
}

impl LedgerFacts for StoredLedger<'_> {
    fn stream(&mut self, stream: &StreamId) -> anyhow::Result<StreamFacts> {
        let version = self.store.stream_version(stream);
        let mut facts = StreamFacts::default();
        // A claim's, case's or campaign's first event names its customer or a campaign's
        // channels, and nothing after it decides (a campaign's close is found from its end); a
        // policy's quote, issue and renewals are a handful a year.
        let read_up_to = match stream.category() {
            "customer" | "enquiry" | "policy" => version,
            "claim" | "case" | "campaign" => version.min(1),
            _ => 0,
        };
        self.each_from_start(stream, read_up_to, |record| {
            let stored = &record.event;
            if StreamFacts::decides(&stored.event_type) {
                let event = ledger_app::personal::open_redacted(
                    &stored.event_type,
                    stored.schema_version,
                    &stored.payload,
                )
                .with_context(|| format!("decoding the event at position {}", record.position))?;
                facts.apply(&event);
            } else {
                facts.version += 1;
                facts.quoted_only = false;
            }
            Ok(())
        })?;
        if version > read_up_to {
            facts.quoted_only = false;
        }
        if stream.category() == "campaign" {
            facts.campaign_closed = self.campaign_closed(stream, version)?;
        }
        facts.version = version;
        Ok(facts)
    }

    fn identifier_owner(&mut self, identifier: &Identifier) -> anyhow::Result<Option<CustomerId>> {
        if self.owners.is_none() {
            self.owners = Some(self.directory_and_tail()?);
        }
        let (directory, tail) = self.owners.as_ref().expect("just folded");
        tail.held_by(identifier, || {
            directory_owner(directory.as_ref(), identifier)
        })
    }

    fn recorded(&mut self, event_id: EventId) -> anyhow::Result<Option<Recorded>> {
        let Some(position) = self.store.position_of(event_id) else {
            return Ok(None);
        };
        let record = self
            .store
            .read_all(position, 1)
            .with_context(|| format!("reading the event at position {position}"))?
            .into_iter()
            .next()
            .with_context(|| format!("the log has no event at position {position}"))?;
        let (event, redacted) = opened(&self.ring, &record)?;
        Ok(Some(Recorded {
            position,
            digest: content_digest(&record.stream, &record.event, &event.encode_payload()),
            redacted,
        }))
    }

    fn merged_into(&mut self, survivor: CustomerId) -> anyhow::Result<Vec<CustomerId>> {
        // A merge names a survivor the ledger holds: a customer it never registered has none.
        if self.store.stream_version(&StreamId::customer(survivor)) == 0 {
            return Ok(Vec::new());
        }
        let merged = self.across()?.merged_into.get(&survivor);
        Ok(merged.cloned().unwrap_or_default())
    }

    fn enquiry_sender(&mut self, enquiry: EnquiryId) -> anyhow::Result<Option<CustomerId>> {
        if self.store.head().event_count == 0 {
            return Ok(None);
        }
        Ok(self.across()?.enquiry_senders.get(&enquiry).copied())
    }

    fn sale_credit(&mut self, number: &PolicyNumber) -> anyhow::Result<Option<SaleCredit>> {
        // A policy the ledger never quoted or issued: a sale of it is the file's.
        if self.store.stream_version(&policy_stream(number)) == 0 {
            return Ok(None);
        }
        Ok(self.across()?.sale_credits.get(number).copied())
    }

    /// The campaign's stream, read once by [`LedgerRules::decide`] for a campaign a cost line
    /// names, from its end: only the last cost is decoded, and the types of the events after it
    /// (touches and responses) read.
    fn total_cost(&mut self, campaign: CampaignId) -> anyhow::Result<Money> {
        let stream = StreamId::campaign(campaign);
        let Some(record) = self.last_of(&stream, &["CampaignCostIncurred"])? else {
            return Ok(Money::ZERO);
        };
        match redacted(&record)? {
            Event::CampaignCostIncurred(cost) => Ok(cost.total_cost),
            _ => anyhow::bail!("the event at position {} is no cost", record.position),
        }
    }

    /// The customer's stream, read once by [`LedgerRules::decide`] for a customer a
    /// `ProfileUpdated` line names, from its end: only its last registration or profile update
    /// is opened, with its key, and the types of the events after it read.
    fn profile(&mut self, customer: CustomerId) -> anyhow::Result<Option<Digest>> {
        let stream = StreamId::customer(customer);
        let Some(record) = self.last_of(&stream, &["CustomerRegistered", "ProfileUpdated"])? else {
            return Ok(None);
        };
        match opened(&self.ring, &record)? {
            (_, true) => Ok(None),
            (event, false) => recorded_profile(&event).map(Some).with_context(|| {
                format!("the event at position {} is no profile", record.position)
            }),
        }
    }

    /// The case's stream, read once by [`LedgerRules::decide`] at the first line of the case,
    /// every event of it folded into its aggregate. Redacted: nothing that decides a case is
    /// personal (a survey's recommendations keep their numbers). A case's stream is a handful
    /// of events, its transitions and its survey's follow-ups.
    fn service_case(&mut self, case: CaseId) -> anyhow::Result<ServiceCase> {
        let mut folded = ServiceCase::default();
        self.each_from_start(&StreamId::case(case), u64::MAX, |record| {
            folded.apply(&redacted(record)?);
            Ok(())
        })?;
        Ok(folded)
    }

    /// The campaign's stream, read once by [`Links::bought`] for a campaign a PURCHASED line
    /// names; only its responses are decoded.
    fn purchased(&mut self, campaign: CampaignId) -> anyhow::Result<HashSet<PolicyNumber>> {
        let mut purchased = HashSet::new();
        self.each_from_start(&StreamId::campaign(campaign), u64::MAX, |record| {
            let stored = &record.event;
            if stored.event_type != "CampaignResponded" {
                return Ok(());
            }
            let event = ledger_app::personal::open_redacted(
                &stored.event_type,
                stored.schema_version,
                &stored.payload,
            )
            .with_context(|| format!("decoding the event at position {}", record.position))?;
            if let Event::CampaignResponded(response) = event
                && response.response == CampaignResponse::Purchased
            {
                purchased.extend(response.policy_number);
            }
            Ok(())
        })?;
        Ok(purchased)
    }
}

#[cfg(test)]
mod tests;
