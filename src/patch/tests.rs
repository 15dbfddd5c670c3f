//! Patch building on realistic objects: a TidbCluster as TiDB Operator's "basic" example
//! stores it, a production-like one with the user's own additional containers and a `pdms`
//! list, and a StatefulSet as the API server returns it (defaults filled in). Every patch is
//! applied with an RFC 6902 implementation to check the result, not just the operations.

use serde_json::{Value, json};

use super::*;
use netem_api::contract::{container, volume};

fn fixture(name: &str) -> Value {
    let text = match name {
        "basic" => include_str!("testdata/tidbcluster-basic.json"),
        "custom" => include_str!("testdata/tidbcluster-custom.json"),
        "web" => include_str!("testdata/statefulset-web.json"),
        other => panic!("no fixture {other}"),
    };
    serde_json::from_str(text).unwrap()
}

/// Applies a patch as the server would (all or nothing).
fn apply(doc: &Value, patch: &Value) -> Result<Value, json_patch::PatchError> {
    let ops: json_patch::Patch = serde_json::from_value(patch.clone()).unwrap();
    let mut out = doc.clone();
    json_patch::patch(&mut out, &ops)?;
    Ok(out)
}

fn all(obj: &Value) -> Vec<Slot> {
    tidbcluster_slots(obj, &[]).unwrap()
}

fn only(obj: &Value, names: &[&str]) -> Result<Vec<Slot>, PlanError> {
    let names: Vec<String> = names.iter().map(|s| s.to_string()).collect();
    tidbcluster_slots(obj, &names)
}

fn inject(obj: &Value, slots: &[Slot], image: &str) -> Plan {
    plan_inject(obj, slots, &container(image), &volume()).unwrap()
}

fn agents(list: &Value) -> usize {
    list.as_array()
        .map(|l| l.iter().filter(|c| c["name"] == "netem-agent").count())
        .unwrap_or(0)
}

fn names(list: &Value) -> Vec<&str> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect()
}

#[test]
fn basic_inject_adds_the_lists_and_eject_restores_the_spec_exactly() {
    let tc = fixture("basic");
    let slots = all(&tc);
    assert_eq!(
        slots.iter().map(|s| s.name.as_str()).collect::<Vec<_>>(),
        ["pd", "tikv", "tidb"]
    );

    let plan = inject(&tc, &slots, "img:1");
    assert!(plan.slots.iter().all(|s| s.change == Change::Added));
    let patch = plan.patch();
    // The guard comes first and carries the version read.
    assert_eq!(
        patch[0],
        json!({"op": "replace", "path": "/metadata/resourceVersion", "value": "184312"})
    );
    // The lists do not exist yet, so they are added whole.
    assert!(patch.as_array().unwrap().contains(&json!({
        "op": "add", "path": "/spec/pd/additionalContainers", "value": [container("img:1")]
    })));

    let injected = apply(&tc, &patch).unwrap();
    for c in ["pd", "tikv", "tidb"] {
        assert_eq!(
            injected["spec"][c]["additionalContainers"],
            json!([container("img:1")])
        );
        assert_eq!(injected["spec"][c]["additionalVolumes"], json!([volume()]));
    }
    // Nothing else moved.
    let mut stripped = injected.clone();
    for c in ["pd", "tikv", "tidb"] {
        let comp = stripped["spec"][c].as_object_mut().unwrap();
        comp.remove("additionalContainers");
        comp.remove("additionalVolumes");
    }
    assert_eq!(stripped, tc);

    let eject = plan_eject(&injected, &slots).unwrap();
    assert!(eject.slots.iter().all(|s| s.change == Change::Removed));
    assert_eq!(apply(&injected, &eject.patch()).unwrap(), tc);
}

#[test]
fn inject_twice_changes_nothing_and_eject_twice_too() {
    let tc = fixture("basic");
    let slots = all(&tc);
    let injected = apply(&tc, &inject(&tc, &slots, "img:1").patch()).unwrap();
    let again = inject(&injected, &slots, "img:1");
    assert!(again.is_noop());
    assert!(again.slots.iter().all(|s| s.ops.is_empty()));
    assert_eq!(again.patch().as_array().unwrap().len(), 1, "only the guard");

    let ejected = apply(&injected, &plan_eject(&injected, &slots).unwrap().patch()).unwrap();
    assert!(plan_eject(&ejected, &slots).unwrap().is_noop());
}

#[test]
fn another_image_replaces_the_agent_in_place() {
    let tc = fixture("custom");
    let slots = only(&tc, &["tidb"]).unwrap();
    let v1 = apply(&tc, &inject(&tc, &slots, "img:1").patch()).unwrap();
    let plan = inject(&v1, &slots, "img:2");
    assert_eq!(plan.slots[0].change, Change::Updated);
    let v2 = apply(&v1, &plan.patch()).unwrap();
    let list = &v2["spec"]["tidb"]["additionalContainers"];
    assert_eq!(names(list), ["fluent-bit", "netem-agent"]);
    assert_eq!(list[1]["image"], "img:2");
    // The volume was already right: only the container changed.
    assert_eq!(
        v2["spec"]["tidb"]["additionalVolumes"],
        v1["spec"]["tidb"]["additionalVolumes"]
    );
}

#[test]
fn user_containers_and_volumes_are_kept() {
    let tc = fixture("custom");
    let slots = all(&tc);
    assert_eq!(
        slots.iter().map(|s| s.name.as_str()).collect::<Vec<_>>(),
        [
            "pd",
            "tikv",
            "tidb",
            "tiflash",
            "ticdc",
            "tso",
            "scheduling"
        ]
    );
    let plan = inject(&tc, &slots, "img:1");
    let injected = apply(&tc, &plan.patch()).unwrap();

    let tidb = &injected["spec"]["tidb"];
    assert_eq!(
        tidb["additionalContainers"][0],
        tc["spec"]["tidb"]["additionalContainers"][0]
    );
    assert_eq!(
        names(&tidb["additionalContainers"]),
        ["fluent-bit", "netem-agent"]
    );
    assert_eq!(
        names(&tidb["additionalVolumes"]),
        ["fluent-bit-config", "netem-agent-run"]
    );
    // pdms entries each get their own lists.
    assert_eq!(
        names(&injected["spec"]["pdms"][0]["additionalContainers"]),
        ["netem-agent"]
    );
    assert_eq!(
        names(&injected["spec"]["pdms"][1]["additionalContainers"]),
        ["debug", "netem-agent"]
    );
    // An existing list is appended to, guarded by a test of its content.
    let ops = &plan
        .slots
        .iter()
        .find(|s| s.slot.name == "tidb")
        .unwrap()
        .ops;
    assert_eq!(ops[0]["op"], "test");
    assert_eq!(ops[0]["value"], tc["spec"]["tidb"]["additionalContainers"]);
    assert_eq!(ops[1]["path"], "/spec/tidb/additionalContainers/-");

    let ejected = apply(&injected, &plan_eject(&injected, &slots).unwrap().patch()).unwrap();
    // Exact, except the one documented corner: pd had an explicit empty additionalVolumes,
    // which comes back absent (the same thing to the operator).
    let mut expected = tc.clone();
    expected["spec"]["pd"]
        .as_object_mut()
        .unwrap()
        .remove("additionalVolumes");
    assert_eq!(ejected, expected);
}

#[test]
fn component_selection() {
    let tc = fixture("custom");
    let pick = |n: &[&str]| only(&tc, n).map(|s| s.into_iter().map(|s| s.name).collect::<Vec<_>>());
    assert_eq!(pick(&["pd", "tikv"]).unwrap(), ["pd", "tikv"]);
    assert_eq!(pick(&["pdms"]).unwrap(), ["tso", "scheduling"]);
    assert_eq!(pick(&["scheduling"]).unwrap(), ["scheduling"]);
    let err = pick(&["tiproxy"]).unwrap_err();
    assert_eq!(
        err,
        PlanError::UnknownComponent {
            name: "tiproxy".into(),
            present: "pd, tikv, tidb, tiflash, ticdc, tso, scheduling, pdms".into()
        }
    );
    let basic = fixture("basic");
    assert!(matches!(
        only(&basic, &["pdms"]),
        Err(PlanError::UnknownComponent { .. })
    ));

    let pdms = &only(&tc, &["tso"]).unwrap()[0];
    assert_eq!(pdms.containers, "/spec/pdms/0/additionalContainers");
    assert_eq!(pdms.replicas(&tc), 2);
}

#[test]
fn narrowed_inject_touches_only_the_chosen_components() {
    let tc = fixture("basic");
    let slots = only(&tc, &["pd"]).unwrap();
    let injected = apply(&tc, &inject(&tc, &slots, "img:1").patch()).unwrap();
    assert_eq!(agents(&injected["spec"]["pd"]["additionalContainers"]), 1);
    assert!(
        injected["spec"]["tikv"]
            .get("additionalContainers")
            .is_none()
    );
    // Eject of everything then only finds pd.
    let eject = plan_eject(&injected, &all(&injected)).unwrap();
    let changed: Vec<&str> = eject.changed().map(|s| s.slot.name.as_str()).collect();
    assert_eq!(changed, ["pd"]);
}

#[test]
fn statefulset_inject_eject_is_exact_and_survives_server_defaults() {
    let sts = fixture("web");
    let slots = [Slot::statefulset("web")];
    let plan = inject(&sts, &slots, "img:1");
    assert_eq!(plan.slots[0].change, Change::Added);
    let mut injected = apply(&sts, &plan.patch()).unwrap();
    let spec = &injected["spec"]["template"]["spec"];
    assert_eq!(names(&spec["containers"]), ["nginx", "netem-agent"]);
    assert_eq!(
        spec["containers"][0],
        sts["spec"]["template"]["spec"]["containers"][0]
    );
    assert_eq!(spec["volumes"], json!([volume()]));

    // The API server fills in defaults on the pod template; that is not a difference.
    let agent = &mut injected["spec"]["template"]["spec"]["containers"][1];
    agent["terminationMessagePath"] = json!("/dev/termination-log");
    agent["terminationMessagePolicy"] = json!("File");
    agent["readinessProbe"]["successThreshold"] = json!(1);
    injected["metadata"]["resourceVersion"] = json!("52399");
    assert!(inject(&injected, &slots, "img:1").is_noop());

    let eject = plan_eject(&injected, &slots).unwrap();
    assert_eq!(eject.patch()[0]["value"], "52399");
    let mut ejected = apply(&injected, &eject.patch()).unwrap();
    ejected["metadata"]["resourceVersion"] = json!("52341");
    assert_eq!(ejected, sts);
}

#[test]
fn a_statefulset_is_never_left_without_containers() {
    let mut sts = fixture("web");
    sts["spec"]["template"]["spec"]["containers"] = json!([container("img:1")]);
    let err = plan_eject(&sts, &[Slot::statefulset("web")]).unwrap_err();
    assert_eq!(
        err,
        PlanError::LastContainer {
            path: "/spec/template/spec/containers".into()
        }
    );
}

#[test]
fn a_stale_patch_fails_its_test_instead_of_clobbering() {
    let tc = fixture("custom");
    let slots = only(&tc, &["tidb"]).unwrap();
    let plan = inject(&tc, &slots, "img:1");
    // Meanwhile somebody adds a container of their own.
    let mut changed = tc.clone();
    changed["spec"]["tidb"]["additionalContainers"]
        .as_array_mut()
        .unwrap()
        .push(json!({"name": "tcpdump", "image": "tcpdump:1"}));
    assert!(apply(&changed, &plan.patch()).is_err());
    // Re-planning from the new state keeps their container.
    let fresh = apply(&changed, &inject(&changed, &slots, "img:1").patch()).unwrap();
    assert_eq!(
        names(&fresh["spec"]["tidb"]["additionalContainers"]),
        ["fluent-bit", "tcpdump", "netem-agent"]
    );
}

#[test]
fn two_racing_injects_end_with_one_agent() {
    for name in ["basic", "custom"] {
        let tc = fixture(name);
        let slots = all(&tc);
        let a = inject(&tc, &slots, "img:1").patch();
        let b = inject(&tc, &slots, "img:1").patch();
        let after_a = apply(&tc, &a).unwrap();
        // The server refuses b (409 from the version guard; here, where lists existed, the
        // test op fails too). Either way the caller re-reads and finds nothing to do.
        let after_b = apply(&after_a, &b).unwrap_or(after_a.clone());
        for slot in &slots {
            assert_eq!(
                agents(after_b.pointer(&slot.containers).unwrap()),
                1,
                "{name} {}",
                slot.name
            );
        }
        assert!(inject(&after_b, &slots, "img:1").is_noop());
    }
}

#[test]
fn duplicate_agents_collapse_to_one_and_eject_removes_all() {
    let mut tc = fixture("basic");
    tc["spec"]["pd"]["additionalContainers"] =
        json!([container("old:1"), {"name": "sidecar", "image": "s:1"}, container("old:2")]);
    let slots = only(&tc, &["pd"]).unwrap();
    let injected = apply(&tc, &inject(&tc, &slots, "img:1").patch()).unwrap();
    let list = &injected["spec"]["pd"]["additionalContainers"];
    assert_eq!(names(list), ["netem-agent", "sidecar"]);
    assert_eq!(list[0]["image"], "img:1");

    let ejected = apply(&tc, &plan_eject(&tc, &slots).unwrap().patch()).unwrap();
    assert_eq!(
        names(&ejected["spec"]["pd"]["additionalContainers"]),
        ["sidecar"]
    );
}

#[test]
fn malformed_objects_are_errors_not_panics() {
    let mut tc = fixture("basic");
    tc["spec"]["pd"]["additionalContainers"] = json!({"name": "oops"});
    let slots = only(&tc, &["pd"]).unwrap();
    assert_eq!(
        plan_inject(&tc, &slots, &container("i"), &volume()).unwrap_err(),
        PlanError::NotAList {
            path: "/spec/pd/additionalContainers".into()
        }
    );
    let mut tc = fixture("basic");
    tc["metadata"]
        .as_object_mut()
        .unwrap()
        .remove("resourceVersion");
    assert_eq!(
        plan_inject(&tc, &all(&tc), &container("i"), &volume()).unwrap_err(),
        PlanError::NoResourceVersion
    );
    assert_eq!(
        tidbcluster_slots(&json!({"spec": {"helper": {}}}), &[]).unwrap_err(),
        PlanError::NoComponents
    );
    assert!(
        plan_inject(
            &json!({"spec": {}}),
            &[Slot::statefulset("x")],
            &container("i"),
            &volume()
        )
        .is_err()
    );
}

#[test]
fn contains_is_a_recursive_subset() {
    let have = json!({"a": 1, "b": {"c": [1, {"d": 2, "e": 3}]}, "x": "y"});
    assert!(contains(&have, &json!({"b": {"c": [1, {"d": 2}]}})));
    assert!(
        !contains(&have, &json!({"b": {"c": [1]}})),
        "lists must match in length"
    );
    assert!(!contains(&have, &json!({"a": 2})));
    assert!(!contains(&have, &json!({"z": null})));
}

#[test]
fn a_users_own_container_or_volume_of_our_name_is_refused_by_inject_and_eject() {
    let users_container =
        json!({"name": "netem-agent", "image": "busybox:1.36", "command": ["sleep", "1d"]});
    let users_volume = json!({"name": "netem-agent-run", "configMap": {"name": "netem-cfg"}});
    for (list, entry, what) in [
        ("additionalContainers", users_container, "container"),
        ("additionalVolumes", users_volume, "volume"),
    ] {
        let mut tc = fixture("basic");
        tc["spec"]["pd"][list] = json!([entry]);
        // Every component is targeted; one foreign entry refuses the whole plan.
        let slots = all(&tc);
        let expected_path = format!("/spec/pd/{list}");
        for err in [
            plan_inject(&tc, &slots, &container("img:1"), &volume()).unwrap_err(),
            plan_eject(&tc, &slots).unwrap_err(),
        ] {
            let PlanError::NotOurs {
                slot,
                path,
                what: w,
                ..
            } = &err
            else {
                panic!("{err:?}")
            };
            assert_eq!(
                (slot.as_str(), path.as_str(), *w),
                ("pd", expected_path.as_str(), what)
            );
            let line = err.to_string();
            assert!(line.contains("rename yours or remove it"), "{line}");
            assert!(!line.contains('\n'), "{line}");
        }
    }
    // The message names the marker the container lacks.
    let mut tc = fixture("basic");
    tc["spec"]["tidb"]["additionalContainers"] =
        json!([{"name": "netem-agent", "image": "busybox:1.36"}]);
    let err = plan_eject(&tc, &all(&tc)).unwrap_err().to_string();
    assert!(
        err.starts_with(
            "tidb: /spec/tidb/additionalContainers has a container named \"netem-agent\""
        ) && err.contains("NETEM_AGENT_MANAGED_BY=kubectl-netem"),
        "{err}"
    );
}

#[test]
fn a_statefulset_main_container_of_our_name_is_refused() {
    let mut sts = fixture("web");
    sts["spec"]["template"]["spec"]["containers"][0]["name"] = json!("netem-agent");
    let slots = [Slot::statefulset("web")];
    assert!(matches!(
        plan_inject(&sts, &slots, &container("img:1"), &volume()),
        Err(PlanError::NotOurs {
            what: "container",
            ..
        })
    ));
    assert!(matches!(
        plan_eject(&sts, &slots),
        Err(PlanError::NotOurs {
            what: "container",
            ..
        })
    ));
}

#[test]
fn an_agent_of_an_earlier_release_without_the_marker_is_ours() {
    let tc = fixture("custom");
    let slots = only(&tc, &["tidb"]).unwrap();
    let mut legacy = container("ghcr.io/kubectl-netem/netem-agent:0.0.9");
    legacy.as_object_mut().unwrap().remove("env");
    let mut old = tc.clone();
    old["spec"]["tidb"]["additionalContainers"]
        .as_array_mut()
        .unwrap()
        .push(legacy);
    old["spec"]["tidb"]["additionalVolumes"]
        .as_array_mut()
        .unwrap()
        .push(volume());

    // Inject upgrades it in place to the marked container.
    let plan = inject(&old, &slots, "img:1");
    assert_eq!(plan.slots[0].change, Change::Updated);
    let upgraded = apply(&old, &plan.patch()).unwrap();
    let list = &upgraded["spec"]["tidb"]["additionalContainers"];
    assert_eq!(names(list), ["fluent-bit", "netem-agent"]);
    assert_eq!(list[1], container("img:1"));

    // Eject removes it, giving back the spec before it.
    let ejected = apply(&old, &plan_eject(&old, &slots).unwrap().patch()).unwrap();
    assert_eq!(ejected, tc);
}
