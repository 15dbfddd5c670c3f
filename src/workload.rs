//! The object `inject`/`eject` edit: a TidbCluster, or a StatefulSet where there is none.
//! Resolving the command-line target, re-reading, and sending guarded patches with retries.

use std::time::Duration;

use anyhow::Context as _;
use kube::api::{Api, DynamicObject, Patch, PatchParams};
use kube::core::ApiResource;
use serde_json::Value;

use crate::connect::Kube;
use crate::edit::{Edit, EditTarget};
use crate::errors::{api_status, cannot};
use crate::patch::{Plan, PlanError, Slot, tidbcluster_slots};
use crate::preflight;
use crate::rollout::Group;
use crate::target::WorkloadTarget;

/// `pingcap.com/v1alpha1`, the TiDB Operator v1 API.
pub const TC_API_VERSION: &str = "pingcap.com/v1alpha1";

/// How many times a patch is re-planned after a concurrent change before giving up.
const MAX_ATTEMPTS: usize = 5;

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
            Kind::TidbCluster => ApiResource {
                group: "pingcap.com".into(),
                version: "v1alpha1".into(),
                api_version: TC_API_VERSION.into(),
                kind: "TidbCluster".into(),
                plural: "tidbclusters".into(),
            },
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
    name: String,
    namespace: String,
    obj: Value,
    components: Vec<String>,
    api: Api<DynamicObject>,
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

    fn slots(&self) -> Result<Vec<Slot>, PlanError> {
        slots_for(self.kind, &self.name, &self.obj, &self.components)
    }

    fn what(&self) -> String {
        format!("{} {:?}", self.kind.resource_name(), self.name)
    }

    /// Reads the object again.
    async fn reload(&mut self) -> anyhow::Result<()> {
        let obj = self
            .api
            .get(&self.name)
            .await
            .map_err(|e| cannot(e, "get", &self.what(), &self.namespace))?;
        self.obj = serde_json::to_value(obj)?;
        Ok(())
    }

    async fn send(&self, patch: &Value, dry_run: bool) -> Result<Value, kube::Error> {
        let ops: json_patch::Patch =
            serde_json::from_value(patch.clone()).map_err(kube::Error::SerdeError)?;
        let params = PatchParams {
            field_manager: Some("kubectl-netem".into()),
            dry_run,
            ..PatchParams::default()
        };
        let obj = self
            .api
            .patch(&self.name, &params, &Patch::Json::<()>(ops))
            .await?;
        serde_json::to_value(obj).map_err(kube::Error::SerdeError)
    }
}

impl EditTarget for Workload {
    fn display(&self) -> String {
        format!("{}/{}", self.kind.word(), self.name)
    }

    fn namespace(&self) -> &str {
        &self.namespace
    }

    fn roller(&self) -> &'static str {
        match self.kind {
            Kind::TidbCluster => "TiDB Operator",
            Kind::StatefulSet => "the StatefulSet controller",
        }
    }

    fn preflight(&self, force: bool) -> anyhow::Result<()> {
        if self.kind == Kind::StatefulSet && !force {
            preflight::managed_statefulset(&self.obj)?;
        }
        preflight::host_network(&self.obj, &self.slots()?)?;
        Ok(())
    }

    fn plan(&self, edit: &Edit) -> anyhow::Result<Plan> {
        edit.plan(&self.obj, &self.slots()?)
            .with_context(|| self.display())
    }

    fn replicas(&self, slot: &Slot) -> u64 {
        slot.replicas(&self.obj)
    }

    fn warnings(&self) -> Vec<String> {
        let paused = self.obj.pointer("/spec/paused").and_then(Value::as_bool) == Some(true);
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
        self.send(&plan.patch(), true)
            .await
            .map(|_| ())
            .map_err(|e| cannot(e, "patch (dry run)", &self.what(), &self.namespace))
    }

    /// Plans from the object held, sends the guarded patch, and on 409 Conflict (or a 422
    /// from the patch's own `test` after a concurrent change) re-reads and re-plans, a few
    /// times.
    async fn apply(&mut self, edit: &Edit) -> anyhow::Result<Plan> {
        for attempt in 1..=MAX_ATTEMPTS {
            let current = self.plan(edit)?;
            if current.is_noop() {
                return Ok(current);
            }
            let read_version = current.resource_version.clone();
            match self.send(&current.patch(), false).await {
                Ok(obj) => {
                    self.obj = obj;
                    return Ok(current);
                }
                Err(err)
                    if api_status(&err).is_some_and(|s| s.is_conflict() || s.is_invalid())
                        && attempt < MAX_ATTEMPTS =>
                {
                    let invalid = api_status(&err).is_some_and(|s| s.is_invalid());
                    let code = api_status(&err).map_or(0, |s| s.code);
                    self.reload().await?;
                    let now = self
                        .obj
                        .pointer("/metadata/resourceVersion")
                        .and_then(Value::as_str);
                    // A 422 on an object nobody touched is our patch being invalid, not a race.
                    if invalid && now == Some(read_version.as_str()) {
                        return Err(cannot(err, "patch", &self.what(), &self.namespace));
                    }
                    eprintln!(
                        "{} changed meanwhile (HTTP {code}); re-reading and trying again",
                        self.display()
                    );
                    tokio::time::sleep(Duration::from_millis(100 * attempt as u64)).await;
                }
                Err(err) => return Err(cannot(err, "patch", &self.what(), &self.namespace)),
            }
        }
        anyhow::bail!(
            "{} kept changing while patching it; gave up after {MAX_ATTEMPTS} attempts",
            self.display()
        )
    }

    /// The pods of each slot: a TidbCluster component's pods by the labels TiDB Operator
    /// sets, a StatefulSet's by its selector and ownership.
    fn groups(&self, slots: &[Slot]) -> Vec<Group> {
        slots
            .iter()
            .map(|slot| match self.kind {
                Kind::TidbCluster => Group {
                    label: slot.name.clone(),
                    selector: format!(
                        "app.kubernetes.io/instance={},app.kubernetes.io/component={}",
                        self.name, slot.name
                    ),
                    owner: None,
                    // TiDB Operator names each component's StatefulSet `<cluster>-<component>`.
                    statefulset: Some(format!("{}-{}", self.name, slot.name)),
                    expected: slot.replicas(&self.obj),
                    status: None,
                },
                Kind::StatefulSet => Group {
                    label: slot.name.clone(),
                    selector: self
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
                    owner: Some(self.name.clone()),
                    statefulset: Some(self.name.clone()),
                    expected: slot.replicas(&self.obj),
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
            name: name.to_string(),
            namespace: kube.namespace.clone(),
            obj: serde_json::to_value(obj)?,
            components: Vec::new(),
            api,
        }))),
        Err(err) if api_status(&err).is_some_and(|s| s.is_not_found()) => {
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
    match kube.client.list_api_group_resources(TC_API_VERSION).await {
        Ok(list) => list.resources.iter().any(|r| r.name == "tidbclusters"),
        // Unknown either way: a 404 is the group missing; anything else, assume it is served
        // so the user gets the plain "not found".
        Err(err) => !api_status(&err).is_some_and(|s| s.is_not_found()),
    }
}
