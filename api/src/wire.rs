//! The agent's HTTP API: port, paths and JSON bodies.
//!
//! Endpoints: `GET /healthz`, `GET /v1/info`, `GET /v1/netem`, `PUT /v1/netem` (full desired
//! state, replace semantics), `DELETE /v1/netem[?force=true]`, `GET /latency/{duration}`
//! (`0` or `0ms` clears). Errors are [`ApiError`] bodies with status 400 (bad input, nothing
//! changed), 409 (a root qdisc this agent did not make is in the way; add `?force=true`),
//! 503 (the kernel lacks netem, module `sch_netem`) or 500. The rules endpoints are in
//! [`crate::rules`]; `PUT /v1/netem` and `/latency/{d}` set the *default* (all traffic no rule
//! claims) and leave the rules in force; `DELETE /v1/netem` clears everything.

use serde::{Deserialize, Serialize};

use crate::rules::Rule;
use crate::spec::{FieldError, NetemSpec};

/// The port the agent listens on by default (on 127.0.0.1).
pub const DEFAULT_PORT: u16 = 2332;

/// Path of the liveness endpoint.
pub const PATH_HEALTHZ: &str = "/healthz";
/// Path of the info endpoint.
pub const PATH_INFO: &str = "/v1/info";
/// Path of the netem state endpoint (GET, PUT, DELETE).
pub const PATH_NETEM: &str = "/v1/netem";
/// Prefix of the original one-call delay endpoint: `/latency/20ms`.
pub const PATH_LATENCY_PREFIX: &str = "/latency/";

/// What the root qdisc of the agent's interface is, and what netem really does there.
/// Body of `GET/PUT/DELETE /v1/netem` and `GET /latency/{d}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NetemState {
    /// The network interface the agent works on.
    pub interface: String,
    /// Kind of the root qdisc: "netem", "none" (the kernel's default qdisc, nothing
    /// configured), or another kind someone else configured, e.g. "tbf".
    pub root_qdisc: String,
    /// The settings the kernel really has, decoded from its dump; null when the root
    /// qdisc is not netem. `distribution` is only known when this agent set it (the
    /// kernel does not report its table).
    pub netem: Option<NetemSpec>,
    /// True when this agent set the netem qdisc (and will clear it on expiry or exit).
    pub managed: bool,
    /// When the agent will clear it (RFC 3339, UTC), if a ttl was given.
    pub expires_at: Option<String>,
    /// Time left until then, e.g. "12s".
    pub ttl_remaining: Option<String>,
    /// The per-destination rules in force (see [`crate::rules`]), read back from the
    /// kernel; left out when there are none, so the shape is the original one. With rules,
    /// `root_qdisc` is "prio" and `netem` is the default (all other traffic), null for none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<Rule>,
}

/// [`NetemState::root_qdisc`] when nothing is configured (the kernel's default qdisc).
pub const ROOT_QDISC_NONE: &str = "none";

impl NetemState {
    /// True when nothing is configured on the interface: no netem, no other root qdisc.
    pub fn is_clear(&self) -> bool {
        self.netem.is_none() && self.root_qdisc == ROOT_QDISC_NONE
    }
}

/// Body of `GET /v1/info`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Info {
    /// The agent's version (its crate version).
    pub version: String,
    /// The network interface the agent works on.
    pub interface: String,
    /// Whether the kernel can make a netem qdisc (module `sch_netem`).
    pub netem_available: bool,
}

/// Body of every error answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiError {
    /// What went wrong, for people.
    pub error: String,
    /// The JSON field (or path part, e.g. "duration") that is wrong, for 400 answers.
    pub field: Option<String>,
    /// Why that field is wrong.
    pub reason: Option<String>,
}

impl ApiError {
    /// An error that is not about one field.
    pub fn message(error: impl Into<String>) -> Self {
        ApiError {
            error: error.into(),
            field: None,
            reason: None,
        }
    }
}

impl From<FieldError> for ApiError {
    fn from(e: FieldError) -> Self {
        let error = if e.reason == "unknown field" {
            format!("unknown field {:?}", e.field)
        } else {
            format!("invalid {}: {}", e.field, e.reason)
        };
        ApiError {
            error,
            field: Some(e.field),
            reason: Some(e.reason),
        }
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.error)
    }
}

impl std::error::Error for ApiError {}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn state_json_shape() {
        let state = NetemState {
            interface: "eth0".into(),
            root_qdisc: "netem".into(),
            netem: Some(NetemSpec::delay(Duration::from_millis(20))),
            managed: true,
            expires_at: Some("2026-01-02T03:04:05Z".into()),
            ttl_remaining: Some("12s".into()),
            rules: Vec::new(),
        };
        let json = serde_json::to_value(&state).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "interface": "eth0",
                "root_qdisc": "netem",
                "netem": {"delay": "20ms"},
                "managed": true,
                "expires_at": "2026-01-02T03:04:05Z",
                "ttl_remaining": "12s"
            })
        );
        let back: NetemState = serde_json::from_value(json).unwrap();
        assert_eq!(back, state);
        // With rules, they are listed; an answer without the field reads as none.
        let mut with_rules = state.clone();
        with_rules.rules.push(crate::rules::Rule {
            id: "to-b".into(),
            to: crate::rules::Destination {
                cidrs: vec!["10.0.0.2/32".parse().unwrap()],
                ports: vec![],
            },
            netem: NetemSpec::delay(Duration::from_millis(50)),
            about: serde_json::Value::Null,
            expires_at: None,
        });
        let json = serde_json::to_value(&with_rules).unwrap();
        assert_eq!(
            json["rules"],
            serde_json::json!([{"id": "to-b", "to": {"cidrs": ["10.0.0.2/32"]},
                "netem": {"delay": "50ms"}, "about": null, "expires_at": null}])
        );
        assert_eq!(
            serde_json::from_value::<NetemState>(json).unwrap(),
            with_rules
        );
    }

    #[test]
    fn error_from_field_error_names_field() {
        let e = ApiError::from(FieldError::new("loss", "must be between 0 and 100"));
        let json = serde_json::to_value(&e).unwrap();
        assert_eq!(json["field"], "loss");
        assert_eq!(json["reason"], "must be between 0 and 100");
        assert_eq!(json["error"], "invalid loss: must be between 0 and 100");
        let unknown = ApiError::from(FieldError::new("bogus", "unknown field"));
        assert_eq!(unknown.error, "unknown field \"bogus\"");
        let plain = serde_json::to_value(ApiError::message("boom")).unwrap();
        assert_eq!(
            plain,
            serde_json::json!({"error": "boom", "field": null, "reason": null})
        );
    }
}
