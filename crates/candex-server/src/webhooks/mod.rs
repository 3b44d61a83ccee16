//! Outbound webhooks: the SSRF guard on subscription targets, request signing, and the
//! dispatcher that delivers the event outbox at least once.

pub mod dispatcher;
pub mod metrics;
pub mod signature;
pub mod ssrf;

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;

/// Webhook delivery settings.
#[derive(Debug, Clone)]
pub struct WebhookSettings {
    /// Accept subscription targets on loopback, private and link-local addresses. Off by
    /// default; the demo and tests turn it on.
    pub allow_private_targets: bool,
    /// How long a receiver has to answer (SEEK: 10 s).
    pub timeout: Duration,
    /// Retry backoff after failed requests.
    pub retry: RetrySchedule,
    /// How often the dispatcher looks for due work when nothing wakes it.
    pub poll_interval: Duration,
    /// Requests in flight at once, over all subscriptions (one per subscription at a time).
    pub concurrency: usize,
    /// How long events and delivery records are kept.
    pub retention: Duration,
    /// Run the dispatcher in this process (several instances may; claims are leased).
    pub dispatch: bool,
}

impl Default for WebhookSettings {
    fn default() -> Self {
        Self {
            allow_private_targets: false,
            timeout: Duration::from_secs(10),
            retry: RetrySchedule::default(),
            poll_interval: Duration::from_secs(1),
            concurrency: 16,
            retention: Duration::from_secs(90 * 24 * 3600),
            dispatch: true,
        }
    }
}

impl WebhookSettings {
    /// The SSRF policy these settings imply.
    pub fn target_policy(&self) -> ssrf::TargetPolicy {
        ssrf::TargetPolicy { allow_private: self.allow_private_targets }
    }
}

/// Exponential backoff with full jitter: after `n` consecutive failures a subscription waits
/// a random time up to `min(max, base * 2^(n-1))`, at least `base / 2`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetrySchedule {
    /// Wait bound after the first failure.
    pub base: Duration,
    /// Largest wait bound.
    pub max: Duration,
}

impl Default for RetrySchedule {
    fn default() -> Self {
        Self { base: Duration::from_secs(5), max: Duration::from_secs(3600) }
    }
}

impl RetrySchedule {
    /// The wait bound after `failures` consecutive failures (1 = the first).
    pub fn bound(&self, failures: u32) -> Duration {
        let exp = failures.saturating_sub(1).min(30);
        self.base.saturating_mul(1u32 << exp).min(self.max)
    }

    /// A jittered wait after `failures` consecutive failures, from `random` in [0, 1).
    pub fn delay(&self, failures: u32, random: f64) -> Duration {
        let bound = self.bound(failures);
        let floor = (self.base / 2).min(bound);
        floor + (bound - floor).mul_f64(random.clamp(0.0, 1.0))
    }
}

/// Wakes the dispatcher when new work is queued in this process (ingest, replay), so
/// delivery does not wait for the next poll. Cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct Waker(Arc<Notify>);

impl Waker {
    /// Signals that work may be due.
    pub fn wake(&self) {
        self.0.notify_one();
    }

    /// Waits for a signal.
    pub async fn woken(&self) {
        self.0.notified().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_to_its_cap_and_jitter_stays_in_bounds() {
        let s = RetrySchedule { base: Duration::from_secs(5), max: Duration::from_secs(60) };
        assert_eq!(s.bound(1), Duration::from_secs(5));
        assert_eq!(s.bound(2), Duration::from_secs(10));
        assert_eq!(s.bound(4), Duration::from_secs(40));
        assert_eq!(s.bound(5), Duration::from_secs(60));
        assert_eq!(s.bound(500), Duration::from_secs(60));
        for r in [0.0, 0.3, 0.999] {
            let d = s.delay(3, r);
            assert!(d >= Duration::from_millis(2500) && d <= Duration::from_secs(20), "{d:?}");
        }
    }
}
