//! What both SQL backends do alike with sqlx's own types (feature `sqlx`): the driver errors
//! that mean the same on every database, a migration from a newer candex, and typed column
//! access ([`columns_via_sqlx!`](crate::columns_via_sqlx)). Each backend maps its database's
//! own errors (constraint names, transient codes) itself.

use sqlx::migrate::MigrateError;

use crate::StoreError;

/// The applied schema is newer than this binary knows: it must not touch the database.
#[derive(Debug, thiserror::Error)]
#[error("database was migrated by a newer candex (migration {version}); upgrade candex")]
pub struct NewerDatabase {
    version: i64,
}

/// A failed migration: one applied to the database but unknown to this binary can only come
/// from a newer candex; a failed statement goes through the backend's `map_err`; anything
/// else is reported as the driver's.
pub fn migrate_err(err: MigrateError, map_err: fn(sqlx::Error) -> StoreError) -> StoreError {
    match err {
        MigrateError::VersionMissing(version) => StoreError::Other(Box::new(NewerDatabase { version })),
        MigrateError::Execute(e) => map_err(e),
        other => StoreError::Other(Box::new(other)),
    }
}

/// An error that is not the database's own (the pool, the connection, the driver): the same
/// on every backend. A pool that timed out or closed, or a broken connection, is `Unavailable`.
pub fn connection_err(err: sqlx::Error) -> StoreError {
    match err {
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) | sqlx::Error::WorkerCrashed => {
            StoreError::Unavailable(Box::new(err))
        }
        _ => StoreError::Other(Box::new(err)),
    }
}

/// Implements [`Columns`](crate::rows::Columns) for a backend's marker type `$db` on its row
/// type `$row`: text, nullable text and binary columns through `sqlx::Row::try_get`, errors
/// through `$map_err`; the backend writes the integer and boolean columns, whose stored forms
/// differ, in the braces.
#[macro_export]
macro_rules! columns_via_sqlx {
    ($db:ty, $row:ty, $map_err:path, { $($own:item)* }) => {
        impl $crate::rows::Columns for $db {
            type Row = $row;

            fn text(row: &$row, column: &str) -> Result<String, $crate::StoreError> {
                ::sqlx::Row::try_get(row, column).map_err($map_err)
            }

            fn opt_text(row: &$row, column: &str) -> Result<Option<String>, $crate::StoreError> {
                ::sqlx::Row::try_get(row, column).map_err($map_err)
            }

            fn bytes(row: &$row, column: &str) -> Result<Vec<u8>, $crate::StoreError> {
                ::sqlx::Row::try_get(row, column).map_err($map_err)
            }

            $($own)*
        }
    };
}
