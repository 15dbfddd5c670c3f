//! TiDB Operator v2 (API group `core.pingcap.com/v1alpha1`): its custom resources, the shapes
//! of `examples/basic`, and an operator model that creates pods directly (no StatefulSets).
//!
//! - [`resources`]: `Cluster`, the component groups (`PDGroup` … `TiProxyGroup`) and their
//!   instance kinds, with the short names and categories of the real CRDs.
//! - [`operator`]: group → instances → pods, rolling one instance at a time.
//! - [`overlay`]: `spec.template.spec.overlay.pod` merged into each pod.
//! - [`table`]: the CRDs' printer columns.

pub mod operator;
pub mod overlay;
pub mod resources;
pub mod table;

use netem_api::contract;
use serde_json::{Value, json};

/// API version of every v2 object.
pub const API_VERSION: &str = "core.pingcap.com/v1alpha1";

/// The examples/basic cluster as objects to create, in order: a `Cluster` named `name` and
/// groups `pd`, `tikv`, `tidb` referring to it (the example's names; its versions, config and
/// volumes), one replica each (the example has 3/3/2: tests want few pods).
pub fn basic_v2_cluster(ns: &str, name: &str) -> Vec<Value> {
    let group = |kind: &str, component: &str, version: &str, storage: Option<&str>| {
        let mut spec = json!({
            "version": version,
            "resources": {"cpu": "1", "memory": "2Gi"},
            "config": "[log]\nlevel = \"info\"\n",
        });
        if let Some(s) = storage {
            spec["volumes"] = json!([{"name": "data", "mounts": [{"type": "data"}], "storage": s}]);
        }
        json!({
            "apiVersion": API_VERSION, "kind": kind,
            "metadata": {"name": component, "namespace": ns, "labels": {
                "pingcap.com/group": component, "pingcap.com/component": component,
                "pingcap.com/cluster": name}},
            "spec": {"cluster": {"name": name}, "replicas": 1, "template": {
                "metadata": {"annotations": {"author": "pingcap"}}, "spec": spec}}
        })
    };
    vec![
        json!({"apiVersion": API_VERSION, "kind": "Cluster",
               "metadata": {"name": name, "namespace": ns}, "spec": {}}),
        group("PDGroup", "pd", "v8.1.0", Some("20Gi")),
        group("TiKVGroup", "tikv", "v8.5.2", Some("100Gi")),
        group("TiDBGroup", "tidb", "v8.1.0", None),
    ]
}

/// [`basic_v2_cluster`] with `pods` pods in total (pd 1, tidb 1, the rest tikv; groups with
/// none left out), every group's pods already carrying the agent through the overlay, exactly
/// as an inject into v2 would write it (the one definition in netem-api).
pub fn v2_cluster_with_agents(ns: &str, name: &str, pods: u32) -> Vec<Value> {
    let (pd, tidb, tikv) = match pods {
        0 => (0, 0, 0),
        1 => (1, 0, 0),
        2 => (1, 0, 1),
        n => (1, 1, n - 2),
    };
    basic_v2_cluster(ns, name)
        .into_iter()
        .filter_map(|mut o| {
            let n = match o["kind"].as_str() {
                Some("PDGroup") => pd,
                Some("TiKVGroup") => tikv,
                Some("TiDBGroup") => tidb,
                _ => return Some(o),
            };
            if n == 0 {
                return None;
            }
            o["spec"]["replicas"] = json!(n);
            o["spec"]["template"]["spec"]["overlay"] = agent_overlay();
            Some(o)
        })
        .collect()
}

/// The overlay that puts the agent into a group's pods.
pub fn agent_overlay() -> Value {
    json!({"pod": {"spec": {
        "containers": [contract::container(contract::DEFAULT_IMAGE)],
        "volumes": [contract::volume()],
    }}})
}
