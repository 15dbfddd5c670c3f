//! The public face: start a cluster, seed it, steer it (RBAC denials, concurrent writers),
//! inspect it, shut it down.

use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, bail};
use serde_json::{Value, json};
use tokio::task::JoinHandle;

use crate::controllers;
use crate::kubeconfig;
use crate::pods::kubelet::{Kubelet, KubeletConfig};
use crate::pods::netns;
use crate::resources::{NAMESPACES, PODS, Resource};
use crate::state::{RequestRecord, Shared, lock};
use crate::store::Store;
use crate::tls;

/// How to start a cluster (contract B).
#[derive(Debug, Clone)]
pub struct ClusterConfig {
    /// kubeconfig, certs, per-pod state dirs live here.
    pub dir: PathBuf,
    /// Real netem-agent run for containers named "netem-agent".
    pub agent_bin: Option<PathBuf>,
    /// Added to every API request (models a real server).
    pub latency: Duration,
    /// Pods as netns (needs root); false = pods without network (no processes run).
    pub network: bool,
}

impl ClusterConfig {
    /// Defaults: no agent, no latency, networking on.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        ClusterConfig {
            dir: dir.into(),
            agent_bin: None,
            latency: Duration::ZERO,
            network: true,
        }
    }
}

/// A running test cluster.
pub struct Cluster {
    shared: Arc<Shared>,
    kubelet: Arc<Kubelet>,
    kubeconfig: PathBuf,
    server_url: String,
    node_netns: Option<String>,
    prefix: String,
    tasks: Mutex<Vec<JoinHandle<()>>>,
    down: AtomicBool,
}

static CLUSTER_SEQ: AtomicU32 = AtomicU32::new(0);

fn resource_name(resource: &str) -> String {
    // "tidbclusters.pingcap.com" → "tidbclusters"; "pods/portforward" stays.
    let (main, sub) = resource
        .split_once('/')
        .map_or((resource, None), |(m, s)| (m, Some(s)));
    let plural = Resource::by_name(main)
        .map(|r| r.plural.to_string())
        .unwrap_or_else(|| main.to_string());
    match sub {
        Some(s) => format!("{plural}/{s}"),
        None => plural,
    }
}

impl Cluster {
    /// Start: PKI, HTTPS listener on 127.0.0.1, kubeconfig, node netns, controllers, kubelet.
    pub async fn start(cfg: ClusterConfig) -> anyhow::Result<Cluster> {
        std::fs::create_dir_all(&cfg.dir)
            .with_context(|| format!("creating {}", cfg.dir.display()))?;
        let dir = std::fs::canonicalize(&cfg.dir)?;
        if let Some(bin) = &cfg.agent_bin
            && !bin.is_file()
        {
            bail!("agent binary {} does not exist", bin.display());
        }
        let pki = tls::generate()?;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let server_url = format!("https://{}", listener.local_addr()?);
        let token = crate::clock::new_uid();
        let kubeconfig = dir.join("kubeconfig");
        std::fs::write(
            &kubeconfig,
            kubeconfig::render(&server_url, &pki.ca_pem, &token),
        )?;
        std::fs::write(dir.join("ca.crt"), &pki.ca_pem)?;
        let seq = CLUSTER_SEQ.fetch_add(1, Ordering::Relaxed);
        let prefix = format!("ntc{}-{seq}", std::process::id());
        let node_netns = if cfg.network {
            tokio::task::spawn_blocking(netns::sweep_stale_blocking)
                .await
                .ok();
            let node = format!("{prefix}-node");
            netns::create_node(&node).await.with_context(|| {
                format!("creating node netns {node} (pods as netns need root and iproute2)")
            })?;
            Some(node)
        } else {
            None
        };
        let shared = Arc::new(Shared {
            store: Mutex::new(Store::new()),
            denied: Mutex::new(Default::default()),
            records: Mutex::new(Vec::new()),
            latency: Mutex::new(cfg.latency),
            kubelet_latency: Mutex::new(Duration::ZERO),
            crd_installed: AtomicBool::new(true),
            token,
            user: "testcluster-user".into(),
            server_url: Mutex::new(server_url.clone()),
            pods: Mutex::new(Default::default()),
            dir: dir.clone(),
        });
        let kubelet = Kubelet::new(
            shared.clone(),
            KubeletConfig {
                agent_bin: cfg.agent_bin.clone(),
                node_netns: node_netns.clone(),
                prefix: prefix.clone(),
            },
        );
        let server = tokio::spawn(crate::server::run(
            listener,
            pki.server.clone(),
            shared.clone(),
        ));
        let control = tokio::spawn(control_loop(shared.clone(), kubelet.clone()));
        let cluster = Cluster {
            shared,
            kubelet,
            kubeconfig,
            server_url,
            node_netns,
            prefix,
            tasks: Mutex::new(vec![server, control]),
            down: AtomicBool::new(false),
        };
        cluster.add_namespace("default", &[]);
        cluster.add_namespace("kube-system", &[]);
        Ok(cluster)
    }

    /// The kubeconfig (context "testcluster", namespace "default").
    pub fn kubeconfig(&self) -> &Path {
        &self.kubeconfig
    }

    /// `https://127.0.0.1:PORT`.
    pub fn server_url(&self) -> &str {
        &self.server_url
    }

    /// Create a namespace, or set its labels if it exists (e.g. Pod Security:
    /// `pod-security.kubernetes.io/enforce=restricted`).
    pub fn add_namespace(&self, name: &str, labels: &[(&str, &str)]) {
        let mut l = json!({"kubernetes.io/metadata.name": name});
        for (k, v) in labels {
            l[*k] = json!(v);
        }
        let mut store = lock(&self.shared.store);
        match store.get(&NAMESPACES, "", name) {
            Some(mut ns) => {
                ns["metadata"]["labels"] = l;
                let _ =
                    store.write_unconditionally(&NAMESPACES, "", name, ns, "testcluster", false);
            }
            None => {
                let ns = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": l},
                                "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}});
                let _ = store.create(&NAMESPACES, "", ns, "testcluster", false);
            }
        }
    }

    /// Create any served object (namespace from `metadata.namespace`, default "default").
    pub fn create(&self, obj: Value) -> anyhow::Result<Value> {
        let av = obj["apiVersion"].as_str().unwrap_or("");
        let kind = obj["kind"].as_str().unwrap_or("");
        let res =
            Resource::by_kind(av, kind).with_context(|| format!("{av} {kind} is not served"))?;
        let ns = if res.namespaced {
            obj["metadata"]["namespace"]
                .as_str()
                .unwrap_or("default")
                .to_string()
        } else {
            String::new()
        };
        lock(&self.shared.store)
            .create(res, &ns, obj, "testcluster", false)
            .map_err(|e| anyhow::anyhow!("{}", e.message))
    }

    /// One object by apiVersion and kind.
    pub fn get(&self, api_version: &str, kind: &str, ns: &str, name: &str) -> Option<Value> {
        let res = Resource::by_kind(api_version, kind)?;
        let ns = if res.namespaced { ns } else { "" };
        lock(&self.shared.store).get(res, ns, name)
    }

    /// All objects of a kind, in one namespace or all (None).
    pub fn list(&self, api_version: &str, kind: &str, ns: Option<&str>) -> Vec<Value> {
        let Some(res) = Resource::by_kind(api_version, kind) else {
            return Vec::new();
        };
        lock(&self.shared.store).list(res, ns)
    }

    /// Change the latency added to every API request from now on.
    pub fn set_latency(&self, latency: Duration) {
        *lock(&self.shared.latency) = latency;
    }

    /// Change the extra latency of a port-forward's set-up (the API server → kubelet →
    /// container runtime hops), added on top of the per-request latency.
    pub fn set_kubelet_latency(&self, latency: Duration) {
        *lock(&self.shared.kubelet_latency) = latency;
    }

    /// Deny a verb on a resource for the kubeconfig's user: `("create", "pods/portforward")`,
    /// `("patch", "tidbclusters")`; verb "*" denies all.
    pub fn deny(&self, verb: &str, resource: &str) {
        lock(&self.shared.denied).insert((verb.to_string(), resource_name(resource)));
    }

    /// Lift every denial.
    pub fn allow_all(&self) {
        lock(&self.shared.denied).clear();
    }

    /// Remove (false) or reinstall (true) the TidbCluster CRD: discovery and its paths.
    pub fn set_tidb_crd_installed(&self, installed: bool) {
        self.shared
            .crd_installed
            .store(installed, Ordering::Relaxed);
    }

    /// Simulate a concurrent writer: before each of the next `n` API writes to the object,
    /// it is bumped (annotation + resourceVersion), so guarded writes get 409 / failing test 422.
    pub fn conflict_next_writes(&self, resource: &str, ns: &str, name: &str, n: usize) {
        if let Some(res) = Resource::by_name(resource) {
            lock(&self.shared.store).conflict_next_writes(res, ns, name, n);
        }
    }

    /// A running pod's IP.
    pub fn pod_ip(&self, ns: &str, name: &str) -> Option<Ipv4Addr> {
        lock(&self.shared.pods)
            .get(&(ns.to_string(), name.to_string()))
            .and_then(|p| p.ip)
    }

    /// A running pod's netns (None without networking).
    pub fn pod_netns(&self, ns: &str, name: &str) -> Option<String> {
        lock(&self.shared.pods)
            .get(&(ns.to_string(), name.to_string()))
            .and_then(|p| p.netns.clone())
    }

    /// The netns holding the bridge; `ip netns exec` it to ping pods.
    pub fn node_netns(&self) -> Option<String> {
        self.node_netns.clone()
    }

    /// Every change from now on (as watch events: ADDED, MODIFIED, DELETED), for tests that
    /// must see orderings polling could miss (e.g. which pod a rollout deleted first).
    pub fn subscribe(&self) -> tokio::sync::broadcast::Receiver<Arc<crate::store::Event>> {
        lock(&self.shared.store).subscribe_events()
    }

    /// Requests served so far.
    pub fn requests(&self) -> Vec<RequestRecord> {
        lock(&self.shared.records).clone()
    }

    /// Wait until these pods exist, are Ready and not terminating.
    pub async fn wait_ready(
        &self,
        ns: &str,
        names: &[&str],
        timeout: Duration,
    ) -> anyhow::Result<()> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let pending: Vec<&str> = {
                let store = lock(&self.shared.store);
                names
                    .iter()
                    .copied()
                    .filter(|n| {
                        !store.get(&PODS, ns, n).is_some_and(|p| {
                            p["metadata"]["deletionTimestamp"].is_null()
                                && p["status"]["conditions"].as_array().is_some_and(|cs| {
                                    cs.iter()
                                        .any(|c| c["type"] == "Ready" && c["status"] == "True")
                                })
                        })
                    })
                    .collect()
            };
            if pending.is_empty() {
                return Ok(());
            }
            if tokio::time::Instant::now() > deadline {
                bail!("pods not ready after {timeout:?}: {}", pending.join(", "));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Wait until the controllers are done: every TidbCluster Ready (its status written by the
    /// operator), every StatefulSet rolled out and ready, no pod terminating. After this no
    /// controller writes until something changes, so snapshots (resourceVersions) hold still.
    pub async fn wait_settled(&self, timeout: Duration) -> anyhow::Result<()> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let pending = {
                let store = lock(&self.shared.store);
                controllers::unsettled(&store)
            };
            let Some(what) = pending else { return Ok(()) };
            if tokio::time::Instant::now() > deadline {
                bail!("cluster not settled after {timeout:?}: {what}");
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Stop controllers, stop every pod (agents killed, netns deleted), delete the node netns.
    pub async fn shutdown(self) {
        let tasks = std::mem::take(&mut *lock(&self.tasks));
        if let Some(control) = tasks.get(1) {
            control.abort();
        }
        self.kubelet.shutdown().await;
        for t in &tasks {
            t.abort();
        }
        if let Some(n) = &self.node_netns {
            let _ = netns::delete(n).await;
        }
        self.down.store(true, Ordering::Relaxed);
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        if self.down.load(Ordering::Relaxed) {
            return;
        }
        for t in lock(&self.tasks).iter() {
            t.abort();
        }
        self.kubelet.abort_all();
        // Best effort: agent processes die with their tasks (kill_on_drop); namespaces are
        // removed here by name prefix.
        if self.node_netns.is_some() {
            cleanup_netns_blocking(&self.prefix);
        }
    }
}

/// Delete every netns whose name starts with `prefix-`.
fn cleanup_netns_blocking(prefix: &str) {
    let Ok(entries) = std::fs::read_dir("/run/netns") else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if name.starts_with(&format!("{prefix}-")) {
            netns::delete_blocking(&name);
        }
    }
}

async fn control_loop(shared: Arc<Shared>, kubelet: Arc<Kubelet>) {
    let mut changes = lock(&shared.store).subscribe_changes();
    while !kubelet.is_stopping() {
        {
            let mut store = lock(&shared.store);
            controllers::reconcile(&mut store);
        }
        kubelet.sync();
        tokio::select! {
            _ = changes.changed() => {}
            _ = tokio::time::sleep(Duration::from_millis(500)) => {}
        }
    }
}
