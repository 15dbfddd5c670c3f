//! From command-line targets to the pods to talk to.
//!
//! A pod name is looked up as is; `tidb-cluster/NAME` means the pods TiDB Operator labels
//! `app.kubernetes.io/instance=NAME, app.kubernetes.io/managed-by=tidb-operator`;
//! `statefulset/NAME` means the pods its selector matches; TiDB Operator v2's `cluster/NAME`
//! and groups (`pdgroup/NAME`, …) the pods it labels `pingcap.com/…` ([`crate::group`]).
//! `--component` and `-l` narrow
//! those groups (and the "every pod with the agent" default of `status` and `clear --all`).
//! A pod "has the agent" when its spec holds a container named `netem-agent`.

use anyhow::Context as _;
use futures::StreamExt as _;
use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::core::v1::{Container, Pod};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use kube::api::{Api, ListParams};

use netem_api::contract;

use crate::target::Target;

/// Name of the agent's container in a pod (one definition, shared with inject).
pub use netem_api::contract::CONTAINER_NAME as AGENT_CONTAINER;

use crate::v1::{LABEL_COMPONENT, LABEL_INSTANCE, LABEL_MANAGED_BY, MANAGED_BY_OPERATOR};

/// What the commands need to know about a pod.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PodInfo {
    /// Namespace.
    pub namespace: String,
    /// Name.
    pub name: String,
    /// TiDB Operator's component label (pd, tikv, tidb, ...), if any.
    pub component: Option<String>,
    /// The TidbCluster it belongs to (TiDB Operator's instance label), if any.
    pub tidb_cluster: Option<String>,
    /// The node it runs on.
    pub node: Option<String>,
    /// The pod IP.
    pub ip: Option<String>,
    /// The agent container's image; `None` when the pod has no agent.
    pub agent_image: Option<String>,
    /// How the agent runs in the pod; `None` when the pod has no agent.
    pub agent_kind: Option<AgentKind>,
    /// The agent container's name (`netem-agent`, or `netem-agent-N` for an ephemeral one).
    pub agent_container: String,
    /// Whether the agent also listens on the pod IP (`inject --expose`: it declares its port).
    pub agent_exposed: bool,
    /// Why the pod cannot be reached now (not Running, being deleted), if so.
    pub not_running: Option<String>,
    /// The agent container's state when it is not running (e.g. "waiting: CrashLoopBackOff").
    pub agent_trouble: Option<String>,
}

/// How the agent runs in a pod.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AgentKind {
    /// A container of the pod template (`inject`): restarted with the pod's policy.
    Sidecar,
    /// An ephemeral container (`inject --ephemeral`): added to the running pod, never
    /// restarted, never removed.
    Ephemeral,
}

impl AgentKind {
    /// `sidecar` or `ephemeral`, as status shows it.
    pub fn word(self) -> &'static str {
        match self {
            AgentKind::Sidecar => "sidecar",
            AgentKind::Ephemeral => "ephemeral",
        }
    }
}

/// The agent of a pod: (kind, container name, image, declared ports). A sidecar (a plain
/// container or a native sidecar, i.e. an init container that keeps running) named
/// `netem-agent` comes first; otherwise the newest running ephemeral agent
/// (`netem-agent-N`), else the newest one that did not exit 0 (stopped by eject).
fn find_agent(pod: &Pod) -> Option<(AgentKind, String, String, Vec<i32>)> {
    let spec = pod.spec.as_ref()?;
    let ports = |p: &Option<Vec<k8s_openapi::api::core::v1::ContainerPort>>| {
        p.iter().flatten().map(|p| p.container_port).collect()
    };
    if let Some(c) = spec
        .containers
        .iter()
        .chain(spec.init_containers.iter().flatten())
        .find(|c: &&Container| c.name == AGENT_CONTAINER)
    {
        let image = c.image.clone().unwrap_or_default();
        return Some((AgentKind::Sidecar, c.name.clone(), image, ports(&c.ports)));
    }
    let state = |name: &str| {
        pod.status
            .as_ref()
            .and_then(|s| s.ephemeral_container_statuses.as_ref())
            .into_iter()
            .flatten()
            .find(|st| st.name == name)
            .and_then(|st| st.state.clone())
    };
    let running = |name: &str| state(name).is_some_and(|s| s.running.is_some());
    // An ephemeral agent that exited 0 was stopped on purpose (`eject --ephemeral`): it is
    // not the pod's agent any more. One that failed still is, so its trouble is shown.
    let stopped = |name: &str| {
        state(name)
            .and_then(|s| s.terminated)
            .is_some_and(|t| t.exit_code == 0)
    };
    spec.ephemeral_containers
        .iter()
        .flatten()
        .filter_map(|c| contract::ephemeral_index(&c.name).map(|n| (n, c)))
        .filter(|(_, c)| !stopped(&c.name))
        .max_by_key(|(n, c)| (running(&c.name), *n))
        .map(|(_, c)| {
            let image = c.image.clone().unwrap_or_default();
            (AgentKind::Ephemeral, c.name.clone(), image, ports(&c.ports))
        })
}

impl PodInfo {
    /// True when the pod spec holds the agent container.
    pub fn has_agent(&self) -> bool {
        self.agent_image.is_some()
    }

    /// How to get the agent into this pod, for hints.
    pub fn inject_hint(&self) -> String {
        match &self.tidb_cluster {
            Some(tc) => format!("run `kubectl netem inject tidb-cluster/{tc}` first"),
            None => "inject the agent first (`kubectl netem inject`)".to_string(),
        }
    }

    /// The agent container's name, for hints (`kubectl logs POD -c netem-agent`).
    pub fn logs_hint(&self) -> String {
        format!(
            "kubectl logs -n {} {} -c {}",
            self.namespace, self.name, self.agent_container
        )
    }
}

/// Extracts what the commands need from a pod object.
pub fn pod_info(pod: &Pod) -> PodInfo {
    let meta = &pod.metadata;
    let labels = meta.labels.as_ref();
    let spec = pod.spec.as_ref();
    let status = pod.status.as_ref();
    let agent = find_agent(pod);
    let agent_container = agent
        .as_ref()
        .map_or(AGENT_CONTAINER.to_string(), |a| a.1.clone());
    let phase = status.and_then(|s| s.phase.clone()).unwrap_or_default();
    let not_running = if meta.deletion_timestamp.is_some() {
        Some("the pod is being deleted".to_string())
    } else if phase != "Running" {
        let phase = if phase.is_empty() { "Unknown" } else { &phase };
        Some(format!("the pod is {phase}, not Running"))
    } else {
        None
    };
    let agent_trouble = status.and_then(|s| {
        s.container_statuses
            .iter()
            .flatten()
            .chain(s.init_container_statuses.iter().flatten())
            .chain(s.ephemeral_container_statuses.iter().flatten())
            .find(|c| c.name == agent_container)
            .and_then(|c| c.state.as_ref())
            .and_then(|state| {
                if let Some(w) = &state.waiting {
                    Some(format!(
                        "waiting: {}",
                        w.reason.as_deref().unwrap_or("unknown reason")
                    ))
                } else {
                    state.terminated.as_ref().map(|t| {
                        format!(
                            "terminated: {}",
                            t.reason.as_deref().unwrap_or("unknown reason")
                        )
                    })
                }
            })
    });
    PodInfo {
        namespace: meta.namespace.clone().unwrap_or_default(),
        name: meta.name.clone().unwrap_or_default(),
        component: labels
            .and_then(|l| {
                l.get(LABEL_COMPONENT)
                    .or_else(|| l.get(crate::v2::LABEL_COMPONENT))
            })
            .cloned(),
        tidb_cluster: labels
            .filter(|l| {
                l.get(LABEL_MANAGED_BY)
                    .is_some_and(|v| v == MANAGED_BY_OPERATOR)
            })
            .and_then(|l| l.get(LABEL_INSTANCE))
            .cloned(),
        node: spec.and_then(|s| s.node_name.clone()),
        ip: status.and_then(|s| s.pod_ip.clone()),
        agent_exposed: agent
            .as_ref()
            .is_some_and(|a| a.3.contains(&i32::from(netem_api::wire::DEFAULT_PORT))),
        agent_kind: agent.as_ref().map(|a| a.0),
        agent_image: agent.map(|a| a.2),
        agent_container,
        not_running,
        agent_trouble,
    }
}

/// `--component` and `-l`: how groups of pods are narrowed.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// TidbCluster components (pd, tikv, ...).
    pub components: Vec<String>,
    /// A label selector in kubectl's syntax.
    pub selector: Option<String>,
}

/// The label selector for a group of pods: `base` terms, then the filter's.
pub fn label_selector(base: &[String], filter: &Filter) -> String {
    let mut terms: Vec<String> = base.to_vec();
    match filter.components.as_slice() {
        [] => {}
        [one] => terms.push(format!("{LABEL_COMPONENT}={one}")),
        many => terms.push(format!("{LABEL_COMPONENT} in ({})", many.join(","))),
    }
    if let Some(sel) = filter.selector.as_deref().filter(|s| !s.trim().is_empty()) {
        terms.push(sel.trim().to_string());
    }
    terms.join(",")
}

/// The terms that select a TidbCluster's pods, as TiDB Operator labels them.
pub fn tidb_cluster_terms(name: &str) -> Vec<String> {
    vec![
        format!("{LABEL_INSTANCE}={name}"),
        format!("{LABEL_MANAGED_BY}={MANAGED_BY_OPERATOR}"),
    ]
}

/// A StatefulSet's `spec.selector` as label selector terms.
pub fn selector_terms(sel: &LabelSelector) -> anyhow::Result<Vec<String>> {
    let mut terms: Vec<String> = sel
        .match_labels
        .iter()
        .flatten()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    for expr in sel.match_expressions.iter().flatten() {
        let values = expr.values.clone().unwrap_or_default().join(",");
        terms.push(match expr.operator.as_str() {
            "In" => format!("{} in ({values})", expr.key),
            "NotIn" => format!("{} notin ({values})", expr.key),
            "Exists" => expr.key.clone(),
            "DoesNotExist" => format!("!{}", expr.key),
            other => anyhow::bail!("unknown selector operator {other:?}"),
        });
    }
    anyhow::ensure!(!terms.is_empty(), "the StatefulSet's selector is empty");
    Ok(terms)
}

/// Which pods the targets mean, and what a command should tell about them.
#[derive(Debug, Default)]
pub struct Selection {
    /// The pods, sorted by namespace and name, without duplicates.
    pub pods: Vec<PodInfo>,
    /// Things left out on purpose, for a note on stderr (pods of a group without the agent).
    pub notes: Vec<String>,
}

/// What to do with a pod named explicitly that has no agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MissingAgent {
    /// Refuse before any change (delay, clear).
    Refuse,
    /// Keep it: the fan-out reports it per pod (status).
    Report,
    /// Keep every pod, agent or not, in groups too: destinations, where a pod's address is
    /// what counts (where the other side needs the agent, the fan-out reports it per pod);
    /// and `inject --ephemeral`, which brings the agent.
    Keep,
}

/// Resolves `targets` in namespace `ns`. Every error (unknown pod, empty group, pod
/// without the agent under [`MissingAgent::Refuse`]) is gathered and returned at once,
/// before any pod is contacted.
pub async fn resolve(
    client: &kube::Client,
    ns: &str,
    targets: &[Target],
    filter: &Filter,
    missing: MissingAgent,
) -> anyhow::Result<Selection> {
    check_filter_applies(targets, filter)?;
    let lookups = targets
        .iter()
        .map(|t| resolve_one(client, ns, t, filter, missing));
    // Named pods are fetched concurrently: a cluster-wide command stays quick.
    let results: Vec<_> = futures::stream::iter(lookups).buffered(16).collect().await;
    let mut errors = Vec::new();
    let mut selection = Selection::default();
    for r in results {
        match r {
            Ok(s) => {
                selection.pods.extend(s.pods);
                selection.notes.extend(s.notes);
            }
            Err(e) => errors.push(format!("{e:#}")),
        }
    }
    match errors.as_slice() {
        [] => {}
        [one] => anyhow::bail!("{one}; nothing was changed"),
        many => anyhow::bail!(
            "{} targets cannot be used; nothing was changed:\n  {}",
            many.len(),
            many.join("\n  ")
        ),
    }
    Ok(dedup(selection))
}

/// Refuses `--component`/`-l` together with pod names: a named pod is taken as it is, so
/// the filter would silently not apply to it (kubectl likewise refuses names with `-l`).
pub fn check_filter_applies(targets: &[Target], filter: &Filter) -> anyhow::Result<()> {
    let filtering = !filter.components.is_empty()
        || filter
            .selector
            .as_deref()
            .is_some_and(|s| !s.trim().is_empty());
    let named: Vec<&str> = targets
        .iter()
        .filter_map(|t| match t {
            Target::Pod(name) => Some(name.as_str()),
            _ => None,
        })
        .collect();
    if filtering && !named.is_empty() {
        anyhow::bail!(
            "--component and -l narrow tidb-cluster/ and statefulset/ targets, not pods named \
             one by one ({}): drop the flag or name a group; nothing was changed",
            named.join(", ")
        );
    }
    Ok(())
}

/// Every pod with the agent in `ns` (or in all namespaces when `ns` is None), narrowed by
/// the filter.
pub async fn with_agent(
    client: &kube::Client,
    ns: Option<&str>,
    filter: &Filter,
) -> anyhow::Result<Selection> {
    let api: Api<Pod> = match ns {
        Some(ns) => Api::namespaced(client.clone(), ns),
        None => Api::all(client.clone()),
    };
    // Components are matched on the pods' component label, v1's or v2's (a selector cannot
    // say "either label").
    let selector = label_selector(&[], &labels_only(filter));
    let pods = list(&api, &selector).await?;
    let pods = pods
        .into_iter()
        .filter(PodInfo::has_agent)
        .filter(|p| {
            filter.components.is_empty()
                || p.component
                    .as_ref()
                    .is_some_and(|c| filter.components.contains(c))
        })
        .collect();
    Ok(dedup(Selection {
        pods,
        notes: Vec::new(),
    }))
}

/// The filter without `--component` (matched some other way).
fn labels_only(filter: &Filter) -> Filter {
    Filter {
        components: Vec::new(),
        selector: filter.selector.clone(),
    }
}

/// Every pod in `ns` matching the filter's selector (agent or not), named `what` in errors:
/// `--to-selector` alone.
pub async fn matching(
    client: &kube::Client,
    ns: &str,
    filter: &Filter,
    what: &str,
) -> anyhow::Result<Selection> {
    let api: Api<Pod> = Api::namespaced(client.clone(), ns);
    let selector = label_selector(&[], filter);
    let pods = list(&api, &selector).await?;
    group_selection(what, ns, &selector, pods, MissingAgent::Keep)
        .map(dedup)
        .map_err(|e| anyhow::anyhow!("{e}; nothing was changed"))
}

/// Every pod's current IP in `ns` (all namespaces when None), keyed by (namespace, name),
/// in one list call: what rules recorded is compared with it.
pub async fn addresses(
    client: &kube::Client,
    ns: Option<&str>,
) -> anyhow::Result<std::collections::BTreeMap<(String, String), Option<String>>> {
    let api: Api<Pod> = match ns {
        Some(ns) => Api::namespaced(client.clone(), ns),
        None => Api::all(client.clone()),
    };
    Ok(list(&api, "")
        .await?
        .into_iter()
        .map(|p| ((p.namespace, p.name), p.ip))
        .collect())
}

async fn resolve_one(
    client: &kube::Client,
    ns: &str,
    target: &Target,
    filter: &Filter,
    missing: MissingAgent,
) -> anyhow::Result<Selection> {
    let api: Api<Pod> = Api::namespaced(client.clone(), ns);
    let (what, terms) = match target {
        Target::Pod(name) => {
            let pod = api
                .get_opt(name)
                .await
                .with_context(|| format!("getting pod {name} in namespace {ns}"))?
                .with_context(|| format!("pod {name} not found in namespace {ns}"))?;
            let info = pod_info(&pod);
            if !info.has_agent() && missing == MissingAgent::Refuse {
                anyhow::bail!(
                    "pod {name} has no {AGENT_CONTAINER} container: {}",
                    info.inject_hint()
                );
            }
            return Ok(Selection {
                pods: vec![info],
                notes: Vec::new(),
            });
        }
        Target::TidbCluster(name) => (format!("tidb-cluster/{name}"), tidb_cluster_terms(name)),
        Target::StatefulSet(name) => {
            let sts = Api::<StatefulSet>::namespaced(client.clone(), ns)
                .get_opt(name)
                .await
                .with_context(|| format!("getting statefulset {name} in namespace {ns}"))?
                .with_context(|| format!("statefulset {name} not found in namespace {ns}"))?;
            let sel = sts.spec.selector;
            let terms = selector_terms(&sel).with_context(|| format!("statefulset {name}"))?;
            (format!("statefulset/{name}"), terms)
        }
        Target::V2(t) => {
            // v2 labels its pods' component pingcap.com/component: narrowed there.
            let (what, terms) = crate::group::pod_terms(client, ns, t, &filter.components).await?;
            let selector = label_selector(&terms, &labels_only(filter));
            let pods = list(&api, &selector).await?;
            return group_selection(&what, ns, &selector, pods, missing);
        }
    };
    let selector = label_selector(&terms, filter);
    let pods = list(&api, &selector).await?;
    group_selection(&what, ns, &selector, pods, missing)
}

/// Keeps a group's pods that carry the agent; a group without any is an error.
fn group_selection(
    what: &str,
    ns: &str,
    selector: &str,
    pods: Vec<PodInfo>,
    missing: MissingAgent,
) -> anyhow::Result<Selection> {
    if pods.is_empty() {
        anyhow::bail!(
            "{what}: no pods in namespace {ns} match {selector} (check: kubectl get pods -n {ns} -l {selector})"
        );
    }
    if missing == MissingAgent::Keep {
        return Ok(Selection {
            pods,
            notes: Vec::new(),
        });
    }
    let (with, without): (Vec<_>, Vec<_>) = pods.into_iter().partition(PodInfo::has_agent);
    if with.is_empty() {
        anyhow::bail!(
            "{what}: none of its {} pods has a {AGENT_CONTAINER} container: run `kubectl netem inject {what}` first",
            without.len()
        );
    }
    let notes = if without.is_empty() {
        Vec::new()
    } else {
        let names: Vec<_> = without.iter().map(|p| p.name.as_str()).collect();
        vec![format!(
            "{what}: left out {} pod(s) without the agent: {}",
            names.len(),
            names.join(", ")
        )]
    };
    Ok(Selection { pods: with, notes })
}

async fn list(api: &Api<Pod>, selector: &str) -> anyhow::Result<Vec<PodInfo>> {
    let mut params = ListParams::default();
    if !selector.is_empty() {
        params = params.labels(selector);
    }
    let list = api
        .list(&params)
        .await
        .with_context(|| format!("listing pods (selector {selector:?})"))?;
    Ok(list.items.iter().map(pod_info).collect())
}

fn dedup(mut s: Selection) -> Selection {
    s.pods
        .sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
    s.pods
        .dedup_by(|a, b| a.namespace == b.namespace && a.name == b.name);
    s
}

#[cfg(test)]
mod tests;
