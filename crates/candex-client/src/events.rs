//! `EventsPager`: pages the `events` stream forward from a cursor until `hasNextPage` is false.

use crate::ops::{
    EventEdge, EventsData, EventsFilter, EventsVariables, CANDEX_EVENT_TYPE_CODES, EVENTS_QUERY,
    EVENTS_WITH_ERASURES_QUERY,
};
use crate::{Client, ClientError};

/// One page of events and the cursor to persist once the page has been processed.
#[derive(Debug, Clone)]
pub struct Page {
    /// The edges, in stream order.
    pub events: Vec<EventEdge>,
    /// Resume point after this page (`endCursor`; unchanged if the page was empty).
    pub cursor: Option<String>,
    /// Whether the server said more pages follow.
    pub has_next_page: bool,
}

/// Pages `events(schemeId, first, after)`.
#[derive(Debug, Clone)]
pub struct EventsPager {
    client: Client,
    scheme_id: String,
    page_size: u32,
    after: Option<String>,
    since: Option<String>,
    erasures: bool,
    done: bool,
}

impl EventsPager {
    /// A pager over `scheme_id` starting after `cursor` (`None`: from the start of the stream).
    pub fn new(client: Client, scheme_id: impl Into<String>, cursor: Option<String>) -> Self {
        Self {
            client,
            scheme_id: scheme_id.into(),
            page_size: 100,
            after: cursor,
            since: None,
            erasures: false,
            done: false,
        }
    }

    /// Page size (`first`), 1..=100; default 100.
    pub fn page_size(mut self, n: u32) -> Self {
        self.page_size = n.clamp(1, 100);
        self
    }

    /// Without a cursor, starts at the first event after this stream time (RFC 3339) instead of the
    /// start of the stream. Ignored once a cursor exists.
    pub fn since(mut self, date_time: Option<String>) -> Self {
        self.since = date_time;
        self
    }

    /// Also reads candex's `CandidateErased` events (with their `candidateId` and `hirerId`):
    /// only for a server whose schema has them ([`Client::supports_erasure_events`]).
    pub fn with_erasures(mut self, erasures: bool) -> Self {
        self.erasures = erasures;
        self
    }

    /// The cursor after the last page returned.
    pub fn cursor(&self) -> Option<&str> {
        self.after.as_deref()
    }

    /// The next page, or `None` once caught up (the previous page had `hasNextPage: false`).
    pub async fn next_page(&mut self) -> Result<Option<Page>, ClientError> {
        if self.done {
            return Ok(None);
        }
        let after_date_time = match (&self.after, &self.since) {
            (None, Some(since)) => Some(since.as_str()),
            _ => None,
        };
        let event_type_codes = self.erasures.then_some(&CANDEX_EVENT_TYPE_CODES[..]);
        let filter = (after_date_time.is_some() || event_type_codes.is_some())
            .then_some(EventsFilter { after_date_time, event_type_codes });
        let vars =
            EventsVariables { scheme_id: &self.scheme_id, first: self.page_size, after: self.after.as_deref(), filter };
        let query = if self.erasures { EVENTS_WITH_ERASURES_QUERY } else { EVENTS_QUERY };
        let data: EventsData = self.client.graphql(query, &vars).await?;
        let connection = data.events.unwrap_or_default();
        let has_next = connection.page_info.has_next_page;
        if let Some(cursor) =
            connection.page_info.end_cursor.or_else(|| connection.edges.last().and_then(|e| e.cursor.clone()))
        {
            self.after = Some(cursor);
        } else if has_next {
            return Err(ClientError::MissingCursor);
        }
        if !has_next {
            self.done = true;
            if connection.edges.is_empty() {
                return Ok(None);
            }
        }
        Ok(Some(Page { events: connection.edges, cursor: self.after.clone(), has_next_page: has_next }))
    }
}
