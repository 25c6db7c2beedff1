//! The values the directory stores: one summary record per customer, and who holds or is linked
//! to each identifier.

use jiff::Timestamp;
use ledger_domain::ids::{CustomerId, StaffId};
use ledger_domain::kinds::CustomerKind;
use ledger_domain::values::{Channel, Identifier, PersonName};
use serde::{Deserialize, Serialize};

/// What the directory knows about one customer.
///
/// Once `erased` is set the record keeps only non-personal facts: `name`, `group` and
/// `identifiers` are empty, and the customer is gone from name search.
///
/// `erased` says the customer's personal data reads as erased here: it was erased
/// (`CustomerErased`, at `erased_at`), or it cannot be opened in this ledger because the
/// customer's data key stayed in the ledger the history was exported from (an `import` of an
/// export into a new ledger); then `erased_at` is `None`, since nothing was erased here.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CustomerRecord {
    pub id: CustomerId,
    pub kind: CustomerKind,
    /// The person's or company's name; `None` once erased (or unreadable here).
    pub name: Option<PersonName>,
    /// The group company the customer belongs to (集团客户), if any.
    pub group: Option<PersonName>,
    /// The identifiers the customer holds (from the customer stream, and those received by
    /// merges), sorted. Identifiers merely linked by policy and claim events are listed by
    /// [`crate::identifiers_of`], since a fleet customer may have thousands.
    pub identifiers: Vec<Identifier>,
    pub account_manager: Option<AccountManager>,
    /// Marketing consent per channel, sorted by channel; a channel never mentioned has none.
    pub consents: Vec<Consent>,
    /// The survivor this customer was merged into, as the merge named it (follow
    /// [`crate::survivor`] for the final one).
    pub merged_into: Option<CustomerId>,
    /// The customers merged into this one, in the order of their merges.
    pub merged_from: Vec<CustomerId>,
    /// The personal data reads as erased: erased, or its data key is not in this ledger.
    pub erased: bool,
    /// When the customer was registered (business time).
    pub registered_at: Timestamp,
    /// When the customer was erased (business time); `None` for a customer whose personal data
    /// reads as erased only because its data key is not in this ledger.
    pub erased_at: Option<Timestamp>,
}

impl CustomerRecord {
    /// Whether name search lists the customer: it has a name, was not merged away and was not
    /// erased.
    pub fn is_listed(&self) -> bool {
        self.name.is_some() && self.merged_into.is_none() && !self.erased
    }

    /// Whether the customer's erasure was recorded (`CustomerErased`), rather than their
    /// personal data reading as erased only because their data key is not in this ledger.
    pub fn erasure_recorded(&self) -> bool {
        self.erased_at.is_some()
    }
}

/// A corporate customer's account manager and team lead (一对一接触).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountManager {
    pub manager: StaffId,
    pub team_lead: StaffId,
    pub assigned_at: Timestamp,
}

/// Marketing consent on one channel, as last changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Consent {
    pub channel: Channel,
    pub granted: bool,
    pub changed_at: Timestamp,
}

/// One identifier of a customer, and how the customer came by it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OwnedIdentifier {
    pub identifier: Identifier,
    /// The customer's own stream asserts it (registered, added, or received by a merge).
    pub held: bool,
    /// A policy or claim event named it for the customer.
    pub linked: bool,
}

/// Who an identifier leads to: the customer holding it and the customers it was linked to.
///
/// An identifier is linked to the last customer not erased whose readable event named it. A
/// rebuild that reads an erased customer's events redacted never sees their plates and VINs
/// (erased values), so for it the link never moved to them; the live fold, which did move it,
/// must reach the same answer once they are erased, and so it keeps every customer the link
/// could go back to.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct IdentifierOwners {
    pub held: Option<CustomerId>,
    /// The customers policy and claim events linked the identifier to, each once, in the order
    /// of their latest link: a customer linking it again moves to the end, an erased customer
    /// is taken out. The last is the one it is linked to ([`IdentifierOwners::linked`]).
    ///
    /// Unbounded, like a record's `merged_from` and `consents`: it grows only when a customer
    /// not in it yet links the identifier (a car's owners and claimants over its years, tens
    /// even for a fleet's plate) and shrinks at each erasure. A cap would have to forget
    /// someone, and the link would then go back to the wrong customer, or to nobody, where a
    /// rebuild finds the right one.
    pub links: Vec<CustomerId>,
}

impl IdentifierOwners {
    /// The customer the identifier is linked to now: the last of [`IdentifierOwners::links`].
    pub fn linked(&self) -> Option<CustomerId> {
        self.links.last().copied()
    }

    pub fn is_empty(&self) -> bool {
        self.held.is_none() && self.links.is_empty()
    }
}
