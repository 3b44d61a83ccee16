//! `POST /auth/token`: a partner exchanges its partner token for a browser token bound to one
//! hirer and a set of scopes, safe to hand to that hirer's users in a browser.

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use candex_domain::{FieldErrors, HirerId};
use serde::Deserialize;

use super::oauth::TokenResponse;
use crate::error::ApiError;
use crate::operator::json::JsonBody;
use crate::operator::service::ServiceError;
use crate::state::AppState;

/// The scopes SEEK defines for browser tokens. candex grants what it implements
/// (`query:organizations`, `query:position-profiles`, `query:application-questionnaires`,
/// `download:candidate-profile-attachments`); the others are accepted and grant nothing more.
pub const SCOPES: [&str; 10] = [
    "download:candidate-profile-attachments",
    "query:organizations",
    "query:position-profiles",
    "query:application-questionnaires",
    "mutate:application-questionnaires",
    "query:application-library-question-suggestions",
    "query:ad-products",
    "query:advertisement-brandings",
    "query:ontologies",
    "query:posted-position-profile-previews",
];

/// The request body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct BrowserTokenRequest {
    /// The hirer the token is bound to.
    pub hirer_id: Option<String>,
    /// Space-separated scopes.
    pub scope: Option<String>,
    /// The partner's anonymous id of the end user (no personal data).
    pub user_id: Option<String>,
}

struct Validated {
    hirer_id: HirerId,
    scopes: Vec<String>,
    user_id: String,
}

fn validate(request: BrowserTokenRequest) -> Result<Validated, FieldErrors> {
    let mut errors = FieldErrors::new();
    // SEEK asks partners to trim pasted hirer ids; candex trims too.
    let hirer_id = match request.hirer_id.as_deref().map(str::trim) {
        None | Some("") => {
            errors.add("/hirerId", "is required");
            None
        }
        Some(id) => HirerId::parse(id).map_err(|e| errors.add("/hirerId", e.to_string())).ok(),
    };
    let mut scopes: Vec<String> = Vec::new();
    match request.scope.as_deref().map(str::split_whitespace) {
        None => errors.add("/scope", "is required: space-separated scopes such as query:organizations"),
        Some(parts) => {
            for part in parts {
                if !SCOPES.contains(&part) {
                    errors.add("/scope", format!("unknown scope {part:?}; known scopes: {}", SCOPES.join(" ")));
                } else if !scopes.iter().any(|s| s == part) {
                    scopes.push(part.to_owned());
                }
            }
            if scopes.is_empty() {
                errors.add("/scope", "names no scope");
            }
        }
    }
    let user_id = match request.user_id {
        Some(u) if !u.trim().is_empty() && u.len() <= 255 && !u.chars().any(char::is_control) => Some(u),
        Some(_) => {
            errors.add("/userId", "must be 1 to 255 characters without control characters");
            None
        }
        None => {
            errors.add("/userId", "is required (an anonymous id of the end user)");
            None
        }
    };
    match (hirer_id, user_id) {
        (Some(hirer_id), Some(user_id)) if errors.is_empty() => Ok(Validated { hirer_id, scopes, user_id }),
        _ => Err(errors),
    }
}

/// Issues a browser token; counts it, or the refusal and its reason ([`crate::metrics`]).
pub async fn token(
    State(state): State<AppState>,
    headers: HeaderMap,
    JsonBody(request): JsonBody<BrowserTokenRequest>,
) -> Result<Response, ApiError> {
    let result = issue(&state, &headers, request).await;
    match &result {
        Ok(_) => state.metrics.token_issued("browser"),
        Err(e) => state.metrics.token_request_refused("browser", refusal_reason(e)),
    }
    result
}

/// The metrics reason of a refused browser token request.
fn refusal_reason(error: &ApiError) -> &'static str {
    match error {
        ApiError::Unauthenticated(_) => "unauthenticated",
        ApiError::Forbidden(_) => "forbidden",
        ApiError::BadRequest(_)
        | ApiError::UnsupportedMediaType
        | ApiError::Invalid(_)
        | ApiError::BodyTooLarge
        | ApiError::TooLarge(_)
        | ApiError::NotFound(_)
        | ApiError::Conflict(_) => "invalid_request",
        ApiError::RateLimited(_) => "rate_limited",
        ApiError::Unavailable | ApiError::StorageUnavailable(_) => "unavailable",
        ApiError::Internal(_) => "server_error",
    }
}

async fn issue(state: &AppState, headers: &HeaderMap, request: BrowserTokenRequest) -> Result<Response, ApiError> {
    let presented = super::bearer_token(headers).ok_or(ApiError::Unauthenticated("a partner token is required"))?;
    let caller = state.tokens.authenticate(presented).await.map_err(|e| {
        state.metrics.token_verification_refused(e.reason());
        match e {
            super::tokens::TokenError::Expired => ApiError::Unauthenticated("the partner token is expired"),
            super::tokens::TokenError::Invalid => ApiError::Unauthenticated("the partner token is invalid"),
        }
    })?;
    let not_before = state
        .store
        .partner_tokens_not_before(&caller.partner_id)
        .await
        .map_err(|e| ApiError::from(ServiceError::Store(e)))?;
    if caller.is_revoked_by(not_before) {
        state.metrics.token_verification_refused(super::tokens::REVOKED);
        return Err(ApiError::Unauthenticated("the partner token was revoked; request a new one"));
    }
    if !caller.is_partner() {
        return Err(ApiError::Unauthenticated("a partner token is required; browser tokens cannot issue tokens"));
    }
    state.limiter.partner.check(&caller.partner_id).map_err(ApiError::RateLimited)?;
    let request = validate(request).map_err(ApiError::Invalid)?;
    let relationships = state
        .store
        .relationships(&caller.partner_id, &request.hirer_id)
        .await
        .map_err(|e| ApiError::from(ServiceError::Store(e)))?;
    if relationships.is_empty() {
        return Err(ApiError::Forbidden("the partner has no relationship with this hirer".into()));
    }
    state.tokens.refresh().await;
    let issued = state
        .tokens
        .issue_browser(&caller.partner_id, &request.hirer_id, &request.scopes, &request.user_id)
        .map_err(ApiError::Internal)?;
    tracing::info!(partner.id = %caller.partner_id, hirer.id = %request.hirer_id,
        "issued a browser token for hirer `{}`", request.hirer_id);
    let mut response = axum::Json(TokenResponse {
        access_token: issued.access_token,
        expires_in: issued.expires_in,
        token_type: "Bearer",
    })
    .into_response();
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}
