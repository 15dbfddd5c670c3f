//! One module per subcommand; `run` dispatches.

use std::process::ExitCode;

use crate::cli::{Cli, Command};

mod clear;
mod completions;
mod delay;
mod eject;
mod inject;
mod partition;
mod status;

/// Runs the parsed command line; the exit code reports partial failures.
pub async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Completions(args) => completions::run(&args),
        Command::Complete(args) => {
            crate::complete::run(
                <Cli as clap::CommandFactory>::command(),
                &args.words,
                &cli.conn,
            )
            .await
        }
        Command::Inject(args) => inject::run(&cli.conn, &args).await,
        Command::Eject(args) => eject::run(&cli.conn, &args).await,
        Command::Delay(args) => delay::run(&cli.conn, &args).await,
        Command::Partition(args) => partition::run(&cli.conn, &args).await,
        Command::Clear(args) => clear::run(&cli.conn, &args).await,
        Command::Status(args) => status::run(&cli.conn, &args).await,
    }
}
