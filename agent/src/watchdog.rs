//! The self-watchdog: a plain thread that asks the agent's own `/healthz` every interval
//! and exits the process when it fails [`FAILURES`] times in a row, so the kubelet restarts
//! the container (restartPolicy Always). It replaces exec liveness/readiness probes, which
//! cost about 1% of a core per pod and made an agent hiccup take the pod out of service.
//!
//! A thread, not a task: it must see a wedged runtime, which a task of it could not.

use std::net::SocketAddr;
use std::time::Duration;

use crate::health;
use crate::log;

/// The default interval between checks.
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(15);

/// Consecutive failed checks that end the process.
pub const FAILURES: u32 = 3;

/// How long one check may take (capped at the interval).
pub const CHECK_TIMEOUT: Duration = Duration::from_secs(2);

/// The exit status when the watchdog ends the agent.
pub const EXIT_CODE: i32 = 3;

/// What to do after a check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Healthy (again).
    Healthy,
    /// Failed, `n` times in a row so far: check again.
    Failing(u32),
    /// Failed [`FAILURES`] times in a row: exit.
    Exit,
}

/// Counts consecutive failed checks.
#[derive(Debug, Default)]
pub struct Watchdog {
    failures: u32,
}

impl Watchdog {
    /// Records one check's result.
    pub fn record(&mut self, healthy: bool) -> Verdict {
        if healthy {
            self.failures = 0;
            return Verdict::Healthy;
        }
        self.failures += 1;
        if self.failures >= FAILURES {
            Verdict::Exit
        } else {
            Verdict::Failing(self.failures)
        }
    }
}

/// Starts the watchdog thread checking `target` every `interval` (not started when the
/// interval is zero).
pub fn spawn(target: SocketAddr, interval: Duration) -> std::io::Result<()> {
    if interval.is_zero() {
        return Ok(());
    }
    let timeout = CHECK_TIMEOUT.min(interval);
    std::thread::Builder::new()
        .name("watchdog".into())
        .spawn(move || {
            let mut watchdog = Watchdog::default();
            loop {
                std::thread::sleep(interval);
                let result = health::check(target, timeout);
                let verdict = watchdog.record(result.is_ok());
                let why = result.err().unwrap_or_default();
                match verdict {
                    Verdict::Healthy => {}
                    Verdict::Failing(n) => log!("watchdog: health check {n} failed: {why}"),
                    Verdict::Exit => {
                        log!(
                            "watchdog: health check failed {FAILURES} times in a row (last: \
                             {why}); exiting with status {EXIT_CODE} so the container is \
                             restarted (what the agent set stays for the next agent to adopt)"
                        );
                        std::process::exit(EXIT_CODE);
                    }
                }
            }
        })
        .map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exits_after_consecutive_failures_only() {
        let mut w = Watchdog::default();
        assert_eq!(w.record(false), Verdict::Failing(1));
        assert_eq!(w.record(false), Verdict::Failing(2));
        // A success in between starts the count again.
        assert_eq!(w.record(true), Verdict::Healthy);
        assert_eq!(w.record(false), Verdict::Failing(1));
        assert_eq!(w.record(false), Verdict::Failing(2));
        assert_eq!(w.record(false), Verdict::Exit);
    }
}
