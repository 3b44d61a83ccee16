//! The positions area of the store: job ads: position openings with their posted profile.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use std::sync::Arc;

use candex_domain::{EventType, HirerId, PositionOpeningId, PositionProfileId};

use crate::rows::{self, StoredRow};
use crate::sql::{to_json, Exec, Lock, Outbox, SqlBackend, Transaction};
use crate::*;

/// Job ads: position openings with their posted profile.
#[async_trait]
pub trait PositionStore: Send + Sync {
    /// Stores a job ad (position opening plus posted profile) and its `PositionProfilePosted`
    /// event. `NotFound` for an unknown hirer.
    async fn create_position(&self, position: NewPosition) -> StoreResult<Position>;
    /// Reads a job ad by its position profile id.
    async fn get_position(&self, profile_id: &PositionProfileId) -> StoreResult<Option<Position>>;
    /// Reads several job ads by position profile id in one statement (a page of position
    /// events fetching theirs inline), in no particular order; unknown ids are left out.
    async fn get_positions(&self, profile_ids: &[PositionProfileId]) -> StoreResult<Vec<Position>>;
    /// Reads a job ad by its position opening id.
    async fn get_position_by_opening(&self, opening_id: &PositionOpeningId) -> StoreResult<Option<Position>>;
    /// Closes a job ad and writes its `PositionProfileClosed` event (stamped `event`);
    /// closing a closed ad changes nothing. `NotFound` when unknown.
    async fn close_position(&self, profile_id: &PositionProfileId, event: &EventStamp) -> StoreResult<Position>;
    /// Lists job ads, optionally of one hirer, newest first (operator use).
    async fn list_positions(&self, hirer_id: Option<&HirerId>) -> StoreResult<Vec<Position>>;
    /// Records the public base URL the server runs with (each `serve` start), under which job
    /// ads created without a URL get theirs.
    async fn record_public_url(&self, url: &str, at: DateTime<Utc>) -> StoreResult<()>;
    /// The public base URL the server last recorded, if any (for `candex admin`).
    async fn recorded_public_url(&self) -> StoreResult<Option<String>>;
}

/// The `server_settings` key of the public URL.
const PUBLIC_URL: &str = "public_url";

/// Job ads with their hirer's name; the caller adds the `where`.
macro_rules! positions_select {
    () => {
        concat!("select ", position_columns!(), " from positions pos join hirers h on h.id = pos.hirer_id")
    };
}

const POSITIONS: &str = positions_select!();
const BY_PROFILE_ID: &str = concat!(positions_select!(), " where pos.profile_id = $1");

#[async_trait]
impl<B: SqlBackend> PositionStore for B {
    #[tracing::instrument(skip_all)]
    async fn create_position(&self, position: NewPosition) -> StoreResult<Position> {
        let mut tx = self.begin().await?;
        tx.lock(Lock::EventOrder).await?;
        let name = "select name from hirers where id = $1";
        let hirer_name = tx.optional(stmt!(name, &position.hirer_id), |row| StoredRow::<B::Db>::new(row).text("name"));
        let hirer_name = hirer_name.await?.ok_or(StoreError::NotFound("hirer"))?;
        let p = &position;
        let insert = "insert into positions (profile_id, opening_id, hirer_id, title, position_uri,
                          seek_hirer_job_reference, details, location_id, job_category_id, status, created_at,
                          closed_at, questionnaire_id, questionnaire)
                      values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, null, $12, $13)";
        let stmt = stmt!(
            insert,
            &p.profile_id,
            &p.opening_id,
            &p.hirer_id,
            &p.title,
            &p.position_uri,
            p.seek_hirer_job_reference.as_ref(),
            to_json(&p.details)?,
            p.location_id.as_ref(),
            p.job_category_id.as_ref(),
            PositionStatus::Open.code(),
            p.created_at,
            p.questionnaire.as_ref().map(|q| q.id.as_str()),
            p.questionnaire.as_ref().map(to_json).transpose()?,
        );
        tx.execute(stmt).await?;
        let outbox = Outbox {
            id: &p.event_id,
            event_type: EventType::PositionProfilePosted,
            hirer_id: &p.hirer_id,
            at: p.created_at,
            candidate_profile_id: None,
            candidate_id: None,
            position_profile_id: Some(&p.profile_id),
            only_partner: None,
        };
        B::emit(&mut tx, outbox).await?;
        tx.commit().await?;
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

    #[tracing::instrument(skip_all)]
    async fn get_position(&self, profile_id: &PositionProfileId) -> StoreResult<Option<Position>> {
        self.reader().optional(stmt!(BY_PROFILE_ID, profile_id), rows::position::<B::Db>).await
    }

    #[tracing::instrument(skip_all)]
    async fn get_positions(&self, profile_ids: &[PositionProfileId]) -> StoreResult<Vec<Position>> {
        if profile_ids.is_empty() {
            return Ok(Vec::new());
        }
        let select = format!("{POSITIONS} where pos.profile_id in ({})", B::list("$1"));
        self.reader().all(stmt!(select, profile_ids), rows::position::<B::Db>).await
    }

    #[tracing::instrument(skip_all)]
    async fn get_position_by_opening(&self, opening_id: &PositionOpeningId) -> StoreResult<Option<Position>> {
        const SQL: &str = concat!(positions_select!(), " where pos.opening_id = $1");
        self.reader().optional(stmt!(SQL, opening_id), rows::position::<B::Db>).await
    }

    #[tracing::instrument(skip_all)]
    async fn close_position(&self, profile_id: &PositionProfileId, event: &EventStamp) -> StoreResult<Position> {
        let mut tx = self.begin().await?;
        // The event lock before the row lock the update takes, in the order ingest takes them.
        tx.lock(Lock::EventOrder).await?;
        // Only an open ad changes, so closing twice keeps the first closing time (and emits one
        // event); a concurrent second close waits for the row and then finds it closed.
        let close = "update positions set status = $2, closed_at = $3 where profile_id = $1 and status = $4";
        let (closed, open) = (PositionStatus::Closed.code(), PositionStatus::Open.code());
        let closed = tx.execute(stmt!(close, profile_id, closed, event.at, open)).await? > 0;
        let position = tx.optional(stmt!(BY_PROFILE_ID, profile_id), rows::position::<B::Db>).await?;
        let position = position.ok_or(StoreError::NotFound("position profile"))?;
        if closed {
            let outbox = Outbox {
                id: &event.id,
                event_type: EventType::PositionProfileClosed,
                hirer_id: &position.hirer_id,
                at: event.at,
                candidate_profile_id: None,
                candidate_id: None,
                position_profile_id: Some(profile_id),
                only_partner: None,
            };
            B::emit(&mut tx, outbox).await?;
        }
        tx.commit().await?;
        Ok(position)
    }

    #[tracing::instrument(skip_all)]
    async fn record_public_url(&self, url: &str, at: DateTime<Utc>) -> StoreResult<()> {
        let upsert = "insert into server_settings (key, value, updated_at) values ($1, $2, $3)
                      on conflict (key) do update set value = excluded.value, updated_at = excluded.updated_at";
        self.writer().execute(stmt!(upsert, PUBLIC_URL, url, at)).await?;
        Ok(())
    }

    #[tracing::instrument(skip_all)]
    async fn recorded_public_url(&self) -> StoreResult<Option<String>> {
        let select = "select value from server_settings where key = $1";
        self.reader().optional(stmt!(select, PUBLIC_URL), |row| StoredRow::<B::Db>::new(row).text("value")).await
    }

    #[tracing::instrument(skip_all)]
    async fn list_positions(&self, hirer_id: Option<&HirerId>) -> StoreResult<Vec<Position>> {
        let c = B::BINARY;
        let select = format!(
            "{POSITIONS} where ($1 is null or pos.hirer_id = $1) order by pos.created_at desc, pos.profile_id{c} desc"
        );
        self.reader().all(stmt!(select, hirer_id), rows::position::<B::Db>).await
    }
}
