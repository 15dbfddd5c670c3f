//! `kubectl-netem completions SHELL`: completion scripts generated from the clap definition.

use std::io;
use std::process::ExitCode;

use clap::CommandFactory;

use crate::cli::{Cli, CompletionsArgs};

/// Writes the completion script for `args.shell` to stdout.
pub fn run(args: &CompletionsArgs) -> anyhow::Result<ExitCode> {
    let mut cmd = Cli::command();
    clap_complete::generate(args.shell, &mut cmd, "kubectl-netem", &mut io::stdout());
    Ok(ExitCode::SUCCESS)
}
