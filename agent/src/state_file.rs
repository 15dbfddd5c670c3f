//! The state file: what this agent set, so an agent restarted in the same pod adopts the
//! qdisc and keeps its pending expiry and distribution.
//!
//! The agent only ever reads, replaces or removes a *regular* file that it wrote itself,
//! marked by `"written_by": "netem-agent"`. Anything else at the path (a FIFO, a device, a
//! directory, a symbolic link, a file over [`MAX_SIZE`], unparseable or unmarked JSON) is
//! [`StateError::NotOurs`]: left untouched, for the caller to log. The path is checked with
//! `lstat` before it is opened, and opened with `O_NONBLOCK | O_NOFOLLOW` and checked again,
//! so nothing put there can block the agent or redirect it.

use std::fs::{self, File, FileType, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use netem_api::rules::RuleSpec;
use netem_api::spec::NetemSpec;

/// The mark in every state file the agent writes (`written_by`).
pub const WRITER: &str = "netem-agent";

/// The largest state file read (one is a few hundred bytes).
pub const MAX_SIZE: u64 = 64 * 1024;

/// What the agent set, as saved on disk (JSON).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Saved {
    /// Always [`WRITER`]: a file without it is not the agent's to replace or remove.
    pub written_by: String,
    /// Interface name.
    pub interface: String,
    /// Interface index (a recreated interface is a different one).
    pub ifindex: u32,
    /// Handle of the root qdisc the agent made or changed (netem, or prio with rules).
    pub handle: u32,
    /// The default's settings as requested (with distribution and ttl); without
    /// impairment when there is no default (only rules).
    pub spec: NetemSpec,
    /// When it was set (Unix ms).
    pub set_at_ms: u64,
    /// When to clear the default (Unix ms), if a ttl was given.
    pub expires_at_ms: Option<u64>,
    /// The per-destination rules (none in the files of agents before rules).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<SavedRule>,
}

/// One rule the agent set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SavedRule {
    /// The rule's id.
    pub id: String,
    /// Its band in the root prio (class `4e45:band`).
    pub band: u32,
    /// The rule as requested (with distribution, ttl and `about`).
    pub spec: RuleSpec,
    /// When it was set (Unix ms).
    pub set_at_ms: u64,
    /// When to clear it (Unix ms), if its netem has a ttl.
    pub expires_at_ms: Option<u64>,
}

/// Why the state file was not used.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    /// Something is at the path that this agent did not write; it is left untouched.
    #[error("{0}, not a state file this agent wrote; left untouched")]
    NotOurs(String),
    /// Reading or writing failed.
    #[error(transparent)]
    Io(#[from] io::Error),
}

fn kind_of(t: FileType) -> &'static str {
    if t.is_dir() {
        "a directory"
    } else if t.is_symlink() {
        "a symbolic link"
    } else if t.is_fifo() {
        "a FIFO"
    } else if t.is_socket() {
        "a socket"
    } else if t.is_block_device() || t.is_char_device() {
        "a device"
    } else {
        "not a regular file"
    }
}

/// Opens `path` for reading only if it is a regular file, without following a symbolic
/// link or blocking (a FIFO swapped in between the checks cannot block either).
fn open_regular(path: &Path) -> Result<Option<File>, StateError> {
    let meta = match fs::symlink_metadata(path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    if !meta.file_type().is_file() {
        return Err(StateError::NotOurs(kind_of(meta.file_type()).into()));
    }
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOFOLLOW)
        .open(path)?;
    let meta = file.metadata()?;
    if !meta.file_type().is_file() {
        return Err(StateError::NotOurs(kind_of(meta.file_type()).into()));
    }
    if meta.len() > MAX_SIZE {
        return Err(StateError::NotOurs(format!(
            "{} bytes (over {MAX_SIZE})",
            meta.len()
        )));
    }
    Ok(Some(file))
}

/// Parses a state file's bytes; `NotOurs` unless it is JSON of a [`Saved`] marked by us.
pub fn parse(bytes: &[u8]) -> Result<Saved, StateError> {
    let saved: Saved = serde_json::from_slice(bytes)
        .map_err(|e| StateError::NotOurs(format!("unreadable ({e})")))?;
    if saved.written_by != WRITER {
        return Err(StateError::NotOurs(format!(
            "written by {:?}",
            saved.written_by
        )));
    }
    Ok(saved)
}

/// Reads the state file: `None` if there is none, the saved state if it is ours.
pub fn load(path: &Path) -> Result<Option<Saved>, StateError> {
    let Some(file) = open_regular(path)? else {
        return Ok(None);
    };
    let mut bytes = Vec::new();
    file.take(MAX_SIZE + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_SIZE {
        return Err(StateError::NotOurs(format!("over {MAX_SIZE} bytes")));
    }
    parse(&bytes).map(Some)
}

/// A temporary name beside `path` that no earlier run used (pid and time).
fn temporary(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "state".into());
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    path.with_file_name(format!(".{name}.{}.{nanos}.tmp", std::process::id()))
}

/// Writes the state file atomically (a new temporary file, then rename), creating its
/// directory. Replaces only an absent path or a state file this agent wrote.
pub fn save(path: &Path, saved: &Saved) -> Result<(), StateError> {
    load(path)?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        fs::create_dir_all(dir)?;
    }
    let bytes = serde_json::to_vec_pretty(saved).map_err(io::Error::other)?;
    let tmp = temporary(path);
    // create_new: never opens anything already there (no FIFO, no symbolic link).
    let written = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp)
        .and_then(|mut f| f.write_all(&bytes))
        .and_then(|()| fs::rename(&tmp, path));
    if let Err(e) = written {
        let _ = fs::remove_file(&tmp);
        return Err(e.into());
    }
    Ok(())
}

/// Removes the state file if it is one this agent wrote (absent is fine).
pub fn remove(path: &Path) -> Result<(), StateError> {
    if load(path)?.is_none() {
        return Ok(());
    }
    match fs::remove_file(path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e.into()),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests;
