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
mod tests {
    use super::*;
    use std::time::Duration;

    fn pod(name: &str, ip: Option<&str>, tc: Option<&str>) -> PodInfo {
        PodInfo {
            namespace: "default".into(),
            name: name.into(),
            component: None,
            tidb_cluster: tc.map(String::from),
            node: None,
            ip: ip.map(String::from),
            agent_image: None,
            agent_exposed: false,
            agent_kind: None,
            agent_container: "netem-agent".into(),
            not_running: None,
            agent_trouble: None,
        }
    }

    fn name(
        targets: &[&str],
        components: &[&str],
        sel: Option<&str>,
        cidrs: &[&str],
        ports: &[u16],
    ) -> SetName {
        let targets: Vec<Target> = targets
            .iter()
            .map(|t| crate::target::parse_target(t).unwrap())
            .collect();
        let filter = Filter {
            components: components.iter().map(|c| c.to_string()).collect(),
            selector: sel.map(String::from),
        };
        let cidrs: Vec<Cidr> = cidrs.iter().map(|c| c.parse().unwrap()).collect();
        SetName::new(&targets, &filter, &cidrs, ports)
    }

    #[test]
    fn ids_come_from_the_naming_and_are_stable() {
        let n = name(&["basic-tikv-0"], &[], None, &[], &[]);
        assert_eq!(n.rule_id(), "to.pod.basic-tikv-0");
        assert_eq!(n.expression(), "pod/basic-tikv-0");
        assert_eq!(
            name(&["tc/basic"], &["tikv"], None, &[], &[]).rule_id(),
            "to.tc.basic.tikv"
        );
        assert_eq!(
            name(&[], &[], None, &["10.0.0.0/16"], &[20160]).rule_id(),
            "to.cidr.10.0.0.0-16.p20160"
        );
        assert_eq!(
            name(&[], &[], None, &["fd00::/64"], &[]).rule_id(),
            "to.cidr.fd00---64"
        );
        // Order and repetition do not matter; spellings of a kind do not either.
        assert_eq!(
            name(&["pod/b", "a", "b"], &["tikv", "pd"], None, &[], &[]),
            name(&["a", "b"], &["pd", "tikv"], None, &[], &[])
        );
        assert_eq!(
            name(&["tidb-cluster/basic"], &[], None, &[], &[]).rule_id(),
            name(&["tc/basic"], &[], None, &[], &[]).rule_id()
        );
        let sel = name(&[], &[], Some("app.kubernetes.io/component=tikv"), &[], &[]);
        assert_eq!(sel.rule_id(), "to.l.app.kubernetes.io-component-tikv");
        assert_eq!(
            sel.expression(),
            "selector=app.kubernetes.io/component=tikv"
        );
    }

    #[test]
    fn long_or_odd_namings_are_hashed_into_a_valid_id() {
        let many: Vec<String> = (0..20).map(|i| format!("basic-tikv-{i}")).collect();
        let refs: Vec<&str> = many.iter().map(String::as_str).collect();
        let long = name(&refs, &[], None, &[], &[]);
        let id = long.rule_id();
        assert!(valid_rule_id(&id), "{id}");
        assert!(id.starts_with("to.pod.basic-tikv-0.pod."), "{id}");
        assert_eq!(id, long.rule_id(), "stable");
        let other = name(&refs[1..], &[], None, &[], &[]).rule_id();
        assert_ne!(id, other);
        let odd = name(&[], &[], Some("tier!=a-"), &[], &[]).rule_id();
        assert!(valid_rule_id(&odd), "{odd}");
        // Pinned: the hash must never change between versions (re-runs must find the rule).
        assert_eq!(fnv1a(b"pod/a"), 0x497e_e535_2ceb_fa28);
    }

    #[test]
    fn component_alone_means_the_sources_cluster() {
        let sources = [
            pod("basic-tidb-0", Some("10.0.0.1"), Some("basic")),
            pod("basic-tidb-1", Some("10.0.0.2"), Some("basic")),
        ];
        assert_eq!(
            source_clusters(&sources, "--to"),
            Ok(vec![Target::TidbCluster("basic".into())])
        );
        let lone = [pod("web-0", None, None)];
        let err = source_clusters(&lone, "--to").unwrap_err();
        assert!(err.contains("pod web-0 belongs to none"), "{err}");
        assert!(err.contains("--to tidb-cluster/NAME"), "{err}");
    }

    #[test]
    fn filters_with_named_pods_are_refused() {
        let dest = Destinations {
            targets: vec![Target::Pod("basic-tikv-0".into())],
            filter: Filter {
                components: vec!["tikv".into()],
                selector: None,
            },
            flag: "--from",
            ..Destinations::default()
        };
        let err = dest.check().unwrap_err();
        assert!(
            err.starts_with("--from-component and --from-selector"),
            "{err}"
        );
        assert!(err.contains("(basic-tikv-0)"), "{err}");
        assert!(Destinations::default().is_empty());
    }

    #[test]
    fn sources_are_not_their_own_destinations() {
        let n = name(&["tc/basic"], &[], None, &[], &[]);
        let all = vec![
            pod("basic-pd-0", Some("10.0.0.1"), None),
            pod("basic-tikv-0", Some("10.0.0.2"), None),
        ];
        let rest = without_sources(all.clone(), &all[1..], &n).unwrap();
        assert_eq!(rest, all[..1]);
        let err = without_sources(all.clone(), &all, &n).unwrap_err();
        assert!(
            err.contains("every destination pod is also a source"),
            "{err}"
        );
        assert_eq!(without_sources(vec![], &all, &n), Ok(vec![]));
    }

    #[test]
    fn the_rule_holds_addresses_and_the_record() {
        let n = name(&["tc/basic"], &["tikv"], None, &[], &[]);
        let pods = [
            pod("basic-tikv-1", Some("10.0.0.8"), None),
            pod("basic-tikv-0", Some("10.0.0.7"), None),
            pod("basic-tikv-2", None, None),
        ];
        let netem = NetemSpec::delay(Duration::from_millis(20));
        let (spec, notes) = rule_spec(
            &n,
            &pods,
            &["fd00::/64".parse().unwrap()],
            &[20160],
            &netem,
            false,
        )
        .unwrap();
        assert_eq!(
            serde_json::to_value(&spec).unwrap(),
            serde_json::json!({
                "to": {"cidrs": ["10.0.0.7/32", "10.0.0.8/32", "fd00::/64"], "ports": [20160]},
                "netem": {"delay": "20ms"},
                "about": {"to": "tidbcluster/basic component=tikv",
                          "pods": {"basic-tikv-0": "10.0.0.7", "basic-tikv-1": "10.0.0.8"}}
            })
        );
        assert!(spec.validate().is_ok());
        assert!(notes[0].contains("basic-tikv-2"), "{notes:?}");
        // Pods named but none with an address: refused, never "every address".
        let err = rule_spec(&n, &pods[2..], &[], &[20160], &netem, true).unwrap_err();
        assert!(err.contains("none of its pods has an IP"), "{err}");
        let (reverse, _) = rule_spec(&n, &pods[..1], &[], &[], &netem, true).unwrap();
        assert_eq!(reverse.about["reverse"], true);
        assert_eq!(About::of(&reverse.about).unwrap().pods.len(), 1);
        assert_eq!(About::of(&serde_json::Value::Null), None);
    }

    #[test]
    fn moved_pods_are_named() {
        let about = About {
            to: "pod/a pod/b pod/c".into(),
            pods: [("a", "10.0.0.1"), ("b", "10.0.0.2"), ("c", "10.0.0.3")]
                .into_iter()
                .map(|(p, ip)| (p.to_string(), ip.to_string()))
                .collect(),
            reverse: false,
        };
        let key = |p: &str| ("default".to_string(), p.to_string());
        let current = BTreeMap::from([
            (key("a"), Some("10.0.0.1".to_string())),
            (key("b"), Some("10.0.0.9".to_string())),
            (
                ("other".to_string(), "c".to_string()),
                Some("10.0.0.3".to_string()),
            ),
        ]);
        assert_eq!(
            moved(&about, "default", &current),
            [
                Moved {
                    pod: "b".into(),
                    was: "10.0.0.2".into(),
                    now: Some("10.0.0.9".into())
                },
                Moved {
                    pod: "c".into(),
                    was: "10.0.0.3".into(),
                    now: None
                },
            ]
        );
    }

    mod no_panic {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(256))]

            /// Whatever the naming (any parsable targets, components, selector, networks,
            /// ports), the id is valid, and the same naming gives the same id.
            #[test]
            fn every_naming_gives_a_valid_stable_id(
                targets in proptest::collection::vec("(pod/|tc/|sts/)?[a-z0-9][a-z0-9.-]{0,70}[a-z0-9]", 0..4),
                components in proptest::collection::vec("[a-z]{1,8}", 0..3),
                selector in proptest::option::of(any::<String>()),
                v4 in proptest::collection::vec((any::<u32>(), 0u8..=32), 0..3),
                ports in proptest::collection::vec(1u16.., 0..3),
            ) {
                let targets: Vec<Target> = targets
                    .iter()
                    .filter_map(|t| crate::target::parse_target(t).ok())
                    .collect();
                let cidrs: Vec<Cidr> = v4
                    .iter()
                    .map(|(a, p)| {
                        let mask = u32::MAX.checked_shl(32 - u32::from(*p)).unwrap_or(0);
                        Cidr { addr: std::net::Ipv4Addr::from(a & mask).into(), prefix: *p }
                    })
                    .collect();
                let filter = Filter { components, selector };
                let n = SetName::new(&targets, &filter, &cidrs, &ports);
                let id = n.rule_id();
                prop_assert!(valid_rule_id(&id), "{id:?} from {n:?}");
                prop_assert_eq!(id, SetName::new(&targets, &filter, &cidrs, &ports).rule_id());
            }
        }
    }
}
