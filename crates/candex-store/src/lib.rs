//! The storage contract of candex: one trait per storage area (one method per use case) with
//! [`Store`] their union, the records they read and write, [`StoreError`], the SQL both
//! backends share ([`sql`], and each area file's implementation for every
//! [`sql::SqlBackend`]), and (feature `testkit`) the conformance kit that every backend runs
//! against itself.

mod applications;
mod attachments;
#[cfg(feature = "sqlx")]
pub mod driver;
mod erasure;
mod error;
mod events;
mod keys;
mod parties;
mod positions;
mod process_history;
mod questionnaires;
mod records;
pub mod rows;
pub mod sql;
#[cfg(feature = "testkit")]
pub mod testkit;
mod webhooks;

use async_trait::async_trait;

pub use applications::{ApplicationSql, ApplicationStore};
pub use attachments::{AttachmentStore, BlobLock};
pub use erasure::ErasureStore;
pub use error::StoreError;
pub use events::*;
pub use keys::KeyStore;
pub use parties::{PartySql, PartyStore};
pub use positions::PositionStore;
pub use process_history::{
    NewProcessHistoryItem, ProcessHistoryItem, ProcessHistoryStore, ProcessHistoryUpdate, ProcessHistoryWrite,
};
pub use questionnaires::QuestionnaireStore;
pub use records::*;
pub use webhooks::WebhookStore;

/// Result alias for store operations.
pub type StoreResult<T> = Result<T, StoreError>;

/// Everything candex persists: the union of the storage areas, so the server holds one
/// `Arc<dyn Store>` and backends (SQLite, PostgreSQL) drop in without generics, while a
/// consumer that needs one area takes only that area's trait (`Arc<dyn WebhookStore>`).
///
/// Identifiers are minted by the caller and passed in; the store never invents them, so every
/// backend produces the same ids for the same input.
#[async_trait]
pub trait Store:
    PartyStore
    + PositionStore
    + ApplicationStore
    + KeyStore
    + AttachmentStore
    + QuestionnaireStore
    + ErasureStore
    + EventStore
    + WebhookStore
    + ProcessHistoryStore
    + Send
    + Sync
    + 'static
{
    /// A short name of the backend for logs and `/healthz` (`sqlite`, `postgres`).
    fn backend(&self) -> &'static str;

    /// Checks that the database answers.
    async fn ping(&self) -> StoreResult<()>;

    /// The occupancy of each connection pool now, for metrics; no I/O.
    fn pool_stats(&self) -> Vec<PoolStats>;
}

/// One connection pool's occupancy at a moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolStats {
    /// Which pool (`main` on PostgreSQL; `reader` and `writer` on SQLite).
    pub pool: &'static str,
    /// Connections open, idle or in use.
    pub open: u32,
    /// Open connections not in use.
    pub idle: u32,
    /// The most connections the pool opens.
    pub max: u32,
}

/// Every SQL backend is a `Store`: the areas whose SQL is shared come from their
/// `impl … for B` (given the backend's dialect hooks, `PartySql` and `ApplicationSql`), the
/// webhooks area from the backend's own `webhooks.rs`.
#[async_trait]
impl<B> Store for B
where
    B: sql::SqlBackend + PartySql + ApplicationSql + WebhookStore,
{
    fn backend(&self) -> &'static str {
        B::NAME
    }

    #[tracing::instrument(skip_all)]
    async fn ping(&self) -> StoreResult<()> {
        use sql::Exec;
        self.reader().execute(stmt!("select 1")).await.map(drop)
    }

    fn pool_stats(&self) -> Vec<PoolStats> {
        B::pool_stats(self)
    }
}
