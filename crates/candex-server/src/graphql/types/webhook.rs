//! Webhook subscriptions and their delivery diagnostics: `WebhookSubscription`,
//! `WebhookRequest`, `WebhookAttempt`, their connections and filters. Every read is scoped to
//! the calling partner; a subscription, request or attempt of another partner is never reached.

use std::sync::Arc;

use async_graphql::{Context, InputObject, Object, SimpleObject};
use candex_domain::event::MAX_EVENTS_PER_ATTEMPT;
use candex_domain::{DeliveryCode, EventType, HirerId, ObjectId};
use candex_store::{
    AttemptsOf, ReplaysQuery, TimeWindow, WebhookAttemptRecord, WebhookAttemptsQuery, WebhookRequestRecord,
    WebhookRequestsQuery,
};

use super::common::ObjectIdentifier;
use super::event::Event;
use super::organization::HiringOrganization;
use super::replay::{
    WebhookSubscriptionReplay, WebhookSubscriptionReplayEdge, WebhookSubscriptionReplaysConnection,
    WebhookSubscriptionReplaysFilterInput,
};
use crate::graphql::access::Access;
use crate::graphql::error::{bad_user_input, internal};
use crate::graphql::relay::PageInfo;
use crate::graphql::scalars::DateTime;
use crate::graphql::seq_paging::{connection_complexity, SeqPaging};
use crate::graphql::SchemaContext;

fn context<'a>(ctx: &'a Context<'_>) -> (&'a SchemaContext, &'a Access) {
    (ctx.data_unchecked::<SchemaContext>(), ctx.data_unchecked::<Access>())
}

/// `WebhookSubscription`: where and how a partner receives one event type.
pub struct WebhookSubscription(pub Arc<candex_store::WebhookSubscription>);

impl WebhookSubscription {
    /// Wraps a stored subscription.
    pub fn new(subscription: candex_store::WebhookSubscription) -> Self {
        Self(Arc::new(subscription))
    }
}

#[Object]
impl WebhookSubscription {
    async fn create_date_time(&self) -> DateTime {
        DateTime(self.0.created_at)
    }

    async fn event_type_code(&self) -> String {
        self.0.event_type.code().to_owned()
    }

    /// The hirer the subscription is limited to, while the partner has a relationship with
    /// it: null otherwise (with `FORBIDDEN` when the relationship is gone).
    async fn hirer(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<HiringOrganization>> {
        match &self.0.hirer_id {
            None => Ok(None),
            Some(id) => related_hirer(ctx, id).await,
        }
    }

    async fn hirer_id(&self) -> Option<ObjectIdentifier> {
        self.0.hirer_id.as_ref().map(Into::into)
    }

    async fn id(&self) -> ObjectIdentifier {
        (&self.0.id).into()
    }

    async fn max_events_per_attempt(&self) -> i32 {
        i32::from(self.0.max_events_per_attempt)
    }

    async fn scheme_id(&self) -> String {
        self.0.scheme_id.clone()
    }

    async fn signing_algorithm_code(&self) -> String {
        self.0.signing_algorithm.code().to_owned()
    }

    async fn update_date_time(&self) -> DateTime {
        DateTime(self.0.updated_at)
    }

    async fn url(&self) -> String {
        self.0.url.clone()
    }

    /// The subscription's webhook requests, oldest first.
    #[graphql(complexity = "connection_complexity(first, last, child_complexity)")]
    async fn webhook_requests(
        &self,
        ctx: &Context<'_>,
        after: Option<String>,
        before: Option<String>,
        filter: Option<WebhookRequestFilterInput>,
        first: Option<i32>,
        last: Option<i32>,
    ) -> async_graphql::Result<WebhookRequestsConnection> {
        ctx.data_unchecked::<Access>().charge_nested_load()?;
        let paging = SeqPaging::new(first, last, after.as_deref(), before.as_deref())?;
        requests_connection(ctx, self.0.id.clone(), filter, paging).await
    }

    /// The subscription's replays, oldest first.
    #[graphql(complexity = "connection_complexity(first, last, child_complexity)")]
    async fn webhook_subscription_replays(
        &self,
        ctx: &Context<'_>,
        after: Option<String>,
        before: Option<String>,
        filter: Option<WebhookSubscriptionReplaysFilterInput>,
        first: Option<i32>,
        last: Option<i32>,
    ) -> async_graphql::Result<WebhookSubscriptionReplaysConnection> {
        let (sc, access) = context(ctx);
        let partner_id = access.partner()?.clone();
        access.charge_nested_load()?;
        let paging = SeqPaging::new(first, last, after.as_deref(), before.as_deref())?;
        let status = filter.unwrap_or_default().status()?;
        let query = ReplaysQuery { partner_id, subscription_id: self.0.id.clone(), status, page: paging.request() };
        let rows = sc.store.page_replays(&query).await.map_err(internal)?;
        let (items, page_info) = paging.finish(rows, |r| r.seq);
        let edges = items
            .into_iter()
            .map(|(cursor, r)| WebhookSubscriptionReplayEdge { cursor, node: WebhookSubscriptionReplay(Arc::new(r)) })
            .collect();
        Ok(WebhookSubscriptionReplaysConnection { edges, page_info })
    }
}

/// A hirer the caller holds a relationship with: `FORBIDDEN` without one, null when unknown.
pub async fn related_hirer(ctx: &Context<'_>, hirer_id: &HirerId) -> async_graphql::Result<Option<HiringOrganization>> {
    let (sc, access) = context(ctx);
    let set = access.require_any(hirer_id).await?;
    let hirer = sc.store.get_hirer(hirer_id).await.map_err(internal)?;
    Ok(hirer.map(|h| HiringOrganization::with_relationships(h.id, h.name, set)))
}

/// One of the caller's subscriptions by id; null when deleted (or not the caller's).
pub async fn find_subscription(
    ctx: &Context<'_>,
    subscription_id: &ObjectId,
) -> async_graphql::Result<Option<WebhookSubscription>> {
    let (sc, access) = context(ctx);
    let partner_id = access.partner()?;
    let found = sc.store.get_webhook_subscription(partner_id, subscription_id).await.map_err(internal)?;
    Ok(found.map(WebhookSubscription::new))
}

/// `WebhookSubscriptionEdge`.
#[derive(SimpleObject)]
pub struct WebhookSubscriptionEdge {
    /// Opaque cursor.
    pub cursor: String,
    /// The subscription.
    pub node: WebhookSubscription,
}

/// `WebhookSubscriptionsConnection`.
#[derive(SimpleObject)]
pub struct WebhookSubscriptionsConnection {
    /// Edges in creation order.
    pub edges: Vec<WebhookSubscriptionEdge>,
    /// Paging.
    pub page_info: PageInfo,
}

/// `WebhookSubscriptionsFilterInput`.
#[derive(Debug, Clone, Default, InputObject)]
pub struct WebhookSubscriptionsFilterInput {
    /// Created after this time.
    pub after_date_time: Option<DateTime>,
    /// Created before this time.
    pub before_date_time: Option<DateTime>,
    /// Only these event types.
    pub event_type_codes: Option<Vec<String>>,
    /// Only subscriptions limited to one of these hirers.
    pub hirer_ids: Option<Vec<String>>,
}

/// `WebhookRequest`: one HTTP request to a subscription's URL.
pub struct WebhookRequest(pub Arc<WebhookRequestRecord>);

#[Object]
impl WebhookRequest {
    /// The events the request carried, one attempt each (at most 10).
    #[graphql(complexity = "(MAX_EVENTS_PER_ATTEMPT as usize).saturating_mul(child_complexity).saturating_add(1)")]
    async fn attempts(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<WebhookAttempt>> {
        let (sc, access) = context(ctx);
        let partner_id = access.partner()?.clone();
        access.charge_nested_load()?;
        let query = WebhookAttemptsQuery {
            partner_id,
            of: AttemptsOf::Request(self.0.request_id.clone()),
            window: TimeWindow::default(),
            codes: Vec::new(),
            page: candex_store::SeqPage {
                after: None,
                before: None,
                limit: u32::from(MAX_EVENTS_PER_ATTEMPT),
                from_end: false,
            },
        };
        let rows = sc.store.page_webhook_attempts(&query).await.map_err(internal)?;
        Ok(rows.into_iter().map(|a| WebhookAttempt(Arc::new(a))).collect())
    }

    async fn create_date_time(&self) -> DateTime {
        DateTime(self.0.created_at)
    }

    async fn description_code(&self) -> String {
        self.0.code.code().to_owned()
    }

    async fn latency_ms(&self) -> Option<i32> {
        self.0.latency_ms.and_then(|ms| i32::try_from(ms).ok())
    }

    async fn request_id(&self) -> String {
        self.0.request_id.clone()
    }

    async fn status_code(&self) -> i32 {
        i32::from(self.0.status_code)
    }

    /// Null once the subscription is deleted.
    async fn webhook_subscription(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<WebhookSubscription>> {
        find_subscription(ctx, &self.0.subscription_id).await
    }
}

/// One page of a subscription's requests (empty for another partner's subscription).
pub async fn requests_connection(
    ctx: &Context<'_>,
    subscription_id: ObjectId,
    filter: Option<WebhookRequestFilterInput>,
    paging: SeqPaging,
) -> async_graphql::Result<WebhookRequestsConnection> {
    let (sc, access) = context(ctx);
    let partner_id = access.partner()?.clone();
    let filter = filter.unwrap_or_default();
    let (window, codes) = delivery_filter(filter.after_date_time, filter.before_date_time, filter.description_codes)?;
    let query = WebhookRequestsQuery { partner_id, subscription_id, window, codes, page: paging.request() };
    let rows = sc.store.page_webhook_requests(&query).await.map_err(internal)?;
    let (items, page_info) = paging.finish(rows, |r| r.seq);
    let edges =
        items.into_iter().map(|(cursor, r)| WebhookRequestEdge { cursor, node: WebhookRequest(Arc::new(r)) }).collect();
    Ok(WebhookRequestsConnection { edges, page_info })
}

/// `WebhookRequestEdge`.
#[derive(SimpleObject)]
pub struct WebhookRequestEdge {
    /// Opaque cursor.
    pub cursor: String,
    /// The request.
    pub node: WebhookRequest,
}

/// `WebhookRequestsConnection`.
#[derive(SimpleObject)]
pub struct WebhookRequestsConnection {
    /// Edges, oldest first.
    pub edges: Vec<WebhookRequestEdge>,
    /// Paging.
    pub page_info: PageInfo,
}

/// `WebhookRequestFilterInput`.
#[derive(Debug, Clone, Default, InputObject)]
pub struct WebhookRequestFilterInput {
    /// Sent after this time.
    pub after_date_time: Option<DateTime>,
    /// Sent before this time.
    pub before_date_time: Option<DateTime>,
    /// Only these outcomes (`Success`, `BadResponse`, `InvalidUrl`, `RequestTimeout`).
    pub description_codes: Option<Vec<String>>,
}

/// `WebhookAttempt`: one event's part in one webhook request.
pub struct WebhookAttempt(pub Arc<WebhookAttemptRecord>);

#[Object]
impl WebhookAttempt {
    async fn create_date_time(&self) -> DateTime {
        DateTime(self.0.request.created_at)
    }

    async fn event(&self) -> Event {
        Event::new(Arc::new(self.0.event.clone()))
    }

    async fn id(&self) -> ObjectIdentifier {
        (&self.0.id).into()
    }

    async fn webhook_request(&self) -> WebhookRequest {
        WebhookRequest(Arc::new(self.0.request.clone()))
    }

    /// Null once the subscription is deleted.
    async fn webhook_subscription(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<WebhookSubscription>> {
        find_subscription(ctx, &self.0.request.subscription_id).await
    }
}

/// One page of attempts of an event or a request.
pub async fn attempts_connection(
    ctx: &Context<'_>,
    of: AttemptsOf,
    filter: Option<WebhookAttemptsFilterInput>,
    paging: SeqPaging,
) -> async_graphql::Result<WebhookAttemptsConnection> {
    let (sc, access) = context(ctx);
    let partner_id = access.partner()?.clone();
    let filter = filter.unwrap_or_default();
    let (window, codes) = delivery_filter(filter.after_date_time, filter.before_date_time, filter.description_codes)?;
    let query = WebhookAttemptsQuery { partner_id, of, window, codes, page: paging.request() };
    let rows = sc.store.page_webhook_attempts(&query).await.map_err(internal)?;
    let (items, page_info) = paging.finish(rows, |a| a.seq);
    let edges =
        items.into_iter().map(|(cursor, a)| WebhookAttemptEdge { cursor, node: WebhookAttempt(Arc::new(a)) }).collect();
    Ok(WebhookAttemptsConnection { edges, page_info })
}

/// `WebhookAttemptEdge`.
#[derive(SimpleObject)]
pub struct WebhookAttemptEdge {
    /// Opaque cursor.
    pub cursor: String,
    /// The attempt.
    pub node: WebhookAttempt,
}

/// `WebhookAttemptsConnection`.
#[derive(SimpleObject)]
pub struct WebhookAttemptsConnection {
    /// Edges, oldest first.
    pub edges: Vec<WebhookAttemptEdge>,
    /// Paging.
    pub page_info: PageInfo,
}

impl WebhookAttemptsConnection {
    /// No attempts (an unknown event, or one outside the caller's stream).
    pub fn empty() -> Self {
        Self { edges: Vec::new(), page_info: PageInfo::default() }
    }
}

/// `WebhookAttemptsFilterInput`.
#[derive(Debug, Clone, Default, InputObject)]
pub struct WebhookAttemptsFilterInput {
    /// Made after this time.
    pub after_date_time: Option<DateTime>,
    /// Made before this time.
    pub before_date_time: Option<DateTime>,
    /// Only attempts whose request had one of these outcomes.
    pub description_codes: Option<Vec<String>>,
}

/// The time window and outcome codes of a request or attempt filter.
fn delivery_filter(
    after: Option<DateTime>,
    before: Option<DateTime>,
    codes: Option<Vec<String>>,
) -> async_graphql::Result<(TimeWindow, Vec<DeliveryCode>)> {
    let codes = codes
        .unwrap_or_default()
        .iter()
        .enumerate()
        .map(|(i, code)| {
            DeliveryCode::parse(code).ok_or_else(|| {
                bad_user_input(&format!("/filter/descriptionCodes/{i}"), "is not a known description code")
            })
        })
        .collect::<async_graphql::Result<Vec<_>>>()?;
    Ok((time_window(after, before), codes))
}

/// A filter's `afterDateTime` / `beforeDateTime` (both exclusive).
pub fn time_window(after: Option<DateTime>, before: Option<DateTime>) -> TimeWindow {
    TimeWindow { after: after.map(|t| t.0), before: before.map(|t| t.0) }
}

/// Parses a filter's `eventTypeCodes`; `BAD_USER_INPUT` on `/filter/eventTypeCodes/{i}` for an
/// unknown code.
pub fn event_types(codes: Option<Vec<String>>) -> async_graphql::Result<Vec<EventType>> {
    codes
        .unwrap_or_default()
        .iter()
        .enumerate()
        .map(|(i, code)| {
            EventType::parse(code)
                .ok_or_else(|| bad_user_input(&format!("/filter/eventTypeCodes/{i}"), "is not a known event type code"))
        })
        .collect()
}
