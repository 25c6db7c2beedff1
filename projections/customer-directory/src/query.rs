//! The directory's read API: functions over any [`StateRead`], for the GraphQL layer and for
//! the command side's "who holds this identifier" question.

use ledger_domain::ids::CustomerId;
use ledger_domain::projection::{Order, StateError, StateRead, prefix_end};
use ledger_domain::values::Identifier;

use crate::keys::{
    self, CUSTOMER_ID_BYTES, NAME, NAME_SEPARATOR, OWNED, RECORD, customer_key, fold_name,
    from_hex, identifier_key, record_key, to_hex, trailing_customer,
};
use crate::record::{CustomerRecord, IdentifierOwners, OwnedIdentifier};

/// The most items one page of [`search_by_name`], [`customers`] or [`identifiers_of`] holds.
/// An agent reads one screenful of candidates; a program listing everything pages on. Asking
/// for more is [`SearchError::PageTooLarge`], never a shorter page.
pub const NAME_SEARCH_PAGE_MAX: usize = 100;

/// The most merges followed from a customer to its final survivor. A survivor is rarely merged
/// again, so real chains are one or two hops; the bound turns a chain that should not exist
/// (corrupted state, or sixteen merges of merges) into a [`StateError`] instead of a long walk.
/// The fold never closes a cycle, so only the length can exceed it.
pub const MERGE_HOPS_MAX: usize = 16;

/// One page of a listing: each item with the opaque cursor that resumes after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    pub items: Vec<(String, T)>,
    pub has_next_page: bool,
}

/// Why a listing could not be served. The first two are the caller's to fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SearchError {
    #[error("a page holds at most {max} items; {requested} were asked for")]
    PageTooLarge { requested: usize, max: usize },
    /// The cursor was not returned by this listing (or this search prefix).
    #[error("the cursor is not one this listing returned")]
    BadCursor,
    #[error(transparent)]
    State(#[from] StateError),
}

/// The customer `identifier` finds: its holder, or else the customer a policy or claim event
/// linked it to, followed through merges to the final survivor. `None` when nobody has it or
/// when that survivor was erased. A survivor whose personal data reads as erased only because
/// its data key is not in this ledger is found (by what is not personal: policy and claim
/// numbers), and its record says `erased`.
pub fn resolve(
    state: &dyn StateRead,
    identifier: &Identifier,
) -> Result<Option<CustomerId>, StateError> {
    let owners = read_owners(state, identifier)?;
    let Some(direct) = owners.held.or(owners.linked()) else {
        return Ok(None);
    };
    let survivor = survivor(state, direct)?;
    let erased = customer(state, survivor)?.is_some_and(|record| record.erasure_recorded());
    Ok((!erased).then_some(survivor))
}

/// The customer holding `identifier` right now, without following merges: what the "one owner
/// per identifier" rule asks. Identifiers merely linked by policy and claim events have no
/// holder.
pub fn identifier_owner(
    state: &dyn StateRead,
    identifier: &Identifier,
) -> Result<Option<CustomerId>, StateError> {
    Ok(read_owners(state, identifier)?.held)
}

/// How `customer` knows `identifier` (held, linked, both), as [`identifiers_of`] lists it;
/// `None` when it does not.
pub fn owned_identifier(
    state: &dyn StateRead,
    customer: CustomerId,
    identifier: &Identifier,
) -> Result<Option<OwnedIdentifier>, StateError> {
    keys::read(state, &keys::owned_key(customer, identifier))
}

/// The customer's record, if it was registered.
pub fn customer(
    state: &dyn StateRead,
    id: CustomerId,
) -> Result<Option<CustomerRecord>, StateError> {
    record_of(state, id)
}

/// [`customer`] for any state, the fold's writable one included.
pub(crate) fn record_of<S: StateRead + ?Sized>(
    state: &S,
    id: CustomerId,
) -> Result<Option<CustomerRecord>, StateError> {
    keys::read(state, &record_key(id))
}

/// The final survivor of `id`'s merges; `id` itself when it was not merged.
pub fn survivor(state: &dyn StateRead, id: CustomerId) -> Result<CustomerId, StateError> {
    final_survivor(state, id, None)?.ok_or_else(|| {
        StateError(format!(
            "customer-directory: the merges from customer {id} go on for more than \
             {MERGE_HOPS_MAX} hops"
        ))
    })
}

/// Follows merges from `start`; `None` when the chain reaches `avoid` (the customer about to be
/// merged, so the merge would close a cycle) or is longer than [`MERGE_HOPS_MAX`].
pub(crate) fn final_survivor<S: StateRead + ?Sized>(
    state: &S,
    start: CustomerId,
    avoid: Option<CustomerId>,
) -> Result<Option<CustomerId>, StateError> {
    let mut current = start;
    let mut hops = 0;
    loop {
        if avoid == Some(current) {
            return Ok(None);
        }
        let Some(next) = record_of(state, current)?.and_then(|record| record.merged_into) else {
            return Ok(Some(current));
        };
        if hops == MERGE_HOPS_MAX {
            return Ok(None);
        }
        hops += 1;
        current = next;
    }
}

/// Live customers (not merged away, not erased) whose name starts with `prefix`, by name and
/// then id. Case is ignored (`zhang` finds `Zhang Wei`); Chinese names match character by
/// character (`张` finds `张三` and `张三丰`). An empty prefix lists every live customer.
pub fn search_by_name(
    state: &dyn StateRead,
    prefix: &str,
    after: Option<&str>,
    first: usize,
) -> Result<Page<CustomerRecord>, SearchError> {
    let folded = fold_name(prefix);
    let mut base = vec![NAME];
    base.extend_from_slice(folded.as_bytes());
    // A name cursor is the name key without its tag: folded name ‖ 0x00 ‖ customer id. It must
    // extend this search's prefix, or it came from another search.
    let is_name_cursor = |suffix: &[u8]| {
        suffix.len() > CUSTOMER_ID_BYTES
            && suffix[suffix.len() - CUSTOMER_ID_BYTES - 1] == NAME_SEPARATOR
            && suffix.starts_with(folded.as_bytes())
    };
    paged(state, &base, 1, after, first, is_name_cursor, |key, _| {
        let id = trailing_customer(key)?;
        customer(state, id)?.ok_or_else(|| {
            StateError(format!(
                "customer-directory: the name index lists customer {id}, who has no record"
            ))
        })
    })
}

/// Every registered customer, merged and erased ones included (their records say so), in id
/// order: registration order for UUID v7 ids.
pub fn customers(
    state: &dyn StateRead,
    after: Option<&str>,
    first: usize,
) -> Result<Page<CustomerRecord>, SearchError> {
    let is_id = |suffix: &[u8]| suffix.len() == CUSTOMER_ID_BYTES;
    paged(state, &[RECORD], 1, after, first, is_id, keys::decode)
}

/// Every identifier `customer` holds or is linked to, by kind and then value.
pub fn identifiers_of(
    state: &dyn StateRead,
    customer: CustomerId,
    after: Option<&str>,
    first: usize,
) -> Result<Page<OwnedIdentifier>, SearchError> {
    let base = customer_key(OWNED, customer);
    let is_identifier = |suffix: &[u8]| suffix.len() > 1;
    paged(
        state,
        &base,
        base.len(),
        after,
        first,
        is_identifier,
        keys::decode,
    )
}

/// One page of the keys under `base`, in key order, resuming after the key whose bytes from
/// `cursor_from` on are the hex cursor `after`.
fn paged<T>(
    state: &dyn StateRead,
    base: &[u8],
    cursor_from: usize,
    after: Option<&str>,
    first: usize,
    is_valid_cursor: impl Fn(&[u8]) -> bool,
    item: impl Fn(&[u8], &[u8]) -> Result<T, StateError>,
) -> Result<Page<T>, SearchError> {
    if first > NAME_SEARCH_PAGE_MAX {
        return Err(SearchError::PageTooLarge {
            requested: first,
            max: NAME_SEARCH_PAGE_MAX,
        });
    }
    let start = match after {
        None => base.to_vec(),
        Some(cursor) => {
            let suffix = from_hex(cursor)
                .filter(|suffix| is_valid_cursor(suffix))
                .ok_or(SearchError::BadCursor)?;
            // The smallest key after the cursor's key: the key with a zero byte appended.
            let mut start = base[..cursor_from].to_vec();
            start.extend_from_slice(&suffix);
            start.push(0);
            start
        }
    };
    // Every base starts with an ASCII tag, so it always has an end; empty would mean "to the
    // end of the keyspace", which is also correct.
    let end = prefix_end(base).unwrap_or_default();
    // One more than asked tells whether another page follows; `first` is bounded above.
    let mut rows = state.range(&start, &end, Order::Ascending, first + 1)?;
    let has_next_page = rows.len() > first;
    rows.truncate(first);
    let items = rows
        .iter()
        .map(|(key, value)| Ok((to_hex(&key[cursor_from..]), item(key, value)?)))
        .collect::<Result<_, StateError>>()?;
    Ok(Page {
        items,
        has_next_page,
    })
}

pub(crate) fn read_owners<S: StateRead + ?Sized>(
    state: &S,
    identifier: &Identifier,
) -> Result<IdentifierOwners, StateError> {
    Ok(keys::read(state, &identifier_key(identifier))?.unwrap_or_default())
}
