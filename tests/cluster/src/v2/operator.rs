//! TiDB Operator v2's controllers, level-triggered, on the store: for each group whose
//! `spec.cluster.name` names an existing `Cluster`, `spec.replicas` instances named
//! `{group}-{6 random [a-z0-9]}` (pkg/utils/tracker), each owning one pod named
//! `{group}-{component}-{suffix}` (apiutil `PodName`) created directly, with v2's labels and
//! the template's overlay merged in. A changed template is a new revision: instances are
//! updated one at a time (maxUnavailable 1, keeping their names), each only when every
//! instance is ready and up to date; an instance whose pod no longer matches has its pod
//! deleted and recreated. Status written back: instances (Ready, Synced), groups
//! (observedGeneration, replicas, ready/current/updatedReplicas, current/updateRevision,
//! version, selector, Ready/Synced), the Cluster (components, Available).

use serde_json::{Value, json};

use super::API_VERSION;
use super::overlay::overlay;
use super::resources::{CLUSTERS, COMPONENTS, Component};
use crate::clock;
use crate::controllers::{NODE_NAME, mark_pod_deleting, revision};
use crate::resources::PODS;
use crate::store::Store;

const MANAGER: &str = "tidb-operator";

fn name(o: &Value) -> &str {
    o["metadata"]["name"].as_str().unwrap_or("")
}

fn owned_by(o: &Value, uid: &Value) -> bool {
    o["metadata"]["ownerReferences"]
        .as_array()
        .is_some_and(|rs| rs.iter().any(|r| r["uid"] == *uid))
}

fn owner_ref(o: &Value) -> Value {
    json!({"apiVersion": API_VERSION, "kind": o["kind"], "name": o["metadata"]["name"],
           "uid": o["metadata"]["uid"], "controller": true, "blockOwnerDeletion": true})
}

/// The labels v2 puts on a group's instances (and, with more, on their pods).
pub fn instance_labels(group: &Value, c: &Component, rev: &str) -> Value {
    json!({
        "pingcap.com/managed-by": "tidb-operator",
        "pingcap.com/component": c.name,
        "pingcap.com/cluster": group["spec"]["cluster"]["name"],
        "pingcap.com/group": name(group),
        "pingcap.com/instance-revision-hash": rev,
    })
}

/// The pod of an instance: `{prefix}-{component}-{suffix}` for instance `{prefix}-{suffix}`.
pub fn pod_name(instance: &str, component: &str) -> String {
    match instance.rsplit_once('-') {
        Some((prefix, suffix)) => format!("{prefix}-{component}-{suffix}"),
        None => format!("{instance}-{component}"),
    }
}

fn new_instance(group: &Value, c: &Component, rev: &str, ns: &str) -> Value {
    let suffix: String = clock::new_uid().chars().take(6).collect();
    let mut spec = group["spec"]["template"]["spec"].clone();
    spec["cluster"] = group["spec"]["cluster"].clone();
    spec["subdomain"] = json!(format!("{}-{}-peer", name(group), c.name));
    json!({
        "apiVersion": API_VERSION, "kind": c.instance.kind,
        "metadata": {"name": format!("{}-{suffix}", name(group)), "namespace": ns,
                     "labels": instance_labels(group, c, rev),
                     "annotations": group["spec"]["template"]["metadata"]["annotations"],
                     "ownerReferences": [owner_ref(group)]},
        "spec": spec,
    })
}

/// The pod an instance wants, with its `pingcap.com/pod-spec-hash`.
pub fn desired_pod(instance: &Value, c: &Component) -> Value {
    let spec = &instance["spec"];
    let pod = pod_name(name(instance), c.name);
    let version = spec["version"].as_str().unwrap_or("latest");
    let image = match spec["image"].as_str() {
        Some(i) if i.rsplit('/').next().is_some_and(|l| l.contains(':')) => i.to_string(),
        Some(i) => format!("{i}:{version}"),
        None => format!("pingcap/{}:{version}", c.name),
    };
    let mut pod_spec = json!({
        "hostname": pod, "subdomain": spec["subdomain"], "nodeName": NODE_NAME,
        "restartPolicy": "Always",
        "containers": [{"name": c.name, "image": image, "imagePullPolicy": "IfNotPresent"}],
    });
    let ov = &spec["overlay"]["pod"];
    if ov["spec"].is_object() {
        overlay(&mut pod_spec, &ov["spec"]);
    }
    let mut labels = instance["metadata"]["labels"].clone();
    labels["pingcap.com/instance"] = json!(name(instance));
    labels["pingcap.com/config-hash"] = json!(revision(&spec["config"]));
    let mut annotations = instance["metadata"]["annotations"].clone();
    if !annotations.is_object() {
        annotations = json!({});
    }
    overlay(&mut labels, &ov["metadata"]["labels"]);
    overlay(&mut annotations, &ov["metadata"]["annotations"]);
    labels["pingcap.com/pod-spec-hash"] = json!(revision(&pod_spec));
    json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": pod, "namespace": instance["metadata"]["namespace"],
                     "labels": labels, "annotations": annotations,
                     "ownerReferences": [owner_ref(instance)]},
        "spec": pod_spec,
        "status": {"phase": "Pending", "qosClass": "BestEffort"},
    })
}

fn pod_ready(p: &Value) -> bool {
    p["metadata"]["deletionTimestamp"].is_null()
        && p["status"]["conditions"].as_array().is_some_and(|cs| {
            cs.iter()
                .any(|c| c["type"] == "Ready" && c["status"] == "True")
        })
}

/// A `metav1.Condition`, keeping the last transition time while the status holds.
fn condition(
    prev: &Value,
    ty: &str,
    ok: bool,
    reason: &str,
    message: &str,
    generation: &Value,
) -> Value {
    let status = if ok { "True" } else { "False" };
    let old = prev["conditions"]
        .as_array()
        .and_then(|cs| cs.iter().find(|c| c["type"] == ty));
    let since = match old {
        Some(o) if o["status"] == status => o["lastTransitionTime"].clone(),
        _ => json!(clock::now_rfc3339()),
    };
    json!({"type": ty, "status": status, "observedGeneration": generation,
           "lastTransitionTime": since, "reason": reason, "message": message})
}

fn write_status(store: &mut Store, res: &crate::resources::Resource, obj: &Value, status: Value) {
    if obj["status"] == status {
        return;
    }
    let mut next = obj.clone();
    next["status"] = status;
    let ns = obj["metadata"]["namespace"].as_str().unwrap_or("");
    let _ = store.write_unconditionally(res, ns, name(obj), next, MANAGER, true);
}

/// One pass over every v2 object.
pub fn reconcile(store: &mut Store) {
    for c in &COMPONENTS {
        for group in store.list(c.group, None) {
            reconcile_group(store, c, &group);
        }
    }
    for cluster in store.list(&CLUSTERS, None) {
        cluster_status(store, &cluster);
    }
    collect_garbage(store);
}

fn reconcile_group(store: &mut Store, c: &Component, group: &Value) {
    let ns = group["metadata"]["namespace"]
        .as_str()
        .unwrap_or("")
        .to_string();
    let cluster = group["spec"]["cluster"]["name"].as_str().unwrap_or("");
    if group["metadata"]["deletionTimestamp"].is_string()
        || store.get(&CLUSTERS, &ns, cluster).is_none()
    {
        return;
    }
    let rev = revision(&group["spec"]["template"]);
    let uid = &group["metadata"]["uid"];
    let replicas = group["spec"]["replicas"].as_i64().unwrap_or(1).max(0) as usize;
    let mut instances: Vec<Value> = store
        .list(c.instance, Some(&ns))
        .into_iter()
        .filter(|i| owned_by(i, uid))
        .collect();
    instances.sort_by(|a, b| name(a).cmp(name(b)));
    while instances.len() < replicas {
        match store.create(
            c.instance,
            &ns,
            new_instance(group, c, &rev, &ns),
            MANAGER,
            false,
        ) {
            Ok(i) => instances.push(i),
            Err(_) => break,
        }
    }
    for extra in instances.split_off(replicas.min(instances.len())) {
        store.remove(c.instance, &ns, name(&extra));
    }
    // Each instance's pod: created when missing, recreated when it no longer matches.
    let mut ready = Vec::new();
    for inst in &instances {
        let want = desired_pod(inst, c);
        let pod_name = want["metadata"]["name"].as_str().unwrap_or("").to_string();
        let hash = &want["metadata"]["labels"]["pingcap.com/pod-spec-hash"];
        let have = store.get(&PODS, &ns, &pod_name);
        let ok = match &have {
            None => {
                let _ = store.create(&PODS, &ns, want.clone(), MANAGER, false);
                false
            }
            Some(p) if p["metadata"]["labels"]["pingcap.com/pod-spec-hash"] != *hash => {
                mark_pod_deleting(store, &ns, &pod_name);
                false
            }
            Some(p) => pod_ready(p),
        };
        let synced = have
            .as_ref()
            .is_some_and(|p| p["metadata"]["labels"]["pingcap.com/pod-spec-hash"] == *hash);
        ready.push(ok);
        let generation = &inst["metadata"]["generation"];
        let prev = &inst["status"];
        let status = json!({
            "observedGeneration": generation,
            "currentRevision": inst["metadata"]["labels"]["pingcap.com/instance-revision-hash"],
            "updateRevision": inst["metadata"]["labels"]["pingcap.com/instance-revision-hash"],
            "conditions": [
                condition(prev, "Ready", ok, if ok { "Ready" } else { "PodNotReady" }, "", generation),
                condition(prev, "Synced", synced, if synced { "Synced" } else { "PodNotUpToDate" }, "", generation),
            ],
        });
        write_status(store, c.instance, inst, status);
    }
    let is_current =
        |i: &Value| i["metadata"]["labels"]["pingcap.com/instance-revision-hash"] == rev.as_str();
    // Rolling update, one instance at a time, only when all are ready: the outdated one
    // takes the new template (keeping its name); its pod follows on the next pass.
    if ready.iter().all(|r| *r)
        && let Some(old) = instances.iter().find(|i| !is_current(i))
    {
        let mut next = old.clone();
        let mut spec = group["spec"]["template"]["spec"].clone();
        spec["cluster"] = old["spec"]["cluster"].clone();
        spec["subdomain"] = old["spec"]["subdomain"].clone();
        next["spec"] = spec;
        next["metadata"]["labels"] = instance_labels(group, c, &rev);
        next["metadata"]["annotations"] =
            group["spec"]["template"]["metadata"]["annotations"].clone();
        let _ = store.write_unconditionally(c.instance, &ns, name(old), next, MANAGER, false);
    }
    let updated = instances.iter().filter(|i| is_current(i)).count();
    let n_ready = ready.iter().filter(|r| **r).count();
    let prev = &group["status"];
    let current = if updated == instances.len() && instances.len() == replicas {
        json!(rev)
    } else {
        prev.get("currentRevision").cloned().unwrap_or(json!(rev))
    };
    let generation = &group["metadata"]["generation"];
    let all_ready = n_ready == replicas && instances.len() == replicas;
    let synced = updated == replicas && instances.len() == replicas;
    let status = json!({
        "observedGeneration": generation,
        "conditions": [
            condition(prev, "Ready", all_ready, if all_ready { "Ready" } else { "NotAllInstancesReady" }, "", generation),
            condition(prev, "Synced", synced, if synced { "Synced" } else { "NotAllInstancesUpToDate" }, "", generation),
        ],
        "currentRevision": current,
        "updateRevision": rev,
        "collisionCount": 0,
        "version": group["spec"]["template"]["spec"]["version"],
        "selector": format!("pingcap.com/cluster={cluster},pingcap.com/component={},pingcap.com/group={},pingcap.com/managed-by=tidb-operator", c.name, name(group)),
        "replicas": instances.len(),
        "readyReplicas": n_ready,
        "currentReplicas": if current == json!(rev) { updated } else { instances.len() - updated },
        "updatedReplicas": updated,
    });
    write_status(store, c.group, group, status);
}

fn cluster_status(store: &mut Store, cluster: &Value) {
    let ns = cluster["metadata"]["namespace"].as_str().unwrap_or("");
    let mut components = Vec::new();
    let mut available = true;
    for c in &COMPONENTS {
        let groups: Vec<Value> = store
            .list(c.group, Some(ns))
            .into_iter()
            .filter(|g| g["spec"]["cluster"]["name"] == cluster["metadata"]["name"])
            .collect();
        if groups.is_empty() {
            continue;
        }
        let replicas: i64 = groups
            .iter()
            .map(|g| g["spec"]["replicas"].as_i64().unwrap_or(1))
            .sum();
        available &= groups
            .iter()
            .all(|g| g["status"]["readyReplicas"].as_i64().unwrap_or(0) > 0);
        components.push(json!({"kind": c.status_kind, "replicas": replicas}));
    }
    let generation = &cluster["metadata"]["generation"];
    let prev = &cluster["status"];
    let status = json!({
        "observedGeneration": generation,
        "components": components,
        "conditions": [condition(prev, "Available", available,
            if available { "ClusterAvailable" } else { "Unavailable" }, "", generation)],
        "id": prev.get("id").cloned().unwrap_or(json!("")),
    });
    write_status(store, &CLUSTERS, cluster, status);
}

fn collect_garbage(store: &mut Store) {
    for c in &COMPONENTS {
        let groups: Vec<Value> = store
            .list(c.group, None)
            .iter()
            .map(|g| g["metadata"]["uid"].clone())
            .collect();
        let mut live = Vec::new();
        for inst in store.list(c.instance, None) {
            let ns = inst["metadata"]["namespace"]
                .as_str()
                .unwrap_or("")
                .to_string();
            let orphan = inst["metadata"]["ownerReferences"]
                .as_array()
                .is_some_and(|rs| {
                    rs.iter()
                        .any(|r| r["kind"] == c.group.kind && !groups.contains(&r["uid"]))
                });
            if orphan {
                store.remove(c.instance, &ns, name(&inst));
            } else {
                live.push(inst["metadata"]["uid"].clone());
            }
        }
        for pod in store.list(&PODS, None) {
            let orphan = pod["metadata"]["ownerReferences"]
                .as_array()
                .is_some_and(|rs| {
                    rs.iter().any(|r| {
                        r["kind"] == c.instance.kind
                            && r["apiVersion"] == API_VERSION
                            && !live.contains(&r["uid"])
                    })
                });
            if orphan {
                let ns = pod["metadata"]["namespace"]
                    .as_str()
                    .unwrap_or("")
                    .to_string();
                mark_pod_deleting(store, &ns, name(&pod));
            }
        }
    }
}

/// What keeps the v2 model from being settled, if anything.
pub fn unsettled(store: &Store) -> Option<String> {
    for c in &COMPONENTS {
        for g in store.list(c.group, None) {
            let ns = g["metadata"]["namespace"].as_str().unwrap_or("");
            if store
                .get(
                    &CLUSTERS,
                    ns,
                    g["spec"]["cluster"]["name"].as_str().unwrap_or(""),
                )
                .is_none()
            {
                continue;
            }
            let st = &g["status"];
            let replicas = g["spec"]["replicas"].as_i64().unwrap_or(1);
            let done = st["observedGeneration"] == g["metadata"]["generation"]
                && st["replicas"].as_i64() == Some(replicas)
                && st["readyReplicas"].as_i64() == Some(replicas)
                && st["updatedReplicas"].as_i64() == Some(replicas)
                && st["currentRevision"] == st["updateRevision"];
            if !done {
                return Some(format!("{} {} rolling", c.group.kind, name(&g)));
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::v2::{agent_overlay, basic_v2_cluster, resources::PDGROUPS};

    fn set_ready(store: &mut Store) {
        for p in store.list(&PODS, None) {
            if p["metadata"]["deletionTimestamp"].is_string() || pod_ready(&p) {
                continue;
            }
            let mut p = p;
            p["status"] =
                json!({"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]});
            let ns = p["metadata"]["namespace"].as_str().unwrap().to_string();
            let n = name(&p).to_string();
            store
                .update(&PODS, &ns, &n, p, None, "kubelet", false, true)
                .unwrap();
        }
    }

    fn remove_deleting(store: &mut Store) -> Vec<String> {
        let mut gone = Vec::new();
        for p in store.list(&PODS, None) {
            if p["metadata"]["deletionTimestamp"].is_string() {
                store.remove(&PODS, "default", name(&p));
                gone.push(name(&p).to_string());
            }
        }
        gone
    }

    #[test]
    fn groups_yield_named_labelled_pods_and_overlay_changes_roll_one_at_a_time() {
        let mut s = Store::new();
        for mut o in basic_v2_cluster("default", "basic") {
            if o["kind"] == "PDGroup" {
                o["spec"]["replicas"] = json!(3);
            }
            let res = crate::resources::Resource::by_kind(API_VERSION, o["kind"].as_str().unwrap())
                .unwrap();
            s.create(res, "default", o, "test", false).unwrap();
        }
        reconcile(&mut s);
        let pods = s.list(&PODS, None);
        assert_eq!(pods.len(), 5);
        let pd: Vec<&Value> = pods
            .iter()
            .filter(|p| p["metadata"]["labels"]["pingcap.com/component"] == "pd")
            .collect();
        assert_eq!(pd.len(), 3);
        let p = pd[0];
        let inst = p["metadata"]["labels"]["pingcap.com/instance"]
            .as_str()
            .unwrap();
        assert!(inst.starts_with("pd-") && inst.len() == 9, "{inst}");
        assert_eq!(name(p), pod_name(inst, "pd"));
        assert!(name(p).starts_with("pd-pd-"));
        for (k, v) in [
            ("pingcap.com/managed-by", "tidb-operator"),
            ("pingcap.com/cluster", "basic"),
            ("pingcap.com/group", "pd"),
        ] {
            assert_eq!(p["metadata"]["labels"][k], v);
        }
        assert_eq!(p["spec"]["containers"][0]["image"], "pingcap/pd:v8.1.0");
        assert_eq!(p["metadata"]["ownerReferences"][0]["kind"], "PD");
        set_ready(&mut s);
        reconcile(&mut s);
        reconcile(&mut s);
        assert_eq!(unsettled(&s), None);

        // The overlay adds the agent: one pd pod recreated at a time, each after the last is ready.
        let mut g = s.get(&PDGROUPS, "default", "pd").unwrap();
        g["spec"]["template"]["spec"]["overlay"] = agent_overlay();
        s.update(&PDGROUPS, "default", "pd", g, None, "test", false, false)
            .unwrap();
        let mut rolled = Vec::new();
        for _ in 0..20 {
            reconcile(&mut s);
            let deleting: Vec<String> = s
                .list(&PODS, None)
                .iter()
                .filter(|p| p["metadata"]["deletionTimestamp"].is_string())
                .map(|p| name(p).to_string())
                .collect();
            assert!(deleting.len() <= 1, "{deleting:?}");
            rolled.extend(remove_deleting(&mut s));
            reconcile(&mut s);
            set_ready(&mut s);
        }
        rolled.sort();
        rolled.dedup();
        assert_eq!(rolled.len(), 3, "{rolled:?}");
        for p in s
            .list(&PODS, None)
            .iter()
            .filter(|p| p["metadata"]["labels"]["pingcap.com/component"] == "pd")
        {
            let names: Vec<&str> = p["spec"]["containers"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["name"].as_str().unwrap())
                .collect();
            assert_eq!(names, ["pd", "netem-agent"]);
            assert_eq!(p["spec"]["volumes"][0]["name"], "netem-agent-run");
        }
        let st = &s.get(&PDGROUPS, "default", "pd").unwrap()["status"];
        assert_eq!(st["updatedReplicas"], 3);
        assert_eq!(st["readyReplicas"], 3);
        assert_eq!(st["currentRevision"], st["updateRevision"]);
        assert_eq!(unsettled(&s), None);
    }
}
