//! `kubectl netem inject`: add the agent container to a TidbCluster's components (or a
//! StatefulSet's pod template), through the one edit flow ([`crate::edit`]).

use std::process::ExitCode;

use crate::cli::{ConnectionArgs, InjectArgs};
use crate::connect::connect;
use crate::edit::{self, Edit};
use crate::workload;

/// Runs `inject`.
pub async fn run(conn: &ConnectionArgs, args: &InjectArgs) -> anyhow::Result<ExitCode> {
    let kube = connect(conn).await?;
    let mut target = workload::resolve(&kube, &args.target)
        .await?
        .select(&args.rollout.component)?;
    let edit = Edit::Inject {
        image: args.image.clone(),
    };
    edit::run(&kube, &mut target, &edit, &args.rollout).await
}
