//! The state file: what this agent set, so an agent restarted in the same pod adopts the
//! qdisc and keeps its pending expiry.

use std::io;
use std::path::Path;

use serde::{Deserialize, Serialize};

use netem_api::spec::NetemSpec;

/// What the agent set, as saved on disk (JSON).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Saved {
    /// Interface name.
    pub interface: String,
    /// Interface index (a recreated interface is a different one).
    pub ifindex: u32,
    /// Handle of the root netem qdisc the agent made or changed.
    pub handle: u32,
    /// The settings as requested (with distribution and ttl).
    pub spec: NetemSpec,
    /// When it was set (Unix ms).
    pub set_at_ms: u64,
    /// When to clear it (Unix ms), if a ttl was given.
    pub expires_at_ms: Option<u64>,
}

/// Reads the state file; `None` if there is none.
pub fn load(path: &Path) -> io::Result<Option<Saved>> {
    match std::fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// Writes the state file atomically (temporary file, then rename), creating its directory.
pub fn save(path: &Path, saved: &Saved) -> io::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let tmp = path.with_extension("json.tmp");
    let bytes = serde_json::to_vec_pretty(saved).map_err(io::Error::other)?;
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path)
}

/// Removes the state file (absent is fine).
pub fn remove(path: &Path) -> io::Result<()> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn save_load_remove_round_trip() {
        let dir = std::env::temp_dir().join(format!("netem-agent-state-{}", std::process::id()));
        let path = dir.join("sub/state.json");
        assert_eq!(load(&path).unwrap(), None);
        let saved = Saved {
            interface: "eth0".into(),
            ifindex: 2,
            handle: 0x8001_0000,
            spec: NetemSpec {
                ttl: Some(Duration::from_secs(30)),
                ..NetemSpec::delay(Duration::from_millis(20))
            },
            set_at_ms: 1,
            expires_at_ms: Some(30_001),
        };
        save(&path, &saved).unwrap();
        assert_eq!(load(&path).unwrap(), Some(saved));
        remove(&path).unwrap();
        remove(&path).unwrap();
        assert_eq!(load(&path).unwrap(), None);
        std::fs::write(&path, b"{not json").unwrap();
        assert_eq!(load(&path).unwrap_err().kind(), io::ErrorKind::InvalidData);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
