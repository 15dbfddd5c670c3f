//! `kubectl netem partition TARGET... --from DEST... [--one-way] [--for D]`: `delay` with
//! 100 % loss as a rule, both directions unless `--one-way` ([`crate::rule_calls`]).

use std::process::ExitCode;

use netem_api::spec::{NetemSpec, Percent};

use crate::cli::{ConnectionArgs, Direction, PartitionArgs, ToArgs};
use crate::connect::connect;
use crate::destinations::Destinations;
use crate::rule_calls;

/// Resolves both sides, then sets the loss rule on the targets' agents and (unless
/// `--one-way`) the reverse on the destinations' agents.
pub async fn run(conn: &ConnectionArgs, args: &PartitionArgs) -> anyhow::Result<ExitCode> {
    let dest = Destinations::new(&ToArgs::from(&args.from), "--from");
    if dest.is_empty() {
        anyhow::bail!(
            "partition needs what to cut the targets off from: --from, --from-component or \
             --from-selector; nothing was changed"
        );
    }
    let direction = direction(args.one_way);
    let spec = spec(args);
    let kube = connect(conn).await?;
    let sides = rule_calls::resolve(&kube, &args.targets, &args.fanout, &dest, true).await?;
    let plan = rule_calls::plan_set(
        &sides.sources,
        &sides.source_name,
        &sides.dest,
        &spec,
        direction,
        dest.flag,
    )
    .map_err(|e| anyhow::anyhow!("{e}; nothing was changed"))?;
    let what = format!(
        "partition from {}{}",
        sides.dest.name.expression(),
        rule_calls::direction_words(direction)
    );
    Ok(rule_calls::run(&kube, plan, &args.fanout, "partition", &what).await)
}

/// Both ways, unless `--one-way`.
fn direction(one_way: bool) -> Direction {
    if one_way {
        Direction::To
    } else {
        Direction::Both
    }
}

/// A partition is 100 % loss (for `--for`, if given).
fn spec(args: &PartitionArgs) -> NetemSpec {
    NetemSpec {
        loss: Some(Percent::new(100.0).expect("100 % is a percentage")),
        ttl: args.ttl,
        ..NetemSpec::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{Cli, Command};
    use clap::Parser as _;

    fn args(extra: &[&str]) -> PartitionArgs {
        let mut v = vec![
            "kubectl-netem",
            "partition",
            "basic-pd-0",
            "--from",
            "basic-tikv-0",
        ];
        v.extend_from_slice(extra);
        match Cli::try_parse_from(v).unwrap().command {
            Command::Partition(p) => p,
            _ => unreachable!(),
        }
    }

    #[test]
    fn a_partition_is_full_loss_both_ways() {
        let a = args(&["--for", "5m"]);
        assert_eq!(
            serde_json::to_value(spec(&a)).unwrap(),
            serde_json::json!({"loss": "100%", "ttl": "5m"})
        );
        assert!(spec(&a).validate().is_ok());
        assert_eq!(direction(a.one_way), Direction::Both);
        assert_eq!(direction(args(&["--one-way"]).one_way), Direction::To);
        let d = Destinations::new(&ToArgs::from(&a.from), "--from");
        assert_eq!(d.targets.len(), 1);
    }
}
