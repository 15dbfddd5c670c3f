//! The API as kube-rs (the plugin's client) uses it: server-side apply on a TidbCluster,
//! guarded JSON Patch against a concurrent writer (422 then success), merge patch with a
//! stale resourceVersion (409), dry run, watch, and a missing CRD.

use std::time::Duration;

use futures::{StreamExt, TryStreamExt};
use kube::api::{ApiResource, DynamicObject, Patch, PatchParams, WatchEvent, WatchParams};
use kube::core::GroupVersionKind;
use kube::{Api, Error};
use serde_json::json;

fn tc_api(client: kube::Client) -> Api<DynamicObject> {
    let gvk = GroupVersionKind::gvk("pingcap.com", "v1alpha1", "TidbCluster");
    Api::namespaced_with(
        client,
        "default",
        &ApiResource::from_gvk_with_plural(&gvk, "tidbclusters"),
    )
}

fn code(e: &Error) -> u16 {
    match e {
        Error::Api(s) => s.code,
        other => panic!("not an API error: {other}"),
    }
}

/// Wait until the operator is done (it writes the TidbCluster's status while pods roll, and
/// each write is a new resourceVersion).
async fn settle(c: &netem_testcluster::Cluster) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while c
        .get("pingcap.com/v1alpha1", "TidbCluster", "default", "basic")
        .unwrap()["status"]["conditions"][0]["status"]
        != "True"
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "TidbCluster never Ready"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

pub async fn kube_rs_patches_like_on_a_real_server() {
    let env = crate::common::start(false, false).await;
    let c = &env.cluster;
    c.create(netem_testcluster::basic_tidbcluster("default", "basic"))
        .unwrap();
    let tcs = tc_api(crate::common::client(c).await);

    // Server-side apply: lists atomic, fields owned; another manager conflicts unless forced.
    let applied = json!({"apiVersion": "pingcap.com/v1alpha1", "kind": "TidbCluster", "metadata": {"name": "basic"},
        "spec": {"pd": {"additionalContainers": [{"name": "netem-agent", "image": "a:1"}]}}});
    let out = tcs
        .patch(
            "basic",
            &PatchParams::apply("kubectl-netem"),
            &Patch::Apply(&applied),
        )
        .await
        .unwrap();
    assert_eq!(
        out.data["spec"]["pd"]["additionalContainers"][0]["name"],
        "netem-agent"
    );
    assert_eq!(out.data["spec"]["pd"]["replicas"], 1);
    let mut other = applied.clone();
    other["spec"]["pd"]["additionalContainers"][0]["image"] = json!("b:2");
    let e = tcs
        .patch(
            "basic",
            &PatchParams::apply("someone-else"),
            &Patch::Apply(&other),
        )
        .await
        .unwrap_err();
    assert_eq!(code(&e), 409);
    tcs.patch(
        "basic",
        &PatchParams::apply("someone-else").force(),
        &Patch::Apply(&other),
    )
    .await
    .unwrap();

    settle(c).await;

    // Guarded JSON Patch racing a concurrent writer: the test fails (422), a re-read succeeds.
    c.conflict_next_writes("tidbclusters", "default", "basic", 1);
    let live = tcs.get("basic").await.unwrap();
    let rv = live.metadata.resource_version.clone().unwrap();
    let guarded = |rv: &str| {
        let body = json!([
            {"op": "test", "path": "/metadata/resourceVersion", "value": rv},
            {"op": "add", "path": "/spec/tikv/additionalContainers", "value": [{"name": "netem-agent", "image": "a:1"}]}
        ]);
        hyper::Request::patch("/apis/pingcap.com/v1alpha1/namespaces/default/tidbclusters/basic")
            .header("content-type", "application/json-patch+json")
            .body(serde_json::to_vec(&body).unwrap())
            .unwrap()
    };
    let client = crate::common::client(c).await;
    let e = client
        .request::<DynamicObject>(guarded(&rv))
        .await
        .unwrap_err();
    assert_eq!(code(&e), 422);
    let rv2 = tcs
        .get("basic")
        .await
        .unwrap()
        .metadata
        .resource_version
        .unwrap();
    assert_ne!(rv, rv2);
    let out = client
        .request::<DynamicObject>(guarded(&rv2))
        .await
        .unwrap();
    assert_eq!(
        out.data["spec"]["tikv"]["additionalContainers"][0]["name"],
        "netem-agent"
    );

    // Merge patch carrying a stale resourceVersion: 409.
    let stale = json!({"metadata": {"resourceVersion": rv}, "spec": {"timezone": "UTC"}});
    let e = tcs
        .patch("basic", &PatchParams::default(), &Patch::Merge(&stale))
        .await
        .unwrap_err();
    assert_eq!(code(&e), 409);

    // Dry run returns the result and stores nothing.
    let before = tcs.get("basic").await.unwrap();
    let dry = tcs
        .patch(
            "basic",
            &PatchParams::default().dry_run(),
            &Patch::Merge(&json!({"spec": {"timezone": "Asia/Tokyo"}})),
        )
        .await
        .unwrap();
    assert_eq!(dry.data["spec"]["timezone"], "Asia/Tokyo");
    assert_eq!(
        tcs.get("basic").await.unwrap().data["spec"],
        before.data["spec"]
    );

    // Settable latency: every request takes at least that long.
    c.set_latency(Duration::from_millis(60));
    let t = std::time::Instant::now();
    tcs.get("basic").await.unwrap();
    assert!(
        t.elapsed() >= Duration::from_millis(60),
        "{:?}",
        t.elapsed()
    );
    c.set_latency(Duration::ZERO);

    // The CRD uninstalled: 404 on its paths.
    c.set_tidb_crd_installed(false);
    assert_eq!(code(&tcs.get("basic").await.unwrap_err()), 404);
    c.set_tidb_crd_installed(true);
    env.cluster.shutdown().await;
}

pub async fn watch_streams_changes_from_a_resource_version() {
    let env = crate::common::start(false, false).await;
    let c = &env.cluster;
    c.create(netem_testcluster::basic_tidbcluster("default", "basic"))
        .unwrap();
    let tcs = tc_api(crate::common::client(c).await);
    let rv = tcs
        .get("basic")
        .await
        .unwrap()
        .metadata
        .resource_version
        .unwrap();
    let mut stream = tcs
        .watch(&WatchParams::default().timeout(10), &rv)
        .await
        .unwrap()
        .boxed();
    tcs.patch(
        "basic",
        &PatchParams::default(),
        &Patch::Merge(&json!({"metadata": {"labels": {"x": "1"}}})),
    )
    .await
    .unwrap();
    // The operator's own status writes may come first; the label change must arrive.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let ev = tokio::time::timeout_at(deadline, stream.try_next())
            .await
            .expect("label change not seen")
            .unwrap()
            .expect("stream ended");
        match ev {
            WatchEvent::Modified(o)
                if o.metadata
                    .labels
                    .as_ref()
                    .is_some_and(|l| l.get("x").is_some_and(|v| v == "1")) =>
            {
                break;
            }
            WatchEvent::Modified(_) => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    drop(stream);
    env.cluster.shutdown().await;
}
