//! `inject --ephemeral`: the agent joins running pods as an ephemeral container, with no pod
//! restart and no change to the TidbCluster; delay/clear/status find it as they find a
//! sidecar; `eject --ephemeral` stops it, and a later inject starts a fresh one.

use serde_json::Value;

use crate::support::{Env, basic_cluster, netem};

const PODS: [&str; 3] = ["basic-pd-0", "basic-tidb-0", "basic-tikv-0"];

/// Each pod's uid and its containers' restart counts: what must not change.
fn identity(env: &Env) -> Vec<(String, Vec<i64>)> {
    PODS.iter()
        .map(|name| {
            let p = env.cluster.get("v1", "Pod", "default", name).unwrap();
            let restarts = p["status"]["containerStatuses"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["restartCount"].as_i64().unwrap())
                .collect();
            (p["metadata"]["uid"].as_str().unwrap().to_string(), restarts)
        })
        .collect()
}

fn ephemeral_names(env: &Env, pod: &str) -> Vec<String> {
    let p = env.cluster.get("v1", "Pod", "default", pod).unwrap();
    p["spec"]["ephemeralContainers"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| c["name"].as_str().unwrap().to_string())
        .collect()
}

pub async fn ephemeral_agents_join_running_pods_without_a_restart() {
    let env = basic_cluster().await;
    let before = identity(&env);
    let spec_before = env
        .cluster
        .get("pingcap.com/v1alpha1", "TidbCluster", "default", "basic")
        .unwrap()["spec"]
        .clone();

    let run = netem(&env, &["inject", "tc/basic", "--ephemeral", "--wait"])
        .await
        .ok();
    assert!(run.stderr.contains("No pod restarts"), "{run}");
    assert!(
        run.stderr.contains("done: 3 ephemeral agents running")
            && run.stderr.contains("agents answering: 3 pods"),
        "{run}"
    );
    assert_eq!(identity(&env), before, "no pod restarted or was replaced");
    let spec_after = env
        .cluster
        .get("pingcap.com/v1alpha1", "TidbCluster", "default", "basic")
        .unwrap()["spec"]
        .clone();
    assert_eq!(spec_after, spec_before, "the TidbCluster is untouched");
    for pod in PODS {
        assert_eq!(ephemeral_names(&env, pod), ["netem-agent-1"], "{pod}");
    }

    // Idempotent: running agents mean nothing to do.
    let again = netem(&env, &["inject", "tc/basic", "--ephemeral"])
        .await
        .ok();
    assert!(again.stdout.contains("unchanged"), "{again}");

    // The everyday commands find them, and status says which kind.
    let status = netem(&env, &["status", "-o", "json"]).await.ok();
    let doc: Value = serde_json::from_str(&status.stdout).unwrap();
    let items = doc["items"].as_array().unwrap();
    assert_eq!(items.len(), 3, "{status}");
    for item in items {
        assert_eq!(item["agent_kind"], "ephemeral", "{status}");
        assert_eq!(item["state"], "ok", "{status}");
    }
    let run = netem(&env, &["delay", "basic-pd-0", "20ms"]).await.failed();
    assert!(run.stderr.contains("kernel without netem"), "{run}");

    // eject stops them (they stay as terminated containers) and says so.
    let run = netem(
        &env,
        &[
            "eject",
            "tc/basic",
            "--component",
            "pd",
            "--ephemeral",
            "--wait",
        ],
    )
    .await
    .ok();
    assert!(run.stderr.contains("cannot be removed"), "{run}");
    assert!(
        run.stderr.contains("done: 1 ephemeral agent stopped"),
        "{run}"
    );
    // A stopped ephemeral agent is no agent: status lists the other two, and succeeds.
    let status = netem(&env, &["status", "-o", "json"]).await.ok();
    let doc: Value = serde_json::from_str(&status.stdout).unwrap();
    let pods: Vec<&str> = doc["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["pod"].as_str().unwrap())
        .collect();
    assert_eq!(pods, ["basic-tidb-0", "basic-tikv-0"], "{status}");
    assert_eq!(identity(&env), before);

    // A later inject starts a fresh one under the next name.
    netem(&env, &["inject", "pod/basic-pd-0", "--ephemeral", "--wait"])
        .await
        .ok();
    assert_eq!(
        ephemeral_names(&env, "basic-pd-0"),
        ["netem-agent-1", "netem-agent-2"]
    );
    let status = netem(&env, &["status", "basic-pd-0", "-o", "wide"])
        .await
        .ok();
    assert!(status.stdout.contains("ephemeral"), "{status}");
    assert_eq!(identity(&env), before);
    env.cluster.shutdown().await;
}

pub async fn ephemeral_refusals_change_nothing() {
    let env = basic_cluster().await;
    // RBAC on pods/ephemeralcontainers: a clear error with the RBAC hint, nothing written.
    env.cluster.deny("patch", "pods/ephemeralcontainers");
    let run = netem(&env, &["inject", "tc/basic", "--ephemeral", "--yes"])
        .await
        .failed();
    assert!(run.stderr.contains("pods/ephemeralcontainers"), "{run}");
    assert!(run.stderr.contains("RBAC"), "{run}");
    env.cluster.allow_all();
    for pod in PODS {
        assert!(ephemeral_names(&env, pod).is_empty(), "{pod}");
    }
    // --dry-run prints the patch per pod, and the server's dry run changes nothing.
    let run = netem(
        &env,
        &["inject", "basic-tikv-0", "--ephemeral", "--dry-run"],
    )
    .await
    .ok();
    assert!(
        run.stderr
            .contains("JSON Patch for pod/basic-tikv-0 (ephemeralcontainers)"),
        "{run}"
    );
    assert!(run.stdout.contains("netem-agent-1"), "{run}");
    assert!(ephemeral_names(&env, "basic-tikv-0").is_empty());
    // Flags that make no sense there are usage errors.
    let run = netem(&env, &["inject", "tc/basic", "--ephemeral", "--expose"]).await;
    assert_eq!(run.code, Some(2), "{run}");
    let run = netem(&env, &["inject", "tc/basic", "-l", "a=b"]).await;
    assert_eq!(run.code, Some(2), "{run}");
    env.cluster.shutdown().await;
}
