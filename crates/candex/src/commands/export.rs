//! `candex export sync | listen | get`: wires flags to `candex-export` (client, state, sink,
//! progress), stops cleanly on Ctrl-C or SIGTERM, prints the summary and picks the exit code.

use std::io::IsTerminal;
use std::sync::Arc;
use std::time::Duration;

use anyhow::anyhow;
use candex_client::{Client, ClientConfig, ClientError};
use candex_export::listen::ListenOptions;
use candex_export::progress::Progress;
use candex_export::sink::Format;
use candex_export::sync::SyncOptions;
use candex_export::{open_sink, ExportError, Exporter, SinkSpec, State, Summary};
use tokio_util::sync::CancellationToken;

use super::Outcome;
use crate::cli::{ExportApiArgs, ExportCommand, ExportFormat, ExportProgress, ExportSinkArgs};

/// Runs an export command.
pub async fn run(command: ExportCommand) -> anyhow::Result<Outcome> {
    match command {
        ExportCommand::Sync(args) => {
            let options = SyncOptions {
                scheme_id: scheme_id(&args.api),
                since: args.since.as_deref().map(parse_since).transpose()?,
                follow: args.follow,
                poll_interval: Duration::from_secs(args.poll_interval_secs),
                retry_rejected: args.retry_rejected,
            };
            let exporter = open(&args.api, &args.sink).await?;
            let cancel = cancel_on_signal();
            let result = candex_export::sync::run(&exporter, &options, &cancel).await;
            finish(result, args.sink.out.trim() != "-")
        }
        ExportCommand::Listen(args) => {
            let options = ListenOptions {
                bind: args.bind,
                secret: args.secret.map(String::into_bytes),
                scheme_id: scheme_id(&args.api),
                poll_interval: (args.poll_interval_secs > 0).then(|| Duration::from_secs(args.poll_interval_secs)),
                since: args.since.as_deref().map(parse_since).transpose()?,
            };
            let exporter = Arc::new(open(&args.api, &args.sink).await?);
            let cancel = cancel_on_signal();
            let result = candex_export::listen::run(exporter, options, cancel, |addr| {
                tracing::info!("candex export is listening on http://{addr}");
            })
            .await;
            finish(result, args.sink.out.trim() != "-")
        }
        ExportCommand::Get(args) => {
            let client = client(&args.api)?;
            match client.candidate_profile_raw(args.profile_id.trim()).await {
                Ok(Some(profile)) => {
                    // The server's bytes, key order included (pipe through `jq` to pretty-print).
                    println!("{}", profile.get());
                    Ok(Outcome::Done)
                }
                Ok(None) => {
                    eprintln!(
                        "error: profile {} was not found (or is not visible to this partner)",
                        args.profile_id.trim()
                    );
                    Ok(Outcome::Partial)
                }
                // An id the server cannot parse is a usage error.
                Err(ClientError::Graphql { errors }) if errors.iter().any(|e| e.code() == Some("BAD_USER_INPUT")) => {
                    Err(anyhow!("{}", ClientError::Graphql { errors }))
                }
                Err(e @ (ClientError::TokenRejected { .. } | ClientError::Config { .. })) => Err(anyhow!(e)),
                Err(e) => {
                    eprintln!("error: {e}");
                    Ok(Outcome::Partial)
                }
            }
        }
    }
}

/// Prints the summary (a sentence on stderr; JSON on stdout unless stdout is the output) and
/// maps the result to an exit code: configuration errors are `Err` (exit 2); failures while
/// exporting are `Partial` (exit 1), since a rerun resumes them.
fn finish(result: Result<Summary, ExportError>, summary_on_stdout: bool) -> anyhow::Result<Outcome> {
    match result {
        Ok(summary) => {
            if summary_on_stdout {
                println!("{}", serde_json::to_string(&summary)?);
            }
            tracing::info!(
                profiles = summary.profiles,
                attachments = summary.attachments,
                bytes = summary.bytes,
                failures = summary.failures,
                retries = summary.retries,
                pending = summary.pending,
                "export finished"
            );
            eprintln!("{summary}");
            if summary.rejected > 0 {
                eprintln!(
                    "{} exports were rejected (profile gone, or not visible to this partner); they are not \
                     retried unless you pass --retry-rejected",
                    summary.rejected
                );
            }
            if summary.failures > 0 || summary.rejected > 0 || summary.pending > 0 {
                eprintln!("some exports did not complete; run the same command again to retry them");
                return Ok(Outcome::Partial);
            }
            Ok(Outcome::Done)
        }
        Err(e) if e.is_config() => Err(anyhow!(e)),
        Err(e) => {
            eprintln!("error: {e}");
            eprintln!("nothing exported so far is lost; run the same command again to resume");
            Ok(Outcome::Partial)
        }
    }
}

fn scheme_id(api: &ExportApiArgs) -> String {
    match (&api.scheme_id, &api.server) {
        (Some(scheme), _) => scheme.trim().to_owned(),
        (None, Some(_)) => candex_domain::Scheme::DEFAULT.to_owned(),
        (None, None) => "seekAnz".to_owned(),
    }
}

fn parse_since(value: &str) -> anyhow::Result<String> {
    chrono::DateTime::parse_from_rfc3339(value.trim())
        .map(|t| t.with_timezone(&chrono::Utc).to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
        .map_err(|e| anyhow!("--since {value:?}: not an RFC 3339 time such as 2026-11-01T00:00:00Z ({e})"))
}

fn client(api: &ExportApiArgs) -> anyhow::Result<Client> {
    let (id, secret) = (api.client_id.trim(), api.client_secret.trim());
    if id.is_empty() || secret.is_empty() {
        return Err(anyhow!("--client-id and --client-secret must not be empty"));
    }
    let mut config = ClientConfig::builder(id, secret).user_agent(concat!("candex-export/", env!("CARGO_PKG_VERSION")));
    if let Some(server) = &api.server {
        if !matches!(server.scheme(), "http" | "https") {
            return Err(anyhow!("--server {server}: use an http:// or https:// URL"));
        }
        config = config.server(server.as_str());
    }
    if let Some(audience) = api.audience.as_deref().map(str::trim).filter(|a| !a.is_empty()) {
        config = config.audience(audience);
    }
    Ok(Client::new(config.build())?)
}

async fn open(api: &ExportApiArgs, sink: &ExportSinkArgs) -> anyhow::Result<Exporter> {
    let client = client(api)?;
    let format = sink.format.map(|f| match f {
        ExportFormat::Dir => Format::Dir,
        ExportFormat::Ndjson => Format::Ndjson,
    });
    let spec = SinkSpec::parse(&sink.out, format, sink.blobs.clone())?;
    let state_path = sink.state.clone().unwrap_or_else(|| spec.default_state());
    let state = State::open(&state_path).await?;
    let out = open_sink(&spec, &state).await?;
    tracing::info!(sink = %out.describe(), state = %state_path.display(), "export output");
    let interactive = match sink.progress {
        ExportProgress::Auto => std::io::stderr().is_terminal(),
        ExportProgress::Bar => true,
        ExportProgress::Log => false,
    };
    let progress = Progress::new(interactive, Duration::from_secs(5));
    Ok(Exporter::new(client, state, out, usize::from(sink.concurrency), progress))
}

/// A token cancelled by Ctrl-C or SIGTERM: in-flight exports finish, nothing new starts.
fn cancel_on_signal() -> CancellationToken {
    let cancel = CancellationToken::new();
    let token = cancel.clone();
    tokio::spawn(async move {
        #[cfg(unix)]
        let term = async {
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(mut s) => {
                    s.recv().await;
                }
                Err(_) => std::future::pending::<()>().await,
            }
        };
        #[cfg(not(unix))]
        let term = std::future::pending::<()>();
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term => {}
        }
        tracing::info!("stopping: letting exports in flight finish");
        token.cancel();
    });
    cancel
}
