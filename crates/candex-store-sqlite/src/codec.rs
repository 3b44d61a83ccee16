//! Conversions between domain values and their stored form: unix milliseconds for times,
//! JSON text for structured values, and SQLite rows read through the shared row mappers of
//! `candex_store::rows`.

use candex_store::rows::StoredRow;
use candex_store::StoreError;
use chrono::{DateTime, Utc};
use sqlx::sqlite::SqliteRow;
use sqlx::Row;

use crate::error::map_err;

pub(crate) use candex_store::rows::{from_json, time};
pub(crate) use candex_store::sql::to_json;

/// A time as stored: unix milliseconds. Domain times are already truncated to milliseconds,
/// so nothing is lost.
pub(crate) fn millis(t: &DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

/// This backend, as the [`Columns`] of the shared row mappers: `rows::candidate::<Db>`.
pub enum Db {}

/// Typed column access on one of this backend's rows, for the columns read outside the shared
/// row mappers.
pub(crate) fn cols(row: &SqliteRow) -> StoredRow<'_, Db> {
    StoredRow::new(row)
}

candex_store::columns_via_sqlx!(Db, SqliteRow, map_err, {
    fn int(row: &SqliteRow, column: &str) -> Result<i64, StoreError> {
        row.try_get(column).map_err(map_err)
    }

    fn opt_int(row: &SqliteRow, column: &str) -> Result<Option<i64>, StoreError> {
        row.try_get(column).map_err(map_err)
    }

    /// SQLite has no boolean type: stored as an integer, true when not zero.
    fn opt_bool(row: &SqliteRow, column: &str) -> Result<Option<bool>, StoreError> {
        Ok(Self::opt_int(row, column)?.map(|v| v != 0))
    }
});
