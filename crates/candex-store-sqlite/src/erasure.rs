//! Candidate erasure, as SEEK redacts deleted candidates: one transaction that redacts the
//! live person, empties every profile's snapshot, and deletes questionnaire responses and
//! attachment rows. Identifiers stay valid, so queries keep working.

use candex_domain::{ObjectId, Person, Snapshot};
use candex_store::{ErasedCandidate, StoreError, StoreResult};
use sqlx::SqlitePool;

use crate::codec::{millis, to_json};
use crate::error::map_err;

pub(crate) async fn erase_candidate(writer: &SqlitePool, candidate_id: &ObjectId) -> StoreResult<ErasedCandidate> {
    let now = millis(&candex_domain::time::now_ms());
    let mut tx = writer.begin_with("begin immediate").await.map_err(map_err)?;
    // The email key is the matching key for new applications; an erased candidate must never
    // match again, and the key stays unique per hirer.
    let updated =
        sqlx::query("update candidates set person = ?2, email_key = 'erased:' || id, updated_at = ?3 where id = ?1")
            .bind(candidate_id.as_str())
            .bind(to_json(&Person::redacted())?)
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
    if updated.rows_affected() == 0 {
        return Err(StoreError::NotFound("candidate"));
    }
    let profiles = sqlx::query("update profiles set snapshot = ?2, updated_at = ?3 where candidate_id = ?1")
        .bind(candidate_id.as_str())
        .bind(to_json(&Snapshot::default())?)
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(map_err)?
        .rows_affected();
    sqlx::query(
        "delete from questionnaire_submissions where profile_id in (select profile_id from profiles where candidate_id = ?1)",
    )
    .bind(candidate_id.as_str())
    .execute(&mut *tx)
    .await
    .map_err(map_err)?;
    let hashes: Vec<String> = sqlx::query_scalar(
        "delete from attachments where profile_id in (select profile_id from profiles where candidate_id = ?1) returning sha256",
    )
    .bind(candidate_id.as_str())
    .fetch_all(&mut *tx)
    .await
    .map_err(map_err)?;
    let mut unreferenced_blobs = Vec::new();
    for hash in hashes {
        if unreferenced_blobs.contains(&hash) {
            continue;
        }
        let still_used: Option<i64> = sqlx::query_scalar("select 1 from attachments where sha256 = ?1 limit 1")
            .bind(&hash)
            .fetch_optional(&mut *tx)
            .await
            .map_err(map_err)?;
        if still_used.is_none() {
            unreferenced_blobs.push(hash);
        }
    }
    tx.commit().await.map_err(map_err)?;
    Ok(ErasedCandidate { candidate_id: candidate_id.clone(), profiles, unreferenced_blobs })
}

#[async_trait::async_trait]
impl candex_store::ErasureStore for crate::SqliteStore {
    #[tracing::instrument(skip_all)]
    async fn erase_candidate(&self, candidate_id: &ObjectId) -> StoreResult<ErasedCandidate> {
        crate::erasure::erase_candidate(&self.writer, candidate_id).await
    }
}
