//! Conversions between domain values and their stored form: unix milliseconds for times,
//! JSON text for structured values, and PostgreSQL rows read through the shared row mappers of
//! `candex_store::rows`. The stored forms are the SQLite backend's, so both backends hold the
//! same values.

use candex_store::rows::StoredRow;
use candex_store::StoreError;
use chrono::{DateTime, Utc};
use sqlx::postgres::PgRow;
use sqlx::Row;

use crate::error::{corrupt, map_err};

pub(crate) use candex_store::rows::time;

/// A time as stored: unix milliseconds. Domain times are already truncated to milliseconds,
/// so nothing is lost.
pub(crate) fn millis(t: &DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

/// Reads an integer column whatever its width: PostgreSQL, unlike SQLite, types integers
/// strictly, and the schema keeps small counters in `integer`.
fn any_int(row: &PgRow, column: &str) -> Result<Option<i64>, sqlx::Error> {
    match row.try_get::<Option<i64>, _>(column) {
        Err(sqlx::Error::ColumnDecode { .. }) => match row.try_get::<Option<i32>, _>(column) {
            Err(sqlx::Error::ColumnDecode { .. }) => Ok(row.try_get::<Option<i16>, _>(column)?.map(i64::from)),
            other => Ok(other?.map(i64::from)),
        },
        other => other,
    }
}

/// This backend, as the [`Columns`] of the shared row mappers: `rows::candidate::<Db>`.
pub enum Db {}

/// Typed column access on one of this backend's rows, for the columns read outside the shared
/// row mappers.
pub(crate) fn cols(row: &PgRow) -> StoredRow<'_, Db> {
    StoredRow::new(row)
}

candex_store::columns_via_sqlx!(Db, PgRow, map_err, {
    fn int(row: &PgRow, column: &str) -> Result<i64, StoreError> {
        Self::opt_int(row, column)?.ok_or_else(|| corrupt("integer", format!("{column} is null")))
    }

    fn opt_int(row: &PgRow, column: &str) -> Result<Option<i64>, StoreError> {
        any_int(row, column).map_err(map_err)
    }

    fn opt_bool(row: &PgRow, column: &str) -> Result<Option<bool>, StoreError> {
        row.try_get(column).map_err(map_err)
    }
});
