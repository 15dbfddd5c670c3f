//! pods/portforward with kube-rs 5 (the plugin's client): a round trip to a server inside the
//! pod's network namespace, the kubelet-style error for a refused dial, RBAC 403, 404, and
//! the real agent answering over the forwarded stream. Needs root (network namespaces).

use std::io::{Read, Write};
use std::time::Duration;

use k8s_openapi::api::core::v1::Pod;
use kube::Api;
use nix::sched::CloneFlags;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A TCP echo server on 127.0.0.1:`port` inside netns `name` (a thread that entered it).
fn echo_in_netns(name: &str, port: u16) {
    let path = format!("/run/netns/{name}");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let f = std::fs::File::open(&path).unwrap();
        nix::sched::setns(&f, CloneFlags::CLONE_NEWNET).unwrap();
        let l = std::net::TcpListener::bind(("127.0.0.1", port)).unwrap();
        tx.send(()).unwrap();
        for s in l.incoming() {
            let Ok(mut s) = s else { continue };
            let mut buf = [0u8; 1024];
            while let Ok(n) = s.read(&mut buf) {
                if n == 0 || s.write_all(&buf[..n]).is_err() {
                    break;
                }
            }
        }
    });
    rx.recv().unwrap();
}

fn plain_pod(name: &str) -> serde_json::Value {
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": "default", "labels": {"app": "echo"}},
           "spec": {"containers": [{"name": "app", "image": "busybox"}]}})
}

pub async fn forwards_into_the_pod_namespace_and_reports_like_a_kubelet() {
    let env = crate::common::start(true, false).await;
    let c = &env.cluster;
    c.create(plain_pod("echo-0")).unwrap();
    c.wait_ready("default", &["echo-0"], Duration::from_secs(10))
        .await
        .unwrap();
    let netns = c.pod_netns("default", "echo-0").expect("pod netns");
    echo_in_netns(&netns, 2332);
    let pods: Api<Pod> = Api::default_namespaced(crate::common::client(c).await);

    // Round trip through the WebSocket into the pod's namespace (nothing listens on the
    // host's 127.0.0.1:2332, so an answer proves the dial happened inside the pod).
    let mut pf = pods
        .portforward("echo-0", &[2332])
        .await
        .expect("portforward");
    let mut s = pf.take_stream(2332).unwrap();
    s.write_all(b"hello through the pod").await.unwrap();
    let mut buf = [0u8; 21];
    tokio::time::timeout(Duration::from_secs(5), s.read_exact(&mut buf))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(&buf, b"hello through the pod");
    drop(s);
    pf.join().await.unwrap();
    let rec = c
        .requests()
        .into_iter()
        .find(|r| r.path.ends_with("/portforward"))
        .unwrap();
    assert_eq!(rec.status, 101);
    assert!(rec.query.contains("ports=2332"), "{rec:?}");

    // A port nobody listens on: the error channel carries the kubelet's message.
    let mut pf = pods
        .portforward("echo-0", &[2333])
        .await
        .expect("portforward");
    let err = tokio::time::timeout(Duration::from_secs(5), pf.take_error(2333).unwrap())
        .await
        .unwrap();
    let err = err.expect("an error message");
    assert!(
        err.starts_with("error forwarding port 2333 to pod "),
        "{err}"
    );
    assert!(
        err.contains("failed to connect to localhost:2333 inside namespace"),
        "{err}"
    );
    assert!(err.contains("connection refused"), "{err}");
    drop(pf);

    // Unknown pod: 404. Denied: 403 before any upgrade.
    let e = pods.portforward("nope", &[2332]).await.err().expect("404");
    assert!(
        e.to_string().contains("404") || e.to_string().contains("not found"),
        "{e}"
    );
    c.deny("create", "pods/portforward");
    let e = pods
        .portforward("echo-0", &[2332])
        .await
        .err()
        .expect("403");
    assert!(
        e.to_string().contains("403") || e.to_string().contains("Forbidden"),
        "{e}"
    );
    let denied = c
        .requests()
        .into_iter()
        .rev()
        .find(|r| r.path.ends_with("/portforward"))
        .unwrap();
    assert_eq!(denied.status, 403);
    c.allow_all();

    // The pod's IP answers from the node namespace's bridge.
    let ip = c.pod_ip("default", "echo-0").unwrap();
    let ping = std::process::Command::new("ip")
        .args([
            "netns",
            "exec",
            &c.node_netns().unwrap(),
            "ping",
            "-c",
            "1",
            "-W",
            "2",
            &ip.to_string(),
        ])
        .output()
        .unwrap();
    assert!(
        ping.status.success(),
        "{}",
        String::from_utf8_lossy(&ping.stdout)
    );

    // Deleting the pod removes its namespace.
    pods.delete("echo-0", &Default::default()).await.unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while c.get("v1", "Pod", "default", "echo-0").is_some() {
        assert!(tokio::time::Instant::now() < deadline, "pod not removed");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(!std::path::Path::new(&format!("/run/netns/{netns}")).exists());
    env.cluster.shutdown().await;
}

pub async fn the_real_agent_answers_through_port_forward() {
    let env = crate::common::start(true, true).await;
    let c = &env.cluster;
    c.create(netem_testcluster::tidb::tidbcluster_with_agents(
        "default", "basic", 3,
    ))
    .unwrap();
    c.wait_ready(
        "default",
        &["basic-pd-0", "basic-tikv-0", "basic-tidb-0"],
        Duration::from_secs(30),
    )
    .await
    .unwrap();
    let pods: Api<Pod> = Api::default_namespaced(crate::common::client(c).await);
    let (code, info) = http_get(&pods, "basic-pd-0", "/v1/info").await;
    assert_eq!(code, 200);
    let info: serde_json::Value = serde_json::from_str(&info).unwrap();
    assert_eq!(info["interface"], "eth0");
    // On a kernel without sch_netem (the host here) the agent says so with 503.
    let (code, body) = http_get(&pods, "basic-tikv-0", "/latency/20ms").await;
    if info["netem_available"] == false {
        assert_eq!(code, 503, "{body}");
        assert!(body.contains("sch_netem"), "{body}");
    } else {
        assert_eq!(code, 200, "{body}");
    }
    // The kubelet hop's latency is paid by a port-forward's set-up, not by a plain GET.
    c.set_kubelet_latency(Duration::from_millis(150));
    let t = std::time::Instant::now();
    pods.get("basic-pd-0").await.unwrap();
    assert!(
        t.elapsed() < Duration::from_millis(150),
        "GET took {:?}",
        t.elapsed()
    );
    let t = std::time::Instant::now();
    let (code, _) = http_get(&pods, "basic-pd-0", "/healthz").await;
    assert_eq!(code, 200);
    assert!(
        t.elapsed() >= Duration::from_millis(150),
        "port-forward took {:?}",
        t.elapsed()
    );
    c.set_kubelet_latency(Duration::ZERO);
    env.cluster.shutdown().await;
}

pub async fn an_agent_container_without_an_agent_binary_is_not_ready() {
    let env = crate::common::start(true, false).await;
    let c = &env.cluster;
    c.create(netem_testcluster::tidb::tidbcluster_with_agents(
        "default", "basic", 1,
    ))
    .unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let status = loop {
        let st = c
            .get("v1", "Pod", "default", "basic-pd-0")
            .map(|p| p["status"].clone());
        if let Some(st) = st.filter(|s| s["containerStatuses"].is_array()) {
            break st;
        }
        assert!(tokio::time::Instant::now() < deadline, "pod never started");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let agent = status["containerStatuses"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "netem-agent")
        .unwrap()
        .clone();
    assert_eq!(agent["ready"], false);
    assert_eq!(agent["state"]["waiting"]["reason"], "ImagePullBackOff");
    assert!(
        c.wait_ready("default", &["basic-pd-0"], Duration::from_millis(500))
            .await
            .is_err()
    );
    env.cluster.shutdown().await;
}

/// One HTTP/1.1 GET over a fresh port-forward to the agent; (status, body).
async fn http_get(pods: &Api<Pod>, pod: &str, path: &str) -> (u16, String) {
    try_http_get(pods, pod, path)
        .await
        .expect("GET through port-forward")
}

/// [`http_get`], failing softly (nothing listening yet, a refused port-forward).
pub async fn try_http_get(pods: &Api<Pod>, pod: &str, path: &str) -> Result<(u16, String), String> {
    let mut pf = pods
        .portforward(pod, &[2332])
        .await
        .map_err(|e| e.to_string())?;
    let mut s = pf.take_stream(2332).ok_or("no stream")?;
    let req = format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    s.write_all(req.as_bytes())
        .await
        .map_err(|e| e.to_string())?;
    let mut resp = String::new();
    tokio::time::timeout(Duration::from_secs(5), s.read_to_string(&mut resp))
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())?;
    let code = resp
        .get(9..12)
        .and_then(|c| c.parse().ok())
        .ok_or(format!("no HTTP answer: {resp:?}"))?;
    let body = resp
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    Ok((code, body))
}
