//! `kubectl netem eject`: remove the agent container (and its volume) again, leaving every
//! other part of the spec as it was, through the one edit flow ([`crate::edit`]); with
//! `--ephemeral`, stop the running pods' ephemeral agents ([`crate::ephemeral`]); with `-f`,
//! from the objects of a manifest instead ([`crate::manifest`]).
//!
//! No Pod Security or hostNetwork checks: taking the agent out is always allowed, and an
//! operator-managed StatefulSet is not refused either (its operator's own template never
//! had the agent).

use std::process::ExitCode;

use crate::cli::{ConnectionArgs, EjectArgs};
use crate::connect::connect;
use crate::edit::{self, Edit};
use crate::pods::Filter;
use crate::target::WorkloadTarget;
use crate::{ephemeral, group, manifest, workload};

/// Runs `eject`.
pub async fn run(conn: &ConnectionArgs, args: &EjectArgs) -> anyhow::Result<ExitCode> {
    let components = &args.rollout.component;
    let (Some(target), None) = (&args.target, &args.manifest.filename) else {
        let file = args.manifest.filename.as_deref().unwrap_or("-".as_ref());
        return manifest::run(file, &Edit::Eject, components);
    };
    let kube = connect(conn).await?;
    if args.ephemeral.ephemeral {
        let filter = Filter {
            components: components.clone(),
            selector: args.ephemeral.selector.clone(),
        };
        let mut pods = ephemeral::resolve(&kube, &target.as_pods(), &filter).await?;
        return edit::run(&kube, &mut pods, &Edit::Eject, &args.rollout).await;
    }
    if let WorkloadTarget::V2(v2) = target {
        let mut groups = group::resolve(&kube, v2).await?.select(components)?;
        return edit::run(&kube, &mut groups, &Edit::Eject, &args.rollout).await;
    }
    let mut target = workload::resolve(&kube, target).await?.select(components)?;
    edit::run(&kube, &mut target, &Edit::Eject, &args.rollout).await
}
