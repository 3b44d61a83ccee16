//! The `candex` command: `serve`, `admin`, `import`, `seed` and `export`. Each command lives in
//! `commands/`; `cli` declares the flags; `synth` generates deterministic data for the demo
//! and for benchmarks.

pub mod blobs;
pub mod cli;
pub mod commands;
pub mod config;
pub mod database;
pub mod demo;
pub mod serve_lock;
pub mod synth;
pub mod telemetry;

use std::process::ExitCode;

/// Runs a parsed command line on a fresh Tokio runtime. Exit codes: 0 success, 1 partial
/// failure (some input rejected), 2 usage, configuration or fatal error.
pub fn run(cli: cli::Cli) -> ExitCode {
    telemetry::init(cli.log_format);
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: failed to start the async runtime: {e}");
            return ExitCode::from(2);
        }
    };
    match runtime.block_on(commands::dispatch(cli.command)) {
        Ok(commands::Outcome::Done) => ExitCode::SUCCESS,
        Ok(commands::Outcome::Partial) => ExitCode::from(1),
        Err(e) => {
            eprintln!("error: {}", report(&e));
            ExitCode::from(2)
        }
    }
}

/// `e` and its causes, `: `-separated like `{e:#}`, except that a cause whose text is already in
/// the message is left out: errors such as `candex_client::ClientError` and `ExportError::Io`
/// spell their cause out and also return it from `source()`.
fn report(e: &anyhow::Error) -> String {
    let mut text = e.to_string();
    for cause in e.chain().skip(1) {
        let cause = cause.to_string();
        if !text.contains(&cause) {
            text.push_str(": ");
            text.push_str(&cause);
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An error that spells its cause out and also returns it from `source()`.
    #[derive(Debug)]
    struct Spelled {
        source: std::io::Error,
    }

    impl std::fmt::Display for Spelled {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "I/O error on /x: {}", self.source)
        }
    }

    impl std::error::Error for Spelled {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&self.source)
        }
    }

    #[test]
    fn report_leaves_out_causes_the_message_already_gives() {
        let io = || std::io::Error::new(std::io::ErrorKind::PermissionDenied, "denied");
        let e = anyhow::Error::new(Spelled { source: io() }).context("opening the state");
        assert_eq!(report(&e), "opening the state: I/O error on /x: denied");
        let e = anyhow::Error::new(io()).context("opening the state");
        assert_eq!(report(&e), format!("{e:#}"));
        assert_eq!(report(&e), "opening the state: denied");
    }
}
