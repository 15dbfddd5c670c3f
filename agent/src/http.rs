//! Routing of HTTP requests to agent actions, without I/O: method, path, query and body in,
//! an [`Action`] or an error status with its JSON body out.

use netem_api::spec::{FieldError, NetemSpec, parse_duration};
use netem_api::wire::{
    ApiError, PATH_EXIT, PATH_HEALTHZ, PATH_INFO, PATH_LATENCY_PREFIX, PATH_NETEM,
};

/// What a request asks the agent to do.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// `GET /healthz`.
    Health,
    /// `GET /v1/info`.
    Info,
    /// `GET /v1/netem`.
    Get,
    /// `PUT /v1/netem`, `GET /latency/{d}` with d > 0.
    Set {
        /// The full desired settings (boxed: much larger than the other variants).
        spec: Box<NetemSpec>,
        /// Replace a root qdisc someone else configured.
        force: bool,
    },
    /// `DELETE /v1/netem`, `GET /latency/0`.
    Clear {
        /// Remove a root qdisc someone else configured.
        force: bool,
    },
    /// `POST /v1/exit`: clear what this agent set, answer, and exit.
    Exit,
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
        PATH_EXIT if method != "POST" => Err(method_not_allowed(method, path, "POST")),
        PATH_EXIT => Ok(Action::Exit),
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
            if delay.is_zero() {
                return Ok(Action::Clear { force });
            }
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
        assert_eq!(ok("POST", "/v1/exit", None, ""), Action::Exit);
        assert_eq!(refused("GET", "/v1/exit", None, "").0, 405);
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
        assert_eq!(
            ok("GET", "/latency/0", None, ""),
            Action::Clear { force: false }
        );
        assert_eq!(
            ok("GET", "/latency/0ms", None, ""),
            Action::Clear { force: false }
        );
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
    fn unknown_paths_and_methods() {
        assert_eq!(refused("GET", "/nope", None, ""), (404, None));
        assert_eq!(refused("POST", "/v1/netem", None, ""), (405, None));
        assert_eq!(refused("PUT", "/latency/20ms", None, ""), (405, None));
        assert_eq!(refused("DELETE", "/healthz", None, ""), (405, None));
    }
}
