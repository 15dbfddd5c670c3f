//! `delay`, `clear` and `status` end to end: the real binary, the test cluster's API server
//! (real HTTPS, real WebSocket port-forward) and real agents in network namespaces.
//!
//! The host kernel has no netem, so agents answer 503 to a change: that is itself the test
//! of the "kernel without netem" path. Reading (`status`) and clearing work everywhere.

use std::collections::BTreeSet;

use netem_api::contract;
use serde_json::{Value, json};

use crate::support::{Env, netem, start_cluster};

/// The agent container as `inject` writes it (netem-api's one definition), with a test
/// image and, for the tests of an agent that is not where the plugin looks, another port.
fn agent_container(listen_port: u16) -> Value {
    let mut c = contract::container("ghcr.io/kubectl-netem/netem-agent:test");
    if listen_port != netem_api::wire::DEFAULT_PORT {
        let listen = format!("127.0.0.1:{listen_port}");
        c["args"] = json!(["--listen", listen]);
    }
    c
}

/// A cluster holding TidbCluster `basic` in `default` whose `with_agent` components carry
/// the agent (the others do not), waiting until those pods run.
async fn cluster_with_agents(with_agent: &[&str]) -> Env {
    cluster_with_agent_on_port(with_agent, 2332).await
}

async fn cluster_with_agent_on_port(with_agent: &[&str], port: u16) -> Env {
    let env = start_cluster().await;
    add_tidb_cluster(&env, "default", "basic", with_agent, port);
    wait_for_agents(&env, "default", "basic", with_agent.len()).await;
    env
}

pub(crate) fn add_tidb_cluster(env: &Env, ns: &str, name: &str, with_agent: &[&str], port: u16) {
    let mut tc = netem_testcluster::basic_tidbcluster(ns, name);
    for component in with_agent {
        tc["spec"][component]["additionalContainers"] = json!([agent_container(port)]);
        tc["spec"][component]["additionalVolumes"] = json!([contract::volume()]);
    }
    env.cluster.create(tc).expect("create TidbCluster");
}

/// Waits until `n` pods of the TidbCluster run with the agent container ready.
pub(crate) async fn wait_for_agents(env: &Env, ns: &str, tc: &str, n: usize) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let ready = agent_pods(env, ns, tc)
            .iter()
            .filter(|p| {
                p["status"]["containerStatuses"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .any(|c| c["name"] == "netem-agent" && c["ready"] == true)
            })
            .count();
        if ready >= n {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "only {ready} of {n} agent pods of {ns}/{tc} became ready"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

fn agent_pods(env: &Env, ns: &str, tc: &str) -> Vec<Value> {
    ["pd", "tikv", "tidb"]
        .iter()
        .filter_map(|c| env.cluster.get("v1", "Pod", ns, &format!("{tc}-{c}-0")))
        .filter(|p| {
            p["spec"]["containers"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|c| c["name"] == "netem-agent")
        })
        .collect()
}

/// How many port-forwards the API server was asked for.
fn portforwards(env: &Env) -> usize {
    env.cluster
        .requests()
        .iter()
        .filter(|r| r.path.ends_with("/portforward"))
        .count()
}

pub async fn delay_reports_the_kernel_without_netem_per_pod() {
    let env = cluster_with_agents(&["pd", "tikv", "tidb"]).await;
    let run = netem(
        &env,
        &["delay", "tidb-cluster/basic", "20ms", "--for", "1m"],
    )
    .await
    .failed();
    for pod in ["basic-pd-0", "basic-tikv-0", "basic-tidb-0"] {
        assert!(
            run.stderr
                .contains(&format!("error: pod/{pod}: kernel without netem:")),
            "{run}"
        );
    }
    // The same hint for every pod is printed once, with the count.
    let hint = run
        .stderr
        .lines()
        .find(|l| l.starts_with("hint (3 pods): "))
        .unwrap_or_else(|| panic!("no shared hint: {run}"));
    assert!(hint.contains("modprobe sch_netem"), "{run}");
    assert!(run.stdout.contains("0 of 3 pods ok, 3 failed"), "{run}");
    assert_eq!(portforwards(&env), 3);
    env.cluster.shutdown().await;
}

pub async fn status_lists_every_agent_pod_and_clear_succeeds() {
    let env = cluster_with_agents(&["pd", "tikv", "tidb"]).await;
    let run = netem(&env, &["status"]).await.ok();
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert!(lines[0].starts_with("POD"), "{run}");
    assert!(lines[0].ends_with("AGENT"), "{run}");
    assert_eq!(lines.len(), 4, "{run}");
    for (line, pod, component) in [
        (lines[1], "basic-pd-0", "pd"),
        (lines[2], "basic-tidb-0", "tidb"),
        (lines[3], "basic-tikv-0", "tikv"),
    ] {
        let cols: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(cols[0], pod, "{run}");
        assert_eq!(cols[1], component, "{run}");
        assert_eq!(cols.last(), Some(&"ok"), "{run}");
    }
    assert!(run.stderr.contains("status: 3 pods ok"), "{run}");

    // -l narrows the default (every agent pod) and a group alike.
    for args in [
        &["status", "-l", "app.kubernetes.io/component=tikv"][..],
        &[
            "status",
            "tc/basic",
            "--selector",
            "app.kubernetes.io/component=tikv",
        ],
    ] {
        let only = netem(&env, args).await.ok();
        let rows: Vec<&str> = only.stdout.lines().skip(1).collect();
        assert_eq!(rows.len(), 1, "{only}");
        assert!(rows[0].starts_with("basic-tikv-0 "), "{only}");
    }

    let wide = netem(&env, &["status", "-o", "wide", "basic-pd-0"])
        .await
        .ok();
    let ip = env.cluster.pod_ip("default", "basic-pd-0").expect("pod ip");
    assert!(wide.stdout.contains(&ip.to_string()), "{wide}");
    assert!(
        wide.stdout
            .contains("ghcr.io/kubectl-netem/netem-agent:test"),
        "{wide}"
    );

    let clear = netem(&env, &["clear", "tidb-cluster/basic"]).await.ok();
    assert!(clear.stdout.contains("pod/basic-pd-0: cleared"), "{clear}");
    assert!(clear.stdout.contains("clear: 3 pods ok"), "{clear}");
    let all = netem(&env, &["clear", "--all", "--component", "tikv"])
        .await
        .ok();
    assert!(all.stdout.contains("pod/basic-tikv-0: cleared"), "{all}");
    // A zero delay with nothing else is a clear, which works without netem too.
    let zero = netem(&env, &["delay", "basic-pd-0", "0"]).await.ok();
    assert!(
        zero.stdout
            .contains("pod/basic-pd-0: cleared (no impairment)"),
        "{zero}"
    );
    assert!(!all.stdout.contains("basic-pd-0"), "{all}");
    env.cluster.shutdown().await;
}

pub async fn status_json_shape_is_pinned() {
    let env = cluster_with_agents(&["pd"]).await;
    let run = netem(&env, &["status", "-o", "json"]).await.ok();
    let doc: Value = serde_json::from_str(&run.stdout).expect("JSON");
    let keys = |v: &Value| {
        v.as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect::<BTreeSet<_>>()
    };
    assert_eq!(keys(&doc), BTreeSet::from(["items".to_string()]));
    let items = doc["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{run}");
    let item = &items[0];
    let expected: BTreeSet<String> = [
        "namespace",
        "pod",
        "component",
        "node",
        "ip",
        "image",
        "agent_kind",
        "exposed",
        "state",
        "interface",
        "root_qdisc",
        "netem",
        "settings",
        "managed",
        "expires_at",
        "ttl_remaining",
        "error",
        "rules",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    assert_eq!(keys(item), expected);
    assert_eq!(item["namespace"], "default");
    assert_eq!(item["pod"], "basic-pd-0");
    assert_eq!(item["component"], "pd");
    assert_eq!(item["state"], "ok");
    assert_eq!(item["error"], Value::Null);
    assert!(item["interface"].is_string(), "{run}");
    assert_eq!(item["managed"], false, "{run}");
    assert_eq!(item["netem"], Value::Null, "nothing set: {run}");

    // A pod that cannot be read is an item too, with the cause and hint.
    env.cluster.deny("create", "pods/portforward");
    let run = netem(&env, &["status", "-o", "json"]).await.failed();
    let doc: Value = serde_json::from_str(&run.stdout).expect("JSON");
    let item = &doc["items"][0];
    assert_eq!(keys(item), expected);
    assert_eq!(item["state"], "error");
    assert_eq!(item["error"]["cause"], "forbidden");
    assert!(
        item["error"]["hint"]
            .as_str()
            .unwrap()
            .contains("pods/portforward")
    );
    let yaml = netem(&env, &["status", "-o", "yaml"]).await.failed();
    let from_yaml: Value = serde_yaml::from_str(&yaml.stdout).expect("YAML");
    assert_eq!(from_yaml["items"][0]["error"]["cause"], "forbidden");
    env.cluster.shutdown().await;
}

pub async fn forbidden_portforward_is_named_per_pod() {
    let env = cluster_with_agents(&["pd", "tikv"]).await;
    env.cluster.deny("create", "pods/portforward");
    let run = netem(&env, &["delay", "basic-pd-0", "basic-tikv-0", "20ms"])
        .await
        .failed();
    for pod in ["basic-pd-0", "basic-tikv-0"] {
        assert!(
            run.stderr
                .contains(&format!("error: pod/{pod}: port-forward forbidden")),
            "{run}"
        );
    }
    assert!(
        run.stderr
            .contains("kubectl auth can-i create pods/portforward -n default"),
        "{run}"
    );
    assert!(run.stdout.contains("0 of 2 pods ok, 2 failed"), "{run}");
    env.cluster.shutdown().await;
}

pub async fn targets_without_the_agent_or_unknown_change_nothing() {
    let env = cluster_with_agents(&["pd"]).await;

    // A named pod without the agent: refused before any pod is contacted.
    let run = netem(&env, &["delay", "basic-pd-0", "basic-tidb-0", "20ms"])
        .await
        .failed();
    assert!(
        run.stderr
            .contains("pod basic-tidb-0 has no netem-agent container"),
        "{run}"
    );
    assert!(
        run.stderr
            .contains("kubectl netem inject tidb-cluster/basic"),
        "{run}"
    );
    // An unknown pod: likewise.
    let run = netem(&env, &["clear", "basic-pd-0", "nosuch-0"])
        .await
        .failed();
    assert!(
        run.stderr
            .contains("pod nosuch-0 not found in namespace default"),
        "{run}"
    );
    // Bad values fail while parsing; inconsistent ones before connecting.
    let run = netem(&env, &["delay", "basic-pd-0", "20"]).await.failed();
    assert!(run.stderr.contains("missing unit"), "{run}");
    let run = netem(&env, &["delay", "basic-pd-0", "20ms", "--loss", "120%"])
        .await
        .failed();
    assert!(run.stderr.contains("between 0 and 100"), "{run}");
    let run = netem(
        &env,
        &["delay", "basic-pd-0", "20ms", "--distribution", "pareto"],
    )
    .await
    .failed();
    assert!(
        run.stderr
            .contains("invalid --distribution: needs a non-zero --jitter; nothing was changed"),
        "{run}"
    );
    // A filter cannot narrow pods named one by one: refused rather than ignored.
    let run = netem(
        &env,
        &["delay", "basic-pd-0", "20ms", "--component", "tikv"],
    )
    .await
    .failed();
    assert!(
        run.stderr
            .contains("--component and -l narrow tidb-cluster/ and statefulset/ targets"),
        "{run}"
    );
    assert_eq!(portforwards(&env), 0, "nothing may be contacted");

    // A group: the pods without the agent are left out with a note; the rest are tried.
    let run = netem(&env, &["delay", "tidb-cluster/basic", "20ms"])
        .await
        .failed();
    assert!(
        run.stderr.contains("left out 2 pod(s) without the agent"),
        "{run}"
    );
    assert!(
        run.stderr.contains("pod/basic-pd-0: kernel without netem"),
        "{run}"
    );
    assert_eq!(portforwards(&env), 1);

    // status names a pod without the agent in its row; the other pod still answers, and
    // the one failure makes the exit code non-zero.
    let run = netem(&env, &["status", "basic-pd-0", "basic-tidb-0"])
        .await
        .failed();
    let row = |pod: &str| {
        run.stdout
            .lines()
            .find(|l| l.starts_with(pod))
            .unwrap_or_else(|| panic!("no row for {pod}: {run}"))
            .to_string()
    };
    assert!(row("basic-pd-0").ends_with(" ok"), "{run}");
    assert!(row("basic-tidb-0").contains("no agent injected"), "{run}");
    assert!(run.stderr.contains("1 of 2 pods ok, 1 failed"), "{run}");
    assert!(
        run.stderr
            .contains("kubectl netem inject tidb-cluster/basic"),
        "{run}"
    );
    env.cluster.shutdown().await;
}

pub async fn an_agent_that_does_not_listen_is_named() {
    // The agent listens on another port, so 2332 in the pod refuses the connection.
    let env = cluster_with_agent_on_port(&["pd"], 2399).await;
    let run = netem(
        &env,
        &["delay", "basic-pd-0", "20ms", "--pod-timeout", "5s"],
    )
    .await
    .failed();
    assert!(
        run.stderr
            .contains("error: pod/basic-pd-0: agent not answering"),
        "{run}"
    );
    assert!(run.stderr.contains("-c netem-agent"), "{run}");
    env.cluster.shutdown().await;
}

pub async fn status_across_namespaces() {
    let env = cluster_with_agents(&["pd"]).await;
    env.cluster.add_namespace("other", &[]);
    add_tidb_cluster(&env, "other", "second", &["pd"], 2332);
    wait_for_agents(&env, "other", "second", 1).await;
    let run = netem(&env, &["status", "-A"]).await.ok();
    assert!(run.stdout.contains("default/basic-pd-0"), "{run}");
    assert!(run.stdout.contains("other/second-pd-0"), "{run}");
    let only = netem(&env, &["status", "-n", "other"]).await.ok();
    assert!(only.stdout.contains("second-pd-0"), "{only}");
    assert!(!only.stdout.contains("basic-pd-0"), "{only}");
    env.cluster.shutdown().await;
}

pub async fn after_inject_the_everyday_commands_reach_every_pod() {
    // The agent container exactly as `inject` writes it (command, args, volume, probes).
    let env = crate::support::basic_cluster().await;
    netem(&env, &["inject", "tc/basic", "--yes", "--wait"])
        .await
        .ok();
    wait_for_agents(&env, "default", "basic", 3).await;
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
    let run = netem(
        &env,
        &["delay", "tc/basic", "20ms", "--component", "pd,tikv"],
    )
    .await
    .failed();
    assert!(run.stdout.contains("0 of 2 pods ok, 2 failed"), "{run}");
    assert_eq!(
        run.stderr.matches("kernel without netem").count(),
        2,
        "{run}"
    );
    netem(&env, &["clear", "--all"]).await.ok();
    env.cluster.shutdown().await;
}
