//! Proxies as kubectl uses them: `HTTPS_PROXY` (any case), `NO_PROXY`, and a kubeconfig
//! cluster's `proxy-url`, which wins over the environment. A real CONNECT proxy on
//! loopback counts the tunnels it opens.
//!
//! Go never sends a loopback server through an environment proxy, so those tests name
//! the server `kubernetes.default.svc` (in the test cluster's certificate, in no DNS):
//! only the proxy, which maps that name to the cluster's 127.0.0.1, can reach it.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::json;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};

use crate::delay::{add_tidb_cluster, wait_for_agents};
use crate::support::{Env, kubeconfig_json, netem_with_env, start_cluster, write_kubeconfig};

/// The name only the proxy resolves.
const SVC: &str = "kubernetes.default.svc";

/// An HTTP CONNECT proxy: tunnels to `host:port` (`SVC` meaning 127.0.0.1), counting them.
struct ConnectProxy {
    addr: SocketAddr,
    tunnels: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl ConnectProxy {
    async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let addr = listener.local_addr().unwrap();
        let tunnels = Arc::new(AtomicUsize::new(0));
        let counter = tunnels.clone();
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let counter = counter.clone();
                tokio::spawn(async move {
                    let _ = tunnel(client, &counter).await;
                });
            }
        });
        ConnectProxy {
            addr,
            tunnels,
            task,
        }
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn tunnels(&self) -> usize {
        self.tunnels.load(Ordering::SeqCst)
    }
}

impl Drop for ConnectProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn tunnel(mut client: TcpStream, tunnels: &AtomicUsize) -> std::io::Result<()> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") && head.len() < 8192 {
        if client.read(&mut byte).await? == 0 {
            return Ok(());
        }
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head);
    let mut words = head.split_whitespace();
    let (Some("CONNECT"), Some(target)) = (words.next(), words.next()) else {
        client
            .write_all(b"HTTP/1.1 405 Method Not Allowed\r\n\r\n")
            .await?;
        return Ok(());
    };
    let (host, port) = target.rsplit_once(':').unwrap_or((target, "443"));
    let host = if host == SVC { "127.0.0.1" } else { host };
    let Ok(mut upstream) = TcpStream::connect(format!("{host}:{port}")).await else {
        client
            .write_all(b"HTTP/1.1 502 Bad Gateway\r\n\r\n")
            .await?;
        return Ok(());
    };
    tunnels.fetch_add(1, Ordering::SeqCst);
    client
        .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
        .await?;
    tokio::io::copy_bidirectional(&mut client, &mut upstream).await?;
    Ok(())
}

/// The cluster's kubeconfig with the server named `SVC` (same port).
fn svc_kubeconfig(env: &Env) -> String {
    let mut cfg = kubeconfig_json(env);
    let port = env
        .cluster
        .server_url()
        .rsplit(':')
        .next()
        .unwrap()
        .to_string();
    cfg["clusters"][0]["cluster"]["server"] = json!(format!("https://{SVC}:{port}"));
    write_kubeconfig(env, "svc-kubeconfig", &cfg)
}

/// A loopback port nothing listens on.
async fn dead_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    listener.local_addr().unwrap().port()
}

pub async fn https_proxy_no_proxy_and_proxy_url_like_kubectl() {
    let env = start_cluster().await;
    add_tidb_cluster(&env, "default", "basic", &["pd"], 2332);
    wait_for_agents(&env, "default", "basic", 1).await;
    let proxy = ConnectProxy::start().await;
    let svc = svc_kubeconfig(&env);
    let status = ["--kubeconfig", svc.as_str(), "status"];

    // HTTPS_PROXY, upper or lower case: the list and the port-forward (a WebSocket
    // upgrade) both go through the proxy, the only way to the server.
    for var in ["HTTPS_PROXY", "https_proxy"] {
        let before = proxy.tunnels();
        let run = netem_with_env(&status, &[(var, &proxy.url())]).await.ok();
        assert!(run.stdout.contains("basic-pd-0"), "{var}: {run}");
        assert!(proxy.tunnels() > before, "{var}: no tunnel");
    }
    let forwards = env
        .cluster
        .requests()
        .into_iter()
        .filter(|r| r.path.ends_with("/portforward") && r.status == 101)
        .count();
    assert!(forwards >= 2, "port-forwards through the proxy: {forwards}");

    // HTTP_PROXY is for http:// servers only (Go's rule, so kubectl's).
    let before = proxy.tunnels();
    let run = netem_with_env(&status, &[("HTTP_PROXY", &proxy.url())])
        .await
        .failed();
    assert_eq!(proxy.tunnels(), before, "{run}");

    // NO_PROXY covering the server: straight to it (which fails here: the name is in no DNS).
    for no_proxy in [SVC, ".svc", "*", "other.example,.default.svc"] {
        let run = netem_with_env(
            &status,
            &[("HTTPS_PROXY", &proxy.url()), ("NO_PROXY", no_proxy)],
        )
        .await;
        assert_eq!(proxy.tunnels(), before, "NO_PROXY={no_proxy}: {run}");
        assert!(!run.stderr.contains("proxy"), "NO_PROXY={no_proxy}: {run}");
    }
    // ... and not covering it: through the proxy.
    let run = netem_with_env(
        &status,
        &[
            ("HTTPS_PROXY", &proxy.url()),
            ("no_proxy", "other.example,10.0.0.0/8"),
        ],
    )
    .await
    .ok();
    assert!(run.stdout.contains("basic-pd-0"), "{run}");
    assert!(proxy.tunnels() > before);

    // A dead proxy: one line naming it and where it was set.
    let dead = format!("http://127.0.0.1:{}", dead_port().await);
    let run = netem_with_env(&status, &[("HTTPS_PROXY", &dead)])
        .await
        .failed();
    assert!(run.stderr.starts_with("error: "), "{run}");
    assert_eq!(run.stderr.trim_end().lines().count(), 1, "{run}");
    assert!(
        run.stderr
            .contains(&format!("through proxy {dead} (from HTTPS_PROXY)")),
        "{run}"
    );
    // A proxy that is not a URL is refused before anything is contacted.
    let run = netem_with_env(&status, &[("HTTPS_PROXY", "ftp://user:pw@p:21")])
        .await
        .failed();
    assert!(
        run.stderr.contains("HTTPS_PROXY is not a usable proxy URL"),
        "{run}"
    );
    assert!(!run.stderr.contains("pw@"), "{run}");

    // The kubeconfig's proxy-url: used even for the loopback server and despite NO_PROXY,
    // and it wins over HTTPS_PROXY (dead here).
    let mut cfg = kubeconfig_json(&env);
    cfg["clusters"][0]["cluster"]["proxy-url"] = json!(proxy.url());
    let with_proxy_url = write_kubeconfig(&env, "proxy-url-kubeconfig", &cfg);
    let before = proxy.tunnels();
    let run = netem_with_env(
        &["--kubeconfig", &with_proxy_url, "status"],
        &[("HTTPS_PROXY", &dead), ("NO_PROXY", "*")],
    )
    .await
    .ok();
    assert!(run.stdout.contains("basic-pd-0"), "{run}");
    assert!(proxy.tunnels() > before, "proxy-url not used");
    env.cluster.shutdown().await;
}
