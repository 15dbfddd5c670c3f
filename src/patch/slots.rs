//! Where the agent goes in an object: one [`Slot`] per TidbCluster component (or the one pod
//! template of a StatefulSet), found in the object's JSON and narrowed by `--component`.

use serde_json::Value;

use super::PlanError;

/// The component keys of a TidbCluster (`pingcap.com/v1alpha1`) spec that run pods and accept
/// `additionalContainers`/`additionalVolumes`, in the order the operator brings them up.
/// `pdms` is different: a list of microservice entries, each with its own lists.
pub const TC_COMPONENTS: [&str; 7] = ["pd", "tikv", "tidb", "tiflash", "ticdc", "pump", "tiproxy"];

/// What kind of object a slot lives in (decides the list names and the pod selector).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlotKind {
    /// A component of a TidbCluster: the operator builds the pod template from it.
    TidbComponent,
    /// The pod template of a StatefulSet.
    StatefulSet,
    /// A running pod, for ephemeral agents: the pod is its own slot.
    // Used by src/ephemeral/plan.rs, which no module declares yet.
    #[allow(dead_code)]
    Pod,
}

/// One place in an object that carries a pod's extra containers and volumes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Slot {
    /// What the user sees and `--component` matches: `pd`, `tikv`, a `pdms` entry's name
    /// (e.g. `tso`), or the StatefulSet's name. For a TidbCluster it is also the value of
    /// the pods' `app.kubernetes.io/component` label.
    pub name: String,
    /// The kind of object.
    pub kind: SlotKind,
    /// JSON pointer of the object holding the lists (`/spec/pd`, `/spec/pdms/0`,
    /// `/spec/template/spec`).
    pub base: String,
    /// JSON pointer of the container list (`…/additionalContainers` or `…/containers`).
    pub containers: String,
    /// JSON pointer of the volume list (`…/additionalVolumes` or `…/volumes`).
    pub volumes: String,
    /// JSON pointer of the replica count (`/spec/pd/replicas`, `/spec/replicas`).
    pub replicas: String,
}

impl Slot {
    /// A TidbCluster component whose spec object sits at `base`.
    fn tidb(name: &str, base: String) -> Slot {
        Slot {
            name: name.to_string(),
            kind: SlotKind::TidbComponent,
            containers: format!("{base}/additionalContainers"),
            volumes: format!("{base}/additionalVolumes"),
            replicas: format!("{base}/replicas"),
            base,
        }
    }

    /// The pod template of a StatefulSet called `name`.
    pub fn statefulset(name: &str) -> Slot {
        Slot {
            name: name.to_string(),
            kind: SlotKind::StatefulSet,
            base: "/spec/template/spec".into(),
            containers: "/spec/template/spec/containers".into(),
            volumes: "/spec/template/spec/volumes".into(),
            replicas: "/spec/replicas".into(),
        }
    }

    /// A running pod called `name` (`inject --ephemeral`): its ephemeral containers.
    // Used by src/ephemeral/plan.rs, which no module declares yet.
    #[allow(dead_code)]
    pub fn pod(name: &str) -> Slot {
        Slot {
            name: name.to_string(),
            kind: SlotKind::Pod,
            base: "/spec".into(),
            containers: "/spec/ephemeralContainers".into(),
            volumes: "/spec/volumes".into(),
            replicas: String::new(),
        }
    }

    /// The container list may vanish when it becomes empty only where it is optional
    /// (a StatefulSet's `containers` is required and always keeps its main container).
    pub fn containers_optional(&self) -> bool {
        self.kind == SlotKind::TidbComponent
    }

    /// How many pods this slot runs, as the object says (a StatefulSet defaults to 1,
    /// a TidbCluster component without replicas to 0).
    pub fn replicas(&self, obj: &Value) -> u64 {
        let default = match self.kind {
            SlotKind::StatefulSet | SlotKind::Pod => 1,
            SlotKind::TidbComponent => 0,
        };
        obj.pointer(&self.replicas)
            .and_then(Value::as_u64)
            .unwrap_or(default)
    }
}

/// The components present in a TidbCluster's spec, narrowed by `only` (`--component`;
/// empty = all). `pdms` in `only` selects every `pdms` entry; an entry can also be named
/// alone (e.g. `tso`). A name that is not present is an error listing what is.
pub fn tidbcluster_slots(tc: &Value, only: &[String]) -> Result<Vec<Slot>, PlanError> {
    let spec = tc
        .get("spec")
        .and_then(Value::as_object)
        .ok_or(PlanError::NotAnObject {
            path: "/spec".into(),
        })?;
    let mut present: Vec<(Slot, bool)> = Vec::new(); // (slot, is a pdms entry)
    for key in TC_COMPONENTS {
        if spec.get(key).is_some_and(Value::is_object) {
            present.push((Slot::tidb(key, format!("/spec/{key}")), false));
        }
    }
    if let Some(entries) = spec.get("pdms").and_then(Value::as_array) {
        for (i, entry) in entries.iter().enumerate() {
            let name = entry
                .get("name")
                .and_then(Value::as_str)
                .ok_or(PlanError::NotAnObject {
                    path: format!("/spec/pdms/{i}/name"),
                })?;
            present.push((Slot::tidb(name, format!("/spec/pdms/{i}")), true));
        }
    }
    let has_pdms = present.iter().any(|(_, pdms)| *pdms);
    for want in only {
        let known = present.iter().any(|(s, _)| &s.name == want) || (want == "pdms" && has_pdms);
        if !known {
            let mut names: Vec<String> = present.iter().map(|(s, _)| s.name.clone()).collect();
            if has_pdms {
                names.push("pdms".into());
            }
            return Err(PlanError::UnknownComponent {
                name: want.clone(),
                present: names.join(", "),
            });
        }
    }
    let chosen: Vec<Slot> = present
        .into_iter()
        .filter(|(s, pdms)| {
            only.is_empty() || only.contains(&s.name) || (*pdms && only.iter().any(|w| w == "pdms"))
        })
        .map(|(s, _)| s)
        .collect();
    if chosen.is_empty() {
        return Err(PlanError::NoComponents);
    }
    Ok(chosen)
}
