//! HTTPS listener: TLS, bearer-token authentication (401 otherwise), the configured
//! per-request latency, and the request log.

use std::sync::Arc;

use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

use crate::api::{self, Body, error_response, header};
use crate::state::{RequestRecord, Shared, lock};
use crate::status::ApiError;

/// Serve until the task is aborted.
pub async fn run(listener: TcpListener, tls: Arc<rustls::ServerConfig>, shared: Arc<Shared>) {
    let acceptor = TlsAcceptor::from(tls);
    loop {
        let Ok((tcp, _)) = listener.accept().await else {
            continue;
        };
        let _ = tcp.set_nodelay(true);
        let acceptor = acceptor.clone();
        let shared = shared.clone();
        tokio::spawn(async move {
            let Ok(tls) = acceptor.accept(tcp).await else {
                return;
            };
            let svc = service_fn(move |req| {
                let shared = shared.clone();
                async move { Ok::<_, std::convert::Infallible>(handle(shared, req).await) }
            });
            let _ = http1::Builder::new()
                .keep_alive(true)
                .serve_connection(TokioIo::new(tls), svc)
                .with_upgrades()
                .await;
        });
    }
}

fn authorized(shared: &Shared, req: &Request<Incoming>) -> bool {
    header(req, "authorization")
        .and_then(|h| h.strip_prefix("Bearer "))
        .is_some_and(|t| t.trim() == shared.token)
}

async fn handle(shared: Arc<Shared>, req: Request<Incoming>) -> Response<Body> {
    let mut rec = RequestRecord {
        method: req.method().to_string(),
        path: req.uri().path().to_string(),
        query: req.uri().query().unwrap_or("").to_string(),
        content_type: header(&req, "content-type").map(str::to_string),
        accept: header(&req, "accept").map(str::to_string),
        status: 0,
        impersonate_user: header(&req, "impersonate-user").map(str::to_string),
        impersonate_groups: req
            .headers()
            .get_all("impersonate-group")
            .iter()
            .filter_map(|v| v.to_str().ok().map(str::to_string))
            .collect(),
    };
    let latency = *lock(&shared.latency);
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let resp = if authorized(&shared, &req) {
        api::serve(shared.clone(), req).await
    } else {
        error_response(&ApiError::unauthorized())
    };
    rec.status = resp.status().as_u16();
    lock(&shared.records).push(rec);
    resp
}
