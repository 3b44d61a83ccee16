//! Replays of a webhook subscription: `WebhookSubscriptionReplay`, the
//! `WebhookSubscriptionReplayRequest` interface with its by-id and by-range requests, and the
//! replay connection.

use std::sync::Arc;

use async_graphql::{Context, InputObject, Interface, Object, SimpleObject};
use candex_domain::HirerId;
use candex_store::{Replay, ReplayRequest};

use super::common::ObjectIdentifier;
use super::organization::HiringOrganization;
use super::webhook::{find_subscription, related_hirer, WebhookSubscription};
use crate::graphql::error::bad_user_input;
use crate::graphql::relay::PageInfo;
use crate::graphql::scalars::DateTime;

/// Replay status codes, as SEEK lists them.
pub const REPLAY_STATUS_CODES: [&str; 4] = ["Submitted", "Running", "Completed", "Cancelled"];

/// `WebhookSubscriptionReplay`: a request to re-deliver a subscription's events.
pub struct WebhookSubscriptionReplay(pub Arc<Replay>);

#[Object]
impl WebhookSubscriptionReplay {
    async fn create_date_time(&self) -> DateTime {
        DateTime(self.0.created_at)
    }

    async fn id(&self) -> ObjectIdentifier {
        (&self.0.id).into()
    }

    async fn request(&self) -> WebhookSubscriptionReplayRequest {
        match &self.0.request {
            ReplayRequest::ById(ids) => WebhookSubscriptionReplayRequest::ById(WebhookSubscriptionReplayByIdRequest {
                event_ids: ids.iter().map(ToString::to_string).collect(),
            }),
            ReplayRequest::ByRange { after, before, hirer_id, replay_delivered } => {
                WebhookSubscriptionReplayRequest::ByRange(WebhookSubscriptionReplayByRangeRequest {
                    after: *after,
                    before: *before,
                    hirer_id: hirer_id.clone(),
                    replay_delivered: *replay_delivered,
                })
            }
        }
    }

    async fn status_code(&self) -> String {
        self.0.status.clone()
    }

    async fn update_date_time(&self) -> DateTime {
        DateTime(self.0.updated_at)
    }

    /// Null once the subscription is deleted.
    async fn webhook_subscription(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<WebhookSubscription>> {
        find_subscription(ctx, &self.0.subscription_id).await
    }
}

/// The `WebhookSubscriptionReplayRequest` interface: what a replay asked for.
#[derive(Interface)]
#[graphql(field(name = "type_code", ty = "String"))]
pub enum WebhookSubscriptionReplayRequest {
    /// Listed events.
    ById(WebhookSubscriptionReplayByIdRequest),
    /// Events created in a window.
    ByRange(WebhookSubscriptionReplayByRangeRequest),
}

/// `WebhookSubscriptionReplayByIdRequest`.
pub struct WebhookSubscriptionReplayByIdRequest {
    event_ids: Vec<String>,
}

#[Object]
impl WebhookSubscriptionReplayByIdRequest {
    async fn event_ids(&self) -> Vec<String> {
        self.event_ids.clone()
    }

    async fn type_code(&self) -> String {
        "IdReplayRequest".to_owned()
    }
}

/// `WebhookSubscriptionReplayByRangeRequest`.
pub struct WebhookSubscriptionReplayByRangeRequest {
    after: chrono::DateTime<chrono::Utc>,
    before: chrono::DateTime<chrono::Utc>,
    hirer_id: Option<HirerId>,
    replay_delivered: bool,
}

#[Object]
impl WebhookSubscriptionReplayByRangeRequest {
    async fn after_date_time(&self) -> DateTime {
        DateTime(self.after)
    }

    async fn before_date_time(&self) -> DateTime {
        DateTime(self.before)
    }

    /// The hirer the replay was limited to, while the partner has a relationship with it.
    async fn hirer(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<HiringOrganization>> {
        match &self.hirer_id {
            None => Ok(None),
            Some(id) => related_hirer(ctx, id).await,
        }
    }

    async fn replay_delivered_events_indicator(&self) -> bool {
        self.replay_delivered
    }

    async fn type_code(&self) -> String {
        "RangeReplayRequest".to_owned()
    }
}

/// `WebhookSubscriptionReplayEdge`.
#[derive(SimpleObject)]
pub struct WebhookSubscriptionReplayEdge {
    /// Opaque cursor.
    pub cursor: String,
    /// The replay.
    pub node: WebhookSubscriptionReplay,
}

/// `WebhookSubscriptionReplaysConnection`.
#[derive(SimpleObject)]
pub struct WebhookSubscriptionReplaysConnection {
    /// Edges, oldest first.
    pub edges: Vec<WebhookSubscriptionReplayEdge>,
    /// Paging.
    pub page_info: PageInfo,
}

/// `WebhookSubscriptionReplaysFilterInput`.
#[derive(Debug, Clone, Default, InputObject)]
pub struct WebhookSubscriptionReplaysFilterInput {
    /// Only replays with this status.
    pub status_code: Option<String>,
}

impl WebhookSubscriptionReplaysFilterInput {
    /// The status to keep; `BAD_USER_INPUT` for an unknown code.
    pub fn status(self) -> async_graphql::Result<Option<String>> {
        match self.status_code {
            None => Ok(None),
            Some(code) if REPLAY_STATUS_CODES.contains(&code.as_str()) => Ok(Some(code)),
            Some(_) => {
                Err(bad_user_input("/filter/statusCode", format!("must be one of {}", REPLAY_STATUS_CODES.join(", "))))
            }
        }
    }
}
