//! The `candex` binary: parse the command line, run it, map the outcome to an exit code.

use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = candex::cli::Cli::parse();
    candex::run(cli)
}
