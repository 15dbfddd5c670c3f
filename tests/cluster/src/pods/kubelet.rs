//! A kubelet for one node: starts pods the store holds (netns, containers, readiness
//! probes, restarts with back-off), starts ephemeral containers added to running pods (never
//! restarted, never ready, as a real kubelet), reports their status, and tears them down
//! (processes stopped, netns deleted, pod dir removed) before removing a terminating pod.

use std::collections::HashMap;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::process::{Child, Command};
use tokio::sync::watch;

use super::container;
use super::netns;
use crate::clock;
use crate::resources::PODS;
use crate::state::{PodRuntime, Shared, lock};

/// Node IP reported as `status.hostIP` (the bridge, where the node reaches pods).
pub const HOST_IP: &str = "10.244.0.1";

/// Least time between a pod's deletion and its removal.
const TERMINATION_MIN: Duration = Duration::from_millis(300);

/// Kubelet configuration.
#[derive(Debug, Clone)]
pub struct KubeletConfig {
    /// Agent binary for `netem-agent` containers.
    pub agent_bin: Option<PathBuf>,
    /// The node netns (None: no networking; containers are not run).
    pub node_netns: Option<String>,
    /// Prefix of pod netns names (unique per cluster).
    pub prefix: String,
}

/// The kubelet.
pub struct Kubelet {
    shared: Arc<Shared>,
    cfg: KubeletConfig,
    running: Mutex<HashMap<String, PodHandle>>,
    tasks: Mutex<Vec<tokio::task::JoinHandle<()>>>,
    seq: AtomicU32,
    stopping: std::sync::atomic::AtomicBool,
}

/// The tag that makes an image unpullable here (`busybox:unpullable`, `agent:unpullable`):
/// its container never starts and reports ErrImagePull, then ImagePullBackOff between pull
/// attempts, as a real kubelet does for an image the node cannot pull.
pub const UNPULLABLE_TAG: &str = ":unpullable";

/// The tag that makes an agent image crash here (`agent:crashloop`): its process is started
/// with an argument it refuses, so it exits 2 at once, every time, and the container goes
/// into CrashLoopBackOff with its last termination in `lastState`, as a crashing image does.
pub const CRASHLOOP_TAG: &str = ":crashloop";

/// The argument a [`CRASHLOOP_TAG`] agent is started with (the agent refuses it).
const CRASH_ARG: &str = "--netem-testcluster-crashloop";

/// How long a pull attempt's ErrImagePull shows before the back-off (ImagePullBackOff).
const PULL_ATTEMPT: Duration = Duration::from_secs(1);

/// The first back-off between pull attempts (doubling, at most 5 minutes, like the kubelet).
const PULL_BACKOFF: Duration = Duration::from_secs(10);

/// Whether a container's image is one this double "cannot pull".
pub fn unpullable(c: &Value) -> bool {
    c["image"]
        .as_str()
        .is_some_and(|i| i.ends_with(UNPULLABLE_TAG))
}

/// The waiting state of a container whose image cannot be pulled, `since` its first pull
/// attempt: ErrImagePull for a moment after each attempt (at 0, 10, 30, 70 s, ...), else
/// ImagePullBackOff; the wording is containerd's and the kubelet's.
fn pull_failure(image: &str, since: Duration) -> Value {
    let mut attempt_at = Duration::ZERO;
    let mut backoff = PULL_BACKOFF;
    while attempt_at + backoff <= since {
        attempt_at += backoff;
        backoff = (backoff * 2).min(Duration::from_secs(300));
    }
    if since - attempt_at < PULL_ATTEMPT {
        json!({"reason": "ErrImagePull", "message": format!(
            "failed to pull and unpack image \"{image}\": failed to resolve reference \"{image}\": {image}: not found")})
    } else {
        json!({"reason": "ImagePullBackOff", "message": format!("Back-off pulling image \"{image}\"")})
    }
}

/// A running pod's task: how to stop it, and the pod's ephemeral containers as last seen.
struct PodHandle {
    stop: watch::Sender<bool>,
    ephemeral: watch::Sender<Value>,
}

struct Ctr {
    spec: Value,
    /// An ephemeral container: never restarted, never ready.
    ephemeral: bool,
    /// How an ephemeral container ended (its `terminated` state).
    exit: Option<Value>,
    /// Why this container cannot run here (reported as ImagePullBackOff).
    unrunnable: Option<String>,
    /// The image cannot be pulled ([`UNPULLABLE_TAG`]): since when it is tried.
    unpullable_since: Option<Instant>,
    /// How a regular container last ended, for `lastState` (after a restart).
    last_exit: Option<Value>,
    /// argv of the agent (None: a container this double does not execute; it "runs" idle).
    argv: Option<Vec<String>>,
    probe: Option<Vec<String>>,
    child: Option<Child>,
    ready: bool,
    restarts: u32,
    started_at: String,
    next_start: Instant,
    next_probe: Instant,
    dir: PathBuf,
}

impl Kubelet {
    /// A kubelet.
    pub fn new(shared: Arc<Shared>, cfg: KubeletConfig) -> Arc<Self> {
        Arc::new(Kubelet {
            shared,
            cfg,
            running: Mutex::new(HashMap::new()),
            tasks: Mutex::new(Vec::new()),
            stopping: std::sync::atomic::AtomicBool::new(false),
            seq: AtomicU32::new(0),
        })
    }

    /// Bring runtime in line with the store: start new pods, stop terminating ones.
    pub fn sync(self: &Arc<Self>) {
        // Once shutting down, start nothing: pods removed by the teardown must not come back.
        if self.is_stopping() {
            return;
        }
        let pods = lock(&self.shared.store).list(&PODS, None);
        let mut running = lock(&self.running);
        let mut seen = Vec::new();
        for pod in pods {
            let uid = pod["metadata"]["uid"].as_str().unwrap_or("").to_string();
            let ns = pod["metadata"]["namespace"]
                .as_str()
                .unwrap_or("")
                .to_string();
            let name = pod["metadata"]["name"].as_str().unwrap_or("").to_string();
            seen.push(uid.clone());
            let deleting = pod["metadata"]["deletionTimestamp"].is_string();
            let ephemeral = pod["spec"]["ephemeralContainers"].clone();
            match (running.get(&uid), deleting) {
                (Some(h), true) => {
                    let _ = h.stop.send(true);
                }
                (None, true) => {
                    // Never started (or already stopped): nothing to tear down.
                    let mut store = lock(&self.shared.store);
                    store.remove(&PODS, &ns, &name);
                }
                (None, false) => {
                    let (tx, rx) = watch::channel(false);
                    let (etx, erx) = watch::channel(ephemeral);
                    running.insert(
                        uid.clone(),
                        PodHandle {
                            stop: tx,
                            ephemeral: etx,
                        },
                    );
                    let me = self.clone();
                    let task = tokio::spawn(async move { me.run(pod, rx, erx).await });
                    let mut tasks = lock(&self.tasks);
                    tasks.retain(|t| !t.is_finished());
                    tasks.push(task);
                }
                (Some(h), false) => {
                    h.ephemeral.send_if_modified(|cur| {
                        let changed = *cur != ephemeral;
                        *cur = ephemeral;
                        changed
                    });
                }
            }
        }
        for (uid, h) in running.iter() {
            if !seen.contains(uid) {
                let _ = h.stop.send(true);
            }
        }
    }

    /// Stop every pod and wait (bounded) for their teardown.
    pub async fn shutdown(&self) {
        self.stopping.store(true, Ordering::SeqCst);
        let stops: Vec<watch::Sender<bool>> = lock(&self.running)
            .values()
            .map(|h| h.stop.clone())
            .collect();
        for s in &stops {
            let _ = s.send(true);
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        while !lock(&self.running).is_empty() && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Whether [`Kubelet::shutdown`] has begun.
    pub fn is_stopping(&self) -> bool {
        self.stopping.load(Ordering::SeqCst)
    }

    /// Abort every pod task at once (Drop path: their processes die with them through
    /// kill_on_drop; namespaces are purged by the caller).
    pub fn abort_all(&self) {
        for t in lock(&self.tasks).drain(..) {
            t.abort();
        }
    }

    fn pod_dir(&self, pod: &Value) -> PathBuf {
        let m = &pod["metadata"];
        self.shared.dir.join("pods").join(format!(
            "{}_{}_{}",
            m["namespace"].as_str().unwrap_or(""),
            m["name"].as_str().unwrap_or(""),
            m["uid"].as_str().unwrap_or("")
        ))
    }

    async fn run(
        self: Arc<Self>,
        pod: Value,
        mut stop: watch::Receiver<bool>,
        mut ephemeral: watch::Receiver<Value>,
    ) {
        let uid = pod["metadata"]["uid"].as_str().unwrap_or("").to_string();
        let ns = pod["metadata"]["namespace"]
            .as_str()
            .unwrap_or("")
            .to_string();
        let name = pod["metadata"]["name"].as_str().unwrap_or("").to_string();
        let host_network = pod["spec"]["hostNetwork"] == json!(true);
        let n = self.seq.fetch_add(1, Ordering::Relaxed) + 1;
        let pod_dir = self.pod_dir(&pod);
        let start = clock::now_rfc3339();
        // hostNetwork pods share the node's namespace: we never run anything in the host's.
        let (netns_name, ip) = match (&self.cfg.node_netns, host_network) {
            (_, true) => (None, HOST_IP.parse().ok()),
            (None, false) => (None, Some(netns::pod_ip(n))),
            (Some(node), false) => {
                let pns = format!("{}-{n}", self.cfg.prefix);
                let ip = netns::pod_ip(n);
                match netns::create_pod(node, &pns, n, ip).await {
                    Ok(()) => (Some(pns), Some(ip)),
                    Err(e) => {
                        netns::delete(&pns).await.ok();
                        self.write_status(&ns, &name, &uid, json!({"phase": "Pending", "conditions": [
                            {"type": "PodScheduled", "status": "True"},
                            {"type": "Ready", "status": "False", "reason": "SandboxFailed", "message": e.to_string()}]}));
                        let _ = stop.wait_for(|s| *s).await;
                        self.finish(&ns, &name, &uid, None, &pod_dir).await;
                        return;
                    }
                }
            }
        };
        lock(&self.shared.pods).insert(
            (ns.clone(), name.clone()),
            PodRuntime {
                uid: uid.clone(),
                netns: netns_name.clone(),
                ip,
            },
        );
        let ip_s = ip.map(|i| i.to_string()).unwrap_or_default();
        let can_exec = netns_name.is_some() && self.cfg.agent_bin.is_some();
        let new_ctr = |c: Value, ephemeral: bool| {
            let dir = pod_dir
                .join("containers")
                .join(c["name"].as_str().unwrap_or("c"));
            let unpullable = unpullable(&c);
            let agent = container::is_agent(&c) && can_exec && !unpullable;
            // An agent container in a pod with a network but no agent binary to run: the
            // honest state is an image that cannot be run, not a ready container.
            let unrunnable =
                (container::is_agent(&c) && netns_name.is_some() && !can_exec && !unpullable).then(
                    || {
                        format!(
                            "netem-testcluster has no agent binary (--agent) to run image {}",
                            c["image"]
                        )
                    },
                );
            let now = Instant::now();
            Ctr {
                unrunnable: unrunnable.clone(),
                argv: agent.then(|| {
                    let mut argv = container::agent_argv(&c, &pod["spec"], &pod_dir, &dir);
                    if c["image"]
                        .as_str()
                        .is_some_and(|i| i.ends_with(CRASHLOOP_TAG))
                    {
                        argv.push(CRASH_ARG.into());
                    }
                    argv
                }),
                probe: if agent && !ephemeral {
                    container::probe_argv(&c)
                } else {
                    None
                },
                ready: !agent && unrunnable.is_none() && !ephemeral && !unpullable,
                unpullable_since: unpullable.then_some(now),
                last_exit: None,
                ephemeral,
                exit: None,
                spec: c,
                child: None,
                restarts: 0,
                started_at: clock::now_rfc3339(),
                next_start: now,
                next_probe: now,
                dir,
            }
        };
        let mut ctrs: Vec<Ctr> = pod["spec"]["containers"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .map(|c| new_ctr(c, false))
            .collect();
        for c in ctrs.iter_mut() {
            c.started_at = start.clone();
        }
        let mut last = Value::Null;
        ephemeral.mark_changed();
        loop {
            // Ephemeral containers added since the last pass start now, once.
            if ephemeral.has_changed().unwrap_or(false) {
                let list = ephemeral.borrow_and_update().clone();
                for c in list.as_array().cloned().unwrap_or_default() {
                    if !ctrs
                        .iter()
                        .any(|k| k.ephemeral && k.spec["name"] == c["name"])
                    {
                        ctrs.push(new_ctr(c, true));
                    }
                }
            }
            for c in ctrs.iter_mut() {
                self.supervise(c, netns_name.as_deref(), &pod, &ip_s).await;
            }
            let status = pod_status(&ctrs, &ip_s, &start);
            if status != last {
                self.write_status(&ns, &name, &uid, status.clone());
                last = status;
            }
            tokio::select! {
                _ = stop.wait_for(|s| *s) => break,
                _ = tokio::time::sleep(Duration::from_millis(100)) => {}
            }
        }
        for c in ctrs.iter_mut() {
            if let Some(child) = c.child.take() {
                stop_child(child).await;
            }
        }
        // A real kubelet takes a while to kill containers, tear down the sandbox and confirm
        // the deletion; clients (kubectl delete's wait, rollout watchers) rely on seeing the
        // terminating pod before it goes.
        if !self.is_stopping() {
            tokio::time::sleep(TERMINATION_MIN).await;
        }
        self.finish(&ns, &name, &uid, netns_name.as_deref(), &pod_dir)
            .await;
    }

    async fn supervise(&self, c: &mut Ctr, netns_name: Option<&str>, pod: &Value, ip: &str) {
        let (Some(argv), Some(ns), Some(bin)) = (&c.argv, netns_name, &self.cfg.agent_bin) else {
            return;
        };
        if let Some(child) = c.child.as_mut()
            && let Ok(Some(st)) = child.try_wait()
            && c.ephemeral
        {
            // Ephemeral containers are never restarted: they stay terminated.
            c.child = None;
            let code = st.code().unwrap_or(128 + st.signal().unwrap_or(0));
            c.exit = Some(terminated(
                c,
                code,
                if code == 0 { "Completed" } else { "Error" },
            ));
            return;
        }
        if c.exit.is_some() {
            return;
        }
        if let Some(child) = c.child.as_mut()
            && let Ok(Some(st)) = child.try_wait()
        {
            // The container exited: restartPolicy Always, with back-off; its scratch root is
            // fresh on restart, its emptyDirs are not.
            c.child = None;
            let code = st.code().unwrap_or(128 + st.signal().unwrap_or(0));
            c.last_exit = Some(terminated(
                c,
                code,
                if code == 0 { "Completed" } else { "Error" },
            ));
            c.ready = false;
            c.restarts += 1;
            let backoff = Duration::from_millis(500u64 << c.restarts.min(5));
            c.next_start = Instant::now() + backoff.min(Duration::from_secs(10));
            let _ = std::fs::remove_dir_all(c.dir.join("rootfs"));
        }
        let now = Instant::now();
        if c.child.is_none() && now >= c.next_start {
            if let Some(p) = argv
                .iter()
                .skip_while(|a| *a != "--state-file")
                .nth(1)
                .map(PathBuf::from)
                .or_else(|| {
                    argv.iter()
                        .find_map(|a| a.strip_prefix("--state-file=").map(PathBuf::from))
                })
                && let Some(parent) = p.parent()
            {
                let _ = std::fs::create_dir_all(parent);
            }
            let _ = std::fs::create_dir_all(&c.dir);
            let log = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(c.dir.join("log"));
            let mut cmd = Command::new("ip");
            cmd.args(["netns", "exec", ns]).arg(bin).args(argv);
            cmd.envs(container::env(&c.spec, pod, ip));
            cmd.stdin(Stdio::null()).kill_on_drop(true);
            if let Ok(f) = log {
                let f2 = f.try_clone().ok();
                cmd.stdout(Stdio::from(f));
                cmd.stderr(f2.map(Stdio::from).unwrap_or(Stdio::null()));
            }
            match cmd.spawn() {
                Ok(child) => {
                    c.child = Some(child);
                    c.started_at = clock::now_rfc3339();
                    c.next_probe = now;
                    c.ready = c.probe.is_none() && !c.ephemeral;
                }
                Err(_) if c.ephemeral => c.exit = Some(terminated(c, 128, "StartError")),
                Err(_) => c.next_start = now + Duration::from_secs(1),
            }
        }
        if c.child.is_some()
            && let Some(probe) = &c.probe
            && now >= c.next_probe
        {
            let ok = run_probe(ns, bin, probe).await;
            c.ready = ok;
            // Fast until first success (tests wait on it), then the probe's period.
            let period = c.spec["readinessProbe"]["periodSeconds"]
                .as_u64()
                .unwrap_or(10);
            c.next_probe = now
                + if ok {
                    Duration::from_secs(period.max(1))
                } else {
                    Duration::from_millis(200)
                };
        }
    }

    fn write_status(&self, ns: &str, name: &str, uid: &str, status: Value) {
        let mut store = lock(&self.shared.store);
        let Some(mut pod) = store.get(&PODS, ns, name) else {
            return;
        };
        if pod["metadata"]["uid"] != uid {
            return;
        }
        pod["status"] = status;
        let _ = store.write_unconditionally(&PODS, ns, name, pod, "kubelet", true);
    }

    async fn finish(
        &self,
        ns: &str,
        name: &str,
        uid: &str,
        netns_name: Option<&str>,
        pod_dir: &Path,
    ) {
        if let Some(n) = netns_name {
            let _ = netns::delete(n).await;
        }
        let _ = tokio::fs::remove_dir_all(pod_dir).await;
        {
            let mut pods = lock(&self.shared.pods);
            if pods
                .get(&(ns.to_string(), name.to_string()))
                .is_some_and(|p| p.uid == uid)
            {
                pods.remove(&(ns.to_string(), name.to_string()));
            }
        }
        {
            let mut store = lock(&self.shared.store);
            if store
                .get(&PODS, ns, name)
                .is_some_and(|p| p["metadata"]["uid"] == uid)
            {
                store.remove(&PODS, ns, name);
            }
        }
        lock(&self.running).remove(uid);
    }
}

async fn run_probe(ns: &str, bin: &Path, argv: &[String]) -> bool {
    let fut = Command::new("ip")
        .args(["netns", "exec", ns])
        .arg(bin)
        .args(argv)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .status();
    matches!(tokio::time::timeout(Duration::from_secs(2), fut).await, Ok(Ok(s)) if s.success())
}

async fn stop_child(mut child: Child) {
    if let Some(pid) = child.id() {
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(pid as i32),
            nix::sys::signal::Signal::SIGTERM,
        );
    }
    if tokio::time::timeout(Duration::from_secs(3), child.wait())
        .await
        .is_err()
    {
        let _ = child.kill().await;
    }
}

/// The `terminated` state of a container that exited with `code`.
fn terminated(c: &Ctr, code: i32, reason: &str) -> Value {
    json!({"exitCode": code, "reason": reason, "startedAt": c.started_at,
           "finishedAt": clock::now_rfc3339(), "containerID": container_id(c)})
}

fn container_id(c: &Ctr) -> String {
    format!(
        "containerd://{}",
        clock::new_uid_for(c.spec["name"].as_str().unwrap_or(""), &c.started_at)
    )
}

fn container_status(c: &Ctr) -> Value {
    let name = c.spec["name"].as_str().unwrap_or("");
    let running = (c.argv.is_none() && c.unrunnable.is_none() && c.unpullable_since.is_none())
        || c.child.is_some();
    let state = if let Some(since) = c.unpullable_since {
        json!({"waiting": pull_failure(c.spec["image"].as_str().unwrap_or(""), since.elapsed())})
    } else if let Some(why) = &c.unrunnable {
        json!({"waiting": {"reason": "ImagePullBackOff", "message": why}})
    } else if let Some(t) = &c.exit {
        json!({ "terminated": t })
    } else if running {
        json!({"running": {"startedAt": c.started_at}})
    } else {
        json!({"waiting": {"reason": "CrashLoopBackOff", "message": format!("back-off restarting failed container {name}")}})
    };
    let mut st = json!({"name": name, "image": c.spec["image"], "imageID": "",
           "containerID": container_id(c), "ready": c.ready, "restartCount": c.restarts,
           "state": state, "lastState": {}});
    if let Some(t) = &c.last_exit {
        st["lastState"] = json!({ "terminated": t });
    }
    // The prober sets `started` for regular containers only.
    if !c.ephemeral {
        st["started"] = json!(running);
    }
    st
}

fn pod_status(ctrs: &[Ctr], ip: &str, start: &str) -> Value {
    let (ephemeral, regular): (Vec<&Ctr>, Vec<&Ctr>) = ctrs.iter().partition(|c| c.ephemeral);
    let all_ready = regular.iter().all(|c| c.ready);
    let b = |x: bool| if x { "True" } else { "False" };
    let statuses: Vec<Value> = regular.iter().map(|c| container_status(c)).collect();
    let cond = |t: &str, s: &str| json!({"type": t, "status": s, "lastProbeTime": null, "lastTransitionTime": start});
    // A container that never started keeps the pod Pending, as on a real node.
    let phase = if regular.iter().any(|c| c.unpullable_since.is_some()) {
        "Pending"
    } else {
        "Running"
    };
    let mut status = json!({
        "phase": phase,
        "conditions": [cond("PodReadyToStartContainers", "True"), cond("Initialized", "True"),
                       cond("Ready", b(all_ready)), cond("ContainersReady", b(all_ready)), cond("PodScheduled", "True")],
        "hostIP": HOST_IP, "hostIPs": [{"ip": HOST_IP}],
        "podIP": ip, "podIPs": [{"ip": ip}],
        "startTime": start,
        "qosClass": "BestEffort",
        "containerStatuses": statuses,
    });
    if !ephemeral.is_empty() {
        status["ephemeralContainerStatuses"] = json!(
            ephemeral
                .iter()
                .map(|c| container_status(c))
                .collect::<Vec<_>>()
        );
    }
    status
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unpullable_image_alternates_err_image_pull_and_back_off() {
        let at = |s: u64| pull_failure("a:unpullable", Duration::from_millis(s))["reason"].clone();
        assert_eq!(at(0), "ErrImagePull");
        assert_eq!(at(1_500), "ImagePullBackOff");
        assert_eq!(at(10_200), "ErrImagePull");
        assert_eq!(at(12_000), "ImagePullBackOff");
        assert_eq!(at(30_500), "ErrImagePull");
        assert_eq!(at(45_000), "ImagePullBackOff");
        assert!(
            pull_failure("a:unpullable", Duration::from_secs(2))["message"]
                .as_str()
                .unwrap()
                .contains("Back-off pulling image \"a:unpullable\"")
        );
        assert!(unpullable(&json!({"image": "busybox:unpullable"})));
        assert!(!unpullable(&json!({"image": "busybox:1.36"})));
    }
}
