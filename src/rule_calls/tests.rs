use super::*;
use crate::pods::{AgentKind, Filter};
use std::time::Duration;

fn pod(name: &str, ip: &str, agent: bool) -> PodInfo {
    PodInfo {
        namespace: "default".into(),
        name: name.into(),
        component: None,
        tidb_cluster: Some("basic".into()),
        node: None,
        ip: Some(ip.into()),
        agent_image: agent.then(|| "agent".into()),
        agent_exposed: false,
        agent_kind: agent.then_some(AgentKind::Sidecar),
        agent_container: "netem-agent".into(),
        not_running: None,
        agent_trouble: None,
    }
}

fn named(t: &str) -> SetName {
    SetName::new(
        &[crate::target::parse_target(t).unwrap()],
        &Filter::default(),
        &[],
        &[],
    )
}

fn resolved(pods: Vec<PodInfo>) -> Resolved {
    Resolved {
        name: named("basic-tikv-0"),
        pods,
        cidrs: vec![],
        ports: vec![],
        notes: vec![],
    }
}

fn ids(plan: &Plan) -> Vec<(Side, String, Vec<String>)> {
    plan.steps
        .iter()
        .map(|s| {
            let id = match &s.call {
                AgentCall::SetRule { id, .. } | AgentCall::ClearRule { id } => id.clone(),
                other => format!("{other:?}"),
            };
            (s.side, id, s.pods.iter().map(|p| p.name.clone()).collect())
        })
        .collect()
}

#[test]
fn both_ways_sets_the_reverse_rule_on_every_destination_pod() {
    let a = pod("basic-pd-0", "10.0.0.1", true);
    let b = pod("basic-tikv-0", "10.0.0.2", false);
    let netem = NetemSpec::delay(Duration::from_millis(20));
    let plan = plan_set(
        std::slice::from_ref(&a),
        &named("basic-pd-0"),
        &resolved(vec![b.clone()]),
        &netem,
        Direction::Both,
        "--to",
    )
    .unwrap();
    assert_eq!(
        ids(&plan),
        [
            (
                Side::Sources,
                "to.pod.basic-tikv-0".to_string(),
                vec!["basic-pd-0".to_string()]
            ),
            // The destination without the agent stays in: the fan-out reports it.
            (
                Side::Destinations,
                "to.pod.basic-pd-0".to_string(),
                vec!["basic-tikv-0".to_string()]
            ),
        ]
    );
    let AgentCall::SetRule { rule, .. } = &plan.steps[1].call else {
        panic!()
    };
    assert_eq!(rule.to.cidrs[0].to_string(), "10.0.0.1/32");
    assert_eq!(rule.about["reverse"], true);
    let to = plan_set(
        std::slice::from_ref(&a),
        &named("basic-pd-0"),
        &resolved(vec![b.clone()]),
        &netem,
        Direction::To,
        "--to",
    )
    .unwrap();
    assert_eq!(to.steps.len(), 1);
    let from = plan_set(
        std::slice::from_ref(&a),
        &named("basic-pd-0"),
        &resolved(vec![b.clone()]),
        &netem,
        Direction::From,
        "--to",
    )
    .unwrap();
    assert_eq!(from.steps.len(), 1);
    assert_eq!(from.steps[0].side, Side::Destinations);
}

#[test]
fn what_cannot_be_reversed_or_is_empty_is_refused() {
    let a = pod("basic-pd-0", "10.0.0.1", true);
    let netem = NetemSpec::delay(Duration::from_millis(20));
    let mut cidr_only = resolved(vec![]);
    cidr_only.cidrs = vec!["10.0.0.0/16".parse().unwrap()];
    let err = plan_set(
        std::slice::from_ref(&a),
        &named("basic-pd-0"),
        &cidr_only,
        &netem,
        Direction::Both,
        "--from",
    )
    .unwrap_err();
    assert!(err.contains("--from-port and --from-cidr"), "{err}");
    assert!(err.contains("without --one-way"), "{err}");
    cidr_only.cidrs.clear();
    cidr_only.ports = vec![];
    let err = plan_set(
        std::slice::from_ref(&a),
        &named("basic-pd-0"),
        &cidr_only,
        &netem,
        Direction::From,
        "--to",
    )
    .unwrap_err();
    assert!(err.contains("name pods"), "{err}");
    let err = plan_set(
        std::slice::from_ref(&a),
        &named("basic-pd-0"),
        &resolved(vec![pod("b", "10.0.0.2", true)]),
        &NetemSpec::default(),
        Direction::To,
        "--to",
    )
    .unwrap_err();
    assert!(
        err.contains("kubectl netem clear SOURCE... --to DEST"),
        "{err}"
    );
}

#[test]
fn clear_removes_the_reverse_where_an_agent_can_hold_it() {
    let a = pod("basic-pd-0", "10.0.0.1", true);
    let dest = resolved(vec![
        pod("basic-tikv-0", "10.0.0.2", true),
        pod("basic-tidb-0", "10.0.0.3", false),
    ]);
    let plan = plan_clear(std::slice::from_ref(&a), &named("basic-pd-0"), &dest, None);
    assert_eq!(
        ids(&plan),
        [
            (
                Side::Sources,
                "to.pod.basic-tikv-0".to_string(),
                vec!["basic-pd-0".to_string()]
            ),
            (
                Side::Destinations,
                "to.pod.basic-pd-0".to_string(),
                vec!["basic-tikv-0".to_string()]
            ),
        ]
    );
    let both = plan_clear(
        std::slice::from_ref(&a),
        &named("basic-pd-0"),
        &dest,
        Some(Direction::Both),
    );
    assert_eq!(both.steps[1].pods.len(), 2);
    assert_eq!(
        plan_clear(&[a], &named("basic-pd-0"), &dest, Some(Direction::To))
            .steps
            .len(),
        1
    );
}

#[test]
fn lines_say_what_each_side_got() {
    let a = pod("basic-pd-0", "10.0.0.1", true);
    let netem = NetemSpec {
        ttl: Some(Duration::from_secs(60)),
        ..NetemSpec::delay(Duration::from_millis(20))
    };
    let plan = plan_set(
        std::slice::from_ref(&a),
        &named("basic-pd-0"),
        &resolved(vec![pod("basic-tikv-0", "10.0.0.2", true)]),
        &netem,
        Direction::Both,
        "--to",
    )
    .unwrap();
    assert_eq!(
        ok_line(&plan.steps[0], &RuleAnswer::Done),
        "to pod/basic-tikv-0: delay 20ms (clears in 1m)"
    );
    assert_eq!(
        ok_line(&plan.steps[1], &RuleAnswer::Done),
        "to pod/basic-pd-0 (the way back): delay 20ms (clears in 1m)"
    );
    let clear = plan_clear(&[a], &named("basic-pd-0"), &resolved(vec![]), None);
    assert_eq!(
        ok_line(&clear.steps[0], &RuleAnswer::Absent),
        "no rule to pod/basic-tikv-0 (nothing to remove)"
    );
    assert_eq!(
        ok_line(&clear.steps[0], &RuleAnswer::Done),
        "removed the rule to pod/basic-tikv-0"
    );
}
