//! The positions area of the store: job ads: position openings with their posted profile.

use async_trait::async_trait;
use candex_domain::ObjectId;

use crate::*;

/// Job ads: position openings with their posted profile.
#[async_trait]
pub trait PositionStore: Send + Sync {
    /// Stores a job ad (position opening plus posted profile) and its `PositionProfilePosted`
    /// event. `NotFound` for an unknown hirer.
    async fn create_position(&self, position: NewPosition) -> StoreResult<Position>;
    /// Reads a job ad by its position profile id.
    async fn get_position(&self, profile_id: &ObjectId) -> StoreResult<Option<Position>>;
    /// Reads several job ads by position profile id in one statement (a page of position
    /// events fetching theirs inline), in no particular order; unknown ids are left out.
    async fn get_positions(&self, profile_ids: &[ObjectId]) -> StoreResult<Vec<Position>>;
    /// Reads a job ad by its position opening id.
    async fn get_position_by_opening(&self, opening_id: &ObjectId) -> StoreResult<Option<Position>>;
    /// Closes a job ad and writes its `PositionProfileClosed` event (stamped `event`);
    /// closing a closed ad changes nothing. `NotFound` when unknown.
    async fn close_position(&self, profile_id: &ObjectId, event: &EventStamp) -> StoreResult<Position>;
    /// Lists job ads, optionally of one hirer, newest first (operator use).
    async fn list_positions(&self, hirer_id: Option<&ObjectId>) -> StoreResult<Vec<Position>>;
}
