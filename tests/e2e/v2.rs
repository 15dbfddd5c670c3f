//! TiDB Operator v2 end to end, the v1 scenarios side by side (`inject.rs`, `delay.rs`): the
//! real binary against the test cluster's v2 operator model, which merges each group's pod
//! overlay into pods it creates directly (no StatefulSets) and rolls them one at a time.

use std::time::{Duration, Instant};

use netem_testcluster::v2::API_VERSION;
use serde_json::{Value, json};

use crate::support::{Env, netem, netem_with_stdin, start_cluster};

const GROUPS: [(&str, &str); 3] = [
    ("PDGroup", "pd"),
    ("TiKVGroup", "tikv"),
    ("TiDBGroup", "tidb"),
];

fn group(env: &Env, kind: &str, name: &str) -> Value {
    env.cluster
        .get(API_VERSION, kind, "default", name)
        .unwrap_or_else(|| panic!("{kind} {name} missing"))
}

/// Every group's spec, in order.
fn specs(env: &Env) -> Vec<Value> {
    GROUPS
        .iter()
        .map(|(kind, name)| group(env, kind, name)["spec"].clone())
        .collect()
}

fn overlay(env: &Env, kind: &str, name: &str) -> Value {
    group(env, kind, name)["spec"]["template"]["spec"]["overlay"].clone()
}

/// The live pods of group `name` (not being deleted).
fn pods_of(env: &Env, name: &str) -> Vec<Value> {
    env.cluster
        .list("v1", "Pod", Some("default"))
        .into_iter()
        .filter(|p| p["metadata"]["labels"]["pingcap.com/group"] == name)
        .filter(|p| p["metadata"]["deletionTimestamp"].is_null())
        .collect()
}

fn has_agent(pod: &Value) -> bool {
    pod["spec"]["containers"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|c| c["name"] == "netem-agent")
}

fn agent_ready(pod: &Value) -> bool {
    pod["status"]["containerStatuses"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|c| c["name"] == "netem-agent" && c["ready"] == true)
}

fn pod_ready(pod: &Value) -> bool {
    pod["status"]["conditions"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|c| c["type"] == "Ready" && c["status"] == "True")
}

fn real_patches(env: &Env, path_part: &str) -> usize {
    env.cluster
        .requests()
        .into_iter()
        .filter(|r| r.method == "PATCH" && r.path.contains(path_part))
        .filter(|r| !r.query.contains("dryRun") && r.status < 300)
        .count()
}

/// Waits until `n` pods of the cluster are ready (`agents`: with the agent ready too).
async fn wait_pods(env: &Env, n: usize, agents: bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let ready = env
            .cluster
            .list("v1", "Pod", Some("default"))
            .iter()
            .filter(|p| p["metadata"]["deletionTimestamp"].is_null())
            .filter(|p| pod_ready(p) && (!agents || agent_ready(p)))
            .count();
        if ready >= n {
            return;
        }
        assert!(Instant::now() < deadline, "only {ready} of {n} pods ready");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Creates `objects` (a Cluster and its groups) and waits until their pods run.
async fn v2_cluster(objects: Vec<Value>, agents: bool) -> Env {
    let env = start_cluster().await;
    let pods: u64 = objects
        .iter()
        .map(|o| o["spec"]["replicas"].as_u64().unwrap_or(0))
        .sum();
    for o in objects {
        env.cluster.create(o).expect("create v2 object");
    }
    wait_pods(&env, pods as usize, agents).await;
    env.cluster
        .wait_settled(Duration::from_secs(30))
        .await
        .expect("v2 cluster settles");
    env
}

async fn basic_v2() -> Env {
    v2_cluster(
        netem_testcluster::basic_v2_cluster("default", "basic"),
        false,
    )
    .await
}

pub async fn v2_inject_rolls_pods_with_the_agent_and_eject_restores_the_group_specs() {
    let env = basic_v2().await;
    let before = specs(&env);

    let run = netem(
        &env,
        &[
            "inject",
            "cluster/basic",
            "--yes",
            "--wait",
            "--timeout",
            "2m",
        ],
    )
    .await
    .ok();
    assert!(
        run.stdout
            .contains("cluster/basic patched: netem-agent added to pd, tikv, tidb"),
        "{run}"
    );
    assert!(
        run.stderr.contains("done: pd 1/1, tikv 1/1, tidb 1/1"),
        "{run}"
    );
    // One JSON Patch per group, each guarded by its own resourceVersion.
    for (_, name) in GROUPS {
        let plural = match name {
            "pd" => "pdgroups",
            "tikv" => "tikvgroups",
            _ => "tidbgroups",
        };
        assert_eq!(
            real_patches(&env, &format!("/{plural}/{name}")),
            1,
            "{name}"
        );
    }
    for (kind, name) in GROUPS {
        let ov = overlay(&env, kind, name);
        assert_eq!(ov["pod"]["spec"]["containers"][0]["name"], "netem-agent");
        let pods = pods_of(&env, name);
        assert_eq!(pods.len(), 1, "{name}");
        assert!(
            agent_ready(&pods[0]),
            "{name} runs no ready agent: {}",
            pods[0]
        );
        // The operator's own container is still there.
        assert!(
            pods[0]["spec"]["containers"]
                .as_array()
                .unwrap()
                .iter()
                .any(|c| c["name"] == name)
        );
    }

    // Again: nothing to do, nothing written.
    let run = netem(&env, &["inject", "cluster/basic", "--yes"])
        .await
        .ok();
    assert!(run.stdout.contains("unchanged"), "{run}");
    assert_eq!(real_patches(&env, "groups/"), 3);

    let run = netem(
        &env,
        &[
            "eject",
            "cluster/basic",
            "--yes",
            "--wait",
            "--timeout",
            "2m",
        ],
    )
    .await
    .ok();
    assert!(
        run.stdout
            .contains("netem-agent removed from pd, tikv, tidb"),
        "{run}"
    );
    assert_eq!(
        specs(&env),
        before,
        "eject must give back the group specs exactly"
    );
    for (_, name) in GROUPS {
        assert!(pods_of(&env, name).iter().all(|p| !has_agent(p)), "{name}");
    }
    let run = netem(&env, &["eject", "cluster/basic", "--yes"]).await.ok();
    assert!(run.stdout.contains("unchanged"), "{run}");
    assert_eq!(real_patches(&env, "groups/"), 6);
    env.cluster.shutdown().await;
}

pub async fn v2_another_image_updates_the_agent_in_place_and_user_overlay_stays() {
    let mut objects = netem_testcluster::basic_v2_cluster("default", "basic");
    let sidecar = json!({"name": "log-tailer", "image": "busybox:1.36", "args": ["tail", "-F", "/var/log/tidb/slow.log"]});
    let user_overlay = json!({"pod": {
        "metadata": {"labels": {"team": "sql"}},
        "spec": {"containers": [sidecar], "terminationGracePeriodSeconds": 60}
    }});
    objects[3]["spec"]["template"]["spec"]["overlay"] = user_overlay.clone();
    let env = v2_cluster(objects, false).await;

    netem(
        &env,
        &[
            "inject",
            "cluster/basic",
            "--component",
            "tidb,pd",
            "--image",
            "example.com/agent:1",
            "--yes",
        ],
    )
    .await
    .ok();
    // One group by its short name, as the CRD declares it.
    let run = netem(
        &env,
        &[
            "inject",
            "dbg/tidb",
            "--image",
            "example.com/agent:2",
            "--yes",
        ],
    )
    .await
    .ok();
    assert!(
        run.stdout
            .contains("tidbgroup/tidb patched: netem-agent updated in tidb"),
        "{run}"
    );
    let ov = overlay(&env, "TiDBGroup", "tidb");
    let list = ov["pod"]["spec"]["containers"].as_array().unwrap().clone();
    assert_eq!(list.len(), 2);
    assert_eq!(list[0], sidecar);
    assert_eq!(list[1]["image"], "example.com/agent:2");
    assert_eq!(ov["pod"]["metadata"], user_overlay["pod"]["metadata"]);
    assert_eq!(
        overlay(&env, "PDGroup", "pd")["pod"]["spec"]["containers"][0]["image"],
        "example.com/agent:1"
    );
    assert!(
        overlay(&env, "TiKVGroup", "tikv").is_null(),
        "tikv was not asked for"
    );

    netem(&env, &["eject", "cluster/basic", "--yes"]).await.ok();
    assert_eq!(overlay(&env, "TiDBGroup", "tidb"), user_overlay);
    assert!(overlay(&env, "PDGroup", "pd").is_null());
    env.cluster.shutdown().await;
}

pub async fn v2_a_concurrent_writer_causes_a_retry_not_a_lost_update() {
    let env = basic_v2().await;
    env.cluster
        .conflict_next_writes("pdgroups", "default", "pd", 2);
    let run = netem(&env, &["inject", "cluster/basic", "--yes"])
        .await
        .ok();
    assert!(run.stderr.contains("pdgroup/pd changed meanwhile"), "{run}");
    let statuses: Vec<u16> = env
        .cluster
        .requests()
        .into_iter()
        .filter(|r| r.method == "PATCH" && r.path.contains("/pdgroups/pd"))
        .map(|r| r.status)
        .collect();
    assert_eq!(statuses, [409, 409, 200]);
    for (kind, name) in GROUPS {
        let containers = overlay(&env, kind, name)["pod"]["spec"]["containers"].clone();
        assert_eq!(containers.as_array().map(Vec::len), Some(1), "{name}");
    }
    env.cluster.shutdown().await;
}

pub async fn v2_refusals_write_nothing() {
    let env = basic_v2().await;
    let before = specs(&env);

    let run = netem_with_stdin(&env, &["inject", "cluster/basic"], Some("y\n"))
        .await
        .failed();
    assert!(run.stderr.contains("pass --yes"), "{run}");

    env.cluster.deny("patch", "tikvgroups");
    let run = netem(&env, &["inject", "kvg/tikv", "--yes"]).await.failed();
    assert!(
        run.stderr.contains(
            "error: cannot patch tikvgroups.core.pingcap.com \"tikv\" in namespace default: Forbidden: "
        ),
        "{run}"
    );
    env.cluster.allow_all();

    for (args, want) in [
        (
            &["inject", "cluster/basic", "--component", "tiflash", "--yes"][..],
            "no group of component \"tiflash\" (present: pd, tikv, tidb)",
        ),
        (
            &["inject", "cluster/nope", "--yes"],
            "cluster/nope not found in namespace default",
        ),
        (
            &["inject", "pdgroup/nope", "--yes"],
            "pdgroup/nope not found in namespace default",
        ),
        // A group kind the server does not serve: discovery says which it does.
        (
            &["inject", "routergroup/r", "--yes"],
            "unknown kind \"routergroup\": the server's TiDB Operator v2 groups are pdgroup (pdg), tikvgroup (kvg)",
        ),
        (
            &["delay", "cluster/basic", "20ms"],
            "none of its 3 pods has a netem-agent container: run `kubectl netem inject cluster/basic` first",
        ),
    ] {
        let run = netem(&env, args).await.failed();
        assert!(run.stderr.contains(want), "{args:?}: {run}");
    }

    env.cluster.add_namespace(
        "default",
        &[("pod-security.kubernetes.io/enforce", "restricted")],
    );
    let run = netem(&env, &["inject", "cluster/basic", "--yes"])
        .await
        .failed();
    assert!(run.stderr.contains("forbids the NET_ADMIN"), "{run}");
    env.cluster.add_namespace("default", &[]);

    assert_eq!(real_patches(&env, "groups/"), 0);
    assert_eq!(specs(&env), before);
    env.cluster.shutdown().await;
}

pub async fn v2_host_network_groups_are_refused() {
    let mut objects = netem_testcluster::basic_v2_cluster("default", "basic");
    objects[3]["spec"]["template"]["spec"]["overlay"] =
        json!({"pod": {"spec": {"hostNetwork": true}}});
    let env = v2_cluster(objects, false).await;
    let run = netem(&env, &["inject", "cluster/basic", "--yes"])
        .await
        .failed();
    assert!(run.stderr.contains("tidb uses hostNetwork"), "{run}");
    assert!(run.stderr.contains("--component pd,tikv"), "{run}");
    assert_eq!(real_patches(&env, "groups/"), 0);
    netem(
        &env,
        &["inject", "cluster/basic", "--component", "pd,tikv", "--yes"],
    )
    .await
    .ok();
    env.cluster.shutdown().await;
}

pub async fn v2_dry_run_prints_the_patches_and_writes_nothing() {
    let env = basic_v2().await;
    let before: Vec<Value> = GROUPS.iter().map(|(k, n)| group(&env, k, n)).collect();
    let run = netem(&env, &["inject", "cluster/basic", "--dry-run"])
        .await
        .ok();
    // One JSON Patch per group on stdout, in order.
    let patches: Vec<Value> = serde_json::Deserializer::from_str(&run.stdout)
        .into_iter::<Value>()
        .collect::<Result<_, _>>()
        .expect("stdout is JSON Patches");
    assert_eq!(patches.len(), 3, "{run}");
    for (patch, obj) in patches.iter().zip(&before) {
        assert_eq!(patch[0]["value"], obj["metadata"]["resourceVersion"]);
        assert_eq!(patch[1]["path"], "/spec/template/spec/overlay");
    }
    assert!(run.stderr.contains("JSON Patch for pdgroup/pd"), "{run}");
    assert!(run.stderr.contains("server-side dry run accepted"), "{run}");
    let after: Vec<Value> = GROUPS.iter().map(|(k, n)| group(&env, k, n)).collect();
    assert_eq!(after, before, "a dry run must not store anything");
    env.cluster.shutdown().await;
}

pub async fn v2_everyday_commands_reach_the_groups_pods() {
    let env = v2_cluster(
        netem_testcluster::v2_cluster_with_agents("default", "basic", 4),
        true,
    )
    .await;
    let pods = |run: &crate::support::Run| -> Vec<String> {
        let doc: Value = serde_json::from_str(&run.stdout).expect("JSON");
        doc["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| {
                i["pod"]
                    .as_str()
                    .unwrap()
                    .split('-')
                    .take(2)
                    .collect::<Vec<_>>()
                    .join("-")
            })
            .collect()
    };
    // The default (every pod with the agent), the cluster, one group, --component.
    let all = netem(&env, &["status", "-o", "json"]).await.ok();
    assert_eq!(
        pods(&all),
        ["pd-pd", "tidb-tidb", "tikv-tikv", "tikv-tikv"],
        "{all}"
    );
    let run = netem(&env, &["status", "cluster/basic", "-o", "json"])
        .await
        .ok();
    assert_eq!(pods(&run), pods(&all), "{run}");
    let run = netem(&env, &["status", "kvg/tikv", "-o", "json"])
        .await
        .ok();
    assert_eq!(pods(&run), ["tikv-tikv", "tikv-tikv"], "{run}");
    let run = netem(&env, &["status", "--component", "pd", "-o", "json"])
        .await
        .ok();
    assert_eq!(pods(&run), ["pd-pd"], "{run}");
    // The host kernel has no netem: every selected pod is reached and says so.
    let run = netem(
        &env,
        &["delay", "cluster/basic", "20ms", "--component", "pd,tikv"],
    )
    .await
    .failed();
    assert!(run.stdout.contains("0 of 3 pods ok, 3 failed"), "{run}");
    assert_eq!(
        run.stderr.matches("kernel without netem").count(),
        3,
        "{run}"
    );
    let run = netem(&env, &["clear", "pdgroup/pd"]).await.ok();
    assert!(run.stdout.contains("clear: 1 pod ok"), "{run}");
    netem(&env, &["clear", "--all", "--component", "tikv,tidb"])
        .await
        .ok();
    env.cluster.shutdown().await;
}

pub async fn v2_injected_manifest_applied_has_the_agent_from_the_first_pod() {
    const BASIC_V2: &str = include_str!("../../src/manifest/testdata/basic-v2.yaml");
    let env = start_cluster().await;
    let injected = netem_with_stdin(&env, &["inject", "-f", "-"], Some(BASIC_V2))
        .await
        .ok();
    assert!(
        injected
            .stderr
            .contains("tikvgroup/tikv: tikv: netem-agent added to the pod template"),
        "{injected}"
    );
    crate::manifest::kubectl(
        &env,
        &["apply", "-n", "default", "-f", "-"],
        &injected.stdout,
    )
    .await
    .ok();
    wait_pods(&env, 3, true).await;
    // No group was changed after creation: the pods had the agent from the first one.
    for (kind, name) in GROUPS {
        assert_eq!(
            group(&env, kind, name)["metadata"]["generation"],
            1,
            "{name}"
        );
    }
    let status = netem(&env, &["status", "cluster/basic", "-o", "json"])
        .await
        .ok();
    let doc: Value = serde_json::from_str(&status.stdout).expect("JSON");
    assert_eq!(doc["items"].as_array().map(Vec::len), Some(3), "{status}");
    env.cluster.shutdown().await;
}

/// `--ephemeral` on a v2 cluster: the agent joins the groups' running pods, no group spec
/// changes and no pod is replaced; status finds them; eject stops them.
pub async fn v2_ephemeral_agents_join_the_groups_pods_without_a_restart() {
    let env = basic_v2().await;
    let before = specs(&env);
    let uids = |env: &Env| -> Vec<String> {
        let mut u: Vec<String> = GROUPS
            .iter()
            .flat_map(|(_, name)| pods_of(env, name))
            .map(|p| p["metadata"]["uid"].as_str().unwrap().to_string())
            .collect();
        u.sort();
        u
    };
    let uids_before = uids(&env);
    let run = netem(&env, &["inject", "cluster/basic", "--ephemeral", "--wait"])
        .await
        .ok();
    assert!(run.stderr.contains("agents answering: 3 pods"), "{run}");
    assert_eq!(specs(&env), before, "no group spec changes");
    assert_eq!(uids(&env), uids_before, "no pod replaced");
    let status = netem(&env, &["status", "cluster/basic", "-o", "json"])
        .await
        .ok();
    let doc: Value = serde_json::from_str(&status.stdout).unwrap();
    let kinds: Vec<&Value> = doc["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| &i["agent_kind"])
        .collect();
    assert_eq!(kinds, [&json!("ephemeral"); 3], "{status}");
    netem(&env, &["eject", "pdgroup/pd", "--ephemeral", "--wait"])
        .await
        .ok();
    assert_eq!(uids(&env), uids_before);
    env.cluster.shutdown().await;
}
