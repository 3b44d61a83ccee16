//! The `candex` binary: parse the command line, run it, map the outcome to an exit code.

use clap::Parser;

/// mimalloc rather than the system allocator: allocation was about 14% of server CPU on the
/// candidateProfile benchmark (glibc malloc/free/consolidate), see bench/RESULTS.md.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    let cli = candex::cli::Cli::parse();
    candex::run(cli)
}
