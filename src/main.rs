//! `kubectl-netem`: a kubectl plugin that injects a netem agent into TiDB pods and sets,
//! lists or clears network delay on them through the API server's port-forward.

mod agent_client;
mod calls;
mod cli;
mod commands;
mod complete;
mod connect;
mod destinations;
mod edit;
mod ephemeral;
mod errors;
mod fanout;
mod group;
mod guarded;
mod manifest;
mod patch;
mod pod_error;
mod pods;
mod preflight;
mod report;
mod rollout;
mod rule_calls;
mod target;
mod v1;
mod v2;
mod workload;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    match runtime.block_on(commands::run(cli)) {
        Ok(code) => code,
        Err(err) => {
            // One line, like kubectl: the chain of causes joined.
            eprintln!("error: {}", errors::render(&err));
            ExitCode::FAILURE
        }
    }
}
