//! `inject --ephemeral` / `eject --ephemeral`: the agent as an ephemeral container of
//! running pods, through the `pods/ephemeralcontainers` subresource (Kubernetes ≥ 1.25). No
//! pod restarts and no change to the TidbCluster or StatefulSet: the system under test is
//! the same before and after. An [`EditTarget`] of the one edit flow.
//!
//! Ephemeral containers can be neither removed nor restarted, and the API refuses ports,
//! probes, resources and new volumes on them ([`netem_api::contract::ephemeral_container`]).
//! So `eject --ephemeral` asks each agent to clear what it set and exit (`POST /v1/exit`);
//! it stays in the pod spec as a terminated container, and a later inject starts a fresh one
//! under the next name (`netem-agent-2`, ...).

mod plan;

use std::time::{Duration, Instant};

use anyhow::Context as _;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, Patch, PatchParams};
use serde_json::Value;

use crate::agent_client::{AgentCall, exchange};
use crate::cli::RolloutArgs;
use crate::connect::Kube;
use crate::edit::{Edit, EditTarget};
use crate::errors::{api_status, cannot};
use crate::patch::{Change, Plan, Slot};
use crate::pods::{self, Filter, MissingAgent, pod_info};
use crate::rollout::{self, FaultWatch, Group};
use crate::target::Target;

/// The subresource ephemeral containers are added through.
const SUBRESOURCE: &str = "ephemeralcontainers";

/// The first Kubernetes minor version (1.x) with ephemeral containers on by default (GA).
const MIN_MINOR: u32 = 25;

/// How many times one pod's patch is re-planned after a concurrent change.
const MAX_ATTEMPTS: usize = 5;

/// The running pods a target names, as last read.
pub struct EphemeralPods {
    what: String,
    namespace: String,
    pods: Vec<Value>,
    api: Api<Pod>,
    client: kube::Client,
}

/// Resolves `target` (narrowed by `filter`) to its pods, after checking the server has
/// ephemeral containers.
pub async fn resolve(
    kube: &Kube,
    target: &Target,
    filter: &Filter,
) -> anyhow::Result<EphemeralPods> {
    let version = kube
        .client
        .apiserver_version()
        .await
        .map_err(|e| cannot(e, "get", "the server version", &kube.namespace))?;
    check_version(&version.major, &version.minor)?;
    let selection = pods::resolve(
        &kube.client,
        &kube.namespace,
        std::slice::from_ref(target),
        filter,
        MissingAgent::Keep,
    )
    .await?;
    let api: Api<Pod> = Api::namespaced(kube.client.clone(), &kube.namespace);
    let mut objects = Vec::with_capacity(selection.pods.len());
    for p in &selection.pods {
        objects.push(get(&api, &p.name, &kube.namespace).await?);
    }
    if objects.is_empty() {
        anyhow::bail!("{target} has no pods in namespace {}", kube.namespace);
    }
    Ok(EphemeralPods {
        what: target.to_string(),
        namespace: kube.namespace.clone(),
        pods: objects,
        api,
        client: kube.client.clone(),
    })
}

async fn get(api: &Api<Pod>, name: &str, ns: &str) -> anyhow::Result<Value> {
    let pod = api
        .get(name)
        .await
        .map_err(|e| cannot(e, "get", &format!("pod {name:?}"), ns))?;
    Ok(serde_json::to_value(pod)?)
}

/// Refuses a server older than 1.25 (`minor` may carry a `+`, as on managed clusters).
fn check_version(major: &str, minor: &str) -> anyhow::Result<()> {
    let digits = |s: &str| -> Option<u32> {
        let d: String = s.chars().take_while(char::is_ascii_digit).collect();
        d.parse().ok()
    };
    match (digits(major), digits(minor)) {
        (Some(1), Some(m)) if m < MIN_MINOR => anyhow::bail!(
            "the API server is Kubernetes 1.{m}: ephemeral containers need 1.{MIN_MINOR} or newer; \
             inject without --ephemeral instead (the pods restart)"
        ),
        _ => Ok(()),
    }
}

fn name_of(pod: &Value) -> &str {
    pod["metadata"]["name"].as_str().unwrap_or_default()
}

impl EphemeralPods {
    fn plan_pod(pod: &Value, edit: &Edit) -> anyhow::Result<crate::patch::SlotPlan> {
        Ok(match edit {
            Edit::Inject { image, .. } => plan::plan_start(pod, image)?,
            Edit::Eject => plan::plan_stop(pod),
        })
    }

    /// Adds the agent to one pod: guarded patch, re-planned on 409/422 after a re-read.
    async fn start(&mut self, index: usize, image: &str) -> anyhow::Result<Change> {
        for attempt in 1..=MAX_ATTEMPTS {
            let pod = &self.pods[index];
            let name = name_of(pod).to_string();
            let planned = plan::plan_start(pod, image)?;
            if planned.change == Change::Unchanged {
                return Ok(Change::Unchanged);
            }
            match self.send(&name, &planned.ops, false).await {
                Ok(()) => return Ok(planned.change),
                Err(err)
                    if api_status(&err).is_some_and(|s| s.is_conflict() || s.is_invalid())
                        && attempt < MAX_ATTEMPTS =>
                {
                    let before = pod["metadata"]["resourceVersion"].clone();
                    self.pods[index] = get(&self.api, &name, &self.namespace).await?;
                    if self.pods[index]["metadata"]["resourceVersion"] == before {
                        // Nobody else wrote: the API refused what we sent.
                        return Err(cannot(err, "patch", &self.what(&name), &self.namespace));
                    }
                    tokio::time::sleep(Duration::from_millis(100 * attempt as u64)).await;
                }
                Err(err) => return Err(cannot(err, "patch", &self.what(&name), &self.namespace)),
            }
        }
        anyhow::bail!(
            "pod {:?} kept changing; gave up after {MAX_ATTEMPTS} attempts",
            name_of(&self.pods[index])
        )
    }

    fn what(&self, pod: &str) -> String {
        format!("pods/{SUBRESOURCE} {pod:?}")
    }

    async fn send(&self, pod: &str, ops: &[Value], dry_run: bool) -> Result<(), kube::Error> {
        let ops: json_patch::Patch =
            serde_json::from_value(Value::Array(ops.to_vec())).map_err(kube::Error::SerdeError)?;
        let params = PatchParams {
            field_manager: Some("kubectl-netem".into()),
            dry_run,
            ..PatchParams::default()
        };
        self.api
            .patch_subresource(SUBRESOURCE, pod, &params, &Patch::Json::<()>(ops))
            .await
            .map(|_| ())
    }

    /// Stops one pod's running agent: it clears what it set and exits.
    async fn stop(&self, pod: &Value) -> anyhow::Result<()> {
        let p: Pod = serde_json::from_value(pod.clone())?;
        let info = pod_info(&p);
        let (status, body) = exchange(&self.client, &info, &AgentCall::Exit)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        if !status.is_success() {
            anyhow::bail!(
                "the agent answered {status}: {}",
                String::from_utf8_lossy(&body).trim()
            );
        }
        Ok(())
    }
}

impl EditTarget for EphemeralPods {
    fn display(&self) -> String {
        format!("ephemeral agents of {}", self.what)
    }

    fn namespace(&self) -> &str {
        &self.namespace
    }

    fn roller(&self) -> &'static str {
        "the agent joins each running pod as an ephemeral container, which stays in the pod \
         spec (stopped after eject) until the pod is deleted"
    }

    fn preflight(&self, _force: bool) -> anyhow::Result<()> {
        let mut refused = Vec::new();
        for pod in &self.pods {
            let name = name_of(pod);
            if pod["spec"]["hostNetwork"] == true {
                refused.push(format!(
                    "{name} uses hostNetwork: a delay there would slow the node's own network, not one pod"
                ));
            } else if pod["status"]["phase"] != "Running" {
                refused.push(format!(
                    "{name} is {}, not Running",
                    pod["status"]["phase"].as_str().unwrap_or("Unknown")
                ));
            }
        }
        match refused.as_slice() {
            [] => Ok(()),
            [one] => anyhow::bail!("{one}; nothing was changed"),
            many => anyhow::bail!("{}; nothing was changed", many.join("; ")),
        }
    }

    fn plan(&self, edit: &Edit) -> anyhow::Result<Plan> {
        let slots = self
            .pods
            .iter()
            .map(|p| Self::plan_pod(p, edit).with_context(|| format!("pod {}", name_of(p))))
            .collect::<anyhow::Result<_>>()?;
        Ok(Plan {
            resource_version: String::new(),
            slots,
        })
    }

    fn replicas(&self, _slot: &Slot) -> u64 {
        1
    }

    fn warnings(&self) -> Vec<String> {
        Vec::new()
    }

    fn restarts_pods(&self) -> bool {
        false
    }

    fn patches(&self, plan: &Plan) -> Vec<(String, Value)> {
        plan.changed()
            .filter(|s| !s.ops.is_empty())
            .map(|s| {
                (
                    format!("pod/{} ({SUBRESOURCE})", s.slot.name),
                    Value::Array(s.ops.clone()),
                )
            })
            .collect()
    }

    async fn dry_run(&self, plan: &Plan) -> anyhow::Result<()> {
        for s in plan.changed() {
            if s.ops.is_empty() {
                eprintln!("would stop the agent in pod {}", s.slot.name);
                continue;
            }
            self.send(&s.slot.name, &s.ops, true).await.map_err(|e| {
                cannot(
                    e,
                    "patch (dry run)",
                    &self.what(&s.slot.name),
                    &self.namespace,
                )
            })?;
        }
        Ok(())
    }

    async fn apply(&mut self, edit: &Edit) -> anyhow::Result<Plan> {
        let mut slots = Vec::with_capacity(self.pods.len());
        let mut failed = Vec::new();
        for i in 0..self.pods.len() {
            let name = name_of(&self.pods[i]).to_string();
            let result = match edit {
                Edit::Inject { image, .. } => self.start(i, image).await,
                Edit::Eject => {
                    let pod = self.pods[i].clone();
                    if plan::plan_stop(&pod).change == Change::Unchanged {
                        Ok(Change::Unchanged)
                    } else {
                        self.stop(&pod).await.map(|()| Change::Removed)
                    }
                }
            };
            match result {
                Ok(change) => slots.push(crate::patch::SlotPlan {
                    slot: Slot::pod(&name),
                    change,
                    ops: Vec::new(),
                }),
                // Refused for lack of rights: the same for every pod, and nothing changed yet
                // if this is the first; stop at once.
                Err(e) if slots.is_empty() && is_forbidden(&e) => return Err(e),
                Err(e) => failed.push(format!("  {name}: {}", crate::errors::render(&e))),
            }
        }
        if !failed.is_empty() {
            let done: Vec<&str> = slots
                .iter()
                .filter(|s| s.change != Change::Unchanged)
                .map(|s| s.slot.name.as_str())
                .collect();
            anyhow::bail!(
                "{} of {} pods failed{}:\n{}",
                failed.len(),
                self.pods.len(),
                if done.is_empty() {
                    String::new()
                } else {
                    format!(" (done: {})", done.join(", "))
                },
                failed.join("\n")
            );
        }
        if *edit == Edit::Eject && slots.iter().any(|s| s.change == Change::Removed) {
            eprintln!(
                "note: ephemeral containers cannot be removed: each stopped agent stays in its pod's \
                 spec as a terminated container; a later inject --ephemeral starts a fresh one"
            );
        }
        Ok(Plan {
            resource_version: String::new(),
            slots,
        })
    }

    fn groups(&self, _slots: &[Slot]) -> Vec<Group> {
        Vec::new()
    }

    /// Until every changed pod's agent runs (inject; that it answers is checked next, as for
    /// every target) or no agent runs any more (eject), naming a fault that persists (e.g. an
    /// image the node cannot pull) as the rollout does.
    async fn wait(
        &self,
        _kube: &Kube,
        plan: &Plan,
        edit: &Edit,
        opts: &RolloutArgs,
    ) -> anyhow::Result<()> {
        let mut pending: Vec<String> = plan.changed().map(|s| s.slot.name.clone()).collect();
        let start = Instant::now();
        let mut faults = FaultWatch::default();
        while !pending.is_empty() {
            let mut still = Vec::new();
            let mut seen = Vec::new();
            for name in &pending {
                let pod = get(&self.api, name, &self.namespace).await?;
                let p: Pod = serde_json::from_value(pod.clone())?;
                // Only the agent's own faults: the pod's other containers are not ours to judge.
                seen.extend(rollout::pod_fault(&p).filter(|f| {
                    f.container
                        .as_deref()
                        .is_some_and(|c| netem_api::contract::ephemeral_index(c).is_some())
                }));
                let done = match edit {
                    Edit::Inject { .. } => plan::agents(&pod).running.is_some(),
                    Edit::Eject => plan::agents(&pod).running.is_none(),
                };
                if !done {
                    still.push(name.clone());
                }
            }
            let observed = faults.observe(Instant::now(), seen);
            for f in &observed.new {
                eprintln!("warning: {f}");
            }
            if let Some(f) = observed.persistent.first() {
                anyhow::bail!("{f}");
            }
            pending = still;
            if pending.is_empty() {
                break;
            }
            if start.elapsed() >= opts.timeout {
                anyhow::bail!(
                    "timed out after {:?} waiting for the ephemeral agents; not yet: {}",
                    opts.timeout,
                    pending.join(", ")
                );
            }
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
        let verb = match edit {
            Edit::Inject { .. } => "running",
            Edit::Eject => "stopped",
        };
        let n = plan.changed().count();
        eprintln!(
            "done: {n} ephemeral agent{} {verb} after {:.1}s",
            if n == 1 { "" } else { "s" },
            start.elapsed().as_secs_f64()
        );
        Ok(())
    }
}

fn is_forbidden(err: &anyhow::Error) -> bool {
    err.chain().any(|c| {
        c.downcast_ref::<kube::Error>()
            .and_then(api_status)
            .is_some_and(crate::errors::is_forbidden)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_before_1_25_are_refused() {
        assert!(
            check_version("1", "24")
                .unwrap_err()
                .to_string()
                .contains("1.25")
        );
        assert!(check_version("1", "25").is_ok());
        assert!(check_version("1", "31+").is_ok());
        assert!(check_version("1", "24+").is_err());
        // Unreadable versions are not refused: the API answers for itself.
        assert!(check_version("", "").is_ok());
    }
}
