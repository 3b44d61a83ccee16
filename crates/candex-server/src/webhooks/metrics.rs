//! Prometheus metrics of webhook delivery: request latency, outcomes by description code,
//! and (refreshed from the database at scrape time) queue depth and oldest pending age. They
//! live in the server's one registry ([`crate::metrics`]) under `candex_webhook_`.

use std::sync::atomic::AtomicU64;

use candex_domain::DeliveryCode;
use candex_store::QueueStats;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::{Registry, Unit};

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
}

impl Default for WebhookMetrics {
    fn default() -> Self {
        Self {
            requests: Family::default(),
            // 5 ms .. ~41 s: covers fast receivers up to past the 10 s timeout.
            latency: Histogram::new(exponential_buckets(0.005, 2.0, 14)),
            pending: Gauge::default(),
            oldest_pending_age: Gauge::default(),
        }
    }
}

impl WebhookMetrics {
    /// Registers every series in `registry` (the server's, prefixed `candex`) under `webhook`.
    pub fn register(&self, registry: &mut Registry) {
        let registry = registry.sub_registry_with_prefix("webhook");
        registry.register(
            "requests",
            "Webhook requests sent, by outcome (descriptionCode: Success, BadResponse, InvalidUrl, RequestTimeout)",
            self.requests.clone(),
        );
        registry.register_with_unit(
            "request_duration",
            "Time from sending a webhook request to its answer",
            Unit::Seconds,
            self.latency.clone(),
        );
        registry.register("pending_deliveries", "Undelivered (subscription, event) pairs", self.pending.clone());
        registry.register_with_unit(
            "oldest_pending_event_age",
            "Age of the oldest undelivered event (0 when none)",
            Unit::Seconds,
            self.oldest_pending_age.clone(),
        );
    }

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
        let mut registry = Registry::with_prefix("candex");
        m.register(&mut registry);
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &registry).unwrap();
        assert!(text.contains(r#"candex_webhook_requests_total{code="Success"} 1"#), "{text}");
        assert!(text.contains(r#"candex_webhook_requests_total{code="InvalidUrl"} 1"#), "{text}");
        assert!(text.contains("candex_webhook_request_duration_seconds_count 2"), "{text}");
        assert!(text.contains("candex_webhook_pending_deliveries 7"), "{text}");
        assert!(text.contains("candex_webhook_oldest_pending_event_age_seconds 90"), "{text}");
    }
}
