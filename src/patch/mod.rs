//! Pure patch building for `inject` and `eject`: the object as the server returned it in,
//! a guarded JSON Patch (RFC 6902) out. No I/O here, so every case is unit tested.
//!
//! Why JSON Patch: a TidbCluster is a custom resource, which rejects strategic merge patch
//! (415), and a JSON merge patch replaces whole lists, dropping the user's own additional
//! containers. JSON Patch edits one list element.
//!
//! Why it is safe under concurrent writers: every patch starts with
//! `replace /metadata/resourceVersion <the version read>`. The API server applies the patch
//! to the object it holds and then runs an update with that resourceVersion as a
//! precondition, so if anybody wrote in between the patch fails with 409 Conflict. Each list
//! the patch edits is also guarded by a `test` of its whole content as read (a failing
//! `test` is a 422), which protects index-based `replace`/`remove` even on a server that
//! ignores the resourceVersion. The caller re-reads and re-plans on either answer.
//!
//! Ownership: `inject` replaces and `eject` removes only entries it wrote itself. A container
//! named `netem-agent` is ours when it carries the env marker
//! `NETEM_AGENT_MANAGED_BY=kubectl-netem`, or, without any such entry, has exactly the
//! command and args an earlier release wrote (so upgrading the plugin keeps working: the old
//! agent is recognised and replaced by a marked one). The `netem-agent-run` volume is ours when
//! it is exactly the emptyDir we write. Both rules live in [`netem_api::contract`]
//! ([`is_our_container`], [`is_our_volume`]). When a slot holds an entry of either name that
//! is not ours, the whole plan is refused ([`PlanError::NotOurs`]) and nothing is written: the
//! user renames theirs, or removes it.
//!
//! Exactness: `inject` appends the agent container (and its volume) or, when the list does
//! not exist, adds the list holding just that element; `eject` removes exactly the elements
//! named `netem-agent` (`netem-agent-run` for the volume) and removes a list that becomes
//! empty. So inject → eject gives back the spec byte for byte, with one documented corner:
//! a list the user had written as an explicit empty `[]` comes back absent. TiDB Operator
//! reads both the same (the Go fields are `omitempty`), and nothing else is touched.
//! A TiDB Operator v2 group's pod overlay also creates the overlay's parents when absent and
//! removes them again when they become empty, with the same kind of corner for an explicit
//! empty `{}` parent ([`overlay`]).
//!
//! Idempotence: the agent counts as present when the server's element contains every field
//! of the wanted one (a StatefulSet's pod template gets defaults such as
//! `terminationMessagePath` added by the server, so plain equality would never hold).

mod overlay;
mod slots;
#[cfg(test)]
mod tests;

pub use slots::{Slot, SlotKind, tidbcluster_slots};

use serde_json::{Value, json};

use netem_api::contract::{
    CONTAINER_NAME, MANAGED_BY, MANAGED_BY_ENV, VOLUME_NAME, is_our_container, is_our_volume,
};

/// Why a patch could not be planned: the object does not look like what it claims to be,
/// or `--component` names something absent.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PlanError {
    /// A path that must hold an object holds something else (or nothing).
    #[error("{path} is missing or not an object")]
    NotAnObject {
        /// JSON pointer.
        path: String,
    },
    /// A path that must hold a list holds something else.
    #[error("{path} is not a list")]
    NotAList {
        /// JSON pointer.
        path: String,
    },
    /// The object came without `metadata.resourceVersion`, so no guarded patch is possible.
    #[error("the object has no metadata.resourceVersion")]
    NoResourceVersion,
    /// `--component` named a component the TidbCluster does not have.
    #[error("component {name:?} is not in this TidbCluster's spec (present: {present})")]
    UnknownComponent {
        /// What was asked for.
        name: String,
        /// The components the spec has, comma separated.
        present: String,
    },
    /// The TidbCluster spec has none of the known components.
    #[error("the TidbCluster spec has no component (pd, tikv, tidb, ...) to inject into")]
    NoComponents,
    /// An entry with the agent's container or volume name that kubectl-netem did not write
    /// (the user's own): it is neither replaced nor removed, and nothing is written.
    #[error(
        "{slot}: {path} has a {what} named {name:?} that kubectl-netem did not write ({why}); \
         rename yours or remove it, then run again; nothing was changed"
    )]
    NotOurs {
        /// The slot (`pd`, or the StatefulSet's name).
        slot: String,
        /// JSON pointer of the list.
        path: String,
        /// `container` or `volume`.
        what: &'static str,
        /// The entry's name.
        name: String,
        /// Why it is not ours.
        why: String,
    },
    /// Removing the agent would leave a StatefulSet without any container.
    #[error("{path} holds only the agent container; refusing to leave the pod without containers")]
    LastContainer {
        /// JSON pointer of the container list.
        path: String,
    },
}

/// What a patch does to one slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// The agent container is added.
    Added,
    /// The agent container (or its volume) is replaced, e.g. with another image.
    Updated,
    /// The agent container (and its volume) is removed.
    Removed,
    /// Nothing to do.
    Unchanged,
}

impl Change {
    /// A word for messages.
    pub fn verb(self) -> &'static str {
        match self {
            Change::Added => "add",
            Change::Updated => "update",
            Change::Removed => "remove",
            Change::Unchanged => "unchanged",
        }
    }
}

/// The planned edit of one slot.
#[derive(Debug, Clone, PartialEq)]
pub struct SlotPlan {
    /// Where.
    pub slot: Slot,
    /// What happens there.
    pub change: Change,
    /// The JSON Patch operations for it (empty when unchanged).
    pub ops: Vec<Value>,
}

/// The planned edit of one object.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// The resourceVersion the plan was built from (the patch's guard).
    pub resource_version: String,
    /// One entry per targeted slot, in order.
    pub slots: Vec<SlotPlan>,
}

impl Plan {
    /// True when no slot changes: nothing must be written.
    pub fn is_noop(&self) -> bool {
        self.slots.iter().all(|s| s.change == Change::Unchanged)
    }

    /// The slots that change.
    pub fn changed(&self) -> impl Iterator<Item = &SlotPlan> {
        self.slots.iter().filter(|s| s.change != Change::Unchanged)
    }

    /// The JSON Patch to send: the resourceVersion guard, then every slot's operations.
    pub fn patch(&self) -> Value {
        let mut ops = vec![json!({
            "op": "replace",
            "path": "/metadata/resourceVersion",
            "value": self.resource_version,
        })];
        ops.extend(self.slots.iter().flat_map(|s| s.ops.iter().cloned()));
        Value::Array(ops)
    }
}

/// Plans adding `container` and `volume` (see [`netem_api::contract`]) to every slot
/// of `obj`, leaving slots that already have them as they are.
pub fn plan_inject(
    obj: &Value,
    slots: &[Slot],
    container: &Value,
    volume: &Value,
) -> Result<Plan, PlanError> {
    let mut out = Vec::with_capacity(slots.len());
    for slot in slots {
        refuse_foreign(obj, slot)?;
        let mut ops = Vec::new();
        let change =
            if let Some(added) = overlay::add_parents(obj, slot, container, volume, &mut ops)? {
                added
            } else {
                require_object(obj, &slot.base)?;
                let c = upsert(obj, &slot.containers, CONTAINER_NAME, container, &mut ops)?;
                let v = upsert(obj, &slot.volumes, VOLUME_NAME, volume, &mut ops)?;
                match (c, v) {
                    (Some(Change::Added), _) => Change::Added,
                    (None, None) => Change::Unchanged,
                    _ => Change::Updated,
                }
            };
        out.push(SlotPlan {
            slot: slot.clone(),
            change,
            ops,
        });
    }
    Ok(Plan {
        resource_version: resource_version(obj)?,
        slots: out,
    })
}

/// Plans removing the agent container and its volume from every slot of `obj`.
pub fn plan_eject(obj: &Value, slots: &[Slot]) -> Result<Plan, PlanError> {
    let mut out = Vec::with_capacity(slots.len());
    for slot in slots {
        refuse_foreign(obj, slot)?;
        let mut ops = Vec::new();
        let removed = if let Some(removed) = overlay::eject(obj, slot, &mut ops)? {
            removed
        } else {
            require_object(obj, &slot.base)?;
            let c = remove_named(
                obj,
                &slot.containers,
                CONTAINER_NAME,
                slot.containers_optional(),
                &mut ops,
            )?;
            let v = remove_named(obj, &slot.volumes, VOLUME_NAME, true, &mut ops)?;
            c || v
        };
        let change = if removed {
            Change::Removed
        } else {
            Change::Unchanged
        };
        out.push(SlotPlan {
            slot: slot.clone(),
            change,
            ops,
        });
    }
    Ok(Plan {
        resource_version: resource_version(obj)?,
        slots: out,
    })
}

/// `have` contains every field of `want`, recursively; lists must match element by element.
pub fn contains(have: &Value, want: &Value) -> bool {
    match (have, want) {
        (Value::Object(h), Value::Object(w)) => w
            .iter()
            .all(|(k, wv)| h.get(k).is_some_and(|hv| contains(hv, wv))),
        (Value::Array(h), Value::Array(w)) => {
            h.len() == w.len() && h.iter().zip(w).all(|(hv, wv)| contains(hv, wv))
        }
        _ => have == want,
    }
}

/// Refuses a slot whose container or volume list holds an entry with the agent's name that
/// is not ours (see the module docs): inject would replace it, eject would delete it.
fn refuse_foreign(obj: &Value, slot: &Slot) -> Result<(), PlanError> {
    let refuse = |path: &str, what, name: &str, why: String| PlanError::NotOurs {
        slot: slot.name.clone(),
        path: path.to_string(),
        what,
        name: name.to_string(),
        why,
    };
    if has_foreign(obj, &slot.containers, CONTAINER_NAME, is_our_container)? {
        return Err(refuse(
            &slot.containers,
            "container",
            CONTAINER_NAME,
            format!(
                "it has no env {MANAGED_BY_ENV}={MANAGED_BY} and is not an agent container of an earlier release"
            ),
        ));
    }
    if has_foreign(obj, &slot.volumes, VOLUME_NAME, is_our_volume)? {
        return Err(refuse(
            &slot.volumes,
            "volume",
            VOLUME_NAME,
            "it is not the exact emptyDir kubectl-netem writes".into(),
        ));
    }
    Ok(())
}

/// Whether the list at `path` holds an entry named `name` that `ours` does not recognise.
fn has_foreign(
    obj: &Value,
    path: &str,
    name: &str,
    ours: fn(&Value) -> bool,
) -> Result<bool, PlanError> {
    let items = list(obj, path)?.map(Vec::as_slice).unwrap_or_default();
    Ok(items
        .iter()
        .any(|item| item.get("name").and_then(Value::as_str) == Some(name) && !ours(item)))
}

fn resource_version(obj: &Value) -> Result<String, PlanError> {
    obj.pointer("/metadata/resourceVersion")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .ok_or(PlanError::NoResourceVersion)
}

fn require_object(obj: &Value, path: &str) -> Result<(), PlanError> {
    match obj.pointer(path) {
        Some(Value::Object(_)) => Ok(()),
        _ => Err(PlanError::NotAnObject {
            path: path.to_string(),
        }),
    }
}

/// The list at `path`: `None` when absent or null (both mean "no list" to the operator).
fn list<'a>(obj: &'a Value, path: &str) -> Result<Option<&'a Vec<Value>>, PlanError> {
    match obj.pointer(path) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(items)) => Ok(Some(items)),
        Some(_) => Err(PlanError::NotAList {
            path: path.to_string(),
        }),
    }
}

fn named_indices<'a>(
    list: Option<&'a Value>,
    name: &'a str,
) -> impl DoubleEndedIterator<Item = usize> + 'a {
    list.and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
        .filter(move |(_, item)| item.get("name").and_then(Value::as_str) == Some(name))
        .map(|(i, _)| i)
        .collect::<Vec<_>>()
        .into_iter()
}

/// Ops that make the list at `path` hold exactly one element named `name` that contains
/// `want`. Returns what changed, `None` when nothing did.
fn upsert(
    obj: &Value,
    path: &str,
    name: &str,
    want: &Value,
    ops: &mut Vec<Value>,
) -> Result<Option<Change>, PlanError> {
    let Some(items) = list(obj, path)? else {
        ops.push(json!({ "op": "add", "path": path, "value": [want] }));
        return Ok(Some(Change::Added));
    };
    let found: Vec<usize> = named_indices(obj.pointer(path), name).collect();
    match found.as_slice() {
        [] => {
            ops.push(json!({ "op": "test", "path": path, "value": items }));
            ops.push(json!({ "op": "add", "path": format!("{path}/-"), "value": want }));
            Ok(Some(Change::Added))
        }
        [only] if contains(&items[*only], want) => Ok(None),
        [first, extra @ ..] => {
            // A differing agent (another image) is replaced in place, keeping its position;
            // duplicates (never made by this tool, but possible by hand) are removed.
            ops.push(json!({ "op": "test", "path": path, "value": items }));
            ops.push(json!({ "op": "replace", "path": format!("{path}/{first}"), "value": want }));
            for i in extra.iter().rev() {
                ops.push(json!({ "op": "remove", "path": format!("{path}/{i}") }));
            }
            Ok(Some(Change::Updated))
        }
    }
}

/// Ops that remove every element named `name` from the list at `path`, and the list itself
/// when nothing else is left in it (if `may_drop_list`). Returns whether anything is removed.
fn remove_named(
    obj: &Value,
    path: &str,
    name: &str,
    may_drop_list: bool,
    ops: &mut Vec<Value>,
) -> Result<bool, PlanError> {
    let Some(items) = list(obj, path)? else {
        return Ok(false);
    };
    let found: Vec<usize> = named_indices(obj.pointer(path), name).collect();
    if found.is_empty() {
        return Ok(false);
    }
    ops.push(json!({ "op": "test", "path": path, "value": items }));
    if found.len() == items.len() {
        if !may_drop_list {
            return Err(PlanError::LastContainer {
                path: path.to_string(),
            });
        }
        ops.push(json!({ "op": "remove", "path": path }));
    } else {
        // Highest index first, so earlier removals do not shift the later ones.
        for i in found.iter().rev() {
            ops.push(json!({ "op": "remove", "path": format!("{path}/{i}") }));
        }
    }
    Ok(true)
}
