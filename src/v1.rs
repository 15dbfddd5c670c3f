//! TiDB Operator v1 (`pingcap.com/v1alpha1`): the facts the plugin relies on, in one place.
//! Its v2 counterpart is [`crate::v2`].

use kube::core::ApiResource;

/// The API group.
pub const GROUP: &str = "pingcap.com";
/// The API version of `TidbCluster`.
pub const API_VERSION: &str = "pingcap.com/v1alpha1";
/// The resource's plural, as discovery lists it.
pub const PLURAL: &str = "tidbclusters";

/// The label TiDB Operator puts its cluster's name in (on StatefulSets and pods).
pub const LABEL_INSTANCE: &str = "app.kubernetes.io/instance";
/// The label naming a pod's component (`pd`, `tikv`, ...).
pub const LABEL_COMPONENT: &str = "app.kubernetes.io/component";
/// The label naming who manages the object.
pub const LABEL_MANAGED_BY: &str = "app.kubernetes.io/managed-by";
/// [`LABEL_MANAGED_BY`]'s value on what TiDB Operator manages.
pub const MANAGED_BY_OPERATOR: &str = "tidb-operator";

/// The `TidbCluster` resource, for dynamic API calls.
pub fn tidbcluster_resource() -> ApiResource {
    ApiResource {
        group: GROUP.into(),
        version: "v1alpha1".into(),
        api_version: API_VERSION.into(),
        kind: "TidbCluster".into(),
        plural: PLURAL.into(),
    }
}

/// The label selector of one component's pods of TidbCluster `name`.
pub fn component_selector(name: &str, component: &str) -> String {
    format!("{LABEL_INSTANCE}={name},{LABEL_COMPONENT}={component}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_resource_and_a_component_selector() {
        let r = tidbcluster_resource();
        assert_eq!(
            (r.api_version.as_str(), r.plural.as_str()),
            (API_VERSION, PLURAL)
        );
        assert_eq!(
            component_selector("basic", "pd"),
            "app.kubernetes.io/instance=basic,app.kubernetes.io/component=pd"
        );
    }
}
