//! The fold: [`Performance`] turns contacts, satisfaction answers, account-manager
//! assignments and policy sales into per-day and per-month figures per agent and per account
//! manager, and keeps each customer's assignments and CSAT answers for the handover view.
//!
//! A contact's share of the figures (its "contributions") is derived from its stored record
//! alone. Every change to a contact (recorded, corrected, rated) recomputes its contributions
//! before and after and moves the difference between buckets, so a correction or a late
//! rating lands where a rebuild would put it.

use std::collections::BTreeMap;

use jiff::civil::Date;
use jiff::{SignedDuration, Timestamp};
use ledger_domain::events::{
    AccountManagerAssigned, ContactCorrected, ContactRecorded, Event, PolicyCancelled,
    SatisfactionRecorded,
};
use ledger_domain::ids::{ContactId, CustomerId, Position, StaffId};
use ledger_domain::kinds::ContactOutcome;
use ledger_domain::projection::{Envelope, Order, Projection, StateError, StateWrite};
use ledger_domain::values::{Channel, Money, PolicyNumber, Topic};
use serde::{Deserialize, Serialize};

use crate::keys::{self, Role};
use crate::records::{CsatAnswer, Figures, beijing_date, saturating_add};
use crate::storage::{STATE, walk_range};

/// How long after a sale-closing contact started a policy sold to its customer is still
/// credited to the contact's agent: 30 days, the validity of a motor quote and about the
/// span of a renewal drive.
pub const SALE_ATTRIBUTION_DAYS: i64 = 30;

/// The performance projection: a pure fold over the log, with no configuration.
#[derive(Debug, Clone, Copy, Default)]
pub struct Performance;

impl Performance {
    /// The projection's stable name: its keyspace, its checkpoint, its name on the CLI.
    pub const NAME: &'static str = "performance";

    /// The layout version of what `apply` writes; bump it when the layout or a derivation
    /// changes, so the runner rebuilds.
    pub const VERSION: u32 = 3;
}

impl Projection for Performance {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    fn version(&self) -> u32 {
        Self::VERSION
    }

    fn apply(&self, envelope: &Envelope<'_>, state: &mut dyn StateWrite) -> Result<(), StateError> {
        let (at, position) = (envelope.occurred_at, envelope.position);
        match envelope.event {
            Event::ContactRecorded(event) => contact(state, ContactFacts::recorded(event)),
            Event::ContactCorrected(event) => contact(state, ContactFacts::corrected(event)),
            Event::SatisfactionRecorded(event) => satisfaction(state, at, position, event),
            Event::AccountManagerAssigned(event) => assigned(state, at, position, event),
            Event::PolicyIssued(event) => {
                let sale = Sale::new(event.customer_id, &event.policy_number, event.premium);
                sold(state, at, position, &sale)
            }
            Event::PolicyRenewed(event) => {
                let sale = Sale::new(event.customer_id, &event.policy_number, event.premium);
                sold(state, at, position, &sale)
            }
            Event::PolicyCancelled(event) => cancelled(state, at, event),
            _ => Ok(()),
        }
    }
}

/// Whether `staff` is a person: systems (`system:web` for self-service) handle no contacts
/// and make no sales in these figures.
fn is_person(staff: &StaffId) -> bool {
    !staff.as_str().starts_with("system:")
}

/// The facts of a contact that the figures use, as recorded or as corrected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct ContactFacts {
    contact: ContactId,
    customer: CustomerId,
    agent: StaffId,
    started_at: Timestamp,
    channel: Channel,
    topic: Topic,
    outcome: ContactOutcome,
    duration_seconds: u32,
}

impl ContactFacts {
    fn recorded(event: &ContactRecorded) -> Self {
        Self {
            contact: event.contact_id,
            customer: event.customer_id,
            agent: event.agent.clone(),
            started_at: event.started_at,
            channel: event.channel,
            topic: event.topic,
            outcome: event.outcome,
            duration_seconds: event.duration_seconds,
        }
    }

    fn corrected(event: &ContactCorrected) -> Self {
        Self {
            contact: event.contact_id,
            customer: event.customer_id,
            agent: event.agent.clone(),
            started_at: event.started_at,
            channel: event.channel,
            topic: event.topic,
            outcome: event.outcome,
            duration_seconds: event.duration_seconds,
        }
    }

    /// A contact that closed a sale: a renewal or quote conversation by a person, converted.
    fn closes_a_sale(&self) -> bool {
        self.outcome == ContactOutcome::Converted
            && matches!(self.topic, Topic::Renewal | Topic::Quote)
            && is_person(&self.agent)
    }
}

/// What the projection keeps of a contact: its facts (absent while only a rating of it was
/// folded), the customer's account manager when it started, and the CSAT answers about it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
struct ContactRecord {
    facts: Option<ContactFacts>,
    manager: Option<StaffId>,
    csat_sum: u64,
    csat_answers: u64,
}

/// One share of the figures: `figures` added to `staff`'s bucket of `day` in `role`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Contribution {
    role: Role,
    staff: StaffId,
    day: Date,
    figures: Figures,
}

/// A contact's shares: the agent's (the work and the CSAT answers about it) and the account
/// manager's (the work done for a customer in their book), on the day the contact started.
fn contributions(record: &ContactRecord) -> Vec<Contribution> {
    let Some(facts) = &record.facts else {
        return Vec::new();
    };
    if !is_person(&facts.agent) {
        return Vec::new();
    }
    let day = beijing_date(facts.started_at);
    let work = Figures {
        contacts_by_channel: BTreeMap::from([(facts.channel, 1)]),
        handling_seconds: u64::from(facts.duration_seconds),
        complaints: u64::from(facts.topic == Topic::Complaint),
        converted_contacts: u64::from(facts.outcome == ContactOutcome::Converted),
        ..Figures::default()
    };
    let mut shares = Vec::with_capacity(2);
    if let Some(manager) = &record.manager {
        shares.push(Contribution {
            role: Role::Manager,
            staff: manager.clone(),
            day,
            figures: work.clone(),
        });
    }
    shares.push(Contribution {
        role: Role::Agent,
        staff: facts.agent.clone(),
        day,
        figures: Figures {
            csat_sum: record.csat_sum,
            csat_answers: record.csat_answers,
            ..work
        },
    });
    shares
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sign {
    Add,
    Subtract,
}

/// Adds `figures` to (or takes them from) `staff`'s day and month buckets in `role`. A bucket
/// that goes back to nothing is deleted, so it is the same as one never written.
fn bucket(
    state: &mut dyn StateWrite,
    role: Role,
    staff: &StaffId,
    day: Date,
    figures: &Figures,
    sign: Sign,
) -> Result<(), StateError> {
    for key in [
        keys::day_bucket(role, staff, day),
        keys::month_bucket(role, staff, day),
    ] {
        let mut total: Figures = STATE.read(state, &key)?.unwrap_or_default();
        match sign {
            Sign::Add => total.add(figures),
            Sign::Subtract => total.subtract(figures),
        }
        if total.is_zero() {
            state.delete(&key);
        } else {
            STATE.write(state, key, &total)?;
        }
    }
    if sign == Sign::Add {
        state.put(keys::staff_index(role, staff), Vec::new());
    }
    Ok(())
}

/// Moves the difference between a record's shares `before` and `after` a change.
fn change(
    state: &mut dyn StateWrite,
    before: &[Contribution],
    after: &[Contribution],
) -> Result<(), StateError> {
    for share in before.iter().filter(|share| !after.contains(share)) {
        let Contribution {
            role,
            staff,
            day,
            figures,
        } = share;
        bucket(state, *role, staff, *day, figures, Sign::Subtract)?;
    }
    for share in after.iter().filter(|share| !before.contains(share)) {
        let Contribution {
            role,
            staff,
            day,
            figures,
        } = share;
        bucket(state, *role, staff, *day, figures, Sign::Add)?;
    }
    Ok(())
}

/// Loads a contact's record, lets `edit` change it, and moves its shares accordingly.
fn update_contact(
    state: &mut dyn StateWrite,
    contact: ContactId,
    edit: impl FnOnce(&mut ContactRecord),
) -> Result<(), StateError> {
    let key = keys::contact(contact);
    let mut record: ContactRecord = STATE.read(state, &key)?.unwrap_or_default();
    let before = contributions(&record);
    edit(&mut record);
    let after = contributions(&record);
    change(state, &before, &after)?;
    STATE.write(state, key, &record)
}

fn contact(state: &mut dyn StateWrite, facts: ContactFacts) -> Result<(), StateError> {
    let manager = manager_at(state, facts.customer, facts.started_at)?;
    update_contact(state, facts.contact, |record| {
        record.facts = Some(facts.clone());
        record.manager = manager;
    })?;
    if facts.closes_a_sale() {
        sale_closed(state, &facts)?;
    }
    Ok(())
}

/// The customer's account manager at `at`, from the assignments folded so far. A contact
/// usually comes after the customer's latest assignment, whose manager is then the answer
/// (one point read); only a fact dated before it walks the assignments back from `at`.
fn manager_at(
    state: &dyn StateWrite,
    customer: CustomerId,
    at: Timestamp,
) -> Result<Option<StaffId>, StateError> {
    let latest: Option<LatestAssignment> = STATE.read(state, &keys::latest_assignment(customer))?;
    match latest {
        // No assignment at all: every assignment writes the latest.
        None => return Ok(None),
        Some(latest) if latest.at <= at => return Ok(Some(latest.manager)),
        Some(_) => {}
    }
    let start = keys::customer_entries(keys::ASSIGNMENT, customer);
    let end = through(keys::ASSIGNMENT, customer, at);
    let Some((key, value)) = state
        .range(&start, &end, Order::Descending, 1)?
        .into_iter()
        .next()
    else {
        return Ok(None);
    };
    let assignment: Assignment = ledger_domain::codec::decode(&value).map_err(|error| {
        StateError(format!(
            "performance: {}: {error}",
            crate::storage::describe(&key)
        ))
    })?;
    Ok(Some(assignment.manager))
}

/// The first key after every `{prefix}{customer}/{instant}{position}` entry at or before `at`.
fn through(prefix: &[u8], customer: CustomerId, at: Timestamp) -> Vec<u8> {
    let mut key = keys::customer_at(prefix, customer, at);
    // Above every 8-byte position that follows the instant.
    key.extend_from_slice(&[0xff; 9]);
    key
}

/// One account-manager assignment, kept per customer under the instant it occurred.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Assignment {
    pub at: Timestamp,
    pub manager: StaffId,
    pub team_lead: StaffId,
    pub previous_manager: Option<StaffId>,
}

/// The instant and manager of a customer's assignment with the greatest key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct LatestAssignment {
    at: Timestamp,
    manager: StaffId,
}

fn assigned(
    state: &mut dyn StateWrite,
    at: Timestamp,
    position: Position,
    event: &AccountManagerAssigned,
) -> Result<(), StateError> {
    let assignment = Assignment {
        at,
        manager: event.manager.clone(),
        team_lead: event.team_lead.clone(),
        previous_manager: event.previous_manager.clone(),
    };
    let key = keys::customer_entry(keys::ASSIGNMENT, event.customer_id, at, position);
    STATE.write(state, key, &assignment)?;
    // Keys order assignments by instant, then position; positions only grow as the fold goes,
    // so this one has the greatest key unless an earlier-folded one is dated after it.
    let latest_key = keys::latest_assignment(event.customer_id);
    let latest: Option<LatestAssignment> = STATE.read(state, &latest_key)?;
    if latest.is_none_or(|latest| latest.at <= at) {
        let manager = event.manager.clone();
        STATE.write(state, latest_key, &LatestAssignment { at, manager })?;
    }
    state.put(keys::staff_index(Role::Manager, &event.manager), Vec::new());
    Ok(())
}

fn satisfaction(
    state: &mut dyn StateWrite,
    at: Timestamp,
    position: Position,
    event: &SatisfactionRecorded,
) -> Result<(), StateError> {
    let Some(csat) = event.csat else {
        return Ok(());
    };
    let score = csat.get();
    let key = keys::customer_entry(keys::CSAT, event.customer_id, at, position);
    STATE.write(state, key, &CsatAnswer { score })?;
    if let Some(manager) = manager_at(state, event.customer_id, at)? {
        let answer = Figures {
            csat_sum: u64::from(score),
            csat_answers: 1,
            ..Figures::default()
        };
        bucket(
            state,
            Role::Manager,
            &manager,
            beijing_date(at),
            &answer,
            Sign::Add,
        )?;
    }
    if let Some(contact) = event.contact_id {
        update_contact(state, contact, |record| {
            record.csat_sum = record.csat_sum.saturating_add(u64::from(score));
            record.csat_answers = record.csat_answers.saturating_add(1);
        })?;
    }
    Ok(())
}

/// The latest sale-closing contact of a customer, whose agent later sales are credited to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct SaleCandidate {
    agent: StaffId,
    started_at: Timestamp,
}

/// A sale nobody could be credited with when it was folded; a sale-closing contact folded
/// later that started at most [`SALE_ATTRIBUTION_DAYS`] before it takes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct UnattributedSale {
    at: Timestamp,
    premium: Money,
    policy: PolicyNumber,
    /// The policy's cancellation, when it came while the sale still waited: credited with the
    /// sale to whoever takes it.
    refund: Option<Refund>,
}

/// A cancellation's share of a member of staff's figures: when, and the premium returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
struct Refund {
    at: Timestamp,
    amount: Money,
}

/// Who was credited with a policy's latest sale (issue or renewal) and what it won: a
/// cancellation of the policy shows its refund against the same staff. Replaced by each sale
/// of the policy, removed by its cancellation (so a repeat counts once).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct PolicyCredit {
    premium: Money,
    manager: Option<StaffId>,
    seller: Seller,
}

/// The agent (or account manager) credited with a sale as a seller.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
enum Seller {
    Staff(StaffId),
    /// Nobody yet: the sale waits under this `unattributed/` key.
    Waiting(Vec<u8>),
}

/// One policy sale: the customer, the policy and the premium it won.
struct Sale<'a> {
    customer: CustomerId,
    policy: &'a PolicyNumber,
    premium: Money,
}

impl<'a> Sale<'a> {
    fn new(customer: CustomerId, policy: &'a PolicyNumber, premium: Money) -> Self {
        Self {
            customer,
            policy,
            premium,
        }
    }
}

fn attribution_window() -> SignedDuration {
    SignedDuration::from_hours(SALE_ATTRIBUTION_DAYS * 24)
}

fn sale_figures(premium: Money) -> Figures {
    Figures {
        conversions: 1,
        premium_won: premium,
        ..Figures::default()
    }
}

fn refund_figures(amount: Money) -> Figures {
    Figures {
        cancellations: 1,
        premium_refunded: amount,
        ..Figures::default()
    }
}

fn sold(
    state: &mut dyn StateWrite,
    at: Timestamp,
    position: Position,
    sale: &Sale<'_>,
) -> Result<(), StateError> {
    let figures = sale_figures(sale.premium);
    let day = beijing_date(at);
    let manager = manager_at(state, sale.customer, at)?;
    if let Some(manager) = &manager {
        bucket(state, Role::Manager, manager, day, &figures, Sign::Add)?;
    }
    let seller = match &manager {
        Some(manager) => Some(manager.clone()),
        None => {
            let candidate: Option<SaleCandidate> =
                STATE.read(state, &keys::sale_candidate(sale.customer))?;
            candidate
                .filter(|candidate| {
                    candidate.started_at <= at
                        && at <= saturating_add(candidate.started_at, attribution_window())
                })
                .map(|candidate| candidate.agent)
        }
    };
    let seller = match seller {
        Some(seller) => {
            bucket(state, Role::Agent, &seller, day, &figures, Sign::Add)?;
            Seller::Staff(seller)
        }
        None => {
            let key = keys::customer_entry(keys::UNATTRIBUTED, sale.customer, at, position);
            let waiting = UnattributedSale {
                at,
                premium: sale.premium,
                policy: sale.policy.clone(),
                refund: None,
            };
            STATE.write(state, key.clone(), &waiting)?;
            Seller::Waiting(key)
        }
    };
    let credit = PolicyCredit {
        premium: sale.premium,
        manager,
        seller,
    };
    STATE.write(state, keys::policy_credit(sale.policy), &credit)
}

/// A cancelled policy: its refund (at most what its latest sale won) is shown, on the day of
/// the cancellation, against the staff credited with that sale; a sale still waiting for its
/// seller carries the refund to whoever takes it.
fn cancelled(
    state: &mut dyn StateWrite,
    at: Timestamp,
    event: &PolicyCancelled,
) -> Result<(), StateError> {
    let key = keys::policy_credit(&event.policy_number);
    let Some(credit) = STATE.read::<PolicyCredit, _>(state, &key)? else {
        return Ok(());
    };
    state.delete(&key);
    let refund = Refund {
        at,
        amount: Money::from_fen(event.refund.fen().clamp(0, credit.premium.fen().max(0))),
    };
    let figures = refund_figures(refund.amount);
    let day = beijing_date(at);
    if let Some(manager) = &credit.manager {
        bucket(state, Role::Manager, manager, day, &figures, Sign::Add)?;
    }
    match credit.seller {
        Seller::Staff(seller) => bucket(state, Role::Agent, &seller, day, &figures, Sign::Add),
        Seller::Waiting(waiting_key) => {
            let Some(mut waiting) = STATE.read::<UnattributedSale, _>(state, &waiting_key)? else {
                return Ok(());
            };
            waiting.refund = Some(refund);
            STATE.write(state, waiting_key, &waiting)
        }
    }
}

/// Remembers a sale-closing contact and credits its agent with the customer's sales that
/// were folded earlier without anyone to credit and happened within the window after it.
fn sale_closed(state: &mut dyn StateWrite, facts: &ContactFacts) -> Result<(), StateError> {
    let key = keys::sale_candidate(facts.customer);
    let current: Option<SaleCandidate> = STATE.read(state, &key)?;
    if current.is_none_or(|current| current.started_at <= facts.started_at) {
        let candidate = SaleCandidate {
            agent: facts.agent.clone(),
            started_at: facts.started_at,
        };
        STATE.write(state, key, &candidate)?;
    }
    let start = keys::customer_at(keys::UNATTRIBUTED, facts.customer, facts.started_at);
    let window_end = saturating_add(facts.started_at, attribution_window());
    let end = through(keys::UNATTRIBUTED, facts.customer, window_end);
    for (key, value) in walk_range(state, &start, &end)? {
        let sale: UnattributedSale = ledger_domain::codec::decode(&value).map_err(|error| {
            StateError(format!(
                "performance: {}: {error}",
                crate::storage::describe(&key)
            ))
        })?;
        let figures = sale_figures(sale.premium);
        bucket(
            state,
            Role::Agent,
            &facts.agent,
            beijing_date(sale.at),
            &figures,
            Sign::Add,
        )?;
        if let Some(refund) = sale.refund {
            let figures = refund_figures(refund.amount);
            let day = beijing_date(refund.at);
            bucket(state, Role::Agent, &facts.agent, day, &figures, Sign::Add)?;
        }
        // The policy's credit now names the agent, unless a later sale or the cancellation
        // replaced or removed it.
        let credit_key = keys::policy_credit(&sale.policy);
        if let Some(mut credit) = STATE.read::<PolicyCredit, _>(state, &credit_key)?
            && credit.seller == Seller::Waiting(key.clone())
        {
            credit.seller = Seller::Staff(facts.agent.clone());
            STATE.write(state, credit_key, &credit)?;
        }
        state.delete(&key);
    }
    Ok(())
}
