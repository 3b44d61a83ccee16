//! `DocCache`: parsed query documents by query text. A partner sends the same query text with
//! different variables over and over; parsing it (a PEG parser over the whole text) was the
//! largest single cost of a `candidateProfile` request. Limits (depth, directives, complexity)
//! and validation still run on every request; only the parse is shared.

use std::collections::HashMap;
use std::sync::Mutex;

use async_graphql::parser::types::ExecutableDocument;

/// Most documents kept; when full the cache starts over (a client cycling through unique
/// queries costs what it would without a cache, and memory stays bounded).
const CAPACITY: usize = 512;

/// Longest query text cached, in bytes.
const MAX_QUERY_BYTES: usize = 32 * 1024;

/// The cache. Shared by every request of a schema.
#[derive(Default)]
pub struct DocCache {
    docs: Mutex<HashMap<String, ExecutableDocument>>,
}

impl DocCache {
    /// Gives `request` its parsed document from the cache, parsing and caching it on a miss.
    /// Text that does not parse is left alone, so the executor reports the error as usual.
    pub fn prepare(&self, request: &mut async_graphql::Request) {
        if request.query.len() > MAX_QUERY_BYTES {
            return;
        }
        if let Some(doc) = self.lock().get(&request.query) {
            request.set_parsed_query(doc.clone());
            return;
        }
        let Ok(doc) = async_graphql::parser::parse_query(&request.query) else { return };
        let mut docs = self.lock();
        if docs.len() >= CAPACITY {
            docs.clear();
        }
        docs.insert(request.query.clone(), doc.clone());
        drop(docs);
        request.set_parsed_query(doc);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, ExecutableDocument>> {
        self.docs.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Documents cached now.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether nothing is cached.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_query_is_parsed_once_and_bad_text_is_left_to_the_executor() {
        let cache = DocCache::default();
        let mut a = async_graphql::Request::new("{ version }");
        cache.prepare(&mut a);
        assert!(a.parsed_query().is_ok());
        let mut b = async_graphql::Request::new("{ version }");
        cache.prepare(&mut b);
        assert_eq!(cache.len(), 1);
        let mut bad = async_graphql::Request::new("{ version");
        cache.prepare(&mut bad);
        assert_eq!(cache.len(), 1, "unparsable text is not cached");
        assert!(bad.parsed_query().is_err(), "and still fails as before");
    }

    #[test]
    fn the_cache_stays_bounded() {
        let cache = DocCache::default();
        for i in 0..CAPACITY + 10 {
            let mut r = async_graphql::Request::new(format!("query Q{i} {{ version }}"));
            cache.prepare(&mut r);
        }
        assert!(cache.len() <= CAPACITY);
    }
}
