//! The server's Prometheus metrics: one registry (prefix `candex`) holding every series, served
//! by `GET /metrics` as OpenMetrics text. Counters and histograms are atomics updated where
//! things happen (the HTTP layer [`http`], the GraphQL handler, the token endpoints, the
//! operator use cases, blob storage, the webhook dispatcher); the gauges that describe the
//! database (pool occupancy, the event stream's head, the webhook queue, readiness) are read at
//! scrape time, bounded by [`REFRESH_TIMEOUT`], at most once per [`REFRESH_EVERY`] whatever
//! the scrape rate, and a failed read keeps the last values rather than failing the scrape.
//! `docs/operators.md` lists every series; `docs/grafana-dashboard.json` and
//! `docs/alerts.yml` use them.

pub mod http;

use std::sync::atomic::AtomicU64;
use std::time::{Duration, Instant};

use candex_store::Store;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::{Registry, Unit};

use crate::http::readiness::{Readiness, Status};
use crate::storage::{BlobCounters, BlobStore};
use crate::webhooks::metrics::WebhookMetrics;

pub use http::{HttpMetrics, HttpMetricsLayer};

/// The longest the scrape-time reads may take together: past readiness's own per-check bound,
/// within Prometheus's default 10 s scrape timeout.
pub const REFRESH_TIMEOUT: Duration =
    Duration::from_secs(crate::http::readiness::CHECK_TIMEOUT.as_secs().saturating_add(1));
/// Scrapes closer together than this (several Prometheus servers, or a flood of requests to
/// `/metrics`) share one round of database reads.
pub const REFRESH_EVERY: Duration = Duration::from_secs(1);

/// The `code` values `candex_graphql_errors_total` reports; any other code, or none, counts
/// as `OTHER`, so the label's values stay a fixed set.
pub const GRAPHQL_ERROR_CODES: [&str; 10] = [
    crate::graphql::error::UNAUTHENTICATED,
    crate::graphql::error::FORBIDDEN,
    crate::graphql::error::BAD_USER_INPUT,
    crate::graphql::error::INTERNAL_SERVER_ERROR,
    crate::graphql::guard::PARSE_FAILED,
    crate::graphql::guard::VALIDATION_FAILED,
    crate::graphql::guard::LIMIT_EXCEEDED,
    crate::graphql::guard::BAD_REQUEST,
    crate::http::rate_limit::RATE_LIMITED,
    "OTHER",
];

/// The errors of one GraphQL response counted by code ([`GRAPHQL_ERROR_CODES`]); the
/// transport puts it in the response's extensions, and the handler records it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GraphqlErrorTally([u32; GRAPHQL_ERROR_CODES.len()]);

impl GraphqlErrorTally {
    /// Counts `errors` by their `extensions.code`.
    pub fn of<'a>(errors: impl IntoIterator<Item = &'a async_graphql::ServerError>) -> Self {
        let mut tally = Self::default();
        for error in errors {
            let code = error.extensions.as_ref().and_then(|e| e.get("code")).and_then(|code| match code {
                async_graphql::Value::String(code) => Some(code.as_str()),
                _ => None,
            });
            let last = GRAPHQL_ERROR_CODES.len() - 1;
            let index = code.and_then(|c| GRAPHQL_ERROR_CODES[..last].iter().position(|k| *k == c)).unwrap_or(last);
            tally.0[index] = tally.0[index].saturating_add(1);
        }
        tally
    }

    /// The count of each code that occurred.
    pub fn counts(&self) -> impl Iterator<Item = (&'static str, u32)> + '_ {
        GRAPHQL_ERROR_CODES.iter().zip(self.0).filter(|(_, n)| *n > 0).map(|(code, n)| (*code, n))
    }
}

/// The counters of the operator use cases, shared with [`crate::operator::service::OperatorService`].
#[derive(Debug, Clone, Default)]
pub struct OperatorCounters {
    /// Applications stored.
    pub ingested: Counter,
    /// Candidates erased.
    pub erasures: Counter,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OperationLabel {
    operation_type: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CodeLabel {
    code: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindLabel {
    kind: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RefusalLabels {
    kind: &'static str,
    reason: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReasonLabel {
    reason: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PoolStateLabels {
    pool: &'static str,
    state: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PoolLabel {
    pool: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct DependencyLabel {
    dependency: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct BuildLabels {
    version: &'static str,
    commit: &'static str,
    backend: &'static str,
}

/// Every series of one server; shared (`Arc`) by the state, the router's layer and the
/// components that count.
pub struct Metrics {
    registry: Registry,
    http: HttpMetrics,
    graphql_operations: Family<OperationLabel, Counter>,
    graphql_errors: Family<CodeLabel, Counter>,
    graphql_direct: Counter,
    tokens_issued: Family<KindLabel, Counter>,
    token_requests_refused: Family<RefusalLabels, Counter>,
    token_verifications_refused: Family<ReasonLabel, Counter>,
    operator: OperatorCounters,
    webhooks: WebhookMetrics,
    pool_connections: Family<PoolStateLabels, Gauge>,
    pool_max: Family<PoolLabel, Gauge>,
    events_newest_seq: Gauge,
    events_newest_age: Gauge<f64, AtomicU64>,
    ready: Family<DependencyLabel, Gauge>,
    /// When the database was last read for a scrape; held while a scrape reads it.
    refreshed: tokio::sync::Mutex<Option<Instant>>,
}

impl Metrics {
    /// The registry of a server on `backend` whose blob storage counts into `blobs`.
    pub fn new(backend: &'static str, blobs: &BlobCounters) -> Self {
        let mut registry = Registry::with_prefix("candex");
        let http = HttpMetrics::default();
        http.register(&mut registry);

        let graphql_operations = Family::<OperationLabel, Counter>::default();
        let graphql_errors = Family::<CodeLabel, Counter>::default();
        let graphql_direct = Counter::default();
        {
            let graphql = registry.sub_registry_with_prefix("graphql");
            graphql.register(
                "operations",
                "GraphQL requests, by operation type (query, mutation; unknown when refused before parsing)",
                graphql_operations.clone(),
            );
            graphql.register(
                "errors",
                "Errors in GraphQL responses, by extensions.code (unknown codes count as OTHER)",
                graphql_errors.clone(),
            );
            graphql.register(
                "direct_answers",
                "candidateProfile queries answered by the direct writer, without the GraphQL executor",
                graphql_direct.clone(),
            );
        }

        let tokens_issued = Family::<KindLabel, Counter>::default();
        let token_requests_refused = Family::<RefusalLabels, Counter>::default();
        let token_verifications_refused = Family::<ReasonLabel, Counter>::default();
        registry.register(
            "tokens_issued",
            "Access tokens issued, by kind (partner: POST /oauth/token; browser: POST /auth/token)",
            tokens_issued.clone(),
        );
        registry.register(
            "token_requests_refused",
            "Token requests refused, by kind and reason (invalid_request, unsupported_grant_type, invalid_client, \
             unauthenticated, forbidden, rate_limited, unavailable, server_error)",
            token_requests_refused.clone(),
        );
        registry.register(
            "token_verifications_refused",
            "Presented access tokens refused, by reason (expired, invalid, revoked)",
            token_verifications_refused.clone(),
        );

        let operator = OperatorCounters::default();
        registry.register(
            "applications_ingested",
            "Applications stored through the operator API",
            operator.ingested.clone(),
        );
        registry.register("erasures", "Candidates erased through the operator API", operator.erasures.clone());
        {
            let blob = registry.sub_registry_with_prefix("blob");
            blob.register_with_unit(
                "written",
                "Attachment bytes written to blob storage (uploads)",
                Unit::Bytes,
                blobs.written.clone(),
            );
            blob.register_with_unit(
                "read",
                "Attachment bytes read from blob storage (downloads)",
                Unit::Bytes,
                blobs.read.clone(),
            );
        }

        let webhooks = WebhookMetrics::default();
        webhooks.register(&mut registry);

        let pool_connections = Family::<PoolStateLabels, Gauge>::default();
        let pool_max = Family::<PoolLabel, Gauge>::default();
        {
            let db = registry.sub_registry_with_prefix("db_pool");
            db.register(
                "connections",
                "Open database connections, by pool and state (idle, in_use)",
                pool_connections.clone(),
            );
            db.register("max_connections", "The most connections each pool opens", pool_max.clone());
        }

        let events_newest_seq = Gauge::default();
        let events_newest_age = Gauge::<f64, AtomicU64>::default();
        {
            let events = registry.sub_registry_with_prefix("events");
            events.register(
                "newest_sequence",
                "Sequence number of the newest event: the cursor of a partner that has read every event \
                 (0 when there are none)",
                events_newest_seq.clone(),
            );
            events.register_with_unit(
                "newest_age",
                "Time since the newest event was created (0 when there are none)",
                Unit::Seconds,
                events_newest_age.clone(),
            );
        }

        let ready = Family::<DependencyLabel, Gauge>::default();
        registry.register(
            "ready",
            "Whether a dependency (database, storage) answers, as /readyz reports",
            ready.clone(),
        );

        let build = Family::<BuildLabels, Gauge>::default();
        build
            .get_or_create(&BuildLabels {
                version: env!("CARGO_PKG_VERSION"),
                commit: option_env!("CANDEX_GIT_COMMIT").unwrap_or("unknown"),
                backend,
            })
            .set(1);
        registry.register("build_info", "The running candex: version, commit and database backend; always 1", build);

        Self {
            registry,
            http,
            graphql_operations,
            graphql_errors,
            graphql_direct,
            tokens_issued,
            token_requests_refused,
            token_verifications_refused,
            operator,
            webhooks,
            pool_connections,
            pool_max,
            events_newest_seq,
            events_newest_age,
            ready,
            refreshed: tokio::sync::Mutex::new(None),
        }
    }

    /// The layer that counts every HTTP request.
    pub fn http_layer(&self) -> HttpMetricsLayer {
        self.http.layer()
    }

    /// The webhook series, for the dispatcher.
    pub fn webhooks(&self) -> &WebhookMetrics {
        &self.webhooks
    }

    /// The operator counters, for the operator use cases.
    pub fn operator(&self) -> &OperatorCounters {
        &self.operator
    }

    /// Records one GraphQL request: its operation type (`None`: refused before it was parsed)
    /// and the errors of its response.
    pub fn graphql_request(&self, operation_type: Option<&'static str>, errors: Option<&GraphqlErrorTally>) {
        let operation_type = operation_type.unwrap_or("unknown");
        self.graphql_operations.get_or_create(&OperationLabel { operation_type }).inc();
        for (code, n) in errors.into_iter().flat_map(GraphqlErrorTally::counts) {
            self.graphql_errors.get_or_create(&CodeLabel { code }).inc_by(u64::from(n));
        }
    }

    /// Counts a query answered by the direct writer (`graphql::direct`), also counted by
    /// [`graphql_request`](Self::graphql_request).
    pub fn graphql_direct_answer(&self) {
        self.graphql_direct.inc();
    }

    /// Counts a token issued: `partner` or `browser`.
    pub fn token_issued(&self, kind: &'static str) {
        self.tokens_issued.get_or_create(&KindLabel { kind }).inc();
    }

    /// Counts a token request refused, with a reason from a fixed set.
    pub fn token_request_refused(&self, kind: &'static str, reason: &'static str) {
        self.token_requests_refused.get_or_create(&RefusalLabels { kind, reason }).inc();
    }

    /// Counts a presented token refused: `expired`, `invalid` or `revoked`.
    pub fn token_verification_refused(&self, reason: &'static str) {
        self.token_verifications_refused.get_or_create(&ReasonLabel { reason }).inc();
    }

    /// Reads what the gauges show from the database and the storage, within
    /// [`REFRESH_TIMEOUT`]; a read that fails or times out is logged and its gauges keep their
    /// last values. Concurrent scrapes do not wait for each other's reads: they serve the last
    /// values.
    pub async fn refresh(&self, store: &dyn Store, blobs: &BlobStore, readiness: &Readiness) {
        for pool in store.pool_stats() {
            let in_use = pool.open.saturating_sub(pool.idle);
            let set = |state, n: u32| {
                self.pool_connections.get_or_create(&PoolStateLabels { pool: pool.pool, state }).set(i64::from(n))
            };
            set("idle", pool.idle);
            set("in_use", in_use);
            self.pool_max.get_or_create(&PoolLabel { pool: pool.pool }).set(i64::from(pool.max));
        }
        let Ok(mut refreshed) = self.refreshed.try_lock() else { return };
        if refreshed.is_some_and(|at| at.elapsed() < REFRESH_EVERY) {
            return;
        }
        let reads = async {
            tokio::join!(store.webhook_queue_stats(), store.event_stream_head(), readiness.report(store, blobs))
        };
        match tokio::time::timeout(REFRESH_TIMEOUT, reads).await {
            Ok((queue, head, report)) => {
                let now = chrono::Utc::now();
                match queue {
                    Ok(stats) => self.webhooks.set_queue(stats, now),
                    Err(e) => tracing::warn!(error.cause_chain = ?e, "metrics: could not read the webhook queue"),
                }
                match head {
                    Ok(head) => {
                        self.events_newest_seq.set(head.newest_seq.unwrap_or(0));
                        let age = head.newest_at.map_or(0.0, |t| (now - t).num_milliseconds().max(0) as f64 / 1000.0);
                        self.events_newest_age.set(age);
                    }
                    Err(e) => tracing::warn!(error.cause_chain = ?e, "metrics: could not read the event stream"),
                }
                for (dependency, status) in [("database", report.database), ("storage", report.storage)] {
                    self.ready.get_or_create(&DependencyLabel { dependency }).set(i64::from(status == Status::Ok));
                }
            }
            Err(_) => tracing::warn!(
                "metrics: the database did not answer within {REFRESH_TIMEOUT:?}; serving the last values"
            ),
        }
        *refreshed = Some(Instant::now());
    }

    /// The OpenMetrics text exposition of every series.
    pub fn encode(&self) -> String {
        let mut out = String::with_capacity(16 * 1024);
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn coded(code: Option<&str>) -> async_graphql::ServerError {
        let mut error = async_graphql::ServerError::new("x", None);
        if let Some(code) = code {
            let mut extensions = async_graphql::ErrorExtensionValues::default();
            extensions.set("code", code);
            error.extensions = Some(extensions);
        }
        error
    }

    #[test]
    fn error_codes_outside_the_known_set_fold_to_other() {
        let errors = [
            coded(Some("BAD_USER_INPUT")),
            coded(Some("BAD_USER_INPUT")),
            coded(Some("FORBIDDEN")),
            coded(Some("SOMETHING_NEW")),
            coded(None),
        ];
        let counts: Vec<_> = GraphqlErrorTally::of(&errors).counts().collect();
        assert_eq!(counts, vec![("FORBIDDEN", 1), ("BAD_USER_INPUT", 2), ("OTHER", 2)]);
    }

    #[test]
    fn the_exposition_names_every_family_once_and_ends_as_openmetrics_does() {
        let metrics = Metrics::new("sqlite", &BlobCounters::default());
        metrics.graphql_request(Some("query"), Some(&GraphqlErrorTally::of(&[coded(Some("FORBIDDEN"))])));
        metrics.token_issued("partner");
        let text = metrics.encode();
        assert!(text.ends_with("# EOF\n"), "{text}");
        assert!(text.contains(r#"candex_graphql_operations_total{operation_type="query"} 1"#), "{text}");
        assert!(text.contains(r#"candex_graphql_errors_total{code="FORBIDDEN"} 1"#), "{text}");
        assert!(text.contains(r#"candex_tokens_issued_total{kind="partner"} 1"#), "{text}");
        assert!(text.contains("# TYPE candex_blob_written_bytes counter"), "{text}");
        assert!(text.contains("# TYPE candex_webhook_request_duration_seconds histogram"), "{text}");
        assert!(
            text.contains(&format!(
                r#"candex_build_info{{version="{}",commit="unknown",backend="sqlite"}} 1"#,
                env!("CARGO_PKG_VERSION")
            )) || option_env!("CANDEX_GIT_COMMIT").is_some(),
            "{text}"
        );
    }
}
