//! Attachment files of applications: streaming each into blob storage before the application
//! is stored (type and size checked on the way, its content leased in the database before it
//! is placed), cleaning up after a refused application, every blob deletion (under the
//! store's blob lock), the retention purge and the orphan sweep. Shared by the multipart
//! route, `candex import` and the demo.

use std::path::Path as FsPath;

use bytes::Bytes;
use candex_domain::input::{AttachmentSpec, NewApplication};
use candex_domain::{FieldErrors, IdKind};
use std::sync::Arc;

use candex_store::{BlobLeaseId, NewAttachment, Store};
use chrono::{DateTime, Utc};
use futures::{StreamExt, TryStreamExt};
use tokio::io::AsyncRead;

use super::service::{OperatorService, ServiceError};
use crate::attachments::AttachmentSettings;
use crate::storage::{BlobError, BlobStore, BlobWriter, StoredBlob};

/// Why an application with `attachments` sent as plain JSON is refused.
pub const NEEDS_MULTIPART: &str = "attached files need a multipart/form-data request: send this JSON as the first \
     part, named `application`, and each file as a part named by its /attachments/N/file";

/// Chunk size when reading files from disk.
const READ_CHUNK: usize = 64 * 1024;
/// Content hashes checked and deleted under one hold of the blob lock: one statement and one
/// bulk delete each, short enough that uploads waiting for the lock barely notice.
const DELETE_BATCH: usize = 256;

/// A file already in blob storage, waiting for its application row.
#[derive(Debug, Clone, PartialEq)]
pub struct UploadedAttachment {
    /// The stored content.
    pub blob: StoredBlob,
    /// Original file name.
    pub filename: String,
    /// Media type stored and served.
    pub content_type: String,
    /// Role code.
    pub seek_role_code: Option<String>,
    /// Descriptions.
    pub descriptions: Vec<String>,
    /// The upload's lease on its content, released once its row is committed.
    pub lease: BlobLeaseId,
}

/// A validated application with its uploaded files, in the order of `app.attachments`.
#[derive(Debug, Clone)]
pub struct PreparedApplication {
    /// The application.
    pub app: NewApplication,
    /// Its files, one per entry of `app.attachments`.
    pub attachments: Vec<UploadedAttachment>,
}

/// An upload in progress: type accepted, bytes streaming in.
pub struct PendingUpload {
    store: Arc<dyn Store>,
    writer: BlobWriter,
    pointer: String,
    filename: String,
    content_type: String,
    seek_role_code: Option<String>,
    descriptions: Vec<String>,
}

impl PendingUpload {
    /// Writes one chunk; past the size limit the upload is dropped and the field named.
    pub async fn write(&mut self, chunk: Bytes) -> Result<(), ServiceError> {
        let pointer = self.pointer.clone();
        self.writer.write(chunk).await.map_err(|e| upload_error(&pointer, e))
    }

    /// Completes the upload: the bytes are complete in a temporary file, the content is
    /// leased (waiting for a blob deletion in progress), then the file is moved over its
    /// content key, so the blob exists from here until the lease is released and, after the
    /// application's row commits, as long as the row does.
    pub async fn finish(self) -> Result<UploadedAttachment, ServiceError> {
        let pointer = self.pointer;
        let temp = self.writer.finish().await.map_err(|e| upload_error(&pointer, e))?;
        let lease = match self.store.lease_blob(temp.sha256(), candex_domain::time::now_ms()).await {
            Ok(lease) => lease,
            Err(e) => {
                temp.discard().await;
                return Err(ServiceError::Store(e));
            }
        };
        let blob = match temp.place().await {
            Ok(blob) => blob,
            Err(e) => {
                release(self.store.as_ref(), &[lease]).await;
                return Err(upload_error(&pointer, e));
            }
        };
        Ok(UploadedAttachment {
            blob,
            filename: self.filename,
            content_type: self.content_type,
            seek_role_code: self.seek_role_code,
            descriptions: self.descriptions,
            lease,
        })
    }

    /// Abandons the upload.
    pub async fn abort(self) {
        self.writer.abort().await;
    }
}

fn upload_error(pointer: &str, e: BlobError) -> ServiceError {
    match e {
        BlobError::TooLarge { limit } => {
            ServiceError::TooLarge(FieldErrors::single(pointer, format!("the file is larger than {limit} bytes")))
        }
        BlobError::Source(message) => ServiceError::Invalid(FieldErrors::single(pointer, message)),
        other => ServiceError::Blobs(other),
    }
}

/// Releases leases; a failure only keeps the content from deletion until the orphan grace
/// has passed, so it is logged.
async fn release(store: &dyn Store, leases: &[BlobLeaseId]) {
    if let Err(e) = store.release_blob_leases(leases).await {
        tracing::warn!(error = %e, "could not release blob leases; they lapse after the orphan grace");
    }
}

/// What the orphan sweep removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OrphanReport {
    /// Blobs no attachment row references and no live lease claims.
    pub blobs: u64,
    /// Temporary files of uploads that never finished.
    pub temp_files: u64,
    /// Leases left by uploads that never finished.
    pub leases: u64,
}

/// What a retention purge removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PurgeReport {
    /// Attachment rows deleted.
    pub attachments: u64,
    /// Blobs deleted (content no row references any more).
    pub blobs: u64,
}

impl OperatorService {
    /// Adds attachment storage and limits; without it applications with files are refused.
    pub fn with_attachments(mut self, blobs: BlobStore, settings: AttachmentSettings) -> Self {
        self.blobs = Some(blobs);
        self.attachments = settings;
        self
    }

    /// The attachment limits in force.
    pub fn attachment_settings(&self) -> &AttachmentSettings {
        &self.attachments
    }

    /// Starts uploading the file of `spec` (named at `pointer` in errors): picks its file name
    /// (the operator's, else `given_filename`) and checks its type (the operator's content type,
    /// else `given_content_type`, against the extension).
    pub fn begin_upload(
        &self,
        pointer: &str,
        spec: &AttachmentSpec,
        given_filename: Option<&str>,
        given_content_type: Option<&str>,
    ) -> Result<PendingUpload, ServiceError> {
        let blobs = self
            .blobs
            .as_ref()
            .ok_or_else(|| ServiceError::Blobs(BlobError::Config("no attachment storage is configured".into())))?;
        let filename = spec
            .filename
            .clone()
            .or_else(|| given_filename.map(str::to_owned))
            .filter(|f| !f.trim().is_empty())
            .ok_or_else(|| ServiceError::Invalid(FieldErrors::single(pointer, "the file needs a file name")))?;
        let declared = spec.content_type.as_deref().or(given_content_type);
        let content_type = self
            .attachments
            .resolve_type(&filename, declared)
            .map_err(|message| ServiceError::Invalid(FieldErrors::single(pointer, message)))?;
        Ok(PendingUpload {
            store: self.store().clone(),
            writer: blobs.writer(self.attachments.max_bytes),
            pointer: pointer.to_owned(),
            filename,
            content_type,
            seek_role_code: spec.seek_role_code.clone(),
            descriptions: spec.descriptions.clone(),
        })
    }

    /// Streams `reader` into `pending` in small chunks and completes it.
    pub async fn upload_reader<R: AsyncRead + Unpin>(
        &self,
        mut pending: PendingUpload,
        reader: R,
    ) -> Result<UploadedAttachment, ServiceError> {
        let mut chunks = tokio_util::io::ReaderStream::with_capacity(reader, READ_CHUNK);
        while let Some(chunk) = chunks.next().await {
            match chunk {
                Ok(chunk) => pending.write(chunk).await?,
                Err(e) => {
                    let pointer = pending.pointer.clone();
                    pending.abort().await;
                    return Err(upload_error(&pointer, BlobError::Source(e.to_string())));
                }
            }
        }
        pending.finish().await
    }

    /// Uploads the file at `path` for `spec` (`candex import`), streaming it from disk.
    pub async fn upload_file(
        &self,
        pointer: &str,
        spec: &AttachmentSpec,
        path: &FsPath,
    ) -> Result<UploadedAttachment, ServiceError> {
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
        let pending = self.begin_upload(pointer, spec, name.as_deref(), None)?;
        match tokio::fs::File::open(path).await {
            Ok(file) => self.upload_reader(pending, file).await,
            Err(e) => {
                pending.abort().await;
                Err(ServiceError::Invalid(FieldErrors::single(pointer, format!("cannot open {}: {e}", path.display()))))
            }
        }
    }

    /// Releases the leases of `uploads` and deletes their blobs unless an attachment row
    /// references them or another upload leases them: what a refused application leaves
    /// behind. A failure is logged; the orphan sweep collects what is left.
    pub async fn discard_uploads(&self, uploads: &[UploadedAttachment]) {
        if uploads.is_empty() {
            return;
        }
        release(self.store().as_ref(), &uploads.iter().map(|u| u.lease).collect::<Vec<_>>()).await;
        let hashes: Vec<String> = uploads.iter().map(|u| u.blob.sha256.clone()).collect();
        if let Err(e) = self.delete_unreferenced_blobs(&hashes).await {
            tracing::warn!(error = %e, "failed to delete the files of a refused application; the orphan sweep will");
        }
    }

    /// Releases the leases of uploads whose rows are committed.
    pub(crate) async fn release_leases(&self, leases: &[BlobLeaseId]) {
        if !leases.is_empty() {
            release(self.store().as_ref(), leases).await;
        }
    }

    /// Attachment rows for uploads, with minted ids.
    pub(crate) fn attachment_records(
        &self,
        uploads: Vec<UploadedAttachment>,
        now: DateTime<Utc>,
    ) -> Vec<NewAttachment> {
        uploads
            .into_iter()
            .map(|u| NewAttachment {
                id: self.mint(IdKind::Attachment),
                sha256: u.blob.sha256,
                filename: u.filename,
                content_type: u.content_type,
                size: u.blob.size,
                seek_role_code: u.seek_role_code,
                descriptions: u.descriptions,
                uploaded_at: now,
            })
            .collect()
    }

    /// The one way blobs are deleted: of these content hashes, deletes the blobs that no
    /// attachment row references and no lease younger than the orphan grace claims, checked
    /// and deleted under the store's blob lock, which an upload's lease waits for. So an
    /// upload of the same content either leased it first (and the blob stays) or leases it
    /// after the deletion (and writes it again). Batches of [`DELETE_BATCH`]: one statement
    /// and one bulk delete each. Returns how many were deleted.
    pub(crate) async fn delete_unreferenced_blobs(&self, hashes: &[String]) -> Result<u64, ServiceError> {
        let Some(blobs) = &self.blobs else { return Ok(0) };
        let leased_since = self.lease_cutoff(candex_domain::time::now_ms());
        let mut deleted = 0;
        for batch in hashes.chunks(DELETE_BATCH) {
            let mut lock = self.store().lock_blobs().await.map_err(ServiceError::Store)?;
            let doomed = lock.deletable(batch, leased_since).await.map_err(ServiceError::Store)?;
            // On failure the lock is dropped (rolled back): some blobs may be gone, none that
            // anything references.
            blobs.delete_many(&doomed).await.map_err(ServiceError::Blobs)?;
            lock.release().await.map_err(ServiceError::Store)?;
            deleted += doomed.len() as u64;
        }
        Ok(deleted)
    }

    /// Leases taken before this, `now` less the orphan grace, are treated as lapsed.
    fn lease_cutoff(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        let grace = chrono::Duration::from_std(self.attachments.orphan_grace).unwrap_or(chrono::Duration::MAX);
        now.checked_sub_signed(grace).unwrap_or(DateTime::<Utc>::MIN_UTC)
    }

    /// The orphan sweep: deletes the temporary files older than the orphan grace (uploads cut
    /// off by a crash), the blobs older than it that no attachment row references and no
    /// live lease claims (uploads whose application never committed), and lapsed leases. The
    /// blob listing is streamed and checked [`DELETE_BATCH`] at a time, so memory stays flat.
    pub async fn sweep_orphans(&self, now: DateTime<Utc>) -> Result<OrphanReport, ServiceError> {
        let Some(blobs) = &self.blobs else { return Ok(OrphanReport::default()) };
        let cutoff = self.lease_cutoff(now);
        let temp_files = blobs.delete_temp_before(cutoff).await.map_err(ServiceError::Blobs)?;
        let mut report = OrphanReport { temp_files, ..OrphanReport::default() };
        let mut listing = blobs.list_blobs();
        let mut batch = Vec::with_capacity(DELETE_BATCH);
        loop {
            let next = listing.try_next().await.map_err(ServiceError::Blobs)?;
            if let Some(blob) = &next {
                if blob.last_modified < cutoff {
                    batch.push(blob.sha256.clone());
                }
            }
            if batch.len() == DELETE_BATCH || (next.is_none() && !batch.is_empty()) {
                report.blobs += self.delete_unreferenced_blobs(&batch).await?;
                batch.clear();
            }
            if next.is_none() {
                break;
            }
        }
        report.leases = self.store().expire_blob_leases(cutoff).await.map_err(ServiceError::Store)?;
        if report.blobs + report.temp_files > 0 {
            tracing::info!(blobs = report.blobs, temp_files = report.temp_files, "deleted orphaned attachment files");
        }
        Ok(report)
    }

    /// Retention: deletes the attachments of job ads closed more than the retention period
    /// before `now`, then the blobs no attachment references any more.
    pub async fn purge_expired_attachments(&self, now: DateTime<Utc>) -> Result<PurgeReport, ServiceError> {
        let cutoff = now - chrono::Duration::days(i64::from(self.attachments.retention_days));
        let purged =
            self.store().purge_attachments_of_positions_closed_before(cutoff).await.map_err(ServiceError::Store)?;
        let blobs = self.delete_unreferenced_blobs(&purged.unreferenced_sha256).await?;
        let report = PurgeReport { attachments: purged.rows, blobs };
        if report.attachments > 0 {
            tracing::info!(attachments = report.attachments, blobs = report.blobs, "purged expired attachments");
        }
        Ok(report)
    }
}
