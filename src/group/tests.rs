use super::*;
use serde_json::json;

fn found(kind: &str, plural: &str, name: &str) -> Found {
    Found {
        resource: GroupResource {
            kind: kind.into(),
            plural: plural.into(),
            singular: plural.trim_end_matches('s').into(),
            short_names: Vec::new(),
        },
        obj: json!({"metadata": {"name": name}, "spec": {"cluster": {"name": "basic"}}}),
    }
}

#[test]
fn a_group_kind_this_release_does_not_know_is_reported() {
    let notes = unknown_kind_notes(&[
        found("PDGroup", "pdgroups", "pd"),
        found("RouterGroup", "routergroups", "router"),
    ]);
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert!(
        notes[0].starts_with("routergroup/router is a TiDB Operator v2 group kind (RouterGroup)"),
        "{notes:?}"
    );
}

#[test]
fn unknown_kinds_name_what_the_server_serves() {
    let served = [
        found("PDGroup", "pdgroups", "pd").resource,
        found("TiKVGroup", "tikvgroups", "tikv").resource,
    ];
    assert_eq!(
        resource_named(&served, "tikvgroups").unwrap().kind,
        "TiKVGroup"
    );
    let err = resource_named(&served, "routergroup")
        .unwrap_err()
        .to_string();
    assert_eq!(
        err,
        "unknown kind \"routergroup\": the server's TiDB Operator v2 groups are pdgroup, tikvgroup"
    );
}
