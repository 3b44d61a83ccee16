//! The attachments area of the store: attachment rows (the blobs themselves live in blob storage) and their retention.

use async_trait::async_trait;
use candex_domain::ObjectId;
use chrono::{DateTime, Utc};

use crate::*;

/// Attachment rows (the blobs themselves live in blob storage) and their retention.
#[async_trait]
pub trait AttachmentStore: Send + Sync {
    /// A profile's attachments in upload order, in one statement (empty when none or unknown).
    async fn profile_attachments(&self, profile_id: &ObjectId) -> StoreResult<Vec<Attachment>>;
    /// The attachments of several profiles in one statement, by profile then upload order.
    async fn attachments_of_profiles(&self, profile_ids: &[ObjectId]) -> StoreResult<Vec<Attachment>>;
    /// One attachment with its application's hirer and its job ad's closing time, in one
    /// statement, for download access checks and retention.
    async fn get_attachment(&self, attachment_id: &ObjectId) -> StoreResult<Option<AttachmentAccess>>;
    /// Whether any stored attachment row has this content hash (blob deletion asks first).
    async fn attachment_blob_referenced(&self, sha256: &str) -> StoreResult<bool>;
    /// Deletes the attachment rows of applications to job ads closed before `closed_before`,
    /// returning how many went and which content hashes no row references any more.
    async fn purge_attachments_of_positions_closed_before(
        &self,
        closed_before: DateTime<Utc>,
    ) -> StoreResult<PurgedAttachments>;
}
