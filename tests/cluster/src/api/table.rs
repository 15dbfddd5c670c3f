//! `meta.k8s.io/v1` Table rendering, as kubectl asks for (`Accept: …;as=Table;…`).

use serde_json::{Value, json};

use crate::clock;

fn col(name: &str, ty: &str, format: &str, priority: u8, description: &str) -> Value {
    json!({"name": name, "type": ty, "format": format, "description": description, "priority": priority})
}

fn age(obj: &Value) -> String {
    obj["metadata"]["creationTimestamp"]
        .as_str()
        .and_then(clock::parse_rfc3339)
        .map(|t| clock::human_age(clock::now_secs() - t))
        .unwrap_or_else(|| "<unknown>".into())
}

fn columns(kind: &str) -> Vec<Value> {
    let name = col(
        "Name",
        "string",
        "name",
        0,
        "Name must be unique within a namespace.",
    );
    if let Some(rest) = crate::v2::table::column_definitions(kind) {
        return std::iter::once(name).chain(rest).collect();
    }
    let age_col = col(
        "Age",
        "string",
        "",
        0,
        "CreationTimestamp is a timestamp representing the server time when this object was created.",
    );
    match kind {
        "Pod" => vec![
            name,
            col(
                "Ready",
                "string",
                "",
                0,
                "The aggregate readiness state of this pod for accepting traffic.",
            ),
            col(
                "Status",
                "string",
                "",
                0,
                "The aggregate status of the containers in this pod.",
            ),
            col(
                "Restarts",
                "string",
                "",
                0,
                "The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.",
            ),
            age_col,
            col(
                "IP",
                "string",
                "",
                1,
                "IP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated.",
            ),
            col(
                "Node",
                "string",
                "",
                1,
                "NodeName is a request to schedule this pod onto a specific node.",
            ),
            col(
                "Nominated Node",
                "string",
                "",
                1,
                "nominatedNodeName is set only when this pod preempts other pods on the node.",
            ),
            col(
                "Readiness Gates",
                "string",
                "",
                1,
                "If specified, all readiness gates will be evaluated for pod readiness.",
            ),
        ],
        "StatefulSet" => vec![
            name,
            col(
                "Ready",
                "string",
                "",
                0,
                "Number of the pod with ready state",
            ),
            age_col,
            col(
                "Containers",
                "string",
                "",
                1,
                "Names of each container in the template.",
            ),
            col(
                "Images",
                "string",
                "",
                1,
                "Images referenced by each container in the template.",
            ),
        ],
        "Namespace" => vec![
            name,
            col("Status", "string", "", 0, "The status of the namespace"),
            age_col,
        ],
        // TiDB Operator v1's additionalPrinterColumns.
        "TidbCluster" => vec![
            name,
            col(
                "Ready",
                "string",
                "",
                0,
                "The current status of the cluster",
            ),
            col("PD", "string", "", 0, "The image for PD cluster"),
            col(
                "Storage",
                "string",
                "",
                0,
                "The storage size specified for PD node",
            ),
            col(
                "Ready",
                "integer",
                "",
                0,
                "The ready replicas number of PD cluster",
            ),
            col(
                "Desire",
                "integer",
                "",
                0,
                "The desired replicas number of PD cluster",
            ),
            col("TiKV", "string", "", 0, "The image for TiKV cluster"),
            col(
                "Storage",
                "string",
                "",
                0,
                "The storage size specified for TiKV node",
            ),
            col(
                "Ready",
                "integer",
                "",
                0,
                "The ready replicas number of TiKV cluster",
            ),
            col(
                "Desire",
                "integer",
                "",
                0,
                "The desired replicas number of TiKV cluster",
            ),
            col("TiDB", "string", "", 0, "The image for TiDB cluster"),
            col(
                "Ready",
                "integer",
                "",
                0,
                "The ready replicas number of TiDB cluster",
            ),
            col(
                "Desire",
                "integer",
                "",
                0,
                "The desired replicas number of TiDB cluster",
            ),
            col("Status", "string", "", 1, "The status of the cluster"),
            col(
                "Age",
                "date",
                "",
                0,
                "Custom resource definition column (in JSONPath format): .metadata.creationTimestamp",
            ),
        ],
        // A CRD without additionalPrinterColumns gets Name and Age.
        _ => vec![
            name,
            col(
                "Age",
                "date",
                "",
                0,
                "Custom resource definition column (in JSONPath format): .metadata.creationTimestamp",
            ),
        ],
    }
}

fn s(v: &Value) -> String {
    v.as_str().unwrap_or("").to_string()
}

fn cells(kind: &str, obj: &Value) -> Vec<Value> {
    let name = json!(s(&obj["metadata"]["name"]));
    if let Some(rest) = crate::v2::table::cells(kind, obj, age) {
        return std::iter::once(name).chain(rest).collect();
    }
    match kind {
        "Pod" => {
            let statuses = obj["status"]["containerStatuses"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            let total = obj["spec"]["containers"].as_array().map_or(0, Vec::len);
            let ready = statuses
                .iter()
                .filter(|c| c["ready"] == json!(true))
                .count();
            let restarts: i64 = statuses
                .iter()
                .map(|c| c["restartCount"].as_i64().unwrap_or(0))
                .sum();
            let status = if obj["metadata"]["deletionTimestamp"].is_string() {
                "Terminating".to_string()
            } else {
                s(&obj["status"]["phase"])
            };
            let ip = obj["status"]["podIP"].as_str().unwrap_or("<none>");
            let node = obj["spec"]["nodeName"].as_str().unwrap_or("<none>");
            vec![
                name,
                json!(format!("{ready}/{total}")),
                json!(status),
                json!(restarts.to_string()),
                json!(age(obj)),
                json!(ip),
                json!(node),
                json!("<none>"),
                json!("<none>"),
            ]
        }
        "StatefulSet" => {
            let c = obj["spec"]["template"]["spec"]["containers"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            let names: Vec<String> = c.iter().map(|c| s(&c["name"])).collect();
            let images: Vec<String> = c.iter().map(|c| s(&c["image"])).collect();
            vec![
                name,
                json!(format!(
                    "{}/{}",
                    obj["status"]["readyReplicas"].as_i64().unwrap_or(0),
                    obj["spec"]["replicas"].as_i64().unwrap_or(1)
                )),
                json!(age(obj)),
                json!(names.join(",")),
                json!(images.join(",")),
            ]
        }
        "Namespace" => vec![
            name,
            json!(obj["status"]["phase"].as_str().unwrap_or("Active")),
            json!(age(obj)),
        ],
        "TidbCluster" => {
            let st = &obj["status"];
            let ready = st["conditions"]
                .as_array()
                .and_then(|cs| cs.iter().find(|c| c["type"] == "Ready"))
                .cloned()
                .unwrap_or(Value::Null);
            let mut cells = vec![name, ready["status"].clone()];
            for (c, storage) in [("pd", true), ("tikv", true), ("tidb", false)] {
                cells.push(st[c]["image"].clone());
                if storage {
                    cells.push(obj["spec"][c]["requests"]["storage"].clone());
                }
                cells.push(st[c]["statefulSet"]["readyReplicas"].clone());
                cells.push(obj["spec"][c]["replicas"].clone());
            }
            cells.push(ready["message"].clone());
            cells.push(json!(age(obj)));
            cells
        }
        // The CRD table convertor renders "date" columns as ages server-side.
        _ => vec![name, json!(age(obj))],
    }
}

fn row(kind: &str, obj: &Value, include: &str) -> Value {
    let mut r = json!({"cells": cells(kind, obj)});
    match include {
        "None" => {}
        "Object" => r["object"] = obj.clone(),
        _ => {
            r["object"] = json!({"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": obj["metadata"]})
        }
    }
    r
}

/// A Table of objects of `kind`; `include` is the `includeObject` parameter.
pub fn table(kind: &str, objs: &[Value], rv: Option<String>, include: &str) -> Value {
    let mut meta = json!({});
    if let Some(rv) = rv {
        meta["resourceVersion"] = json!(rv);
    }
    json!({
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": meta,
        "columnDefinitions": columns(kind),
        "rows": objs.iter().map(|o| row(kind, o, include)).collect::<Vec<_>>(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pod_row() {
        let pod = json!({"metadata": {"name": "basic-pd-0", "creationTimestamp": clock::now_rfc3339()},
            "spec": {"containers": [{"name": "pd"}, {"name": "netem-agent"}], "nodeName": "node"},
            "status": {"phase": "Running", "podIP": "10.244.0.2", "containerStatuses": [
                {"name": "pd", "ready": true, "restartCount": 0}, {"name": "netem-agent", "ready": false, "restartCount": 2}]}});
        let t = table("Pod", &[pod], Some("7".into()), "Metadata");
        let cells = &t["rows"][0]["cells"];
        assert_eq!(cells[1], "1/2");
        assert_eq!(cells[3], "2");
        assert_eq!(cells[5], "10.244.0.2");
        assert_eq!(t["rows"][0]["object"]["kind"], "PartialObjectMetadata");
        assert_eq!(
            t["columnDefinitions"].as_array().unwrap().len(),
            cells.as_array().unwrap().len()
        );
    }
}
