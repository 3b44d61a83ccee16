//! Authentication: partner client secrets, signed tokens, the partner and browser token
//! endpoints and the operator key check.

pub mod browser;
pub mod master_key;
pub mod oauth;
pub mod operator_key;
pub mod secrets;
pub mod tokens;

/// The token of an `Authorization: Bearer …` header (scheme case-insensitive), if any.
pub fn bearer_token(headers: &axum::http::HeaderMap) -> Option<&str> {
    let value = headers.get(axum::http::header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}
