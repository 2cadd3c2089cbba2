//! List pagination as the spec describes it: `?limit=` (default 20, at most 100) and an opaque
//! `?cursor=` (or `?offset=` for old clients); answers are `{"items": [...], "next_cursor"}`.
//! Cursors encode the position `(created_at, id)` of the last item, for keyset pagination.

use crate::error::ApiError;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub const DEFAULT_LIMIT: i64 = 20;
pub const MAX_LIMIT: i64 = 100;
/// Deeper than any list is read by hand; keeps `offset + limit` far from overflowing.
pub const MAX_OFFSET: i64 = 1_000_000;

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// 1 to 100, default 20.
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page (opaque; its pattern only bounds what is accepted).
    #[param(pattern = r"^(k-?[0-9]{1,17}_[0-9]{1,18}|o[0-9]{1,7})?$")]
    pub cursor: Option<String>,
    /// For compatibility; prefer `cursor`.
    #[param(minimum = 0, maximum = 1_000_000)]
    pub offset: Option<i64>,
}

/// Where a page starts: after a keyset position, or at an offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Start {
    First,
    After { created_at: DateTime<Utc>, id: i64 },
    Offset(i64),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    pub limit: i64,
    pub start: Start,
}

impl PageQuery {
    pub fn parse(&self) -> Result<PageRequest, ApiError> {
        let limit = self.limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(ApiError::validation([("limit", format!("must be between 1 and {MAX_LIMIT}"))]));
        }
        // An offset is checked even beside a cursor (which then wins): a wrong value is refused
        // wherever it is.
        if self.offset.is_some_and(|offset| !(0..=MAX_OFFSET).contains(&offset)) {
            return Err(ApiError::validation([("offset", format!("must be between 0 and {MAX_OFFSET}"))]));
        }
        // An empty `cursor=` is how many clients write "no cursor".
        let cursor = self.cursor.as_deref().filter(|c| !c.is_empty());
        let start = match (cursor, self.offset) {
            (Some(cursor), _) => {
                decode(cursor).ok_or_else(|| ApiError::bad_request("invalid_cursor", "the cursor is not valid"))?
            }
            (None, Some(offset)) => Start::Offset(offset),
            (None, None) => Start::First,
        };
        Ok(PageRequest { limit, start })
    }
}

impl PageRequest {
    /// Rows to fetch: one more than the limit tells whether another page exists.
    pub fn fetch(&self) -> i64 {
        self.limit + 1
    }

    /// The page's start as SQL parameters: the keyset position to continue after (`None` from
    /// the first row), and the offset (0 unless an old client sent one).
    pub fn keyset(&self) -> (Option<DateTime<Utc>>, i64, i64) {
        match self.start {
            Start::After { created_at, id } => (Some(created_at), id, 0),
            Start::Offset(offset) => (None, 0, offset),
            Start::First => (None, 0, 0),
        }
    }

    /// Where a ranked list (search results) starts: keyset cursors mean nothing there.
    pub fn offset(&self) -> i64 {
        match self.start {
            Start::Offset(offset) => offset,
            _ => 0,
        }
    }
}

#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    /// Builds a page from up to `request.fetch()` rows; `position` gives an item's keyset.
    pub fn from_rows(mut rows: Vec<T>, request: &PageRequest, position: impl Fn(&T) -> (DateTime<Utc>, i64)) -> Self {
        let more = rows.len() as i64 > request.limit;
        rows.truncate(request.limit as usize);
        let next_cursor = match (more, request.start, rows.last()) {
            (true, Start::Offset(offset), Some(_)) => Some(encode_offset(offset + request.limit)),
            (true, _, Some(last)) => Some(encode(position(last))),
            _ => None,
        };
        Self { items: rows, next_cursor }
    }

    /// A page of ranked rows (fetched from `request.offset()`); the cursor is the next offset.
    pub fn ranked(mut rows: Vec<T>, request: &PageRequest) -> Self {
        let more = rows.len() as i64 > request.limit;
        rows.truncate(request.limit as usize);
        let next_cursor = more.then(|| encode_offset(request.offset() + request.limit));
        Self { items: rows, next_cursor }
    }

    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page { items: self.items.into_iter().map(f).collect(), next_cursor: self.next_cursor }
    }
}

// Cursors are `k<microseconds>_<id>` (keyset) and `o<offset>`: every string of the documented
// pattern is a position (a fuzzer's or an old client's included), so a cursor is refused only
// when it is not of that form.
fn encode((created_at, id): (DateTime<Utc>, i64)) -> String {
    format!("k{}_{id}", created_at.timestamp_micros())
}

fn encode_offset(offset: i64) -> String {
    format!("o{offset}")
}

fn decode(cursor: &str) -> Option<Start> {
    if let Some(position) = cursor.strip_prefix('k') {
        let (micros, id) = position.split_once('_')?;
        let digits =
            |text: &str, most: usize| (1..=most).contains(&text.len()) && text.bytes().all(|b| b.is_ascii_digit());
        if !digits(micros.strip_prefix('-').unwrap_or(micros), 17) || !digits(id, 18) {
            return None;
        }
        return Some(Start::After {
            created_at: DateTime::from_timestamp_micros(micros.parse().ok()?)?,
            id: id.parse().ok()?,
        });
    }
    if let Some(offset) = cursor.strip_prefix('o') {
        let valid = (1..=7).contains(&offset.len()) && offset.bytes().all(|b| b.is_ascii_digit());
        return valid.then(|| offset.parse().ok().map(Start::Offset)).flatten();
    }
    decode_base64(cursor)
}

/// The base64 cursors of earlier releases, still held by clients in the middle of a list.
fn decode_base64(cursor: &str) -> Option<Start> {
    let text = String::from_utf8(URL_SAFE_NO_PAD.decode(cursor).ok()?).ok()?;
    let mut parts = text.split(':');
    match (parts.next()?, parts.next(), parts.next(), parts.next()) {
        ("k", Some(micros), Some(id), None) => Some(Start::After {
            created_at: DateTime::from_timestamp_micros(micros.parse().ok()?)?,
            id: id.parse().ok()?,
        }),
        ("o", Some(offset), None, None) => {
            Some(Start::Offset(offset.parse().ok().filter(|o: &i64| (0..=MAX_OFFSET).contains(o))?))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(limit: Option<i64>, cursor: Option<&str>, offset: Option<i64>) -> PageQuery {
        PageQuery { limit, cursor: cursor.map(str::to_owned), offset }
    }

    #[test]
    fn defaults_and_bounds() {
        assert_eq!(query(None, None, None).parse().unwrap(), PageRequest { limit: 20, start: Start::First });
        assert!(query(Some(0), None, None).parse().is_err());
        assert!(query(Some(101), None, None).parse().is_err());
        assert!(query(None, None, Some(-1)).parse().is_err());
        assert!(query(None, None, Some(i64::MAX)).parse().is_err(), "no overflow further on");
        let beside_a_cursor = query(None, Some("o40"), Some(-5)).parse().unwrap_err();
        assert_eq!(beside_a_cursor.code, "validation_failed", "a wrong offset is refused beside a cursor too");
        assert_eq!(query(None, Some("o40"), Some(5)).parse().unwrap().start, Start::Offset(40), "the cursor wins");
        assert_eq!(query(None, Some("garbage!"), None).parse().unwrap_err().code, "invalid_cursor");
        assert_eq!(query(None, Some(""), Some(3)).parse().unwrap().start, Start::Offset(3), "an empty cursor is none");
    }

    #[test]
    fn every_cursor_of_the_documented_pattern_is_a_position() {
        let at = |micros| Start::After { created_at: DateTime::from_timestamp_micros(micros).unwrap(), id: 7 };
        assert_eq!(decode("k1764000000123456_7"), Some(at(1_764_000_000_123_456)));
        assert_eq!(decode("k-99999999999999999_7"), Some(at(-99_999_999_999_999_999)));
        assert_eq!(decode(&format!("k{}_{}", "9".repeat(17), "9".repeat(18))).map(|_| ()), Some(()));
        assert_eq!(decode("o9999999"), Some(Start::Offset(9_999_999)));
        for refused in ["k_7", "k1_", "k1_-7", "k1_7_8", "o", "o-1", "o12345678", "x1", "k+1_7"] {
            assert_eq!(decode(refused), None, "{refused}");
        }
        let old = URL_SAFE_NO_PAD.encode("k:1764000000123456:7");
        assert_eq!(decode(&old), Some(at(1_764_000_000_123_456)), "an earlier release's cursor");
    }

    #[test]
    fn keyset_cursor_round_trips() {
        let at = DateTime::from_timestamp_micros(1_764_000_000_123_456).unwrap();
        let rows: Vec<(DateTime<Utc>, i64)> = vec![(at, 3), (at, 2), (at, 1)];
        let page = Page::from_rows(rows, &PageRequest { limit: 2, start: Start::First }, |r| *r);
        assert_eq!(page.items.len(), 2);
        let next = query(Some(2), page.next_cursor.as_deref(), None).parse().unwrap();
        assert_eq!(next.start, Start::After { created_at: at, id: 2 });
    }

    #[test]
    fn ranked_pages_advance_by_offset() {
        let request = query(Some(2), None, None).parse().unwrap();
        let page = Page::ranked(vec!["a", "b", "c"], &request);
        assert_eq!(page.items, ["a", "b"]);
        let next = query(Some(2), page.next_cursor.as_deref(), None).parse().unwrap();
        assert_eq!(next.offset(), 2);
        assert!(Page::ranked(vec!["c"], &next).next_cursor.is_none());
    }

    #[test]
    fn last_page_has_no_cursor_and_offsets_advance() {
        let at = Utc::now();
        let page = Page::from_rows(vec![(at, 1)], &PageRequest { limit: 2, start: Start::First }, |r| *r);
        assert!(page.next_cursor.is_none());
        let rows = vec![(at, 1), (at, 2), (at, 3)];
        let page = Page::from_rows(rows, &PageRequest { limit: 2, start: Start::Offset(4) }, |r| *r);
        let next = query(None, page.next_cursor.as_deref(), None).parse().unwrap();
        assert_eq!(next.start, Start::Offset(6));
    }
}
