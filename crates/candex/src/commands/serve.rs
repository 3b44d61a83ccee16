//! `candex serve`: open the database, bind the listener, optionally load the demo, serve until
//! SIGINT or SIGTERM.

use std::time::Duration;

use anyhow::Context;
use base64::Engine;
use candex_server::config::{GraphqlLimits, HttpLimits, Rate, RateLimits, TokenSettings};
use candex_server::{Application, Settings};
use tokio::net::TcpListener;

use super::Outcome;
use crate::cli::{LimitArgs, ServeArgs, WebhookArgs};
use crate::{database, demo};
use candex_server::webhooks::{RetrySchedule, WebhookSettings};

/// The operator key `--demo` uses when none is configured.
pub const DEMO_OPERATOR_KEY: &str = "demo-operator-key";

/// Runs the server.
pub async fn run(args: ServeArgs) -> anyhow::Result<Outcome> {
    let scheme = super::parse_scheme(&args.scheme)?;
    let signing_key = args
        .token_signing_key
        .as_deref()
        .map(|k| base64::engine::general_purpose::STANDARD.decode(k.trim()))
        .transpose()
        .context("--token-signing-key must be base64")?;
    let master_key = match super::admin::master_key(&args.master_key)? {
        Some(key) => key,
        None if args.demo => demo_master_key(&args.db.database)?,
        None => anyhow::bail!(super::admin::NO_MASTER_KEY),
    };
    let (blob_location, attachments) = crate::blobs::settings(&args.db.database, &args.blobs)?;
    // One server per SQLite file: a second one would fight the first for the write lock and
    // run a second retention sweep and dispatcher; refuse before touching the database.
    let mut serve_lock = match database::DatabaseUrl::parse(&args.db.database)?.sqlite_path() {
        Some(path) => Some(crate::serve_lock::ServeLock::acquire(path)?),
        None => None,
    };
    let store = database::open(&args.db.database, database::Create::IfMissing).await?;
    let listener = TcpListener::bind(&args.listen.addrs[..]).await.with_context(|| {
        format!("failed to listen on {} (is another server using it? choose another with --listen)", args.listen)
    })?;
    if let Some(lock) = &mut serve_lock {
        let addr = listener.local_addr().context("failed to read the listener address")?;
        lock.record(&format!("pid {}, listening on http://{addr}", std::process::id()))?;
    }
    let operator_key = args.operator_key.clone().or_else(|| args.demo.then(|| DEMO_OPERATOR_KEY.to_owned()));
    let mut settings = Settings {
        public_url: args.public_url.clone(),
        master_key,
        scheme: scheme.clone(),
        tokens: TokenSettings {
            issuer: args.token_issuer.clone(),
            audience: args.token_audience.clone(),
            accepted_audiences: args
                .token_accepted_audiences
                .split(',')
                .map(str::trim)
                .filter(|a| !a.is_empty())
                .map(str::to_owned)
                .collect(),
            lifetime: Duration::from_secs(args.token_lifetime),
            signing_key,
        },
        blobs: Some(blob_location.clone()),
        attachments,
        webhooks: webhook_settings(&args.webhooks, args.demo),
        max_body_bytes: usize::try_from(args.limits.max_body_bytes).unwrap_or(usize::MAX),
        http: http_limits(&args.limits),
        graphql: graphql_limits(&args.limits),
        rate_limits: rate_limits(&args.limits),
        cors_allowed_origins: args.cors_allow_origins.clone(),
        process_history_on_applications: args.process_history_on_applications,
        ..Settings::default()
    };
    match &operator_key {
        Some(key) => settings = settings.with_operator_key(key),
        None => tracing::warn!(
            "no operator key configured (--operator-key / CANDEX_OPERATOR_KEY): the operator API answers 401"
        ),
    }
    let mut app = Application::build(settings, store.clone(), listener).await?;
    // Refuse to start on a database or attachment storage that does not work (wrong bucket,
    // credentials, endpoint, or a folder that cannot be written): better now, with the cause,
    // than a failing first upload. Later outages are reported by /readyz.
    app.check_dependencies().await.context("refusing to start")?;
    // `candex admin position create` gives job ads URLs under this one, as the operator API does.
    store.record_public_url(app.public_url(), chrono::Utc::now()).await.context("failed to record the public URL")?;
    if args.demo {
        let blobs = candex_server::storage::BlobStore::open(&blob_location)?;
        let info =
            demo::ensure(store, scheme, app.public_url(), blobs).await.context("failed to load the demo data")?;
        demo::print(&info, app.public_url(), operator_key.as_deref().unwrap_or(DEMO_OPERATOR_KEY));
        app.set_explorer_profile_id(info.example_profile_id.clone());
    }
    // Install the signal handlers before announcing readiness, so that a SIGTERM sent right
    // after the "listening" line is a graceful shutdown and not the default termination.
    let shutdown = shutdown_signal()?;
    spawn_retention(app.operator(), Duration::from_secs(args.webhooks.event_retention_days * 24 * 3600));
    tracing::info!(
        listen = %app.local_addr(), public_url = %app.public_url(), database = %database::redact(&args.db.database),
        "candex is listening on http://{}", app.local_addr()
    );
    app.run_until_stopped(shutdown).await?;
    drop(serve_lock);
    tracing::info!("candex stopped");
    Ok(Outcome::Done)
}

/// `--demo` without a master key: the key file beside the SQLite database (or in the current
/// folder for PostgreSQL), made owner-only on first use and reused after.
fn demo_master_key(database: &str) -> anyhow::Result<candex_server::auth::master_key::MasterKey> {
    use candex_server::auth::master_key::{self, MasterKey};
    let path = match crate::database::DatabaseUrl::parse(database)?.sqlite_path() {
        Some(file) => {
            let mut name = file.as_os_str().to_owned();
            name.push(".master-key");
            std::path::PathBuf::from(name)
        }
        None => std::path::PathBuf::from("candex-demo.master-key"),
    };
    if path.exists() {
        tracing::info!(path = %path.display(), "demo: using the master key in {}", path.display());
        return MasterKey::from_file(&path);
    }
    let key = master_key::write_new_key_file(&path)?;
    tracing::warn!(
        path = %path.display(), master_key = %key.id(),
        "demo: generated a master key in {} (mode 0600); outside --demo pass --master-key-file", path.display()
    );
    Ok(key)
}

fn webhook_settings(args: &WebhookArgs, demo: bool) -> WebhookSettings {
    WebhookSettings {
        allow_private_targets: args.allow_private_webhook_targets || demo,
        timeout: Duration::from_millis(args.webhook_timeout_ms),
        retry: RetrySchedule {
            base: Duration::from_millis(args.webhook_retry_base_ms),
            max: Duration::from_secs(args.webhook_retry_max_secs),
        },
        concurrency: usize::try_from(args.webhook_concurrency).unwrap_or(16),
        retention: Duration::from_secs(args.event_retention_days * 24 * 3600),
        ..WebhookSettings::default()
    }
}

fn http_limits(args: &LimitArgs) -> HttpLimits {
    HttpLimits {
        max_connections: usize::try_from(args.max_connections).unwrap_or(usize::MAX),
        header_read_timeout: Duration::from_secs(args.header_read_timeout_secs),
        idle_timeout: Duration::from_secs(args.idle_timeout_secs),
        request_timeout: Duration::from_secs(args.request_timeout_secs),
        shutdown_grace: Duration::from_secs(args.shutdown_grace_secs),
        ..HttpLimits::default()
    }
}

fn graphql_limits(args: &LimitArgs) -> GraphqlLimits {
    let size = |v: u64| usize::try_from(v).unwrap_or(usize::MAX);
    GraphqlLimits {
        max_query_bytes: size(args.graphql_max_query_bytes),
        max_tokens: size(args.graphql_max_tokens),
        max_nesting: size(args.graphql_max_nesting),
        max_selections: size(args.graphql_max_selections),
        ..GraphqlLimits::default()
    }
}

/// Each budget's burst is five seconds' worth: a client that was quiet may catch up at once.
fn rate_limits(args: &LimitArgs) -> RateLimits {
    let rate = |per_second: u32| Rate::new(per_second, per_second.saturating_mul(5));
    RateLimits {
        token_per_address: rate(args.rate_token_per_address),
        token_per_client: rate(args.rate_token_per_client),
        anonymous_graphql_per_address: rate(args.rate_anonymous_per_address),
        partner: rate(args.rate_partner),
        trust_forwarded_for: args.trust_forwarded_for,
    }
}

/// Purges expired attachments (`--attachment-retention-days`), orphaned and temporary files
/// (older than `--orphan-grace-secs`) and events with their delivery records
/// (`--event-retention-days`) now and every hour.
fn spawn_retention(
    operator: std::sync::Arc<candex_server::operator::service::OperatorService>,
    event_retention: Duration,
) {
    tokio::spawn(async move {
        let mut every_hour = tokio::time::interval(Duration::from_secs(3600));
        every_hour.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            every_hour.tick().await;
            let now = chrono::Utc::now();
            if let Err(e) = operator.purge_expired_attachments(now).await {
                tracing::warn!(error = %e, "attachment retention purge failed; retrying in an hour");
            }
            if let Err(e) = operator.sweep_orphans(now).await {
                tracing::warn!(error = %e, "orphaned file sweep failed; retrying in an hour");
            }
            match operator.store().purge_events_before(now - event_retention).await {
                Ok(purged) if purged.events + purged.requests > 0 => {
                    tracing::info!(events = purged.events, requests = purged.requests, "event retention purge")
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "event retention purge failed; retrying in an hour"),
            }
        }
    });
}

/// Registers SIGINT (Ctrl-C) and SIGTERM handlers now and returns a future that completes on
/// the first of them.
fn shutdown_signal() -> anyhow::Result<impl std::future::Future<Output = ()> + Send + 'static> {
    #[cfg(unix)]
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .context("failed to listen for SIGTERM")?;
    #[cfg(unix)]
    let mut interrupt = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())
        .context("failed to listen for SIGINT")?;
    Ok(async move {
        #[cfg(unix)]
        tokio::select! {
            _ = terminate.recv() => {},
            _ = interrupt.recv() => {},
        }
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
        tracing::info!("shutting down: finishing in-flight requests");
    })
}
