//! The process history area of the store: what partners record about a candidate profile's
//! progress (`CandidateProcessHistoryItem`), one row per item with its details as one JSON
//! document, paged per profile in recording order.

use async_trait::async_trait;
use candex_domain::process::ProcessDetails;
use candex_domain::{CandidateProfileId, HirerId, ObjectId, PartnerId, PositionProfileId};
use chrono::{DateTime, Utc};

use crate::rows::{Columns, StoredRow};
use crate::sql::{to_json, Exec, SqlBackend, Transaction};
use crate::{stmt, StoreError, StoreResult};

/// The constraint that keeps `idempotencyId` unique per profile.
pub const IDEMPOTENCY_KEY: &str = "process_history_items_idempotency_key";

/// A process history item to record.
#[derive(Debug, Clone)]
pub struct NewProcessHistoryItem {
    /// Minted id.
    pub id: ObjectId,
    /// The candidate profile it is about.
    pub profile_id: CandidateProfileId,
    /// The partner recording it.
    pub partner_id: PartnerId,
    /// The partner's key for retries, unique per profile.
    pub idempotency_id: String,
    /// When the action happened.
    pub action_date: DateTime<Utc>,
    /// The job ad it concerns, which must be of the profile's hirer.
    pub position_profile_id: Option<PositionProfileId>,
    /// Action, status, parties and source.
    pub details: ProcessDetails,
    /// When it was recorded.
    pub created_at: DateTime<Utc>,
}

/// A change to an item: everything but its profile and idempotency key is replaced.
#[derive(Debug, Clone)]
pub struct ProcessHistoryUpdate {
    /// When the action happened.
    pub action_date: DateTime<Utc>,
    /// The job ad it concerns, which must be of the profile's hirer.
    pub position_profile_id: Option<PositionProfileId>,
    /// Action, status, parties and source.
    pub details: ProcessDetails,
    /// When it was changed.
    pub updated_at: DateTime<Utc>,
}

/// A recorded process history item.
#[derive(Debug, Clone, PartialEq)]
pub struct ProcessHistoryItem {
    /// Recording order within the database; the paging key.
    pub seq: i64,
    /// The item's id.
    pub id: ObjectId,
    /// The candidate profile it is about.
    pub profile_id: CandidateProfileId,
    /// The profile's hirer, which access is checked against.
    pub hirer_id: HirerId,
    /// The partner that recorded it.
    pub partner_id: PartnerId,
    /// The partner's key for retries.
    pub idempotency_id: String,
    /// When the action happened.
    pub action_date: DateTime<Utc>,
    /// The job ad it concerns.
    pub position_profile_id: Option<PositionProfileId>,
    /// Action, status, parties and source.
    pub details: ProcessDetails,
    /// When it was recorded.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

/// What a create did.
#[derive(Debug, Clone, PartialEq)]
pub enum ProcessHistoryWrite {
    /// The item was recorded.
    Written(ProcessHistoryItem),
    /// The profile already holds an item with this idempotency id; nothing was written.
    Conflict(ProcessHistoryItem),
}

/// Process history of candidate profiles.
#[async_trait]
pub trait ProcessHistoryStore: Send + Sync {
    /// Records an item, unless the profile already holds one with the same `idempotency_id`
    /// (then `Conflict` with that item, whatever else differs). `NotFound("candidate profile")`
    /// for an unknown profile, `NotFound("position profile")` for a job ad that is unknown or
    /// of another hirer, `Rejected` when the profile already holds `max_items` items.
    async fn create_process_history_item(
        &self,
        item: &NewProcessHistoryItem,
        max_items: u32,
    ) -> StoreResult<ProcessHistoryWrite>;
    /// Reads one item with its profile's hirer.
    async fn get_process_history_item(&self, id: &ObjectId) -> StoreResult<Option<ProcessHistoryItem>>;
    /// Replaces an item's date, job ad and details; `None` for an unknown item,
    /// `NotFound("position profile")` as for a create.
    async fn update_process_history_item(
        &self,
        id: &ObjectId,
        update: &ProcessHistoryUpdate,
    ) -> StoreResult<Option<ProcessHistoryItem>>;
    /// Deletes an item; returns it as it was, `None` for an unknown item.
    async fn delete_process_history_item(&self, id: &ObjectId) -> StoreResult<Option<ProcessHistoryItem>>;
    /// One page of a profile's items in recording order, after `after_seq`, at most `limit`.
    async fn page_process_history(
        &self,
        profile_id: &CandidateProfileId,
        after_seq: Option<i64>,
        limit: u32,
    ) -> StoreResult<Vec<ProcessHistoryItem>>;
    /// The first `limit` items of each of `profile_ids`, in one statement (the first page of
    /// `seekProcessHistory` for a list of profiles), by profile and then in recording order.
    async fn first_process_history_pages(
        &self,
        profile_ids: &[CandidateProfileId],
        limit: u32,
    ) -> StoreResult<Vec<ProcessHistoryItem>>;
}

/// Items with their profile's hirer; the caller adds the `where`.
const ITEMS: &str = "select i.seq, i.id, i.profile_id, p.hirer_id, i.partner_id, i.idempotency_id, i.action_date,
            i.position_profile_id, i.details, i.created_at, i.updated_at
     from process_history_items i join profiles p on p.profile_id = i.profile_id";

/// An item from the columns of [`ITEMS`].
fn item<B: Columns>(row: &B::Row) -> StoreResult<ProcessHistoryItem> {
    let row = StoredRow::<B>::new(row);
    Ok(ProcessHistoryItem {
        seq: row.int("seq")?,
        id: row.id("id")?,
        profile_id: row.id("profile_id")?,
        hirer_id: row.id("hirer_id")?,
        partner_id: row.id("partner_id")?,
        idempotency_id: row.text("idempotency_id")?,
        action_date: row.time("action_date")?,
        position_profile_id: row.opt_id("position_profile_id")?,
        details: row.json("details")?,
        created_at: row.time("created_at")?,
        updated_at: row.time("updated_at")?,
    })
}

/// `NotFound("position profile")` unless `position` is a job ad of `hirer`.
async fn check_position<B: SqlBackend>(
    tx: &mut B::Tx,
    position: Option<&PositionProfileId>,
    hirer: &HirerId,
) -> StoreResult<()> {
    let Some(position) = position else { return Ok(()) };
    let same_hirer = "select 1 from positions where profile_id = $1 and hirer_id = $2";
    if tx.exists(stmt!(same_hirer, position, hirer)).await? {
        Ok(())
    } else {
        Err(StoreError::NotFound("position profile"))
    }
}

#[async_trait]
impl<B: SqlBackend> ProcessHistoryStore for B {
    #[tracing::instrument(skip_all)]
    async fn create_process_history_item(
        &self,
        item: &NewProcessHistoryItem,
        max_items: u32,
    ) -> StoreResult<ProcessHistoryWrite> {
        let by_key = format!("{ITEMS} where i.profile_id = $1 and i.idempotency_id = $2");
        let mut tx = self.begin().await?;
        let profile = "select hirer_id, (select count(*) from process_history_items where profile_id = $1) as items
                       from profiles where profile_id = $1";
        let row = tx.fetch_optional(stmt!(profile, &item.profile_id)).await?;
        let row = row.ok_or(StoreError::NotFound("candidate profile"))?;
        let (hirer_id, items) = {
            let row = StoredRow::<B::Db>::new(&row);
            (row.id("hirer_id")?, row.int("items")?)
        };
        let key = stmt!(by_key.clone(), &item.profile_id, item.idempotency_id.as_str());
        if let Some(existing) = tx.optional(key, self::item::<B::Db>).await? {
            return Ok(ProcessHistoryWrite::Conflict(existing));
        }
        if items >= i64::from(max_items) {
            return Err(StoreError::Rejected(format!(
                "the candidate profile already holds {max_items} process history items"
            )));
        }
        check_position::<B>(&mut tx, item.position_profile_id.as_ref(), &hirer_id).await?;
        let insert = "insert into process_history_items (id, profile_id, partner_id, idempotency_id, action_date,
                          position_profile_id, details, created_at, updated_at)
                      values ($1, $2, $3, $4, $5, $6, $7, $8, $8)";
        let stmt = stmt!(
            insert,
            &item.id,
            &item.profile_id,
            &item.partner_id,
            item.idempotency_id.as_str(),
            item.action_date,
            item.position_profile_id.as_ref(),
            to_json(&item.details)?,
            item.created_at,
        );
        match tx.execute(stmt).await {
            Ok(_) => {}
            // A concurrent create with the same key committed first (PostgreSQL; SQLite's one
            // writer cannot get here): answer as if it had been seen above.
            Err(StoreError::Conflict { constraint }) if constraint == IDEMPOTENCY_KEY => {
                drop(tx);
                let key = stmt!(by_key, &item.profile_id, item.idempotency_id.as_str());
                let existing = self.reader().optional(key, self::item::<B::Db>).await?;
                return existing
                    .map(ProcessHistoryWrite::Conflict)
                    .ok_or(StoreError::Conflict { constraint: IDEMPOTENCY_KEY.to_owned() });
            }
            Err(e) => return Err(e),
        }
        let written = tx.optional(stmt!(format!("{ITEMS} where i.id = $1"), &item.id), self::item::<B::Db>).await?;
        let written = written.ok_or_else(|| crate::rows::corrupt("process history item", "not read back"))?;
        tx.commit().await?;
        Ok(ProcessHistoryWrite::Written(written))
    }

    #[tracing::instrument(skip_all)]
    async fn get_process_history_item(&self, id: &ObjectId) -> StoreResult<Option<ProcessHistoryItem>> {
        self.reader().optional(stmt!(format!("{ITEMS} where i.id = $1"), id), item::<B::Db>).await
    }

    #[tracing::instrument(skip_all)]
    async fn update_process_history_item(
        &self,
        id: &ObjectId,
        update: &ProcessHistoryUpdate,
    ) -> StoreResult<Option<ProcessHistoryItem>> {
        let select = format!("{ITEMS} where i.id = $1");
        let mut tx = self.begin().await?;
        let Some(current) = tx.optional(stmt!(select.clone(), id), item::<B::Db>).await? else { return Ok(None) };
        check_position::<B>(&mut tx, update.position_profile_id.as_ref(), &current.hirer_id).await?;
        let change = "update process_history_items
                      set action_date = $2, position_profile_id = $3, details = $4, updated_at = $5
                      where id = $1";
        let stmt = stmt!(
            change,
            id,
            update.action_date,
            update.position_profile_id.as_ref(),
            to_json(&update.details)?,
            update.updated_at,
        );
        tx.execute(stmt).await?;
        let updated = tx.optional(stmt!(select, id), item::<B::Db>).await?;
        tx.commit().await?;
        Ok(updated)
    }

    #[tracing::instrument(skip_all)]
    async fn delete_process_history_item(&self, id: &ObjectId) -> StoreResult<Option<ProcessHistoryItem>> {
        let mut tx = self.begin().await?;
        let Some(current) = tx.optional(stmt!(format!("{ITEMS} where i.id = $1"), id), item::<B::Db>).await? else {
            return Ok(None);
        };
        tx.execute(stmt!("delete from process_history_items where id = $1", id)).await?;
        tx.commit().await?;
        Ok(Some(current))
    }

    #[tracing::instrument(skip_all)]
    async fn page_process_history(
        &self,
        profile_id: &CandidateProfileId,
        after_seq: Option<i64>,
        limit: u32,
    ) -> StoreResult<Vec<ProcessHistoryItem>> {
        let select = format!("{ITEMS} where i.profile_id = $1 and ($2 is null or i.seq > $2) order by i.seq limit $3");
        self.reader().all(stmt!(select, profile_id, after_seq, limit), item::<B::Db>).await
    }

    #[tracing::instrument(skip_all)]
    async fn first_process_history_pages(
        &self,
        profile_ids: &[CandidateProfileId],
        limit: u32,
    ) -> StoreResult<Vec<ProcessHistoryItem>> {
        if profile_ids.is_empty() {
            return Ok(Vec::new());
        }
        // Numbered per profile by a window function (SQLite 3.25+, PostgreSQL), so the page of
        // every profile comes from one index range each, in one statement.
        let select = format!(
            "select * from (
                 select i.seq, i.id, i.profile_id, p.hirer_id, i.partner_id, i.idempotency_id, i.action_date,
                        i.position_profile_id, i.details, i.created_at, i.updated_at,
                        row_number() over (partition by i.profile_id order by i.seq) as n
                 from process_history_items i join profiles p on p.profile_id = i.profile_id
                 where i.profile_id in ({})
             ) numbered
             where n <= $2
             order by profile_id{}, seq",
            B::list("$1"),
            B::BINARY
        );
        self.reader().all(stmt!(select, profile_ids, limit), item::<B::Db>).await
    }
}
