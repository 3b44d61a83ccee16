//! The erasure area of the store: erasing a candidate, as SEEK redacts.

use async_trait::async_trait;
use candex_domain::ObjectId;

use crate::*;

/// Erasing a candidate, as SEEK redacts.
#[async_trait]
pub trait ErasureStore: Send + Sync {
    /// Erases a candidate in one transaction, as SEEK redacts: the live person becomes
    /// `Person::redacted()` (and never matches a new application again), every profile's
    /// snapshot is emptied, questionnaire responses and attachment rows are deleted.
    /// Identifiers stay valid. Returns the content hashes no attachment references any more,
    /// for the caller to delete from blob storage. `NotFound` for an unknown candidate.
    async fn erase_candidate(&self, candidate_id: &ObjectId) -> StoreResult<ErasedCandidate>;
}
