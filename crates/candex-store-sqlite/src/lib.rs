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
mod point;
mod webhooks;

use std::str::FromStr;
use std::time::Duration;

use candex_store::StoreError;
use sqlx::migrate::Migrator;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::SqlitePool;

use crate::error::map_err;

/// The schema, embedded at compile time. It is the other backend's schema table for table in
/// this dialect's types; the two folders stay separate files because an applied migration
/// cannot change (sqlx checks every applied migration's checksum).
static MIGRATOR: Migrator = sqlx::migrate!("./migrations");

/// Creates a missing database file readable by its owner only (SQLite gives its WAL and
/// shared-memory files the database file's mode), and warns when an existing one is wider: it
/// holds personal data and credentials.
fn owner_only(path: &std::path::Path) -> Result<(), StoreError> {
    if path.as_os_str().is_empty() || path == std::path::Path::new(":memory:") {
        return Ok(());
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        match std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path) {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                let mode =
                    std::fs::metadata(path).map_err(|e| StoreError::Unavailable(Box::new(e)))?.permissions().mode();
                if mode & 0o077 != 0 {
                    tracing::warn!(
                        "{} can be read by other users (mode {:o}); it holds personal data and credentials: \
                         chmod 600 it (and its -wal and -shm files)",
                        path.display(),
                        mode & 0o777
                    );
                }
            }
            Err(e) => return Err(StoreError::Unavailable(Box::new(e))),
        }
    }
    Ok(())
}

/// How long a statement waits for another process's lock before failing with `Unavailable`.
pub(crate) const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Connections of the read pool. Reads in WAL mode run in parallel with each other and with
/// the writer; a handful covers a small server on a small machine.
const READERS: u32 = 4;

/// candex's store on an SQLite file.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    /// Exactly one connection: all writes.
    writer: SqlitePool,
    /// Reads only (`query_only` is on).
    reader: SqlitePool,
    /// The request path's point reads, on the calling thread ([`point`]).
    point: std::sync::Arc<point::PointReaders>,
}

impl SqliteStore {
    /// Opens (creating if missing) the database at `url`, which is `sqlite://path/to/file.db`
    /// or `sqlite:path/to/file.db` (relative to the working directory; `sqlite:///abs/file.db`
    /// for an absolute path), and brings its schema up to date.
    ///
    /// Every connection runs with WAL journaling, `synchronous=FULL`, foreign keys enforced and
    /// a 5 s busy timeout; the writer with `secure_delete`, so deleted and overwritten values
    /// are zeroed in the pages (erasure, see `SqlBackend::scrub`). Fails with `StoreError::Other` when the database was migrated by a
    /// newer candex, and `Unavailable` when the file cannot be opened.
    pub async fn connect(url: &str) -> Result<SqliteStore, StoreError> {
        let options = SqliteConnectOptions::from_str(url).map_err(map_err)?;
        let file = options.get_filename().to_path_buf();
        // Point readers open the file themselves (`point`), so it must be one.
        if file.as_os_str().is_empty() || url.contains(":memory:") || url.contains("mode=memory") {
            return Err(StoreError::Other(
                format!("{url}: candex keeps its data in a database file; name one (sqlite://candex.db)").into(),
            ));
        }
        owner_only(&file)?;
        let options = options
            .create_if_missing(true)
            .foreign_keys(true)
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(BUSY_TIMEOUT);
        // WAL is a property of the file, set once by the writer; readers inherit it (setting
        // it there too would need an exclusive lock for nothing).
        let writer = SqlitePoolOptions::new()
            .min_connections(1)
            .max_connections(1)
            .connect_with(options.clone().journal_mode(SqliteJournalMode::Wal).pragma("secure_delete", "on"))
            .await
            .map_err(map_err)?;
        MIGRATOR.run(&writer).await.map_err(|e| candex_store::driver::migrate_err(e, map_err))?;
        let reader = SqlitePoolOptions::new()
            .max_connections(READERS)
            .connect_with(options.pragma("query_only", "ON"))
            .await
            .map_err(map_err)?;
        let point = std::sync::Arc::new(point::PointReaders::open(file)?);
        Ok(SqliteStore { writer, reader, point })
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
