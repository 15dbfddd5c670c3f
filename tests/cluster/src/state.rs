//! State shared by the API server, the controllers and the kubelet.

use std::collections::{HashMap, HashSet};
use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use crate::store::Store;

/// One API request as served (for tests to assert on).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestRecord {
    /// HTTP method.
    pub method: String,
    /// Path without query.
    pub path: String,
    /// Raw query string ("" if none).
    pub query: String,
    /// Request `Content-Type`, if any.
    pub content_type: Option<String>,
    /// Request `Accept`, if any.
    pub accept: Option<String>,
    /// Response status code (101 for an upgraded port-forward).
    pub status: u16,
    /// `Impersonate-User`, if sent (impersonation is recorded, not enforced).
    pub impersonate_user: Option<String>,
    /// Every `Impersonate-Group` sent, in order.
    pub impersonate_groups: Vec<String>,
}

/// What the kubelet knows of a running pod (for port-forward and `pod_ip`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PodRuntime {
    /// Pod UID.
    pub uid: String,
    /// Its network namespace (None without networking).
    pub netns: Option<String>,
    /// Its IP.
    pub ip: Option<Ipv4Addr>,
}

/// Shared state.
pub struct Shared {
    /// Objects.
    pub store: Mutex<Store>,
    /// Denied (verb, resource) pairs; "*" matches any verb.
    pub denied: Mutex<HashSet<(String, String)>>,
    /// Served requests.
    pub records: Mutex<Vec<RequestRecord>>,
    /// Added to every API request (settable while running).
    pub latency: Mutex<Duration>,
    /// Added once more to a port-forward before it is upgraded: on a real cluster the API
    /// server then dials the kubelet, which asks the container runtime for a stream (CRI
    /// PortForward), two more hops a plain GET does not make.
    pub kubelet_latency: Mutex<Duration>,
    /// Whether the TidbCluster CRD is installed.
    pub crd_installed: AtomicBool,
    /// Bearer token accepted.
    pub token: String,
    /// User name the token authenticates as (in 403 messages).
    pub user: String,
    /// `https://127.0.0.1:PORT`.
    pub server_url: Mutex<String>,
    /// Running pods by (namespace, name).
    pub pods: Mutex<HashMap<(String, String), PodRuntime>>,
    /// Directory for per-pod state.
    pub dir: PathBuf,
}

/// Lock a mutex, ignoring poisoning (a panicked handler must not wedge the server).
pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}
