//! TiDB Operator v1 shapes: the "basic" TidbCluster and what the operator derives from one.

use netem_api::contract;
use serde_json::{Value, json};

/// Components whose spec section yields a StatefulSet `<tc>-<component>`, with the
/// containers the operator puts into its pods.
pub const COMPONENTS: &[(&str, &[&str])] = &[
    ("pd", &["pd"]),
    ("tikv", &["tikv"]),
    ("tidb", &["slowlog", "tidb"]),
    (
        "tiflash",
        &["tiflash", "serverlog", "errorlog", "clusterlog"],
    ),
    ("ticdc", &["ticdc"]),
    ("pump", &["pump"]),
    ("tiproxy", &["tiproxy"]),
];

/// A TidbCluster like TiDB Operator's `examples/basic`: one pd, one tikv, one tidb.
pub fn basic_tidbcluster(ns: &str, name: &str) -> Value {
    json!({
        "apiVersion": "pingcap.com/v1alpha1",
        "kind": "TidbCluster",
        "metadata": {"name": name, "namespace": ns},
        "spec": {
            "version": "v8.5.0",
            "timezone": "UTC",
            "pvReclaimPolicy": "Retain",
            "enableDynamicConfiguration": true,
            "configUpdateStrategy": "RollingUpdate",
            "discovery": {},
            "helper": {"image": "alpine:3.16.0"},
            "pd": {
                "baseImage": "pingcap/pd", "maxFailoverCount": 0, "replicas": 1,
                "requests": {"storage": "1Gi"}, "config": {}
            },
            "tikv": {
                "baseImage": "pingcap/tikv", "maxFailoverCount": 0, "evictLeaderTimeout": "1m",
                "replicas": 1, "requests": {"storage": "1Gi"},
                "config": {"storage": {"reserve-space": "0MB"}, "rocksdb": {"max-open-files": 256},
                           "raftdb": {"max-open-files": 256}}
            },
            "tidb": {
                "baseImage": "pingcap/tidb", "maxFailoverCount": 0, "replicas": 1,
                "service": {"type": "ClusterIP"}, "config": {}
            }
        }
    })
}

/// One component section of a TidbCluster spec: (component label, StatefulSet suffix, spec).
pub fn components(tc: &Value) -> Vec<(String, Value)> {
    let spec = &tc["spec"];
    let mut out = Vec::new();
    for (c, _) in COMPONENTS {
        if let Some(s) = spec.get(*c).filter(|s| s.is_object()) {
            out.push((c.to_string(), s.clone()));
        }
    }
    // PD micro-services: a list of {name, replicas, …}, one StatefulSet each.
    if let Some(list) = spec["pdms"].as_array() {
        for s in list {
            if let Some(n) = s["name"].as_str() {
                out.push((n.to_string(), s.clone()));
            }
        }
    }
    out
}

fn operator_containers(component: &str) -> &'static [&'static str] {
    COMPONENTS
        .iter()
        .find(|(c, _)| *c == component)
        .map(|(_, cs)| *cs)
        .unwrap_or(&[])
}

/// Labels the operator sets on a component's StatefulSet and pods.
pub fn labels(tc: &str, component: &str) -> Value {
    json!({
        "app.kubernetes.io/name": "tidb-cluster",
        "app.kubernetes.io/instance": tc,
        "app.kubernetes.io/component": component,
        "app.kubernetes.io/managed-by": "tidb-operator",
    })
}

/// The StatefulSet the operator wants for one component.
pub fn desired_statefulset(tc: &Value, component: &str, spec: &Value) -> Value {
    let tc_name = tc["metadata"]["name"].as_str().unwrap_or("");
    let version = tc["spec"]["version"].as_str().unwrap_or("latest");
    let base = spec["baseImage"]
        .as_str()
        .map(str::to_string)
        .unwrap_or_else(|| format!("pingcap/{component}"));
    let main = operator_containers(component);
    let main: Vec<&str> = if main.is_empty() {
        vec![component]
    } else {
        main.to_vec()
    };
    let mut containers: Vec<Value> = main
        .iter()
        .map(|c| {
            let image = if *c == component || (component == "tidb" && *c == "tidb") {
                spec["image"]
                    .as_str()
                    .map(str::to_string)
                    .unwrap_or(format!("{base}:{version}"))
            } else {
                "busybox:1.34.1".to_string()
            };
            json!({"name": c, "image": image, "imagePullPolicy": "IfNotPresent"})
        })
        .collect();
    if let Some(extra) = spec["additionalContainers"].as_array() {
        containers.extend(extra.iter().cloned());
    }
    let mut pod_spec = json!({"containers": containers});
    if let Some(v) = spec["additionalVolumes"].as_array() {
        pod_spec["volumes"] = json!(v);
    }
    if spec["hostNetwork"] == json!(true) || tc["spec"]["hostNetwork"] == json!(true) {
        pod_spec["hostNetwork"] = json!(true);
    }
    let l = labels(tc_name, component);
    json!({
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": {
            "name": format!("{tc_name}-{component}"),
            "namespace": tc["metadata"]["namespace"],
            "labels": l,
            "ownerReferences": [{
                "apiVersion": "pingcap.com/v1alpha1", "kind": "TidbCluster", "name": tc_name,
                "uid": tc["metadata"]["uid"], "controller": true, "blockOwnerDeletion": true
            }]
        },
        "spec": {
            "replicas": spec["replicas"].as_i64().unwrap_or(1),
            "selector": {"matchLabels": l},
            "serviceName": format!("{tc_name}-{component}-peer"),
            "podManagementPolicy": "Parallel",
            "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": 0}},
            "template": {
                "metadata": {"labels": l, "annotations": spec["annotations"].clone()},
                "spec": pod_spec
            }
        }
    })
}

/// A TidbCluster with `pods` pods in total (pd 1, tidb 1, the rest tikv), every component
/// already carrying the agent: the benchmark's cluster.
pub fn tidbcluster_with_agents(ns: &str, name: &str, pods: u32) -> Value {
    tidbcluster_with_pods(ns, name, pods, true)
}

/// A TidbCluster with `pods` pods in total (pd 1, tidb 1, the rest tikv); with `agents`,
/// every component carries the agent already, else none does (to time `inject`).
pub fn tidbcluster_with_pods(ns: &str, name: &str, pods: u32, agents: bool) -> Value {
    let mut tc = basic_tidbcluster(ns, name);
    let (pd, tidb, tikv) = match pods {
        0 => (0, 0, 0),
        1 => (1, 0, 0),
        2 => (1, 0, 1),
        n => (1, 1, n - 2),
    };
    for (c, n) in [("pd", pd), ("tidb", tidb), ("tikv", tikv)] {
        if n == 0 {
            tc["spec"].as_object_mut().map(|m| m.remove(c));
            continue;
        }
        tc["spec"][c]["replicas"] = json!(n);
        if agents {
            // Exactly what `inject` writes: the one definition in netem-api.
            tc["spec"][c]["additionalContainers"] =
                json!([contract::container(contract::DEFAULT_IMAGE)]);
            tc["spec"][c]["additionalVolumes"] = json!([contract::volume()]);
        }
    }
    tc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_yields_three_components_and_additional_containers_are_appended() {
        let mut tc = basic_tidbcluster("default", "basic");
        tc["metadata"]["uid"] = json!("u1");
        tc["spec"]["pd"]["additionalContainers"] = json!([{"name": "netem-agent", "image": "a"}]);
        let comps = components(&tc);
        assert_eq!(
            comps.iter().map(|c| c.0.as_str()).collect::<Vec<_>>(),
            ["pd", "tikv", "tidb"]
        );
        let sts = desired_statefulset(&tc, "pd", &comps[0].1);
        assert_eq!(sts["metadata"]["name"], "basic-pd");
        let names: Vec<&str> = sts["spec"]["template"]["spec"]["containers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["pd", "netem-agent"]);
        assert_eq!(sts["metadata"]["ownerReferences"][0]["kind"], "TidbCluster");
        let tidb = desired_statefulset(&tc, "tidb", &comps[2].1);
        assert_eq!(
            tidb["spec"]["template"]["spec"]["containers"][0]["name"],
            "slowlog"
        );
    }

    #[test]
    fn n_pods_with_or_without_agents() {
        let replicas = |tc: &Value| -> Vec<u64> {
            ["pd", "tidb", "tikv"]
                .iter()
                .map(|c| tc["spec"][c]["replicas"].as_u64().unwrap_or(0))
                .collect()
        };
        let with = tidbcluster_with_pods("default", "basic", 10, true);
        assert_eq!(replicas(&with), [1, 1, 8]);
        assert_eq!(with, tidbcluster_with_agents("default", "basic", 10));
        assert_eq!(
            with["spec"]["tikv"]["additionalContainers"][0]["name"],
            "netem-agent"
        );
        let without = tidbcluster_with_pods("default", "basic", 10, false);
        assert_eq!(replicas(&without), [1, 1, 8]);
        for c in ["pd", "tidb", "tikv"] {
            assert!(without["spec"][c]["additionalContainers"].is_null(), "{c}");
            assert!(without["spec"][c]["additionalVolumes"].is_null(), "{c}");
        }
    }
}
