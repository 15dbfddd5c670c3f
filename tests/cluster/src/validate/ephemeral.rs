//! Ephemeral containers as kube-apiserver validates them (`validateEphemeralContainers` and
//! `ValidatePodEphemeralContainersUpdate` in pkg/apis/core/validation/validation.go): names
//! unique across every container list, an allow-list of fields, volume mounts naming pod
//! volumes without subPath, a target among the pod's containers; entries may neither be
//! removed nor changed once added, and none may be set when the pod is created.

use std::collections::HashSet;

use serde_json::Value;

use crate::status::FieldCause;

/// Fields an ephemeral container may not set, as the validator names them (the lower-cased
/// Go field names of `EphemeralContainerCommon` missing from `allowedEphemeralContainerFields`,
/// in struct order).
pub const FORBIDDEN_FIELDS: &[&str] = &[
    "ports",
    "resources",
    "resizePolicy",
    "restartPolicy",
    "livenessProbe",
    "readinessProbe",
    "startupProbe",
    "lifecycle",
];

const CANNOT: &str = "cannot be set for an Ephemeral Container";

fn forbidden(field: String, detail: &str) -> FieldCause {
    FieldCause {
        reason: "FieldValueForbidden",
        message: format!("Forbidden: {detail}"),
        field,
    }
}

/// A field counts as set when it differs from its Go zero value (null, empty list or map).
fn is_set(v: Option<&Value>) -> bool {
    match v {
        None | Some(Value::Null) => false,
        Some(Value::Array(a)) => !a.is_empty(),
        Some(Value::Object(m)) => !m.is_empty(),
        Some(_) => true,
    }
}

fn names(spec: &Value, list: &str) -> Vec<String> {
    spec[list]
        .as_array()
        .map(|cs| {
            cs.iter()
                .filter_map(|c| c["name"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// Validate `spec.ephemeralContainers` of a pod spec (at `path`, e.g. "spec").
pub fn validate_spec(spec: &Value, path: &str) -> Vec<FieldCause> {
    let mut out = Vec::new();
    let Some(ecs) = spec["ephemeralContainers"].as_array() else {
        return out;
    };
    let others: HashSet<String> = names(spec, "containers")
        .into_iter()
        .chain(names(spec, "initContainers"))
        .collect();
    let mut all = others.clone();
    let volumes: HashSet<String> = names(spec, "volumes").into_iter().collect();
    for (i, ec) in ecs.iter().enumerate() {
        let at = format!("{path}.ephemeralContainers[{i}]");
        let name = ec["name"].as_str().unwrap_or("");
        if name.is_empty() {
            out.push(FieldCause {
                reason: "FieldValueRequired",
                message: "Required value".into(),
                field: format!("{at}.name"),
            });
        }
        if ec["image"].as_str().unwrap_or("").is_empty() {
            out.push(FieldCause {
                reason: "FieldValueRequired",
                message: "Required value".into(),
                field: format!("{at}.image"),
            });
        }
        for (j, m) in ec["volumeMounts"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .enumerate()
        {
            let vol = m["name"].as_str().unwrap_or("");
            if !volumes.contains(vol) {
                out.push(FieldCause {
                    reason: "FieldValueNotFound",
                    message: format!("Not found: \"{vol}\""),
                    field: format!("{at}.volumeMounts[{j}].name"),
                });
            }
        }
        if !name.is_empty() && !all.insert(name.to_string()) {
            out.push(FieldCause {
                reason: "FieldValueDuplicate",
                message: format!("Duplicate value: \"{name}\""),
                field: format!("{at}.name"),
            });
        }
        if let Some(target) = ec["targetContainerName"].as_str()
            && !target.is_empty()
            && !others.contains(target)
        {
            out.push(FieldCause {
                reason: "FieldValueNotFound",
                message: format!("Not found: \"{target}\""),
                field: format!("{at}.targetContainerName"),
            });
        }
        for f in FORBIDDEN_FIELDS {
            if is_set(ec.get(*f)) {
                out.push(forbidden(format!("{at}.{f}"), CANNOT));
            }
        }
        for (j, m) in ec["volumeMounts"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .enumerate()
        {
            for f in ["subPath", "subPathExpr"] {
                if is_set(m.get(f)) && m[f] != "" {
                    out.push(forbidden(format!("{at}.volumeMounts[{j}].{f}"), CANNOT));
                }
            }
        }
    }
    out
}

/// On create: `spec.ephemeralContainers: Forbidden: cannot be set on create`.
pub fn validate_create(pod: &Value) -> Vec<FieldCause> {
    if is_set(pod["spec"].get("ephemeralContainers")) {
        vec![forbidden(
            "spec.ephemeralContainers".into(),
            "cannot be set on create",
        )]
    } else {
        Vec::new()
    }
}

/// A write through the `ephemeralcontainers` subresource (the caller kept every field but
/// `spec.ephemeralContainers` from `old`): the new pod must be valid, and every existing
/// entry must still be there, unchanged. The real message ends with a `cmp.Diff` of the two
/// entries; here the diff lists the changed fields, one per line.
pub fn validate_update(old: &Value, new: &Value) -> Vec<FieldCause> {
    let mut out = super::validate("Pod", new);
    let news = new["spec"]["ephemeralContainers"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    for o in old["spec"]["ephemeralContainers"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
    {
        let name = o["name"].as_str().unwrap_or("");
        match news.iter().find(|n| n["name"] == name) {
            None => out.push(forbidden(
                "spec.ephemeralContainers".into(),
                &format!("existing ephemeral containers \"{name}\" may not be removed\n"),
            )),
            Some(n) if n != o => out.push(forbidden(
                "spec.ephemeralContainers".into(),
                &format!(
                    "existing ephemeral containers \"{name}\" may not be changed\n{}",
                    diff(o, n)
                ),
            )),
            Some(_) => {}
        }
    }
    out
}

/// `-field: old` / `+field: new` lines for the top-level fields that differ.
fn diff(old: &Value, new: &Value) -> String {
    let empty = serde_json::Map::new();
    let (o, n) = (
        old.as_object().unwrap_or(&empty),
        new.as_object().unwrap_or(&empty),
    );
    let mut keys: Vec<&String> = o.keys().chain(n.keys()).collect();
    keys.sort();
    keys.dedup();
    let mut out = String::new();
    for k in keys {
        if o.get(k) != n.get(k) {
            if let Some(v) = o.get(k) {
                out.push_str(&format!("-\t{k}: {v}\n"));
            }
            if let Some(v) = n.get(k) {
                out.push_str(&format!("+\t{k}: {v}\n"));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod(ecs: Value) -> Value {
        json!({"metadata": {"name": "p"}, "spec": {
            "containers": [{"name": "app", "image": "busybox"}],
            "volumes": [{"name": "run", "emptyDir": {}}],
            "ephemeralContainers": ecs}})
    }

    #[test]
    fn forbidden_fields_and_duplicates_are_reported_like_the_real_server() {
        let p = pod(json!([
            {"name": "app", "image": "x"},
            {"name": "dbg", "image": "x", "ports": [{"containerPort": 1}],
             "readinessProbe": {"exec": {"command": ["true"]}}, "resources": {"limits": {"cpu": "1"}},
             "volumeMounts": [{"name": "nope", "mountPath": "/a"}, {"name": "run", "mountPath": "/b", "subPath": "x"}],
             "targetContainerName": "ghost"}
        ]));
        let errs: Vec<String> = validate_spec(&p["spec"], "spec")
            .iter()
            .map(|c| format!("{}: {}", c.field, c.message))
            .collect();
        assert_eq!(
            errs,
            [
                "spec.ephemeralContainers[0].name: Duplicate value: \"app\"",
                "spec.ephemeralContainers[1].volumeMounts[0].name: Not found: \"nope\"",
                "spec.ephemeralContainers[1].targetContainerName: Not found: \"ghost\"",
                "spec.ephemeralContainers[1].ports: Forbidden: cannot be set for an Ephemeral Container",
                "spec.ephemeralContainers[1].resources: Forbidden: cannot be set for an Ephemeral Container",
                "spec.ephemeralContainers[1].readinessProbe: Forbidden: cannot be set for an Ephemeral Container",
                "spec.ephemeralContainers[1].volumeMounts[1].subPath: Forbidden: cannot be set for an Ephemeral Container",
            ]
        );
        // Empty resources are the zero value: allowed.
        let ok = pod(json!([{"name": "dbg", "image": "x", "resources": {}}]));
        assert!(validate_spec(&ok["spec"], "spec").is_empty());
    }

    #[test]
    fn entries_may_not_be_removed_or_changed() {
        let old = pod(json!([{"name": "dbg", "image": "x"}]));
        let gone = pod(json!([]));
        let e = validate_update(&old, &gone);
        assert_eq!(
            e[0].message,
            "Forbidden: existing ephemeral containers \"dbg\" may not be removed\n"
        );
        let changed = pod(json!([{"name": "dbg", "image": "y"}]));
        let e = validate_update(&old, &changed);
        assert!(
            e[0].message.starts_with(
                "Forbidden: existing ephemeral containers \"dbg\" may not be changed\n"
            ),
            "{e:?}"
        );
        let added = pod(json!([{"name": "dbg", "image": "x"}, {"name": "dbg2", "image": "y"}]));
        assert!(validate_update(&old, &added).is_empty());
        assert_eq!(
            validate_create(&old)[0].message,
            "Forbidden: cannot be set on create"
        );
    }
}
