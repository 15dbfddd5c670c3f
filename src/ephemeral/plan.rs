//! Pure planning for ephemeral agents: a Pod object in, what to do to it out.

use netem_api::contract::{self, CONTAINER_NAME};
use serde_json::{Value, json};

use crate::patch::{Change, PlanError, Slot, SlotPlan};

/// The pod's agents as its spec and status tell: the names of its ephemeral agents, the one
/// that runs (if any), and whether it has a sidecar agent.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Agents {
    /// Ephemeral agent containers, in spec order.
    pub ephemeral: Vec<String>,
    /// The ephemeral agent that is running, if one is.
    pub running: Option<String>,
    /// A sidecar agent (`netem-agent` in the pod's containers or init containers).
    pub sidecar: bool,
}

/// Reads the pod's agents.
pub fn agents(pod: &Value) -> Agents {
    let names = |path: &str| -> Vec<String> {
        pod.pointer(path)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|c| c["name"].as_str().map(str::to_string))
            .collect()
    };
    let ephemeral: Vec<String> = names("/spec/ephemeralContainers")
        .into_iter()
        .filter(|n| contract::ephemeral_index(n).is_some())
        .collect();
    let running = pod
        .pointer("/status/ephemeralContainerStatuses")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|s| s["state"].get("running").is_some())
        .filter_map(|s| s["name"].as_str())
        .filter(|n| ephemeral.iter().any(|e| e == n))
        .max_by_key(|n| contract::ephemeral_index(n))
        .map(str::to_string);
    let sidecar = names("/spec/containers")
        .into_iter()
        .chain(names("/spec/initContainers"))
        .any(|n| n == CONTAINER_NAME);
    Agents {
        ephemeral,
        running,
        sidecar,
    }
}

/// The name the next ephemeral agent of `pod` gets: one past the highest so far, skipping
/// any name another container of the pod already uses.
pub fn next_name(pod: &Value) -> String {
    let taken: Vec<&str> = [
        "/spec/containers",
        "/spec/initContainers",
        "/spec/ephemeralContainers",
    ]
    .iter()
    .filter_map(|p| pod.pointer(p).and_then(Value::as_array))
    .flatten()
    .filter_map(|c| c["name"].as_str())
    .collect();
    let mut n = taken
        .iter()
        .filter_map(|name| contract::ephemeral_index(name))
        .max()
        .unwrap_or(0)
        + 1;
    while taken.contains(&contract::ephemeral_name(n).as_str()) {
        n += 1;
    }
    contract::ephemeral_name(n)
}

/// Plans starting an ephemeral agent with `image` in `pod`: nothing when an agent runs
/// there already (ephemeral or sidecar); otherwise a JSON Patch for the pod's
/// `ephemeralcontainers` subresource, guarded by the pod's resourceVersion and a `test` of
/// the list as read (ephemeral containers may only be added, never changed or removed).
pub fn plan_start(pod: &Value, image: &str) -> Result<SlotPlan, PlanError> {
    let slot = Slot::pod(pod["metadata"]["name"].as_str().unwrap_or_default());
    let a = agents(pod);
    if a.running.is_some() || a.sidecar {
        return Ok(SlotPlan {
            slot,
            change: Change::Unchanged,
            ops: Vec::new(),
        });
    }
    let version = pod
        .pointer("/metadata/resourceVersion")
        .and_then(Value::as_str)
        .filter(|v| !v.is_empty())
        .ok_or(PlanError::NoResourceVersion)?;
    let agent = contract::ephemeral_container(image, &next_name(pod));
    let mut ops =
        vec![json!({"op": "replace", "path": "/metadata/resourceVersion", "value": version})];
    match pod.pointer("/spec/ephemeralContainers") {
        Some(Value::Array(list)) => {
            ops.push(json!({"op": "test", "path": "/spec/ephemeralContainers", "value": list}));
            ops.push(json!({"op": "add", "path": "/spec/ephemeralContainers/-", "value": agent}));
        }
        None | Some(Value::Null) => {
            ops.push(json!({"op": "add", "path": "/spec/ephemeralContainers", "value": [agent]}));
        }
        Some(_) => {
            return Err(PlanError::NotAList {
                path: "/spec/ephemeralContainers".into(),
            });
        }
    }
    Ok(SlotPlan {
        slot,
        change: Change::Added,
        ops,
    })
}

/// Plans stopping the running ephemeral agent of `pod` (it cannot be removed: the agent
/// clears what it set and exits, and stays in the spec as a terminated container).
pub fn plan_stop(pod: &Value) -> SlotPlan {
    let slot = Slot::pod(pod["metadata"]["name"].as_str().unwrap_or_default());
    let change = if agents(pod).running.is_some() {
        Change::Removed
    } else {
        Change::Unchanged
    };
    SlotPlan {
        slot,
        change,
        ops: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(ephemeral: Value, statuses: Value) -> Value {
        json!({
            "metadata": {"name": "basic-pd-0", "resourceVersion": "7"},
            "spec": {"containers": [{"name": "pd"}], "ephemeralContainers": ephemeral},
            "status": {"ephemeralContainerStatuses": statuses}
        })
    }

    #[test]
    fn the_first_agent_adds_the_list_guarded_by_the_version() {
        let mut p = pod(json!(null), json!([]));
        p["spec"]
            .as_object_mut()
            .unwrap()
            .remove("ephemeralContainers");
        let plan = plan_start(&p, "img:1").unwrap();
        assert_eq!(plan.change, Change::Added);
        assert_eq!(plan.slot.name, "basic-pd-0");
        assert_eq!(
            plan.ops,
            vec![
                json!({"op": "replace", "path": "/metadata/resourceVersion", "value": "7"}),
                json!({"op": "add", "path": "/spec/ephemeralContainers",
                       "value": [contract::ephemeral_container("img:1", "netem-agent-1")]}),
            ]
        );
    }

    #[test]
    fn a_running_agent_means_nothing_to_do_and_a_stopped_one_a_new_name() {
        let debugger = json!({"name": "debugger", "image": "busybox"});
        let first = json!({"name": "netem-agent-1", "image": "img:1"});
        let running = json!([{"name": "netem-agent-1", "state": {"running": {}}}]);
        let p = pod(json!([debugger, first]), running);
        assert_eq!(plan_start(&p, "img:1").unwrap().change, Change::Unchanged);
        assert_eq!(plan_stop(&p).change, Change::Removed);
        assert_eq!(agents(&p).running.as_deref(), Some("netem-agent-1"));

        let stopped = json!([{"name": "netem-agent-1", "state": {"terminated": {"exitCode": 0}}}]);
        let p = pod(json!([debugger, first]), stopped);
        let plan = plan_start(&p, "img:2").unwrap();
        assert_eq!(plan.change, Change::Added);
        assert_eq!(
            plan.ops[1],
            json!({"op": "test", "path": "/spec/ephemeralContainers", "value": [debugger, first]})
        );
        assert_eq!(plan.ops[2]["path"], "/spec/ephemeralContainers/-");
        assert_eq!(plan.ops[2]["value"]["name"], "netem-agent-2");
        assert_eq!(plan_stop(&p).change, Change::Unchanged);
    }

    #[test]
    fn a_sidecar_agent_is_enough() {
        let mut p = pod(json!([]), json!([]));
        p["spec"]["containers"]
            .as_array_mut()
            .unwrap()
            .push(json!({"name": "netem-agent"}));
        assert_eq!(plan_start(&p, "img").unwrap().change, Change::Unchanged);
        assert_eq!(plan_stop(&p).change, Change::Unchanged);
    }

    #[test]
    fn names_never_collide() {
        let p = json!({"spec": {
            "containers": [{"name": "netem-agent-1"}],
            "ephemeralContainers": [{"name": "netem-agent-2"}]}});
        assert_eq!(next_name(&p), "netem-agent-3");
        let p = json!({"spec": {"containers": [{"name": "netem-agent-1"}]}});
        assert_eq!(next_name(&p), "netem-agent-2");
        assert_eq!(next_name(&json!({})), "netem-agent-1");
    }
}
