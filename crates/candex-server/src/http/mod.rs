//! Plain HTTP: health and metrics routes, the connection-level server ([`serve`]), request
//! budgets ([`rate_limit`]), readiness ([`readiness`]), cross-origin access ([`cors`]) and
//! embedded page assets ([`assets`]).

pub mod assets;
pub mod cors;
pub mod rate_limit;
pub mod readiness;
pub mod serve;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;

use crate::state::AppState;

/// `GET /healthz`: liveness. 200 whenever the process serves requests; it looks at neither
/// the database nor the storage (that is `/readyz`, [`readiness`]), so an outage of either
/// does not get a healthy process restarted.
pub async fn healthz(State(state): State<AppState>) -> (StatusCode, Json<serde_json::Value>) {
    (StatusCode::OK, Json(serde_json::json!({"status": "ok", "database": state.store.backend()})))
}

/// `GET /metrics`: every series ([`crate::metrics`]) as OpenMetrics text. The gauges that
/// describe the database (webhook queue, event stream, pools, readiness) are read now, within
/// a bound, so every instance on a shared database reports the same queue; a failed read keeps
/// the last values and the scrape still answers 200.
pub async fn metrics(State(state): State<AppState>) -> impl axum::response::IntoResponse {
    state.metrics.refresh(state.store.as_ref(), &state.blobs, &state.readiness).await;
    (
        [(axum::http::header::CONTENT_TYPE, "application/openmetrics-text; version=1.0.0; charset=utf-8")],
        state.metrics.encode(),
    )
}
