//! What `delay`, `clear` and `status` share: call every selected pod's agent, report each;
//! and `inject --wait`'s last step, waiting until the agents answer.

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
        if start.elapsed() >= timeout {
            anyhow::bail!(
                "timed out after {timeout:?} waiting for the agents to answer:\n{}",
                fanout::failure_lines(&outcomes, false).join("\n")
            );
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}
