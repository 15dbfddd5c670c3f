//! `kubectl netem inject`: add the agent to a TidbCluster's components, a StatefulSet's pod
//! template, TiDB Operator v2 groups' pod overlays, running pods (`--ephemeral`) or a
//! manifest (`-f`): see [`super::change`].

use std::process::ExitCode;

use crate::cli::{ConnectionArgs, InjectArgs};
use crate::edit::Edit;

/// Runs `inject`.
pub async fn run(conn: &ConnectionArgs, args: &InjectArgs) -> anyhow::Result<ExitCode> {
    let edit = Edit::Inject {
        image: args.image.clone(),
        expose: args.expose,
    };
    super::change(conn, &args.change, edit).await
}
