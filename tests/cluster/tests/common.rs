//! Shared helpers of the test cluster's integration tests.

use netem_testcluster::Cluster;
use netem_testcluster::testing::{Env, Options};

/// Starts a cluster: pods as network namespaces or not, running the real agent or not.
pub async fn start(network: bool, agent: bool) -> Env {
    Env::start(Options {
        network,
        agent,
        ..Options::default()
    })
    .await
}

/// A kube-rs client for the cluster.
pub async fn client(cluster: &Cluster) -> kube::Client {
    let kc = kube::config::Kubeconfig::read_from(cluster.kubeconfig()).expect("kubeconfig");
    let cfg = kube::Config::from_custom_kubeconfig(kc, &kube::config::KubeConfigOptions::default())
        .await
        .expect("config");
    kube::Client::try_from(cfg).expect("client")
}
