//! Small helpers shared by the end-to-end tests.

#![allow(dead_code)] // each test module uses its own subset

use std::path::PathBuf;
use std::process::Output;
use std::time::Duration;

use netem_testcluster::{Cluster, ClusterConfig};

/// A running test cluster and the directory that holds its kubeconfig and pod state.
pub struct Env {
    /// The cluster double.
    pub cluster: Cluster,
    /// Kept alive for the cluster's files; removed on drop.
    pub dir: tempfile::TempDir,
}

/// What a run of `kubectl-netem` printed and how it ended.
#[derive(Debug)]
pub struct Run {
    /// Exit code (None if killed by a signal).
    pub code: Option<i32>,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl Run {
    /// Panics with both streams unless the command succeeded.
    #[track_caller]
    pub fn ok(self) -> Self {
        assert_eq!(self.code, Some(0), "command failed:\n{self}");
        self
    }

    /// Panics with both streams unless the command failed.
    #[track_caller]
    pub fn failed(self) -> Self {
        assert_ne!(
            self.code,
            Some(0),
            "command unexpectedly succeeded:\n{self}"
        );
        self
    }
}

impl std::fmt::Display for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit: {:?}\n--- stdout\n{}--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

impl From<Output> for Run {
    fn from(o: Output) -> Self {
        Run {
            code: o.status.code(),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }
}

/// True when the tests can create network namespaces; otherwise prints why they skip.
pub fn have_root() -> bool {
    let root = nix_is_root();
    if !root {
        eprintln!("skipping: end-to-end tests need root for network namespaces");
    }
    root
}

fn nix_is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .map(|l| l.split_whitespace().nth(1) == Some("0"))
        })
        .unwrap_or(false)
}

/// The `netem-agent` binary the test cluster runs in pods: `$NETEM_AGENT_BIN`, else the one
/// `cargo build --workspace` put next to this test's target directory.
pub fn agent_bin() -> PathBuf {
    if let Some(p) = std::env::var_os("NETEM_AGENT_BIN") {
        return PathBuf::from(p);
    }
    // The test executable lives in target/<profile>/deps/.
    let exe = std::env::current_exe().expect("current exe");
    let profile_dir = exe.parent().and_then(|d| d.parent()).expect("target dir");
    let bin = profile_dir.join("netem-agent");
    assert!(
        bin.exists(),
        "{} not found: run `cargo build --workspace` first or set NETEM_AGENT_BIN",
        bin.display()
    );
    bin
}

/// Starts an empty test cluster (pods as network namespaces, real agents).
pub async fn start_cluster() -> Env {
    start_cluster_with_latency(Duration::ZERO).await
}

/// Starts an empty test cluster whose API requests each take at least `latency`.
pub async fn start_cluster_with_latency(latency: Duration) -> Env {
    let dir = tempfile::tempdir().expect("tempdir");
    let cluster = Cluster::start(ClusterConfig {
        dir: dir.path().to_path_buf(),
        agent_bin: Some(agent_bin()),
        latency,
        network: true,
    })
    .await
    .expect("start test cluster");
    Env { cluster, dir }
}

/// Starts a test cluster holding TiDB Operator's "basic" TidbCluster in namespace "default".
pub async fn basic_cluster() -> Env {
    let env = start_cluster().await;
    env.cluster
        .create(netem_testcluster::basic_tidbcluster("default", "basic"))
        .expect("create basic TidbCluster");
    // The operator writes the TidbCluster's status while pods come up (new resourceVersions);
    // tests snapshot it afterwards.
    env.cluster
        .wait_settled(Duration::from_secs(30))
        .await
        .expect("basic cluster settles");
    env
}

/// Runs the real `kubectl-netem` binary against `env`'s cluster.
pub async fn netem(env: &Env, args: &[&str]) -> Run {
    netem_with_stdin(env, args, None).await
}

/// Runs `kubectl-netem` with `input` on its standard input (not a terminal).
pub async fn netem_with_stdin(env: &Env, args: &[&str], input: Option<&str>) -> Run {
    use tokio::io::AsyncWriteExt;
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_kubectl-netem"));
    cmd.arg("--kubeconfig")
        .arg(env.cluster.kubeconfig())
        .args(args)
        .env_remove("KUBECONFIG")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = cmd.spawn().expect("spawn kubectl-netem");
    let mut stdin = child.stdin.take().expect("stdin");
    if let Some(input) = input {
        stdin
            .write_all(input.as_bytes())
            .await
            .expect("write stdin");
    }
    drop(stdin);
    let out = tokio::time::timeout(Duration::from_secs(300), child.wait_with_output())
        .await
        .expect("kubectl-netem did not finish in 300 s")
        .expect("wait kubectl-netem");
    out.into()
}
