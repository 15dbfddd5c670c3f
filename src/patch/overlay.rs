//! The pod overlay of a TiDB Operator v2 group (`spec.template.spec.overlay.pod.spec`), whose
//! parents `overlay`, `overlay.pod` and `overlay.pod.spec` may each be absent.
//!
//! Inject adds the missing parents in one `add` of the first absent (or null) level, holding
//! just the agent container and volume; where the overlay PodSpec already exists the lists are
//! edited as everywhere else ([`super::plan_inject`]).
//!
//! Eject removes the agent's elements as everywhere else; when that leaves the overlay PodSpec
//! empty, it removes instead the highest parent that would be left empty (`overlay.pod.spec`,
//! then `overlay.pod`, then `overlay`), guarded by a `test` of that parent as read. So what
//! inject created is removed again and what the user had is kept: a parent holding anything
//! else (the user's containers, `overlay.pod.metadata`, `overlay.volumeClaims`, …) stays. Both
//! sides are stateless, so the one corner is a parent the user had written as an explicit empty
//! `{}` (or `null`): it comes back absent, as a `[]` list does (see [`super`]). TiDB Operator
//! reads both the same (the Go fields are pointers with `omitempty`, and an empty overlay
//! changes nothing).

use serde_json::{Map, Value, json};

use super::{Change, PlanError, Slot, SlotKind, require_object};

/// The levels under the template spec, outermost first.
const LEVELS: [&str; 3] = ["overlay", "pod", "spec"];

/// What lies on the way to the overlay PodSpec.
enum Path {
    /// Every level exists: edit the lists.
    Present,
    /// This level (a JSON pointer, and its index in [`LEVELS`]) is the first absent or null one.
    MissingAt(String, usize),
}

fn walk(obj: &Value, slot: &Slot) -> Result<Path, PlanError> {
    let template = slot
        .base
        .strip_suffix(&format!("/{}", LEVELS.join("/")))
        .unwrap_or(&slot.base);
    require_object(obj, template)?;
    let mut path = template.to_string();
    for (index, level) in LEVELS.iter().enumerate() {
        path = format!("{path}/{level}");
        match obj.pointer(&path) {
            Some(Value::Object(_)) => {}
            None | Some(Value::Null) => return Ok(Path::MissingAt(path, index)),
            Some(_) => return Err(PlanError::NotAnObject { path }),
        }
    }
    Ok(Path::Present)
}

/// For an overlay slot whose parents are (partly) absent: the ops adding them with the agent
/// in, and `Some(Change::Added)`. `None` when the slot is not an overlay or its PodSpec
/// exists (the caller edits the lists).
pub(super) fn add_parents(
    obj: &Value,
    slot: &Slot,
    container: &Value,
    volume: &Value,
    ops: &mut Vec<Value>,
) -> Result<Option<Change>, PlanError> {
    if slot.kind != SlotKind::Overlay {
        return Ok(None);
    }
    let Path::MissingAt(missing, index) = walk(obj, slot)? else {
        return Ok(None);
    };
    let mut value = json!({ "containers": [container], "volumes": [volume] });
    for level in LEVELS[index + 1..].iter().rev() {
        value = Value::Object(Map::from_iter([(level.to_string(), value)]));
    }
    // Guard the overlay level that receives the new one (the template spec itself is guarded
    // by the resourceVersion alone: it is large, and other writers' fields are in it).
    if index > 0
        && let Some((parent, _)) = missing.rsplit_once('/')
        && let Some(read) = obj.pointer(parent)
    {
        ops.push(json!({ "op": "test", "path": parent, "value": read }));
    }
    ops.push(json!({ "op": "add", "path": missing, "value": value }));
    Ok(Some(Change::Added))
}

/// For an overlay slot: the ops removing the agent, collapsing parents left empty, and
/// whether anything is removed; `None` when the slot is not an overlay.
pub(super) fn eject(
    obj: &Value,
    slot: &Slot,
    ops: &mut Vec<Value>,
) -> Result<Option<bool>, PlanError> {
    if slot.kind != SlotKind::Overlay {
        return Ok(None);
    }
    if let Path::MissingAt(..) = walk(obj, slot)? {
        return Ok(Some(false));
    }
    let mut own = Vec::new();
    let c = super::remove_named(
        obj,
        &slot.containers,
        netem_api::contract::CONTAINER_NAME,
        true,
        &mut own,
    )?;
    let v = super::remove_named(
        obj,
        &slot.volumes,
        netem_api::contract::VOLUME_NAME,
        true,
        &mut own,
    )?;
    if !(c || v) {
        return Ok(Some(false));
    }
    let after = apply(obj, &own)?;
    let mut target = slot.base.clone();
    if after.pointer(&target).is_some_and(is_empty_object) {
        // Go up while the parent would hold nothing but the level being removed.
        for _ in 1..LEVELS.len() {
            let (parent, _) = target
                .rsplit_once('/')
                .expect("a pointer below the template");
            if obj
                .pointer(parent)
                .and_then(Value::as_object)
                .is_some_and(|m| m.len() == 1)
            {
                target = parent.to_string();
            } else {
                break;
            }
        }
        let read = obj.pointer(&target).cloned().unwrap_or(Value::Null);
        ops.push(json!({ "op": "test", "path": target, "value": read }));
        ops.push(json!({ "op": "remove", "path": target }));
    } else {
        ops.extend(own);
    }
    Ok(Some(true))
}

fn is_empty_object(v: &Value) -> bool {
    v.as_object().is_some_and(Map::is_empty)
}

/// `obj` with `ops` applied (they were planned on it, so they apply).
fn apply(obj: &Value, ops: &[Value]) -> Result<Value, PlanError> {
    let mut out = obj.clone();
    let patch: json_patch::Patch =
        serde_json::from_value(Value::Array(ops.to_vec())).map_err(|_| PlanError::NotAList {
            path: "the planned patch".into(),
        })?;
    json_patch::patch(&mut out, &patch).map_err(|e| PlanError::NotAnObject {
        path: e.to_string(),
    })?;
    Ok(out)
}

#[cfg(test)]
mod tests;
