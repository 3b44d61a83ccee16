//! The PostgreSQL backend of candex: [`PgStore`] implements [`candex_store::Store`] on one
//! PostgreSQL database shared by any number of `candex serve` instances, with the schema in
//! `migrations/` applied at connect.
//!
//! The schema and the stored values are the SQLite backend's (same tables, columns,
//! constraint names, unix-millisecond times and JSON text), so both backends behave alike and
//! pass the same conformance kit. What SQLite gets from its single writer, this backend gets
//! from PostgreSQL: every multi-statement write is one transaction, matching and first-store
//! races are settled by `insert … on conflict` or advisory locks (`locks.rs`), and event
//! writers commit in sequence order.

mod applications;
mod codec;
mod error;
mod events;
mod exec;
mod locks;
mod parties;
#[cfg(any(test, feature = "testkit"))]
pub mod scratch;
mod webhooks;

use std::str::FromStr;
use std::time::Duration;

use candex_store::StoreError;
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Connection, PgConnection, PgPool};

use crate::error::map_err;

/// The schema, embedded at compile time. It is the other backend's schema table for table in
/// this dialect's types; the two folders stay separate files because an applied migration
/// cannot change (sqlx checks every applied migration's checksum).
static MIGRATOR: Migrator = sqlx::migrate!("./migrations");

/// Connections per instance unless the caller says otherwise.
pub const DEFAULT_MAX_CONNECTIONS: u32 = 10;

/// How long a statement waits for a free connection (and a first connect for the server to
/// come up) before failing with `Unavailable`.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(10);

/// candex's store on a PostgreSQL database.
#[derive(Debug, Clone)]
pub struct PgStore {
    pool: PgPool,
}

impl PgStore {
    /// Connects to the database at `url` (`postgres://user:password@host:port/database`) with
    /// a pool of up to [`DEFAULT_MAX_CONNECTIONS`] connections, and brings its schema up to
    /// date (instances starting together take turns on PostgreSQL's migration lock).
    ///
    /// Fails with `StoreError::Other` when the database was migrated by a newer candex, and
    /// `Unavailable` when the server cannot be reached within 10 s.
    pub async fn connect(url: &str) -> Result<PgStore, StoreError> {
        Self::connect_with(url, DEFAULT_MAX_CONNECTIONS).await
    }

    /// [`PgStore::connect`] with a pool of up to `max_connections` (at least one).
    pub async fn connect_with(url: &str, max_connections: u32) -> Result<PgStore, StoreError> {
        let options = PgConnectOptions::from_str(url).map_err(map_err)?.application_name("candex");
        // One direct connection first: a refused connection, a wrong password or a missing
        // database fails at once with the server's own reason, where the pool would retry
        // until its timeout and report only that it timed out.
        let probe = PgConnection::connect_with(&options).await.map_err(map_err)?;
        let _ = probe.close().await;
        let pool = PgPoolOptions::new()
            .max_connections(max_connections.max(1))
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect_with(options)
            .await
            .map_err(map_err)?;
        if let Err(err) = MIGRATOR.run(&pool).await {
            pool.close().await;
            return Err(candex_store::driver::migrate_err(err, map_err));
        }
        Ok(PgStore { pool })
    }

    /// Closes the pool, waiting for connections in use to come back.
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// The connection pool, for tests that inspect the database directly.
    #[doc(hidden)]
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }
}
