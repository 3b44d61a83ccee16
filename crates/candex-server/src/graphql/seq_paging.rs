//! Keyset paging for the event and webhook connections: opaque cursors over store sequence
//! numbers, the `first`/`last`/`after`/`before` request, `PageInfo`, and connection complexity.

use base64::Engine;
use candex_store::SeqPage;

use super::error::bad_user_input;
use super::relay::{page, Page, PageInfo};

/// Items per page when neither `first` nor `last` is given (SEEK: 10).
pub const DEFAULT_PAGE: u32 = 10;
/// Most items per page (SEEK: 100 for events and webhooks).
pub const MAX_PAGE: u32 = 100;

/// The cursor of the item at `seq`.
pub fn encode_cursor(seq: i64) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("seq:{seq}"))
}

/// The sequence number of a cursor from [`encode_cursor`]; `BAD_USER_INPUT` on `pointer` for
/// anything else.
pub fn decode_cursor(cursor: &str, pointer: &str) -> async_graphql::Result<i64> {
    let bad = || bad_user_input(pointer, "is not a cursor returned by this field");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(cursor).map_err(|_| bad())?;
    let text = String::from_utf8(bytes).map_err(|_| bad())?;
    text.strip_prefix("seq:").and_then(|n| n.parse().ok()).ok_or_else(bad)
}

/// A validated paging request.
#[derive(Debug, Clone, Copy)]
pub struct SeqPaging {
    after: Option<i64>,
    before: Option<i64>,
    limit: u32,
    from_end: bool,
}

impl SeqPaging {
    /// Checks the Relay arguments: not both `first` and `last`, each 0..=100 (default 10),
    /// cursors from this server.
    pub fn new(
        first: Option<i32>,
        last: Option<i32>,
        after: Option<&str>,
        before: Option<&str>,
    ) -> async_graphql::Result<Self> {
        let (limit, from_end) = match page(first, last, DEFAULT_PAGE, MAX_PAGE)? {
            Page::First(n) => (n, false),
            Page::Last(n) => (n, true),
        };
        let after = after.map(|c| decode_cursor(c, "/after")).transpose()?;
        let before = before.map(|c| decode_cursor(c, "/before")).transpose()?;
        Ok(Self { after, before, limit, from_end })
    }

    /// The store request: one item more than the page, to learn whether more follow.
    pub fn request(&self) -> SeqPage {
        SeqPage { after: self.after, before: self.before, limit: self.limit + 1, from_end: self.from_end }
    }

    /// Trims the store's answer (ascending, at most `limit + 1` items) to the page and pairs
    /// each item with its cursor.
    pub fn finish<T>(&self, mut rows: Vec<T>, seq: impl Fn(&T) -> i64) -> (Vec<(String, T)>, PageInfo) {
        let more = rows.len() > self.limit as usize;
        if more {
            if self.from_end {
                rows.drain(..rows.len() - self.limit as usize);
            } else {
                rows.truncate(self.limit as usize);
            }
        }
        let items: Vec<(String, T)> = rows.into_iter().map(|r| (encode_cursor(seq(&r)), r)).collect();
        let page_info = PageInfo {
            has_next_page: if self.from_end { self.before.is_some() } else { more },
            has_previous_page: if self.from_end { more } else { self.after.is_some() },
            start_cursor: items.first().map(|(c, _)| c.clone()),
            end_cursor: items.last().map(|(c, _)| c.clone()),
        };
        (items, page_info)
    }
}

/// The complexity of a connection field: each of the up to `first`/`last` items (default 10,
/// at most 100) costs the selection, so nested connections multiply rather than add.
pub fn connection_complexity(first: Option<i32>, last: Option<i32>, child_complexity: usize) -> usize {
    let count = first.or(last).map_or(DEFAULT_PAGE, |n| u32::try_from(n).unwrap_or(0).min(MAX_PAGE));
    (count.max(1) as usize).saturating_mul(child_complexity).saturating_add(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_garbage_is_refused() {
        assert_eq!(decode_cursor(&encode_cursor(42), "/after").ok(), Some(42));
        for bad in ["", "!!", "c2VxOng", "aGVsbG8"] {
            assert!(decode_cursor(bad, "/after").is_err(), "{bad:?}");
        }
    }

    #[test]
    fn forward_pages_know_whether_more_follow() {
        let paging = SeqPaging::new(Some(2), None, None, None).unwrap();
        assert_eq!(paging.request().limit, 3);
        let (items, info) = paging.finish(vec![1i64, 2, 3], |n| *n);
        assert_eq!(items.iter().map(|(_, n)| *n).collect::<Vec<_>>(), [1, 2]);
        assert!(info.has_next_page && !info.has_previous_page);
        assert_eq!(info.end_cursor, Some(encode_cursor(2)));
    }

    #[test]
    fn backward_pages_keep_the_last_items() {
        let before = encode_cursor(9);
        let paging = SeqPaging::new(None, Some(2), None, Some(&before)).unwrap();
        assert!(paging.request().from_end);
        let (items, info) = paging.finish(vec![6i64, 7, 8], |n| *n);
        assert_eq!(items.iter().map(|(_, n)| *n).collect::<Vec<_>>(), [7, 8]);
        assert!(info.has_next_page && info.has_previous_page);
    }

    #[test]
    fn complexity_multiplies_by_the_page_size() {
        assert_eq!(connection_complexity(Some(100), None, 5), 501);
        assert_eq!(connection_complexity(None, None, 5), 51);
        assert_eq!(connection_complexity(None, Some(1_000), 2), 201);
        assert_eq!(connection_complexity(Some(0), None, 3), 4);
    }
}
