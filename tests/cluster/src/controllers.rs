//! The control plane's controllers, level-triggered: TiDB Operator (TidbCluster →
//! StatefulSets, overwriting drift as the operator does), the StatefulSet controller
//! (pods `<sts>-<i>`, parallel creation, rolling update one pod at a time, highest ordinal
//! first, each waiting for the previous to be ready) and garbage collection by owner.

use serde_json::{Value, json};
use sha1::{Digest, Sha1};

use crate::clock;
use crate::resources::{PODS, STATEFULSETS, TIDBCLUSTERS};
use crate::store::Store;
use crate::tidb;

const MANAGER: &str = "tidb-controller-manager";
const STS_MANAGER: &str = "kube-controller-manager";
/// The node all pods run on.
pub const NODE_NAME: &str = "testcluster-node";

/// Mark a pod terminating (the kubelet stops it, then removes it).
pub fn mark_pod_deleting(store: &mut Store, ns: &str, name: &str) -> Option<Value> {
    let mut pod = store.get(&PODS, ns, name)?;
    if pod["metadata"]["deletionTimestamp"].is_string() {
        return Some(pod);
    }
    pod["metadata"]["deletionTimestamp"] = json!(clock::now_rfc3339());
    pod["metadata"]["deletionGracePeriodSeconds"] = json!(30);
    store.mark_deleting(&PODS, ns, name, pod)
}

fn owner_uid(obj: &Value, kind: &str) -> Option<String> {
    obj["metadata"]["ownerReferences"]
        .as_array()?
        .iter()
        .find(|o| o["kind"] == kind)
        .and_then(|o| o["uid"].as_str())
        .map(str::to_string)
}

/// The revision hash of a pod template (as `controller-revision-hash` carries it).
pub fn revision(template: &Value) -> String {
    let h = Sha1::digest(serde_json::to_vec(template).unwrap_or_default());
    h.iter().take(5).map(|b| format!("{b:02x}")).collect()
}

/// One pass of every controller.
pub fn reconcile(store: &mut Store) {
    operator(store);
    crate::v2::operator::reconcile(store);
    statefulsets(store);
    collect_garbage(store);
}

fn operator(store: &mut Store) {
    for tc in store.list(&TIDBCLUSTERS, None) {
        if tc["metadata"]["deletionTimestamp"].is_string() {
            continue;
        }
        let ns = tc["metadata"]["namespace"]
            .as_str()
            .unwrap_or("")
            .to_string();
        for (component, spec) in tidb::components(&tc) {
            let want = tidb::desired_statefulset(&tc, &component, &spec);
            let name = want["metadata"]["name"].as_str().unwrap_or("").to_string();
            match store.get(&STATEFULSETS, &ns, &name) {
                None => {
                    let _ = store.create(&STATEFULSETS, &ns, want, MANAGER, false);
                }
                Some(have) => {
                    // The operator owns the StatefulSet: drift in what it manages is reverted.
                    let same = have["spec"]["template"] == want["spec"]["template"]
                        && have["spec"]["replicas"] == want["spec"]["replicas"];
                    if !same {
                        let mut next = have.clone();
                        next["spec"]["template"] = want["spec"]["template"].clone();
                        next["spec"]["replicas"] = want["spec"]["replicas"].clone();
                        let _ = store.write_unconditionally(
                            &STATEFULSETS,
                            &ns,
                            &name,
                            next,
                            MANAGER,
                            false,
                        );
                    }
                }
            }
        }
        write_tc_status(store, &tc, &ns);
    }
}

/// The operator's view of a TidbCluster, written back as its `status` (per component: phase
/// Normal or Upgrade, image, the StatefulSet's status; a Ready condition). TiDB Operator v1
/// writes status through the main resource, so each change is a new resourceVersion that
/// clients' guarded writes must survive, as on a real cluster.
fn write_tc_status(store: &mut Store, tc: &Value, ns: &str) {
    let tc_name = tc["metadata"]["name"].as_str().unwrap_or("");
    let mut status = json!({});
    let mut all_ready = true;
    for (component, spec) in tidb::components(tc) {
        let want = tidb::desired_statefulset(tc, &component, &spec);
        let sts = store.get(&STATEFULSETS, ns, &format!("{tc_name}-{component}"));
        let st = sts
            .as_ref()
            .map(|s| s["status"].clone())
            .unwrap_or(json!({}));
        let replicas = want["spec"]["replicas"].as_i64().unwrap_or(1);
        let up_to_date = sts.as_ref().is_some_and(|s| {
            s["spec"]["template"] == want["spec"]["template"]
                && st["updateRevision"] == st["currentRevision"]
                && st["updatedReplicas"].as_i64() == Some(replicas)
        });
        let ready = st["readyReplicas"].as_i64() == Some(replicas);
        all_ready &= up_to_date && ready;
        status[component.as_str()] = json!({
            "phase": if up_to_date { "Normal" } else { "Upgrade" },
            "synced": true,
            "image": want["spec"]["template"]["spec"]["containers"]
                .as_array()
                .and_then(|cs| cs.iter().find(|c| c["name"] == component.as_str()))
                .map(|c| c["image"].clone())
                .unwrap_or(Value::Null),
            "statefulSet": st,
        });
    }
    let (cond, reason, message) = if all_ready {
        ("True", "Ready", "TiDB cluster is fully up and running")
    } else {
        (
            "False",
            "StatefulSetNotUpToDate",
            "Statefulset(s) are in progress",
        )
    };
    status["conditions"] =
        json!([{"type": "Ready", "status": cond, "reason": reason, "message": message}]);
    if tc["status"] == status {
        return;
    }
    let mut next = tc.clone();
    next["status"] = status;
    let _ = store.write_unconditionally(&TIDBCLUSTERS, ns, tc_name, next, MANAGER, true);
}

/// What keeps the cluster from being settled, if anything (for [`crate::Cluster::wait_settled`]).
pub fn unsettled(store: &Store) -> Option<String> {
    for tc in store.list(&TIDBCLUSTERS, None) {
        let ready = tc["status"]["conditions"].as_array().is_some_and(|cs| {
            cs.iter()
                .any(|c| c["type"] == "Ready" && c["status"] == "True")
        });
        if !ready {
            return Some(format!("TidbCluster {} not Ready", tc["metadata"]["name"]));
        }
    }
    for sts in store.list(&STATEFULSETS, None) {
        let st = &sts["status"];
        let replicas = sts["spec"]["replicas"].as_i64().unwrap_or(1);
        let done = st["observedGeneration"] == sts["metadata"]["generation"]
            && st["readyReplicas"].as_i64() == Some(replicas)
            && st["updatedReplicas"].as_i64() == Some(replicas)
            && st["currentRevision"] == st["updateRevision"];
        if !done {
            return Some(format!("StatefulSet {} rolling", sts["metadata"]["name"]));
        }
    }
    if let Some(what) = crate::v2::operator::unsettled(store) {
        return Some(what);
    }
    store
        .list(&PODS, None)
        .iter()
        .find(|p| p["metadata"]["deletionTimestamp"].is_string() || !pod_ready(p))
        .map(|p| format!("pod {} not ready", p["metadata"]["name"]))
}

fn pod_ready(pod: &Value) -> bool {
    pod["status"]["conditions"].as_array().is_some_and(|cs| {
        cs.iter()
            .any(|c| c["type"] == "Ready" && c["status"] == "True")
    })
}

fn new_pod(sts: &Value, ordinal: i64, rev: &str) -> Value {
    let name = format!(
        "{}-{ordinal}",
        sts["metadata"]["name"].as_str().unwrap_or("")
    );
    let tpl = &sts["spec"]["template"];
    let mut labels = tpl["metadata"]["labels"].clone();
    if !labels.is_object() {
        labels = json!({});
    }
    labels["controller-revision-hash"] = json!(format!(
        "{}-{rev}",
        sts["metadata"]["name"].as_str().unwrap_or("")
    ));
    labels["statefulset.kubernetes.io/pod-name"] = json!(name);
    labels["apps.kubernetes.io/pod-index"] = json!(ordinal.to_string());
    let mut meta = json!({
        "name": name,
        "labels": labels,
        "ownerReferences": [{"apiVersion": "apps/v1", "kind": "StatefulSet",
            "name": sts["metadata"]["name"], "uid": sts["metadata"]["uid"],
            "controller": true, "blockOwnerDeletion": true}],
    });
    if tpl["metadata"]["annotations"].is_object() {
        meta["annotations"] = tpl["metadata"]["annotations"].clone();
    }
    let mut spec = tpl["spec"].clone();
    spec["nodeName"] = json!(NODE_NAME);
    spec["hostname"] = json!(name);
    if spec.get("restartPolicy").is_none() {
        spec["restartPolicy"] = json!("Always");
    }
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec,
           "status": {"phase": "Pending", "qosClass": "BestEffort"}})
}

fn statefulsets(store: &mut Store) {
    for sts in store.list(&STATEFULSETS, None) {
        let ns = sts["metadata"]["namespace"]
            .as_str()
            .unwrap_or("")
            .to_string();
        let name = sts["metadata"]["name"].as_str().unwrap_or("").to_string();
        let uid = sts["metadata"]["uid"].as_str().unwrap_or("").to_string();
        let replicas = sts["spec"]["replicas"].as_i64().unwrap_or(1);
        let rev = revision(&sts["spec"]["template"]);
        let rev_label = format!("{name}-{rev}");
        let pods: Vec<(i64, Value)> = store
            .list(&PODS, Some(&ns))
            .into_iter()
            .filter(|p| owner_uid(p, "StatefulSet").as_deref() == Some(uid.as_str()))
            .filter_map(|p| {
                let n = p["metadata"]["name"].as_str()?;
                let ord = n.strip_prefix(&format!("{name}-"))?.parse::<i64>().ok()?;
                Some((ord, p))
            })
            .collect();
        let find = |i: i64| pods.iter().find(|(o, _)| *o == i).map(|(_, p)| p);
        // Scale down: ordinals beyond replicas go.
        for (ord, p) in &pods {
            if *ord >= replicas {
                mark_pod_deleting(store, &ns, p["metadata"]["name"].as_str().unwrap_or(""));
            }
        }
        // Parallel pod management: every missing pod is created at once.
        for i in 0..replicas {
            if find(i).is_none() {
                let _ = store.create(&PODS, &ns, new_pod(&sts, i, &rev), STS_MANAGER, false);
            }
        }
        // Rolling update: only when every pod exists, runs and is ready; then the highest
        // ordinal still on an old revision is deleted (recreated on the next pass).
        let settled = (0..replicas).all(|i| {
            find(i).is_some_and(|p| pod_ready(p) && !p["metadata"]["deletionTimestamp"].is_string())
        });
        let is_current =
            |p: &Value| p["metadata"]["labels"]["controller-revision-hash"] == json!(rev_label);
        if settled
            && let Some((_, p)) = pods
                .iter()
                .filter(|(o, p)| *o < replicas && !is_current(p))
                .max_by_key(|(o, _)| *o)
        {
            mark_pod_deleting(store, &ns, p["metadata"]["name"].as_str().unwrap_or(""));
        }
        let live: Vec<&Value> = (0..replicas).filter_map(find).collect();
        let ready = live.iter().filter(|p| pod_ready(p)).count();
        let updated = live.iter().filter(|p| is_current(p)).count();
        let current_rev = if updated == live.len() && live.len() as i64 == replicas {
            rev_label.clone()
        } else {
            sts["status"]["currentRevision"]
                .as_str()
                .unwrap_or(&rev_label)
                .to_string()
        };
        let status = json!({
            "observedGeneration": sts["metadata"]["generation"],
            "replicas": live.len(),
            "readyReplicas": ready,
            "availableReplicas": ready,
            "currentReplicas": if current_rev == rev_label { updated } else { live.len() - updated },
            "updatedReplicas": updated,
            "currentRevision": current_rev,
            "updateRevision": rev_label,
            "collisionCount": 0,
        });
        if sts["status"] != status {
            let mut next = sts.clone();
            next["status"] = status;
            let _ = store.write_unconditionally(&STATEFULSETS, &ns, &name, next, STS_MANAGER, true);
        }
    }
}

fn collect_garbage(store: &mut Store) {
    let tcs: Vec<String> = store
        .list(&TIDBCLUSTERS, None)
        .iter()
        .filter_map(|t| t["metadata"]["uid"].as_str().map(str::to_string))
        .collect();
    for sts in store.list(&STATEFULSETS, None) {
        if let Some(owner) = owner_uid(&sts, "TidbCluster")
            && !tcs.contains(&owner)
        {
            store.remove(
                &STATEFULSETS,
                sts["metadata"]["namespace"].as_str().unwrap_or(""),
                sts["metadata"]["name"].as_str().unwrap_or(""),
            );
        }
    }
    let stss: Vec<String> = store
        .list(&STATEFULSETS, None)
        .iter()
        .filter_map(|t| t["metadata"]["uid"].as_str().map(str::to_string))
        .collect();
    for pod in store.list(&PODS, None) {
        if let Some(owner) = owner_uid(&pod, "StatefulSet")
            && !stss.contains(&owner)
        {
            mark_pod_deleting(
                store,
                pod["metadata"]["namespace"].as_str().unwrap_or(""),
                pod["metadata"]["name"].as_str().unwrap_or(""),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set_ready(store: &mut Store, ns: &str, name: &str) {
        let mut p = store.get(&PODS, ns, name).unwrap();
        p["status"] =
            json!({"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]});
        store
            .update(&PODS, ns, name, p, None, "kubelet", false, true)
            .unwrap();
    }

    fn pods(store: &Store) -> Vec<String> {
        store
            .list(&PODS, None)
            .iter()
            .map(|p| p["metadata"]["name"].as_str().unwrap().to_string())
            .collect()
    }

    #[test]
    fn tidbcluster_yields_pods_and_rolls_one_at_a_time_highest_first() {
        let mut s = Store::new();
        let mut tc = tidb::basic_tidbcluster("default", "basic");
        tc["spec"]["tikv"]["replicas"] = json!(3);
        s.create(&TIDBCLUSTERS, "default", tc, "test", false)
            .unwrap();
        reconcile(&mut s);
        assert_eq!(
            pods(&s),
            [
                "basic-pd-0",
                "basic-tidb-0",
                "basic-tikv-0",
                "basic-tikv-1",
                "basic-tikv-2"
            ]
        );
        let pd = s.get(&PODS, "default", "basic-pd-0").unwrap();
        assert_eq!(
            pd["metadata"]["labels"]["app.kubernetes.io/component"],
            "pd"
        );
        assert_eq!(pd["metadata"]["ownerReferences"][0]["name"], "basic-pd");
        for p in pods(&s) {
            set_ready(&mut s, "default", &p);
        }
        let mut tc = s.get(&TIDBCLUSTERS, "default", "basic").unwrap();
        tc["spec"]["tikv"]["additionalContainers"] =
            json!([{"name": "netem-agent", "image": "agent"}]);
        s.update(
            &TIDBCLUSTERS,
            "default",
            "basic",
            tc,
            None,
            "test",
            false,
            false,
        )
        .unwrap();
        reconcile(&mut s);
        let deleting: Vec<String> = s
            .list(&PODS, None)
            .iter()
            .filter(|p| p["metadata"]["deletionTimestamp"].is_string())
            .map(|p| p["metadata"]["name"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(deleting, ["basic-tikv-2"]);
        // Nothing more happens until that pod is gone and its successor is ready.
        reconcile(&mut s);
        s.remove(&PODS, "default", "basic-tikv-2");
        reconcile(&mut s);
        let new2 = s.get(&PODS, "default", "basic-tikv-2").unwrap();
        assert_eq!(new2["spec"]["containers"][1]["name"], "netem-agent");
        assert!(
            s.get(&PODS, "default", "basic-tikv-1").unwrap()["metadata"]["deletionTimestamp"]
                .is_null()
        );
        set_ready(&mut s, "default", "basic-tikv-2");
        reconcile(&mut s);
        assert!(
            s.get(&PODS, "default", "basic-tikv-1").unwrap()["metadata"]["deletionTimestamp"]
                .is_string()
        );
    }

    #[test]
    fn operator_reverts_direct_statefulset_edits() {
        let mut s = Store::new();
        s.create(
            &TIDBCLUSTERS,
            "default",
            tidb::basic_tidbcluster("default", "basic"),
            "test",
            false,
        )
        .unwrap();
        reconcile(&mut s);
        let mut sts = s.get(&STATEFULSETS, "default", "basic-pd").unwrap();
        sts["spec"]["template"]["spec"]["containers"][0]["image"] = json!("other");
        s.update(
            &STATEFULSETS,
            "default",
            "basic-pd",
            sts,
            None,
            "test",
            false,
            false,
        )
        .unwrap();
        reconcile(&mut s);
        let sts = s.get(&STATEFULSETS, "default", "basic-pd").unwrap();
        assert_eq!(
            sts["spec"]["template"]["spec"]["containers"][0]["image"],
            "pingcap/pd:v8.5.0"
        );
    }
}
