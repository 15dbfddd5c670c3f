//! The HTTP server: hyper (HTTP/1.1) on a bound `SocketAddr`, one mutex around the agent
//! so changes are serialized, the ttl expiry timer, the watchdog, and SIGTERM/SIGINT
//! handling.
//!
//! Bounded under slow or stalled clients: request headers must arrive within
//! [`HEADER_TIMEOUT`] and a body within [`BODY_TIMEOUT`] (else the connection is closed, or
//! answered 408); at most [`MAX_CONNECTIONS`] connections are open (see [`crate::conns`]:
//! a new one evicts the oldest idle one); headers are capped by [`MAX_READ_BUFFER`] and
//! bodies by [`MAX_BODY`]; what a client can make the agent log is clipped and
//! rate-limited (see [`crate::log`]).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::watch;

use crate::agent::{Agent, AgentError, Config};
use crate::clock;
use crate::conns::{Admission, MAX_CONNECTIONS, Slots};
use crate::http::{self, Action};
use crate::log::{MAX_ECHO, clip};
use crate::watchdog;
use crate::{log, log_limited};
use netem_api::wire::ApiError;

/// Largest request body accepted (a full spec is a few hundred bytes).
pub const MAX_BODY: usize = 64 * 1024;

/// How long a client may take to send a request's headers (also how long an idle
/// keep-alive connection stays open).
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(5);

/// How long a client may take to send a request's body.
pub const BODY_TIMEOUT: Duration = Duration::from_secs(10);

/// hyper's read buffer per connection: caps the request line and headers (hyper's smallest
/// allowed value; the default would let each connection grow to 400 KiB).
pub const MAX_READ_BUFFER: usize = 8 * 1024;

/// How the server runs, besides the agent's own configuration.
#[derive(Debug, Clone)]
pub struct Options {
    /// The address to listen on.
    pub listen: SocketAddr,
    /// How often the watchdog checks `/healthz`; zero: no watchdog.
    pub watchdog_interval: Duration,
    /// Where the watchdog checks: the listen address unless given (tests point it at a
    /// dead port).
    pub watchdog_target: Option<SocketAddr>,
}

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
    log_limited!(
        "{} {} -> {status}: {}",
        clip(method, MAX_ECHO),
        clip(path, MAX_ECHO),
        clip(&e.error, MAX_ECHO)
    );
    json_response(status, e)
}

/// Marks a connection busy (running an operation, so not evicted) while alive.
struct Busy(Arc<AtomicBool>);

impl Busy {
    fn new(flag: &Arc<AtomicBool>) -> Busy {
        flag.store(true, Ordering::Release);
        Busy(flag.clone())
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Release);
    }
}

async fn handle(
    shared: Shared,
    busy: Arc<AtomicBool>,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let method = req.method().as_str().to_owned();
    let path = req.uri().path().to_owned();
    let query = req.uri().query().map(str::to_owned);
    let collect = Limited::new(req.into_body(), MAX_BODY).collect();
    let body = match tokio::time::timeout(BODY_TIMEOUT, collect).await {
        Ok(Ok(collected)) => collected.to_bytes(),
        Ok(Err(e)) => {
            let msg = ApiError::message(format!("cannot read the request body: {e}"));
            return Ok(error_response(&method, &path, 400, &msg));
        }
        Err(_) => {
            let msg = ApiError::message(format!(
                "the request body did not arrive within {} s",
                BODY_TIMEOUT.as_secs()
            ));
            return Ok(error_response(&method, &path, 408, &msg));
        }
    };
    let _busy = Busy::new(&busy);
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
        Action::GetRules => match shared.run(|a| a.rules()).await {
            Some(Ok(rules)) => return Ok(json_response(200, &rules)),
            Some(Err(e)) => Some(Err(e)),
            None => None,
        },
        Action::PutRule { id, spec, force } => {
            shared.run(move |a| a.put_rule(&id, *spec, force)).await
        }
        Action::DeleteRule { id, force } => shared.run(move |a| a.delete_rule(&id, force)).await,
        Action::DeleteRules { force } => shared.run(move |a| a.delete_rules(force)).await,
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

/// Serves one connection until it ends, times out or is evicted; gives its slot back.
async fn serve(shared: Shared, slots: Arc<Mutex<Slots>>, stream: tokio::net::TcpStream) {
    let admission = slots.lock().unwrap_or_else(PoisonError::into_inner).admit();
    let slot = match admission {
        Admission::Full => {
            log_limited!("closed a new connection: all {MAX_CONNECTIONS} are running operations");
            return;
        }
        Admission::Admitted { slot, evicted } => {
            if evicted {
                log_limited!(
                    "{MAX_CONNECTIONS} connections open: closed the oldest idle one for a new one"
                );
            }
            slot
        }
    };
    /// Gives the slot back however the connection ends.
    struct Release(Arc<Mutex<Slots>>, u64);
    impl Drop for Release {
        fn drop(&mut self) {
            self.0
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .release(self.1);
        }
    }
    let _release = Release(slots, slot.id);
    let busy = slot.busy.clone();
    let service = service_fn(move |req| handle(shared.clone(), busy.clone(), req));
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_TIMEOUT)
        .max_buf_size(MAX_READ_BUFFER);
    let conn = builder.serve_connection(TokioIo::new(stream), service);
    tokio::select! {
        done = conn => if let Err(e) = done {
            log_limited!("connection closed: {}", clip(&e.to_string(), MAX_ECHO));
        },
        _ = slot.evict.notified() => {}
    }
}

/// Runs the agent until SIGTERM or SIGINT; returns after clearing (unless kept).
pub async fn run(config: Config, options: Options) -> std::io::Result<()> {
    let listen = options.listen;
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
    let local = listener.local_addr()?;
    log!(
        "version {} listening on http://{local}, interface {interface}",
        env!("CARGO_PKG_VERSION"),
    );
    let target = options
        .watchdog_target
        .unwrap_or_else(|| crate::health::dial_addr(local));
    watchdog::spawn(target, options.watchdog_interval)?;
    tokio::spawn(expiry_timer(shared.clone(), rx));
    let slots = Arc::new(Mutex::new(Slots::new(MAX_CONNECTIONS)));
    let signal_name = loop {
        tokio::select! {
            accepted = listener.accept() => {
                let stream = match accepted {
                    Ok((stream, _)) => stream,
                    Err(e) => {
                        // E.g. out of file descriptors: keep serving.
                        log_limited!("accept failed: {e}");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        continue;
                    }
                };
                tokio::spawn(serve(shared.clone(), slots.clone(), stream));
            }
            _ = sigterm.recv() => break "SIGTERM",
            _ = sigint.recv() => break "SIGINT",
        }
    };
    shared.run(move |a| a.shutdown(signal_name)).await;
    Ok(())
}
