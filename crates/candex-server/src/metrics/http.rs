//! HTTP request metrics as a tower layer: every request's count by matched route template,
//! method and status, and its latency by route and method. The route label is axum's
//! [`MatchedPath`] (`/operator/v1/candidates/{candidate_id}`), never the request's path, so
//! identifiers in paths cannot grow the series without bound; requests no route matched share
//! `route="unmatched"`, and methods outside the standard ones share `method="OTHER"`.

use std::future::Future;
use std::hash::{Hash, Hasher};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use axum::extract::MatchedPath;
use axum::http::{Method, Request, Response};
use prometheus_client::encoding::{EncodeLabelSet, EncodeLabelValue, LabelValueEncoder};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::{Registry, Unit};

/// Latency buckets in seconds: 1 ms to 30 s.
const BUCKETS: [f64; 14] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0];

/// The route a request matched: the template (an `Arc<str>` shared with the router, so
/// labelling a request allocates nothing), or none.
#[derive(Clone, Debug)]
pub struct RouteLabel(Option<MatchedPath>);

impl RouteLabel {
    /// The label value.
    pub fn as_str(&self) -> &str {
        self.0.as_ref().map_or("unmatched", MatchedPath::as_str)
    }
}

impl PartialEq for RouteLabel {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for RouteLabel {}

impl Hash for RouteLabel {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

impl EncodeLabelValue for RouteLabel {
    fn encode(&self, encoder: &mut LabelValueEncoder) -> Result<(), std::fmt::Error> {
        EncodeLabelValue::encode(&self.as_str(), encoder)
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    route: RouteLabel,
    method: &'static str,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteMethodLabels {
    route: RouteLabel,
    method: &'static str,
}

/// The HTTP series; cheap to clone (shared).
#[derive(Clone)]
pub struct HttpMetrics {
    requests: Family<RequestLabels, Counter>,
    duration: Family<RouteMethodLabels, Histogram, fn() -> Histogram>,
}

impl Default for HttpMetrics {
    fn default() -> Self {
        fn histogram() -> Histogram {
            Histogram::new(BUCKETS)
        }
        Self { requests: Family::default(), duration: Family::new_with_constructor(histogram) }
    }
}

impl HttpMetrics {
    /// Registers the series under `http`.
    pub fn register(&self, registry: &mut Registry) {
        let registry = registry.sub_registry_with_prefix("http");
        registry.register(
            "requests",
            "HTTP requests answered, by matched route template, method and status",
            self.requests.clone(),
        );
        registry.register_with_unit(
            "request_duration",
            "Time from receiving a request to its response head, by matched route template and method \
             (a streamed body's transfer is not included)",
            Unit::Seconds,
            self.duration.clone(),
        );
    }

    /// The layer that records every request of a router.
    pub fn layer(&self) -> HttpMetricsLayer {
        HttpMetricsLayer(self.clone())
    }

    fn record(&self, route: RouteLabel, method: &'static str, status: u16, seconds: f64) {
        self.duration.get_or_create(&RouteMethodLabels { route: route.clone(), method }).observe(seconds);
        self.requests.get_or_create(&RequestLabels { route, method, status }).inc();
    }
}

/// A bounded label for a method.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::OPTIONS => "OPTIONS",
        _ => "OTHER",
    }
}

/// Records requests into [`HttpMetrics`]; add it to a router with `Router::layer` (outermost,
/// so timeouts and caught panics are counted with their status).
#[derive(Clone)]
pub struct HttpMetricsLayer(HttpMetrics);

impl<S> tower::Layer<S> for HttpMetricsLayer {
    type Service = HttpMetricsService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        HttpMetricsService { inner, metrics: self.0.clone() }
    }
}

/// The service of [`HttpMetricsLayer`].
#[derive(Clone)]
pub struct HttpMetricsService<S> {
    inner: S,
    metrics: HttpMetrics,
}

impl<S, B, ResBody> tower::Service<Request<B>> for HttpMetricsService<S>
where
    S: tower::Service<Request<B>, Response = Response<ResBody>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let route = RouteLabel(request.extensions().get::<MatchedPath>().cloned());
        let method = method_label(request.method());
        ResponseFuture {
            inner: self.inner.call(request),
            start: Instant::now(),
            labels: Some((route, method)),
            metrics: self.metrics.clone(),
        }
    }
}

pin_project_lite::pin_project! {
    /// The future of [`HttpMetricsService`]: records when the response head is ready.
    pub struct ResponseFuture<F> {
        #[pin]
        inner: F,
        start: Instant,
        labels: Option<(RouteLabel, &'static str)>,
        metrics: HttpMetrics,
    }
}

impl<F, ResBody, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<Response<ResBody>, E>>,
{
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let output = std::task::ready!(this.inner.poll(cx));
        if let (Ok(response), Some((route, method))) = (&output, this.labels.take()) {
            this.metrics.record(route, method, response.status().as_u16(), this.start.elapsed().as_secs_f64());
        }
        Poll::Ready(output)
    }
}
