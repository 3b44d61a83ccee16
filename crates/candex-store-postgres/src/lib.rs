//! The PostgreSQL backend of candex: [`PgStore`] implements [`candex_store::Store`] on one
//! PostgreSQL database shared by any number of `candex serve` instances, with the schema in
//! `migrations/` applied at connect.
//!
//! The schema and the stored values are the SQLite backend's (same tables, columns,
//! constraint names, unix-millisecond times and JSON text), so both backends behave alike and
//! pass the same conformance kit. What SQLite gets from its single writer, this backend gets
//! from PostgreSQL: every multi-statement write is one transaction, matching and first-store
//! races are settled by `insert … on conflict` or advisory locks (`locks.rs`), and event
//! writers commit in sequence order.

mod applications;
mod attachments;
mod codec;
mod erasure;
mod error;
mod events;
mod keys;
mod locks;
mod parties;
mod positions;
mod questionnaires;
#[cfg(any(test, feature = "testkit"))]
pub mod scratch;
mod webhooks;

use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use candex_domain::{ObjectId, Person, RelationshipSet, RelationshipType, SigningAlgorithm};
use candex_store::{
    ApplicationSummary, Attachment, AttachmentAccess, Candidate, DeliveryBatch, DeliveryClaim, DeliveryOutcome,
    ErasedCandidate, Event, EventStamp, EventsQuery, Hirer, IngestedApplication, NewApplicationRecord, NewHirer,
    NewPartner, NewPosition, NewReplay, NewWebhookSubscription, Partner, PartnerCredentials, Position, ProfileView,
    PurgedAttachments, PurgedEvents, QuestionnaireSubmission, QueueStats, RelatedHirer, RelatedHirersQuery, Replay,
    ReplaysQuery, SigningKey, Store, StoreError, StoreResult, SubscriptionWrite, SubscriptionsQuery,
    WebhookAttemptRecord, WebhookAttemptsQuery, WebhookRequestRecord, WebhookRequestsQuery, WebhookSubscription,
};
use chrono::{DateTime, Utc};
use sqlx::migrate::{MigrateError, Migrator};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Connection, PgConnection, PgPool};

use crate::error::map_err;

/// The schema, embedded at compile time.
static MIGRATOR: Migrator = sqlx::migrate!("./migrations");

/// Connections per instance unless the caller says otherwise.
pub const DEFAULT_MAX_CONNECTIONS: u32 = 10;

/// How long a statement waits for a free connection (and a first connect for the server to
/// come up) before failing with `Unavailable`.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(10);

/// The applied schema is newer than this binary knows: it must not touch the database.
#[derive(Debug, thiserror::Error)]
#[error("database was migrated by a newer candex (migration {version}); upgrade candex")]
struct NewerDatabase {
    version: i64,
}

/// candex's store on a PostgreSQL database.
#[derive(Debug, Clone)]
pub struct PgStore {
    pool: PgPool,
}

impl PgStore {
    /// Connects to the database at `url` (`postgres://user:password@host:port/database`) with
    /// a pool of up to [`DEFAULT_MAX_CONNECTIONS`] connections, and brings its schema up to
    /// date (instances starting together take turns on PostgreSQL's migration lock).
    ///
    /// Fails with `StoreError::Other` when the database was migrated by a newer candex, and
    /// `Unavailable` when the server cannot be reached within 10 s.
    pub async fn connect(url: &str) -> Result<PgStore, StoreError> {
        Self::connect_with(url, DEFAULT_MAX_CONNECTIONS).await
    }

    /// [`PgStore::connect`] with a pool of up to `max_connections` (at least one).
    pub async fn connect_with(url: &str, max_connections: u32) -> Result<PgStore, StoreError> {
        let options = PgConnectOptions::from_str(url).map_err(map_err)?.application_name("candex");
        // One direct connection first: a refused connection, a wrong password or a missing
        // database fails at once with the server's own reason, where the pool would retry
        // until its timeout and report only that it timed out.
        let probe = PgConnection::connect_with(&options).await.map_err(map_err)?;
        let _ = probe.close().await;
        let pool = PgPoolOptions::new()
            .max_connections(max_connections.max(1))
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect_with(options)
            .await
            .map_err(map_err)?;
        if let Err(err) = MIGRATOR.run(&pool).await {
            pool.close().await;
            return Err(migrate_err(err));
        }
        Ok(PgStore { pool })
    }

    /// Closes the pool, waiting for connections in use to come back.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// The connection pool, for tests that inspect the database directly.
    #[doc(hidden)]
    pub fn pool(&self) -> &PgPool {
        &self.pool
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
impl Store for PgStore {
    fn backend(&self) -> &'static str {
        "postgres"
    }

    #[tracing::instrument(skip_all)]
    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("select 1").execute(&self.pool).await.map_err(map_err)?;
        Ok(())
    }

    // --- hirers and partners ---

    #[tracing::instrument(skip_all)]
    async fn create_hirer(&self, hirer: NewHirer) -> StoreResult<Hirer> {
        parties::create_hirer(&self.pool, hirer).await
    }

    #[tracing::instrument(skip_all)]
    async fn get_hirer(&self, id: &ObjectId) -> StoreResult<Option<Hirer>> {
        parties::get_hirer(&self.pool, id).await
    }

    #[tracing::instrument(skip_all)]
    async fn list_hirers(&self) -> StoreResult<Vec<Hirer>> {
        parties::list_hirers(&self.pool).await
    }

    #[tracing::instrument(skip_all)]
    async fn create_partner(&self, partner: NewPartner) -> StoreResult<Partner> {
        parties::create_partner(&self.pool, partner).await
    }

    #[tracing::instrument(skip_all)]
    async fn get_partner(&self, id: &ObjectId) -> StoreResult<Option<Partner>> {
        parties::get_partner(&self.pool, id).await
    }

    #[tracing::instrument(skip_all)]
    async fn find_partner_credentials(&self, client_id: &str) -> StoreResult<Option<PartnerCredentials>> {
        parties::find_partner_credentials(&self.pool, client_id).await
    }

    #[tracing::instrument(skip_all)]
    async fn list_partners(&self) -> StoreResult<Vec<Partner>> {
        parties::list_partners(&self.pool).await
    }

    #[tracing::instrument(skip_all)]
    async fn set_relationships(
        &self,
        partner_id: &ObjectId,
        hirer_id: &ObjectId,
        types: &[RelationshipType],
        event: &EventStamp,
    ) -> StoreResult<RelationshipSet> {
        parties::set_relationships(&self.pool, partner_id, hirer_id, types, event).await
    }

    #[tracing::instrument(skip_all)]
    async fn relationships(&self, partner_id: &ObjectId, hirer_id: &ObjectId) -> StoreResult<RelationshipSet> {
        parties::relationships(&self.pool, partner_id, hirer_id).await
    }

    #[tracing::instrument(skip_all)]
    async fn page_related_hirers(&self, query: &RelatedHirersQuery) -> StoreResult<Vec<RelatedHirer>> {
        parties::page_related_hirers(&self.pool, query).await
    }

    // --- positions ---

    #[tracing::instrument(skip_all)]
    async fn create_position(&self, position: NewPosition) -> StoreResult<Position> {
        positions::create_position(&self.pool, position).await
    }

    #[tracing::instrument(skip_all)]
    async fn get_position(&self, profile_id: &ObjectId) -> StoreResult<Option<Position>> {
        positions::get_position(&self.pool, profile_id).await
    }

    #[tracing::instrument(skip_all)]
    async fn get_positions(&self, profile_ids: &[ObjectId]) -> StoreResult<Vec<Position>> {
        positions::get_positions(&self.pool, profile_ids).await
    }

    #[tracing::instrument(skip_all)]
    async fn get_position_by_opening(&self, opening_id: &ObjectId) -> StoreResult<Option<Position>> {
        positions::get_position_by_opening(&self.pool, opening_id).await
    }

    #[tracing::instrument(skip_all)]
    async fn close_position(&self, profile_id: &ObjectId, event: &EventStamp) -> StoreResult<Position> {
        positions::close_position(&self.pool, profile_id, event).await
    }

    #[tracing::instrument(skip_all)]
    async fn list_positions(&self, hirer_id: Option<&ObjectId>) -> StoreResult<Vec<Position>> {
        positions::list_positions(&self.pool, hirer_id).await
    }

    // --- applications ---

    #[tracing::instrument(skip_all)]
    async fn ingest_applications(
        &self,
        applications: &[NewApplicationRecord],
    ) -> StoreResult<Vec<IngestedApplication>> {
        applications::ingest_applications(&self.pool, applications).await
    }

    #[tracing::instrument(skip_all)]
    async fn get_profile(&self, profile_id: &ObjectId) -> StoreResult<Option<ProfileView>> {
        applications::get_profile(&self.pool, profile_id).await
    }

    async fn get_profile_for_partner(
        &self,
        profile_id: &ObjectId,
        partner_id: &ObjectId,
    ) -> StoreResult<Option<(ProfileView, RelationshipSet)>> {
        applications::get_profile_for_partner(&self.pool, profile_id, partner_id).await
    }

    #[tracing::instrument(skip_all)]
    async fn get_profiles(&self, profile_ids: &[ObjectId]) -> StoreResult<Vec<ProfileView>> {
        applications::get_profiles(&self.pool, profile_ids).await
    }

    #[tracing::instrument(skip_all)]
    async fn get_candidate(&self, candidate_id: &ObjectId) -> StoreResult<Option<Candidate>> {
        applications::get_candidate(&self.pool, candidate_id).await
    }

    #[tracing::instrument(skip_all)]
    async fn candidate_profiles(&self, candidate_id: &ObjectId, last: u32) -> StoreResult<Vec<ProfileView>> {
        applications::candidate_profiles(&self.pool, candidate_id, last).await
    }

    #[tracing::instrument(skip_all)]
    async fn update_candidate_person(&self, candidate_id: &ObjectId, person: &Person) -> StoreResult<Candidate> {
        applications::update_candidate_person(&self.pool, candidate_id, person).await
    }

    #[tracing::instrument(skip_all)]
    async fn page_position_applications(
        &self,
        position_profile_id: &ObjectId,
        after_seq: Option<i64>,
        limit: u32,
    ) -> StoreResult<Vec<ApplicationSummary>> {
        applications::page_position_applications(&self.pool, position_profile_id, after_seq, limit).await
    }

    // --- signing keys ---

    #[tracing::instrument(skip_all)]
    async fn signing_key(&self) -> StoreResult<Option<SigningKey>> {
        keys::signing_key(&self.pool).await
    }

    #[tracing::instrument(skip_all)]
    async fn insert_signing_key_if_absent(&self, key: SigningKey) -> StoreResult<SigningKey> {
        keys::insert_signing_key_if_absent(&self.pool, key).await
    }

    // --- attachments ---

    #[tracing::instrument(skip_all)]
    async fn profile_attachments(&self, profile_id: &ObjectId) -> StoreResult<Vec<Attachment>> {
        attachments::profile_attachments(&self.pool, profile_id).await
    }

    #[tracing::instrument(skip_all)]
    async fn attachments_of_profiles(&self, profile_ids: &[ObjectId]) -> StoreResult<Vec<Attachment>> {
        attachments::attachments_of_profiles(&self.pool, profile_ids).await
    }

    #[tracing::instrument(skip_all)]
    async fn get_attachment(&self, attachment_id: &ObjectId) -> StoreResult<Option<AttachmentAccess>> {
        attachments::get_attachment(&self.pool, attachment_id).await
    }

    #[tracing::instrument(skip_all)]
    async fn attachment_blob_referenced(&self, sha256: &str) -> StoreResult<bool> {
        attachments::attachment_blob_referenced(&self.pool, sha256).await
    }

    #[tracing::instrument(skip_all)]
    async fn purge_attachments_of_positions_closed_before(
        &self,
        closed_before: DateTime<Utc>,
    ) -> StoreResult<PurgedAttachments> {
        attachments::purge_attachments_of_positions_closed_before(&self.pool, closed_before).await
    }

    // --- questionnaires ---

    #[tracing::instrument(skip_all)]
    async fn get_position_by_questionnaire(&self, questionnaire_id: &ObjectId) -> StoreResult<Option<Position>> {
        positions::get_position_by_questionnaire(&self.pool, questionnaire_id).await
    }

    #[tracing::instrument(skip_all)]
    async fn questionnaire_submission(&self, profile_id: &ObjectId) -> StoreResult<Option<QuestionnaireSubmission>> {
        questionnaires::questionnaire_submission(&self.pool, profile_id).await
    }

    #[tracing::instrument(skip_all)]
    async fn questionnaire_submissions(
        &self,
        profile_ids: &[ObjectId],
    ) -> StoreResult<Vec<(ObjectId, QuestionnaireSubmission)>> {
        questionnaires::questionnaire_submissions(&self.pool, profile_ids).await
    }

    // --- erasure ---

    #[tracing::instrument(skip_all)]
    async fn erase_candidate(&self, candidate_id: &ObjectId) -> StoreResult<ErasedCandidate> {
        erasure::erase_candidate(&self.pool, candidate_id).await
    }

    // --- events (events.rs) ---

    #[tracing::instrument(skip_all)]
    async fn page_events(&self, query: &EventsQuery) -> StoreResult<Vec<Event>> {
        events::page_events(&self.pool, query).await
    }

    #[tracing::instrument(skip_all)]
    async fn get_event(&self, partner_id: &ObjectId, event_id: &ObjectId) -> StoreResult<Option<Event>> {
        events::get_event(&self.pool, partner_id, event_id).await
    }

    #[tracing::instrument(skip_all)]
    async fn purge_events_before(&self, cutoff: DateTime<Utc>) -> StoreResult<PurgedEvents> {
        events::purge_events_before(&self.pool, cutoff).await
    }

    // --- webhook subscriptions, replays and delivery (webhooks.rs) ---

    #[tracing::instrument(skip_all)]
    async fn create_webhook_subscription(
        &self,
        subscription: NewWebhookSubscription,
    ) -> StoreResult<SubscriptionWrite> {
        webhooks::create_subscription(&self.pool, subscription).await
    }

    #[tracing::instrument(skip_all)]
    async fn get_webhook_subscription(
        &self,
        partner_id: &ObjectId,
        id: &ObjectId,
    ) -> StoreResult<Option<WebhookSubscription>> {
        webhooks::get_subscription(&self.pool, partner_id, id).await
    }

    #[tracing::instrument(skip_all)]
    async fn page_webhook_subscriptions(&self, query: &SubscriptionsQuery) -> StoreResult<Vec<WebhookSubscription>> {
        webhooks::page_subscriptions(&self.pool, query).await
    }

    #[tracing::instrument(skip_all)]
    async fn update_webhook_subscription_delivery(
        &self,
        partner_id: &ObjectId,
        id: &ObjectId,
        url: &str,
        max_events_per_attempt: Option<u8>,
        at: DateTime<Utc>,
    ) -> StoreResult<Option<SubscriptionWrite>> {
        webhooks::update_delivery(&self.pool, partner_id, id, url, max_events_per_attempt, at).await
    }

    #[tracing::instrument(skip_all)]
    async fn update_webhook_subscription_signing(
        &self,
        partner_id: &ObjectId,
        id: &ObjectId,
        algorithm: SigningAlgorithm,
        secret: Option<&str>,
        at: DateTime<Utc>,
    ) -> StoreResult<Option<WebhookSubscription>> {
        webhooks::update_signing(&self.pool, partner_id, id, algorithm, secret, at).await
    }

    #[tracing::instrument(skip_all)]
    async fn delete_webhook_subscription(
        &self,
        partner_id: &ObjectId,
        id: &ObjectId,
    ) -> StoreResult<Option<WebhookSubscription>> {
        webhooks::delete_subscription(&self.pool, partner_id, id).await
    }

    #[tracing::instrument(skip_all)]
    async fn replay_webhook_subscription(&self, replay: NewReplay) -> StoreResult<Replay> {
        webhooks::replay(&self.pool, replay).await
    }

    #[tracing::instrument(skip_all)]
    async fn get_replay(&self, partner_id: &ObjectId, id: &ObjectId) -> StoreResult<Option<Replay>> {
        webhooks::get_replay(&self.pool, partner_id, id).await
    }

    #[tracing::instrument(skip_all)]
    async fn page_replays(&self, query: &ReplaysQuery) -> StoreResult<Vec<Replay>> {
        webhooks::page_replays(&self.pool, query).await
    }

    #[tracing::instrument(skip_all)]
    async fn claim_webhook_deliveries(&self, claim: &DeliveryClaim) -> StoreResult<Vec<DeliveryBatch>> {
        webhooks::claim(&self.pool, claim).await
    }

    #[tracing::instrument(skip_all)]
    async fn record_webhook_delivery(&self, outcome: &DeliveryOutcome) -> StoreResult<()> {
        webhooks::record(&self.pool, outcome).await
    }

    #[tracing::instrument(skip_all)]
    async fn webhook_queue_stats(&self) -> StoreResult<QueueStats> {
        webhooks::queue_stats(&self.pool).await
    }

    #[tracing::instrument(skip_all)]
    async fn page_webhook_requests(&self, query: &WebhookRequestsQuery) -> StoreResult<Vec<WebhookRequestRecord>> {
        webhooks::page_requests(&self.pool, query).await
    }

    #[tracing::instrument(skip_all)]
    async fn get_webhook_request(
        &self,
        partner_id: &ObjectId,
        request_id: &str,
    ) -> StoreResult<Option<WebhookRequestRecord>> {
        webhooks::get_request(&self.pool, partner_id, request_id).await
    }

    #[tracing::instrument(skip_all)]
    async fn page_webhook_attempts(&self, query: &WebhookAttemptsQuery) -> StoreResult<Vec<WebhookAttemptRecord>> {
        webhooks::page_attempts(&self.pool, query).await
    }

    #[tracing::instrument(skip_all)]
    async fn recent_webhook_requests(&self, limit: u32, failures_only: bool) -> StoreResult<Vec<WebhookRequestRecord>> {
        webhooks::recent_requests(&self.pool, limit, failures_only).await
    }
}
