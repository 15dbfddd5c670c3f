//! netem-agent: sets, reads and clears a netem qdisc over netlink behind an HTTP API.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};
use netem_agent::agent::Config;
use netem_agent::{health, server};
use netem_api::contract::{LISTEN, STATE_FILE};

/// Sidecar that sets, reads and clears a netem qdisc (network delay, loss, ...) on the
/// pod's interface over netlink, behind a loopback HTTP API.
#[derive(Parser)]
#[command(name = "netem-agent", version)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// Address to listen on (an IP address and port; names are not resolved).
    #[arg(long, default_value = LISTEN)]
    listen: SocketAddr,
    /// Network interface to work on [default: the one carrying the default route].
    #[arg(long)]
    interface: Option<String>,
    /// Where to remember what the agent set, so a restarted agent adopts it.
    #[arg(long, default_value = STATE_FILE)]
    state_file: PathBuf,
    /// On SIGTERM/SIGINT, leave the netem qdisc the agent set in place.
    #[arg(long)]
    keep_on_exit: bool,
}

#[derive(Subcommand)]
enum Command {
    /// Exit 0 iff the agent answers GET /healthz with 200 (an exec probe).
    Health {
        /// The agent's listen address.
        #[arg(long, default_value = LISTEN)]
        listen: SocketAddr,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Some(Command::Health { listen }) = cli.command {
        return match health::check(listen, Duration::from_secs(3)) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("netem-agent health: {e}");
                ExitCode::FAILURE
            }
        };
    }
    let config = Config {
        interface: cli.interface,
        state_file: cli.state_file,
        keep_on_exit: cli.keep_on_exit,
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .max_blocking_threads(4)
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("netem-agent: cannot start: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(server::run(config, cli.listen)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("netem-agent: {e}");
            ExitCode::FAILURE
        }
    }
}
