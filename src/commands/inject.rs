//! `kubectl netem inject`: add the agent container to a TidbCluster's components (or a
//! StatefulSet's pod template), through the one edit flow ([`crate::edit`]); with
//! `--ephemeral`, to running pods as an ephemeral container ([`crate::ephemeral`], the same
//! flow); with `-f`, to the objects of a manifest instead ([`crate::manifest`]).

use std::process::ExitCode;

use crate::cli::{ConnectionArgs, InjectArgs};
use crate::connect::connect;
use crate::edit::{self, Edit};
use crate::pods::Filter;
use crate::target::WorkloadTarget;
use crate::{ephemeral, group, manifest, workload};

/// Runs `inject`.
pub async fn run(conn: &ConnectionArgs, args: &InjectArgs) -> anyhow::Result<ExitCode> {
    let edit = Edit::Inject {
        image: args.image.clone(),
        expose: args.expose,
    };
    let components = &args.rollout.component;
    let (Some(target), None) = (&args.target, &args.manifest.filename) else {
        let file = args.manifest.filename.as_deref().unwrap_or("-".as_ref());
        return manifest::run(file, &edit, components);
    };
    let kube = connect(conn).await?;
    if args.ephemeral.ephemeral {
        let filter = Filter {
            components: components.clone(),
            selector: args.ephemeral.selector.clone(),
        };
        let mut pods = ephemeral::resolve(&kube, &target.as_pods(), &filter).await?;
        return edit::run(&kube, &mut pods, &edit, &args.rollout).await;
    }
    if let WorkloadTarget::V2(v2) = target {
        let mut groups = group::resolve(&kube, v2).await?.select(components)?;
        return edit::run(&kube, &mut groups, &edit, &args.rollout).await;
    }
    let mut target = workload::resolve(&kube, target).await?.select(components)?;
    edit::run(&kube, &mut target, &edit, &args.rollout).await
}
