//! The v2 operator's overlay (pkg/overlay, generated per Kubernetes type), on JSON: objects
//! merge field by field; lists declared `listType=map` merge element by element on their key
//! (containers, volumes, env … by `name`, volumeMounts by `mountPath`), an element with a new
//! key is appended; other lists are replaced whole; a scalar replaces the operator's unless it
//! is the zero value ("", 0, false), which the generated code skips.

use serde_json::Value;

/// The merge key of a map-list field of the Kubernetes types, if it is one.
fn list_key(field: &str) -> Option<&'static str> {
    Some(match field {
        "containers"
        | "initContainers"
        | "ephemeralContainers"
        | "volumes"
        | "env"
        | "imagePullSecrets"
        | "resourceClaims"
        | "schedulingGates"
        | "hostAliases" => {
            if field == "hostAliases" {
                "ip"
            } else {
                "name"
            }
        }
        "volumeMounts" => "mountPath",
        "volumeDevices" => "devicePath",
        "ports" => "containerPort",
        "topologySpreadConstraints" => "topologyKey",
        _ => return None,
    })
}

fn is_zero(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Bool(b) => !b,
        Value::String(s) => s.is_empty(),
        Value::Number(n) => n.as_f64() == Some(0.0),
        _ => false,
    }
}

/// Overlay `src` onto `dst` (both objects of the same type).
pub fn overlay(dst: &mut Value, src: &Value) {
    let (Some(d), Some(s)) = (dst.as_object_mut(), src.as_object()) else {
        if !is_zero(src) {
            *dst = src.clone();
        }
        return;
    };
    for (k, sv) in s {
        match (d.get_mut(k), sv) {
            (None, _) => {
                d.insert(k.clone(), sv.clone());
            }
            (Some(dv @ Value::Array(_)), Value::Array(items)) => match list_key(k) {
                Some(key) => {
                    let list = dv.as_array_mut().expect("array");
                    for item in items {
                        match list.iter_mut().find(|x| x[key] == item[key]) {
                            Some(x) => overlay(x, item),
                            None => list.push(item.clone()),
                        }
                    }
                }
                None => *dv = sv.clone(),
            },
            (Some(dv @ Value::Object(_)), Value::Object(_)) => overlay(dv, sv),
            (Some(dv), _) => {
                if !is_zero(sv) {
                    *dv = sv.clone();
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn containers_and_volumes_merge_by_name_scalars_skip_zero() {
        let mut pod = json!({"containers": [{"name": "pd", "image": "pingcap/pd:v8.1.0",
            "volumeMounts": [{"name": "data", "mountPath": "/var/lib/pd"}]}],
            "volumes": [{"name": "data", "emptyDir": {}}], "hostNetwork": true,
            "tolerations": [{"key": "a"}]});
        overlay(
            &mut pod,
            &json!({"containers": [{"name": "pd", "image": "", "env": [{"name": "X", "value": "1"}],
                    "volumeMounts": [{"name": "data", "mountPath": "/var/lib/pd", "readOnly": true}]},
                    {"name": "netem-agent", "image": "agent:1"}],
                    "volumes": [{"name": "run", "emptyDir": {"medium": "Memory"}}],
                    "hostNetwork": false, "tolerations": [{"key": "b"}]}),
        );
        assert_eq!(
            pod,
            json!({"containers": [{"name": "pd", "image": "pingcap/pd:v8.1.0", "env": [{"name": "X", "value": "1"}],
                "volumeMounts": [{"name": "data", "mountPath": "/var/lib/pd", "readOnly": true}]},
                {"name": "netem-agent", "image": "agent:1"}],
                "volumes": [{"name": "data", "emptyDir": {}}, {"name": "run", "emptyDir": {"medium": "Memory"}}],
                "hostNetwork": true, "tolerations": [{"key": "b"}]})
        );
    }
}
