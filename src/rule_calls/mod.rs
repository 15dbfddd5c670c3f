//! What `delay --to`, `partition` and `clear --to` share: resolve sources and destinations
//! once, plan the rule calls on both sides ([`plan_set`], [`plan_clear`]: pure), run them
//! through the fan-out and report every pod changed, on either side.
//!
//! `--direction to` sets the rule on the sources' agents; `from` sets the reverse rule (to
//! the sources' addresses) on the destination pods' agents; `both` does both. A destination
//! pod without the agent then fails on its own line (`no agent injected`), never skipped.

use std::process::ExitCode;

use netem_api::rules::RuleSpec;
use netem_api::spec::{FieldError, NetemSpec, format_duration};

use crate::agent_client::{AgentCall, RuleAnswer};
use crate::calls;
use crate::cli::{Direction, FanoutArgs};
use crate::connect::Kube;
use crate::destinations::{self, Destinations, Resolved, SetName};
use crate::fanout::{self, Outcome};
use crate::pods::{self, MissingAgent, PodInfo};
use crate::report::describe_spec;
use crate::target::Target;

/// Which side of a rule a pod is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// The targeted pods: their rule to the destinations.
    Sources,
    /// The destination pods: the reverse rule, to the sources.
    Destinations,
}

/// One call on a set of pods.
#[derive(Debug, Clone)]
pub struct Step {
    /// Which side.
    pub side: Side,
    /// The pods.
    pub pods: Vec<PodInfo>,
    /// The call (`SetRule` or `ClearRule`).
    pub call: AgentCall,
    /// How the rule's destinations read ([`SetName::expression`]).
    pub to: String,
}

/// The calls to make, and what to tell the user first.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    /// In order.
    pub steps: Vec<Step>,
    /// Notes on the resolution.
    pub notes: Vec<String>,
}

/// The rule calls for `delay ... --to` / `partition`: the sources' rule to `dest` and, with
/// `--direction from|both`, the reverse rule on the destination pods. Everything is checked
/// here, before any change.
pub fn plan_set(
    sources: &[PodInfo],
    source_name: &SetName,
    dest: &Resolved,
    netem: &NetemSpec,
    direction: Direction,
    flag: &str,
) -> Result<Plan, String> {
    let mut plan = Plan {
        notes: dest.notes.clone(),
        ..Plan::default()
    };
    if direction != Direction::To {
        let way_back = if flag == "--from" {
            "without --one-way"
        } else {
            "with --direction from or both"
        };
        if !dest.ports.is_empty() || !dest.cidrs.is_empty() {
            return Err(format!(
                "{flag}-port and {flag}-cidr apply to what the sources send only (the way back \
                 is set on the destination pods' agents, which match their own destinations): \
                 drop them {way_back}"
            ));
        }
        if dest.pods.is_empty() {
            return Err(format!(
                "the way back is set on the destination pods' agents: name pods ({flag}, \
                 {flag}-component or {flag}-selector) {way_back}"
            ));
        }
    }
    if direction != Direction::From {
        let (rule, notes) = destinations::rule_spec(
            &dest.name,
            &dest.pods,
            &dest.cidrs,
            &dest.ports,
            netem,
            false,
        )?;
        check(&rule, flag)?;
        plan.notes.extend(notes);
        plan.steps.push(Step {
            side: Side::Sources,
            pods: sources.to_vec(),
            call: AgentCall::SetRule {
                id: dest.name.rule_id(),
                rule: Box::new(rule),
            },
            to: dest.name.expression(),
        });
    }
    if direction != Direction::To {
        let (rule, notes) = destinations::rule_spec(source_name, sources, &[], &[], netem, true)?;
        check(&rule, flag)?;
        plan.notes.extend(notes);
        plan.steps.push(Step {
            side: Side::Destinations,
            pods: dest.pods.clone(),
            call: AgentCall::SetRule {
                id: source_name.rule_id(),
                rule: Box::new(rule),
            },
            to: source_name.expression(),
        });
    }
    Ok(plan)
}

/// The agent's checks, before any change, in the command line's words.
fn check(rule: &RuleSpec, flag: &str) -> Result<(), String> {
    rule.validate()
        .map_err(|e: FieldError| match e.field.as_str() {
            "netem" => format!(
                "a rule needs an impairment (a delay, --loss, ...); to remove one: \
             kubectl netem clear SOURCE... {flag} DEST..."
            ),
            "about" => format!("too many destination pods for one rule ({})", e.reason),
            field if field.starts_with("netem.") => {
                format!("invalid {}: {}", &field[6..], e.reason)
            }
            _ => format!("the destinations: {}", e.reason),
        })
}

/// The rule calls for `clear ... --to`: remove the sources' rule for `dest` and, unless
/// `--direction to`, the reverse rule on the destination pods: by default only on those that
/// carry the agent (the others cannot hold it), with `from|both` on every one of them.
pub fn plan_clear(
    sources: &[PodInfo],
    source_name: &SetName,
    dest: &Resolved,
    direction: Option<Direction>,
) -> Plan {
    let mut plan = Plan {
        notes: dest.notes.clone(),
        ..Plan::default()
    };
    if direction != Some(Direction::From) {
        plan.steps.push(Step {
            side: Side::Sources,
            pods: sources.to_vec(),
            call: AgentCall::ClearRule {
                id: dest.name.rule_id(),
            },
            to: dest.name.expression(),
        });
    }
    if direction != Some(Direction::To) {
        let pods: Vec<PodInfo> = dest
            .pods
            .iter()
            .filter(|p| direction.is_some() || p.has_agent())
            .cloned()
            .collect();
        if !pods.is_empty() {
            plan.steps.push(Step {
                side: Side::Destinations,
                pods,
                call: AgentCall::ClearRule {
                    id: source_name.rule_id(),
                },
                to: source_name.expression(),
            });
        }
    }
    plan
}

/// What a pod reports after a step, in one line (after `pod/NAME: `).
pub fn ok_line(step: &Step, answer: &RuleAnswer) -> String {
    let way_back = if step.side == Side::Destinations {
        " (the way back)"
    } else {
        ""
    };
    match (&step.call, answer) {
        (AgentCall::ClearRule { .. }, RuleAnswer::Absent) => {
            format!("no rule to {}{way_back} (nothing to remove)", step.to)
        }
        (AgentCall::ClearRule { .. }, _) => format!("removed the rule to {}{way_back}", step.to),
        (AgentCall::SetRule { id, rule }, answer) => {
            let read_back = match answer {
                RuleAnswer::State(state) => state.rules.iter().find(|r| &r.id == id),
                _ => None,
            };
            let netem = read_back.map_or(&rule.netem, |r| &r.netem);
            let mut line = format!("to {}{way_back}: {}", step.to, describe_spec(netem));
            if let Some(ttl) = rule.netem.ttl {
                line += &format!(" (clears in {})", format_duration(ttl));
            }
            line
        }
        (_, _) => String::new(),
    }
}

/// Runs the plan's steps one after the other, each through the fan-out, and reports every
/// pod; `what` names the change in the summary.
pub async fn run(
    kube: &Kube,
    plan: Plan,
    fanout_args: &FanoutArgs,
    verb: &str,
    what: &str,
) -> ExitCode {
    let opts = calls::options(fanout_args);
    let mut outcomes: Vec<Outcome<RuleAnswer>> = Vec::new();
    let mut lines = Vec::new();
    for step in &plan.steps {
        for o in calls::call_rule(&kube.client, step.pods.clone(), opts, verb, &step.call).await {
            if let Ok(answer) = &o.result {
                lines.push(format!(
                    "{}: {}",
                    fanout::pod_label(&o.pod, false),
                    ok_line(step, answer)
                ));
            }
            outcomes.push(o);
        }
    }
    for note in &plan.notes {
        eprintln!("note: {note}");
    }
    for line in lines {
        println!("{line}");
    }
    for line in fanout::failure_lines(&outcomes, false) {
        eprintln!("{line}");
    }
    println!("{}", fanout::summary(what, &outcomes));
    if fanout::any_failed(&outcomes) {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

/// What a rule command acts on, resolved once: the sources (with their naming) and the
/// destinations.
pub struct Sides {
    /// The source pods.
    pub sources: Vec<PodInfo>,
    /// How the sources were named (the reverse rule's id comes from it).
    pub source_name: SetName,
    /// The destinations.
    pub dest: Resolved,
}

/// Resolves sources and destinations before any change. Sources need the agent unless
/// only the way back is set (`needs_agent` false).
pub async fn resolve(
    kube: &Kube,
    targets: &[Target],
    fanout_args: &FanoutArgs,
    dest: &Destinations,
    needs_agent: bool,
) -> anyhow::Result<Sides> {
    let filter = calls::filter(fanout_args);
    let missing = if needs_agent {
        MissingAgent::Refuse
    } else {
        MissingAgent::Keep
    };
    let selection = pods::resolve(&kube.client, &kube.namespace, targets, &filter, missing).await?;
    for note in &selection.notes {
        eprintln!("note: {note}");
    }
    let resolved =
        destinations::resolve(&kube.client, &kube.namespace, dest, &selection.pods).await?;
    Ok(Sides {
        source_name: SetName::new(targets, &filter, &[], &[]),
        sources: selection.pods,
        dest: resolved,
    })
}

/// How a direction reads in a summary.
pub fn direction_words(direction: Direction) -> &'static str {
    match direction {
        Direction::To => "",
        Direction::From => ", the way back only",
        Direction::Both => ", both ways",
    }
}

#[cfg(test)]
mod tests;
