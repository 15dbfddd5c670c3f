use serde_json::json;

use super::*;

const BASIC: &str = include_str!("testdata/basic.yaml");

fn inject() -> Edit {
    Edit::Inject {
        image: "example.com/netem-agent:1".into(),
        expose: false,
    }
}

/// The documents of a YAML text as values (null for empty ones).
fn docs(text: &str) -> Vec<Value> {
    split_yaml(text)
        .into_iter()
        .filter_map(|p| match p {
            Part::Doc(t) => Some(serde_yaml::from_str::<Option<Value>>(t).unwrap()),
            Part::Separator(_) => None,
        })
        .map(Option::unwrap_or_default)
        .collect()
}

#[test]
fn inject_adds_the_agent_to_every_component_and_leaves_other_documents_verbatim() {
    let out = edit(BASIC, &inject(), &[]).unwrap();
    assert_eq!(out.changed, ["tidbcluster/basic: pd, tikv, tidb"]);
    // The comment header and the Namespace document are untouched, byte for byte.
    let head = BASIC.split("# The cluster itself.").next().unwrap();
    assert!(out.text.starts_with(head), "{}", out.text);
    assert!(
        out.text
            .contains("# The cluster itself.\napiVersion: pingcap.com/v1alpha1")
    );
    let tc = &docs(&out.text)[2];
    for c in ["pd", "tikv", "tidb"] {
        let agents: Vec<&Value> = tc["spec"][c]["additionalContainers"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|x| x["name"] == "netem-agent")
            .collect();
        assert_eq!(agents.len(), 1, "{c}");
        assert_eq!(agents[0]["image"], "example.com/netem-agent:1");
        assert_eq!(
            tc["spec"][c]["additionalVolumes"][0],
            netem_api::contract::volume()
        );
    }
    // The user's own sidecar stays first.
    assert_eq!(
        tc["spec"]["tidb"]["additionalContainers"][0]["name"],
        "sidecar"
    );
    // Everything else of the spec is as it was.
    let mut before = docs(BASIC)[2].clone();
    let mut after = tc.clone();
    for c in ["pd", "tikv", "tidb"] {
        for v in [&mut before, &mut after] {
            let o = v["spec"][c].as_object_mut().unwrap();
            o.remove("additionalContainers");
            o.remove("additionalVolumes");
        }
    }
    assert_eq!(before, after);
}

#[test]
fn reinjecting_is_a_no_op_and_eject_restores_the_objects() {
    let once = edit(BASIC, &inject(), &[]).unwrap();
    let twice = edit(&once.text, &inject(), &[]).unwrap();
    assert_eq!(twice.text, once.text, "stable output");
    assert!(twice.changed.is_empty());
    assert_eq!(twice.unchanged, ["tidbcluster/basic"]);

    let ejected = edit(&once.text, &Edit::Eject, &[]).unwrap();
    assert_eq!(ejected.changed, ["tidbcluster/basic: pd, tikv, tidb"]);
    assert_eq!(docs(&ejected.text), docs(BASIC));
    // Ejecting what has no agent changes nothing at all.
    assert_eq!(edit(BASIC, &Edit::Eject, &[]).unwrap().text, BASIC);
}

#[test]
fn component_narrows_and_must_exist() {
    let out = edit(BASIC, &inject(), &["tikv".into()]).unwrap();
    assert_eq!(out.changed, ["tidbcluster/basic: tikv"]);
    let tc = &docs(&out.text)[2];
    assert!(tc["spec"]["pd"].get("additionalContainers").is_none());
    let err = edit(BASIC, &inject(), &["tiflash".into()]).unwrap_err();
    assert!(err.to_string().contains("--component tiflash"), "{err}");
}

#[test]
fn json_lists_and_statefulsets() {
    let list = json!({
        "apiVersion": "v1",
        "kind": "List",
        "items": [
            {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"}},
            {"apiVersion": "apps/v1", "kind": "StatefulSet",
             "metadata": {"name": "web"},
             "spec": {"replicas": 2, "template": {"spec": {"containers": [{"name": "nginx", "image": "nginx"}]}}}}
        ]
    });
    let input = serde_json::to_string_pretty(&list).unwrap();
    let out = edit(&input, &inject(), &[]).unwrap();
    assert_eq!(out.changed, ["statefulset/web: web"]);
    let got: Value = serde_json::from_str(&out.text).unwrap();
    assert_eq!(got["items"][0], list["items"][0]);
    let pod = &got["items"][1]["spec"]["template"]["spec"];
    assert_eq!(pod["containers"][1]["name"], "netem-agent");
    assert_eq!(pod["volumes"][0]["name"], "netem-agent-run");
    let back = edit(&out.text, &Edit::Eject, &[]).unwrap();
    assert_eq!(serde_json::from_str::<Value>(&back.text).unwrap(), list);
}

#[test]
fn host_network_components_are_refused() {
    let input = BASIC.replace("  tikv:\n", "  tikv:\n    hostNetwork: true\n");
    let err = edit(&input, &inject(), &[]).unwrap_err();
    assert!(
        format!("{err:#}").contains("tikv uses hostNetwork"),
        "{err:#}"
    );
    // Eject is always allowed.
    assert!(edit(&input, &Edit::Eject, &[]).is_ok());
}

#[test]
fn a_broken_document_is_named() {
    let err = edit("kind: [\n", &inject(), &[]).unwrap_err();
    assert!(err.to_string().contains("YAML document 1"), "{err}");
    assert!(edit("{", &inject(), &[]).is_err());
}

#[test]
fn separators_are_lines_of_their_own() {
    let parts = split_yaml("a: 1\n---\nb: '---'\n--- # two\nc: 3\n");
    assert_eq!(
        parts,
        [
            Part::Doc("a: 1\n"),
            Part::Separator("---\n"),
            Part::Doc("b: '---'\n"),
            Part::Separator("--- # two\n"),
            Part::Doc("c: 3\n"),
        ]
    );
}

const BASIC_V2: &str = include_str!("testdata/basic-v2.yaml");

#[test]
fn v2_groups_get_the_agent_in_their_overlay_and_the_cluster_passes_through() {
    let out = edit(BASIC_V2, &inject(), &[]).unwrap();
    assert_eq!(
        out.changed,
        [
            "pdgroup/pd: pd",
            "tikvgroup/tikv: tikv",
            "tidbgroup/tidb: tidb"
        ]
    );
    // The Cluster document, untouched byte for byte.
    let cluster = BASIC_V2.split("---\n").next().unwrap();
    assert!(out.text.starts_with(cluster), "{}", out.text);
    let d = docs(&out.text);
    let overlay = |i: usize| d[i]["spec"]["template"]["spec"]["overlay"].clone();
    assert_eq!(
        overlay(1)["pod"]["spec"]["containers"][0]["image"],
        "example.com/netem-agent:1"
    );
    // The user's overlay keeps its container first and its pod labels.
    let tikv = overlay(2);
    assert_eq!(tikv["pod"]["spec"]["containers"][0]["name"], "log-tailer");
    assert_eq!(tikv["pod"]["spec"]["containers"][1]["name"], "netem-agent");
    assert_eq!(tikv["pod"]["metadata"]["labels"]["team"], "storage");

    // Injecting again changes nothing; eject gives back the same documents.
    let again = edit(&out.text, &inject(), &[]).unwrap();
    assert!(again.changed.is_empty());
    assert_eq!(again.text, out.text);
    let ejected = edit(&out.text, &Edit::Eject, &[]).unwrap();
    assert_eq!(docs(&ejected.text), docs(BASIC_V2));
}

#[test]
fn v2_component_narrows_groups() {
    let out = edit(BASIC_V2, &inject(), &["tikv".into()]).unwrap();
    assert_eq!(out.changed, ["tikvgroup/tikv: tikv"]);
    let err = edit(BASIC_V2, &inject(), &["tiflash".into()]).unwrap_err();
    assert!(err.to_string().contains("--component tiflash"), "{err}");
}
