//! Field validation the real server applies to the built-in types we serve (the subset that a
//! buggy patch could trip: container names, selectors, immutable fields).

pub mod ephemeral;

use std::collections::HashSet;

use serde_json::Value;

use crate::status::FieldCause;

fn containers(spec: &Value, path: &str, out: &mut Vec<FieldCause>) {
    let mut seen = HashSet::new();
    for list in ["initContainers", "containers"] {
        let Some(cs) = spec.get(list).and_then(Value::as_array) else {
            continue;
        };
        for (i, c) in cs.iter().enumerate() {
            let name = c.get("name").and_then(Value::as_str).unwrap_or("");
            if name.is_empty() {
                out.push(FieldCause {
                    reason: "FieldValueRequired",
                    message: "Required value".into(),
                    field: format!("{path}.{list}[{i}].name"),
                });
            } else if !seen.insert(name.to_string()) {
                out.push(FieldCause {
                    reason: "FieldValueDuplicate",
                    message: format!("Duplicate value: \"{name}\""),
                    field: format!("{path}.{list}[{i}].name"),
                });
            }
            if c.get("image")
                .and_then(Value::as_str)
                .unwrap_or("")
                .is_empty()
            {
                out.push(FieldCause {
                    reason: "FieldValueRequired",
                    message: "Required value".into(),
                    field: format!("{path}.{list}[{i}].image"),
                });
            }
        }
    }
    if spec
        .get("containers")
        .and_then(Value::as_array)
        .is_none_or(Vec::is_empty)
    {
        out.push(FieldCause {
            reason: "FieldValueRequired",
            message: "Required value".into(),
            field: format!("{path}.containers"),
        });
    }
}

/// Validate an object of `kind` as it would be stored.
pub fn validate(kind: &str, obj: &Value) -> Vec<FieldCause> {
    let mut out = Vec::new();
    if obj["metadata"]["name"].as_str().unwrap_or("").is_empty() {
        out.push(FieldCause {
            reason: "FieldValueRequired",
            message: "Required value: name or generateName is required".into(),
            field: "metadata.name".into(),
        });
    }
    match kind {
        "Pod" => {
            containers(&obj["spec"], "spec", &mut out);
            out.extend(ephemeral::validate_spec(&obj["spec"], "spec"));
        }
        "StatefulSet" => {
            containers(
                &obj["spec"]["template"]["spec"],
                "spec.template.spec",
                &mut out,
            );
            let sel = &obj["spec"]["selector"]["matchLabels"];
            let labels = &obj["spec"]["template"]["metadata"]["labels"];
            let matches = sel
                .as_object()
                .is_some_and(|m| !m.is_empty() && m.iter().all(|(k, v)| labels.get(k) == Some(v)));
            if !matches {
                out.push(FieldCause {
                    reason: "FieldValueInvalid",
                    message: "Invalid value: map[string]string(nil): `selector` does not match template `labels`".into(),
                    field: "spec.template.metadata.labels".into(),
                });
            }
        }
        _ => {}
    }
    out
}

/// Validate an object of `kind` about to be created: [`validate`], and no ephemeral
/// containers on a new pod.
pub fn validate_create(kind: &str, obj: &Value) -> Vec<FieldCause> {
    let mut out = validate(kind, obj);
    if kind == "Pod" {
        out.extend(ephemeral::validate_create(obj));
    }
    out
}

/// Fields of a StatefulSet spec that may change after creation.
const STS_MUTABLE: &[&str] = &[
    "replicas",
    "ordinals",
    "template",
    "updateStrategy",
    "persistentVolumeClaimRetentionPolicy",
    "minReadySeconds",
];

/// Validate an update against the stored object (immutable fields).
pub fn validate_update(kind: &str, old: &Value, new: &Value) -> Vec<FieldCause> {
    let mut out = validate(kind, new);
    match kind {
        "StatefulSet" => {
            let strip = |v: &Value| {
                let mut s = v["spec"].clone();
                if let Some(m) = s.as_object_mut() {
                    for k in STS_MUTABLE {
                        m.remove(*k);
                    }
                }
                s
            };
            if strip(old) != strip(new) {
                out.push(FieldCause {
                    reason: "FieldValueForbidden",
                    message: "Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden".into(),
                    field: "spec".into(),
                });
            }
        }
        "Pod" => {
            // Only container images (and a few scheduling fields we do not model) may change.
            let strip = |v: &Value| {
                let mut s = v["spec"].clone();
                if let Some(cs) = s.get_mut("containers").and_then(Value::as_array_mut) {
                    for c in cs {
                        c.as_object_mut().map(|m| m.remove("image"));
                    }
                }
                s
            };
            if strip(old) != strip(new) {
                out.push(FieldCause {
                    reason: "FieldValueForbidden",
                    message: "Forbidden: pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)".into(),
                    field: "spec".into(),
                });
            }
        }
        _ => {}
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sts(containers: Value) -> Value {
        json!({"metadata": {"name": "web"}, "spec": {"selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": containers}}}})
    }

    #[test]
    fn duplicate_container_names_are_invalid() {
        let errs = validate(
            "StatefulSet",
            &sts(json!([{"name": "a", "image": "x"}, {"name": "a", "image": "y"}])),
        );
        assert_eq!(errs.len(), 1);
        assert_eq!(errs[0].field, "spec.template.spec.containers[1].name");
        assert!(validate("StatefulSet", &sts(json!([{"name": "a", "image": "x"}]))).is_empty());
    }

    #[test]
    fn selector_is_immutable() {
        let old = sts(json!([{"name": "a", "image": "x"}]));
        let mut new = old.clone();
        new["spec"]["serviceName"] = json!("other");
        assert_eq!(
            validate_update("StatefulSet", &old, &new)[0].reason,
            "FieldValueForbidden"
        );
        let mut ok = old.clone();
        ok["spec"]["replicas"] = json!(3);
        assert!(validate_update("StatefulSet", &old, &ok).is_empty());
    }
}
