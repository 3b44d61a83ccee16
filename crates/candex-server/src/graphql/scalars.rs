//! The custom scalars of SEEK's schema: `DateTime` (RFC 3339, UTC, milliseconds, `Z`) and
//! `HistoryDate` (`YYYY`, `YYYY-MM` or `YYYY-MM-DD`).

use async_graphql::{InputValueError, InputValueResult, Scalar, ScalarType, Value};
use candex_domain::time::format_rfc3339_ms;

/// `DateTime`: an RFC 3339 timestamp in UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateTime(pub chrono::DateTime<chrono::Utc>);

#[Scalar(name = "DateTime")]
impl ScalarType for DateTime {
    fn parse(value: Value) -> InputValueResult<Self> {
        match &value {
            Value::String(s) => chrono::DateTime::parse_from_rfc3339(s)
                .map(|t| DateTime(t.with_timezone(&chrono::Utc)))
                .map_err(|_| InputValueError::custom("must be an RFC 3339 date-time such as 2019-09-13T22:16:10.593Z")),
            _ => Err(InputValueError::expected_type(value)),
        }
    }

    fn to_value(&self) -> Value {
        Value::String(format_rfc3339_ms(&self.0))
    }
}

/// `HistoryDate`: a partial date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryDate(pub candex_domain::HistoryDate);

#[Scalar(name = "HistoryDate")]
impl ScalarType for HistoryDate {
    fn parse(value: Value) -> InputValueResult<Self> {
        match &value {
            Value::String(s) => candex_domain::HistoryDate::parse(s).map(HistoryDate).map_err(InputValueError::custom),
            _ => Err(InputValueError::expected_type(value)),
        }
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.as_str().to_owned())
    }
}
