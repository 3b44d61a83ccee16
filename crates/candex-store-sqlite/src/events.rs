//! The event outbox on SQLite: writing an event with its partner streams and webhook
//! deliveries inside the transaction that causes it ([`emit`], the backend's
//! `SqlBackend::emit`), and the helpers `webhooks.rs` shares. Reading streams and retention
//! are shared (`candex_store::EventStore`).
//!
//! `emit` stays per backend: PostgreSQL's takes the event-order lock, casts its list
//! parameters, and locks the subscriptions it queues for (`for key share`); SQLite's one
//! writer needs none of that.

use candex_domain::{ObjectId, PartnerId, RelationshipType};
use candex_store::{StoreError, StoreResult};
use chrono::{DateTime, Utc};
use sqlx::{Sqlite, Transaction};

use crate::codec::{cols, millis, to_json};
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
    .bind(event.candidate_profile_id.map(|id| id.as_str()))
    .bind(event.candidate_id.map(|id| id.as_str()))
    .bind(event.position_profile_id.map(|id| id.as_str()))
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
            // `?4`: the candidate whose earlier application events also name recipients
            // (`CandidateErased`), else null, which selects nothing (`events_candidate_idx`).
            sqlx::query(
                "insert into event_streams (partner_id, event_seq)
                 select partner_id, ?1 from relationships
                 where hirer_id = ?2 and type_code in (select value from json_each(?3))
                 union
                 select st.partner_id, ?1 from events e join event_streams st on st.event_seq = e.seq
                 where e.candidate_id = ?4 and e.type_code = 'CandidateApplicationCreated'",
            )
            .bind(seq)
            .bind(event.hirer_id.as_str())
            .bind(to_json(&codes)?)
            .bind(event.past_recipients_of().map(|c| c.as_str()))
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

/// `NotFound` unless `id` is a subscription of `partner_id`; returns its seq, type and hirer.
pub(crate) async fn subscription_key(
    tx: &mut Transaction<'_, Sqlite>,
    partner_id: &PartnerId,
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
