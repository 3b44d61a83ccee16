//! `DocCache`: parsed query documents by query text, bounded in bytes. A partner sends the
//! same query text with different variables over and over; parsing it (a PEG parser over the
//! whole text) was the largest single cost of a `candidateProfile` request. The parse (and the
//! guard's measure) is shared; a kept document is validated in full again unless its
//! variables are proven ([`super::proven`]), and may be answered directly ([`super::direct`]).
//!
//! Only documents that passed validation for an authenticated caller are stored (the handler
//! decides), so traffic without a token cannot grow the cache, and its size is bounded by an
//! estimate of each parsed document's memory, not by a count.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, OnceLock};

use async_graphql::parser::types::ExecutableDocument;

use super::direct::Plan;

/// Longest query text kept, in bytes.
pub const MAX_QUERY_BYTES: usize = 32 * 1024;

/// Estimated heap bytes of a parsed document per lexical token (names, positions, vectors
/// and maps of the AST), measured on documents of repeated fields and nested selections;
/// kept generous so the estimate errs high. It covers a direct plan too (a key and a small
/// node per selected field).
const BYTES_PER_TOKEN: usize = 256;

/// The cache. Shared by every request of a server.
pub struct DocCache {
    budget: usize,
    inner: Mutex<Inner>,
}

/// A kept document, with its direct plan compiled on first use ([`Plan::compile`]).
pub struct Cached {
    /// The parsed document.
    pub doc: ExecutableDocument,
    plan: OnceLock<Option<Plan>>,
}

impl Cached {
    /// How `candidateProfile` is answered directly, if this document can be
    /// ([`super::direct`]); compiled once.
    pub fn plan(&self) -> Option<&Plan> {
        self.plan.get_or_init(|| Plan::compile(&self.doc)).as_ref()
    }
}

#[derive(Default)]
struct Inner {
    docs: HashMap<Arc<str>, (Arc<Cached>, usize)>,
    /// Insertion order, for eviction (oldest first).
    order: VecDeque<Arc<str>>,
    bytes: usize,
}

impl DocCache {
    /// A cache holding at most `budget` estimated bytes.
    pub fn new(budget: usize) -> Self {
        Self { budget, inner: Mutex::default() }
    }

    /// The estimated bytes a document of `query` with `tokens` tokens occupies.
    pub fn weight(query: &str, tokens: usize) -> usize {
        query.len() * 2 + tokens.saturating_mul(BYTES_PER_TOKEN)
    }

    /// The parsed document of `query`, if kept.
    pub fn get(&self, query: &str) -> Option<Arc<Cached>> {
        self.lock().docs.get(query).map(|(cached, _)| Arc::clone(cached))
    }

    /// Keeps `doc` as the parse of `query`, evicting the oldest documents to stay within the
    /// budget. Documents longer than [`MAX_QUERY_BYTES`] or weighing more than an eighth of
    /// the budget are not kept.
    pub fn insert(&self, query: &str, tokens: usize, doc: ExecutableDocument) {
        let weight = Self::weight(query, tokens);
        if query.len() > MAX_QUERY_BYTES || weight > self.budget / 8 {
            return;
        }
        let mut inner = self.lock();
        if inner.docs.contains_key(query) {
            return;
        }
        while inner.bytes + weight > self.budget {
            let Some(oldest) = inner.order.pop_front() else { break };
            if let Some((_, w)) = inner.docs.remove(&oldest) {
                inner.bytes -= w;
            }
        }
        let key: Arc<str> = Arc::from(query);
        inner.order.push_back(key.clone());
        inner.docs.insert(key, (Arc::new(Cached { doc, plan: OnceLock::new() }), weight));
        inner.bytes += weight;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Documents kept now.
    pub fn len(&self) -> usize {
        self.lock().docs.len()
    }

    /// Whether nothing is kept.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Estimated bytes kept now.
    pub fn bytes(&self) -> usize {
        self.lock().bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(q: &str) -> ExecutableDocument {
        async_graphql::parser::parse_query(q).expect("parses")
    }

    #[test]
    fn a_kept_document_is_returned_for_the_same_text_only() {
        let cache = DocCache::new(1024 * 1024);
        cache.insert("{ version }", 3, parse("{ version }"));
        assert!(cache.get("{ version }").is_some());
        assert!(cache.get("{ version  }").is_none());
        cache.insert("{ version }", 3, parse("{ version }"));
        assert_eq!(cache.len(), 1);
    }

    #[test]
    fn the_cache_stays_within_its_byte_budget_and_evicts_the_oldest() {
        let budget = 64 * 1024;
        let cache = DocCache::new(budget);
        for i in 0..1000 {
            let q = format!("query Q{i} {{ version }}");
            cache.insert(&q, 5, parse(&q));
            assert!(cache.bytes() <= budget, "over budget after {i} inserts");
        }
        assert!(cache.get("query Q999 { version }").is_some(), "the newest is kept");
        assert!(cache.get("query Q0 { version }").is_none(), "the oldest was evicted");
        // A document weighing more than an eighth of the budget is not kept at all.
        let big = format!("{{ {} }}", "version ".repeat(200));
        cache.insert(&big, 202, parse(&big));
        assert!(cache.get(&big).is_none());
    }
}
