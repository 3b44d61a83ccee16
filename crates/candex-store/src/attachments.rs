//! The attachments area of the store: attachment rows (the blobs themselves live in blob
//! storage), their retention, and the leases and lock that keep blob deletion from racing an
//! upload of the same content.

use async_trait::async_trait;
use candex_domain::{AttachmentId, CandidateProfileId, PartnerId};
use chrono::{DateTime, Utc};

use crate::rows::{self, Columns, StoredRow};
use crate::sql::{to_json, Exec, Lock, Row, SqlBackend, Transaction};
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
    /// [`get_attachment`](Self::get_attachment) with the relationships partner `partner_id`
    /// holds with the application's hirer and the partner's token revocation time, in one
    /// statement: the whole authorisation read of a download. `None` when the attachment does
    /// not exist.
    async fn get_attachment_for_partner(
        &self,
        attachment_id: &AttachmentId,
        partner_id: &PartnerId,
    ) -> StoreResult<Option<(AttachmentAccess, PartnerGrant)>>;
    /// Whether any stored attachment row has this content hash (blob deletion itself checks
    /// under the blob lock: [`lock_blobs`](Self::lock_blobs)).
    async fn attachment_blob_referenced(&self, sha256: &str) -> StoreResult<bool>;
    /// Deletes the attachment rows of applications to job ads closed before `closed_before`,
    /// returning how many went and which content hashes no row references any more.
    async fn purge_attachments_of_positions_closed_before(
        &self,
        closed_before: DateTime<Utc>,
    ) -> StoreResult<PurgedAttachments>;

    /// Records and commits a lease on the content `sha256`, taken `at`, for an upload whose
    /// bytes are hashed but whose attachment row is not committed yet. Waits for a blob
    /// deletion in progress ([`lock_blobs`](Self::lock_blobs)): once this returns, no deletion
    /// deletes the content until the lease is released or older than the caller's grace, so
    /// the upload may then (re)write the content's blob and rely on it.
    async fn lease_blob(&self, sha256: &str, at: DateTime<Utc>) -> StoreResult<BlobLeaseId>;
    /// Deletes these leases (their attachment rows are committed, or their upload is given
    /// up); unknown ones are ignored.
    async fn release_blob_leases(&self, leases: &[BlobLeaseId]) -> StoreResult<()>;
    /// Deletes the leases taken before `before` (left by crashed uploads); returns how many.
    async fn expire_blob_leases(&self, before: DateTime<Utc>) -> StoreResult<u64>;
    /// Starts a blob deletion: a write transaction holding the lock that
    /// [`lease_blob`](Self::lease_blob) needs, so that between the check
    /// ([`BlobLock::deletable`]) and the [`release`](BlobLock::release) no upload can claim
    /// the content. The caller deletes the blobs in between and must not write to this store
    /// meanwhile (on SQLite the lock is the one writer connection). Dropping the lock
    /// releases it too.
    async fn lock_blobs(&self) -> StoreResult<Box<dyn BlobLock>>;
}

/// A blob deletion in progress, holding the blob lock (see [`AttachmentStore::lock_blobs`]).
#[async_trait]
pub trait BlobLock: Send {
    /// Of `candidates` (content hashes), those no attachment row references and no lease taken
    /// at or after `leased_since` claims, each once, in binary order: the blobs that may be
    /// deleted before [`release`](Self::release). One statement whatever their number.
    async fn deletable(&mut self, candidates: &[String], leased_since: DateTime<Utc>) -> StoreResult<Vec<String>>;
    /// Ends the deletion and releases the lock.
    async fn release(self: Box<Self>) -> StoreResult<()>;
}

/// [`BlobLock`] on a SQL backend: its write transaction, holding [`Lock::Blobs`].
struct SqlBlobLock<B: SqlBackend> {
    tx: B::Tx,
}

#[async_trait]
impl<B: SqlBackend> BlobLock for SqlBlobLock<B> {
    async fn deletable(&mut self, candidates: &[String], leased_since: DateTime<Utc>) -> StoreResult<Vec<String>> {
        if candidates.is_empty() {
            return Ok(Vec::new());
        }
        let select = format!(
            "select distinct l.value{} as sha256 from ({}) as l
             where not exists (select 1 from attachments a where a.sha256 = l.value)
               and not exists (select 1 from blob_leases b where b.sha256 = l.value and b.leased_at >= $2)
             order by sha256",
            B::BINARY,
            B::list("$1"),
        );
        let candidates: Vec<&str> = candidates.iter().map(String::as_str).collect();
        self.tx.all(stmt!(select, candidates, leased_since), sha256::<B>).await
    }

    async fn release(self: Box<Self>) -> StoreResult<()> {
        self.tx.commit().await
    }
}

#[async_trait]
impl<B: SqlBackend> AttachmentStore for B {
    #[tracing::instrument(skip_all)]
    async fn profile_attachments(&self, profile_id: &CandidateProfileId) -> StoreResult<Vec<Attachment>> {
        const SQL: &str =
            concat!("select ", attachment_columns!(), " from attachments a where a.profile_id = $1 order by a.ordinal");
        // A few rows of one index range, on every export: a point read.
        self.point_reader().all(stmt!(SQL, profile_id), rows::attachment::<B::PointDb>).await
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
        self.point_reader().optional(stmt!(SQL, attachment_id), attachment_access::<B::PointDb>).await
    }

    #[tracing::instrument(skip_all)]
    async fn get_attachment_for_partner(
        &self,
        attachment_id: &AttachmentId,
        partner_id: &PartnerId,
    ) -> StoreResult<Option<(AttachmentAccess, PartnerGrant)>> {
        // `string_agg` is in PostgreSQL and in SQLite since 3.44 (the bundled one is newer).
        const SQL: &str = concat!(
            "select ",
            attachment_columns!(),
            ", p.hirer_id, pos.closed_at,
               (select string_agg(r.type_code, ',') from relationships r
                 where r.partner_id = $2 and r.hirer_id = p.hirer_id) as rel_codes,
               (select pa.tokens_not_before from partners pa where pa.id = $2) as tokens_not_before
             from attachments a
             join profiles p on p.profile_id = a.profile_id
             join positions pos on pos.profile_id = p.position_profile_id
             where a.id = $1"
        );
        let stmt = stmt!(SQL, attachment_id, partner_id);
        self.point_reader()
            .optional(stmt, |row| Ok((attachment_access::<B::PointDb>(row)?, rows::partner_grant::<B::PointDb>(row)?)))
            .await
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

    #[tracing::instrument(skip_all)]
    async fn lease_blob(&self, sha256: &str, at: DateTime<Utc>) -> StoreResult<BlobLeaseId> {
        let mut tx = self.begin().await?;
        tx.lock(Lock::Blobs).await?;
        let insert = "insert into blob_leases (sha256, leased_at) values ($1, $2) returning id";
        let id = tx.optional(stmt!(insert, sha256, at), lease_id::<B>).await?;
        tx.commit().await?;
        id.ok_or_else(|| StoreError::Rejected("the lease was not recorded".into()))
    }

    #[tracing::instrument(skip_all)]
    async fn release_blob_leases(&self, leases: &[BlobLeaseId]) -> StoreResult<()> {
        if leases.is_empty() {
            return Ok(());
        }
        // Leases live for one upload, so the table holds only those in flight (and crashed
        // ones until the sweep): matching by text keeps one statement for any number.
        let ids: Vec<String> = leases.iter().map(|l| l.0.to_string()).collect();
        let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
        let delete = format!("delete from blob_leases where cast(id as text) in ({})", B::list("$1"));
        self.writer().execute(stmt!(delete, ids)).await?;
        Ok(())
    }

    #[tracing::instrument(skip_all)]
    async fn expire_blob_leases(&self, before: DateTime<Utc>) -> StoreResult<u64> {
        self.writer().execute(stmt!("delete from blob_leases where leased_at < $1", before)).await
    }

    #[tracing::instrument(skip_all)]
    async fn lock_blobs(&self) -> StoreResult<Box<dyn BlobLock>> {
        let mut tx = self.begin().await?;
        tx.lock(Lock::Blobs).await?;
        Ok(Box::new(SqlBlobLock::<B> { tx }))
    }
}

/// An `id` column of `blob_leases`.
fn lease_id<B: SqlBackend>(row: &Row<B>) -> StoreResult<BlobLeaseId> {
    StoredRow::<B::Db>::new(row).int("id").map(BlobLeaseId)
}

/// An attachment with its application's hirer and its job ad's closing time.
fn attachment_access<C: Columns>(row: &C::Row) -> StoreResult<AttachmentAccess> {
    let cols = StoredRow::<C>::new(row);
    Ok(AttachmentAccess {
        attachment: rows::attachment::<C>(row)?,
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
