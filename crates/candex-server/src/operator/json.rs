//! A JSON body extractor that names the offending field: syntax errors are 400, shape errors
//! (wrong type, unknown field) are 422 with the field's JSON pointer.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{header, StatusCode};
use candex_domain::errors::escape_token;
use candex_domain::FieldErrors;
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// A JSON request body of type `T`.
#[derive(Debug)]
pub struct JsonBody<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.split(';').next().unwrap_or_default().trim().to_ascii_lowercase())
            .is_some_and(|ct| ct == "application/json" || ct.ends_with("+json"));
        if !is_json {
            return Err(ApiError::UnsupportedMediaType);
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::BodyTooLarge
            } else {
                ApiError::BadRequest(format!("could not read the request body: {}", e.body_text()))
            }
        })?;
        parse(&bytes).map(JsonBody)
    }
}

/// Parses JSON bytes into `T`, mapping errors as the extractor does. Also used by `import`.
pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    // Syntax first: a typed parse stops at the first unknown field or wrong type, which would
    // turn a truncated body such as `{"a":` into a 422 instead of a 400.
    serde_json::from_slice::<serde::de::IgnoredAny>(bytes)
        .map_err(|e| ApiError::BadRequest(format!("invalid JSON: {e}")))?;
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value: T = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let inner = e.inner();
        if inner.is_syntax() || inner.is_eof() {
            ApiError::BadRequest(format!("invalid JSON: {inner}"))
        } else {
            let pointer: String = e
                .path()
                .iter()
                .filter_map(|segment| match segment {
                    serde_path_to_error::Segment::Seq { index } => Some(format!("/{index}")),
                    serde_path_to_error::Segment::Map { key } => Some(format!("/{}", escape_token(key))),
                    serde_path_to_error::Segment::Enum { variant } => Some(format!("/{}", escape_token(variant))),
                    serde_path_to_error::Segment::Unknown => None,
                })
                .collect();
            let message = inner.to_string();
            let message = message.split(" at line ").next().unwrap_or_default().to_owned();
            ApiError::Invalid(FieldErrors::single(pointer, message))
        }
    })?;
    de.end().map_err(|e| ApiError::BadRequest(format!("invalid JSON: {e}")))?;
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use candex_domain::input::ApplicationInput;

    #[test]
    fn type_errors_name_the_field() {
        let err = parse::<ApplicationInput>(br#"{"employment": [{"organization": {"name": 5}}]}"#).unwrap_err();
        match err {
            ApiError::Invalid(fields) => {
                let (ptr, msg) = fields.iter().next().unwrap();
                assert_eq!(ptr, "/employment/0/organization/name");
                assert!(msg.contains("expected a string"), "{msg}");
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn syntax_errors_are_bad_requests() {
        assert!(matches!(parse::<ApplicationInput>(b"{\"a\":"), Err(ApiError::BadRequest(_))));
        assert!(matches!(parse::<ApplicationInput>(b"{} x"), Err(ApiError::BadRequest(_))));
    }
}
