//! The webhook dispatcher: claims due deliveries from the outbox, sends one signed request
//! per subscription batch, records every request and attempt, and backs off on failure.
//! Delivery is at least once: state lives in the database, leases expire, and nothing is
//! marked delivered before the receiver answered 2xx.

use std::sync::Arc;
use std::time::{Duration, Instant};

use candex_domain::{DeliveryCode, EventType, IdKind, ObjectId, Scheme, SigningAlgorithm};
use candex_store::{DeliveryBatch, DeliveryClaim, DeliveryOutcome, WebhookStore};
use chrono::Utc;
use rand::{Rng, RngCore};
use reqwest::header::{HeaderValue, CONTENT_TYPE, RETRY_AFTER};
use serde::Serialize;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::metrics::WebhookMetrics;
use super::signature::{self, SEEK_SIGNATURE, WEBHOOK_ID, WEBHOOK_SIGNATURE, WEBHOOK_TIMESTAMP, X_REQUEST_ID};
use super::ssrf::{self, TargetError};
use super::{Waker, WebhookSettings};
use crate::auth::master_key::{MasterKey, Purpose};

/// Synthetic status of a request that timed out (as SEEK records it).
const TIMEOUT_STATUS: u16 = 504;
/// Synthetic status of a URL that could not be used.
const INVALID_URL_STATUS: u16 = 400;
/// Synthetic status of a connection that failed before any answer.
const CONNECTION_FAILED_STATUS: u16 = 502;
/// Longest `Retry-After` honoured; beyond it the regular schedule's cap applies.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(3600);

/// The dispatcher of one process. Several processes may run one each on a shared database:
/// claims are leased per subscription.
pub struct Dispatcher {
    store: Arc<dyn WebhookStore>,
    settings: WebhookSettings,
    client: reqwest::Client,
    owner: String,
    scheme: Scheme,
    waker: Waker,
    metrics: WebhookMetrics,
    /// Opens the subscriptions' secrets, kept sealed.
    master_key: MasterKey,
}

impl Dispatcher {
    /// Builds a dispatcher; `waker` is the one writers in this process signal.
    pub fn new(
        store: Arc<dyn WebhookStore>,
        settings: WebhookSettings,
        scheme: Scheme,
        waker: Waker,
        metrics: WebhookMetrics,
        master_key: MasterKey,
    ) -> anyhow::Result<Self> {
        let user_agent = format!("candex/{} (webhooks)", env!("CARGO_PKG_VERSION"));
        let client = ssrf::delivery_client(settings.target_policy(), settings.timeout, &user_agent)?;
        let owner = format!("{}-{:016x}", std::process::id(), rand::thread_rng().next_u64());
        Ok(Self { store, settings, client, owner, scheme, waker, metrics, master_key })
    }

    /// How long a claim is leased: long enough for a request to time out and be recorded.
    fn lease(&self) -> Duration {
        self.settings.timeout * 2 + Duration::from_secs(5)
    }

    /// Runs until `stop` is cancelled, then waits for requests in flight so their outcomes
    /// are recorded (they are bounded by the request timeout).
    pub async fn run(self, stop: CancellationToken) {
        let this = Arc::new(self);
        let mut in_flight: JoinSet<()> = JoinSet::new();
        let mut store_failures = 0u32;
        tracing::info!(owner = %this.owner, "webhook dispatcher started");
        loop {
            let free = this.settings.concurrency.saturating_sub(in_flight.len());
            let mut claimed_all_free = false;
            if free > 0 && !stop.is_cancelled() {
                let now = Utc::now();
                let claim = DeliveryClaim {
                    owner: this.owner.clone(),
                    now,
                    lease_until: now + this.lease(),
                    max_subscriptions: u32::try_from(free).unwrap_or(u32::MAX),
                };
                match this.store.claim_webhook_deliveries(&claim).await {
                    Ok(batches) => {
                        store_failures = 0;
                        claimed_all_free = batches.len() == free;
                        for batch in batches {
                            let this = this.clone();
                            in_flight.spawn(async move { this.deliver(batch).await });
                        }
                    }
                    Err(e) => {
                        store_failures += 1;
                        tracing::warn!(error = %e, "webhook dispatcher could not claim deliveries");
                    }
                }
            }
            if claimed_all_free {
                // More may be due: claim again as soon as a slot frees up.
                tokio::select! {
                    () = stop.cancelled() => break,
                    _ = in_flight.join_next() => {},
                }
                continue;
            }
            let idle = this.settings.poll_interval * (1 + store_failures.min(10));
            tokio::select! {
                () = stop.cancelled() => break,
                Some(_) = in_flight.join_next(), if !in_flight.is_empty() => {},
                () = this.waker.woken() => {},
                () = tokio::time::sleep(idle) => {},
            }
        }
        while in_flight.join_next().await.is_some() {}
        tracing::info!("webhook dispatcher stopped");
    }

    /// Sends one batch and records the outcome.
    async fn deliver(&self, batch: DeliveryBatch) {
        let started_at = Utc::now();
        let request_id = request_id();
        let sent = self.send(&batch, &request_id).await;
        let failures = if sent.code == DeliveryCode::Success { 0 } else { batch.failures.saturating_add(1) };
        let backoff = self.settings.retry.delay(failures.max(1), rand::thread_rng().gen::<f64>());
        let wait = sent.retry_after.map_or(backoff, |after| after.max(backoff).min(MAX_RETRY_AFTER));
        self.metrics.observe(sent.code, sent.latency_ms);
        let level_ok = sent.code == DeliveryCode::Success;
        if level_ok {
            tracing::debug!(subscription = %batch.subscription.id, %request_id, events = batch.events.len(),
                status = sent.status, "webhook delivered");
        } else {
            tracing::info!(subscription = %batch.subscription.id, %request_id, events = batch.events.len(),
                status = sent.status, code = sent.code.code(), failures, retry_in_ms = wait.as_millis() as u64,
                "webhook delivery failed; will retry");
        }
        let attempts = batch
            .events
            .iter()
            .map(|e| (ObjectId::mint(&self.scheme, IdKind::WebhookAttempt, &mut rand::thread_rng()), e.seq))
            .collect();
        let outcome = DeliveryOutcome {
            owner: self.owner.clone(),
            subscription_id: batch.subscription.id.clone(),
            request_id,
            status_code: sent.status,
            code: sent.code,
            latency_ms: sent.latency_ms,
            created_at: started_at,
            attempts,
            retry_at: Utc::now() + wait,
        };
        if let Err(e) = self.store.record_webhook_delivery(&outcome).await {
            // The lease lapses and the batch is sent again: at least once, never lost.
            tracing::warn!(error = %e, subscription = %batch.subscription.id, "could not record a webhook delivery");
        }
    }

    async fn send(&self, batch: &DeliveryBatch, request_id: &str) -> Sent {
        let subscription = &batch.subscription;
        // reqwest resolves host names through the guard, but IP literals never reach a
        // resolver: check the URL itself on every request too.
        let url = match ssrf::parse_target(&subscription.url, self.settings.target_policy()) {
            Ok(url) => url,
            Err(e) => return Sent::invalid_url(&e),
        };
        let body = match webhook_body(batch) {
            Ok(body) => body,
            Err(e) => {
                tracing::error!(error = %e, "could not serialise a webhook body");
                return Sent::invalid_url(&TargetError::NotAUrl);
            }
        };
        let mut request = self
            .client
            .post(url)
            .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
            .header(X_REQUEST_ID, request_id);
        if let (SigningAlgorithm::SeekHmacSha512, Some(sealed)) = (subscription.signing_algorithm, &batch.secret) {
            let secret = match self.master_key.open(Purpose::WebhookSecret, subscription.id.as_str(), sealed) {
                Ok(secret) => secret,
                Err(e) => {
                    // Never sent unsigned: the attempt fails and is retried with backoff.
                    tracing::error!(subscription = %subscription.id, error = %e, "cannot open the webhook secret");
                    return Sent {
                        status: CONNECTION_FAILED_STATUS,
                        code: DeliveryCode::BadResponse,
                        latency_ms: None,
                        retry_after: None,
                    };
                }
            };
            let secret = secret.as_slice();
            let standard = signature::standard_webhooks(secret, request_id, Utc::now().timestamp(), &body);
            request = request
                .header(SEEK_SIGNATURE, signature::seek_signature(secret, &body))
                .header(WEBHOOK_ID, standard.id)
                .header(WEBHOOK_TIMESTAMP, standard.timestamp.to_string())
                .header(WEBHOOK_SIGNATURE, standard.signature);
        } else {
            request =
                request.header(WEBHOOK_ID, request_id).header(WEBHOOK_TIMESTAMP, Utc::now().timestamp().to_string());
        }
        let start = Instant::now();
        match request.body(body).send().await {
            Ok(response) => {
                let latency = elapsed_ms(start);
                let status = response.status();
                let retry_after = match status.as_u16() {
                    429 | 503 => {
                        response.headers().get(RETRY_AFTER).and_then(|v| v.to_str().ok()).and_then(parse_retry_after)
                    }
                    _ => None,
                };
                // The body is ignored; dropping the response closes or returns the connection.
                drop(response);
                let code = if status.is_success() { DeliveryCode::Success } else { DeliveryCode::BadResponse };
                Sent { status: status.as_u16(), code, latency_ms: Some(latency), retry_after }
            }
            Err(e) if e.is_timeout() => Sent {
                status: TIMEOUT_STATUS,
                code: DeliveryCode::RequestTimeout,
                latency_ms: Some(elapsed_ms(start)),
                retry_after: None,
            },
            Err(e) => match refused_target(&e) {
                Some(refusal) => Sent::invalid_url(&refusal),
                None => Sent {
                    status: CONNECTION_FAILED_STATUS,
                    code: DeliveryCode::BadResponse,
                    latency_ms: Some(elapsed_ms(start)),
                    retry_after: None,
                },
            },
        }
    }
}

/// What one request came to.
struct Sent {
    status: u16,
    code: DeliveryCode,
    latency_ms: Option<u32>,
    retry_after: Option<Duration>,
}

impl Sent {
    fn invalid_url(reason: &TargetError) -> Self {
        tracing::info!(reason = %reason, "webhook target refused");
        Self { status: INVALID_URL_STATUS, code: DeliveryCode::InvalidUrl, latency_ms: None, retry_after: None }
    }
}

/// The SSRF guard's refusal inside a reqwest error, if that is why it failed.
fn refused_target(error: &reqwest::Error) -> Option<TargetError> {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(e) = source {
        if let Some(refusal) = e.downcast_ref::<TargetError>() {
            return Some(refusal.clone());
        }
        source = e.source();
    }
    None
}

fn elapsed_ms(start: Instant) -> u32 {
    u32::try_from(start.elapsed().as_millis()).unwrap_or(u32::MAX)
}

/// `Retry-After` as delay-seconds or an HTTP date.
fn parse_retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(std::time::SystemTime::now()).unwrap_or_default())
}

/// A fresh request id in the UUID v4 text form SEEK's `requestId`s take (lower-case hex,
/// hyphenated).
fn request_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// The webhook body SEEK documents, field order included.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Body<'a> {
    events: Vec<BodyEvent<'a>>,
    subscription_id: &'a str,
    url: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct BodyEvent<'a> {
    id: &'a str,
    #[serde(rename = "type")]
    type_code: &'static str,
    create_date_time: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    candidate_application_profile_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    candidate_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    position_profile_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    hirer_id: Option<&'a str>,
}

/// Serialises a batch: `hirerId` only for signed subscriptions, except on
/// `HirerRelationshipChanged`, whose payload it is.
pub fn webhook_body(batch: &DeliveryBatch) -> serde_json::Result<Vec<u8>> {
    let signed = batch.subscription.signing_algorithm != SigningAlgorithm::None;
    let events = batch
        .events
        .iter()
        .map(|e| BodyEvent {
            id: e.id.as_str(),
            type_code: e.event_type.code(),
            create_date_time: candex_domain::time::format_rfc3339_ms(&e.created_at),
            candidate_application_profile_id: e.candidate_profile_id.as_deref().map(ObjectId::as_str),
            candidate_id: e.candidate_id.as_deref().map(ObjectId::as_str),
            position_profile_id: e.position_profile_id.as_deref().map(ObjectId::as_str),
            hirer_id: (signed || e.event_type == EventType::HirerRelationshipChanged).then(|| e.hirer_id.as_str()),
        })
        .collect();
    serde_json::to_vec(&Body {
        events,
        subscription_id: batch.subscription.id.as_str(),
        url: batch.subscription.url.as_str(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_are_uuid_v4_shaped() {
        let id = request_id();
        assert_eq!(id.len(), 36);
        assert_eq!(id.as_bytes()[14], b'4');
        let dashes: Vec<usize> = id.match_indices('-').map(|(i, _)| i).collect();
        assert_eq!(dashes, [8, 13, 18, 23]);
        assert!(id.chars().all(|c| c == '-' || c.is_ascii_digit() || ('a'..='f').contains(&c)), "{id}");
        assert!(matches!(id.as_bytes()[19], b'8' | b'9' | b'a' | b'b'), "RFC 4122 variant: {id}");
        assert_ne!(request_id(), id);
    }

    #[test]
    fn retry_after_takes_seconds_and_dates() {
        assert_eq!(parse_retry_after(" 7 "), Some(Duration::from_secs(7)));
        let later = std::time::SystemTime::now() + Duration::from_secs(120);
        let d = parse_retry_after(&httpdate::fmt_http_date(later)).expect("date");
        assert!(d > Duration::from_secs(100) && d <= Duration::from_secs(120), "{d:?}");
        assert_eq!(parse_retry_after("soon"), None);
    }
}
