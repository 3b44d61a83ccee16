//! The embedded SQLite backend of candex: [`SqliteStore`] implements
//! [`candex_store::Store`] on one database file, with the schema in `migrations/` applied at
//! connect.
//!
//! SQLite allows one writer at a time. Rather than let concurrent writes collide on the file
//! lock (`SQLITE_BUSY`), every write goes through a pool of exactly one connection, so writes
//! queue in process; reads use a separate pool and, thanks to WAL, never wait for the writer.

mod applications;
mod attachments;
mod codec;
mod erasure;
mod error;
mod events;
mod keys;
mod parties;
mod positions;
mod questionnaires;
mod webhooks;

use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use candex_domain::{ObjectId, Person, RelationshipSet, RelationshipType, SigningAlgorithm};
use candex_store::{
    ApplicationSummary, Attachment, AttachmentAccess, Candidate, DeliveryBatch, DeliveryClaim, DeliveryOutcome,
    ErasedCandidate, Event, EventStamp, EventsQuery, Hirer, IngestedApplication, NewApplicationRecord, NewHirer,
    NewPartner, NewPosition, NewReplay, NewWebhookSubscription, Partner, PartnerCredentials, Position, ProfileView,
    PurgedAttachments, PurgedEvents, QueueStats, RelatedHirer, RelatedHirersQuery, Replay, ReplaysQuery, SigningKey,
    Store, StoreError, StoreResult, SubscriptionWrite, SubscriptionsQuery, WebhookAttemptRecord, WebhookAttemptsQuery,
    WebhookRequestRecord, WebhookRequestsQuery, WebhookSubscription,
};
use chrono::{DateTime, Utc};
use sqlx::migrate::{MigrateError, Migrator};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::SqlitePool;

use crate::error::map_err;

/// The schema, embedded at compile time.
static MIGRATOR: Migrator = sqlx::migrate!("./migrations");

/// How long a statement waits for another process's lock before failing with `Unavailable`.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Connections of the read pool. Reads in WAL mode run in parallel with each other and with
/// the writer; a handful covers a small server on a small machine.
const READERS: u32 = 4;

/// The applied schema is newer than this binary knows: it must not touch the database.
#[derive(Debug, thiserror::Error)]
#[error("database was migrated by a newer candex (migration {version}); upgrade candex")]
struct NewerDatabase {
    version: i64,
}

/// candex's store on an SQLite file.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    /// Exactly one connection: all writes.
    writer: SqlitePool,
    /// Reads only (`query_only` is on).
    reader: SqlitePool,
}

impl SqliteStore {
    /// Opens (creating if missing) the database at `url`, which is `sqlite://path/to/file.db`
    /// or `sqlite:path/to/file.db` (relative to the working directory; `sqlite:///abs/file.db`
    /// for an absolute path), and brings its schema up to date.
    ///
    /// Every connection runs with WAL journaling, `synchronous=FULL`, foreign keys enforced and
    /// a 5 s busy timeout. Fails with `StoreError::Other` when the database was migrated by a
    /// newer candex, and `Unavailable` when the file cannot be opened.
    pub async fn connect(url: &str) -> Result<SqliteStore, StoreError> {
        let options = SqliteConnectOptions::from_str(url)
            .map_err(map_err)?
            .create_if_missing(true)
            .foreign_keys(true)
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(BUSY_TIMEOUT);
        // WAL is a property of the file, set once by the writer; readers inherit it (setting
        // it there too would need an exclusive lock for nothing).
        let writer = SqlitePoolOptions::new()
            .min_connections(1)
            .max_connections(1)
            .connect_with(options.clone().journal_mode(SqliteJournalMode::Wal))
            .await
            .map_err(map_err)?;
        MIGRATOR.run(&writer).await.map_err(migrate_err)?;
        let reader = SqlitePoolOptions::new()
            .max_connections(READERS)
            .connect_with(options.pragma("query_only", "ON"))
            .await
            .map_err(map_err)?;
        Ok(SqliteStore { writer, reader })
    }

    /// Closes both pools, waiting for connections in use to come back.
    pub async fn close(&self) {
        self.reader.close().await;
        self.writer.close().await;
    }

    /// The read pool, for tests that inspect connection settings.
    #[doc(hidden)]
    pub fn reader_pool(&self) -> &SqlitePool {
        &self.reader
    }

    /// The one-connection write pool, for tests that inspect connection settings.
    #[doc(hidden)]
    pub fn writer_pool(&self) -> &SqlitePool {
        &self.writer
    }
}

/// A migration applied to the database but unknown to this binary can only come from a newer
/// candex; any other failure is reported as the driver's.
fn migrate_err(err: MigrateError) -> StoreError {
    match err {
        MigrateError::VersionMissing(version) => StoreError::Other(Box::new(NewerDatabase { version })),
        MigrateError::Execute(e) => map_err(e),
        other => StoreError::Other(Box::new(other)),
    }
}

#[async_trait]
impl Store for SqliteStore {
    fn backend(&self) -> &'static str {
        "sqlite"
    }

    #[tracing::instrument(skip_all)]
    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("select 1").execute(&self.reader).await.map_err(map_err)?;
        Ok(())
    }

    #[tracing::instrument(skip_all)]
    async fn create_hirer(&self, hirer: NewHirer) -> StoreResult<Hirer> {
        parties::create_hirer(&self.writer, hirer).await
    }

    #[tracing::instrument(skip_all)]
    async fn get_hirer(&self, id: &ObjectId) -> StoreResult<Option<Hirer>> {
        parties::get_hirer(&self.reader, id).await
    }

    #[tracing::instrument(skip_all)]
    async fn list_hirers(&self) -> StoreResult<Vec<Hirer>> {
        parties::list_hirers(&self.reader).await
    }

    #[tracing::instrument(skip_all)]
    async fn create_partner(&self, partner: NewPartner) -> StoreResult<Partner> {
        parties::create_partner(&self.writer, partner).await
    }

    #[tracing::instrument(skip_all)]
    async fn get_partner(&self, id: &ObjectId) -> StoreResult<Option<Partner>> {
        parties::get_partner(&self.reader, id).await
    }

    #[tracing::instrument(skip_all)]
    async fn find_partner_credentials(&self, client_id: &str) -> StoreResult<Option<PartnerCredentials>> {
        parties::find_partner_credentials(&self.reader, client_id).await
    }

    #[tracing::instrument(skip_all)]
    async fn list_partners(&self) -> StoreResult<Vec<Partner>> {
        parties::list_partners(&self.reader).await
    }

    #[tracing::instrument(skip_all)]
    async fn set_relationships(
        &self,
        partner_id: &ObjectId,
        hirer_id: &ObjectId,
        types: &[RelationshipType],
        event: &EventStamp,
    ) -> StoreResult<RelationshipSet> {
        parties::set_relationships(&self.writer, partner_id, hirer_id, types, event).await
    }

    #[tracing::instrument(skip_all)]
    async fn relationships(&self, partner_id: &ObjectId, hirer_id: &ObjectId) -> StoreResult<RelationshipSet> {
        parties::relationships(&self.reader, partner_id, hirer_id).await
    }

    #[tracing::instrument(skip_all)]
    async fn page_related_hirers(&self, query: &RelatedHirersQuery) -> StoreResult<Vec<RelatedHirer>> {
        parties::page_related_hirers(&self.reader, query).await
    }

    #[tracing::instrument(skip_all)]
    async fn create_position(&self, position: NewPosition) -> StoreResult<Position> {
        positions::create_position(&self.writer, position).await
    }

    #[tracing::instrument(skip_all)]
    async fn get_position(&self, profile_id: &ObjectId) -> StoreResult<Option<Position>> {
        positions::get_position(&self.reader, profile_id).await
    }

    #[tracing::instrument(skip_all)]
    async fn get_positions(&self, profile_ids: &[ObjectId]) -> StoreResult<Vec<Position>> {
        positions::get_positions(&self.reader, profile_ids).await
    }

    #[tracing::instrument(skip_all)]
    async fn get_position_by_opening(&self, opening_id: &ObjectId) -> StoreResult<Option<Position>> {
        positions::get_position_by_opening(&self.reader, opening_id).await
    }

    #[tracing::instrument(skip_all)]
    async fn close_position(&self, profile_id: &ObjectId, event: &EventStamp) -> StoreResult<Position> {
        positions::close_position(&self.writer, profile_id, event).await
    }

    #[tracing::instrument(skip_all)]
    async fn list_positions(&self, hirer_id: Option<&ObjectId>) -> StoreResult<Vec<Position>> {
        positions::list_positions(&self.reader, hirer_id).await
    }

    #[tracing::instrument(skip_all)]
    async fn ingest_applications(
        &self,
        applications: &[NewApplicationRecord],
    ) -> StoreResult<Vec<IngestedApplication>> {
        applications::ingest_applications(&self.writer, applications).await
    }

    #[tracing::instrument(skip_all)]
    async fn get_profile(&self, profile_id: &ObjectId) -> StoreResult<Option<ProfileView>> {
        applications::get_profile(&self.reader, profile_id).await
    }

    async fn get_profile_for_partner(
        &self,
        profile_id: &ObjectId,
        partner_id: &ObjectId,
    ) -> StoreResult<Option<(ProfileView, RelationshipSet)>> {
        applications::get_profile_for_partner(&self.reader, profile_id, partner_id).await
    }

    #[tracing::instrument(skip_all)]
    async fn get_profiles(&self, profile_ids: &[ObjectId]) -> StoreResult<Vec<ProfileView>> {
        applications::get_profiles(&self.reader, profile_ids).await
    }

    #[tracing::instrument(skip_all)]
    async fn get_candidate(&self, candidate_id: &ObjectId) -> StoreResult<Option<Candidate>> {
        applications::get_candidate(&self.reader, candidate_id).await
    }

    #[tracing::instrument(skip_all)]
    async fn candidate_profiles(&self, candidate_id: &ObjectId, last: u32) -> StoreResult<Vec<ProfileView>> {
        applications::candidate_profiles(&self.reader, candidate_id, last).await
    }

    #[tracing::instrument(skip_all)]
    async fn update_candidate_person(&self, candidate_id: &ObjectId, person: &Person) -> StoreResult<Candidate> {
        applications::update_candidate_person(&self.writer, candidate_id, person).await
    }

    #[tracing::instrument(skip_all)]
    async fn page_position_applications(
        &self,
        position_profile_id: &ObjectId,
        after_seq: Option<i64>,
        limit: u32,
    ) -> StoreResult<Vec<ApplicationSummary>> {
        applications::page_position_applications(&self.reader, position_profile_id, after_seq, limit).await
    }

    #[tracing::instrument(skip_all)]
    async fn signing_key(&self) -> StoreResult<Option<SigningKey>> {
        keys::signing_key(&self.reader).await
    }

    #[tracing::instrument(skip_all)]
    async fn insert_signing_key_if_absent(&self, key: SigningKey) -> StoreResult<SigningKey> {
        keys::insert_signing_key_if_absent(&self.writer, key).await
    }

    // --- attachments ---

    #[tracing::instrument(skip_all)]
    async fn profile_attachments(&self, profile_id: &ObjectId) -> StoreResult<Vec<Attachment>> {
        attachments::profile_attachments(&self.reader, profile_id).await
    }

    async fn attachments_of_profiles(&self, profile_ids: &[ObjectId]) -> StoreResult<Vec<Attachment>> {
        attachments::attachments_of_profiles(&self.reader, profile_ids).await
    }

    #[tracing::instrument(skip_all)]
    async fn get_attachment(&self, attachment_id: &ObjectId) -> StoreResult<Option<AttachmentAccess>> {
        attachments::get_attachment(&self.reader, attachment_id).await
    }

    #[tracing::instrument(skip_all)]
    async fn attachment_blob_referenced(&self, sha256: &str) -> StoreResult<bool> {
        attachments::attachment_blob_referenced(&self.reader, sha256).await
    }

    #[tracing::instrument(skip_all)]
    async fn purge_attachments_of_positions_closed_before(
        &self,
        closed_before: chrono::DateTime<chrono::Utc>,
    ) -> StoreResult<PurgedAttachments> {
        attachments::purge_attachments_of_positions_closed_before(&self.writer, closed_before).await
    }

    // --- questionnaires ---

    #[tracing::instrument(skip_all)]
    async fn get_position_by_questionnaire(&self, questionnaire_id: &ObjectId) -> StoreResult<Option<Position>> {
        positions::get_position_by_questionnaire(&self.reader, questionnaire_id).await
    }

    #[tracing::instrument(skip_all)]
    async fn questionnaire_submission(
        &self,
        profile_id: &ObjectId,
    ) -> StoreResult<Option<candex_store::QuestionnaireSubmission>> {
        questionnaires::questionnaire_submission(&self.reader, profile_id).await
    }

    async fn questionnaire_submissions(
        &self,
        profile_ids: &[ObjectId],
    ) -> StoreResult<Vec<(ObjectId, candex_store::QuestionnaireSubmission)>> {
        questionnaires::questionnaire_submissions(&self.reader, profile_ids).await
    }

    #[tracing::instrument(skip_all)]
    async fn erase_candidate(&self, candidate_id: &ObjectId) -> StoreResult<ErasedCandidate> {
        erasure::erase_candidate(&self.writer, candidate_id).await
    }

    async fn page_events(&self, query: &EventsQuery) -> StoreResult<Vec<Event>> {
        events::page_events(&self.reader, query).await
    }

    async fn get_event(&self, partner_id: &ObjectId, event_id: &ObjectId) -> StoreResult<Option<Event>> {
        events::get_event(&self.reader, partner_id, event_id).await
    }

    async fn purge_events_before(&self, cutoff: DateTime<Utc>) -> StoreResult<PurgedEvents> {
        events::purge_events_before(&self.writer, cutoff).await
    }

    async fn create_webhook_subscription(
        &self,
        subscription: NewWebhookSubscription,
    ) -> StoreResult<SubscriptionWrite> {
        webhooks::create_subscription(&self.writer, subscription).await
    }

    async fn get_webhook_subscription(
        &self,
        partner_id: &ObjectId,
        id: &ObjectId,
    ) -> StoreResult<Option<WebhookSubscription>> {
        webhooks::get_subscription(&self.reader, partner_id, id).await
    }

    async fn page_webhook_subscriptions(&self, query: &SubscriptionsQuery) -> StoreResult<Vec<WebhookSubscription>> {
        webhooks::page_subscriptions(&self.reader, query).await
    }

    async fn update_webhook_subscription_delivery(
        &self,
        partner_id: &ObjectId,
        id: &ObjectId,
        url: &str,
        max_events_per_attempt: Option<u8>,
        at: DateTime<Utc>,
    ) -> StoreResult<Option<SubscriptionWrite>> {
        webhooks::update_delivery(&self.writer, partner_id, id, url, max_events_per_attempt, at).await
    }

    async fn update_webhook_subscription_signing(
        &self,
        partner_id: &ObjectId,
        id: &ObjectId,
        algorithm: SigningAlgorithm,
        secret: Option<&str>,
        at: DateTime<Utc>,
    ) -> StoreResult<Option<WebhookSubscription>> {
        webhooks::update_signing(&self.writer, partner_id, id, algorithm, secret, at).await
    }

    async fn delete_webhook_subscription(
        &self,
        partner_id: &ObjectId,
        id: &ObjectId,
    ) -> StoreResult<Option<WebhookSubscription>> {
        webhooks::delete_subscription(&self.writer, partner_id, id).await
    }

    async fn replay_webhook_subscription(&self, replay: NewReplay) -> StoreResult<Replay> {
        webhooks::replay(&self.writer, replay).await
    }

    async fn get_replay(&self, partner_id: &ObjectId, id: &ObjectId) -> StoreResult<Option<Replay>> {
        webhooks::get_replay(&self.reader, partner_id, id).await
    }

    async fn page_replays(&self, query: &ReplaysQuery) -> StoreResult<Vec<Replay>> {
        webhooks::page_replays(&self.reader, query).await
    }

    async fn claim_webhook_deliveries(&self, claim: &DeliveryClaim) -> StoreResult<Vec<DeliveryBatch>> {
        webhooks::claim(&self.writer, claim).await
    }

    async fn record_webhook_delivery(&self, outcome: &DeliveryOutcome) -> StoreResult<()> {
        webhooks::record(&self.writer, outcome).await
    }

    async fn webhook_queue_stats(&self) -> StoreResult<QueueStats> {
        webhooks::queue_stats(&self.reader).await
    }

    async fn page_webhook_requests(&self, query: &WebhookRequestsQuery) -> StoreResult<Vec<WebhookRequestRecord>> {
        webhooks::page_requests(&self.reader, query).await
    }

    async fn get_webhook_request(
        &self,
        partner_id: &ObjectId,
        request_id: &str,
    ) -> StoreResult<Option<WebhookRequestRecord>> {
        webhooks::get_request(&self.reader, partner_id, request_id).await
    }

    async fn page_webhook_attempts(&self, query: &WebhookAttemptsQuery) -> StoreResult<Vec<WebhookAttemptRecord>> {
        webhooks::page_attempts(&self.reader, query).await
    }

    async fn recent_webhook_requests(&self, limit: u32, failures_only: bool) -> StoreResult<Vec<WebhookRequestRecord>> {
        webhooks::recent_requests(&self.reader, limit, failures_only).await
    }
}
