//! Webhook subscriptions, replays, the dispatchers' claims and outcomes, and the request and
//! attempt records partners read for diagnostics, on PostgreSQL.
//!
//! Several candex instances run dispatchers on one database: [`claim`] leases subscriptions
//! with `for no key update skip locked`, so no subscription is ever claimed twice while its
//! lease holds, and a lapsed lease (an instance that died) is claimed by whoever comes next.
//! [`record`] releases only its own lease.
//!
//! Because of those locks this area is still implemented by each backend; the statements
//! the two share are the next to move to `candex_store`'s shared SQL, as the other areas did.

use candex_domain::{DeliveryCode, ObjectId, PartnerId, SigningAlgorithm};
use candex_store::rows::{self, REPLAY_COLUMNS};
use candex_store::{event_columns, request_columns, subscription_columns};
use candex_store::{
    AttemptsOf, DeliveryBatch, DeliveryClaim, DeliveryOutcome, NewReplay, NewWebhookSubscription, QueueStats, Replay,
    ReplayRequest, ReplaysQuery, StoreError, StoreResult, SubscriptionWrite, SubscriptionsQuery, WebhookAttemptRecord,
    WebhookAttemptsQuery, WebhookRequestRecord, WebhookRequestsQuery, WebhookSubscription,
};
use chrono::{DateTime, Utc};
use sqlx::postgres::PgRow;
use sqlx::{PgPool, Postgres, Row};

use crate::codec::{cols, millis, time, Db};
use crate::error::map_err;
use crate::events::{ascending, codes, lower, subscription_key, time_lower, time_upper, upper};

/// The unique key of a partner's subscriptions: (event type, scheme, URL, hirer).
const SUBSCRIPTION_KEY: &str = "webhook_subscriptions_key";

/// How often a subscription write starts over when a concurrent write took its key and then
/// released it again before this one could read the winner (vanishingly rare).
const KEY_RACE_RETRIES: usize = 5;

/// Whether `err` is a uniqueness violation of `constraint`.
fn is_unique_violation(err: &sqlx::Error, constraint: &str) -> bool {
    match err {
        sqlx::Error::Database(db) => {
            db.kind() == sqlx::error::ErrorKind::UniqueViolation && db.constraint() == Some(constraint)
        }
        _ => false,
    }
}

async fn subscription_by_id<'e, E: sqlx::Executor<'e, Database = Postgres>>(
    executor: E,
    partner_id: &PartnerId,
    id: &ObjectId,
) -> StoreResult<Option<WebhookSubscription>> {
    const SQL: &str = concat!(
        "select ",
        subscription_columns!(),
        " from webhook_subscriptions s where s.partner_id = $1 and s.id = $2"
    );
    let row =
        sqlx::query(SQL).bind(partner_id.as_str()).bind(id.as_str()).fetch_optional(executor).await.map_err(map_err)?;
    row.as_ref().map(rows::subscription::<Db>).transpose()
}

/// Another subscription of the partner with this unique key, if any.
async fn conflicting<'e, E: sqlx::Executor<'e, Database = Postgres>>(
    executor: E,
    partner_id: &PartnerId,
    key: (&str, &str, &str, Option<&str>),
    except: Option<&ObjectId>,
) -> StoreResult<Option<WebhookSubscription>> {
    const SQL: &str = concat!(
        "select ",
        subscription_columns!(),
        " from webhook_subscriptions s where s.partner_id = $1 and s.event_type_code = $2 and s.scheme_id = $3
           and s.url = $4 and s.hirer_key = $5 and s.id is distinct from $6::text"
    );
    let (event_type, scheme, url, hirer) = key;
    let row = sqlx::query(SQL)
        .bind(partner_id.as_str())
        .bind(event_type)
        .bind(scheme)
        .bind(url)
        .bind(hirer.unwrap_or_default())
        .bind(except.map(ObjectId::as_str))
        .fetch_optional(executor)
        .await
        .map_err(map_err)?;
    row.as_ref().map(rows::subscription::<Db>).transpose()
}

/// Stores the subscription unless the partner already has one with its key.
///
/// Race-free under concurrency: the key is checked inside the transaction, and an insert
/// racing a concurrent one with the same key (`on conflict … do nothing` waits for the other
/// transaction and yields no row when it committed) re-reads the winner and returns it as the
/// conflict, exactly as if it had been there first.
pub(crate) async fn create_subscription(pool: &PgPool, s: NewWebhookSubscription) -> StoreResult<SubscriptionWrite> {
    let key = (s.event_type.code(), s.scheme_id.as_str(), s.url.as_str(), s.hirer_id.as_deref().map(ObjectId::as_str));
    for _ in 0..KEY_RACE_RETRIES {
        let mut tx = pool.begin().await.map_err(map_err)?;
        // One partner's creates run one after the other, so their seqs (the paging key of the
        // partner's list) are in commit order and a cursor never passes one committed later.
        // An unknown partner fails below on the foreign key, as on SQLite.
        sqlx::query("select 1 from partners where id = $1 for no key update")
            .bind(s.partner_id.as_str())
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        if let Some(hirer) = &s.hirer_id {
            let found: bool = sqlx::query_scalar("select exists (select 1 from hirers where id = $1)")
                .bind(hirer.as_str())
                .fetch_one(&mut *tx)
                .await
                .map_err(map_err)?;
            if !found {
                return Err(StoreError::NotFound("hirer"));
            }
        }
        if let Some(existing) = conflicting(&mut *tx, &s.partner_id, key, None).await? {
            return Ok(SubscriptionWrite::Conflict(existing));
        }
        let seq: Option<i64> = sqlx::query_scalar(
            "insert into webhook_subscriptions (id, partner_id, scheme_id, event_type_code, url, hirer_id, hirer_key,
                 max_events_per_attempt, signing_algorithm, secret, created_at, updated_at)
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11)
             on conflict on constraint webhook_subscriptions_key do nothing
             returning seq",
        )
        .bind(s.id.as_str())
        .bind(s.partner_id.as_str())
        .bind(&s.scheme_id)
        .bind(s.event_type.code())
        .bind(&s.url)
        .bind(s.hirer_id.as_deref().map(ObjectId::as_str))
        .bind(s.hirer_id.as_deref().map(ObjectId::as_str).unwrap_or_default())
        .bind(i32::from(s.max_events_per_attempt))
        .bind(s.signing_algorithm.code())
        .bind(s.secret.as_deref())
        .bind(millis(&s.created_at))
        .fetch_optional(&mut *tx)
        .await
        .map_err(map_err)?;
        let Some(seq) = seq else {
            // A concurrent transaction committed the key first; this statement's successor
            // sees it (read committed takes a new snapshot per statement).
            if let Some(existing) = conflicting(&mut *tx, &s.partner_id, key, None).await? {
                return Ok(SubscriptionWrite::Conflict(existing));
            }
            continue;
        };
        tx.commit().await.map_err(map_err)?;
        return Ok(SubscriptionWrite::Written(WebhookSubscription {
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
        }));
    }
    Err(StoreError::Conflict { constraint: SUBSCRIPTION_KEY.to_owned() })
}

pub(crate) async fn get_subscription(
    pool: &PgPool,
    partner_id: &PartnerId,
    id: &ObjectId,
) -> StoreResult<Option<WebhookSubscription>> {
    subscription_by_id(pool, partner_id, id).await
}

pub(crate) async fn page_subscriptions(
    pool: &PgPool,
    query: &SubscriptionsQuery,
) -> StoreResult<Vec<WebhookSubscription>> {
    macro_rules! sql {
        ($order:literal) => {
            concat!(
                "select ",
                subscription_columns!(),
                " from webhook_subscriptions s
                  where s.partner_id = $1 and s.scheme_id = $2 and s.seq > $3 and s.seq < $4
                    and s.created_at > $5 and s.created_at < $6
                    and (cardinality($7::text[]) = 0 or s.event_type_code = any($7::text[]))
                    and (cardinality($8::text[]) = 0 or s.hirer_id = any($8::text[]))
                  order by s.seq ",
                $order,
                " limit $9"
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
        .bind(codes(query.types.iter().map(|t| t.code())))
        .bind(codes(query.hirer_ids.iter().map(|id| id.as_str())))
        .bind(i64::from(query.page.limit))
        .fetch_all(pool)
        .await
        .map_err(map_err)?;
    let subscriptions = rows.iter().map(rows::subscription::<Db>).collect::<StoreResult<Vec<_>>>()?;
    Ok(ascending(subscriptions, &query.page))
}

/// Changes URL and max events. The subscription is locked while its new key is checked; an
/// update racing a concurrent write of the same key fails on `webhook_subscriptions_key`,
/// which is answered, like the check, with the subscription holding the key.
pub(crate) async fn update_delivery(
    pool: &PgPool,
    partner_id: &PartnerId,
    id: &ObjectId,
    url: &str,
    max_events: Option<u8>,
    at: DateTime<Utc>,
) -> StoreResult<Option<SubscriptionWrite>> {
    const CURRENT: &str = concat!(
        "select ",
        subscription_columns!(),
        " from webhook_subscriptions s where s.partner_id = $1 and s.id = $2 for update"
    );
    for _ in 0..KEY_RACE_RETRIES {
        let mut tx = pool.begin().await.map_err(map_err)?;
        let row = sqlx::query(CURRENT)
            .bind(partner_id.as_str())
            .bind(id.as_str())
            .fetch_optional(&mut *tx)
            .await
            .map_err(map_err)?;
        let Some(current) = row.as_ref().map(rows::subscription::<Db>).transpose()? else { return Ok(None) };
        let key = (
            current.event_type.code(),
            current.scheme_id.as_str(),
            url,
            current.hirer_id.as_deref().map(ObjectId::as_str),
        );
        if let Some(other) = conflicting(&mut *tx, partner_id, key, Some(id)).await? {
            return Ok(Some(SubscriptionWrite::Conflict(other)));
        }
        let max_events = max_events.unwrap_or(current.max_events_per_attempt);
        let updated = sqlx::query(
            "update webhook_subscriptions set url = $3, max_events_per_attempt = $4, updated_at = $5
             where partner_id = $1 and id = $2",
        )
        .bind(partner_id.as_str())
        .bind(id.as_str())
        .bind(url)
        .bind(i32::from(max_events))
        .bind(millis(&at))
        .execute(&mut *tx)
        .await;
        match updated {
            Ok(_) => {
                tx.commit().await.map_err(map_err)?;
                return Ok(Some(SubscriptionWrite::Written(WebhookSubscription {
                    url: url.to_owned(),
                    max_events_per_attempt: max_events,
                    updated_at: at,
                    ..current
                })));
            }
            Err(e) if is_unique_violation(&e, SUBSCRIPTION_KEY) => {
                // The transaction is aborted: roll it back and read the winner afresh.
                tx.rollback().await.map_err(map_err)?;
                if let Some(other) = conflicting(pool, partner_id, key, Some(id)).await? {
                    return Ok(Some(SubscriptionWrite::Conflict(other)));
                }
            }
            Err(e) => return Err(map_err(e)),
        }
    }
    Err(StoreError::Conflict { constraint: SUBSCRIPTION_KEY.to_owned() })
}

pub(crate) async fn update_signing(
    pool: &PgPool,
    partner_id: &PartnerId,
    id: &ObjectId,
    algorithm: SigningAlgorithm,
    secret: Option<&str>,
    at: DateTime<Utc>,
) -> StoreResult<Option<WebhookSubscription>> {
    const SQL: &str = concat!(
        "update webhook_subscriptions s set signing_algorithm = $3, secret = $4, updated_at = $5
         where s.partner_id = $1 and s.id = $2 returning ",
        subscription_columns!()
    );
    let row = sqlx::query(SQL)
        .bind(partner_id.as_str())
        .bind(id.as_str())
        .bind(algorithm.code())
        .bind(secret)
        .bind(millis(&at))
        .fetch_optional(pool)
        .await
        .map_err(map_err)?;
    row.as_ref().map(rows::subscription::<Db>).transpose()
}

pub(crate) async fn delete_subscription(
    pool: &PgPool,
    partner_id: &PartnerId,
    id: &ObjectId,
) -> StoreResult<Option<WebhookSubscription>> {
    // Its pending deliveries go with it (on delete cascade); requests and replays stay.
    const SQL: &str = concat!(
        "delete from webhook_subscriptions s where s.partner_id = $1 and s.id = $2 returning ",
        subscription_columns!()
    );
    let row =
        sqlx::query(SQL).bind(partner_id.as_str()).bind(id.as_str()).fetch_optional(pool).await.map_err(map_err)?;
    row.as_ref().map(rows::subscription::<Db>).transpose()
}

// --- replays ------------------------------------------------------------------------------

/// Replays run inside the request's transaction, so they are complete when recorded.
const REPLAY_COMPLETED: &str = "Completed";

pub(crate) async fn replay(pool: &PgPool, replay: NewReplay) -> StoreResult<Replay> {
    let mut tx = pool.begin().await.map_err(map_err)?;
    let (sub_seq, event_type, sub_hirer) = subscription_key(&mut tx, &replay.partner_id, &replay.subscription_id)
        .await?
        .ok_or(StoreError::NotFound("webhook subscription"))?;
    // Only events of the partner's stream that the subscription would have received. `for key
    // share`: an event purged concurrently is waited for and left out rather than failing on
    // the foreign key.
    let queued = match &replay.request {
        ReplayRequest::ById(ids) => {
            let ids: Vec<&str> = ids.iter().map(ObjectId::as_str).collect();
            sqlx::query(
                "insert into webhook_deliveries (subscription_seq, event_seq)
                 select $1::bigint, e.seq from events e
                 join event_streams st on st.event_seq = e.seq and st.partner_id = $2
                 where e.id = any($3::text[]) and e.type_code = $4 and ($5::text is null or e.hirer_id = $5)
                 for key share of e
                 on conflict (subscription_seq, event_seq) do update set delivered_at = null",
            )
            .bind(sub_seq)
            .bind(replay.partner_id.as_str())
            .bind(ids)
            .bind(&event_type)
            .bind(sub_hirer.as_deref())
            .execute(&mut *tx)
            .await
            .map_err(map_err)?
            .rows_affected()
        }
        ReplayRequest::ByRange { after, before, hirer_id, replay_delivered } => sqlx::query(
            "insert into webhook_deliveries (subscription_seq, event_seq)
             select $1::bigint, e.seq from events e
             join event_streams st on st.event_seq = e.seq and st.partner_id = $2
             where e.created_at > $3 and e.created_at < $4 and e.type_code = $5
               and ($6::text is null or e.hirer_id = $6) and ($7::text is null or e.hirer_id = $7)
             for key share of e
             on conflict (subscription_seq, event_seq) do update set delivered_at = null where $8::boolean",
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
    sqlx::query("update webhook_subscriptions set next_attempt_at = 0 where seq = $1")
        .bind(sub_seq)
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
    let (event_ids, after, before, hirer, delivered) = replay_columns(&replay.request);
    let at = millis(&replay.created_at);
    let seq: i64 = sqlx::query_scalar(
        "insert into webhook_replays (id, partner_id, subscription_id, event_ids, after_at, before_at, hirer_id,
             replay_delivered, status_code, queued, created_at, updated_at)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11) returning seq",
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

type ReplayColumns<'a> = (Option<Vec<&'a str>>, Option<i64>, Option<i64>, Option<&'a str>, Option<bool>);

fn replay_columns(request: &ReplayRequest) -> ReplayColumns<'_> {
    match request {
        ReplayRequest::ById(ids) => (Some(ids.iter().map(ObjectId::as_str).collect()), None, None, None, None),
        ReplayRequest::ByRange { after, before, hirer_id, replay_delivered } => (
            None,
            Some(millis(after)),
            Some(millis(before)),
            hirer_id.as_deref().map(ObjectId::as_str),
            Some(*replay_delivered),
        ),
    }
}

/// A replay row; a replay by id stores its event ids as a `text[]`.
fn replay_from_row(row: &PgRow) -> StoreResult<Replay> {
    rows::replay::<Db>(row, row.try_get("event_ids").map_err(map_err)?)
}

pub(crate) async fn get_replay(pool: &PgPool, partner_id: &PartnerId, id: &ObjectId) -> StoreResult<Option<Replay>> {
    let sql = format!("select {REPLAY_COLUMNS} from webhook_replays where partner_id = $1 and id = $2");
    let row =
        sqlx::query(&sql).bind(partner_id.as_str()).bind(id.as_str()).fetch_optional(pool).await.map_err(map_err)?;
    row.as_ref().map(replay_from_row).transpose()
}

pub(crate) async fn page_replays(pool: &PgPool, query: &ReplaysQuery) -> StoreResult<Vec<Replay>> {
    let order = if query.page.from_end { "desc" } else { "asc" };
    let sql = format!(
        "select {REPLAY_COLUMNS} from webhook_replays
         where partner_id = $1 and subscription_id = $2 and seq > $3 and seq < $4
           and ($5::text is null or status_code = $5)
         order by seq {order} limit $6"
    );
    let rows = sqlx::query(&sql)
        .bind(query.partner_id.as_str())
        .bind(query.subscription_id.as_str())
        .bind(lower(query.page.after))
        .bind(upper(query.page.before))
        .bind(query.status.as_deref())
        .bind(i64::from(query.page.limit))
        .fetch_all(pool)
        .await
        .map_err(map_err)?;
    let replays = rows.iter().map(replay_from_row).collect::<StoreResult<Vec<_>>>()?;
    Ok(ascending(replays, &query.page))
}

// --- delivery -----------------------------------------------------------------------------

/// Leases up to `max_subscriptions` due, unleased subscriptions with pending deliveries and
/// reads each one's oldest pending events, in one transaction.
///
/// The due subscriptions are selected `for no key update skip locked`: a row another claim
/// is leasing right now is skipped rather than waited for, and a row whose lease a claim
/// committed after this statement's snapshot is re-checked on its newest version (read
/// committed re-evaluates the conditions of a row it locks), where the lease no longer lapsed:
/// so no subscription is ever claimed twice while its lease holds. A lapsed lease is an
/// ordinary due row. `no key update` (not `update`) so that event writes, which take `key
/// share` locks on subscriptions for their deliveries' foreign keys, never wait for a claim.
pub(crate) async fn claim(pool: &PgPool, claim: &DeliveryClaim) -> StoreResult<Vec<DeliveryBatch>> {
    const LEASE: &str = concat!(
        "with due as materialized (
             select c.seq from webhook_subscriptions c
             where c.next_attempt_at <= $1 and c.lease_until <= $1
               and exists (select 1 from webhook_deliveries d
                           where d.subscription_seq = c.seq and d.delivered_at is null)
             order by c.next_attempt_at, c.seq limit $4
             for no key update of c skip locked)
         update webhook_subscriptions s set lease_until = $2, lease_owner = $3
         from due where s.seq = due.seq
         returning ",
        subscription_columns!(),
        ", s.secret as s_secret, s.failures as s_failures"
    );
    // Every claimed subscription's oldest pending events in one statement.
    const PENDING: &str = concat!(
        "select c.seq as c_seq, ",
        event_columns!(),
        " from unnest($1::bigint[], $2::bigint[]) as c (seq, max_events)
          cross join lateral (
              select d.event_seq from webhook_deliveries d
              where d.subscription_seq = c.seq and d.delivered_at is null
              order by d.event_seq limit c.max_events) p
          join events e on e.seq = p.event_seq
          order by c.seq, e.seq"
    );
    let now = millis(&claim.now);
    let mut tx = pool.begin().await.map_err(map_err)?;
    let rows = sqlx::query(LEASE)
        .bind(now)
        .bind(millis(&claim.lease_until))
        .bind(&claim.owner)
        .bind(i64::from(claim.max_subscriptions))
        .fetch_all(&mut *tx)
        .await
        .map_err(map_err)?;
    if rows.is_empty() {
        tx.commit().await.map_err(map_err)?;
        return Ok(Vec::new());
    }
    let mut batches = rows
        .iter()
        .map(|row| {
            Ok(DeliveryBatch {
                subscription: rows::subscription::<Db>(row)?,
                secret: cols(row).opt_text("s_secret")?,
                failures: u32::try_from(cols(row).int("s_failures")?).unwrap_or(u32::MAX),
                events: Vec::new(),
            })
        })
        .collect::<StoreResult<Vec<_>>>()?;
    batches.sort_by_key(|b| b.subscription.seq);
    let seqs: Vec<i64> = batches.iter().map(|b| b.subscription.seq).collect();
    let limits: Vec<i64> = batches.iter().map(|b| i64::from(b.subscription.max_events_per_attempt)).collect();
    let pending = sqlx::query(PENDING).bind(&seqs).bind(limits).fetch_all(&mut *tx).await.map_err(map_err)?;
    for row in &pending {
        let seq = cols(row).int("c_seq")?;
        if let Ok(i) = batches.binary_search_by_key(&seq, |b| b.subscription.seq) {
            batches[i].events.push(rows::event::<Db>(row)?);
        }
    }
    // A delivery seen pending by the lease may have been delivered (by a late record of a
    // lapsed lease) or purged since: never hand out an empty batch, and free its lease.
    let empty: Vec<i64> = batches.iter().filter(|b| b.events.is_empty()).map(|b| b.subscription.seq).collect();
    if !empty.is_empty() {
        sqlx::query(
            "update webhook_subscriptions set lease_until = 0, lease_owner = null
             where seq = any($1::bigint[]) and lease_owner = $2",
        )
        .bind(&empty)
        .bind(&claim.owner)
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
        batches.retain(|b| !b.events.is_empty());
    }
    tx.commit().await.map_err(map_err)?;
    Ok(batches)
}

/// Records a request and its attempts, marks the events delivered on success or backs off on
/// failure, and releases the lease if it is still the caller's; one transaction.
///
/// Locks are taken in the order replays take them (the subscription row, then its
/// deliveries), so the two never deadlock.
pub(crate) async fn record(pool: &PgPool, outcome: &DeliveryOutcome) -> StoreResult<()> {
    let mut tx = pool.begin().await.map_err(map_err)?;
    let created = millis(&outcome.created_at);
    // Through the subscription row: if it was deleted meanwhile, there is nothing to record.
    let subscription =
        sqlx::query("select seq, partner_id, url from webhook_subscriptions where id = $1 for no key update")
            .bind(outcome.subscription_id.as_str())
            .fetch_optional(&mut *tx)
            .await
            .map_err(map_err)?;
    let Some(subscription) = subscription else {
        tx.commit().await.map_err(map_err)?;
        return Ok(());
    };
    let sub_seq = cols(&subscription).int("seq")?;
    let request_seq: i64 = sqlx::query_scalar(
        "insert into webhook_requests (request_id, partner_id, subscription_id, url, status_code, description_code,
             latency_ms, created_at)
         values ($1, $2, $3, $4, $5, $6, $7, $8)
         returning seq",
    )
    .bind(&outcome.request_id)
    .bind(cols(&subscription).text("partner_id")?)
    .bind(outcome.subscription_id.as_str())
    .bind(cols(&subscription).text("url")?)
    .bind(i32::from(outcome.status_code))
    .bind(outcome.code.code())
    .bind(outcome.latency_ms.map(i64::from))
    .bind(created)
    .fetch_one(&mut *tx)
    .await
    .map_err(map_err)?;
    let attempt_ids: Vec<&str> = outcome.attempts.iter().map(|(id, _)| id.as_str()).collect();
    let seqs: Vec<i64> = outcome.attempts.iter().map(|(_, seq)| *seq).collect();
    // Through the event rows: retention may have removed some while the request was out (and
    // `for key share` waits for a purge in progress rather than failing on the foreign key).
    // Attempts are numbered in batch order.
    sqlx::query(
        "insert into webhook_attempts (id, request_seq, event_seq, created_at)
         select a.id, $2::bigint, e.seq, $4::bigint
         from unnest($1::text[], $3::bigint[]) with ordinality as a (id, event_seq, n)
         join events e on e.seq = a.event_seq
         order by a.n
         for key share of e",
    )
    .bind(&attempt_ids)
    .bind(request_seq)
    .bind(&seqs)
    .bind(created)
    .execute(&mut *tx)
    .await
    .map_err(map_err)?;
    let success = outcome.code == DeliveryCode::Success;
    sqlx::query(
        "update webhook_deliveries set attempts = attempts + 1,
             delivered_at = case when $3 then $4 else delivered_at end
         where subscription_seq = $1 and event_seq = any($2::bigint[])",
    )
    .bind(sub_seq)
    .bind(&seqs)
    .bind(success)
    .bind(millis(&Utc::now()))
    .execute(&mut *tx)
    .await
    .map_err(map_err)?;
    // Release only our own lease: if it lapsed and another instance took over, leave theirs.
    sqlx::query(
        "update webhook_subscriptions set
             failures = case when $3 then 0 else failures + 1 end,
             next_attempt_at = case when $3 then 0 else $4 end,
             lease_until = 0, lease_owner = null
         where seq = $1 and lease_owner = $2",
    )
    .bind(sub_seq)
    .bind(&outcome.owner)
    .bind(success)
    .bind(millis(&outcome.retry_at))
    .execute(&mut *tx)
    .await
    .map_err(map_err)?;
    tx.commit().await.map_err(map_err)
}

pub(crate) async fn queue_stats(pool: &PgPool) -> StoreResult<QueueStats> {
    let row = sqlx::query(
        "select count(*) as pending, min(e.created_at) as oldest
         from webhook_deliveries d join events e on e.seq = d.event_seq where d.delivered_at is null",
    )
    .fetch_one(pool)
    .await
    .map_err(map_err)?;
    Ok(QueueStats {
        pending: u64::try_from(cols(&row).int("pending")?).unwrap_or_default(),
        oldest_pending: cols(&row).opt_int("oldest")?.map(time).transpose()?,
    })
}

// --- diagnostics --------------------------------------------------------------------------

pub(crate) async fn page_requests(
    pool: &PgPool,
    query: &WebhookRequestsQuery,
) -> StoreResult<Vec<WebhookRequestRecord>> {
    macro_rules! sql {
        ($order:literal) => {
            concat!(
                "select ",
                request_columns!(),
                " from webhook_requests r
                  where r.partner_id = $1 and r.subscription_id = $2 and r.seq > $3 and r.seq < $4
                    and r.created_at > $5 and r.created_at < $6
                    and (cardinality($7::text[]) = 0 or r.description_code = any($7::text[]))
                  order by r.seq ",
                $order,
                " limit $8"
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
        .bind(codes(query.codes.iter().map(|c| c.code())))
        .bind(i64::from(query.page.limit))
        .fetch_all(pool)
        .await
        .map_err(map_err)?;
    let requests = rows.iter().map(rows::webhook_request::<Db>).collect::<StoreResult<Vec<_>>>()?;
    Ok(ascending(requests, &query.page))
}

pub(crate) async fn get_request(
    pool: &PgPool,
    partner_id: &PartnerId,
    request_id: &str,
) -> StoreResult<Option<WebhookRequestRecord>> {
    const SQL: &str = concat!(
        "select ",
        request_columns!(),
        " from webhook_requests r where r.partner_id = $1 and r.request_id = $2"
    );
    let row =
        sqlx::query(SQL).bind(partner_id.as_str()).bind(request_id).fetch_optional(pool).await.map_err(map_err)?;
    row.as_ref().map(rows::webhook_request::<Db>).transpose()
}

pub(crate) async fn page_attempts(
    pool: &PgPool,
    query: &WebhookAttemptsQuery,
) -> StoreResult<Vec<WebhookAttemptRecord>> {
    // One statement per kind of owner, so each uses its index (attempts by event, requests by
    // request id) instead of a plan that has to allow for either.
    macro_rules! sql {
        ($of:literal, $order:literal) => {
            concat!(
                "select a.seq as a_seq, a.id as a_id, ",
                event_columns!(),
                ", ",
                request_columns!(),
                " from webhook_attempts a
                  join webhook_requests r on r.seq = a.request_seq
                  join events e on e.seq = a.event_seq
                  where r.partner_id = $1 and ",
                $of,
                " and a.seq > $3 and a.seq < $4 and a.created_at > $5 and a.created_at < $6
                    and (cardinality($7::text[]) = 0 or r.description_code = any($7::text[]))
                  order by a.seq ",
                $order,
                " limit $8"
            )
        };
    }
    let sql = match (&query.of, query.page.from_end) {
        (AttemptsOf::Event(_), false) => sql!("a.event_seq = $2", "asc"),
        (AttemptsOf::Event(_), true) => sql!("a.event_seq = $2", "desc"),
        (AttemptsOf::Request(_), false) => sql!("r.request_id = $2", "asc"),
        (AttemptsOf::Request(_), true) => sql!("r.request_id = $2", "desc"),
    };
    let statement = sqlx::query(sql).bind(query.partner_id.as_str());
    let statement = match &query.of {
        AttemptsOf::Event(seq) => statement.bind(*seq),
        AttemptsOf::Request(id) => statement.bind(id.as_str()),
    };
    let rows = statement
        .bind(lower(query.page.after))
        .bind(upper(query.page.before))
        .bind(time_lower(query.window.after))
        .bind(time_upper(query.window.before))
        .bind(codes(query.codes.iter().map(|c| c.code())))
        .bind(i64::from(query.page.limit))
        .fetch_all(pool)
        .await
        .map_err(map_err)?;
    let attempts = rows.iter().map(rows::webhook_attempt::<Db>).collect::<StoreResult<Vec<_>>>()?;
    Ok(ascending(attempts, &query.page))
}

pub(crate) async fn recent_requests(
    pool: &PgPool,
    limit: u32,
    failures_only: bool,
) -> StoreResult<Vec<WebhookRequestRecord>> {
    const SQL: &str = concat!(
        "select ",
        request_columns!(),
        " from webhook_requests r where (not $1::boolean or r.description_code <> 'Success')
          order by r.seq desc limit $2"
    );
    let rows = sqlx::query(SQL).bind(failures_only).bind(i64::from(limit)).fetch_all(pool).await.map_err(map_err)?;
    rows.iter().map(rows::webhook_request::<Db>).collect()
}

/// Live-database tests (see `events::tests`): claims under contention between instances,
/// subscription key races, and every statement of this module once. The conformance kit
/// checks behaviour in detail.
#[async_trait::async_trait]
impl candex_store::WebhookStore for crate::PgStore {
    #[tracing::instrument(skip_all)]
    async fn create_webhook_subscription(
        &self,
        subscription: NewWebhookSubscription,
    ) -> StoreResult<SubscriptionWrite> {
        crate::webhooks::create_subscription(&self.pool, subscription).await
    }

    #[tracing::instrument(skip_all)]
    async fn get_webhook_subscription(
        &self,
        partner_id: &PartnerId,
        id: &ObjectId,
    ) -> StoreResult<Option<WebhookSubscription>> {
        crate::webhooks::get_subscription(&self.pool, partner_id, id).await
    }

    #[tracing::instrument(skip_all)]
    async fn page_webhook_subscriptions(&self, query: &SubscriptionsQuery) -> StoreResult<Vec<WebhookSubscription>> {
        crate::webhooks::page_subscriptions(&self.pool, query).await
    }

    #[tracing::instrument(skip_all)]
    async fn update_webhook_subscription_delivery(
        &self,
        partner_id: &PartnerId,
        id: &ObjectId,
        url: &str,
        max_events_per_attempt: Option<u8>,
        at: DateTime<Utc>,
    ) -> StoreResult<Option<SubscriptionWrite>> {
        crate::webhooks::update_delivery(&self.pool, partner_id, id, url, max_events_per_attempt, at).await
    }

    #[tracing::instrument(skip_all)]
    async fn update_webhook_subscription_signing(
        &self,
        partner_id: &PartnerId,
        id: &ObjectId,
        algorithm: SigningAlgorithm,
        secret: Option<&str>,
        at: DateTime<Utc>,
    ) -> StoreResult<Option<WebhookSubscription>> {
        crate::webhooks::update_signing(&self.pool, partner_id, id, algorithm, secret, at).await
    }

    #[tracing::instrument(skip_all)]
    async fn delete_webhook_subscription(
        &self,
        partner_id: &PartnerId,
        id: &ObjectId,
    ) -> StoreResult<Option<WebhookSubscription>> {
        crate::webhooks::delete_subscription(&self.pool, partner_id, id).await
    }

    #[tracing::instrument(skip_all)]
    async fn replay_webhook_subscription(&self, replay: NewReplay) -> StoreResult<Replay> {
        crate::webhooks::replay(&self.pool, replay).await
    }

    #[tracing::instrument(skip_all)]
    async fn get_replay(&self, partner_id: &PartnerId, id: &ObjectId) -> StoreResult<Option<Replay>> {
        crate::webhooks::get_replay(&self.pool, partner_id, id).await
    }

    #[tracing::instrument(skip_all)]
    async fn page_replays(&self, query: &ReplaysQuery) -> StoreResult<Vec<Replay>> {
        crate::webhooks::page_replays(&self.pool, query).await
    }

    #[tracing::instrument(skip_all)]
    async fn claim_webhook_deliveries(&self, claim: &DeliveryClaim) -> StoreResult<Vec<DeliveryBatch>> {
        crate::webhooks::claim(&self.pool, claim).await
    }

    #[tracing::instrument(skip_all)]
    async fn record_webhook_delivery(&self, outcome: &DeliveryOutcome) -> StoreResult<()> {
        crate::webhooks::record(&self.pool, outcome).await
    }

    #[tracing::instrument(skip_all)]
    async fn webhook_queue_stats(&self) -> StoreResult<QueueStats> {
        crate::webhooks::queue_stats(&self.pool).await
    }

    #[tracing::instrument(skip_all)]
    async fn page_webhook_requests(&self, query: &WebhookRequestsQuery) -> StoreResult<Vec<WebhookRequestRecord>> {
        crate::webhooks::page_requests(&self.pool, query).await
    }

    #[tracing::instrument(skip_all)]
    async fn get_webhook_request(
        &self,
        partner_id: &PartnerId,
        request_id: &str,
    ) -> StoreResult<Option<WebhookRequestRecord>> {
        crate::webhooks::get_request(&self.pool, partner_id, request_id).await
    }

    #[tracing::instrument(skip_all)]
    async fn page_webhook_attempts(&self, query: &WebhookAttemptsQuery) -> StoreResult<Vec<WebhookAttemptRecord>> {
        crate::webhooks::page_attempts(&self.pool, query).await
    }

    #[tracing::instrument(skip_all)]
    async fn recent_webhook_requests(&self, limit: u32, failures_only: bool) -> StoreResult<Vec<WebhookRequestRecord>> {
        crate::webhooks::recent_requests(&self.pool, limit, failures_only).await
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;
    use std::sync::Arc;

    use candex_domain::{EventType, HirerId};
    use candex_store::{EventsQuery, SeqPage, TimeWindow};
    use chrono::Duration;
    use tokio::sync::Barrier;

    use super::*;
    use crate::events::emit;
    use crate::events::tests::{emit_one, event_id, outbox, TestDb};
    use candex_store::EventStore;

    fn new_subscription(partner: &PartnerId, url: &str, max_events: u8) -> NewWebhookSubscription {
        NewWebhookSubscription {
            id: ObjectId::from_trusted(format!(
                "seekAnzPublicTest:webhookSubscription:events:{:032x}",
                rand::random::<u128>()
            )),
            partner_id: partner.clone(),
            scheme_id: "seekAnzPublicTest".to_owned(),
            event_type: EventType::CandidateApplicationCreated,
            url: url.to_owned(),
            hirer_id: None,
            max_events_per_attempt: max_events,
            signing_algorithm: SigningAlgorithm::SeekHmacSha512,
            secret: Some("0123456789abcdef-secret".to_owned()),
            created_at: candex_domain::time::now_ms(),
        }
    }

    async fn written(pool: &PgPool, new: NewWebhookSubscription) -> WebhookSubscription {
        match create_subscription(pool, new).await.expect("create") {
            SubscriptionWrite::Written(s) => s,
            other => panic!("expected a write, got {other:?}"),
        }
    }

    fn claim_at(owner: &str, now: DateTime<Utc>, max: u32) -> DeliveryClaim {
        DeliveryClaim { owner: owner.to_owned(), now, lease_until: now + Duration::minutes(1), max_subscriptions: max }
    }

    fn page(limit: u32) -> SeqPage {
        SeqPage { after: None, before: None, limit, from_end: false }
    }

    /// Four claimers on two pools race for 50 due subscriptions, a few at a time, round after
    /// round: no subscription is ever in two claims while its lease holds, and together they
    /// take all of them. A lapsed lease then passes to another owner, whose lease the first
    /// owner's late record leaves alone.
    #[tokio::test]
    async fn claims_never_overlap_under_contention() {
        const SUBSCRIPTIONS: usize = 50;
        const CLAIMERS: usize = 4;
        let Some(db) = TestDb::open("claims").await else { return };
        let other = db.another_pool().await;
        let (hirer, partner) = db.hirer_and_partner().await;
        let mut all = HashSet::new();
        for n in 0..SUBSCRIPTIONS {
            all.insert(written(&db.pool, new_subscription(&partner, &format!("https://x.example/{n}"), 2)).await.id);
        }
        emit_one(&db.pool, &hirer, &partner).await;
        emit_one(&db.pool, &hirer, &partner).await;
        let now = candex_domain::time::now_ms();
        for round in 0..20 {
            let barrier = Arc::new(Barrier::new(CLAIMERS));
            let mut tasks = Vec::new();
            for c in 0..CLAIMERS {
                let pool = if c % 2 == 0 { db.pool.clone() } else { other.clone() };
                let barrier = barrier.clone();
                tasks.push(tokio::spawn(async move {
                    let owner = format!("instance-{c}");
                    let mut mine = Vec::new();
                    barrier.wait().await;
                    loop {
                        let batches = claim(&pool, &claim_at(&owner, now, 3)).await.expect("claim");
                        if batches.is_empty() {
                            return mine;
                        }
                        for batch in batches {
                            assert_eq!(batch.events.len(), 2, "both pending events");
                            mine.push(batch.subscription.id);
                        }
                    }
                }));
            }
            let mut claimed = Vec::new();
            for task in tasks {
                claimed.extend(task.await.expect("claimer"));
            }
            let distinct: HashSet<ObjectId> = claimed.iter().cloned().collect();
            assert_eq!(distinct.len(), claimed.len(), "round {round}: a subscription was claimed twice");
            assert_eq!(distinct, all, "round {round}: every due subscription is claimed once");
            // Free the leases for the next round.
            sqlx::query("update webhook_subscriptions set lease_until = 0, lease_owner = null")
                .execute(&db.pool)
                .await
                .expect("reset");
        }

        // Lapsed leases.
        let first = claim(&db.pool, &claim_at("a", now, 100)).await.expect("claim");
        assert_eq!(first.len(), SUBSCRIPTIONS);
        assert!(claim(&other, &claim_at("b", now + Duration::seconds(30), 100)).await.expect("claim").is_empty());
        let taken = claim(&other, &claim_at("b", now + Duration::minutes(2), 100)).await.expect("claim");
        assert_eq!(taken.len(), SUBSCRIPTIONS, "b takes every lapsed lease");
        let late = DeliveryOutcome {
            owner: "a".to_owned(),
            subscription_id: first[0].subscription.id.clone(),
            request_id: "late-request".to_owned(),
            status_code: 504,
            code: DeliveryCode::RequestTimeout,
            latency_ms: None,
            created_at: now,
            attempts: vec![],
            retry_at: now,
        };
        record(&db.pool, &late).await.expect("record");
        let third = claim(&db.pool, &claim_at("c", now + Duration::minutes(2), 100)).await.expect("claim");
        assert!(third.is_empty(), "a's late record does not release b's leases");
        other.close().await;
    }

    /// Concurrent creates of one key write exactly one subscription; every other create
    /// answers with it. Concurrent updates into one key: one wins, the other names it.
    #[tokio::test]
    async fn key_races_resolve_to_one_winner() {
        let Some(db) = TestDb::open("key_race").await else { return };
        let (_, partner) = db.hirer_and_partner().await;
        for round in 0..10 {
            let url = format!("https://race.example/{round}");
            let barrier = Arc::new(Barrier::new(8));
            let tasks: Vec<_> = (0..8)
                .map(|_| {
                    let (pool, new, barrier) = (db.pool.clone(), new_subscription(&partner, &url, 10), barrier.clone());
                    tokio::spawn(async move {
                        barrier.wait().await;
                        create_subscription(&pool, new).await.expect("create")
                    })
                })
                .collect();
            let mut writes = Vec::new();
            for task in tasks {
                writes.push(task.await.expect("task"));
            }
            let winners: Vec<&WebhookSubscription> = writes
                .iter()
                .filter_map(|w| match w {
                    SubscriptionWrite::Written(s) => Some(s),
                    SubscriptionWrite::Conflict(_) => None,
                })
                .collect();
            assert_eq!(winners.len(), 1, "round {round}: {writes:?}");
            for write in &writes {
                if let SubscriptionWrite::Conflict(existing) = write {
                    assert_eq!(existing, winners[0], "a conflict names the winner");
                }
            }
        }

        for round in 0..10 {
            let a = written(&db.pool, new_subscription(&partner, &format!("https://u.example/a{round}"), 10)).await;
            let b = written(&db.pool, new_subscription(&partner, &format!("https://u.example/b{round}"), 10)).await;
            let target = format!("https://u.example/target{round}");
            let barrier = Arc::new(Barrier::new(2));
            let tasks: Vec<_> = [a.clone(), b.clone()]
                .into_iter()
                .map(|s| {
                    let (pool, partner, target, barrier) =
                        (db.pool.clone(), partner.clone(), target.clone(), barrier.clone());
                    tokio::spawn(async move {
                        barrier.wait().await;
                        update_delivery(&pool, &partner, &s.id, &target, None, candex_domain::time::now_ms())
                            .await
                            .expect("update")
                    })
                })
                .collect();
            let mut results = Vec::new();
            for task in tasks {
                results.push(task.await.expect("task").expect("exists"));
            }
            let winner = results.iter().find_map(|r| match r {
                SubscriptionWrite::Written(s) => Some(s.clone()),
                SubscriptionWrite::Conflict(_) => None,
            });
            let winner = winner.expect("one update wins");
            let conflicts: Vec<_> = results.iter().filter(|r| matches!(r, SubscriptionWrite::Conflict(_))).collect();
            assert_eq!(conflicts.len(), 1, "round {round}: {results:?}");
            assert_eq!(conflicts[0], &SubscriptionWrite::Conflict(winner.clone()), "names the winner as stored");
            assert_eq!(get_subscription(&db.pool, &partner, &winner.id).await.expect("get"), Some(winner));
        }
    }

    /// Every statement of the module runs, with plausible results.
    #[tokio::test]
    async fn every_statement_runs() {
        let Some(db) = TestDb::open("statements").await else { return };
        let pool = &db.pool;
        let (hirer, partner) = db.hirer_and_partner().await;
        let sub = written(pool, new_subscription(&partner, "https://s.example/one", 2)).await;
        let mut scoped_new = new_subscription(&partner, "https://s.example/one", 2);
        scoped_new.hirer_id = Some(hirer.clone());
        let scoped = written(pool, scoped_new).await;
        let mut ghost = new_subscription(&partner, "https://s.example/ghost", 2);
        ghost.hirer_id = Some(HirerId::from_trusted("no-such-hirer".to_owned()));
        assert!(matches!(create_subscription(pool, ghost).await, Err(StoreError::NotFound("hirer"))));
        let again = create_subscription(pool, new_subscription(&partner, "https://s.example/one", 5)).await;
        assert_eq!(again.expect("create"), SubscriptionWrite::Conflict(sub.clone()));

        let list = SubscriptionsQuery {
            partner_id: partner.clone(),
            scheme_id: sub.scheme_id.clone(),
            page: page(10),
            window: TimeWindow::default(),
            types: vec![EventType::CandidateApplicationCreated],
            hirer_ids: vec![],
        };
        assert_eq!(page_subscriptions(pool, &list).await.expect("page"), vec![sub.clone(), scoped.clone()]);
        let only_scoped = SubscriptionsQuery { hirer_ids: vec![hirer.clone()], ..list.clone() };
        assert_eq!(page_subscriptions(pool, &only_scoped).await.expect("page"), vec![scoped.clone()]);
        let from_end = SubscriptionsQuery { page: SeqPage { from_end: true, ..page(1) }, ..list.clone() };
        assert_eq!(page_subscriptions(pool, &from_end).await.expect("page"), vec![scoped.clone()]);

        let mut seqs = Vec::new();
        for _ in 0..3 {
            seqs.push(emit_one(pool, &hirer, &partner).await);
        }
        let stats = queue_stats(pool).await.expect("stats");
        assert_eq!(stats.pending, 6, "3 events for 2 subscriptions");

        let now = candex_domain::time::now_ms();
        let batches = claim(pool, &claim_at("me", now, 10)).await.expect("claim");
        assert_eq!(batches.len(), 2);
        assert_eq!(batches[0].subscription, sub);
        assert_eq!(batches[0].secret.as_deref(), Some("0123456789abcdef-secret"));
        assert_eq!(batches[0].events.iter().map(|e| e.seq).collect::<Vec<_>>(), seqs[..2], "max 2 per attempt");
        let outcome = DeliveryOutcome {
            owner: "me".to_owned(),
            subscription_id: sub.id.clone(),
            request_id: "req-1".to_owned(),
            status_code: 200,
            code: DeliveryCode::Success,
            latency_ms: Some(12),
            created_at: now,
            attempts: batches[0]
                .events
                .iter()
                .enumerate()
                .map(|(n, e)| (ObjectId::from_trusted(format!("attempt-{n}")), e.seq))
                .collect(),
            retry_at: now,
        };
        record(pool, &outcome).await.expect("record");
        assert_eq!(queue_stats(pool).await.expect("stats").pending, 4);
        let requests = WebhookRequestsQuery {
            partner_id: partner.clone(),
            subscription_id: sub.id.clone(),
            window: TimeWindow::default(),
            codes: vec![DeliveryCode::Success],
            page: page(10),
        };
        let found = page_requests(pool, &requests).await.expect("requests");
        assert_eq!(found.len(), 1);
        assert_eq!(
            (found[0].url.as_str(), found[0].status_code, found[0].latency_ms),
            (sub.url.as_str(), 200, Some(12))
        );
        assert_eq!(get_request(pool, &partner, "req-1").await.expect("get"), Some(found[0].clone()));
        assert_eq!(recent_requests(pool, 10, false).await.expect("recent"), found);
        assert!(recent_requests(pool, 10, true).await.expect("recent").is_empty());
        let attempts = |of: AttemptsOf, from_end: bool| WebhookAttemptsQuery {
            partner_id: partner.clone(),
            of,
            window: TimeWindow::default(),
            codes: vec![],
            page: SeqPage { from_end, ..page(10) },
        };
        let of_request = page_attempts(pool, &attempts(AttemptsOf::Request("req-1".to_owned()), false)).await;
        let of_request = of_request.expect("attempts");
        assert_eq!(of_request.iter().map(|a| a.id.as_str()).collect::<Vec<_>>(), ["attempt-0", "attempt-1"]);
        assert_eq!(of_request.iter().map(|a| a.event.seq).collect::<Vec<_>>(), seqs[..2]);
        let of_event = page_attempts(pool, &attempts(AttemptsOf::Event(seqs[1]), true)).await.expect("attempts");
        assert_eq!(of_event, of_request[1..]);

        let delivered = EventsQuery {
            partner_id: partner.clone(),
            page: page(10),
            window: TimeWindow::default(),
            types: vec![],
            subscription: Some((sub.id.clone(), Some(true))),
        };
        let got: Vec<i64> = crate::PgStore { pool: pool.clone() }
            .page_events(&delivered)
            .await
            .expect("events")
            .iter()
            .map(|e| e.seq)
            .collect();
        assert_eq!(got, seqs[..2]);
        let first = &batches[0].events[0];
        assert_eq!(
            crate::PgStore { pool: pool.clone() }.get_event(&partner, &first.id).await.expect("get"),
            Some(first.clone())
        );
        let stranger = candex_domain::PartnerId::from_trusted("someone-else".to_owned());
        assert_eq!(
            crate::PgStore { pool: pool.clone() }.get_event(&stranger, &first.id).await.expect("get"),
            None,
            "not in their stream"
        );

        // Replays, both kinds.
        let by_id = NewReplay {
            id: ObjectId::from_trusted("replay-1".to_owned()),
            partner_id: partner.clone(),
            subscription_id: sub.id.clone(),
            request: ReplayRequest::ById(vec![batches[0].events[0].id.clone(), event_id()]),
            created_at: now,
        };
        let r1 = replay(pool, by_id).await.expect("replay");
        assert_eq!(r1.queued, 1);
        let by_range = NewReplay {
            id: ObjectId::from_trusted("replay-2".to_owned()),
            request: ReplayRequest::ByRange {
                after: now - Duration::hours(1),
                before: now + Duration::hours(1),
                hirer_id: Some(hirer.clone()),
                replay_delivered: true,
            },
            ..NewReplay {
                id: r1.id.clone(),
                partner_id: partner.clone(),
                subscription_id: sub.id.clone(),
                request: ReplayRequest::ById(vec![]),
                created_at: now,
            }
        };
        let r2 = replay(pool, by_range).await.expect("replay");
        assert_eq!(r2.queued, 3, "every event, delivered or not");
        assert_eq!(get_replay(pool, &partner, &r1.id).await.expect("get"), Some(r1.clone()));
        let replays = ReplaysQuery {
            partner_id: partner.clone(),
            subscription_id: sub.id.clone(),
            status: Some("Completed".to_owned()),
            page: page(10),
        };
        assert_eq!(page_replays(pool, &replays).await.expect("page"), vec![r1.clone(), r2.clone()]);
        let unknown = NewReplay { id: ObjectId::from_trusted("replay-3".to_owned()), ..r1_request(&r1, &partner) };
        let unknown = NewReplay { subscription_id: ObjectId::from_trusted("nope".to_owned()), ..unknown };
        assert!(matches!(replay(pool, unknown).await, Err(StoreError::NotFound("webhook subscription"))));

        // Signing, delete, and an event emitted while the subscription list changes.
        let unsigned = update_signing(pool, &partner, &sub.id, SigningAlgorithm::None, None, now).await.expect("sign");
        assert_eq!(unsigned.expect("exists").signing_algorithm, SigningAlgorithm::None);
        let id = event_id();
        let mut tx = pool.begin().await.expect("begin");
        emit(&mut tx, outbox(&id, &hirer, &partner)).await.expect("emit");
        tx.commit().await.expect("commit");
        assert_eq!(delete_subscription(pool, &partner, &sub.id).await.expect("delete"), Some(unsigned_of(&sub, now)));
        assert_eq!(delete_subscription(pool, &partner, &sub.id).await.expect("delete"), None);
        // A record for a deleted subscription records nothing.
        record(pool, &DeliveryOutcome { request_id: "req-2".to_owned(), ..outcome.clone() }).await.expect("record");
        assert_eq!(get_request(pool, &partner, "req-2").await.expect("get"), None);

        let purged =
            crate::PgStore { pool: pool.clone() }.purge_events_before(now + Duration::hours(1)).await.expect("purge");
        assert_eq!((purged.events, purged.requests), (4, 1));
        assert_eq!(get_replay(pool, &partner, &r1.id).await.expect("get"), None);
        assert_eq!(queue_stats(pool).await.expect("stats"), QueueStats::default());
    }

    fn r1_request(r1: &Replay, partner: &PartnerId) -> NewReplay {
        NewReplay {
            id: r1.id.clone(),
            partner_id: partner.clone(),
            subscription_id: r1.subscription_id.clone(),
            request: r1.request.clone(),
            created_at: r1.created_at,
        }
    }

    fn unsigned_of(sub: &WebhookSubscription, at: DateTime<Utc>) -> WebhookSubscription {
        WebhookSubscription { signing_algorithm: SigningAlgorithm::None, updated_at: at, ..sub.clone() }
    }
}
