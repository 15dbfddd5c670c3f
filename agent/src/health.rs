//! `netem-agent health`: an exec probe. Exit 0 iff `GET /healthz` answers 200.
//!
//! Kubelet's HTTP probes go to the pod IP, which the default loopback binding does not
//! serve, so the probe runs inside the container and dials the agent itself.

use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpStream};
use std::time::Duration;

use netem_api::wire::PATH_HEALTHZ;

/// Where to dial for a listen address: an unspecified address (0.0.0.0, ::) means loopback.
pub fn dial_addr(listen: SocketAddr) -> SocketAddr {
    let ip = match listen.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    SocketAddr::new(ip, listen.port())
}

/// Asks the agent at `listen` for /healthz; Ok(()) iff it answers 200.
pub fn check(listen: SocketAddr, timeout: Duration) -> Result<(), String> {
    let addr = dial_addr(listen);
    let mut stream = TcpStream::connect_timeout(&addr, timeout)
        .map_err(|e| format!("cannot connect to {addr}: {e}"))?;
    stream
        .set_read_timeout(Some(timeout))
        .map_err(|e| e.to_string())?;
    stream
        .set_write_timeout(Some(timeout))
        .map_err(|e| e.to_string())?;
    let request =
        format!("GET {PATH_HEALTHZ} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream
        .write_all(request.as_bytes())
        .map_err(|e| format!("cannot send to {addr}: {e}"))?;
    let mut answer = Vec::new();
    stream
        .read_to_end(&mut answer)
        .map_err(|e| format!("no answer from {addr}: {e}"))?;
    let status_line = String::from_utf8_lossy(&answer);
    let status_line = status_line.lines().next().unwrap_or("");
    if status_line.split_whitespace().nth(1) == Some("200") {
        Ok(())
    } else {
        Err(format!("{addr} answered {status_line:?}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unspecified_listen_dials_loopback() {
        let a = |s: &str| s.parse::<SocketAddr>().unwrap();
        assert_eq!(dial_addr(a("0.0.0.0:2332")), a("127.0.0.1:2332"));
        assert_eq!(dial_addr(a("[::]:2332")), a("[::1]:2332"));
        assert_eq!(dial_addr(a("10.0.0.5:80")), a("10.0.0.5:80"));
    }

    #[test]
    fn nothing_listening_fails() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        drop(listener);
        assert!(check(addr, Duration::from_secs(1)).is_err());
    }
}
