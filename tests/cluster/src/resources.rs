//! The resources this server serves and their discovery documents (legacy discovery:
//! `/api`, `/api/v1`, `/apis`, `/apis/<group>/<version>`).

use serde_json::{Value, json};

/// How a resource accepts patches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatchSupport {
    /// Built-in type: json, merge and strategic merge (server-side apply answered 415 here:
    /// not modelled for built-ins, see the crate docs).
    BuiltIn,
    /// Custom resource: json, merge and apply; strategic merge is 415 as on a real server.
    Custom,
}

/// One served resource.
#[derive(Debug)]
pub struct Resource {
    /// API group ("" for core).
    pub group: &'static str,
    /// Version.
    pub version: &'static str,
    /// Plural (URL) name.
    pub plural: &'static str,
    /// Singular name.
    pub singular: &'static str,
    /// Kind.
    pub kind: &'static str,
    /// Namespaced or cluster scoped.
    pub namespaced: bool,
    /// Short names for kubectl.
    pub short_names: &'static [&'static str],
    /// Verbs advertised in discovery.
    pub verbs: &'static [&'static str],
    /// Patch types accepted.
    pub patch: PatchSupport,
    /// Whether `status` is a subresource (status changes through the main resource are ignored).
    pub status_subresource: bool,
    /// Subresources advertised (besides status).
    pub subresources: &'static [Subresource],
    /// Categories (`kubectl get all`-style groupings; CRDs declare them).
    pub categories: &'static [&'static str],
}

/// A subresource as discovery advertises it.
#[derive(Debug)]
pub struct Subresource {
    /// Name after the object's (`portforward`, `ephemeralcontainers`).
    pub name: &'static str,
    /// Kind its requests and answers carry.
    pub kind: &'static str,
    /// Verbs it accepts.
    pub verbs: &'static [&'static str],
}

impl PartialEq for Resource {
    fn eq(&self, other: &Self) -> bool {
        self.group == other.group && self.version == other.version && self.plural == other.plural
    }
}

const RW: &[&str] = &[
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "update",
    "watch",
];

/// `v1 namespaces`.
pub static NAMESPACES: Resource = Resource {
    group: "",
    version: "v1",
    plural: "namespaces",
    singular: "namespace",
    kind: "Namespace",
    namespaced: false,
    short_names: &["ns"],
    verbs: &[
        "create", "delete", "get", "list", "patch", "update", "watch",
    ],
    patch: PatchSupport::BuiltIn,
    status_subresource: true,
    subresources: &[],
    categories: &[],
};

/// `v1 pods`.
pub static PODS: Resource = Resource {
    group: "",
    version: "v1",
    plural: "pods",
    singular: "pod",
    kind: "Pod",
    namespaced: true,
    short_names: &["po"],
    verbs: RW,
    patch: PatchSupport::BuiltIn,
    status_subresource: true,
    subresources: &[
        Subresource {
            name: "ephemeralcontainers",
            kind: "Pod",
            verbs: &["get", "patch", "update"],
        },
        Subresource {
            name: "portforward",
            kind: "PodPortForwardOptions",
            verbs: &["create", "get"],
        },
    ],
    categories: &["all"],
};

/// `apps/v1 statefulsets`.
pub static STATEFULSETS: Resource = Resource {
    group: "apps",
    version: "v1",
    plural: "statefulsets",
    singular: "statefulset",
    kind: "StatefulSet",
    namespaced: true,
    short_names: &["sts"],
    verbs: RW,
    patch: PatchSupport::BuiltIn,
    status_subresource: true,
    subresources: &[],
    categories: &["all"],
};

/// `pingcap.com/v1alpha1 tidbclusters` (TiDB Operator v1's CRD).
pub static TIDBCLUSTERS: Resource = Resource {
    group: "pingcap.com",
    version: "v1alpha1",
    plural: "tidbclusters",
    singular: "tidbcluster",
    kind: "TidbCluster",
    namespaced: true,
    short_names: &["tc"],
    verbs: RW,
    patch: PatchSupport::Custom,
    status_subresource: false,
    subresources: &[],
    categories: &[],
};

/// Every served resource.
pub static ALL: [&Resource; 17] = {
    use crate::v2::resources as v2;
    [
        &NAMESPACES,
        &PODS,
        &STATEFULSETS,
        &TIDBCLUSTERS,
        v2::ALL[0],
        v2::ALL[1],
        v2::ALL[2],
        v2::ALL[3],
        v2::ALL[4],
        v2::ALL[5],
        v2::ALL[6],
        v2::ALL[7],
        v2::ALL[8],
        v2::ALL[9],
        v2::ALL[10],
        v2::ALL[11],
        v2::ALL[12],
    ]
};

impl Resource {
    /// `apiVersion` string of its objects.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.to_string()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// `plural.group` as error messages name it (`pods`, `tidbclusters.pingcap.com`).
    pub fn qualified(&self) -> String {
        if self.group.is_empty() {
            self.plural.to_string()
        } else {
            format!("{}.{}", self.plural, self.group)
        }
    }

    /// Patch content types this resource accepts, in the order the real server lists them.
    pub fn accepted_patch_types(&self) -> &'static [&'static str] {
        match self.patch {
            PatchSupport::BuiltIn => &[
                "application/json-patch+json",
                "application/merge-patch+json",
                "application/strategic-merge-patch+json",
                "application/apply-patch+yaml",
            ],
            PatchSupport::Custom => &[
                "application/json-patch+json",
                "application/merge-patch+json",
                "application/apply-patch+yaml",
            ],
        }
    }

    /// Find a resource by group and plural.
    pub fn find(group: &str, version: &str, plural: &str) -> Option<&'static Resource> {
        ALL.iter()
            .copied()
            .find(|r| r.group == group && r.version == version && r.plural == plural)
    }

    /// Find by kind and apiVersion (for `Cluster::create`).
    pub fn by_kind(api_version: &str, kind: &str) -> Option<&'static Resource> {
        ALL.iter()
            .copied()
            .find(|r| r.api_version() == api_version && r.kind == kind)
    }

    /// Find by a name as tests and flags spell it: plural, `plural.group`, singular, short name.
    pub fn by_name(name: &str) -> Option<&'static Resource> {
        ALL.iter().copied().find(|r| {
            r.plural == name
                || r.qualified() == name
                || r.singular == name
                || r.short_names.contains(&name)
        })
    }

    fn discovery_entries(&self) -> Vec<Value> {
        let mut out = vec![json!({
            "name": self.plural,
            "singularName": self.singular,
            "namespaced": self.namespaced,
            "kind": self.kind,
            "verbs": self.verbs,
            "shortNames": self.short_names,
        })];
        if !self.categories.is_empty() {
            out[0]["categories"] = json!(self.categories);
        }
        // Subresources follow their resource in name order, as the real server lists them.
        let mut subs: Vec<(&str, &str, &[&str])> = self
            .subresources
            .iter()
            .map(|s| (s.name, s.kind, s.verbs))
            .collect();
        if self.status_subresource {
            subs.push(("status", self.kind, &["get", "patch", "update"]));
        }
        subs.sort_by_key(|s| s.0);
        for (name, kind, verbs) in subs {
            out.push(json!({"name": format!("{}/{name}", self.plural), "singularName": "", "namespaced": self.namespaced, "kind": kind, "verbs": verbs}));
        }
        out
    }
}

/// `/api`: APIVersions.
pub fn core_versions(server: &str) -> Value {
    json!({
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server}],
    })
}

/// Groups served under `/apis`, honouring whether the TidbCluster CRD is installed.
fn groups(crd_installed: bool) -> Vec<(&'static str, &'static str)> {
    let mut g = vec![("apps", "v1")];
    if crd_installed {
        g.push(("pingcap.com", "v1alpha1"));
    }
    // TiDB Operator v2's CRDs are always installed.
    g.push(("core.pingcap.com", "v1alpha1"));
    g
}

/// `/apis`: APIGroupList.
pub fn group_list(crd_installed: bool) -> Value {
    let groups: Vec<Value> = groups(crd_installed)
        .into_iter()
        .map(|(g, v)| group(g, v))
        .collect();
    json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
}

/// `/apis/<group>`: APIGroup.
pub fn group_doc(name: &str, crd_installed: bool) -> Option<Value> {
    groups(crd_installed)
        .into_iter()
        .find(|(g, _)| *g == name)
        .map(|(g, v)| {
            let mut doc = group(g, v);
            doc["kind"] = json!("APIGroup");
            doc["apiVersion"] = json!("v1");
            doc
        })
}

fn group(name: &str, version: &str) -> Value {
    let gv = json!({"groupVersion": format!("{name}/{version}"), "version": version});
    json!({"name": name, "versions": [gv.clone()], "preferredVersion": gv})
}

/// `/api/v1` or `/apis/<group>/<version>`: APIResourceList.
pub fn resource_list(group: &str, version: &str, crd_installed: bool) -> Option<Value> {
    if group == "pingcap.com" && !crd_installed {
        return None;
    }
    let resources: Vec<Value> = ALL
        .iter()
        .filter(|r| r.group == group && r.version == version)
        .flat_map(|r| r.discovery_entries())
        .collect();
    if resources.is_empty() {
        return None;
    }
    let gv = if group.is_empty() {
        version.to_string()
    } else {
        format!("{group}/{version}")
    };
    Some(
        json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": resources}),
    )
}

/// `/openapi/v3`: the index of group-version documents.
pub fn openapi_v3_root(crd_installed: bool) -> Value {
    let mut paths = serde_json::Map::new();
    for r in ALL
        .iter()
        .filter(|r| r.group != "pingcap.com" || crd_installed)
    {
        let gv = if r.group.is_empty() {
            format!("api/{}", r.version)
        } else {
            format!("apis/{}/{}", r.group, r.version)
        };
        let url = format!("/openapi/v3/{gv}?hash=0000000000000000");
        paths.insert(gv, json!({ "serverRelativeURL": url }));
    }
    json!({ "paths": paths })
}

/// `/openapi/v3/<gv>`: a minimal OpenAPI document, enough for kubectl to learn that the
/// server validates fields itself (`fieldValidation` on PATCH), so `kubectl create/apply`
/// need no client-side schema. Schemas are not modelled (fields are not validated).
pub fn openapi_v3_group(gv_path: &str, crd_installed: bool) -> Option<Value> {
    let mut paths = serde_json::Map::new();
    for r in ALL
        .iter()
        .filter(|r| r.group != "pingcap.com" || crd_installed)
    {
        let prefix = if r.group.is_empty() {
            format!("api/{}", r.version)
        } else {
            format!("apis/{}/{}", r.group, r.version)
        };
        if prefix != gv_path {
            continue;
        }
        let base = if r.namespaced {
            format!("/{prefix}/namespaces/{{namespace}}/{}", r.plural)
        } else {
            format!("/{prefix}/{}", r.plural)
        };
        let gvk = json!({"group": r.group, "version": r.version, "kind": r.kind});
        let params = json!([
            {"name": "dryRun", "in": "query", "schema": {"type": "string", "uniqueItems": true}},
            {"name": "fieldManager", "in": "query", "schema": {"type": "string", "uniqueItems": true}},
            {"name": "fieldValidation", "in": "query", "schema": {"type": "string", "uniqueItems": true}}
        ]);
        let op = |verb: &str| json!({"operationId": format!("{verb}{}", r.kind), "parameters": params, "responses": {"200": {"description": "OK"}}, "x-kubernetes-action": verb, "x-kubernetes-group-version-kind": gvk});
        paths.insert(base.clone(), json!({"post": op("post")}));
        paths.insert(format!("{base}/{{name}}"), json!({"get": op("get"), "put": op("put"), "patch": op("patch"), "delete": op("delete")}));
    }
    if paths.is_empty() {
        return None;
    }
    Some(json!({
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": "v1.32.0"},
        "paths": paths,
        "components": {"schemas": {}}
    }))
}

/// `/version`.
pub fn version() -> Value {
    json!({
        "major": "1", "minor": "32", "gitVersion": "v1.32.0-netem-testcluster",
        "gitCommit": "0000000000000000000000000000000000000000", "gitTreeState": "clean",
        "buildDate": "2024-12-11T00:00:00Z", "goVersion": "go1.23.3", "compiler": "gc",
        "platform": "linux/amd64",
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tidbclusters_discovery_has_short_name() {
        let doc = resource_list("pingcap.com", "v1alpha1", true).unwrap();
        assert_eq!(doc["resources"][0]["shortNames"], json!(["tc"]));
        assert_eq!(doc["resources"][0]["namespaced"], json!(true));
        assert!(resource_list("pingcap.com", "v1alpha1", false).is_none());
    }

    #[test]
    fn openapi_v3_advertises_field_validation_on_patch() {
        let root = openapi_v3_root(false);
        assert!(root["paths"].get("apis/pingcap.com/v1alpha1").is_none());
        assert!(root["paths"]["apis/apps/v1"]["serverRelativeURL"].is_string());
        let doc = openapi_v3_group("apis/apps/v1", true).unwrap();
        let op = &doc["paths"]["/apis/apps/v1/namespaces/{namespace}/statefulsets/{name}"]["patch"];
        assert_eq!(op["x-kubernetes-group-version-kind"]["kind"], "StatefulSet");
        assert!(
            op["parameters"]
                .as_array()
                .unwrap()
                .iter()
                .any(|p| p["name"] == "fieldValidation")
        );
        assert!(openapi_v3_group("apis/pingcap.com/v1alpha1", false).is_none());
    }

    #[test]
    fn qualified_names() {
        assert_eq!(PODS.qualified(), "pods");
        assert_eq!(TIDBCLUSTERS.qualified(), "tidbclusters.pingcap.com");
        assert_eq!(Resource::by_name("tc").unwrap().plural, "tidbclusters");
    }
}
