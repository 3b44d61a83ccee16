//! Attachments: metadata rows stored with their application, read per profile or one by one
//! (with what access checks need), and the retention purge.

use candex_domain::ObjectId;
use candex_store::attachment_columns;
use candex_store::rows;
use candex_store::{Attachment, AttachmentAccess, NewAttachment, PurgedAttachments, StoreError, StoreResult};
use chrono::{DateTime, Utc};
use sqlx::{Sqlite, SqlitePool, Transaction};

use crate::codec::{cols, millis, to_json, Db};
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

pub(crate) async fn profile_attachments(reader: &SqlitePool, profile_id: &ObjectId) -> StoreResult<Vec<Attachment>> {
    const SQL: &str =
        concat!("select ", attachment_columns!(), " from attachments a where a.profile_id = ?1 order by a.ordinal");
    let rows = sqlx::query(SQL).bind(profile_id.as_str()).fetch_all(reader).await.map_err(map_err)?;
    rows.iter().map(rows::attachment::<Db>).collect()
}

pub(crate) async fn attachments_of_profiles(
    reader: &SqlitePool,
    profile_ids: &[ObjectId],
) -> StoreResult<Vec<Attachment>> {
    if profile_ids.is_empty() {
        return Ok(Vec::new());
    }
    const SQL: &str = concat!(
        "select ",
        attachment_columns!(),
        " from attachments a where a.profile_id in (select value from json_each(?1)) order by a.profile_id, a.ordinal"
    );
    let ids: Vec<&str> = profile_ids.iter().map(ObjectId::as_str).collect();
    let rows = sqlx::query(SQL).bind(to_json(&ids)?).fetch_all(reader).await.map_err(map_err)?;
    rows.iter().map(rows::attachment::<Db>).collect()
}

pub(crate) async fn get_attachment(
    reader: &SqlitePool,
    attachment_id: &ObjectId,
) -> StoreResult<Option<AttachmentAccess>> {
    const SQL: &str = concat!(
        "select ",
        attachment_columns!(),
        ", p.hirer_id, pos.closed_at
         from attachments a
         join profiles p on p.profile_id = a.profile_id
         join positions pos on pos.profile_id = p.position_profile_id
         where a.id = ?1"
    );
    let row = sqlx::query(SQL).bind(attachment_id.as_str()).fetch_optional(reader).await.map_err(map_err)?;
    row.map(|row| {
        Ok(AttachmentAccess {
            attachment: rows::attachment::<Db>(&row)?,
            hirer_id: cols(&row).id("hirer_id")?,
            position_closed_at: cols(&row).opt_time("closed_at")?,
        })
    })
    .transpose()
}

pub(crate) async fn attachment_blob_referenced(reader: &SqlitePool, sha256: &str) -> StoreResult<bool> {
    sqlx::query_scalar::<_, i64>("select exists (select 1 from attachments where sha256 = ?1)")
        .bind(sha256)
        .fetch_one(reader)
        .await
        .map(|n| n != 0)
        .map_err(map_err)
}

pub(crate) async fn purge_attachments_of_positions_closed_before(
    writer: &SqlitePool,
    closed_before: DateTime<Utc>,
) -> StoreResult<PurgedAttachments> {
    let mut tx = writer.begin_with("begin immediate").await.map_err(map_err)?;
    let hashes: Vec<String> = sqlx::query_scalar(
        "delete from attachments where profile_id in (
             select p.profile_id from profiles p
             join positions pos on pos.profile_id = p.position_profile_id
             where pos.closed_at is not null and pos.closed_at < ?1)
         returning sha256",
    )
    .bind(millis(&closed_before))
    .fetch_all(&mut *tx)
    .await
    .map_err(map_err)?;
    let rows = hashes.len() as u64;
    let unreferenced_sha256: Vec<String> = if hashes.is_empty() {
        Vec::new()
    } else {
        sqlx::query_scalar(
            "select distinct j.value from json_each(?1) j
             where not exists (select 1 from attachments a where a.sha256 = j.value)
             order by j.value",
        )
        .bind(to_json(&hashes)?)
        .fetch_all(&mut *tx)
        .await
        .map_err(map_err)?
    };
    tx.commit().await.map_err(map_err)?;
    Ok(PurgedAttachments { rows, unreferenced_sha256 })
}

#[async_trait::async_trait]
impl candex_store::AttachmentStore for crate::SqliteStore {
    #[tracing::instrument(skip_all)]
    async fn profile_attachments(&self, profile_id: &ObjectId) -> StoreResult<Vec<Attachment>> {
        crate::attachments::profile_attachments(&self.reader, profile_id).await
    }

    async fn attachments_of_profiles(&self, profile_ids: &[ObjectId]) -> StoreResult<Vec<Attachment>> {
        crate::attachments::attachments_of_profiles(&self.reader, profile_ids).await
    }

    #[tracing::instrument(skip_all)]
    async fn get_attachment(&self, attachment_id: &ObjectId) -> StoreResult<Option<AttachmentAccess>> {
        crate::attachments::get_attachment(&self.reader, attachment_id).await
    }

    #[tracing::instrument(skip_all)]
    async fn attachment_blob_referenced(&self, sha256: &str) -> StoreResult<bool> {
        crate::attachments::attachment_blob_referenced(&self.reader, sha256).await
    }

    #[tracing::instrument(skip_all)]
    async fn purge_attachments_of_positions_closed_before(
        &self,
        closed_before: chrono::DateTime<chrono::Utc>,
    ) -> StoreResult<PurgedAttachments> {
        crate::attachments::purge_attachments_of_positions_closed_before(&self.writer, closed_before).await
    }
}
