use super::*;
use crate::pod_error::Cause;
use crate::pods::PodInfo;
use netem_api::spec::{Distribution, parse_percent, parse_rate};
use std::time::Duration;

fn pod(name: &str) -> PodInfo {
    PodInfo {
        namespace: "default".into(),
        name: name.into(),
        component: Some("pd".into()),
        tidb_cluster: None,
        node: Some("node-1".into()),
        ip: Some("10.0.0.2".into()),
        agent_image: Some("agent:1".into()),
        agent_exposed: false,
        agent_kind: Some(crate::pods::AgentKind::Sidecar),
        agent_container: "netem-agent".into(),
        not_running: None,
        agent_trouble: None,
    }
}

fn state(netem: Option<NetemSpec>) -> NetemState {
    NetemState {
        interface: "eth0".into(),
        root_qdisc: if netem.is_some() { "netem" } else { "none" }.into(),
        netem,
        managed: true,
        expires_at: Some("2026-01-02T03:04:05Z".into()),
        ttl_remaining: Some("9m58s".into()),
        rules: Vec::new(),
    }
}

fn outcomes() -> Vec<Outcome<NetemState>> {
    vec![
        Outcome {
            pod: pod("basic-pd-0"),
            result: Ok(state(Some(NetemSpec::delay(Duration::from_millis(20))))),
        },
        Outcome {
            pod: pod("basic-pd-1"),
            result: Err(PodError::new(Cause::NoNetem, "no sch_netem").hint("modprobe")),
        },
    ]
}

#[test]
fn describes_settings_like_tc() {
    let p = |s| Some(parse_percent(s).unwrap());
    let spec = NetemSpec {
        delay: Some(Duration::from_millis(20)),
        jitter: Some(Duration::from_millis(5)),
        delay_correlation: p("25"),
        distribution: Some(Distribution::Normal),
        loss: p("1"),
        loss_correlation: p("10"),
        reorder: p("5"),
        gap: Some(3),
        rate: Some(parse_rate("1mbit").unwrap()),
        limit: Some(2000),
        ..NetemSpec::default()
    };
    assert_eq!(
        describe_spec(&spec),
        "delay 20ms ±5ms 25% normal loss 1% 10% reorder 5% gap 3 rate 1mbit limit 2000"
    );
    assert_eq!(
        describe_spec(&NetemSpec::default()),
        "netem (no impairment)"
    );
    let mut foreign = state(None);
    assert_eq!(describe_state(&foreign), "none");
    foreign.root_qdisc = "tbf".into();
    assert_eq!(describe_state(&foreign), "tbf (not netem)");
    let rules_only = &with_rules()[0].result;
    assert_eq!(describe_state(rules_only.as_ref().unwrap()), "none");
}

#[test]
fn json_shape_is_pinned() {
    let json = serde_json::to_value(status_list(&outcomes(), None, SystemTime::now())).unwrap();
    assert_eq!(
        json,
        serde_json::json!({"items": [
            {"namespace": "default", "pod": "basic-pd-0", "component": "pd",
             "node": "node-1", "ip": "10.0.0.2", "image": "agent:1", "agent_kind": "sidecar", "exposed": false, "state": "ok",
             "interface": "eth0", "root_qdisc": "netem", "netem": {"delay": "20ms"},
             "settings": "delay 20ms", "managed": true,
             "expires_at": "2026-01-02T03:04:05Z", "ttl_remaining": "9m58s", "error": null,
             "rules": []},
            {"namespace": "default", "pod": "basic-pd-1", "component": "pd",
             "node": "node-1", "ip": "10.0.0.2", "image": "agent:1", "agent_kind": "sidecar", "exposed": false, "state": "error",
             "interface": null, "root_qdisc": null, "netem": null, "settings": null,
             "managed": null, "expires_at": null, "ttl_remaining": null,
             "error": {"cause": "no-netem", "message": "no sch_netem", "hint": "modprobe"},
             "rules": []}
        ]})
    );
    let yaml: serde_json::Value = serde_yaml::from_str(
        &render(
            &status_list(&outcomes(), None, SystemTime::now()),
            Output::Yaml,
            false,
        )
        .unwrap(),
    )
    .unwrap();
    assert_eq!(yaml, json);
}

#[test]
fn table_and_wide() {
    let list = status_list(&outcomes(), None, SystemTime::now());
    let table = render(&list, Output::Table, false).unwrap();
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(
        lines,
        [
            "POD          COMPONENT   INTERFACE   TO    NETEM        TIME LEFT   AGENT",
            "basic-pd-0   pd          eth0        all   delay 20ms   9m58s       ok",
            "basic-pd-1   pd          -           -     -            -           kernel without netem",
        ]
    );
    let wide = render(&list, Output::Wide, true).unwrap();
    assert!(
        wide.lines()
            .next()
            .unwrap()
            .ends_with("NODE     IP         KIND      EXPOSED   IMAGE     ADDRESSES"),
        "{wide}"
    );
    assert!(wide.contains("default/basic-pd-0"), "{wide}");
    assert!(
        wide.contains("10.0.0.2   sidecar   no        agent:1"),
        "{wide}"
    );
}

/// basic-pd-0 with a default and two rules: one to basic-tikv-0 (which has moved since)
/// with 60 s left, and the way back of a rule basic-tidb-0 set.
fn with_rules() -> Vec<Outcome<NetemState>> {
    let rule = |id: &str, about: serde_json::Value, cidr: &str, expires: Option<&str>| Rule {
        id: id.into(),
        to: Destination {
            cidrs: vec![cidr.parse().unwrap()],
            ports: vec![20160],
        },
        netem: NetemSpec::delay(Duration::from_millis(30)),
        about,
        expires_at: expires.map(String::from),
    };
    let mut s = state(None);
    s.root_qdisc = "prio".into();
    s.ttl_remaining = None;
    s.rules = vec![
        rule(
            "to.pod.basic-tikv-0",
            serde_json::json!({"to": "pod/basic-tikv-0", "pods": {"basic-tikv-0": "10.0.0.7"}}),
            "10.0.0.7/32",
            Some("2026-01-02T03:05:05.250Z"),
        ),
        rule(
            "to.pod.basic-tidb-0",
            serde_json::json!({"to": "pod/basic-tidb-0", "pods": {"basic-tidb-0": "10.0.0.9"}, "reverse": true}),
            "10.0.0.9/32",
            None,
        ),
        rule("by-hand", serde_json::Value::Null, "10.1.0.0/16", None),
    ];
    vec![Outcome {
        pod: pod("basic-pd-0"),
        result: Ok(s),
    }]
}

#[test]
fn rules_one_line_each_with_staleness() {
    let current: Addresses = [("basic-tikv-0", "10.0.0.12"), ("basic-tidb-0", "10.0.0.9")]
        .into_iter()
        .map(|(p, ip)| (("default".to_string(), p.to_string()), Some(ip.to_string())))
        .collect();
    let now = UNIX_EPOCH + Duration::from_secs(parse_utc("2026-01-02T03:04:05Z").unwrap());
    let list = status_list(&with_rules(), Some(&current), now);
    let table = render(&list, Output::Table, false).unwrap();
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(
        lines,
        [
            "POD          COMPONENT   INTERFACE   TO                                                         NETEM        TIME LEFT   AGENT",
            "basic-pd-0   pd          eth0        all other                                                  none         -           ok",
            "basic-pd-0   pd          eth0        pod/basic-tikv-0 STALE: basic-tikv-0 10.0.0.7->10.0.0.12   delay 30ms   1m          ok",
            "basic-pd-0   pd          eth0        pod/basic-tidb-0 (way back)                                delay 30ms   -           ok",
            "basic-pd-0   pd          eth0        rule by-hand                                               delay 30ms   -           ok",
        ]
    );
    let wide = render(&list, Output::Wide, false).unwrap();
    assert!(
        wide.lines()
            .nth(2)
            .unwrap()
            .ends_with("agent:1   10.0.0.7/32 port 20160"),
        "{wide}"
    );
    let json = serde_json::to_value(&list).unwrap();
    let rules = &json["items"][0]["rules"];
    assert_eq!(
        rules[0],
        serde_json::json!({"id": "to.pod.basic-tikv-0", "to": "pod/basic-tikv-0", "reverse": false,
            "destination": {"cidrs": ["10.0.0.7/32"], "ports": [20160]},
            "netem": {"delay": "30ms"}, "settings": "delay 30ms",
            "expires_at": "2026-01-02T03:05:05.250Z", "ttl_remaining": "1m",
            "pods": {"basic-tikv-0": "10.0.0.7"}, "stale": true,
            "moved": [{"pod": "basic-tikv-0", "was": "10.0.0.7", "now": "10.0.0.12"}]})
    );
    assert_eq!(rules[1]["stale"], false);
    assert_eq!(rules[1]["reverse"], true);
    assert_eq!(rules[2]["to"], serde_json::Value::Null);
    assert_eq!(
        stale_notes(&list, false),
        [
            "pod/basic-pd-0: the rule to pod/basic-tikv-0 holds old addresses of basic-tikv-0 \
          (moved or gone): run the command that set it again to refresh it"
        ]
    );
    // Without the current addresses, nothing is called stale.
    let unknown = status_list(&with_rules(), None, now);
    assert!(unknown.items[0].rules.iter().all(|r| !r.stale));
}

#[test]
fn utc_times_parse() {
    assert_eq!(parse_utc("1970-01-01T00:00:00Z"), Some(0));
    assert_eq!(parse_utc("2000-03-01T00:00:01.5Z"), Some(951_868_801));
    assert_eq!(parse_utc("2026-13-01T00:00:00Z"), None);
    assert_eq!(parse_utc("2026-01-01 00:00:00Z"), None);
    assert_eq!(parse_utc("soon"), None);
    let later = UNIX_EPOCH + Duration::from_secs(10);
    assert_eq!(
        time_left("1970-01-01T00:00:00Z", later).as_deref(),
        Some("0s")
    );
}
