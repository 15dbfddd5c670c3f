//! One module per subcommand; `run` dispatches.

use std::process::ExitCode;

use crate::cli::{Cli, Command};

mod completions;

/// Image of the agent container that `inject` adds when `--image` is not given.
pub const DEFAULT_IMAGE: &str = concat!("ghcr.io/kubectl-netem/netem-agent:", env!("CARGO_PKG_VERSION"));

/// Runs the parsed command line; the exit code reports partial failures.
pub async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Completions(args) => completions::run(&args),
        other => anyhow::bail!("{other:?} is not implemented yet"),
    }
}
