use super::*;

fn pod(json: serde_json::Value) -> Pod {
    serde_json::from_value(json).unwrap()
}

fn basic_pd(agent: bool, phase: &str) -> Pod {
    let mut containers = vec![serde_json::json!({"name": "pd", "image": "pingcap/pd"})];
    if agent {
        containers.push(serde_json::json!({"name": "netem-agent", "image": "agent:1"}));
    }
    pod(serde_json::json!({
        "metadata": {"name": "basic-pd-0", "namespace": "default", "labels": {
            "app.kubernetes.io/instance": "basic",
            "app.kubernetes.io/component": "pd",
            "app.kubernetes.io/managed-by": "tidb-operator"}},
        "spec": {"nodeName": "node-1", "containers": containers},
        "status": {"phase": phase, "podIP": "10.0.0.2"}
    }))
}

#[test]
fn pod_info_reads_agent_and_placement() {
    let info = pod_info(&basic_pd(true, "Running"));
    assert_eq!(info.name, "basic-pd-0");
    assert_eq!(info.component.as_deref(), Some("pd"));
    assert_eq!(info.node.as_deref(), Some("node-1"));
    assert_eq!(info.ip.as_deref(), Some("10.0.0.2"));
    assert_eq!(info.agent_image.as_deref(), Some("agent:1"));
    assert_eq!(info.not_running, None);
    let without = pod_info(&basic_pd(false, "Pending"));
    assert!(!without.has_agent());
    assert_eq!(
        without.not_running.as_deref(),
        Some("the pod is Pending, not Running")
    );
}

#[test]
fn native_sidecar_counts_as_agent() {
    let p = pod(serde_json::json!({
        "metadata": {"name": "p", "namespace": "n"},
        "spec": {"containers": [{"name": "app"}],
                 "initContainers": [{"name": "netem-agent", "image": "a", "restartPolicy": "Always"}]},
        "status": {"phase": "Running", "initContainerStatuses": [{"name": "netem-agent",
            "image": "a", "imageID": "", "ready": false, "restartCount": 3,
            "state": {"waiting": {"reason": "CrashLoopBackOff"}}}]}
    }));
    let info = pod_info(&p);
    assert!(info.has_agent());
    assert_eq!(
        info.agent_trouble.as_deref(),
        Some("waiting: CrashLoopBackOff")
    );
}

#[test]
fn ephemeral_agents_count_newest_running_first() {
    let status = |name: &str, state: serde_json::Value| {
        serde_json::json!({"name": name, "image": "a", "imageID": "", "ready": false,
            "restartCount": 0, "state": state})
    };
    let p = |statuses: Vec<serde_json::Value>| {
        pod(serde_json::json!({
            "metadata": {"name": "p", "namespace": "n"},
            "spec": {"containers": [{"name": "app"}],
                     "ephemeralContainers": [
                         {"name": "debugger", "image": "busybox"},
                         {"name": "netem-agent-1", "image": "agent:1"},
                         {"name": "netem-agent-2", "image": "agent:2"}]},
            "status": {"phase": "Running", "ephemeralContainerStatuses": statuses}
        }))
    };
    let done = serde_json::json!({"terminated": {"exitCode": 0, "reason": "Completed"}});
    let running = serde_json::json!({"running": {}});
    // The first one still runs, the second stopped: the running one is the agent.
    let info = pod_info(&p(vec![
        status("netem-agent-1", running.clone()),
        status("netem-agent-2", done.clone()),
    ]));
    assert_eq!(info.agent_kind, Some(AgentKind::Ephemeral));
    assert_eq!(info.agent_container, "netem-agent-1");
    assert_eq!(info.agent_image.as_deref(), Some("agent:1"));
    assert_eq!(info.agent_trouble, None);
    assert!(info.logs_hint().ends_with("-c netem-agent-1"));
    // None runs: the newest that failed, with why; one stopped by eject (exit 0) is gone.
    let failed = serde_json::json!({"terminated": {"exitCode": 3, "reason": "Error"}});
    let info = pod_info(&p(vec![
        status("netem-agent-1", failed),
        status("netem-agent-2", done.clone()),
    ]));
    assert_eq!(info.agent_container, "netem-agent-1");
    assert_eq!(info.agent_trouble.as_deref(), Some("terminated: Error"));
    let info = pod_info(&p(vec![
        status("netem-agent-1", done.clone()),
        status("netem-agent-2", done),
    ]));
    assert!(!info.has_agent(), "every ephemeral agent was stopped");
    // A sidecar agent wins over ephemeral ones.
    let mut both = p(vec![status("netem-agent-1", running)]);
    both.spec.as_mut().unwrap().containers.push(Container {
        name: "netem-agent".into(),
        image: Some("agent:side".into()),
        ..Container::default()
    });
    let info = pod_info(&both);
    assert_eq!(info.agent_kind, Some(AgentKind::Sidecar));
    assert_eq!(info.agent_image.as_deref(), Some("agent:side"));
}

#[test]
fn selectors_combine_group_component_and_user_terms() {
    let base = tidb_cluster_terms("basic");
    assert_eq!(
        label_selector(&base, &Filter::default()),
        "app.kubernetes.io/instance=basic,app.kubernetes.io/managed-by=tidb-operator"
    );
    let f = Filter {
        components: vec!["pd".into(), "tikv".into()],
        selector: Some("zone=a".into()),
    };
    assert_eq!(
        label_selector(&base, &f),
        "app.kubernetes.io/instance=basic,app.kubernetes.io/managed-by=tidb-operator,\
         app.kubernetes.io/component in (pd,tikv),zone=a"
    );
    let one = Filter {
        components: vec!["pd".into()],
        selector: None,
    };
    assert_eq!(label_selector(&[], &one), "app.kubernetes.io/component=pd");
    assert_eq!(label_selector(&[], &Filter::default()), "");
}

#[test]
fn statefulset_selector_terms() {
    let sel: LabelSelector = serde_json::from_value(serde_json::json!({
        "matchLabels": {"app": "web"},
        "matchExpressions": [
            {"key": "tier", "operator": "In", "values": ["a", "b"]},
            {"key": "canary", "operator": "DoesNotExist"}
        ]
    }))
    .unwrap();
    assert_eq!(
        selector_terms(&sel).unwrap(),
        vec!["app=web", "tier in (a,b)", "!canary"]
    );
    assert!(selector_terms(&LabelSelector::default()).is_err());
}

#[test]
fn groups_keep_agent_pods_and_note_the_rest() {
    let mut other = pod_info(&basic_pd(false, "Running"));
    other.name = "basic-tidb-0".into();
    let both = vec![pod_info(&basic_pd(true, "Running")), other.clone()];
    let s = group_selection(
        "tidb-cluster/basic",
        "default",
        "sel",
        both.clone(),
        MissingAgent::Refuse,
    )
    .unwrap();
    assert_eq!(s.pods.len(), 1);
    assert!(s.notes[0].contains("basic-tidb-0"), "{:?}", s.notes);
    // Destinations keep every pod, agent or not.
    let kept = group_selection("tc/basic", "default", "sel", both, MissingAgent::Keep).unwrap();
    assert_eq!(kept.pods.len(), 2);
    assert!(kept.notes.is_empty());
    let err = group_selection(
        "tidb-cluster/basic",
        "default",
        "sel",
        vec![other],
        MissingAgent::Refuse,
    )
    .unwrap_err();
    assert!(
        err.to_string()
            .contains("kubectl netem inject tidb-cluster/basic"),
        "{err}"
    );
    let err = group_selection(
        "tidb-cluster/x",
        "default",
        "sel",
        vec![],
        MissingAgent::Keep,
    )
    .unwrap_err();
    assert!(err.to_string().contains("no pods"), "{err}");
}

#[test]
fn filters_are_refused_with_pod_names() {
    let pod = |n: &str| Target::Pod(n.into());
    let tc = Target::TidbCluster("basic".into());
    let component = Filter {
        components: vec!["pd".into()],
        selector: None,
    };
    let selector = Filter {
        components: Vec::new(),
        selector: Some("zone=a".into()),
    };
    let err = check_filter_applies(&[pod("basic-pd-0"), tc.clone()], &component).unwrap_err();
    assert!(err.to_string().contains("(basic-pd-0)"), "{err}");
    assert!(check_filter_applies(&[pod("basic-pd-0")], &selector).is_err());
    assert!(check_filter_applies(std::slice::from_ref(&tc), &component).is_ok());
    assert!(check_filter_applies(&[pod("basic-pd-0")], &Filter::default()).is_ok());
    let blank = Filter {
        components: Vec::new(),
        selector: Some(" ".into()),
    };
    assert!(check_filter_applies(&[pod("basic-pd-0")], &blank).is_ok());
}

#[test]
fn inject_hint_names_the_cluster() {
    let info = pod_info(&basic_pd(false, "Running"));
    assert_eq!(info.tidb_cluster.as_deref(), Some("basic"));
    assert!(info.inject_hint().contains("tidb-cluster/basic"));
}
