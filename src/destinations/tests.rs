use super::*;
use std::time::Duration;

fn pod(name: &str, ip: Option<&str>, tc: Option<&str>) -> PodInfo {
    PodInfo {
        namespace: "default".into(),
        name: name.into(),
        component: None,
        tidb_cluster: tc.map(String::from),
        node: None,
        ip: ip.map(String::from),
        agent_image: None,
        agent_exposed: false,
        agent_kind: None,
        agent_container: "netem-agent".into(),
        not_running: None,
        agent_trouble: None,
    }
}

fn name(
    targets: &[&str],
    components: &[&str],
    sel: Option<&str>,
    cidrs: &[&str],
    ports: &[u16],
) -> SetName {
    let targets: Vec<Target> = targets
        .iter()
        .map(|t| crate::target::parse_target(t).unwrap())
        .collect();
    let filter = Filter {
        components: components.iter().map(|c| c.to_string()).collect(),
        selector: sel.map(String::from),
    };
    let cidrs: Vec<Cidr> = cidrs.iter().map(|c| c.parse().unwrap()).collect();
    SetName::new(&targets, &filter, &cidrs, ports)
}

#[test]
fn ids_come_from_the_naming_and_are_stable() {
    let n = name(&["basic-tikv-0"], &[], None, &[], &[]);
    assert_eq!(n.rule_id(), "to.pod.basic-tikv-0");
    assert_eq!(n.expression(), "pod/basic-tikv-0");
    assert_eq!(
        name(&["tc/basic"], &["tikv"], None, &[], &[]).rule_id(),
        "to.tc.basic.tikv"
    );
    assert_eq!(
        name(&[], &[], None, &["10.0.0.0/16"], &[20160]).rule_id(),
        "to.cidr.10.0.0.0-16.p20160"
    );
    assert_eq!(
        name(&[], &[], None, &["fd00::/64"], &[]).rule_id(),
        "to.cidr.fd00---64"
    );
    // Order and repetition do not matter; spellings of a kind do not either.
    assert_eq!(
        name(&["pod/b", "a", "b"], &["tikv", "pd"], None, &[], &[]),
        name(&["a", "b"], &["pd", "tikv"], None, &[], &[])
    );
    assert_eq!(
        name(&["tidb-cluster/basic"], &[], None, &[], &[]).rule_id(),
        name(&["tc/basic"], &[], None, &[], &[]).rule_id()
    );
    let sel = name(&[], &[], Some("app.kubernetes.io/component=tikv"), &[], &[]);
    assert_eq!(sel.rule_id(), "to.l.app.kubernetes.io-component-tikv");
    assert_eq!(
        sel.expression(),
        "selector=app.kubernetes.io/component=tikv"
    );
}

#[test]
fn long_or_odd_namings_are_hashed_into_a_valid_id() {
    let many: Vec<String> = (0..20).map(|i| format!("basic-tikv-{i}")).collect();
    let refs: Vec<&str> = many.iter().map(String::as_str).collect();
    let long = name(&refs, &[], None, &[], &[]);
    let id = long.rule_id();
    assert!(valid_rule_id(&id), "{id}");
    assert!(id.starts_with("to.pod.basic-tikv-0.pod."), "{id}");
    assert_eq!(id, long.rule_id(), "stable");
    let other = name(&refs[1..], &[], None, &[], &[]).rule_id();
    assert_ne!(id, other);
    let odd = name(&[], &[], Some("tier!=a-"), &[], &[]).rule_id();
    assert!(valid_rule_id(&odd), "{odd}");
    // Pinned: the hash must never change between versions (re-runs must find the rule).
    assert_eq!(fnv1a(b"pod/a"), 0x497e_e535_2ceb_fa28);
}

#[test]
fn component_alone_means_the_sources_cluster() {
    let sources = [
        pod("basic-tidb-0", Some("10.0.0.1"), Some("basic")),
        pod("basic-tidb-1", Some("10.0.0.2"), Some("basic")),
    ];
    assert_eq!(
        source_clusters(&sources, "--to"),
        Ok(vec![Target::TidbCluster("basic".into())])
    );
    let lone = [pod("web-0", None, None)];
    let err = source_clusters(&lone, "--to").unwrap_err();
    assert!(err.contains("pod web-0 belongs to none"), "{err}");
    assert!(err.contains("--to tidb-cluster/NAME"), "{err}");
}

#[test]
fn filters_with_named_pods_are_refused() {
    let dest = Destinations {
        targets: vec![Target::Pod("basic-tikv-0".into())],
        filter: Filter {
            components: vec!["tikv".into()],
            selector: None,
        },
        flag: "--from",
        ..Destinations::default()
    };
    let err = dest.check().unwrap_err();
    assert!(
        err.starts_with("--from-component and --from-selector"),
        "{err}"
    );
    assert!(err.contains("(basic-tikv-0)"), "{err}");
    assert!(Destinations::default().is_empty());
}

#[test]
fn sources_are_not_their_own_destinations() {
    let n = name(&["tc/basic"], &[], None, &[], &[]);
    let all = vec![
        pod("basic-pd-0", Some("10.0.0.1"), None),
        pod("basic-tikv-0", Some("10.0.0.2"), None),
    ];
    let rest = without_sources(all.clone(), &all[1..], &n).unwrap();
    assert_eq!(rest, all[..1]);
    let err = without_sources(all.clone(), &all, &n).unwrap_err();
    assert!(
        err.contains("every destination pod is also a source"),
        "{err}"
    );
    assert_eq!(without_sources(vec![], &all, &n), Ok(vec![]));
}

#[test]
fn the_rule_holds_addresses_and_the_record() {
    let n = name(&["tc/basic"], &["tikv"], None, &[], &[]);
    let pods = [
        pod("basic-tikv-1", Some("10.0.0.8"), None),
        pod("basic-tikv-0", Some("10.0.0.7"), None),
        pod("basic-tikv-2", None, None),
    ];
    let netem = NetemSpec::delay(Duration::from_millis(20));
    let (spec, notes) = rule_spec(
        &n,
        &pods,
        &["fd00::/64".parse().unwrap()],
        &[20160],
        &netem,
        false,
    )
    .unwrap();
    assert_eq!(
        serde_json::to_value(&spec).unwrap(),
        serde_json::json!({
            "to": {"cidrs": ["10.0.0.7/32", "10.0.0.8/32", "fd00::/64"], "ports": [20160]},
            "netem": {"delay": "20ms"},
            "about": {"to": "tidbcluster/basic component=tikv",
                      "pods": {"basic-tikv-0": "10.0.0.7", "basic-tikv-1": "10.0.0.8"}}
        })
    );
    assert!(spec.validate().is_ok());
    assert!(notes[0].contains("basic-tikv-2"), "{notes:?}");
    // Pods named but none with an address: refused, never "every address".
    let err = rule_spec(&n, &pods[2..], &[], &[20160], &netem, true).unwrap_err();
    assert!(err.contains("none of its pods has an IP"), "{err}");
    let (reverse, _) = rule_spec(&n, &pods[..1], &[], &[], &netem, true).unwrap();
    assert_eq!(reverse.about["reverse"], true);
    assert_eq!(About::of(&reverse.about).unwrap().pods.len(), 1);
    assert_eq!(About::of(&serde_json::Value::Null), None);
}

#[test]
fn moved_pods_are_named() {
    let about = About {
        to: "pod/a pod/b pod/c".into(),
        pods: [("a", "10.0.0.1"), ("b", "10.0.0.2"), ("c", "10.0.0.3")]
            .into_iter()
            .map(|(p, ip)| (p.to_string(), ip.to_string()))
            .collect(),
        reverse: false,
    };
    let key = |p: &str| ("default".to_string(), p.to_string());
    let current = BTreeMap::from([
        (key("a"), Some("10.0.0.1".to_string())),
        (key("b"), Some("10.0.0.9".to_string())),
        (
            ("other".to_string(), "c".to_string()),
            Some("10.0.0.3".to_string()),
        ),
    ]);
    assert_eq!(
        moved(&about, "default", &current),
        [
            Moved {
                pod: "b".into(),
                was: "10.0.0.2".into(),
                now: Some("10.0.0.9".into())
            },
            Moved {
                pod: "c".into(),
                was: "10.0.0.3".into(),
                now: None
            },
        ]
    );
}

mod no_panic {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// Whatever the naming (any parsable targets, components, selector, networks,
        /// ports), the id is valid, and the same naming gives the same id.
        #[test]
        fn every_naming_gives_a_valid_stable_id(
            targets in proptest::collection::vec("(pod/|tc/|sts/)?[a-z0-9][a-z0-9.-]{0,70}[a-z0-9]", 0..4),
            components in proptest::collection::vec("[a-z]{1,8}", 0..3),
            selector in proptest::option::of(any::<String>()),
            v4 in proptest::collection::vec((any::<u32>(), 0u8..=32), 0..3),
            ports in proptest::collection::vec(1u16.., 0..3),
        ) {
            let targets: Vec<Target> = targets
                .iter()
                .filter_map(|t| crate::target::parse_target(t).ok())
                .collect();
            let cidrs: Vec<Cidr> = v4
                .iter()
                .map(|(a, p)| {
                    let mask = u32::MAX.checked_shl(32 - u32::from(*p)).unwrap_or(0);
                    Cidr { addr: std::net::Ipv4Addr::from(a & mask).into(), prefix: *p }
                })
                .collect();
            let filter = Filter { components, selector };
            let n = SetName::new(&targets, &filter, &cidrs, &ports);
            let id = n.rule_id();
            prop_assert!(valid_rule_id(&id), "{id:?} from {n:?}");
            prop_assert_eq!(id, SetName::new(&targets, &filter, &cidrs, &ports).rule_id());
        }
    }
}
