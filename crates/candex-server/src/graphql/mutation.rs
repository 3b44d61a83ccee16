//! The webhook part of the `Mutation` root: the five webhook mutations (create, update delivery, update signing,
//! delete, replay). Partner tokens only. Invalid input answers `BAD_USER_INPUT` naming each
//! field by JSON pointer (`/input/webhookSubscription/url`, …); another partner's subscription
//! is refused exactly like a missing one. A signing secret is never returned, logged or echoed.

use async_graphql::{Context, Object};
use candex_domain::time::now_ms;
use candex_domain::{event::MAX_EVENTS_PER_ATTEMPT, IdKind, ObjectId};
use candex_store::{NewReplay, NewWebhookSubscription, ReplayRequest, StoreError, SubscriptionWrite};

use super::access::Access;
use super::error::{bad_user_input, internal};
use super::types::webhook::WebhookSubscription;
use super::types::webhook_mutation::*;
use super::webhook_rules::{self as rules, Invalid};
use super::SchemaContext;
use crate::auth::master_key::Purpose;

/// Most events one replay may name.
pub const MAX_REPLAY_EVENT_IDS: usize = 100;

const SUB: &str = "/input/webhookSubscription";

/// The webhook mutations, merged into [`super::Mutation`].
#[derive(Default)]
pub struct Mutation;

fn context<'a>(ctx: &'a Context<'_>) -> (&'a SchemaContext, &'a Access) {
    (ctx.data_unchecked::<SchemaContext>(), ctx.data_unchecked::<Access>())
}

/// The JSON pointer of a field of `input.webhookSubscription`.
fn at(field: &str) -> String {
    format!("{SUB}/{field}")
}

fn no_such_subscription() -> async_graphql::Error {
    bad_user_input(&at("id"), "no such webhook subscription")
}

/// A subscription id; malformed ids are refused like unknown ones.
fn subscription_id(raw: &str) -> async_graphql::Result<ObjectId> {
    ObjectId::parse_as(raw.trim(), IdKind::WebhookSubscription).map_err(|_| no_such_subscription())
}

#[Object(name = "WebhookMutations")]
impl Mutation {
    /// Subscribes the partner to one event type at a URL; a subscription with the same event
    /// type, scheme, URL and hirer answers `Conflict` naming it.
    async fn create_webhook_subscription(
        &self,
        ctx: &Context<'_>,
        input: CreateWebhookSubscriptionInput,
    ) -> async_graphql::Result<CreateWebhookSubscriptionPayload> {
        let (sc, access) = context(ctx);
        let partner_id = access.partner()?.clone();
        let s = input.webhook_subscription;
        let mut invalid = Invalid::default();
        let event_type = invalid.check(&at("eventTypeCode"), rules::event_type(&s.event_type_code));
        invalid.check(&at("schemeId"), rules::scheme(&s.scheme_id, &sc.scheme));
        let algorithm = invalid.check(&at("signingAlgorithmCode"), rules::signing_algorithm(&s.signing_algorithm_code));
        let secret = algorithm.and_then(|a| invalid.check(&at("secret"), rules::secret(a, s.secret)));
        let max_events =
            invalid.check(&at("maxEventsPerAttempt"), rules::max_events_per_attempt(s.max_events_per_attempt));
        let url = invalid.check(&at("url"), rules::target_url(&s.url, sc.webhook_targets).await);
        let hirer_id = match s.hirer_id.as_deref() {
            None => Some(None),
            Some(raw) => invalid.check(&at("hirerId"), rules::related_hirer_id(access, raw).await?).map(Some),
        };
        invalid.finish()?;
        let (Some(event_type), Some(signing_algorithm), Some(secret), Some(max_events), Some(url), Some(hirer_id)) =
            (event_type, algorithm, secret, max_events, url, hirer_id)
        else {
            // Every refusal was reported by `invalid.finish()`; answer rather than panic.
            return Err(bad_user_input(SUB, "is invalid"));
        };
        let id = ObjectId::mint(&sc.scheme, IdKind::WebhookSubscription, &mut rand::thread_rng());
        // Stored sealed with the master key, bound to the subscription's id.
        let secret = secret.map(|s| sc.master_key.seal(Purpose::WebhookSecret, id.as_str(), s.as_bytes()));
        let new = NewWebhookSubscription {
            id,
            partner_id,
            scheme_id: s.scheme_id,
            event_type,
            url,
            hirer_id,
            max_events_per_attempt: max_events.unwrap_or(MAX_EVENTS_PER_ATTEMPT),
            signing_algorithm,
            secret,
            created_at: now_ms(),
        };
        match sc.store.create_webhook_subscription(new).await {
            Ok(SubscriptionWrite::Written(w)) => {
                tracing::info!(webhook_subscription.id = %w.id, "created webhook subscription `{}`", w.id);
                Ok(CreateWebhookSubscriptionPayload::Success(CreateWebhookSubscriptionPayloadSuccess {
                    webhook_subscription: WebhookSubscription::new(w),
                }))
            }
            Ok(SubscriptionWrite::Conflict(c)) => {
                Ok(CreateWebhookSubscriptionPayload::Conflict(CreateWebhookSubscriptionPayloadConflict {
                    conflicting_webhook_subscription: WebhookSubscription::new(c),
                }))
            }
            // The hirer vanished between the relationship check and the write.
            Err(StoreError::NotFound(_)) => Err(bad_user_input(&at("hirerId"), "no relationship with this hirer")),
            Err(e) => Err(internal(e)),
        }
    }

    /// Changes a subscription's URL and events per request; `Conflict` when another
    /// subscription of the partner has the resulting key.
    async fn update_webhook_subscription_delivery_configuration(
        &self,
        ctx: &Context<'_>,
        input: UpdateWebhookSubscriptionDeliveryConfigurationInput,
    ) -> async_graphql::Result<Option<UpdateWebhookSubscriptionDeliveryConfigurationPayload>> {
        let (sc, access) = context(ctx);
        let partner_id = access.partner()?;
        let s = input.webhook_subscription;
        let id = subscription_id(&s.id)?;
        let mut invalid = Invalid::default();
        let max_events =
            invalid.check(&at("maxEventsPerAttempt"), rules::max_events_per_attempt(s.max_events_per_attempt));
        let url = invalid.check(&at("url"), rules::target_url(&s.url, sc.webhook_targets).await);
        invalid.finish()?;
        let (Some(max_events), Some(url)) = (max_events, url) else {
            // Every refusal was reported by `invalid.finish()`; answer rather than panic.
            return Err(bad_user_input(SUB, "is invalid"));
        };
        let written = sc
            .store
            .update_webhook_subscription_delivery(partner_id, &id, &url, max_events, now_ms())
            .await
            .map_err(internal)?
            .ok_or_else(no_such_subscription)?;
        Ok(Some(match written {
            SubscriptionWrite::Written(w) => {
                tracing::info!(webhook_subscription.id = %w.id, "updated delivery of webhook subscription `{}`", w.id);
                UpdateWebhookSubscriptionDeliveryConfigurationPayload::Success(
                    UpdateWebhookSubscriptionDeliveryConfigurationPayloadSuccess {
                        webhook_subscription: WebhookSubscription::new(w),
                    },
                )
            }
            SubscriptionWrite::Conflict(c) => UpdateWebhookSubscriptionDeliveryConfigurationPayload::Conflict(
                UpdateWebhookSubscriptionDeliveryConfigurationPayloadConflict {
                    conflicting_webhook_subscription: WebhookSubscription::new(c),
                },
            ),
        }))
    }

    /// Changes how a subscription's requests are signed.
    async fn update_webhook_subscription_signing_configuration(
        &self,
        ctx: &Context<'_>,
        input: UpdateWebhookSubscriptionSigningConfigurationInput,
    ) -> async_graphql::Result<Option<UpdateWebhookSubscriptionSigningConfigurationPayload>> {
        let (sc, access) = context(ctx);
        let partner_id = access.partner()?;
        let s = input.webhook_subscription;
        let id = subscription_id(&s.id)?;
        let mut invalid = Invalid::default();
        let algorithm = invalid.check(&at("signingAlgorithmCode"), rules::signing_algorithm(&s.signing_algorithm_code));
        let secret = algorithm.and_then(|a| invalid.check(&at("secret"), rules::secret(a, s.secret)));
        invalid.finish()?;
        let (Some(algorithm), Some(secret)) = (algorithm, secret) else {
            // Every refusal was reported by `invalid.finish()`; answer rather than panic.
            return Err(bad_user_input(SUB, "is invalid"));
        };
        let secret = secret.map(|s| sc.master_key.seal(Purpose::WebhookSecret, id.as_str(), s.as_bytes()));
        let updated = sc
            .store
            .update_webhook_subscription_signing(partner_id, &id, algorithm, secret.as_deref(), now_ms())
            .await
            .map_err(internal)?
            .ok_or_else(no_such_subscription)?;
        tracing::info!(webhook_subscription.id = %updated.id, "updated signing of webhook subscription `{}`", updated.id);
        Ok(Some(UpdateWebhookSubscriptionSigningConfigurationPayload {
            webhook_subscription: WebhookSubscription::new(updated),
        }))
    }

    /// Deletes a subscription and its undelivered queue; its requests stay readable.
    async fn delete_webhook_subscription(
        &self,
        ctx: &Context<'_>,
        input: DeleteWebhookSubscriptionInput,
    ) -> async_graphql::Result<Option<DeleteWebhookSubscriptionPayload>> {
        let (sc, access) = context(ctx);
        let partner_id = access.partner()?;
        let id = subscription_id(&input.webhook_subscription.id)?;
        let deleted = sc
            .store
            .delete_webhook_subscription(partner_id, &id)
            .await
            .map_err(internal)?
            .ok_or_else(no_such_subscription)?;
        tracing::info!(webhook_subscription.id = %deleted.id, "deleted webhook subscription `{}`", deleted.id);
        Ok(Some(DeleteWebhookSubscriptionPayload { webhook_subscription: WebhookSubscription::new(deleted) }))
    }

    /// Re-queues events for a subscription: listed ones (up to 100), or those created in a
    /// window (undelivered ones only unless `replayDeliveredEventsIndicator`). Performed at
    /// once; the dispatcher then delivers them like any other.
    async fn replay_webhook_subscription(
        &self,
        ctx: &Context<'_>,
        input: ReplayWebhookSubscriptionInput,
    ) -> async_graphql::Result<Option<ReplayWebhookSubscriptionPayload>> {
        let (sc, access) = context(ctx);
        let partner_id = access.partner()?.clone();
        let id = subscription_id(&input.webhook_subscription.id)?;
        let subscription = sc
            .store
            .get_webhook_subscription(&partner_id, &id)
            .await
            .map_err(internal)?
            .ok_or_else(no_such_subscription)?;
        let request = replay_request(access, &subscription, input.event_ids, input.filter).await?;
        let replay = NewReplay {
            id: ObjectId::mint(&sc.scheme, IdKind::WebhookSubscriptionReplay, &mut rand::thread_rng()),
            partner_id,
            subscription_id: id,
            request,
            created_at: now_ms(),
        };
        let replay = match sc.store.replay_webhook_subscription(replay).await {
            Ok(replay) => replay,
            Err(StoreError::NotFound(_)) => return Err(no_such_subscription()),
            Err(e) => return Err(internal(e)),
        };
        tracing::info!(webhook_subscription_replay.id = %replay.id, queued = replay.queued,
            "replayed webhook subscription `{}`", subscription.id);
        sc.dispatcher.wake();
        Ok(Some(ReplayWebhookSubscriptionPayload { webhook_subscription: WebhookSubscription::new(subscription) }))
    }
}

/// What a replay asks for: exactly one of `eventIds` (1 to 100 event ids) and `filter` (a
/// window, and a hirer when re-delivering delivered events of a subscription to every hirer).
async fn replay_request(
    access: &Access,
    subscription: &candex_store::WebhookSubscription,
    event_ids: Option<Vec<String>>,
    filter: Option<ReplayWebhookSubscriptionFilterInput>,
) -> async_graphql::Result<ReplayRequest> {
    let mut invalid = Invalid::default();
    match (event_ids, filter) {
        (Some(_), Some(_)) => Err(bad_user_input("/input/filter", "give either eventIds or filter, not both")),
        (None, None) => Err(bad_user_input("/input/eventIds", "give either eventIds or filter")),
        (Some(ids), None) => {
            if !(1..=MAX_REPLAY_EVENT_IDS).contains(&ids.len()) {
                return Err(bad_user_input(
                    "/input/eventIds",
                    format!("must list 1 to {MAX_REPLAY_EVENT_IDS} event ids"),
                ));
            }
            let mut parsed = Vec::with_capacity(ids.len());
            for (i, raw) in ids.iter().enumerate() {
                let id = ObjectId::parse_as(raw.trim(), IdKind::Event).map_err(|e| e.to_string());
                if let Some(id) = invalid.check(&format!("/input/eventIds/{i}"), id) {
                    if !parsed.contains(&id) {
                        parsed.push(id);
                    }
                }
            }
            invalid.finish()?;
            Ok(ReplayRequest::ById(parsed))
        }
        (None, Some(f)) => {
            let (after, before) = (f.created_after_date_time.0, f.created_before_date_time.0);
            if after >= before {
                invalid.check::<()>(
                    "/input/filter/createdBeforeDateTime",
                    Err("must be later than createdAfterDateTime".to_owned()),
                );
            }
            let hirer_id = match (f.hirer_id.as_deref(), &subscription.hirer_id) {
                (None, None) if f.replay_delivered_events_indicator => {
                    invalid.check::<()>(
                        "/input/filter/hirerId",
                        Err("is required to replay delivered events of a subscription to every hirer".to_owned()),
                    );
                    None
                }
                (None, scoped) => scoped.clone(),
                (Some(raw), scoped) => {
                    let id = invalid.check("/input/filter/hirerId", rules::related_hirer_id(access, raw).await?);
                    match (id, scoped) {
                        (Some(id), Some(scoped)) if &id != scoped => {
                            invalid.check::<()>(
                                "/input/filter/hirerId",
                                Err("must be the hirer the subscription is limited to".to_owned()),
                            );
                            None
                        }
                        (id, _) => id,
                    }
                }
            };
            invalid.finish()?;
            Ok(ReplayRequest::ByRange {
                after,
                before,
                hirer_id,
                replay_delivered: f.replay_delivered_events_indicator,
            })
        }
    }
}
