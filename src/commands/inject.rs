//! `kubectl netem inject`: add the agent container to a TidbCluster's components (or a
//! StatefulSet's pod template) with a guarded JSON Patch, after preflight checks and an
//! explicit confirmation of the restarts it causes.

use std::process::ExitCode;

use anyhow::Context as _;
use k8s_openapi::api::core::v1::Namespace;
use kube::api::Api;

use crate::cli::{ConnectionArgs, InjectArgs, RolloutArgs};
use crate::connect::{Kube, connect, parse_simple_duration};
use crate::patch::{Change, Plan, plan_inject};
use crate::preflight::{self, describe, status_code};
use crate::rollout::{self, Goal};
use crate::workload::{Kind, Workload, parse_wanted, resolve, slots_for};
use netem_api::contract;

/// Runs `inject`.
pub async fn run(conn: &ConnectionArgs, args: &InjectArgs) -> anyhow::Result<ExitCode> {
    let r = &args.rollout;
    let wanted = parse_wanted(&args.target)?;
    let timeout = parse_simple_duration(&r.timeout).context("--timeout")?;
    let kube = connect(conn).await?;
    let mut w = resolve(&kube, &wanted).await?;
    let slots = w.slots(&r.component)?;

    // Preflight: everything that would make the change useless or harmful, before writing.
    if w.kind == Kind::StatefulSet && !r.force {
        preflight::managed_statefulset(&w.obj)?;
    }
    preflight::host_network(&w.obj, &slots)?;
    check_pod_security(&kube).await?;

    let container = contract::container(&args.image);
    let volume = contract::volume();
    let plan = plan_inject(&w.obj, &slots, &container, &volume).with_context(|| w.display())?;
    print_summary(&w, &plan, Some(&args.image), r.dry_run);

    let goal = Goal::Agent {
        image: args.image.clone(),
    };
    if plan.is_noop() {
        println!(
            "{} unchanged: {} already in {}",
            w.display(),
            contract::CONTAINER_NAME,
            names(&plan, |_| true)
        );
        return finish(&kube, &w, &plan, r, &goal, timeout).await;
    }
    if r.dry_run {
        return dry_run(&w, &plan).await;
    }
    let restarts = restarts(&w, &plan);
    rollout::confirm(
        &format!("Restart {} of {}?", pods(restarts), w.display()),
        r.yes,
    )?;

    let (kind, name, components) = (w.kind, w.name.clone(), r.component.clone());
    let applied = w
        .apply(|obj| {
            plan_inject(
                obj,
                &slots_for(kind, &name, obj, &components)?,
                &container,
                &volume,
            )
        })
        .await?;
    report(&w, &applied);
    finish(&kube, &w, &applied, r, &goal, timeout).await
}

/// Refuses a namespace whose Pod Security level forbids NET_ADMIN. Reading a namespace is
/// often not allowed to namespace-scoped users; then the check is skipped with a warning.
async fn check_pod_security(kube: &Kube) -> anyhow::Result<()> {
    let api: Api<Namespace> = Api::all(kube.client.clone());
    match api.get(&kube.namespace).await {
        Ok(ns) => {
            let labels = ns.metadata.labels.unwrap_or_default();
            preflight::pod_security(&kube.namespace, &labels)?;
            Ok(())
        }
        Err(err) if status_code(&err) == Some(403) => {
            eprintln!(
                "warning: cannot read namespace {} (forbidden), so its Pod Security level is not checked; \
                 the agent needs NET_ADMIN, which baseline and restricted forbid",
                kube.namespace
            );
            Ok(())
        }
        Err(err) => Err(describe(
            err,
            "get",
            &format!("namespace {:?}", kube.namespace),
            &kube.namespace,
        )),
    }
}

/// Prints what the plan changes, slot by slot, to stderr (stdout carries results).
pub(super) fn print_summary(w: &Workload, plan: &Plan, image: Option<&str>, dry_run: bool) {
    let image = image.map(|i| format!(", image {i}")).unwrap_or_default();
    eprintln!("{} in namespace {}{image}:", w.display(), w.namespace);
    let width = plan
        .slots
        .iter()
        .map(|s| s.slot.name.len())
        .max()
        .unwrap_or(0);
    for s in &plan.slots {
        let n = s.slot.replicas(&w.obj);
        let restart = if s.change == Change::Unchanged {
            String::new()
        } else {
            format!("  {} restart", pods(n))
        };
        eprintln!("  {:width$}  {:9}{restart}", s.slot.name, s.change.verb());
    }
    if !plan.is_noop() {
        let verb = if dry_run { "would restart" } else { "restarts" };
        eprintln!(
            "{} {verb} {}, one at a time.",
            capitalise(w.roller()),
            pods(restarts(w, plan))
        );
        if w.obj
            .pointer("/spec/paused")
            .and_then(serde_json::Value::as_bool)
            == Some(true)
        {
            eprintln!(
                "warning: {} is paused: the operator will not roll the pods until it is resumed",
                w.display()
            );
        }
    }
}

/// Pods that restart: the replicas of every slot that changes.
pub(super) fn restarts(w: &Workload, plan: &Plan) -> u64 {
    plan.changed().map(|s| s.slot.replicas(&w.obj)).sum()
}

/// Slot names matching `keep`, comma separated.
pub(super) fn names(plan: &Plan, keep: impl Fn(Change) -> bool) -> String {
    plan.slots
        .iter()
        .filter(|s| keep(s.change))
        .map(|s| s.slot.name.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// `--dry-run`: the exact patch on stdout (ready for `kubectl patch --type json`), then the
/// server's dry run so admission and validation are exercised without storing anything.
pub(super) async fn dry_run(w: &Workload, plan: &Plan) -> anyhow::Result<ExitCode> {
    let patch = plan.patch();
    eprintln!(
        "JSON Patch for {} (application/json-patch+json):",
        w.display()
    );
    println!("{}", serde_json::to_string_pretty(&patch)?);
    w.dry_run(&patch).await?;
    eprintln!("server-side dry run accepted the patch; nothing was changed");
    Ok(ExitCode::SUCCESS)
}

/// `--wait`, or a hint how to follow the rollout.
pub(super) async fn finish(
    kube: &Kube,
    w: &Workload,
    plan: &Plan,
    r: &RolloutArgs,
    goal: &Goal,
    timeout: std::time::Duration,
) -> anyhow::Result<ExitCode> {
    if r.wait {
        let slots: Vec<_> = plan.slots.iter().map(|s| s.slot.clone()).collect();
        rollout::wait(kube, &w.groups(&slots), goal, timeout).await?;
    } else if !plan.is_noop() {
        eprintln!("the pods restart in the background; add --wait to wait for them");
    }
    Ok(ExitCode::SUCCESS)
}

fn report(w: &Workload, plan: &Plan) {
    if plan.is_noop() {
        println!(
            "{} unchanged: already done by someone else meanwhile",
            w.display()
        );
        return;
    }
    let mut parts = Vec::new();
    let added = names(plan, |c| c == Change::Added);
    let updated = names(plan, |c| c == Change::Updated);
    if !added.is_empty() {
        parts.push(format!("added to {added}"));
    }
    if !updated.is_empty() {
        parts.push(format!("updated in {updated}"));
    }
    println!(
        "{} patched: {} {}",
        w.display(),
        contract::CONTAINER_NAME,
        parts.join("; ")
    );
}

/// `1 pod`, `3 pods`.
pub(super) fn pods(n: u64) -> String {
    if n == 1 {
        "1 pod".into()
    } else {
        format!("{n} pods")
    }
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}
