//! Webhook subscriptions, replays, the dispatcher's claims and outcomes, and the request and
//! attempt records partners read for diagnostics.
//!
//! This area is still implemented by each backend: PostgreSQL's claims lease subscriptions
//! with `for no key update skip locked` for several instances and lock the rows each write
//! reads, where SQLite's one writer needs neither. The statements the two share are the next
//! to move to `candex_store`'s shared SQL, as the other areas did.

use candex_domain::{DeliveryCode, ObjectId, PartnerId, SigningAlgorithm};
use candex_store::rows::{self, REPLAY_COLUMNS};
use candex_store::{event_columns, request_columns, subscription_columns};
use candex_store::{
    AttemptsOf, DeliveryBatch, DeliveryClaim, DeliveryOutcome, NewReplay, NewWebhookSubscription, QueueStats, Replay,
    ReplayRequest, ReplaysQuery, StoreError, StoreResult, SubscriptionWrite, SubscriptionsQuery, WebhookAttemptRecord,
    WebhookAttemptsQuery, WebhookRequestRecord, WebhookRequestsQuery, WebhookSubscription,
};
use chrono::{DateTime, Utc};
use sqlx::sqlite::SqliteRow;
use sqlx::{Sqlite, SqlitePool, Transaction};

use crate::codec::{cols, from_json, millis, time, to_json, Db};
use crate::error::map_err;
use crate::events::{ascending, codes_filter, lower, subscription_key, time_lower, time_upper, upper};

async fn subscription_by_id<'e, E: sqlx::Executor<'e, Database = Sqlite>>(
    executor: E,
    partner_id: &PartnerId,
    id: &ObjectId,
) -> StoreResult<Option<WebhookSubscription>> {
    const SQL: &str = concat!(
        "select ",
        subscription_columns!(),
        " from webhook_subscriptions s where s.partner_id = ?1 and s.id = ?2"
    );
    let row =
        sqlx::query(SQL).bind(partner_id.as_str()).bind(id.as_str()).fetch_optional(executor).await.map_err(map_err)?;
    row.as_ref().map(rows::subscription::<Db>).transpose()
}

/// Another subscription of the partner with this unique key, if any.
async fn conflicting(
    tx: &mut Transaction<'_, Sqlite>,
    partner_id: &PartnerId,
    key: (&str, &str, &str, Option<&str>),
    except: Option<&ObjectId>,
) -> StoreResult<Option<WebhookSubscription>> {
    const SQL: &str = concat!(
        "select ",
        subscription_columns!(),
        " from webhook_subscriptions s where s.partner_id = ?1 and s.event_type_code = ?2 and s.scheme_id = ?3
           and s.url = ?4 and s.hirer_key = ?5 and s.id is not ?6"
    );
    let (event_type, scheme, url, hirer) = key;
    let row = sqlx::query(SQL)
        .bind(partner_id.as_str())
        .bind(event_type)
        .bind(scheme)
        .bind(url)
        .bind(hirer.unwrap_or_default())
        .bind(except.map(ObjectId::as_str))
        .fetch_optional(&mut **tx)
        .await
        .map_err(map_err)?;
    row.as_ref().map(rows::subscription::<Db>).transpose()
}

pub(crate) async fn create_subscription(
    writer: &SqlitePool,
    s: NewWebhookSubscription,
) -> StoreResult<SubscriptionWrite> {
    let mut tx = writer.begin_with("begin immediate").await.map_err(map_err)?;
    if let Some(hirer) = &s.hirer_id {
        let found: Option<i64> = sqlx::query_scalar("select 1 from hirers where id = ?1")
            .bind(hirer.as_str())
            .fetch_optional(&mut *tx)
            .await
            .map_err(map_err)?;
        if found.is_none() {
            return Err(StoreError::NotFound("hirer"));
        }
    }
    let key = (s.event_type.code(), s.scheme_id.as_str(), s.url.as_str(), s.hirer_id.as_deref().map(ObjectId::as_str));
    if let Some(existing) = conflicting(&mut tx, &s.partner_id, key, None).await? {
        return Ok(SubscriptionWrite::Conflict(existing));
    }
    let seq: i64 = sqlx::query_scalar(
        "insert into webhook_subscriptions (id, partner_id, scheme_id, event_type_code, url, hirer_id, hirer_key,
             max_events_per_attempt, signing_algorithm, secret, created_at, updated_at)
         values (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?11) returning seq",
    )
    .bind(s.id.as_str())
    .bind(s.partner_id.as_str())
    .bind(&s.scheme_id)
    .bind(s.event_type.code())
    .bind(&s.url)
    .bind(s.hirer_id.as_deref().map(ObjectId::as_str))
    .bind(s.hirer_id.as_deref().map(ObjectId::as_str).unwrap_or_default())
    .bind(i64::from(s.max_events_per_attempt))
    .bind(s.signing_algorithm.code())
    .bind(s.secret.as_deref())
    .bind(millis(&s.created_at))
    .fetch_one(&mut *tx)
    .await
    .map_err(map_err)?;
    tx.commit().await.map_err(map_err)?;
    Ok(SubscriptionWrite::Written(WebhookSubscription {
        seq,
        id: s.id,
        partner_id: s.partner_id,
        scheme_id: s.scheme_id,
        event_type: s.event_type,
        url: s.url,
        hirer_id: s.hirer_id,
        max_events_per_attempt: s.max_events_per_attempt,
        signing_algorithm: s.signing_algorithm,
        created_at: s.created_at,
        updated_at: s.created_at,
    }))
}

pub(crate) async fn get_subscription(
    reader: &SqlitePool,
    partner_id: &PartnerId,
    id: &ObjectId,
) -> StoreResult<Option<WebhookSubscription>> {
    subscription_by_id(reader, partner_id, id).await
}

pub(crate) async fn page_subscriptions(
    reader: &SqlitePool,
    query: &SubscriptionsQuery,
) -> StoreResult<Vec<WebhookSubscription>> {
    macro_rules! sql {
        ($order:literal) => {
            concat!(
                "select ",
                subscription_columns!(),
                " from webhook_subscriptions s
                  where s.partner_id = ?1 and s.scheme_id = ?2 and s.seq > ?3 and s.seq < ?4
                    and s.created_at > ?5 and s.created_at < ?6
                    and (?7 is null or s.event_type_code in (select value from json_each(?7)))
                    and (?8 is null or s.hirer_id in (select value from json_each(?8)))
                  order by s.seq ",
                $order,
                " limit ?9"
            )
        };
    }
    let sql = if query.page.from_end { sql!("desc") } else { sql!("asc") };
    let rows = sqlx::query(sql)
        .bind(query.partner_id.as_str())
        .bind(&query.scheme_id)
        .bind(lower(query.page.after))
        .bind(upper(query.page.before))
        .bind(time_lower(query.window.after))
        .bind(time_upper(query.window.before))
        .bind(codes_filter(query.types.iter().map(|t| t.code()))?)
        .bind(codes_filter(query.hirer_ids.iter().map(|id| id.as_str()))?)
        .bind(i64::from(query.page.limit))
        .fetch_all(reader)
        .await
        .map_err(map_err)?;
    let subscriptions = rows.iter().map(rows::subscription::<Db>).collect::<StoreResult<Vec<_>>>()?;
    Ok(ascending(subscriptions, &query.page))
}

pub(crate) async fn update_delivery(
    writer: &SqlitePool,
    partner_id: &PartnerId,
    id: &ObjectId,
    url: &str,
    max_events: Option<u8>,
    at: DateTime<Utc>,
) -> StoreResult<Option<SubscriptionWrite>> {
    let mut tx = writer.begin_with("begin immediate").await.map_err(map_err)?;
    let Some(current) = subscription_by_id(&mut *tx, partner_id, id).await? else { return Ok(None) };
    let key =
        (current.event_type.code(), current.scheme_id.as_str(), url, current.hirer_id.as_deref().map(ObjectId::as_str));
    if let Some(other) = conflicting(&mut tx, partner_id, key, Some(id)).await? {
        return Ok(Some(SubscriptionWrite::Conflict(other)));
    }
    let max_events = max_events.unwrap_or(current.max_events_per_attempt);
    sqlx::query(
        "update webhook_subscriptions set url = ?3, max_events_per_attempt = ?4, updated_at = ?5
         where partner_id = ?1 and id = ?2",
    )
    .bind(partner_id.as_str())
    .bind(id.as_str())
    .bind(url)
    .bind(i64::from(max_events))
    .bind(millis(&at))
    .execute(&mut *tx)
    .await
    .map_err(map_err)?;
    tx.commit().await.map_err(map_err)?;
    Ok(Some(SubscriptionWrite::Written(WebhookSubscription {
        url: url.to_owned(),
        max_events_per_attempt: max_events,
        updated_at: at,
        ..current
    })))
}

pub(crate) async fn update_signing(
    writer: &SqlitePool,
    partner_id: &PartnerId,
    id: &ObjectId,
    algorithm: SigningAlgorithm,
    secret: Option<&str>,
    at: DateTime<Utc>,
) -> StoreResult<Option<WebhookSubscription>> {
    let mut tx = writer.begin_with("begin immediate").await.map_err(map_err)?;
    let Some(current) = subscription_by_id(&mut *tx, partner_id, id).await? else { return Ok(None) };
    sqlx::query(
        "update webhook_subscriptions set signing_algorithm = ?3, secret = ?4, updated_at = ?5
         where partner_id = ?1 and id = ?2",
    )
    .bind(partner_id.as_str())
    .bind(id.as_str())
    .bind(algorithm.code())
    .bind(secret)
    .bind(millis(&at))
    .execute(&mut *tx)
    .await
    .map_err(map_err)?;
    tx.commit().await.map_err(map_err)?;
    Ok(Some(WebhookSubscription { signing_algorithm: algorithm, updated_at: at, ..current }))
}

pub(crate) async fn delete_subscription(
    writer: &SqlitePool,
    partner_id: &PartnerId,
    id: &ObjectId,
) -> StoreResult<Option<WebhookSubscription>> {
    let mut tx = writer.begin_with("begin immediate").await.map_err(map_err)?;
    let Some(current) = subscription_by_id(&mut *tx, partner_id, id).await? else { return Ok(None) };
    // Its pending deliveries go with it (on delete cascade); requests and replays stay.
    sqlx::query("delete from webhook_subscriptions where seq = ?1")
        .bind(current.seq)
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
    tx.commit().await.map_err(map_err)?;
    Ok(Some(current))
}

// --- replays ------------------------------------------------------------------------------

/// Replays run inside the request's transaction, so they are complete when recorded.
const REPLAY_COMPLETED: &str = "Completed";

pub(crate) async fn replay(writer: &SqlitePool, replay: NewReplay) -> StoreResult<Replay> {
    let mut tx = writer.begin_with("begin immediate").await.map_err(map_err)?;
    let (sub_seq, event_type, sub_hirer) = subscription_key(&mut tx, &replay.partner_id, &replay.subscription_id)
        .await?
        .ok_or(StoreError::NotFound("webhook subscription"))?;
    // Only events of the partner's stream that the subscription would have received.
    let queued = match &replay.request {
        ReplayRequest::ById(ids) => {
            let ids: Vec<&str> = ids.iter().map(ObjectId::as_str).collect();
            sqlx::query(
                "insert into webhook_deliveries (subscription_seq, event_seq)
                 select ?1, e.seq from events e
                 join event_streams st on st.event_seq = e.seq and st.partner_id = ?2
                 where e.id in (select value from json_each(?3)) and e.type_code = ?4
                   and (?5 is null or e.hirer_id = ?5)
                 on conflict (subscription_seq, event_seq) do update set delivered_at = null",
            )
            .bind(sub_seq)
            .bind(replay.partner_id.as_str())
            .bind(to_json(&ids)?)
            .bind(&event_type)
            .bind(sub_hirer.as_deref())
            .execute(&mut *tx)
            .await
            .map_err(map_err)?
            .rows_affected()
        }
        ReplayRequest::ByRange { after, before, hirer_id, replay_delivered } => sqlx::query(
            "insert into webhook_deliveries (subscription_seq, event_seq)
             select ?1, e.seq from events e
             join event_streams st on st.event_seq = e.seq and st.partner_id = ?2
             where e.created_at > ?3 and e.created_at < ?4 and e.type_code = ?5
               and (?6 is null or e.hirer_id = ?6) and (?7 is null or e.hirer_id = ?7)
             on conflict (subscription_seq, event_seq) do update set delivered_at = null where ?8",
        )
        .bind(sub_seq)
        .bind(replay.partner_id.as_str())
        .bind(millis(after))
        .bind(millis(before))
        .bind(&event_type)
        .bind(sub_hirer.as_deref())
        .bind(hirer_id.as_deref().map(ObjectId::as_str))
        .bind(*replay_delivered)
        .execute(&mut *tx)
        .await
        .map_err(map_err)?
        .rows_affected(),
    };
    // Replayed events go out now, whatever backoff the subscription was in.
    sqlx::query("update webhook_subscriptions set next_attempt_at = 0 where seq = ?1")
        .bind(sub_seq)
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
    let (event_ids, after, before, hirer, delivered) = replay_columns(&replay.request)?;
    let at = millis(&replay.created_at);
    let seq: i64 = sqlx::query_scalar(
        "insert into webhook_replays (id, partner_id, subscription_id, event_ids, after_at, before_at, hirer_id,
             replay_delivered, status_code, queued, created_at, updated_at)
         values (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?11) returning seq",
    )
    .bind(replay.id.as_str())
    .bind(replay.partner_id.as_str())
    .bind(replay.subscription_id.as_str())
    .bind(event_ids)
    .bind(after)
    .bind(before)
    .bind(hirer)
    .bind(delivered)
    .bind(REPLAY_COMPLETED)
    .bind(i64::try_from(queued).unwrap_or(i64::MAX))
    .bind(at)
    .fetch_one(&mut *tx)
    .await
    .map_err(map_err)?;
    tx.commit().await.map_err(map_err)?;
    Ok(Replay {
        seq,
        id: replay.id,
        subscription_id: replay.subscription_id,
        request: replay.request,
        status: REPLAY_COMPLETED.to_owned(),
        queued,
        created_at: replay.created_at,
        updated_at: replay.created_at,
    })
}

type ReplayColumns = (Option<String>, Option<i64>, Option<i64>, Option<String>, Option<bool>);

fn replay_columns(request: &ReplayRequest) -> StoreResult<ReplayColumns> {
    Ok(match request {
        ReplayRequest::ById(ids) => {
            let ids: Vec<&str> = ids.iter().map(ObjectId::as_str).collect();
            (Some(to_json(&ids)?), None, None, None, None)
        }
        ReplayRequest::ByRange { after, before, hirer_id, replay_delivered } => (
            None,
            Some(millis(after)),
            Some(millis(before)),
            hirer_id.as_ref().map(|h| h.as_str().to_owned()),
            Some(*replay_delivered),
        ),
    })
}

/// A replay row; a replay by id stores its event ids as a JSON array in text.
fn replay_from_row(row: &SqliteRow) -> StoreResult<Replay> {
    let event_ids =
        cols(row).opt_text("event_ids")?.map(|ids| from_json::<Vec<String>>("replay event ids", &ids)).transpose()?;
    rows::replay::<Db>(row, event_ids)
}

pub(crate) async fn get_replay(
    reader: &SqlitePool,
    partner_id: &PartnerId,
    id: &ObjectId,
) -> StoreResult<Option<Replay>> {
    let sql = format!("select {REPLAY_COLUMNS} from webhook_replays where partner_id = ?1 and id = ?2");
    let row =
        sqlx::query(&sql).bind(partner_id.as_str()).bind(id.as_str()).fetch_optional(reader).await.map_err(map_err)?;
    row.as_ref().map(replay_from_row).transpose()
}

pub(crate) async fn page_replays(reader: &SqlitePool, query: &ReplaysQuery) -> StoreResult<Vec<Replay>> {
    let order = if query.page.from_end { "desc" } else { "asc" };
    let sql = format!(
        "select {REPLAY_COLUMNS} from webhook_replays
         where partner_id = ?1 and subscription_id = ?2 and seq > ?3 and seq < ?4
           and (?5 is null or status_code = ?5)
         order by seq {order} limit ?6"
    );
    let rows = sqlx::query(&sql)
        .bind(query.partner_id.as_str())
        .bind(query.subscription_id.as_str())
        .bind(lower(query.page.after))
        .bind(upper(query.page.before))
        .bind(query.status.as_deref())
        .bind(i64::from(query.page.limit))
        .fetch_all(reader)
        .await
        .map_err(map_err)?;
    let replays = rows.iter().map(replay_from_row).collect::<StoreResult<Vec<_>>>()?;
    Ok(ascending(replays, &query.page))
}

// --- delivery -----------------------------------------------------------------------------

pub(crate) async fn claim(writer: &SqlitePool, claim: &DeliveryClaim) -> StoreResult<Vec<DeliveryBatch>> {
    // RETURNING cannot use a table alias, so the columns are spelled out unqualified here.
    const LEASE: &str = "update webhook_subscriptions set lease_until = ?2, lease_owner = ?3
         where seq in (
             select c.seq from webhook_subscriptions c
             where c.next_attempt_at <= ?1 and c.lease_until <= ?1
               and exists (select 1 from webhook_deliveries d
                           where d.subscription_seq = c.seq and d.delivered_at is null)
             order by c.next_attempt_at, c.seq limit ?4)
         returning seq as s_seq, id as s_id, partner_id as s_partner_id, scheme_id as s_scheme_id,
             event_type_code as s_event_type_code, url as s_url, hirer_id as s_hirer_id,
             max_events_per_attempt as s_max_events, signing_algorithm as s_signing_algorithm,
             created_at as s_created_at, updated_at as s_updated_at, secret as s_secret, failures as s_failures";
    const PENDING: &str = concat!(
        "select ",
        event_columns!(),
        " from webhook_deliveries d join events e on e.seq = d.event_seq
          where d.subscription_seq = ?1 and d.delivered_at is null
          order by d.event_seq limit ?2"
    );
    let now = millis(&claim.now);
    let mut tx = writer.begin_with("begin immediate").await.map_err(map_err)?;
    let rows = sqlx::query(LEASE)
        .bind(now)
        .bind(millis(&claim.lease_until))
        .bind(&claim.owner)
        .bind(i64::from(claim.max_subscriptions))
        .fetch_all(&mut *tx)
        .await
        .map_err(map_err)?;
    let mut batches = Vec::with_capacity(rows.len());
    for row in &rows {
        let subscription = rows::subscription::<Db>(row)?;
        let events = sqlx::query(PENDING)
            .bind(subscription.seq)
            .bind(i64::from(subscription.max_events_per_attempt))
            .fetch_all(&mut *tx)
            .await
            .map_err(map_err)?
            .iter()
            .map(rows::event::<Db>)
            .collect::<StoreResult<Vec<_>>>()?;
        batches.push(DeliveryBatch {
            secret: cols(row).opt_text("s_secret")?,
            failures: u32::try_from(cols(row).int("s_failures")?).unwrap_or(u32::MAX),
            subscription,
            events,
        });
    }
    tx.commit().await.map_err(map_err)?;
    batches.sort_by_key(|b| b.subscription.seq);
    Ok(batches)
}

pub(crate) async fn record(writer: &SqlitePool, outcome: &DeliveryOutcome) -> StoreResult<()> {
    let mut tx = writer.begin_with("begin immediate").await.map_err(map_err)?;
    let created = millis(&outcome.created_at);
    // Through the subscription row: if it was deleted meanwhile, there is nothing to record.
    let request_seq: Option<i64> = sqlx::query_scalar(
        "insert into webhook_requests (request_id, partner_id, subscription_id, url, status_code, description_code,
             latency_ms, created_at)
         select ?1, s.partner_id, s.id, s.url, ?3, ?4, ?5, ?6 from webhook_subscriptions s where s.id = ?2
         returning seq",
    )
    .bind(&outcome.request_id)
    .bind(outcome.subscription_id.as_str())
    .bind(i64::from(outcome.status_code))
    .bind(outcome.code.code())
    .bind(outcome.latency_ms.map(i64::from))
    .bind(created)
    .fetch_optional(&mut *tx)
    .await
    .map_err(map_err)?;
    let Some(request_seq) = request_seq else {
        tx.commit().await.map_err(map_err)?;
        return Ok(());
    };
    let mut seqs = Vec::with_capacity(outcome.attempts.len());
    for (attempt_id, event_seq) in &outcome.attempts {
        // Through the event row: retention may have removed it while the request was out.
        sqlx::query(
            "insert into webhook_attempts (id, request_seq, event_seq, created_at)
             select ?1, ?2, seq, ?4 from events where seq = ?3",
        )
        .bind(attempt_id.as_str())
        .bind(request_seq)
        .bind(event_seq)
        .bind(created)
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
        seqs.push(*event_seq);
    }
    let success = outcome.code == DeliveryCode::Success;
    sqlx::query(
        "update webhook_deliveries set attempts = attempts + 1,
             delivered_at = case when ?3 then ?4 else delivered_at end
         where subscription_seq = (select seq from webhook_subscriptions where id = ?1)
           and event_seq in (select value from json_each(?2))",
    )
    .bind(outcome.subscription_id.as_str())
    .bind(to_json(&seqs)?)
    .bind(success)
    .bind(millis(&chrono::Utc::now()))
    .execute(&mut *tx)
    .await
    .map_err(map_err)?;
    // Release only our own lease: if it lapsed and another instance took over, leave theirs.
    sqlx::query(
        "update webhook_subscriptions set
             failures = case when ?3 then 0 else failures + 1 end,
             next_attempt_at = case when ?3 then 0 else ?4 end,
             lease_until = 0, lease_owner = null
         where id = ?1 and lease_owner = ?2",
    )
    .bind(outcome.subscription_id.as_str())
    .bind(&outcome.owner)
    .bind(success)
    .bind(millis(&outcome.retry_at))
    .execute(&mut *tx)
    .await
    .map_err(map_err)?;
    tx.commit().await.map_err(map_err)
}

pub(crate) async fn queue_stats(reader: &SqlitePool) -> StoreResult<QueueStats> {
    let row = sqlx::query(
        "select count(*) as pending, min(e.created_at) as oldest
         from webhook_deliveries d join events e on e.seq = d.event_seq where d.delivered_at is null",
    )
    .fetch_one(reader)
    .await
    .map_err(map_err)?;
    let oldest: Option<i64> = sqlx::Row::try_get(&row, "oldest").map_err(map_err)?;
    Ok(QueueStats {
        pending: u64::try_from(cols(&row).int("pending")?).unwrap_or_default(),
        oldest_pending: oldest.map(time).transpose()?,
    })
}

// --- diagnostics --------------------------------------------------------------------------

pub(crate) async fn page_requests(
    reader: &SqlitePool,
    query: &WebhookRequestsQuery,
) -> StoreResult<Vec<WebhookRequestRecord>> {
    macro_rules! sql {
        ($order:literal) => {
            concat!(
                "select ",
                request_columns!(),
                " from webhook_requests r
                  where r.partner_id = ?1 and r.subscription_id = ?2 and r.seq > ?3 and r.seq < ?4
                    and r.created_at > ?5 and r.created_at < ?6
                    and (?7 is null or r.description_code in (select value from json_each(?7)))
                  order by r.seq ",
                $order,
                " limit ?8"
            )
        };
    }
    let sql = if query.page.from_end { sql!("desc") } else { sql!("asc") };
    let rows = sqlx::query(sql)
        .bind(query.partner_id.as_str())
        .bind(query.subscription_id.as_str())
        .bind(lower(query.page.after))
        .bind(upper(query.page.before))
        .bind(time_lower(query.window.after))
        .bind(time_upper(query.window.before))
        .bind(codes_filter(query.codes.iter().map(|c| c.code()))?)
        .bind(i64::from(query.page.limit))
        .fetch_all(reader)
        .await
        .map_err(map_err)?;
    let requests = rows.iter().map(rows::webhook_request::<Db>).collect::<StoreResult<Vec<_>>>()?;
    Ok(ascending(requests, &query.page))
}

pub(crate) async fn get_request(
    reader: &SqlitePool,
    partner_id: &PartnerId,
    request_id: &str,
) -> StoreResult<Option<WebhookRequestRecord>> {
    const SQL: &str = concat!(
        "select ",
        request_columns!(),
        " from webhook_requests r where r.partner_id = ?1 and r.request_id = ?2"
    );
    let row =
        sqlx::query(SQL).bind(partner_id.as_str()).bind(request_id).fetch_optional(reader).await.map_err(map_err)?;
    row.as_ref().map(rows::webhook_request::<Db>).transpose()
}

pub(crate) async fn page_attempts(
    reader: &SqlitePool,
    query: &WebhookAttemptsQuery,
) -> StoreResult<Vec<WebhookAttemptRecord>> {
    macro_rules! sql {
        ($order:literal) => {
            concat!(
                "select a.seq as a_seq, a.id as a_id, ",
                event_columns!(),
                ", ",
                request_columns!(),
                " from webhook_attempts a
                  join webhook_requests r on r.seq = a.request_seq
                  join events e on e.seq = a.event_seq
                  where r.partner_id = ?1 and (?2 is null or a.event_seq = ?2) and (?3 is null or r.request_id = ?3)
                    and a.seq > ?4 and a.seq < ?5 and a.created_at > ?6 and a.created_at < ?7
                    and (?8 is null or r.description_code in (select value from json_each(?8)))
                  order by a.seq ",
                $order,
                " limit ?9"
            )
        };
    }
    let sql = if query.page.from_end { sql!("desc") } else { sql!("asc") };
    let (event_seq, request_id) = match &query.of {
        AttemptsOf::Event(seq) => (Some(*seq), None),
        AttemptsOf::Request(id) => (None, Some(id.as_str())),
    };
    let rows = sqlx::query(sql)
        .bind(query.partner_id.as_str())
        .bind(event_seq)
        .bind(request_id)
        .bind(lower(query.page.after))
        .bind(upper(query.page.before))
        .bind(time_lower(query.window.after))
        .bind(time_upper(query.window.before))
        .bind(codes_filter(query.codes.iter().map(|c| c.code()))?)
        .bind(i64::from(query.page.limit))
        .fetch_all(reader)
        .await
        .map_err(map_err)?;
    let attempts = rows.iter().map(rows::webhook_attempt::<Db>).collect::<StoreResult<Vec<_>>>()?;
    Ok(ascending(attempts, &query.page))
}

pub(crate) async fn recent_requests(
    reader: &SqlitePool,
    limit: u32,
    failures_only: bool,
) -> StoreResult<Vec<WebhookRequestRecord>> {
    const SQL: &str = concat!(
        "select ",
        request_columns!(),
        " from webhook_requests r where (not ?1 or r.description_code <> 'Success') order by r.seq desc limit ?2"
    );
    let rows = sqlx::query(SQL).bind(failures_only).bind(i64::from(limit)).fetch_all(reader).await.map_err(map_err)?;
    rows.iter().map(rows::webhook_request::<Db>).collect()
}

#[async_trait::async_trait]
impl candex_store::WebhookStore for crate::SqliteStore {
    async fn create_webhook_subscription(
        &self,
        subscription: NewWebhookSubscription,
    ) -> StoreResult<SubscriptionWrite> {
        crate::webhooks::create_subscription(&self.writer, subscription).await
    }

    async fn get_webhook_subscription(
        &self,
        partner_id: &PartnerId,
        id: &ObjectId,
    ) -> StoreResult<Option<WebhookSubscription>> {
        crate::webhooks::get_subscription(&self.reader, partner_id, id).await
    }

    async fn page_webhook_subscriptions(&self, query: &SubscriptionsQuery) -> StoreResult<Vec<WebhookSubscription>> {
        crate::webhooks::page_subscriptions(&self.reader, query).await
    }

    async fn update_webhook_subscription_delivery(
        &self,
        partner_id: &PartnerId,
        id: &ObjectId,
        url: &str,
        max_events_per_attempt: Option<u8>,
        at: DateTime<Utc>,
    ) -> StoreResult<Option<SubscriptionWrite>> {
        crate::webhooks::update_delivery(&self.writer, partner_id, id, url, max_events_per_attempt, at).await
    }

    async fn update_webhook_subscription_signing(
        &self,
        partner_id: &PartnerId,
        id: &ObjectId,
        algorithm: SigningAlgorithm,
        secret: Option<&str>,
        at: DateTime<Utc>,
    ) -> StoreResult<Option<WebhookSubscription>> {
        crate::webhooks::update_signing(&self.writer, partner_id, id, algorithm, secret, at).await
    }

    async fn delete_webhook_subscription(
        &self,
        partner_id: &PartnerId,
        id: &ObjectId,
    ) -> StoreResult<Option<WebhookSubscription>> {
        crate::webhooks::delete_subscription(&self.writer, partner_id, id).await
    }

    async fn replay_webhook_subscription(&self, replay: NewReplay) -> StoreResult<Replay> {
        crate::webhooks::replay(&self.writer, replay).await
    }

    async fn get_replay(&self, partner_id: &PartnerId, id: &ObjectId) -> StoreResult<Option<Replay>> {
        crate::webhooks::get_replay(&self.reader, partner_id, id).await
    }

    async fn page_replays(&self, query: &ReplaysQuery) -> StoreResult<Vec<Replay>> {
        crate::webhooks::page_replays(&self.reader, query).await
    }

    async fn claim_webhook_deliveries(&self, claim: &DeliveryClaim) -> StoreResult<Vec<DeliveryBatch>> {
        crate::webhooks::claim(&self.writer, claim).await
    }

    async fn record_webhook_delivery(&self, outcome: &DeliveryOutcome) -> StoreResult<()> {
        crate::webhooks::record(&self.writer, outcome).await
    }

    async fn webhook_queue_stats(&self) -> StoreResult<QueueStats> {
        crate::webhooks::queue_stats(&self.reader).await
    }

    async fn page_webhook_requests(&self, query: &WebhookRequestsQuery) -> StoreResult<Vec<WebhookRequestRecord>> {
        crate::webhooks::page_requests(&self.reader, query).await
    }

    async fn get_webhook_request(
        &self,
        partner_id: &PartnerId,
        request_id: &str,
    ) -> StoreResult<Option<WebhookRequestRecord>> {
        crate::webhooks::get_request(&self.reader, partner_id, request_id).await
    }

    async fn page_webhook_attempts(&self, query: &WebhookAttemptsQuery) -> StoreResult<Vec<WebhookAttemptRecord>> {
        crate::webhooks::page_attempts(&self.reader, query).await
    }

    async fn recent_webhook_requests(&self, limit: u32, failures_only: bool) -> StoreResult<Vec<WebhookRequestRecord>> {
        crate::webhooks::recent_requests(&self.reader, limit, failures_only).await
    }
}
