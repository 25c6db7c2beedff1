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
//!   [`campaign`], [`campaigns`], [`enquiry`], [`callback_queue`], returning records and cursor
//!   pages of at most [`PAGE_SIZE_MAX`] items.
//!
//! # Key layout
//!
//! Instants in keys are 16 bytes whose byte order is time order (see `keys.rs`). Values are
//! encoded with `ledger_domain::codec`.
//!
//! | key | value | kept |
//! |---|---|---|
//! | `campaign/{campaign id}` | [`CampaignRecord`] | from the first event naming the campaign |
//! | `sale/{campaign id}/{policy number}` | the sale's policy events and purchase responses | from the first of them |
//! | `credit/{policy number}` | the campaign credited with the policy's latest sale and that sale's premium | from that sale until the policy is cancelled or renewed without a campaign |
//! | `enquiry/{enquiry id}` | [`EnquiryRecord`] | from `OnlineEnquiryReceived` |
//! | `callback/{enquiry id}/{contact id}` | the contact's `startedAt` | while the contact is an outbound contact naming the enquiry |
//! | `contact/{contact id}` | the enquiry it names, its customer, whether it is outbound, its `startedAt` | while the contact names an enquiry, in either direction; lets a correction undo the link |
//! | `asked/{customer id}/{enquiry id}` | how many ties: the customer sent the enquiry, and each of their contacts that names it | while there is one; finds what a customer's erasure takes with it |
//! | `queue/{received at}/{enquiry id}` | empty | while the enquiry has no call-back and is not erased |
//!
//! # Decisions
//!
//! - **Cost** is the running total the last `CampaignCostIncurred` carried (the aggregate's
//!   own sum), not a sum the projection makes again.
//! - **Conversions and premium won.** A sale is attributed to a campaign by the policy event
//!   (`PolicyIssued` or `PolicyRenewed` with `campaignId`) and, usually as well, by a
//!   `CampaignResponded` with response `PURCHASED`, its `premiumWon` and the policy number.
//!   Both describe one sale, so per (campaign, policy number) the policy events count when
//!   there are any (the policy system is the record of the sale) and the purchase responses
//!   only otherwise; the result does not depend on which arrives first. A purchase response
//!   that names no policy counts on its own. Each issue or renewal of the policy that names
//!   the campaign is one conversion.
//! - **Cancellations.** Premium won stays gross: a sale later cancelled stays a conversion and
//!   its premium stays won, and the refund its `PolicyCancelled` carries is shown beside it
//!   (`premium_refunded`, with `cancellations`), so an analyst sees both what was sold and
//!   what came back. The refund goes to the campaign credited with the policy's *latest*
//!   sale, the period the cancellation takes back: the campaign its last issue or renewal
//!   named, or, when that event named none, the campaign whose purchase response named the
//!   policy (a quote bought through the campaign and issued without naming it). A renewal
//!   naming no campaign ends the credit: its period was nobody's campaign's sale. A refund
//!   counts at most the premium that sale won (a refund can cover a renewal paid ahead), and
//!   once per sale. Known limit: a purchase response folded after a later renewal that named
//!   no campaign credits that renewal's period.
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
//!   to erase, whoever's contact names it.
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
pub use query::{callback_queue, campaign, campaigns, enquiry};
pub use records::{
    CampaignClosing, CampaignPlan, CampaignRecord, CampaignStatus, EnquiryRecord, QueuedEnquiry,
    Roi,
};
