//! `kubectl netem delay TARGET... DURATION [flags] [--to DEST... [--direction WAY]]`: set
//! netem on every selected pod, for all its traffic or, with destinations, as a rule for
//! the traffic to them ([`crate::rule_calls`]).

use std::process::ExitCode;

use netem_api::spec::{FieldError, NetemSpec};
use netem_api::wire::NetemState;

use crate::agent_client::AgentCall;
use crate::calls;
use crate::cli::{ConnectionArgs, DelayArgs, Direction};
use crate::connect::connect;
use crate::destinations::Destinations;
use crate::pods::{self, MissingAgent};
use crate::report::{describe_spec, describe_state};
use crate::rule_calls;

/// Validates the settings, resolves the pods (both before any change), then sets the
/// settings on every pod's agent.
pub async fn run(conn: &ConnectionArgs, args: &DelayArgs) -> anyhow::Result<ExitCode> {
    let spec = spec_from_args(args).map_err(|e| anyhow::anyhow!("{}", flag_error(&e)))?;
    let dest = Destinations::new(&args.to, "--to");
    if dest.is_empty() && args.direction != Direction::To {
        anyhow::bail!(
            "--direction needs destinations (--to, --to-component, --to-selector); nothing was changed"
        );
    }
    let kube = connect(conn).await?;
    if !dest.is_empty() {
        let sides = rule_calls::resolve(
            &kube,
            &args.targets,
            &args.fanout,
            &dest,
            args.direction != Direction::From,
        )
        .await?;
        let plan = rule_calls::plan_set(
            &sides.sources,
            &sides.source_name,
            &sides.dest,
            &spec,
            args.direction,
            dest.flag,
        )
        .map_err(|e| anyhow::anyhow!("{e}; nothing was changed"))?;
        let what = format!(
            "{} to {}{}",
            describe_spec(&spec),
            sides.dest.name.expression(),
            rule_calls::direction_words(args.direction)
        );
        return Ok(rule_calls::run(&kube, plan, &args.fanout, "delay", &what).await);
    }
    let selection = pods::resolve(
        &kube.client,
        &kube.namespace,
        &args.targets,
        &calls::filter(&args.fanout),
        MissingAgent::Refuse,
    )
    .await?;
    let what = if spec.is_noop() {
        "clear (no impairment)".to_string()
    } else {
        describe_spec(&spec)
    };
    let outcomes = calls::call_all(
        &kube.client,
        selection.pods,
        calls::options(&args.fanout),
        "delay",
        &AgentCall::Set(Box::new(spec)),
    )
    .await;
    Ok(calls::report(&selection.notes, &outcomes, &what, ok_line))
}

/// What a pod reports after the change: the settings the kernel now has, and when the
/// agent will clear them.
fn ok_line(state: &NetemState) -> String {
    let mut line = if state.is_clear() {
        "cleared (no impairment)".to_string()
    } else {
        describe_state(state)
    };
    if let Some(left) = &state.ttl_remaining {
        line += &format!(" (clears in {left})");
    }
    line
}

/// The netem settings the flags ask for, checked as the agent checks them.
pub fn spec_from_args(args: &DelayArgs) -> Result<NetemSpec, FieldError> {
    let spec = NetemSpec {
        delay: Some(args.delay),
        jitter: args.jitter,
        delay_correlation: args.correlation,
        distribution: args.distribution,
        loss: args.loss,
        duplicate: args.duplicate,
        corrupt: args.corrupt,
        reorder: args.reorder,
        gap: args.gap,
        rate: args.rate,
        limit: args.limit,
        ttl: args.ttl,
        ..NetemSpec::default()
    };
    spec.validate()?;
    Ok(spec)
}

/// The field error in the command line's words: the flag for each field of the agent's JSON.
fn flag_error(e: &FieldError) -> String {
    let reason = match e.needs {
        Some("delay") => "needs a non-zero delay (DURATION)".to_string(),
        Some(other) => format!("needs a non-zero {}", flag(other)),
        None => e.reason.clone(),
    };
    format!("invalid {}: {reason}; nothing was changed", flag(&e.field))
}

/// The flag (or argument) that sets a field of the agent's JSON.
fn flag(field: &str) -> String {
    match field {
        "delay" => "DURATION".to_string(),
        "delay_correlation" => "--correlation".to_string(),
        "ttl" => "--for".to_string(),
        other => format!("--{}", other.replace('_', "-")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{Cli, Command};
    use clap::Parser as _;
    use std::time::Duration;

    fn args(extra: &[&str]) -> DelayArgs {
        let mut v = vec!["kubectl-netem", "delay", "basic-pd-0", "20ms"];
        v.extend_from_slice(extra);
        match Cli::try_parse_from(v).unwrap().command {
            Command::Delay(d) => d,
            _ => unreachable!(),
        }
    }

    #[test]
    fn flags_become_the_spec() {
        let spec = spec_from_args(&args(&[
            "--jitter",
            "5ms",
            "--correlation",
            "25",
            "--distribution",
            "normal",
            "--loss",
            "1%",
            "--reorder",
            "10%",
            "--gap",
            "5",
            "--rate",
            "1mbit",
            "--limit",
            "2000",
            "--for",
            "10m",
        ]))
        .unwrap();
        assert_eq!(
            serde_json::to_value(&spec).unwrap(),
            serde_json::json!({"delay": "20ms", "jitter": "5ms", "delay_correlation": "25%",
                "distribution": "normal", "loss": "1%", "reorder": "10%", "gap": 5,
                "rate": "1mbit", "limit": 2000, "ttl": "10m"})
        );
        assert_eq!(spec.ttl, Some(Duration::from_secs(600)));
    }

    #[test]
    fn inconsistent_flags_are_named() {
        let e = spec_from_args(&args(&["--distribution", "pareto"])).unwrap_err();
        assert_eq!(
            flag_error(&e),
            "invalid --distribution: needs a non-zero --jitter; nothing was changed"
        );
        let zero = {
            let mut a = args(&["--jitter", "5ms"]);
            a.delay = Duration::ZERO;
            a
        };
        let e = spec_from_args(&zero).unwrap_err();
        assert_eq!(
            flag_error(&e),
            "invalid --jitter: needs a non-zero delay (DURATION); nothing was changed"
        );
        let e = spec_from_args(&args(&["--for", "0"])).unwrap_err();
        assert!(
            flag_error(&e).starts_with("invalid --for:"),
            "{}",
            flag_error(&e)
        );
    }

    #[test]
    fn ok_line_shows_what_the_kernel_has_and_time_left() {
        let mut state = NetemState {
            interface: "eth0".into(),
            root_qdisc: "netem".into(),
            netem: Some(NetemSpec::delay(Duration::from_millis(20))),
            managed: true,
            expires_at: Some("2026-01-01T00:10:00Z".into()),
            ttl_remaining: Some("10m".into()),
            rules: Vec::new(),
        };
        assert_eq!(ok_line(&state), "delay 20ms (clears in 10m)");
        state.root_qdisc = "none".into();
        state.netem = None;
        state.ttl_remaining = None;
        assert_eq!(ok_line(&state), "cleared (no impairment)");
    }

    #[test]
    fn zero_delay_alone_means_clear() {
        let mut a = args(&[]);
        a.delay = Duration::ZERO;
        assert!(spec_from_args(&a).unwrap().is_noop());
    }
}
