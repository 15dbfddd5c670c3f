//! Server-side apply for custom resources without a schema (every list atomic, maps
//! granular): field ownership per manager, conflicts with other managers unless `force`,
//! removal of fields a manager stopped applying, and the `managedFields` rendering.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value, json};

use crate::status::ApiError;

/// A field path (map keys from the root).
pub type FieldPath = Vec<String>;

/// What one manager owns.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Ownership {
    /// "Apply" or "Update".
    pub operation: &'static str,
    /// RFC 3339 time of its last write.
    pub time: String,
    /// Owned leaf fields.
    pub fields: BTreeSet<FieldPath>,
}

/// Owners of one object's fields, by manager name.
pub type Managers = BTreeMap<String, Ownership>;

/// Fields nobody owns (identity and server-set metadata).
fn ignored(path: &[String]) -> bool {
    match path.first().map(String::as_str) {
        Some("apiVersion" | "kind" | "status") => true,
        Some("metadata") => matches!(
            path.get(1).map(String::as_str),
            Some(
                "name"
                    | "namespace"
                    | "uid"
                    | "resourceVersion"
                    | "generation"
                    | "creationTimestamp"
                    | "managedFields"
                    | "selfLink"
                    | "deletionTimestamp"
            )
        ),
        _ => false,
    }
}

/// Leaf paths of a value: maps are granular, lists and scalars atomic.
pub fn leaves(v: &Value) -> BTreeSet<FieldPath> {
    fn walk(v: &Value, prefix: &mut FieldPath, out: &mut BTreeSet<FieldPath>) {
        match v {
            Value::Object(m) if !m.is_empty() => {
                for (k, c) in m {
                    prefix.push(k.clone());
                    walk(c, prefix, out);
                    prefix.pop();
                }
            }
            _ => {
                if !prefix.is_empty() && !ignored(prefix) {
                    out.insert(prefix.clone());
                }
            }
        }
    }
    let mut out = BTreeSet::new();
    walk(v, &mut Vec::new(), &mut out);
    out
}

fn get<'a>(v: &'a Value, path: &[String]) -> Option<&'a Value> {
    path.iter().try_fold(v, |cur, k| cur.get(k))
}

fn set(v: &mut Value, path: &[String], value: Value) {
    let mut cur = v;
    for k in &path[..path.len() - 1] {
        if !cur.get(k).is_some_and(Value::is_object) {
            cur[k.as_str()] = json!({});
        }
        cur = &mut cur[k.as_str()];
    }
    cur[path[path.len() - 1].as_str()] = value;
}

fn remove(v: &mut Value, path: &[String]) {
    let (last, parents) = path.split_last().expect("non-empty path");
    let mut cur = v;
    for k in parents {
        match cur.get_mut(k) {
            Some(c) => cur = c,
            None => return,
        }
    }
    if let Some(m) = cur.as_object_mut() {
        m.remove(last);
    }
}

/// `.spec.pd.additionalContainers` as conflict messages spell a path.
pub fn dotted(path: &[String]) -> String {
    path.iter().map(|k| format!(".{k}")).collect()
}

/// Apply `applied` as `manager` onto `live` (None: the object is created).
pub fn apply(
    live: Option<&Value>,
    applied: &Value,
    managers: &mut Managers,
    manager: &str,
    force: bool,
    now: &str,
) -> Result<Value, ApiError> {
    let new = leaves(applied);
    let empty = json!({});
    let live_v = live.unwrap_or(&empty);
    let mut conflicts = Vec::new();
    for p in &new {
        for (m, o) in managers.iter() {
            if m != manager && o.fields.contains(p) && get(live_v, p) != get(applied, p) {
                conflicts.push((m.clone(), dotted(p)));
            }
        }
    }
    if !conflicts.is_empty() && !force {
        return Err(ApiError::apply_conflict(&conflicts));
    }
    if force {
        for (m, o) in managers.iter_mut() {
            if m != manager {
                o.fields.retain(|p| !new.contains(p));
            }
        }
    }
    let mut out = live.cloned().unwrap_or_else(
        || json!({"apiVersion": applied["apiVersion"], "kind": applied["kind"], "metadata": {}}),
    );
    let old = managers
        .get(manager)
        .map(|o| o.fields.clone())
        .unwrap_or_default();
    for p in old.difference(&new) {
        let shared = managers
            .iter()
            .any(|(m, o)| m != manager && o.fields.contains(p));
        if !shared {
            remove(&mut out, p);
        }
    }
    for p in &new {
        set(&mut out, p, get(applied, p).cloned().unwrap_or(Value::Null));
    }
    managers.insert(
        manager.to_string(),
        Ownership {
            operation: "Apply",
            time: now.to_string(),
            fields: new,
        },
    );
    managers.retain(|_, o| !o.fields.is_empty());
    Ok(out)
}

/// Record a non-apply write (create, update, patch) by `manager`: it takes the fields it
/// changed from everyone else, as the real field manager does for "Update" operations.
pub fn record_update(
    old: Option<&Value>,
    new: &Value,
    managers: &mut Managers,
    manager: &str,
    now: &str,
) {
    let new_leaves = leaves(new);
    let old_leaves = old.map(leaves).unwrap_or_default();
    let empty = json!({});
    let old_v = old.unwrap_or(&empty);
    let changed: BTreeSet<FieldPath> = new_leaves
        .iter()
        .filter(|p| get(old_v, p) != get(new, p))
        .cloned()
        .collect();
    let gone: BTreeSet<FieldPath> = old_leaves.difference(&new_leaves).cloned().collect();
    if changed.is_empty() && gone.is_empty() {
        return;
    }
    for o in managers.values_mut() {
        o.fields
            .retain(|p| !changed.contains(p) && !gone.contains(p) && new_leaves.contains(p));
    }
    let entry = managers
        .entry(manager.to_string())
        .or_insert_with(|| Ownership {
            operation: "Update",
            time: now.to_string(),
            fields: BTreeSet::new(),
        });
    entry.time = now.to_string();
    entry.fields.extend(changed);
    managers.retain(|_, o| !o.fields.is_empty());
}

/// `metadata.managedFields` as the real server renders it (FieldsV1).
pub fn managed_fields(managers: &Managers, api_version: &str) -> Value {
    let entries: Vec<Value> = managers
        .iter()
        .map(|(m, o)| {
            let mut tree = Map::new();
            for p in &o.fields {
                let mut cur = &mut tree;
                for k in p {
                    cur = cur
                        .entry(format!("f:{k}"))
                        .or_insert_with(|| json!({}))
                        .as_object_mut()
                        .expect("object");
                }
            }
            json!({"manager": m, "operation": o.operation, "apiVersion": api_version,
                   "time": o.time, "fieldsType": "FieldsV1", "fieldsV1": tree})
        })
        .collect();
    Value::Array(entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tc() -> Value {
        json!({"apiVersion": "pingcap.com/v1alpha1", "kind": "TidbCluster",
               "metadata": {"name": "basic", "namespace": "default"},
               "spec": {"pd": {"replicas": 1, "additionalContainers": [{"name": "user"}]}}})
    }

    #[test]
    fn apply_takes_lists_atomically_and_conflicts_with_other_owner() {
        let mut m = Managers::new();
        record_update(None, &tc(), &mut m, "kubectl-create", "t");
        let applied = json!({"apiVersion": "pingcap.com/v1alpha1", "kind": "TidbCluster",
            "metadata": {"name": "basic"},
            "spec": {"pd": {"additionalContainers": [{"name": "user"}, {"name": "netem-agent"}]}}});
        let e = apply(Some(&tc()), &applied, &mut m, "kubectl-netem", false, "t").unwrap_err();
        assert_eq!(e.code, 409);
        assert_eq!(
            e.message,
            "Apply failed with 1 conflict: conflict with \"kubectl-create\": .spec.pd.additionalContainers"
        );
        let out = apply(Some(&tc()), &applied, &mut m, "kubectl-netem", true, "t").unwrap();
        assert_eq!(
            out["spec"]["pd"]["additionalContainers"]
                .as_array()
                .unwrap()
                .len(),
            2
        );
        assert_eq!(out["spec"]["pd"]["replicas"], 1);
    }

    #[test]
    fn fields_no_longer_applied_are_removed() {
        let mut m = Managers::new();
        record_update(None, &tc(), &mut m, "creator", "t");
        let a1 = json!({"apiVersion": "pingcap.com/v1alpha1", "kind": "TidbCluster", "metadata": {"name": "basic"},
            "spec": {"pd": {"annotations": {"x": "1"}}}});
        let out = apply(Some(&tc()), &a1, &mut m, "mgr", false, "t").unwrap();
        assert_eq!(out["spec"]["pd"]["annotations"]["x"], "1");
        let a2 = json!({"apiVersion": "pingcap.com/v1alpha1", "kind": "TidbCluster", "metadata": {"name": "basic"}});
        let out = apply(Some(&out), &a2, &mut m, "mgr", false, "t").unwrap();
        assert!(out["spec"]["pd"]["annotations"].get("x").is_none());
        assert_eq!(out["spec"]["pd"]["replicas"], 1);
    }

    #[test]
    fn managed_fields_render() {
        let mut m = Managers::new();
        record_update(None, &tc(), &mut m, "creator", "2024-01-01T00:00:00Z");
        let mf = managed_fields(&m, "pingcap.com/v1alpha1");
        assert_eq!(mf[0]["fieldsV1"]["f:spec"]["f:pd"]["f:replicas"], json!({}));
        assert_eq!(mf[0]["operation"], "Update");
    }
}
