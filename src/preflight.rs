//! Checks made before any write, as pure functions over what the server returned.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::patch::{Slot, SlotKind};

/// The namespace label that Pod Security admission enforces.
pub const POD_SECURITY_ENFORCE: &str = "pod-security.kubernetes.io/enforce";

/// Why `inject` will not go ahead.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum Refusal {
    /// Pod Security admission would reject the pods: the agent needs `NET_ADMIN`.
    #[error(
        "namespace {namespace} enforces Pod Security level {level:?}, which forbids the NET_ADMIN \
         capability the agent needs, so the new pods would be rejected; to allow it: \
         kubectl label namespace {namespace} {POD_SECURITY_ENFORCE}=privileged --overwrite"
    )]
    PodSecurity {
        /// The namespace.
        namespace: String,
        /// Its enforced level.
        level: String,
    },
    /// Pods on the node's network: a delay would hit the whole node.
    #[error(
        "{} use{} hostNetwork: a delay there would slow the node's own network, not one pod{}",
        .components.join(", "),
        if .components.len() == 1 { "s" } else { "" },
        .others.as_deref().map(|o| format!("; leave {} out with --component {o}", if .components.len() == 1 { "it" } else { "them" })).unwrap_or_default()
    )]
    HostNetwork {
        /// The components (or StatefulSet) on the host network.
        components: Vec<String>,
        /// The other targeted components, as a `--component` value, if any.
        others: Option<String>,
    },
    /// An operator owns the StatefulSet and would undo the edit.
    #[error("statefulset/{name} is managed by {owner}, which would undo this edit; {hint}")]
    Managed {
        /// The StatefulSet.
        name: String,
        /// Who manages it, and how we know.
        owner: String,
        /// What to do instead.
        hint: String,
    },
}

/// Refuses a namespace whose Pod Security `enforce` level forbids `NET_ADMIN`: `baseline`
/// and `restricted` both do. PSA reads an unknown level as `restricted`, so do we.
pub fn pod_security(namespace: &str, labels: &BTreeMap<String, String>) -> Result<(), Refusal> {
    match labels.get(POD_SECURITY_ENFORCE).map(String::as_str) {
        None | Some("privileged") => Ok(()),
        Some(level) => Err(Refusal::PodSecurity {
            namespace: namespace.to_string(),
            level: level.to_string(),
        }),
    }
}

/// Refuses slots whose pods use the host's network namespace. For a TidbCluster a
/// component's own `hostNetwork` wins over the cluster-wide `spec.hostNetwork`; a v2 group
/// sets it in its pod overlay.
pub fn host_network(obj: &Value, slots: &[Slot]) -> Result<(), Refusal> {
    let on_host = |slot: &Slot| {
        let own = obj
            .pointer(&format!("{}/hostNetwork", slot.base))
            .and_then(Value::as_bool);
        match slot.kind {
            SlotKind::StatefulSet | SlotKind::Pod | SlotKind::Overlay => own.unwrap_or(false),
            SlotKind::TidbComponent => own
                .or_else(|| obj.pointer("/spec/hostNetwork").and_then(Value::as_bool))
                .unwrap_or(false),
        }
    };
    let (host, rest): (Vec<&Slot>, Vec<&Slot>) = slots.iter().partition(|s| on_host(s));
    if host.is_empty() {
        return Ok(());
    }
    let tidb = slots
        .iter()
        .all(|s| matches!(s.kind, SlotKind::TidbComponent | SlotKind::Overlay));
    Err(Refusal::HostNetwork {
        components: host.iter().map(|s| s.name.clone()).collect(),
        others: (tidb && !rest.is_empty()).then(|| {
            rest.iter()
                .map(|s| s.name.as_str())
                .collect::<Vec<_>>()
                .join(",")
        }),
    })
}

/// Refuses a StatefulSet that something else manages: one with an ownerReference (the
/// controller among them, if marked) or an `app.kubernetes.io/managed-by` label.
pub fn managed_statefulset(sts: &Value) -> Result<(), Refusal> {
    let name = sts
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let owners = sts
        .pointer("/metadata/ownerReferences")
        .and_then(Value::as_array);
    let owner = owners.and_then(|o| {
        o.iter()
            .find(|r| r.get("controller").and_then(Value::as_bool) == Some(true))
            .or_else(|| o.first())
    });
    let str_at = |v: &Value, p: &str| {
        v.pointer(p)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    let force = "or pass --force to edit it anyway";
    if let Some(owner) = owner {
        let (kind, owner_name) = (str_at(owner, "/kind"), str_at(owner, "/name"));
        let hint = if kind == "TidbCluster" {
            let component = str_at(sts, "/metadata/labels/app.kubernetes.io~1component");
            let only = if component.is_empty() {
                String::new()
            } else {
                format!(" --component {component}")
            };
            format!(
                "inject into the TidbCluster instead: kubectl netem inject tidb-cluster/{owner_name}{only}; {force}"
            )
        } else {
            format!("change the {kind} instead, {force}")
        };
        return Err(Refusal::Managed {
            name: name.to_string(),
            owner: format!("{kind}/{owner_name} (ownerReference)"),
            hint,
        });
    }
    let manager = str_at(sts, "/metadata/labels/app.kubernetes.io~1managed-by");
    if !manager.is_empty() {
        return Err(Refusal::Managed {
            name: name.to_string(),
            owner: format!("{manager} (label app.kubernetes.io/managed-by)"),
            hint: format!("change it through {manager}, {force}"),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::patch::tidbcluster_slots;
    use serde_json::json;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn pod_security_levels() {
        assert!(pod_security("db", &labels(&[])).is_ok());
        assert!(pod_security("db", &labels(&[(POD_SECURITY_ENFORCE, "privileged")])).is_ok());
        // warn/audit labels do not block anything.
        assert!(
            pod_security(
                "db",
                &labels(&[("pod-security.kubernetes.io/warn", "restricted")])
            )
            .is_ok()
        );
        for level in ["baseline", "restricted", "bogus"] {
            let err = pod_security("db", &labels(&[(POD_SECURITY_ENFORCE, level)])).unwrap_err();
            let msg = err.to_string();
            assert!(msg.contains(level) && msg.contains("NET_ADMIN"), "{msg}");
            assert!(msg.contains("kubectl label namespace db pod-security.kubernetes.io/enforce=privileged --overwrite"));
        }
    }

    fn tc(spec: Value) -> Value {
        json!({"metadata": {"name": "basic", "resourceVersion": "1"}, "spec": spec})
    }

    #[test]
    fn host_network_component_overrides_cluster() {
        let obj =
            tc(json!({"hostNetwork": true, "pd": {}, "tikv": {"hostNetwork": false}, "tidb": {}}));
        let slots = tidbcluster_slots(&obj, &[]).unwrap();
        let err = host_network(&obj, &slots).unwrap_err();
        assert_eq!(
            err.to_string(),
            "pd, tidb use hostNetwork: a delay there would slow the node's own network, not one pod; \
             leave them out with --component tikv"
        );
        let tikv = tidbcluster_slots(&obj, &["tikv".into()]).unwrap();
        assert!(host_network(&obj, &tikv).is_ok());

        let obj = tc(json!({"pd": {}, "tidb": {"hostNetwork": true}}));
        let slots = tidbcluster_slots(&obj, &[]).unwrap();
        assert!(
            host_network(&obj, &slots)
                .unwrap_err()
                .to_string()
                .starts_with("tidb uses hostNetwork")
        );
    }

    #[test]
    fn host_network_statefulset() {
        let sts = json!({"spec": {"template": {"spec": {"hostNetwork": true, "containers": []}}}});
        let err = host_network(&sts, &[Slot::statefulset("web")]).unwrap_err();
        assert!(!err.to_string().contains("--component"));
        let sts = json!({"spec": {"template": {"spec": {"containers": []}}}});
        assert!(host_network(&sts, &[Slot::statefulset("web")]).is_ok());
    }

    #[test]
    fn managed_statefulsets_name_their_owner() {
        let sts = json!({"metadata": {
            "name": "basic-pd",
            "labels": {"app.kubernetes.io/component": "pd", "app.kubernetes.io/managed-by": "tidb-operator"},
            "ownerReferences": [{"apiVersion": "pingcap.com/v1alpha1", "kind": "TidbCluster", "name": "basic", "controller": true, "uid": "u"}]
        }});
        let msg = managed_statefulset(&sts).unwrap_err().to_string();
        assert_eq!(
            msg,
            "statefulset/basic-pd is managed by TidbCluster/basic (ownerReference), which would undo this edit; \
             inject into the TidbCluster instead: kubectl netem inject tidb-cluster/basic --component pd; \
             or pass --force to edit it anyway"
        );
        let helm = json!({"metadata": {"name": "web", "labels": {"app.kubernetes.io/managed-by": "Helm"}}});
        assert!(
            managed_statefulset(&helm)
                .unwrap_err()
                .to_string()
                .contains("Helm (label app.kubernetes.io/managed-by)")
        );
        let plain = json!({"metadata": {"name": "web", "labels": {"app": "nginx"}}});
        assert!(managed_statefulset(&plain).is_ok());
    }
}
