//! The fold: [`Marketing`] turns campaign, policy, enquiry and contact events into campaign
//! records, attributed sales and the call-back queue.
//!
//! Every change to a campaign goes through `update_campaign`; every change to an enquiry's
//! call-backs goes through `refresh_enquiry`, which recomputes the enquiry's queue entry and
//! its campaign's awaiting count from the call-back contacts stored for it, so the queue can
//! never disagree with its records.

use jiff::Timestamp;
use ledger_domain::events::{
    CampaignClosed, CampaignCostIncurred, CampaignLaunched, CampaignResponded, CampaignTouchSent,
    Event, OnlineEnquiryReceived, PolicyCancelled,
};
use ledger_domain::ids::{CampaignId, ContactId, CustomerId, EnquiryId, Position};
use ledger_domain::kinds::CampaignResponse;
use ledger_domain::projection::{Envelope, Projection, StateError, StateWrite};
use ledger_domain::values::{Direction, Money, PolicyNumber};
use serde::{Deserialize, Serialize};

use crate::keys;
use crate::records::{CampaignClosing, CampaignPlan, CampaignRecord, EnquiryRecord};
use crate::storage::{STATE, describe};

/// The marketing projection: a pure fold over the log, with no configuration.
#[derive(Debug, Clone, Copy, Default)]
pub struct Marketing;

impl Marketing {
    /// The projection's stable name: its keyspace, its checkpoint, its name on the CLI.
    pub const NAME: &'static str = "marketing";

    /// The layout version of what `apply` writes; bump it when the layout or a derivation
    /// changes, so the runner rebuilds.
    pub const VERSION: u32 = 6;
}

impl Projection for Marketing {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    fn version(&self) -> u32 {
        Self::VERSION
    }

    fn apply(&self, envelope: &Envelope<'_>, state: &mut dyn StateWrite) -> Result<(), StateError> {
        let at = envelope.occurred_at;
        match envelope.event {
            Event::CampaignLaunched(event) => launched(state, at, event),
            Event::CampaignCostIncurred(event) => cost_incurred(state, event),
            Event::CampaignTouchSent(event) => touch_sent(state, event),
            Event::CampaignResponded(event) => responded(state, event),
            Event::CampaignClosed(event) => closed(state, at, event),
            Event::PolicyIssued(event) => policy_sold(
                state,
                event.campaign_id,
                &event.policy_number,
                event.premium,
                SaleKind::Issue,
            ),
            Event::PolicyRenewed(event) => policy_sold(
                state,
                event.campaign_id,
                &event.policy_number,
                event.premium,
                SaleKind::Renewal,
            ),
            Event::PolicyCancelled(event) => policy_cancelled(state, event),
            Event::OnlineEnquiryReceived(event) => {
                enquiry_received(state, at, envelope.position, event)
            }
            Event::EnquiryErased(event) => erase_enquiry(state, at, event.enquiry_id),
            Event::CustomerErased(event) => customer_erased(state, at, event.customer_id),
            Event::ContactRecorded(event) => contact_linked(
                state,
                event.contact_id,
                link_of(
                    event.customer_id,
                    event.direction,
                    event.enquiry_id,
                    event.started_at,
                ),
            ),
            Event::ContactCorrected(event) => contact_linked(
                state,
                event.contact_id,
                link_of(
                    event.customer_id,
                    event.direction,
                    event.enquiry_id,
                    event.started_at,
                ),
            ),
            _ => Ok(()),
        }
    }
}

/// A sum of money that cannot fail inside a fold: beyond `i64` fen (92 quadrillion yuan) no
/// campaign goes, so it saturates rather than fails.
fn plus(total: Money, amount: Money) -> Money {
    Money::from_fen(total.fen().saturating_add(amount.fen()))
}

fn minus(total: Money, amount: Money) -> Money {
    Money::from_fen(total.fen().saturating_sub(amount.fen()))
}

/// Loads the campaign (or starts its record), lets `change` edit it, writes it back.
fn update_campaign(
    state: &mut dyn StateWrite,
    id: CampaignId,
    change: impl FnOnce(&mut CampaignRecord),
) -> Result<(), StateError> {
    let key = keys::campaign(id);
    let mut record = STATE
        .read(state, &key)?
        .unwrap_or_else(|| CampaignRecord::new(id));
    change(&mut record);
    STATE.write(state, key, &record)
}

fn launched(
    state: &mut dyn StateWrite,
    at: Timestamp,
    event: &CampaignLaunched,
) -> Result<(), StateError> {
    update_campaign(state, event.campaign_id, |record| {
        // The aggregate launches a campaign once; a repeat in an imported log keeps the first.
        if record.plan.is_none() {
            record.plan = Some(CampaignPlan {
                name: event.name.clone(),
                budget: event.budget,
                channels: event.channels.clone(),
                target_segment: event.target_segment.clone(),
                period_start: event.period_start,
                period_end: event.period_end,
                owner: event.owner.clone(),
                launched_at: at,
            });
        }
    })
}

fn cost_incurred(
    state: &mut dyn StateWrite,
    event: &CampaignCostIncurred,
) -> Result<(), StateError> {
    update_campaign(state, event.campaign_id, |record| {
        // The event carries the aggregate's running total; it is taken as is rather than
        // summed again, so the projection never recomputes what the aggregate decided.
        record.cost = event.total_cost;
        record.cost_entries = record.cost_entries.saturating_add(1);
    })
}

fn touch_sent(state: &mut dyn StateWrite, event: &CampaignTouchSent) -> Result<(), StateError> {
    update_campaign(state, event.campaign_id, |record| {
        record.touches = record.touches.saturating_add(1);
        let count = record.touches_by_channel.entry(event.channel).or_default();
        *count = count.saturating_add(1);
    })
}

fn responded(state: &mut dyn StateWrite, event: &CampaignResponded) -> Result<(), StateError> {
    update_campaign(state, event.campaign_id, |record| {
        record.responses = record.responses.saturating_add(1);
        let count = record.responses_by_kind.entry(event.response).or_default();
        *count = count.saturating_add(1);
    })?;
    if event.response != CampaignResponse::Purchased {
        return Ok(());
    }
    match &event.policy_number {
        Some(policy) => purchase_responded(state, event.campaign_id, policy, event.premium_won),
        // A purchase that names no policy cannot meet its policy event: it counts on its own.
        None => update_campaign(state, event.campaign_id, |record| {
            record.conversions = record.conversions.saturating_add(1);
            record.premium_won = plus(record.premium_won, event.premium_won);
        }),
    }
}

fn closed(
    state: &mut dyn StateWrite,
    at: Timestamp,
    event: &CampaignClosed,
) -> Result<(), StateError> {
    update_campaign(state, event.campaign_id, |record| {
        if record.closing.is_none() {
            record.closing = Some(CampaignClosing {
                closed_at: at,
                total_cost: event.total_cost,
                touches: event.touches,
                responses: event.responses,
                premium_won: event.premium_won,
            });
        }
    })
}

/// A policy's latest sale (its issue, or its latest renewal: one a policy year) and what the
/// log attributes it to. The issue or renewal names a campaign or none (`campaignId`); a
/// `PURCHASED` response naming the policy credits the sale the policy is in when it is folded.
/// The sale is won once, by one campaign ([`Sale::credit`]); a renewal is a new sale, and the
/// conversions and premium earlier sales added stay where they were counted. Stored only
/// while it credits a campaign: a sale nobody's campaign won needs no entry.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Sale {
    /// The campaign the issue or renewal named, and the premium it was written for.
    by_policy: Option<(CampaignId, Money)>,
    /// The first purchase response that named the policy since the sale began: its campaign
    /// and premium won.
    by_response: Option<(CampaignId, Money)>,
    /// Its cancellation's refund was counted for the campaign credited (once a sale).
    refunded: bool,
}

impl Sale {
    /// The campaign credited with the sale and the premium it won: the one its issue or
    /// renewal named, when it named one (the policy system is the record of the sale, and of
    /// its premium), else the first purchase response's. A purchase response of the same
    /// campaign describes the same sale and adds nothing; one of another campaign (which the
    /// aggregate now refuses; a ledger written before may hold one) wins nothing. Either way
    /// the answer does not depend on which was folded first.
    pub(crate) fn credit(&self) -> Option<(CampaignId, Money)> {
        self.by_policy.or(self.by_response)
    }
}

/// Whether a policy event starts the policy or a new period of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SaleKind {
    Issue,
    Renewal,
}

/// A policy issued or renewed: a sale, credited to the campaign it names (see [`Sale`]). An
/// issue is the policy's first sale, which purchase responses folded before it may have
/// bought already (a quote bought through a campaign); a repeated issue (which the aggregate
/// refuses; an import could hold one) describes that sale again. A renewal is a new sale.
fn policy_sold(
    state: &mut dyn StateWrite,
    campaign: Option<CampaignId>,
    policy: &PolicyNumber,
    premium: Money,
    kind: SaleKind,
) -> Result<(), StateError> {
    update_sale(state, policy, |sale| {
        let by_policy = campaign.map(|campaign| (campaign, premium));
        match kind {
            SaleKind::Issue => {
                sale.by_policy = by_policy;
                SaleChange::SameSale
            }
            SaleKind::Renewal => {
                *sale = Sale {
                    by_policy,
                    ..Sale::default()
                };
                SaleChange::NewSale
            }
        }
    })
}

/// A purchase response naming `policy` credits its campaign with the policy's latest sale,
/// unless an earlier one did (see [`Sale::credit`]).
fn purchase_responded(
    state: &mut dyn StateWrite,
    campaign: CampaignId,
    policy: &PolicyNumber,
    premium: Money,
) -> Result<(), StateError> {
    update_sale(state, policy, |sale| {
        sale.by_response.get_or_insert((campaign, premium));
        SaleChange::SameSale
    })
}

/// A cancelled policy: the refund (at most the premium its latest sale won) is shown beside
/// the premium won of the campaign credited with that sale, once a sale. A renewal naming no
/// campaign was nobody's campaign's sale, so its cancellation refunds no campaign.
fn policy_cancelled(state: &mut dyn StateWrite, event: &PolicyCancelled) -> Result<(), StateError> {
    let key = keys::sale(&event.policy_number);
    let Some(mut sale) = STATE.read::<Sale, _>(state, &key)? else {
        return Ok(());
    };
    let Some((campaign, premium)) = sale.credit().filter(|_| !sale.refunded) else {
        return Ok(());
    };
    sale.refunded = true;
    STATE.write(state, key, &sale)?;
    let refunded = Money::from_fen(event.refund.fen().clamp(0, premium.fen().max(0)));
    update_campaign(state, campaign, |record| {
        record.cancellations = record.cancellations.saturating_add(1);
        record.premium_refunded = plus(record.premium_refunded, refunded);
    })
}

/// What a change to a policy's latest sale did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SaleChange {
    /// Described the same sale again: what it added before is replaced.
    SameSale,
    /// Started a new sale: the one before keeps what it added.
    NewSale,
}

/// Changes a policy's latest sale and moves the conversion and premium it adds from the
/// campaign it credited to the campaign it credits now.
fn update_sale(
    state: &mut dyn StateWrite,
    policy: &PolicyNumber,
    change: impl FnOnce(&mut Sale) -> SaleChange,
) -> Result<(), StateError> {
    let key = keys::sale(policy);
    let stored: Option<Sale> = STATE.read(state, &key)?;
    let mut sale = stored.unwrap_or_default();
    let credit_before = sale.credit();
    let replaced = match change(&mut sale) {
        SaleChange::SameSale => credit_before,
        SaleChange::NewSale => None,
    };
    let credit_after = sale.credit();
    if credit_after.is_some() {
        STATE.write(state, key, &sale)?;
    } else if stored.is_some() {
        state.delete(&key);
    }
    if replaced == credit_after {
        return Ok(());
    }
    if let Some((campaign, premium)) = replaced {
        update_campaign(state, campaign, |record| {
            record.conversions = record.conversions.saturating_sub(1);
            record.premium_won = minus(record.premium_won, premium);
        })?;
    }
    if let Some((campaign, premium)) = credit_after {
        update_campaign(state, campaign, |record| {
            record.conversions = record.conversions.saturating_add(1);
            record.premium_won = plus(record.premium_won, premium);
        })?;
    }
    Ok(())
}

fn enquiry_received(
    state: &mut dyn StateWrite,
    at: Timestamp,
    position: Position,
    event: &OnlineEnquiryReceived,
) -> Result<(), StateError> {
    let key = keys::enquiry(event.enquiry_id);
    // An enquiry id is recorded once; a repeat in an imported log keeps the first.
    if state.get(&key)?.is_some() {
        return Ok(());
    }
    let record = EnquiryRecord {
        id: event.enquiry_id,
        customer: event.customer_id,
        campaign: event.campaign_id,
        channel: event.channel,
        product_lines: event.product_lines.clone(),
        received_at: at,
        received_position: position,
        callbacks: 0,
        first_callback_at: None,
        erased_at: None,
    };
    STATE.write(state, key, &record)?;
    if let Some(customer) = event.customer_id {
        tie(state, customer, event.enquiry_id, true)?;
    }
    if let Some(campaign) = event.campaign_id {
        update_campaign(state, campaign, |campaign| {
            campaign.enquiries = campaign.enquiries.saturating_add(1);
        })?;
    }
    // Call-backs may have been folded before the enquiry (an import out of order); the
    // refresh counts them and queues the enquiry only if there are none.
    refresh_enquiry(state, event.enquiry_id, false)
}

/// An erased enquiry leaves the call-back queue (and its campaign's awaiting count) for good;
/// its call-backs stay counted. The aggregate erases only an enquiry its stream holds, so the
/// record is there (an enquiry not received yet is left alone); a repeat in an imported log
/// keeps the first erasure.
fn erase_enquiry(
    state: &mut dyn StateWrite,
    at: Timestamp,
    enquiry: EnquiryId,
) -> Result<(), StateError> {
    let key = keys::enquiry(enquiry);
    let Some(mut record) = STATE.read::<EnquiryRecord, _>(state, &key)? else {
        return Ok(());
    };
    if record.erased_at.is_some() {
        return Ok(());
    }
    let awaiting_before = record.awaiting_callback();
    record.erased_at = Some(at);
    STATE.write(state, key, &record)?;
    if awaiting_before {
        state.delete(&keys::queue(record.received_at, enquiry));
        if let Some(campaign) = record.campaign {
            update_campaign(state, campaign, |campaign| {
                campaign.enquiries_awaiting_callback =
                    campaign.enquiries_awaiting_callback.saturating_sub(1);
            })?;
        }
    }
    Ok(())
}

/// A customer's erasure erases the enquiries whose personal data went with theirs (the ledger
/// destroys the same keys): those the customer sent, and those from nobody known that a
/// contact of theirs names as last recorded or corrected. An enquiry another known customer
/// sent keeps its data, whoever's contact names it.
fn customer_erased(
    state: &mut dyn StateWrite,
    at: Timestamp,
    customer: CustomerId,
) -> Result<(), StateError> {
    let prefix = keys::asked_by(customer);
    for (key, _) in STATE.walk_prefix(state, &prefix)? {
        let enquiry = key
            .get(prefix.len()..)
            .and_then(|suffix| std::str::from_utf8(suffix).ok())
            .and_then(|text| EnquiryId::parse("", text).ok())
            .ok_or_else(|| {
                StateError(format!(
                    "marketing: {} names no enquiry of {customer}",
                    describe(&key)
                ))
            })?;
        let record: Option<EnquiryRecord> = STATE.read(state, &keys::enquiry(enquiry))?;
        if record.is_some_and(|record| goes_with(record.customer, customer)) {
            erase_enquiry(state, at, enquiry)?;
        }
    }
    Ok(())
}

/// Adds (`more`) or removes one tie between a customer and an enquiry (see `keys::asked`).
fn tie(
    state: &mut dyn StateWrite,
    customer: CustomerId,
    enquiry: EnquiryId,
    more: bool,
) -> Result<(), StateError> {
    let key = keys::asked(customer, enquiry);
    let mirror = keys::asker(enquiry, customer);
    let ties: u64 = STATE.read(state, &key)?.unwrap_or(0);
    let ties = if more {
        ties.saturating_add(1)
    } else {
        ties.saturating_sub(1)
    };
    if ties == 0 {
        state.delete(&key);
        state.delete(&mirror);
        Ok(())
    } else {
        STATE.write(state, key, &ties)?;
        STATE.write(state, mirror, &ties)
    }
}

/// Whether an enquiry `sender` sent (`None`: nobody known) holds `customer`'s personal data,
/// given that `customer` is tied to it: the customer sent it, or it came from nobody known and
/// a contact of theirs names it. The rule of `ledger_app::erasure::answered_enquiries`, so
/// what a customer's erasure erases and whose reads an enquiry's details are agree. An
/// enquiry another known customer sent is theirs, whoever's contact names it.
pub(crate) fn goes_with(sender: Option<CustomerId>, customer: CustomerId) -> bool {
    sender.is_none_or(|sender| sender == customer)
}

/// The enquiry a contact names, in either direction, with the contact's customer and start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
struct ContactLink {
    customer: CustomerId,
    enquiry: EnquiryId,
    /// An outbound contact: it calls the enquiry back. A customer chasing their enquiry
    /// (inbound) is not a call-back.
    outbound: bool,
    started_at: Timestamp,
}

impl ContactLink {
    /// The enquiry the contact calls back and when, when it is a call-back.
    fn callback(&self) -> Option<(EnquiryId, Timestamp)> {
        self.outbound.then_some((self.enquiry, self.started_at))
    }

    fn tie(&self) -> (CustomerId, EnquiryId) {
        (self.customer, self.enquiry)
    }
}

fn link_of(
    customer: CustomerId,
    direction: Direction,
    enquiry: Option<EnquiryId>,
    started_at: Timestamp,
) -> Option<ContactLink> {
    enquiry.map(|enquiry| ContactLink {
        customer,
        enquiry,
        outbound: direction == Direction::Outbound,
        started_at,
    })
}

/// Records what `contact` names now (a correction replaces what it named before): its tie
/// between customer and enquiry, and its call-back.
fn contact_linked(
    state: &mut dyn StateWrite,
    contact: ContactId,
    link: Option<ContactLink>,
) -> Result<(), StateError> {
    let contact_key = keys::contact(contact);
    let before: Option<ContactLink> = STATE.read(state, &contact_key)?;
    if before.is_none() && link.is_none() {
        return Ok(());
    }
    if before.as_ref().map(ContactLink::tie) != link.as_ref().map(ContactLink::tie) {
        if let Some((customer, enquiry)) = before.as_ref().map(ContactLink::tie) {
            tie(state, customer, enquiry, false)?;
        }
        if let Some((customer, enquiry)) = link.as_ref().map(ContactLink::tie) {
            tie(state, customer, enquiry, true)?;
        }
    }
    match &link {
        Some(link) => STATE.write(state, contact_key, link)?,
        None => state.delete(&contact_key),
    }
    let called_before = before.as_ref().and_then(ContactLink::callback);
    let callback = link.as_ref().and_then(ContactLink::callback);
    if let Some((enquiry, _)) = called_before {
        state.delete(&keys::callback(enquiry, contact));
    }
    if let Some((enquiry, started_at)) = callback {
        STATE.write(state, keys::callback(enquiry, contact), &started_at)?;
    }
    let callback_enquiry = callback.map(|(enquiry, _)| enquiry);
    if let Some((enquiry, _)) =
        called_before.filter(|(before, _)| Some(*before) != callback_enquiry)
    {
        refresh_enquiry(state, enquiry, true)?;
    }
    if let Some(enquiry) = callback_enquiry {
        refresh_enquiry(state, enquiry, true)?;
    }
    Ok(())
}

/// Recounts an enquiry's call-backs and puts it in or takes it out of the queue (and its
/// campaign's awaiting count). `was_counted` says whether the enquiry's current state is
/// already in its campaign's awaiting count (false right after it was received).
fn refresh_enquiry(
    state: &mut dyn StateWrite,
    enquiry: EnquiryId,
    was_counted: bool,
) -> Result<(), StateError> {
    let key = keys::enquiry(enquiry);
    let Some(mut record) = STATE.read::<EnquiryRecord, _>(state, &key)? else {
        // Not received yet: the call-backs wait under `callback/` for it.
        return Ok(());
    };
    let awaiting_before = was_counted && record.awaiting_callback();
    let mut callbacks = 0_u64;
    let mut first: Option<Timestamp> = None;
    for (_, value) in STATE.walk_prefix(state, &keys::callbacks(enquiry))? {
        let started_at: Timestamp = ledger_domain::codec::decode(&value)
            .map_err(|error| StateError(format!("marketing: a call-back of {enquiry}: {error}")))?;
        callbacks = callbacks.saturating_add(1);
        first = Some(first.map_or(started_at, |first| first.min(started_at)));
    }
    record.callbacks = callbacks;
    record.first_callback_at = first;
    let awaiting_after = record.awaiting_callback();
    let queue_key = keys::queue(record.received_at, enquiry);
    if awaiting_after {
        state.put(queue_key, Vec::new());
    } else {
        state.delete(&queue_key);
    }
    let campaign = record.campaign;
    STATE.write(state, key, &record)?;
    if let (Some(campaign), true) = (campaign, awaiting_before != awaiting_after) {
        update_campaign(state, campaign, |campaign| {
            campaign.enquiries_awaiting_callback = if awaiting_after {
                campaign.enquiries_awaiting_callback.saturating_add(1)
            } else {
                campaign.enquiries_awaiting_callback.saturating_sub(1)
            };
        })?;
    }
    Ok(())
}
