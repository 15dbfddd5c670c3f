//! The object store: one global resourceVersion counter as etcd has, uid/creationTimestamp/
//! generation bookkeeping, preconditions (409), validation (422), no-op detection, field
//! managers, and an event log for watches and for waking the controllers.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Arc;

use serde_json::{Value, json};
use tokio::sync::{broadcast, watch};

use crate::clock;
use crate::patch::apply::{self, Managers};
use crate::resources::Resource;
use crate::status::ApiError;
use crate::validate;

/// Which part of an object a write goes through: the object itself or one of its subresources
/// (each keeps what it does not own and is validated by its own rules, as on a real server).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// The object (status kept when it is a subresource).
    Main,
    /// The `status` subresource.
    Status,
    /// A pod's `ephemeralcontainers` subresource (the caller already kept every other field).
    EphemeralContainers,
}

/// Store key: (qualified resource, namespace or "", name).
pub type Key = (String, String, String);

/// Build a key.
pub fn key(res: &Resource, ns: &str, name: &str) -> Key {
    (res.qualified(), ns.to_string(), name.to_string())
}

/// One change, as a watch event.
#[derive(Debug, Clone)]
pub struct Event {
    /// resourceVersion after the change.
    pub rv: u64,
    /// Qualified resource name.
    pub res: String,
    /// Namespace.
    pub ns: String,
    /// ADDED, MODIFIED, DELETED.
    pub kind: &'static str,
    /// The object after the change (before, for DELETED).
    pub obj: Value,
}

struct Stored {
    obj: Value,
    managers: Managers,
}

/// How many events are kept for watches resuming from a resourceVersion.
const LOG_CAP: usize = 10_000;

/// The store.
pub struct Store {
    objects: BTreeMap<Key, Stored>,
    rv: u64,
    log: VecDeque<Arc<Event>>,
    events: broadcast::Sender<Arc<Event>>,
    changed: watch::Sender<u64>,
    concurrent_writes: HashMap<Key, usize>,
}

impl Default for Store {
    fn default() -> Self {
        Self::new()
    }
}

fn meta_str<'a>(obj: &'a Value, field: &str) -> Option<&'a str> {
    obj["metadata"][field].as_str()
}

/// Everything but metadata (and status when it is a subresource): a change here bumps generation.
fn generation_content(res: &Resource, obj: &Value) -> Value {
    let mut v = obj.clone();
    if let Some(m) = v.as_object_mut() {
        m.remove("metadata");
        if res.status_subresource {
            m.remove("status");
        }
    }
    v
}

/// The object without server-maintained volatile fields, to detect no-op writes.
fn comparable(obj: &Value) -> Value {
    let mut v = obj.clone();
    if let Some(m) = v["metadata"].as_object_mut() {
        m.remove("resourceVersion");
        m.remove("managedFields");
    }
    v
}

impl Store {
    /// An empty store.
    pub fn new() -> Self {
        let (events, _) = broadcast::channel(4096);
        let (changed, _) = watch::channel(0);
        Store {
            objects: BTreeMap::new(),
            rv: 1000,
            log: VecDeque::new(),
            events,
            changed,
            concurrent_writes: HashMap::new(),
        }
    }

    /// Current global resourceVersion.
    pub fn rv(&self) -> u64 {
        self.rv
    }

    /// Wakes whenever anything changes (controllers wait on it).
    pub fn subscribe_changes(&self) -> watch::Receiver<u64> {
        self.changed.subscribe()
    }

    /// Live events for watches.
    pub fn subscribe_events(&self) -> broadcast::Receiver<Arc<Event>> {
        self.events.subscribe()
    }

    /// Events after `rv` for one resource, or None when `rv` is older than the log (410 Gone).
    pub fn events_since(&self, res: &Resource, rv: u64) -> Option<Vec<Arc<Event>>> {
        let oldest = self.log.front().map(|e| e.rv).unwrap_or(self.rv + 1);
        if rv + 1 < oldest && rv < self.rv && !self.log.is_empty() {
            return None;
        }
        let q = res.qualified();
        Some(
            self.log
                .iter()
                .filter(|e| e.rv > rv && e.res == q)
                .cloned()
                .collect(),
        )
    }

    /// One object.
    pub fn get(&self, res: &Resource, ns: &str, name: &str) -> Option<Value> {
        self.objects.get(&key(res, ns, name)).map(|s| s.obj.clone())
    }

    /// All objects of a resource, in one namespace or all.
    pub fn list(&self, res: &Resource, ns: Option<&str>) -> Vec<Value> {
        let q = res.qualified();
        self.objects
            .iter()
            .filter(|((r, n, _), _)| *r == q && ns.is_none_or(|ns| ns == n))
            .map(|(_, s)| s.obj.clone())
            .collect()
    }

    fn emit(&mut self, res: &Resource, ns: &str, kind: &'static str, obj: Value) {
        let ev = Arc::new(Event {
            rv: self.rv,
            res: res.qualified(),
            ns: ns.to_string(),
            kind,
            obj,
        });
        self.log.push_back(ev.clone());
        if self.log.len() > LOG_CAP {
            self.log.pop_front();
        }
        let _ = self.events.send(ev);
        self.changed.send_replace(self.rv);
    }

    /// Create an object (namespace from the URL or the object). `manager` owns its fields.
    pub fn create(
        &mut self,
        res: &Resource,
        ns: &str,
        mut obj: Value,
        manager: &str,
        dry_run: bool,
    ) -> Result<Value, ApiError> {
        if !obj.is_object() {
            return Err(ApiError::bad_request(
                "the body of the request must be a JSON object",
            ));
        }
        if meta_str(&obj, "name").unwrap_or("").is_empty()
            && let Some(g) = meta_str(&obj, "generateName").map(str::to_string)
        {
            let suffix: String = clock::new_uid().chars().take(5).collect();
            obj["metadata"]["name"] = json!(format!("{g}{suffix}"));
        }
        let name = meta_str(&obj, "name").unwrap_or("").to_string();
        if let Some(other) = meta_str(&obj, "namespace")
            && res.namespaced
            && other != ns
        {
            return Err(ApiError::bad_request(
                "the namespace of the provided object does not match the namespace sent on the request",
            ));
        }
        let causes = validate::validate_create(res.kind, &obj);
        if !causes.is_empty() {
            return Err(ApiError::invalid(res, &name, &causes));
        }
        let k = key(res, ns, &name);
        if self.objects.contains_key(&k) {
            return Err(ApiError::already_exists(res, &name));
        }
        let now = clock::now_rfc3339();
        obj["apiVersion"] = json!(res.api_version());
        obj["kind"] = json!(res.kind);
        let m = obj["metadata"].as_object_mut().expect("metadata object");
        if res.namespaced {
            m.insert("namespace".into(), json!(ns));
        }
        m.insert("uid".into(), json!(clock::new_uid()));
        m.insert("creationTimestamp".into(), json!(now));
        m.insert("generation".into(), json!(1));
        m.remove("resourceVersion");
        m.remove("managedFields");
        let mut managers = Managers::new();
        apply::record_update(None, &obj, &mut managers, manager, &now);
        if dry_run {
            return Ok(obj);
        }
        self.rv += 1;
        obj["metadata"]["resourceVersion"] = json!(self.rv.to_string());
        obj["metadata"]["managedFields"] = apply::managed_fields(&managers, &res.api_version());
        self.objects.insert(
            k,
            Stored {
                obj: obj.clone(),
                managers,
            },
        );
        self.emit(res, ns, "ADDED", obj.clone());
        Ok(obj)
    }

    /// The field managers of an object (for server-side apply).
    pub fn managers(&self, res: &Resource, ns: &str, name: &str) -> Managers {
        self.objects
            .get(&key(res, ns, name))
            .map(|s| s.managers.clone())
            .unwrap_or_default()
    }

    /// Write `obj` as an in-process controller (operator, kubelet, a simulated concurrent
    /// writer) does: without a resourceVersion precondition (any it carries is dropped), not
    /// dry run, recorded as an "Update" by `manager`; `status_write` for the status
    /// subresource. Errors (the object vanished meanwhile, say) are the controller's to ignore.
    pub fn write_unconditionally(
        &mut self,
        res: &Resource,
        ns: &str,
        name: &str,
        mut obj: Value,
        manager: &str,
        status_write: bool,
    ) -> Result<Value, ApiError> {
        if let Some(m) = obj["metadata"].as_object_mut() {
            m.remove("resourceVersion");
        }
        self.update(res, ns, name, obj, None, manager, false, status_write)
    }

    /// Replace an object after preconditions: a `resourceVersion` in `new` must equal the
    /// stored one (409), identity fields must match, validation must pass (422). Status is
    /// kept when it is a subresource (unless `status_write`). A write that changes nothing is
    /// a no-op (no new resourceVersion), as on a real server. `managers`: Some for an apply
    /// (ownership already computed), None to record an "Update" by `manager`.
    #[allow(clippy::too_many_arguments)]
    pub fn update(
        &mut self,
        res: &Resource,
        ns: &str,
        name: &str,
        new: Value,
        managers: Option<Managers>,
        manager: &str,
        dry_run: bool,
        status_write: bool,
    ) -> Result<Value, ApiError> {
        let part = if status_write {
            Part::Status
        } else {
            Part::Main
        };
        self.update_part(res, ns, name, new, managers, manager, dry_run, part)
    }

    /// [`Store::update`] through one [`Part`] of the object.
    #[allow(clippy::too_many_arguments)]
    pub fn update_part(
        &mut self,
        res: &Resource,
        ns: &str,
        name: &str,
        mut new: Value,
        managers: Option<Managers>,
        manager: &str,
        dry_run: bool,
        part: Part,
    ) -> Result<Value, ApiError> {
        let status_write = part == Part::Status;
        let k = key(res, ns, name);
        let Some(stored) = self.objects.get(&k) else {
            return Err(ApiError::not_found(res, name));
        };
        let old = &stored.obj;
        if !new.is_object() || !new["metadata"].is_object() {
            return Err(ApiError::bad_request(
                "the body of the request must be an object with metadata",
            ));
        }
        if let Some(n) = meta_str(&new, "name")
            && n != name
        {
            return Err(ApiError::bad_request(format!(
                "the name of the object ({n}) does not match the name on the URL ({name})"
            )));
        }
        if let Some(rv) = meta_str(&new, "resourceVersion")
            && Some(rv) != meta_str(old, "resourceVersion")
        {
            return Err(ApiError::conflict(res, name));
        }
        if let Some(uid) = meta_str(&new, "uid")
            && Some(uid) != meta_str(old, "uid")
        {
            return Err(ApiError {
                code: 409,
                reason: "Conflict",
                message: format!(
                    "Operation cannot be fulfilled on {} \"{name}\": Precondition failed: UID in precondition: {}, UID in object meta: {uid}",
                    res.qualified(),
                    meta_str(old, "uid").unwrap_or("")
                ),
                details: None,
            });
        }
        new["apiVersion"] = json!(res.api_version());
        new["kind"] = json!(res.kind);
        for f in [
            "uid",
            "creationTimestamp",
            "deletionTimestamp",
            "namespace",
            "resourceVersion",
        ] {
            match old["metadata"].get(f) {
                Some(v) => new["metadata"][f] = v.clone(),
                None => {
                    new["metadata"].as_object_mut().map(|m| m.remove(f));
                }
            }
        }
        new["metadata"]["name"] = json!(name);
        if res.status_subresource && !status_write {
            match old.get("status") {
                Some(s) => new["status"] = s.clone(),
                None => {
                    new.as_object_mut().map(|m| m.remove("status"));
                }
            }
        }
        let old_generation = old["metadata"]["generation"].as_i64().unwrap_or(1);
        let bumped = generation_content(res, old) != generation_content(res, &new);
        new["metadata"]["generation"] = json!(if bumped {
            old_generation + 1
        } else {
            old_generation
        });
        let causes = match part {
            Part::EphemeralContainers => validate::ephemeral::validate_update(old, &new),
            Part::Main | Part::Status => validate::validate_update(res.kind, old, &new),
        };
        if !causes.is_empty() {
            return Err(ApiError::invalid(res, name, &causes));
        }
        new["metadata"]["managedFields"] = old["metadata"]["managedFields"].clone();
        if comparable(&new) == comparable(old) {
            return Ok(old.clone());
        }
        let now = clock::now_rfc3339();
        let managers = match managers {
            Some(m) => m,
            None => {
                let mut m = stored.managers.clone();
                apply::record_update(Some(old), &new, &mut m, manager, &now);
                m
            }
        };
        new["metadata"]["managedFields"] = apply::managed_fields(&managers, &res.api_version());
        if dry_run {
            return Ok(new);
        }
        self.rv += 1;
        new["metadata"]["resourceVersion"] = json!(self.rv.to_string());
        self.objects.insert(
            k,
            Stored {
                obj: new.clone(),
                managers,
            },
        );
        self.emit(res, ns, "MODIFIED", new.clone());
        Ok(new)
    }

    /// Remove an object now.
    pub fn remove(&mut self, res: &Resource, ns: &str, name: &str) -> Option<Value> {
        let s = self.objects.remove(&key(res, ns, name))?;
        self.rv += 1;
        let mut obj = s.obj;
        obj["metadata"]["resourceVersion"] = json!(self.rv.to_string());
        self.emit(res, ns, "DELETED", obj.clone());
        Some(obj)
    }

    /// Set `metadata.deletionTimestamp` on an object (graceful deletion).
    pub fn mark_deleting(
        &mut self,
        res: &Resource,
        ns: &str,
        name: &str,
        obj: Value,
    ) -> Option<Value> {
        let k = key(res, ns, name);
        let stored = self.objects.get_mut(&k)?;
        self.rv += 1;
        let mut obj = obj;
        obj["metadata"]["resourceVersion"] = json!(self.rv.to_string());
        stored.obj = obj.clone();
        self.emit(res, ns, "MODIFIED", obj.clone());
        Some(obj)
    }

    /// Make the next `n` writes to an object race with a "concurrent writer".
    pub fn conflict_next_writes(&mut self, res: &Resource, ns: &str, name: &str, n: usize) {
        self.concurrent_writes.insert(key(res, ns, name), n);
    }

    /// Called before an API write: if a concurrent writer is armed for this object, it writes
    /// first (an annotation and a new resourceVersion), so the caller's preconditions fail.
    pub fn before_api_write(&mut self, res: &Resource, ns: &str, name: &str) {
        let k = key(res, ns, name);
        let Some(left) = self.concurrent_writes.get_mut(&k) else {
            return;
        };
        if *left == 0 {
            return;
        }
        *left -= 1;
        let Some(mut obj) = self.get(res, ns, name) else {
            return;
        };
        let n = self.rv + 1;
        obj["metadata"]["annotations"]["testcluster.kubectl-netem.io/concurrent-writer"] =
            json!(n.to_string());
        let _ = self.write_unconditionally(res, ns, name, obj, "concurrent-writer", false);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::{STATEFULSETS, TIDBCLUSTERS};

    fn tc() -> Value {
        json!({"apiVersion": "pingcap.com/v1alpha1", "kind": "TidbCluster", "metadata": {"name": "basic"}, "spec": {"pd": {"replicas": 1}}})
    }

    #[test]
    fn rv_bumps_generation_on_spec_change_and_noop_keeps_rv() {
        let mut s = Store::new();
        let created = s
            .create(&TIDBCLUSTERS, "default", tc(), "t", false)
            .unwrap();
        let rv1 = created["metadata"]["resourceVersion"]
            .as_str()
            .unwrap()
            .to_string();
        let mut m = created.clone();
        m["metadata"]["labels"] = json!({"a": "b"});
        let out = s
            .update(
                &TIDBCLUSTERS,
                "default",
                "basic",
                m,
                None,
                "t",
                false,
                false,
            )
            .unwrap();
        assert_ne!(out["metadata"]["resourceVersion"], json!(rv1));
        assert_eq!(out["metadata"]["generation"], 1);
        let mut spec = out.clone();
        spec["spec"]["pd"]["replicas"] = json!(3);
        let out2 = s
            .update(
                &TIDBCLUSTERS,
                "default",
                "basic",
                spec,
                None,
                "t",
                false,
                false,
            )
            .unwrap();
        assert_eq!(out2["metadata"]["generation"], 2);
        let same = s
            .update(
                &TIDBCLUSTERS,
                "default",
                "basic",
                out2.clone(),
                None,
                "t",
                false,
                false,
            )
            .unwrap();
        assert_eq!(
            same["metadata"]["resourceVersion"],
            out2["metadata"]["resourceVersion"]
        );
    }

    #[test]
    fn stale_rv_is_409_and_dry_run_stores_nothing() {
        let mut s = Store::new();
        let created = s
            .create(&TIDBCLUSTERS, "default", tc(), "t", false)
            .unwrap();
        let mut stale = created.clone();
        stale["metadata"]["resourceVersion"] = json!("1");
        let e = s
            .update(
                &TIDBCLUSTERS,
                "default",
                "basic",
                stale,
                None,
                "t",
                false,
                false,
            )
            .unwrap_err();
        assert_eq!(e.code, 409);
        let mut dry = created.clone();
        dry["spec"]["pd"]["replicas"] = json!(5);
        let out = s
            .update(
                &TIDBCLUSTERS,
                "default",
                "basic",
                dry,
                None,
                "t",
                true,
                false,
            )
            .unwrap();
        assert_eq!(out["spec"]["pd"]["replicas"], 5);
        assert_eq!(
            s.get(&TIDBCLUSTERS, "default", "basic").unwrap()["spec"]["pd"]["replicas"],
            1
        );
    }

    #[test]
    fn concurrent_writer_makes_guarded_write_conflict() {
        let mut s = Store::new();
        let created = s
            .create(&TIDBCLUSTERS, "default", tc(), "t", false)
            .unwrap();
        s.conflict_next_writes(&TIDBCLUSTERS, "default", "basic", 1);
        s.before_api_write(&TIDBCLUSTERS, "default", "basic");
        let e = s
            .update(
                &TIDBCLUSTERS,
                "default",
                "basic",
                created.clone(),
                None,
                "t",
                false,
                false,
            )
            .unwrap_err();
        assert_eq!(e.code, 409);
        s.before_api_write(&TIDBCLUSTERS, "default", "basic");
        let fresh = s.get(&TIDBCLUSTERS, "default", "basic").unwrap();
        assert!(
            s.update(
                &TIDBCLUSTERS,
                "default",
                "basic",
                fresh,
                None,
                "t",
                false,
                false
            )
            .is_ok()
        );
    }

    #[test]
    fn create_validates() {
        let mut s = Store::new();
        let sts = json!({"metadata": {"name": "x"}, "spec": {"selector": {"matchLabels": {"a": "b"}},
            "template": {"metadata": {"labels": {"a": "b"}}, "spec": {"containers": [{"name": "c"}]}}}});
        let e = s
            .create(&STATEFULSETS, "default", sts, "t", false)
            .unwrap_err();
        assert_eq!(e.code, 422);
        assert!(e.message.starts_with("StatefulSet.apps \"x\" is invalid: spec.template.spec.containers[0].image: Required value"));
    }
}
