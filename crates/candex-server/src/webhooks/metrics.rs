//! Prometheus metrics of webhook delivery: request latency, outcomes by description code,
//! and (refreshed from the database at scrape time) queue depth and oldest pending age.

use std::sync::atomic::AtomicU64;
use std::sync::Arc;

use candex_domain::DeliveryCode;
use candex_store::QueueStats;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CodeLabel {
    code: &'static str,
}

/// The webhook metrics; cheap to clone (shared counters).
#[derive(Clone)]
pub struct WebhookMetrics {
    requests: Family<CodeLabel, Counter>,
    latency: Histogram,
    pending: Gauge,
    oldest_pending_age: Gauge<f64, AtomicU64>,
    registry: Arc<Registry>,
}

impl Default for WebhookMetrics {
    fn default() -> Self {
        let requests = Family::<CodeLabel, Counter>::default();
        // 5 ms .. ~41 s: covers fast receivers up to past the 10 s timeout.
        let latency = Histogram::new(exponential_buckets(0.005, 2.0, 14));
        let pending = Gauge::default();
        let oldest_pending_age = Gauge::<f64, AtomicU64>::default();
        let mut registry = Registry::with_prefix("candex_webhook");
        registry.register(
            "requests",
            "Webhook requests sent, by outcome (descriptionCode: Success, BadResponse, InvalidUrl, RequestTimeout)",
            requests.clone(),
        );
        registry.register(
            "request_duration_seconds",
            "Time from sending a webhook request to its answer",
            latency.clone(),
        );
        registry.register("pending_deliveries", "Undelivered (subscription, event) pairs", pending.clone());
        registry.register(
            "oldest_pending_event_age_seconds",
            "Age of the oldest undelivered event (0 when none)",
            oldest_pending_age.clone(),
        );
        Self { requests, latency, pending, oldest_pending_age, registry: Arc::new(registry) }
    }
}

impl WebhookMetrics {
    /// Counts one request and its latency.
    pub fn observe(&self, code: DeliveryCode, latency_ms: Option<u32>) {
        self.requests.get_or_create(&CodeLabel { code: code.code() }).inc();
        if let Some(ms) = latency_ms {
            self.latency.observe(f64::from(ms) / 1000.0);
        }
    }

    /// Sets the queue gauges from the database's view.
    pub fn set_queue(&self, stats: QueueStats, now: chrono::DateTime<chrono::Utc>) {
        self.pending.set(i64::try_from(stats.pending).unwrap_or(i64::MAX));
        let age = stats.oldest_pending.map_or(0.0, |t| (now - t).num_milliseconds().max(0) as f64 / 1000.0);
        self.oldest_pending_age.set(age);
    }

    /// The Prometheus text exposition of every metric.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exposition_names_every_metric_with_its_values() {
        let m = WebhookMetrics::default();
        m.observe(DeliveryCode::Success, Some(12));
        m.observe(DeliveryCode::RequestTimeout, Some(10_000));
        m.observe(DeliveryCode::InvalidUrl, None);
        let now = chrono::Utc::now();
        m.set_queue(QueueStats { pending: 7, oldest_pending: Some(now - chrono::Duration::seconds(90)) }, now);
        let text = m.encode();
        assert!(text.contains(r#"candex_webhook_requests_total{code="Success"} 1"#), "{text}");
        assert!(text.contains(r#"candex_webhook_requests_total{code="InvalidUrl"} 1"#), "{text}");
        assert!(text.contains("candex_webhook_request_duration_seconds_count 2"), "{text}");
        assert!(text.contains("candex_webhook_pending_deliveries 7"), "{text}");
        assert!(text.contains("candex_webhook_oldest_pending_event_age_seconds 90"), "{text}");
    }
}
