//! The webhooks area of the store: webhook subscriptions, replays, delivery and its diagnostics.

use async_trait::async_trait;
use candex_domain::{ObjectId, PartnerId};
use chrono::{DateTime, Utc};

use crate::*;

/// Webhook subscriptions, replays, delivery and its diagnostics.
#[async_trait]
pub trait WebhookStore: Send + Sync {
    /// Stores a subscription unless the partner has one with the same event type, scheme, URL
    /// and hirer, which is returned instead. `NotFound` for an unknown hirer.
    async fn create_webhook_subscription(&self, subscription: NewWebhookSubscription)
        -> StoreResult<SubscriptionWrite>;
    /// One of the partner's subscriptions.
    async fn get_webhook_subscription(
        &self,
        partner_id: &PartnerId,
        id: &ObjectId,
    ) -> StoreResult<Option<WebhookSubscription>>;
    /// One page of the partner's subscriptions in creation order.
    async fn page_webhook_subscriptions(&self, query: &SubscriptionsQuery) -> StoreResult<Vec<WebhookSubscription>>;
    /// Changes where and how many events a subscription delivers (`max_events` `None` keeps
    /// it). `None` when the partner has no such subscription; `Conflict` when another has the
    /// resulting key.
    async fn update_webhook_subscription_delivery(
        &self,
        partner_id: &PartnerId,
        id: &ObjectId,
        url: &str,
        max_events_per_attempt: Option<u8>,
        at: DateTime<Utc>,
    ) -> StoreResult<Option<SubscriptionWrite>>;
    /// Changes how a subscription signs. `None` when the partner has no such subscription.
    async fn update_webhook_subscription_signing(
        &self,
        partner_id: &PartnerId,
        id: &ObjectId,
        algorithm: candex_domain::SigningAlgorithm,
        secret: Option<&str>,
        at: DateTime<Utc>,
    ) -> StoreResult<Option<WebhookSubscription>>;
    /// Deletes a subscription and its undelivered queue; its requests stay for diagnostics.
    /// `None` when the partner has no such subscription.
    async fn delete_webhook_subscription(
        &self,
        partner_id: &PartnerId,
        id: &ObjectId,
    ) -> StoreResult<Option<WebhookSubscription>>;

    /// Re-queues the events a replay selects (only events of the partner's stream that match
    /// the subscription) and records the replay, in one transaction. `NotFound` when the
    /// partner has no such subscription.
    async fn replay_webhook_subscription(&self, replay: NewReplay) -> StoreResult<Replay>;
    /// One replay of the partner's.
    async fn get_replay(&self, partner_id: &PartnerId, id: &ObjectId) -> StoreResult<Option<Replay>>;
    /// One page of a subscription's replays in creation order.
    async fn page_replays(&self, query: &ReplaysQuery) -> StoreResult<Vec<Replay>>;

    /// Leases up to `max_subscriptions` subscriptions that have undelivered events, are due
    /// and are not leased by anyone, and returns each with its oldest undelivered events.
    async fn claim_webhook_deliveries(&self, claim: &DeliveryClaim) -> StoreResult<Vec<DeliveryBatch>>;
    /// Records a request and its attempts, marks the events delivered on success or backs
    /// the subscription off until `retry_at` on failure, and releases the lease; one
    /// transaction.
    async fn record_webhook_delivery(&self, outcome: &DeliveryOutcome) -> StoreResult<()>;
    /// The delivery queue's depth and age.
    async fn webhook_queue_stats(&self) -> StoreResult<QueueStats>;

    /// One page of a subscription's requests, oldest first.
    async fn page_webhook_requests(&self, query: &WebhookRequestsQuery) -> StoreResult<Vec<WebhookRequestRecord>>;
    /// One of the partner's requests by `X-Request-Id`.
    async fn get_webhook_request(
        &self,
        partner_id: &PartnerId,
        request_id: &str,
    ) -> StoreResult<Option<WebhookRequestRecord>>;
    /// One page of attempts of an event or a request, oldest first.
    async fn page_webhook_attempts(&self, query: &WebhookAttemptsQuery) -> StoreResult<Vec<WebhookAttemptRecord>>;
    /// The most recent requests over every partner, newest first, optionally failures only
    /// (operator use).
    async fn recent_webhook_requests(&self, limit: u32, failures_only: bool) -> StoreResult<Vec<WebhookRequestRecord>>;
}
