//! What every test that starts a cluster needs: the one [`Env`] (a running cluster and the
//! directory holding its kubeconfig and pod state) and where the agent binary is.

use std::path::PathBuf;
use std::time::Duration;

use crate::{Cluster, ClusterConfig};

/// A running test cluster and its directory (removed on drop).
pub struct Env {
    /// The cluster double.
    pub cluster: Cluster,
    /// Kept alive for the cluster's files.
    pub dir: tempfile::TempDir,
}

/// How to start an [`Env`].
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Pods as network namespaces (needs root); otherwise pods are records only.
    pub network: bool,
    /// Run the real agent in `netem-agent` containers ([`agent_bin`]).
    pub agent: bool,
    /// Minimum time each API request takes.
    pub latency: Duration,
}

impl Env {
    /// Starts an empty cluster.
    pub async fn start(options: Options) -> Env {
        let dir = tempfile::tempdir().expect("tempdir");
        let cluster = Cluster::start(ClusterConfig {
            dir: dir.path().to_path_buf(),
            agent_bin: options.agent.then(agent_bin),
            latency: options.latency,
            network: options.network,
        })
        .await
        .expect("start test cluster");
        Env { cluster, dir }
    }
}

/// The `netem-agent` binary pods run: `$NETEM_AGENT_BIN`, else the one `cargo build
/// --workspace` put next to the running test's target directory.
pub fn agent_bin() -> PathBuf {
    if let Some(p) = std::env::var_os("NETEM_AGENT_BIN") {
        return PathBuf::from(p);
    }
    // Test executables live in target/<profile>/deps/.
    let exe = std::env::current_exe().expect("current exe");
    let profile_dir = exe.parent().and_then(|d| d.parent()).expect("target dir");
    let bin = profile_dir.join("netem-agent");
    assert!(
        bin.is_file(),
        "{} not found: run `cargo build --workspace` first or set NETEM_AGENT_BIN",
        bin.display()
    );
    bin
}
