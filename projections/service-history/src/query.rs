//! Reading the service history: records by id, a customer's history newest first, and the
//! supervisors' queues, as cursor-paginated pages.
//!
//! A listing is one or more segments, each a walk over one index in one direction; a page
//! continues from its cursor into the next segments. A cursor is `{segment}:{hex}`, the hex
//! being the index key after the segment's prefix, so it stays valid while entries before or
//! after it come and go. A cursor is only understood by listings that contain its segment;
//! anything else is [`HistoryError::BadCursor`].
//!
//! The breached lists are cut at an instant (past a deadline as of it), so each of their
//! cursors also carries the instant of the listing's first page, `{segment}:{hex}@{ns}`, and
//! later pages continue that cut (see [`cut`]).

use jiff::Timestamp;
use ledger_domain::ids::{CaseId, CustomerId};
use ledger_domain::projection::{Order, StateError, StateRead, prefix_end};
use ledger_domain::values::ClaimNumber;

use crate::keys::{self, Item};
use crate::records::{CaseRecord, ClaimRecord, HistoryItem};
use crate::storage::{STATE, describe, history_owner};

/// The most items one page may ask for. A page is read in one go and each item is a record
/// read; a hundred keeps a page well under a millisecond of reads and matches the API's
/// connection limit.
pub const PAGE_SIZE_MAX: usize = 100;

/// One page of a listing: each item with the cursor that continues after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    pub items: Vec<(String, T)>,
    pub has_next_page: bool,
}

/// Why a listing could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HistoryError {
    /// `first` is above [`PAGE_SIZE_MAX`]; the caller asks again with less.
    #[error("a page holds at most {max} items; {requested} were requested")]
    PageTooLarge { requested: usize, max: usize },
    /// The cursor was not issued by this listing.
    #[error("the cursor was not issued by this listing")]
    BadCursor,
    #[error(transparent)]
    State(#[from] StateError),
}

/// Which service cases a listing shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaseStatusFilter {
    Open,
    Resolved,
    Closed,
}

/// The service case `id`, if the projection has seen it opened.
pub fn case(state: &dyn StateRead, id: CaseId) -> Result<Option<CaseRecord>, StateError> {
    STATE.read(state, &keys::case(id))
}

/// The claim `number`, if the projection has seen it reported.
pub fn claim(
    state: &dyn StateRead,
    number: &ClaimNumber,
) -> Result<Option<ClaimRecord>, StateError> {
    STATE.read(state, &keys::claim(number))
}

/// The customer's cases and claims, newest first (cases by when they were opened, claims by
/// when they were reported). A customer merged away has no history of its own: asking for it
/// gives the survivor's, which holds it.
pub fn customer_history(
    state: &dyn StateRead,
    customer: CustomerId,
    after: Option<&str>,
    first: usize,
) -> Result<Page<HistoryItem>, HistoryError> {
    let owner = history_owner(state, customer)?;
    let segments = [Segment {
        tag: "history",
        prefix: keys::customer_history(owner),
        from: None,
        before: None,
        order: Order::Descending,
        item: Item::RecordKey,
    }];
    let page = paginate(state, &segments, after, first)?;
    load_page(page, |record_key| {
        if record_key.starts_with(keys::CASE) {
            Ok(HistoryItem::Case(load(state, record_key)?))
        } else {
            Ok(HistoryItem::Claim(load(state, record_key)?))
        }
    })
}

/// Open cases, the nearest deadline first.
pub fn open_cases_by_deadline(
    state: &dyn StateRead,
    after: Option<&str>,
    first: usize,
) -> Result<Page<CaseRecord>, HistoryError> {
    let segments = [open_segment(None)];
    load_cases(state, paginate(state, &segments, after, first)?)
}

/// Cases that breached their deadline in any cycle as seen at `now` (exactly those for which
/// [`CaseRecord::is_breached`] holds): first the open ones, by deadline — those past it now,
/// the longest overdue first (the ones to act on), then those that breached an earlier cycle
/// and were reopened, the nearest deadline first; then resolved cases with a late resolution
/// in any cycle, and then closed ones, each most recent first (the ones to review). Later
/// pages keep the first page's `now` ([`cut`]).
pub fn breached_cases(
    state: &dyn StateRead,
    now: Timestamp,
    after: Option<&str>,
    first: usize,
) -> Result<Page<CaseRecord>, HistoryError> {
    cases(state, None, true, now, after, first)
}

/// Service cases by status (all of them when `status` is `None`), optionally only those
/// breached in any cycle as seen at `now` (see [`breached_cases`]). Open cases come first, the
/// nearest deadline first; then resolved cases, most recently resolved first; then closed
/// cases, most recently closed first.
pub fn cases(
    state: &dyn StateRead,
    status: Option<CaseStatusFilter>,
    breached_only: bool,
    now: Timestamp,
    after: Option<&str>,
    first: usize,
) -> Result<Page<CaseRecord>, HistoryError> {
    if breached_only {
        let (as_of, after) = cut(now, after)?;
        let page = cases_cut(state, status, Some(as_of), after, first)?;
        return Ok(with_cut(page, as_of));
    }
    cases_cut(state, status, None, after, first)
}

/// [`cases`], only those breached as of `breached_at` when it is given.
fn cases_cut(
    state: &dyn StateRead,
    status: Option<CaseStatusFilter>,
    breached_at: Option<Timestamp>,
    after: Option<&str>,
    first: usize,
) -> Result<Page<CaseRecord>, HistoryError> {
    let breached_only = breached_at.is_some();
    let open = || {
        match breached_at {
            // Past the deadline then, or not yet but late in an earlier cycle: the two walks
            // meet at that instant, so together they are the breached open cases in deadline
            // order, each once.
            Some(at) => vec![open_segment(Some(at)), late_open_segment(at)],
            None => vec![open_segment(None)],
        }
    };
    let resolved = || done_segment(CaseStatusFilter::Resolved, breached_only);
    let closed = || done_segment(CaseStatusFilter::Closed, breached_only);
    let segments = match status {
        None => {
            let mut segments = open();
            segments.extend([resolved(), closed()]);
            segments
        }
        Some(CaseStatusFilter::Open) => open(),
        Some(CaseStatusFilter::Resolved) => vec![resolved()],
        Some(CaseStatusFilter::Closed) => vec![closed()],
    };
    load_cases(state, paginate(state, &segments, after, first)?)
}

/// Claims that missed their time guarantee in any cycle as seen at `now` (exactly those for
/// which [`ClaimRecord::is_past_guarantee`] holds). First the undecided ones (the ones to act
/// on): those awaiting a decision past their due time now, the longest overdue first; then
/// those decided late in an earlier cycle and reopened, not past a due time now, the nearest
/// due time first and those with no guarantee running (awaiting their documents again) last.
/// Then the decided ones with a late decision in any cycle, most recently decided first (the
/// ones to review). Later pages keep the first page's `now` ([`cut`]).
pub fn claims_past_guarantee(
    state: &dyn StateRead,
    now: Timestamp,
    after: Option<&str>,
    first: usize,
) -> Result<Page<ClaimRecord>, HistoryError> {
    let (now, after) = cut(now, after)?;
    // The first two walks meet at `now`, so together they are the undecided claims past their
    // guarantee, each once.
    let segments = [
        Segment {
            tag: "due",
            prefix: keys::CLAIM_DUE.to_vec(),
            from: None,
            before: Some(keys::instant_bound(keys::CLAIM_DUE, now)),
            order: Order::Ascending,
            item: Item::ClaimNumber,
        },
        Segment {
            tag: "late-open",
            prefix: keys::CLAIM_LATE_OPEN.to_vec(),
            from: Some(keys::instant_bound(keys::CLAIM_LATE_OPEN, now)),
            before: None,
            order: Order::Ascending,
            item: Item::ClaimNumber,
        },
        Segment {
            tag: "late",
            prefix: keys::CLAIM_LATE.to_vec(),
            from: None,
            before: None,
            order: Order::Descending,
            item: Item::ClaimNumber,
        },
    ];
    let page = paginate(state, &segments, after, first)?;
    let page = load_page(page, |record_key| load(state, record_key))?;
    Ok(with_cut(page, now))
}

/// The instant a listing cut at `now` is cut at, and the cursor within it: a first page (no
/// `after`) is cut at `now`, and every later one at the instant its cursor carries
/// (`…@{nanoseconds}`, see [`with_cut`]), so an item passing its deadline while a supervisor
/// pages through is neither skipped nor listed twice (it shows in the next listing from the
/// start). A cursor with no instant, or one after `now` (which no page of this clock issued),
/// is [`HistoryError::BadCursor`].
fn cut(now: Timestamp, after: Option<&str>) -> Result<(Timestamp, Option<&str>), HistoryError> {
    let Some(cursor) = after else {
        return Ok((now, None));
    };
    let (within, instant) = cursor.rsplit_once('@').ok_or(HistoryError::BadCursor)?;
    let as_of = instant
        .parse::<i128>()
        .ok()
        .and_then(|nanoseconds| Timestamp::from_nanosecond(nanoseconds).ok())
        .filter(|as_of| *as_of <= now)
        .ok_or(HistoryError::BadCursor)?;
    Ok((as_of, Some(within)))
}

/// `page` with the instant `as_of` its listing is cut at added to every cursor (see [`cut`]).
fn with_cut<T>(mut page: Page<T>, as_of: Timestamp) -> Page<T> {
    let instant = as_of.as_nanosecond();
    for (cursor, _) in &mut page.items {
        cursor.push_str(&format!("@{instant}"));
    }
    page
}

/// One index walked in one direction, optionally only from the key `from` and below the key
/// `before`.
struct Segment {
    tag: &'static str,
    prefix: Vec<u8>,
    from: Option<Vec<u8>>,
    before: Option<Vec<u8>>,
    order: Order,
    item: Item,
}

/// Open cases by deadline; with `past_at`, only those whose deadline is before it.
fn open_segment(past_at: Option<Timestamp>) -> Segment {
    Segment {
        tag: "open",
        prefix: keys::OPEN.to_vec(),
        from: None,
        before: past_at.map(|now| keys::instant_bound(keys::OPEN, now)),
        order: Order::Ascending,
        item: Item::CaseId,
    }
}

/// Open cases resolved late in an earlier cycle whose deadline is `now` or later, by deadline:
/// the breached open cases [`open_segment`] up to `now` leaves out.
fn late_open_segment(now: Timestamp) -> Segment {
    Segment {
        tag: "late-open",
        prefix: keys::LATE_OPEN.to_vec(),
        from: Some(keys::instant_bound(keys::LATE_OPEN, now)),
        before: None,
        order: Order::Ascending,
        item: Item::CaseId,
    }
}

/// Resolved or closed cases, most recent first; with `breached_only`, those resolved late in
/// any cycle.
fn done_segment(status: CaseStatusFilter, breached_only: bool) -> Segment {
    let (tag, prefix) = match (status, breached_only) {
        (CaseStatusFilter::Closed, false) => ("closed", keys::CLOSED),
        (CaseStatusFilter::Closed, true) => ("late-closed", keys::LATE_CLOSED),
        (_, false) => ("resolved", keys::RESOLVED),
        (_, true) => ("late-resolved", keys::LATE_RESOLVED),
    };
    Segment {
        tag,
        prefix: prefix.to_vec(),
        from: None,
        before: None,
        order: Order::Descending,
        item: Item::CaseId,
    }
}

/// Where a page starts: the segment the cursor belongs to and its key suffix.
fn parse_cursor(segments: &[Segment], cursor: &str) -> Result<(usize, Vec<u8>), HistoryError> {
    let (tag, hex) = cursor.split_once(':').ok_or(HistoryError::BadCursor)?;
    let index = segments
        .iter()
        .position(|segment| segment.tag == tag)
        .ok_or(HistoryError::BadCursor)?;
    let suffix = keys::from_hex(hex).ok_or(HistoryError::BadCursor)?;
    if !keys::is_index_suffix(segments[index].item, &suffix) {
        return Err(HistoryError::BadCursor);
    }
    Ok((index, suffix))
}

/// Up to `first` index entries after `after`, as (cursor, record key), walking `segments` in
/// order.
fn paginate(
    state: &dyn StateRead,
    segments: &[Segment],
    after: Option<&str>,
    first: usize,
) -> Result<Page<Vec<u8>>, HistoryError> {
    if first > PAGE_SIZE_MAX {
        return Err(HistoryError::PageTooLarge {
            requested: first,
            max: PAGE_SIZE_MAX,
        });
    }
    let (first_segment, cursor) = match after {
        Some(cursor) => {
            let (index, suffix) = parse_cursor(segments, cursor)?;
            (index, Some(suffix))
        }
        None => (0, None),
    };
    // One more than asked for tells whether there is a next page.
    let wanted = first + 1;
    let mut items = Vec::with_capacity(wanted);
    for (index, segment) in segments.iter().enumerate().skip(first_segment) {
        let mut start = segment
            .from
            .clone()
            .unwrap_or_else(|| segment.prefix.clone());
        // Our prefixes end in `/`, so they always have an end; empty would mean "no end".
        let mut end = prefix_end(&segment.prefix).unwrap_or_default();
        if let Some(before) = &segment.before {
            end = before.clone();
        }
        if let (Some(suffix), true) = (&cursor, index == first_segment) {
            let mut at_cursor = segment.prefix.clone();
            at_cursor.extend_from_slice(suffix);
            match segment.order {
                Order::Ascending => {
                    // The smallest key after the cursor's.
                    at_cursor.push(0);
                    start = start.max(at_cursor);
                }
                Order::Descending => end = end.min(at_cursor),
            }
        }
        if start >= end {
            continue;
        }
        let entries = state.range(&start, &end, segment.order, wanted - items.len())?;
        for (key, record_key) in entries {
            let cursor = format!(
                "{}:{}",
                segment.tag,
                keys::to_hex(&key[segment.prefix.len()..])
            );
            items.push((cursor, record_key));
        }
        if items.len() == wanted {
            break;
        }
    }
    let has_next_page = items.len() > first;
    items.truncate(first);
    Ok(Page {
        items,
        has_next_page,
    })
}

fn load<T: serde::de::DeserializeOwned>(
    state: &dyn StateRead,
    record_key: &[u8],
) -> Result<T, HistoryError> {
    STATE.read(state, record_key)?.ok_or_else(|| {
        HistoryError::State(StateError(format!(
            "service-history: an index points at {}, which is not stored",
            describe(record_key)
        )))
    })
}

fn load_cases(
    state: &dyn StateRead,
    page: Page<Vec<u8>>,
) -> Result<Page<CaseRecord>, HistoryError> {
    load_page(page, |record_key| load(state, record_key))
}

fn load_page<T>(
    page: Page<Vec<u8>>,
    mut load: impl FnMut(&[u8]) -> Result<T, HistoryError>,
) -> Result<Page<T>, HistoryError> {
    let items = page
        .items
        .into_iter()
        .map(|(cursor, record_key)| Ok((cursor, load(&record_key)?)))
        .collect::<Result<_, HistoryError>>()?;
    Ok(Page {
        items,
        has_next_page: page.has_next_page,
    })
}
