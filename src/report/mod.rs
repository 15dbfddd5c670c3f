//! What `status` prints (table, wide, JSON, YAML) and how netem settings read in one line.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use comfy_table::{ContentArrangement, Table, presets};
use netem_api::rules::{Destination, Rule};
use netem_api::spec::{NetemSpec, format_duration};
use netem_api::wire::NetemState;
use serde::Serialize;

use crate::cli::Output;
use crate::destinations::{self, About, Moved};
use crate::fanout::Outcome;
use crate::pod_error::PodError;

/// Every pod's current IP by (namespace, name), to tell which rules are stale.
pub type Addresses = BTreeMap<(String, String), Option<String>>;

/// netem settings in one line, in tc's words: "delay 20ms ±5ms 25% normal loss 1%".
pub fn describe_spec(spec: &NetemSpec) -> String {
    let mut parts: Vec<String> = Vec::new();
    let pct = |p: &netem_api::spec::Percent| p.to_string();
    if let Some(d) = spec.delay.filter(|d| !d.is_zero()) {
        let mut s = format!("delay {}", format_duration(d));
        if let Some(j) = spec.jitter.filter(|j| !j.is_zero()) {
            s += &format!(" ±{}", format_duration(j));
            if let Some(c) = &spec.delay_correlation {
                s += &format!(" {}", pct(c));
            }
            if let Some(dist) = spec.distribution {
                s += &format!(" {dist}");
            }
        }
        parts.push(s);
    }
    let pairs = [
        ("loss", &spec.loss, &spec.loss_correlation),
        ("duplicate", &spec.duplicate, &spec.duplicate_correlation),
        ("corrupt", &spec.corrupt, &spec.corrupt_correlation),
        ("reorder", &spec.reorder, &spec.reorder_correlation),
    ];
    for (name, value, corr) in pairs {
        if let Some(v) = value.filter(|v| v.value() > 0.0) {
            let mut s = format!("{name} {}", pct(&v));
            if let Some(c) = corr {
                s += &format!(" {}", pct(c));
            }
            if name == "reorder"
                && let Some(gap) = spec.gap
            {
                s += &format!(" gap {gap}");
            }
            parts.push(s);
        }
    }
    if let Some(rate) = spec.rate {
        parts.push(format!("rate {rate}"));
    }
    if let Some(limit) = spec.limit.filter(|l| *l != netem_api::spec::DEFAULT_LIMIT) {
        parts.push(format!("limit {limit}"));
    }
    if parts.is_empty() {
        "netem (no impairment)".to_string()
    } else {
        parts.join(" ")
    }
}

/// What is in force on an interface for all traffic (the default, next to any rules), in
/// one line: the netem settings, "none", or the kind of a foreign root qdisc.
pub fn describe_state(state: &NetemState) -> String {
    match &state.netem {
        Some(spec) => describe_spec(spec),
        // With rules, the root is the agent's own classful qdisc; no default is "none".
        None if state.is_clear() || !state.rules.is_empty() => "none".to_string(),
        None => format!("{} (not netem)", state.root_qdisc),
    }
}

/// One pod in `status` output (the JSON/YAML item; the table shows a subset).
///
/// The agent's fields keep the agent API's names (`interface`, `root_qdisc`, `netem`,
/// `managed`, `expires_at`, `ttl_remaining`) and are null when the agent did not answer.
#[derive(Debug, Serialize)]
pub struct StatusItem {
    /// Namespace.
    pub namespace: String,
    /// Pod name.
    pub pod: String,
    /// TidbCluster component (pd, tikv, ...).
    pub component: Option<String>,
    /// Node name.
    pub node: Option<String>,
    /// Pod IP.
    pub ip: Option<String>,
    /// Agent container image.
    pub image: Option<String>,
    /// How the agent runs: `sidecar` (`inject`) or `ephemeral` (`inject --ephemeral`).
    pub agent_kind: Option<crate::pods::AgentKind>,
    /// Whether the agent also listens on the pod IP (`inject --expose`).
    pub exposed: bool,
    /// "ok" when the agent answered, else "error".
    pub state: &'static str,
    /// The interface the agent works on.
    pub interface: Option<String>,
    /// Kind of the root qdisc ("netem", "none", or another kind).
    pub root_qdisc: Option<String>,
    /// The settings in force, as the kernel reports them.
    pub netem: Option<NetemSpec>,
    /// The same in one line, as in the table.
    pub settings: Option<String>,
    /// Whether this agent set them.
    pub managed: Option<bool>,
    /// When the agent clears them (RFC 3339).
    pub expires_at: Option<String>,
    /// Time left until then.
    pub ttl_remaining: Option<String>,
    /// Why the pod could not be read.
    pub error: Option<PodError>,
    /// The per-destination rules in force next to the default (`netem`).
    pub rules: Vec<RuleItem>,
}

/// One rule in `status` output.
#[derive(Debug, Serialize)]
pub struct RuleItem {
    /// The rule's id (from how its destinations were named).
    pub id: String,
    /// How its destinations were named (`pod/basic-tikv-0`), if this plugin set it.
    pub to: Option<String>,
    /// True for the way back of `--direction from|both`, set on a destination pod.
    pub reverse: bool,
    /// The addresses and ports it matches, as the kernel has them.
    pub destination: Destination,
    /// What happens to that traffic, as the kernel has it.
    pub netem: NetemSpec,
    /// The same in one line.
    pub settings: String,
    /// When the agent clears it (RFC 3339), if it has a ttl.
    pub expires_at: Option<String>,
    /// Time left until then.
    pub ttl_remaining: Option<String>,
    /// Destination pods → their IP when the rule was set.
    pub pods: BTreeMap<String, String>,
    /// True when a destination pod's IP is no longer the one the rule holds (re-run the
    /// command that set it to refresh it); false when unknown.
    pub stale: bool,
    /// The pods that moved (or are gone: `now` null).
    pub moved: Vec<Moved>,
}

/// A rule as status shows it, with staleness from `current` (None: not checked).
fn rule_item(rule: &Rule, ns: &str, current: Option<&Addresses>, now: SystemTime) -> RuleItem {
    let about = About::of(&rule.about);
    let moved = match (&about, current) {
        (Some(about), Some(current)) => destinations::moved(about, ns, current),
        _ => Vec::new(),
    };
    RuleItem {
        id: rule.id.clone(),
        to: about.as_ref().map(|a| a.to.clone()),
        reverse: about.as_ref().is_some_and(|a| a.reverse),
        destination: rule.to.clone(),
        netem: rule.netem.clone(),
        settings: describe_spec(&rule.netem),
        expires_at: rule.expires_at.clone(),
        ttl_remaining: rule.expires_at.as_deref().and_then(|at| time_left(at, now)),
        pods: about.map(|a| a.pods).unwrap_or_default(),
        stale: !moved.is_empty(),
        moved,
    }
}

/// The seconds since the epoch of an RFC 3339 UTC time (`2026-01-02T03:04:05.123Z`).
fn parse_utc(s: &str) -> Option<u64> {
    let b = s.as_bytes();
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let t = s.get(r)?;
        t.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| t.parse().ok())?
    };
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || !s.ends_with('Z') {
        return None;
    }
    let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hh, mm, ss) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) || hh > 23 || mm > 59 || ss > 60 {
        return None;
    }
    // Days from civil (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    u64::try_from(days * 86_400 + hh * 3600 + mm * 60 + ss).ok()
}

/// Time left until `expires_at`, in whole seconds, as the agent words it ("9m58s").
fn time_left(expires_at: &str, now: SystemTime) -> Option<String> {
    let at = parse_utc(expires_at)?;
    let now = now.duration_since(UNIX_EPOCH).ok()?.as_secs();
    Some(format_duration(Duration::from_secs(at.saturating_sub(now))))
}

/// The `status` document: `{"items": [...]}`.
#[derive(Debug, Serialize)]
pub struct StatusList {
    /// One item per pod, sorted by namespace and name.
    pub items: Vec<StatusItem>,
}

/// Builds the `status` document from the fan-out's outcomes; `current` (every pod's IP
/// now, if read) tells which rules are stale, `now` their time left.
pub fn status_list(
    outcomes: &[Outcome<NetemState>],
    current: Option<&Addresses>,
    now: SystemTime,
) -> StatusList {
    let items = outcomes
        .iter()
        .map(|o| {
            let p = &o.pod;
            let mut item = StatusItem {
                namespace: p.namespace.clone(),
                pod: p.name.clone(),
                component: p.component.clone(),
                node: p.node.clone(),
                ip: p.ip.clone(),
                image: p.agent_image.clone(),
                agent_kind: p.agent_kind,
                exposed: p.agent_exposed,
                state: "ok",
                interface: None,
                root_qdisc: None,
                netem: None,
                settings: None,
                managed: None,
                expires_at: None,
                ttl_remaining: None,
                error: None,
                rules: Vec::new(),
            };
            match &o.result {
                Ok(s) => {
                    item.settings = Some(describe_state(s));
                    item.interface = Some(s.interface.clone());
                    item.root_qdisc = Some(s.root_qdisc.clone());
                    item.netem = s.netem.clone();
                    item.managed = Some(s.managed);
                    item.expires_at = s.expires_at.clone();
                    item.ttl_remaining = s.ttl_remaining.clone();
                    item.rules = s
                        .rules
                        .iter()
                        .map(|r| rule_item(r, &p.namespace, current, now))
                        .collect();
                }
                Err(e) => {
                    item.state = "error";
                    item.error = Some(e.clone());
                }
            }
            item
        })
        .collect();
    StatusList { items }
}

/// Renders the `status` document in the chosen format. `qualify` shows `ns/pod` (for -A).
pub fn render(list: &StatusList, output: Output, qualify: bool) -> anyhow::Result<String> {
    Ok(match output {
        Output::Json => serde_json::to_string_pretty(list)? + "\n",
        Output::Yaml => serde_yaml::to_string(list)?,
        Output::Table => table(list, false, qualify),
        Output::Wide => table(list, true, qualify),
    })
}

fn table(list: &StatusList, wide: bool, qualify: bool) -> String {
    let mut t = Table::new();
    // kubectl's look: no borders, upper-case headers, columns apart by three spaces.
    t.load_preset(presets::NOTHING)
        .set_content_arrangement(ContentArrangement::Disabled);
    let mut header = vec![
        "POD",
        "COMPONENT",
        "INTERFACE",
        "TO",
        "NETEM",
        "TIME LEFT",
        "AGENT",
    ];
    if wide {
        header.extend(["NODE", "IP", "KIND", "EXPOSED", "IMAGE", "ADDRESSES"]);
    }
    t.set_header(header);
    let dash = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".to_string());
    for item in &list.items {
        let pod = if qualify {
            format!("{}/{}", item.namespace, item.pod)
        } else {
            item.pod.clone()
        };
        let agent = match &item.error {
            None => "ok".to_string(),
            Some(e) => e.cause.describe().to_string(),
        };
        let to = match (&item.error, item.rules.is_empty()) {
            (Some(_), _) => "-",
            (None, true) => "all",
            (None, false) => "all other",
        };
        let mut row = vec![
            pod.clone(),
            dash(&item.component),
            dash(&item.interface),
            to.to_string(),
            dash(&item.settings),
            dash(&item.ttl_remaining),
            agent,
        ];
        let exposed = if item.exposed { "yes" } else { "no" };
        let kind = item.agent_kind.map_or("-", |k| k.word());
        let placement = [
            dash(&item.node),
            dash(&item.ip),
            kind.to_string(),
            exposed.to_string(),
            dash(&item.image),
        ];
        if wide {
            row.extend(placement.clone());
            row.push("-".to_string());
        }
        t.add_row(row);
        // One line per rule, under its pod's line.
        for rule in &item.rules {
            let mut row = vec![
                pod.clone(),
                dash(&item.component),
                dash(&item.interface),
                rule_to(rule),
                rule.settings.clone(),
                dash(&rule.ttl_remaining),
                "ok".to_string(),
            ];
            if wide {
                row.extend(placement.clone());
                row.push(addresses(&rule.destination));
            }
            t.add_row(row);
        }
    }
    let last = t.column_count() - 1;
    for (i, col) in t.column_iter_mut().enumerate() {
        col.set_padding((0, if i == last { 0 } else { 3 }));
    }
    let mut out: String = t
        .lines()
        .map(|l| l.trim_end().to_string())
        .collect::<Vec<_>>()
        .join("\n");
    out.push('\n');
    out
}

/// One note per stale rule, for stderr: which pod's rule, which destination pods moved, and
/// how to refresh it.
pub fn stale_notes(list: &StatusList, qualify: bool) -> Vec<String> {
    let mut notes = Vec::new();
    for item in &list.items {
        for rule in item.rules.iter().filter(|r| r.stale) {
            let pod = if qualify {
                format!("{}/{}", item.namespace, item.pod)
            } else {
                format!("pod/{}", item.pod)
            };
            let moved: Vec<&str> = rule.moved.iter().map(|m| m.pod.as_str()).collect();
            notes.push(format!(
                "{pod}: the rule to {} holds old addresses of {} (moved or gone): run the \
                 command that set it again to refresh it",
                rule.to.as_deref().unwrap_or(&rule.id),
                moved.join(", ")
            ));
        }
    }
    notes
}

/// A rule's TO cell: how its destinations were named (else its id), the way back, and
/// which pods moved since it was set.
fn rule_to(rule: &RuleItem) -> String {
    let mut cell = rule
        .to
        .clone()
        .unwrap_or_else(|| format!("rule {}", rule.id));
    if rule.reverse {
        cell += " (way back)";
    }
    if rule.stale {
        let moved: Vec<String> = rule
            .moved
            .iter()
            .map(|m| match &m.now {
                Some(now) => format!("{} {}->{now}", m.pod, m.was),
                None => format!("{} gone", m.pod),
            })
            .collect();
        cell += &format!(" STALE: {}", moved.join(", "));
    }
    cell
}

/// A rule's addresses and ports, for `-o wide`: `10.0.0.7/32,10.0.0.8/32 port 20160`.
fn addresses(d: &Destination) -> String {
    let cidrs: Vec<String> = d.cidrs.iter().map(ToString::to_string).collect();
    let mut cell = if cidrs.is_empty() {
        "any".to_string()
    } else {
        cidrs.join(",")
    };
    if !d.ports.is_empty() {
        let ports: Vec<String> = d.ports.iter().map(u16::to_string).collect();
        cell += &format!(" port {}", ports.join(","));
    }
    cell
}

#[cfg(test)]
mod tests;
