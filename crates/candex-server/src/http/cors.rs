//! Cross-origin access for browser tokens (`tower_http::cors`): a hirer's browser, on the
//! partner's web app, calls `POST /graphql` and downloads attachments with a browser token.
//! Only the configured origins are allowed (none by default); only those two routes answer
//! CORS, since partner tokens and client secrets must never be used from a browser. No
//! cookies are involved (tokens travel in `Authorization`), so credentials are not allowed.

use std::time::Duration;

use axum::http::{header, HeaderName, HeaderValue, Method};
use tower_http::cors::{AllowOrigin, CorsLayer};

/// Request headers a browser may send: the token, the JSON body's type, and SEEK's tracing
/// and localisation headers (`X-Request-Id`, `X-Session-Id`, `Accept-Language`).
pub const ALLOWED_HEADERS: [HeaderName; 6] = [
    header::AUTHORIZATION,
    header::CONTENT_TYPE,
    header::ACCEPT,
    header::ACCEPT_LANGUAGE,
    HeaderName::from_static("x-request-id"),
    HeaderName::from_static("x-session-id"),
];

/// Response headers a page may read: what a download needs to name and resume a file, and
/// `Retry-After` after a `429`.
pub const EXPOSED_HEADERS: [HeaderName; 6] = [
    header::CONTENT_DISPOSITION,
    header::CONTENT_RANGE,
    header::ACCEPT_RANGES,
    header::LAST_MODIFIED,
    header::RETRY_AFTER,
    HeaderName::from_static("x-request-id"),
];

/// How long a browser may cache a preflight answer.
const PREFLIGHT_MAX_AGE: Duration = Duration::from_secs(600);

/// Normalises a configured origin to `scheme://host[:port]`, or says what is wrong with it;
/// `*` (any origin) is kept as is.
pub fn parse_origin(value: &str) -> Result<String, String> {
    let value = value.trim();
    if value == "*" {
        return Ok(value.to_owned());
    }
    let url = url::Url::parse(value)
        .map_err(|e| format!("{value:?} is not an origin ({e}); write https://app.example.com"))?;
    let bare = url.path() == "/" && url.query().is_none() && url.fragment().is_none() && url.username().is_empty();
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() || !bare || value.ends_with('/') {
        return Err(format!("{value:?} is not an origin: write scheme://host[:port], as in https://app.example.com"));
    }
    Ok(url.origin().ascii_serialization())
}

/// The layer for the browser-token routes: preflights answered, the `origins` (already
/// [`parse_origin`]d) allowed. With no origins every preflight is answered without
/// `Access-Control-Allow-Origin`, so browsers refuse every cross-origin call.
pub fn layer(origins: &[String]) -> CorsLayer {
    let allow = if origins.iter().any(|o| o == "*") {
        AllowOrigin::any()
    } else {
        AllowOrigin::list(origins.iter().filter_map(|o| HeaderValue::from_str(o).ok()))
    };
    CorsLayer::new()
        .allow_origin(allow)
        .allow_methods([Method::GET, Method::HEAD, Method::POST])
        .allow_headers(ALLOWED_HEADERS)
        .expose_headers(EXPOSED_HEADERS)
        .max_age(PREFLIGHT_MAX_AGE)
}

#[cfg(test)]
mod tests {
    use super::parse_origin;

    #[test]
    fn origins_are_normalised_and_anything_else_refused() {
        assert_eq!(parse_origin("https://App.Example.com").unwrap(), "https://app.example.com");
        assert_eq!(parse_origin("http://localhost:3000").unwrap(), "http://localhost:3000");
        assert_eq!(parse_origin("https://a.example:443").unwrap(), "https://a.example");
        assert_eq!(parse_origin("*").unwrap(), "*");
        for bad in ["app.example.com", "https://a.example/path", "https://a.example/", "ftp://a.example", "null", ""] {
            assert!(parse_origin(bad).is_err(), "{bad}");
        }
    }
}
