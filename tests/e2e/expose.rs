//! `inject --expose`: the original design's usage, opt-in. The agent then answers on the pod
//! IP from another pod, as `curl POD_IP:2332/latency/20ms` did; by default it does not.

use serde_json::Value;

use crate::support::{Env, basic_cluster, netem};

/// `curl` from inside `from`'s network namespace to `pod`'s IP, port 2332.
fn curl_from(env: &Env, from: &str, pod: &str, path: &str) -> Option<String> {
    let netns = env.cluster.pod_netns("default", from).expect("netns");
    let ip = env.cluster.pod_ip("default", pod).expect("pod IP");
    let out = std::process::Command::new("ip")
        .args(["netns", "exec", &netns, "curl", "-sS", "--max-time", "3"])
        .arg(format!("http://{ip}:2332{path}"))
        .output()
        .expect("run curl");
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

pub async fn exposed_agents_answer_on_the_pod_ip_and_default_ones_do_not() {
    let env = basic_cluster().await;
    let run = netem(
        &env,
        &["inject", "tc/basic", "--component", "pd", "--yes", "--wait"],
    )
    .await
    .ok();
    assert!(!run.stderr.contains("--expose"), "{run}");
    assert_eq!(
        curl_from(&env, "basic-tikv-0", "basic-pd-0", "/v1/netem"),
        None
    );

    let run = netem(
        &env,
        &[
            "inject",
            "tc/basic",
            "--component",
            "pd",
            "--expose",
            "--yes",
            "--wait",
        ],
    )
    .await
    .ok();
    assert!(
        run.stderr
            .contains("warning: --expose: the agent will also listen on the pod IP"),
        "{run}"
    );
    assert!(run.stdout.contains("netem-agent updated in pd"), "{run}");
    let body = curl_from(&env, "basic-tikv-0", "basic-pd-0", "/v1/netem").expect("reachable");
    let state: Value = serde_json::from_str(&body).expect("JSON");
    assert_eq!(state["root_qdisc"], "none", "{body}");
    // The seed's one-call form, from another pod (503 here: the host kernel has no netem).
    let latency =
        curl_from(&env, "basic-tikv-0", "basic-pd-0", "/latency/20ms").expect("reachable");
    assert!(latency.contains("sch_netem"), "{latency}");

    // status -o wide says which agents are exposed; port-forward still reaches them.
    let wide = netem(&env, &["status", "-o", "wide"]).await.ok();
    let pd = wide
        .stdout
        .lines()
        .find(|l| l.starts_with("basic-pd-0"))
        .expect("pd row");
    assert!(pd.contains(" yes "), "{wide}");
    let json = netem(&env, &["status", "-o", "json"]).await.ok();
    let doc: Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(doc["items"][0]["exposed"], true, "{json}");

    // Injecting again without --expose takes the port away.
    netem(
        &env,
        &["inject", "tc/basic", "--component", "pd", "--yes", "--wait"],
    )
    .await
    .ok();
    assert_eq!(
        curl_from(&env, "basic-tikv-0", "basic-pd-0", "/v1/netem"),
        None
    );
    env.cluster.shutdown().await;
}
