//! Fidelity with the installed kubectl (v1.32): discovery, tables, errors as kubectl prints
//! them, patches. Skips (with a message) when kubectl is not installed.

use std::process::Command;
use std::time::Duration;

use netem_testcluster::basic_tidbcluster;
use serde_json::{Value, json};

/// What a kubectl run printed.
pub struct Out {
    pub ok: bool,
    pub stdout: String,
    pub stderr: String,
}

/// Runs the installed kubectl against `kubeconfig` (no other config, HOME beside it).
pub fn kubectl(kubeconfig: &std::path::Path, args: &[&str]) -> Out {
    let o = Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .args(args)
        .env_remove("KUBECONFIG")
        .env("HOME", kubeconfig.parent().unwrap())
        .output()
        .expect("run kubectl");
    Out {
        ok: o.status.success(),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    }
}

pub async fn kubectl_sees_a_cluster() {
    let env = crate::common::start(true, false).await;
    let c = &env.cluster;
    let kc = c.kubeconfig().to_path_buf();
    c.create(basic_tidbcluster("default", "basic")).unwrap();
    c.wait_ready(
        "default",
        &["basic-pd-0", "basic-tikv-0", "basic-tidb-0"],
        Duration::from_secs(20),
    )
    .await
    .unwrap();

    // Discovery (legacy, after kubectl's aggregated-discovery Accept), Table for pods.
    let out = kubectl(&kc, &["get", "pods", "-o", "wide"]);
    assert!(out.ok, "{}", out.stderr);
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert!(
        lines[0].starts_with("NAME") && lines[0].contains("READY") && lines[0].contains("IP"),
        "{}",
        out.stdout
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("basic-tidb-0") && l.contains("2/2") && l.contains("Running")),
        "{}",
        out.stdout
    );
    let ip = c.pod_ip("default", "basic-pd-0").unwrap().to_string();
    assert!(out.stdout.contains(&ip), "{}", out.stdout);

    // Short name from discovery; label selector.
    let out = kubectl(&kc, &["get", "tc"]);
    assert!(
        out.ok && out.stdout.contains("basic"),
        "{} {}",
        out.stdout,
        out.stderr
    );
    let out = kubectl(
        &kc,
        &[
            "get",
            "pods",
            "-l",
            "app.kubernetes.io/component=pd",
            "-o",
            "name",
        ],
    );
    assert_eq!(out.stdout.trim(), "pod/basic-pd-0", "{}", out.stderr);

    let out = kubectl(&kc, &["get", "tc", "basic", "-o", "json"]);
    let tc: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(tc["kind"], "TidbCluster");
    assert_eq!(tc["spec"]["pd"]["replicas"], 1);
    let rv: u64 = tc["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();

    // Merge patch, stored with a new resourceVersion and generation.
    let out = kubectl(
        &kc,
        &[
            "patch",
            "tc",
            "basic",
            "--type=merge",
            "-p",
            r#"{"spec":{"timezone":"Asia/Shanghai"}}"#,
        ],
    );
    assert!(out.ok, "{}", out.stderr);
    assert_eq!(out.stdout.trim(), "tidbcluster.pingcap.com/basic patched");
    let tc = c
        .get("pingcap.com/v1alpha1", "TidbCluster", "default", "basic")
        .unwrap();
    assert_eq!(tc["spec"]["timezone"], "Asia/Shanghai");
    assert!(
        tc["metadata"]["resourceVersion"]
            .as_str()
            .unwrap()
            .parse::<u64>()
            .unwrap()
            > rv
    );
    // No status subresource on TidbCluster (TiDB Operator v1): every non-metadata change,
    // the operator's status writes included, bumps generation.
    assert!(tc["metadata"]["generation"].as_i64().unwrap() >= 2);

    // Server-side dry run stores nothing.
    let out = kubectl(
        &kc,
        &[
            "patch",
            "tc",
            "basic",
            "--type=merge",
            "--dry-run=server",
            "-p",
            r#"{"spec":{"timezone":"UTC"}}"#,
        ],
    );
    assert!(out.ok, "{}", out.stderr);
    let after = c
        .get("pingcap.com/v1alpha1", "TidbCluster", "default", "basic")
        .unwrap();
    assert_eq!(after["spec"], tc["spec"]);

    // Strategic merge on a custom resource: 415 as a real server words it.
    let out = kubectl(
        &kc,
        &[
            "patch",
            "tc",
            "basic",
            "--type=strategic",
            "-p",
            r#"{"spec":{"timezone":"UTC"}}"#,
        ],
    );
    assert!(!out.ok);
    assert!(
        out.stderr.contains("the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml"),
        "{}",
        out.stderr
    );

    // JSON Patch with a failing test on a StatefulSet: 422, nothing changes.
    let sts_before = c
        .get("apps/v1", "StatefulSet", "default", "basic-pd")
        .unwrap();
    let out = kubectl(
        &kc,
        &[
            "patch",
            "sts",
            "basic-pd",
            "--type=json",
            "-p",
            r#"[{"op":"test","path":"/metadata/resourceVersion","value":"1"},{"op":"replace","path":"/spec/replicas","value":3}]"#,
        ],
    );
    assert!(!out.ok);
    assert!(
        out.stderr.contains(
            "The request is invalid: the server rejected our request due to an error in our request"
        ),
        "{}",
        out.stderr
    );
    assert_eq!(
        c.get("apps/v1", "StatefulSet", "default", "basic-pd")
            .unwrap(),
        sts_before
    );

    // 404 and 403 as kubectl prints them.
    let out = kubectl(&kc, &["get", "tc", "nope"]);
    assert_eq!(
        out.stderr.trim(),
        r#"Error from server (NotFound): tidbclusters.pingcap.com "nope" not found"#
    );
    c.deny("list", "pods");
    let out = kubectl(&kc, &["get", "pods"]);
    assert_eq!(
        out.stderr.trim(),
        r#"Error from server (Forbidden): pods is forbidden: User "testcluster-user" cannot list resource "pods" in API group "" in the namespace "default""#
    );
    c.allow_all();

    // A wrong token is 401.
    let out = kubectl(&kc, &["get", "pods", "--token", "wrong"]);
    assert!(out.stderr.contains("Unauthorized"), "{}", out.stderr);

    // kubectl delete waits (list + watch) until the pod is gone; the StatefulSet replaces it.
    let uid = c.get("v1", "Pod", "default", "basic-tikv-0").unwrap()["metadata"]["uid"].clone();
    let out = kubectl(&kc, &["delete", "pod", "basic-tikv-0", "--timeout=20s"]);
    assert!(out.ok, "{}", out.stderr);
    assert_eq!(out.stdout.trim(), r#"pod "basic-tikv-0" deleted"#);
    c.wait_ready("default", &["basic-tikv-0"], Duration::from_secs(20))
        .await
        .unwrap();
    assert_ne!(
        c.get("v1", "Pod", "default", "basic-tikv-0").unwrap()["metadata"]["uid"],
        uid
    );

    let statuses: Vec<u16> = c.requests().iter().map(|r| r.status).collect();
    for code in [200, 401, 403, 404, 415, 422] {
        assert!(statuses.contains(&code), "no {code} in {statuses:?}");
    }
    let strategic = c.requests().into_iter().find(|r| r.status == 415).unwrap();
    assert_eq!(strategic.method, "PATCH");
    assert_eq!(
        strategic.content_type.as_deref(),
        Some("application/strategic-merge-patch+json")
    );
    env.cluster.shutdown().await;
}

pub async fn kubectl_strategic_patch_on_a_statefulset_rolls_its_pods() {
    let env = crate::common::start(true, false).await;
    let c = &env.cluster;
    let kc = c.kubeconfig().to_path_buf();
    c.create(json!({
        "apiVersion": "apps/v1", "kind": "StatefulSet",
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}}, "serviceName": "web",
                 "template": {"metadata": {"labels": {"app": "web"}},
                              "spec": {"containers": [{"name": "nginx", "image": "nginx:1.27",
                                        "env": [{"name": "A", "value": "1"}]}]}}}
    }))
    .unwrap();
    c.wait_ready("default", &["web-0", "web-1"], Duration::from_secs(20))
        .await
        .unwrap();
    let uid0 = c.get("v1", "Pod", "default", "web-0").unwrap()["metadata"]["uid"].clone();
    let mut events = c.subscribe();
    let out = kubectl(
        &kc,
        &[
            "patch",
            "sts",
            "web",
            "-p",
            r#"{"spec":{"template":{"spec":{"containers":[{"name":"sidecar","image":"busybox"},{"name":"nginx","env":[{"name":"B","value":"2"}]}]}}}}"#,
        ],
    );
    assert!(out.ok, "{}", out.stderr);
    let sts = c.get("apps/v1", "StatefulSet", "default", "web").unwrap();
    let cs = &sts["spec"]["template"]["spec"]["containers"];
    assert_eq!(cs.as_array().unwrap().len(), 2);
    assert_eq!(
        cs[0]["env"],
        json!([{"name": "A", "value": "1"}, {"name": "B", "value": "2"}])
    );
    // Both pods end on the new template, web-1 first.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let mut order = Vec::new();
    loop {
        while let Ok(e) = events.try_recv() {
            if e.res == "pods" && e.kind == "DELETED" {
                order.push(e.obj["metadata"]["name"].as_str().unwrap().to_string());
            }
        }
        let done = ["web-0", "web-1"].iter().all(|n| {
            c.get("v1", "Pod", "default", n).is_some_and(|p| {
                p["spec"]["containers"].as_array().map_or(0, Vec::len) == 2
                    && p["status"]["conditions"].as_array().is_some_and(|cs| {
                        cs.iter()
                            .any(|c| c["type"] == "Ready" && c["status"] == "True")
                    })
            })
        });
        if done {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "rollout did not finish"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(order, ["web-1", "web-0"]);
    assert_ne!(
        c.get("v1", "Pod", "default", "web-0").unwrap()["metadata"]["uid"],
        uid0
    );
    let out = kubectl(&kc, &["get", "sts", "web"]);
    assert!(out.stdout.contains("2/2"), "{}", out.stdout);
    env.cluster.shutdown().await;
}

pub async fn kubectl_create_apply_describe() {
    let env = crate::common::start(false, false).await;
    let c = &env.cluster;
    let kc = c.kubeconfig().to_path_buf();
    let manifest = |replicas: u32| {
        format!(
            "apiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  name: web\nspec:\n  replicas: {replicas}\n  serviceName: web\n  selector:\n    matchLabels: {{app: web}}\n  template:\n    metadata:\n      labels: {{app: web}}\n    spec:\n      containers:\n      - name: nginx\n        image: nginx\n"
        )
    };
    let file = env.dir.path().join("web.yaml");
    std::fs::write(&file, manifest(1)).unwrap();
    // Validation is delegated to the server (openapi v3 advertises fieldValidation).
    let out = kubectl(&kc, &["create", "-f", file.to_str().unwrap()]);
    assert!(out.ok, "{}", out.stderr);
    assert_eq!(out.stdout.trim(), "statefulset.apps/web created");
    std::fs::write(&file, manifest(2)).unwrap();
    let out = kubectl(&kc, &["apply", "-f", file.to_str().unwrap()]);
    assert!(out.ok, "{}", out.stderr);
    assert_eq!(
        c.get("apps/v1", "StatefulSet", "default", "web").unwrap()["spec"]["replicas"],
        2
    );
    c.wait_ready("default", &["web-0", "web-1"], Duration::from_secs(10))
        .await
        .unwrap();
    let out = kubectl(&kc, &["describe", "pod", "web-1"]);
    assert!(
        out.ok && out.stdout.contains("Controlled By:  StatefulSet/web"),
        "{}{}",
        out.stdout,
        out.stderr
    );
    // Server-side apply of a built-in type is not modelled: kubectl is told so plainly.
    let out = kubectl(
        &kc,
        &["apply", "--server-side", "-f", file.to_str().unwrap()],
    );
    assert!(
        !out.ok && out.stderr.contains("Server-side apply not available"),
        "{}",
        out.stderr
    );
    env.cluster.shutdown().await;
}
