//! The command line: one definition that drives parsing, `--help` and the shell completions.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};
use netem_api::contract::DEFAULT_IMAGE;
use netem_api::rules::Cidr;
use netem_api::spec::{Distribution, Percent, Rate, parse_duration, parse_percent, parse_rate};

use crate::target::{Target, WorkloadTarget, parse_target, parse_workload};

pub mod values;

/// Add network delay (netem) to TiDB pods on Kubernetes, and take it away again.
///
/// `inject` puts a small agent container into the pods of a TidbCluster (or StatefulSet), or
/// of a TiDB Operator v2 cluster's groups;
/// `delay`, `clear` and `status` talk to each pod's agent through the API server's
/// port-forward, so RBAC on `pods/portforward` is the gate and nothing listens on the pod IP.
#[derive(Debug, Parser)]
#[command(
    name = "kubectl-netem",
    bin_name = "kubectl netem",
    version,
    propagate_version = true,
    after_help = "Examples:
  kubectl netem inject tidb-cluster/basic --yes --wait    add the agent (pods restart)
  kubectl netem inject cluster/basic --yes --wait         the same on TiDB Operator v2
  kubectl netem delay basic-pd-0 20ms                     20 ms on everything basic-pd-0 sends
  kubectl netem delay tc/basic 50ms --jitter 10ms --component tikv --for 10m
  kubectl netem delay basic-tidb-0 30ms --to-component tikv   only what basic-tidb-0 sends to TiKV
  kubectl netem partition basic-tikv-0 --from tc/basic        cut one TiKV off the rest, both ways
  kubectl netem status -o wide                            what is in force, pod by pod
  kubectl netem clear --all                               every pod with the agent
  kubectl netem eject tidb-cluster/basic --yes            take the agent out again"
)]
pub struct Cli {
    #[command(flatten)]
    pub conn: ConnectionArgs,

    #[command(subcommand)]
    pub command: Command,
}

/// The connection flags a kubectl user expects; kubectl forwards none of them to plugins.
#[derive(Debug, Clone, Args, Default)]
#[command(next_help_heading = "Connection")]
pub struct ConnectionArgs {
    /// Namespace to use (default: the context's namespace, else "default").
    #[arg(short = 'n', long, global = true)]
    pub namespace: Option<String>,

    /// Kubeconfig context to use.
    #[arg(long, global = true)]
    pub context: Option<String>,

    /// Path to the kubeconfig file (default: $KUBECONFIG, else ~/.kube/config).
    #[arg(long, global = true)]
    pub kubeconfig: Option<PathBuf>,

    /// Kubeconfig cluster to use.
    #[arg(long, global = true)]
    pub cluster: Option<String>,

    /// Kubeconfig user to use.
    #[arg(long, global = true)]
    pub user: Option<String>,

    /// Time limit for each request to the API server, like kubectl's (e.g. 30s, 1m, or a
    /// number of seconds; 0 = none).
    #[arg(long, global = true, value_name = "DURATION", value_parser = values::request_timeout)]
    pub request_timeout: Option<Duration>,

    /// The API server's address (overrides the kubeconfig cluster's server).
    #[arg(short = 's', long, global = true, value_name = "URL", value_parser = values::server)]
    pub server: Option<hyper::Uri>,

    /// A CA certificate file (PEM) to verify the API server with (replaces the kubeconfig's).
    #[arg(long, global = true, value_name = "FILE")]
    pub certificate_authority: Option<PathBuf>,

    /// Do not verify the API server's certificate (insecure; drops the kubeconfig's CA).
    #[arg(long, global = true, num_args = 0..=1, require_equals = true,
          default_missing_value = "true", default_value_t = false, value_name = "BOOL",
          action = clap::ArgAction::Set)]
    pub insecure_skip_tls_verify: bool,

    /// Bearer token for the API server (replaces the kubeconfig user's credentials).
    #[arg(long, global = true, value_name = "TOKEN", value_parser = values::secret)]
    pub token: Option<values::Secret>,

    /// User to impersonate for the operation.
    #[arg(long = "as", global = true, value_name = "USER")]
    pub impersonate: Option<String>,

    /// Group to impersonate (repeatable); needs --as, as in kubectl.
    #[arg(
        long = "as-group",
        global = true,
        value_name = "GROUP",
        requires = "impersonate"
    )]
    pub impersonate_groups: Vec<String>,
}

impl ConnectionArgs {
    /// These flags, each falling back to `other`'s where not given.
    pub fn or(self, other: &ConnectionArgs) -> ConnectionArgs {
        let other = other.clone();
        ConnectionArgs {
            namespace: self.namespace.or(other.namespace),
            context: self.context.or(other.context),
            kubeconfig: self.kubeconfig.or(other.kubeconfig),
            cluster: self.cluster.or(other.cluster),
            user: self.user.or(other.user),
            request_timeout: self.request_timeout.or(other.request_timeout),
            server: self.server.or(other.server),
            certificate_authority: self.certificate_authority.or(other.certificate_authority),
            insecure_skip_tls_verify: self.insecure_skip_tls_verify
                || other.insecure_skip_tls_verify,
            token: self.token.or(other.token),
            impersonate: self.impersonate.or(other.impersonate),
            impersonate_groups: if self.impersonate_groups.is_empty() {
                other.impersonate_groups
            } else {
                self.impersonate_groups
            },
        }
    }
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Add the netem agent container to a TidbCluster's components (or a StatefulSet), or to
    /// a TiDB Operator v2 cluster's groups.
    ///
    /// The operator then restarts the pods one by one, so this asks first.
    ///
    /// The nodes must be able to pull the agent image (--image; by default the one of this
    /// plugin's version). If they cannot, build it from agent/Containerfile, push it to a
    /// registry they can pull from (or load it into the nodes, e.g. `kind load docker-image`)
    /// and pass --image; see "The agent image" in the README. With --wait, a pod that
    /// cannot pull it (or otherwise cannot become ready) is named within about 20 seconds.
    Inject(InjectArgs),
    /// Remove the netem agent container again, leaving the rest of the spec as it was.
    Eject(EjectArgs),
    /// Set network impairment (delay, loss, ...) on pods that carry the agent.
    Delay(DelayArgs),
    /// Cut pods off from others: 100 % loss to and from them (a rule, both directions).
    ///
    /// The same as `delay SOURCE 0 --loss 100% --to DEST --direction both`. Only the pod
    /// network is cut: the API server's port-forward reaches the agent over the pod's
    /// loopback, so status and clear still work. `kubectl netem clear SOURCE --to DEST`
    /// undoes it, on both sides.
    Partition(PartitionArgs),
    /// Remove the network impairment from pods that carry the agent.
    Clear(ClearArgs),
    /// Show the netem settings in force on pods that carry the agent.
    Status(StatusArgs),
    /// Print a shell completion script (bash, zsh, fish, powershell).
    #[command(hide = true)]
    Completions(CompletionsArgs),
    /// Answer kubectl's plugin completion: `kubectl_complete-netem ARGS... PARTIAL` runs this.
    #[command(name = "__complete", hide = true)]
    Complete(CompleteArgs),
}

/// Which components of a TidbCluster, and how to confirm and wait, for inject and eject.
#[derive(Debug, Clone, Args)]
pub struct RolloutArgs {
    /// Only these components (comma separated), e.g. pd,tikv: TidbCluster components, or the
    /// components of a v2 cluster's groups.
    #[arg(long, value_delimiter = ',', value_name = "NAMES")]
    pub component: Vec<String>,

    /// Do not ask for confirmation before pods are restarted (or, with --wait after eject,
    /// before a pod stuck on the old spec is deleted).
    #[arg(short = 'y', long)]
    pub yes: bool,

    /// Print the exact patch and change nothing (server-side dry run where supported).
    #[arg(long)]
    pub dry_run: bool,

    /// Wait until every targeted pod runs (inject) or no longer runs (eject) the agent;
    /// a pod that cannot become ready for 20s stops the wait, naming why.
    #[arg(long)]
    pub wait: bool,

    /// How long --wait waits.
    #[arg(long, default_value = "10m", value_name = "DURATION", value_parser = values::time_limit)]
    pub timeout: Duration,

    /// Patch a StatefulSet even though an operator manages it (it may undo the change).
    #[arg(long)]
    pub force: bool,
}

/// What `inject` and `eject` change, and how: the arguments they share.
#[derive(Debug, Clone, Args)]
pub struct ChangeArgs {
    /// tidb-cluster/NAME (tc/NAME) or statefulset/NAME (sts/NAME); a bare NAME is tried as a
    /// TidbCluster first. TiDB Operator v2: cluster/NAME, or one group (pdgroup/NAME, kvg/NAME, ...).
    #[arg(value_name = "TARGET", value_parser = parse_workload, required_unless_present = "filename")]
    pub target: Option<WorkloadTarget>,

    #[command(flatten)]
    pub manifest: ManifestArgs,

    #[command(flatten)]
    pub ephemeral: EphemeralArgs,

    #[command(flatten)]
    pub rollout: RolloutArgs,
}

/// Arguments of `inject`.
#[derive(Debug, Clone, Args)]
pub struct InjectArgs {
    #[command(flatten)]
    pub change: ChangeArgs,

    /// Agent image; the nodes must be able to pull it (build it from agent/Containerfile,
    /// push or load it, see "The agent image" in the README).
    #[arg(long, default_value = DEFAULT_IMAGE, value_parser = values::image)]
    pub image: String,

    /// Also make the agent listen on the pod IP, port 2332, and declare the port, so
    /// `curl POD_IP:2332/latency/20ms` works from inside the cluster. Anyone who can reach
    /// the pod network can then change the pod's network; the default is loopback only,
    /// reached through the API server's port-forward (RBAC on pods/portforward).
    #[arg(long, conflicts_with = "ephemeral")]
    pub expose: bool,
}

/// Arguments of `eject`.
#[derive(Debug, Clone, Args)]
pub struct EjectArgs {
    #[command(flatten)]
    pub change: ChangeArgs,
}

/// `--ephemeral`: act on running pods' ephemeral containers instead of a pod template.
#[derive(Debug, Clone, Args)]
pub struct EphemeralArgs {
    /// Add the agent to the running pods as an ephemeral container (Kubernetes 1.25+): no
    /// pod restarts and no change to the TidbCluster or StatefulSet (eject: stop it). TARGET
    /// may then also be a pod (NAME or pod/NAME); --component and -l narrow group targets.
    #[arg(long, conflicts_with_all = ["filename", "force"])]
    pub ephemeral: bool,

    /// With --ephemeral: only pods matching this label selector.
    #[arg(short = 'l', long, value_name = "SELECTOR", requires = "ephemeral")]
    pub selector: Option<String>,
}

/// `-f`: edit a manifest instead of objects in the cluster.
#[derive(Debug, Clone, Args)]
pub struct ManifestArgs {
    /// Write this manifest (a file, or - for standard input) to standard output with the
    /// change made to every TidbCluster, StatefulSet and v2 group in it, instead of changing the
    /// cluster: `kubectl netem inject -f basic.yaml | kubectl apply -f -` creates pods that
    /// have the agent from the first one.
    #[arg(
        short = 'f',
        long = "filename",
        value_name = "FILE",
        conflicts_with_all = ["target", "yes", "dry_run", "wait", "force"]
    )]
    pub filename: Option<PathBuf>,
}

/// How pods are chosen and reached, for delay, clear and status.
#[derive(Debug, Clone, Args)]
pub struct FanoutArgs {
    /// Narrow tidb-cluster/, cluster/, group and statefulset/ targets (and status's default) to these
    /// components (comma separated), e.g. pd,tikv.
    #[arg(long, value_delimiter = ',', value_name = "NAMES")]
    pub component: Vec<String>,

    /// Narrow them to pods matching this label selector (e.g. app.kubernetes.io/zone=a).
    #[arg(short = 'l', long, value_name = "SELECTOR")]
    pub selector: Option<String>,

    /// How many pods to talk to at once.
    #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub parallel: u16,

    /// Time limit for each pod (port-forward and the agent's answer).
    #[arg(long, default_value = "10s", value_name = "DURATION", value_parser = values::time_limit)]
    pub pod_timeout: Duration,
}

/// Which way a rule applies, between the targeted (source) pods and the destinations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Direction {
    /// What the sources send to the destinations (the sources' agents).
    To,
    /// What the destinations send to the sources (the destination pods' agents).
    From,
    /// Both (the agents on both sides).
    Both,
}

/// `--to` and its companions: which destinations a rule is for (delay, clear).
#[derive(Debug, Clone, Default, Args)]
#[command(next_help_heading = "Destinations (a rule instead of all traffic)")]
pub struct ToArgs {
    /// Only traffic to these (repeat or comma separate): pods (NAME, pod/NAME),
    /// tidb-cluster/NAME, statefulset/NAME. Their IPs are resolved now.
    #[arg(long = "to", value_name = "DEST", value_delimiter = ',', value_parser = parse_target)]
    pub to: Vec<Target>,

    /// Only traffic to these components (comma separated): of the --to groups, or without
    /// --to, of the sources' TidbCluster.
    #[arg(long, value_delimiter = ',', value_name = "NAMES")]
    pub to_component: Vec<String>,

    /// Only traffic to pods matching this label selector (narrows the --to groups, or
    /// without --to, any pod of the namespace).
    #[arg(long, value_name = "SELECTOR")]
    pub to_selector: Option<String>,

    /// Only traffic to these networks, IPv4 or IPv6 (10.0.0.0/16, fd00::/64, 10.0.0.7).
    #[arg(long, value_name = "CIDR", value_delimiter = ',', value_parser = clap::value_parser!(Cidr))]
    pub to_cidr: Vec<Cidr>,

    /// Only traffic to these ports (TCP and UDP), alone or with any of the above.
    #[arg(long, value_name = "PORT", value_delimiter = ',',
          value_parser = clap::value_parser!(u16).range(1..))]
    pub to_port: Vec<u16>,
}

/// `partition --from` and its companions: the same destinations as [`ToArgs`], named from
/// the partitioned pods' point of view.
#[derive(Debug, Clone, Default, Args)]
#[command(next_help_heading = "Cut off from")]
pub struct FromArgs {
    /// Cut off from these (repeat or comma separate): pods (NAME, pod/NAME),
    /// tidb-cluster/NAME, statefulset/NAME.
    #[arg(long = "from", value_name = "DEST", value_delimiter = ',', value_parser = parse_target)]
    pub from: Vec<Target>,

    /// From these components (comma separated): of the --from groups, or without --from,
    /// of the sources' TidbCluster.
    #[arg(long, value_delimiter = ',', value_name = "NAMES")]
    pub from_component: Vec<String>,

    /// From pods matching this label selector (narrows the --from groups, or without
    /// --from, any pod of the namespace).
    #[arg(long, value_name = "SELECTOR")]
    pub from_selector: Option<String>,

    /// From these networks (with --one-way only: addresses carry no agent to cut the way back).
    #[arg(long, value_name = "CIDR", value_delimiter = ',', value_parser = clap::value_parser!(Cidr))]
    pub from_cidr: Vec<Cidr>,

    /// Only these ports of theirs (TCP and UDP; with --one-way only).
    #[arg(long, value_name = "PORT", value_delimiter = ',',
          value_parser = clap::value_parser!(u16).range(1..))]
    pub from_port: Vec<u16>,
}

impl From<&FromArgs> for ToArgs {
    fn from(f: &FromArgs) -> ToArgs {
        ToArgs {
            to: f.from.clone(),
            to_component: f.from_component.clone(),
            to_selector: f.from_selector.clone(),
            to_cidr: f.from_cidr.clone(),
            to_port: f.from_port.clone(),
        }
    }
}

/// Arguments of `delay`.
#[derive(Debug, Clone, Args)]
pub struct DelayArgs {
    /// Pods (NAME or pod/NAME), tidb-cluster/NAME, statefulset/NAME, or v2 cluster/NAME and
    /// groups (pdgroup/NAME, ...): the pods that carry the agent.
    #[arg(value_name = "TARGET", required = true, num_args = 1.., value_parser = parse_target)]
    pub targets: Vec<Target>,

    /// Delay added to every packet the pods send (20ms, 1.5s, 250us; 0 for none).
    #[arg(value_name = "DURATION", value_parser = parse_duration)]
    pub delay: Duration,

    /// Random variation around the delay.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub jitter: Option<Duration>,

    /// How much each packet's jitter depends on the previous one (percent).
    #[arg(long, value_name = "PERCENT", value_parser = parse_percent)]
    pub correlation: Option<Percent>,

    /// Shape of the jitter.
    #[arg(long, value_name = "NAME", value_parser = values::distribution())]
    pub distribution: Option<Distribution>,

    /// Drop this share of packets (e.g. 1%, 0.5).
    #[arg(long, value_name = "PERCENT", value_parser = parse_percent)]
    pub loss: Option<Percent>,

    /// Duplicate this share of packets.
    #[arg(long, value_name = "PERCENT", value_parser = parse_percent)]
    pub duplicate: Option<Percent>,

    /// Corrupt one bit in this share of packets.
    #[arg(long, value_name = "PERCENT", value_parser = parse_percent)]
    pub corrupt: Option<Percent>,

    /// Send this share of packets at once, reordering them (needs a delay).
    #[arg(long, value_name = "PERCENT", value_parser = parse_percent)]
    pub reorder: Option<Percent>,

    /// With --reorder: reorder every GAP-th packet.
    #[arg(long, value_name = "N", requires = "reorder")]
    pub gap: Option<u32>,

    /// Limit the bandwidth (tc spelling: 100kbit, 10mbit, 1gbit, 125kbps).
    #[arg(long, value_name = "RATE", value_parser = parse_rate)]
    pub rate: Option<Rate>,

    /// Queue limit in packets.
    #[arg(long, value_name = "PACKETS")]
    pub limit: Option<u32>,

    /// Let the agent clear the setting by itself after this long (e.g. 10m).
    #[arg(long = "for", value_name = "DURATION", value_parser = values::duration)]
    pub ttl: Option<Duration>,

    // Before the destinations: their help heading applies to what follows them.
    #[command(flatten)]
    pub fanout: FanoutArgs,

    #[command(flatten)]
    pub to: ToArgs,

    /// With destinations: impair what the sources send them (to), what they send the
    /// sources (from: set on their agents), or both.
    #[arg(long, value_enum, value_name = "WAY", default_value_t = Direction::To,
          help_heading = "Destinations (a rule instead of all traffic)")]
    pub direction: Direction,
}

/// Arguments of `partition`.
#[derive(Debug, Clone, Args)]
pub struct PartitionArgs {
    /// Pods (NAME or pod/NAME), tidb-cluster/NAME or statefulset/NAME to cut off.
    #[arg(value_name = "TARGET", required = true, num_args = 1.., value_parser = parse_target)]
    pub targets: Vec<Target>,

    /// Cut only what the targets send (their agents alone); the way back stays open.
    #[arg(long)]
    pub one_way: bool,

    /// Let the agents lift the partition by themselves after this long (e.g. 5m).
    #[arg(long = "for", value_name = "DURATION", value_parser = values::duration)]
    pub ttl: Option<Duration>,

    // Before the destinations: their help heading applies to what follows them.
    #[command(flatten)]
    pub fanout: FanoutArgs,

    #[command(flatten)]
    pub from: FromArgs,
}

/// Arguments of `clear`. With destinations (`--to`...), only the rule for them goes: the
/// one `delay ... --to` or `partition ... --from` set with the same destinations.
#[derive(Debug, Clone, Args)]
pub struct ClearArgs {
    /// Pods (NAME or pod/NAME), tidb-cluster/NAME, or v2 cluster/NAME and groups.
    #[arg(value_name = "TARGET", required_unless_present = "all", value_parser = parse_target)]
    pub targets: Vec<Target>,

    /// Every pod with the agent in the namespace.
    #[arg(long, conflicts_with = "targets")]
    pub all: bool,

    /// Also remove a root qdisc that is not netem (the agent leaves those alone by default).
    #[arg(long)]
    pub force: bool,

    #[command(flatten)]
    pub to: ToArgs,

    /// With destinations: remove the sources' rule (to), the destinations' reverse rule
    /// (from), or both; by default both, the reverse where the destinations' agents have it.
    #[arg(
        long,
        value_enum,
        value_name = "WAY",
        help_heading = "Destinations (a rule instead of all traffic)"
    )]
    pub direction: Option<Direction>,

    #[command(flatten)]
    pub fanout: FanoutArgs,
}

/// Arguments of `status`.
#[derive(Debug, Clone, Args)]
pub struct StatusArgs {
    /// Pods (NAME or pod/NAME), tidb-cluster/NAME, or v2 cluster/NAME and groups (default:
    /// every pod with the agent).
    #[arg(value_name = "TARGET", value_parser = parse_target)]
    pub targets: Vec<Target>,

    /// Look in every namespace.
    #[arg(short = 'A', long)]
    pub all_namespaces: bool,

    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value_t = Output::Table)]
    pub output: Output,

    #[command(flatten)]
    pub fanout: FanoutArgs,
}

/// Output formats of `status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Output {
    /// A table for people.
    Table,
    /// The table plus node, pod IP and agent image.
    Wide,
    /// JSON, for scripts.
    Json,
    /// YAML, for scripts.
    Yaml,
}

/// Arguments of the hidden `completions` subcommand.
#[derive(Debug, Clone, Args)]
pub struct CompletionsArgs {
    /// Shell to generate for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// Arguments of the hidden `__complete` subcommand: the words typed so far, the last one
/// being the (possibly empty) word under the cursor.
#[derive(Debug, Clone, Args)]
pub struct CompleteArgs {
    /// The words after `kubectl netem`.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, num_args = 0..)]
    pub words: Vec<String>,
}

#[cfg(test)]
mod tests;
