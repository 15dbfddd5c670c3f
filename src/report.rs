//! What `status` prints (table, wide, JSON, YAML) and how netem settings read in one line.

use comfy_table::{ContentArrangement, Table, presets};
use netem_api::spec::{NetemSpec, format_duration};
use netem_api::wire::NetemState;
use serde::Serialize;

use crate::cli::Output;
use crate::fanout::Outcome;
use crate::pod_error::PodError;

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

/// What is in force on an interface, in one line: the netem settings, "none", or the
/// kind of a foreign root qdisc.
pub fn describe_state(state: &NetemState) -> String {
    match &state.netem {
        Some(spec) => describe_spec(spec),
        None if state.is_clear() => "none".to_string(),
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
}

/// The `status` document: `{"items": [...]}`.
#[derive(Debug, Serialize)]
pub struct StatusList {
    /// One item per pod, sorted by namespace and name.
    pub items: Vec<StatusItem>,
}

/// Builds the `status` document from the fan-out's outcomes.
pub fn status_list(outcomes: &[Outcome<NetemState>]) -> StatusList {
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
        "NETEM",
        "TIME LEFT",
        "AGENT",
    ];
    if wide {
        header.extend(["NODE", "IP", "KIND", "EXPOSED", "IMAGE"]);
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
        let mut row = vec![
            pod,
            dash(&item.component),
            dash(&item.interface),
            dash(&item.settings),
            dash(&item.ttl_remaining),
            agent,
        ];
        if wide {
            let exposed = if item.exposed { "yes" } else { "no" };
            let kind = item.agent_kind.map_or("-", |k| k.word());
            row.extend([
                dash(&item.node),
                dash(&item.ip),
                kind.to_string(),
                exposed.to_string(),
                dash(&item.image),
            ]);
        }
        t.add_row(row);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pod_error::Cause;
    use crate::pods::PodInfo;
    use netem_api::spec::{Distribution, parse_percent, parse_rate};
    use std::time::Duration;

    fn pod(name: &str) -> PodInfo {
        PodInfo {
            namespace: "default".into(),
            name: name.into(),
            component: Some("pd".into()),
            tidb_cluster: None,
            node: Some("node-1".into()),
            ip: Some("10.0.0.2".into()),
            agent_image: Some("agent:1".into()),
            agent_exposed: false,
            agent_kind: Some(crate::pods::AgentKind::Sidecar),
            agent_container: "netem-agent".into(),
            not_running: None,
            agent_trouble: None,
        }
    }

    fn state(netem: Option<NetemSpec>) -> NetemState {
        NetemState {
            interface: "eth0".into(),
            root_qdisc: if netem.is_some() { "netem" } else { "none" }.into(),
            netem,
            managed: true,
            expires_at: Some("2026-01-02T03:04:05Z".into()),
            ttl_remaining: Some("9m58s".into()),
            rules: Vec::new(),
        }
    }

    fn outcomes() -> Vec<Outcome<NetemState>> {
        vec![
            Outcome {
                pod: pod("basic-pd-0"),
                result: Ok(state(Some(NetemSpec::delay(Duration::from_millis(20))))),
            },
            Outcome {
                pod: pod("basic-pd-1"),
                result: Err(PodError::new(Cause::NoNetem, "no sch_netem").hint("modprobe")),
            },
        ]
    }

    #[test]
    fn describes_settings_like_tc() {
        let p = |s| Some(parse_percent(s).unwrap());
        let spec = NetemSpec {
            delay: Some(Duration::from_millis(20)),
            jitter: Some(Duration::from_millis(5)),
            delay_correlation: p("25"),
            distribution: Some(Distribution::Normal),
            loss: p("1"),
            loss_correlation: p("10"),
            reorder: p("5"),
            gap: Some(3),
            rate: Some(parse_rate("1mbit").unwrap()),
            limit: Some(2000),
            ..NetemSpec::default()
        };
        assert_eq!(
            describe_spec(&spec),
            "delay 20ms ±5ms 25% normal loss 1% 10% reorder 5% gap 3 rate 1mbit limit 2000"
        );
        assert_eq!(
            describe_spec(&NetemSpec::default()),
            "netem (no impairment)"
        );
        let mut foreign = state(None);
        assert_eq!(describe_state(&foreign), "none");
        foreign.root_qdisc = "tbf".into();
        assert_eq!(describe_state(&foreign), "tbf (not netem)");
    }

    #[test]
    fn json_shape_is_pinned() {
        let json = serde_json::to_value(status_list(&outcomes())).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"items": [
                {"namespace": "default", "pod": "basic-pd-0", "component": "pd",
                 "node": "node-1", "ip": "10.0.0.2", "image": "agent:1", "agent_kind": "sidecar", "exposed": false, "state": "ok",
                 "interface": "eth0", "root_qdisc": "netem", "netem": {"delay": "20ms"},
                 "settings": "delay 20ms", "managed": true,
                 "expires_at": "2026-01-02T03:04:05Z", "ttl_remaining": "9m58s", "error": null},
                {"namespace": "default", "pod": "basic-pd-1", "component": "pd",
                 "node": "node-1", "ip": "10.0.0.2", "image": "agent:1", "agent_kind": "sidecar", "exposed": false, "state": "error",
                 "interface": null, "root_qdisc": null, "netem": null, "settings": null,
                 "managed": null, "expires_at": null, "ttl_remaining": null,
                 "error": {"cause": "no-netem", "message": "no sch_netem", "hint": "modprobe"}}
            ]})
        );
        let yaml: serde_json::Value =
            serde_yaml::from_str(&render(&status_list(&outcomes()), Output::Yaml, false).unwrap())
                .unwrap();
        assert_eq!(yaml, json);
    }

    #[test]
    fn table_and_wide() {
        let list = status_list(&outcomes());
        let table = render(&list, Output::Table, false).unwrap();
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(
            lines,
            [
                "POD          COMPONENT   INTERFACE   NETEM        TIME LEFT   AGENT",
                "basic-pd-0   pd          eth0        delay 20ms   9m58s       ok",
                "basic-pd-1   pd          -           -            -           kernel without netem",
            ]
        );
        let wide = render(&list, Output::Wide, true).unwrap();
        assert!(
            wide.lines()
                .next()
                .unwrap()
                .ends_with("NODE     IP         KIND      EXPOSED   IMAGE"),
            "{wide}"
        );
        assert!(wide.contains("default/basic-pd-0"), "{wide}");
        assert!(
            wide.contains("10.0.0.2   sidecar   no        agent:1"),
            "{wide}"
        );
    }
}
