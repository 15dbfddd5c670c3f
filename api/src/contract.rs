//! How the agent is deployed in a pod: the one definition that `inject` writes, the agent's
//! own defaults follow, and the test cluster's operator model uses.
//!
//! The container and volume are plain JSON (`serde_json::Value`) because they are spliced
//! into a TidbCluster's `additionalContainers`/`additionalVolumes` and a StatefulSet's pod
//! template by JSON Patch, and compared with what the server holds to decide whether
//! anything must change.

use serde_json::{Value, json};

use crate::wire::DEFAULT_PORT;

/// Name of the agent container. Operator containers (pd, tikv, tidb, slowlog, ...) never
/// carry this name, so `eject` can remove exactly this one and nothing else.
pub const CONTAINER_NAME: &str = "netem-agent";

/// Name of the in-memory volume mounted at [`RUN_DIR`], the agent's only writable place.
pub const VOLUME_NAME: &str = "netem-agent-run";

/// The environment variable that marks the agent container as written by kubectl-netem
/// (value [`MANAGED_BY`]). `inject` and `eject` only replace or remove a container named
/// [`CONTAINER_NAME`] that carries it (or has the shape of an earlier release's agent, see
/// [`is_our_container`]); any other container of that name is the user's and is refused.
pub const MANAGED_BY_ENV: &str = "NETEM_AGENT_MANAGED_BY";

/// The value of [`MANAGED_BY_ENV`].
pub const MANAGED_BY: &str = "kubectl-netem";

/// Where the agent keeps its state file, so a restarted agent container inside the same
/// pod knows what it set (the emptyDir outlives the container, not the pod).
pub const RUN_DIR: &str = "/run/netem-agent";

/// The agent's state file: [`RUN_DIR`]`/state.json`, its `--state-file` default.
pub const STATE_FILE: &str = "/run/netem-agent/state.json";

/// Path of the agent binary inside the image.
pub const BINARY: &str = "/netem-agent";

/// The address the agent listens on by default: loopback only, reached through the API
/// server's port-forward, so nothing is exposed on the pod IP and no `ports:` entry is
/// declared.
pub const LISTEN: &str = "127.0.0.1:2332";

/// The address an exposed agent (`inject --expose`) listens on: every address of the pod,
/// so `curl POD_IP:2332/latency/20ms` works from inside the cluster as in the original
/// design, and anyone who can reach the pod network can change the pod's network.
pub const LISTEN_EXPOSED: &str = "0.0.0.0:2332";

/// Name of the port an exposed agent declares; a declared agent port is what marks an
/// agent as exposed.
pub const PORT_NAME: &str = "netem-agent";

/// Image of the agent container that `inject` adds when `--image` is not given.
pub const DEFAULT_IMAGE: &str = concat!(
    "ghcr.io/kubectl-netem/netem-agent:",
    env!("CARGO_PKG_VERSION")
);

const _: () = assert!(DEFAULT_PORT == 2332, "LISTEN spells the default port");
const _: () = assert!(
    STATE_FILE.len() > RUN_DIR.len(),
    "STATE_FILE lies in RUN_DIR"
);

/// The agent container spec for `image`.
///
/// Security: the agent needs `CAP_NET_ADMIN` and nothing else, so it adds `NET_ADMIN` and
/// drops every other capability, cannot escalate privileges and gets a read-only root
/// filesystem (its state goes to the emptyDir at [`RUN_DIR`]). It runs as uid 0 on purpose:
/// Kubernetes grants added capabilities through the bounding/permitted sets, and a non-root
/// process loses them at `execve` because Kubernetes sets no ambient capabilities. Being
/// explicit (`runAsUser: 0`, `runAsNonRoot: false`) also overrides a pod-level
/// `runAsNonRoot`/`runAsUser` that would otherwise leave the agent without `NET_ADMIN`.
/// With every other capability dropped, root in the container can do little beyond
/// configuring the pod's own network namespace.
///
/// No probes: exec readiness and liveness probes cost about 1% of a core per pod on a real
/// node (each exec is ~30 ms of kubelet and runtime CPU), and a readiness probe would gate
/// the pod's Ready condition, so an agent hiccup took the TiDB pod out of service. The
/// agent watches itself instead (its `--watchdog-interval`, default 15 s: it checks its own
/// `/healthz` and exits after 3 failures in a row, and the kubelet restarts it).
pub fn container(image: &str) -> Value {
    json!({
        "name": CONTAINER_NAME,
        "image": image,
        "imagePullPolicy": "IfNotPresent",
        "command": [BINARY],
        "args": ["--listen", LISTEN],
        // The marker that tells inject/eject this container is theirs (see is_our_container).
        "env": [{ "name": MANAGED_BY_ENV, "value": MANAGED_BY }],
        "securityContext": {
            "capabilities": { "add": ["NET_ADMIN"], "drop": ["ALL"] },
            "allowPrivilegeEscalation": false,
            "readOnlyRootFilesystem": true,
            "runAsUser": 0,
            "runAsNonRoot": false,
        },
        // Quantities in the canonical form the API server stores, so a re-read compares equal.
        "resources": {
            "requests": { "cpu": "10m", "memory": "16Mi" },
            "limits": { "cpu": "100m", "memory": "32Mi" },
        },
        "volumeMounts": [{ "name": VOLUME_NAME, "mountPath": RUN_DIR }],
    })
}

/// Makes `container` (from [`container`]) an exposed agent: it listens on
/// [`LISTEN_EXPOSED`] and declares the port.
pub fn expose(container: &mut Value) {
    if let Some(args) = container["args"].as_array_mut()
        && let Some(i) = args.iter().position(|a| a == "--listen")
        && i + 1 < args.len()
    {
        args[i + 1] = json!(LISTEN_EXPOSED);
    }
    container["ports"] = json!([{
        "name": PORT_NAME,
        "containerPort": DEFAULT_PORT,
        "protocol": "TCP",
    }]);
}

/// The agent as an ephemeral container (`inject --ephemeral`), added to a running pod
/// through `pods/ephemeralcontainers` without restarting it, named [`ephemeral_name`].
///
/// The API refuses ports, probes, resources and new volumes on ephemeral containers, so it
/// has none of those: it keeps no state file (`--no-state-file`; a restarted agent does not
/// exist here, as ephemeral containers are never restarted, and a later one recognises the
/// netem qdisc its predecessor made by the qdisc's own handle), and listens on loopback only.
pub fn ephemeral_container(image: &str, name: &str) -> Value {
    let mut c = container(image);
    let obj = c.as_object_mut().expect("container() is an object");
    for field in [
        "resources",
        "readinessProbe",
        "livenessProbe",
        "startupProbe",
        "ports",
        "volumeMounts",
    ] {
        obj.remove(field);
    }
    c["name"] = json!(name);
    c["args"] = json!(["--listen", LISTEN, "--no-state-file"]);
    c
}

/// Name of the `n`th ephemeral agent of a pod (`netem-agent-1`, ...). An ephemeral
/// container can be neither removed nor restarted, so an inject into a pod whose earlier
/// ephemeral agent stopped starts the next one.
pub fn ephemeral_name(n: u32) -> String {
    format!("{CONTAINER_NAME}-{n}")
}

/// The `n` of an ephemeral agent's name ([`ephemeral_name`]), if it is one.
pub fn ephemeral_index(name: &str) -> Option<u32> {
    let n = name.strip_prefix(CONTAINER_NAME)?.strip_prefix('-')?;
    (!n.starts_with('0') && n.bytes().all(|b| b.is_ascii_digit()))
        .then(|| n.parse().ok())
        .flatten()
}

/// The emptyDir that gives the agent a writable [`RUN_DIR`] under a read-only root
/// filesystem; memory-backed and tiny, it holds one small JSON file.
pub fn volume() -> Value {
    json!({
        "name": VOLUME_NAME,
        "emptyDir": { "medium": "Memory", "sizeLimit": "1Mi" },
    })
}

/// Whether a container (as the server returned it) is an agent container kubectl-netem
/// wrote, so `inject` may replace it and `eject` remove it:
///
/// - it carries `env` [`MANAGED_BY_ENV`]`=`[`MANAGED_BY`] (every release since the marker), or
/// - it has no such env entry and exactly the shape releases before the marker wrote: name
///   [`CONTAINER_NAME`], `command: [BINARY]`, `args: ["--listen", LISTEN]`. The image is not
///   part of the shape (`--image` takes any image); that command and those args run the agent
///   in any image, so such a container is an agent however it got there.
///
/// Anything else named [`CONTAINER_NAME`] is the user's own.
pub fn is_our_container(c: &Value) -> bool {
    if c.get("name").and_then(Value::as_str) != Some(CONTAINER_NAME) {
        return false;
    }
    let env = c.get("env").and_then(Value::as_array);
    let marker = env
        .into_iter()
        .flatten()
        .find(|e| e.get("name").and_then(Value::as_str) == Some(MANAGED_BY_ENV));
    match marker {
        Some(e) => e.get("value").and_then(Value::as_str) == Some(MANAGED_BY),
        None => {
            c.get("command") == Some(&json!([BINARY]))
                && c.get("args") == Some(&json!(["--listen", LISTEN]))
        }
    }
}

/// Whether a volume (as the server returned it) is the one kubectl-netem writes: exactly
/// [`volume()`], an emptyDir named [`VOLUME_NAME`] with that medium and size limit and nothing
/// else. A volume cannot carry a marker of its own, and an exact emptyDir holds no data worth
/// keeping beyond the pod's life, so exact equality is the test; any other volume of that name
/// (another source, another size) is the user's own.
pub fn is_our_volume(v: &Value) -> bool {
    *v == volume()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn container_is_locked_down() {
        let c = container("example.com/agent:1");
        assert_eq!(c["name"], CONTAINER_NAME);
        assert_eq!(c["image"], "example.com/agent:1");
        let sc = &c["securityContext"];
        assert_eq!(sc["capabilities"]["add"], json!(["NET_ADMIN"]));
        assert_eq!(sc["capabilities"]["drop"], json!(["ALL"]));
        assert_eq!(sc["allowPrivilegeEscalation"], false);
        assert_eq!(sc["readOnlyRootFilesystem"], true);
        // Listens on loopback only and declares no port.
        assert_eq!(c["args"], json!(["--listen", "127.0.0.1:2332"]));
        assert!(c.get("ports").is_none());
        // No probes: they cost CPU on every node and gated the pod's readiness; the agent
        // has its own watchdog (on by default, so no argument is needed for it).
        for probe in ["readinessProbe", "livenessProbe", "startupProbe"] {
            assert!(c.get(probe).is_none(), "{probe}");
        }
        assert!(!c["args"].to_string().contains("watchdog"));
    }

    #[test]
    fn an_exposed_agent_listens_on_every_address_and_declares_the_port() {
        let mut c = container("x");
        expose(&mut c);
        assert_eq!(c["args"], json!(["--listen", "0.0.0.0:2332"]));
        assert_eq!(c["ports"][0]["containerPort"], 2332);
        assert_eq!(c["ports"][0]["name"], PORT_NAME);
    }

    #[test]
    fn ephemeral_agents_have_nothing_the_api_refuses_there() {
        let c = ephemeral_container("x", &ephemeral_name(2));
        assert_eq!(c["name"], "netem-agent-2");
        for refused in [
            "resources",
            "readinessProbe",
            "livenessProbe",
            "ports",
            "volumeMounts",
        ] {
            assert!(c.get(refused).is_none(), "{refused}");
        }
        assert_eq!(c["args"], json!(["--listen", LISTEN, "--no-state-file"]));
        assert_eq!(c["securityContext"], container("x")["securityContext"]);
        assert_eq!(ephemeral_index("netem-agent-2"), Some(2));
        for not in [
            "netem-agent",
            "netem-agent-",
            "netem-agent-02",
            "netem-agent-x",
            "other-1",
        ] {
            assert_eq!(ephemeral_index(not), None, "{not}");
        }
    }

    #[test]
    fn ours_by_marker_or_by_an_earlier_release_shape() {
        assert!(is_our_container(&container("x:1")));
        assert!(is_our_volume(&volume()));
        // An earlier release wrote the same container without the marker.
        let mut legacy = container("ghcr.io/kubectl-netem/netem-agent:0.0.9");
        legacy.as_object_mut().unwrap().remove("env");
        assert!(is_our_container(&legacy));
        // The user's own container of that name.
        let user = json!({"name": CONTAINER_NAME, "image": "busybox", "command": ["sleep", "1d"]});
        assert!(!is_our_container(&user));
        let mut other_marker = container("x:1");
        other_marker["env"][0]["value"] = json!("someone-else");
        assert!(!is_our_container(&other_marker));
        assert!(!is_our_container(
            &json!({"name": "other", "command": [BINARY], "args": ["--listen", LISTEN]})
        ));
        assert!(!is_our_volume(
            &json!({"name": VOLUME_NAME, "emptyDir": {}})
        ));
        assert!(!is_our_volume(
            &json!({"name": VOLUME_NAME, "configMap": {"name": "x"}})
        ));
    }

    #[test]
    fn the_mount_matches_the_volume_and_holds_the_state_file() {
        let c = container("x");
        assert_eq!(c["volumeMounts"][0]["name"], volume()["name"]);
        assert_eq!(c["volumeMounts"][0]["mountPath"], RUN_DIR);
        assert_eq!(
            std::path::Path::new(STATE_FILE).parent(),
            Some(std::path::Path::new(RUN_DIR))
        );
    }
}
