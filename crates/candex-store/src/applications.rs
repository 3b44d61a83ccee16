//! The applications area of the store: applications: candidates, their profile snapshots, and the reads behind `candidateProfile`.

use async_trait::async_trait;
use candex_domain::{ObjectId, Person, RelationshipSet};

use crate::*;

/// Applications: candidates, their profile snapshots, and the reads behind `candidateProfile`.
#[async_trait]
pub trait ApplicationStore: Send + Sync {
    /// Stores applications atomically: for each, the candidate (matched per hirer on the first
    /// email, its live person data replaced by the latest) and the profile snapshot. All or
    /// nothing: `NotFound` for an unknown position, `Rejected` for a closed one. Each writes
    /// its `CandidateApplicationCreated` event in the same transaction (the outbox).
    async fn ingest_applications(&self, applications: &[NewApplicationRecord])
        -> StoreResult<Vec<IngestedApplication>>;
    /// Reads one profile with its live candidate and its job ad, in one round trip.
    async fn get_profile(&self, profile_id: &ObjectId) -> StoreResult<Option<ProfileView>>;
    /// Reads one profile as [`ApplicationStore::get_profile`] does, together with the relationships
    /// `partner_id` holds with its hirer (empty when none), in one statement: the read behind
    /// `candidateProfile`, which must authorise before it answers.
    async fn get_profile_for_partner(
        &self,
        profile_id: &ObjectId,
        partner_id: &ObjectId,
    ) -> StoreResult<Option<(ProfileView, RelationshipSet)>>;
    /// Reads several profiles in one statement (a page of events fetching theirs inline), in
    /// no particular order; unknown ids are left out.
    async fn get_profiles(&self, profile_ids: &[ObjectId]) -> StoreResult<Vec<ProfileView>>;
    /// Reads one candidate.
    async fn get_candidate(&self, candidate_id: &ObjectId) -> StoreResult<Option<Candidate>>;
    /// The `last` most recent profiles of a candidate, oldest first.
    async fn candidate_profiles(&self, candidate_id: &ObjectId, last: u32) -> StoreResult<Vec<ProfileView>>;
    /// Replaces a candidate's live person data. `NotFound` when unknown; `Conflict` when the
    /// new first email belongs to another candidate of the same hirer.
    async fn update_candidate_person(&self, candidate_id: &ObjectId, person: &Person) -> StoreResult<Candidate>;
    /// One page of a job ad's applications in ingest order, after `after_seq`.
    async fn page_position_applications(
        &self,
        position_profile_id: &ObjectId,
        after_seq: Option<i64>,
        limit: u32,
    ) -> StoreResult<Vec<ApplicationSummary>>;
}
