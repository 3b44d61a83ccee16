//! The attachments area of the store: attachment rows (the blobs themselves live in blob storage) and their retention.

use async_trait::async_trait;
use candex_domain::{AttachmentId, CandidateProfileId};
use chrono::{DateTime, Utc};

use crate::rows::{self, StoredRow};
use crate::sql::{to_json, Exec, Row, SqlBackend, Transaction};
use crate::*;

/// Attachment rows (the blobs themselves live in blob storage) and their retention.
#[async_trait]
pub trait AttachmentStore: Send + Sync {
    /// A profile's attachments in upload order, in one statement (empty when none or unknown).
    async fn profile_attachments(&self, profile_id: &CandidateProfileId) -> StoreResult<Vec<Attachment>>;
    /// The attachments of several profiles in one statement, by profile then upload order.
    async fn attachments_of_profiles(&self, profile_ids: &[CandidateProfileId]) -> StoreResult<Vec<Attachment>>;
    /// One attachment with its application's hirer and its job ad's closing time, in one
    /// statement, for download access checks and retention.
    async fn get_attachment(&self, attachment_id: &AttachmentId) -> StoreResult<Option<AttachmentAccess>>;
    /// Whether any stored attachment row has this content hash (blob deletion asks first).
    async fn attachment_blob_referenced(&self, sha256: &str) -> StoreResult<bool>;
    /// Deletes the attachment rows of applications to job ads closed before `closed_before`,
    /// returning how many went and which content hashes no row references any more.
    async fn purge_attachments_of_positions_closed_before(
        &self,
        closed_before: DateTime<Utc>,
    ) -> StoreResult<PurgedAttachments>;
}

#[async_trait]
impl<B: SqlBackend> AttachmentStore for B {
    #[tracing::instrument(skip_all)]
    async fn profile_attachments(&self, profile_id: &CandidateProfileId) -> StoreResult<Vec<Attachment>> {
        const SQL: &str =
            concat!("select ", attachment_columns!(), " from attachments a where a.profile_id = $1 order by a.ordinal");
        self.reader().all(stmt!(SQL, profile_id), rows::attachment::<B::Db>).await
    }

    #[tracing::instrument(skip_all)]
    async fn attachments_of_profiles(&self, profile_ids: &[CandidateProfileId]) -> StoreResult<Vec<Attachment>> {
        if profile_ids.is_empty() {
            return Ok(Vec::new());
        }
        let select = format!(
            "select {} from attachments a where a.profile_id in ({}) order by a.profile_id{}, a.ordinal",
            attachment_columns!(),
            B::list("$1"),
            B::BINARY
        );
        self.reader().all(stmt!(select, profile_ids), rows::attachment::<B::Db>).await
    }

    #[tracing::instrument(skip_all)]
    async fn get_attachment(&self, attachment_id: &AttachmentId) -> StoreResult<Option<AttachmentAccess>> {
        const SQL: &str = concat!(
            "select ",
            attachment_columns!(),
            ", p.hirer_id, pos.closed_at
             from attachments a
             join profiles p on p.profile_id = a.profile_id
             join positions pos on pos.profile_id = p.position_profile_id
             where a.id = $1"
        );
        self.reader().optional(stmt!(SQL, attachment_id), attachment_access::<B>).await
    }

    #[tracing::instrument(skip_all)]
    async fn attachment_blob_referenced(&self, sha256: &str) -> StoreResult<bool> {
        self.reader().exists(stmt!("select 1 from attachments where sha256 = $1 limit 1", sha256)).await
    }

    #[tracing::instrument(skip_all)]
    async fn purge_attachments_of_positions_closed_before(
        &self,
        closed_before: DateTime<Utc>,
    ) -> StoreResult<PurgedAttachments> {
        let mut tx = self.begin().await?;
        let delete = "delete from attachments where profile_id in (
                          select p.profile_id from profiles p
                          join positions pos on pos.profile_id = p.position_profile_id
                          where pos.closed_at is not null and pos.closed_at < $1)
                      returning sha256";
        let hashes = tx.all(stmt!(delete, closed_before), sha256::<B>).await?;
        let rows = hashes.len() as u64;
        let unreferenced_sha256 = unreferenced::<B>(&mut tx, &hashes).await?;
        tx.commit().await?;
        Ok(PurgedAttachments { rows, unreferenced_sha256 })
    }
}

/// An attachment with its application's hirer and its job ad's closing time.
fn attachment_access<B: SqlBackend>(row: &Row<B>) -> StoreResult<AttachmentAccess> {
    let cols = StoredRow::<B::Db>::new(row);
    Ok(AttachmentAccess {
        attachment: rows::attachment::<B::Db>(row)?,
        hirer_id: cols.id("hirer_id")?,
        position_closed_at: cols.opt_time("closed_at")?,
    })
}

/// A `sha256` column.
pub(crate) fn sha256<B: SqlBackend>(row: &Row<B>) -> StoreResult<String> {
    StoredRow::<B::Db>::new(row).text("sha256")
}

/// Of `hashes` (content hashes whose rows this transaction just deleted), those no attachment
/// row references any more, each once, in binary order.
pub(crate) async fn unreferenced<B: SqlBackend>(tx: &mut B::Tx, hashes: &[String]) -> StoreResult<Vec<String>> {
    if hashes.is_empty() {
        return Ok(Vec::new());
    }
    let select = format!(
        "select distinct l.value{} as sha256 from ({}) as l
         where not exists (select 1 from attachments a where a.sha256 = l.value)
         order by sha256",
        B::BINARY,
        B::list("$1"),
    );
    let hashes: Vec<&str> = hashes.iter().map(String::as_str).collect();
    tx.all(stmt!(select, hashes), sha256::<B>).await
}

/// Stores an application's attachment rows inside its ingest transaction.
pub(crate) async fn insert_attachments(
    tx: &mut impl Exec,
    profile_id: &CandidateProfileId,
    attachments: &[NewAttachment],
) -> StoreResult<()> {
    for (ordinal, a) in attachments.iter().enumerate() {
        let size = i64::try_from(a.size).map_err(|_| StoreError::Rejected("attachment is too large".into()))?;
        let ordinal = i64::try_from(ordinal).map_err(|_| StoreError::Rejected("too many attachments".into()))?;
        let insert = "insert into attachments (id, profile_id, ordinal, sha256, filename, content_type, size,
                          seek_role_code, descriptions, uploaded_at)
                      values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)";
        let descriptions = to_json(&a.descriptions)?;
        let stmt = stmt!(
            insert,
            &a.id,
            profile_id,
            ordinal,
            &a.sha256,
            &a.filename,
            &a.content_type,
            size,
            a.seek_role_code.as_ref(),
            descriptions,
            a.uploaded_at
        );
        tx.execute(stmt).await?;
    }
    Ok(())
}
