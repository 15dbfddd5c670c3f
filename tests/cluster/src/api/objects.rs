//! get, list, create, update, patch, delete on stored objects.

use serde_json::{Value, json};

use super::route::Target;
use super::{query, table, wants_table};
use crate::patch::{self, PatchType};
use crate::resources::PatchSupport;
use crate::selector::{FieldSelector, LabelSelector};
use crate::state::{Shared, lock};
use crate::status::ApiError;
use crate::{clock, patch::apply};

/// One request's context.
pub struct Ctx<'a> {
    /// Shared state.
    pub shared: &'a Shared,
    /// What it addresses.
    pub t: &'a Target,
    /// Query pairs.
    pub q: &'a [(String, String)],
    /// Accept header.
    pub accept: &'a str,
    /// Content-Type header.
    pub content_type: &'a str,
    /// User-Agent header.
    pub user_agent: &'a str,
}

impl Ctx<'_> {
    pub(super) fn ns(&self) -> &str {
        self.t.ns.as_deref().unwrap_or("")
    }

    pub(super) fn name(&self) -> &str {
        self.t.name.as_deref().unwrap_or("")
    }

    pub(super) fn dry_run(&self) -> Result<bool, ApiError> {
        match query::get(self.q, "dryRun") {
            None | Some("") => Ok(false),
            Some("All") => Ok(true),
            Some(other) => Err(ApiError::bad_request(format!(
                "dryRun: Unsupported value: \"{other}\": supported values: \"All\""
            ))),
        }
    }

    /// The field manager: `?fieldManager=` or the User-Agent's program name, as the real server
    /// derives it.
    pub(super) fn manager(&self) -> String {
        query::get(self.q, "fieldManager")
            .map(str::to_string)
            .unwrap_or_else(|| {
                self.user_agent
                    .split('/')
                    .next()
                    .unwrap_or("unknown")
                    .to_string()
            })
    }

    fn render_one(&self, obj: Value) -> Value {
        if wants_table(self.accept) {
            let include = query::get(self.q, "includeObject").unwrap_or("Metadata");
            table::table(self.t.res.kind, &[obj], None, include)
        } else {
            obj
        }
    }

    /// GET one object.
    pub fn get(&self) -> Result<Value, ApiError> {
        let obj = lock(&self.shared.store)
            .get(self.t.res, self.ns(), self.name())
            .ok_or_else(|| ApiError::not_found(self.t.res, self.name()))?;
        Ok(self.render_one(obj))
    }

    /// GET a collection, filtered by label and field selectors.
    pub fn list(&self) -> Result<Value, ApiError> {
        let labels = LabelSelector::parse(query::get(self.q, "labelSelector").unwrap_or(""))
            .map_err(|e| ApiError::bad_request(e.0))?;
        let fields = FieldSelector::parse(
            query::get(self.q, "fieldSelector").unwrap_or(""),
            self.t.res.kind,
        )
        .map_err(|e| ApiError::bad_request(e.0))?;
        let (mut items, rv) = {
            let store = lock(&self.shared.store);
            (store.list(self.t.res, self.t.ns.as_deref()), store.rv())
        };
        items.retain(|o| labels.matches(o) && fields.matches(o));
        if wants_table(self.accept) {
            let include = query::get(self.q, "includeObject").unwrap_or("Metadata");
            return Ok(table::table(
                self.t.res.kind,
                &items,
                Some(rv.to_string()),
                include,
            ));
        }
        // Built-in lists carry items without kind/apiVersion; custom resources keep them.
        if self.t.res.patch == PatchSupport::BuiltIn {
            for o in &mut items {
                if let Some(m) = o.as_object_mut() {
                    m.remove("kind");
                    m.remove("apiVersion");
                }
            }
        }
        Ok(json!({
            "kind": format!("{}List", self.t.res.kind),
            "apiVersion": self.t.res.api_version(),
            "metadata": {"resourceVersion": rv.to_string()},
            "items": items,
        }))
    }

    pub(super) fn body_object(body: &[u8]) -> Result<Value, ApiError> {
        let v: Value = serde_json::from_slice(body)
            .or_else(|_| serde_yaml::from_slice(body))
            .map_err(|e| ApiError::bad_request(format!("error decoding request body: {e}")))?;
        if v.is_object() {
            Ok(v)
        } else {
            Err(ApiError::bad_request(
                "the body of the request must be an object",
            ))
        }
    }

    pub(super) fn check_kind(&self, obj: &Value) -> Result<(), ApiError> {
        let res = self.t.res;
        let kind_ok = obj.get("kind").is_none_or(|k| k == res.kind);
        let av_ok = obj
            .get("apiVersion")
            .is_none_or(|a| *a == json!(res.api_version()));
        if kind_ok && av_ok {
            Ok(())
        } else {
            Err(ApiError::bad_request(format!(
                "the API version in the data ({}) does not match the expected API version ({})",
                obj["apiVersion"].as_str().unwrap_or(""),
                res.api_version()
            )))
        }
    }

    /// POST to a collection.
    pub fn create(&self, body: &[u8]) -> Result<Value, ApiError> {
        let obj = Self::body_object(body)?;
        self.check_kind(&obj)?;
        let ns = if self.t.res.namespaced {
            match (&self.t.ns, obj["metadata"]["namespace"].as_str()) {
                (Some(ns), _) => ns.clone(),
                (None, _) => return Err(ApiError::path_not_found()),
            }
        } else {
            String::new()
        };
        let dry = self.dry_run()?;
        lock(&self.shared.store).create(self.t.res, &ns, obj, &self.manager(), dry)
    }

    /// PUT an object.
    pub fn update(&self, body: &[u8]) -> Result<Value, ApiError> {
        let obj = Self::body_object(body)?;
        self.check_kind(&obj)?;
        let dry = self.dry_run()?;
        let mut store = lock(&self.shared.store);
        store.before_api_write(self.t.res, self.ns(), self.name());
        store.update(
            self.t.res,
            self.ns(),
            self.name(),
            obj,
            None,
            &self.manager(),
            dry,
            false,
        )
    }

    /// PATCH an object (json, merge, strategic, apply).
    pub fn patch(&self, body: &[u8]) -> Result<Value, ApiError> {
        let res = self.t.res;
        let pt = PatchType::for_request(res, self.content_type)?;
        let dry = self.dry_run()?;
        let (ns, name, manager) = (self.ns(), self.name(), self.manager());
        let mut store = lock(&self.shared.store);
        store.before_api_write(res, ns, name);
        let live = store.get(res, ns, name);
        if pt == PatchType::Apply {
            if res.patch == PatchSupport::BuiltIn {
                // Honest limit of this double: built-in SSA needs the types' schemas.
                return Err(ApiError::unsupported_media_type(&[
                    "application/json-patch+json",
                    "application/merge-patch+json",
                    "application/strategic-merge-patch+json",
                ]));
            }
            let Some(manager) = query::get(self.q, "fieldManager").filter(|m| !m.is_empty()) else {
                return Err(ApiError {
                    code: 422,
                    reason: "Invalid",
                    message: "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required for apply patch".into(),
                    details: None,
                });
            };
            let applied = Self::body_object(body)?;
            self.check_kind(&applied)?;
            if let (Some(want), Some(live)) =
                (applied["metadata"]["resourceVersion"].as_str(), &live)
                && Some(want) != live["metadata"]["resourceVersion"].as_str()
            {
                return Err(ApiError::conflict(res, name));
            }
            let force = matches!(query::get(self.q, "force"), Some("true" | "1"));
            let mut managers = store.managers(res, ns, name);
            let now = clock::now_rfc3339();
            let out = apply::apply(live.as_ref(), &applied, &mut managers, manager, force, &now)?;
            return match live {
                Some(_) => store.update(res, ns, name, out, Some(managers), manager, dry, false),
                None => {
                    let mut obj = out;
                    obj["metadata"]["name"] = json!(name);
                    store.create(res, ns, obj, manager, dry)
                }
            };
        }
        let Some(live) = live else {
            return Err(ApiError::not_found(res, name));
        };
        let new = match pt {
            PatchType::Json => patch::json_patch(&live, body)?,
            PatchType::Merge => patch::merge_patch(&live, body)?,
            PatchType::Strategic => patch::strategic_patch(&live, body)?,
            PatchType::Apply => unreachable!("handled above"),
        };
        store.update(res, ns, name, new, None, &manager, dry, false)
    }

    /// DELETE an object. Pods terminate gracefully (the kubelet removes them once their
    /// processes stopped); other objects go at once and their dependents are collected.
    pub fn delete(&self) -> Result<Value, ApiError> {
        let res = self.t.res;
        let dry = self.dry_run()?;
        let mut store = lock(&self.shared.store);
        let obj = store
            .get(res, self.ns(), self.name())
            .ok_or_else(|| ApiError::not_found(res, self.name()))?;
        if dry {
            return Ok(obj);
        }
        if res.kind == "Pod" {
            return Ok(
                crate::controllers::mark_pod_deleting(&mut store, self.ns(), self.name())
                    .unwrap_or(obj),
            );
        }
        Ok(store.remove(res, self.ns(), self.name()).unwrap_or(obj))
    }
}
