//! Conversions between domain values and their stored form: unix milliseconds for times,
//! JSON text for structured values, and ids read back from rows. The stored forms are the
//! SQLite backend's, so both backends hold the same values.

use candex_domain::ObjectId;
use candex_store::StoreError;
use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde::Serialize;
use sqlx::postgres::PgRow;
use sqlx::Row;

use crate::error::{corrupt, map_err};

/// A time as stored: unix milliseconds. Domain times are already truncated to milliseconds,
/// so nothing is lost.
pub(crate) fn millis(t: &DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

/// A stored time read back.
pub(crate) fn time(ms: i64) -> Result<DateTime<Utc>, StoreError> {
    DateTime::from_timestamp_millis(ms).ok_or_else(|| corrupt("timestamp", ms))
}

/// A structured value as stored: JSON text (not `jsonb`, which would reorder keys and so
/// store something other than what SQLite stores).
pub(crate) fn to_json<T: Serialize>(value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|e| StoreError::Other(Box::new(e)))
}

/// A stored JSON value read back.
pub(crate) fn from_json<T: DeserializeOwned>(what: &'static str, text: &str) -> Result<T, StoreError> {
    serde_json::from_str(text).map_err(|e| corrupt(what, e))
}

/// Ids as one `text[]` parameter, for `= any($n)`.
pub(crate) fn id_strs(ids: &[ObjectId]) -> Vec<&str> {
    ids.iter().map(ObjectId::as_str).collect()
}

/// Typed column access that maps errors, so row mappers read as plain field lists.
pub(crate) trait RowExt {
    /// A text column.
    fn text(&self, column: &str) -> Result<String, StoreError>;
    /// A nullable text column.
    fn opt_text(&self, column: &str) -> Result<Option<String>, StoreError>;
    /// An integer column of any width (`bigint`, `integer` or `smallint`).
    fn int(&self, column: &str) -> Result<i64, StoreError>;
    /// A nullable integer column of any width.
    fn opt_int(&self, column: &str) -> Result<Option<i64>, StoreError>;
    /// An id column.
    fn id(&self, column: &str) -> Result<ObjectId, StoreError> {
        self.text(column).map(ObjectId::from_trusted)
    }
    /// A nullable id column.
    fn opt_id(&self, column: &str) -> Result<Option<ObjectId>, StoreError> {
        Ok(self.opt_text(column)?.map(ObjectId::from_trusted))
    }
    /// A time column.
    fn time(&self, column: &str) -> Result<DateTime<Utc>, StoreError> {
        time(self.int(column)?)
    }
    /// A nullable time column.
    fn opt_time(&self, column: &str) -> Result<Option<DateTime<Utc>>, StoreError> {
        self.opt_int(column)?.map(time).transpose()
    }
    /// A JSON column.
    fn json<T: DeserializeOwned>(&self, column: &'static str) -> Result<T, StoreError> {
        from_json(column, &self.text(column)?)
    }
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

impl RowExt for PgRow {
    fn text(&self, column: &str) -> Result<String, StoreError> {
        self.try_get(column).map_err(map_err)
    }

    fn opt_text(&self, column: &str) -> Result<Option<String>, StoreError> {
        self.try_get(column).map_err(map_err)
    }

    fn int(&self, column: &str) -> Result<i64, StoreError> {
        self.opt_int(column)?.ok_or_else(|| corrupt("integer", format!("{column} is null")))
    }

    fn opt_int(&self, column: &str) -> Result<Option<i64>, StoreError> {
        any_int(self, column).map_err(map_err)
    }
}
