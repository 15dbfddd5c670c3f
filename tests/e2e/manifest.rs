//! `inject -f`: a manifest injected before the cluster exists, applied with kubectl, has the
//! agent from its first pod (no rolling restart), and the everyday commands reach it.

use std::time::Duration;

use serde_json::Value;

use crate::support::{Env, Run, netem, netem_with_stdin, start_cluster};

const BASIC: &str = include_str!("../../src/manifest/testdata/basic.yaml");

/// `kubectl ARGS` against `env`'s cluster with `input` on stdin.
pub(crate) async fn kubectl(env: &Env, args: &[&str], input: &str) -> Run {
    use tokio::io::AsyncWriteExt;
    let mut child = tokio::process::Command::new("kubectl")
        .args(args)
        .env("KUBECONFIG", env.cluster.kubeconfig())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn kubectl");
    let mut stdin = child.stdin.take().expect("stdin");
    stdin
        .write_all(input.as_bytes())
        .await
        .expect("write stdin");
    drop(stdin);
    child.wait_with_output().await.expect("kubectl").into()
}

pub async fn injected_manifest_applied_has_the_agent_from_the_first_pod() {
    let env = start_cluster().await;
    let injected = netem_with_stdin(&env, &["inject", "-f", "-"], Some(BASIC))
        .await
        .ok();
    assert!(
        injected
            .stderr
            .contains("tidbcluster/basic: pd, tikv, tidb: netem-agent added to the pod template"),
        "{injected}"
    );
    // Re-injecting is a no-op: the same bytes.
    let again = netem_with_stdin(&env, &["inject", "-f", "-"], Some(&injected.stdout))
        .await
        .ok();
    assert_eq!(again.stdout, injected.stdout);

    kubectl(
        &env,
        &["apply", "-n", "default", "-f", "-"],
        &injected.stdout,
    )
    .await
    .ok();
    env.cluster
        .wait_ready(
            "default",
            &["basic-pd-0", "basic-tikv-0", "basic-tidb-0"],
            Duration::from_secs(60),
        )
        .await
        .expect("pods ready");
    // The pod templates never changed: every StatefulSet is at its first generation, so no
    // pod was rolled to get the agent.
    for sts in ["basic-pd", "basic-tikv", "basic-tidb"] {
        let s = env
            .cluster
            .get("apps/v1", "StatefulSet", "default", sts)
            .unwrap();
        assert_eq!(s["metadata"]["generation"], 1, "{sts}: {s}");
    }
    let status = netem(&env, &["status", "-o", "json"]).await.ok();
    let doc: Value = serde_json::from_str(&status.stdout).expect("JSON");
    let pods: Vec<&str> = doc["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["pod"].as_str().unwrap())
        .collect();
    assert_eq!(
        pods,
        ["basic-pd-0", "basic-tidb-0", "basic-tikv-0"],
        "{status}"
    );
    // The host kernel has no netem: every agent answers, and says so.
    let run = netem(&env, &["delay", "basic-pd-0", "20ms"]).await.failed();
    assert!(run.stderr.contains("kernel without netem"), "{run}");

    // eject -f gives back the objects as they were.
    let ejected = netem_with_stdin(&env, &["eject", "-f", "-"], Some(&injected.stdout))
        .await
        .ok();
    let parse = |t: &str| -> Vec<Value> {
        serde_yaml::Deserializer::from_str(t)
            .map(|d| serde::Deserialize::deserialize(d).unwrap())
            .collect()
    };
    assert_eq!(parse(&ejected.stdout), parse(BASIC));
    env.cluster.shutdown().await;
}

pub async fn manifest_mistakes_write_nothing() {
    let env = start_cluster().await;
    let run = netem_with_stdin(
        &env,
        &["inject", "-f", "-", "--component", "tiflash"],
        Some(BASIC),
    )
    .await
    .failed();
    assert!(run.stdout.is_empty(), "{run}");
    assert!(run.stderr.contains("--component tiflash"), "{run}");
    let run = netem(&env, &["inject", "-f", "/nonexistent.yaml"])
        .await
        .failed();
    assert!(run.stderr.contains("reading /nonexistent.yaml"), "{run}");
    let run = netem(&env, &["inject", "tc/basic", "-f", "x.yaml"]).await;
    assert_eq!(run.code, Some(2), "{run}");
    env.cluster.shutdown().await;
}
