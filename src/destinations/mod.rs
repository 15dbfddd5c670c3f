//! Destinations of a rule, resolved once, here: how the user named them (`--to`,
//! `--to-component`, `--to-selector`, `--to-cidr`, `--to-port`, or `partition --from...`),
//! the rule id that naming gives, the pods and addresses it means now, the [`RuleSpec`] sent
//! to the agents, and the [`About`] record that lets `status` tell when a pod has moved.
//!
//! **Rule ids** come from the naming, not from the addresses, so re-running the same command
//! replaces (and refreshes) the same rule: `to.` then, in a fixed order, each target
//! (`pod.NAME`, `tc.NAME`, `sts.NAME`, sorted), the components (`pd-tikv`), the selector
//! (`l.` and the selector with other characters as `-`), each network (`cidr.10.0.0.0-16`)
//! and each port (`p20160`), joined with `.`: `to.pod.basic-tikv-0`, `to.tc.basic.tikv`,
//! `to.cidr.10.0.0.0-16.p20160`. An id that would be longer than 63 characters (or not a
//! valid id) is its first 46 characters and a hash of the full naming. `--to-component`
//! without `--to` names the sources' TidbCluster: `delay basic-tidb-0 --to-component tikv`
//! and `delay basic-tidb-0 --to tc/basic --to-component tikv` are the same rule. The reverse
//! rule (`--direction from|both`, on the destinations' agents) is named by the sources the
//! same way: on basic-tikv-0, `delay basic-pd-0 --to basic-tikv-0 --direction both` sets
//! `to.pod.basic-pd-0`, the rule `delay basic-tikv-0 --to basic-pd-0` would set.
//!
//! Sources are never their own destinations (a pod's traffic to itself stays in the pod):
//! `partition basic-tikv-0 --from tc/basic` cuts basic-tikv-0 off from the other pods.

use std::collections::BTreeMap;

use anyhow::Context as _;
use netem_api::rules::{Cidr, Destination, RuleSpec, valid_rule_id};
use netem_api::spec::NetemSpec;
use serde::{Deserialize, Serialize};

use crate::cli::ToArgs;
use crate::pods::{self, Filter, MissingAgent, PodInfo, Selection};
use crate::target::{Target, V2Target};

/// Destinations as typed on the command line.
#[derive(Debug, Clone, Default)]
pub struct Destinations {
    /// `--to` targets.
    pub targets: Vec<Target>,
    /// `--to-component` and `--to-selector`.
    pub filter: Filter,
    /// `--to-cidr`.
    pub cidrs: Vec<Cidr>,
    /// `--to-port`.
    pub ports: Vec<u16>,
    /// The flag's stem in messages: `--to` (delay, clear) or `--from` (partition).
    pub flag: &'static str,
}

impl Destinations {
    /// The destinations of `args`, named in messages by `flag` (`--to`, `--from`).
    pub fn new(args: &ToArgs, flag: &'static str) -> Destinations {
        Destinations {
            targets: args.to.clone(),
            filter: Filter {
                components: args.to_component.clone(),
                selector: args.to_selector.clone().filter(|s| !s.trim().is_empty()),
            },
            cidrs: args.to_cidr.clone(),
            ports: args.to_port.clone(),
            flag,
        }
    }

    /// True when no destination flag was given (the command is about all traffic).
    pub fn is_empty(&self) -> bool {
        !self.names_pods() && self.cidrs.is_empty() && self.ports.is_empty()
    }

    /// True when the destinations include pods (by target, component or selector).
    pub fn names_pods(&self) -> bool {
        !self.targets.is_empty()
            || !self.filter.components.is_empty()
            || self.filter.selector.is_some()
    }

    /// Refuses what would silently not apply: a component or selector with pods named one
    /// by one (they are taken as they are), ports on the way back.
    pub fn check(&self) -> Result<(), String> {
        let f = self.flag;
        let named: Vec<&str> = self
            .targets
            .iter()
            .filter_map(|t| match t {
                Target::Pod(n) => Some(n.as_str()),
                _ => None,
            })
            .collect();
        let filtering = !self.filter.components.is_empty() || self.filter.selector.is_some();
        if filtering && !named.is_empty() {
            return Err(format!(
                "{f}-component and {f}-selector narrow tidb-cluster/ and statefulset/ \
                 destinations, not pods named one by one ({}): drop the flag or name a group",
                named.join(", ")
            ));
        }
        Ok(())
    }
}

/// A set of pods (and networks, ports) as named, in canonical order: where rule ids and
/// `about.to` come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetName {
    targets: Vec<Target>,
    components: Vec<String>,
    selector: Option<String>,
    cidrs: Vec<Cidr>,
    ports: Vec<u16>,
}

impl SetName {
    /// The canonical naming of these targets, filter, networks and ports.
    pub fn new(targets: &[Target], filter: &Filter, cidrs: &[Cidr], ports: &[u16]) -> SetName {
        let mut targets = targets.to_vec();
        targets.sort_by_key(Target::to_string);
        targets.dedup();
        let mut components = filter.components.clone();
        components.sort();
        components.dedup();
        let mut cidrs = cidrs.to_vec();
        cidrs.sort();
        cidrs.dedup();
        let mut ports = ports.to_vec();
        ports.sort_unstable();
        ports.dedup();
        SetName {
            targets,
            components,
            selector: filter
                .selector
                .as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(String::from),
            cidrs,
            ports,
        }
    }

    /// How people read it: `pod/basic-tikv-0`, `tidbcluster/basic component=tikv`,
    /// `cidr=10.0.0.0/16 port=20160`.
    pub fn expression(&self) -> String {
        let mut terms: Vec<String> = self.targets.iter().map(Target::to_string).collect();
        if !self.components.is_empty() {
            terms.push(format!("component={}", self.components.join(",")));
        }
        if let Some(sel) = &self.selector {
            terms.push(format!("selector={sel}"));
        }
        if !self.cidrs.is_empty() {
            let cidrs: Vec<String> = self.cidrs.iter().map(Cidr::to_string).collect();
            terms.push(format!("cidr={}", cidrs.join(",")));
        }
        if !self.ports.is_empty() {
            let ports: Vec<String> = self.ports.iter().map(u16::to_string).collect();
            terms.push(format!("port={}", ports.join(",")));
        }
        terms.join(" ")
    }

    /// The rule id this naming gives (see the module's documentation).
    pub fn rule_id(&self) -> String {
        let mut parts = vec!["to".to_string()];
        for t in &self.targets {
            parts.push(match t {
                Target::Pod(n) => format!("pod.{n}"),
                Target::TidbCluster(n) => format!("tc.{n}"),
                Target::StatefulSet(n) => format!("sts.{n}"),
                Target::V2(V2Target::Cluster(n)) => format!("cluster.{n}"),
                Target::V2(V2Target::Group { kind, name }) => format!("{}.{name}", slug(kind)),
            });
        }
        if !self.components.is_empty() {
            parts.push(slug(&self.components.join("-")));
        }
        if let Some(sel) = &self.selector {
            parts.push(format!("l.{}", slug(sel)));
        }
        for c in &self.cidrs {
            parts.push(format!("cidr.{}", slug(&c.to_string())));
        }
        for p in &self.ports {
            parts.push(format!("p{p}"));
        }
        let readable = parts.join(".");
        if valid_rule_id(&readable) {
            return readable;
        }
        let prefix: String = readable.chars().take(46).collect();
        let prefix = prefix.trim_end_matches(|c: char| !c.is_ascii_alphanumeric());
        format!("{prefix}-{:016x}", fnv1a(self.expression().as_bytes()))
    }
}

/// Lowercase, with every character an id cannot hold as `-`.
fn slug(s: &str) -> String {
    s.chars()
        .map(|c| {
            let c = c.to_ascii_lowercase();
            if c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect()
}

/// FNV-1a, 64 bits: a hash that is the same on every platform and in every version.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// The plugin's record in a rule (`about`, returned by the agent as given): how the
/// destinations were named and which pods had which address when the rule was set.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct About {
    /// How the destinations were named ([`SetName::expression`]).
    pub to: String,
    /// Destination pods (in the rule's namespace) → their IP when the rule was set.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub pods: BTreeMap<String, String>,
    /// True for the reverse rule `--direction from|both` set on a destination pod.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub reverse: bool,
}

impl About {
    /// The record in a rule read back from an agent, if it is one of this plugin's.
    pub fn of(value: &serde_json::Value) -> Option<About> {
        serde_json::from_value(value.clone()).ok()
    }
}

/// A destination pod whose address is no longer the one a rule holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Moved {
    /// The pod.
    pub pod: String,
    /// Its IP when the rule was set.
    pub was: String,
    /// Its IP now; None when the pod is gone or has no IP.
    pub now: Option<String>,
}

/// The pods of `about` (in namespace `ns`) whose address changed, given every pod's current
/// address keyed by (namespace, name).
pub fn moved(
    about: &About,
    ns: &str,
    current: &BTreeMap<(String, String), Option<String>>,
) -> Vec<Moved> {
    about
        .pods
        .iter()
        .filter_map(|(pod, was)| {
            let now = current
                .get(&(ns.to_string(), pod.clone()))
                .cloned()
                .flatten();
            (now.as_deref() != Some(was.as_str())).then(|| Moved {
                pod: pod.clone(),
                was: was.clone(),
                now,
            })
        })
        .collect()
}

/// Destinations resolved: the naming and the pods it means now.
#[derive(Debug, Clone)]
pub struct Resolved {
    /// The canonical naming (the rule id comes from it).
    pub name: SetName,
    /// The destination pods, agent or not.
    pub pods: Vec<PodInfo>,
    /// `--to-cidr`.
    pub cidrs: Vec<Cidr>,
    /// `--to-port`.
    pub ports: Vec<u16>,
    /// What to tell the user about the resolution.
    pub notes: Vec<String>,
}

/// The TidbClusters of the sources, for `--to-component` without `--to`; every source must
/// belong to one.
pub fn source_clusters(sources: &[PodInfo], flag: &str) -> Result<Vec<Target>, String> {
    let mut out: Vec<Target> = Vec::new();
    for pod in sources {
        let Some(tc) = &pod.tidb_cluster else {
            return Err(format!(
                "{flag}-component picks components of the sources' TidbCluster, and pod {} \
                 belongs to none: name the group with {flag} tidb-cluster/NAME or statefulset/NAME",
                pod.name
            ));
        };
        let t = Target::TidbCluster(tc.clone());
        if !out.contains(&t) {
            out.push(t);
        }
    }
    Ok(out)
}

/// Resolves `dest` in namespace `ns` (once, before any change): its pods with the same
/// machinery as sources, agent or not, and `--to-component` alone within the sources'
/// TidbCluster.
pub async fn resolve(
    client: &kube::Client,
    ns: &str,
    dest: &Destinations,
    sources: &[PodInfo],
) -> anyhow::Result<Resolved> {
    let flag = dest.flag;
    dest.check()
        .map_err(|e| anyhow::anyhow!("{e}; nothing was changed"))?;
    let targets = if dest.targets.is_empty() && !dest.filter.components.is_empty() {
        source_clusters(sources, flag).map_err(|e| anyhow::anyhow!("{e}; nothing was changed"))?
    } else {
        dest.targets.clone()
    };
    let name = SetName::new(&targets, &dest.filter, &dest.cidrs, &dest.ports);
    let selection = if !targets.is_empty() {
        pods::resolve(client, ns, &targets, &dest.filter, MissingAgent::Keep)
            .await
            .with_context(|| flag.to_string())?
    } else if dest.filter.selector.is_some() {
        let what = format!("{flag}-selector");
        pods::matching(client, ns, &dest.filter, &what).await?
    } else {
        Selection::default()
    };
    let pods = without_sources(selection.pods, sources, &name)
        .map_err(|e| anyhow::anyhow!("{e}; nothing was changed"))?;
    Ok(Resolved {
        name,
        pods,
        cidrs: dest.cidrs.clone(),
        ports: dest.ports.clone(),
        notes: selection.notes,
    })
}

/// The destination pods less the sources: what a pod sends itself never leaves it, so
/// `partition basic-tikv-0 --from tc/basic` cuts it off from the others. Destinations that
/// are all sources are refused.
pub fn without_sources(
    pods: Vec<PodInfo>,
    sources: &[PodInfo],
    name: &SetName,
) -> Result<Vec<PodInfo>, String> {
    let named = !pods.is_empty();
    let is_source = |p: &PodInfo| {
        sources
            .iter()
            .any(|s| s.namespace == p.namespace && s.name == p.name)
    };
    let rest: Vec<PodInfo> = pods.into_iter().filter(|p| !is_source(p)).collect();
    if named && rest.is_empty() {
        return Err(format!(
            "{}: every destination pod is also a source (a pod's traffic to itself never leaves it)",
            name.expression()
        ));
    }
    Ok(rest)
}

/// The rule for traffic to `pods` (their IPs now), `cidrs` and `ports`, named `name`:
/// the spec to send and notes on pods left out (no IP yet). `reverse` marks the rule set on
/// the destinations' side.
pub fn rule_spec(
    name: &SetName,
    pods: &[PodInfo],
    cidrs: &[Cidr],
    ports: &[u16],
    netem: &NetemSpec,
    reverse: bool,
) -> Result<(RuleSpec, Vec<String>), String> {
    let mut about = About {
        to: name.expression(),
        pods: BTreeMap::new(),
        reverse,
    };
    let mut to = Destination {
        cidrs: cidrs.to_vec(),
        ports: ports.to_vec(),
    };
    let mut no_ip = Vec::new();
    for pod in pods {
        match pod.ip.as_deref().map(|ip| (ip, ip.parse())) {
            Some((ip, Ok(addr))) => {
                about.pods.insert(pod.name.clone(), ip.to_string());
                to.cidrs.push(Cidr::host(addr));
            }
            _ => no_ip.push(pod.name.as_str()),
        }
    }
    if !pods.is_empty() && about.pods.is_empty() {
        return Err(format!(
            "{}: none of its pods has an IP yet ({}): wait until they run",
            name.expression(),
            no_ip.join(", ")
        ));
    }
    to.cidrs.sort();
    to.cidrs.dedup();
    to.ports.sort_unstable();
    to.ports.dedup();
    let notes = if no_ip.is_empty() {
        Vec::new()
    } else {
        vec![format!(
            "{}: left out {} pod(s) without an IP yet: {} (run the command again once they run)",
            name.expression(),
            no_ip.len(),
            no_ip.join(", ")
        )]
    };
    let spec = RuleSpec {
        to,
        netem: netem.clone(),
        about: serde_json::to_value(&about).expect("About always serializes"),
    };
    Ok((spec, notes))
}

#[cfg(test)]
mod tests;
