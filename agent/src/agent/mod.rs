//! The agent's operations: read, set and clear the netem of its interface: the default (all
//! traffic) and per-destination rules (one qdisc tree, see [`crate::rules`]); remember what it
//! set (state file), adopt it after a restart, clear it (or one rule) on expiry, and all on
//! exit.
//!
//! Synchronous: every call is a few netlink round trips. The server serializes calls with a
//! mutex around one `Agent`.

use std::path::PathBuf;
use std::time::Duration;

use crate::clock;
use crate::log;
use crate::netem;
use crate::netlink::{Handle, NetlinkError, Qdisc, errno};
use crate::rules::DEFAULT_BAND;
use crate::rules::apply::{Kernel, Live};
use crate::rules::tree::Seen;
use crate::state_file::{self, Saved, StateError};

mod changes;
use netem_api::spec::{FieldError, NetemSpec};
use netem_api::wire::{ApiError, Info, NetemState, ROOT_QDISC_NONE};

/// How the agent was started.
#[derive(Debug, Clone)]
pub struct Config {
    /// Interface to work on; `None` = the one carrying the default route.
    pub interface: Option<String>,
    /// Where to keep the state file; `None` (`--no-state-file`): keep none, and recognise
    /// the agent's qdisc by its handle ([`OWN_HANDLE`]) alone.
    pub state_file: Option<PathBuf>,
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
    /// The kernel has no netem, or no prio or flower for rules (503).
    #[error("{0}")]
    NoNetem(String),
    /// No such rule (404).
    #[error("{0}")]
    NotFound(String),
    /// No band left for another rule (422).
    #[error("{0}")]
    TooMany(String),
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
            AgentError::NotFound(_) => 404,
            AgentError::TooMany(_) => 422,
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

/// The handle of every root netem qdisc the agent makes: major 0x4e45 ("NE", for netem),
/// minor 0, as tc prints it `4e45:`. The kernel numbers qdiscs made without a handle from
/// 8001: upwards, and people rarely pick this one, so a fresh agent (restarted, or a new
/// ephemeral container with no state file) recognises a root netem with this handle as its
/// own (as Pumba marks its qdiscs by handle).
pub const OWN_HANDLE: u32 = 0x4e45_0000;

/// True for a root netem qdisc the agent made (netem, with [`OWN_HANDLE`]).
pub fn is_own(q: &Qdisc) -> bool {
    q.kind == "netem" && q.handle == OWN_HANDLE
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

/// Whether the root qdisc is still the one `saved` describes: on the same interface, the
/// netem with the saved handle, or the agent's rule tree (prio with the own handle).
fn is_ours(saved: &Saved, iface: &Iface, seen: &Seen) -> bool {
    saved.ifindex == iface.index
        && (seen.is_own_prio()
            || seen
                .root
                .as_ref()
                .is_some_and(|q| q.kind == "netem" && q.handle == saved.handle))
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

    /// When the next pending expiry (the default's or a rule's) is due (Unix ms), if any.
    pub fn deadline(&self) -> Option<u64> {
        let m = self.managed.as_ref()?;
        m.rules
            .iter()
            .filter_map(|r| r.expires_at_ms)
            .chain(m.expires_at_ms)
            .min()
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

    /// What the kernel has on the interface (qdiscs, and filters of the own tree).
    fn seen(&mut self, h: &mut Handle, iface: &Iface) -> Result<Seen, AgentError> {
        Live {
            handle: h,
            ifindex: iface.index,
        }
        .read()
        .map_err(|e| {
            if e.errno() == Some(errno::ENODEV) {
                // Looked up again on the next request.
                self.iface = None;
                return AgentError::Failed(format!("interface {} is gone ({e})", iface.name));
            }
            kernel_error("cannot read qdiscs", e)
        })
    }

    /// Forgets what the agent set (and its state file, if it is one the agent wrote).
    fn forget(&mut self) {
        self.managed = None;
        if let Some(path) = &self.config.state_file
            && let Err(e) = state_file::remove(path)
        {
            log!("cannot remove state file {}: {e}", path.display());
        }
    }

    /// Writes the state file, if there is one.
    fn save(&self) {
        if let (Some(path), Some(saved)) = (&self.config.state_file, &self.managed)
            && let Err(e) = state_file::save(path, saved)
        {
            log!(
                "cannot write state file {} (a restarted agent adopts this qdisc by its \
                 handle, without ttls, distributions or rule ids): {e}",
                path.display()
            );
        }
    }

    /// Takes a root with the agent's own handle (a netem, or the prio of a rule tree) as the
    /// agent's, when nothing else says what the agent set: settings as the kernel reports
    /// them, no expiry; rules get ids from their bands (`band-N`).
    fn adopt_own(&mut self, iface: &Iface, seen: &Seen, when: &str) {
        let Some(q) = seen
            .root
            .as_ref()
            .filter(|q| is_own(q) || seen.is_own_prio())
        else {
            return;
        };
        let tree = seen.tree();
        let spec = tree.default.clone().unwrap_or_default();
        log!(
            "{when}: adopted {} (handle {}) on {} by its handle (no state file says more: \
             no expiry): {}{}",
            q.kind,
            handle_text(q.handle),
            iface.name,
            spec_json(&spec),
            if tree.bands.is_empty() {
                String::new()
            } else {
                format!(" and {} rules", tree.bands.len())
            }
        );
        self.netem_seen = true;
        self.managed = Some(Saved {
            written_by: state_file::WRITER.into(),
            interface: iface.name.clone(),
            ifindex: iface.index,
            handle: q.handle,
            spec,
            set_at_ms: clock::now_ms(),
            expires_at_ms: None,
            rules: Vec::new(),
        });
    }

    /// Drops `managed` if the root qdisc is no longer the one the agent set, and the rules
    /// whose bands are gone; adopts a root with the agent's handle if nothing is managed.
    fn reconcile(&mut self, iface: &Iface, seen: &Seen) {
        let Some(saved) = &mut self.managed else {
            self.adopt_own(iface, seen, "found");
            return;
        };
        if !is_ours(saved, iface, seen) {
            log!(
                "the qdisc this agent set on {} is gone (removed or replaced by someone else); forgetting it",
                saved.interface
            );
            self.forget();
            return;
        }
        let bands = seen.tree().bands;
        let before = saved.rules.len();
        saved.rules.retain(|r| {
            let kept = bands.contains_key(&r.band);
            if !kept {
                log!(
                    "rule {} (band {}) is gone from the kernel; forgetting it",
                    r.id,
                    r.band
                );
            }
            kept
        });
        if saved.rules.len() != before {
            self.save();
        }
    }

    /// The state as reported by the API.
    fn describe(&mut self, iface: &Iface, seen: Seen) -> NetemState {
        self.reconcile(iface, &seen);
        let now = clock::now_ms();
        let tree = seen.tree();
        let (root_qdisc, netem) = match &seen.root {
            None => (ROOT_QDISC_NONE.to_string(), None),
            Some(q) if q.kind == "netem" || seen.is_own_prio() => {
                self.netem_seen = true;
                if let Some(d) = q.options.as_deref().filter(|_| q.kind == "netem") {
                    match netem::decode_options(d) {
                        Ok(d) if !d.other.is_empty() => {
                            log!("netem on {} also has: {}", iface.name, d.other.join(", "))
                        }
                        Err(e) => log!("cannot decode the netem options on {}: {e}", iface.name),
                        Ok(_) => {}
                    }
                }
                let spec = tree.default.clone().map(|s| self.with_distribution(s));
                (q.kind.clone(), spec)
            }
            Some(q) => (q.kind.clone(), None),
        };
        let managed = self.managed.is_some();
        let deadline = self.managed.as_ref().and_then(|m| m.expires_at_ms);
        NetemState {
            interface: iface.name.clone(),
            root_qdisc,
            netem,
            managed,
            expires_at: deadline.map(clock::rfc3339_ms),
            ttl_remaining: deadline.map(|d| clock::remaining(d, now)),
            rules: self.rules_of(&tree),
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
        let seen = self.seen(&mut h, &iface)?;
        self.keep(h);
        Ok(self.describe(&iface, seen))
    }

    /// `PUT /v1/netem` / `GET /latency/{d}`: set exactly `spec` (replace) as the default,
    /// leaving the rules in force. A spec without impairment clears the default (and, with
    /// no rules, the root qdisc, as `DELETE`). A root qdisc someone else configured is
    /// replaced only if `force`.
    pub fn set(&mut self, spec: NetemSpec, force: bool) -> Result<NetemState, AgentError> {
        spec.validate().map_err(AgentError::Invalid)?;
        if spec.is_noop() {
            let has_rules = self.open().and_then(|mut h| {
                let iface = self.iface(&mut h)?;
                let seen = self.seen(&mut h, &iface)?;
                self.keep(h);
                Ok(!seen.tree().bands.is_empty())
            })?;
            if !has_rules {
                return self.clear(force);
            }
        }
        let now = clock::now_ms();
        let what = format!("set the default netem {}", spec_json(&spec));
        self.change(force, &what, move |saved| {
            saved.expires_at_ms = spec.ttl.map(|t| now.saturating_add(ms(t)));
            saved.set_at_ms = now;
            saved.spec = spec;
            Ok([DEFAULT_BAND].into())
        })
    }

    /// `DELETE /v1/netem`: remove the root qdisc if it is a netem (whoever set it) or the
    /// agent's rule tree: the default and every rule. A root qdisc of another kind that
    /// someone configured is removed only if `force`.
    pub fn clear(&mut self, force: bool) -> Result<NetemState, AgentError> {
        let mut h = self.open()?;
        let iface = self.iface(&mut h)?;
        let seen = self.seen(&mut h, &iface)?;
        match &seen.root {
            Some(q) if seen.foreign().is_none() || force => {
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
            Some(q) => {
                return Err(AgentError::Conflict(format!(
                    "the root qdisc of {} is {} (handle {}), which this agent did not set; \
                     left alone (add ?force=true to remove it)",
                    iface.name,
                    q.kind,
                    handle_text(q.handle)
                )));
            }
            None => {}
        }
        if self.managed.is_some() {
            self.forget();
        }
        let seen = self.seen(&mut h, &iface)?;
        self.keep(h);
        Ok(self.describe(&iface, seen))
    }

    /// Removes the root qdisc the agent set, if it is still exactly that one.
    fn clear_own(&mut self, why: &str) -> Result<(), AgentError> {
        if self.managed.is_none() {
            return Ok(());
        }
        let mut h = self.open()?;
        let iface = self.iface(&mut h)?;
        let seen = self.seen(&mut h, &iface)?;
        self.reconcile(&iface, &seen);
        let Some(q) = seen.root.as_ref().filter(|_| self.managed.is_some()) else {
            self.keep(h);
            return Ok(());
        };
        match h.delete_root(iface.index, q.handle, &q.kind) {
            Err(e) if e.errno() != Some(errno::ENOENT) => {
                return Err(kernel_error("cannot clear", e));
            }
            _ => log!(
                "{why}: cleared {} (handle {}) on {}",
                q.kind,
                handle_text(q.handle),
                iface.name
            ),
        }
        self.forget();
        self.keep(h);
        Ok(())
    }

    /// The ttl expiry timer fired for `deadline_ms`: clear what is due (the default, rules),
    /// if that is still the next expiry.
    pub fn expire(&mut self, deadline_ms: u64) {
        if self.deadline() != Some(deadline_ms) {
            return;
        }
        let Some(saved) = &self.managed else { return };
        let due = |e: Option<u64>| e.is_some_and(|e| e <= deadline_ms);
        let default_due = due(saved.expires_at_ms);
        let rules_due: Vec<String> = saved
            .rules
            .iter()
            .filter(|r| due(r.expires_at_ms))
            .map(|r| r.id.clone())
            .collect();
        let default_left = !default_due && !saved.spec.is_noop();
        let nothing_left = !default_left && rules_due.len() == saved.rules.len();
        let result = if nothing_left {
            self.clear_own("ttl expired")
        } else {
            let what = format!(
                "ttl expired ({})",
                default_due
                    .then(|| "default".to_string())
                    .into_iter()
                    .chain(rules_due.iter().map(|id| format!("rule {id}")))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            self.change(false, &what, move |saved| {
                if default_due {
                    saved.spec = NetemSpec::default();
                    saved.expires_at_ms = None;
                }
                saved.rules.retain(|r| !rules_due.contains(&r.id));
                Ok(Default::default())
            })
            .map(drop)
        };
        if let Err(e) = result {
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
            log!("{signal}: exiting, keeping netem (--keep-on-exit) for the next agent to adopt");
            return;
        }
        match self.clear_own(signal) {
            Ok(()) => log!("{signal}: exiting"),
            Err(e) => log!("{signal}: exiting, clearing failed: {e}"),
        }
    }

    /// At startup: adopt what a previous agent in this pod set: the tree its state file
    /// describes, if the root qdisc is still that one (otherwise the stale file is
    /// forgotten), else a root with the agent's own handle. A path holding anything but a
    /// state file the agent wrote is logged and left untouched.
    pub fn adopt(&mut self) {
        let saved = match &self.config.state_file {
            None => None,
            Some(path) => match state_file::load(path) {
                Ok(saved) => saved,
                Err(e @ StateError::NotOurs(_)) => {
                    log!("state file {}: {e}", path.display());
                    None
                }
                Err(e) => {
                    log!("cannot read state file {}: {e}", path.display());
                    None
                }
            },
        };
        let found = self.open().and_then(|mut h| {
            let iface = self.iface(&mut h)?;
            let seen = self.seen(&mut h, &iface)?;
            self.keep(h);
            Ok((iface, seen))
        });
        let (iface, seen) = match found {
            Ok(x) => x,
            Err(e) => {
                // Keep what the file says: a later request may find the interface.
                log!("cannot look at the root qdisc now: {e}");
                self.managed = saved;
                return;
            }
        };
        let Some(saved) = saved else {
            self.adopt_own(&iface, &seen, "at startup");
            return;
        };
        if !is_ours(&saved, &iface, &seen) {
            log!(
                "state file: the qdisc it describes on {} is gone; forgetting it",
                saved.interface
            );
            self.forget();
            self.adopt_own(&iface, &seen, "at startup");
            return;
        }
        log!(
            "adopted netem (handle {}) on {} from the state file: {}{}{}",
            handle_text(saved.handle),
            iface.name,
            spec_json(&saved.spec),
            saved
                .expires_at_ms
                .map(|d| format!(", expires at {}", clock::rfc3339_ms(d)))
                .unwrap_or_default(),
            if saved.rules.is_empty() {
                String::new()
            } else {
                format!(
                    ", rules {}",
                    saved
                        .rules
                        .iter()
                        .map(|r| r.id.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            }
        );
        self.netem_seen = true;
        self.managed = Some(saved);
        self.reconcile(&iface, &seen);
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
mod tests;
