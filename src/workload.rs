//! The object `inject`/`eject` edit: a TidbCluster, or a StatefulSet where there is none.
//! Resolving the command-line target, re-reading, and sending guarded patches with retries.

use anyhow::Context as _;
use kube::api::{Api, DynamicObject};
use kube::core::ApiResource;
use serde_json::Value;

use crate::connect::Kube;
use crate::edit::{Edit, EditTarget};
use crate::errors::{api_status, cannot};
use crate::guarded::Guarded;
use crate::patch::{Plan, PlanError, Slot, tidbcluster_slots};
use crate::pods::Filter;
use crate::preflight;
use crate::rollout::Group;
use crate::target::{Target, WorkloadTarget};
use crate::v1;

/// The kinds the agent can be injected into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// `tidbclusters.pingcap.com`.
    TidbCluster,
    /// `statefulsets.apps`.
    StatefulSet,
}

impl Kind {
    fn resource(self) -> ApiResource {
        match self {
            Kind::TidbCluster => v1::tidbcluster_resource(),
            Kind::StatefulSet => ApiResource::erase::<k8s_openapi::api::apps::v1::StatefulSet>(&()),
        }
    }

    /// `tidbcluster` or `statefulset`, as in `tidbcluster/basic`.
    fn word(self) -> &'static str {
        match self {
            Kind::TidbCluster => "tidbcluster",
            Kind::StatefulSet => "statefulset",
        }
    }

    /// The resource as RBAC and error messages name it.
    fn resource_name(self) -> &'static str {
        match self {
            Kind::TidbCluster => "tidbclusters.pingcap.com",
            Kind::StatefulSet => "statefulsets.apps",
        }
    }
}

/// A TidbCluster or StatefulSet as last read from the server, with the components an edit
/// targets.
pub struct Workload {
    kind: Kind,
    components: Vec<String>,
    object: Guarded,
}

impl Workload {
    /// Targets `components` (all when empty; a StatefulSet has no components), checking
    /// they exist.
    pub fn select(mut self, components: &[String]) -> anyhow::Result<Self> {
        if self.kind == Kind::StatefulSet && !components.is_empty() {
            anyhow::bail!(
                "--component applies to a TidbCluster; {} is a StatefulSet",
                self.display()
            );
        }
        self.components = components.to_vec();
        self.slots().with_context(|| self.display())?;
        Ok(self)
    }

    /// Its targeted pods, as delay/clear/status name them (`tidb-cluster/NAME` narrowed to
    /// the targeted components, which `--component pdms` expands to its entries;
    /// `statefulset/NAME`).
    pub fn pods(&self) -> (Target, Filter) {
        let name = self.object.name.clone();
        match self.kind {
            Kind::TidbCluster => {
                let components = if self.components.is_empty() {
                    Vec::new()
                } else {
                    self.slots()
                        .map(|s| s.into_iter().map(|s| s.name).collect())
                        .unwrap_or_default()
                };
                let filter = Filter {
                    components,
                    selector: None,
                };
                (Target::TidbCluster(name), filter)
            }
            Kind::StatefulSet => (Target::StatefulSet(name), Filter::default()),
        }
    }

    fn slots(&self) -> Result<Vec<Slot>, PlanError> {
        slots_for(
            self.kind,
            &self.object.name,
            &self.object.obj,
            &self.components,
        )
    }
}

impl EditTarget for Workload {
    fn display(&self) -> String {
        self.object.display.clone()
    }

    fn namespace(&self) -> &str {
        &self.object.namespace
    }

    fn roller(&self) -> &'static str {
        match self.kind {
            Kind::TidbCluster => "TiDB Operator",
            Kind::StatefulSet => "the StatefulSet controller",
        }
    }

    fn preflight(&self, force: bool) -> anyhow::Result<()> {
        if self.kind == Kind::StatefulSet && !force {
            preflight::managed_statefulset(&self.object.obj)?;
        }
        preflight::host_network(&self.object.obj, &self.slots()?)?;
        Ok(())
    }

    fn plan(&self, edit: &Edit) -> anyhow::Result<Plan> {
        edit.plan(&self.object.obj, &self.slots()?)
            .with_context(|| self.display())
    }

    fn replicas(&self, slot: &Slot) -> u64 {
        slot.replicas(&self.object.obj)
    }

    fn warnings(&self) -> Vec<String> {
        let paused = self
            .object
            .obj
            .pointer("/spec/paused")
            .and_then(Value::as_bool)
            == Some(true);
        if paused {
            vec![format!(
                "{} is paused: the operator will not roll the pods until it is resumed",
                self.display()
            )]
        } else {
            Vec::new()
        }
    }

    async fn dry_run(&self, plan: &Plan) -> anyhow::Result<()> {
        self.object.dry_run(plan).await
    }

    /// Plans from the object held, sends the guarded patch, and on 409 Conflict (or a 422
    /// from the patch's own `test` after a concurrent change) re-reads and re-plans, a few
    /// times ([`Guarded::apply`]).
    async fn apply(&mut self, edit: &Edit) -> anyhow::Result<Plan> {
        let (kind, components) = (self.kind, self.components.clone());
        let name = self.object.name.clone();
        let display = self.display();
        self.object
            .apply(|obj| {
                let slots = slots_for(kind, &name, obj, &components)?;
                edit.plan(obj, &slots).with_context(|| display.clone())
            })
            .await
    }

    /// The pods of each slot: a TidbCluster component's pods by the labels TiDB Operator
    /// sets, a StatefulSet's by its selector and ownership.
    fn groups(&self, slots: &[Slot]) -> Vec<Group> {
        slots
            .iter()
            .map(|slot| match self.kind {
                Kind::TidbCluster => Group {
                    label: slot.name.clone(),
                    selector: v1::component_selector(&self.object.name, &slot.name),
                    owner: None,
                    // TiDB Operator names each component's StatefulSet `<cluster>-<component>`.
                    statefulset: Some(format!("{}-{}", self.object.name, slot.name)),
                    expected: slot.replicas(&self.object.obj),
                    status: None,
                },
                Kind::StatefulSet => Group {
                    label: slot.name.clone(),
                    selector: self
                        .object
                        .obj
                        .pointer("/spec/selector/matchLabels")
                        .and_then(Value::as_object)
                        .map(|m| {
                            m.iter()
                                .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
                                .collect::<Vec<_>>()
                                .join(",")
                        })
                        .unwrap_or_default(),
                    owner: Some(self.object.name.clone()),
                    statefulset: Some(self.object.name.clone()),
                    expected: slot.replicas(&self.object.obj),
                    status: None,
                },
            })
            .collect()
    }
}

/// The slots of `obj` for `components` (pure; used again after every re-read).
fn slots_for(
    kind: Kind,
    name: &str,
    obj: &Value,
    components: &[String],
) -> Result<Vec<Slot>, PlanError> {
    match kind {
        Kind::TidbCluster => tidbcluster_slots(obj, components),
        Kind::StatefulSet => Ok(vec![Slot::statefulset(name)]),
    }
}

/// Reads the wanted object. A bare name is a TidbCluster when one exists, else a
/// StatefulSet (also when the TidbCluster CRD is not installed); the choice is reported.
pub async fn resolve(kube: &Kube, wanted: &WorkloadTarget) -> anyhow::Result<Workload> {
    let ns = &kube.namespace;
    match wanted {
        WorkloadTarget::TidbCluster(name) => match get(kube, Kind::TidbCluster, name).await? {
            Found::Yes(w) => Ok(*w),
            Found::No => anyhow::bail!("tidbcluster/{name} not found in namespace {ns}"),
            Found::NotServed => anyhow::bail!(
                "the server does not serve {} (TiDB Operator's CRD is not installed); target statefulset/NAME instead",
                Kind::TidbCluster.resource_name()
            ),
        },
        WorkloadTarget::Pod(n) => anyhow::bail!(
            "pod/{n}: the agent goes into a pod template, so target the tidb-cluster/NAME or \
             statefulset/NAME that owns the pod, or add the agent to the running pod with --ephemeral"
        ),
        WorkloadTarget::StatefulSet(name) => match get(kube, Kind::StatefulSet, name).await? {
            Found::Yes(w) => Ok(*w),
            _ => anyhow::bail!("statefulset/{name} not found in namespace {ns}"),
        },
        WorkloadTarget::V2(t) => {
            anyhow::bail!(
                "{t} is a TiDB Operator v2 target, edited through its groups' pod overlays"
            )
        }
        WorkloadTarget::Either(name) => {
            let why = match get(kube, Kind::TidbCluster, name).await? {
                Found::Yes(w) => return Ok(*w),
                Found::No => format!("no tidbcluster/{name} in namespace {ns}"),
                Found::NotServed => "TidbCluster CRD not installed".to_string(),
            };
            match get(kube, Kind::StatefulSet, name).await? {
                Found::Yes(w) => {
                    eprintln!("{why}: using statefulset/{name}");
                    Ok(*w)
                }
                _ => anyhow::bail!(
                    "neither tidbcluster/{name} nor statefulset/{name} found in namespace {ns} ({why})"
                ),
            }
        }
    }
}

enum Found {
    Yes(Box<Workload>),
    No,
    NotServed,
}

async fn get(kube: &Kube, kind: Kind, name: &str) -> anyhow::Result<Found> {
    let api = Api::<DynamicObject>::namespaced_with(
        kube.client.clone(),
        &kube.namespace,
        &kind.resource(),
    );
    let what = format!("{} {name:?}", kind.resource_name());
    match api.get(name).await {
        Ok(obj) => Ok(Found::Yes(Box::new(Workload {
            kind,
            components: Vec::new(),
            object: Guarded {
                api,
                name: name.to_string(),
                namespace: kube.namespace.clone(),
                display: format!("{}/{name}", kind.word()),
                what,
                obj: serde_json::to_value(obj)?,
            },
        }))),
        Err(err) if api_status(&err).is_some_and(crate::errors::is_not_found) => {
            // The same 404 answers "no such object" and "no such resource": ask discovery.
            if kind == Kind::TidbCluster && !tidbclusters_served(kube).await {
                Ok(Found::NotServed)
            } else {
                Ok(Found::No)
            }
        }
        Err(err) => Err(cannot(err, "get", &what, &kube.namespace)),
    }
}

async fn tidbclusters_served(kube: &Kube) -> bool {
    match kube.client.list_api_group_resources(v1::API_VERSION).await {
        Ok(list) => list.resources.iter().any(|r| r.name == v1::PLURAL),
        // Unknown either way: a 404 is the group missing; anything else, assume it is served
        // so the user gets the plain "not found".
        Err(err) => !api_status(&err).is_some_and(crate::errors::is_not_found),
    }
}
