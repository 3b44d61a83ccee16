//! Inputs and payloads of the five webhook mutations, named exactly as in SEEK's schema
//! (`CreateWebhookSubscription_SubscriptionInput`, `…Payload_Success`, …). Inputs that carry
//! a signing secret mark it `secret` and derive no `Debug`, so it is never printed.

use async_graphql::{InputObject, SimpleObject, Union};

use super::webhook::WebhookSubscription;
use crate::graphql::scalars::DateTime;

/// `CreateWebhookSubscriptionInput`.
#[derive(InputObject)]
pub struct CreateWebhookSubscriptionInput {
    /// The subscription to create.
    pub webhook_subscription: CreateWebhookSubscriptionSubscriptionInput,
}

/// `CreateWebhookSubscription_SubscriptionInput`.
#[derive(InputObject)]
#[graphql(name = "CreateWebhookSubscription_SubscriptionInput")]
pub struct CreateWebhookSubscriptionSubscriptionInput {
    /// The event type to deliver.
    pub event_type_code: String,
    /// Only this hirer's events.
    pub hirer_id: Option<String>,
    /// Events per request, 1 to 10 (default 10).
    pub max_events_per_attempt: Option<i32>,
    /// The server's scheme.
    pub scheme_id: String,
    /// Signing secret (required for `SeekHmacSha512`).
    #[graphql(secret)]
    pub secret: Option<String>,
    /// `None` or `SeekHmacSha512`.
    pub signing_algorithm_code: String,
    /// Where to deliver.
    pub url: String,
}

/// `CreateWebhookSubscriptionPayload`.
#[derive(Union)]
pub enum CreateWebhookSubscriptionPayload {
    /// Another subscription has the same key.
    Conflict(CreateWebhookSubscriptionPayloadConflict),
    /// Created.
    Success(CreateWebhookSubscriptionPayloadSuccess),
}

/// `CreateWebhookSubscriptionPayload_Conflict`.
#[derive(SimpleObject)]
#[graphql(name = "CreateWebhookSubscriptionPayload_Conflict")]
pub struct CreateWebhookSubscriptionPayloadConflict {
    /// The subscription that already has the key.
    pub conflicting_webhook_subscription: WebhookSubscription,
}

/// `CreateWebhookSubscriptionPayload_Success`.
#[derive(SimpleObject)]
#[graphql(name = "CreateWebhookSubscriptionPayload_Success")]
pub struct CreateWebhookSubscriptionPayloadSuccess {
    /// The new subscription.
    pub webhook_subscription: WebhookSubscription,
}

/// `UpdateWebhookSubscriptionDeliveryConfigurationInput`.
#[derive(Debug, InputObject)]
pub struct UpdateWebhookSubscriptionDeliveryConfigurationInput {
    /// The change.
    pub webhook_subscription: UpdateWebhookSubscriptionDeliveryConfigurationSubscriptionInput,
}

/// `UpdateWebhookSubscriptionDeliveryConfiguration_SubscriptionInput`.
#[derive(Debug, InputObject)]
#[graphql(name = "UpdateWebhookSubscriptionDeliveryConfiguration_SubscriptionInput")]
pub struct UpdateWebhookSubscriptionDeliveryConfigurationSubscriptionInput {
    /// The subscription.
    pub id: String,
    /// Events per request, 1 to 10 (unchanged when omitted).
    pub max_events_per_attempt: Option<i32>,
    /// Where to deliver.
    pub url: String,
}

/// `UpdateWebhookSubscriptionDeliveryConfigurationPayload`.
#[derive(Union)]
pub enum UpdateWebhookSubscriptionDeliveryConfigurationPayload {
    /// Another subscription has the resulting key.
    Conflict(UpdateWebhookSubscriptionDeliveryConfigurationPayloadConflict),
    /// Updated.
    Success(UpdateWebhookSubscriptionDeliveryConfigurationPayloadSuccess),
}

/// `UpdateWebhookSubscriptionDeliveryConfigurationPayload_Conflict`.
#[derive(SimpleObject)]
#[graphql(name = "UpdateWebhookSubscriptionDeliveryConfigurationPayload_Conflict")]
pub struct UpdateWebhookSubscriptionDeliveryConfigurationPayloadConflict {
    /// The subscription that already has the key.
    pub conflicting_webhook_subscription: WebhookSubscription,
}

/// `UpdateWebhookSubscriptionDeliveryConfigurationPayload_Success`.
#[derive(SimpleObject)]
#[graphql(name = "UpdateWebhookSubscriptionDeliveryConfigurationPayload_Success")]
pub struct UpdateWebhookSubscriptionDeliveryConfigurationPayloadSuccess {
    /// The updated subscription.
    pub webhook_subscription: WebhookSubscription,
}

/// `UpdateWebhookSubscriptionSigningConfigurationInput`.
#[derive(InputObject)]
pub struct UpdateWebhookSubscriptionSigningConfigurationInput {
    /// The change.
    pub webhook_subscription: UpdateWebhookSubscriptionSigningConfigurationSubscriptionInput,
}

/// `UpdateWebhookSubscriptionSigningConfiguration_SubscriptionInput`.
#[derive(InputObject)]
#[graphql(name = "UpdateWebhookSubscriptionSigningConfiguration_SubscriptionInput")]
pub struct UpdateWebhookSubscriptionSigningConfigurationSubscriptionInput {
    /// The subscription.
    pub id: String,
    /// Signing secret (required for `SeekHmacSha512`).
    #[graphql(secret)]
    pub secret: Option<String>,
    /// `None` or `SeekHmacSha512`.
    pub signing_algorithm_code: String,
}

/// `UpdateWebhookSubscriptionSigningConfigurationPayload`.
#[derive(SimpleObject)]
pub struct UpdateWebhookSubscriptionSigningConfigurationPayload {
    /// The updated subscription.
    pub webhook_subscription: WebhookSubscription,
}

/// `DeleteWebhookSubscriptionInput`.
#[derive(Debug, InputObject)]
pub struct DeleteWebhookSubscriptionInput {
    /// The subscription.
    pub webhook_subscription: DeleteWebhookSubscriptionSubscriptionInput,
}

/// `DeleteWebhookSubscription_SubscriptionInput`.
#[derive(Debug, InputObject)]
#[graphql(name = "DeleteWebhookSubscription_SubscriptionInput")]
pub struct DeleteWebhookSubscriptionSubscriptionInput {
    /// The subscription's id.
    pub id: String,
}

/// `DeleteWebhookSubscriptionPayload`.
#[derive(SimpleObject)]
pub struct DeleteWebhookSubscriptionPayload {
    /// The deleted subscription.
    pub webhook_subscription: WebhookSubscription,
}

/// `ReplayWebhookSubscriptionInput`: exactly one of `eventIds` and `filter`.
#[derive(Debug, InputObject)]
pub struct ReplayWebhookSubscriptionInput {
    /// Up to 100 events to re-deliver.
    pub event_ids: Option<Vec<String>>,
    /// Events created in a window.
    pub filter: Option<ReplayWebhookSubscriptionFilterInput>,
    /// The subscription.
    pub webhook_subscription: ReplayWebhookSubscriptionSubscriptionInput,
}

/// `ReplayWebhookSubscription_FilterInput`.
#[derive(Debug, InputObject)]
#[graphql(name = "ReplayWebhookSubscription_FilterInput")]
pub struct ReplayWebhookSubscriptionFilterInput {
    /// Created after this time.
    pub created_after_date_time: DateTime,
    /// Created before this time.
    pub created_before_date_time: DateTime,
    /// Only this hirer's events.
    pub hirer_id: Option<String>,
    /// Re-deliver delivered events too.
    pub replay_delivered_events_indicator: bool,
}

/// `ReplayWebhookSubscription_SubscriptionInput`.
#[derive(Debug, InputObject)]
#[graphql(name = "ReplayWebhookSubscription_SubscriptionInput")]
pub struct ReplayWebhookSubscriptionSubscriptionInput {
    /// The subscription's id.
    pub id: String,
}

/// `ReplayWebhookSubscriptionPayload`.
#[derive(SimpleObject)]
pub struct ReplayWebhookSubscriptionPayload {
    /// The subscription.
    pub webhook_subscription: WebhookSubscription,
}
