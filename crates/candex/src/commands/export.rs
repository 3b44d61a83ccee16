//! `candex export sync | listen | get`: wires flags to `candex-export` (client, state, sink,
//! progress), stops cleanly on Ctrl-C or SIGTERM, prints the summary and picks the exit code.

use std::io::IsTerminal;
use std::sync::Arc;
use std::time::Duration;

use anyhow::anyhow;
use candex_client::{Client, ClientConfig, ClientError};
use candex_export::listen::ListenOptions;
use candex_export::progress::{plural, Progress};
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
            finish(result, args.sink.out.trim() == "-")
        }
        ExportCommand::Listen(args) => {
            if let Some(secret) = &args.secret {
                check_webhook_secret(secret)?;
            }
            let options = ListenOptions {
                bind: args.bind.addrs[0],
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
            finish(result, args.sink.out.trim() == "-")
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

/// Says once how the run went, and maps the result to an exit code: configuration errors are
/// `Err` (exit 2); failures while exporting are `Partial` (exit 1), since a rerun resumes them.
///
/// The summary sentence goes to stderr: printed on a terminal, a log line otherwise (so log
/// files get one structured record). JSON goes to stdout only when stdout is neither a terminal
/// nor the output itself, for scripts.
fn finish(result: Result<Summary, ExportError>, stdout_is_output: bool) -> anyhow::Result<Outcome> {
    match result {
        Ok(summary) => {
            if !stdout_is_output && !std::io::stdout().is_terminal() {
                println!("{}", serde_json::to_string(&summary)?);
            }
            if std::io::stderr().is_terminal() {
                eprintln!("{summary}");
            } else {
                tracing::info!(
                    profiles = summary.profiles,
                    attachments = summary.attachments,
                    bytes = summary.bytes,
                    failures = summary.failures,
                    rejected = summary.rejected,
                    retries = summary.retries,
                    pending = summary.pending,
                    "export finished: {summary}"
                );
            }
            for line in advice(&summary) {
                eprintln!("{line}");
            }
            if summary.failures > 0 || summary.rejected > 0 || summary.pending > 0 {
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

/// What to do about what did not complete: failed and pending exports are retried by running
/// the same command again; rejected ones only with --retry-rejected.
fn advice(summary: &Summary) -> Vec<String> {
    let mut lines = Vec::new();
    let unfinished = summary.failures.max(summary.pending);
    if unfinished > 0 {
        lines.push(format!(
            "{} did not complete; run the same command again to retry {}",
            plural(unfinished, "export", "exports"),
            if unfinished == 1 { "it" } else { "them" }
        ));
    }
    if summary.rejected > 0 {
        lines.push(format!(
            "{} rejected (the profile is gone, or not visible to this partner); a rerun skips {}: pass \
             --retry-rejected to try again, e.g. after the hirer restored the relationship",
            if summary.rejected == 1 {
                "1 export was".to_owned()
            } else {
                format!("{} exports were", summary.rejected)
            },
            if summary.rejected == 1 { "it" } else { "them" }
        ));
    }
    lines
}

/// The subscription's secret as the server accepts one (16 characters to 255 UTF-8 bytes),
/// so a typo is caught here and not by every webhook failing its signature check. The message
/// never repeats the secret.
fn check_webhook_secret(secret: &str) -> anyhow::Result<()> {
    let chars = secret.chars().count();
    if chars < 16 {
        return Err(anyhow!(
            "--secret is {chars} characters long; a webhook subscription's secret has at least 16 (the server \
             refuses shorter ones), so this cannot be the subscription's secret"
        ));
    }
    if secret.len() > 255 {
        return Err(anyhow!(
            "--secret is {} bytes long; a webhook subscription's secret has at most 255",
            secret.len()
        ));
    }
    Ok(())
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn webhook_secrets_are_checked_as_the_server_checks_them() {
        let short = check_webhook_secret("hunter2").unwrap_err().to_string();
        assert!(short.contains("7 characters") && short.contains("at least 16") && !short.contains("hunter2"));
        check_webhook_secret(&"é".repeat(16)).expect("16 characters, 32 bytes");
        assert!(check_webhook_secret(&"s".repeat(256)).unwrap_err().to_string().contains("at most 255"));
    }

    #[test]
    fn advice_never_contradicts_itself() {
        assert!(advice(&Summary { profiles: 3, ..Summary::default() }).is_empty());
        let rejected = advice(&Summary { rejected: 2, ..Summary::default() });
        assert_eq!(rejected.len(), 1, "{rejected:?}");
        assert!(rejected[0].starts_with("2 exports were rejected") && rejected[0].contains("--retry-rejected"));
        assert!(!rejected[0].contains("run the same command again"), "{rejected:?}");
        let both = advice(&Summary { failures: 1, pending: 1, rejected: 1, ..Summary::default() });
        assert!(both[0].starts_with("1 export did not complete; run the same command again to retry it"), "{both:?}");
        assert!(both[1].starts_with("1 export was rejected") && both[1].contains("a rerun skips it"), "{both:?}");
    }
}
