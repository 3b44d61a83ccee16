//! The `candex` command: `serve`, `admin`, `import`, `seed` and `export`. Each command lives in
//! `commands/`; `cli` declares the flags; `synth` generates deterministic data for the demo
//! and for benchmarks.

pub mod blobs;
pub mod cli;
pub mod commands;
pub mod database;
pub mod demo;
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
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}
