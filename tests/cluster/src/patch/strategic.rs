//! Strategic merge patch for the built-in types served here (pods, statefulsets, namespaces):
//! lists with a patch merge key are merged element by element, `$patch: delete|replace`,
//! `$retainKeys` and `$deleteFromPrimitiveList/…` directives, `null` deletes. The merge key is
//! looked up by field name, which is exact for the PodSpec/StatefulSetSpec fields.

use serde_json::{Map, Value};

/// The patch merge key of a list field, as the Kubernetes Go types declare it.
fn merge_key(field: &str) -> Option<&'static str> {
    Some(match field {
        "containers"
        | "initContainers"
        | "ephemeralContainers"
        | "volumes"
        | "env"
        | "imagePullSecrets"
        | "resourceClaims"
        | "schedulingGates" => "name",
        "volumeMounts" => "mountPath",
        "volumeDevices" => "devicePath",
        "ports" => "containerPort",
        "hostAliases" => "ip",
        "ownerReferences" => "uid",
        "conditions" => "type",
        "topologySpreadConstraints" => "topologyKey",
        _ => return None,
    })
}

/// Primitive lists with patch strategy "merge" (union).
fn merges_primitives(field: &str) -> bool {
    field == "finalizers"
}

/// Apply `patch` to `orig`.
pub fn merge(orig: &Value, patch: &Value) -> Result<Value, String> {
    let Value::Object(p) = patch else {
        return Err("strategic merge patch must be a JSON object".into());
    };
    let mut out = orig.as_object().cloned().unwrap_or_default();
    match merge_map(&mut out, p)? {
        true => Ok(Value::Object(out)),
        false => Ok(Value::Object(Map::new())),
    }
}

/// Merge `patch` into `orig`; returns false when the map itself is deleted (`$patch: delete`).
fn merge_map(orig: &mut Map<String, Value>, patch: &Map<String, Value>) -> Result<bool, String> {
    match patch.get("$patch").and_then(Value::as_str) {
        Some("delete") => return Ok(false),
        Some("replace") => {
            let mut fresh = Map::new();
            let mut rest = patch.clone();
            rest.remove("$patch");
            merge_map(&mut fresh, &rest)?;
            *orig = fresh;
            return Ok(true);
        }
        Some("merge") | None => {}
        Some(other) => return Err(format!("unknown patch type: {other}")),
    }
    if let Some(keys) = patch.get("$retainKeys").and_then(Value::as_array) {
        let keep: Vec<&str> = keys.iter().filter_map(Value::as_str).collect();
        orig.retain(|k, _| keep.contains(&k.as_str()));
    }
    for (k, v) in patch {
        if k == "$patch" || k == "$retainKeys" || k.starts_with("$setElementOrder/") {
            continue;
        }
        if let Some(field) = k.strip_prefix("$deleteFromPrimitiveList/") {
            let gone = v.as_array().cloned().unwrap_or_default();
            if let Some(Value::Array(list)) = orig.get_mut(field) {
                list.retain(|x| !gone.contains(x));
            }
            continue;
        }
        match v {
            Value::Null => {
                orig.remove(k);
            }
            Value::Object(pm) => {
                let mut target = match orig.get(k) {
                    Some(Value::Object(m)) => m.clone(),
                    _ => Map::new(),
                };
                if merge_map(&mut target, pm)? {
                    orig.insert(k.clone(), Value::Object(target));
                } else {
                    orig.remove(k);
                }
            }
            Value::Array(pl) => {
                let current = match orig.get(k) {
                    Some(Value::Array(l)) => l.clone(),
                    _ => Vec::new(),
                };
                let merged = if let Some(key) = merge_key(k) {
                    merge_list(current, pl, key)?
                } else if merges_primitives(k) {
                    let mut l = current;
                    for x in pl {
                        if !l.contains(x) {
                            l.push(x.clone());
                        }
                    }
                    l
                } else {
                    pl.iter().map(clean).collect::<Result<_, _>>()?
                };
                orig.insert(k.clone(), Value::Array(merged));
            }
            scalar => {
                orig.insert(k.clone(), scalar.clone());
            }
        }
    }
    Ok(true)
}

/// A patch element with its directives resolved against nothing.
fn clean(v: &Value) -> Result<Value, String> {
    match v {
        Value::Object(m) => {
            let mut fresh = Map::new();
            merge_map(&mut fresh, m)?;
            Ok(Value::Object(fresh))
        }
        other => Ok(other.clone()),
    }
}

fn merge_list(mut orig: Vec<Value>, patch: &[Value], key: &str) -> Result<Vec<Value>, String> {
    let is_replace = |v: &Value| v.get("$patch").and_then(Value::as_str) == Some("replace");
    if patch.iter().any(is_replace) {
        return patch.iter().filter(|v| !is_replace(v)).map(clean).collect();
    }
    for item in patch {
        let Value::Object(pm) = item else {
            return Err(format!(
                "strategic merge patch: list element is not an object for merge key {key}"
            ));
        };
        let Some(kv) = pm.get(key) else {
            return Err(format!(
                "map: {item} does not contain declared merge key: {key}"
            ));
        };
        let pos = orig.iter().position(|o| o.get(key) == Some(kv));
        let delete = pm.get("$patch").and_then(Value::as_str) == Some("delete");
        match (pos, delete) {
            (Some(i), true) => {
                orig.remove(i);
            }
            (None, true) => {}
            (Some(i), false) => {
                let mut target = orig[i].as_object().cloned().unwrap_or_default();
                if merge_map(&mut target, pm)? {
                    orig[i] = Value::Object(target);
                } else {
                    orig.remove(i);
                }
            }
            (None, false) => orig.push(clean(item)?),
        }
    }
    Ok(orig)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sts() -> Value {
        json!({"spec": {"template": {"spec": {
            "containers": [
                {"name": "pd", "image": "pingcap/pd:v8.5.0", "env": [{"name": "A", "value": "1"}],
                 "volumeMounts": [{"name": "data", "mountPath": "/var/lib/pd"}]}
            ],
            "volumes": [{"name": "data", "emptyDir": {}}],
            "tolerations": [{"key": "a"}]
        }}}})
    }

    #[test]
    fn containers_merge_by_name() {
        let p = json!({"spec": {"template": {"spec": {"containers": [
            {"name": "netem-agent", "image": "agent:1"},
            {"name": "pd", "env": [{"name": "B", "value": "2"}]}
        ]}}}});
        let out = merge(&sts(), &p).unwrap();
        let cs = &out["spec"]["template"]["spec"]["containers"];
        assert_eq!(cs.as_array().unwrap().len(), 2);
        assert_eq!(cs[0]["image"], "pingcap/pd:v8.5.0");
        assert_eq!(
            cs[0]["env"],
            json!([{"name": "A", "value": "1"}, {"name": "B", "value": "2"}])
        );
        assert_eq!(cs[0]["volumeMounts"].as_array().unwrap().len(), 1);
        assert_eq!(cs[1], json!({"name": "netem-agent", "image": "agent:1"}));
    }

    #[test]
    fn delete_directive_removes_only_that_element() {
        let with_agent = merge(
            &sts(),
            &json!({"spec": {"template": {"spec": {"containers": [{"name": "netem-agent", "image": "x"}], "volumes": [{"name": "run", "emptyDir": {}}]}}}}),
        )
        .unwrap();
        let back = merge(
            &with_agent,
            &json!({"spec": {"template": {"spec": {"containers": [{"name": "netem-agent", "$patch": "delete"}], "volumes": [{"name": "run", "$patch": "delete"}]}}}}),
        )
        .unwrap();
        assert_eq!(back, sts());
    }

    #[test]
    fn atomic_lists_replace_and_null_deletes() {
        let out = merge(
            &sts(),
            &json!({"spec": {"template": {"spec": {"tolerations": [{"key": "b"}], "volumes": null}}}}),
        )
        .unwrap();
        assert_eq!(
            out["spec"]["template"]["spec"]["tolerations"],
            json!([{"key": "b"}])
        );
        assert!(out["spec"]["template"]["spec"].get("volumes").is_none());
    }

    #[test]
    fn replace_directive_on_list_and_map() {
        let out = merge(
            &sts(),
            &json!({"spec": {"template": {"spec": {"containers": [{"$patch": "replace"}, {"name": "only", "image": "i"}]}}}}),
        )
        .unwrap();
        assert_eq!(
            out["spec"]["template"]["spec"]["containers"],
            json!([{"name": "only", "image": "i"}])
        );
        let out = merge(
            &sts(),
            &json!({"spec": {"$patch": "replace", "replicas": 2}}),
        )
        .unwrap();
        assert_eq!(out["spec"], json!({"replicas": 2}));
    }

    #[test]
    fn element_without_merge_key_is_an_error() {
        assert!(
            merge(
                &sts(),
                &json!({"spec": {"template": {"spec": {"containers": [{"image": "x"}]}}}})
            )
            .is_err()
        );
    }
}
