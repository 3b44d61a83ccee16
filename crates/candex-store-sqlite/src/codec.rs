//! Conversions between domain values and their stored form: unix milliseconds for times,
//! JSON text for structured values, and ids read back from rows.

use candex_domain::ObjectId;
use candex_store::StoreError;
use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde::Serialize;
use sqlx::sqlite::SqliteRow;
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

/// A structured value as stored: JSON text.
pub(crate) fn to_json<T: Serialize>(value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|e| StoreError::Other(Box::new(e)))
}

/// A stored JSON value read back.
pub(crate) fn from_json<T: DeserializeOwned>(what: &'static str, text: &str) -> Result<T, StoreError> {
    serde_json::from_str(text).map_err(|e| corrupt(what, e))
}

/// Typed column access that maps errors, so row mappers read as plain field lists.
pub(crate) trait RowExt {
    /// A text column.
    fn text(&self, column: &str) -> Result<String, StoreError>;
    /// A nullable text column.
    fn opt_text(&self, column: &str) -> Result<Option<String>, StoreError>;
    /// An integer column.
    fn int(&self, column: &str) -> Result<i64, StoreError>;
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
    /// A JSON column.
    fn json<T: DeserializeOwned>(&self, column: &'static str) -> Result<T, StoreError> {
        from_json(column, &self.text(column)?)
    }
}

impl RowExt for SqliteRow {
    fn text(&self, column: &str) -> Result<String, StoreError> {
        self.try_get(column).map_err(map_err)
    }

    fn opt_text(&self, column: &str) -> Result<Option<String>, StoreError> {
        self.try_get(column).map_err(map_err)
    }

    fn int(&self, column: &str) -> Result<i64, StoreError> {
        self.try_get(column).map_err(map_err)
    }
}
