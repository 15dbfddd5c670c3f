//! Tables for the v2 kinds from their CRDs' `additionalPrinterColumns` (kubebuilder
//! `printcolumn` markers), rendered as the CRD table convertor does: a JSONPath per column;
//! `string` columns stringified, `integer` as found, `date` as an age; nothing found → null.

use serde_json::{Value, json};

use super::resources::component_of;

/// (name, type, JSONPath) of each column after Name.
fn columns(kind: &str) -> Option<Vec<(&'static str, &'static str, &'static str)>> {
    let synced = (
        "Synced",
        "string",
        ".status.conditions[?(@.type==\"Synced\")].status",
    );
    let ready = (
        "Ready",
        "string",
        ".status.conditions[?(@.type==\"Ready\")].status",
    );
    let age = ("Age", "date", ".metadata.creationTimestamp");
    let cluster = ("Cluster", "string", ".spec.cluster.name");
    if kind == "Cluster" {
        return Some(vec![
            (
                "PD",
                "integer",
                ".status.components[?(@.kind==\"PD\")].replicas",
            ),
            (
                "TiKV",
                "integer",
                ".status.components[?(@.kind==\"TiKV\")].replicas",
            ),
            (
                "TiDB",
                "integer",
                ".status.components[?(@.kind==\"TiDB\")].replicas",
            ),
            (
                "TiFlash",
                "integer",
                ".status.components[?(@.kind==\"TiFlash\")].replicas",
            ),
            (
                "TiProxy",
                "integer",
                ".status.components[?(@.kind==\"TiProxy\")].replicas",
            ),
            (
                "Available",
                "string",
                ".status.conditions[?(@.type==\"Available\")].status",
            ),
            age,
        ]);
    }
    let c = component_of(kind)?;
    if c.group.kind == kind {
        let mut cols = vec![
            cluster,
            ("Desired", "string", ".spec.replicas"),
            ("Ready", "string", ".status.readyReplicas"),
            ("Updated", "string", ".status.updatedReplicas"),
            ("UpdateRevision", "string", ".status.updateRevision"),
            ("CurrentRevision", "string", ".status.currentRevision"),
            synced,
            ready,
            age,
        ];
        // TiCDCGroup's CRD has no Synced column.
        if kind == "TiCDCGroup" {
            cols.retain(|c| c.0 != "Synced");
        }
        Some(cols)
    } else {
        // Instances: the common columns (PD adds Leader, TiKV/TiFlash store columns: not here).
        Some(vec![cluster, synced, ready, age])
    }
}

/// Evaluate the JSONPath subset the v2 CRDs use: `.a.b` and `[?(@.k=="v")]` filters.
pub fn lookup(obj: &Value, path: &str) -> Option<Value> {
    let mut cur = obj.clone();
    let mut rest = path;
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix("[?(@.") {
            let end = r.find(")]")?;
            let (k, v) = r[..end].split_once("==")?;
            let v = v.trim_matches('"');
            cur = cur.as_array()?.iter().find(|x| x[k] == v)?.clone();
            rest = &r[end + 2..];
        } else if let Some(r) = rest.strip_prefix('.') {
            let end = r.find(['.', '[']).unwrap_or(r.len());
            cur = cur.get(&r[..end])?.clone();
            rest = &r[end..];
        } else {
            return None;
        }
    }
    (!cur.is_null()).then_some(cur)
}

/// Column definitions (after Name), if `kind` is a v2 kind.
pub fn column_definitions(kind: &str) -> Option<Vec<Value>> {
    Some(
        columns(kind)?
            .into_iter()
            .map(|(name, ty, path)| {
                json!({"name": name, "type": ty, "format": "", "priority": 0,
                       "description": format!("Custom resource definition column (in JSONPath format): {path}")})
            })
            .collect(),
    )
}

/// Cells (after Name), if `kind` is a v2 kind; `age` renders a `date` column.
pub fn cells(kind: &str, obj: &Value, age: impl Fn(&Value) -> String) -> Option<Vec<Value>> {
    Some(
        columns(kind)?
            .into_iter()
            .map(|(_, ty, path)| match (ty, lookup(obj, path)) {
                ("date", Some(_)) => json!(age(obj)),
                (_, None) => Value::Null,
                ("string", Some(Value::String(s))) => json!(s),
                ("string", Some(v)) => json!(v.to_string()),
                (_, Some(v)) => v,
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jsonpath_subset() {
        let o = json!({"spec": {"replicas": 3}, "status": {"conditions": [
            {"type": "Ready", "status": "True"}, {"type": "Synced", "status": "False"}]}});
        assert_eq!(lookup(&o, ".spec.replicas"), Some(json!(3)));
        assert_eq!(
            lookup(&o, ".status.conditions[?(@.type==\"Synced\")].status"),
            Some(json!("False"))
        );
        assert_eq!(lookup(&o, ".status.readyReplicas"), None);
        let cells = cells("PDGroup", &o, |_| "1m".into()).unwrap();
        assert_eq!(cells[1], "3");
        assert_eq!(cells[2], Value::Null);
        assert_eq!(cells[6], "False");
    }
}
