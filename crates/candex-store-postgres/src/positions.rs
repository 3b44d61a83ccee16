//! Job ads: a position opening with its posted profile, created, read, listed and closed.
//! Also owns the column list and row mapping every query that returns a `Position` shares.

use std::sync::Arc;

use candex_domain::{EventType, ObjectId};
use candex_store::position_columns;
use candex_store::rows;
use candex_store::{EventStamp, NewPosition, Position, PositionStatus, StoreError, StoreResult};
use sqlx::{PgPool, Postgres, Transaction};

use crate::codec::{millis, to_json, Db};
use crate::error::map_err;

const BY_PROFILE_ID: &str = concat!(
    "select ",
    position_columns!(),
    " from positions pos join hirers h on h.id = pos.hirer_id where pos.profile_id = $1"
);

pub(crate) async fn create_position(pool: &PgPool, position: NewPosition) -> StoreResult<Position> {
    let mut tx = pool.begin().await.map_err(map_err)?;
    crate::locks::lock(&mut tx, crate::locks::EVENT_ORDER).await?;
    let hirer_name: Option<String> = sqlx::query_scalar("select name from hirers where id = $1")
        .bind(position.hirer_id.as_str())
        .fetch_optional(&mut *tx)
        .await
        .map_err(map_err)?;
    let hirer_name = hirer_name.ok_or(StoreError::NotFound("hirer"))?;
    insert_position(&mut tx, &position).await?;
    crate::events::emit(
        &mut tx,
        crate::events::Outbox {
            id: &position.event_id,
            event_type: EventType::PositionProfilePosted,
            hirer_id: &position.hirer_id,
            at: position.created_at,
            candidate_profile_id: None,
            candidate_id: None,
            position_profile_id: Some(&position.profile_id),
            only_partner: None,
        },
    )
    .await?;
    tx.commit().await.map_err(map_err)?;
    Ok(Position {
        profile_id: position.profile_id,
        opening_id: position.opening_id,
        hirer_id: position.hirer_id,
        hirer_name,
        title: position.title,
        position_uri: position.position_uri,
        seek_hirer_job_reference: position.seek_hirer_job_reference,
        details: position.details,
        location_id: position.location_id,
        job_category_id: position.job_category_id,
        status: PositionStatus::Open,
        created_at: position.created_at,
        closed_at: None,
        questionnaire: position.questionnaire.map(Arc::new),
    })
}

/// The position row of a new job ad, open, with its questionnaire.
async fn insert_position(tx: &mut Transaction<'_, Postgres>, position: &NewPosition) -> StoreResult<()> {
    sqlx::query(
        "insert into positions (profile_id, opening_id, hirer_id, title, position_uri, seek_hirer_job_reference,
             details, location_id, job_category_id, status, created_at, closed_at, questionnaire_id, questionnaire)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, null, $12, $13)",
    )
    .bind(position.profile_id.as_str())
    .bind(position.opening_id.as_str())
    .bind(position.hirer_id.as_str())
    .bind(&position.title)
    .bind(&position.position_uri)
    .bind(position.seek_hirer_job_reference.as_deref())
    .bind(to_json(&position.details)?)
    .bind(position.location_id.as_ref().map(ObjectId::as_str))
    .bind(position.job_category_id.as_ref().map(ObjectId::as_str))
    .bind(PositionStatus::Open.code())
    .bind(millis(&position.created_at))
    .bind(position.questionnaire.as_ref().map(|q| q.id.as_str()))
    .bind(position.questionnaire.as_ref().map(to_json).transpose()?)
    .execute(&mut **tx)
    .await
    .map_err(map_err)?;
    Ok(())
}

pub(crate) async fn get_position(pool: &PgPool, profile_id: &ObjectId) -> StoreResult<Option<Position>> {
    let row = sqlx::query(BY_PROFILE_ID).bind(profile_id.as_str()).fetch_optional(pool).await.map_err(map_err)?;
    row.as_ref().map(rows::position::<Db>).transpose()
}

pub(crate) async fn get_positions(pool: &PgPool, profile_ids: &[ObjectId]) -> StoreResult<Vec<Position>> {
    if profile_ids.is_empty() {
        return Ok(Vec::new());
    }
    const SQL: &str = concat!(
        "select ",
        position_columns!(),
        " from positions pos join hirers h on h.id = pos.hirer_id where pos.profile_id = any($1)"
    );
    let ids: Vec<&str> = profile_ids.iter().map(ObjectId::as_str).collect();
    let rows = sqlx::query(SQL).bind(ids).fetch_all(pool).await.map_err(map_err)?;
    rows.iter().map(rows::position::<Db>).collect()
}

pub(crate) async fn get_position_by_opening(pool: &PgPool, opening_id: &ObjectId) -> StoreResult<Option<Position>> {
    const SQL: &str = concat!(
        "select ",
        position_columns!(),
        " from positions pos join hirers h on h.id = pos.hirer_id where pos.opening_id = $1"
    );
    let row = sqlx::query(SQL).bind(opening_id.as_str()).fetch_optional(pool).await.map_err(map_err)?;
    row.as_ref().map(rows::position::<Db>).transpose()
}

pub(crate) async fn close_position(pool: &PgPool, profile_id: &ObjectId, event: &EventStamp) -> StoreResult<Position> {
    let mut tx = pool.begin().await.map_err(map_err)?;
    // The event lock before the row lock the update takes, in the order ingest takes them.
    crate::locks::lock(&mut tx, crate::locks::EVENT_ORDER).await?;
    // Only an open ad changes, so closing twice keeps the first closing time (and emits one
    // event); a concurrent second close waits for the row and then finds it closed.
    let closed = sqlx::query("update positions set status = $2, closed_at = $3 where profile_id = $1 and status = $4")
        .bind(profile_id.as_str())
        .bind(PositionStatus::Closed.code())
        .bind(millis(&event.at))
        .bind(PositionStatus::Open.code())
        .execute(&mut *tx)
        .await
        .map_err(map_err)?
        .rows_affected()
        > 0;
    let row = sqlx::query(BY_PROFILE_ID).bind(profile_id.as_str()).fetch_optional(&mut *tx).await.map_err(map_err)?;
    let position =
        row.as_ref().map(rows::position::<Db>).transpose()?.ok_or(StoreError::NotFound("position profile"))?;
    if closed {
        crate::events::emit(
            &mut tx,
            crate::events::Outbox {
                id: &event.id,
                event_type: EventType::PositionProfileClosed,
                hirer_id: &position.hirer_id,
                at: event.at,
                candidate_profile_id: None,
                candidate_id: None,
                position_profile_id: Some(profile_id),
                only_partner: None,
            },
        )
        .await?;
    }
    tx.commit().await.map_err(map_err)?;
    Ok(position)
}

pub(crate) async fn list_positions(pool: &PgPool, hirer_id: Option<&ObjectId>) -> StoreResult<Vec<Position>> {
    const SQL: &str = concat!(
        "select ",
        position_columns!(),
        r#" from positions pos join hirers h on h.id = pos.hirer_id
          where ($1::text is null or pos.hirer_id = $1)
          order by pos.created_at desc, pos.profile_id collate "C" desc"#
    );
    let rows = sqlx::query(SQL).bind(hirer_id.map(ObjectId::as_str)).fetch_all(pool).await.map_err(map_err)?;
    rows.iter().map(rows::position::<Db>).collect()
}

#[async_trait::async_trait]
impl candex_store::PositionStore for crate::PgStore {
    #[tracing::instrument(skip_all)]
    async fn create_position(&self, position: NewPosition) -> StoreResult<Position> {
        crate::positions::create_position(&self.pool, position).await
    }

    #[tracing::instrument(skip_all)]
    async fn get_position(&self, profile_id: &ObjectId) -> StoreResult<Option<Position>> {
        crate::positions::get_position(&self.pool, profile_id).await
    }

    #[tracing::instrument(skip_all)]
    async fn get_positions(&self, profile_ids: &[ObjectId]) -> StoreResult<Vec<Position>> {
        crate::positions::get_positions(&self.pool, profile_ids).await
    }

    #[tracing::instrument(skip_all)]
    async fn get_position_by_opening(&self, opening_id: &ObjectId) -> StoreResult<Option<Position>> {
        crate::positions::get_position_by_opening(&self.pool, opening_id).await
    }

    #[tracing::instrument(skip_all)]
    async fn close_position(&self, profile_id: &ObjectId, event: &EventStamp) -> StoreResult<Position> {
        crate::positions::close_position(&self.pool, profile_id, event).await
    }

    #[tracing::instrument(skip_all)]
    async fn list_positions(&self, hirer_id: Option<&ObjectId>) -> StoreResult<Vec<Position>> {
        crate::positions::list_positions(&self.pool, hirer_id).await
    }
}
