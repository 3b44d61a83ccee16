//! Candidate erasure, as SEEK redacts deleted candidates: one transaction that redacts the
//! live person, empties every profile's snapshot, and deletes questionnaire responses and
//! attachment rows. Identifiers stay valid, so queries keep working.

use candex_domain::{ObjectId, Person, Snapshot};
use candex_store::{ErasedCandidate, StoreError, StoreResult};
use sqlx::{PgPool, Postgres, Transaction};

use crate::codec::{millis, to_json};
use crate::error::map_err;

pub(crate) async fn erase_candidate(pool: &PgPool, candidate_id: &ObjectId) -> StoreResult<ErasedCandidate> {
    let now = millis(&candex_domain::time::now_ms());
    let mut tx = pool.begin().await.map_err(map_err)?;
    // The email key is the matching key for new applications; an erased candidate must never
    // match again, and the key stays unique per hirer. The update locks the candidate's row,
    // so an application matching it concurrently lands either before (and is erased too) or
    // after (and creates a new candidate).
    let updated =
        sqlx::query("update candidates set person = $2, email_key = 'erased:' || id, updated_at = $3 where id = $1")
            .bind(candidate_id.as_str())
            .bind(to_json(&Person::redacted())?)
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
    if updated.rows_affected() == 0 {
        return Err(StoreError::NotFound("candidate"));
    }
    let profiles = sqlx::query("update profiles set snapshot = $2, updated_at = $3 where candidate_id = $1")
        .bind(candidate_id.as_str())
        .bind(to_json(&Snapshot::default())?)
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(map_err)?
        .rows_affected();
    crate::questionnaires::delete_candidate_submissions(&mut tx, candidate_id).await?;
    let unreferenced_blobs = delete_attachments(&mut tx, candidate_id).await?;
    tx.commit().await.map_err(map_err)?;
    Ok(ErasedCandidate { candidate_id: candidate_id.clone(), profiles, unreferenced_blobs })
}

/// Deletes the attachment rows of every profile of a candidate; returns the content hashes no
/// row references any more.
async fn delete_attachments(tx: &mut Transaction<'_, Postgres>, candidate_id: &ObjectId) -> StoreResult<Vec<String>> {
    let hashes: Vec<String> = sqlx::query_scalar(
        "delete from attachments
         where profile_id in (select profile_id from profiles where candidate_id = $1)
         returning sha256",
    )
    .bind(candidate_id.as_str())
    .fetch_all(&mut **tx)
    .await
    .map_err(map_err)?;
    crate::attachments::unreferenced(tx, &hashes).await
}

#[async_trait::async_trait]
impl candex_store::ErasureStore for crate::PgStore {
    #[tracing::instrument(skip_all)]
    async fn erase_candidate(&self, candidate_id: &ObjectId) -> StoreResult<ErasedCandidate> {
        crate::erasure::erase_candidate(&self.pool, candidate_id).await
    }
}
