//! `POST /oauth/token`: the client credentials grant. Accepts SEEK's JSON body and RFC 6749's
//! form body (client credentials in the body or in HTTP Basic); errors use RFC 6749's shape.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use serde::{Deserialize, Serialize};

use crate::auth::secrets::verify_secret;
use crate::http::rate_limit::ClientAddress;
use crate::state::AppState;

#[derive(Debug, Default, Deserialize)]
struct TokenRequest {
    grant_type: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
    audience: Option<String>,
}

/// A successful token response.
#[derive(Debug, Serialize)]
pub struct TokenResponse {
    /// The bearer token.
    pub access_token: String,
    /// Seconds until it expires.
    pub expires_in: u64,
    /// Always `Bearer`.
    pub token_type: &'static str,
}

/// An RFC 6749 §5.2 error.
#[derive(Debug)]
pub struct OAuthError {
    status: StatusCode,
    error: &'static str,
    description: String,
    basic_challenge: bool,
    /// Seconds for `Retry-After` (rate limited).
    retry_after: Option<u64>,
}

impl OAuthError {
    fn new(status: StatusCode, error: &'static str, description: impl Into<String>) -> Self {
        Self { status, error, description: description.into(), basic_challenge: false, retry_after: None }
    }

    /// `429 Too Many Requests` after a budget ran out.
    fn rate_limited(wait: std::time::Duration) -> Self {
        let secs = crate::http::rate_limit::retry_after_secs(wait);
        Self {
            retry_after: Some(secs),
            ..Self::new(
                StatusCode::TOO_MANY_REQUESTS,
                "temporarily_unavailable",
                format!("too many token requests; retry after {secs} s"),
            )
        }
    }
}

impl OAuthError {
    /// The metrics reason: the RFC 6749 error code, told apart where one code covers several
    /// causes (`rate_limited` and `unavailable` are both `temporarily_unavailable`).
    fn reason(&self) -> &'static str {
        match self.status {
            StatusCode::TOO_MANY_REQUESTS => "rate_limited",
            StatusCode::SERVICE_UNAVAILABLE => "unavailable",
            StatusCode::INTERNAL_SERVER_ERROR => "server_error",
            _ => self.error,
        }
    }
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({"error": self.error, "error_description": self.description});
        let mut response = (self.status, axum::Json(body)).into_response();
        no_store(response.headers_mut());
        if self.basic_challenge {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Basic realm=\"candex\""));
        }
        if let Some(secs) = self.retry_after {
            response.headers_mut().insert(header::RETRY_AFTER, secs.into());
        }
        response
    }
}

fn no_store(headers: &mut HeaderMap) {
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
}

/// Handles the client credentials grant. Each request is taken from its source address's
/// budget before anything else, and from its client id's budget before the secret is checked.
/// Counts the token issued, or the refusal and its reason ([`crate::metrics`]).
pub async fn token(
    State(state): State<AppState>,
    ClientAddress(address): ClientAddress,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, OAuthError> {
    let result = issue(&state, address, &headers, &body).await;
    match &result {
        Ok(_) => state.metrics.token_issued("partner"),
        Err(e) => state.metrics.token_request_refused("partner", e.reason()),
    }
    result
}

async fn issue(
    state: &AppState,
    address: Option<std::net::IpAddr>,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Response, OAuthError> {
    state.limiter.check_token_address(address).map_err(OAuthError::rate_limited)?;
    let mut request = parse_body(headers, body)?;
    let basic = basic_credentials(headers)?;
    if let Some((id, secret)) = &basic {
        if request.client_id.as_ref().is_some_and(|c| c != id) {
            return Err(OAuthError::new(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "client_id differs between the body and the Authorization header",
            ));
        }
        request.client_id = Some(id.clone());
        request.client_secret = Some(secret.clone());
    }
    match request.grant_type.as_deref() {
        Some("client_credentials") => {}
        Some(_) => {
            return Err(OAuthError::new(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                "only grant_type=client_credentials is supported",
            ))
        }
        None => return Err(OAuthError::new(StatusCode::BAD_REQUEST, "invalid_request", "grant_type is required")),
    }
    if let Some(audience) = request.audience.as_deref() {
        if !state.tokens.accepts_audience(audience) {
            return Err(OAuthError::new(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                format!("unknown audience; this server issues tokens for {}", state.tokens.audience()),
            ));
        }
    }
    let (Some(client_id), Some(client_secret)) = (request.client_id, request.client_secret) else {
        return Err(OAuthError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "client_id and client_secret are required",
        ));
    };
    if let Err(wait) = state.limiter.check_token_client(&client_id) {
        tracing::info!(client_id = %client_id, "token request refused: the client id's budget is spent");
        return Err(OAuthError::rate_limited(wait));
    }
    let invalid_client = || OAuthError {
        basic_challenge: basic.is_some(),
        ..OAuthError::new(StatusCode::UNAUTHORIZED, "invalid_client", "client authentication failed")
    };
    let credentials = state.store.find_partner_credentials(&client_id).await.map_err(|e| {
        tracing::error!(error.cause_chain = ?e, "token request failed: could not read partner credentials");
        OAuthError::new(StatusCode::SERVICE_UNAVAILABLE, "temporarily_unavailable", "try again later")
    })?;
    // Verify against a dummy hash when the client is unknown, so timing does not reveal it.
    const DUMMY_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";
    let stored_hash = credentials.as_ref().map_or(DUMMY_HASH, |c| c.client_secret_hash.as_str());
    // During a rotation the previous secret is valid too; both are always compared, so timing
    // does not reveal which one matched or whether a rotation is under way.
    let previous_hash = credentials.as_ref().and_then(|c| c.previous_client_secret_hash.as_deref());
    let secret_ok =
        verify_secret(&client_secret, stored_hash) | verify_secret(&client_secret, previous_hash.unwrap_or(DUMMY_HASH));
    let partner = match credentials {
        Some(c) if secret_ok => c.partner,
        _ => {
            tracing::info!(client_id = %client_id, "token request refused: bad client credentials");
            return Err(invalid_client());
        }
    };
    state.tokens.refresh().await;
    let issued = state.tokens.issue_partner(&partner.id).map_err(|e| {
        tracing::error!(error.cause_chain = ?e, "token request failed: could not sign");
        OAuthError::new(StatusCode::INTERNAL_SERVER_ERROR, "server_error", "could not issue a token")
    })?;
    tracing::info!(partner.id = %partner.id, "issued a partner token for partner `{}`", partner.id);
    let mut response = axum::Json(TokenResponse {
        access_token: issued.access_token,
        expires_in: issued.expires_in,
        token_type: "Bearer",
    })
    .into_response();
    no_store(response.headers_mut());
    Ok(response)
}

fn parse_body(headers: &HeaderMap, body: &[u8]) -> Result<TokenRequest, OAuthError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.split(';').next().unwrap_or_default().trim().to_ascii_lowercase())
        .unwrap_or_default();
    let bad = |what: &str| OAuthError::new(StatusCode::BAD_REQUEST, "invalid_request", what.to_owned());
    match content_type.as_str() {
        "application/json" => {
            serde_json::from_slice(body).map_err(|_| bad("the body is not a valid JSON token request"))
        }
        "application/x-www-form-urlencoded" => {
            let mut request = TokenRequest::default();
            for (key, value) in url::form_urlencoded::parse(body) {
                let slot = match key.as_ref() {
                    "grant_type" => &mut request.grant_type,
                    "client_id" => &mut request.client_id,
                    "client_secret" => &mut request.client_secret,
                    "audience" => &mut request.audience,
                    _ => continue,
                };
                if slot.is_some() {
                    return Err(bad("parameters must not repeat"));
                }
                *slot = Some(value.into_owned());
            }
            Ok(request)
        }
        "" if body.is_empty() => Ok(TokenRequest::default()),
        _ => Err(bad("Content-Type must be application/json or application/x-www-form-urlencoded")),
    }
}

fn basic_credentials(headers: &HeaderMap) -> Result<Option<(String, String)>, OAuthError> {
    let Some(value) = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()) else {
        return Ok(None);
    };
    let Some((scheme, encoded)) = value.split_once(' ') else { return Ok(None) };
    if !scheme.eq_ignore_ascii_case("basic") {
        return Ok(None);
    }
    let bad = || OAuthError {
        basic_challenge: true,
        ..OAuthError::new(StatusCode::UNAUTHORIZED, "invalid_client", "malformed Basic credentials")
    };
    let decoded = base64::engine::general_purpose::STANDARD.decode(encoded.trim()).map_err(|_| bad())?;
    let decoded = String::from_utf8(decoded).map_err(|_| bad())?;
    let (id, secret) = decoded.split_once(':').ok_or_else(bad)?;
    // RFC 6749 §2.3.1: both parts are form-urlencoded before Basic encoding.
    let unescape =
        |s: &str| url::form_urlencoded::parse(format!("x={s}").as_bytes()).next().map(|(_, v)| v.into_owned());
    Ok(Some((unescape(id).ok_or_else(bad)?, unescape(secret).ok_or_else(bad)?)))
}
