//! One module per subcommand; `run` dispatches.

use std::process::ExitCode;

use crate::cli::{ChangeArgs, Cli, Command, ConnectionArgs};
use crate::connect::connect;
use crate::edit::{self, Edit};
use crate::pods::Filter;
use crate::target::WorkloadTarget;
use crate::{calls, ephemeral, group, manifest, workload};

mod clear;
mod completions;
mod delay;
mod eject;
mod inject;
mod partition;
mod status;

/// Runs the parsed command line; the exit code reports partial failures.
pub async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Completions(args) => completions::run(&args),
        Command::Complete(args) => {
            crate::complete::run(
                <Cli as clap::CommandFactory>::command(),
                &args.words,
                &cli.conn,
            )
            .await
        }
        Command::Inject(args) => inject::run(&cli.conn, &args).await,
        Command::Eject(args) => eject::run(&cli.conn, &args).await,
        Command::Delay(args) => delay::run(&cli.conn, &args).await,
        Command::Partition(args) => partition::run(&cli.conn, &args).await,
        Command::Clear(args) => clear::run(&cli.conn, &args).await,
        Command::Status(args) => status::run(&cli.conn, &args).await,
    }
}

/// `inject` and `eject`: `edit` on what the command line names, through the one edit flow
/// with the target that fits: a TidbCluster or StatefulSet ([`workload`]), TiDB Operator v2
/// groups ([`group`]), running pods' ephemeral containers ([`ephemeral`]); or, with `-f`, a
/// manifest ([`manifest`], nothing contacted).
async fn change(conn: &ConnectionArgs, args: &ChangeArgs, edit: Edit) -> anyhow::Result<ExitCode> {
    let components = &args.rollout.component;
    let (Some(target), None) = (&args.target, &args.manifest.filename) else {
        let file = args.manifest.filename.as_deref().unwrap_or("-".as_ref());
        return manifest::run(file, &edit, components);
    };
    let kube = connect(conn).await?;
    let filter = Filter {
        components: components.clone(),
        selector: args.ephemeral.selector.clone(),
    };
    // Each way in, and the pods it puts the agent into (for the last step of --wait).
    let (code, (pods, filter)) = if args.ephemeral.ephemeral {
        let mut pods = ephemeral::resolve(&kube, &target.as_pods(), &filter).await?;
        let code = edit::run(&kube, &mut pods, &edit, &args.rollout).await?;
        (code, (target.as_pods(), filter))
    } else if let WorkloadTarget::V2(v2) = target {
        let mut groups = group::resolve(&kube, v2).await?.select(components)?;
        let code = edit::run(&kube, &mut groups, &edit, &args.rollout).await?;
        (code, (target.as_pods(), filter))
    } else {
        let mut workload = workload::resolve(&kube, target).await?.select(components)?;
        let code = edit::run(&kube, &mut workload, &edit, &args.rollout).await?;
        (code, workload.pods())
    };
    let r = &args.rollout;
    if r.wait && !r.dry_run && matches!(edit, Edit::Inject { .. }) {
        calls::until_answering(&kube, &pods, &filter, r.timeout).await?;
    }
    Ok(code)
}
