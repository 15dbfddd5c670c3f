//! `kubectl netem clear TARGET...|--all [--force]`: remove netem from every selected pod.

use std::process::ExitCode;

use crate::agent_client::AgentCall;
use crate::cli::{ClearArgs, ConnectionArgs};
use crate::commands::pod_call;
use crate::connect::connect;
use crate::pods::{self, MissingAgent};
use crate::report::describe_state;

/// Resolves the pods (refusing unknown pods and pods without the agent before any change),
/// then asks every agent to clear.
pub async fn run(conn: &ConnectionArgs, args: &ClearArgs) -> anyhow::Result<ExitCode> {
    let kube = connect(conn).await?;
    let filter = pod_call::filter(&args.fanout);
    let selection = if args.all {
        let s = pods::with_agent(&kube.client, Some(&kube.namespace), &filter).await?;
        if s.pods.is_empty() {
            anyhow::bail!(
                "no pods with the netem agent in namespace {}{}",
                kube.namespace,
                if filter.components.is_empty() && filter.selector.is_none() {
                    ""
                } else {
                    " matching the filter"
                }
            );
        }
        s
    } else {
        pods::resolve(
            &kube.client,
            &kube.namespace,
            &args.targets,
            &filter,
            MissingAgent::Refuse,
        )
        .await?
    };
    let outcomes = pod_call::call_all(
        &kube.client,
        selection.pods,
        pod_call::options(&args.fanout),
        "clear",
        &AgentCall::Clear { force: args.force },
    )
    .await;
    Ok(pod_call::report(
        &selection.notes,
        &outcomes,
        "clear",
        |state| match describe_state(state).as_str() {
            "none" => "cleared".to_string(),
            other => format!("cleared; root qdisc now: {other}"),
        },
    ))
}
