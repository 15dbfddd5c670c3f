//! Small helpers shared by the end-to-end tests.

#![allow(dead_code)] // each test module uses its own subset

use std::process::Output;
use std::time::Duration;

pub use netem_testcluster::testing::Env;
use netem_testcluster::testing::Options;

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

/// Starts an empty test cluster (pods as network namespaces, real agents).
pub async fn start_cluster() -> Env {
    start_cluster_with_latency(Duration::ZERO).await
}

/// Starts an empty test cluster whose API requests each take at least `latency`.
pub async fn start_cluster_with_latency(latency: Duration) -> Env {
    Env::start(Options {
        network: true,
        agent: true,
        latency,
    })
    .await
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

/// The proxy variables a run must not inherit from the test's own environment.
const PROXY_VARS: [&str; 6] = [
    "HTTPS_PROXY",
    "https_proxy",
    "HTTP_PROXY",
    "http_proxy",
    "NO_PROXY",
    "no_proxy",
];

/// Runs `kubectl-netem` with exactly `args` (no `--kubeconfig` added), `KUBECONFIG` and
/// the proxy variables unset, then `vars` set.
pub async fn netem_with_env(args: &[&str], vars: &[(&str, &str)]) -> Run {
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_kubectl-netem"));
    cmd.args(args)
        .env_remove("KUBECONFIG")
        .stdin(std::process::Stdio::null());
    for var in PROXY_VARS {
        cmd.env_remove(var);
    }
    cmd.envs(vars.iter().copied());
    let out = tokio::time::timeout(Duration::from_secs(120), cmd.output())
        .await
        .expect("kubectl-netem did not finish in 120 s")
        .expect("run kubectl-netem");
    out.into()
}

/// The test cluster's kubeconfig as JSON, to edit.
pub fn kubeconfig_json(env: &Env) -> serde_json::Value {
    let text = std::fs::read_to_string(env.cluster.kubeconfig()).expect("read kubeconfig");
    serde_yaml::from_str(&text).expect("kubeconfig is YAML")
}

/// Writes `cfg` as a kubeconfig named `name` in the test's directory.
pub fn write_kubeconfig(env: &Env, name: &str, cfg: &serde_json::Value) -> String {
    let path = env.dir.path().join(name);
    std::fs::write(&path, serde_yaml::to_string(cfg).unwrap()).expect("write kubeconfig");
    path.to_str().unwrap().to_string()
}
