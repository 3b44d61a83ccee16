//! Logging: `tracing` to stderr, filtered by `RUST_LOG` (default `info`), as text or JSON.
//! Text is coloured only when stderr is a terminal and `NO_COLOR` is unset, so files, pipes
//! and journald get plain lines; JSON never carries colour codes.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

/// Log output format.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines, coloured on a terminal.
    #[default]
    Text,
    /// One JSON object per line, for log shippers.
    Json,
}

/// Whether text logs may use ANSI colours: stderr is a terminal and `NO_COLOR` is unset or empty.
fn colour() -> bool {
    std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// Installs the global subscriber once. SQL statements are logged only at `debug` for `sqlx`.
pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tower_http=warn"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Text => builder.compact().with_ansi(colour()).try_init(),
        LogFormat::Json => builder.json().with_ansi(false).try_init(),
    };
}
