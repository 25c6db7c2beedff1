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
use ledger_domain::projection::{Envelope, Order, Projection, StateError, StateWrite, prefix_end};
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
    pub const VERSION: u32 = 5;
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

/// A contact recorded or corrected: its shares move to its facts as they stand now, and so
/// does the credit of the sales it closed (see [`sale_closer_changed`]).
fn contact(state: &mut dyn StateWrite, facts: ContactFacts) -> Result<(), StateError> {
    let manager = manager_at(state, facts.customer, facts.started_at)?;
    let mut previous = None;
    update_contact(state, facts.contact, |record| {
        previous = record.facts.replace(facts.clone());
        record.manager = manager;
    })?;
    let was_closer = previous
        .as_ref()
        .filter(|previous| previous.closes_a_sale())
        .map(Closer::of);
    let closer = facts.closes_a_sale().then(|| Closer::of(&facts));
    // A correction of the contact's duration, channel or CSAT changes no sale's credit.
    if was_closer != closer {
        sale_closer_changed(state, facts.customer, was_closer.as_ref(), closer.as_ref())?;
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
    let assignment: Assignment = decode(&key, &value)?;
    Ok(Some(assignment.manager))
}

/// The first key after every `{prefix}{customer}/{instant}...` entry at or before `at`,
/// whatever follows the instant.
fn through(prefix: &[u8], customer: CustomerId, at: Timestamp) -> Vec<u8> {
    let at = keys::customer_at(prefix, customer, at);
    // The key holds the customer id and a `/`, so it is not all 0xff bytes and has an end.
    prefix_end(&at).unwrap_or(at)
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

/// A sale-closing contact as a seller: its agent, when it started and its id. Of two such
/// contacts the later is the one that started later, or, at the same instant, the one with
/// the greater id: a total order, so which contact a sale is credited to does not depend on
/// the order they were folded in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Closer {
    agent: StaffId,
    started_at: Timestamp,
    contact: ContactId,
}

impl Closer {
    fn of(facts: &ContactFacts) -> Self {
        Self {
            agent: facts.agent.clone(),
            started_at: facts.started_at,
            contact: facts.contact,
        }
    }

    /// The contact's place in the order of sale-closing contacts (see [`Closer`]).
    fn order(&self) -> (Timestamp, ContactId) {
        (self.started_at, self.contact)
    }

    /// Whether a sale at `at` can be credited to this contact: it started at most
    /// [`SALE_ATTRIBUTION_DAYS`] before the sale, and not after it.
    fn can_take(&self, at: Timestamp) -> bool {
        self.started_at <= at && at <= saturating_add(self.started_at, attribution_window())
    }
}

/// A policy sale as the projection keeps it while its seller may still change: when, its log
/// position (with the instant, its key), the premium it won, the policy, and the policy's
/// cancellation when it was credited along with the sale.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct KeptSale {
    at: Timestamp,
    position: Position,
    premium: Money,
    policy: PolicyNumber,
    /// The policy's cancellation, when it came while this was the policy's latest sale: it
    /// goes with the sale to whoever takes it.
    refund: Option<Refund>,
}

/// A sale credited to a sale-closing contact's agent (`creditedsale/`): a contact folded (or
/// corrected) later that is later than `closer` (see [`Closer`]) and can take the sale takes
/// it, figures, refund and all; a correction of `closer`'s contact credits it again. `closer`
/// is always the contact as it stands now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct CreditedSale {
    sale: KeptSale,
    closer: Closer,
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

/// Who is credited with a sale as its seller.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
enum Seller {
    /// The customer's account manager (rule 1): never moves.
    Staff(StaffId),
    /// The agent of a sale-closing contact: the closer of the [`CreditedSale`] under this
    /// `creditedsale/` key, who changes when a later contact takes the sale.
    Contact(Vec<u8>),
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

/// Adds a kept sale, and its refund if it has one, to (or takes them from) `agent`'s figures:
/// the sale on its day, the refund on the day of the cancellation.
fn credit_agent(
    state: &mut dyn StateWrite,
    agent: &StaffId,
    sale: &KeptSale,
    sign: Sign,
) -> Result<(), StateError> {
    let figures = sale_figures(sale.premium);
    bucket(
        state,
        Role::Agent,
        agent,
        beijing_date(sale.at),
        &figures,
        sign,
    )?;
    if let Some(refund) = sale.refund {
        let figures = refund_figures(refund.amount);
        let day = beijing_date(refund.at);
        bucket(state, Role::Agent, agent, day, &figures, sign)?;
    }
    Ok(())
}

/// The customer's latest sale-closing contact (see [`Closer`]) that started at or before
/// `at`, among those folded so far: one range read.
fn latest_closer(
    state: &dyn StateWrite,
    customer: CustomerId,
    at: Timestamp,
) -> Result<Option<Closer>, StateError> {
    let start = keys::customer_entries(keys::SALE_CANDIDATE, customer);
    let end = through(keys::SALE_CANDIDATE, customer, at);
    let Some((key, value)) = state
        .range(&start, &end, Order::Descending, 1)?
        .into_iter()
        .next()
    else {
        return Ok(None);
    };
    decode(&key, &value).map(Some)
}

/// Decodes a value read by a range read, naming its key when it fails.
fn decode<T: serde::de::DeserializeOwned>(key: &[u8], value: &[u8]) -> Result<T, StateError> {
    ledger_domain::codec::decode(value).map_err(|error| {
        StateError(format!(
            "performance: {}: {error}",
            crate::storage::describe(key)
        ))
    })
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
    let kept = KeptSale {
        at,
        position,
        premium: sale.premium,
        policy: sale.policy.clone(),
        refund: None,
    };
    let seller = if let Some(manager) = &manager {
        bucket(state, Role::Manager, manager, day, &figures, Sign::Add)?;
        bucket(state, Role::Agent, manager, day, &figures, Sign::Add)?;
        Seller::Staff(manager.clone())
    } else if let Some(closer) =
        latest_closer(state, sale.customer, at)?.filter(|closer| closer.can_take(at))
    {
        credit_agent(state, &closer.agent, &kept, Sign::Add)?;
        let key = keys::customer_entry(keys::CREDITED_SALE, sale.customer, at, position);
        let credited = CreditedSale { sale: kept, closer };
        STATE.write(state, key.clone(), &credited)?;
        Seller::Contact(key)
    } else {
        let key = keys::customer_entry(keys::UNATTRIBUTED, sale.customer, at, position);
        STATE.write(state, key.clone(), &kept)?;
        Seller::Waiting(key)
    };
    let credit = PolicyCredit {
        premium: sale.premium,
        manager,
        seller,
    };
    STATE.write(state, keys::policy_credit(sale.policy), &credit)
}

/// A cancelled policy: its refund (at most what its latest sale won) is shown, on the day of
/// the cancellation, against the staff credited with that sale; a sale whose seller may still
/// change (a contact's, or one still waiting) carries the refund to whoever takes it.
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
        Seller::Contact(credited_key) => {
            let Some(mut credited) = STATE.read::<CreditedSale, _>(state, &credited_key)? else {
                return Ok(());
            };
            let agent = &credited.closer.agent;
            bucket(state, Role::Agent, agent, day, &figures, Sign::Add)?;
            credited.sale.refund = Some(refund);
            STATE.write(state, credited_key, &credited)
        }
        Seller::Waiting(waiting_key) => {
            let Some(mut waiting) = STATE.read::<KeptSale, _>(state, &waiting_key)? else {
                return Ok(());
            };
            waiting.refund = Some(refund);
            STATE.write(state, waiting_key, &waiting)
        }
    }
}

/// A contact of `customer` became a sale-closing contact (`was` none, `now` some: recorded,
/// or corrected to close a sale), stopped being one (corrected: outcome, topic, or a
/// `system:` agent), or was corrected as one (another agent or start). The customer's
/// sale-closing contacts are kept as they stand now; the sales credited to the contact as it
/// was are credited again by the rule, among the contacts folded so far; and the contact as
/// it is now takes the sales it can take that were folded before it, as a contact recorded
/// with these facts would have. Every read is within the window after the contact started,
/// as it was and as it is.
fn sale_closer_changed(
    state: &mut dyn StateWrite,
    customer: CustomerId,
    was: Option<&Closer>,
    now: Option<&Closer>,
) -> Result<(), StateError> {
    if let Some(was) = was {
        state.delete(&keys::sale_candidate(customer, was.started_at, was.contact));
    }
    if let Some(now) = now {
        let candidate = keys::sale_candidate(customer, now.started_at, now.contact);
        STATE.write(state, candidate, now)?;
    }
    // After the candidates are updated, so the contact's corrected facts compete too.
    if let Some(was) = was {
        recredit_sales_of(state, customer, was)?;
    }
    if let Some(now) = now {
        let window_end = saturating_add(now.started_at, attribution_window());
        take_credited_sales(state, customer, now, window_end)?;
        take_waiting_sales(state, customer, now, window_end)?;
    }
    Ok(())
}

/// Credits again, by the rule, each of the customer's sales credited to the contact `was`
/// (its closer as it stood before a correction): to the latest sale-closing contact folded so
/// far that started at or before the sale, within the window (the contact as corrected, when
/// it still can), or back to waiting under `unattributed/` when none can. Every sale credited
/// to a contact is within the window after the contact started, and its closer is the
/// contact as it stands (each correction re-credits), so only that window is read.
fn recredit_sales_of(
    state: &mut dyn StateWrite,
    customer: CustomerId,
    was: &Closer,
) -> Result<(), StateError> {
    let window_end = saturating_add(was.started_at, attribution_window());
    let start = keys::customer_at(keys::CREDITED_SALE, customer, was.started_at);
    let end = through(keys::CREDITED_SALE, customer, window_end);
    for (key, value) in walk_range(state, &start, &end)? {
        let credited: CreditedSale = decode(&key, &value)?;
        if credited.closer.contact != was.contact {
            continue;
        }
        let at = credited.sale.at;
        match latest_closer(state, customer, at)?.filter(|closer| closer.can_take(at)) {
            Some(closer) => move_credited_sale(state, key, credited, &closer)?,
            None => unattribute(state, customer, &key, credited)?,
        }
    }
    Ok(())
}

/// Moves a sale credited to a contact (under `key`) to `closer`: its figures and refund go to
/// `closer`'s agent when that is another agent. The policy's credit names `key`, so a later
/// cancellation finds the new agent.
fn move_credited_sale(
    state: &mut dyn StateWrite,
    key: Vec<u8>,
    mut credited: CreditedSale,
    closer: &Closer,
) -> Result<(), StateError> {
    if credited.closer.agent != closer.agent {
        let sale = &credited.sale;
        credit_agent(state, &credited.closer.agent, sale, Sign::Subtract)?;
        credit_agent(state, &closer.agent, sale, Sign::Add)?;
    }
    credited.closer = closer.clone();
    STATE.write(state, key, &credited)
}

/// Takes a sale credited to a contact (under `credited_key`) from its agent, figures and
/// refund, and leaves it waiting for a seller under `unattributed/`, refund and all.
fn unattribute(
    state: &mut dyn StateWrite,
    customer: CustomerId,
    credited_key: &[u8],
    credited: CreditedSale,
) -> Result<(), StateError> {
    let CreditedSale { sale, closer } = credited;
    credit_agent(state, &closer.agent, &sale, Sign::Subtract)?;
    let waiting_key = keys::customer_entry(keys::UNATTRIBUTED, customer, sale.at, sale.position);
    let from = Seller::Contact(credited_key.to_vec());
    repoint_policy_credit(
        state,
        &sale.policy,
        &from,
        Seller::Waiting(waiting_key.clone()),
    )?;
    STATE.write(state, waiting_key, &sale)?;
    state.delete(credited_key);
    Ok(())
}

/// Makes the policy's credit name `to` where it named `from`; a later sale of the policy or
/// its cancellation may have replaced or removed it meanwhile, and then it is left alone.
fn repoint_policy_credit(
    state: &mut dyn StateWrite,
    policy: &PolicyNumber,
    from: &Seller,
    to: Seller,
) -> Result<(), StateError> {
    let credit_key = keys::policy_credit(policy);
    if let Some(mut credit) = STATE.read::<PolicyCredit, _>(state, &credit_key)?
        && credit.seller == *from
    {
        credit.seller = to;
        STATE.write(state, credit_key, &credit)?;
    }
    Ok(())
}

/// Moves to `closer`'s agent the customer's sales in `[closer started, window_end]` that were
/// credited to an earlier contact: it closed them, as the latest sale-closing contact before
/// them, and was recorded (contacts are recorded when they end) or corrected to these facts
/// after them.
fn take_credited_sales(
    state: &mut dyn StateWrite,
    customer: CustomerId,
    closer: &Closer,
    window_end: Timestamp,
) -> Result<(), StateError> {
    let start = keys::customer_at(keys::CREDITED_SALE, customer, closer.started_at);
    let end = through(keys::CREDITED_SALE, customer, window_end);
    for (key, value) in walk_range(state, &start, &end)? {
        let credited: CreditedSale = decode(&key, &value)?;
        if credited.closer.order() < closer.order() {
            move_credited_sale(state, key, credited, closer)?;
        }
    }
    Ok(())
}

/// Credits `closer`'s agent with the customer's sales in `[closer started, window_end]` that
/// waited for a seller, each with its refund if the policy was cancelled meanwhile.
fn take_waiting_sales(
    state: &mut dyn StateWrite,
    customer: CustomerId,
    closer: &Closer,
    window_end: Timestamp,
) -> Result<(), StateError> {
    let start = keys::customer_at(keys::UNATTRIBUTED, customer, closer.started_at);
    let end = through(keys::UNATTRIBUTED, customer, window_end);
    for (key, value) in walk_range(state, &start, &end)? {
        let sale: KeptSale = decode(&key, &value)?;
        credit_agent(state, &closer.agent, &sale, Sign::Add)?;
        let credited_key =
            keys::customer_entry(keys::CREDITED_SALE, customer, sale.at, sale.position);
        let from = Seller::Waiting(key.clone());
        let to = Seller::Contact(credited_key.clone());
        repoint_policy_credit(state, &sale.policy, &from, to)?;
        let credited = CreditedSale {
            sale,
            closer: closer.clone(),
        };
        STATE.write(state, credited_key, &credited)?;
        state.delete(&key);
    }
    Ok(())
}
