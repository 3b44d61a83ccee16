//! `listen`: a webhook receiver that verifies `Seek-Signature` in constant time, records the
//! events in the durable inbox, answers 204 at once, and lets a worker export in the background;
//! a poller reads the events stream on an interval to fill any gap a lost webhook left.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State as AxumState};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use candex_client::{WebhookBody, WebhookVerifier};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::state::InboxEvent;
use crate::{ExportError, Exporter, Summary};

/// Largest webhook body accepted (SEEK sends at most 10 small events).
pub const MAX_BODY_BYTES: usize = 256 * 1024;

/// How often the worker looks for failed exports that are due again.
const RETRY_TICK: Duration = Duration::from_secs(5);

/// What `listen` does.
#[derive(Clone)]
pub struct ListenOptions {
    /// Address to bind.
    pub bind: SocketAddr,
    /// The subscription's signing secret; `None` accepts unsigned requests.
    pub secret: Option<Vec<u8>>,
    /// `events(schemeId)` for the gap-filling poll.
    pub scheme_id: String,
    /// Pause between gap-filling polls (`None`: no polling).
    pub poll_interval: Option<Duration>,
    /// On a first run (no saved cursor), poll from this stream time (RFC 3339).
    pub since: Option<String>,
}

impl std::fmt::Debug for ListenOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ListenOptions")
            .field("bind", &self.bind)
            .field("secret", &self.secret.as_ref().map(|_| "<redacted>"))
            .field("scheme_id", &self.scheme_id)
            .field("poll_interval", &self.poll_interval)
            .field("since", &self.since)
            .finish()
    }
}

struct Receiver {
    exporter: Arc<Exporter>,
    /// Checks `Seek-Signature` with the subscription secret; `None` accepts unsigned requests.
    verifier: Option<WebhookVerifier>,
    wake: Arc<Notify>,
}

/// Binds, then serves until `cancel`; `ready` gets the bound address once accepting.
pub async fn run(
    exporter: Arc<Exporter>,
    options: ListenOptions,
    cancel: CancellationToken,
    ready: impl FnOnce(SocketAddr),
) -> Result<Summary, ExportError> {
    let listener = tokio::net::TcpListener::bind(options.bind)
        .await
        .map_err(|e| ExportError::Config(format!("cannot listen on {}: {e}", options.bind)))?;
    let addr = listener.local_addr().map_err(|e| ExportError::Config(format!("listener address: {e}")))?;
    let retried = exporter.state().retry_failed_now().await?;
    if retried > 0 {
        tracing::info!(retried, "retrying exports that failed in an earlier run");
    }
    let wake = Arc::new(Notify::new());
    let verifier = options.secret.clone().map(WebhookVerifier::new);
    let receiver = Arc::new(Receiver { exporter: exporter.clone(), verifier, wake: wake.clone() });
    let app = Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/", post(receive))
        .route("/{*path}", post(receive))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(receiver);

    let worker = {
        let (exporter, cancel, wake) = (exporter.clone(), cancel.clone(), wake.clone());
        tokio::spawn(async move {
            loop {
                if let Err(e) = exporter.export_due(&cancel).await {
                    // Nothing would be exported any more: stop the receiver too, so the
                    // failure is seen (events already accepted stay in the inbox).
                    cancel.cancel();
                    return Err(e);
                }
                tokio::select! {
                    _ = wake.notified() => {}
                    _ = tokio::time::sleep(RETRY_TICK) => {}
                    _ = cancel.cancelled() => return Ok::<_, ExportError>(()),
                }
            }
        })
    };
    let poller = options.poll_interval.map(|interval| {
        let (exporter, cancel, wake, scheme) =
            (exporter.clone(), cancel.clone(), wake.clone(), options.scheme_id.clone());
        let since = options.since.clone();
        tokio::spawn(async move {
            loop {
                match exporter.pull(&scheme, since.clone(), &cancel).await {
                    Ok(0) => {}
                    Ok(new) => {
                        tracing::info!(new, "the events poll found events no webhook delivered");
                        wake.notify_one();
                    }
                    Err(e) if e.is_fatal() => {
                        cancel.cancel();
                        return Err(e);
                    }
                    Err(e) => tracing::warn!(error = %e, "events poll failed; trying again at the next poll"),
                }
                tokio::select! {
                    _ = tokio::time::sleep(interval) => {}
                    _ = cancel.cancelled() => return Ok::<_, ExportError>(()),
                }
            }
        })
    });

    ready(addr);
    let shutdown = cancel.clone();
    let served = axum::serve(listener, app).with_graceful_shutdown(async move { shutdown.cancelled().await }).await;
    // Whatever stopped first (a signal, or a fatal error in a task), stop the rest.
    cancel.cancel();
    let worker_result = worker.await.map_err(|e| ExportError::Unusable(format!("export worker failed: {e}")))?;
    if let Some(poller) = poller {
        poller.await.map_err(|e| ExportError::Unusable(format!("events poller failed: {e}")))??;
    }
    worker_result?;
    served.map_err(|e| ExportError::Unusable(format!("webhook listener failed: {e}")))?;
    exporter.summary().await
}

async fn receive(AxumState(receiver): AxumState<Arc<Receiver>>, headers: HeaderMap, body: Bytes) -> Response {
    let request_id = headers.get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    if let Some(verifier) = &receiver.verifier {
        let signature = headers.get("seek-signature").and_then(|v| v.to_str().ok());
        let verified = signature.is_some_and(|s| verifier.verify_seek_signature(&body, s).is_ok());
        if !verified {
            tracing::warn!(%request_id, "webhook refused: missing or invalid Seek-Signature");
            return (StatusCode::BAD_REQUEST, "missing or invalid Seek-Signature\n").into_response();
        }
    }
    let parsed = match WebhookBody::parse(&body) {
        Ok(parsed) => parsed,
        Err(e) => {
            tracing::warn!(%request_id, error = %e, "webhook refused: body is not a webhook payload");
            return (StatusCode::BAD_REQUEST, "body is not a webhook payload\n").into_response();
        }
    };
    let events: Vec<InboxEvent> = parsed.events.iter().filter_map(InboxEvent::from_webhook).collect();
    if events.is_empty() {
        return (StatusCode::BAD_REQUEST, "no events with ids\n").into_response();
    }
    match receiver.exporter.accept(&events).await {
        Ok(new) => {
            tracing::info!(%request_id, events = events.len(), new, "webhook accepted");
            receiver.wake.notify_one();
            StatusCode::NO_CONTENT.into_response()
        }
        Err(e) => {
            // Not acknowledged: the sender retries.
            tracing::error!(%request_id, error = %e, "could not record webhook events");
            (StatusCode::INTERNAL_SERVER_ERROR, "could not record the events\n").into_response()
        }
    }
}
