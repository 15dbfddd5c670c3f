//! pods/ephemeralcontainers as kube-rs and kubectl use it: what may change (only new
//! entries, valid ones), the real server's 422s, 403 and 404, kubectl debug, and an
//! ephemeral agent in a running pod answering through port-forward.

use std::time::Duration;

use k8s_openapi::api::core::v1::Pod;
use kube::api::{Patch, PatchParams, PostParams};
use kube::{Api, Error};
use netem_api::contract;
use serde_json::{Value, json};

fn err(e: Error) -> (u16, String) {
    match e {
        Error::Api(s) => (s.code, s.message),
        other => panic!("not an API error: {other}"),
    }
}

fn app_pod(name: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": "default"},
           "spec": {"containers": [{"name": "app", "image": "busybox:1.36"}],
                    "volumes": [{"name": "scratch", "emptyDir": {}}]}})
}

/// The agent as an ephemeral container may carry it: the one definition in netem-api,
/// without what ephemeral containers may not have (resources, probes) and without the
/// volume mount (an existing pod has no agent volume).
fn ephemeral_agent(name: &str) -> Value {
    let mut c = contract::container(contract::DEFAULT_IMAGE);
    let m = c.as_object_mut().unwrap();
    for f in [
        "resources",
        "readinessProbe",
        "livenessProbe",
        "volumeMounts",
    ] {
        m.remove(f);
    }
    c["name"] = json!(name);
    c
}

fn add(c: &Value) -> Patch<Value> {
    Patch::Json(
        serde_json::from_value(
            json!([{"op": "add", "path": "/spec/ephemeralContainers/-", "value": c}]),
        )
        .unwrap(),
    )
}

pub async fn kube_rs_adds_ephemeral_containers_within_the_real_rules() {
    let env = crate::common::start(false, false).await;
    let c = &env.cluster;
    c.create(app_pod("app-0")).unwrap();
    c.wait_ready("default", &["app-0"], Duration::from_secs(10))
        .await
        .unwrap();
    let client = crate::common::client(c).await;
    let pods: Api<Pod> = Api::default_namespaced(client.clone());
    let pp = PatchParams::default();
    let before = pods.get("app-0").await.unwrap();

    // Discovery advertises the subresource with the real verbs.
    let core = client.list_core_api_resources("v1").await.unwrap();
    let sub = core
        .resources
        .iter()
        .find(|r| r.name == "pods/ephemeralcontainers")
        .expect("pods/ephemeralcontainers in discovery");
    assert_eq!(sub.kind, "Pod");
    assert_eq!(sub.verbs, ["get", "patch", "update"]);

    // The first entry: a JSON Patch creating the list; defaults filled in.
    let first = json!([{"op": "add", "path": "/spec/ephemeralContainers", "value": [ephemeral_agent("netem-agent-2")]}]);
    let out = pods
        .patch_ephemeral_containers(
            "app-0",
            &pp,
            &Patch::Json::<Value>(serde_json::from_value(first).unwrap()),
        )
        .await
        .unwrap();
    let ecs = out
        .spec
        .as_ref()
        .unwrap()
        .ephemeral_containers
        .clone()
        .unwrap();
    assert_eq!(ecs[0].name, "netem-agent-2");
    assert_eq!(ecs[0].termination_message_policy.as_deref(), Some("File"));
    assert_eq!(out.metadata.uid, before.metadata.uid);

    // Strategic merge (as kubectl debug sends it) appends by name.
    let dbg = json!({"name": "dbg", "image": "busybox:1.36", "targetContainerName": "app",
                     "volumeMounts": [{"name": "scratch", "mountPath": "/scratch"}]});
    let out = pods
        .patch_ephemeral_containers(
            "app-0",
            &pp,
            &Patch::Strategic(json!({"spec": {"ephemeralContainers": [dbg]}})),
        )
        .await
        .unwrap();
    let names: Vec<String> = out
        .spec
        .unwrap()
        .ephemeral_containers
        .unwrap()
        .into_iter()
        .map(|e| e.name)
        .collect();
    assert_eq!(names, ["netem-agent-2", "dbg"]);

    // Only spec.ephemeralContainers changes through the subresource: the rest is ignored.
    let sneaky = json!([
        {"op": "replace", "path": "/spec/containers/0/image", "value": "evil:1"},
        {"op": "add", "path": "/metadata/labels", "value": {"x": "y"}},
        {"op": "add", "path": "/spec/ephemeralContainers/-", "value": {"name": "dbg2", "image": "busybox:1.36"}}
    ]);
    let out = pods
        .patch_ephemeral_containers(
            "app-0",
            &pp,
            &Patch::Json::<Value>(serde_json::from_value(sneaky).unwrap()),
        )
        .await
        .unwrap();
    assert_eq!(
        out.spec.as_ref().unwrap().containers[0].image.as_deref(),
        Some("busybox:1.36")
    );
    assert!(out.metadata.labels.is_none());
    let got = pods.get_ephemeral_containers("app-0").await.unwrap();
    assert_eq!(got.spec.unwrap().ephemeral_containers.unwrap().len(), 3);

    // Changed or removed entries: 422 with the real wording.
    let changed = json!([{"op": "replace", "path": "/spec/ephemeralContainers/1/image", "value": "busybox:1.37"}]);
    let (code, msg) = err(pods
        .patch_ephemeral_containers(
            "app-0",
            &pp,
            &Patch::Json::<Value>(serde_json::from_value(changed).unwrap()),
        )
        .await
        .unwrap_err());
    assert_eq!(code, 422);
    assert!(msg.starts_with("Pod \"app-0\" is invalid: spec.ephemeralContainers: Forbidden: existing ephemeral containers \"dbg\" may not be changed\n"), "{msg}");
    let removed = json!([{"op": "remove", "path": "/spec/ephemeralContainers/2"}]);
    let (code, msg) = err(pods
        .patch_ephemeral_containers(
            "app-0",
            &pp,
            &Patch::Json::<Value>(serde_json::from_value(removed).unwrap()),
        )
        .await
        .unwrap_err());
    assert_eq!(code, 422);
    assert!(
        msg.contains("existing ephemeral containers \"dbg2\" may not be removed"),
        "{msg}"
    );

    // Names are unique across containers, init containers and ephemeral containers.
    let (code, msg) = err(pods
        .patch_ephemeral_containers(
            "app-0",
            &pp,
            &add(&json!({"name": "app", "image": "busybox:1.36"})),
        )
        .await
        .unwrap_err());
    assert_eq!(code, 422);
    assert_eq!(
        msg,
        "Pod \"app-0\" is invalid: spec.ephemeralContainers[3].name: Duplicate value: \"app\""
    );

    // The agent container exactly as `inject` adds it has fields ephemeral containers may
    // not have (resources), and mounts a volume this pod lacks; the ephemeral form has
    // neither (contract::ephemeral_container) and is accepted below.
    let (code, msg) = err(pods
        .patch_ephemeral_containers(
            "app-0",
            &pp,
            &add(&contract::container(contract::DEFAULT_IMAGE)),
        )
        .await
        .unwrap_err());
    assert_eq!(code, 422);
    for want in [
        "spec.ephemeralContainers[3].volumeMounts[0].name: Not found: \"netem-agent-run\"",
        "spec.ephemeralContainers[3].resources: Forbidden: cannot be set for an Ephemeral Container",
    ] {
        assert!(msg.contains(want), "{want} not in {msg}");
    }
    let sub_path = json!({"name": "dbg3", "image": "busybox:1.36", "ports": [{"containerPort": 80}],
                          "volumeMounts": [{"name": "scratch", "mountPath": "/s", "subPath": "a"}]});
    let (code, msg) = err(pods
        .patch_ephemeral_containers("app-0", &pp, &add(&sub_path))
        .await
        .unwrap_err());
    assert_eq!(code, 422);
    assert_eq!(
        msg,
        "Pod \"app-0\" is invalid: [spec.ephemeralContainers[3].ports: Forbidden: cannot be set for an Ephemeral Container, spec.ephemeralContainers[3].volumeMounts[0].subPath: Forbidden: cannot be set for an Ephemeral Container]"
    );

    // Not through the pod itself, not on create.
    let (code, msg) = err(pods
        .patch(
            "app-0",
            &pp,
            &add(&json!({"name": "dbg4", "image": "busybox:1.36"})),
        )
        .await
        .unwrap_err());
    assert_eq!(code, 422);
    assert!(msg.starts_with("Pod \"app-0\" is invalid: spec: Forbidden: pod updates may not change fields other than"), "{msg}");
    let mut with = app_pod("app-1");
    with["spec"]["ephemeralContainers"] = json!([{"name": "dbg", "image": "busybox:1.36"}]);
    let (code, msg) = err(pods
        .create(
            &PostParams::default(),
            &serde_json::from_value(with).unwrap(),
        )
        .await
        .unwrap_err());
    assert_eq!(code, 422);
    assert_eq!(
        msg,
        "Pod \"app-1\" is invalid: spec.ephemeralContainers: Forbidden: cannot be set on create"
    );

    // PUT of the subresource with a stale resourceVersion: 409; a fresh one works.
    let mut stale = pods.get_ephemeral_containers("app-0").await.unwrap();
    let fresh = stale.clone();
    stale.metadata.resource_version = before.metadata.resource_version.clone();
    stale
        .spec
        .as_mut()
        .unwrap()
        .ephemeral_containers
        .as_mut()
        .unwrap()
        .push(serde_json::from_value(json!({"name": "dbg5", "image": "busybox:1.36"})).unwrap());
    let (code, _) = err(pods
        .replace_ephemeral_containers("app-0", &PostParams::default(), &stale)
        .await
        .unwrap_err());
    assert_eq!(code, 409);
    let mut next = fresh;
    next.spec
        .as_mut()
        .unwrap()
        .ephemeral_containers
        .as_mut()
        .unwrap()
        .push(serde_json::from_value(json!({"name": "dbg5", "image": "busybox:1.36"})).unwrap());
    pods.replace_ephemeral_containers("app-0", &PostParams::default(), &next)
        .await
        .unwrap();

    // No such pod: 404. Denied: 403 with the authorizer's wording.
    let (code, msg) = err(pods.get_ephemeral_containers("nope").await.unwrap_err());
    assert_eq!((code, msg.as_str()), (404, "pods \"nope\" not found"));
    c.deny("patch", "pods/ephemeralcontainers");
    let (code, msg) = err(pods
        .patch_ephemeral_containers(
            "app-0",
            &pp,
            &add(&json!({"name": "dbg6", "image": "busybox:1.36"})),
        )
        .await
        .unwrap_err());
    assert_eq!(code, 403);
    assert_eq!(
        msg,
        "pods \"app-0\" is forbidden: User \"testcluster-user\" cannot patch resource \"pods/ephemeralcontainers\" in API group \"\" in the namespace \"default\""
    );
    c.allow_all();

    // No pod restart: same uid, the app container never restarted, statuses reported.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let pod = loop {
        let p = pods.get("app-0").await.unwrap();
        let n = p
            .status
            .as_ref()
            .and_then(|s| s.ephemeral_container_statuses.as_ref())
            .map_or(0, Vec::len);
        if n == 4 {
            break p;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "ephemeral statuses not reported"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(pod.metadata.uid, before.metadata.uid);
    let st = pod.status.unwrap();
    assert_eq!(st.container_statuses.unwrap()[0].restart_count, 0);
    for e in st.ephemeral_container_statuses.unwrap() {
        assert!(!e.ready, "{e:?}");
        assert_eq!(e.restart_count, 0);
        assert!(e.state.unwrap().running.is_some());
    }
    // What `inject --ephemeral` sends is within the rules.
    let agent =
        contract::ephemeral_container(contract::DEFAULT_IMAGE, &contract::ephemeral_name(1));
    pods.patch_ephemeral_containers("app-0", &pp, &add(&agent))
        .await
        .expect("the contract's ephemeral agent is accepted");
    env.cluster.shutdown().await;
}

pub async fn kubectl_debug_adds_an_ephemeral_container() {
    let env = crate::common::start(false, false).await;
    let c = &env.cluster;
    let kc = c.kubeconfig().to_path_buf();
    c.create(app_pod("app-0")).unwrap();
    c.wait_ready("default", &["app-0"], Duration::from_secs(10))
        .await
        .unwrap();
    let out = crate::kubectl::kubectl(
        &kc,
        &[
            "debug",
            "app-0",
            "--image=busybox:1.36",
            "--target=app",
            "-c",
            "dbg",
            "--profile=general",
        ],
    );
    assert!(out.ok, "{} {}", out.stdout, out.stderr);
    let patch = c
        .requests()
        .into_iter()
        .find(|r| r.path.ends_with("/ephemeralcontainers"))
        .expect("kubectl debug used the subresource");
    assert_eq!(patch.method, "PATCH");
    assert_eq!(
        patch.content_type.as_deref(),
        Some("application/strategic-merge-patch+json")
    );
    let jsonpath = "-o=jsonpath={.status.ephemeralContainerStatuses[0].name} {.status.ephemeralContainerStatuses[0].ready} {.status.ephemeralContainerStatuses[0].restartCount}";
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let out = crate::kubectl::kubectl(&kc, &["get", "pod", "app-0", jsonpath]);
        if out.stdout == "dbg false 0" {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{} {}",
            out.stdout,
            out.stderr
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let out = crate::kubectl::kubectl(
        &kc,
        &[
            "get",
            "pod",
            "app-0",
            "-o=jsonpath={.spec.ephemeralContainers[0].targetContainerName}",
        ],
    );
    assert_eq!(out.stdout, "app", "{}", out.stderr);
    env.cluster.shutdown().await;
}

pub async fn an_ephemeral_agent_answers_through_port_forward_and_is_never_restarted() {
    let env = crate::common::start(true, true).await;
    let c = &env.cluster;
    c.create(app_pod("app-0")).unwrap();
    c.wait_ready("default", &["app-0"], Duration::from_secs(10))
        .await
        .unwrap();
    let pods: Api<Pod> = Api::default_namespaced(crate::common::client(c).await);
    let uid = pods.get("app-0").await.unwrap().metadata.uid;
    let pp = PatchParams::default();
    pods.patch_ephemeral_containers(
        "app-0",
        &pp,
        &Patch::Strategic(
            json!({"spec": {"ephemeralContainers": [ephemeral_agent("netem-agent-2")]}}),
        ),
    )
    .await
    .unwrap();
    let state = |name: &'static str| {
        let pods = pods.clone();
        async move {
            pods.get("app-0")
                .await
                .unwrap()
                .status
                .and_then(|s| s.ephemeral_container_statuses)
                .and_then(|v| v.into_iter().find(|e| e.name == name))
                .and_then(|e| e.state)
        }
    };
    // Running, and answering on the pod's loopback through port-forward.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        if state("netem-agent-2")
            .await
            .is_some_and(|s| s.running.is_some())
            && let Ok((200, _)) = crate::portforward::try_http_get(&pods, "app-0", "/v1/info").await
        {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "ephemeral agent never answered"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // A second agent on the same port cannot bind: it exits and stays terminated.
    pods.patch_ephemeral_containers(
        "app-0",
        &pp,
        &Patch::Strategic(
            json!({"spec": {"ephemeralContainers": [ephemeral_agent("netem-agent-3")]}}),
        ),
    )
    .await
    .unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let t = loop {
        if let Some(t) = state("netem-agent-3").await.and_then(|s| s.terminated) {
            break t;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "second agent never terminated"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_ne!(t.exit_code, 0);
    assert_eq!(t.reason.as_deref(), Some("Error"));
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let pod = pods.get("app-0").await.unwrap();
    assert_eq!(pod.metadata.uid, uid);
    let st = pod.status.unwrap();
    let third = st
        .ephemeral_container_statuses
        .unwrap()
        .into_iter()
        .find(|e| e.name == "netem-agent-3")
        .unwrap();
    assert!(third.state.unwrap().terminated.is_some());
    assert_eq!(third.restart_count, 0);
    assert_eq!(st.container_statuses.unwrap()[0].restart_count, 0);
    // The first agent still answers.
    let (code, _) = crate::portforward::try_http_get(&pods, "app-0", "/healthz")
        .await
        .unwrap();
    assert_eq!(code, 200);
    env.cluster.shutdown().await;
}
