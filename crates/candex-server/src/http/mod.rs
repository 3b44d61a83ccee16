//! Plain HTTP routes that are neither GraphQL nor operator API: health.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;

use crate::state::AppState;

/// `GET /healthz`: 200 when the database answers, 503 otherwise.
pub async fn healthz(State(state): State<AppState>) -> (StatusCode, Json<serde_json::Value>) {
    match state.store.ping().await {
        Ok(()) => (StatusCode::OK, Json(serde_json::json!({"status": "ok", "database": state.store.backend()}))),
        Err(e) => {
            tracing::warn!(error.cause_chain = ?e, "health check failed: database did not answer");
            (StatusCode::SERVICE_UNAVAILABLE, Json(serde_json::json!({"status": "unavailable"})))
        }
    }
}
