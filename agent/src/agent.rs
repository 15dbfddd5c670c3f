//! The agent's operations: read, set and clear the root netem qdisc of its interface,
//! remember what it set (state file), adopt it after a restart, clear it on expiry or exit.
//!
//! Synchronous: every call is a few netlink round trips. The server serializes calls with a
//! mutex around one `Agent`.

use std::path::PathBuf;
use std::time::Duration;

use crate::clock;
use crate::log;
use crate::netem;
use crate::netlink::{Handle, NetlinkError, Qdisc, errno};
use crate::state_file::{self, Saved};
use netem_api::spec::{FieldError, NetemSpec};
use netem_api::wire::{ApiError, Info, NetemState, ROOT_QDISC_NONE};

/// How the agent was started.
#[derive(Debug, Clone)]
pub struct Config {
    /// Interface to work on; `None` = the one carrying the default route.
    pub interface: Option<String>,
    /// Where to keep the state file.
    pub state_file: PathBuf,
    /// Leave what the agent set in place when it exits on SIGTERM/SIGINT.
    pub keep_on_exit: bool,
}

/// Why an operation failed; each maps to an HTTP status.
#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    /// Bad input (400); nothing changed.
    #[error("{}", ApiError::from(.0.clone()).error)]
    Invalid(FieldError),
    /// A root qdisc this agent did not make is in the way (409).
    #[error("{0}")]
    Conflict(String),
    /// The kernel has no netem (503).
    #[error("{0}")]
    NoNetem(String),
    /// Anything else (500).
    #[error("{0}")]
    Failed(String),
}

impl AgentError {
    /// The HTTP status code for this error.
    pub fn status(&self) -> u16 {
        match self {
            AgentError::Invalid(_) => 400,
            AgentError::Conflict(_) => 409,
            AgentError::NoNetem(_) => 503,
            AgentError::Failed(_) => 500,
        }
    }

    /// The JSON error body.
    pub fn body(&self) -> ApiError {
        match self {
            AgentError::Invalid(e) => ApiError::from(e.clone()),
            other => ApiError::message(other.to_string()),
        }
    }
}

/// The message for a kernel without netem (503).
pub const NO_NETEM: &str = "the kernel has no netem qdisc: module sch_netem is not loaded and \
could not be loaded (on the node: modprobe sch_netem)";

/// Turns a netlink failure of `what` into an agent error.
fn kernel_error(what: &str, e: NetlinkError) -> AgentError {
    match e.errno() {
        Some(errno::EPERM) => AgentError::Failed(format!(
            "{what}: not permitted: the agent needs the NET_ADMIN capability ({e})"
        )),
        _ => AgentError::Failed(format!("{what}: {e}")),
    }
}

/// "8001:" as tc prints a qdisc handle.
pub fn handle_text(handle: u32) -> String {
    format!("{:x}:", handle >> 16)
}

/// The interface the agent works on.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Iface {
    name: String,
    index: u32,
}

/// A root qdisc someone configured that is not netem (the kernel's default qdisc has
/// handle 0 and is not "configured").
fn foreign(root: &Option<Qdisc>) -> Option<&Qdisc> {
    root.as_ref().filter(|q| q.handle != 0 && q.kind != "netem")
}

fn spec_json(spec: &NetemSpec) -> String {
    serde_json::to_string(spec).unwrap_or_default()
}

/// The agent: configuration, the interface it resolved, and what it set.
pub struct Agent {
    config: Config,
    /// The interface, once resolved: kept, as a pod's interface lives as long as the pod
    /// (dropped if the kernel says it is gone).
    iface: Option<Iface>,
    /// The netlink socket, kept between operations (dropped after a failed one).
    handle: Option<Handle>,
    managed: Option<Saved>,
    netem_seen: bool,
    /// Set by [`Agent::shutdown`]: a request that was already waiting for the agent when
    /// the signal came must not set netem after the exit's clear (it would outlive us).
    closing: bool,
}

impl Agent {
    /// An agent that has set nothing yet (see [`Agent::adopt`]).
    pub fn new(config: Config) -> Agent {
        Agent {
            config,
            iface: None,
            handle: None,
            managed: None,
            netem_seen: false,
            closing: false,
        }
    }

    /// The kept netlink socket, or a new one. Give it back with [`Agent::keep`] after a
    /// successful operation; one dropped on an error path is simply reopened next time.
    fn open(&mut self) -> Result<Handle, AgentError> {
        match self.handle.take() {
            Some(h) => Ok(h),
            None => Handle::open()
                .map_err(|e| AgentError::Failed(format!("cannot open a netlink socket: {e}"))),
        }
    }

    fn keep(&mut self, h: Handle) {
        self.handle = Some(h);
    }

    /// When the pending expiry is due (Unix ms), if any.
    pub fn deadline(&self) -> Option<u64> {
        self.managed.as_ref().and_then(|m| m.expires_at_ms)
    }

    /// The interface name, if resolved (for logs before any request).
    pub fn interface(&mut self) -> Result<String, AgentError> {
        let mut h = self.open()?;
        let iface = self.iface(&mut h)?;
        self.keep(h);
        Ok(iface.name)
    }

    fn iface(&mut self, h: &mut Handle) -> Result<Iface, AgentError> {
        if let Some(iface) = &self.iface {
            return Ok(iface.clone());
        }
        let iface = self.resolve_iface(h)?;
        self.iface = Some(iface.clone());
        Ok(iface)
    }

    fn resolve_iface(&mut self, h: &mut Handle) -> Result<Iface, AgentError> {
        let links = h
            .links()
            .map_err(|e| kernel_error("cannot list interfaces", e))?;
        let by_name = |name: &str| links.iter().find(|l| l.name == name);
        if let Some(name) = &self.config.interface {
            let link = by_name(name)
                .ok_or_else(|| AgentError::Failed(format!("interface {name} not found")))?;
            return Ok(Iface {
                name: link.name.clone(),
                index: link.index,
            });
        }
        let index = h
            .default_route_ifindex()
            .map_err(|e| kernel_error("cannot read routes", e))?
            .ok_or_else(|| {
                AgentError::Failed(
                    "no default route, so no default interface: pass --interface".into(),
                )
            })?;
        let link = links.iter().find(|l| l.index == index).ok_or_else(|| {
            AgentError::Failed(format!("default route via unknown ifindex {index}"))
        })?;
        Ok(Iface {
            name: link.name.clone(),
            index,
        })
    }

    fn root(&mut self, h: &mut Handle, iface: &Iface) -> Result<Option<Qdisc>, AgentError> {
        h.root_qdisc(iface.index).map_err(|e| {
            if e.errno() == Some(errno::ENODEV) {
                // Looked up again on the next request.
                self.iface = None;
                return AgentError::Failed(format!("interface {} is gone ({e})", iface.name));
            }
            kernel_error("cannot read qdiscs", e)
        })
    }

    /// Forgets what the agent set (and its state file).
    fn forget(&mut self) {
        self.managed = None;
        if let Err(e) = state_file::remove(&self.config.state_file) {
            log!(
                "cannot remove state file {}: {e}",
                self.config.state_file.display()
            );
        }
    }

    /// Drops `managed` if the root qdisc is no longer the netem the agent set.
    fn reconcile(&mut self, iface: &Iface, root: &Option<Qdisc>) {
        let Some(saved) = &self.managed else { return };
        let ours = root
            .as_ref()
            .is_some_and(|q| q.kind == "netem" && q.handle == saved.handle)
            && saved.ifindex == iface.index;
        if !ours {
            log!(
                "the netem qdisc this agent set on {} is gone (removed or replaced by someone else); forgetting it",
                saved.interface
            );
            self.forget();
        }
    }

    /// The state as reported by the API.
    fn describe(&mut self, iface: &Iface, root: Option<Qdisc>) -> NetemState {
        self.reconcile(iface, &root);
        let now = clock::now_ms();
        let (root_qdisc, netem) = match &root {
            None => (ROOT_QDISC_NONE.to_string(), None),
            Some(q) if q.handle == 0 => (ROOT_QDISC_NONE.to_string(), None),
            Some(q) if q.kind == "netem" => {
                self.netem_seen = true;
                let decoded = q.options.as_deref().map(netem::decode_options);
                let spec = match decoded {
                    Some(Ok(d)) => {
                        if !d.other.is_empty() {
                            log!("netem on {} also has: {}", iface.name, d.other.join(", "));
                        }
                        Some(self.with_distribution(d.spec))
                    }
                    Some(Err(e)) => {
                        log!("cannot decode the netem options on {}: {e}", iface.name);
                        None
                    }
                    None => None,
                };
                ("netem".to_string(), spec)
            }
            Some(q) => (q.kind.clone(), None),
        };
        let managed = self.managed.is_some();
        let deadline = self.deadline();
        NetemState {
            interface: iface.name.clone(),
            root_qdisc,
            netem,
            managed,
            expires_at: deadline.map(clock::rfc3339_ms),
            ttl_remaining: deadline.map(|d| clock::remaining(d, now)),
        }
    }

    /// The kernel does not report the distribution table: fill in what the agent set,
    /// if the qdisc still holds exactly its settings.
    fn with_distribution(&self, mut spec: NetemSpec) -> NetemSpec {
        if let Some(saved) = &self.managed
            && netem::kernel_view(&saved.spec) == spec
        {
            spec.distribution = saved.spec.distribution;
        }
        spec
    }

    /// `GET /v1/netem`.
    pub fn state(&mut self) -> Result<NetemState, AgentError> {
        let mut h = self.open()?;
        let iface = self.iface(&mut h)?;
        let root = self.root(&mut h, &iface)?;
        self.keep(h);
        Ok(self.describe(&iface, root))
    }

    /// `PUT /v1/netem` / `GET /latency/{d}`: set exactly `spec` (replace). A spec without
    /// impairment clears. A root qdisc someone else configured is replaced only if `force`.
    pub fn set(&mut self, spec: NetemSpec, force: bool) -> Result<NetemState, AgentError> {
        spec.validate().map_err(AgentError::Invalid)?;
        if spec.is_noop() {
            return self.clear(force);
        }
        if self.closing {
            return Err(AgentError::Failed(
                "the agent is shutting down; nothing was changed".into(),
            ));
        }
        let mut h = self.open()?;
        let iface = self.iface(&mut h)?;
        let root = self.root(&mut h, &iface)?;
        if let Some(q) = foreign(&root)
            && !force
        {
            return Err(AgentError::Conflict(format!(
                "the root qdisc of {} is {} (handle {}), which this agent did not set; \
                 left alone (add ?force=true to replace it)",
                iface.name,
                q.kind,
                handle_text(q.handle)
            )));
        }
        if let Err(e) = h.replace_root_netem(iface.index, &spec) {
            return Err(match e.errno() {
                Some(errno::ENOENT) | Some(errno::EOPNOTSUPP) => {
                    AgentError::NoNetem(format!("{NO_NETEM}; {e}"))
                }
                _ => kernel_error("cannot set netem", e),
            });
        }
        self.netem_seen = true;
        let root = self.root(&mut h, &iface)?;
        let Some(q) = root.as_ref().filter(|q| q.kind == "netem") else {
            return Err(AgentError::Failed(format!(
                "netem was set on {} but its root qdisc is not netem afterwards",
                iface.name
            )));
        };
        let now = clock::now_ms();
        let expires_at_ms = spec.ttl.map(|t| now.saturating_add(ms(t)));
        let saved = Saved {
            interface: iface.name.clone(),
            ifindex: iface.index,
            handle: q.handle,
            spec: spec.clone(),
            set_at_ms: now,
            expires_at_ms,
        };
        if let Err(e) = state_file::save(&self.config.state_file, &saved) {
            log!(
                "cannot write state file {} (a restarted agent will not adopt this qdisc): {e}",
                self.config.state_file.display()
            );
        }
        log!(
            "set netem on {} (handle {}): {}{}",
            iface.name,
            handle_text(q.handle),
            spec_json(&spec),
            expires_at_ms
                .map(|d| format!(", expires at {}", clock::rfc3339_ms(d)))
                .unwrap_or_default()
        );
        self.managed = Some(saved);
        self.keep(h);
        Ok(self.describe(&iface, root))
    }

    /// `DELETE /v1/netem`: remove a root netem (whoever set it). A root qdisc of another
    /// kind that someone configured is removed only if `force`.
    pub fn clear(&mut self, force: bool) -> Result<NetemState, AgentError> {
        let mut h = self.open()?;
        let iface = self.iface(&mut h)?;
        let root = self.root(&mut h, &iface)?;
        match &root {
            Some(q) if q.handle != 0 && (q.kind == "netem" || force) => {
                match h.delete_root(iface.index, q.handle, &q.kind) {
                    // Gone meanwhile: what we wanted.
                    Err(e) if e.errno() == Some(errno::ENOENT) => {}
                    Err(e) => return Err(kernel_error("cannot clear", e)),
                    Ok(()) => log!(
                        "cleared {} (handle {}) on {}",
                        q.kind,
                        handle_text(q.handle),
                        iface.name
                    ),
                }
            }
            Some(q) if q.handle != 0 => {
                return Err(AgentError::Conflict(format!(
                    "the root qdisc of {} is {} (handle {}), which this agent did not set; \
                     left alone (add ?force=true to remove it)",
                    iface.name,
                    q.kind,
                    handle_text(q.handle)
                )));
            }
            _ => {}
        }
        if self.managed.is_some() {
            self.forget();
        }
        let root = self.root(&mut h, &iface)?;
        self.keep(h);
        Ok(self.describe(&iface, root))
    }

    /// Removes the netem the agent set, if the root qdisc is still exactly that one.
    fn clear_own(&mut self, why: &str) -> Result<(), AgentError> {
        let Some(saved) = self.managed.clone() else {
            return Ok(());
        };
        let mut h = self.open()?;
        let iface = self.iface(&mut h)?;
        let root = self.root(&mut h, &iface)?;
        self.reconcile(&iface, &root);
        if self.managed.is_none() {
            self.keep(h);
            return Ok(());
        }
        match h.delete_root(iface.index, saved.handle, "netem") {
            Err(e) if e.errno() != Some(errno::ENOENT) => {
                return Err(kernel_error("cannot clear", e));
            }
            _ => log!(
                "{why}: cleared netem (handle {}) on {}",
                handle_text(saved.handle),
                iface.name
            ),
        }
        self.forget();
        self.keep(h);
        Ok(())
    }

    /// The ttl expiry timer fired for `deadline_ms`: clear, if that is still the expiry.
    pub fn expire(&mut self, deadline_ms: u64) {
        if self.deadline() != Some(deadline_ms) {
            return;
        }
        if let Err(e) = self.clear_own("ttl expired") {
            log!("ttl expired but clearing failed (will retry): {e}");
        }
    }

    /// SIGTERM/SIGINT: clear what the agent set unless `--keep-on-exit`.
    pub fn shutdown(&mut self, signal: &str) {
        self.closing = true;
        if self.managed.is_none() {
            log!("{signal}: exiting (nothing set by this agent)");
            return;
        }
        if self.config.keep_on_exit {
            log!(
                "{signal}: exiting, keeping netem (--keep-on-exit); state file {} stays for the next agent",
                self.config.state_file.display()
            );
            return;
        }
        match self.clear_own(signal) {
            Ok(()) => log!("{signal}: exiting"),
            Err(e) => log!("{signal}: exiting, clearing failed: {e}"),
        }
    }

    /// At startup: adopt the netem a previous agent in this pod set (state file), if the
    /// root qdisc is still that one; otherwise forget the stale file.
    pub fn adopt(&mut self) {
        let path = self.config.state_file.clone();
        let saved = match state_file::load(&path) {
            Ok(Some(saved)) => saved,
            Ok(None) => return,
            Err(e) => {
                log!("ignoring unreadable state file {}: {e}", path.display());
                self.forget();
                return;
            }
        };
        let found = self.open().and_then(|mut h| {
            let iface = self.iface(&mut h)?;
            let root = self.root(&mut h, &iface)?;
            self.keep(h);
            Ok((iface, root))
        });
        let (iface, root) = match found {
            Ok(x) => x,
            Err(e) => {
                // Keep the file: a later request may find the interface.
                log!("cannot check state file {} now: {e}", path.display());
                self.managed = Some(saved);
                return;
            }
        };
        let ours = saved.ifindex == iface.index
            && root
                .as_ref()
                .is_some_and(|q| q.kind == "netem" && q.handle == saved.handle);
        if !ours {
            log!(
                "state file {}: the netem it describes on {} is gone; forgetting it",
                path.display(),
                saved.interface
            );
            self.forget();
            return;
        }
        log!(
            "adopted netem (handle {}) on {} from state file {}: {}{}",
            handle_text(saved.handle),
            iface.name,
            path.display(),
            spec_json(&saved.spec),
            saved
                .expires_at_ms
                .map(|d| format!(", expires at {}", clock::rfc3339_ms(d)))
                .unwrap_or_default()
        );
        self.netem_seen = true;
        self.managed = Some(saved);
    }

    /// `GET /v1/info`.
    pub fn info(&mut self) -> Info {
        let found = self.open().and_then(|mut h| {
            let iface = self.iface(&mut h)?;
            Ok((h, iface))
        });
        let (interface, netem_available) = match found {
            Err(e) => {
                log!("info: {e}");
                (String::new(), self.netem_seen)
            }
            Ok((mut h, iface)) => {
                let available = self.netem_seen
                    || match h.netem_available(iface.index) {
                        Ok(yes) => yes,
                        Err(e) => {
                            log!("info: cannot tell whether the kernel has netem: {e}");
                            false
                        }
                    };
                self.netem_seen = available;
                self.keep(h);
                (iface.name, available)
            }
        };
        Info {
            version: env!("CARGO_PKG_VERSION").to_string(),
            interface,
            netem_available,
        }
    }
}

fn ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn after_shutdown_nothing_more_is_set() {
        let mut agent = Agent::new(Config {
            interface: Some("netem-agent-test-no-such-if0".into()),
            state_file: std::env::temp_dir().join("netem-agent-unit-never-written.json"),
            keep_on_exit: false,
        });
        agent.shutdown("SIGTERM");
        let spec = NetemSpec::delay(Duration::from_millis(20));
        let e = agent.set(spec, false).unwrap_err();
        assert_eq!(e.status(), 500);
        assert!(e.to_string().contains("shutting down"), "{e}");
        // Bad input is still answered as bad input.
        let bad = NetemSpec {
            jitter: Some(Duration::from_millis(5)),
            ..NetemSpec::default()
        };
        assert_eq!(agent.set(bad, false).unwrap_err().status(), 400);
    }
}
