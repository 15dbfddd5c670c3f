//! `kubectl netem <TAB>`: kubectl (≥ 1.26) finds `kubectl_complete-netem` on PATH and asks it;
//! the script asks `kubectl-netem __complete`, which reads names from the cluster.
//! Driven through the installed kubectl's own `__complete`, as a shell would.

use std::path::Path;

use crate::support::{basic_cluster, netem};
use netem_testcluster::testing::Env;

/// Runs `kubectl __complete netem WORDS...` with the plugin and its completion script on PATH.
async fn kubectl_complete(env: &Env, words: &[&str]) -> Vec<String> {
    let bin = env.dir.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let plugin = bin.join("kubectl-netem");
    if !plugin.exists() {
        std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_kubectl-netem"), &plugin).unwrap();
        let script =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("completions/kubectl_complete-netem");
        std::os::unix::fs::symlink(script, bin.join("kubectl_complete-netem")).unwrap();
    }
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = tokio::process::Command::new("kubectl")
        .arg("__complete")
        .arg("netem")
        .args(words)
        .env("PATH", path)
        .env("KUBECONFIG", env.cluster.kubeconfig())
        .output()
        .await
        .expect("run kubectl __complete");
    assert!(out.status.success(), "kubectl __complete failed: {out:?}");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect()
}

pub async fn kubectl_completes_subcommands_flags_and_cluster_names() {
    let env = basic_cluster().await;
    let subs = kubectl_complete(&env, &[""]).await;
    for sub in ["inject", "eject", "delay", "partition", "clear", "status"] {
        assert!(
            subs.contains(&sub.to_string()),
            "{sub} missing from {subs:?}"
        );
    }
    assert_eq!(
        subs.last().map(String::as_str),
        Some(":4"),
        "Cobra directive: no file completion"
    );
    assert!(
        !subs.iter().any(|s| s == "completions" || s == "__complete"),
        "hidden commands offered: {subs:?}"
    );

    let flags = kubectl_complete(&env, &["delay", "basic-pd-0", "--di"]).await;
    assert_eq!(flags, vec!["--distribution", "--direction", ":4"]);

    let workloads = kubectl_complete(&env, &["inject", ""]).await;
    assert!(
        workloads.contains(&"tidb-cluster/basic".to_string()),
        "{workloads:?}"
    );
    assert!(
        workloads.contains(&"statefulset/basic-pd".to_string()),
        "{workloads:?}"
    );

    // Before inject no pod carries the agent: only the TidbCluster is offered to delay.
    let before = kubectl_complete(&env, &["delay", ""]).await;
    assert_eq!(before, vec!["tidb-cluster/basic", ":4"]);
    netem(
        &env,
        &["inject", "tc/basic", "--component", "pd", "--yes", "--wait"],
    )
    .await
    .ok();
    let after = kubectl_complete(&env, &["delay", "basic-"]).await;
    assert_eq!(after, vec!["basic-pd-0", ":4"]);
    // Destinations need no agent: every pod is offered.
    let to = kubectl_complete(&env, &["delay", "basic-pd-0", "20ms", "--to", "basic-t"]).await;
    assert_eq!(to, vec!["basic-tidb-0", "basic-tikv-0", ":4"]);

    // TiDB Operator v2 clusters are offered where its CRDs are served.
    for obj in netem_testcluster::v2::basic_v2_cluster("default", "next") {
        env.cluster.create(obj).expect("create v2 object");
    }
    let v2 = kubectl_complete(&env, &["inject", "c"]).await;
    assert_eq!(v2, vec!["cluster/next", ":4"]);
}
