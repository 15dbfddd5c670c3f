//! TiDB Operator v2 (`core.pingcap.com/v1alpha1`): the facts the plugin relies on, in one
//! place, and pure helpers over them. Read from pingcap/tidb-operator's
//! `api/core/v1alpha1/*_types.go`:
//!
//! - a `Cluster` plus one object per component group (`PDGroup`, `TiKVGroup`, …), each
//!   pointing at its cluster by `spec.cluster.name`; groups carry the kubebuilder category
//!   `group` and (most) a short name (`pdg`, `kvg`, …);
//! - the operator creates the pods itself (no StatefulSets), labelled
//!   `pingcap.com/{managed-by,cluster,component,group,instance}` (`common_types.go`; the
//!   plugin selects by the first four);
//! - a sidecar goes into the group's pod overlay, `spec.template.spec.overlay.pod.spec`, a
//!   PodSpec merged into every pod of the group (containers and volumes by name);
//! - a group's status is `CommonStatus` + `GroupStatus`: `observedGeneration`,
//!   `currentRevision`/`updateRevision`, `replicas`/`readyReplicas`/`updatedReplicas`, and
//!   `selector` (the label selector of its pods, for the scale subresource).
//!
//! Which group kinds exist is discovered from the server ([`is_group_resource`]); the table
//! of [`KNOWN`] kinds only supplies what discovery cannot (the component label value) and the
//! spellings accepted before anything is contacted.

use kube::core::ApiResource;
use serde_json::Value;

/// The API group.
pub const GROUP: &str = "core.pingcap.com";
/// The version served.
pub const VERSION: &str = "v1alpha1";
/// `core.pingcap.com/v1alpha1`.
pub const API_VERSION: &str = "core.pingcap.com/v1alpha1";

/// Kind of the cluster object.
pub const CLUSTER_KIND: &str = "Cluster";
/// Its resource.
pub const CLUSTER_PLURAL: &str = "clusters";
/// The kubebuilder category of every component group.
pub const GROUP_CATEGORY: &str = "group";

/// Pod label: who manages it (value [`MANAGED_BY_OPERATOR`]).
pub const LABEL_MANAGED_BY: &str = "pingcap.com/managed-by";
/// Value of [`LABEL_MANAGED_BY`] on the operator's pods.
pub const MANAGED_BY_OPERATOR: &str = "tidb-operator";
/// Pod label: the `Cluster`'s name.
pub const LABEL_CLUSTER: &str = "pingcap.com/cluster";
/// Pod label: the component (`pd`, `tikv`, …).
pub const LABEL_COMPONENT: &str = "pingcap.com/component";
/// Pod label: the group's name.
pub const LABEL_GROUP: &str = "pingcap.com/group";

/// JSON pointer of the PodSpec the operator merges into every pod of the group.
pub const OVERLAY_POD_SPEC: &str = "/spec/template/spec/overlay/pod/spec";
/// JSON pointer of the group's replica count.
pub const REPLICAS: &str = "/spec/replicas";

/// A group kind this release knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KnownKind {
    /// `PDGroup`.
    pub kind: &'static str,
    /// `pdgroups`.
    pub plural: &'static str,
    /// The short name the CRD declares, if any (`pdg`).
    pub short: Option<&'static str>,
    /// The pods' `pingcap.com/component` value (`pd`).
    pub component: &'static str,
}

const fn known(
    kind: &'static str,
    plural: &'static str,
    short: Option<&'static str>,
    component: &'static str,
) -> KnownKind {
    KnownKind {
        kind,
        plural,
        short,
        component,
    }
}

/// The group kinds this release knows (kubebuilder markers of `*_types.go`).
pub const KNOWN: [KnownKind; 8] = [
    known("PDGroup", "pdgroups", Some("pdg"), "pd"),
    known("TiKVGroup", "tikvgroups", Some("kvg"), "tikv"),
    known("TiDBGroup", "tidbgroups", Some("dbg"), "tidb"),
    known("TiFlashGroup", "tiflashgroups", Some("fg"), "tiflash"),
    known("TiCDCGroup", "ticdcgroups", Some("cg"), "ticdc"),
    known("TiProxyGroup", "tiproxygroups", Some("pg"), "tiproxy"),
    known("TSOGroup", "tsogroups", None, "tso"),
    known("SchedulerGroup", "schedulergroups", Some("sg"), "scheduler"),
];

/// The known kind called `kind` (`PDGroup`).
pub fn known_kind(kind: &str) -> Option<&'static KnownKind> {
    KNOWN.iter().find(|k| k.kind == kind)
}

/// Whether `word` (as typed before `/NAME`, lowercased) names the v2 `Cluster`.
pub fn is_cluster_word(word: &str) -> bool {
    matches!(
        word,
        "cluster" | "clusters" | "cluster.core.pingcap.com" | "clusters.core.pingcap.com"
    )
}

/// Whether `word` (lowercased) can name a v2 group kind, checked before anything is
/// contacted: a known short name, or anything ending in `group`/`groups` (so a kind this
/// release does not know yet reaches discovery, which then decides).
pub fn may_be_group_word(word: &str) -> bool {
    let bare = word
        .strip_suffix(&format!(".{GROUP}"))
        .unwrap_or(word)
        .trim_end_matches('s');
    bare.ends_with("group") || KNOWN.iter().any(|k| k.short == Some(word))
}

/// A group resource as discovery lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupResource {
    /// `PDGroup`.
    pub kind: String,
    /// `pdgroups`.
    pub plural: String,
    /// `pdgroup`.
    pub singular: String,
    /// `pdg`.
    pub short_names: Vec<String>,
}

impl GroupResource {
    /// `pdgroup`, as in `pdgroup/pd`.
    pub fn word(&self) -> String {
        if self.singular.is_empty() {
            self.kind.to_ascii_lowercase()
        } else {
            self.singular.clone()
        }
    }

    /// Whether `word` (lowercased) names this resource, as kubectl resolves it.
    pub fn is_named(&self, word: &str) -> bool {
        let word = word.strip_suffix(&format!(".{GROUP}")).unwrap_or(word);
        word == self.plural
            || word == self.singular
            || word == self.kind.to_ascii_lowercase()
            || self.short_names.iter().any(|s| s == word)
    }

    /// The known kind, `None` for one this release does not know yet.
    pub fn known(&self) -> Option<&'static KnownKind> {
        known_kind(&self.kind)
    }
}

/// Whether a discovered resource of `core.pingcap.com/v1alpha1` is a component group: in
/// category `group`, or (for CRDs that declare other categories) a kind ending in `Group`;
/// subresources (`pdgroups/status`) are not.
pub fn is_group_resource(name: &str, kind: &str, categories: &[String]) -> bool {
    !name.contains('/')
        && (categories.iter().any(|c| c == GROUP_CATEGORY) || kind.ends_with("Group"))
}

/// The component of a group: the known kind's, else the group's own
/// `pingcap.com/component` label, else its kind without `Group`, lowercased.
pub fn component_of(kind: &str, group: &Value) -> String {
    if let Some(k) = known_kind(kind) {
        return k.component.to_string();
    }
    group
        .pointer("/metadata/labels")
        .and_then(|l| l.get(LABEL_COMPONENT))
        .and_then(Value::as_str)
        .map(str::to_string)
        .unwrap_or_else(|| kind.trim_end_matches("Group").to_ascii_lowercase())
}

/// The `Cluster` a group belongs to (`spec.cluster.name`).
pub fn cluster_of(group: &Value) -> Option<&str> {
    group.pointer("/spec/cluster/name").and_then(Value::as_str)
}

/// The `Cluster` resource, for dynamic API calls.
pub fn cluster_resource() -> ApiResource {
    ApiResource {
        group: GROUP.into(),
        version: VERSION.into(),
        api_version: API_VERSION.into(),
        kind: CLUSTER_KIND.into(),
        plural: CLUSTER_PLURAL.into(),
    }
}

/// The label selector terms of every pod of cluster `name`.
pub fn cluster_terms(name: &str) -> Vec<String> {
    vec![
        format!("{LABEL_MANAGED_BY}={MANAGED_BY_OPERATOR}"),
        format!("{LABEL_CLUSTER}={name}"),
    ]
}

/// The label selector terms of a group's pods: the `status.selector` the operator
/// publishes when there is one, else the labels it puts on them.
pub fn group_terms(group: &Value, component: &str) -> Vec<String> {
    if let Some(sel) = group
        .pointer("/status/selector")
        .and_then(Value::as_str)
        .filter(|s| !s.trim().is_empty())
    {
        return vec![sel.trim().to_string()];
    }
    let name = group
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let mut terms = cluster_terms(cluster_of(group).unwrap_or_default());
    terms.push(format!("{LABEL_COMPONENT}={component}"));
    terms.push(format!("{LABEL_GROUP}={name}"));
    terms
}

/// The term narrowing pods to `components` (`--component`), if any.
pub fn component_term(components: &[String]) -> Option<String> {
    match components {
        [] => None,
        [one] => Some(format!("{LABEL_COMPONENT}={one}")),
        many => Some(format!("{LABEL_COMPONENT} in ({})", many.join(","))),
    }
}

/// Whether the operator has rolled the group to its current spec: it observed the latest
/// generation, every instance is of the update revision, and the revisions agree.
pub fn group_synced(group: &Value) -> bool {
    let num = |p: &str| group.pointer(p).and_then(Value::as_i64);
    let text = |p: &str| group.pointer(p).and_then(Value::as_str);
    let observed =
        num("/status/observedGeneration").unwrap_or(0) >= num("/metadata/generation").unwrap_or(0);
    let replicas = num("/spec/replicas").unwrap_or(0);
    observed
        && num("/status/updatedReplicas").unwrap_or(0) >= replicas
        && num("/status/replicas").unwrap_or(0) == replicas
        && text("/status/currentRevision") == text("/status/updateRevision")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn words_accepted_before_discovery() {
        for w in [
            "pdgroup",
            "pdgroups",
            "pdg",
            "kvg",
            "tsogroup",
            "newthinggroups",
            "pdgroups.core.pingcap.com",
        ] {
            assert!(may_be_group_word(w), "{w}");
        }
        for w in ["deployment", "pd", "cluster", "groupie"] {
            assert!(!may_be_group_word(w), "{w}");
        }
        assert!(is_cluster_word("cluster") && is_cluster_word("clusters.core.pingcap.com"));
    }

    #[test]
    fn discovered_resources_are_named_as_kubectl_does() {
        let r = GroupResource {
            kind: "TiKVGroup".into(),
            plural: "tikvgroups".into(),
            singular: "tikvgroup".into(),
            short_names: vec!["kvg".into()],
        };
        for w in [
            "tikvgroup",
            "tikvgroups",
            "kvg",
            "tikvgroups.core.pingcap.com",
        ] {
            assert!(r.is_named(w), "{w}");
        }
        assert!(!r.is_named("pdg"));
        assert_eq!(r.word(), "tikvgroup");
        assert!(is_group_resource(
            "tikvgroups",
            "TiKVGroup",
            &["group".into()]
        ));
        assert!(is_group_resource("tsogroups", "TSOGroup", &["tc".into()]));
        assert!(!is_group_resource(
            "tikvgroups/status",
            "TiKVGroup",
            &["group".into()]
        ));
        assert!(!is_group_resource("tikvs", "TiKV", &["instance".into()]));
    }

    #[test]
    fn pods_of_a_group_and_its_component() {
        let g = json!({"metadata": {"name": "tikv-a"}, "spec": {"cluster": {"name": "basic"}}});
        assert_eq!(component_of("TiKVGroup", &g), "tikv");
        assert_eq!(component_of("RouterGroup", &g), "router");
        let labelled = json!({"metadata": {"labels": {"pingcap.com/component": "rm"}}});
        assert_eq!(component_of("ResourceManagerGroup", &labelled), "rm");
        assert_eq!(
            group_terms(&g, "tikv").join(","),
            "pingcap.com/managed-by=tidb-operator,pingcap.com/cluster=basic,\
             pingcap.com/component=tikv,pingcap.com/group=tikv-a"
        );
        let mut published = g.clone();
        published["status"] = json!({"selector": "a=b,c=d"});
        assert_eq!(group_terms(&published, "tikv"), ["a=b,c=d"]);
        assert_eq!(
            component_term(&["pd".into(), "tikv".into()]).unwrap(),
            "pingcap.com/component in (pd,tikv)"
        );
    }

    #[test]
    fn synced_needs_generation_revisions_and_replicas() {
        let g = |observed: i64, updated: i64, cur: &str| {
            json!({"metadata": {"generation": 3}, "spec": {"replicas": 2},
                   "status": {"observedGeneration": observed, "replicas": 2, "updatedReplicas": updated,
                              "currentRevision": cur, "updateRevision": "r2"}})
        };
        assert!(group_synced(&g(3, 2, "r2")));
        assert!(!group_synced(&g(2, 2, "r2")), "old generation");
        assert!(!group_synced(&g(3, 1, "r2")), "one instance behind");
        assert!(!group_synced(&g(3, 2, "r1")), "revisions differ");
    }
}
