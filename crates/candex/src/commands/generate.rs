//! `candex completions` and `candex man`: shell completion scripts and man pages generated from
//! the command-line definition, so they never drift from `--help`.

use std::io::Write;

use clap::CommandFactory;

use super::Outcome;
use crate::cli::{Cli, CompletionsArgs, ManArgs};

/// Prints the completion script for one shell.
pub fn completions(args: &CompletionsArgs) -> anyhow::Result<Outcome> {
    let mut cmd = Cli::command();
    let mut out = Vec::new();
    clap_complete::generate(args.shell, &mut cmd, "candex", &mut out);
    write_stdout(&out)?;
    Ok(Outcome::Done)
}

/// Prints the top-level man page, or writes every page into `--out-dir`.
pub fn man(args: &ManArgs) -> anyhow::Result<Outcome> {
    let cmd = Cli::command();
    match &args.out_dir {
        Some(dir) => {
            std::fs::create_dir_all(dir).map_err(|e| anyhow::anyhow!("creating {}: {e}", dir.display()))?;
            clap_mangen::generate_to(cmd, dir)
                .map_err(|e| anyhow::anyhow!("writing man pages into {}: {e}", dir.display()))?;
        }
        None => {
            let mut out = Vec::new();
            clap_mangen::Man::new(cmd).render(&mut out)?;
            write_stdout(&out)?;
        }
    }
    Ok(Outcome::Done)
}

/// Writes to stdout; a closed pipe (`candex man | head`) is not an error.
fn write_stdout(bytes: &[u8]) -> anyhow::Result<()> {
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(bytes).and_then(|()| stdout.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(()),
    }
}
