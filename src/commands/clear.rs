//! `kubectl netem clear TARGET...|--all [--force] [--to DEST... [--direction WAY]]`: remove
//! netem (rules included) from every selected pod, or with destinations only the rule for
//! them ([`crate::rule_calls`]).

use std::process::ExitCode;

use crate::agent_client::AgentCall;
use crate::calls;
use crate::cli::{ClearArgs, ConnectionArgs, Direction};
use crate::connect::connect;
use crate::destinations::Destinations;
use crate::pods::{self, MissingAgent};
use crate::report::describe_state;
use crate::rule_calls;

/// Resolves the pods (refusing unknown pods and pods without the agent before any change),
/// then asks every agent to clear.
pub async fn run(conn: &ConnectionArgs, args: &ClearArgs) -> anyhow::Result<ExitCode> {
    let dest = Destinations::new(&args.to, "--to");
    if dest.is_empty() && args.direction.is_some() {
        anyhow::bail!(
            "--direction needs destinations (--to, --to-component, --to-selector); nothing was changed"
        );
    }
    if !dest.is_empty() && (args.all || args.force) {
        anyhow::bail!(
            "--to removes one rule from the pods named; --all and --force are for clearing pods entirely"
        );
    }
    let kube = connect(conn).await?;
    if !dest.is_empty() {
        let needs_agent = args.direction != Some(Direction::From);
        let sides =
            rule_calls::resolve(&kube, &args.targets, &args.fanout, &dest, needs_agent).await?;
        let plan = rule_calls::plan_clear(
            &sides.sources,
            &sides.source_name,
            &sides.dest,
            args.direction,
        );
        let what = format!("clear the rule to {}", sides.dest.name.expression());
        return Ok(rule_calls::run(&kube, plan, &args.fanout, "clear", &what).await);
    }
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
