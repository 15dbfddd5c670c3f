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

/// The emptyDir that gives the agent a writable [`RUN_DIR`] under a read-only root
/// filesystem; memory-backed and tiny, it holds one small JSON file.
pub fn volume() -> Value {
    json!({
        "name": VOLUME_NAME,
        "emptyDir": { "medium": "Memory", "sizeLimit": "1Mi" },
    })
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
