//! The explicit part of a restart: asking before it, and `--wait`ing until the operator (or
//! the StatefulSet controller) has rolled every targeted pod into the new spec.
//!
//! While waiting, pods that cannot become ready are named at once: an image the node cannot
//! pull, a crash loop, a container that cannot be created, a pod no node can take
//! ([`pod_fault`]). A fault that lasts [`FAULT_GRACE`] ends the wait with that one cause.
//! After `eject`, a pod stuck in such a fault on the old spec (still carrying the agent) is
//! never replaced by its StatefulSet, which waits for it to become ready first; the wait
//! offers to delete it so the StatefulSet recreates it from the restored spec.

use std::collections::HashSet;
use std::io::IsTerminal as _;
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, DeleteParams, ListParams, Preconditions};

mod faults;

pub use faults::{FAULT_GRACE, Fault, FaultWatch, missing_pods, pod_fault};

use crate::connect::Kube;
use crate::errors::cannot;
use netem_api::contract::CONTAINER_NAME;

/// Asks `question` unless `yes`. Without a terminal to ask on, refuses with `unasked` (a
/// hint what to do) rather than acting without consent; declining is an error too
/// (`declined`).
pub fn confirm(question: &str, yes: bool, unasked: &str, declined: &str) -> anyhow::Result<()> {
    if yes {
        return Ok(());
    }
    if !(std::io::stdin().is_terminal() && std::io::stderr().is_terminal()) {
        anyhow::bail!("{unasked}");
    }
    let ok = dialoguer::Confirm::new()
        .with_prompt(question)
        .default(false)
        .interact()?;
    if !ok {
        anyhow::bail!("{declined}");
    }
    Ok(())
}

/// Whether the pod still runs the agent: after `eject`, a pod on the old spec.
fn carries_agent(pod: &Pod) -> bool {
    pod.spec
        .as_ref()
        .is_some_and(|s| s.containers.iter().any(|c| c.name == CONTAINER_NAME))
}

/// The pods of one targeted component (or StatefulSet).
#[derive(Debug, Clone)]
pub struct Group {
    /// `pd`, `tikv`, or the StatefulSet name.
    pub label: String,
    /// Label selector for its pods.
    pub selector: String,
    /// Only pods owned by this StatefulSet (when the selector could match others).
    pub owner: Option<String>,
    /// The StatefulSet that makes the pods, named `<statefulset>-<ordinal>` (none for a
    /// TiDB Operator v2 group, whose pods have generated names).
    pub statefulset: Option<String>,
    /// How many pods it should have.
    pub expected: u64,
    /// An object whose status says when its operator is done rolling (a TiDB Operator v2
    /// group); the group is finished only when that holds too.
    pub status: Option<StatusCheck>,
}

/// Where `--wait` reads an operator's own account of a rollout, and how to judge it.
#[derive(Debug, Clone)]
pub struct StatusCheck {
    /// The object's resource.
    pub resource: kube::core::ApiResource,
    /// Its name, in the command's namespace.
    pub name: String,
    /// True when the object's status says the rollout is over (pure).
    pub done: fn(&serde_json::Value) -> bool,
}

/// What every pod of the groups must look like at the end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Goal {
    /// Runs the agent with this image, its container ready (started: the agent has no
    /// readiness probe); that it answers is checked after the rollout (`calls::until_answering`).
    Agent {
        /// The image asked for.
        image: String,
    },
    /// Runs without the agent, all containers ready.
    NoAgent,
}

/// Whether one pod has reached the goal.
pub fn pod_done(pod: &Pod, goal: &Goal) -> bool {
    if pod.metadata.deletion_timestamp.is_some() {
        return false;
    }
    let containers = pod
        .spec
        .as_ref()
        .map(|s| s.containers.as_slice())
        .unwrap_or_default();
    let statuses = pod
        .status
        .as_ref()
        .and_then(|s| s.container_statuses.as_deref())
        .unwrap_or_default();
    let agent = containers.iter().find(|c| c.name == CONTAINER_NAME);
    match goal {
        Goal::Agent { image } => {
            agent.is_some_and(|c| c.image.as_deref() == Some(image.as_str()))
                && statuses.iter().any(|s| s.name == CONTAINER_NAME && s.ready)
        }
        Goal::NoAgent => {
            agent.is_none() && !statuses.is_empty() && statuses.iter().all(|s| s.ready)
        }
    }
}

/// Progress of one group: (pods at the goal, finished?). Finished means as many pods as
/// expected are at the goal and no pod of the old spec is left.
pub fn tally(pods: &[Pod], expected: u64, goal: &Goal) -> (u64, bool) {
    let done = pods.iter().filter(|p| pod_done(p, goal)).count() as u64;
    (done, done >= expected && done == pods.len() as u64)
}

/// Waits until every group is finished, showing progress (a bar on a terminal, a line per
/// change otherwise), for at most `timeout`. A pod fault lasting [`FAULT_GRACE`] ends the
/// wait with its cause, except a pod stuck on the old spec after `eject` ([`Goal::NoAgent`]),
/// which is deleted once confirmed (`yes`: without asking) so its StatefulSet recreates it.
pub async fn wait(
    kube: &Kube,
    groups: &[Group],
    goal: &Goal,
    timeout: Duration,
    yes: bool,
) -> anyhow::Result<()> {
    let api: Api<Pod> = Api::namespaced(kube.client.clone(), &kube.namespace);
    let total: u64 = groups.iter().map(|g| g.expected).sum();
    let bar = std::io::stderr().is_terminal().then(|| {
        let bar = indicatif::ProgressBar::new(total).with_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} [{elapsed}] {bar:30} {pos}/{len} pods  {msg}",
            )
            .expect("static template"),
        );
        bar.enable_steady_tick(Duration::from_millis(120));
        bar
    });
    let start = Instant::now();
    let mut last = String::new();
    let mut watch = FaultWatch::default();
    let mut deleted: HashSet<String> = HashSet::new();
    // Lines printed while a progress bar may be drawn.
    let say = |line: String| match &bar {
        Some(bar) => bar.println(line),
        None => eprintln!("{line}"),
    };
    loop {
        let mut summary = Vec::new();
        let mut pending = Vec::new();
        let mut faulty: Vec<(Fault, bool)> = Vec::new(); // (fault, pod carries the agent)
        let mut done_total = 0;
        let mut finished = true;
        for g in groups {
            let list = api
                .list(&ListParams::default().labels(&g.selector))
                .await
                .map_err(|e| cannot(e, "list", "pods", &kube.namespace))?;
            let pods: Vec<Pod> = list
                .items
                .into_iter()
                .filter(|p| owned_by(p, g.owner.as_deref()))
                .collect();
            let (done, mut group_finished) = tally(&pods, g.expected, goal);
            if let Some(check) = &g.status {
                let settled = status_done(kube, check).await?;
                if !settled {
                    pending.push(format!("{} (operator still rolling)", g.label));
                }
                group_finished &= settled;
            }
            finished &= group_finished;
            done_total += done.min(g.expected);
            summary.push(format!(
                "{} {}/{}",
                g.label,
                done.min(g.expected),
                g.expected
            ));
            pending.extend(
                pods.iter()
                    .filter(|p| !pod_done(p, goal))
                    .filter_map(|p| p.metadata.name.clone()),
            );
            faulty.extend(
                pods.iter()
                    .filter(|p| !pod_done(p, goal))
                    .filter_map(|p| pod_fault(p).map(|f| (f, carries_agent(p)))),
            );
            faulty.extend(
                missing_pods(g, &pods, &kube.namespace)
                    .into_iter()
                    .map(|f| (f, false)),
            );
        }
        let line = summary.join(", ");
        match &bar {
            Some(bar) => {
                bar.set_position(done_total);
                bar.set_message(line.clone());
            }
            None if line != last => eprintln!("waiting: {line}"),
            None => {}
        }
        last = line;
        if finished {
            if let Some(bar) = &bar {
                bar.finish_and_clear();
            }
            eprintln!("done: {last}");
            return Ok(());
        }
        let stuck_old: HashSet<String> = faulty
            .iter()
            .filter(|(_, agent)| *agent && *goal == Goal::NoAgent)
            .map(|(f, _)| f.uid.clone())
            .collect();
        let observed = watch.observe(Instant::now(), faulty.into_iter().map(|(f, _)| f).collect());
        for f in &observed.new {
            say(format!(
                "warning: {}; giving it {}s to clear",
                f.summary(),
                FAULT_GRACE.as_secs()
            ));
        }
        if let Some(f) = observed.persistent.first() {
            if stuck_old.contains(&f.uid) && !deleted.contains(&f.uid) {
                let ask = || recover_question(f, &kube.namespace);
                let (question, unasked, declined) = ask();
                match &bar {
                    Some(bar) => bar.suspend(|| confirm(&question, yes, &unasked, &declined))?,
                    None => confirm(&question, yes, &unasked, &declined)?,
                }
                delete_pod(&api, f, &kube.namespace).await?;
                say(format!(
                    "deleted pod {} (stuck on the old spec); its StatefulSet recreates it without the agent",
                    f.pod
                ));
                deleted.insert(f.uid.clone());
                watch.forget(&f.uid);
            } else {
                if let Some(bar) = &bar {
                    bar.finish_and_clear();
                }
                anyhow::bail!(
                    "{} (for {}s, so stopped waiting; {last}) — {}",
                    f.summary(),
                    FAULT_GRACE.as_secs(),
                    f.hint
                );
            }
        }
        if start.elapsed() >= timeout {
            if let Some(bar) = &bar {
                bar.finish_and_clear();
            }
            let what = match goal {
                Goal::Agent { .. } => "the agent running and ready",
                Goal::NoAgent => "ready without the agent",
            };
            let pending = if pending.is_empty() {
                "pods missing".to_string()
            } else {
                pending.join(", ")
            };
            anyhow::bail!(
                "timed out after {:?} waiting for pods with {what} ({last}); not yet: {pending}",
                timeout
            );
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// The question, the refusal without a terminal, and the answer to "no", for deleting a pod
/// stuck on the old spec.
fn recover_question(f: &Fault, ns: &str) -> (String, String, String) {
    let manual = format!("`kubectl delete pod -n {ns} {}`", f.pod);
    (
        format!(
            "Pod {} is stuck on the old spec ({}); its StatefulSet will not replace it. Delete it?",
            f.pod, f.reason
        ),
        format!(
            "pod {} is stuck on the old spec ({}: {}) and its StatefulSet will not replace it; \
             not deleting it without confirmation, and there is no terminal to ask on: pass --yes \
             to let eject delete it, or run {manual}; the agent is already out of the spec",
            f.pod, f.reason, f.message
        ),
        format!(
            "not deleting pod {}; it stays stuck until deleted: {manual}; the agent is already out of the spec",
            f.pod
        ),
    )
}

/// Deletes the stuck pod, only if it is still the one seen (uid precondition).
async fn delete_pod(api: &Api<Pod>, f: &Fault, ns: &str) -> anyhow::Result<()> {
    let params = DeleteParams {
        preconditions: Some(Preconditions {
            uid: Some(f.uid.clone()),
            resource_version: None,
        }),
        ..DeleteParams::default()
    };
    match api.delete(&f.pod, &params).await {
        Ok(_) => Ok(()),
        // Gone or replaced meanwhile: what deleting it was for.
        Err(e)
            if crate::errors::api_status(&e)
                .is_some_and(|s| crate::errors::is_not_found(s) || s.is_conflict()) =>
        {
            Ok(())
        }
        Err(e) => Err(cannot(e, "delete", &format!("pod {:?}", f.pod), ns)),
    }
}

async fn status_done(kube: &Kube, check: &StatusCheck) -> anyhow::Result<bool> {
    let api: Api<kube::api::DynamicObject> =
        Api::namespaced_with(kube.client.clone(), &kube.namespace, &check.resource);
    let obj = api.get(&check.name).await.map_err(|e| {
        cannot(
            e,
            "get",
            &format!(
                "{}.{} {:?}",
                check.resource.plural, check.resource.group, check.name
            ),
            &kube.namespace,
        )
    })?;
    Ok((check.done)(&serde_json::to_value(obj)?))
}

fn owned_by(pod: &Pod, sts: Option<&str>) -> bool {
    let Some(sts) = sts else { return true };
    pod.metadata
        .owner_references
        .as_deref()
        .unwrap_or_default()
        .iter()
        .any(|r| r.kind == "StatefulSet" && r.name == sts)
}

#[cfg(test)]
mod tests {
    use super::faults::FaultKind;
    use super::faults::tests::faulty;
    use super::*;
    use serde_json::json;

    fn pod(agent_image: Option<&str>, agent_ready: bool, terminating: bool) -> Pod {
        let mut containers = vec![json!({"name": "pd", "image": "pingcap/pd:v8.5.0"})];
        let mut statuses = vec![
            json!({"name": "pd", "ready": true, "restartCount": 0, "image": "x", "imageID": ""}),
        ];
        if let Some(image) = agent_image {
            containers.push(json!({"name": "netem-agent", "image": image}));
            statuses.push(json!({"name": "netem-agent", "ready": agent_ready, "restartCount": 0, "image": image, "imageID": ""}));
        }
        let mut p = json!({
            "metadata": {"name": "basic-pd-0"},
            "spec": {"containers": containers},
            "status": {"phase": "Running", "containerStatuses": statuses}
        });
        if terminating {
            p["metadata"]["deletionTimestamp"] = json!("2025-05-12T10:00:00Z");
        }
        serde_json::from_value(p).unwrap()
    }

    #[test]
    fn pods_reach_the_goal() {
        let agent = Goal::Agent {
            image: "img:2".into(),
        };
        assert!(pod_done(&pod(Some("img:2"), true, false), &agent));
        assert!(
            !pod_done(&pod(Some("img:2"), false, false), &agent),
            "not ready yet"
        );
        assert!(
            !pod_done(&pod(Some("img:1"), true, false), &agent),
            "old image"
        );
        assert!(!pod_done(&pod(None, true, false), &agent));
        assert!(
            !pod_done(&pod(Some("img:2"), true, true), &agent),
            "terminating"
        );
        assert!(pod_done(&pod(None, true, false), &Goal::NoAgent));
        assert!(!pod_done(&pod(Some("img:2"), true, false), &Goal::NoAgent));
    }

    #[test]
    fn pods_a_statefulset_did_not_create_are_named() {
        let group = Group {
            label: "pd".into(),
            selector: String::new(),
            owner: None,
            statefulset: Some("basic-pd".into()),
            expected: 3,
            status: None,
        };
        let named = |n: &str| {
            let mut p = pod(None, true, false);
            p.metadata.name = Some(n.into());
            p
        };
        let missing = missing_pods(&group, &[named("basic-pd-0"), named("basic-pd-2")], "tidb");
        assert_eq!(missing.len(), 1);
        let f = &missing[0];
        assert_eq!(
            (f.kind, f.pod.as_str()),
            (FaultKind::NotCreated, "basic-pd-1")
        );
        assert!(
            f.to_string()
                .contains("kubectl describe statefulset -n tidb basic-pd"),
            "{f}"
        );
        assert!(
            missing_pods(
                &group,
                &[
                    named("basic-pd-0"),
                    named("basic-pd-1"),
                    named("basic-pd-2")
                ],
                "tidb"
            )
            .is_empty()
        );
    }

    #[test]
    fn a_stuck_pod_without_a_terminal_or_yes_is_refused_with_the_manual_way() {
        let f = pod_fault(&faulty(
            json!({"state": {"waiting": {"reason": "ImagePullBackOff", "message": "Back-off"}}}),
            json!({}),
        ))
        .unwrap();
        let (question, unasked, declined) = recover_question(&f, "tidb");
        assert!(question.ends_with("Delete it?"), "{question}");
        for line in [&unasked, &declined] {
            assert!(
                line.contains("`kubectl delete pod -n tidb basic-pd-0`"),
                "{line}"
            );
            assert!(!line.contains('\n'));
        }
        assert!(unasked.contains("pass --yes"), "{unasked}");
    }

    #[test]
    fn a_group_finishes_when_all_expected_pods_are_done() {
        let goal = Goal::Agent { image: "i".into() };
        let done = || pod(Some("i"), true, false);
        let old = || pod(None, true, false);
        assert_eq!(tally(&[done(), done(), done()], 3, &goal), (3, true));
        assert_eq!(tally(&[done(), done(), old()], 3, &goal), (2, false));
        // A pod being recreated is missing from the list for a moment.
        assert_eq!(tally(&[done(), done()], 3, &goal), (2, false));
        assert_eq!(tally(&[], 0, &goal), (0, true));
    }
}
