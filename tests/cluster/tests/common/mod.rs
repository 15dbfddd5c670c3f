//! Shared helpers of the integration tests.

#![allow(dead_code)]

use std::path::PathBuf;
use std::time::Duration;

use netem_testcluster::{Cluster, ClusterConfig};

/// Whether we can make network namespaces.
pub fn have_root() -> bool {
    nix::unistd::Uid::effective().is_root()
}

/// The agent binary: NETEM_AGENT_BIN, or `netem-agent` next to this test's target dir
/// (`cargo build -p netem-agent` with the same CARGO_TARGET_DIR).
pub fn agent_bin() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("NETEM_AGENT_BIN") {
        return Some(PathBuf::from(p));
    }
    let exe = std::env::current_exe().ok()?;
    let profile = exe.parent()?.parent()?;
    let bin = profile.join("netem-agent");
    bin.is_file().then_some(bin)
}

/// A started cluster and its temp dir (kept alive together).
pub struct Env {
    pub cluster: Cluster,
    pub dir: tempfile::TempDir,
}

/// Start a cluster.
pub async fn start(network: bool, agent: Option<PathBuf>) -> Env {
    let dir = tempfile::tempdir().expect("tempdir");
    let cluster = Cluster::start(ClusterConfig {
        dir: dir.path().to_path_buf(),
        agent_bin: agent,
        latency: Duration::ZERO,
        network,
    })
    .await
    .expect("start cluster");
    Env { cluster, dir }
}

/// A kube-rs client for the cluster.
pub async fn client(cluster: &Cluster) -> kube::Client {
    let kc = kube::config::Kubeconfig::read_from(cluster.kubeconfig()).expect("kubeconfig");
    let cfg = kube::Config::from_custom_kubeconfig(kc, &kube::config::KubeConfigOptions::default())
        .await
        .expect("config");
    kube::Client::try_from(cfg).expect("client")
}
