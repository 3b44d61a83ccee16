//! Attachments: metadata rows stored with their application, read per profile or one by one
//! (with what access checks need), and the retention purge.

use candex_domain::ObjectId;
use candex_store::attachment_columns;
use candex_store::rows;
use candex_store::{Attachment, AttachmentAccess, NewAttachment, PurgedAttachments, StoreError, StoreResult};
use chrono::{DateTime, Utc};
use sqlx::{PgPool, Postgres, Transaction};

use crate::codec::{cols, id_strs, millis, to_json, Db};
use crate::error::map_err;

/// Stores an application's attachment rows inside its ingest transaction.
pub(crate) async fn insert_attachments(
    tx: &mut Transaction<'_, Postgres>,
    profile_id: &ObjectId,
    attachments: &[NewAttachment],
) -> StoreResult<()> {
    for (ordinal, a) in attachments.iter().enumerate() {
        let size = i64::try_from(a.size).map_err(|_| StoreError::Rejected("attachment is too large".into()))?;
        let ordinal = i64::try_from(ordinal).map_err(|_| StoreError::Rejected("too many attachments".into()))?;
        sqlx::query(
            "insert into attachments (id, profile_id, ordinal, sha256, filename, content_type, size,
                 seek_role_code, descriptions, uploaded_at)
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(a.id.as_str())
        .bind(profile_id.as_str())
        .bind(ordinal)
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

pub(crate) async fn profile_attachments(pool: &PgPool, profile_id: &ObjectId) -> StoreResult<Vec<Attachment>> {
    const SQL: &str =
        concat!("select ", attachment_columns!(), " from attachments a where a.profile_id = $1 order by a.ordinal");
    let rows = sqlx::query(SQL).bind(profile_id.as_str()).fetch_all(pool).await.map_err(map_err)?;
    rows.iter().map(rows::attachment::<Db>).collect()
}

pub(crate) async fn attachments_of_profiles(pool: &PgPool, profile_ids: &[ObjectId]) -> StoreResult<Vec<Attachment>> {
    if profile_ids.is_empty() {
        return Ok(Vec::new());
    }
    const SQL: &str = concat!(
        "select ",
        attachment_columns!(),
        r#" from attachments a where a.profile_id = any($1) order by a.profile_id collate "C", a.ordinal"#
    );
    let rows = sqlx::query(SQL).bind(id_strs(profile_ids)).fetch_all(pool).await.map_err(map_err)?;
    rows.iter().map(rows::attachment::<Db>).collect()
}

pub(crate) async fn get_attachment(pool: &PgPool, attachment_id: &ObjectId) -> StoreResult<Option<AttachmentAccess>> {
    const SQL: &str = concat!(
        "select ",
        attachment_columns!(),
        ", p.hirer_id, pos.closed_at
         from attachments a
         join profiles p on p.profile_id = a.profile_id
         join positions pos on pos.profile_id = p.position_profile_id
         where a.id = $1"
    );
    let row = sqlx::query(SQL).bind(attachment_id.as_str()).fetch_optional(pool).await.map_err(map_err)?;
    row.map(|row| {
        Ok(AttachmentAccess {
            attachment: rows::attachment::<Db>(&row)?,
            hirer_id: cols(&row).id("hirer_id")?,
            position_closed_at: cols(&row).opt_time("closed_at")?,
        })
    })
    .transpose()
}

pub(crate) async fn attachment_blob_referenced(pool: &PgPool, sha256: &str) -> StoreResult<bool> {
    sqlx::query_scalar::<_, bool>("select exists (select 1 from attachments where sha256 = $1)")
        .bind(sha256)
        .fetch_one(pool)
        .await
        .map_err(map_err)
}

/// Of `hashes` (content hashes whose rows this transaction just deleted), those no attachment
/// row references any more, each once, in binary order.
pub(crate) async fn unreferenced(tx: &mut Transaction<'_, Postgres>, hashes: &[String]) -> StoreResult<Vec<String>> {
    if hashes.is_empty() {
        return Ok(Vec::new());
    }
    sqlx::query_scalar(
        r#"select distinct u.h collate "C" as sha256 from unnest($1::text[]) as u (h)
           where not exists (select 1 from attachments a where a.sha256 = u.h)
           order by sha256"#,
    )
    .bind(hashes)
    .fetch_all(&mut **tx)
    .await
    .map_err(map_err)
}

pub(crate) async fn purge_attachments_of_positions_closed_before(
    pool: &PgPool,
    closed_before: DateTime<Utc>,
) -> StoreResult<PurgedAttachments> {
    let mut tx = pool.begin().await.map_err(map_err)?;
    let hashes: Vec<String> = sqlx::query_scalar(
        "delete from attachments where profile_id in (
             select p.profile_id from profiles p
             join positions pos on pos.profile_id = p.position_profile_id
             where pos.closed_at is not null and pos.closed_at < $1)
         returning sha256",
    )
    .bind(millis(&closed_before))
    .fetch_all(&mut *tx)
    .await
    .map_err(map_err)?;
    let rows = hashes.len() as u64;
    let unreferenced_sha256 = unreferenced(&mut tx, &hashes).await?;
    tx.commit().await.map_err(map_err)?;
    Ok(PurgedAttachments { rows, unreferenced_sha256 })
}

#[async_trait::async_trait]
impl candex_store::AttachmentStore for crate::PgStore {
    #[tracing::instrument(skip_all)]
    async fn profile_attachments(&self, profile_id: &ObjectId) -> StoreResult<Vec<Attachment>> {
        crate::attachments::profile_attachments(&self.pool, profile_id).await
    }

    #[tracing::instrument(skip_all)]
    async fn attachments_of_profiles(&self, profile_ids: &[ObjectId]) -> StoreResult<Vec<Attachment>> {
        crate::attachments::attachments_of_profiles(&self.pool, profile_ids).await
    }

    #[tracing::instrument(skip_all)]
    async fn get_attachment(&self, attachment_id: &ObjectId) -> StoreResult<Option<AttachmentAccess>> {
        crate::attachments::get_attachment(&self.pool, attachment_id).await
    }

    #[tracing::instrument(skip_all)]
    async fn attachment_blob_referenced(&self, sha256: &str) -> StoreResult<bool> {
        crate::attachments::attachment_blob_referenced(&self.pool, sha256).await
    }

    #[tracing::instrument(skip_all)]
    async fn purge_attachments_of_positions_closed_before(
        &self,
        closed_before: DateTime<Utc>,
    ) -> StoreResult<PurgedAttachments> {
        crate::attachments::purge_attachments_of_positions_closed_before(&self.pool, closed_before).await
    }
}
