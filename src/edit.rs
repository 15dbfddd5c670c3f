//! The one flow that changes what the targeted pods run, used by `inject` and `eject`:
//! preflight → plan → summary → no-op check → dry run → confirm → guarded apply (re-planned
//! on conflict) → report → wait.
//!
//! What is edited is an [`EditTarget`]: a TidbCluster's components or a StatefulSet's pod
//! template ([`crate::workload`]), or TiDB Operator v2 groups' pod overlays
//! ([`crate::group`]). The coming ways in (ephemeral containers of running pods) are new
//! targets of the same flow.

use std::process::ExitCode;

use k8s_openapi::api::core::v1::Namespace;
use kube::api::Api;
use netem_api::contract::{self, CONTAINER_NAME};

use crate::cli::RolloutArgs;
use crate::connect::Kube;
use crate::errors::{api_status, cannot};
use crate::patch::{Change, Plan, PlanError, Slot, plan_eject, plan_inject};
use crate::preflight;
use crate::rollout::{self, Goal, Group};

/// What the edit does to every targeted slot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Edit {
    /// Add the agent container (with this image) and its volume, or update them.
    Inject {
        /// The agent image.
        image: String,
        /// Also listen on the pod IP (`--expose`).
        expose: bool,
    },
    /// Remove the agent container and its volume.
    Eject,
}

impl Edit {
    /// Plans the edit of `slots` in `obj` (pure).
    pub fn plan(&self, obj: &serde_json::Value, slots: &[Slot]) -> Result<Plan, PlanError> {
        match self {
            Edit::Inject { image, expose } => {
                let mut container = contract::container(image);
                if *expose {
                    contract::expose(&mut container);
                }
                plan_inject(obj, slots, &container, &contract::volume())
            }
            Edit::Eject => plan_eject(obj, slots),
        }
    }

    /// What the pods must look like when the rollout is over.
    pub fn goal(&self) -> Goal {
        match self {
            Edit::Inject { image, .. } => Goal::Agent {
                image: image.clone(),
            },
            Edit::Eject => Goal::NoAgent,
        }
    }

    fn adds_agent(&self) -> bool {
        matches!(self, Edit::Inject { .. })
    }

    /// The warning `--expose` owes the user, once, before anything is written.
    pub fn warning(&self) -> Option<String> {
        matches!(self, Edit::Inject { expose: true, .. }).then(|| {
            format!(
                "--expose: the agent will also listen on the pod IP, port {}: anyone who can \
                 reach the pod network can then change these pods' network (no RBAC in the way)",
                netem_api::wire::DEFAULT_PORT
            )
        })
    }
}

/// Something whose pods an [`Edit`] changes.
pub trait EditTarget {
    /// `tidbcluster/basic`.
    fn display(&self) -> String;
    /// Its namespace.
    fn namespace(&self) -> &str;
    /// Who rolls the pods after the change, for messages ("TiDB Operator"); for a target
    /// that restarts nothing, what happens instead.
    fn roller(&self) -> &'static str;
    /// Refuses an edit that adds the agent where it would be useless or harmful (pure).
    fn preflight(&self, force: bool) -> anyhow::Result<()>;
    /// Plans `edit` on the object as last read.
    fn plan(&self, edit: &Edit) -> anyhow::Result<Plan>;
    /// How many pods a slot has (the pods its change restarts).
    fn replicas(&self, slot: &Slot) -> u64;
    /// Warnings about the object that matter before changing it (e.g. paused).
    fn warnings(&self) -> Vec<String>;
    /// The JSON Patch(es) the plan sends, each with the object it goes to (`--dry-run`
    /// prints them): one for an object, one per object for a target spanning several.
    fn patches(&self, plan: &Plan) -> Vec<(String, serde_json::Value)> {
        vec![(self.display(), plan.patch())]
    }
    /// Sends the plan's patch with the server's dry run.
    fn dry_run(&self, plan: &Plan) -> impl Future<Output = anyhow::Result<()>>;
    /// Applies `edit` guarded by what was read, re-reading and re-planning on conflict;
    /// returns the plan that was applied (a no-op plan when someone else did it meanwhile).
    fn apply(&mut self, edit: &Edit) -> impl Future<Output = anyhow::Result<Plan>>;
    /// The pods of each slot, for `--wait`.
    fn groups(&self, slots: &[Slot]) -> Vec<Group>;
    /// How the roller restarts them, for the summary.
    fn pace(&self) -> &'static str {
        "one at a time"
    }
    /// Whether the edit restarts pods (asked for first); an ephemeral agent joins running
    /// pods without restarting them.
    fn restarts_pods(&self) -> bool {
        true
    }
    /// `--wait`: until the pods of the plan's slots reach the edit's goal.
    fn wait(
        &self,
        kube: &Kube,
        plan: &Plan,
        edit: &Edit,
        opts: &RolloutArgs,
    ) -> impl Future<Output = anyhow::Result<()>> {
        let slots: Vec<Slot> = plan.slots.iter().map(|s| s.slot.clone()).collect();
        let groups = self.groups(&slots);
        async move { rollout::wait(kube, &groups, &edit.goal(), opts.timeout, opts.yes).await }
    }
}

/// Runs the flow for `edit` on `target`; the exit code reports success.
pub async fn run(
    kube: &Kube,
    target: &mut impl EditTarget,
    edit: &Edit,
    opts: &RolloutArgs,
) -> anyhow::Result<ExitCode> {
    if let Some(warning) = edit.warning() {
        eprintln!("warning: {warning}");
    }
    if edit.adds_agent() {
        // Everything that would make the change useless or harmful, before writing.
        target.preflight(opts.force)?;
        check_pod_security(kube).await?;
    }
    let plan = target.plan(edit)?;
    print_summary(&*target, &plan, edit, opts.dry_run);
    if plan.is_noop() {
        let state = match edit {
            Edit::Inject { .. } => format!("{CONTAINER_NAME} already in"),
            Edit::Eject => format!("no {CONTAINER_NAME} in"),
        };
        println!(
            "{} unchanged: {state} {}",
            target.display(),
            names(&plan, |_| true)
        );
        return finish(kube, &*target, &plan, edit, opts).await;
    }
    if opts.dry_run {
        return dry_run(&*target, &plan).await;
    }
    if target.restarts_pods() {
        rollout::confirm(
            &format!(
                "Restart {} of {}?",
                pods(restarts(&*target, &plan)),
                target.display()
            ),
            opts.yes,
            "not restarting pods without confirmation, and there is no terminal to ask on: \
             pass --yes to go ahead (or --dry-run to see the patch); nothing changed",
            "cancelled; nothing changed",
        )?;
    }
    let applied = target.apply(edit).await?;
    report(&*target, edit, &applied);
    finish(kube, &*target, &applied, edit, opts).await
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
        Err(err) if api_status(&err).is_some_and(crate::errors::is_forbidden) => {
            eprintln!(
                "warning: cannot read namespace {} (forbidden), so its Pod Security level is not checked; \
                 the agent needs NET_ADMIN, which baseline and restricted forbid",
                kube.namespace
            );
            Ok(())
        }
        Err(err) => Err(cannot(
            err,
            "get",
            &format!("namespace {:?}", kube.namespace),
            &kube.namespace,
        )),
    }
}

/// Prints what the plan changes, slot by slot, to stderr (stdout carries results).
fn print_summary(target: &impl EditTarget, plan: &Plan, edit: &Edit, dry_run: bool) {
    let image = match edit {
        Edit::Inject { image, .. } => format!(", image {image}"),
        Edit::Eject => String::new(),
    };
    eprintln!(
        "{} in namespace {}{image}:",
        target.display(),
        target.namespace()
    );
    let width = plan
        .slots
        .iter()
        .map(|s| s.slot.name.len())
        .max()
        .unwrap_or(0);
    for s in &plan.slots {
        let restart = if s.change == Change::Unchanged || !target.restarts_pods() {
            String::new()
        } else {
            format!("  {} restart", pods(target.replicas(&s.slot)))
        };
        eprintln!("  {:width$}  {:9}{restart}", s.slot.name, s.change.verb());
    }
    if !plan.is_noop() && !target.restarts_pods() {
        eprintln!("No pod restarts: {}.", target.roller());
    } else if !plan.is_noop() {
        let verb = if dry_run { "would restart" } else { "restarts" };
        eprintln!(
            "{} {verb} {}, {}.",
            capitalise(target.roller()),
            pods(restarts(target, plan)),
            target.pace()
        );
        for warning in target.warnings() {
            eprintln!("warning: {warning}");
        }
    }
}

/// Pods that restart: the replicas of every slot that changes.
fn restarts(target: &impl EditTarget, plan: &Plan) -> u64 {
    plan.changed().map(|s| target.replicas(&s.slot)).sum()
}

/// Slot names matching `keep`, comma separated.
fn names(plan: &Plan, keep: impl Fn(Change) -> bool) -> String {
    plan.slots
        .iter()
        .filter(|s| keep(s.change))
        .map(|s| s.slot.name.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// `--dry-run`: the exact patch on stdout (ready for `kubectl patch --type json`), then the
/// server's dry run so admission and validation are exercised without storing anything.
async fn dry_run(target: &impl EditTarget, plan: &Plan) -> anyhow::Result<ExitCode> {
    for (object, patch) in target.patches(plan) {
        eprintln!("JSON Patch for {object} (application/json-patch+json):");
        println!("{}", serde_json::to_string_pretty(&patch)?);
    }
    target.dry_run(plan).await?;
    eprintln!("server-side dry run accepted the patch; nothing was changed");
    Ok(ExitCode::SUCCESS)
}

/// What was applied, on stdout.
fn report(target: &impl EditTarget, edit: &Edit, plan: &Plan) {
    if plan.is_noop() {
        let by = match edit {
            Edit::Inject { .. } => "already done",
            Edit::Eject => "already removed",
        };
        println!(
            "{} unchanged: {by} by someone else meanwhile",
            target.display()
        );
        return;
    }
    let what = match edit {
        Edit::Inject { .. } => {
            let mut parts = Vec::new();
            let added = names(plan, |c| c == Change::Added);
            let updated = names(plan, |c| c == Change::Updated);
            if !added.is_empty() {
                parts.push(format!("added to {added}"));
            }
            if !updated.is_empty() {
                parts.push(format!("updated in {updated}"));
            }
            parts.join("; ")
        }
        Edit::Eject => format!("removed from {}", names(plan, |c| c == Change::Removed)),
    };
    println!("{} patched: {CONTAINER_NAME} {what}", target.display());
}

/// `--wait`, or a hint how to follow the rollout.
async fn finish(
    kube: &Kube,
    target: &impl EditTarget,
    plan: &Plan,
    edit: &Edit,
    opts: &RolloutArgs,
) -> anyhow::Result<ExitCode> {
    if opts.wait {
        target.wait(kube, plan, edit, opts).await?;
    } else if !plan.is_noop() {
        eprintln!("{}", background_hint(edit, target.restarts_pods()));
    }
    Ok(ExitCode::SUCCESS)
}

/// Without `--wait`: what goes on after the command returns, and how to wait for it.
fn background_hint(edit: &Edit, restarts_pods: bool) -> &'static str {
    match (edit, restarts_pods) {
        (_, true) => "the pods restart in the background; add --wait to wait for them",
        (Edit::Inject { .. }, false) => {
            "the agents start in the background; add --wait to wait until they answer"
        }
        (Edit::Eject, false) => {
            "the agents stop in the background; add --wait to wait until they have exited"
        }
    }
}

/// `1 pod`, `3 pods`.
fn pods(n: u64) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn background_hint_says_what_goes_on() {
        let inject = Edit::Inject {
            image: "agent:1".into(),
            expose: false,
        };
        assert!(background_hint(&inject, true).starts_with("the pods restart"));
        assert!(background_hint(&Edit::Eject, true).starts_with("the pods restart"));
        // Ephemeral agents: no restart; inject starts them, eject stops them.
        assert!(background_hint(&inject, false).starts_with("the agents start"));
        assert!(background_hint(&Edit::Eject, false).starts_with("the agents stop"));
    }
}
