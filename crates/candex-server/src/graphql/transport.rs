//! GraphQL over HTTP: reading a request within its limits, choosing the response's media type
//! from `Accept`, and writing responses and refusals with the status the GraphQL-over-HTTP
//! spec gives for that media type. A GraphQL response with errors carries a
//! [`GraphqlErrorTally`] of them in its extensions, which the handler records in the metrics.

use async_graphql_axum::GraphQLResponse;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use super::guard;
use crate::metrics::GraphqlErrorTally;
use crate::state::AppState;

/// The media type of a GraphQL response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaType {
    /// `application/json`: SEEK's documented transport and what legacy clients expect; every
    /// well-formed GraphQL request is answered `200`, request errors included.
    Json,
    /// `application/graphql-response+json`: request errors (parse, validation, limits) are
    /// answered `400`.
    GraphqlResponse,
}

const GRAPHQL_RESPONSE_JSON: &str = "application/graphql-response+json";

impl MediaType {
    /// The type the client prefers: `application/graphql-response+json` when its `Accept`
    /// names it at least as highly as `application/json`; otherwise `application/json`
    /// (also for `*/*`, no `Accept` at all, or only types candex does not produce).
    pub fn negotiate(headers: &HeaderMap) -> Self {
        let mut graphql_response = 0.0f32;
        let mut json = 0.0f32;
        for value in headers.get_all(header::ACCEPT) {
            let Ok(value) = value.to_str() else { continue };
            for range in value.split(',') {
                let mut params = range.split(';');
                let media = params.next().unwrap_or_default().trim().to_ascii_lowercase();
                let q = params
                    .filter_map(|p| p.trim().strip_prefix("q="))
                    .find_map(|q| q.trim().parse::<f32>().ok())
                    .unwrap_or(1.0);
                match media.as_str() {
                    GRAPHQL_RESPONSE_JSON => graphql_response = graphql_response.max(q),
                    "application/json" => json = json.max(q),
                    _ => {}
                }
            }
        }
        if graphql_response > 0.0 && graphql_response >= json {
            Self::GraphqlResponse
        } else {
            Self::Json
        }
    }

    fn content_type(self) -> HeaderValue {
        HeaderValue::from_static(match self {
            Self::Json => "application/json",
            Self::GraphqlResponse => GRAPHQL_RESPONSE_JSON,
        })
    }

    /// The status of a GraphQL request error (it was not executed).
    fn request_error_status(self) -> StatusCode {
        match self {
            Self::Json => StatusCode::OK,
            Self::GraphqlResponse => StatusCode::BAD_REQUEST,
        }
    }
}

/// Writes an executed (or refused) GraphQL response as `media`; `request_error` when it was
/// refused before execution, which the GraphQL-over-HTTP spec answers without a `data` key.
/// Either way a response with errors carries their [`GraphqlErrorTally`] for the metrics.
pub fn respond(media: MediaType, response: async_graphql::Response, request_error: bool) -> Response {
    if request_error {
        return errors_only(media, media.request_error_status(), response.errors);
    }
    // Only a response with errors carries a tally: an extension costs an allocation.
    let tally = (!response.errors.is_empty()).then(|| GraphqlErrorTally::of(&response.errors));
    let mut out = GraphQLResponse::from(response).into_response();
    out.headers_mut().insert(header::CONTENT_TYPE, media.content_type());
    if let Some(tally) = tally {
        out.extensions_mut().insert(tally);
    }
    out
}

/// A GraphQL response without errors, already serialised (the direct answer,
/// [`super::direct`]): what [`respond`] writes for it, status, type and all.
pub fn respond_serialized(media: MediaType, body: Vec<u8>) -> Response {
    let mut out = (StatusCode::OK, body).into_response();
    out.headers_mut().insert(header::CONTENT_TYPE, media.content_type());
    out
}

/// A GraphQL request error (parse, validation, a limit), answered as `media` says.
pub fn request_error(media: MediaType, error: async_graphql::ServerError) -> Response {
    errors_only(media, media.request_error_status(), vec![error])
}

/// A refusal at the HTTP level (body too large, not a GraphQL request, rate limited), with a
/// fixed `status` whatever the media type.
fn refused(media: MediaType, status: StatusCode, error: async_graphql::ServerError) -> Response {
    errors_only(media, status, vec![error])
}

/// A response to a request that was not executed: `{"errors": [...]}` and no `data` key, as
/// the GraphQL-over-HTTP spec requires of request errors (async-graphql's own serialisation
/// would write `"data": null`, which means "executed, and the root failed").
fn errors_only(media: MediaType, status: StatusCode, errors: Vec<async_graphql::ServerError>) -> Response {
    let tally = GraphqlErrorTally::of(&errors);
    #[derive(serde::Serialize)]
    struct RequestErrors {
        errors: Vec<async_graphql::ServerError>,
    }
    let body = match serde_json::to_vec(&RequestErrors { errors }) {
        Ok(body) => body,
        // A ServerError always serialises; answer rather than panic.
        Err(_) => br#"{"errors":[{"message":"Internal server error"}]}"#.to_vec(),
    };
    let mut out = (status, body).into_response();
    out.headers_mut().insert(header::CONTENT_TYPE, media.content_type());
    out.extensions_mut().insert(tally);
    out
}

/// `429 Too Many Requests` with `Retry-After`, as a GraphQL error.
pub fn too_many_requests(media: MediaType, wait: std::time::Duration) -> Response {
    let secs = crate::http::rate_limit::retry_after_secs(wait);
    let mut response = refused(
        media,
        StatusCode::TOO_MANY_REQUESTS,
        guard::coded_error(
            format!("Too many requests; retry after {secs} s."),
            crate::http::rate_limit::RATE_LIMITED,
            None,
        ),
    );
    response.headers_mut().insert(header::RETRY_AFTER, secs.into());
    response
}

/// The GraphQL request in the body: not multipart, within the body limit, its JSON within the
/// nesting limit, and shaped as a GraphQL request; or the response refusing it.
pub async fn read_request(
    state: &AppState,
    headers: &HeaderMap,
    media: MediaType,
    body: axum::body::Body,
) -> Result<async_graphql::Request, Response> {
    if is_multipart(headers) {
        return Err(refused(
            media,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            guard::coded_error(
                "Multipart requests are not accepted: no operation takes a file. Send application/json.",
                guard::BAD_REQUEST,
                None,
            ),
        ));
    }
    let body = read_body(headers, media, body, state.max_body_bytes).await?;
    state.guard.check_json(&body).map_err(|refusal| request_error(media, refusal.into_server_error()))?;
    serde_json::from_slice::<async_graphql::Request>(&body).map_err(|e| {
        refused(
            media,
            StatusCode::BAD_REQUEST,
            guard::coded_error(format!("The body is not a GraphQL request: {e}"), guard::BAD_REQUEST, None),
        )
    })
}

fn is_multipart(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim_start().to_ascii_lowercase().starts_with("multipart/"))
}

/// Reads the body, refusing it with `413` as soon as it is known to exceed `limit`: from
/// `Content-Length` before reading, or while reading a body without one.
async fn read_body(
    headers: &HeaderMap,
    media: MediaType,
    body: axum::body::Body,
    limit: usize,
) -> Result<bytes::Bytes, Response> {
    let too_large = || {
        refused(
            media,
            StatusCode::PAYLOAD_TOO_LARGE,
            guard::coded_error(
                format!("The request body is larger than {limit} bytes."),
                guard::LIMIT_EXCEEDED,
                Some("bodyBytes"),
            ),
        )
    };
    let declared =
        headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(too_large());
    }
    match axum::body::to_bytes(body, limit).await {
        Ok(bytes) => Ok(bytes),
        Err(e) if is_length_limit(&e) => Err(too_large()),
        Err(e) => Err(refused(
            media,
            StatusCode::BAD_REQUEST,
            guard::coded_error(format!("The request body could not be read: {e}"), guard::BAD_REQUEST, None),
        )),
    }
}

fn is_length_limit(error: &axum::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(e) = source {
        if e.is::<http_body_util::LengthLimitError>() {
            return true;
        }
        source = e.source();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accept(value: Option<&str>) -> MediaType {
        let mut headers = HeaderMap::new();
        if let Some(v) = value {
            headers.insert(header::ACCEPT, HeaderValue::from_str(v).unwrap());
        }
        MediaType::negotiate(&headers)
    }

    #[test]
    fn accept_picks_the_media_type() {
        assert_eq!(accept(None), MediaType::Json);
        assert_eq!(accept(Some("*/*")), MediaType::Json);
        assert_eq!(accept(Some("application/json")), MediaType::Json);
        assert_eq!(accept(Some("text/html")), MediaType::Json);
        assert_eq!(accept(Some("application/graphql-response+json")), MediaType::GraphqlResponse);
        // Apollo Client and graphql-request.
        assert_eq!(
            accept(Some("application/graphql-response+json,application/json;q=0.9")),
            MediaType::GraphqlResponse
        );
        assert_eq!(accept(Some("application/graphql-response+json, application/json")), MediaType::GraphqlResponse);
        assert_eq!(accept(Some("application/json, application/graphql-response+json;q=0.5")), MediaType::Json);
        assert_eq!(accept(Some("application/graphql-response+json;q=0")), MediaType::Json);
    }
}
