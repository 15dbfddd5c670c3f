//! `inject` and `eject` end to end: the real binary against the test cluster's API server
//! (JSON Patch, resourceVersion conflicts, RBAC denials, server-side dry run) and its
//! operator/StatefulSet controllers, which roll pods that then run the real agent.

use serde_json::{Value, json};

use crate::support::{Env, Run, basic_cluster, netem, netem_with_stdin, start_cluster};

const TC: (&str, &str) = ("pingcap.com/v1alpha1", "TidbCluster");
const STS: (&str, &str) = ("apps/v1", "StatefulSet");
const COMPONENTS: [&str; 3] = ["pd", "tikv", "tidb"];

fn get(env: &Env, (api, kind): (&str, &str), name: &str) -> Value {
    env.cluster
        .get(api, kind, "default", name)
        .unwrap_or_else(|| panic!("{kind} {name} missing"))
}

fn tc_spec(env: &Env) -> Value {
    get(env, TC, "basic")["spec"].clone()
}

/// PATCH requests to paths containing `path_part`, whatever the answer.
fn patches(env: &Env, path_part: &str) -> Vec<netem_testcluster::RequestRecord> {
    env.cluster
        .requests()
        .into_iter()
        .filter(|r| r.method == "PATCH" && r.path.contains(path_part))
        .collect()
}

/// Patches that changed something: accepted, and not a dry run.
fn real_patches(env: &Env, path_part: &str) -> usize {
    patches(env, path_part)
        .iter()
        .filter(|r| !r.query.contains("dryRun") && r.status < 300)
        .count()
}

fn agents_in(list: &Value) -> Vec<Value> {
    list.as_array()
        .into_iter()
        .flatten()
        .filter(|c| c["name"] == "netem-agent")
        .cloned()
        .collect()
}

fn pod(env: &Env, name: &str) -> Value {
    env.cluster
        .get("v1", "Pod", "default", name)
        .unwrap_or_else(|| panic!("pod {name} missing"))
}

fn agent_ready(pod: &Value) -> bool {
    pod["status"]["containerStatuses"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|c| c["name"] == "netem-agent" && c["ready"] == true)
}

pub async fn inject_rolls_pods_with_the_agent_and_eject_restores_the_spec() {
    let env = basic_cluster().await;
    env.cluster
        .wait_ready(
            "default",
            &["basic-pd-0", "basic-tikv-0", "basic-tidb-0"],
            std::time::Duration::from_secs(60),
        )
        .await
        .unwrap();
    let before = tc_spec(&env);

    let run = netem(
        &env,
        &["inject", "tc/basic", "--yes", "--wait", "--timeout", "2m"],
    )
    .await
    .ok();
    assert!(
        run.stdout
            .contains("tidbcluster/basic patched: netem-agent added to pd, tikv, tidb"),
        "{run}"
    );
    assert!(
        run.stderr.contains("done: pd 1/1, tikv 1/1, tidb 1/1")
            && run.stderr.contains("agents answering: 3 pods"),
        "{run}"
    );
    // JSON Patch, never a merge patch that would replace the lists.
    let sent = patches(&env, "/tidbclusters/basic");
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(
        sent[0].content_type.as_deref(),
        Some("application/json-patch+json")
    );
    assert_eq!(sent[0].status, 200);
    let spec = tc_spec(&env);
    for c in COMPONENTS {
        let agents = agents_in(&spec[c]["additionalContainers"]);
        assert_eq!(agents.len(), 1, "{c}");
        let p = pod(&env, &format!("basic-{c}-0"));
        assert!(agent_ready(&p), "basic-{c}-0 runs no ready agent: {p}");
        // The operator's own container is still there, untouched by name.
        assert!(
            p["spec"]["containers"]
                .as_array()
                .unwrap()
                .iter()
                .any(|x| x["name"] == c)
        );
    }

    // Again: nothing to do, nothing written.
    let run = netem(&env, &["inject", "tc/basic", "--yes"]).await.ok();
    assert!(run.stdout.contains("unchanged"), "{run}");
    assert_eq!(real_patches(&env, "/tidbclusters/basic"), 1);

    let run = netem(
        &env,
        &[
            "eject",
            "tidb-cluster/basic",
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
        tc_spec(&env),
        before,
        "eject must give back the spec exactly"
    );
    for c in COMPONENTS {
        let p = pod(&env, &format!("basic-{c}-0"));
        assert!(
            !p["spec"]["containers"]
                .as_array()
                .unwrap()
                .iter()
                .any(|x| x["name"] == "netem-agent")
        );
    }

    // Eject twice: a no-op.
    let run = netem(&env, &["eject", "tc/basic", "--yes"]).await.ok();
    assert!(run.stdout.contains("unchanged"), "{run}");
    assert_eq!(real_patches(&env, "/tidbclusters/basic"), 2);
    env.cluster.shutdown().await;
}

pub async fn another_image_updates_the_agent_in_place_and_user_containers_stay() {
    let env = start_cluster().await;
    let mut tc = netem_testcluster::basic_tidbcluster("default", "basic");
    let sidecar = json!({"name": "log-tailer", "image": "busybox:1.36", "args": ["tail", "-F", "/var/log/tidb/slow.log"]});
    tc["spec"]["tidb"]["additionalContainers"] = json!([sidecar]);
    env.cluster.create(tc).unwrap();

    netem(
        &env,
        &[
            "inject",
            "tc/basic",
            "--component",
            "tidb,pd",
            "--image",
            "example.com/agent:1",
            "--yes",
        ],
    )
    .await
    .ok();
    let run = netem(
        &env,
        &[
            "inject",
            "basic",
            "--component",
            "tidb",
            "--image",
            "example.com/agent:2",
            "--yes",
        ],
    )
    .await
    .ok();
    assert!(run.stdout.contains("updated in tidb"), "{run}");
    let spec = tc_spec(&env);
    let list = spec["tidb"]["additionalContainers"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(list.len(), 2);
    assert_eq!(list[0], sidecar);
    assert_eq!(list[1]["name"], "netem-agent");
    assert_eq!(list[1]["image"], "example.com/agent:2");
    assert_eq!(
        agents_in(&spec["pd"]["additionalContainers"])[0]["image"],
        "example.com/agent:1"
    );
    assert!(
        spec["tikv"].get("additionalContainers").is_none(),
        "tikv was not asked for"
    );

    netem(&env, &["eject", "tc/basic", "--yes"]).await.ok();
    let spec = tc_spec(&env);
    assert_eq!(spec["tidb"]["additionalContainers"], json!([sidecar]));
    assert!(spec["pd"].get("additionalContainers").is_none());
    assert!(spec["tidb"].get("additionalVolumes").is_none());
    env.cluster.shutdown().await;
}

pub async fn a_concurrent_writer_causes_a_retry_not_a_lost_update() {
    let env = basic_cluster().await;
    env.cluster
        .conflict_next_writes("tidbclusters", "default", "basic", 2);
    let run = netem(&env, &["inject", "tc/basic", "--yes"]).await.ok();
    assert!(run.stderr.contains("changed meanwhile"), "{run}");
    let statuses: Vec<u16> = patches(&env, "/tidbclusters/basic")
        .iter()
        .map(|r| r.status)
        .collect();
    assert_eq!(
        statuses,
        [409, 409, 200],
        "two guarded writes refused, the third after re-reading"
    );
    let tc = get(&env, TC, "basic");
    for c in COMPONENTS {
        assert_eq!(agents_in(&tc["spec"][c]["additionalContainers"]).len(), 1);
    }
    env.cluster.shutdown().await;
}

pub async fn two_racing_injects_leave_one_agent() {
    let env = basic_cluster().await;
    let (a, b) = tokio::join!(
        netem(&env, &["inject", "tc/basic", "--yes"]),
        netem(&env, &["inject", "tc/basic", "--yes"])
    );
    a.ok();
    b.ok();
    // One write: the loser either got 409 and re-read, or came second and found the agent.
    assert_eq!(real_patches(&env, "/tidbclusters/basic"), 1);
    let spec = tc_spec(&env);
    for c in COMPONENTS {
        assert_eq!(agents_in(&spec[c]["additionalContainers"]).len(), 1, "{c}");
        assert_eq!(
            spec[c]["additionalVolumes"].as_array().unwrap().len(),
            1,
            "{c}"
        );
    }
    env.cluster.shutdown().await;
}

pub async fn refusals_write_nothing() {
    let env = basic_cluster().await;
    let before = tc_spec(&env);

    // No terminal and no --yes.
    let run = netem_with_stdin(&env, &["inject", "tc/basic"], Some("y\n"))
        .await
        .failed();
    assert!(run.stderr.contains("pass --yes"), "{run}");
    let run = netem(&env, &["eject", "tc/basic"]).await.ok();
    assert!(
        run.stdout.contains("unchanged"),
        "nothing to eject needs no confirmation: {run}"
    );

    // RBAC: patch denied.
    env.cluster.deny("patch", "tidbclusters");
    let run = netem(&env, &["inject", "tc/basic", "--yes"]).await.failed();
    let errors: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| l.starts_with("error:"))
        .collect();
    assert_eq!(errors.len(), 1, "{run}");
    // The one error path: the API's answer shortened, with the RBAC hint a 403 gets anywhere.
    assert!(
        errors[0].starts_with(
            "error: cannot patch tidbclusters.pingcap.com \"basic\" in namespace default: Forbidden: "
        ) && errors[0].ends_with("(HTTP 403) — your RBAC role lacks this verb (see docs/security.md)"),
        "{run}"
    );
    env.cluster.allow_all();

    // Unknown component, missing object.
    let run = netem(
        &env,
        &["inject", "tc/basic", "--component", "tiflash", "--yes"],
    )
    .await
    .failed();
    assert!(
        run.stderr
            .contains("\"tiflash\" is not in this TidbCluster's spec (present: pd, tikv, tidb)"),
        "{run}"
    );
    let run = netem(&env, &["inject", "tc/nope", "--yes"]).await.failed();
    assert!(
        run.stderr
            .contains("tidbcluster/nope not found in namespace default"),
        "{run}"
    );

    // Pod Security.
    env.cluster.add_namespace(
        "default",
        &[("pod-security.kubernetes.io/enforce", "baseline")],
    );
    let run = netem(&env, &["inject", "tc/basic", "--yes"]).await.failed();
    assert!(
        run.stderr.contains(
            "kubectl label namespace default pod-security.kubernetes.io/enforce=privileged"
        ),
        "{run}"
    );
    env.cluster.add_namespace("default", &[]);

    assert_eq!(real_patches(&env, "/tidbclusters/"), 0);
    assert_eq!(tc_spec(&env), before);
    env.cluster.shutdown().await;
}

pub async fn host_network_components_are_refused() {
    let env = start_cluster().await;
    let mut tc = netem_testcluster::basic_tidbcluster("default", "basic");
    tc["spec"]["tidb"]["hostNetwork"] = json!(true);
    env.cluster.create(tc).unwrap();
    let run = netem(&env, &["inject", "tc/basic", "--yes"]).await.failed();
    assert!(run.stderr.contains("tidb uses hostNetwork"), "{run}");
    assert!(run.stderr.contains("--component pd,tikv"), "{run}");
    assert_eq!(real_patches(&env, "/tidbclusters/"), 0);
    netem(
        &env,
        &["inject", "tc/basic", "--component", "pd,tikv", "--yes"],
    )
    .await
    .ok();
    env.cluster.shutdown().await;
}

pub async fn dry_run_prints_the_patch_and_writes_nothing() {
    let env = basic_cluster().await;
    let before = get(&env, TC, "basic");
    let run = netem(&env, &["inject", "tc/basic", "--dry-run"]).await.ok();
    let patch: Value = serde_json::from_str(&run.stdout).expect("stdout is the JSON Patch");
    assert_eq!(patch[0]["path"], "/metadata/resourceVersion");
    assert_eq!(patch[0]["value"], before["metadata"]["resourceVersion"]);
    assert!(
        patch
            .as_array()
            .unwrap()
            .iter()
            .any(|op| op["path"] == "/spec/pd/additionalContainers")
    );
    assert!(run.stderr.contains("server-side dry run accepted"), "{run}");
    let sent = patches(&env, "/tidbclusters/basic");
    assert_eq!(sent.len(), 1);
    assert!(sent[0].query.contains("dryRun=All"), "{sent:?}");
    assert_eq!(
        get(&env, TC, "basic"),
        before,
        "a dry run must not store anything"
    );
    env.cluster.shutdown().await;
}

fn web_statefulset(labels: Value) -> Value {
    json!({
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": {"name": "web", "namespace": "default", "labels": labels},
        "spec": {
            "replicas": 2,
            "serviceName": "web",
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "web", "image": "registry.k8s.io/nginx-slim:0.24"}]}
            }
        }
    })
}

pub async fn statefulset_fallback_without_the_crd() {
    let env = start_cluster().await;
    env.cluster.set_tidb_crd_installed(false);
    env.cluster
        .create(web_statefulset(json!({"app": "web"})))
        .unwrap();
    let before = get(&env, STS, "web")["spec"].clone();

    let run = netem(&env, &["inject", "tc/web", "--yes"]).await.failed();
    assert!(
        run.stderr
            .contains("does not serve tidbclusters.pingcap.com"),
        "{run}"
    );

    let run = netem(
        &env,
        &["inject", "web", "--yes", "--wait", "--timeout", "2m"],
    )
    .await
    .ok();
    assert!(
        run.stderr
            .contains("TidbCluster CRD not installed: using statefulset/web"),
        "{run}"
    );
    let spec = get(&env, STS, "web")["spec"].clone();
    let names: Vec<&str> = spec["template"]["spec"]["containers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["web", "netem-agent"]);
    for p in ["web-0", "web-1"] {
        assert!(agent_ready(&pod(&env, p)), "{p}");
    }
    let run = netem(&env, &["inject", "sts/web", "--yes"]).await.ok();
    assert!(run.stdout.contains("statefulset/web unchanged"), "{run}");

    netem(
        &env,
        &[
            "eject",
            "statefulset/web",
            "--yes",
            "--wait",
            "--timeout",
            "2m",
        ],
    )
    .await
    .ok();
    let after = get(&env, STS, "web")["spec"].clone();
    assert_eq!(
        after["template"], before["template"],
        "eject restores the pod template exactly"
    );
    env.cluster.shutdown().await;
}

pub async fn operator_managed_statefulsets_need_force() {
    let env = basic_cluster().await;
    env.cluster
        .wait_ready(
            "default",
            &["basic-pd-0"],
            std::time::Duration::from_secs(60),
        )
        .await
        .unwrap();
    let run = netem(&env, &["inject", "sts/basic-pd", "--yes"])
        .await
        .failed();
    assert!(run.stderr.contains("managed by TidbCluster/basic"), "{run}");
    assert!(
        run.stderr
            .contains("kubectl netem inject tidb-cluster/basic --component pd"),
        "{run}"
    );
    assert_eq!(real_patches(&env, "/statefulsets/"), 0);

    env.cluster
        .create(web_statefulset(
            json!({"app": "web", "app.kubernetes.io/managed-by": "Helm"}),
        ))
        .unwrap();
    let run = netem(&env, &["inject", "sts/web", "--yes"]).await.failed();
    assert!(
        run.stderr
            .contains("Helm (label app.kubernetes.io/managed-by)"),
        "{run}"
    );
    netem(&env, &["inject", "sts/web", "--yes", "--force"])
        .await
        .ok();
    assert_eq!(
        agents_in(&get(&env, STS, "web")["spec"]["template"]["spec"]["containers"]).len(),
        1
    );
    env.cluster.shutdown().await;
}

pub async fn pdms_entries_each_get_the_agent() {
    let env = start_cluster().await;
    let mut tc = netem_testcluster::basic_tidbcluster("default", "basic");
    tc["spec"]["pd"]["mode"] = json!("ms");
    tc["spec"]["pdms"] = json!([
        {"name": "tso", "baseImage": "pingcap/pd", "replicas": 2},
        {"name": "scheduling", "baseImage": "pingcap/pd", "replicas": 1}
    ]);
    env.cluster.create(tc).unwrap();
    let before = tc_spec(&env);

    let run = netem(
        &env,
        &[
            "inject",
            "tc/basic",
            "--component",
            "pdms",
            "--yes",
            "--wait",
            "--timeout",
            "2m",
        ],
    )
    .await
    .ok();
    assert!(
        run.stderr.contains("done: tso 2/2, scheduling 1/1"),
        "{run}"
    );
    let spec = tc_spec(&env);
    for i in 0..2 {
        assert_eq!(agents_in(&spec["pdms"][i]["additionalContainers"]).len(), 1);
    }
    assert!(spec["pd"].get("additionalContainers").is_none());
    for p in ["basic-tso-0", "basic-tso-1", "basic-scheduling-0"] {
        assert!(agent_ready(&pod(&env, p)), "{p}");
    }
    netem(&env, &["eject", "tc/basic", "--yes"]).await.ok();
    assert_eq!(tc_spec(&env), before);
    env.cluster.shutdown().await;
}

pub async fn a_users_own_netem_agent_container_is_never_replaced_or_removed() {
    let env = start_cluster().await;
    let mut tc = netem_testcluster::basic_tidbcluster("default", "basic");
    let users = json!({"name": "netem-agent", "image": "busybox:1.36", "command": ["sleep", "1d"]});
    tc["spec"]["pd"]["additionalContainers"] = json!([users]);
    env.cluster.create(tc).unwrap();
    let before = tc_spec(&env);

    for args in [
        &["inject", "tc/basic", "--yes"][..],
        &["eject", "tc/basic", "--yes"],
        &["inject", "tc/basic", "--dry-run"],
    ] {
        let run = netem(&env, args).await.failed();
        let errors: Vec<&str> = run
            .stderr
            .lines()
            .filter(|l| l.starts_with("error:"))
            .collect();
        assert_eq!(errors.len(), 1, "{run}");
        assert!(
            errors[0].starts_with(
                "error: tidbcluster/basic: pd: /spec/pd/additionalContainers has a container named \"netem-agent\" that kubectl-netem did not write"
            ) && errors[0].contains("rename yours or remove it"),
            "{run}"
        );
    }
    assert!(
        patches(&env, "/tidbclusters/").is_empty(),
        "not even a dry run is sent"
    );
    assert_eq!(tc_spec(&env), before);
    assert_eq!(tc_spec(&env)["pd"]["additionalContainers"], json!([users]));
    env.cluster.shutdown().await;
}

/// A running StatefulSet `web` (2 pods), its spec, and `inject sts/web --image IMAGE --yes
/// --wait` with an agent image that cannot become ready: the failed run and how long it took.
async fn inject_a_failing_image(image: &str) -> (Env, Value, Run, std::time::Duration) {
    let env = start_cluster().await;
    env.cluster
        .create(web_statefulset(json!({"app": "web"})))
        .unwrap();
    env.cluster
        .wait_ready(
            "default",
            &["web-0", "web-1"],
            std::time::Duration::from_secs(60),
        )
        .await
        .unwrap();
    let before = get(&env, STS, "web")["spec"].clone();
    let started = std::time::Instant::now();
    let run = netem(
        &env,
        &[
            "inject",
            "sts/web",
            "--image",
            image,
            "--yes",
            "--wait",
            "--timeout",
            "5m",
        ],
    )
    .await
    .failed();
    (env, before, run, started.elapsed())
}

/// `inject --wait` with an image the nodes cannot pull names the cause instead of waiting out
/// `--timeout`; the StatefulSet then waits for that pod forever (it never becomes ready), so
/// `eject --yes --wait` deletes it once the fault has lasted, and the spec is back exactly.
pub async fn an_unpullable_agent_image_is_named_and_eject_recovers_the_stuck_pod() {
    let (env, before, run, took) =
        inject_a_failing_image("example.com/netem-agent:unpullable").await;
    assert!(
        took < std::time::Duration::from_secs(60),
        "took {took:?}: {run}"
    );
    let errors: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| l.starts_with("error:"))
        .collect();
    assert_eq!(errors.len(), 1, "{run}");
    // The highest ordinal rolls first and is the one stuck.
    assert!(
        errors[0].starts_with("error: pod web-1, container netem-agent: ")
            && (errors[0].contains(": ImagePullBackOff: ")
                || errors[0].contains(": ErrImagePull: "))
            && errors[0].contains("the node cannot pull example.com/netem-agent:unpullable")
            && errors[0].contains("--image"),
        "{run}"
    );
    assert!(
        run.stderr
            .contains("warning: pod web-1, container netem-agent"),
        "{run}"
    );
    // Nothing replaces the stuck pod: the StatefulSet waits for it to become ready.
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    assert!(pod(&env, "web-1")["metadata"]["deletionTimestamp"].is_null());

    let run = netem(
        &env,
        &["eject", "sts/web", "--yes", "--wait", "--timeout", "2m"],
    )
    .await
    .ok();
    assert!(
        run.stderr
            .contains("deleted pod web-1 (stuck on the old spec)"),
        "{run}"
    );
    assert!(run.stderr.contains("done: web 2/2"), "{run}");
    assert_eq!(
        get(&env, STS, "web")["spec"],
        before,
        "the spec is back exactly"
    );
    for p in ["web-0", "web-1"] {
        let containers = pod(&env, p)["spec"]["containers"].clone();
        assert!(agents_in(&containers).is_empty(), "{p}: {containers}");
    }
    env.cluster.shutdown().await;
}

/// An agent image that crashes (the double's `:crashloop` tag: the process exits 2 at once,
/// every time) is named while waiting, with the last exit, and eject recovers the stuck pod.
pub async fn a_crashing_agent_is_named_with_its_last_exit_and_eject_recovers() {
    let (env, before, run, took) =
        inject_a_failing_image("example.com/netem-agent:crashloop").await;
    assert!(
        took < std::time::Duration::from_secs(120),
        "took {took:?}: {run}"
    );
    let error = run
        .stderr
        .lines()
        .find(|l| l.starts_with("error:"))
        .unwrap_or_default();
    assert!(
        error.contains(
            "pod web-1, container netem-agent: CrashLoopBackOff (last exit: Error, code 2)"
        ) && error.contains("kubectl logs -n default web-1 -c netem-agent --previous"),
        "{run}"
    );
    netem(
        &env,
        &["eject", "sts/web", "--yes", "--wait", "--timeout", "2m"],
    )
    .await
    .ok();
    assert_eq!(
        get(&env, STS, "web")["spec"],
        before,
        "the spec is back exactly"
    );
    env.cluster.shutdown().await;
}
