//! Slow and stalled clients, and the watchdog: the agent runs in the test's own network
//! namespace on a free loopback port (the test dials it directly; no netem involved).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use netem_agent::health;

use super::AGENT;

/// An agent on `127.0.0.1:<free port>` working on `lo`, keeping no state file.
struct LoopbackAgent {
    child: Child,
    addr: SocketAddr,
    log: PathBuf,
}

impl LoopbackAgent {
    fn start(extra: &[&str]) -> LoopbackAgent {
        let addr = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        let log = std::env::temp_dir().join(format!(
            "netem-agent-stall-{}-{}.log",
            std::process::id(),
            addr.port()
        ));
        let listen = addr.to_string();
        let mut args = vec!["--listen", &listen, "--interface", "lo", "--no-state-file"];
        args.extend_from_slice(extra);
        let child = Command::new(AGENT)
            .args(&args)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        let agent = LoopbackAgent { child, addr, log };
        let start = Instant::now();
        while health::check(addr, Duration::from_secs(1)).is_err() {
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "not healthy: {}",
                agent.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        agent
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// A figure from /proc/PID/status in KiB, e.g. "VmRSS".
    fn status_kib(&self, key: &str) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        status
            .lines()
            .find_map(|l| l.strip_prefix(key)?.strip_prefix(':'))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or_else(|| panic!("{key} in {status}"))
    }

    /// Opens a connection and sends `partial` (never completed). Paced (a pause every 50):
    /// faster than the agent accepts, the kernel's listen backlog (128) would overflow and
    /// delay handshakes by its SYN-ACK retransmits (1 s and more), blurring the timings.
    fn stall(&self, partial: &str) -> TcpStream {
        static OPENED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        if OPENED.fetch_add(1, std::sync::atomic::Ordering::Relaxed) % 50 == 49 {
            std::thread::sleep(Duration::from_millis(20));
        }
        let mut s = TcpStream::connect_timeout(&self.addr, Duration::from_secs(2)).unwrap();
        s.write_all(partial.as_bytes()).unwrap();
        s
    }
}

impl Drop for LoopbackAgent {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.log);
    }
}

/// Whether the server has closed `s` (EOF or reset) by now, and what it sent before.
fn closed(s: &mut TcpStream) -> Option<String> {
    s.set_read_timeout(Some(Duration::from_millis(5))).unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 512];
    loop {
        match s.read(&mut buf) {
            Ok(0) => return Some(String::from_utf8_lossy(&got).into_owned()),
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {
                return Some(String::from_utf8_lossy(&got).into_owned());
            }
            Err(_) => return None,
        }
    }
}

/// Health answered within a second.
fn health_is_quick(agent: &LoopbackAgent) {
    let start = Instant::now();
    let answer = health::check(agent.addr, Duration::from_secs(1));
    assert!(
        answer.is_ok() && start.elapsed() < Duration::from_secs(1),
        "health {answer:?} after {:?}: {}",
        start.elapsed(),
        agent.log()
    );
}

const PARTIAL_HEADER: &str = "GET /v1/netem HTTP/1.1\r\nHost: x\r\n";
const PARTIAL_BODY: &str =
    "PUT /v1/netem HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"delay\":";

pub fn stalled_clients_cannot_hold_the_agent() {
    let agent = LoopbackAgent::start(&[]);
    let t0 = Instant::now();
    // Stalled connections, half in their headers, half in their bodies: 200, then 300
    // more. The agent keeps 64; each one beyond evicts the oldest idle one.
    let partial = |i: usize| {
        if i.is_multiple_of(2) {
            PARTIAL_HEADER
        } else {
            PARTIAL_BODY
        }
    };
    let mut flood: Vec<TcpStream> = (0..200).map(|i| agent.stall(partial(i))).collect();
    std::thread::sleep(Duration::from_millis(300));
    let rss_200 = agent.status_kib("VmRSS");
    let evicted = flood.iter_mut().filter_map(closed).count();
    assert!(evicted >= 136, "only {evicted} of 200 closed so far");
    flood.extend((0..300).map(|i| agent.stall(partial(i))));
    std::thread::sleep(Duration::from_millis(300));
    let rss_500 = agent.status_kib("VmRSS");
    let evicted = flood.iter_mut().filter_map(closed).count();
    assert!(evicted >= 436, "only {evicted} of 500 closed so far");
    // Unbounded, 300 more connections would hold at least their 8 KiB read buffers (2.4
    // MiB); the allocator's own growth stays well under that.
    assert!(
        rss_500 < rss_200 + 2048,
        "VmRSS grew from {rss_200} to {rss_500} KiB beyond the connection cap"
    );
    assert!(agent.status_kib("VmHWM") < 32 * 1024);
    // A body that stalls after the flood: answered 408 when its time is up.
    let mut body_stall = agent.stall(PARTIAL_BODY);
    for _ in 0..5 {
        health_is_quick(&agent);
    }
    // Stalled headers are closed after 5 s, stalled bodies (answered 408) after 10 s.
    let (mut headers, mut bodies): (Vec<_>, Vec<_>) = flood
        .into_iter()
        .enumerate()
        .partition(|(i, _)| i.is_multiple_of(2));
    for (streams, limit) in [(&mut headers, 9), (&mut bodies, 14)] {
        while streams.iter_mut().any(|(_, s)| closed(s).is_none()) {
            if t0.elapsed() > Duration::from_secs(limit) {
                let open: Vec<usize> = streams
                    .iter_mut()
                    .filter_map(|(i, s)| closed(s).is_none().then_some(*i))
                    .collect();
                panic!(
                    "stalled connections {open:?} still open after {:?}: {}",
                    t0.elapsed(),
                    agent.log()
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    let answer = loop {
        if let Some(answer) = closed(&mut body_stall) {
            break answer;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(16),
            "stalled body still open"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer:?}");
    health_is_quick(&agent);
    // Hundreds of evictions and timeouts, a bounded log (20 client-caused lines per 10 s).
    let lines = agent.log().lines().count();
    assert!(lines < 50, "{lines} log lines: {}", agent.log());
}

pub fn the_watchdog_exits_when_health_fails() {
    // Its own /healthz: a watchdog every 200 ms keeps passing.
    let mut healthy = LoopbackAgent::start(&["--watchdog-interval", "200ms"]);
    std::thread::sleep(Duration::from_millis(1500));
    assert!(
        healthy.child.try_wait().unwrap().is_none(),
        "{}",
        healthy.log()
    );
    assert!(!healthy.log().contains("watchdog"), "{}", healthy.log());
    // Pointed at a port nothing answers on: three failures, then exit status 3.
    let dead = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .to_string();
    let mut failing =
        LoopbackAgent::start(&["--watchdog-interval", "300ms", "--watchdog-target", &dead]);
    let start = Instant::now();
    let status = loop {
        if let Some(status) = failing.child.try_wait().unwrap() {
            break status;
        }
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "still running: {}",
            failing.log()
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(status.code(), Some(3), "{}", failing.log());
    let log = failing.log();
    assert!(
        log.contains("health check 2 failed") && log.contains("failed 3 times in a row"),
        "{log}"
    );
}
