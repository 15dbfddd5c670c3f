//! `kubectl netem clear TARGET...|--all [--force]`: remove netem from every selected pod.

use std::process::ExitCode;

use crate::agent_client::AgentCall;
use crate::calls;
use crate::cli::{ClearArgs, ConnectionArgs};
use crate::connect::connect;
use crate::pods::{self, MissingAgent};
use crate::report::describe_state;

/// Resolves the pods (refusing unknown pods and pods without the agent before any change),
/// then asks every agent to clear.
pub async fn run(conn: &ConnectionArgs, args: &ClearArgs) -> anyhow::Result<ExitCode> {
    let kube = connect(conn).await?;
    let filter = calls::filter(&args.fanout);
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
    let outcomes = calls::call_all(
        &kube.client,
        selection.pods,
        calls::options(&args.fanout),
        "clear",
        &AgentCall::Clear { force: args.force },
    )
    .await;
    Ok(calls::report(
        &selection.notes,
        &outcomes,
        "clear",
        |state| {
            if state.is_clear() {
                "cleared".to_string()
            } else {
                format!("cleared; root qdisc now: {}", describe_state(state))
            }
        },
    ))
}
