//! The discrete-event simulation that drives the generator: one queue of pending actions and
//! ready events ordered by (instant, sequence), popped in order.
//!
//! An action runs at its instant, reads and changes the world's state, and pushes events and
//! further actions at that instant or later. Events are yielded when they reach the front of
//! the queue, so the output is ordered by `occurred_at`, ties in the order they were made,
//! and only the pending work is held in memory: the state of each customer, policy, open
//! claim and open case, never the history already yielded.
//!
//! Two counts keep later events legal. `queued` counts a customer's events still in the
//! queue and `open_matters` its open claims and cases; a merge or an erasure (after which the
//! customer's stream accepts nothing) waits until both are zero, and every action that would
//! touch a customer first checks that the customer is still live.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use ledger_domain::events::Event;
use ledger_domain::ids::{CampaignId, CaseId, CustomerId, EnquiryId, EventId, StaffId};
use ledger_domain::kinds::{CustomerKind, Priority, ProductLine, ServiceCaseKind};
use ledger_domain::values::{
    Channel, ClaimNumber, FreeText, Identifier, Mobile, PersonName, Plate, PolicyNumber, Vin,
};

use crate::SyntheticEvent;
use crate::clock::{self, DAY};
use crate::issuer::{self, Issuer};
use crate::rng::Rng;
use crate::staff::Staff;

/// Something the simulation will do at an instant.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Action {
    /// A customer of the book registers (existing customers as they first renew in the new
    /// system, new ones when they buy).
    Join(u32),
    /// A customer's own reasons to get in touch: enquiries, payments, complaints, changes.
    CustomerTick(u32),
    /// An account manager's quarterly contact with a corporate customer.
    ManagerTouch(u32),
    /// A corporate customer's yearly risk survey.
    RiskSurveyDue(u32),
    /// The same person registers a second time (the customer given is the original).
    DuplicateRegistration(u32),
    /// The duplicate given is merged into its original.
    Merge(u32, u8),
    /// The customer asks for erasure (the count is the attempts left).
    Erase(u32, u8),
    /// A policy's first issue (existing book) or a new sale.
    IssuePolicy(u32),
    /// A month before a policy's period ends: remind and decide.
    RenewalDue(u32),
    Renew(u32),
    Lapse(u32),
    /// An endorsement or cancellation during the period.
    MidTerm(u32),
    /// The next loss on a policy (a thinned Poisson process).
    NextLoss(u32),
    ClaimStep(u32),
    CaseStep(u32),
    /// A web-shop lead from someone the shop could not identify.
    ProspectEnquiry,
    /// The call-centre calls an online enquiry back.
    EnquiryCallback(u32),
    /// Someone nobody knew asks for their unanswered web-shop lead to be deleted.
    EraseEnquiry(EnquiryId),
    CampaignLaunch(u16),
    CampaignTouch(u16, u32),
    CampaignRespond(u16, u32),
    CampaignCost(u16),
    CampaignClose(u16),
    /// An account manager leaves; their customers are handed over.
    ManagerLeaves,
    /// A new version of a business process is published.
    ProcessRevision,
}

#[derive(Debug)]
enum Item {
    Event(Box<SyntheticEvent>, Option<u32>),
    Action(Action),
}

#[derive(Debug)]
struct Entry {
    at: i64,
    sequence: u64,
    item: Item,
}

impl PartialEq for Entry {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.sequence) == (other.at, other.sequence)
    }
}

impl Eq for Entry {}

impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Entry {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.at, self.sequence).cmp(&(other.at, other.sequence))
    }
}

/// Rare outcomes a coverage run forces at their first opportunity, so that a small fixture
/// holds every event type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Rare {
    Duplicate,
    Erasure,
    ContactCorrection,
    ClaimRejection,
    ClaimReopening,
    CaseEscalation,
    CaseReopening,
    MidTerm,
    Cancellation,
    Lapse,
    IdentifierChange,
    AddressChange,
    UnansweredEnquiry,
    EnquiryErasure,
    LateSettlement,
}

const RARE_KINDS: usize = 15;

impl Rare {
    const ALL: [Self; RARE_KINDS] = [
        Self::Duplicate,
        Self::Erasure,
        Self::ContactCorrection,
        Self::ClaimRejection,
        Self::ClaimReopening,
        Self::CaseEscalation,
        Self::CaseReopening,
        Self::MidTerm,
        Self::Cancellation,
        Self::Lapse,
        Self::IdentifierChange,
        Self::AddressChange,
        Self::UnansweredEnquiry,
        Self::EnquiryErasure,
        Self::LateSettlement,
    ];

    fn index(self) -> usize {
        Self::ALL.iter().position(|kind| *kind == self).unwrap_or(0)
    }
}

/// What kind of customer a book entry is (the customer pyramid's layers).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Segment {
    /// A private motorist.
    Individual,
    /// An employee of a group company (集团客户, individual).
    GroupEmployee,
    /// A company outside the group.
    Corporate,
    /// A member company of the carmaker group (集团客户, corporate).
    GroupCorporate,
    /// A web-shop lead who was called back and registered but has not bought.
    Prospect,
    /// A second registration of a person already known, awaiting its merge.
    Duplicate,
}

impl Segment {
    pub(crate) fn kind(self) -> CustomerKind {
        match self {
            Self::Corporate | Self::GroupCorporate => CustomerKind::Corporate,
            _ => CustomerKind::Individual,
        }
    }

    pub(crate) fn is_group(self) -> bool {
        matches!(self, Self::GroupEmployee | Self::GroupCorporate)
    }

    pub(crate) fn is_corporate(self) -> bool {
        self.kind() == CustomerKind::Corporate
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Status {
    /// Planned, not yet registered.
    Planned,
    Live,
    Merged,
    Erased,
}

/// A vehicle a customer insures: a private car, or the lead vehicle of a fleet block.
#[derive(Debug)]
pub(crate) struct Vehicle {
    pub(crate) plate: Plate,
    pub(crate) vin: Vin,
    /// Vehicles the block covers (1 for a private car).
    pub(crate) count: u32,
    /// Premium per vehicle and year before discounts, in yuan.
    pub(crate) premium_yuan: i64,
    /// Whether the plate and VIN are among the customer's identifiers.
    pub(crate) identified: bool,
    /// Still owned (a sold car is gone).
    pub(crate) owned: bool,
}

#[derive(Debug)]
pub(crate) struct Customer {
    pub(crate) id: CustomerId,
    pub(crate) segment: Segment,
    pub(crate) status: Status,
    pub(crate) region: usize,
    /// Whether the customer was insured before the history starts (joins at first renewal).
    pub(crate) existing: bool,
    pub(crate) name: Option<PersonName>,
    pub(crate) pinyin: String,
    pub(crate) male: bool,
    pub(crate) address: Option<FreeText>,
    pub(crate) identifiers: Vec<Identifier>,
    pub(crate) mobile: Option<Mobile>,
    pub(crate) wechat: bool,
    pub(crate) app: bool,
    /// Channels the customer granted marketing consent on, as bits of `channel_bit`.
    pub(crate) consent: u16,
    pub(crate) vehicles: Vec<Vehicle>,
    pub(crate) policies: Vec<u32>,
    pub(crate) active_policies: u32,
    pub(crate) open_matters: u32,
    pub(crate) queued: u32,
    /// The satisfaction the customer drifts back to (expected CSAT, 1-5).
    pub(crate) disposition: f64,
    /// Current expected CSAT, moved by experiences.
    pub(crate) mood: f64,
    pub(crate) manager: Option<usize>,
    /// The campaign that last touched the customer, and when.
    pub(crate) last_touch: Option<(u16, i64)>,
    /// For a duplicate, the original; for an original, its duplicate.
    pub(crate) twin: Option<u32>,
    /// The first day of the customer's first policy period.
    pub(crate) anniversary: i64,
    pub(crate) fleet: u32,
    pub(crate) industry: usize,
}

impl Customer {
    pub(crate) fn is_live(&self) -> bool {
        self.status == Status::Live
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PolicyStatus {
    /// Quoted or planned, not yet issued.
    Pending,
    Active,
    Lapsed,
    Cancelled,
}

#[derive(Debug)]
pub(crate) struct Policy {
    pub(crate) number: PolicyNumber,
    pub(crate) customer: u32,
    pub(crate) vehicle: usize,
    pub(crate) lines: Vec<ProductLine>,
    /// The premium of the current period, in fen.
    pub(crate) premium: i64,
    pub(crate) start_day: i64,
    pub(crate) end_day: i64,
    pub(crate) status: PolicyStatus,
    pub(crate) claims_this_period: u32,
    pub(crate) sales_channel: Channel,
}

/// A slab: a vector of optional slots and a free list, so finished claims and cases give
/// their memory back and indices stay small.
#[derive(Debug)]
pub(crate) struct Slab<T> {
    slots: Vec<Option<T>>,
    free: Vec<u32>,
}

impl<T> Default for Slab<T> {
    fn default() -> Self {
        Self {
            slots: Vec::new(),
            free: Vec::new(),
        }
    }
}

impl<T> Slab<T> {
    pub(crate) fn insert(&mut self, value: T) -> u32 {
        if let Some(index) = self.free.pop() {
            self.slots[usize::try_from(index).unwrap_or(0)] = Some(value);
            return index;
        }
        self.slots.push(Some(value));
        u32::try_from(self.slots.len() - 1).expect("fewer than 2^32 open items")
    }

    pub(crate) fn get_mut(&mut self, index: u32) -> Option<&mut T> {
        self.slots.get_mut(usize::try_from(index).ok()?)?.as_mut()
    }

    pub(crate) fn remove(&mut self, index: u32) -> Option<T> {
        let value = self.slots.get_mut(usize::try_from(index).ok()?)?.take();
        if value.is_some() {
            self.free.push(index);
        }
        value
    }
}

/// Where a claim is in its flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ClaimStage {
    Survey,
    Documents,
    Decision,
    SatisfactionCall,
    Reopen,
}

#[derive(Debug)]
pub(crate) struct Claim {
    pub(crate) number: ClaimNumber,
    pub(crate) customer: u32,
    pub(crate) loss: crate::names::LossKind,
    pub(crate) assessed_fen: i64,
    pub(crate) guarantee_days: i64,
    pub(crate) documents: Vec<ledger_domain::kinds::ClaimDocument>,
    pub(crate) documents_completed_at: i64,
    pub(crate) stage: ClaimStage,
    pub(crate) reject: bool,
    pub(crate) late: bool,
    pub(crate) reopened: bool,
    /// Decided at the decision: the claim will be reopened later.
    pub(crate) will_reopen: bool,
    pub(crate) small: bool,
    pub(crate) direct_payment: bool,
}

/// Where a service case is in its flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CaseStage {
    Assign,
    Escalate,
    Survey,
    FollowUp(u16),
    Resolve,
    Close,
    Reopen,
}

#[derive(Debug)]
pub(crate) struct Case {
    pub(crate) id: CaseId,
    pub(crate) customer: u32,
    pub(crate) kind: ServiceCaseKind,
    pub(crate) priority: Priority,
    pub(crate) opened_at: i64,
    pub(crate) deadline: i64,
    pub(crate) assignee: Option<StaffId>,
    pub(crate) escalations: u16,
    pub(crate) stage: CaseStage,
    pub(crate) will_escalate: bool,
    pub(crate) will_reopen: bool,
    pub(crate) reopened: bool,
    pub(crate) late: bool,
    pub(crate) recommendations: u16,
    pub(crate) recommendation_due: Vec<i64>,
}

/// An online enquiry awaiting its call-back.
#[derive(Debug)]
pub(crate) struct Enquiry {
    pub(crate) id: EnquiryId,
    pub(crate) customer: Option<u32>,
    pub(crate) name: Option<PersonName>,
    pub(crate) mobile: Mobile,
    pub(crate) plate: Option<Plate>,
    pub(crate) campaign: Option<CampaignId>,
    pub(crate) region: usize,
}

/// A campaign's plan and running figures.
#[derive(Debug)]
pub(crate) struct Campaign {
    pub(crate) id: CampaignId,
    pub(crate) template: usize,
    pub(crate) year: i64,
    pub(crate) start_day: i64,
    pub(crate) end_day: i64,
    pub(crate) budget: i64,
    pub(crate) cost: i64,
    pub(crate) touches: u64,
    pub(crate) touches_since_cost: u64,
    pub(crate) responses: u64,
    pub(crate) premium_won: i64,
    pub(crate) launched: bool,
    pub(crate) closed: bool,
    pub(crate) owner: usize,
}

/// A business process's published state.
#[derive(Debug)]
pub(crate) struct ProcessState {
    pub(crate) id: ledger_domain::ids::ProcessId,
    pub(crate) version: u32,
    pub(crate) links: Vec<ledger_domain::ids::ProcessId>,
}

/// Everything the simulation knows.
#[derive(Debug)]
pub(crate) struct World {
    pub(crate) rng: Rng,
    pub(crate) now: i64,
    pub(crate) start: i64,
    pub(crate) end: i64,
    queue: BinaryHeap<Reverse<Entry>>,
    sequence: u64,
    pub(crate) issuer: Issuer,
    pub(crate) staff: Staff,
    pub(crate) customers: Vec<Customer>,
    pub(crate) policies: Vec<Policy>,
    pub(crate) claims: Slab<Claim>,
    pub(crate) cases: Slab<Case>,
    pub(crate) enquiries: Slab<Enquiry>,
    pub(crate) campaigns: Vec<Campaign>,
    pub(crate) processes: Vec<ProcessState>,
    /// Group companies named so far (for distinct names).
    pub(crate) group_companies: usize,
    coverage: Option<[bool; RARE_KINDS]>,
}

impl World {
    pub(crate) fn new(seed: u64, start: i64, end: i64, staff: Staff, coverage: bool) -> Self {
        Self {
            rng: Rng::new(seed),
            now: start,
            start,
            end,
            queue: BinaryHeap::new(),
            sequence: 0,
            issuer: Issuer::default(),
            staff,
            customers: Vec::new(),
            policies: Vec::new(),
            claims: Slab::default(),
            cases: Slab::default(),
            enquiries: Slab::default(),
            campaigns: Vec::new(),
            processes: Vec::new(),
            group_companies: 0,
            coverage: coverage.then_some([false; RARE_KINDS]),
        }
    }

    /// Runs actions until the next event is at the front, and returns it; `None` when the
    /// history is complete.
    pub(crate) fn next_event(&mut self) -> Option<SyntheticEvent> {
        while let Some(Reverse(entry)) = self.queue.pop() {
            match entry.item {
                Item::Event(event, customer) => {
                    if let Some(customer) = customer {
                        let queued = &mut self.customers[index(customer)].queued;
                        *queued = queued.saturating_sub(1);
                    }
                    return Some(*event);
                }
                Item::Action(action) => {
                    self.now = entry.at;
                    self.run(action);
                }
            }
        }
        None
    }

    /// Pending entries (for the memory figures in the docs and tests).
    pub(crate) fn pending(&self) -> usize {
        self.queue.len()
    }

    fn push(&mut self, at: i64, item: Item) {
        self.sequence += 1;
        self.queue.push(Reverse(Entry {
            at,
            sequence: self.sequence,
            item,
        }));
    }

    /// Schedules `action` at `at` (not before now); work past the end of the history is
    /// dropped, because nothing it could produce would be inside the history.
    pub(crate) fn schedule(&mut self, at: i64, action: Action) {
        let at = at.max(self.now);
        if at <= self.end {
            self.push(at, Item::Action(action));
        }
    }

    /// Emits `event` at `at` (not before now) by `actor`; `customer` is the customer whose
    /// stream or matters it concerns, so merges and erasures can wait for it. Returns whether
    /// the event is inside the history.
    pub(crate) fn emit(
        &mut self,
        at: i64,
        actor: &StaffId,
        customer: Option<u32>,
        event: impl Into<Event>,
    ) -> bool {
        let at = at.max(self.now);
        if at > self.end {
            return false;
        }
        let event = event.into();
        debug_assert!(
            event.validate().is_ok(),
            "{event:?}: {:?}",
            event.validate()
        );
        let synthetic = SyntheticEvent {
            stream: event.stream(),
            event_id: EventId::from_uuid(issuer::uuid_at(&mut self.rng, at)),
            occurred_at: clock::timestamp(at),
            actor: actor.clone(),
            event,
        };
        if let Some(customer) = customer {
            self.customers[index(customer)].queued += 1;
        }
        self.push(at, Item::Event(Box::new(synthetic), customer));
        true
    }

    /// Draws what [`World::emit`] would draw for an event at `at` that is not recorded after
    /// all, so every later draw of the seed stays as it was.
    pub(crate) fn skip_emit(&mut self, at: i64) {
        let at = at.max(self.now);
        if at <= self.end {
            let _ = issuer::uuid_at(&mut self.rng, at);
        }
    }

    /// Whether a rare outcome happens: with `probability`, or always at its first
    /// opportunity in a coverage run.
    ///
    /// An erasure can be put off (the customer is busy) and then miss the end of the history,
    /// so a coverage run keeps forcing erasures until one is recorded ([`World::covered`]).
    pub(crate) fn rare(&mut self, probability: f64, kind: Rare) -> bool {
        let forced = match &mut self.coverage {
            Some(done) if !done[kind.index()] => {
                if kind != Rare::Erasure {
                    done[kind.index()] = true;
                }
                true
            }
            _ => false,
        };
        forced || self.rng.chance(probability)
    }

    /// Records that a rare outcome has happened (see [`World::rare`]).
    pub(crate) fn covered(&mut self, kind: Rare) {
        if let Some(done) = &mut self.coverage {
            done[kind.index()] = true;
        }
    }

    pub(crate) fn is_coverage_run(&self) -> bool {
        self.coverage.is_some()
    }

    /// A fresh aggregate or contact id for an instant.
    pub(crate) fn uuid(&mut self, at: i64) -> uuid::Uuid {
        issuer::uuid_at(&mut self.rng, at)
    }

    pub(crate) fn customer(&self, customer: u32) -> &Customer {
        &self.customers[index(customer)]
    }

    pub(crate) fn customer_mut(&mut self, customer: u32) -> &mut Customer {
        &mut self.customers[index(customer)]
    }

    pub(crate) fn policy(&self, policy: u32) -> &Policy {
        &self.policies[index(policy)]
    }

    pub(crate) fn policy_mut(&mut self, policy: u32) -> &mut Policy {
        &mut self.policies[index(policy)]
    }

    pub(crate) fn is_live(&self, customer: u32) -> bool {
        self.customer(customer).is_live()
    }

    /// The Beijing day number of now.
    pub(crate) fn today(&self) -> i64 {
        clock::local_day(self.now)
    }

    /// A satisfaction experience: the mood drifts back towards the customer's disposition and
    /// then moves by `change` (negative for a bad experience).
    pub(crate) fn experience(&mut self, customer: u32, change: f64) {
        let customer = self.customer_mut(customer);
        customer.mood += 0.25 * (customer.disposition - customer.mood) + change;
        customer.mood = customer.mood.clamp(1.0, 5.0);
    }

    /// A business-hours moment `min_days` to `max_days` days from now.
    pub(crate) fn business_moment_in(&mut self, min_days: i64, max_days: i64) -> i64 {
        let day = self.today() + self.rng.range(min_days, max_days);
        let at = clock::business_moment_on(&mut self.rng, day);
        at.max(self.now)
    }

    fn run(&mut self, action: Action) {
        match action {
            Action::Join(customer) => self.join(customer),
            Action::CustomerTick(customer) => self.customer_tick(customer),
            Action::ManagerTouch(customer) => self.manager_touch(customer),
            Action::RiskSurveyDue(customer) => self.risk_survey_due(customer),
            Action::DuplicateRegistration(original) => self.register_duplicate(original),
            Action::Merge(duplicate, attempts) => self.merge(duplicate, attempts),
            Action::Erase(customer, attempts) => self.erase(customer, attempts),
            Action::IssuePolicy(policy) => self.issue_policy(policy),
            Action::RenewalDue(policy) => self.renewal_due(policy),
            Action::Renew(policy) => self.renew(policy),
            Action::Lapse(policy) => self.lapse(policy),
            Action::MidTerm(policy) => self.mid_term(policy),
            Action::NextLoss(policy) => self.next_loss(policy),
            Action::ClaimStep(claim) => self.claim_step(claim),
            Action::CaseStep(case) => self.case_step(case),
            Action::ProspectEnquiry => self.prospect_enquiry(),
            Action::EnquiryCallback(enquiry) => self.enquiry_callback(enquiry),
            Action::EraseEnquiry(enquiry) => self.erase_enquiry(enquiry),
            Action::CampaignLaunch(campaign) => self.launch_campaign(campaign),
            Action::CampaignTouch(campaign, customer) => self.campaign_touch(campaign, customer),
            Action::CampaignRespond(campaign, customer) => {
                self.campaign_respond(campaign, customer);
            }
            Action::CampaignCost(campaign) => self.campaign_cost(campaign),
            Action::CampaignClose(campaign) => self.close_campaign(campaign),
            Action::ManagerLeaves => self.manager_leaves(),
            Action::ProcessRevision => self.revise_process(),
        }
    }
}

/// A `u32` index as a `usize` (every platform this builds on has at least 32-bit pointers).
pub(crate) fn index(value: u32) -> usize {
    usize::try_from(value).expect("u32 indices fit in usize")
}

/// A `usize` index as a `u32` (the world never holds 2^32 of anything).
pub(crate) fn small(value: usize) -> u32 {
    u32::try_from(value).expect("fewer than 2^32 items")
}

/// Free text written by the generator (always within the rules).
pub(crate) fn text(value: &str) -> FreeText {
    FreeText::parse("text", value).expect("synthetic texts follow the rules")
}

pub(crate) fn person_name(value: &str) -> PersonName {
    PersonName::parse("name", value).expect("synthetic names follow the rules")
}

/// The bit of a channel in a consent mask.
pub(crate) fn channel_bit(channel: Channel) -> u16 {
    let position = Channel::ALL
        .iter()
        .position(|candidate| *candidate == channel)
        .unwrap_or(0);
    1 << position
}

/// Yuan as fen.
pub(crate) fn fen(yuan: i64) -> i64 {
    yuan.saturating_mul(100)
}

/// A whole number of days as seconds.
pub(crate) fn days(count: i64) -> i64 {
    count * DAY
}
