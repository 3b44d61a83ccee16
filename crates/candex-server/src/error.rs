//! Errors of the plain HTTP routes (operator API, health) and their one mapping to responses.
//! GraphQL errors are mapped separately in `graphql::error`; the token endpoint answers in
//! RFC 6749's shape (`auth::oauth`).

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use candex_domain::FieldErrors;
use candex_store::StoreError;
use serde::Serialize;

use crate::operator::service::ServiceError;

/// `Retry-After` of a storage failure: long enough for a restarted service to come back.
const STORAGE_RETRY_AFTER_SECS: u64 = 5;

/// An error answered by a plain HTTP route.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// Missing or wrong credentials (401).
    #[error("{0}")]
    Unauthenticated(&'static str),
    /// Authenticated, but not allowed (403).
    #[error("{0}")]
    Forbidden(String),
    /// The body is not parseable (400).
    #[error("{0}")]
    BadRequest(String),
    /// The body is not JSON (415).
    #[error("request body must be JSON (Content-Type: application/json)")]
    UnsupportedMediaType,
    /// Parseable but invalid input, every field named (422).
    #[error("invalid input: {0}")]
    Invalid(FieldErrors),
    /// The request body exceeds the body limit (413); nothing of it was parsed.
    #[error("the request body is larger than the limit (--max-body-bytes)")]
    BodyTooLarge,
    /// An uploaded file exceeds the size limit, the field named (413).
    #[error("a file is too large: {0}")]
    TooLarge(FieldErrors),
    /// The object in the path does not exist (404).
    #[error("{0}")]
    NotFound(String),
    /// The change conflicts with stored data (409).
    #[error("{0}")]
    Conflict(String),
    /// The caller's request budget is spent (429, with `Retry-After`).
    #[error("too many requests; retry after {} s", crate::http::rate_limit::retry_after_secs(*.0))]
    RateLimited(std::time::Duration),
    /// The database is unreachable (503).
    #[error("service temporarily unavailable")]
    Unavailable,
    /// Attachment storage failed or is unreachable (503, with `Retry-After`); logged once
    /// here with its cause, never shown.
    #[error("attachment storage is temporarily unavailable; retry later")]
    StorageUnavailable(#[source] crate::storage::BlobError),
    /// Anything unexpected (500); logged once here, never shown.
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

/// The JSON error body of every operator route.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ErrorBody {
    /// `UNAUTHENTICATED`, `FORBIDDEN`, `BAD_REQUEST`, `UNSUPPORTED_MEDIA_TYPE`, `BAD_USER_INPUT`,
    /// `PAYLOAD_TOO_LARGE`, `NOT_FOUND`, `CONFLICT`, `RATE_LIMITED`, `UNAVAILABLE`, `STORAGE_UNAVAILABLE`
    /// or `INTERNAL_SERVER_ERROR`.
    pub code: &'static str,
    /// A message safe to show.
    pub message: String,
    /// For `BAD_USER_INPUT`: JSON pointer of each invalid field → what is wrong with it.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<std::collections::HashMap<String, String>>)]
    pub invalid_fields: Option<FieldErrors>,
}

impl ApiError {
    fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            Self::Unauthenticated(_) => (StatusCode::UNAUTHORIZED, "UNAUTHENTICATED"),
            Self::Forbidden(_) => (StatusCode::FORBIDDEN, "FORBIDDEN"),
            Self::BadRequest(_) => (StatusCode::BAD_REQUEST, "BAD_REQUEST"),
            Self::UnsupportedMediaType => (StatusCode::UNSUPPORTED_MEDIA_TYPE, "UNSUPPORTED_MEDIA_TYPE"),
            Self::Invalid(_) => (StatusCode::UNPROCESSABLE_ENTITY, "BAD_USER_INPUT"),
            Self::BodyTooLarge | Self::TooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, "PAYLOAD_TOO_LARGE"),
            Self::NotFound(_) => (StatusCode::NOT_FOUND, "NOT_FOUND"),
            Self::Conflict(_) => (StatusCode::CONFLICT, "CONFLICT"),
            Self::RateLimited(_) => (StatusCode::TOO_MANY_REQUESTS, "RATE_LIMITED"),
            Self::Unavailable => (StatusCode::SERVICE_UNAVAILABLE, "UNAVAILABLE"),
            Self::StorageUnavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, "STORAGE_UNAVAILABLE"),
            Self::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL_SERVER_ERROR"),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        if let Self::Internal(e) = &self {
            tracing::error!(error.cause_chain = ?e, "operator request failed: {e:#}");
        }
        if let Self::StorageUnavailable(e) = &self {
            tracing::error!(error.cause_chain = ?e, "attachment storage failed: {e}");
        }
        let message = self.to_string();
        let retry_after = match &self {
            Self::RateLimited(wait) => Some(crate::http::rate_limit::retry_after_secs(*wait)),
            Self::StorageUnavailable(_) => Some(STORAGE_RETRY_AFTER_SECS),
            _ => None,
        };
        let invalid_fields = match self {
            Self::Invalid(fields) | Self::TooLarge(fields) => Some(fields),
            _ => None,
        };
        let mut response = (status, axum::Json(ErrorBody { code, message, invalid_fields })).into_response();
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if let Some(secs) = retry_after {
            response.headers_mut().insert(header::RETRY_AFTER, secs.into());
        }
        response
    }
}

impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> Self {
        match e {
            ServiceError::Invalid(fields) => Self::Invalid(fields),
            ServiceError::NotFound(what) => Self::NotFound(format!("{what} not found")),
            ServiceError::Conflict(message) => Self::Conflict(message),
            ServiceError::Store(StoreError::Unavailable(_)) => Self::Unavailable,
            ServiceError::Store(other) => Self::Internal(anyhow::Error::new(other)),
            ServiceError::TooLarge(fields) => Self::TooLarge(fields),
            ServiceError::Blobs(e) => Self::from(e),
        }
    }
}

impl From<crate::storage::BlobError> for ApiError {
    /// A failing or unreachable storage is `503 STORAGE_UNAVAILABLE`; a blob the database
    /// references but the storage lacks, or a misconfiguration, is internal.
    fn from(e: crate::storage::BlobError) -> Self {
        use crate::storage::BlobError;
        match e {
            BlobError::Storage(object_store::Error::NotFound { .. }) | BlobError::Config(_) => {
                Self::Internal(anyhow::Error::new(e))
            }
            BlobError::Storage(_) => Self::StorageUnavailable(e),
            BlobError::TooLarge { limit } => {
                Self::TooLarge(FieldErrors::single("", format!("the file is larger than {limit} bytes")))
            }
            BlobError::Source(message) => Self::BadRequest(message),
        }
    }
}
