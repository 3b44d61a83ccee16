//! Plain HTTP: health and metrics routes, the connection-level server ([`serve`]), request
//! budgets ([`rate_limit`]), cross-origin access ([`cors`]) and embedded page assets ([`assets`]).

pub mod assets;
pub mod cors;
pub mod rate_limit;
pub mod serve;

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

/// `GET /metrics`: Prometheus text. Queue depth and age are read from the database now, so
/// every instance on a shared database reports the same queue.
pub async fn metrics(State(state): State<AppState>) -> impl axum::response::IntoResponse {
    match state.store.webhook_queue_stats().await {
        Ok(stats) => state.webhook_metrics.set_queue(stats, chrono::Utc::now()),
        Err(e) => tracing::warn!(error.cause_chain = ?e, "metrics: could not read the webhook queue"),
    }
    (
        [(axum::http::header::CONTENT_TYPE, "application/openmetrics-text; version=1.0.0; charset=utf-8")],
        state.webhook_metrics.encode(),
    )
}
