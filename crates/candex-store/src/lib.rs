//! The storage contract of candex: the [`Store`] trait (one method per use case), the records
//! it reads and writes, [`StoreError`], and (feature `testkit`) the conformance kit that every
//! backend runs against itself.

mod error;
mod events;
mod records;
pub mod rows;
#[cfg(feature = "testkit")]
pub mod testkit;

use async_trait::async_trait;
use candex_domain::{ObjectId, Person, RelationshipSet, RelationshipType};
use chrono::{DateTime, Utc};

pub use error::StoreError;
pub use events::*;
pub use records::*;

/// Result alias for store operations.
pub type StoreResult<T> = Result<T, StoreError>;

/// Everything candex persists, behind one object-safe trait so the server holds an
/// `Arc<dyn Store>` and backends (SQLite, PostgreSQL) drop in without generics.
///
/// Identifiers are minted by the caller and passed in; the store never invents them, so every
/// backend produces the same ids for the same input.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// A short name of the backend for logs and `/healthz` (`sqlite`, `postgres`).
    fn backend(&self) -> &'static str;

    /// Checks that the database answers.
    async fn ping(&self) -> StoreResult<()>;

    // --- hirers -------------------------------------------------------------------------

    /// Stores a new hirer.
    async fn create_hirer(&self, hirer: NewHirer) -> StoreResult<Hirer>;
    /// Reads one hirer.
    async fn get_hirer(&self, id: &ObjectId) -> StoreResult<Option<Hirer>>;
    /// Lists every hirer by name (operator use).
    async fn list_hirers(&self) -> StoreResult<Vec<Hirer>>;

    // --- partners and relationships -----------------------------------------------------

    /// Stores a new partner with its hashed client secret.
    async fn create_partner(&self, partner: NewPartner) -> StoreResult<Partner>;
    /// Reads one partner.
    async fn get_partner(&self, id: &ObjectId) -> StoreResult<Option<Partner>>;
    /// Finds a partner and its secret hash by client id, for the token endpoint.
    async fn find_partner_credentials(&self, client_id: &str) -> StoreResult<Option<PartnerCredentials>>;
    /// Lists every partner by name (operator use).
    async fn list_partners(&self) -> StoreResult<Vec<Partner>>;
    /// Replaces the relationships a partner holds with a hirer; an empty list revokes all.
    /// `NotFound` when either side does not exist.
    ///
    /// When the set changes, the same transaction writes a `HirerRelationshipChanged` event
    /// (stamped `event`) into the partner's stream.
    async fn set_relationships(
        &self,
        partner_id: &ObjectId,
        hirer_id: &ObjectId,
        types: &[RelationshipType],
        event: &EventStamp,
    ) -> StoreResult<RelationshipSet>;
    /// The relationships a partner holds with one hirer (empty when none or unknown).
    async fn relationships(&self, partner_id: &ObjectId, hirer_id: &ObjectId) -> StoreResult<RelationshipSet>;
    /// One page of the hirers a partner has any relationship with, ordered by (name, id).
    async fn page_related_hirers(&self, query: &RelatedHirersQuery) -> StoreResult<Vec<RelatedHirer>>;

    // --- positions ----------------------------------------------------------------------

    /// Stores a job ad (position opening plus posted profile) and its `PositionProfilePosted`
    /// event. `NotFound` for an unknown hirer.
    async fn create_position(&self, position: NewPosition) -> StoreResult<Position>;
    /// Reads a job ad by its position profile id.
    async fn get_position(&self, profile_id: &ObjectId) -> StoreResult<Option<Position>>;
    /// Reads several job ads by position profile id in one statement (a page of position
    /// events fetching theirs inline), in no particular order; unknown ids are left out.
    async fn get_positions(&self, profile_ids: &[ObjectId]) -> StoreResult<Vec<Position>>;
    /// Reads a job ad by its position opening id.
    async fn get_position_by_opening(&self, opening_id: &ObjectId) -> StoreResult<Option<Position>>;
    /// Closes a job ad and writes its `PositionProfileClosed` event (stamped `event`);
    /// closing a closed ad changes nothing. `NotFound` when unknown.
    async fn close_position(&self, profile_id: &ObjectId, event: &EventStamp) -> StoreResult<Position>;
    /// Lists job ads, optionally of one hirer, newest first (operator use).
    async fn list_positions(&self, hirer_id: Option<&ObjectId>) -> StoreResult<Vec<Position>>;

    // --- applications -------------------------------------------------------------------

    /// Stores applications atomically: for each, the candidate (matched per hirer on the first
    /// email, its live person data replaced by the latest) and the profile snapshot. All or
    /// nothing: `NotFound` for an unknown position, `Rejected` for a closed one. Each writes
    /// its `CandidateApplicationCreated` event in the same transaction (the outbox).
    async fn ingest_applications(&self, applications: &[NewApplicationRecord])
        -> StoreResult<Vec<IngestedApplication>>;
    /// Reads one profile with its live candidate and its job ad, in one round trip.
    async fn get_profile(&self, profile_id: &ObjectId) -> StoreResult<Option<ProfileView>>;
    /// Reads one profile as [`Store::get_profile`] does, together with the relationships
    /// `partner_id` holds with its hirer (empty when none), in one statement: the read behind
    /// `candidateProfile`, which must authorise before it answers.
    async fn get_profile_for_partner(
        &self,
        profile_id: &ObjectId,
        partner_id: &ObjectId,
    ) -> StoreResult<Option<(ProfileView, RelationshipSet)>>;
    /// Reads several profiles in one statement (a page of events fetching theirs inline), in
    /// no particular order; unknown ids are left out.
    async fn get_profiles(&self, profile_ids: &[ObjectId]) -> StoreResult<Vec<ProfileView>>;
    /// Reads one candidate.
    async fn get_candidate(&self, candidate_id: &ObjectId) -> StoreResult<Option<Candidate>>;
    /// The `last` most recent profiles of a candidate, oldest first.
    async fn candidate_profiles(&self, candidate_id: &ObjectId, last: u32) -> StoreResult<Vec<ProfileView>>;
    /// Replaces a candidate's live person data. `NotFound` when unknown; `Conflict` when the
    /// new first email belongs to another candidate of the same hirer.
    async fn update_candidate_person(&self, candidate_id: &ObjectId, person: &Person) -> StoreResult<Candidate>;
    /// One page of a job ad's applications in ingest order, after `after_seq`.
    async fn page_position_applications(
        &self,
        position_profile_id: &ObjectId,
        after_seq: Option<i64>,
        limit: u32,
    ) -> StoreResult<Vec<ApplicationSummary>>;

    // --- token signing keys -------------------------------------------------------------

    /// The current token signing key, if one was ever stored.
    async fn signing_key(&self) -> StoreResult<Option<SigningKey>>;
    /// Stores `key` unless a key already exists; returns whichever key is current, so that
    /// concurrent first starts of several instances agree on one key.
    async fn insert_signing_key_if_absent(&self, key: SigningKey) -> StoreResult<SigningKey>;

    // --- attachments --------------------------------------------------------------------

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

    // --- questionnaires -----------------------------------------------------------------

    /// Reads the job ad a questionnaire belongs to (its `questionnaire` is set), in one
    /// statement.
    async fn get_position_by_questionnaire(&self, questionnaire_id: &ObjectId) -> StoreResult<Option<Position>>;
    /// A profile's questionnaire submission with its questionnaire, in one statement; `None`
    /// when the application gave no responses (or they were erased) or the profile is unknown.
    async fn questionnaire_submission(&self, profile_id: &ObjectId) -> StoreResult<Option<QuestionnaireSubmission>>;
    /// The questionnaire submissions of several profiles in one statement, with their profile
    /// ids; profiles without one are left out.
    async fn questionnaire_submissions(
        &self,
        profile_ids: &[ObjectId],
    ) -> StoreResult<Vec<(ObjectId, QuestionnaireSubmission)>>;

    // --- erasure ------------------------------------------------------------------------

    /// Erases a candidate in one transaction, as SEEK redacts: the live person becomes
    /// `Person::redacted()` (and never matches a new application again), every profile's
    /// snapshot is emptied, questionnaire responses and attachment rows are deleted.
    /// Identifiers stay valid. Returns the content hashes no attachment references any more,
    /// for the caller to delete from blob storage. `NotFound` for an unknown candidate.
    async fn erase_candidate(&self, candidate_id: &ObjectId) -> StoreResult<ErasedCandidate>;

    // --- events -------------------------------------------------------------------------

    /// One page of a partner's event stream in stream order.
    async fn page_events(&self, query: &EventsQuery) -> StoreResult<Vec<Event>>;
    /// One event, if it is in the partner's stream.
    async fn get_event(&self, partner_id: &ObjectId, event_id: &ObjectId) -> StoreResult<Option<Event>>;
    /// Deletes events, their deliveries and attempts, webhook requests and replays created
    /// before `cutoff`.
    async fn purge_events_before(&self, cutoff: DateTime<Utc>) -> StoreResult<PurgedEvents>;

    // --- webhook subscriptions ----------------------------------------------------------

    /// Stores a subscription unless the partner has one with the same event type, scheme, URL
    /// and hirer, which is returned instead. `NotFound` for an unknown hirer.
    async fn create_webhook_subscription(&self, subscription: NewWebhookSubscription)
        -> StoreResult<SubscriptionWrite>;
    /// One of the partner's subscriptions.
    async fn get_webhook_subscription(
        &self,
        partner_id: &ObjectId,
        id: &ObjectId,
    ) -> StoreResult<Option<WebhookSubscription>>;
    /// One page of the partner's subscriptions in creation order.
    async fn page_webhook_subscriptions(&self, query: &SubscriptionsQuery) -> StoreResult<Vec<WebhookSubscription>>;
    /// Changes where and how many events a subscription delivers (`max_events` `None` keeps
    /// it). `None` when the partner has no such subscription; `Conflict` when another has the
    /// resulting key.
    async fn update_webhook_subscription_delivery(
        &self,
        partner_id: &ObjectId,
        id: &ObjectId,
        url: &str,
        max_events_per_attempt: Option<u8>,
        at: DateTime<Utc>,
    ) -> StoreResult<Option<SubscriptionWrite>>;
    /// Changes how a subscription signs. `None` when the partner has no such subscription.
    async fn update_webhook_subscription_signing(
        &self,
        partner_id: &ObjectId,
        id: &ObjectId,
        algorithm: candex_domain::SigningAlgorithm,
        secret: Option<&str>,
        at: DateTime<Utc>,
    ) -> StoreResult<Option<WebhookSubscription>>;
    /// Deletes a subscription and its undelivered queue; its requests stay for diagnostics.
    /// `None` when the partner has no such subscription.
    async fn delete_webhook_subscription(
        &self,
        partner_id: &ObjectId,
        id: &ObjectId,
    ) -> StoreResult<Option<WebhookSubscription>>;

    // --- replays ------------------------------------------------------------------------

    /// Re-queues the events a replay selects (only events of the partner's stream that match
    /// the subscription) and records the replay, in one transaction. `NotFound` when the
    /// partner has no such subscription.
    async fn replay_webhook_subscription(&self, replay: NewReplay) -> StoreResult<Replay>;
    /// One replay of the partner's.
    async fn get_replay(&self, partner_id: &ObjectId, id: &ObjectId) -> StoreResult<Option<Replay>>;
    /// One page of a subscription's replays in creation order.
    async fn page_replays(&self, query: &ReplaysQuery) -> StoreResult<Vec<Replay>>;

    // --- delivery -----------------------------------------------------------------------

    /// Leases up to `max_subscriptions` subscriptions that have undelivered events, are due
    /// and are not leased by anyone, and returns each with its oldest undelivered events.
    async fn claim_webhook_deliveries(&self, claim: &DeliveryClaim) -> StoreResult<Vec<DeliveryBatch>>;
    /// Records a request and its attempts, marks the events delivered on success or backs
    /// the subscription off until `retry_at` on failure, and releases the lease; one
    /// transaction.
    async fn record_webhook_delivery(&self, outcome: &DeliveryOutcome) -> StoreResult<()>;
    /// The delivery queue's depth and age.
    async fn webhook_queue_stats(&self) -> StoreResult<QueueStats>;

    // --- delivery diagnostics -----------------------------------------------------------

    /// One page of a subscription's requests, oldest first.
    async fn page_webhook_requests(&self, query: &WebhookRequestsQuery) -> StoreResult<Vec<WebhookRequestRecord>>;
    /// One of the partner's requests by `X-Request-Id`.
    async fn get_webhook_request(
        &self,
        partner_id: &ObjectId,
        request_id: &str,
    ) -> StoreResult<Option<WebhookRequestRecord>>;
    /// One page of attempts of an event or a request, oldest first.
    async fn page_webhook_attempts(&self, query: &WebhookAttemptsQuery) -> StoreResult<Vec<WebhookAttemptRecord>>;
    /// The most recent requests over every partner, newest first, optionally failures only
    /// (operator use).
    async fn recent_webhook_requests(&self, limit: u32, failures_only: bool) -> StoreResult<Vec<WebhookRequestRecord>>;
}
