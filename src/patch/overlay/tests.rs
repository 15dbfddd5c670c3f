//! A v2 group's pod overlay on realistic objects: a PDGroup as the server returns it (no
//! overlay), a TiKVGroup whose user overlay has its own containers, volumes, pod metadata and
//! volume claims, and a TiDBGroup whose overlay has only pod metadata. Every patch is applied
//! with an RFC 6902 implementation and inject → eject must give back the object exactly.

use serde_json::{Value, json};

use super::super::{Change, Plan, PlanError, Slot, plan_eject, plan_inject};
use netem_api::contract::{container, volume};

fn fixture(name: &str) -> Value {
    let text = match name {
        "pd" => include_str!("../testdata/pdgroup-basic.json"),
        "tikv" => include_str!("../testdata/tikvgroup-overlay.json"),
        "tidb" => include_str!("../testdata/tidbgroup-overlay-metadata.json"),
        other => panic!("no fixture {other}"),
    };
    serde_json::from_str(text).unwrap()
}

fn apply(doc: &Value, patch: &Value) -> Result<Value, json_patch::PatchError> {
    let ops: json_patch::Patch = serde_json::from_value(patch.clone()).unwrap();
    let mut out = doc.clone();
    json_patch::patch(&mut out, &ops)?;
    Ok(out)
}

fn slot(obj: &Value) -> Vec<Slot> {
    vec![Slot::overlay(obj["metadata"]["name"].as_str().unwrap())]
}

fn inject(obj: &Value) -> Plan {
    plan_inject(obj, &slot(obj), &container("img:1"), &volume()).unwrap()
}

fn eject(obj: &Value) -> Plan {
    plan_eject(obj, &slot(obj)).unwrap()
}

/// inject, check, eject: back to the object exactly (also as bytes).
fn round_trip(obj: &Value) -> Value {
    let injected = apply(obj, &inject(obj).patch()).unwrap();
    assert!(inject(&injected).is_noop(), "inject twice changes nothing");
    let ejected = apply(&injected, &eject(&injected).patch()).unwrap();
    assert_eq!(&ejected, obj);
    assert_eq!(
        serde_json::to_string(&ejected).unwrap(),
        serde_json::to_string(obj).unwrap()
    );
    assert!(eject(&ejected).is_noop(), "eject twice changes nothing");
    injected
}

#[test]
fn no_overlay_inject_adds_it_whole_and_eject_removes_it() {
    let pd = fixture("pd");
    let plan = inject(&pd);
    assert_eq!(plan.slots[0].change, Change::Added);
    assert_eq!(
        plan.patch(),
        json!([
            {"op": "replace", "path": "/metadata/resourceVersion", "value": "52110"},
            {"op": "add", "path": "/spec/template/spec/overlay", "value": {"pod": {"spec": {
                "containers": [container("img:1")], "volumes": [volume()]}}}}
        ])
    );
    let injected = round_trip(&pd);
    let ej = eject(&injected);
    assert_eq!(ej.slots[0].change, Change::Removed);
    assert_eq!(
        ej.patch().as_array().unwrap()[1..],
        [
            json!({"op": "test", "path": "/spec/template/spec/overlay",
                   "value": injected["spec"]["template"]["spec"]["overlay"]}),
            json!({"op": "remove", "path": "/spec/template/spec/overlay"})
        ]
    );
}

#[test]
fn the_users_overlay_survives_untouched() {
    let tikv = fixture("tikv");
    let injected = round_trip(&tikv);
    let spec = &injected["spec"]["template"]["spec"]["overlay"]["pod"]["spec"];
    let names: Vec<&str> = spec["containers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["tikv", "log-tailer", "netem-agent"]);
    assert_eq!(spec["volumes"][0]["name"], "scratch");
    assert_eq!(spec["volumes"][1], volume());
    // Everything else of the overlay as it was.
    let mut stripped = injected.clone();
    let s = &mut stripped["spec"]["template"]["spec"]["overlay"]["pod"]["spec"];
    s["containers"].as_array_mut().unwrap().pop();
    s["volumes"].as_array_mut().unwrap().pop();
    assert_eq!(stripped, tikv);
    // The lists are edited in place, each guarded by a test of its content.
    let ops = inject(&tikv).patch();
    assert!(ops.as_array().unwrap().contains(&json!({
        "op": "add", "path": "/spec/template/spec/overlay/pod/spec/containers/-", "value": container("img:1")
    })));
    let ej = eject(&injected).patch();
    assert!(ej.as_array().unwrap().contains(&json!({
        "op": "remove", "path": "/spec/template/spec/overlay/pod/spec/containers/2"
    })));
}

#[test]
fn a_user_overlay_without_spec_gets_one_and_loses_it_again() {
    let tidb = fixture("tidb");
    let plan = inject(&tidb).patch();
    let pod = &tidb["spec"]["template"]["spec"]["overlay"]["pod"];
    assert_eq!(
        plan.as_array().unwrap()[1..],
        [
            json!({"op": "test", "path": "/spec/template/spec/overlay/pod", "value": pod}),
            json!({"op": "add", "path": "/spec/template/spec/overlay/pod/spec",
                   "value": {"containers": [container("img:1")], "volumes": [volume()]}})
        ]
    );
    let injected = round_trip(&tidb);
    // Only the spec goes: the pod's metadata was the user's.
    let ej = eject(&injected).patch();
    assert_eq!(
        ej.as_array().unwrap().last().unwrap(),
        &json!({"op": "remove", "path": "/spec/template/spec/overlay/pod/spec"})
    );
}

#[test]
fn other_fields_of_the_overlay_spec_keep_it() {
    let mut pd = fixture("pd");
    pd["spec"]["template"]["spec"]["overlay"] =
        json!({"pod": {"spec": {"nodeSelector": {"zone": "a"}}}});
    round_trip(&pd);
    let injected = apply(&pd, &inject(&pd).patch()).unwrap();
    let ej = eject(&injected).patch();
    let last2: Vec<&Value> = ej.as_array().unwrap().iter().rev().take(2).collect();
    assert!(
        last2.contains(
            &&json!({"op": "remove", "path": "/spec/template/spec/overlay/pod/spec/volumes"})
        ),
        "{ej}"
    );
}

#[test]
fn explicit_empty_parents_come_back_absent() {
    // The documented corner: `{}` (or null) is read by the operator as no overlay at all.
    for empty in [
        json!({}),
        json!({"pod": {}}),
        json!({"pod": {"spec": {}}}),
        Value::Null,
    ] {
        let mut pd = fixture("pd");
        pd["spec"]["template"]["spec"]["overlay"] = empty.clone();
        let injected = apply(&pd, &inject(&pd).patch()).unwrap();
        let ejected = apply(&injected, &eject(&injected).patch()).unwrap();
        assert_eq!(ejected, fixture("pd"), "{empty}");
    }
}

#[test]
fn a_concurrent_overlay_change_fails_the_test_operations() {
    let tidb = fixture("tidb");
    let plan = inject(&tidb).patch();
    // Someone adds their own pod spec between our read and our write (on a server that
    // ignored the resourceVersion): our add would replace it, so the test refuses.
    let mut theirs = tidb.clone();
    theirs["spec"]["template"]["spec"]["overlay"]["pod"]["spec"] =
        json!({"containers": [{"name": "x"}]});
    assert!(apply(&theirs, &plan).is_err());
    // Same for eject collapsing a parent someone just filled.
    let injected = apply(&tidb, &plan).unwrap();
    let ej = eject(&injected).patch();
    let mut theirs = injected.clone();
    theirs["spec"]["template"]["spec"]["overlay"]["pod"]["spec"]["hostname"] = json!("h");
    assert!(apply(&theirs, &ej).is_err());
}

#[test]
fn malformed_overlays_are_refused() {
    let mut pd = fixture("pd");
    pd["spec"]["template"]["spec"]["overlay"] = json!("oops");
    assert_eq!(
        plan_inject(&pd, &slot(&pd), &container("i"), &volume()).unwrap_err(),
        PlanError::NotAnObject {
            path: "/spec/template/spec/overlay".into()
        }
    );
    let mut no_template = fixture("pd");
    no_template["spec"]["template"] = json!({});
    assert!(plan_eject(&no_template, &slot(&no_template)).is_err());
}
