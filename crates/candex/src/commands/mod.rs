//! One module per command; `dispatch` routes a parsed command to it.

pub mod admin;
pub mod export;
pub mod generate;
pub mod import;
pub mod seed;
pub mod serve;

use crate::cli::Command;

/// How a command ended (errors are `Err`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Everything succeeded.
    Done,
    /// Some input was rejected; the rest was stored.
    Partial,
}

/// Runs one command.
pub async fn dispatch(command: Command) -> anyhow::Result<Outcome> {
    match command {
        Command::Serve(args) => serve::run(*args).await,
        Command::Admin(cmd) => admin::run(cmd).await,
        Command::Import(args) => import::run(args).await,
        Command::Seed(args) => seed::run(args).await,
        Command::Export(cmd) => export::run(cmd).await,
        Command::Completions(args) => generate::completions(&args),
        Command::Man(args) => generate::man(&args),
    }
}

/// Parses a `--scheme` value with a clear error.
pub fn parse_scheme(value: &str) -> anyhow::Result<candex_domain::Scheme> {
    candex_domain::Scheme::parse(value).map_err(|e| anyhow::anyhow!("--scheme {value:?}: {e}"))
}
