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
mod tests;
