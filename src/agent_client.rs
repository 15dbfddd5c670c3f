//! Talking to one pod's agent: the API server's port-forward to 127.0.0.1:2332 inside the
//! pod, then one HTTP/1.1 exchange straight over the forwarded stream. Nothing listens on
//! the user's machine.
//!
//! Building the request and reading the answer are pure functions ([`AgentCall::request`],
//! [`decode_state`]); [`exchange`] is the I/O.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full, Limited};
use hyper::{Method, Request, StatusCode, header};
use hyper_util::rt::TokioIo;
use k8s_openapi::api::core::v1::Pod;
use kube::api::Api;
use netem_api::rules::{PATH_RULES, RuleSpec};
use netem_api::spec::NetemSpec;
use netem_api::wire::{ApiError, DEFAULT_PORT, NetemState, PATH_EXIT, PATH_NETEM};

use crate::errors;
use crate::pod_error::{Cause, PodError};
use crate::pods::PodInfo;

/// One call of the agent's API.
#[derive(Debug, Clone, PartialEq)]
pub enum AgentCall {
    /// `GET /v1/netem`: what is in force.
    Get,
    /// `PUT /v1/netem`: replace the settings with these.
    Set(Box<NetemSpec>),
    /// `DELETE /v1/netem[?force=true]`: remove netem (and with force any root qdisc).
    Clear {
        /// Also remove a root qdisc the agent did not make.
        force: bool,
    },
    /// `POST /v1/exit`: clear what the agent set and exit (`eject --ephemeral`).
    Exit,
    /// `PUT /v1/rules/{id}`: set (or replace) one rule; the others stay.
    SetRule {
        /// The rule's id.
        id: String,
        /// The rule.
        rule: Box<RuleSpec>,
    },
    /// `DELETE /v1/rules/{id}`: remove one rule; the others and the default stay.
    ClearRule {
        /// The rule's id.
        id: String,
    },
}

impl AgentCall {
    /// The HTTP request for this call, ready to write to the forwarded stream.
    pub fn request(&self) -> Request<Full<Bytes>> {
        let (method, uri, body) = match self {
            AgentCall::Get => (Method::GET, PATH_NETEM.to_string(), None),
            AgentCall::Set(spec) => (
                Method::PUT,
                PATH_NETEM.to_string(),
                Some(serde_json::to_vec(spec).expect("a NetemSpec always serializes")),
            ),
            AgentCall::Clear { force: false } => (Method::DELETE, PATH_NETEM.to_string(), None),
            AgentCall::Clear { force: true } => {
                (Method::DELETE, format!("{PATH_NETEM}?force=true"), None)
            }
            AgentCall::Exit => (Method::POST, PATH_EXIT.to_string(), None),
            AgentCall::SetRule { id, rule } => (
                Method::PUT,
                format!("{PATH_RULES}/{id}"),
                Some(serde_json::to_vec(rule).expect("a RuleSpec always serializes")),
            ),
            AgentCall::ClearRule { id } => (Method::DELETE, format!("{PATH_RULES}/{id}"), None),
        };
        let builder = Request::builder()
            .method(method)
            .uri(uri)
            // HTTP/1.1 wants a Host; the agent listens on loopback inside the pod.
            .header(header::HOST, format!("127.0.0.1:{DEFAULT_PORT}"))
            .header(header::ACCEPT, "application/json")
            // One exchange per forward: let the agent close its side when done.
            .header(header::CONNECTION, "close");
        match body {
            Some(body) => builder
                .header(header::CONTENT_TYPE, "application/json")
                .body(Full::new(Bytes::from(body))),
            None => builder.body(Full::new(Bytes::new())),
        }
        .expect("static request parts are valid")
    }
}

/// Reads the agent's answer: a [`NetemState`] on 200, else a [`PodError`] naming why.
pub fn decode_state(
    pod: &PodInfo,
    status: StatusCode,
    body: &[u8],
) -> Result<NetemState, PodError> {
    if status == StatusCode::OK {
        return serde_json::from_slice(body).map_err(|e| {
            PodError::new(
                Cause::AgentError,
                format!("the agent's answer is not a netem state: {e}"),
            )
            .hint("the agent image may not match this plugin's version; compare `kubectl netem --version` with the image")
        });
    }
    // Every agent error has an ApiError body; anything else (a proxy's page) is shown raw,
    // both on one line and bounded.
    let message = match serde_json::from_slice::<ApiError>(body) {
        Ok(e) => one_line(&e.error),
        Err(_) => {
            let text = one_line(&String::from_utf8_lossy(body));
            if text.is_empty() {
                format!("HTTP {status}")
            } else {
                format!("HTTP {status}: {text}")
            }
        }
    };
    let err = match status.as_u16() {
        503 => PodError::new(Cause::NoNetem, message).hint(format!(
            "node {} lacks the sch_netem kernel module: `modprobe sch_netem` there, or use nodes whose kernel has it",
            pod.node.as_deref().unwrap_or("(unknown)")
        )),
        409 => PodError::new(Cause::ForeignQdisc, message)
            .hint("another root qdisc is set on the pod's interface; `kubectl netem clear --force` replaces it"),
        400 => PodError::new(Cause::Rejected, message)
            .hint("the agent refused the settings; its version may differ from this plugin's"),
        422 => PodError::new(Cause::Rejected, message).hint(format!(
            "a pod holds at most {} rules: `kubectl netem status {}` lists them, `kubectl netem clear {} --to DEST` removes one",
            netem_api::rules::MAX_RULES,
            pod.name,
            pod.name
        )),
        _ => PodError::new(Cause::AgentError, message).hint(pod.logs_hint()),
    };
    Err(err)
}

/// What an agent answered to a rule call.
#[derive(Debug, Clone, PartialEq)]
pub enum RuleAnswer {
    /// The state after the change, rules included.
    State(Box<NetemState>),
    /// Done, without a state in the answer.
    Done,
    /// `DELETE /v1/rules/{id}`: the agent has no rule of that id (nothing to remove).
    Absent,
}

/// Reads the agent's answer to [`AgentCall::SetRule`] or [`AgentCall::ClearRule`]; other
/// failures as [`decode_state`] reads them.
pub fn decode_rule(
    pod: &PodInfo,
    call: &AgentCall,
    status: StatusCode,
    body: &[u8],
) -> Result<RuleAnswer, PodError> {
    match status {
        StatusCode::OK if !body.is_empty() => decode_state(pod, status, body).map(|s| RuleAnswer::State(Box::new(s))),
        s if s.is_success() => Ok(RuleAnswer::Done),
        StatusCode::NOT_FOUND if matches!(call, AgentCall::ClearRule { .. }) => Ok(RuleAnswer::Absent),
        // An agent older than rules does not know the path.
        StatusCode::NOT_FOUND => Err(PodError::new(
            Cause::Rejected,
            format!("the agent does not know {PATH_RULES} (HTTP 404)"),
        )
        .hint("this agent is older than per-destination rules: inject the agent image of this plugin's version (`kubectl netem inject ... --image ...`)")),
        // Rules need more of the kernel than netem; the agent's message names what is missing.
        StatusCode::SERVICE_UNAVAILABLE => Err(decode_state(pod, status, body)
            .err()
            .unwrap_or_else(|| PodError::new(Cause::NoNetem, "HTTP 503"))
            .hint(format!(
                "node {} lacks a kernel module rules need (sch_netem, sch_prio, cls_flower; the message names it): `modprobe` it there",
                pod.node.as_deref().unwrap_or("(unknown)")
            ))),
        _ => decode_state(pod, status, body).map(|s| RuleAnswer::State(Box::new(s))),
    }
}

/// Text from the far end as one bounded line: whitespace runs become one space, other
/// control characters are escaped, at most 200 characters are kept.
fn one_line(s: &str) -> String {
    let words = s.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut escaped = String::with_capacity(words.len());
    for c in words.chars() {
        if c.is_control() {
            escaped.extend(c.escape_unicode());
        } else {
            escaped.push(c);
        }
    }
    truncate(&escaped, 200).to_string()
}

fn truncate(s: &str, max: usize) -> &str {
    match s.char_indices().nth(max) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

/// Classifies a failure to open the port-forward (the API server's answer to the upgrade).
pub fn classify_forward_error(pod: &PodInfo, err: &kube::Error) -> PodError {
    match err {
        kube::Error::Api(status) if errors::is_forbidden(status) => {
            PodError::new(Cause::Forbidden, status.message.clone()).hint(format!(
                "your RBAC role needs `create` on `pods/portforward` in namespace {} (check: kubectl auth can-i create pods/portforward -n {})",
                pod.namespace, pod.namespace
            ))
        }
        kube::Error::Api(status) if errors::is_not_found(status) => {
            PodError::new(Cause::NotRunning, status.message.clone())
                .hint("the pod is gone; list the pods again")
        }
        kube::Error::Api(status)
            if status.message.contains("not running") || status.message.contains("pending") =>
        {
            PodError::new(Cause::NotRunning, status.message.clone())
                .hint("wait until the pod runs (kubectl get pod)")
        }
        kube::Error::Api(status) => PodError::new(
            Cause::ApiError,
            format!("{} ({})", status.message, status.code),
        ),
        kube::Error::UpgradeConnection(e) => PodError::new(
            Cause::ApiError,
            format!("the API server did not open the port-forward: {e}"),
        )
        .hint("a proxy between you and the API server may block WebSocket upgrades"),
        other => PodError::new(
            Cause::ApiError,
            format!("port-forward: {}", crate::errors::describe_kube(other)),
        ),
    }
}

/// A message on the port-forward's error channel: the kubelet/runtime could not reach
/// the port in the pod (nothing listens, the container is not running).
pub fn classify_channel_error(pod: &PodInfo, message: &str) -> PodError {
    let mut hint = format!(
        "is the {} container running and ready? see `{}`",
        crate::pods::AGENT_CONTAINER,
        pod.logs_hint()
    );
    if let Some(trouble) = &pod.agent_trouble {
        hint = format!(
            "the agent container is {trouble}; see `{}`",
            pod.logs_hint()
        );
    }
    PodError::new(Cause::AgentNotAnswering, message.trim().to_string()).hint(hint)
}

/// The most of an agent's answer the plugin reads: the agent's answers are a few hundred
/// bytes, so anything near this is not the agent, and is never held in memory whole.
pub const MAX_ANSWER: usize = 1024 * 1024;

/// How long to wait for the error channel's explanation once the HTTP exchange broke:
/// the runtime's "connection refused" usually arrives just after the stream closes.
const ERROR_GRACE: Duration = Duration::from_millis(500);

/// Opens a port-forward to the pod's agent and runs `call` over it, returning the HTTP
/// status and body. One kube client (and its connection pool) serves every pod.
pub async fn exchange(
    client: &kube::Client,
    pod: &PodInfo,
    call: &AgentCall,
) -> Result<(StatusCode, Bytes), PodError> {
    let api: Api<Pod> = Api::namespaced(client.clone(), &pod.namespace);
    let mut forward = api
        .portforward(&pod.name, &[DEFAULT_PORT])
        .await
        .map_err(|e| classify_forward_error(pod, &e))?;
    let stream = forward
        .take_stream(DEFAULT_PORT)
        .expect("the port asked for has a stream");
    let error_channel = forward
        .take_error(DEFAULT_PORT)
        .expect("the port asked for has an error channel");
    tokio::pin!(error_channel);

    let http = http_exchange(stream, call.request());
    tokio::pin!(http);
    let mut channel_done = false;
    let result = tokio::select! {
        r = &mut http => r,
        msg = &mut error_channel => {
            channel_done = true;
            match msg {
                Some(msg) => return Err(classify_channel_error(pod, &msg)),
                // The channel closed without a message: let the exchange finish.
                None => http.await,
            }
        }
    };
    let outcome = match result {
        Ok(answer) => Ok(answer),
        Err(ExchangeError::TooLarge) => Err(answer_too_large(pod)),
        Err(ExchangeError::Http(e)) if !channel_done => {
            match tokio::time::timeout(ERROR_GRACE, &mut error_channel).await {
                Ok(Some(msg)) => Err(classify_channel_error(pod, &msg)),
                _ => Err(broken_exchange(pod, &e)),
            }
        }
        Err(ExchangeError::Http(e)) => Err(broken_exchange(pod, &e)),
    };
    // The exchange is over: let the forwarder close the WebSocket in the background
    // rather than waiting for the server's close frame.
    tokio::spawn(async move {
        let _ = tokio::time::timeout(Duration::from_secs(5), forward.join()).await;
    });
    outcome
}

fn broken_exchange(pod: &PodInfo, e: &hyper::Error) -> PodError {
    classify_channel_error(
        pod,
        &format!("no HTTP answer through the port-forward: {e}"),
    )
}

/// The per-pod error for an answer over [`MAX_ANSWER`].
fn answer_too_large(pod: &PodInfo) -> PodError {
    PodError::new(
        Cause::AgentError,
        format!(
            "the answer is larger than {} KiB, the most this plugin reads from an agent; stopped reading",
            MAX_ANSWER / 1024
        ),
    )
    .hint(format!(
        "something other than the agent answers on port {DEFAULT_PORT}; see `{}`",
        pod.logs_hint()
    ))
}

/// Why one HTTP exchange over the forwarded stream failed.
#[derive(Debug)]
enum ExchangeError {
    /// The HTTP exchange itself broke.
    Http(hyper::Error),
    /// The answer's body is longer than [`MAX_ANSWER`] (reading stopped there).
    TooLarge,
}

impl From<hyper::Error> for ExchangeError {
    fn from(e: hyper::Error) -> Self {
        ExchangeError::Http(e)
    }
}

/// One HTTP/1.1 request over an already open byte stream; at most [`MAX_ANSWER`] bytes of
/// the answer's body are read.
async fn http_exchange<S>(
    stream: S,
    request: Request<Full<Bytes>>,
) -> Result<(StatusCode, Bytes), ExchangeError>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    let driver = tokio::spawn(connection);
    let response = sender.send_request(request).await;
    let result = match response {
        Err(e) => Err(ExchangeError::Http(e)),
        Ok(response) => {
            let status = response.status();
            match Limited::new(response.into_body(), MAX_ANSWER)
                .collect()
                .await
            {
                Ok(body) => Ok((status, body.to_bytes())),
                Err(e) => match e.downcast::<hyper::Error>() {
                    Ok(e) => Err(ExchangeError::Http(*e)),
                    // Limited's only other error is its LengthLimitError.
                    Err(_) => Err(ExchangeError::TooLarge),
                },
            }
        }
    };
    drop(sender);
    // Stops reading whatever is left of an oversized answer.
    driver.abort();
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use netem_api::spec::parse_percent;

    fn pod() -> PodInfo {
        PodInfo {
            namespace: "default".into(),
            name: "basic-pd-0".into(),
            component: Some("pd".into()),
            tidb_cluster: None,
            node: Some("node-1".into()),
            ip: None,
            agent_image: Some("agent".into()),
            agent_exposed: false,
            agent_kind: Some(crate::pods::AgentKind::Sidecar),
            agent_container: "netem-agent".into(),
            not_running: None,
            agent_trouble: None,
        }
    }

    #[test]
    fn set_request_carries_the_full_spec() {
        let spec = NetemSpec {
            delay: Some(Duration::from_millis(20)),
            loss: Some(parse_percent("1").unwrap()),
            ttl: Some(Duration::from_secs(600)),
            ..NetemSpec::default()
        };
        let req = AgentCall::Set(Box::new(spec)).request();
        assert_eq!(req.method(), Method::PUT);
        assert_eq!(req.uri(), "/v1/netem");
        assert_eq!(req.headers()[header::HOST], "127.0.0.1:2332");
        assert_eq!(req.headers()[header::CONTENT_TYPE], "application/json");
        let body = futures::executor::block_on(req.into_body().collect())
            .unwrap()
            .to_bytes();
        let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"delay": "20ms", "loss": "1%", "ttl": "10m"})
        );
    }

    #[test]
    fn rule_requests_and_answers() {
        let rule = RuleSpec {
            to: netem_api::rules::Destination {
                cidrs: vec!["10.0.0.7/32".parse().unwrap()],
                ports: vec![],
            },
            netem: NetemSpec::delay(Duration::from_millis(20)),
            about: serde_json::Value::Null,
        };
        let set = AgentCall::SetRule {
            id: "to.pod.basic-tikv-0".into(),
            rule: Box::new(rule),
        };
        let req = set.request();
        assert_eq!(req.method(), Method::PUT);
        assert_eq!(req.uri(), "/v1/rules/to.pod.basic-tikv-0");
        let body = futures::executor::block_on(req.into_body().collect())
            .unwrap()
            .to_bytes();
        let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"to": {"cidrs": ["10.0.0.7/32"]}, "netem": {"delay": "20ms"}})
        );
        let clear = AgentCall::ClearRule {
            id: "to.pod.basic-tikv-0".into(),
        };
        assert_eq!(clear.request().method(), Method::DELETE);
        assert_eq!(clear.request().uri(), "/v1/rules/to.pod.basic-tikv-0");

        let state = br#"{"interface":"eth0","root_qdisc":"prio","netem":null,"managed":true,
            "expires_at":null,"ttl_remaining":null,"rules":[{"id":"to.pod.basic-tikv-0",
            "to":{"cidrs":["10.0.0.7/32"]},"netem":{"delay":"20ms"},"about":null}]}"#;
        let Ok(RuleAnswer::State(s)) = decode_rule(&pod(), &set, StatusCode::OK, state) else {
            panic!("not a state")
        };
        assert_eq!(s.rules[0].id, "to.pod.basic-tikv-0");
        assert_eq!(
            decode_rule(&pod(), &clear, StatusCode::NO_CONTENT, b""),
            Ok(RuleAnswer::Done)
        );
        let missing = br#"{"error":"no rule to.pod.basic-tikv-0","field":null,"reason":null}"#;
        assert_eq!(
            decode_rule(&pod(), &clear, StatusCode::NOT_FOUND, missing),
            Ok(RuleAnswer::Absent)
        );
        let old = decode_rule(&pod(), &set, StatusCode::NOT_FOUND, b"not found").unwrap_err();
        assert_eq!(old.cause, Cause::Rejected);
        assert!(old.hint.unwrap().contains("older"));
        let e = decode_rule(
            &pod(),
            &set,
            StatusCode::SERVICE_UNAVAILABLE,
            br#"{"error":"the kernel has no prio qdisc (module sch_prio)"}"#,
        )
        .unwrap_err();
        assert_eq!(e.cause, Cause::NoNetem);
        assert!(e.message.contains("sch_prio"));
        assert!(e.hint.unwrap().contains("sch_prio, cls_flower"));
    }

    #[test]
    fn clear_and_get_requests() {
        let plain = AgentCall::Clear { force: false }.request();
        assert_eq!(plain.method(), Method::DELETE);
        assert_eq!(plain.uri(), "/v1/netem");
        assert_eq!(
            AgentCall::Clear { force: true }.request().uri(),
            "/v1/netem?force=true"
        );
        let get = AgentCall::Get.request();
        assert_eq!(get.method(), Method::GET);
        assert!(get.headers().get(header::CONTENT_TYPE).is_none());
    }

    #[test]
    fn decodes_state() {
        let body = br#"{"interface":"eth0","root_qdisc":"netem","netem":{"delay":"20ms"},
            "managed":true,"expires_at":null,"ttl_remaining":null}"#;
        let state = decode_state(&pod(), StatusCode::OK, body).unwrap();
        assert_eq!(state.interface, "eth0");
        assert_eq!(state.netem.unwrap().delay, Some(Duration::from_millis(20)));
    }

    #[test]
    fn agent_errors_become_causes_with_hints() {
        let body = br#"{"error":"the kernel has no netem qdisc (module sch_netem)","field":null,"reason":null}"#;
        let e = decode_state(&pod(), StatusCode::SERVICE_UNAVAILABLE, body).unwrap_err();
        assert_eq!(e.cause, Cause::NoNetem);
        assert!(e.message.contains("sch_netem"));
        assert!(e.hint.unwrap().contains("node-1"));

        let e = decode_state(
            &pod(),
            StatusCode::CONFLICT,
            br#"{"error":"root qdisc tbf"}"#,
        )
        .unwrap_err();
        assert_eq!(e.cause, Cause::ForeignQdisc);
        assert!(e.hint.unwrap().contains("--force"));

        let e = decode_state(
            &pod(),
            StatusCode::BAD_REQUEST,
            br#"{"error":"invalid loss"}"#,
        )
        .unwrap_err();
        assert_eq!(e.cause, Cause::Rejected);

        let e = decode_state(
            &pod(),
            StatusCode::UNPROCESSABLE_ENTITY,
            br#"{"error":"at most 14 rules"}"#,
        )
        .unwrap_err();
        assert_eq!(e.cause, Cause::Rejected);
        assert!(e.hint.unwrap().contains("at most 14 rules"));

        let e = decode_state(&pod(), StatusCode::BAD_GATEWAY, b"<html>proxy</html>").unwrap_err();
        assert_eq!(e.cause, Cause::AgentError);
        assert_eq!(e.message, "HTTP 502 Bad Gateway: <html>proxy</html>");
        // A page on several lines, or with control characters, becomes one line.
        let e = decode_state(
            &pod(),
            StatusCode::BAD_GATEWAY,
            b"<html>\r\n  bad\x0e gateway\n</html>",
        )
        .unwrap_err();
        assert_eq!(
            e.message,
            "HTTP 502 Bad Gateway: <html> bad\\u{e} gateway </html>"
        );

        let e = decode_state(&pod(), StatusCode::OK, b"not json").unwrap_err();
        assert_eq!(e.cause, Cause::AgentError);
    }

    #[test]
    fn forward_errors_are_classified() {
        let status = |code: u16, message: &str| {
            kube::Error::Api(Box::new(
                serde_json::from_value(serde_json::json!({"code": code, "message": message}))
                    .unwrap(),
            ))
        };
        let e = classify_forward_error(&pod(), &status(403, "pods \"basic-pd-0\" is forbidden"));
        assert_eq!(e.cause, Cause::Forbidden);
        assert!(e.hint.unwrap().contains("pods/portforward"));
        let e = classify_forward_error(&pod(), &status(400, "pod basic-pd-0 is not running"));
        assert_eq!(e.cause, Cause::NotRunning);
        let e = classify_forward_error(&pod(), &status(500, "boom"));
        assert_eq!(e.cause, Cause::ApiError);
        assert_eq!(e.message, "boom (500)");
    }

    #[test]
    fn channel_errors_mention_the_agent_container() {
        let mut p = pod();
        let e = classify_channel_error(
            &p,
            "dial tcp4 127.0.0.1:2332: connect: connection refused\n",
        );
        assert_eq!(e.cause, Cause::AgentNotAnswering);
        assert!(e.message.ends_with("connection refused"));
        assert!(e.hint.unwrap().contains("-c netem-agent"));
        p.agent_trouble = Some("waiting: CrashLoopBackOff".into());
        let e = classify_channel_error(&p, "refused");
        assert!(e.hint.unwrap().contains("CrashLoopBackOff"));
    }

    /// Reads the request head from `far`, then answers with `head` and `body_len` bytes of
    /// body sent in chunks (or as much as the reader takes before it hangs up).
    async fn answer_with(mut far: tokio::io::DuplexStream, head: String, body_len: usize) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut buf = vec![0u8; 4096];
        let mut got = Vec::new();
        while !got.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = far.read(&mut buf).await.unwrap();
            got.extend_from_slice(&buf[..n]);
        }
        if far.write_all(head.as_bytes()).await.is_err() {
            return;
        }
        let chunk = vec![b'x'; 64 * 1024];
        let mut left = body_len;
        while left > 0 {
            let n = left.min(chunk.len());
            if far.write_all(&chunk[..n]).await.is_err() {
                return; // the reader stopped: what a capped reader does
            }
            left -= n;
        }
    }

    #[tokio::test]
    async fn a_huge_answer_is_refused_at_the_cap_not_read_whole() {
        // Declared length over the cap, and an unbounded (close-delimited) answer.
        let heads = [
            format!(
                "HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n",
                64 * MAX_ANSWER
            ),
            "HTTP/1.1 200 OK\r\nconnection: close\r\n\r\n".to_string(),
        ];
        for head in heads {
            let (near, far) = tokio::io::duplex(64 * 1024);
            let server = tokio::spawn(answer_with(far, head, 64 * MAX_ANSWER));
            let result = http_exchange(near, AgentCall::Get.request()).await;
            assert!(matches!(result, Err(ExchangeError::TooLarge)), "{result:?}");
            // The far end sees the reader hang up instead of all 64 MiB being taken.
            tokio::time::timeout(Duration::from_secs(10), server)
                .await
                .expect("the sender is released")
                .unwrap();
        }
        let e = answer_too_large(&pod());
        assert_eq!(e.cause, Cause::AgentError);
        assert!(e.message.contains("1024 KiB"), "{}", e.message);
    }

    #[tokio::test]
    async fn an_answer_just_under_the_cap_is_read() {
        let (near, far) = tokio::io::duplex(64 * 1024);
        let head = format!("HTTP/1.1 200 OK\r\ncontent-length: {MAX_ANSWER}\r\n\r\n");
        tokio::spawn(answer_with(far, head, MAX_ANSWER));
        let (status, body) = http_exchange(near, AgentCall::Get.request()).await.unwrap();
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body.len(), MAX_ANSWER);
    }

    #[tokio::test]
    async fn http_exchange_over_a_byte_stream() {
        // A duplex pipe stands in for the forwarded stream; the far end answers like the agent.
        let (near, mut far) = tokio::io::duplex(4096);
        let server = tokio::spawn(async move {
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            let mut buf = vec![0u8; 4096];
            let mut got = Vec::new();
            while !got.windows(4).any(|w| w == b"\r\n\r\n") {
                let n = far.read(&mut buf).await.unwrap();
                got.extend_from_slice(&buf[..n]);
            }
            let body = br#"{"error":"no netem (sch_netem)"}"#;
            let head = format!(
                "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                body.len()
            );
            far.write_all(head.as_bytes()).await.unwrap();
            far.write_all(body).await.unwrap();
            String::from_utf8(got).unwrap()
        });
        let (status, body) = http_exchange(near, AgentCall::Get.request()).await.unwrap();
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(&body[..], br#"{"error":"no netem (sch_netem)"}"#);
        let request = server.await.unwrap();
        assert!(
            request.starts_with("GET /v1/netem HTTP/1.1\r\n"),
            "{request}"
        );
        assert!(
            request
                .to_ascii_lowercase()
                .contains("host: 127.0.0.1:2332"),
            "{request}"
        );
    }

    mod no_panic {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(512))]

            /// Any status and body decode to a state or a one-line per-pod error.
            #[test]
            fn any_answer_decodes_or_is_a_one_line_error(
                code in 100u16..1000,
                body in prop_oneof![
                    proptest::collection::vec(any::<u8>(), 0..600),
                    any::<String>().prop_map(String::into_bytes),
                    "\\{\"(error|interface|netem|delay)\":(\"[^\"]{0,20}\"|[0-9]{1,3}|null|\\{\\})\\}"
                        .prop_map(String::into_bytes),
                ],
            ) {
                let status = StatusCode::from_u16(code).unwrap();
                if let Err(e) = decode_state(&pod(), status, &body) {
                    prop_assert!(!e.message.contains(['\n', '\r']), "{:?}", e.message);
                    prop_assert!(e.message.chars().count() < 600, "{:?}", e.message);
                }
            }
        }
    }
}
