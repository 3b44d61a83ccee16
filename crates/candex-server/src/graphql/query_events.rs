//! The `Query` fields of events and webhooks, merged into the root: the partner's event stream
//! and its webhook subscriptions, requests, attempts and replays. Partner tokens only; every
//! read is scoped to the calling partner, and another partner's object reads exactly like a
//! missing one (null, or an empty connection), never `FORBIDDEN`.

use std::sync::Arc;

use async_graphql::{Context, Object};
use candex_domain::{EventType, IdKind, Identifier};
use candex_store::{AttemptsOf, EventsQuery, SubscriptionsQuery};

use super::access::Access;
use super::error::{bad_user_input, internal};
use super::seq_paging::{connection_complexity, SeqPaging};
use super::types::event::{Event, EventEdge, EventsConnection, EventsFilterInput};
use super::types::replay::WebhookSubscriptionReplay;
use super::types::webhook::{
    attempts_connection, event_types, requests_connection, time_window, WebhookAttemptsConnection,
    WebhookAttemptsFilterInput, WebhookRequest, WebhookRequestFilterInput, WebhookRequestsConnection,
    WebhookSubscription, WebhookSubscriptionEdge, WebhookSubscriptionsConnection, WebhookSubscriptionsFilterInput,
};
use super::SchemaContext;
use crate::graphql::scalars::DateTime;

/// The event and webhook fields of the query root.
#[derive(Default)]
pub struct EventQueries;

fn context<'a>(ctx: &'a Context<'_>) -> (&'a SchemaContext, &'a Access) {
    (ctx.data_unchecked::<SchemaContext>(), ctx.data_unchecked::<Access>())
}

fn parse_id<I: Identifier>(id: &str, kind: IdKind, pointer: &str) -> async_graphql::Result<I> {
    I::parse_kind(id.trim(), kind).map_err(|e| bad_user_input(pointer, e.to_string()))
}

fn check_scheme(sc: &SchemaContext, scheme_id: &str) -> async_graphql::Result<()> {
    if scheme_id == sc.scheme.as_str() {
        Ok(())
    } else {
        Err(bad_user_input("/schemeId", format!("must be {}", sc.scheme)))
    }
}

#[Object(name = "EventQueries")]
impl EventQueries {
    /// One event of the caller's stream; null for an unknown event or another partner's.
    async fn event(&self, ctx: &Context<'_>, id: String) -> async_graphql::Result<Option<Event>> {
        let (sc, access) = context(ctx);
        let partner_id = access.partner()?;
        let id = parse_id(&id, IdKind::Event, "/id")?;
        let found = sc.store.get_event(partner_id, &id).await.map_err(internal)?;
        Ok(found.map(|e| Event::new(Arc::new(e))))
    }

    /// The caller's event stream in stream order; default 10, max 100 per page.
    #[graphql(complexity = "connection_complexity(first, last, child_complexity)")]
    #[allow(clippy::too_many_arguments)]
    async fn events(
        &self,
        ctx: &Context<'_>,
        after: Option<String>,
        before: Option<String>,
        filter: Option<EventsFilterInput>,
        first: Option<i32>,
        last: Option<i32>,
        scheme_id: String,
    ) -> async_graphql::Result<EventsConnection> {
        let (sc, access) = context(ctx);
        let partner_id = access.partner()?.clone();
        check_scheme(sc, &scheme_id)?;
        let paging = SeqPaging::new(first, last, after.as_deref(), before.as_deref())?;
        let filter = filter.unwrap_or_default();
        let subscription = match (filter.subscription_id.as_deref(), filter.delivered_indicator) {
            (None, None) => None,
            (None, Some(_)) => {
                return Err(bad_user_input("/filter/deliveredIndicator", "needs filter.subscriptionId"));
            }
            (Some(id), delivered) => {
                Some((parse_id(id, IdKind::WebhookSubscription, "/filter/subscriptionId")?, delivered))
            }
        };
        let mut types = event_types(filter.event_type_codes)?;
        if types.is_empty() && subscription.is_none() {
            // candex's extension types (`CandidateErased`) are listed only when asked for, so a
            // partner that knows only SEEK's types reads SEEK's stream. A subscription's queue
            // holds only its own type, so it needs no such default.
            types = EventType::SEEK.to_vec();
        }
        let query = EventsQuery {
            partner_id,
            page: paging.request(),
            window: time_window(filter.after_date_time, filter.before_date_time),
            types,
            subscription,
        };
        let rows = sc.store.page_events(&query).await.map_err(internal)?;
        let (items, page_info) = paging.finish(rows, |e| e.seq);
        super::prefetch::event_objects(ctx, &items.iter().map(|(_, e)| e).collect::<Vec<_>>()).await?;
        let edges = items
            .into_iter()
            .map(|(cursor, e)| EventEdge {
                cursor,
                stream_date_time: DateTime(e.created_at),
                node: Event::new(Arc::new(e)),
            })
            .collect();
        Ok(EventsConnection { edges, page_info })
    }

    /// One of the caller's webhook subscriptions; null for an unknown one or another partner's.
    async fn webhook_subscription(
        &self,
        ctx: &Context<'_>,
        id: String,
    ) -> async_graphql::Result<Option<WebhookSubscription>> {
        let (sc, access) = context(ctx);
        let partner_id = access.partner()?;
        let id = parse_id(&id, IdKind::WebhookSubscription, "/id")?;
        let found = sc.store.get_webhook_subscription(partner_id, &id).await.map_err(internal)?;
        Ok(found.map(WebhookSubscription::new))
    }

    /// The caller's webhook subscriptions in creation order; default 10, max 100 per page.
    #[graphql(complexity = "connection_complexity(first, last, child_complexity)")]
    #[allow(clippy::too_many_arguments)]
    async fn webhook_subscriptions(
        &self,
        ctx: &Context<'_>,
        after: Option<String>,
        before: Option<String>,
        filter: Option<WebhookSubscriptionsFilterInput>,
        first: Option<i32>,
        last: Option<i32>,
        scheme_id: String,
    ) -> async_graphql::Result<WebhookSubscriptionsConnection> {
        let (sc, access) = context(ctx);
        let partner_id = access.partner()?.clone();
        check_scheme(sc, &scheme_id)?;
        let paging = SeqPaging::new(first, last, after.as_deref(), before.as_deref())?;
        let filter = filter.unwrap_or_default();
        let hirer_ids = filter
            .hirer_ids
            .unwrap_or_default()
            .iter()
            .enumerate()
            .map(|(i, id)| parse_id(id, IdKind::Organization, &format!("/filter/hirerIds/{i}")))
            .collect::<async_graphql::Result<Vec<_>>>()?;
        let query = SubscriptionsQuery {
            partner_id,
            scheme_id,
            page: paging.request(),
            window: time_window(filter.after_date_time, filter.before_date_time),
            types: event_types(filter.event_type_codes)?,
            hirer_ids,
        };
        let rows = sc.store.page_webhook_subscriptions(&query).await.map_err(internal)?;
        let (items, page_info) = paging.finish(rows, |s| s.seq);
        let edges = items
            .into_iter()
            .map(|(cursor, s)| WebhookSubscriptionEdge { cursor, node: WebhookSubscription::new(s) })
            .collect();
        Ok(WebhookSubscriptionsConnection { edges, page_info })
    }

    /// One of the caller's webhook requests by its `X-Request-Id`.
    async fn webhook_request(
        &self,
        ctx: &Context<'_>,
        request_id: String,
        scheme_id: String,
    ) -> async_graphql::Result<Option<WebhookRequest>> {
        let (sc, access) = context(ctx);
        let partner_id = access.partner()?;
        check_scheme(sc, &scheme_id)?;
        let found = sc.store.get_webhook_request(partner_id, request_id.trim()).await.map_err(internal)?;
        Ok(found.map(|r| WebhookRequest(Arc::new(r))))
    }

    /// A subscription's webhook requests, oldest first; empty for an unknown subscription or
    /// another partner's.
    #[graphql(complexity = "connection_complexity(first, last, child_complexity)")]
    #[allow(clippy::too_many_arguments)]
    async fn webhook_requests_for_subscription(
        &self,
        ctx: &Context<'_>,
        after: Option<String>,
        before: Option<String>,
        filter: Option<WebhookRequestFilterInput>,
        first: Option<i32>,
        last: Option<i32>,
        subscription_id: String,
    ) -> async_graphql::Result<WebhookRequestsConnection> {
        let (_, access) = context(ctx);
        access.partner()?;
        let paging = SeqPaging::new(first, last, after.as_deref(), before.as_deref())?;
        let id = parse_id(&subscription_id, IdKind::WebhookSubscription, "/subscriptionId")?;
        requests_connection(ctx, id, filter, paging).await
    }

    /// An event's webhook attempts, oldest first; empty for an unknown event or one outside the
    /// caller's stream.
    #[graphql(complexity = "connection_complexity(first, last, child_complexity)")]
    #[allow(clippy::too_many_arguments)]
    async fn webhook_attempts_for_event(
        &self,
        ctx: &Context<'_>,
        after: Option<String>,
        before: Option<String>,
        event_id: String,
        filter: Option<WebhookAttemptsFilterInput>,
        first: Option<i32>,
        last: Option<i32>,
    ) -> async_graphql::Result<WebhookAttemptsConnection> {
        let (sc, access) = context(ctx);
        let partner_id = access.partner()?;
        let paging = SeqPaging::new(first, last, after.as_deref(), before.as_deref())?;
        let id = parse_id(&event_id, IdKind::Event, "/eventId")?;
        match sc.store.get_event(partner_id, &id).await.map_err(internal)? {
            Some(event) => attempts_connection(ctx, AttemptsOf::Event(event.seq), filter, paging).await,
            None => Ok(WebhookAttemptsConnection::empty()),
        }
    }

    /// One of the caller's replays; null for an unknown one or another partner's.
    async fn webhook_subscription_replay(
        &self,
        ctx: &Context<'_>,
        id: String,
    ) -> async_graphql::Result<Option<WebhookSubscriptionReplay>> {
        let (sc, access) = context(ctx);
        let partner_id = access.partner()?;
        let id = parse_id(&id, IdKind::WebhookSubscriptionReplay, "/id")?;
        let found = sc.store.get_replay(partner_id, &id).await.map_err(internal)?;
        Ok(found.map(|r| WebhookSubscriptionReplay(Arc::new(r))))
    }
}
