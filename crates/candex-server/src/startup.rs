//! Wiring: builds the router and state from settings, a store and a bound listener, and serves
//! until a shutdown signal.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::Router;
use candex_store::Store;
use tokio::net::TcpListener;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::auth::tokens::TokenService;
use crate::config::{HttpLimits, Settings};
use crate::graphql::{build_schema, build_schema_validating, SchemaContext};
use crate::operator::service::OperatorService;
use crate::state::AppState;
use crate::webhooks::dispatcher::Dispatcher;
use tokio_util::sync::CancellationToken;

/// A built server, bound to its listener and ready to serve.
pub struct Application {
    listener: TcpListener,
    local_addr: SocketAddr,
    state: AppState,
    body_limit: usize,
    http: HttpLimits,
    cors_allowed_origins: Vec<String>,
    dispatcher: Option<Dispatcher>,
}

impl Application {
    /// Builds the server on an already bound listener (port 0 is fine; see [`Self::local_addr`]).
    pub async fn build(settings: Settings, store: Arc<dyn Store>, listener: TcpListener) -> anyhow::Result<Self> {
        let local_addr = listener.local_addr().context("failed to read the listener address")?;
        let cors_allowed_origins = settings
            .cors_allowed_origins
            .iter()
            .map(|o| crate::http::cors::parse_origin(o).map_err(anyhow::Error::msg))
            .collect::<anyhow::Result<Vec<_>>>()
            .context("invalid CORS origin")?;
        let public_url = match &settings.public_url {
            Some(url) => url.as_str().trim_end_matches('/').to_owned(),
            None => default_public_url(local_addr),
        };
        crate::auth::master_key::seal_plaintext_secrets(store.as_ref(), &settings.master_key).await?;
        let key_store: Arc<dyn candex_store::KeyStore> = store.clone();
        let tokens = TokenService::load(key_store, settings.master_key.clone(), &settings.tokens, &public_url).await?;
        let blobs =
            crate::storage::BlobStore::open(settings.blobs.as_ref().unwrap_or(&crate::storage::BlobLocation::Memory))
                .context("failed to open attachment storage")?;
        let metrics = Arc::new(crate::metrics::Metrics::new(store.backend(), blobs.counters()));
        let dispatcher = crate::webhooks::Waker::default();
        let operator = OperatorService::new(store.clone(), settings.scheme.clone(), &public_url)
            .with_attachments(blobs.clone(), settings.attachments.clone())
            .with_waker(dispatcher.clone())
            .with_counters(metrics.operator().clone());
        let webhook_dispatcher = if settings.webhooks.dispatch {
            Some(
                Dispatcher::new(
                    store.clone(),
                    settings.webhooks.clone(),
                    settings.scheme.clone(),
                    dispatcher.clone(),
                    metrics.webhooks().clone(),
                    settings.master_key.clone(),
                )
                .context("failed to build the webhook dispatcher")?,
            )
        } else {
            None
        };
        let context = SchemaContext {
            store: store.clone(),
            scheme: settings.scheme.clone(),
            public_url: public_url.clone(),
            webhook_targets: settings.webhooks.target_policy(),
            dispatcher: dispatcher.clone(),
            process_history_on_applications: settings.process_history_on_applications,
            master_key: settings.master_key.clone(),
        };
        let proven_schema = build_schema_validating(context.clone(), async_graphql::ValidationMode::Fast);
        let schema = build_schema(context);
        let field_types = Arc::new(crate::graphql::field_errors::FieldTypes::from_sdl(&schema.sdl()));
        let state = AppState::new(crate::state::Shared {
            store,
            tokens: Arc::new(tokens),
            operator: Arc::new(operator),
            operator_key_hash: settings.operator_key_hash,
            schema,
            proven_schema,
            docs: Arc::new(crate::graphql::doc_cache::DocCache::new(settings.graphql.cache_bytes)),
            guard: Arc::new(crate::graphql::guard::Guard::new(settings.graphql.clone())),
            field_types,
            limiter: Arc::new(crate::http::rate_limit::RateLimiter::new(&settings.rate_limits)),
            scheme: settings.scheme.clone(),
            public_url: public_url.into(),
            blobs,
            attachments: Arc::new(settings.attachments.clone()),
            max_body_bytes: settings.max_body_bytes,
            readiness: Arc::default(),
            explorer: Arc::default(),
            metrics,
        });
        Ok(Self {
            listener,
            local_addr,
            state,
            body_limit: settings.max_body_bytes,
            http: settings.http,
            cors_allowed_origins,
            dispatcher: webhook_dispatcher,
        })
    }

    /// The bound address.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The public base URL (audience of partner tokens).
    pub fn public_url(&self) -> &str {
        &self.state.public_url
    }

    /// Prefills the explorer's `$id` with `profile_id` (the demo's example profile).
    pub fn set_explorer_profile_id(&mut self, profile_id: String) {
        self.state.make_mut().explorer =
            Arc::new(crate::graphql::explorer::ExplorerSettings { example_profile_id: Some(profile_id) });
    }

    /// Checks that the database answers and that the attachment storage can be written, read
    /// and deleted from (a probe object), each within a few seconds. `candex serve` refuses
    /// to start when this fails; `/readyz` repeats the read-only part while serving.
    pub async fn check_dependencies(&self) -> Result<(), crate::http::readiness::Unready> {
        crate::http::readiness::check_database(self.state.store.as_ref()).await?;
        crate::http::readiness::check_storage(&self.state.blobs, true).await
    }

    /// The operator use cases, e.g. for loading demo data before serving.
    pub fn operator(&self) -> Arc<OperatorService> {
        self.state.operator.clone()
    }

    /// Serves (and dispatches webhooks) until `shutdown` completes, then drains in-flight
    /// requests for at most `settings.http.shutdown_grace` (see [`crate::http::serve`]) and lets
    /// webhook requests in flight finish and be recorded.
    pub async fn run_until_stopped(self, shutdown: impl Future<Output = ()> + Send + 'static) -> anyhow::Result<()> {
        let stop = CancellationToken::new();
        let dispatching = self.dispatcher.map(|d| tokio::spawn(d.run(stop.clone())));
        let router = router(self.state, self.body_limit, self.http.request_timeout, &self.cors_allowed_origins);
        crate::http::serve::serve(self.listener, router, self.http, shutdown).await;
        stop.cancel();
        if let Some(task) = dispatching {
            if let Err(e) = task.await {
                tracing::error!(error = %e, "webhook dispatcher task failed");
            }
        }
        Ok(())
    }
}

fn default_public_url(addr: SocketAddr) -> String {
    if addr.ip().is_unspecified() {
        format!("http://localhost:{}", addr.port())
    } else {
        format!("http://{addr}")
    }
}

/// Every route of the server; a request taking longer than `request_timeout` (body reading
/// included) is answered `408`. The routes a browser token may call from another origin
/// (`/graphql` and attachment downloads) answer CORS for `cors_origins`. The HTTP metrics
/// layer is outermost, so every answer is counted with its final status (a timeout's 408, a
/// caught panic's 500) and the time it took, by matched route template.
pub fn router(state: AppState, body_limit: usize, request_timeout: Duration, cors_origins: &[String]) -> Router {
    let browser_token_routes = Router::new()
        .route("/graphql", post(crate::graphql::graphql_handler).get(crate::graphql::explorer::explorer))
        .route(
            &crate::attachments::download::route_path(&state.scheme),
            get(crate::attachments::download::download).head(crate::attachments::download::download),
        )
        .layer(crate::http::cors::layer(cors_origins));
    let http_metrics = state.metrics.http_layer();
    Router::new()
        .merge(browser_token_routes)
        .route("/assets/{file}", get(crate::http::assets::serve))
        .route("/oauth/token", post(crate::auth::oauth::token))
        .route("/auth/token", post(crate::auth::browser::token))
        .route("/healthz", get(crate::http::healthz))
        .route("/readyz", get(crate::http::readiness::readyz))
        .route("/metrics", get(crate::http::metrics))
        .nest("/operator/v1", crate::operator::routes::router())
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(TimeoutLayer::with_status_code(axum::http::StatusCode::REQUEST_TIMEOUT, request_timeout))
        .layer(CatchPanicLayer::new())
        .layer(TraceLayer::new_for_http())
        .layer(http_metrics)
        .with_state(state)
}
