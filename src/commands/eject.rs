//! `kubectl netem eject`: remove the agent container (and its volume) again, leaving every
//! other part of the spec as it was.

use std::process::ExitCode;

use anyhow::Context as _;

use super::inject::{dry_run, finish, names, pods, print_summary, restarts};
use crate::cli::{ConnectionArgs, EjectArgs};
use crate::connect::{connect, parse_simple_duration};
use crate::patch::{Change, plan_eject};
use crate::rollout::{self, Goal};
use crate::workload::{parse_wanted, resolve, slots_for};
use netem_api::contract::CONTAINER_NAME;

/// Runs `eject`. No Pod Security or hostNetwork checks: taking the agent out is always
/// allowed, and an operator-managed StatefulSet is not refused either (its operator's own
/// template never had the agent).
pub async fn run(conn: &ConnectionArgs, args: &EjectArgs) -> anyhow::Result<ExitCode> {
    let r = &args.rollout;
    let wanted = parse_wanted(&args.target)?;
    let timeout = parse_simple_duration(&r.timeout).context("--timeout")?;
    let kube = connect(conn).await?;
    let mut w = resolve(&kube, &wanted).await?;
    let slots = w.slots(&r.component)?;

    let plan = plan_eject(&w.obj, &slots).with_context(|| w.display())?;
    print_summary(&w, &plan, None, r.dry_run);
    if plan.is_noop() {
        println!(
            "{} unchanged: no {CONTAINER_NAME} in {}",
            w.display(),
            names(&plan, |_| true)
        );
        return finish(&kube, &w, &plan, r, &Goal::NoAgent, timeout).await;
    }
    if r.dry_run {
        return dry_run(&w, &plan).await;
    }
    rollout::confirm(
        &format!("Restart {} of {}?", pods(restarts(&w, &plan)), w.display()),
        r.yes,
    )?;

    let (kind, name, components) = (w.kind, w.name.clone(), r.component.clone());
    let applied = w
        .apply(|obj| plan_eject(obj, &slots_for(kind, &name, obj, &components)?))
        .await?;
    if applied.is_noop() {
        println!(
            "{} unchanged: already removed by someone else meanwhile",
            w.display()
        );
    } else {
        println!(
            "{} patched: {CONTAINER_NAME} removed from {}",
            w.display(),
            names(&applied, |c| c == Change::Removed)
        );
    }
    finish(&kube, &w, &applied, r, &Goal::NoAgent, timeout).await
}
