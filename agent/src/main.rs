//! netem-agent: sets, reads and clears a netem qdisc over netlink behind an HTTP API.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};
use netem_agent::agent::Config;
use netem_agent::{health, server, watchdog};
use netem_api::contract::{LISTEN, STATE_FILE};
use netem_api::spec::parse_duration;

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
    /// Where to remember what the agent set, so a restarted agent adopts it with its ttl and
    /// distribution. Only a regular file the agent wrote is ever replaced or removed.
    #[arg(long, default_value = STATE_FILE)]
    state_file: PathBuf,
    /// Keep no state file (e.g. an ephemeral container without a writable volume): a
    /// restarted agent adopts its qdisc by its handle (4e45:), without ttl or distribution.
    #[arg(long, conflicts_with = "state_file")]
    no_state_file: bool,
    /// How often the agent checks its own /healthz; after 3 failures in a row it exits so
    /// the container is restarted. 0 disables.
    #[arg(long, default_value = "15s", value_parser = interval)]
    watchdog_interval: Duration,
    /// Where the watchdog checks (tests only: a dead port makes it fire).
    #[arg(long, hide = true)]
    watchdog_target: Option<SocketAddr>,
    /// On SIGTERM/SIGINT, leave the netem qdisc the agent set in place.
    #[arg(long)]
    keep_on_exit: bool,
}

fn interval(s: &str) -> Result<Duration, String> {
    parse_duration(s).map_err(|e| e.reason)
}

const _: () = assert!(
    watchdog::DEFAULT_INTERVAL.as_secs() == 15,
    "the default above"
);

#[derive(Subcommand)]
enum Command {
    /// Exit 0 iff the agent answers GET /healthz with 200 (for people and scripts).
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
        state_file: (!cli.no_state_file).then_some(cli.state_file),
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
    let options = server::Options {
        listen: cli.listen,
        watchdog_interval: cli.watchdog_interval,
        watchdog_target: cli.watchdog_target,
    };
    match runtime.block_on(server::run(config, options)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("netem-agent: {e}");
            ExitCode::FAILURE
        }
    }
}
