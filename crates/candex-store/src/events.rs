//! Records of the event outbox and webhook delivery: events in partner streams, webhook
//! subscriptions, delivery batches handed to the dispatcher, requests and attempts recorded
//! for diagnostics, and replays.

use async_trait::async_trait;
use candex_domain::{
    CandidateId, CandidateProfileId, DeliveryCode, EventType, HirerId, ObjectId, PartnerId, PositionProfileId,
    SigningAlgorithm,
};
use chrono::{DateTime, Utc};

use crate::StoreResult;

/// The id and time of the event a write emits, minted by the caller like every other id.
#[derive(Debug, Clone, PartialEq)]
pub struct EventStamp {
    /// Minted event id.
    pub id: ObjectId,
    /// Creation time (also the stream time).
    pub at: DateTime<Utc>,
}

/// An event as partners read it. Events are written only inside the transactions that cause
/// them (the outbox), so an event exists exactly when its cause was committed.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// Position in the global order of events; every partner stream is ordered by it.
    pub seq: i64,
    /// The event's id.
    pub id: ObjectId,
    /// What happened.
    pub event_type: EventType,
    /// The hirer concerned (the payload of `HirerRelationshipChanged`).
    pub hirer_id: HirerId,
    /// Creation time; also the stream time.
    pub created_at: DateTime<Utc>,
    /// `CandidateApplicationCreated`: the new profile.
    pub candidate_profile_id: Option<CandidateProfileId>,
    /// `CandidateApplicationCreated`: its candidate.
    pub candidate_id: Option<CandidateId>,
    /// `PositionProfilePosted`/`Closed`: the job ad.
    pub position_profile_id: Option<PositionProfileId>,
}

/// Keyset paging over sequence numbers, shared by every event and webhook listing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SeqPage {
    /// Only items with a sequence number above this.
    pub after: Option<i64>,
    /// Only items with a sequence number below this.
    pub before: Option<i64>,
    /// At most this many items.
    pub limit: u32,
    /// Take items from the end of the range (for `last`); the result is still ascending.
    pub from_end: bool,
}

/// Time window shared by listings (`afterDateTime`/`beforeDateTime`, both exclusive).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TimeWindow {
    /// Only items created after this time.
    pub after: Option<DateTime<Utc>>,
    /// Only items created before this time.
    pub before: Option<DateTime<Utc>>,
}

/// A page request over one partner's event stream.
#[derive(Debug, Clone)]
pub struct EventsQuery {
    /// The partner whose stream is read.
    pub partner_id: PartnerId,
    /// Cursor window and size.
    pub page: SeqPage,
    /// Stream time window.
    pub window: TimeWindow,
    /// Only these types; empty keeps all.
    pub types: Vec<EventType>,
    /// Only events queued for this subscription (of the same partner), optionally only
    /// those delivered (`Some(true)`) or not yet delivered (`Some(false)`).
    pub subscription: Option<(ObjectId, Option<bool>)>,
}

/// A webhook subscription to create. Its `Debug` leaves the secret out.
#[derive(Clone)]
pub struct NewWebhookSubscription {
    /// Minted id.
    pub id: ObjectId,
    /// The owning partner.
    pub partner_id: PartnerId,
    /// `schemeId`.
    pub scheme_id: String,
    /// The one event type it delivers.
    pub event_type: EventType,
    /// Target URL (already checked against the SSRF guard).
    pub url: String,
    /// Only events of this hirer; `None` for every hirer of the partner.
    pub hirer_id: Option<HirerId>,
    /// 1..=10 events per request.
    pub max_events_per_attempt: u8,
    /// How requests are signed.
    pub signing_algorithm: SigningAlgorithm,
    /// Signing secret; `None` exactly when unsigned. Never returned by reads other than the
    /// dispatcher's claims.
    pub secret: Option<String>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
}

/// A webhook subscription as partners read it (never with its secret).
#[derive(Debug, Clone, PartialEq)]
pub struct WebhookSubscription {
    /// Creation order, the paging key.
    pub seq: i64,
    /// The subscription's id.
    pub id: ObjectId,
    /// The owning partner.
    pub partner_id: PartnerId,
    /// `schemeId`.
    pub scheme_id: String,
    /// The event type it delivers.
    pub event_type: EventType,
    /// Target URL.
    pub url: String,
    /// The one hirer it is limited to, if any.
    pub hirer_id: Option<HirerId>,
    /// Events per request.
    pub max_events_per_attempt: u8,
    /// How requests are signed.
    pub signing_algorithm: SigningAlgorithm,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

/// What a write of a subscription's unique key (event type, scheme, URL, hirer) produced.
#[derive(Debug, Clone, PartialEq)]
pub enum SubscriptionWrite {
    /// Stored.
    Written(WebhookSubscription),
    /// Another subscription of the partner already has that key; nothing changed.
    Conflict(WebhookSubscription),
}

/// A page request over a partner's subscriptions, in creation order.
#[derive(Debug, Clone)]
pub struct SubscriptionsQuery {
    /// The partner.
    pub partner_id: PartnerId,
    /// Only this scheme.
    pub scheme_id: String,
    /// Cursor window and size.
    pub page: SeqPage,
    /// Creation time window.
    pub window: TimeWindow,
    /// Only these event types; empty keeps all.
    pub types: Vec<EventType>,
    /// Only subscriptions limited to one of these hirers; empty keeps all.
    pub hirer_ids: Vec<HirerId>,
}

/// Which events a replay re-queues.
#[derive(Debug, Clone, PartialEq)]
pub enum ReplayRequest {
    /// These events (at most 100), delivered or not.
    ById(Vec<ObjectId>),
    /// Events created in a window.
    ByRange {
        /// Created after this time.
        after: DateTime<Utc>,
        /// Created before this time.
        before: DateTime<Utc>,
        /// Only this hirer's events.
        hirer_id: Option<HirerId>,
        /// Re-deliver events already delivered too, not only undelivered ones.
        replay_delivered: bool,
    },
}

/// A replay to perform.
#[derive(Debug, Clone)]
pub struct NewReplay {
    /// Minted id.
    pub id: ObjectId,
    /// The partner asking.
    pub partner_id: PartnerId,
    /// The subscription to re-deliver to.
    pub subscription_id: ObjectId,
    /// What to re-deliver.
    pub request: ReplayRequest,
    /// Request time.
    pub created_at: DateTime<Utc>,
}

/// A replay as partners read it.
#[derive(Debug, Clone, PartialEq)]
pub struct Replay {
    /// Creation order, the paging key.
    pub seq: i64,
    /// The replay's id.
    pub id: ObjectId,
    /// The subscription.
    pub subscription_id: ObjectId,
    /// What was asked.
    pub request: ReplayRequest,
    /// `Submitted`, `Running`, `Completed` or `Cancelled`.
    pub status: String,
    /// How many events it queued.
    pub queued: u64,
    /// Request time.
    pub created_at: DateTime<Utc>,
    /// Last status change.
    pub updated_at: DateTime<Utc>,
}

/// A page request over a subscription's replays.
#[derive(Debug, Clone)]
pub struct ReplaysQuery {
    /// The partner.
    pub partner_id: PartnerId,
    /// The subscription.
    pub subscription_id: ObjectId,
    /// Only replays with this status.
    pub status: Option<String>,
    /// Cursor window and size.
    pub page: SeqPage,
}

/// The dispatcher's claim on due deliveries.
#[derive(Debug, Clone)]
pub struct DeliveryClaim {
    /// Who claims (instance id), recorded with the lease.
    pub owner: String,
    /// Now.
    pub now: DateTime<Utc>,
    /// Until when the claimed subscriptions are leased; an instance that dies holding a
    /// lease lets it lapse and another takes the work over.
    pub lease_until: DateTime<Utc>,
    /// At most this many subscriptions.
    pub max_subscriptions: u32,
}

/// One request's worth of work: a subscription with its secret and up to
/// `max_events_per_attempt` undelivered events, oldest first. Its `Debug` leaves the secret
/// out.
#[derive(Clone)]
pub struct DeliveryBatch {
    /// The subscription.
    pub subscription: WebhookSubscription,
    /// Its signing secret.
    pub secret: Option<String>,
    /// How many failed requests precede this one since the last success.
    pub failures: u32,
    /// The events, oldest first.
    pub events: Vec<Event>,
}

/// A webhook request to record, with its attempts, after the dispatcher sent it.
#[derive(Debug, Clone)]
pub struct DeliveryOutcome {
    /// The lease holder (as claimed).
    pub owner: String,
    /// The subscription.
    pub subscription_id: ObjectId,
    /// `X-Request-Id` sent.
    pub request_id: String,
    /// HTTP status, or the synthetic one (504 timeout, 400 invalid URL, 502 connection failure).
    pub status_code: u16,
    /// Outcome code.
    pub code: DeliveryCode,
    /// Milliseconds to the answer; `None` when no request was made.
    pub latency_ms: Option<u32>,
    /// When the request started.
    pub created_at: DateTime<Utc>,
    /// Minted attempt id and event sequence number for each event of the batch.
    pub attempts: Vec<(ObjectId, i64)>,
    /// On failure, when the subscription may be tried again.
    pub retry_at: DateTime<Utc>,
}

/// A recorded webhook request.
#[derive(Debug, Clone, PartialEq)]
pub struct WebhookRequestRecord {
    /// Record order, the paging key.
    pub seq: i64,
    /// `X-Request-Id`.
    pub request_id: String,
    /// The partner.
    pub partner_id: PartnerId,
    /// The subscription (it may since have been deleted).
    pub subscription_id: ObjectId,
    /// The target URL at the time.
    pub url: String,
    /// HTTP status or synthetic status.
    pub status_code: u16,
    /// Outcome code.
    pub code: DeliveryCode,
    /// Milliseconds to the answer.
    pub latency_ms: Option<u32>,
    /// When the request started.
    pub created_at: DateTime<Utc>,
}

/// A page request over webhook requests.
#[derive(Debug, Clone)]
pub struct WebhookRequestsQuery {
    /// The partner.
    pub partner_id: PartnerId,
    /// Only this subscription's requests.
    pub subscription_id: ObjectId,
    /// Creation time window.
    pub window: TimeWindow,
    /// Only these outcomes; empty keeps all.
    pub codes: Vec<DeliveryCode>,
    /// Cursor window and size.
    pub page: SeqPage,
}

/// One event's part in one webhook request, with both.
#[derive(Debug, Clone, PartialEq)]
pub struct WebhookAttemptRecord {
    /// Record order, the paging key.
    pub seq: i64,
    /// The attempt's id.
    pub id: ObjectId,
    /// The event.
    pub event: Event,
    /// The request.
    pub request: WebhookRequestRecord,
}

/// Whose attempts to list.
#[derive(Debug, Clone, PartialEq)]
pub enum AttemptsOf {
    /// One event's, over every subscription.
    Event(i64),
    /// One request's.
    Request(String),
}

/// A page request over webhook attempts.
#[derive(Debug, Clone)]
pub struct WebhookAttemptsQuery {
    /// The partner.
    pub partner_id: PartnerId,
    /// Whose attempts.
    pub of: AttemptsOf,
    /// Creation time window.
    pub window: TimeWindow,
    /// Only attempts whose request had one of these outcomes; empty keeps all.
    pub codes: Vec<DeliveryCode>,
    /// Cursor window and size.
    pub page: SeqPage,
}

/// The head of the event stream, for metrics: what partners paging `events` can reach.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EventStreamHead {
    /// `seq` of the newest event (the cursor a partner that has read everything holds).
    pub newest_seq: Option<i64>,
    /// Creation time of the newest event.
    pub newest_at: Option<DateTime<Utc>>,
}

/// The delivery queue at a glance, for metrics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QueueStats {
    /// Undelivered (subscription, event) pairs.
    pub pending: u64,
    /// Creation time of the oldest undelivered event.
    pub oldest_pending: Option<DateTime<Utc>>,
}

/// What a retention purge removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PurgedEvents {
    /// Events removed (with their deliveries and attempts).
    pub events: u64,
    /// Webhook requests removed.
    pub requests: u64,
}

/// Stands in for a secret in `Debug` output.
const REDACTED: &str = "<redacted>";

impl std::fmt::Debug for NewWebhookSubscription {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewWebhookSubscription")
            .field("id", &self.id)
            .field("partner_id", &self.partner_id)
            .field("scheme_id", &self.scheme_id)
            .field("event_type", &self.event_type)
            .field("url", &self.url)
            .field("hirer_id", &self.hirer_id)
            .field("max_events_per_attempt", &self.max_events_per_attempt)
            .field("signing_algorithm", &self.signing_algorithm)
            .field("secret", &self.secret.as_ref().map(|_| REDACTED))
            .field("created_at", &self.created_at)
            .finish()
    }
}

impl std::fmt::Debug for DeliveryBatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeliveryBatch")
            .field("subscription", &self.subscription)
            .field("secret", &self.secret.as_ref().map(|_| REDACTED))
            .field("failures", &self.failures)
            .field("events", &self.events)
            .finish()
    }
}

/// The partners' event streams.
#[async_trait]
pub trait EventStore: Send + Sync {
    /// One page of a partner's event stream in stream order.
    async fn page_events(&self, query: &EventsQuery) -> StoreResult<Vec<Event>>;
    /// One event, if it is in the partner's stream.
    async fn get_event(&self, partner_id: &PartnerId, event_id: &ObjectId) -> StoreResult<Option<Event>>;
    /// Deletes events, their deliveries and attempts, webhook requests and replays created
    /// before `cutoff`.
    async fn purge_events_before(&self, cutoff: DateTime<Utc>) -> StoreResult<PurgedEvents>;
    /// The newest event: one primary-key index lookup, cheap enough for every scrape.
    async fn event_stream_head(&self) -> StoreResult<EventStreamHead>;
}

#[async_trait]
impl<B: crate::sql::SqlBackend> EventStore for B {
    #[tracing::instrument(skip_all)]
    async fn page_events(&self, query: &EventsQuery) -> StoreResult<Vec<Event>> {
        use crate::sql::Exec;
        // `None` bounds bind as the open end so the index range always applies. `$6` is the
        // list of type codes, `$10` whether it is empty (keeps all).
        let select = format!(
            "select {columns}
             from event_streams st join events e on e.seq = st.event_seq
             where st.partner_id = $1 and st.event_seq > $2 and st.event_seq < $3
               and e.created_at > $4 and e.created_at < $5
               and ($10 or e.type_code in ({types}))
               and ($7 is null or exists (
                   select 1 from webhook_deliveries d
                   join webhook_subscriptions s on s.seq = d.subscription_seq
                   where s.id = $7 and s.partner_id = $1 and d.event_seq = e.seq
                     and ($8 is null or (d.delivered_at is not null) = $8)))
             order by st.event_seq {order}
             limit $9",
            columns = crate::event_columns!(),
            types = B::list("$6"),
            order = if query.page.from_end { "desc" } else { "asc" },
        );
        let (subscription, delivered) = match &query.subscription {
            Some((id, delivered)) => (Some(id), *delivered),
            None => (None, None),
        };
        let (page, window) = (&query.page, &query.window);
        let types: Vec<&str> = query.types.iter().map(|t| t.code()).collect();
        let all_types = types.is_empty();
        let stmt = crate::stmt!(
            select,
            &query.partner_id,
            page.after.unwrap_or(i64::MIN),
            page.before.unwrap_or(i64::MAX),
            window.after.map_or(i64::MIN, |t| t.timestamp_millis()),
            window.before.map_or(i64::MAX, |t| t.timestamp_millis()),
            types,
            subscription,
            delivered,
            page.limit,
            all_types,
        );
        let mut events = self.reader().all(stmt, crate::rows::event::<B::Db>).await?;
        // A `from_end` page is read newest first (so the limit applies at the end).
        if page.from_end {
            events.reverse();
        }
        Ok(events)
    }

    #[tracing::instrument(skip_all)]
    async fn get_event(&self, partner_id: &PartnerId, event_id: &ObjectId) -> StoreResult<Option<Event>> {
        use crate::sql::Exec;
        const SQL: &str = concat!(
            "select ",
            crate::event_columns!(),
            " from events e join event_streams st on st.event_seq = e.seq and st.partner_id = $1 where e.id = $2"
        );
        self.reader().optional(crate::stmt!(SQL, partner_id, event_id), crate::rows::event::<B::Db>).await
    }

    #[tracing::instrument(skip_all)]
    async fn purge_events_before(&self, cutoff: DateTime<Utc>) -> StoreResult<PurgedEvents> {
        use crate::sql::Exec;
        // Streams, deliveries and attempts of the events go with them (on delete cascade).
        let purged = PurgedEvents {
            events: delete_older_in_batches(self, "events", cutoff).await?,
            requests: delete_older_in_batches(self, "webhook_requests", cutoff).await?,
        };
        self.writer().execute(crate::stmt!("delete from webhook_replays where created_at < $1", cutoff)).await?;
        Ok(purged)
    }

    #[tracing::instrument(skip_all)]
    async fn event_stream_head(&self) -> StoreResult<EventStreamHead> {
        use crate::sql::Exec;
        // Backwards along the primary key: one index entry, whatever the table's size.
        const SQL: &str = "select seq, created_at from events order by seq desc limit 1";
        let head = self
            .reader()
            .optional(crate::stmt!(SQL), |row| {
                let row = crate::rows::StoredRow::<B::Db>::new(row);
                Ok(EventStreamHead { newest_seq: Some(row.int("seq")?), newest_at: Some(row.time("created_at")?) })
            })
            .await?;
        Ok(head.unwrap_or_default())
    }
}

/// Rows deleted per statement, so a large purge never holds the write lock (SQLite) or many
/// row locks (PostgreSQL) for long.
const PURGE_BATCH: i64 = 5_000;

/// Deletes the rows of `table` (`events` or `webhook_requests`: a `seq` key and a
/// `created_at`) created before `cutoff`, a batch per statement; returns how many went.
async fn delete_older_in_batches<B: crate::sql::SqlBackend>(
    store: &B,
    table: &'static str,
    cutoff: DateTime<Utc>,
) -> StoreResult<u64> {
    use crate::sql::Exec;
    let delete = format!(
        "delete from {table} where seq in (select seq from {table} where created_at < $1 order by seq limit $2)"
    );
    let mut deleted = 0;
    loop {
        let done = store.writer().execute(crate::stmt!(delete.clone(), cutoff, PURGE_BATCH)).await?;
        deleted += done;
        if done < PURGE_BATCH.unsigned_abs() {
            return Ok(deleted);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_never_shows_a_secret() {
        let id = ObjectId::from_trusted("s:webhookSubscription:events:x".to_owned());
        let new = NewWebhookSubscription {
            id: id.clone(),
            partner_id: PartnerId::from_trusted("s:partner:candex:p".to_owned()),
            scheme_id: "s".to_owned(),
            event_type: EventType::CandidateApplicationCreated,
            url: "https://example.com/".to_owned(),
            hirer_id: None,
            max_events_per_attempt: 10,
            signing_algorithm: SigningAlgorithm::SeekHmacSha512,
            secret: Some("top-secret-value-123".to_owned()),
            created_at: Utc::now(),
        };
        let text = format!("{new:?}");
        assert!(!text.contains("top-secret") && text.contains(REDACTED), "{text}");
    }
}
