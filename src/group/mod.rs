//! TiDB Operator v2 targets (`cluster/NAME`, `pdgroup/NAME`, …): which group kinds the
//! server serves (discovery), which groups and pods a target means, and the [`EditTarget`]
//! that puts the agent into the groups' pod overlays.
//!
//! `cluster/NAME` is every group, of every group kind the server serves, whose
//! `spec.cluster.name` is NAME; a kind this release does not know is still edited (the pod
//! overlay is common to all groups of `core.pingcap.com/v1alpha1`), and said so on stderr.
//! Each group is its own object: planned, patched (guarded by its own resourceVersion) and
//! checked one by one; a server that drops the overlay (a CRD without it prunes the field)
//! is reported, not taken for success.

use anyhow::Context as _;
use kube::api::{Api, DynamicObject, ListParams};
use kube::core::ApiResource;
use serde_json::Value;

use crate::connect::Kube;
use crate::edit::{Edit, EditTarget};
use crate::errors::{api_status, cannot};
use crate::guarded::Guarded;
use crate::patch::{Plan, Slot, SlotPlan};
use crate::preflight::{self, Refusal};
use crate::rollout::{Group, StatusCheck};
use crate::target::V2Target;
use crate::v2::{self, GroupResource};

/// The group resources the server serves in `core.pingcap.com/v1alpha1`.
pub async fn discover(client: &kube::Client) -> anyhow::Result<Vec<GroupResource>> {
    match client.list_api_group_resources(v2::API_VERSION).await {
        Ok(list) => Ok(list
            .resources
            .into_iter()
            .filter(|r| {
                v2::is_group_resource(
                    &r.name,
                    &r.kind,
                    r.categories.as_deref().unwrap_or_default(),
                )
            })
            .map(|r| GroupResource {
                kind: r.kind,
                plural: r.name,
                singular: r.singular_name,
                short_names: r.short_names.unwrap_or_default(),
            })
            .collect()),
        Err(err) if api_status(&err).is_some_and(crate::errors::is_not_found) => anyhow::bail!(
            "the server does not serve {} (TiDB Operator v2's CRDs are not installed); \
             for TiDB Operator v1 target tidb-cluster/NAME",
            v2::API_VERSION
        ),
        Err(err) => Err(anyhow::Error::new(err)
            .context(format!("cannot list the resources of {}", v2::API_VERSION))),
    }
}

fn api_resource(r: &GroupResource) -> ApiResource {
    ApiResource {
        group: v2::GROUP.into(),
        version: v2::VERSION.into(),
        api_version: v2::API_VERSION.into(),
        kind: r.kind.clone(),
        plural: r.plural.clone(),
    }
}

/// The resource `word` names (`pdg`, `tikvgroups`), or an error listing what is served.
fn resource_named(served: &[GroupResource], word: &str) -> anyhow::Result<GroupResource> {
    served
        .iter()
        .find(|r| r.is_named(word))
        .cloned()
        .ok_or_else(|| {
            let names: Vec<String> = served
                .iter()
                .map(|r| match r.short_names.first() {
                    Some(short) => format!("{} ({short})", r.word()),
                    None => r.word(),
                })
                .collect();
            anyhow::anyhow!(
                "unknown kind {word:?}: the server's TiDB Operator v2 groups are {}",
                if names.is_empty() {
                    "none".to_string()
                } else {
                    names.join(", ")
                }
            )
        })
}

/// A group read from the server.
struct Found {
    resource: GroupResource,
    obj: Value,
}

/// The groups `target` means, each with its resource, sorted by kind order then name; and
/// the Cluster object (read for `cluster/NAME`, and for a group its cluster when readable).
async fn find(
    client: &kube::Client,
    ns: &str,
    target: &V2Target,
) -> anyhow::Result<(Vec<Found>, Option<Value>)> {
    let served = discover(client).await?;
    let clusters =
        Api::<DynamicObject>::namespaced_with(client.clone(), ns, &v2::cluster_resource());
    match target {
        V2Target::Cluster(name) => {
            let cluster = clusters
                .get_opt(name)
                .await
                .map_err(|e| cannot(e, "get", &format!("clusters.{} {name:?}", v2::GROUP), ns))?
                .with_context(|| format!("cluster/{name} not found in namespace {ns}"))?;
            let mut found = Vec::new();
            for r in &served {
                let api =
                    Api::<DynamicObject>::namespaced_with(client.clone(), ns, &api_resource(r));
                let list = api
                    .list(&ListParams::default())
                    .await
                    .map_err(|e| cannot(e, "list", &format!("{}.{}", r.plural, v2::GROUP), ns))?;
                for item in list.items {
                    let obj = serde_json::to_value(item)?;
                    if v2::cluster_of(&obj) == Some(name.as_str()) {
                        found.push(Found {
                            resource: r.clone(),
                            obj,
                        });
                    }
                }
            }
            anyhow::ensure!(
                !found.is_empty(),
                "cluster/{name} in namespace {ns} has no groups (no group's spec.cluster.name is {name:?})"
            );
            Ok((found, Some(serde_json::to_value(cluster)?)))
        }
        V2Target::Group { kind, name } => {
            let r = resource_named(&served, kind)?;
            let api = Api::<DynamicObject>::namespaced_with(client.clone(), ns, &api_resource(&r));
            let obj = api
                .get_opt(name)
                .await
                .map_err(|e| {
                    cannot(
                        e,
                        "get",
                        &format!("{}.{} {name:?}", r.plural, v2::GROUP),
                        ns,
                    )
                })?
                .with_context(|| format!("{}/{name} not found in namespace {ns}", r.word()))?;
            let obj = serde_json::to_value(obj)?;
            let cluster = match v2::cluster_of(&obj) {
                Some(c) => clusters
                    .get_opt(c)
                    .await
                    .ok()
                    .flatten()
                    .and_then(|c| serde_json::to_value(c).ok()),
                None => None,
            };
            Ok((vec![Found { resource: r, obj }], cluster))
        }
    }
}

/// Notes for groups of kinds this release does not know (reported, never skipped).
fn unknown_kind_notes(found: &[Found]) -> Vec<String> {
    found
        .iter()
        .filter(|f| f.resource.known().is_none())
        .map(|f| {
            format!(
                "{}/{} is a TiDB Operator v2 group kind ({}) this release does not know: \
                 handled like the others (its pod overlay, its pods by their labels)",
                f.resource.word(),
                name_of(&f.obj),
                f.resource.kind
            )
        })
        .collect()
}

fn name_of(obj: &Value) -> &str {
    obj.pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or_default()
}

/// The label selector terms of the pods `target` means, narrowed to `components`, for
/// delay, clear and status (`what` names the target in messages).
pub async fn pod_terms(
    client: &kube::Client,
    ns: &str,
    target: &V2Target,
    components: &[String],
) -> anyhow::Result<(String, Vec<String>)> {
    let (what, mut terms) = match target {
        // Every pod of the cluster, whatever its group's kind: no need to list the groups.
        V2Target::Cluster(name) => (target.to_string(), v2::cluster_terms(name)),
        V2Target::Group { .. } => {
            let (found, _) = find(client, ns, target).await?;
            for note in unknown_kind_notes(&found) {
                eprintln!("note: {note}");
            }
            let f = &found[0];
            let component = v2::component_of(&f.resource.kind, &f.obj);
            (
                format!("{}/{}", f.resource.word(), name_of(&f.obj)),
                v2::group_terms(&f.obj, &component),
            )
        }
    };
    terms.extend(v2::component_term(components));
    Ok((what, terms))
}

/// One group of the target: its object and where the agent goes.
struct Member {
    resource: GroupResource,
    component: String,
    slot: Slot,
    object: Guarded,
}

impl Member {
    fn display(&self) -> String {
        format!("{}/{}", self.resource.word(), self.object.name)
    }
}

/// The groups `inject`/`eject` edit for a v2 target, as last read.
pub struct Groups {
    display: String,
    namespace: String,
    cluster: Option<Value>,
    members: Vec<Member>,
    notes: Vec<String>,
}

/// Reads the groups `target` means.
pub async fn resolve(kube: &Kube, target: &V2Target) -> anyhow::Result<Groups> {
    let ns = &kube.namespace;
    let (found, cluster) = find(&kube.client, ns, target).await?;
    let notes = unknown_kind_notes(&found);
    // Slots are named after the groups; where two groups of different kinds share a name
    // (a PDGroup and a TiKVGroup both called "basic"), after kind/name.
    let clash = {
        let mut names: Vec<&str> = found.iter().map(|f| name_of(&f.obj)).collect();
        names.sort_unstable();
        names.windows(2).any(|w| w[0] == w[1])
    };
    let members = found
        .into_iter()
        .map(|f| {
            let name = name_of(&f.obj).to_string();
            let slot_name = if clash {
                format!("{}/{name}", f.resource.word())
            } else {
                name.clone()
            };
            let ar = api_resource(&f.resource);
            Member {
                component: v2::component_of(&f.resource.kind, &f.obj),
                slot: Slot::overlay(&slot_name),
                object: Guarded {
                    api: Api::namespaced_with(kube.client.clone(), ns, &ar),
                    display: format!("{}/{name}", f.resource.word()),
                    what: format!("{}.{} {name:?}", f.resource.plural, v2::GROUP),
                    namespace: ns.clone(),
                    name,
                    obj: f.obj,
                },
                resource: f.resource,
            }
        })
        .collect();
    let display = match target {
        V2Target::Cluster(name) => format!("cluster/{name}"),
        V2Target::Group { .. } => String::new(),
    };
    let mut groups = Groups {
        display,
        namespace: ns.clone(),
        cluster,
        members,
        notes,
    };
    if groups.display.is_empty() {
        groups.display = groups.members[0].display();
    }
    Ok(groups)
}

impl Groups {
    /// Keeps the groups of `components` (all when empty); a component no group has is an
    /// error naming those present.
    pub fn select(mut self, components: &[String]) -> anyhow::Result<Self> {
        let present: Vec<String> = self.members.iter().map(|m| m.component.clone()).collect();
        if let Some(missing) = components.iter().find(|c| !present.contains(c)) {
            let mut present = present;
            present.dedup();
            anyhow::bail!(
                "{}: no group of component {missing:?} (present: {})",
                self.display,
                present.join(", ")
            );
        }
        if !components.is_empty() {
            self.members.retain(|m| components.contains(&m.component));
        }
        for note in &self.notes {
            eprintln!("note: {note}");
        }
        Ok(self)
    }

    fn member(&self, slot: &Slot) -> Option<&Member> {
        self.members.iter().find(|m| m.slot.name == slot.name)
    }

    fn plan_member(m: &Member, edit: &Edit, obj: &Value) -> anyhow::Result<Plan> {
        edit.plan(obj, std::slice::from_ref(&m.slot))
            .with_context(|| m.display())
    }
}

impl EditTarget for Groups {
    fn display(&self) -> String {
        self.display.clone()
    }

    fn namespace(&self) -> &str {
        &self.namespace
    }

    fn roller(&self) -> &'static str {
        "TiDB Operator"
    }

    fn pace(&self) -> &'static str {
        "one at a time in each group"
    }

    fn preflight(&self, _force: bool) -> anyhow::Result<()> {
        let (host, rest): (Vec<&Member>, Vec<&Member>) = self.members.iter().partition(|m| {
            preflight::host_network(&m.object.obj, std::slice::from_ref(&m.slot)).is_err()
        });
        if host.is_empty() {
            return Ok(());
        }
        let mut others: Vec<&str> = rest.iter().map(|m| m.component.as_str()).collect();
        others.dedup();
        Err(Refusal::HostNetwork {
            components: host.iter().map(|m| m.slot.name.clone()).collect(),
            others: (!others.is_empty()).then(|| others.join(",")),
        }
        .into())
    }

    fn plan(&self, edit: &Edit) -> anyhow::Result<Plan> {
        let mut versions = Vec::new();
        let mut slots: Vec<SlotPlan> = Vec::new();
        for m in &self.members {
            let plan = Self::plan_member(m, edit, &m.object.obj)?;
            versions.push(plan.resource_version);
            slots.extend(plan.slots);
        }
        // One resourceVersion per group; the combined plan is for the summary and report,
        // each group's own patch carries its own guard.
        Ok(Plan {
            resource_version: versions.join(","),
            slots,
        })
    }

    fn patches(&self, plan: &Plan) -> Vec<(String, Value)> {
        self.members
            .iter()
            .filter(|m| plan.changed().any(|s| s.slot.name == m.slot.name))
            .filter_map(|m| {
                let own = plan.slots.iter().find(|s| s.slot.name == m.slot.name)?;
                let version = m
                    .object
                    .obj
                    .pointer("/metadata/resourceVersion")
                    .and_then(Value::as_str)?
                    .to_string();
                let single = Plan {
                    resource_version: version,
                    slots: vec![own.clone()],
                };
                Some((m.display(), single.patch()))
            })
            .collect()
    }

    fn replicas(&self, slot: &Slot) -> u64 {
        self.member(slot)
            .map_or(0, |m| slot.replicas(&m.object.obj))
    }

    fn warnings(&self) -> Vec<String> {
        let paused = self
            .cluster
            .as_ref()
            .and_then(|c| c.pointer("/spec/paused"))
            .and_then(Value::as_bool)
            == Some(true);
        if paused {
            let name = self.cluster.as_ref().map_or("", name_of);
            vec![format!(
                "cluster/{name} is paused: the operator will not roll the pods until it is resumed"
            )]
        } else {
            Vec::new()
        }
    }

    async fn dry_run(&self, plan: &Plan) -> anyhow::Result<()> {
        for m in &self.members {
            let own: Vec<SlotPlan> = plan
                .changed()
                .filter(|s| s.slot.name == m.slot.name)
                .cloned()
                .collect();
            if own.is_empty() {
                continue;
            }
            let version = m
                .object
                .obj
                .pointer("/metadata/resourceVersion")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            m.object
                .dry_run(&Plan {
                    resource_version: version,
                    slots: own,
                })
                .await?;
        }
        Ok(())
    }

    /// Each group in turn, guarded by its own resourceVersion and retried on conflict; then
    /// what the server returned must hold the change (a CRD without the overlay prunes it).
    async fn apply(&mut self, edit: &Edit) -> anyhow::Result<Plan> {
        let mut applied = Vec::new();
        let mut versions = Vec::new();
        let mut done: Vec<String> = Vec::new();
        for m in &mut self.members {
            let slot = m.slot.clone();
            let display = m.display();
            let plan = m
                .object
                .apply(|obj| {
                    edit.plan(obj, std::slice::from_ref(&slot))
                        .with_context(|| display.clone())
                })
                .await
                .with_context(|| {
                    if done.is_empty() {
                        String::new()
                    } else {
                        format!(
                            "already patched: {}; run the command again",
                            done.join(", ")
                        )
                    }
                })?;
            if !plan.is_noop() {
                let after = edit.plan(&m.object.obj, std::slice::from_ref(&slot))?;
                anyhow::ensure!(
                    after.is_noop(),
                    "{display}: the server accepted the patch but did not keep it (does its CRD \
                     have spec.template.spec.overlay.pod? a schema without it prunes the field)"
                );
                done.push(display);
            }
            versions.push(plan.resource_version);
            applied.extend(plan.slots);
        }
        Ok(Plan {
            resource_version: versions.join(","),
            slots: applied,
        })
    }

    /// Each group's pods by the labels the operator sets (or its published selector), and the
    /// group's status: finished when the operator reports every instance at the new revision.
    fn groups(&self, slots: &[Slot]) -> Vec<Group> {
        slots
            .iter()
            .filter_map(|slot| self.member(slot))
            .map(|m| Group {
                label: m.slot.name.clone(),
                selector: v2::group_terms(&m.object.obj, &m.component).join(","),
                owner: None,
                statefulset: None,
                expected: m.slot.replicas(&m.object.obj),
                status: Some(StatusCheck {
                    resource: api_resource(&m.resource),
                    name: m.object.name.clone(),
                    done: v2::group_synced,
                }),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests;
