//! The HTTP server: hyper (HTTP/1.1) on a bound `SocketAddr`, one mutex around the agent
//! so changes are serialized, the ttl expiry timer, and SIGTERM/SIGINT handling.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::watch;

use crate::agent::{Agent, AgentError, Config};
use crate::clock;
use crate::http::{self, Action};
use crate::log;
use netem_api::wire::ApiError;

/// Largest request body accepted (a full spec is a few hundred bytes).
const MAX_BODY: usize = 64 * 1024;

/// The agent shared by request handlers, the expiry timer and the signal handler.
#[derive(Clone)]
struct Shared {
    agent: Arc<Mutex<Agent>>,
    deadline: Arc<watch::Sender<Option<u64>>>,
}

impl Shared {
    /// Runs `f` on the agent under the mutex, on the blocking pool (netlink calls block),
    /// then publishes the agent's expiry deadline to the timer.
    async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Agent) -> T + Send + 'static,
    ) -> Option<T> {
        let shared = self.clone();
        tokio::task::spawn_blocking(move || {
            let mut agent = shared.agent.lock().unwrap_or_else(PoisonError::into_inner);
            let out = f(&mut agent);
            shared.deadline.send_replace(agent.deadline());
            out
        })
        .await
        .ok()
    }
}

fn json_response(status: u16, body: &impl serde::Serialize) -> Response<Full<Bytes>> {
    let mut bytes = serde_json::to_vec_pretty(body).unwrap_or_default();
    bytes.push(b'\n');
    Response::builder()
        .status(StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(bytes)))
        .unwrap_or_else(|_| Response::new(Full::new(Bytes::new())))
}

fn error_response(method: &str, path: &str, status: u16, e: &ApiError) -> Response<Full<Bytes>> {
    log!("{method} {path} -> {status}: {}", e.error);
    json_response(status, e)
}

async fn handle(
    shared: Shared,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let method = req.method().as_str().to_owned();
    let path = req.uri().path().to_owned();
    let query = req.uri().query().map(str::to_owned);
    let body = match Limited::new(req.into_body(), MAX_BODY).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(e) => {
            let msg = ApiError::message(format!("cannot read the request body: {e}"));
            return Ok(error_response(&method, &path, 400, &msg));
        }
    };
    let action = match http::route(&method, &path, query.as_deref(), &body) {
        Ok(action) => action,
        Err((status, e)) => return Ok(error_response(&method, &path, status, &e)),
    };
    let outcome = match action {
        Action::Health => return Ok(json_response(200, &serde_json::json!({"status": "ok"}))),
        Action::Info => match shared.run(|a| a.info()).await {
            Some(info) => return Ok(json_response(200, &info)),
            None => None,
        },
        Action::Get => shared.run(|a| a.state()).await,
        Action::Set { spec, force } => shared.run(move |a| a.set(*spec, force)).await,
        Action::Clear { force } => shared.run(move |a| a.clear(force)).await,
    }
    .unwrap_or_else(|| Err(AgentError::Failed("internal error".into())));
    Ok(match outcome {
        Ok(state) => json_response(200, &state),
        Err(e) => error_response(&method, &path, e.status(), &e.body()),
    })
}

/// The ttl timer: sleeps until the agent's deadline (re-reading it whenever it changes)
/// and asks the agent to expire it.
async fn expiry_timer(shared: Shared, mut rx: watch::Receiver<Option<u64>>) {
    loop {
        let deadline = *rx.borrow_and_update();
        let Some(deadline) = deadline else {
            if rx.changed().await.is_err() {
                return;
            }
            continue;
        };
        let wait = Duration::from_millis(deadline.saturating_sub(clock::now_ms()));
        tokio::select! {
            _ = tokio::time::sleep(wait) => {
                shared.run(move |a| a.expire(deadline)).await;
                // Still due after expiring (clearing failed): retry in a second.
                if *rx.borrow() == Some(deadline) {
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
            changed = rx.changed() => if changed.is_err() { return },
        }
    }
}

/// Runs the agent until SIGTERM or SIGINT; returns after clearing (unless kept).
pub async fn run(config: Config, listen: SocketAddr) -> std::io::Result<()> {
    // Bind (and install the signal handlers) first: an agent that cannot serve exits
    // without touching anything, so it neither adopts nor forgets a previous agent's
    // state file.
    let listener = TcpListener::bind(listen).await.map_err(|e| {
        let hint = if listen.ip().is_loopback() {
            " (is the loopback interface up in this network namespace?)"
        } else {
            ""
        };
        std::io::Error::new(e.kind(), format!("cannot listen on {listen}: {e}{hint}"))
    })?;
    let mut sigterm = signal(SignalKind::terminate())?;
    let mut sigint = signal(SignalKind::interrupt())?;
    let mut agent = Agent::new(config);
    agent.adopt();
    let interface = agent
        .interface()
        .unwrap_or_else(|e| format!("(not yet known: {e})"));
    let (tx, rx) = watch::channel(agent.deadline());
    let shared = Shared {
        agent: Arc::new(Mutex::new(agent)),
        deadline: Arc::new(tx),
    };
    log!(
        "version {} listening on http://{}, interface {interface}",
        env!("CARGO_PKG_VERSION"),
        listener.local_addr()?
    );
    tokio::spawn(expiry_timer(shared.clone(), rx));
    let signal_name = loop {
        tokio::select! {
            accepted = listener.accept() => {
                let stream = match accepted {
                    Ok((stream, _)) => stream,
                    Err(e) => {
                        // E.g. out of file descriptors: keep serving.
                        log!("accept failed: {e}");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        continue;
                    }
                };
                let shared = shared.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |req| handle(shared.clone(), req));
                    if let Err(e) = http1::Builder::new().serve_connection(TokioIo::new(stream), service).await {
                        log!("connection error: {e}");
                    }
                });
            }
            _ = sigterm.recv() => break "SIGTERM",
            _ = sigint.recv() => break "SIGINT",
        }
    };
    shared.run(move |a| a.shutdown(signal_name)).await;
    Ok(())
}
