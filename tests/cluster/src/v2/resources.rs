//! The v2 CRDs as served resources: short names and categories as the kubebuilder markers in
//! pingcap/tidb-operator `api/core/v1alpha1/*_types.go` declare them (`Cluster`: none; groups:
//! category `group`; instances: category `instance`); all with a status subresource.

use crate::resources::{PatchSupport, Resource};

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

const fn crd(
    plural: &'static str,
    singular: &'static str,
    kind: &'static str,
    short_names: &'static [&'static str],
    categories: &'static [&'static str],
) -> Resource {
    Resource {
        group: "core.pingcap.com",
        version: "v1alpha1",
        plural,
        singular,
        kind,
        namespaced: true,
        short_names,
        verbs: RW,
        patch: PatchSupport::Custom,
        status_subresource: true,
        subresources: &[],
        categories,
    }
}

/// `clusters.core.pingcap.com`.
pub static CLUSTERS: Resource = crd("clusters", "cluster", "Cluster", &[], &[]);

/// One component: its group and instance resources and its `pingcap.com/component` value.
#[derive(Debug)]
pub struct Component {
    /// `pingcap.com/component` label value, main container name.
    pub name: &'static str,
    /// The group resource (`PDGroup`, …).
    pub group: &'static Resource,
    /// The instance resource (`PD`, …).
    pub instance: &'static Resource,
    /// `kind` in the Cluster's `status.components`.
    pub status_kind: &'static str,
}

macro_rules! component {
    ($g:ident, $i:ident, $name:literal, $gp:literal, $gs:literal, $gk:literal, $short:literal, $ip:literal, $is:literal, $ik:literal) => {
        #[doc = concat!("`", $gp, ".core.pingcap.com` (short name `", $short, "`).")]
        pub static $g: Resource = crd($gp, $gs, $gk, &[$short], &["group"]);
        #[doc = concat!("`", $ip, ".core.pingcap.com`.")]
        pub static $i: Resource = crd($ip, $is, $ik, &[], &["instance"]);
    };
}

component!(
    PDGROUPS, PDS, "pd", "pdgroups", "pdgroup", "PDGroup", "pdg", "pds", "pd", "PD"
);
component!(
    TIKVGROUPS,
    TIKVS,
    "tikv",
    "tikvgroups",
    "tikvgroup",
    "TiKVGroup",
    "kvg",
    "tikvs",
    "tikv",
    "TiKV"
);
component!(
    TIDBGROUPS,
    TIDBS,
    "tidb",
    "tidbgroups",
    "tidbgroup",
    "TiDBGroup",
    "dbg",
    "tidbs",
    "tidb",
    "TiDB"
);
component!(
    TIFLASHGROUPS,
    TIFLASHES,
    "tiflash",
    "tiflashgroups",
    "tiflashgroup",
    "TiFlashGroup",
    "fg",
    "tiflashes",
    "tiflash",
    "TiFlash"
);
component!(
    TICDCGROUPS,
    TICDCS,
    "ticdc",
    "ticdcgroups",
    "ticdcgroup",
    "TiCDCGroup",
    "cg",
    "ticdcs",
    "ticdc",
    "TiCDC"
);
component!(
    TIPROXYGROUPS,
    TIPROXIES,
    "tiproxy",
    "tiproxygroups",
    "tiproxygroup",
    "TiProxyGroup",
    "pg",
    "tiproxies",
    "tiproxy",
    "TiProxy"
);

/// Every component the operator model manages, in the order `status.components` lists them.
pub static COMPONENTS: [Component; 6] = [
    Component {
        name: "pd",
        group: &PDGROUPS,
        instance: &PDS,
        status_kind: "PD",
    },
    Component {
        name: "tikv",
        group: &TIKVGROUPS,
        instance: &TIKVS,
        status_kind: "TiKV",
    },
    Component {
        name: "tidb",
        group: &TIDBGROUPS,
        instance: &TIDBS,
        status_kind: "TiDB",
    },
    Component {
        name: "tiflash",
        group: &TIFLASHGROUPS,
        instance: &TIFLASHES,
        status_kind: "TiFlash",
    },
    Component {
        name: "ticdc",
        group: &TICDCGROUPS,
        instance: &TICDCS,
        status_kind: "TiCDC",
    },
    Component {
        name: "tiproxy",
        group: &TIPROXYGROUPS,
        instance: &TIPROXIES,
        status_kind: "TiProxy",
    },
];

/// Every v2 resource, for the server's resource table.
pub static ALL: [&Resource; 13] = [
    &CLUSTERS,
    &PDGROUPS,
    &TIKVGROUPS,
    &TIDBGROUPS,
    &TIFLASHGROUPS,
    &TICDCGROUPS,
    &TIPROXYGROUPS,
    &PDS,
    &TIKVS,
    &TIDBS,
    &TIFLASHES,
    &TICDCS,
    &TIPROXIES,
];

/// The component a group or instance kind belongs to.
pub fn component_of(kind: &str) -> Option<&'static Component> {
    COMPONENTS
        .iter()
        .find(|c| c.group.kind == kind || c.instance.kind == kind)
}
