//! The event outbox: writing an event with its partner streams and webhook deliveries inside
//! the transaction that causes it, reading partner streams, and retention.

use candex_domain::{ObjectId, RelationshipType};
use candex_store::event_columns;
use candex_store::rows;
use candex_store::{Event, EventsQuery, PurgedEvents, StoreError, StoreResult};
use chrono::{DateTime, Utc};
use sqlx::{Sqlite, SqlitePool, Transaction};

use crate::codec::{cols, millis, to_json, Db};
use crate::error::map_err;

pub(crate) use candex_store::sql::Outbox;

/// Writes the event, its place in each entitled partner's stream, and a pending delivery for
/// each matching subscription: three statements whatever the number of partners.
pub(crate) async fn emit(tx: &mut Transaction<'_, Sqlite>, event: Outbox<'_>) -> StoreResult<i64> {
    let seq: i64 = sqlx::query_scalar(
        "insert into events (id, type_code, hirer_id, created_at, candidate_profile_id, candidate_id,
             position_profile_id)
         values (?1, ?2, ?3, ?4, ?5, ?6, ?7) returning seq",
    )
    .bind(event.id.as_str())
    .bind(event.event_type.code())
    .bind(event.hirer_id.as_str())
    .bind(millis(&event.at))
    .bind(event.candidate_profile_id.map(ObjectId::as_str))
    .bind(event.candidate_id.map(ObjectId::as_str))
    .bind(event.position_profile_id.map(ObjectId::as_str))
    .fetch_one(&mut **tx)
    .await
    .map_err(map_err)?;
    match event.only_partner {
        Some(partner) => {
            sqlx::query("insert into event_streams (partner_id, event_seq) values (?1, ?2)")
                .bind(partner.as_str())
                .bind(seq)
                .execute(&mut **tx)
                .await
                .map_err(map_err)?;
        }
        None => {
            let codes: Vec<&str> =
                event.event_type.stream_relationships().iter().map(|t: &RelationshipType| t.code()).collect();
            sqlx::query(
                "insert into event_streams (partner_id, event_seq)
                 select distinct partner_id, ?1 from relationships
                 where hirer_id = ?2 and type_code in (select value from json_each(?3))",
            )
            .bind(seq)
            .bind(event.hirer_id.as_str())
            .bind(to_json(&codes)?)
            .execute(&mut **tx)
            .await
            .map_err(map_err)?;
        }
    }
    sqlx::query(
        "insert into webhook_deliveries (subscription_seq, event_seq)
         select s.seq, ?1 from event_streams st
         join webhook_subscriptions s on s.partner_id = st.partner_id
         where st.event_seq = ?1 and s.event_type_code = ?2 and (s.hirer_id is null or s.hirer_id = ?3)",
    )
    .bind(seq)
    .bind(event.event_type.code())
    .bind(event.hirer_id.as_str())
    .execute(&mut **tx)
    .await
    .map_err(map_err)?;
    Ok(seq)
}

/// Bounds for keyset ranges: `None` binds as the open end so the index range always applies.
pub(crate) fn lower(after: Option<i64>) -> i64 {
    after.unwrap_or(i64::MIN)
}

pub(crate) fn upper(before: Option<i64>) -> i64 {
    before.unwrap_or(i64::MAX)
}

/// Rows fetched for a `SeqPage` in ascending order: a `from_end` page is read newest first
/// (so the limit applies at the end) and turned around here.
pub(crate) fn ascending<T>(mut rows: Vec<T>, page: &candex_store::SeqPage) -> Vec<T> {
    if page.from_end {
        rows.reverse();
    }
    rows
}

pub(crate) fn time_lower(after: Option<DateTime<Utc>>) -> i64 {
    after.as_ref().map_or(i64::MIN, millis)
}

pub(crate) fn time_upper(before: Option<DateTime<Utc>>) -> i64 {
    before.as_ref().map_or(i64::MAX, millis)
}

/// A JSON array of codes for `in (select value from json_each(?))`, or null for "any".
pub(crate) fn codes_filter<'a>(codes: impl Iterator<Item = &'a str>) -> StoreResult<Option<String>> {
    let codes: Vec<&str> = codes.collect();
    if codes.is_empty() {
        Ok(None)
    } else {
        to_json(&codes).map(Some)
    }
}

pub(crate) async fn page_events(reader: &SqlitePool, query: &EventsQuery) -> StoreResult<Vec<Event>> {
    macro_rules! sql {
        ($order:literal) => {
            concat!(
                "select ",
                event_columns!(),
                " from event_streams st join events e on e.seq = st.event_seq
                  where st.partner_id = ?1 and st.event_seq > ?2 and st.event_seq < ?3
                    and e.created_at > ?4 and e.created_at < ?5
                    and (?6 is null or e.type_code in (select value from json_each(?6)))
                    and (?7 is null or exists (
                        select 1 from webhook_deliveries d
                        join webhook_subscriptions s on s.seq = d.subscription_seq
                        where s.id = ?7 and s.partner_id = ?1 and d.event_seq = e.seq
                          and (?8 is null or (d.delivered_at is not null) = ?8)))
                  order by st.event_seq ",
                $order,
                " limit ?9"
            )
        };
    }
    let sql = if query.page.from_end { sql!("desc") } else { sql!("asc") };
    let (subscription, delivered) = match &query.subscription {
        Some((id, delivered)) => (Some(id.as_str()), *delivered),
        None => (None, None),
    };
    let rows = sqlx::query(sql)
        .bind(query.partner_id.as_str())
        .bind(lower(query.page.after))
        .bind(upper(query.page.before))
        .bind(time_lower(query.window.after))
        .bind(time_upper(query.window.before))
        .bind(codes_filter(query.types.iter().map(|t| t.code()))?)
        .bind(subscription)
        .bind(delivered)
        .bind(i64::from(query.page.limit))
        .fetch_all(reader)
        .await
        .map_err(map_err)?;
    let events = rows.iter().map(rows::event::<Db>).collect::<StoreResult<Vec<_>>>()?;
    Ok(ascending(events, &query.page))
}

pub(crate) async fn get_event(
    reader: &SqlitePool,
    partner_id: &ObjectId,
    event_id: &ObjectId,
) -> StoreResult<Option<Event>> {
    const SQL: &str = concat!(
        "select ",
        event_columns!(),
        " from events e join event_streams st on st.event_seq = e.seq and st.partner_id = ?1 where e.id = ?2"
    );
    let row = sqlx::query(SQL)
        .bind(partner_id.as_str())
        .bind(event_id.as_str())
        .fetch_optional(reader)
        .await
        .map_err(map_err)?;
    row.as_ref().map(rows::event::<Db>).transpose()
}

/// Rows deleted per statement, so a large purge never holds the write lock for long.
const PURGE_BATCH: i64 = 5_000;

/// Deletes the rows of `table` (`events` or `webhook_requests`: a `seq` key and a
/// `created_at`) created before `cutoff`, a batch per statement; returns how many went.
async fn delete_older_in_batches(writer: &SqlitePool, table: &'static str, cutoff: i64) -> StoreResult<u64> {
    let sql = format!(
        "delete from {table} where seq in (select seq from {table} where created_at < ?1 order by seq limit ?2)"
    );
    let mut deleted = 0;
    loop {
        let done =
            sqlx::query(&sql).bind(cutoff).bind(PURGE_BATCH).execute(writer).await.map_err(map_err)?.rows_affected();
        deleted += done;
        if done < PURGE_BATCH.unsigned_abs() {
            return Ok(deleted);
        }
    }
}

pub(crate) async fn purge_events_before(writer: &SqlitePool, cutoff: DateTime<Utc>) -> StoreResult<PurgedEvents> {
    let cutoff = millis(&cutoff);
    // Streams, deliveries and attempts of the events go with them (on delete cascade).
    let purged = PurgedEvents {
        events: delete_older_in_batches(writer, "events", cutoff).await?,
        requests: delete_older_in_batches(writer, "webhook_requests", cutoff).await?,
    };
    sqlx::query("delete from webhook_replays where created_at < ?1")
        .bind(cutoff)
        .execute(writer)
        .await
        .map_err(map_err)?;
    Ok(purged)
}

/// `NotFound` unless `id` is a subscription of `partner_id`; returns its seq, type and hirer.
pub(crate) async fn subscription_key(
    tx: &mut Transaction<'_, Sqlite>,
    partner_id: &ObjectId,
    id: &ObjectId,
) -> StoreResult<Option<(i64, String, Option<String>)>> {
    let row = sqlx::query(
        "select seq, event_type_code, hirer_id from webhook_subscriptions where partner_id = ?1 and id = ?2",
    )
    .bind(partner_id.as_str())
    .bind(id.as_str())
    .fetch_optional(&mut **tx)
    .await
    .map_err(map_err)?;
    row.map(|r| {
        let r = cols(&r);
        Ok::<_, StoreError>((r.int("seq")?, r.text("event_type_code")?, r.opt_text("hirer_id")?))
    })
    .transpose()
}

#[async_trait::async_trait]
impl candex_store::EventStore for crate::SqliteStore {
    async fn page_events(&self, query: &EventsQuery) -> StoreResult<Vec<Event>> {
        crate::events::page_events(&self.reader, query).await
    }

    async fn get_event(&self, partner_id: &ObjectId, event_id: &ObjectId) -> StoreResult<Option<Event>> {
        crate::events::get_event(&self.reader, partner_id, event_id).await
    }

    async fn purge_events_before(&self, cutoff: DateTime<Utc>) -> StoreResult<PurgedEvents> {
        crate::events::purge_events_before(&self.writer, cutoff).await
    }
}
