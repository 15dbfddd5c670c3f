//! What a container runs here (pure): the `netem-agent` container runs the real agent binary
//! with the container's args; paths it writes map onto the pod's emptyDir volumes (kept for
//! the pod's life, across container restarts) or onto the container's own scratch root
//! (lost at each restart); its readiness probe is its exec probe.

use std::path::{Path, PathBuf};

use serde_json::Value;

/// The name of the agent container.
pub use netem_api::contract::CONTAINER_NAME as AGENT;
/// The agent's default state file.
use netem_api::contract::STATE_FILE as DEFAULT_STATE_FILE;

/// Whether this container runs the agent: its command is the `netem-agent` program (an
/// ephemeral agent has another name, e.g. `netem-agent-2`), or it is named `netem-agent` and
/// runs the image's entrypoint (no command). A user's own container that happens to carry
/// the name but runs something else (e.g. busybox `sleep`) is not run as the agent.
pub fn is_agent(c: &Value) -> bool {
    match strings(&c["command"]).first() {
        None => c["name"] == AGENT,
        Some(program) => is_agent_program(program),
    }
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

fn is_agent_program(p: &str) -> bool {
    Path::new(p).file_name().is_some_and(|f| f == AGENT)
}

/// Map an absolute path inside the container to the host: through the longest matching
/// volumeMount of an emptyDir volume → `<pod_dir>/volumes/<vol>/…`, else the container's
/// scratch root `<container_dir>/rootfs/…`.
pub fn host_path(
    path: &str,
    c: &Value,
    pod_spec: &Value,
    pod_dir: &Path,
    container_dir: &Path,
) -> PathBuf {
    let mounts = c["volumeMounts"].as_array().cloned().unwrap_or_default();
    let best = mounts
        .iter()
        .filter_map(|m| Some((m["mountPath"].as_str()?, m["name"].as_str()?)))
        .filter(|(mp, _)| {
            let mp = mp.trim_end_matches('/');
            path == mp || path.starts_with(&format!("{mp}/"))
        })
        .max_by_key(|(mp, _)| mp.len());
    if let Some((mp, vol)) = best {
        let empty_dir = pod_spec["volumes"].as_array().is_some_and(|vs| {
            vs.iter()
                .any(|v| v["name"] == vol && v.get("emptyDir").is_some())
        });
        if empty_dir {
            let rest = path[mp.trim_end_matches('/').len()..].trim_start_matches('/');
            return pod_dir.join("volumes").join(vol).join(rest);
        }
    }
    container_dir
        .join("rootfs")
        .join(path.trim_start_matches('/'))
}

/// The agent's argv (without the binary): `command[1..]` when the command is the agent
/// itself, then `args`, with `--state-file` mapped to the host (added when absent, since the
/// agent's default lives under /run in the container).
pub fn agent_argv(
    c: &Value,
    pod_spec: &Value,
    pod_dir: &Path,
    container_dir: &Path,
) -> Vec<String> {
    let command = strings(&c["command"]);
    let mut argv: Vec<String> = match command.split_first() {
        Some((first, rest)) if is_agent_program(first) => rest.to_vec(),
        _ => Vec::new(),
    };
    argv.extend(strings(&c["args"]));
    let map = |p: &str| {
        host_path(p, c, pod_spec, pod_dir, container_dir)
            .to_string_lossy()
            .into_owned()
    };
    let mut out = Vec::with_capacity(argv.len() + 2);
    let mut seen = false;
    let mut it = argv.into_iter();
    while let Some(a) = it.next() {
        if a == "--state-file" {
            seen = true;
            out.push(a);
            if let Some(p) = it.next() {
                out.push(map(&p));
            }
        } else if let Some(p) = a.strip_prefix("--state-file=") {
            seen = true;
            out.push(format!("--state-file={}", map(p)));
        } else {
            out.push(a);
        }
    }
    // Subcommands (e.g. `health`) take no state file; only the server does, unless told
    // to keep none (`--no-state-file`, passed through as given).
    let is_subcommand = out.first().is_some_and(|a| !a.starts_with('-'));
    let stateless = out.iter().any(|a| a == "--no-state-file");
    if !seen && !is_subcommand && !stateless {
        out.push("--state-file".into());
        out.push(map(DEFAULT_STATE_FILE));
    }
    out
}

/// The readiness probe as an agent invocation (argv without the binary), when the
/// container declares an exec probe whose program is the agent. `Some(None)`: no probe
/// (ready once started). `None`: a probe this double cannot run (treated as no probe).
pub fn probe_argv(c: &Value) -> Option<Vec<String>> {
    let cmd = strings(&c["readinessProbe"]["exec"]["command"]);
    let (first, rest) = cmd.split_first()?;
    is_agent_program(first).then(|| rest.to_vec())
}

/// Literal env vars and the downward-API fields we can resolve.
pub fn env(c: &Value, pod: &Value, pod_ip: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for e in c["env"].as_array().cloned().unwrap_or_default() {
        let Some(name) = e["name"].as_str() else {
            continue;
        };
        let value = if let Some(v) = e["value"].as_str() {
            v.to_string()
        } else {
            match e["valueFrom"]["fieldRef"]["fieldPath"].as_str() {
                Some("metadata.name") => pod["metadata"]["name"].as_str().unwrap_or("").into(),
                Some("metadata.namespace") => {
                    pod["metadata"]["namespace"].as_str().unwrap_or("").into()
                }
                Some("metadata.uid") => pod["metadata"]["uid"].as_str().unwrap_or("").into(),
                Some("spec.nodeName") => pod["spec"]["nodeName"].as_str().unwrap_or("").into(),
                Some("status.podIP") => pod_ip.into(),
                _ => continue,
            }
        };
        out.push((name.to_string(), value));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn state_file_maps_into_empty_dir_or_scratch_root() {
        let spec = json!({"volumes": [{"name": "netem-run", "emptyDir": {}}]});
        let c = json!({"name": "netem-agent", "args": ["--listen", "127.0.0.1:2332"],
            "volumeMounts": [{"name": "netem-run", "mountPath": "/run/netem-agent"}]});
        let argv = agent_argv(&c, &spec, Path::new("/p"), Path::new("/p/c"));
        assert_eq!(
            argv,
            [
                "--listen",
                "127.0.0.1:2332",
                "--state-file",
                "/p/volumes/netem-run/state.json"
            ]
        );
        let bare = json!({"name": "netem-agent", "command": ["/usr/local/bin/netem-agent"], "args": ["--state-file=/run/x.json"]});
        assert_eq!(
            agent_argv(&bare, &json!({}), Path::new("/p"), Path::new("/p/c")),
            ["--state-file=/p/c/rootfs/run/x.json"]
        );
    }

    #[test]
    fn agent_is_recognised_by_program_and_no_state_file_passes_through() {
        let eph = json!({"name": "netem-agent-2", "command": ["/netem-agent"],
            "args": ["--listen", "127.0.0.1:2332", "--no-state-file"]});
        assert!(is_agent(&eph));
        assert!(!is_agent(
            &json!({"name": "debugger", "command": ["/bin/sh"]})
        ));
        assert_eq!(
            agent_argv(&eph, &json!({}), Path::new("/p"), Path::new("/p/c")),
            ["--listen", "127.0.0.1:2332", "--no-state-file"]
        );
    }

    #[test]
    fn a_container_of_the_agents_name_running_something_else_is_not_the_agent() {
        assert!(is_agent(
            &json!({"name": "netem-agent", "command": ["/netem-agent"]})
        ));
        assert!(is_agent(
            &json!({"name": "netem-agent", "args": ["--listen", "127.0.0.1:2332"]})
        ));
        assert!(!is_agent(
            &json!({"name": "netem-agent", "image": "busybox", "command": ["sleep", "1d"]})
        ));
    }

    #[test]
    fn probe_is_the_agent_health_command() {
        let c = json!({"readinessProbe": {"exec": {"command": ["netem-agent", "health", "--listen", "127.0.0.1:2332"]}}});
        assert_eq!(
            probe_argv(&c),
            Some(vec![
                "health".to_string(),
                "--listen".into(),
                "127.0.0.1:2332".into()
            ])
        );
        assert_eq!(
            probe_argv(&json!({"readinessProbe": {"exec": {"command": ["sh", "-c", "true"]}}})),
            None
        );
        assert_eq!(probe_argv(&json!({})), None);
    }

    #[test]
    fn env_resolves_downward_api() {
        let pod = json!({"metadata": {"name": "p", "namespace": "n"}});
        let c = json!({"env": [{"name": "A", "value": "1"}, {"name": "POD", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}]});
        assert_eq!(
            env(&c, &pod, "1.2.3.4"),
            [
                ("A".to_string(), "1".to_string()),
                ("POD".into(), "p".into())
            ]
        );
    }
}
