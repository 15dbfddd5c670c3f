//! Routing of HTTP requests to agent actions, without I/O: method, path, query and body in,
//! an [`Action`] or an error status with its JSON body out.

use netem_api::rules::{Destination, PATH_RULES, RuleSpec, valid_rule_id};
use netem_api::spec::{FieldError, NetemSpec, parse_duration};
use netem_api::wire::{ApiError, PATH_HEALTHZ, PATH_INFO, PATH_LATENCY_PREFIX, PATH_NETEM};

/// What a request asks the agent to do.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// `GET /healthz`.
    Health,
    /// `GET /v1/info`.
    Info,
    /// `GET /v1/netem`.
    Get,
    /// `PUT /v1/netem`, `GET /latency/{d}`: set the default (no impairment clears it).
    Set {
        /// The full desired settings (boxed: much larger than the other variants).
        spec: Box<NetemSpec>,
        /// Replace a root qdisc someone else configured.
        force: bool,
    },
    /// `DELETE /v1/netem`: clear everything (the default and every rule).
    Clear {
        /// Remove a root qdisc someone else configured.
        force: bool,
    },
    /// `GET /v1/rules`.
    GetRules,
    /// `PUT /v1/rules/{id}`.
    PutRule {
        /// The rule's id (valid).
        id: String,
        /// The rule (validated; boxed as `Set`'s spec).
        spec: Box<RuleSpec>,
        /// Replace a root qdisc someone else configured.
        force: bool,
    },
    /// `DELETE /v1/rules/{id}`.
    DeleteRule {
        /// The rule's id (valid).
        id: String,
        /// Go ahead even if a root qdisc someone else configured is there.
        force: bool,
    },
    /// `DELETE /v1/rules`.
    DeleteRules {
        /// Go ahead even if a root qdisc someone else configured is there.
        force: bool,
    },
}

/// A refused request: status code and body.
pub type Refusal = (u16, ApiError);

fn bad(field: &str, reason: impl Into<String>) -> Refusal {
    (400, ApiError::from(FieldError::new(field, reason)))
}

/// Reads `force` from the query: absent/false/0 = no; present/true/1 = yes.
fn force(query: Option<&str>) -> Result<bool, Refusal> {
    let mut force = false;
    for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        if key != "force" {
            continue;
        }
        force = match value {
            "" | "true" | "1" => true,
            "false" | "0" => false,
            other => {
                return Err(bad(
                    "force",
                    format!("expected true or false, not {other:?}"),
                ));
            }
        };
    }
    Ok(force)
}

/// Decodes %XX escapes in a path segment (e.g. "250%C2%B5s" for "250µs").
fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            // Exactly two hex digits (from_str_radix alone would also take a sign: "%+1").
            let hex = bytes.get(i + 1..i + 3)?;
            if !hex.iter().all(u8::is_ascii_hexdigit) {
                return None;
            }
            out.push(u8::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

fn method_not_allowed(method: &str, path: &str, allowed: &str) -> Refusal {
    (
        405,
        ApiError::message(format!("{method} is not allowed on {path} (use {allowed})")),
    )
}

/// Parses a `PUT /v1/rules/{id}` body, naming the field in any error (`to`, `to.ports`,
/// `netem.loss`, …), then validates it.
pub fn rule_from_json(body: &[u8]) -> Result<RuleSpec, FieldError> {
    let value: serde_json::Value = serde_json::from_slice(body)
        .map_err(|e| FieldError::new("body", format!("not valid JSON: {e}")))?;
    let serde_json::Value::Object(map) = value else {
        return Err(FieldError::new("body", "must be a JSON object"));
    };
    let mut rule = RuleSpec::default();
    for (key, item) in map {
        match key.as_str() {
            "to" => {
                rule.to = serde_json::from_value::<Destination>(item)
                    .map_err(|e| FieldError::new("to", e.to_string()))?;
            }
            "netem" => {
                let bytes = serde_json::to_vec(&item).unwrap_or_default();
                rule.netem = NetemSpec::from_json(&bytes).map_err(|e| FieldError {
                    field: format!("netem.{}", e.field),
                    ..e
                })?;
            }
            "about" => rule.about = item,
            _ => return Err(FieldError::new(key, "unknown field")),
        }
    }
    rule.validate()?;
    Ok(rule)
}

fn rule_id(raw: &str) -> Result<String, Refusal> {
    if valid_rule_id(raw) {
        Ok(raw.to_string())
    } else {
        Err(bad(
            "id",
            "a rule id is 1 to 63 of a-z, 0-9, '-' and '.', starting and ending with a letter \
             or digit",
        ))
    }
}

fn route_rules(
    method: &str,
    path: &str,
    query: Option<&str>,
    body: &[u8],
) -> Result<Action, Refusal> {
    let rest = &path[PATH_RULES.len()..];
    if rest.is_empty() {
        return match method {
            "GET" => Ok(Action::GetRules),
            "DELETE" => Ok(Action::DeleteRules {
                force: force(query)?,
            }),
            _ => Err(method_not_allowed(method, path, "GET or DELETE")),
        };
    }
    let raw = rest.strip_prefix('/').unwrap_or(rest);
    match method {
        "PUT" => {
            let id = rule_id(raw)?;
            let force = force(query)?;
            let spec = rule_from_json(body).map_err(|e| (400, ApiError::from(e)))?;
            Ok(Action::PutRule {
                id,
                spec: Box::new(spec),
                force,
            })
        }
        "DELETE" => Ok(Action::DeleteRule {
            id: rule_id(raw)?,
            force: force(query)?,
        }),
        _ => Err(method_not_allowed(method, path, "PUT or DELETE")),
    }
}

/// Routes a request.
pub fn route(
    method: &str,
    path: &str,
    query: Option<&str>,
    body: &[u8],
) -> Result<Action, Refusal> {
    match path {
        PATH_HEALTHZ | PATH_INFO if method != "GET" => Err(method_not_allowed(method, path, "GET")),
        PATH_HEALTHZ => Ok(Action::Health),
        PATH_INFO => Ok(Action::Info),
        PATH_NETEM => match method {
            "GET" => Ok(Action::Get),
            "PUT" => {
                let force = force(query)?;
                let spec = NetemSpec::from_json(body).map_err(|e| (400, ApiError::from(e)))?;
                Ok(Action::Set {
                    spec: Box::new(spec),
                    force,
                })
            }
            "DELETE" => Ok(Action::Clear {
                force: force(query)?,
            }),
            _ => Err(method_not_allowed(method, path, "GET, PUT or DELETE")),
        },
        _ if path == PATH_RULES || path.starts_with("/v1/rules/") => {
            route_rules(method, path, query, body)
        }
        _ => {
            let Some(raw) = path.strip_prefix(PATH_LATENCY_PREFIX) else {
                return Err((404, ApiError::message(format!("no such endpoint: {path}"))));
            };
            if method != "GET" {
                return Err(method_not_allowed(method, path, "GET"));
            }
            let force = force(query)?;
            let text = percent_decode(raw).ok_or_else(|| bad("duration", "bad %-escape"))?;
            let delay = parse_duration(&text)
                .map_err(|e| bad("duration", format!("{:?}: {}", e.input, e.reason)))?;
            // 0 clears the default (and, with no rules, the root qdisc, as before).
            let spec = NetemSpec::delay(delay);
            spec.validate().map_err(|e| bad("duration", e.reason))?;
            Ok(Action::Set {
                spec: Box::new(spec),
                force,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn ok(method: &str, path: &str, query: Option<&str>, body: &str) -> Action {
        route(method, path, query, body.as_bytes()).unwrap()
    }

    fn refused(method: &str, path: &str, query: Option<&str>, body: &str) -> (u16, Option<String>) {
        let (status, e) = route(method, path, query, body.as_bytes()).unwrap_err();
        assert!(!e.error.is_empty());
        (status, e.field)
    }

    #[test]
    fn routes_every_endpoint() {
        assert_eq!(ok("GET", "/healthz", None, ""), Action::Health);
        assert_eq!(ok("GET", "/v1/info", None, ""), Action::Info);
        assert_eq!(ok("GET", "/v1/netem", None, ""), Action::Get);
        assert_eq!(
            ok("PUT", "/v1/netem", None, r#"{"delay":"20ms"}"#),
            Action::Set {
                spec: Box::new(NetemSpec::delay(Duration::from_millis(20))),
                force: false
            }
        );
        assert_eq!(
            ok("DELETE", "/v1/netem", None, ""),
            Action::Clear { force: false }
        );
        assert_eq!(
            ok("DELETE", "/v1/netem", Some("force=true"), ""),
            Action::Clear { force: true }
        );
        assert_eq!(
            ok("PUT", "/v1/netem", Some("x=1&force"), "{}"),
            Action::Set {
                spec: Box::default(),
                force: true
            }
        );
    }

    #[test]
    fn latency_call_sets_or_clears() {
        assert_eq!(
            ok("GET", "/latency/20ms", None, ""),
            Action::Set {
                spec: Box::new(NetemSpec::delay(Duration::from_millis(20))),
                force: false
            }
        );
        assert_eq!(
            ok("GET", "/latency/250%C2%B5s", None, ""),
            Action::Set {
                spec: Box::new(NetemSpec::delay(Duration::from_micros(250))),
                force: false
            }
        );
        let clear_default = Action::Set {
            spec: Box::new(NetemSpec::delay(Duration::ZERO)),
            force: false,
        };
        assert_eq!(ok("GET", "/latency/0", None, ""), clear_default);
        assert_eq!(ok("GET", "/latency/0ms", None, ""), clear_default);
    }

    #[test]
    fn bad_requests_are_refused_with_a_field() {
        assert_eq!(
            refused("GET", "/latency/fast", None, ""),
            (400, Some("duration".into()))
        );
        assert_eq!(
            refused("GET", "/latency/20", None, ""),
            (400, Some("duration".into()))
        );
        assert_eq!(
            refused("GET", "/latency/", None, ""),
            (400, Some("duration".into()))
        );
        assert_eq!(
            refused("GET", "/latency/3h", None, ""),
            (400, Some("duration".into()))
        );
        assert_eq!(
            refused("GET", "/latency/%zz", None, ""),
            (400, Some("duration".into()))
        );
        assert_eq!(
            refused("GET", "/latency/%+1ms", None, ""),
            (400, Some("duration".into()))
        );
        assert_eq!(
            refused("GET", "/latency/0.1ns", None, ""),
            (400, Some("duration".into()))
        );
        assert_eq!(
            refused("PUT", "/v1/netem", None, r#"{"loss":"150%"}"#),
            (400, Some("loss".into()))
        );
        assert_eq!(
            refused("PUT", "/v1/netem", None, "not json"),
            (400, Some("body".into()))
        );
        assert_eq!(
            refused("DELETE", "/v1/netem", Some("force=maybe"), ""),
            (400, Some("force".into()))
        );
    }

    #[test]
    fn rules_routes() {
        assert_eq!(ok("GET", "/v1/rules", None, ""), Action::GetRules);
        assert_eq!(
            ok("DELETE", "/v1/rules", Some("force"), ""),
            Action::DeleteRules { force: true }
        );
        assert_eq!(
            ok("DELETE", "/v1/rules/to-pod.b-0", None, ""),
            Action::DeleteRule {
                id: "to-pod.b-0".into(),
                force: false
            }
        );
        let body = r#"{"to":{"cidrs":["10.0.0.7/32"],"ports":[20160]},"netem":{"delay":"20ms"},"about":{"p":1}}"#;
        let Action::PutRule { id, spec, force } = ok("PUT", "/v1/rules/b", None, body) else {
            panic!("not a PutRule")
        };
        assert_eq!((id.as_str(), force), ("b", false));
        assert_eq!(spec.to.ports, vec![20160]);
        assert_eq!(spec.about, serde_json::json!({"p": 1}));
        let put = |path: &str, body: &str| refused("PUT", path, None, body);
        let good = r#"{"to":{"cidrs":["10.0.0.7/32"]},"netem":{"delay":"20ms"}}"#;
        assert_eq!(put("/v1/rules/B", good), (400, Some("id".into())));
        assert_eq!(put("/v1/rules/", good), (400, Some("id".into())));
        assert_eq!(put("/v1/rules/a/b", good), (400, Some("id".into())));
        assert_eq!(
            put(
                "/v1/rules/b",
                r#"{"to":{"cidrs":["10.0.0.7/16"]},"netem":{"delay":"20ms"}}"#
            ),
            (400, Some("to".into()))
        );
        assert_eq!(
            put(
                "/v1/rules/b",
                r#"{"to":{"cidrs":["10.0.0.7/32"]},"netem":{"loss":"150%"}}"#
            ),
            (400, Some("netem.loss".into()))
        );
        assert_eq!(
            put(
                "/v1/rules/b",
                r#"{"to":{"cidrs":["10.0.0.7/32"]},"netem":{}}"#
            ),
            (400, Some("netem".into()))
        );
        assert_eq!(
            put("/v1/rules/b", r#"{"to":{},"netem":{"delay":"1ms"}}"#),
            (400, Some("to".into()))
        );
        assert_eq!(
            put("/v1/rules/b", r#"{"netem":{"delay":"1ms"}}"#),
            (400, Some("to".into()))
        );
        assert_eq!(put("/v1/rules/b", r#"{"x":1}"#), (400, Some("x".into())));
        assert_eq!(put("/v1/rules/b", "[]"), (400, Some("body".into())));
        assert_eq!(refused("POST", "/v1/rules", None, ""), (405, None));
        assert_eq!(refused("GET", "/v1/rules/b", None, ""), (405, None));
        assert_eq!(refused("GET", "/v1/rulesx", None, ""), (404, None));
    }

    #[test]
    fn unknown_paths_and_methods() {
        assert_eq!(refused("GET", "/nope", None, ""), (404, None));
        assert_eq!(refused("POST", "/v1/netem", None, ""), (405, None));
        assert_eq!(refused("PUT", "/latency/20ms", None, ""), (405, None));
        assert_eq!(refused("DELETE", "/healthz", None, ""), (405, None));
    }
}
