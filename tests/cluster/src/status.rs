//! API errors rendered as `meta.k8s.io/v1` `Status` bodies, worded as kube-apiserver words them.

use serde_json::{Value, json};

use crate::resources::Resource;

/// An error answer of the API server: HTTP code plus the `Status` body it sends.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{code} {reason}: {message}")]
pub struct ApiError {
    /// HTTP status code.
    pub code: u16,
    /// `Status.reason` (NotFound, Conflict, Invalid, …).
    pub reason: &'static str,
    /// `Status.message`.
    pub message: String,
    /// `Status.details`, when the real server sends them.
    pub details: Option<Value>,
}

impl ApiError {
    fn new(code: u16, reason: &'static str, message: String, details: Option<Value>) -> Self {
        ApiError {
            code,
            reason,
            message,
            details,
        }
    }

    /// The `Status` JSON body.
    pub fn to_status(&self) -> Value {
        let mut status = json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        });
        if let Some(d) = &self.details {
            status["details"] = d.clone();
        }
        status
    }

    /// 404 for a named object: `pods "x" not found`.
    pub fn not_found(res: &Resource, name: &str) -> Self {
        Self::new(
            404,
            "NotFound",
            format!("{} \"{name}\" not found", res.qualified()),
            Some(details(res, name)),
        )
    }

    /// 404 for a path the server does not serve at all.
    pub fn path_not_found() -> Self {
        Self::new(
            404,
            "NotFound",
            "the server could not find the requested resource".into(),
            Some(json!({})),
        )
    }

    /// 409 AlreadyExists on create.
    pub fn already_exists(res: &Resource, name: &str) -> Self {
        Self::new(
            409,
            "AlreadyExists",
            format!("{} \"{name}\" already exists", res.qualified()),
            Some(details(res, name)),
        )
    }

    /// 409 Conflict on a stale `resourceVersion`.
    pub fn conflict(res: &Resource, name: &str) -> Self {
        Self::new(
            409,
            "Conflict",
            format!(
                "Operation cannot be fulfilled on {} \"{name}\": the object has been modified; please apply your changes to the latest version and try again",
                res.qualified()
            ),
            Some(details(res, name)),
        )
    }

    /// 409 Conflict of a server-side apply against fields owned by other managers.
    pub fn apply_conflict(conflicts: &[(String, String)]) -> Self {
        let n = conflicts.len();
        let mut message = format!(
            "Apply failed with {n} conflict{}:",
            if n == 1 { "" } else { "s" }
        );
        for (manager, field) in conflicts {
            message.push_str(&format!(" conflict with \"{manager}\": {field}"));
        }
        let causes: Vec<Value> = conflicts
            .iter()
            .map(|(m, f)| {
                json!({"reason": "FieldManagerConflict", "message": format!("conflict with \"{m}\""), "field": f})
            })
            .collect();
        Self::new(409, "Conflict", message, Some(json!({ "causes": causes })))
    }

    /// 403 Forbidden as the RBAC authorizer words it.
    pub fn forbidden(
        res: &Resource,
        sub: Option<&str>,
        verb: &str,
        ns: Option<&str>,
        name: Option<&str>,
        user: &str,
    ) -> Self {
        let resource = match sub {
            Some(s) => format!("{}/{s}", res.plural),
            None => res.plural.to_string(),
        };
        let subject = match name {
            Some(n) => format!("{} \"{n}\"", res.qualified()),
            None => res.qualified(),
        };
        let scope = match ns {
            Some(ns) => format!("in the namespace \"{ns}\""),
            None => "at the cluster scope".to_string(),
        };
        Self::new(
            403,
            "Forbidden",
            format!(
                "{subject} is forbidden: User \"{user}\" cannot {verb} resource \"{resource}\" in API group \"{}\" {scope}",
                res.group
            ),
            Some(details(res, name.unwrap_or(""))),
        )
    }

    /// 401 for a missing or wrong bearer token.
    pub fn unauthorized() -> Self {
        Self::new(401, "Unauthorized", "Unauthorized".into(), None)
    }

    /// 400 BadRequest with a free message.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(400, "BadRequest", message.into(), None)
    }

    /// 405 for a verb the resource does not support.
    pub fn method_not_allowed(message: impl Into<String>) -> Self {
        Self::new(405, "MethodNotAllowed", message.into(), Some(json!({})))
    }

    /// 415 for a patch type the resource does not accept.
    pub fn unsupported_media_type(accepted: &[&str]) -> Self {
        Self::new(
            415,
            "UnsupportedMediaType",
            format!(
                "the body of the request was in an unknown format - accepted media types include: {}",
                accepted.join(", ")
            ),
            None,
        )
    }

    /// 422 from a JSON Patch that failed to apply (a failing `test`, a bad path): the real
    /// server answers `NewGenericServerResponse(422, …)`, which drops the patch library's
    /// message and leaves empty details.
    pub fn patch_failed() -> Self {
        Self::new(
            422,
            "Invalid",
            "the server rejected our request due to an error in our request".into(),
            Some(json!({})),
        )
    }

    /// 422 Invalid from field validation: `StatefulSet.apps "x" is invalid: field: Reason: detail`.
    pub fn invalid(res: &Resource, name: &str, causes: &[FieldCause]) -> Self {
        let list: Vec<String> = causes
            .iter()
            .map(|c| format!("{}: {}", c.field, c.message))
            .collect();
        let joined = if list.len() == 1 {
            list[0].clone()
        } else {
            format!("[{}]", list.join(", "))
        };
        let kind_group = if res.group.is_empty() {
            res.kind.to_string()
        } else {
            format!("{}.{}", res.kind, res.group)
        };
        let mut d = json!({"name": name, "kind": res.kind, "causes": causes.iter().map(|c| json!({"reason": c.reason, "message": c.message, "field": c.field})).collect::<Vec<_>>()});
        if !res.group.is_empty() {
            d["group"] = json!(res.group);
        }
        Self::new(
            422,
            "Invalid",
            format!("{kind_group} \"{name}\" is invalid: {joined}"),
            Some(d),
        )
    }
}

/// One field error of a validation failure.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldCause {
    /// Machine reason, e.g. `FieldValueDuplicate`.
    pub reason: &'static str,
    /// Human message, e.g. `Duplicate value: "pd"`.
    pub message: String,
    /// Field path, e.g. `spec.template.spec.containers[1].name`.
    pub field: String,
}

fn details(res: &Resource, name: &str) -> Value {
    let mut d = json!({"name": name, "kind": res.plural});
    if !res.group.is_empty() {
        d["group"] = json!(res.group);
    }
    if name.is_empty() {
        d.as_object_mut().map(|m| m.remove("name"));
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::{PODS, TIDBCLUSTERS};

    #[test]
    fn not_found_matches_real_body() {
        let e = ApiError::not_found(&TIDBCLUSTERS, "x");
        assert_eq!(
            e.to_status(),
            serde_json::from_str::<Value>(r#"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"tidbclusters.pingcap.com \"x\" not found","reason":"NotFound","details":{"name":"x","group":"pingcap.com","kind":"tidbclusters"},"code":404}"#).unwrap()
        );
    }

    #[test]
    fn forbidden_portforward_wording() {
        let e = ApiError::forbidden(
            &PODS,
            Some("portforward"),
            "create",
            Some("default"),
            Some("basic-pd-0"),
            "alice",
        );
        assert_eq!(
            e.message,
            "pods \"basic-pd-0\" is forbidden: User \"alice\" cannot create resource \"pods/portforward\" in API group \"\" in the namespace \"default\""
        );
        assert_eq!(e.code, 403);
    }
}
