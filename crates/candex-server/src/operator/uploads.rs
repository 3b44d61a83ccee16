//! Attachment files of applications: streaming each into blob storage before the application
//! is stored (type and size checked on the way), cleaning up after a refused application,
//! and the retention purge. Shared by the multipart route, `candex import` and the demo.

use std::path::Path as FsPath;

use bytes::Bytes;
use candex_domain::input::{AttachmentSpec, NewApplication};
use candex_domain::{FieldErrors, IdKind};
use candex_store::NewAttachment;
use chrono::{DateTime, Utc};
use futures::StreamExt;
use tokio::io::AsyncRead;

use super::service::{OperatorService, ServiceError};
use crate::attachments::AttachmentSettings;
use crate::storage::{BlobError, BlobStore, BlobWriter, StoredBlob};

/// Why an application with `attachments` sent as plain JSON is refused.
pub const NEEDS_MULTIPART: &str = "attached files need a multipart/form-data request: send this JSON as the first \
     part, named `application`, and each file as a part named by its /attachments/N/file";

/// Chunk size when reading files from disk.
const READ_CHUNK: usize = 64 * 1024;

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

    /// Completes the upload.
    pub async fn finish(self) -> Result<UploadedAttachment, ServiceError> {
        let pointer = self.pointer;
        let blob = self.writer.finish().await.map_err(|e| upload_error(&pointer, e))?;
        Ok(UploadedAttachment {
            blob,
            filename: self.filename,
            content_type: self.content_type,
            seek_role_code: self.seek_role_code,
            descriptions: self.descriptions,
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

    /// Deletes the blobs that `uploads` created, unless a stored attachment references them:
    /// what a refused application leaves behind.
    pub async fn discard_uploads(&self, uploads: &[UploadedAttachment]) {
        let Some(blobs) = &self.blobs else { return };
        for upload in uploads.iter().filter(|u| u.blob.created) {
            match self.store().attachment_blob_referenced(&upload.blob.sha256).await {
                Ok(false) => {
                    if let Err(e) = blobs.delete(&upload.blob.sha256).await {
                        tracing::warn!(sha256 = %upload.blob.sha256, error = %e, "failed to delete an orphan blob");
                    }
                }
                Ok(true) => {}
                Err(e) => tracing::warn!(error = %e, "could not check a blob's references; kept it"),
            }
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

    /// Deletes the blobs of these content hashes that no attachment row references (checked
    /// again here: a new application may have reused the content since the rows went).
    /// Returns how many were deleted.
    pub(crate) async fn delete_unreferenced_blobs(&self, hashes: &[String]) -> Result<u64, ServiceError> {
        let Some(blobs) = &self.blobs else { return Ok(0) };
        let mut deleted = 0;
        for sha in hashes {
            if self.store().attachment_blob_referenced(sha).await.map_err(ServiceError::Store)? {
                continue;
            }
            blobs.delete(sha).await.map_err(ServiceError::Blobs)?;
            deleted += 1;
        }
        Ok(deleted)
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
