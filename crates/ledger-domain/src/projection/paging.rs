//! Cursor pages over one index of a projection's state, walked in ascending key order.
//!
//! A cursor is `{listing}:{hex}`, the hex being the index key after the listing's prefix, so
//! it stays valid while entries before or after it come and go. A cursor is only understood
//! by the listing that issued it: another listing's tag, bad hex or a suffix the listing could
//! not have written is [`PageError::BadCursor`].
//!
//! Each projection names its own page limit and its own query error; it passes the limit to
//! [`page`] and converts [`PageError`] into its error.

use super::{Entry, Order, StateError, StateRead, prefix_end};

/// One page of a listing: each item with the cursor that continues after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    pub items: Vec<(String, T)>,
    pub has_next_page: bool,
}

/// Why a page could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PageError {
    /// `first` is above the listing's page limit; the caller asks again with less.
    #[error("a page holds at most {max} items; {requested} were requested")]
    PageTooLarge { requested: usize, max: usize },
    /// The cursor was not issued by this listing.
    #[error("the cursor was not issued by this listing")]
    BadCursor,
    #[error(transparent)]
    State(#[from] StateError),
}

/// One index walked in ascending key order.
pub struct Listing<'a> {
    /// Names the listing in its cursors.
    pub tag: &'static str,
    pub prefix: Vec<u8>,
    /// An exclusive upper bound inside the prefix; the prefix's end when `None`.
    pub end: Option<Vec<u8>>,
    /// Whether a key suffix (the key without the prefix) is one this listing writes.
    pub is_suffix: &'a dyn Fn(&[u8]) -> bool,
}

impl std::fmt::Debug for Listing<'_> {
    // The suffix check is a closure, which has no useful `Debug`.
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Listing")
            .field("tag", &self.tag)
            .field("prefix", &self.prefix)
            .field("end", &self.end)
            .finish_non_exhaustive()
    }
}

/// Up to `first` entries of `listing` after the cursor `after`, each with its cursor; more
/// than `page_size_max` is [`PageError::PageTooLarge`].
pub fn page(
    state: &dyn StateRead,
    listing: &Listing<'_>,
    after: Option<&str>,
    first: usize,
    page_size_max: usize,
) -> Result<Page<Entry>, PageError> {
    if first > page_size_max {
        return Err(PageError::PageTooLarge {
            requested: first,
            max: page_size_max,
        });
    }
    let mut start = listing.prefix.clone();
    if let Some(cursor) = after {
        let suffix = parse_cursor(listing, cursor)?;
        start.extend_from_slice(&suffix);
        // The smallest key after the cursor's.
        start.push(0);
    }
    // Every prefix used here ends in `/`, so it has an end; empty would mean "no end".
    let end = match &listing.end {
        Some(end) => end.clone(),
        None => prefix_end(&listing.prefix).unwrap_or_default(),
    };
    if start >= end {
        return Ok(Page {
            items: Vec::new(),
            has_next_page: false,
        });
    }
    // One more than asked for tells whether there is a next page.
    let mut entries = state.range(&start, &end, Order::Ascending, first + 1)?;
    let has_next_page = entries.len() > first;
    entries.truncate(first);
    let items = entries
        .into_iter()
        .map(|(key, value)| {
            let cursor = format!("{}:{}", listing.tag, to_hex(&key[listing.prefix.len()..]));
            (cursor, (key, value))
        })
        .collect();
    Ok(Page {
        items,
        has_next_page,
    })
}

fn parse_cursor(listing: &Listing<'_>, cursor: &str) -> Result<Vec<u8>, PageError> {
    let (tag, hex) = cursor.split_once(':').ok_or(PageError::BadCursor)?;
    if tag != listing.tag {
        return Err(PageError::BadCursor);
    }
    let suffix = from_hex(hex).ok_or(PageError::BadCursor)?;
    if !(listing.is_suffix)(&suffix) {
        return Err(PageError::BadCursor);
    }
    Ok(suffix)
}

/// Lower-case hex: cursors carry binary key suffixes as text.
pub fn to_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut text = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        text.push(char::from(DIGITS[usize::from(byte >> 4)]));
        text.push(char::from(DIGITS[usize::from(byte & 0x0f)]));
    }
    text
}

/// The bytes of lower-case hex `text`, or `None` if it is not that.
pub fn from_hex(text: &str) -> Option<Vec<u8>> {
    let digit = |byte: u8| match byte {
        b'0'..=b'9' => Some(byte - b'0'),
        b'a'..=b'f' => Some(byte - b'a' + 10),
        _ => None,
    };
    let pairs = text.as_bytes().chunks_exact(2);
    if !pairs.remainder().is_empty() {
        return None;
    }
    pairs
        .map(|pair| Some(digit(pair[0])? << 4 | digit(pair[1])?))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trips_and_rejects_other_text() {
        let bytes = vec![0x00, 0x7f, 0x80, 0xff, 0x2f];
        assert_eq!(to_hex(&bytes), "007f80ff2f");
        assert_eq!(from_hex("007f80ff2f"), Some(bytes));
        for bad in ["0", "0g", "AB", "é0"] {
            assert_eq!(from_hex(bad), None, "{bad}");
        }
    }
}
