//! `pods/portforward` over WebSocket, subprotocol `v4.channel.k8s.io` as the kubelet speaks
//! it: per requested port i, channel 2i carries data and 2i+1 errors; the first frame on
//! each channel is the port, little-endian. The pod side is dialled at 127.0.0.1:PORT inside
//! the pod's network namespace, as containerd does.

use std::sync::Arc;

use base64::Engine;
use bytes::Bytes;
use futures::{SinkExt, StreamExt};
use hyper::body::Incoming;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use sha1::{Digest, Sha1};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::Role;

use crate::api::route::Target;
use crate::api::{Body, full, header};
use crate::clock;
use crate::pods::netns;
use crate::resources::PODS;
use crate::state::{Shared, lock};
use crate::status::ApiError;

/// Subprotocols accepted, in preference order (binary framing only).
const PROTOCOLS: &[&str] = &["v4.channel.k8s.io", "channel.k8s.io"];

/// `Sec-WebSocket-Accept` for a key (RFC 6455).
pub fn accept_key(key: &str) -> String {
    let mut h = Sha1::new();
    h.update(key.trim().as_bytes());
    h.update(b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11");
    base64::engine::general_purpose::STANDARD.encode(h.finalize())
}

/// Pick the subprotocol from the client's offer.
pub fn pick_protocol(offer: &str) -> Option<&'static str> {
    let offered: Vec<&str> = offer.split(',').map(str::trim).collect();
    PROTOCOLS.iter().copied().find(|p| offered.contains(p))
}

/// Parse `ports=2332` / `ports=80,1234` (also repeated `ports=`).
pub fn parse_ports(q: &[(String, String)]) -> Result<Vec<u16>, ApiError> {
    let mut out = Vec::new();
    for (k, v) in q {
        if k != "ports" {
            continue;
        }
        for p in v.split(',').filter(|p| !p.is_empty()) {
            match p.trim().parse::<u16>() {
                Ok(n) if n > 0 => out.push(n),
                _ => {
                    return Err(ApiError::bad_request(format!(
                        "invalid port {p:?}: must be 1-65535"
                    )));
                }
            }
        }
    }
    if out.is_empty() {
        return Err(ApiError::bad_request("at least 1 port must be specified"));
    }
    Ok(out)
}

/// The first frame of a channel: channel byte + port little-endian.
pub fn port_frame(channel: u8, port: u16) -> Vec<u8> {
    let p = port.to_le_bytes();
    vec![channel, p[0], p[1]]
}

/// A data or error frame.
pub fn frame(channel: u8, data: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(data.len() + 1);
    v.push(channel);
    v.extend_from_slice(data);
    v
}

/// Handle a port-forward request (RBAC already checked).
pub async fn handle(
    shared: Arc<Shared>,
    req: Request<Incoming>,
    t: Target,
    q: &[(String, String)],
) -> Result<Response<Body>, ApiError> {
    let ns = t.ns.clone().unwrap_or_default();
    let name = t.name.clone().unwrap_or_default();
    let pod = lock(&shared.store)
        .get(&PODS, &ns, &name)
        .ok_or_else(|| ApiError::not_found(&PODS, &name))?;
    if pod["status"]["phase"] != "Running" {
        return Err(ApiError::bad_request(format!(
            "pod {name} is not running and cannot forward ports; current phase is {}",
            pod["status"]["phase"].as_str().unwrap_or("Pending")
        )));
    }
    let ports = parse_ports(q)?;
    let is_ws = header(&req, "upgrade").is_some_and(|u| u.eq_ignore_ascii_case("websocket"));
    let key = header(&req, "sec-websocket-key").map(str::to_string);
    let (true, Some(key)) = (is_ws, key) else {
        return Err(ApiError::bad_request(
            "Upgrade request required: this server speaks port-forward over WebSocket (v4.channel.k8s.io) only",
        ));
    };
    let Some(proto) = pick_protocol(header(&req, "sec-websocket-protocol").unwrap_or("")) else {
        return Err(ApiError::bad_request(format!(
            "unable to upgrade: unsupported subprotocols; supported: {}",
            PROTOCOLS.join(", ")
        )));
    };
    let kubelet_latency = *lock(&shared.kubelet_latency);
    if !kubelet_latency.is_zero() {
        tokio::time::sleep(kubelet_latency).await;
    }
    let runtime = lock(&shared.pods).get(&(ns.clone(), name.clone())).cloned();
    let uid = pod["metadata"]["uid"].as_str().unwrap_or("").to_string();
    tokio::spawn(async move {
        let Ok(upgraded) = hyper::upgrade::on(req).await else {
            return;
        };
        let ws = WebSocketStream::from_raw_socket(TokioIo::new(upgraded), Role::Server, None).await;
        let netns_name = runtime.and_then(|r| r.netns);
        forward(ws, ports, netns_name, &uid).await;
    });
    Ok(Response::builder()
        .status(101)
        .header("upgrade", "websocket")
        .header("connection", "Upgrade")
        .header("sec-websocket-accept", accept_key(&key))
        .header("sec-websocket-protocol", proto)
        .body(full(Bytes::new()))
        .expect("valid response"))
}

fn dial_error(port: u16, uid: &str, netns_name: Option<&str>, e: &std::io::Error) -> String {
    let sandbox = clock::new_uid_for("sandbox", uid);
    let cause = match e.kind() {
        std::io::ErrorKind::ConnectionRefused => "connect: connection refused".to_string(),
        _ => e.to_string(),
    };
    match netns_name {
        Some(n) => format!(
            "error forwarding port {port} to pod {sandbox}, uid : failed to execute portforward in network namespace \"/var/run/netns/{n}\": failed to connect to localhost:{port} inside namespace \"{sandbox}\", IPv4: dial tcp4 127.0.0.1:{port}: {cause} IPv6 dial tcp6 [::1]:{port}: {cause} "
        ),
        None => format!(
            "error forwarding port {port} to pod {sandbox}, uid : failed to execute portforward: pod has no network namespace (netem-testcluster runs without pod networking)"
        ),
    }
}

async fn forward<S>(ws: WebSocketStream<S>, ports: Vec<u16>, netns_name: Option<String>, uid: &str)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let (mut sink, mut stream) = ws.split();
    for (i, p) in ports.iter().enumerate() {
        let ch = (2 * i) as u8;
        for c in [ch, ch + 1] {
            if sink.send(Message::binary(port_frame(c, *p))).await.is_err() {
                return;
            }
        }
    }
    let (out_tx, mut out_rx) = tokio::sync::mpsc::channel::<Message>(64);
    let mut writers = Vec::new();
    let mut readers = Vec::new();
    for (i, p) in ports.iter().enumerate() {
        let ch = (2 * i) as u8;
        let dialled = match &netns_name {
            Some(n) => netns::dial(n, *p).await,
            None => Err(std::io::Error::other("no netns")),
        };
        let sock = dialled.and_then(|s| {
            s.set_nonblocking(true)?;
            tokio::net::TcpStream::from_std(s)
        });
        match sock {
            Ok(s) => {
                let (mut r, w) = s.into_split();
                writers.push(Some(w));
                let tx = out_tx.clone();
                readers.push(tokio::spawn(async move {
                    let mut buf = vec![0u8; 32 * 1024];
                    loop {
                        match r.read(&mut buf).await {
                            Ok(0) | Err(_) => break,
                            Ok(n) => {
                                if tx
                                    .send(Message::binary(frame(ch, &buf[..n])))
                                    .await
                                    .is_err()
                                {
                                    break;
                                }
                            }
                        }
                    }
                }));
            }
            Err(e) => {
                writers.push(None);
                let msg = dial_error(*p, uid, netns_name.as_deref(), &e);
                let _ = out_tx
                    .send(Message::binary(frame(ch + 1, msg.as_bytes())))
                    .await;
            }
        }
    }
    drop(out_tx);
    // Pod → client until every port's socket is done (v4 has no half-close, so the stream
    // ends when the pod side ends, as with the kubelet); client → pod meanwhile.
    let pump_out = async {
        while let Some(m) = out_rx.recv().await {
            if sink.send(m).await.is_err() {
                break;
            }
        }
        let _ = sink.send(Message::Close(None)).await;
        let _ = sink.close().await;
    };
    let pump_in = async {
        while let Some(Ok(m)) = stream.next().await {
            match m {
                Message::Binary(b) if b.len() > 1 => {
                    let idx = (b[0] / 2) as usize;
                    if b[0] % 2 == 0
                        && let Some(Some(w)) = writers.get_mut(idx)
                        && w.write_all(&b[1..]).await.is_err()
                    {
                        writers[idx] = None;
                    }
                }
                Message::Close(_) => break,
                _ => {}
            }
        }
        for w in writers.iter_mut().flatten() {
            let _ = w.shutdown().await;
        }
    };
    tokio::pin!(pump_in);
    let client_closed = tokio::select! {
        _ = pump_out => false,
        _ = &mut pump_in => true,
    };
    if client_closed {
        for r in &readers {
            r.abort();
        }
        // Answer the client's Close and end TLS properly (close_notify), as a real server does.
        let _ = sink.close().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::query;

    #[test]
    fn rfc6455_accept_key() {
        assert_eq!(
            accept_key("dGhlIHNhbXBsZSBub25jZQ=="),
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
    }

    #[test]
    fn picks_v4_from_kube_rs_offer() {
        assert_eq!(
            pick_protocol("v5.channel.k8s.io, v4.channel.k8s.io"),
            Some("v4.channel.k8s.io")
        );
        assert_eq!(pick_protocol("SPDY/3.1+portforward.k8s.io"), None);
    }

    #[test]
    fn ports_and_frames() {
        let q = query::parse("&ports=80%2C2332");
        assert_eq!(parse_ports(&q).unwrap(), [80, 2332]);
        assert!(parse_ports(&query::parse("ports=0")).is_err());
        assert!(parse_ports(&query::parse("")).is_err());
        assert_eq!(port_frame(1, 2332), [1, 0x1c, 0x09]);
        assert_eq!(frame(2, b"hi"), [2, b'h', b'i']);
    }
}
