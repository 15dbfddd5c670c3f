//! The kubectl connection rules end to end: `KUBECONFIG`, `--kubeconfig`, the context's
//! namespace, `--context`, `--user`, `--cluster`, `-n` over all, and `--request-timeout`.
//!
//! Pods with the agent live only in namespace "other", so `status` shows by what it lists
//! (or the namespace it says it found nothing in) which namespace a command acted in.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{Value, json};

use crate::delay::{add_tidb_cluster, wait_for_agents};
use crate::support::{Env, Run, start_cluster, start_cluster_with_latency};

/// Runs `kubectl-netem` with exactly `args` (no `--kubeconfig` added) and `KUBECONFIG` set
/// to `kubeconfig` when given, unset otherwise.
async fn netem_env(args: &[&str], kubeconfig: Option<&Path>) -> Run {
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_kubectl-netem"));
    cmd.args(args)
        .env_remove("KUBECONFIG")
        .stdin(std::process::Stdio::null());
    if let Some(path) = kubeconfig {
        cmd.env("KUBECONFIG", path);
    }
    let out = tokio::time::timeout(Duration::from_secs(120), cmd.output())
        .await
        .expect("kubectl-netem did not finish in 120 s")
        .expect("run kubectl-netem");
    out.into()
}

/// The test cluster's kubeconfig with its context's namespace set to "other", plus a
/// second context "home" on the same cluster and user whose namespace is "default".
fn edited_kubeconfig(env: &Env) -> PathBuf {
    let text = std::fs::read_to_string(env.cluster.kubeconfig()).expect("read kubeconfig");
    let mut cfg: Value = serde_yaml::from_str(&text).expect("kubeconfig is YAML");
    assert_eq!(cfg["current-context"], "testcluster");
    cfg["contexts"][0]["context"]["namespace"] = json!("other");
    let mut home = cfg["contexts"][0].clone();
    home["name"] = json!("home");
    home["context"]["namespace"] = json!("default");
    cfg["contexts"].as_array_mut().unwrap().push(home);
    let path = env.dir.path().join("edited-kubeconfig");
    std::fs::write(&path, serde_yaml::to_string(&cfg).unwrap()).expect("write kubeconfig");
    path
}

fn lists_other(run: &Run) -> bool {
    run.stdout.contains("second-pd-0")
}

pub async fn kubeconfig_context_namespace_and_context_flag_like_kubectl() {
    let env = start_cluster().await;
    env.cluster.add_namespace("other", &[]);
    add_tidb_cluster(&env, "other", "second", &["pd"], 2332);
    wait_for_agents(&env, "other", "second", 1).await;
    let edited = edited_kubeconfig(&env);
    let edited_s = edited.to_str().unwrap();

    // KUBECONFIG alone: its current context's namespace is where the command acts.
    let run = netem_env(&["status"], Some(&edited)).await.ok();
    assert!(lists_other(&run), "{run}");
    // --kubeconfig alone, likewise.
    let run = netem_env(&["--kubeconfig", edited_s, "status"], None)
        .await
        .ok();
    assert!(lists_other(&run), "{run}");
    // --kubeconfig wins over KUBECONFIG (the original's context namespace is "default").
    let run = netem_env(
        &["--kubeconfig", edited_s, "status"],
        Some(env.cluster.kubeconfig()),
    )
    .await
    .ok();
    assert!(lists_other(&run), "{run}");
    let run = netem_env(&["status"], Some(env.cluster.kubeconfig()))
        .await
        .ok();
    assert!(
        run.stderr
            .contains("No pods with the netem agent found in namespace default"),
        "{run}"
    );

    // --context picks the other context, and with it its namespace.
    let run = netem_env(&["--context", "home", "status"], Some(&edited))
        .await
        .ok();
    assert!(
        run.stderr
            .contains("No pods with the netem agent found in namespace default"),
        "{run}"
    );
    // -n beats the context's namespace, before or after the subcommand.
    let run = netem_env(
        &["--context", "home", "status", "-n", "other"],
        Some(&edited),
    )
    .await
    .ok();
    assert!(lists_other(&run), "{run}");
    let run = netem_env(&["-n", "default", "status"], Some(&edited))
        .await
        .ok();
    assert!(!lists_other(&run), "{run}");
    // Names act in the chosen namespace too.
    let run = netem_env(&["clear", "second-pd-0"], Some(&edited))
        .await
        .ok();
    assert!(run.stdout.contains("pod/second-pd-0: cleared"), "{run}");

    // KUBECONFIG as a list is merged, the first file winning, as kubectl merges it.
    let list = std::ffi::OsString::from(format!(
        "{}:{}",
        env.cluster.kubeconfig().display(),
        edited.display()
    ));
    let run = netem_env(&["status"], Some(Path::new(&list))).await.ok();
    assert!(
        run.stderr
            .contains("No pods with the netem agent found in namespace default"),
        "{run}"
    );
    let run = netem_env(
        &["--context", "home", "-n", "other", "status"],
        Some(Path::new(&list)),
    )
    .await
    .ok();
    assert!(lists_other(&run), "{run}");

    // An unknown context is a clear error, not a silent fallback.
    let run = netem_env(&["--context", "nosuch", "status"], Some(&edited))
        .await
        .failed();
    assert!(run.stderr.contains("nosuch"), "{run}");

    // --user and --cluster override the context's, as in kubectl: a user whose token the
    // server rejects (401), a cluster entry whose server nothing listens on.
    let mut cfg: Value = serde_yaml::from_str(&std::fs::read_to_string(&edited).unwrap()).unwrap();
    let mut stranger = cfg["users"][0].clone();
    stranger["name"] = json!("stranger");
    stranger["user"]["token"] = json!("not-a-valid-token");
    cfg["users"].as_array_mut().unwrap().push(stranger);
    let mut gone = cfg["clusters"][0].clone();
    gone["name"] = json!("gone");
    gone["cluster"]["server"] = json!("https://127.0.0.1:1");
    cfg["clusters"].as_array_mut().unwrap().push(gone);
    let both = env.dir.path().join("users-and-clusters");
    std::fs::write(&both, serde_yaml::to_string(&cfg).unwrap()).unwrap();
    let run = netem_env(&["status"], Some(&both)).await.ok();
    assert!(
        lists_other(&run),
        "the context's own user and cluster still work: {run}"
    );
    let run = netem_env(&["--user", "stranger", "status"], Some(&both))
        .await
        .failed();
    assert!(run.stderr.to_lowercase().contains("unauthorized"), "{run}");
    let run = netem_env(&["--cluster", "gone", "status"], Some(&both))
        .await
        .failed();
    assert!(
        run.stderr.contains("127.0.0.1:1") || run.stderr.to_lowercase().contains("connect"),
        "{run}"
    );
    env.cluster.shutdown().await;
}

pub async fn request_timeout_bounds_each_api_request() {
    // Every API request takes at least 2 s here.
    let env = start_cluster_with_latency(Duration::from_secs(2)).await;
    let kubeconfig = env.cluster.kubeconfig().to_str().unwrap().to_string();
    let started = std::time::Instant::now();
    let run = netem_env(
        &[
            "--kubeconfig",
            &kubeconfig,
            "--request-timeout",
            "300ms",
            "status",
        ],
        None,
    )
    .await
    .failed();
    assert!(
        started.elapsed() < Duration::from_millis(1900),
        "took {:?}: {run}",
        started.elapsed()
    );
    assert!(run.stderr.starts_with("error: "), "{run}");
    assert!(run.stderr.contains("timed out"), "{run}");
    // Without the limit, or with a looser one, the same request succeeds.
    netem_env(
        &[
            "--kubeconfig",
            &kubeconfig,
            "--request-timeout",
            "30s",
            "status",
        ],
        None,
    )
    .await
    .ok();
    let run = netem_env(
        &[
            "--kubeconfig",
            &kubeconfig,
            "--request-timeout",
            "soon",
            "status",
        ],
        None,
    )
    .await
    .failed();
    assert!(
        run.stderr
            .contains("invalid value 'soon' for '--request-timeout <DURATION>'"),
        "{run}"
    );
    // Absurd but well-formed values are a usage error (exit 2), never an abort.
    for huge in ["18446744073709551615", "99999999h", "1e309"] {
        let run = netem_env(
            &[
                "--kubeconfig",
                &kubeconfig,
                "--request-timeout",
                huge,
                "status",
            ],
            None,
        )
        .await;
        assert_eq!(run.code, Some(2), "{huge}: {run}");
    }
    env.cluster.shutdown().await;
}
