//! Why a pod cannot become ready, read from its status (pure), and which faults have lasted
//! long enough to stop waiting: an image the node cannot pull, a crash loop, a container that
//! cannot be created, a pod no node can take, a pod its StatefulSet did not create.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::Pod;
use netem_api::contract::{self, CONTAINER_NAME};

use super::Group;

/// How long a pod's fault must last before `--wait` gives up on it: image pulls fail
/// transiently (a registry hiccup, a slow node) and a container may crash once or twice
/// while its dependencies come up.
pub const FAULT_GRACE: Duration = Duration::from_secs(20);

/// What keeps a pod from becoming ready.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FaultKind {
    /// ErrImagePull, ImagePullBackOff, InvalidImageName, ErrImageNeverPull.
    ImagePull,
    /// CrashLoopBackOff.
    CrashLoop,
    /// The runtime cannot create or start the container (CreateContainerConfigError, ...).
    CannotStart,
    /// PodScheduled=False, reason Unschedulable.
    Unschedulable,
    /// The pod does not exist: its StatefulSet could not create it (admission refused it).
    NotCreated,
}

/// One pod's fault, as its status reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    /// What kind.
    pub kind: FaultKind,
    /// The pod's name.
    pub pod: String,
    /// The pod's uid (a recreated pod is another pod).
    pub uid: String,
    /// The container at fault (none for scheduling).
    pub container: Option<String>,
    /// The status reason, e.g. `ImagePullBackOff`, `CrashLoopBackOff (last exit: Error, code 1)`.
    pub reason: String,
    /// The status message, on one line.
    pub message: String,
    /// What to do about it.
    pub hint: String,
}

impl Fault {
    /// Pod, container, reason and message, without the hint.
    pub fn summary(&self) -> String {
        let mut s = format!("pod {}", self.pod);
        if let Some(c) = &self.container {
            s.push_str(&format!(", container {c}"));
        }
        s.push_str(&format!(": {}", self.reason));
        if !self.message.is_empty() {
            s.push_str(&format!(": {}", self.message));
        }
        s
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} — {}", self.summary(), self.hint)
    }
}

/// At most this many characters of a status message are shown.
const MESSAGE_MAX: usize = 300;

/// A status message on one line, bounded.
fn one_line(s: &str) -> String {
    let line = s.split_whitespace().collect::<Vec<_>>().join(" ");
    match line.char_indices().nth(MESSAGE_MAX) {
        Some((i, _)) => format!("{}…", &line[..i]),
        None => line,
    }
}

/// Why `pod` cannot become ready, if its status says so (pure). A pod being deleted has no
/// fault: it is on its way out.
pub fn pod_fault(pod: &Pod) -> Option<Fault> {
    if pod.metadata.deletion_timestamp.is_some() {
        return None;
    }
    let name = pod.metadata.name.clone().unwrap_or_default();
    let ns = pod.metadata.namespace.as_deref().unwrap_or("default");
    let uid = pod.metadata.uid.clone().unwrap_or_default();
    let status = pod.status.as_ref()?;
    let fault =
        |kind, container: Option<&str>, reason: String, message: &str, hint: String| Fault {
            kind,
            pod: name.clone(),
            uid: uid.clone(),
            container: container.map(str::to_string),
            reason,
            message: one_line(message),
            hint,
        };
    let unschedulable = status.conditions.iter().flatten().find(|c| {
        c.type_ == "PodScheduled"
            && c.status == "False"
            && c.reason.as_deref() == Some("Unschedulable")
    });
    if let Some(c) = unschedulable {
        return Some(fault(
            FaultKind::Unschedulable,
            None,
            "Unschedulable".into(),
            c.message.as_deref().unwrap_or_default(),
            format!(
                "no node can take the pod (resources, node selectors, taints): see `kubectl describe pod -n {ns} {name}`"
            ),
        ));
    }
    let spec_image = |container: &str| {
        let spec = pod.spec.as_ref()?;
        spec.init_containers
            .iter()
            .flatten()
            .chain(&spec.containers)
            .find(|c| c.name == container)
            .and_then(|c| c.image.clone())
            .or_else(|| {
                spec.ephemeral_containers
                    .iter()
                    .flatten()
                    .find(|c| c.name == container)
                    .and_then(|c| c.image.clone())
            })
    };
    let statuses = status
        .init_container_statuses
        .iter()
        .flatten()
        .chain(status.container_statuses.iter().flatten())
        .chain(status.ephemeral_container_statuses.iter().flatten());
    for cs in statuses {
        let Some(waiting) = cs.state.as_ref().and_then(|s| s.waiting.as_ref()) else {
            continue;
        };
        let reason = waiting.reason.as_deref().unwrap_or_default();
        let message = waiting.message.as_deref().unwrap_or_default();
        let c = cs.name.as_str();
        match reason {
            "ErrImagePull" | "ImagePullBackOff" | "InvalidImageName" | "ErrImageNeverPull" => {
                let image = spec_image(c).unwrap_or_else(|| cs.image.clone());
                let hint = if c == CONTAINER_NAME || contract::ephemeral_index(c).is_some() {
                    format!(
                        "the node cannot pull {image}: build the agent image (agent/Containerfile), push it to a registry the nodes can pull from or load it into the nodes, and pass --image (see README, \"The agent image\")"
                    )
                } else {
                    format!(
                        "the node cannot pull {image}: check the image name and the registry's credentials"
                    )
                };
                return Some(fault(
                    FaultKind::ImagePull,
                    Some(c),
                    reason.into(),
                    message,
                    hint,
                ));
            }
            "CrashLoopBackOff" => {
                let last = cs
                    .last_state
                    .as_ref()
                    .and_then(|s| s.terminated.as_ref())
                    .map(|t| {
                        format!(
                            " (last exit: {}, code {})",
                            t.reason.as_deref().unwrap_or("unknown"),
                            t.exit_code
                        )
                    })
                    .unwrap_or_default();
                return Some(fault(
                    FaultKind::CrashLoop,
                    Some(c),
                    format!("{reason}{last}"),
                    message,
                    format!("see why: `kubectl logs -n {ns} {name} -c {c} --previous`"),
                ));
            }
            "CreateContainerConfigError" | "CreateContainerError" | "RunContainerError" => {
                return Some(fault(
                    FaultKind::CannotStart,
                    Some(c),
                    reason.into(),
                    message,
                    format!("see `kubectl describe pod -n {ns} {name}`"),
                ));
            }
            _ => {}
        }
    }
    None
}

/// The pods of `group` (`<statefulset>-0` .. `-<expected - 1>`) absent from `pods` (pure):
/// a StatefulSet recreates a deleted pod at once, so one that stays absent was refused at
/// creation (an admission webhook, Pod Security, a quota); the reason is in the
/// StatefulSet's FailedCreate events.
pub fn missing_pods(group: &Group, pods: &[Pod], namespace: &str) -> Vec<Fault> {
    let Some(sts) = &group.statefulset else {
        return Vec::new();
    };
    (0..group.expected)
        .map(|i| format!("{sts}-{i}"))
        .filter(|name| !pods.iter().any(|p| p.metadata.name.as_deref() == Some(name)))
        .map(|name| Fault {
            kind: FaultKind::NotCreated,
            uid: format!("missing/{name}"),
            container: None,
            reason: "NotCreated".into(),
            message: format!("statefulset {sts} has not created it"),
            hint: format!(
                "its creation may be refused (an admission webhook, Pod Security, a quota): see the FailedCreate events of `kubectl describe statefulset -n {namespace} {sts}`"
            ),
            pod: name,
        })
        .collect()
}

/// Faults seen across polls: when each began, so only those lasting [`FAULT_GRACE`] count.
#[derive(Debug, Default)]
pub struct FaultWatch {
    since: HashMap<(String, FaultKind, Option<String>), Instant>,
}

/// What one poll's faults amount to.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Observed {
    /// Faults not seen at the previous poll (worth a warning).
    pub new: Vec<Fault>,
    /// Faults that have lasted at least [`FAULT_GRACE`].
    pub persistent: Vec<Fault>,
}

impl FaultWatch {
    /// Records the faults seen `now`; a fault no longer seen is forgotten (its grace starts
    /// over if it comes back). A pull that flips between ErrImagePull and ImagePullBackOff
    /// is one fault.
    pub fn observe(&mut self, now: Instant, faults: Vec<Fault>) -> Observed {
        let mut out = Observed::default();
        let keys: HashSet<_> = faults.iter().map(key).collect();
        self.since.retain(|k, _| keys.contains(k));
        for f in faults {
            let since = *self.since.entry(key(&f)).or_insert_with(|| {
                out.new.push(f.clone());
                now
            });
            if now.duration_since(since) >= FAULT_GRACE {
                out.persistent.push(f);
            }
        }
        out
    }

    /// Forgets the faults of a pod (e.g. once it is deleted).
    pub fn forget(&mut self, uid: &str) {
        self.since.retain(|(u, _, _), _| u != uid);
    }
}

fn key(f: &Fault) -> (String, FaultKind, Option<String>) {
    (f.uid.clone(), f.kind, f.container.clone())
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use serde_json::json;

    /// A pod whose `netem-agent` container has the given status fields, plus `extra` status.
    pub(in crate::rollout) fn faulty(
        agent_status: serde_json::Value,
        extra: serde_json::Value,
    ) -> Pod {
        let mut status = json!({
            "phase": "Pending",
            "containerStatuses": [
                {"name": "pd", "ready": true, "restartCount": 0, "image": "pingcap/pd:v8.5.0", "imageID": "",
                 "state": {"running": {}}},
                {"name": "netem-agent", "ready": false, "restartCount": 0, "image": "x", "imageID": ""},
            ]
        });
        for (k, v) in agent_status.as_object().unwrap() {
            status["containerStatuses"][1][k] = v.clone();
        }
        for (k, v) in extra.as_object().unwrap() {
            status[k] = v.clone();
        }
        serde_json::from_value(json!({
            "metadata": {"name": "basic-pd-0", "namespace": "tidb", "uid": "u1"},
            "spec": {"containers": [
                {"name": "pd", "image": "pingcap/pd:v8.5.0"},
                {"name": "netem-agent", "image": "example.com/agent:unpullable"}
            ]},
            "status": status,
        }))
        .unwrap()
    }

    #[test]
    fn image_pull_faults_name_the_pod_container_image_and_what_to_do() {
        for reason in ["ErrImagePull", "ImagePullBackOff", "InvalidImageName"] {
            let p = faulty(
                json!({"state": {"waiting": {"reason": reason, "message": "Back-off pulling image \"example.com/agent:unpullable\""}}}),
                json!({}),
            );
            let f = pod_fault(&p).unwrap();
            assert_eq!(f.kind, FaultKind::ImagePull);
            assert_eq!(f.container.as_deref(), Some("netem-agent"));
            assert_eq!(f.reason, reason);
            let line = f.to_string();
            assert!(
                line.starts_with(&format!(
                    "pod basic-pd-0, container netem-agent: {reason}: Back-off pulling image"
                )),
                "{line}"
            );
            assert!(
                line.contains("the node cannot pull example.com/agent:unpullable"),
                "{line}"
            );
            assert!(
                line.contains("--image") && line.contains("README"),
                "{line}"
            );
        }
    }

    #[test]
    fn crash_loops_carry_the_last_exit() {
        let p = faulty(
            json!({
                "state": {"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 40s restarting failed container=netem-agent\npod=basic-pd-0"}},
                "lastState": {"terminated": {"reason": "Error", "exitCode": 2}}
            }),
            json!({}),
        );
        let f = pod_fault(&p).unwrap();
        assert_eq!(f.kind, FaultKind::CrashLoop);
        assert_eq!(f.reason, "CrashLoopBackOff (last exit: Error, code 2)");
        assert!(!f.to_string().contains('\n'), "one line: {f}");
        assert!(
            f.hint
                .contains("kubectl logs -n tidb basic-pd-0 -c netem-agent --previous")
        );
    }

    #[test]
    fn unschedulable_and_cannot_start_and_healthy_pods() {
        let p = faulty(
            json!({"state": {"waiting": {"reason": "ContainerCreating"}}}),
            json!({"conditions": [{"type": "PodScheduled", "status": "False", "reason": "Unschedulable",
                "message": "0/3 nodes are available: 3 Insufficient memory."}]}),
        );
        let f = pod_fault(&p).unwrap();
        assert_eq!(
            (f.kind, f.container.as_deref()),
            (FaultKind::Unschedulable, None)
        );
        assert!(
            f.to_string()
                .starts_with("pod basic-pd-0: Unschedulable: 0/3 nodes are available"),
            "{f}"
        );

        let p = faulty(
            json!({"state": {"waiting": {"reason": "CreateContainerConfigError", "message": "secret \"x\" not found"}}}),
            json!({}),
        );
        assert_eq!(pod_fault(&p).unwrap().kind, FaultKind::CannotStart);

        // Starting up, or running: no fault.
        let p = faulty(
            json!({"state": {"waiting": {"reason": "ContainerCreating"}}}),
            json!({}),
        );
        assert_eq!(pod_fault(&p), None);
        let running = faulty(
            json!({"state": {"running": {}}}),
            json!({"phase": "Running"}),
        );
        assert_eq!(pod_fault(&running), None);
        // Being deleted: on its way out, not at fault.
        let mut p = faulty(
            json!({"state": {"waiting": {"reason": "ImagePullBackOff"}}}),
            json!({}),
        );
        p.metadata.deletion_timestamp =
            serde_json::from_value(json!("2025-05-12T10:00:00Z")).unwrap();
        assert_eq!(pod_fault(&p), None);
        // Status messages are bounded.
        let long = "x".repeat(5000);
        let p = faulty(
            json!({"state": {"waiting": {"reason": "ErrImagePull", "message": long}}}),
            json!({}),
        );
        assert!(pod_fault(&p).unwrap().message.chars().count() <= MESSAGE_MAX + 1);
    }

    #[test]
    fn a_fault_counts_once_it_has_lasted_the_grace_period() {
        let fault = |reason: &str, uid: &str| Fault {
            kind: FaultKind::ImagePull,
            pod: "web-1".into(),
            uid: uid.into(),
            container: Some("netem-agent".into()),
            reason: reason.into(),
            message: String::new(),
            hint: String::new(),
        };
        let t0 = Instant::now();
        let mut w = FaultWatch::default();
        let o = w.observe(t0, vec![fault("ErrImagePull", "a")]);
        assert_eq!(o.new.len(), 1);
        assert!(o.persistent.is_empty());
        // The reason flips (pull, back-off, pull): still the same fault, not new.
        let o = w.observe(
            t0 + Duration::from_secs(5),
            vec![fault("ImagePullBackOff", "a")],
        );
        assert!(o.new.is_empty() && o.persistent.is_empty());
        let o = w.observe(t0 + FAULT_GRACE, vec![fault("ErrImagePull", "a")]);
        assert_eq!(o.persistent, vec![fault("ErrImagePull", "a")]);
        // Gone for one poll: its grace starts over.
        w.observe(t0 + FAULT_GRACE, vec![]);
        let o = w.observe(t0 + FAULT_GRACE * 2, vec![fault("ErrImagePull", "a")]);
        assert_eq!((o.new.len(), o.persistent.len()), (1, 0));
        // A recreated pod (another uid) is another fault.
        let o = w.observe(t0 + FAULT_GRACE * 3, vec![fault("ErrImagePull", "b")]);
        assert_eq!((o.new.len(), o.persistent.len()), (1, 0));
    }
}
