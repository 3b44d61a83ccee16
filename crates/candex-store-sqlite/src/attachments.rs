//! Attachment rows written with their application inside its ingest transaction; reads,
//! retention and erasure are shared (`candex_store::AttachmentStore`).

use candex_domain::ObjectId;
use candex_store::{NewAttachment, StoreError, StoreResult};
use sqlx::{Sqlite, Transaction};

use crate::codec::{millis, to_json};
use crate::error::map_err;

/// Stores an application's attachment rows inside its ingest transaction.
pub(crate) async fn insert_attachments(
    tx: &mut Transaction<'_, Sqlite>,
    profile_id: &ObjectId,
    attachments: &[NewAttachment],
) -> StoreResult<()> {
    for (ordinal, a) in attachments.iter().enumerate() {
        let size = i64::try_from(a.size).map_err(|_| StoreError::Rejected("attachment is too large".into()))?;
        sqlx::query(
            "insert into attachments (id, profile_id, ordinal, sha256, filename, content_type, size,
                 seek_role_code, descriptions, uploaded_at)
             values (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        )
        .bind(a.id.as_str())
        .bind(profile_id.as_str())
        .bind(ordinal as i64)
        .bind(&a.sha256)
        .bind(&a.filename)
        .bind(&a.content_type)
        .bind(size)
        .bind(a.seek_role_code.as_deref())
        .bind(to_json(&a.descriptions)?)
        .bind(millis(&a.uploaded_at))
        .execute(&mut **tx)
        .await
        .map_err(map_err)?;
    }
    Ok(())
}
