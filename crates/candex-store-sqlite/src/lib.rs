//! The embedded SQLite backend of candex: [`SqliteStore`] implements
//! [`candex_store::Store`] on one database file, with the schema in `migrations/` applied at
//! connect.
//!
//! SQLite allows one writer at a time. Rather than let concurrent writes collide on the file
//! lock (`SQLITE_BUSY`), every write goes through a pool of exactly one connection, so writes
//! queue in process; reads use a separate pool and, thanks to WAL, never wait for the writer.

mod applications;
mod codec;
mod error;
mod events;
mod exec;
mod parties;
mod webhooks;

use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use candex_store::{Store, StoreError, StoreResult};
use sqlx::migrate::{MigrateError, Migrator};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::SqlitePool;

use crate::error::map_err;

/// The schema, embedded at compile time.
static MIGRATOR: Migrator = sqlx::migrate!("./migrations");

/// How long a statement waits for another process's lock before failing with `Unavailable`.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Connections of the read pool. Reads in WAL mode run in parallel with each other and with
/// the writer; a handful covers a small server on a small machine.
const READERS: u32 = 4;

/// The applied schema is newer than this binary knows: it must not touch the database.
#[derive(Debug, thiserror::Error)]
#[error("database was migrated by a newer candex (migration {version}); upgrade candex")]
struct NewerDatabase {
    version: i64,
}

/// candex's store on an SQLite file.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    /// Exactly one connection: all writes.
    writer: SqlitePool,
    /// Reads only (`query_only` is on).
    reader: SqlitePool,
}

impl SqliteStore {
    /// Opens (creating if missing) the database at `url`, which is `sqlite://path/to/file.db`
    /// or `sqlite:path/to/file.db` (relative to the working directory; `sqlite:///abs/file.db`
    /// for an absolute path), and brings its schema up to date.
    ///
    /// Every connection runs with WAL journaling, `synchronous=FULL`, foreign keys enforced and
    /// a 5 s busy timeout. Fails with `StoreError::Other` when the database was migrated by a
    /// newer candex, and `Unavailable` when the file cannot be opened.
    pub async fn connect(url: &str) -> Result<SqliteStore, StoreError> {
        let options = SqliteConnectOptions::from_str(url)
            .map_err(map_err)?
            .create_if_missing(true)
            .foreign_keys(true)
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(BUSY_TIMEOUT);
        // WAL is a property of the file, set once by the writer; readers inherit it (setting
        // it there too would need an exclusive lock for nothing).
        let writer = SqlitePoolOptions::new()
            .min_connections(1)
            .max_connections(1)
            .connect_with(options.clone().journal_mode(SqliteJournalMode::Wal))
            .await
            .map_err(map_err)?;
        MIGRATOR.run(&writer).await.map_err(migrate_err)?;
        let reader = SqlitePoolOptions::new()
            .max_connections(READERS)
            .connect_with(options.pragma("query_only", "ON"))
            .await
            .map_err(map_err)?;
        Ok(SqliteStore { writer, reader })
    }

    /// Closes both pools, waiting for connections in use to come back.
    pub async fn close(&self) {
        self.reader.close().await;
        self.writer.close().await;
    }

    /// The read pool, for tests that inspect connection settings.
    #[doc(hidden)]
    pub fn reader_pool(&self) -> &SqlitePool {
        &self.reader
    }

    /// The one-connection write pool, for tests that inspect connection settings.
    #[doc(hidden)]
    pub fn writer_pool(&self) -> &SqlitePool {
        &self.writer
    }
}

/// A migration applied to the database but unknown to this binary can only come from a newer
/// candex; any other failure is reported as the driver's.
fn migrate_err(err: MigrateError) -> StoreError {
    match err {
        MigrateError::VersionMissing(version) => StoreError::Other(Box::new(NewerDatabase { version })),
        MigrateError::Execute(e) => map_err(e),
        other => StoreError::Other(Box::new(other)),
    }
}

#[async_trait]
impl Store for SqliteStore {
    fn backend(&self) -> &'static str {
        "sqlite"
    }

    #[tracing::instrument(skip_all)]
    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("select 1").execute(&self.reader).await.map_err(map_err)?;
        Ok(())
    }
}
