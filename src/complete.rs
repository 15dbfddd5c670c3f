//! `kubectl netem <TAB>`: kubectl (≥ 1.26) runs `kubectl_complete-netem ARGS... PARTIAL`,
//! which runs `kubectl-netem __complete ARGS... PARTIAL`. We answer in Cobra's protocol,
//! which kubectl expects: one candidate per line, then `:DIRECTIVE`.
//!
//! Flags and subcommands come from the clap definition (the one source of truth); pod and
//! TidbCluster names come from the cluster, with the `-n/--context/--kubeconfig` the user
//! already typed.

use std::process::ExitCode;

use clap::{ArgAction, Command};
use k8s_openapi::api::{apps::v1::StatefulSet, core::v1::Pod};
use kube::api::{Api, DynamicObject, ListParams};

use crate::cli::ConnectionArgs;

/// Cobra's `ShellCompDirectiveNoFileComp`: never fall back to file names.
const NO_FILE_COMP: u8 = 4;

/// What the word under the cursor can be.
#[derive(Debug, PartialEq, Eq)]
pub enum Want {
    /// Fixed words (subcommands, flags, a flag's possible values).
    Words(Vec<String>),
    /// Pods that carry the agent, and `tidb-cluster/NAME`s.
    PodTargets,
    /// Any pod, and `tidb-cluster/NAME`s: destinations (`--to`, `--from`).
    Destinations,
    /// `tidb-cluster/NAME`s and `statefulset/NAME`s.
    WorkloadTargets,
    /// Nothing sensible to offer (a duration, a free value).
    Nothing,
}

/// Decides what to complete from the words before the cursor (sans-IO, unit-tested).
pub fn want(cmd: &Command, prior: &[String], partial: &str) -> Want {
    let mut sub: Option<&Command> = None;
    let mut expecting_value_of: Option<&clap::Arg> = None;
    for word in prior {
        if expecting_value_of.take().is_some() {
            continue;
        }
        if let Some(arg) = flag(cmd, sub, word) {
            if takes_value(arg) && !word.contains('=') {
                expecting_value_of = Some(arg);
            }
        } else if sub.is_none() && !word.starts_with('-') {
            sub = cmd.find_subcommand(word);
        }
    }
    if let Some(arg) = expecting_value_of {
        if matches!(arg.get_long(), Some("to" | "from")) {
            return Want::Destinations;
        }
        let values: Vec<String> = arg
            .get_possible_values()
            .iter()
            .map(|v| v.get_name().to_string())
            .collect();
        return if values.is_empty() {
            Want::Nothing
        } else {
            Want::Words(filter(values, partial))
        };
    }
    if partial.starts_with('-') {
        let mut flags: Vec<String> = cmd.get_arguments().filter_map(long).collect();
        if let Some(sub) = sub {
            flags.extend(sub.get_arguments().filter_map(long));
        }
        return Want::Words(filter(flags, partial));
    }
    match sub.map(Command::get_name) {
        None => Want::Words(filter(
            cmd.get_subcommands()
                .filter(|s| !s.is_hide_set())
                .map(|s| s.get_name().to_string())
                .collect(),
            partial,
        )),
        Some("inject" | "eject") => Want::WorkloadTargets,
        Some("delay" | "partition" | "clear" | "status") => Want::PodTargets,
        Some(_) => Want::Nothing,
    }
}

fn flag<'a>(cmd: &'a Command, sub: Option<&'a Command>, word: &str) -> Option<&'a clap::Arg> {
    let name = word.split('=').next()?;
    let matches = |a: &&clap::Arg| {
        name.strip_prefix("--")
            .is_some_and(|l| a.get_long() == Some(l))
            || (name.len() == 2
                && name.starts_with('-')
                && a.get_short().is_some_and(|s| name.ends_with(s)))
    };
    sub.and_then(|s| s.get_arguments().find(matches))
        .or_else(|| cmd.get_arguments().find(matches))
}

fn takes_value(arg: &clap::Arg) -> bool {
    matches!(arg.get_action(), ArgAction::Set | ArgAction::Append)
}

fn long(arg: &clap::Arg) -> Option<String> {
    (!arg.is_hide_set()).then(|| arg.get_long().map(|l| format!("--{l}")))?
}

fn filter(words: Vec<String>, partial: &str) -> Vec<String> {
    words
        .into_iter()
        .filter(|w| w.starts_with(partial))
        .collect()
}

/// Answers one completion request; never fails loudly (a shell is waiting).
pub async fn run(
    cmd: Command,
    words: &[String],
    conn: &ConnectionArgs,
) -> anyhow::Result<ExitCode> {
    let (partial, prior) = match words.split_last() {
        Some((p, prior)) => (p.as_str(), prior),
        None => ("", &[][..]),
    };
    let conn = with_typed_connection_flags(conn, prior);
    let conn = &conn;
    let candidates = match want(&cmd, prior, partial) {
        Want::Words(words) => words,
        Want::Nothing => Vec::new(),
        Want::PodTargets => remote(conn, partial, Some(true)).await.unwrap_or_default(),
        Want::Destinations => remote(conn, partial, Some(false)).await.unwrap_or_default(),
        Want::WorkloadTargets => remote(conn, partial, None).await.unwrap_or_default(),
    };
    for c in candidates {
        println!("{c}");
    }
    println!(":{NO_FILE_COMP}");
    Ok(ExitCode::SUCCESS)
}

/// The user may have typed `-n NS` (or `--context`, `--server`, `--token`, ...) after the
/// subcommand, where clap saw them only as words: parse the words again with the one command
/// line definition (tolerating what is still incomplete) so every connection flag is honoured
/// for the cluster lookups, exactly as the command would read it.
fn with_typed_connection_flags(conn: &ConnectionArgs, prior: &[String]) -> ConnectionArgs {
    let words = std::iter::once("kubectl-netem".to_string()).chain(prior.iter().cloned());
    <crate::cli::Cli as clap::CommandFactory>::command()
        .ignore_errors(true)
        .try_get_matches_from(words)
        .ok()
        .and_then(|m| <ConnectionArgs as clap::FromArgMatches>::from_arg_matches(&m).ok())
        .map_or_else(|| conn.clone(), |typed| typed.or(conn))
}

/// Names from the cluster: pods with the agent (for pod targets), TidbClusters, and
/// StatefulSets (for workload targets).
/// Pod names (`Some(true)`: only those with the agent) or StatefulSets (`None`), then
/// TidbClusters, starting with `partial`.
async fn remote(
    conn: &ConnectionArgs,
    partial: &str,
    pods: Option<bool>,
) -> anyhow::Result<Vec<String>> {
    let kube = crate::connect::connect(conn).await?;
    let ns = kube.namespace.as_str();
    let mut out = Vec::new();
    if let Some(agent_only) = pods {
        let list = Api::<Pod>::namespaced(kube.client.clone(), ns)
            .list(&ListParams::default())
            .await?;
        out.extend(
            list.items
                .into_iter()
                .filter(|p| !agent_only || crate::pods::pod_info(p).has_agent())
                .filter_map(|p| p.metadata.name),
        );
    } else {
        let sts = Api::<StatefulSet>::namespaced(kube.client.clone(), ns)
            .list(&ListParams::default())
            .await?;
        out.extend(
            sts.items
                .into_iter()
                .filter_map(|s| s.metadata.name)
                .map(|n| format!("statefulset/{n}")),
        );
    }
    let tc = crate::v1::tidbcluster_resource();
    // A cluster without the TidbCluster CRD simply has none to offer.
    if let Ok(list) = Api::<DynamicObject>::namespaced_with(kube.client.clone(), ns, &tc)
        .list(&ListParams::default())
        .await
    {
        out.extend(
            list.items
                .into_iter()
                .filter_map(|o| o.metadata.name)
                .map(|n| format!("tidb-cluster/{n}")),
        );
    }
    // TiDB Operator v2 clusters, where its CRDs are served.
    let v2 = crate::v2::cluster_resource();
    if let Ok(list) = Api::<DynamicObject>::namespaced_with(kube.client, ns, &v2)
        .list(&ListParams::default())
        .await
    {
        out.extend(
            list.items
                .into_iter()
                .filter_map(|o| o.metadata.name)
                .map(|n| format!("cluster/{n}")),
        );
    }
    Ok(filter(out, partial))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    fn w(prior: &[&str], partial: &str) -> Want {
        let prior: Vec<String> = prior.iter().map(|s| s.to_string()).collect();
        want(&crate::cli::Cli::command(), &prior, partial)
    }

    #[test]
    fn subcommands_then_targets() {
        assert_eq!(w(&[], "d"), Want::Words(vec!["delay".into()]));
        assert_eq!(w(&["-n", "tidb"], "st"), Want::Words(vec!["status".into()]));
        assert_eq!(w(&["delay"], "basic"), Want::PodTargets);
        assert_eq!(w(&["partition"], "basic"), Want::PodTargets);
        assert_eq!(
            w(&["delay", "basic-pd-0", "20ms", "--to"], "b"),
            Want::Destinations
        );
        assert_eq!(
            w(&["partition", "basic-pd-0", "--from"], ""),
            Want::Destinations
        );
        assert_eq!(w(&["-n", "delay", "inject"], ""), Want::WorkloadTargets);
    }

    #[test]
    fn typed_connection_flags_are_honoured() {
        let words: Vec<String> = [
            "delay",
            "-n",
            "tidb",
            "--context=kind",
            "--server",
            "https://10.0.0.1:6443",
            "--as",
            "alice",
            "basic-",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let conn = with_typed_connection_flags(&ConnectionArgs::default(), &words);
        assert_eq!(conn.namespace.as_deref(), Some("tidb"));
        assert_eq!(conn.context.as_deref(), Some("kind"));
        assert_eq!(
            conn.server.as_ref().map(ToString::to_string).as_deref(),
            Some("https://10.0.0.1:6443/")
        );
        assert_eq!(conn.impersonate.as_deref(), Some("alice"));
        // What the outer parse had stays where the words say nothing.
        let outer = ConnectionArgs {
            kubeconfig: Some("/k".into()),
            ..ConnectionArgs::default()
        };
        let conn = with_typed_connection_flags(&outer, &words[..3]);
        assert_eq!(conn.kubeconfig.as_deref(), Some(std::path::Path::new("/k")));
        assert_eq!(conn.namespace.as_deref(), Some("tidb"));
    }

    #[test]
    fn flags_and_their_values() {
        let Want::Words(flags) = w(&["delay", "basic-pd-0"], "--ji") else {
            panic!()
        };
        assert_eq!(flags, vec!["--jitter".to_string()]);
        let Want::Words(values) = w(&["delay", "--distribution"], "pa") else {
            panic!()
        };
        assert_eq!(
            values,
            vec!["pareto".to_string(), "paretonormal".to_string()]
        );
        assert_eq!(w(&["delay", "--jitter"], ""), Want::Nothing);
        let Want::Words(out) = w(&["status", "-o"], "") else {
            panic!()
        };
        assert!(out.contains(&"json".to_string()));
    }
}
