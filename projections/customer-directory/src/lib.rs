//! The customer directory: who a customer is and how to find them.
//!
//! A pure fold over the log (see [`ledger_domain::projection`]) that answers three questions a
//! call-centre agent and the command side ask all day:
//!
//! - **Who is this?** Every identifier (mobile, landline, WeChat openid, e-mail, ID card, social
//!   credit code, plate, VIN, policy number, claim number) leads to one customer, after the
//!   normalisation the value types already do ([`Identifier::parse`]): `+86 138-0013-8000`,
//!   `8613800138000` and `13800138000` are one key; plates and VINs are upper-cased. Merged
//!   customers resolve to their survivor ([`resolve`]); erased customers resolve to nobody.
//! - **Who holds this identifier?** [`identifier_owner`] is the direct holder the aggregates'
//!   "one owner per identifier" rule asks about.
//! - **Who is called …?** [`search_by_name`] finds live customers by name prefix, paginated;
//!   [`customers`] lists every customer in id order.
//!
//! Identifiers come from two kinds of event, and the difference matters:
//!
//! - *held* identifiers are the ones the customer's own stream asserts: `CustomerRegistered`,
//!   `IdentifierAdded`, `IdentifierRemoved`, and the identifiers a `CustomersMerged` hands to the
//!   survivor. The customer aggregate keeps them unique, and [`identifier_owner`] reports them.
//! - *linked* identifiers are facts other systems report about a customer: policy numbers,
//!   plates and VINs from policy events, claim numbers (and the policy and plate) from
//!   `ClaimReported`. A later linking event for the same identifier moves it to the newer
//!   customer (a car sold on, a plate re-issued). They never override a held identifier and are
//!   not part of the ownership rule: a second-hand car's plate must stay registrable by its new
//!   owner even though the old owner's policy once named it. An identifier is linked to the
//!   last customer not erased whose readable event named it: erasing the customer it is linked
//!   to gives it back to the customer linked before, as a rebuild finds it (one that reads the
//!   erased customer's events redacted, and so never saw them name a plate or VIN).
//!
//! The mobile and plate typed into a web-shop enquiry (`OnlineEnquiryReceived`) are not indexed:
//! a lead form proves nothing about who holds the number.
//!
//! [`resolve`] prefers the holder, falls back to the linked customer, then follows merges.
//!
//! # Key layout
//!
//! One keyspace, a one-byte tag first. Customer ids are their 16 UUID bytes; an identifier key
//! is its kind tag (a fixed byte per [`IdentifierKind`], see `keys.rs`; never renumbered)
//! followed by its normalised UTF-8 value.
//!
//! | key | value |
//! |---|---|
//! | `R` ‖ customer id | [`CustomerRecord`] |
//! | `I` ‖ kind tag ‖ value | who holds the identifier, and the customers it was linked to, the one it is linked to last |
//! | `O` ‖ customer id ‖ kind tag ‖ value | the identifier, and whether the customer holds it or is linked to it (the reverse index erasure walks) |
//! | `S` ‖ customer id ‖ kind tag ‖ value | the identifier, which was linked to the customer before a later link took it (erasure walks these too) |
//! | `N` ‖ lower-cased name ‖ `0x00` ‖ customer id | empty: the name index, live customers only |
//!
//! Names never contain `0x00` (control characters are refused by [`PersonName`]), so the
//! separator keeps `张三` before `张三丰` and a prefix can never run into the id bytes.
//!
//! # Merges and erasure
//!
//! `CustomersMerged { customerId: merged, survivorId }` marks the merged record, hands its held
//! identifiers (those the event lists, and any the directory knows it received from earlier
//! merges) to the survivor (the final one, should the survivor itself be merged) and takes the
//! merged customer out of name search. Linked identifiers stay with the merged customer and
//! reach the survivor through [`resolve`]'s merge hops. A merge that would close a cycle is
//! ignored, and so is one whose survivor's own chain of merges is longer than
//! [`MERGE_HOPS_MAX`] (the domain should refuse both; the fold must stay total).
//!
//! `CustomerErased` deletes every identifier entry the customer holds or is linked to, takes the
//! customer out of the links of every identifier (one linked to them goes back to the customer
//! linked before, if any is left), drops the name from search, and keeps a record of
//! non-personal facts (kind, dates, account manager, consents, merges) with `erased` set.
//! Later linking events for an erased customer are ignored, so an erased customer is never
//! linked again. A merged customer keeps its links, and an identifier that goes back to it
//! finds its survivor.
//!
//! An event that reads redacted ([`Envelope::redacted`]: its data subject's key was destroyed,
//! or stayed in the ledger this one was imported from) gives nothing personal: its name is not
//! written, its identifiers (erased values) are not indexed, and its data subject's record reads
//! as erased (`erased` set, no name or group, out of name search) with no `erased_at`, since no
//! erasure was recorded here. Non-personal facts (consents, account manager, merges, policy
//! and claim numbers) are still folded, as they were before a real erasure, so a rebuild that
//! can no longer open an erased customer's earlier events writes what the live fold wrote; and
//! a customer whose key is elsewhere is still found by a policy or claim number. Such a
//! customer never named a plate or VIN here, so none goes back to it when another customer is
//! erased; a policy or claim number it named does, like any link.
//!
//! Values are encoded with [`ledger_domain::codec`]; the layout is the projection's version
//! (see [`CustomerDirectory`]'s `version`).
//!
//! [`Identifier::parse`]: ledger_domain::values::Identifier::parse
//! [`IdentifierKind`]: ledger_domain::values::IdentifierKind
//! [`PersonName`]: ledger_domain::values::PersonName

mod apply;
mod keys;
mod query;
mod record;

use ledger_domain::projection::{Envelope, Projection, StateError, StateWrite};

pub use query::{
    MERGE_HOPS_MAX, NAME_SEARCH_PAGE_MAX, Page, SearchError, customer, customers, identifier_owner,
    identifiers_of, owned_identifier, resolve, search_by_name, survivor,
};
pub use record::{AccountManager, Consent, CustomerRecord, OwnedIdentifier};

/// The customer-directory projection. Stateless: everything lives in the state it is given.
#[derive(Debug, Clone, Copy, Default)]
pub struct CustomerDirectory;

impl Projection for CustomerDirectory {
    fn name(&self) -> &'static str {
        "customer-directory"
    }

    /// The layout version of what `apply` writes; bump it when the layout or a derivation
    /// changes, so the runner rebuilds.
    /// 2: an event that reads redacted leaves its data subject reading as erased (no name,
    /// no identifiers indexed), not with blank ones.
    /// 3: an identifier keeps every customer it was linked to (`I`, and the `S` index), and
    /// erasing the one it is linked to gives it back to the one before, as a rebuild does.
    fn version(&self) -> u32 {
        3
    }

    fn apply(&self, envelope: &Envelope<'_>, state: &mut dyn StateWrite) -> Result<(), StateError> {
        apply::apply(envelope, state)
    }
}

#[cfg(test)]
mod tests;
