//! `sync`: read the events stream from the saved cursor into the inbox, export everything due,
//! and stop when caught up — or, with `follow`, poll again every interval until cancelled.

use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::{ExportError, Exporter, Summary};

/// What `sync` does.
#[derive(Debug, Clone)]
pub struct SyncOptions {
    /// `events(schemeId)`.
    pub scheme_id: String,
    /// On a first run (no saved cursor), start at this stream time (RFC 3339) instead of the start.
    pub since: Option<String>,
    /// Keep polling after catching up.
    pub follow: bool,
    /// Pause between polls with `follow`.
    pub poll_interval: Duration,
    /// Retry exports rejected earlier (profile gone or forbidden), e.g. after a hirer restored
    /// the relationship.
    pub retry_rejected: bool,
}

/// Runs `sync` until caught up (or cancelled, with `follow`).
pub async fn run(
    exporter: &Exporter,
    options: &SyncOptions,
    cancel: &CancellationToken,
) -> Result<Summary, ExportError> {
    let retried = exporter.state().retry_failed_now().await?;
    if retried > 0 {
        tracing::info!(retried, "retrying exports that failed in an earlier run");
    }
    if options.retry_rejected {
        let requeued = exporter.state().requeue_rejected().await?;
        tracing::info!(requeued, "retrying exports rejected in earlier runs");
    }
    loop {
        exporter.progress().phase("reading events");
        match exporter.pull(&options.scheme_id, options.since.clone(), cancel).await {
            Ok(new) => exporter.progress().phase(&format!("{new} new events; exporting")),
            // Following, a server outage is waited out; the events stay where the cursor left them.
            Err(e) if options.follow && !e.is_fatal() => {
                tracing::warn!(error = %e, "reading events failed; trying again at the next poll");
            }
            Err(e) => return Err(e),
        }
        exporter.export_due(cancel).await?;
        if !options.follow || cancel.is_cancelled() {
            break;
        }
        exporter.progress().phase("caught up; waiting for new events");
        tokio::select! {
            _ = tokio::time::sleep(options.poll_interval) => {}
            _ = cancel.cancelled() => break,
        }
    }
    exporter.summary().await
}
