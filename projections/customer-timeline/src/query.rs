//! The timeline's read API: one page of a customer's timeline, newest first, filtered by
//! channel, kind and time, with Relay cursor pagination both ways.

use jiff::Timestamp;
use ledger_domain::events::CATALOGUE;
use ledger_domain::ids::{ContactId, CustomerId};
use ledger_domain::projection::{Order, StateError, StateRead};
use ledger_domain::values::Channel;

use crate::entry::TimelineEntry;
use crate::keys::{
    self, COUNT, cursor, customer_key, entry_key, parse_cursor, slot_of, time_bytes, timeline_end,
    timeline_prefix,
};

/// The most entries one page holds. An agent's screen shows a few dozen; 200 covers an export
/// page while keeping one response (summaries are up to 2,000 characters each) around a
/// megabyte at worst. Asking for more is [`TimelineError::PageTooLarge`], never a shorter page.
pub const TIMELINE_PAGE_MAX: usize = 200;

/// The most entries one request reads when its filters are selective (say, the one complaint
/// among a fleet customer's 50,000 entries). Reading is about a microsecond an entry in
/// process, so 20,000 keeps a request near 20 ms whatever the filters. When a request reaches
/// the bound it returns the entries found so far and says more may follow (`has_next_page`,
/// or `has_previous_page` when paging backward) with the cursor of the last entry read as
/// `end_cursor` (or `start_cursor`), so paging on from that cursor continues the scan where it
/// stopped; nothing is skipped.
pub const TIMELINE_SCAN_MAX: usize = 20_000;

/// How many entries a filtered request reads at a time.
const SCAN_CHUNK_ENTRIES: usize = 256;

/// Which entries a page shows. Empty lists mean "all".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TimelineFilter {
    pub channels: Vec<Channel>,
    /// Event type names (`ContactRecorded`, `ClaimReported` ...).
    pub kinds: Vec<String>,
    /// Entries that occurred at or after this instant.
    pub from: Option<Timestamp>,
    /// Entries that occurred before this instant (exclusive, so adjacent ranges do not overlap).
    pub to: Option<Timestamp>,
}

impl TimelineFilter {
    /// Whether the filter looks inside entries (the time range is a key range and costs
    /// nothing to apply).
    fn inspects_entries(&self) -> bool {
        !self.channels.is_empty() || !self.kinds.is_empty()
    }

    fn matches(&self, entry: &TimelineEntry) -> bool {
        let channel_ok = self.channels.is_empty()
            || entry
                .channel
                .is_some_and(|channel| self.channels.contains(&channel));
        let kind_ok = self.kinds.is_empty() || self.kinds.contains(&entry.kind);
        channel_ok && kind_ok
    }
}

/// Which page to read, with Relay's semantics over the newest-first list. A page's
/// `has_previous_page` (after `after`) and `has_next_page` (before `before`) count the cursor's
/// own entry, which the neighbouring page showed, so walking pages either way ends exactly at
/// the ends of the list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PageRequest {
    /// The `first` entries after `after` (older than it), or from the newest.
    First { first: usize, after: Option<String> },
    /// The `last` entries before `before` (newer than it, the ones nearest to it), or the
    /// oldest `last` entries; returned newest first like every page.
    Last { last: usize, before: Option<String> },
}

/// One page, newest first, each entry with the cursor that pages on from it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimelinePage {
    pub entries: Vec<(String, TimelineEntry)>,
    pub has_next_page: bool,
    pub has_previous_page: bool,
    /// Where a backward request continues (`before`): the first entry's cursor, or, when a
    /// backward scan reached [`TIMELINE_SCAN_MAX`], the cursor of the last entry it read.
    pub start_cursor: Option<String>,
    /// Where a forward request continues (`after`): the last entry's cursor, or, when a forward
    /// scan reached [`TIMELINE_SCAN_MAX`], the cursor of the last entry it read.
    pub end_cursor: Option<String>,
}

/// Why a page could not be read. All but `State` are the caller's to fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TimelineError {
    #[error("a timeline page holds at most {max} entries; {requested} were asked for")]
    PageTooLarge { requested: usize, max: usize },
    #[error("the cursor is not one a timeline page returned")]
    BadCursor,
    #[error("{0} is not an event type")]
    UnknownKind(String),
    #[error("the time range ends ({to}) before it starts ({from})")]
    InvertedRange { from: Timestamp, to: Timestamp },
    #[error(transparent)]
    State(#[from] StateError),
}

/// One page of `customer`'s timeline. A merged customer's own timeline stops at its merge;
/// callers show the survivor's (the directory's `survivor`).
pub fn page(
    state: &dyn StateRead,
    customer: CustomerId,
    filter: &TimelineFilter,
    request: &PageRequest,
) -> Result<TimelinePage, TimelineError> {
    check(filter, request)?;
    let bounds = Bounds::of(customer, filter);
    match request {
        PageRequest::First { first, after } => {
            let after = after
                .as_deref()
                .map(|text| cursor_key(customer, text))
                .transpose()?;
            forward(state, filter, &bounds, *first, after)
        }
        PageRequest::Last { last, before } => {
            let before = before
                .as_deref()
                .map(|text| cursor_key(customer, text))
                .transpose()?;
            backward(state, filter, &bounds, *last, before)
        }
    }
}

/// How many entries `customer`'s timeline holds (for a connection's total count).
pub fn entry_count(state: &dyn StateRead, customer: CustomerId) -> Result<u64, StateError> {
    Ok(keys::read(state, &customer_key(COUNT, customer))?.unwrap_or(0))
}

/// The customer whose timeline the contact `contact`'s entry was first written to: the
/// customer whose stream recorded it (its survivor, for a contact that arrived after its
/// customer was merged away); `None` when no contact of that id was applied. For a command
/// that names a contact under another customer's id, to say whose it is.
pub fn contact_timeline(
    state: &dyn StateRead,
    contact: ContactId,
) -> Result<Option<CustomerId>, StateError> {
    let home: Option<keys::ContactHome> = keys::read(state, &keys::contact_key(contact))?;
    Ok(home.map(|home| home.customer))
}

fn check(filter: &TimelineFilter, request: &PageRequest) -> Result<(), TimelineError> {
    let requested = match request {
        PageRequest::First { first, .. } => *first,
        PageRequest::Last { last, .. } => *last,
    };
    if requested > TIMELINE_PAGE_MAX {
        return Err(TimelineError::PageTooLarge {
            requested,
            max: TIMELINE_PAGE_MAX,
        });
    }
    let unknown = filter
        .kinds
        .iter()
        .find(|kind| !CATALOGUE.iter().any(|entry| entry.name == kind.as_str()));
    if let Some(kind) = unknown {
        return Err(TimelineError::UnknownKind(kind.clone()));
    }
    match (filter.from, filter.to) {
        (Some(from), Some(to)) if to < from => Err(TimelineError::InvertedRange { from, to }),
        _ => Ok(()),
    }
}

/// The entry key a cursor names on `customer`'s timeline.
fn cursor_key(customer: CustomerId, text: &str) -> Result<Vec<u8>, TimelineError> {
    let slot = parse_cursor(text).ok_or(TimelineError::BadCursor)?;
    Ok(entry_key(customer, &slot))
}

/// The key range `[low, high)` of the customer's entries inside the filter's time range.
struct Bounds {
    low: Vec<u8>,
    high: Vec<u8>,
}

impl Bounds {
    fn of(customer: CustomerId, filter: &TimelineFilter) -> Self {
        let at = |instant: Timestamp| {
            let mut key = timeline_prefix(customer);
            key.extend_from_slice(&time_bytes(instant));
            key
        };
        Self {
            low: filter.from.map_or_else(|| timeline_prefix(customer), at),
            high: filter.to.map_or_else(|| timeline_end(customer), at),
        }
    }
}

/// The smallest key after `key`.
fn next_key(key: &[u8]) -> Vec<u8> {
    let mut next = key.to_vec();
    next.push(0);
    next
}

fn forward(
    state: &dyn StateRead,
    filter: &TimelineFilter,
    bounds: &Bounds,
    first: usize,
    after: Option<Vec<u8>>,
) -> Result<TimelinePage, TimelineError> {
    // Older than the cursor: below its key.
    let high = after.as_ref().map_or(bounds.high.clone(), |key| {
        key.clone().min(bounds.high.clone())
    });
    let found = scan(
        state,
        filter,
        &bounds.low,
        &high,
        Order::Descending,
        first + 1,
    )?;
    let (entries, more, resume) = found.split(first)?;
    // The cursor's own entry was on the page before, so it counts as a previous entry.
    let has_previous_page = match &after {
        Some(key) => {
            let newer = scan(state, filter, key, &bounds.high, Order::Ascending, 1)?;
            !newer.matches.is_empty() || newer.stopped_at_bound
        }
        None => false,
    };
    Ok(TimelinePage {
        start_cursor: entries.first().map(|(cursor, _)| cursor.clone()),
        end_cursor: resume.or_else(|| entries.last().map(|(cursor, _)| cursor.clone())),
        entries,
        has_next_page: more,
        has_previous_page,
    })
}

fn backward(
    state: &dyn StateRead,
    filter: &TimelineFilter,
    bounds: &Bounds,
    last: usize,
    before: Option<Vec<u8>>,
) -> Result<TimelinePage, TimelineError> {
    // Newer than the cursor: from just above its key, nearest first.
    let low = before.as_ref().map_or(bounds.low.clone(), |key| {
        next_key(key).max(bounds.low.clone())
    });
    let found = scan(
        state,
        filter,
        &low,
        &bounds.high,
        Order::Ascending,
        last + 1,
    )?;
    let (mut entries, more, resume) = found.split(last)?;
    entries.reverse();
    // Likewise the cursor's own entry is on the page after.
    let has_next_page = match &before {
        Some(key) => {
            let older = scan(
                state,
                filter,
                &bounds.low,
                &next_key(key),
                Order::Descending,
                1,
            )?;
            !older.matches.is_empty() || older.stopped_at_bound
        }
        None => false,
    };
    Ok(TimelinePage {
        start_cursor: resume.or_else(|| entries.first().map(|(cursor, _)| cursor.clone())),
        end_cursor: entries.last().map(|(cursor, _)| cursor.clone()),
        entries,
        has_next_page,
        has_previous_page: more,
    })
}

/// What a scan found: matching entries in scan order, and where it stopped.
struct Scan {
    matches: Vec<(Vec<u8>, TimelineEntry)>,
    /// The scan read [`TIMELINE_SCAN_MAX`] entries before finding all it wanted.
    stopped_at_bound: bool,
    /// The key of the last entry read.
    last_read: Option<Vec<u8>>,
}

impl Scan {
    /// The first `size` matches with their cursors, whether more may follow, and (when the scan
    /// stopped at its bound) the cursor to resume from.
    #[allow(
        clippy::type_complexity,
        reason = "a private helper's three results, named at the call sites"
    )]
    fn split(
        self,
        size: usize,
    ) -> Result<(Vec<(String, TimelineEntry)>, bool, Option<String>), StateError> {
        let found_more = self.matches.len() > size;
        let resume = match (&self.last_read, self.stopped_at_bound && !found_more) {
            (Some(key), true) => Some(cursor(&slot_of(key)?)),
            _ => None,
        };
        let entries = self
            .matches
            .into_iter()
            .take(size)
            .map(|(key, entry)| Ok((cursor(&slot_of(&key)?), entry)))
            .collect::<Result<_, StateError>>()?;
        Ok((entries, found_more || resume.is_some(), resume))
    }
}

/// Reads entries of `[low, high)` in `order` until `wanted` match the filter, the range ends,
/// or [`TIMELINE_SCAN_MAX`] entries were read. An unfiltered scan is one range read.
fn scan(
    state: &dyn StateRead,
    filter: &TimelineFilter,
    low: &[u8],
    high: &[u8],
    order: Order,
    wanted: usize,
) -> Result<Scan, StateError> {
    let mut found = Scan {
        matches: Vec::new(),
        stopped_at_bound: false,
        last_read: None,
    };
    let (mut low, mut high) = (low.to_vec(), high.to_vec());
    let mut read = 0;
    while found.matches.len() < wanted && low < high {
        let budget = TIMELINE_SCAN_MAX - read;
        if budget == 0 {
            found.stopped_at_bound = true;
            break;
        }
        let chunk = if filter.inspects_entries() {
            SCAN_CHUNK_ENTRIES
        } else {
            wanted - found.matches.len()
        };
        let chunk = chunk.min(budget);
        let rows = state.range(&low, &high, order, chunk)?;
        for (key, value) in &rows {
            read += 1;
            found.last_read = Some(key.clone());
            let entry: TimelineEntry = keys::decode(key, value)?;
            if filter.matches(&entry) {
                found.matches.push((key.clone(), entry));
                if found.matches.len() == wanted {
                    return Ok(found);
                }
            }
        }
        let Some((last, _)) = rows.last() else {
            break;
        };
        if rows.len() < chunk {
            break;
        }
        match order {
            Order::Descending => high.clone_from(last),
            Order::Ascending => low = next_key(last),
        }
    }
    Ok(found)
}
