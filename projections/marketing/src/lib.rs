//! The marketing projection (seed 4.2.1 ①, ②): per campaign its budget, cost to date,
//! touches by channel, responses, conversions, premium won and refunded on cancellation, cost
//! per conversion and ROI, and
//! where it stands in plan → execution → feedback; and the call-back queue of online
//! enquiries from the web shop that nobody has called back yet, oldest first.
//!
//! # Components
//!
//! - [`Marketing`] (module `fold`): the [`Projection`](ledger_domain::projection::Projection)
//!   named `marketing`, a pure fold over ledger events into the keyspace below. It reads no
//!   clock.
//! - [`records`]: [`CampaignRecord`] and [`EnquiryRecord`] as stored and returned, with what is
//!   derived from them when read: [`CampaignRecord::status`] (at a reader's `now`),
//!   [`CampaignRecord::roi`], [`CampaignRecord::cost_per_conversion`], and an enquiry's age in
//!   the queue.
//! - [`query`]: the read side over [`StateRead`](ledger_domain::projection::StateRead):
//!   [`campaign`], [`campaigns`], [`enquiry`], [`customers_of_enquiry`], [`sale_credited_to`],
//!   [`callback_queue`], returning records and cursor pages of at most [`PAGE_SIZE_MAX`] items.
//!
//! # Key layout
//!
//! Instants in keys are 16 bytes whose byte order is time order (see `keys.rs`). Values are
//! encoded with `ledger_domain::codec`.
//!
//! | key | value | kept |
//! |---|---|---|
//! | `campaign/{campaign id}` | [`CampaignRecord`] | from the first event naming the campaign |
//! | `sale/{policy number}` | the policy's latest sale: the campaign its issue or renewal named, the first purchase response naming it since, whether its refund was counted | while a campaign is credited with it |
//! | `enquiry/{enquiry id}` | [`EnquiryRecord`] | from `OnlineEnquiryReceived` |
//! | `callback/{enquiry id}/{contact id}` | the contact's `startedAt` | while the contact is an outbound contact naming the enquiry |
//! | `contact/{contact id}` | the enquiry it names, its customer, whether it is outbound, its `startedAt` | while the contact names an enquiry, in either direction; lets a correction undo the link |
//! | `asked/{customer id}/{enquiry id}` | how many ties: the customer sent the enquiry, and each of their contacts that names it | while there is one; finds what a customer's erasure takes with it |
//! | `askers/{enquiry id}/{customer id}` | the same count as `asked/{customer id}/{enquiry id}` | exactly while that entry is there; finds the customers whose personal data an enquiry holds ([`customers_of_enquiry`]) |
//! | `queue/{received at}/{enquiry id}` | empty | while the enquiry has no call-back and is not erased |
//!
//! # Decisions
//!
//! - **Cost** is the running total the last `CampaignCostIncurred` carried (the aggregate's
//!   own sum), not a sum the projection makes again.
//! - **Conversions and premium won.** Each sale of a policy (its issue, and each renewal: one
//!   a policy year) is won once, by one campaign: the campaign its `PolicyIssued` or
//!   `PolicyRenewed` names (`campaignId`), or, when that event names none, the campaign of the
//!   first `CampaignResponded` with response `PURCHASED` naming the policy during that sale
//!   (its `premiumWon`). A purchase response credits the policy's latest sale when it is
//!   folded, or, folded before the issue (a quote bought through a campaign), the issue's. A
//!   purchase response and the issue or renewal naming the same campaign describe one sale,
//!   which counts once at the policy system's premium whichever arrives first; a renewal
//!   through a campaign adds its own year beside the issue year a purchase response won. A
//!   purchase response of another campaign than the one the sale's policy event names, or
//!   one after another campaign's purchase response (the aggregate refuses both; a ledger
//!   written before may hold them), wins nothing, and the sale's refund goes where the sale
//!   is credited: a pair is resolved by the log alone (the policy event first, then the
//!   earlier response), so a live fold and a rebuild agree. A repeated `PolicyIssued` (an
//!   import could hold one) describes the same sale again. A purchase response that names no
//!   policy counts on its own. Known limit: a purchase response folded after a later renewal
//!   credits that renewal's sale.
//! - **Cancellations.** Premium won stays gross: a sale later cancelled stays a conversion and
//!   its premium stays won, and the refund its `PolicyCancelled` carries is shown beside it
//!   (`premium_refunded`, with `cancellations`), so an analyst sees both what was sold and
//!   what came back. The refund goes to the campaign credited with the policy's *latest*
//!   sale, the period the cancellation takes back (a renewal naming no campaign, and no
//!   purchase response, was nobody's campaign's sale, so its cancellation refunds none). A
//!   refund counts at most the premium that sale won (a refund can cover a renewal paid
//!   ahead), and once per sale.
//! - **Responses** are every `CampaignResponded`, whatever the response, also after closing.
//! - **ROI** is `(premium won − premium refunded − cost) / cost`, on the premium the campaign
//!   kept, returned as the exact fraction [`Roi`] with [`Roi::basis_points`] rounded down and
//!   never saturated; none while the cost is zero. Cost per conversion is in fen rounded down.
//!   Nothing stored is a float.
//! - **Status** at a reader's `now` (Beijing date, UTC+8): planned before `periodStart`,
//!   executing from then until `CampaignClosed` (also past `periodEnd`: a campaign executes
//!   until its feedback is closed), closed after; "not launched" for a campaign the log only
//!   knows from attributed facts.
//! - **Call-back queue.** An enquiry awaits a call-back until an *outbound* contact names its
//!   `enquiryId` (`ContactRecorded` or, replacing it, `ContactCorrected`); an unanswered call
//!   is a call-back too. Inbound contacts do not count. A correction that removes the link
//!   puts the enquiry back in the queue. Contacts folded before their enquiry are kept and
//!   counted when it arrives. The queue is ordered by the enquiry's `occurred_at` (then id);
//!   its age is `now − occurred_at`; enquiries received after `now` are not shown.
//! - **Erasure.** An `EnquiryErased` (an anonymous enquiry's personal data erased on request)
//!   takes the enquiry out of the queue and its campaign's awaiting count for good, whatever
//!   contacts name it later; it still counts among the campaign's enquiries, and its call-backs
//!   stay counted. The record keeps when it was erased. A `CustomerErased` does the same to
//!   every enquiry whose personal data the ledger erases with the customer's: those the
//!   customer sent, and those from nobody known that a contact of theirs names (inbound or
//!   outbound) as last recorded or corrected. An enquiry another known customer sent is theirs
//!   to erase, whoever's contact names it. The same rule, read from the enquiry's side, gives
//!   [`customers_of_enquiry`]: the customers a reader of the enquiry's details reads (the API
//!   records an access to each); it outlives the erasure, as the enquiry was still theirs.
//! - **Personal data** (the enquirer's name, mobile, plate and message) is not copied: it is
//!   sealed in the log under the customer's key (or the enquiry's own, when nobody knew who
//!   asked) and erased with it. An [`EnquiryRecord`]
//!   carries the log position of its event so a reader can fetch those fields from there.
//! - A repeated `CampaignLaunched`, `CampaignClosed` or `OnlineEnquiryReceived` for the same
//!   id (which the aggregates refuse; an import could hold one) keeps the first.

mod fold;
mod keys;
mod page;
pub mod query;
pub mod records;
mod storage;

#[cfg(test)]
mod tests;

pub use fold::Marketing;
pub use page::{PAGE_SIZE_MAX, Page, QueryError};
pub use query::{
    callback_queue, campaign, campaigns, customers_of_enquiry, enquiry, sale_credited_to,
};
pub use records::{
    CampaignClosing, CampaignPlan, CampaignRecord, CampaignStatus, EnquiryRecord, QueuedEnquiry,
    Roi,
};
