//! What `delay`, `clear` and `status` share: call every selected pod's agent, report each.

use std::process::ExitCode;

use netem_api::wire::NetemState;

use bytes::Bytes;
use hyper::StatusCode;

use crate::agent_client::{AgentCall, RuleAnswer, decode_rule, decode_state, exchange};
use crate::cli::FanoutArgs;
use crate::fanout::{self, Options, Outcome};
use crate::pod_error::PodError;
use crate::pods::{Filter, PodInfo};

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
