//! The erasure area of the store: erasing a candidate, as SEEK redacts.

use async_trait::async_trait;
use candex_domain::{CandidateId, EventType, HirerId, Person, Snapshot};

use crate::sql::{to_json, Exec, Lock, Outbox, SqlBackend, Transaction};
use crate::*;

/// Erasing a candidate, as SEEK redacts.
#[async_trait]
pub trait ErasureStore: Send + Sync {
    /// Erases a candidate in one transaction, as SEEK redacts: the live person becomes
    /// `Person::redacted()` (and never matches a new application again), every profile's
    /// snapshot is emptied, questionnaire responses, process history items and attachment rows
    /// are deleted.
    /// Identifiers stay valid. Returns the content hashes no attachment references any more,
    /// for the caller to delete from blob storage. `NotFound` for an unknown candidate.
    ///
    /// In the same transaction (the outbox) it emits `event`, a `CandidateErased` event of the
    /// candidate's hirer naming the candidate, into the stream of every partner that holds
    /// `ApplicationExport` with the hirer now or was sent one of the candidate's
    /// applications (`CandidateApplicationCreated`), with a pending delivery for each of
    /// their `CandidateErased` subscriptions. Erasing again emits again.
    ///
    /// When it returns, the erased values are gone from SQLite's files (database and WAL); on
    /// PostgreSQL they stay in dead row versions until [`compact`](Self::compact) runs.
    async fn erase_candidate(&self, candidate_id: &CandidateId, event: &EventStamp) -> StoreResult<ErasedCandidate>;

    /// Rewrites the tables that hold personal data so that no erased value stays in the
    /// database's files (on PostgreSQL this takes each table's exclusive lock while it runs).
    async fn compact(&self) -> StoreResult<()>;
}

#[async_trait]
impl<B: SqlBackend> ErasureStore for B {
    #[tracing::instrument(skip_all)]
    async fn erase_candidate(&self, candidate_id: &CandidateId, event: &EventStamp) -> StoreResult<ErasedCandidate> {
        let now = candex_domain::time::now_ms();
        let mut tx = self.begin().await?;
        // The event order first, before any row lock (see `Lock::EventOrder`).
        tx.lock(Lock::EventOrder).await?;
        // The email key is the matching key for new applications; an erased candidate must
        // never match again, and the key stays unique per hirer. The update locks the
        // candidate's row (PostgreSQL), so an application matching it concurrently lands
        // either before (and is erased too) or after (and creates a new candidate).
        let redact = "update candidates set person = $2, email_key = 'erased:' || id, updated_at = $3 where id = $1 \
                      returning hirer_id";
        let hirer = tx.optional(stmt!(redact, candidate_id, to_json(&Person::redacted())?, now), hirer_id::<B>).await?;
        let Some(hirer) = hirer else { return Err(StoreError::NotFound("candidate")) };
        let empty = "update profiles set snapshot = $2, updated_at = $3 where candidate_id = $1";
        let profiles = tx.execute(stmt!(empty, candidate_id, to_json(&Snapshot::default())?, now)).await?;
        const OF_CANDIDATE: &str = "profile_id in (select profile_id from profiles where candidate_id = $1)";
        tx.execute(stmt!(format!("delete from questionnaire_submissions where {OF_CANDIDATE}"), candidate_id)).await?;
        tx.execute(stmt!(format!("delete from process_history_items where {OF_CANDIDATE}"), candidate_id)).await?;
        let delete = format!("delete from attachments where {OF_CANDIDATE} returning sha256");
        let hashes = tx.all(stmt!(delete, candidate_id), crate::attachments::sha256::<B>).await?;
        let unreferenced_blobs = crate::attachments::unreferenced::<B>(&mut tx, &hashes).await?;
        let outbox = Outbox {
            id: &event.id,
            event_type: EventType::CandidateErased,
            hirer_id: &hirer,
            at: event.at,
            candidate_profile_id: None,
            candidate_id: Some(candidate_id),
            position_profile_id: None,
            only_partner: None,
        };
        B::emit(&mut tx, outbox).await?;
        tx.commit().await?;
        self.scrub().await?;
        Ok(ErasedCandidate { candidate_id: candidate_id.clone(), profiles, unreferenced_blobs })
    }

    #[tracing::instrument(skip_all)]
    async fn compact(&self) -> StoreResult<()> {
        SqlBackend::compact(self).await
    }
}

/// The `hirer_id` column of a candidate row.
fn hirer_id<B: SqlBackend>(row: &crate::sql::Row<B>) -> StoreResult<HirerId> {
    Ok(HirerId::from_trusted(crate::rows::StoredRow::<B::Db>::new(row).text("hirer_id")?))
}
