//! The operator key check: an axum extractor guarding every `/operator/v1` route.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;

use crate::auth::bearer_token;
use crate::auth::secrets::verify_key_digest;
use crate::error::ApiError;
use crate::state::AppState;

/// Proof that the request carried the operator key (`Authorization: Bearer <key>`).
#[derive(Debug, Clone, Copy)]
pub struct Operator;

impl FromRequestParts<AppState> for Operator {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let presented = bearer_token(&parts.headers).ok_or(ApiError::Unauthenticated("operator key required"))?;
        let digest = state
            .operator_key_hash
            .as_ref()
            .ok_or(ApiError::Unauthenticated("the operator API is disabled: no operator key is configured"))?;
        if verify_key_digest(presented, digest) {
            Ok(Operator)
        } else {
            Err(ApiError::Unauthenticated("invalid operator key"))
        }
    }
}
