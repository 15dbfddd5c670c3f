//! The object `inject`/`eject` edit: a TidbCluster, or a StatefulSet where there is none.
//! Resolving the command-line target, re-reading, and sending guarded patches with retries.

use std::time::Duration;

use anyhow::Context as _;
use kube::api::{Api, DynamicObject, Patch, PatchParams};
use kube::core::ApiResource;
use serde_json::Value;

use crate::connect::Kube;
use crate::patch::{Plan, PlanError, Slot, tidbcluster_slots};
use crate::preflight::{describe, status_code};
use crate::rollout::Group;

/// `pingcap.com/v1alpha1`, the TiDB Operator v1 API.
pub const TC_API_VERSION: &str = "pingcap.com/v1alpha1";

/// How many times a patch is re-planned after a concurrent change before giving up.
const MAX_ATTEMPTS: usize = 5;

/// The kinds the agent can be injected into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
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
    pub fn word(self) -> &'static str {
        match self {
            Kind::TidbCluster => "tidbcluster",
            Kind::StatefulSet => "statefulset",
        }
    }

    /// The resource as RBAC and error messages name it.
    pub fn resource_name(self) -> &'static str {
        match self {
            Kind::TidbCluster => "tidbclusters.pingcap.com",
            Kind::StatefulSet => "statefulsets.apps",
        }
    }
}

/// What the command line asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Wanted {
    /// `tidb-cluster/NAME` (or `tc/`, `tidbcluster/`).
    TidbCluster(String),
    /// `statefulset/NAME` (or `sts/`).
    StatefulSet(String),
    /// A bare `NAME`: a TidbCluster if there is one, else a StatefulSet.
    Either(String),
}

/// Parses an `inject`/`eject` target. Pods are refused: the agent goes into a template.
pub fn parse_wanted(s: &str) -> anyhow::Result<Wanted> {
    use crate::target::{Target, parse_target};
    let target = parse_target(s).map_err(anyhow::Error::msg)?;
    let name = target.name().to_string();
    Ok(match target {
        Target::TidbCluster(_) => Wanted::TidbCluster(name),
        Target::StatefulSet(_) => Wanted::StatefulSet(name),
        Target::Pod(_) if !s.contains('/') => Wanted::Either(name),
        Target::Pod(n) => anyhow::bail!(
            "pod/{n}: the agent goes into a pod template, so target the tidb-cluster/NAME or statefulset/NAME that owns the pod"
        ),
    })
}

/// A TidbCluster or StatefulSet as last read from the server.
pub struct Workload {
    /// Its kind.
    pub kind: Kind,
    /// Its name.
    pub name: String,
    /// Its namespace.
    pub namespace: String,
    /// The object as JSON.
    pub obj: Value,
    api: Api<DynamicObject>,
}

impl Workload {
    /// `tidbcluster/basic`.
    pub fn display(&self) -> String {
        format!("{}/{}", self.kind.word(), self.name)
    }

    fn what(&self) -> String {
        format!("{} {:?}", self.kind.resource_name(), self.name)
    }

    /// The slots `--component` selects (all components when empty; a StatefulSet has one).
    pub fn slots(&self, components: &[String]) -> anyhow::Result<Vec<Slot>> {
        if self.kind == Kind::StatefulSet && !components.is_empty() {
            anyhow::bail!(
                "--component applies to a TidbCluster; {} is a StatefulSet",
                self.display()
            );
        }
        slots_for(self.kind, &self.name, &self.obj, components).with_context(|| self.display())
    }

    /// The pods of each slot, for `--wait`: a TidbCluster component's pods by the labels
    /// TiDB Operator sets, a StatefulSet's by its selector and ownership.
    pub fn groups(&self, slots: &[Slot]) -> Vec<Group> {
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
                    expected: slot.replicas(&self.obj),
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
                    expected: slot.replicas(&self.obj),
                },
            })
            .collect()
    }

    /// Who rolls the pods after the change, for messages.
    pub fn roller(&self) -> &'static str {
        match self.kind {
            Kind::TidbCluster => "TiDB Operator",
            Kind::StatefulSet => "the StatefulSet controller",
        }
    }

    /// Reads the object again.
    pub async fn reload(&mut self) -> anyhow::Result<()> {
        let obj = self
            .api
            .get(&self.name)
            .await
            .map_err(|e| describe(e, "get", &self.what(), &self.namespace))?;
        self.obj = serde_json::to_value(obj)?;
        Ok(())
    }

    /// Sends `patch` with the server's dry run: validated and admitted, never stored.
    pub async fn dry_run(&self, patch: &Value) -> anyhow::Result<()> {
        self.send(patch, true)
            .await
            .map(|_| ())
            .map_err(|e| describe(e, "patch (dry run)", &self.what(), &self.namespace))
    }

    async fn send(&self, patch: &Value, dry_run: bool) -> Result<Value, kube::Error> {
        let ops: json_patch::Patch =
            serde_json::from_value(patch.clone()).map_err(kube::Error::SerdeError)?;
        let mut params = PatchParams {
            field_manager: Some("kubectl-netem".into()),
            ..PatchParams::default()
        };
        params.dry_run = dry_run;
        let obj = self
            .api
            .patch(&self.name, &params, &Patch::Json::<()>(ops))
            .await?;
        serde_json::to_value(obj).map_err(kube::Error::SerdeError)
    }

    /// Plans from the object held, sends the guarded patch, and on 409 Conflict (or a 422
    /// from the patch's own `test` after a concurrent change) re-reads and re-plans, a few
    /// times. Returns the plan that was applied (a no-op plan when nothing was needed).
    pub async fn apply(
        &mut self,
        plan: impl Fn(&Value) -> Result<Plan, PlanError>,
    ) -> anyhow::Result<Plan> {
        for attempt in 1..=MAX_ATTEMPTS {
            let current = plan(&self.obj).with_context(|| self.display())?;
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
                    if matches!(status_code(&err), Some(409 | 422)) && attempt < MAX_ATTEMPTS =>
                {
                    let code = status_code(&err).unwrap_or_default();
                    self.reload().await?;
                    let now = self
                        .obj
                        .pointer("/metadata/resourceVersion")
                        .and_then(Value::as_str);
                    // A 422 on an object nobody touched is our patch being invalid, not a race.
                    if code == 422 && now == Some(read_version.as_str()) {
                        return Err(describe(err, "patch", &self.what(), &self.namespace));
                    }
                    eprintln!(
                        "{} changed meanwhile (HTTP {code}); re-reading and trying again",
                        self.display()
                    );
                    tokio::time::sleep(Duration::from_millis(100 * attempt as u64)).await;
                }
                Err(err) => return Err(describe(err, "patch", &self.what(), &self.namespace)),
            }
        }
        anyhow::bail!(
            "{} kept changing while patching it; gave up after {MAX_ATTEMPTS} attempts",
            self.display()
        )
    }
}

/// The slots of `obj` for `components` (pure; used again after every re-read).
pub fn slots_for(
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
pub async fn resolve(kube: &Kube, wanted: &Wanted) -> anyhow::Result<Workload> {
    let ns = &kube.namespace;
    match wanted {
        Wanted::TidbCluster(name) => match get(kube, Kind::TidbCluster, name).await? {
            Found::Yes(w) => Ok(*w),
            Found::No => anyhow::bail!("tidbcluster/{name} not found in namespace {ns}"),
            Found::NotServed => anyhow::bail!(
                "the server does not serve {} (TiDB Operator's CRD is not installed); target statefulset/NAME instead",
                Kind::TidbCluster.resource_name()
            ),
        },
        Wanted::StatefulSet(name) => match get(kube, Kind::StatefulSet, name).await? {
            Found::Yes(w) => Ok(*w),
            _ => anyhow::bail!("statefulset/{name} not found in namespace {ns}"),
        },
        Wanted::Either(name) => {
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
            api,
        }))),
        Err(err) if status_code(&err) == Some(404) => {
            // The same 404 answers "no such object" and "no such resource": ask discovery.
            if kind == Kind::TidbCluster && !tidbclusters_served(kube).await {
                Ok(Found::NotServed)
            } else {
                Ok(Found::No)
            }
        }
        Err(err) => Err(describe(err, "get", &what, &kube.namespace)),
    }
}

async fn tidbclusters_served(kube: &Kube) -> bool {
    match kube.client.list_api_group_resources(TC_API_VERSION).await {
        Ok(list) => list.resources.iter().any(|r| r.name == "tidbclusters"),
        // Unknown either way: a 404 is the group missing; anything else, assume it is served
        // so the user gets the plain "not found".
        Err(err) => status_code(&err) != Some(404),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets() {
        assert_eq!(
            parse_wanted("tc/basic").unwrap(),
            Wanted::TidbCluster("basic".into())
        );
        assert_eq!(
            parse_wanted("tidb-cluster/basic").unwrap(),
            Wanted::TidbCluster("basic".into())
        );
        assert_eq!(
            parse_wanted("sts/web").unwrap(),
            Wanted::StatefulSet("web".into())
        );
        assert_eq!(
            parse_wanted("basic").unwrap(),
            Wanted::Either("basic".into())
        );
        assert!(
            parse_wanted("pod/basic-pd-0")
                .unwrap_err()
                .to_string()
                .contains("pod template")
        );
        assert!(parse_wanted("deploy/x").is_err());
    }
}
