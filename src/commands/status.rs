//! `kubectl netem status [TARGET...] [-A] [-o table|wide|json|yaml]`: what is in force.

use std::process::ExitCode;

use crate::agent_client::AgentCall;
use crate::calls;
use crate::cli::{ConnectionArgs, Output, StatusArgs};
use crate::connect::connect;
use crate::fanout;
use crate::pods::{self, MissingAgent};
use crate::report;

/// Lists the pods (every pod with the agent by default), asks each agent what is in
/// force, and prints one row per pod; pods that could not be read say why.
pub async fn run(conn: &ConnectionArgs, args: &StatusArgs) -> anyhow::Result<ExitCode> {
    if args.all_namespaces && !args.targets.is_empty() {
        anyhow::bail!("name targets within one namespace (-n), or use -A without targets");
    }
    let kube = connect(conn).await?;
    let filter = calls::filter(&args.fanout);
    let selection = if args.targets.is_empty() {
        let ns = (!args.all_namespaces).then_some(kube.namespace.as_str());
        pods::with_agent(&kube.client, ns, &filter).await?
    } else {
        // A named pod without the agent is shown as such rather than refused.
        pods::resolve(
            &kube.client,
            &kube.namespace,
            &args.targets,
            &filter,
            MissingAgent::Report,
        )
        .await?
    };
    for note in &selection.notes {
        eprintln!("note: {note}");
    }
    let scripted = matches!(args.output, Output::Json | Output::Yaml);
    if selection.pods.is_empty() && !scripted {
        let place = if args.all_namespaces {
            "any namespace".to_string()
        } else {
            format!("namespace {}", kube.namespace)
        };
        eprintln!("No pods with the netem agent found in {place}.");
        return Ok(ExitCode::SUCCESS);
    }
    let outcomes = calls::call_all(
        &kube.client,
        selection.pods,
        calls::options(&args.fanout),
        "status",
        &AgentCall::Get,
    )
    .await;
    // Rules hold the IPs their destination pods had: one list call tells which moved.
    let records_pods = outcomes.iter().any(|o| {
        o.result
            .as_ref()
            .is_ok_and(|s| s.rules.iter().any(|r| !r.about.is_null()))
    });
    let current = if records_pods {
        let ns = (!args.all_namespaces).then_some(kube.namespace.as_str());
        match pods::addresses(&kube.client, ns).await {
            Ok(current) => Some(current),
            Err(e) => {
                eprintln!(
                    "note: cannot tell whether rules are stale: {}",
                    crate::errors::render(&e)
                );
                None
            }
        }
    } else {
        None
    };
    let list = report::status_list(&outcomes, current.as_ref(), std::time::SystemTime::now());
    print!(
        "{}",
        report::render(&list, args.output, args.all_namespaces)?
    );
    for note in report::stale_notes(&list, args.all_namespaces) {
        eprintln!("note: {note}");
    }
    for line in fanout::failure_lines(&outcomes, args.all_namespaces) {
        eprintln!("{line}");
    }
    eprintln!("{}", fanout::summary("status", &outcomes));
    Ok(if fanout::any_failed(&outcomes) {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}
