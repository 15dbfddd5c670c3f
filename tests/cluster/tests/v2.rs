//! TiDB Operator v2 (core.pingcap.com/v1alpha1) as kube-rs and kubectl see it: patch
//! semantics on a group (JSON Patch of the overlay, 422 on a missing list, strategic 415),
//! the operator rolling pods one at a time on an overlay change, tables and short names.

use std::collections::HashSet;
use std::time::Duration;

use kube::api::{ApiResource, DynamicObject, Patch, PatchParams};
use kube::core::GroupVersionKind;
use kube::{Api, Error};
use netem_testcluster::v2::{agent_overlay, basic_v2_cluster};
use serde_json::{Value, json};

fn api(client: kube::Client, kind: &str, plural: &str) -> Api<DynamicObject> {
    let gvk = GroupVersionKind::gvk("core.pingcap.com", "v1alpha1", kind);
    Api::namespaced_with(
        client,
        "default",
        &ApiResource::from_gvk_with_plural(&gvk, plural),
    )
}

fn err(e: Error) -> (u16, String) {
    match e {
        Error::Api(s) => (s.code, s.message),
        other => panic!("not an API error: {other}"),
    }
}

fn json_patch(v: Value) -> Patch<Value> {
    Patch::Json(serde_json::from_value(v).unwrap())
}

fn pods_of(c: &netem_testcluster::Cluster, group: &str) -> Vec<Value> {
    c.list("v1", "Pod", Some("default"))
        .into_iter()
        .filter(|p| p["metadata"]["labels"]["pingcap.com/group"] == group)
        .collect()
}

pub async fn kube_rs_patches_a_group_overlay_and_the_operator_rolls_one_pod_at_a_time() {
    let env = crate::common::start(false, false).await;
    let c = &env.cluster;
    for mut o in basic_v2_cluster("default", "basic") {
        if o["kind"] == "TiKVGroup" {
            o["spec"]["replicas"] = json!(3);
        }
        c.create(o).unwrap();
    }
    c.wait_settled(Duration::from_secs(20)).await.unwrap();
    let client = crate::common::client(c).await;
    let kvg = api(client, "TiKVGroup", "tikvgroups");
    let pp = PatchParams::default();
    let before = pods_of(c, "tikv");
    assert_eq!(before.len(), 3);
    for p in &before {
        let n = p["metadata"]["name"].as_str().unwrap();
        assert!(
            n.starts_with("tikv-tikv-") && n.len() == "tikv-tikv-".len() + 6,
            "{n}"
        );
        assert_eq!(
            p["metadata"]["labels"]["pingcap.com/managed-by"],
            "tidb-operator"
        );
        assert_eq!(p["metadata"]["labels"]["pingcap.com/cluster"], "basic");
        assert_eq!(p["metadata"]["labels"]["pingcap.com/component"], "tikv");
    }

    // Appending to a list the overlay does not have yet: 422 like the real server.
    let (code, msg) = err(kvg
        .patch("tikv", &pp, &json_patch(json!([{"op": "add", "path": "/spec/template/spec/overlay/pod/spec/containers/-", "value": {"name": "x", "image": "y"}}])))
        .await
        .unwrap_err());
    assert_eq!(code, 422, "{msg}");
    // Strategic merge on a custom resource: 415 with the real wording.
    let (code, msg) = err(kvg
        .patch(
            "tikv",
            &pp,
            &Patch::Strategic(json!({"spec": {"replicas": 3}})),
        )
        .await
        .unwrap_err());
    assert_eq!(code, 415);
    assert_eq!(
        msg,
        "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml"
    );

    // The whole overlay in one JSON Patch, guarded by the resourceVersion.
    let mut events = c.subscribe();
    let live = kvg.get("tikv").await.unwrap();
    let rv = live.metadata.resource_version.clone().unwrap();
    let out = kvg
        .patch(
            "tikv",
            &pp,
            &json_patch(json!([
                {"op": "test", "path": "/metadata/resourceVersion", "value": rv},
                {"op": "add", "path": "/spec/template/spec/overlay", "value": agent_overlay()}
            ])),
        )
        .await
        .unwrap();
    let generation = out.metadata.generation.unwrap();
    assert_eq!(generation, live.metadata.generation.unwrap() + 1);
    c.wait_settled(Duration::from_secs(30)).await.unwrap();

    // One tikv pod terminating at a time, each pod replaced (same name, new uid).
    let mut deleting = HashSet::new();
    let mut max = 0;
    let mut replaced = HashSet::new();
    while let Ok(ev) = events.try_recv() {
        let o = &ev.obj;
        if o["kind"] != "Pod" || o["metadata"]["labels"]["pingcap.com/group"] != "tikv" {
            continue;
        }
        let n = o["metadata"]["name"].as_str().unwrap().to_string();
        match ev.kind {
            "DELETED" => {
                deleting.remove(&n);
                replaced.insert(n);
            }
            _ if o["metadata"]["deletionTimestamp"].is_string() => {
                deleting.insert(n);
            }
            _ => {}
        }
        max = max.max(deleting.len());
    }
    assert_eq!(max, 1);
    assert_eq!(replaced.len(), 3);
    let after = pods_of(c, "tikv");
    for p in &after {
        let old = before
            .iter()
            .find(|b| b["metadata"]["name"] == p["metadata"]["name"])
            .expect("same pod names");
        assert_ne!(old["metadata"]["uid"], p["metadata"]["uid"]);
        let names: Vec<&str> = p["spec"]["containers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["tikv", "netem-agent"]);
        assert_eq!(p["spec"]["volumes"][0]["name"], "netem-agent-run");
    }
    let st = kvg.get("tikv").await.unwrap().data["status"].clone();
    assert_eq!(st["observedGeneration"], generation);
    assert_eq!(
        (
            st["replicas"].clone(),
            st["readyReplicas"].clone(),
            st["updatedReplicas"].clone()
        ),
        (json!(3), json!(3), json!(3))
    );
    assert_eq!(st["currentRevision"], st["updateRevision"]);
    // Other groups untouched.
    assert_eq!(
        pods_of(c, "pd")[0]["spec"]["containers"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    env.cluster.shutdown().await;
}

pub async fn kubectl_gets_v2_groups_by_name_short_name_and_category() {
    let env = crate::common::start(false, false).await;
    let c = &env.cluster;
    let kc = c.kubeconfig().to_path_buf();
    for o in basic_v2_cluster("default", "basic") {
        c.create(o).unwrap();
    }
    c.wait_settled(Duration::from_secs(20)).await.unwrap();
    for what in ["pdgroup", "pdg", "pdgroups.core.pingcap.com"] {
        let out = crate::kubectl::kubectl(&kc, &["get", what]);
        assert!(out.ok, "{what}: {}", out.stderr);
        let lines: Vec<Vec<&str>> = out
            .stdout
            .lines()
            .map(|l| l.split_whitespace().collect())
            .collect();
        assert_eq!(
            lines[0],
            [
                "NAME",
                "CLUSTER",
                "DESIRED",
                "READY",
                "UPDATED",
                "UPDATEREVISION",
                "CURRENTREVISION",
                "SYNCED",
                "READY",
                "AGE"
            ],
            "{}",
            out.stdout
        );
        assert_eq!(
            &lines[1][..5],
            ["pd", "basic", "1", "1", "1"],
            "{}",
            out.stdout
        );
        assert_eq!(&lines[1][7..9], ["True", "True"], "{}", out.stdout);
    }
    let out = crate::kubectl::kubectl(&kc, &["get", "kvg,dbg", "-o", "name"]);
    assert_eq!(
        out.stdout, "tikvgroup.core.pingcap.com/tikv\ntidbgroup.core.pingcap.com/tidb\n",
        "{}",
        out.stderr
    );
    // The `group` category lists every group.
    let out = crate::kubectl::kubectl(&kc, &["get", "group", "-o", "name"]);
    for g in [
        "pdgroup.core.pingcap.com/pd",
        "tikvgroup.core.pingcap.com/tikv",
        "tidbgroup.core.pingcap.com/tidb",
    ] {
        assert!(out.stdout.contains(g), "{g}: {} {}", out.stdout, out.stderr);
    }
    let out = crate::kubectl::kubectl(&kc, &["get", "clusters.core.pingcap.com"]);
    assert!(out.ok, "{}", out.stderr);
    let head: Vec<&str> = out
        .stdout
        .lines()
        .next()
        .unwrap()
        .split_whitespace()
        .collect();
    assert_eq!(
        head,
        [
            "NAME",
            "PD",
            "TIKV",
            "TIDB",
            "TIFLASH",
            "TIPROXY",
            "AVAILABLE",
            "AGE"
        ]
    );
    let out = crate::kubectl::kubectl(
        &kc,
        &[
            "get",
            "pods",
            "-l",
            "pingcap.com/component=pd",
            "-o",
            "name",
        ],
    );
    assert!(out.stdout.starts_with("pod/pd-pd-"), "{}", out.stdout);
    let out = crate::kubectl::kubectl(
        &kc,
        &["patch", "pdg", "pd", "-p", r#"{"spec":{"replicas":1}}"#],
    );
    assert!(!out.ok);
    assert!(
        out.stderr
            .contains("the body of the request was in an unknown format"),
        "{}",
        out.stderr
    );
    env.cluster.shutdown().await;
}

pub async fn pre_injected_v2_pods_run_the_real_agent() {
    let env = crate::common::start(true, true).await;
    let c = &env.cluster;
    for o in netem_testcluster::v2_cluster_with_agents("default", "basic", 3) {
        c.create(o).unwrap();
    }
    c.wait_settled(Duration::from_secs(30)).await.unwrap();
    let pods: Api<k8s_openapi::api::core::v1::Pod> =
        Api::default_namespaced(crate::common::client(c).await);
    for group in ["pd", "tikv", "tidb"] {
        let p = pods_of(c, group);
        assert_eq!(p.len(), 1, "{group}");
        let name = p[0]["metadata"]["name"].as_str().unwrap();
        let (code, body) = crate::portforward::try_http_get(&pods, name, "/v1/info")
            .await
            .unwrap();
        assert_eq!(code, 200, "{name}: {body}");
    }
    env.cluster.shutdown().await;
}
