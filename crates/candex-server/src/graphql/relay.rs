//! Relay cursor pagination helpers: argument checks and `PageInfo`.

use async_graphql::SimpleObject;

use super::error::bad_user_input;

/// `PageInfo`.
#[derive(Debug, Clone, Default, SimpleObject)]
pub struct PageInfo {
    /// Whether more items follow.
    pub has_next_page: bool,
    /// Whether items precede.
    pub has_previous_page: bool,
    /// Cursor of the first item.
    pub start_cursor: Option<String>,
    /// Cursor of the last item.
    pub end_cursor: Option<String>,
}

/// Validated paging direction and size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Page {
    /// `first: n` (the default direction).
    First(u32),
    /// `last: n`.
    Last(u32),
}

/// Checks `first`/`last` against SEEK's rules: not both, 0..=max, default `default`.
pub fn page(first: Option<i32>, last: Option<i32>, default: u32, max: u32) -> async_graphql::Result<Page> {
    let check = |name: &str, n: i32| -> async_graphql::Result<u32> {
        u32::try_from(n)
            .ok()
            .filter(|n| *n <= max)
            .ok_or_else(|| bad_user_input(&format!("/{name}"), format!("must be between 0 and {max}")))
    };
    match (first, last) {
        (Some(_), Some(_)) => Err(bad_user_input("/last", "first and last must not be used together")),
        (Some(n), None) => Ok(Page::First(check("first", n)?)),
        (None, Some(n)) => Ok(Page::Last(check("last", n)?)),
        (None, None) => Ok(Page::First(default)),
    }
}
