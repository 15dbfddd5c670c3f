//! What `delay`, `clear` and `status` share: call every selected pod's agent, report each;
//! and `inject --wait`'s last step, waiting until the agents answer.

use std::collections::HashMap;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use netem_api::wire::NetemState;

use bytes::Bytes;
use hyper::StatusCode;

use crate::agent_client::{AgentCall, RuleAnswer, decode_rule, decode_state, exchange};
use crate::cli::FanoutArgs;
use crate::connect::Kube;
use crate::fanout::{self, Options, Outcome};
use crate::pod_error::PodError;
use crate::pods::{self, Filter, MissingAgent, PodInfo};
use crate::rollout::FAULT_GRACE;
use crate::target::Target;

/// `--component` and `-l` as a pod filter.
pub fn filter(args: &FanoutArgs) -> Filter {
    Filter {
        components: args.component.clone(),
        selector: args.selector.clone(),
    }
}

/// `--parallel` and `--pod-timeout`.
pub fn options(args: &FanoutArgs) -> Options {
    Options {
        parallel: usize::from(args.parallel),
        pod_timeout: args.pod_timeout,
    }
}

/// Runs `call` on every pod through its agent; returns each pod's decoded answer.
pub async fn call_all(
    client: &kube::Client,
    pods: Vec<PodInfo>,
    opts: Options,
    verb: &str,
    call: &AgentCall,
) -> Vec<Outcome<NetemState>> {
    call_all_with(client, pods, opts, verb, call, |pod, status, body| {
        decode_state(pod, status, body)
    })
    .await
}

/// Runs a rule call (`SetRule`, `ClearRule`) on every pod; returns each pod's answer.
pub async fn call_rule(
    client: &kube::Client,
    pods: Vec<PodInfo>,
    opts: Options,
    verb: &str,
    call: &AgentCall,
) -> Vec<Outcome<RuleAnswer>> {
    call_all_with(client, pods, opts, verb, call, |pod, status, body| {
        decode_rule(pod, call, status, body)
    })
    .await
}

async fn call_all_with<T>(
    client: &kube::Client,
    pods: Vec<PodInfo>,
    opts: Options,
    verb: &str,
    call: &AgentCall,
    decode: impl Fn(&PodInfo, StatusCode, &Bytes) -> Result<T, PodError>,
) -> Vec<Outcome<T>> {
    let decode = &decode;
    fanout::run(pods, opts, verb, |pod| async move {
        let (status, body) = exchange(client, &pod, call).await?;
        decode(&pod, status, &body)
    })
    .await
}

/// Prints notes, one line per pod that succeeded (`ok_line` says what), the failures
/// with hints on stderr, and the summary; returns the exit code.
pub fn report(
    notes: &[String],
    outcomes: &[Outcome<NetemState>],
    what: &str,
    ok_line: impl Fn(&NetemState) -> String,
) -> ExitCode {
    for note in notes {
        eprintln!("note: {note}");
    }
    for o in outcomes {
        if let Ok(state) = &o.result {
            println!("{}: {}", fanout::pod_label(&o.pod, false), ok_line(state));
        }
    }
    for line in fanout::failure_lines(outcomes, false) {
        eprintln!("{line}");
    }
    println!("{}", fanout::summary(what, outcomes));
    if fanout::any_failed(outcomes) {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

/// `inject --wait`'s last step: until every agent of `target`'s pods answers through
/// port-forward, at most `timeout`. The agent has no readiness probe (it must never take
/// the pod out of service), so a running container is not yet proof that it listens.
pub async fn until_answering(
    kube: &Kube,
    target: &Target,
    filter: &Filter,
    timeout: Duration,
) -> anyhow::Result<()> {
    let start = Instant::now();
    let opts = Options {
        parallel: 32,
        pod_timeout: Duration::from_secs(5),
    };
    let mut troubles = Troubles::default();
    loop {
        let selection = pods::resolve(
            &kube.client,
            &kube.namespace,
            std::slice::from_ref(target),
            filter,
            MissingAgent::Refuse,
        )
        .await?;
        let outcomes = call_all(
            &kube.client,
            selection.pods,
            opts,
            "status",
            &AgentCall::Get,
        )
        .await;
        if !fanout::any_failed(&outcomes) {
            eprintln!(
                "agents answering: {} pod{} after {:.1}s",
                outcomes.len(),
                if outcomes.len() == 1 { "" } else { "s" },
                start.elapsed().as_secs_f64()
            );
            return Ok(());
        }
        // An agent that keeps not running (a crash loop caught between two restarts by the
        // rollout) is named once it has lasted the grace period, not after the whole timeout.
        let troubled = outcomes
            .iter()
            .filter(|o| o.result.is_err())
            .map(|o| &o.pod);
        if let Some(pod) = troubles.persistent(Instant::now(), troubled) {
            anyhow::bail!(
                "the agent in pod {} does not run ({}) for {:?} — see why: {} --previous",
                pod.name,
                pod.agent_trouble.as_deref().unwrap_or_default(),
                FAULT_GRACE,
                pod.logs_hint()
            );
        }
        if start.elapsed() >= timeout {
            anyhow::bail!(
                "timed out after {timeout:?} waiting for the agents to answer:\n{}",
                fanout::failure_lines(&outcomes, false).join("\n")
            );
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

/// Since when each pod's agent has been in trouble (not running), across polls.
#[derive(Debug, Default)]
struct Troubles {
    since: HashMap<(String, String), Instant>,
}

impl Troubles {
    /// Records the pods whose calls failed `now`; returns one whose agent has been in trouble
    /// (not running) for [`FAULT_GRACE`]. A pod seen without trouble starts over.
    fn persistent<'a>(
        &mut self,
        now: Instant,
        failed: impl Iterator<Item = &'a PodInfo>,
    ) -> Option<&'a PodInfo> {
        let troubled: Vec<&PodInfo> = failed.filter(|p| p.agent_trouble.is_some()).collect();
        self.since.retain(|(ns, name), _| {
            troubled
                .iter()
                .any(|p| &p.namespace == ns && &p.name == name)
        });
        troubled.into_iter().find(|p| {
            let since = *self
                .since
                .entry((p.namespace.clone(), p.name.clone()))
                .or_insert(now);
            now.duration_since(since) >= FAULT_GRACE
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_trouble_counts_once_it_has_lasted_the_grace_period() {
        let pod = |name: &str, trouble: Option<&str>| PodInfo {
            namespace: "default".into(),
            name: name.into(),
            component: None,
            tidb_cluster: None,
            node: None,
            ip: None,
            agent_image: Some("agent".into()),
            agent_kind: None,
            agent_container: "netem-agent".into(),
            agent_exposed: false,
            not_running: None,
            agent_trouble: trouble.map(str::to_string),
        };
        let crashing = pod("web-1", Some("waiting: CrashLoopBackOff"));
        let refusing = pod("web-0", None);
        let mut t = Troubles::default();
        let t0 = Instant::now();
        assert!(
            t.persistent(t0, [&crashing, &refusing].into_iter())
                .is_none()
        );
        let later = t0 + FAULT_GRACE;
        let found = t.persistent(later, [&crashing, &refusing].into_iter());
        assert_eq!(found.map(|p| p.name.as_str()), Some("web-1"));
        // Seen running once (no trouble): the grace starts over.
        let mut t = Troubles::default();
        t.persistent(t0, [&crashing].into_iter());
        t.persistent(t0 + Duration::from_secs(5), [&refusing].into_iter());
        assert!(t.persistent(later, [&crashing].into_iter()).is_none());
    }
}
